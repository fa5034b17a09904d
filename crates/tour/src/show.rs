//! One stop on screen: every maps line with its diff mark, size, name and
//! annotation, the addresses the demo printed pointed at their lines,
//! and the per-demo summary.

use procfs::Mapping;

use crate::annotate::{self, Context, Point};
use crate::diagram::USER_TOP;
use crate::diff::{self, Line, Mark};
use crate::style::{self, Style};

/// Width of the name column.
const NAME: usize = 14;

/// The annotated maps of one stop, marked against `before`.
pub fn maps(
    lines: &[Line],
    ctx: &Context,
    points: &[Point],
    marks_stack: bool,
    st: Style,
) -> String {
    // As wide as user-space addresses; [vsyscall]'s kernel address sticks out.
    let width = lines
        .iter()
        .filter(|l| l.now.end <= USER_TOP)
        .map(|l| format!("{:08x}", l.now.end).len())
        .max()
        .unwrap_or(8);
    let mut out = String::new();
    for l in lines {
        let m = &l.now;
        let mut note = annotate::annotate(m, ctx);
        match l.mark {
            Mark::Changed => note = format!("{} | {note}", l.delta()),
            Mark::Removed => note = format!("unmapped | {note}"),
            Mark::Added => {
                if let Some(why) = above_older(l, lines) {
                    note = format!("{why} | {note}");
                }
            }
            Mark::Same => {}
        }
        let text = format!(
            "{} {:<range$} {} {:>9}  {:<NAME$} {}",
            l.mark.symbol(),
            format!("{:08x}-{:08x}", m.start, m.end),
            m.perms,
            style::size(m.size()),
            annotate::short_name(m),
            st.dim(&note),
            range = 2 * width + 1
        );
        out += &match l.mark {
            Mark::Added => st.added(&text),
            Mark::Removed => st.removed(&text),
            Mark::Changed => st.changed(&text),
            Mark::Same => text,
        };
        out += "\n";
        if l.mark == Mark::Removed {
            continue;
        }
        let pad = " ".repeat(width * 2 + 4);
        for p in points.iter().filter(|p| m.contains(p.addr)) {
            out += &format!("{pad}<- {}\n", point(p, m, ctx));
        }
        if let Some(prog) = ctx.program.as_ref().filter(|p| p.offset != 0)
            && prog.owns(m)
            && !lines
                .iter()
                .any(|o| o.now.start < m.start && prog.owns(&o.now))
        {
            out += &format!(
                "{pad}<- a PIE: loaded {:#x} above its link address; ELF address = address - {:#x}\n",
                prog.offset, prog.offset
            );
        }
        if let (true, Some(stat)) = (marks_stack && m.path == "[stack]", &ctx.stat) {
            for mark in annotate::stack_marks(m, stat) {
                out += &format!("{pad}<- {mark}\n");
            }
        }
    }
    for p in points {
        if !lines
            .iter()
            .any(|l| l.mark != Mark::Removed && l.now.contains(p.addr))
        {
            out += &format!(
                "  ! {} ({}) at {:#x} is in no mapping\n",
                p.name, p.place, p.addr
            );
        }
    }
    out
}

/// For a new anonymous line that landed *above* an older one: mmap
/// takes the highest free range below the mmap base that fits, and an
/// older mapping aligned to 2 MiB (for transparent huge pages) leaves a
/// free range above it.
fn above_older(l: &Line, lines: &[Line]) -> Option<String> {
    let m = &l.now;
    if !m.path.is_empty() {
        return None;
    }
    let older = lines
        .iter()
        .filter(|o| o.mark == Mark::Same && o.now.path.is_empty() && o.now.end <= m.start)
        .map(|o| &o.now)
        .max_by_key(|o| o.end)?;
    // Only when nothing else lies between them: the new one is next up.
    if lines
        .iter()
        .any(|o| o.mark != Mark::Removed && o.now.start >= older.end && o.now.end <= m.start)
    {
        return None;
    }
    const HUGE: u64 = 2 << 20;
    let why = if older.start.is_multiple_of(HUGE) && older.size().is_multiple_of(HUGE) {
        ": the older one is 2 MiB-aligned (THP), which left this gap free above it"
    } else {
        ""
    };
    Some(format!(
        "landed ABOVE the older mapping at {:#x}, {} higher{why}",
        older.start,
        style::big(m.start - older.end)
    ))
}

/// `counter (.data) 0x402b18: section .data, as printed`.
fn point(p: &Point, m: &Mapping, ctx: &Context) -> String {
    let section = ctx.program.as_ref().and_then(|prog| {
        prog.owns(m)
            .then(|| prog.section_at(p.addr))
            .flatten()
            .map(str::to_string)
    });
    let mut text = format!("{} ({}) at {:#x}", p.name, p.place, p.addr);
    if let Some(prog) = ctx
        .program
        .as_ref()
        .filter(|p| p.offset != 0 && section.is_some())
    {
        text += &format!(" = ELF {:#x} + load offset", p.addr - prog.offset);
    }
    if let Some(s) = &section {
        text += &format!(", in section {s}");
    }
    if annotate::place_agrees(&p.place, m, section.as_deref()) {
        text += ": as printed";
    } else {
        text += ": NOT where the demo said";
    }
    text
}

/// What changed from the first stop to the last, one item each.
pub fn net_changes(first: &[Mapping], last: &[Mapping]) -> Vec<String> {
    diff::changes(first, last)
        .iter()
        .map(|l| {
            let name = annotate::short_name(&l.now);
            match l.mark {
                Mark::Changed => format!("~ {name} {}", l.delta()),
                m => format!("{} {name} {}", m.symbol(), style::size(l.now.size())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use procfs::maps;

    const STOP: &str = include_str!("../tests/data/stop-deleted-space.maps");

    #[test]
    fn every_line_has_mark_size_name_and_words() {
        let now = maps::parse(STOP).unwrap();
        let text = maps(
            &diff::diff(None, &now),
            &Context::default(),
            &[],
            false,
            Style::default(),
        );
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), now.len());
        assert!(rows[0].starts_with("  00400000-00401000 "), "{text}");
        assert!(
            rows[0].contains(" r--p     4 KiB  st op (deleted) a file"),
            "{text}"
        );
        assert!(rows[6].contains("132 KiB  [stack] "), "{text}");
        assert!(
            rows[7].starts_with("  ffffffffff600000-ffffffffff601000 --xp"),
            "{text}"
        );
    }

    #[test]
    fn points_hang_under_their_line() {
        let now = maps::parse(STOP).unwrap();
        let pts = annotate::points("local stack 0x7fffd30fe000\nwild mmap 0x10\n");
        let text = maps(
            &diff::diff(None, &now),
            &Context::default(),
            &pts,
            false,
            Style::default(),
        );
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[6].contains("[stack]"));
        assert!(
            rows[7]
                .trim_start()
                .starts_with("<- local (stack) at 0x7fffd30fe000: as printed"),
            "{text}"
        );
        assert!(
            text.contains("! wild (mmap) at 0x10 is in no mapping"),
            "{text}"
        );
    }

    #[test]
    fn net_changes_name_what_moved() {
        let a = maps::parse(STOP).unwrap();
        let mut b = a.clone();
        b.push(Mapping::parse("01a2b000-01a2e000 rw-p 00000000 00:00 0    [heap]").unwrap());
        b.sort_by_key(|m| m.start);
        assert_eq!(net_changes(&a, &b), ["+ [heap] 12 KiB"]);
    }
}
