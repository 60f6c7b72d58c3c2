//! The Xen console ring (io/console.h): one shared page, `in` (1024 bytes, written
//! by xenconsoled) and `out` (2048 bytes, written by the guest), followed by the
//! free-running 32-bit indices in_cons, in_prod, out_cons, out_prod. One event
//! channel notifies both directions.

use core::sync::atomic::{compiler_fence, Ordering};

use super::{events, time};

const IN: usize = 0;
const IN_SIZE: u32 = 1024;
const OUT: usize = 1024;
const OUT_SIZE: u32 = 2048;
const IN_CONS: usize = 3072;
const IN_PROD: usize = 3076;
const OUT_CONS: usize = 3080;
const OUT_PROD: usize = 3084;

/// How long output may wait for xenconsoled to make room before it is dropped: a
/// guest whose console nobody reads must not hang in the middle of a reply.
const STALL_NS: u64 = 2_000_000_000;

pub struct Ring {
    base: *mut u8,
    port: u32,
}

impl Ring {
    /// # Safety
    /// `base` must map the console page for as long as the ring is used.
    pub unsafe fn new(base: *mut u8, port: u32) -> Ring {
        Ring { base, port }
    }

    pub fn port(&self) -> u32 {
        self.port
    }

    fn index(&self, offset: usize) -> u32 {
        unsafe { core::ptr::read_volatile(self.base.add(offset) as *const u32) }
    }

    fn set_index(&self, offset: usize, value: u32) {
        unsafe { core::ptr::write_volatile(self.base.add(offset) as *mut u32, value) }
    }

    pub fn write(&self, bytes: &[u8]) {
        let mut sent = 0;
        let mut deadline = 0;
        while sent < bytes.len() {
            let cons = self.index(OUT_CONS);
            let prod = self.index(OUT_PROD);
            compiler_fence(Ordering::Acquire);
            let free = OUT_SIZE - prod.wrapping_sub(cons).min(OUT_SIZE);
            if free == 0 {
                let now = time::now_ns();
                if deadline == 0 {
                    deadline = now + STALL_NS;
                } else if now > deadline {
                    return;
                }
                events::send(self.port);
                events::poll(&[self.port], now + 10_000_000);
                continue;
            }
            let n = (free as usize).min(bytes.len() - sent);
            for i in 0..n {
                let at = OUT + (prod.wrapping_add(i as u32) & (OUT_SIZE - 1)) as usize;
                unsafe { core::ptr::write_volatile(self.base.add(at), bytes[sent + i]) };
            }
            // x86 keeps stores in order; the fence keeps the compiler from moving the
            // data writes after the index update that publishes them.
            compiler_fence(Ordering::Release);
            self.set_index(OUT_PROD, prod.wrapping_add(n as u32));
            sent += n;
        }
        events::send(self.port);
    }

    /// Moves available input into `buf`; returns how many bytes.
    pub fn read(&self, buf: &mut [u8]) -> usize {
        let cons = self.index(IN_CONS);
        let prod = self.index(IN_PROD);
        let n = (prod.wrapping_sub(cons).min(IN_SIZE) as usize).min(buf.len());
        if n == 0 {
            return 0;
        }
        compiler_fence(Ordering::Acquire);
        for (i, slot) in buf[..n].iter_mut().enumerate() {
            let at = IN + (cons.wrapping_add(i as u32) & (IN_SIZE - 1)) as usize;
            *slot = unsafe { core::ptr::read_volatile(self.base.add(at)) };
        }
        compiler_fence(Ordering::Release);
        self.set_index(IN_CONS, cons.wrapping_add(n as u32));
        // Tell xenconsoled there is room in the ring again.
        events::send(self.port);
        n
    }

    /// Waits (bounded) until xenconsoled has taken everything written, so that a
    /// PANIC line is in the log before the domain is torn down.
    pub fn flush(&self) {
        let deadline = time::now_ns() + 500_000_000;
        loop {
            if self.index(OUT_CONS) == self.index(OUT_PROD) {
                return;
            }
            let now = time::now_ns();
            if now == 0 || now > deadline {
                return;
            }
            events::send(self.port);
            events::poll(&[self.port], now + 10_000_000);
            events::acknowledge(&[self.port]);
        }
    }
}
