//! Renderer side of residency: what of each mapping is in RAM, read from
//! a stop's raw `smaps` and `pagemap.present` files (never from /proc):
//! the Rss column, the page strip, and what changed since the last stop.
//!
//! The strip has [`CELLS`] cells, each for an equal share of the
//! mapping's pages (one a page if it has fewer): one glyph if all of that
//! share is present in pagemap, one if some, one if none.

use std::collections::BTreeMap;

use procfs::maps::PAGE;
use procfs::{Mapping, smaps};

use crate::style;

/// Cells of a page strip.
pub const CELLS: usize = 8;

/// All, some, none present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Glyphs(pub char, pub char, pub char);

pub const UTF8: Glyphs = Glyphs('█', '▒', '·');
pub const ASCII: Glyphs = Glyphs('#', '+', '.');

impl Glyphs {
    /// UTF-8 glyphs where the locale says the terminal takes UTF-8
    /// (`LC_ALL`, else `LC_CTYPE`, else `LANG`, as setlocale(3) looks),
    /// unless `ascii` is asked for.
    pub fn detect(ascii: bool) -> Glyphs {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !ascii && (locale.contains("utf-8") || locale.contains("utf8")) {
            UTF8
        } else {
            ASCII
        }
    }
}

/// What smaps and pagemap say of one mapping.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Res {
    pub rss: u64,
    pub anonymous: u64,
    pub private_dirty: u64,
    pub shared_dirty: u64,
    pub anon_huge: u64,
    /// One bit a page; empty when the stop has no pagemap.present.
    pub present: Vec<bool>,
}

impl Res {
    pub fn present_pages(&self) -> usize {
        self.present.iter().filter(|&&b| b).count()
    }
}

/// Every mapping of a stop, by start address.
pub type View = BTreeMap<u64, Res>;

/// Reads a stop's `smaps` (required) and `pagemap.present` (optional).
pub fn view(smaps_text: Option<&str>, present: Option<&str>) -> Option<View> {
    let all = smaps::parse(smaps_text?).ok()?;
    let bits = present.map(parse_present).unwrap_or_default();
    Some(
        all.into_iter()
            .map(|s| {
                let r = Res {
                    rss: s.rss(),
                    anonymous: s.anonymous(),
                    private_dirty: s.private_dirty(),
                    shared_dirty: s.shared_dirty(),
                    anon_huge: s.anon_huge_pages(),
                    present: bits.get(&s.mapping.start).cloned().unwrap_or_default(),
                };
                (s.mapping.start, r)
            })
            .collect(),
    )
}

/// `START-END HEX` lines (see pages.rs) into bits by start address.
pub fn parse_present(text: &str) -> BTreeMap<u64, Vec<bool>> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((range, hex)) = line.split_once(' ') else {
            continue;
        };
        let Some((s, e)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(s, 16), u64::from_str_radix(e, 16)) else {
            continue;
        };
        let pages = (end.saturating_sub(start) / PAGE) as usize;
        let nibble = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        let mut bits = Vec::with_capacity(pages + 8);
        for pair in hex.as_bytes().chunks(2) {
            let byte = pair.iter().fold(0u8, |b, &c| (b << 4) | nibble(c));
            bits.extend((0..8).map(|i| byte & (1 << i) != 0));
        }
        bits.resize(pages, false);
        out.insert(start, bits);
    }
    out
}

/// `[████····]`, padded to the width of a full strip.
pub fn strip(bits: &[bool], g: Glyphs) -> String {
    if bits.is_empty() {
        return " ".repeat(CELLS + 2);
    }
    let cells: String = procfs::pagemap::cells(bits, CELLS)
        .iter()
        .map(|c| match c {
            procfs::pagemap::Cell::All => g.0,
            procfs::pagemap::Cell::Some => g.1,
            procfs::pagemap::Cell::None => g.2,
        })
        .collect();
    let n = cells.chars().count();
    format!("[{cells}]{}", " ".repeat(CELLS - n))
}

/// The columns after the size: Rss and the strip (blank without data).
pub fn columns(r: Option<&Res>, g: Glyphs) -> String {
    match r {
        Some(r) => format!("{:>9} {}", style::size(r.rss), strip(&r.present, g)),
        None => " ".repeat(9 + 1 + CELLS + 2),
    }
}

/// `Rss 0 KiB -> 4 MiB, +1024 pages`, or for pages that came or went
/// without changing Rss (the zero page) `present 0 -> 16384 pages`.
pub fn delta(before: &Res, now: &Res) -> Option<String> {
    if before.rss != now.rss {
        let pages = (now.rss as i64 - before.rss as i64) / PAGE as i64;
        let s = if pages.abs() == 1 { "" } else { "s" };
        return Some(format!(
            "Rss {} -> {}, {pages:+} page{s}",
            style::size(before.rss),
            style::size(now.rss)
        ));
    }
    let (a, b) = (before.present_pages(), now.present_pages());
    (a != b && !now.present.is_empty() && !before.present.is_empty())
        .then(|| format!("present {a} -> {b} pages, Rss the same"))
}

/// What to say of a mapping's residency, where it helps the lesson.
pub fn notes(m: &Mapping, r: &Res, before: Option<&Res>) -> Vec<String> {
    let mut out = Vec::new();
    let plain_anonymous = m.anonymous() && (!m.is_special() || m.path == "[heap]");
    let present = r.present_pages() as u64 * PAGE;
    if plain_anonymous && present > r.rss {
        out.push(format!(
            "{} pages present but not in Rss: reads of untouched memory map the kernel's one shared zero page, which is no page of ours",
            (present - r.rss) / PAGE
        ));
    }
    if r.shared_dirty > 0 && m.anonymous() {
        out.push(format!(
            "Shared_Dirty {}: written pages also mapped by another process (after fork, until one writes: copy-on-write)",
            style::size(r.shared_dirty)
        ));
    } else if r.private_dirty > 0 && before.is_some_and(|b| b.shared_dirty > 0) {
        out.push(format!(
            "Private_Dirty {}, Shared_Dirty 0: a write made the copy; each process has its own page now",
            style::size(r.private_dirty)
        ));
    }
    if r.anon_huge > 0 {
        out.push(format!(
            "AnonHugePages {}: mapped by transparent huge pages (2 MiB each, one page-table entry)",
            style::size(r.anon_huge)
        ));
    }
    out
}

/// The legend, shown at a run's first stop.
pub fn legend(g: Glyphs) -> String {
    format!(
        "  columns: size, Rss (resident in RAM, /proc/PID/smaps), pages present (/proc/PID/pagemap: {} all {} some {} none), name\n",
        g.0, g.1, g.2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_text_round_trips_to_bits() {
        let bits = parse_present("1000-b000 0102\nzz\n");
        let b = &bits[&0x1000];
        assert_eq!(b.len(), 10);
        assert!(b[0] && b[9] && !b[1] && !b[8]);
    }

    #[test]
    fn strips_and_deltas() {
        let mut bits = vec![false; 16];
        bits[..4].fill(true);
        bits[5] = true;
        assert_eq!(strip(&bits, ASCII), "[##+.....]");
        assert_eq!(strip(&bits[..2], UTF8), "[██]      ");
        let before = Res::default();
        let now = Res {
            rss: 4 << 20,
            ..Res::default()
        };
        assert_eq!(
            delta(&before, &now).unwrap(),
            "Rss 0 KiB -> 4 MiB, +1024 pages"
        );
        assert_eq!(delta(&now, &now), None);
    }
}
