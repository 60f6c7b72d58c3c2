//! Boot as a Xen PV guest. The domain builder has put us in 64-bit mode on its own
//! page tables (virtual = pseudo-physical, as VIRT_BASE is 0), with start_info,
//! the xenstore page and the console page mapped after the image. Nothing
//! privileged may run in PV: no port I/O, no IDT, no cli/sti/hlt.
//!
//! start_info (x86-64): magic[32], nr_pages @32, shared_info (machine address) @40,
//! flags @48, store_mfn @56, store_evtchn @64, console.domU.mfn @72,
//! console.domU.evtchn @80, pt_base @88, nr_pt_frames @96, mfn_list @104,
//! mod_start @112, mod_len @120, cmd_line[1024] @128.

use super::console::Ring;
use super::events::{self, SHARED_INFO};
use super::hypercall::{self, UPDATE_VA_MAPPING, UVMF_INVLPG};

pub struct StartInfo(*const u8);

impl StartInfo {
    /// # Safety
    /// `ptr` must be the start_info address Xen passed in %rsi.
    pub unsafe fn new(ptr: *const u8) -> StartInfo {
        StartInfo(ptr)
    }

    fn u64_at(&self, offset: usize) -> u64 {
        unsafe { core::ptr::read_volatile(self.0.add(offset) as *const u64) }
    }

    fn u32_at(&self, offset: usize) -> u32 {
        unsafe { core::ptr::read_volatile(self.0.add(offset) as *const u32) }
    }

    pub fn magic_ok(&self) -> bool {
        unsafe { core::slice::from_raw_parts(self.0, 4) == b"xen-" }
    }

    pub fn nr_pages(&self) -> u64 {
        self.u64_at(32)
    }
    pub fn shared_info_maddr(&self) -> u64 {
        self.u64_at(40)
    }
    pub fn store_mfn(&self) -> u64 {
        self.u64_at(56)
    }
    pub fn store_evtchn(&self) -> u32 {
        self.u32_at(64)
    }
    pub fn console_mfn(&self) -> u64 {
        self.u64_at(72)
    }
    pub fn console_evtchn(&self) -> u32 {
        self.u32_at(80)
    }
    pub fn mfn_list(&self) -> *const u64 {
        self.u64_at(104) as *const u64
    }

    pub fn cmdline(&self) -> &'static [u8] {
        unsafe { crate::cmdline::c_string(self.0.add(128), 1024) }
    }

    /// Machine frame -> pseudo-physical frame, by searching the p2m list the builder
    /// mapped for us; it holds nr_pages entries, a few thousand for a small guest.
    pub fn pfn_of(&self, mfn: u64) -> Option<u64> {
        let list = self.mfn_list();
        (0..self.nr_pages()).find(|&pfn| unsafe { core::ptr::read_volatile(list.add(pfn as usize)) } == mfn)
    }
}

/// Maps shared_info over [`SHARED_INFO`]. The page is inside the image, so an L1
/// table for it exists and update_va_mapping can replace its entry.
pub fn map_shared_info(si: &StartInfo) -> bool {
    // Present, writable, user: x86-64 PV kernels run in ring 3.
    let pte = si.shared_info_maddr() | 0x7;
    let va = SHARED_INFO.as_ptr() as u64;
    let rc = unsafe { hypercall::call3(UPDATE_VA_MAPPING, va, pte, UVMF_INVLPG) };
    if rc == 0 {
        events::mark_mapped();
        events::mask_upcalls();
    }
    rc == 0
}

/// Connects [`super::xenstore`] to the store ring; returns its event channel.
pub fn xenstore(si: &StartInfo) -> Option<u32> {
    let pfn = si.pfn_of(si.store_mfn())?;
    unsafe { super::xenstore::install((pfn << 12) as *mut u8, si.store_evtchn()) };
    Some(si.store_evtchn())
}

pub fn console(si: &StartInfo) -> Option<Ring> {
    let pfn = si.pfn_of(si.console_mfn())?;
    // Virtual equals pseudo-physical in the builder's initial mapping.
    Some(unsafe { Ring::new((pfn << 12) as *mut u8, si.console_evtchn()) })
}
