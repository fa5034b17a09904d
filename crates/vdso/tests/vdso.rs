//! `vdso` on the real binary: the time it prints, the vDSO it found (as
//! /proc/PID/maps shows it at the stop), and under strace which clock
//! reads were syscalls. The ELF reader itself is also run here, on this
//! test's own vDSO.

use procfs::testing::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// The demo's own ELF reader, compiled into the test; the test does not
// call every item the demo uses.
#[allow(dead_code)]
#[path = "../src/elf.rs"]
mod elf;

const BIN: &str = env!("CARGO_BIN_EXE_vdso");

/// Tolerance between the demo's clock and ours: it reads CLOCK_REALTIME
/// between our two readings; a second of slack for a slow machine.
const SLACK: Duration = Duration::from_secs(1);

/// The syscalls that read a clock (arch/x86/entry/syscalls/syscall_64.tbl).
const CLOCK_SYSCALLS: &[&str] = &["clock_gettime", "gettimeofday", "time"];

fn field<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {out}"))
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.strip_prefix("0x").expect(s), 16).unwrap()
}

/// Runs `vdso args` to its one stop and end; checks the printed time
/// against ours.
fn run_checked(args: &[&str]) -> Walk {
    let before = SystemTime::now();
    let w = walk_ok(BIN, args, 1);
    let after = SystemTime::now();
    // time 1767225600.123456789 from …
    let time = field(&w.stdout, "time ");
    let (secs, rest) = time.split_once('.').expect(time);
    let nanos = &rest[..9];
    assert!(rest[9..].starts_with(" from "), "{time}");
    let t = UNIX_EPOCH + Duration::new(secs.parse().unwrap(), nanos.parse().unwrap());
    assert!(
        before - SLACK <= t && t <= after + SLACK,
        "printed {t:?}, ours {before:?}..{after:?}"
    );
    w
}

#[test]
fn finds_the_vdso_and_reads_the_time_through_it() {
    let w = run_checked(&["--calls", "1000"]);
    let stop = &w.stops[0];
    // vdso 0x7ffd… 5410 bytes, 14 symbols
    let line = field(&w.stdout, "vdso 0x");
    let words: Vec<&str> = line.split(' ').collect();
    let base = hex(&format!("0x{}", words[0]));
    let size: u64 = words[1].parse().unwrap();
    let vdso = stop.find("[vdso]").expect("[vdso] in maps");
    assert_eq!(base, vdso.start, "AT_SYSINFO_EHDR is the start of [vdso]");
    assert_eq!(
        size.div_ceil(4096) * 4096,
        vdso.size(),
        "image fills [vdso]"
    );
    assert!(vdso.executable() && !vdso.writable(), "{vdso:?}");
    // Directly below [vdso]: on Linux 6.13+ [vvar_vclock], and [vvar]
    // below that; on older kernels [vvar] alone.
    let vvar = stop.find("[vvar]").expect("[vvar] in maps");
    let vclock = stop.find("[vvar_vclock]");
    for m in [Some(vvar), vclock].into_iter().flatten() {
        assert!(m.readable() && !m.writable() && !m.executable(), "{m:?}");
    }
    match vclock {
        Some(vclock) => {
            assert_eq!(vclock.end, vdso.start, "[vvar_vclock] ends at [vdso]");
            assert_eq!(vvar.end, vclock.start, "[vvar] ends at [vvar_vclock]");
        }
        None => assert_eq!(vvar.end, vdso.start, "[vvar] ends at [vdso]"),
    }
    // The functions vdso(7) lists for x86-64, all in [vdso], version LINUX_2.6.
    for name in [
        "__vdso_clock_gettime",
        "__vdso_gettimeofday",
        "__vdso_time",
        "__vdso_getcpu",
    ] {
        let line = w
            .stdout
            .lines()
            .find(|l| l.ends_with(&format!(" {name}@LINUX_2.6")))
            .unwrap_or_else(|| panic!("{name} not printed: {}", w.stdout));
        let addr = hex(line.split(' ').nth(1).unwrap());
        assert!(vdso.contains(addr), "{line}");
    }
    assert!(field(&w.stdout, "time ").ends_with(" from __vdso_clock_gettime"));
    // cost vdso 22 ns/call, syscall 173 ns/call, ratio 7.8 (1000 calls)
    let cost = field(&w.stdout, "cost vdso ");
    let w2: Vec<&str> = cost
        .split([' ', ',', '('])
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        (w2[1], w2[2], w2[4], w2[5], w2[8]),
        ("ns/call", "syscall", "ns/call", "ratio", "calls)"),
        "{cost}"
    );
    let (fast, slow): (u64, u64) = (w2[0].parse().unwrap(), w2[3].parse().unwrap());
    let (whole, tenth) = w2[6].split_once('.').expect(cost);
    let ratio = whole.parse::<u64>().unwrap() * 10 + tenth.parse::<u64>().unwrap();
    // Only the arithmetic is checked, not the speed: no timed tests. The
    // ns/call are rounded down, the ratio comes from the exact totals.
    let expected = slow * 10 / fast.max(1);
    assert!(
        ratio.abs_diff(expected) <= expected / 4 + 2,
        "ratio {ratio} from {slow}/{fast}: {cost}"
    );
    assert_eq!(w2[7], "1000", "{cost}");
    assert!(
        w.stderr.contains(&format!("[vdso] at {base:#x}")),
        "{}",
        w.stderr
    );
}

/// The syscall names of `vdso args` under strace.
fn traced(args: &[&str]) -> Option<Vec<String>> {
    let strace = tool("strace")?;
    Some(strace_names(&strace, BIN, args))
}

fn clocksource() -> String {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .unwrap_or_default()
}

#[test]
fn calls_0_makes_no_clock_syscall() {
    let Some(names) = traced(&["-q", "--calls", "0"]) else {
        return;
    };
    let clocks: Vec<&String> = names
        .iter()
        .filter(|n| CLOCK_SYSCALLS.contains(&n.as_str()))
        .collect();
    assert!(
        clocks.is_empty(),
        "clock syscalls {clocks:?}; the vDSO falls back to them when the clock \
         source ({}) cannot be read from user space",
        clocksource().trim()
    );
    let others: Vec<&String> = names.iter().filter(|n| *n != "write").collect();
    assert_eq!(others, ["execve", "getpid", "kill", "exit"]);
}

#[test]
fn calls_1000_makes_exactly_1000_clock_syscalls() {
    let Some(names) = traced(&["-q", "--calls", "1000"]) else {
        return;
    };
    let count = |name: &str| names.iter().filter(|n| *n == name).count();
    assert_eq!(count("clock_gettime"), 1000, "{}", clocksource().trim());
    assert_eq!(count("gettimeofday") + count("time"), 0);
}

#[test]
fn without_a_vdso_it_says_so_and_uses_the_syscall() {
    // --no-vdso pretends that auxv has no AT_SYSINFO_EHDR, as on a kernel
    // booted with vdso=0: the same code path.
    let w = run_checked(&["--no-vdso", "--calls", "10"]);
    assert!(
        w.stdout
            .contains("vdso: none (no AT_SYSINFO_EHDR in auxv, or --no-vdso): using the syscall\n"),
        "{}",
        w.stdout
    );
    assert!(field(&w.stdout, "time ").ends_with(" from the clock_gettime syscall"));
    assert!(field(&w.stdout, "cost syscall ").ends_with(" ns/call (10 calls)"));
    assert!(!w.stdout.contains("function "), "{}", w.stdout);
    let Some(names) = traced(&["-q", "--no-vdso", "--calls", "10"]) else {
        return;
    };
    // One for the time, 10 timed, 2 to time them.
    let count = names.iter().filter(|n| *n == "clock_gettime").count();
    assert_eq!(count, 1 + 10 + 2, "{names:?}");
}

#[test]
fn quiet_silences_only_the_narration() {
    let w = walk_quiet(BIN, &["-q", "--calls", "0"], 1);
    assert!(w.stdout.contains("\ntime "), "{}", w.stdout);
    assert!(!w.stdout.contains("cost"), "--calls 0 times nothing");
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["extra"], "unexpected argument 'extra'");
    assert_usage_error(BIN, &["--calls"], "missing value after '--calls'");
    assert_usage_error(BIN, &["--calls", "ten"], "not a number: 'ten'");
    assert_usage_error(BIN, &["--calls", "-1"], "'-1'");
}

#[test]
fn help_goes_to_stdout() {
    assert_help(BIN);
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

unsafe extern "C" {
    fn getauxval(kind: u64) -> u64;
}

/// `AT_SYSINFO_EHDR`: arch/x86/include/uapi/asm/auxvec.h.
const AT_SYSINFO_EHDR: u64 = 33;

/// One page, aligned as a mapped page is: a readable page that holds no
/// ELF header.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

static ZERO_PAGE: Page = Page([0; 4096]);

/// The demo's ELF reader, on this test process's own vDSO.
#[test]
fn the_elf_reader_finds_functions_and_rejects_what_is_not_there() {
    // SAFETY: getauxval only reads our auxiliary vector.
    let base = unsafe { getauxval(AT_SYSINFO_EHDR) } as usize;
    assert_ne!(base, 0, "this test needs a vDSO");
    // SAFETY: AT_SYSINFO_EHDR is our vDSO, mapped for our whole life.
    let image = unsafe { elf::Image::new(base) }.expect("our vDSO is readable");
    let maps = procfs::maps::read(std::process::id()).unwrap();
    let vdso = procfs::maps::find(&maps, "[vdso]").unwrap();
    let f = image
        .lookup(b"__vdso_clock_gettime", b"LINUX_2.6")
        .expect("__vdso_clock_gettime@LINUX_2.6");
    assert!(vdso.contains(f as u64));
    assert_eq!(
        image.lookup(b"clock_gettime", b"LINUX_2.6"),
        Some(f),
        "alias"
    );
    assert_eq!(image.lookup(b"__vdso_clock_gettime", b"LINUX_9.9"), None);
    assert_eq!(image.lookup(b"__vdso_no_such_function", b"LINUX_2.6"), None);
    // SAFETY: ZERO_PAGE is a readable page for the life of the process.
    assert!(unsafe { elf::Image::new(ZERO_PAGE.0.as_ptr() as usize) }.is_none());
}

/// A crafted library for the ELF reader, laid out as the vDSO is (one
/// PT_LOAD from offset 0, R E; PT_DYNAMIC inside it), in a buffer as
/// large as the largest image the reader believes, so that whatever
/// size a damaged header claims, the reader never reads memory we do not
/// own. Offsets of its parts:
mod crafted {
    pub const PHDRS: usize = 64; // right after the 64-byte ELF header
    pub const DYNAMIC: usize = 0x100;
    pub const HASH: usize = 0x200;
    pub const STRTAB: usize = 0x240;
    pub const SYMTAB: usize = 0x280;
    pub const VERSYM: usize = 0x300;
    pub const VERDEF: usize = 0x320;
    pub const CODE: usize = 0x400;
    pub const SIZE: usize = 0x800;
    /// The address it is linked at; not 0, so that an offset is not an
    /// address.
    pub const VADDR: u64 = 0x10_0000;
    /// Names: "f" at 1, "LINUX_2.6" at 3, "lib.so" at 13, "outside" at
    /// 20, "below" at 28.
    pub const STRINGS: &[u8] = b"\0f\0LINUX_2.6\0lib.so\0outside\0below\0";
    /// Symbols: 0 null, 1 `f` at CODE, 2 `outside` past the end of the
    /// image, 3 `below` before its start; all functions of LINUX_2.6.
    pub const SYMBOLS: usize = 4;
    /// The symbol entries' fields (elf(5), include/uapi/linux/elf.h).
    pub const SYM_SIZE: usize = 24;
    pub const GLOBAL_FUNC: u64 = 0x12; // STB_GLOBAL << 4 | STT_FUNC
    pub const DT_HASH: u64 = 4;
    pub const DT_STRTAB: u64 = 5;
    pub const DT_SYMTAB: u64 = 6;
    pub const DT_VERSYM: u64 = 0x6fff_fff0;
    pub const DT_VERDEF: u64 = 0x6fff_fffc;
    pub const DT_GNU_HASH: u64 = 0x6fff_fef5;
}
use crafted::*;

#[repr(C, align(4096))]
struct Buffer([u8; elf::MAX_IMAGE]);

impl Buffer {
    /// Writes `value` as a `len`-byte little-endian field at `at`.
    fn put(&mut self, at: usize, len: usize, value: u64) -> &mut Buffer {
        self.0[at..at + len].copy_from_slice(&value.to_le_bytes()[..len]);
        self
    }

    fn base(&self) -> usize {
        self.0.as_ptr() as usize
    }

    fn parse(&'static self) -> Option<elf::Image> {
        // SAFETY: the buffer is leaked, so it lives as long as the image;
        // it is MAX_IMAGE bytes, as much as the reader will ever read.
        unsafe { elf::Image::new(self.base()) }
    }
}

/// The crafted library, healthy; leaked so that it lives as long as an
/// `Image` (a `&'static [u8]`) may point into it.
fn library() -> &'static mut Buffer {
    let b = Box::leak(Box::new(Buffer([0; elf::MAX_IMAGE])));
    b.0[..5].copy_from_slice(b"\x7fELF\x02");
    b.put(32, 8, PHDRS as u64).put(56, 2, 2); // e_phoff, e_phnum
    // PT_LOAD (1), flags R E (PF_R 4 | PF_X 1), offset 0, vaddr, memsz.
    b.put(PHDRS, 4, 1).put(PHDRS + 4, 4, 5);
    b.put(PHDRS + 16, 8, VADDR).put(PHDRS + 40, 8, SIZE as u64);
    // PT_DYNAMIC (2) at DYNAMIC.
    let dynamic = PHDRS + 56;
    b.put(dynamic, 4, 2).put(dynamic + 8, 8, DYNAMIC as u64);
    let tables = [
        (DT_HASH, HASH),
        (DT_STRTAB, STRTAB),
        (DT_SYMTAB, SYMTAB),
        (DT_VERSYM, VERSYM),
        (DT_VERDEF, VERDEF),
    ];
    for (i, (tag, at)) in tables.into_iter().enumerate() {
        let entry = DYNAMIC + 16 * i;
        b.put(entry, 8, tag).put(entry + 8, 8, VADDR + at as u64);
    } // then DT_NULL: zeros
    b.put(HASH, 4, 1).put(HASH + 4, 4, SYMBOLS as u64); // nbucket, nchain
    b.0[STRTAB..STRTAB + STRINGS.len()].copy_from_slice(STRINGS);
    let values = [VADDR + CODE as u64, VADDR + 0x10_0000, VADDR - 0x10];
    for (i, (name, value)) in [(1, values[0]), (20, values[1]), (28, values[2])]
        .into_iter()
        .enumerate()
    {
        let sym = SYMTAB + SYM_SIZE * (i + 1);
        b.put(sym, 4, name).put(sym + 4, 1, GLOBAL_FUNC);
        b.put(sym + 6, 2, 1).put(sym + 8, 8, value); // st_shndx 1: defined
        b.put(VERSYM + 2 * (i + 1), 2, 2); // version index 2: LINUX_2.6
    }
    // Verdef 1: the library itself (VER_FLG_BASE, index 1, "lib.so");
    // Verdef 2, 28 bytes on: LINUX_2.6, index 2. Each with its Verdaux
    // 20 bytes on (vd_aux).
    b.put(VERDEF, 2, 1)
        .put(VERDEF + 2, 2, 1)
        .put(VERDEF + 4, 2, 1);
    b.put(VERDEF + 12, 4, 20).put(VERDEF + 16, 4, 28);
    b.put(VERDEF + 20, 4, 13);
    b.put(VERDEF + 28, 2, 1).put(VERDEF + 32, 2, 2);
    b.put(VERDEF + 40, 4, 20).put(VERDEF + 48, 4, 3);
    b
}

#[test]
fn the_elf_reader_reads_a_crafted_library() {
    let lib = library();
    let image = lib.parse().expect("a healthy library");
    assert_eq!((image.size(), image.symbols), (SIZE, SYMBOLS));
    let f = image.lookup(b"f", b"LINUX_2.6").expect("f@LINUX_2.6");
    assert_eq!(f as usize, lib.base() + CODE, "a pointer into the image");
    assert_eq!(image.lookup(b"g", b"LINUX_2.6"), None, "no such name");
}

#[test]
fn a_symbol_outside_the_image_is_not_found() {
    // Before, an address outside became offset 0: the ELF header would
    // have been called as the function.
    let image = library().parse().unwrap();
    assert_eq!(image.lookup(b"outside", b"LINUX_2.6"), None);
    assert_eq!(image.lookup(b"below", b"LINUX_2.6"), None);
}

#[test]
fn a_wrong_version_is_not_found() {
    let lib = library();
    let image = lib.parse().unwrap();
    assert_eq!(image.lookup(b"f", b"LINUX_9.9"), None, "no such version");
    assert_eq!(
        image.lookup(b"f", b"lib.so"),
        None,
        "the base is no version"
    );
    // `f` of version index 1 (the library itself), not LINUX_2.6's 2.
    let other = library();
    other.put(VERSYM + 2, 2, 1);
    assert_eq!(other.parse().unwrap().lookup(b"f", b"LINUX_2.6"), None);
}

#[test]
fn without_dt_hash_there_is_no_image() {
    let lib = library();
    lib.put(DYNAMIC, 8, DT_GNU_HASH); // the first entry was DT_HASH
    assert!(lib.parse().is_none());
}

#[test]
fn a_table_outside_the_image_means_no_image() {
    let lib = library();
    lib.put(DYNAMIC + 2 * 16 + 8, 8, VADDR + SIZE as u64); // DT_SYMTAB
    assert!(lib.parse().is_none());
}

#[test]
fn a_load_segment_that_is_not_executable_means_no_image() {
    let lib = library();
    lib.put(PHDRS + 4, 4, 4); // PF_R only
    assert!(lib.parse().is_none());
}

/// Damaged numbers that once overflowed (a debug build panicked with
/// "attempt to add with overflow") or made the reader trust a size: no
/// panic, no image.
#[test]
fn huge_offsets_and_sizes_give_no_image_and_no_panic() {
    let damages: [(usize, usize, u64); 6] = [
        (32, 8, u64::MAX - 8),                      // e_phoff
        (PHDRS + 8, 8, u64::MAX - 8),               // PT_LOAD p_offset
        (PHDRS + 40, 8, u64::MAX),                  // PT_LOAD p_memsz
        (PHDRS + 40, 8, elf::MAX_IMAGE as u64 + 1), // larger than a vDSO
        (PHDRS + 56 + 8, 8, u64::MAX - 3),          // PT_DYNAMIC p_offset
        (DYNAMIC + 8, 8, u64::MAX - 3),             // DT_HASH's d_val
    ];
    for (at, len, value) in damages {
        let lib = library();
        lib.put(at, len, value);
        assert!(lib.parse().is_none(), "{value:#x} at {at}");
    }
}

/// A damaged count or chain still finds what is there and nothing more.
#[test]
fn huge_counts_are_clamped_to_the_image() {
    let lib = library();
    lib.put(HASH + 4, 4, u32::MAX.into()); // nchain
    let image = lib.parse().unwrap();
    assert_eq!(image.symbols, (SIZE - SYMTAB) / SYM_SIZE);
    let f = image.lookup(b"f", b"LINUX_2.6");
    assert_eq!(f.map(|f| f as usize), Some(lib.base() + CODE));
    // With a vd_next far past the end, LINUX_2.6's Verdef is out of reach.
    let lib = library();
    lib.put(VERDEF + 16, 4, u32::MAX.into());
    assert_eq!(lib.parse().unwrap().lookup(b"f", b"LINUX_2.6"), None);
}
