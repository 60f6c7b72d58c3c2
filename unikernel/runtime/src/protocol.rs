//! The guest side of the xenops line protocol (docs/guest-protocol.md; the host side
//! is io.xenops.guest.GuestProtocol). ASCII lines end in `\n`; a trailing `\r` is
//! dropped.
//!
//! ```text
//! guest: READY <image> <id>      once, when the runtime starts waiting for input
//! host:  PING <token>            guest: PONG <token>
//! host:  ARGS <token> [payload]  guest: RESULT <token> <text>
//! host:  EXIT <code>             guest: shuts down
//! guest: ERR <reason>            the line was refused
//! ```

use crate::line::Line;
use crate::{App, Reply};

/// Longest line either side sends, newline excluded.
pub const MAX_LINE: usize = 1024;
pub const MAX_TOKEN: usize = 64;

/// Splits console bytes into lines of at most [`MAX_LINE`] bytes.
pub struct Lines {
    buf: core::mem::MaybeUninit<[u8; MAX_LINE]>,
    len: usize,
    discarding: bool,
}

pub enum Input<'a> {
    Line(&'a [u8]),
    /// The current line passed MAX_LINE bytes; what follows up to its newline is
    /// dropped. Reported once, as soon as the limit is crossed.
    TooLong,
}

impl Lines {
    pub const fn new() -> Self {
        Lines { buf: core::mem::MaybeUninit::uninit(), len: 0, discarding: false }
    }

    /// Takes bytes from the front of `data` into the current line, up to and
    /// including the first newline. Returns how many bytes it consumed and what, if
    /// anything, the host completed: a line, or a line that crossed MAX_LINE bytes
    /// (reported once, as soon as it happens; the rest of it is then dropped).
    pub fn feed(&mut self, data: &[u8]) -> (usize, Option<Input<'_>>) {
        let newline = find_byte(data, b'\n');
        let segment = &data[..newline.unwrap_or(data.len())];
        let consumed = newline.map_or(data.len(), |at| at + 1);
        let mut overflowed = false;
        if !self.discarding {
            if segment.len() > MAX_LINE - self.len {
                self.len = 0;
                self.discarding = true;
                overflowed = true;
            } else {
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        segment.as_ptr(),
                        (self.buf.as_mut_ptr() as *mut u8).add(self.len),
                        segment.len(),
                    )
                };
                self.len += segment.len();
            }
        }
        if newline.is_none() {
            return (consumed, overflowed.then_some(Input::TooLong));
        }
        let len = core::mem::replace(&mut self.len, 0);
        if core::mem::replace(&mut self.discarding, false) {
            return (consumed, overflowed.then_some(Input::TooLong));
        }
        let line = unsafe { core::slice::from_raw_parts(self.buf.as_ptr() as *const u8, len) };
        (consumed, Some(Input::Line(line.strip_suffix(b"\r").unwrap_or(line))))
    }
}

/// Index of the first `byte` in `data`. One `repne scasb`: under kvm-pvm each
/// guest instruction is emulated, and a repeated string instruction costs less
/// per byte than any loop.
pub fn find_byte(data: &[u8], byte: u8) -> Option<usize> {
    if data.is_empty() {
        return None;
    }
    let left: usize;
    let found: u8;
    unsafe {
        core::arch::asm!(
            "repne scasb",
            "sete {found}",
            found = out(reg_byte) found,
            inout("rdi") data.as_ptr() => _,
            inout("rcx") data.len() => left,
            in("al") byte,
            options(nostack, readonly),
        );
    }
    (found != 0).then(|| data.len() - left - 1)
}

impl Default for Lines {
    fn default() -> Self {
        Lines::new()
    }
}

pub enum Outcome {
    Continue,
    Exit(u8),
}

/// `[A-Za-z0-9._-]{1,64}`, as the host's GuestProtocol.TOKEN.
pub fn is_token(token: &[u8]) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN
        && token.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

fn parse_exit_code(text: &[u8]) -> Option<u8> {
    if text.is_empty() || text.len() > 3 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = text.iter().fold(0u32, |acc, &d| acc * 10 + (d - b'0') as u32);
    u8::try_from(value).ok()
}

fn split_word(text: &[u8]) -> (&[u8], Option<&[u8]>) {
    match find_byte(text, b' ') {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    }
}

/// Answers one line into `out` (left empty when the line needs no reply).
pub fn handle(line: &[u8], app: &App, out: &mut Line) -> Outcome {
    out.clear();
    let (command, rest) = split_word(line);
    match command {
        b"PING" => match rest {
            Some(token) if is_token(token) => {
                out.str("PONG ").bytes(token);
            }
            _ => {
                out.str("ERR bad-token");
            }
        },
        b"ARGS" => {
            let (token, payload) = split_word(rest.unwrap_or(b""));
            if !is_token(token) {
                out.str("ERR bad-token");
                return Outcome::Continue;
            }
            let mut reply = Reply::new();
            (app.run)(payload.unwrap_or(b""), &mut reply);
            if reply.overflowed() {
                out.str("ERR result-too-long");
            } else {
                out.str("RESULT ").bytes(token);
                if !reply.as_bytes().is_empty() {
                    out.push(b' ').printable(reply.as_bytes());
                }
            }
        }
        b"EXIT" => match rest.and_then(parse_exit_code) {
            Some(code) => return Outcome::Exit(code),
            None => {
                out.str("ERR bad-exit-code");
            }
        },
        b"" => {
            out.str("ERR empty-line");
        }
        other => {
            out.str("ERR unknown-command ").printable(&other[..other.len().min(32)]);
        }
    }
    Outcome::Continue
}
