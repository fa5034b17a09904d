//! `sys-selftest`: runs the runtime of `sys` inside a real `no_std`
//! binary, where `cargo test` of the library (which links std's own
//! `memcpy` and panic handler) cannot reach it. Not a lesson.
//!
//! `sys-selftest` prints one `name ok` line per check on stdout and exits
//! 0, or names the first failed check and exits 1. `sys-selftest panic`
//! panics, to show the panic handler's message and status 101.
//! `sys-selftest restorer` and `sys-selftest no-restorer` raise SIGUSR1
//! with a handler installed with and without SA_RESTORER: the first
//! prints `handler ran` and `returned` and exits 0, the second is killed
//! by SIGSEGV when the signal comes (see `sys::arch::__sys_restorer`;
//! x86-64 only).
#![no_std]
#![no_main]

use core::hint::black_box;
use sys::out::STDOUT;
#[cfg(target_arch = "x86_64")]
use sys::signal::{SA_RESTORER, SA_SIGINFO, SIGUSR1, Sigaction, Siginfo};
use sys::{Args, Line};

sys::entry!(main);

fn check(name: &str, ok: bool) {
    Line::new(STDOUT)
        .str(name)
        .str(if ok { " ok\n" } else { " FAILED\n" })
        .write();
    if !ok {
        sys::exit(1);
    }
}

fn main(args: Args) {
    match args.args().next() {
        Some(b"panic") => panic!("on purpose"),
        #[cfg(target_arch = "x86_64")]
        Some(b"restorer") => raise_usr1(SA_RESTORER),
        #[cfg(target_arch = "x86_64")]
        Some(b"no-restorer") => raise_usr1(0),
        _ => {}
    }
    // black_box hides the values, so LLVM must call the runtime functions.
    let mut buf = *black_box(b"0123456789");
    // SAFETY: both ranges lie inside `buf`; `copy` allows the overlap.
    unsafe { core::ptr::copy(buf.as_ptr(), buf.as_mut_ptr().add(2), black_box(6)) };
    check("memmove forward overlap", &buf == b"0101234589");
    let mut buf = *black_box(b"0123456789");
    // SAFETY: as above, the other direction.
    unsafe { core::ptr::copy(buf.as_ptr().add(2), buf.as_mut_ptr(), black_box(6)) };
    check("memmove backward overlap", &buf == b"2345676789");
    let mut big = [black_box(7u8); 300];
    big[..black_box(150)].fill(black_box(1));
    check("memset", big[149] == 1 && big[150] == 7);
    let copy = black_box(big);
    check("memcpy", copy[0] == 1 && copy[299] == 7);
    // A line longer than Line's buffer: written in pieces, all to stdout.
    Line::new(STDOUT)
        .bytes(&[b'.'; 250])
        .str(" long line ok\n")
        .write();

    // memcmp, bcmp and strlen called by name: LLVM inlines most
    // comparisons, so an ordinary `==` might never reach them.
    let (abc, abd) = (black_box(c"abc"), black_box(c"abd"));
    // SAFETY: both strings are 4 readable bytes with their NUL.
    unsafe {
        check("memcmp equal", memcmp(abc.as_ptr(), abc.as_ptr(), 4) == 0);
        check("memcmp order", memcmp(abc.as_ptr(), abd.as_ptr(), 4) < 0);
        check("memcmp sign", memcmp(abd.as_ptr(), abc.as_ptr(), 4) > 0);
        check("bcmp", bcmp(abc.as_ptr(), abd.as_ptr(), 4) != 0);
        check(
            "strlen",
            strlen(abc.as_ptr()) == 3 && strlen(black_box(c"").as_ptr()) == 0,
        );
    }
}

/// Installs `on_usr1` for SIGUSR1 with `flags`, raises it, says so.
#[cfg(target_arch = "x86_64")]
fn raise_usr1(flags: u64) -> ! {
    let act = Sigaction {
        handler: on_usr1 as *const () as usize,
        flags: SA_SIGINFO | flags,
        restorer: sys::signal::restorer(),
        mask: 0,
    };
    // SAFETY: on_usr1 is a SA_SIGINFO handler; the restorer is ours.
    if unsafe { sys::signal::rt_sigaction(SIGUSR1, &act) }.is_err() {
        sys::exit(1);
    }
    let _ = sys::kill(sys::getpid(), SIGUSR1);
    let _ = sys::write(STDOUT, b"returned\n");
    sys::exit(0)
}

#[cfg(target_arch = "x86_64")]
extern "C" fn on_usr1(_sig: i32, _info: *const Siginfo, _uc: *mut u8) {
    let _ = sys::write(STDOUT, b"handler ran\n");
}

unsafe extern "C" {
    // The runtime's own, from crates/sys/src/rt.rs.
    fn memcmp(a: *const core::ffi::c_char, b: *const core::ffi::c_char, n: usize) -> i32;
    fn bcmp(a: *const core::ffi::c_char, b: *const core::ffi::c_char, n: usize) -> i32;
    fn strlen(s: *const core::ffi::c_char) -> usize;
}
