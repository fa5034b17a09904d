//! `mmap` on the real binary: each mapping as an anonymous line, the
//! kernel's placement (2 MiB alignment, merging), munmap leaving the
//! second behind.

use procfs::Mapping;
use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_mmap");
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// A PMD: the size of an x86-64 transparent huge page.
const HUGE_PAGE: u64 = 2 * MIB;

/// The lines without a name and with no file: anonymous mmap memory.
fn anonymous(stop: &Stop) -> Vec<&Mapping> {
    stop.anonymous()
}

#[test]
fn the_seed_sizes_map_align_and_unmap() {
    let w = walk_ok(BIN, &[], 4);
    assert_maps_match_elf(&w.stops[0].maps, BIN, 0);
    assert!(anonymous(&w.stops[0]).is_empty());

    let at2 = anonymous(&w.stops[1]);
    assert_eq!(at2.len(), 1, "{at2:#?}");
    let first = at2[0].clone();
    assert_eq!((first.size(), first.perms.as_str()), (512 * MIB, "rw-p"));
    // With THP (Linux >= 6.7) a 2 MiB-multiple anonymous mapping starts on
    // a 2 MiB boundary, leaving a gap above it; older kernels leave none,
    // and then the second mapping always merges below, as in the seed.
    let aligned = first.start.is_multiple_of(HUGE_PAGE);

    // The 512 KiB go into the gap that alignment left above the first if
    // they fit (two lines); else directly below it, merged (one line).
    // The gap is random, so look which one happened, then check it all.
    let at3 = anonymous(&w.stops[2]);
    let second = match at3.as_slice() {
        [merged] => {
            assert!(w.stderr.contains("next to the first: one VMA now"));
            if merged.start == first.start {
                // Exactly 512 KiB of gap above: placed there, touching.
                assert_eq!(merged.end, first.end + 512 * KIB);
                Mapping {
                    start: first.end,
                    ..(*merged).clone()
                }
            } else {
                assert_eq!(
                    (merged.start, merged.end),
                    (first.start - 512 * KIB, first.end)
                );
                Mapping {
                    end: first.start,
                    ..(*merged).clone()
                }
            }
        }
        [low, high] => {
            assert!(aligned, "a gap above the first needs the THP alignment");
            assert_eq!(**low, first, "the first is unchanged");
            assert_eq!(high.size(), 512 * KIB);
            assert!(
                high.start > first.end,
                "above the first, in the gap, not touching"
            );
            assert!(!w.stderr.contains("one VMA now"), "{}", w.stderr);
            (*high).clone()
        }
        other => panic!("one or two anonymous lines expected: {other:#?}"),
    };
    assert_eq!(second.size(), 512 * KIB);

    // munmap: only the second is left.
    let at4 = anonymous(&w.stops[3]);
    assert_eq!(at4, [&second]);

    assert_narrated(
        &w,
        &[
            format!("512 MiB at {:#x}\n", first.start),
            format!("512 KiB at {:#x}\n", second.start),
            "first unmapped".to_string(),
        ],
    );
}

#[test]
fn adjacent_mappings_merge_into_one_line_and_split_again() {
    // 1 MiB is no multiple of 2 MiB: no alignment, and the second lands
    // directly below the first, as in the seed.
    let w = walk_ok(BIN, &["1M", "512K"], 4);
    let at2 = anonymous(&w.stops[1]);
    assert_eq!(at2.len(), 1);
    let first = at2[0].clone();
    assert_eq!(first.size(), MIB);

    let at3 = anonymous(&w.stops[2]);
    assert_eq!(at3.len(), 1, "merged into one VMA: {at3:#?}");
    assert_eq!(
        (at3[0].start, at3[0].end),
        (first.start - 512 * KIB, first.end)
    );

    let at4 = anonymous(&w.stops[3]);
    assert_eq!(at4.len(), 1);
    assert_eq!(
        (at4[0].start, at4[0].end),
        (first.start - 512 * KIB, first.start)
    );
    assert!(
        w.stderr.contains("next to the first: one VMA now"),
        "{}",
        w.stderr
    );
}

#[test]
fn custom_sizes_are_mapped_as_asked() {
    let w = walk_ok(BIN, &["-q", "64M", "12K"], 4);
    assert_eq!(anonymous(&w.stops[1])[0].size(), 64 * MIB);
    let at4 = anonymous(&w.stops[3]);
    assert_eq!(at4.len(), 1);
    assert_eq!(at4[0].size(), 12 * KIB);
}

#[test]
fn a_refused_mapping_is_enomem_with_status_1() {
    // 200000 KiB of address space cannot hold 512 MiB.
    let w = walk_under("ulimit -v 200000", BIN, &["-q"]);
    assert_failed(&w, 1, "mmap failed: ENOMEM\n");
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 4);
    assert_eq!(w.stdout, "");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve", "getpid", "kill", "mmap", "getpid", "kill", "mmap", "getpid", "kill",
            "munmap", "getpid", "kill", "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "'-x'");
    assert_usage_error(BIN, &["big"], "not a size");
    assert_usage_error(BIN, &["1M", "1M", "1M"], "unexpected argument '1M'");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
