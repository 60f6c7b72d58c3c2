// The apps link with runtime/link.ld (see .cargo/config.toml), which cargo does not
// track: rebuilding the runtime when it changes makes every app relink.
fn main() {
    println!("cargo:rerun-if-changed=link.ld");
}
