//! What the compiler expects from a libc that is not there.
//!
//! - LLVM emits calls to `memset`/`memcpy`/`memmove` for struct copies and
//!   zeroing (at opt-level 0 for almost any array); core's slice
//!   comparison calls `memcmp`, which LLVM turns into `bcmp` where only
//!   equality matters; `strlen` is what LLVM makes of a loop that looks
//!   for a NUL byte.
//! - libcore names `rust_eh_personality` even with `panic = "abort"`.
//! - `#![no_std]` needs one `#[panic_handler]`.
//!
//! Each is a function, so the linker drops it from a demo that does not
//! call it (a `#[no_mangle]` *static* would be kept in every demo).
//! The bodies use `rep movsb`/`rep stosb` or volatile reads: an ordinary
//! loop here would be recognised by LLVM and compiled into a call to the
//! very function it implements.

use crate::arch::{rep_movsb, rep_movsb_backward, rep_stosb};
use crate::out::{Line, STDERR};
use core::ptr::read_volatile;

/// Exit status of a panic, the same as a Rust std program's.
const EXIT_PANIC: i32 = 101;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut line = Line::new(STDERR);
    line.str("panicked");
    if let Some(msg) = info.message().as_str() {
        line.str(": ").str(msg);
    }
    if let Some(at) = info.location() {
        line.str(" at ")
            .str(at.file())
            .str(":")
            .dec(u64::from(at.line()));
    }
    line.str("\n").write();
    // Every thread: a panic in one ends the process, as in std.
    crate::thread::exit_group(EXIT_PANIC)
}

/// Never called: nothing unwinds with `panic = "abort"`.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// # Safety
/// As C's `memset`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller passes a writable range of n bytes.
    unsafe { rep_stosb(dst, c as u8, n) };
    dst
}

/// # Safety
/// As C's `memcpy`: the ranges do not overlap.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller passes two valid, disjoint ranges.
    unsafe { rep_movsb(dst, src, n) };
    dst
}

/// # Safety
/// As C's `memmove`: the ranges may overlap.
#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller passes two valid ranges; copying backward when
    // dst lies above src never overwrites a byte before it is read.
    unsafe {
        if (dst as usize).wrapping_sub(src as usize) >= n {
            rep_movsb(dst, src, n)
        } else {
            rep_movsb_backward(dst, src, n)
        }
    };
    dst
}

/// # Safety
/// As C's `memcmp`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller passes two readable ranges of n bytes.
        let (x, y) = unsafe { (read_volatile(a.add(i)), read_volatile(b.add(i))) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As `bcmp`: zero if equal, non-zero otherwise.
#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// As C's `strlen`: `s` is NUL-terminated.
#[unsafe(no_mangle)]
unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller passes a NUL-terminated string.
    while unsafe { read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}
