//! `brk`: move the program break twice, and watch [heap] appear and grow.
//! Seed 001's `brk`, on x86-64.
//!
//! What to look for in `cat /proc/PID/maps`:
//!
//! 1. First stop: no [heap] line. Nothing has moved the break yet, so
//!    the kernel has mapped nothing for it. Yet where the heap will start
//!    is already chosen: /proc/PID/stat field 47 (start_brk).
//! 2. After `brk(0)` (where is the break?) and `brk(old + 4100)`: a
//!    `[heap]` line from start_brk, 2 pages long although only 4100
//!    bytes were asked for. The break itself moved by exactly 4100 bytes
//!    (to an address that is not page-aligned); the mapping behind it
//!    is made of whole 4096-byte pages, so it ends at the next page
//!    boundary above the break.
//! 3. The same again: the break is 8200 bytes above start_brk and [heap]
//!    is 3 pages. It grows in place: same start, higher end.
//!
//! Why is [heap] at a different address every run, in a program that is
//! not PIE (its code is always at 0x400000)? Because the kernel
//! randomises the break separately (`arch_randomize_brk`, in
//! arch/x86/kernel/process.c): one page after the end of .bss, then up
//! to 1 GiB higher on x86-64 (32 MiB for 32-bit programs, as in the
//! seed) whenever /proc/sys/kernel/randomize_va_space is 2. With
//! `setarch -R` (or randomize_va_space 0 or 1) it starts right after
//! .bss. The first `brk(0)` answers start_brk, but [heap] appears only
//! once the break moves above it.
//!
//! `brk [-q] [INCREMENT]`: INCREMENT (default 4100) is a size such as
//! `4100`, `64K` or `1M`. With `-q`, strace shows exactly `execve`,
//! `getpid`, `kill`, then twice `brk`, `brk`, `getpid`, `kill`, and `exit`.
#![no_std]
#![no_main]

use sys::out::STDERR;
use sys::{Args, Cli, Line, OrExit, PAGE_SIZE};

const USAGE: &str = "usage: brk [-q] [INCREMENT]
Moves the program break up twice by INCREMENT (4100; 64K, 1M), stopping around.\n";

/// Seed 001's increment: a little more than one page, to show that the
/// kernel maps whole pages.
const DEFAULT_INCREMENT: usize = 4100;

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let increment = match cli.next() {
        Some(arg) => cli.size(arg),
        None => DEFAULT_INCREMENT,
    };
    if let Some(arg) = cli.next() {
        cli.reject(arg);
    }
    let quiet = cli.quiet;

    if !quiet {
        // A constant line needs no `Line`: one write(2).
        let _ = sys::write(
            STDERR,
            b"brk: no [heap] yet; it will start at start_brk (/proc/PID/stat field 47)\n",
        );
    }
    sys::narrate_stop(quiet).or_exit("kill");
    for _ in 0..2 {
        grow(increment, quiet);
        sys::narrate_stop(quiet).or_exit("kill");
    }
}

/// `sbrk(increment)`, as the seed did it: `brk(0)` asks where the break
/// is, `brk(old + increment)` moves it (`sys::sbrk` makes both calls; a
/// refusal comes back as ENOMEM, since the raw syscall just returns the
/// old break).
fn grow(increment: usize, quiet: bool) {
    let old = sys::sbrk(increment).or_exit("brk");
    let new = old + increment;
    if !quiet {
        Line::new(STDERR)
            .str("brk: break ")
            .hex(old as u64)
            .str(" -> ")
            .hex(new as u64)
            .str("\n  [heap] is whole pages: it ends at the next page boundary, ")
            .hex(new.next_multiple_of(PAGE_SIZE) as u64)
            .str("\n")
            .write();
    }
}
