//! `brk` on the real binary: [heap] appears with the first brk, sits at
//! start_brk, and grows by whole pages.

use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_brk");
/// x86-64 page size.
const PAGE: u64 = 4096;

fn page_up(n: u64) -> u64 {
    n.next_multiple_of(PAGE)
}

#[test]
fn heap_appears_at_start_brk_and_grows_by_whole_pages() {
    let w = walk_ok(BIN, &[], 3);
    let first = &w.stops[0];
    assert_maps_match_elf(&first.maps, BIN, 0);
    assert!(first.find("[heap]").is_none(), "no brk yet: no [heap]");
    // start_brk is chosen at exec, before any brk call, above the program.
    let start = first.stat.start_brk;
    let program_end = program_mappings(first, BIN).last().unwrap().end;
    assert!(
        start >= program_end && start.is_multiple_of(PAGE),
        "{start:#x}"
    );

    let heap1 = w.stops[1]
        .find("[heap]")
        .expect("[heap] after the first brk");
    let heap2 = w.stops[2]
        .find("[heap]")
        .expect("[heap] after the second brk");
    for (stop, heap) in [(&w.stops[1], heap1), (&w.stops[2], heap2)] {
        assert_eq!(stop.stat.start_brk, start, "start_brk never moves");
        assert_eq!(heap.start, start, "[heap] begins at start_brk");
        assert_eq!(heap.perms, "rw-p");
        assert!(heap.size().is_multiple_of(PAGE), "whole pages");
    }
    // 4100 bytes need two pages, 8200 three: the break is not page-aligned,
    // the mapping ends at the next page boundary above it.
    assert_eq!(heap1.end, page_up(start + 4100));
    assert_eq!(heap1.size(), 2 * PAGE);
    assert_eq!(heap2.end, page_up(start + 8200));
    assert_eq!(heap2.size(), 3 * PAGE);

    // The narration shows the old and new breaks and the heap's end.
    assert_narrated(
        &w,
        &[
            format!("break {start:#x} -> {:#x}", start + 4100),
            format!("boundary, {:#x}", heap1.end),
            format!("break {:#x} -> {:#x}", start + 4100, start + 8200),
            format!("boundary, {:#x}", heap2.end),
            "start_brk (/proc/PID/stat field 47)".to_string(),
            "[stop 3]".to_string(),
        ],
    );
}

#[test]
fn a_custom_increment_moves_the_break_that_far() {
    let w = walk_ok(BIN, &["-q", "1M"], 3);
    let start = w.stops[0].stat.start_brk;
    let heap1 = w.stops[1].find("[heap]").unwrap();
    let heap2 = w.stops[2].find("[heap]").unwrap();
    assert_eq!((heap1.start, heap1.size()), (start, 1 << 20));
    assert_eq!((heap2.start, heap2.size()), (start, 2 << 20));
}

#[test]
fn a_refused_break_is_enomem_with_status_1() {
    // RLIMIT_DATA counts the heap: a 64 MiB break under a 1 MiB limit fails.
    // The raw syscall then returns the old break, not -ENOMEM.
    let w = walk_under("ulimit -d 1024", BIN, &["-q", "64M"]);
    assert_failed(&w, 1, "brk failed: ENOMEM\n");
}

#[test]
fn an_increment_that_would_wrap_around_is_enomem_too() {
    // old + increment overflows: asking the kernel would *shrink* the
    // heap, so sbrk refuses before asking, the way the kernel would.
    let w = walk(command(BIN, &["-q", "18446744073709551615"]));
    assert_failed(&w, 1, "brk failed: ENOMEM\n");
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 3);
    assert_eq!(w.stdout, "");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve", "getpid", "kill", "brk", "brk", "getpid", "kill", "brk", "brk", "getpid",
            "kill", "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "'-x'");
    assert_usage_error(BIN, &["4X"], "not a size");
    assert_usage_error(BIN, &["1", "2"], "unexpected argument '2'");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
