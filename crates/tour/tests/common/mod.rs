//! What the tour's test files share: running the tour, its output as
//! text, and a directory that is removed when the test ends.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub const TOUR: &str = env!("CARGO_BIN_EXE_tour");

/// The tour with plain output and its default time limit.
pub fn tour_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(TOUR);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("TOUR_TIMEOUT");
    cmd
}

pub fn tour(args: &[&str]) -> Output {
    tour_cmd(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the tour")
}

/// (stdout, stderr).
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A path in the temporary directory, removed (with what is under it)
/// at the end of the test.
pub struct Temp(pub PathBuf);

impl Temp {
    pub fn new(tag: &str) -> Temp {
        Temp::file(tag, "d")
    }
    /// A file name ending in `.EXT` (a browser goes by it).
    pub fn file(tag: &str, ext: &str) -> Temp {
        let n = procfs::testing::unique();
        let name = format!("tour-test-{tag}-{}-{n}.{ext}", std::process::id());
        Temp(std::env::temp_dir().join(name))
    }
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary directory")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}
