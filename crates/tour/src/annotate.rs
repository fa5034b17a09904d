//! A few words for every maps line: which ELF sections and symbols a
//! program mapping holds, what the kernel's special mappings are, what
//! anonymous and file-backed memory is.
//!
//! Facts from the seeds and from proc_pid_maps(5), mmap(2), brk(2),
//! vdso(7), getauxval(3); the words are ours.

use procfs::Mapping;
use procfs::elf::{self, Elf};
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

const PAGE: u64 = 4096;

impl Program {
    /// The program at `path` (as maps names it) from its ELF file's
    /// bytes, and its load offset in `maps`: the first mapping of the
    /// file, minus the page of the first PT_LOAD's link address.
    pub fn find(path: &str, file: &[u8], maps: &[Mapping]) -> Option<Program> {
        let path = path.to_string();
        let elf = Elf::parse(file).ok()?;
        let first_load = elf.segments(elf::PT_LOAD).next()?.vaddr & !(PAGE - 1);
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
                let p_start = p.vaddr & !(PAGE - 1);
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
            return "the rest of .bss: zero pages past the end of the file".into();
        }
    }
    if m.is_special() {
        return special(&m.path).into();
    }
    if m.anonymous() {
        return anonymous(m, ctx.host.mmap_min_addr);
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
        .any(|s| s.offset == 0 && (start..end).contains(&(s.vaddr & !(PAGE - 1))));
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
    text
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

/// Rust's legacy symbol mangling, enough to read a name:
/// `_ZN3sys6lesson12narrate_stop17hab2f681458ff8c0fE` is
/// `sys::lesson::narrate_stop`. Other names come back unchanged.
pub fn demangle(sym: &str) -> String {
    let Some(mut rest) = sym.strip_prefix("_ZN") else {
        return sym.to_string();
    };
    let mut parts = Vec::new();
    while !rest.starts_with('E') {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let Ok(len) = rest[..digits].parse::<usize>() else {
            return sym.to_string();
        };
        let Some(part) = rest.get(digits..digits + len) else {
            return sym.to_string();
        };
        // A part that would start with `$` is written `_$`.
        parts.push(part.strip_prefix("_$").map_or(part, |_| &part[1..]));
        rest = &rest[digits + len..];
    }
    // The last part is a hash: `h` and 16 hex digits.
    if parts
        .last()
        .is_some_and(|p| p.len() == 17 && p.starts_with('h'))
    {
        parts.pop();
    }
    let mut name = parts.join("::");
    for (code, text) in [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$u20$", " "),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$C$", ","),
        ("..", "::"),
    ] {
        name = name.replace(code, text);
    }
    name
}

fn special(name: &str) -> &'static str {
    match name {
        "[heap]" => {
            "the program break: brk(2) moves its end, in whole pages; starts a random gap above the program"
        }
        "[stack]" => {
            "main thread's stack: grows down when touched, up to RLIMIT_STACK; argv, envp, auxv at its top"
        }
        "[vvar]" => {
            "kernel data the vDSO reads (time, clock parameters); read-only, no syscall needed"
        }
        // The mapping is there whatever the clock source; its pages are
        // only read when the clock is paravirtual (in a guest).
        "[vvar_vclock]" => {
            "paravirtual clock pages for the vDSO (kvm-clock pvclock, Hyper-V TSC page); mapped even with a plain TSC; since Linux 6.13 right below [vdso]"
        }
        "[vdso]" => {
            "kernel code in the process: e.g. clock_gettime, clock_getres, gettimeofday, time, getcpu, getrandom (new kernels), without a syscall"
        }
        "[vsyscall]" => {
            "legacy fixed page of old x86-64 binaries, above user space; execute-only, emulated"
        }
        _ => "a special mapping the kernel made",
    }
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
        p if p.ends_with('s') => {
            "shared anonymous memory: zero pages, shared with children".to_string()
        }
        // A read fault maps the one shared zero page; only a write fault
        // allocates a page of its own (mm/memory.c, do_anonymous_page).
        "rw-p" => {
            "anonymous memory (mmap MAP_ANONYMOUS): zero pages; reads share the zero page, the first write allocates".to_string()
        }
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
    if m.deleted() {
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
    fn demangles_rust_legacy_names() {
        assert_eq!(
            demangle("_ZN3sys6lesson12narrate_stop17hab2f681458ff8c0fE"),
            "sys::lesson::narrate_stop"
        );
        assert_eq!(demangle("_ZN4stop4main17h1a5f3e427a938d98E"), "stop::main");
        assert_eq!(
            demangle("_ZN3sys5errno32_$LT$impl$u20$sys..out..Line$GT$5errno17hd6126aa543317f00E"),
            "sys::errno::<impl sys::out::Line>::errno"
        );
        assert_eq!(demangle("_start"), "_start");
        assert_eq!(demangle("_ZN3bad"), "_ZN3bad");
    }

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

    #[test]
    fn program_lines_name_sections_and_symbols() {
        // The tour's own test binary stands in for a demo: a real ELF file
        // mapped at its real place in this process.
        let me = std::fs::read_to_string("/proc/self/maps").unwrap();
        let maps = maps::parse(&me).unwrap();
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        let file = std::fs::read(&exe).unwrap();
        let p = Program::find(&exe.to_string_lossy(), &file, &maps).expect("our own program");
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
    fn read_only_anonymous_memory_allocates_nothing() {
        let ro = Mapping::parse("7f0000000000-7f0000001000 r--p 00000000 00:00 0 ").unwrap();
        let words = anonymous(&ro, crate::record::DEFAULT_MMAP_MIN_ADDR);
        assert!(words.contains("shared zero page"), "{words}");
        assert!(!words.contains("allocated when"), "{words}");
    }
}
