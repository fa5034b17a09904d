//! The `mmap` lesson in Rust with std: stop, map 512 MiB and then
//! 512 KiB of anonymous memory, unmap the first, stopping after each
//! step. Built by `cargo tour --compare mmap` with `rustc -O`. std wraps
//! neither mmap(2) nor kill(2): the libc functions are declared by hand.

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
    fn munmap(addr: *mut u8, len: usize) -> i32;
}

/// `signal(7)`, x86-64.
const SIGSTOP: i32 = 19;
/// `PROT_READ | PROT_WRITE`, `MAP_PRIVATE | MAP_ANONYMOUS` (mman-common.h).
const PROT_READ_WRITE: i32 = 0x3;
const MAP_PRIVATE_ANONYMOUS: i32 = 0x22;
/// `MAP_FAILED`, `(void *) -1`.
const MAP_FAILED: usize = usize::MAX;
const FIRST: usize = 512 << 20;
const SECOND: usize = 512 << 10;

fn stop() -> bool {
    // SAFETY: two syscall wrappers that take integers.
    unsafe { kill(getpid(), SIGSTOP) == 0 }
}

/// Fresh anonymous memory, or None.
fn anonymous(len: usize) -> Option<*mut u8> {
    // SAFETY: a new mapping where the kernel likes; touches nothing of ours.
    let p = unsafe { mmap(std::ptr::null_mut(), len, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0) };
    (p as usize != MAP_FAILED).then_some(p)
}

fn main() {
    let ok = stop()
        && anonymous(FIRST).is_some_and(|first| {
            stop()
                && anonymous(SECOND).is_some()
                && stop()
                // SAFETY: our own mapping, nothing refers to it any more.
                && unsafe { munmap(first, FIRST) } == 0
                && stop()
        });
    std::process::exit(if ok { 0 } else { 1 });
}
