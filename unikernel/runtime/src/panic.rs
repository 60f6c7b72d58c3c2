//! Fatal errors: Rust panics and CPU exceptions both end here, print one
//! `PANIC <message>` line and shut the machine down as crashed.

use crate::global::Global;
use crate::line::Line;

static PANICKING: Global<bool> = Global::new(false);

pub fn fatal(message: &[u8]) -> ! {
    unsafe {
        // A fault while reporting a fault: report nothing more, just stop.
        if *PANICKING.get() {
            crate::platform::shutdown(crate::platform::Shutdown::Crash);
        }
        *PANICKING.get() = true;
    }
    let mut line = Line::new();
    line.str("PANIC ").printable(message);
    crate::console::write_line(&mut line);
    crate::platform::shutdown(crate::platform::Shutdown::Crash)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut text = Line::new();
    // Formatting arbitrary panic arguments would pull core::fmt into the image, and
    // the precompiled core is built with SSE enabled; literal messages are enough.
    match info.message().as_str() {
        Some(message) => text.str(message),
        None => text.str("panic with a formatted message"),
    };
    if let Some(location) = info.location() {
        text.str(" at ").str(location.file()).push(b':').dec(location.line() as u64);
    }
    fatal(text.as_bytes())
}
