//! The address space of one stop as an SVG picture, for `--html` and
//! `--svg`. In the maps file's order, low addresses on top; each region
//! as tall as the log of its size, coloured by kind; gaps compressed to
//! a fixed break with their true size written in; the end of user space
//! and the non-canonical hole marked. All stops of a demo share one
//! frame (the same rows at the same heights), so stepping through them
//! moves only what changed: new, gone and resized regions are marked in
//! words and outline too, not colour alone. Residency (smaps `Rss`) is
//! drawn inside a region when the stop has an `smaps` file.

use std::fmt::Write as _;

use procfs::maps::PAGE;
pub use procfs::markup::escape;
use procfs::{Mapping, maps};

use crate::annotate::{self, Context};
use crate::diff::same_mapping;
use crate::style;

/// Picture width, and where the boxes and the notes start.
const WIDTH: u32 = 840;
const BOX_X: u32 = 150;
const BOX_W: u32 = 330;
const NOTE_X: u32 = BOX_X + BOX_W + 12;
/// A region's height: `MIN_H` for a page, `PER_DOUBLING` more for each
/// doubling of its size, at most `MAX_H`.
const MIN_H: f64 = 22.0;
const PER_DOUBLING: f64 = 5.0;
const MAX_H: f64 = 130.0;
/// A compressed gap, and the hole at the end of user space.
const GAP_H: u32 = 24;
const HOLE_H: u32 = 56;

/// The kinds of region, their CSS class and legend text.
pub const KINDS: &[(&str, &str)] = &[
    ("prog-r", "program r-- (headers, .rodata)"),
    ("prog-x", "program r-x (.text)"),
    ("prog-w", "program rw- (.data, .bss)"),
    ("heap", "[heap]"),
    ("stack", "[stack]"),
    ("anon", "anonymous"),
    ("guard", "no access (guard)"),
    ("file", "file-backed"),
    ("vdso", "[vvar] / [vdso]"),
    ("vsyscall", "[vsyscall]"),
];

/// The colours, shared by the HTML page and the standalone SVG files.
pub const CSS: &str = "
.k-prog-r{fill:#cfe2ff}.k-prog-x{fill:#ffd8a8}.k-prog-w{fill:#b2f2bb}
.k-heap{fill:#ffc9c9}.k-stack{fill:#d0bfff}.k-anon{fill:#fff3bf}
.k-guard{fill:#f8f9fa}.k-file{fill:#99e9f2}.k-vdso{fill:#dee2e6}.k-vsyscall{fill:#adb5bd}
.region rect.box{stroke:#495057;stroke-width:1}
.region.added rect.box{stroke:#2b8a3e;stroke-width:3}
.region.changed rect.box{stroke:#e67700;stroke-width:3}
.region.removed rect.box{fill:none;stroke:#c92a2a;stroke-width:2;stroke-dasharray:6 4}
.region.absent rect.box{fill:none;stroke:#ced4da;stroke-dasharray:2 4}
.rss{fill:#495057;opacity:.55}
.addr,.label,.note,.gap,.legend{font:12px ui-monospace,'DejaVu Sans Mono',monospace;fill:#212529}
.note .added,.note.added{fill:#2b8a3e;font-weight:bold}.note .changed{fill:#b35c00;font-weight:bold}
.note .removed{fill:#c92a2a;font-weight:bold}
.gap{fill:#495057}
";

/// One row of the frame: a region that is the same mapping from stop
/// to stop (it may grow, shrink, come or go).
#[derive(Clone, Debug)]
struct Slot {
    min_start: u64,
    max_end: u64,
    max_size: u64,
    /// Its mapping at each stop, if any.
    at: Vec<Option<Mapping>>,
}

/// The rows shared by all stops of a demo.
pub struct Frame {
    slots: Vec<Slot>,
}

impl Frame {
    /// The frame for a demo's stops (their maps files, parsed).
    pub fn new(stops: &[Vec<Mapping>]) -> Frame {
        let n = stops.len();
        let mut slots: Vec<Slot> = Vec::new();
        for (k, maps) in stops.iter().enumerate() {
            let mut taken = vec![false; slots.len()];
            for m in maps {
                let found = slots.iter().enumerate().position(|(i, s)| {
                    !taken[i] && k > 0 && s.at[k - 1].as_ref().is_some_and(|p| same_mapping(p, m))
                });
                let i = match found {
                    Some(i) => i,
                    None => {
                        slots.push(Slot {
                            min_start: m.start,
                            max_end: m.end,
                            max_size: 0,
                            at: vec![None; n],
                        });
                        taken.push(false);
                        slots.len() - 1
                    }
                };
                taken[i] = true;
                let s = &mut slots[i];
                s.min_start = s.min_start.min(m.start);
                s.max_end = s.max_end.max(m.end);
                s.max_size = s.max_size.max(m.size());
                s.at[k] = Some(m.clone());
            }
        }
        slots.sort_by_key(|s| (s.min_start, s.max_end));
        Frame { slots }
    }
}

fn height(size: u64) -> f64 {
    let pages = (size / PAGE).max(1) as f64;
    (MIN_H + PER_DOUBLING * pages.log2()).min(MAX_H)
}

/// The kind of a region, for its colour.
pub fn kind(m: &Mapping, ctx: &Context) -> &'static str {
    if let Some(p) = &ctx.program
        && (p.owns(m) || annotate::annotate(m, ctx).starts_with("the rest of .bss"))
    {
        return if m.executable() {
            "prog-x"
        } else if m.writable() {
            "prog-w"
        } else {
            "prog-r"
        };
    }
    match m.path.as_str() {
        "[heap]" => "heap",
        "[stack]" => "stack",
        "[vsyscall]" => "vsyscall",
        p if p.starts_with("[vvar") || p == "[vdso]" => "vdso",
        _ if m.perms.starts_with("---") => "guard",
        _ if m.anonymous() => "anon",
        _ => "file",
    }
}

/// Resident bytes per mapping start, from an smaps file's `Rss:` lines.
pub fn rss(smaps: &str) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = None;
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Rss:") {
            let kb = kb.trim().trim_end_matches("kB").trim().parse::<u64>();
            if let (Some(s), Ok(kb)) = (start.take(), kb) {
                out.push((s, kb * 1024));
            }
        } else if let Ok(m) = maps::parse(line) {
            start = m.first().map(|m| m.start);
        }
    }
    out
}

/// The picture of stop `k` in `frame`. `id` makes its ids unique in a
/// page; `title` is its accessible name.
pub fn draw(
    frame: &Frame,
    k: usize,
    ctx: &Context,
    smaps: Option<&str>,
    id: &str,
    title: &str,
) -> String {
    let resident = smaps.map(rss).unwrap_or_default();
    let user_top = crate::diagram::user_top(ctx.host.paging_levels);
    let mut body = String::new();
    let mut y: u32 = 8;
    let mut last_end: Option<u64> = None;
    fn present(s: &Slot, k: usize) -> Option<&Mapping> {
        s.at[k].as_ref()
    }
    fn before(s: &Slot, k: usize) -> Option<&Mapping> {
        k.checked_sub(1).and_then(|p| s.at[p].as_ref())
    }
    for (i, s) in frame.slots.iter().enumerate() {
        if let Some(end) = last_end.filter(|&e| s.min_start > e) {
            let hole = end <= user_top && s.min_start > user_top;
            // The gap as it is at this stop: from the nearest region
            // present above to this one.
            let above = frame.slots[..i]
                .iter()
                .rev()
                .find_map(|o| present(o, k).map(|m| m.end));
            let size = match (above, present(s, k)) {
                (Some(a), Some(m)) if m.start > a => format!("gap {}", style::big(m.start - a)),
                _ => "gap".into(),
            };
            let h = if hole { HOLE_H } else { GAP_H };
            let pattern = if hole { "hatch" } else { "dots" };
            let _ = write!(
                body,
                r#"<rect class="{pattern}" fill="url(#{id}-{pattern})" x="{BOX_X}" y="{y}" width="{BOX_W}" height="{h}"/><text class="gap" x="{}" y="{}">{size}</text>"#,
                NOTE_X,
                y + 16
            );
            if hole {
                let _ = write!(
                    body,
                    r#"<text class="gap" x="{NOTE_X}" y="{}">user space ends at {user_top:#x};</text><text class="gap" x="{NOTE_X}" y="{}">non-canonical up to the kernel's half</text>"#,
                    y + 32,
                    y + 48
                );
            }
            y += h;
        }
        let h = height(s.max_size).round() as u32;
        let (m, state) = match (present(s, k), before(s, k)) {
            (Some(m), None) if k > 0 => (m, "added"),
            (Some(m), Some(b)) if b != m => (m, "changed"),
            (Some(m), _) => (m, "same"),
            (None, Some(b)) => (b, "removed"),
            (None, None) => {
                // Not mapped at this stop: its place is kept, empty.
                let _ = write!(
                    body,
                    r#"<g class="region absent"><rect class="box" x="{BOX_X}" y="{y}" width="{BOX_W}" height="{h}"/></g>"#
                );
                y += h;
                last_end = Some(s.max_end);
                continue;
            }
        };
        // Drawn at its own size in its row; a stack keeps its top.
        let rh = height(m.size()).round() as u32;
        let ry = if m.path == "[stack]" { y + h - rh } else { y };
        let kind = kind(m, ctx);
        let name = annotate::short_name(m);
        let _ = write!(
            body,
            r#"<g class="region {state}"><rect class="box k-{kind}" x="{BOX_X}" y="{ry}" width="{BOX_W}" height="{rh}"><title>{}</title></rect>"#,
            escape(&annotate::annotate(m, ctx))
        );
        if let Some(&(_, bytes)) = resident.iter().find(|(st, _)| *st == m.start) {
            let w = ((bytes as f64 / m.size().max(1) as f64) * f64::from(BOX_W)).round() as u32;
            let _ = write!(
                body,
                r#"<rect class="rss" x="{BOX_X}" y="{}" width="{}" height="5"><title>resident: {}</title></rect>"#,
                ry + rh - 5,
                w.min(BOX_W),
                style::size(bytes)
            );
        }
        let _ = write!(
            body,
            r#"<text class="addr" x="{}" y="{}" text-anchor="end">{:#x}</text><text class="label" x="{}" y="{}">{}  {}  {}</text>"#,
            BOX_X - 6,
            ry + 14,
            m.start,
            BOX_X + 8,
            ry + 15,
            escape(&name),
            m.perms,
            style::size(m.size())
        );
        let note = match state {
            "added" => "+ new".to_string(),
            "removed" => "- gone (unmapped)".to_string(),
            "changed" => {
                let b = before(s, k).expect("changed has a before");
                let mut parts = Vec::new();
                if b.size() != m.size() {
                    parts.push(format!(
                        "~ {} \u{2192} {}",
                        style::size(b.size()),
                        style::size(m.size())
                    ));
                }
                if b.perms != m.perms {
                    parts.push(format!("~ {} \u{2192} {}", b.perms, m.perms));
                }
                if parts.is_empty() {
                    parts.push(format!("~ moved from {:#x}", b.start));
                }
                parts.join(", ")
            }
            _ => String::new(),
        };
        let rss = resident
            .iter()
            .find(|(st, _)| *st == m.start)
            .map(|&(_, bytes)| format!("Rss {}", style::size(bytes)));
        let x = NOTE_X;
        let _ = write!(body, r#"<text class="note" x="{x}" y="{}">"#, ry + 15);
        if !note.is_empty() {
            let _ = write!(
                body,
                r#"<tspan class="note {state}">{}</tspan> "#,
                escape(&note)
            );
        }
        if let Some(r) = rss {
            let _ = write!(body, "<tspan>{r}</tspan>");
        }
        body += "</text>";
        body += "</g>";
        y += h;
        last_end = Some(s.max_end);
    }
    // The end of the last region, then the legend.
    if let Some(end) = last_end {
        let _ = write!(
            body,
            r#"<text class="addr" x="{}" y="{}" text-anchor="end">{end:#x}</text>"#,
            BOX_X - 6,
            y + 12
        );
    }
    y += 24;
    let per_row = 3;
    for (i, (class, label)) in KINDS.iter().enumerate() {
        let (col, row) = ((i % per_row) as u32, (i / per_row) as u32);
        let (x, ly) = (8 + col * 250, y + row * 20);
        let _ = write!(
            body,
            r##"<rect class="k-{class}" x="{x}" y="{ly}" width="14" height="14" stroke="#495057"/><text class="legend" x="{}" y="{}">{}</text>"##,
            x + 20,
            ly + 12,
            escape(label)
        );
    }
    y += KINDS.len().div_ceil(per_row) as u32 * 20;
    let _ = write!(
        body,
        r#"<text class="legend" x="8" y="{}">+ new (thick green)   ~ changed (thick orange)   - gone (dashed red)   gaps not to scale</text>"#,
        y + 12
    );
    y += 24;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="space" viewBox="0 0 {WIDTH} {y}" width="{WIDTH}" height="{y}" role="img" aria-labelledby="{id}-t"><title id="{id}-t">{}</title><defs><pattern id="{id}-dots" width="8" height="8" patternUnits="userSpaceOnUse"><circle cx="4" cy="4" r="1.2" fill="#868e96"/></pattern><pattern id="{id}-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="8" fill="#868e96"/></pattern></defs>{}</svg>"##,
        escape(title),
        body
    )
}

/// A standalone SVG file: the picture with its own style sheet.
pub fn standalone(picture: &str) -> String {
    let style = format!("<style>{CSS}</style><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
    let at = picture.find("</defs>").map_or(0, |i| i + "</defs>".len());
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}{style}{}\n",
        &picture[..at],
        &picture[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOP: &str = include_str!("../tests/data/stop-deleted-space.maps");

    #[test]
    fn one_frame_for_all_stops_with_marks_in_words() {
        let a = maps::parse(STOP).unwrap();
        let mut b = a.clone();
        b.insert(
            3,
            Mapping::parse("01a2b000-01a2d000 rw-p 00000000 00:00 0    [heap]").unwrap(),
        );
        b[7].start -= 0x1000; // the stack grows
        let frame = Frame::new(&[a.clone(), b]);
        assert_eq!(frame.slots.len(), a.len() + 1);
        let ctx = Context::default();
        let first = draw(&frame, 0, &ctx, None, "s1", "stop 1");
        let second = draw(&frame, 1, &ctx, None, "s2", "stop 2");
        // The same frame: both pictures are as tall.
        let tall = |svg: &str| {
            svg.split("height=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(tall(&first), tall(&second));
        assert!(first.contains(r#"class="region absent""#), "no heap yet");
        assert!(second.contains(r#"<g class="region added">"#), "{second}");
        assert!(
            second.contains(r#"<tspan class="note added">+ new</tspan>"#),
            "{second}"
        );
        assert!(second.contains("~ 132 KiB \u{2192} 136 KiB"), "{second}");
        assert!(first.contains("non-canonical up to"), "{first}");
        assert!(first.contains("gap 127.3 TiB"), "{first}");
        assert!(first.contains("k-vsyscall") && first.contains("k-stack"));
    }

    #[test]
    fn residency_from_smaps() {
        let smaps = "00400000-00401000 r--p 00000000 08:01 1 /x\nSize: 4 kB\nRss:  4 kB\n7f00-7f01 rw-p 0 00:00 0\nRss: 0 kB\n";
        assert_eq!(rss(smaps), [(0x400000, 4096), (0x7f00, 0)]);
        let a = maps::parse(STOP).unwrap();
        let frame = Frame::new(std::slice::from_ref(&a));
        let svg = draw(&frame, 0, &Context::default(), Some(smaps), "r", "r");
        assert!(svg.contains("resident: 4 KiB"), "{svg}");
        assert!(svg.contains("<tspan>Rss 4 KiB</tspan>"), "{svg}");
    }
}
