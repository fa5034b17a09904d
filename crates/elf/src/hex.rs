//! `--hex`: the file as `xxd` lays it out, one line per 16 bytes, each
//! line followed by the names of the regions and fields its bytes hold.

use std::fmt::Write;

use procfs::elf::Part;

use crate::{Anatomy, Options, Span, paint};

/// Bytes per line, as xxd.
pub const WIDTH: u64 = 16;

/// The annotated hexdump: exactly ceil(size / 16) lines.
pub fn hexdump(a: &Anatomy, o: &Options) -> String {
    // The spans of each region: they do not overlap one another, so
    // sorted by start they are sorted by end too.
    let spans: Vec<Vec<&Span>> = a
        .regions
        .iter()
        .map(|r| {
            a.spans
                .iter()
                .filter(|s| s.range.start >= r.range.start && s.range.end <= r.range.end)
                .collect()
        })
        .collect();
    let len = a.bytes.len() as u64;
    let mut out = String::with_capacity(a.bytes.len() * 8);
    let mut first_region = 0;
    let mut start = 0;
    while start < len {
        let end = (start + WIDTH).min(len);
        while a.regions[first_region].range.end <= start {
            first_region += 1;
        }
        let _ = write!(out, "{start:08x}: ");
        let mut ascii = String::new();
        let mut region = first_region;
        for i in 0..WIDTH {
            let at = start + i;
            if at < end {
                while a.regions[region].range.end <= at {
                    region += 1;
                }
                let b = a.bytes[at as usize];
                let c = if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                };
                if o.colour {
                    out += &paint(true, region, &format!("{b:02x}"));
                    ascii += &paint(true, region, &c.to_string());
                } else {
                    const DIGITS: &[u8; 16] = b"0123456789abcdef";
                    out.push(DIGITS[usize::from(b >> 4)] as char);
                    out.push(DIGITS[usize::from(b & 0xf)] as char);
                    ascii.push(c);
                }
            } else {
                out += "  ";
            }
            if i % 2 == 1 && i + 1 < WIDTH {
                out.push(' ');
            }
        }
        let labels = line_labels(a, &spans, first_region, start, end);
        let _ = writeln!(
            out,
            "  {ascii}{}{labels}",
            " ".repeat((WIDTH - (end - start)) as usize + 2)
        );
        start = end;
    }
    out
}

/// `e_entry e_phoff`, `ph[1] p_type p_flags`, `.text _start`: what the
/// bytes `start..end` hold.
fn line_labels(a: &Anatomy, spans: &[Vec<&Span>], first: usize, start: u64, end: u64) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut push = |prefix: &str, name: &str| match groups.last_mut() {
        Some((p, names)) if p == prefix => {
            if names.last().is_none_or(|n| n != name) {
                names.push(name.to_string());
            }
        }
        _ => groups.push((prefix.to_string(), vec![name.to_string()])),
    };
    for (i, r) in a.regions.iter().enumerate().skip(first) {
        if r.range.start >= end {
            break;
        }
        let list = &spans[i];
        let from = list.partition_point(|s| s.range.end <= start);
        let mut any = false;
        for s in list[from..].iter().take_while(|s| s.range.start < end) {
            push(&s.prefix, &s.name);
            any = true;
        }
        if !any {
            let name = match r.part {
                Part::Header => "ELF header".to_string(),
                Part::ProgramHeaders => "program headers".into(),
                Part::SectionHeaders => "section headers".into(),
                Part::Section(s) => a.elf.sections[s].name.clone(),
                Part::Gap => a.region_name(r),
            };
            push("", &name);
        }
    }
    groups
        .into_iter()
        .map(|(p, names)| {
            if p.is_empty() {
                names.join(" ")
            } else {
                format!("{p} {}", names.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
