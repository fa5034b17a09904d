//! Collector side of residency: the raw files a stop gets besides
//! PROC_FILES, read live from /proc (run.rs calls these).
//!
//! - `pagemap.present`: the present bit of every page of every maps line,
//!   from /proc/PID/pagemap (one pread per mapping, in chunks; procfs),
//!   as text, one line a mapping: `START-END HEX`, HEX the bits of the
//!   pages in address order, 8 pages a byte, the lowest page in the low
//!   bit, each byte two hex digits. 512 MiB of mapping is 32 KiB of text.
//! - `child/PID/…`: the same files (maps, smaps, stat, pagemap.present)
//!   for each child of the demo: `cow`'s forked process, which the tour
//!   cannot waitpid (it is the demo's child, not ours), so it is read at
//!   the demo's stops, where the demo has made sure it is stopped too.

use std::io;

use procfs::{Mapping, maps, pagemap};

use crate::record::Files;

/// The files read for a child of the demo, under `child/PID/`.
pub const CHILD_FILES: &[&str] = &["maps", "smaps", "stat"];

/// `pagemap.present` for the maps text `maps` of `pid`.
pub fn present_file(pid: u32, maps: &str) -> io::Result<Vec<u8>> {
    let lines = maps::parse(maps).map_err(io::Error::other)?;
    let file = pagemap::open(pid)?;
    let mut out = String::new();
    for m in &lines {
        encode(&mut out, m, &pagemap::present(&file, m)?);
    }
    Ok(out.into_bytes())
}

fn encode(out: &mut String, m: &Mapping, bits: &[bool]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str(&format!("{:x}-{:x} ", m.start, m.end));
    out.reserve(bits.len() / 4 + 1);
    for byte in bits.chunks(8) {
        let b = byte
            .iter()
            .enumerate()
            .fold(0u8, |b, (i, &p)| b | (u8::from(p) << i));
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out.push('\n');
}

/// The children of `pid`'s main thread (`/proc/PID/task/PID/children`).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Adds `pagemap.present` (from the `maps` already in `files`) and every
/// child's files to a stop.
pub fn collect(pid: u32, files: &mut Files, prefix: &str) {
    if let Some(text) = files.get(&format!("{prefix}maps")).cloned()
        && let Ok(bytes) = present_file(pid, &String::from_utf8_lossy(&text))
    {
        files.insert(format!("{prefix}pagemap.present"), bytes);
    }
}

/// A child's files, under `child/PID/`.
pub fn collect_child(child: u32, files: &mut Files) {
    let prefix = format!("child/{child}/");
    for name in CHILD_FILES {
        if let Ok(bytes) = std::fs::read(format!("/proc/{child}/{name}")) {
            files.insert(format!("{prefix}{name}"), bytes);
        }
    }
    collect(child, files, &prefix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_packed_low_page_first() {
        let m = Mapping::parse("1000-b000 rw-p 00000000 00:00 0 ").unwrap();
        let mut bits = vec![false; 10];
        bits[0] = true;
        bits[9] = true;
        let mut out = String::new();
        encode(&mut out, &m, &bits);
        assert_eq!(out, "1000-b000 0102\n");
    }

    #[test]
    fn our_own_pages_are_collected() {
        let me = std::process::id();
        let text = std::fs::read_to_string(format!("/proc/{me}/maps")).unwrap();
        let file = String::from_utf8(present_file(me, &text).unwrap()).unwrap();
        assert_eq!(file.lines().count(), text.lines().count());
        // Our stack is in memory: some bit of its line is set.
        let stack = maps::find(&maps::parse(&text).unwrap(), "[stack]")
            .unwrap()
            .start;
        let line = file
            .lines()
            .find(|l| l.starts_with(&format!("{stack:x}-")))
            .unwrap();
        assert!(
            line.split(' ').nth(1).unwrap().bytes().any(|b| b != b'0'),
            "{line}"
        );
    }
}
