//! Start a demo and follow it from stop to stop.
//!
//! A demo stops itself with SIGSTOP. Its parent learns of that from
//! `waitpid(pid, WUNTRACED)` (`wait(2)`): a waiter thread blocks there and
//! sends each change of state through a channel, so the caller can wait
//! with a timeout and still sleeps in the kernel, never polls in a loop.
//!
//! A started demo:
//! - runs in a process group of its own, so that a signal meant for the
//!   tour's group (Ctrl-C in the terminal) does not reach it, and its own
//!   SIGSTOP does not stop us;
//! - dies with SIGKILL when the thread that started it ends, for whatever
//!   reason, even SIGKILL (`PR_SET_PDEATHSIG`, `prctl(2)`): nothing is left
//!   behind, stopped or running;
//! - can start with `ADDR_NO_RANDOMIZE` (`personality(2)`), what
//!   `setarch -R` does, so that addresses repeat from run to run.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

unsafe extern "C" {
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn personality(persona: u64) -> i32;
    fn getppid() -> i32;
}

/// `wait(2)`: also report children that stopped.
const WUNTRACED: i32 = 2;
/// `include/uapi/linux/prctl.h`.
const PR_SET_PDEATHSIG: i32 = 1;
/// `include/uapi/linux/personality.h`.
pub const ADDR_NO_RANDOMIZE: u64 = 0x004_0000;
/// `personality(0xffffffff)` only reads the current persona.
const PERSONALITY_QUERY: u64 = 0xffff_ffff;
/// `errno(3)`: no such process (here: the parent is gone).
const ESRCH: i32 = 3;
/// `signal(7)`, x86-64 numbers.
pub const SIGKILL: i32 = 9;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTERM: i32 = 15;

/// A wait status, as the W* macros of <sys/wait.h> read it
/// (`bits/waitstatus.h`): the low 7 bits are the signal that killed the
/// child, 0 if it exited (`__WTERMSIG`); a low byte of 0x7f means it
/// stopped (`__WIFSTOPPED`); the byte above is the exit status or the
/// stop signal (`__WEXITSTATUS`, `__WSTOPSIG`).
const WTERMSIG_MASK: i32 = 0x7f;
const WSTOPPED_BYTE: i32 = 0x7f;
const BYTE_MASK: i32 = 0xff;

/// `kill(2)` on any pid: -1 if it failed (errno says why), 0 if sent.
/// For a process that is not a [`Demo`], e.g. strace's tracee, or a
/// demo's whole process group (`-pid`).
pub fn raw_kill(pid: i32, sig: i32) -> i32 {
    // SAFETY: kill takes two integers and touches no memory of ours.
    unsafe { kill(pid, sig) }
}

/// [`raw_kill`], with errno as the error.
pub fn send_signal(pid: i32, sig: i32) -> io::Result<()> {
    if raw_kill(pid, sig) == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// In a new child, between fork and exec (so only async-signal-safe
/// calls): die with `parent` (SIGKILL when it ends, `PR_SET_PDEATHSIG`)
/// and add the persona bits `add` (0: none) to the personality.
pub(crate) fn before_exec(parent: i32, add: u64) -> io::Result<()> {
    // SAFETY: prctl, getppid and personality take integers and touch no
    // memory of ours.
    unsafe {
        if prctl(PR_SET_PDEATHSIG, SIGKILL as u64, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        // The parent may have died before prctl took effect. (An error
        // with a message would allocate, which a forked child may not.)
        if getppid() != parent {
            return Err(io::Error::from_raw_os_error(ESRCH));
        }
        if add != 0 {
            let current = personality(PERSONALITY_QUERY);
            if current == -1 || personality(current as u64 | add) == -1 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// A change in the demo's state, as `waitpid` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Stopped by this signal (SIGSTOP for a demo's own stop).
    Stopped(i32),
    /// Exited with this status.
    Exited(i32),
    /// Killed by this signal.
    Killed(i32),
}

impl Event {
    pub fn finished(self) -> bool {
        !matches!(self, Event::Stopped(_))
    }
}

/// How to start a demo.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spawn {
    /// Start with `ADDR_NO_RANDOMIZE`: the same addresses every run.
    pub no_aslr: bool,
    /// Start with `PER_LINUX32 | ADDR_LIMIT_3GB`, as `setarch i386 --3gb`:
    /// a 32-bit program then gets the 3 GiB of user space a 32-bit
    /// kernel's 3 GiB/1 GiB split gave it (no effect on a 64-bit one).
    pub limit_3gb: bool,
}

/// `PER_LINUX32` and `ADDR_LIMIT_3GB`: `include/uapi/linux/personality.h`.
pub const PER_LINUX32: u64 = 0x0008;
pub const ADDR_LIMIT_3GB: u64 = 0x800_0000;
/// `READ_IMPLIES_EXEC`: every PROT_READ mapping is also executable.
pub const READ_IMPLIES_EXEC: u64 = 0x40_0000;

/// A running demo. Dropping it kills and reaps the demo.
pub struct Demo {
    pub pid: u32,
    /// std's handle, for the pipes; never waited on through std.
    pub child: Child,
    /// Each event with the moment its waitpid returned.
    events: Receiver<(Event, Instant)>,
    last: Option<Event>,
    last_at: Option<Instant>,
}

impl Demo {
    /// Starts `cmd` as described in the module doc.
    pub fn spawn(mut cmd: Command, how: Spawn) -> io::Result<Demo> {
        let parent = std::process::id() as i32;
        cmd.process_group(0);
        // SAFETY: the closure runs between fork and exec and only makes
        // async-signal-safe syscalls (`before_exec`).
        unsafe {
            cmd.pre_exec(move || {
                let mut add = 0;
                if how.no_aslr {
                    add |= ADDR_NO_RANDOMIZE;
                }
                if how.limit_3gb {
                    add |= PER_LINUX32 | ADDR_LIMIT_3GB;
                }
                before_exec(parent, add)
            });
        }
        let child = cmd.spawn()?;
        let pid = child.id();
        let (send, events) = channel();
        std::thread::Builder::new()
            .name(format!("waitpid {pid}"))
            .spawn(move || {
                loop {
                    let mut status = 0;
                    // SAFETY: waitpid writes one int into `status`.
                    let r = unsafe { waitpid(pid as i32, &mut status, WUNTRACED) };
                    // Taken first, so that a caller can tell how long the
                    // event took to reach it (the tour's benchmark).
                    let at = Instant::now();
                    if r == -1 {
                        if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                            continue;
                        }
                        return;
                    }
                    // WIFSTOPPED, WIFEXITED, else WIFSIGNALED.
                    let event = if status & BYTE_MASK == WSTOPPED_BYTE {
                        Event::Stopped((status >> 8) & BYTE_MASK)
                    } else if status & WTERMSIG_MASK == 0 {
                        Event::Exited((status >> 8) & BYTE_MASK)
                    } else {
                        Event::Killed(status & WTERMSIG_MASK)
                    };
                    if send.send((event, at)).is_err() || event.finished() {
                        return;
                    }
                }
            })?;
        Ok(Demo {
            pid,
            child,
            events,
            last: None,
            last_at: None,
        })
    }

    /// The next change of state, or `None` if none came within `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(e) = self.last.filter(|e| e.finished()) {
            return Some(e);
        }
        match self.events.recv_timeout(timeout) {
            Ok((e, at)) => {
                self.last = Some(e);
                self.last_at = Some(at);
                Some(e)
            }
            Err(RecvTimeoutError::Timeout) => None,
            // The waiter ended without a final event: waitpid failed.
            Err(RecvTimeoutError::Disconnected) => self.last,
        }
    }

    /// The last event seen, if any.
    pub fn last(&self) -> Option<Event> {
        self.last
    }

    /// When waitpid returned the last event seen: `Instant::now()` minus
    /// this is how long the event took to reach the caller.
    pub fn last_event_at(&self) -> Option<Instant> {
        self.last_at
    }

    /// Whether the demo has exited or been killed.
    pub fn finished(&self) -> bool {
        self.last.is_some_and(Event::finished)
    }

    /// Sends a signal to the demo (not to its group).
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        if self.finished() {
            return Ok(());
        }
        send_signal(self.pid as i32, sig)
    }

    /// `kill -CONT PID`.
    pub fn cont(&self) -> io::Result<()> {
        self.signal(SIGCONT)
    }

    /// Kills the demo and waits until it is reaped.
    pub fn kill(&mut self) -> Option<Event> {
        let _ = self.signal(SIGKILL);
        while !self.finished() {
            self.wait(Duration::from_secs(5))?;
        }
        self.last
    }

    /// Waits until the demo sleeps (state `S` in /proc/PID/stat), for
    /// `minimal`, which never stops itself: its maps are read while it
    /// sleeps in nanosleep. A task waiting in exec, a page fault or a lock
    /// shows `D`, so `S` means the sleep the program asked for, as long as
    /// it sleeps nowhere else. Returns false if the demo ended or did not
    /// sleep within `timeout`.
    ///
    /// This is a poll, once a millisecond: a process that falls asleep
    /// tells its parent nothing, so there is no waitpid to block in.
    /// Reading /proc/PID/stat needs no ptrace rights (/proc/PID/syscall
    /// does, which Yama's ptrace_scope 2 and 3 refuse).
    pub fn wait_sleeping(&mut self, timeout: Duration) -> bool {
        /// How often to look; also how late the sleep may be seen.
        const POLL: Duration = Duration::from_millis(1);
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if crate::stat::read(self.pid).is_ok_and(|s| s.state == 'S') {
                return true;
            }
            // Blocks in the kernel for POLL; returns early if the demo ends.
            if self.wait(POLL).is_some_and(Event::finished) {
                return false;
            }
        }
        false
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.kill();
    }
}
