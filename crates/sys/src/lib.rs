//! `sys`: everything a demo needs from Linux, and nothing else.
//!
//! A demo of minimal-memory-maps links no libc. This crate stands in for
//! it, in the spirit of the kernel's `tools/include/nolibc`: one small
//! module per concern, raw syscalls that return `-errno`, and typed
//! wrappers on top that return `Result<_, Errno>`.
//!
//! - [`arch`]: the only inline assembly in the project: the naked
//!   `_start` (and `_start_pie`) and `syscall0`..`syscall6`, for x86-64
//!   (`arch/x86_64.rs`, the `syscall` instruction) or i386
//!   (`arch/x86.rs`, `int $0x80`), chosen by `target_arch`.
//! - [`nr`]: syscall numbers (nr.rs for x86-64, nr_i386.rs for i386);
//!   [`errno`]: error numbers and their names.
//! - [`calls`]: typed wrappers (`brk`, `mmap`, `kill`, …).
//! - [`mm`]: pages: `madvise`, `mprotect`, `sysinfo`.
//! - [`process`]: a second process: `fork`, `wait4`, `getppid`, `prctl`.
//! - [`out`]: narration without `core::fmt` (strings, decimal, 0x-hex).
//! - [`args`]: argc/argv/envp/auxv as `_start` found them, and a strict
//!   command-line parser.
//! - [`lesson`]: `stop_self()` and the "look now" narration before it.
//! - [`thread`], [`signal`]: clone, futex, arch_prctl, exit_group;
//!   rt_sigaction with our restorer, sigaltstack.
//! - `rt`: what the compiler expects from a libc (`memcpy`, …) and the
//!   panic handler. Left out of `cargo test`, where std provides them.
#![cfg_attr(not(test), no_std)]

// One module per architecture for what differs: the entry point, the
// syscall instruction, the syscall numbers. The rest is shared.
#[cfg(target_arch = "x86_64")]
#[path = "arch/x86_64.rs"]
pub mod arch;
#[cfg(target_arch = "x86")]
#[path = "arch/x86.rs"]
pub mod arch;
pub mod args;
pub mod calls;
pub mod errno;
pub mod lesson;
pub mod mm;
#[cfg(target_arch = "x86_64")]
pub mod nr;
#[cfg(target_arch = "x86")]
#[path = "nr_i386.rs"]
pub mod nr;
pub mod out;
pub mod process;
#[cfg(not(test))]
mod rt;
// Signals with our own restorer: the x86-64 layout of struct sigaction
// and rt_sigreturn (the i386 builds leave them out; not-on-i686.txt).
#[cfg(target_arch = "x86_64")]
pub mod signal;
pub mod thread;

pub use args::{Args, Cli};
pub use calls::*;
pub use errno::{Errno, OrExit};
pub use lesson::{narrate_stop, say, say_at, show_at, stop_self};
pub use mm::*;
pub use out::Line;
pub use process::*;

/// Turns a demo's `fn main(args: Args)` into the program's entry point.
///
/// `_start` (in [`arch`]) finds argc, argv, envp and the auxiliary vector
/// on the initial stack and calls the symbol `main`, which this macro
/// defines, as C's start-up code would: so `break main` works in gdb, and
/// `step` from there enters the demo's own `main`. When that returns, the
/// process exits with status 0; failures exit earlier with 1 ([`OrExit`])
/// or 2 ([`Cli`]).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(export_name = "main")]
        extern "Rust" fn __sys_main(args: $crate::Args) -> ! {
            $main(args);
            $crate::exit(0)
        }
    };
}
