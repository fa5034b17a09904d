//! The i386 runtime of `sys` (arch/x86.rs) in a real binary: memcpy and
//! memmove through `rep movsb` with esi swapped in and out, memset, the
//! panic handler, all at i386's calling convention.

use procfs::Event;
use procfs::testing::run;

#[test]
fn i386_runtime_functions_work_in_a_freestanding_binary() {
    let Some(dir) = procfs::i686::demos_for_test() else {
        return;
    };
    let bin = dir.join("sys-selftest");
    let bin = bin.to_str().unwrap();
    let (end, out, err) = run(bin, &[]);
    assert_eq!(end, Event::Exited(0), "{out}{err}");
    assert_eq!(err, "");
    assert_eq!(out.lines().count(), 10, "{out}");
    assert!(out.lines().all(|l| l.ends_with(" ok")), "{out}");
    let (end, _, err) = run(bin, &["panic"]);
    assert_eq!(end, Event::Exited(101));
    assert!(err.starts_with("panicked: on purpose at "), "{err}");
}
