//! The size report and the opt-level matrix cover the i686 builds: one
//! `i686/DEMO` row per ported demo, within the same limits (`minimal`
//! under 1,024 bytes stripped), each file the one on disk.

use procfs::i686::*;
use std::process::Command;

#[test]
fn size_report_has_an_i686_row_per_ported_demo_within_its_limit() {
    if demos_for_test().is_none() {
        return;
    }
    let root = workspace();
    let out = Command::new("bash")
        .arg(root.join("scripts/sizes.sh"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for demo in PORTED.iter().chain(VARIANTS) {
        let name = format!("i686/{demo}");
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&name))
            .unwrap_or_else(|| panic!("no row {name}:\n{text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        let (file, stripped): (u64, u64) = (cols[1].parse().unwrap(), cols[2].parse().unwrap());
        let on_disk = std::fs::metadata(bin_dir(&target).join(demo))
            .unwrap()
            .len();
        assert_eq!(file, on_disk, "{row}");
        let limit = match *demo {
            "minimal" => 1024,
            "auxv" | "vdso" => 8192,
            _ => 4096,
        };
        assert!(stripped <= limit && stripped < file, "{row}");
        assert!(row.ends_with("ok") || row.contains("over aim"), "{row}");
    }
    for demo in NOT_PORTED {
        let name = format!("i686/{demo}");
        assert!(!text.lines().any(|l| l.starts_with(&name)), "{text}");
    }
}
