//! `tls` on the real binary: a PT_TLS segment in this demo only, the
//! thread pointer (from the demo and from ptrace's fs_base) in [heap] with
//! the thread-locals just below it, and two threads with two copies.

use procfs::elf::{self, Elf};
use procfs::testing::*;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tls");
/// .tdata (COUNTER, 8 bytes) and .tbss (SCRATCH, 8 bytes).
const TDATA: u64 = 8;
const TLS_MEMSZ: u64 = 16;

/// The `NAME[=VALUE] PLACE 0xADDR` line for `name`: (value, place, addr).
fn printed(stdout: &str, name: &str) -> (Option<u64>, String, u64) {
    for line in stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (head, value) = match f[0].split_once('=') {
            Some((h, v)) => (h, Some(v.parse().unwrap())),
            None => (f[0], None),
        };
        if head == name {
            let addr = u64::from_str_radix(f[2].strip_prefix("0x").unwrap(), 16).unwrap();
            return (value, f[1].to_string(), addr);
        }
    }
    panic!("{name} in {stdout}")
}

#[test]
fn the_thread_pointer_and_its_variables_live_in_the_heap() {
    let w = walk_ok(BIN, &[], 1);
    let (_, place, tp) = printed(&w.stdout, "tp");
    let heap = w.stops[0].find("[heap]").expect("[heap]");
    assert_eq!(place, "heap");
    assert!(heap.contains(tp), "tp {tp:#x} in {heap:?}");
    // Variant II: the block lies below tp, .tdata first, then .tbss.
    let (counter, _, at) = printed(&w.stdout, "COUNTER");
    assert_eq!(
        (counter, at),
        (Some(43), tp - TLS_MEMSZ),
        "42 from .tdata, plus 1"
    );
    let (scratch, _, at) = printed(&w.stdout, "SCRATCH");
    assert_eq!(
        (scratch, at),
        (Some(0), tp - TLS_MEMSZ + TDATA),
        ".tbss is zero"
    );
    assert!(w.stderr.contains("%fs set"), "{}", w.stderr);
}

#[test]
fn two_threads_two_addresses_two_values() {
    let w = walk_ok(BIN, &["-q", "--threads"], 2);
    let heap = w.stops[1].find("[heap]").expect("[heap]").clone();
    let (mine, _, at) = printed(&w.stdout, "COUNTER");
    let (theirs, place, there) = printed(&w.stdout, "t1.COUNTER");
    assert_eq!((mine, theirs), (Some(43), Some(142)), "42 + 1 and 42 + 100");
    assert_ne!(at, there);
    assert_eq!(place, "heap");
    assert!(heap.contains(at) && heap.contains(there), "{heap:?}");
    // Ours is still 43 after the other thread wrote its own.
    assert!(
        w.stdout.ends_with(&format!("COUNTER=43 heap {at:#x}\n")),
        "{}",
        w.stdout
    );
}

#[test]
fn the_kernel_got_the_same_thread_pointers() {
    // Main thread: fs_base from ptrace at the stop. Second thread: the
    // `tls=` clone argument, as strace decodes it.
    let (fs_base, stdout, heap) = fs_base_at_first_stop(&["-q"]);
    assert_eq!(printed(&stdout, "tp").2, fs_base);
    assert!(heap.contains(fs_base), "{fs_base:#x} in {heap:?}");

    let Some(strace) = tool("strace") else { return };
    let (lines, stdout) = strace_lines(&strace, &[], BIN, &["-q", "--threads"]);
    let clone = lines
        .iter()
        .find(|l| l.starts_with("clone("))
        .expect("a clone line");
    let tls = clone
        .split("tls=0x")
        .nth(1)
        .and_then(|t| {
            u64::from_str_radix(t.split(|c: char| !c.is_ascii_hexdigit()).next()?, 16).ok()
        })
        .unwrap_or_else(|| panic!("tls= in {clone}"));
    // The thread's COUNTER lies TLS_MEMSZ below its thread pointer.
    assert_eq!(printed(&stdout, "t1.COUNTER").2, tls - TLS_MEMSZ, "{clone}");
}

unsafe extern "C" {
    fn ptrace(request: i32, ...) -> i64;
}
/// `include/uapi/linux/ptrace.h`.
const PTRACE_CONT: i32 = 7;
const PTRACE_GETREGS: i32 = 12;
/// `struct user_regs_struct` (arch/x86/include/asm/user_64.h): 27 words,
/// `fs_base` the 22nd.
const USER_REGS_WORDS: usize = 27;
const FS_BASE: usize = 21;

/// Runs `tls args` under ptrace to its own SIGSTOP, reads its fs_base and
/// [heap] there, then lets it run to the end (without the stop).
fn fs_base_at_first_stop(args: &[&str]) -> (u64, String, procfs::Mapping) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped());
    let child = spawn_traced(cmd); // stopped after execve
    let pid = child.id() as i32;
    // SAFETY: PTRACE_CONT with no signal resumes the stopped child.
    assert_eq!(unsafe { ptrace(PTRACE_CONT, pid, 0usize, 0usize) }, 0);
    wait_stopped(pid, procfs::child::SIGSTOP); // its kill(getpid(), SIGSTOP)
    let heap = procfs::maps::read(pid as u32).unwrap();
    let heap = procfs::maps::find(&heap, "[heap]").expect("[heap]").clone();
    let mut regs = [0u64; USER_REGS_WORDS];
    // SAFETY: GETREGS writes one user_regs_struct; CONT with signal 0
    // drops the SIGSTOP, so the demo runs on to its end.
    unsafe {
        assert_eq!(ptrace(PTRACE_GETREGS, pid, 0usize, regs.as_mut_ptr()), 0);
        assert_eq!(ptrace(PTRACE_CONT, pid, 0usize, 0usize), 0);
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    (regs[FS_BASE], String::from_utf8(out.stdout).unwrap(), heap)
}

#[test]
fn pt_tls_in_this_demo_and_in_no_other() {
    let elf = assert_static_exec(BIN);
    let tls: Vec<_> = elf.segments(elf::PT_TLS).collect();
    assert_eq!(tls.len(), 1, "one PT_TLS");
    assert_eq!((tls[0].filesz, tls[0].memsz), (TDATA, TLS_MEMSZ));
    // The other demos, built next to this one (`cargo test` builds them
    // all before it runs any test).
    let dir = Path::new(BIN).parent().unwrap();
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(crates).unwrap() {
        let krate = entry.unwrap().path();
        let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap_or_default();
        let name = krate.file_name().unwrap().to_str().unwrap().to_string();
        if name == "tls" || !manifest.lines().any(|l| l.starts_with("sys = ")) {
            continue;
        }
        let bin = dir.join(&name);
        if bin.is_file() {
            let other = Elf::read(&bin).unwrap();
            assert_eq!(
                other.segments(elf::PT_TLS).count(),
                0,
                "{name} has a PT_TLS"
            );
            checked.push(name);
        }
    }
    if checked.len() < 3 {
        let why = format!("only {checked:?} are built next to tls");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED in part: {why}; `cargo build --workspace` first");
    }
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    let first = [
        "execve",
        "brk",
        "brk",
        "arch_prctl",
        "write",
        "write",
        "write",
        "getpid",
        "kill",
    ];
    assert_syscalls(BIN, &["-q"], &[&first[..], &["exit"]].concat());
    let second = ["clone", "futex", "write", "getpid", "kill", "exit"];
    assert_syscalls(
        BIN,
        &["-q", "--threads"],
        &[&first[..], &second[..]].concat(),
    );
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 1);
    assert_eq!(w.stdout.lines().count(), 3);
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["--thread"], "unknown option '--thread'");
    assert_usage_error(BIN, &["2"], "unexpected argument '2'");
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
