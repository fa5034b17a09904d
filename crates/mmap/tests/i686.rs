//! `mmap` built for i686: seed 001's four stops with 32-bit addresses.
//! No transparent huge page alignment for a 32-bit process, so the
//! second mapping lands directly below the first and merges with it, and
//! munmap leaves it alone, exactly as in the seed; under `--3gb` the
//! 512 MiB end just below [vvar], near 0xb7…, as the seed's did below
//! [vdso].

use procfs::Spawn;
use procfs::i686::*;
use procfs::testing::*;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

#[test]
fn i386_maps_merge_below_and_munmap_leaves_a_hole_as_in_the_seed() {
    let Some(dir) = demos_for_test() else { return };
    for how in [Spawn::default(), THREE_GB] {
        let w = walk_ok_how(&dir, "mmap", &[], 4, how);
        assert!(w.stops[0].anonymous().is_empty());
        let first = w.stops[1].anonymous()[0].clone();
        assert_eq!((first.size(), first.perms.as_str()), (512 * MIB, "rw-p"));
        // mmap_base is right below the vDSO's [vvar] in a 32-bit process.
        let vvar = w.stops[1].find("[vvar]").expect("[vvar]");
        assert_eq!(first.end, vvar.start, "{:#x?}", w.stops[1].maps);
        let top = if how.limit_3gb {
            LIMIT_3GB
        } else {
            IA32_TASK_SIZE
        };
        assert!(first.end < top);
        // One line: the 512 KiB directly below, merged into one VMA.
        let at3 = w.stops[2].anonymous();
        assert_eq!(at3.len(), 1, "{at3:#x?}");
        assert_eq!(
            (at3[0].start, at3[0].end),
            (first.start - 512 * KIB, first.end)
        );
        assert!(w.stderr.contains("next to the first: one VMA now"));
        let at4 = w.stops[3].anonymous();
        assert_eq!(at4.len(), 1);
        assert_eq!(
            (at4[0].start, at4[0].end),
            (first.start - 512 * KIB, first.start)
        );
    }
}

#[test]
fn i386_quiet_makes_exactly_the_lessons_syscalls() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strace) = tool("strace") else { return };
    let calls = strace_numbers(&strace, dir.join("mmap").to_str().unwrap(), &["-q"]);
    // mmap2 (192) with its page-unit offset, not the seed's old mmap (90).
    let (getpid, kill) = ((20, "getpid"), (37, "kill"));
    let mut want = vec![(59, "execve"), getpid, kill, (192, "mmap2"), getpid, kill];
    want.extend([
        (192, "mmap2"),
        getpid,
        kill,
        (91, "munmap"),
        getpid,
        kill,
        (1, "exit"),
    ]);
    let got: Vec<(u32, &str)> = calls.iter().map(|(n, s)| (*n, s.as_str())).collect();
    assert_eq!(got, want);
}
