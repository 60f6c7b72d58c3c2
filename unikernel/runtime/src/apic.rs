//! Local APIC and I/O APIC, just enough to receive the UART interrupt.
//!
//! QEMU's microvm is run with `pic=off`: there is no 8259, ISA IRQs arrive at the
//! I/O APIC pins of the same number. The windows are at their architectural default
//! addresses and lie inside the identity map built at boot.

use crate::cpu::{rdmsr, wrmsr};
use crate::global::Global;

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const IOAPIC_BASE: usize = 0xfec0_0000;

const LAPIC_ID: usize = 0x20;
const LAPIC_TPR: usize = 0x80;
const LAPIC_EOI: usize = 0xb0;
const LAPIC_SVR: usize = 0xf0;

static LAPIC_BASE: Global<usize> = Global::new(0);

unsafe fn lapic_read(reg: usize) -> u32 {
    core::ptr::read_volatile((*LAPIC_BASE.get() + reg) as *const u32)
}

unsafe fn lapic_write(reg: usize, value: u32) {
    core::ptr::write_volatile((*LAPIC_BASE.get() + reg) as *mut u32, value)
}

/// Software-enables the local APIC with `spurious` as its spurious vector and
/// accepts every priority.
pub fn init_local(spurious: u8) {
    unsafe {
        let mut base = rdmsr(IA32_APIC_BASE);
        if base & APIC_GLOBAL_ENABLE == 0 {
            base |= APIC_GLOBAL_ENABLE;
            wrmsr(IA32_APIC_BASE, base);
        }
        *LAPIC_BASE.get() = (base & 0xffff_f000) as usize;
        // Where the UART interrupt stub (boot.rs) acknowledges interrupts.
        *core::ptr::addr_of_mut!(crate::boot::lapic_eoi) = (*LAPIC_BASE.get() + LAPIC_EOI) as u64;
        lapic_write(LAPIC_SVR, 0x100 | spurious as u32);
        lapic_write(LAPIC_TPR, 0);
    }
}

pub fn local_id() -> u32 {
    unsafe { lapic_read(LAPIC_ID) >> 24 }
}

/// Routes I/O APIC pin `gsi` to `vector` on the local APIC `dest`: fixed delivery,
/// physical destination, edge-triggered, active high — the ISA IRQ conventions.
pub fn route_isa_irq(gsi: u32, vector: u8, dest: u32) {
    unsafe {
        let select = IOAPIC_BASE as *mut u32;
        let window = (IOAPIC_BASE + 0x10) as *mut u32;
        let entry = 0x10 + 2 * gsi;
        core::ptr::write_volatile(select, entry + 1);
        core::ptr::write_volatile(window, dest << 24);
        core::ptr::write_volatile(select, entry);
        core::ptr::write_volatile(window, vector as u32);
    }
}
