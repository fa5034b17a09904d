//! `guard` on the real binary: the alternate signal stack, the restorer
//! on the signal frame, and where [stack] stops growing: at RLIMIT_STACK,
//! or a stack guard gap above an accessible neighbour.

use procfs::elf::Elf;
use procfs::testing::*;
use procfs::{Event, Mapping};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_guard");
const KIB: u64 = 1024;
const PAGE: u64 = 4096;
/// The demo's alternate stack and default limit.
const ALTSTACK: u64 = 32 * KIB;
const LIMIT: u64 = 256 * KIB;

/// The `NAME PLACE 0xADDR` value printed for `name`.
fn printed(stdout: &str, name: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} in {stdout}"));
    let hex = line.rsplit(' ').next().unwrap();
    u64::from_str_radix(hex.strip_prefix("0x").unwrap(), 16).unwrap()
}

/// The stack guard gap of this kernel: `stack_guard_gap=` pages on the
/// command line, else 256 pages (mm/mmap.c).
fn guard_gap() -> u64 {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let pages = cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("stack_guard_gap="))
        .map_or(256, |n| n.parse().expect("a number of pages"));
    pages * PAGE
}

fn stack(maps: &[Mapping]) -> &Mapping {
    maps::find(maps, "[stack]").expect("a [stack] line")
}

use procfs::maps;

/// The checks every overflow shares: si_addr in the page below [stack],
/// the handler's stack pointer in the alternate stack. Returns [stack].
fn overflow(w: &Walk) -> Mapping {
    assert_eq!(w.end, Event::Exited(0), "{}", w.stderr);
    assert_eq!(w.stops.len(), 3);
    let maps = &w.stops[2].maps;
    let s = stack(maps).clone();
    let fault = printed(&w.stdout, "si_addr");
    assert!(
        fault < s.start && fault >= s.start - PAGE,
        "si_addr {fault:#x} within the page below {s:?}"
    );
    let alt = printed(&w.stdout, "altstack");
    let line = maps::containing(maps, alt).expect("altstack mapped");
    assert_eq!((line.start, line.size()), (alt, ALTSTACK));
    assert!(line.anonymous() && line.path.is_empty() && line.perms == "rw-p");
    let sp = printed(&w.stdout, "sp");
    assert!(
        line.contains(sp),
        "handler sp {sp:#x} on the alternate stack {line:?}"
    );
    s
}

#[test]
fn the_stack_grows_to_exactly_its_limit() {
    let w = walk_ok(BIN, &[], 3);
    let s = overflow(&w);
    assert_eq!(s.size(), LIMIT, "[stack] at its maximum: {s:?}");
    // The stack grew: at the first stop it was the usual ~132 KiB.
    assert!(stack(&w.stops[0].maps).size() < LIMIT);
    // The alternate stack is there from the first stop on.
    let alt = printed(&w.stdout, "altstack");
    assert!(maps::containing(&w.stops[0].maps, alt).is_some());
    assert_narrated(
        &w,
        &[
            "handlers set",
            "in SIGUSR1's handler",
            "SIGSEGV: [stack] hit RLIMIT_STACK or the guard gap",
            "[stop 3]",
        ],
    );
}

#[test]
fn a_larger_limit_lets_it_grow_further() {
    let w = walk_ok(BIN, &["-q", "512"], 3);
    assert_eq!(overflow(&w).size(), 512 * KIB);
}

#[test]
fn an_accessible_neighbour_stops_growth_a_guard_gap_above_it() {
    let w = walk_ok(BIN, &["-q", "--neighbour"], 3);
    let s = overflow(&w);
    let maps = &w.stops[2].maps;
    // The neighbour: the one-page read-only anonymous line below [stack].
    let below: Vec<&Mapping> = maps.iter().filter(|m| m.end <= s.start).collect();
    let n = below.last().expect("a line below [stack]");
    assert_eq!((n.perms.as_str(), n.size()), ("r--p", PAGE), "{n:?}");
    assert_eq!(s.start - n.end, guard_gap(), "{s:?} above {n:?}");
    assert!(s.size() < LIMIT, "stopped short of the limit: {s:?}");
}

#[test]
fn the_handler_returns_into_our_restorer_in_text() {
    let w = walk_ok(BIN, &["-q"], 3);
    let ret = printed(&w.stdout, "restorer");
    let program = assert_maps_match_elf(&w.stops[1].maps, BIN, 0);
    let text = program.iter().find(|m| m.perms == "r-xp").unwrap();
    assert!(text.contains(ret), "{ret:#x} in {text:?}");
    let elf = Elf::read(Path::new(BIN)).unwrap();
    let sym = elf
        .symbols
        .iter()
        .find(|s| s.name == "__sys_restorer")
        .expect("the restorer's symbol");
    assert_eq!(
        ret, sym.value,
        "the frame's return address is __sys_restorer"
    );
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 3);
    assert_eq!(w.stdout.lines().count(), 4, "{}", w.stdout);
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    let start = [
        "execve",
        "mmap",
        "sigaltstack",
        "rt_sigaction",
        "rt_sigaction",
        "write",
        "getpid",
        "kill",
        "getpid",
        "kill",
        "write",
        "getpid",
        "kill",
        "rt_sigreturn",
        "prlimit64",
    ];
    let end = ["write", "write", "getpid", "kill", "exit"];
    assert_syscalls(BIN, &["-q"], &[&start[..], &end[..]].concat());
    assert_syscalls(
        BIN,
        &["-q", "--neighbour"],
        &[&start[..], &["mmap"], &end[..]].concat(),
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["--neighbor"], "unknown option '--neighbor'");
    assert_usage_error(BIN, &["256K"], "not a number: '256K'");
}

#[test]
fn a_limit_over_the_hard_limit_is_refused_with_status_1() {
    // Anyone may lower a hard limit; raising it needs CAP_SYS_RESOURCE
    // (which root in a container may lack).
    let w = walk_under("ulimit -s 1024", BIN, &["-q", "2048"]);
    if procfs::caps::has(procfs::caps::CAP_SYS_RESOURCE) {
        assert_eq!(w.end, Event::Exited(0), "may raise it: {}", w.stderr);
        assert_eq!(overflow(&w).size(), 2048 * KIB);
    } else {
        // Stop 1 with the handlers set, stop 2 in SIGUSR1's handler.
        assert_failed(&w, 2, "prlimit64 failed: EPERM\n");
    }
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    let elf = assert_static_exec(BIN);
    assert_eq!(elf.segments(procfs::elf::PT_TLS).count(), 0, "no PT_TLS");
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}

#[test]
fn a_kib_whose_bytes_overflow_a_word_is_a_usage_error() {
    // 2^54 KiB is 2^64 bytes: shifted, it would wrap to a limit of 0.
    assert_usage_error(BIN, &["-q", "18014398509481984"], "KIB is too big");
}
