//! The real tour on the real demos: the diff marks each lesson should
//! show, the options, and what happens when things go wrong.
//!
//! No timing asserts: timeouts below are only there so that a broken
//! tour fails instead of hanging, and are generous for a loaded machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use procfs::testing::tool;

mod common;
use common::{
    Live, PATIENCE, TOUR, assert_gone, dev_build, maps_gdb, succeeded, text, tour, tour_cmd,
};

/// The tour's output cut at each stop heading (`-- NAME: ...`); entry 0
/// is what came before the first stop.
fn stops(out: &str) -> Vec<&str> {
    out.split("\n-- ").collect()
}

/// The maps lines of one stop that carry `mark` and mention `what`.
fn marked<'a>(stop: &'a str, mark: char, what: &str) -> Vec<&'a str> {
    stop.lines()
        .filter(|l| l.starts_with(&format!("{mark} ")) && l.contains(what))
        .collect()
}

/// Runs the named demos through the tour and checks it went well.
fn tour_ok(args: &[&str]) -> String {
    let o = tour(args);
    let (out, err) = text(&o);
    assert!(
        o.status.success(),
        "tour {args:?}: {}\n{out}\n{err}",
        o.status
    );
    assert!(out.contains("all exited 0"), "{out}");
    assert!(!out.contains("not in this tree yet"), "{out}");
    out
}

#[test]
fn unknown_demo_lists_the_demos_and_exits_2() {
    let o = tour(&["stop", "nosuch"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out, "");
    assert!(err.starts_with("error: unknown demo 'nosuch'"), "{err}");
    for name in ["minimal", "stop", "brk", "stack", "mmap", "vdso"] {
        assert!(err.contains(&format!("\n  {name} ")), "{name} in {err}");
    }
}

#[test]
fn bad_option_exits_2_with_usage() {
    let o = tour(&["--frobnicate"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.starts_with("error: unknown option '--frobnicate'\nusage: cargo tour"),
        "{err}"
    );
    // Two lines: the problem and a hint, not the whole usage.
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.ends_with("(--help for the options and the other forms)\n"),
        "{err}"
    );
}

#[test]
fn list_names_every_demo_in_lecture_order() {
    let (out, _) = succeeded(&tour(&["--list"]));
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "minimal", "stop", "brk", "stack", "mmap", "paging", "mprotect", "cow", "sections",
            "fixed", "filemap", "pie", "auxv", "vdso", "threads", "guard", "tls"
        ]
    );
}

#[test]
fn minimal_is_read_while_it_sleeps_and_stop_shows_its_segments() {
    let out = tour_ok(&["stop", "minimal"]);
    // Lecture order, whatever order they were named in.
    assert!(
        out.find("1/2 minimal").unwrap() < out.find("2/2 stop").unwrap(),
        "{out}"
    );
    let s = stops(&out);
    assert_eq!(s.len(), 3, "{out}");
    assert!(s[1].starts_with("minimal: asleep in nanosleep"), "{}", s[1]);
    assert!(
        s[1].lines()
            .any(|l| l.contains("r-xp     4 KiB ") && l.contains(" minimal        .text")),
        "{}",
        s[1]
    );
    assert!(
        !s[1]
            .lines()
            .any(|l| l.contains("rw-p     4 KiB ") && l.contains(" minimal        ")),
        "minimal has no statics: {}",
        s[1]
    );
    let stop = s[2];
    assert!(stop.starts_with("stop: stop 1 of 1"), "{stop}");
    assert!(stop.contains("  | stop: started"), "the narration: {stop}");
    assert!(
        stop.lines().any(|l| l.contains("r--p     4 KiB ")
            && l.contains(" stop           ELF + program headers, .rodata")),
        "{stop}"
    );
    assert!(stop.contains(": code (_start, stop::main"), "{stop}");
    assert!(stop.contains("statics (sys::lesson::NEXT_STOP)"), "{stop}");
    for special in ["[stack]", "[vdso]", "[vvar]"] {
        assert!(stop.contains(&format!("  {special}")), "{special}: {stop}");
    }
    assert!(!stop.contains("[heap]         "), "{stop}");
    // The first stop of a demo has nothing to compare with.
    assert!(
        marked(stop, '+', "").is_empty() && marked(stop, '~', "").is_empty(),
        "{stop}"
    );
    assert!(out.contains("== stop: 1 stop, exited 0"), "{out}");
}

#[test]
fn brk_heap_is_new_then_grown() {
    let out = tour_ok(&["brk"]);
    let s = stops(&out);
    assert_eq!(s.len(), 4, "three stops: {out}");
    assert!(
        !s[1].contains("[heap]         "),
        "no heap line yet: {}",
        s[1]
    );
    assert_eq!(marked(s[2], '+', "[heap]").len(), 1, "{}", s[2]);
    let grown = marked(s[3], '~', "[heap]");
    assert_eq!(grown.len(), 1, "{}", s[3]);
    // 4100 bytes more: one or two pages, never a fraction.
    assert!(
        grown[0].contains("+4 KiB") || grown[0].contains("+8 KiB"),
        "{}",
        grown[0]
    );
    assert!(out.contains("First to last stop: + [heap]"), "{out}");
}

#[test]
fn stack_grows_down() {
    let out = tour_ok(&["stack"]);
    let s = stops(&out);
    let grown = marked(s[2], '~', "[stack]");
    assert_eq!(grown.len(), 1, "{}", s[2]);
    assert!(
        grown[0].contains("132 KiB ->") && grown[0].contains("(grew down)"),
        "{}",
        grown[0]
    );
}

#[test]
fn mmap_512_mib_appears_then_is_gone() {
    let out = tour_ok(&["mmap"]);
    let s = stops(&out);
    assert_eq!(s.len(), 5, "four stops: {out}");
    assert_eq!(marked(s[2], '+', "512 MiB").len(), 1, "{}", s[2]);
    // The 512 KiB mapping is new, or merged into its neighbour.
    let merged = marked(s[3], '~', "a new mapping merged into it");
    assert_eq!(marked(s[3], '+', "").len() + merged.len(), 1, "{}", s[3]);
    assert!(
        marked(s[3], '-', "").is_empty(),
        "a merge unmaps nothing: {}",
        s[3]
    );
    // Gone: its own line removed, or cut from a merged line.
    let gone = marked(s[4], '-', "512 MiB").len() + marked(s[4], '~', "-512 MiB").len();
    assert_eq!(gone, 1, "{}", s[4]);
}

#[test]
fn sections_addresses_point_at_their_lines() {
    let out = tour_ok(&["sections"]);
    let points: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("<- "))
        .collect();
    for place in [
        "(.text)",
        "(.rodata)",
        "(.data)",
        "(.bss)",
        "(stack)",
        "(heap)",
        "(mmap)",
    ] {
        let p: Vec<_> = points.iter().filter(|l| l.contains(place)).collect();
        assert!(!p.is_empty(), "{place}: {out}");
        assert!(p.iter().all(|l| l.ends_with(": as printed")), "{p:?}");
    }
}

#[test]
fn pie_moves_unless_no_aslr() {
    let load = |args: &[&str]| {
        let out = tour_ok(args);
        out.lines()
            .find(|l| l.contains("a PIE: loaded"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no load offset in {out}"))
    };
    let a = load(&["--no-aslr", "pie"]);
    let b = load(&["--no-aslr", "pie"]);
    assert_eq!(a, b, "--no-aslr: the same address twice");
    // kernel.randomize_va_space (Documentation/admin-guide/sysctl/kernel.rst):
    // 0 turns ASLR off for every process.
    let aslr = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space");
    if aslr.is_ok_and(|v| v.trim() == "0") {
        eprintln!("SKIPPED the moving PIE: randomize_va_space is 0 on this machine");
        return;
    }
    // The load address has 28 or more random bits (vm.mmap_rnd_bits): two
    // runs agree by chance about once in 2^28; a second try rules it out.
    let c = load(&["pie"]);
    let mut d = load(&["pie"]);
    if c == d {
        d = load(&["pie"]);
    }
    assert_ne!(c, d, "without --no-aslr the PIE moves");
}

#[test]
fn auxv_region_is_marked_in_the_stack() {
    let out = tour_ok(&["auxv"]);
    // The command shown is the one run: an empty environment plus one.
    assert!(
        out.lines().any(|l| l
            .strip_prefix("$ env -i LECTURE='memory maps' ")
            .is_some_and(|bin| bin.ends_with("/auxv"))),
        "{out}"
    );
    assert!(
        out.contains("<- 0x") && out.contains("initial stack pointer"),
        "{out}"
    );
    assert!(
        out.contains("the argv strings") && out.contains("the environment strings"),
        "{out}"
    );
}

#[test]
fn raw_prints_proc_lines_unchanged() {
    let mut live = Live::start(&["--pause", "--raw", "stop"], None);
    let pid = live.paused_pid();
    // The demo stays stopped: its maps are what the tour read.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let stop = live.seen.split("\n-- stop: stop 1 of 1\n").nth(1).unwrap();
    // After the demo's own lines (`  |`, `  >`), up to the blank line
    // before the pause prompt. Live keeps every line with its "\n".
    let printed: String = stop
        .lines()
        .skip_while(|l| l.starts_with("  |") || l.starts_with("  >"))
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(printed, maps, "byte for byte as /proc/{pid}/maps");
    live.child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    drop(live.child.stdin.take());
    assert!(live.wait().success(), "{}", live.seen);
}

#[test]
fn raw_with_diagram_draws_both() {
    let out = tour_ok(&["--raw", "--diagram", "brk"]);
    let s = stops(&out);
    let heap = s[2].lines().find(|l| l.ends_with("[heap]")).unwrap();
    assert!(
        heap.starts_with(|c: char| c.is_ascii_hexdigit()),
        "raw: {heap}"
    );
    assert!(s[2].contains("+ | [heap]"), "and the picture: {}", s[2]);
}

#[test]
fn a_bad_time_limit_is_a_usage_error() {
    for bad in ["-1", "inf", "NaN", "soon", "1e300"] {
        let o = tour_cmd(&["stop"])
            .env("TOUR_TIMEOUT", bad)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {out}{err}");
        assert!(
            err.starts_with(&format!(
                "error: TOUR_TIMEOUT must be a number of seconds, not '{bad}'\nusage: "
            )),
            "{err}"
        );
    }
}

#[test]
fn diagram_draws_boxes_with_gaps() {
    let out = tour_ok(&["--diagram", "brk"]);
    let s = stops(&out);
    assert!(s[2].contains("  +------"), "{}", s[2]);
    assert!(
        s[2].contains("+ | [heap]"),
        "the new box is marked: {}",
        s[2]
    );
    assert!(s[2].contains(":  gap "), "{}", s[2]);
}

#[test]
fn no_colour_when_stdout_is_not_a_terminal() {
    // Not a terminal here: no escape codes even without NO_COLOR. The
    // other cases (a terminal, NO_COLOR set or empty) are unit tests of
    // Style::new, since a test has no terminal to give.
    let o = Command::new(TOUR)
        .args(["stop"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stdout).contains('\x1b'));
}

// ---- faults ---------------------------------------------------------------

impl Live {
    fn start(args: &[&str], timeout: Option<&str>) -> Live {
        let mut cmd = tour_cmd(args);
        if let Some(t) = timeout {
            cmd.env("TOUR_TIMEOUT", t);
        }
        Live::spawn(cmd)
    }

    /// The demo's pid from the pause prompt.
    fn paused_pid(&mut self) -> u32 {
        pid_in_prompt(&self.until("paused: pid "))
    }

    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // Keep what is left, for the asserts.
                while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.seen += &l;
                    self.seen += "\n";
                }
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "the tour did not end:\n{}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn signal(pid: u32, sig: i32) {
    assert_eq!(
        procfs::child::raw_kill(pid as i32, sig),
        0,
        "kill {pid} {sig}"
    );
}

#[test]
fn a_demo_killed_while_paused_is_reported_at_once() {
    let mut live = Live::start(&["--pause", "stop", "brk"], None);
    let pid = live.paused_pid();
    signal(pid, procfs::child::SIGKILL);
    // stdin stays open, nobody pressed Enter: the tour notices by itself.
    let l = live.until("was killed by");
    assert!(
        l.contains(&format!(
            "stop (pid {pid}) was killed by SIGKILL (9) after stop 1"
        )),
        "{l}"
    );
    // The tour goes on with the next demo, then fails at the end.
    live.paused_pid();
    live.child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"\n\n\n\n")
        .unwrap();
    drop(live.child.stdin.take());
    let status = live.wait();
    assert_eq!(status.code(), Some(1), "{}", live.seen);
    assert!(live.seen.contains("tour: FAILED: stop"), "{}", live.seen);
    assert!(
        live.seen.contains("== brk: 3 stops, exited 0"),
        "{}",
        live.seen
    );
}

#[test]
fn minimal_killed_while_paused_is_reported() {
    // The tour stopped minimal itself; the kill must not be answered by
    // a SIGCONT to a dead process.
    let mut live = Live::start(&["--pause", "minimal"], None);
    let pid = live.paused_pid();
    signal(pid, procfs::child::SIGKILL);
    let l = live.until("was killed by");
    assert!(
        l.contains(&format!("minimal (pid {pid}) was killed by SIGKILL (9)")),
        "{l}"
    );
    drop(live.child.stdin.take());
    assert_eq!(live.wait().code(), Some(1), "{}", live.seen);
}

#[test]
fn a_reader_that_goes_away_ends_the_tour_quietly() {
    // `cargo tour | head`. The pause holds the tour at a known place, with
    // more to print, while the reader goes away.
    let mut tour = tour_cmd(&["--pause", "brk", "stack"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(tour.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("paused: pid ") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no pause");
    }
    let pid = pid_in_prompt(&line);
    drop(reader);
    // Enter: brk goes on to its next stop, which the tour cannot print.
    tour.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    drop(tour.stdin.take());
    let mut err = String::new();
    tour.stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = tour.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "no panic, no signal: {status}\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "stack did not run: {err}");
    assert_gone(pid, "the demo");
}

#[test]
fn without_pidfd_a_pause_warns_once() {
    let Some(strace) = tool("strace") else { return };
    // strace makes pidfd_open fail as on a kernel before 5.3. Without -f
    // only the tour's main thread is traced: the demos run as ever.
    let mut tour = Command::new(strace)
        .args(["-o", "/dev/null", "-e", "trace=pidfd_open"])
        .args(["-e", "inject=pidfd_open:error=ENOSYS", TOUR])
        .args(["--pause", "stop", "brk"])
        .env("NO_COLOR", "1")
        .env_remove("TOUR_TIMEOUT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One Enter for stop's pause, then EOF: no more pauses.
    tour.stdin.take().unwrap().write_all(b"\n").unwrap();
    let o = tour.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert_eq!(
        err.matches("pidfd_open failed").count(),
        1,
        "one warning for two demos: {err}"
    );
    assert!(
        err.contains("a demo killed during --pause is only noticed at Enter"),
        "{err}"
    );
}

#[test]
fn enter_continues_and_eof_ends_pausing() {
    let mut live = Live::start(&["--pause", "brk"], None);
    let pid = live.paused_pid();
    assert_eq!(
        procfs::stat::read(pid).unwrap().state,
        'T',
        "stopped while paused"
    );
    live.child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    live.paused_pid();
    drop(live.child.stdin.take());
    assert!(live.wait().success(), "{}", live.seen);
    assert!(live.seen.contains("no more pauses"), "{}", live.seen);
}

fn signal_to_tour_leaves_no_demo(sig: i32) {
    let mut live = Live::start(&["--pause", "brk"], None);
    let pid = live.paused_pid();
    signal(live.child.id(), sig);
    let status = live.wait();
    assert!(!status.success(), "signal {sig}");
    assert_gone(pid, "the demo");
}

#[test]
fn sigterm_to_the_tour_leaves_no_demo() {
    signal_to_tour_leaves_no_demo(procfs::child::SIGTERM);
}

#[test]
fn sighup_to_the_tour_leaves_no_demo() {
    signal_to_tour_leaves_no_demo(1);
}

#[test]
fn sigint_to_the_tour_leaves_no_demo() {
    signal_to_tour_leaves_no_demo(2);
}

#[test]
fn sigkill_to_the_tour_leaves_no_demo() {
    signal_to_tour_leaves_no_demo(procfs::child::SIGKILL);
}

/// The pid of the tour's one child process.
fn child_of(pid: u32) -> u32 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let kids = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
            .collect::<String>();
        if let Some(k) = kids.split_whitespace().next() {
            return k.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "no child of {pid}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_running_demo_killed_from_elsewhere_is_reported() {
    let mut live = Live::start(&["--exec", "sleep", "100"], None);
    let pid = child_of(live.child.id());
    signal(pid, procfs::child::SIGTERM);
    let l = live.until("was killed by");
    assert!(l.contains("SIGTERM (15)"), "{l}");
    assert_eq!(live.wait().code(), Some(1));
}

#[test]
fn a_demo_that_hangs_is_killed_after_the_time_limit() {
    // `; exit`: the shell forks sleep instead of becoming it.
    let mut live = Live::start(&["--exec", "sh", "-c", "sleep 100; exit"], Some("1"));
    let pid = child_of(live.child.id());
    let sleep = child_of(pid);
    let l = live.until("neither stopped nor exited");
    assert!(l.contains("within 1 s: killed it"), "{l}");
    assert_eq!(live.wait().code(), Some(1));
    assert_gone(pid, "the demo");
    assert_gone(sleep, "its sleep");
}

#[test]
fn sigterm_while_a_demo_runs_leaves_no_demo() {
    let mut live = Live::start(&["--exec", "sleep", "100"], None);
    let pid = child_of(live.child.id());
    signal(live.child.id(), procfs::child::SIGTERM);
    assert!(!live.wait().success());
    assert_gone(pid, "the demo");
}

// ---- gdb ------------------------------------------------------------------

#[test]
fn gdb_script_prints_mappings_at_every_stop_and_ends_normally() {
    let Some(gdb) = tool("gdb") else { return };
    let o = maps_gdb(&gdb, &dev_build("brk"));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert_eq!(
        out.matches("Mapped address spaces:").count(),
        3,
        "{out}\n{err}"
    );
    assert_eq!(out.matches("[heap]").count(), 2, "{out}");
    assert!(out.contains("exited normally"), "{out}\n{err}");
}

/// The pid in the pause prompt, `  paused: pid 4242 stays stopped. …`.
fn pid_in_prompt(line: &str) -> u32 {
    let after = line.split("pid ").nth(1).expect("a pid in the prompt");
    after.split(' ').next().unwrap().parse().expect("a number")
}
