//! `--budget`: where a demo's bytes go, by category. The parts of a row
//! add up to the file size.

use std::fmt::Write;

use procfs::elf::{self, Part};

use crate::Anatomy;

/// The columns, in order.
pub const COLUMNS: [&str; 11] = [
    "ehdr", "phdrs", "shdrs", "sym+str", ".rodata", "own", "sys", "core", ".data", "other", "pad",
];

/// One demo's bytes by category ([`COLUMNS`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub file: u64,
    pub parts: [u64; 11],
}

fn col(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).expect("a column")
}

pub fn row(a: &Anatomy) -> Row {
    let mut parts = [0u64; 11];
    let code = a.code();
    for r in &a.regions {
        let size = r.range.end - r.range.start;
        let column = match r.part {
            Part::Header => "ehdr",
            Part::ProgramHeaders => "phdrs",
            Part::SectionHeaders => "shdrs",
            Part::Gap => "pad",
            Part::Section(i) => {
                let s = &a.elf.sections[i];
                if matches!(s.kind, elf::SHT_SYMTAB | elf::SHT_STRTAB | elf::SHT_DYNSYM) {
                    "sym+str"
                } else if s.name.starts_with(".rodata") {
                    ".rodata"
                } else if s.flags & elf::SHF_EXECINSTR != 0 {
                    let mut covered = 0;
                    for c in code.iter().filter(|c| c.section == s.name) {
                        let k = if c.krate == a.crate_name {
                            "own"
                        } else if c.krate == "sys" {
                            "sys"
                        } else {
                            "core"
                        };
                        parts[col(k)] += c.size;
                        covered += c.size;
                    }
                    parts[col("pad")] += size - covered;
                    continue;
                } else if s.allocated()
                    && s.flags & elf::SHF_WRITE != 0
                    && s.kind == elf::SHT_PROGBITS
                {
                    ".data"
                } else {
                    "other"
                }
            }
        };
        parts[col(column)] += size;
    }
    Row {
        name: a.crate_name.clone(),
        file: a.elf.file_size,
        parts,
    }
}

/// The table: a row per demo, the size after `strip` next to the file's.
pub fn table(rows: &[(Row, Option<u64>)]) -> String {
    let mut out = format!("{:<9} {:>5} {:>8}", "demo", "file", "stripped");
    for c in COLUMNS {
        let _ = write!(out, " {c:>7}");
    }
    out.push('\n');
    for (r, stripped) in rows {
        let s = stripped.map_or("-".to_string(), |s| s.to_string());
        let _ = write!(out, "{:<9} {:>5} {:>8}", r.name, r.file, s);
        for p in r.parts {
            let _ = write!(out, " {p:>7}");
        }
        out.push('\n');
    }
    out += "ehdr, phdrs, shdrs: the three headers; sym+str: .symtab .strtab .shstrtab; own, sys, core: .text\n\
            by crate (the demo's lesson, crates/sys, libcore); other: the PIE's dynamic tables, unwinding\n\
            tables; pad: alignment, in the file and between functions. The parts add up to the file size.\n";
    out
}
