//! The threads of a process: `/proc/PID/task/TID/` (`proc_pid_task(5)`).
//!
//! Every thread (task) has a directory there; the main thread's tid is
//! the pid. Its `stat` has the same layout as the process's, its state
//! being the thread's own; its `syscall` says which syscall the thread
//! is blocked in, with its stack pointer and program counter.
//!
//! `syscall` needs ptrace rights (`ptrace_may_access`,
//! PTRACE_MODE_ATTACH_FSCREDS, in `fs/proc/base.c`): the same user and a
//! dumpable process, and under Yama's ptrace_scope 1 a reader that may
//! ptrace it (2 and 3 refuse everyone but CAP_SYS_PTRACE). It then reads
//! as an error, which [`syscall`] returns.

use std::io;

/// One thread at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub tid: u32,
    /// `R`, `S`, `T` (stopped), `t` (traced), … as in /proc/PID/stat.
    pub state: char,
}

/// What /proc/PID/task/TID/syscall says (`proc_pid_syscall`, from
/// `task_current_syscall`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    /// `running`: the thread is on a CPU; no registers to show.
    Running,
    /// Blocked in the kernel: the syscall number (-1 when the thread is
    /// not in a syscall but blocked, e.g. in a fault), its stack pointer
    /// and program counter.
    Blocked { nr: i64, sp: u64, pc: u64 },
}

/// The tids of `pid`'s threads, in ascending order.
pub fn tids(pid: u32) -> io::Result<Vec<u32>> {
    let mut tids: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// Every thread of `pid` with its state. A thread that exits between
/// the listing and the read of its stat (ENOENT, ESRCH) is left out: it
/// is gone.
pub fn read(pid: u32) -> io::Result<Vec<Task>> {
    /// `errno(3)`: no such process.
    const ESRCH: i32 = 3;
    let mut tasks = Vec::new();
    for tid in tids(pid)? {
        let text = match std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(ESRCH) => {
                continue;
            }
            Err(e) => return Err(e),
        };
        let stat = crate::stat::parse(&text).map_err(io::Error::other)?;
        tasks.push(Task {
            tid,
            state: stat.state,
        });
    }
    Ok(tasks)
}

/// Parses the text of /proc/PID/task/TID/syscall: `running`, or
/// `NR ARG1 … ARG6 SP PC` (all hex but NR), or `-1 SP PC`.
pub fn parse_syscall(text: &str) -> Result<Syscall, String> {
    let bad = || format!("bad syscall line: {text:?}");
    let f: Vec<&str> = text.split_whitespace().collect();
    if f == ["running"] {
        return Ok(Syscall::Running);
    }
    let hex =
        |s: &str| u64::from_str_radix(s.strip_prefix("0x").ok_or_else(bad)?, 16).map_err(|_| bad());
    let nr: i64 = f.first().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    match (nr, f.len()) {
        (-1, 3) | (0.., 9) => Ok(Syscall::Blocked {
            nr,
            sp: hex(f[f.len() - 2])?,
            pc: hex(f[f.len() - 1])?,
        }),
        _ => Err(bad()),
    }
}

/// Reads /proc/PID/task/TID/syscall (an error without ptrace rights).
pub fn syscall(pid: u32, tid: u32) -> io::Result<Syscall> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall"))?;
    parse_syscall(&text).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_lines_parse() {
        assert_eq!(
            parse_syscall("202 0x40300c 0x0 0x0 0x0 0x0 0x0 0x7f767a277fa0 0x401a53\n"),
            Ok(Syscall::Blocked {
                nr: 202,
                sp: 0x7f76_7a27_7fa0,
                pc: 0x40_1a53
            })
        );
        assert_eq!(
            parse_syscall("-1 0x7ffd1000 0x401000\n"),
            Ok(Syscall::Blocked {
                nr: -1,
                sp: 0x7ffd_1000,
                pc: 0x40_1000
            })
        );
        assert_eq!(parse_syscall("running\n"), Ok(Syscall::Running));
        assert!(parse_syscall("202 0x1 0x2\n").is_err());
        assert!(parse_syscall("").is_err());
    }

    /// The calling thread's tid: /proc/thread-self is `PID/task/TID`.
    fn gettid() -> u32 {
        let link = std::fs::read_link("/proc/thread-self").unwrap();
        link.file_name().unwrap().to_str().unwrap().parse().unwrap()
    }

    #[test]
    fn this_process_has_its_threads() {
        let me = std::process::id();
        assert!(
            tids(me).unwrap().contains(&me),
            "the main thread's tid is the pid"
        );
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tid_tx.send(gettid()).unwrap();
            end_rx.recv()
        });
        let other = tid_rx.recv().unwrap();
        let tasks = read(me).unwrap();
        assert!(
            tasks.iter().any(|t| t.tid == gettid() && t.state == 'R'),
            "{tasks:?}"
        );
        assert!(tasks.iter().any(|t| t.tid == other), "{tasks:?}");
        end_tx.send(()).unwrap();
        t.join().unwrap().unwrap();
    }
}
