//! Test fixture for the runtime's failure paths (not a product image): `ARGS t panic`
//! panics in Rust, `ARGS t fault` touches an address outside the identity map and
//! takes a page fault, `ARGS t triple` loads an empty IDT and faults, so the CPU
//! cannot deliver the exception (a triple fault: no PANIC, Xen shuts the domain down
//! with reason reboot); any other payload is echoed back.

#![no_std]
#![no_main]

use xenops_rt::Reply;

fn run(payload: &[u8], reply: &mut Reply) {
    match payload {
        b"panic" => panic!("crash app asked to panic"),
        b"fault" => {
            // 64 GiB: canonical, but far beyond the 4 GiB the runtime maps.
            let value = unsafe { core::ptr::read_volatile(0x10_0000_0000 as *const u64) };
            reply.push_byte(value as u8);
        }
        b"triple" => xenops_rt::cpu::triple_fault(),
        other => reply.push(other),
    }
}

xenops_rt::app!(name = "crash", version = env!("CARGO_PKG_VERSION"), run = run);
