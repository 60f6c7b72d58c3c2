//! Event channels over the 2-level ABI, read through the shared-info page.
//!
//! shared_info (x86-64): vcpu_info[32] of 64 bytes each, then evtchn_pending[64]
//! and evtchn_mask[64] as 64-bit words. vcpu_info starts with evtchn_upcall_pending
//! (byte 0), evtchn_upcall_mask (byte 1) and evtchn_pending_sel (bytes 8..16).

use core::sync::atomic::{AtomicU64, Ordering};

use super::hypercall::{self, EVTCHNOP_SEND, EVTCHNOP_UNMASK, SCHEDOP_POLL};
use crate::global::{Global, Page};

const UPCALL_PENDING: usize = 0;
const UPCALL_MASK: usize = 1;
const PENDING_SEL: usize = 8;
const PENDING: usize = 2048;

/// The page Xen's shared info is mapped over (PV: by virtual address, PVH: by
/// guest frame). Its own contents are never used.
pub static SHARED_INFO: Global<Page> = Global::new(Page([0; 4096]));

static MAPPED: Global<bool> = Global::new(false);

fn shared() -> *mut u8 {
    SHARED_INFO.as_ptr() as *mut u8
}

pub fn mark_mapped() {
    unsafe { *MAPPED.get() = true };
}

pub fn is_mapped() -> bool {
    unsafe { *MAPPED.get() }
}

pub fn shared_info_ptr() -> *const u8 {
    shared()
}

/// PV only: Xen delivers no asynchronous upcall while vCPU 0's mask is set; the
/// runtime has no callback registered and waits in SCHEDOP_poll instead.
pub fn mask_upcalls() {
    unsafe { core::ptr::write_volatile(shared().add(UPCALL_MASK), 1) };
}

/// Handler of the PVH callback vector. Xen injects that vector for as long as
/// `evtchn_upcall_pending` is set, so it must be cleared before returning.
pub fn upcall() {
    if is_mapped() {
        unsafe { core::ptr::write_volatile(shared().add(UPCALL_PENDING), 0) };
    }
}

/// Consumes pending notifications for `ports`. Called before the runtime looks at
/// its rings: an event that arrives afterwards is then pending again and wakes the
/// next idle, so none is lost. Clearing the selector lets the next 0->1 transition
/// of a pending bit raise a new upcall.
pub fn acknowledge(ports: &[u32]) {
    if !is_mapped() {
        return;
    }
    unsafe {
        core::ptr::write_volatile(shared().add(UPCALL_PENDING), 0);
        AtomicU64::from_ptr(shared().add(PENDING_SEL) as *mut u64).swap(0, Ordering::AcqRel);
        for &port in ports {
            let word = shared().add(PENDING + (port as usize / 64) * 8) as *mut u64;
            AtomicU64::from_ptr(word).fetch_and(!(1u64 << (port % 64)), Ordering::AcqRel);
        }
    }
}

#[repr(C)]
struct Port {
    port: u32,
}

pub fn send(port: u32) {
    let mut arg = Port { port };
    hypercall::event_channel_op(EVTCHNOP_SEND, &mut arg);
}

pub fn unmask(port: u32) -> i64 {
    let mut arg = Port { port };
    hypercall::event_channel_op(EVTCHNOP_UNMASK, &mut arg)
}

#[repr(C)]
struct SchedPoll {
    ports: u64,
    nr_ports: u32,
    timeout: u64,
}

/// Blocks the vCPU until one of `ports` is pending, or until Xen system time
/// `deadline_ns` when it is not zero. Works with upcalls masked (PV) and with
/// interrupts disabled (PVH), which is what makes it usable without a callback.
pub fn poll(ports: &[u32], deadline_ns: u64) {
    let mut arg =
        SchedPoll { ports: ports.as_ptr() as u64, nr_ports: ports.len() as u32, timeout: deadline_ns };
    hypercall::sched_op(SCHEDOP_POLL, &mut arg);
}
