//! `mprotect` on the real binary: one VMA, three, one again; a code page
//! that goes from rw- to r-x, never both, and runs.

use procfs::Mapping;
use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_mprotect");
const PAGE: u64 = 4096;

/// The anonymous lines without a name, in address order.
fn anonymous(stop: &Stop) -> Vec<&Mapping> {
    stop.maps
        .iter()
        .filter(|m| m.path.is_empty() && m.anonymous())
        .collect()
}

/// The address the narration printed at the end of the line with `text`.
fn addr_after(stderr: &str, text: &str) -> u64 {
    let line = stderr.lines().find(|l| l.starts_with(text)).unwrap();
    u64::from_str_radix(line[text.len()..].trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn one_vma_becomes_three_and_one_again() {
    let w = walk_ok(BIN, &[], 5);
    let three = addr_after(&w.stderr, "mprotect: 3 pages rw-, one line at ");
    let lines = |stop: usize| -> Vec<(u64, u64, String)> {
        anonymous(&w.stops[stop])
            .iter()
            .filter(|m| m.start >= three && m.end <= three + 3 * PAGE)
            .map(|m| (m.start, m.end, m.perms.clone()))
            .collect()
    };
    let whole = vec![(three, three + 3 * PAGE, "rw-p".to_string())];
    assert_eq!(lines(0), whole);
    assert_eq!(
        lines(1),
        [
            (three, three + PAGE, "rw-p".to_string()),
            (three + PAGE, three + 2 * PAGE, "r--p".to_string()),
            (three + 2 * PAGE, three + 3 * PAGE, "rw-p".to_string()),
        ]
    );
    assert_eq!(lines(2), whole, "merged back into one VMA");
    // The whole line count moves with it: +2, then -2.
    let count = |stop: usize| w.stops[stop].maps.len();
    assert_eq!((count(1), count(2)), (count(0) + 2, count(0)));
}

#[test]
fn the_code_page_is_never_writable_and_executable() {
    let w = walk_ok(BIN, &[], 5);
    let page = addr_after(&w.stderr, "mprotect: code written to a rw- page at ");
    let at = |stop: usize| w.stops[stop].containing(page).cloned().unwrap();
    assert_eq!((at(3).perms.as_str(), at(3).size()), ("rw-p", PAGE));
    assert_eq!((at(4).perms.as_str(), at(4).size()), ("r-xp", PAGE));
    for (i, stop) in w.stops.iter().enumerate() {
        for m in &stop.maps {
            assert!(!(m.writable() && m.executable()), "stop {}: {m}", i + 1);
        }
    }
    assert_eq!(w.stdout, "code returned 42\n");
}

#[test]
fn quiet_is_silent_but_prints_the_number() {
    let w = walk_quiet(BIN, &["-q"], 5);
    assert_eq!(w.stdout, "code returned 42\n");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve", "mmap", "getpid", "kill", "mprotect", "getpid", "kill", "mprotect", "getpid",
            "kill", "munmap", "mmap", "getpid", "kill", "mprotect", "write", "getpid", "kill",
            "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "'-x'");
    assert_usage_error(BIN, &["3"], "unexpected argument '3'");
}

#[test]
fn a_refused_mapping_is_enomem_with_status_1() {
    // Address space for what exec set up and 4 KiB more, not 12 KiB.
    let first = &walk_ok(BIN, &["-q"], 5).stops[0];
    let limit = procfs::limits::ulimit_v(&first.maps, 3 * PAGE, PAGE);
    let w = walk_under(&limit, BIN, &["-q"]);
    assert_failed(&w, 0, "mmap failed: ENOMEM\n");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
