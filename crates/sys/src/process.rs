//! A second process: fork, wait for it, and make it die with its parent.

use crate::arch::*;
use crate::errno::Errno;
use crate::nr;

/// `SIGCONT`, `SIGCHLD`: `arch/x86/include/uapi/asm/signal.h`.
pub const SIGCONT: usize = 18;
pub const SIGCHLD: usize = 17;

/// `WUNTRACED`: wait4 also reports a child that stopped
/// (`include/uapi/linux/wait.h`; `wait(2)`).
pub const WUNTRACED: usize = 2;

/// `PR_SET_PDEATHSIG`: the signal this process gets when its parent
/// thread dies (`include/uapi/linux/prctl.h`; `prctl(2)`).
pub const PR_SET_PDEATHSIG: usize = 1;

/// A wait status (`bits/waitstatus.h`): the low byte is 0x7f for a
/// stopped child (`WIFSTOPPED`) and 0 for one that exited (`WIFEXITED`);
/// the byte above is the stop signal or the exit status.
const WSTOPPED_BYTE: u32 = 0x7f;
const LOW_BYTE: u32 = 0xff;

/// What `wait4` learned about a child.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Exited(u8),
    Stopped(u8),
    /// Killed by this signal.
    Killed(u8),
}

impl Status {
    pub fn from_raw(raw: u32) -> Status {
        let (low, high) = ((raw & LOW_BYTE) as u8, ((raw >> 8) & LOW_BYTE) as u8);
        match raw & LOW_BYTE {
            WSTOPPED_BYTE => Status::Stopped(high),
            0 => Status::Exited(high),
            _ => Status::Killed(low & 0x7f),
        }
    }
}

/// `fork(2)` as glibc does it on x86-64 and strace shows it: the raw
/// `clone(SIGCHLD, 0, 0, 0, 0)`: a new process with a copy-on-write copy
/// of our memory and no new stack (it goes on with a copy of ours), that
/// sends SIGCHLD when it ends. Returns the child's pid in the parent and
/// 0 in the child.
pub fn fork() -> Result<usize, Errno> {
    // SAFETY: without CLONE_VM the child gets its own copy of every page,
    // so neither process can touch the other's memory.
    Errno::check(unsafe { syscall5(nr::CLONE, SIGCHLD, 0, 0, 0, 0) })
}

/// `wait4(2)` for one child, without resource usage. Returns its status.
pub fn wait4(pid: usize, options: usize) -> Result<Status, Errno> {
    let mut raw: u32 = 0;
    // SAFETY: the kernel writes one int into `raw`; no rusage is asked for.
    Errno::check(unsafe { syscall4(nr::WAIT4, pid, &mut raw as *mut u32 as usize, options, 0) })
        .map(|_| Status::from_raw(raw))
}

/// `getppid(2)`: the parent's pid, or the reaper's once the parent died.
pub fn getppid() -> usize {
    // SAFETY: getppid touches no memory and cannot fail.
    unsafe { syscall0(nr::GETPPID) as usize }
}

/// `prctl(PR_SET_PDEATHSIG, sig)`. Fork clears it in the child, so each
/// generation sets its own.
pub fn set_pdeathsig(sig: usize) -> Result<(), Errno> {
    // SAFETY: this prctl only records a signal number.
    Errno::check(unsafe { syscall2(nr::PRCTL, PR_SET_PDEATHSIG, sig) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses_decode_as_the_w_macros() {
        assert_eq!(Status::from_raw(0x137f), Status::Stopped(19));
        assert_eq!(Status::from_raw(0x0100), Status::Exited(1));
        assert_eq!(Status::from_raw(0), Status::Exited(0));
        assert_eq!(Status::from_raw(9), Status::Killed(9));
    }
}
