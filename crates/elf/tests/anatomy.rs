//! `cargo elf` on the real demos, dev and release: the regions cover the
//! file, every header field is what readelf says, the hexdump gives the
//! file back, the budget adds up, --at finds _start; any ELF file and
//! bad input.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::{FieldLine, binaries, elf, elf_ok, field_lines, release};
use procfs::testing::tool;

/// The top-level lines: `0xSTART-0xEND  SIZE B  NAME`.
fn regions(out: &str) -> Vec<(u64, u64, u64, String)> {
    out.lines()
        .filter(|l| l.starts_with("0x"))
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            let (a, b) = t[0].split_once('-').expect("START-END");
            let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            assert_eq!(t[2], "B", "{l}");
            (hex(a), hex(b), t[1].parse().unwrap(), t[3..].join(" "))
        })
        .collect()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn regions_cover_every_byte_once() {
    for release in [false, true] {
        for (demo, path) in binaries(release) {
            let out = elf_ok(&[path.to_str().unwrap()]);
            let r = regions(&out);
            assert!(r.len() >= 6, "{demo}: {r:?}");
            assert_eq!(r[0].0, 0, "{demo}: starts at 0");
            assert!(r[0].3.starts_with("ELF header"), "{demo}: {:?}", r[0]);
            let mut total = 0;
            for w in r.windows(2) {
                assert_eq!(w[0].1, w[1].0, "{demo}: contiguous, no overlap: {w:?}");
            }
            for (start, end, bytes, name) in &r {
                assert_eq!(end - start, *bytes, "{demo}: {name}");
                total += bytes;
            }
            assert_eq!(total, size(&path), "{demo}: the regions add up to the file");
            assert_eq!(r.last().unwrap().1, size(&path));
            for name in [
                ".text",
                ".symtab",
                ".strtab",
                ".shstrtab",
                "section header table",
            ] {
                assert!(
                    r.iter().any(|x| x.3.starts_with(name)),
                    "{demo}: {name} in {r:?}"
                );
            }
        }
    }
}

/// `readelf -hlSW`: its header values by field name, per entry.
struct Readelf {
    header: HashMap<String, String>,
    programs: Vec<Vec<String>>,
    sections: Vec<Vec<String>>,
}

fn readelf(readelf: &Path, path: &Path) -> Readelf {
    let out = Command::new(readelf)
        .arg("-hlSW")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut header = HashMap::new();
    let mut programs = Vec::new();
    let mut sections = Vec::new();
    let mut part = "";
    for l in text.lines() {
        if l.starts_with("ELF Header:") {
            part = "h";
        } else if l.starts_with("Section Headers:") {
            part = "s";
        } else if l.starts_with("Program Headers:") {
            part = "p";
        } else if l.starts_with("Key to Flags") || l.trim_start().starts_with("Section to Segment")
        {
            part = "";
        } else if part == "h" {
            if let Some((k, v)) = l.split_once(':') {
                header.insert(k.trim().to_string(), v.trim().to_string());
            }
        } else if part == "p" {
            let t: Vec<String> = l.split_whitespace().map(String::from).collect();
            if t.len() >= 8 && t[1].starts_with("0x") {
                programs.push(t);
            }
        } else if part == "s" && l.trim_start().starts_with('[') && !l.contains("Nr]") {
            let rest = l.split_once(']').unwrap().1;
            let mut t: Vec<String> = rest.split_whitespace().map(String::from).collect();
            if sections.is_empty() {
                // Section 0 has no name.
                t.insert(0, String::new());
            }
            sections.push(t);
        }
    }
    Readelf {
        header,
        programs,
        sections,
    }
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// Leading number of `64 (bytes into file)`, decimal or 0x hex.
fn leading(s: &str) -> u64 {
    let w = s.split_whitespace().next().unwrap();
    if w.starts_with("0x") {
        hex(w)
    } else {
        w.parse().unwrap()
    }
}

fn flag_bits(letters: &str, table: &[(char, u64)]) -> u64 {
    letters
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            table
                .iter()
                .find(|(l, _)| *l == c)
                .unwrap_or_else(|| panic!("flag {c}"))
                .1
        })
        .fold(0, |a, b| a | b)
}

fn check_against_readelf(demo: &str, re: &Readelf, fields: &[FieldLine]) {
    let get = |entry: &str, name: &str| -> &FieldLine {
        fields
            .iter()
            .find(|f| f.entry == entry && f.name == name)
            .unwrap_or_else(|| panic!("{demo}: no field {entry} {name}"))
    };
    let h = |k: &str| {
        re.header
            .get(k)
            .unwrap_or_else(|| panic!("readelf: {k}"))
            .clone()
    };
    let magic: Vec<u8> = h("Magic")
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let ident: Vec<u8> = fields
        .iter()
        .filter(|f| f.entry.is_empty() && f.name.starts_with("e_ident"))
        .flat_map(|f| f.bytes.clone())
        .collect();
    assert_eq!(ident, magic, "{demo}: e_ident");
    for (name, key) in [
        ("e_entry", "Entry point address"),
        ("e_phoff", "Start of program headers"),
        ("e_shoff", "Start of section headers"),
        ("e_flags", "Flags"),
        ("e_ehsize", "Size of this header"),
        ("e_phentsize", "Size of program headers"),
        ("e_phnum", "Number of program headers"),
        ("e_shentsize", "Size of section headers"),
        ("e_shnum", "Number of section headers"),
        ("e_shstrndx", "Section header string table index"),
        ("e_version", "Version"),
    ] {
        assert_eq!(get("", name).number(), leading(&h(key)), "{demo}: {name}");
    }
    let kind = h("Type");
    assert_eq!(
        get("", "e_type").value,
        format!("ET_{}", kind.split_whitespace().next().unwrap())
    );
    let machine = match h("Machine").as_str() {
        "Intel 80386" => 3,
        "Advanced Micro Devices X86-64" => 62,
        other => panic!("{demo}: machine {other}"),
    };
    assert_eq!(get("", "e_machine").number(), machine, "{demo}");

    assert_eq!(
        re.programs.len() as u64,
        get("", "e_phnum").number(),
        "{demo}"
    );
    for (i, t) in re.programs.iter().enumerate() {
        let e = format!("ph[{i}]");
        assert_eq!(
            get(&e, "p_type").value,
            format!("PT_{}", t[0]),
            "{demo} {e}"
        );
        for (n, name) in ["p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz"]
            .iter()
            .enumerate()
        {
            assert_eq!(get(&e, name).number(), hex(&t[1 + n]), "{demo} {e} {name}");
        }
        let last = t.len() - 1;
        let flags = flag_bits(&t[6..last].join(""), &[('R', 4), ('W', 2), ('E', 1)]);
        assert_eq!(get(&e, "p_flags").number(), flags, "{demo} {e} p_flags");
        assert_eq!(
            get(&e, "p_align").number(),
            hex(&t[last]),
            "{demo} {e} p_align"
        );
    }

    assert_eq!(
        re.sections.len() as u64,
        get("", "e_shnum").number(),
        "{demo}"
    );
    for (i, t) in re.sections.iter().enumerate() {
        let e = format!("sh[{i}]");
        let name = get(&e, "sh_name").value.clone();
        assert!(
            name.ends_with(&format!("\"{}\"", t[0])),
            "{demo} {e}: {name} vs {}",
            t[0]
        );
        assert_eq!(
            get(&e, "sh_type").value,
            format!("SHT_{}", t[1]),
            "{demo} {e}"
        );
        for (n, field) in ["sh_addr", "sh_offset", "sh_size", "sh_entsize"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                get(&e, field).number(),
                hex(&t[2 + n]),
                "{demo} {e} {field}"
            );
        }
        let last = t.len() - 1;
        assert_eq!(
            get(&e, "sh_addralign").number(),
            t[last].parse::<u64>().unwrap(),
            "{demo} {e}"
        );
        assert_eq!(
            get(&e, "sh_info").number(),
            t[last - 1].parse::<u64>().unwrap(),
            "{demo} {e}"
        );
        assert_eq!(
            get(&e, "sh_link").number(),
            t[last - 2].parse::<u64>().unwrap(),
            "{demo} {e}"
        );
        let flags = flag_bits(
            &t[6..last - 2].join(""),
            &[
                ('W', 1),
                ('A', 2),
                ('X', 4),
                ('M', 0x10),
                ('S', 0x20),
                ('I', 0x40),
                ('T', 0x400),
            ],
        );
        assert_eq!(get(&e, "sh_flags").number(), flags, "{demo} {e} sh_flags");
    }
}

#[test]
fn every_header_field_is_what_readelf_says() {
    let Some(re) = tool("readelf") else { return };
    for release in [false, true] {
        for (demo, path) in binaries(release) {
            let out = elf_ok(&[path.to_str().unwrap()]);
            let fields = field_lines(&out);
            let bytes = std::fs::read(&path).unwrap();
            for f in &fields {
                let at = f.offset as usize;
                assert_eq!(
                    &bytes[at..at + f.bytes.len()],
                    &f.bytes[..],
                    "{demo}: {f:?}"
                );
            }
            check_against_readelf(&demo, &readelf(&re, &path), &fields);
        }
    }
}

/// The hex columns of `--hex` lines, back to bytes.
fn unhex(out: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for l in out.lines() {
        // `00000000: 7f45 4c46 ...  ascii  labels`: 8 groups after the colon.
        let hexpart = &l[10..49];
        for group in hexpart.split(' ') {
            for i in (0..group.len()).step_by(2) {
                bytes.push(u8::from_str_radix(&group[i..i + 2], 16).unwrap());
            }
        }
    }
    bytes
}

#[test]
fn hexdump_gives_the_file_back() {
    for release in [false, true] {
        for (demo, path) in binaries(release) {
            let out = elf_ok(&["--hex", path.to_str().unwrap()]);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(out.lines().count(), bytes.len().div_ceil(16), "{demo}");
            assert_eq!(unhex(&out), bytes, "{demo}: --hex round trip");
            assert!(!out.contains('\x1b'), "no colour when piped");
            if release {
                let first = out.lines().next().unwrap();
                assert!(first.contains("e_ident"), "{first}");
                let entry = out.lines().nth(1).unwrap();
                assert!(entry.contains("e_entry"), "{entry}");
                assert!(out.contains("ph[1] p_type"), "{demo}");
                assert!(out.contains(".text _start"), "{demo}");
            }
        }
    }
    let minimal = release("minimal");
    let out = elf_ok(&["--hex", minimal.to_str().unwrap()]);
    let xxd: Vec<String> = out
        .lines()
        .map(|l| l[..67.min(l.len())].trim_end().to_string())
        .collect();
    if let Some(xxd_path) = tool("xxd") {
        let real = Command::new(xxd_path).arg(&minimal).output().unwrap();
        let real: Vec<String> = String::from_utf8_lossy(&real.stdout)
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        assert_eq!(xxd, real, "laid out as xxd");
    }
}

#[test]
fn stripped_minimal_fits_one_screen() {
    let Some(strip) = tool("strip") else { return };
    let minimal = release("minimal");
    let tmp = std::env::temp_dir().join(format!("mmm-elf-test-strip-{}", std::process::id()));
    assert!(
        Command::new(strip)
            .arg("-o")
            .arg(&tmp)
            .arg(&minimal)
            .status()
            .unwrap()
            .success()
    );
    let stripped = std::fs::read(&tmp).unwrap();
    std::fs::remove_file(&tmp).unwrap();
    let out = elf_ok(&["--hex", "--stripped", minimal.to_str().unwrap()]);
    assert_eq!(unhex(&out), stripped);
    assert_eq!(out.lines().count(), stripped.len().div_ceil(16));
    assert!(
        out.lines().count() <= 64,
        "{} lines: one screen",
        out.lines().count()
    );
    assert!(!out.contains(".symtab"), "strip drops .symtab");
}

#[test]
fn budget_rows_add_up() {
    let out = elf_ok(&["--budget"]);
    let mut lines = out.lines();
    let head: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&head[..3], &["demo", "file", "stripped"]);
    let own = head.iter().position(|c| *c == "own").unwrap();
    let mut seen = Vec::new();
    for l in lines.take_while(|l| !l.starts_with("ehdr")) {
        let t: Vec<&str> = l.split_whitespace().collect();
        let n: Vec<u64> = t[1..].iter().map(|x| x.parse().unwrap()).collect();
        let (file, stripped, parts) = (n[0], n[1], &n[2..]);
        assert_eq!(
            parts.iter().sum::<u64>(),
            file,
            "{}: the parts add up",
            t[0]
        );
        assert!(stripped < file, "{}: strip makes it smaller", t[0]);
        assert!(n[own - 1] > 0, "{}: its own .text", t[0]);
        assert_eq!(file, size(&release(t[0])), "{}: the file as built", t[0]);
        seen.push(t[0].to_string());
    }
    let mut all = common::demos();
    all.sort();
    seen.sort();
    assert_eq!(seen, all, "one row per demo");
    // A row of one demo is the same row.
    let one = elf_ok(&["--budget", "minimal"]);
    let row = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("minimal "))
            .unwrap()
            .to_string()
    };
    assert_eq!(row(&one), row(&out));
}

#[test]
fn at_finds_the_entry_point_both_ways() {
    for (demo, path) in binaries(true) {
        let p = path.to_str().unwrap();
        let e = procfs::elf::Elf::read(&path).unwrap();
        let text = e.section(".text").unwrap();
        let offset = text.offset + (e.entry - text.addr);
        let out = elf_ok(&["--at", &format!("{:#x}", e.entry), p]);
        let start = if demo == "pie" {
            "_start_pie"
        } else {
            "_start"
        };
        assert!(
            out.contains(&format!("symbol: {start} +0x0")),
            "{demo}: {out}"
        );
        assert!(
            out.contains(&format!("file offset: {offset:#x}")),
            "{demo}: {out}"
        );
        assert!(out.contains("section: .text +"), "{demo}: {out}");
        assert!(out.contains("r-xp"), "{demo}: {out}");
        let back = elf_ok(&["--at", &format!("+{offset:#x}"), p]);
        assert!(
            back.contains(&format!(".text {start}, byte 0")),
            "{demo}: {back}"
        );
        assert!(
            back.contains(&format!("lands at {:#x}", e.entry)),
            "{demo}: {back}"
        );
        let field = elf_ok(&["--at", "+0x18", p]);
        assert!(
            field.contains("holds: e_entry, byte 0 of 8"),
            "{demo}: {field}"
        );
    }
}

#[test]
fn any_elf_file_bin_true() {
    let out = elf_ok(&["/bin/true"]);
    assert!(out.contains("PT_INTERP"), "{out}");
    assert!(out.contains("interpreter: \"/lib"), "{out}");
    for t in ["PT_DYNAMIC", "PT_GNU_STACK", "ET_DYN"] {
        assert!(out.contains(t), "{t} in /bin/true");
    }
    let hex = elf_ok(&["--hex", "/bin/true"]);
    assert_eq!(unhex(&hex), std::fs::read("/bin/true").unwrap());
    assert!(elf_ok(&["--at", "+0x0", "/bin/true"]).contains("e_ident"));
}

/// Checks a one-line error with exit status `code`.
fn one_line_error(args: &[&str], code: i32, names: &str) {
    let r = elf(args);
    assert_eq!(r.code, Some(code), "{args:?}: {r:?}");
    assert_eq!(r.out, "", "{args:?}");
    assert!(r.err.contains(names), "{args:?}: {}", r.err);
    assert!(!r.err.contains("panicked"), "{args:?}: {}", r.err);
    let lines = r.err.lines().count();
    assert!(
        lines == 1 || (code == 2 && lines == 2),
        "{args:?}: {}",
        r.err
    );
}

#[test]
fn bad_input_gets_one_clear_line() {
    one_line_error(&[], 2, "no TARGET");
    one_line_error(
        &["--frobnicate", "minimal"],
        2,
        "unknown option '--frobnicate'",
    );
    one_line_error(&["--at", "zz", "minimal"], 2, "hex address");
    one_line_error(&["nosuchdemo"], 2, "neither a demo nor a file");
    one_line_error(&["a", "b"], 2, "one TARGET");
    one_line_error(&["--budget", "nosuch"], 2, "unknown demo 'nosuch'");
    one_line_error(&["/nonexistent/file"], 1, "No such file");
    one_line_error(&["/tmp"], 1, "is a directory");
    one_line_error(&["/etc/hostname"], 1, "not an ELF file");
    // Write-only for its owner, and no read at all for root: a clear
    // error for both.
    one_line_error(&["/proc/self/clear_refs"], 1, "clear_refs");
    let fifo = std::env::temp_dir().join(format!("mmm-elf-fifo-{}", std::process::id()));
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    one_line_error(&[fifo.to_str().unwrap()], 1, "not a regular file");
    std::fs::remove_file(&fifo).unwrap();
}

/// A 32-bit program as the seeds wrote them, put together byte by byte:
/// ELF header, PT_LOAD (R E) and PT_GNU_STACK, `exit(0)` through
/// `int 0x80`, .shstrtab and three section headers.
fn elf32() -> Vec<u8> {
    const BASE: u32 = 0x0804_8000;
    // mov eax, 1 (SYS_exit on i386); xor ebx, ebx; int 0x80
    const CODE: [u8; 9] = [0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80];
    const NAMES: &[u8] = b"\0.text\0.shstrtab\0";
    let (text, names) = (52 + 2 * 32, 52 + 2 * 32 + CODE.len() as u32);
    let shoff = (names + NAMES.len() as u32).next_multiple_of(4);
    let mut b = vec![0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let words =
        |b: &mut Vec<u8>, v: &[u32]| v.iter().for_each(|w| b.extend_from_slice(&w.to_le_bytes()));
    let halves =
        |b: &mut Vec<u8>, v: &[u16]| v.iter().for_each(|h| b.extend_from_slice(&h.to_le_bytes()));
    halves(&mut b, &[2, 3]);
    words(&mut b, &[1, BASE + text, 52, shoff, 0]);
    halves(&mut b, &[52, 32, 2, 40, 3, 2]);
    words(&mut b, &[1, 0, BASE, BASE, names, names, 5, 0x1000]);
    words(&mut b, &[0x6474_e551, 0, 0, 0, 0, 0, 6, 16]);
    b.extend_from_slice(&CODE);
    b.extend_from_slice(NAMES);
    b.resize(shoff as usize + 40, 0);
    words(
        &mut b,
        &[1, 1, 6, BASE + text, text, CODE.len() as u32, 0, 0, 1, 0],
    );
    words(&mut b, &[7, 3, 0, 0, names, NAMES.len() as u32, 0, 0, 1, 0]);
    b
}

#[test]
fn elf32_i386_is_read_field_by_field() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("mmm-elf-test-32-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("exit32");
    std::fs::write(&path, elf32()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = path.to_str().unwrap();
    let out = elf_ok(&[p]);
    assert!(out.contains("ELFCLASS32 EM_386 ET_EXEC"), "{out}");
    assert!(
        out.contains("program header table: 2 x Elf32_Phdr (32 B)"),
        "{out}"
    );
    assert!(out.contains("-> 08048000-08049000 r-xp 00000000"), "{out}");
    let r = regions(&out);
    assert_eq!(r.iter().map(|x| x.2).sum::<u64>(), size(&path));
    let fields = field_lines(&out);
    let flags = fields
        .iter()
        .find(|f| f.entry == "ph[0]" && f.name == "p_flags")
        .unwrap();
    assert_eq!(
        (flags.offset, flags.number()),
        (52 + 24, 5),
        "Elf32_Phdr: p_flags after p_memsz"
    );
    if let Some(re) = tool("readelf") {
        check_against_readelf("exit32", &readelf(&re, &path), &fields);
    }
    // The kernel agrees on the layout: it runs it (IA-32 emulation), exit 0.
    // ETXTBSY: another test thread that forked while the file was open
    // for writing holds it until its exec; try again.
    let status = (0..100)
        .map(|_| Command::new(&path).status())
        .find(|s| {
            let busy = s.as_ref().is_err_and(|e| e.raw_os_error() == Some(26));
            if busy {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            !busy
        })
        .expect("not ETXTBSY for ever");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(status.unwrap().success(), "the 32-bit program runs");
}
