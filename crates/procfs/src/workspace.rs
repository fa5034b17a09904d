//! The workspace as the scripts see it, for tests that check every demo.

use std::path::Path;

/// The demo crates under `root/crates`: those that depend on the syscall
/// crate `sys` (scripts/sizes.sh finds them the same way), sorted.
pub fn demo_crates(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).into_iter().flatten() {
        let Ok(entry) = entry else { continue };
        let dir = entry.path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.lines().any(|l| l.starts_with("sys = ")) {
            names.push(
                dir.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    names.sort();
    names
}
