//! The default listing: the file region by region, in file order, each
//! header field by field with its class, each PT_LOAD with the maps
//! lines it becomes, and the contents of each section.

use std::fmt::Write;
use std::ops::Range;

use procfs::elf::{self, Field, Part, ProgramHeader, Section};

use crate::kernel::{self, Class};
use crate::{Anatomy, Options, escape, hex_bytes, maps_lines, paint, short};

/// How many entries a long list shows without `--all`.
pub const LIST_LIMIT: usize = 24;

/// Everything about the file, as text.
pub fn explain(a: &Anatomy, o: &Options, shown: &str) -> String {
    let mut out = String::new();
    let e = &a.elf;
    let entry = e
        .symbol_at(e.entry)
        .map(|s| format!(" ({})", elf::demangle(&s.name)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{shown}: {} {} {}, {} B, entry {:#x}{entry}",
        kernel::decode("e_ident[EI_CLASS]", e.class.into(), &[]),
        kernel::decode("e_machine", e.machine.into(), &[]),
        kernel::decode("e_type", e.kind.into(), &[]),
        e.file_size,
        e.entry
    );
    let _ = writeln!(
        out,
        "fields: OFFSET  BYTES  NAME  VALUE  CLASS  what it means; the loader (fs/binfmt_elf.c):\n  \
         validated: some values make execve fail; used: decides what is mapped or run; ignored: never read"
    );
    for (i, r) in a.regions.iter().enumerate() {
        let head = format!(
            "{:#06x}-{:#06x}  {:>5} B  {}{}",
            r.range.start,
            r.range.end,
            r.range.end - r.range.start,
            a.region_name(r),
            region_note(a, &r.part, &r.range)
        );
        let _ = writeln!(out, "\n{}", paint(o.colour, i, &head));
        match r.part {
            Part::Header => header(a, &mut out),
            Part::ProgramHeaders => programs(a, &mut out),
            Part::SectionHeaders => section_headers(a, &mut out),
            Part::Section(s) => contents(a, o, s, &mut out),
            Part::Gap => gap(a, &r.range, &mut out),
        }
    }
    summary(a, &mut out);
    out
}

/// `  (SHT_PROGBITS SHF_ALLOC, at 0x400120, in ph[0])` for a section.
fn region_note(a: &Anatomy, part: &Part, range: &Range<u64>) -> String {
    let Part::Section(i) = *part else {
        if *part == Part::Gap {
            return String::new();
        }
        let loads: Vec<String> = a
            .loaded_by(range)
            .iter()
            .map(|p| format!("ph[{p}]"))
            .collect();
        return if loads.is_empty() {
            format!("  (not loaded{})", slack_words(a, range))
        } else {
            format!("  (loaded by {})", loads.join(" "))
        };
    };
    let s = &a.elf.sections[i];
    let place = if s.allocated() {
        let loads: Vec<String> = a
            .loaded_by(range)
            .iter()
            .map(|p| format!("ph[{p}]"))
            .collect();
        if loads.is_empty() {
            format!(", at {:#x}, in no PT_LOAD", s.addr)
        } else {
            format!(", at {:#x}, loaded by {}", s.addr, loads.join(" "))
        }
    } else {
        format!(", not loaded{}", slack_words(a, range))
    };
    let flags = if s.flags == 0 {
        String::new()
    } else {
        format!(" {}", kernel::sh_flags_name(s.flags))
    };
    format!("  ({}{flags}{place})", kernel::sh_type_name(s.kind))
}

/// One field: `    0x0018  3c 11 40 00 00 00 00 00  e_entry  0x40113c  used  where …`.
pub fn field_line(a: &Anatomy, f: &Field, value: &str, class: Class, words: &str) -> String {
    let raw = elf::slice(a.bytes, f.offset, f.size).unwrap_or_default();
    format!(
        "    {:#06x}  {:<23}  {:<22} {:<16} {:<9}  {}",
        f.offset,
        hex_bytes(raw),
        f.name,
        value,
        class.word(),
        words
    )
}

fn decoded(a: &Anatomy, f: &Field) -> String {
    let raw = elf::slice(a.bytes, f.offset, f.size).unwrap_or_default();
    kernel::decode(f.name, f.value, raw)
}

fn header(a: &Anatomy, out: &mut String) {
    for f in &a.elf.header {
        let (class, words) = kernel::header_field(f.name, &a.elf);
        let _ = writeln!(out, "{}", field_line(a, f, &decoded(a, f), class, &words));
    }
}

fn programs(a: &Anatomy, out: &mut String) {
    let e = &a.elf;
    for (i, p) in e.programs.iter().enumerate() {
        let _ = writeln!(
            out,
            "  ph[{i}] {} {}  file {:#x}-{:#x} ({} B), memory {:#x}-{:#x} ({} B)",
            kernel::p_type_name(p.kind),
            p.flags_str(),
            p.offset,
            p.offset.saturating_add(p.filesz),
            p.filesz,
            p.vaddr,
            p.vaddr.saturating_add(p.memsz),
            p.memsz
        );
        for f in &p.fields {
            let (class, words) = kernel::program_field(f.name, p, e);
            let _ = writeln!(out, "{}", field_line(a, f, &decoded(a, f), class, &words));
        }
        segment(a, i, p, out);
    }
    if let Some(n) = a.loads_in_page_0() {
        let _ = writeln!(
            out,
            "  every PT_LOAD starts in file page 0 (the file is {} B): each maps line shows offset 00000000,\n  \
             the same file page mapped {n} times, each time with other permissions",
            e.file_size
        );
    }
}

/// What a segment becomes: the maps lines of a PT_LOAD, the path of a
/// PT_INTERP, and so on.
fn segment(a: &Anatomy, i: usize, p: &ProgramHeader, out: &mut String) {
    let e = &a.elf;
    match p.kind {
        elf::PT_LOAD => {
            let inside: Vec<&str> = e
                .sections
                .iter()
                .filter(|s| {
                    s.allocated()
                        && s.size > 0
                        && s.addr >= p.vaddr
                        && s.addr < p.vaddr.saturating_add(p.memsz)
                })
                .map(|s| s.name.as_str())
                .collect();
            if !inside.is_empty() {
                let _ = writeln!(out, "    sections: {}", inside.join(" "));
            }
            for m in maps_lines(p) {
                if m.file {
                    let len = m.end - m.start;
                    let file = m.offset..m.offset.saturating_add(len);
                    let _ = writeln!(
                        out,
                        "    -> {}  the file's bytes {:#x}-{:#x}{}",
                        m.text(0),
                        file.start,
                        file.end,
                        if file.end > e.file_size {
                            format!(" (the file ends at {:#x}: zeros after it)", e.file_size)
                        } else {
                            String::new()
                        }
                    );
                    slack(a, p, &file, out);
                } else {
                    let _ = writeln!(
                        out,
                        "    -> {}  anonymous zero pages for the rest of p_memsz ({} B past p_filesz): rw-, x if PF_X, whatever p_flags says",
                        m.text(0),
                        p.memsz - p.filesz
                    );
                }
            }
            if p.memsz > p.filesz {
                let bss = p.vaddr.saturating_add(p.filesz)..p.vaddr.saturating_add(p.memsz);
                let statics = objects_in(a, &bss);
                let pages = if crate::page_end(bss.start) < bss.end {
                    ", then anonymous zero pages"
                } else {
                    ""
                };
                // elf_load: padzero's failure is ignored when the
                // segment is not writable, and the bytes stay.
                let clear = if p.flags & elf::PF_W != 0 {
                    "the loader clears the last file page\n    from p_filesz to its end (padzero: file bytes there read as zeros)"
                } else {
                    "not writable, so the loader cannot clear\n    the rest of the last file page: the file's bytes stay there"
                };
                let _ = writeln!(
                    out,
                    "    zero-filled tail {:#x}-{:#x} ({} B, no file bytes): {clear}{pages}{}",
                    bss.start,
                    bss.end,
                    bss.end - bss.start,
                    if statics.is_empty() {
                        String::new()
                    } else {
                        format!("; statics: {}", statics.join(", "))
                    }
                );
            }
            if a.moves() {
                let _ = writeln!(
                    out,
                    "    ET_DYN: these are link addresses; maps shows them plus a random load offset (page-aligned)"
                );
            }
            let _ = i;
        }
        elf::PT_INTERP => {
            let _ = writeln!(
                out,
                "    interpreter: \"{}\": the kernel maps it too and starts there; it maps the libraries",
                e.interp
                    .as_deref()
                    .map(|s| escape(s.as_bytes()))
                    .unwrap_or_default()
            );
        }
        elf::PT_GNU_STACK => {
            let _ = writeln!(
                out,
                "    [stack] will be {}",
                if p.flags & elf::PF_X != 0 {
                    "rwxp: executable"
                } else {
                    "rw-p: not executable"
                }
            );
        }
        kind => {
            if let Some(role) = segment_role(kind) {
                let _ = writeln!(out, "    {role}");
            }
        }
    }
}

/// What a segment of this type is for, where its type says all there is
/// to say: one line.
fn segment_role(kind: u32) -> Option<&'static str> {
    Some(match kind {
        elf::PT_DYNAMIC => {
            "the dynamic section: what ld.so needs (libraries, symbols, relocations)"
        }
        elf::PT_GNU_RELRO => "ld.so makes this range read-only after relocating it (mprotect)",
        elf::PT_TLS => "the template of thread-local storage, copied for each thread by libc",
        elf::PT_NOTE => "notes (build id, ABI tag, properties), for tools and ld.so",
        elf::PT_PHDR => "the program headers' own place in memory, for ld.so",
        elf::PT_GNU_EH_FRAME => "the unwinding table's index (.eh_frame_hdr), for unwinders",
        _ => return None,
    })
}

/// `, but in memory as page slack of ph[0] ph[1]`, if it is.
fn slack_words(a: &Anatomy, range: &Range<u64>) -> String {
    let pages: Vec<String> = a
        .slack_of(range)
        .iter()
        .map(|p| format!("ph[{p}]"))
        .collect();
    if pages.is_empty() {
        String::new()
    } else {
        format!(", but in memory: page slack of {}", pages.join(" "))
    }
}

/// The bytes of the file page(s) `file` that are not the segment's own:
/// mapped anyway, with the segment's permissions.
fn slack(a: &Anatomy, p: &ProgramHeader, file: &Range<u64>, out: &mut String) {
    let own = p.offset..p.offset.saturating_add(p.filesz);
    let end = file.end.min(a.elf.file_size);
    let mut parts = Vec::new();
    for r in [file.start..own.start.min(end), own.end.min(end)..end] {
        if r.start < r.end {
            let names = region_names(a, &r);
            parts.push(format!("{:#x}-{:#x} ({})", r.start, r.end, names.join(" ")));
        }
    }
    if !parts.is_empty() {
        let _ = writeln!(
            out,
            "       page slack: also mapped, not in this segment: {}",
            parts.join(", ")
        );
    }
}

/// Names of the regions that overlap `r`.
fn region_names(a: &Anatomy, r: &Range<u64>) -> Vec<String> {
    let mut names: Vec<String> = a
        .regions
        .iter()
        .filter(|x| x.range.start < r.end && x.range.end > r.start)
        .map(|x| a.short_name(&x.part))
        .collect();
    names.dedup();
    names
}

/// Object symbols whose address lies in `r`.
fn objects_in(a: &Anatomy, r: &Range<u64>) -> Vec<String> {
    a.elf
        .symbols
        .iter()
        .filter(|s| s.kind == elf::STT_OBJECT && r.contains(&s.value))
        .map(|s| format!("{} ({} B)", short(&elf::demangle(&s.name), 40), s.size))
        .collect()
}

fn section_headers(a: &Anatomy, out: &mut String) {
    for (i, s) in a.elf.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "  sh[{i}] {}",
            if s.name.is_empty() { "(none)" } else { &s.name }
        );
        for f in &s.fields {
            let value = if f.name == "sh_name" {
                format!("{} \"{}\"", f.value, escape(s.name.as_bytes()))
            } else {
                decoded(a, f)
            };
            let _ = writeln!(
                out,
                "{}",
                field_line(a, f, &value, Class::Ignored, kernel::section_field(f.name))
            );
        }
    }
}

/// What a section holds.
fn contents(a: &Anatomy, o: &Options, i: usize, out: &mut String) {
    let s = &a.elf.sections[i];
    if s.kind == elf::SHT_SYMTAB {
        symbols(a, o, s, out);
    } else if s.kind == elf::SHT_STRTAB {
        strings(a, o, s, out);
    } else if s.flags & elf::SHF_EXECINSTR != 0 {
        code(a, o, s, out);
    } else if s.name.starts_with(".rodata") || s.name == ".interp" {
        rodata(a, o, s, out);
    } else if s.allocated() && s.flags & elf::SHF_WRITE != 0 {
        let statics = objects_in(a, &(s.addr..s.addr.saturating_add(s.size)));
        let _ = writeln!(
            out,
            "    statics: {}",
            if statics.is_empty() {
                "(no symbols)".to_string()
            } else {
                statics.join(", ")
            }
        );
    } else {
        let _ = writeln!(
            out,
            "    {} B, not listed byte by byte{}",
            s.size,
            purpose(&s.name)
        );
    }
}

/// What a well-known section is for (the linkers' and ld.so's names).
fn purpose(name: &str) -> &'static str {
    match name {
        ".eh_frame" => ": unwinding tables (gdb's bt, panics that unwind)",
        ".eh_frame_hdr" => ": the index of .eh_frame (PT_GNU_EH_FRAME)",
        ".gcc_except_table" => ": landing pads for unwinding",
        ".dynsym" => ": dynamic symbols, for ld.so (or _start_pie)",
        ".gnu.hash" | ".hash" => ": hash table of .dynsym, for ld.so",
        ".rela.dyn" | ".rela.plt" | ".rel.dyn" | ".rel.plt" => {
            ": relocations, applied at start-up by ld.so (or _start_pie)"
        }
        ".dynamic" => ": what ld.so needs (PT_DYNAMIC)",
        ".got" | ".got.plt" => ": addresses filled in at start-up",
        ".plt" | ".plt.got" | ".plt.sec" => ": stubs that jump through the GOT",
        ".init_array" | ".fini_array" => ": constructors and destructors libc calls",
        ".gnu.version" | ".gnu.version_r" | ".gnu.version_d" => ": symbol versions, for ld.so",
        n if n.starts_with(".note") => ": notes (build id, ABI tag, properties)",
        n if n.starts_with(".debug") => ": DWARF debug information, for gdb",
        ".comment" => ": the compilers' names and versions",
        _ => "",
    }
}

/// Each item a listing shows (all with --all, else the first
/// [`LIST_LIMIT`]), written by `line`; then how many it left out.
fn listing<T>(o: &Options, items: &[T], out: &mut String, mut line: impl FnMut(&T, &mut String)) {
    let shown = if o.all {
        items.len()
    } else {
        items.len().min(LIST_LIMIT)
    };
    for item in &items[..shown] {
        line(item, out);
    }
    let left = items.len() - shown;
    if left > 0 {
        let _ = writeln!(out, "    … and {left} more (--all lists them)");
    }
}

fn symbols(a: &Anatomy, o: &Options, s: &Section, out: &mut String) {
    let l = a.elf.layout();
    let list: Vec<(usize, &elf::Symbol)> = a
        .elf
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, y)| y.at >= s.offset && y.at + l.sym_size <= s.offset + s.size)
        .collect();
    let _ = writeln!(
        out,
        "    {} symbols of {} B: names for gdb, nm, objdump; the loader never reads them",
        list.len(),
        l.sym_size
    );
    listing(o, &list, out, |(n, y), out| {
        let kind = match y.kind {
            elf::STT_NOTYPE => "NOTYPE",
            elf::STT_OBJECT => "OBJECT",
            elf::STT_FUNC => "FUNC",
            elf::STT_SECTION => "SECTION",
            elf::STT_FILE => "FILE",
            elf::STT_TLS => "TLS",
            _ => "?",
        };
        let bind = match y.bind {
            elf::STB_LOCAL => "LOCAL",
            elf::STB_GLOBAL => "GLOBAL",
            elf::STB_WEAK => "WEAK",
            _ => "?",
        };
        let _ = writeln!(
            out,
            "    {:#06x}  [{n}] {kind:<7} {bind:<6} {:#10x} {:>6} B  {}",
            y.at,
            y.value,
            y.size,
            short(&elf::demangle(&y.name), 60)
        );
    });
}

/// The NUL-terminated strings of a string table, with their offsets.
fn strings(a: &Anatomy, o: &Options, s: &Section, out: &mut String) {
    let bytes = elf::slice(a.bytes, s.offset, s.size).unwrap_or_default();
    let mut list = Vec::new();
    let mut at = 0;
    for piece in bytes.split(|&c| c == 0) {
        if !piece.is_empty() || at == 0 {
            list.push((at, piece));
        }
        at += piece.len() + 1;
    }
    let _ = writeln!(
        out,
        "    {} NUL-terminated names; the loader never reads them",
        list.len()
    );
    listing(o, &list, out, |(at, piece), out| {
        let _ = writeln!(
            out,
            "    {:#06x}  +{at:<5} \"{}\"",
            s.offset + *at as u64,
            short(&escape(piece), 70)
        );
    });
}

/// Read-only data: its printable strings (4 characters or more), each
/// with its offset; other bytes counted.
fn rodata(a: &Anatomy, o: &Options, s: &Section, out: &mut String) {
    let bytes = elf::slice(a.bytes, s.offset, s.size).unwrap_or_default();
    let text = |c: u8| (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\t';
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && text(bytes[i]) {
            i += 1;
        }
        if i - start >= 4 {
            runs.push(start..i);
        }
        if i == start {
            i += 1;
        }
    }
    let in_strings: usize = runs.iter().map(|r| r.len()).sum();
    let _ = writeln!(
        out,
        "    {} string{} ({in_strings} B), {} B of other constants",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        bytes.len() - in_strings
    );
    listing(o, &runs, out, |r, out| {
        let _ = writeln!(
            out,
            "    {:#06x}  {:#x}  \"{}\"",
            s.offset + r.start as u64,
            s.addr.wrapping_add(r.start as u64),
            short(&escape(&bytes[r.clone()]), 90)
        );
    });
}

/// Functions of an executable section, grouped by crate: the demo's own
/// lesson first, then sys, then core.
fn code(a: &Anatomy, o: &Options, s: &Section, out: &mut String) {
    let funcs: Vec<crate::Code> = a
        .code()
        .into_iter()
        .filter(|c| c.section == s.name)
        .collect();
    let mut crates: Vec<String> = Vec::new();
    for c in &funcs {
        if !crates.contains(&c.krate) {
            crates.push(c.krate.clone());
        }
    }
    let rank = |k: &str| match k {
        k if k == a.crate_name => 0,
        "sys" => 1,
        "core" => 2,
        _ => 3,
    };
    crates.sort_by_key(|k| rank(k));
    let covered: u64 = funcs.iter().map(|c| c.size).sum();
    for k in &crates {
        let mine: Vec<&crate::Code> = funcs.iter().filter(|c| &c.krate == k).collect();
        let bytes: u64 = mine.iter().map(|c| c.size).sum();
        let _ = writeln!(
            out,
            "    {k}: {} function{}, {bytes} B ({}% of the section)",
            mine.len(),
            if mine.len() == 1 { "" } else { "s" },
            bytes * 100 / s.size.max(1)
        );
        listing(o, &mine, out, |c, out| {
            let _ = writeln!(
                out,
                "      {:#06x}  {:#x}  {:>5} B  {}",
                c.file.start,
                c.addr,
                c.size,
                short(&c.name, 80)
            );
        });
    }
    if funcs.is_empty() {
        let _ = writeln!(
            out,
            "    no function symbols (stripped?): {} B of code",
            s.size
        );
    } else if s.size > covered {
        let _ = writeln!(
            out,
            "    {} B in no function: alignment between functions",
            s.size - covered
        );
    }
}

fn gap(a: &Anatomy, r: &Range<u64>, out: &mut String) {
    let next = a
        .regions
        .iter()
        .find(|x| x.range.start == r.end)
        .and_then(|x| match x.part {
            Part::Section(i) => Some(&a.elf.sections[i]),
            _ => None,
        });
    if let Some(s) = next.filter(|s| s.addralign > 1 && s.offset % s.addralign == 0) {
        let _ = writeln!(
            out,
            "    so that {} starts at a multiple of {} (its sh_addralign)",
            s.name, s.addralign
        );
    }
    let phend = a.elf.phoff + a.elf.programs.len() as u64 * a.elf.phentsize;
    if r.start == phend
        && a.region_name(&procfs::elf::Region {
            range: r.clone(),
            part: Part::Gap,
        })
        .starts_with("room")
    {
        let _ = writeln!(
            out,
            "    the linker sized the headers (SIZEOF_HEADERS) before it dropped a PT_LOAD that got no section"
        );
    }
    let loads = a.loaded_by(r);
    if loads.is_empty() {
        let _ = writeln!(out, "    in no segment{}", slack_words(a, r));
    } else {
        let names: Vec<String> = loads.iter().map(|p| format!("ph[{p}]")).collect();
        let _ = writeln!(out, "    loaded by {}", names.join(" "));
    }
}

/// How much of the file the loader reads, maps, or never looks at.
fn summary(a: &Anatomy, out: &mut String) {
    let e = &a.elf;
    let mut read = 0;
    for f in &e.header {
        if kernel::header_field(f.name, e).0 != Class::Ignored {
            read += f.size;
        }
    }
    for p in &e.programs {
        for f in &p.fields {
            if kernel::program_field(f.name, p, e).0 != Class::Ignored {
                read += f.size;
            }
        }
    }
    let mut mapped: Vec<Range<u64>> = e
        .segments(elf::PT_LOAD)
        .map(|p| p.offset..p.offset.saturating_add(p.filesz).min(e.file_size))
        .collect();
    mapped.sort_by_key(|r| r.start);
    let mut total = 0;
    let mut at = 0;
    for r in mapped {
        let start = r.start.max(at);
        if r.end > start {
            total += r.end - start;
            at = r.end;
        }
    }
    let _ = writeln!(
        out,
        "\nof {} B, the loader reads {read} B of header fields (validated or used) and maps {total} B as segments;\n\
         the other {} B are for tools only (and still in memory where they share a page with a segment)",
        e.file_size,
        e.file_size - total
    );
}
