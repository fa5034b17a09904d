//! `tls`: thread-local storage without libc. The program has a `.tdata`
//! (COUNTER, initially 42) and a `.tbss` (SCRATCH, 0), which the linker
//! put into a PT_TLS segment (`readelf -lW target/release/tls`); this
//! start-up code does what libc's would before `main`:
//!
//! 1. find PT_TLS among the program headers (AT_PHDR, AT_PHNUM in auxv);
//! 2. take memory for the thread's TLS block and thread control block:
//!    for the main thread from the program break, as static glibc does
//!    (`__libc_setup_tls` allocates with `_dl_early_allocate`: brk), so
//!    they land in [heap];
//! 3. lay it out as x86-64's TLS ABI (variant II) wants: the block lies
//!    *below* the thread pointer, which points at the control block,
//!    whose first word holds the thread pointer itself (`%fs:0`);
//! 4. copy .tdata's image (from the rw-p line of the file) into the
//!    block; .tbss is the rest, zero already (fresh memory);
//! 5. `arch_prctl(ARCH_SET_FS, tp)`: the FS base is the thread pointer.
//!
//! Then `%fs:COUNTER@tpoff` reaches this thread's COUNTER. The program
//! writes it (42 + 1) and prints the thread pointer (`tp heap 0x…`) and
//! each variable with its value and address, a few bytes below `tp`, in
//! [heap]. No /proc file shows the FS base: gdb's `p/x $fs_base` does,
//! or ptrace (`fs_base` in `user_regs_struct`).
//!
//! With `--threads`, a second thread (raw clone, as in `threads`) gets a
//! block of its own at the top of its stack, also from the break, and
//! passed with CLONE_SETTLS: the same `%fs:COUNTER@tpoff` is another
//! address there (`t1.COUNTER=142 heap 0x…`: 42 + 100), while the main
//! thread's stays 43. The second stop comes after it has ended.
//!
//! `tls [-q] [--threads]`. With `-q`, strace shows exactly `execve`, `brk`
//! twice, `arch_prctl`, three `write`s, `getpid`, `kill`; with `--threads`
//! then `clone`, `futex` (wait for its exit), `write`, `getpid`, `kill`;
//! and `exit` (the thread's own `write` and `exit` are not in the main
//! thread's trace: `strace -f` shows them).
#![no_std]
#![no_main]

use core::sync::atomic::AtomicU32;
use sys::out::{STDERR, STDOUT};
use sys::thread::{CLONE_THREAD_FLAGS, clone_thread, wait_while};
use sys::{Args, Cli, Line, OrExit};

sys::thread_local_u64!(COUNTER = 42);
sys::thread_local_u64!(SCRATCH);

const USAGE: &str = "usage: tls [-q] [--threads]\n";

/// `AT_PHDR`, `AT_PHNUM`: where the program headers are, and how many
/// (`include/uapi/linux/auxvec.h`).
const AT_PHDR: usize = 3;
const AT_PHNUM: usize = 5;
/// `PT_TLS` (`elf(5)`).
const PT_TLS: u32 = 7;
/// The thread control block: only its first word, the self pointer, is
/// used here (glibc's `tcbhead_t` has more: the stack guard at %fs:0x28).
const TCB_SIZE: usize = 64;
/// The second thread's stack, with its TLS block at the top.
const STACK_SIZE: usize = 64 * 1024;
/// A stack pointer is 16-byte aligned at a call (System V x86-64 psABI,
/// "The Stack Frame").
const STACK_ALIGN: usize = 16;
/// What `clone_thread` keeps above the new stack top: the function and
/// its argument, a word each (`sys::thread::clone_thread`).
const CLONE_WORDS: usize = 2 * size_of::<usize>();
/// What the second thread adds to its COUNTER: 42 + 100 = 142 there,
/// while the main thread's stays 43.
const THREAD_ADDS: u64 = 100;

/// The thread control block, at the thread pointer.
#[repr(C)]
struct Tcb {
    /// `%fs:0`: the thread pointer itself.
    tp: usize,
    /// For `--threads`: the thread's tid (CLONE_PARENT_SETTID), 0 once it
    /// has exited (CLONE_CHILD_CLEARTID).
    tid: AtomicU32,
}

/// `Elf64_Phdr` (`elf(5)`), as the kernel mapped it with the program.
#[repr(C)]
struct Phdr {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_paddr: u64,
    p_filesz: u64,
    p_memsz: u64,
    p_align: u64,
}

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let mut threads = false;
    while let Some(arg) = cli.next() {
        match arg {
            _ if sys::args::same(arg, b"--threads") => threads = true,
            _ => cli.reject(arg),
        }
    }
    let quiet = cli.quiet;

    let phdrs = args.getauxval(AT_PHDR).unwrap_or(0) as *const Phdr;
    let count = args.getauxval(AT_PHNUM).unwrap_or(0);
    // SAFETY: the kernel mapped `count` program headers at AT_PHDR, in
    // our own r--p line, for the life of the process.
    let tls = unsafe { core::slice::from_raw_parts(phdrs, count) }
        .iter()
        .find(|p| p.p_type == PT_TLS)
        .ok_or(sys::errno::ENOENT)
        .or_exit("PT_TLS");

    // The block, rounded up to its alignment, then the control block; one
    // alignment more, because the break need not be aligned. With
    // --threads, the second thread's memory above them, in one go.
    let more = if threads { STACK_SIZE } else { 0 };
    let base = sys::sbrk(align(tls) + block_size(tls) + TCB_SIZE + more).or_exit("brk");
    let tp = align_up(base + block_size(tls), align(tls));
    lay_out(tls, tp);
    // SAFETY: `tp` points at a control block with its self pointer, and
    // the block below it holds .tdata and .tbss; [heap] never shrinks.
    unsafe { sys::thread::arch_prctl_set_fs(tp) }.or_exit("arch_prctl");

    show("tp", None, " heap ", tp);
    COUNTER::set(COUNTER::get() + 1);
    show("COUNTER", Some(COUNTER::get()), " heap ", COUNTER::addr());
    show("SCRATCH", Some(SCRATCH::get()), " heap ", SCRATCH::addr());
    if !quiet {
        let _ = sys::write(STDERR, b"tls: %fs set\n");
    }
    sys::narrate_stop(quiet).or_exit("kill");

    if threads {
        second_thread(tls, tp + TCB_SIZE, quiet);
    }
}

/// Fills the TLS block that ends at `tp` and the control block at `tp`.
fn lay_out(tls: &Phdr, tp: usize) {
    let block = block_size(tls);
    // SAFETY: the caller took `block` bytes below `tp` and TCB_SIZE above
    // it, fresh (zero) memory; .tdata's image is p_filesz readable bytes
    // at p_vaddr, in our rw-p line.
    unsafe {
        // memcpy, but without a GOT entry for it.
        sys::arch::rep_movsb(
            (tp - block) as *mut u8,
            tls.p_vaddr as *const u8,
            tls.p_filesz as usize,
        );
        (tp as *mut Tcb).write(Tcb {
            tp,
            tid: AtomicU32::new(0),
        });
    }
}

/// `--threads`: one more thread, with its own TLS block; when it has
/// printed its COUNTER and ended, ours is shown again, and a stop.
/// `base` is its memory, STACK_SIZE bytes from the program break: its
/// stack, then its TLS block and control block at the top. (`threads`
/// maps its stacks with guard pages.)
fn second_thread(tls: &Phdr, base: usize, quiet: bool) {
    let tp = (base + STACK_SIZE - TCB_SIZE) & !(align(tls) - 1);
    lay_out(tls, tp);
    // The stack starts below the block, aligned, with room for the two
    // words clone_thread puts there.
    let stack_top = (tp - block_size(tls) - CLONE_WORDS) & !(STACK_ALIGN - 1);
    // SAFETY: lay_out wrote the control block at `tp`; [heap] stays.
    let tcb = unsafe { &*(tp as *const Tcb) };
    // SAFETY: the memory is ours and used by nothing else until the
    // thread has exited; `tp` holds a laid-out block and control block.
    let tid = unsafe { clone_thread(CLONE_THREAD_FLAGS, stack_top, &tcb.tid, tp, thread, 0) }
        .or_exit("clone");
    // Until the kernel has cleared the tid word: the thread has ended.
    wait_while(&tcb.tid, tid as u32);
    // Ours is unchanged by the other thread's write.
    show("COUNTER", Some(COUNTER::get()), " heap ", COUNTER::addr());
    sys::narrate_stop(quiet).or_exit("kill");
}

/// The second thread: its own COUNTER, from the same image.
extern "C" fn thread(_: usize) -> usize {
    COUNTER::set(COUNTER::get() + THREAD_ADDS);
    show(
        "t1.COUNTER",
        Some(COUNTER::get()),
        " heap ",
        COUNTER::addr(),
    );
    0
}

/// PT_TLS's alignment, a power of two (0 and 1 mean none: `elf(5)`).
fn align(tls: &Phdr) -> usize {
    (tls.p_align as usize).max(1)
}

/// `x` rounded up to `a`, a power of two. (Not `next_multiple_of`, whose
/// check for 0 would bring in the panic machinery.)
fn align_up(x: usize, a: usize) -> usize {
    x.wrapping_add(a - 1) & !(a - 1)
}

/// The TLS block: .tdata and .tbss, rounded up to the alignment. The
/// linker computes every `@tpoff` against this size (variant II).
fn block_size(tls: &Phdr) -> usize {
    align_up(tls.p_memsz as usize, align(tls))
}

/// One line on stdout: `NAME PLACE 0xADDR`, or with a value
/// `NAME=VALUE PLACE 0xADDR` (`place` has a space either side). Not
/// inlined: one copy for five lines.
#[inline(never)]
fn show(name: &str, value: Option<u64>, place: &str, addr: usize) {
    let mut line = Line::new(STDOUT);
    line.str(name);
    if let Some(v) = value {
        line.str("=").dec(v);
    }
    line.str(place).hex(addr as u64).str("\n").write();
}
