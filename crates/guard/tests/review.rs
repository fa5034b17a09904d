//! `guard --help` and `guard -h` on the real binary: the usage on stdout,
//! status 0, nothing on stderr, and no stop (`run` fails on one).

use procfs::Event;
use procfs::testing::{assert_usage_error, run};

const BIN: &str = env!("CARGO_BIN_EXE_guard");

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    for args in [&["--help"][..], &["-h"], &["-q", "--help"]] {
        let (end, out, err) = run(BIN, args);
        assert_eq!(end, Event::Exited(0), "{args:?}: {err}");
        assert!(out.starts_with("usage: guard [-q]"), "{args:?}: {out:?}");
        assert_eq!(err, "", "{args:?}");
    }
}

#[test]
fn a_kib_whose_bytes_overflow_a_word_is_a_usage_error() {
    // 2^54 KiB is 2^64 bytes: shifted, it would wrap to a limit of 0.
    assert_usage_error(BIN, &["-q", "18014398509481984"], "KIB is too big");
}
