//! Test fixture for the runtime's XenStore client (not a product image). Payloads:
//! `read <path>` answers the value, `write <path> <value>` answers `OK`,
//! `watch <path>` registers a watch and answers `EVENT <path>` for the event xenstored
//! fires at once, `wait` answers `EVENT <path>` for the next one. Failures answer
//! `ERROR <errno>`; without Xen every payload answers `NO-XENSTORE`.

#![no_std]
#![no_main]

use xenops_rt::xen::xenstore::{self, Error, MAX_PAYLOAD};
use xenops_rt::Reply;

fn split(text: &[u8]) -> (&[u8], &[u8]) {
    match text.iter().position(|&b| b == b' ') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, b""),
    }
}

fn answer(reply: &mut Reply, result: Result<&[u8], Error>) {
    match result {
        Ok(text) => reply.push(text),
        Err(e) => {
            reply.push_str("ERROR ");
            reply.push(e.name());
        }
    }
}

fn event(reply: &mut Reply, store: &mut xenstore::XenStore) {
    let mut path = [0u8; MAX_PAYLOAD];
    match store.wait_event(&mut path) {
        Ok(n) => {
            reply.push_str("EVENT ");
            reply.push(&path[..n]);
        }
        Err(e) => answer(reply, Err(e)),
    }
}

fn run(payload: &[u8], reply: &mut Reply) {
    let Some(store) = xenstore::get() else {
        reply.push_str("NO-XENSTORE");
        return;
    };
    let (verb, rest) = split(payload);
    match verb {
        b"read" => {
            let mut value = [0u8; MAX_PAYLOAD];
            let result = store.read(rest, &mut value).map(|n| &value[..n]);
            answer(reply, result);
        }
        b"write" => {
            let (path, value) = split(rest);
            answer(reply, store.write(path, value).map(|_| &b"OK"[..]));
        }
        b"watch" => match store.watch(rest, b"probe") {
            Ok(()) => event(reply, store),
            Err(e) => answer(reply, Err(e)),
        },
        b"wait" => event(reply, store),
        _ => reply.push_str("ERROR EINVAL"),
    }
}

xenops_rt::app!(name = "xenstore-probe", version = env!("CARGO_PKG_VERSION"), run = run);
