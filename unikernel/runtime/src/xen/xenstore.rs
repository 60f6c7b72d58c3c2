//! XenStore client over the domain's shared ring (io/xs_wire.h).
//!
//! The ring page holds `req[1024]` (guest to xenstored) and `rsp[1024]` (replies and
//! watch events), then the free-running 32-bit indices req_cons, req_prod, rsp_cons,
//! rsp_prod. Every message is a 16-byte header (type, req_id, tx_id, len, little
//! endian) followed by `len` bytes of payload; strings in payloads are NUL-separated.
//! One event channel signals both directions.
//!
//! Requests are synchronous, one at a time. Watch events can arrive while a reply is
//! awaited; they are queued and handed out by [`XenStore::wait_event`]. Relative paths
//! are relative to the domain's home, `/local/domain/<domid>`.

use core::sync::atomic::{compiler_fence, Ordering};

use super::events;
use crate::global::Global;

const REQ: usize = 0;
const RSP: usize = 1024;
const RING: u32 = 1024;
const REQ_CONS: usize = 2048;
const REQ_PROD: usize = 2052;
const RSP_CONS: usize = 2056;
const RSP_PROD: usize = 2060;
const HEADER: usize = 16;

const XS_READ: u32 = 2;
const XS_WATCH: u32 = 4;
const XS_WRITE: u32 = 11;
const XS_WATCH_EVENT: u32 = 15;
const XS_ERROR: u32 = 16;

/// Longest watch event this client keeps (path and token).
pub const MAX_PAYLOAD: usize = 512;
/// Longest request payload: xenstored's own limit (XENSTORE_PAYLOAD_MAX). Requests are
/// streamed from the caller's buffers, so this costs no memory.
pub const MAX_REQUEST: usize = 4096;
const QUEUE: usize = 4;

#[derive(Debug)]
pub enum Error {
    /// xenstored answered XS_ERROR with this errno name (`ENOENT`, `EACCES`, ...).
    Xen([u8; 16], usize),
    /// A request longer than [`MAX_REQUEST`], or a reply longer than the caller's buffer.
    TooLong,
    /// A reply that makes no sense (wrong request id, a non-event where an event was due).
    Protocol,
}

impl Error {
    pub fn name(&self) -> &[u8] {
        match self {
            Error::Xen(name, len) => &name[..*len],
            Error::TooLong => b"E2BIG",
            Error::Protocol => b"EPROTO",
        }
    }
}

struct Event {
    len: usize,
    payload: [u8; MAX_PAYLOAD],
}

pub struct XenStore {
    base: *mut u8,
    port: u32,
    next_id: u32,
    queued: usize,
    queue: [Event; QUEUE],
}

static STORE: Global<Option<XenStore>> = Global::new(None);

/// The domain's XenStore connection, when the runtime runs under Xen.
pub fn get() -> Option<&'static mut XenStore> {
    unsafe { STORE.get().as_mut() }
}

/// # Safety
/// `base` must map the xenstore ring page for the rest of the run.
pub unsafe fn install(base: *mut u8, port: u32) {
    *STORE.get() = Some(XenStore {
        base,
        port,
        next_id: 1,
        queued: 0,
        // Plain bytes and lengths: all zeroes is a valid (empty) queue.
        queue: core::mem::zeroed(),
    });
}

impl XenStore {
    pub fn port(&self) -> u32 {
        self.port
    }

    fn index(&self, offset: usize) -> u32 {
        unsafe { core::ptr::read_volatile(self.base.add(offset) as *const u32) }
    }

    fn set_index(&self, offset: usize, value: u32) {
        unsafe { core::ptr::write_volatile(self.base.add(offset) as *mut u32, value) }
    }

    /// Sleeps until xenstored may have moved an index (or anything else woke us).
    fn wait(&self) {
        events::send(self.port);
        crate::platform::idle();
        crate::platform::acknowledge();
    }

    fn put(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let cons = self.index(REQ_CONS);
            let prod = self.index(REQ_PROD);
            compiler_fence(Ordering::Acquire);
            let free = RING - prod.wrapping_sub(cons).min(RING);
            if free == 0 {
                self.wait();
                continue;
            }
            // Up to the end of the ring or of the free space, whichever is first.
            let at = prod % RING;
            let n = (free.min(RING - at) as usize).min(data.len());
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(REQ + at as usize), n) };
            compiler_fence(Ordering::Release);
            self.set_index(REQ_PROD, prod.wrapping_add(n as u32));
            data = &data[n..];
        }
    }

    /// Fills `out` from the reply ring; with `out` of `None`, drops `len` bytes.
    fn take(&mut self, mut out: Option<&mut [u8]>, mut len: usize) {
        while len > 0 {
            let cons = self.index(RSP_CONS);
            let prod = self.index(RSP_PROD);
            compiler_fence(Ordering::Acquire);
            let avail = prod.wrapping_sub(cons).min(RING);
            if avail == 0 {
                self.wait();
                continue;
            }
            let at = cons % RING;
            let n = (avail.min(RING - at) as usize).min(len);
            if let Some(buf) = out.take() {
                unsafe {
                    core::ptr::copy_nonoverlapping(self.base.add(RSP + at as usize), buf.as_mut_ptr(), n)
                };
                out = Some(&mut buf[n..]);
            }
            compiler_fence(Ordering::Release);
            self.set_index(RSP_CONS, cons.wrapping_add(n as u32));
            // xenstored stops writing when the ring is full; tell it there is room.
            events::send(self.port);
            len -= n;
        }
    }

    fn header(&mut self) -> (u32, u32, usize) {
        let mut h = [0u8; HEADER];
        self.take(Some(&mut h), HEADER);
        let word = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        (word(0), word(4), word(12) as usize)
    }

    fn queue_event(&mut self, len: usize) {
        if len > MAX_PAYLOAD || self.queued == QUEUE {
            // No room: the event is lost, as a full queue in any client would lose it.
            self.take(None, len);
            return;
        }
        let mut payload = [0u8; MAX_PAYLOAD];
        self.take(Some(&mut payload[..len]), len);
        let event = &mut self.queue[self.queued];
        event.len = len;
        event.payload[..len].copy_from_slice(&payload[..len]);
        self.queued += 1;
    }

    /// Sends one request and returns the length of its reply's payload in `reply`.
    fn request(&mut self, kind: u32, parts: &[&[u8]], reply: &mut [u8]) -> Result<usize, Error> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > MAX_REQUEST {
            return Err(Error::TooLong);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut header = [0u8; HEADER];
        header[0..4].copy_from_slice(&kind.to_le_bytes());
        header[4..8].copy_from_slice(&id.to_le_bytes());
        header[12..16].copy_from_slice(&(len as u32).to_le_bytes());
        self.put(&header);
        for part in parts {
            self.put(part);
        }
        events::send(self.port);
        loop {
            let (kind, reply_id, len) = self.header();
            if kind == XS_WATCH_EVENT {
                self.queue_event(len);
                continue;
            }
            if reply_id != id {
                self.take(None, len);
                return Err(Error::Protocol);
            }
            if kind == XS_ERROR {
                let mut name = [0u8; 16];
                let kept = len.min(name.len());
                self.take(Some(&mut name[..kept]), kept);
                self.take(None, len - kept);
                let end = name.iter().position(|&b| b == 0).unwrap_or(kept);
                return Err(Error::Xen(name, end));
            }
            if len > reply.len() {
                self.take(None, len);
                return Err(Error::TooLong);
            }
            self.take(Some(&mut reply[..len]), len);
            return Ok(len);
        }
    }

    /// Whether xenstored has put anything in the reply ring that nobody has taken:
    /// a watch event that arrived after the last reply. Its notification may already
    /// have been acknowledged inside a request, so a caller about to sleep must look
    /// here first or it could sleep on an event that is already in the ring.
    pub fn has_unread(&self) -> bool {
        let cons = self.index(RSP_CONS);
        let prod = self.index(RSP_PROD);
        prod != cons
    }

    /// Drops the watch events queued while replies were awaited, for callers that
    /// only use an event as a cue to look again and then look at everything.
    pub fn forget_events(&mut self) {
        self.queued = 0;
    }

    /// Reads `path` into `value`; returns the value's length.
    pub fn read(&mut self, path: &[u8], value: &mut [u8]) -> Result<usize, Error> {
        self.request(XS_READ, &[path, b"\0"], value)
    }

    pub fn write(&mut self, path: &[u8], value: &[u8]) -> Result<(), Error> {
        let mut ok = [0u8; 8];
        self.request(XS_WRITE, &[path, b"\0", value], &mut ok).map(|_| ())
    }

    /// Registers a watch on `path` (and everything below it). xenstored reports
    /// every watch once right away, so the first [`XenStore::wait_event`] returns
    /// at once.
    pub fn watch(&mut self, path: &[u8], token: &[u8]) -> Result<(), Error> {
        let mut ok = [0u8; 8];
        self.request(XS_WATCH, &[path, b"\0", token, b"\0"], &mut ok).map(|_| ())
    }

    /// Blocks until a watch fires; writes the path that changed into `path` and
    /// returns its length (the token is the part after it, which callers with one
    /// watch need not look at).
    pub fn wait_event(&mut self, path: &mut [u8]) -> Result<usize, Error> {
        let mut payload = [0u8; MAX_PAYLOAD];
        let len = if self.queued > 0 {
            let event = &self.queue[0];
            let len = event.len;
            payload[..len].copy_from_slice(&event.payload[..len]);
            self.queue.rotate_left(1);
            self.queued -= 1;
            len
        } else {
            let (kind, _, len) = self.header();
            if kind != XS_WATCH_EVENT || len > MAX_PAYLOAD {
                self.take(None, len);
                return Err(Error::Protocol);
            }
            self.take(Some(&mut payload[..len]), len);
            len
        };
        let end = payload[..len].iter().position(|&b| b == 0).unwrap_or(len);
        let n = end.min(path.len());
        path[..n].copy_from_slice(&payload[..n]);
        Ok(n)
    }
}
