//! `cargo tour`: run the demos in lecture order, and at each stop show
//! every line of /proc/PID/maps with its size and what it is, what
//! changed since the last stop (`+` new, `-` gone, `~` resized or
//! re-protected), and with `--diagram` a box picture like the seeds'.
//!
//! Modules: [`demos`] the list, [`run`] one demo from stop to stop,
//! [`annotate`] words for a maps line, [`diff`] the marks, [`show`] the
//! table, [`diagram`] the picture, [`bench`] the overhead per stop.

mod annotate;
mod bench;
mod demos;
mod diagram;
mod diff;
mod os;
mod run;
mod show;
mod style;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use demos::Demo;
use run::Options;

const USAGE: &str =
    "usage: cargo tour [--raw] [--diagram] [--pause] [--no-aslr] [--list] [DEMO...]";
const HELP: &str = "
Runs every demo in lecture order (or only the DEMOs named) and, at each stop,
shows every line of /proc/PID/maps with its size and what it is, marked
  + new since the last stop   - gone   ~ same start, other size or permissions
  --raw      the maps lines exactly as /proc has them
  --diagram  also draw the address space as boxes (low addresses on top)
  --pause    wait for Enter at each stop; the demo stays stopped, so that
             `pmap -X PID` or `gdb -p PID` work in another terminal
  --no-aslr  start the demos with ADDR_NO_RANDOMIZE (as `setarch -R`):
             the same addresses every run, for slides
  --list     the demos, one line each
Colour only on a terminal, and never with NO_COLOR set.";

/// Exit status for bad arguments (as the demos use).
const EXIT_USAGE: u8 = 2;

/// The workspace this tour was built from: it builds the demos there.
fn workspace() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

/// The target directory: the tour itself is `TARGET/PROFILE/tour`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().and_then(Path::parent);
    dir.map(Path::to_path_buf)
        .unwrap_or_else(|| workspace().join("target"))
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n{USAGE}");
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
}

fn parse(args: Vec<String>) -> Result<Cli, ExitCode> {
    let timeout = std::env::var(run::TIMEOUT_VAR)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(run::TIMEOUT, Duration::from_secs_f64);
    let mut cli = Cli {
        opts: Options {
            raw: false,
            diagram: false,
            pause: false,
            no_aslr: false,
            timeout,
            style: style::Style::detect(),
            bare: false,
        },
        names: Vec::new(),
        build: true,
        exec: Vec::new(),
        bench: None,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--raw" => cli.opts.raw = true,
            "--diagram" => cli.opts.diagram = true,
            "--pause" => cli.opts.pause = true,
            "--no-aslr" => cli.opts.no_aslr = true,
            "--list" => {
                print!("{}", demos::list());
                return Err(ExitCode::SUCCESS);
            }
            "-h" | "--help" => {
                println!("{USAGE}{HELP}");
                return Err(ExitCode::SUCCESS);
            }
            "--no-build" => cli.build = false,
            "--exec" => {
                cli.exec = args.by_ref().collect();
                if cli.exec.is_empty() {
                    return Err(usage_error("--exec needs a command"));
                }
            }
            "--bench" => {
                let n = args.next().and_then(|n| n.parse().ok());
                cli.bench = Some(n.ok_or_else(|| usage_error("--bench needs a number of runs"))?);
            }
            o if o.starts_with('-') => return Err(usage_error(&format!("unknown option '{o}'"))),
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
    Ok(cli)
}

/// The demos to run, in lecture order, and those whose crate is not in
/// this tree (yet).
fn chosen(names: &[String]) -> (Vec<&'static Demo>, Vec<&'static str>) {
    let wanted = |d: &&Demo| names.is_empty() || names.iter().any(|n| n == d.name);
    let exists = |d: &&&Demo| {
        workspace()
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

/// `$CARGO build --release -p DEMO...`: a fresh clone has no binaries.
fn build(demos: &[&Demo]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace())
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(target_dir());
    for d in demos {
        cmd.args(["-p", d.name]);
    }
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("building failed ({s})")),
        Err(e) => Err(format!("cannot run cargo to build the demos: {e}")),
    }
}

fn main() -> ExitCode {
    let mut cli = match parse(std::env::args().skip(1).collect()) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    if !cli.exec.is_empty() {
        return exec(&mut cli);
    }
    let (mut chosen, missing) = chosen(&cli.names);
    let mut failed = Vec::new();
    if cli.build && !chosen.is_empty() && build(&chosen).is_err() {
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
    let bin = |d: &Demo| target_dir().join("release").join(d.name);
    if let Some(runs) = cli.bench {
        return bench::bench(&chosen, &bin, &cli.opts, runs);
    }
    let mut out = std::io::stdout().lock();
    let mut timings = run::Timings::default();
    for (i, d) in chosen.iter().enumerate() {
        let path = bin(d);
        let shown = path.strip_prefix(workspace()).unwrap_or(&path);
        let head = format!("== {}/{} {}: {}", i + 1, chosen.len(), d.name, d.about);
        let command = format!("$ {} {}", shown.display(), d.args.join(" "));
        let header = writeln!(
            out,
            "\n{}\n{}",
            cli.opts.style.bold(&head),
            command.trim_end()
        );
        match header.and_then(|()| run::run(d, &path, &mut cli.opts, &mut out, &mut timings)) {
            Ok(true) => {}
            Ok(false) => failed.push(d.name),
            Err(e) => {
                eprintln!("tour: {}: {e}", d.name);
                failed.push(d.name);
            }
        }
    }
    finish(&chosen, &missing, &failed)
}

fn finish(chosen: &[&Demo], missing: &[&str], failed: &[&str]) -> ExitCode {
    if !missing.is_empty() {
        println!("\n(not in this tree yet: {})", missing.join(", "));
    }
    if failed.is_empty() {
        let n = chosen.len();
        println!(
            "\ntour: {n} demo{}, all exited 0",
            if n == 1 { "" } else { "s" }
        );
        ExitCode::SUCCESS
    } else {
        println!("\ntour: FAILED: {}", failed.join(", "));
        ExitCode::FAILURE
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
    let mut out = std::io::stdout().lock();
    let mut timings = run::Timings::default();
    match run::run(
        &demo,
        Path::new(name),
        &mut cli.opts,
        &mut out,
        &mut timings,
    ) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("tour: {name}: {e}");
            ExitCode::FAILURE
        }
    }
}
