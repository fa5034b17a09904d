//! The threads of a stopped demo: collected as raw files of a stop
//! (`task/TID/stat`, `task/TID/syscall`, from /proc/PID/task), shown as
//! a task list and as each thread's stack pointer under the maps line
//! that holds it.
//!
//! /proc/PID/task/TID/syscall needs ptrace rights over the demo; where
//! they are refused (Yama's ptrace_scope 2 or 3) the file is missing from
//! the stop, and the stack pointers the demo printed (its `tN.sp` points)
//! are all there is.

use procfs::task::{self, Syscall};

use crate::annotate::Point;
use crate::record::{Files, Stop};

/// The place of a point that the kernel reported, not the demo.
pub const FROM_KERNEL: &str = "task/syscall";

/// Reads every task's `stat` and `syscall` of `pid` into `files`.
pub fn collect(pid: u32, files: &mut Files) {
    let Ok(tids) = task::tids(pid) else { return };
    for tid in tids {
        for name in ["stat", "syscall"] {
            if let Ok(bytes) = std::fs::read(format!("/proc/{pid}/task/{tid}/{name}")) {
                files.insert(format!("task/{tid}/{name}"), bytes);
            }
        }
    }
}

/// The tids a stop recorded, ascending, with each state letter.
pub fn tasks(stop: &Stop) -> Vec<(u32, char)> {
    let mut out: Vec<(u32, char)> = stop
        .files
        .iter()
        .filter_map(|(name, bytes)| {
            let tid = name
                .strip_prefix("task/")?
                .strip_suffix("/stat")?
                .parse()
                .ok()?;
            let stat = procfs::stat::parse(&String::from_utf8_lossy(bytes)).ok()?;
            Some((tid, stat.state))
        })
        .collect();
    out.sort_unstable();
    out
}

/// `tasks: 3 (tid 4242 T, 4250 T, 4251 T)`, or `None` for a stop with
/// one task and `always` false.
pub fn line(stop: &Stop, always: bool) -> Option<String> {
    let tasks = tasks(stop);
    if tasks.is_empty() || (tasks.len() == 1 && !always) {
        return None;
    }
    let list: Vec<String> = tasks.iter().map(|(t, s)| format!("{t} {s}")).collect();
    Some(format!(
        "tasks: {} in /proc/PID/task (tid state: {})",
        tasks.len(),
        list.join(", ")
    ))
}

/// Every thread's stack pointer but the main thread's (`pid`), from its
/// recorded `syscall` file, as points under their maps lines.
pub fn stack_pointers(stop: &Stop, pid: u32) -> Vec<Point> {
    tasks(stop)
        .into_iter()
        .filter(|&(tid, _)| tid != pid)
        .filter_map(|(tid, _)| {
            let text = stop.text(&format!("task/{tid}/syscall"))?;
            match task::parse_syscall(&text).ok()? {
                Syscall::Blocked { sp, .. } => Some(Point {
                    name: format!("tid {tid} sp"),
                    place: FROM_KERNEL.into(),
                    addr: sp,
                }),
                Syscall::Running => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(files: &[(&str, &str)]) -> Stop {
        Stop {
            files: files
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
                .collect(),
            ..Stop::default()
        }
    }

    const STAT: &str = "0 (threads) T 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 3 0 1 0 0 0 0 \
                        0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0";

    #[test]
    fn tasks_and_their_stack_pointers() {
        let s = stop(&[
            ("task/100/stat", STAT),
            (
                "task/100/syscall",
                "62 0x64 0x13 0x0 0x0 0x0 0x0 0x7ffd0 0x401000",
            ),
            ("task/107/stat", STAT),
            (
                "task/107/syscall",
                "202 0x1 0x0 0x0 0x0 0x0 0x0 0x7f00fb8 0x401a53",
            ),
            ("task/103/stat", STAT),
        ]);
        assert_eq!(tasks(&s), [(100, 'T'), (103, 'T'), (107, 'T')]);
        assert_eq!(
            line(&s, false).unwrap(),
            "tasks: 3 in /proc/PID/task (tid state: 100 T, 103 T, 107 T)"
        );
        // 103's syscall file was refused: only 107's stack pointer.
        let sps = stack_pointers(&s, 100);
        assert_eq!(sps.len(), 1);
        assert_eq!(
            (sps[0].name.as_str(), sps[0].addr),
            ("tid 107 sp", 0x7f00fb8)
        );
        let one = stop(&[("task/100/stat", STAT)]);
        assert_eq!(line(&one, false), None);
        assert!(line(&one, true).unwrap().starts_with("tasks: 1 "));
        assert_eq!(line(&stop(&[]), true), None, "an older recording");
    }
}
