//! `cargo tour --trace -- CMD [ARGS…]`: a collector. It starts CMD under
//! procfs's tracer and makes a recording ([`crate::record`]): one run
//! whose stops are the steps of the trace, each a kind and named raw
//! files (every step also has `pid` and `tid`):
//!
//! Steps with `maps` also have the tour's other files of a stop
//! (`run::PROC_FILES`: stat, auxv, smaps).
//!
//! | step     | when                                   | files                              |
//! |----------|----------------------------------------|------------------------------------|
//! | `exec`   | execve has returned, nothing ran yet   | `maps`, `exe`, `program` (its ELF file, up to 1 MiB), `entry`, `loader` |
//! | `call`   | an address-space syscall returned      | `maps`, `call`, `name`, `args`, `ret`, `ip`, `caller` |
//! | `entry`  | the program reached AT_ENTRY           | `maps`, `entry`, `by`              |
//! | `stop`   | the program stopped itself (group-stop)| `maps`, `signal`                   |
//! | `exit`   | about to exit, the layout still whole  | `maps`, `call`                     |
//! | `signal` | a signal on its way to the program     | `signal`                           |
//! | `task`   | a new thread or process                | `child`, `birth`                   |
//! | `end`    | a process has ended                    | `status`, `syscalls`               |
//!
//! An `exec` step also has `interp`, the program's PT_INTERP, and
//! `interp.path`, that file with links resolved, as maps names it. The
//! run keeps `trace` (the command, one word a line) and `segments`: the
//! program headers of every ELF file that appeared in the maps (read when
//! it appeared), one line each, `PATH<TAB>TYPE FLAGS OFFSET VADDR FILESZ
//! MEMSZ` in hex. The renderer
//! ([`crate::traceview`]) reads only these; `--save` and `--replay` keep
//! and show a trace like any recording.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use procfs::elf::Elf;
use procfs::trace::{Birth, Next, Spawn, StartError, Trace, What};
use procfs::{Event, maps};

use crate::record::{DemoRun, Files, Hung, Stop, Watch};
use crate::run::Options;
use crate::traceview::View;

fn put(files: &mut Files, name: &str, value: impl ToString) {
    files.insert(name.into(), value.to_string().into_bytes());
}

/// The program headers of every ELF file in `text` (a maps file) not
/// yet in `seen`, appended to `out`.
fn segments_of_new_files(text: &str, seen: &mut HashSet<String>, out: &mut String) {
    let Ok(now) = maps::parse(text) else { return };
    for m in now {
        if m.anonymous() || m.is_special() || !seen.insert(m.path.clone()) {
            continue;
        }
        // Only ELF files are read whole (a program may map a big data file).
        let mut magic = [0u8; 4];
        let elf_file = std::fs::File::open(&m.path)
            .and_then(|mut f| io::Read::read_exact(&mut f, &mut magic))
            .is_ok()
            && &magic == b"\x7fELF";
        if !elf_file {
            continue;
        }
        let Ok(elf) = Elf::read(Path::new(&m.path)) else {
            continue;
        };
        for p in &elf.programs {
            out.push_str(&format!(
                "{}\t{:x} {:x} {:x} {:x} {:x} {:x}\n",
                m.path, p.kind, p.flags, p.offset, p.vaddr, p.filesz, p.memsz
            ));
        }
    }
}

/// The path of the mapping that holds `addr`, in the maps text.
fn mapping_path(text: &str, addr: u64) -> String {
    maps::parse(text)
        .ok()
        .and_then(|m| maps::containing(&m, addr).map(|m| m.path.clone()))
        .unwrap_or_default()
}

/// Runs the trace to its end, handing each step to `watch`. At a
/// group-stop the program is sent SIGCONT after `watch` returned, as the
/// tour does for a demo's own stop.
pub fn collect(
    argv: &[OsString],
    shown: &str,
    how: Spawn,
    timeout: Duration,
    watch: &mut dyn Watch,
) -> Result<io::Result<DemoRun>, StartError> {
    let started = Instant::now();
    let mut trace = Trace::start(argv, how)?;
    let words: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut run = DemoRun {
        name: Path::new(&words[0])
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        about: "a trace".into(),
        args: words[1..].to_vec(),
        command: shown.into(),
        pid: trace.pid,
        ..DemoRun::default()
    };
    put(&mut run.files, "trace", words.join("\n"));
    let result = watch
        .started(&run)
        .and_then(|()| follow(&mut trace, &mut run, timeout, watch));
    run.took = started.elapsed();
    Ok(result.and_then(|()| watch.ended(&run)).map(|()| run))
}

fn follow(
    trace: &mut Trace,
    run: &mut DemoRun,
    timeout: Duration,
    watch: &mut dyn Watch,
) -> io::Result<()> {
    let mut seen = HashSet::new();
    let mut segments = String::new();
    loop {
        let e = match trace.next(timeout) {
            Next::Event(e) => e,
            Next::Timeout => {
                run.hung = Some(Hung::NoStop(timeout));
                trace.kill();
                return Ok(());
            }
            Next::Done => return Ok(()),
        };
        let mut step = Stop::default();
        let f = &mut step.files;
        put(f, "pid", e.pid);
        put(f, "tid", e.tid);
        let mut with_maps = true;
        let mut group_stop = false;
        let kind = match &e.what {
            What::Exec {
                path,
                entry,
                loader,
            } => {
                put(f, "exe", path);
                // The program's ELF file, for its section names (as the
                // tour keeps a demo's).
                if let Ok(bytes) = std::fs::read(path)
                    && bytes.len() <= crate::record::PROGRAM_KEPT_UP_TO
                {
                    f.insert("program".into(), bytes);
                }
                put(f, "entry", format!("{entry:#x}"));
                put(f, "loader", u8::from(*loader));
                // PT_INTERP, and the file as maps will name it.
                if let Ok(Some(i)) = Elf::interpreter(Path::new(path)) {
                    let canonical = std::fs::canonicalize(&i)
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_else(|_| i.clone());
                    put(f, "interp", i);
                    put(f, "interp.path", canonical);
                }
                "exec"
            }
            What::Call(c) => {
                put(f, "call", c.strace());
                put(f, "name", c.name);
                let args: Vec<String> = c.args.iter().map(|a| format!("{a:#x}")).collect();
                put(f, "args", args.join(" "));
                put(f, "ret", c.ret.unwrap_or(0));
                put(f, "ip", format!("{:#x}", c.ip));
                "call"
            }
            What::Entry { addr, by } => {
                put(f, "entry", format!("{addr:#x}"));
                put(f, "by", by);
                "entry"
            }
            What::Stopped(sig) => {
                put(f, "signal", sig);
                group_stop = true;
                "stop"
            }
            What::Exit { call } => {
                if let Some(c) = call {
                    put(f, "call", c.strace());
                }
                "exit"
            }
            What::Signal(sig) => {
                with_maps = false;
                put(f, "signal", sig);
                "signal"
            }
            What::Task { child, birth } => {
                with_maps = false;
                put(f, "child", child);
                let b = match birth {
                    Birth::Thread => "thread",
                    Birth::Fork => "fork",
                    Birth::Vfork => "vfork",
                };
                put(f, "birth", b);
                "task"
            }
            What::Ended { status, syscalls } => {
                with_maps = false;
                put(f, "syscalls", syscalls);
                let s = match status {
                    Event::Exited(c) => format!("exited {c}"),
                    Event::Killed(s) => format!("killed {s}"),
                    Event::Stopped(s) => format!("stopped {s}"),
                };
                put(f, "status", s);
                if e.pid == run.pid {
                    run.status = Some(*status);
                }
                "end"
            }
        };
        step.kind = kind.into();
        step.title = title(kind, &e);
        if with_maps {
            // The files the tour reads at a stop (smaps: what is resident,
            // for the pictures of --html and --svg).
            crate::run::read_proc_files(e.pid, f);
            if let Some(text) = f
                .get("maps")
                .map(|b| String::from_utf8_lossy(b).into_owned())
            {
                segments_of_new_files(&text, &mut seen, &mut segments);
                if let What::Call(c) = &e.what {
                    put(f, "caller", mapping_path(&text, c.ip));
                }
            }
            run.files
                .insert("segments".into(), segments.clone().into_bytes());
        }
        run.stops.push(step.clone());
        watch.stopped(run, &step)?;
        if group_stop {
            let _ = procfs::child::raw_kill(e.pid as i32, procfs::child::SIGCONT);
        }
    }
}

/// A step's heading for the page renderers, which show it as a stop's.
fn title(kind: &str, e: &procfs::trace::Event) -> String {
    let what = match &e.what {
        What::Exec { path, .. } => format!("what execve built for {path}"),
        What::Call(c) => c.strace(),
        What::Entry { addr, .. } => format!("entry point {addr:#x} reached: the loader is done"),
        What::Stopped(sig) => format!("stopped itself (signal {sig})"),
        What::Exit { call: Some(c) } => format!("{}: the final layout", c.strace()),
        What::Exit { call: None } => "dying: the final layout".into(),
        What::Signal(sig) => format!("signal {sig}"),
        What::Task { child, birth } => format!("{birth:?} {child}"),
        What::Ended { status, .. } => format!("ended: {status:?}"),
    };
    format!("{kind}, pid {}: {what}", e.pid)
}

/// cargo run adds its own directories to LD_LIBRARY_PATH (the target
/// directory and the toolchain's libraries); a traced program should
/// see the environment the user has, so those are taken out again.
pub fn user_env(target: &Path) -> Vec<(OsString, OsString)> {
    let ours = |dir: &str| {
        Path::new(dir).starts_with(target)
            || dir.contains("/lib/rustlib/")
            || Path::new(dir).join("rustlib").is_dir()
    };
    std::env::vars_os()
        .filter_map(|(k, v)| {
            if k != "LD_LIBRARY_PATH" {
                return Some((k, v));
            }
            let kept: Vec<&str> = v
                .to_str()
                .unwrap_or("")
                .split(':')
                .filter(|d| !d.is_empty() && !ours(d))
                .collect();
            (!kept.is_empty()).then(|| (k, kept.join(":").into()))
        })
        .collect()
}

/// `cargo tour --trace [OPTIONS] -- CMD [ARGS…]`, shown as it goes.
/// The exit status is the program's (128 + the signal that killed it),
/// as a shell reports it; 127 and 126 when it cannot be started, 1 when
/// ptrace is refused. The run, if there is one, for `--save` and the
/// other renderers.
pub fn main(
    argv: &[String],
    shown: &str,
    opts: &Options,
    steps: Option<Vec<String>>,
    target: &Path,
) -> (ExitCode, Option<DemoRun>) {
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    let how = Spawn {
        no_aslr: opts.no_aslr,
        env: Some(user_env(target)),
        // The user's terminal, as without the tour.
        own_group: false,
    };
    let mut out = io::stdout().lock();
    let host = crate::record::Host::from_files(&crate::record::collect_host());
    let mut view = View::with(&mut out, opts, steps, &host);
    let setarch = if opts.no_aslr { "setarch -R " } else { "" };
    let shown = format!("$ {setarch}{shown}");
    view.live = true;
    match collect(&argv, &shown, how, opts.timeout, &mut view) {
        Err(e) => {
            eprintln!("tour: --trace: {e}");
            (ExitCode::from(e.exit_code()), None)
        }
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => (ExitCode::SUCCESS, None),
        Ok(Err(e)) => {
            eprintln!("tour: --trace: {e}");
            (ExitCode::FAILURE, None)
        }
        Ok(Ok(run)) => {
            let code = match run.status {
                Some(Event::Exited(c)) => ExitCode::from(c as u8),
                Some(Event::Killed(s)) => ExitCode::from(128 + s as u8),
                _ => ExitCode::FAILURE,
            };
            (code, Some(run))
        }
    }
}

/// The run as slides for the page renderers (`--html`, `--svg`): only the
/// steps with maps that `steps` names, each titled by what happened.
pub fn slides(run: &DemoRun, steps: &[String]) -> DemoRun {
    let mut out = run.clone();
    out.stops
        .retain(|s| s.files.contains_key("maps") && steps.contains(&s.kind));
    out
}
