//! `sections`: one object in each place of the address space, its address
//! printed, then one stop. Seed 004's `mappings.c`, without libc.
//!
//! stdout gets one line per object, `NAME PLACE ADDRESS`, in the order of
//! the maps lines (the seed printed them highest first). At the stop, find
//! each address in `cat /proc/PID/maps`:
//!
//! ```text
//! const_str  .rodata 0x400…    r--p line of the program (with the ELF header)
//! sections::main .text 0x401… r-xp line of the program (`nm` also
//!                              shows `main`: sys::entry!'s, which calls it)
//! global_var .data   0x402…    rw-p line of the program
//! uninit_var .bss    0x402…    the same rw-p line, just after .data
//! heap_var   heap    0x…       [heap]: brk moved up by one page
//! mmap_var   mmap    0x7f…     a line without a name: anonymous memory
//! local_var  stack   0x7ff…    [stack]
//! ```
//!
//! Seed 004's exercises, as options. Both objects are in the binary every
//! time (one binary serves all options); an option prints where it lies:
//! - `--array`: a global array of 10 integers, zero like C's `int a[10];`:
//!   40 bytes of .bss (`readelf -S`), in the same rw-p line as uninit_var.
//!   Adding it made no new line in maps: the page .bss starts in had room.
//! - `--data-string`: the text of `const_str` again, as a `static mut`:
//!   .data, in the rw-p line instead of the r--p one, and the program can
//!   change it (it does; the same write to `const_str` would be SIGSEGV).
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use sys::args::same;
use sys::out::STDERR;
use sys::{Args, Cli, OrExit, PAGE_SIZE};

const USAGE: &str = "usage: sections [-q] [--array] [--data-string]
Prints NAME PLACE ADDRESS of an object in each place, then stops.
  --array        10 integers more in .bss
  --data-string  a string in .data, not .rodata\n";

/// A constant string: its bytes go to .rodata, mapped read-only.
const CONST_STR: &str = "Salve, simpatia!\n";
/// Initialised and changeable (an atomic may change): .data, whose bytes
/// come from the file.
static GLOBAL_VAR: AtomicU64 = AtomicU64::new(42);
/// Zero and changeable: .bss, which takes no room in the file.
static UNINIT_VAR: AtomicU64 = AtomicU64::new(0);
/// `--array`: ten zero integers, also .bss.
static ARRAY: [AtomicU32; 10] = [const { AtomicU32::new(0) }; 10];
/// `--data-string`: the text of CONST_STR in a changeable static: .data.
static mut DATA_STR: [u8; CONST_STR.len()] = *b"Salve, simpatia!\n";

/// What to look for at the stop.
const LOOK: &str = "sections: find each address above in a line of maps\n";

/// Values written to the heap and mmap objects, to find them with gdb.
const HEAP_VALUE: u64 = 123;
const MMAP_VALUE: u64 = 456;

sys::entry!(main);

fn main(args: Args) {
    let (mut array, mut data_string) = (false, false);
    let mut cli = Cli::new(&args, USAGE);
    while let Some(arg) = cli.next() {
        if same(arg, b"--array") {
            array = true;
        } else if same(arg, b"--data-string") {
            data_string = true;
        } else {
            cli.reject(arg);
        }
    }

    // The heap: move the program break up by one page (brk(0), then
    // brk(old + PAGE_SIZE)); the new memory starts at the old break.
    let heap = sys::sbrk(PAGE_SIZE).or_exit("brk");
    // SAFETY: heap..heap+PAGE_SIZE is ours since sbrk; aligned to 8.
    unsafe { (heap as *mut u64).write_volatile(HEAP_VALUE) };

    // mmap: one anonymous page wherever the kernel likes.
    // SAFETY: no MAP_FIXED, so nothing of ours can be replaced.
    let mapped = unsafe {
        sys::mmap(
            0,
            PAGE_SIZE,
            sys::PROT_READ | sys::PROT_WRITE,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
            -1,
            0,
        )
    }
    .or_exit("mmap");
    // SAFETY: a fresh private page, writable, page-aligned.
    unsafe { (mapped as *mut u64).write_volatile(MMAP_VALUE) };

    // The statics are used, so none can be dropped or merged away.
    GLOBAL_VAR.fetch_add(0, Ordering::Relaxed);
    UNINIT_VAR.fetch_add(0, Ordering::Relaxed);
    let local_var: u64 = 10;
    // SAFETY: DATA_STR is .data, writable; no reference to it exists,
    // only this raw pointer, in our one thread.
    let data_str = unsafe {
        let p = (&raw mut DATA_STR).cast::<u8>();
        if data_string {
            p.write_volatile(b's');
        }
        core::slice::from_raw_parts(p, CONST_STR.len())
    };

    sys::show_at("const_str .rodata ", black_box(CONST_STR.as_ptr()) as usize);
    sys::show_at("sections::main .text ", main as fn(Args) as usize);
    if data_string {
        sys::show_at("data_str .data ", data_str.as_ptr() as usize);
    }
    sys::show_at("global_var .data ", &raw const GLOBAL_VAR as usize);
    sys::show_at("uninit_var .bss ", &raw const UNINIT_VAR as usize);
    if array {
        let first = &raw const ARRAY as usize;
        sys::show_at("array[0] .bss ", first);
        sys::show_at("array[9] .bss ", first + 9 * size_of::<AtomicU32>());
    }
    sys::show_at("heap_var heap ", heap);
    sys::show_at("mmap_var mmap ", mapped);
    sys::show_at(
        "local_var stack ",
        black_box(&local_var) as *const u64 as usize,
    );

    if !cli.quiet {
        let _ = sys::write(STDERR, LOOK.as_bytes());
        if data_string {
            // Changed above: .data is writable, and comes from the file.
            let _ = sys::write(STDERR, data_str);
        }
    }
    sys::narrate_stop(cli.quiet).or_exit("kill");
}
