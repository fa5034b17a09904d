//! `--save DIR` and `--replay DIR`: a recording replays exactly as the
//! live run was shown, reads only itself, and a damaged one is refused
//! with the file named.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use procfs::testing::tool;

mod common;
use common::{TOUR, Temp, succeeded, text, tour_cmd};

/// The tour, with COLUMNS unset: a width would change the text.
fn tour(args: &[&str]) -> Output {
    tour_cmd(args)
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .expect("run the tour")
}

/// Runs the tour live with `--save`, and checks it went well.
fn saved(tag: &str, args: &[&str]) -> (Temp, String) {
    let dir = Temp::new(tag);
    let mut all = vec!["--save", dir.arg()];
    all.extend_from_slice(args);
    let o = tour(&all);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{args:?}: {out}\n{err}");
    (dir, out)
}

/// The summary's timing, `0.00 s.`, as `T s.`.
fn masked(out: &str) -> String {
    out.lines()
        .map(|l| match l.find(" s.") {
            Some(end) if l.starts_with("== ") => {
                let start = l[..end].rfind(' ').unwrap() + 1;
                format!("{}T{}\n", &l[..start], &l[end..])
            }
            _ => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn a_replay_prints_what_the_live_run_printed() {
    let demos = ["minimal", "stop", "brk", "mmap", "sections", "auxv", "pie"];
    let (dir, live) = saved("same", &demos);
    let (again, _) = succeeded(&tour(&["--replay", dir.arg()]));
    assert_eq!(masked(&again), masked(&live));
    assert!(live.contains("7 demos, all exited 0"), "{live}");
    // With other options the same stops are shown otherwise.
    let (pic, _) = succeeded(&tour(&["--replay", dir.arg(), "--diagram", "brk"]));
    assert!(pic.contains("== 1/1 brk:"), "only brk: {pic}");
    assert!(pic.contains("+ | [heap]"), "{pic}");
    let o = tour(&["--replay", dir.arg(), "--raw", "brk"]);
    let (raw, _) = text(&o);
    let maps = std::fs::read_to_string(dir.0.join("brk/2/maps")).unwrap();
    assert!(maps.contains("[heap]"), "{maps}");
    assert!(raw.contains(&maps), "the saved maps, unchanged:\n{raw}");
}

#[test]
fn the_saved_files_are_plain_and_complete() {
    let (dir, live) = saved("files", &["brk"]);
    let read = |p: &str| std::fs::read_to_string(dir.0.join(p)).unwrap();
    assert_eq!(read("format"), "tour recording format 1\n");
    assert_eq!(read("runs"), "brk\n");
    let run = read("brk/run");
    assert!(
        run.contains("name: brk\n") && run.contains("end: exited 0\n"),
        "{run}"
    );
    let pid = run
        .lines()
        .find_map(|l| l.strip_prefix("pid: "))
        .unwrap()
        .to_string();
    assert!(live.contains(&format!("kill -CONT {pid}")), "{live}");
    for stop in 1..=3 {
        let maps = read(&format!("brk/{stop}/maps"));
        assert!(maps.ends_with("[vsyscall]\n"), "{maps}");
        assert!(read(&format!("brk/{stop}/stat")).starts_with(&format!("{pid} (brk) ")));
        assert_eq!(
            read(&format!("brk/{stop}/title")),
            format!("stop {stop} of 3\n")
        );
        let narration = read(&format!("brk/{stop}/narration"));
        assert!(
            narration.contains(&format!("[stop {stop}] pid {pid}")),
            "{narration}"
        );
        // auxv: (type, value) pairs of 8 bytes each, ending in AT_NULL.
        let auxv = std::fs::read(dir.0.join(format!("brk/{stop}/auxv"))).unwrap();
        assert!(auxv.len() >= 32 && auxv.len() % 16 == 0, "{}", auxv.len());
    }
    // The program's ELF file, byte for byte the one that ran.
    let bin = read("brk/program.path");
    let file = std::fs::read(bin.trim_end()).unwrap();
    assert_eq!(std::fs::read(dir.0.join("brk/program")).unwrap(), file);
    assert!(read("host/osrelease").trim().len() > 1);
    assert!(read("host/mmap_min_addr").trim().parse::<u64>().is_ok());
}

/// Replaces one file of a recording and its line in `sizes`, as an
/// editor would who knows the format.
fn rewrite(dir: &Path, file: &str, content: &str) {
    std::fs::write(dir.join(file), content).unwrap();
    let sizes = std::fs::read_to_string(dir.join("sizes")).unwrap();
    let fixed: String = sizes
        .lines()
        .map(|l| match l.split_once(' ') {
            Some((_, p)) if p == file => format!("{} {p}\n", content.len()),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(dir.join("sizes"), fixed).unwrap();
}

#[test]
fn a_trace_replays_as_it_ran() {
    let (dir, live) = saved("trace", &["--trace", "/bin/true"]);
    let (again, _) = succeeded(&tour(&["--replay", dir.arg()]));
    assert!(live.contains("== trace: /bin/true: exited 0"), "{live}");
    assert_eq!(again, live);
}

#[test]
fn the_host_facts_come_from_the_recording() {
    let (dir, live) = saved("host", &["fixed"]);
    assert!(live.contains("low fixed address"), "{live}");
    // On a machine where vm.mmap_min_addr is 1 MiB, 0x40000 is below it.
    rewrite(&dir.0, "host/mmap_min_addr", "1048576\n");
    let (out, _) = succeeded(&tour(&["--replay", dir.arg()]));
    assert!(
        out.contains("(below vm.mmap_min_addr 1048576: needs CAP_SYS_RAWIO)"),
        "{out}"
    );
    // A machine with 5-level page tables: user space ends higher.
    rewrite(&dir.0, "host/cpu_flags", "flags\t\t: fpu vme la57 sse\n");
    let o = tour(&["--replay", dir.arg(), "--diagram"]);
    let (out, _) = text(&o);
    assert!(
        out.contains("5-level paging (la57): user space could reach 0xfffffffffff000"),
        "{out}"
    );
}

#[test]
fn html_from_a_replay_is_html_from_the_live_run() {
    let (page, again) = (Temp::file("live", "html"), Temp::file("replayed", "html"));
    let (dir, _) = saved("html", &["--html", page.arg(), "brk", "mmap"]);
    let (out, err) = succeeded(&tour(&["--replay", dir.arg(), "--html", again.arg()]));
    assert_eq!(out, "", "with --html a replay writes only the file");
    assert!(
        err.starts_with(&format!("tour: wrote {}: 7 stops, ", again.arg())),
        "{err}"
    );
    let (a, b) = (
        std::fs::read(&page.0).unwrap(),
        std::fs::read(&again.0).unwrap(),
    );
    assert!(
        a.len() > 10_000 && a == b,
        "{} and {} bytes",
        a.len(),
        b.len()
    );
}

#[test]
fn a_replay_reads_no_live_proc_or_sys() {
    let Some(strace) = tool("strace") else { return };
    let (dir, _) = saved("noproc", &["stop", "brk"]);
    let log = Temp::new("strace-log");
    let o = Command::new(strace)
        .args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
        .arg(&log.0)
        .args([TOUR, "--replay", dir.arg()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let opened = std::fs::read_to_string(&log.0).unwrap();
    let live: Vec<&str> = opened
        .lines()
        .filter(|l| l.contains("\"/proc/") || l.contains("\"/sys/"))
        // Rust's runtime reads it at start (the main thread's stack guard).
        .filter(|l| !l.contains("\"/proc/self/maps\""))
        .collect();
    assert!(live.is_empty(), "{live:?}");
    assert!(opened.contains("/brk/2/maps"), "{opened}");
}

#[test]
fn a_replay_pauses_at_every_stop_without_a_process() {
    let (dir, _) = saved("pause", &["brk"]);
    // stdin is closed: the first pause reads EOF and pausing ends.
    let (out, _) = succeeded(&tour(&["--replay", dir.arg(), "--pause"]));
    assert_eq!(
        out.matches("  paused: a recorded stop of pid").count(),
        1,
        "{out}"
    );
    assert!(out.contains("(stdin is closed: no more pauses)"), "{out}");
    assert!(out.contains("== brk: 3 stops, exited 0"), "{out}");
}

fn refused(dir: &Temp, file: &str, what: &str) {
    let o = tour(&["--replay", dir.arg()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{file}: {out}\n{err}");
    let named = format!("tour: cannot replay: {}: ", dir.0.join(file).display());
    assert!(err.starts_with(&named), "{file}: {err}");
    assert!(err.contains(what), "{file}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(out, "", "nothing shown of a bad recording");
}

#[test]
fn a_damaged_recording_is_refused_naming_the_file() {
    let (dir, _) = saved("bad", &["brk"]);
    let maps = std::fs::read_to_string(dir.0.join("brk/2/maps")).unwrap();
    std::fs::write(dir.0.join("brk/2/maps"), &maps[..maps.len() / 2]).unwrap();
    refused(&dir, "brk/2/maps", "truncated");
    std::fs::write(dir.0.join("brk/2/maps"), &maps).unwrap();
    std::fs::remove_file(dir.0.join("brk/3/stat")).unwrap();
    refused(&dir, "brk/3/stat", "No such file");
    rewrite(&dir.0, "brk/3/stat", "");
    rewrite(&dir.0, "brk/run", "name: brk\n");
    refused(&dir, "brk/run", "no valid 'end:' line");
    std::fs::write(dir.0.join("format"), "tour recording format 2\n").unwrap();
    refused(&dir, "format", "format 2 is newer than this tour reads (1)");
    std::fs::remove_file(dir.0.join("format")).unwrap();
    refused(&dir, "format", "No such file");
}

#[test]
fn a_bad_maps_file_of_the_right_size_fails_the_demo() {
    let (dir, _) = saved("garbage", &["stop", "brk"]);
    rewrite(&dir.0, "stop/1/maps", "not a maps line\n");
    let o = tour(&["--replay", dir.arg()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("tour: stop: bad maps line"), "{err}");
    assert!(out.contains("tour: FAILED: stop"), "{out}");
    assert!(
        out.contains("== brk: 3 stops, exited 0"),
        "the next demo still shows: {out}"
    );
}

#[test]
fn replay_options_are_checked() {
    let o = tour(&["--replay"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.starts_with("error: --replay needs a directory"));
    let o = tour(&["--replay", "/nonexistent", "--no-aslr"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tour(&["--replay", "/nonexistent/tour"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o)
            .1
            .starts_with("tour: cannot replay: /nonexistent/tour/format: No such file"),
        "{}",
        text(&o).1
    );
}
