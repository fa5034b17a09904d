//! `vdso` built for i686: it reads the 32-bit vDSO (Elf32 structures)
//! that AT_SYSINFO_EHDR points at, finds `__vdso_clock_gettime` of
//! LINUX_2.6 inside [vdso], and calls it with the 32-bit timespec; strace
//! sees only the comparison's syscalls, i386's clock_gettime (265).

use procfs::i686::*;
use procfs::testing::*;

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn i386_vdso_functions_are_found_inside_the_32_bit_vdso() {
    let Some(dir) = demos_for_test() else { return };
    let w = walk_ok_how(
        &dir,
        "vdso",
        &["-q", "--calls", "10"],
        1,
        Default::default(),
    );
    let s = &w.stops[0];
    let vdso = s.find("[vdso]").expect("[vdso]");
    let first: Vec<&str> = w
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // `vdso 0xf7f4b000 6711 bytes, 12 symbols`
    assert_eq!(hex(first[1]), vdso.start, "{}", w.stdout);
    assert_eq!(
        s.auxv.iter().find(|(k, _)| *k == 33).map(|(_, v)| *v),
        Some(vdso.start)
    );
    let size: u64 = first[2].parse().unwrap();
    assert_eq!(size.next_multiple_of(4096), vdso.size(), "{}", w.stdout);
    let functions: Vec<u64> = w
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("function "))
        .map(|l| hex(l.split_whitespace().next().unwrap()))
        .collect();
    assert_eq!(functions.len(), 4, "{}", w.stdout);
    let clock = functions[0];
    assert!(
        clock > vdso.start && clock < vdso.end,
        "{clock:#x} in {vdso:x?}"
    );
    assert!(
        w.stdout.contains(" from __vdso_clock_gettime\n"),
        "{}",
        w.stdout
    );
    let time: Vec<&str> = w
        .stdout
        .lines()
        .find(|l| l.starts_with("time "))
        .unwrap()
        .split(' ')
        .collect();
    let secs: u64 = time[1].split('.').next().unwrap().parse().unwrap();
    // Well after 2020, well before the 32-bit time_t ends in 2038.
    assert!(secs > 1_600_000_000 && secs < i32::MAX as u64, "{secs}");
}

#[test]
fn i386_strace_sees_only_the_comparisons_clock_gettime_calls() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strace) = tool("strace") else { return };
    let bin = dir.join("vdso");
    let calls = strace_numbers(&strace, bin.to_str().unwrap(), &["-q", "--calls", "3"]);
    let clock: Vec<&(u32, String)> = calls.iter().filter(|(_, n)| n == "clock_gettime").collect();
    assert_eq!(clock.len(), 3, "{calls:?}");
    assert!(
        clock.iter().all(|(n, _)| *n == 265),
        "i386's number: {calls:?}"
    );
    let none = strace_numbers(&strace, bin.to_str().unwrap(), &["-q", "--calls", "0"]);
    assert!(!none.iter().any(|(_, n)| n == "clock_gettime"), "{none:?}");
}
