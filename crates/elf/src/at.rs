//! `--at ADDR` and `--at +OFFSET`: what holds one virtual address (and
//! which file byte it comes from), or one file offset (and where it
//! lands in memory).

use std::fmt::Write;

use procfs::elf::{self, Part};

use crate::{Anatomy, maps_lines};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// A virtual address (a link address for ET_DYN).
    Addr(u64),
    /// A file offset.
    Offset(u64),
}

impl Query {
    /// `0x40113c`, `40113c`, `+0x18`, `+18`: hexadecimal.
    pub fn parse(text: &str) -> Result<Query, String> {
        let (offset, digits) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        let n = u64::from_str_radix(digits, 16)
            .map_err(|_| format!("--at wants a hex address or +OFFSET, not '{text}'"))?;
        Ok(if offset {
            Query::Offset(n)
        } else {
            Query::Addr(n)
        })
    }
}

/// The answer, a few lines.
pub fn at(a: &Anatomy, q: Query) -> String {
    match q {
        Query::Addr(addr) => address(a, addr),
        Query::Offset(off) => offset(a, off),
    }
}

fn address(a: &Anatomy, addr: u64) -> String {
    let e = &a.elf;
    let mut out = String::new();
    let link = if a.moves() {
        " (a link address: at run time add the load offset)"
    } else {
        ""
    };
    let _ = writeln!(out, "{addr:#x}{link}");
    let section = e
        .sections_in(addr, addr.saturating_add(1))
        .first()
        .map(|s| (s.name.clone(), addr - s.addr));
    let symbol = e
        .symbol_at(addr)
        .map(|s| (elf::demangle(&s.name), addr - s.value));
    if let Some(i) = e.load_at(addr) {
        let p = &e.programs[i];
        let _ = writeln!(
            out,
            "  segment: ph[{i}] PT_LOAD {} ({:#x}-{:#x})",
            p.flags_str(),
            p.vaddr,
            p.vaddr.saturating_add(p.memsz)
        );
    } else {
        let _ = writeln!(out, "  segment: none");
    }
    if let Some((name, off)) = section {
        let _ = writeln!(out, "  section: {name} +{off:#x}");
    }
    if let Some((name, off)) = symbol {
        let _ = writeln!(out, "  symbol: {name} +{off:#x}");
    }
    // The maps line that holds it: a segment's own, or the page slack
    // of one (the same file page, mapped whole).
    let mut found = false;
    for (i, p) in e.loads() {
        for m in maps_lines(p) {
            if !(m.start..m.end).contains(&addr) {
                continue;
            }
            found = true;
            if m.file {
                let off = m.offset.saturating_add(addr - m.start);
                let own = p.file_range().contains(&off);
                let _ = writeln!(
                    out,
                    "  file offset: {off:#x}{}",
                    if own {
                        format!(" (p_offset {:#x} + {:#x})", p.offset, off - p.offset)
                    } else {
                        " (page slack: in the mapped page, not in the segment)".to_string()
                    }
                );
                if let Some(r) = a.region_at(off) {
                    let _ = writeln!(out, "  in the file: {}", a.region_name(r));
                }
            } else {
                let _ = writeln!(
                    out,
                    "  file offset: none: zero-filled (.bss), anonymous memory"
                );
            }
            let _ = writeln!(out, "  maps line: {} (from ph[{i}])", m.text(0));
        }
    }
    if !found {
        let _ = writeln!(out, "  not mapped from this file");
    }
    out
}

fn offset(a: &Anatomy, off: u64) -> String {
    let e = &a.elf;
    let mut out = String::new();
    let _ = writeln!(out, "file offset {off:#x}");
    let Some(r) = a.region_at(off) else {
        let _ = writeln!(out, "  past the end of the file ({} B)", e.file_size);
        return out;
    };
    let _ = writeln!(
        out,
        "  region: {} ({:#x}-{:#x})",
        a.region_name(r),
        r.range.start,
        r.range.end
    );
    if let Some(s) = a.spans.iter().find(|s| s.range.contains(&off)) {
        let name = if s.prefix.is_empty() {
            s.name.clone()
        } else {
            format!("{} {}", s.prefix, s.name)
        };
        let _ = writeln!(
            out,
            "  holds: {name}, byte {} of {}",
            off - s.range.start,
            s.range.end - s.range.start
        );
    }
    if let Part::Section(i) = r.part {
        let s = &e.sections[i];
        if s.allocated() {
            let _ = writeln!(
                out,
                "  section address: {:#x}",
                s.addr.wrapping_add(off - s.offset)
            );
        }
    }
    let mut mapped = false;
    for (i, p) in e.loads() {
        for m in maps_lines(p).into_iter().filter(|m| m.file) {
            if !(m.offset..m.offset.saturating_add(m.end - m.start)).contains(&off) {
                continue;
            }
            mapped = true;
            let addr = m.start.wrapping_add(off - m.offset);
            let own = p.file_range().contains(&off);
            let _ = writeln!(
                out,
                "  {} {addr:#x}: {} (ph[{i}]{})",
                if own { "lands at" } else { "also visible at" },
                m.text(0),
                if own { "" } else { "'s page slack" }
            );
        }
    }
    if !mapped {
        let _ = writeln!(out, "  in no mapped page: never in memory");
    }
    out
}
