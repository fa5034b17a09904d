//! `sys-selftest`: runs the runtime of `sys` inside a real `no_std`
//! binary, where `cargo test` of the library (which links std's own
//! `memcpy` and panic handler) cannot reach it. Not a lesson.
//!
//! `sys-selftest` prints one `name ok` line per check on stdout and exits
//! 0, or names the first failed check and exits 1. `sys-selftest panic`
//! panics, to show the panic handler's message and status 101.
#![no_std]
#![no_main]

use core::hint::black_box;
use sys::out::STDOUT;
use sys::{Args, Line};

sys::entry!(main);

fn check(name: &str, ok: bool) {
    Line::new().str(name).str(if ok { " ok\n" } else { " FAILED\n" }).write(STDOUT);
    if !ok {
        sys::exit(1);
    }
}

fn main(args: Args) {
    if args.args().next() == Some(b"panic") {
        panic!("on purpose");
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
    check("memcmp equal", black_box(&b"abcdef"[..]) == black_box(&b"abcdef"[..]));
    check("memcmp differ", black_box(&b"abcdef"[..]) != black_box(&b"abcdeg"[..]));
    check("memcmp order", black_box(&b"abc"[..]) < black_box(&b"abd"[..]));
    // SAFETY: the literal ends with a NUL byte.
    let s = unsafe { sys::args::cstr(black_box(b"hello\0".as_ptr())) };
    check("strlen", s == b"hello");
}
