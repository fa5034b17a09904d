//! What the tour says must be what happened on this run: a merge is a
//! merge, a mapping that landed above another says so, the heap's words
//! follow where it starts, and the summaries state no false rule.

use std::path::Path;

mod common;
use common::{TOUR, assert_usage_error, succeeded, text};

/// The stdout of a tour that must succeed.
fn tour(args: &[&str]) -> String {
    succeeded(&common::tour(args)).0
}

fn release(demo: &str) -> String {
    // The tour builds the demos into TARGET/release.
    let target = Path::new(TOUR).parent().unwrap().parent().unwrap();
    target
        .join("release")
        .join(demo)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_merge_is_one_changed_line_not_unmapped_and_new() {
    tour(&["mmap"]); // builds the demos
    // 1 MiB is no multiple of 2 MiB: no THP alignment, the 512 KiB land
    // directly below and merge, every run.
    let out = tour(&["--no-build", "--exec", &release("mmap"), "1M", "512K"]);
    let stop3 = out.split("\n-- ").nth(3).expect("a third stop");
    let merged: Vec<&str> = stop3.lines().filter(|l| l.starts_with("~ ")).collect();
    assert_eq!(merged.len(), 1, "{stop3}");
    assert!(
        merged[0].contains("1 MiB -> 1.5 MiB, +512 KiB below: a new mapping merged into it"),
        "{stop3}"
    );
    assert!(!stop3.lines().any(|l| l.starts_with("- ")), "{stop3}");
    assert!(!stop3.lines().any(|l| l.starts_with("+ ")), "{stop3}");
}

#[test]
fn the_heap_words_follow_where_it_starts() {
    let out = tour(&["--no-aslr", "brk"]);
    let heap: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("[heap]") && l.starts_with('+'))
        .collect();
    assert_eq!(heap.len(), 1, "{out}");
    assert!(heap[0].contains("right after the program"), "{}", heap[0]);
    assert!(!heap[0].contains("brk randomisation"), "{}", heap[0]);
}

#[test]
fn no_summary_states_the_old_false_rules() {
    let out = tour(&["--no-aslr", "fixed", "stack"]);
    assert!(!out.contains("refused below vm.mmap_min_addr"), "{out}");
    assert!(out.contains("only with CAP_SYS_RAWIO"), "{out}");
    assert!(!out.contains("from 132 KiB"), "{out}");
}

#[test]
fn aslr_n_measures_the_spread_per_region() {
    let out = tour(&["--aslr", "5", "brk"]);
    let row = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no row {name}: {out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    // An ET_EXEC program never moves; the stack's top does (16 GiB of
    // room: five equal starts would be a broken kernel or tour).
    assert_eq!(row("program")[1], "0x400000", "{out}");
    assert_eq!(row("program")[5], "1/5", "{out}");
    assert_ne!(row("stack")[6], "1/5", "{out}");
    assert!(out.contains("vm.mmap_rnd_bits"), "{out}");
    // Under --no-aslr nothing moves.
    let out = tour(&["--no-build", "--aslr", "3", "--no-aslr", "brk"]);
    for l in out
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains("0x"))
    {
        assert!(l.contains(" 1/3 "), "moved under --no-aslr: {l}");
    }
}

#[test]
fn building_is_said_on_stderr() {
    let (_, err) = text(&common::tour(&["stop"]));
    assert!(err.starts_with("building the demos…"), "{err}");
    let (_, err) = text(&common::tour(&["--no-build", "stop"]));
    assert!(!err.contains("building"), "{err}");
}

#[test]
fn aslr_needs_a_number() {
    let o = common::tour(&["--aslr", "0"]);
    assert_usage_error(&o, "--aslr needs a number");
}

#[test]
fn a_mapping_that_lands_above_the_older_one_says_so() {
    // Without ASLR the 2 MiB-aligned 512 MiB mapping leaves 1.5 MiB free
    // above it, below [vvar]: the 512 KiB land there (measured on 6.18).
    let out = tour(&["--no-aslr", "mmap"]);
    let stop3 = out.split("\n-- ").nth(3).expect("a third stop");
    let thp =
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if thp.is_empty() || thp.contains("[never]") {
        // No THP alignment: the 512 KiB land directly below and merge.
        assert!(stop3.contains("a new mapping merged into it"), "{stop3}");
        return;
    }
    let new: Vec<&str> = stop3.lines().filter(|l| l.starts_with("+ ")).collect();
    assert_eq!(new.len(), 1, "{stop3}");
    assert!(new[0].contains("landed ABOVE the older mapping"), "{stop3}");
    assert!(new[0].contains("2 MiB-aligned (THP)"), "{stop3}");
}
