//! `--diff A B`: two recordings line up by name and relative address,
//! whatever ASLR did; what differs is marked.

use std::process::Stdio;

mod common;
use common::{TOUR, Temp, succeeded, text, tour, tour_cmd};

fn saved(tag: &str, args: &[&str]) -> Temp {
    let dir = Temp::new(tag);
    let mut all = vec!["--save", dir.arg()];
    all.extend_from_slice(args);
    let o = tour_cmd(&all).stdin(Stdio::null()).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", text(&o).1);
    dir
}

fn diff(a: &str, b: &str) -> String {
    let (out, _) = succeeded(&tour(&["--diff", a, b]));
    out
}

#[test]
fn aslr_and_no_aslr_runs_line_up() {
    let demos = ["stop", "brk", "pie"];
    let a = saved("aslr", &demos);
    let mut args = vec!["--no-aslr"];
    args.extend_from_slice(&demos);
    let b = saved("no-aslr", &args);
    let out = diff(a.arg(), b.arg());
    // The absolute addresses differ (pie's without a doubt)...
    let load = |dir: &Temp| std::fs::read_to_string(dir.0.join("pie/1/maps")).unwrap();
    // kernel.randomize_va_space 0 turns ASLR off for every process.
    let aslr = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space");
    if aslr.is_ok_and(|v| v.trim() != "0") {
        assert_ne!(load(&a)[..12], load(&b)[..12], "pie moved");
    }
    // ...but every program line is alike, at the same offset.
    for name in demos {
        let lines: Vec<&str> = out
            .lines()
            .filter(|l| {
                l.get(2..)
                    .is_some_and(|r| r.starts_with(&format!("{name:<15}")))
            })
            .collect();
        assert!(lines.len() >= 3, "{name}: {out}");
        assert!(
            lines.iter().all(|l| l.starts_with("  ")),
            "{name}: {lines:#?}"
        );
        assert!(
            lines.iter().any(|l| l.contains(" r-xp      +0x1000 ")),
            "{lines:#?}"
        );
    }
    assert!(
        out.contains("   B: $ setarch -R target/release/pie"),
        "{out}"
    );
    for special in ["[vdso]", "[stack]", "[vsyscall]"] {
        let line = out.lines().find(|l| l.contains(special)).unwrap();
        assert!(line.starts_with("  "), "{line}");
    }
}

#[test]
fn other_sizes_show_as_changes() {
    let a = saved("mmap", &["mmap"]);
    // Where the tour built it: TARGET/release, next to TARGET/PROFILE/tour.
    let target = std::path::Path::new(TOUR)
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    let bin = target.join("release/mmap");
    let bin = bin.to_str().unwrap();
    let b = saved("mmap-64m", &["--exec", bin, "64M", "4K"]);
    let out = diff(a.arg(), b.arg());
    assert!(
        out.contains("~ (anon)         rw-p         +0x0  512 MiB -> 64 MiB, -448 MiB"),
        "{out}"
    );
    assert!(out.contains("512 KiB -> 4 KiB, -508 KiB"), "{out}");
    // Two stops alone.
    let b_run = std::fs::read_to_string(b.0.join("runs")).unwrap();
    let b_stop = b.0.join(b_run.trim()).join("2");
    let one = diff(&format!("{}/mmap/2", a.arg()), b_stop.to_str().unwrap());
    assert!(one.contains("diff: 1 stop compared:"), "{one}");
    assert!(one.contains("512 MiB -> 64 MiB"), "{one}");
    assert!(
        !one.contains("512 KiB"),
        "stop 2 has no second mapping: {one}"
    );
}

#[test]
fn a_diff_of_nothing_names_what_is_missing() {
    let a = saved("lonely", &["stop"]);
    let o = tour(&["--diff", a.arg(), "/nonexistent/x"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("tour: cannot diff: /nonexistent/x/format: no recording"),
        "{err}"
    );
    let o = tour(&["--diff", &format!("{}/stop/9", a.arg()), a.arg()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("/stop/9: no stop '9': the run has 1 to 1"),
        "{err}"
    );
    let o = tour(&["--diff", a.arg()]);
    assert_eq!(o.status.code(), Some(2));
}
