//! `stop` on the real binary: one stop, the program's three mappings, the
//! exact syscalls with `-q`.

use procfs::testing::*;

const BIN: &str = env!("CARGO_BIN_EXE_stop");

#[test]
fn stops_once_showing_the_three_program_mappings() {
    let w = walk_ok(BIN, &[], 1);
    let stop = &w.stops[0];
    let program = assert_maps_match_elf(&stop.maps, BIN, 0);
    let perms: Vec<&str> = program.iter().map(|m| m.perms.as_str()).collect();
    assert_eq!(perms, ["r--p", "r-xp", "rw-p"]);
    assert!(stop.find("[heap]").is_none(), "nothing called brk");
    assert!(stop.find("[stack]").is_some());
    assert!(stop.find("[vdso]").is_some());
    // The narration names the pid and both commands.
    let pid = w.pid;
    assert_narrated(
        &w,
        &[
            format!("cat /proc/{pid}/maps"),
            format!("kill -CONT {pid}"),
            "[stop 1]".to_string(),
        ],
    );
}

#[test]
fn quiet_is_silent() {
    let w = walk_quiet(BIN, &["-q"], 1);
    assert_eq!(w.stdout, "");
}

#[test]
fn quiet_makes_exactly_the_lessons_syscalls() {
    assert_syscalls(BIN, &["-q"], &["execve", "getpid", "kill", "exit"]);
}

#[test]
fn bad_arguments_exit_2() {
    assert_usage_error(BIN, &["-x"], "unknown option '-x'");
    assert_usage_error(BIN, &["extra"], "unexpected argument 'extra'");
}

#[test]
fn help_goes_to_stdout() {
    assert_help(BIN);
}

#[test]
fn linked_as_a_static_w_xor_x_executable() {
    assert_static_exec(BIN);
}
