//! The tour on `threads`: the task list at each stop, each thread's stack
//! pointer (from /proc/PID/task/TID/syscall) under the line that holds
//! it, and the task files kept in a saved recording.

mod common;
use common::{Temp, succeeded, tour};

/// The hex address after `at 0x` in a `<-` line.
fn at(line: &str) -> u64 {
    let hex = line.split("at 0x").nth(1).unwrap();
    u64::from_str_radix(
        hex.split(|c: char| !c.is_ascii_hexdigit()).next().unwrap(),
        16,
    )
    .unwrap()
}

#[test]
fn threads_shows_its_tasks_and_their_stack_pointers() {
    let dir = Temp::new("tasks");
    let (out, _) = succeeded(&tour(&["--save", dir.arg(), "threads"]));
    let stops: Vec<&str> = out.split("\n-- threads: stop ").collect();
    assert_eq!(stops.len(), 4, "{out}");
    // Stop 1: one task, not worth a line; stop 2: three, all stopped;
    // stop 3: one again, said once.
    assert!(!stops[1].contains("tasks:"), "{}", stops[1]);
    let line = stops[2]
        .lines()
        .find(|l| l.contains("tasks: 3 in /proc/PID/task"))
        .expect(stops[2]);
    assert_eq!(line.matches(" T").count(), 3, "{line}");
    assert!(
        stops[3].contains("tasks: 1 in /proc/PID/task"),
        "{}",
        stops[3]
    );

    // Each kernel-reported stack pointer hangs under an unnamed rw-p line
    // of 64 KiB, the one whose range holds it.
    let rows: Vec<&str> = stops[2].lines().collect();
    let mut seen = 0;
    for (i, row) in rows.iter().enumerate() {
        if !row.contains("from /proc/PID/task") {
            continue;
        }
        seen += 1;
        let sp = at(row);
        let owner = rows[..i]
            .iter()
            .rev()
            .find(|r| {
                r.trim_start_matches(['+', ' '])
                    .starts_with(|c: char| c.is_ascii_hexdigit())
            })
            .unwrap();
        let range = owner
            .trim_start_matches(['+', ' '])
            .split_whitespace()
            .next()
            .unwrap();
        let (lo, hi) = range.split_once('-').unwrap();
        let (lo, hi) = (
            u64::from_str_radix(lo, 16).unwrap(),
            u64::from_str_radix(hi, 16).unwrap(),
        );
        assert!(lo <= sp && sp < hi, "{row} under {owner}");
        assert!(
            owner.contains("rw-p") && owner.contains("64 KiB"),
            "{owner}"
        );
    }
    assert_eq!(seen, 2, "two threads' stack pointers: {}", stops[2]);

    // The recording holds the raw task files of the stop.
    let stop2 = dir.0.join("threads").join("2").join("task");
    let tids = std::fs::read_dir(&stop2)
        .expect("task/ in the saved stop")
        .count();
    assert_eq!(tids, 3);
}
