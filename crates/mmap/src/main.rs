//! `mmap`: map 512 MiB, then 512 KiB of anonymous memory, unmap the
//! first, and watch the lines of /proc/PID/maps. Seed 001's `mmap`, on
//! x86-64.
//!
//! What to look for in `cat /proc/PID/maps`:
//!
//! 1. First stop: the program, [stack], [vvar], [vvar_vclock] (Linux
//!    6.13 on), [vdso]: no line without a name yet.
//! 2. After `mmap(512 MiB)`: a new `rw-p` line with no name (anonymous
//!    memory, inode 0), 512 MiB long, below [vvar]. The kernel hands out
//!    addresses top-down, from below the mmap base (under the stack and
//!    the vDSO). It costs no RAM yet: no page is touched (see `Rss` in
//!    /proc/PID/smaps). It is charged to Committed_AS in /proc/meminfo,
//!    and vm.overcommit_memory (the tour prints it) decides whether
//!    such a charge may exceed the RAM: 0 (default) refuses only the
//!    hopeless, 1 nothing, 2 anything over CommitLimit.
//! 3. After `mmap(512 KiB)`: where does it land? In the seed (32-bit,
//!    2011) directly below the first, and the two showed as *one* line:
//!    adjacent anonymous mappings with the same permissions and flags are
//!    merged by the kernel into one VMA (`vma_merge*` in mm/vma.c), and
//!    /proc/PID/maps shows VMAs, not mmap calls. But on kernels built
//!    with transparent huge pages, since Linux 6.7 (narrowed by later
//!    fixes to lengths that are a multiple of 2 MiB), such an anonymous
//!    mapping starts on a 2 MiB boundary, so that huge pages can back it
//!    (`thp_get_unmapped_area*`, mm/huge_memory.c). That leaves a random gap of 0 to 2 MiB above
//!    the 512 MiB mapping. When the 512 KiB fit into it (most runs),
//!    they land there, above the first, and maps shows two lines; else
//!    they land directly below it and merge. `mmap 1M 512K` (1 MiB is
//!    no multiple of 2 MiB) shows the seed's merge every time. The
//!    narration says when the second lies directly below the first.
//! 4. After `munmap` of the first: the 512 MiB line is gone; the 512 KiB
//!    one stays. (Had they merged, the kernel splits the VMA and removes
//!    the 512 MiB part.) A hole of 512 MiB is left.
//!
//! `mmap [-q] [FIRST [SECOND]]` overrides the sizes (`1G`, `64K`, …).
//! A mapping the kernel refuses (try `ulimit -v 200000`) ends the
//! program with `mmap failed: ENOMEM` and exit status 1. With `-q`,
//! strace shows exactly `execve`, `getpid`, `kill`, `mmap`, `getpid`,
//! `kill`, `mmap`, `getpid`, `kill`, `munmap`, `getpid`, `kill`, `exit`.
#![no_std]
#![no_main]

use sys::out::STDERR;
use sys::{Args, Cli, Line, MAP_ANONYMOUS, MAP_PRIVATE, OrExit, PAGE_SIZE, PROT_READ, PROT_WRITE};

const USAGE: &str = "usage: mmap [-q] [FIRST [SECOND]]
Maps FIRST (512M) and SECOND (512K) bytes, then unmaps FIRST.\n";

/// Seed 001's sizes, written as a user would.
const DEFAULT_FIRST: &[u8] = b"512M";
const DEFAULT_SECOND: &[u8] = b"512K";

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let first_len = cli.next().unwrap_or(DEFAULT_FIRST);
    let second_len = cli.next().unwrap_or(DEFAULT_SECOND);
    if let Some(extra) = cli.next() {
        cli.reject(extra);
    }
    let (first_len, second_len) = (cli.size(first_len), cli.size(second_len));
    let quiet = cli.quiet;

    if !quiet {
        // A constant line needs no `Line`: one write(2).
        let _ = sys::write(STDERR, b"mmap: no anonymous mapping yet\n");
    }
    sys::narrate_stop(quiet).or_exit("kill");

    let first = map(first_len, quiet);
    if !quiet {
        // Overcommit: the mode is /proc/sys/vm/overcommit_memory (the
        // tour prints it); RAM comes only with the first write to a page.
        let _ = sys::write(
            STDERR,
            b"  charged to Committed_AS, no RAM yet; see vm.overcommit_memory\n",
        );
    }
    sys::narrate_stop(quiet).or_exit("kill");

    let second = map(second_len, quiet);
    // Touching the first on either side: the kernel merges the two.
    let below = second + second_len.next_multiple_of(PAGE_SIZE) == first;
    let above = first + first_len.next_multiple_of(PAGE_SIZE) == second;
    if !quiet && (below || above) {
        let _ = sys::write(
            STDERR,
            b"  next to the first: one VMA now, one line in maps\n",
        );
    }
    sys::narrate_stop(quiet).or_exit("kill");

    // SAFETY: nothing refers to the first mapping; we never touched it.
    unsafe { sys::munmap(first, first_len) }.or_exit("munmap");
    if !quiet {
        let _ = sys::write(STDERR, b"mmap: first unmapped, the second stays\n");
    }
    sys::narrate_stop(quiet).or_exit("kill");
}

/// `len` bytes of fresh, private, zero-filled memory, readable and
/// writable: what glibc's malloc takes from mmap for requests of
/// M_MMAP_THRESHOLD and up (128 KiB by default, adjusted at run time;
/// mallopt(3)).
fn map(len: usize, quiet: bool) -> usize {
    // SAFETY: no MAP_FIXED, so the new mapping cannot replace anything.
    let addr = unsafe {
        sys::mmap(
            0,
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .or_exit("mmap");
    if !quiet {
        Line::new(STDERR)
            .str("mmap: ")
            .size(len as u64)
            .str(" at ")
            .hex(addr as u64)
            .str("\n")
            .write();
    }
    addr
}
