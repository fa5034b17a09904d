//! The scripts a reader runs by hand, as the README shows them, on bad
//! input and on the way out: scripts/maps.sh (no DEMO, a name that is no
//! demo, a demo's own usage error, Ctrl-C while the demo runs),
//! scripts/opt-matrix.sh (usage errors), scripts/gdb/maps.gdb (a program
//! a signal kills),
//! scripts/samples.sh (rewrites a sample block, keeps the rest of the file
//! and its mode, leaves no temporary file) and the cargo-make tasks that
//! take a DEMO. Each script runs with TMPDIR set to a fresh directory, so
//! that a temporary file it leaves behind is found.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use procfs::testing::{bash, tool};

mod common;
use common::{Temp, root};

#[test]
fn maps_sh_refuses_what_is_no_demo_in_one_line_with_exit_2() {
    let tmp = Temp::dir("maps-usage");
    let usage = "usage: scripts/maps.sh DEMO [ARGS...]";
    // procfs is a library crate and tour a tool: neither is a demo, and
    // neither may be built or started as one; nor a path, nor two words.
    for args in [
        &[][..],
        &["nosuchdemo"][..],
        &["procfs"][..],
        &["tour"][..],
        &["../crates/stop"][..],
        &["stop brk"][..],
    ] {
        let (code, out, err) = bash("scripts/maps.sh", args, &[("TMPDIR", &tmp.0)]);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(out, "", "{args:?}: nothing runs");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(usage), "{args:?}: {err}");
        if let Some(name) = args.first() {
            assert!(
                err.starts_with(&format!("scripts/maps.sh: no demo '{name}'; the demos: ")),
                "{err}"
            );
            assert!(err.contains(" stop ") && err.contains(" brk "), "{err}");
        }
    }
    assert_eq!(tmp.entries(), Vec::<String>::new(), "no temporary file");
}

#[test]
fn opt_matrix_usage_errors_are_one_line_and_exit_2() {
    let tmp = Temp::dir("opt-usage");
    let usage = "usage: scripts/opt-matrix.sh [-l LEVELS] [DEMO...]";
    for args in [&["-l"][..], &["nosuchdemo"][..], &["-l", "s", "procfs"][..]] {
        let (code, out, err) = bash("scripts/opt-matrix.sh", args, &[("TMPDIR", &tmp.0)]);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(out, "", "{args:?}: nothing is built or run");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(usage), "{args:?}: {err}");
    }
    assert_eq!(tmp.entries(), Vec::<String>::new(), "no temporary file");
}

#[test]
fn maps_sh_passes_on_a_demos_usage_error() {
    let tmp = Temp::dir("maps-demo-usage");
    let (code, out, err) = bash(
        "scripts/maps.sh",
        &["stop", "--bogus"],
        &[("TMPDIR", &tmp.0)],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("unknown option '--bogus'"), "{err}");
    assert!(err.contains("usage: stop"), "{err}");
    assert_eq!(out, "--- stop exited with status 2 after 0 stops\n");
    assert_eq!(tmp.entries(), Vec::<String>::new(), "no temporary file");
}

/// The state letter of /proc/PID/stat, None once PID is gone.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// The children of PID named COMM.
fn children_named(pid: u32, comm: &str) -> Vec<u32> {
    let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
    list.unwrap_or_default()
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .filter(|c| {
            std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n.trim() == comm)
        })
        .collect()
}

/// Kills the process group of a script that a failed assertion left.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        let _ = self.0.wait();
    }
}

#[test]
fn maps_sh_ctrl_c_ends_the_demo_too() {
    let tmp = Temp::dir("maps-ctrl-c");
    // minimal SECONDS sleeps: the demo is there when Ctrl-C comes. Its
    // own process group, as a terminal's foreground job, so that SIGINT
    // goes to the script and the demo at once, as Ctrl-C sends it.
    let mut script = Group(
        Command::new("bash")
            .current_dir(root())
            .args(["scripts/maps.sh", "minimal", "600"])
            .env("TMPDIR", &tmp.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let pid = script.0.id();
    // The script builds the demo first (cargo), then starts it. A
    // deadline only against a hang: the assertion is on what is left.
    let deadline = Instant::now() + Duration::from_secs(300);
    let demo = loop {
        if let Some(&d) = children_named(pid, "minimal").first() {
            break d;
        }
        assert!(script.0.try_wait().unwrap().is_none(), "maps.sh ended");
        assert!(Instant::now() < deadline, "minimal never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    let sent = Command::new("kill")
        .args(["-INT", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = script.0.wait().unwrap();
    assert_eq!(status.code(), Some(130), "exit 130: killed by SIGINT");
    // SIGKILL is sent as the script exits; the demo, now init's child,
    // is gone once init has reaped it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(state(demo), None | Some('Z')) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        matches!(state(demo), None | Some('Z')),
        "minimal ({demo}) is left: state {:?}",
        state(demo)
    );
    assert_eq!(tmp.entries(), Vec::<String>::new(), "no temporary file");
}

#[test]
fn maps_gdb_says_which_signal_killed_the_program() {
    let Some(gdb) = tool("gdb") else { return };
    // A program that dies of a signal: without $_exitsignal the loop
    // went on to `info proc mappings` of no process, an error.
    let o = Command::new(gdb)
        .current_dir(root())
        .args(["-nx", "-batch", "-x", "scripts/gdb/maps.gdb", "--args"])
        .args(["/bin/sh", "-c", "kill -TERM $$"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        out.lines().last(),
        Some("=== the demo was killed by signal 15 ==="),
        "{out}{err}"
    );
    assert!(out.contains("=== stopped: info proc mappings ==="), "{out}");
    assert!(!err.contains("Error"), "{err}");
}

#[test]
fn samples_sh_rewrites_the_sample_and_keeps_the_rest_and_the_mode() {
    let tmp = Temp::dir("samples-tmp");
    let docs = Temp::dir("samples-docs");
    let file = docs.0.join("README.md");
    let before = "# A lesson\n\nSome words.\n\n<!-- sample: stop -->\n";
    let after = "<!-- /sample -->\n\nMore words.\n";
    std::fs::write(
        &file,
        format!("{before}```text\nstale output\n```\n{after}"),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = bash("scripts/samples.sh", &[path], &[("TMPDIR", &tmp.0)]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, format!("samples: {path}\n"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(&format!("{before}```text\n")), "{text}");
    assert!(text.ends_with(&format!("```\n{after}")), "{text}");
    assert!(!text.contains("stale output"), "{text}");
    // What `tour --no-aslr stop` shows: its command line and its maps.
    assert!(
        text.contains("\n$ setarch -R target/release/stop\n"),
        "{text}"
    );
    for line in ["00400000-00401000", "r-xp", "[stack]", "[vdso]"] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(
        !text.lines().any(|l| l.ends_with(' ')),
        "trailing blanks are cut"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the README keeps its mode");
    assert_eq!(tmp.entries(), Vec::<String>::new(), "no temporary file");
}

#[test]
fn cargo_make_tasks_that_take_a_demo_refuse_anything_else() {
    if tool("cargo-make").is_none() {
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for task in ["gdb", "strace", "readelf", "objdump"] {
        for name in [None, Some("nosuchdemo"), Some("procfs")] {
            let o = Command::new(&cargo)
                .current_dir(root())
                .args(["make", "--no-workspace", task])
                .args(name)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success(), "{task} {name:?}: {err}");
            // Under CI=true cargo-make traces the script (`+ echo …`
            // lines): those are not what the script printed.
            let ours: Vec<&str> = err
                .lines()
                .filter(|l| !l.starts_with("+ "))
                .filter(|l| l.contains(&format!("usage: cargo make {task} DEMO")))
                .collect();
            assert_eq!(ours.len(), 1, "{task} {name:?}: one line: {err}");
            if let Some(name) = name {
                let start = format!("cargo make {task}: no demo '{name}'; the demos: ");
                assert!(ours[0].starts_with(&start), "{err}");
            }
            assert!(
                err.contains("exit code: 2"),
                "{task} {name:?}: a usage error: {err}"
            );
        }
    }
}
