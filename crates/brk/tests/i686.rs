//! `brk` built for i686: the seed's program, with 32-bit addresses. The
//! same lesson as tests/brk.rs ([heap] appears at start_brk with the first
//! brk and grows by whole pages) checked on the i386 binary, with and
//! without the 3 GiB limit, and the i386 syscall numbers.

use procfs::Spawn;
use procfs::i686::*;
use procfs::testing::*;

const PAGE: u64 = 4096;

#[test]
fn i386_heap_appears_at_start_brk_and_grows_by_whole_pages() {
    let Some(dir) = demos_for_test() else { return };
    for how in [Spawn::default(), THREE_GB] {
        let w = walk_ok_how(&dir, "brk", &[], 3, how);
        let start = w.stops[0].stat.start_brk;
        assert!(w.stops[0].find("[heap]").is_none(), "no brk yet");
        // Above the program at 0x08048000, within the i386 heap's smaller
        // randomisation (32 MiB instead of 1 GiB, `arch_randomize_brk`):
        // 0x08…, 0x09… or 0x0a…, as the seed's 0x09f0a000.
        assert!(
            start > I386_BASE && start < I386_BASE + (64 << 20),
            "{start:#x}"
        );
        let heap1 = w.stops[1].find("[heap]").unwrap();
        let heap2 = w.stops[2].find("[heap]").unwrap();
        assert_eq!(
            (heap1.start, heap1.end),
            (start, (start + 4100).next_multiple_of(PAGE))
        );
        assert_eq!(
            (heap2.start, heap2.end),
            (start, (start + 8200).next_multiple_of(PAGE))
        );
        assert_eq!((heap1.size(), heap2.size()), (2 * PAGE, 3 * PAGE));
        assert_eq!(heap1.perms, "rw-p", "PT_GNU_STACK RW: no READ_IMPLIES_EXEC");
        assert!(
            w.stderr
                .contains(&format!("break {start:#x} -> {:#x}", start + 4100)),
            "{}",
            w.stderr
        );
        let stack = w.stops[2].find("[stack]").unwrap();
        let top = if how.limit_3gb {
            LIMIT_3GB
        } else {
            IA32_TASK_SIZE
        };
        assert!(stack.end <= top, "{how:?}: {stack:x?}");
    }
}

#[test]
fn i386_quiet_makes_exactly_the_lessons_syscalls() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strace) = tool("strace") else { return };
    let calls = strace_numbers(&strace, dir.join("brk").to_str().unwrap(), &["-q"]);
    let (getpid, kill, brk, exit) = ((20, "getpid"), (37, "kill"), (45, "brk"), (1, "exit"));
    let mut want = vec![(59, "execve"), getpid, kill];
    want.extend([brk, brk, getpid, kill, brk, brk, getpid, kill, exit]);
    let got: Vec<(u32, &str)> = calls.iter().map(|(n, s)| (*n, s.as_str())).collect();
    assert_eq!(got, want);
}
