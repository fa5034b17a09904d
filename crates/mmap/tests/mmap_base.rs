//! Where the mmap area starts (arch/x86/mm/mmap.c, `mmap_base()`):
//! TASK_SIZE − clamp(RLIMIT_STACK + stack randomisation + guard gap,
//! 128 MiB, 5/6 × TASK_SIZE) − random offset. Under `setarch -R` both
//! random parts are 0, and the vDSO, the first thing mapped there, ends
//! exactly at mmap_base; the demo's mmaps go below it, top-down.
//! `setarch -L` (ADDR_COMPAT_LAYOUT) gives the legacy bottom-up layout
//! from TASK_SIZE / 3.

use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_mmap");
/// 2^47 less a guard page: the top of user space with 4-level paging,
/// and the default map window with 5 (arch/x86/include/asm/page_64_types.h).
const TASK_SIZE: u64 = 0x7fff_ffff_f000;
const MIB: u64 = 1 << 20;
/// stack_guard_gap's default: 256 pages (mm/mmap.c).
const GUARD_GAP: u64 = MIB;

/// `sh -c 'ulimit -s STACK; exec setarch FLAGS mmap -q'`: (the end of
/// [vdso], the start of the 512 MiB mapping) at stop 2.
fn layout(stack: &str, flags: &str) -> Option<(u64, u64)> {
    tool("setarch")?;
    let script = format!("ulimit -s {stack} && exec setarch {flags} \"$0\" -q");
    let w = walk(command("sh", &["-c", &script, BIN]));
    assert_eq!(w.stops.len(), 4, "{}", w.stderr);
    let s = &w.stops[1];
    let vdso = s.find("[vdso]").expect("a vdso").end;
    let big = s
        .maps
        .iter()
        .find(|m| m.path.is_empty() && m.size() == 512 * MIB)
        .expect("the 512 MiB mapping")
        .start;
    Some((vdso, big))
}

fn page_align(x: u64) -> u64 {
    x.next_multiple_of(4096)
}

#[test]
fn the_default_limit_leaves_the_minimum_gap_of_128_mib() {
    let Some((vdso, big)) = layout("8192", "-R") else {
        return;
    };
    // 8 MiB + 1 MiB is under the 128 MiB minimum.
    assert_eq!(vdso, TASK_SIZE - 128 * MIB);
    assert_eq!(vdso, 0x7fff_f7ff_f000);
    assert!(big < vdso, "top-down: below the vDSO");
}

#[test]
fn a_128_mib_stack_limit_moves_it_down_by_that_and_the_guard_gap() {
    let Some((vdso, _)) = layout("131072", "-R") else {
        return;
    };
    assert_eq!(vdso, TASK_SIZE - 128 * MIB - GUARD_GAP);
    assert_eq!(vdso, 0x7fff_f7ef_f000);
}

#[test]
fn an_unlimited_stack_clamps_the_gap_at_five_sixths() {
    let Some((vdso, big)) = layout("unlimited", "-R") else {
        return;
    };
    assert_eq!(vdso, page_align(TASK_SIZE - TASK_SIZE / 6 * 5));
    assert_eq!(vdso, 0x1555_5555_6000);
    // Still top-down on x86-64: mmap_is_legacy() ignores RLIMIT_STACK.
    assert!(big < vdso, "{big:#x} below {vdso:#x}");
}

#[test]
fn the_legacy_layout_goes_bottom_up_from_a_third() {
    let Some((vdso, big)) = layout("8192", "-L -R") else {
        return;
    };
    let base = page_align(TASK_SIZE / 3);
    assert_eq!(base, 0x2aaa_aaaa_b000);
    assert!(vdso > base && vdso < base + MIB, "{vdso:#x}");
    assert!(big > vdso, "bottom-up: above the vDSO");
}
