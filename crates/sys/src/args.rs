//! What the kernel leaves on the initial stack, and a strict command-line
//! parser on top of it.
//!
//! At `_start`, `rsp` points at (System V x86-64 psABI, figure
//! "Initial Process Stack"; `execve(2)`):
//!
//! ```text
//!   rsp -> argc
//!          argv[0] … argv[argc-1], NULL
//!          envp[0] … NULL
//!          auxv: (type, value) pairs … (AT_NULL, 0)
//!          … the strings they point to, near the top of [stack]
//! ```

use crate::out::{Line, STDERR, STDOUT};

/// argc, argv, envp and auxv exactly where the kernel put them.
///
/// The pointers are private: the safe iterators below read through them,
/// so only [`Args::from_stack`], which is `unsafe`, may set them.
#[derive(Clone, Copy)]
pub struct Args {
    stack: *const usize,
    argc: usize,
    argv: *const *const u8,
    envp: *const *const u8,
    auxv: *const [usize; 2],
}

/// Called by `_start` with the initial stack pointer; runs the demo's
/// `main` (see [`crate::entry!`]).
///
/// # Safety
/// `sp` must be the initial stack pointer the kernel gave `_start`.
#[cfg(not(test))]
pub(crate) unsafe extern "C" fn start(sp: *const usize) -> ! {
    unsafe extern "Rust" {
        #[link_name = "main"]
        fn __sys_main(args: Args) -> !;
    }
    // SAFETY: `sp` is the initial stack pointer (our caller is _start),
    // and `main` is the one the demo's `sys::entry!` defined.
    unsafe { __sys_main(Args::from_stack(sp)) }
}

/// The bytes of a NUL-terminated string, without the NUL.
///
/// # Safety
/// `p` must point at a NUL-terminated string that lives forever, as the
/// strings on the initial stack do.
pub unsafe fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the caller promises a NUL before the end of the memory.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        core::slice::from_raw_parts(p, n)
    }
}

/// Iterates over a NULL-terminated array of C strings (argv or envp).
#[derive(Clone)]
pub struct Strings(*const *const u8);

impl Iterator for Strings {
    type Item = &'static [u8];
    fn next(&mut self) -> Option<&'static [u8]> {
        // SAFETY: the array ends with NULL and its strings live forever
        // (they are on the initial stack).
        unsafe {
            let p = *self.0;
            if p.is_null() {
                return None;
            }
            self.0 = self.0.add(1);
            Some(cstr(p))
        }
    }
}

/// Iterates over the auxiliary vector as `(AT_…, value)` until `AT_NULL`.
#[derive(Clone)]
pub struct Auxv(*const [usize; 2]);

/// `AT_NULL`: the end of the auxiliary vector (`include/uapi/linux/auxvec.h`).
pub const AT_NULL: usize = 0;
/// `AT_SYSINFO_EHDR`: the address of the vDSO's ELF header
/// (`arch/x86/include/uapi/asm/auxvec.h`; `vdso(7)`).
pub const AT_SYSINFO_EHDR: usize = 33;

impl Iterator for Auxv {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        // SAFETY: the vector ends with an AT_NULL entry, which we do not pass.
        unsafe {
            let [kind, value] = *self.0;
            if kind == AT_NULL {
                return None;
            }
            self.0 = self.0.add(1);
            Some((kind, value))
        }
    }
}

impl Args {
    /// Walks past argv and envp to find auxv.
    ///
    /// # Safety
    /// `sp` must point at an initial stack as the module doc shows: argc,
    /// argv[argc] and NULL, envp and NULL, auxv up to AT_NULL, all alive
    /// for the rest of the program.
    pub unsafe fn from_stack(sp: *const usize) -> Args {
        // SAFETY: the layout the caller promises.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1) as *const *const u8;
            let envp = argv.add(argc + 1);
            let mut end = envp;
            while !(*end).is_null() {
                end = end.add(1);
            }
            let auxv = end.add(1) as *const [usize; 2];
            Args {
                stack: sp,
                argc,
                argv,
                envp,
                auxv,
            }
        }
    }

    /// The initial stack pointer: the address of argc, the lowest thing
    /// the kernel wrote on the stack.
    pub fn stack(&self) -> usize {
        self.stack as usize
    }

    /// The number of arguments, program name included (0 is possible).
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// Where the auxiliary vector begins, right after envp's NULL.
    pub fn auxv_start(&self) -> usize {
        self.auxv as usize
    }

    /// The command-line arguments after the program name. With argc == 0
    /// (an execve with an empty argv) there are none.
    pub fn args(&self) -> Strings {
        let first = if self.argc == 0 {
            self.argv
        } else {
            self.argv.wrapping_add(1)
        };
        Strings(first)
    }

    /// argv[0] … argv[argc-1].
    pub fn argv(&self) -> Strings {
        Strings(self.argv)
    }

    /// The environment, `NAME=value` strings.
    pub fn env(&self) -> Strings {
        Strings(self.envp)
    }

    pub fn auxv(&self) -> Auxv {
        Auxv(self.auxv)
    }

    /// The value of one auxv entry, like `getauxval(3)`.
    pub fn getauxval(&self, kind: usize) -> Option<usize> {
        self.auxv().find(|&(k, _)| k == kind).map(|(_, v)| v)
    }
}

/// Parses a size: decimal digits, optionally followed by `K`, `M`, `G`
/// or `T` (KiB, MiB, GiB, TiB). `4100`, `256K`, `512M`. Anything else, including an
/// empty string, a sign, spaces or an overflow, is `None`.
pub fn parse_size(s: &[u8]) -> Option<usize> {
    let (&last, digits) = s.split_last()?;
    // `| 0x20` is ASCII lower case for letters and leaves digits as they
    // are; a unit's place in "kmgt" gives its power of 1024.
    let (digits, shift) = match b"kmgt".iter().position(|&unit| unit == last | 0x20) {
        Some(place) => (digits, 10 * (place + 1)),
        None => (s, 0),
    };
    parse_decimal(digits)?.checked_mul(1 << shift)
}

/// Parses one or more decimal digits and nothing else; `None` on overflow.
pub fn parse_decimal(digits: &[u8]) -> Option<usize> {
    let mut n: usize = 0;
    for &d in digits {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(usize::from(digit))?;
    }
    (!digits.is_empty()).then_some(n)
}

/// `a == b`, never inlined. Comparing with a literal, LLVM unrolls `==`
/// into a dozen instructions per option; a demo with options calls this
/// instead and stays under its size budget.
#[inline(never)]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a == b
}

/// Status 2: the command line was wrong (as `sysexits`-less tools do).
pub const EXIT_USAGE: i32 = 2;

/// A strict command-line parser: `-q` and `-h`/`--help` are handled for
/// every demo; anything a demo does not know is an error with exit 2.
///
/// ```ignore
/// let mut cli = Cli::new(&args, USAGE);
/// while let Some(arg) = cli.next() {
///     match arg {
///         b"--calls" => calls = cli.number(cli.value(arg)),
///         _ if increment.is_none() => increment = Some(cli.size(arg)),
///         _ => cli.reject(arg),
///     }
/// }
/// ```
pub struct Cli {
    rest: Strings,
    /// `-q`: no narration, so that strace shows only the lesson's syscalls.
    pub quiet: bool,
    /// `usage: NAME …` first line, then a description for `--help`.
    usage: &'static str,
}

impl Cli {
    pub fn new(args: &Args, usage: &'static str) -> Cli {
        Cli {
            rest: args.args(),
            quiet: false,
            usage,
        }
    }

    /// For a demo that takes no arguments but `-q` and `--help`: anything
    /// else is a usage error. Returns whether `-q` was given.
    pub fn quiet_only(args: &Args, usage: &'static str) -> bool {
        let mut cli = Cli::new(args, usage);
        if let Some(arg) = cli.next() {
            cli.reject(arg);
        }
        cli.quiet
    }

    /// The value after `flag`, or a usage error if there is none.
    pub fn value(&mut self, flag: &[u8]) -> &'static [u8] {
        match self.rest.next() {
            Some(v) => v,
            None => self.usage_error("missing value after '", flag),
        }
    }

    /// `arg` as a size ([`parse_size`]), or a usage error.
    // Not inlined: the parser would be copied to every call site.
    #[inline(never)]
    pub fn size(&self, arg: &[u8]) -> usize {
        match parse_size(arg) {
            Some(n) => n,
            None => self.bad(arg, "not a size (digits, then K, M, G or T): '"),
        }
    }

    /// `arg` as a plain decimal number, or a usage error.
    #[inline(never)]
    pub fn number(&self, arg: &[u8]) -> usize {
        match parse_decimal(arg) {
            Some(n) => n,
            None => self.bad(arg, "not a number: '"),
        }
    }

    /// A value that does not parse: an unknown option if it starts with
    /// `-`, else `what`.
    #[cold]
    fn bad(&self, arg: &[u8], what: &str) -> ! {
        if arg.first() == Some(&b'-') {
            self.reject(arg)
        }
        self.usage_error(what, arg)
    }

    /// An argument the demo has no place for.
    pub fn reject(&self, arg: &[u8]) -> ! {
        if arg.len() > 1 && arg.first() == Some(&b'-') {
            self.usage_error("unknown option '", arg)
        } else {
            self.usage_error("unexpected argument '", arg)
        }
    }

    /// One line naming the problem, then the usage line; exit status 2.
    /// `what` ends with the opening quote: `unknown option '`.
    #[cold]
    pub fn usage_error(&self, what: &str, arg: &[u8]) -> ! {
        let usage = self.usage.as_bytes();
        let end = usage.iter().position(|&b| b == b'\n');
        let first = usage.get(..end.unwrap_or(usage.len())).unwrap_or(usage);
        let mut line = Line::new(STDERR);
        for part in [
            b"error: ",
            what.as_bytes(),
            arg,
            b"'\n",
            first,
            b" (--help for more)\n",
        ] {
            line.bytes(part);
        }
        line.write();
        crate::calls::exit(EXIT_USAGE)
    }
}

/// Yields every argument that is not `-q`, `-h` or `--help`. (No demo takes
/// an operand that starts with `-`, so there is no `--` either.)
impl Iterator for Cli {
    type Item = &'static [u8];

    /// The next argument that is not `-q`, `-h` or `--help`.
    // Not inlined: it would be copied into every demo's argument loop.
    #[inline(never)]
    fn next(&mut self) -> Option<&'static [u8]> {
        loop {
            let arg = self.rest.next()?;
            match arg {
                b"-q" => self.quiet = true,
                b"-h" | b"--help" => {
                    let _ = crate::calls::write(STDOUT, self.usage.as_bytes());
                    crate::calls::exit(0)
                }
                _ => return Some(arg),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_digits_and_one_binary_suffix() {
        assert_eq!(parse_size(b"4100"), Some(4100));
        assert_eq!(parse_size(b"0"), Some(0));
        assert_eq!(parse_size(b"256K"), Some(256 << 10));
        assert_eq!(parse_size(b"512M"), Some(512 << 20));
        assert_eq!(parse_size(b"512m"), Some(512 << 20));
        assert_eq!(parse_size(b"2G"), Some(2 << 30));
        assert_eq!(parse_size(b"1T"), Some(1 << 40));
    }

    #[test]
    fn sizes_reject_everything_else() {
        for bad in [
            &b""[..],
            b"K",
            b"-1",
            b"+1",
            b" 1",
            b"1 ",
            b"1KB",
            b"1.5M",
            b"0x10",
            b"12Q",
        ] {
            assert_eq!(parse_size(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_size(b"18446744073709551616"), None);
        assert_eq!(parse_size(b"18446744073709551615K"), None);
    }

    #[test]
    fn args_skip_the_program_name_and_survive_argc_zero() {
        // A fake initial stack: argc, argv[] NULL, envp[] NULL, auxv.
        let (prog, q, size, home) = (c"brk", c"-q", c"4100", c"HOME=/root");
        let stack: [usize; 11] = [
            3,
            prog.as_ptr() as usize,
            q.as_ptr() as usize,
            size.as_ptr() as usize,
            0,
            home.as_ptr() as usize,
            0,
            6, // AT_PAGESZ
            4096,
            AT_NULL,
            0,
        ];
        // SAFETY: laid out as the kernel does; the strings are 'static.
        let args = unsafe { Args::from_stack(stack.as_ptr()) };
        assert_eq!(args.argc(), 3);
        assert_eq!(args.args().collect::<Vec<_>>(), vec![&b"-q"[..], b"4100"]);
        assert_eq!(args.env().collect::<Vec<_>>(), vec![&b"HOME=/root"[..]]);
        assert_eq!(args.getauxval(6), Some(4096));
        assert_eq!(args.getauxval(25), None);
        assert_eq!(args.auxv_start(), &stack[7] as *const usize as usize);

        let empty: [usize; 5] = [0, 0, 0, AT_NULL, 0];
        // SAFETY: as above, with argc 0 and no environment.
        let none = unsafe { Args::from_stack(empty.as_ptr()) };
        assert_eq!(none.args().count(), 0);
        assert_eq!(none.env().count(), 0);
        assert_eq!(none.auxv().count(), 0);
    }
}
