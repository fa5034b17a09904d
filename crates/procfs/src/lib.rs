//! `procfs`: what the tour and the tests use to watch a demo.
//!
//! - [`maps`]: parse `/proc/PID/maps` lines; the page, their unit
//!   ([`maps::PAGE`], [`maps::page_start`], [`maps::page_end`]).
//! - [`smaps`]: `/proc/PID/smaps`, what of each mapping is resident;
//!   [`pagemap`]: the present bit (and frame) of every page;
//!   [`resident`]: both at one moment.
//! - [`stat`]: the fields of `/proc/PID/stat` that describe the layout
//!   (start_brk, arg_start, …), and `/proc/PID/auxv`.
//! - [`elf`]: the ELF reader of the host side, ELF64 and ELF32 (header,
//!   program headers, sections, symbols, field by field, every offset
//!   checked), enough to say which section lies in which mapping and,
//!   for `cargo elf`, what every byte of a file is.
//! - [`i686`]: the 32-bit builds of the demos: building, finding and
//!   checking them, and whether the kernel runs i386 programs.
//! - [`caps`]: this process's effective capabilities.
//! - [`task`]: a process's threads, `/proc/PID/task/TID/{stat,syscall}`.
//! - [`child`]: start a demo in its own process group and wait for each
//!   of its stops without busy-waiting.
//! - [`trace`]: start any program under ptrace and follow, call by call,
//!   how its address space is built ([`syscalls`] decodes the calls).
//! - [`markup`]: text escaped for the SVG and HTML the tools write.
//! - [`cbuild`]: for tests, build a small C program with cc.
//! - [`limits`]: `ulimit -v` values for the tests of failing syscalls.
//! - [`testing`]: run a demo through all its stops, for the tests.
//! - [`workspace`]: the workspace root, the target directory of a tool,
//!   its demo crates, and building them.
//!
//! std only, no crates: libc functions that std does not wrap are
//! declared in [`child`] by hand.

pub mod caps;
pub mod cbuild;
pub mod child;
pub mod elf;
pub mod i686;
pub mod limits;
pub mod maps;
pub mod markup;
pub mod pagemap;
pub mod resident;
pub mod smaps;
pub mod stat;
pub mod syscalls;
pub mod task;
pub mod testing;
pub mod trace;
pub mod workspace;

pub use child::{Demo, Event, Spawn};
pub use maps::Mapping;
pub use smaps::Smap;
