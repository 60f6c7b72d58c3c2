//! The kernel command line: where it is, and the `xenops.id=` value in it.

use crate::line::HEX;

pub const ID_KEY: &[u8] = b"xenops.id=";
pub const MAX_ID: usize = 64;

/// The NUL-terminated string at `ptr`, at most `max` bytes.
///
/// # Safety
/// `ptr` must be readable for `max` bytes or up to its NUL, and stay so.
pub unsafe fn c_string(ptr: *const u8, max: usize) -> &'static [u8] {
    if ptr.is_null() {
        return &[];
    }
    let mut len = 0;
    while len < max && *ptr.add(len) != 0 {
        len += 1;
    }
    core::slice::from_raw_parts(ptr, len)
}

pub struct Id {
    buf: [u8; MAX_ID],
    len: usize,
}

impl Id {
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The value of the first `xenops.id=` word, up to the first byte that is not
/// printable ASCII or is a space, capped at 64 bytes; otherwise the boot nonce: the
/// time stamp counter in hex, which differs between any two boots of one host.
pub fn boot_id(cmdline: &[u8]) -> Id {
    let mut id = Id { buf: [0; MAX_ID], len: 0 };
    for word in cmdline.split(|&b| b == b' ' || b == b'\t' || b == b'\n') {
        if let Some(value) = word.strip_prefix(ID_KEY) {
            for &b in value {
                if !(0x21..0x7f).contains(&b) || id.len == MAX_ID {
                    break;
                }
                id.buf[id.len] = b;
                id.len += 1;
            }
            break;
        }
    }
    if id.len == 0 {
        let nonce = crate::cpu::rdtsc();
        for i in 0..16 {
            id.buf[i] = HEX[((nonce >> ((15 - i) * 4)) & 0xf) as usize];
        }
        id.len = 16;
    }
    id
}
