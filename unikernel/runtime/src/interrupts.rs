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

fn set_gate(vector: u8, handler: u64) {
    // 64-bit interrupt gate, present, DPL 0: the CPU masks interrupts on entry.
    let low = (handler & 0xffff)
        | ((KERNEL_CS as u64) << 16)
        | (0x8eu64 << 40)
        | (((handler >> 16) & 0xffff) << 48);
    let high = handler >> 32;
    unsafe {
        let idt = IDT.get();
        idt.0[vector as usize * 2] = low;
        idt.0[vector as usize * 2 + 1] = high;
    }
}

/// Installs exception handlers plus the device vectors and loads the IDT.
/// Exceptions are fatal: the runtime has nothing that could fault recoverably.
pub fn init() {
    unsafe {
        for (vector, stub) in boot::xenops_exception_stubs.iter().enumerate() {
            set_gate(vector as u8, *stub);
        }
        set_gate(UART_VECTOR, boot::xenops_uart_stub);
        set_gate(XEN_UPCALL_VECTOR, boot::xenops_xen_upcall_stub);
        set_gate(SPURIOUS_VECTOR, boot::xenops_spurious_stub);

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
    "divide-error", "debug", "nmi", "breakpoint", "overflow", "bound-range", "invalid-opcode",
    "device-not-available", "double-fault", "coprocessor-overrun", "invalid-tss",
    "segment-not-present", "stack-fault", "general-protection", "page-fault", "reserved-15",
    "x87-fp-error", "alignment-check", "machine-check", "simd-fp-error", "virtualization",
    "control-protection", "reserved-22", "reserved-23", "reserved-24", "reserved-25",
    "reserved-26", "reserved-27", "hypervisor-injection", "vmm-communication", "security",
    "reserved-31",
];

#[no_mangle]
extern "C" fn xenops_interrupt(frame: &mut TrapFrame) {
    match frame.vector as u8 {
        UART_VECTOR => crate::apic::eoi(),
        XEN_UPCALL_VECTOR => crate::xen::events::upcall(),
        SPURIOUS_VECTOR => {}
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
