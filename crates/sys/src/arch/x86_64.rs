//! The only inline assembly of the project: the entry point and the
//! `syscall` instruction.
//!
//! ## Why `_start` is naked
//!
//! The kernel does not *call* `_start`: it jumps there with `rsp` pointing
//! at argc, and the x86-64 ABI (System V psABI, 3.4.1) says that `rsp` is
//! then 16-byte aligned. A normal function instead expects to be entered
//! by `call`, which pushes 8 bytes: `rsp + 8` is 16-byte aligned there.
//! Seed 000 wrote `extern "C" fn _start()`. At opt-level 0 it happened to
//! work; once the optimizer keeps 16-byte values on the stack with
//! `movaps` (which faults on a misaligned address), the program died with
//! SIGSEGV. A naked function has no prologue the compiler could get
//! wrong: we take `rsp` ourselves, align it, and `call` into Rust so that
//! Rust code starts with the stack the ABI promises.
//!
//! ## The syscall convention
//!
//! `rax` holds the number ([`crate::nr`]); arguments go in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9`; the result comes back in `rax`, with
//! `-4095..=-1` meaning `-errno`. The instruction itself overwrites `rcx`
//! (return address) and `r11` (saved flags). Source: `syscall(2)`,
//! "Architecture calling conventions".

use core::arch::asm;
#[cfg(not(test))]
use core::arch::naked_asm;

/// The process's first instruction (`ENTRY(_start)` in linker.ld).
///
/// # Safety
/// Only the kernel may jump here, with the initial stack in `rsp`.
#[cfg(not(test))]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    naked_asm!(
        // rbp = 0 marks the outermost frame, so gdb's `bt` ends here.
        "xor ebp, ebp",
        // First argument: where argc lies (argv, envp and auxv follow).
        "mov rdi, rsp",
        // The kernel aligned rsp to 16; keep it so explicitly, then `call`
        // pushes 8 bytes, exactly what a Rust function expects on entry.
        "and rsp, -16",
        "call {start}",
        "ud2",
        start = sym crate::args::start,
    )
}

/// `R_X86_64_RELATIVE`: "add the load address to this word". The only
/// relocation a static PIE built from this crate carries.
/// Source: System V x86-64 psABI, table "Relocation Types".
pub const R_X86_64_RELATIVE: u32 = 8;
/// `DT_NULL`, `DT_RELA`, `DT_RELASZ`: tags of `.dynamic` entries.
/// Source: `elf(5)`, and `include/uapi/linux/elf.h`.
pub const DT_NULL: u64 = 0;
pub const DT_RELA: u64 = 7;
pub const DT_RELASZ: u64 = 8;
/// `Elf64_Dyn` is `{ d_tag, d_val }`, 8 bytes each; `Elf64_Rela` is
/// `{ r_offset, r_info, r_addend }`, 8 bytes each (`elf(5)`).
pub const DYN_SIZE: usize = 16;
pub const DYN_VAL: usize = 8;
pub const RELA_SIZE: usize = 24;
pub const RELA_INFO: usize = 8;
pub const RELA_ADDEND: usize = 16;

/// The entry point of the `pie` demo (its build.rs says `-e _start_pie`).
///
/// A static PIE has no dynamic linker to apply its relocations, and the
/// kernel only maps it. So before any Rust code can read a static that
/// holds a pointer, this walks `.dynamic` for `DT_RELA`/`DT_RELASZ` and
/// adds the load address to every `R_X86_64_RELATIVE` word, the way a
/// dynamic linker would. It is done in assembly because nothing in it may
/// itself depend on a relocated pointer. The image is linked at address 0
/// (linker.ld), so the runtime address of the ELF header *is* the load
/// offset. Any other relocation type stops the program with `ud2`.
///
/// # Safety
/// Only the kernel may jump here, with the initial stack in `rsp`.
#[cfg(not(test))]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start_pie() -> ! {
    naked_asm!(
        "xor ebp, ebp",
        "mov rdi, rsp",
        // rsi = load offset, rdx = .dynamic at run time.
        "lea rsi, [rip + __ehdr_start]",
        "lea rdx, [rip + _DYNAMIC]",
        "xor ecx, ecx", // rcx = DT_RELA (an address at link time)
        "xor r8d, r8d", // r8 = DT_RELASZ (bytes)
        "2:",
        "mov rax, [rdx]",
        "cmp rax, {dt_null}",
        "je 4f",
        "cmp rax, {dt_rela}",
        "jne 3f",
        "mov rcx, [rdx + {dyn_val}]",
        "3:",
        "cmp rax, {dt_relasz}",
        "jne 5f",
        "mov r8, [rdx + {dyn_val}]",
        "5:",
        "add rdx, {dyn_size}",
        "jmp 2b",
        "4:",
        // r8 = end of the table, rcx = its start, both at run time.
        "add rcx, rsi",
        "add r8, rcx",
        "6:",
        "cmp rcx, r8",
        "jae 7f",
        // ELF64_R_TYPE(r_info): the low 32 bits of r_info.
        "cmp dword ptr [rcx + {rela_info}], {relative}",
        "jne 8f",
        "mov rax, [rcx + {rela_addend}]",
        "add rax, rsi",
        "mov r9, [rcx]", // r_offset, the first field
        "mov [rsi + r9], rax",
        "add rcx, {rela_size}",
        "jmp 6b",
        "8:",
        "ud2",
        "7:",
        "and rsp, -16",
        "call {start}",
        "ud2",
        dt_null = const DT_NULL,
        dt_rela = const DT_RELA,
        dt_relasz = const DT_RELASZ,
        relative = const R_X86_64_RELATIVE,
        dyn_size = const DYN_SIZE,
        dyn_val = const DYN_VAL,
        rela_size = const RELA_SIZE,
        rela_info = const RELA_INFO,
        rela_addend = const RELA_ADDEND,
        start = sym crate::args::start,
    )
}

/// A raw syscall without arguments. Returns `rax`: a value, or `-errno`.
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret;
    // SAFETY: the caller vouches for the syscall; we tell the compiler
    // about the two registers `syscall` overwrites.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             out("rcx") _, out("r11") _, options(nostack))
    };
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
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1,
             out("rcx") _, out("r11") _, options(nostack))
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
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1, in("rsi") a2,
             out("rcx") _, out("r11") _, options(nostack))
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
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1, in("rsi") a2,
             in("rdx") a3, out("rcx") _, out("r11") _, options(nostack))
    };
    ret
}

/// A raw syscall with four arguments (the fourth goes in `r10`, not
/// `rcx` as in a function call: `syscall` overwrites `rcx`).
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1, in("rsi") a2,
             in("rdx") a3, in("r10") a4, out("rcx") _, out("r11") _, options(nostack))
    };
    ret
}

/// A raw syscall with five arguments. See [`syscall4`].
///
/// # Safety
/// The caller answers for what the syscall does to memory.
#[inline(always)]
pub unsafe fn syscall5(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> isize {
    let ret;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1, in("rsi") a2,
             in("rdx") a3, in("r10") a4, in("r8") a5,
             out("rcx") _, out("r11") _, options(nostack))
    };
    ret
}

/// A raw syscall with six arguments, as mmap(2) needs. See [`syscall4`].
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
    let ret;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1, in("rsi") a2,
             in("rdx") a3, in("r10") a4, in("r8") a5, in("r9") a6,
             out("rcx") _, out("r11") _, options(nostack))
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
        asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") byte,
             options(nostack, preserves_flags))
    };
}

/// `rep movsb`: copy `n` bytes forward. Used by `memcpy` and `memmove`.
///
/// # Safety
/// Both ranges must be valid; an overlap is only allowed with `dst < src`.
#[inline(always)]
pub unsafe fn rep_movsb(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller vouches for the ranges.
    unsafe {
        asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _,
             options(nostack, preserves_flags))
    };
}

/// `std; rep movsb; cld`: copy `n` bytes backward, for an overlapping
/// `memmove` with `dst > src`. The direction flag must be clear again on
/// return (psABI 3.4.1).
///
/// # Safety
/// Both ranges must be valid.
#[inline(always)]
pub unsafe fn rep_movsb_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller vouches for the ranges; rdi/rsi point at the
    // last byte of each range, as a backward `movsb` needs.
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rdi") dst.wrapping_add(n).wrapping_sub(1) => _,
             inout("rsi") src.wrapping_add(n).wrapping_sub(1) => _,
             inout("rcx") n => _, options(nostack))
    };
}

/// The signal restorer: what a signal handler returns into.
///
/// When the kernel runs a handler it saves the interrupted registers in a
/// signal frame on the (alternate) stack and pushes a return address
/// above it, as if the interrupted code had `call`ed the handler. That
/// address must lead to `rt_sigreturn(2)`, which restores the registers
/// from the frame. On x86-64 the kernel has no code of its own for this
/// in user space (32-bit x86 had a trampoline in the vDSO): it uses the
/// `sa_restorer` of the `sigaction`, and only with `SA_RESTORER` set.
/// Without it, `setup_rt_frame` (arch/x86/kernel/signal_64.c) cannot
/// build the frame and the process dies with SIGSEGV when the signal
/// arrives. libc sets both behind every `sigaction`; we do it ourselves.
/// musl's `__restore_rt` is these same two instructions.
///
/// # Safety
/// Only a signal frame may be on the stack: the kernel jumps here when a
/// handler returns.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn __sys_restorer() -> ! {
    core::arch::naked_asm!(
        "mov eax, {rt_sigreturn}",
        "syscall",
        "ud2",
        rt_sigreturn = const crate::nr::RT_SIGRETURN,
    )
}

/// The address of [`__sys_restorer`], taken with `lea` relative to `rip`:
/// as a Rust `fn as usize` it would be loaded from a GOT entry, which
/// costs the file a `.got` section.
#[inline(always)]
pub fn restorer_address() -> usize {
    let a;
    // SAFETY: lea computes an address and touches no memory.
    unsafe {
        asm!("lea {}, [rip + {f}]", out(reg) a, f = sym __sys_restorer,
             options(nomem, nostack, preserves_flags))
    };
    a
}

/// `clone(2)` for a thread: the new thread starts on `stack` with no Rust
/// frame at all, so the code that runs first in it must be assembly.
///
/// Arguments as the C ABI passes them (`rdi`, `rsi`, `rdx`, `rcx`, `r8`);
/// the raw x86-64 `clone` takes `flags, stack, parent_tid, child_tid,
/// tls` in `rdi`, `rsi`, `rdx`, `r10`, `r8`, so only the fourth moves.
/// The caller has written the thread's function and its argument at
/// `stack[0]` and `stack[1]` ([`crate::thread::clone_thread`]).
///
/// Both threads return from the syscall. The parent gets the child's tid
/// (or `-errno`) and returns it. The child gets 0, with `rsp = stack`:
/// it pops the function and its argument, and with `rsp` now 16-byte
/// aligned (stack + 16) `call`s it as the ABI expects. When the function
/// returns, the thread ends with `exit(2)`: only this thread, never
/// `exit_group`, which would end the whole process.
///
/// # Safety
/// As [`crate::thread::clone_thread`].
#[unsafe(naked)]
pub(crate) unsafe extern "C" fn clone_raw(
    flags: usize,
    stack: usize,
    parent_tid: usize,
    child_tid: usize,
    tls: usize,
) -> isize {
    core::arch::naked_asm!(
        "mov r10, rcx",
        "mov eax, {clone}",
        "syscall",
        "test rax, rax",
        "jnz 2f",
        // The child: no caller to return to, so rbp = 0 ends `bt` here.
        "xor ebp, ebp",
        "pop rax",
        "pop rdi",
        "call rax",
        "mov edi, eax",
        "mov eax, {exit}",
        "syscall",
        "ud2",
        // The parent (or a failed clone).
        "2:",
        "ret",
        clone = const crate::nr::CLONE,
        exit = const crate::nr::EXIT,
    )
}

/// The thread pointer: `%fs:0`. x86-64 keeps the thread pointer in the
/// FS base register (set with `arch_prctl(ARCH_SET_FS)`), which user
/// code cannot read with a plain `mov`; so the TLS ABI (Drepper, "ELF
/// Handling for Thread-Local Storage", x86-64: variant II) asks that the
/// first word of the thread control block hold the thread pointer itself.
///
/// # Safety
/// The FS base must point at such a control block.
#[inline(always)]
pub unsafe fn thread_pointer() -> usize {
    let tp;
    // SAFETY: the caller vouches for %fs:0.
    unsafe {
        asm!("mov {}, qword ptr fs:0", out(reg) tp,
             options(nostack, readonly, preserves_flags))
    };
    tp
}

/// Defines a `u64` thread-local in `.tdata` (`NAME = INIT`) or `.tbss`
/// (`NAME`, zero), and a module of the same name that reaches it through
/// `%fs` as the local-exec TLS model does: `get`, `set`, `addr`.
///
/// ```ignore
/// sys::thread_local_u64!(COUNTER = 42);
/// sys::thread_local_u64!(SCRATCH);
/// COUNTER::set(COUNTER::get() + 1);
/// ```
///
/// Stable Rust has no `#[thread_local]`, so the variable is assembly: a
/// section with the `T` (SHF_TLS) flag, which the linker gathers into the
/// PT_TLS segment. `NAME@tpoff` is its offset from the thread pointer
/// (negative: in variant II the block lies below it), a constant the
/// linker writes into the instruction (R_X86_64_TPOFF32).
///
/// The thread pointer must be in place (`arch_prctl(ARCH_SET_FS)`, or
/// `CLONE_SETTLS`) before any `get`, `set` or `addr`: until then `%fs`
/// points nowhere.
#[macro_export]
macro_rules! thread_local_u64 {
    ($name:ident = $init:expr) => {
        core::arch::global_asm!(
            concat!(".pushsection .tdata,\"awT\",@progbits\n.p2align 3\n.globl __tls_",
                    stringify!($name), "\n__tls_", stringify!($name), ":\n.quad {init}\n.popsection"),
            init = const $init,
        );
        $crate::__tls_access!($name);
    };
    ($name:ident) => {
        core::arch::global_asm!(
            concat!(".pushsection .tbss,\"awT\",@nobits\n.p2align 3\n.globl __tls_",
                    stringify!($name), "\n__tls_", stringify!($name), ":\n.zero 8\n.popsection"),
        );
        $crate::__tls_access!($name);
    };
}

/// The accessors of [`thread_local_u64!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __tls_access {
    ($name:ident) => {
        #[allow(non_snake_case)]
        pub mod $name {
            /// Reads this thread's copy: `mov reg, fs:[NAME@tpoff]`.
            pub fn get() -> u64 {
                let v;
                // SAFETY: the thread pointer is in place (the macro's
                // contract); the load stays inside this thread's block.
                unsafe {
                    core::arch::asm!(
                        concat!("mov {}, qword ptr fs:[__tls_", stringify!($name), "@tpoff]"),
                        out(reg) v, options(nostack, readonly, preserves_flags))
                };
                v
            }
            /// Writes this thread's copy.
            pub fn set(v: u64) {
                // SAFETY: as in `get`; the store stays in this thread's block.
                unsafe {
                    core::arch::asm!(
                        concat!("mov qword ptr fs:[__tls_", stringify!($name), "@tpoff], {}"),
                        in(reg) v, options(nostack, preserves_flags))
                };
            }
            /// This thread's copy's address: the thread pointer (`%fs:0`)
            /// plus the variable's (negative) offset.
            pub fn addr() -> usize {
                let a: usize;
                // SAFETY: as in `get`: %fs:0 holds the thread pointer.
                unsafe {
                    core::arch::asm!(
                        "mov {0}, qword ptr fs:0",
                        concat!("lea {0}, [{0} + __tls_", stringify!($name), "@tpoff]"),
                        out(reg) a, options(nostack, readonly, preserves_flags))
                };
                a
            }
        }
    };
}

/// The stack pointer, `rsp`, where the caller runs.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp;
    // SAFETY: reading a register touches no memory.
    unsafe { asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}
