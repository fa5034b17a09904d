//! i386 syscall numbers, for the `i686-unknown-linux-gnu` builds (lib.rs
//! picks this file or nr.rs by `target_arch`). The same names as the
//! x86-64 table, so every wrapper says `nr::NAME` on both.
//!
//! Source: the kernel's `arch/x86/entry/syscalls/syscall_32.tbl`, the
//! numbers seed 001 used with `int $0x80` (kill 37, brk 45).

pub const EXIT: usize = 1;
pub const READ: usize = 3;
pub const WRITE: usize = 4;
pub const CLOSE: usize = 6;
pub const LSEEK: usize = 19;
pub const GETPID: usize = 20;
pub const KILL: usize = 37;
pub const BRK: usize = 45;
pub const GETPPID: usize = 64;
pub const WAIT4: usize = 114;
pub const SYSINFO: usize = 116;
/// i386's clone takes (flags, stack, parent_tid, tls, child_tid): tls
/// before child_tid, the other way round from x86-64 (CLONE_BACKWARDS in
/// the kernel's arch/Kconfig). The same for a fork, whose extra
/// arguments are all 0.
pub const CLONE: usize = 120;
pub const MUNMAP: usize = 91;
pub const MPROTECT: usize = 125;
pub const NANOSLEEP: usize = 162;
pub const PRCTL: usize = 172;
pub const PWRITE64: usize = 181;
pub const MADVISE: usize = 219;
pub const FUTEX: usize = 240;
pub const EXIT_GROUP: usize = 252;
/// `mmap2`: the seed's old `mmap` (90) took its six arguments through a
/// struct in memory; `mmap2` takes them in registers, with the file offset
/// counted in 4096-byte units ([`MMAP_OFFSET_SHIFT`]) so that a 32-bit
/// register reaches 16 TiB into a file.
pub const MMAP: usize = 192;
pub const CLOCK_GETTIME: usize = 265;
pub const OPENAT: usize = 295;
pub const PRLIMIT64: usize = 340;
pub const MEMFD_CREATE: usize = 356;

/// mmap2's offset is in units of 4096 bytes (`mmap2(2)`; the table's
/// entry point for it is `sys_mmap_pgoff`).
pub const MMAP_OFFSET_SHIFT: u32 = 12;
