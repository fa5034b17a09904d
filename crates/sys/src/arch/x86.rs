//! The i386 half of the only inline assembly in the project: the entry
//! point and `int $0x80`, as seed 001 used them. Built for
//! `--target i686-unknown-linux-gnu`; everything above this module (the
//! typed wrappers, the narration, the parser) is the same for both
//! architectures.
//!
//! ## `_start`
//!
//! The kernel jumps here with `esp` pointing at argc and aligned to 16
//! bytes (`fs/binfmt_elf.c`, `create_elf_tables`, aligns the initial
//! stack pointer to 16 on every architecture). The i386 psABI as GCC and
//! LLVM use it today (since GCC 4.5; i386 psABI 1.1, 2.2.2) wants `esp`
//! 16-byte aligned at each `call`: LLVM keeps 16-byte SSE values on the
//! stack with `movaps` under that assumption, exactly the trap of seed
//! 000. Arguments go on the stack (cdecl), so we push the one argument
//! after making room for the alignment.
//!
//! ## Why `int $0x80`
//!
//! `int $0x80` is the i386 system call gate, the one the seed used, and
//! the one that works on every x86 CPU and kernel, also under IA-32
//! emulation on a 64-bit kernel (`entry_INT80_compat` in
//! `arch/x86/entry/entry_64_compat.S`). `sysenter` is faster but not
//! callable by a program on its own: the kernel returns from it to a fixed
//! place inside the vDSO, so only the vDSO's `__kernel_vsyscall` may use
//! it. Calling `__kernel_vsyscall` would mean finding it through
//! `AT_SYSINFO` before the first syscall, and every syscall would then
//! depend on the vDSO that some lessons look at. Speed is not a lesson.
//!
//! ## The convention
//!
//! `eax` holds the number ([`crate::nr`]); arguments go in `ebx`, `ecx`,
//! `edx`, `esi`, `edi`, `ebp`; the result comes back in `eax`, with
//! `-4095..=-1` meaning `-errno`; the gate preserves every other
//! register. Source: `syscall(2)`, "Architecture calling conventions".
//! Rust's `asm!` takes neither `esi` nor `ebp` as an operand on i686
//! (LLVM may need them as base and frame pointer), so the wrappers with
//! a fourth or sixth argument load them inside the asm block and restore
//! them before it ends.

use core::arch::asm;
#[cfg(not(test))]
use core::arch::naked_asm;

/// The process's first instruction (`ENTRY(_start)` in linker.ld).
///
/// # Safety
/// Only the kernel may jump here, with the initial stack in `esp`.
#[cfg(not(test))]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    naked_asm!(
        // ebp = 0 marks the outermost frame, so gdb's `bt` ends here.
        "xor ebp, ebp",
        // Where argc lies (argv, envp and auxv follow).
        "mov eax, esp",
        // Align, then 12 bytes of padding and the 4-byte argument: esp is
        // 16-byte aligned at the `call`, as the psABI asks.
        "and esp, -16",
        "sub esp, 12",
        "push eax",
        "call {start}",
        "ud2",
        start = sym crate::args::start,
    )
}

/// A raw syscall without arguments. Returns `eax`: a value, or `-errno`.
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret;
    // SAFETY: the caller vouches for the syscall; `int $0x80` changes
    // nothing but eax.
    unsafe { asm!("int 0x80", inlateout("eax") nr as isize => ret, options(nostack)) };
    ret
}

/// A raw syscall with one argument. See [`syscall0`].
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall1(nr: usize, a1: usize) -> isize {
    let ret;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("int 0x80", inlateout("eax") nr as isize => ret, in("ebx") a1, options(nostack))
    };
    ret
}

/// A raw syscall with two arguments. See [`syscall0`].
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall2(nr: usize, a1: usize, a2: usize) -> isize {
    let ret;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("int 0x80", inlateout("eax") nr as isize => ret, in("ebx") a1, in("ecx") a2,
             options(nostack))
    };
    ret
}

/// A raw syscall with three arguments. See [`syscall0`].
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall3(nr: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("int 0x80", inlateout("eax") nr as isize => ret, in("ebx") a1, in("ecx") a2,
             in("edx") a3, options(nostack))
    };
    ret
}

/// A raw syscall with four arguments; the fourth goes in `esi`, which we
/// borrow from `edi` and give back (`xchg` twice).
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret;
    // SAFETY: as in syscall0; esi holds its own value again at the end.
    unsafe {
        asm!("xchg esi, edi", "int 0x80", "xchg esi, edi",
             inlateout("eax") nr as isize => ret, in("ebx") a1, in("ecx") a2, in("edx") a3,
             inout("edi") a4 => _, options(nostack))
    };
    ret
}

/// A raw syscall with five arguments. See [`syscall6`].
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall5(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> isize {
    // SAFETY: the caller's promise, passed on; ebp's value is unused.
    unsafe { syscall6(nr, a1, a2, a3, a4, a5, 0) }
}

/// A raw syscall with six arguments, as mmap2 needs. Seven values but
/// five registers an operand may name (eax, ebx, ecx, edx, edi): the
/// number and the fourth and sixth arguments travel in memory, pointed
/// at by eax, and are loaded into eax, esi and ebp inside the block,
/// which saves and restores esi and ebp on the stack.
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall6(
    nr: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    let spilled = [a4, a6, nr];
    let ret;
    // SAFETY: as in syscall0; `spilled` lives until the block ends, and
    // esi and ebp are popped back before it does.
    unsafe {
        asm!(
            "push esi",
            "push ebp",
            "mov esi, [eax]",
            "mov ebp, [eax + 4]",
            "mov eax, [eax + 8]",
            "int 0x80",
            "pop ebp",
            "pop esi",
            inlateout("eax") spilled.as_ptr() => ret,
            in("ebx") a1, in("ecx") a2, in("edx") a3, in("edi") a5,
        )
    };
    ret
}

/// `rep stosb`: fill `n` bytes at `dst` with `byte`. Used by `memset`; a
/// Rust loop there would be turned back into a call to `memset` by LLVM.
///
/// # Safety
/// `dst..dst+n` must be writable.
#[inline(always)]
pub unsafe fn rep_stosb(dst: *mut u8, byte: u8, n: usize) {
    // SAFETY: the caller vouches for the range.
    unsafe {
        asm!("rep stosb", inout("edi") dst => _, inout("ecx") n => _, in("al") byte,
             options(nostack, preserves_flags))
    };
}

/// `rep movsb`: copy `n` bytes forward. Used by `memcpy` and `memmove`.
/// The source pointer is swapped into `esi` and out again.
///
/// # Safety
/// Both ranges must be valid; an overlap is only allowed with `dst < src`.
#[inline(always)]
pub unsafe fn rep_movsb(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller vouches for the ranges; esi holds its own value
    // again at the end.
    unsafe {
        asm!("xchg esi, {src}", "rep movsb", "xchg esi, {src}",
             src = inout(reg) src => _, inout("edi") dst => _, inout("ecx") n => _,
             options(nostack, preserves_flags))
    };
}

/// `std; rep movsb; cld`: copy `n` bytes backward, for an overlapping
/// `memmove` with `dst > src`. The direction flag must be clear again on
/// return (i386 psABI, 2.2.2).
///
/// # Safety
/// Both ranges must be valid.
#[inline(always)]
pub unsafe fn rep_movsb_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller vouches for the ranges; edi/esi point at the
    // last byte of each range, as a backward `movsb` needs.
    unsafe {
        asm!("xchg esi, {src}", "std", "rep movsb", "cld", "xchg esi, {src}",
             src = inout(reg) src.wrapping_add(n).wrapping_sub(1) => _,
             inout("edi") dst.wrapping_add(n).wrapping_sub(1) => _,
             inout("ecx") n => _, options(nostack))
    };
}

/// The entry point of a demo that is not ported to i386 (build_demo.rs,
/// `NOT_ON_I386`, says which and why when it builds): it says so on
/// stderr and exits 1, instead of running a lesson that would be wrong.
///
/// # Safety
/// Only the kernel may jump here.
#[cfg(not(test))]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start_unported() -> ! {
    naked_asm!("and esp, -16", "call {f}", "ud2", f = sym unported)
}

#[cfg(not(test))]
extern "C" fn unported() -> ! {
    let _ = crate::calls::write(
        crate::out::STDERR,
        b"this demo is not ported to i386; build it for x86-64\n",
    );
    crate::calls::exit(1)
}
