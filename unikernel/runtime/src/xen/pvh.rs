//! Boot as a Xen PVH guest: an HVM container entered through PHYS32_ENTRY. There
//! is no emulated hardware; the console ring and xenstore are found through HVM
//! parameters, and event channels arrive as an interrupt vector Xen injects.

use super::console::Ring;
use super::events::{self, SHARED_INFO};
use super::hypercall::{
    self, HVMOP_GET_PARAM, HVMOP_SET_PARAM, XENMAPSPACE_SHARED_INFO, XENMEM_ADD_TO_PHYSMAP,
};
use super::DOMID_SELF;

pub const HVM_PARAM_CALLBACK_IRQ: u32 = 0;
pub const HVM_PARAM_STORE_PFN: u32 = 1;
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;
/// val[63:56] = 2: deliver event-channel upcalls as a plain vector.
const CALLBACK_TYPE_VECTOR: u64 = 2 << 56;

/// Asks Xen to write the hypercall page: leaf base+2 of Xen's CPUID range names the
/// MSR, and writing a page's physical address to it fills that page with stubs.
pub fn init_hypercall_page(cpuid_base: u32) {
    let msr = crate::cpu::cpuid(cpuid_base + 2, 0).ebx;
    let page = core::ptr::addr_of!(crate::boot::hypercall_page) as u64;
    unsafe { crate::cpu::wrmsr(msr, page) };
}

#[repr(C)]
struct HvmParam {
    domid: u16,
    index: u32,
    value: u64,
}

pub fn get_param(index: u32) -> Option<u64> {
    let mut arg = HvmParam { domid: DOMID_SELF, index, value: 0 };
    (hypercall::hvm_op(HVMOP_GET_PARAM, &mut arg) == 0).then_some(arg.value)
}

pub fn set_param(index: u32, value: u64) -> bool {
    let mut arg = HvmParam { domid: DOMID_SELF, index, value };
    hypercall::hvm_op(HVMOP_SET_PARAM, &mut arg) == 0
}

#[repr(C)]
struct AddToPhysmap {
    domid: u16,
    size: u16,
    space: u32,
    idx: u64,
    gpfn: u64,
}

/// Places the shared-info frame over [`SHARED_INFO`]'s guest frame (the RAM page
/// that was there is given back to Xen); the identity map then reaches it.
pub fn map_shared_info() -> bool {
    let mut arg = AddToPhysmap {
        domid: DOMID_SELF,
        size: 0,
        space: XENMAPSPACE_SHARED_INFO,
        idx: 0,
        gpfn: SHARED_INFO.as_ptr() as u64 >> 12,
    };
    let ok = hypercall::memory_op(XENMEM_ADD_TO_PHYSMAP, &mut arg) == 0;
    if ok {
        events::mark_mapped();
    }
    ok
}

/// Routes event-channel upcalls to `vector`. False when Xen refuses, in which case
/// the runtime idles in SCHEDOP_poll instead of `hlt`.
pub fn use_callback_vector(vector: u8) -> bool {
    set_param(HVM_PARAM_CALLBACK_IRQ, CALLBACK_TYPE_VECTOR | vector as u64)
}

/// Connects [`super::xenstore`] to the store ring; returns its event channel.
pub fn xenstore() -> Option<u32> {
    let pfn = get_param(HVM_PARAM_STORE_PFN)?;
    let port = get_param(HVM_PARAM_STORE_EVTCHN)? as u32;
    if pfn == 0 || pfn >= 1 << 20 {
        return None;
    }
    unsafe { super::xenstore::install((pfn << 12) as *mut u8, port) };
    Some(port)
}

pub fn console() -> Option<Ring> {
    let pfn = get_param(HVM_PARAM_CONSOLE_PFN)?;
    let port = get_param(HVM_PARAM_CONSOLE_EVTCHN)? as u32;
    if pfn == 0 {
        return None;
    }
    // The identity map covers the low 4 GiB, where Xen puts its special pages.
    if pfn >= 1 << 20 {
        return None;
    }
    Some(unsafe { Ring::new((pfn << 12) as *mut u8, port) })
}
