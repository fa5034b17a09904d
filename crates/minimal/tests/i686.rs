//! `minimal` built for i686: under 1,024 bytes stripped, two segments,
//! and exactly `execve`, `nanosleep` (i386's 162), `exit` (1).

use procfs::i686::*;
use procfs::testing::*;

#[test]
fn i386_minimal_sleeps_with_the_i386_syscalls() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strace) = tool("strace") else { return };
    let calls = strace_numbers(&strace, dir.join("minimal").to_str().unwrap(), &["0"]);
    let got: Vec<(u32, &str)> = calls.iter().map(|(n, s)| (*n, s.as_str())).collect();
    assert_eq!(got, [(59, "execve"), (162, "nanosleep"), (1, "exit")]);
}

#[test]
fn i386_minimal_stays_under_1024_bytes_stripped() {
    let Some(dir) = demos_for_test() else { return };
    let Some(strip) = tool("strip") else { return };
    let out = std::env::temp_dir().join(format!("mmm-minimal-i386-{}", std::process::id()));
    let ok = std::process::Command::new(strip)
        .arg("-o")
        .arg(&out)
        .arg(dir.join("minimal"))
        .status()
        .unwrap()
        .success();
    let size = std::fs::metadata(&out).map(|m| m.len());
    let _ = std::fs::remove_file(&out);
    assert!(ok);
    let size = size.unwrap();
    assert!(size <= 1024, "{size} bytes");
}

#[test]
fn i386_minimal_refuses_bad_arguments() {
    let Some(dir) = demos_for_test() else { return };
    let bin = dir.join("minimal");
    let (end, _, err) = run(bin.to_str().unwrap(), &["x"]);
    assert_eq!(end, procfs::Event::Exited(2));
    assert_eq!(err, "usage: minimal [SECONDS]\n");
}
