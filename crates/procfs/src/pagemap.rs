//! `/proc/PID/pagemap`: one 64-bit entry per virtual page
//! (Documentation/admin-guide/mm/pagemap.rst).
//!
//! Bit 63: the page is present in RAM; bit 62: swapped; bits 0–54: the
//! page frame number (PFN) if present. Since Linux 4.2 the PFN reads 0
//! without CAP_SYS_ADMIN; the present bit needs no privilege beyond
//! reading the process's maps. The entry of a page that maps the shared
//! zero page is present, with the zero page's frame.
//!
//! The entry of virtual page `n` lies at byte `8 * n`. A 512 MiB
//! mapping is 131072 entries, 1 MiB of pagemap: read in chunks.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::maps::{Mapping, PAGE};

/// Bytes per entry.
const ENTRY: usize = 8;
pub const PRESENT: u64 = 1 << 63;
pub const SWAPPED: u64 = 1 << 62;
/// Bits 0–54.
pub const PFN_MASK: u64 = (1 << 55) - 1;
/// 8192 entries (32 MiB of address space) per pread.
const CHUNK: usize = 64 << 10;

/// Opens /proc/PID/pagemap.
pub fn open(pid: u32) -> io::Result<File> {
    File::open(format!("/proc/{pid}/pagemap"))
}

/// The entries of the pages `start..end` (page-aligned addresses). Pages
/// the kernel has no entry for (past the end of user space: [vsyscall])
/// read as 0: not present.
pub fn entries(file: &File, start: u64, end: u64) -> io::Result<Vec<u64>> {
    let pages = ((end - start) / PAGE) as usize;
    let mut out = Vec::with_capacity(pages);
    let mut buf = vec![0u8; CHUNK.min(pages * ENTRY)];
    let mut offset = start / PAGE * ENTRY as u64;
    while out.len() < pages {
        let want = ((pages - out.len()) * ENTRY).min(buf.len());
        let n = match file.read_at(&mut buf[..want], offset) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        let whole = n - n % ENTRY;
        out.extend(
            buf[..whole]
                .chunks_exact(ENTRY)
                .map(|e| u64::from_ne_bytes(e.try_into().expect("8 bytes"))),
        );
        offset += whole as u64;
        if whole == 0 {
            break;
        }
    }
    out.resize(pages, 0);
    Ok(out)
}

/// The present bit of every page of `m`.
pub fn present(file: &File, m: &Mapping) -> io::Result<Vec<bool>> {
    // The kernel answers EINVAL for entries above user space (vsyscall's
    // page lies there on some kernels): none of it is ours to count.
    match entries(file, m.start, m.end) {
        Ok(e) => Ok(e.iter().map(|&e| e & PRESENT != 0).collect()),
        Err(e) if e.raw_os_error() == Some(22) => Ok(vec![false; (m.size() / PAGE) as usize]),
        Err(e) => Err(e),
    }
}

/// The frame number of a present entry (0 when hidden from us).
pub fn pfn(entry: u64) -> Option<u64> {
    (entry & PRESENT != 0).then_some(entry & PFN_MASK)
}

/// How much of a share of a mapping's pages is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    All,
    Some,
    None,
}

/// `cells` cells, each for an equal share of `bits` (the first cells
/// take one page more when the pages do not divide evenly; a mapping
/// of fewer pages than cells has one cell per page).
pub fn cells(bits: &[bool], cells: usize) -> Vec<Cell> {
    let n = cells.min(bits.len()).max(1);
    let (each, extra) = (bits.len() / n, bits.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = each + usize::from(i < extra);
        let share = &bits[at..at + len];
        let count = share.iter().filter(|&&b| b).count();
        out.push(match count {
            0 => Cell::None,
            c if c == len => Cell::All,
            _ => Cell::Some,
        });
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_pages_evenly() {
        let bits = [true, true, true, false, false, true, false];
        assert_eq!(cells(&bits, 3), [Cell::All, Cell::None, Cell::Some]);
        assert_eq!(cells(&bits[..2], 8), [Cell::All, Cell::All]);
        assert_eq!(cells(&[], 4), [Cell::None]);
    }

    #[test]
    fn written_pages_are_present_untouched_ones_not() {
        let pages = 64;
        let mut v = vec![0u8; pages * PAGE as usize + 2 * PAGE as usize];
        // A page-aligned window of `pages` pages inside the allocation.
        let base = (v.as_ptr() as u64).next_multiple_of(PAGE);
        let first = (base - v.as_ptr() as u64) as usize;
        for p in (0..pages).step_by(4) {
            v[first + p * PAGE as usize] = 1;
        }
        let file = open(std::process::id()).unwrap();
        let e = entries(&file, base, base + pages as u64 * PAGE).unwrap();
        assert_eq!(e.len(), pages);
        for p in (0..pages).step_by(4) {
            assert!(e[p] & PRESENT != 0, "page {p} was written");
        }
        std::hint::black_box(&v);
    }

    #[test]
    fn chunks_cover_a_mapping_bigger_than_one_read() {
        // 64 MiB of pages: 16384 entries, two chunks; a read-only
        // mapping nobody touched has none present.
        let maps = crate::maps::read(std::process::id()).unwrap();
        let file = open(std::process::id()).unwrap();
        let big = Mapping {
            start: maps[0].start,
            end: maps[0].start + (64 << 20),
            ..maps[0].clone()
        };
        let e = entries(&file, big.start, big.end).unwrap();
        assert_eq!(e.len(), 16384);
        assert!(e[0] & PRESENT != 0, "our own first page is in memory");
    }
}
