#!/usr/bin/env bash
# sizes.sh: the size report. For every demo: the file as built (symbols
# kept), the file after `strip` (section headers stay, the narration text
# counts), and its PT_LOAD segments as readelf shows them.
#
#   scripts/sizes.sh                 build the demos (release) and report
#   BIN_DIR=dir scripts/sizes.sh     report binaries already built in dir
#
# A second table reports the i686 builds (--target i686-unknown-linux-gnu,
# rows named i686/DEMO; I686_BIN_DIR=dir for binaries already built), with
# the same limits. Where that target is not installed the script says the
# command that adds it and reports x86-64 only (under CI=true it fails).
# Demos not ported to i686 are listed in crates/sys/not-on-i686.txt.
# The execstack variants of stop (stop-execstack, stop-nognustack) have a
# row in both tables.
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
#            auxv names every AT_ type of the kernel headers (about
#            30) and escapes arbitrary argv/envp bytes; vdso reads an
#            ELF dynamic symbol table with its version records,
#            bounds-checking every read. Each is over 4096 by that parser
#            alone (see README, "Sizes").
#   paging   <= 8192: six stops, a free-memory check (sysinfo, and the
#            cgroup v2 memory.max or v1 memory.limit_in_bytes) before
#            anything is touched, and the kernel's own words on
#            transparent huge pages: it reads and searches two /sys files
#            and /proc/vmstat (thp_fault_fallback). Without reading any
#            file it is still 4344 bytes (crates/paging/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly MINIMAL_LIMIT=1024
readonly DEMO_LIMIT=4096
readonly DEMO_AIM=2048
readonly PARSER_LIMIT=8192

source scripts/lib.sh

# A demo is a crate that depends on the syscall crate `sys`.
mapfile -t demos < <(demo_crates)
# Lecture order where known, then the rest.
order=(minimal stop brk stack mmap paging mprotect cow sections fixed filemap pie auxv vdso threads guard tls)
sorted=()
for d in "${order[@]}"; do
    for x in "${demos[@]}"; do [[ $x == "$d" ]] && sorted+=("$d"); done
done
for x in "${demos[@]}"; do
    [[ " ${order[*]} " == *" $x "* ]] || sorted+=("$x")
done

# The execstack variants are binaries of the stop package.
variants=(stop-execstack stop-nognustack)
with_variants=()
for d in "${sorted[@]}"; do
    with_variants+=("$d")
    [[ $d == stop ]] && with_variants+=("${variants[@]}")
done

readonly I686=i686-unknown-linux-gnu
# The demos not ported to i686 (crates/sys/not-on-i686.txt says why).
NOT_ON_I686=" $(sed -n 's/^\([a-z0-9_-]*\)\( (x86-64 only)\)\{0,1\}: .*/\1/p' crates/sys/not-on-i686.txt | tr '\n' ' ')"
readonly NOT_ON_I686

packages=()
for d in "${sorted[@]}"; do packages+=(-p "$d"); done
i686_packages=()
for d in "${sorted[@]}"; do
    [[ $NOT_ON_I686 == *" $d "* ]] || i686_packages+=(-p "$d")
done

if [[ -z ${BIN_DIR:-} ]]; then
    BIN_DIR="${CARGO_TARGET_DIR:-target}/release"
    "${CARGO:-cargo}" build --release --quiet "${packages[@]}"
fi

i686=yes
if [[ -z ${I686_BIN_DIR:-} ]]; then
    I686_BIN_DIR="${CARGO_TARGET_DIR:-target}/$I686/release"
    if [[ ! -d "$(rustc --print sysroot)/lib/rustlib/$I686/lib" ]]; then
        echo "sizes.sh: the $I686 target is not installed; add it with: rustup target add $I686" >&2
        [[ ${CI:-} == true ]] && exit 1
        i686=no
    else
        "${CARGO:-cargo}" build --release --quiet --target "$I686" "${i686_packages[@]}"
    fi
fi

stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT

status=0
# report DIR PREFIX DEMO...: one row a demo.
report() {
    local dir=$1 prefix=$2 d bin file_size strip_size segments limit verdict
    shift 2
    for d in "$@"; do
        bin="$dir/$d"
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
            auxv | vdso | paging) limit=$PARSER_LIMIT ;;
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
        printf '%-20s %6d %9d  <=%-6d  %s  %s\n' "$prefix$d" "$file_size" "$strip_size" "$limit" "$segments" "$verdict"
    done
}

printf '%-20s %6s %9s  %-8s  %s\n' demo file stripped limit "PT_LOAD segments (flags size)"
report "$BIN_DIR" "" "${with_variants[@]}"
if [[ $i686 == yes ]]; then
    i686_demos=()
    for d in "${with_variants[@]}"; do
        [[ $NOT_ON_I686 == *" $d "* ]] || i686_demos+=("$d")
    done
    echo
    echo "i686 builds ($I686: ET_EXEC at 0x08048000; not ported:$NOT_ON_I686)"
    report "$I686_BIN_DIR" i686/ "${i686_demos[@]}"
fi
exit "$status"
