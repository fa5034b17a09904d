//! What the tests of `cargo elf` share: the demos, built in both
//! profiles, and the tool run with a time bound.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use procfs::{Demo, Event, Spawn, maps};

pub const ELF: &str = env!("CARGO_BIN_EXE_elf");
/// How long one run of the tool may take on a loaded machine before the
/// test calls it hung (a bound, not a speed target).
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The demos: crates that depend on `sys`.
pub fn demos() -> Vec<String> {
    let mut demos = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.lines().any(|l| l.starts_with("sys = ")) {
            demos.push(dir.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    demos.sort();
    demos
}

fn build(release: bool) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root()).args(["build", "--quiet"]);
    if release {
        cmd.arg("--release");
    }
    for d in demos() {
        cmd.args(["-p", &d]);
    }
    let status = cmd.status().expect("run cargo");
    assert!(status.success(), "building the demos failed");
}

/// Every demo's binary in the profile asked for, built once per test
/// binary.
pub fn binaries(release: bool) -> Vec<(String, PathBuf)> {
    static DEV: OnceLock<()> = OnceLock::new();
    static RELEASE: OnceLock<()> = OnceLock::new();
    if release {
        RELEASE.get_or_init(|| build(true));
    } else {
        DEV.get_or_init(|| build(false));
    }
    let profile = if release { "release" } else { "debug" };
    demos()
        .into_iter()
        .map(|d| {
            let path = target_dir().join(profile).join(&d);
            (d, path)
        })
        .collect()
}

pub fn release(name: &str) -> PathBuf {
    binaries(true)
        .into_iter()
        .find(|(d, _)| d == name)
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no demo {name}"))
}

/// What a run of the tool gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub out: String,
    pub err: String,
}

/// Runs the tool with `args` (no colour), killed if it takes longer than
/// [`PATIENCE`].
pub fn elf(args: &[&str]) -> Run {
    let mut child = Command::new(ELF)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run elf");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("elf {args:?} did not finish within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        out: reader.join().unwrap(),
        err: err_reader.join().unwrap(),
    }
}

/// [`elf`], which must succeed with nothing on stderr.
pub fn elf_ok(args: &[&str]) -> String {
    let r = elf(args);
    assert_eq!(r.code, Some(0), "elf {args:?}: {}", r.err);
    assert_eq!(r.err, "", "elf {args:?}");
    r.out
}

/// One field line of the default listing.
#[derive(Clone, Debug)]
pub struct FieldLine {
    /// `""` for the ELF header, `ph[1]`, `sh[3]`.
    pub entry: String,
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub name: String,
    pub value: String,
    pub class: String,
}

impl FieldLine {
    /// The little-endian number its bytes hold.
    pub fn number(&self) -> u64 {
        self.bytes
            .iter()
            .rev()
            .fold(0, |v, &b| (v << 8) | u64::from(b))
    }
}

/// The field lines of a listing, with the header entry each is under.
pub fn field_lines(out: &str) -> Vec<FieldLine> {
    let mut entry = String::new();
    let mut lines = Vec::new();
    for l in out.lines() {
        if !l.starts_with(' ') {
            entry.clear();
            continue;
        }
        let t: Vec<&str> = l.split_whitespace().collect();
        if l.starts_with("  ph[") || l.starts_with("  sh[") {
            entry = t[0].to_string();
            continue;
        }
        if !l.starts_with("    0x") {
            continue;
        }
        let Some(class_at) = t
            .iter()
            .position(|w| ["validated", "used", "ignored"].contains(w))
        else {
            continue;
        };
        let hex = |w: &&&str| w.len() == 2 && w.chars().all(|c| c.is_ascii_hexdigit());
        let n = t[1..].iter().take_while(hex).count();
        if n == 0 || 1 + n >= class_at {
            continue;
        }
        lines.push(FieldLine {
            entry: entry.clone(),
            offset: u64::from_str_radix(&t[0][2..], 16).unwrap(),
            bytes: t[1..1 + n]
                .iter()
                .map(|w| u8::from_str_radix(w, 16).unwrap())
                .collect(),
            name: t[1 + n].to_string(),
            value: t[2 + n..class_at].join(" "),
            class: t[class_at].to_string(),
        });
    }
    lines
}

/// Starts `path args` as a [`Demo`], output discarded. ETXTBSY (another
/// test thread forked while the file was open for writing) is tried
/// again; other errors fail the test.
pub fn start(path: &std::path::Path, args: &[&str]) -> Demo {
    /// `errno(3)`: text file busy.
    const ETXTBSY: i32 = 26;
    for _ in 0..100 {
        let mut cmd = Command::new(path);
        cmd.args(args)
            .current_dir(path.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match Demo::spawn(cmd, Spawn::default()) {
            Ok(d) => return d,
            Err(e) if e.raw_os_error() == Some(ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    panic!("{}: still ETXTBSY", path.display());
}

/// The `-> ` lines of a listing: the maps lines it says the PT_LOADs
/// become, as (start, end, perms, offset).
pub fn predicted(out: &str) -> Vec<(u64, u64, String, u64)> {
    out.lines()
        .filter_map(|l| l.strip_prefix("    -> "))
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            let (a, b) = t[0].split_once('-').unwrap();
            let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
            (hex(a), hex(b), t[1].to_string(), hex(t[2]))
        })
        .collect()
}

/// Runs `path args` to its first stop (or, for `minimal`, its sleep) and
/// returns its maps.
pub fn maps_at_first_stop(path: &std::path::Path, args: &[&str]) -> (u32, Vec<procfs::Mapping>) {
    let mut demo = start(path, args);
    let stopped = if args == ["5"] {
        demo.wait_sleeping(PATIENCE)
    } else {
        demo.wait(PATIENCE) == Some(Event::Stopped(procfs::child::SIGSTOP))
    };
    assert!(stopped, "{}: no stop: {:?}", path.display(), demo.last());
    let maps = maps::read(demo.pid).unwrap();
    let pid = demo.pid;
    demo.kill();
    (pid, maps)
}

/// The program's lines (and anonymous ones) in the range the prediction covers,
/// at link addresses.
pub fn actual(
    maps: &[procfs::Mapping],
    path: &std::path::Path,
    want: &[(u64, u64, String, u64)],
) -> Vec<(u64, u64, String, u64)> {
    let real = std::fs::canonicalize(path).unwrap();
    let first = maps
        .iter()
        .find(|m| std::path::Path::new(&m.path) == real)
        .expect("a program line");
    let load = first.start - want[0].0;
    let (lo, hi) = (want[0].0 + load, want.last().unwrap().1 + load);
    maps.iter()
        .filter(|m| m.start >= lo && m.end <= hi)
        .filter(|m| std::path::Path::new(&m.path) == real || m.anonymous())
        .map(|m| (m.start - load, m.end - load, m.perms.clone(), m.offset))
        .collect()
}

/// The arguments that take a demo to its first stop, quietly (`minimal`
/// has no stop: it sleeps).
pub fn first_stop_args(demo: &str) -> &'static [&'static str] {
    match demo {
        "minimal" => &["5"],
        "vdso" => &["-q", "--calls", "10"],
        _ => &["-q"],
    }
}
