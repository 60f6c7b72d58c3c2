//! The line protocol over XenStore (docs/guest-protocol.md, "XenStore channel"),
//! relative to the domain's home `/local/domain/<domid>`:
//!
//! ```text
//! xenops/channel   "xenstore" when the host wants this channel (written before boot)
//! xenops/in/<n>    host -> guest, one command line each, n = 0, 1, 2, ...
//! xenops/out/<n>   guest -> host, one reply line each, n = 0, 1, 2, ...
//! ```
//!
//! Lines carry no newline. The guest watches `xenops/in`; a watch event is only a
//! cue to look, and every look reads `in/<next>` until ENOENT, so coalesced or lost
//! events lose no command. Between looks the vCPU sleeps on the event channel.
//!
//! Only one channel carries the protocol for a boot: with this one the console gets
//! the banner and `PANIC` lines and nothing else, so the host never sees a line twice.

use super::xenstore::{self, XenStore};
use crate::line::Line;
use crate::protocol::{self, Outcome, MAX_LINE};
use crate::{console, platform, App};

const CHANNEL: &[u8] = b"xenops/channel";
const IN: &[u8] = b"xenops/in";
const WATCH_TOKEN: &[u8] = b"xenops-in";

/// Room for a line of [`MAX_LINE`] bytes and then some, so that a longer one is seen
/// as too long rather than as an error of the store.
const IN_BUF: usize = MAX_LINE + 64;

/// The store, when the host asked for the protocol on it (`xenops/channel` reads
/// `xenstore`). Anything else, including no node at all (a domain not built by
/// xenopsd, or its console channel), keeps the console.
pub fn selected() -> Option<&'static mut XenStore> {
    let store = xenstore::get()?;
    let mut value = [0u8; 16];
    match store.read(CHANNEL, &mut value) {
        Ok(n) if &value[..n] == b"xenstore" => Some(store),
        _ => None,
    }
}

struct Out {
    next: u64,
}

impl Out {
    /// Writes `line` (without newline) to `xenops/out/<next>`. A failed write cannot
    /// be reported on this channel; it goes to the console for whoever reads the log.
    fn send(&mut self, store: &mut XenStore, line: &Line) {
        let mut path = Line::new();
        path.str("xenops/out/").dec(self.next);
        match store.write(path.as_bytes(), line.as_bytes()) {
            Ok(()) => self.next += 1,
            Err(e) => {
                let mut log = Line::new();
                log.str("xenops-rt: cannot write ").bytes(path.as_bytes()).str(": ").bytes(e.name());
                console::write_line(&mut log);
            }
        }
    }
}

/// Announces READY and serves the protocol until EXIT; never returns.
pub fn serve(store: &'static mut XenStore, app: &App, ready: &Line) -> ! {
    let mut out = Out { next: 0 };
    // Watch first, so that a command written right after READY is never missed.
    if let Err(e) = store.watch(IN, WATCH_TOKEN) {
        let mut log = Line::new();
        log.str("PANIC cannot watch xenops/in: ").bytes(e.name());
        console::write_line(&mut log);
        platform::shutdown(platform::Shutdown::Crash);
    }
    out.send(store, ready);
    let mut next_in: u64 = 0;
    let mut value = [0u8; IN_BUF];
    let mut path = Line::new();
    let mut reply = Line::new();
    loop {
        platform::acknowledge();
        store.forget_events();
        loop {
            path.clear();
            path.str("xenops/in/").dec(next_in);
            let line = match store.read(path.as_bytes(), &mut value) {
                Ok(n) => &value[..n],
                Err(xenstore::Error::TooLong) => {
                    next_in += 1;
                    reply.clear();
                    reply.str("ERR line-too-long");
                    out.send(store, &reply);
                    continue;
                }
                // ENOENT: nothing new. Anything else (EACCES, EIO) would repeat on every
                // look; wait for the next event rather than spin.
                Err(_) => break,
            };
            next_in += 1;
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > MAX_LINE {
                reply.clear();
                reply.str("ERR line-too-long");
                out.send(store, &reply);
                continue;
            }
            match protocol::handle(line, app, &mut reply) {
                Outcome::Continue => {
                    if !reply.is_empty() {
                        out.send(store, &reply);
                    }
                }
                Outcome::Exit(code) => platform::shutdown(platform::Shutdown::Exit(code)),
            }
        }
        // An event that came in after the last reply may have had its notification
        // acknowledged inside a request: look at the ring before sleeping.
        if !store.has_unread() {
            platform::idle();
        }
    }
}
