//! Pages: advice on how to back memory, protection of a range, and how
//! much memory the machine has free.

use crate::arch::*;
use crate::errno::Errno;
use crate::nr;

/// `MAP_POPULATE`: fault every page in during the mmap call, so that the
/// mapping is resident at once (`mmap(2)`; `include/uapi/linux/mman.h`
/// via `asm-generic/mman.h`).
pub const MAP_POPULATE: usize = 0x8000;

/// `madvise(2)` advice, `include/uapi/asm-generic/mman-common.h`.
/// DONTNEED drops the pages of a private anonymous range: the next
/// access finds zero-filled memory again.
pub const MADV_DONTNEED: usize = 4;
/// Ask for (or refuse) transparent huge pages in a range
/// (Documentation/admin-guide/mm/transhuge.rst).
pub const MADV_HUGEPAGE: usize = 14;
pub const MADV_NOHUGEPAGE: usize = 15;

/// The size of a transparent huge page on x86-64: a PMD maps 2 MiB
/// (`HPAGE_PMD_SIZE`, `arch/x86/include/asm/pgtable_types.h`).
pub const HUGE_PAGE_SIZE: usize = 2 << 20;

/// `madvise(2)`.
///
/// # Safety
/// `MADV_DONTNEED` throws away the contents of the range: nothing may
/// rely on them afterwards.
pub unsafe fn madvise(addr: usize, len: usize, advice: usize) -> Result<(), Errno> {
    // SAFETY: the caller vouches for destructive advice; the others only
    // change how the kernel backs the range.
    Errno::check(unsafe { syscall3(nr::MADVISE, addr, len, advice) }).map(drop)
}

/// `mprotect(2)`.
///
/// # Safety
/// Taking away PROT_READ or PROT_WRITE makes later accesses fault;
/// adding PROT_EXEC runs whatever bytes the range holds.
pub unsafe fn mprotect(addr: usize, len: usize, prot: usize) -> Result<(), Errno> {
    // SAFETY: the caller vouches for what the new protection allows.
    Errno::check(unsafe { syscall3(nr::MPROTECT, addr, len, prot) }).map(drop)
}

/// `struct sysinfo` of `sysinfo(2)` (`include/uapi/linux/sysinfo.h`),
/// 112 bytes on x86-64. Memory sizes are in units of `mem_unit` bytes.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub pad: u16,
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub reserved: [u8; 4],
}

/// `sysinfo(2)`.
pub fn sysinfo() -> Result<Sysinfo, Errno> {
    let mut info = Sysinfo::default();
    // SAFETY: the kernel writes one struct sysinfo into `info`.
    Errno::check(unsafe { syscall1(nr::SYSINFO, &mut info as *mut Sysinfo as usize) }).map(|_| info)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sysinfo_is_the_kernels_size_and_answers() {
        assert_eq!(core::mem::size_of::<super::Sysinfo>(), 112);
        let info = super::sysinfo().unwrap();
        assert!(info.mem_unit >= 1 && info.totalram >= info.freeram && info.freeram > 0);
    }
}
