//! `fixed` on the real binary: the page at 0x40000 at stop 1; page 0 at
//! stop 2 mapped exactly when the process has CAP_SYS_RAWIO, refused with
//! EPERM otherwise (run both ways with setpriv), and vm.mmap_min_addr
//! printed as /proc/sys/vm/mmap_min_addr has it.

use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_fixed");
const FIXED_ADDR: u64 = 0x4_0000;
const PAGE: u64 = 4096;
/// `CAP_SYS_RAWIO`: `include/uapi/linux/capability.h`.
const CAP_SYS_RAWIO: u32 = 17;
/// setpriv arguments that take CAP_SYS_RAWIO away from root: from the
/// bounding set (root's permitted set after execve comes from it) and
/// from the inheritable set (root's execve adds that too; `capabilities(7)`).
/// When the inheritable set does not hold it (a login shell's CapInh is
/// usually 0), the bounding set alone is enough: see below.
const DROP_RAWIO: [&str; 2] = ["--inh-caps=-sys_rawio", "--bounding-set=-sys_rawio"];
/// The `nobody` user and group.
const NOBODY: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/// Whether mmap below vm.mmap_min_addr is allowed to this test process's
/// children: CAP_SYS_RAWIO in the effective set, in the initial user
/// namespace (the kernel asks there, `security/commoncap.c: cap_mmap_addr`).
fn may_map_page_zero() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap();
    let initial_ns = uid_map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"];
    eff & (1 << CAP_SYS_RAWIO) != 0 && initial_ns
}

fn mmap_min_addr() -> u64 {
    std::fs::read_to_string("/proc/sys/vm/mmap_min_addr")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs `fixed` (through `prefix`, e.g. setpriv, which execs it in the
/// same process) and checks both stops; `mapped` says what page 0 should do.
fn check_run(prefix: &[&str], mapped: bool) -> Walk {
    check_run_bin(BIN, prefix, mapped)
}

/// [`check_run`] of another copy of the demo.
fn check_run_bin(bin: &str, prefix: &[&str], mapped: bool) -> Walk {
    let mut cmd = std::process::Command::new(prefix.first().copied().unwrap_or(bin));
    if let Some((_, rest)) = prefix.split_first() {
        cmd.args(rest).arg(bin);
    }
    let w = walk(cmd);
    assert_eq!(w.end, procfs::Event::Exited(0), "{prefix:?}: {}", w.stderr);
    assert_eq!(w.stops.len(), 2, "{prefix:?}: two stops; {}", w.stderr);

    // Stop 1: one anonymous rw page at 0x40000, not executable, and
    // nothing at 0.
    let fixed = w.stops[0]
        .containing(FIXED_ADDR)
        .expect("a page at 0x40000");
    assert_eq!((fixed.start, fixed.end), (FIXED_ADDR, FIXED_ADDR + PAGE));
    assert_eq!(fixed.perms, "rw-p", "W^X: writable, so not executable");
    assert_eq!((fixed.inode, fixed.path.as_str()), (0, ""), "anonymous");
    assert!(w.stops[0].containing(0).is_none());

    // Stop 2: page 0 as the capability allows; 0x40000 still there.
    let zero = w.stops[1].containing(0);
    if mapped {
        let zero = zero.expect("page 0 mapped");
        assert_eq!(
            (zero.start, zero.end, zero.perms.as_str()),
            (0, PAGE, "rw-p")
        );
    } else {
        assert!(zero.is_none(), "page 0 must not be mapped: {zero:?}");
    }
    assert!(w.stops[1].containing(FIXED_ADDR).is_some());

    let page_zero = if mapped {
        "page_zero mapped"
    } else {
        "page_zero refused EPERM"
    };
    let expected = format!("mmap_min_addr {}\n{page_zero}\n", mmap_min_addr());
    assert_eq!(w.stdout, expected, "{prefix:?}");
    w
}

#[test]
fn as_we_are_page_zero_follows_cap_sys_rawio() {
    let mapped = may_map_page_zero();
    let w = check_run(&[], mapped);
    let why = if mapped {
        "CAP_SYS_RAWIO"
    } else {
        "page 0 refused"
    };
    assert_narrated(&w, &[why, "W^X", "[stop 2]"]);
}

#[test]
fn without_cap_sys_rawio_page_zero_is_refused() {
    let w = if may_map_page_zero() {
        let Some(setpriv) = tool("setpriv") else {
            return;
        };
        let setpriv = setpriv.to_str().unwrap();
        check_run(&[setpriv, DROP_RAWIO[0], DROP_RAWIO[1]], false)
    } else {
        // No CAP_SYS_RAWIO to drop: the plain run is already without it.
        check_run(&[], false)
    };
    assert!(w.stderr.contains("page 0 refused"), "{}", w.stderr);
}

/// Whether this process's inheritable set holds CAP_SYS_RAWIO
/// (`CapInh:` in /proc/self/status, a hex mask).
fn inheritable_rawio() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapInh:"))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap() & (1 << CAP_SYS_RAWIO) != 0
}

#[test]
fn for_root_the_bounding_set_alone_is_enough_when_capinh_lacks_it() {
    if !may_map_page_zero() || inheritable_rawio() {
        // Nothing to show: no capability to drop, or the inheritable set
        // would give it back (then both flags are needed, tested above).
        return;
    }
    let Some(setpriv) = tool("setpriv") else {
        return;
    };
    let w = check_run(&[setpriv.to_str().unwrap(), DROP_RAWIO[1]], false);
    assert!(w.stderr.contains("page 0 refused"), "{}", w.stderr);
}

#[test]
fn as_user_nobody_page_zero_is_refused() {
    // SAFETY: geteuid only reads our credentials.
    if unsafe { geteuid() } != 0 {
        // We are a normal user already: no setpriv needed (nor allowed).
        check_run(&[], false);
        return;
    }
    let Some(setpriv) = tool("setpriv") else {
        return;
    };
    let setpriv = setpriv.to_str().unwrap();
    let copy = SharedCopy::new(BIN);
    check_run_bin(
        copy.as_str(),
        &[setpriv, NOBODY[0], NOBODY[1], NOBODY[2]],
        false,
    );
}

unsafe extern "C" {
    fn geteuid() -> u32;
}

#[test]
fn quiet_is_silent_but_prints_the_data() {
    let w = walk_quiet(BIN, &["-q"], 2);
    assert_eq!(w.stdout.lines().count(), 2, "{}", w.stdout);
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve", "mmap", "getpid", "kill", // stop 1
            "openat", "read", "close", "mmap", "write", "getpid", "kill", "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["0x40000"], "unexpected argument '0x40000'");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
