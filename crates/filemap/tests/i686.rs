//! `filemap` built for i686: its own file mapped next to as much
//! anonymous memory, as in tests/filemap.rs, at 32-bit addresses.

use procfs::i686::*;

#[test]
fn i386_maps_its_own_file_next_to_anonymous_memory() {
    let Some(dir) = demos_for_test() else { return };
    let bin = dir.join("filemap");
    let w = walk_ok_how(&dir, "filemap", &["-q"], 4, Default::default());
    let size = std::fs::metadata(&bin).unwrap().len();
    let field = |kind: &str| {
        let line = w
            .stdout
            .lines()
            .find(|l| l.starts_with(kind))
            .expect(&w.stdout);
        let f: Vec<&str> = line.split_whitespace().collect();
        let addr = u64::from_str_radix(f[1].trim_start_matches("0x"), 16).unwrap();
        (addr, f[2].parse::<u64>().unwrap())
    };
    let (file, file_len) = field("file ");
    let (anon, anon_len) = field("anonymous ");
    assert_eq!((file_len, anon_len), (size, size));
    let s = &w.stops[0];
    let f = s.containing(file).unwrap();
    assert_eq!(std::path::Path::new(&f.path), bin.canonicalize().unwrap());
    assert_eq!((f.start, f.offset, f.perms.as_str()), (file, 0, "r--p"));
    let a = s.containing(anon).unwrap();
    assert_eq!((a.start, a.path.as_str(), a.inode), (anon, "", 0));
    assert!(file < 1 << 32 && anon < 1 << 32);
    assert!(w.stops[1].containing(file).is_none() && w.stops[1].containing(anon).is_none());
    // Stops 3 and 4, MAP_PRIVATE is not a snapshot: pwrite64 (its offset
    // in two registers on i386) shows through, our own write is a copy.
    assert!(w.stdout.contains(" reads new!"), "{}", w.stdout);
    assert!(w.stdout.contains(" reads mew!"), "{}", w.stdout);
}
