//! `/proc/PID/maps`, one [`Mapping`] a line.
//!
//! Format (`proc_pid_maps(5)`):
//!
//! ```text
//! 00400000-00401000 r--p 00000000 fe:00 5308624     /work/target/release/stop
//! start-end         perms offset  dev   inode       pathname
//! ```
//!
//! The pathname is padded with spaces, may itself contain spaces, may end
//! in ` (deleted)`, and is empty for anonymous memory.

use std::fmt;

/// The page size of x86-64 and i386: the unit of every mapping.
pub const PAGE: u64 = 4096;

/// The start of the page that holds `v`.
pub fn page_start(v: u64) -> u64 {
    v & !(PAGE - 1)
}

/// `v` rounded up to a page boundary (the last page, if that overflows).
pub fn page_end(v: u64) -> u64 {
    v.checked_add(PAGE - 1).map_or(!(PAGE - 1), page_start)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    /// `r--p`, `r-xp`, `rw-p`, `rw-s`, …
    pub perms: String,
    pub offset: u64,
    /// `major:minor` in hex, `00:00` for anonymous memory.
    pub dev: String,
    pub inode: u64,
    /// The file, `[heap]`, `[stack]`, `[vdso]`, …, or empty.
    pub path: String,
}

impl Mapping {
    pub fn size(&self) -> u64 {
        self.end - self.start
    }

    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }

    pub fn readable(&self) -> bool {
        self.perms.as_bytes().first() == Some(&b'r')
    }

    pub fn writable(&self) -> bool {
        self.perms.as_bytes().get(1) == Some(&b'w')
    }

    pub fn executable(&self) -> bool {
        self.perms.as_bytes().get(2) == Some(&b'x')
    }

    /// No file behind it: `[heap]`, `[stack]`, plain anonymous memory.
    pub fn anonymous(&self) -> bool {
        self.inode == 0
    }

    /// `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vvar_vclock]`, `[vsyscall]`, …
    pub fn is_special(&self) -> bool {
        self.path.starts_with('[') && self.path.ends_with(']')
    }

    /// The file was deleted (or replaced) after it was mapped.
    pub fn deleted(&self) -> bool {
        self.path.ends_with(" (deleted)")
    }

    /// Parses one line of /proc/PID/maps.
    pub fn parse(line: &str) -> Result<Mapping, String> {
        let bad = |what: &str| format!("bad maps line ({what}): {line:?}");
        let mut rest = line;
        let mut field = || -> Option<&str> {
            let trimmed = rest.trim_start_matches(' ');
            let end = trimmed.find(' ').unwrap_or(trimmed.len());
            let (f, r) = trimmed.split_at(end);
            rest = r;
            (!f.is_empty()).then_some(f)
        };
        let range = field().ok_or_else(|| bad("range"))?;
        let perms = field().ok_or_else(|| bad("perms"))?.to_string();
        let offset = field().ok_or_else(|| bad("offset"))?;
        let dev = field().ok_or_else(|| bad("dev"))?.to_string();
        let inode = field().ok_or_else(|| bad("inode"))?;
        // Everything after the inode's padding is the path, spaces and all.
        let path = rest.trim_start_matches(' ').to_string();
        let (start, end) = range.split_once('-').ok_or_else(|| bad("range"))?;
        let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| bad("hex"));
        let m = Mapping {
            start: hex(start)?,
            end: hex(end)?,
            offset: hex(offset)?,
            inode: inode.parse().map_err(|_| bad("inode"))?,
            perms,
            dev,
            path,
        };
        if m.perms.len() != 4 || m.end < m.start || !m.dev.contains(':') {
            return Err(bad("fields"));
        }
        Ok(m)
    }
}

impl fmt::Display for Mapping {
    /// The line as /proc writes it (addresses without 0x, path padded to
    /// column 73 as the kernel does).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = format!(
            "{:08x}-{:08x} {} {:08x} {} {}",
            self.start, self.end, self.perms, self.offset, self.dev, self.inode
        );
        if self.path.is_empty() {
            write!(f, "{head} ")
        } else {
            write!(f, "{head:<72} {}", self.path)
        }
    }
}

/// Parses the whole text of /proc/PID/maps.
pub fn parse(text: &str) -> Result<Vec<Mapping>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(Mapping::parse)
        .collect()
}

/// Reads and parses /proc/PID/maps.
pub fn read(pid: u32) -> std::io::Result<Vec<Mapping>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    parse(&text).map_err(std::io::Error::other)
}

/// The mapping named `name` (`[heap]`, `[stack]`, …), if any.
pub fn find<'a>(maps: &'a [Mapping], name: &str) -> Option<&'a Mapping> {
    maps.iter().find(|m| m.path == name)
}

/// The mapping that holds `addr`, if any.
pub fn containing(maps: &[Mapping], addr: u64) -> Option<&Mapping> {
    maps.iter().find(|m| m.contains(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured on this project's machine (kernel 6.18) from `stop`, plus
    /// lines with the kernel's odd cases added from other captures.
    const CAPTURE: &str = "\
00400000-00401000 r--p 00000000 fe:00 5308624                            /work/main/target/release/stop
00401000-00402000 r-xp 00000000 fe:00 5308624                            /work/main/target/release/stop
00402000-00403000 rw-p 00000000 fe:00 5308624                            /work/main/target/release/stop
0131f000-01321000 rw-p 00000000 00:00 0                                  [heap]
7f2a1c000000-7f2a3c000000 rw-p 00000000 00:00 0 \n\
7f2a3c400000-7f2a3c401000 r--s 00000000 00:01 1234                       /memfd:my buffer (deleted)
7fc02198a000-7fc02198e000 r--p 00000000 00:00 0                          [vvar]
7fc02198e000-7fc021990000 r--p 00000000 00:00 0                          [vvar_vclock]
7fc021990000-7fc021992000 r-xp 00000000 00:00 0                          [vdso]
7ffcb5a81000-7ffcb5aa2000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
";

    #[test]
    fn parses_every_kind_of_line() {
        let maps = parse(CAPTURE).unwrap();
        assert_eq!(maps.len(), 11);
        assert_eq!(maps[0].start, 0x40_0000);
        assert_eq!(maps[0].size(), 4096);
        assert_eq!(maps[0].inode, 5308624);
        assert_eq!(maps[0].path, "/work/main/target/release/stop");
        assert!(maps[1].executable() && !maps[1].writable());
        assert_eq!(maps[3].path, "[heap]");
        assert_eq!(maps[3].size(), 2 * 4096);
        assert_eq!(maps[4].path, "");
        assert!(maps[4].anonymous());
        assert_eq!(maps[4].size(), 512 << 20);
        assert_eq!(maps[5].path, "/memfd:my buffer (deleted)");
        assert!(maps[5].deleted());
        assert_eq!(maps[5].perms, "r--s");
        assert_eq!(maps[7].path, "[vvar_vclock]");
        assert!(maps[7].is_special());
        assert_eq!(maps[10].end, 0xffff_ffff_ff60_1000);
        assert_eq!(maps[10].perms, "--xp");
    }

    #[test]
    fn lookups_by_name_and_address() {
        let maps = parse(CAPTURE).unwrap();
        assert_eq!(find(&maps, "[stack]").unwrap().size(), 132 << 10);
        assert!(find(&maps, "[nothing]").is_none());
        assert_eq!(containing(&maps, 0x401234).unwrap().perms, "r-xp");
        assert!(containing(&maps, 0x403000).is_none());
    }

    #[test]
    fn rejects_lines_that_are_not_maps() {
        for bad in [
            "",
            "hello",
            "00400000 r--p 0 fe:00 1",
            "0040-0041 r--p zz fe:00 1 x",
            "1-0 rw 0 0 0",
        ] {
            assert!(Mapping::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Display must give back the kernel's line byte for byte, padding
    /// and all: parsing the output again would not see a wrong padding.
    fn assert_displays_as_read(text: &str) {
        for line in text.lines() {
            let m = Mapping::parse(line).unwrap();
            assert_eq!(m.to_string(), line);
        }
    }

    #[test]
    fn display_gives_back_the_captured_lines() {
        assert_displays_as_read(CAPTURE);
    }

    #[test]
    fn display_gives_back_our_own_maps() {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(text.lines().count() > 5, "{text}");
        assert_displays_as_read(&text);
    }
}
