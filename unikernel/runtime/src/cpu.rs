//! Thin wrappers over the x86 instructions the runtime needs.

use core::arch::asm;

/// # Safety
/// Port writes drive devices; the caller owns the device behind `port`.
#[inline]
pub unsafe fn outb(port: u16, value: u8) {
    asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags));
}

/// # Safety
/// Port reads can have side effects (a UART's data register pops its FIFO).
#[inline]
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags));
    value
}

pub struct CpuidResult {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
}

#[inline]
pub fn cpuid(leaf: u32, subleaf: u32) -> CpuidResult {
    // core::arch::x86_64::__cpuid_count would do, but rbx is reserved by LLVM and
    // spelling the save out keeps this file self-explanatory.
    let (eax, ebx, ecx, edx): (u32, u32, u32, u32);
    unsafe {
        asm!(
            "mov {tmp:r}, rbx",
            "cpuid",
            "xchg {tmp:r}, rbx",
            tmp = out(reg) ebx,
            inlateout("eax") leaf => eax,
            inlateout("ecx") subleaf => ecx,
            out("edx") edx,
            options(nomem, nostack, preserves_flags),
        );
    }
    CpuidResult { eax, ebx, ecx, edx }
}

#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    ((hi as u64) << 32) | lo as u64
}

/// # Safety
/// Faults on an MSR the CPU does not have.
#[inline]
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    ((hi as u64) << 32) | lo as u64
}

/// # Safety
/// MSRs change how the CPU (or, for Xen's hypercall MSR, guest memory) behaves.
#[inline]
pub unsafe fn wrmsr(msr: u32, value: u64) {
    asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
         options(nostack, preserves_flags));
}

#[inline]
pub fn read_cr2() -> u64 {
    let v: u64;
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Sleeps until an interrupt arrives, then returns with interrupts masked again.
///
/// The runtime runs with interrupts disabled everywhere else, so handlers only ever
/// interrupt this `hlt`. `sti` delays interrupt delivery by one instruction, which
/// makes "check for work, then sleep" race-free: anything that became pending after
/// the check wakes the `hlt` at once. Under Xen PVH a `hlt` with interrupts masked
/// would be taken as "this vCPU is finished", so this is the only way to idle there.
#[inline]
pub fn wait_for_interrupt() {
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}

#[inline]
pub fn disable_interrupts() {
    unsafe { asm!("cli", options(nomem, nostack)) };
}

/// Resets the machine by triple fault: with an empty IDT any exception escalates to
/// a shutdown, which QEMU run with `-no-reboot` turns into a process exit.
pub fn triple_fault() -> ! {
    #[repr(C, packed)]
    struct Pointer {
        limit: u16,
        base: u64,
    }
    let empty = Pointer { limit: 0, base: 0 };
    unsafe {
        asm!("lidt [{}]", "ud2", in(reg) &empty, options(nostack));
    }
    loop {
        unsafe { asm!("hlt", options(nomem, nostack)) };
    }
}
