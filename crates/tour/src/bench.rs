//! `--bench RUNS` (hidden): what the tour costs at each stop, against the
//! demos' own run time. Each demo runs RUNS times bare (continued at
//! once) and RUNS times with the full work, output discarded.
//!
//! - `latency`: from waitpid returning in procfs's waiter thread to the
//!   tour seeing the stop (the channel and a thread wake-up): a stop
//!   should be noticed within a few milliseconds.
//! - `per stop`: from the stop seen to SIGCONT sent (reading /proc and
//!   the ELF file, diffing, annotating, rendering). For `minimal`, which
//!   never stops, its one look while asleep: from the sleep seen to the
//!   table shown. Goal: at most 5 ms.

use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::demos::Demo;
use crate::record::{self, Host};
use crate::run::{self, Options, Timings};
use crate::term::Term;

/// The limit for the tour's work at one stop.
const GOAL: Duration = Duration::from_millis(5);

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mean(v: &[Duration]) -> Duration {
    v.iter().sum::<Duration>() / (v.len().max(1) as u32)
}

fn max(v: &[Duration]) -> Duration {
    v.iter().max().copied().unwrap_or_default()
}

/// `0.123` ms, or `-` where nothing was measured (minimal has no stop
/// for waitpid to report).
fn cell(v: &[Duration], f: fn(&[Duration]) -> Duration) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        format!("{:.3}", ms(f(v)))
    }
}

pub fn bench(
    demos: &[&Demo],
    bin: &dyn Fn(&Demo) -> PathBuf,
    opts: &Options,
    runs: usize,
) -> ExitCode {
    match table(&mut io::stdout().lock(), demos, bin, opts, runs) {
        Ok(code) => code,
        // A reader that stopped reading (`| head`) is no failure.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour: bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn table(
    out: &mut impl Write,
    demos: &[&Demo],
    bin: &dyn Fn(&Demo) -> PathBuf,
    opts: &Options,
    runs: usize,
) -> io::Result<ExitCode> {
    writeln!(
        out,
        "all times in ms; latency: waitpid returned -> tour saw the stop; per stop: stop seen -> SIGCONT sent"
    )?;
    writeln!(
        out,
        "{:<9} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "demo", "stops", "latency", "max", "per stop", "max", "run (tour)", "run (bare)"
    )?;
    let (mut per_stop, mut latency) = (Vec::new(), Vec::new());
    for d in demos {
        let path = bin(d);
        let (Some(tour), Some(bare)) = (
            measure(d, &path, opts, runs, false),
            measure(d, &path, opts, runs, true),
        ) else {
            writeln!(out, "{:<9} failed", d.name)?;
            return Ok(ExitCode::FAILURE);
        };
        writeln!(
            out,
            "{:<9} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10.2} {:>10.2}",
            d.name,
            tour.per_stop.len() / runs.max(1),
            cell(&tour.latency, mean),
            cell(&tour.latency, max),
            cell(&tour.per_stop, mean),
            cell(&tour.per_stop, max),
            ms(mean(&tour.runs)),
            ms(mean(&bare.runs)),
        )?;
        per_stop.extend(tour.per_stop);
        latency.extend(tour.latency);
    }
    writeln!(
        out,
        "all: {} stops, latency mean {} max {}; per stop mean {} max {} (goal: at most {} ms)",
        per_stop.len(),
        cell(&latency, mean),
        cell(&latency, max),
        cell(&per_stop, mean),
        cell(&per_stop, max),
        GOAL.as_millis()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn measure(d: &Demo, path: &Path, opts: &Options, runs: usize, bare: bool) -> Option<Timings> {
    let opts = Options {
        bare,
        pause: false,
        ..opts.clone()
    };
    let mut t = Timings::default();
    let host = Host::from_files(&record::collect_host());
    for _ in 0..runs {
        // The full work renders the text too, into nothing.
        let mut sink = io::sink();
        let mut term = Term::new(&opts, &mut sink, host.clone(), None, true);
        let (rec, result) = run::run(d, path, "", &opts, &mut term, &mut t);
        if result.is_err() || !rec.ok() {
            return None;
        }
    }
    Some(t)
}
