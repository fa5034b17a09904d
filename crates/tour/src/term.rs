//! The terminal renderer: a recording shown as text, stop by stop, as
//! the live run collects it or as a saved one is replayed. It reads only
//! the recording (record.rs), never /proc.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};

use procfs::{Event, Mapping, maps, stat};

use crate::annotate::{self, Context, Program};
use crate::record::{DemoRun, Host, Hung, Stop, Watch};
use crate::run::Options;
use crate::show::{Explained, Layout};
use crate::{diagram, diff, fit, os, resident, show};

/// Shows runs on `out`.
pub struct Term<'a> {
    opts: Options,
    out: &'a mut dyn Write,
    host: Host,
    /// `== 3/11`: how many demos there are; `None` (`--exec`): no heading.
    total: Option<usize>,
    /// Demos started so far.
    seen: usize,
    /// Whether the pid shown at a pause is a live process.
    live: bool,
    // Per run:
    program: Option<Program>,
    first: Option<Vec<Mapping>>,
    previous: Option<Vec<Mapping>>,
    /// The last stop had more than one task (crate::tasks).
    threads_seen: bool,
    explained: Explained,
    /// Residency at the last stop: the demo's, its minflt, its children's.
    previous_res: Option<resident::View>,
    previous_minflt: Option<u64>,
    previous_children: BTreeMap<u32, resident::View>,
}

impl<'a> Term<'a> {
    pub fn new(
        opts: &Options,
        out: &'a mut dyn Write,
        host: Host,
        total: Option<usize>,
        live: bool,
    ) -> Term<'a> {
        Term {
            opts: opts.clone(),
            out,
            host,
            total,
            seen: 0,
            live,
            program: None,
            first: None,
            previous: None,
            threads_seen: false,
            explained: Explained::new(),
            previous_res: None,
            previous_minflt: None,
            previous_children: BTreeMap::new(),
        }
    }

    /// Writes `text`, its lines fitted to the width.
    fn put(&mut self, text: &str) -> io::Result<()> {
        self.out
            .write_all(fit::lines(text, self.opts.width).as_bytes())
    }

    pub fn out(&mut self) -> &mut dyn Write {
        self.out
    }

    /// What the demo wrote: narration (stderr) as `  | `, data (stdout)
    /// as `  > ` lines.
    fn output(&mut self, narration: Option<String>, data: Option<String>) -> io::Result<()> {
        let mut text = String::new();
        for l in narration.unwrap_or_default().lines() {
            text += &format!("  | {l}\n");
        }
        for l in data.unwrap_or_default().lines() {
            text += &format!("  > {l}\n");
        }
        self.put(&text)
    }

    /// Each child of the demo at this stop (`child/PID/…` files): its
    /// maps marked against the parent's (blank: the same line), with its
    /// own residency against its own last stop.
    fn children(
        &mut self,
        stop: &Stop,
        pids: &[u32],
        parent: &[Mapping],
        ctx: &Context,
        glyphs: resident::Glyphs,
        layout: Layout,
    ) -> io::Result<()> {
        let st = self.opts.style;
        let mut seen = BTreeMap::new();
        for &pid in pids {
            let file = |name: &str| stop.text(&format!("child/{pid}/{name}"));
            let Some(text) = file("maps") else { continue };
            let Ok(now) = maps::parse(&text) else {
                continue;
            };
            let stat = file("stat").and_then(|t| stat::parse(&t).ok());
            let state = stat.as_ref().map_or('?', |s| s.state);
            let same = if now == parent {
                "the same maps as its parent"
            } else {
                "marked against its parent's maps"
            };
            self.put(&format!(
                "{}\n",
                st.bold(&format!(
                    "  pid {pid} (its child, state {state}): {same}; cat /proc/{pid}/smaps"
                ))
            ))?;
            let view = resident::view(file("smaps").as_deref(), file("pagemap.present").as_deref());
            let lines = diff::diff(Some(parent), &now);
            let res = view.as_ref().map(|v| show::Resident {
                now: v,
                before: self.previous_children.get(&pid),
                glyphs,
            });
            let child_ctx = Context {
                stat,
                ..ctx.clone()
            };
            let table = show::maps(
                &lines,
                &child_ctx,
                &[],
                false,
                st,
                layout,
                &mut self.explained,
                res.as_ref(),
            );
            self.put(&table)?;
            if let Some(v) = view {
                seen.insert(pid, v);
            }
        }
        self.previous_children = seen;
        Ok(())
    }

    fn summary(&mut self, run: &DemoRun) -> io::Result<()> {
        let how = match run.status {
            Some(Event::Exited(c)) => format!("exited {c}"),
            Some(Event::Killed(s)) => format!("killed by {}", signal_name(s)),
            _ => "did not finish".into(),
        };
        let stops = run.counted();
        let count = if stops == run.expected || run.sleeps {
            format!("{stops} stop{}", if stops == 1 { "" } else { "s" })
        } else {
            format!("{stops} stops (the lesson has {})", run.expected)
        };
        let mut text = format!(
            "\n== {}: {count}, {how}, {:.2} s.",
            run.name,
            run.took.as_secs_f64()
        );
        if let (Some(first), Some(last)) = (&self.first, &self.previous)
            && stops > 1
        {
            let changes = show::net_changes(first, last);
            if !changes.is_empty() {
                text += &format!(" First to last stop: {}.", changes.join(", "));
            }
        }
        let st = self.opts.style;
        let line = if run.ok() {
            st.bold(&text)
        } else {
            st.removed(&text)
        };
        self.put(&format!("{line}\n   {}\n", run.lesson))
    }
}

impl Watch for Term<'_> {
    fn started(&mut self, run: &DemoRun) -> io::Result<()> {
        self.seen += 1;
        self.program = None;
        self.first = None;
        self.previous = None;
        self.threads_seen = false;
        self.explained.clear();
        self.previous_res = None;
        self.previous_minflt = None;
        self.previous_children.clear();
        if let Some(total) = self.total {
            let head = format!("== {}/{total} {}: {}", self.seen, run.name, run.about);
            let text = format!("\n{}\n{}\n", self.opts.style.bold(&head), run.command);
            self.put(&text)?;
        }
        Ok(())
    }

    fn stopped(&mut self, run: &DemoRun, stop: &Stop) -> io::Result<()> {
        let st = self.opts.style;
        self.put(&format!(
            "\n{}\n",
            st.bold(&format!("-- {}: {}", run.name, stop.title))
        ))?;
        let data = stop.text("stdout");
        self.output(stop.text("narration"), data.clone())?;
        let Some(text) = stop.text("maps") else {
            let why = stop.text("error").unwrap_or_else(|| "no maps file".into());
            return self.put(&format!("tour: {why}\n"));
        };
        let now = maps::parse(&text).map_err(io::Error::other)?;
        let lines = diff::diff(self.previous.as_deref(), &now);
        // --raw replaces the table only: the diagram and the summary
        // still come from the parsed lines.
        if self.opts.raw {
            write!(self.out, "{text}")?;
        } else {
            if self.program.is_none()
                && let (Some(path), Some(file)) = (run.text("program.path"), run.bytes("program"))
            {
                self.program = Program::find(path.trim_end_matches('\n'), file, &now);
            }
            let ctx = Context {
                program: self.program.clone(),
                stat: stop.text("stat").and_then(|t| stat::parse(&t).ok()),
                host: self.host.clone(),
            };
            let mut points = if run.points {
                annotate::points(&data.unwrap_or_default())
            } else {
                Vec::new()
            };
            let view = resident::view(
                stop.text("smaps").as_deref(),
                stop.text("pagemap.present").as_deref(),
            );
            let glyphs = resident::Glyphs::detect(self.opts.ascii);
            if view.is_some() && self.previous.is_none() {
                self.put(&resident::legend(glyphs))?;
            }
            let children = children(stop);
            if !children.is_empty() {
                self.put(&format!("  pid {} (the parent):\n", run.pid))?;
            }
            let res = view.as_ref().map(|now| show::Resident {
                now,
                before: self.previous_res.as_ref(),
                glyphs,
            });
            points.extend(crate::tasks::stack_pointers(stop, run.pid));
            let layout = Layout {
                width: self.opts.width,
                explain_all: self.opts.explain_all,
            };
            let table = show::maps(
                &lines,
                &ctx,
                &points,
                run.marks_stack,
                st,
                layout,
                &mut self.explained,
                res.as_ref(),
            );
            self.put(&table)?;
            if let Some(stat) = &ctx.stat {
                let line = match self.previous_minflt {
                    Some(before) => format!(
                        "  minor faults since the last stop: {:+} (minflt {}, /proc/PID/stat field 10)",
                        stat.minflt as i64 - before as i64,
                        stat.minflt
                    ),
                    None => format!(
                        "  minor faults so far: {} (minflt, /proc/PID/stat field 10)",
                        stat.minflt
                    ),
                };
                self.put(&format!("{}\n", st.dim(&line)))?;
                self.previous_minflt = Some(stat.minflt);
            }
            self.previous_res = view;
            self.children(stop, &children, &now, &ctx, glyphs, layout)?;
        }
        // The task list where there are threads, and once more when they
        // are gone.
        if let Some(line) = crate::tasks::line(stop, self.threads_seen) {
            self.threads_seen = crate::tasks::tasks(stop).len() > 1;
            self.put(&format!("  {line}\n"))?;
        }
        if self.opts.diagram {
            let picture = diagram::draw(&lines, st, self.opts.width, &self.host);
            self.put(&format!("\n{picture}"))?;
        }
        // An i386 run: its 32-bit layout, said once, under its first stop.
        if self.first.is_none()
            && let Some(note) = crate::arch::note(run, stop)
        {
            self.put(&note)?;
        }
        self.first.get_or_insert_with(|| now.clone());
        self.previous = Some(now);
        Ok(())
    }

    fn ended(&mut self, run: &DemoRun) -> io::Result<()> {
        let name = &run.name;
        let pid = run.pid;
        match run.hung {
            Some(Hung::NoStop(t)) => self.put(&format!(
                "tour: {name} (pid {pid}) neither stopped nor exited within {} s: killed it\n",
                t.as_secs_f64()
            ))?,
            Some(Hung::NoSleep(t)) => self.put(&format!(
                "tour: {name} did not fall asleep within {} s: killed it\n",
                t.as_secs_f64()
            ))?,
            None => {
                self.output(run.text("narration"), run.text("stdout"))?;
                if let Some(Event::Killed(sig)) = run.status {
                    let stops = run.counted();
                    let when = if stops > 0 {
                        format!(" after stop {stops}")
                    } else {
                        String::new()
                    };
                    self.put(&format!(
                        "tour: {name} (pid {pid}) was killed by {}{when} (from another terminal?)\n",
                        signal_name(sig)
                    ))?;
                }
            }
        }
        self.summary(run)
    }

    fn pausing(&self) -> bool {
        self.opts.pause
    }

    /// Waits for Enter (while the demo stays stopped, live). Returns
    /// whether the demo ended meanwhile (killed from another terminal).
    fn pause(&mut self, run: &DemoRun, ended: Option<&OwnedFd>) -> io::Result<bool> {
        let pid = run.pid;
        let prompt = if self.live {
            format!(
                "\n  paused: pid {pid} stays stopped. In another terminal: pmap -X {pid}, gdb -p {pid}, cat /proc/{pid}/maps\n  Enter continues.\n"
            )
        } else {
            format!(
                "\n  paused: a recorded stop of pid {pid} (a replay: no process to look at)\n  Enter continues.\n"
            )
        };
        self.put(&prompt)?;
        self.out.flush()?;
        match os::wait_input_or_end(0, ended)? {
            os::Ready::Ended => Ok(true),
            os::Ready::Input => {
                // Unbuffered: one read takes the Enter (and anything typed
                // before it); 0 bytes is EOF.
                // SAFETY: fd 0 stays open; ManuallyDrop keeps it so.
                let mut stdin =
                    std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
                let mut buf = [0u8; 1024];
                if stdin.read(&mut buf).unwrap_or(0) == 0 {
                    self.put("  (stdin is closed: no more pauses)\n")?;
                    self.opts.pause = false;
                }
                Ok(false)
            }
        }
    }
}

/// The pids of the children a stop holds files of (`child/PID/maps`).
fn children(stop: &Stop) -> Vec<u32> {
    stop.files
        .keys()
        .filter_map(|k| {
            k.strip_prefix("child/")?
                .strip_suffix("/maps")?
                .parse()
                .ok()
        })
        .collect()
}

/// Shows a saved run through `watch`, as it was shown live: a replay.
pub fn replay(run: &DemoRun, watch: &mut dyn Watch) -> io::Result<()> {
    watch.started(run)?;
    for stop in &run.stops {
        watch.stopped(run, stop)?;
        if watch.pausing() {
            watch.pause(run, None)?;
        }
    }
    // A run the tour failed at (`tour: NAME: ERROR`) had no summary.
    if run.error.is_none() {
        watch.ended(run)?;
    }
    Ok(())
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
