//! The build script of every ET_EXEC demo (each demo's Cargo.toml says
//! `build = "../sys/build_demo.rs"`).
//!
//! Link arguments go to the demo's binary only (`rustc-link-arg-bins`):
//! put into `.cargo/config.toml` they would also reach build scripts and
//! std crates, and break them.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = Path::new(&manifest).join("../../linker.ld");
    let script = script
        .canonicalize()
        .expect("linker.ld at the workspace root");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=../sys/build_demo.rs");
    for arg in [
        // No crt1.o and no libc: crates/sys provides _start and the rest.
        "-nostartfiles",
        "-nostdlib",
        // ET_EXEC at the address linker.ld gives, no interpreter, no .dynamic.
        "-static",
        "-no-pie",
        "-Wl,--no-dynamic-linker",
        "-Wl,--build-id=none",
        "-Wl,-z,noexecstack",
        "-Wl,-z,norelro",
        "-Wl,-z,max-page-size=4096",
        &format!("-Wl,-T,{}", script.display()),
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
