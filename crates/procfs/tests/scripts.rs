//! The shell scripts of scripts/, run for real: the size report, the
//! opt-level matrix, maps.sh and the stop loop of lib.sh they share.

use std::path::PathBuf;
use std::process::Command;

use procfs::testing::bash;
use procfs::workspace::root;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Crates that depend on `sys`: the demos, as the scripts find them.
fn demos() -> Vec<String> {
    procfs::workspace::demo_crates(&root())
}

#[test]
fn size_report_lists_every_demo_within_its_limit() {
    let (code, out, err) = bash("scripts/sizes.sh", &[], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let demos = demos();
    assert!(demos.contains(&"minimal".to_string()) && demos.len() >= 2);
    for demo in &demos {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(demo))
            .unwrap_or_else(|| panic!("no row for {demo}:\n{out}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        let file: u64 = cols[1].parse().unwrap();
        let stripped: u64 = cols[2].parse().unwrap();
        let on_disk = std::fs::metadata(target_dir().join("release").join(demo))
            .unwrap()
            .len();
        assert_eq!(file, on_disk, "{row}");
        assert!(stripped < file, "strip removes the symbols: {row}");
        let limit = match demo.as_str() {
            "minimal" => 1024,
            "auxv" | "vdso" | "paging" => 8192,
            _ => 4096,
        };
        assert!(stripped <= limit, "{row}");
        assert!(row.contains("[R E "), "a text segment: {row}");
        assert!(!row.contains("RWE"), "no RWX segment: {row}");
    }
}

#[test]
fn size_report_fails_on_a_missing_binary() {
    let empty = std::env::temp_dir().join(format!("mmm-sizes-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, err) = bash("scripts/sizes.sh", &[], &[("BIN_DIR", &empty)]);
    std::fs::remove_dir(&empty).unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("minimal is missing"), "{err}");
}

#[test]
fn opt_matrix_runs_demos_through_their_stops() {
    let (code, out, err) = bash(
        "scripts/opt-matrix.sh",
        &["-l", "0 s", "minimal", "stop"],
        &[],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // The i686 builds too, where the target is there (CI=true: it must be).
    let i686 = procfs::i686::target_installed() || std::env::var("CI").as_deref() == Ok("true");
    let expected: String = ["0", "s"]
        .iter()
        .map(|l| {
            let runs = "minimal(0) stop(1) stop-execstack(1) stop-nognustack(1)";
            let x86 = format!("opt-level {l}: {runs}\n");
            let i386 = format!("opt-level {l} (i686): {runs}\n");
            if i686 { x86 + &i386 } else { x86 }
        })
        .collect();
    assert_eq!(out, expected, "{err}");
}

#[test]
fn maps_sh_shows_the_maps_at_each_stop() {
    let (code, out, err) = bash("scripts/maps.sh", &["stop", "-q"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("--- stop 1: cat /proc/"), "{out}");
    let maps: Vec<_> = out
        .lines()
        .filter_map(|l| procfs::maps::Mapping::parse(l).ok())
        .collect();
    assert!(procfs::maps::find(&maps, "[stack]").is_some(), "{out}");
    assert!(
        maps.iter().any(|m| m.path.ends_with("/release/stop")),
        "{out}"
    );
    assert!(
        out.ends_with("--- stop exited with status 0 after 1 stops\n"),
        "{out}"
    );
}

#[test]
fn maps_sh_shows_a_demos_stopped_child_and_leaves_it_to_the_demo() {
    // cow's parent continues its child itself: maps.sh shows the child's
    // maps at the parent's stops 2 and 3 and never sends it SIGCONT.
    let (code, out, err) = bash("scripts/maps.sh", &["cow", "-q"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        out.matches("--- and its stopped child: cat /proc/").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("--- stop ").count(),
        3,
        "only the parent's stops: {out}"
    );
    assert!(
        out.ends_with("--- cow exited with status 0 after 3 stops\n"),
        "{out}"
    );
}

#[test]
fn continue_stops_reads_the_state_past_a_hostile_comm() {
    // A shell started through a link with this name has it as comm: the
    // third space-separated word of /proc/PID/stat is then "op", not "T".
    let dir = std::env::temp_dir().join(format!("mmm-lib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("st) op (x");
    std::os::unix::fs::symlink("/bin/sh", &link).unwrap();
    let script = r#"
        source scripts/lib.sh
        on_stop() { cat "/proc/$1/comm"; }
        "$1" -c 'kill -STOP $$; kill -STOP $$' &
        continue_stops $! on_stop
        wait $!
    "#;
    let out = Command::new("bash")
        .current_dir(root())
        .args(["-c", script, "bash"])
        .arg(&link)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text, "st) op (x\nst) op (x\n");
}
