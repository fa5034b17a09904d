//! `minimal` on the real binary: nanosleep and exit, nothing else.

use procfs::testing::*;
use procfs::{Demo, Spawn, maps};
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_minimal");

#[test]
fn sleeps_with_no_heap_and_no_writable_program_mapping() {
    let mut demo = Demo::spawn(command(BIN, &["5"]), Spawn::default()).unwrap();
    assert!(demo.wait_sleeping(Duration::from_secs(10)), "never slept");
    let maps = maps::read(demo.pid).unwrap();
    let program = assert_maps_match_elf(&maps, BIN, 0);
    let perms: Vec<&str> = program.iter().map(|m| m.perms.as_str()).collect();
    if cfg!(debug_assertions) {
        // The dev build keeps panic locations and a GOT in a rw-p segment.
        assert_eq!(perms[..2], ["r--p", "r-xp"]);
    } else {
        assert_eq!(
            perms,
            ["r--p", "r-xp"],
            "headers+.rodata and .text; no statics, no rw-p"
        );
    }
    assert!(maps::find(&maps, "[heap]").is_none());
    assert!(maps::find(&maps, "[stack]").is_some());
    assert_eq!(demo.kill(), Some(procfs::Event::Killed(9)));
}

#[test]
fn zero_seconds_exits_0_silently() {
    let (end, out, err) = run(BIN, &["0"]);
    assert_eq!(
        (end, out.as_str(), err.as_str()),
        (procfs::Event::Exited(0), "", "")
    );
}

#[test]
fn strace_shows_execve_nanosleep_exit() {
    assert_syscalls(BIN, &["0"], &["execve", "nanosleep", "exit"]);
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["x"][..],
        &["-1"],
        &["1", "2"],
        &["99999999999999999999"],
        &[""],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "usage: minimal [SECONDS]\n"
        );
    }
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    let elf = assert_static_exec(BIN);
    if !cfg!(debug_assertions) {
        assert_eq!(
            elf.segments(procfs::elf::PT_LOAD).count(),
            2,
            "no RW segment at all"
        );
    }
}

#[test]
fn a_stop_and_continue_does_not_cut_the_sleep_short() {
    // A SIGSTOP/SIGCONT pair restarts nanosleep in the kernel: no EINTR
    // reaches the program, which would exit 1.
    let mut demo = Demo::spawn(command(BIN, &["1"]), Spawn::default()).unwrap();
    assert!(demo.wait_sleeping(Duration::from_secs(10)));
    demo.signal(procfs::child::SIGSTOP).unwrap();
    assert_eq!(
        demo.wait(STEP_TIMEOUT),
        Some(procfs::Event::Stopped(procfs::child::SIGSTOP))
    );
    demo.cont().unwrap();
    assert_eq!(demo.wait(STEP_TIMEOUT), Some(procfs::Event::Exited(0)));
}
