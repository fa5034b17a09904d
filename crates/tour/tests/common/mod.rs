//! What the tour's test files share: running the tour, its output as
//! text, and a directory that is removed when the test ends.
#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub const TOUR: &str = env!("CARGO_BIN_EXE_tour");

/// How long a running tour may take to print what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A tour running in the background with stdin piped, its stdout read
/// line by line (`seen` keeps what was read); killed and reaped when
/// dropped.
pub struct Live {
    pub child: Child,
    pub lines: Receiver<String>,
    pub seen: String,
}

impl Live {
    pub fn spawn(mut cmd: Command) -> Live {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if send.send(l).is_err() {
                    return;
                }
            }
        });
        Live {
            child,
            lines,
            seen: String::new(),
        }
    }

    /// The next line within what is left of `PATIENCE` from `deadline`.
    pub fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let l = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()?;
        self.seen += &l;
        self.seen += "\n";
        Some(l)
    }

    /// Reads until a line contains `what`; returns that line.
    pub fn until(&mut self, what: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        while let Some(l) = self.next_line(deadline) {
            if l.contains(what) {
                return l;
            }
        }
        panic!("no {what:?} in:\n{}", self.seen);
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// (stdout, stderr) of a tour that must have succeeded.
pub fn succeeded(o: &Output) -> (String, String) {
    let (out, err) = text(o);
    assert!(o.status.success(), "{}: {out}\n{err}", o.status);
    (out, err)
}

/// Checks a tour refused as a usage error: status 2, and stderr says
/// `says`.
pub fn assert_usage_error(o: &Output, says: &str) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains(says), "{says:?} in {err}");
}

/// (stdout, stderr).
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Waits until `pid` runs or stops no more: gone, or a zombie that
/// nobody reaps. `what` names it in the failure (`the demo`, `pid`).
pub fn assert_gone(pid: u32, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while let Ok(s) = procfs::stat::read(pid) {
        if s.state == 'Z' || s.state == 'X' {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} {pid} left behind, state {}",
            s.state
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The workspace's root directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The dev build of a demo (`cargo build -p DEMO`), as the README's gdb
/// lines and scripts/gdb/maps.gdb use it.
pub fn dev_build(demo: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .current_dir(root())
        .args(["build", "--quiet", "-p", demo])
        .status()
        .unwrap();
    assert!(built.success(), "cargo build -p {demo}");
    // Wherever this test binary was built: TARGET/PROFILE/tour.
    let target = Path::new(TOUR).parent().unwrap().parent().unwrap();
    target.join("debug").join(demo)
}

/// `gdb -nx -batch -x scripts/gdb/maps.gdb BIN`, run from the root.
pub fn maps_gdb(gdb: &Path, bin: &Path) -> Output {
    Command::new(gdb)
        .current_dir(root())
        .args(["-nx", "-batch", "-x", "scripts/gdb/maps.gdb"])
        .arg(bin)
        .stdin(Stdio::null())
        .output()
        .expect("run gdb")
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
    /// [`Temp::new`], made: an empty directory (TMPDIR for a script, so
    /// that a temporary file it leaves behind is found).
    pub fn dir(tag: &str) -> Temp {
        let t = Temp::new(tag);
        std::fs::create_dir_all(&t.0).unwrap();
        t
    }
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary directory")
    }
    /// The names in the directory.
    pub fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}
