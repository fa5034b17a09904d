//! `cargo elf [OPTIONS] TARGET`: every byte of an ELF file named, every
//! header field with what the Linux loader does with it, and where each
//! byte lands in memory. TARGET is a demo (built on demand, release) or
//! a path to any ELF file. See crates/elf/README.md.

use std::io::{self, ErrorKind, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use elf::at::Query;
use elf::{Anatomy, Options, budget, explain, hex};
use procfs::workspace;

const USAGE: &str = "usage: cargo elf [--hex] [--stripped] [--all] [--at ADDR|+OFFSET] [--svg FILE] TARGET | cargo elf --budget [DEMO...]";
const HELP: &str = "
TARGET is a demo's name (built on demand, release) or the path of an ELF file.
  (default)    the file region by region: every header field with its bytes,
               its value and what the loader does with it; each PT_LOAD with
               the maps line it becomes; strings, functions, symbols
  --hex        an annotated hexdump: one xxd line per 16 bytes, with the
               fields and regions those bytes hold
  --stripped   the file as `strip` leaves it (no .symtab, .strtab)
  --all        list every symbol, string and function, even of a big file
  --at ADDR    which segment, section and symbol hold a virtual address, the
               file offset it comes from and its maps line; --at +OFFSET: the
               reverse, for a file offset (both hexadecimal)
  --svg FILE   the file as a bar of its regions and the maps lines its
               PT_LOADs become, joined by a band per PT_LOAD: one
               standalone SVG picture, written to FILE (- for stdout)
  --budget     a demo's bytes by category (all demos when none is named)
Colour only on a terminal, and never with NO_COLOR set.";

/// Exit status for bad arguments (as the demos and the tour use).
const EXIT_USAGE: u8 = 2;
/// Larger files are refused: the whole file is read into memory.
const MAX_FILE: u64 = 256 << 20;
/// The lecture order of the demos (as scripts/sizes.sh); others follow.
const ORDER: &[&str] = &[
    "minimal", "stop", "brk", "stack", "mmap", "paging", "mprotect", "cow", "sections", "fixed",
    "filemap", "pie", "auxv", "vdso", "threads", "guard", "tls",
];

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n{USAGE}");
    ExitCode::from(EXIT_USAGE)
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("elf: {msg}");
    ExitCode::FAILURE
}

/// The demos: crates that depend on the syscall crate, in lecture order.
fn demos() -> Vec<String> {
    let mut found = workspace::demo_crates(&workspace::root());
    let rank = |d: &String| ORDER.iter().position(|o| o == d).unwrap_or(ORDER.len());
    found.sort_by_key(rank);
    found
}

/// `cargo build --release -p NAME…` into the target directory of this tool.
fn build(names: &[String]) -> Result<(), String> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    workspace::build_release(&workspace::target_dir(), &names)
}

/// A file's bytes, with a clear message for what is not a regular file.
fn read(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{shown}: is a directory, not an ELF file"));
    }
    if !meta.is_file() {
        return Err(format!(
            "{shown}: not a regular file (a FIFO, socket or device): not read"
        ));
    }
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{shown}: {} B, more than the {MAX_FILE} B this tool reads",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("{shown}: {e}"))
}

/// The bytes of `path` after `strip` (a temporary copy, removed at once).
fn stripped(path: &Path) -> Result<Vec<u8>, String> {
    let tmp = std::env::temp_dir().join(format!(
        "mmm-elf-strip-{}-{}",
        std::process::id(),
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let status = Command::new("strip").arg("-o").arg(&tmp).arg(path).status();
    let bytes = match status {
        Ok(s) if s.success() => read(&tmp),
        Ok(s) => Err(format!("strip {} failed ({s})", path.display())),
        Err(e) => Err(format!("cannot run strip (binutils): {e}")),
    };
    let _ = std::fs::remove_file(&tmp);
    bytes
}

#[derive(Default)]
struct Cli {
    hex: bool,
    stripped: bool,
    all: bool,
    at: Option<Query>,
    budget: bool,
    svg: Option<PathBuf>,
    targets: Vec<String>,
}

fn parse(args: Vec<String>) -> Result<Cli, ExitCode> {
    let mut cli = Cli::default();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--hex" => cli.hex = true,
            "--stripped" => cli.stripped = true,
            "--all" => cli.all = true,
            "--budget" => cli.budget = true,
            "--svg" => {
                let f = args
                    .next()
                    .ok_or_else(|| usage_error("--svg needs a FILE to write"))?;
                cli.svg = Some(f.into());
            }
            "--at" => {
                let q = args
                    .next()
                    .ok_or_else(|| usage_error("--at needs an address or +OFFSET"))?;
                cli.at = Some(Query::parse(&q).map_err(|e| usage_error(&e))?);
            }
            "-h" | "--help" => {
                let _ = writeln!(io::stdout(), "{USAGE}{HELP}");
                return Err(ExitCode::SUCCESS);
            }
            o if o.starts_with('-') && o.len() > 1 => {
                return Err(usage_error(&format!("unknown option '{o}'")));
            }
            t => cli.targets.push(t.to_string()),
        }
    }
    if cli.budget {
        if cli.hex || cli.at.is_some() || cli.stripped || cli.svg.is_some() {
            return Err(usage_error("--budget goes alone (with DEMO names)"));
        }
    } else if cli.targets.len() != 1 {
        return Err(usage_error(if cli.targets.is_empty() {
            "no TARGET: name a demo or an ELF file"
        } else {
            "one TARGET at a time"
        }));
    } else if [cli.hex, cli.at.is_some(), cli.svg.is_some()]
        .iter()
        .filter(|&&b| b)
        .count()
        > 1
    {
        return Err(usage_error("--hex, --at and --svg: one at a time"));
    }
    Ok(cli)
}

/// A TARGET: a path as given, or a demo (built now).
fn resolve(target: &str, demos: &[String]) -> Result<PathBuf, ExitCode> {
    let path = Path::new(target);
    if target.contains('/') || path.exists() {
        return Ok(path.to_path_buf());
    }
    if demos.iter().any(|d| d == target) {
        build(&[target.to_string()]).map_err(|e| fail(&e))?;
        return Ok(workspace::target_dir().join("release").join(target));
    }
    Err(usage_error(&format!(
        "'{target}' is neither a demo nor a file; the demos: {}",
        demos.join(" ")
    )))
}

fn print(text: &str) -> ExitCode {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => fail(&format!("cannot write: {e}")),
        _ => ExitCode::SUCCESS,
    }
}

/// The picture into `file` (`-`: stdout); says where it went.
fn write_svg(file: &Path, picture: &str) -> ExitCode {
    if file == Path::new("-") {
        return print(picture);
    }
    match std::fs::write(file, picture) {
        Ok(()) => print(&format!("wrote {} ({} B)\n", file.display(), picture.len())),
        Err(e) => fail(&format!("cannot write {}: {e}", file.display())),
    }
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn budget_rows(names: &[String], demos: &[String]) -> ExitCode {
    let names: Vec<String> = if names.is_empty() {
        demos.to_vec()
    } else {
        names.to_vec()
    };
    if let Some(bad) = names.iter().find(|n| !demos.contains(n)) {
        return usage_error(&format!(
            "unknown demo '{bad}'; the demos: {}",
            demos.join(" ")
        ));
    }
    if let Err(e) = build(&names) {
        return fail(&e);
    }
    let mut rows = Vec::new();
    for n in &names {
        let path = workspace::target_dir().join("release").join(n);
        let bytes = match read(&path) {
            Ok(b) => b,
            Err(e) => return fail(&e),
        };
        let a = match Anatomy::new(&bytes, n) {
            Ok(a) => a,
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        };
        let strip = stripped(&path).ok().map(|b| b.len() as u64);
        rows.push((budget::row(&a), strip));
    }
    print(&budget::table(&rows))
}

fn main() -> ExitCode {
    let cli = match parse(std::env::args().skip(1).collect()) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let demos = demos();
    if cli.budget {
        return budget_rows(&cli.targets, &demos);
    }
    let path = match resolve(&cli.targets[0], &demos) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let bytes = match if cli.stripped {
        stripped(&path)
    } else {
        read(&path)
    } {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let shown = path
        .strip_prefix(workspace::root())
        .unwrap_or(&path)
        .display()
        .to_string();
    let a = match Anatomy::new(&bytes, &name_of(&path)) {
        Ok(a) => a,
        Err(e) => return fail(&format!("{shown}: {e}")),
    };
    let colour =
        io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let o = Options {
        all: cli.all,
        colour,
    };
    if let Some(file) = &cli.svg {
        return write_svg(file, &elf::svg::svg(&a, &shown));
    }
    let text = if cli.hex {
        hex::hexdump(&a, &o)
    } else if let Some(q) = cli.at {
        elf::at::at(&a, q)
    } else {
        explain::explain(&a, &o, &shown)
    };
    print(&text)
}
