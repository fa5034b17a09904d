//! The runtime of `sys` in a real no_std binary: memcpy & co. and the
//! panic handler.

use procfs::Event;
use procfs::testing::run;

const BIN: &str = env!("CARGO_BIN_EXE_sys-selftest");

#[test]
fn runtime_functions_work_in_a_freestanding_binary() {
    let (end, out, err) = run(BIN, &[]);
    assert_eq!(end, Event::Exited(0), "{out}{err}");
    assert_eq!(
        err, "",
        "nothing on stderr, not even a piece of the long line"
    );
    assert_eq!(out.lines().count(), 10, "{out}");
    assert!(
        out.contains(&format!("\n{} long line ok\n", ".".repeat(250))),
        "{out}"
    );
    assert!(out.lines().all(|l| l.ends_with(" ok")), "{out}");
}

#[test]
fn a_panic_prints_its_message_and_location_and_exits_101() {
    let (end, out, err) = run(BIN, &["panic"]);
    assert_eq!(end, Event::Exited(101), "no endless loop, no SIGSEGV");
    assert_eq!(out, "");
    assert!(
        err.starts_with("panicked: on purpose at crates/sys/src/bin/selftest.rs:"),
        "{err:?}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn a_handler_returns_through_our_restorer() {
    let (end, out, err) = run(BIN, &["restorer"]);
    assert_eq!(end, Event::Exited(0), "{err}");
    assert_eq!(out, "handler ran\nreturned\n");
}

#[test]
fn without_sa_restorer_the_signal_kills_with_sigsegv() {
    // x86-64's setup_rt_frame cannot build a frame without a restorer:
    // the kernel forces SIGSEGV, and the handler never runs.
    let (end, out, _) = run(BIN, &["no-restorer"]);
    assert_eq!(end, Event::Killed(11), "SIGSEGV");
    assert_eq!(out, "");
}
