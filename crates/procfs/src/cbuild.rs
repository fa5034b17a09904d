//! For tests: build a small C program with `cc` into a temporary
//! directory that goes away with the returned [`TempDir`].

use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds `source` (a .c file) with `cc -O -pthread`. Without cc it
/// prints SKIPPED and returns None; under CI=true it fails instead
/// ([`crate::testing::tool`]).
pub fn c_program(source: &Path) -> Option<(PathBuf, TempDir)> {
    c_program_with(source, &["-O", "-pthread"])
}

/// As [`c_program`], with these flags for cc.
pub fn c_program_with(source: &Path, flags: &[&str]) -> Option<(PathBuf, TempDir)> {
    let name = source.file_stem()?.to_string_lossy().into_owned();
    let cc = crate::testing::tool("cc")?;
    let dir = TempDir(std::env::temp_dir().join(format!(
        "c-{name}-{}-{}",
        std::process::id(),
        crate::testing::unique()
    )));
    std::fs::create_dir_all(&dir.0).expect("temporary directory");
    let bin = dir.0.join(&name);
    let ok = Command::new(cc)
        .args(flags)
        .arg("-o")
        .arg(&bin)
        .arg(source)
        .status()
        .expect("run cc")
        .success();
    assert!(ok, "cc {} {}", flags.join(" "), source.display());
    Some((bin, dir))
}

/// A test program of procfs's `tests/c` directory.
pub fn test_program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(format!("{name}.c"))
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            if m.is_dir() {
                newest(&e.path())
            } else {
                m.modified().ok()
            }
        })
        .max()
}

/// A demo's release binary in the target directory of this workspace,
/// built first (`cargo build --release -p NAME`) unless it is newer than
/// what the binary is made of: the demo's and `sys`'s sources and
/// manifests, `sys`'s build script with its list of unported demos, and
/// the linker script. Tests and READMEs do not count: cargo does not
/// touch a binary that they do not change. (So a test run as another
/// user, who may not write to target/, finds it built.)
pub fn release_demo(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release").join(name);
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let demo = root.join("crates").join(name);
    let sys = root.join("crates/sys");
    let sources = [
        demo.join("src"),
        demo.join("Cargo.toml"),
        sys.join("src"),
        sys.join("Cargo.toml"),
        sys.join("build_demo.rs"),
        sys.join("not-on-i686.txt"),
        root.join("linker.ld"),
    ];
    let newest_source = sources
        .iter()
        .filter_map(|p| {
            if p.is_dir() {
                newest(p)
            } else {
                std::fs::metadata(p).and_then(|m| m.modified()).ok()
            }
        })
        .max();
    if let (Some(b), Some(s)) = (built, newest_source)
        && b > s
    {
        return bin;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let ok = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--release", "--quiet", "-p", name, "--target-dir"])
        .arg(&target)
        .status()
        .expect("run cargo")
        .success();
    assert!(ok, "cargo build --release -p {name}");
    bin
}

/// Fails if any process runs `bin` (nothing left behind, stopped or
/// running; a zombie that nobody reaps counts as gone).
pub fn assert_none_runs(bin: &Path) {
    let exe = bin.to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(link) = std::fs::read_link(entry.path().join("exe")) else {
            continue;
        };
        if link.to_string_lossy() == exe {
            let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let zombie = state
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'));
            assert!(zombie, "left behind: {:?} ({state})", entry.path());
        }
    }
}
