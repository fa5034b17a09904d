//! `stack` built for i686: [stack] starts at 128 KiB plus the pages of
//! the arguments and grows down over the byte written 256 KiB below, as
//! in tests/stack.rs, just below 4 GiB, or just below 3 GiB with `--3gb`
//! (seed 001: 0xbf8a7000 → 0xbf885000).

use procfs::Spawn;
use procfs::i686::*;

const PAGE: u64 = 4096;
const KIB: u64 = 1024;
/// `stack_expand` in setup_arg_pages (fs/exec.c).
const STACK_EXPAND: u64 = 128 * KIB;
/// Our frames and the arguments between the top and the written byte.
const SLACK: u64 = 64 * KIB;

#[test]
fn i386_stack_grows_down_to_the_touched_depth() {
    let Some(dir) = demos_for_test() else { return };
    for how in [Spawn::default(), THREE_GB] {
        let w = walk_ok_how(&dir, "stack", &[], 2, how);
        let before = w.stops[0].find("[stack]").unwrap();
        let after = w.stops[1].find("[stack]").unwrap();
        let strings = before.end - (w.stops[0].stat.arg_start & !(PAGE - 1));
        assert_eq!(before.size(), STACK_EXPAND + strings);
        assert_eq!(after.end, before.end, "the top never moves");
        assert!(after.start <= before.end - 256 * KIB);
        assert!(after.start > before.end - 256 * KIB - SLACK);
        if how.limit_3gb {
            assert!(
                before.end <= LIMIT_3GB && before.end > 0xb000_0000,
                "{before:x?}"
            );
        } else {
            assert!(
                before.end <= IA32_TASK_SIZE && before.end > LIMIT_3GB,
                "{before:x?}"
            );
        }
    }
}

#[test]
fn i386_quiet_makes_exactly_the_lessons_syscalls() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strace) = procfs::testing::tool("strace") else {
        return;
    };
    let calls = strace_numbers(&strace, dir.join("stack").to_str().unwrap(), &["-q"]);
    let names: Vec<&str> = calls.iter().map(|(_, n)| n.as_str()).collect();
    let x86_64_twin = procfs::testing::strace_names(
        &strace,
        &procfs::i686::x86_64_demos_for_test(&["stack"])
            .join("stack")
            .to_string_lossy(),
        &["-q"],
    );
    assert_eq!(names, x86_64_twin, "the same calls as on x86-64");
    assert!(
        calls.iter().any(|c| *c == (340, "prlimit64".to_string())),
        "{calls:?}"
    );
}
