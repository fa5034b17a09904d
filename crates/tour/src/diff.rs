//! What changed between two stops.
//!
//! Two lines are the same mapping when they start at the same address.
//! A stack grows down, so its start moves while its end stays: a named
//! mapping (`[stack]`, a file) with the same end also counts as the same.
//! Anonymous mappings are matched by start only. When the kernel merges
//! a new mapping into an old neighbour, the new line covers the old one:
//! that is one `~ … merged` line (nothing was unmapped), whether the new
//! part lies below (the start moved) or above (the end moved).

use procfs::Mapping;

use crate::style;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Unchanged (printed as a blank).
    Same,
    /// New since the previous stop.
    Added,
    /// Gone since the previous stop.
    Removed,
    /// The same mapping with another size or other permissions.
    Changed,
}

impl Mark {
    pub fn symbol(self) -> char {
        match self {
            Mark::Same => ' ',
            Mark::Added => '+',
            Mark::Removed => '-',
            Mark::Changed => '~',
        }
    }
}

/// One line of the diff: the mapping as it is now (or as it was, for a
/// removed one), and for `~` what it was before.
#[derive(Clone, Debug)]
pub struct Line {
    pub mark: Mark,
    pub now: Mapping,
    pub before: Option<Mapping>,
    /// For `~`: a new mapping was merged into `before` (same name and
    /// permissions, the new line covers the old one).
    pub merged: bool,
}

impl Line {
    /// For `~`: `+4 KiB`, `-512 MiB`, `rw-p -> r--p`, or both.
    pub fn delta(&self) -> String {
        let Some(b) = &self.before else {
            return String::new();
        };
        let mut parts = Vec::new();
        if b.size() != self.now.size() {
            let how = match (self.merged, b.start != self.now.start) {
                (true, true) => " below: a new mapping merged into it",
                (true, false) => " above: a new mapping merged into it",
                (false, true) if b.end == self.now.end && self.now.size() > b.size() => {
                    " (grew down)"
                }
                (false, true) if b.end == self.now.end => " (its start moved up)",
                _ => "",
            };
            parts.push(format!(
                "{} -> {}, {}{how}",
                style::size(b.size()),
                style::size(self.now.size()),
                style::delta(b.size(), self.now.size())
            ));
        }
        if b.perms != self.now.perms {
            parts.push(format!("{} -> {}", b.perms, self.now.perms));
        }
        parts.join("; ")
    }
}

/// The maps that `lines` describe: every line but the removed ones.
pub fn now(lines: &[Line]) -> Vec<Mapping> {
    lines
        .iter()
        .filter(|l| l.mark != Mark::Removed)
        .map(|l| l.now.clone())
        .collect()
}

/// The rule above: the same start, or a named mapping with the same end.
pub fn same_mapping(a: &Mapping, b: &Mapping) -> bool {
    a.start == b.start || (!a.path.is_empty() && a.path == b.path && a.end == b.end)
}

/// Whether `now` is `old` with a new mapping merged into it: the same
/// kind of line (anonymous, no name, same permissions), covering all of
/// `old` and more.
fn merged_into(old: &Mapping, now: &Mapping) -> bool {
    old.path.is_empty()
        && now.path.is_empty()
        && old.perms == now.perms
        && old.anonymous()
        && now.anonymous()
        && now.start <= old.start
        && now.end >= old.end
        && now.size() > old.size()
}

/// The lines of `now`, marked against `before` (`None`: the first stop,
/// all unmarked), with removed lines placed at their address.
pub fn diff(before: Option<&[Mapping]>, now: &[Mapping]) -> Vec<Line> {
    let Some(before) = before else {
        return now
            .iter()
            .map(|m| Line {
                mark: Mark::Same,
                now: m.clone(),
                before: None,
                merged: false,
            })
            .collect();
    };
    let mut lines: Vec<Line> = now
        .iter()
        .map(|m| match before.iter().find(|b| same_mapping(b, m)) {
            None => match before.iter().find(|b| merged_into(b, m)) {
                Some(b) => Line {
                    mark: Mark::Changed,
                    now: m.clone(),
                    before: Some(b.clone()),
                    merged: true,
                },
                None => Line {
                    mark: Mark::Added,
                    now: m.clone(),
                    before: None,
                    merged: false,
                },
            },
            Some(b) if b.end == m.end && b.start == m.start && b.perms == m.perms => Line {
                mark: Mark::Same,
                now: m.clone(),
                before: None,
                merged: false,
            },
            Some(b) => Line {
                mark: Mark::Changed,
                now: m.clone(),
                before: Some(b.clone()),
                // The same start and a higher end: for anonymous memory,
                // a new mapping joined above (brk grows [heap], a name).
                merged: m.path.is_empty()
                    && b.path.is_empty()
                    && m.end > b.end
                    && m.perms == b.perms,
            },
        })
        .collect();
    for b in before {
        let merged = lines
            .iter()
            .any(|l| l.merged && l.before.as_ref() == Some(b));
        if !merged && !now.iter().any(|m| same_mapping(b, m)) {
            lines.push(Line {
                mark: Mark::Removed,
                now: b.clone(),
                before: None,
                merged: false,
            });
        }
    }
    // Stable: a removed line comes after a new one at the same address.
    lines.sort_by_key(|l| l.now.start);
    lines
}

/// Only what changed (for the summary: first stop against the last).
pub fn changes(before: &[Mapping], now: &[Mapping]) -> Vec<Line> {
    diff(Some(before), now)
        .into_iter()
        .filter(|l| l.mark != Mark::Same)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use procfs::maps;

    const STOP: &str = include_str!("../tests/data/stop-deleted-space.maps");

    fn marks(lines: &[Line]) -> String {
        lines.iter().map(|l| l.mark.symbol()).collect()
    }

    /// The capture with the heap line `heap` inserted after the program,
    /// and the stack starting at `stack_start`.
    fn edited(heap: Option<&str>, stack_start: &str) -> Vec<procfs::Mapping> {
        let mut text = String::new();
        for line in STOP.lines() {
            if line.ends_with("[stack]") {
                text += &format!("{stack_start}{}\n", &line[12..]);
            } else {
                text += line;
                text += "\n";
            }
            if line.starts_with("00402000")
                && let Some(h) = heap
            {
                text += &format!("{h} rw-p 00000000 00:00 0                          [heap]\n");
            }
        }
        maps::parse(&text).unwrap()
    }

    #[test]
    fn first_stop_has_no_marks() {
        let now = maps::parse(STOP).unwrap();
        assert_eq!(marks(&diff(None, &now)), "        ");
        assert_eq!(marks(&diff(Some(&now), &now)), "        ");
    }

    #[test]
    fn heap_appears_then_grows_by_pages() {
        let a = edited(None, "7fffd30de000");
        let b = edited(Some("01a2b000-01a2d000"), "7fffd30de000");
        let c = edited(Some("01a2b000-01a2f000"), "7fffd30de000");
        let ab = diff(Some(&a), &b);
        assert_eq!(marks(&ab), "   +     ");
        let bc = diff(Some(&b), &c);
        assert_eq!(marks(&bc), "   ~     ");
        assert_eq!(bc[3].delta(), "8 KiB -> 16 KiB, +8 KiB");
        assert_eq!(marks(&changes(&a, &c)), "+");
    }

    #[test]
    fn the_stack_grows_down_with_the_same_end() {
        let a = edited(None, "7fffd30de000");
        let b = edited(None, "7fffd309d000");
        let lines = diff(Some(&a), &b);
        assert_eq!(marks(&lines), "      ~ ");
        assert_eq!(lines[6].delta(), "132 KiB -> 392 KiB, +260 KiB (grew down)");
        // The other way (the front of a line unmapped) is no growth.
        let back = diff(Some(&b), &a);
        assert_eq!(
            back[6].delta(),
            "392 KiB -> 132 KiB, -260 KiB (its start moved up)"
        );
    }

    #[test]
    fn an_unmapped_mapping_is_listed_where_it_was() {
        let big = "7f0000000000-7f0020000000 rw-p 00000000 00:00 0 ";
        let small = "7efffff80000-7f0000000000 rw-p 00000000 00:00 0 ";
        let base = maps::parse(STOP).unwrap();
        let with = |lines: &[&str]| {
            let mut m = base.clone();
            m.extend(lines.iter().map(|l| procfs::Mapping::parse(l).unwrap()));
            m.sort_by_key(|m| m.start);
            m
        };
        let one = with(&[big]);
        let two = with(&[small, big]);
        let three = with(&[small]);
        assert_eq!(marks(&diff(Some(&base), &one)), "   +     ");
        assert_eq!(marks(&diff(Some(&one), &two)), "   +      ");
        let gone = diff(Some(&two), &three);
        assert_eq!(marks(&gone), "    -     ");
        assert_eq!(gone[4].now.size(), 512 << 20);
    }

    #[test]
    fn a_merged_neighbour_is_one_changed_line() {
        // The kernel merged 512 KiB below the 512 MiB line into one line:
        // nothing was unmapped.
        let big =
            procfs::Mapping::parse("7f0000000000-7f0020000000 rw-p 00000000 00:00 0 ").unwrap();
        let merged =
            procfs::Mapping::parse("7efffff80000-7f0020000000 rw-p 00000000 00:00 0 ").unwrap();
        let lines = diff(
            Some(std::slice::from_ref(&big)),
            std::slice::from_ref(&merged),
        );
        assert_eq!(marks(&lines), "~");
        assert_eq!(
            lines[0].delta(),
            "512 MiB -> 512.5 MiB, +512 KiB below: a new mapping merged into it"
        );
        // Merged above: the start holds.
        let up =
            procfs::Mapping::parse("7f0000000000-7f0020080000 rw-p 00000000 00:00 0 ").unwrap();
        let lines = diff(Some(std::slice::from_ref(&big)), std::slice::from_ref(&up));
        assert_eq!(
            lines[0].delta(),
            "512 MiB -> 512.5 MiB, +512 KiB above: a new mapping merged into it"
        );
        // A heap that grows is no merge.
        let h1 = procfs::Mapping::parse("01000000-01002000 rw-p 00000000 00:00 0 [heap]").unwrap();
        let h2 = procfs::Mapping::parse("01000000-01003000 rw-p 00000000 00:00 0 [heap]").unwrap();
        let lines = diff(Some(&[h1]), &[h2]);
        assert_eq!(lines[0].delta(), "8 KiB -> 12 KiB, +4 KiB");
        // Unmapping the top 512 MiB keeps the start: a `~`.
        let left =
            procfs::Mapping::parse("7efffff80000-7f0000000000 rw-p 00000000 00:00 0 ").unwrap();
        let lines = diff(Some(&[merged]), &[left]);
        assert_eq!(marks(&lines), "~");
        assert_eq!(lines[0].delta(), "512.5 MiB -> 512 KiB, -512 MiB");
    }

    #[test]
    fn permissions_change_is_a_tilde() {
        let a = procfs::Mapping::parse("00040000-00041000 rw-p 00000000 00:00 0 ").unwrap();
        let b = procfs::Mapping::parse("00040000-00041000 r--p 00000000 00:00 0 ").unwrap();
        let lines = diff(Some(&[a]), &[b]);
        assert_eq!(marks(&lines), "~");
        assert_eq!(lines[0].delta(), "rw-p -> r--p");
    }
}
