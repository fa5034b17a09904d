//! The 32-bit builds of the demos (`--target i686-unknown-linux-gnu`),
//! for the tests and the tour: where they are, building them, and
//! whether this kernel can run them at all.
//!
//! A 64-bit kernel runs i386 programs through its IA-32 emulation
//! (`CONFIG_IA32_EMULATION`); a kernel built without it, or booted with
//! `ia32_emulation=0` (Linux 6.7 on), refuses them: execve fails with
//! ENOEXEC. rustup does not install a missing target on its own: the one
//! command that does is [`ADD_TARGET`].

use std::path::{Path, PathBuf};

use crate::elf::{self, Elf};
use std::process::Command;
use std::sync::OnceLock;

/// The Rust target of the 32-bit builds.
pub const TARGET: &str = "i686-unknown-linux-gnu";
/// What to run where the target is missing.
pub const ADD_TARGET: &str = "rustup target add i686-unknown-linux-gnu";
/// Where an i386 demo's ELF header lies: the classic i386 ET_EXEC
/// address, linker.ld's for i686 builds.
pub const I386_BASE: u64 = 0x0804_8000;
/// Under `ADDR_LIMIT_3GB` a 32-bit process's user space ends here, at
/// 3 GiB: `TASK_SIZE` of a 32-bit kernel with the default 3G/1G split.
pub const LIMIT_3GB: u64 = 0xc000_0000;
/// The end of a 32-bit process's user space on a 64-bit kernel:
/// `IA32_PAGE_OFFSET`, 4 GiB less one page, is `TASK_SIZE` for it
/// (`arch/x86/include/asm/page_64_types.h`, `TASK_SIZE_MAX` of compat).
pub const IA32_TASK_SIZE: u64 = 0xffff_e000;

/// The demos built for i686, in lecture order, and the execstack variants
/// of `stop`. The others are listed, with the reason, in
/// crates/sys/not-on-i686.txt.
pub const PORTED: &[&str] = &[
    "minimal", "stop", "brk", "stack", "mmap", "sections", "fixed", "filemap", "auxv", "vdso",
];
/// The demos that are not: built for i686 they only say so (build_demo.rs).
pub const NOT_PORTED: &[&str] = &["pie", "paging", "mprotect", "cow"];
/// The demos not built for i686 at all: their code uses what `sys` has
/// for x86-64 alone (`NAME (x86-64 only)` in not-on-i686.txt).
pub const X86_64_ONLY: &[&str] = &["threads", "guard", "tls"];

/// The workspace root.
pub use crate::workspace::root as workspace;

/// Whether the toolchain has the i686 standard library (`core` is all a
/// demo needs, but it comes with the target): its directory under
/// `rustc --print sysroot`.
pub fn target_installed() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc)
        .current_dir(workspace())
        .args(["--print", "sysroot"])
        .output()
    else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

/// `cargo build --release --target i686-unknown-linux-gnu -p DEMO…` into
/// `target_dir`; returns the directory of the binaries. A missing target
/// is an error that names [`ADD_TARGET`].
pub fn build(target_dir: &Path, demos: &[&str]) -> Result<PathBuf, String> {
    if !target_installed() {
        return Err(format!(
            "the Rust target {TARGET} is not installed; add it with: {ADD_TARGET}"
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace())
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(target_dir);
    for d in demos {
        cmd.args(["-p", d]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo to build the i686 demos: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the i686 demos failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(bin_dir(target_dir))
}

/// Where the i686 release binaries of `target_dir` are.
pub fn bin_dir(target_dir: &Path) -> PathBuf {
    target_dir.join(TARGET).join("release")
}

/// Whether this kernel runs i386 programs: runs `minimal 0` from `dir`.
/// Err names the reason: ENOEXEC means no IA-32 emulation.
pub fn can_run(dir: &Path) -> Result<(), String> {
    const ENOEXEC: i32 = 8;
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    match Command::new(dir.join("minimal")).arg("0").status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("the i386 build of minimal ended with {s}")),
        Err(e) if e.raw_os_error() == Some(ENOEXEC) => Err(format!(
            "this kernel cannot run 32-bit programs (execve: ENOEXEC): built without \
             IA-32 emulation (CONFIG_IA32_EMULATION){}",
            if cmdline.contains("ia32_emulation=0") {
                ", or booted with ia32_emulation=0 (it is, see /proc/cmdline)"
            } else {
                ", or booted with ia32_emulation=0"
            }
        )),
        Err(e) => Err(format!("cannot run the i386 build of minimal: {e}")),
    }
}

/// For a test: the directory of the i686 demos, built once per test
/// binary into the target directory the test was built in. `None` (and
/// a SKIPPED line) where the target is missing or the kernel runs no
/// 32-bit programs; under `CI=true` that fails the test instead.
///
/// As a user who may not write the target directory (CI's run as
/// nobody), the build fails and the binaries the earlier run built are
/// used, if they are all there.
pub fn demos_for_test() -> Option<PathBuf> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = DIR.get_or_init(|| {
        let target = test_target_dir();
        let mut all: Vec<&str> = PORTED.to_vec();
        all.extend(NOT_PORTED);
        // `sys` for its self-test binary (memcpy & co. on i386).
        all.push("sys");
        let dir = match build(&target, &all) {
            Ok(dir) => dir,
            // Only a user who may not build here uses what is there: for
            // anyone else a failed build is the error.
            Err(e) if writable(&target) => return Err(e),
            Err(e) => {
                let dir = bin_dir(&target);
                // `sys` is a package; its binary is sys-selftest.
                let bins = all.iter().filter(|d| **d != "sys");
                let every = bins
                    .chain(VARIANTS)
                    .chain(&["sys-selftest"])
                    .all(|d| dir.join(d).is_file());
                if !every {
                    return Err(e);
                }
                dir
            }
        };
        can_run(&dir).map(|()| dir)
    });
    match found {
        Ok(dir) => Some(dir.clone()),
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("i686 demos: {why}; CI=true: .ci/run must provide them");
            }
            eprintln!("SKIPPED: i686 demos: {why}");
            None
        }
    }
}

/// Whether this user may create files in `dir` (cargo must, to build).
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".mmm-probe-{}", std::process::id()));
    let ok = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// The execstack variants of `stop`, built with it.
pub const VARIANTS: &[&str] = &["stop-execstack", "stop-nognustack"];

/// The target directory of the running test binary (TARGET/debug/deps/x).
fn test_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace().join("target"))
}

/// The x86-64 twin of an i686 demo: TARGET/release/NAME, built with
/// `cargo build --release -p NAME…` into the same target directory.
pub fn x86_64_demos_for_test(demos: &[&str]) -> PathBuf {
    let target = test_target_dir();
    let built = crate::workspace::build_release(&target, demos).is_ok();
    let dir = target.join("release");
    assert!(
        built || demos.iter().all(|d| dir.join(d).is_file()),
        "cargo build --release {demos:?} failed"
    );
    dir
}

/// PT_GNU_STACK's flags (PF_R | PF_W …), if the file has one.
pub fn gnu_stack(bin: &Path) -> Option<u32> {
    let elf = Elf::read(bin).expect("an ELF file");
    elf.segments(elf::PT_GNU_STACK).next().map(|p| p.flags)
}

/// Checks an i386 demo as linked: ELFCLASS32, EM_386, ET_EXEC with its
/// first PT_LOAD at 0x08048000, `loads` PT_LOADs in the W^X order
/// (r--, r-x, rw-), nothing else but PT_GNU_STACK, which is RW.
pub fn assert_i386_exec(bin: &Path, loads: usize) -> Elf {
    let name = bin.display();
    let elf = Elf::read(bin).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(elf.class, elf::ELFCLASS32, "{name}: ELFCLASS32");
    assert_eq!(elf.machine, elf::EM_386, "{name}: EM_386");
    assert_eq!(elf.kind, elf::ET_EXEC, "{name}: ET_EXEC");
    let l: Vec<_> = elf.segments(elf::PT_LOAD).collect();
    assert_eq!(l.len(), loads, "{name}: PT_LOADs {l:?}");
    assert_eq!(l[0].vaddr, I386_BASE, "{name}: at 0x08048000");
    let order = [elf::PF_R, elf::PF_R | elf::PF_X, elf::PF_R | elf::PF_W];
    let flags: Vec<u32> = l.iter().map(|p| p.flags).collect();
    assert_eq!(flags, order[..loads], "{name}: the W^X order");
    crate::testing::assert_w_xor_x(&name.to_string(), &elf);
    let others = elf
        .programs
        .iter()
        .filter(|p| p.kind != elf::PT_LOAD && p.kind != elf::PT_GNU_STACK)
        .count();
    assert_eq!(others, 0, "{name}: nothing but PT_LOAD and PT_GNU_STACK");
    elf
}

/// The numbers and names of `strace -n`'s lines (`[ 162] nanosleep(…`):
/// the numbers are those of the process's own syscall table, i386's for
/// an i386 program (but for the execve, entered from the 64-bit side).
pub fn strace_numbers(strace: &Path, bin: &str, args: &[&str]) -> Vec<(u32, String)> {
    crate::testing::strace_lines(strace, &["-n"], bin, args)
        .0
        .iter()
        .filter(|l| crate::testing::is_a_call(l))
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?;
            let (number, call) = rest.split_once(']')?;
            let name = call.trim_start().split('(').next()?;
            let ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            Some((number.trim().parse().ok()?, name.to_string())).filter(|_| ok)
        })
        .collect()
}

/// The personality of `setarch i386 --3gb`, for [`walk_ok_how`].
pub const THREE_GB: crate::Spawn = crate::Spawn {
    no_aslr: false,
    limit_3gb: true,
};

/// [`crate::testing::walk_ok`] of `dir/name args`, started as `how` says.
pub fn walk_ok_how(
    dir: &Path,
    name: &str,
    args: &[&str],
    stops: usize,
    how: crate::Spawn,
) -> crate::testing::Walk {
    let bin = dir.join(name);
    let mut cmd = Command::new(&bin);
    cmd.args(args);
    let w = crate::testing::walk_how(cmd, how, |_, _| {});
    assert_eq!(
        (&w.end, w.stops.len()),
        (&crate::Event::Exited(0), stops),
        "{name} {args:?}: end and number of stops; stderr:\n{}",
        w.stderr
    );
    w
}

#[cfg(test)]
mod tests {
    /// The lists here are the ones in crates/sys/not-on-i686.txt.
    #[test]
    fn not_ported_is_the_list_build_demo_reads() {
        let listed: Vec<&str> = include_str!("../../sys/not-on-i686.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(": ").map(|(name, _)| name))
            .collect();
        let (only, not): (Vec<&str>, Vec<&str>) =
            listed.iter().partition(|n| n.ends_with(" (x86-64 only)"));
        assert_eq!(not, super::NOT_PORTED);
        let only: Vec<&str> = only.iter().map(|n| n.split(' ').next().unwrap()).collect();
        assert_eq!(only, super::X86_64_ONLY);
    }
}
