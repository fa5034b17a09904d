//! Running one demo: start it, and at each of its stops read /proc, show
//! what is there and what changed, maybe wait for Enter, then continue it.
//!
//! The demo runs in a process group of its own and dies with SIGKILL when
//! the tour dies (procfs::Demo). Ctrl-C, SIGTERM and SIGHUP keep their
//! default action, which ends the tour, so that PR_SET_PDEATHSIG fires
//! for them just as for SIGKILL: no handler is needed, and none could
//! run after a SIGKILL anyway.

use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{ChildStderr, ChildStdout, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use procfs::{Event, Mapping, Spawn, maps, stat};

use crate::annotate::{self, Context, Program};
use crate::demos::{self, Demo};
use crate::style::Style;
use crate::{diagram, diff, os, show};

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
    pub timeout: Duration,
    pub style: Style,
    /// Benchmark baseline: continue at once, read and show nothing.
    pub bare: bool,
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
    demo: &'a Demo,
    bin: &'a Path,
    opts: &'a mut Options,
    out: &'a mut dyn Write,
    child: procfs::Demo,
    /// Readable once the demo has ended: a pause waits for it and Enter.
    ended: Option<OwnedFd>,
    /// An event already taken from the waiter, to handle next.
    pending: Option<Event>,
    pipes: Pipes,
    program: Option<Program>,
    first: Option<Vec<Mapping>>,
    previous: Option<Vec<Mapping>>,
    stops: usize,
}

/// Runs `demo` from `bin` to its end. Returns whether it went as it
/// should (exit 0, nothing killed).
pub fn run(
    demo: &Demo,
    bin: &Path,
    opts: &mut Options,
    out: &mut dyn Write,
    timings: &mut Timings,
) -> io::Result<bool> {
    let mut cmd = Command::new(bin);
    cmd.args(demo.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if demo.small_env {
        let (name, value) = demos::SMALL_ENV;
        cmd.env_clear().env(name, value);
    }
    let started = Instant::now();
    let mut child = procfs::Demo::spawn(
        cmd,
        Spawn {
            no_aslr: opts.no_aslr,
        },
    )?;
    let pipes = Pipes::take(&mut child)?;
    let ended = match os::pidfd(child.pid) {
        Ok(fd) => Some(fd),
        Err(e) => {
            // Before Linux 5.3, or refused by a seccomp filter.
            if opts.pause {
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
        demo,
        bin,
        opts,
        out,
        child,
        ended,
        pending: None,
        pipes,
        program: None,
        first: None,
        previous: None,
        stops: 0,
    };
    let ok = r.follow(timings);
    timings.runs.push(started.elapsed());
    let ok = ok?;
    if !r.opts.bare {
        r.summary(ok, started.elapsed())?;
    }
    Ok(ok)
}

impl Run<'_> {
    fn follow(&mut self, timings: &mut Timings) -> io::Result<bool> {
        let name = self.demo.name;
        if self.demo.sleeps && !self.sleeping(timings)? {
            return Ok(false);
        }
        loop {
            let (event, fresh) = match self.pending.take() {
                Some(e) => (Some(e), false),
                None => (self.child.wait(self.opts.timeout), true),
            };
            let seen = Instant::now();
            match event {
                None => {
                    let secs = self.opts.timeout.as_secs_f64();
                    writeln!(
                        self.out,
                        "tour: {name} (pid {}) neither stopped nor exited within {secs} s: killed it",
                        self.child.pid
                    )?;
                    self.kill_group();
                    return Ok(false);
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
                    let title = if sig == procfs::child::SIGSTOP {
                        format!("stop {} of {}", self.stops, self.demo.stops)
                    } else {
                        format!("stopped by {} (not the demo's own stop)", signal_name(sig))
                    };
                    self.show(&title)?;
                    if self.opts.pause {
                        let ended = self.pause()?;
                        self.resume(ended);
                    } else {
                        self.resume(false);
                        timings.per_stop.push(seen.elapsed());
                    }
                }
                Some(Event::Exited(code)) => {
                    self.output()?;
                    return Ok(code == 0);
                }
                Some(Event::Killed(sig)) => {
                    self.output()?;
                    let when = if self.stops > 0 {
                        format!(" after stop {}", self.stops)
                    } else {
                        String::new()
                    };
                    writeln!(
                        self.out,
                        "tour: {name} (pid {}) was killed by {}{when} (from another terminal?)",
                        self.child.pid,
                        signal_name(sig)
                    )?;
                    return Ok(false);
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
                writeln!(
                    self.out,
                    "tour: {} did not fall asleep within {} s: killed it",
                    self.demo.name,
                    self.opts.timeout.as_secs_f64()
                )?;
                self.kill_group();
                return Ok(false);
            }
            return Ok(true);
        }
        if self.opts.bare {
            return Ok(true);
        }
        let seen = Instant::now();
        let stopped = self.opts.pause
            && self.child.signal(procfs::child::SIGSTOP).is_ok()
            && self.child.wait(self.opts.timeout) == Some(Event::Stopped(procfs::child::SIGSTOP));
        self.show("asleep in nanosleep(2): it never stops itself, so the tour reads its maps now")?;
        if stopped {
            let ended = self.pause()?;
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

    /// Prints what the demo wrote so far (narration on stderr, data on
    /// stdout). Returns stdout, where `sections` puts its addresses.
    fn output(&mut self) -> io::Result<String> {
        let (data, narration) = self.pipes.drain();
        for l in narration.lines() {
            writeln!(self.out, "  | {l}")?;
        }
        for l in data.lines() {
            writeln!(self.out, "  > {l}")?;
        }
        Ok(data)
    }

    fn show(&mut self, title: &str) -> io::Result<()> {
        let st = self.opts.style;
        writeln!(
            self.out,
            "\n{}",
            st.bold(&format!("-- {}: {title}", self.demo.name))
        )?;
        let data = self.output()?;
        let pid = self.child.pid;
        let text = match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
            Ok(t) => t,
            Err(e) => return writeln!(self.out, "tour: cannot read /proc/{pid}/maps: {e}"),
        };
        let now = maps::parse(&text).map_err(io::Error::other)?;
        let lines = diff::diff(self.previous.as_deref(), &now);
        // --raw replaces the table only: the diagram and the summary
        // still come from the parsed lines.
        if self.opts.raw {
            write!(self.out, "{text}")?;
        } else {
            if self.program.is_none() {
                self.program = Program::find(self.bin, &now);
            }
            let ctx = Context {
                program: self.program.clone(),
                stat: stat::read(pid).ok(),
            };
            let points = if self.demo.points {
                annotate::points(&data)
            } else {
                Vec::new()
            };
            let table = show::maps(&lines, &ctx, &points, self.demo.marks_stack, st);
            write!(self.out, "{table}")?;
        }
        if self.opts.diagram {
            write!(self.out, "\n{}", diagram::draw(&lines, st))?;
        }
        self.first.get_or_insert_with(|| now.clone());
        self.previous = Some(now);
        Ok(())
    }

    /// Waits for Enter while the demo stays stopped. Returns whether the
    /// demo ended meanwhile (killed from another terminal).
    fn pause(&mut self) -> io::Result<bool> {
        let pid = self.child.pid;
        writeln!(
            self.out,
            "\n  paused: pid {pid} stays stopped. In another terminal: pmap -X {pid}, gdb -p {pid}, cat /proc/{pid}/maps\n  Enter continues."
        )?;
        self.out.flush()?;
        match os::wait_input_or_end(0, self.ended.as_ref())? {
            os::Ready::Ended => Ok(true),
            os::Ready::Input => {
                // Unbuffered: one read takes the Enter (and anything typed
                // before it); 0 bytes is EOF.
                // SAFETY: fd 0 stays open; ManuallyDrop keeps it so.
                let mut stdin =
                    std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
                let mut buf = [0u8; 1024];
                if stdin.read(&mut buf).unwrap_or(0) == 0 {
                    writeln!(self.out, "  (stdin is closed: no more pauses)")?;
                    self.opts.pause = false;
                }
                Ok(false)
            }
        }
    }

    fn summary(&mut self, ok: bool, took: Duration) -> io::Result<()> {
        let d = self.demo;
        let how = match self.child.last() {
            Some(Event::Exited(c)) => format!("exited {c}"),
            Some(Event::Killed(s)) => format!("killed by {}", signal_name(s)),
            _ => "did not finish".into(),
        };
        let count = if self.stops == d.stops || d.sleeps {
            format!(
                "{} stop{}",
                self.stops,
                if self.stops == 1 { "" } else { "s" }
            )
        } else {
            format!("{} stops (the lesson has {})", self.stops, d.stops)
        };
        let mut text = format!(
            "\n== {}: {count}, {how}, {:.2} s.",
            d.name,
            took.as_secs_f64()
        );
        if let (Some(first), Some(last)) = (&self.first, &self.previous)
            && self.stops > 1
        {
            let changes = show::net_changes(first, last);
            if !changes.is_empty() {
                text += &format!(" First to last stop: {}.", changes.join(", "));
            }
        }
        let st = self.opts.style;
        writeln!(
            self.out,
            "{}",
            if ok {
                st.bold(&text)
            } else {
                st.removed(&text)
            }
        )?;
        writeln!(self.out, "   {}", d.lesson)
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

/// `SIGKILL (9)`, for the x86-64 numbers of signal(7).
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 20] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
    ];
    match NAMES.get(sig as usize).filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} ({sig})"),
        None => format!("signal {sig}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signal_names() {
        assert_eq!(super::signal_name(9), "SIGKILL (9)");
        assert_eq!(super::signal_name(19), "SIGSTOP (19)");
        assert_eq!(super::signal_name(40), "signal 40");
    }
}
