#!/usr/bin/env bash
# samples.sh: regenerate the sample output in the READMEs from a real run.
#
#   scripts/samples.sh              every README.md with sample blocks
#   scripts/samples.sh FILE...      only these
#
# A sample block is
#
#   <!-- sample: ARGS -->
#   ```text
#   ...
#   ```
#   <!-- /sample -->
#
# and this script replaces what lies between the markers with the output
# of `tour --no-aslr ARGS`, run in a small fixed environment so that the
# addresses are the same on every run and on every machine with this
# kernel's layout. crates/tour/tests/docs.rs runs the same commands and
# fails when a sample's maps lines differ from what the kernel shows now.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh

cargo=${CARGO:-cargo}
"$cargo" build --release --quiet -p tour
tour="${CARGO_TARGET_DIR:-target}/release/tour"
# shellcheck disable=SC2046 # one -p NAME a demo
"$cargo" build --release --quiet $(demo_crates | sed 's/^/-p /')

files=("$@")
if ((${#files[@]} == 0)); then
    mapfile -t files < <(grep -l '^<!-- sample: ' README.md crates/*/README.md)
fi

# One scratch file for the run; each README is rewritten from it in place
# (`cat >`, not `mv`: the README keeps its owner and mode, mktemp's 0600
# would shut other users out of it).
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
    : >"$tmp"
    in_sample=0
    while IFS= read -r line; do
        if [[ $line =~ ^\<!--\ sample:\ (.*)\ --\>$ ]]; then
            printf '%s\n' "$line" '```text' >>"$tmp"
            # shellcheck disable=SC2086  # ARGS are words
            env -i PATH="$PATH" NO_COLOR=1 "$tour" --no-build --no-aslr ${BASH_REMATCH[1]} \
                | sed -e 's/[[:space:]]*$//' >>"$tmp"
            printf '%s\n' '```' >>"$tmp"
            in_sample=1
        elif [[ $line == '<!-- /sample -->' ]]; then
            printf '%s\n' "$line" >>"$tmp"
            in_sample=0
        elif ((in_sample == 0)); then
            printf '%s\n' "$line" >>"$tmp"
        fi
    done <"$f"
    cat "$tmp" >"$f"
    echo "samples: $f"
done
