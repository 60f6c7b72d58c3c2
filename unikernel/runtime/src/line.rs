//! A fixed-size output line: protocol replies are assembled in full and then written
//! to the console in one go, so that a Xen console ring sees one notification per
//! line and a UART one burst per FIFO-sized chunk.
//!
//! The buffer is left uninitialised: zeroing a kilobyte for every reply is real
//! time when each instruction is emulated (kvm-pvm).

use core::mem::MaybeUninit;

pub const CAPACITY: usize = 1100;

pub struct Line {
    buf: MaybeUninit<[u8; CAPACITY]>,
    len: usize,
}

impl Line {
    pub const fn new() -> Self {
        Line { buf: MaybeUninit::uninit(), len: 0 }
    }

    fn base(&mut self) -> *mut u8 {
        self.buf.as_mut_ptr() as *mut u8
    }

    pub fn push(&mut self, byte: u8) -> &mut Self {
        if self.len < CAPACITY {
            unsafe { *self.base().add(self.len) = byte };
            self.len += 1;
        }
        self
    }

    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        let n = bytes.len().min(CAPACITY - self.len);
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base().add(self.len), n) };
        self.len += n;
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends text that came from elsewhere (panic messages, app output), replacing
    /// every byte that is not printable ASCII so that it cannot end or forge a line.
    pub fn printable(&mut self, bytes: &[u8]) -> &mut Self {
        let start = self.len;
        self.bytes(bytes);
        let base = self.base();
        for i in start..self.len {
            unsafe {
                let b = base.add(i);
                if !(0x20..0x7f).contains(&*b) {
                    *b = b'?';
                }
            }
        }
        self
    }

    pub fn dec(&mut self, mut value: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut n = 20;
        loop {
            n -= 1;
            digits[n] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.bytes(&digits[n..])
    }

    /// `0x`-less lowercase hex with exactly `width` (at most 16) digits.
    pub fn hex(&mut self, value: u64, width: usize) -> &mut Self {
        let mut i = width.min(16);
        while i > 0 {
            i -= 1;
            self.push(HEX[((value >> (i * 4)) & 0xf) as usize]);
        }
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

pub const HEX: &[u8; 16] = b"0123456789abcdef";
