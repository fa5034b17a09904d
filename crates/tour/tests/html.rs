//! `--html` and `--svg` in a real browser: headless Chromium loads the
//! page and the pictures of a tour of stop, brk and mmap, from file://.
//! Its DOM holds every maps line of every stop of the recording, its
//! script ran (slide mode) without a console message, a screenshot is
//! not blank, and every SVG file parses as XML.
//!
//! Chromium is Debian's package `chromium` (.ci/run installs it), run by
//! scripts/chromium.sh, as the README's screenshot was made. It needs
//! `--no-sandbox` as root and a `--user-data-dir` of its own as another
//! user; without them it prints nothing and exits 0, so every output is
//! checked to exist. Console messages show only with
//! `--enable-logging=stderr`, as `CONSOLE` lines among dbus noise.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use procfs::testing::tool;

mod common;
use common::{Temp, text, tour_cmd};

/// Screen size of the screenshots (the README's picture too).
const WINDOW: &str = "--window-size=1280,900";

struct Chromium {
    script: PathBuf,
}

impl Chromium {
    fn find() -> Option<Chromium> {
        tool("chromium")?;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Some(Chromium {
            script: root.join("scripts/chromium.sh"),
        })
    }

    /// Chromium headless on `url` with `args` (scripts/chromium.sh).
    fn run(&self, args: &[&str], url: &str) -> Output {
        let o = Command::new("bash")
            .arg(&self.script)
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .expect("run chromium");
        assert!(
            o.status.success(),
            "chromium {args:?} {url}: {}",
            text(&o).1
        );
        o
    }

    fn dom(&self, file: &Path) -> (String, Vec<String>) {
        let o = self.run(&["--dump-dom"], &url(file));
        let (dom, err) = text(&o);
        assert!(
            !dom.is_empty(),
            "chromium printed no DOM for {file:?}: {err}"
        );
        let console = err
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect();
        (dom, console)
    }

    /// A screenshot's bytes.
    fn screenshot(&self, file: &Path, png: &Path) -> Vec<u8> {
        let shot = format!("--screenshot={}", png.display());
        let o = self.run(&[WINDOW, &shot], &url(file));
        std::fs::read(png)
            .unwrap_or_else(|e| panic!("no screenshot of {file:?} ({e}): {}", text(&o).1))
    }
}

fn url(file: &Path) -> String {
    format!("file://{}", file.canonicalize().unwrap().display())
}

/// The text of a maps line as an HTML serializer writes it.
fn as_in_dom(line: &str) -> String {
    line.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The saved maps files: (run/stop, text).
fn saved_maps(dir: &Path) -> Vec<(String, String)> {
    let runs = std::fs::read_to_string(dir.join("runs")).unwrap();
    let mut out = Vec::new();
    for run in runs.lines() {
        for stop in 1.. {
            let Ok(maps) =
                std::fs::read_to_string(dir.join(run).join(stop.to_string()).join("maps"))
            else {
                break;
            };
            out.push((format!("{run}/{stop}"), maps));
        }
    }
    out
}

/// A live tour of stop, brk and mmap, saved and rendered.
fn rendered(tag: &str) -> (Temp, Temp, Temp) {
    let (rec, page, pictures) = (Temp::new(tag), Temp::file(tag, "html"), Temp::new(tag));
    let o = tour_cmd(&[
        "--save",
        rec.arg(),
        "--html",
        page.arg(),
        "--svg",
        pictures.arg(),
        "stop",
        "brk",
        "mmap",
    ])
    .stdin(Stdio::null())
    .output()
    .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(err.contains("tour: wrote "), "{err}");
    (rec, page, pictures)
}

#[test]
fn the_page_in_a_browser_has_every_maps_line_and_no_console_message() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (rec, page, _) = rendered("page");
    // A page that logs shows as a CONSOLE line: the check below can fail.
    let control = Temp::file("console", "html");
    std::fs::write(
        &control.0,
        "<!DOCTYPE html><script>console.error('seen')</script>",
    )
    .unwrap();
    let (_, logged) = chromium.dom(&control.0);
    assert!(logged.iter().any(|l| l.contains("seen")), "{logged:?}");

    let (dom, console) = chromium.dom(&page.0);
    assert!(console.is_empty(), "console: {console:#?}");
    // The script ran: one slide at a time, the first, or the one named.
    assert!(
        dom.contains("<html lang=\"en\" class=\"deck\">"),
        "{}",
        &dom[..300]
    );
    assert_eq!(dom.matches("class=\"slide current\"").count(), 1);
    assert!(dom.contains("<section class=\"slide current\" id=\"start\">"));
    let o = chromium.run(&["--dump-dom"], &format!("{}#mmap-3", url(&page.0)));
    let (at, _) = text(&o);
    assert!(at.contains("<section class=\"slide current\" id=\"mmap-3\">"));
    let maps = saved_maps(&rec.0);
    assert_eq!(maps.len(), 1 + 3 + 4, "stops of stop, brk, mmap");
    for (stop, text) in &maps {
        for line in text.lines() {
            assert!(
                dom.contains(&as_in_dom(line)),
                "{stop}: {line:?} not in the page"
            );
        }
        assert!(
            dom.contains(&format!("id=\"{}\"", stop.replace('/', "-"))),
            "{stop}"
        );
    }
    // Marks are words, not colour alone.
    assert!(dom.contains("<td class=\"mark\">+ new</td>"), "brk's heap");
    assert!(
        dom.contains("- gone (unmapped)"),
        "mmap's munmap in the picture"
    );
    assert!(
        !dom.contains("<link") && !dom.contains(" src="),
        "self-contained"
    );
}

#[test]
fn a_screenshot_of_the_page_is_not_blank() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (_, page, _) = rendered("shot");
    let empty = Temp::file("empty", "html");
    std::fs::write(&empty.0, "<!DOCTYPE html><title>empty</title>").unwrap();
    let (a, b) = (Temp::file("page", "png"), Temp::file("empty", "png"));
    let ours = chromium.screenshot(&page.0, &a.0);
    let blank = chromium.screenshot(&empty.0, &b.0);
    assert!(ours.starts_with(b"\x89PNG"), "a PNG");
    assert_ne!(ours, blank);
    assert!(
        ours.len() > 4 * blank.len(),
        "{} bytes against {} for an empty page",
        ours.len(),
        blank.len()
    );
}

#[test]
fn every_svg_parses_and_shows_its_stop() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (rec, _, pictures) = rendered("svg");
    let maps = saved_maps(&rec.0);
    let mut names: Vec<String> = std::fs::read_dir(&pictures.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = maps
        .iter()
        .map(|(s, _)| format!("{}.svg", s.replace('/', "-")))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    for (stop, text) in &maps {
        let file = pictures.0.join(format!("{}.svg", stop.replace('/', "-")));
        let (dom, console) = chromium.dom(&file);
        assert!(console.is_empty(), "{console:?}");
        // Chromium's XML parser: a bad file gives a parsererror page.
        assert!(
            dom.starts_with("<svg"),
            "{stop}: {}",
            &dom[..dom.len().min(400)]
        );
        assert!(!dom.contains("parsererror"), "{stop}");
        // Every mapping's start address is written at its region.
        for line in text.lines() {
            let start = u64::from_str_radix(line.split('-').next().unwrap(), 16).unwrap();
            let start = format!("{start:#x}");
            assert!(dom.contains(&format!(">{start}<")), "{stop}: {start}");
        }
    }
    let shot = Temp::file("svg", "png");
    let png = chromium.screenshot(&pictures.0.join("mmap-2.svg"), &shot.0);
    assert!(png.len() > 10_000, "{} bytes", png.len());
}

#[test]
fn printed_it_is_one_stop_a_page() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (rec, page, _) = rendered("print");
    let pdf = Temp::file("handout", "pdf");
    let out = format!("--print-to-pdf={}", pdf.arg());
    chromium.run(&[&out, "--no-pdf-header-footer"], &url(&page.0));
    let bytes = std::fs::read(&pdf.0).expect("chromium wrote the PDF");
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
    // Page objects: `/Type /Page` (or `/Type/Page`), not the `/Pages` tree.
    let text = String::from_utf8_lossy(&bytes);
    let pages = text
        .split("/Type")
        .skip(1)
        .filter(|rest| {
            let name = rest.trim_start();
            name.starts_with("/Page") && !name.starts_with("/Pages")
        })
        .count();
    // The title page, then one a stop.
    assert_eq!(pages, 1 + saved_maps(&rec.0).len());
}
