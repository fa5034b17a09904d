//! The few libc calls the tour needs that std does not wrap: non-blocking
//! pipes (`fcntl(2)`), and waiting for Enter or the demo's death at once
//! (`poll(2)` on stdin and a pidfd, `pidfd_open(2)`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

unsafe extern "C" {
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
    fn syscall(number: i64, ...) -> i64;
    fn ioctl(fd: i32, request: u64, ...) -> i32;
}

/// `include/uapi/asm-generic/ioctls.h`: the terminal's size.
const TIOCGWINSZ: u64 = 0x5413;

/// `struct winsize`, `include/uapi/asm-generic/termios.h`.
#[repr(C)]
#[derive(Default)]
struct WinSize {
    rows: u16,
    cols: u16,
    xpixel: u16,
    ypixel: u16,
}

/// The width of the terminal on `fd`, if it is one and says.
pub fn terminal_width(fd: RawFd) -> Option<usize> {
    let mut size = WinSize::default();
    // SAFETY: TIOCGWINSZ writes one struct winsize, which `size` is.
    let r = unsafe { ioctl(fd, TIOCGWINSZ, &mut size as *mut WinSize) };
    (r == 0 && size.cols > 0).then_some(usize::from(size.cols))
}

/// `include/uapi/asm-generic/fcntl.h` and `linux/fcntl.h`.
const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;
const O_NONBLOCK: i32 = 0o4000;
const F_SETPIPE_SZ: i32 = 1031;
/// `poll(2)`: data to read (or EOF); a pidfd is readable once the process
/// has ended.
const POLLIN: i16 = 1;
/// `arch/x86/entry/syscalls/syscall_64.tbl` (Linux 5.3).
const SYS_PIDFD_OPEN: i64 = 434;

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

/// A demo's output pipe: reads never block, and it holds 1 MiB, so that
/// a demo printing a lot before its stop does not block in write(2).
pub fn nonblocking_pipe(fd: &impl AsRawFd) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    /// How much a demo may write between two stops.
    const PIPE_SIZE: i32 = 1 << 20;
    // SAFETY: fcntl on a descriptor we own; no memory is passed.
    unsafe {
        // Best effort: the system may cap it (/proc/sys/fs/pipe-max-size).
        fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
        let flags = fcntl(fd, F_GETFL);
        if flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A descriptor that becomes readable when process `pid` ends.
pub fn pidfd(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor.
    let fd = unsafe { syscall(SYS_PIDFD_OPEN, pid as i64, 0i64) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor is new and ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Which of the two came first.
#[derive(Debug, PartialEq, Eq)]
pub enum Ready {
    Input,
    Ended,
}

/// Sleeps in the kernel until `input` has something (a line, or EOF) or
/// the process behind `pid` ends.
pub fn wait_input_or_end(input: RawFd, pid: Option<&OwnedFd>) -> io::Result<Ready> {
    let mut fds = vec![PollFd {
        fd: input,
        events: POLLIN,
        revents: 0,
    }];
    if let Some(p) = pid {
        fds.push(PollFd {
            fd: p.as_raw_fd(),
            events: POLLIN,
            revents: 0,
        });
    }
    loop {
        // SAFETY: `fds` is a live array of `fds.len()` pollfd structs.
        let n = unsafe { poll(fds.as_mut_ptr(), fds.len() as u64, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fds.get(1).is_some_and(|f| f.revents != 0) {
            return Ok(Ready::Ended);
        }
        return Ok(Ready::Input);
    }
}
