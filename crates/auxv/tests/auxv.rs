//! `auxv` on the real binary: what it prints is what /proc/PID/auxv,
//! /proc/PID/stat and the memory of [stack] hold at its stop; with an
//! empty argv, an empty environment and 5000 variables.

use procfs::Event;
use procfs::maps::{self, Mapping};
use procfs::testing::*;
use std::ffi::CString;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_auxv");

/// The auxv types and names of include/uapi/linux/auxvec.h and
/// arch/x86/include/uapi/asm/auxvec.h, written out independently of the
/// demo's own list.
const AT: &[(u64, &str)] = &[
    (1, "AT_IGNORE"),
    (2, "AT_EXECFD"),
    (3, "AT_PHDR"),
    (4, "AT_PHENT"),
    (5, "AT_PHNUM"),
    (6, "AT_PAGESZ"),
    (7, "AT_BASE"),
    (8, "AT_FLAGS"),
    (9, "AT_ENTRY"),
    (10, "AT_NOTELF"),
    (11, "AT_UID"),
    (12, "AT_EUID"),
    (13, "AT_GID"),
    (14, "AT_EGID"),
    (15, "AT_PLATFORM"),
    (16, "AT_HWCAP"),
    (17, "AT_CLKTCK"),
    (23, "AT_SECURE"),
    (24, "AT_BASE_PLATFORM"),
    (25, "AT_RANDOM"),
    (26, "AT_HWCAP2"),
    (27, "AT_RSEQ_FEATURE_SIZE"),
    (28, "AT_RSEQ_ALIGN"),
    (29, "AT_HWCAP3"),
    (30, "AT_HWCAP4"),
    (31, "AT_EXECFN"),
    (33, "AT_SYSINFO_EHDR"),
    (51, "AT_MINSIGSTKSZ"),
];
const AT_PHDR: u64 = 3;
const AT_PAGESZ: u64 = 6;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_PLATFORM: u64 = 15;
const AT_RANDOM: u64 = 25;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;

/// What the demo printed on stdout.
#[derive(Debug, Default)]
struct Printed {
    argc: u64,
    /// The address of argc: the initial stack pointer.
    argc_at: u64,
    auxv_at: u64,
    argv: Vec<(u64, Vec<u8>)>,
    envp: Vec<(u64, Vec<u8>)>,
    /// (type, value, the rest of the line after the value)
    auxv: Vec<(u64, u64, String)>,
}

impl Printed {
    fn aux(&self, kind: u64) -> Option<&(u64, u64, String)> {
        self.auxv.iter().find(|a| a.0 == kind)
    }
}

fn hex(s: &str) -> u64 {
    let digits = s
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("not 0x…: {s}"));
    u64::from_str_radix(digits, 16).unwrap()
}

/// The bytes between the first and the last `"`, with `\xNN` undone.
fn unquote(s: &str) -> Vec<u8> {
    let (open, close) = (s.find('"').unwrap(), s.rfind('"').unwrap());
    let inner = &s.as_bytes()[open + 1..close];
    let mut out = Vec::new();
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'\\' {
            assert_eq!(inner[i + 1], b'x', "{s}");
            let h = std::str::from_utf8(&inner[i + 2..i + 4]).unwrap();
            out.push(u8::from_str_radix(h, 16).unwrap());
            i += 4;
        } else {
            out.push(inner[i]);
            i += 1;
        }
    }
    out
}

fn parse(stdout: &str) -> Printed {
    let mut p = Printed::default();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        if let Some(rest) = line.strip_prefix("argc ") {
            // argc N at 0x…, auxv[] at 0x…
            let w: Vec<&str> = rest.split([' ', ',']).filter(|w| !w.is_empty()).collect();
            assert_eq!((w[1], w[3], w[4]), ("at", "auxv[]", "at"), "{line}");
            p.argc = w[0].parse().unwrap();
            p.argc_at = hex(w[2]);
            p.auxv_at = hex(w[5]);
        } else if let Some(rest) = line.strip_prefix("argv[").or(line.strip_prefix("envp[")) {
            let (index, rest) = rest.split_once("] ").expect(line);
            let (addr, _) = rest.split_once(' ').expect(line);
            let list = if line.starts_with("argv") {
                &mut p.argv
            } else {
                &mut p.envp
            };
            assert_eq!(index.parse::<usize>().unwrap(), list.len(), "{line}");
            list.push((hex(addr), unquote(rest)));
        } else if words[0] == "auxv" && words.len() >= 3 {
            let kind = match AT.iter().find(|(_, n)| *n == words[1]) {
                Some(&(k, _)) => k,
                None => {
                    let k: u64 = words[1].parse().unwrap_or_else(|_| panic!("{line}"));
                    assert!(AT.iter().all(|&(n, _)| n != k), "{k} has a name: {line}");
                    k
                }
            };
            p.auxv.push((kind, hex(words[2]), words[3..].join(" ")));
        } else {
            panic!("unexpected stdout line {line:?}");
        }
    }
    p
}

/// The bytes of `m` in the stopped process, read through /proc/PID/mem.
fn read_mapping(pid: u32, m: &Mapping) -> Vec<u8> {
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut bytes = vec![0; m.size() as usize];
    mem.read_exact_at(&mut bytes, m.start).unwrap();
    bytes
}

/// A run with the [stack] mapping and its bytes at the stop.
struct Run {
    w: Walk,
    p: Printed,
    stack: Mapping,
    memory: Vec<u8>,
}

impl Run {
    fn new(cmd: Command) -> Run {
        let mut snapshot = None;
        let w = walk_with(cmd, |_, demo| {
            let all = maps::read(demo.pid).unwrap();
            let stack = maps::find(&all, "[stack]").expect("[stack]").clone();
            let bytes = read_mapping(demo.pid, &stack);
            snapshot = Some((stack, bytes));
        });
        assert_eq!(w.end, Event::Exited(0), "stderr: {}", w.stderr);
        assert_eq!(w.stops.len(), 1, "one stop");
        let (stack, memory) = snapshot.unwrap();
        let p = parse(&w.stdout);
        Run {
            w,
            p,
            stack,
            memory,
        }
    }

    /// `len` bytes of [stack] at `addr`, as they were at the stop.
    fn bytes(&self, addr: u64, len: usize) -> &[u8] {
        assert!(self.stack.contains(addr), "{addr:#x} not in [stack]");
        let at = (addr - self.stack.start) as usize;
        &self.memory[at..at + len]
    }

    /// The facts that hold for every run.
    fn check(&self) {
        let (p, stop) = (&self.p, &self.w.stops[0]);
        let st = &stop.stat;
        // The whole auxiliary vector, in the kernel's order.
        let pairs: Vec<(u64, u64)> = p.auxv.iter().map(|a| (a.0, a.1)).collect();
        assert_eq!(pairs, stop.auxv, "printed auxv = /proc/PID/auxv");
        // argc sits at the initial stack pointer the kernel recorded.
        assert_eq!(p.argc_at, st.start_stack, "argc at stat.start_stack");
        assert_eq!(p.argc as usize, p.argv.len());
        assert_eq!(
            self.bytes(p.argc_at, 8),
            p.argc.to_ne_bytes(),
            "argc in memory"
        );
        // auxv[] follows argv[argc+1] and envp[n+1], one word each.
        let words = 1 + (p.argc + 1) + (p.envp.len() as u64 + 1);
        assert_eq!(p.auxv_at, p.argc_at + 8 * words, "auxv[] after envp's NULL");
        // Each string is where the demo says, and where stat says argv and
        // envp are.
        for (addr, s) in &p.argv {
            assert!(
                (st.arg_start..st.arg_end).contains(addr),
                "argv {addr:#x} in arg_start..arg_end"
            );
            assert_eq!(self.bytes(*addr, s.len() + 1), [&s[..], b"\0"].concat());
        }
        for (addr, s) in &p.envp {
            assert!(
                (st.env_start..st.env_end).contains(addr),
                "envp {addr:#x} in env_start..env_end"
            );
            assert_eq!(self.bytes(*addr, s.len() + 1), [&s[..], b"\0"].concat());
        }
        // The strings behind AT_EXECFN and AT_PLATFORM, the AT_RANDOM bytes.
        let (_, execfn, rest) = p.aux(AT_EXECFN).expect("AT_EXECFN");
        let name = unquote(rest);
        assert_eq!(
            self.bytes(*execfn, name.len() + 1),
            [&name[..], b"\0"].concat()
        );
        // execve copies the file name first, just under a NULL word at the
        // very top of [stack] (bprm->p = vm_end - sizeof(void *), fs/exec.c).
        assert_eq!(
            execfn + name.len() as u64 + 1 + 8,
            self.stack.end,
            "AT_EXECFN's string ends 8 bytes below the top of [stack]"
        );
        let (_, platform, rest) = p.aux(AT_PLATFORM).expect("AT_PLATFORM");
        assert_eq!(unquote(rest), b"x86_64");
        assert_eq!(
            self.bytes(*platform, 7),
            b"x86_64\0",
            "AT_PLATFORM's string in [stack]"
        );
        let (_, random, rest) = p.aux(AT_RANDOM).expect("AT_RANDOM");
        let shown = rest.strip_prefix("bytes ").expect(rest);
        let real: String = self
            .bytes(*random, 16)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(shown, real, "AT_RANDOM's 16 bytes");
        // Low to high: argc, the arrays, the random bytes, the platform
        // string, the argv strings, the environment strings, the file name.
        assert!(p.argc_at < p.auxv_at && p.auxv_at < *random, "{p:#?}");
        assert!(random + 16 <= *platform && *platform < st.arg_start);
        assert!(st.arg_end <= st.env_start && st.env_end <= *execfn);
        // Counts also in decimal; the program's own headers and entry.
        assert_eq!(p.aux(AT_PAGESZ).unwrap().1, 4096);
        assert_eq!(p.aux(AT_PAGESZ).unwrap().2, "4096");
        let elf = assert_static_exec(BIN);
        assert_eq!(p.aux(AT_ENTRY).unwrap().1, elf.entry);
        assert_eq!(
            p.aux(AT_PHDR).unwrap().1,
            0x40_0040,
            "headers right after the ELF header"
        );
        let vdso = stop.find("[vdso]").expect("[vdso]");
        assert_eq!(p.aux(AT_SYSINFO_EHDR).unwrap().1, vdso.start);
    }
}

fn env_command(vars: &[(String, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().envs(vars.iter().map(|(k, v)| (k, v)));
    cmd
}

#[test]
fn prints_what_the_kernel_put_on_the_stack() {
    let vars = [
        ("LESSON".to_string(), "auxv".to_string()),
        ("TWO_LINES".to_string(), "a\nb \"q\" \\".to_string()),
        ("UTF8_DEL".to_string(), "\x7f é".to_string()),
    ];
    let mut cmd = env_command(&vars);
    cmd.arg("two words");
    let r = Run::new(cmd);
    r.check();
    let p = &r.p;
    assert_eq!(p.argc, 2);
    assert_eq!(p.argv[0].1, BIN.as_bytes());
    assert_eq!(p.argv[1].1, b"two words");
    let envp: Vec<&[u8]> = p.envp.iter().map(|e| &e.1[..]).collect();
    assert_eq!(
        envp,
        [
            &b"LESSON=auxv"[..],
            b"TWO_LINES=a\nb \"q\" \\",
            "UTF8_DEL=\x7f é".as_bytes()
        ]
    );
    // Control bytes, `\` and DEL escaped; UTF-8 as it is.
    for shown in [
        concat!(r#" "TWO_LINES=a\x0ab "q" \x5c""#, "\n"),
        concat!(r#" "UTF8_DEL=\x7f é""#, "\n"),
    ] {
        assert!(r.w.stdout.contains(shown), "{shown} in {}", r.w.stdout);
    }
    assert_eq!(unquote(&p.aux(AT_EXECFN).unwrap().2), BIN.as_bytes());
    // The narration names argc's address and [stack], then the stop.
    let err = &r.w.stderr;
    assert!(
        err.contains(&format!("from argc at {:#x}", p.argc_at)),
        "{err}"
    );
    assert!(err.contains("[stack]") && err.contains("[stop 1]"), "{err}");
}

#[test]
fn empty_environment() {
    let r = Run::new(env_command(&[]));
    r.check();
    assert!(r.p.envp.is_empty());
    let st = &r.w.stops[0].stat;
    assert_eq!(st.env_start, st.env_end, "no environment strings");
}

#[test]
fn five_thousand_variables() {
    let vars: Vec<(String, String)> = (0..5000)
        .map(|i| (format!("VAR_{i:04}"), format!("value {i}")))
        .collect();
    let r = Run::new(env_command(&vars));
    r.check();
    assert_eq!(r.p.envp.len(), 5000);
    for ((_, s), (k, v)) in r.p.envp.iter().zip(&vars) {
        assert_eq!(s, format!("{k}={v}").as_bytes());
    }
    // Some 100 KiB of strings and pointers: [stack] grew past its usual
    // 132 KiB to hold them.
    assert!(r.stack.size() > 132 << 10, "{:?}", r.stack);
}

unsafe extern "C" {
    fn execve(path: *const i8, argv: *const usize, envp: *const usize) -> i32;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn getuid() -> u32;
}

/// `include/uapi/linux/prctl.h`.
const PR_SET_PDEATHSIG: i32 = 1;

/// An `execve(BIN, {NULL}, {"LESSON=argc0", NULL})`, which std's Command
/// cannot do: our own `pre_exec` execs before std would.
fn empty_argv_command() -> Command {
    let path = CString::new(BIN).unwrap();
    let var = CString::new("LESSON=argc0").unwrap();
    // Addresses as usize: the closure must be Send. The CStrings move into
    // the closure, so their bytes stay where these addresses point.
    let argv = [0usize];
    let envp = [var.as_ptr() as usize, 0];
    let mut cmd = Command::new(BIN);
    // SAFETY: between fork and exec only prctl and execve are called,
    // both async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            let _keep = (&path, &var);
            // What procfs::Demo would do in its own pre_exec, which never
            // runs because we exec first: die with the test.
            prctl(PR_SET_PDEATHSIG, procfs::child::SIGKILL as u64, 0, 0, 0);
            execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            Err(std::io::Error::last_os_error())
        });
    }
    cmd
}

#[test]
fn empty_argv() {
    let r = Run::new(empty_argv_command());
    r.check();
    let st = &r.w.stops[0].stat;
    // Linux 5.18 and later replace an empty argv with one empty string
    // (fs/exec.c: "launched … with NULL argv: empty string added"); older
    // kernels start the program with argc == 0.
    match r.p.argc {
        0 => {
            assert!(r.p.argv.is_empty());
            assert_eq!(st.arg_start, st.arg_end);
        }
        1 => {
            assert_eq!(r.p.argv[0].1, b"");
            assert_eq!(st.arg_end - st.arg_start, 1, "one NUL byte");
        }
        n => panic!("argc {n} from an empty argv"),
    }
    assert_eq!(r.p.envp.len(), 1);
    assert_eq!(unquote(&r.p.aux(AT_EXECFN).unwrap().2), BIN.as_bytes());
}

unsafe extern "C" {
    fn ptrace(request: i32, ...) -> i64;
}

/// `include/uapi/linux/ptrace.h`, arch/x86/include/uapi/asm/ptrace-abi.h.
const PTRACE_POKEDATA: i32 = 5;
const PTRACE_GETREGS: i32 = 12;
const PTRACE_SETREGS: i32 = 13;
const PTRACE_DETACH: i32 = 17;
/// `struct user_regs_struct` (arch/x86/include/asm/user_64.h): 27 words,
/// `rsp` the 20th.
const USER_REGS_WORDS: usize = 27;
const RSP: usize = 19;

/// argc == 0, which this kernel (5.18+) no longer produces from an empty
/// argv: the demo is stopped under ptrace before its first instruction,
/// and its initial stack made into that of an execve with an empty argv.
/// Moving the stack pointer up one word over argv[0] leaves argv's NULL
/// right above argc, then envp and auxv as before; argc is written 0.
#[test]
fn argc_0_as_older_kernels_start_it() {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("LESSON", "argc0");
    cmd.stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::piped());
    // Stopped after its execve, before its first instruction.
    let child = spawn_traced(cmd);
    let pid = child.id() as i32;
    let mut regs = [0u64; USER_REGS_WORDS];
    // SAFETY: GETREGS and SETREGS read and write one user_regs_struct;
    // POKEDATA writes one word into the stopped child, where its argv[0]
    // pointer was.
    unsafe {
        assert_eq!(ptrace(PTRACE_GETREGS, pid, 0usize, regs.as_mut_ptr()), 0);
        regs[RSP] += 8;
        assert_eq!(ptrace(PTRACE_POKEDATA, pid, regs[RSP], 0usize), 0);
        assert_eq!(ptrace(PTRACE_SETREGS, pid, 0usize, regs.as_ptr()), 0);
        assert_eq!(ptrace(PTRACE_DETACH, pid, 0usize, 0usize), 0);
    }
    // Its own stop: read what the kernel says, then let it end.
    wait_stopped(pid, procfs::child::SIGSTOP);
    let st = procfs::stat::read(pid as u32).unwrap();
    let auxv = procfs::stat::read_auxv(pid as u32).unwrap();
    procfs::child::raw_kill(pid, procfs::child::SIGCONT);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    let p = parse(&stdout);
    assert_eq!((p.argc, p.argv.len()), (0, 0), "{stdout}");
    assert_eq!(p.argc_at, st.start_stack + 8, "one word above the kernel's");
    // auxv[] right after argc, argv's NULL, envp[0] and its NULL.
    assert_eq!(p.auxv_at, p.argc_at + 8 * 4);
    let envp: Vec<&[u8]> = p.envp.iter().map(|e| &e.1[..]).collect();
    assert_eq!(envp, [b"LESSON=argc0"]);
    let pairs: Vec<(u64, u64)> = p.auxv.iter().map(|a| (a.0, a.1)).collect();
    assert_eq!(pairs, auxv, "printed auxv = /proc/PID/auxv");
    assert!(stderr.contains("[stop 1]"), "{stderr}");
}

#[test]
fn a_user_sees_its_own_ids() {
    // SAFETY: getuid reads our uid.
    let me = unsafe { getuid() };
    // Root starts the demo as user nobody; anyone else as themselves.
    let copy = SharedCopy::new(BIN);
    let (cmd, uid) = if me == 0 {
        let Some(setpriv) = tool("setpriv") else {
            return;
        };
        let mut cmd = Command::new(setpriv);
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            copy.as_str(),
        ]);
        (cmd, 65534)
    } else {
        (Command::new(BIN), me)
    };
    let r = Run::new(cmd);
    r.check();
    assert_eq!(r.p.aux(AT_UID).unwrap().1, u64::from(uid));
    assert_eq!(r.p.aux(AT_EUID).unwrap().2, uid.to_string());
}

#[test]
fn quiet_silences_only_the_narration() {
    let w = walk_quiet(BIN, &["-q"], 1);
    let p = parse(&w.stdout);
    assert_eq!(p.argc, 2);
    assert_eq!(p.auxv.len(), w.stops[0].auxv.len());
}

#[test]
fn quiet_makes_only_the_lessons_syscalls() {
    let Some(strace) = tool("strace") else { return };
    let names = strace_names(&strace, BIN, &["-q"]);
    assert!(names.iter().any(|n| n == "write"), "{names:?}");
    let others: Vec<&String> = names.iter().filter(|n| *n != "write").collect();
    assert_eq!(others, ["execve", "getpid", "kill", "exit"]);
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["fine", "--x"], "unknown option '--x'");
}

#[test]
fn help_goes_to_stdout() {
    assert_help(BIN);
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}
