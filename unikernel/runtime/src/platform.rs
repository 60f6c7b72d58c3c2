//! What differs between the three ways this image boots: console, idle and
//! shutdown. Decided once at boot.

use crate::boot::{SPURIOUS_VECTOR, UART_VECTOR, XEN_UPCALL_VECTOR};
use crate::global::Global;
use crate::xen::{self, events, hypercall};
use crate::{apic, cmdline, console, cpu, interrupts};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unknown,
    QemuPvh,
    XenPvh,
    XenPv,
}

pub enum Shutdown {
    Exit(u8),
    Crash,
}

struct State {
    kind: Kind,
    /// Xen: the event channels the runtime waits on (console, then xenstore).
    ports: [u32; 2],
    nports: usize,
    /// Whether idling may `hlt` (an interrupt will come) or must SCHEDOP_poll.
    halt: bool,
}

static STATE: Global<State> =
    Global::new(State { kind: Kind::Unknown, ports: [0; 2], nports: 0, halt: false });

impl State {
    fn add_port(&mut self, port: u32) {
        if self.nports < self.ports.len() {
            self.ports[self.nports] = port;
            self.nports += 1;
        }
    }

    fn ports(&self) -> &[u32] {
        &self.ports[..self.nports]
    }
}

fn state() -> &'static mut State {
    unsafe { STATE.get() }
}

pub fn kind() -> Kind {
    state().kind
}

pub fn name() -> &'static str {
    match kind() {
        Kind::Unknown => "unknown",
        Kind::QemuPvh => "pvh",
        Kind::XenPvh => "xen-pvh",
        Kind::XenPv => "xen-pv",
    }
}

const HVM_START_MAGIC: u32 = 0x336e_c578;

/// PVH entry, shared by QEMU and Xen; returns the kernel command line.
pub fn boot_pvh(start_info: u32) -> &'static [u8] {
    // hvm_start_info: magic @0, cmdline_paddr @24; the identity map covers it.
    let info = start_info as usize as *const u8;
    let cmdline = unsafe {
        if !info.is_null() && core::ptr::read_volatile(info as *const u32) == HVM_START_MAGIC {
            let paddr = core::ptr::read_volatile(info.add(24) as *const u64);
            if paddr != 0 && paddr < 1 << 32 {
                cmdline::c_string(paddr as *const u8, 4096)
            } else {
                &[]
            }
        } else {
            &[]
        }
    };
    match xen::cpuid_base() {
        Some(base) => boot_xen_pvh(base),
        None => boot_qemu(),
    }
    cmdline
}

fn boot_qemu() {
    let s = state();
    s.kind = Kind::QemuPvh;
    console::use_uart();
    interrupts::init();
    apic::init_local(SPURIOUS_VECTOR);
    apic::route_isa_irq(4, UART_VECTOR, apic::local_id());
    s.halt = true;
}

fn boot_xen_pvh(cpuid_base: u32) {
    let s = state();
    s.kind = Kind::XenPvh;
    xen::pvh::init_hypercall_page(cpuid_base);
    interrupts::init();
    let mapped = xen::pvh::map_shared_info();
    if let Some(ring) = xen::pvh::console() {
        s.add_port(ring.port());
        console::use_xen_ring(ring);
    }
    if let Some(port) = xen::pvh::xenstore() {
        s.add_port(port);
    }
    s.halt = mapped && xen::pvh::use_callback_vector(XEN_UPCALL_VECTOR);
    if s.halt {
        for &port in s.ports() {
            events::unmask(port);
        }
    }
}

/// Xen PV entry; returns the kernel command line.
///
/// # Safety
/// `start_info` must be the pointer Xen passed in %rsi.
pub unsafe fn boot_pv(start_info: *const u8) -> &'static [u8] {
    let s = state();
    s.kind = Kind::XenPv;
    let si = xen::pv::StartInfo::new(start_info);
    if !si.magic_ok() {
        hypercall::shutdown(hypercall::SHUTDOWN_CRASH);
    }
    xen::pv::map_shared_info(&si);
    if let Some(ring) = xen::pv::console(&si) {
        s.add_port(ring.port());
        console::use_xen_ring(ring);
    }
    if let Some(port) = xen::pv::xenstore(&si) {
        s.add_port(port);
    }
    si.cmdline()
}

/// Forgets notifications that have been seen; call before looking at the console
/// or the xenstore ring, so that anything arriving afterwards ends the next idle.
pub fn acknowledge() {
    let s = state();
    if matches!(s.kind, Kind::XenPvh | Kind::XenPv) {
        events::acknowledge(s.ports());
    }
}

/// Sleeps until something may have happened. Never busy-waits: a host runs many
/// idle guests.
pub fn idle() {
    let s = state();
    match s.kind {
        Kind::QemuPvh => cpu::wait_for_interrupt(),
        Kind::XenPvh if s.halt => cpu::wait_for_interrupt(),
        Kind::XenPvh | Kind::XenPv => events::poll(s.ports(), 0),
        Kind::Unknown => cpu::wait_for_interrupt(),
    }
}

pub fn shutdown(how: Shutdown) -> ! {
    console::flush();
    match kind() {
        Kind::XenPvh | Kind::XenPv => {
            // An exit code has no place in SCHEDOP_shutdown; the host sent it and
            // knows it. A crash is reported as such to the toolstack.
            let reason = match how {
                Shutdown::Exit(_) => hypercall::SHUTDOWN_POWEROFF,
                Shutdown::Crash => hypercall::SHUTDOWN_CRASH,
            };
            loop {
                hypercall::shutdown(reason);
                hypercall::yield_cpu();
            }
        }
        Kind::QemuPvh | Kind::Unknown => cpu::triple_fault(),
    }
}
