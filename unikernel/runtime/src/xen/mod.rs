//! Xen guest interfaces, from the public headers (xen/include/public): hypercalls,
//! event channels, the shared-info page, the console ring and the two boot paths.
//!
pub mod channel;
pub mod console;
pub mod events;
pub mod hypercall;
pub mod pv;
pub mod pvh;
pub mod time;
pub mod xenstore;

pub const DOMID_SELF: u16 = 0x7ff0;

/// Finds Xen's CPUID leaves, marked by the "XenVMMXenVMM" signature. Xen puts
/// them at 0x40000000, or at 0x40000100 when it also offers Viridian (Hyper-V)
/// leaves below; those two places are all that is looked at, because every CPUID
/// is a VM exit and under QEMU this runs on every boot.
pub fn cpuid_base() -> Option<u32> {
    use crate::cpu::cpuid;
    if cpuid(1, 0).ecx & (1 << 31) == 0 {
        return None;
    }
    for base in [0x4000_0000u32, 0x4000_0100] {
        let r = cpuid(base, 0);
        if r.ebx == 0x566e_6558 && r.ecx == 0x6558_4d4d && r.edx == 0x4d4d_566e && r.eax >= base + 2 {
            return Some(base);
        }
    }
    None
}
