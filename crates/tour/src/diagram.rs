//! `--diagram`: the address space as boxes, like seed 001's drawings.
//! Low addresses at the top, so the picture reads like the maps file;
//! every gap is one dotted row with its size, however large; big
//! mappings get a taller box. The diff mark stands left of the box.
//!
//! ```text
//!   +--------------------------------+ 0x400000
//!   | stop           r--p      4 KiB |
//!   +--------------------------------+ 0x401000
//!   :                                :  gap 19.4 MiB
//!   +--------------------------------+ 0x1a2b000
//! + | [heap]         rw-p      8 KiB |
//!   +--------------------------------+ 0x1a2d000
//! ```

use crate::annotate::short_name;
use crate::diff::{Line, Mark};
use crate::fit;
use crate::record::Host;
use crate::style::{self, MIB, Style};

/// Inside width of a box.
const WIDTH: usize = 34;
/// What a box's label leaves for the name: ` NAME PERMS  SIZE ` takes 18
/// characters besides it (perms 4, size 9, five blanks).
const NAME_WIDTH: usize = WIDTH - 18;
/// The end of user space with 4-level page tables: TASK_SIZE_MAX, 2^47
/// less a guard page (arch/x86/include/asm/page_64_types.h;
/// Documentation/arch/x86/x86_64/mm.rst).
pub const USER_TOP: u64 = 0x7fff_ffff_f000;
/// The first non-canonical address: from here on bits 63..47 of an
/// address are no longer all equal, so no pointer may hold one (a load or
/// store faults) until the kernel's half.
const NON_CANONICAL: u64 = 1 << 47;
/// Where the kernel's half of the address space starts (mm.rst).
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
/// The same two with 5-level page tables (la57): 56-bit addresses.
const USER_TOP_LA57: u64 = (1 << 56) - 0x1000;
const KERNEL_HALF_LA57: u64 = 0xff00_0000_0000_0000;

/// Where user space could end with `paging_levels` of page tables (the
/// host's `cpu_flags` in the recording say which).
pub fn user_top(paging_levels: u32) -> u64 {
    if paging_levels == 5 {
        USER_TOP_LA57
    } else {
        USER_TOP
    }
}

/// Extra empty rows for a big box: one from 1 MiB, two from 256 MiB.
fn extra_rows(size: u64) -> usize {
    usize::from(size >= MIB) + usize::from(size >= 256 * MIB)
}

/// The notes on the gap up to [vsyscall]: where user space ends and
/// what lies between, for the paging levels this machine runs with.
fn hole(levels: u32) -> Vec<String> {
    if levels == 5 {
        return vec![
            format!(
                "  5-level paging (la57): user space could reach {USER_TOP_LA57:#x}, but mmap goes above {NON_CANONICAL:#x} only for a hint above it;"
            ),
            format!(
                "  the kernel's half starts at {KERNEL_HALF_LA57:#x}; between them is non-canonical: no pointer may hold it"
            ),
        ];
    }
    vec![
        format!(
            "  4-level paging (no la57): user space ends at {USER_TOP:#x}, the kernel's half starts at {KERNEL_HALF:#x};"
        ),
        format!(
            "  {NON_CANONICAL:#x}-{:#x} between them is non-canonical: no pointer may hold it",
            KERNEL_HALF - 1
        ),
    ]
}

/// The picture; notes right of it that would pass `width` continue on
/// the rows below, under themselves.
pub fn draw(lines: &[Line], st: Style, width: Option<usize>, host: &Host) -> String {
    let border = format!("+{}+", "-".repeat(WIDTH));
    let empty = format!("|{}|", " ".repeat(WIDTH));
    let mut out = String::new();
    let mut row = |mark: &str, body: &str, right: &str| {
        // Mark, blank, the box, then the note's own two blanks.
        let room = width.map(|w| w.saturating_sub(WIDTH + 6));
        match room {
            Some(room) if room >= fit::MIN_COLUMN && fit::visible(right) > room + 2 => {
                let (plain, removed) = match right.strip_prefix('\x1b') {
                    Some(_) => (fit::visible_text(right), true),
                    None => (right.to_string(), false),
                };
                for (i, piece) in fit::pieces(plain.trim_start(), room, room)
                    .iter()
                    .enumerate()
                {
                    let piece = format!("  {piece}");
                    let piece = if removed { st.removed(&piece) } else { piece };
                    let mark = if i == 0 { mark } else { " " };
                    out += &format!("{mark} {body}{piece}\n");
                }
            }
            _ => out += &format!("{mark} {body}{right}\n"),
        }
    };
    let now: Vec<&Line> = lines.iter().filter(|l| l.mark != Mark::Removed).collect();
    let gone: Vec<&Line> = lines.iter().filter(|l| l.mark == Mark::Removed).collect();
    let mut last_end: Option<u64> = None;
    for l in &now {
        let m = &l.now;
        match last_end {
            Some(end) if end == m.start => {}
            Some(end) => {
                let mut notes = vec![format!("  gap {}", style::big(m.start - end))];
                for g in gone
                    .iter()
                    .filter(|g| g.now.start < m.start && g.now.end > end)
                {
                    notes.push(st.removed(&format!(
                        "  - {} {} unmapped here",
                        short_name(&g.now),
                        style::size(g.now.size())
                    )));
                }
                // The gap up to [vsyscall] is 16 EiB, but only its ends
                // are address space: the rest no pointer can hold.
                if end <= USER_TOP && m.start > USER_TOP {
                    notes.extend(hole(host.paging_levels));
                }
                if m.path == "[stack]"
                    && let Some(below) = now.iter().map(|o| &o.now).find(|o| o.end == end)
                    && below.perms != "---p"
                {
                    notes.push(format!(
                        "  guard gap: [stack] grows no closer than {} (stack_guard_gap) to {} below: down to {:#x} at most",
                        style::size(host.stack_guard_gap),
                        short_name(below),
                        end + host.stack_guard_gap
                    ));
                }
                for note in &notes {
                    row(" ", &format!(":{}:", " ".repeat(WIDTH)), note);
                }
                row(" ", &border, &format!(" {:#x}", m.start));
            }
            None => row(" ", &border, &format!(" {:#x}", m.start)),
        }
        // By characters: a file name may hold multi-byte ones.
        let name: String = short_name(m).chars().take(NAME_WIDTH).collect();
        let label = format!(
            " {:<w$} {}  {:>9} ",
            name,
            m.perms,
            style::size(m.size()),
            w = NAME_WIDTH
        );
        let mark = l.mark.symbol().to_string();
        let (mark, label) = match l.mark {
            Mark::Added => (st.added(&mark), st.added(&label)),
            Mark::Changed => (st.changed(&mark), st.changed(&label)),
            _ => (mark, label),
        };
        row(&mark, &format!("|{label}|"), "");
        for _ in 0..extra_rows(m.size()) {
            row(" ", &empty, "");
        }
        row(" ", &border, &format!(" {:#x}", m.end));
        last_end = Some(m.end);
    }
    // Mappings gone from beyond the first or last one left.
    for g in gone.iter().filter(|g| {
        now.first().is_none_or(|f| g.now.end <= f.now.start)
            || now.last().is_none_or(|l| g.now.start >= l.now.end)
    }) {
        out += &st.removed(&format!(
            "- {} {} at {:#x} is unmapped\n",
            short_name(&g.now),
            style::size(g.now.size()),
            g.now.start
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use procfs::maps;

    const STOP: &str = include_str!("../tests/data/stop-deleted-space.maps");

    #[test]
    fn boxes_in_address_order_with_gaps_collapsed() {
        let now = maps::parse(STOP).unwrap();
        let pic = draw(&diff(None, &now), Style::default(), None, &Host::default());
        let rows: Vec<&str> = pic.lines().collect();
        assert_eq!(rows[0], "  +----------------------------------+ 0x400000");
        assert!(rows[1] == "  | st op (deleted)  r--p      4 KiB |", "{pic}");
        // The three program lines share borders: no gap between them.
        assert_eq!(rows[2], "  +----------------------------------+ 0x401000");
        assert!(rows[3].contains("r-xp"), "{pic}");
        // Then the big hole up to [vvar], collapsed into one row.
        assert!(rows[7].starts_with("  :"), "{pic}");
        assert!(rows[7].ends_with("gap 127.3 TiB"), "{pic}");
        // Past [stack], the gap to [vsyscall] says what it really is.
        let hole = rows
            .iter()
            .position(|r| r.ends_with("gap 16.0 EiB"))
            .unwrap();
        assert!(rows[hole + 1].contains("ends at 0x7ffffffff000"), "{pic}");
        assert!(rows[hole + 2].contains("non-canonical"), "{pic}");
        // At 80 columns the notes go on below, dotted rows and all.
        let narrow = draw(
            &diff(None, &now),
            Style::default(),
            Some(80),
            &Host::default(),
        );
        assert!(narrow.lines().all(|r| r.chars().count() <= 80), "{narrow}");
        let words = |t: &str| {
            t.split_whitespace()
                .filter(|w| *w != ":")
                .collect::<String>()
        };
        assert_eq!(words(&narrow), words(&pic));
        assert!(narrow.lines().count() > rows.len(), "{narrow}");
        // [vsyscall] is the last box.
        assert!(rows[rows.len() - 2].contains("[vsyscall]"), "{pic}");
        assert_eq!(
            rows.last().unwrap(),
            &"  +----------------------------------+ 0xffffffffff601000"
        );
        assert!(rows.iter().all(|r| !r.contains('\x1b')), "no colour");
    }

    #[test]
    fn the_guard_gap_and_the_paging_levels_are_marked() {
        let now = maps::parse(STOP).unwrap();
        let pic = draw(&diff(None, &now), Style::default(), None, &Host::default());
        let guard = pic
            .lines()
            .find(|r| r.contains("guard gap"))
            .expect("a guard-gap note");
        assert!(
            guard.contains("1 MiB (stack_guard_gap) to [vdso] below"),
            "{guard}"
        );
        assert!(pic.contains("4-level paging (no la57)"), "{pic}");
        let host = Host {
            paging_levels: 5,
            stack_guard_gap: 16 << 12,
            ..Host::default()
        };
        let pic = draw(&diff(None, &now), Style::default(), None, &host);
        assert!(pic.contains("5-level paging (la57)"), "{pic}");
        assert!(pic.contains("64 KiB (stack_guard_gap)"), "{pic}");
        // A PROT_NONE mapping below does not count: no note.
        let mut text = STOP.to_string();
        text = text.replace(
            "r-xp 00000000 00:00 0                          [vdso]",
            "---p 00000000 00:00 0                          [vdso]",
        );
        let pic = draw(
            &diff(None, &maps::parse(&text).unwrap()),
            Style::default(),
            None,
            &Host::default(),
        );
        assert!(!pic.contains("guard gap"), "{pic}");
    }

    #[test]
    fn long_names_are_cut_by_characters() {
        // 2-byte characters: a cut by bytes at 16 would split one.
        let m = procfs::Mapping::parse(
            "7f0000000000-7f0000001000 r--p 00000000 08:01 42 /tmp/ééééééééééééééééé",
        )
        .unwrap();
        let pic = draw(&diff(None, &[m]), Style::default(), None, &Host::default());
        assert!(pic.contains("| éééééééééééééééé r--p "), "{pic}");
    }

    #[test]
    fn big_boxes_are_taller_and_unmapped_ones_are_named() {
        let base = maps::parse(STOP).unwrap();
        let mut with = base.clone();
        with.push(
            procfs::Mapping::parse("7f0000000000-7f0020000000 rw-p 00000000 00:00 0 ").unwrap(),
        );
        with.sort_by_key(|m| m.start);
        let pic = draw(
            &diff(Some(&base), &with),
            Style::default(),
            None,
            &Host::default(),
        );
        let at = pic.lines().position(|r| r.contains("512 MiB")).unwrap();
        let rows: Vec<&str> = pic.lines().collect();
        assert!(rows[at].starts_with("+ | (anon)"), "{pic}");
        assert!(rows[at + 1].starts_with("  |  "), "{pic}");
        assert!(rows[at + 2].starts_with("  |  "), "{pic}");
        let back = draw(
            &diff(Some(&with), &base),
            Style::default(),
            None,
            &Host::default(),
        );
        assert!(back.contains("- (anon) 512 MiB unmapped here"), "{back}");
    }
}
