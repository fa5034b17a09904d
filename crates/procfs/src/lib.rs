//! `procfs`: what the tour and the tests use to watch a demo.
//!
//! - [`maps`]: parse `/proc/PID/maps` lines.
//! - [`stat`]: the fields of `/proc/PID/stat` that describe the layout
//!   (start_brk, arg_start, …), and `/proc/PID/auxv`.
//! - [`elf`]: a small ELF64 reader (header, program headers, sections,
//!   symbols), enough to say which section lies in which mapping.
//! - [`caps`]: this process's effective capabilities.
//! - [`task`]: a process's threads, `/proc/PID/task/TID/{stat,syscall}`.
//! - [`child`]: start a demo in its own process group and wait for each
//!   of its stops without busy-waiting.
//! - [`testing`]: run a demo through all its stops, for the tests.
//!
//! std only, no crates: libc functions that std does not wrap are
//! declared in [`child`] by hand.

pub mod caps;
pub mod child;
pub mod elf;
pub mod maps;
pub mod stat;
pub mod task;
pub mod testing;

pub use child::{Demo, Event, Spawn};
pub use maps::Mapping;
