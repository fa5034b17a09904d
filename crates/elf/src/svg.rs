//! `cargo elf --svg FILE TARGET`: the file and what the loader makes of
//! it, as one standalone SVG picture for slides. Top, the file as a bar
//! of its regions (each as wide as its size, with a minimum so that the
//! small headers stay visible); bottom, one box per /proc/PID/maps line
//! the PT_LOADs become, in address order; between them, for each PT_LOAD
//! `ph[N]`, a band from the file page(s) it maps to its mapping. The maps
//! lines are [`maps_lines`]'s, as the default listing prints them.
//! Colour says the permissions, and the text says them too.

use std::fmt::Write as _;

use procfs::elf;
use procfs::markup::escape;

use crate::{Anatomy, MapsLine, kernel, maps_lines, short};

/// Margins, and the least width of the picture.
const MARGIN: f64 = 30.0;
const MIN_WIDTH: f64 = 1100.0;
/// The file bar, the boxes of the address space, the room for the bands.
const BAR_H: f64 = 56.0;
const BOX_H: f64 = 82.0;
const BAND_H: f64 = 200.0;
/// A mapping box's least width, and the space between two.
const BOX_W: f64 = 250.0;
const BOX_GAP: f64 = 24.0;
/// The least width of a region on the bar.
const MIN_REGION: f64 = 20.0;
/// The advance of one character of the 12px monospace font, a little
/// generous: what decides whether a label fits in its box.
const CHAR_W: f64 = 7.4;
const LINE_H: f64 = 16.0;
/// The longest line of the legend, in characters.
const LEGEND_CHARS: f64 = 150.0;

/// The style sheet, inline: the file opens anywhere on its own.
const CSS: &str = "
text{font:12px ui-monospace,'DejaVu Sans Mono',monospace;fill:#212529}
.title{font-size:15px;font-weight:bold}.small{font-size:10px}.perms{font-weight:bold;font-size:14px}
.p-r{fill:#cfe2ff}.p-x{fill:#ffd8a8}.p-w{fill:#b2f2bb}.p-wx{fill:#ffc9c9}.p-o{fill:#e9ecef}
.region,.map,.key{stroke:#495057;stroke-width:1}
.anon{stroke-dasharray:6 3}
.band{fill-opacity:.35;stroke-width:1}.band.p-r{stroke:#1c5bbf}.band.p-x{stroke:#c26100}
.band.p-w{stroke:#2b8a3e}.band.p-wx{stroke:#c92a2a}.band.p-o{stroke:#495057}
.own{stroke-width:4}.own.p-r{stroke:#1c5bbf}.own.p-x{stroke:#c26100}.own.p-w{stroke:#2b8a3e}
.own.p-wx{stroke:#c92a2a}.own.p-o{stroke:#495057}
.zeros{stroke:#495057;stroke-width:1.5;stroke-dasharray:4 3;fill:none}
.page{stroke:#495057;stroke-dasharray:3 3}
.ph{font-weight:bold;font-size:13px;stroke:#fff;stroke-width:3px;paint-order:stroke}
";

/// The colour class of a mapping's permissions (`r-xp`: `p-x`).
fn class(perms: &str) -> &'static str {
    match perms.get(..3) {
        Some("r--") => "p-r",
        Some("r-x") => "p-x",
        Some("rw-") => "p-w",
        Some("rwx") => "p-wx",
        _ => "p-o",
    }
}

/// One box of the address space: a maps line and the PT_LOAD it comes from.
pub struct Mapped {
    pub ph: usize,
    pub line: MapsLine,
}

/// The maps lines of every PT_LOAD, in address order (link addresses).
pub fn mappings(a: &Anatomy) -> Vec<Mapped> {
    let mut out: Vec<Mapped> = a
        .elf
        .loads()
        .flat_map(|(ph, p)| {
            maps_lines(p)
                .into_iter()
                .map(move |line| Mapped { ph, line })
        })
        .collect();
    out.sort_by_key(|m| (m.line.start, m.line.end));
    out
}

/// Where the regions are on the bar: `x` of a file offset.
struct Bar {
    /// Per region: its file range and its x and width.
    cells: Vec<(u64, u64, f64, f64)>,
    x: f64,
    w: f64,
}

impl Bar {
    fn new(a: &Anatomy, x: f64, w: f64) -> Bar {
        let n = a.regions.len().max(1) as f64;
        let min = MIN_REGION.min(w * 0.6 / n);
        let total = a.elf.file_size.max(1) as f64;
        let spare = w - min * n;
        let mut at = x;
        let cells = a
            .regions
            .iter()
            .map(|r| {
                let cw = min + spare * (r.range.end - r.range.start) as f64 / total;
                let cell = (r.range.start, r.range.end, at, cw);
                at += cw;
                cell
            })
            .collect();
        Bar { cells, x, w }
    }

    /// The x of file offset `off`: linear inside its region.
    fn at(&self, off: u64) -> f64 {
        for &(s, e, x, w) in &self.cells {
            if off >= s && off < e {
                return x + w * (off - s) as f64 / (e - s) as f64;
            }
        }
        if off == 0 { self.x } else { self.x + self.w }
    }
}

/// The picture of `a`: `shown` is the file's name as the title says it.
pub fn svg(a: &Anatomy, shown: &str) -> String {
    let e = &a.elf;
    let maps = mappings(a);
    let box_w = maps
        .iter()
        .map(|m| (m.line.text(0).len() as f64 * CHAR_W + 16.0).max(BOX_W))
        .fold(BOX_W, f64::max);
    let n = maps.len() as f64;
    let width = (2.0 * MARGIN + n * box_w + (n - 1.0).max(0.0) * BOX_GAP).max(MIN_WIDTH);
    let bar = Bar::new(a, MARGIN, width - 2.0 * MARGIN);

    // Region labels: inside their box where they fit, else slanted above it.
    let labels: Vec<(String, String, bool)> = a
        .regions
        .iter()
        .zip(&bar.cells)
        .map(|(r, c)| {
            let name = short(&a.short_name(&r.part), 24);
            let size = format!("{} B", r.range.end - r.range.start);
            let inside = name.len().max(size.len()) as f64 * CHAR_W + 6.0 <= c.3;
            (name, size, inside)
        })
        .collect();
    let slanted = labels
        .iter()
        .filter(|l| !l.2)
        .map(|l| (l.0.len() + l.1.len() + 1) as f64 * CHAR_W * 0.71)
        .fold(0.0, f64::max);

    let mut body = String::new();
    let mut y = MARGIN;
    let kind = format!(
        "{} {} {}",
        kernel::decode("e_ident[EI_CLASS]", e.class.into(), &[]),
        kernel::decode("e_machine", e.machine.into(), &[]),
        kernel::decode("e_type", e.kind.into(), &[])
    );
    let title = format!("{shown}: {kind}, {} B", e.file_size);
    let _ = write!(
        body,
        r#"<text class="title" x="{MARGIN}" y="{y}">{}</text>"#,
        escape(&title)
    );
    let mut notes = vec![
        "top: the file, region by region; bottom: the /proc/PID/maps lines its PT_LOADs become"
            .to_string(),
    ];
    if let Some(n) = a.loads_in_page_0() {
        notes.push(format!(
            "every PT_LOAD starts in file page 0: the same file page mapped {n} times, each time with other permissions (offset 00000000)"
        ));
    }
    if a.moves() {
        notes.push(
            "ET_DYN (PIE): the addresses are link addresses; maps shows each plus the load offset the kernel picks (page-aligned)".into(),
        );
    }
    if e.loads().next().is_none() {
        notes.push("no PT_LOAD: nothing of this file is mapped".into());
    }
    for note in &notes {
        y += LINE_H + 2.0;
        let _ = write!(
            body,
            r#"<text class="note" x="{MARGIN}" y="{y}">{}</text>"#,
            escape(note)
        );
    }
    let bar_y = y + 34.0 + slanted;
    let bar_bottom = bar_y + BAR_H;

    // The file bar: regions, their labels, page boundaries.
    let _ = write!(
        body,
        r#"<g class="file"><text x="{MARGIN}" y="{:.1}" class="small">0x0</text>"#,
        bar_bottom + 18.0 + 6.0 * e.segments(elf::PT_LOAD).count() as f64
    );
    for ((r, c), (name, size, inside)) in a.regions.iter().zip(&bar.cells).zip(&labels) {
        let loads = a.loaded_by(&r.range);
        let fill = match loads.first() {
            Some(&p) => class(&crate::perms(e.programs[p].flags)).to_string(),
            None => "none".into(),
        };
        let fill_attr = if fill == "none" {
            r#" fill="url(#hatch)""#.to_string()
        } else {
            String::new()
        };
        let what = match loads.is_empty() {
            true => "in no PT_LOAD".to_string(),
            false => format!(
                "loaded by {}",
                loads
                    .iter()
                    .map(|p| format!("ph[{p}]"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        let _ = write!(
            body,
            r#"<rect class="region {fill}"{fill_attr} x="{:.1}" y="{bar_y}" width="{:.1}" height="{BAR_H}"><title>{} {:#x}-{:#x} ({}), {}</title></rect>"#,
            c.2,
            c.3,
            escape(&a.short_name(&r.part)),
            r.range.start,
            r.range.end,
            size,
            what
        );
        let cx = c.2 + c.3 / 2.0;
        if *inside {
            let _ = write!(
                body,
                r#"<text class="label" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="label small" x="{cx:.1}" y="{:.1}" text-anchor="middle">{size}</text>"#,
                bar_y + BAR_H / 2.0 - 2.0,
                escape(name),
                bar_y + BAR_H / 2.0 + 12.0
            );
        } else {
            let _ = write!(
                body,
                r#"<text class="label" transform="translate({cx:.1},{:.1}) rotate(-45)">{} {size}</text>"#,
                bar_y - 8.0,
                escape(name)
            );
        }
    }
    // Page boundaries: where one file page ends and the next begins,
    // written below the bar where there is room.
    let loads_n = e.segments(elf::PT_LOAD).count() as f64;
    let tick_y = bar_bottom + 18.0 + 6.0 * loads_n;
    let end_label = format!("{:#x} (end of file)", e.file_size);
    let end_x = MARGIN + bar.w - end_label.len() as f64 * CHAR_W * 0.85;
    let mut free_from = MARGIN + 30.0;
    let mut page = crate::PAGE;
    while page < e.file_size {
        let x = bar.at(page);
        let _ = write!(
            body,
            r#"<line class="page" x1="{x:.1}" y1="{bar_y:.1}" x2="{x:.1}" y2="{:.1}"/>"#,
            tick_y + 2.0
        );
        let label = format!("page {page:#x}");
        let w = label.len() as f64 * CHAR_W * 0.85;
        if x >= free_from && x + w + 8.0 < end_x {
            let _ = write!(
                body,
                r#"<text class="small" x="{:.1}" y="{tick_y:.1}">{label}</text>"#,
                x + 3.0
            );
            free_from = x + w + 10.0;
        }
        page += crate::PAGE;
    }
    let _ = write!(
        body,
        r#"<text class="small" x="{:.1}" y="{tick_y:.1}" text-anchor="end">{end_label}</text></g>"#,
        MARGIN + bar.w,
    );

    // The address space: one box per maps line.
    let box_y = bar_bottom + BAND_H;
    let mut boxes = Vec::new();
    let mut out_boxes = String::new();
    let total_w = n * box_w + (n - 1.0).max(0.0) * BOX_GAP;
    let mut x = MARGIN + ((width - 2.0 * MARGIN) - total_w).max(0.0) / 2.0;
    for m in &maps {
        let p = &e.programs[m.ph];
        let l = &m.line;
        let c = class(&l.perms);
        let anon = if l.file { "" } else { " anon" };
        let what = if l.file {
            let len = l.end - l.start;
            let tail = if p.memsz > p.filesz
                && crate::page_end(p.vaddr.saturating_add(p.filesz))
                    >= p.vaddr.saturating_add(p.memsz)
            {
                format!(", then {} B zeros", p.memsz - p.filesz)
            } else {
                String::new()
            };
            format!(
                "file {:#x}-{:#x}{tail}",
                l.offset,
                l.offset.saturating_add(len)
            )
        } else {
            format!("anonymous zeros, p_memsz +{} B", p.memsz - p.filesz)
        };
        let sections: Vec<&str> = e
            .sections_in(l.start, l.end)
            .into_iter()
            .filter(|s| l.file || !s.in_file())
            .map(|s| s.name.as_str())
            .collect();
        let holds = short(
            &format!("holds {}", sections.join(" ")),
            ((box_w - 12.0) / CHAR_W) as usize,
        );
        let tx = x + 8.0;
        let _ = write!(
            out_boxes,
            r#"<g class="mapping"><rect class="map {c}{anon}" x="{x:.1}" y="{box_y:.1}" width="{box_w:.1}" height="{BOX_H}"/><text class="perms" x="{tx:.1}" y="{:.1}">{}</text><text class="maps" x="{tx:.1}" y="{:.1}">{}</text><text class="small" x="{tx:.1}" y="{:.1}">{}</text>"#,
            box_y + 18.0,
            escape(&l.perms),
            box_y + 18.0 + LINE_H,
            escape(&l.text(0)),
            box_y + 18.0 + 2.0 * LINE_H,
            escape(&what),
        );
        if !sections.is_empty() {
            let _ = write!(
                out_boxes,
                r#"<text class="small" x="{tx:.1}" y="{:.1}">{}</text>"#,
                box_y + 18.0 + 3.0 * LINE_H,
                escape(&holds)
            );
        }
        out_boxes += "</g>";
        boxes.push((m.ph, l.file, x));
        x += box_w + BOX_GAP;
    }

    // The bands: from the file page(s) a PT_LOAD maps to its mapping.
    let mut bands = String::new();
    let mut ph_labels = String::new();
    for (k, (i, p)) in e.loads().enumerate() {
        let c = class(&crate::perms(p.flags));
        let own = (
            bar.at(p.offset.min(e.file_size)),
            bar.at(p.offset.saturating_add(p.filesz).min(e.file_size)),
        );
        let file_box = boxes.iter().find(|b| b.0 == i && b.1).map(|b| b.2);
        let anon_box = boxes.iter().find(|b| b.0 == i && !b.1).map(|b| b.2);
        let lines = maps_lines(p);
        let mut label_at = None;
        if let (Some(bx), Some(m)) = (file_box, lines.iter().find(|m| m.file)) {
            let top = (
                bar.at(m.offset.min(e.file_size)),
                bar.at((m.offset.saturating_add(m.end - m.start)).min(e.file_size)),
            );
            let _ = write!(
                bands,
                r#"<polygon class="band {c}" points="{:.1},{bar_bottom:.1} {:.1},{bar_bottom:.1} {:.1},{box_y:.1} {:.1},{box_y:.1}"/>"#,
                top.0,
                top.1,
                bx + box_w,
                bx
            );
            // The segment's own bytes, under the bar: the rest of the
            // band is page slack.
            let oy = bar_bottom + 4.0 + 6.0 * k as f64;
            let _ = write!(
                bands,
                r#"<line class="own {c}" x1="{:.1}" y1="{oy:.1}" x2="{:.1}" y2="{oy:.1}"/>"#,
                own.0,
                own.1.max(own.0 + 2.0)
            );
            label_at = Some((
                ((top.0 + top.1) / 2.0 + bx + box_w / 2.0) / 2.0,
                (bar_bottom + box_y) / 2.0 + 14.0 * (k % 3) as f64 - 14.0,
            ));
        }
        if let Some(bx) = anon_box {
            let (fx, fy) = (own.1, bar_bottom + 4.0 + 6.0 * k as f64);
            let _ = write!(
                bands,
                r#"<path class="zeros" d="M{fx:.1},{fy:.1} L{:.1},{box_y:.1}"/>"#,
                bx + box_w / 2.0
            );
            label_at.get_or_insert(((fx + bx + box_w / 2.0) / 2.0, (fy + box_y) / 2.0));
        }
        if let Some((lx, ly)) = label_at {
            let _ = write!(
                ph_labels,
                r#"<text class="ph" x="{lx:.1}" y="{ly:.1}" text-anchor="middle">ph[{i}]</text>"#
            );
        }
    }

    // The legend.
    let mut legend = String::new();
    let ly = box_y + BOX_H + 34.0;
    let _ = write!(
        legend,
        r#"<g class="legend"><text x="{MARGIN}" y="{ly:.1}">permissions:</text>"#
    );
    let mut lx = MARGIN + 110.0;
    for (c, words) in [
        ("p-r", "r-- headers, .rodata"),
        ("p-x", "r-x .text"),
        ("p-w", "rw- .data, .bss"),
        ("p-wx", "rwx a PF_X segment's zero pages"),
        ("none", "in no PT_LOAD"),
    ] {
        let fill = if c == "none" {
            r#" fill="url(#hatch)""#
        } else {
            ""
        };
        let _ = write!(
            legend,
            r#"<rect class="key {c}"{fill} x="{lx:.1}" y="{:.1}" width="18" height="14"/><text x="{:.1}" y="{ly:.1}">{}</text>"#,
            ly - 11.0,
            lx + 24.0,
            escape(words)
        );
        lx += 24.0 + words.len() as f64 * CHAR_W + 22.0;
    }
    let _ = write!(
        legend,
        r#"<text x="{MARGIN}" y="{:.1}">ph[N]: a band from the file page(s) PT_LOAD N maps to its mapping; the thick line under the bar: the segment's own bytes, the rest is page slack</text><text x="{MARGIN}" y="{:.1}">dashed: anonymous zero pages, where p_memsz goes a page past the file part (.bss); hatched regions are in no segment</text></g>"#,
        ly + 22.0,
        ly + 22.0 + LINE_H
    );
    let height = ly + 22.0 + LINE_H + MARGIN;
    // Room for the longest line of text, and for the slanted label of
    // the last regions, which leans right.
    let texts = [title.len() as f64 * 9.3]
        .into_iter()
        .chain(notes.iter().map(|n| n.len() as f64 * CHAR_W))
        .chain([LEGEND_CHARS * CHAR_W]);
    let lean = labels
        .iter()
        .zip(&bar.cells)
        .filter(|(l, _)| !l.2)
        .map(|(l, c)| c.2 + c.3 / 2.0 + (l.0.len() + l.1.len() + 1) as f64 * CHAR_W * 0.71 + 12.0)
        .fold(0.0, f64::max);
    let width = texts
        .map(|t| t + 2.0 * MARGIN)
        .fold(width.max(lean), f64::max)
        .ceil();
    let height = height.ceil();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\"><title>{}</title><defs><pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#f1f3f5\"/><rect width=\"3\" height=\"8\" fill=\"#adb5bd\"/></pattern></defs><style>{CSS}</style><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n{body}\n{bands}\n{out_boxes}\n{ph_labels}\n{legend}\n</svg>\n",
        escape(&title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn the_test_binary_has_one_box_per_maps_line() {
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let a = Anatomy::new(&bytes, "elf").unwrap();
        let picture = svg(&a, "test");
        let lines: usize = a
            .elf
            .segments(elf::PT_LOAD)
            .map(|p| maps_lines(p).len())
            .sum();
        assert_eq!(picture.matches("<g class=\"mapping\">").count(), lines);
        for m in mappings(&a) {
            assert!(picture.contains(&format!(">{}</text>", m.line.text(0))));
        }
    }
}
