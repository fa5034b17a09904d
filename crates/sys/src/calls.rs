//! Typed syscall wrappers: `Result<_, Errno>` instead of `-errno`.
//!
//! Each wrapper names its man page. Flags and constants come from the
//! kernel's uapi headers, named where they are defined.

use crate::arch::*;
use crate::errno::Errno;
use crate::nr;

/// `SIGSTOP` and `SIGKILL`: `arch/x86/include/uapi/asm/signal.h`.
/// SIGSTOP cannot be caught or ignored (`signal(7)`).
pub const SIGKILL: usize = 9;
pub const SIGSTOP: usize = 19;

/// `PROT_*` and `MAP_*`: `include/uapi/asm-generic/mman-common.h` and
/// `mman.h`; their meaning: `mmap(2)`.
pub const PROT_NONE: usize = 0x0;
pub const PROT_READ: usize = 0x1;
pub const PROT_WRITE: usize = 0x2;
pub const PROT_EXEC: usize = 0x4;
pub const MAP_SHARED: usize = 0x01;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_FIXED_NOREPLACE: usize = 0x10_0000;

/// `RLIMIT_STACK`: `include/uapi/asm-generic/resource.h`.
pub const RLIMIT_STACK: u32 = 3;
/// "No limit" for prlimit64: `RLIM64_INFINITY`, all bits set
/// (`include/uapi/linux/resource.h`).
pub const RLIM_INFINITY: u64 = u64::MAX;

/// The x86 page size (x86-64 and i386 alike): `PAGE_SIZE` in `arch/x86/include/asm/page_types.h`
/// (`getconf PAGESIZE`; AT_PAGESZ in the auxiliary vector). The kernel
/// maps, moves and protects memory in whole pages.
pub const PAGE_SIZE: usize = 4096;

/// `O_RDONLY`, `O_CLOEXEC`: `include/uapi/asm-generic/fcntl.h`.
pub const O_RDONLY: usize = 0;
pub const O_CLOEXEC: usize = 0o2_000_000;
/// `AT_FDCWD`: relative paths start in the current directory (`openat(2)`).
pub const AT_FDCWD: isize = -100;
/// `SEEK_END`: `lseek(2)`.
pub const SEEK_END: usize = 2;
/// `CLOCK_REALTIME`, `CLOCK_MONOTONIC`: `include/uapi/linux/time.h`.
pub const CLOCK_REALTIME: usize = 0;
pub const CLOCK_MONOTONIC: usize = 1;

/// `struct timespec` of `nanosleep(2)` and `clock_gettime(2)`: two C
/// `long`s, 64-bit on x86-64 and 32-bit on i386 (the kernel's
/// `__kernel_old_timespec`, what the i386 calls 162 and 265 take).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Timespec {
    pub tv_sec: isize,
    pub tv_nsec: isize,
}

/// `struct rlimit64` of `prlimit(2)`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Rlimit {
    pub rlim_cur: u64,
    pub rlim_max: u64,
}

/// `exit(2)`: ends this thread, and with it our one-thread process.
/// strace shows it as `exit(0)`, as in seed 000.
pub fn exit(status: i32) -> ! {
    // SAFETY: exit touches no memory of ours and does not return.
    unsafe { syscall1(nr::EXIT, status as usize) };
    unreachable_after_exit()
}

#[inline(always)]
fn unreachable_after_exit() -> ! {
    // SAFETY: exit(2) never returns; this only tells the compiler so.
    unsafe { core::hint::unreachable_unchecked() }
}

/// `getpid(2)`.
pub fn getpid() -> usize {
    // SAFETY: getpid touches no memory and cannot fail.
    unsafe { syscall0(nr::GETPID) as usize }
}

/// `kill(2)`.
pub fn kill(pid: usize, sig: usize) -> Result<(), Errno> {
    // SAFETY: sending a signal touches no memory of ours.
    Errno::check(unsafe { syscall2(nr::KILL, pid, sig) }).map(drop)
}

/// `nanosleep(2)` for whole seconds. Returns early with EINTR when a
/// signal handler runs; a SIGSTOP/SIGCONT pair restarts it in the kernel.
pub fn nanosleep(req: &Timespec) -> Result<(), Errno> {
    // SAFETY: `req` is a valid timespec; no remainder is asked for.
    Errno::check(unsafe { syscall2(nr::NANOSLEEP, req as *const Timespec as usize, 0) }).map(drop)
}

/// Where the program break is now: `brk(0)`, which cannot move it (no
/// address is below the heap's start) and so only answers.
pub fn program_break() -> usize {
    // SAFETY: brk(0) never moves the break.
    unsafe { brk(0) }
}

/// `brk(2)`, the raw syscall: asks for the program break to move to
/// `addr` and returns where it is now. On failure the kernel does not
/// return `-errno` but the unchanged break: the caller compares.
///
/// # Safety
/// A lower `addr` shrinks [heap] and unmaps what lies above it, as
/// munmap would: nothing may be used there afterwards.
pub unsafe fn brk(addr: usize) -> usize {
    // SAFETY: the caller vouches for what a shrinking break unmaps.
    unsafe { syscall1(nr::BRK, addr) as usize }
}

/// `sbrk(increment)` as libc has it, done the seeds' way: `brk(0)` to
/// learn the break, then `brk(old + increment)`. Only grows, so it is
/// safe. Returns the old break: the start of the new memory.
pub fn sbrk(increment: usize) -> Result<usize, Errno> {
    let old = program_break();
    // A sum that wraps would ask to *shrink* the heap: report it as the
    // kernel would a refusal, without asking.
    let wanted = old.checked_add(increment).ok_or(crate::errno::ENOMEM)?;
    // SAFETY: `wanted` is not below the break: nothing is unmapped.
    let new = unsafe { brk(wanted) };
    // The kernel refuses (RLIMIT_DATA, no room, no memory) by leaving
    // the break where it was; glibc turns that into ENOMEM, and so do we.
    if new == wanted {
        Ok(old)
    } else {
        Err(crate::errno::ENOMEM)
    }
}

/// `mmap(2)` (on i386 `mmap2`, see nr_i386.rs). Returns the address of
/// the new mapping.
///
/// # Safety
/// With `MAP_FIXED` this replaces whatever was mapped at `addr`.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: isize,
    offset: usize,
) -> Result<usize, Errno> {
    // i386's mmap2 counts the offset in pages: one that is not a whole
    // number of them would be cut, so refuse it as mmap(2) would.
    let units = offset >> nr::MMAP_OFFSET_SHIFT;
    if units << nr::MMAP_OFFSET_SHIFT != offset {
        return Err(crate::errno::EINVAL);
    }
    // SAFETY: the caller vouches for MAP_FIXED; otherwise a new mapping
    // cannot overlap anything we use.
    Errno::check(unsafe { syscall6(nr::MMAP, addr, len, prot, flags, fd as usize, units) })
}

/// `munmap(2)`.
///
/// # Safety
/// Nothing may be used in `addr..addr+len` afterwards.
pub unsafe fn munmap(addr: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller vouches that the range is no longer used.
    Errno::check(unsafe { syscall2(nr::MUNMAP, addr, len) }).map(drop)
}

/// `write(2)`. Returns the number of bytes written.
pub fn write(fd: usize, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel only reads `buf`.
    Errno::check(unsafe { syscall3(nr::WRITE, fd, buf.as_ptr() as usize, buf.len()) })
}

/// `read(2)`. Returns the number of bytes read.
pub fn read(fd: usize, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    Errno::check(unsafe { syscall3(nr::READ, fd, buf.as_mut_ptr() as usize, buf.len()) })
}

/// `openat(AT_FDCWD, path, flags)`, what `open(2)` does on x86-64 today
/// (strace shows `openat`). `path` must end with a NUL byte.
pub fn openat(path: &[u8], flags: usize) -> Result<usize, Errno> {
    openat_in(AT_FDCWD as usize, path, flags)
}

/// `openat(dir, path, flags)`: a relative `path` is looked up in the
/// directory open as `dir`, not in the current one (`openat(2)`).
/// `path` must end with a NUL byte.
pub fn openat_in(dir: usize, path: &[u8], flags: usize) -> Result<usize, Errno> {
    if path.last() != Some(&0) {
        return Err(crate::errno::EINVAL);
    }
    // SAFETY: `path` is NUL-terminated, so the kernel stops inside it.
    Errno::check(unsafe { syscall4(nr::OPENAT, dir, path.as_ptr() as usize, flags, 0) })
}

/// `pwrite64(2)`: `buf` into the file at `offset`, not through any
/// mapping. Returns the number of bytes written.
pub fn pwrite(fd: usize, buf: &[u8], offset: usize) -> Result<usize, Errno> {
    let (ptr, len) = (buf.as_ptr() as usize, buf.len());
    // i386 passes the 64-bit offset in two registers, low word first
    // (`ia32_pwrite64(fd, buf, count, poslo, poshi)`, arch/x86/kernel/
    // sys_ia32.c); our offsets fit the low word.
    #[cfg(target_arch = "x86")]
    // SAFETY: the kernel only reads `buf`.
    let ret = unsafe { syscall5(nr::PWRITE64, fd, ptr, len, offset, 0) };
    #[cfg(not(target_arch = "x86"))]
    // SAFETY: the kernel only reads `buf`.
    let ret = unsafe { syscall4(nr::PWRITE64, fd, ptr, len, offset) };
    Errno::check(ret)
}

/// `memfd_create(2)` (Linux 3.17): a file in memory only, shown in maps as
/// `/memfd:NAME (deleted)`. `name` must end with a NUL byte.
pub fn memfd_create(name: &[u8], flags: usize) -> Result<usize, Errno> {
    if name.last() != Some(&0) {
        return Err(crate::errno::EINVAL);
    }
    // SAFETY: `name` is NUL-terminated, so the kernel stops inside it.
    Errno::check(unsafe { syscall2(nr::MEMFD_CREATE, name.as_ptr() as usize, flags) })
}

/// `close(2)`.
pub fn close(fd: usize) -> Result<(), Errno> {
    // SAFETY: closing a descriptor touches no memory.
    Errno::check(unsafe { syscall1(nr::CLOSE, fd) }).map(drop)
}

/// `lseek(2)`. Returns the new offset; `lseek(fd, 0, SEEK_END)` is the
/// file's size.
pub fn lseek(fd: usize, offset: i64, whence: usize) -> Result<usize, Errno> {
    // SAFETY: lseek touches no memory.
    Errno::check(unsafe { syscall3(nr::LSEEK, fd, offset as usize, whence) })
}

/// `clock_gettime(2)` through the syscall (the vDSO demo compares it with
/// the vDSO's own function).
pub fn clock_gettime(clock: usize) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one timespec into `ts`.
    Errno::check(unsafe { syscall2(nr::CLOCK_GETTIME, clock, &mut ts as *mut Timespec as usize) })
        .map(|_| ts)
}

/// `getrlimit(2)` done the way glibc does it on x86-64, and strace shows
/// it: `prlimit64(0, resource, NULL, &old)`, pid 0 meaning ourselves.
pub fn prlimit64(resource: u32) -> Result<Rlimit, Errno> {
    let mut old = Rlimit::default();
    // SAFETY: the kernel writes one rlimit64 into `old`; it reads nothing.
    Errno::check(unsafe {
        syscall4(
            nr::PRLIMIT64,
            0,
            resource as usize,
            0,
            &mut old as *mut Rlimit as usize,
        )
    })
    .map(|_| old)
}

/// `setrlimit(2)` done the way glibc does it on x86-64:
/// `prlimit64(0, resource, &new, NULL)`. Lowering a soft limit needs no
/// privilege; raising the hard one needs CAP_SYS_RESOURCE.
pub fn prlimit64_set(resource: u32, new: &Rlimit) -> Result<(), Errno> {
    // SAFETY: the kernel reads one rlimit64 from `new`; it writes nothing.
    Errno::check(unsafe {
        syscall4(
            nr::PRLIMIT64,
            0,
            resource as usize,
            new as *const Rlimit as usize,
            0,
        )
    })
    .map(drop)
}
