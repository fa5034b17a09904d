//! Helpers for the tests of the demos: run the real binary through all
//! its stops and collect what /proc showed at each.

use crate::child::{Demo, Event, SIGSTOP, Spawn};
use crate::elf::{self, Elf};
use crate::maps::{self, Mapping};
use crate::stat::{self, Stat};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a demo may take to reach its next stop or exit. Generous: a
/// loaded CI machine is slow; a demo that hangs still fails the test.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// What /proc showed at one stop.
#[derive(Clone, Debug)]
pub struct Stop {
    pub maps: Vec<Mapping>,
    pub stat: Stat,
    pub auxv: Vec<(u64, u64)>,
}

impl Stop {
    pub fn find(&self, name: &str) -> Option<&Mapping> {
        maps::find(&self.maps, name)
    }
    pub fn containing(&self, addr: u64) -> Option<&Mapping> {
        maps::containing(&self.maps, addr)
    }
    /// The lines without a name and with no file: anonymous mmap memory.
    pub fn anonymous(&self) -> Vec<&Mapping> {
        self.maps
            .iter()
            .filter(|m| m.path.is_empty() && m.anonymous())
            .collect()
    }
}

/// A finished run: one [`Stop`] per SIGSTOP, then how it ended.
#[derive(Debug)]
pub struct Walk {
    pub pid: u32,
    pub stops: Vec<Stop>,
    pub end: Event,
    pub stdout: String,
    pub stderr: String,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Starts `cmd` with stdout and stderr captured, stdin closed.
pub fn spawn(cmd: Command) -> (Demo, JoinHandle<String>, JoinHandle<String>) {
    spawn_how(cmd, Spawn::default())
}

/// [`spawn`] with a personality (`--3gb`, no ASLR).
pub fn spawn_how(mut cmd: Command, how: Spawn) -> (Demo, JoinHandle<String>, JoinHandle<String>) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut demo = Demo::spawn(cmd, how).expect("start the demo");
    let out = drain(demo.child.stdout.take());
    let err = drain(demo.child.stderr.take());
    (demo, out, err)
}

/// Runs `cmd` to the end: at each stop, reads maps, stat and auxv, then
/// sends SIGCONT. Panics if a step takes longer than [`STEP_TIMEOUT`].
pub fn walk(cmd: Command) -> Walk {
    walk_with(cmd, |_, _| {})
}

/// [`walk`], calling `at_stop(number, &demo)` at each stop (from 0) before
/// the demo is continued.
pub fn walk_with(cmd: Command, at_stop: impl FnMut(usize, &Demo)) -> Walk {
    walk_how(cmd, Spawn::default(), at_stop)
}

/// [`walk_with`], the demo started as `how` says.
pub fn walk_how(cmd: Command, how: Spawn, mut at_stop: impl FnMut(usize, &Demo)) -> Walk {
    let (mut demo, out, err) = spawn_how(cmd, how);
    let mut stops = Vec::new();
    let end = loop {
        match demo.wait(STEP_TIMEOUT) {
            Some(Event::Stopped(SIGSTOP)) => {
                let pid = demo.pid;
                stops.push(Stop {
                    maps: maps::read(pid).expect("read maps at a stop"),
                    stat: stat::read(pid).expect("read stat at a stop"),
                    auxv: stat::read_auxv(pid).expect("read auxv at a stop"),
                });
                assert_eq!(
                    stops.last().unwrap().stat.state,
                    'T',
                    "stopped, as stat says"
                );
                at_stop(stops.len() - 1, &demo);
                demo.cont().expect("SIGCONT");
            }
            Some(Event::Stopped(sig)) => panic!("stopped by unexpected signal {sig}"),
            Some(end) => break end,
            None => panic!("no stop or exit within {STEP_TIMEOUT:?}"),
        }
    };
    let pid = demo.pid;
    drop(demo);
    Walk {
        pid,
        stops,
        end,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// `Command::new(bin).args(args)`.
pub fn command(bin: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    cmd
}

/// Runs `bin args` to its end and checks it exits 0 after exactly
/// `stops` stops.
pub fn walk_ok(bin: &str, args: &[&str], stops: usize) -> Walk {
    let w = walk(command(bin, args));
    assert_eq!(
        w.end,
        Event::Exited(0),
        "{bin} {args:?} ended badly; stderr:\n{}",
        w.stderr
    );
    assert_eq!(
        w.stops.len(),
        stops,
        "{bin} {args:?}: number of stops; stderr:\n{}",
        w.stderr
    );
    w
}

/// [`walk_ok`] of a run with `-q` among `args`: no narration at all, so
/// stderr must be empty; what stdout holds is the caller's to check.
pub fn walk_quiet(bin: &str, args: &[&str], stops: usize) -> Walk {
    assert!(args.contains(&"-q"), "walk_quiet wants -q among {args:?}");
    let w = walk_ok(bin, args, stops);
    assert_eq!(w.stderr, "", "{bin} {args:?}: -q leaves stderr empty");
    w
}

/// Runs `bin args` (which must not stop) and returns status, stdout, stderr.
pub fn run(bin: &str, args: &[&str]) -> (Event, String, String) {
    let w = walk(command(bin, args));
    assert!(w.stops.is_empty(), "{bin} {args:?} stopped unexpectedly");
    (w.end, w.stdout, w.stderr)
}

/// Checks that the narration of `w` (its stderr) says each of `texts`.
pub fn assert_narrated(w: &Walk, texts: &[impl AsRef<str>]) {
    for text in texts.iter().map(AsRef::as_ref) {
        assert!(w.stderr.contains(text), "{text:?} in {}", w.stderr);
    }
}

/// Checks a run that a refused syscall ended: status 1 after `stops`
/// stops, and on stderr exactly `stderr`, the one line that names the
/// call and its errno (`mmap failed: ENOMEM\n`).
pub fn assert_failed(w: &Walk, stops: usize, stderr: &str) {
    assert_eq!(w.end, Event::Exited(1), "exit status; stderr: {}", w.stderr);
    assert_eq!(
        w.stops.len(),
        stops,
        "stops before the call failed; stderr: {}",
        w.stderr
    );
    assert_eq!(w.stderr, stderr, "the failed call and its errno");
}

/// Checks a usage error: status 2, one line naming the problem, then the
/// usage line; nothing on stdout.
pub fn assert_usage_error(bin: &str, args: &[&str], names: &str) {
    let (end, out, err) = run(bin, args);
    assert_eq!(end, Event::Exited(2), "{bin} {args:?}: stderr {err:?}");
    assert_eq!(out, "", "{bin} {args:?} wrote to stdout");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{bin} {args:?}: {err:?}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(names),
        "{err:?}"
    );
    assert!(lines[1].starts_with("usage: "), "{err:?}");
}

/// Checks `bin --help`, `bin -h` and `bin -q --help`: status 0, no stop
/// ([`run`] fails on one), the usage on stdout (starting `usage: NAME
/// [-q]`, NAME the binary's file name), nothing on stderr.
pub fn assert_help(bin: &str) {
    let name = Path::new(bin).file_name().unwrap().to_string_lossy();
    for args in [&["--help"][..], &["-h"], &["-q", "--help"]] {
        let (end, out, err) = run(bin, args);
        assert_eq!(end, Event::Exited(0), "{bin} {args:?}: {err}");
        assert!(
            out.starts_with(&format!("usage: {name} [-q]")),
            "{args:?}: {out:?}"
        );
        assert_eq!(err, "", "{bin} {args:?}: nothing on stderr");
    }
}

/// The program's own mappings (those backed by `bin`).
pub fn program_mappings<'a>(stop: &'a Stop, bin: &str) -> Vec<&'a Mapping> {
    let bin = std::fs::canonicalize(bin).expect("the demo binary");
    stop.maps
        .iter()
        .filter(|m| Path::new(&m.path) == bin)
        .collect()
}

/// Checks that the program's own lines in `maps` are its PT_LOAD segments:
/// one line per segment, at the segment's page, with its permissions
/// (`load_offset` is 0 but for a PIE). Returns the program's mappings.
pub fn assert_maps_match_elf<'a>(
    maps: &'a [Mapping],
    bin: &str,
    load_offset: u64,
) -> Vec<&'a Mapping> {
    let elf = Elf::read(Path::new(bin)).unwrap();
    let path = std::fs::canonicalize(bin).unwrap();
    let program: Vec<&Mapping> = maps.iter().filter(|m| Path::new(&m.path) == path).collect();
    let loads: Vec<_> = elf.segments(elf::PT_LOAD).collect();
    assert_eq!(
        program.len(),
        loads.len(),
        "{bin}: one mapping per PT_LOAD: {program:#?}"
    );
    for (m, p) in program.iter().zip(&loads) {
        let perm = |bit, c| if p.flags & bit != 0 { c } else { '-' };
        let perms = format!(
            "{}{}{}p",
            perm(elf::PF_R, 'r'),
            perm(elf::PF_W, 'w'),
            perm(elf::PF_X, 'x')
        );
        assert_eq!(m.perms, perms, "{bin}: segment at {:#x}", p.vaddr);
        assert_eq!(
            m.start,
            (p.vaddr + load_offset) & !0xfff,
            "{bin}: segment address"
        );
    }
    program
}

/// Checks how a non-PIE demo was linked: ET_EXEC at 0x400000, no
/// interpreter, nothing dynamic, no PT_LOAD both writable and executable,
/// a non-executable stack.
pub fn assert_static_exec(bin: &str) -> Elf {
    let elf = Elf::read(Path::new(bin)).unwrap();
    assert_eq!(elf.kind, elf::ET_EXEC, "{bin}: ET_EXEC");
    assert_eq!(
        elf.segments(elf::PT_INTERP).count(),
        0,
        "{bin}: no PT_INTERP"
    );
    assert_eq!(
        elf.segments(elf::PT_DYNAMIC).count(),
        0,
        "{bin}: no PT_DYNAMIC"
    );
    assert_w_xor_x(bin, &elf);
    let first = elf.segments(elf::PT_LOAD).next().expect("a PT_LOAD");
    assert_eq!(first.vaddr, 0x40_0000, "{bin}: loaded at 0x400000");
    elf
}

/// No PT_LOAD is W and X; PT_GNU_STACK is there and RW.
pub fn assert_w_xor_x(bin: &str, elf: &Elf) {
    for p in elf.segments(elf::PT_LOAD) {
        assert!(
            p.flags & (elf::PF_W | elf::PF_X) != elf::PF_W | elf::PF_X,
            "{bin}: RWX segment at {:#x}",
            p.vaddr
        );
    }
    let stack: Vec<_> = elf.segments(elf::PT_GNU_STACK).collect();
    assert_eq!(stack.len(), 1, "{bin}: one PT_GNU_STACK");
    assert_eq!(
        stack[0].flags,
        elf::PF_R | elf::PF_W,
        "{bin}: PT_GNU_STACK is RW"
    );
}

unsafe extern "C" {
    fn ptrace(request: i32, ...) -> i64;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
}
/// `include/uapi/linux/ptrace.h`.
const PTRACE_TRACEME: i32 = 0;
/// `include/uapi/linux/prctl.h`.
const PR_SET_PDEATHSIG: i32 = 1;
/// `waitpid(2)`: report a stopped child too, not only a ptrace stop.
const WUNTRACED: i32 = 2;
/// The signal a traced program stops with after its execve (ptrace(2)).
const SIGTRAP: i32 = 5;

/// Starts `cmd` under ptrace (PTRACE_TRACEME; PR_SET_PDEATHSIG, so that
/// it dies with the test's thread should the test fail half-way) and
/// waits for its stop after execve, before its first instruction.
pub fn spawn_traced(mut cmd: Command) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only prctl and ptrace are called,
    // both async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(|| {
            prctl(PR_SET_PDEATHSIG, crate::child::SIGKILL as u64, 0, 0, 0);
            ptrace(PTRACE_TRACEME, 0, 0usize, 0usize);
            Ok(())
        });
    }
    let child = cmd.spawn().expect("start the traced program");
    wait_stopped(child.id() as i32, SIGTRAP);
    child
}

/// `waitpid(pid)`, which must report a stop (a ptrace stop or its own
/// SIGSTOP) by `signal`.
pub fn wait_stopped(pid: i32, signal: i32) {
    let mut status = 0;
    // SAFETY: waitpid writes one int into `status`.
    assert_eq!(unsafe { waitpid(pid, &mut status, WUNTRACED) }, pid);
    assert_eq!((status & 0xff, status >> 8), (0x7f, signal), "{status:#x}");
}

/// A tool the test needs (strace, gdb, setpriv). Missing: under `CI=true`
/// the test fails (CI installs it); elsewhere it is skipped, loudly.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed, and CI=true: .ci/run must install it");
        }
        eprintln!("SKIPPED: {name} is not installed; install it to run this test");
    }
    found
}

/// The syscall names of `bin args` under `strace -qq`, in order. When
/// the demo stops itself (a ptrace stop, state `t`), it is continued.
///
/// Only the demo is continued, never strace's child before its execve:
/// that child stops itself until strace has attached, and a SIGCONT then
/// would let it run, untraced, to the end (an empty log).
pub fn strace_names(strace: &Path, bin: &str, args: &[&str]) -> Vec<String> {
    strace_lines(strace, &[], bin, args)
        .0
        .iter()
        .filter(|l| is_a_call(l))
        .filter_map(|l| {
            let name = l.split('(').next()?;
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_string())
        })
        .collect()
}

/// `bash SCRIPT ARGS` in the workspace's root, with `env` added and
/// stdin closed: the exit status (-1 if a signal ended it), stdout and
/// stderr.
pub fn bash(script: &str, args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let mut cmd = Command::new("bash");
    cmd.current_dir(crate::workspace::root())
        .arg(script)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run bash");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

/// Whether a line of strace's log is a call the program made, once: a
/// call a signal interrupted shows twice. With `= ? ERESTARTSYS` (or
/// ERESTARTNOINTR, ERESTARTNOHAND) the kernel makes it again, and the
/// second line counts; with `= ? ERESTART_RESTARTBLOCK` (a sleep) it goes
/// on in `restart_syscall(<... resuming interrupted nanosleep ...>)`, and
/// the first line counts (`restart_syscall(2)`).
pub fn is_a_call(line: &str) -> bool {
    let call = line.split_once("] ").map_or(line, |(_, call)| call);
    if call.starts_with("restart_syscall(") {
        return false;
    }
    !line.contains("= ? ERESTART") || line.contains("= ? ERESTART_RESTARTBLOCK")
}

/// The lines of `strace -qq FLAGS… -- bin args`'s log (see
/// [`strace_names`]), with the decoded arguments and results, and what
/// the demo wrote on stdout; the demo is continued at each stop.
pub fn strace_lines(
    strace: &Path,
    flags: &[&str],
    bin: &str,
    args: &[&str],
) -> (Vec<String>, String) {
    // The kernel's comm: the file name, cut to TASK_COMM_LEN - 1 = 15 bytes.
    let name = Path::new(bin).file_name().unwrap().to_string_lossy();
    let comm: String = name.chars().take(15).collect();
    let log = std::env::temp_dir().join(format!("mmm-strace-{}-{}", std::process::id(), unique()));
    let mut cmd = Command::new(strace);
    cmd.arg("-qq")
        .args(flags)
        .arg("-o")
        .arg(&log)
        .arg("--")
        .arg(bin)
        .args(args);
    let (mut tracer, out, err) = spawn(cmd);
    let children = format!("/proc/{0}/task/{0}/children", tracer.pid);
    let end = loop {
        if let Some(end) = tracer.wait(Duration::from_millis(5)) {
            break end;
        }
        let Ok(kids) = std::fs::read_to_string(&children) else {
            continue;
        };
        for pid in kids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            let stopped_demo = |s: stat::Stat| (s.state == 't' || s.state == 'T') && s.comm == comm;
            if stat::read(pid as u32).is_ok_and(stopped_demo) {
                crate::child::raw_kill(pid, crate::child::SIGCONT);
            }
        }
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if end != Event::Exited(0) {
        panic!("strace {bin}: {end:?}: {}", err.join().unwrap());
    }
    assert!(
        !text.is_empty(),
        "strace {bin}: empty log; {}",
        err.join().unwrap()
    );
    let lines = text.lines().map(str::to_string).collect();
    (lines, out.join().unwrap())
}

/// Asserts the exact syscalls of `bin args` under strace (see
/// [`strace_names`]); skips loudly where strace is missing, outside CI.
pub fn assert_syscalls(bin: &str, args: &[&str], expected: &[&str]) {
    let Some(strace) = tool("strace") else { return };
    assert_eq!(
        strace_names(&strace, bin, args),
        expected,
        "strace {bin} {args:?}"
    );
}

/// Runs `bin args` under a shell limit such as `ulimit -v 200000`, which
/// applies to the demo alone (`sh -c 'ulimit …; exec demo …'`).
pub fn walk_under(limit: &str, bin: &str, args: &[&str]) -> Walk {
    let script = format!("{limit} && exec \"$0\" \"$@\"");
    let mut all = vec!["-c", &script, bin];
    all.extend_from_slice(args);
    walk(command("sh", &all))
}

/// A copy of `bin` that every user may run, for the tests that start a
/// demo as user nobody: the workspace may lie in a directory closed to
/// other users (a clone under /root, say). The copy keeps the file name,
/// so the kernel's comm is the same. Removed when dropped.
pub struct SharedCopy {
    dir: PathBuf,
    pub path: PathBuf,
}

impl SharedCopy {
    pub fn new(bin: &str) -> SharedCopy {
        use std::os::unix::fs::PermissionsExt;
        let name = Path::new(bin).file_name().expect("a file name");
        let dir =
            std::env::temp_dir().join(format!("mmm-shared-{}-{}", std::process::id(), unique()));
        std::fs::create_dir(&dir).expect("a temp dir");
        let path = dir.join(name);
        std::fs::copy(bin, &path).expect("copy the demo");
        for p in [&dir, &path] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        SharedCopy { dir, path }
    }

    pub fn as_str(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for SharedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A number no other call in this process has had (for temp file names).
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::is_a_call;

    #[test]
    fn an_interrupted_call_counts_once() {
        // `minimal 2` stopped and continued during its sleep (strace 6.x).
        let sleep = [
            "nanosleep({tv_sec=2, tv_nsec=0}, NULL)  = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
            "restart_syscall(<... resuming interrupted nanosleep ...>) = 0",
        ];
        assert_eq!(sleep.map(is_a_call), [true, false]);
        // With -n the numbers come first.
        let numbered = [
            "[  35] nanosleep({tv_sec=2, tv_nsec=0}, NULL) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
            "[ 219] restart_syscall(<... resuming interrupted nanosleep ...>) = 0",
        ];
        assert_eq!(numbered.map(is_a_call), [true, false]);
        // A wait the kernel makes again: the second line is the call.
        let wait = [
            "wait4(-1, 0x7ffd, 0, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
            "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 1234",
        ];
        assert_eq!(wait.map(is_a_call), [false, true]);
    }
}
