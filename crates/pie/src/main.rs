//! `pie`: the `stop` lesson, linked as a static position-independent
//! executable (seeds 000 and 004: PIE vs non-PIE, ASLR).
//!
//! The other demos are ET_EXEC, linked to run at 0x400000 and nowhere
//! else. This one is ET_DYN, linked at 0: the kernel picks the address,
//! a new one every run (ASLR), the same one under `setarch -R`. There is
//! no interpreter (no PT_INTERP), so no dynamic linker fixes it up: its
//! entry point `_start_pie` (crates/sys/src/arch/x86_64.rs) applies its own
//! R_X86_64_RELATIVE relocations before any Rust code runs.
//!
//! At the stop, `cat /proc/PID/maps` shows the program's three lines
//! (r--p, r-xp, rw-p) as for `stop`, but near [vdso] at 0x7f… instead of
//! 0x400000. Run it twice and compare.
//!
//! stdout: `load_address 0x…` (the ELF header, the first program line),
//! `main .text 0x…`, and `greeting .rodata 0x…`: the pointer read from
//! the static GREETING, which only points into r--p because `_start_pie`
//! added the load address to it.
#![no_std]
#![no_main]

use core::hint::black_box;
use sys::out::{STDERR, STDOUT};
use sys::{Args, Cli, Line, OrExit};

const USAGE: &str = "usage: pie [-q]
Stops itself once; look where the kernel loaded the program this time.
  -q   no narration\n";

/// A static that holds a pointer. The linker cannot know where the string
/// will be, so it leaves the word 0 and records the string's offset in
/// the image as the addend of an R_X86_64_RELATIVE relocation: "load
/// address plus this, here" (`readelf -r`).
static GREETING: &str = "pie: read through a pointer that _start_pie relocated\n";

unsafe extern "C" {
    /// The ELF header, first byte of the image (lld defines it). Linked at
    /// 0, so its address at run time is the load address.
    static __ehdr_start: u8;
}

sys::entry!(main);

fn main(args: Args) {
    let quiet = Cli::quiet_only(&args, USAGE);
    // black_box: read the pointer from the static in memory, as a program
    // that chose it at run time would; the compiler would otherwise use
    // the string's address directly and leave the static alone.
    let greeting: &str = black_box::<&&str>(&GREETING);
    let base = &raw const __ehdr_start as u64;
    Line::new(STDOUT)
        .str("load_address ")
        .hex(base)
        .str("\nmain .text ")
        .hex(main as fn(Args) as usize as u64)
        .str("\ngreeting .rodata ")
        .hex(greeting.as_ptr() as u64)
        .str("\n")
        .write();
    if !quiet {
        let _ = sys::write(STDERR, greeting.as_bytes());
    }
    sys::narrate_stop(quiet).or_exit("kill");
}
