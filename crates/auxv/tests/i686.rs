//! `auxv` built for i686: what it prints of the auxiliary vector is what
//! /proc/PID/auxv holds, read as 32-bit pairs, including AT_SYSINFO (32),
//! the entry of `__kernel_vsyscall` that only i386 processes get.

use procfs::i686::*;

#[test]
fn i386_auxv_matches_proc_read_as_32_bit_pairs() {
    let Some(dir) = demos_for_test() else { return };
    let w = walk_ok_how(&dir, "auxv", &["-q"], 1, Default::default());
    let s = &w.stops[0];
    let printed: Vec<(String, u64)> = w
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("auxv "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_string(),
                u64::from_str_radix(f[1].trim_start_matches("0x"), 16).unwrap(),
            )
        })
        .collect();
    assert_eq!(printed.len(), s.auxv.len(), "{}\n{:x?}", w.stdout, s.auxv);
    let value = |name: &str| printed.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    for (kind, v) in &s.auxv {
        assert!(
            printed.iter().any(|(_, p)| p == v),
            "type {kind} value {v:#x}"
        );
    }
    let sysinfo = value("AT_SYSINFO").expect("AT_SYSINFO on i386");
    let vdso = s.find("[vdso]").unwrap();
    assert!(
        sysinfo > vdso.start && sysinfo < vdso.end,
        "__kernel_vsyscall in [vdso]"
    );
    assert_eq!(value("AT_SYSINFO_EHDR"), Some(vdso.start));
    assert_eq!(
        value("AT_PHDR"),
        Some(I386_BASE + 52),
        "right after the 52-byte Elf32_Ehdr"
    );
    assert_eq!(value("AT_PHENT"), Some(32), "sizeof(Elf32_Phdr)");
}
