//! `vdso`: read the clock without a syscall, through the code the kernel
//! maps into every process (seeds 000 and 003).
//!
//! A syscall costs a switch into the kernel and back. Some calls only
//! read a little kernel data, the clock above all, so the kernel maps that
//! data read-only into the process ([vvar]) together with a small shared
//! library that reads it ([vdso], `vdso(7)`). The auxiliary vector says
//! where the library is (AT_SYSINFO_EHDR). This demo reads its ELF
//! dynamic symbol table as a dynamic linker would ([`elf`]), finds
//! `__vdso_clock_gettime` of version `LINUX_2.6`, calls it, prints the
//! time, and times N calls of it against N `clock_gettime` syscalls.
//!
//! stdout: the vDSO's address and size, its number of symbols (the null
//! symbol at index 0 and the symbol of the version LINUX_2.6 included),
//! the four functions of `vdso(7)`, the time, the cost per call of both
//! ways and their ratio. At the stop, `cat /proc/PID/maps`:
//!
//! - [vdso] r-xp, 2 pages on x86-64: its start is the printed address,
//!   its size the image's, rounded up to pages;
//! - below it the kernel's data, r--p. Since Linux 6.13 two lines
//!   (arch/x86/entry/vdso/vma.c): directly below [vdso] is [vvar_vclock],
//!   the pages of paravirtual clocks (kvm-clock's pvclock page, Hyper-V's
//!   TSC page), mapped even when the clock source is the plain TSC; below
//!   that [vvar], four pages of the generic vDSO data store: the time
//!   data the vDSO reads (with the plain TSC, the only pages it reads),
//!   the time-namespace page and getrandom's state. Older kernels show a
//!   single [vvar] line;
//! - [vsyscall] at ffffffffff600000, the vDSO's fixed-address
//!   predecessor, kept for very old binaries and always emulated now:
//!   `--xp` is the default `vsyscall=xonly` (calling into it works,
//!   reading it faults), `vsyscall=emulate` shows `r-xp`, and
//!   `vsyscall=none` leaves no line.
//!
//! strace sees no clock_gettime for the vDSO calls: with `--calls 0` it
//! sees none at all, with `--calls N` exactly the N syscalls of the
//! comparison. Where the clock source cannot be read from user space
//! (`/sys/devices/system/clocksource/clocksource0/current_clocksource`
//! other than tsc, kvm-clock or hyperv_clocksource_tsc_page), the vDSO
//! itself falls back to the syscall, and strace shows that.
//!
//! Built for i686 (`--target i686-unknown-linux-gnu`) it reads the 32-bit
//! vDSO, Elf32 structures ([`elf`] picks the layout by `target_arch`), and
//! calls its `__vdso_clock_gettime` with the 32-bit timespec.
//!
//! With no vDSO (a kernel booted with `vdso=0`, or `--no-vdso`, which
//! pretends so), or without the function, it says so and uses the
//! syscall.
#![no_std]
#![no_main]

mod elf;

use sys::args::{AT_SYSINFO_EHDR, same};
use sys::errno::Errno;
use sys::out::{STDERR, STDOUT};
use sys::{Args, CLOCK_MONOTONIC, CLOCK_REALTIME, Cli, Line, OrExit, Timespec};

const USAGE: &str = "usage: vdso [-q] [--calls N] [--no-vdso]
Calls clock_gettime in the vDSO, times N calls (10000; 0: none, so no
syscall at all) against N syscalls, then stops once. --no-vdso: pretend
there is no vDSO.\n";

const DEFAULT_CALLS: usize = 10_000;

/// The functions `vdso(7)` lists for x86-64 ("x86-64 functions"), all of
/// version LINUX_2.6, one after the other, each ending with a space.
/// (One string: a table of `&[u8]` would be a table of pointers.) The
/// vDSO exports more, which we do not look up: e.g. __vdso_clock_getres
/// and, since Linux 6.11, __vdso_getrandom; each also under its name
/// without `__vdso_`.
const FUNCTIONS: &[u8] = b"__vdso_clock_gettime __vdso_gettimeofday __vdso_time __vdso_getcpu ";
const CLOCK_GETTIME: &[u8] = b"__vdso_clock_gettime";
const VERSION: &[u8] = b"LINUX_2.6";

/// `int __vdso_clock_gettime(clockid_t, struct timespec *)`: the C ABI
/// and the arguments of `clock_gettime(2)`. `unsafe`: it is foreign code
/// that writes through the raw pointer, so each call needs a SAFETY line.
type ClockGettime = unsafe extern "C" fn(i32, *mut Timespec) -> i32;

const NANOS_PER_SEC: u64 = 1_000_000_000;

sys::entry!(main);

fn main(args: Args) {
    let (mut calls, mut no_vdso) = (DEFAULT_CALLS, false);
    let mut cli = Cli::new(&args, USAGE);
    while let Some(arg) = cli.next() {
        if same(arg, b"--calls") {
            let value = cli.value(arg);
            calls = cli.number(value);
        } else if same(arg, b"--no-vdso") {
            no_vdso = true;
        } else {
            cli.reject(arg);
        }
    }

    let base = args.getauxval(AT_SYSINFO_EHDR).filter(|_| !no_vdso);
    let vdso = find_clock_gettime(base);

    let t = now(vdso, CLOCK_REALTIME);
    // The nanoseconds with all nine digits, leading zeros included.
    let (mut nanos, mut n) = ([0u8; 9], t.tv_nsec as u64);
    for digit in nanos.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let line = &mut Line::new(STDOUT);
    put(line, "time ", t.tv_sec as u64)
        .str(".")
        .bytes(&nanos)
        .str(match vdso {
            Some(_) => " from __vdso_clock_gettime\n",
            None => " from the clock_gettime syscall\n",
        })
        .write();

    if calls > 0 {
        // Both timed with the same clock: the vDSO's where we have it.
        let slow = elapsed(vdso, None, calls);
        let per_call = |total: u64| total.checked_div(calls as u64).unwrap_or(0);
        if vdso.is_some() {
            let fast = elapsed(vdso, vdso, calls);
            // The ratio with one decimal, rounded, in integers.
            let tenths = (slow * 10 + fast / 2) / fast.max(1);
            put(line, "cost vdso ", per_call(fast));
            put(line, " ns/call, syscall ", per_call(slow));
            put(line, " ns/call, ratio ", tenths / 10);
            put(line, ".", tenths % 10);
        } else {
            put(line, "cost syscall ", per_call(slow)).str(" ns/call");
        }
        put(line, " (", calls as u64).str(" calls)\n").write();
    }

    if !cli.quiet {
        match (vdso, base) {
            (Some(_), Some(base)) => Line::new(STDERR)
                .str("vdso: code in [vdso] at ")
                .hex(base as u64)
                .str(" read the clock from [vvar] below it, in user space\n")
                .write(),
            _ => say(
                STDERR,
                b"vdso: not used: each clock read entered the kernel\n",
            ),
        }
    }
    sys::narrate_stop(cli.quiet).or_exit("kill");
}

/// Reads the vDSO at `base`, prints the functions it has, and returns
/// its clock_gettime; or says why there is none.
#[inline(never)]
fn find_clock_gettime(base: Option<usize>) -> Option<ClockGettime> {
    let Some(base) = base else {
        say(
            STDOUT,
            b"vdso: none (no AT_SYSINFO_EHDR in auxv, or --no-vdso): using the syscall\n",
        );
        return None;
    };
    // SAFETY: AT_SYSINFO_EHDR is the vDSO's ELF header; the kernel keeps
    // the whole vDSO mapped, readable, for the life of the process.
    let Some(image) = (unsafe { elf::Image::new(base) }) else {
        say(
            STDOUT,
            b"vdso: no ELF image at AT_SYSINFO_EHDR: using the syscall\n",
        );
        return None;
    };
    let line = &mut Line::new(STDOUT);
    line.str("vdso ").hex(base as u64);
    put(line, " ", image.size() as u64);
    put(line, " bytes, ", image.symbols as u64)
        .str(" symbols\n")
        .write();
    // `function 0x7ffd… __vdso_time@LINUX_2.6`, or 0x0 and "missing".
    let mut start = 0;
    for (end, &b) in FUNCTIONS.iter().enumerate() {
        if b != b' ' {
            continue;
        }
        let name = FUNCTIONS.get(start..end).unwrap_or_default();
        start = end + 1;
        let addr = image.lookup(name, VERSION);
        let shown = addr.map_or(0, |f| f as usize);
        line.str("function ").hex(shown as u64).str(" ");
        line.bytes(name).str("@").bytes(VERSION);
        if addr.is_none() {
            line.str(" missing");
        }
        line.str("\n").write();
    }
    let Some(addr) = image.lookup(CLOCK_GETTIME, VERSION) else {
        say(
            STDOUT,
            b"vdso: no __vdso_clock_gettime: using the syscall\n",
        );
        return None;
    };
    // SAFETY: `addr` points into the vDSO's executable PT_LOAD, at the
    // entry of its exported function __vdso_clock_gettime of version
    // LINUX_2.6, whose C signature is ClockGettime (vdso(7)); the code
    // stays mapped for our whole life. A data pointer and a function
    // pointer have the same size and representation on x86-64.
    Some(unsafe { core::mem::transmute::<*const u8, ClockGettime>(addr) })
}

/// Appends `label` and `n` in decimal: one call where there would be two.
#[inline(never)]
fn put<'a>(line: &'a mut Line, label: &str, n: u64) -> &'a mut Line {
    line.str(label).dec(n)
}

/// A line without numbers.
#[inline(never)]
fn say(fd: usize, text: &[u8]) {
    let _ = sys::write(fd, text);
}

/// The time of `clock`, through the vDSO's function if we have it, else
/// through the syscall. A failure exits as a failed syscall does.
#[inline(never)]
fn now(vdso: Option<ClockGettime>, clock: usize) -> Timespec {
    match vdso {
        Some(f) => {
            let mut ts = Timespec::default();
            // SAFETY: `f` is __vdso_clock_gettime (find_clock_gettime),
            // called as clock_gettime(2) is: a clock id and a pointer to
            // a Timespec we own, which is all it writes.
            let result = unsafe { f(clock as i32, &mut ts) };
            // The vDSO returns 0 or, like the syscall it falls back to, -errno.
            Errno::check(result as isize).map(|_| ts)
        }
        None => sys::clock_gettime(clock),
    }
    .or_exit("clock_gettime")
}

/// Nanoseconds that `calls` reads of CLOCK_MONOTONIC through `via` (the
/// vDSO's function, or the syscall if `None`) take, timed through `vdso`.
#[inline(never)] // kept out of main, so that `main` reads as the lesson in objdump
fn elapsed(vdso: Option<ClockGettime>, via: Option<ClockGettime>, calls: usize) -> u64 {
    let nanos = |t: Timespec| t.tv_sec as u64 * NANOS_PER_SEC + t.tv_nsec as u64;
    let start = nanos(now(vdso, CLOCK_MONOTONIC));
    for _ in 0..calls {
        now(via, CLOCK_MONOTONIC);
    }
    nanos(now(vdso, CLOCK_MONOTONIC)).saturating_sub(start)
}
