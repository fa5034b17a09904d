//! `cargo elf`: the anatomy of an ELF file. Every byte of the file gets
//! a name (which header, which field, which function or string), every
//! header field a class (what the Linux loader does with it), and every
//! PT_LOAD the /proc/PID/maps line it becomes.
//!
//! The file is read by the workspace's one ELF reader, [`procfs::elf`];
//! this crate only explains. Modules: [`kernel`] the classes, [`explain`]
//! the default listing, [`hex`] the annotated hexdump, [`budget`] the
//! bytes by category, [`at`] one address or offset, [`svg`] the file and
//! its mappings as a picture.

pub mod at;
pub mod budget;
pub mod explain;
pub mod hex;
pub mod kernel;
pub mod svg;

use std::ops::Range;

use procfs::elf::{self, Elf, Part, Region};

pub use procfs::maps::{PAGE, page_end, page_start};

/// Options of the listings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// List every symbol, string and function, even of a big file.
    pub all: bool,
    /// ANSI colours (a terminal without NO_COLOR).
    pub colour: bool,
}

/// A file read and cut in regions, with the name of each small part.
pub struct Anatomy<'a> {
    pub bytes: &'a [u8],
    pub elf: Elf,
    pub regions: Vec<Region>,
    /// Named parts finer than a region (fields, functions, symbols),
    /// sorted by start.
    pub spans: Vec<Span>,
    /// The demo's crate name (the file name), to tell its code from sys.
    pub crate_name: String,
}

/// A named range of the file: `ph[1]` `p_offset`, `.text` `_start`.
#[derive(Clone, Debug)]
pub struct Span {
    pub range: Range<u64>,
    pub prefix: String,
    pub name: String,
}

impl<'a> Anatomy<'a> {
    /// Reads `bytes`; `name` is the file name (a demo's crate name).
    pub fn new(bytes: &'a [u8], name: &str) -> Result<Anatomy<'a>, String> {
        let elf = Elf::parse(bytes)?;
        let regions = elf.regions()?;
        let mut a = Anatomy {
            bytes,
            elf,
            regions,
            spans: Vec::new(),
            crate_name: name.to_string(),
        };
        a.spans = a.make_spans();
        Ok(a)
    }

    fn make_spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        // `e_ident EI_MAG0..3 EI_CLASS …` reads better than the name
        // repeated seven times on one hexdump line.
        for f in &self.elf.header {
            let (prefix, name) = match f.name.strip_prefix("e_ident[") {
                Some(rest) => ("e_ident", rest.trim_end_matches(']')),
                None => ("", f.name),
            };
            spans.push(Span {
                range: f.range(),
                prefix: prefix.into(),
                name: name.into(),
            });
        }
        let mut fields = |prefix: String, list: &[elf::Field]| {
            for f in list {
                spans.push(Span {
                    range: f.range(),
                    prefix: prefix.clone(),
                    name: f.name.to_string(),
                });
            }
        };
        for (i, p) in self.elf.programs.iter().enumerate() {
            fields(format!("ph[{i}]"), &p.fields);
        }
        for (i, s) in self.elf.sections.iter().enumerate() {
            fields(format!("sh[{i}]"), &s.fields);
        }
        let l = self.elf.layout();
        for (i, sym) in self.elf.symbols.iter().enumerate() {
            spans.push(Span {
                range: sym.at..sym.at + l.sym_size,
                prefix: ".symtab".into(),
                name: format!("[{i}] {}", short(&elf::demangle(&sym.name), 40))
                    .trim_end()
                    .to_string(),
            });
        }
        for c in self.code() {
            spans.push(Span {
                range: c.file,
                prefix: c.section,
                name: short(&c.name, 40),
            });
        }
        spans.retain(|s| !s.name.is_empty());
        spans.sort_by_key(|s| (s.range.start, s.range.end));
        spans
    }

    /// The functions of every executable section, in address order,
    /// each once (aliases dropped), clipped to its section.
    pub fn code(&self) -> Vec<Code> {
        let mut out: Vec<Code> = Vec::new();
        for s in self.elf.sections.iter() {
            if s.flags & elf::SHF_EXECINSTR == 0 || !s.in_file() {
                continue;
            }
            let end = s.addr.saturating_add(s.size);
            let mut funcs: Vec<&elf::Symbol> = self
                .elf
                .symbols
                .iter()
                .filter(|y| y.kind == elf::STT_FUNC && y.value >= s.addr && y.value < end)
                .collect();
            funcs.sort_by_key(|y| (y.value, std::cmp::Reverse(y.size)));
            let mut at = s.addr;
            for y in funcs {
                if y.value < at {
                    continue;
                }
                let stop = y.value.saturating_add(y.size.max(1)).min(end);
                let name = elf::demangle(&y.name);
                out.push(Code {
                    section: s.name.clone(),
                    krate: krate(&name, &self.crate_name),
                    name,
                    addr: y.value,
                    size: stop - y.value,
                    file: s.offset + (y.value - s.addr)..s.offset + (stop - s.addr),
                });
                at = stop;
            }
        }
        out
    }

    /// The region that holds file offset `off`.
    pub fn region_at(&self, off: u64) -> Option<&Region> {
        self.regions.iter().find(|r| r.range.contains(&off))
    }

    /// The name of a region, as its line says it.
    pub fn region_name(&self, r: &Region) -> String {
        match r.part {
            Part::Header => format!("ELF header ({})", struct_name(self.elf.class, "Ehdr")),
            Part::ProgramHeaders => format!(
                "program header table: {} x {} ({} B)",
                self.elf.programs.len(),
                struct_name(self.elf.class, "Phdr"),
                self.elf.phentsize
            ),
            Part::SectionHeaders => format!(
                "section header table: {} x {} ({} B)",
                self.elf.sections.len(),
                struct_name(self.elf.class, "Shdr"),
                self.elf.shentsize
            ),
            Part::Section(i) => self.elf.sections[i].name.clone(),
            Part::Gap => self.gap_name(&r.range),
        }
    }

    /// A region's name in a few words: `ELF header`, `.text`, `padding`.
    pub fn short_name(&self, part: &Part) -> String {
        match part {
            Part::Header => "ELF header".into(),
            Part::ProgramHeaders => "program headers".into(),
            Part::SectionHeaders => "section headers".into(),
            Part::Section(i) => self.elf.sections[*i].name.clone(),
            Part::Gap => "padding".into(),
        }
    }

    /// `padding (zeros)`, or what else the bytes between regions are.
    fn gap_name(&self, range: &Range<u64>) -> String {
        let bytes =
            elf::slice(self.bytes, range.start, range.end - range.start).unwrap_or_default();
        let zeros = bytes.iter().all(|&b| b == 0);
        let phend = self.elf.phoff + self.elf.programs.len() as u64 * self.elf.phentsize;
        let ent = self.elf.phentsize;
        if zeros && range.start == phend && ent > 0 && (range.end - range.start).is_multiple_of(ent)
        {
            let n = (range.end - range.start) / ent;
            return format!(
                "room for {n} more program header{} (zeros)",
                if n == 1 { "" } else { "s" }
            );
        }
        if zeros {
            "padding (zeros)".into()
        } else {
            "padding (not zeros)".into()
        }
    }

    /// The PT_LOADs whose file bytes include `range`, as `ph[N]`.
    pub fn loaded_by(&self, range: &Range<u64>) -> Vec<usize> {
        self.elf
            .loads()
            .filter(|(_, p)| {
                p.filesz > 0
                    && p.offset < range.end
                    && p.offset.saturating_add(p.filesz) > range.start
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The PT_LOADs whose mapped file pages hold some of `range` though
    /// their segment does not: the bytes are in memory as page slack.
    pub fn slack_of(&self, range: &Range<u64>) -> Vec<usize> {
        let own = self.loaded_by(range);
        self.elf
            .loads()
            .filter(|(i, p)| {
                !own.contains(i)
                    && maps_lines(p).iter().any(|m| {
                        m.file
                            && m.offset < range.end
                            && m.offset.saturating_add(m.end - m.start) > range.start
                    })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// How many PT_LOADs there are, if there are several and every one
    /// starts in file page 0: the same file page is then mapped once per
    /// PT_LOAD (each maps line shows offset 00000000).
    pub fn loads_in_page_0(&self) -> Option<usize> {
        let n = self.elf.segments(elf::PT_LOAD).count();
        let page_0 = self
            .elf
            .segments(elf::PT_LOAD)
            .all(|p| page_start(p.offset) == 0);
        (n > 1 && page_0).then_some(n)
    }

    /// Whether the file is ET_DYN: addresses are link addresses, the
    /// kernel adds a load offset.
    pub fn moves(&self) -> bool {
        self.elf.kind == elf::ET_DYN
    }
}

/// A function of an executable section.
#[derive(Clone, Debug)]
pub struct Code {
    pub section: String,
    /// `minimal`, `sys`, `core`, or `(C)`.
    pub krate: String,
    pub name: String,
    pub addr: u64,
    pub size: u64,
    pub file: Range<u64>,
}

/// The functions crates/sys defines under C names (rt.rs: what LLVM
/// calls for copies and compares; arch.rs: the entry points).
const SYS_C_NAMES: &[&str] = &[
    "_start",
    "_start_pie",
    "memcpy",
    "memmove",
    "memset",
    "memcmp",
    "bcmp",
    "strlen",
    "rust_eh_personality",
];

/// The crate a function comes from, by its demangled name: the first
/// path segment (`sys::out::Line::str` is sys, `<sys::args::Cli as
/// core::iter::Iterator>::next` too); `main` is the demo's (sys::entry!
/// expands in the demo); libcore's and compiler_builtins' code counts as
/// `core`; other C names as `(C)`.
pub fn krate(name: &str, demo: &str) -> String {
    if SYS_C_NAMES.contains(&name) {
        return "sys".into();
    }
    if name == "main" {
        return demo.into();
    }
    let path = name.trim_start_matches(['<', '&', '*']);
    let path = path.strip_prefix("mut ").unwrap_or(path);
    match path.split_once("::") {
        Some((first, _)) if first == "sys" || first == demo => first.to_string(),
        Some((first, _)) if ["core", "compiler_builtins", "alloc"].contains(&first) => {
            "core".into()
        }
        Some((first, _)) if !first.contains(' ') => first.to_string(),
        _ if name.starts_with('<') => "core".into(),
        _ => "(C)".into(),
    }
}

/// `Elf64_Phdr` or `Elf32_Phdr`.
pub fn struct_name(class: u8, what: &str) -> String {
    let bits = if class == elf::ELFCLASS32 { 32 } else { 64 };
    format!("Elf{bits}_{what}")
}

/// `text`, cut to `max` characters with `…`.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Bytes as `7f 45 4c 46`.
pub fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A string as a C or Rust literal would show it: `\n`, `\x7f`, `\"`.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\n' => s += "\\n",
            b'\t' => s += "\\t",
            b'"' => s += "\\\"",
            b'\\' => s += "\\\\",
            0x20..=0x7e => s.push(c as char),
            _ => s += &format!("\\x{c:02x}"),
        }
    }
    s
}

/// `r-xp`: a PT_LOAD's p_flags as maps shows the mapping (private).
pub fn perms(flags: u32) -> String {
    let f = |bit, c| if flags & bit != 0 { c } else { '-' };
    format!(
        "{}{}{}p",
        f(elf::PF_R, 'r'),
        f(elf::PF_W, 'w'),
        f(elf::PF_X, 'x')
    )
}

/// The lines of /proc/PID/maps one PT_LOAD becomes (link addresses;
/// add the load offset of an ET_DYN): the file part, then the anonymous
/// zero pages where p_memsz goes past the file part's last page. As
/// fs/binfmt_elf.c elf_map and elf_load do it.
pub fn maps_lines(p: &elf::ProgramHeader) -> Vec<MapsLine> {
    let mut lines = Vec::new();
    let start = page_start(p.vaddr);
    let file_end = p.vaddr.saturating_add(p.filesz);
    let mem_end = p.vaddr.saturating_add(p.memsz);
    let mut anon_from = start;
    if p.filesz > 0 {
        let end = page_end(file_end);
        lines.push(MapsLine {
            start,
            end,
            perms: perms(p.flags),
            offset: page_start(p.offset),
            file: true,
        });
        anon_from = end;
    }
    let anon_to = page_end(mem_end);
    if p.memsz > p.filesz && anon_to > anon_from {
        // vm_brk_flags: readable and writable whatever p_flags says,
        // executable if PF_X.
        let x = if p.flags & elf::PF_X != 0 { 'x' } else { '-' };
        lines.push(MapsLine {
            start: anon_from,
            end: anon_to,
            perms: format!("rw{x}p"),
            offset: 0,
            file: false,
        });
    }
    lines
}

/// One line of /proc/PID/maps, as computed from a program header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapsLine {
    pub start: u64,
    pub end: u64,
    pub perms: String,
    pub offset: u64,
    /// Backed by the file (else anonymous zero pages).
    pub file: bool,
}

impl MapsLine {
    /// `00401000-00402000 r-xp 00000000`, as the kernel prints it (%08lx).
    pub fn text(&self, load: u64) -> String {
        format!(
            "{:08x}-{:08x} {} {:08x}",
            self.start.wrapping_add(load),
            self.end.wrapping_add(load),
            self.perms,
            self.offset
        )
    }
}

/// ANSI colours for regions, or nothing.
pub fn paint(on: bool, index: usize, text: &str) -> String {
    // Six colours that read on dark and light terminals.
    const COLOURS: [&str; 6] = ["36", "33", "35", "32", "34", "31"];
    if on && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", COLOURS[index % COLOURS.len()])
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_by_name() {
        assert_eq!(krate("minimal::main", "minimal"), "minimal");
        assert_eq!(krate("main", "minimal"), "minimal");
        assert_eq!(krate("_start", "minimal"), "sys");
        assert_eq!(krate("memcpy", "stop"), "sys");
        assert_eq!(krate("sys::out::Line::str", "stop"), "sys");
        assert_eq!(
            krate(
                "<sys::args::Cli as core::iter::traits::iterator::Iterator>::next",
                "stop"
            ),
            "sys"
        );
        assert_eq!(krate("core::panicking::panic", "stop"), "core");
        assert_eq!(krate("compiler_builtins::mem::memcpy", "stop"), "core");
        assert_eq!(krate("__libc_start_main", "true"), "(C)");
    }

    #[test]
    fn maps_lines_round_to_pages() {
        let elf = Elf::read(&std::env::current_exe().unwrap()).unwrap();
        for p in elf.segments(elf::PT_LOAD) {
            let lines = maps_lines(p);
            assert!(!lines.is_empty());
            assert_eq!(lines[0].start % PAGE, 0);
            assert_eq!(lines.last().unwrap().end % PAGE, 0);
        }
        assert_eq!(escape(b"\x7fELF\n\""), "\\x7fELF\\n\\\"");
        assert_eq!(page_end(0x401001), 0x402000);
        assert_eq!(page_end(0x401000), 0x401000);
    }
}
