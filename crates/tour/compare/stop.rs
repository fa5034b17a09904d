//! The `stop` lesson in Rust with std: stop once (SIGSTOP), then exit.
//! Built by `cargo tour --compare stop` with `rustc -O`.
//!
//! std has no kill(2): the two libc functions are declared by hand (std
//! links libc anyway).

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
}

/// `signal(7)`, x86-64.
const SIGSTOP: i32 = 19;

fn main() {
    // SAFETY: two syscall wrappers that take integers.
    let stopped = unsafe { kill(getpid(), SIGSTOP) } == 0;
    std::process::exit(if stopped { 0 } else { 1 });
}
