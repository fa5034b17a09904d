//! `sections` built for i686: every printed object lies in the mapping
//! its PLACE names, as in tests/sections.rs, with 32-bit addresses: the
//! program at 0x0804…, [heap] just above it, mmap memory near 0xf7…,
//! [stack] near 0xff….

use procfs::i686::*;
use procfs::testing::*;

#[test]
fn i386_objects_lie_in_their_mappings() {
    let Some(dir) = demos_for_test() else { return };
    let w = walk_ok_how(&dir, "sections", &["-q"], 1, Default::default());
    let s = &w.stops[0];
    let bin = dir.join("sections");
    let program = program_mappings(s, bin.to_str().unwrap());
    let lines: Vec<(&str, &str, u64)> = w
        .stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let addr = u64::from_str_radix(f[2].trim_start_matches("0x"), 16).unwrap();
            (f[0], f[1], addr)
        })
        .collect();
    assert_eq!(lines.len(), 7, "{}", w.stdout);
    for (name, place, addr) in lines {
        assert!(addr < 1 << 32, "{name}: a 32-bit address");
        let m = s
            .containing(addr)
            .unwrap_or_else(|| panic!("{name} {addr:#x} unmapped"));
        let in_program = |perms: &str| {
            program
                .iter()
                .any(|p| p.start == m.start && p.perms == perms)
        };
        match place {
            ".rodata" => assert!(in_program("r--p"), "{name}: {m:x?}"),
            ".text" => assert!(in_program("r-xp"), "{name}: {m:x?}"),
            ".data" | ".bss" => assert!(in_program("rw-p"), "{name}: {m:x?}"),
            "heap" => assert_eq!(m.path, "[heap]", "{name}"),
            "stack" => assert_eq!(m.path, "[stack]", "{name}"),
            "mmap" => assert_eq!((m.path.as_str(), m.perms.as_str()), ("", "rw-p"), "{name}"),
            other => panic!("unknown place {other}"),
        }
    }
    assert!(program[0].start == I386_BASE);
}
