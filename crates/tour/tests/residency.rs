//! Residency in the tour: the Rss column is smaps' Rss for every line at
//! every stop of every demo, the page strip and the changes follow
//! pagemap, cow's two processes are both shown, and killing the tour at
//! any stop of cow leaves neither of them behind.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use procfs::smaps;

mod common;
use common::{Live, PATIENCE, Temp, assert_gone, text, tour_cmd};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Runs the tour to its end with `args`; (stdout, the saved recording).
fn tour_saved(tag: &str, args: &[&str], env: &[(&str, &str)]) -> (String, Temp) {
    let dir = Temp::new(tag);
    let mut cmd = tour_cmd(&["--save", dir.arg()]);
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run the tour");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{args:?}: {out}\n{err}");
    (out, dir)
}

/// `4 KiB`, `1.5 MiB`, `0 KiB` back into bytes, and how far off the
/// one decimal the tour shows may be.
fn bytes_of(number: &str, unit: &str) -> (u64, u64) {
    let scale = match unit {
        "B" => 1,
        "KiB" => KIB,
        "MiB" => MIB,
        "GiB" => 1024 * MIB,
        other => panic!("unit {other:?}"),
    };
    let value: f64 = number.parse().unwrap();
    let slack = if number.contains('.') { scale / 20 } else { 0 };
    ((value * scale as f64).round() as u64, slack)
}

/// One table line of the tour: mark, start address, Rss shown.
#[derive(Debug)]
struct Row {
    mark: char,
    start: u64,
    rss: Option<(u64, u64)>,
}

fn row(line: &str) -> Option<Row> {
    let mark = line.chars().next()?;
    if !" +-~".contains(mark) || line.get(1..2) != Some(" ") {
        return None;
    }
    let words: Vec<&str> = line[2..].split_whitespace().collect();
    let (start, _) = words.first()?.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    // range perms SIZE UNIT RSS UNIT [strip] name ...
    let perms = words.get(1)?;
    if perms.len() != 4 {
        return None;
    }
    let rss = match (words.get(4), words.get(5), words.get(6)) {
        (Some(n), Some(u), Some(strip)) if strip.starts_with('[') => Some(bytes_of(n, u)),
        _ => None,
    };
    Some(Row { mark, start, rss })
}

/// Checks every table row of the output against the recording's smaps:
/// the demo's rows against `N/smaps`, a child's against
/// `N/child/PID/smaps`. Returns how many rows were compared.
fn compare_with_smaps(out: &str, dir: &Path) -> usize {
    let mut compared = 0;
    let (mut demo, mut stop) = (String::new(), 0);
    let mut file = None::<Vec<procfs::Smap>>;
    let load = |path: &Path| smaps::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    for line in out.lines() {
        if let Some(head) = line.strip_prefix("== ")
            && let Some((_, rest)) = head.split_once(' ')
            && let Some((name, _)) = rest.split_once(':')
            && head.contains('/')
        {
            (demo, stop) = (name.to_string(), 0);
            continue;
        }
        if line.starts_with(&format!("-- {demo}: ")) {
            stop += 1;
            file = Some(load(&dir.join(&demo).join(stop.to_string()).join("smaps")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("  pid ")
            && rest.contains("(its child")
        {
            let pid = rest.split(' ').next().unwrap();
            let at = dir.join(&demo).join(stop.to_string()).join("child");
            file = Some(load(&at.join(pid).join("smaps")));
            continue;
        }
        let (Some(r), Some(entries)) = (row(line), &file) else {
            continue;
        };
        if r.mark == '-' {
            assert!(r.rss.is_none(), "a gone line has no Rss: {line}");
            continue;
        }
        let entry = smaps::at(entries, r.start)
            .unwrap_or_else(|| panic!("{demo} stop {stop}: no smaps entry for {line}"));
        let (shown, slack) = r.rss.unwrap_or_else(|| panic!("no Rss column: {line}"));
        assert!(
            shown.abs_diff(entry.rss()) <= slack,
            "{demo} stop {stop}: shown {shown}, smaps says Rss {}: {line}",
            entry.rss()
        );
        compared += 1;
    }
    compared
}

#[test]
fn the_rss_column_is_smaps_rss_for_every_line_of_every_stop() {
    let (out, dir) = tour_saved("rss-all", &["--ascii"], &[]);
    let compared = compare_with_smaps(&out, &dir.0);
    // Every line of every stop: as many rows as smaps entries saved.
    let mut entries = 0;
    for run in std::fs::read_to_string(dir.0.join("runs")).unwrap().lines() {
        for stop in 1.. {
            let at = dir.0.join(run).join(stop.to_string());
            if !at.is_dir() {
                break;
            }
            let count = |p: &Path| {
                smaps::parse(&std::fs::read_to_string(p).unwrap())
                    .unwrap()
                    .len()
            };
            entries += count(&at.join("smaps"));
            if let Ok(kids) = std::fs::read_dir(at.join("child")) {
                for kid in kids {
                    entries += count(&kid.unwrap().path().join("smaps"));
                }
            }
        }
    }
    assert!(entries > 100, "{entries} entries: {out}");
    assert_eq!(compared, entries, "a row for every smaps entry");
}

/// The tour's text of each stop (`-- NAME: …` to the next), from 1.
fn stops(out: &str) -> Vec<&str> {
    out.split("\n-- ").skip(1).collect()
}

/// The row of the mapping that starts at `start`.
fn line_at(stop: &str, start: u64) -> &str {
    let head = format!(" {start:x}-");
    stop.lines()
        .find(|l| l.contains(&head) && row(l).is_some())
        .unwrap_or_else(|| panic!("no line at {start:x}: {stop}"))
}

/// The address in the narration line that starts with `text`.
fn addr_in(out: &str, text: &str) -> u64 {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("  | ")?.strip_prefix(text))
        .unwrap_or_else(|| panic!("{text:?}: {out}"));
    u64::from_str_radix(line.trim().trim_start_matches("0x"), 16).unwrap()
}

/// Present bits of a saved `pagemap.present` line, counted.
fn present_in(dir: &Path, stop: usize, start: u64) -> usize {
    let file = std::fs::read_to_string(dir.join(format!("paging/{stop}/pagemap.present"))).unwrap();
    let line = file
        .lines()
        .find(|l| l.starts_with(&format!("{start:x}-")))
        .unwrap();
    let hex = line.split(' ').nth(1).unwrap();
    (0..hex.len() / 2)
        .map(|i| {
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .unwrap()
                .count_ones() as usize
        })
        .sum()
}

#[test]
fn paging_shows_the_zero_page_faults_and_drops_as_changes() {
    let (out, dir) = tour_saved("paging", &["--ascii", "paging"], &[]);
    let first = addr_in(&out, "paging: mmap, NOHUGEPAGE: ");
    let s = stops(&out);
    assert_eq!(s.len(), 6, "{out}");
    let at = |n: usize| line_at(s[n - 1], first);

    assert!(
        at(1).contains(" 64 MiB     0 KiB [........]  (anon)"),
        "{}",
        at(1)
    );
    // 2: all present, none in Rss: a change of residency, and why.
    assert!(at(2).starts_with("~ "), "{}", at(2));
    assert!(at(2).contains("0 KiB [########]"), "{}", at(2));
    assert!(
        at(2).contains("present 0 -> 16384 pages, Rss the same"),
        "{}",
        at(2)
    );
    assert!(
        at(2).contains("16384 pages present but not in Rss"),
        "{}",
        at(2)
    );
    assert!(at(2).contains("shared zero page"), "{}", at(2));
    assert_eq!(present_in(&dir.0, 2, first), 16384, "as pagemap said");
    assert!(
        s[1].contains("minor faults since the last stop: +"),
        "{}",
        s[1]
    );
    // 3: every 16th page written.
    assert!(
        at(3).contains("Rss 0 KiB -> 4 MiB, +1024 pages"),
        "{}",
        at(3)
    );
    assert_eq!(present_in(&dir.0, 3, first), 16384);
    // 4: dropped, the line itself unchanged.
    assert!(
        at(4).contains("Rss 4 MiB -> 0 KiB, -1024 pages"),
        "{}",
        at(4)
    );
    assert!(at(4).contains(" 64 MiB     0 KiB [........]"), "{}", at(4));
    assert_eq!(present_in(&dir.0, 4, first), 0);
    // 5: populated at once.
    let second = addr_in(&out, "paging: SIZE/4, MAP_POPULATE: ");
    let l5 = line_at(s[4], second);
    assert!(
        l5.starts_with("+ ") && l5.contains(" 16 MiB    16 MiB [########]"),
        "{l5}"
    );
    assert_eq!(present_in(&dir.0, 5, second), 4096);
    // 6: the huge page, where the kernel gives one.
    let huge = addr_in(&out, "paging: MADV_HUGEPAGE, 1 write: ");
    let l6 = line_at(s[5], huge);
    if out.contains("paging: THP on: 2 MiB") {
        assert!(l6.contains("  4 MiB     2 MiB [####....]"), "{l6}");
        assert!(l6.contains("AnonHugePages 2 MiB"), "{l6}");
    } else {
        assert!(l6.contains("  4 MiB     4 KiB [+.......]"), "{l6}");
    }
}

#[test]
fn cow_shows_both_processes_and_the_copy() {
    let (out, dir) = tour_saved("cow", &["--ascii", "cow"], &[]);
    let page = addr_in(&out, "cow: parent wrote a page at ");
    let child: u32 = out
        .lines()
        .find_map(|l| l.strip_prefix("  | cow: forked, shared; child "))
        .expect("the child's pid")
        .parse()
        .unwrap();
    let s = stops(&out);
    assert_eq!(s.len(), 3, "{out}");
    assert!(!s[0].contains("(its child"), "no child before the fork");
    for (stop, note) in [
        (
            s[1],
            "Shared_Dirty 4 KiB: written pages also mapped by another process",
        ),
        (
            s[2],
            "Private_Dirty 4 KiB, Shared_Dirty 0: a write made the copy",
        ),
    ] {
        let (parent, kid) = stop
            .split_once(&format!(
                "  pid {child} (its child, state T): the same maps as its parent"
            ))
            .unwrap_or_else(|| panic!("the child's section: {stop}"));
        assert!(parent.contains(" (the parent):"), "{stop}");
        for part in [parent, kid] {
            let l = line_at(part, page);
            assert!(l.contains("  4 KiB     4 KiB [#]"), "{l}");
            assert!(l.contains(note), "{note:?}: {l}");
        }
    }
    // The frames, as the collector saw them, need root; the counts are
    // checked against smaps for both pids.
    assert!(compare_with_smaps(&out, &dir.0) > 0);
}

#[test]
fn glyphs_follow_the_locale_and_ascii() {
    let utf8 = [("LC_ALL", "C.UTF-8")];
    let (out, _d) = tour_saved("utf8", &["mprotect"], &utf8);
    assert!(out.contains('█') && out.contains('·'), "{out}");
    let (out, _d) = tour_saved("ascii", &["--ascii", "mprotect"], &utf8);
    assert!(!out.contains('█') && out.contains("[#]"), "{out}");
    let (out, _d) = tour_saved("c", &["mprotect"], &[("LC_ALL", "C")]);
    assert!(!out.contains('█') && out.contains("[#]"), "{out}");
}

#[test]
fn raw_stays_raw() {
    let (out, _d) = tour_saved("raw", &["--raw", "paging"], &[]);
    assert!(!out.contains("columns: size, Rss"), "{out}");
    assert!(
        !out.contains("[....") && !out.contains("minor faults"),
        "{out}"
    );
}

// ---- killing the tour at each stop of cow ---------------------------------

/// The tour with `--pause cow`, its stdout read line by line.
struct Paused(Live);

impl Paused {
    fn start() -> Paused {
        Paused(Live::spawn(tour_cmd(&["--pause", "cow"])))
    }

    /// Reads up to the `n`th pause prompt (from 1), pressing Enter at the
    /// ones before it.
    fn until_pause(&mut self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = 0;
        while seen < n {
            let l = self
                .0
                .next_line(deadline)
                .unwrap_or_else(|| panic!("pause {n}: {}", self.0.seen));
            if l.starts_with("  Enter continues.") {
                seen += 1;
                if seen < n {
                    self.0
                        .child
                        .stdin
                        .as_mut()
                        .unwrap()
                        .write_all(b"\n")
                        .unwrap();
                }
            }
        }
    }

    /// A pid the tour printed after `prefix`, up to a space or `:`.
    fn pid_after(&self, prefix: &str) -> Option<u32> {
        let at = self.0.seen.find(prefix)? + prefix.len();
        let digits: String = self.0.seen[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

#[test]
fn killing_the_tour_at_any_stop_of_cow_leaves_no_process() {
    for sig in [9, 15, 2, 1] {
        for stop in 1..=3 {
            let mut p = Paused::start();
            p.until_pause(stop);
            let parent = p.pid_after("paused: pid ").expect("the demo's pid");
            let child = p.pid_after("cow: forked, shared; child ");
            assert_eq!(child.is_some(), stop > 1, "{}", p.0.seen);
            if let Some(c) = child {
                let state = procfs::stat::read(c).unwrap().state;
                assert_eq!(state, 'T', "the child waits, stopped");
            }
            assert_eq!(procfs::child::raw_kill(p.0.child.id() as i32, sig), 0);
            let status = p.0.child.wait().unwrap();
            assert!(!status.success(), "signal {sig}");
            assert_gone(parent, "the demo");
            if let Some(c) = child {
                assert_gone(c, "its child");
            }
        }
    }
}

#[test]
fn mprotect_split_and_merge_are_marked() {
    let (out, _dir) = tour_saved("mprotect", &["--ascii", "mprotect"], &[]);
    let three = addr_in(&out, "mprotect: 3 pages rw-, one line at ");
    let s = stops(&out);
    assert_eq!(s.len(), 5, "{out}");
    // The marks of the rows inside the three pages' range.
    let marks = |stop: &str| -> String {
        stop.lines()
            .filter_map(row)
            .filter(|r| (three..three + 3 * 4096).contains(&r.start))
            .map(|r| r.mark)
            .collect()
    };
    assert_eq!(marks(s[1]), "~++", "split: {}", s[1]);
    assert_eq!(marks(s[2]), "~--", "merged: {}", s[2]);
    assert!(s[4].contains("  > code returned 42"), "{}", s[4]);
    assert!(s[4].contains("rw-p -> r-xp"), "{}", s[4]);
}
