//! A small ELF64 little-endian reader: enough to check how a demo was
//! linked and to say which section and symbol an address belongs to.
//!
//! Layouts and constants: `elf(5)` and the kernel's `include/uapi/linux/elf.h`.

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_RELA: u32 = 4;
pub const SHT_NOBITS: u32 = 8;
pub const SHF_ALLOC: u64 = 2;
pub const R_X86_64_RELATIVE: u32 = 8;
/// `STT_FUNC`, `STT_OBJECT`: the low nibble of `st_info`.
pub const STT_OBJECT: u8 = 1;
pub const STT_FUNC: u8 = 2;

#[derive(Clone, Debug)]
pub struct ProgramHeader {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

impl ProgramHeader {
    /// `R`, `RW`, `R E` style, as readelf prints it.
    pub fn flags_str(&self) -> String {
        let f = |bit, c| if self.flags & bit != 0 { c } else { ' ' };
        format!("{}{}{}", f(PF_R, 'R'), f(PF_W, 'W'), f(PF_X, 'E'))
            .trim_end()
            .to_string()
    }
}

#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub entsize: u64,
}

impl Section {
    /// Takes room in memory when the program runs (.text, .data, .bss, …).
    pub fn allocated(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }
}

#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub kind: u8,
    pub value: u64,
    pub size: u64,
}

#[derive(Clone, Debug)]
pub struct Elf {
    pub kind: u16,
    pub entry: u64,
    pub programs: Vec<ProgramHeader>,
    pub sections: Vec<Section>,
    pub symbols: Vec<Symbol>,
    /// The types of all relocations in SHT_RELA sections.
    pub relocations: Vec<u32>,
}

fn get<const N: usize>(b: &[u8], at: u64) -> Result<[u8; N], String> {
    let at = usize::try_from(at).map_err(|_| "offset out of range")?;
    b.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| format!("ELF file truncated at byte {at}"))
}
fn u16_at(b: &[u8], at: u64) -> Result<u16, String> {
    get(b, at).map(u16::from_le_bytes)
}
fn u32_at(b: &[u8], at: u64) -> Result<u32, String> {
    get(b, at).map(u32::from_le_bytes)
}
fn u64_at(b: &[u8], at: u64) -> Result<u64, String> {
    get(b, at).map(u64::from_le_bytes)
}
fn c_string(b: &[u8], at: u64) -> String {
    let rest = usize::try_from(at)
        .ok()
        .and_then(|a| b.get(a..))
        .unwrap_or_default();
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

impl Elf {
    pub fn parse(b: &[u8]) -> Result<Elf, String> {
        if b.get(..4) != Some(b"\x7fELF") {
            return Err("not an ELF file".into());
        }
        // EI_CLASS = 2 (64-bit), EI_DATA = 1 (little-endian)
        if b.get(4) != Some(&2) || b.get(5) != Some(&1) {
            return Err("not a 64-bit little-endian ELF file".into());
        }
        let kind = u16_at(b, 16)?;
        let entry = u64_at(b, 24)?;
        let (phoff, shoff) = (u64_at(b, 32)?, u64_at(b, 40)?);
        let (phentsize, phnum) = (u64::from(u16_at(b, 54)?), u64::from(u16_at(b, 56)?));
        let (shentsize, shnum) = (u64::from(u16_at(b, 58)?), u64::from(u16_at(b, 60)?));
        let shstrndx = u64::from(u16_at(b, 62)?);

        let mut programs = Vec::new();
        for i in 0..phnum {
            let p = phoff + i * phentsize;
            programs.push(ProgramHeader {
                kind: u32_at(b, p)?,
                flags: u32_at(b, p + 4)?,
                offset: u64_at(b, p + 8)?,
                vaddr: u64_at(b, p + 16)?,
                filesz: u64_at(b, p + 32)?,
                memsz: u64_at(b, p + 40)?,
            });
        }

        let mut raw = Vec::new();
        for i in 0..shnum {
            let s = shoff + i * shentsize;
            raw.push((
                u32_at(b, s)?,
                Section {
                    name: String::new(),
                    kind: u32_at(b, s + 4)?,
                    flags: u64_at(b, s + 8)?,
                    addr: u64_at(b, s + 16)?,
                    offset: u64_at(b, s + 24)?,
                    size: u64_at(b, s + 32)?,
                    entsize: u64_at(b, s + 56)?,
                },
                u32_at(b, s + 40)?,
            ));
        }
        let names = raw
            .get(shstrndx as usize)
            .map(|(_, s, _)| s.offset)
            .unwrap_or(0);
        let mut sections = Vec::new();
        let mut symbols = Vec::new();
        let mut relocations = Vec::new();
        for (name, mut section, link) in raw.iter().cloned() {
            section.name = c_string(b, names + u64::from(name));
            if section.kind == SHT_SYMTAB && section.entsize == 24 {
                let strtab = raw
                    .get(link as usize)
                    .map(|(_, s, _)| s.offset)
                    .unwrap_or(0);
                for i in 0..section.size / 24 {
                    let s = section.offset + i * 24;
                    let info = get::<1>(b, s + 4)?[0];
                    symbols.push(Symbol {
                        name: c_string(b, strtab + u64::from(u32_at(b, s)?)),
                        kind: info & 0xf,
                        value: u64_at(b, s + 8)?,
                        size: u64_at(b, s + 16)?,
                    });
                }
            }
            if section.kind == SHT_RELA && section.entsize == 24 {
                for i in 0..section.size / 24 {
                    // ELF64_R_TYPE(r_info): the low 32 bits.
                    relocations.push(u32_at(b, section.offset + i * 24 + 8)?);
                }
            }
            sections.push(section);
        }
        Ok(Elf {
            kind,
            entry,
            programs,
            sections,
            symbols,
            relocations,
        })
    }

    pub fn read(path: &std::path::Path) -> Result<Elf, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Elf::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn segments(&self, kind: u32) -> impl Iterator<Item = &ProgramHeader> {
        self.programs.iter().filter(move |p| p.kind == kind)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Allocated sections that overlap `start..end` (addresses as linked;
    /// for a PIE, subtract the load offset first).
    pub fn sections_in(&self, start: u64, end: u64) -> Vec<&Section> {
        self.sections
            .iter()
            .filter(|s| s.allocated() && s.size > 0 && s.addr < end && s.addr + s.size > start)
            .collect()
    }

    /// The function or object symbol that covers `addr`, if any.
    pub fn symbol_at(&self, addr: u64) -> Option<&Symbol> {
        self.symbols.iter().find(|s| {
            (s.kind == STT_FUNC || s.kind == STT_OBJECT)
                && (s.value..s.value + s.size.max(1)).contains(&addr)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_test_binary_itself() {
        let me = std::env::current_exe().unwrap();
        let elf = Elf::read(&me).unwrap();
        assert!(elf.kind == ET_DYN || elf.kind == ET_EXEC);
        assert!(elf.segments(PT_LOAD).count() >= 2);
        let text = elf.section(".text").expect(".text");
        assert!(text.allocated() && text.size > 0);
        assert!(elf.entry >= text.addr && elf.entry < text.addr + text.size);
    }

    #[test]
    fn rejects_what_is_not_elf64() {
        assert!(Elf::parse(b"").is_err());
        assert!(Elf::parse(b"#!/bin/sh\n").is_err());
        let mut header = vec![0x7f, b'E', b'L', b'F', 1, 1];
        assert!(Elf::parse(&header).is_err(), "32-bit");
        header[4] = 2;
        assert!(Elf::parse(&header).is_err(), "truncated");
    }

    #[test]
    fn flags_print_like_readelf() {
        let p = |flags| ProgramHeader {
            kind: PT_LOAD,
            flags,
            offset: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
        };
        assert_eq!(p(PF_R).flags_str(), "R");
        assert_eq!(p(PF_R | PF_X).flags_str(), "R E");
        assert_eq!(p(PF_R | PF_W).flags_str(), "RW");
    }
}
