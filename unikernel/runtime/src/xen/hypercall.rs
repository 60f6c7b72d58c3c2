//! Hypercalls go through the hypercall page (boot.rs): Xen writes a 32-byte stub per
//! hypercall into it, `syscall` for PV and `vmcall`/`vmmcall` for PVH, so the same
//! call sequence works in both modes and on both CPU vendors.
//! x86-64 ABI: rdi, rsi, rdx, r10, r8 carry the arguments; rcx and r11 are clobbered.

use core::arch::asm;

pub const MEMORY_OP: usize = 12;
pub const UPDATE_VA_MAPPING: usize = 14;
pub const SCHED_OP: usize = 29;
pub const EVENT_CHANNEL_OP: usize = 32;
pub const HVM_OP: usize = 34;

pub const SCHEDOP_YIELD: u64 = 0;
pub const SCHEDOP_SHUTDOWN: u64 = 2;
pub const SCHEDOP_POLL: u64 = 3;

pub const SHUTDOWN_POWEROFF: u32 = 0;
pub const SHUTDOWN_CRASH: u32 = 3;

pub const EVTCHNOP_SEND: u64 = 4;
pub const EVTCHNOP_UNMASK: u64 = 9;

pub const HVMOP_SET_PARAM: u64 = 0;
pub const HVMOP_GET_PARAM: u64 = 1;

pub const XENMEM_ADD_TO_PHYSMAP: u64 = 7;
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;

pub const UVMF_INVLPG: u64 = 2;

/// # Safety
/// The hypercall page must have been filled in, and pointer arguments must point to
/// live memory of the layout Xen expects for `op`.
pub unsafe fn call3(op: usize, a1: u64, a2: u64, a3: u64) -> i64 {
    let entry = core::ptr::addr_of!(crate::boot::hypercall_page) as u64 + op as u64 * 32;
    let ret: i64;
    asm!(
        "call {entry}",
        entry = in(reg) entry,
        inlateout("rax") 0i64 => ret,
        inlateout("rdi") a1 => _,
        inlateout("rsi") a2 => _,
        inlateout("rdx") a3 => _,
        out("r10") _,
        out("r8") _,
        out("rcx") _,
        out("r11") _,
    );
    ret
}

pub fn sched_op<T>(cmd: u64, arg: &mut T) -> i64 {
    unsafe { call3(SCHED_OP, cmd, arg as *mut T as u64, 0) }
}

pub fn event_channel_op<T>(cmd: u64, arg: &mut T) -> i64 {
    unsafe { call3(EVENT_CHANNEL_OP, cmd, arg as *mut T as u64, 0) }
}

pub fn hvm_op<T>(cmd: u64, arg: &mut T) -> i64 {
    unsafe { call3(HVM_OP, cmd, arg as *mut T as u64, 0) }
}

pub fn memory_op<T>(cmd: u64, arg: &mut T) -> i64 {
    unsafe { call3(MEMORY_OP, cmd, arg as *mut T as u64, 0) }
}

pub fn yield_cpu() {
    unsafe { call3(SCHED_OP, SCHEDOP_YIELD, 0, 0) };
}

#[repr(C)]
struct SchedShutdown {
    reason: u32,
}

/// Does not return when Xen accepts the request.
pub fn shutdown(reason: u32) {
    let mut arg = SchedShutdown { reason };
    sched_op(SCHEDOP_SHUTDOWN, &mut arg);
}
