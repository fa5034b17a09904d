//! `cargo tour --compare [LESSON]`: one lesson written four ways, run
//! side by side: our demo, C against glibc linked dynamically and
//! statically, and Rust with std. The C and Rust sources are in
//! `crates/tour/compare/`; the tour builds them into `target/compare/`
//! (again only when the source is newer).
//!
//! For each program, from one traced run (procfs::trace): the maps lines
//! at its first stop, the address-space calls between execve and that
//! stop, all its syscalls. From untraced runs (procfs::Demo, continued at
//! once at its stop): minor faults and resident memory at the first stop
//! (/proc/PID/stat field 10, VmRSS of /proc/PID/status) and the wall
//! time from the spawn (fork + execve) to the exit: the fastest of
//! [`RUNS`], the programs taking turns, after one run each that also
//! warms the caches. The fastest, not the median: on a machine busy with
//! other work a run is only ever slowed down, so the fastest is the
//! closest to what the program costs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use procfs::trace::{self, Spawn, What};
use procfs::{Demo, Event};

use crate::style;

/// Lessons that have comparison programs, and what they do.
pub const LESSONS: &[(&str, &str)] = &[
    ("stop", "stop once, then exit"),
    (
        "brk",
        "stop, move the break up by 4100 bytes twice, stopping after each",
    ),
    (
        "mmap",
        "stop, map 512 MiB, then 512 KiB, unmap the first, stopping after each",
    ),
];

pub fn lesson_known(name: &str) -> bool {
    LESSONS.iter().any(|(l, _)| *l == name)
}
/// Untraced runs per program, for the time.
pub const RUNS: usize = 7;

/// One column of the table: what the program is, or why it is missing.
struct Program {
    label: &'static str,
    bin: Result<PathBuf, String>,
    args: &'static [&'static str],
}

/// A program that could be measured: its file, arguments and numbers.
type Run<'a> = (PathBuf, &'a [&'a str], Measured);

/// What was measured for one program.
#[derive(Default)]
struct Measured {
    file: u64,
    maps_lines: usize,
    layout_calls: usize,
    syscalls: u64,
    min_flt: u64,
    rss_kib: u64,
    fastest: Duration,
}

fn newer(source: &Path, bin: &Path) -> bool {
    let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (time(source), time(bin)) {
        (Some(s), Some(b)) => s > b,
        _ => true,
    }
}

/// Runs a compiler; the first line of its complaint if it fails.
fn build(mut cmd: Command, source: &Path, bin: &Path, tool: &str) -> Result<PathBuf, String> {
    if !newer(source, bin) {
        return Ok(bin.to_path_buf());
    }
    match cmd.stderr(Stdio::piped()).stdout(Stdio::null()).output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("no {tool} here")),
        Err(e) => Err(format!("{tool}: {e}")),
        Ok(o) if o.status.success() => Ok(bin.to_path_buf()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err
                .lines()
                .find(|l| l.contains("cannot find") || l.contains("error"))
                .unwrap_or("failed");
            Err(format!("{tool} failed: {}", first.trim()))
        }
    }
}

fn programs(lesson: &str, ours: PathBuf, sources: &Path, out: &Path) -> Vec<Program> {
    let c = sources.join(format!("{lesson}.c"));
    let rs = sources.join(format!("{lesson}.rs"));
    let _ = std::fs::create_dir_all(out);
    let bin = |suffix: &str| out.join(format!("{lesson}-{suffix}"));
    let cc = |extra: &[&str], b: &Path| {
        let mut cmd = Command::new("cc");
        cmd.arg("-O2").args(extra).arg("-o").arg(b).arg(&c);
        cmd
    };
    let dynamic = bin("c-dynamic");
    let static_ = bin("c-static");
    let rust = bin("rust");
    let mut rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    rustc
        .args(["-O", "--edition", "2024", "-o"])
        .arg(&rust)
        .arg(&rs);
    vec![
        Program {
            label: "ours (no libc)",
            bin: Ok(ours),
            // No narration: the same syscalls as the others.
            args: &["-q"],
        },
        Program {
            label: "C, glibc dynamic",
            args: &[],
            bin: build(cc(&[], &dynamic), &c, &dynamic, "cc"),
        },
        Program {
            label: "C, glibc static",
            args: &[],
            bin: build(cc(&["-static"], &static_), &c, &static_, "cc -static")
                .map_err(|e| format!("{e} (no static libc, libc.a?)")),
        },
        Program {
            label: "Rust with std",
            args: &[],
            bin: build(rustc, &rs, &rust, "rustc"),
        },
    ]
}

fn measure(bin: &Path, args: &[&str], env: &[(OsString, OsString)]) -> Result<Measured, String> {
    let mut m = Measured {
        file: std::fs::metadata(bin).map_err(|e| e.to_string())?.len(),
        ..Measured::default()
    };
    let how = Spawn {
        no_aslr: false,
        env: Some(env.to_vec()),
        own_group: true,
    };
    let mut stopped = false;
    // The tracer's `follow` sends SIGCONT at each stop.
    let mut argv = vec![bin.as_os_str().to_owned()];
    argv.extend(args.iter().map(OsString::from));
    let events = trace::follow(&argv, how, Duration::from_secs(20), |e| {
        if stopped {
            return;
        }
        match &e.what {
            What::Stopped(_) => {
                stopped = true;
                m.maps_lines = procfs::maps::read(e.pid).map(|l| l.len()).unwrap_or(0);
            }
            What::Call(_) => m.layout_calls += 1,
            _ => {}
        }
    })
    .map_err(|e| e.to_string())?
    .ok_or("the traced run hung")?;
    m.syscalls = events
        .iter()
        .find_map(|e| match e.what {
            What::Ended { syscalls, .. } => Some(syscalls),
            _ => None,
        })
        .unwrap_or(0);
    once(bin, args, env, Some(&mut m))?;
    Ok(m)
}

/// One untraced run, continued at once at each stop: how long from the
/// spawn to the exit. With `first`, fills in the faults and RSS at the
/// first stop.
fn once(
    bin: &Path,
    args: &[&str],
    env: &[(OsString, OsString)],
    mut first: Option<&mut Measured>,
) -> Result<Duration, String> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut d = Demo::spawn(cmd, procfs::Spawn::default()).map_err(|e| e.to_string())?;
    let mut stops = 0;
    loop {
        match d.wait(Duration::from_secs(20)) {
            Some(Event::Stopped(_)) => {
                if let Some(m) = first.take() {
                    let s = procfs::stat::read(d.pid).map_err(|e| e.to_string())?;
                    m.min_flt = s.minflt;
                    m.rss_kib =
                        procfs::stat::status_kib(d.pid, "VmRSS").map_err(|e| e.to_string())?;
                }
                stops += 1;
                d.cont().map_err(|e| e.to_string())?;
            }
            Some(Event::Exited(0)) if stops > 0 => return Ok(started.elapsed()),
            other => return Err(format!("did not stop and exit 0: {other:?}")),
        }
    }
}

/// The fastest of [`RUNS`] runs of each program, taken in turns, so that
/// a burst of other work on the machine slows them all alike.
fn time_all(runs: &mut [(PathBuf, &[&str], &mut Measured)], env: &[(OsString, OsString)]) {
    for _ in 0..RUNS {
        for (bin, args, m) in runs.iter_mut() {
            if let Ok(t) = once(bin, args, env, None)
                && (m.fastest.is_zero() || t < m.fastest)
            {
                m.fastest = t;
            }
        }
    }
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the comparison and prints the table.
pub fn main(lesson: &str, ours: PathBuf, workspace: &Path, target: &Path) -> ExitCode {
    let env = crate::trace::user_env(target);
    let list = programs(
        lesson,
        ours,
        &workspace.join("crates/tour/compare"),
        &target.join("compare"),
    );
    let mut results: Vec<(String, Result<Run, String>)> = list
        .into_iter()
        .map(|p| {
            let r = p
                .bin
                .and_then(|b| measure(&b, p.args, &env).map(|m| (b, p.args, m)));
            (p.label.to_string(), r)
        })
        .collect();
    let mut timed: Vec<(PathBuf, &[&str], &mut Measured)> = results
        .iter_mut()
        .filter_map(|(_, r)| r.as_mut().ok())
        .map(|(b, a, m)| (b.clone(), *a, m))
        .collect();
    time_all(&mut timed, &env);
    let results: Vec<(String, Result<Measured, String>)> = results
        .into_iter()
        .map(|(l, r)| (l, r.map(|(_, _, m)| m)))
        .collect();
    let ours = results
        .first()
        .and_then(|(_, r)| r.as_ref().ok())
        .map(|m| m.fastest);
    let head = [
        "program",
        "file",
        "maps lines at the stop",
        "address-space calls before it",
        "syscalls",
        "minor faults",
        "RSS",
        &format!("spawn to exit (fastest of {RUNS})"),
        "x ours",
    ];
    let mut rows = vec![head.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let mut failed = false;
    for (label, r) in &results {
        match r {
            Ok(m) => rows.push(vec![
                label.clone(),
                format!("{} B", m.file),
                m.maps_lines.to_string(),
                m.layout_calls.to_string(),
                m.syscalls.to_string(),
                m.min_flt.to_string(),
                style::size(m.rss_kib * 1024),
                millis(m.fastest),
                ours.map(|o| format!("{:.1}", m.fastest.as_secs_f64() / o.as_secs_f64()))
                    .unwrap_or_else(|| "?".into()),
            ]),
            Err(e) => {
                failed |= label.starts_with("ours");
                rows.push(vec![label.clone(), format!("missing: {e}")]);
            }
        }
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter()
                .filter(|r| r.len() > 1)
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let what = LESSONS
        .iter()
        .find(|(l, _)| *l == lesson)
        .map(|(_, w)| *w)
        .unwrap_or_default();
    println!("== compare {lesson}: the same lesson four ways ({what})");
    for (n, r) in rows.iter().enumerate() {
        let cells: Vec<String> = if r.len() == 1 || r.len() == 2 {
            r.clone()
        } else {
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 {
                        format!("{c:<w$}", w = widths[i])
                    } else {
                        format!("{c:>w$}", w = widths[i])
                    }
                })
                .collect()
        };
        println!("| {} |", cells.join(" | "));
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            println!(
                "|{}|",
                rule.iter()
                    .map(|r| format!("-{r}-"))
                    .collect::<Vec<_>>()
                    .join("|")
            );
        }
    }
    println!(
        "maps lines, calls and syscalls from a traced run; faults and RSS (VmRSS) at the stop and the time from untraced runs.\nAddress-space calls: mmap, munmap, mprotect, brk, mremap, discarding madvise, arch_prctl(ARCH_SET_FS)."
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
