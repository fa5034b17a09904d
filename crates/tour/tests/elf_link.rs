//! The tour points at the file lesson: each of a demo's own maps lines
//! names the PT_LOAD it comes from (`ph[N]`, as `cargo elf` numbers
//! them) and that segment's bytes in the file.

mod common;

use std::path::Path;

use std::process::Stdio;

use common::{text, tour_cmd};
use procfs::elf::{self, Elf};

#[test]
fn program_lines_name_their_pt_load_and_file_range() {
    for demo in ["stop", "sections"] {
        // Piped, without COLUMNS: long lines stay whole.
        let o = tour_cmd(&[demo])
            .env_remove("COLUMNS")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out}\n{err}");
        let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/release")
            .join(demo);
        let e = Elf::read(&bin).unwrap();
        let lines: Vec<&str> = out
            .lines()
            // A maps row: mark, range, perms, size, (Rss, strip,) name.
            .filter(|l| {
                let mut words = l.split_whitespace();
                words
                    .next()
                    .is_some_and(|w| w.contains('-') && w.len() > 16)
                    && words.any(|w| w == demo)
            })
            .collect();
        let loads: Vec<(usize, &elf::ProgramHeader)> = e
            .programs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == elf::PT_LOAD)
            .collect();
        assert!(lines.len() >= loads.len(), "{demo}: {lines:?}");
        for (i, p) in loads {
            let words = format!("; ph[{i}]: file {:#x}-{:#x}", p.offset, p.offset + p.filesz);
            let perms = format!(
                "{}{}{}p",
                if p.flags & elf::PF_R != 0 { 'r' } else { '-' },
                if p.flags & elf::PF_W != 0 { 'w' } else { '-' },
                if p.flags & elf::PF_X != 0 { 'x' } else { '-' }
            );
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains(&perms) && l.contains(&words)),
                "{demo}: no {perms} line with '{words}': {lines:#?}"
            );
        }
    }
}
