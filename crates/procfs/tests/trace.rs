//! The tracer on real programs: /bin/true (dynamically linked), our own
//! demos (static, no loader), and small C programs built here that are
//! killed by a signal, fork, or start a thread.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use procfs::Event as Status;
use procfs::cbuild::TempDir;
use procfs::maps::{self, Mapping};
use procfs::syscalls::Kind;
use procfs::trace::{self, Birth, Event, Spawn, StartError, What};

const LIMIT: Duration = Duration::from_secs(20);

/// One event with the maps of its process at that moment.
struct Step {
    event: Event,
    maps: Vec<Mapping>,
}

fn record(argv: &[&str]) -> Vec<Step> {
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    let mut steps = Vec::new();
    trace::follow(&argv, Spawn::default(), LIMIT, |e| {
        steps.push(Step {
            event: e.clone(),
            maps: maps::read(e.pid).unwrap_or_default(),
        })
    })
    .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    .expect("the trace timed out");
    steps
}

fn calls(steps: &[Step]) -> Vec<&procfs::syscalls::Call> {
    steps
        .iter()
        .filter_map(|s| match &s.event.what {
            What::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn position(steps: &[Step], f: impl Fn(&What) -> bool) -> Option<usize> {
    steps.iter().position(|s| f(&s.event.what))
}

fn ended(steps: &[Step], pid: u32) -> Option<Status> {
    steps.iter().find_map(|s| match s.event.what {
        What::Ended { status, .. } if s.event.pid == pid => Some(status),
        _ => None,
    })
}

/// The id of the first task born as `birth` says (a forked child's pid,
/// a thread's tid); panics if none was.
fn born(steps: &[Step], birth: Birth) -> u32 {
    steps
        .iter()
        .find_map(|s| match s.event.what {
            What::Task { child, birth: b } if b == birth => Some(child),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a {birth:?} event"))
}

/// The interpreter of an ELF file (PT_INTERP), by the one ELF reader.
fn interpreter(path: &str) -> Option<String> {
    procfs::elf::Elf::interpreter(Path::new(path)).unwrap()
}

fn canonical(p: &str) -> String {
    std::fs::canonicalize(p)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| p.to_string())
}

#[test]
fn bin_true_is_built_by_the_kernel_then_by_ld_so() {
    let steps = record(&["/bin/true"]);
    let exec = &steps[0];
    let What::Exec { loader, entry, .. } = &exec.event.what else {
        panic!("first event {:?}", exec.event.what)
    };
    assert!(*loader && *entry != 0);
    let interp = canonical(&interpreter("/bin/true").expect("/bin/true has PT_INTERP"));
    assert!(
        exec.maps.iter().any(|m| m.path == interp),
        "the exec stop has {interp}'s lines: {:#?}",
        exec.maps
    );
    assert!(exec.maps.iter().all(|m| !m.path.contains("libc.so")));
    assert!(maps::find(&exec.maps, "[stack]").is_some());
    assert!(maps::find(&exec.maps, "[vdso]").is_some());
    let calls = calls(&steps);
    assert!(
        calls.iter().any(|c| c.kind == Kind::Mmap
            && c.fd_path
                .as_deref()
                .is_some_and(|p| p.contains("libc.so.6"))),
        "an mmap of libc.so.6: {calls:#?}"
    );
    let relro = steps.iter().any(|s| match &s.event.what {
        What::Call(c) if c.kind == Kind::Mprotect && c.args[2] == 1 => s
            .maps
            .iter()
            .any(|m| m.start == c.args[0] && m.perms == "r--p"),
        _ => false,
    });
    assert!(
        relro,
        "an mprotect to PROT_READ whose range reads r--p afterwards"
    );
    assert!(calls.iter().any(|c| c.kind == Kind::ArchPrctl));
    let entry_at = position(&steps, |w| matches!(w, What::Entry { .. })).expect("entry");
    let exit_at = position(&steps, |w| matches!(w, What::Exit { .. })).expect("exit");
    assert!(entry_at < exit_at);
    // After the entry point only libc can call (ld.so's work is done).
    assert_eq!(ended(&steps, exec.event.pid), Some(Status::Exited(0)));
    eprintln!("/bin/true: {} events, {} calls", steps.len(), calls.len());
}

fn demo(name: &str) -> Option<PathBuf> {
    Some(procfs::cbuild::release_demo(name))
}

#[test]
fn our_stop_demo_stops_itself_under_the_tracer_and_maps_nothing() {
    let bin = demo("stop").unwrap();
    let steps = record(&[bin.to_str().unwrap(), "-q"]);
    assert!(matches!(
        steps[0].event.what,
        What::Exec { loader: false, .. }
    ));
    assert!(matches!(steps[1].event.what, What::Entry { .. }));
    assert!(calls(&steps).is_empty(), "no address-space call");
    let stopped = position(&steps, |w| *w == What::Stopped(19)).expect("its own SIGSTOP");
    let exit = position(&steps, |w| matches!(w, What::Exit { .. })).expect("exit");
    assert!(stopped < exit);
    assert_eq!(ended(&steps, steps[0].event.pid), Some(Status::Exited(0)));
    // The SIGCONT that ended the stop was delivered to it, and reported.
    assert!(position(&steps, |w| *w == What::Signal(18)).is_some());
}

#[test]
fn our_mmap_demo_makes_exactly_its_own_calls() {
    let bin = demo("mmap").unwrap();
    let steps = record(&[bin.to_str().unwrap(), "-q"]);
    let names: Vec<&str> = calls(&steps).iter().map(|c| c.name).collect();
    // The module doc of crates/mmap: 512 MiB, 512 KiB, unmap the first.
    assert_eq!(names, ["mmap", "mmap", "munmap"]);
    let c = calls(&steps);
    assert_eq!(c[0].args[1], 512 << 20);
    assert_eq!(c[2].args[0], c[0].ret.unwrap() as u64);
    // Each call between two of the demo's own stops.
    let stops: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.event.what == What::Stopped(19))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stops.len(), 4);
    assert_eq!(ended(&steps, steps[0].event.pid), Some(Status::Exited(0)));
}

#[test]
fn errors_say_what_a_shell_says() {
    let start = |a: &[&str]| {
        let argv: Vec<OsString> = a.iter().map(OsString::from).collect();
        trace::Trace::start(&argv, Spawn::default()).err()
    };
    let e = start(&["no-such-command-anywhere"]).unwrap();
    assert_eq!(e.exit_code(), 127, "{e}");
    let e = start(&["/etc/passwd"]).unwrap();
    assert_eq!(e.exit_code(), 126, "{e}");
    // A setuid copy of /bin/true is refused, not traced without its rights.
    let dir = std::env::temp_dir().join(format!("trace-setuid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("true");
    std::fs::copy("/bin/true", &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let e = start(&[copy.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let e = e.unwrap();
    assert!(matches!(e, StartError::SetId(_)), "{e}");
    assert_eq!(e.exit_code(), 1);
}

fn c_program(name: &str) -> Option<(PathBuf, TempDir)> {
    procfs::cbuild::c_program(&procfs::cbuild::test_program(name))
}

#[test]
fn a_program_killed_by_a_signal() {
    let Some((bin, _dir)) = c_program("abort") else {
        return;
    };
    let steps = record(&[bin.to_str().unwrap()]);
    let pid = steps[0].event.pid;
    assert!(position(&steps, |w| *w == What::Signal(6)).is_some());
    let exit = steps
        .iter()
        .find(|s| matches!(s.event.what, What::Exit { call: None }))
        .expect("an exit stop without exit_group");
    assert!(!exit.maps.is_empty(), "the layout at death");
    assert_eq!(ended(&steps, pid), Some(Status::Killed(6)));
    procfs::cbuild::assert_none_runs(&bin);
}

#[test]
fn a_program_that_forks() {
    let Some((bin, _dir)) = c_program("forks") else {
        return;
    };
    let steps = record(&[bin.to_str().unwrap()]);
    let parent = steps[0].event.pid;
    let child = born(&steps, Birth::Fork);
    assert_ne!(child, parent);
    let child_mmap = steps.iter().any(|s| {
        s.event.pid == child
            && matches!(&s.event.what, What::Call(c) if c.kind == Kind::Mmap && c.args[1] == 65536)
    });
    assert!(child_mmap, "the child's mmap, labelled with its pid");
    assert_eq!(ended(&steps, child), Some(Status::Exited(3)));
    assert_eq!(ended(&steps, parent), Some(Status::Exited(0)));
    procfs::cbuild::assert_none_runs(&bin);
}

#[test]
fn a_program_with_two_threads() {
    let Some((bin, _dir)) = c_program("threads") else {
        return;
    };
    let steps = record(&[bin.to_str().unwrap()]);
    let pid = steps[0].event.pid;
    let thread = born(&steps, Birth::Thread);
    assert_ne!(thread, pid);
    // The thread's calls are in the same process (shared address space).
    let from_thread: Vec<_> = steps.iter().filter(|s| s.event.tid == thread).collect();
    assert!(from_thread.iter().all(|s| s.event.pid == pid));
    assert!(
        from_thread
            .iter()
            .any(|s| matches!(&s.event.what, What::Call(_))),
        "malloc in a new thread makes an arena"
    );
    // The thread's stack: mmap'd by pthread_create with a guard page.
    assert!(steps.iter().any(
        |s| matches!(&s.event.what, What::Call(c) if c.kind == Kind::Mprotect && c.args[2] == 0)
            || s.maps.iter().any(|m| m.perms == "---p" && m.anonymous())
    ));
    assert_eq!(ended(&steps, pid), Some(Status::Exited(0)));
    procfs::cbuild::assert_none_runs(&bin);
}

#[test]
fn an_i386_program_is_decoded_with_the_i386_table() {
    let Some((bin, _dir)) = procfs::cbuild::c_program_with(
        &procfs::cbuild::test_program("i386"),
        &["-m32", "-nostdlib", "-static", "-O"],
    ) else {
        return;
    };
    let steps = record(&[bin.to_str().unwrap()]);
    let c = calls(&steps);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].arch, procfs::syscalls::AUDIT_ARCH_I386);
    assert_eq!((c[0].name, c[0].nr), ("mmap2", 192));
    let addr = c[0].ret.unwrap() as u64;
    assert!(addr < 1 << 32, "a 32-bit address: {addr:#x}");
    let after = steps
        .iter()
        .find(|s| matches!(s.event.what, What::Call(_)))
        .unwrap();
    assert!(
        after
            .maps
            .iter()
            .any(|m| m.start == addr && m.perms == "rw-p")
    );
    let exit = steps.iter().find_map(|s| match &s.event.what {
        What::Exit { call: Some(c) } => Some(c.name),
        _ => None,
    });
    assert_eq!(
        exit,
        Some("exit_group"),
        "i386 number 252, not x86-64's 231"
    );
    // The ELF reader reads its 32-bit program headers.
    let elf = procfs::elf::Elf::read(&bin).unwrap();
    assert!(elf.segments(procfs::elf::PT_LOAD).count() >= 2);
    assert_eq!(elf.entry & !0xfff_ffff, 0, "{:#x}", elf.entry);
    assert_eq!(ended(&steps, steps[0].event.pid), Some(Status::Exited(0)));
}
