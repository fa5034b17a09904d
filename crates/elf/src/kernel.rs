//! What the Linux loader does with each header field, and what the
//! values mean.
//!
//! Decided field by field from `load_elf_binary` and its helpers in
//! fs/binfmt_elf.c (load_elf_phdrs, elf_map, elf_load, total_mapping_size,
//! maximum_alignment, create_elf_tables) and the x86 `elf_check_arch`
//! (arch/x86/include/asm/elf.h), and checked on the running kernel by
//! crates/elf/tests/kernel.rs: each field of `minimal` overwritten in a
//! copy and run.
//!
//! - **validated**: some values make `execve` fail (ENOEXEC, EINVAL):
//!   checked before the point of no return (`begin_new_exec`).
//! - **used**: it decides what is mapped or run; a bad value shows in
//!   /proc/PID/maps, or as a signal: a check after the point of no
//!   return (p_filesz > p_memsz, say) kills the new program with SIGSEGV
//!   instead of failing execve.
//! - **ignored**: the loader never reads it.

use procfs::elf::{self, Elf, ProgramHeader};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Validated,
    Used,
    Ignored,
}

impl Class {
    pub fn word(self) -> &'static str {
        match self {
            Class::Validated => "validated",
            Class::Used => "used",
            Class::Ignored => "ignored",
        }
    }
}

/// How many program headers load_elf_phdrs takes: one page of them.
fn max_phnum(elf: &Elf) -> u64 {
    crate::PAGE / elf.layout().phdr_size
}

/// The class of an ELF header field, and a few words on it.
pub fn header_field(name: &str, elf: &Elf) -> (Class, String) {
    use Class::*;
    let phsize = elf.layout().phdr_size;
    let (class, words) = match name {
        "e_ident[EI_MAG0..3]" => (
            Validated,
            "the magic number: anything else and no loader takes the file (ENOEXEC)",
        ),
        "e_ident[EI_CLASS]" => (
            Ignored,
            "1: 32-bit, 2: 64-bit layout; the loader goes by e_machine and never reads this byte",
        ),
        "e_ident[EI_DATA]" => (Ignored, "byte order, 1: little-endian; not checked"),
        "e_ident[EI_VERSION]" => (Ignored, "ELF version, 1; not checked"),
        "e_ident[EI_OSABI]" => (Ignored, "OS ABI, 0: System V; not checked"),
        "e_ident[EI_ABIVERSION]" => (Ignored, "ABI version; not checked"),
        "e_ident[EI_PAD]" => (Ignored, "unused, zeros by convention: free bytes"),
        "e_type" => (
            Validated,
            "ET_EXEC: mapped at its p_vaddr; ET_DYN: at an offset the kernel picks; else ENOEXEC",
        ),
        "e_machine" => (
            Validated,
            "EM_X86_64 for the 64-bit loader, EM_386 for the 32-bit one; else ENOEXEC",
        ),
        "e_version" => (Ignored, "ELF version, 1; not checked"),
        "e_entry" => (
            Used,
            "where the program starts (ET_DYN: plus the load offset); a bad one is a SIGSEGV",
        ),
        "e_phoff" => (
            Validated,
            "where the program headers are read from; past the end: ENOEXEC; also AT_PHDR",
        ),
        "e_shoff" => (
            Ignored,
            "where the section headers are: the loader never reads them",
        ),
        "e_flags" => (Ignored, "processor flags, none on x86"),
        "e_ehsize" => (Ignored, "this header's size; not checked"),
        "e_phentsize" => {
            return (
                Validated,
                format!("must be {phsize}, the size of a program header, else ENOEXEC"),
            );
        }
        "e_phnum" => {
            return (
                Validated,
                format!(
                    "1 to {} program headers (one page of them), else ENOEXEC; also AT_PHNUM",
                    max_phnum(elf)
                ),
            );
        }
        "e_shentsize" => (Ignored, "a section header's size; for tools only"),
        "e_shnum" => (Ignored, "how many section headers; for tools only"),
        "e_shstrndx" => (
            Ignored,
            "which section holds the section names; for tools only",
        ),
        _ => (Ignored, ""),
    };
    (class, words.to_string())
}

/// The class of a program header field (it depends on p_type and, for
/// p_align, on e_type), and a few words on it.
pub fn program_field(name: &str, p: &ProgramHeader, elf: &Elf) -> (Class, String) {
    use Class::*;
    let (class, words) = match (p.kind, name) {
        (elf::PT_LOAD, "p_type") => (Used, "PT_LOAD: mapped; with another type it is not"),
        (elf::PT_LOAD, "p_flags") => (Used, "the mapping's permissions: PF_R r, PF_W w, PF_X x"),
        (elf::PT_LOAD, "p_offset") => (
            Used,
            "the file offset mapped (its page is maps' offset column); agrees with p_vaddr modulo 4096",
        ),
        (elf::PT_LOAD, "p_vaddr") if elf.kind == elf::ET_DYN => (
            Used,
            "where it lands, plus the load offset the kernel picks",
        ),
        (elf::PT_LOAD, "p_vaddr") => (Used, "where it lands: maps' start is its page"),
        (elf::PT_LOAD, "p_filesz") => (
            Used,
            "bytes from the file; 0: anonymous zeros; more than p_memsz: SIGSEGV",
        ),
        (elf::PT_LOAD, "p_memsz") => (
            Used,
            "bytes in memory; past p_filesz zeros (.bss), in anonymous pages",
        ),
        (elf::PT_LOAD, "p_align") if elf.kind == elf::ET_DYN => (
            Used,
            "the largest p_align aligns the load offset (maximum_alignment)",
        ),
        (elf::PT_LOAD, "p_align") => (
            Ignored,
            "alignment; an ET_EXEC goes where p_vaddr says, whatever this is",
        ),
        (elf::PT_GNU_STACK, "p_flags") => (
            Used,
            "the stack's permissions: with PF_X [stack] is rwxp; RW keeps W^X",
        ),
        (elf::PT_GNU_STACK, "p_type") => (
            Validated,
            "PT_GNU_STACK: its p_flags make the stack (rw- without it too, on x86-64); PT_INTERP here: ENOEXEC",
        ),
        (elf::PT_INTERP, "p_type") => (
            Used,
            "PT_INTERP: the kernel also loads the program named here and starts it first",
        ),
        (elf::PT_INTERP, "p_offset") => (Used, "where the interpreter's path is"),
        (elf::PT_INTERP, "p_filesz") => (
            Validated,
            "the path's length with its NUL: 2 to PATH_MAX, else ENOEXEC",
        ),
        (_, "p_type") => (
            Validated,
            "the kernel looks for PT_LOAD, PT_INTERP, PT_GNU_STACK; this one is for ld.so or tools; PT_INTERP here: ENOEXEC",
        ),
        (_, "p_paddr") => (Ignored, "physical address: meaningless for a process"),
        (elf::PT_GNU_STACK, _) => (Ignored, "not read for PT_GNU_STACK"),
        (elf::PT_INTERP, _) => (Ignored, "not read for PT_INTERP"),
        _ => (Ignored, "not read by the kernel for this type"),
    };
    (class, words.to_string())
}

/// A few words on a section header field; the loader reads none.
pub fn section_field(name: &str) -> &'static str {
    match name {
        "sh_name" => "offset of the name in .shstrtab",
        "sh_type" => "what the contents are",
        "sh_flags" => "SHF_ALLOC: in memory; SHF_WRITE, SHF_EXECINSTR",
        "sh_addr" => "address when loaded (0: not loaded)",
        "sh_offset" => "where the contents are in the file",
        "sh_size" => "bytes of contents (in memory only, for SHT_NOBITS)",
        "sh_link" => "a related section (a symbol table's strings)",
        "sh_info" => "more (a symbol table: index of the first global)",
        "sh_addralign" => "alignment of sh_addr",
        "sh_entsize" => "size of one entry, for tables",
        _ => "",
    }
}

fn names(value: u64, table: &[(u64, &str)]) -> Option<String> {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, n)| n.to_string())
}

fn flag_names(value: u64, table: &[(u64, &str)]) -> String {
    let mut parts: Vec<String> = table
        .iter()
        .filter(|(bit, _)| value & bit != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let known: u64 = table.iter().map(|(b, _)| b).fold(0, |a, b| a | b);
    if value & !known != 0 {
        parts.push(format!("{:#x}", value & !known));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}

pub fn p_type_name(t: u32) -> String {
    names(
        u64::from(t),
        &[
            (elf::PT_NULL.into(), "PT_NULL"),
            (elf::PT_LOAD.into(), "PT_LOAD"),
            (elf::PT_DYNAMIC.into(), "PT_DYNAMIC"),
            (elf::PT_INTERP.into(), "PT_INTERP"),
            (elf::PT_NOTE.into(), "PT_NOTE"),
            (elf::PT_SHLIB.into(), "PT_SHLIB"),
            (elf::PT_PHDR.into(), "PT_PHDR"),
            (elf::PT_TLS.into(), "PT_TLS"),
            (elf::PT_GNU_EH_FRAME.into(), "PT_GNU_EH_FRAME"),
            (elf::PT_GNU_STACK.into(), "PT_GNU_STACK"),
            (elf::PT_GNU_RELRO.into(), "PT_GNU_RELRO"),
            (elf::PT_GNU_PROPERTY.into(), "PT_GNU_PROPERTY"),
        ],
    )
    .unwrap_or_else(|| format!("{t:#x}"))
}

pub fn p_flags_name(f: u32) -> String {
    flag_names(
        u64::from(f),
        &[
            (elf::PF_R.into(), "PF_R"),
            (elf::PF_W.into(), "PF_W"),
            (elf::PF_X.into(), "PF_X"),
        ],
    )
}

pub fn sh_type_name(t: u32) -> String {
    names(
        u64::from(t),
        &[
            (elf::SHT_NULL.into(), "SHT_NULL"),
            (elf::SHT_PROGBITS.into(), "SHT_PROGBITS"),
            (elf::SHT_SYMTAB.into(), "SHT_SYMTAB"),
            (elf::SHT_STRTAB.into(), "SHT_STRTAB"),
            (elf::SHT_RELA.into(), "SHT_RELA"),
            (elf::SHT_HASH.into(), "SHT_HASH"),
            (elf::SHT_DYNAMIC.into(), "SHT_DYNAMIC"),
            (elf::SHT_NOTE.into(), "SHT_NOTE"),
            (elf::SHT_NOBITS.into(), "SHT_NOBITS"),
            (elf::SHT_REL.into(), "SHT_REL"),
            (elf::SHT_DYNSYM.into(), "SHT_DYNSYM"),
            (elf::SHT_INIT_ARRAY.into(), "SHT_INIT_ARRAY"),
            (elf::SHT_FINI_ARRAY.into(), "SHT_FINI_ARRAY"),
            (elf::SHT_GNU_HASH.into(), "SHT_GNU_HASH"),
            (elf::SHT_GNU_VERDEF.into(), "SHT_GNU_verdef"),
            (elf::SHT_GNU_VERNEED.into(), "SHT_GNU_verneed"),
            (elf::SHT_GNU_VERSYM.into(), "SHT_GNU_versym"),
        ],
    )
    .unwrap_or_else(|| format!("{t:#x}"))
}

pub fn sh_flags_name(f: u64) -> String {
    flag_names(
        f,
        &[
            (elf::SHF_WRITE, "SHF_WRITE"),
            (elf::SHF_ALLOC, "SHF_ALLOC"),
            (elf::SHF_EXECINSTR, "SHF_EXECINSTR"),
            (elf::SHF_MERGE, "SHF_MERGE"),
            (elf::SHF_STRINGS, "SHF_STRINGS"),
            (elf::SHF_INFO_LINK, "SHF_INFO_LINK"),
            (elf::SHF_TLS, "SHF_TLS"),
        ],
    )
}

/// A header field's value as elf(5) names it.
pub fn decode(name: &str, value: u64, raw: &[u8]) -> String {
    let hex = format!("{value:#x}");
    match name {
        "e_ident[EI_MAG0..3]" => format!("\"{}\"", crate::escape(raw)),
        "e_ident[EI_CLASS]" => names(value, &[(1, "ELFCLASS32"), (2, "ELFCLASS64")]).unwrap_or(hex),
        "e_ident[EI_DATA]" => {
            names(value, &[(1, "ELFDATA2LSB"), (2, "ELFDATA2MSB")]).unwrap_or(hex)
        }
        "e_ident[EI_VERSION]" | "e_version" => names(value, &[(1, "EV_CURRENT")]).unwrap_or(hex),
        "e_ident[EI_OSABI]" => {
            names(value, &[(0, "ELFOSABI_SYSV"), (3, "ELFOSABI_LINUX")]).unwrap_or(hex)
        }
        "e_ident[EI_PAD]" => {
            if raw.iter().all(|&b| b == 0) {
                "zeros".into()
            } else {
                format!("\"{}\"", crate::escape(raw))
            }
        }
        "e_type" => names(
            value,
            &[
                (0, "ET_NONE"),
                (1, "ET_REL"),
                (2, "ET_EXEC"),
                (3, "ET_DYN"),
                (4, "ET_CORE"),
            ],
        )
        .unwrap_or(hex),
        "e_machine" => names(
            value,
            &[
                (elf::EM_386.into(), "EM_386"),
                (elf::EM_X86_64.into(), "EM_X86_64"),
            ],
        )
        .unwrap_or(hex),
        "e_ident[EI_ABIVERSION]"
        | "e_ehsize"
        | "e_phentsize"
        | "e_phnum"
        | "e_shentsize"
        | "e_shnum"
        | "e_shstrndx"
        | "sh_link"
        | "sh_info"
        | "sh_addralign"
        | "sh_entsize" => value.to_string(),
        "p_type" => p_type_name(value as u32),
        "p_flags" => p_flags_name(value as u32),
        "sh_type" => sh_type_name(value as u32),
        "sh_flags" => sh_flags_name(value),
        _ => hex,
    }
}
