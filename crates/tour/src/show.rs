//! One stop on screen: every maps line with its diff mark, size, name and
//! annotation, the addresses the demo printed pointed at their lines,
//! and the per-demo summary.

use std::collections::HashSet;

use procfs::Mapping;

use crate::annotate::{self, Context, Point};
use crate::diagram::USER_TOP;
use crate::diff::{self, Line, Mark};
use crate::fit;
use crate::resident;
use crate::style::{self, Style};

/// Width of the name column.
const NAME: usize = 14;

/// How the table is laid out.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layout {
    /// Fit the rows to this many columns.
    pub width: Option<usize>,
    /// Every annotation at every stop, not only where it is new.
    pub explain_all: bool,
}

/// Which annotations a demo's table has shown: a mapping (its file or,
/// anonymous, its start, and its permissions) with its words.
pub type Explained = HashSet<String>;

fn explained_key(m: &Mapping, words: &str) -> String {
    let which = if m.path.is_empty() {
        format!("{:x}", m.start)
    } else {
        m.path.clone()
    };
    format!("{which}|{}|{words}", m.perms)
}

/// What a line says: its change (`+4 KiB`, `unmapped`, or nothing) and
/// its annotation, if it is new in the demo or changed (or `all`).
pub fn note(
    l: &Line,
    ctx: &Context,
    all: bool,
    explained: &mut Explained,
) -> (String, Option<String>) {
    let words = annotate::annotate(&l.now, ctx);
    let new = if l.mark == Mark::Removed {
        all
    } else {
        explained.insert(explained_key(&l.now, &words)) || all
    };
    let change = match l.mark {
        Mark::Changed => l.delta(),
        Mark::Removed => "unmapped".into(),
        _ => String::new(),
    };
    (change, new.then_some(words))
}

/// One table row: `prefix` and its `note`, fitted to the layout's width
/// (continuation lines indented under the note), each line in colour.
pub fn row(prefix: &str, note: &str, mark: Mark, st: Style, width: Option<usize>) -> String {
    let paint = |t: &str| match mark {
        Mark::Added => st.added(t),
        Mark::Removed => st.removed(t),
        Mark::Changed => st.changed(t),
        Mark::Same if note.is_empty() => st.dim(t),
        Mark::Same => t.to_string(),
    };
    let used = fit::visible(prefix);
    let fits = width.is_none_or(|w| used + note.chars().count() <= w);
    if note.is_empty() || fits {
        return paint(format!("{prefix}{}", st.dim(note)).trim_end()) + "\n";
    }
    let w = width.unwrap_or(usize::MAX);
    let mut out = String::new();
    let (mut head, indent, parts) = if w.saturating_sub(used) >= fit::MIN_COLUMN {
        let room = w - used;
        (prefix.to_string(), used, fit::pieces(note, room, room))
    } else {
        // Too narrow for a column: the words go below the row.
        let indent = 4.min(w / 4);
        out += &paint(prefix.trim_end());
        out += "\n";
        let room = w - indent;
        (" ".repeat(indent), indent, fit::pieces(note, room, room))
    };
    for p in &parts {
        out += &paint(&format!("{head}{}", st.dim(p)));
        out += "\n";
        head = " ".repeat(indent);
    }
    out
}

/// What of each mapping is resident now and was at the last stop, with
/// the glyphs of the page strip.
pub struct Resident<'a> {
    pub now: &'a resident::View,
    pub before: Option<&'a resident::View>,
    pub glyphs: resident::Glyphs,
}

/// The Rss and strip columns of a line, its residency change (which
/// marks an otherwise unchanged line `~`) and what to say of it.
fn residency(l: &Line, res: Option<&Resident>) -> (String, Option<String>, Vec<String>) {
    let Some(r) = res else {
        return (String::new(), None, Vec::new());
    };
    let now = r.now.get(&l.now.start).filter(|_| l.mark != Mark::Removed);
    let Some(now) = now else {
        return (
            format!("{} ", resident::columns(None, r.glyphs)),
            None,
            Vec::new(),
        );
    };
    // The same mapping at the last stop: where it started then (a
    // [stack] that grew down has moved its start).
    let was = l.before.as_ref().map_or(l.now.start, |b| b.start);
    let before = r
        .before
        .and_then(|b| b.get(&was))
        .filter(|_| l.mark != Mark::Added);
    (
        format!("{} ", resident::columns(Some(now), r.glyphs)),
        before.and_then(|b| resident::delta(b, now)),
        resident::notes(&l.now, now, before),
    )
}

/// The digits of an address in the maps table of `lines`: as many as
/// the highest user-space address needs (at least 8); [vsyscall]'s
/// kernel address sticks out.
pub fn address_width(lines: &[Line]) -> usize {
    lines
        .iter()
        .filter(|l| l.now.end <= USER_TOP)
        .map(|l| format!("{:08x}", l.now.end).len())
        .max()
        .unwrap_or(8)
}

/// The first columns of a maps table's line: mark, address range
/// (`width` digits an address, see [`address_width`]), permissions, size.
pub fn line_start(mark: Mark, m: &Mapping, width: usize) -> String {
    format!(
        "{} {:<range$} {} {:>9}",
        mark.symbol(),
        format!("{:08x}-{:08x}", m.start, m.end),
        m.perms,
        style::size(m.size()),
        range = 2 * width + 1
    )
}

/// The annotated maps of one stop, marked against `before`. A line's
/// annotation is given where it is new in the demo (`explained` keeps
/// those given) or changed; a line seen before shows without it. With
/// `res`, the Rss column and page strip follow the size, and a change of
/// residency is a change like any other (`~`).
#[allow(clippy::too_many_arguments)]
pub fn maps(
    lines: &[Line],
    ctx: &Context,
    points: &[Point],
    marks_stack: bool,
    st: Style,
    layout: Layout,
    explained: &mut Explained,
    res: Option<&Resident>,
) -> String {
    let width = address_width(lines);
    let mut out = String::new();
    for l in lines {
        let m = &l.now;
        let (mut change, words) = note(l, ctx, layout.explain_all, explained);
        if l.mark == Mark::Added
            && let Some(why) = above_older(l, lines)
        {
            change = why;
        }
        let (columns, moved, said) = residency(l, res);
        let mut mark = l.mark;
        if let Some(d) = moved {
            change = if change.is_empty() {
                d
            } else {
                format!("{change}, {d}")
            };
            if mark == Mark::Same {
                mark = Mark::Changed;
            }
        }
        let mut note = match (change.is_empty(), words) {
            (true, Some(w)) => w,
            (false, Some(w)) => format!("{change} | {w}"),
            (_, None) => change,
        };
        for n in said {
            note = if note.is_empty() {
                n
            } else {
                format!("{note} | {n}")
            };
        }
        let prefix = format!(
            "{} {columns} {:<NAME$} ",
            line_start(mark, m, width),
            annotate::short_name(m),
        );
        out += &row(&prefix, &note, mark, st, layout.width);
        let pad = " ".repeat(width * 2 + 4);
        for note in under(l, lines, ctx, points, marks_stack) {
            out += &format!("{pad}<- {note}\n");
        }
    }
    for p in astray(lines, points) {
        out += &format!("  ! {p}\n");
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

/// What hangs under a line: the demo's addresses in it, a PIE's load
/// offset at its first line, argv/envp/auxv in [stack].
pub fn under(
    l: &Line,
    lines: &[Line],
    ctx: &Context,
    points: &[Point],
    marks_stack: bool,
) -> Vec<String> {
    let m = &l.now;
    let mut notes = Vec::new();
    if l.mark == Mark::Removed {
        return notes;
    }
    for p in points.iter().filter(|p| m.contains(p.addr)) {
        notes.push(point(p, m, ctx));
    }
    if let Some(prog) = ctx.program.as_ref().filter(|p| p.offset != 0)
        && prog.owns(m)
        && !lines
            .iter()
            .any(|o| o.now.start < m.start && prog.owns(&o.now))
    {
        notes.push(format!(
            "a PIE: loaded {:#x} above its link address; ELF address = address - {:#x}",
            prog.offset, prog.offset
        ));
    }
    if let (true, Some(stat)) = (marks_stack && m.path == "[stack]", &ctx.stat) {
        notes.extend(annotate::stack_marks(m, stat));
    }
    notes
}

/// The demo's addresses that lie in no mapping.
pub fn astray(lines: &[Line], points: &[Point]) -> Vec<String> {
    points
        .iter()
        .filter(|p| {
            !lines
                .iter()
                .any(|l| l.mark != Mark::Removed && l.now.contains(p.addr))
        })
        .map(|p| format!("{} ({}) at {:#x} is in no mapping", p.name, p.place, p.addr))
        .collect()
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
    if p.place == crate::tasks::FROM_KERNEL {
        text = format!("{} at {:#x}: from /proc/PID/task", p.name, p.addr);
    } else if annotate::place_agrees(&p.place, m, section.as_deref()) {
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
            Layout::default(),
            &mut Explained::new(),
            None,
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
            Layout::default(),
            &mut Explained::new(),
            None,
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
    fn annotations_once_then_only_when_changed_and_fitted() {
        let a = maps::parse(STOP).unwrap();
        let mut b = a.clone();
        b[6].start -= 0x1000;
        let mut seen = Explained::new();
        let layout = Layout {
            width: Some(100),
            explain_all: false,
        };
        let show = |before: Option<&[Mapping]>, now: &[Mapping], seen: &mut Explained| {
            let ctx = Context::default();
            maps(
                &diff::diff(before, now),
                &ctx,
                &[],
                false,
                Style::default(),
                layout,
                seen,
                None,
            )
        };
        let first = show(None, &a, &mut seen);
        assert!(first.contains("grows down"), "{first}");
        assert!(first.lines().all(|l| l.chars().count() <= 100), "{first}");
        // Continuations sit under the annotation column, 59 characters in.
        let rows: Vec<&str> = first.lines().collect();
        let vvar = rows.iter().position(|l| l.contains("[vvar] ")).unwrap();
        let cont = rows[vvar + 1];
        assert!(cont.starts_with(&" ".repeat(59)), "{first}");
        assert!(cont.as_bytes()[59] != b' ', "{first}");
        // At 80 the column would be 21 wide: the words go below the row.
        let narrow = Layout {
            width: Some(80),
            explain_all: false,
        };
        let ctx = Context::default();
        let below = maps(
            &diff::diff(None, &a),
            &ctx,
            &[],
            false,
            Style::default(),
            narrow,
            &mut Explained::new(),
            None,
        );
        assert!(below.lines().all(|l| l.chars().count() <= 80), "{below}");
        assert!(
            below
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("    a file mapped"),
            "{below}"
        );
        let second = show(Some(&a), &b, &mut seen);
        assert!(!second.contains("grows down"), "said once: {second}");
        assert!(!second.contains("kernel data"), "{second}");
        let stack = second.lines().find(|l| l.contains("[stack]")).unwrap();
        assert!(
            stack.ends_with("132 KiB -> 136 KiB, +4 KiB (grew down)"),
            "{stack}"
        );
        let vvar = second.lines().find(|l| l.contains("[vvar]")).unwrap();
        assert!(vvar.ends_with("[vvar]"), "no trailing blanks: {vvar:?}");
        let all = Layout {
            width: None,
            explain_all: true,
        };
        let every = maps(
            &diff::diff(Some(&a), &b),
            &Context::default(),
            &[],
            false,
            Style::default(),
            all,
            &mut seen,
            None,
        );
        assert!(
            every.contains("(grew down) | main thread's stack"),
            "{every}"
        );
        assert_eq!(every.lines().count(), a.len(), "one line each: {every}");
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
