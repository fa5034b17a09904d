//! The one ELF reader of the host side: ELF64 and ELF32 (x86-64 and
//! i386), little-endian. The tour uses it to say which section and symbol
//! an address belongs to; `cargo elf` uses it to name every byte.
//!
//! Every header is read field by field from a table of (name, offset,
//! size) ([`FieldDef`]), so that each [`Field`] knows where it lies in the
//! file. The tables of both classes come from one list of fields and
//! their types per structure, as elf(5) declares them (two lists where
//! the classes order the fields differently). Every offset, count and size is checked against the file before
//! it is used, and nothing is allocated for more entries than the file can
//! hold: a hostile file gets a one-line error naming the field and its
//! offset, never a panic.
//!
//! Layouts and constants: `elf(5)` and the kernel's `include/uapi/linux/elf.h`.

use std::ops::Range;

pub const ELFMAG: &[u8; 4] = b"\x7fELF";
/// `e_ident[EI_CLASS]`.
pub const ELFCLASS32: u8 = 1;
pub const ELFCLASS64: u8 = 2;
/// `e_ident[EI_DATA]`: two's complement, little-endian.
pub const ELFDATA2LSB: u8 = 1;
pub const EV_CURRENT: u64 = 1;
pub const ET_NONE: u16 = 0;
pub const ET_REL: u16 = 1;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const ET_CORE: u16 = 4;
pub const EM_386: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const PT_NULL: u32 = 0;
pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PT_SHLIB: u32 = 5;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PT_GNU_RELRO: u32 = 0x6474_e552;
pub const PT_GNU_PROPERTY: u32 = 0x6474_e553;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
/// `e_phnum` of this value: the real count is section 0's `sh_info`.
pub const PN_XNUM: u64 = 0xffff;
pub const SHN_UNDEF: u64 = 0;
/// Section indices from here up are special (SHN_ABS, SHN_COMMON, …).
pub const SHN_LORESERVE: u64 = 0xff00;
pub const SHN_ABS: u64 = 0xfff1;
/// `e_shstrndx` of this value: the real index is section 0's `sh_link`.
pub const SHN_XINDEX: u64 = 0xffff;
pub const SHT_NULL: u32 = 0;
pub const SHT_PROGBITS: u32 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_STRTAB: u32 = 3;
pub const SHT_RELA: u32 = 4;
pub const SHT_HASH: u32 = 5;
pub const SHT_DYNAMIC: u32 = 6;
pub const SHT_NOTE: u32 = 7;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_REL: u32 = 9;
pub const SHT_DYNSYM: u32 = 11;
pub const SHT_INIT_ARRAY: u32 = 14;
pub const SHT_FINI_ARRAY: u32 = 15;
pub const SHT_GNU_HASH: u32 = 0x6fff_fff6;
pub const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
pub const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
pub const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;
pub const SHF_WRITE: u64 = 1;
pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXECINSTR: u64 = 4;
pub const SHF_MERGE: u64 = 0x10;
pub const SHF_STRINGS: u64 = 0x20;
pub const SHF_INFO_LINK: u64 = 0x40;
pub const SHF_TLS: u64 = 0x400;
pub const R_X86_64_RELATIVE: u32 = 8;
pub const R_386_RELATIVE: u32 = 8;
/// `STT_*`: the low nibble of `st_info`; `STB_*` the high one.
pub const STT_NOTYPE: u8 = 0;
pub const STT_OBJECT: u8 = 1;
pub const STT_FUNC: u8 = 2;
pub const STT_SECTION: u8 = 3;
pub const STT_FILE: u8 = 4;
pub const STT_TLS: u8 = 6;
pub const STB_LOCAL: u8 = 0;
pub const STB_GLOBAL: u8 = 1;
pub const STB_WEAK: u8 = 2;

/// One field of an ELF structure: its name as in elf(5), where it lies
/// in the structure, and how many bytes it has (1, 2, 4, 8; `e_ident`
/// parts may be longer and are then read as bytes, value 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub offset: u64,
    pub size: u64,
}

const fn f(name: &'static str, offset: u64, size: u64) -> FieldDef {
    FieldDef { name, offset, size }
}

/// The type of a field as elf(5) declares it: the width of the first
/// two is the same in both classes; `Addr` stands for every type as wide
/// as an address (`Elf64_Addr`, `Elf64_Off`, `Elf64_Xword`: 8 bytes;
/// `Elf32_Addr`, `Elf32_Off`, `Elf32_Word` in their place: 4).
#[derive(Clone, Copy)]
enum Type {
    /// `unsigned char[N]`.
    Bytes(u64),
    /// `Elf_Half`.
    Half,
    /// `Elf_Word` (and `Elf32_Sword`'s width).
    Word,
    Addr,
}

/// A structure as elf(5) declares it: its fields in order.
type Decl<const N: usize> = [(&'static str, Type); N];

/// The fields of `decl` one after the other, as C lays them out: no ELF
/// structure has padding, so each field starts where the last ends.
/// `addr` is the width of an address (8 or 4).
const fn lay_out<const N: usize>(decl: Decl<N>, addr: u64) -> [FieldDef; N] {
    let mut out = [f("", 0, 0); N];
    let (mut i, mut at) = (0, 0);
    while i < N {
        let size = match decl[i].1 {
            Type::Bytes(n) => n,
            Type::Half => 2,
            Type::Word => 4,
            Type::Addr => addr,
        };
        out[i] = f(decl[i].0, at, size);
        at += size;
        i += 1;
    }
    out
}

/// The size of a structure laid out by [`lay_out`].
const fn size_of(defs: &[FieldDef]) -> u64 {
    match defs.last() {
        Some(last) => last.offset + last.size,
        None => 0,
    }
}

/// `Elf64_Ehdr` and `Elf32_Ehdr`: the same fields in the same order,
/// after the 16 bytes of `e_ident`.
const EHDR: Decl<20> = [
    ("e_ident[EI_MAG0..3]", Type::Bytes(4)),
    ("e_ident[EI_CLASS]", Type::Bytes(1)),
    ("e_ident[EI_DATA]", Type::Bytes(1)),
    ("e_ident[EI_VERSION]", Type::Bytes(1)),
    ("e_ident[EI_OSABI]", Type::Bytes(1)),
    ("e_ident[EI_ABIVERSION]", Type::Bytes(1)),
    ("e_ident[EI_PAD]", Type::Bytes(7)),
    ("e_type", Type::Half),
    ("e_machine", Type::Half),
    ("e_version", Type::Word),
    ("e_entry", Type::Addr),
    ("e_phoff", Type::Addr),
    ("e_shoff", Type::Addr),
    ("e_flags", Type::Word),
    ("e_ehsize", Type::Half),
    ("e_phentsize", Type::Half),
    ("e_phnum", Type::Half),
    ("e_shentsize", Type::Half),
    ("e_shnum", Type::Half),
    ("e_shstrndx", Type::Half),
];
/// `EI_NIDENT`.
pub const EI_NIDENT: u64 = 16;

/// `Elf64_Shdr` and `Elf32_Shdr`: the same order too.
const SHDR: Decl<10> = [
    ("sh_name", Type::Word),
    ("sh_type", Type::Word),
    ("sh_flags", Type::Addr),
    ("sh_addr", Type::Addr),
    ("sh_offset", Type::Addr),
    ("sh_size", Type::Addr),
    ("sh_link", Type::Word),
    ("sh_info", Type::Word),
    ("sh_addralign", Type::Addr),
    ("sh_entsize", Type::Addr),
];

/// `Elf64_Phdr`: p_flags second, next to p_type, for alignment.
const PHDR64: Decl<8> = [
    ("p_type", Type::Word),
    ("p_flags", Type::Word),
    ("p_offset", Type::Addr),
    ("p_vaddr", Type::Addr),
    ("p_paddr", Type::Addr),
    ("p_filesz", Type::Addr),
    ("p_memsz", Type::Addr),
    ("p_align", Type::Addr),
];
/// `Elf32_Phdr`: p_flags after p_memsz.
const PHDR32: Decl<8> = [
    ("p_type", Type::Word),
    ("p_offset", Type::Addr),
    ("p_vaddr", Type::Addr),
    ("p_paddr", Type::Addr),
    ("p_filesz", Type::Addr),
    ("p_memsz", Type::Addr),
    ("p_flags", Type::Word),
    ("p_align", Type::Addr),
];

/// `Elf64_Sym`: the small fields before st_value.
const SYM64: Decl<6> = [
    ("st_name", Type::Word),
    ("st_info", Type::Bytes(1)),
    ("st_other", Type::Bytes(1)),
    ("st_shndx", Type::Half),
    ("st_value", Type::Addr),
    ("st_size", Type::Addr),
];
/// `Elf32_Sym`: st_value and st_size first.
const SYM32: Decl<6> = [
    ("st_name", Type::Word),
    ("st_value", Type::Addr),
    ("st_size", Type::Addr),
    ("st_info", Type::Bytes(1)),
    ("st_other", Type::Bytes(1)),
    ("st_shndx", Type::Half),
];

/// The layout of the structures of one class.
#[derive(Debug)]
pub struct Layout {
    pub ehdr: &'static [FieldDef],
    pub ehdr_size: u64,
    pub phdr: &'static [FieldDef],
    pub phdr_size: u64,
    pub shdr: &'static [FieldDef],
    pub shdr_size: u64,
    pub sym: &'static [FieldDef],
    pub sym_size: u64,
    /// Bytes of an address (`Elf64_Addr` or `Elf32_Addr`).
    pub addr: u64,
}

/// The layout of one class from its declarations.
const fn class_layout(
    ehdr: &'static [FieldDef],
    phdr: &'static [FieldDef],
    shdr: &'static [FieldDef],
    sym: &'static [FieldDef],
    addr: u64,
) -> Layout {
    Layout {
        ehdr,
        ehdr_size: size_of(ehdr),
        phdr,
        phdr_size: size_of(phdr),
        shdr,
        shdr_size: size_of(shdr),
        sym,
        sym_size: size_of(sym),
        addr,
    }
}

/// `Elf64_Ehdr` (64 B), `Elf64_Phdr` (56 B), `Elf64_Shdr` (64 B),
/// `Elf64_Sym` (24 B).
pub const LAYOUT64: Layout = class_layout(
    &lay_out(EHDR, 8),
    &lay_out(PHDR64, 8),
    &lay_out(SHDR, 8),
    &lay_out(SYM64, 8),
    8,
);

/// `Elf32_Ehdr` (52 B), `Elf32_Phdr` (32 B), `Elf32_Shdr` (40 B),
/// `Elf32_Sym` (16 B).
pub const LAYOUT32: Layout = class_layout(
    &lay_out(EHDR, 4),
    &lay_out(PHDR32, 4),
    &lay_out(SHDR, 4),
    &lay_out(SYM32, 4),
    4,
);

/// One field as read from the file: where it is and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// File offset of its first byte.
    pub offset: u64,
    pub size: u64,
    /// The little-endian value (0 for a field longer than 8 bytes).
    pub value: u64,
}

impl Field {
    /// The field's bytes in the file.
    pub fn range(&self) -> Range<u64> {
        self.offset..self.offset + self.size
    }
}

/// The fields of one record, found by name.
fn value(fields: &[Field], name: &str) -> u64 {
    fields
        .iter()
        .find(|f| f.name == name)
        .map_or(0, |f| f.value)
}

#[derive(Clone, Debug)]
pub struct ProgramHeader {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
    /// Its fields, with their file offsets.
    pub fields: Vec<Field>,
}

impl ProgramHeader {
    /// `R`, `RW`, `R E` style, as readelf prints it.
    pub fn flags_str(&self) -> String {
        let f = |bit, c| if self.flags & bit != 0 { c } else { ' ' };
        format!("{}{}{}", f(PF_R, 'R'), f(PF_W, 'W'), f(PF_X, 'E'))
            .trim_end()
            .to_string()
    }

    /// The file bytes it names (`p_offset`, `p_filesz`).
    pub fn file_range(&self) -> Range<u64> {
        self.offset..self.offset.saturating_add(self.filesz)
    }

    /// Where its file header lies in the file.
    pub fn at(&self) -> u64 {
        self.fields.first().map_or(0, |f| f.offset)
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
    pub link: u32,
    pub info: u32,
    pub addralign: u64,
    pub entsize: u64,
    /// Its header's fields, with their file offsets.
    pub fields: Vec<Field>,
}

impl Section {
    /// Takes room in memory when the program runs (.text, .data, .bss, …).
    pub fn allocated(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }

    /// Whether it has bytes in the file (not SHT_NOBITS, not SHT_NULL,
    /// not empty).
    pub fn in_file(&self) -> bool {
        self.kind != SHT_NOBITS && self.kind != SHT_NULL && self.size > 0
    }

    /// Its bytes in the file (empty if it has none).
    pub fn file_range(&self) -> Range<u64> {
        if self.in_file() {
            self.offset..self.offset + self.size
        } else {
            self.offset..self.offset
        }
    }
}

#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    /// `STT_*` (the low nibble of st_info).
    pub kind: u8,
    /// `STB_*` (the high nibble of st_info).
    pub bind: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
    /// File offset of its `Elf64_Sym`/`Elf32_Sym`.
    pub at: u64,
}

#[derive(Clone, Debug)]
pub struct Elf {
    /// `ELFCLASS32` or `ELFCLASS64`.
    pub class: u8,
    pub machine: u16,
    pub kind: u16,
    pub entry: u64,
    /// The size of the file read.
    pub file_size: u64,
    /// The ELF header's fields.
    pub header: Vec<Field>,
    pub phoff: u64,
    pub phentsize: u64,
    pub shoff: u64,
    pub shentsize: u64,
    /// Index of the section names' section (`.shstrtab`), if any.
    pub shstrndx: Option<usize>,
    pub programs: Vec<ProgramHeader>,
    pub sections: Vec<Section>,
    /// The symbols of SHT_SYMTAB (not .dynsym).
    pub symbols: Vec<Symbol>,
    /// The types of all relocations in SHT_RELA and SHT_REL sections.
    pub relocations: Vec<u32>,
    /// The path in PT_INTERP, if there is one.
    pub interp: Option<String>,
}

/// `N B` and the file size, for errors.
fn past_end(len: u64) -> String {
    format!("past the end of the file ({len} B)")
}

/// Reads `size` (1..=8) bytes at `at` as a little-endian number.
fn number(b: &[u8], at: u64, size: u64) -> Option<u64> {
    let bytes = slice(b, at, size)?;
    if size > 8 {
        return Some(0);
    }
    Some(
        bytes
            .iter()
            .rev()
            .fold(0u64, |v, &byte| (v << 8) | u64::from(byte)),
    )
}

/// The bytes `start..start+len` of the file, checked.
pub fn slice(b: &[u8], start: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    b.get(start..end)
}

/// One structure at `at`: `what` names it in errors (`ph[2]`).
fn record(
    b: &[u8],
    at: u64,
    size: u64,
    defs: &[FieldDef],
    what: &str,
) -> Result<Vec<Field>, String> {
    let len = b.len() as u64;
    if at.checked_add(size).is_none_or(|end| end > len) {
        return Err(format!(
            "{what} at offset {at:#x} ({size} B): {}",
            past_end(len)
        ));
    }
    Ok(defs
        .iter()
        .map(|d| Field {
            name: d.name,
            offset: at + d.offset,
            size: d.size,
            // In range: the whole record is.
            value: number(b, at + d.offset, d.size).unwrap_or(0),
        })
        .collect())
}

/// Checks that `count` entries of `entsize` bytes from `start` lie in
/// the file; `what` names the fields for the error.
fn table_fits(len: u64, start: u64, count: u64, entsize: u64, what: &str) -> Result<(), String> {
    let end = count
        .checked_mul(entsize)
        .and_then(|n| n.checked_add(start));
    match end {
        Some(end) if end <= len => Ok(()),
        _ => Err(format!(
            "{what}: {count} entries of {entsize} B from offset {start:#x}: {}",
            past_end(len)
        )),
    }
}

/// The NUL-terminated string at `index` of the string table `table`
/// (a section's file range). `what` names the field for errors.
fn string(b: &[u8], table: &Range<u64>, index: u64, what: &str) -> Result<String, String> {
    let size = table.end - table.start;
    if index >= size {
        if index == 0 {
            return Ok(String::new());
        }
        return Err(format!(
            "{what} is {index:#x}: outside its string table ({size:#x} B at offset {:#x})",
            table.start
        ));
    }
    Ok(c_string(
        slice(b, table.start + index, size - index).unwrap_or_default(),
    ))
}

/// The bytes up to the first NUL (all if there is none), as text.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The field of `fields` called `name`, for errors: `ph[1] p_offset at offset 0x48`.
fn named(what: &str, fields: &[Field], name: &str) -> String {
    let at = fields
        .iter()
        .find(|f| f.name == name)
        .map_or(0, |f| f.offset);
    format!("{what} {name} at offset {at:#x}")
}

/// Checks that the bytes a header names (its offset and size fields)
/// lie in the file; the error names the field that points out of it.
fn bytes_in_file(
    len: u64,
    what: &str,
    fields: &[Field],
    (offset_name, offset): (&str, u64),
    (size_name, size): (&str, u64),
) -> Result<(), String> {
    if offset.checked_add(size).is_some_and(|end| end <= len) {
        return Ok(());
    }
    let field = if offset >= len {
        offset_name
    } else {
        size_name
    };
    Err(format!(
        "{} ({size:#x} B at offset {offset:#x}): {}",
        named(what, fields, field),
        past_end(len)
    ))
}

impl Elf {
    /// The layout of this file's class.
    pub fn layout(&self) -> &'static Layout {
        layout(self.class)
    }

    pub fn parse(b: &[u8]) -> Result<Elf, String> {
        let len = b.len() as u64;
        if len < EI_NIDENT {
            return Err(format!(
                "not an ELF file: {len} B, shorter than e_ident ({EI_NIDENT} B)"
            ));
        }
        if &b[..4] != ELFMAG {
            return Err(format!(
                "not an ELF file: e_ident[EI_MAG0..3] at offset 0x0 is {:02x} {:02x} {:02x} {:02x}, not 7f 45 4c 46",
                b[0], b[1], b[2], b[3]
            ));
        }
        let class = b[4];
        if class != ELFCLASS32 && class != ELFCLASS64 {
            return Err(format!(
                "e_ident[EI_CLASS] at offset 0x4 is {class}: neither ELFCLASS32 (1) nor ELFCLASS64 (2)"
            ));
        }
        if b[5] != ELFDATA2LSB {
            return Err(format!(
                "e_ident[EI_DATA] at offset 0x5 is {}: only ELFDATA2LSB (1, little-endian) is read",
                b[5]
            ));
        }
        let l = layout(class);
        let header = record(b, 0, l.ehdr_size, l.ehdr, "ELF header")?;
        let h = |name| value(&header, name);
        let (phoff, shoff) = (h("e_phoff"), h("e_shoff"));
        let (phentsize, shentsize) = (h("e_phentsize"), h("e_shentsize"));
        let mut phnum = h("e_phnum");
        let mut shnum = h("e_shnum");
        let mut shstrndx = h("e_shstrndx");
        let at = |name| named("", &header, name).trim_start().to_string();

        // Section 0 holds the counts that do not fit the ELF header.
        let section0 = if shoff != 0 {
            if shentsize < l.shdr_size {
                return Err(format!(
                    "{} is {shentsize}: smaller than a section header ({} B)",
                    at("e_shentsize"),
                    l.shdr_size
                ));
            }
            Some(record(
                b,
                shoff,
                l.shdr_size,
                l.shdr,
                "section header 0 (e_shoff)",
            )?)
        } else {
            None
        };
        let from0 = |what: &str, field: &str| -> Result<u64, String> {
            section0.as_ref().map(|s| value(s, field)).ok_or_else(|| {
                format!("{what}, but e_shoff is 0: there is no section 0 to hold it")
            })
        };
        if phnum == PN_XNUM {
            phnum = from0(
                &format!(
                    "{} is PN_XNUM (0xffff): the count is in section 0's sh_info",
                    at("e_phnum")
                ),
                "sh_info",
            )?;
        }
        if shnum == 0 && shoff != 0 {
            shnum = from0("", "sh_size")?;
        }
        if shoff == 0 {
            shnum = 0;
        }
        if shstrndx == SHN_XINDEX {
            shstrndx = from0(
                &format!(
                    "{} is SHN_XINDEX (0xffff): the index is in section 0's sh_link",
                    at("e_shstrndx")
                ),
                "sh_link",
            )?;
        }

        if phnum > 0 {
            if phentsize < l.phdr_size {
                return Err(format!(
                    "{} is {phentsize}: smaller than a program header ({} B)",
                    at("e_phentsize"),
                    l.phdr_size
                ));
            }
            table_fits(
                len,
                phoff,
                phnum,
                phentsize,
                &format!("{} and e_phnum", at("e_phoff")),
            )?;
        }
        if shnum > 0 {
            table_fits(
                len,
                shoff,
                shnum,
                shentsize,
                &format!("{} and e_shnum", at("e_shoff")),
            )?;
        }

        // Both tables lie in the file: at most len/entsize entries.
        let mut programs = Vec::with_capacity(phnum as usize);
        for i in 0..phnum {
            let what = format!("ph[{i}]");
            let fields = record(b, phoff + i * phentsize, l.phdr_size, l.phdr, &what)?;
            let v = |name| value(&fields, name);
            let p = ProgramHeader {
                kind: v("p_type") as u32,
                flags: v("p_flags") as u32,
                offset: v("p_offset"),
                vaddr: v("p_vaddr"),
                paddr: v("p_paddr"),
                filesz: v("p_filesz"),
                memsz: v("p_memsz"),
                align: v("p_align"),
                fields,
            };
            if p.filesz > 0 {
                bytes_in_file(
                    len,
                    &what,
                    &p.fields,
                    ("p_offset", p.offset),
                    ("p_filesz", p.filesz),
                )?;
            }
            programs.push(p);
        }

        let mut sections = Vec::with_capacity(shnum as usize);
        let mut names = Vec::with_capacity(shnum as usize);
        for i in 0..shnum {
            let what = format!("section [{i}]");
            let fields = record(b, shoff + i * shentsize, l.shdr_size, l.shdr, &what)?;
            let v = |name| value(&fields, name);
            let name = v("sh_name");
            let s = Section {
                name: String::new(),
                kind: v("sh_type") as u32,
                flags: v("sh_flags"),
                addr: v("sh_addr"),
                offset: v("sh_offset"),
                size: v("sh_size"),
                link: v("sh_link") as u32,
                info: v("sh_info") as u32,
                addralign: v("sh_addralign"),
                entsize: v("sh_entsize"),
                fields,
            };
            if s.in_file() {
                bytes_in_file(
                    len,
                    &what,
                    &s.fields,
                    ("sh_offset", s.offset),
                    ("sh_size", s.size),
                )?;
            }
            names.push(name);
            sections.push(s);
        }
        let shstrndx = match shstrndx {
            SHN_UNDEF => None,
            i if i < shnum => Some(i as usize),
            i => {
                return Err(format!(
                    "{} is {i}: there are only {shnum} sections",
                    at("e_shstrndx")
                ));
            }
        };
        if let Some(i) = shstrndx {
            let table = sections[i].file_range();
            for (n, (s, name)) in sections.iter_mut().zip(&names).enumerate() {
                s.name = string(
                    b,
                    &table,
                    *name,
                    &named(&format!("section [{n}]"), &s.fields, "sh_name"),
                )?;
            }
        }

        let mut symbols = Vec::new();
        let mut relocations = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let what = format!("section [{i}] {}", s.name);
            if s.kind == SHT_SYMTAB && s.in_file() {
                if s.entsize < l.sym_size {
                    return Err(format!(
                        "{} is {}: smaller than a symbol ({} B)",
                        named(&what, &s.fields, "sh_entsize"),
                        s.entsize,
                        l.sym_size
                    ));
                }
                let strtab = sections
                    .get(s.link as usize)
                    .map(Section::file_range)
                    .ok_or_else(|| {
                        format!(
                            "{} is {}: there are only {shnum} sections",
                            named(&what, &s.fields, "sh_link"),
                            s.link
                        )
                    })?;
                let count = s.size / s.entsize;
                symbols.reserve(count as usize);
                for n in 0..count {
                    let at = s.offset + n * s.entsize;
                    let sym = format!("{what} symbol [{n}]");
                    let fields = record(b, at, l.sym_size, l.sym, &sym)?;
                    let v = |name| value(&fields, name);
                    let info = v("st_info") as u8;
                    symbols.push(Symbol {
                        name: string(b, &strtab, v("st_name"), &named(&sym, &fields, "st_name"))?,
                        kind: info & 0xf,
                        bind: info >> 4,
                        shndx: v("st_shndx") as u16,
                        value: v("st_value"),
                        size: v("st_size"),
                        at,
                    });
                }
            }
            if (s.kind == SHT_RELA || s.kind == SHT_REL) && s.in_file() && s.entsize > 0 {
                // r_info follows r_offset, an address; the type is its low
                // 32 bits (ELF64_R_TYPE) or low 8 bits (ELF32_R_TYPE).
                for n in 0..s.size / s.entsize {
                    let info = number(b, s.offset + n * s.entsize + l.addr, l.addr)
                        .ok_or_else(|| format!("{what}: relocation [{n}]: {}", past_end(len)))?;
                    relocations.push(if class == ELFCLASS64 {
                        info as u32
                    } else {
                        info as u32 & 0xff
                    });
                }
            }
        }

        let interp = programs
            .iter()
            .find(|p| p.kind == PT_INTERP)
            .map(|p| c_string(slice(b, p.offset, p.filesz).unwrap_or_default()));

        Ok(Elf {
            class,
            machine: h("e_machine") as u16,
            kind: h("e_type") as u16,
            entry: h("e_entry"),
            file_size: len,
            header,
            phoff,
            phentsize,
            shoff,
            shentsize,
            shstrndx,
            programs,
            sections,
            symbols,
            relocations,
            interp,
        })
    }

    pub fn read(path: &std::path::Path) -> Result<Elf, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Elf::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The interpreter a dynamically linked program names in PT_INTERP
    /// (`/lib64/ld-linux-x86-64.so.2`); `None` for a static program.
    pub fn interpreter(path: &std::path::Path) -> Result<Option<String>, String> {
        Elf::read(path).map(|elf| elf.interp)
    }

    pub fn segments(&self, kind: u32) -> impl Iterator<Item = &ProgramHeader> {
        self.programs.iter().filter(move |p| p.kind == kind)
    }

    /// The PT_LOADs, each with its index into `programs` (`ph[N]`).
    pub fn loads(&self) -> impl Iterator<Item = (usize, &ProgramHeader)> {
        self.programs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == PT_LOAD)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Allocated sections that overlap `start..end` (addresses as linked;
    /// for a PIE, subtract the load offset first).
    pub fn sections_in(&self, start: u64, end: u64) -> Vec<&Section> {
        self.sections
            .iter()
            .filter(|s| {
                s.allocated() && s.size > 0 && s.addr < end && s.addr.saturating_add(s.size) > start
            })
            .collect()
    }

    /// The function or object symbol that covers `addr`, if any.
    pub fn symbol_at(&self, addr: u64) -> Option<&Symbol> {
        self.symbols.iter().find(|s| {
            (s.kind == STT_FUNC || s.kind == STT_OBJECT)
                && (s.value..s.value.saturating_add(s.size.max(1))).contains(&addr)
        })
    }

    /// The PT_LOAD (index into `programs`) whose memory holds `addr`.
    pub fn load_at(&self, addr: u64) -> Option<usize> {
        self.programs.iter().position(|p| {
            p.kind == PT_LOAD && (p.vaddr..p.vaddr.saturating_add(p.memsz)).contains(&addr)
        })
    }

    /// The PT_LOAD (index into `programs`) whose file bytes hold `offset`.
    pub fn load_of_offset(&self, offset: u64) -> Option<usize> {
        self.programs
            .iter()
            .position(|p| p.kind == PT_LOAD && p.file_range().contains(&offset))
    }

    /// The file, cut in [`Region`]s in file order: the ELF header, the
    /// two header tables, each section with bytes in the file, and what
    /// lies between them. They cover every byte once; two that overlap
    /// are an error naming both.
    pub fn regions(&self) -> Result<Vec<Region>, String> {
        let l = self.layout();
        let mut parts = vec![Region {
            range: 0..l.ehdr_size,
            part: Part::Header,
        }];
        if !self.programs.is_empty() {
            let end = self.phoff + self.programs.len() as u64 * self.phentsize;
            parts.push(Region {
                range: self.phoff..end,
                part: Part::ProgramHeaders,
            });
        }
        if !self.sections.is_empty() {
            let end = self.shoff + self.sections.len() as u64 * self.shentsize;
            parts.push(Region {
                range: self.shoff..end,
                part: Part::SectionHeaders,
            });
        }
        for (i, s) in self.sections.iter().enumerate() {
            if s.in_file() {
                parts.push(Region {
                    range: s.file_range(),
                    part: Part::Section(i),
                });
            }
        }
        parts.sort_by_key(|r| (r.range.start, r.range.end));
        let mut out: Vec<Region> = Vec::with_capacity(parts.len() * 2 + 1);
        let mut at = 0;
        for r in parts {
            if r.range.start < at {
                let last = out.last().expect("the ELF header comes first");
                return Err(format!(
                    "{} ({:#x}-{:#x}) overlaps {} ({:#x}-{:#x})",
                    self.part_name(&r.part),
                    r.range.start,
                    r.range.end,
                    self.part_name(&last.part),
                    last.range.start,
                    last.range.end
                ));
            }
            if r.range.start > at {
                out.push(Region {
                    range: at..r.range.start,
                    part: Part::Gap,
                });
            }
            at = r.range.end;
            out.push(r);
        }
        if at < self.file_size {
            out.push(Region {
                range: at..self.file_size,
                part: Part::Gap,
            });
        }
        Ok(out)
    }

    /// `ELF header`, `section [2] .text`, for errors and listings.
    pub fn part_name(&self, part: &Part) -> String {
        match part {
            Part::Header => "the ELF header".into(),
            Part::ProgramHeaders => "the program header table".into(),
            Part::SectionHeaders => "the section header table".into(),
            Part::Section(i) => format!("section [{i}] {}", self.sections[*i].name),
            Part::Gap => "bytes of no header or section".into(),
        }
    }
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
        let Some(part) = digits
            .checked_add(len)
            .and_then(|end| rest.get(digits..end))
        else {
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

/// The layout of `class` (ELFCLASS32, else ELFCLASS64).
pub fn layout(class: u8) -> &'static Layout {
    if class == ELFCLASS32 {
        &LAYOUT32
    } else {
        &LAYOUT64
    }
}

/// A part of the file (see [`Elf::regions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub range: Range<u64>,
    pub part: Part,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Header,
    ProgramHeaders,
    SectionHeaders,
    /// Index into [`Elf::sections`].
    Section(usize),
    /// Bytes that no header names: padding, or bytes only a segment holds.
    Gap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_test_binary_itself() {
        let me = std::env::current_exe().unwrap();
        let elf = Elf::read(&me).unwrap();
        assert!(elf.kind == ET_DYN || elf.kind == ET_EXEC);
        assert_eq!(elf.class, ELFCLASS64);
        assert_eq!(elf.machine, EM_X86_64);
        assert!(elf.segments(PT_LOAD).count() >= 2);
        let text = elf.section(".text").expect(".text");
        assert!(text.allocated() && text.size > 0);
        assert!(elf.entry >= text.addr && elf.entry < text.addr + text.size);
        let regions = elf.regions().unwrap();
        assert_eq!(regions.first().unwrap().range.start, 0);
        assert_eq!(regions.last().unwrap().range.end, elf.file_size);
        assert!(
            regions
                .windows(2)
                .all(|w| w[0].range.end == w[1].range.start)
        );
    }

    /// The sizes elf(5)'s structures have in C, and fields whose offset
    /// differs between the classes.
    #[test]
    fn layouts_have_the_sizes_of_the_c_structures() {
        let sizes = |l: &Layout| (l.ehdr_size, l.phdr_size, l.shdr_size, l.sym_size);
        assert_eq!(sizes(&LAYOUT64), (64, 56, 64, 24));
        assert_eq!(sizes(&LAYOUT32), (52, 32, 40, 16));
        let at = |defs: &[FieldDef], name| defs.iter().find(|d| d.name == name).unwrap().offset;
        assert_eq!(at(LAYOUT64.ehdr, "e_shstrndx"), 62);
        assert_eq!(at(LAYOUT32.ehdr, "e_shstrndx"), 50);
        assert_eq!(at(LAYOUT64.phdr, "p_flags"), 4);
        assert_eq!(at(LAYOUT32.phdr, "p_flags"), 24);
        assert_eq!(at(LAYOUT64.sym, "st_value"), 8);
        assert_eq!(at(LAYOUT32.sym, "st_value"), 4);
    }

    #[test]
    fn rejects_what_is_not_elf() {
        assert!(Elf::parse(b"").is_err());
        assert!(Elf::parse(b"#!/bin/sh\n").is_err());
        let mut header = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let e = Elf::parse(&header).unwrap_err();
        assert!(e.contains("ELF header at offset 0x0 (64 B)"), "{e}");
        header[4] = 1;
        let e = Elf::parse(&header).unwrap_err();
        assert!(e.contains("(52 B)"), "{e}");
        header[4] = 3;
        let e = Elf::parse(&header).unwrap_err();
        assert!(e.starts_with("e_ident[EI_CLASS] at offset 0x4 is 3"), "{e}");
    }

    /// A 32-bit ELF header with one program header and no sections, as
    /// the seeds' i386 programs had them.
    fn elf32() -> Vec<u8> {
        let mut b = vec![0u8; 52 + 32];
        b[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1]);
        let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(&mut b, 16, &ET_EXEC.to_le_bytes());
        put(&mut b, 18, &EM_386.to_le_bytes());
        put(&mut b, 20, &1u32.to_le_bytes());
        put(&mut b, 24, &0x0804_8054u32.to_le_bytes());
        put(&mut b, 28, &52u32.to_le_bytes());
        put(&mut b, 40, &52u16.to_le_bytes());
        put(&mut b, 42, &32u16.to_le_bytes());
        put(&mut b, 44, &1u16.to_le_bytes());
        // ph[0]: PT_LOAD of the whole file at 0x8048000, R E.
        put(&mut b, 52, &PT_LOAD.to_le_bytes());
        put(&mut b, 60, &0x0804_8000u32.to_le_bytes());
        put(&mut b, 68, &84u32.to_le_bytes());
        put(&mut b, 72, &84u32.to_le_bytes());
        put(&mut b, 76, &(PF_R | PF_X).to_le_bytes());
        put(&mut b, 80, &0x1000u32.to_le_bytes());
        b
    }

    #[test]
    fn reads_elf32() {
        let elf = Elf::parse(&elf32()).unwrap();
        assert_eq!(
            (elf.class, elf.machine, elf.kind),
            (ELFCLASS32, EM_386, ET_EXEC)
        );
        assert_eq!(elf.entry, 0x0804_8054);
        let p = &elf.programs[0];
        assert_eq!(
            (p.kind, p.flags, p.vaddr, p.filesz, p.align),
            (PT_LOAD, PF_R | PF_X, 0x0804_8000, 84, 0x1000)
        );
        let flags = p.fields.iter().find(|f| f.name == "p_flags").unwrap();
        assert_eq!((flags.offset, flags.size), (52 + 24, 4));
        let regions = elf.regions().unwrap();
        assert_eq!(regions.len(), 2);
        assert_eq!(regions[1].range, 52..84);
    }

    #[test]
    fn pn_xnum_takes_the_count_from_section_0() {
        let mut b = elf32();
        b[44..46].copy_from_slice(&0xffffu16.to_le_bytes());
        let e = Elf::parse(&b).unwrap_err();
        assert!(e.contains("e_phnum at offset 0x2c is PN_XNUM"), "{e}");
        // Section 0 at offset 84, sh_info = 1, e_shnum 1, shentsize 40.
        b.extend_from_slice(&[0; 40]);
        b[84 + 28..84 + 32].copy_from_slice(&1u32.to_le_bytes());
        b[32..36].copy_from_slice(&84u32.to_le_bytes());
        b[46..48].copy_from_slice(&40u16.to_le_bytes());
        b[48..50].copy_from_slice(&1u16.to_le_bytes());
        let elf = Elf::parse(&b).unwrap();
        assert_eq!(elf.programs.len(), 1);
        assert_eq!(elf.sections.len(), 1);
        // A count larger than the file: an error, not an allocation.
        b[84 + 28..84 + 32].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = Elf::parse(&b).unwrap_err();
        assert!(e.contains("e_phoff at offset 0x1c and e_phnum"), "{e}");
    }

    #[test]
    fn offsets_past_the_end_name_the_field() {
        let mut b = elf32();
        b[52 + 16..52 + 20].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = Elf::parse(&b).unwrap_err();
        assert!(e.starts_with("ph[0] p_filesz at offset 0x44"), "{e}");
        let mut b = elf32();
        b[42..44].copy_from_slice(&8u16.to_le_bytes());
        let e = Elf::parse(&b).unwrap_err();
        assert!(e.starts_with("e_phentsize at offset 0x2a is 8"), "{e}");
    }

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
        assert_eq!(
            demangle("_ZN18446744073709551615xE"),
            "_ZN18446744073709551615xE"
        );
        assert_eq!(demangle("_ZN"), "_ZN");
    }

    #[test]
    fn flags_print_like_readelf() {
        let mut p = Elf::parse(&elf32()).unwrap().programs[0].clone();
        let mut flags = |f| {
            p.flags = f;
            p.flags_str()
        };
        assert_eq!(flags(PF_R), "R");
        assert_eq!(flags(PF_R | PF_X), "R E");
        assert_eq!(flags(PF_R | PF_W), "RW");
    }
}
