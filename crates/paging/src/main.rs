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
//! memory (`sysinfo(2)`: freeram + bufferram) and in what its cgroup v2
//! leaves (`memory.max` - `memory.current`): a size that does not is
//! refused with exit status 1, never left to the OOM killer. (A cgroup v1
//! limit is not read.) With `-q`, strace shows `execve`, `sysinfo`, the
//! reads of /proc/self/cgroup and the cgroup's files, then the lesson's
//! own calls: `mmap`, `madvise`, `mmap` with MAP_POPULATE, the THP files,
//! the THP region's `mmap` and `madvise`, /proc/vmstat twice, and a
//! `getpid`, `kill` pair at each stop (the tests have the exact list).
#![no_std]
#![no_main]

use core::ptr::{read_volatile, write_volatile};
use sys::{
    Args, Cli, HUGE_PAGE_SIZE, MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MAP_ANONYMOUS,
    MAP_POPULATE, MAP_PRIVATE, OrExit, PAGE_SIZE, PROT_READ, PROT_WRITE,
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
/// Where this process's cgroup is, and where cgroup v2 is mounted.
const CGROUP: &[u8] = b"/proc/self/cgroup\0";
const CGROUP_ROOT: &[u8] = b"/sys/fs/cgroup";
/// /proc/vmstat has about 180 lines (4 KiB on Linux 6.18).
const FILE_BUF: usize = 16 << 10;

sys::entry!(main);

fn main(args: Args) {
    let mut cli = Cli::new(&args, USAGE);
    let arg = cli.next().unwrap_or(DEFAULT_SIZE);
    if let Some(extra) = cli.next() {
        cli.reject(extra);
    }
    let size = cli.size(arg).next_multiple_of(PAGE_SIZE);
    if size == 0 {
        cli.usage_error("not a size above 0: '", arg);
    }
    let q = cli.quiet;
    let populated = (size / 4).next_multiple_of(PAGE_SIZE);
    // Refused with status 1 if what becomes resident does not fit in
    // free memory: never left to the OOM killer.
    let info = sys::sysinfo().or_exit("sysinfo");
    let free = (info.freeram + info.bufferram) * u64::from(info.mem_unit);
    if (size / STRIDE + populated + HUGE_PAGE_SIZE) as u64 > free.min(cgroup_room()) {
        sys::say(false, "paging: more than free RAM: ENOMEM\n");
        sys::exit(1);
    }

    // 1. Address space only.
    let first = map(size, 0);
    // SAFETY: advice on how to back the range; its contents stay.
    unsafe { sys::madvise(first, size, MADV_NOHUGEPAGE) }.or_exit("madvise");
    stop(q, "paging: mmap, NOHUGEPAGE: ", first);

    // 2. Reads map the shared zero page.
    let mut page = first;
    while page < first + size {
        // SAFETY: inside our mapping, readable.
        unsafe { read_volatile(page as *const u8) };
        page += PAGE_SIZE;
    }
    stop(q, "paging: read every page: ", first);

    // 3. Writes fault in pages of our own.
    let mut page = first;
    while page < first + size {
        // SAFETY: inside our mapping, writable.
        unsafe { write_volatile(page as *mut u8, 1) };
        page += STRIDE * PAGE_SIZE;
    }
    stop(q, "paging: wrote every 16th page: ", first);

    // 4. Dropped: the next read would find zeros again.
    // SAFETY: nothing relies on what we wrote.
    unsafe { sys::madvise(first, size, MADV_DONTNEED) }.or_exit("madvise");
    stop(q, "paging: MADV_DONTNEED: ", first);

    // 5. Faulted in by mmap itself.
    let second = map(populated, MAP_POPULATE);
    stop(q, "paging: SIZE/4, MAP_POPULATE: ", second);

    let mut page = second;
    while page < second + populated {
        // SAFETY: inside the second mapping, writable.
        unsafe { write_volatile(page as *mut u8, 1) };
        page += PAGE_SIZE;
    }
    sys::say(q, "paging: wrote each: no faults\n");

    // 6. One write into a 2 MiB-aligned MADV_HUGEPAGE region.
    let mut buf = [0u8; FILE_BUF];
    let global = read(THP_ENABLED, &mut buf);
    let thp = !global.is_empty();
    let mut on = thp && find(global, b"[never]").is_none();
    if !thp {
        // A kernel built without CONFIG_TRANSPARENT_HUGEPAGE has no file.
        sys::say(q, "paging: no THP\n");
    } else {
        sys::say(q, "paging: THP ");
        sys::say(q, bytes(global));
    }
    let mut buf2 = [0u8; 64];
    let per_size = read(THP_2M_ENABLED, &mut buf2);
    if !per_size.is_empty() && find(per_size, b"[inherit]").is_none() {
        on = find(per_size, b"[never]").is_none();
    }
    if !per_size.is_empty() {
        sys::say(q, "paging: 2048kB ");
        sys::say(q, bytes(per_size));
    }
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
        if fallbacks(&mut buf) > before {
            "paging: thp_fault_fallback grew: 4 KiB\n"
        } else if on {
            "paging: THP on: 2 MiB\n"
        } else if !thp {
            "paging: a small page: 4 KiB\n"
        } else {
            "paging: THP off: 4 KiB\n"
        },
    );
    stop(q, "paging: MADV_HUGEPAGE, 1 write: ", huge);
}

/// What this process's cgroup (v2) still lets it use: `memory.max` less
/// `memory.current` in /sys/fs/cgroup + the path after `0::` in
/// /proc/self/cgroup (`cgroups(7)`). No limit (`max`, cgroup v1 only, no
/// such files): u64::MAX.
#[inline(never)]
fn cgroup_room() -> u64 {
    let mut buf = [0u8; 512];
    let text = read(CGROUP, &mut buf);
    let Some(at) = find(text, b"0::/") else {
        return u64::MAX;
    };
    let rel = text.get(at + 3..).unwrap_or_default();
    let rel = rel.get(..find(rel, b"\n").unwrap_or(0)).unwrap_or_default();
    match (
        cgroup_value(rel, b"/memory.max\0"),
        cgroup_value(rel, b"/memory.current\0"),
    ) {
        (Some(max), Some(used)) => max.saturating_sub(used) as u64,
        _ => u64::MAX,
    }
}

/// The number in /sys/fs/cgroup/REL/FILE, if it is one (not `max`).
#[inline(never)]
fn cgroup_value(rel: &[u8], file: &[u8]) -> Option<usize> {
    let mut path = [0u8; 512];
    let mut n = 0;
    for part in [CGROUP_ROOT, rel, file] {
        path.get_mut(n..n + part.len())?.copy_from_slice(part);
        n += part.len();
    }
    let mut text = [0u8; 32];
    let text = read(path.get(..n)?, &mut text);
    text.first().filter(|d| d.is_ascii_digit())?;
    Some(number(text))
}

/// The decimal number at the start of `text` (0 if none).
fn number(text: &[u8]) -> usize {
    let mut n = 0;
    for &d in text {
        if !d.is_ascii_digit() {
            break;
        }
        n = n * 10 + usize::from(d - b'0');
    }
    n
}

/// Text the kernel wrote, as it is: it is shown, never parsed further.
fn bytes(text: &[u8]) -> &str {
    // SAFETY: only ever written out again, byte for byte, never sliced.
    unsafe { core::str::from_utf8_unchecked(text) }
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
    let Ok(fd) = sys::openat(path, sys::O_RDONLY | sys::O_CLOEXEC) else {
        return &[];
    };
    let n = sys::read(fd, buf).unwrap_or(0);
    let _ = sys::close(fd);
    buf.get(..n).unwrap_or_default()
}

/// Where `needle` starts in `text`.
fn find(text: &[u8], needle: &[u8]) -> Option<usize> {
    (0..text.len()).find(|&at| text.get(at..).is_some_and(|rest| rest.starts_with(needle)))
}

/// `thp_fault_fallback` of /proc/vmstat, 0 where there is none.
fn fallbacks(buf: &mut [u8]) -> usize {
    let text = read(VMSTAT, buf);
    find(text, FALLBACK).map_or(0, |at| {
        number(text.get(at + FALLBACK.len()..).unwrap_or_default())
    })
}
