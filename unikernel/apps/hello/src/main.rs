//! Greets its payload: `ARGS t hello` -> `RESULT t hello, hello`; no payload greets
//! the world.

#![no_std]
#![no_main]

use xenops_rt::Reply;

fn run(payload: &[u8], reply: &mut Reply) {
    reply.push_str("hello, ");
    if payload.is_empty() {
        reply.push_str("world");
    } else {
        reply.push(payload);
    }
}

xenops_rt::app!(name = "hello", version = env!("CARGO_PKG_VERSION"), run = run);
