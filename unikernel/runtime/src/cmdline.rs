//! The kernel command line: where it is, and the `xenops.id=` value in it.

use crate::line::HEX;
use crate::protocol::find_byte;

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
    let all = core::slice::from_raw_parts(ptr, max);
    &all[..find_byte(all, 0).unwrap_or(max)]
}

pub struct Id {
    buf: core::mem::MaybeUninit<[u8; MAX_ID]>,
    len: usize,
}

impl Id {
    pub fn as_bytes(&self) -> &[u8] {
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.len) }
    }

    fn push(&mut self, byte: u8) {
        unsafe { *(self.buf.as_mut_ptr() as *mut u8).add(self.len) = byte };
        self.len += 1;
    }
}

/// The value of the first `xenops.id=` word, up to the first byte that is not
/// printable ASCII or is a space, capped at 64 bytes; otherwise the boot nonce: the
/// time stamp counter in hex, which differs between any two boots of one host.
pub fn boot_id(cmdline: &[u8]) -> Id {
    let mut id = Id { buf: core::mem::MaybeUninit::uninit(), len: 0 };
    let mut rest = cmdline;
    while !rest.is_empty() {
        let end = find_byte(rest, b' ').unwrap_or(rest.len());
        if let Some(value) = rest[..end].strip_prefix(ID_KEY) {
            for &b in &value[..value.len().min(MAX_ID)] {
                if !(0x21..0x7f).contains(&b) {
                    break;
                }
                id.push(b);
            }
            break;
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    if id.len == 0 {
        let nonce = crate::cpu::rdtsc();
        for i in 0..16 {
            id.push(HEX[((nonce >> ((15 - i) * 4)) & 0xf) as usize]);
        }
    }
    id
}
