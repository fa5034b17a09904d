//! `filemap`: memory with a file behind it, next to memory without.
//! Seed 002 contrasts file-backed and anonymous mappings.
//!
//! The program opens its own executable (`/proc/self/exe`), maps the
//! whole file read-only, closes the descriptor, and maps anonymous memory
//! of the same size, also read-only.
//!
//! - Stop 1: two new lines of the same size. The file-backed one names
//!   the program's path, its device and inode, and offset 00000000 (the
//!   file from its first byte); the anonymous one has `00:00 0` and no
//!   name. The descriptor is already closed: the mapping keeps the file.
//! - Stop 2: both unmapped, both lines gone.
//! - Stop 3: MAP_PRIVATE is not a snapshot. A memfd (a file in memory
//!   only: `/memfd:lesson (deleted)` in maps) holding `old!` is mapped
//!   MAP_PRIVATE; then `pwrite` through its descriptor writes `new!` into
//!   the file, and the mapping reads `new!`: until the process writes a
//!   page of a private mapping, that page is the file's own page.
//! - Stop 4: the process writes into the mapping: the kernel copies the
//!   page (copy-on-write; smaps counts it `Anonymous:`). The next
//!   `pwrite` (`3rd!`) no longer shows: the mapping reads `mew!`.
//!
//! stdout: `file 0xADDR SIZE` and `anonymous 0xADDR SIZE` (SIZE in bytes,
//! the file's size; maps shows it rounded up to whole pages), then
//! `memfd 0xADDR reads TEXT` at stops 3 and 4.
#![no_std]
#![no_main]

use sys::out::{STDERR, STDOUT};
use sys::{Args, Cli, Line, OrExit};

const USAGE: &str = "usage: filemap [-q]
Its own file and anonymous memory; then a MAP_PRIVATE memfd.
  -q   no narration\n";

/// The running program's file, whatever its path (`proc_pid_exe(5)`).
const SELF_EXE: &[u8] = b"/proc/self/exe\0";
/// The memfd's name (memfd_create(2)); maps shows `/memfd:lesson`.
const MEMFD_NAME: &[u8] = b"lesson\0";
/// What the file holds when mapped, what another writer puts there
/// then, our own write into the mapping, and another writer's after it.
const OLD: &[u8] = b"old!";
const NEW: &[u8] = b"new!";
const OURS: u8 = b'm';
const THIRD: &[u8] = b"3rd!";

/// Narration of stop 1.
const MAPPED: &str = "filemap: our file (inode, offset 0), anonymous memory (00:00 0)\n";

sys::entry!(main);

fn main(args: Args) {
    let quiet = Cli::quiet_only(&args, USAGE);

    let fd = sys::openat(SELF_EXE, sys::O_RDONLY | sys::O_CLOEXEC).or_exit("open /proc/self/exe");
    let size = sys::lseek(fd, 0, sys::SEEK_END).or_exit("lseek");
    let file = map(size, sys::PROT_READ, 0, fd as isize, "mmap of the file");
    // The mapping holds its own reference to the file.
    sys::close(fd).or_exit("close");
    // No file (fd -1): zero-filled.
    let anon = map(
        size,
        sys::PROT_READ,
        sys::MAP_ANONYMOUS,
        -1,
        "mmap anonymous",
    );
    show("file", file, size, b"");
    show("anonymous", anon, size, b"");
    look(quiet, MAPPED.as_bytes());

    for addr in [file, anon] {
        // SAFETY: nothing refers to either mapping.
        unsafe { sys::munmap(addr, size) }.or_exit("munmap");
    }
    look(quiet, b"filemap: both unmapped\n");

    let fd = sys::memfd_create(MEMFD_NAME, 0).or_exit("memfd_create");
    put(fd, OLD);
    let page = map(
        OLD.len(),
        sys::PROT_READ | sys::PROT_WRITE,
        0,
        fd as isize,
        "mmap of the memfd",
    );
    put(fd, NEW);
    reads(page);
    look(quiet, b"filemap: MAP_PRIVATE of old!, pwrite new!: seen\n");

    // SAFETY: our own private mapping, writable, at least one byte long.
    unsafe { core::ptr::write_volatile(page as *mut u8, OURS) };
    put(fd, THIRD);
    reads(page);
    look(quiet, b"filemap: our write copied it; 3rd! unseen\n");
}

/// A MAP_PRIVATE mapping of `len` bytes of `fd` (or, with MAP_ANONYMOUS
/// in `flags`, of zero pages) wherever the kernel likes.
#[inline(never)]
fn map(len: usize, prot: usize, flags: usize, fd: isize, what: &str) -> usize {
    // SAFETY: no MAP_FIXED: the kernel picks a free range, replacing
    // nothing.
    unsafe { sys::mmap(0, len, prot, sys::MAP_PRIVATE | flags, fd, 0) }.or_exit(what)
}

/// The narration `text` (unless `quiet`), then the stop.
#[inline(never)]
fn look(quiet: bool, text: &[u8]) {
    if !quiet {
        let _ = sys::write(STDERR, text);
    }
    sys::narrate_stop(quiet).or_exit("kill");
}

/// Writes `text` at the start of the file behind `fd`, not through the
/// mapping: another writer, as far as the mapping can tell.
#[inline(never)]
fn put(fd: usize, text: &[u8]) {
    sys::pwrite(fd, text, 0).or_exit("pwrite");
}

/// `memfd 0xADDRESS reads TEXT` on stdout: what the mapping holds now.
fn reads(page: usize) {
    // SAFETY: a readable mapping of at least OLD.len() bytes, ours.
    let text = unsafe { core::slice::from_raw_parts(page as *const u8, OLD.len()) };
    show("memfd", page, 0, text);
}

/// `NAME 0xADDRESS SIZE` on stdout, or `NAME 0xADDRESS reads TEXT` when
/// there is a text.
#[inline(never)]
fn show(name: &str, addr: usize, size: usize, text: &[u8]) {
    let mut line = Line::new(STDOUT);
    line.str(name).str(" ").hex(addr as u64);
    if text.is_empty() {
        line.str(" ").dec(size as u64);
    } else {
        line.str(" reads ").bytes(text);
    }
    line.str("\n").write();
}
