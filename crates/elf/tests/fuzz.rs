//! Hostile input: every truncation of `minimal`, thousands of byte flips
//! and field overwrites of every demo, run through every listing and the
//! SVG picture in this process (fast), and a few through the real
//! binary. Nothing may panic
//! or hang; what the reader refuses gets one line naming the field.

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::channel;
use std::time::Duration;

use common::{binaries, release};
use elf::at::Query;
use elf::{Anatomy, Options, at, budget, explain, hex, svg};

/// How long one case may take before the test calls it hung (a bound,
/// not a speed target: a case takes well under a millisecond).
const CASE_BOUND: Duration = Duration::from_secs(30);

/// Every listing of `bytes`: Ok, or the reader's error.
fn render(bytes: &[u8]) -> Result<(), String> {
    let a = Anatomy::new(bytes, "minimal")?;
    for all in [false, true] {
        let o = Options { all, colour: false };
        explain::explain(&a, &o, "fuzz");
        let dump = hex::hexdump(&a, &o);
        assert_eq!(dump.lines().count(), bytes.len().div_ceil(16));
    }
    let row = budget::row(&a);
    assert_eq!(
        row.parts.iter().sum::<u64>(),
        bytes.len() as u64,
        "the budget adds up"
    );
    at::at(&a, Query::Addr(a.elf.entry));
    at::at(&a, Query::Offset(0x18));
    at::at(&a, Query::Offset(u64::MAX));
    at::at(&a, Query::Addr(u64::MAX));
    assert!(svg::svg(&a, "fuzz").ends_with("</svg>\n"));
    Ok(())
}

/// A deterministic generator (xorshift64*), so that a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The cases: (what, bytes).
fn cases() -> Vec<(String, Vec<u8>)> {
    let mut cases = Vec::new();
    let minimal = std::fs::read(release("minimal")).unwrap();
    for n in 0..=minimal.len() {
        cases.push((format!("minimal cut to {n} B"), minimal[..n].to_vec()));
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (demo, path) in binaries(true) {
        let bytes = std::fs::read(&path).unwrap();
        let e = procfs::elf::Elf::parse(&bytes).unwrap();
        let len = bytes.len() as u64;
        // Flips: most in the headers, where one byte changes the most.
        let shoff = e.shoff;
        for i in 0..200 {
            let mut b = bytes.clone();
            let mut what = format!("{demo} flip #{i}:");
            for _ in 0..1 + rng.below(4) {
                let at = match rng.below(4) {
                    0 | 1 => rng.below(0x120.min(len)),
                    2 => shoff + rng.below(len - shoff),
                    _ => rng.below(len),
                } as usize;
                let v = rng.next() as u8;
                what += &format!(" [{at:#x}]={v:#04x}");
                b[at] = v;
            }
            cases.push((what, b));
        }
        // Overwrites of every header field with 0, 2^32-1, 2^63, 2^64-1.
        let mut fields: Vec<procfs::elf::Field> = e.header.clone();
        for p in &e.programs {
            fields.extend(p.fields.iter().cloned());
        }
        for s in &e.sections {
            fields.extend(s.fields.iter().cloned());
        }
        for (n, f) in fields.iter().enumerate() {
            let size = f.size.min(8) as usize;
            let mut seen = Vec::new();
            for v in [0, u64::from(u32::MAX), 1 << 63, u64::MAX] {
                let raw = v.to_le_bytes()[..size].to_vec();
                if seen.contains(&raw) {
                    continue;
                }
                seen.push(raw.clone());
                let mut b = bytes.clone();
                b[f.offset as usize..f.offset as usize + size].copy_from_slice(&raw);
                cases.push((format!("{demo} field #{n} {} = {v:#x}", f.name), b));
            }
        }
    }
    cases
}

#[test]
fn no_input_panics_or_hangs() {
    let cases = cases();
    let total = cases.len();
    let (send, results) = channel();
    let worker = std::thread::spawn(move || {
        for (what, bytes) in cases {
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| render(&bytes)));
            if send.send((what, r.map_err(|_| ()))).is_err() {
                return;
            }
        }
    });
    let (mut ok, mut refused) = (0, 0);
    let mut panics = Vec::new();
    for _ in 0..total {
        let (what, r) = results
            .recv_timeout(CASE_BOUND)
            .expect("a case took longer than its bound: a hang");
        match r {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => {
                assert!(
                    !e.contains('\n') && !e.is_empty(),
                    "{what}: one line: {e:?}"
                );
                refused += 1;
            }
            Err(()) => panics.push(what),
        }
    }
    worker.join().unwrap();
    eprintln!("fuzz: {total} cases, {ok} explained, {refused} refused with an error");
    assert!(panics.is_empty(), "panicked on:\n{}", panics.join("\n"));
    assert!(total > 3000, "{total} cases");
    assert!(ok > 0 && refused > 0, "both outcomes seen: {ok} {refused}");
}

#[test]
fn the_real_binary_exits_0_or_1() {
    let cases = cases();
    let dir = std::env::temp_dir().join(format!("mmm-elf-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut runs = 0;
    for (i, (what, bytes)) in cases.iter().enumerate().step_by(cases.len() / 40) {
        let path = dir.join(format!("case{i}"));
        std::fs::write(&path, bytes).unwrap();
        for args in [vec![], vec!["--hex"], vec!["--at", "+0x18"]] {
            let mut all = args.clone();
            all.push(path.to_str().unwrap());
            let r = common::elf(&all);
            assert!(matches!(r.code, Some(0 | 1)), "{what} {args:?}: {r:?}");
            assert!(!r.err.contains("panicked"), "{what}: {}", r.err);
            if r.code == Some(1) {
                assert_eq!(r.err.lines().count(), 1, "{what}: {}", r.err);
            }
            runs += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(runs >= 40 * 3, "{runs}");
}

/// A copy of release `minimal` with `value` written at `at`.
fn patched(at: usize, value: &[u8]) -> Vec<u8> {
    let mut b = std::fs::read(release("minimal")).unwrap();
    b[at..at + value.len()].copy_from_slice(value);
    b
}

fn refused(bytes: &[u8]) -> String {
    match Anatomy::new(bytes, "minimal") {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn hostile_headers_name_the_field_and_offset() {
    let e = procfs::elf::Elf::read(&release("minimal")).unwrap();
    let sh = |i: usize, name: &str| {
        e.sections[i]
            .fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .offset as usize
    };
    let symtab = e.sections.iter().position(|s| s.name == ".symtab").unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (patched(0, b"\x7fELG"), "e_ident[EI_MAG0..3] at offset 0x0"),
        (
            patched(0x20, &u64::MAX.to_le_bytes()),
            "e_phoff at offset 0x20",
        ),
        (
            patched(0x3e, &0x7777u16.to_le_bytes()),
            "e_shstrndx at offset 0x3e",
        ),
        (
            patched(sh(symtab, "sh_size"), &(u64::MAX - 7).to_le_bytes()),
            "sh_size at offset",
        ),
        (
            patched(sh(1, "sh_offset"), &0x50u64.to_le_bytes()),
            "overlaps",
        ),
        (
            patched(sh(1, "sh_name"), &0xffffu32.to_le_bytes()),
            "sh_name at offset",
        ),
        (
            patched(sh(symtab, "sh_link"), &99u32.to_le_bytes()),
            "sh_link at offset",
        ),
        (patched(0x28, &0xffff_ffffu64.to_le_bytes()), "e_shoff"),
    ];
    for (bytes, names) in cases {
        let err = refused(&bytes);
        assert!(err.contains(names), "{names}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    // PN_XNUM: e_phnum 0xffff takes the count from section 0's sh_info.
    let mut b = patched(0x38, &0xffffu16.to_le_bytes());
    let info = sh(0, "sh_info");
    b[info..info + 4].copy_from_slice(&3u32.to_le_bytes());
    let a = Anatomy::new(&b, "minimal").expect("PN_XNUM with the count in section 0");
    assert_eq!(a.elf.programs.len(), 3);
    b[info..info + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = refused(&b);
    assert!(err.contains("e_phoff at offset 0x20 and e_phnum"), "{err}");
}
