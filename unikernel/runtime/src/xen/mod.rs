//! Xen guest interfaces, from the public headers (xen/include/public): hypercalls,
//! event channels, the shared-info page, the console ring and the two boot paths.
//!
//! A XenStore ring client belongs here too (`xenstore.rs`); it will reuse
//! [`events`] for its event channel and [`Ring`](console::Ring)'s index discipline.

pub mod console;
pub mod events;
pub mod hypercall;
pub mod pv;
pub mod pvh;
pub mod time;

pub const DOMID_SELF: u16 = 0x7ff0;

/// Finds Xen's CPUID leaves: they start at the first 0x100-aligned leaf from
/// 0x40000000 that carries the "XenVMMXenVMM" signature (Viridian may sit below).
pub fn cpuid_base() -> Option<u32> {
    use crate::cpu::cpuid;
    if cpuid(1, 0).ecx & (1 << 31) == 0 {
        return None;
    }
    let mut base = 0x4000_0000u32;
    while base < 0x4001_0000 {
        let r = cpuid(base, 0);
        if r.ebx == 0x566e_6558 && r.ecx == 0x6558_4d4d && r.edx == 0x4d4d_566e && r.eax >= base + 2 {
            return Some(base);
        }
        base += 0x100;
    }
    None
}
