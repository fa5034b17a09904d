//! `cargo elf --svg FILE TARGET` on the real binaries: the picture of
//! every demo (and of /bin/true, and of the 32-bit builds) parses as XML,
//! has a `ph[N]` label for each PT_LOAD and one box per maps line the
//! listing predicts, with the same text, and those are the lines the
//! running demo has in /proc/PID/maps. In headless Chromium it is drawn
//! (a screenshot larger than that of an empty page) and logs nothing.
//!
//! XML is parsed by Python's minidom (python3 is on the machine and on
//! CI); Chromium is Debian's package, run by scripts/chromium.sh as the
//! tour's tests run it. Missing, either says SKIPPED; under CI=true
//! that fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{actual, elf, elf_ok, first_stop_args, maps_at_first_stop, predicted};
use procfs::testing::{tool, unique};

/// Every `<text>` of the picture as (class, text), and the number of
/// `<g class="mapping">` boxes, as an XML parser reads the file.
const READ_SVG: &str = r#"
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
assert d.documentElement.tagName == 'svg', d.documentElement.tagName
for t in d.getElementsByTagName('text'):
    text = ''.join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE)
    print(t.getAttribute('class') + '\t' + text)
boxes = [g for g in d.getElementsByTagName('g') if g.getAttribute('class') == 'mapping']
print('boxes\t%d' % len(boxes))
bands = [p for p in d.getElementsByTagName('polygon') if 'band' in p.getAttribute('class').split()]
print('bands\t%d' % len(bands))
"#;

/// A directory of the test's own, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!(
            "mmm-elf-svg-{tag}-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the parsed picture says.
#[derive(Debug)]
struct Picture {
    /// The texts of class `ph`: one `ph[N]` per PT_LOAD.
    ph: Vec<String>,
    /// The texts of class `maps`: one maps line per box.
    maps: Vec<String>,
    boxes: usize,
    /// The bands from the bar to the file-backed boxes.
    bands: usize,
    texts: Vec<String>,
}

/// `--svg` of `target` into `dir`, parsed by python3's minidom.
fn picture(python: &Path, dir: &Path, target: &str) -> (PathBuf, Picture) {
    let file = dir.join(format!(
        "{}.svg",
        Path::new(target).file_name().unwrap().to_string_lossy()
    ));
    let out = elf_ok(&["--svg", file.to_str().unwrap(), target]);
    assert!(out.starts_with("wrote "), "{out}");
    let o = Command::new(python)
        .args(["-c", READ_SVG])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{target}: not well-formed XML: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut p = Picture {
        ph: Vec::new(),
        maps: Vec::new(),
        boxes: 0,
        bands: 0,
        texts: Vec::new(),
    };
    for line in text.lines() {
        let (class, t) = line.split_once('\t').unwrap();
        match class {
            "ph" => p.ph.push(t.to_string()),
            "maps" => p.maps.push(t.to_string()),
            "boxes" => p.boxes = t.parse().unwrap(),
            "bands" => p.bands = t.parse().unwrap(),
            _ => {}
        }
        p.texts.push(t.to_string());
    }
    (file, p)
}

/// The PT_LOADs of the default listing, as `ph[N]`.
fn loads(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| l.starts_with("  ph[") && l.contains("] PT_LOAD "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// The `-> ` lines of the listing as maps prints them, in address order.
fn lines_of(want: &[(u64, u64, String, u64)]) -> Vec<String> {
    let mut v: Vec<String> = want
        .iter()
        .map(|(s, e, p, o)| format!("{s:08x}-{e:08x} {p} {o:08x}"))
        .collect();
    v.sort();
    v
}

/// The picture of `path` against the listing and, if `run` has the
/// arguments to its first stop, against the running program's maps.
fn check(python: &Path, dir: &Path, name: &str, path: &Path, run: Option<&[&str]>) -> Picture {
    let target = path.to_str().unwrap();
    let listing = elf_ok(&[target]);
    let (_, pic) = picture(python, dir, target);
    let want = predicted(&listing);
    assert!(!want.is_empty(), "{name}: no maps lines predicted");
    let mut ph = pic.ph.clone();
    ph.sort();
    let mut expected = loads(&listing);
    expected.sort();
    assert_eq!(ph, expected, "{name}: one ph[N] label per PT_LOAD");
    assert_eq!(pic.boxes, want.len(), "{name}: one box per maps line");
    let with_file = listing
        .lines()
        .filter(|l| l.starts_with("  ph[") && l.contains("] PT_LOAD "))
        .filter(|l| {
            let (a, b) = l
                .split(" file ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .split_once('-')
                .unwrap();
            a != b
        })
        .count();
    assert_eq!(
        pic.bands, with_file,
        "{name}: a band per PT_LOAD with file bytes"
    );
    assert_eq!(pic.maps.len(), want.len(), "{name}");
    let mut ordered = pic.maps.clone();
    ordered.sort();
    assert_eq!(ordered, pic.maps, "{name}: boxes in address order");
    assert_eq!(pic.maps, lines_of(&want), "{name}: the listing's lines");
    if let Some(args) = run {
        let (_, maps) = maps_at_first_stop(path, args);
        assert_eq!(
            lines_of(&actual(&maps, path, &want)),
            pic.maps,
            "{name}: the running program's maps lines"
        );
    }
    pic
}

#[test]
fn every_demo_is_drawn_with_the_maps_lines_it_runs_with() {
    let Some(python) = tool("python3") else {
        return;
    };
    let dir = Temp::new("demos");
    let mut same_page = 0;
    for (demo, path) in common::binaries(true) {
        let pic = check(&python, &dir.0, &demo, &path, Some(first_stop_args(&demo)));
        if pic
            .texts
            .iter()
            .any(|t| t.starts_with("every PT_LOAD starts in file page 0"))
        {
            same_page += 1;
            assert!(pic.maps.iter().all(|m| m.ends_with(" 00000000")), "{demo}");
        }
        let legend = ["r-- ", "r-x ", "rw- ", "in no PT_LOAD"];
        for key in legend {
            assert!(
                pic.texts.iter().any(|t| t.starts_with(key)),
                "{demo}: legend {key:?}"
            );
        }
        // Every box says its permissions in words, not colour alone.
        for m in &pic.maps {
            let perms = m.split_whitespace().nth(1).unwrap();
            assert!(pic.texts.iter().any(|t| t == perms), "{demo}: {perms}");
        }
    }
    assert!(
        same_page >= 5,
        "the demos map file page 0 several times: {same_page}"
    );
}

/// `stop` itself: the same file page three times, r--p, r-xp, rw-p.
#[test]
fn stop_maps_one_file_page_three_times() {
    let Some(python) = tool("python3") else {
        return;
    };
    let dir = Temp::new("stop");
    let path = common::release("stop");
    let pic = check(&python, &dir.0, "stop", &path, Some(&["-q"]));
    let perms: Vec<&str> = pic
        .maps
        .iter()
        .map(|m| m.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(perms, ["r--p", "r-xp", "rw-p"]);
    assert!(pic.maps.iter().all(|m| m.ends_with(" 00000000")));
    assert_eq!(pic.ph, ["ph[0]", "ph[1]", "ph[2]"]);
}

/// No demo's p_memsz goes a page past its file part: a copy of
/// `minimal` whose code segment's p_memsz is grown to 64 KiB gets an
/// anonymous `rwxp` box (vm_brk_flags), drawn and running alike.
#[test]
fn a_tail_of_zero_pages_gets_its_own_box() {
    use std::os::unix::fs::PermissionsExt;
    let Some(python) = tool("python3") else {
        return;
    };
    let dir = Temp::new("tail");
    let minimal = common::release("minimal");
    let mut bytes = std::fs::read(&minimal).unwrap();
    let fields = common::field_lines(&elf_ok(&[minimal.to_str().unwrap()]));
    let memsz = fields
        .iter()
        .find(|f| f.entry == "ph[1]" && f.name == "p_memsz")
        .unwrap();
    let at = memsz.offset as usize;
    bytes[at..at + 8].copy_from_slice(&0x10000u64.to_le_bytes());
    let path = dir.0.join("grown");
    std::fs::write(&path, &bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pic = check(&python, &dir.0, "grown", &path, Some(&["5"]));
    assert_eq!(pic.maps.len(), 3, "{:?}", pic.maps);
    assert!(pic.maps[2].ends_with(" rwxp 00000000"), "{:?}", pic.maps);
    assert!(
        pic.texts
            .iter()
            .any(|t| t.starts_with("anonymous zeros, p_memsz +")),
        "{:?}",
        pic.texts
    );
    assert_eq!(pic.ph, ["ph[0]", "ph[1]"]);
}

#[test]
fn any_elf_file_bin_true_and_a_pie() {
    let Some(python) = tool("python3") else {
        return;
    };
    let dir = Temp::new("true");
    let pic = check(&python, &dir.0, "/bin/true", Path::new("/bin/true"), None);
    assert!(pic.ph.len() >= 2, "{:?}", pic.ph);
    let pie = |p: &Picture| p.texts.iter().any(|t| t.starts_with("ET_DYN (PIE)"));
    if elf_ok(&["/bin/true"]).contains(" ET_DYN,") {
        assert!(pie(&pic), "{:?}", pic.texts);
    }
    // The PIE demo: its lines at link addresses, maps's minus the load
    // offset.
    let path = common::release("pie");
    let pic = check(&python, &dir.0, "pie", &path, Some(&["-q"]));
    assert!(pie(&pic));
}

/// The 32-bit builds of the demos (where the i686 target is installed
/// and the kernel runs them): 8-digit addresses, the same checks.
#[test]
fn thirty_two_bit_demos() {
    let Some(python) = tool("python3") else {
        return;
    };
    let Some(bin) = procfs::i686::demos_for_test() else {
        return;
    };
    let dir = Temp::new("i686");
    for demo in ["minimal", "stop", "brk", "sections"] {
        let path = bin.join(demo);
        let pic = check(&python, &dir.0, demo, &path, Some(first_stop_args(demo)));
        assert!(
            pic.texts.iter().any(|t| t.contains("ELFCLASS32 EM_386")),
            "{demo}: {:?}",
            pic.texts.first()
        );
        assert!(
            pic.maps
                .iter()
                .all(|m| m.len() == "08048000-08049000 r--p 00000000".len())
        );
    }
}

#[test]
fn bad_arguments_and_an_unwritable_file() {
    let minimal = common::release("minimal");
    let m = minimal.to_str().unwrap();
    let r = elf(&["--svg", "/nonexistent-dir/x.svg", m]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(r.err.lines().count(), 1, "{r:?}");
    assert!(
        r.err
            .starts_with("elf: cannot write /nonexistent-dir/x.svg: "),
        "{r:?}"
    );
    for args in [
        &["--svg"][..],
        &["--svg", "x.svg"],
        &["--svg", "x.svg", "--hex", m],
    ] {
        let r = elf(args);
        assert_eq!(r.code, Some(2), "{args:?}: {r:?}");
        assert!(r.err.contains("usage: cargo elf"), "{args:?}: {r:?}");
        assert!(r.err.starts_with("error: "), "{args:?}: {r:?}");
        assert_eq!(r.out, "");
    }
    assert!(!Path::new("x.svg").exists(), "nothing written");
    assert!(elf_ok(&["--help"]).contains("--svg FILE"));
    // `-` writes the picture to stdout.
    let out = elf_ok(&["--svg", "-", m]);
    assert!(out.starts_with("<?xml version=\"1.0\""), "{}", &out[..80]);
    assert!(out.trim_end().ends_with("</svg>"));
}

/// Headless Chromium, as the tour's tests run it.
fn chromium(args: &[&str], url: &str) -> (String, String) {
    let script = common::root().join("scripts/chromium.sh");
    let o = Command::new("bash")
        .arg(script)
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "chromium {args:?} {url}: {err}");
    (out, err)
}

#[test]
fn in_a_browser_it_is_drawn() {
    let Some(python) = tool("python3") else {
        return;
    };
    if tool("chromium").is_none() {
        return;
    }
    let dir = Temp::new("browser");
    let (file, pic) = picture(&python, &dir.0, common::release("stop").to_str().unwrap());
    let url = format!("file://{}", file.display());
    let (dom, err) = chromium(&["--dump-dom"], &url);
    // Chromium's XML parser: a bad file gives a parsererror page.
    assert!(
        dom.starts_with("<svg"),
        "{}: {err}",
        &dom[..dom.len().min(300)]
    );
    assert!(!dom.contains("parsererror"));
    assert!(!err.contains(":CONSOLE"), "{err}");
    for m in &pic.maps {
        assert!(dom.contains(&format!(">{m}</text>")), "{m}");
    }
    let empty = dir.0.join("empty.svg");
    std::fs::write(
        &empty,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1200\" height=\"700\"></svg>\n",
    )
    .unwrap();
    let shot = |svg: &Path, png: &str| {
        let png = dir.0.join(png);
        let arg = format!("--screenshot={}", png.display());
        let (_, err) = chromium(
            &["--window-size=1200,700", &arg],
            &format!("file://{}", svg.display()),
        );
        std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot of {svg:?} ({e}): {err}"))
    };
    let ours = shot(&file, "stop.png");
    let blank = shot(&empty, "empty.png");
    assert!(ours.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        ours.len() > 4 * blank.len(),
        "{} B against {} B for an empty picture",
        ours.len(),
        blank.len()
    );
}
