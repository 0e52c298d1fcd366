#!/bin/bash
# Fuzz layer, printing TAP (one test per harness tests/fuzz/fuzz-NAME.c):
#   1. replays every input kept in tests/fuzz/crashes/NAME/ (once crashed);
#   2. fuzzes for FUZZ_SECONDS (default 5) from a fresh copy of the seeds:
#      the captured outputs in tests/fixtures (the conf harness: conf/ and the
#      tests/conf-corpus texts) and tests/fuzz/seeds/NAME.
# A crashing, leaking, hanging or memory-hungry input fails the test and is
# copied to tests/fuzz/crashes/NAME/ to be committed with its fix.
# Builds with `make fuzz-bins` (build/fuzz); skips, saying why, without
# clang-14/libFuzzer (tests/fuzz/ensure-clang.sh installs them as root).
# FUZZ_DIR (harnesses, seeds/, crashes/; default tests/fuzz) and FUZZ_OUT
# (binaries; default build/fuzz) let tests/cli/t020 test this script.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-5}
cc=${FUZZ_CC:-clang-14}
fdir=${FUZZ_DIR:-tests/fuzz}
fout=${FUZZ_OUT:-build/fuzz}

names=()
for f in "$fdir"/fuzz-*.c; do
    n=${f##*/fuzz-}
    names+=("${n%.c}")
done

# seed directories of each harness, besides tests/fuzz/seeds/NAME
seeds_of() {
    case $1 in
    qm-status | qm-config | qm-list | pvesm-status | vmlist) echo "tests/fixtures/$1" ;;
    qm-line) echo tests/fixtures/clone-lines ;;
    qm-error) echo tests/fixtures/errors ;;
    qm-conf-file) echo tests/fixtures/qm-conf-file tests/fixtures/qm-config ;;
    qm-config-diff) echo tests/fixtures/qm-config ;;
    pvecfg) echo tests/fixtures/pve-cfg ;;
    conf) echo conf tests/conf-corpus ;;
    esac
}

n=0
work=$(mktemp -d /tmp/pvetmpl-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$work/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$work/p" "$work/p.c" >/dev/null 2>&1; then
    for name in "${names[@]}"; do
        n=$((n + 1))
        echo "ok $n - fuzz $name # SKIP $cc cannot build libFuzzer harnesses (install clang-14 and libclang-rt-14-dev: make fuzz-deps as root)"
    done
    echo "1..$n"
    exit 0
fi

if ! make -s fuzz-bins FUZZ_CC="$cc" FUZZ_DIR="$fdir" FUZZ_OUT="$fout" >"$work/build.log" 2>&1; then
    for name in "${names[@]}"; do
        n=$((n + 1))
        echo "not ok $n - fuzz $name: make fuzz-bins failed"
    done
    sed 's/^/#   /' "$work/build.log" | tail -n 40
    echo "1..$n"
    exit 1
fi

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
for name in "${names[@]}"; do
    n=$((n + 1))
    bin=$fout/fuzz-$name
    kept=$fdir/crashes/$name
    w=$work/$name
    mkdir -p "$w/corpus" "$w/art"
    for d in $(seeds_of "$name") "$fdir/seeds/$name"; do
        [ -d "$d" ] || continue
        find "$d" -maxdepth 1 -type f ! -name '*.expected' ! -name '*.md' -exec cp {} "$w/corpus/" \;
    done
    seeds=$(find "$w/corpus" -maxdepth 1 -type f | wc -l)
    why=
    replayed=0
    if [ -d "$kept" ] && [ -n "$(find "$kept" -maxdepth 1 -type f 2>/dev/null)" ]; then
        replayed=$(find "$kept" -maxdepth 1 -type f | wc -l)
        if ! "$bin" $(find "$kept" -maxdepth 1 -type f | sort) >"$w/replay.log" 2>&1; then
            why="an input kept in $kept crashes it again"
            log=$w/replay.log
        fi
    fi
    if [ -z "$why" ]; then
        log=$w/fuzz.log
        if ! "$bin" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$w/art/" "$w/corpus" >"$log" 2>&1; then
            why="crashed"
            if [ -n "$(ls -A "$w/art")" ]; then
                mkdir -p "$kept"
                cp "$w/art"/* "$kept/"
                why="crashed; input kept as $(cd "$w/art" && ls | sed "s|^|$kept/|" | tr '\n' ' ')(commit it with the fix)"
            fi
        fi
    fi
    if [ -n "$why" ]; then
        failed=1
        echo "not ok $n - fuzz $name: $why"
        grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -n 8 | sed 's/^/#   /'
    else
        runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$w/fuzz.log")
        echo "ok $n - fuzz $name: ${runs:-?} inputs in ${secs}s from $seeds seeds, $replayed kept crashes replayed, no crash"
    fi
done
echo "1..$n"
exit "$failed"
