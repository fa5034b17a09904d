//! `paging` on the real binary: Rss and present pages of each mapping
//! at each stop, as /proc/PID/smaps and /proc/PID/pagemap show them.

use procfs::Event;
use procfs::resident::Resident;
use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_paging");
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const PAGE: u64 = 4096;

/// Walks `paging args` and reads smaps and pagemap at every stop.
fn walk_resident(args: &[&str]) -> (Walk, Vec<Resident>) {
    let mut res = Vec::new();
    let w = walk_with(command(BIN, args), |_, demo| {
        res.push(Resident::read(demo.pid).expect("smaps and pagemap at a stop"));
    });
    assert_eq!(w.end, Event::Exited(0), "{}", w.stderr);
    assert_eq!(w.stops.len(), 6, "{}", w.stderr);
    (w, res)
}

/// The address the narration printed after `text`.
fn addr_after(stderr: &str, text: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(text))
        .unwrap_or_else(|| panic!("{text:?} in {stderr}"));
    let hex = line[text.len()..].trim().trim_start_matches("0x");
    u64::from_str_radix(hex, 16).unwrap()
}

/// What /sys says of transparent huge pages for a MADV_HUGEPAGE region:
/// Some(true) on, Some(false) off, None if the kernel has no THP.
fn thp_on() -> Option<bool> {
    let word = |path: &str| {
        let text = std::fs::read_to_string(path).ok()?;
        let open = text.find('[')?;
        let close = text.find(']')?;
        Some(text[open + 1..close].to_string())
    };
    let global = word("/sys/kernel/mm/transparent_hugepage/enabled")?;
    let size = word("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled");
    let mode = match size {
        Some(s) if s != "inherit" => s,
        _ => global,
    };
    Some(mode != "never")
}

#[test]
fn rss_at_each_stop_is_exactly_the_lesson() {
    let (w, res) = walk_resident(&[]);
    let size = 64 * MIB;
    let first = addr_after(&w.stderr, "paging: mmap, NOHUGEPAGE: ");
    let second = addr_after(&w.stderr, "paging: SIZE/4, MAP_POPULATE: ");
    let huge = addr_after(&w.stderr, "paging: MADV_HUGEPAGE, 1 write: ");
    let pages = (size / PAGE) as usize;
    let rss = |stop: usize, addr: u64| res[stop].at(addr).expect("a mapping there").0.rss();
    let flt = |stop: usize| w.stops[stop].stat.minflt;

    // 1. One line of SIZE, nothing resident, nothing present.
    let (s1, _) = res[0].at(first).unwrap();
    assert_eq!((s1.mapping.start, s1.mapping.size()), (first, size));
    assert!(s1.has_flag("nh"), "MADV_NOHUGEPAGE: {:?}", s1.vm_flags);
    assert_eq!((rss(0, first), res[0].present_pages(first)), (0, 0));

    // 2. Read: every page present (the zero page), none counted.
    assert_eq!((rss(1, first), res[1].present_pages(first)), (0, pages));
    assert!(flt(1) - flt(0) >= pages as u64, "a read fault per page");

    // 3. Every 16th page written: SIZE/16, a fault each.
    assert_eq!(rss(2, first), size / 16);
    assert_eq!(res[2].at(first).unwrap().0.private_dirty(), size / 16);
    assert_eq!(
        res[2].present_pages(first),
        pages,
        "the rest still the zero page"
    );
    assert!(flt(2) - flt(1) >= pages as u64 / 16);

    // 4. MADV_DONTNEED: gone, the line the same.
    assert_eq!((rss(3, first), res[3].present_pages(first)), (0, 0));
    assert_eq!(res[3].at(first).unwrap().0.mapping, s1.mapping);

    // 5. MAP_POPULATE: resident before any access.
    let (s5, _) = res[4].at(second).unwrap();
    assert_eq!((s5.mapping.start, s5.mapping.size()), (second, size / 4));
    assert_eq!(s5.rss(), size / 4);
    assert_eq!(res[4].present_pages(second), pages / 4);

    // 6. Writing every populated page took no faults: far fewer than
    // the pages written (the huge page write takes one or a few).
    assert!(
        flt(5) - flt(4) < pages as u64 / 16,
        "{} faults",
        flt(5) - flt(4)
    );
    assert_eq!(rss(5, second), size / 4);
    assert_eq!((rss(5, first), res[5].present_pages(first)), (0, 0));
    let (s6, _) = res[5].at(huge).unwrap();
    assert!(huge.is_multiple_of(2 * MIB) && s6.has_flag("hg"), "{s6:?}");
    let fell_back = w.stderr.contains("thp_fault_fallback grew");
    match thp_on() {
        Some(true) if !fell_back => {
            assert!(w.stderr.contains("paging: THP on: 2 MiB"), "{}", w.stderr);
            assert_eq!((s6.rss(), s6.anon_huge_pages()), (2 * MIB, 2 * MIB));
            assert_eq!(res[5].present_pages(huge), 512);
        }
        Some(on) => {
            assert!(fell_back || !on);
            if !on {
                assert!(w.stderr.contains("paging: THP off: 4 KiB"), "{}", w.stderr);
            }
            assert_eq!((s6.rss(), s6.anon_huge_pages()), (PAGE, 0));
        }
        None => {
            assert!(w.stderr.contains("paging: no THP"), "{}", w.stderr);
            assert_eq!(s6.rss(), PAGE);
        }
    }
}

#[test]
fn a_smaller_size_scales_every_count() {
    let (w, res) = walk_resident(&["-q", "1M"]);
    assert_eq!(w.stderr, "");
    // The mapping of 1 MiB: the only anonymous line of 1 MiB at stop 1.
    let first = w.stops[0]
        .maps
        .iter()
        .find(|m| m.path.is_empty() && m.size() == MIB)
        .expect("the 1 MiB mapping")
        .start;
    assert_eq!(res[1].at(first).unwrap().0.rss(), 0);
    assert_eq!(res[2].at(first).unwrap().0.rss(), 16 * PAGE);
    assert_eq!(res[3].at(first).unwrap().0.rss(), 0);
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q", "64K"], 6);
    assert_eq!(w.stdout, "");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    let Some(strace) = tool("strace") else { return };
    let calls = strace_names(&strace, BIN, &["-q"]);
    // First the memory check: sysinfo, then /proc/self/cgroup and the
    // cgroup's memory.max and memory.current, as far as they exist here.
    let first_mmap = calls.iter().position(|c| c == "mmap").expect("an mmap");
    let (check, lesson) = calls.split_at(first_mmap);
    assert_eq!(
        check[..5],
        ["execve", "sysinfo", "openat", "read", "close"],
        "{calls:?}"
    );
    assert!(
        check[5..]
            .iter()
            .all(|c| ["openat", "read", "close"].contains(&c.as_str()))
    );
    assert_eq!(
        lesson,
        [
            "mmap", "madvise", "getpid", "kill", "getpid", "kill", "getpid", "kill", "madvise",
            "getpid", "kill", "mmap", "getpid", "kill", "openat", "read", "close", "openat",
            "read", "close", "mmap", "madvise", "openat", "read", "close", "openat", "read",
            "close", "getpid", "kill", "exit",
        ]
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["0"], "not a size above 0: '0'");
    assert_usage_error(BIN, &["12Q"], "not a size");
    assert_usage_error(BIN, &["1M", "2M"], "unexpected argument '2M'");
    assert_usage_error(BIN, &["-x"], "'-x'");
}

#[test]
fn too_big_is_refused_before_anything_is_touched() {
    // 1 TiB would make 320 GiB resident: refused, never OOM-killed.
    let w = walk(command(BIN, &["1T"]));
    assert_failed(
        &w,
        0,
        "paging: more than free memory or the cgroup allows: ENOMEM\n",
    );
    assert_eq!(w.stdout, "");
}

#[test]
fn a_refused_mapping_is_enomem_with_status_1() {
    // 32 MiB of address space cannot hold 64 MiB.
    let w = walk_under("ulimit -v 32768", BIN, &["-q"]);
    assert_failed(&w, 0, "mmap failed: ENOMEM\n");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

/// A cgroup as `paging` finds it: its line in /proc/self/cgroup, and the
/// directory and files of its limit under /sys/fs/cgroup.
struct FakeCgroup {
    proc_self_cgroup: &'static str,
    dir: &'static str,
    limit: &'static str,
    usage: &'static str,
}

const V2: FakeCgroup = FakeCgroup {
    proc_self_cgroup: "0::/demo\n",
    dir: "/sys/fs/cgroup/demo",
    limit: "memory.max",
    usage: "memory.current",
};

/// A hybrid machine (as this one is) has a v1 memory controller and a v2
/// line `0::/` without a limit.
const V1: FakeCgroup = FakeCgroup {
    proc_self_cgroup: "4:memory:/demo\n0::/\n",
    dir: "/sys/fs/cgroup/memory/demo",
    limit: "memory.limit_in_bytes",
    usage: "memory.usage_in_bytes",
};

/// Runs `paging -q SIZE` in a user and mount namespace of its own: a
/// tmpfs stands in for /sys/fs/cgroup, the cgroup's limit is 100 MB with
/// 0 in use, and a bind mount puts `cgroup`'s line over
/// /proc/PID/cgroup of the shell, which then execs paging (same pid).
/// `None` where the namespace cannot be made (skipped, loudly; a failure
/// in CI).
fn walk_in_cgroup(size: &str, cgroup: &FakeCgroup) -> Option<Walk> {
    let unshare = tool("unshare")?;
    let script = "mount -t tmpfs none /sys/fs/cgroup \
        && mkdir -p \"$3\" \
        && echo 100000000 > \"$3/$4\" && echo 0 > \"$3/$5\" \
        && printf %s \"$2\" > /sys/fs/cgroup/self \
        && mount --bind /sys/fs/cgroup/self /proc/$$/cgroup \
        && exec \"$1\" -q \"$0\"";
    let mut cmd = std::process::Command::new(unshare);
    cmd.args(["-rm", "sh", "-c", script, size, BIN]);
    cmd.args([
        cgroup.proc_self_cgroup,
        cgroup.dir,
        cgroup.limit,
        cgroup.usage,
    ]);
    let w = walk(cmd);
    if w.stderr.starts_with("unshare:") || w.stderr.starts_with("sh:") {
        let why = format!("no user and mount namespace here: {}", w.stderr.trim());
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    Some(w)
}

/// 1G (322 MiB resident) is refused in a cgroup with 95 MiB left; 64M
/// (22 MiB resident) runs all six stops.
fn check_cgroup_limit(cgroup: &FakeCgroup) {
    let Some(w) = walk_in_cgroup("1G", cgroup) else {
        return;
    };
    assert_failed(
        &w,
        0,
        "paging: more than free memory or the cgroup allows: ENOMEM\n",
    );
    let Some(w) = walk_in_cgroup("64M", cgroup) else {
        return;
    };
    assert_eq!(
        (w.end, w.stops.len()),
        (Event::Exited(0), 6),
        "{}",
        w.stderr
    );
}

#[test]
fn a_cgroup_v2_memory_max_is_checked_before_anything_is_touched() {
    check_cgroup_limit(&V2);
}

#[test]
fn a_cgroup_v1_memory_limit_is_checked_before_anything_is_touched() {
    check_cgroup_limit(&V1);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}

#[test]
fn a_size_that_overflows_when_rounded_up_to_pages_is_named_so() {
    // Rounded up to a page, 2^64 - 1 wrapped around to 0, and the demo
    // called it "not a size above 0".
    assert_usage_error(
        BIN,
        &["18446744073709551615"],
        "too big to round up to whole pages: '18446744073709551615'",
    );
    // The largest page-aligned size rounds to itself: no usage error, it
    // is refused for want of memory (status 1).
    let (end, out, err) = run(BIN, &["-q", "18446744073709547520"]);
    assert_eq!((end, out.as_str()), (Event::Exited(1), ""), "{err}");
    assert_eq!(
        err,
        "paging: more than free memory or the cgroup allows: ENOMEM\n"
    );
}
