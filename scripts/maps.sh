#!/usr/bin/env bash
# maps.sh: the seeds' by-hand workflow, bare. Starts a demo in the
# background, waits until it has stopped itself (state T in
# /proc/PID/stat), shows /proc/PID/maps, sends SIGCONT, and repeats until
# the demo exits. What `cargo tour` does, without the explanations.
#
#   scripts/maps.sh brk
#   scripts/maps.sh mmap 64M 4K
#
# Builds the demo (release) if needed. Ctrl-C kills the demo too.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# < 1)); then
    echo "usage: scripts/maps.sh DEMO [ARGS...]" >&2
    exit 2
fi
demo=$1
shift
if [[ ! -f crates/$demo/Cargo.toml ]]; then
    echo "maps.sh: no demo '$demo' (crates/$demo)" >&2
    exit 2
fi
bin="${CARGO_TARGET_DIR:-target}/release/$demo"
if [[ ! -x $bin ]]; then
    "${CARGO:-cargo}" build --release --quiet -p "$demo"
fi

# The seeds ran `./brk &`: a background job of this shell.
"$bin" "$@" </dev/null &
pid=$!
# Whatever ends this script (Ctrl-C, an error, a normal end) ends the demo.
trap 'kill -KILL "$pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM HUP

# How often to look at /proc/PID/stat: a script has no waitpid for a
# stopped child (the tour has); 10 ms is quick enough for a human.
readonly POLL=0.01
stops=0
while state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null); do
    case $state in
        T)
            stops=$((stops + 1))
            echo "--- stop $stops: cat /proc/$pid/maps"
            cat "/proc/$pid/maps"
            echo "--- kill -CONT $pid"
            kill -CONT "$pid"
            ;;
        Z) break ;;
    esac
    sleep "$POLL"
done
status=0
wait "$pid" || status=$?
trap - EXIT
echo "--- $demo exited with status $status after $stops stops"
exit "$status"
