#!/usr/bin/env bash
# opt-matrix.sh: every demo must work at every optimisation level, not
# only at the one release uses (seed 000's program worked at opt-level 0
# only). Builds the demos at each level into target/opt-LEVEL and runs
# each with -q through all its stops to a normal exit.
#
#   scripts/opt-matrix.sh                   levels 0 1 2 3 s z, all demos
#   scripts/opt-matrix.sh -l "0 z" stop brk  chosen levels and demos
#
# Exit status: 0 if every run exited 0, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

levels="0 1 2 3 s z"
if [[ ${1:-} == -l ]]; then
    levels=${2:?"usage: opt-matrix.sh [-l LEVELS] [DEMO...]"}
    shift 2
fi
demos=("$@")
if ((${#demos[@]} == 0)); then
    for manifest in crates/*/Cargo.toml; do
        grep -q '^sys = ' "$manifest" && demos+=("$(basename "$(dirname "$manifest")")")
    done
fi

# Arguments that keep each run short and silent.
args_for() {
    case $1 in
        minimal) echo 0 ;;
        vdso) echo "-q --calls 1000" ;;
        threads) echo "-q 8" ;;
        tls) echo "-q --threads" ;;
        *) echo -q ;;
    esac
}

# Runs a demo to its end, sending SIGCONT whenever it has stopped itself
# (continue_stops, scripts/lib.sh); prints the number of stops.
count_stop() { stops=$((stops + 1)); }
run_through() {
    local pid stops=0 rc
    "$@" </dev/null >/dev/null 2>/tmp/opt-matrix.$$ &
    pid=$!
    trap 'kill -KILL $pid 2>/dev/null; rm -f /tmp/opt-matrix.$$' RETURN
    continue_stops "$pid" count_stop
    rc=0
    wait "$pid" || rc=$?
    if ((rc != 0)); then
        echo "  $* exited $rc after $stops stops: $(head -c 300 /tmp/opt-matrix.$$)" >&2
    fi
    echo "$stops"
    return "$rc"
}

packages=()
for d in "${demos[@]}"; do packages+=(-p "$d"); done
failed=0
for level in $levels; do
    dir="${CARGO_TARGET_DIR:-target}/opt-$level"
    CARGO_PROFILE_RELEASE_OPT_LEVEL=$level "${CARGO:-cargo}" build --release --quiet \
        --target-dir "$dir" "${packages[@]}"
    line="opt-level $level:"
    for d in "${demos[@]}"; do
        # shellcheck disable=SC2046 # the arguments are words on purpose
        if stops=$(run_through "$dir/release/$d" $(args_for "$d")); then
            line+=" $d($stops)"
        else
            line+=" $d(FAILED)"
            failed=1
        fi
    done
    echo "$line"
done
exit "$failed"
