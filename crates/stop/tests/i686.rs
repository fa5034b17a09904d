//! `stop` built for i686, seed 001's world: an i386 executable at
//! 0x08048000, its stack just below 4 GiB (below 3 GiB with `--3gb`), and
//! the executable stack of the seed in the two variants
//! `stop-execstack` and `stop-nognustack`, measured for both
//! architectures.

use procfs::i686::*;
use procfs::testing::*;
use procfs::{Event, Spawn};
use std::path::Path;

const X86_64: &str = env!("CARGO_BIN_EXE_stop");
const X86_64_EXECSTACK: &str = env!("CARGO_BIN_EXE_stop-execstack");
const X86_64_NOGNUSTACK: &str = env!("CARGO_BIN_EXE_stop-nognustack");

fn bin(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn every_i686_demo_is_an_i386_static_w_xor_x_executable_at_0x08048000() {
    let Some(dir) = demos_for_test() else { return };
    for demo in PORTED {
        // minimal has no statics: no rw- segment, as on x86-64.
        let loads = if *demo == "minimal" { 2 } else { 3 };
        assert_i386_exec(&dir.join(demo), loads);
    }
}

#[test]
fn i686_stop_shows_the_32_bit_layout() {
    let Some(dir) = demos_for_test() else { return };
    let stop = bin(&dir, "stop");
    let w = walk_ok(&stop, &[], 1);
    let s = &w.stops[0];
    let program = assert_maps_match_elf(&s.maps, &stop, 0);
    let perms: Vec<&str> = program.iter().map(|m| m.perms.as_str()).collect();
    assert_eq!(perms, ["r--p", "r-xp", "rw-p"]);
    assert_eq!(program[0].start, I386_BASE);
    assert!(s.find("[heap]").is_none(), "nothing called brk");
    assert!(s.find("[vsyscall]").is_none(), "no [vsyscall] for i386");
    assert!(s.find("[vdso]").is_some());
    let stack = s.find("[stack]").expect("[stack]");
    assert_eq!(stack.perms, "rw-p", "PT_GNU_STACK RW");
    // A 64-bit kernel gives a 32-bit process nearly 4 GiB: its stack ends
    // just below 0xffffe000, far above a 32-bit kernel's 3 GiB.
    assert!(stack.end <= IA32_TASK_SIZE, "{stack:x?}");
    assert!(stack.end > LIMIT_3GB, "{stack:x?}");
    assert!(
        s.maps.iter().all(|m| m.end <= IA32_TASK_SIZE),
        "{:#x?}",
        s.maps
    );
    // /proc/PID/auxv of an i386 process holds 32-bit pairs.
    let page_size = s.auxv.iter().find(|(k, _)| *k == 6).map(|(_, v)| *v);
    assert_eq!(page_size, Some(4096), "AT_PAGESZ in {:x?}", s.auxv);
    let vdso = s.auxv.iter().find(|(k, _)| *k == 33).map(|(_, v)| *v);
    assert_eq!(
        vdso,
        Some(s.find("[vdso]").unwrap().start),
        "AT_SYSINFO_EHDR"
    );
    assert!(
        w.stderr.contains(&format!("kill -CONT {}", w.pid)),
        "{}",
        w.stderr
    );
}

#[test]
fn under_3gb_the_stack_ends_below_0xc0000000_as_in_the_seed() {
    let Some(dir) = demos_for_test() else { return };
    let how = Spawn {
        limit_3gb: true,
        ..Spawn::default()
    };
    let w = walk_how(command(&bin(&dir, "stop"), &["-q"]), how, |_, _| {});
    assert_eq!(
        (w.end, w.stops.len()),
        (Event::Exited(0), 1),
        "{}",
        w.stderr
    );
    let s = &w.stops[0];
    let stack = s.find("[stack]").unwrap();
    assert!(stack.end <= LIMIT_3GB, "{stack:x?}");
    assert!(stack.end > 0xb000_0000, "just below 3 GiB: {stack:x?}");
    assert!(s.maps.iter().all(|m| m.end <= LIMIT_3GB), "{:#x?}", s.maps);
    // The same personality on a 64-bit program changes nothing.
    let w = walk_how(command(X86_64, &["-q"]), how, |_, _| {});
    assert!(w.stops[0].find("[stack]").unwrap().end > 1 << 32);
}

#[test]
fn strace_shows_the_i386_syscall_numbers_and_only_the_lessons_calls() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strace) = tool("strace") else { return };
    let calls = strace_numbers(&strace, &bin(&dir, "stop"), &["-q"]);
    let names: Vec<&str> = calls.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["execve", "getpid", "kill", "exit"]);
    // execve is entered from 64-bit code (strace's child): x86-64's 59.
    // Everything after it is the i386 table: getpid 20, kill 37, exit 1
    // (x86-64 would say 39, 62, 60).
    let numbers: Vec<u32> = calls.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [59, 20, 37, 1], "{calls:?}");
}

#[test]
fn pie_says_it_is_not_ported() {
    let Some(dir) = demos_for_test() else { return };
    for demo in NOT_PORTED {
        let (end, out, err) = run(&bin(&dir, demo), &[]);
        assert_eq!(end, Event::Exited(1), "{demo}");
        assert_eq!(out, "");
        assert!(err.contains("not ported to i386"), "{demo}: {err}");
    }
}

/// At the stop of an execstack variant: [stack]'s permissions, those of
/// the PROT_READ page, the program's lines and the personality.
struct Measured {
    stack: String,
    page: String,
    program: Vec<String>,
    personality: u64,
}

fn measure(bin: &str) -> Measured {
    let mut personality = None;
    let w = walk_with(command(bin, &["-q"]), |_, demo| {
        let text = std::fs::read_to_string(format!("/proc/{}/personality", demo.pid)).unwrap();
        personality = Some(u64::from_str_radix(text.trim(), 16).unwrap());
    });
    assert_eq!(
        (w.end, w.stops.len()),
        (Event::Exited(0), 1),
        "{}",
        w.stderr
    );
    let s = &w.stops[0];
    let addr = w
        .stdout
        .trim()
        .strip_prefix("prot_read 0x")
        .expect(&w.stdout);
    let page = s
        .containing(u64::from_str_radix(addr, 16).unwrap())
        .unwrap();
    assert_eq!(
        (page.size(), page.path.as_str()),
        (4096, ""),
        "one anonymous page"
    );
    Measured {
        stack: s.find("[stack]").unwrap().perms.clone(),
        page: page.perms.clone(),
        program: program_mappings(s, bin)
            .iter()
            .map(|m| m.perms.clone())
            .collect(),
        personality: personality.unwrap(),
    }
}

/// What one variant must show, as measured on Linux 6.18.
struct Expected {
    /// PT_GNU_STACK's flags in the file (PF_R = 4, PF_W = 2, PF_X = 1).
    gnu_stack: Option<u32>,
    stack: &'static str,
    page: &'static str,
    program: [&'static str; 3],
    read_implies_exec: bool,
}

/// PT_GNU_STACK of `-z execstack`: PF_R | PF_W | PF_X.
const RWX: u32 = 7;

/// The W^X program lines: every case but i386 without PT_GNU_STACK.
const W_XOR_X: [&str; 3] = ["r--p", "r-xp", "rw-p"];

fn check(bin: &str, want: Expected) {
    assert_eq!(
        gnu_stack(Path::new(bin)),
        want.gnu_stack,
        "{bin}: PT_GNU_STACK"
    );
    let m = measure(bin);
    assert_eq!(m.stack, want.stack, "{bin}: [stack]");
    assert_eq!(m.page, want.page, "{bin}: the PROT_READ page");
    assert_eq!(m.program, want.program, "{bin}: the program's lines");
    let rie = m.personality & procfs::child::READ_IMPLIES_EXEC != 0;
    assert_eq!(rie, want.read_implies_exec, "{bin}: READ_IMPLIES_EXEC");
}

#[test]
fn x86_64_without_pt_gnu_stack_keeps_a_non_executable_stack() {
    // No exec stack for 64-bit programs since Linux 5.8.
    check(
        X86_64_NOGNUSTACK,
        Expected {
            gnu_stack: None,
            stack: "rw-p",
            page: "r--p",
            program: W_XOR_X,
            read_implies_exec: false,
        },
    );
}

#[test]
fn x86_64_with_execstack_gets_an_rwx_stack_and_nothing_else() {
    check(
        X86_64_EXECSTACK,
        Expected {
            gnu_stack: Some(RWX),
            stack: "rwxp",
            page: "r--p",
            program: W_XOR_X,
            read_implies_exec: false,
        },
    );
}

#[test]
fn i386_without_pt_gnu_stack_gets_read_implies_exec_as_in_the_seed() {
    let Some(dir) = demos_for_test() else { return };
    // PROT_READ alone becomes executable, and so do the program's own r--
    // and rw- segments: the seed's rwxp heap.
    check(
        &bin(&dir, "stop-nognustack"),
        Expected {
            gnu_stack: None,
            stack: "rwxp",
            page: "r-xp",
            program: ["r-xp", "r-xp", "rwxp"],
            read_implies_exec: true,
        },
    );
}

#[test]
fn i386_with_execstack_gets_an_rwx_stack_and_nothing_else() {
    let Some(dir) = demos_for_test() else { return };
    check(
        &bin(&dir, "stop-execstack"),
        Expected {
            gnu_stack: Some(RWX),
            stack: "rwxp",
            page: "r--p",
            program: W_XOR_X,
            read_implies_exec: false,
        },
    );
}

#[test]
fn the_variants_make_exactly_their_lessons_calls() {
    assert_syscalls(
        X86_64_EXECSTACK,
        &["-q"],
        &["execve", "mmap", "write", "getpid", "kill", "exit"],
    );
    let Some(dir) = demos_for_test() else { return };
    assert_syscalls(
        &bin(&dir, "stop-nognustack"),
        &["-q"],
        &["execve", "mmap2", "write", "getpid", "kill", "exit"],
    );
}
