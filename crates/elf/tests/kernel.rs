//! The kernel checks the classes `cargo elf` gives every header field of
//! `minimal`: a copy of the file with the field overwritten is run.
//!
//! - *ignored*: with 0 and with every bit flipped, it still runs and
//!   exits 0;
//! - *validated*: some value makes execve fail;
//! - *used*: some value shows: a signal, or other maps lines (another
//!   address, permission or offset) while it sleeps.
//!
//! Where a field fits none, the tool's class is wrong, not this test.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    FieldLine, actual, elf_ok, field_lines, maps_at_first_stop, predicted, release, start,
};
use procfs::{Event, maps};

/// How long a copy may take to fall asleep or end (a bound for a hung
/// run, not a speed target).
const PATIENCE: Duration = Duration::from_secs(20);

/// What a run of a copy did.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// execve failed with this errno.
    ExecFailed(Option<i32>),
    Exited(i32),
    Killed(i32),
    /// It sleeps (in nanosleep) with these maps lines.
    Sleeping(Vec<String>),
}

/// A copy of `minimal` with some bytes changed; removed when dropped.
struct Copy {
    dir: PathBuf,
    path: PathBuf,
}

impl Copy {
    fn new(bytes: &[u8], at: u64, new: &[u8]) -> Copy {
        Copy::named("minimal", bytes, at, new)
    }

    fn named(name: &str, bytes: &[u8], at: u64, new: &[u8]) -> Copy {
        let dir = std::env::temp_dir().join(format!(
            "mmm-elf-kernel-{}-{}",
            std::process::id(),
            procfs::testing::unique()
        ));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join(name);
        let mut b = bytes.to_vec();
        b[at as usize..at as usize + new.len()].copy_from_slice(new);
        std::fs::write(&path, b).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Copy { dir, path }
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The maps lines that say how the program was loaded: the program's
/// own and anonymous lines as they are, [stack] by its permissions (its
/// address is random), the kernel's special mappings left out.
fn loaded(pid: u32) -> Vec<String> {
    let mut lines: Vec<String> = maps::read(pid)
        .unwrap_or_default()
        .iter()
        .filter(|m| !m.is_special() || m.path == "[stack]")
        .map(|m| {
            if m.path == "[stack]" {
                format!("[stack] {}", m.perms)
            } else {
                format!(
                    "{:x}-{:x} {} {:x} {}",
                    m.start,
                    m.end,
                    m.perms,
                    m.offset,
                    if m.anonymous() { "anon" } else { "file" }
                )
            }
        })
        .collect();
    lines.sort();
    lines
}

/// Whether execve of `path` fails, and with which errno. A plain spawn:
/// std then uses posix_spawn, which reports ENOEXEC, where execvp (after
/// a fork with a pre_exec hook, as [`Demo`] does) would hand the file to
/// /bin/sh as a script.
///
/// ETXTBSY is tried again: a test thread that forks while another one
/// still has its copy open for writing holds that descriptor until its
/// own exec.
fn exec_fails(path: &PathBuf) -> Option<Option<i32>> {
    /// `errno(3)`: text file busy.
    const ETXTBSY: i32 = 26;
    const TRIES: usize = 100;
    for _ in 0..TRIES {
        let mut cmd = Command::new(path);
        // A mangled copy may run stray code that creates files (an
        // `open` with O_CREAT): let them land in its own directory,
        // which the copy removes.
        cmd.arg("0")
            .current_dir(path.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Some(e.raw_os_error()),
            Ok(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    panic!("{}: still ETXTBSY after {TRIES} tries", path.display());
}

/// Runs `path SECONDS`: until it sleeps, ends, or execve fails.
fn run(path: &PathBuf, seconds: &str) -> Outcome {
    if let Some(errno) = exec_fails(path) {
        return Outcome::ExecFailed(errno);
    }
    let mut demo = start(path, &[seconds]);
    if seconds != "0" && demo.wait_sleeping(PATIENCE) {
        let lines = loaded(demo.pid);
        demo.kill();
        return Outcome::Sleeping(lines);
    }
    match demo.wait(PATIENCE).or(demo.last()) {
        Some(Event::Exited(c)) => Outcome::Exited(c),
        Some(Event::Killed(s)) => Outcome::Killed(s),
        other => panic!("{}: neither slept nor ended: {other:?}", path.display()),
    }
}

/// `v` in `size` little-endian bytes.
fn le(v: u64, size: usize) -> Vec<u8> {
    v.to_le_bytes()[..size.min(8)].to_vec()
}

/// Values worth trying in a field: 0, all ones, every bit flipped, the
/// next page, permissions rwx, small type and machine numbers.
fn candidates(f: &FieldLine) -> Vec<Vec<u8>> {
    let n = f.bytes.len();
    let orig = f.number();
    let ones = if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    };
    let mut list = vec![
        vec![0; n],
        vec![0xff; n],
        f.bytes.iter().map(|b| !b).collect(),
    ];
    for v in [
        orig.wrapping_add(0x1000),
        orig | 7,
        0x10000,
        3,
        1,
        32,
        orig ^ 1,
    ] {
        list.push(le(v & ones, n));
    }
    list.retain(|c| *c != f.bytes);
    list.dedup();
    list
}

fn minimal() -> (PathBuf, Vec<u8>, Vec<FieldLine>, String) {
    let path = release("minimal");
    let bytes = std::fs::read(&path).unwrap();
    let out = elf_ok(&[path.to_str().unwrap()]);
    let fields = field_lines(&out);
    (path, bytes, fields, out)
}

/// Checks one field's class on the kernel; returns the value that showed
/// it (for the message).
fn check(bytes: &[u8], f: &FieldLine, normal: &[String]) -> Result<String, String> {
    let what = format!("{} {} at {:#x} ({})", f.entry, f.name, f.offset, f.class);
    match f.class.as_str() {
        "ignored" => {
            for c in [vec![0; f.bytes.len()], f.bytes.iter().map(|b| !b).collect()] {
                if c == f.bytes {
                    continue;
                }
                let copy = Copy::new(bytes, f.offset, &c);
                let got = run(&copy.path, "0");
                if got != Outcome::Exited(0) {
                    return Err(format!(
                        "{what}: set to {c:02x?}, {got:?}; an ignored field must not matter"
                    ));
                }
            }
            Ok("0 and every bit flipped run".into())
        }
        "validated" => {
            for c in candidates(f) {
                let copy = Copy::new(bytes, f.offset, &c);
                if let Outcome::ExecFailed(e) = run(&copy.path, "5") {
                    return Ok(format!("{c:02x?}: execve fails, errno {e:?}"));
                }
            }
            Err(format!("{what}: no value tried makes execve fail"))
        }
        "used" => {
            for c in candidates(f) {
                let copy = Copy::new(bytes, f.offset, &c);
                match run(&copy.path, "5") {
                    Outcome::Killed(s) => return Ok(format!("{c:02x?}: killed by signal {s}")),
                    Outcome::Sleeping(lines) if lines != normal => {
                        return Ok(format!("{c:02x?}: maps {lines:?}"));
                    }
                    _ => {}
                }
            }
            Err(format!(
                "{what}: no value tried shows in maps or as a signal"
            ))
        }
        other => Err(format!("{what}: unknown class {other}")),
    }
}

fn check_all(entries: impl Fn(&FieldLine) -> bool, expected: usize) {
    let (path, bytes, fields, _) = minimal();
    let normal = match run(&path, "5") {
        Outcome::Sleeping(lines) => lines,
        other => panic!("minimal itself: {other:?}"),
    };
    let chosen: Vec<&FieldLine> = fields.iter().filter(|f| entries(f)).collect();
    assert_eq!(
        chosen.len(),
        expected,
        "every field of these headers is listed"
    );
    let mut wrong = Vec::new();
    for f in chosen {
        match check(&bytes, f, &normal) {
            Ok(how) => eprintln!("{} {} {}: {how}", f.entry, f.name, f.class),
            Err(e) => wrong.push(e),
        }
    }
    assert!(
        wrong.is_empty(),
        "classes the kernel disagrees with:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn elf_header_fields_have_the_kernels_class() {
    check_all(|f| f.entry.is_empty(), 20);
}

#[test]
fn program_header_fields_have_the_kernels_class() {
    let e = procfs::elf::Elf::read(&release("minimal")).unwrap();
    check_all(|f| f.entry.starts_with("ph["), 8 * e.programs.len());
}

#[test]
fn section_headers_are_ignored() {
    let e = procfs::elf::Elf::read(&release("minimal")).unwrap();
    check_all(|f| f.entry.starts_with("sh["), 10 * e.sections.len());
}

#[test]
fn sections_out_of_segments_and_padding_are_never_read() {
    let (_, bytes, fields, out) = minimal();
    let e = procfs::elf::Elf::parse(&bytes).unwrap();
    let mut ranges: Vec<(String, u64, u64)> = e
        .sections
        .iter()
        .filter(|s| s.in_file() && !s.allocated())
        .map(|s| (s.name.clone(), s.offset, s.offset + s.size))
        .collect();
    // The room left for another program header, and the other padding.
    for l in out
        .lines()
        .filter(|l| l.starts_with("0x") && (l.contains("padding") || l.contains("room for")))
    {
        let (a, b) = l
            .split_whitespace()
            .next()
            .unwrap()
            .split_once('-')
            .unwrap();
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        ranges.push((l.to_string(), hex(a), hex(b)));
    }
    assert!(ranges.len() >= 4, "{ranges:?}");
    for (name, start, end) in ranges {
        let copy = Copy::new(&bytes, start, &vec![0xa5; (end - start) as usize]);
        assert_eq!(
            run(&copy.path, "0"),
            Outcome::Exited(0),
            "{name} overwritten"
        );
    }
    // The summary counts the bytes of the fields the loader reads.
    let read: usize = fields
        .iter()
        .filter(|f| f.class != "ignored")
        .map(|f| f.bytes.len())
        .sum();
    assert!(
        out.contains(&format!("the loader reads {read} B of header fields")),
        "{read}"
    );
}

/// p_align depends on e_type: ignored for ET_EXEC (above), used for
/// ET_DYN, whose load offset the largest p_align aligns
/// (maximum_alignment). `pie` with 2 MiB in ph[0] lands on a 2 MiB
/// boundary; were it ignored, that would happen once in 512 runs.
#[test]
fn et_dyn_p_align_aligns_the_load_offset() {
    const TWO_MIB: u64 = 2 << 20;
    let path = release("pie");
    let bytes = std::fs::read(&path).unwrap();
    let fields = field_lines(&elf_ok(&[path.to_str().unwrap()]));
    let align = fields
        .iter()
        .find(|f| f.entry == "ph[0]" && f.name == "p_align")
        .unwrap();
    assert_eq!(align.class, "used", "{align:?}");
    let copy = Copy::named("pie", &bytes, align.offset, &le(TWO_MIB, 8));
    let mut demo = start(&copy.path, &["-q"]);
    assert_eq!(
        demo.wait(PATIENCE),
        Some(Event::Stopped(procfs::child::SIGSTOP))
    );
    let real = std::fs::canonicalize(&copy.path).unwrap();
    let maps = maps::read(demo.pid).unwrap();
    demo.kill();
    let first = maps
        .iter()
        .find(|m| std::path::Path::new(&m.path) == real)
        .expect("the program's first line");
    assert_eq!(first.start % TWO_MIB, 0, "loaded at {:#x}", first.start);
}

/// What the listing says of a zero-filled tail is what the kernel does:
/// the rest of the last file page after p_filesz reads as zeros in the
/// running `sections` (padzero), although the file has other bytes
/// there (its .symtab), and the same file bytes read as they are
/// through the r-- mapping of the same page.
#[test]
fn the_zero_filled_tail_reads_as_zeros() {
    use std::io::{Read, Seek, SeekFrom};
    let path = release("sections");
    let bytes = std::fs::read(&path).unwrap();
    let e = procfs::elf::Elf::parse(&bytes).unwrap();
    let out = elf_ok(&[path.to_str().unwrap()]);
    let p = e
        .programs
        .iter()
        .find(|p| p.kind == procfs::elf::PT_LOAD && p.memsz > p.filesz)
        .expect("a segment with .bss");
    let tail = p.vaddr + p.filesz;
    assert!(
        out.contains(&format!("zero-filled tail {tail:#x}-")),
        "{out}"
    );
    let page_end = (tail | 0xfff) + 1;
    let file =
        (p.offset + p.filesz) as usize..(p.offset + p.filesz) as usize + (page_end - tail) as usize;
    let in_file = &bytes[file.start..file.end.min(bytes.len())];
    assert!(in_file.iter().any(|&b| b != 0), "the file has bytes there");
    let mut demo = start(&path, &["-q"]);
    assert_eq!(
        demo.wait(PATIENCE),
        Some(Event::Stopped(procfs::child::SIGSTOP))
    );
    let read = |addr: u64, len: usize| {
        let mut mem = std::fs::File::open(format!("/proc/{}/mem", demo.pid)).unwrap();
        mem.seek(SeekFrom::Start(addr)).unwrap();
        let mut buf = vec![0; len];
        mem.read_exact(&mut buf).unwrap();
        buf
    };
    let tail_bytes = read(tail, (page_end - tail) as usize);
    // The same file bytes through the first PT_LOAD's page (file page 0).
    let first = e.segments(procfs::elf::PT_LOAD).next().unwrap();
    let through_r = read(
        first.vaddr - first.offset + file.start as u64,
        in_file.len(),
    );
    demo.kill();
    assert!(
        tail_bytes.iter().all(|&b| b == 0),
        "cleared: {tail_bytes:02x?}"
    );
    assert_eq!(
        through_r, in_file,
        "page slack of the r-- mapping: the file's bytes"
    );
}

#[test]
fn the_maps_lines_listed_are_the_kernels() {
    for (demo, path) in common::binaries(true) {
        let out = elf_ok(&[path.to_str().unwrap()]);
        let want = predicted(&out);
        assert!(!want.is_empty(), "{demo}");
        let args = common::first_stop_args(&demo);
        let (_, maps) = maps_at_first_stop(&path, args);
        assert_eq!(actual(&maps, &path, &want), want, "{demo}");
    }
    // A tail of whole pages past the file: anonymous, rw- and even x
    // for a segment with PF_X, whatever p_flags says (vm_brk_flags).
    let (_, bytes, fields, _) = minimal();
    let memsz = fields
        .iter()
        .find(|f| f.entry == "ph[1]" && f.name == "p_memsz")
        .unwrap();
    let copy = Copy::new(&bytes, memsz.offset, &le(0x10000, 8));
    let out = elf_ok(&[copy.path.to_str().unwrap()]);
    let want = predicted(&out);
    assert!(want.iter().any(|w| w.2 == "rwxp"), "{want:?}");
    let (_, maps) = maps_at_first_stop(&copy.path, &["5"]);
    assert_eq!(actual(&maps, &copy.path, &want), want);
}

/// A tail in a segment that is not writable is not cleared: `minimal`
/// with its code segment's p_memsz grown keeps the file's bytes (its
/// .symtab) after p_filesz, as the listing says.
#[test]
fn a_read_only_tail_keeps_the_files_bytes() {
    use std::io::{Read, Seek, SeekFrom};
    let (_, bytes, fields, _) = minimal();
    let e = procfs::elf::Elf::parse(&bytes).unwrap();
    let code = &e.programs[1];
    assert_eq!(code.flags & procfs::elf::PF_W, 0);
    let memsz = fields
        .iter()
        .find(|f| f.entry == "ph[1]" && f.name == "p_memsz")
        .unwrap();
    let copy = Copy::new(&bytes, memsz.offset, &le(0x10000, 8));
    assert!(elf_ok(&[copy.path.to_str().unwrap()]).contains("cannot clear"));
    let tail = code.vaddr + code.filesz;
    let from = (code.offset + code.filesz) as usize;
    let len = (((tail | 0xfff) + 1 - tail) as usize).min(bytes.len() - from);
    let mut demo = start(&copy.path, &["5"]);
    assert!(demo.wait_sleeping(PATIENCE));
    let mut mem = std::fs::File::open(format!("/proc/{}/mem", demo.pid)).unwrap();
    mem.seek(SeekFrom::Start(tail)).unwrap();
    let mut got = vec![0; len];
    mem.read_exact(&mut got).unwrap();
    demo.kill();
    assert!(bytes[from..from + len].iter().any(|&b| b != 0));
    assert_eq!(got, &bytes[from..from + len], "the file's bytes, not zeros");
}
