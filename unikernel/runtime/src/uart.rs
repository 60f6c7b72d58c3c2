//! COM1, a 16550 UART at I/O port 0x3f8: the console under QEMU.
//!
//! Every port access is a VM exit, so output waits for an empty transmit FIFO once
//! per 16 bytes instead of polling the line status before every byte.

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

/// Sets 115200 8N1, enables and clears both FIFOs with a receive trigger level of
/// one byte (a command's first byte must wake the guest at once), and enables only
/// the received-data interrupt. OUT2 gates the IRQ line on PC-compatible boards.
pub fn init() {
    unsafe {
        outb(IER, 0x00);
        outb(LCR, 0x80);
        outb(DATA, 0x01);
        outb(IER, 0x00);
        outb(LCR, 0x03);
        outb(FCR, 0x07);
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
            for &b in chunk {
                outb(DATA, b);
            }
        }
    }
}

/// Returns the next received byte, if any. Draining the receiver also drops the
/// UART's interrupt line, so the next byte raises a fresh edge at the I/O APIC.
pub fn read() -> Option<u8> {
    unsafe {
        if inb(LSR) & LSR_DATA_READY != 0 {
            Some(inb(DATA))
        } else {
            None
        }
    }
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
