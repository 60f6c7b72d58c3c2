//! xenops unikernel runtime.
//!
//! An app is a `#![no_std] #![no_main]` binary crate that depends on this one and
//! names itself and its entry function with [`app!`]. The runtime boots (QEMU PVH,
//! Xen PVH or Xen PV), prints `READY <app> <id>` and then serves the line protocol
//! on the console, calling the app once for every `ARGS` line.

#![no_std]

pub mod apic;
pub mod boot;
pub mod cmdline;
pub mod console;
pub mod cpu;
pub mod global;
pub mod interrupts;
pub mod line;
pub mod mem;
pub mod panic;
pub mod platform;
pub mod protocol;
pub mod uart;
pub mod xen;

use line::Line;
use protocol::{Input, Lines, Outcome};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// An application linked into an image.
pub struct App {
    /// Image name, printed in the READY line: `[a-z0-9-]+`.
    pub name: &'static str,
    pub version: &'static str,
    /// Called with the ARGS payload (possibly empty); what it writes to the reply
    /// becomes the RESULT text.
    pub run: fn(payload: &[u8], reply: &mut Reply),
}

/// Longest RESULT text that still fits a protocol line with the longest token.
pub const MAX_RESULT: usize = protocol::MAX_LINE - b"RESULT ".len() - protocol::MAX_TOKEN - 1;

/// Where an app writes its result. Bytes outside printable ASCII are sent as `?`;
/// writing more than [`MAX_RESULT`] bytes turns the reply into `ERR result-too-long`.
pub struct Reply {
    buf: core::mem::MaybeUninit<[u8; MAX_RESULT]>,
    len: usize,
    overflow: bool,
}

impl Reply {
    pub(crate) fn new() -> Reply {
        Reply { buf: core::mem::MaybeUninit::uninit(), len: 0, overflow: false }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(MAX_RESULT - self.len);
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (self.buf.as_mut_ptr() as *mut u8).add(self.len),
                n,
            )
        };
        self.len += n;
        self.overflow |= n < bytes.len();
    }

    pub fn push_str(&mut self, s: &str) {
        self.push(s.as_bytes());
    }

    pub fn push_byte(&mut self, byte: u8) {
        if self.len == MAX_RESULT {
            self.overflow = true;
        } else {
            unsafe { *(self.buf.as_mut_ptr() as *mut u8).add(self.len) = byte };
            self.len += 1;
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.len) }
    }

    pub fn overflowed(&self) -> bool {
        self.overflow
    }
}

/// Declares the app of this image:
/// `xenops_rt::app!(name = "hello", version = env!("CARGO_PKG_VERSION"), run = run);`
#[macro_export]
macro_rules! app {
    (name = $name:expr, version = $version:expr, run = $run:path $(,)?) => {
        #[no_mangle]
        pub static XENOPS_APP: $crate::App = $crate::App { name: $name, version: $version, run: $run };
    };
}

extern "Rust" {
    static XENOPS_APP: App;
}

fn app() -> &'static App {
    unsafe { &XENOPS_APP }
}

#[no_mangle]
extern "C" fn xenops_pvh_entry(start_info: u32) -> ! {
    let cmdline = platform::boot_pvh(start_info);
    run(cmdline)
}

#[no_mangle]
extern "C" fn xenops_pv_entry(start_info: *const u8) -> ! {
    let cmdline = unsafe { platform::boot_pv(start_info) };
    run(cmdline)
}

fn run(cmdline: &[u8]) -> ! {
    let app = app();
    let id = cmdline::boot_id(cmdline);
    let mut line = Line::new();
    line.str("xenops-rt ")
        .str(VERSION)
        .str(": ")
        .str(app.name)
        .push(b' ')
        .str(app.version)
        .str(" on ")
        .str(platform::name());
    // The host picks the channel per domain (xenops/channel); one boot uses one, so no
    // protocol line ever appears on both.
    let store = match platform::kind() {
        platform::Kind::XenPvh | platform::Kind::XenPv => xen::channel::selected(),
        _ => None,
    };
    if store.is_some() {
        line.str(", protocol on xenstore");
    }
    console::write_line(&mut line);
    line.clear();
    line.str("READY ").str(app.name).push(b' ').bytes(id.as_bytes());
    match store {
        Some(store) => xen::channel::serve(store, app, &line),
        None => {
            console::write_line(&mut line);
            serve(app)
        }
    }
}

fn serve(app: &App) -> ! {
    let mut lines = Lines::new();
    let mut out = Line::new();
    let mut chunk = [0u8; 64];
    loop {
        platform::acknowledge();
        loop {
            let n = console::read(&mut chunk);
            let mut data = &chunk[..n];
            while !data.is_empty() {
                let (used, input) = lines.feed(data);
                data = &data[used..];
                match input {
                    None => {}
                    Some(Input::TooLong) => {
                        out.clear();
                        out.str("ERR line-too-long");
                        console::write_line(&mut out);
                    }
                    Some(Input::Line(text)) => match protocol::handle(text, app, &mut out) {
                        Outcome::Continue => {
                            if !out.is_empty() {
                                console::write_line(&mut out);
                            }
                        }
                        Outcome::Exit(code) => platform::shutdown(platform::Shutdown::Exit(code)),
                    },
                }
            }
            // A short read means the console was drained; anything arriving later
            // is pending as an interrupt or event and ends the idle below at once.
            if n < chunk.len() {
                break;
            }
        }
        platform::idle();
    }
}
