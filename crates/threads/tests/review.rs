//! `threads --help` and `threads -h` on the real binary: the usage on stdout,
//! status 0, nothing on stderr, and no stop (`run` fails on one).

use procfs::Event;
use procfs::testing::run;

const BIN: &str = env!("CARGO_BIN_EXE_threads");

#[test]
fn help_prints_the_usage_on_stdout_and_exits_0() {
    for args in [&["--help"][..], &["-h"], &["-q", "--help"]] {
        let (end, out, err) = run(BIN, args);
        assert_eq!(end, Event::Exited(0), "{args:?}: {err}");
        assert!(out.starts_with("usage: threads [-q]"), "{args:?}: {out:?}");
        assert_eq!(err, "", "{args:?}");
    }
}
