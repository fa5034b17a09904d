//! `--bench RUNS` (hidden): the tour's overhead per stop, from the stop
//! noticed to SIGCONT sent (reading /proc and the ELF file, diffing,
//! annotating, rendering), against the demos' own run time: each demo
//! runs RUNS times bare (continued at once) and RUNS times with the full
//! work, output discarded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::demos::Demo;
use crate::run::{self, Options, Timings};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mean(v: &[Duration]) -> Duration {
    v.iter().sum::<Duration>() / (v.len().max(1) as u32)
}

pub fn bench(
    demos: &[&Demo],
    bin: &dyn Fn(&Demo) -> PathBuf,
    opts: &Options,
    runs: usize,
) -> ExitCode {
    println!(
        "{:<9} {:>5} {:>12} {:>12} {:>12} {:>12}",
        "demo", "stops", "per stop", "max/stop", "run (tour)", "run (bare)"
    );
    let mut all = Vec::new();
    for d in demos {
        let path = bin(d);
        let (Some(tour), Some(bare)) = (
            measure(d, &path, opts, runs, false),
            measure(d, &path, opts, runs, true),
        ) else {
            println!("{:<9} failed", d.name);
            return ExitCode::FAILURE;
        };
        let max = tour.per_stop.iter().max().copied().unwrap_or_default();
        println!(
            "{:<9} {:>5} {:>9.3} ms {:>9.3} ms {:>9.2} ms {:>9.2} ms",
            d.name,
            tour.per_stop.len() / runs.max(1),
            ms(mean(&tour.per_stop)),
            ms(max),
            ms(mean(&tour.runs)),
            ms(mean(&bare.runs)),
        );
        all.extend(tour.per_stop);
    }
    let max = all.iter().max().copied().unwrap_or_default();
    println!(
        "all stops: {} measured, mean {:.3} ms, max {:.3} ms (goal: at most 5 ms)",
        all.len(),
        ms(mean(&all)),
        ms(max)
    );
    ExitCode::SUCCESS
}

fn measure(d: &Demo, path: &Path, opts: &Options, runs: usize, bare: bool) -> Option<Timings> {
    let mut opts = Options {
        bare,
        pause: false,
        ..opts.clone()
    };
    let mut t = Timings::default();
    for _ in 0..runs {
        if !run::run(d, path, &mut opts, &mut std::io::sink(), &mut t).ok()? {
            return None;
        }
    }
    Some(t)
}
