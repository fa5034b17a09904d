//! `threads`: start N threads with the raw `clone` syscall, each on a
//! stack this program maps itself, and find their stacks in
//! /proc/PID/maps. Seed 000: "every thread has its own stack".
//!
//! What to look for (`cat /proc/PID/maps`, `ls /proc/PID/task`):
//!
//! 1. First stop: one task in /proc/PID/task (its tid is the pid), one
//!    [stack].
//! 2. All N threads run, each blocked in `futex` after touching its
//!    stack. /proc/PID/task lists N+1 tids. Each thread's stack is a
//!    plain anonymous `rw-p` line of 64 KiB with a `---p` page directly
//!    below it: the guard page, PROT_NONE, so that a thread that runs
//!    off its stack faults instead of writing into its neighbour. Only
//!    the main thread's stack is called `[stack]`: the kernel grows that
//!    one (VM_GROWSDOWN); a thread's stack is whatever memory its creator
//!    handed to `clone`, and maps names it no more than any other mmap
//!    (Linux 4.5 dropped the `[stack:TID]` names). Each thread's stack
//!    pointer (printed as `tN.sp mmap 0x…`, and in
//!    /proc/PID/task/TID/syscall) lies inside its own line. The SIGSTOP
//!    that the main thread sent itself stopped every thread: a stop
//!    signal stops the whole thread group (`signal(7)`, group stop);
//!    `grep State /proc/PID/task/*/status` shows `T` for all.
//! 3. The threads have ended with `exit` (only the thread; `exit_group`
//!    would end the process). The kernel wrote 0 into each thread's tid
//!    word and woke the main thread waiting on it with `futex`
//!    (CLONE_CHILD_CLEARTID, how pthread_join works), and the main
//!    thread unmapped the stacks: one task, no stack lines left.
//!
//! Every thread also gets its own thread pointer (CLONE_SETTLS): a word
//! at the top of its stack line that points at itself, as x86-64's TLS
//! ABI wants `%fs:0` to (see `tls`).
//!
//! `threads [-q] [N]` (default 2; 0 works, and 64). With `-q`, strace
//! (which follows only the main thread without `-f`) shows exactly
//! `execve`, `getpid`, `kill`; per thread `mmap`, `mmap` (its guard),
//! `clone`, `futex` (wait until it runs), `write` (its `tN.sp` line);
//! `getpid`, `kill`; `futex` (wake them all); per thread, the last first,
//! `futex` (wait for its exit) and `munmap`; `getpid`, `kill`, `exit`.
//! A failed syscall ends every thread (`exit_group`) with status 1.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use sys::out::{STDERR, STDOUT};
use sys::thread::{CLONE_THREAD_FLAGS, clone_thread, futex_wake, wait_while};
use sys::{
    Args, Cli, Line, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, OrExit, PAGE_SIZE, PROT_NONE,
    PROT_READ, PROT_WRITE,
};

const USAGE: &str = "usage: threads [-q] [N]
Starts N threads (2), each on a stack of its own.\n";

const DEFAULT_THREADS: usize = 2;
/// Each thread's stack: 64 KiB (glibc would give 8 MiB, RLIMIT_STACK).
const STACK_SIZE: usize = 64 * 1024;
/// One PROT_NONE page below each stack, as glibc's default guard.
const GUARD_SIZE: usize = PAGE_SIZE;

/// What the main thread and one thread share, at the very top of the
/// thread's stack line.
#[repr(C)]
struct Thread {
    /// `%fs:0` of the thread: the thread pointer points here, and this
    /// word points at itself.
    tp: usize,
    /// The thread's tid: written by the kernel when clone returns
    /// (CLONE_PARENT_SETTID), set to 0 when the thread has exited
    /// (CLONE_CHILD_CLEARTID).
    tid: AtomicU32,
    /// 0 until the thread runs, then its tid: a copy that stays when
    /// the kernel clears `tid`.
    ready: AtomicU32,
    /// The thread's stack pointer, as it saw it.
    sp: AtomicUsize,
    /// The mapping of the thread started before this one (0 for the
    /// first): the main thread finds them all from the last.
    previous: usize,
}

/// Where the block sits below the top of the line; the new thread's
/// stack starts below it, 16-byte aligned as clone_thread wants.
const BLOCK_OFFSET: usize = 64;
const CLONE_SLOTS: usize = 16;

/// 1 while the main thread looks, then 0: the threads may end. (Not
/// 0 first: a static that starts at 0 would be the only one in .bss, and
/// cost the file a section header.)
static WAIT: AtomicU32 = AtomicU32::new(1);

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let n = match cli.next() {
        Some(arg) => cli.number(arg),
        None => DEFAULT_THREADS,
    };
    if let Some(extra) = cli.next() {
        cli.reject(extra);
    }
    let quiet = cli.quiet;

    sys::say(quiet, "threads: 1 task (ls /proc/PID/task)\n");
    sys::narrate_stop(quiet).or_exit("kill");

    // Where the last thread's mapping starts (its guard page); 0: none.
    let mut last = 0;
    for i in 1..=n {
        last = start_thread(last);
        let t = block(last);
        // Wait until it runs and has written its tid to `ready`.
        wait_while(&t.ready, 0);
        Line::new(STDOUT)
            .str("t")
            .dec(i as u64)
            .str(".sp mmap ")
            .hex(t.sp.load(Ordering::Relaxed) as u64)
            .str("\n")
            .write();
    }
    if !quiet {
        Line::new(STDERR)
            .str("threads: ")
            .dec(n as u64 + 1)
            .str(
                " tasks, all stopped by one SIGSTOP (group stop)\n  \
                  thread stacks are unnamed: maps names only the main [stack] (since 4.5)\n",
            )
            .write();
    }
    sys::narrate_stop(quiet).or_exit("kill");

    WAIT.store(0, Ordering::Release);
    // Every waiter: the kernel reads the count as an int.
    let _ = futex_wake(&WAIT, i32::MAX as u32);
    while last != 0 {
        let (line, t) = (last, block(last));
        // The kernel clears `tid` when the thread is gone, then wakes us.
        wait_while(&t.tid, t.ready.load(Ordering::Relaxed));
        last = t.previous;
        // SAFETY: the thread has exited: nothing runs on this stack, and
        // nothing reads its block after `previous` above.
        unsafe { sys::munmap(line, GUARD_SIZE + STACK_SIZE) }.or_exit("munmap");
    }
    sys::say(quiet, "threads: exited; stacks unmapped\n");
    sys::narrate_stop(quiet).or_exit("kill");
}

/// Maps a stack with a guard page below it and starts a thread on it.
/// Returns the start of the mapping (the guard page).
fn start_thread(previous: usize) -> usize {
    let len = GUARD_SIZE + STACK_SIZE;
    // SAFETY: no MAP_FIXED: a new mapping replaces nothing.
    let line = unsafe {
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
    // The lowest page becomes the guard: mapped over, inaccessible.
    // SAFETY: MAP_FIXED replaces only the first page of our own mapping.
    unsafe {
        sys::mmap(
            line,
            GUARD_SIZE,
            PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
            -1,
            0,
        )
    }
    .or_exit("mmap");
    let top = line + len;
    let t = (top - BLOCK_OFFSET) as *mut Thread;
    // SAFETY: the block lies in the fresh mapping, which nothing else uses.
    unsafe {
        t.write(Thread {
            tp: t as usize,
            tid: AtomicU32::new(0),
            ready: AtomicU32::new(0),
            sp: AtomicUsize::new(0),
            previous,
        })
    };
    // SAFETY: the stack below the block is ours and used by nothing else
    // until the thread has exited; the block (tid, tp) lives as long.
    unsafe {
        clone_thread(
            CLONE_THREAD_FLAGS,
            t as usize - CLONE_SLOTS,
            &(*t).tid,
            t as usize,
            thread,
            t as usize,
        )
    }
    .or_exit("clone");
    line
}

/// The block at the top of the thread's line that starts at `line`.
fn block(line: usize) -> &'static Thread {
    // SAFETY: start_thread wrote a Thread there; it stays mapped until
    // the thread has exited and main unmaps it, after the last use.
    unsafe { &*((line + GUARD_SIZE + STACK_SIZE - BLOCK_OFFSET) as *const Thread) }
}

/// What each thread runs: touch its stack, say so, wait.
extern "C" fn thread(arg: usize) -> usize {
    // SAFETY: `arg` is this thread's block (start_thread).
    let me = unsafe { &*(arg as *const Thread) };
    me.sp.store(sys::arch::stack_pointer(), Ordering::Relaxed);
    // The kernel wrote `tid` before this thread started (clone(2)).
    me.ready
        .store(me.tid.load(Ordering::Relaxed), Ordering::Release);
    let _ = futex_wake(&me.ready, 1);
    wait_while(&WAIT, 1);
    0
}
