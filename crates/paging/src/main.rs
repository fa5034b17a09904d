//! `paging`: demand paging. A mapping is address space; memory comes
//! page by page, when a page is first written. Watch `Rss` in
//! /proc/PID/smaps (and the present bits of /proc/PID/pagemap) at each
//! stop:
//!
//! 1. After `mmap(SIZE)` (default 64 MiB) and `MADV_NOHUGEPAGE` (small
//!    pages only, so that the counts are exact): a new `rw-p` line of
//!    SIZE, `Rss: 0 kB`. No page is present.
//! 2. After *reading* one byte of every page: still `Rss: 0 kB`. A read
//!    fault on private anonymous memory maps the kernel's one shared
//!    zero page (`do_anonymous_page`, mm/memory.c): pagemap shows every
//!    page present, but smaps does not count the zero page as ours. The
//!    minor faults (/proc/PID/stat field 10) grew by one per page.
//! 3. After writing one byte in every 16th page: `Rss` is exactly
//!    SIZE/16, and the minor faults grew by the number of pages written:
//!    each write faulted and got a zeroed page of its own.
//! 4. After `madvise(MADV_DONTNEED)` on the whole range: `Rss: 0 kB`
//!    again, no page present; the maps line is unchanged.
//! 5. After a second `mmap` of SIZE/4 with `MAP_POPULATE`: resident at
//!    once, every page present, before anything touched it. The kernel
//!    counts the faults it took for us in the call as our minor faults.
//! 6. After writing every page of that second mapping (no new faults:
//!    the pages were there) and one byte into a 2 MiB-aligned 2 MiB of a
//!    4 MiB region with `MADV_HUGEPAGE`: where transparent huge pages are
//!    on, that one write gave 2 MiB (`AnonHugePages: 2048 kB`). The demo
//!    prints /sys/kernel/mm/transparent_hugepage/enabled and
//!    hugepages-2048kB/enabled (which may say `[inherit]`: as the first)
//!    and what they allow, and reads `thp_fault_fallback` in /proc/vmstat
//!    before and after the write: if it grew, the kernel found no free
//!    huge page and fell back to a small one.
//!
//! `paging [-q] [SIZE]`. Before touching anything it checks that what it
//! will make resident (SIZE/16, then SIZE/4 and 2 MiB) fits in the free
//! memory (`sysinfo(2)`: freeram + bufferram) and in what its cgroup
//! leaves: v2 `memory.max` - `memory.current`, v1
//! `memory.limit_in_bytes` - `memory.usage_in_bytes`, in the directory
//! /proc/self/cgroup names. A size that does not fit is refused with exit
//! status 1, never left to the OOM killer. With `-q`, strace shows
//! `execve`, `sysinfo`, the reads of /proc/self/cgroup and the cgroups'
//! files, then the lesson's own calls: `mmap`, `madvise`, `mmap` with
//! MAP_POPULATE, the THP files, the THP region's `mmap` and `madvise`,
//! /proc/vmstat twice, and a `getpid`, `kill` pair at each stop (the
//! tests have the exact list).
#![no_std]
#![no_main]

use core::ptr::{read_volatile, write_volatile};
use sys::{
    Args, Cli, HUGE_PAGE_SIZE, Line, MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MAP_ANONYMOUS,
    MAP_POPULATE, MAP_PRIVATE, O_CLOEXEC, O_RDONLY, OrExit, PAGE_SIZE, PROT_READ, PROT_WRITE,
    out::STDERR,
};

const USAGE: &str = "usage: paging [-q] [SIZE]
Demand paging in SIZE (64M) bytes of anonymous memory.\n";

const DEFAULT_SIZE: &[u8] = b"64M";
/// Every 16th page is written at stop 3: Rss becomes SIZE/16.
const STRIDE: usize = 16;
/// The transparent huge page switches (Documentation/admin-guide/mm/transhuge.rst):
/// `always [madvise] never`, the chosen one in brackets; the per-size
/// one may say `[inherit]`: as the global one.
const THP_ENABLED: &[u8] = b"/sys/kernel/mm/transparent_hugepage/enabled\0";
const THP_2M_ENABLED: &[u8] = b"/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled\0";
/// The kernel's event counters; `thp_fault_fallback` counts huge page
/// faults that found no huge page and used a small one.
const VMSTAT: &[u8] = b"/proc/vmstat\0";
const FALLBACK: &[u8] = b"\nthp_fault_fallback ";
/// Where this process's cgroups are (`cgroups(7)`): a line
/// `ID:CONTROLLERS:/PATH` for each hierarchy.
const CGROUP: &[u8] = b"/proc/self/cgroup\0";
/// The memory limit and the memory in use, for each cgroup version: the
/// start of its line in /proc/self/cgroup up to the `/` of PATH, where it
/// is mounted, and the two files in PATH's directory there
/// (Documentation/admin-guide/cgroup-v2.rst; cgroup-v1/memory.rst). A
/// machine may have both: here the memory controller is v1, the other
/// line `0::/`.
const CGROUP_V2: Cgroup = Cgroup {
    line: b"0::/",
    mount: b"/sys/fs/cgroup\0",
    limit: b"memory.max\0",
    usage: b"memory.current\0",
};
const CGROUP_V1: Cgroup = Cgroup {
    line: b":memory:/",
    mount: b"/sys/fs/cgroup/memory\0",
    limit: b"memory.limit_in_bytes\0",
    usage: b"memory.usage_in_bytes\0",
};
struct Cgroup {
    line: &'static [u8],
    mount: &'static [u8],
    limit: &'static [u8],
    usage: &'static [u8],
}
/// /proc/vmstat, the longest file read, has about 180 lines (4 KiB on
/// Linux 6.18).
const FILE_BUF: usize = 16 << 10;

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let arg = cli.next().unwrap_or(DEFAULT_SIZE);
    if let Some(extra) = cli.next() {
        cli.reject(extra);
    }
    let size = match cli.size(arg).checked_next_multiple_of(PAGE_SIZE) {
        Some(0) => cli.usage_error("not a size above 0: '", arg),
        Some(size) => size,
        // Within a page of 2^64: rounding up to whole pages overflows.
        None => cli.usage_error("too big to round up to whole pages: '", arg),
    };
    let q = cli.quiet;
    let populated = (size / 4).next_multiple_of(PAGE_SIZE);
    let mut buf = [0u8; FILE_BUF];
    // Refused with status 1 if what becomes resident does not fit in
    // free memory: never left to the OOM killer.
    let info = sys::sysinfo().or_exit("sysinfo");
    let free = (info.freeram + info.bufferram) * u64::from(info.mem_unit);
    if (size / STRIDE + populated + HUGE_PAGE_SIZE) as u64
        > free
            .min(cgroup_room(&mut buf, false))
            .min(cgroup_room(&mut buf, true))
    {
        sys::say(
            false,
            "paging: more than free memory or the cgroup allows: ENOMEM\n",
        );
        sys::exit(1);
    }

    // 1. Address space only.
    let first = map(size, 0);
    // SAFETY: advice on how to back the range; its contents stay.
    unsafe { sys::madvise(first, size, MADV_NOHUGEPAGE) }.or_exit("madvise");
    stop(q, "paging: mmap, NOHUGEPAGE: ", first);

    // 2. Reads map the shared zero page.
    for page in (first..first + size).step_by(PAGE_SIZE) {
        // SAFETY: inside our mapping, readable.
        unsafe { read_volatile(page as *const u8) };
    }
    stop(q, "paging: read every page: ", first);

    // 3. Writes fault in pages of our own.
    for page in (first..first + size).step_by(STRIDE * PAGE_SIZE) {
        // SAFETY: inside our mapping, writable.
        unsafe { write_volatile(page as *mut u8, 1) };
    }
    stop(q, "paging: wrote every 16th page: ", first);

    // 4. Dropped: the next read would find zeros again.
    // SAFETY: nothing relies on what we wrote.
    unsafe { sys::madvise(first, size, MADV_DONTNEED) }.or_exit("madvise");
    stop(q, "paging: MADV_DONTNEED: ", first);

    // 5. Faulted in by mmap itself.
    let second = map(populated, MAP_POPULATE);
    stop(q, "paging: SIZE/4, MAP_POPULATE: ", second);

    for page in (second..second + populated).step_by(PAGE_SIZE) {
        // SAFETY: inside the second mapping, writable.
        unsafe { write_volatile(page as *mut u8, 1) };
    }
    sys::say(q, "paging: wrote each: no faults\n");

    // 6. One write into a 2 MiB-aligned MADV_HUGEPAGE region. What the
    // switches chose: `a`lways or `m`advise give this region huge pages,
    // `n`ever does not, `i`nherit is the global choice; 0: no such file
    // (a kernel without CONFIG_TRANSPARENT_HUGEPAGE).
    let global = thp_mode(q, "paging: THP ", THP_ENABLED, &mut buf);
    let mode = match thp_mode(q, "paging: 2048kB ", THP_2M_ENABLED, &mut buf) {
        0 | b'i' => global,
        per_size => per_size,
    };
    // 4 MiB hold at least one 2 MiB-aligned 2 MiB, where a PMD can map
    // a huge page.
    let wide = map(2 * HUGE_PAGE_SIZE, 0);
    let huge = wide.next_multiple_of(HUGE_PAGE_SIZE);
    // SAFETY: advice only.
    unsafe { sys::madvise(wide, 2 * HUGE_PAGE_SIZE, MADV_HUGEPAGE) }.or_exit("madvise");
    let before = fallbacks(&mut buf);
    // SAFETY: inside the region, writable.
    unsafe { write_volatile(huge as *mut u8, 1) };
    sys::say(
        q,
        match mode {
            _ if fallbacks(&mut buf) > before => "paging: thp_fault_fallback grew: 4 KiB\n",
            0 => "paging: no THP: 4 KiB\n",
            b'n' => "paging: THP off: 4 KiB\n",
            _ => "paging: THP on: 2 MiB\n",
        },
    );
    stop(q, "paging: MADV_HUGEPAGE, 1 write: ", huge);
}

/// What this process's cgroup still lets it use, for one version
/// ([`CGROUP_V2`], or [`CGROUP_V1`] if `v1`): the limit less what is in use. u64::MAX where there
/// is no limit (v2 says `max`) or no such cgroup.
#[inline(never)]
fn cgroup_room(buf: &mut [u8], v1: bool) -> u64 {
    let Cgroup {
        line,
        mount,
        limit,
        usage,
    } = if v1 { CGROUP_V1 } else { CGROUP_V2 };
    let n = read(CGROUP, buf).len();
    let text = buf.get_mut(..n).unwrap_or_default();
    let Some(at) = find(text, line) else {
        return u64::MAX;
    };
    // `…:/PATH\n` becomes `…./PATH\0`: the cgroup's directory, relative
    // to the mount (`./` for the root cgroup).
    let path = text.get_mut(at + line.len() - 2..).unwrap_or_default();
    let Some(end) = path.iter().position(|&b| b == b'\n') else {
        return u64::MAX;
    };
    if let [dot, .., nl] = &mut path[..=end] {
        (*dot, *nl) = (b'.', 0);
    }
    let Ok(root) = sys::openat(mount, O_RDONLY | O_CLOEXEC) else {
        return u64::MAX;
    };
    let dir = sys::openat_in(
        root,
        path.get(..=end).unwrap_or_default(),
        O_RDONLY | O_CLOEXEC,
    );
    let _ = sys::close(root);
    let Ok(dir) = dir else {
        return u64::MAX;
    };
    let max = number(read_in(dir, limit, buf));
    let used = number(read_in(dir, usage, buf));
    let _ = sys::close(dir);
    max.map_or(u64::MAX, |max| max.saturating_sub(used.unwrap_or(0)) as u64)
}

/// Says `label` and the file's line (unless `q`), and returns the
/// first letter of the choice in brackets, 0 if there is none.
fn thp_mode(q: bool, label: &str, path: &[u8], buf: &mut [u8]) -> u8 {
    let text = read(path, buf);
    let Some(at) = text.iter().position(|&b| b == b'[') else {
        return 0;
    };
    if !q {
        Line::new(STDERR).str(label).bytes(text).write();
    }
    text.get(at + 1).copied().unwrap_or(0)
}

/// The decimal number at the start of `text`, if it starts with one.
#[inline(never)]
fn number(text: &[u8]) -> Option<usize> {
    let digits = text
        .iter()
        .position(|d| !d.is_ascii_digit())
        .unwrap_or(text.len());
    sys::args::parse_decimal(text.get(..digits)?)
}

/// `TEXT 0xADDR` on stderr unless quiet, then stop.
fn stop(q: bool, text: &str, addr: usize) {
    sys::say_at(q, text, addr);
    sys::narrate_stop(q).or_exit("kill");
}

/// Fresh private anonymous read-write memory.
fn map(len: usize, flags: usize) -> usize {
    // SAFETY: no MAP_FIXED, so the new mapping cannot replace anything.
    unsafe {
        sys::mmap(
            0,
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | flags,
            -1,
            0,
        )
    }
    .or_exit("mmap")
}

/// The contents of a small file, empty if it cannot be read.
fn read<'a>(path: &[u8], buf: &'a mut [u8]) -> &'a [u8] {
    read_in(sys::AT_FDCWD as usize, path, buf)
}

/// [`read`] of `path` in the directory open as `dir`.
#[inline(never)]
fn read_in<'a>(dir: usize, path: &[u8], buf: &'a mut [u8]) -> &'a [u8] {
    let Ok(fd) = sys::openat_in(dir, path, O_RDONLY | O_CLOEXEC) else {
        return &[];
    };
    let n = sys::read(fd, buf).unwrap_or(0);
    let _ = sys::close(fd);
    buf.get(..n).unwrap_or_default()
}

/// Where `needle` starts in `text`.
#[inline(never)]
fn find(text: &[u8], needle: &[u8]) -> Option<usize> {
    (0..text.len()).find(|&at| text.get(at..).is_some_and(|rest| rest.starts_with(needle)))
}

/// `thp_fault_fallback` of /proc/vmstat, 0 where there is none.
fn fallbacks(buf: &mut [u8]) -> usize {
    let text = read(VMSTAT, buf);
    find(text, FALLBACK)
        .and_then(|at| number(text.get(at + FALLBACK.len()..)?))
        .unwrap_or(0)
}
