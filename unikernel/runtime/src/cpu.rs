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
///
/// That one-instruction shadow is not always honoured: QEMU's TCG, emulating SVM for
/// the nested Xen of the tests, drops it when a VM exit falls between `sti` and
/// `hlt`, and Xen then delivers its upcall before the `hlt`. The handler would clear
/// `evtchn_upcall_pending` and return to the `hlt`, which would then sleep with the
/// port's pending bit still set, so no later event on it could raise another upcall.
/// [`skip_idle_halt`] makes such an interrupt end the idle as if it had woken the `hlt`.
pub fn wait_for_interrupt() {
    unsafe { xenops_idle() }
}

core::arch::global_asm!(
    r#"
    .pushsection .text.xenops_idle, "ax"
    .globl xenops_idle
xenops_idle:
    sti
    .globl xenops_idle_hlt
xenops_idle_hlt:
    hlt
    cli
    ret
    .popsection
"#,
    options(att_syntax)
);

extern "C" {
    fn xenops_idle();
    static xenops_idle_hlt: u8;
}

/// Called by interrupt handlers with the interrupted `rip`: when it is the idle
/// `hlt`, which has not run yet, returns where to resume instead (just past it).
pub fn skip_idle_halt(rip: u64) -> u64 {
    let hlt = core::ptr::addr_of!(xenops_idle_hlt) as u64;
    // hlt is one byte (0xf4).
    if rip == hlt {
        hlt + 1
    } else {
        rip
    }
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
