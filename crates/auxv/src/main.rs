//! `auxv`: what the kernel leaves on the stack before `_start` runs:
//! argc, argv, envp and the auxiliary vector (seeds 003 and 004).
//!
//! stdout gets argc and the addresses of the three arrays, each argv and
//! envp string with its address, then one line per auxv entry: its
//! `AT_` name (a bare number if we know no name) and its value in hex,
//! plus decimal for counts and ids, the string behind AT_EXECFN and
//! AT_PLATFORM, and the 16 bytes behind AT_RANDOM.
//!
//! At the stop, `cat /proc/PID/maps`: every address printed lies in the
//! [stack] line, near its top. From low to high addresses (`execve(2)`;
//! `create_elf_tables` in fs/binfmt_elf.c, `copy_strings` in fs/exec.c):
//!
//! ```text
//! argc                      <- the initial stack pointer, "argc … at"
//! argv[0] … NULL            pointers
//! envp[0] … NULL            pointers
//! auxv (type, value) …      pairs, up to AT_NULL
//! AT_RANDOM's 16 bytes, then the AT_PLATFORM string ("x86_64")
//! (a random gap of up to 8 KiB: arch_align_stack)
//! the argv strings          /proc/PID/stat arg_start..arg_end
//! the environment strings   /proc/PID/stat env_start..env_end
//! the program's file name   AT_EXECFN
//! one NULL word (8 bytes)   the end of [stack] right after it
//! ```
//!
//! So the file name's NUL ends 8 bytes below the end of [stack]: execve
//! starts copying strings under that word (`bprm->p = vm->vm_end -
//! sizeof(void *)`, fs/exec.c).
//!
//! The [stack] line itself starts ~128 KiB lower: room the kernel adds
//! below the arguments (see the `stack` demo).
//!
//! An `execve` with an empty argv gives argc == 0 on old kernels; since
//! Linux 5.18 the kernel puts in one empty string instead: argc == 1,
//! argv[0] == "" (fs/exec.c, "launched … with NULL argv").
#![no_std]
#![no_main]

use sys::out::{STDERR, STDOUT};
use sys::{Args, Cli, Line, OrExit};

const USAGE: &str = "usage: auxv [-q] [ARG...]
Prints argc, argv (ARGs too), envp and auxv with addresses; stops once.\n";

// The auxv types printed in decimal or followed to their data. Source:
// include/uapi/linux/auxvec.h; meanings in getauxval(3). [`NAMES`] has
// them all.
const AT_EXECFD: usize = 2;
const AT_PHENT: usize = 4;
const AT_PHNUM: usize = 5;
const AT_PAGESZ: usize = 6;
const AT_UID: usize = 11;
const AT_EUID: usize = 12;
const AT_GID: usize = 13;
const AT_EGID: usize = 14;
const AT_PLATFORM: usize = 15;
const AT_CLKTCK: usize = 17;
const AT_SECURE: usize = 23;
const AT_RANDOM: usize = 25;
const AT_RSEQ_FEATURE_SIZE: usize = 27;
const AT_RSEQ_ALIGN: usize = 28;
const AT_EXECFN: usize = 31;
const AT_MINSIGSTKSZ: usize = 51;

/// The types whose values are counts, sizes or ids: printed in decimal
/// too. One bit per type (all are below 64), so no table is needed.
const DECIMAL: u64 = 1 << AT_EXECFD
    | 1 << AT_PHENT
    | 1 << AT_PHNUM
    | 1 << AT_PAGESZ
    | 1 << AT_UID
    | 1 << AT_EUID
    | 1 << AT_GID
    | 1 << AT_EGID
    | 1 << AT_CLKTCK
    | 1 << AT_SECURE
    | 1 << AT_RSEQ_FEATURE_SIZE
    | 1 << AT_RSEQ_ALIGN
    | 1 << AT_MINSIGSTKSZ;

/// The names of types 0, 1, 2, … in order, `-` where the header defines
/// none, without the `AT_` prefix; one string, as in sys::errno, because
/// a table of `&str` would need a table of pointers. Source as above; 32
/// and 33 are from arch/x86/include/uapi/asm/auxvec.h: SYSINFO, the
/// address of `__kernel_vsyscall`, is given to i386 processes only.
const NAMES: &[u8] = b"NULL IGNORE EXECFD PHDR PHENT PHNUM PAGESZ BASE FLAGS ENTRY \
NOTELF UID EUID GID EGID PLATFORM HWCAP CLKTCK - - - - - SECURE BASE_PLATFORM \
RANDOM HWCAP2 RSEQ_FEATURE_SIZE RSEQ_ALIGN HWCAP3 HWCAP4 EXECFN SYSINFO SYSINFO_EHDR";

/// DEL, the last ASCII control character (`ascii(7)`): 0x00-0x1f are
/// the others, all below `' '`.
const DEL: u8 = 0x7f;

/// AT_RANDOM points at 16 random bytes (`k_rand_bytes[16]` in
/// fs/binfmt_elf.c); libc seeds its stack protector from them.
const RANDOM_BYTES: usize = 16;

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    while let Some(arg) = cli.next() {
        // Plain arguments are welcome: they show up in argv[]. Options
        // other than -q are not.
        if arg.first() == Some(&b'-') {
            cli.reject(arg);
        }
    }

    // argv[] starts right above argc, envp[] after argv's NULL. One Line
    // serves every line: `write` empties it.
    let start = args.stack();
    let line = &mut Line::new(STDOUT);
    put(line, "argc ", args.argc() as u64);
    at(line, " at ", start);
    at(line, ", auxv[] at ", args.auxv_start());
    end_line(line);

    show_strings(line, "argv[", args.argv());
    show_strings(line, "envp[", args.env());

    for (kind, value) in args.auxv() {
        match name(kind) {
            Some(name) => line.str("auxv AT_").bytes(name),
            None => put(line, "auxv ", kind as u64),
        };
        at(line, " ", value);
        if kind < 64 && (DECIMAL >> kind) & 1 == 1 {
            put(line, " ", value as u64);
        }
        if value != 0 && matches!(kind, AT_EXECFN | AT_PLATFORM) {
            // SAFETY: the kernel put a NUL-terminated string there, on
            // the initial stack, which lives as long as we do.
            quoted(line, unsafe { sys::args::cstr(value as *const u8) });
        }
        if value != 0 && kind == AT_RANDOM {
            // SAFETY: AT_RANDOM points at 16 bytes on the initial stack.
            let bytes = unsafe { core::slice::from_raw_parts(value as *const u8, RANDOM_BYTES) };
            line.str(" bytes ");
            for &b in bytes {
                line.bytes(&hex2(b));
            }
        }
        end_line(line);
    }

    if !cli.quiet {
        let narration = &mut Line::new(STDERR);
        at(narration, "auxv: from argc at ", start);
        narration
            .str(" up to the top of [stack], written before _start ran\n")
            .write();
    }
    sys::narrate_stop(cli.quiet).or_exit("kill");
}

/// Appends `label` and an address.
#[inline(never)] // one call instead of two at each of its uses
fn at(line: &mut Line, label: &str, addr: usize) {
    line.str(label).hex(addr as u64);
}

/// Appends `label` and `n` in decimal.
#[inline(never)]
fn put<'a>(line: &'a mut Line, label: &str, n: u64) -> &'a mut Line {
    line.str(label).dec(n)
}

/// Ends a line of stdout.
#[inline(never)]
fn end_line(line: &mut Line) {
    line.str("\n").write();
}

/// `argv[3] 0x7ffd… "text"` on stdout for each string of argv or envp.
#[inline(never)]
fn show_strings(line: &mut Line, array: &str, strings: sys::args::Strings) {
    for (i, s) in strings.enumerate() {
        put(line, array, i as u64);
        at(line, "] ", s.as_ptr() as usize);
        quoted(line, s);
        end_line(line);
    }
}

/// ` "text"`, with `\`, the control bytes and DEL as `\xNN`, so that
/// every string stays on its one line whatever it holds and no byte moves
/// the terminal's cursor (a `"` inside needs no escape: the string ends
/// at the line's last `"`). Bytes from 0x80 up stay as they are: they are
/// the parts of UTF-8 characters (`é` is c3 a9), which the terminal
/// shows as the characters.
fn quoted(line: &mut Line, s: &[u8]) {
    line.str(" \"");
    for &b in s {
        if b < b' ' || b == b'\\' || b == DEL {
            let [high, low] = hex2(b);
            line.bytes(&[b'\\', b'x', high, low]);
        } else {
            line.bytes(&[b]);
        }
    }
    line.str("\"");
}

/// The two lower-case hex digits of `b`.
#[inline(never)]
fn hex2(b: u8) -> [u8; 2] {
    let digit = |d: u8| if d < 10 { b'0' + d } else { b'a' + d - 10 };
    [digit(b >> 4), digit(b & 0xf)]
}

/// The name of an auxv type without its `AT_`, as the kernel header
/// spells it.
#[inline(never)]
fn name(kind: usize) -> Option<&'static [u8]> {
    if kind == AT_MINSIGSTKSZ {
        return Some(b"MINSIGSTKSZ");
    }
    // The `kind`-th word of NAMES; a hand-written scan as in sys::errno,
    // since `split` would cost more.
    let (mut number, mut start) = (0, 0);
    for end in 0..=NAMES.len() {
        if NAMES.get(end).is_none_or(|&b| b == b' ') {
            if number == kind {
                return NAMES.get(start..end).filter(|&w| w != b"-");
            }
            number += 1;
            start = end + 1;
        }
    }
    None
}
