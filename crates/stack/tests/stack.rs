//! `stack` on the real binary: [stack] starts at 128 KiB plus the pages
//! of the arguments, grows down over the written byte, and a DEPTH over
//! RLIMIT_STACK is refused before it could become a SIGSEGV.

use procfs::Event;
use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_stack");
const PAGE: u64 = 4096;
const KIB: u64 = 1024;
/// `stack_expand` in setup_arg_pages (fs/exec.c): what exec adds below
/// the pages that hold argv, envp and auxv.
const STACK_EXPAND: u64 = 128 * KIB;
/// The demo's own frames between the stack top and its local variable:
/// auxv, envp, argv (a few KiB under cargo's environment) and main.
const SLACK: u64 = 64 * KIB;

/// Runs `stack ARGS` and checks the two stops; returns (before, after).
fn grow(args: &[&str], depth: u64) -> (procfs::Mapping, procfs::Mapping, Walk) {
    let w = walk_ok(BIN, args, 2);
    let before = w.stops[0].find("[stack]").unwrap().clone();
    let after = w.stops[1].find("[stack]").unwrap().clone();
    assert_eq!(after.end, before.end, "the top never moves");
    let top = before.end;
    assert!(after.start <= top - depth, "covers the written byte");
    assert!(after.start > top - depth - SLACK, "but not much more");
    assert!(after.size() > before.size());
    (before, after, w)
}

#[test]
fn stack_starts_at_128_kib_plus_the_arguments_and_grows_to_the_write() {
    let (before, after, w) = grow(&[], 256 * KIB);
    assert_maps_match_elf(&w.stops[0].maps, BIN, 0);
    // 132 KiB with a small environment: 128 KiB below the page(s) that
    // hold the strings of argv and envp (arg_start is the lowest).
    let strings = before.end - (w.stops[0].stat.arg_start & !(PAGE - 1));
    assert_eq!(before.size(), STACK_EXPAND + strings);
    // Seed 001: 132 KiB -> 268 KiB (260 KiB here with a small
    // environment): the 256 KiB below the stack pointer, plus what lies
    // above it (the arguments, auxv, our frames).
    assert!(before.size() >= 132 * KIB);
    assert!(after.size() >= 256 * KIB + strings, "{after:#x?}");
    assert!(
        w.stderr.contains(&format!(
            "reaches that page, {} KiB below its top\n",
            after.size() / KIB
        )),
        "the narration gives the new size: {}",
        w.stderr
    );
    assert!(w.stderr.contains("RLIMIT_STACK "), "{}", w.stderr);
}

#[test]
fn a_custom_depth_grows_it_further() {
    grow(&["-q", "1M"], 1 << 20);
}

#[test]
fn a_depth_over_rlimit_stack_is_refused_not_a_sigsegv() {
    for depth in ["4M", "1M"] {
        let w = walk_under("ulimit -s 1024", BIN, &["-q", depth]);
        assert!(w.stops.is_empty(), "refused before the first stop");
        // Status 2: a bad DEPTH for this limit, not a failed syscall.
        assert_eq!(w.end, Event::Exited(2), "{depth}: {}", w.stderr);
        let lines: Vec<&str> = w.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", w.stderr);
        assert!(lines[0].starts_with("error: ") && lines[0].contains("RLIMIT_STACK"));
        assert!(lines[0].contains("ulimit -s") && lines[0].contains(depth));
        assert!(lines[1].starts_with("usage: stack"));
    }
    // Under the same limit, a DEPTH that fits works.
    let w = walk_under("ulimit -s 1024", BIN, &["-q", "900K"]);
    assert_eq!(
        (w.end, w.stops.len()),
        (Event::Exited(0), 2),
        "{}",
        w.stderr
    );
}

#[test]
fn an_unlimited_stack_takes_any_depth() {
    // RLIM_INFINITY: the hard limit may forbid raising it (status 77: skip).
    let w = walk(command(
        "sh",
        &[
            "-c",
            &format!("ulimit -s unlimited || exit 77; exec {BIN} 64M"),
        ],
    ));
    if w.end == Event::Exited(77) {
        eprintln!("SKIPPED: the hard RLIMIT_STACK is not unlimited here");
        return;
    }
    assert_eq!(
        (w.end, w.stops.len()),
        (Event::Exited(0), 2),
        "{}",
        w.stderr
    );
    assert!(
        w.stderr.contains("RLIMIT_STACK unlimited\n"),
        "{}",
        w.stderr
    );
    assert!(w.stops[1].find("[stack]").unwrap().size() > 64 << 20);
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 2);
    assert_eq!(w.stdout, "");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve",
            "prlimit64",
            "getpid",
            "kill",
            "getpid",
            "kill",
            "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "'-x'");
    assert_usage_error(BIN, &["deep"], "not a size");
    assert_usage_error(BIN, &["100"], "under 4K");
    assert_usage_error(BIN, &["1M", "2M"], "unexpected argument '2M'");
    // Wider than the address space below the stack pointer.
    assert_usage_error(BIN, &["1000000G"], "RLIMIT_STACK");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
