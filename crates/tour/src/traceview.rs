//! The terminal renderer of a trace ([`crate::trace`]): reads only the
//! steps and the run's files. At `exec`, `entry`, `stop` and `exit` it
//! prints every maps line; at a `call` the call strace-style and the
//! lines it changed. Each line says who made it (the kernel at exec, the
//! dynamic linker, libc, the program: whoever made the call, by the
//! mapping its `syscall` instruction is in) and what it is (which
//! PT_LOAD of which file, RELRO, .bss, ld.so.cache, TLS, guard pages,
//! thread stacks, malloc arenas).

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Write};

use procfs::Mapping;
use procfs::elf::{self, PF_W, PF_X, ProgramHeader};
use procfs::maps::{self, PAGE, page_start};

use crate::annotate::{self, Context, Program};
use crate::diff::{self, Line, Mark};
use crate::record::{DemoRun, Hung, Stop, Watch};
use crate::style::Style;
use crate::term::signal_name;
use crate::{demos, diagram, fit, show};

/// A malloc arena of a thread reserves HEAP_MAX_SIZE, 64 MiB on 64-bit
/// (`2 * DEFAULT_MMAP_THRESHOLD_MAX`, glibc malloc/arena.c).
const ARENA: u64 = 64 << 20;
/// Width of the name column.
const NAME: usize = 20;
/// Width of the "who" column.
const WHO: usize = 10;

/// Which steps to show (`--steps exec,call,entry,stop,exit`).
pub const STEP_KINDS: &[&str] = &["exec", "call", "entry", "stop", "exit"];

pub struct View<'a> {
    pub out: &'a mut dyn Write,
    pub st: Style,
    pub raw: bool,
    pub diagram: bool,
    pub pause: bool,
    pub steps: Vec<String>,
    /// Per process: the maps of its last step.
    last: HashMap<u32, Vec<Mapping>>,
    /// Per process: the maps of its last full table.
    last_full: HashMap<u32, Vec<Mapping>>,
    /// (pid, start) -> who made it.
    made: HashMap<(u32, u64), String>,
    /// Per process: the thread pointer set by arch_prctl(ARCH_SET_FS).
    fs: HashMap<u32, HashSet<u64>>,
    /// Per process: the program's path (from its exec step).
    exe: HashMap<u32, String>,
    /// Per process: its interpreter, as maps names it (from its exec step).
    interp: HashMap<u32, String>,
    /// Per process: the program's ELF file and load offset, for section names.
    program: HashMap<u32, Program>,
    /// Fit lines to this many columns (`None`: as they are).
    pub width: Option<usize>,
    /// The host facts `--diagram` marks (paging levels, guard gap).
    pub host: crate::record::Host,
    /// A live trace: the pid at a pause is a process to look at.
    pub live: bool,
    /// Steps printed, calls seen (per who).
    pub shown: usize,
    pub calls: Vec<String>,
}

impl<'a> View<'a> {
    pub fn new(out: &'a mut dyn Write, st: Style) -> View<'a> {
        View {
            out,
            st,
            raw: false,
            diagram: false,
            pause: false,
            steps: STEP_KINDS.iter().map(|s| s.to_string()).collect(),
            last: HashMap::new(),
            last_full: HashMap::new(),
            made: HashMap::new(),
            fs: HashMap::new(),
            exe: HashMap::new(),
            program: HashMap::new(),
            interp: HashMap::new(),
            width: None,
            host: crate::record::Host::default(),
            live: false,
            shown: 0,
            calls: Vec::new(),
        }
    }
}

impl<'a> View<'a> {
    /// As the options say (`--raw`, `--diagram`, `--pause`, `--steps`),
    /// on the host the recording describes.
    pub fn with(
        out: &'a mut dyn Write,
        opts: &crate::run::Options,
        steps: Option<Vec<String>>,
        host: &crate::record::Host,
    ) -> View<'a> {
        let mut view = View::new(out, opts.style);
        view.host = host.clone();
        view.raw = opts.raw;
        view.diagram = opts.diagram;
        view.pause = opts.pause;
        view.width = opts.width;
        if let Some(s) = steps {
            view.steps = s;
        }
        view
    }
}

/// The program headers the collector read, by path.
fn segments(run: &DemoRun) -> HashMap<String, Vec<ProgramHeader>> {
    let mut all: HashMap<String, Vec<ProgramHeader>> = HashMap::new();
    for line in run.text("segments").unwrap_or_default().lines() {
        let Some((path, rest)) = line.rsplit_once('\t') else {
            continue;
        };
        let n: Vec<u64> = rest
            .split(' ')
            .filter_map(|x| u64::from_str_radix(x, 16).ok())
            .collect();
        if let [kind, flags, offset, vaddr, filesz, memsz] = n[..] {
            all.entry(path.to_string())
                .or_default()
                .push(ProgramHeader {
                    kind: kind as u32,
                    flags: flags as u32,
                    offset,
                    vaddr,
                    filesz,
                    memsz,
                    paddr: vaddr,
                    align: 0,
                    fields: Vec::new(),
                });
        }
    }
    all
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Who made a call, by the file its `syscall` instruction is in.
fn who(caller: &str, interp: &str, exe: &str) -> String {
    if caller.is_empty() {
        "anonymous code".into()
    } else if caller == interp {
        "ld.so".into()
    } else if caller == exe {
        "program".into()
    } else if base_name(caller).starts_with("libc.so") {
        "libc".into()
    } else {
        base_name(caller).into()
    }
}

impl View<'_> {
    fn wants(&self, kind: &str) -> bool {
        self.steps.iter().any(|s| s == kind)
    }

    /// The words for one line: what it is.
    fn what(
        &self,
        m: &Mapping,
        all: &[Mapping],
        pid: u32,
        segs: &HashMap<String, Vec<ProgramHeader>>,
    ) -> String {
        let exe = self.exe.get(&pid).cloned().unwrap_or_default();
        let interp = self.interp.get(&pid).cloned().unwrap_or_default();
        if m.path.ends_with("/ld.so.cache") {
            return "ld.so's cache of library paths (ldconfig): mapped to look a library up, unmapped when done".into();
        }
        if m.is_special() {
            let mut text = annotate::annotate(m, &Context::default());
            if m.path == "[heap]" {
                text = format!("malloc's heap, grown with brk | {text}");
            }
            return text;
        }
        if !m.anonymous() {
            let role = if m.path == exe {
                "the program"
            } else if m.path == interp {
                "the dynamic linker"
            } else {
                base_name(&m.path)
            };
            let mut words = match segs.get(&m.path) {
                Some(s) => segment_words(m, all, s, role),
                None => format!("{role}: a file mapped with mmap, offset {:#x}", m.offset),
            };
            if let Some(p) = self.program.get(&pid).filter(|p| p.owns(m)) {
                let names = p.sections_of(m);
                if !names.is_empty() {
                    words += &format!(" [{}]", names.join(" "));
                }
            }
            return words;
        }
        if self
            .fs
            .get(&pid)
            .is_some_and(|f| f.iter().any(|&a| m.contains(a)))
        {
            return "TLS + TCB: %fs points here (arch_prctl ARCH_SET_FS): each module's static TLS, then the thread's struct pthread".into();
        }
        // Right above a file's last segment: its .bss, past the file's end.
        if let Some(prev) = all.iter().rev().find(|p| p.end <= m.start)
            && prev.end == m.start
            && !prev.anonymous()
            && let Some(s) = segs.get(&prev.path)
            && let Some(bias) = bias(&prev.path, all, s)
            && s.iter().any(|p| {
                p.kind == elf::PT_LOAD
                    && p.memsz > p.filesz
                    && (p.vaddr + p.memsz).wrapping_add(bias) > m.start
            })
        {
            return format!(
                "{}'s .bss beyond the file's pages: zero-filled memory (memsz > filesz)",
                base_name(&prev.path)
            );
        }
        let next = all.iter().find(|n| n.start >= m.end);
        let maker = self
            .made
            .get(&(pid, m.start))
            .map(String::as_str)
            .unwrap_or("");
        if m.perms == "---p" {
            if m.size() == PAGE
                && next.is_some_and(|n| n.start == m.end && n.anonymous() && n.writable())
            {
                return "guard page, PROT_NONE: a stack that overflows faults here instead of writing past its end".into();
            }
            if maker == "libc"
                && m.size() < ARENA
                && all.iter().any(|p| {
                    p.end == m.start
                        && p.anonymous()
                        && p.writable()
                        && p.size() + m.size() == ARENA
                })
            {
                return "the rest of a malloc arena's 64 MiB reservation, PROT_NONE until malloc needs it".into();
            }
            if maker == "libc" && m.size() == 2 * ARENA {
                return "a new malloc arena: 128 MiB reserved, so that a 64 MiB piece aligned to 64 MiB can be cut out of it".into();
            }
            if maker == "libc" && m.size() == ARENA && m.start.is_multiple_of(ARENA) {
                return "a malloc arena's 64 MiB reservation, aligned to 64 MiB (so free finds its heap from any pointer), PROT_NONE until malloc needs it".into();
            }
            return "reserved, PROT_NONE: any access faults".into();
        }
        if m.writable() && maker == "libc" {
            if all
                .iter()
                .any(|p| p.end == m.start && p.perms == "---p" && p.size() == PAGE)
            {
                return "a thread's stack (pthread_create), with a guard page below it".into();
            }
            if next.is_some_and(|n| {
                n.start == m.end && n.perms == "---p" && n.size() + m.size() == ARENA
            }) {
                return "a malloc arena (a thread's heap): the usable part of its 64 MiB reservation".into();
            }
        }
        if m.writable() && maker == "ld.so" {
            return "from ld.so's minimal malloc (whole pages by mmap, until libc's malloc takes over): what ld.so allocates while loading, e.g. link maps, search paths, the first thread's TLS".into();
        }
        annotate::annotate(m, &Context::default())
    }

    /// The lines (all, or only the changed ones) with their words; `all`
    /// is every line of the maps now, the context the words need.
    fn table(&mut self, lines: &[Line], all: &[Mapping], pid: u32, run: &DemoRun) -> String {
        let segs = segments(run);
        let width = show::address_width(lines);
        let mut out = String::new();
        for l in lines {
            let m = &l.now;
            // A removed line is read in the maps it was in.
            let before = self.last.get(&pid).cloned().unwrap_or_default();
            let context = if l.mark == Mark::Removed {
                &before[..]
            } else {
                all
            };
            let mut note = self.what(m, context, pid, &segs);
            match l.mark {
                Mark::Changed => note = format!("{} | {note}", l.delta()),
                Mark::Removed => note = format!("unmapped | {note}"),
                _ => {}
            }
            let by = self.made.get(&(pid, m.start)).cloned().unwrap_or_default();
            let prefix = format!(
                "{}  {:<NAME$} {:<WHO$} ",
                show::line_start(l.mark, m, width),
                annotate::short_name(m),
                by,
            );
            out += &show::row(&prefix, &note, l.mark, self.st, self.width);
        }
        out
    }

    /// Marks who made each new line of `now` (and `~` lines: who changed it).
    fn remember(&mut self, pid: u32, now: &[Mapping], by: &str) {
        let before = self.last.get(&pid).cloned();
        for l in diff::diff(before.as_deref(), now) {
            if l.mark == Mark::Added || l.mark == Mark::Changed || before.is_none() {
                self.made.insert((pid, l.now.start), by.to_string());
            }
        }
    }

    fn pause_here(&mut self, pid: u32) -> io::Result<()> {
        if !self.pause {
            return Ok(());
        }
        if self.live {
            writeln!(
                self.out,
                "\n  paused: pid {pid} stays stopped (traced by the tour, so gdb cannot attach; pmap -X {pid}, cat /proc/{pid}/smaps work). Enter continues."
            )?;
        } else {
            writeln!(
                self.out,
                "\n  paused: a recorded step of pid {pid} (a replay: no process to look at). Enter continues."
            )?;
        }
        self.out.flush()?;
        let mut line = String::new();
        if io::stdin().lock().read_line(&mut line)? == 0 {
            writeln!(self.out, "  (stdin is closed: no more pauses)")?;
            self.pause = false;
        }
        Ok(())
    }

    fn full(&mut self, title: &str, step: &Stop, now: &[Mapping], run: &DemoRun) -> io::Result<()> {
        let pid = ids(step).0;
        let head = fit::lines(&self.st.bold(title), self.width);
        write!(self.out, "\n{head}\n")?;
        let before = self.last_full.get(&pid).cloned();
        let lines = diff::diff(before.as_deref(), now);
        if self.raw {
            write!(self.out, "{}", step.text("maps").unwrap_or_default())?;
        } else {
            let t = self.table(&lines, now, pid, run);
            write!(self.out, "{t}")?;
        }
        if self.diagram {
            write!(
                self.out,
                "\n{}",
                diagram::draw(&lines, self.st, self.width, &self.host)
            )?;
        }
        self.last_full.insert(pid, now.to_vec());
        self.shown += 1;
        self.pause_here(pid)
    }

    fn label(&self, pid: u32, run: &DemoRun) -> String {
        if pid == run.pid {
            format!("pid {pid}")
        } else {
            format!("pid {pid} (forked)")
        }
    }
}

/// What `parent` had, `child` has too (a fork copies it).
fn inherit<T: Clone>(map: &mut HashMap<u32, T>, parent: u32, child: u32) {
    if let Some(v) = map.get(&parent).cloned() {
        map.insert(child, v);
    }
}

/// Load bias of `path`: where its first mapping is minus its first
/// PT_LOAD's page.
fn bias(path: &str, all: &[Mapping], segs: &[ProgramHeader]) -> Option<u64> {
    let first = segs.iter().find(|p| p.kind == elf::PT_LOAD)?;
    let start = all
        .iter()
        .filter(|m| m.path == path)
        .map(|m| m.start)
        .min()?;
    Some(start.wrapping_sub(page_start(first.vaddr)))
}

/// `PT_LOAD 2 of 4 (R E): code` and the like, RELRO and holes named.
fn segment_words(m: &Mapping, all: &[Mapping], segs: &[ProgramHeader], role: &str) -> String {
    let loads: Vec<&ProgramHeader> = segs.iter().filter(|p| p.kind == elf::PT_LOAD).collect();
    let Some(bias) = bias(&m.path, all, segs) else {
        return format!("{role}: mapped with mmap");
    };
    let at = m.start.wrapping_sub(bias);
    if m.perms == "---p" {
        return format!(
            "{role}: a hole between its segments, PROT_NONE: ld.so reserved the whole span in one mmap, so nothing else lands inside"
        );
    }
    let Some((i, p)) = loads
        .iter()
        .enumerate()
        .find(|(_, p)| page_start(p.vaddr) <= at && at < p.vaddr + p.memsz)
    else {
        return format!("{role}: the file mapped with mmap, offset {:#x}", m.offset);
    };
    let head = format!(
        "{role}: PT_LOAD {} of {} ({})",
        i + 1,
        loads.len(),
        p.flags_str()
    );
    let relro = segs
        .iter()
        .find(|r| r.kind == elf::PT_GNU_RELRO)
        .is_some_and(|r| page_start(r.vaddr) <= at && at < r.vaddr + r.memsz);
    if relro && p.flags & PF_W != 0 && !m.writable() {
        return format!(
            "{head}, its RELRO part (PT_GNU_RELRO): written while relocating, then made read-only"
        );
    }
    let what = if p.flags & PF_X != 0 {
        "code"
    } else if p.flags & PF_W != 0 {
        if relro {
            "data; its RELRO part still writable until relocation is done"
        } else {
            "data"
        }
    } else if p.offset == 0 {
        "ELF headers and read-only data"
    } else {
        "read-only data"
    };
    format!("{head}: {what}")
}

/// The `pid` and `tid` files of a step.
fn ids(step: &Stop) -> (u32, u32) {
    let n = |f| step.text(f).and_then(|t| t.parse().ok()).unwrap_or(0);
    (n("pid"), n("tid"))
}

impl Watch for View<'_> {
    fn started(&mut self, run: &DemoRun) -> io::Result<()> {
        writeln!(self.out, "{}", run.command)
    }

    fn ended(&mut self, run: &DemoRun) -> io::Result<()> {
        summary(self, run)
    }

    fn stopped(&mut self, run: &DemoRun, step: &Stop) -> io::Result<()> {
        let now = step
            .text("maps")
            .and_then(|t| maps::parse(&t).ok())
            .unwrap_or_default();
        let (pid, tid) = ids(step);
        let label = self.label(pid, run);
        if let Some(err) = step.text("error") {
            writeln!(self.out, "tour: {err}")?;
        }
        match step.kind.as_str() {
            "exec" => {
                let exe = step.text("exe").unwrap_or_default();
                self.exe.insert(pid, exe.clone());
                self.interp
                    .insert(pid, step.text("interp.path").unwrap_or_default());
                self.program.remove(&pid);
                if let Some(bytes) = step.files.get("program")
                    && let Some(p) = Program::find(&exe, bytes, &now)
                {
                    self.program.insert(pid, p);
                }
                self.last.remove(&pid);
                self.last_full.remove(&pid);
                self.fs.remove(&pid);
                self.made.retain(|(p, _), _| *p != pid);
                self.remember(pid, &now, "kernel");
                let loader = step.text("loader").as_deref() == Some("1");
                let then = if loader {
                    format!(
                        "the interpreter {} runs first",
                        step.text("interp").unwrap_or_default()
                    )
                } else {
                    "no interpreter: the program itself runs first".into()
                };
                if self.wants("exec") {
                    let title = format!(
                        "-- exec, {label}: what execve built alone for {exe}, nothing of it has run yet; {then}"
                    );
                    self.full(&title, step, &now, run)?;
                }
            }
            "call" => {
                let caller = step.text("caller").unwrap_or_default();
                let exe = self.exe.get(&pid).cloned().unwrap_or_default();
                let interp = self.interp.get(&pid).cloned().unwrap_or_default();
                let by = who(&caller, &interp, &exe);
                self.calls.push(by.clone());
                if step.text("name").as_deref() == Some("arch_prctl")
                    && let Some(a) = step.text("args").and_then(|a| {
                        a.split(' ')
                            .nth(1)
                            .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
                    })
                {
                    self.fs.entry(pid).or_default().insert(a);
                }
                let before = self.last.get(&pid).cloned().unwrap_or_default();
                self.remember(pid, &now, &by);
                if self.wants("call") {
                    let call = step.text("call").unwrap_or_default();
                    let thread = if tid != pid {
                        format!(", thread {}", tid)
                    } else {
                        String::new()
                    };
                    let head = format!(
                        "-- call {}, {label}{thread}, {by}: {call}",
                        self.calls.len()
                    );
                    let head = fit::lines(&self.st.bold(&head), self.width);
                    write!(self.out, "\n{head}\n")?;
                    let lines = diff::changes(&before, &now);
                    if lines.is_empty() {
                        let why = match step.text("name").as_deref() {
                            Some("madvise") => {
                                ": the lines stay, the pages are dropped (Rss falls)"
                            }
                            Some("arch_prctl") => ": it only sets a register",
                            Some("brk") => ": brk(NULL) only asks where the break is",
                            Some("mmap") => ": the same permissions over the same pages",
                            _ => "",
                        };
                        writeln!(self.out, "  (no line of maps changed{why})")?;
                    } else if self.raw {
                        for l in &lines {
                            writeln!(self.out, "{} {}", l.mark.symbol(), l.now)?;
                        }
                    } else {
                        let t = self.table(&lines, &now, pid, run);
                        write!(self.out, "{t}")?;
                    }
                    self.shown += 1;
                    self.pause_here(pid)?;
                }
            }
            "entry" if self.wants("entry") => {
                let title = format!(
                    "-- entry, {label}: AT_ENTRY {} reached ({}): the loader is done, the program's own code starts (marks: since the last table)",
                    step.text("entry").unwrap_or_default(),
                    step.text("by").unwrap_or_default()
                );
                self.full(&title, step, &now, run)?;
            }
            "stop" if self.wants("stop") => {
                let sig: i32 = step
                    .text("signal")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let title = format!(
                    "-- stop, {label}: it stopped itself ({}, a group-stop); the tour sends SIGCONT",
                    signal_name(sig)
                );
                self.full(&title, step, &now, run)?;
            }
            "exit" if self.wants("exit") => {
                let how = step.text("call").unwrap_or_else(|| {
                    "dying (no exit_group call: a signal, or the last thread's exit)".into()
                });
                let title = format!("-- exit, {label}: {how}: the final layout");
                self.full(&title, step, &now, run)?;
            }
            "signal" => {
                let sig: i32 = step
                    .text("signal")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                // The tour's own SIGCONT after a stop is no news.
                if sig != procfs::child::SIGCONT {
                    writeln!(
                        self.out,
                        "\n  {label}: signal {} delivered (passed on to the program)",
                        signal_name(sig)
                    )?;
                }
            }
            "task" => {
                let child = step.text("child").unwrap_or_default();
                let birth = step.text("birth").unwrap_or_default();
                let note = match birth.as_str() {
                    "thread" => {
                        "a new thread: same address space, its calls are shown under this pid"
                    }
                    "fork" => {
                        "a new process with a copy of the address space; its steps say its pid"
                    }
                    _ => "a vfork child: it borrows this address space until it execs or exits",
                };
                writeln!(self.out, "\n  {label}: {birth} {child}: {note}")?;
                if birth != "thread"
                    && let Ok(c) = child.parse::<u32>()
                {
                    // A copy of this address space, made by the same hands.
                    if let Some(m) = self.last.get(&pid).cloned() {
                        self.last.insert(c, m.clone());
                        self.last_full.insert(c, m);
                    }
                    let made: Vec<_> = self
                        .made
                        .iter()
                        .filter(|((p, _), _)| *p == pid)
                        .map(|((_, s), w)| ((c, *s), w.clone()))
                        .collect();
                    self.made.extend(made);
                    inherit(&mut self.exe, pid, c);
                    inherit(&mut self.interp, pid, c);
                    inherit(&mut self.fs, pid, c);
                    inherit(&mut self.program, pid, c);
                }
            }
            "end" => {
                let status = step.text("status").unwrap_or_default();
                let status = match status.split_once(' ') {
                    Some(("killed", s)) => {
                        format!("killed by {}", signal_name(s.parse().unwrap_or(0)))
                    }
                    _ => status,
                };
                if pid != run.pid {
                    writeln!(self.out, "\n  {label}: {status}")?;
                }
            }
            _ => {}
        }
        if !now.is_empty() {
            self.last.insert(pid, now);
        }
        self.out.flush()
    }
}

/// The last lines: how it ended and what it took.
pub fn summary(view: &mut View, run: &DemoRun) -> io::Result<()> {
    let end = run
        .stops
        .iter()
        .rev()
        .find(|s| s.kind == "end" && ids(s).0 == run.pid);
    let syscalls = end
        .and_then(|s| s.text("syscalls"))
        .unwrap_or_else(|| "?".into());
    let how = match run.status {
        Some(procfs::Event::Exited(c)) => format!("exited {c}"),
        Some(procfs::Event::Killed(s)) => format!("killed by {}", signal_name(s)),
        _ if let Some(Hung::NoStop(t) | Hung::NoSleep(t)) = run.hung => format!(
            "neither ended nor changed its address space within {} s: killed",
            t.as_secs_f64()
        ),
        _ => "did not finish".into(),
    };
    let mut by: Vec<(String, usize)> = Vec::new();
    for c in &view.calls {
        match by.iter_mut().find(|(w, _)| w == c) {
            Some((_, n)) => *n += 1,
            None => by.push((c.clone(), 1)),
        }
    }
    let by: Vec<String> = by.iter().map(|(w, n)| format!("{w} {n}")).collect();
    let text = format!(
        "\n== trace: {}: {how}; {syscalls} syscalls, {} changed the address space ({}); {} step{} shown",
        run.command.trim_start_matches("$ "),
        view.calls.len(),
        if by.is_empty() {
            "none".to_string()
        } else {
            by.join(", ")
        },
        view.shown,
        if view.shown == 1 { "" } else { "s" }
    );
    writeln!(view.out, "{}", view.st.bold(&text))?;
    if let Some(d) = demos::find(&run.name) {
        writeln!(view.out, "   {}", d.lesson)?;
    }
    view.out.flush()
}
