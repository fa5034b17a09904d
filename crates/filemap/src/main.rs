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
//!
//! stdout: `file 0xADDR SIZE` and `anonymous 0xADDR SIZE` (SIZE in bytes,
//! the file's size; maps shows it rounded up to whole pages).
#![no_std]
#![no_main]

use sys::out::{STDERR, STDOUT};
use sys::{Args, Cli, Line, OrExit};

const USAGE: &str = "usage: filemap [-q]
Maps its own file and as much anonymous memory, stops, unmaps, stops.
  -q   no narration\n";

/// The running program's file, whatever its path (`proc_pid_exe(5)`).
const SELF_EXE: &[u8] = b"/proc/self/exe\0";
/// Narration of stop 1.
const MAPPED: &str = "filemap: our file (path, inode, offset 0) next to as much anonymous \
memory (00:00 0); its fd is closed already\n";

sys::entry!(main);

fn main(args: Args) {
    let quiet = Cli::quiet_only(&args, USAGE);

    let fd = sys::openat(SELF_EXE, sys::O_RDONLY | sys::O_CLOEXEC).or_exit("open /proc/self/exe");
    let size = sys::lseek(fd, 0, sys::SEEK_END).or_exit("lseek");
    // SAFETY: no MAP_FIXED: the kernel picks a free range.
    let file = unsafe { sys::mmap(0, size, sys::PROT_READ, sys::MAP_PRIVATE, fd as isize, 0) }
        .or_exit("mmap of the file");
    // The mapping holds its own reference to the file.
    sys::close(fd).or_exit("close");
    // SAFETY: as above; no file (fd -1), zero-filled.
    let anon = unsafe {
        sys::mmap(
            0,
            size,
            sys::PROT_READ,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .or_exit("mmap anonymous");

    show("file", file, size);
    show("anonymous", anon, size);
    if !quiet {
        let _ = sys::write(STDERR, MAPPED.as_bytes());
    }
    sys::narrate_stop(quiet).or_exit("kill");

    // SAFETY: nothing refers to either mapping.
    unsafe {
        sys::munmap(file, size).or_exit("munmap");
        sys::munmap(anon, size).or_exit("munmap");
    }
    if !quiet {
        let _ = sys::write(STDERR, b"filemap: both unmapped, both lines gone\n");
    }
    sys::narrate_stop(quiet).or_exit("kill");
}

/// `NAME 0xADDRESS SIZE` on stdout.
fn show(name: &str, addr: usize, size: usize) {
    Line::new(STDOUT)
        .str(name)
        .str(" ")
        .hex(addr as u64)
        .str(" ")
        .dec(size as u64)
        .str("\n")
        .write();
}
