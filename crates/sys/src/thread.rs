//! Threads without libc: `clone(2)` in its thread form, `futex(2)` to
//! wait and wake, `arch_prctl(2)` for the thread pointer, and the two
//! ways to end: `exit` (this thread) and `exit_group` (every thread).

use core::sync::atomic::AtomicU32;

#[cfg(target_arch = "x86_64")]
use crate::arch::{clone_raw, syscall2};
use crate::arch::{syscall1, syscall6};
use crate::errno::Errno;
use crate::nr;

/// `CLONE_*`: `include/uapi/linux/sched.h`; their meaning: `clone(2)`.
/// Share the address space, cwd/umask, file descriptors and signal
/// handlers; be a thread of this process (same pid, own tid); share
/// System V semaphore undo lists.
pub const CLONE_VM: usize = 0x100;
pub const CLONE_FS: usize = 0x200;
pub const CLONE_FILES: usize = 0x400;
pub const CLONE_SIGHAND: usize = 0x800;
pub const CLONE_THREAD: usize = 0x1_0000;
pub const CLONE_SYSVSEM: usize = 0x4_0000;
/// Set the new thread's thread pointer (FS base) to the `tls` argument.
pub const CLONE_SETTLS: usize = 0x8_0000;
/// Write the new thread's tid to `parent_tid` before clone returns.
pub const CLONE_PARENT_SETTID: usize = 0x10_0000;
/// When the thread exits, write 0 to `child_tid` and futex-wake it: how
/// a thread is joined (glibc's pthread_join waits on the same word).
pub const CLONE_CHILD_CLEARTID: usize = 0x20_0000;

/// What glibc's `pthread_create` asks for (nptl/pthread_create.c,
/// `create_thread`), and the `threads` demo too.
pub const CLONE_THREAD_FLAGS: usize = CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID;

/// `FUTEX_WAIT`, `FUTEX_WAKE`: `include/uapi/linux/futex.h`. Without
/// `FUTEX_PRIVATE_FLAG`: the kernel's wake for CLONE_CHILD_CLEARTID is a
/// shared one, and a private wait would not hear it.
pub const FUTEX_WAIT: usize = 0;
pub const FUTEX_WAKE: usize = 1;

/// `ARCH_SET_FS`: `arch/x86/include/uapi/asm/prctl.h`.
pub const ARCH_SET_FS: usize = 0x1002;

/// The function a new thread runs: its argument in, its exit status out.
pub type ThreadFn = extern "C" fn(usize) -> usize;

/// Starts a thread running `f(arg)` on `stack_top`, with `flags` such as
/// [`CLONE_THREAD_FLAGS`]. Returns its tid. When `f` returns, the thread
/// ends with `exit(2)` (see [`crate::arch::clone_raw`]).
///
/// # Safety
/// `stack_top` must be 16-byte aligned, with at least 16 writable bytes
/// above it for `f` and `arg` and enough below it for `f`, used by
/// nothing else until the thread has exited. `tid` (for
/// CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID) and `tls` (for
/// CLONE_SETTLS) must stay valid as long as the thread runs: the kernel
/// writes to `tid` when the thread exits.
// x86-64 only: its trampoline and the meaning of `tls` (the FS base) are
// x86-64's; i386 passes a `struct user_desc` there (not-on-i686.txt).
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone_thread(
    flags: usize,
    stack_top: usize,
    tid: &AtomicU32,
    tls: usize,
    f: ThreadFn,
    arg: usize,
) -> Result<usize, Errno> {
    let slot = stack_top as *mut usize;
    // SAFETY: the caller gave us these two words; the child pops them.
    unsafe {
        slot.write(f as usize);
        slot.add(1).write(arg);
    }
    let tid = tid.as_ptr() as usize;
    // SAFETY: the caller vouches for the stack, `tid` and `tls`.
    Errno::check(unsafe { clone_raw(flags, stack_top, tid, tid, tls) })
}

/// `futex(word, FUTEX_WAIT, expected)`: sleeps while `*word == expected`,
/// until a FUTEX_WAKE on it. Returns at once with EAGAIN if the word
/// already differs, and may return early (EINTR, or 0 spuriously): the
/// caller looks at the word again either way.
pub fn futex_wait(word: &AtomicU32, expected: u32) -> Result<(), Errno> {
    // SAFETY: the kernel only reads the word; no timeout is passed.
    Errno::check(unsafe {
        syscall6(
            nr::FUTEX,
            word.as_ptr() as usize,
            FUTEX_WAIT,
            expected as usize,
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// `futex(word, FUTEX_WAKE, n)`: wakes up to `n` waiters on `word`.
/// Returns how many were woken.
pub fn futex_wake(word: &AtomicU32, n: u32) -> Result<usize, Errno> {
    // SAFETY: waking touches no memory.
    Errno::check(unsafe {
        syscall6(
            nr::FUTEX,
            word.as_ptr() as usize,
            FUTEX_WAKE,
            n as usize,
            0,
            0,
            0,
        )
    })
}

/// `arch_prctl(ARCH_SET_FS, tp)`: sets this thread's FS base, the thread
/// pointer that `%fs:` addressing adds to every thread-local access.
///
/// # Safety
/// `tp` must point at a thread control block whose first word holds `tp`
/// ([`crate::arch::thread_pointer`]), followed below by the TLS block,
/// for as long as this thread uses thread-locals.
#[cfg(target_arch = "x86_64")]
pub unsafe fn arch_prctl_set_fs(tp: usize) -> Result<(), Errno> {
    // SAFETY: the caller vouches for the block at `tp`.
    Errno::check(unsafe { syscall2(nr::ARCH_PRCTL, ARCH_SET_FS, tp) }).map(drop)
}

/// `exit_group(2)`: ends every thread of the process. What C's `exit`
/// and `_exit` call; [`crate::exit`] ends only the calling thread, which
/// ends the process only when it is the last one.
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group touches no memory of ours and does not return.
    unsafe { syscall1(nr::EXIT_GROUP, status as usize) };
    // SAFETY: exit_group never returns; this only tells the compiler so.
    unsafe { core::hint::unreachable_unchecked() }
}

/// Sleeps until `word` no longer holds `value`: a `futex_wait` first,
/// always (EAGAIN at once if the word has changed already), then more
/// until it has. So a thread that is waited for makes no difference to
/// the number of syscalls, which strace then shows the same every run.
///
/// With `value` a thread's tid and `word` its CLONE_CHILD_CLEARTID word,
/// this is pthread_join: the kernel writes 0 there and wakes the word
/// when the thread has exited.
pub fn wait_while(word: &AtomicU32, value: u32) {
    loop {
        let _ = futex_wait(word, value);
        if word.load(core::sync::atomic::Ordering::Acquire) != value {
            return;
        }
    }
}
