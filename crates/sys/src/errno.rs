//! Error numbers, printed by name.
//!
//! A syscall reports failure as `-errno` in `rax`. The names and numbers
//! are those of the kernel's `include/uapi/asm-generic/errno-base.h`
//! (1 to 34) and `errno.h` (35 to 40); `errno(3)` describes them.

use crate::out::{Line, STDERR};

/// The highest errno the kernel returns: `MAX_ERRNO` in
/// `include/linux/err.h`. A result in `-4095..=-1` is an error; anything
/// else, even a "negative" address, is a value.
const MAX_ERRNO: isize = 4095;

/// A failed syscall's error number.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub u16);

pub const EPERM: Errno = Errno(1);
pub const ENOENT: Errno = Errno(2);
pub const EINTR: Errno = Errno(4);
pub const EBADF: Errno = Errno(9);
pub const ENOMEM: Errno = Errno(12);
pub const EACCES: Errno = Errno(13);
pub const EEXIST: Errno = Errno(17);
pub const EINVAL: Errno = Errno(22);
pub const ENOSYS: Errno = Errno(38);

/// The names of errno 1, 2, 3, … in order, one string so that no table of
/// pointers is needed (a pointer table would need relocations in the PIE).
const NAMES: &str = "EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD \
EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL \
ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE \
EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP";

impl Errno {
    /// The symbolic name (`b"ENOMEM"`), or `None` past ELOOP (40).
    pub fn name(self) -> Option<&'static [u8]> {
        // A hand-written scan over bytes: `str::split` would add half a
        // kilobyte, and `str` slicing a check for UTF-8 boundaries.
        let names = NAMES.as_bytes();
        let (mut number, mut start) = (1, 0);
        for end in 0..=names.len() {
            if names.get(end).is_none_or(|&b| b == b' ') {
                if number == self.0 {
                    return names.get(start..end);
                }
                number += 1;
                start = end + 1;
            }
        }
        None
    }

    /// Interprets a raw syscall return value: `-MAX_ERRNO..=-1` is `-errno`.
    pub fn check(ret: isize) -> Result<usize, Errno> {
        if (-MAX_ERRNO..0).contains(&ret) {
            Err(Errno(ret.unsigned_abs() as u16))
        } else {
            Ok(ret as usize)
        }
    }
}

impl Line {
    /// Appends `ENOMEM`, or `errno 75` where no name is known.
    pub fn errno(&mut self, e: Errno) -> &mut Self {
        match e.name() {
            Some(name) => self.bytes(name),
            None => self.str("errno ").dec(u64::from(e.0)),
        }
    }
}

/// `result.or_exit("mmap")`: on failure, print `mmap failed: ENOMEM` and
/// exit with status 1, the convention of every demo for a failed syscall.
pub trait OrExit<T> {
    fn or_exit(self, what: &str) -> T;
}

impl<T> OrExit<T> for Result<T, Errno> {
    #[inline]
    fn or_exit(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => fail(what, e),
        }
    }
}

/// Prints `WHAT failed: ENAME` on stderr and exits with status 1. Not
/// generic and never inlined: one copy serves every `or_exit`. With
/// `exit_group`: a demo with threads (`threads`, `tls --threads`) must
/// not leave them running when its main thread fails.
#[cold]
#[inline(never)]
pub fn fail(what: &str, e: Errno) -> ! {
    Line::new(STDERR)
        .str(what)
        .str(" failed: ")
        .errno(e)
        .str("\n")
        .write();
    crate::thread::exit_group(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kernel_numbers() {
        assert_eq!(Errno(1).name(), Some(&b"EPERM"[..]));
        assert_eq!(Errno(12).name(), Some(&b"ENOMEM"[..]));
        assert_eq!(Errno(22).name(), Some(&b"EINVAL"[..]));
        assert_eq!(Errno(34).name(), Some(&b"ERANGE"[..]));
        assert_eq!(Errno(38).name(), Some(&b"ENOSYS"[..]));
        assert_eq!(Errno(40).name(), Some(&b"ELOOP"[..]));
        assert_eq!(Errno(41).name(), None);
        assert_eq!(Errno(0).name(), None);
    }

    #[test]
    fn check_splits_values_from_errors() {
        assert_eq!(Errno::check(-12), Err(ENOMEM));
        assert_eq!(Errno::check(0), Ok(0));
        assert_eq!(Errno::check(-4096), Ok((-4096isize) as usize));
        assert_eq!(Errno::check(0x40_0000), Ok(0x40_0000));
    }
}
