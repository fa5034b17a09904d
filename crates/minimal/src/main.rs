//! `minimal`: sleep, then exit. The smallest process Linux can run.
//!
//! Seed 000 built this to see what a process holds when it has no libc,
//! no dynamic linker and no heap. Run it and look while it sleeps:
//!
//! ```text
//! $ ./target/release/minimal 30 &
//! $ cat /proc/$!/maps
//! 00400000-00401000 r--p 00000000 fe:00 5308655   …/minimal   ELF header, .rodata
//! 00401000-00402000 r-xp 00000000 fe:00 5308655   …/minimal   .text
//! 7f3b84e34000-7f3b84e38000 r--p 00000000 00:00 0   [vvar]
//! 7f3b84e38000-7f3b84e3a000 r--p 00000000 00:00 0   [vvar_vclock]  (Linux 6.13 on)
//! 7f3b84e3a000-7f3b84e3c000 r-xp 00000000 00:00 0   [vdso]
//! 7ffd08f02000-7ffd08f23000 rw-p 00000000 00:00 0   [stack]
//! ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0   [vsyscall]
//! ```
//!
//! No [heap]: nothing called brk. No rw-p line of the program: it has no
//! static variables. strace shows exactly `execve`, `nanosleep`, `exit`.
//!
//! It never stops itself and prints nothing (errors aside), so there is
//! no `-q`: `minimal [SECONDS]`, 10 by default, `minimal 0` allowed.
#![no_std]
#![no_main]

use sys::{Args, Timespec};

/// How long to sleep when no argument is given, as in seed 000.
const DEFAULT_SECONDS: isize = 10;

sys::entry!(main);

fn main(args: Args) {
    let mut seconds = DEFAULT_SECONDS;
    let mut argv = args.args();
    if let Some(arg) = argv.next() {
        seconds = match sys::args::parse_decimal(arg) {
            Some(n) if n <= isize::MAX as usize => n as isize,
            _ => usage(),
        };
    }
    if argv.next().is_some() {
        usage();
    }
    let req = Timespec {
        tv_sec: seconds,
        tv_nsec: 0,
    };
    if sys::nanosleep(&req).is_err() {
        sys::exit(1);
    }
}

/// The one thing `minimal` ever writes.
fn usage() -> ! {
    let _ = sys::write(sys::out::STDERR, b"usage: minimal [SECONDS]\n");
    sys::exit(sys::args::EXIT_USAGE)
}
