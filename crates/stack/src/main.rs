//! `stack`: write one byte far below the stack pointer, and watch
//! [stack] grow down to it. Seed 001's `stk`, on x86-64.
//!
//! What to look for in `cat /proc/PID/maps`:
//!
//! 1. First stop: [stack] is 132 KiB with a small environment, although
//!    `ulimit -s` says 8192 KiB. At exec the kernel copies the strings of
//!    argv and envp (and the file name) to the top, then extends the
//!    mapping by 128 KiB below the pages they fill (`stack_expand =
//!    131072` in `setup_arg_pages`, fs/exec.c; less if RLIMIT_STACK is
//!    smaller): 4 + 128 = 132 KiB. Only then does it write AT_RANDOM,
//!    auxv, envp, argv and argc below the strings, inside those 128 KiB,
//!    0 to 8 KiB further down (`arch_align_stack`). The narration prints
//!    the size this run must have: the strings' pages + 128 KiB. The rest
//!    of the 128 KiB is reserved address space, not yet memory.
//! 2. After the write DEPTH (default 256 KiB) below the stack pointer:
//!    [stack] reaches down past the written byte: 256 KiB plus what lies
//!    above the stack pointer, rounded to pages (260, 264 or 268 KiB,
//!    with the random gap).
//!    The write faulted on an address below the mapping, and the kernel
//!    grew [stack] down to the page holding it, because it is a stack
//!    mapping (VM_GROWSDOWN) and the result stays under RLIMIT_STACK.
//!    Its top did not move: the stack grows down only.
//!
//! Over RLIMIT_STACK the kernel would answer the same write with SIGSEGV.
//! So the program first reads the limit (prlimit64) and refuses a DEPTH
//! that does not fit: `stack 16M` under the usual 8 MiB limit. With an
//! unlimited stack (`ulimit -s unlimited`) every DEPTH is tried. A DEPTH
//! under one page is refused too: it could land in our own frame.
//!
//! `stack [-q] [DEPTH]`. With `-q`, strace shows exactly `execve`,
//! `prlimit64`, `getpid`, `kill`, `getpid`, `kill`, `exit`: the write
//! itself is no syscall, the kernel only sees its page fault.
#![no_std]
#![no_main]

use sys::out::STDERR;
use sys::{Args, Cli, Line, OrExit, PAGE_SIZE, RLIM_INFINITY, RLIMIT_STACK};

const USAGE: &str = "usage: stack [-q] [DEPTH]
DEPTH: how far below the stack pointer to write (256K; 1M)\n";

/// Seed 001's depth, written as a user would: 256 KiB.
const DEFAULT_DEPTH: &[u8] = b"256K";

/// What exec adds below the pages of the strings: `stack_expand` in
/// `setup_arg_pages` (fs/exec.c).
const STACK_EXPAND: usize = 128 << 10;

/// `AT_EXECFN`: the auxv entry pointing at the program's file name, the
/// first string the kernel copies to the very top of the stack
/// (include/uapi/linux/auxvec.h; fs/exec.c).
const AT_EXECFN: usize = 31;

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let arg = cli.next().unwrap_or(DEFAULT_DEPTH);
    let depth = cli.size(arg);
    if let Some(extra) = cli.next() {
        cli.reject(extra);
    }
    let quiet = cli.quiet;

    // The address of a local is (a few bytes above) the stack pointer.
    let here = 0u8;
    let sp = &here as *const u8 as usize;
    // The top of [stack], near enough: the file name's NUL is followed
    // only by an 8-byte NULL word (`bprm->p = vma->vm_end -
    // sizeof(void *)` in fs/exec.c). Without AT_EXECFN, argc's address is
    // a lower bound.
    let top = match args.getauxval(AT_EXECFN) {
        // SAFETY: the kernel put a NUL-terminated string there, in the
        // stack we are running on; it lives as long as the process.
        Some(name) => name + unsafe { sys::args::cstr(name as *const u8) }.len(),
        None => args.stack(),
    }
    .next_multiple_of(PAGE_SIZE);
    let target = sp.wrapping_sub(depth);
    // [stack] must reach from its top down to the page holding `target`,
    // and the kernel lets it grow only while that stays under the soft
    // limit (acct_stack_growth in mm/mmap.c). An unlimited stack is
    // RLIM_INFINITY, which no size is above.
    let limit = sys::prlimit64(RLIMIT_STACK).or_exit("prlimit64").rlim_cur;
    let needed = top.wrapping_sub(target & !(PAGE_SIZE - 1));
    // Less than a page below `here` could be our own frame, not free stack.
    if depth < PAGE_SIZE || depth > sp || needed as u64 > limit {
        // Exit status 2, as for any bad argument: DEPTH is what is wrong
        // here, not a syscall. A smaller DEPTH or a larger limit fixes it.
        cli.usage_error(
            "DEPTH is under 4K, or over what RLIMIT_STACK (ulimit -s) leaves: '",
            arg,
        );
    }

    if !quiet {
        // The lowest string the kernel copied: argv's come last, lowest.
        let mut lowest = top;
        for s in args.argv().chain(args.env()) {
            lowest = lowest.min(s.as_ptr() as usize);
        }
        let strings = top - (lowest & !(PAGE_SIZE - 1));
        let start = (strings + STACK_EXPAND).min(limit as usize & !(PAGE_SIZE - 1));
        let mut line = Line::new(STDERR);
        line.str("stack: [stack] is ")
            .dec(start as u64 >> 10)
            .str(" KiB: the ")
            .dec(strings as u64 >> 10)
            .str(" KiB of pages the argv and env strings fill, + 128 KiB\n")
            .str("  RLIMIT_STACK ");
        // In KiB, as `ulimit -s` shows it.
        if limit == RLIM_INFINITY {
            line.str("unlimited\n");
        } else {
            line.dec(limit >> 10).str(" KiB\n");
        }
        line.write();
    }
    sys::narrate_stop(quiet).or_exit("kill");

    // SAFETY: `target` lies below the stack pointer, in the part of the
    // stack no frame uses, and at most RLIMIT_STACK below the top (checked
    // above), so the kernel grows [stack] over it instead of raising
    // SIGSEGV. Volatile, so that the compiler keeps a write nobody reads.
    unsafe { core::ptr::write_volatile(target as *mut u8, 42) };

    if !quiet {
        Line::new(STDERR)
            .str("stack: wrote at sp - ")
            .bytes(arg)
            .str("; [stack] reaches that page, ")
            .dec(needed as u64 >> 10)
            .str(" KiB below its top\n")
            .write();
    }
    sys::narrate_stop(quiet).or_exit("kill");
}
