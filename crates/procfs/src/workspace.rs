//! The workspace as the tools and the scripts see it: where it is, where
//! its binaries go, which crates are demos, and building them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (this crate is `ROOT/crates/procfs`).
pub fn root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

/// The target directory of the running tool, which is
/// `TARGET/PROFILE/TOOL` (`target/release/tour`); else `ROOT/target`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().and_then(Path::parent);
    dir.map(Path::to_path_buf)
        .unwrap_or_else(|| root().join("target"))
}

/// `$CARGO build --release --quiet --target-dir TARGET -p NAME…` in the
/// workspace: a fresh clone has no binaries of the demos.
pub fn build_release(target_dir: &Path, names: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root())
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(target_dir);
    for n in names {
        cmd.args(["-p", n]);
    }
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("building {} failed ({s})", names.join(" "))),
        Err(e) => Err(format!(
            "cannot run cargo to build {}: {e}",
            names.join(" ")
        )),
    }
}

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
