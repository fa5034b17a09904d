//! `stop`: stop once, then exit. Seed 001's `stp`, on x86-64.
//!
//! At the stop, `cat /proc/PID/maps` shows the whole address space of a
//! program without libc: three lines for the program (r--p headers and
//! .rodata, r-xp .text, rw-p statics), [stack], [vvar]/[vvar_vclock],
//! [vdso] and maybe [vsyscall]. No [heap]: nobody has called brk yet.
//!
//! With `-q`, strace shows exactly `execve`, `getpid`, `kill`, `exit`:
//! `getpid` because we stop ourselves by pid, not with the seed's
//! `kill(0, SIGSTOP)` (see `sys::stop_self`).
//!
//! The same package builds `stop-execstack` and `stop-nognustack`, the
//! lesson with seed 001's executable stack (src/execstack.rs).
#![no_std]
#![no_main]

use sys::{Args, Cli, Line, OrExit};

const USAGE: &str = "usage: stop [-q]
Stops itself once (SIGSTOP), so that /proc/PID/maps can be read, then exits.
  -q   no narration\n";

sys::entry!(main);

fn main(args: Args) {
    let quiet = Cli::quiet_only(&args, USAGE);
    if !quiet {
        Line::new(sys::out::STDERR)
            .str("stop: started; nothing mapped yet but the program, the stack and the vDSO\n")
            .write();
    }
    sys::narrate_stop(quiet).or_exit("kill");
}
