#!/usr/bin/env bash
# opt-matrix.sh: every demo must work at every optimisation level, not
# only at the one release uses (seed 000's program worked at opt-level 0
# only). Builds the demos at each level into target/opt-LEVEL and runs
# each with -q through all its stops to a normal exit.
#
#   scripts/opt-matrix.sh                   levels 0 1 2 3 s z, all demos
#   scripts/opt-matrix.sh -l "0 z" stop brk  chosen levels and demos
#
# Each level also builds the demos for i686 (--target
# i686-unknown-linux-gnu, into the same target/opt-LEVEL) and runs those
# that are ported (not those in crates/sys/not-on-i686.txt), on a line `opt-level L (i686): …`.
# Where that target is missing it says the command that adds it and runs
# x86-64 only; under CI=true it fails.
#
# Exit status: 0 if every run exited 0, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

readonly USAGE='scripts/opt-matrix.sh [-l LEVELS] [DEMO...]'
levels="0 1 2 3 s z"
if [[ ${1:-} == -l ]]; then
    if [[ -z ${2:-} ]]; then
        echo "usage: $USAGE" >&2
        exit 2
    fi
    levels=$2
    shift 2
fi
demos=("$@")
for d in "${demos[@]}"; do need_demo "$USAGE" "$d"; done
if ((${#demos[@]} == 0)); then
    mapfile -t demos < <(demo_crates)
fi

# Arguments that keep each run short and silent (-q; minimal sleeps 0 s,
# vdso times 1,000 calls instead of 10,000) and take the threaded paths
# too: threads with 8 threads instead of 2, tls with its second thread.
args_for() {
    case $1 in
        minimal) echo 0 ;;
        vdso) echo "-q --calls 1000" ;;
        threads) echo "-q 8" ;;
        tls) echo "-q --threads" ;;
        *) echo -q ;;
    esac
}

# A demo's stderr, for the line that reports a failed run.
stderr_file=$(mktemp)
trap 'rm -f "$stderr_file"' EXIT

# Runs a demo to its end, sending SIGCONT whenever it has stopped itself
# (continue_stops, scripts/lib.sh); prints the number of stops. A failed
# run is reported with the start of its stderr (300 bytes: its error line
# and usage, not pages of narration).
count_stop() { stops=$((stops + 1)); }
run_through() {
    local pid stops=0 rc
    "$@" </dev/null >/dev/null 2>"$stderr_file" &
    pid=$!
    trap 'kill -KILL $pid 2>/dev/null' RETURN
    continue_stops "$pid" count_stop
    rc=0
    wait "$pid" || rc=$?
    if ((rc != 0)); then
        echo "  $* exited $rc after $stops stops: $(head -c 300 "$stderr_file")" >&2
    fi
    echo "$stops"
    return "$rc"
}

readonly I686=i686-unknown-linux-gnu
# The demos not ported to i686 (crates/sys/not-on-i686.txt says why).
not_on_i686=" $(sed -n 's/^\([a-z0-9_-]*\)\( (x86-64 only)\)\{0,1\}: .*/\1/p' crates/sys/not-on-i686.txt | tr '\n' ' ')"
i686_demos=()
for d in "${demos[@]}"; do
    [[ $not_on_i686 == *" $d "* ]] || i686_demos+=("$d")
done
if [[ ! -d "$(rustc --print sysroot)/lib/rustlib/$I686/lib" ]]; then
    echo "opt-matrix.sh: the $I686 target is not installed; add it with: rustup target add $I686" >&2
    [[ ${CI:-} == true ]] && exit 1
    i686_demos=()
fi

# run_line LABEL DIR DEMO...: runs each demo of DIR, prints one line.
failed=0
run_line() {
    local line="opt-level $1:" dir=$2 d stops
    shift 2
    local all=()
    # The execstack variants come with stop (the same package).
    for d in "$@"; do
        all+=("$d")
        [[ $d == stop ]] && all+=(stop-execstack stop-nognustack)
    done
    for d in "${all[@]}"; do
        # shellcheck disable=SC2046 # the arguments are words on purpose
        if stops=$(run_through "$dir/$d" $(args_for "$d")); then
            line+=" $d($stops)"
        else
            line+=" $d(FAILED)"
            failed=1
        fi
    done
    echo "$line"
}

packages=()
for d in "${demos[@]}"; do packages+=(-p "$d"); done
i686_packages=()
for d in "${i686_demos[@]}"; do i686_packages+=(-p "$d"); done
for level in $levels; do
    dir="${CARGO_TARGET_DIR:-target}/opt-$level"
    CARGO_PROFILE_RELEASE_OPT_LEVEL=$level "${CARGO:-cargo}" build --release --quiet \
        --target-dir "$dir" "${packages[@]}"
    run_line "$level" "$dir/release" "${demos[@]}"
    if ((${#i686_demos[@]})); then
        CARGO_PROFILE_RELEASE_OPT_LEVEL=$level "${CARGO:-cargo}" build --release --quiet \
            --target "$I686" --target-dir "$dir" "${i686_packages[@]}"
        run_line "$level (i686)" "$dir/$I686/release" "${i686_demos[@]}"
    fi
done
exit "$failed"
