//! The demos, in lecture order: how the tour runs each one and what it
//! should show.

/// One demo of the tour.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    /// Package and binary name (crates/NAME, target/release/NAME).
    pub name: &'static str,
    /// Arguments the tour passes.
    pub args: &'static [&'static str],
    /// How many times it stops itself.
    pub stops: usize,
    /// It never stops: read its maps while it sleeps in nanosleep.
    pub sleeps: bool,
    /// One line for `--list`.
    pub about: &'static str,
    /// What to take away, printed with the summary.
    pub lesson: &'static str,
    /// Its stdout has `NAME PLACE 0xADDR` lines to point at maps lines.
    pub points: bool,
    /// Mark argv/envp/auxv at the top of [stack] (from /proc/PID/stat).
    pub marks_stack: bool,
    /// Run with an empty environment plus one variable, so the output
    /// stays short enough for a slide.
    pub small_env: bool,
}

const fn demo(name: &'static str, stops: usize, about: &'static str, lesson: &'static str) -> Demo {
    Demo {
        name,
        args: &[],
        stops,
        sleeps: false,
        about,
        lesson,
        points: false,
        marks_stack: false,
        small_env: false,
    }
}

/// `minimal`'s sleep, in seconds: long enough to read its maps, short
/// enough not to be noticed.
pub const MINIMAL_SLEEP: &str = "1";

/// The whole environment of a `small_env` demo: `env -i LECTURE='memory maps'`.
pub const SMALL_ENV: (&str, &str) = ("LECTURE", "memory maps");

pub const DEMOS: &[Demo] = &[
    Demo {
        args: &[MINIMAL_SLEEP],
        sleeps: true,
        ..demo(
            "minimal",
            0,
            "sleeps, then exits: the smallest process",
            "without libc a process is its program, a stack and the vDSO; no heap until brk",
        )
    },
    demo(
        "stop",
        1,
        "stops itself once",
        "r--p headers+.rodata, r-xp .text, rw-p statics: one line per ELF segment",
    ),
    demo(
        "brk",
        3,
        "moves the program break twice",
        "[heap] appears at the first brk and grows in whole pages",
    ),
    demo(
        "stack",
        2,
        "touches memory 256 KiB below the stack pointer",
        "[stack] grows down on demand from its start (the strings' pages + 128 KiB), until RLIMIT_STACK or the guard gap",
    ),
    demo(
        "mmap",
        4,
        "maps 512 MiB, then 512 KiB, then unmaps the first",
        "mmap takes the highest free range below the mmap base that fits; neighbours with the same flags merge; munmap leaves a hole",
    ),
    demo(
        "paging",
        6,
        "maps 64 MiB, reads it, writes every 16th page, drops it, populates, takes a huge page",
        "a mapping is address space; Rss grows only when a page is written (reads map the zero page)",
    ),
    demo(
        "mprotect",
        5,
        "mprotects one page of three, back again, then runs code from a page made r-x",
        "permissions belong to VMAs: mprotect splits and merges lines; a page is never w and x at once",
    ),
    demo(
        "cow",
        3,
        "forks: parent and child share a written page until the child writes it",
        "fork copies no memory: pages are shared until written (Shared_Dirty, then Private_Dirty)",
    ),
    Demo {
        points: true,
        ..demo(
            "sections",
            1,
            "prints where a function, constants, statics, a local, brk and mmap memory live",
            "each kind of object lives in its own mapping: .text, .rodata, .data/.bss, stack, heap, mmap",
        )
    },
    demo(
        "fixed",
        2,
        "maps a page at 0x40000, then tries page 0",
        "MAP_FIXED_NOREPLACE places memory where asked; below vm.mmap_min_addr only with CAP_SYS_RAWIO",
    ),
    demo(
        "filemap",
        4,
        "maps its own executable and anonymous memory, then a MAP_PRIVATE memfd",
        "a file-backed mapping names path, inode and offset; anonymous memory names nothing; MAP_PRIVATE is no snapshot: the copy comes at the first own write",
    ),
    Demo {
        points: true,
        ..demo(
            "pie",
            1,
            "the stop lesson as a static PIE: loaded at a random address",
            "a PIE moves as a whole: subtract the load offset to find ELF addresses (--no-aslr pins it)",
        )
    },
    Demo {
        marks_stack: true,
        small_env: true,
        ..demo(
            "auxv",
            1,
            "prints argc, argv, envp and the auxiliary vector with addresses",
            "argv, envp and auxv are what the kernel leaves at the top of [stack] before _start",
        )
    },
    Demo {
        args: &["--calls", "10000"],
        ..demo(
            "vdso",
            1,
            "finds __vdso_clock_gettime and calls it, against the syscall",
            "[vdso] is kernel code in the process; it reads the clock from [vvar]/[vvar_vclock]",
        )
    },
    Demo {
        points: true,
        ..demo(
            "threads",
            3,
            "starts 2 threads with raw clone, each on a stack it maps with a guard page (seed 000)",
            "a thread's stack is an unnamed rw-p line with a ---p guard below; only the main one is [stack]",
        )
    },
    Demo {
        points: true,
        ..demo(
            "guard",
            3,
            "signal handlers on an alternate stack, our SA_RESTORER, then a stack overflow (seed 003)",
            "[stack] grows to exactly RLIMIT_STACK, then SIGSEGV; the handler runs on the sigaltstack line",
        )
    },
    Demo {
        args: &["--threads"],
        points: true,
        ..demo(
            "tls",
            2,
            "thread-locals without libc: PT_TLS, a TLS block below the thread pointer, arch_prctl (seed 003)",
            "%fs points at each thread's control block; its thread-locals lie just below, one copy per thread",
        )
    },
];

/// What `--exec` (for the tests) fills in for an arbitrary command.
pub const EXEC: Demo = demo(
    "exec",
    0,
    "any command, run as a demo",
    "(a command run by --exec)",
);

pub fn find(name: &str) -> Option<&'static Demo> {
    DEMOS.iter().find(|d| d.name == name)
}

/// `--list`, and what an unknown name gets.
pub fn list() -> String {
    DEMOS
        .iter()
        .map(|d| format!("  {:<9} {}\n", d.name, d.about))
        .collect()
}
