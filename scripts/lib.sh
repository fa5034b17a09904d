# lib.sh: what the scripts share. Source it, do not run it:
#
#   source scripts/lib.sh          (from the workspace root)

# demo_crates: the demo crates, one a line: the crates that depend on the
# syscall crate `sys` (the tests find them so: procfs::workspace).
demo_crates() {
    local manifest
    for manifest in crates/*/Cargo.toml; do
        if grep -q '^sys = ' "$manifest"; then
            basename "$(dirname "$manifest")"
        fi
    done
}

# need_demo USAGE [NAME]: returns if NAME is a demo; else prints one line,
# what is wrong and USAGE, and exits 2 (a usage error). A library crate
# (procfs), the tour or a path is no demo. USAGE starts with the command
# (`scripts/maps.sh DEMO ...`), its words up to the first `[` or capital,
# which the line starts with.
need_demo() {
    local usage=$1 name=${2:-} all
    if [[ -z $name ]]; then
        echo "usage: $usage" >&2
        exit 2
    fi
    all=" $(demo_crates | tr '\n' ' ')"
    if [[ ! $name =~ ^[a-z0-9_-]+$ || $all != *" $name "* ]]; then
        echo "${usage%% [[A-Z]*}: no demo '$name'; the demos:$all(usage: $usage)" >&2
        exit 2
    fi
}

# proc_state PID: the state letter of /proc/PID/stat: R running,
# S sleeping, T stopped, t stopped by a tracer, Z zombie, ... Fails once
# PID is gone. The state is the field after the last ')': comm, in
# parentheses before it, may itself hold spaces and ')' (`proc_pid_stat(5)`).
proc_state() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    echo "${stat%% *}"
}

# proc_comm PID: the command name of /proc/PID/stat, between the first
# '(' and the last ')'.
proc_comm() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat#*(}
    echo "${stat%)*}"
}

# continue_stops PID [ON_STOP...]: until PID ends, sends SIGCONT to PID,
# or to a process PID started (strace's tracee), whenever it has stopped
# itself. Before that runs the command ON_STOP..., if given, with the
# stopped pid as last argument (to show its maps, to count the stops).
#
# A child that is the same program as PID (cow's forked child) is left
# alone: the demo continues it itself, and a SIGCONT from here would race
# the demo's own wait4.
#
# It looks at /proc/PID/stat every 10 ms: a script has no waitpid for a
# stopped process (the tour has one), and 10 ms is quick enough for a human.
continue_stops() {
    local pid=$1 each state
    shift
    while state=$(proc_state "$pid") && [[ $state != Z ]]; do
        for each in "$pid" $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
            state=$(proc_state "$each") || continue
            # Read now, not once: until its execve, PID is still a shell.
            if [[ $each != "$pid" && $(proc_comm "$each") == "$(proc_comm "$pid")" ]]; then
                continue
            fi
            if [[ $state == [Tt] ]]; then
                if (($#)); then "$@" "$each"; fi
                # Gone in between (killed from elsewhere): nothing to continue.
                kill -CONT "$each" 2>/dev/null || true
            fi
        done
        sleep 0.01
    done
}
