//! `filemap` on the real binary: at stop 1 a mapping of the program's own
//! file (path, device, inode and offset 0 as `stat` has them) next to an
//! anonymous one of the same size; at stop 2 both gone; failing syscalls
//! name their errno and exit 1.

use procfs::maps::Mapping;
use procfs::testing::*;
use std::os::unix::fs::MetadataExt;

const BIN: &str = env!("CARGO_BIN_EXE_filemap");
const PAGE: u64 = 4096;

/// `NAME 0xADDRESS SIZE` lines, `file` then `anonymous`.
fn printed(stdout: &str) -> [(String, u64, u64); 2] {
    let lines: Vec<(String, u64, u64)> = stdout
        .lines()
        .filter(|l| !l.starts_with("memfd "))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "NAME 0xADDRESS SIZE: {l:?}");
            let addr = u64::from_str_radix(f[1].strip_prefix("0x").unwrap(), 16).unwrap();
            (f[0].to_string(), addr, f[2].parse().unwrap())
        })
        .collect();
    lines.try_into().expect("two lines")
}

/// `major:minor` of a device number as /proc/PID/maps writes it
/// (`MAJOR()`/`MINOR()` of the kernel's `include/linux/kdev_t.h`, on the
/// user-space encoding of `makedev(3)`).
fn maps_dev(dev: u64) -> String {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    format!("{major:02x}:{minor:02x}")
}

fn pages(bytes: u64) -> u64 {
    bytes.div_ceil(PAGE) * PAGE
}

#[test]
fn maps_its_own_file_next_to_anonymous_memory_then_unmaps_both() {
    let w = walk_ok(BIN, &[], 4);
    let [(file_name, file, file_size), (anon_name, anon, anon_size)] = printed(&w.stdout);
    assert_eq!(
        (file_name.as_str(), anon_name.as_str()),
        ("file", "anonymous")
    );
    let meta = std::fs::metadata(BIN).unwrap();
    assert_eq!(file_size, meta.len(), "the whole file, its size from lseek");
    assert_eq!(anon_size, file_size, "the same size");

    let at_stop = |n: usize, addr: u64| -> Option<&Mapping> { w.stops[n].containing(addr) };
    let f = at_stop(0, file).expect("the file mapping");
    let path = std::fs::canonicalize(BIN).unwrap();
    assert_eq!(
        f.path,
        path.to_str().unwrap(),
        "named by the program's path"
    );
    assert_eq!(f.inode, meta.ino(), "the file's inode, as stat(2) says");
    assert_eq!(f.dev, maps_dev(meta.dev()), "the file's device");
    assert_eq!(f.offset, 0, "from the file's first byte");
    assert_eq!((f.start, f.size()), (file, pages(file_size)), "{f}");
    assert_eq!(f.perms, "r--p", "PROT_READ, MAP_PRIVATE");

    let a = at_stop(0, anon).expect("the anonymous mapping");
    assert_eq!((a.path.as_str(), a.inode, a.dev.as_str()), ("", 0, "00:00"));
    assert_eq!(
        (a.start, a.size(), a.perms.as_str()),
        (anon, f.size(), "r--p")
    );

    // Stop 2: both lines gone, nothing else changed.
    assert!(at_stop(1, file).is_none() && at_stop(1, anon).is_none());
    assert_eq!(w.stops[1].maps.len() + 2, w.stops[0].maps.len());
    assert_narrated(&w, &["our file (inode, offset 0)", "[stop 2]"]);
}

/// Runs `filemap -q` under `sh -c 'ulimit …; exec filemap -q'` (the shell
/// becomes the demo) and checks the failure.
fn assert_fails(ulimit: &str, message: &str) {
    let w = walk_under(&format!("ulimit {ulimit}"), BIN, &["-q"]);
    assert_failed(&w, 0, &format!("{message}\n"));
    assert_eq!(w.stdout, "", "ulimit {ulimit}");
}

#[test]
fn open_fails_with_emfile_when_no_descriptor_is_left() {
    // Descriptors 0, 1, 2 are open; a limit of 3 leaves none for open(2).
    assert_fails("-n 3", "open /proc/self/exe failed: EMFILE");
}

#[test]
fn mmap_fails_with_enomem_when_the_address_space_is_full() {
    // How much the process has mapped without the two mappings: its
    // VmSize at stop 2. With exactly that limit on the address space
    // (RLIMIT_AS, `ulimit -v`, in KiB), execve still fits, mmap does not.
    let mut vm_kib = 0;
    walk_with(command(BIN, &["-q"]), |n, demo| {
        if n == 1 {
            let status = std::fs::read_to_string(format!("/proc/{}/status", demo.pid)).unwrap();
            let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
            vm_kib = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        }
    });
    assert!(vm_kib > 0);
    assert_fails(&format!("-v {vm_kib}"), "mmap of the file failed: ENOMEM");
}

#[test]
fn quiet_is_silent_but_prints_the_data() {
    let w = walk_quiet(BIN, &["-q"], 4);
    printed(&w.stdout);
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(
        BIN,
        &["-q"],
        &[
            "execve",
            "openat",
            "lseek",
            "mmap",
            "close",
            "mmap",
            "write",
            "write",
            "getpid",
            "kill",
            "munmap",
            "munmap",
            "getpid",
            "kill",
            "memfd_create",
            "pwrite64",
            "mmap",
            "pwrite64",
            "write",
            "getpid",
            "kill",
            "pwrite64",
            "write",
            "getpid",
            "kill",
            "exit",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["/etc/passwd"], "unexpected argument '/etc/passwd'");
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    assert_help(BIN);
}
