//! `/proc/PID/smaps`: every maps line with what of it is in memory.
//!
//! Each mapping is its maps line, then `Name:   value kB` lines
//! (`proc_pid_smaps(5)`, Documentation/filesystems/proc.rst), then
//! `VmFlags:`. The ones a lesson needs:
//!
//! - `Rss`: resident: pages of this mapping in RAM and mapped by this
//!   process. The shared zero page that reads of untouched anonymous
//!   memory map is *not* counted (`smaps_pte_entry` skips it).
//! - `Anonymous`: of Rss, pages not backed by a file.
//! - `Shared_Dirty`, `Private_Dirty`: written pages mapped by more than
//!   one process (after fork, until copy-on-write), or by this one only.
//! - `AnonHugePages`: of Rss, what transparent huge pages map.
//!
//! Reading smaps needs the same rights as reading maps
//! (`PTRACE_MODE_READ`).

use crate::maps::Mapping;

/// One mapping of smaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smap {
    pub mapping: Mapping,
    /// Every `Name: N kB` field, in bytes, in the kernel's order; and
    /// the counts without a unit (`THPeligible`) as they are.
    pub fields: Vec<(String, u64)>,
    /// `VmFlags`: `rd wr mr mw me ac`, … (`hg` = MADV_HUGEPAGE, `nh` =
    /// MADV_NOHUGEPAGE).
    pub vm_flags: Vec<String>,
}

impl Smap {
    /// The field `name` (`"Rss"`, …) in bytes; 0 if the kernel has no such field.
    pub fn get(&self, name: &str) -> u64 {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |&(_, v)| v)
    }
    pub fn rss(&self) -> u64 {
        self.get("Rss")
    }
    pub fn anonymous(&self) -> u64 {
        self.get("Anonymous")
    }
    pub fn private_dirty(&self) -> u64 {
        self.get("Private_Dirty")
    }
    pub fn shared_dirty(&self) -> u64 {
        self.get("Shared_Dirty")
    }
    pub fn anon_huge_pages(&self) -> u64 {
        self.get("AnonHugePages")
    }
    pub fn has_flag(&self, flag: &str) -> bool {
        self.vm_flags.iter().any(|f| f == flag)
    }
}

/// Parses the whole text of /proc/PID/smaps.
pub fn parse(text: &str) -> Result<Vec<Smap>, String> {
    let mut all: Vec<Smap> = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let field = line.split_once(':').filter(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match field {
            Some(("VmFlags", flags)) => {
                let last = all
                    .last_mut()
                    .ok_or_else(|| format!("VmFlags first: {line:?}"))?;
                last.vm_flags = flags.split_whitespace().map(str::to_string).collect();
            }
            Some((name, value)) => {
                let last = all
                    .last_mut()
                    .ok_or_else(|| format!("a field before any mapping: {line:?}"))?;
                let mut words = value.split_whitespace();
                let n: u64 = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(|| format!("bad smaps field: {line:?}"))?;
                let n = match words.next() {
                    Some("kB") => n * 1024,
                    None => n,
                    Some(_) => return Err(format!("bad smaps unit: {line:?}")),
                };
                last.fields.push((name.to_string(), n));
            }
            None => all.push(Smap {
                mapping: Mapping::parse(line)?,
                fields: Vec::new(),
                vm_flags: Vec::new(),
            }),
        }
    }
    Ok(all)
}

/// Reads and parses /proc/PID/smaps.
pub fn read(pid: u32) -> std::io::Result<Vec<Smap>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps"))?;
    parse(&text).map_err(std::io::Error::other)
}

/// The entry of the mapping that starts at `start`.
pub fn at(smaps: &[Smap], start: u64) -> Option<&Smap> {
    smaps.iter().find(|s| s.mapping.start == start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two entries captured from `paging` on kernel 6.18 (fields cut).
    const CAPTURE: &str = "\
00400000-00401000 r--p 00000000 fe:00 5308624                            /work/target/release/paging
Size:                  4 kB
Rss:                   4 kB
Shared_Dirty:          0 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
AnonHugePages:         0 kB
THPeligible:           0
VmFlags: rd mr mw me sd
7f0000000000-7f0004000000 rw-p 00000000 00:00 0 \n\
Size:              65536 kB
Rss:                4096 kB
Shared_Dirty:          0 kB
Private_Dirty:      4096 kB
Anonymous:          4096 kB
AnonHugePages:         0 kB
THPeligible:           0
VmFlags: rd wr mr mw me ac nh
";

    #[test]
    fn parses_fields_in_bytes_and_flags() {
        let s = parse(CAPTURE).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].mapping.path, "/work/target/release/paging");
        assert_eq!(s[0].rss(), 4096);
        assert_eq!(s[0].get("THPeligible"), 0);
        assert_eq!(s[1].mapping.size(), 64 << 20);
        assert_eq!(s[1].get("Size"), 64 << 20);
        assert_eq!(s[1].rss(), 4 << 20);
        assert_eq!(s[1].private_dirty(), 4 << 20);
        assert_eq!(s[1].anonymous(), 4 << 20);
        assert!(s[1].has_flag("nh") && !s[1].has_flag("hg"));
        assert_eq!(at(&s, 0x7f00_0000_0000).unwrap().rss(), 4 << 20);
    }

    #[test]
    fn rejects_what_is_not_smaps() {
        assert!(parse("Rss: 4 kB\n").is_err());
        assert!(parse("00400000-00401000 r--p 00000000 fe:00 1 /x\nRss: four kB\n").is_err());
        assert!(parse("00400000-00401000 r--p 00000000 fe:00 1 /x\nRss: 4 MB\n").is_err());
    }

    #[test]
    fn our_own_smaps_has_every_maps_line_and_rss_where_we_wrote() {
        // A fresh page, written: resident, anonymous, private and dirty.
        let mut page = vec![0u8; 1 << 20];
        page[4096] = 1;
        let addr = page.as_ptr() as u64 + 4096;
        let smaps = read(std::process::id()).unwrap();
        let maps = crate::maps::read(std::process::id()).unwrap();
        assert!(
            smaps.len() >= maps.len() - 2,
            "threads may map between the reads"
        );
        let heap = smaps.iter().find(|s| s.mapping.contains(addr)).unwrap();
        assert!(heap.rss() >= 4096 && heap.anonymous() >= 4096, "{heap:?}");
        assert!(heap.rss() <= heap.mapping.size());
        std::hint::black_box(&page);
    }
}
