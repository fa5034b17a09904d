//! `cow --help` and `cow -h` on the real binary: the usage on stdout,
//! status 0, nothing on stderr, and no stop (`run` fails on one).

use procfs::Event;
use procfs::testing::run;

const BIN: &str = env!("CARGO_BIN_EXE_cow");

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    for args in [&["--help"][..], &["-h"], &["-q", "--help"]] {
        let (end, out, err) = run(BIN, args);
        assert_eq!(end, Event::Exited(0), "{args:?}: {err}");
        assert!(out.starts_with("usage: cow [-q]"), "{args:?}: {out:?}");
        assert_eq!(err, "", "{args:?}");
    }
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
