//! `threads` on the real binary: the tasks in /proc/PID/task at each
//! stop, one anonymous line per thread stack with its guard page below,
//! each thread's stack pointer in its own line, and nothing left after.

use procfs::task::{self, Syscall};
use procfs::testing::*;
use procfs::{Event, Mapping};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_threads");
const KIB: u64 = 1024;
/// The demo's stack and guard sizes.
const STACK: u64 = 64 * KIB;
const GUARD: u64 = 4 * KIB;
/// `__NR_futex` on x86-64 (arch/x86/entry/syscalls/syscall_64.tbl).
const NR_FUTEX: i64 = 202;

/// What the test saw of the threads at one stop.
#[derive(Debug, Default)]
struct Tasks {
    tasks: Vec<task::Task>,
    /// (tid, its stack pointer from /proc/PID/task/TID/syscall).
    sps: Vec<(u32, u64)>,
}

/// Walks `threads args`, reading /proc/PID/task at every stop.
fn walk_tasks(args: &[&str]) -> (Walk, Vec<Tasks>) {
    let mut seen = Vec::new();
    let w = walk_with(command(BIN, args), |_, demo| {
        let tasks = settled(demo.pid);
        let sps = tasks
            .iter()
            .filter(|t| t.tid != demo.pid)
            .map(
                |t| match task::syscall(demo.pid, t.tid).expect("our own child's syscall file") {
                    Syscall::Blocked { nr, sp, .. } => {
                        assert_eq!(nr, NR_FUTEX, "thread {} waits in futex", t.tid);
                        (t.tid, sp)
                    }
                    Syscall::Running => panic!("thread {} runs during a group stop", t.tid),
                },
            )
            .collect();
        seen.push(Tasks { tasks, sps });
    });
    (w, seen)
}

/// The tasks of a stopped demo. A thread that has ended its `exit` may
/// still be listed for a moment (the kernel wakes the main thread from
/// CLONE_CHILD_CLEARTID before the task is gone), and one that is still
/// running cannot be stopped yet: wait until every listed task is stopped.
fn settled(pid: u32) -> Vec<task::Task> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let tasks = task::read(pid).expect("read /proc/PID/task");
        if tasks.iter().all(|t| t.state == 'T') || Instant::now() > deadline {
            return tasks;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The `tN.sp mmap 0x…` lines: the stack pointer each thread printed.
fn printed_sps(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let want = format!("t{}.sp mmap 0x", i + 1);
            let hex = l.strip_prefix(&want).unwrap_or_else(|| panic!("{l:?}"));
            u64::from_str_radix(hex, 16).unwrap()
        })
        .collect()
}

/// The thread stacks: anonymous rw-p lines of STACK bytes without a name.
fn stacks(maps: &[Mapping]) -> Vec<&Mapping> {
    maps.iter()
        .filter(|m| m.path.is_empty() && m.perms == "rw-p" && m.size() == STACK)
        .collect()
}

fn check(n: usize) {
    let arg = n.to_string();
    let (w, seen) = walk_tasks(&["-q", &arg]);
    assert_eq!(w.end, Event::Exited(0), "{}", w.stderr);
    assert_eq!(w.stops.len(), 3);
    let tids = |i: usize| seen[i].tasks.iter().map(|t| t.tid).collect::<Vec<_>>();
    assert_eq!(tids(0), [w.pid], "one task, whose tid is the pid");
    assert_eq!(tids(2), [w.pid], "the threads are gone");
    let during = &seen[1];
    assert_eq!(during.tasks.len(), n + 1, "{during:?}");
    // SIGSTOP stopped all of them: group stop.
    assert!(during.tasks.iter().all(|t| t.state == 'T'), "{during:?}");

    let maps = &w.stops[1].maps;
    let lines = stacks(maps);
    assert_eq!(lines.len(), n, "one line per thread stack: {maps:#?}");
    for s in &lines {
        let guard = maps
            .iter()
            .find(|m| m.end == s.start)
            .unwrap_or_else(|| panic!("a line directly below {s:?}"));
        assert_eq!((guard.perms.as_str(), guard.size()), ("---p", GUARD));
        assert!(guard.anonymous() && guard.path.is_empty());
    }
    // Every thread's stack pointer, as it printed it and as the kernel
    // shows it, is in a stack line of its own.
    let printed = printed_sps(&w.stdout);
    assert_eq!(printed.len(), n);
    for sps in [
        printed.clone(),
        during.sps.iter().map(|&(_, sp)| sp).collect::<Vec<_>>(),
    ] {
        let mut owners: Vec<u64> = sps
            .iter()
            .map(|&sp| {
                let m = maps::containing(maps, sp).expect("sp in a line");
                assert!(lines.contains(&m), "{sp:#x} in {m:?}");
                m.start
            })
            .collect();
        owners.sort_unstable();
        owners.dedup();
        assert_eq!(owners.len(), n, "each thread on its own stack");
    }
    // The main thread's stack is still the only [stack].
    assert_eq!(maps.iter().filter(|m| m.path == "[stack]").count(), 1);
    assert!(stacks(&w.stops[2].maps).is_empty(), "stacks unmapped");
    assert!(
        !w.stops[2].maps.iter().any(|m| m.perms == "---p"),
        "guards unmapped"
    );
}

use procfs::maps;

#[test]
fn two_threads_each_on_its_own_stack_with_a_guard() {
    check(2);
}

#[test]
fn no_threads_and_many_threads() {
    check(0);
    check(64);
}

#[test]
fn the_narration_names_the_tasks() {
    let w = walk_ok(BIN, &[], 3);
    assert_narrated(
        &w,
        &[
            "1 task",
            "threads: 3 tasks, all stopped",
            "stacks unmapped",
            "[stop 3]",
        ],
    );
    assert_eq!(printed_sps(&w.stdout).len(), 2);
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q", "1"], 3);
    assert_eq!(printed_sps(&w.stdout).len(), 1);
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    let mut expected = vec!["execve", "getpid", "kill"];
    for _ in 0..2 {
        expected.extend(["mmap", "mmap", "clone", "futex", "write"]);
    }
    expected.extend(["getpid", "kill", "futex"]);
    for _ in 0..2 {
        expected.extend(["futex", "munmap"]);
    }
    expected.extend(["getpid", "kill", "exit"]);
    assert_syscalls(BIN, &["-q", "2"], &expected);
}

#[test]
fn a_refused_stack_ends_every_thread() {
    // Room for a few stacks, not for 64: the failing mmap must end the
    // threads already running too (exit_group), or the process would
    // hang with them.
    let w = walk_under("ulimit -v 1500", BIN, &["-q", "64"]);
    assert_failed(&w, 1, "mmap failed: ENOMEM\n");
    assert!(!w.stdout.is_empty(), "some threads ran first: {}", w.stdout);
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["two"], "not a number: 'two'");
    assert_usage_error(BIN, &["-1"], "unknown option '-1'");
    assert_usage_error(BIN, &["1", "2"], "unexpected argument '2'");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    let elf = assert_static_exec(BIN);
    assert_eq!(elf.segments(procfs::elf::PT_TLS).count(), 0, "no PT_TLS");
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
