//! The documentation against the repository and the running kernel:
//! every demo has its lesson (crates/DEMO/README.md), every relative link
//! in every README points at a file that exists, every sample block shows
//! the maps lines a fresh run shows (scripts/samples.sh writes them), and
//! the gdb lines of the root README do what the README says.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use procfs::testing::tool;

mod common;
use common::{TOUR, dev_build, maps_gdb, root};

/// The demo crates, as scripts/sizes.sh finds them.
fn demos() -> Vec<String> {
    procfs::workspace::demo_crates(&root())
}

/// The root README and every crate's README.
fn readmes() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let f = entry.unwrap().path().join("README.md");
        if f.is_file() {
            files.push(f);
        }
    }
    files
}

/// The targets of the markdown links `[text](target)` in `text`.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].to_string());
        }
    }
    found
}

#[test]
fn every_demo_has_its_lesson_and_a_row_in_the_table() {
    let demos = demos();
    assert!(demos.len() >= 11, "{demos:?}");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for d in &demos {
        let lesson = root().join("crates").join(d).join("README.md");
        assert!(lesson.is_file(), "{d} has no README.md");
        let text = std::fs::read_to_string(&lesson).unwrap();
        assert!(
            text.starts_with("# `"),
            "{d}: a lesson starts with its title"
        );
        let row = format!("| [`{d}`](crates/{d}/README.md) |");
        assert!(readme.contains(&row), "no row {row} in the root README");
    }
}

#[test]
fn every_relative_link_points_at_a_file() {
    let mut checked = 0;
    for file in readmes() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") || link.starts_with('#') {
                continue;
            }
            let path = link.split('#').next().unwrap();
            let target = dir.join(path);
            assert!(
                target.exists(),
                "{}: link '{link}' points at {} which does not exist",
                file.display(),
                target.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} links found");
}

#[test]
fn the_link_finder_finds_links() {
    assert_eq!(
        links("see [a](x/README.md) and [b](../y.md#z), not (this)"),
        ["x/README.md", "../y.md#z"]
    );
}

/// A sample block: the tour's arguments and the text between the fences.
fn samples(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<!-- sample: ") {
        rest = &rest[at + "<!-- sample: ".len()..];
        let args = rest[..rest.find(" -->").unwrap()].to_string();
        let end = rest.find("<!-- /sample -->").expect("a sample block ends");
        found.push((args, rest[..end].to_string()));
        rest = &rest[end..];
    }
    found
}

/// The maps rows of tour output: mark, range, permissions, size, name.
fn rows(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| {
            let b = l.as_bytes();
            b.len() > 12
                && b"+-~ ".contains(&b[0])
                && b[1] == b' '
                && l[2..]
                    .split('-')
                    .next()
                    .is_some_and(|a| a.len() >= 8 && a.bytes().all(|c| c.is_ascii_hexdigit()))
        })
        .map(|l| {
            // Range, permissions, size, then the name; the residency
            // columns between them (Rss and the page strip) are left out:
            // they tell of this run's memory, not of the layout.
            let words: Vec<&str> = l[2..].split_whitespace().collect();
            let mut kept = words[..4.min(words.len())].to_vec();
            let strip = |w: &str| {
                w.len() > 2
                    && w.starts_with('[')
                    && w.ends_with(']')
                    && w[1..w.len() - 1].chars().all(|c| "█▒·#.+".contains(c))
            };
            let rest = &words[kept.len()..];
            let resident = rest.len() > 3 && rest[0].parse::<f64>().is_ok() && strip(rest[2]);
            kept.extend(rest.iter().skip(if resident { 3 } else { 0 }).take(1));
            format!("{} {}", &l[..1], kept.join(" "))
        })
        .collect()
}

/// What scripts/samples.sh runs for a sample: the tour under --no-aslr
/// in a small fixed environment.
fn sample_run(args: &str) -> String {
    let o = Command::new(TOUR)
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .arg("--no-aslr")
        .args(args.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "tour {args}: {out}");
    out
}

#[test]
fn every_sample_shows_what_a_run_shows_now() {
    let mut checked = 0;
    for file in readmes() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (args, sample) in samples(&text) {
            let shown = rows(&sample);
            assert!(
                !shown.is_empty(),
                "{}: sample '{args}' is empty: run scripts/samples.sh",
                file.display()
            );
            let now = rows(&sample_run(&args));
            // Page 0 is mapped only with CAP_SYS_RAWIO (the `fixed`
            // sample is made as root): a normal user's run lacks that row.
            let page_zero = |r: &String| r[2..].starts_with("00000000-00001000");
            let shown: Vec<String> = if now.iter().any(page_zero) {
                shown
            } else {
                shown.into_iter().filter(|r| !page_zero(r)).collect()
            };
            assert_eq!(
                shown,
                now,
                "{}: sample '{args}' is out of date: run scripts/samples.sh",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} samples");
}

fn gdb(args: &[&str], bin: &Path) -> String {
    let gdb = tool("gdb").expect("checked by the caller");
    let o = Command::new(gdb)
        .current_dir(root())
        .arg("-nx")
        .arg("-batch")
        .args(args.iter().flat_map(|a| ["-ex", a]))
        .arg(bin)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn the_readmes_gdb_lines_go_where_it_says() {
    if tool("gdb").is_none() {
        return;
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for line in [
        "(gdb) handle SIGSTOP stop print nopass",
        "(gdb) break brk::main",
        "(gdb) starti",
        "(gdb) x/6gx $sp",
    ] {
        assert!(readme.contains(line), "the README no longer says {line}");
    }
    let brk = dev_build("brk");
    let out = gdb(
        &[
            "handle SIGSTOP stop print nopass",
            "break brk::main",
            "run",
            "bt",
        ],
        &brk,
    );
    // The lines the README quotes from gdb, exactly: they name a source
    // line and an address, so a change to brk or sys must update them.
    let quoted = |part: &str| -> String {
        readme
            .lines()
            .find(|l| l.contains(part))
            .unwrap_or_else(|| panic!("the README quotes no line with {part}"))
            .to_string()
    };
    let hit = quoted("Breakpoint 1, brk::main");
    assert!(out.contains(&hit), "README: {hit}\ngdb: {out}");
    assert!(
        out.contains("#1  ") && out.contains("brk::__sys_main"),
        "{out}"
    );
    // A plain `break main` lands in the entry!-made main, not the lesson.
    let out = gdb(&["break main", "run"], &brk);
    assert!(out.contains("brk::__sys_main"), "{out}");
    // Before _start: argc 1, argv[0], NULL, then envp pointers.
    let out = gdb(&["starti", "x/6gx $sp"], &brk);
    let first = quoted(" in _start ()");
    assert!(out.contains(&first), "README: {first}\ngdb: {out}");
    let words: Vec<u64> = out
        .lines()
        .filter(|l| l.starts_with("0x") && l.contains(":\t"))
        .flat_map(|l| {
            l.split('\t')
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|w| u64::from_str_radix(w.trim().trim_start_matches("0x"), 16).unwrap())
        .collect();
    assert_eq!(words.len(), 6, "{out}");
    assert_eq!(words[0], 1, "argc: {out}");
    assert!(words[1] > 0x7f00_0000_0000, "argv[0] on the stack: {out}");
    assert_eq!(words[2], 0, "argv ends: {out}");
}

#[test]
fn the_gdb_scripts_last_lines_are_the_readmes() {
    if tool("gdb").is_none() {
        return;
    }
    let brk = dev_build("brk");
    let o = maps_gdb(&tool("gdb").unwrap(), &brk);
    let out = String::from_utf8_lossy(&o.stdout);
    let last: Vec<&str> = out.lines().rev().take(2).collect();
    assert_eq!(last[0], "=== the demo exited with status 0 ===", "{out}");
    assert!(
        last[1].starts_with("[Inferior 1 (process ") && last[1].ends_with(") exited normally]"),
        "{out}"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("`=== the demo exited with status 0 ===`"));
}
