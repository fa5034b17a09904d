#!/usr/bin/env bash
# maps.sh: the seeds' by-hand workflow, bare. Starts a demo in the
# background, waits until it has stopped itself (state T in
# /proc/PID/stat), shows /proc/PID/maps, sends SIGCONT, and repeats until
# the demo exits. What `cargo tour` does, without the explanations.
#
#   scripts/maps.sh brk
#   scripts/maps.sh mmap 64M 4K
#
# Builds the demo first (release; cargo does nothing if it is up to
# date), so an edit to the demo shows. Ctrl-C kills the demo too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

need_demo "scripts/maps.sh DEMO [ARGS...]" "${1:-}"
demo=$1
shift
bin="${CARGO_TARGET_DIR:-target}/release/$demo"
"${CARGO:-cargo}" build --release --quiet -p "$demo"

# The seeds ran `./brk &`: a background job of this shell.
"$bin" "$@" </dev/null &
pid=$!
# Whatever ends this script (Ctrl-C, an error, a normal end) ends the demo.
trap 'kill -KILL "$pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM HUP

# At each stop: the maps; continue_stops (scripts/lib.sh) then sends SIGCONT.
stops=0
show_maps() {
    stops=$((stops + 1))
    echo "--- stop $stops: cat /proc/$1/maps"
    cat "/proc/$1/maps"
    # A child the demo forked and stopped (cow): the demo continues it.
    local child
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        [[ $(proc_state "$child") == [Tt] ]] || continue
        echo "--- and its stopped child: cat /proc/$child/maps"
        cat "/proc/$child/maps"
    done
    echo "--- kill -CONT $1"
}
continue_stops "$pid" show_maps
status=0
wait "$pid" || status=$?
trap - EXIT
echo "--- $demo exited with status $status after $stops stops"
exit "$status"
