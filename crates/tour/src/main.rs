//! `cargo tour`: run the demos in lecture order, and at each stop show
//! every line of /proc/PID/maps with its size and what it is, what
//! changed since the last stop (`+` new, `-` gone, `~` resized or
//! re-protected), and with `--diagram` a box picture like the seeds'.
//!
//! What the tour collects is kept apart from how it is shown: a
//! recording ([`record`]) of demo runs and their stops, each stop a set
//! of raw files (maps, stat, auxv, the demo's output). Collectors make
//! one: [`run`] from a live demo, [`record::Recording::load`] from a
//! saved directory (`--save DIR`, `--replay DIR`). Renderers only read
//! one: [`term`] the text, with [`annotate`] words for a maps line,
//! [`diff`] the marks, [`show`] the table, [`diagram`] the picture.
//! [`demos`] is the list, [`bench`] the overhead per stop.

mod annotate;
mod arch;
mod aslr;
mod bench;
mod both;
mod compare;
mod demos;
mod diagram;
mod diff;
mod fit;
mod html;
mod os;
mod pages;
mod record;
mod resident;
mod run;
mod show;
mod sidebyside;
mod style;
mod svg;
mod tasks;
mod term;
mod trace;
mod traceview;

use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use demos::Demo;
use procfs::workspace;
use record::{Host, Recording};
use run::Options;
use term::Term;

const USAGE: &str = "usage: cargo tour [--raw] [--diagram] [--pause] [--no-aslr] [--explain-all]
                  [--arch x86_64|i686|both] [--3gb]
                  [--ascii] [--list] [--save DIR | --replay DIR] [--html FILE] [--svg DIR] [DEMO...]
       cargo tour --aslr N [--no-aslr] [--save DIR] [DEMO...]
       cargo tour --diff A B
       cargo tour --trace [--steps exec,call,entry,stop,exit] [OPTIONS] -- CMD [ARGS...]
       cargo tour --compare [LESSON]";
const HELP: &str = "
Runs every demo in lecture order (or only the DEMOs named) and, at each stop,
shows every line of /proc/PID/maps with its size and what it is, marked
  + new since the last stop   - gone   ~ same start, other size, permissions
  or residency; and next to the size what of it is in RAM (Rss) and a strip
  of its pages, present or not
  --raw      the maps lines exactly as /proc has them
  --diagram  also draw the address space as boxes (low addresses on top)
  --pause    wait for Enter at each stop; the demo stays stopped, so that
             `pmap -X PID` or `gdb -p PID` work in another terminal
  --no-aslr  start the demos with ADDR_NO_RANDOMIZE (as `setarch -R`):
             the same addresses every run, for slides
  --explain-all  every line's annotation at every stop (else a line's
             words are given where it is new in a demo or they change)
  --arch i686   the 32-bit builds (seed 001's world): --target
             i686-unknown-linux-gnu, at 0x08048000, below 4 GiB
  --arch both   each stop on x86-64, then on i686, and what differs
  --3gb      run the i686 builds with ADDR_LIMIT_3GB (as `setarch i386
             --3gb`): the 3 GiB/1 GiB split of a 32-bit kernel, the seed's
  --ascii    the page strip in ASCII (# . +), as on a terminal without UTF-8
  --list     the demos, one line each
  --trace -- CMD [ARGS...]
             run any program under ptrace and show how its address space
             is built: the exec, every call that maps, unmaps or
             re-protects memory (who made it, what it is), the entry
             point, the exit; exits with the program's status
  --steps LIST  with --trace, only these steps (exec,call,entry,stop,exit)
  --compare [LESSON]  the lesson (stop, brk, mmap) as our demo, C with glibc (dynamic,
             static) and Rust with std, side by side: sizes, maps lines,
             syscalls, faults, memory, time
  --aslr N   run each demo N times, show nothing of it, and print per region
             (program, heap, mmap area, vdso, stack top) the spread of its
             start over the runs against the kernel's range
  --save DIR    also write what was read as plain files: DIR/brk/2/maps, ...
  --replay DIR  show a saved tour as it was shown, without running a demo
  --html FILE   also write the tour as one web page of slides (self-contained;
             arrow keys step through it; printed, one stop a page)
  --svg DIR     also write a picture of each stop: DIR/brk-2.svg, ...
             (with --replay, only the files are written)
  --diff A B    compare two saved tours, runs (A/brk) or stops (A/brk/2):
             mappings matched by name, addresses relative to their base
Lines fit the terminal (else COLUMNS, else 100 columns); piped output keeps
its long lines unless COLUMNS is set. Colour only on a terminal, and never
with NO_COLOR set.";

/// Exit status for bad arguments (as the demos use).
const EXIT_USAGE: u8 = 2;

/// What a usage error ends with: the forms are in `--help`.
const USAGE_HINT: &str =
    "usage: cargo tour [OPTIONS] [DEMO...] (--help for the options and the other forms)";

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n{USAGE_HINT}");
    ExitCode::from(EXIT_USAGE)
}

struct Cli {
    opts: Options,
    names: Vec<String>,
    build: bool,
    /// Hidden, for the tests: run this command as a demo.
    exec: Vec<String>,
    /// Hidden: measure the overhead per stop over this many runs.
    bench: Option<usize>,
    /// `--trace -- CMD…`.
    trace: Option<Vec<String>>,
    /// `--steps LIST` of --trace.
    steps: Option<Vec<String>>,
    /// `--compare [LESSON]`; empty until the lesson is named.
    compare: Option<String>,
    /// `--aslr N`: run each demo N times, the spread of each region.
    aslr: Option<usize>,
    save: Option<PathBuf>,
    replay: Option<PathBuf>,
    diff: Option<(PathBuf, PathBuf)>,
    html: Option<PathBuf>,
    svg: Option<PathBuf>,
    /// Which builds to run: `--arch`.
    arch: Arch,
}

/// `--arch`: the x86-64 builds (the default), the i686 ones, or both.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Arch {
    X86_64,
    I686,
    Both,
}

/// `TOUR_TIMEOUT`, if set: seconds, a number a Duration can hold (not
/// negative, NaN or infinite).
fn timeout() -> Result<Duration, ExitCode> {
    let Some(value) = std::env::var_os(run::TIMEOUT_VAR) else {
        return Ok(run::TIMEOUT);
    };
    let value = value.to_string_lossy();
    value
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| {
            usage_error(&format!(
                "{} must be a number of seconds, not '{value}'",
                run::TIMEOUT_VAR
            ))
        })
}

/// Prints `text` on stdout; a reader that is gone (`| head`) is no error.
fn print_quietly(text: &str) {
    let _ = io::stdout().lock().write_all(text.as_bytes());
}

fn parse(args: Vec<String>) -> Result<Cli, ExitCode> {
    let timeout = timeout()?;
    let mut cli = Cli {
        opts: Options {
            raw: false,
            diagram: false,
            pause: false,
            no_aslr: false,
            limit_3gb: false,
            timeout,
            style: style::Style::detect(),
            ascii: false,
            bare: false,
            width: fit::width(),
            explain_all: false,
        },
        names: Vec::new(),
        build: true,
        exec: Vec::new(),
        bench: None,
        trace: None,
        steps: None,
        compare: None,
        aslr: None,
        save: None,
        replay: None,
        arch: Arch::X86_64,
        diff: None,
        html: None,
        svg: None,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--raw" => cli.opts.raw = true,
            "--diagram" => cli.opts.diagram = true,
            "--pause" => cli.opts.pause = true,
            "--no-aslr" => cli.opts.no_aslr = true,
            "--explain-all" => cli.opts.explain_all = true,
            "--3gb" => cli.opts.limit_3gb = true,
            "--arch" => {
                cli.arch = match args.next().as_deref() {
                    Some("x86_64" | "x86-64") => Arch::X86_64,
                    Some("i686" | "i386") => Arch::I686,
                    Some("both") => Arch::Both,
                    _ => return Err(usage_error("--arch needs x86_64, i686 or both")),
                }
            }
            "--ascii" => cli.opts.ascii = true,
            "--list" => {
                print_quietly(&demos::list());
                return Err(ExitCode::SUCCESS);
            }
            "-h" | "--help" => {
                print_quietly(&format!("{USAGE}{HELP}\n"));
                return Err(ExitCode::SUCCESS);
            }
            "--save" | "--replay" | "--html" | "--svg" => {
                let what = if a == "--html" { "file" } else { "directory" };
                let dir = args.next().filter(|d| !d.is_empty());
                let dir =
                    PathBuf::from(dir.ok_or_else(|| usage_error(&format!("{a} needs a {what}")))?);
                let slot = match a.as_str() {
                    "--save" => &mut cli.save,
                    "--replay" => &mut cli.replay,
                    "--html" => &mut cli.html,
                    _ => &mut cli.svg,
                };
                *slot = Some(dir);
            }
            "--diff" => {
                let (Some(a), Some(b)) = (args.next(), args.next()) else {
                    return Err(usage_error(
                        "--diff needs two recordings (or runs, or stops)",
                    ));
                };
                cli.diff = Some((a.into(), b.into()));
            }
            "--no-build" => cli.build = false,
            "--exec" => {
                cli.exec = args.by_ref().collect();
                if cli.exec.is_empty() {
                    return Err(usage_error("--exec needs a command"));
                }
            }
            "--trace" => cli.trace = Some(Vec::new()),
            "--compare" => cli.compare = Some(String::new()),
            "--steps" => {
                let list = args.next().unwrap_or_default();
                let steps: Vec<String> = list.split(',').map(str::to_string).collect();
                if let Some(bad) = steps
                    .iter()
                    .find(|s| !traceview::STEP_KINDS.contains(&s.as_str()))
                {
                    return Err(usage_error(&format!(
                        "--steps: unknown step '{bad}' (the steps: {})",
                        traceview::STEP_KINDS.join(",")
                    )));
                }
                cli.steps = Some(steps);
            }
            "--" if cli.trace.is_some() => {
                cli.trace = Some(args.by_ref().collect());
            }
            "--aslr" => {
                let n = args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0);
                cli.aslr = Some(
                    n.ok_or_else(|| usage_error("--aslr needs a number of runs (1 or more)"))?,
                );
            }
            "--bench" => {
                let n = args.next().and_then(|n| n.parse().ok());
                cli.bench = Some(n.ok_or_else(|| usage_error("--bench needs a number of runs"))?);
            }
            o if o.starts_with('-') => return Err(usage_error(&format!("unknown option '{o}'"))),
            lesson if cli.compare.as_deref() == Some("") => {
                if !sidebyside::lesson_known(lesson) {
                    let known: Vec<&str> = sidebyside::LESSONS.iter().map(|(l, _)| *l).collect();
                    return Err(usage_error(&format!(
                        "--compare: no comparison programs for '{lesson}' (there are: {})",
                        known.join(", ")
                    )));
                }
                cli.compare = Some(lesson.to_string());
            }
            word if cli.trace.as_ref().is_some_and(Vec::is_empty) => {
                let mut cmd = vec![word.to_string()];
                cmd.extend(args.by_ref());
                cli.trace = Some(cmd);
            }
            name => {
                if demos::find(name).is_none() {
                    eprintln!(
                        "error: unknown demo '{name}'; the demos are:\n{}",
                        demos::list()
                    );
                    return Err(ExitCode::from(EXIT_USAGE));
                }
                cli.names.push(name.to_string());
            }
        }
    }
    if cli.opts.limit_3gb && cli.arch == Arch::X86_64 {
        return Err(usage_error(
            "--3gb is a personality for 32-bit programs: add --arch i686 or --arch both",
        ));
    }
    if cli.arch == Arch::Both && (cli.opts.pause || cli.bench.is_some() || !cli.exec.is_empty()) {
        return Err(usage_error(
            "--arch both shows two finished runs: --pause, --bench and --exec need one",
        ));
    }
    match &cli.trace {
        Some(cmd) if cmd.is_empty() => {
            return Err(usage_error(
                "--trace needs a command after --: --trace -- CMD [ARGS...]",
            ));
        }
        None if cli.steps.is_some() && cli.replay.is_none() => {
            return Err(usage_error(
                "--steps belongs to --trace (or --replay of a trace)",
            ));
        }
        Some(_) if !cli.names.is_empty() => {
            return Err(usage_error(
                "--trace takes a command after --, not demo names",
            ));
        }
        _ => {}
    }
    if cli.replay.is_some()
        && (cli.save.is_some()
            || cli.trace.is_some()
            || cli.opts.no_aslr
            || !cli.exec.is_empty()
            || cli.bench.is_some())
    {
        return Err(usage_error(
            "--replay shows a recording: --save, --no-aslr, --exec and --bench need a live run",
        ));
    }
    Ok(cli)
}

/// The demos to run, in lecture order, and those whose crate is not in
/// this tree (yet).
fn chosen(names: &[String]) -> (Vec<&'static Demo>, Vec<&'static str>) {
    let wanted = |d: &&Demo| names.is_empty() || names.iter().any(|n| n == d.name);
    let exists = |d: &&&Demo| {
        workspace::root()
            .join("crates")
            .join(d.name)
            .join("Cargo.toml")
            .is_file()
    };
    let all: Vec<&Demo> = demos::DEMOS.iter().filter(wanted).collect();
    let here = all.iter().filter(exists).copied().collect();
    let missing = all.iter().filter(|d| !exists(d)).map(|d| d.name).collect();
    (here, missing)
}

/// `cargo build --release -p DEMO…` into the target directory of the tour.
fn build(demos: &[&Demo]) -> Result<(), String> {
    let names: Vec<&str> = demos.iter().map(|d| d.name).collect();
    workspace::build_release(&workspace::target_dir(), &names)
}

fn main() -> ExitCode {
    let mut cli = match parse(std::env::args().skip(1).collect()) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    if let Some(dir) = cli.replay.clone() {
        return replay(&cli, &dir);
    }
    if let Some((a, b)) = &cli.diff {
        return diff(&cli, a, b);
    }
    if !cli.exec.is_empty() {
        return exec(&mut cli);
    }
    if let Some(lesson) = &cli.compare {
        let lesson = if lesson.is_empty() { "stop" } else { lesson };
        let Some(d) = demos::find(lesson) else {
            return usage_error(&format!("--compare: no demo '{lesson}'"));
        };
        if cli.build
            && let Err(e) = build(&[d])
        {
            eprintln!("tour: {lesson}: {e}");
            return ExitCode::FAILURE;
        }
        let ours = workspace::target_dir().join("release").join(lesson);
        return sidebyside::main(lesson, ours, &workspace::root(), &workspace::target_dir());
    }
    if let Some(cmd) = &cli.trace {
        let shown: Vec<String> = cmd.iter().map(|w| shell_quote(w)).collect();
        let (code, run) = trace::main(
            cmd,
            &shown.join(" "),
            &cli.opts,
            cli.steps.clone(),
            &workspace::target_dir(),
        );
        if let Some(run) = run {
            let mut rec = Recording::new(record::collect_host());
            rec.runs.push(run);
            if let Some(failed) = save_trace(&cli, rec) {
                return failed;
            }
        }
        return code;
    }
    let (mut chosen, missing) = chosen(&cli.names);
    let mut failed = Vec::new();
    if cli.build && !chosen.is_empty() {
        // cargo may take seconds on a fresh clone: say why nothing shows.
        eprintln!("building the demos…");
    }
    let x86_wanted = cli.arch != Arch::I686;
    let i686_wanted = cli.arch != Arch::X86_64;
    let ported = |d: &Demo| procfs::i686::PORTED.contains(&d.name);
    if i686_wanted {
        let unported: Vec<&str> = chosen
            .iter()
            .filter(|d| !ported(d))
            .map(|d| d.name)
            .collect();
        if !unported.is_empty() {
            let what = if x86_wanted {
                "x86-64 only"
            } else {
                "left out"
            };
            eprintln!(
                "tour: not ported to i686, {what}: {} (crates/sys/not-on-i686.txt says why)",
                unported.join(", ")
            );
        }
        if !x86_wanted {
            chosen.retain(|d| ported(d));
            if chosen.is_empty() {
                return usage_error("no demo to run for i686: --arch both runs them on x86-64");
            }
        }
        let names: Vec<&str> = chosen
            .iter()
            .filter(|d| ported(d))
            .map(|d| d.name)
            .collect();
        if cli.build
            && !names.is_empty()
            && let Err(e) = procfs::i686::build(&workspace::target_dir(), &names)
        {
            eprintln!("tour: {e}");
            return ExitCode::FAILURE;
        }
    }
    if x86_wanted && cli.build && !chosen.is_empty() && build(&chosen).is_err() {
        // One demo that does not build must not stop the others: try each.
        chosen.retain(|d| match build(&[d]) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("tour: {}: {e}", d.name);
                failed.push(d.name);
                false
            }
        });
    }
    let x86_bin = |d: &Demo| workspace::target_dir().join("release").join(d.name);
    let i686_bin = |d: &Demo| procfs::i686::bin_dir(&workspace::target_dir()).join(d.name);
    let bin: &dyn Fn(&Demo) -> PathBuf = if x86_wanted { &x86_bin } else { &i686_bin };
    if let Some(runs) = cli.bench {
        return bench::bench(&chosen, bin, &cli.opts, runs);
    }
    if let Some(n) = cli.aslr {
        return match aslr::aslr(&chosen, bin, &cli.opts, n) {
            Ok(rec) => save(&cli, &rec).unwrap_or_else(|| status(&failed)),
            Err(e) if e.kind() == ErrorKind::BrokenPipe => status(&failed),
            Err(e) => {
                eprintln!("tour: --aslr: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let host = record::collect_host();
    let mut rec = Recording::new(host.clone());
    rec.missing = missing.iter().map(|s| s.to_string()).collect();
    rec.unbuilt = failed.iter().map(|s| s.to_string()).collect();
    let mut out = io::stdout().lock();
    let mut term = Term::new(
        &cli.opts,
        &mut out,
        Host::from_files(&host),
        Some(chosen.len()),
        true,
    );
    let mut timings = run::Timings::default();
    // The 3 GiB personality is for the 32-bit runs only.
    let x86_opts = Options {
        limit_3gb: false,
        ..cli.opts.clone()
    };
    for d in &chosen {
        let mut runs = Vec::new();
        let mut result = Ok(());
        let mut silent = record::Silent;
        // Both architectures: collected first, shown side by side after.
        let twice = cli.arch == Arch::Both && ported(d);
        let watch: &mut dyn record::Watch = if twice { &mut silent } else { &mut term };
        if x86_wanted {
            let path = x86_bin(d);
            let command = command_line(d, &path, cli.opts.no_aslr, false);
            let (run, r) = run::run(d, &path, &command, &x86_opts, watch, &mut timings);
            runs.push(run);
            result = r;
        }
        if i686_wanted && ported(d) && result.is_ok() {
            let path = i686_bin(d);
            let command = command_line(d, &path, cli.opts.no_aslr, cli.opts.limit_3gb);
            let (mut run, r) = run::run(d, &path, &command, &cli.opts, watch, &mut timings);
            if twice {
                // Two runs of one demo in one recording: distinct names.
                run.name = format!("{}.i686", d.name);
            }
            runs.push(run);
            result = r;
        }
        if let ([a, b], Ok(())) = (runs.as_slice(), &result) {
            result = both::show(&cli.opts, &Host::from_files(&host), term.out(), a, b);
        }
        let ok = runs.iter().all(|r| r.ok());
        rec.runs.extend(runs);
        match result {
            Ok(()) if ok => {}
            Ok(()) => failed.push(d.name),
            // Whoever read our output has gone (`cargo tour | head`): the
            // rest would go nowhere. The demo was killed when its run
            // ended, as on any exit; the status tells of the demos seen.
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                return save(&cli, &rec).unwrap_or_else(|| status(&failed));
            }
            Err(e) => {
                eprintln!("tour: {}: {e}", d.name);
                failed.push(d.name);
            }
        }
    }
    if let Some(code) = save(&cli, &rec) {
        return code;
    }
    finish(term.out(), chosen.len(), &missing, &failed)
}

impl Cli {
    /// The runs of `rec` of the demos named on the command line (all if
    /// none is).
    fn runs<'a>(&self, rec: &'a Recording) -> Vec<&'a record::DemoRun> {
        rec.runs
            .iter()
            .filter(|r| self.names.is_empty() || self.names.contains(&r.name))
            .collect()
    }
}

/// `--save DIR`, `--html FILE`, `--svg DIR`: writes the recording and
/// what is made of it; `Some(1)` if that failed.
fn save(cli: &Cli, rec: &Recording) -> Option<ExitCode> {
    if let Some(dir) = &cli.save
        && let Err(e) = rec.save(dir)
    {
        eprintln!("tour: --save: {e}");
        return Some(ExitCode::FAILURE);
    }
    let runs = cli.runs(rec);
    render(cli, rec, &runs)
        .map_err(|e| eprintln!("tour: {e}"))
        .err()
        .map(|()| ExitCode::FAILURE)
}

/// `--save DIR` keeps the whole trace; `--html` and `--svg` show the
/// steps with maps that `--steps` names, as slides.
fn save_trace(cli: &Cli, mut rec: Recording) -> Option<ExitCode> {
    if let Some(dir) = &cli.save
        && let Err(e) = rec.save(dir)
    {
        eprintln!("tour: --save: {e}");
        return Some(ExitCode::FAILURE);
    }
    let steps = cli.steps.clone().unwrap_or_else(|| {
        traceview::STEP_KINDS
            .iter()
            .map(|s| s.to_string())
            .collect()
    });
    rec.runs = rec.runs.iter().map(|r| trace::slides(r, &steps)).collect();
    let runs: Vec<&record::DemoRun> = rec.runs.iter().collect();
    render(cli, &rec, &runs)
        .map_err(|e| eprintln!("tour: {e}"))
        .err()
        .map(|()| ExitCode::FAILURE)
}

/// `--html FILE` and `--svg DIR` from a recording.
fn render(cli: &Cli, rec: &Recording, runs: &[&record::DemoRun]) -> Result<(), String> {
    if cli.html.is_none() && cli.svg.is_none() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let views = html::views(rec, runs).map_err(|e| format!("cannot render: {e}"))?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    if let Some(file) = &cli.html {
        let page = html::page(rec, &views);
        write(file, &page)?;
        eprintln!(
            "tour: wrote {}: {} stops, {} bytes, in {:.0} ms",
            file.display(),
            views.len(),
            page.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    if let Some(dir) = &cli.svg {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let files = html::svg_files(&views);
        for (name, text) in &files {
            write(&dir.join(name), text)?;
        }
        eprintln!(
            "tour: wrote {} pictures into {}",
            files.len(),
            dir.display()
        );
    }
    Ok(())
}

/// `--diff A B`: two recordings, runs or stops compared.
fn diff(cli: &Cli, a: &Path, b: &Path) -> ExitCode {
    let compared = compare::open(a)
        .and_then(|x| Ok((x, compare::open(b)?)))
        .map_err(|e| e.to_string())
        .and_then(|(x, y)| compare::compare(&x, &y, cli.opts.style));
    match compared {
        Ok((text, _)) => {
            print_quietly(&fit::lines(&text, cli.opts.width));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tour: cannot diff: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--replay DIR`: the saved tour, shown as it was shown live.
fn replay(cli: &Cli, dir: &Path) -> ExitCode {
    let rec = match Recording::load(dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tour: cannot replay: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runs = cli.runs(&rec);
    if cli.html.is_some() || cli.svg.is_some() {
        return match render(cli, &rec, &runs) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tour: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut failed: Vec<&str> = rec.unbuilt.iter().map(String::as_str).collect();
    let mut out = io::stdout().lock();
    let mut term = Term::new(
        &cli.opts,
        &mut out,
        Host::from_files(&rec.host),
        Some(runs.len()),
        false,
    );
    for run in &runs {
        let shown = if run.files.contains_key("trace") {
            let host = Host::from_files(&rec.host);
            let mut view = traceview::View::with(term.out(), &cli.opts, cli.steps.clone(), &host);
            term::replay(run, &mut view)
        } else {
            term::replay(run, &mut term)
        };
        match shown {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return status(&failed),
            Err(e) => {
                eprintln!("tour: {}: {e}", run.name);
                failed.push(&run.name);
                continue;
            }
            Ok(()) => {}
        }
        if let Some(e) = &run.error {
            eprintln!("tour: {}: {e}", run.name);
        }
        if !run.ok() {
            failed.push(&run.name);
        }
    }
    // A traced program is no demo: its live run ends with the trace's own
    // last line, and so does its replay.
    if runs.iter().all(|r| r.files.contains_key("trace")) {
        return status(&failed);
    }
    let missing: Vec<&str> = rec.missing.iter().map(String::as_str).collect();
    finish(term.out(), runs.len(), &missing, &failed)
}

fn status(failed: &[&str]) -> ExitCode {
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The last lines: demos missing from this tree, and what failed.
fn finish(out: &mut dyn Write, n: usize, missing: &[&str], failed: &[&str]) -> ExitCode {
    let mut text = String::new();
    if !missing.is_empty() {
        text += &format!("\n(not in this tree yet: {})\n", missing.join(", "));
    }
    if failed.is_empty() {
        text += &format!(
            "\ntour: {n} demo{}, all exited 0\n",
            if n == 1 { "" } else { "s" }
        );
    } else {
        text += &format!("\ntour: FAILED: {}\n", failed.join(", "));
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            eprintln!("tour: cannot write the summary: {e}");
            ExitCode::FAILURE
        }
        _ => status(failed),
    }
}

/// The command the demo runs as, as one would type it: `target/release/brk`,
/// or with what the tour adds, `setarch -R env -i LECTURE='memory maps' …`.
fn command_line(d: &Demo, path: &Path, no_aslr: bool, limit_3gb: bool) -> String {
    let shown = path.strip_prefix(workspace::root()).unwrap_or(path);
    let mut words = Vec::new();
    // ADDR_NO_RANDOMIZE, PER_LINUX32 | ADDR_LIMIT_3GB, as procfs::Spawn sets them.
    match (no_aslr, limit_3gb) {
        (true, true) => words.push("setarch i386 --3gb -R".to_string()),
        (false, true) => words.push("setarch i386 --3gb".to_string()),
        (true, false) => words.push("setarch -R".to_string()),
        (false, false) => {}
    }
    if d.small_env {
        let (name, value) = demos::SMALL_ENV;
        words.push(format!("env -i {name}={}", shell_quote(value)));
    }
    words.push(shell_quote(&shown.to_string_lossy()));
    words.extend(d.args.iter().map(|a| shell_quote(a)));
    format!("$ {}", words.join(" "))
}

/// `word` as sh(1) reads it back: in single quotes unless it is plain.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `--exec CMD...`: any program as a demo (the tests use a hung one).
fn exec(cli: &mut Cli) -> ExitCode {
    let name: &'static str = Box::leak(cli.exec[0].clone().into_boxed_str());
    let args: Vec<&'static str> = cli.exec[1..]
        .iter()
        .map(|a| &*Box::leak(a.clone().into_boxed_str()))
        .collect();
    let demo = Demo {
        name,
        args: Box::leak(args.into_boxed_slice()),
        ..demos::EXEC
    };
    let host = record::collect_host();
    let mut rec = Recording::new(host.clone());
    let mut out = io::stdout().lock();
    let mut term = Term::new(&cli.opts, &mut out, Host::from_files(&host), None, true);
    let mut timings = run::Timings::default();
    let command = command_line(&demo, Path::new(name), cli.opts.no_aslr, false);
    let (run, result) = run::run(
        &demo,
        Path::new(name),
        &command,
        &cli.opts,
        &mut term,
        &mut timings,
    );
    let ok = run.ok();
    rec.runs.push(run);
    if let Some(code) = save(cli, &rec) {
        return code;
    }
    match result {
        Ok(()) if ok => ExitCode::SUCCESS,
        Ok(()) => ExitCode::FAILURE,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour: {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_says_what_the_tour_adds() {
        let path = workspace::root().join("target/release/auxv");
        let auxv = demos::find("auxv").unwrap();
        assert_eq!(
            command_line(auxv, &path, false, false),
            "$ env -i LECTURE='memory maps' target/release/auxv"
        );
        let vdso = demos::find("vdso").unwrap();
        assert_eq!(
            command_line(vdso, Path::new("/x/vdso"), true, false),
            "$ setarch -R /x/vdso --calls 10000"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
