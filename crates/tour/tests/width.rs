//! The tour fits its terminal: under a pseudo-terminal of 80 and of 120
//! columns no line is longer, and no word is lost to the wrapping; an
//! unchanged line is shown once with its words, later without (dimmed).

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

mod common;
use common::{TOUR, Temp, text, tour_cmd};

/// `struct winsize`, include/uapi/asm-generic/termios.h.
#[repr(C)]
struct WinSize {
    rows: u16,
    cols: u16,
    xpixel: u16,
    ypixel: u16,
}

unsafe extern "C" {
    /// openpty(3), in glibc's libc since 2.34.
    fn openpty(
        main: *mut i32,
        sub: *mut i32,
        name: *mut u8,
        termios: *const u8,
        size: *const WinSize,
    ) -> i32;
}

/// Runs `cmd` with its stdout on a new pseudo-terminal of `cols`
/// columns; returns what it printed (the terminal's `\r\n` made `\n`).
fn on_terminal(mut cmd: Command, cols: u16) -> String {
    let size = WinSize {
        rows: 50,
        cols,
        xpixel: 0,
        ypixel: 0,
    };
    let (mut main, mut sub) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the name and termios
    // pointers may be null, the size is read.
    let r = unsafe {
        openpty(
            &mut main,
            &mut sub,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and ours alone.
    let (main, sub) = unsafe { (OwnedFd::from_raw_fd(main), OwnedFd::from_raw_fd(sub)) };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(sub))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child holds the only other end now: reading ends with EIO
    // when it exits.
    drop(cmd);
    let mut out = Vec::new();
    let mut file = std::fs::File::from(main);
    let mut buf = [0u8; 65536];
    loop {
        match file.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status}: {err}");
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

/// A saved tour of the demos with the longest lines.
fn recording() -> Temp {
    let dir = Temp::new("width");
    let o = tour_cmd(&[
        "--save",
        dir.arg(),
        "stop",
        "brk",
        "mmap",
        "sections",
        "vdso",
    ])
    .env_remove("COLUMNS")
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    dir
}

fn no_blanks(t: &str) -> String {
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn lines_fit_80_and_120_columns_and_keep_every_word() {
    let dir = recording();
    let piped = tour_cmd(&["--replay", dir.arg()])
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (long, _) = text(&piped);
    let widest = long.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 120, "piped output keeps its long lines: {widest}");
    for cols in [80, 120] {
        let mut cmd = tour_cmd(&["--replay", dir.arg()]);
        // The terminal's own width wins over COLUMNS.
        cmd.env("COLUMNS", "300");
        let shown = on_terminal(cmd, cols);
        let too_long: Vec<&str> = shown
            .lines()
            .filter(|l| l.chars().count() > usize::from(cols))
            .collect();
        assert!(too_long.is_empty(), "{cols} columns: {too_long:#?}");
        assert!(
            shown.lines().count() > long.lines().count(),
            "{cols}: wrapped"
        );
        // Only blanks moved: every word is there, in order.
        assert_eq!(no_blanks(&shown), no_blanks(&long), "{cols} columns");
        // A line the wrapping made never starts at column 1.
        let whole: std::collections::HashSet<&str> = long.lines().collect();
        for l in shown.lines().filter(|l| !whole.contains(l)) {
            let continued = l.trim_end().len() < l.len() || l.starts_with("  ");
            assert!(
                continued || l.starts_with(['=', '-', '+', '~']),
                "{cols}: {l:?}"
            );
        }
    }
}

#[test]
fn columns_fits_piped_output_too() {
    let dir = recording();
    let o = tour_cmd(&["--replay", dir.arg(), "--diagram"])
        .env("COLUMNS", "90")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert!(o.status.success());
    let long: Vec<&str> = out.lines().filter(|l| l.chars().count() > 90).collect();
    assert!(long.is_empty(), "{long:#?}");
    assert!(out.contains("non-canonical"), "{out}");
}

#[test]
fn a_line_is_explained_once_then_dimmed_on_a_terminal() {
    let dir = recording();
    let mut cmd = Command::new(TOUR);
    cmd.args(["--replay", dir.arg(), "brk"])
        .env_remove("NO_COLOR");
    let shown = on_terminal(cmd, 200);
    let stops: Vec<&str> = shown.split("-- brk: stop ").collect();
    assert_eq!(stops.len(), 4, "{shown}");
    let vdso = |s: &str| {
        s.lines()
            .find(|l| l.contains("  [vdso]"))
            .unwrap()
            .to_string()
    };
    assert!(
        vdso(stops[1]).contains("kernel code in the process"),
        "{shown}"
    );
    let later = vdso(stops[2]);
    assert!(!later.contains("kernel code"), "said once: {later}");
    assert!(later.starts_with("\x1b[2m"), "dimmed: {later:?}");
    // The heap is new at stop 2 and grows at stop 3: its words once,
    // then only the change.
    assert!(stops[2].contains("the program break"), "{shown}");
    let heap = stops[3]
        .lines()
        .find(|l| l.contains("KiB  [heap]"))
        .unwrap();
    assert!(heap.contains("+4 KiB") || heap.contains("+8 KiB"), "{heap}");
    assert!(!heap.contains("the program break"), "{heap}");
    // --explain-all: every stop says it all.
    let all = tour_cmd(&["--replay", dir.arg(), "--explain-all", "brk"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (all, _) = text(&all);
    assert_eq!(
        all.matches("kernel code in the process").count(),
        3,
        "{all}"
    );
}
