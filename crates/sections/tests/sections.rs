//! `sections` on the real binary: every printed address lies in the
//! section its PLACE names and in the maps line that section implies, and
//! the process's memory there, read at the stop, holds the object.

use procfs::elf::{Elf, SHT_NOBITS};
use procfs::maps::Mapping;
use procfs::testing::*;
use std::os::unix::fs::FileExt;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_sections");
const PAGE: u64 = 4096;

/// One stdout line: `NAME PLACE 0xADDRESS`.
#[derive(Debug, Clone)]
struct Object {
    name: String,
    place: String,
    addr: u64,
}

fn objects(stdout: &str) -> Vec<Object> {
    stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "NAME PLACE 0xADDRESS: {l:?}");
            let hex = f[2].strip_prefix("0x").expect("0x address");
            Object {
                name: f[0].into(),
                place: f[1].into(),
                addr: u64::from_str_radix(hex, 16).expect("hex address"),
            }
        })
        .collect()
}

/// A run through the one stop, with a copy of every readable mapping
/// taken at the stop (stdout, with the addresses, is only read at the end).
struct Run {
    walk: Walk,
    objects: Vec<Object>,
    memory: Vec<(Mapping, Vec<u8>)>,
}

impl Run {
    fn new(args: &[&str]) -> Run {
        let mut memory = Vec::new();
        let walk = walk_with(command(BIN, args), |_, demo| {
            let mem = std::fs::File::open(format!("/proc/{}/mem", demo.pid)).expect("open mem");
            for m in procfs::maps::read(demo.pid).expect("maps") {
                let mut bytes = vec![0; m.size() as usize];
                // [vvar] and [vsyscall] cannot be read this way; skip them.
                if m.readable() && mem.read_exact_at(&mut bytes, m.start).is_ok() {
                    memory.push((m, bytes));
                }
            }
        });
        assert_eq!(walk.end, procfs::Event::Exited(0), "{}", walk.stderr);
        assert_eq!(walk.stops.len(), 1, "exactly one stop");
        let objects = objects(&walk.stdout);
        Run {
            walk,
            objects,
            memory,
        }
    }

    fn object(&self, name: &str) -> &Object {
        self.objects
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name} not printed: {}", self.walk.stdout))
    }

    /// `len` bytes of the process's memory at `addr`, as they were at the
    /// stop (across adjacent mappings: .bss may straddle two).
    fn bytes(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < len {
            let at = addr + out.len() as u64;
            let (m, bytes) = self
                .memory
                .iter()
                .find(|(m, _)| m.contains(at))
                .unwrap_or_else(|| panic!("{at:#x} not in a readable mapping"));
            let from = (at - m.start) as usize;
            let n = (len - out.len()).min(bytes.len() - from);
            out.extend_from_slice(&bytes[from..from + n]);
        }
        out
    }

    fn u64_at(&self, addr: u64) -> u64 {
        u64::from_ne_bytes(self.bytes(addr, 8).try_into().unwrap())
    }
}

/// The names the default run prints, in order: the program's lines, then
/// [heap], the anonymous page and [stack], as in maps.
const DEFAULT: [(&str, &str); 7] = [
    ("const_str", ".rodata"),
    ("sections::main", ".text"),
    ("global_var", ".data"),
    ("uninit_var", ".bss"),
    ("heap_var", "heap"),
    ("mmap_var", "mmap"),
    ("local_var", "stack"),
];

/// Each object lies in the section and the mapping its PLACE says.
fn assert_places(run: &Run) {
    let elf = Elf::read(Path::new(BIN)).unwrap();
    let bin = std::fs::canonicalize(BIN).unwrap();
    let stop = &run.walk.stops[0];
    assert_maps_match_elf(&stop.maps, BIN, 0);
    for o in &run.objects {
        let m = stop
            .containing(o.addr)
            .unwrap_or_else(|| panic!("{o:?}: no mapping holds it"));
        let what = format!("{o:?} in {m}");
        match o.place.as_str() {
            section @ (".text" | ".rodata" | ".data" | ".bss") => {
                let s = elf.section(section).expect("the section exists");
                assert!(
                    (s.addr..s.addr + s.size).contains(&o.addr),
                    "{what}: outside {section} {:#x}+{:#x}",
                    s.addr,
                    s.size
                );
                let perms = match section {
                    ".text" => "r-xp",
                    ".rodata" => "r--p",
                    _ => "rw-p",
                };
                assert_eq!(m.perms, perms, "{what}");
                if section == ".bss" {
                    assert_eq!(s.kind, SHT_NOBITS, ".bss takes no room in the file");
                }
                if section == ".bss" && m.path.is_empty() {
                    // .bss past the file's last page: the kernel maps the
                    // rest as anonymous zero pages right after the rw-p
                    // line (seen at opt-level z, where .data ends late).
                    let data = stop.maps.iter().find(|d| d.end == m.start).unwrap();
                    assert_eq!(Path::new(&data.path), bin, "{what}: after the program");
                    assert_eq!(m.inode, 0, "{what}");
                } else {
                    assert_eq!(Path::new(&m.path), bin, "{what}: the program's line");
                }
            }
            "heap" => {
                assert_eq!(m.path, "[heap]", "{what}");
                assert_eq!(m.start, stop.stat.start_brk, "{what}: where brk started");
                assert_eq!(m.size(), PAGE, "{what}: brk added one page");
            }
            "mmap" => {
                assert_eq!((m.path.as_str(), m.inode), ("", 0), "{what}: anonymous");
                assert_eq!((m.start, m.size()), (o.addr, PAGE), "{what}");
                assert_eq!(m.perms, "rw-p", "{what}");
            }
            "stack" => assert_eq!(m.path, "[stack]", "{what}"),
            other => panic!("unknown place {other:?}"),
        }
    }
}

#[test]
fn prints_one_object_per_place_each_in_its_mapping() {
    let run = Run::new(&[]);
    let names: Vec<(&str, &str)> = run
        .objects
        .iter()
        .map(|o| (o.name.as_str(), o.place.as_str()))
        .collect();
    assert_eq!(names, DEFAULT);
    assert_places(&run);
    assert!(run.walk.stderr.contains("[stop 1]"), "{}", run.walk.stderr);
}

#[test]
fn the_memory_at_each_address_holds_the_object() {
    let run = Run::new(&[]);
    let elf = Elf::read(Path::new(BIN)).unwrap();
    let text = |name: &str| run.object(name).addr;
    assert_eq!(run.bytes(text("const_str"), 17), b"Salve, simpatia!\n");
    assert_eq!(run.u64_at(text("global_var")), 42);
    assert_eq!(run.u64_at(text("uninit_var")), 0);
    assert_eq!(run.u64_at(text("heap_var")), 123);
    assert_eq!(run.u64_at(text("mmap_var")), 456);
    assert_eq!(run.u64_at(text("local_var")), 10);
    // main's bytes in memory are its bytes in the file.
    let main = text("sections::main");
    let s = elf.section(".text").unwrap();
    let file = std::fs::read(BIN).unwrap();
    let at = (s.offset + main - s.addr) as usize;
    assert_eq!(run.bytes(main, 16), &file[at..at + 16]);
    // And the symbol table agrees on what lies there.
    for (name, symbol) in [
        ("sections::main", "sections4main"),
        ("global_var", "GLOBAL_VAR"),
        ("uninit_var", "UNINIT_VAR"),
    ] {
        let sym = elf.symbol_at(text(name)).expect("a symbol");
        assert!(sym.name.contains(symbol), "{name}: {sym:?}");
        assert_eq!(sym.value, text(name), "{name} starts its symbol");
    }
}

#[test]
fn array_of_ten_integers_is_bss_in_the_same_mapping() {
    let run = Run::new(&["--array"]);
    assert_places(&run);
    let first = run.object("array[0]");
    let last = run.object("array[9]");
    assert_eq!(
        (first.place.as_str(), last.place.as_str()),
        (".bss", ".bss")
    );
    assert_eq!(
        last.addr - first.addr,
        9 * 4,
        "ten 4-byte integers in a row"
    );
    assert_eq!(run.bytes(first.addr, 40), [0; 40]);
    let elf = Elf::read(Path::new(BIN)).unwrap();
    let sym = elf.symbol_at(first.addr).unwrap();
    assert!(sym.name.contains("ARRAY") && sym.size == 40, "{sym:?}");
    // In the same line as uninit_var, the other .bss object.
    let stop = &run.walk.stops[0];
    assert_eq!(
        stop.containing(first.addr),
        stop.containing(run.object("uninit_var").addr)
    );
}

#[test]
fn data_string_moves_from_the_read_only_line_to_the_writable_one() {
    let run = Run::new(&["--data-string"]);
    assert_places(&run);
    let stop = &run.walk.stops[0];
    let rodata = run.object("const_str");
    let data = run.object("data_str");
    assert_eq!(data.place, ".data");
    assert_eq!(stop.containing(rodata.addr).unwrap().perms, "r--p");
    assert_eq!(stop.containing(data.addr).unwrap().perms, "rw-p");
    // Writable: the demo changed its first letter.
    assert_eq!(run.bytes(data.addr, 17), b"salve, simpatia!\n");
    assert_eq!(run.bytes(rodata.addr, 17), b"Salve, simpatia!\n");
    assert!(
        run.walk.stderr.contains("\nsalve, simpatia!\n"),
        "{}",
        run.walk.stderr
    );
}

#[test]
fn both_options_together() {
    let run = Run::new(&["--array", "--data-string"]);
    assert_eq!(run.objects.len(), 7 + 3);
    assert_places(&run);
}

#[test]
fn quiet_is_silent_but_prints_the_addresses() {
    let w = walk_quiet(BIN, &["-q"], 1);
    assert_eq!(objects(&w.stdout).len(), 7);
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    let mut expected = vec!["execve", "brk", "brk", "mmap"];
    expected.extend(["write"; 7]);
    expected.extend(["getpid", "kill", "exit"]);
    assert_syscalls(BIN, &["-q"], &expected);
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["--arrays"], "unknown option '--arrays'");
    assert_usage_error(BIN, &["extra"], "unexpected argument 'extra'");
}

#[test]
fn help_goes_to_stdout() {
    assert_help(BIN);
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}
