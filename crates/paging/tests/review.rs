//! `paging --help` and `paging -h` on the real binary: the usage on stdout,
//! status 0, nothing on stderr, and no stop (`run` fails on one).

use procfs::Event;
use procfs::testing::{assert_usage_error, run};

const BIN: &str = env!("CARGO_BIN_EXE_paging");

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    for args in [&["--help"][..], &["-h"], &["-q", "--help"]] {
        let (end, out, err) = run(BIN, args);
        assert_eq!(end, Event::Exited(0), "{args:?}: {err}");
        assert!(out.starts_with("usage: paging [-q]"), "{args:?}: {out:?}");
        assert_eq!(err, "", "{args:?}");
    }
}

#[test]
fn a_size_that_overflows_when_rounded_up_to_pages_is_named_so() {
    // Rounded up to a page, 2^64 - 1 wrapped around to 0, and the demo
    // called it "not a size above 0".
    assert_usage_error(
        BIN,
        &["18446744073709551615"],
        "too big to round up to whole pages: '18446744073709551615'",
    );
    // The largest page-aligned size rounds to itself: no usage error, it
    // is refused for want of memory (status 1).
    let (end, out, err) = run(BIN, &["-q", "18446744073709547520"]);
    assert_eq!((end, out.as_str()), (Event::Exited(1), ""), "{err}");
    assert_eq!(err, "paging: more than free RAM: ENOMEM\n");
}
