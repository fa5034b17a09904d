#!/usr/bin/env bash
# sizes.sh: the size report. For every demo: the file as built (symbols
# kept), the file after `strip` (section headers stay, the narration text
# counts), and its PT_LOAD segments as readelf shows them.
#
#   scripts/sizes.sh                 build the demos (release) and report
#   BIN_DIR=dir scripts/sizes.sh     report binaries already built in dir
#
# Limits (exit 1 when one is broken):
#   minimal  <= 1024 bytes stripped: one screen of `xxd`; the seed's RWX
#            binary was 1712.
#   others   <= 4096 bytes stripped: the whole file fits in its first
#            page, so the program's three maps lines all show offset 0 and
#            are the same file page, mapped three times. They aim for 2048
#            ("over aim" is printed, not an error).
#   PT_TLS   only in tls: every other demo must have none (an empty one
#            is 56 bytes; crates/sys/build_demo.rs, TLS_DEMOS).
#   auxv, vdso <= 8192: the two that parse what the kernel hands over.
#            auxv names all 40-odd AT_ types and escapes arbitrary
#            argv/envp bytes; vdso reads an ELF dynamic symbol table with
#            its version records, bounds-checking every read. Each is
#            over 4096 by that parser alone (see README, "Sizes").
set -euo pipefail
cd "$(dirname "$0")/.."

readonly MINIMAL_LIMIT=1024
readonly DEMO_LIMIT=4096
readonly DEMO_AIM=2048
readonly PARSER_LIMIT=8192

# A demo is a crate that depends on the syscall crate `sys`.
demos=()
for manifest in crates/*/Cargo.toml; do
    if grep -q '^sys = ' "$manifest"; then
        demos+=("$(basename "$(dirname "$manifest")")")
    fi
done
# Lecture order where known, then the rest.
order=(minimal stop brk stack mmap sections fixed filemap pie auxv vdso threads guard tls)
sorted=()
for d in "${order[@]}"; do
    for x in "${demos[@]}"; do [[ $x == "$d" ]] && sorted+=("$d"); done
done
for x in "${demos[@]}"; do
    [[ " ${order[*]} " == *" $x "* ]] || sorted+=("$x")
done

if [[ -z ${BIN_DIR:-} ]]; then
    BIN_DIR="${CARGO_TARGET_DIR:-target}/release"
    packages=()
    for d in "${sorted[@]}"; do packages+=(-p "$d"); done
    "${CARGO:-cargo}" build --release --quiet "${packages[@]}"
fi

stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT

status=0
printf '%-9s %6s %9s  %-8s  %s\n' demo file stripped limit "PT_LOAD segments (flags size)"
for d in "${sorted[@]}"; do
    bin="$BIN_DIR/$d"
    if [[ ! -f $bin ]]; then
        echo "sizes.sh: $bin is missing" >&2
        status=1
        continue
    fi
    strip -o "$stripped" "$bin"
    file_size=$(stat -c %s "$bin")
    strip_size=$(stat -c %s "$stripped")
    # Flags as readelf writes them (R, R E, RW); the size in memory, in hex.
    segments=$(readelf -lW "$bin" | awk '$1 == "LOAD" {
        flags = $7; for (i = 8; i < NF; i++) flags = flags " " $i;
        printf "%s[%s %s]", sep, flags, $6; sep = " " }')
    case $d in
        minimal) limit=$MINIMAL_LIMIT ;;
        auxv | vdso) limit=$PARSER_LIMIT ;;
        *) limit=$DEMO_LIMIT ;;
    esac
    verdict=ok
    tls=$(readelf -lW "$bin" | awk '$1 == "TLS"' | wc -l)
    if [[ $d != tls ]] && ((tls > 0)); then
        verdict="HAS PT_TLS"
        status=1
    elif ((strip_size > limit)); then
        verdict="OVER LIMIT"
        status=1
    elif [[ $d != minimal ]] && ((strip_size > DEMO_AIM)); then
        verdict="over aim ($DEMO_AIM)"
    fi
    printf '%-9s %6d %9d  <=%-6d  %s  %s\n' "$d" "$file_size" "$strip_size" "$limit" "$segments" "$verdict"
done
exit "$status"
