//! `cargo tour --arch i686|both [--3gb]`: the 32-bit builds in the tour,
//! the notes on the 32-bit layout, the stop-by-stop comparison, and the
//! one command to type where the i686 target is missing.

mod common;
use common::*;

/// Skips (loudly) where the i686 demos cannot run; fails under CI=true.
fn can_run_i686() -> bool {
    procfs::i686::demos_for_test().is_some()
}

/// The range of the first maps line of `stdout` that names `what` (after
/// a `+`/`~` mark, if any), as a mapping.
fn line_of(stdout: &str, what: &str) -> procfs::Mapping {
    let range = stdout
        .lines()
        .filter(|l| l.contains(what))
        .flat_map(|l| l.split_whitespace().take(2))
        .find(|w| {
            w.split_once('-').is_some_and(|(a, b)| {
                !a.is_empty()
                    && [a, b]
                        .iter()
                        .all(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
            })
        })
        .unwrap_or_else(|| panic!("no {what} line:\n{stdout}"));
    procfs::Mapping::parse(&format!("{range} r--p 00000000 00:00 0")).unwrap()
}

#[test]
fn arch_i686_runs_the_32_bit_build_and_explains_its_layout() {
    if !can_run_i686() {
        return;
    }
    let (out, _) = succeeded(&tour(&["--arch", "i686", "stop", "brk"]));
    assert!(
        out.contains("$ target/i686-unknown-linux-gnu/release/stop\n"),
        "{out}"
    );
    assert!(out.contains("\n  08048000-08049000 r--p"), "{out}");
    assert!(
        out.contains("32-bit (i386) process on a 64-bit kernel: user space ends at 0xffffe000")
    );
    assert!(
        !out.contains("[vsyscall]  "),
        "no [vsyscall] line for i386: {out}"
    );
    let stack = line_of(&out, "[stack]");
    assert!(
        stack.end <= 0xffff_e000 && stack.end > 0xc000_0000,
        "{stack:x?}"
    );
    let heap = line_of(&out, "[heap]");
    assert!(
        heap.start > 0x0804_8000 && heap.start < 0x0c04_8000,
        "{heap:x?}"
    );
    assert!(out.contains("tour: 2 demos, all exited 0"), "{out}");
}

#[test]
fn three_gb_puts_the_stack_below_0xc0000000_as_in_the_seed() {
    if !can_run_i686() {
        return;
    }
    let (out, _) = succeeded(&tour(&["--arch", "i686", "--3gb", "stop"]));
    assert!(out.contains("$ setarch i386 --3gb target/i686-unknown-linux-gnu/release/stop"));
    assert!(out.contains("ADDR_LIMIT_3GB (setarch i386 --3gb): user space ends at 0xc0000000"));
    let stack = line_of(&out, "[stack]");
    assert!(
        stack.end <= 0xc000_0000 && stack.end > 0xb000_0000,
        "{stack:x?}"
    );
    let vdso = line_of(&out, "[vdso]");
    assert!(
        vdso.start < stack.start && vdso.start > 0xb000_0000,
        "{vdso:x?}"
    );
}

#[test]
fn arch_both_shows_each_stop_twice_and_names_the_differences() {
    if !can_run_i686() {
        return;
    }
    let dir = Temp::new("both");
    let (out, _) = succeeded(&tour(&["--arch", "both", "--save", dir.arg(), "stop"]));
    let x86 = out.find("-- stop: stop 1 of 1").expect(&out);
    let i686 = out.find("-- stop.i686: stop 1 of 1").expect(&out);
    let diff = out.find("x86-64 vs i686 at this stop:").expect(&out);
    assert!(x86 < i686 && i686 < diff, "{out}");
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let digits = out
        .lines()
        .find(|l| l.trim_start().starts_with("hex digits"))
        .unwrap();
    assert_eq!(words(digits)[2..], ["12", "vs", "8"], "{digits}");
    let program = out
        .lines()
        .find(|l| l.trim_start().starts_with("program "))
        .unwrap();
    assert_eq!(
        words(program)[1..],
        ["0x400000", "vs", "0x8048000"],
        "{program}"
    );
    let bytes = out
        .lines()
        .find(|l| l.trim_start().starts_with("file bytes"))
        .unwrap();
    let sizes: Vec<u64> = [2, 4]
        .iter()
        .map(|&i| words(bytes)[i].parse().unwrap())
        .collect();
    let on_disk = |p: &str| {
        std::fs::metadata(procfs::i686::workspace().join(p))
            .unwrap()
            .len()
    };
    assert_eq!(
        sizes[1],
        on_disk("target/i686-unknown-linux-gnu/release/stop")
    );
    assert!(sizes[0] > 0);
    // The recording keeps both runs, each with its personality at the stop.
    let runs = std::fs::read_to_string(dir.0.join("runs")).unwrap();
    assert_eq!(
        runs.lines().collect::<Vec<_>>(),
        ["stop", "stop.i686"],
        "{runs}"
    );
    assert!(dir.0.join("stop.i686/1/personality").is_file());
}

#[test]
fn three_gb_without_i686_and_both_with_pause_are_usage_errors() {
    for args in [
        &["--3gb", "stop"][..],
        &["--arch", "both", "--pause"],
        &["--arch", "x"],
    ] {
        let o = tour(args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(
            err.starts_with("error: ") && err.contains("usage: cargo tour"),
            "{err}"
        );
    }
}

#[test]
fn unported_demos_are_named_not_failed() {
    if !can_run_i686() {
        return;
    }
    let (out, err) = succeeded(&tour(&["--arch", "i686", "pie", "stop"]));
    assert!(err.contains("not ported to i686, left out: pie"), "{err}");
    assert!(out.contains("tour: 1 demo, all exited 0"), "{out}");
    // Nothing left to run is a usage error, not "0 demos, all exited 0".
    let o = tour(&["--arch", "i686", "pie"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("error: no demo to run for i686: --arch both"),
        "{err}"
    );
    assert!(!out.contains("0 demos"), "{out}");
    // With both, it runs on x86-64 alone.
    let (out, err) = succeeded(&tour(&["--arch", "both", "pie"]));
    assert!(
        err.contains("not ported to i686, x86-64 only: pie"),
        "{err}"
    );
    assert!(
        out.contains("-- pie: stop 1 of 1") && !out.contains("pie.i686"),
        "{out}"
    );
}

#[test]
fn a_missing_i686_target_names_the_command_that_adds_it() {
    // A rustc whose sysroot has no i686 library: as without the target.
    let dir = Temp::new("rustc");
    std::fs::create_dir_all(&dir.0).unwrap();
    let fake = dir.0.join("rustc");
    std::fs::write(&fake, format!("#!/bin/sh\necho {}\n", dir.arg())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = tour_cmd(&["--arch", "i686", "stop"])
        .env("RUSTC", &fake)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("add it with: rustup target add i686-unknown-linux-gnu"),
        "{err}"
    );
}
