#!/bin/bash
# The test runner itself: tests/run.sh must count honestly (skips as skips,
# a plan that does not match what ran, a unit binary that exits non-zero
# after its summary), label the simulator's own tests, and end with the line
# "N passed, N failed, N skipped"; tests/lint-cli.pl must reject a test
# function or helper used where `set -e` does not apply.
# Each case feeds run.sh fake TAP scripts / fake unit binaries.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

RUN_SH=$TOP/tests/run.sh

# fake NAME BODY: an executable fake test in $T (a TAP script or a unit binary).
fake() {
    mkdir -p "$(dirname "$T/$1")" || return 1
    printf '#!/bin/bash\n%s\n' "$2" >"$T/$1" || return 1
    chmod +x "$T/$1"
}

# runner FILE...: run.sh on these files only, no journald namespace.
runner() {
    run env PVETMPL_NO_JOURNALD=1 "$RUN_SH" "$@"
}

# closing WANT: the last line of run.sh's output, alone and exact.
closing() {
    assert_eq "$1" "$(tail -n1 "$T/out")" "closing line"
    assert_grep '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' <(tail -n1 "$T/out")
}

t_skip_counted() {
    fake a.sh 'echo "ok 1 - a"; echo "ok 2 - b # SKIP no frob"; echo "ok 3 - c #skip"; echo 1..3'
    runner "$T/a.sh"
    assert_eq 0 "$RC" "exit status"
    closing "1 passed, 0 failed, 2 skipped"
}

t_plan_mismatch() {
    fake a.sh 'echo "ok 1 - a"; echo "ok 2 - b"; echo 1..3'
    runner "$T/a.sh"
    assert_eq 1 "$RC" "exit status"
    closing "2 passed, 1 failed, 0 skipped"
    assert_grep "a.sh \(plan 1\.\.3, but 2 results\)" "$T/out"
    # more results than planned fails too
    fake b.sh 'echo "ok 1 - a"; echo "ok 2 - b"; echo 1..1'
    runner "$T/b.sh"
    assert_eq 1 "$RC" "exit status"
    closing "2 passed, 1 failed, 0 skipped"
}

t_plan_missing() {
    fake a.sh 'echo "ok 1 - a"'
    runner "$T/a.sh"
    assert_eq 1 "$RC" "exit status"
    closing "1 passed, 1 failed, 0 skipped"
    assert_grep "a.sh \(0 plan lines" "$T/out"
    fake b.sh 'echo 1..1; echo "ok 1 - a"; echo 1..1'
    runner "$T/b.sh"
    assert_eq 1 "$RC" "exit status"
    closing "1 passed, 1 failed, 0 skipped"
    assert_grep "b.sh \(2 plan lines" "$T/out"
}

t_script_exit() {
    fake a.sh 'echo "ok 1 - a"; echo 1..1; exit 3'
    runner "$T/a.sh"
    assert_eq 1 "$RC" "exit status"
    closing "1 passed, 1 failed, 0 skipped"
    assert_grep "a.sh \(exited 3\)" "$T/out"
}

t_unit_exit() {
    # Check's summary says all passed, but the binary exits 1 afterwards
    fake test-x 'echo "100%: Checks: 3, Failures: 0, Errors: 0"; exit 1'
    runner "$T/test-x"
    assert_eq 1 "$RC" "exit status"
    closing "3 passed, 1 failed, 0 skipped"
    assert_grep "test-x \(exited 1 after its summary\)" "$T/out"
    # the same with exit 0 passes: the failure above is the exit status
    fake test-y 'echo "100%: Checks: 3, Failures: 0, Errors: 0"; exit 0'
    runner "$T/test-y"
    assert_eq 0 "$RC" "exit status"
    closing "3 passed, 0 failed, 0 skipped"
    # a failure the summary counts, and the exit 1 Check's main gives for
    # it: one failure, not two
    fake test-w 'echo "66%: Checks: 3, Failures: 1, Errors: 0"; exit 1'
    runner "$T/test-w"
    assert_eq 1 "$RC" "exit status"
    closing "2 passed, 1 failed, 0 skipped"
    fake test-v 'echo "66%: Checks: 3, Failures: 0, Errors: 1"; exit 1'
    runner "$T/test-v"
    assert_eq 1 "$RC" "exit status"
    closing "2 passed, 1 failed, 0 skipped"
    # no summary at all
    fake test-z 'echo "Segmentation fault"; exit 139'
    runner "$T/test-z"
    assert_eq 1 "$RC" "exit status"
    closing "0 passed, 1 failed, 0 skipped"
}

t_simulator_label() {
    fake sim/t100-pvesim.sh 'echo "ok 1 - qm status"; echo "not ok 2 - qm config"; echo 1..2'
    fake a.sh 'echo "ok 1 - pvetmpl"; echo 1..1'
    runner "$T/sim/t100-pvesim.sh" "$T/a.sh"
    assert_eq 1 "$RC" "exit status"
    closing "2 passed, 1 failed, 0 skipped"
    assert_grep "^== simulator: $T/sim/t100-pvesim.sh$" "$T/out"
    assert_grep "^ok 1 - simulator: qm status$" "$T/out"
    assert_grep "^not ok 2 - simulator: qm config$" "$T/out"
    assert_grep "^  simulator: $T/sim/t100-pvesim.sh$" "$T/out"
    assert_grep "^ok 1 - pvetmpl$" "$T/out"
    assert_grep "^\(of these, the simulator's own tests: 1 passed, 1 failed, 0 skipped\)$" "$T/out"
}

t_lint() {
    cat >"$T/bad.sh" <<'SH'
h() { x; }
t_a() { h 1 && assert_grep a b; }
t_b() {
    if h; then :; fi
    ! h
    h || true
    if ! h; then :; fi
    h 1 \
        && true
    h | cat
    h || return 1
    h || assert_grep a b
    while h; do :; done
    if true; then :; elif h; then :; fi
    # it's a comment with an apostrophe: the next line is still code
    h |& cat
    run h 1
    expect_rc 0 h
}
SH
    expect_rc 1 perl "$TOP/tests/lint-cli.pl" "$T/bad.sh"
    assert_grep "bad.sh:2: 'h' followed by &&" "$T/out"
    assert_grep "bad.sh:4: 'h' used as a condition" "$T/out"
    assert_grep "bad.sh:5: 'h' used as a condition" "$T/out"
    assert_grep "bad.sh:6: 'h' followed by \|\|" "$T/out"
    assert_grep "bad.sh:7: 'h' used as a condition" "$T/out"
    assert_grep "bad.sh:8: 'h' followed by &&" "$T/out"
    assert_grep "bad.sh:10: 'h' piped into another command: its failure is lost" "$T/out"
    assert_grep "bad.sh:11: 'h' followed by \|\|" "$T/out"
    assert_grep "bad.sh:12: 'h' followed by \|\|" "$T/out"
    assert_grep "bad.sh:13: 'h' used as a condition" "$T/out"
    assert_grep "bad.sh:14: 'h' used as a condition" "$T/out"
    assert_grep "bad.sh:16: 'h' piped into another command" "$T/out"
    assert_grep "bad.sh:17: 'h' run by run/expect_rc" "$T/out"
    assert_grep "bad.sh:18: 'h' run by run/expect_rc" "$T/out"
    assert_eq 14 "$(wc -l <"$T/out")" "findings"
    # accepted: two statements, a helper last in a list or a pipeline (set -e
    # applies inside it and its status counts), a continuation without an
    # operator, `&&` inside quotes, $(...), comments and here-documents
    cat >"$T/good.sh" <<'SH'
h() { x; }
t_a() { h 1; assert_grep a b; }
t_b() {
    true && h
    false || h
    echo a | h
    run qm h
    expect_rc 0 "$PVETMPL" h
    h 1 \
        2
    echo 'h \' && true
    echo a \\
    true && h
    sh -c 'h && h'
    echo "$(h && h)" # h && h; it's
    cat <<EOF
h && h
EOF
}
SH
    expect_rc 0 perl "$TOP/tests/lint-cli.pl" "$T/good.sh"
    assert_eq "" "$(cat "$T/out")"
}

# The fuzz layer on two harnesses of its own: one that crashes on any input
# of 4+ bytes (found within the first inputs), one that never crashes.
t_fuzz_crash() {
    mkdir -p fz/seeds/boom
    printf 'ab' >fz/seeds/boom/s1
    cat >fz/fuzz-boom.c <<'C'
#include "fuzz.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4)
        __builtin_trap();
    (void)data;
    return 0;
}
C
    sed 's/__builtin_trap()/return 0/' fz/fuzz-boom.c >fz/fuzz-calm.c
    local fz=(env FUZZ_DIR="$T/fz" FUZZ_OUT="$T/bin" FUZZ_SECONDS=2 "$TOP/tests/fuzz/run.sh")
    expect_rc 1 "${fz[@]}"
    assert_grep "^not ok 1 - fuzz boom: crashed; input kept as $T/fz/crashes/boom/crash-[0-9a-f]+ " "$T/out"
    assert_grep "^ok 2 - fuzz calm: [0-9]+ inputs in 2s from 0 seeds, 0 kept crashes replayed, no crash$" "$T/out"
    assert_grep "^1\.\.2$" "$T/out"
    assert_eq 1 "$(find fz/crashes/boom -type f | wc -l)" "kept inputs"
    # the kept input is replayed first: the next run fails on it alone
    expect_rc 1 "${fz[@]}"
    assert_grep "^not ok 1 - fuzz boom: an input kept in $T/fz/crashes/boom crashes it again$" "$T/out"
    # once "fixed", the replay passes and is counted
    sed -i 's/__builtin_trap()/return 0/' fz/fuzz-boom.c
    expect_rc 0 "${fz[@]}"
    assert_grep "^ok 1 - fuzz boom: [0-9]+ inputs in 2s from 1 seeds, 1 kept crashes replayed, no crash$" "$T/out"
}

t_check "run.sh: SKIP directives are counted as skipped, not passed" t_skip_counted
t_check "run.sh: a plan that does not match the results is a failure" t_plan_mismatch
t_check "run.sh: a missing or repeated plan is a failure" t_plan_missing
t_check "run.sh: a script that exits non-zero is a failure" t_script_exit
t_check "run.sh: a unit binary that exits non-zero after its summary fails" t_unit_exit
t_check "run.sh: the simulator's own tests are labelled 'simulator:'" t_simulator_label
if clang-14 -fsanitize=fuzzer -x c -o /dev/null - <<<'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >/dev/null 2>&1; then
    t_check "fuzz/run.sh: a crash fails, is kept, and is replayed next time" t_fuzz_crash
else
    t_skip "fuzz/run.sh: a crash fails, is kept, and is replayed" "clang-14 cannot build libFuzzer harnesses"
fi
t_check "lint-cli.pl: helpers left of &&/||, in if/elif/while/!, piped on, are rejected" t_lint
t_done
