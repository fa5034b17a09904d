//! What exec makes of the stack, for a small and a huge environment:
//! [stack] is the pages the strings fill plus 128 KiB (`setup_arg_pages`),
//! the tables lie below the strings inside those 128 KiB, and the
//! narration states the size of this run, not a constant.

use procfs::Event;
use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_stack");
const PAGE: u64 = 4096;
const STACK_EXPAND: u64 = 128 << 10;
/// `arch_align_stack`: up to 8 KiB below the strings, then 16-aligned.
const RANDOM_GAP: u64 = 8 << 10;

fn check(vars: &[(String, String)]) -> (u64, u64) {
    let mut cmd = command(BIN, &[]);
    cmd.env_clear();
    cmd.envs(vars.iter().map(|(k, v)| (k, v)));
    let w = walk(cmd);
    assert_eq!(w.end, Event::Exited(0), "{}", w.stderr);
    let s = &w.stops[0];
    let stack = s.find("[stack]").unwrap();
    // The strings: from the lowest (argv[0]'s) to the top, in pages.
    let strings = stack.end - (s.stat.arg_start & !(PAGE - 1));
    assert_eq!(stack.size(), strings + STACK_EXPAND, "{stack:?}");
    // argc (the initial stack pointer) lies below the strings, inside
    // the 128 KiB, at most the pointer tables and the random gap lower.
    let argc = s.stat.start_stack;
    assert!(argc < s.stat.arg_start, "tables below the strings");
    assert!(
        argc >= stack.end - strings - STACK_EXPAND,
        "inside the 128 KiB"
    );
    let pointers = 8 * (vars.len() as u64 + 2 + 2) + 4096;
    assert!(
        s.stat.arg_start - argc <= pointers + RANDOM_GAP + 64,
        "argc {argc:#x} too far below the strings at {:#x}",
        s.stat.arg_start
    );
    let said = format!(
        "stack: [stack] is {} KiB: the {} KiB of pages the argv and env strings fill, + 128 KiB\n",
        stack.size() >> 10,
        strings >> 10
    );
    assert!(w.stderr.starts_with(&said), "{said} in {}", w.stderr);
    (stack.size(), stack.end - argc)
}

#[test]
fn a_small_environment_gives_132_kib() {
    let (size, argc_below_top) = check(&[("LESSON".into(), "stack".into())]);
    assert_eq!(size, 132 << 10);
    // Not "the last 5 KiB": the random gap alone may be 8 KiB.
    assert!(argc_below_top < 12 << 10, "{argc_below_top}");
}

#[test]
fn five_thousand_variables_take_their_pages_plus_128_kib() {
    let vars: Vec<(String, String)> = (0..5000)
        .map(|i| (format!("V{i}"), format!("{i}")))
        .collect();
    let (size, argc_below_top) = check(&vars);
    // V0=0 … V4999=4999: 52,803 bytes of strings with the path, 13 or
    // 14 pages (the path's length differs between checkouts).
    assert!(size >= (13 << 12) + STACK_EXPAND, "{size}");
    // The 5000 pointers (40,000 bytes) lie below the strings too.
    assert!(argc_below_top > 52_803 + 40_000, "{argc_below_top}");
}
