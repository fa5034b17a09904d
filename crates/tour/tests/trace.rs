//! `cargo tour --trace -- CMD` on real programs: /bin/true, our demos,
//! C programs built here (killed by a signal, forking, threaded), the
//! errors, and the tour killed mid-trace.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use procfs::cbuild::{c_program, release_demo, test_program};

mod common;
use common::{Live, TOUR, Temp, assert_gone, assert_usage_error, succeeded, text, tour, tour_cmd};

fn trace(args: &[&str]) -> Output {
    tour(&[&["--trace"][..], args].concat())
}

/// Builds the C test program `name`, traces it, checks the trace's exit
/// status and that nothing of it runs on after `check` has read the
/// trace's stdout. None (skipped) where there is no cc.
fn trace_c_program(name: &str, status: i32, check: impl FnOnce(&str)) {
    let Some((bin, _dir)) = c_program(&test_program(name)) else {
        return;
    };
    let o = trace(&["--", bin.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(status), "{out}");
    check(&out);
    procfs::cbuild::assert_none_runs(&bin);
}

/// The output cut at each step heading; entry 0 is the command line.
fn steps(out: &str) -> Vec<&str> {
    out.split("\n-- ").collect()
}

fn kinds(out: &str) -> Vec<&str> {
    steps(out)[1..]
        .iter()
        .map(|s| s.split([',', ' ']).next().unwrap())
        .collect()
}

fn summary(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("== trace: "))
        .expect("summary")
}

#[test]
fn bin_true_exec_then_ld_so_then_entry_then_exit() {
    let o = trace(&["--", "/bin/true"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let s = steps(&out);
    assert!(s[1].starts_with("exec, pid "), "{}", s[1]);
    let interp = procfs::elf::Elf::interpreter(Path::new("/bin/true"))
        .unwrap()
        .unwrap();
    let interp = std::fs::canonicalize(interp).unwrap();
    let base = interp.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        s[1].lines().any(|l| l.contains(&base)
            && l.contains("kernel")
            && l.contains("the dynamic linker: PT_LOAD")),
        "the exec stop has the interpreter's lines:\n{}",
        s[1]
    );
    assert!(!s[1].contains("libc.so"), "{}", s[1]);
    assert!(
        s.iter().any(|c| c.starts_with("call ")
            && c.contains("ld.so: mmap(")
            && c.contains("libc.so.6>")),
        "ld.so maps libc.so.6"
    );
    let relro = s
        .iter()
        .find(|c| c.starts_with("call ") && c.contains("mprotect(") && c.contains("PROT_READ)"));
    let relro = relro.expect("an mprotect to PROT_READ");
    assert!(
        relro.contains("rw-p -> r--p") && relro.contains("RELRO"),
        "{relro}"
    );
    assert!(
        s.iter()
            .any(|c| c.contains("ld.so.cache") && c.lines().any(|l| l.starts_with("- ")))
    );
    assert!(s.iter().any(|c| c.contains("TLS + TCB")));
    let k = kinds(&out);
    let entry = k.iter().position(|&k| k == "entry").expect("entry");
    let exit = k.iter().position(|&k| k == "exit").expect("exit");
    assert!(entry < exit && exit == k.len() - 1, "{k:?}");
    assert!(s[entry + 1].contains("int3"), "{}", s[entry + 1]);
    assert!(summary(&out).contains(": exited 0; "), "{}", summary(&out));
    // What ld.so does, not the environment cargo added.
    assert!(!out.contains("/target/"), "cargo's LD_LIBRARY_PATH leaked");
}

#[test]
fn our_stop_demo_has_no_address_space_call() {
    let bin = release_demo("stop");
    let o = trace(&["--", bin.to_str().unwrap(), "-q"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(kinds(&out), ["exec", "entry", "stop", "exit"], "{out}");
    assert!(out.contains("no interpreter"), "{out}");
    assert!(out.contains("it stopped itself (SIGSTOP (19)"), "{out}");
    assert!(
        summary(&out).contains("0 changed the address space"),
        "{out}"
    );
}

#[test]
fn our_mmap_demo_shows_exactly_its_calls() {
    let bin = release_demo("mmap");
    let o = trace(&["--steps", "call", "--", bin.to_str().unwrap(), "-q"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let calls: Vec<&str> = steps(&out)[1..]
        .iter()
        .map(|s| s.lines().next().unwrap())
        .collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls[0].contains("program: mmap(NULL, 536870912, PROT_READ|PROT_WRITE"),
        "{calls:?}"
    );
    assert!(
        calls[1].contains("program: mmap(NULL, 524288,"),
        "{calls:?}"
    );
    assert!(calls[2].contains("program: munmap("), "{calls:?}");
    // The 512 MiB are gone: a line of its own, or (merged with the
    // 512 KiB below it, see crates/mmap) the merged line shrinks.
    assert!(
        steps(&out)[3]
            .lines()
            .any(|l| (l.starts_with("- ") && l.contains("512 MiB"))
                || (l.starts_with("~ ") && l.contains("-512 MiB"))),
        "{out}"
    );
}

#[test]
fn steps_limit_what_is_shown() {
    let o = trace(&["--steps", "exec,entry,exit", "--", "/bin/true"]);
    let (out, _) = text(&o);
    assert_eq!(kinds(&out), ["exec", "entry", "exit"]);
    let o = trace(&["--steps", "exec,nonsense", "--", "/bin/true"]);
    assert_usage_error(&o, "unknown step 'nonsense'");
}

#[test]
fn errors_exit_as_a_shell_would() {
    let o = trace(&["--", "no-such-command-anywhere"]);
    assert_eq!(o.status.code(), Some(127));
    let (_, err) = text(&o);
    assert!(
        err.starts_with("tour: --trace: no-such-command-anywhere: command not found"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let o = trace(&["--", "/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", text(&o).1);
    let o = trace(&[]);
    assert_usage_error(&o, "--trace needs a command");
}

#[test]
fn a_setuid_program_is_refused() {
    let dir = Temp::new("setuid");
    std::fs::create_dir_all(&dir.0).unwrap();
    let copy = dir.0.join("true");
    std::fs::copy("/bin/true", &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let o = trace(&["--", copy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let (out, err) = text(&o);
    assert!(
        err.contains("set-user-ID") && err.contains("not traced"),
        "{err}"
    );
    assert!(!out.contains("-- exec"), "{out}");
}

#[test]
fn a_program_killed_by_a_signal_is_reported() {
    trace_c_program("abort", 128 + 6, |out| {
        assert!(out.contains("signal SIGABRT (6) delivered"), "{out}");
        assert!(
            out.contains("aborting"),
            "the program's stdout is ours: {out}"
        );
        let last = *steps(out).last().unwrap();
        assert!(
            last.starts_with("exit, ") && last.contains("dying (no exit_group"),
            "{last}"
        );
        assert!(summary(out).contains("killed by SIGABRT (6)"));
    });
}

#[test]
fn a_forked_child_is_followed_and_labelled() {
    trace_c_program("forks", 0, |out| {
        let child = id_after(out, ": fork ");
        let call = steps(out)
            .into_iter()
            .find(|s| s.contains(&format!("pid {child} (forked), libc: mmap(NULL, 65536")))
            .unwrap_or_else(|| panic!("the child's mmap: {out}"));
        // Only the new line: the child's copy of the parent's layout is known.
        assert_eq!(
            call.lines().filter(|l| l.starts_with("+ ")).count(),
            1,
            "{call}"
        );
        assert!(
            out.contains(&format!("pid {child} (forked): exited 3")),
            "{out}"
        );
    });
}

#[test]
fn a_second_thread_is_followed() {
    trace_c_program("threads", 0, |out| {
        let tid = id_after(out, ": thread ");
        assert!(
            out.contains("a thread's stack (pthread_create), with a guard page below it"),
            "{out}"
        );
        assert!(out.contains("guard page, PROT_NONE"), "{out}");
        assert!(
            steps(out)
                .iter()
                .any(|s| s.contains(&format!("thread {tid}, libc: mmap("))
                    && s.contains("malloc arena")),
            "the thread's malloc makes an arena: {out}"
        );
    });
}

/// The pid or tid the trace printed after `marker` (`: fork 4242:`), in
/// the first line that has it.
fn id_after<'a>(out: &'a str, marker: &str) -> &'a str {
    let line = out
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no {marker:?} line: {out}"));
    line.split(marker)
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
}

impl Live {
    fn start(args: &[&str]) -> Live {
        let mut cmd = Command::new(TOUR);
        cmd.arg("--trace").args(args).env("NO_COLOR", "1");
        Live::spawn(cmd)
    }
}

fn killed_mid_trace(sig: i32, pause: bool) {
    // `; exit`: sh forks sleep (a second traced process) instead of
    // becoming it; the second exec is sleep's.
    let mut args = vec!["--", "sh", "-c", "sleep 100; exit"];
    if pause {
        args.insert(0, "--pause");
    }
    let mut live = Live::start(&args);
    let sh: u32 = live
        .until("-- exec, pid ")
        .split("pid ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut sleep = None;
    if pause {
        live.until("paused: pid");
    } else {
        // dash starts sleep with vfork, other shells with fork.
        let fork = live.until("fork ");
        sleep = fork
            .split("fork ")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .parse()
            .ok();
        assert!(sleep.is_some(), "{fork}");
        live.until("-- exec, pid ");
    }
    assert_eq!(procfs::child::raw_kill(live.child.id() as i32, sig), 0);
    let status = live.child.wait().unwrap();
    assert!(!status.success(), "signal {sig}: {status}");
    assert_gone(sh, "the traced sh");
    if let Some(s) = sleep {
        assert_gone(s, "its sleep");
    }
}

#[test]
fn sigkill_mid_trace_leaves_nothing() {
    killed_mid_trace(procfs::child::SIGKILL, false);
}

#[test]
fn sigterm_mid_trace_leaves_nothing() {
    killed_mid_trace(procfs::child::SIGTERM, false);
}

#[test]
fn sigint_mid_trace_leaves_nothing() {
    killed_mid_trace(2, false);
}

#[test]
fn sighup_mid_trace_leaves_nothing() {
    killed_mid_trace(1, false);
}

#[test]
fn sigkill_while_paused_in_a_trace_leaves_nothing() {
    killed_mid_trace(procfs::child::SIGKILL, true);
}

#[test]
fn a_trace_that_hangs_meets_the_time_limit() {
    let o = tour_cmd(&["--trace", "--", "sleep", "100"])
        .env("TOUR_TIMEOUT", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(summary(&out).contains("within 1 s: killed"), "{out}");
}

#[test]
fn a_saved_trace_replays_as_it_was_shown() {
    let dir = Temp::new("trace-save");
    let o = trace(&["--save", dir.arg(), "--", "/bin/true"]);
    let (live, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{live}");
    assert!(dir.0.join("true/1/maps").is_file(), "the exec step's maps");
    let (replayed, _) = succeeded(&tour(&["--replay", dir.arg()]));
    assert!(
        replayed.starts_with(&live),
        "live:\n{live}\nreplayed:\n{replayed}"
    );
}

/// The cells of the table row that starts with `label`.
fn row<'a>(out: &'a str, label: &str) -> Vec<&'a str> {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("| {label}")))
        .unwrap_or_else(|| panic!("no row {label}: {out}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

/// `--compare LESSON`'s output; it must succeed.
fn compare(lesson: &str) -> String {
    let (out, _) = succeeded(&tour(&["--compare", lesson]));
    out
}

#[test]
fn compare_stop_fills_every_column() {
    let out = compare("stop");
    let ours = row(&out, "ours");
    assert_eq!(ours.len(), 9, "{ours:?}");
    let file = std::fs::metadata(release_demo("stop")).unwrap().len();
    assert_eq!(ours[1], format!("{file} B"));
    // [stack], [vvar], [vvar_vclock] or not, [vdso], [vsyscall] or not,
    // and the program's three lines.
    let lines: usize = ours[2].parse().unwrap();
    assert!((6..=9).contains(&lines), "{ours:?}");
    assert_eq!(ours[3], "0", "no address-space call before its stop");
    // execve, getpid, kill, exit (crates/stop's module doc).
    assert_eq!(ours[4], "4");
    assert!(ours[5].parse::<u64>().unwrap() > 0);
    assert!(ours[6].ends_with("KiB"), "{ours:?}");
    assert!(ours[7].ends_with(" ms"));
    assert_eq!(ours[8], "1.0");
    if procfs::testing::tool("cc").is_none() {
        return;
    }
    let c = row(&out, "C, glibc dynamic");
    assert_eq!(c.len(), 9, "{c:?}");
    let c_lines: usize = c[2].parse().unwrap();
    assert!(c_lines > lines, "libc and ld.so add lines: {c:?}");
    assert!(c[3].parse::<u32>().unwrap() > 0, "ld.so maps libc: {c:?}");
    assert!(c[4].parse::<u32>().unwrap() > 4);
    let c_static = row(&out, "C, glibc static");
    assert!(
        c_static.len() == 9 || c_static[1].starts_with("missing: "),
        "{c_static:?}"
    );
    let rust = row(&out, "Rust with std");
    assert!(
        rust.len() == 9 || rust[1].starts_with("missing: "),
        "{rust:?}"
    );
}

#[test]
fn compare_brk_and_mmap_count_the_lessons_calls() {
    // execve, getpid + kill at each stop, the lesson's calls, exit
    // (the module docs of crates/brk and crates/mmap).
    for (lesson, syscalls) in [("brk", 1 + 2 * 3 + 2 * 2 + 1), ("mmap", 1 + 2 * 4 + 3 + 1)] {
        let out = compare(lesson);
        let ours = row(&out, "ours");
        assert_eq!(ours[4], syscalls.to_string(), "{lesson}: {ours:?}");
        assert_eq!(ours[3], "0", "{lesson}: {ours:?}");
        if procfs::testing::tool("cc").is_some() {
            let c = row(&out, "C, glibc dynamic");
            assert!(c[4].parse::<usize>().unwrap() > syscalls, "{lesson}: {c:?}");
        }
    }
}

#[test]
fn compare_knows_its_lessons() {
    let o = tour(&["--compare", "vdso"]);
    assert_usage_error(&o, "no comparison programs for 'vdso'");
}

#[test]
fn a_trace_becomes_slides_with_html_and_svg() {
    let dir = Temp::new("trace-html");
    std::fs::create_dir_all(&dir.0).unwrap();
    let page = dir.0.join("trace.html");
    let pictures = dir.0.join("svg");
    let save = dir.0.join("saved");
    let o = trace(&[
        "--steps",
        "exec,entry,exit",
        "--save",
        save.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--svg",
        pictures.to_str().unwrap(),
        "--",
        "/bin/true",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("what execve built for /usr/bin/true"),
        "the exec step"
    );
    assert!(html.contains("the loader is done"), "the entry step");
    assert!(html.contains("exit_group(0)"), "the exit step");
    // Every line of the exec step's maps, as saved, is on the page.
    let exec_maps = std::fs::read_to_string(save.join("true/1/maps")).unwrap();
    for line in exec_maps.lines() {
        let range = line.split(' ').next().unwrap();
        assert!(html.contains(range), "{range} not in the page");
    }
    // One picture per step shown, none for the calls left out.
    let svgs = std::fs::read_dir(&pictures).unwrap().count();
    assert_eq!(svgs, 3);
}

unsafe extern "C" {
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
}

/// `struct sock_filter` (`include/uapi/linux/filter.h`).
#[repr(C)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

#[test]
fn ptrace_refused_is_one_line_and_exit_1() {
    // A seccomp filter that makes ptrace(2) fail with EPERM, as a
    // sandbox would (`seccomp(2)`, `include/uapi/linux/bpf_common.h`).
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JEQ_K: u16 = 0x15;
    const BPF_RET_K: u16 = 0x06;
    const NR_PTRACE: u32 = 101;
    const SECCOMP_RET_ERRNO_EPERM: u32 = 0x0005_0000 | 1;
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    const PR_SET_NO_NEW_PRIVS: i32 = 38;
    const PR_SET_SECCOMP: i32 = 22;
    const SECCOMP_MODE_FILTER: u64 = 2;
    let op = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    // seccomp_data.nr is at offset 0.
    let filter = [
        op(BPF_LD_W_ABS, 0, 0, 0),
        op(BPF_JEQ_K, 0, 1, NR_PTRACE),
        op(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO_EPERM),
        op(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ];
    let prog = SockFprog {
        len: filter.len() as u16,
        filter: filter.as_ptr(),
    };
    let prog_addr = &prog as *const SockFprog as u64;
    let mut cmd = Command::new(TOUR);
    cmd.args(["--trace", "--", "/bin/true"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec, two prctl calls; `prog` and `filter`
    // live until the child has exec'd (output() waits for it).
    unsafe {
        cmd.pre_exec(move || {
            if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog_addr, 0, 0) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tour: --trace: ptrace refused"), "{err}");
    assert!(!out.contains("-- exec"), "{out}");
}
