//! COM1, a 16550 UART at I/O port 0x3f8: the console under QEMU.
//!
//! Every port access is a VM exit, so output waits for an empty transmit FIFO once
//! per 16 bytes instead of polling the line status before every byte, and sends each
//! chunk with one `rep outsb`.

use crate::cpu::{inb, outb};

const BASE: u16 = 0x3f8;
const DATA: u16 = BASE;
const IER: u16 = BASE + 1;
const FCR: u16 = BASE + 2;
const LCR: u16 = BASE + 3;
const MCR: u16 = BASE + 4;
const LSR: u16 = BASE + 5;

const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;
const LSR_IDLE: u8 = 0x40;
const FIFO_DEPTH: usize = 16;

/// Sets 115200 8N1, enables and clears both FIFOs, and enables only the
/// received-data interrupt (OUT2 gates the IRQ line on PC-compatible boards).
///
/// The receive trigger level is 14 bytes. QEMU moves host input into the FIFO only
/// up to the trigger level, and with a level of 1 it hands over one byte per guest
/// read: a wake-up per byte, several milliseconds per command when kvm-pvm emulates
/// every instruction, and a round trip through QEMU's main loop per byte anywhere.
/// At 14, a command arrives in 14-byte pieces; the interrupt comes when a piece is
/// complete, or for the last, shorter piece after the UART's character timeout of
/// four character times (about 0.35 ms at 115200 baud).
pub fn init() {
    unsafe {
        outb(IER, 0x00);
        outb(LCR, 0x80);
        outb(DATA, 0x01);
        outb(IER, 0x00);
        outb(LCR, 0x03);
        outb(FCR, 0xc7);
        outb(MCR, 0x0b);
        outb(IER, 0x01);
    }
}

pub fn write(bytes: &[u8]) {
    for chunk in bytes.chunks(FIFO_DEPTH) {
        unsafe {
            while inb(LSR) & LSR_THR_EMPTY == 0 {
                core::hint::spin_loop();
            }
            core::arch::asm!(
                "rep outsb",
                inout("rsi") chunk.as_ptr() => _,
                inout("rcx") chunk.len() => _,
                in("dx") DATA,
                options(nostack, preserves_flags, readonly),
            );
        }
    }
}

/// Moves received bytes into `buf` until the receiver is empty or `buf` full.
/// Draining the receiver drops the UART's interrupt line, so the next byte raises
/// a fresh edge at the I/O APIC.
///
/// The line status is read before every byte. Reading the data register blindly
/// (QEMU answers 0 when the FIFO is empty, so one `rep insb` could fetch a whole
/// FIFO in one exit) loses input: QEMU's main loop can refill the FIFO between two
/// reads of one `rep insb`, putting data after the zeros that mark "empty".
pub fn read(buf: &mut [u8]) -> usize {
    let mut n = 0;
    unsafe {
        while n < buf.len() && inb(LSR) & LSR_DATA_READY != 0 {
            buf[n] = inb(DATA);
            n += 1;
        }
    }
    n
}

/// Waits until the last byte has left the transmitter, so output written right
/// before a shutdown is not lost with the machine.
pub fn flush() {
    unsafe {
        while inb(LSR) & LSR_IDLE == 0 {
            core::hint::spin_loop();
        }
    }
}
