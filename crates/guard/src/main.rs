//! `guard`: the stack meets its limit. Signal handlers on an alternate
//! stack, our own `SA_RESTORER`, RLIMIT_STACK and the stack guard gap.
//!
//! What to look for in `cat /proc/PID/maps`:
//!
//! 1. Handlers for SIGUSR1 and SIGSEGV are in place (`rt_sigaction` with
//!    SA_SIGINFO|SA_ONSTACK|SA_RESTORER), and an alternate signal stack:
//!    a 32 KiB anonymous `rw-p` line this program mapped (`altstack`).
//! 2. Inside the SIGUSR1 handler, which runs on the alternate stack. The
//!    kernel built a signal frame there: the interrupted registers, and
//!    above them, where `call` would have put it, a return address:
//!    `restorer`, our two instructions in `.text` that call
//!    `rt_sigreturn`. On x86-64 the kernel has no such code of its own:
//!    without SA_RESTORER the process dies of SIGSEGV as soon as the
//!    signal comes (`sys-selftest no-restorer` shows it). libc hides this.
//! 3. The overflow. RLIMIT_STACK is lowered to KIB KiB (256, as `ulimit
//!    -s` counts), then the program recurses, 1 KiB a frame, touching its
//!    stack. [stack] grows page by page until it is exactly the limit;
//!    the next page is refused (`acct_stack_growth`, mm/mmap.c) and the
//!    write faults: SIGSEGV, `si_addr` within the page below [stack]. The
//!    main stack has no room for a signal frame, so the handler runs on
//!    the alternate one (SA_ONSTACK; its `sp` is in that line), stops,
//!    and exits 0: it cannot return, the write would fault again. A KIB
//!    under the size [stack] has from exec (about 132 KiB) leaves it no
//!    room: it stays as it is, and the first page below it faults. A KIB
//!    whose bytes do not fit in a word is a usage error.
//!
//! Apart from the limit, [stack] never grows closer than the stack guard
//! gap to an accessible mapping below it: `stack_guard_gap`, a boot
//! parameter of 256 pages (1 MiB) by default (`expand_downwards`,
//! mm/mmap.c; PROT_NONE mappings do not count). `--neighbour` maps a
//! read-only page that far plus the limit less 64 KiB below the stack
//! pointer: growth then ends a guard gap above it, short of the limit.
//!
//! `guard [-q] [--neighbour] [KIB]`. With `-q`, strace shows exactly
//! `execve`, `mmap`, `sigaltstack`, `rt_sigaction` twice, `write` (the
//! `altstack` line), `getpid`, `kill`; `getpid`, `kill` (SIGUSR1), in
//! the handler `write`, `getpid`, `kill`, then `rt_sigreturn`;
//! `prlimit64` (with `--neighbour` then `mmap`), and in the SIGSEGV
//! handler two `write`s, `getpid`, `kill`, `exit`.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};
use sys::out::STDERR;
use sys::signal::{
    SA_ONSTACK, SA_RESTORER, SA_SIGINFO, SIGSEGV, SIGUSR1, Sigaction, Siginfo, SignalStack,
};
use sys::{
    Args, Cli, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, OrExit, PAGE_SIZE, PROT_READ,
    PROT_WRITE, RLIMIT_STACK, Rlimit,
};

const USAGE: &str = "usage: guard [-q] [--neighbour] [KIB]\n";

/// RLIMIT_STACK in KiB, as `ulimit -s` counts it.
const DEFAULT_LIMIT_KIB: usize = 256;
/// The largest KIB whose size in bytes fits in a word.
const MAX_LIMIT_KIB: usize = usize::MAX >> 10;
/// The alternate signal stack: room for a few frames with the CPU's
/// extended state (AT_MINSIGSTKSZ is about 3 KiB with AVX-512).
const ALTSTACK_SIZE: usize = 32 * 1024;
/// One recursion step.
const FRAME: usize = 1024;
/// `stack_guard_gap`'s default: 256 pages (mm/mmap.c).
const STACK_GUARD_GAP: usize = 256 * PAGE_SIZE;
/// With --neighbour, growth should end this far short of LIMIT.
const SHORT_OF_LIMIT: usize = 64 * 1024;

/// Not `-q`, for the handlers. (Starts true: a lone static that starts
/// false would go to .bss and cost the file a section header.)
static LOUD: AtomicBool = AtomicBool::new(true);

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let (mut kib, mut neighbour) = (DEFAULT_LIMIT_KIB, false);
    while let Some(arg) = cli.next() {
        match arg {
            _ if sys::args::same(arg, b"--neighbour") => neighbour = true,
            _ => kib = cli.number(arg),
        }
        // More would not fit in a word as bytes: the shift below would
        // drop its high bits and set some other limit.
        if kib > MAX_LIMIT_KIB {
            cli.usage_error("KIB is too big: '", arg);
        }
    }
    let limit = kib << 10;
    let quiet = cli.quiet;
    LOUD.store(!quiet, Ordering::Relaxed);

    // SAFETY: no MAP_FIXED: the new mapping replaces nothing.
    let alt = unsafe {
        sys::mmap(
            0,
            ALTSTACK_SIZE,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .or_exit("mmap");
    let ss = SignalStack {
        ss_sp: alt,
        ss_flags: 0,
        ss_size: ALTSTACK_SIZE,
    };
    // SAFETY: the fresh mapping is used by nothing but signal handlers.
    unsafe { sys::signal::sigaltstack(&ss) }.or_exit("sigaltstack");
    for sig in [SIGUSR1, SIGSEGV] {
        let act = Sigaction {
            handler: on_signal as *const () as usize,
            flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
            restorer: sys::signal::restorer(),
            mask: 0,
        };
        // SAFETY: on_signal is a SA_SIGINFO handler; the restorer
        // calls rt_sigreturn.
        unsafe { sys::signal::rt_sigaction(sig, &act) }.or_exit("rt_sigaction");
    }
    sys::show_at("altstack mmap ", alt);
    say("guard: handlers set\n");
    sys::narrate_stop(quiet).or_exit("kill");

    sys::kill(sys::getpid(), SIGUSR1).or_exit("kill");

    // Soft and hard limit: anyone may lower both (not raise them).
    let new = Rlimit {
        rlim_cur: limit as u64,
        rlim_max: limit as u64,
    };
    sys::prlimit64_set(RLIMIT_STACK, &new).or_exit("prlimit64");
    if neighbour {
        let sp = sys::arch::stack_pointer() & !(PAGE_SIZE - 1);
        let at = sp - limit.saturating_sub(SHORT_OF_LIMIT) - STACK_GUARD_GAP - PAGE_SIZE;
        // SAFETY: MAP_FIXED_NOREPLACE fails rather than replace anything.
        unsafe {
            sys::mmap(
                at,
                PAGE_SIZE,
                PROT_READ,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        }
        .or_exit("mmap");
    }
    descend();
}

/// 1 KiB more stack per call, until the kernel refuses to grow [stack].
#[inline(never)]
fn descend() {
    let mut frame = MaybeUninit::<[u8; FRAME]>::uninit();
    // One byte a frame, four a page: every page of the new stack is
    // written, each write may make the kernel grow [stack].
    // SAFETY: the byte lies in our own frame.
    unsafe { frame.as_mut_ptr().cast::<u8>().write_volatile(1) };
    // black_box: LLVM may neither end the recursion nor make it a loop.
    if black_box(true) {
        descend();
    }
    black_box(&frame);
}

/// The handler of both signals. SIGUSR1: show the signal frame's return
/// address, stop, return. SIGSEGV: the stack could not grow; show where,
/// stop, exit 0.
extern "C" fn on_signal(sig: i32, info: *const Siginfo, uc: *mut u8) {
    if sig as usize == SIGUSR1 {
        // The frame is `struct rt_sigframe` (arch/x86/include/asm/
        // sigframe.h): the return address (`pretcode`), then the ucontext
        // the kernel passes as the third argument: the word below it.
        // SAFETY: `uc` points into the frame the kernel just wrote.
        let ret = unsafe { (uc as *const usize).sub(1).read() };
        sys::show_at("restorer .text ", ret);
        say("guard: in SIGUSR1's handler\n");
        sys::narrate_stop(!LOUD.load(Ordering::Relaxed)).or_exit("kill");
        return;
    }
    // SAFETY: the kernel passes a valid siginfo to a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr };
    sys::show_at("si_addr fault ", addr);
    sys::show_at("sp mmap ", sys::arch::stack_pointer());
    say("guard: SIGSEGV: [stack] hit RLIMIT_STACK or the guard gap\n");
    sys::narrate_stop(!LOUD.load(Ordering::Relaxed)).or_exit("kill");
    sys::exit(0)
}

fn say(text: &str) {
    if LOUD.load(Ordering::Relaxed) {
        let _ = sys::write(STDERR, text.as_bytes());
    }
}
