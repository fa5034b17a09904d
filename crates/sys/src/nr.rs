//! x86-64 syscall numbers (lib.rs picks this file or nr_i386.rs by
//! `target_arch`).
//!
//! Source: the kernel's `arch/x86/entry/syscalls/syscall_64.tbl`. They
//! differ from the 32-bit numbers the seeds used with `int $0x80`
//! (kill was 37, brk 45, mmap 90 there).

pub const READ: usize = 0;
pub const WRITE: usize = 1;
pub const CLOSE: usize = 3;
pub const LSEEK: usize = 8;
pub const MMAP: usize = 9;
pub const MPROTECT: usize = 10;
pub const MUNMAP: usize = 11;
pub const BRK: usize = 12;
pub const PWRITE64: usize = 18;
pub const MADVISE: usize = 28;
pub const NANOSLEEP: usize = 35;
pub const GETPID: usize = 39;
pub const CLONE: usize = 56;
pub const EXIT: usize = 60;
pub const WAIT4: usize = 61;
pub const KILL: usize = 62;
pub const SYSINFO: usize = 99;
pub const GETPPID: usize = 110;
pub const PRCTL: usize = 157;
pub const CLOCK_GETTIME: usize = 228;
pub const OPENAT: usize = 257;
pub const PRLIMIT64: usize = 302;
pub const MEMFD_CREATE: usize = 319;

/// mmap's file offset is in bytes here (nr_i386.rs: mmap2 counts pages).
pub const MMAP_OFFSET_SHIFT: u32 = 0;

// Threads, signals and TLS (the `threads`, `guard` and `tls` demos).
pub const RT_SIGACTION: usize = 13;
pub const RT_SIGRETURN: usize = 15;
pub const SIGALTSTACK: usize = 131;
pub const ARCH_PRCTL: usize = 158;
pub const FUTEX: usize = 202;
pub const EXIT_GROUP: usize = 231;
