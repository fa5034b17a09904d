//! `mprotect`: permissions belong to VMAs, the lines of /proc/PID/maps,
//! not to calls. What to look for in `cat /proc/PID/maps`:
//!
//! 1. After `mmap` of 3 pages `rw-`: one new anonymous `rw-p` line of
//!    12 KiB.
//! 2. After `mprotect` of the middle page to `r--`: three lines, 4 KiB
//!    each, `rw-p`, `r--p`, `rw-p`: a VMA has one set of permissions, so
//!    the kernel split it (`split_vma`, mm/vma.c).
//! 3. After `mprotect` of the middle page back to `rw-`: one line again.
//!    Neighbours with the same permissions and flags merge (`vma_merge*`).
//! 4. The three pages unmapped; a fresh page `rw-p`, with a few bytes of
//!    machine code written into it: writable, not executable.
//! 5. After `mprotect` to `r-x`: executable, no longer writable. The
//!    demo calls it and prints what it returned (`code returned 42`):
//!    the page was never writable and executable at once (W^X, as the
//!    program's own segments are, see linker.ld).
//!
//! `mprotect [-q]`. With `-q`, strace shows exactly `execve`, `mmap`,
//! `getpid`, `kill`, `mprotect`, `getpid`, `kill`, `mprotect`, `getpid`,
//! `kill`, `munmap`, `mmap`, `getpid`, `kill`, `mprotect`, `write` (the
//! number, on stdout), `getpid`, `kill`, `exit`.
#![no_std]
#![no_main]

use sys::out::STDOUT;
use sys::{Args, Cli, Line, MAP_ANONYMOUS, MAP_PRIVATE, OrExit, PAGE_SIZE};
use sys::{PROT_EXEC, PROT_READ, PROT_WRITE};

const USAGE: &str = "usage: mprotect [-q]
Splits a mapping in three with mprotect, merges it, runs code in a W^X page.\n";

/// x86-64 machine code for `fn(x: u32) -> u32 { x + 1 }` in the System V
/// ABI (x in edi, result in eax): `lea eax, [rdi+1]` (8d 47 01), `ret` (c3).
const CODE: [u8; 4] = [0x8d, 0x47, 0x01, 0xc3];
/// What the demo passes to the code.
const ARGUMENT: u32 = 41;

sys::entry!(main);

fn main(args: Args) {
    let q = Cli::quiet_only(&args, USAGE);

    let three = map(3 * PAGE_SIZE);
    sys::say_at(q, "mprotect: 3 pages rw-, one line at ", three);
    sys::narrate_stop(q).or_exit("kill");

    let middle = three + PAGE_SIZE;
    protect(middle, PROT_READ);
    sys::say_at(q, "mprotect: middle page r--, three lines at ", three);
    sys::narrate_stop(q).or_exit("kill");

    protect(middle, PROT_READ | PROT_WRITE);
    sys::say_at(q, "mprotect: middle page rw- again, one line at ", three);
    sys::narrate_stop(q).or_exit("kill");

    // SAFETY: nothing refers to the three pages any more.
    unsafe { sys::munmap(three, 3 * PAGE_SIZE) }.or_exit("munmap");
    let page = map(PAGE_SIZE);
    // SAFETY: the page is ours, writable, and CODE fits in it.
    unsafe { core::ptr::copy_nonoverlapping(CODE.as_ptr(), page as *mut u8, CODE.len()) };
    sys::say_at(q, "mprotect: code written to a rw- page at ", page);
    sys::narrate_stop(q).or_exit("kill");

    protect(page, PROT_READ | PROT_EXEC);
    sys::say_at(q, "mprotect: r-x now, calling ", page);
    // SAFETY: the page holds CODE, a complete function of this type, and
    // is executable; nothing can write it any more.
    let code: extern "C" fn(u32) -> u32 = unsafe { core::mem::transmute(page) };
    Line::new(STDOUT)
        .str("code returned ")
        .dec(u64::from(code(ARGUMENT)))
        .str("\n")
        .write();
    sys::narrate_stop(q).or_exit("kill");
}

/// `mprotect` of one page.
fn protect(page: usize, prot: usize) {
    // SAFETY: our own page; nothing accesses it in a way `prot` forbids.
    unsafe { sys::mprotect(page, PAGE_SIZE, prot) }.or_exit("mprotect");
}

/// Fresh anonymous `rw-` memory.
fn map(len: usize) -> usize {
    // SAFETY: no MAP_FIXED, so the new mapping cannot replace anything.
    unsafe {
        sys::mmap(
            0,
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .or_exit("mmap")
}
