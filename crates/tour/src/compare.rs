//! `--diff A B`: two saved recordings (or two runs, or two stops:
//! `A/brk/2 B/brk/2`) side by side, line by line. Mappings are matched
//! by name and permissions (the third `(anon) rw-p` with the third), not
//! by address, and each address is given relative to its own base (a
//! file's first mapping, the vDSO's first page, else the mapping's own
//! start), so that two ASLR runs, a run with `--no-aslr` and a run on
//! another kernel line up. Marked: `~` other size or place, `-` only in
//! A, `+` only in B. A renderer: it reads only the two recordings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use procfs::{Mapping, maps};

use crate::annotate::short_name;
use crate::record::{self, DemoRun, LoadError, Recording, Stop};
use crate::style::{self, Style};

/// What one argument of `--diff` names: a recording, maybe narrowed to
/// one run and one stop.
pub struct Side {
    pub root: PathBuf,
    pub rec: Recording,
    pub run: Option<usize>,
    pub stop: Option<usize>,
}

/// Finds the recording `path` is in (the nearest directory above with a
/// `format` file) and the run and stop it names.
pub fn open(path: &Path) -> Result<Side, LoadError> {
    let mut root = path.to_path_buf();
    let mut below = Vec::new();
    while !root.join("format").is_file() {
        let (Some(name), Some(parent)) = (root.file_name(), root.parent()) else {
            return Err(LoadError {
                file: path.join("format"),
                what: "no recording here or above (no format file)".into(),
            });
        };
        below.insert(0, name.to_string_lossy().into_owned());
        root = parent.to_path_buf();
    }
    let rec = Recording::load(&root)?;
    let bad = |what: String| LoadError {
        file: path.to_path_buf(),
        what,
    };
    let names = record::dir_names(&rec.runs);
    let run = match below.first() {
        None => None,
        Some(dir) => Some(
            names
                .iter()
                .position(|n| n == dir)
                .ok_or_else(|| bad(format!("no run '{dir}' in the recording")))?,
        ),
    };
    let stop = match (below.get(1), run) {
        (Some(n), Some(r)) => {
            let count = rec.runs[r].stops.len();
            let i = n
                .parse::<usize>()
                .ok()
                .filter(|i| (1..=count).contains(i))
                .ok_or_else(|| bad(format!("no stop '{n}': the run has 1 to {count}")))?;
            Some(i - 1)
        }
        _ => None,
    };
    if below.len() > 2 {
        return Err(bad("name a recording, DIR/RUN or DIR/RUN/STOP".into()));
    }
    Ok(Side {
        root,
        rec,
        run,
        stop,
    })
}

/// Demos pair by name; a command given to `--exec` by its file name, so
/// that `target/release/mmap 64M 4K` pairs with the tour's `mmap`.
fn key(run: &DemoRun) -> &str {
    run.name.rsplit('/').next().unwrap_or(&run.name)
}

/// A mapping's place in a stop, as the diff sees it.
#[derive(Clone, Debug)]
struct Placed {
    name: String,
    perms: String,
    /// Among the lines of the same name and permissions, from 0.
    nth: usize,
    /// Start minus its base.
    offset: u64,
    size: u64,
}

/// The vDSO's pages: one group, whose first page is the base.
fn vdso_family(m: &Mapping) -> bool {
    m.path.starts_with("[vvar") || m.path == "[vdso]"
}

fn placed(maps: &[Mapping]) -> Vec<Placed> {
    let base = |m: &Mapping| -> u64 {
        let group: Vec<&Mapping> = if vdso_family(m) {
            maps.iter().filter(|o| vdso_family(o)).collect()
        } else if !m.anonymous() {
            maps.iter().filter(|o| o.path == m.path).collect()
        } else {
            vec![m]
        };
        group.iter().map(|o| o.start).min().unwrap_or(m.start)
    };
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    maps.iter()
        .map(|m| {
            let name = short_name(m);
            let nth = seen.entry((name.clone(), m.perms.clone())).or_default();
            let p = Placed {
                name,
                perms: m.perms.clone(),
                nth: *nth,
                offset: m.start - base(m),
                size: m.size(),
            };
            *nth += 1;
            p
        })
        .collect()
}

/// The counts a comparison ends with.
#[derive(Default)]
pub struct Tally {
    pub stops: usize,
    pub same: usize,
    pub differ: usize,
}

fn stop_maps(stop: &Stop) -> Result<Vec<Mapping>, String> {
    let text = stop.text("maps").unwrap_or_default();
    maps::parse(&text)
}

/// The lines of two stops, matched and marked.
pub fn stops(a: &Stop, b: &Stop, st: Style, tally: &mut Tally) -> Result<String, String> {
    let (pa, pb) = (placed(&stop_maps(a)?), placed(&stop_maps(b)?));
    let same_line =
        |x: &Placed, y: &Placed| x.name == y.name && x.perms == y.perms && x.nth == y.nth;
    let mut out = String::new();
    let mut row = |mark: char, p: &Placed, what: String| {
        let text = format!(
            "{mark} {:<14} {} {:>12}  {what}",
            p.name,
            p.perms,
            format!("+{:#x}", p.offset)
        );
        out += &match mark {
            '+' => st.added(&text),
            '-' => st.removed(&text),
            '~' => st.changed(&text),
            _ => text,
        };
        out += "\n";
    };
    tally.stops += 1;
    let mut used = vec![false; pb.len()];
    for x in &pa {
        match pb.iter().position(|y| same_line(x, y)) {
            Some(j) => {
                used[j] = true;
                let y = &pb[j];
                let mut what = vec![];
                if x.size != y.size {
                    what.push(format!(
                        "{} -> {}, {}",
                        style::size(x.size),
                        style::size(y.size),
                        style::delta(x.size, y.size)
                    ));
                } else {
                    what.push(format!("{:>9}", style::size(x.size)));
                }
                if x.offset != y.offset {
                    what.push(format!("at +{:#x} in B", y.offset));
                }
                let differs = x.size != y.size || x.offset != y.offset;
                if differs {
                    tally.differ += 1;
                } else {
                    tally.same += 1;
                }
                row(if differs { '~' } else { ' ' }, x, what.join("; "));
            }
            None => {
                tally.differ += 1;
                row('-', x, format!("{:>9}  only in A", style::size(x.size)));
            }
        }
    }
    for (y, _) in pb.iter().zip(&used).filter(|(_, u)| !**u) {
        tally.differ += 1;
        row('+', y, format!("{:>9}  only in B", style::size(y.size)));
    }
    Ok(out)
}

/// One run against another, stop by stop.
fn runs(a: &DemoRun, b: &DemoRun, st: Style, tally: &mut Tally) -> Result<String, String> {
    let mut out = String::new();
    let n = a.stops.len().max(b.stops.len());
    for i in 0..n {
        match (a.stops.get(i), b.stops.get(i)) {
            (Some(x), Some(y)) => {
                let title = if x.title == y.title {
                    x.title.clone()
                } else {
                    format!("{} | B: {}", x.title, y.title)
                };
                out += &st.bold(&format!("\n-- {}: {title}", key(a)));
                out += "\n";
                out += &stops(x, y, st, tally)?;
            }
            (Some(x), None) => {
                tally.differ += 1;
                out += &st.removed(&format!("\n- {}: {}: only in A", key(a), x.title));
                out += "\n";
            }
            (None, Some(y)) => {
                tally.differ += 1;
                out += &st.added(&format!("\n+ {}: {}: only in B", key(b), y.title));
                out += "\n";
            }
            (None, None) => {}
        }
    }
    Ok(out)
}

fn describe(side: &Side) -> String {
    let kernel = side
        .rec
        .host
        .get("osrelease")
        .map(|k| String::from_utf8_lossy(k).trim().to_string())
        .unwrap_or_else(|| "kernel unknown".into());
    format!("{} (Linux {kernel})", side.root.display())
}

/// The whole comparison of `a` and `b` as text.
pub fn compare(a: &Side, b: &Side, st: Style) -> Result<(String, Tally), String> {
    let mut tally = Tally::default();
    let mut out = format!("A: {}\nB: {}\n", describe(a), describe(b));
    match (a.run, b.run, a.stop, b.stop) {
        (Some(ra), Some(rb), Some(sa), Some(sb)) => {
            let (x, y) = (&a.rec.runs[ra], &b.rec.runs[rb]);
            out += &st.bold(&format!(
                "\n-- {} {} | B: {} {}",
                key(x),
                x.stops[sa].title,
                key(y),
                y.stops[sb].title
            ));
            out += "\n";
            out += &stops(&x.stops[sa], &y.stops[sb], st, &mut tally)?;
        }
        (Some(ra), Some(rb), None, None) => {
            let (x, y) = (&a.rec.runs[ra], &b.rec.runs[rb]);
            out += &format!("\n== {} | B: {}\n", x.command, y.command);
            out += &runs(x, y, st, &mut tally)?;
        }
        (None, None, None, None) => {
            for x in &a.rec.runs {
                out += &format!("\n== {}\n", x.command);
                match b.rec.runs.iter().find(|y| key(y) == key(x)) {
                    Some(y) => {
                        if y.command != x.command {
                            out += &format!("   B: {}\n", y.command);
                        }
                        out += &runs(x, y, st, &mut tally)?;
                    }
                    None => {
                        tally.differ += 1;
                        out += &st.removed(&format!("- {}: only in A", key(x)));
                        out += "\n";
                    }
                }
            }
            for y in &b.rec.runs {
                if !a.rec.runs.iter().any(|x| key(x) == key(y)) {
                    tally.differ += 1;
                    out += &st.added(&format!("\n+ {}: only in B", key(y)));
                    out += "\n";
                }
            }
        }
        _ => return Err("compare like with like: two recordings, two runs or two stops".into()),
    }
    out += &format!(
        "\ndiff: {} stop{} compared: {} line{} alike, {} differ{}\n",
        tally.stops,
        if tally.stops == 1 { "" } else { "s" },
        tally.same,
        if tally.same == 1 { "" } else { "s" },
        tally.differ,
        if tally.differ == 1 { "s" } else { "" }
    );
    Ok((out, tally))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Files;

    fn stop(text: &str) -> Stop {
        let mut files = Files::new();
        files.insert("maps".into(), text.as_bytes().to_vec());
        Stop {
            files,
            ..Stop::default()
        }
    }

    #[test]
    fn addresses_are_relative_to_their_base() {
        let a = "\
55d0c0000000-55d0c0001000 r--p 00000000 08:01 7 /x/pie
55d0c0001000-55d0c0002000 r-xp 00001000 08:01 7 /x/pie
7f0000000000-7f0000004000 r--p 00000000 00:00 0 [vvar]
7f0000004000-7f0000006000 r-xp 00000000 00:00 0 [vdso]
7f1000000000-7f1000001000 rw-p 00000000 00:00 0 
";
        let b = "\
5600c0000000-5600c0001000 r--p 00000000 08:01 9 /y/pie
5600c0001000-5600c0002000 r-xp 00001000 08:01 9 /y/pie
7e0000000000-7e0000004000 r--p 00000000 00:00 0 [vvar]
7e0000004000-7e0000006000 r-xp 00000000 00:00 0 [vdso]
7e1000000000-7e1000002000 rw-p 00000000 00:00 0 
7e2000000000-7e2000001000 rw-p 00000000 00:00 0 
";
        let mut tally = Tally::default();
        let text = stops(&stop(a), &stop(b), Style::default(), &mut tally).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert!(
            rows[1].starts_with("  pie            r-xp      +0x1000 "),
            "{text}"
        );
        assert!(
            rows[3].starts_with("  [vdso]         r-xp      +0x4000 "),
            "{text}"
        );
        assert!(rows[4].starts_with("~ (anon)"), "{text}");
        assert!(rows[4].ends_with("4 KiB -> 8 KiB, +4 KiB"), "{text}");
        assert!(
            rows[5].starts_with("+ (anon)") && rows[5].ends_with("only in B"),
            "{text}"
        );
        assert_eq!((tally.same, tally.differ), (4, 2));
    }
}
