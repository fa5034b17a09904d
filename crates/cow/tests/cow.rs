//! `cow` on the real binary: after fork the written page is shared by
//! parent and child (Shared_Dirty, one frame); after the child's write
//! each has its own (Private_Dirty, two frames); nothing is left behind.

use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use procfs::testing::*;
use procfs::{Event, Smap, pagemap, smaps};

const BIN: &str = env!("CARGO_BIN_EXE_cow");
const PAGE: u64 = 4096;

/// The children of `pid` (its one thread's).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

fn page_in(pid: u32, page: u64) -> Smap {
    let all = smaps::read(pid).unwrap();
    all.into_iter()
        .find(|s| s.mapping.contains(page))
        .expect("the page is mapped")
}

/// The page's pagemap entry in `pid`.
fn entry(pid: u32, page: u64) -> u64 {
    let file = pagemap::open(pid).unwrap();
    pagemap::entries(&file, page, page + PAGE).unwrap()[0]
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

/// What both processes showed at one of the parent's stops.
#[derive(Debug)]
struct Both {
    child: Option<u32>,
    parent_page: Option<Smap>,
    child_page: Option<Smap>,
    same_maps: bool,
    frames: Option<(u64, u64)>,
    parent_text: Vec<u8>,
    child_state: Option<char>,
}

fn walk_both(args: &[&str]) -> (Walk, Vec<Both>) {
    let mut page = None;
    let mut seen = Vec::new();
    let w = walk_with(command(BIN, args), |n, demo| {
        let pid = demo.pid;
        let p = *page.get_or_insert_with(|| {
            // The one-page anonymous line that stop 1 adds: the page.
            let maps = procfs::maps::read(pid).unwrap();
            maps.iter()
                .find(|m| m.path.is_empty() && m.size() == PAGE && m.perms == "rw-p")
                .expect("the page")
                .start
        });
        let kids = children(pid);
        let child = kids.first().copied();
        let mut text = vec![0u8; 6];
        std::fs::File::open(format!("/proc/{pid}/mem"))
            .unwrap()
            .read_exact_at(&mut text, p)
            .unwrap();
        let both = Both {
            child,
            parent_page: Some(page_in(pid, p)),
            child_page: child.map(|c| page_in(c, p)),
            same_maps: child.is_some_and(|c| {
                procfs::maps::read(c).unwrap() == procfs::maps::read(pid).unwrap()
            }),
            frames: child.map(|c| (entry(pid, p), entry(c, p))),
            parent_text: text,
            child_state: child.map(|c| procfs::stat::read(c).unwrap().state),
        };
        assert!(kids.len() <= 1, "stop {n}: {kids:?}");
        seen.push(both);
    });
    (w, seen)
}

/// Waits until `pid` is gone (reaped), or panics.
fn assert_gone(pid: u32) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let state = procfs::stat::read(pid).map(|s| s.state);
        assert!(
            Instant::now() < deadline,
            "pid {pid} is still there: {state:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_page_is_shared_until_the_child_writes_it() {
    let (w, seen) = walk_both(&[]);
    assert_eq!(w.end, Event::Exited(0), "{}", w.stderr);
    assert_eq!(seen.len(), 3);

    // 1. The parent alone, its page written.
    assert_eq!(seen[0].child, None);
    let alone = seen[0].parent_page.as_ref().unwrap();
    assert_eq!((alone.private_dirty(), alone.shared_dirty()), (PAGE, 0));

    // 2. Forked: the child is stopped, has our maps, and shares the page.
    let shared = &seen[1];
    assert_eq!(shared.child_state, Some('T'), "{shared:?}");
    assert!(shared.same_maps, "the child has the parent's maps");
    for s in [&shared.parent_page, &shared.child_page] {
        let s = s.as_ref().unwrap();
        assert!(s.shared_dirty() >= PAGE, "{s:?}");
        assert_eq!(s.private_dirty(), 0, "{s:?}");
    }

    // 3. The child wrote: a copy each.
    let copied = &seen[2];
    assert_eq!(copied.child, shared.child, "the same child");
    assert_eq!(copied.child_state, Some('T'));
    for s in [&copied.parent_page, &copied.child_page] {
        let s = s.as_ref().unwrap();
        assert!(s.private_dirty() >= PAGE, "{s:?}");
        assert_eq!(s.shared_dirty(), 0, "{s:?}");
    }
    for both in &seen {
        assert_eq!(
            both.parent_text, b"parent",
            "the parent's page never changes"
        );
    }

    let (before, after) = (shared.frames.unwrap(), copied.frames.unwrap());
    for (p, c) in [before, after] {
        assert!(
            pagemap::pfn(p).is_some() && pagemap::pfn(c).is_some(),
            "present"
        );
    }
    if is_root() {
        assert_eq!(pagemap::pfn(before.0), pagemap::pfn(before.1), "one frame");
        assert_ne!(pagemap::pfn(after.0), pagemap::pfn(after.1), "two frames");
        assert_ne!(pagemap::pfn(after.0), Some(0));
    } else {
        // Without CAP_SYS_ADMIN the kernel hides frame numbers.
        assert_eq!(pagemap::pfn(before.0), Some(0));
    }

    let child = shared.child.unwrap();
    assert_gone(child);
    assert_narrated(
        &w,
        &[
            format!("cow: child {child} stopped; parent continues it\n"),
            format!("cow: forked, shared; child {child}\n"),
            format!("cow: child wrote: copied; child {child} stopped"),
            "cow: reaped; ours intact at 0x".to_string(),
        ],
    );
}

#[test]
fn killing_the_parent_at_any_stop_kills_the_child() {
    for at in 0..3 {
        let (mut demo, _out, _err) = spawn(command(BIN, &["-q"]));
        for n in 0..=at {
            assert_eq!(
                demo.wait(STEP_TIMEOUT),
                Some(Event::Stopped(19)),
                "stop {n}"
            );
            if n < at {
                demo.cont().unwrap();
            }
        }
        let child = children(demo.pid).first().copied();
        assert_eq!(child.is_some(), at > 0, "forked after stop 1");
        let pid = demo.pid;
        assert_eq!(demo.kill(), Some(Event::Killed(9)));
        assert_gone(pid);
        // PR_SET_PDEATHSIG: the child, stopped, got SIGKILL with its parent.
        if let Some(c) = child {
            assert_gone(c);
        }
    }
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 3);
    assert_eq!(w.stdout, "");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    // The parent's; strace without -f leaves the child untraced.
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve", "mmap", "getpid", "kill", "getpid", "clone", "wait4", "getpid", "kill",
            "kill", "wait4", "getpid", "kill", "kill", "wait4", "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "'-x'");
    assert_usage_error(BIN, &["2"], "unexpected argument '2'");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn a_refused_mapping_is_enomem_with_status_1() {
    // Address space for what exec set up, not for the page.
    let first = &walk_ok(BIN, &["-q"], 3).stops[0];
    let limit = procfs::limits::ulimit_v(&first.maps, PAGE, 0);
    let w = walk_under(&limit, BIN, &["-q"]);
    assert_failed(&w, 0, "mmap failed: ENOMEM\n");
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}

/// The parent checks its page at each of the child's stops: if the page
/// no longer reads "parent", it says so in one line and exits 1, and the
/// stopped child dies with it (PR_SET_PDEATHSIG).
#[test]
fn a_changed_parent_page_is_one_line_and_status_1() {
    use std::os::unix::fs::FileExt;
    let mut child = 0;
    let w = procfs::testing::walk_with(procfs::testing::command(BIN, &[]), |stop, demo| {
        if stop != 1 {
            return;
        }
        // Both are stopped after the fork: overwrite the parent's page
        // (its one anonymous line) through /proc/PID/mem.
        let maps = procfs::maps::read(demo.pid).unwrap();
        let page = maps
            .iter()
            .find(|m| m.path.is_empty() && m.anonymous() && m.end - m.start == 4096)
            .expect("the parent's page");
        let mem = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{}/mem", demo.pid))
            .unwrap();
        mem.write_all_at(b"XXXXXX", page.start).unwrap();
        child = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", demo.pid))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    });
    assert_eq!(w.end, Event::Exited(1), "{}", w.stderr);
    assert!(
        w.stderr.ends_with("cow: the parent's page changed\n"),
        "{}",
        w.stderr
    );
    // The child, stopped when its parent died, is killed (SIGKILL ends a
    // stopped process too) and reaped by init: nothing is left stopped.
    let gone = || procfs::stat::read(child).map_or(true, |s| matches!(s.state, 'Z' | 'X'));
    let deadline = std::time::Instant::now() + procfs::testing::STEP_TIMEOUT;
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(gone(), "child {child} left behind");
}
