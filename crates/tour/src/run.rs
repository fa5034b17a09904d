//! The live collector: start a demo, and at each of its stops read its
//! raw /proc files and output into the recording (record.rs), let the
//! watcher show the stop (and maybe wait for Enter), then continue it.
//! Nothing here formats a stop; term.rs does.
//!
//! The demo runs in a process group of its own and dies with SIGKILL when
//! the tour dies (procfs::Demo). Ctrl-C, SIGTERM and SIGHUP keep their
//! default action, which ends the tour, so that PR_SET_PDEATHSIG fires
//! for them just as for SIGKILL: no handler is needed, and none could
//! run after a SIGKILL anyway.

use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{ChildStderr, ChildStdout, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use procfs::{Event, Spawn};

use crate::demos::{self, Demo};
use crate::record::{self, DemoRun, Hung, Stop, Watch};
use crate::style::Style;
use crate::{os, pages};

/// The /proc/PID files read at every stop, each kept in the stop under
/// its own name. A file listed here is saved and replayed with no other
/// change; a renderer that wants it reads `stop.text(NAME)`.
pub const PROC_FILES: &[&str] = &["maps", "stat", "auxv", "smaps", "personality"];

/// [`PROC_FILES`] of `pid` into `files`. Without maps there is nothing
/// to show: an `error` file says why it is missing. The others are
/// extras: a renderer does without them.
pub fn read_proc_files(pid: u32, files: &mut record::Files) {
    for name in PROC_FILES {
        match std::fs::read(format!("/proc/{pid}/{name}")) {
            Ok(bytes) => {
                files.insert(name.to_string(), bytes);
            }
            Err(e) if *name == "maps" => {
                let why = format!("cannot read /proc/{pid}/maps: {e}");
                files.insert("error".into(), why.into());
            }
            Err(_) => {}
        }
    }
}

/// How long a demo may take to reach its next stop or exit; the
/// environment variable overrides it (seconds, for the tests).
pub const TIMEOUT: Duration = Duration::from_secs(20);
pub const TIMEOUT_VAR: &str = "TOUR_TIMEOUT";

#[derive(Clone, Debug)]
pub struct Options {
    pub raw: bool,
    pub diagram: bool,
    pub pause: bool,
    pub no_aslr: bool,
    /// Start with `PER_LINUX32 | ADDR_LIMIT_3GB` (`--3gb`, i686 runs).
    pub limit_3gb: bool,
    pub timeout: Duration,
    pub style: Style,
    /// The page strip in ASCII even on a UTF-8 terminal.
    pub ascii: bool,
    /// Benchmark baseline: continue at once, read and show nothing.
    pub bare: bool,
    /// Fit the text to this many columns (fit::width).
    pub width: Option<usize>,
    /// Every annotation at every stop.
    pub explain_all: bool,
}

/// What the benchmark measures.
#[derive(Debug, Default)]
pub struct Timings {
    /// Per stop: from the stop seen to SIGCONT sent (for `minimal`, its
    /// one look while asleep: from the sleep seen to the table shown).
    pub per_stop: Vec<Duration>,
    /// Per stop: from waitpid returning in procfs's waiter thread to the
    /// tour seeing the event.
    pub latency: Vec<Duration>,
    /// Start to exit, per demo run.
    pub runs: Vec<Duration>,
}

/// The demo's stdout and stderr, read without blocking at each stop.
struct Pipes {
    out: Option<ChildStdout>,
    err: Option<ChildStderr>,
}

impl Pipes {
    fn take(demo: &mut procfs::Demo) -> io::Result<Pipes> {
        let (out, err) = (demo.child.stdout.take(), demo.child.stderr.take());
        if let Some(o) = &out {
            os::nonblocking_pipe(o)?;
        }
        if let Some(e) = &err {
            os::nonblocking_pipe(e)?;
        }
        Ok(Pipes { out, err })
    }

    /// Everything written so far: (stdout, stderr).
    fn drain(&mut self) -> (String, String) {
        fn all(pipe: Option<&mut impl Read>) -> String {
            let mut bytes = Vec::new();
            let mut buf = [0u8; 8192];
            if let Some(p) = pipe {
                // Until empty (WouldBlock) or closed (0).
                while let Ok(n @ 1..) = p.read(&mut buf) {
                    bytes.extend_from_slice(&buf[..n]);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        (all(self.out.as_mut()), all(self.err.as_mut()))
    }
}

/// One demo's run, stop by stop.
struct Run<'a> {
    opts: &'a Options,
    watch: &'a mut dyn Watch,
    rec: DemoRun,
    child: procfs::Demo,
    /// Readable once the demo has ended: a pause waits for it and Enter.
    ended: Option<OwnedFd>,
    /// An event already taken from the waiter, to handle next.
    pending: Option<Event>,
    pipes: Pipes,
    stops: usize,
}

/// The run's record before it starts: the demo as the tour runs it, and
/// its program file.
fn begin(demo: &Demo, bin: &Path, command: &str) -> DemoRun {
    let mut rec = DemoRun {
        name: demo.name.to_string(),
        about: demo.about.to_string(),
        lesson: demo.lesson.to_string(),
        args: demo.args.iter().map(|a| a.to_string()).collect(),
        command: command.to_string(),
        expected: demo.stops,
        sleeps: demo.sleeps,
        points: demo.points,
        marks_stack: demo.marks_stack,
        ..DemoRun::default()
    };
    // As /proc/PID/maps will name it.
    if let (Ok(path), Ok(bytes)) = (std::fs::canonicalize(bin), std::fs::read(bin)) {
        let path = path.to_string_lossy().into_owned();
        rec.files
            .insert("program.path".into(), format!("{path}\n").into());
        if bytes.len() <= record::PROGRAM_KEPT_UP_TO {
            rec.files.insert("program".into(), bytes);
        } else {
            let hash = format!("{:016x}\n", record::fnv1a64(&bytes));
            rec.files.insert("program.fnv1a64".into(), hash.into());
        }
    }
    rec
}

/// Runs `demo` from `bin` to its end, shown through `watch` as it goes
/// (`command`: the command line shown). Returns its record, and an error
/// if the tour could not go on (the record then says so too).
pub fn run(
    demo: &Demo,
    bin: &Path,
    command: &str,
    opts: &Options,
    watch: &mut dyn Watch,
    timings: &mut Timings,
) -> (DemoRun, io::Result<()>) {
    let mut rec = begin(demo, bin, command);
    if let Err(e) = watch.started(&rec) {
        return (rec, Err(e));
    }
    let started = Instant::now();
    let (child, pipes) = match start(demo, bin, opts) {
        Ok(c) => c,
        Err(e) => {
            rec.error = Some(e.to_string());
            return (rec, Err(e));
        }
    };
    rec.pid = child.pid;
    let ended = match os::pidfd(child.pid) {
        Ok(fd) => Some(fd),
        Err(e) => {
            // Before Linux 5.3, or refused by a seccomp filter.
            if watch.pausing() {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    eprintln!(
                        "tour: warning: pidfd_open failed ({e}): a demo killed during --pause is only noticed at Enter"
                    )
                });
            }
            None
        }
    };
    let mut r = Run {
        opts,
        watch,
        rec,
        child,
        ended,
        pending: None,
        pipes,
        stops: 0,
    };
    let followed = r.follow(timings);
    timings.runs.push(started.elapsed());
    r.rec.took = started.elapsed();
    r.rec.status = r.child.last();
    let result = match followed {
        Err(e) => {
            r.rec.error = Some(e.to_string());
            Err(e)
        }
        Ok(()) if r.opts.bare => Ok(()),
        Ok(()) => r.watch.ended(&r.rec),
    };
    (std::mem::take(&mut r.rec), result)
}

fn start(demo: &Demo, bin: &Path, opts: &Options) -> io::Result<(procfs::Demo, Pipes)> {
    let mut cmd = Command::new(bin);
    cmd.args(demo.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if demo.small_env {
        let (name, value) = demos::SMALL_ENV;
        cmd.env_clear().env(name, value);
    }
    let mut child = procfs::Demo::spawn(
        cmd,
        Spawn {
            no_aslr: opts.no_aslr,
            limit_3gb: opts.limit_3gb,
        },
    )?;
    let pipes = Pipes::take(&mut child)?;
    Ok((child, pipes))
}

impl Run<'_> {
    fn follow(&mut self, timings: &mut Timings) -> io::Result<()> {
        if self.rec.sleeps && !self.sleeping(timings)? {
            return Ok(());
        }
        loop {
            let (event, fresh) = match self.pending.take() {
                Some(e) => (Some(e), false),
                None => (self.child.wait(self.opts.timeout), true),
            };
            let seen = Instant::now();
            match event {
                None => {
                    self.rec.hung = Some(Hung::NoStop(self.opts.timeout));
                    self.kill_group();
                    return Ok(());
                }
                Some(Event::Stopped(sig)) => {
                    // How long the stop took from waitpid to here (an
                    // event kept from earlier would count its wait too).
                    if let (true, Some(at)) = (fresh, self.child.last_event_at()) {
                        timings.latency.push(seen.saturating_duration_since(at));
                    }
                    self.stops += 1;
                    if self.opts.bare {
                        self.child.cont()?;
                        continue;
                    }
                    let (kind, title) = if sig == procfs::child::SIGSTOP {
                        let of = match self.rec.expected {
                            // A command given to --exec: no lesson to count.
                            0 => String::new(),
                            n => format!(" of {n}"),
                        };
                        (record::KIND_STOP, format!("stop {}{of}", self.stops))
                    } else {
                        (
                            record::KIND_SIGNAL,
                            format!(
                                "stopped by {} (not the demo's own stop)",
                                crate::term::signal_name(sig)
                            ),
                        )
                    };
                    self.collect(kind, title)?;
                    if self.watch.pausing() {
                        let ended = self.watch.pause(&self.rec, self.ended.as_ref())?;
                        self.resume(ended);
                    } else {
                        self.resume(false);
                        timings.per_stop.push(seen.elapsed());
                    }
                }
                Some(Event::Exited(_)) | Some(Event::Killed(_)) => {
                    self.output();
                    return Ok(());
                }
            }
        }
    }

    /// Lets the demo go on after a stop. If its state changed meanwhile
    /// (killed from elsewhere, or continued and stopped again), that event
    /// is kept for the main loop instead of a SIGCONT that would race it.
    /// `ended`: the pause saw the demo end, so its status is on the way
    /// from the waiter thread: wait for it.
    fn resume(&mut self, ended: bool) {
        let patience = if ended {
            self.opts.timeout
        } else {
            Duration::ZERO
        };
        self.pending = self.child.wait(patience);
        if self.pending.is_none() && self.child.cont().is_err() {
            // Gone between the look and the SIGCONT.
            self.pending = self.child.wait(self.opts.timeout);
        }
    }

    /// `minimal` never stops itself: its maps are read while it sleeps in
    /// nanosleep. Falling asleep is no event waitpid reports, so this one
    /// wait is a poll of /proc/PID/stat (procfs::Demo::wait_sleeping).
    /// For `--pause` the tour stops it itself (nanosleep then resumes with
    /// the time left). Returns false if it timed out.
    fn sleeping(&mut self, timings: &mut Timings) -> io::Result<bool> {
        if !self.child.wait_sleeping(self.opts.timeout) {
            // Ended already (the main loop reports how), or hangs.
            if !self.child.finished() {
                self.rec.hung = Some(Hung::NoSleep(self.opts.timeout));
                self.kill_group();
                return Ok(false);
            }
            return Ok(true);
        }
        if self.opts.bare {
            return Ok(true);
        }
        let seen = Instant::now();
        let stopped = self.watch.pausing()
            && self.child.signal(procfs::child::SIGSTOP).is_ok()
            && self.child.wait(self.opts.timeout) == Some(Event::Stopped(procfs::child::SIGSTOP));
        self.collect(
            record::KIND_ASLEEP,
            "asleep in nanosleep(2): it never stops itself, so the tour reads its maps now".into(),
        )?;
        if stopped {
            let ended = self.watch.pause(&self.rec, self.ended.as_ref())?;
            self.resume(ended);
        } else {
            timings.per_stop.push(seen.elapsed());
        }
        Ok(true)
    }

    /// Kills the demo and anything it started: it leads its own process
    /// group, so `kill(-pid)` reaches a child it forked (`sh -c 'sleep'`).
    fn kill_group(&mut self) {
        procfs::child::raw_kill(-(self.child.pid as i32), procfs::child::SIGKILL);
        self.child.kill();
    }

    /// What the demo wrote since the last stop: (narration, stdout).
    fn drained(&mut self) -> [(&'static str, Vec<u8>); 2] {
        let (data, narration) = self.pipes.drain();
        [("narration", narration.into()), ("stdout", data.into())]
    }

    /// What the demo wrote after its last stop, into the run.
    fn output(&mut self) {
        for (name, bytes) in self.drained() {
            self.rec.files.insert(name.into(), bytes);
        }
    }

    /// One look: the demo's output so far and its /proc files, into a
    /// new stop of the record, then shown.
    fn collect(&mut self, kind: &str, title: String) -> io::Result<()> {
        let mut stop = Stop {
            title,
            kind: kind.into(),
            ..Stop::default()
        };
        for (name, bytes) in self.drained() {
            stop.files.insert(name.into(), bytes);
        }
        let pid = self.child.pid;
        read_proc_files(pid, &mut stop.files);
        // Residency (pages.rs): the present bits, and the demo's children
        // (cow's), which the demo stopped before it stopped itself.
        pages::collect(pid, &mut stop.files, "");
        for child in pages::children(pid) {
            pages::collect_child(child, &mut stop.files);
        }
        crate::tasks::collect(pid, &mut stop.files);
        self.rec.stops.push(stop);
        let stop = self.rec.stops.last().expect("just pushed");
        self.watch.stopped(&self.rec, stop)
    }
}

/// However a run ends, an error on the way (the reader of our stdout
/// gone) included, the demo and anything it started end with it.
impl Drop for Run<'_> {
    fn drop(&mut self) {
        if !self.child.finished() {
            self.kill_group();
        }
    }
}
