//! `pie` on the real binary: a static PIE (ET_DYN, no interpreter, W^X)
//! whose R_X86_64_RELATIVE relocations `_start_pie` applies itself, loaded
//! at a new address every run and at the same one without ASLR.

use procfs::elf::{self, Elf};
use procfs::testing::*;
use procfs::{Demo, Event, Spawn, maps};
use std::path::Path;
use std::process::Stdio;

const BIN: &str = env!("CARGO_BIN_EXE_pie");
/// `AT_BASE` (the interpreter's address, 0 without one) and `AT_ENTRY`:
/// `include/uapi/linux/auxvec.h`.
const AT_BASE: u64 = 7;
const AT_ENTRY: u64 = 9;
/// The text GREETING points to (src/main.rs).
const GREETING: &str = "pie: read through a pointer that _start_pie relocated\n";

/// One `Elf64_Rela` of .rela.dyn: where, which type, what to add.
#[derive(Debug)]
struct Rela {
    offset: u64,
    kind: u32,
    addend: u64,
}

/// The entries of .rela.dyn (`elf(5)`: r_offset, r_info, r_addend).
fn rela_dyn(elf: &Elf) -> Vec<Rela> {
    let file = std::fs::read(BIN).unwrap();
    let s = elf.section(".rela.dyn").expect("a .rela.dyn section");
    let word = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap());
    (0..s.size as usize / 24)
        .map(|i| {
            let at = s.offset as usize + i * 24;
            Rela {
                offset: word(at),
                kind: word(at + 8) as u32,
                addend: word(at + 16),
            }
        })
        .collect()
}

fn symbol(elf: &Elf, part: &str) -> u64 {
    elf.symbols
        .iter()
        .find(|s| s.name.contains(part))
        .unwrap_or_else(|| panic!("no symbol {part}"))
        .value
}

/// `NAME [PLACE] 0xADDRESS` lines: the address printed after `name`.
fn printed(stdout: &str, name: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {stdout:?}"));
    let hex = line.rsplit(' ').next().unwrap().strip_prefix("0x").unwrap();
    u64::from_str_radix(hex, 16).unwrap()
}

#[test]
fn linked_as_a_static_pie_without_interpreter_and_w_xor_x() {
    let elf = Elf::read(Path::new(BIN)).unwrap();
    assert_eq!(elf.kind, elf::ET_DYN, "position-independent: ET_DYN");
    assert_eq!(elf.segments(elf::PT_INTERP).count(), 0, "no dynamic linker");
    assert_w_xor_x(BIN, &elf);
    let first = elf.segments(elf::PT_LOAD).next().unwrap();
    assert_eq!(
        first.vaddr, 0,
        "linked at 0: the kernel adds the load address"
    );
    assert_eq!(
        elf.entry,
        symbol(&elf, "_start_pie"),
        "entered at _start_pie"
    );
}

#[test]
fn the_pointer_in_greeting_is_a_relative_relocation() {
    let elf = Elf::read(Path::new(BIN)).unwrap();
    assert!(elf.relocations.contains(&elf::R_X86_64_RELATIVE));
    // _start_pie stops with ud2 at any other type: there must be none.
    assert!(
        elf.relocations.iter().all(|&r| r == elf::R_X86_64_RELATIVE),
        "{:?}",
        elf.relocations
    );
    // GREETING is (pointer, length); its pointer word gets the load
    // address added, and the addend is where the text lies in the file.
    let greeting = symbol(&elf, "3pie8GREETING");
    let rela = rela_dyn(&elf);
    let r = rela
        .iter()
        .find(|r| r.offset == greeting)
        .unwrap_or_else(|| panic!("no relocation at GREETING {greeting:#x}: {rela:?}"));
    assert_eq!(r.kind, elf::R_X86_64_RELATIVE);
    let rodata = elf.section(".rodata").unwrap();
    assert!(
        (rodata.addr..rodata.addr + rodata.size).contains(&r.addend),
        "{r:?}"
    );
    let file = std::fs::read(BIN).unwrap();
    let at = (rodata.offset + r.addend - rodata.addr) as usize;
    assert_eq!(&file[at..at + GREETING.len()], GREETING.as_bytes());
    // The word in the file is not a usable pointer: RELA keeps it 0.
    let data = elf.sections_in(greeting, greeting + 8)[0];
    let at = (data.offset + greeting - data.addr) as usize;
    assert_eq!(file[at..at + 8], [0; 8], "left for _start_pie to fill");
}

#[test]
fn stops_once_with_the_relocated_static_read_correctly() {
    let elf = Elf::read(Path::new(BIN)).unwrap();
    let w = walk_ok(BIN, &[], 1);
    let stop = &w.stops[0];
    let load = printed(&w.stdout, "load_address");
    assert!(load != 0 && load.is_multiple_of(4096), "{load:#x}");
    let program = assert_maps_match_elf(&stop.maps, BIN, load);
    let perms: Vec<&str> = program.iter().map(|m| m.perms.as_str()).collect();
    assert_eq!(perms, ["r--p", "r-xp", "rw-p"]);
    assert_eq!(
        program[0].start, load,
        "the ELF header starts the first line"
    );

    // The kernel loaded no interpreter and entered at _start_pie.
    let aux = |kind| stop.auxv.iter().find(|(k, _)| *k == kind).unwrap().1;
    assert_eq!(aux(AT_BASE), 0, "no interpreter");
    assert_eq!(aux(AT_ENTRY), load + elf.entry);

    let main = printed(&w.stdout, "main");
    assert_eq!(stop.containing(main).unwrap().perms, "r-xp");
    // Read from the static: right only if _start_pie added `load`.
    let greeting = printed(&w.stdout, "greeting");
    let r = rela_dyn(&elf);
    let r = r
        .iter()
        .find(|r| r.offset == symbol(&elf, "3pie8GREETING"))
        .unwrap();
    assert_eq!(greeting, load + r.addend);
    assert_eq!(stop.containing(greeting).unwrap().perms, "r--p");
    assert_narrated(&w, &[GREETING, "[stop 1]"]);
}

fn aslr_enabled() -> bool {
    let v = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space").unwrap();
    if v.trim() == "0" {
        eprintln!("SKIPPED: kernel.randomize_va_space = 0, ASLR is off on this machine");
        return false;
    }
    true
}

#[test]
fn each_run_loads_at_another_address() {
    if !aslr_enabled() {
        return;
    }
    let a = printed(&walk_ok(BIN, &["-q"], 1).stdout, "load_address");
    let b = printed(&walk_ok(BIN, &["-q"], 1).stdout, "load_address");
    assert_ne!(a, b, "ASLR moves the program itself");
}

/// Where the program's first line is, run with ADDR_NO_RANDOMIZE (what
/// the tour's --no-aslr does).
fn load_address_without_aslr() -> u64 {
    let mut cmd = command(BIN, &["-q"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut demo = Demo::spawn(
        cmd,
        Spawn {
            no_aslr: true,
            ..Spawn::default()
        },
    )
    .unwrap();
    assert_eq!(
        demo.wait(STEP_TIMEOUT),
        Some(Event::Stopped(procfs::child::SIGSTOP))
    );
    let path = std::fs::canonicalize(BIN).unwrap();
    let maps = maps::read(demo.pid).unwrap();
    let first = maps
        .iter()
        .find(|m| Path::new(&m.path) == path)
        .unwrap()
        .start;
    demo.cont().unwrap();
    assert_eq!(demo.wait(STEP_TIMEOUT), Some(Event::Exited(0)));
    first
}

#[test]
fn without_aslr_every_run_loads_at_the_same_address() {
    let a = load_address_without_aslr();
    let b = load_address_without_aslr();
    assert_eq!(a, b);
}

#[test]
fn setarch_r_gives_the_same_address_too() {
    let Some(setarch) = tool("setarch") else {
        return;
    };
    let run = || {
        let mut cmd = std::process::Command::new(&setarch);
        cmd.args(["-R", BIN, "-q"]);
        let w = walk(cmd);
        assert_eq!(
            (w.end, w.stops.len()),
            (Event::Exited(0), 1),
            "{}",
            w.stderr
        );
        printed(&w.stdout, "load_address")
    };
    assert_eq!(run(), run());
    assert_eq!(run(), load_address_without_aslr());
}

#[test]
fn quiet_is_silent_but_prints_the_addresses() {
    let w = walk_quiet(BIN, &["-q"], 1);
    assert_eq!(w.stdout.lines().count(), 3, "{}", w.stdout);
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    // Relocating is plain memory writes: no syscall, no mprotect.
    assert_syscalls(BIN, &["-q"], &["execve", "write", "getpid", "kill", "exit"]);
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["extra"], "unexpected argument 'extra'");
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
