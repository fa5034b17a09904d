//! A few words for every maps line: which ELF sections and symbols a
//! program mapping holds, what the kernel's special mappings are, what
//! anonymous and file-backed memory is.
//!
//! Facts from the seeds and from proc_pid_maps(5), mmap(2), brk(2),
//! vdso(7), getauxval(3); the words are ours.

use procfs::Mapping;
use procfs::elf::{self, Elf, demangle};
use procfs::maps::{PAGE, page_start};
use procfs::stat::Stat;

use crate::record::Host;
use crate::style;

/// The demo's executable: its ELF file and where the kernel put it.
#[derive(Clone, Debug)]
pub struct Program {
    /// The path as /proc/PID/maps shows it.
    pub path: String,
    pub elf: Elf,
    /// Load address minus link address: 0 for ET_EXEC, random for a PIE.
    pub offset: u64,
}

impl Program {
    /// The program at `path` (as maps names it) from its ELF file's
    /// bytes, and its load offset in `maps`: the first mapping of the
    /// file, minus the page of the first PT_LOAD's link address.
    pub fn find(path: &str, file: &[u8], maps: &[Mapping]) -> Option<Program> {
        let path = path.to_string();
        let elf = Elf::parse(file).ok()?;
        let first_load = page_start(elf.segments(elf::PT_LOAD).next()?.vaddr);
        let first_map = maps.iter().find(|m| m.path == path)?.start;
        Some(Program {
            offset: first_map.wrapping_sub(first_load),
            path,
            elf,
        })
    }

    /// Whether `m` is one of the program's PT_LOAD segments (and not the
    /// same file mapped again with mmap, as `filemap` does).
    pub fn owns(&self, m: &Mapping) -> bool {
        let (start, end) = self.linked(m);
        m.path == self.path
            && self.elf.segments(elf::PT_LOAD).any(|p| {
                let p_start = page_start(p.vaddr);
                p_start < end && p.vaddr + p.memsz > start
            })
    }

    /// `m`'s range at link addresses.
    fn linked(&self, m: &Mapping) -> (u64, u64) {
        (
            m.start.wrapping_sub(self.offset),
            m.end.wrapping_sub(self.offset),
        )
    }

    /// The names of the allocated sections that lie in `m`.
    pub fn sections_of(&self, m: &Mapping) -> Vec<&str> {
        let (start, end) = self.linked(m);
        self.elf
            .sections_in(start, end)
            .iter()
            .map(|s| s.name.as_str())
            .collect()
    }

    /// The end of the program's last PT_LOAD segment, page-aligned, at
    /// run-time addresses: where an unrandomised break starts.
    pub fn end(&self) -> Option<u64> {
        let last = self
            .elf
            .segments(elf::PT_LOAD)
            .map(|p| p.vaddr + p.memsz)
            .max()?;
        Some(last.next_multiple_of(PAGE).wrapping_add(self.offset))
    }

    /// The allocated section that holds run-time address `addr`.
    pub fn section_at(&self, addr: u64) -> Option<&str> {
        let a = addr.wrapping_sub(self.offset);
        self.elf
            .sections_in(a, a + 1)
            .first()
            .map(|s| s.name.as_str())
    }
}

/// What the tour knows about the process at a stop.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub program: Option<Program>,
    pub stat: Option<Stat>,
    /// The machine's facts, from the recording.
    pub host: Host,
}

/// The annotation of one maps line.
pub fn annotate(m: &Mapping, ctx: &Context) -> String {
    if let Some(p) = &ctx.program {
        if p.owns(m) {
            return program_mapping(m, p);
        }
        let (start, end) = p.linked(m);
        if m.anonymous() && !p.elf.sections_in(start, end).is_empty() {
            let from = p
                .elf
                .loads()
                .find(|(_, s)| s.vaddr < end && s.vaddr.saturating_add(s.memsz) > start);
            let from = from.map_or(String::new(), |(i, _)| format!("; ph[{i}]"));
            return format!(
                "the rest of .bss: zero pages past the segment's file bytes (p_filesz){from}"
            );
        }
    }
    if m.path == "[heap]" {
        return heap(m, ctx.program.as_ref());
    }
    if m.path == "[vsyscall]" {
        return vsyscall(&m.perms).into();
    }
    if m.is_special() {
        return special(&m.path).into();
    }
    if let Some(words) = shmem(m) {
        return words;
    }
    if m.anonymous() {
        let mut text = anonymous(m, ctx.host.mmap_min_addr);
        if m.perms == "rw-p" && m.path.is_empty() {
            text += &commit_words(ctx.host.overcommit_memory);
        }
        return text;
    }
    file_backed(m, ctx)
}

/// `ELF headers, .rodata 598 B: constants` and the like.
fn program_mapping(m: &Mapping, p: &Program) -> String {
    let (start, end) = p.linked(m);
    let mut parts = Vec::new();
    let headers = p
        .elf
        .segments(elf::PT_LOAD)
        .any(|s| s.offset == 0 && (start..end).contains(&page_start(s.vaddr)));
    if headers {
        parts.push("ELF + program headers".to_string());
    }
    for s in p.elf.sections_in(start, end) {
        parts.push(format!("{} {}", s.name, style::size(s.size)));
    }
    let what = if m.executable() {
        "code"
    } else if m.writable() {
        "statics"
    } else {
        "constants, strings"
    };
    let mut text = format!("{}: {what}", parts.join(", "));
    let names = notable_symbols(&p.elf, start, end);
    if !names.is_empty() {
        text += &format!(" ({names})");
    }
    for (i, s) in p.elf.loads() {
        if page_start(s.vaddr) < end && s.vaddr.saturating_add(s.memsz) > start {
            text += &format!("; {}", load_source(i, s));
        }
    }
    text
}

/// `ph[1]: file 0x13c-0x2b0`: the PT_LOAD a program line comes from and
/// its bytes in the file, as `cargo elf` numbers and lists them.
pub fn load_source(index: usize, p: &elf::ProgramHeader) -> String {
    format!(
        "ph[{index}]: file {:#x}-{:#x}",
        p.offset,
        p.offset.saturating_add(p.filesz)
    )
}

/// How many symbols to name per mapping; the rest are counted.
const SYMBOLS_SHOWN: usize = 3;

/// `_start`, `main`, then the largest functions or objects of the
/// program (not of libcore) that lie in `start..end` (link addresses).
fn notable_symbols(elf: &Elf, start: u64, end: u64) -> String {
    let mut found: Vec<(String, u64)> = elf
        .symbols
        .iter()
        .filter(|s| s.kind == elf::STT_FUNC || s.kind == elf::STT_OBJECT)
        .filter(|s| (start..end).contains(&s.value))
        .map(|s| (demangle(&s.name), s.size))
        .filter(|(n, _)| !n.starts_with("core::") && !n.starts_with('<') && !n.is_empty())
        .collect();
    let rank = |n: &str| match n {
        "_start" | "_start_pie" => 0,
        n if n == "main" || n.ends_with("::main") => 1,
        _ => 2,
    };
    found.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then(b.1.cmp(&a.1)));
    found.dedup_by(|a, b| a.0 == b.0);
    let mut names: Vec<String> = found
        .iter()
        .take(SYMBOLS_SHOWN)
        .map(|s| s.0.clone())
        .collect();
    if found.len() > SYMBOLS_SHOWN {
        names.push(format!("+{} more", found.len() - SYMBOLS_SHOWN));
    }
    names.join(", ")
}

fn special(name: &str) -> &'static str {
    match name {
        "[stack]" => {
            "main thread's stack: grows down when touched, up to RLIMIT_STACK; argv, envp, auxv at its top"
        }
        // The generic vDSO data store (lib/vdso/datastore.c, 6.13+).
        "[vvar]" => {
            "kernel data the vDSO reads: time and clock data, the time-namespace page, getrandom state; read-only"
        }
        // The mapping is there whatever the clock source; its pages are
        // only read when the clock is paravirtual (in a guest).
        "[vvar_vclock]" => {
            "paravirtual clock pages for the vDSO (kvm-clock pvclock, Hyper-V TSC page); mapped even with a plain TSC; since Linux 6.13 right below [vdso]"
        }
        "[vdso]" => {
            "kernel code in the process: e.g. clock_gettime, clock_getres, gettimeofday, time, getcpu, getrandom (new kernels), without a syscall"
        }
        _ => "a special mapping the kernel made",
    }
}

/// Words for [heap] that say where it starts on this run: right after
/// the program (no brk randomisation), a random distance above it, or
/// far below it (a static PIE: the break starts near ELF_ET_DYN_BASE).
fn heap(m: &Mapping, program: Option<&Program>) -> String {
    const WHAT: &str = "the program break: brk(2) moves its end, in whole pages";
    let Some(end) = program.and_then(Program::end) else {
        return WHAT.into();
    };
    let place = if m.start == end {
        "starts right after the program: the break is not randomised here (ADDR_NO_RANDOMIZE or randomize_va_space < 2)".to_string()
    } else if m.start > end {
        format!(
            "starts {} above the program: brk randomisation (randomize_va_space 2, up to 1 GiB)",
            style::big(m.start - end)
        )
    } else {
        "starts far below the program: a static PIE's break begins at ELF_ET_DYN_BASE (0x5555…), not after the program".to_string()
    };
    format!("{WHAT}; {place}")
}

/// A private writable mapping is charged to Committed_AS when it is
/// made; the overcommit mode says what may be charged
/// (Documentation/mm/overcommit-accounting.rst).
fn commit_words(mode: Option<u32>) -> String {
    let how = match mode {
        Some(0) => "0, heuristic: only the hopeless is refused",
        Some(1) => "1: never refused",
        Some(2) => "2: refused above CommitLimit",
        _ => return "; charged to Committed_AS (/proc/meminfo)".into(),
    };
    format!("; charged to Committed_AS (/proc/meminfo) now, vm.overcommit_memory {how}")
}

/// [vsyscall] by its permissions: how this kernel emulates it
/// (`vsyscall=` in Documentation/admin-guide/kernel-parameters.txt).
fn vsyscall(perms: &str) -> &'static str {
    match perms {
        "--xp" => {
            "legacy fixed page for old x86-64 binaries, always emulated; --xp is vsyscall=xonly: calls into it work, reading it faults"
        }
        "r-xp" => {
            "legacy fixed page for old x86-64 binaries, always emulated; r-xp is vsyscall=emulate: readable, calls trap into the kernel"
        }
        _ => "legacy fixed page for old x86-64 binaries, emulated by the kernel",
    }
}

/// Shared memory: the kernel backs MAP_SHARED|MAP_ANONYMOUS and System V
/// segments with a file of its internal shmem file system, so the line
/// has an inode and a name (mm/shmem.c `shmem_zero_setup`, ipc/shm.c).
fn shmem(m: &Mapping) -> Option<String> {
    if !m.perms.ends_with('s') {
        return None;
    }
    if m.path == "/dev/zero (deleted)" {
        return Some(format!(
            "shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS): zero pages shared with children after fork; backed by a shmem file, hence the name and inode {}",
            m.inode
        ));
    }
    if m.path.starts_with("/SYSV") {
        return Some(format!(
            "System V shared memory (shmget/shmat), key 0x{} in the name, segment id {} as inode",
            m.path[5..].split(' ').next().unwrap_or(""),
            m.inode
        ));
    }
    None
}

/// Anonymous memory below this was placed there on request (MAP_FIXED,
/// MAP_FIXED_NOREPLACE or a hint): 0x400000 is where x86-64 executables
/// are classically linked (linker.ld), and the kernel never picks an
/// address this low itself: it hands out mmap space top-down from below
/// the stack, or bottom-up from TASK_UNMAPPED_BASE, a third of user space
/// (arch/x86/include/asm/processor.h).
const LOW_FIXED_BELOW: u64 = 0x40_0000;

fn anonymous(m: &Mapping, mmap_min_addr: u64) -> String {
    let mut text = match m.perms.as_str() {
        "---p" => "reserved address space, no access: a guard".to_string(),
        // A read fault maps the one shared zero page; only a write fault
        // allocates a page of its own (mm/memory.c, do_anonymous_page).
        "rw-p" => {
            "anonymous memory (mmap MAP_ANONYMOUS): zero pages; reads share the zero page, the first write allocates".to_string()
        }
        // Anonymous memory holds code only if the program wrote it there
        // while the page was writable: a JIT, or the mprotect demo.
        p if m.executable() && !m.writable() => format!(
            "anonymous memory, {p}: holds what the program wrote while it was writable, now executable and no longer writable (mprotect, as a JIT does)"
        ),
        p if !m.writable() => format!(
            "anonymous memory, {p}: reads see the shared zero page; no write, so nothing is allocated"
        ),
        p => format!("anonymous memory, {p}: zero pages, allocated at the first write"),
    };
    if m.start == 0 {
        text += "; page 0: a null pointer now points at memory";
    } else if m.start < LOW_FIXED_BELOW {
        text += "; at a low fixed address, the program asked for it";
    }
    if m.start < mmap_min_addr {
        text += &format!(" (below vm.mmap_min_addr {mmap_min_addr}: needs CAP_SYS_RAWIO)");
    }
    text
}

fn file_backed(m: &Mapping, ctx: &Context) -> String {
    let shared = if m.perms.ends_with('s') {
        "shared: writes reach the file"
    } else {
        "private: copy-on-write"
    };
    let what = if ctx.program.as_ref().is_some_and(|p| p.path == m.path) {
        "the program's own file, mapped again with mmap".to_string()
    } else if m.path.starts_with("/memfd:") {
        "a memfd_create(2) file, in memory only".to_string()
    } else if m.path.contains(".so") {
        "a shared library".to_string()
    } else {
        "a file mapped with mmap".to_string()
    };
    let mut text = format!(
        "{what}: offset {:#x}, inode {}, {shared}",
        m.offset, m.inode
    );
    if m.path.starts_with("/memfd:") {
        text += "; `(deleted)` because a memfd is in no directory; until a page is written, MAP_PRIVATE reads the file's own page";
    } else if m.deleted() {
        text += "; deleted or replaced since it was mapped, the pages live on";
    }
    text
}

/// A short name for the name column and the diagram.
pub fn short_name(m: &Mapping) -> String {
    if m.path.is_empty() {
        return "(anon)".into();
    }
    if m.is_special() {
        return m.path.clone();
    }
    let base = m.path.rsplit('/').next().unwrap_or(&m.path);
    base.to_string()
}

/// A line a demo printed on stdout as `NAME PLACE 0xADDR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub name: String,
    pub place: String,
    pub addr: u64,
}

/// The `NAME PLACE 0xADDR` lines of `out`; other lines are skipped.
pub fn points(out: &str) -> Vec<Point> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [name, place, addr] = f.as_slice() else {
                return None;
            };
            let addr = u64::from_str_radix(addr.strip_prefix("0x")?, 16).ok()?;
            Some(Point {
                name: name.to_string(),
                place: place.to_string(),
                addr,
            })
        })
        .collect()
}

/// Whether the mapping (and section) holding a point agree with the
/// place the demo named.
pub fn place_agrees(place: &str, m: &Mapping, section: Option<&str>) -> bool {
    match place {
        "stack" => m.path == "[stack]",
        "heap" => m.path == "[heap]",
        "mmap" => m.anonymous() && !m.is_special(),
        // `.data` may sit in .data.rel.ro, `.text` in .text.
        s => section.is_some_and(|sec| sec.starts_with(s)),
    }
}

/// Sub-lines for [stack]: where argv, envp and auxv are (auxv demo).
pub fn stack_marks(m: &Mapping, stat: &Stat) -> Vec<String> {
    let mut marks = Vec::new();
    if m.contains(stat.start_stack) {
        marks.push(format!(
            "{:#x}: initial stack pointer: argc, argv[], envp[], then auxv[] above it",
            stat.start_stack
        ));
    }
    if m.contains(stat.arg_start) {
        marks.push(format!(
            "{:#x}-{:#x}: the argv strings ({} B)",
            stat.arg_start,
            stat.arg_end,
            stat.arg_end - stat.arg_start
        ));
    }
    if m.contains(stat.env_start) {
        marks.push(format!(
            "{:#x}-{:#x}: the environment strings ({} B)",
            stat.env_start,
            stat.env_end,
            stat.env_end.saturating_sub(stat.env_start)
        ));
    }
    if m.contains(stat.start_stack) {
        marks.push(format!(
            "{} B from the initial stack pointer to the top: all put there by execve",
            m.end - stat.start_stack
        ));
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;
    use procfs::maps;

    const STOP: &str = include_str!("../tests/data/stop-deleted-space.maps");
    const SLEEP: &str = include_str!("../tests/data/sleep-libc-deleted.maps");
    const STAT: &str = include_str!("../tests/data/stop-deleted-space.stat");

    #[test]
    fn every_special_mapping_gets_its_own_words() {
        let maps = maps::parse(STOP).unwrap();
        let ctx = Context::default();
        let words: Vec<String> = maps.iter().map(|m| annotate(m, &ctx)).collect();
        assert!(
            words[3].starts_with("kernel data the vDSO reads"),
            "{}",
            words[3]
        );
        assert!(words[4].contains("paravirtual clock"), "{}", words[4]);
        assert!(words[5].contains("clock_getres"), "{}", words[5]);
        assert!(words[5].contains("without a syscall"), "{}", words[5]);
        assert!(words[6].contains("grows down"), "{}", words[6]);
        assert!(words[7].contains("legacy"), "{}", words[7]);
        // Without the program's ELF file, its lines are files like others.
        assert!(words[0].contains("deleted"), "{}", words[0]);
        assert!(words[0].contains("inode 10011892"), "{}", words[0]);
        assert_eq!(short_name(&maps[0]), "st op (deleted)");
    }

    #[test]
    fn libraries_anonymous_and_shared_files() {
        let maps = maps::parse(SLEEP).unwrap();
        let ctx = Context::default();
        let find = |start: &str| {
            let m = maps
                .iter()
                .find(|m| format!("{:x}", m.start) == start)
                .unwrap();
            annotate(m, &ctx)
        };
        assert!(find("7f4bd9d2f000").starts_with("a shared library: offset 0x26000"));
        assert!(find("7f4bd9d06000").starts_with("anonymous memory"));
        assert!(find("7f4bd9eec000").contains("shared: writes reach the file"));
        assert!(find("559f2b029000").contains("brk(2)"));
    }

    /// The tour's own test binary as a demo's program: a real ELF file
    /// mapped at its real place in this process; with this process's maps.
    fn own_program() -> (Vec<Mapping>, Program) {
        let me = std::fs::read_to_string("/proc/self/maps").unwrap();
        let maps = maps::parse(&me).unwrap();
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        let file = std::fs::read(&exe).unwrap();
        let p = Program::find(&exe.to_string_lossy(), &file, &maps).expect("our own program");
        (maps, p)
    }

    #[test]
    fn program_lines_name_sections_and_symbols() {
        let (maps, p) = own_program();
        let ctx = Context {
            program: Some(p.clone()),
            ..Context::default()
        };
        let text = maps
            .iter()
            .find(|m| p.owns(m) && m.executable())
            .map(|m| annotate(m, &ctx))
            .unwrap();
        assert!(text.contains(".text "), "{text}");
        assert!(text.contains(": code"), "{text}");
        let (i, load) = p
            .elf
            .programs
            .iter()
            .enumerate()
            .find(|(_, s)| s.kind == elf::PT_LOAD && s.flags & elf::PF_X != 0)
            .unwrap();
        assert!(
            text.contains(&format!("; ph[{i}]: file {:#x}-", load.offset)),
            "{text}"
        );
    }

    #[test]
    fn points_are_parsed_and_checked() {
        let out = "sections: narration\nmain .text 0x401000\ncounter .data 0x402b18\nlocal stack 0x7fffd30fe000\nbad line\n";
        let p = points(out);
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].addr, 0x402b18);
        let maps = maps::parse(STOP).unwrap();
        let stack = maps::find(&maps, "[stack]").unwrap();
        assert!(place_agrees("stack", stack, None));
        assert!(!place_agrees("heap", stack, None));
        assert!(place_agrees(".data", &maps[2], Some(".data")));
        assert!(!place_agrees(".bss", &maps[2], Some(".data")));
    }

    #[test]
    fn stack_marks_use_stat() {
        let maps = maps::parse(STOP).unwrap();
        let stat = procfs::stat::parse(STAT).unwrap();
        let stack = maps::find(&maps, "[stack]").unwrap();
        let marks = stack_marks(stack, &stat);
        assert_eq!(marks.len(), 4, "{marks:?}");
        assert!(marks[0].contains("initial stack pointer"));
        assert!(marks[1].contains("argv strings"));
        assert!(marks[2].contains("environment strings"));
    }

    #[test]
    fn low_pages_are_called_out() {
        let zero = Mapping::parse("00000000-00001000 rw-p 00000000 00:00 0 ").unwrap();
        let words = anonymous(&zero, crate::record::DEFAULT_MMAP_MIN_ADDR);
        assert!(words.contains("page 0"), "{words}");
        assert!(words.contains("below vm.mmap_min_addr 4096"), "{words}");
        // vm.mmap_min_addr = 0: anyone may map page 0.
        assert!(!anonymous(&zero, 0).contains("CAP_SYS_RAWIO"));
        let fixed = Mapping::parse("00040000-00041000 rw-p 00000000 00:00 0 ").unwrap();
        let words = anonymous(&fixed, crate::record::DEFAULT_MMAP_MIN_ADDR);
        assert!(words.contains("low fixed address"), "{words}");
        assert!(!words.contains("mmap_min_addr"), "{words}");
        // Where the kernel's own choices lie: nothing to call out.
        let high = Mapping::parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ").unwrap();
        assert!(!anonymous(&high, crate::record::DEFAULT_MMAP_MIN_ADDR).contains("fixed"));
    }

    #[test]
    fn shared_memory_is_named_for_what_it_is() {
        // As a real MAP_SHARED|MAP_ANONYMOUS and shmat show them (6.18).
        let zero = Mapping::parse(
            "7f47afa27000-7f47afa28000 rw-s 00000000 00:01 1025 /dev/zero (deleted)",
        )
        .unwrap();
        let words = annotate(&zero, &Context::default());
        assert!(words.starts_with("shared anonymous memory"), "{words}");
        assert!(!words.contains("deleted or replaced"), "{words}");
        let sysv = Mapping::parse(
            "7f47afa26000-7f47afa27000 rw-s 00000000 00:01 7 /SYSV00000000 (deleted)",
        )
        .unwrap();
        let words = annotate(&sysv, &Context::default());
        assert!(words.starts_with("System V shared memory"), "{words}");
        assert!(
            words.contains("key 0x00000000") && words.contains("id 7"),
            "{words}"
        );
        // A private memfd stays a file.
        let memfd = Mapping::parse(
            "7f47afa25000-7f47afa26000 rw-p 00000000 00:01 1027 /memfd:lesson (deleted)",
        )
        .unwrap();
        let words = annotate(&memfd, &Context::default());
        assert!(words.contains("memfd_create"), "{words}");
        assert!(!words.contains("deleted or replaced"), "{words}");
    }

    unsafe extern "C" {
        fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
        fn munmap(addr: *mut u8, len: usize) -> i32;
    }

    #[test]
    fn shared_anonymous_memory_of_this_kernel_is_recognised() {
        // mmap(2): PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS.
        const PROT_RW: i32 = 3;
        const MAP_SHARED_ANONYMOUS: i32 = 0x01 | 0x20;
        // SAFETY: a fresh mapping the kernel places; nothing else uses it,
        // and it is unmapped below.
        let p = unsafe {
            mmap(
                std::ptr::null_mut(),
                4096,
                PROT_RW,
                MAP_SHARED_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p as isize, -1, "mmap");
        let me = std::fs::read_to_string("/proc/self/maps").unwrap();
        let maps = maps::parse(&me).unwrap();
        let m = maps.iter().find(|m| m.start == p as u64).unwrap().clone();
        // SAFETY: our own mapping, no longer used.
        unsafe { munmap(p, 4096) };
        // What the kernel shows for it: a shmem file, not a nameless line.
        assert_eq!(
            (m.perms.as_str(), m.path.as_str()),
            ("rw-s", "/dev/zero (deleted)")
        );
        assert_ne!(m.inode, 0);
        let words = annotate(&m, &Context::default());
        assert!(words.starts_with("shared anonymous memory"), "{words}");
    }

    #[test]
    fn the_overcommit_mode_is_named() {
        assert!(commit_words(Some(0)).contains("vm.overcommit_memory 0, heuristic"));
        assert!(commit_words(Some(2)).contains("CommitLimit"));
        assert!(!commit_words(None).contains("overcommit_memory"));
    }

    #[test]
    fn vsyscall_words_follow_its_permissions() {
        assert!(vsyscall("--xp").contains("xonly"));
        assert!(vsyscall("r-xp").contains("emulate"));
    }

    #[test]
    fn heap_words_say_where_it_starts() {
        let (maps, p) = own_program();
        let end = p.end().unwrap();
        let at = |start: u64| {
            let m = Mapping::parse(&format!(
                "{start:x}-{:x} rw-p 00000000 00:00 0 [heap]",
                start + 0x2000
            ))
            .unwrap();
            heap(&m, Some(&p))
        };
        assert!(at(end).contains("right after the program"), "{}", at(end));
        assert!(
            at(end + (5 << 20)).contains("5 MiB above"),
            "{}",
            at(end + (5 << 20))
        );
        assert!(at(0x1000).contains("static PIE"));
        assert!(!heap(&maps[0], None).contains("random"));
    }

    #[test]
    fn read_only_anonymous_memory_allocates_nothing() {
        let ro = Mapping::parse("7f0000000000-7f0000001000 r--p 00000000 00:00 0 ").unwrap();
        let words = anonymous(&ro, crate::record::DEFAULT_MMAP_MIN_ADDR);
        assert!(words.contains("shared zero page"), "{words}");
        assert!(!words.contains("allocated when"), "{words}");
    }
}
