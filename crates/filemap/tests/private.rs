//! MAP_PRIVATE is not a snapshot: `filemap`'s memfd mapping reads what
//! another writer put into the file until the process writes the page
//! itself; then the page is its own copy (smaps: Anonymous), and the
//! file's later changes no longer show.

use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_filemap");

/// `Anonymous:` of the smaps entry that starts at `addr`, in kB.
fn anonymous_kb(pid: u32, addr: u64) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let head = format!("{addr:x}-");
    // A maps-style header starts each entry: `start-end perms …`.
    let header = |l: &str| {
        l.split(' ').next().is_some_and(|r| {
            r.contains('-') && r.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit())
        })
    };
    let entry: String = smaps
        .lines()
        .skip_while(|l| !l.starts_with(&head))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !header(l))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let line = entry
        .lines()
        .find(|l| l.starts_with("Anonymous:"))
        .unwrap_or_else(|| panic!("no Anonymous: for {addr:#x} in {entry}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_mapping_sees_other_writers_until_it_writes_itself() {
    let mut anon = Vec::new();
    let mut page = 0u64;
    let w = walk_with(command(BIN, &[]), |n, demo| {
        if n >= 2 {
            let maps = procfs::maps::read(demo.pid).unwrap();
            let m = maps
                .iter()
                .find(|m| m.path.starts_with("/memfd:lesson"))
                .expect("the memfd's line");
            assert_eq!(m.path, "/memfd:lesson (deleted)");
            assert_eq!(m.perms, "rw-p", "MAP_PRIVATE, writable");
            assert_ne!(m.inode, 0, "a file: it has an inode");
            page = m.start;
            anon.push(anonymous_kb(demo.pid, m.start));
        }
    });
    assert_eq!(w.stops.len(), 4, "{}", w.stderr);
    let reads: Vec<&str> = w
        .stdout
        .lines()
        .filter(|l| l.starts_with("memfd "))
        .collect();
    assert_eq!(
        reads,
        [
            format!("memfd {page:#x} reads new!"),
            format!("memfd {page:#x} reads mew!"),
        ]
    );
    // Stop 3: still the file's page; stop 4: our own copy.
    assert_eq!(anon, [0, 4]);
}
