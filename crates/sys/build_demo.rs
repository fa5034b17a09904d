//! The build script of every demo (each demo's Cargo.toml says
//! `build = "../sys/build_demo.rs"`), in the manner of cortex-m-rt: a
//! linker script plus the arguments that use it.
//!
//! Link arguments go to the demo's binary only (`rustc-link-arg-bins`):
//! put into `.cargo/config.toml` they would also reach build scripts and
//! std crates, and break them.
//!
//! rustc compiles every x86-64 demo as position-independent code (the
//! default of x86_64-unknown-linux-gnu); only this link step decides
//! between "fixed at 0x400000" (ET_EXEC, every demo but one) and
//! "anywhere" (ET_DYN, the `pie` demo). The i686 builds
//! (`--target i686-unknown-linux-gnu`) are all ET_EXEC at 0x08048000,
//! compiled with `relocation-model=static` (.cargo/config.toml, a code
//! generation option, no link argument): PIC on i386 costs a GOT and a
//! `call` to find it in every function, 100 to 400 bytes a demo.

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

/// The execstack variants of `stop` (crates/stop/src/bin/): one program
/// with an executable stack as seed 001 had it, linked two ways, for both
/// architectures. These two are the only executables of the kit with an
/// executable stack, on purpose.
///
/// - `stop-nognustack`: no PT_GNU_STACK at all, so the kernel decides
///   (`arch/x86/include/asm/elf.h`, `elf_read_implies_exec`): an i386
///   program gets an rwxp [stack] and READ_IMPLIES_EXEC (every PROT_READ
///   mapping executable); an x86-64 one gets neither since Linux 5.8.
/// - `stop-execstack`: PT_GNU_STACK RWX (`-z execstack`): an rwxp
///   [stack] on both, and nothing else executable.
const VARIANTS: &[Variant] = &[
    Variant {
        bin: "stop-nognustack",
        segments: &[
            "rodata PT_LOAD FILEHDR PHDRS FLAGS(4);",
            "text PT_LOAD FLAGS(5);",
            "data PT_LOAD FLAGS(6);",
        ],
        stack: &[],
    },
    Variant {
        bin: "stop-execstack",
        segments: &[
            "rodata PT_LOAD FILEHDR PHDRS FLAGS(4);",
            "text PT_LOAD FLAGS(5);",
            "data PT_LOAD FLAGS(6);",
            "stack PT_GNU_STACK FLAGS(7);",
        ],
        stack: &["-Wl,-z,execstack"],
    },
];

/// One more binary of a demo's package, linked with other segments.
struct Variant {
    bin: &'static str,
    segments: &'static [&'static str],
    /// The linker's stack option, if any (`-z execstack`).
    stack: &'static [&'static str],
}

/// The demos whose lesson does not carry over to i386 (yet), and why:
/// `NAME: why` lines of not-on-i686.txt, the one list the tests, the
/// tour and the scripts read too. Built for i686 such a demo says so
/// here, at build time, and its binary only prints that it is not
/// ported and exits 1 (`_start_unported`, arch/x86.rs).
const NOT_ON_I386: &str = include_str!("not-on-i686.txt");

/// The marker of a demo that is not built for i686 at all.
const X86_64_ONLY: &str = " (x86-64 only)";

/// `(name, why, x86-64 only)` of `package`, if it is not ported.
fn not_on_i386(package: &str) -> Option<(&'static str, &'static str, bool)> {
    NOT_ON_I386
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(": "))
        .map(|(name, why)| match name.strip_suffix(X86_64_ONLY) {
            Some(name) => (name, why, true),
            None => (name, why, false),
        })
        .find(|(name, _, _)| *name == package)
}
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
    let package = env("CARGO_PKG_NAME");
    // The target's architecture, not the build script's: "x86_64" or "x86".
    let i386 = env("CARGO_CFG_TARGET_ARCH") == "x86";
    let unwind = if env("PROFILE") == "debug" {
        KEEP_UNWIND
    } else {
        DROP_UNWIND
    };
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=../sys/build_demo.rs");
    println!("cargo:rerun-if-changed=../sys/not-on-i686.txt");

    let mut args = vec![
        // No crt1.o and no libc: crates/sys provides _start and the rest.
        "-nostartfiles".to_string(),
        "-nostdlib".into(),
        // No PT_INTERP: the kernel starts us directly.
        "-Wl,--no-dynamic-linker".into(),
        "-Wl,--build-id=none".into(),
        // No RELRO segment: nothing would mprotect it read-only after start.
        "-Wl,-z,norelro".into(),
        "-Wl,-z,max-page-size=4096".into(),
        format!("-Wl,-T,{}", script.display()),
    ];
    if i386 {
        // linker.ld links at 0x08048000, the classic i386 address.
        args.push("-Wl,--defsym=__sys_i386=1".into());
    }
    let unported = not_on_i386(&package).filter(|_| i386);
    if let Some((name, why, true)) = unported {
        panic!("{name} is x86-64 only and not built for i686: {why} (crates/sys/not-on-i686.txt)");
    }
    if let Some((name, why, _)) = unported {
        println!(
            "cargo:warning={name} is not ported to i386 (i686): {why}; this build only says so when run"
        );
        args.push("-Wl,-e,_start_unported".into());
    }
    if package == "pie" && unported.is_none() {
        args.extend([
            // ET_DYN with .dynamic and .rela.dyn, applied by our own
            // _start_pie before any Rust code runs (crates/sys/src/arch/x86_64.rs).
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

    // Each binary gets its own directory for the two INCLUDEd files, found
    // through -L: the package's own binaries share OUT_DIR, a variant has
    // OUT_DIR/BIN with its own phdrs.ld.
    let variants: Vec<&Variant> = VARIANTS
        .iter()
        .filter(|v| v.bin.starts_with(&format!("{package}-")))
        .collect();
    let write_scripts = |dir: &Path, segments: &[&str]| {
        std::fs::create_dir_all(dir).expect("a directory in OUT_DIR");
        std::fs::write(dir.join("unwind.ld"), unwind).expect("write unwind.ld");
        std::fs::write(dir.join("phdrs.ld"), phdrs(segments)).expect("write phdrs.ld");
    };
    let mut segments = SEGMENTS.to_vec();
    if TLS_DEMOS.contains(&package.as_str()) {
        segments.push(TLS_SEGMENT);
    }
    write_scripts(Path::new(&out), &segments);
    let own = |extra: &[String]| -> Vec<String> {
        let mut all = args.clone();
        all.extend_from_slice(extra);
        all
    };
    // PT_GNU_STACK RW: [stack] is not executable.
    let normal = own(&["-Wl,-z,noexecstack".into(), format!("-Wl,-L,{out}")]);
    if variants.is_empty() {
        for arg in normal {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
        return;
    }
    for arg in &normal {
        println!("cargo:rustc-link-arg-bin={package}={arg}");
    }
    for v in variants {
        let dir = Path::new(&out).join(v.bin);
        write_scripts(&dir, v.segments);
        let mut extra: Vec<String> = v.stack.iter().map(|s| s.to_string()).collect();
        extra.push(format!("-Wl,-L,{}", dir.display()));
        for arg in own(&extra) {
            println!("cargo:rustc-link-arg-bin={}={arg}", v.bin);
        }
    }
}
