//! A fixed-size output line: protocol replies are assembled in full and then written
//! to the console in one go, so that a Xen console ring sees one notification per
//! line and a UART one burst of FIFO-sized chunks.

pub const CAPACITY: usize = 1100;

pub struct Line {
    buf: [u8; CAPACITY],
    len: usize,
}

impl Line {
    pub const fn new() -> Self {
        Line { buf: [0; CAPACITY], len: 0 }
    }

    pub fn push(&mut self, byte: u8) -> &mut Self {
        if self.len < CAPACITY {
            self.buf[self.len] = byte;
            self.len += 1;
        }
        self
    }

    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.push(b);
        }
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends text that came from elsewhere (panic messages, app output), replacing
    /// every byte that is not printable ASCII so that it cannot end or forge a line.
    pub fn printable(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.push(if (0x20..0x7f).contains(&b) { b } else { b'?' });
        }
        self
    }

    pub fn dec(&mut self, mut value: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (value % 10) as u8;
            n += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        while n > 0 {
            n -= 1;
            self.push(digits[n]);
        }
        self
    }

    /// `0x`-less lowercase hex with exactly `width` digits.
    pub fn hex(&mut self, value: u64, width: usize) -> &mut Self {
        let mut i = width;
        while i > 0 {
            i -= 1;
            let nibble = if i >= 16 { 0 } else { (value >> (i * 4)) & 0xf };
            self.push(HEX[nibble as usize]);
        }
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
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
