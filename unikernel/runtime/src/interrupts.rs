//! The IDT and the one Rust function every interrupt stub calls.

use crate::boot::{self, KERNEL_CS, SPURIOUS_VECTOR, UART_VECTOR, XEN_UPCALL_VECTOR};
use crate::global::Global;
use crate::line::Line;

/// What the stubs in boot.rs leave on the stack, lowest address first.
#[repr(C)]
pub struct TrapFrame {
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

#[repr(C, align(16))]
struct Idt([u64; 512]);

static IDT: Global<Idt> = Global::new(Idt([0; 512]));

fn gate(handler: u64) -> u64 {
    // Low half of a 64-bit interrupt gate: present, DPL 0, type 0xe (interrupts
    // masked on entry). The high half holds bits 32..63 of the handler, which are
    // zero for an image linked below 4 GiB, and .bss is zero already.
    (handler & 0xffff) | ((KERNEL_CS as u64) << 16) | (0x8e << 40) | (((handler >> 16) & 0xffff) << 48)
}

/// Installs exception handlers plus the device vectors and loads the IDT.
/// Exceptions are fatal: the runtime has nothing that could fault recoverably.
pub fn init() {
    unsafe {
        let idt = IDT.get();
        let stubs = core::ptr::addr_of!(boot::xenops_isr_stubs) as u64;
        // Stubs are 16 bytes apart and share bits 16..31 (boot.rs aligns them to
        // 512 bytes), so consecutive gates differ by 16: no per-gate bit shuffling.
        let mut next = gate(stubs);
        for vector in 0..32 {
            idt.0[vector * 2] = next;
            next += 16;
        }
        idt.0[UART_VECTOR as usize * 2] = gate(core::ptr::addr_of!(boot::xenops_uart_stub) as u64);
        idt.0[XEN_UPCALL_VECTOR as usize * 2] =
            gate(core::ptr::addr_of!(boot::xenops_xen_upcall_stub) as u64);
        idt.0[SPURIOUS_VECTOR as usize * 2] = gate(core::ptr::addr_of!(boot::xenops_spurious_stub) as u64);

        #[repr(C, packed)]
        struct Pointer {
            limit: u16,
            base: u64,
        }
        let pointer = Pointer { limit: (512 * 8 - 1) as u16, base: IDT.as_ptr() as u64 };
        core::arch::asm!("lidt [{}]", in(reg) &pointer, options(nostack, readonly));
    }
}

const EXCEPTION_NAMES: [&str; 32] = [
    "divide-error",
    "debug",
    "nmi",
    "breakpoint",
    "overflow",
    "bound-range",
    "invalid-opcode",
    "device-not-available",
    "double-fault",
    "coprocessor-overrun",
    "invalid-tss",
    "segment-not-present",
    "stack-fault",
    "general-protection",
    "page-fault",
    "reserved-15",
    "x87-fp-error",
    "alignment-check",
    "machine-check",
    "simd-fp-error",
    "virtualization",
    "control-protection",
    "reserved-22",
    "reserved-23",
    "reserved-24",
    "reserved-25",
    "reserved-26",
    "reserved-27",
    "hypervisor-injection",
    "vmm-communication",
    "security",
    "reserved-31",
];

#[no_mangle]
extern "C" fn xenops_interrupt(frame: &mut TrapFrame) {
    // The UART and spurious vectors have stubs of their own that never get here.
    match frame.vector as u8 {
        XEN_UPCALL_VECTOR => {
            frame.rip = crate::cpu::skip_idle_halt(frame.rip);
            crate::xen::events::upcall()
        }
        v if v < 32 => {
            let mut line = Line::new();
            line.str("cpu exception ")
                .str(EXCEPTION_NAMES[v as usize])
                .str(" error 0x")
                .hex(frame.error, 4)
                .str(" rip 0x")
                .hex(frame.rip, 16);
            if v == 14 {
                line.str(" address 0x").hex(crate::cpu::read_cr2(), 16);
            }
            crate::panic::fatal(line.as_bytes());
        }
        _ => {}
    }
}
