//! Start any program under ptrace and report, call by call, how its
//! address space is built: the exec, every syscall that maps, unmaps or
//! re-protects memory, the moment it reaches its entry point, its exit.
//!
//! How (`ptrace(2)`):
//! - The program is our own child: a thread of ours forks it, the child
//!   (in its own process group if asked, [`Spawn::own_group`]) asks for
//!   SIGKILL when that thread ends (`PR_SET_PDEATHSIG`), then blocks on a pipe. The thread
//!   attaches with `PTRACE_SEIZE` (never to a process it did not start)
//!   and only then lets the child call `execve`. `PTRACE_O_EXITKILL`
//!   kills every tracee if the tracer goes away, whatever the reason.
//! - Syscall stops (`PTRACE_O_TRACESYSGOOD`) are decoded with
//!   `PTRACE_GET_SYSCALL_INFO` (Linux 5.3), whose `arch` says whether the
//!   call is an x86-64 or an i386 one ([`crate::syscalls`]).
//! - The entry point: AT_ENTRY from /proc/PID/auxv; a temporary `int3`
//!   written there with `PTRACE_POKEDATA` right after exec. When it traps,
//!   the word is restored and `rip` set back by one: "the loader is done".
//! - Threads, forks and vforks are followed (`PTRACE_O_TRACECLONE`,
//!   `TRACEFORK`, `TRACEVFORK`); execs and exits reported
//!   (`TRACEEXEC`, `TRACEEXIT`).
//! - Signals are passed on. A stopping signal becomes a group-stop: a
//!   seized tracee reports it as `PTRACE_EVENT_STOP` and is left stopped
//!   with `PTRACE_LISTEN`, so that a program that stops itself stays
//!   stopped until someone sends SIGCONT, as without a tracer.
//!
//! All ptrace requests must come from the tracer thread, so one thread
//! does everything and talks to the caller through channels: it sends
//! each [`Event`] while the tracee is stopped and waits for the caller's
//! go-ahead ([`Trace::next`]) before it lets the tracee run on.

use std::collections::{HashMap, HashSet};
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::child::{
    ADDR_NO_RANDOMIZE, SIGCONT, SIGKILL, SIGSTOP, before_exec, raw_kill, send_signal,
};
use crate::syscalls::{self, AUDIT_ARCH_I386, Call, Kind};

unsafe extern "C" {
    fn fork() -> i32;
    fn execve(path: *const i8, argv: *const *const i8, envp: *const *const i8) -> i32;
    fn _exit(code: i32) -> !;
    fn pipe2(fds: *mut i32, flags: i32) -> i32;
    fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
    fn write(fd: i32, buf: *const u8, n: usize) -> isize;
    fn close(fd: i32) -> i32;
    fn setpgid(pid: i32, pgid: i32) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn ptrace(request: i32, ...) -> i64;
    fn __errno_location() -> *mut i32;
}

/// `include/uapi/linux/ptrace.h`.
const PTRACE_PEEKDATA: i32 = 2;
const PTRACE_POKEDATA: i32 = 5;
const PTRACE_GETREGS: i32 = 12;
const PTRACE_SETREGS: i32 = 13;
const PTRACE_SYSCALL: i32 = 24;
const PTRACE_CONT: i32 = 7;
const PTRACE_GETEVENTMSG: i32 = 0x4201;
const PTRACE_SEIZE: i32 = 0x4206;
const PTRACE_LISTEN: i32 = 0x4208;
const PTRACE_GET_SYSCALL_INFO: i32 = 0x420e;
const PTRACE_O_TRACESYSGOOD: u64 = 0x01;
const PTRACE_O_TRACEFORK: u64 = 0x02;
const PTRACE_O_TRACEVFORK: u64 = 0x04;
const PTRACE_O_TRACECLONE: u64 = 0x08;
const PTRACE_O_TRACEEXEC: u64 = 0x10;
const PTRACE_O_TRACEEXIT: u64 = 0x40;
const PTRACE_O_EXITKILL: u64 = 0x10_0000;
const PTRACE_EVENT_FORK: i32 = 1;
const PTRACE_EVENT_VFORK: i32 = 2;
const PTRACE_EVENT_CLONE: i32 = 3;
const PTRACE_EVENT_EXEC: i32 = 4;
const PTRACE_EVENT_EXIT: i32 = 6;
const PTRACE_EVENT_STOP: i32 = 128;
const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
const PTRACE_SYSCALL_INFO_EXIT: u8 = 2;
/// A syscall stop reports SIGTRAP | 0x80 with PTRACE_O_TRACESYSGOOD.
const SYSCALL_STOP: i32 = SIGTRAP | 0x80;
/// `wait(2)`: tracees and clones too; only this thread's children.
const WALL: i32 = 0x4000_0000;
const WNOTHREAD: i32 = 0x2000_0000;
/// `include/uapi/linux/fcntl.h`.
const O_CLOEXEC: i32 = 0o2_000_000;
/// `signal(7)`, x86-64.
const SIGTRAP: i32 = 5;
const SIGTSTP: i32 = 20;
const SIGTTIN: i32 = 21;
const SIGTTOU: i32 = 22;
/// `errno(3)`.
const ENOENT: i32 = 2;
const EPERM: i32 = 1;
const EINTR: i32 = 4;
/// `include/uapi/linux/auxvec.h`.
const AT_ENTRY: u64 = 9;
/// `int3`, the one-byte breakpoint instruction.
const INT3: u64 = 0xcc;
/// `struct user_regs_struct` (`arch/x86/include/asm/user_64.h`): 27
/// words, `rip` is the 17th.
const REGS_WORDS: usize = 27;
const RIP: usize = 16;
/// `S_ISUID | S_ISGID` (`inode(7)`).
const SET_ID_BITS: u32 = 0o6000;
/// Exit statuses as a shell gives them (`sh(1)`, "Exit Status").
pub const EXIT_NOT_FOUND: u8 = 127;
pub const EXIT_NOT_EXECUTABLE: u8 = 126;

/// How a new task came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Birth {
    /// `clone(CLONE_THREAD)`: shares the address space.
    Thread,
    /// `fork`: a copy of the address space.
    Fork,
    /// `vfork`: borrows the parent's until it execs or exits.
    Vfork,
}

/// What happened. Every event is sent while the task is stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// `execve` has built the new image; nothing of it has run yet.
    /// `entry` is AT_ENTRY; `loader` whether an interpreter runs first.
    Exec {
        path: String,
        entry: u64,
        loader: bool,
    },
    /// A call that changes the address space has returned.
    Call(Call),
    /// The program reached its entry point (`by`: how that was seen).
    Entry { addr: u64, by: &'static str },
    /// The process is about to exit: its address space is still whole.
    /// `call` is the `exit_group` call, `None` if it dies otherwise.
    Exit { call: Option<Call> },
    /// A new task.
    Task { child: u32, birth: Birth },
    /// A signal is being delivered to the program (it is passed on).
    Signal(i32),
    /// The program is in a group-stop (its own SIGSTOP, or one sent to
    /// it); it stays stopped until it gets SIGCONT.
    Stopped(i32),
    /// The process has ended; `syscalls` counts all its syscalls from
    /// its (last) execve on, that one included.
    Ended { status: crate::Event, syscalls: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The process (thread group) it happened in.
    pub pid: u32,
    /// The thread, the same as `pid` for a single-threaded program.
    pub tid: u32,
    pub what: What,
}

/// Why the program could not be started under the tracer.
#[derive(Debug)]
pub enum StartError {
    NotFound(String),
    NotExecutable(String),
    SetId(String),
    Refused(String),
    Other(String),
}

impl StartError {
    /// As a shell answers: 127 not found, 126 not executable; 1 else.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartError::NotFound(_) => EXIT_NOT_FOUND,
            StartError::NotExecutable(_) => EXIT_NOT_EXECUTABLE,
            _ => 1,
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            StartError::NotFound(s)
            | StartError::NotExecutable(s)
            | StartError::SetId(s)
            | StartError::Refused(s)
            | StartError::Other(s) => f.write_str(s),
        }
    }
}

/// What [`Trace::next`] saw.
#[derive(Debug)]
pub enum Next {
    Event(Event),
    /// Nothing within the timeout: the program runs (or hangs).
    Timeout,
    /// Every traced process has ended and been reaped.
    Done,
}

/// A traced program. Dropping it kills every task and reaps them.
pub struct Trace {
    pub pid: u32,
    events: Receiver<Event>,
    go: Sender<Go>,
    /// An event was handed out and the task waits for the go-ahead.
    owed: bool,
    /// Every pid and tid the tracer knows, to kill them all.
    tasks: Arc<Mutex<HashSet<u32>>>,
    /// All reaped: no pid of ours is left to kill.
    done: bool,
    thread: Option<JoinHandle<()>>,
}

enum Go {
    On,
    Kill,
}

/// How to start the program.
#[derive(Clone, Debug, Default)]
pub struct Spawn {
    /// `ADDR_NO_RANDOMIZE`, as `setarch -R`.
    pub no_aslr: bool,
    /// The environment; `None`: ours.
    pub env: Option<Vec<(OsString, OsString)>>,
    /// In a process group of its own. Off, it stays in ours: in the
    /// terminal's foreground group, so that it can read the terminal
    /// (a background group reading it gets SIGTTIN) and Ctrl-C reaches
    /// it as well as us, as when it runs without the tour.
    pub own_group: bool,
}

/// Finds `cmd` as `execvp(3)` would: a name with a `/` as it is, else
/// the first executable file of that name in $PATH.
fn resolve(cmd: &OsStr) -> Result<PathBuf, StartError> {
    let shown = cmd.to_string_lossy();
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if cmd.as_bytes().contains(&b'/') {
        let p = PathBuf::from(cmd);
        return match std::fs::metadata(&p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StartError::NotFound(format!("{shown}: no such file")))
            }
            Ok(m) if m.is_dir() => Err(StartError::NotExecutable(format!(
                "{shown}: is a directory"
            ))),
            Ok(_) if !executable(&p) => Err(StartError::NotExecutable(format!(
                "{shown}: not executable (no x permission)"
            ))),
            _ => Ok(p),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let mut found_file = None;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(cmd);
        if executable(&p) {
            return Ok(p);
        }
        if p.is_file() {
            found_file.get_or_insert(p);
        }
    }
    match found_file {
        Some(p) => Err(StartError::NotExecutable(format!(
            "{}: not executable (no x permission)",
            p.display()
        ))),
        None => Err(StartError::NotFound(format!(
            "{shown}: command not found in $PATH"
        ))),
    }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Why ptrace is refused here, in a few words.
fn refused_because() -> String {
    match std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope") {
        Ok(s) if s.trim() == "3" => {
            "Yama's kernel.yama.ptrace_scope is 3: no process may trace".into()
        }
        Ok(s) if s.trim() == "2" => {
            "Yama's kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may trace"
                .into()
        }
        _ => "a seccomp filter, a container or a security module forbids it".into(),
    }
}

impl Trace {
    /// Starts `argv` under the tracer. Returns once it has exec'd (the
    /// first event, [`What::Exec`], is waiting) or failed to.
    pub fn start(argv: &[OsString], how: Spawn) -> Result<Trace, StartError> {
        let first = argv
            .first()
            .ok_or_else(|| StartError::Other("no command".into()))?;
        let path = resolve(first)?;
        let mode = std::fs::metadata(&path)
            .map_err(|e| StartError::Other(format!("{}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & SET_ID_BITS != 0 {
            return Err(StartError::SetId(format!(
                "{} is set-user-ID or set-group-ID: traced, it would run without those privileges, so it is not traced",
                path.display()
            )));
        }
        let (send, events) = channel();
        let (go, wait_go) = channel();
        let (started, start_result) = channel();
        let tasks = Arc::new(Mutex::new(HashSet::new()));
        let argv = argv.to_vec();
        let known = tasks.clone();
        let thread = std::thread::Builder::new()
            .name("tracer".into())
            .spawn(move || {
                let mut t = match Tracer::spawn(&path, &argv, how, known) {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                let _ = started.send(Ok(t.leader));
                t.run(&send, &wait_go);
            })
            .map_err(|e| StartError::Other(format!("cannot start the tracer thread: {e}")))?;
        let pid = match start_result.recv() {
            Ok(Ok(pid)) => pid,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => return Err(StartError::Other("the tracer thread died".into())),
        };
        Ok(Trace {
            pid,
            events,
            go,
            owed: false,
            tasks,
            done: false,
            thread: Some(thread),
        })
    }

    /// Lets the task of the last event run on, then waits up to
    /// `timeout` for the next event.
    pub fn next(&mut self, timeout: Duration) -> Next {
        if std::mem::take(&mut self.owed) {
            let _ = self.go.send(Go::On);
        }
        match self.events.recv_timeout(timeout) {
            Ok(e) => {
                self.owed = true;
                Next::Event(e)
            }
            Err(RecvTimeoutError::Timeout) => Next::Timeout,
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                Next::Done
            }
        }
    }

    /// Sends `sig` to the program (its first process).
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        send_signal(self.pid as i32, sig)
    }

    /// Kills every traced task and waits until all are reaped.
    pub fn kill(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        raw_kill(-(self.pid as i32), SIGKILL);
        for &t in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            raw_kill(t as i32, SIGKILL);
        }
        let _ = self.go.send(Go::Kill);
        // Drain, so the tracer never blocks on a send; it ends when the
        // last task is reaped.
        while self.events.recv().is_ok() {
            let _ = self.go.send(Go::Kill);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `argv` to its end under the tracer: `at` sees every event while
/// the task is stopped (read /proc there); a group-stop is ended with
/// SIGCONT, as the tour does at a demo's stop. Returns the events, or
/// None if nothing happened for `timeout` (then everything is killed).
pub fn follow(
    argv: &[OsString],
    how: Spawn,
    timeout: Duration,
    mut at: impl FnMut(&Event),
) -> Result<Option<Vec<Event>>, StartError> {
    let mut trace = Trace::start(argv, how)?;
    let mut events = Vec::new();
    loop {
        match trace.next(timeout) {
            Next::Event(e) => {
                at(&e);
                if let What::Stopped(_) = e.what {
                    let _ = raw_kill(e.pid as i32, SIGCONT);
                }
                events.push(e);
            }
            Next::Timeout => return Ok(None),
            Next::Done => return Ok(Some(events)),
        }
    }
}

/// One task (thread) the tracer follows.
#[derive(Default)]
struct Task {
    tgid: u32,
    /// The syscall it is in, between its entry and exit stops.
    call: Option<Call>,
}

/// One process (thread group).
#[derive(Default)]
struct Proc {
    /// The entry breakpoint: address and the word it replaced.
    breakpoint: Option<(u64, u64)>,
    exit_shown: bool,
    execs: u32,
    syscalls: u64,
    /// The tracer's own SIGCONT wake-up is not a new stop.
    stopped: bool,
}

struct Tracer {
    leader: u32,
    tasks: HashMap<u32, Task>,
    procs: HashMap<u32, Proc>,
    known: Arc<Mutex<HashSet<u32>>>,
    killing: bool,
}

/// `struct ptrace_syscall_info` (`include/uapi/linux/ptrace.h`): op, 3
/// pad bytes, arch, ip, sp, then entry {nr, args[6]} or exit {rval,
/// is_error}.
#[repr(C)]
#[derive(Default)]
struct SyscallInfo {
    op: u8,
    pad: [u8; 3],
    arch: u32,
    ip: u64,
    sp: u64,
    data: [u64; 7],
    /// Room for the seccomp variant's ret_data.
    more: [u64; 1],
}

fn ptrace_call(req: i32, tid: u32, addr: u64, data: u64) -> io::Result<i64> {
    // SAFETY: every request used passes integers or a pointer to a buffer
    // of ours of the size the request writes (see the callers).
    let r = unsafe { ptrace(req, tid as i32, addr, data) };
    if r == -1 && errno() != 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `PTRACE_PEEKDATA`: -1 is also a valid word, so errno is cleared first.
fn peek(tid: u32, addr: u64) -> io::Result<u64> {
    // SAFETY: __errno_location returns this thread's errno.
    unsafe { *__errno_location() = 0 };
    ptrace_call(PTRACE_PEEKDATA, tid, addr, 0).map(|w| w as u64)
}

fn regs(tid: u32) -> io::Result<[u64; REGS_WORDS]> {
    let mut r = [0u64; REGS_WORDS];
    ptrace_call(PTRACE_GETREGS, tid, 0, r.as_mut_ptr() as u64)?;
    Ok(r)
}

fn event_msg(tid: u32) -> u64 {
    let mut msg = 0u64;
    let _ = ptrace_call(PTRACE_GETEVENTMSG, tid, 0, &mut msg as *mut u64 as u64);
    msg
}

/// The thread group of `tid`, from /proc/TID/status.
fn tgid_of(tid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(tid)
}

/// A wait status as a [`crate::Event`] (see `crate::child`).
fn status_event(status: i32) -> crate::Event {
    if status & 0x7f == 0x7f {
        crate::Event::Stopped((status >> 8) & 0xff)
    } else if status & 0x7f == 0 {
        crate::Event::Exited((status >> 8) & 0xff)
    } else {
        crate::Event::Killed(status & 0x7f)
    }
}

/// Whether this is a 32-bit ELF file (EI_CLASS 1).
fn is_32_bit(path: &str) -> bool {
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head[4] == 1
}

/// AT_ENTRY of `pid`; auxv words are 4 bytes in a 32-bit process.
fn entry_of(pid: u32, bits32: bool) -> Option<u64> {
    let bytes = std::fs::read(format!("/proc/{pid}/auxv")).ok()?;
    if bits32 {
        bytes
            .chunks_exact(8)
            .map(|p| {
                let w = |c: &[u8]| u64::from(u32::from_ne_bytes(c.try_into().unwrap_or([0; 4])));
                (w(&p[..4]), w(&p[4..]))
            })
            .find(|&(k, _)| k == AT_ENTRY)
            .map(|(_, v)| v)
    } else {
        crate::stat::parse_auxv(&bytes)
            .into_iter()
            .find(|&(k, _)| k == AT_ENTRY)
            .map(|(_, v)| v)
    }
}

impl Tracer {
    /// Forks the child, seizes it, and lets it exec. Waits for the exec.
    fn spawn(
        path: &Path,
        argv: &[OsString],
        how: Spawn,
        known: Arc<Mutex<HashSet<u32>>>,
    ) -> Result<Tracer, StartError> {
        let other =
            |what: &str| StartError::Other(format!("{what}: {}", io::Error::last_os_error()));
        let cstr = |s: &OsStr| {
            CString::new(s.as_bytes())
                .map_err(|_| StartError::Other("a NUL byte in the command".into()))
        };
        let path_c = cstr(path.as_os_str())?;
        let args: Vec<CString> = argv.iter().map(|a| cstr(a)).collect::<Result<_, _>>()?;
        let env: Vec<CString> = how
            .env
            .clone()
            .unwrap_or_else(|| std::env::vars_os().collect())
            .into_iter()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).unwrap_or_default()
            })
            .collect();
        let mut arg_ptrs: Vec<*const i8> = args.iter().map(|a| a.as_ptr()).collect();
        arg_ptrs.push(std::ptr::null());
        let mut env_ptrs: Vec<*const i8> = env.iter().map(|e| e.as_ptr()).collect();
        env_ptrs.push(std::ptr::null());
        let (mut go, mut err) = ([0i32; 2], [0i32; 2]);
        // SAFETY: pipe2 writes two ints.
        if unsafe { pipe2(go.as_mut_ptr(), O_CLOEXEC) } != 0
            || unsafe { pipe2(err.as_mut_ptr(), O_CLOEXEC) } != 0
        {
            return Err(other("pipe2"));
        }
        let parent = std::process::id() as i32;
        // SAFETY: the child runs only async-signal-safe calls on memory
        // prepared before the fork, then execs or _exits.
        let pid = unsafe { fork() };
        if pid == 0 {
            // SAFETY: as above; the pointers stay valid in the child's copy.
            unsafe {
                close(go[1]);
                close(err[0]);
                if how.own_group {
                    setpgid(0, 0);
                }
                let add = if how.no_aslr { ADDR_NO_RANDOMIZE } else { 0 };
                if before_exec(parent, add).is_err() {
                    _exit(EXIT_NOT_FOUND as i32);
                }
                let mut byte = 0u8;
                // Until the tracer has seized us (or closed the pipe).
                if read(go[0], &mut byte, 1) != 1 {
                    _exit(EXIT_NOT_FOUND as i32);
                }
                execve(path_c.as_ptr(), arg_ptrs.as_ptr(), env_ptrs.as_ptr());
                let e = *__errno_location();
                write(err[1], &e as *const i32 as *const u8, 4);
                _exit(EXIT_NOT_FOUND as i32);
            }
        }
        // SAFETY: closing our copies of the child's ends.
        unsafe {
            close(go[0]);
            close(err[1]);
        }
        if pid < 0 {
            // SAFETY: closing our ends.
            unsafe {
                close(go[1]);
                close(err[0]);
            }
            return Err(other("fork"));
        }
        let pid = pid as u32;
        known.lock().unwrap_or_else(|e| e.into_inner()).insert(pid);
        let options = PTRACE_O_TRACESYSGOOD
            | PTRACE_O_EXITKILL
            | PTRACE_O_TRACECLONE
            | PTRACE_O_TRACEFORK
            | PTRACE_O_TRACEVFORK
            | PTRACE_O_TRACEEXEC
            | PTRACE_O_TRACEEXIT;
        let seized = ptrace_call(PTRACE_SEIZE, pid, 0, options);
        let mut t = Tracer {
            leader: pid,
            tasks: HashMap::new(),
            procs: HashMap::new(),
            known,
            killing: false,
        };
        if let Err(e) = seized {
            raw_kill(pid as i32, SIGKILL);
            let mut status = 0;
            // SAFETY: writes one int.
            unsafe { waitpid(pid as i32, &mut status, WALL) };
            // SAFETY: closing our ends.
            unsafe {
                close(go[1]);
                close(err[0]);
            }
            return Err(StartError::Refused(if e.raw_os_error() == Some(EPERM) {
                format!(
                    "ptrace refused (PTRACE_SEIZE: EPERM): {}",
                    refused_because()
                )
            } else {
                format!("ptrace failed (PTRACE_SEIZE): {e}")
            }));
        }
        t.tasks.insert(
            pid,
            Task {
                tgid: pid,
                call: None,
            },
        );
        t.procs.insert(pid, Proc::default());
        // SAFETY: one byte from our stack; then our end is closed.
        unsafe {
            write(go[1], [1u8].as_ptr(), 1);
            close(go[1]);
        }
        // Until the exec stop (or the child's end: exec failed).
        loop {
            let mut status = 0;
            // SAFETY: writes one int.
            let r = unsafe { waitpid(pid as i32, &mut status, WALL) };
            if r == -1 {
                if errno() == EINTR {
                    continue;
                }
                return Err(other("waitpid"));
            }
            let event = status >> 16;
            if status & 0x7f == 0x7f {
                if event == PTRACE_EVENT_EXEC {
                    // SAFETY: closing our end.
                    unsafe { close(err[0]) };
                    return Ok(t);
                }
                // Stops before the exec (the seize's own, the exit of
                // `read`): on, without syscall stops. A signal is passed on.
                let sig = (status >> 8) & 0xff;
                let pass = if event == 0 && sig != SIGTRAP { sig } else { 0 };
                let _ = ptrace_call(PTRACE_CONT, pid, 0, pass as u64);
                continue;
            }
            let mut e = 0i32;
            // SAFETY: reads at most 4 bytes into `e`.
            let n = unsafe { read(err[0], &mut e as *mut i32 as *mut u8, 4) };
            // SAFETY: closing our end.
            unsafe { close(err[0]) };
            let shown = path.display();
            return Err(if n != 4 {
                StartError::Other(format!("{shown}: the child ended before exec"))
            } else if e == ENOENT {
                StartError::NotFound(format!(
                    "{shown}: cannot execute: {} (a missing interpreter?)",
                    io::Error::from_raw_os_error(e)
                ))
            } else {
                StartError::NotExecutable(format!(
                    "{shown}: cannot execute: {}",
                    io::Error::from_raw_os_error(e)
                ))
            });
        }
    }

    /// Sends `e` and waits for the go-ahead. False: stop tracing.
    fn report(&mut self, send: &Sender<Event>, wait: &Receiver<Go>, e: Event) -> bool {
        if self.killing {
            return false;
        }
        if send.send(e).is_err() {
            self.kill_all();
            return false;
        }
        match wait.recv() {
            Ok(Go::On) => true,
            Ok(Go::Kill) | Err(_) => {
                self.kill_all();
                false
            }
        }
    }

    fn kill_all(&mut self) {
        self.killing = true;
        raw_kill(-(self.leader as i32), SIGKILL);
        for &t in self.tasks.keys() {
            raw_kill(t as i32, SIGKILL);
        }
    }

    fn add_task(&mut self, tid: u32, tgid: u32) {
        self.tasks.entry(tid).or_insert(Task { tgid, call: None });
        self.procs.entry(tgid).or_default();
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tid);
    }

    /// The exec stop: reads AT_ENTRY and sets the breakpoint there.
    fn exec_stop(&mut self, tid: u32) -> Event {
        let former = event_msg(tid) as u32;
        if former != tid {
            // A thread other than the leader exec'd: it takes the pid.
            self.tasks.remove(&former);
        }
        let pid = self.tasks.get(&tid).map(|t| t.tgid).unwrap_or(tid);
        let path = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entry = entry_of(pid, is_32_bit(&path)).unwrap_or(0);
        let rip = regs(tid).map(|r| r[RIP]).unwrap_or(0);
        let proc = self.procs.entry(pid).or_default();
        proc.execs += 1;
        proc.syscalls = 1;
        proc.exit_shown = false;
        proc.breakpoint = None;
        let loader = entry != 0 && rip != entry;
        if loader && let Ok(word) = peek(tid, entry) {
            let patched = (word & !0xff) | INT3;
            if ptrace_call(PTRACE_POKEDATA, tid, entry, patched).is_ok() {
                proc.breakpoint = Some((entry, word));
            }
        }
        Event {
            pid,
            tid,
            what: What::Exec {
                path,
                entry,
                loader,
            },
        }
    }

    /// A SIGTRAP at our breakpoint: put the word back, `rip` one back.
    fn breakpoint_hit(&mut self, tid: u32, pid: u32) -> Option<u64> {
        let (addr, word) = self.procs.get(&pid)?.breakpoint?;
        let mut r = regs(tid).ok()?;
        if r[RIP] != addr + 1 {
            return None;
        }
        ptrace_call(PTRACE_POKEDATA, tid, addr, word).ok()?;
        r[RIP] = addr;
        ptrace_call(PTRACE_SETREGS, tid, 0, r.as_ptr() as u64).ok()?;
        self.procs.get_mut(&pid)?.breakpoint = None;
        Some(addr)
    }

    fn syscall_info(tid: u32) -> Option<SyscallInfo> {
        let mut info = SyscallInfo::default();
        let size = std::mem::size_of::<SyscallInfo>() as u64;
        ptrace_call(
            PTRACE_GET_SYSCALL_INFO,
            tid,
            size,
            &mut info as *mut SyscallInfo as u64,
        )
        .ok()?;
        Some(info)
    }

    /// A syscall entry or exit stop. Returns an event to report, if any.
    fn syscall_stop(&mut self, tid: u32, pid: u32) -> Option<Event> {
        let info = Self::syscall_info(tid)?;
        let proc = self.procs.entry(pid).or_default();
        match info.op {
            PTRACE_SYSCALL_INFO_ENTRY => {
                proc.syscalls += 1;
                let nr = info.data[0];
                let (name, kind) = syscalls::lookup(info.arch, nr).unwrap_or(("?", Kind::Other));
                let mut args = [0u64; 6];
                args.copy_from_slice(&info.data[1..7]);
                let mut call = Call {
                    arch: info.arch,
                    nr,
                    name,
                    kind,
                    args,
                    ret: None,
                    ip: info.ip,
                    fd_path: None,
                };
                if kind == Kind::OldMmap {
                    // i386 `old_mmap`: six 32-bit words at args[0].
                    let words: Vec<u64> = (0..3)
                        .filter_map(|i| peek(tid, args[0] + 8 * i).ok())
                        .collect();
                    if words.len() == 3 {
                        for (i, w) in words.iter().enumerate() {
                            call.args[2 * i] = w & 0xffff_ffff;
                            call.args[2 * i + 1] = w >> 32;
                        }
                        call.kind = Kind::Mmap;
                    }
                }
                if let Some(fd) = call.fd() {
                    call.fd_path = std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                        .ok()
                        .map(|p| p.to_string_lossy().into_owned());
                }
                let exits = kind == Kind::ExitGroup
                    || (kind == Kind::Exit
                        && self.tasks.values().filter(|t| t.tgid == pid).count() == 1);
                if let Some(t) = self.tasks.get_mut(&tid) {
                    t.call = Some(call.clone());
                }
                let proc = self.procs.entry(pid).or_default();
                if exits && !proc.exit_shown {
                    proc.exit_shown = true;
                    return Some(Event {
                        pid,
                        tid,
                        what: What::Exit { call: Some(call) },
                    });
                }
                None
            }
            PTRACE_SYSCALL_INFO_EXIT => {
                let mut call = self.tasks.get_mut(&tid)?.call.take()?;
                let mut r = info.data[0] as i64;
                if call.arch == AUDIT_ARCH_I386 {
                    r = i64::from(r as i32);
                    if r < -4095 {
                        r = i64::from(r as u32);
                    }
                }
                call.ret = Some(r);
                call.changes_layout().then_some(Event {
                    pid,
                    tid,
                    what: What::Call(call),
                })
            }
            _ => None,
        }
    }

    /// Follows every task until all are gone.
    fn run(&mut self, send: &Sender<Event>, wait: &Receiver<Go>) {
        let leader = self.leader;
        let first = self.exec_stop(leader);
        let (entry_now, entry) = match &first.what {
            What::Exec { loader, entry, .. } => (!loader, *entry),
            _ => (false, 0),
        };
        let mut go_on = self.report(send, wait, first);
        if go_on && entry_now {
            go_on = self.report(
                send,
                wait,
                Event {
                    pid: leader,
                    tid: leader,
                    what: What::Entry {
                        addr: entry,
                        by: "no interpreter: execve jumps to AT_ENTRY itself",
                    },
                },
            );
        }
        if !go_on {
            self.kill_all();
        }
        let _ = ptrace_call(PTRACE_SYSCALL, leader, 0, 0);
        while !self.tasks.is_empty() {
            let mut status = 0;
            // SAFETY: writes one int.
            let tid = unsafe { waitpid(-1, &mut status, WALL | WNOTHREAD) };
            if tid == -1 {
                if errno() == EINTR {
                    continue;
                }
                break;
            }
            let tid = tid as u32;
            if !self.tasks.contains_key(&tid) {
                self.add_task(tid, tgid_of(tid));
            }
            let pid = self.tasks[&tid].tgid;
            if status & 0x7f != 0x7f {
                // Exited or killed: reaped.
                self.tasks.remove(&tid);
                if tid == pid {
                    let syscalls = self.procs.get(&pid).map(|p| p.syscalls).unwrap_or(0);
                    let e = Event {
                        pid,
                        tid,
                        what: What::Ended {
                            status: status_event(status),
                            syscalls,
                        },
                    };
                    self.report(send, wait, e);
                }
                continue;
            }
            let sig = (status >> 8) & 0xff;
            let event = status >> 16;
            // How to let it run on: PTRACE_SYSCALL with a signal to pass,
            // or PTRACE_LISTEN for a group-stop.
            let mut deliver = 0;
            let mut listen = false;
            let mut report = None;
            if self.killing {
                // Dying: let it die.
            } else if sig == SYSCALL_STOP {
                report = self.syscall_stop(tid, pid);
            } else if event == PTRACE_EVENT_EXEC {
                let e = self.exec_stop(tid);
                report = Some(e);
            } else if event == PTRACE_EVENT_EXIT {
                let code = event_msg(tid) as i32;
                let killed = matches!(status_event(code), crate::Event::Killed(_));
                let proc = self.procs.entry(pid).or_default();
                if !proc.exit_shown && (tid == pid || killed) {
                    proc.exit_shown = true;
                    report = Some(Event {
                        pid,
                        tid,
                        what: What::Exit { call: None },
                    });
                }
            } else if matches!(
                event,
                PTRACE_EVENT_CLONE | PTRACE_EVENT_FORK | PTRACE_EVENT_VFORK
            ) {
                let child = event_msg(tid) as u32;
                let birth = match event {
                    PTRACE_EVENT_CLONE => Birth::Thread,
                    PTRACE_EVENT_FORK => Birth::Fork,
                    _ => Birth::Vfork,
                };
                // A clone without CLONE_THREAD is a process too.
                let child_pid = if birth == Birth::Thread {
                    let g = tgid_of(child);
                    if g == child { child } else { pid }
                } else {
                    child
                };
                let birth = if birth == Birth::Thread && child_pid == child {
                    Birth::Fork
                } else {
                    birth
                };
                self.add_task(child, child_pid);
                if let Some(t) = self.tasks.get_mut(&child) {
                    t.tgid = child_pid;
                }
                report = Some(Event {
                    pid,
                    tid,
                    what: What::Task { child, birth },
                });
            } else if event == PTRACE_EVENT_STOP {
                if matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU) {
                    listen = true;
                    let proc = self.procs.entry(pid).or_default();
                    if tid == pid && !proc.stopped {
                        proc.stopped = true;
                        report = Some(Event {
                            pid,
                            tid,
                            what: What::Stopped(sig),
                        });
                    }
                } else if let Some(p) = self.procs.get_mut(&pid) {
                    // A new task's first stop, or the wake-up after SIGCONT.
                    p.stopped = false;
                }
            } else if sig == SIGTRAP
                && let Some(addr) = self.breakpoint_hit(tid, pid)
            {
                report = Some(Event {
                    pid,
                    tid,
                    what: What::Entry {
                        addr,
                        by: "a temporary int3 breakpoint at AT_ENTRY",
                    },
                });
            } else {
                // A signal on its way to the program: passed on. A
                // stopping one becomes a group-stop, reported as such.
                deliver = sig;
                if sig == SIGCONT
                    && let Some(p) = self.procs.get_mut(&pid)
                {
                    p.stopped = false;
                }
                if !matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU) {
                    report = Some(Event {
                        pid,
                        tid,
                        what: What::Signal(sig),
                    });
                }
            }
            if let Some(e) = report
                && !self.report(send, wait, e)
            {
                self.kill_all();
            }
            let request = if listen {
                PTRACE_LISTEN
            } else {
                PTRACE_SYSCALL
            };
            let _ = ptrace_call(request, tid, 0, deliver as u64);
        }
        // Whatever is left (nothing, normally) dies with EXITKILL now.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_resolve_as_a_shell_finds_them() {
        assert!(matches!(
            resolve(OsStr::new("no-such-command-here")),
            Err(StartError::NotFound(_))
        ));
        assert!(matches!(
            resolve(OsStr::new("/no/such/file")),
            Err(StartError::NotFound(_))
        ));
        assert!(matches!(
            resolve(OsStr::new("/etc/passwd")),
            Err(StartError::NotExecutable(_))
        ));
        assert!(matches!(
            resolve(OsStr::new("/")),
            Err(StartError::NotExecutable(_))
        ));
        assert!(resolve(OsStr::new("true")).is_ok());
    }
}
