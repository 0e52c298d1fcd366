#!/bin/bash
# Runs every test layer and ends with the line "N passed, N failed".
#   tests/run.sh           all layers (as root: inside a private journald namespace)
#   tests/run.sh --unit    unit + fixture layers only (no root needed)
#   tests/run.sh FILE...   only these CLI scripts (tests/cli/tNNN-*.sh)
# Layers: 1. C unit tests (Debian's check), build/tests/test-*;
#         2./3. shell scripts tests/cli/t*.sh printing TAP lines ("ok N - ..." /
#         "not ok N - ..."): the fixture suite (t0xx) and black-box tests (t1xx+).
set -u
cd "$(dirname "$0")/.."
top=$PWD
unit_only=0
scripts=()
for a in "$@"; do
    case $a in
    --unit) unit_only=1 ;;
    *) scripts+=("$a") ;;
    esac
done

if [ "$unit_only" = 0 ] && [ "$(id -u)" = 0 ] && [ "${_PVETMPL_IN_JNS:-}" != 1 ] &&
    [ "${PVETMPL_NO_JOURNALD:-}" != 1 ]; then
    exec tests/with-journald.sh "$0" "$@"
fi

passed=0
failed=0
failures=()

if [ ${#scripts[@]} = 0 ]; then
    for t in build/tests/test-*; do
        [ -x "$t" ] || continue
        echo "== $t"
        out=$(CK_VERBOSITY=normal CK_DEFAULT_TIMEOUT=60 "$t" 2>&1)
        rc=$?
        echo "$out"
        line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' | tail -n1)
        if [ -z "$line" ]; then
            failed=$((failed + 1))
            failures+=("$t (no summary, rc=$rc)")
            continue
        fi
        n=$(sed -E 's/.*Checks: ([0-9]+),.*/\1/' <<<"$line")
        f=$(sed -E 's/.*Failures: ([0-9]+),.*/\1/' <<<"$line")
        e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + n - f - e))
        failed=$((failed + f + e))
        [ $((f + e)) = 0 ] || failures+=("$t")
    done
    if [ "$unit_only" = 1 ]; then
        scripts=(tests/cli/t0*.sh)
    else
        scripts=(tests/cli/t*.sh)
    fi
fi

for s in "${scripts[@]}"; do
    [ -f "$s" ] || continue
    echo "== $s"
    out=$(PVETMPL_TOP=$top bash "$s" 2>&1)
    rc=$?
    echo "$out"
    ok=$(grep -cE '^ok [0-9]+' <<<"$out")
    nok=$(grep -cE '^not ok [0-9]+' <<<"$out")
    passed=$((passed + ok))
    failed=$((failed + nok))
    [ "$nok" = 0 ] || failures+=("$s")
    if [ "$rc" != 0 ] && [ "$nok" = 0 ]; then
        failed=$((failed + 1))
        failures+=("$s (exited $rc)")
    fi
done

if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "failed:"
    printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
