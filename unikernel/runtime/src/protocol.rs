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
    buf: [u8; MAX_LINE],
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
        Lines { buf: [0; MAX_LINE], len: 0, discarding: false }
    }

    pub fn push(&mut self, byte: u8) -> Option<Input<'_>> {
        if byte == b'\n' {
            let len = core::mem::replace(&mut self.len, 0);
            if core::mem::replace(&mut self.discarding, false) {
                return None;
            }
            let line = &self.buf[..len];
            return Some(Input::Line(line.strip_suffix(b"\r").unwrap_or(line)));
        }
        if self.discarding {
            return None;
        }
        if self.len == MAX_LINE {
            self.len = 0;
            self.discarding = true;
            return Some(Input::TooLong);
        }
        self.buf[self.len] = byte;
        self.len += 1;
        None
    }
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
    match text.iter().position(|&b| b == b' ') {
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
