//! `vdso` on the real binary: the time it prints, the vDSO it found (as
//! /proc/PID/maps shows it at the stop), and under strace which clock
//! reads were syscalls. The ELF reader itself is also run here, on this
//! test's own vDSO.

use procfs::Event;
use procfs::testing::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[allow(dead_code)]
#[path = "../src/elf.rs"]
mod elf;

const BIN: &str = env!("CARGO_BIN_EXE_vdso");

/// Tolerance between the demo's clock and ours: it reads CLOCK_REALTIME
/// between our two readings; a second of slack for a slow machine.
const SLACK: Duration = Duration::from_secs(1);

/// The syscalls that read a clock (arch/x86/entry/syscalls/syscall_64.tbl).
const CLOCK_SYSCALLS: &[&str] = &["clock_gettime", "gettimeofday", "time"];

fn field<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {out}"))
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.strip_prefix("0x").expect(s), 16).unwrap()
}

/// Runs `vdso args` to its one stop and end; checks the printed time
/// against ours.
fn run_checked(args: &[&str]) -> Walk {
    let before = SystemTime::now();
    let w = walk_ok(BIN, args, 1);
    let after = SystemTime::now();
    // time 1767225600.123456789 from …
    let time = field(&w.stdout, "time ");
    let (secs, rest) = time.split_once('.').expect(time);
    let nanos = &rest[..9];
    assert!(rest[9..].starts_with(" from "), "{time}");
    let t = UNIX_EPOCH + Duration::new(secs.parse().unwrap(), nanos.parse().unwrap());
    assert!(
        before - SLACK <= t && t <= after + SLACK,
        "printed {t:?}, ours {before:?}..{after:?}"
    );
    w
}

#[test]
fn finds_the_vdso_and_reads_the_time_through_it() {
    let w = run_checked(&["--calls", "1000"]);
    let stop = &w.stops[0];
    // vdso 0x7ffd… 5410 bytes, 14 symbols
    let line = field(&w.stdout, "vdso 0x");
    let words: Vec<&str> = line.split(' ').collect();
    let base = hex(&format!("0x{}", words[0]));
    let size: u64 = words[1].parse().unwrap();
    let vdso = stop.find("[vdso]").expect("[vdso] in maps");
    assert_eq!(base, vdso.start, "AT_SYSINFO_EHDR is the start of [vdso]");
    assert_eq!(
        size.div_ceil(4096) * 4096,
        vdso.size(),
        "image fills [vdso]"
    );
    assert!(vdso.executable() && !vdso.writable(), "{vdso:?}");
    // [vvar] (and on Linux 6.13+ [vvar_vclock]) lie right below [vdso].
    let vvar = stop.find("[vvar]").expect("[vvar] in maps");
    assert!(vvar.readable() && !vvar.writable() && !vvar.executable());
    let below = stop
        .maps
        .iter()
        .filter(|m| m.path.starts_with("[vvar"))
        .map(|m| m.end)
        .max()
        .unwrap();
    assert_eq!(below, vdso.start, "the vvar pages end where [vdso] starts");
    // The functions vdso(7) lists for x86-64, all in [vdso], version LINUX_2.6.
    for name in [
        "__vdso_clock_gettime",
        "__vdso_gettimeofday",
        "__vdso_time",
        "__vdso_getcpu",
    ] {
        let line = w
            .stdout
            .lines()
            .find(|l| l.ends_with(&format!(" {name}@LINUX_2.6")))
            .unwrap_or_else(|| panic!("{name} not printed: {}", w.stdout));
        let addr = hex(line.split(' ').nth(1).unwrap());
        assert!(vdso.contains(addr), "{line}");
    }
    assert!(field(&w.stdout, "time ").ends_with(" from __vdso_clock_gettime"));
    // cost vdso 22 ns/call, syscall 173 ns/call, ratio 7.8 (1000 calls)
    let cost = field(&w.stdout, "cost vdso ");
    let w2: Vec<&str> = cost
        .split([' ', ',', '('])
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        (w2[1], w2[2], w2[4], w2[5], w2[8]),
        ("ns/call", "syscall", "ns/call", "ratio", "calls)"),
        "{cost}"
    );
    let (fast, slow): (u64, u64) = (w2[0].parse().unwrap(), w2[3].parse().unwrap());
    let (whole, tenth) = w2[6].split_once('.').expect(cost);
    let ratio = whole.parse::<u64>().unwrap() * 10 + tenth.parse::<u64>().unwrap();
    // Only the arithmetic is checked, not the speed: no timed tests. The
    // ns/call are rounded down, the ratio comes from the exact totals.
    let expected = slow * 10 / fast.max(1);
    assert!(
        ratio.abs_diff(expected) <= expected / 4 + 2,
        "ratio {ratio} from {slow}/{fast}: {cost}"
    );
    assert_eq!(w2[7], "1000", "{cost}");
    assert!(
        w.stderr.contains(&format!("[vdso] at {base:#x}")),
        "{}",
        w.stderr
    );
}

/// The syscall names of `vdso args` under strace.
fn traced(args: &[&str]) -> Option<Vec<String>> {
    let strace = tool("strace")?;
    Some(strace_names(&strace, BIN, args))
}

fn clocksource() -> String {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .unwrap_or_default()
}

#[test]
fn calls_0_makes_no_clock_syscall() {
    let Some(names) = traced(&["-q", "--calls", "0"]) else {
        return;
    };
    let clocks: Vec<&String> = names
        .iter()
        .filter(|n| CLOCK_SYSCALLS.contains(&n.as_str()))
        .collect();
    assert!(
        clocks.is_empty(),
        "clock syscalls {clocks:?}; the vDSO falls back to them when the clock \
         source ({}) cannot be read from user space",
        clocksource().trim()
    );
    let others: Vec<&String> = names.iter().filter(|n| *n != "write").collect();
    assert_eq!(others, ["execve", "getpid", "kill", "exit"]);
}

#[test]
fn calls_1000_makes_exactly_1000_clock_syscalls() {
    let Some(names) = traced(&["-q", "--calls", "1000"]) else {
        return;
    };
    let count = |name: &str| names.iter().filter(|n| *n == name).count();
    assert_eq!(count("clock_gettime"), 1000, "{}", clocksource().trim());
    assert_eq!(count("gettimeofday") + count("time"), 0);
}

#[test]
fn without_a_vdso_it_says_so_and_uses_the_syscall() {
    // --no-vdso pretends that auxv has no AT_SYSINFO_EHDR, as on a kernel
    // booted with vdso=0: the same code path.
    let w = run_checked(&["--no-vdso", "--calls", "10"]);
    assert!(
        w.stdout
            .contains("vdso: none, auxv has no AT_SYSINFO_EHDR: using the syscall\n"),
        "{}",
        w.stdout
    );
    assert!(field(&w.stdout, "time ").ends_with(" from the clock_gettime syscall"));
    assert!(field(&w.stdout, "cost syscall ").ends_with(" ns/call (10 calls)"));
    assert!(!w.stdout.contains("function "), "{}", w.stdout);
    let Some(names) = traced(&["-q", "--no-vdso", "--calls", "10"]) else {
        return;
    };
    // One for the time, 10 timed, 2 to time them.
    let count = names.iter().filter(|n| *n == "clock_gettime").count();
    assert_eq!(count, 1 + 10 + 2, "{names:?}");
}

#[test]
fn quiet_silences_only_the_narration() {
    let w = walk_ok(BIN, &["-q", "--calls", "0"], 1);
    assert_eq!(w.stderr, "");
    assert!(w.stdout.contains("\ntime "), "{}", w.stdout);
    assert!(!w.stdout.contains("cost"), "--calls 0 times nothing");
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["extra"], "unexpected argument 'extra'");
    assert_usage_error(BIN, &["--calls"], "missing value after '--calls'");
    assert_usage_error(BIN, &["--calls", "ten"], "not a number: 'ten'");
    assert_usage_error(BIN, &["--calls", "-1"], "'-1'");
}

#[test]
fn help_goes_to_stdout() {
    let (end, out, err) = run(BIN, &["--help"]);
    assert_eq!(end, Event::Exited(0));
    assert!(out.starts_with("usage: vdso"), "{out}");
    assert_eq!(err, "");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

unsafe extern "C" {
    fn getauxval(kind: u64) -> u64;
}

/// `AT_SYSINFO_EHDR`: arch/x86/include/uapi/asm/auxvec.h.
const AT_SYSINFO_EHDR: u64 = 33;

/// The demo's ELF reader, on this test process's own vDSO.
#[test]
fn the_elf_reader_finds_functions_and_rejects_what_is_not_there() {
    // SAFETY: getauxval only reads our auxiliary vector.
    let base = unsafe { getauxval(AT_SYSINFO_EHDR) } as usize;
    assert_ne!(base, 0, "this test needs a vDSO");
    // SAFETY: AT_SYSINFO_EHDR is our vDSO, mapped for our whole life.
    let image = unsafe { elf::Image::new(base) }.expect("our vDSO is readable");
    let maps = procfs::maps::read(std::process::id()).unwrap();
    let vdso = procfs::maps::find(&maps, "[vdso]").unwrap();
    let f = image
        .lookup(b"__vdso_clock_gettime", b"LINUX_2.6")
        .expect("__vdso_clock_gettime@LINUX_2.6");
    assert!(vdso.contains(f as u64));
    assert_eq!(
        image.lookup(b"clock_gettime", b"LINUX_2.6"),
        Some(f),
        "alias"
    );
    assert_eq!(image.lookup(b"__vdso_clock_gettime", b"LINUX_9.9"), None);
    assert_eq!(image.lookup(b"__vdso_no_such_function", b"LINUX_2.6"), None);
    // SAFETY: a readable page that holds no ELF header: our own stack.
    let local = 0u64;
    let page = (&local as *const u64 as usize) & !0xfff;
    assert!(unsafe { elf::Image::new(page) }.is_none());
}
