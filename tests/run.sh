#!/bin/bash
# Runs every test layer and ends with the line "N passed, N failed, N skipped".
#   tests/run.sh           all layers (as root: inside a private journald namespace)
#   tests/run.sh --unit    unit + fixture layers only (no root needed)
#   tests/run.sh FILE...   only these: CLI scripts (*.sh) or unit binaries
# Layers: 0. tests/lint-cli.pl over tests/cli (no check silently switched off);
#         1. C unit tests (Debian's check), build/tests/test-*: "Checks: N,
#            Failures: F, Errors: E" counts, and a non-zero exit is a failure;
#         2./3. shell scripts tests/cli/t*.sh printing TAP ("ok N - ...",
#            "not ok N - ...", "ok N - ... # SKIP why", one plan "1..N"): the
#            fixture suite (t0xx), the simulator's own tests (t100, labelled
#            "simulator:") and the black-box tests of pvetmpl (t2xx+);
#         4. short libFuzzer runs, TAP too (tests/fuzz/run.sh, FUZZ_SECONDS
#            each, default 5; not with --unit or FILEs).
# A script's plan must match the results it printed, else one more failure.
set -u
cd "$(dirname "$0")/.."
top=$PWD
unit_only=0
args=()
for a in "$@"; do
    case $a in
    --unit) unit_only=1 ;;
    *) args+=("$a") ;;
    esac
done

if [ "$unit_only" = 0 ] && [ "$(id -u)" = 0 ] && [ "${_PVETMPL_IN_JNS:-}" != 1 ] &&
    [ "${PVETMPL_NO_JOURNALD:-}" != 1 ]; then
    exec tests/with-journald.sh "$0" "$@"
fi

passed=0
failed=0
skipped=0
failures=()
# the simulator's own tests (t100-pvesim.sh) test the stand-in, not pvetmpl
sim_passed=0
sim_failed=0
sim_skipped=0

# TAP's directive: "# SKIP", any case, then the reason
skip_re='# *[Ss][Kk][Ii][Pp]([^A-Za-z]|$)'

fail() { # REASON
    failed=$((failed + 1))
    failures+=("$1")
}

run_unit() { # BINARY
    local t=$1 out rc line n f e
    echo "== $t"
    out=$(CK_VERBOSITY=normal CK_DEFAULT_TIMEOUT=60 "$t" 2>&1)
    rc=$?
    echo "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' | tail -n1)
    if [ -z "$line" ]; then
        fail "$t (no summary, rc=$rc)"
        return
    fi
    n=$(sed -E 's/.*Checks: ([0-9]+),.*/\1/' <<<"$line")
    f=$(sed -E 's/.*Failures: ([0-9]+),.*/\1/' <<<"$line")
    e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + n - f - e))
    failed=$((failed + f + e))
    [ $((f + e)) = 0 ] || failures+=("$t")
    # a crash after the summary, a leak checker, exit(1) from main: all
    # failures; but Check's main exits 1 because of the failures it counted,
    # so the status adds one only when the summary shows none
    if [ "$rc" != 0 ] && [ $((f + e)) = 0 ]; then
        fail "$t (exited $rc after its summary)"
    fi
}

run_script() { # SCRIPT
    local s=$1 label='' out rc ok nok skip plans plan ran
    case ${s##*/} in
    t100-pvesim.sh) label='simulator: ' ;;
    esac
    echo "== $label$s"
    out=$(PVETMPL_TOP=$top bash "$s" 2>&1)
    rc=$?
    if [ -n "$label" ]; then
        out=$(sed -E "s/^((not )?ok [0-9]+ - )/\1$label/" <<<"$out")
    fi
    echo "$out"
    skip=$(grep -cE "^ok [0-9]+.*$skip_re" <<<"$out")
    ok=$(grep -E '^ok [0-9]+' <<<"$out" | grep -cvE "$skip_re")
    nok=$(grep -cE '^not ok [0-9]+' <<<"$out")
    passed=$((passed + ok))
    failed=$((failed + nok))
    skipped=$((skipped + skip))
    if [ -n "$label" ]; then
        sim_passed=$((sim_passed + ok))
        sim_failed=$((sim_failed + nok))
        sim_skipped=$((sim_skipped + skip))
    fi
    [ "$nok" = 0 ] || failures+=("$label$s")
    plans=$(grep -cE '^1\.\.[0-9]+' <<<"$out")
    ran=$((ok + nok + skip))
    if [ "$plans" != 1 ]; then
        fail "$label$s ($plans plan lines '1..N', want 1; $ran results)"
        [ -z "$label" ] || sim_failed=$((sim_failed + 1))
    else
        plan=$(grep -E '^1\.\.[0-9]+' <<<"$out" | sed -E 's/^1\.\.([0-9]+).*/\1/')
        if [ "$plan" != "$ran" ]; then
            fail "$label$s (plan 1..$plan, but $ran results)"
            [ -z "$label" ] || sim_failed=$((sim_failed + 1))
        fi
    fi
    if [ "$rc" != 0 ] && [ "$nok" = 0 ]; then
        fail "$label$s (exited $rc)"
        [ -z "$label" ] || sim_failed=$((sim_failed + 1))
    fi
}

run_lint() {
    echo "== tests/lint-cli.pl tests/cli/*.sh"
    if perl tests/lint-cli.pl tests/cli/*.sh; then
        echo "ok - no test or helper used where set -e does not apply"
        passed=$((passed + 1))
    else
        echo "not ok - tests/cli uses a test or helper where set -e does not apply"
        fail "tests/lint-cli.pl"
    fi
}

if [ ${#args[@]} = 0 ]; then
    run_lint
    for t in build/tests/test-*; do
        [ -x "$t" ] || continue
        run_unit "$t"
    done
    if [ "$unit_only" = 1 ]; then
        scripts=(tests/cli/t0*.sh)
    else
        scripts=(tests/cli/t*.sh)
    fi
    for s in "${scripts[@]}"; do
        [ -f "$s" ] && run_script "$s"
    done
    if [ "$unit_only" = 0 ]; then
        run_script tests/fuzz/run.sh
    fi
else
    for a in "${args[@]}"; do
        case $a in
        *.sh) run_script "$a" ;;
        *)
            if [ -x "$a" ]; then
                run_unit "$a"
            else
                fail "$a (no such test)"
            fi
            ;;
        esac
    done
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "failed:"
    printf '  %s\n' "${failures[@]}"
fi
echo
if [ $((sim_passed + sim_failed + sim_skipped)) -gt 0 ]; then
    echo "(of these, the simulator's own tests: $sim_passed passed, $sim_failed failed, $sim_skipped skipped)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
