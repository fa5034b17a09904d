//! `stop-execstack` and `stop-nognustack`: the `stop` lesson with seed
//! 001's executable stack, on purpose. The only programs of the kit that
//! ask for executable data.
//!
//! One source, two links (crates/sys/build_demo.rs, `VARIANTS`):
//! `stop-execstack` has PT_GNU_STACK RWX (`-z execstack`), and
//! `stop-nognustack` has no PT_GNU_STACK at all, as a program of 2011
//! assembled without a `.note.GNU-stack` section. Before its stop it maps
//! one anonymous page with PROT_READ only (its address on stdout,
//! `prot_read 0x…`): whether that page shows `r--p` or `r-xp` in
//! /proc/PID/maps tells whether the kernel gave the process
//! READ_IMPLIES_EXEC (`personality(2)`), which makes every readable
//! mapping executable, as in the seed, where even the heap was `rwxp`.
//!
//! What Linux 6.18 does (`elf_read_implies_exec` and the table above it
//! in `arch/x86/include/asm/elf.h`):
//!
//! ```text
//!                      i386 process          x86-64 process
//!   no PT_GNU_STACK    [stack] rwxp, page r-xp   [stack] rw-p, page r--p
//!   PT_GNU_STACK RWX   [stack] rwxp, page r--p   [stack] rwxp, page r--p
//!   PT_GNU_STACK RW    [stack] rw-p, page r--p   [stack] rw-p, page r--p
//! ```
//!
//! With `-q`, strace shows exactly `execve`, `mmap` (i386: `mmap2`),
//! `write`, `getpid`, `kill`, `exit`.

use sys::out::{STDERR, STDOUT};
use sys::{Args, Cli, Line, MAP_ANONYMOUS, MAP_PRIVATE, OrExit, PAGE_SIZE, PROT_READ};

const USAGE: &str = "usage: stop-execstack [-q]   (or stop-nognustack)
Maps one page PROT_READ, prints its address, stops once so that
/proc/PID/maps shows whether [stack] and that page are executable.
  -q   no narration\n";

pub fn main(args: Args) {
    let quiet = Cli::quiet_only(&args, USAGE);
    // SAFETY: a new anonymous mapping cannot overlap anything we use.
    let page = unsafe { sys::mmap(0, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) }
        .or_exit("mmap");
    Line::new(STDOUT)
        .str("prot_read ")
        .hex(page as u64)
        .str("\n")
        .write();
    if !quiet {
        Line::new(STDERR)
            .str("mapped one page PROT_READ: r-xp in maps means READ_IMPLIES_EXEC; is [stack] rwxp?\n")
            .write();
    }
    sys::narrate_stop(quiet).or_exit("kill");
}
