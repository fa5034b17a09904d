//! The build script of every demo (each demo's Cargo.toml says
//! `build = "../sys/build_demo.rs"`), in the manner of cortex-m-rt: a
//! linker script plus the arguments that use it.
//!
//! Link arguments go to the demo's binary only (`rustc-link-arg-bins`):
//! put into `.cargo/config.toml` they would also reach build scripts and
//! std crates, and break them.
//!
//! rustc compiles every demo as position-independent code (the default
//! of x86_64-unknown-linux-gnu); only this link step decides between
//! "fixed at 0x400000" (ET_EXEC, every demo but one) and "anywhere"
//! (ET_DYN, the `pie` demo).

use std::path::Path;

/// Unwinding tables, kept in the dev build only: gdb's `bt` needs them
/// (that build has no frame pointers), a release demo never unwinds
/// (panic = "abort") and is smaller without. linker.ld INCLUDEs this.
const KEEP_UNWIND: &str = "
    .eh_frame : { KEEP(*(.eh_frame)) } :rodata
    .gcc_except_table : { *(.gcc_except_table .gcc_except_table.*) } :rodata
";
const DROP_UNWIND: &str = "
    /DISCARD/ : { *(.eh_frame .eh_frame_hdr .gcc_except_table .gcc_except_table.*) }
";

/// The segments of a demo (linker.ld INCLUDEs this as phdrs.ld): three
/// W^X PT_LOADs and a PT_GNU_STACK of RW. FLAGS are PF_R = 4, PF_W = 2,
/// PF_X = 1 (elf(5)).
const SEGMENTS: &[&str] = &[
    "rodata PT_LOAD FILEHDR PHDRS FLAGS(4);",
    "text PT_LOAD FLAGS(5);",
    "data PT_LOAD FLAGS(6);",
    "stack PT_GNU_STACK FLAGS(6);",
];

/// PT_TLS, for the demos with thread-locals (`.tdata`, `.tbss`) only:
/// lld keeps a named PT_TLS even when empty, and 56 bytes of an empty
/// program header would put `minimal` over its 1 KiB. linker.ld puts
/// .tdata and .tbss into it (`:data :tls`); in a demo without this line a
/// thread-local is a link error ("section header 'tls' is not listed").
const TLS_SEGMENT: &str = "tls PT_TLS FLAGS(4);";
const TLS_DEMOS: &[&str] = &["tls"];

/// The PHDRS block of linker.ld, one segment a line.
fn phdrs(segments: &[&str]) -> String {
    let mut text = String::from("PHDRS\n{\n");
    for s in segments {
        text += &format!("    {s}\n");
    }
    text + "}\n"
}

fn main() {
    let env = |name: &str| std::env::var(name).expect("cargo sets it for build scripts");
    let root = Path::new(&env("CARGO_MANIFEST_DIR")).join("../..");
    let script = root
        .join("linker.ld")
        .canonicalize()
        .expect("linker.ld at the workspace root");
    let out = env("OUT_DIR");
    let unwind = if env("PROFILE") == "debug" {
        KEEP_UNWIND
    } else {
        DROP_UNWIND
    };
    std::fs::write(Path::new(&out).join("unwind.ld"), unwind).expect("write unwind.ld");
    let mut segments = SEGMENTS.to_vec();
    if TLS_DEMOS.contains(&env("CARGO_PKG_NAME").as_str()) {
        segments.push(TLS_SEGMENT);
    }
    std::fs::write(Path::new(&out).join("phdrs.ld"), phdrs(&segments)).expect("write phdrs.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=../sys/build_demo.rs");

    let mut args = vec![
        // No crt1.o and no libc: crates/sys provides _start and the rest.
        "-nostartfiles".to_string(),
        "-nostdlib".into(),
        // No PT_INTERP: the kernel starts us directly.
        "-Wl,--no-dynamic-linker".into(),
        "-Wl,--build-id=none".into(),
        // PT_GNU_STACK RW: [stack] is not executable.
        "-Wl,-z,noexecstack".into(),
        // No RELRO segment: nothing would mprotect it read-only after start.
        "-Wl,-z,norelro".into(),
        "-Wl,-z,max-page-size=4096".into(),
        format!("-Wl,-L,{out}"),
        format!("-Wl,-T,{}", script.display()),
    ];
    if env("CARGO_PKG_NAME") == "pie" {
        args.extend([
            // ET_DYN with .dynamic and .rela.dyn, applied by our own
            // _start_pie before any Rust code runs (crates/sys/src/arch.rs).
            "-static-pie".into(),
            "-Wl,-e,_start_pie".into(),
            // linker.ld links at 0 instead of 0x400000.
            "-Wl,--defsym=__sys_pie=1".into(),
            // Only the GNU hash table: one section fewer than "both".
            "-Wl,--hash-style=gnu".into(),
        ]);
    } else {
        // ET_EXEC at the address linker.ld gives; no .dynamic at all.
        args.extend(["-static".into(), "-no-pie".into()]);
    }
    for arg in args {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
