//! The `brk` lesson in Rust with std: stop, move the program break up by
//! 4100 bytes twice, stopping after each. Built by `cargo tour --compare
//! brk` with `rustc -O`. std wraps neither sbrk(3) nor kill(2): the libc
//! functions are declared by hand (std links libc anyway).

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
    fn sbrk(increment: isize) -> *mut u8;
}

/// `signal(7)`, x86-64.
const SIGSTOP: i32 = 19;
/// A little more than a page: the kernel maps whole pages.
const INCREMENT: isize = 4100;
/// sbrk's failure value, `(void *) -1`.
const SBRK_FAILED: usize = usize::MAX;

fn stop() -> bool {
    // SAFETY: two syscall wrappers that take integers.
    unsafe { kill(getpid(), SIGSTOP) == 0 }
}

fn main() {
    let mut ok = stop();
    for _ in 0..2 {
        // SAFETY: moves the break; nothing of ours lives above it.
        ok = ok && unsafe { sbrk(INCREMENT) } as usize != SBRK_FAILED && stop();
    }
    std::process::exit(if ok { 0 } else { 1 });
}
