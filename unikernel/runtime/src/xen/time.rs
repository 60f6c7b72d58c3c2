//! Xen system time (nanoseconds since host boot) from vCPU 0's vcpu_time_info in the
//! shared-info page: offset 32 in vcpu_info; version, tsc_timestamp at +8,
//! system_time at +16, tsc_to_system_mul at +24, tsc_shift at +28.

use super::events;

const TIME: usize = 32;

/// Returns 0 when the shared-info page is not mapped yet.
pub fn now_ns() -> u64 {
    if !events::is_mapped() {
        return 0;
    }
    let base = unsafe { events::shared_info_ptr().add(TIME) };
    loop {
        unsafe {
            let version = core::ptr::read_volatile(base as *const u32);
            core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Acquire);
            let stamp = core::ptr::read_volatile(base.add(8) as *const u64);
            let system = core::ptr::read_volatile(base.add(16) as *const u64);
            let mul = core::ptr::read_volatile(base.add(24) as *const u32);
            let shift = core::ptr::read_volatile(base.add(28) as *const i8);
            let tsc = crate::cpu::rdtsc();
            core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Acquire);
            if version & 1 != 0 || core::ptr::read_volatile(base as *const u32) != version {
                continue;
            }
            let mut delta = tsc.wrapping_sub(stamp);
            if shift >= 0 {
                delta <<= shift as u32;
            } else {
                delta >>= (-shift) as u32;
            }
            return system.wrapping_add(((delta as u128 * mul as u128) >> 32) as u64);
        }
    }
}
