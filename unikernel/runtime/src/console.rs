//! The console the line protocol runs over: COM1 under QEMU, the Xen console ring
//! under Xen. Chosen once at boot; until then output is dropped.

use crate::global::Global;
use crate::line::Line;
use crate::xen::console::Ring;

enum Backend {
    None,
    Uart,
    Xen(Ring),
}

static BACKEND: Global<Backend> = Global::new(Backend::None);

pub fn use_uart() {
    crate::uart::init();
    unsafe { *BACKEND.get() = Backend::Uart };
}

pub fn use_xen_ring(ring: Ring) {
    unsafe { *BACKEND.get() = Backend::Xen(ring) };
}

pub fn write(bytes: &[u8]) {
    match unsafe { BACKEND.get() } {
        Backend::None => {}
        Backend::Uart => crate::uart::write(bytes),
        Backend::Xen(ring) => ring.write(bytes),
    }
}

/// Writes `line` and the `\n` that ends it.
pub fn write_line(line: &mut Line) {
    line.push(b'\n');
    write(line.as_bytes());
}

/// Moves whatever input has arrived into `buf`; returns how many bytes.
pub fn read(buf: &mut [u8]) -> usize {
    match unsafe { BACKEND.get() } {
        Backend::None => 0,
        Backend::Uart => crate::uart::read(buf),
        Backend::Xen(ring) => ring.read(buf),
    }
}

/// Best effort to get everything written out before the machine goes away.
pub fn flush() {
    match unsafe { BACKEND.get() } {
        Backend::None => {}
        Backend::Uart => crate::uart::flush(),
        Backend::Xen(ring) => ring.flush(),
    }
}
