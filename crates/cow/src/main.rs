//! `cow`: fork and copy-on-write. After fork, parent and child have the
//! same maps and share every page; a page is copied only when one of
//! them writes it. Look at /proc/PID/smaps of both pids (and, as root,
//! /proc/PID/pagemap: the page frame numbers):
//!
//! 1. The parent alone: a page of its own, written: `Private_Dirty: 4 kB`
//!    on its anonymous line.
//! 2. After fork (the raw `clone` syscall with SIGCHLD, as glibc's fork):
//!    the child stops itself first, then the parent. Both have the same
//!    maps; the page is mapped in both: `Shared_Dirty: 4 kB` in each, and
//!    the same frame in pagemap. Nothing was copied.
//! 3. The child wrote the page and stopped again: the write faulted, and
//!    the kernel gave the child a copy (`do_wp_page`, mm/memory.c). Now
//!    each has `Private_Dirty: 4 kB` for it, with different frames, and
//!    the parent's page still reads "parent".
//!
//! The parent drives the child: it waits for each of the child's stops
//! (`wait4` with WUNTRACED) before it stops itself, and continues the
//! child when it is continued. So `kill -CONT PARENT` is all a human
//! sends. Then the child exits and the parent reaps it. The child dies
//! with its parent: fork clears PR_SET_PDEATHSIG, so the child sets its
//! own, then checks getppid() in case the parent died before that.
//!
//! `cow [-q]`. With `-q`, strace (with -f) shows `mmap`, `getpid`,
//! `kill`, `getpid`, `clone`, `wait4`, … (see the tests for the list).
#![no_std]
#![no_main]

use sys::out::STDERR;
use sys::{Args, Cli, Line, MAP_ANONYMOUS, MAP_PRIVATE, OrExit, PAGE_SIZE, PROT_READ, PROT_WRITE};
use sys::{SIGCONT, SIGKILL, Status, WUNTRACED};

const USAGE: &str = "usage: cow [-q]
fork, then copy-on-write of one page.\n";

/// What each process writes at the start of the page.
const PARENT: &[u8] = b"parent";
const CHILD: &[u8] = b"child!";

sys::entry!(main);

fn main(args: Args) {
    let q = Cli::quiet_only(&args, USAGE);
    // SAFETY: no MAP_FIXED, so the new mapping cannot replace anything.
    let page = unsafe {
        sys::mmap(
            0,
            PAGE_SIZE,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .or_exit("mmap");
    write(page, PARENT);
    sys::say_at(q, "cow: parent wrote a page at ", page);
    sys::narrate_stop(q).or_exit("kill");

    let parent = sys::getpid();
    let child = sys::fork().or_exit("fork");
    if child == 0 {
        run_child(parent, page, q);
    }
    // Only once the child has stopped does the parent stop: a human (or
    // the tour) then finds both stopped.
    let mut status = sys::wait4(child, WUNTRACED).or_exit("wait4");
    for text in [
        "cow: forked, shared; child ",
        "cow: child wrote: copied; child ",
    ] {
        if !matches!(status, Status::Stopped(_)) {
            break;
        }
        if !q {
            Line::new(STDERR)
                .str(text)
                .dec(child as u64)
                .str("\n")
                .write();
        }
        if read(page) != PARENT {
            fail(b"cow: the parent's page changed\n");
        }
        sys::narrate_stop(q).or_exit("kill");
        status = resume(child);
    }
    // A child continued from elsewhere may have stopped more often.
    while matches!(status, Status::Stopped(_)) {
        status = resume(child);
    }
    if status != Status::Exited(0) {
        fail(b"cow: child failed\n");
    }
    sys::say_at(q, "cow: reaped; ours intact at ", page);
}

/// Status 1 with one line: what copy-on-write should have kept did not.
#[cold]
fn fail(text: &[u8]) -> ! {
    let _ = sys::write(STDERR, text);
    sys::exit(1)
}

/// Continues the stopped child and waits for its next stop or its end.
fn resume(child: usize) -> Status {
    sys::kill(child, SIGCONT).or_exit("kill");
    sys::wait4(child, WUNTRACED).or_exit("wait4")
}

fn run_child(parent: usize, page: usize, q: bool) -> ! {
    // Dies with the parent; if the parent died before this took effect,
    // we were already handed to another (getppid changed): leave now.
    sys::set_pdeathsig(SIGKILL).or_exit("prctl");
    if sys::getppid() != parent {
        sys::exit(1);
    }
    child_stop(q, "cow: child ");
    write(page, CHILD);
    child_stop(q, "cow: child wrote: copied; child ");
    sys::exit(0)
}

/// The child's stop: its parent sends the SIGCONT, not a human.
fn child_stop(q: bool, text: &str) {
    if !q {
        Line::new(STDERR)
            .str(text)
            .dec(sys::getpid() as u64)
            .str(" stopped; parent continues it\n")
            .write();
    }
    sys::stop_self().or_exit("kill");
}

fn write(page: usize, text: &[u8]) {
    // SAFETY: the page is ours, writable, and longer than `text`.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), page as *mut u8, text.len()) };
}

fn read(page: usize) -> &'static [u8] {
    // SAFETY: the page is ours and readable for the life of the process.
    unsafe { core::slice::from_raw_parts(page as *const u8, PARENT.len()) }
}
