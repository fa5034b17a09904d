//! `sys`: everything a demo needs from Linux, and nothing else.
//!
//! A demo of minimal-memory-maps links no libc. This crate stands in for
//! it, in the spirit of the kernel's `tools/include/nolibc`: one small
//! module per concern, raw syscalls that return `-errno`, and typed
//! wrappers on top that return `Result<_, Errno>`.
//!
//! - [`arch`]: the only inline assembly in the project: the naked
//!   `_start` (and `_start_pie`) and `syscall0`..`syscall6`.
//! - [`nr`]: syscall numbers; [`errno`]: error numbers and their names.
//! - [`calls`]: typed wrappers (`brk`, `mmap`, `kill`, …).
//! - [`out`]: narration without `core::fmt` (strings, decimal, 0x-hex).
//! - [`args`]: argc/argv/envp/auxv as `_start` found them, and a strict
//!   command-line parser.
//! - [`lesson`]: `stop_self()` and the "look now" narration before it.
//! - [`thread`], [`signal`]: clone, futex, arch_prctl, exit_group;
//!   rt_sigaction with our restorer, sigaltstack.
//! - `rt`: what the compiler expects from a libc (`memcpy`, …) and the
//!   panic handler. Left out of `cargo test`, where std provides them.
#![cfg_attr(not(test), no_std)]

pub mod arch;
pub mod args;
pub mod calls;
pub mod errno;
pub mod lesson;
pub mod nr;
pub mod out;
#[cfg(not(test))]
mod rt;
pub mod signal;
pub mod thread;

pub use args::{Args, Cli};
pub use calls::*;
pub use errno::{Errno, OrExit};
pub use lesson::{narrate_stop, stop_self};
pub use out::Line;

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
