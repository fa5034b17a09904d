//! `--aslr N`: how far ASLR moves each region. The collector runs each
//! demo N times without showing it and keeps the runs as a recording;
//! the renderer reads only that recording (the maps, stat and program of
//! each run, and the host's facts) and prints per region the lowest and
//! highest start seen, their spread, how many distinct starts there were,
//! and the kernel's range for the region on this machine.
//!
//! The kernel's ranges (arch/x86/mm/mmap.c, arch/x86/kernel/process.c,
//! fs/binfmt_elf.c): the stack's top moves by up to 16 GiB
//! (`stack_maxrandom_size`: 22 bits of pages), the stack pointer a
//! further 0–8 KiB (`arch_align_stack`); the mmap area, and with it the
//! vDSO and a static PIE, by `vm.mmap_rnd_bits` bits of pages; the break
//! by up to 1 GiB of pages (`arch_randomize_brk`). An ET_EXEC program does
//! not move. With `randomize_va_space` 0, or under `--no-aslr`, nothing
//! moves.

use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

use procfs::elf::{self, Elf};
use procfs::{maps, stat};

use crate::demos::Demo;
use crate::record::{self, DemoRun, Host, Recording};
use crate::run::{self, Options, Timings};
use crate::style;

/// The collector: every demo `n` times, into one recording.
pub fn collect(
    demos: &[&Demo],
    bin: &dyn Fn(&Demo) -> PathBuf,
    opts: &Options,
    n: usize,
) -> io::Result<Recording> {
    let opts = Options {
        pause: false,
        ..opts.clone()
    };
    let mut rec = Recording::new(record::collect_host());
    let mut timings = Timings::default();
    for d in demos {
        let path = bin(d);
        for _ in 0..n {
            let (run, result) = run::run(d, &path, "", &opts, &mut record::Silent, &mut timings);
            result?;
            if !run.ok() {
                return Err(io::Error::other(format!(
                    "{} did not run to its end",
                    d.name
                )));
            }
            rec.runs.push(run);
        }
    }
    Ok(rec)
}

/// The regions, in the order of the table.
const REGIONS: [&str; 5] = ["program", "heap", "mmap area", "vdso", "stack top"];

/// Where each region starts in one run, if it has it: the first stop
/// that shows it (the heap and an mmap appear only after a stop or two).
fn starts(run: &DemoRun) -> [Option<u64>; 5] {
    let program = run.text("program.path");
    let mut found = [None; 5];
    for stop in &run.stops {
        let Some(m) = stop.text("maps").and_then(|t| maps::parse(&t).ok()) else {
            continue;
        };
        let first = |f: &dyn Fn(&procfs::Mapping) -> bool| m.iter().find(|x| f(x)).map(|x| x.start);
        let now = [
            program
                .as_deref()
                .and_then(|p| first(&|x| x.path == p.trim_end())),
            // start_brk: chosen at exec, before any [heap] line exists.
            stop.text("stat")
                .and_then(|t| stat::parse(&t).ok())
                .map(|s| s.start_brk)
                .filter(|&b| b != 0),
            first(&|x| x.path.is_empty() && x.anonymous() && x.start >= 1 << 32),
            first(&|x| x.path == "[vdso]"),
            m.iter().find(|x| x.path == "[stack]").map(|x| x.end),
        ];
        for (f, n) in found.iter_mut().zip(now) {
            if f.is_none() {
                *f = n;
            }
        }
    }
    found
}

/// The kernel's range for a region, in words, from the host's facts.
fn kernel_range(region: &str, run: &DemoRun, host: &Host, randomized: bool) -> String {
    if !randomized {
        return "none: randomisation off (ADDR_NO_RANDOMIZE or randomize_va_space 0)".into();
    }
    let mmap = match host.mmap_rnd_bits {
        Some(bits) => format!(
            "2^{bits} pages = {} (vm.mmap_rnd_bits {bits})",
            style::big(4096u64 << bits)
        ),
        None => "vm.mmap_rnd_bits pages (not recorded)".into(),
    };
    let kind = run
        .files
        .get("program")
        .and_then(|b| Elf::parse(b).ok())
        .map(|e| e.kind);
    match region {
        "program" if kind == Some(elf::ET_EXEC) => "none: ET_EXEC, linked for its address".into(),
        "program" => format!("a PIE without interpreter is placed in the mmap area: {mmap}"),
        "heap" if kind == Some(elf::ET_DYN) => {
            "1 GiB above ELF_ET_DYN_BASE (arch_randomize_brk)".into()
        }
        "heap" => "1 GiB above the program's end (arch_randomize_brk)".into(),
        "mmap area" | "vdso" => mmap,
        _ => "16 GiB (stack_maxrandom_size: 2^22 pages)".into(),
    }
}

/// The renderer: the table for every demo of the recording.
pub fn render(rec: &Recording, no_aslr: bool) -> String {
    let host = Host::from_files(&rec.host);
    let va = record::text_of(&rec.host, "randomize_va_space").unwrap_or_default();
    let randomized = !no_aslr && va.trim() != "0";
    let mut out = String::new();
    let mut names: Vec<&str> = Vec::new();
    for r in &rec.runs {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    for name in names {
        let runs: Vec<&DemoRun> = rec.runs.iter().filter(|r| r.name == name).collect();
        let all: Vec<[Option<u64>; 5]> = runs.iter().map(|r| starts(r)).collect();
        out += &format!(
            "\n== {name}: {} runs{}; randomize_va_space {}\n",
            runs.len(),
            if no_aslr { " under --no-aslr" } else { "" },
            if va.trim().is_empty() { "?" } else { va.trim() },
        );
        out += &format!(
            "  {:<10} {:>18} {:>18} {:>11} {:>8}  {}\n",
            "region", "lowest", "highest", "spread", "distinct", "the kernel's range"
        );
        for (i, region) in REGIONS.iter().enumerate() {
            let seen: Vec<u64> = all.iter().filter_map(|s| s[i]).collect();
            let (Some(lo), Some(hi)) = (seen.iter().min(), seen.iter().max()) else {
                continue;
            };
            let distinct = seen.iter().collect::<BTreeSet<_>>().len();
            out += &format!(
                "  {:<10} {:>18} {:>18} {:>11} {:>8}  {}\n",
                region,
                format!("{lo:#x}"),
                format!("{hi:#x}"),
                style::big(hi - lo),
                format!("{distinct}/{}", seen.len()),
                kernel_range(region, runs[0], &host, randomized)
            );
        }
    }
    out
}

/// `--aslr N`: collect, then render on stdout.
pub fn aslr(
    demos: &[&Demo],
    bin: &dyn Fn(&Demo) -> PathBuf,
    opts: &Options,
    n: usize,
) -> io::Result<Recording> {
    let rec = collect(demos, bin, opts, n)?;
    let text = render(&rec, opts.no_aslr);
    use std::io::Write;
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Stop;
    use std::time::Duration;

    fn run_with(maps: &str, stat_text: Option<&str>) -> DemoRun {
        let mut stop = Stop::default();
        stop.files.insert("maps".into(), maps.as_bytes().to_vec());
        if let Some(s) = stat_text {
            stop.files.insert("stat".into(), s.as_bytes().to_vec());
        }
        let mut run = DemoRun {
            name: "x".into(),
            took: Duration::ZERO,
            ..DemoRun::default()
        };
        run.stops.push(stop);
        run
    }

    #[test]
    fn spread_and_distinct_starts_per_region() {
        let a = "00400000-00401000 r--p 00000000 00:00 0 \n7f0000000000-7f0000002000 r-xp 00000000 00:00 0 [vdso]\n7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";
        let b = "00400000-00401000 r--p 00000000 00:00 0 \n7f0000100000-7f0000102000 r-xp 00000000 00:00 0 [vdso]\n7ffd00100000-7ffd00121000 rw-p 00000000 00:00 0 [stack]\n";
        let mut rec = Recording::new(Default::default());
        rec.host.insert("mmap_rnd_bits".into(), b"28\n".to_vec());
        rec.host
            .insert("randomize_va_space".into(), b"2\n".to_vec());
        rec.runs = vec![run_with(a, None), run_with(b, None), run_with(a, None)];
        let text = render(&rec, false);
        let vdso = text
            .lines()
            .find(|l| l.trim_start().starts_with("vdso"))
            .unwrap();
        assert!(vdso.contains("0x7f0000000000"), "{text}");
        assert!(vdso.contains("0x7f0000100000"), "{text}");
        assert!(vdso.contains(" 1 MiB"), "{text}");
        assert!(vdso.contains("2/3"), "{text}");
        assert!(vdso.contains("2^28 pages = 1 TiB"), "{text}");
        let stack = text.lines().find(|l| l.contains("stack top")).unwrap();
        assert!(stack.contains("16 GiB"), "{text}");
        // No heap, no mmap: no rows for them.
        assert!(!text.contains("  heap"), "{text}");
        let off = render(&rec, true);
        assert!(off.contains("none: randomisation off"), "{off}");
    }
}
