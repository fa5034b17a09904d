//! The recording model: what a tour collects, kept apart from how it is
//! shown.
//!
//! A [`Recording`] is a format number, the host's facts and one
//! [`DemoRun`] per demo. A run is the demo's name, arguments, the command
//! line shown, its program's ELF file, its [`Stop`]s and how it ended. A
//! stop is a title, a kind and **a set of named raw files**, exactly as
//! the collector read them:
//!
//! | name        | what                                                  |
//! |-------------|-------------------------------------------------------|
//! | `maps`      | /proc/PID/maps                                        |
//! | `stat`      | /proc/PID/stat                                        |
//! | `auxv`      | /proc/PID/auxv (binary)                               |
//! | `smaps`     | /proc/PID/smaps (`Rss`: what is resident)             |
//! | `pagemap.present` | each maps line's present bits, from /proc/PID/pagemap (pages.rs) |
//! | `child/PID/…` | maps, smaps, stat, pagemap.present of a child of the demo (cow's) |
//! | `narration` | what the demo wrote on stderr since the last stop      |
//! | `stdout`    | what it wrote on stdout since the last stop            |
//! | `error`     | why `maps` is missing (the read failed)                |
//!
//! A run has files too: `program` (the ELF bytes; a file over
//! [`PROGRAM_KEPT_UP_TO`] is kept as `program.fnv1a64` and its path only),
//! `program.path` (the path as /proc/PID/maps names it), and the
//! `narration` and `stdout` after the last stop. The host's files are
//! the /proc and /sys files the annotations depend on ([`HOST_FILES`]).
//!
//! Collectors produce a recording: the live run (`run.rs`) and a saved
//! directory ([`Recording::load`]). Renderers only read one: the
//! terminal (`term.rs`) streams through [`Watch`], which a collector
//! calls as each stop is collected; others take a whole [`Recording`].
//! No renderer reads the live /proc or /sys: what it needs is a file of
//! the recording, in the host's files if it is the machine's.
//!
//! # Adding a raw file
//!
//! - A collector adds it to the stop: `stop.files.insert("smaps".into(),
//!   bytes)`. For a /proc/PID file read at every stop, adding its name
//!   to `run::PROC_FILES` is all it takes. A fact of the machine goes
//!   into [`HOST_FILES`].
//! - A renderer reads it: `stop.text("smaps")` or `stop.bytes("smaps")`,
//!   and copes with `None` (an older recording, a read the kernel
//!   refused).
//!
//! Nothing else changes: saving and loading keep every file, whatever
//! its name; a name with `/` (`task/1234/stat`) is a subdirectory.
//!
//! # On disk (`--save DIR`)
//!
//! Plain files, readable with `cat`:
//!
//! ```text
//! DIR/format               FORMAT, the first line: "tour recording format 1"
//! DIR/runs                 the run directories, in order, one a line
//! DIR/missing, DIR/unbuilt demos not in the tree, demos that did not build
//! DIR/sizes                "BYTES PATH" for every file: finds truncation
//! DIR/host/mmap_min_addr   ... one file per host fact
//! DIR/brk/run              "key: value" lines (name, about, pid, end, ...)
//! DIR/brk/args             the arguments, one a line
//! DIR/brk/program          the ELF file; program.path
//! DIR/brk/2/title, kind    the stop's heading and kind
//! DIR/brk/2/maps           ... and every other file of the stop
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use procfs::Event;

/// The format number this tour writes and reads; a newer one is refused.
pub const FORMAT: u32 = 1;
/// The first line of `DIR/format`, before the number.
const FORMAT_HEAD: &str = "tour recording format ";

/// Named raw files: the extension point of the model.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The host's facts the annotations read: file name in the recording,
/// and where the collector reads it.
pub const HOST_FILES: &[(&str, &str)] = &[
    ("osrelease", "/proc/sys/kernel/osrelease"),
    ("mmap_min_addr", "/proc/sys/vm/mmap_min_addr"),
    ("overcommit_memory", "/proc/sys/vm/overcommit_memory"),
    ("randomize_va_space", "/proc/sys/kernel/randomize_va_space"),
    (
        "transparent_hugepage",
        "/sys/kernel/mm/transparent_hugepage/enabled",
    ),
    // The `flags` line only: `la57` there means 5-level page tables are
    // in use (the kernel clears the flag when it runs with 4 levels).
    ("cpu_flags", "/proc/cpuinfo"),
    // `stack_guard_gap=PAGES` on the kernel's command line, if any.
    ("cmdline", "/proc/cmdline"),
    ("mmap_rnd_bits", "/proc/sys/vm/mmap_rnd_bits"),
];

/// A program file up to this size is kept whole; a bigger one (a command
/// given to `--exec`) as its path and hash.
pub const PROGRAM_KEPT_UP_TO: usize = 1 << 20;

/// A whole tour: what `--save` writes and `--replay` reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    pub format: u32,
    pub host: Files,
    pub runs: Vec<DemoRun>,
    /// Demos asked for whose crate is not in the tree.
    pub missing: Vec<String>,
    /// Demos that did not build.
    pub unbuilt: Vec<String>,
}

/// One demo from start to end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoRun {
    pub name: String,
    /// One line on what it does, and what to take away.
    pub about: String,
    pub lesson: String,
    pub args: Vec<String>,
    /// The command line shown: `$ target/release/brk`.
    pub command: String,
    /// How many times the lesson stops itself.
    pub expected: usize,
    /// The demo's presentation flags (see demos::Demo).
    pub sleeps: bool,
    pub points: bool,
    pub marks_stack: bool,
    pub pid: u32,
    pub stops: Vec<Stop>,
    /// The last thing waitpid said: exited or killed; `None` if the tour
    /// never saw it end.
    pub status: Option<Event>,
    /// The tour gave up on it and killed it.
    pub hung: Option<Hung>,
    /// The tour could not run it (`tour: NAME: ERROR`).
    pub error: Option<String>,
    /// Start to end.
    pub took: Duration,
    /// `program`, `program.path`, and the final `narration`, `stdout`.
    pub files: Files,
}

/// Why the tour killed a demo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hung {
    /// It neither stopped nor exited within this time.
    NoStop(Duration),
    /// It never fell asleep (`minimal`).
    NoSleep(Duration),
}

/// One look at the demo: a heading and named raw files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stop {
    /// The heading: `stop 2 of 3`.
    pub title: String,
    /// `stop` (its own SIGSTOP), `signal` (stopped by another signal),
    /// `asleep` (read while it sleeps; not counted as a stop).
    pub kind: String,
    pub files: Files,
}

pub const KIND_STOP: &str = "stop";
pub const KIND_SIGNAL: &str = "signal";
pub const KIND_ASLEEP: &str = "asleep";

/// A file's bytes as text (lossy), if it is there.
pub fn text_of(files: &Files, name: &str) -> Option<String> {
    files
        .get(name)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

impl Stop {
    #[allow(dead_code)] // for renderers of binary files (auxv)
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }
    pub fn text(&self, name: &str) -> Option<String> {
        text_of(&self.files, name)
    }
    /// Whether it counts as one of the demo's stops.
    pub fn counted(&self) -> bool {
        self.kind != KIND_ASLEEP
    }
}

impl DemoRun {
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }
    pub fn text(&self, name: &str) -> Option<String> {
        text_of(&self.files, name)
    }
    /// How many of its stops were stops (not looks while asleep).
    pub fn counted(&self) -> usize {
        self.stops.iter().filter(|s| s.counted()).count()
    }
    /// Exit 0, and nothing went wrong on the way.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.hung.is_none() && self.status == Some(Event::Exited(0))
    }
}

/// What a collector tells a renderer that shows a run as it happens.
/// The live run calls it at each stop, before SIGCONT; a replay calls it
/// for each saved stop.
pub trait Watch {
    /// Before the demo starts (name and command known, the pid not yet).
    fn started(&mut self, run: &DemoRun) -> io::Result<()>;
    /// `stop` was just collected (it is also `run.stops.last()`).
    fn stopped(&mut self, run: &DemoRun, stop: &Stop) -> io::Result<()>;
    /// The run has ended (status, hung, took, final output known).
    fn ended(&mut self, run: &DemoRun) -> io::Result<()>;
    /// Whether to wait at each stop.
    fn pausing(&self) -> bool {
        false
    }
    /// Waits at a stop; `ended` becomes readable if the process ends
    /// meanwhile. Returns whether it did.
    fn pause(&mut self, _run: &DemoRun, _ended: Option<&std::os::fd::OwnedFd>) -> io::Result<bool> {
        Ok(false)
    }
}

/// A watch that shows nothing while the demos run: for a renderer that
/// shows the whole recording afterwards (`--aslr`, `--both`).
pub struct Silent;

impl Watch for Silent {
    fn started(&mut self, _: &DemoRun) -> io::Result<()> {
        Ok(())
    }
    fn stopped(&mut self, _: &DemoRun, _: &Stop) -> io::Result<()> {
        Ok(())
    }
    fn ended(&mut self, _: &DemoRun) -> io::Result<()> {
        Ok(())
    }
}

// ---- host facts -------------------------------------------------------

/// Reads [`HOST_FILES`] from this machine; a file it cannot read is left
/// out (a renderer then says what it would say without it).
pub fn collect_host() -> Files {
    let mut files = Files::new();
    for (name, path) in HOST_FILES {
        let Ok(mut bytes) = std::fs::read(path) else {
            continue;
        };
        if *name == "cpu_flags" {
            let text = String::from_utf8_lossy(&bytes);
            let flags = text.lines().find(|l| l.starts_with("flags")).unwrap_or("");
            bytes = format!("{flags}\n").into_bytes();
        }
        files.insert(name.to_string(), bytes);
    }
    files
}

/// The host facts, parsed, with the defaults a renderer uses when the
/// recording lacks them.
#[derive(Clone, Debug)]
pub struct Host {
    /// vm.mmap_min_addr.
    pub mmap_min_addr: u64,
    /// 4 or 5 (la57).
    pub paging_levels: u32,
    /// How close [stack] may grow to the next accessible mapping below
    /// it, in bytes (mm/mmap.c `stack_guard_gap`, boot option).
    pub stack_guard_gap: u64,
    /// vm.mmap_rnd_bits: the mmap area's random offset, in bits of pages.
    pub mmap_rnd_bits: Option<u32>,
    /// vm.overcommit_memory: 0, 1 or 2.
    pub overcommit_memory: Option<u32>,
}

/// `stack_guard_gap` when the command line does not set it: 256 pages
/// (mm/mmap.c).
pub const DEFAULT_STACK_GUARD_GAP: u64 = 256 << 12;

/// vm.mmap_min_addr when unknown: mm/Kconfig DEFAULT_MMAP_MIN_ADDR
/// (distributions often set 65536 instead).
pub const DEFAULT_MMAP_MIN_ADDR: u64 = 4096;

impl Default for Host {
    fn default() -> Host {
        Host {
            mmap_min_addr: DEFAULT_MMAP_MIN_ADDR,
            paging_levels: 4,
            stack_guard_gap: DEFAULT_STACK_GUARD_GAP,
            mmap_rnd_bits: None,
            overcommit_memory: None,
        }
    }
}

impl Host {
    pub fn from_files(files: &Files) -> Host {
        let text = |n: &str| text_of(files, n).unwrap_or_default();
        let mut host = Host::default();
        if let Ok(v) = text("mmap_min_addr").trim().parse() {
            host.mmap_min_addr = v;
        }
        if text("cpu_flags").split_whitespace().any(|f| f == "la57") {
            host.paging_levels = 5;
        }
        let pages = text("cmdline")
            .split_whitespace()
            .find_map(|w| w.strip_prefix("stack_guard_gap=")?.parse::<u64>().ok());
        if let Some(pages) = pages {
            host.stack_guard_gap = pages << 12;
        }
        host.mmap_rnd_bits = text("mmap_rnd_bits").trim().parse().ok();
        host.overcommit_memory = text("overcommit_memory").trim().parse().ok();
        host
    }
}

// ---- saving -------------------------------------------------------------

/// A run's directory name: its name, with `/` (a path given to `--exec`)
/// made `_`, and a number if two runs share it.
pub fn dir_names(runs: &[DemoRun]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in runs {
        let base = match r.name.replace('/', "_").as_str() {
            // Not a name the recording's own files use.
            "" | "." | ".." | "host" | "format" | "runs" | "sizes" | "missing" | "unbuilt" => {
                format!("_{}", r.name.replace('/', "_"))
            }
            b => b.to_string(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}.{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `value` on one line: `\` and newlines escaped.
fn one_line(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

fn status_text(s: Option<Event>) -> String {
    match s {
        Some(Event::Exited(c)) => format!("exited {c}"),
        Some(Event::Killed(s)) => format!("killed {s}"),
        Some(Event::Stopped(s)) => format!("stopped {s}"),
        None => "unknown".into(),
    }
}

impl DemoRun {
    /// The `run` file: one `key: value` a line.
    fn meta(&self) -> String {
        let mut t = String::new();
        let mut kv = |k: &str, v: &str| {
            let _ = writeln!(t, "{k}: {}", one_line(v));
        };
        kv("name", &self.name);
        kv("about", &self.about);
        kv("lesson", &self.lesson);
        kv("command", &self.command);
        kv("expected stops", &self.expected.to_string());
        kv("sleeps", yes(self.sleeps));
        kv("points", yes(self.points));
        kv("marks stack", yes(self.marks_stack));
        kv("pid", &self.pid.to_string());
        kv("end", &status_text(self.status));
        match self.hung {
            Some(Hung::NoStop(d)) => kv("hung", &format!("no stop within {}", d.as_secs_f64())),
            Some(Hung::NoSleep(d)) => kv("hung", &format!("no sleep within {}", d.as_secs_f64())),
            None => {}
        }
        if let Some(e) = &self.error {
            kv("error", e);
        }
        kv("seconds", &format!("{}", self.took.as_secs_f64()));
        t
    }
}

impl Recording {
    pub fn new(host: Files) -> Recording {
        Recording {
            format: FORMAT,
            host,
            ..Recording::default()
        }
    }

    /// Every file of the recording, by its path under DIR.
    pub fn to_files(&self) -> Files {
        let mut out = Files::new();
        let mut put = |path: String, bytes: Vec<u8>| {
            out.insert(path, bytes);
        };
        put(
            "format".into(),
            format!("{FORMAT_HEAD}{}\n", self.format).into(),
        );
        for (name, bytes) in &self.host {
            put(format!("host/{name}"), bytes.clone());
        }
        let lines = |v: &[String]| {
            v.iter()
                .map(|n| format!("{}\n", one_line(n)))
                .collect::<String>()
        };
        put("missing".into(), lines(&self.missing).into());
        put("unbuilt".into(), lines(&self.unbuilt).into());
        let dirs = dir_names(&self.runs);
        put("runs".into(), lines(&dirs).into());
        for (run, dir) in self.runs.iter().zip(&dirs) {
            put(format!("{dir}/run"), run.meta().into());
            put(format!("{dir}/args"), lines(&run.args).into());
            for (name, bytes) in &run.files {
                put(format!("{dir}/{name}"), bytes.clone());
            }
            for (i, stop) in run.stops.iter().enumerate() {
                let at = format!("{dir}/{}", i + 1);
                put(
                    format!("{at}/title"),
                    format!("{}\n", one_line(&stop.title)).into(),
                );
                put(format!("{at}/kind"), format!("{}\n", stop.kind).into());
                for (name, bytes) in &stop.files {
                    put(format!("{at}/{name}"), bytes.clone());
                }
            }
        }
        let sizes: String = out
            .iter()
            .map(|(path, bytes)| format!("{} {path}\n", bytes.len()))
            .collect();
        out.insert("sizes".into(), sizes.into());
        out
    }

    /// Writes the recording under `dir` (made if needed; files there of
    /// an older recording are replaced, others left alone).
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        for (path, bytes) in self.to_files() {
            let file = dir.join(&path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| io::Error::other(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(&file, bytes)
                .map_err(|e| io::Error::other(format!("{}: {e}", file.display())))?;
        }
        Ok(())
    }
}

// ---- loading ------------------------------------------------------------

/// Why a saved recording cannot be read: the file, and what is wrong.
#[derive(Debug, PartialEq)]
pub struct LoadError {
    pub file: PathBuf,
    pub what: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.what)
    }
}

/// The files of a saved recording, read and checked against `sizes`.
struct Dir<'a> {
    root: &'a Path,
    sizes: BTreeMap<String, usize>,
}

impl Dir<'_> {
    fn error(&self, path: &str, what: impl Into<String>) -> LoadError {
        LoadError {
            file: self.root.join(path),
            what: what.into(),
        }
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, LoadError> {
        let bytes =
            std::fs::read(self.root.join(path)).map_err(|e| self.error(path, e.to_string()))?;
        match self.sizes.get(path) {
            Some(&n) if n != bytes.len() => Err(self.error(
                path,
                format!(
                    "{} bytes, but the recording wrote {n}: truncated or changed",
                    bytes.len()
                ),
            )),
            Some(_) => Ok(bytes),
            None => Err(self.error(path, "not in the recording's list of files (sizes)")),
        }
    }

    fn text(&self, path: &str) -> Result<String, LoadError> {
        String::from_utf8(self.read(path)?).map_err(|_| self.error(path, "not UTF-8 text"))
    }

    /// One name a line.
    fn lines(&self, path: &str) -> Result<Vec<String>, LoadError> {
        Ok(self.text(path)?.lines().map(unescape).collect())
    }

    /// Every file under `prefix/` (but not in its numbered
    /// subdirectories, which are stops), by name below it.
    fn files_under(&self, prefix: &str, skip: &[&str]) -> Result<Files, LoadError> {
        let mut files = Files::new();
        for path in self.sizes.keys() {
            let Some(name) = path.strip_prefix(prefix).and_then(|p| p.strip_prefix('/')) else {
                continue;
            };
            let first = name.split('/').next().unwrap_or("");
            if skip.contains(&name)
                || (!first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()))
            {
                continue;
            }
            files.insert(name.to_string(), self.read(path)?);
        }
        Ok(files)
    }
}

impl Recording {
    /// Reads a recording that [`Recording::save`] wrote. Every file is
    /// checked against its size in `DIR/sizes`; a missing or truncated
    /// one, a bad value or a newer format is an error naming the file.
    pub fn load(root: &Path) -> Result<Recording, LoadError> {
        let mut dir = Dir {
            root,
            sizes: BTreeMap::new(),
        };
        // The format first: a newer recording may lay out anything else
        // differently.
        let format = std::fs::read_to_string(root.join("format"))
            .map_err(|e| dir.error("format", e.to_string()))?;
        let number = format
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(FORMAT_HEAD))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or_else(|| dir.error("format", format!("not '{FORMAT_HEAD}N'")))?;
        if number > FORMAT {
            return Err(dir.error(
                "format",
                format!(
                    "format {number} is newer than this tour reads ({FORMAT}): use a newer tour"
                ),
            ));
        }
        let sizes = std::fs::read_to_string(root.join("sizes"))
            .map_err(|e| dir.error("sizes", e.to_string()))?;
        for line in sizes.lines() {
            let parsed = line
                .split_once(' ')
                .and_then(|(n, p)| Some((n.parse().ok()?, p.to_string())));
            let Some((n, path)) = parsed else {
                return Err(dir.error("sizes", format!("bad line {line:?}")));
            };
            dir.sizes.insert(path, n);
        }
        let mut rec = Recording {
            format: number,
            host: dir.files_under("host", &[])?,
            missing: dir.lines("missing")?,
            unbuilt: dir.lines("unbuilt")?,
            runs: Vec::new(),
        };
        for name in dir.lines("runs")? {
            rec.runs.push(load_run(&dir, &name)?);
        }
        Ok(rec)
    }
}

fn load_run(dir: &Dir, name: &str) -> Result<DemoRun, LoadError> {
    let meta_path = format!("{name}/run");
    let meta: BTreeMap<String, String> = dir
        .text(&meta_path)?
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), unescape(v)))
        .collect();
    let bad = |key: &str| dir.error(&meta_path, format!("no valid '{key}:' line"));
    let get = |key: &str| meta.get(key).cloned().ok_or_else(|| bad(key));
    let flag = |key: &str| match meta.get(key).map(String::as_str) {
        Some("yes") => Ok(true),
        Some("no") => Ok(false),
        _ => Err(bad(key)),
    };
    let number = |key: &str| get(key)?.parse::<u64>().map_err(|_| bad(key));
    let seconds = |text: &str, key: &str| {
        text.parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| bad(key))
    };
    let status = match get("end")?.split_once(' ') {
        None if meta["end"] == "unknown" => None,
        Some(("exited", c)) => Some(Event::Exited(c.parse().map_err(|_| bad("end"))?)),
        Some(("killed", s)) => Some(Event::Killed(s.parse().map_err(|_| bad("end"))?)),
        Some(("stopped", s)) => Some(Event::Stopped(s.parse().map_err(|_| bad("end"))?)),
        _ => return Err(bad("end")),
    };
    let hung = match meta.get("hung") {
        None => None,
        Some(h) => Some(if let Some(s) = h.strip_prefix("no stop within ") {
            Hung::NoStop(seconds(s, "hung")?)
        } else if let Some(s) = h.strip_prefix("no sleep within ") {
            Hung::NoSleep(seconds(s, "hung")?)
        } else {
            return Err(bad("hung"));
        }),
    };
    let mut run = DemoRun {
        name: get("name")?,
        about: get("about")?,
        lesson: get("lesson")?,
        args: dir.lines(&format!("{name}/args"))?,
        command: get("command")?,
        expected: number("expected stops")? as usize,
        sleeps: flag("sleeps")?,
        points: flag("points")?,
        marks_stack: flag("marks stack")?,
        pid: u32::try_from(number("pid")?).map_err(|_| bad("pid"))?,
        status,
        hung,
        error: meta.get("error").cloned(),
        took: seconds(&get("seconds")?, "seconds")?,
        files: dir.files_under(name, &["run", "args"])?,
        stops: Vec::new(),
    };
    for i in 1.. {
        let at = format!("{name}/{i}");
        if !dir.sizes.contains_key(&format!("{at}/title")) {
            break;
        }
        let line = |file: &str| -> Result<String, LoadError> {
            Ok(unescape(
                dir.text(&format!("{at}/{file}"))?.trim_end_matches('\n'),
            ))
        };
        run.stops.push(Stop {
            title: line("title")?,
            kind: line("kind")?,
            files: dir.files_under(&at, &["title", "kind"])?,
        });
    }
    Ok(run)
}

/// FNV-1a, 64 bits: enough to tell whether a big program file is the one
/// recorded (not against tampering).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recording {
        let mut stop = Stop {
            title: "stop 1 of 1".into(),
            kind: KIND_STOP.into(),
            files: Files::new(),
        };
        stop.files.insert(
            "maps".into(),
            b"00400000-00401000 r--p 00000000 00:00 0 \n".to_vec(),
        );
        stop.files
            .insert("task/7/stat".into(), b"7 (x) T 1\n".to_vec());
        let mut run = DemoRun {
            name: "stop".into(),
            about: "stops\nonce".into(),
            command: "$ target/release/stop".into(),
            expected: 1,
            pid: 7,
            status: Some(Event::Exited(0)),
            hung: Some(Hung::NoStop(Duration::from_millis(1500))),
            took: Duration::from_millis(10),
            args: vec!["a b".into()],
            stops: vec![stop],
            ..DemoRun::default()
        };
        run.files.insert("program".into(), vec![0x7f, b'E', 0, 1]);
        let mut rec = Recording::new(Files::new());
        rec.host.insert("mmap_min_addr".into(), b"65536\n".to_vec());
        rec.runs.push(run.clone());
        run.name = "/bin/stop".into();
        rec.runs.push(run.clone());
        run.name = "sizes".into();
        rec.runs.push(run);
        rec.missing.push("later".into());
        rec
    }

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tour-record-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn saved_and_loaded_is_the_same() {
        let dir = temp("same");
        let rec = sample();
        rec.save(&dir).unwrap();
        let back = Recording::load(&dir);
        assert_eq!(
            std::fs::read_to_string(dir.join("stop/1/maps")).unwrap(),
            "00400000-00401000 r--p 00000000 00:00 0 \n"
        );
        assert!(dir.join("_bin_stop/1/task/7/stat").is_file());
        assert!(dir.join("_sizes/run").is_file(), "not the list of sizes");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.unwrap(), rec);
        assert_eq!(Host::from_files(&rec.host).mmap_min_addr, 65536);
    }

    #[test]
    fn truncated_and_newer_files_are_named() {
        let dir = temp("bad");
        sample().save(&dir).unwrap();
        std::fs::write(dir.join("stop/1/maps"), "00400000-").unwrap();
        let e = Recording::load(&dir).unwrap_err();
        assert_eq!(e.file, dir.join("stop/1/maps"));
        assert!(e.what.contains("truncated"), "{e}");
        std::fs::write(dir.join("format"), "tour recording format 99\n").unwrap();
        let e = Recording::load(&dir).unwrap_err();
        assert!(e.to_string().contains("format 99 is newer"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        let e = Recording::load(&dir).unwrap_err();
        assert_eq!(e.file, dir.join("format"));
    }

    #[test]
    fn fnv_of_known_strings() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }
}
