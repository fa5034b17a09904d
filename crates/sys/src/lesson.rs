//! Stopping ourselves so that a human can look.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::calls::{SIGSTOP, getpid, kill};
use crate::errno::Errno;
use crate::out::{Line, STDERR, STDOUT};

/// `kill(getpid(), SIGSTOP)`: stop this process, and only this one.
///
/// The seeds used `kill(0, SIGSTOP)`. Pid 0 means "every process in my
/// process group" (`kill(2)`): run from a shell pipeline, a script or a
/// test harness that shares the group, that stops the callers too, and
/// the shell that should send SIGCONT may be among them.
pub fn stop_self() -> Result<(), Errno> {
    kill(getpid(), SIGSTOP)
}

/// The number of the next stop. It starts at 1, not 0, so it lives in
/// .data (initialised, file-backed) rather than .bss: the program's rw-p
/// line in /proc/PID/maps then names the executable.
static NEXT_STOP: AtomicU32 = AtomicU32::new(1);

/// What [`narrate_stop`] prints: `#` becomes the stop's number, `$` the
/// pid. One template and a loop take less code than a call per piece.
const NARRATION: &[u8] = b"  [stop #] pid $: cat /proc/$/maps, then kill -CONT $\n";

/// Tells how to look (unless `quiet`), then stops. The demo has printed
/// what just happened; this adds the pid and the two commands:
///
/// ```text
///   [stop 1] pid 4242: cat /proc/4242/maps, then kill -CONT 4242
/// ```
// Not inlined: a demo with four stops would otherwise carry four copies.
#[inline(never)]
pub fn narrate_stop(quiet: bool) -> Result<(), Errno> {
    let number = NEXT_STOP.fetch_add(1, Ordering::Relaxed);
    if !quiet {
        let pid = getpid() as u64;
        let mut line = Line::new(STDERR);
        for &b in NARRATION {
            match b {
                b'#' => line.dec(u64::from(number)),
                b'$' => line.dec(pid),
                _ => line.bytes(&[b]),
            };
        }
        line.write();
    }
    stop_self()
}

/// `text` on stderr, unless `quiet`: a line of narration.
#[inline(never)]
pub fn say(quiet: bool, text: &str) {
    if !quiet {
        let _ = crate::calls::write(STDERR, text.as_bytes());
    }
}

/// `TEXT 0xADDR` on stderr, unless `quiet`: where something now is.
#[inline(never)]
pub fn say_at(quiet: bool, text: &str, addr: usize) {
    if !quiet {
        line_at(STDERR, text, addr);
    }
}

/// `NAME PLACE 0xADDR` on stdout, `-q` or not: one line of a demo's
/// data, which its tests read (`text` is `"NAME PLACE "`).
#[inline(never)]
pub fn show_at(text: &str, addr: usize) {
    line_at(STDOUT, text, addr);
}

fn line_at(fd: usize, text: &str, addr: usize) {
    Line::new(fd).str(text).hex(addr as u64).str("\n").write();
}
