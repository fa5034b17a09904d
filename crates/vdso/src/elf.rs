//! Just enough ELF to find a function in the vDSO by name and version,
//! the way a dynamic linker would (and as the kernel's own example,
//! tools/testing/selftests/vDSO/parse_vdso.c, does).
//!
//! The vDSO is a complete shared library the kernel maps into every
//! process: ELF header, program headers, a PT_DYNAMIC segment that points
//! at the dynamic symbol table (.dynsym), its strings (.dynstr), a hash
//! table (whose size gives the number of symbols) and the symbol versions.
//!
//! Structures and constants: `elf(5)` and the kernel's
//! `include/uapi/linux/elf.h`. Instead of copying whole structs we read
//! only the fields we use, each named below as elf(5) names it, at its
//! offset in its struct, through one bounds-checked reader,
//! [`Image::read`]. Every number in the image is treated as possibly
//! damaged: an offset that leads outside the image, or a sum that
//! overflows, finds nothing; it never makes us fault or panic.

/// The layout of the structures we read, for the architecture we are
/// built for: a 64-bit process has a 64-bit vDSO (`Elf64_*`), an i386
/// one a 32-bit vDSO (`Elf32_*`). Same fields, other sizes and offsets.
#[cfg(target_arch = "x86_64")]
mod layout {
    /// `e_ident` starts with the magic `\x7fELF` and the class, ELFCLASS64 (2).
    pub const MAGIC_AND_CLASS: &[u8] = b"\x7fELF\x02";
    /// An address or offset (`Elf64_Addr`, `Elf64_Off`, `d_tag`, `d_val`).
    pub const WORD: usize = 8;
    /// `Elf64_Ehdr`: where the program headers are, how many there are (2).
    pub const E_PHOFF: usize = 32;
    pub const E_PHNUM: usize = 56;
    /// `Elf64_Phdr` (56 bytes): `p_type`, `p_flags` (4 bytes each), then
    /// `p_offset`, `p_vaddr`, …, `p_memsz` (8 each).
    pub const PHDR_SIZE: usize = 56;
    pub const P_FLAGS: usize = 4;
    pub const P_OFFSET: usize = 8;
    pub const P_VADDR: usize = 16;
    pub const P_MEMSZ: usize = 40;
    /// `Elf64_Dyn` (16 bytes): `d_tag`, `d_val` (8 each).
    pub const DYN_SIZE: usize = 16;
    pub const D_VAL: usize = 8;
    /// `Elf64_Sym` (24 bytes): `st_name` (4), `st_info` (1: binding in the
    /// high 4 bits, type in the low 4), `st_other` (1), `st_shndx` (2;
    /// SHN_UNDEF: not defined here), `st_value` (8).
    pub const SYM_SIZE: usize = 24;
    pub const ST_INFO: usize = 4;
    pub const ST_SHNDX: usize = 6;
    pub const ST_VALUE: usize = 8;
}
#[cfg(target_arch = "x86")]
mod layout {
    /// ELFCLASS32 (1).
    pub const MAGIC_AND_CLASS: &[u8] = b"\x7fELF\x01";
    /// `Elf32_Addr`, `Elf32_Off`, `d_tag`, `d_val`: 4 bytes.
    pub const WORD: usize = 4;
    /// `Elf32_Ehdr`.
    pub const E_PHOFF: usize = 28;
    pub const E_PHNUM: usize = 44;
    /// `Elf32_Phdr` (32 bytes): `p_type`, `p_offset`, `p_vaddr`,
    /// `p_paddr`, `p_filesz`, `p_memsz`, `p_flags`, `p_align`, 4 each:
    /// `p_flags` comes after the sizes here.
    pub const PHDR_SIZE: usize = 32;
    pub const P_FLAGS: usize = 24;
    pub const P_OFFSET: usize = 4;
    pub const P_VADDR: usize = 8;
    pub const P_MEMSZ: usize = 20;
    /// `Elf32_Dyn` (8 bytes).
    pub const DYN_SIZE: usize = 8;
    pub const D_VAL: usize = 4;
    /// `Elf32_Sym` (16 bytes): `st_name`, `st_value`, `st_size` (4 each),
    /// then `st_info`, `st_other` (1 each), `st_shndx` (2).
    pub const SYM_SIZE: usize = 16;
    pub const ST_INFO: usize = 12;
    pub const ST_SHNDX: usize = 14;
    pub const ST_VALUE: usize = 4;
}
use layout::*;

/// `p_type` is the first field of a program header on both classes; the
/// types we look for, and PF_X, the flag of a segment that holds code.
const P_TYPE: usize = 0;
const PT_LOAD: usize = 1;
const PT_DYNAMIC: usize = 2;
const PF_X: usize = 1;

/// `d_tag` comes first in a `Dyn`; the tags we read.
const D_TAG: usize = 0;
const DT_NULL: usize = 0;
const DT_HASH: usize = 4;
const DT_STRTAB: usize = 5;
const DT_SYMTAB: usize = 6;
const DT_VERSYM: usize = 0x6fff_fff0;
const DT_VERDEF: usize = 0x6fff_fffc;

/// DT_HASH: `nbucket`, `nchain` (4 bytes each), …: one chain entry per
/// symbol. The x86 vDSO is linked with --hash-style=both
/// (arch/x86/entry/vdso/Makefile), so DT_HASH is there; DT_GNU_HASH
/// holds no count.
const HASH_NCHAIN: usize = 4;

/// `st_name` is the first field of a symbol on both classes.
const ST_NAME: usize = 0;
const STB_GLOBAL: usize = 1;
const STB_WEAK: usize = 2;
const STT_FUNC: usize = 2;
const SHN_UNDEF: usize = 0;
/// `st_info` holds the binding in its high 4 bits and the type in its
/// low 4 (`ELF64_ST_BIND`, `ELF64_ST_TYPE` in elf.h; the same for Elf32).
const ST_BIND_SHIFT: usize = 4;
const ST_TYPE_MASK: usize = 0xf;

/// `.gnu.version` (DT_VERSYM): one 2-byte entry per symbol; the low 15
/// bits are a version index, the top bit marks a hidden symbol (still
/// callable from here).
const VERSYM_SIZE: usize = 2;
const VERSYM_INDEX: usize = 0x7fff;

/// `Elf64_Verdef` (`Elf32_Verdef` is the same), one version the library defines (`LINUX_2.6`):
/// `vd_flags`, `vd_ndx` (2 bytes each), `vd_aux`, `vd_next` (4 each);
/// `Elf64_Verdaux`: `vda_name` (4), the version's name. `vd_flags`
/// VER_FLG_BASE: this Verdef names the library itself, not a version.
const VD_FLAGS: usize = 2;
const VD_NDX: usize = 4;
const VD_AUX: usize = 12;
const VD_NEXT: usize = 16;
const VDA_NAME: usize = 0;
const VER_FLG_BASE: usize = 1;

/// The page the ELF and program headers must fit in: the part of the
/// image we may read before we know its size (`getpagesize(2)`).
const FIRST_PAGE: usize = 4096;

/// The largest image we believe: the x86-64 vDSO is 2 pages (5410 bytes
/// on Linux 6.18; `vdso_image_64.size`, arch/x86/entry/vdso/vdso2c.h),
/// and so is the 32-bit one;
/// 8 pages leave room to grow. A larger PT_LOAD is a damaged header, not
/// a vDSO, and we would not know that memory is mapped.
pub const MAX_IMAGE: usize = 8 * FIRST_PAGE;

/// A shared library as it lies in memory.
pub struct Image {
    /// The whole image. Every read is a bounds-checked `get` on it; a
    /// read outside gives 0, as if the image were followed by zeros: 0
    /// ends every walk below (DT_NULL, `vd_next`) and matches no name.
    bytes: &'static [u8],
    /// Its one PT_LOAD: where it starts in the image (`p_offset`) and the
    /// library address it is linked at (`p_vaddr`). An address of the
    /// library (`d_val`, `st_value`) counts from `vaddr`.
    load: usize,
    vaddr: usize,
    /// Offsets of the tables in the image; 0 (where the ELF header is,
    /// never a table) if the library has none.
    symtab: usize,
    strtab: usize,
    versym: usize,
    verdef: usize,
    /// Number of entries of the symbol table (the null symbol at index 0
    /// included): `nchain`, but no more than fit in the image.
    pub symbols: usize,
}

/// `base + offset`: where a field of the struct at `base` lies, or the
/// next struct. Both may come from a damaged image, so the sum may
/// overflow: None, which lies nowhere. Every offset sum goes through here.
fn add(base: usize, offset: usize) -> Option<usize> {
    base.checked_add(offset)
}

/// The `len`-byte field (1 to 8) at `base + field` in `bytes`: a
/// little-endian number (ELFDATA2LSB, as on every x86), or 0 if it
/// does not lie inside. One reader for every size, byte by byte, so no
/// read needs to be aligned.
#[inline(never)] // called from two dozen places
fn read(bytes: &[u8], base: usize, field: usize, len: usize) -> usize {
    let mut value = 0;
    let field = add(base, field).and_then(|start| bytes.get(start..add(start, len)?));
    if let Some(field) = field {
        // The most significant byte is the last one.
        for &byte in field.iter().rev() {
            value = value << 8 | usize::from(byte);
        }
    }
    value
}

impl Image {
    /// Checks the ELF header at `base`, finds the image's size from its
    /// PT_LOAD, and the tables its PT_DYNAMIC points at.
    ///
    /// # Safety
    /// Trusted, as the kernel promises for AT_SYSINFO_EHDR
    /// (`getauxval(3)`): `base` is the address of a readable page that
    /// stays mapped, and if that page starts with an ELF header, the
    /// image its PT_LOAD describes is mapped and readable too (we read at
    /// most [`MAX_IMAGE`] bytes). Everything else is checked: every offset
    /// and count read from the image is bounds-checked against it.
    pub unsafe fn new(base: usize) -> Option<Image> {
        // SAFETY: the caller promises the first page; until the PT_LOAD
        // tells the size, we read only the headers in it.
        let page = unsafe { core::slice::from_raw_parts(base as *const u8, FIRST_PAGE) };
        if !page.starts_with(MAGIC_AND_CLASS) {
            return None;
        }
        let phoff = read(page, 0, E_PHOFF, WORD);
        let (mut load, mut dynamic) = (None, None);
        for i in 0..read(page, 0, E_PHNUM, 2) {
            let ph = add(phoff, i * PHDR_SIZE)?;
            match read(page, ph, P_TYPE, 4) {
                PT_LOAD if load.is_none() => load = Some(ph),
                PT_DYNAMIC => dynamic = Some(ph),
                _ => {}
            }
        }
        let (load, dynamic) = (load?, dynamic?);
        // The one PT_LOAD covers the whole image, headers included, and
        // it is the code we are going to call: it must be executable.
        if read(page, load, P_FLAGS, 4) & PF_X == 0 {
            return None;
        }
        let offset = read(page, load, P_OFFSET, WORD);
        let size = add(offset, read(page, load, P_MEMSZ, WORD))?;
        if size > MAX_IMAGE {
            return None;
        }
        let mut image = Image {
            // SAFETY: the caller promises all that the PT_LOAD describes,
            // and it is no larger than MAX_IMAGE.
            bytes: unsafe { core::slice::from_raw_parts(base as *const u8, size) },
            load: offset,
            vaddr: read(page, load, P_VADDR, WORD),
            symtab: 0,
            strtab: 0,
            versym: 0,
            verdef: 0,
            symbols: 0,
        };
        let (mut at, mut hash) = (read(page, dynamic, P_OFFSET, WORD), 0);
        loop {
            let tag = image.read(at, D_TAG, WORD);
            if tag == DT_NULL {
                break;
            }
            // A table outside the image is a damaged image: None.
            let table = image.offset(image.read(at, D_VAL, WORD));
            match tag {
                DT_SYMTAB => image.symtab = table?,
                DT_STRTAB => image.strtab = table?,
                DT_VERSYM => image.versym = table?,
                DT_VERDEF => image.verdef = table?,
                DT_HASH => hash = table?,
                _ => {}
            }
            at = add(at, DYN_SIZE)?;
        }
        if image.symtab == 0 || image.strtab == 0 || hash == 0 {
            return None;
        }
        // As many symbols as the hash table says, but no more than fit
        // between the symbol table and the end of the image.
        let room = (image.size() - image.symtab) / SYM_SIZE;
        image.symbols = image.read(hash, HASH_NCHAIN, 4).min(room);
        Some(image)
    }

    /// The image's size in bytes (what [vdso] in /proc/PID/maps rounds up
    /// to whole pages).
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The `len`-byte field at offset `base + field` of the image ([`read`]).
    fn read(&self, base: usize, field: usize, len: usize) -> usize {
        read(self.bytes, base, field, len)
    }

    /// Turns an address of the library into an offset in the image; None
    /// unless it lies inside the PT_LOAD (the only part that is there).
    fn offset(&self, addr: usize) -> Option<usize> {
        let offset = add(self.load, addr.checked_sub(self.vaddr)?)?;
        (offset < self.size()).then_some(offset)
    }

    /// Whether the NUL-terminated string at `offset` in the string table
    /// is `name`.
    fn string_is(&self, offset: usize, name: &[u8]) -> bool {
        add(self.strtab, offset)
            .and_then(|at| self.bytes.get(at..))
            .is_some_and(|s| s.starts_with(name) && s.get(name.len()) == Some(&0))
    }

    /// The index (`vd_ndx`) of the version named `version`, if the
    /// library defines it: walks the Verdefs (`.gnu.version_d`).
    fn version_index(&self, version: &[u8]) -> Option<usize> {
        let mut at = self.verdef;
        loop {
            // Its Verdaux lies vd_aux bytes on, the next Verdef vd_next
            // bytes on (0: the last one).
            let aux = add(at, self.read(at, VD_AUX, 4))?;
            if self.read(at, VD_FLAGS, 2) & VER_FLG_BASE == 0
                && self.string_is(self.read(aux, VDA_NAME, 4), version)
            {
                return Some(self.read(at, VD_NDX, 2));
            }
            match self.read(at, VD_NEXT, 4) {
                0 => return None,
                next => at = add(at, next)?,
            }
        }
    }

    /// Where function `name` of version `version` starts, as a dynamic
    /// linker would bind `name@version`: a pointer into the image (never
    /// outside it), or None.
    pub fn lookup(&self, name: &[u8], version: &[u8]) -> Option<*const u8> {
        // A library with versions (the vDSO has them) must define
        // `version`, and the symbol must carry its index.
        let wanted = if self.versym != 0 && self.verdef != 0 {
            Some(self.version_index(version)?)
        } else {
            None
        };
        for i in 0..self.symbols {
            let sym = add(self.symtab, i * SYM_SIZE)?;
            let info = self.read(sym, ST_INFO, 1);
            let binding = info >> ST_BIND_SHIFT;
            if info & ST_TYPE_MASK == STT_FUNC
                && (binding == STB_GLOBAL || binding == STB_WEAK)
                && self.read(sym, ST_SHNDX, 2) != SHN_UNDEF
                && self.string_is(self.read(sym, ST_NAME, 4), name)
                && wanted.is_none_or(|index| {
                    self.read(self.versym, i * VERSYM_SIZE, VERSYM_SIZE) & VERSYM_INDEX == index
                })
            {
                // An st_value outside the PT_LOAD is a damaged image.
                let offset = self.offset(self.read(sym, ST_VALUE, WORD))?;
                // Derived from the image's own pointer, so it keeps the
                // image's provenance; `offset` lies inside it.
                return Some(self.bytes.as_ptr().wrapping_add(offset));
            }
        }
        None
    }
}
