# Shared helpers for tests/cli/t*.sh. Source it first:  . "${PVETMPL_TOP:-.}/tests/cli/lib.sh"
# Each test is a shell function run in a subshell with `set -e`; it prints TAP.
# `set -e` is switched off inside any function called left of `&&`/`||`, after
# `if`/`elif`/`while`/`until`/`!`, and a function piped into another command
# has its failure dropped (no pipefail): tests/lint-cli.pl (run by
# tests/run.sh) rejects any function defined in tests/cli used in such a
# place (`bad_arg ... && assert_grep ...`, `helper || return 1`,
# `sim_qm config 100 | grep -q ...`); write two statements. Helpers may thus
# rely on `set -e`; those here also return non-zero explicitly on failure.
#   t_check "title" func [args...]
#   t_skip "title" "reason"
#   t_done            (at the end; exits non-zero if any test failed)
# Assertions (all return non-zero with a message on failure):
#   run CMD...                 runs CMD, stdout -> $T/out, stderr -> $T/err, rc -> $RC (never fails)
#   expect_rc N CMD...         run + fail unless rc == N
#   assert_eq WANT GOT [what]
#   assert_grep PATTERN FILE   (grep -E)     assert_no_grep PATTERN FILE
#   assert_file_eq FILE WANT_TEXT
TOP=${PVETMPL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=$TOP/build
PVETMPL=$BUILD/pvetmpl
PVETMPL_HOOK=$BUILD/pvetmpl-hook
PVESIM=$TOP/tests/pvesim/pvesim
_t_n=0
_t_failed=0
TMPROOT=$(mktemp -d /tmp/pvetmpl-test.XXXXXX)
trap 'rm -rf "$TMPROOT"' EXIT

t_check() {
    local title=$1
    shift
    _t_n=$((_t_n + 1))
    T=$TMPROOT/t$_t_n
    mkdir -p "$T"
    (
        set -e
        cd "$T"
        "$@"
    ) >"$T/log" 2>&1
    local rc=$?
    if [ $rc = 0 ]; then
        echo "ok $_t_n - $title"
    else
        _t_failed=$((_t_failed + 1))
        echo "not ok $_t_n - $title"
        sed 's/^/#   /' "$T/log" | tail -n 40
    fi
}

t_skip() {
    _t_n=$((_t_n + 1))
    echo "ok $_t_n - $1 # SKIP $2"
}

t_done() {
    echo "1..$_t_n"
    [ "$_t_failed" = 0 ]
}

# A test function called outside t_check has no $T: its files would land in
# /. Refused, loudly.
NO_T='lib.sh: $T is not set: run test functions through t_check'

run() {
    if [ -z "${T:-}" ]; then
        echo "$NO_T" >&2
        return 1
    fi
    # Restore errexit only if it was on: run must not switch it on for a caller.
    local errexit=0
    case $- in *e*) errexit=1 ;; esac
    set +e
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
    [ "$errexit" = 0 ] || set -e
    return 0
}

expect_rc() {
    local want=$1
    shift
    run "$@"
    if [ "$RC" != "$want" ]; then
        echo "expected exit $want, got $RC from: $*"
        echo "--- stdout"; cat "$T/out"
        echo "--- stderr"; cat "$T/err"
        return 1
    fi
}

assert_eq() {
    if [ "$1" != "$2" ]; then
        echo "assert_eq failed${3:+ ($3)}:"
        echo "  want: $1"
        echo "  got:  $2"
        return 1
    fi
}

assert_grep() {
    if ! grep -qE -- "$1" "$2"; then
        echo "assert_grep: /$1/ not found in $2:"
        sed 's/^/  | /' "$2" | head -n 30
        return 1
    fi
}

assert_no_grep() {
    if grep -qE -- "$1" "$2"; then
        echo "assert_no_grep: /$1/ found in $2:"
        grep -nE -- "$1" "$2" | head -n 10
        return 1
    fi
}

assert_file_eq() {
    if ! diff -u <(printf '%s' "$2") "$1"; then
        echo "assert_file_eq: $1 differs"
        return 1
    fi
}

# reachable_copy FILE|DIR...: copies them into $TMPROOT/reach and prints that
# directory. Steps run as an unprivileged user (setpriv) use the copies: the
# checkout may sit where only root can enter (/root, a `mktemp -d`), and an
# exec or a perl script there fails with EACCES instead of testing anything.
reachable_copy() {
    local d=$TMPROOT/reach
    mkdir -p "$d" || return 1
    cp -R "$@" "$d/" || return 1
    chmod 0755 "$TMPROOT" || return 1
    chmod -R a+rX "$d" || return 1
    echo "$d"
}

# sim_setup [pvesim init options...]: a simulated node in $T/node ($S) and a
# pvetmpl config pointing at it in $T/pvetmpl.conf ($PVETMPL_CONFIG, exported).
# Extra config lines can be appended to $PVETMPL_CONFIG afterwards.
sim_setup() {
    if [ -z "${T:-}" ]; then
        echo "$NO_T" >&2
        return 1
    fi
    S=$T/node
    "$PVESIM" init "$S" "$@" >/dev/null || return 1
    cat >"$T/pvetmpl.conf" <<CONF || return 1
qm = "$S/bin/qm"
pvesm = "$S/bin/pvesm"
vmlist = "$S/etc/pve/.vmlist"
pve_dir = "$S/etc/pve"
node = "pve"
run_dir = "$T/run"
hook_binary = "$PVETMPL_HOOK"
lock_retries = 0
CONF
    export PVETMPL_CONFIG=$T/pvetmpl.conf
}

# Number of state-changing qm/pvesm calls the simulated node recorded.
sim_mutating_calls() {
    if [ -f "$S/calls.log" ]; then
        grep -c '"mutating":true' "$S/calls.log" || true
    else
        echo 0
    fi
}

# Number of calls recorded at all.
sim_calls() {
    if [ -f "$S/calls.log" ]; then
        wc -l <"$S/calls.log" | tr -d ' '
    else
        echo 0
    fi
}

# sim_knob NAME=VALUE: set a simulator knob (read by its launchers).
sim_knob() {
    "$PVESIM" "$S" knob "$1"
}

# sim_qm ARGS...: run the simulated node's qm directly (as an admin would).
sim_qm() {
    "$S/bin/qm" "$@"
}

# json_get KEY-PATH: jq expression against $T/out.
json_get() {
    jq -r "$1" <"$T/out"
}

# wait_for_grep PATTERN FILE [SECONDS]: until PATTERN shows up in FILE (default 10 s).
wait_for_grep() {
    local i
    for i in $(seq 1 $((${3:-10} * 20))); do
        grep -qE -- "$1" "$2" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "wait_for_grep: /$1/ did not appear in $2"
    return 1
}

# wait_for_proc PATTERN [SECONDS]: until a process whose command line matches runs.
wait_for_proc() {
    local i
    for i in $(seq 1 $((${2:-10} * 20))); do
        pgrep -f -- "$1" >/dev/null && return 0
        sleep 0.05
    done
    echo "wait_for_proc: no process matching '$1'"
    return 1
}

# wait_exit PID: its exit code in $rc; a process still running after 30 s
# (a signal it ignores) is killed, with its qm, and the test fails.
wait_exit() {
    local i
    for i in $(seq 1 600); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$1" 2>/dev/null; then
        pkill -KILL -P "$1" || true
        kill -KILL "$1"
        wait "$1" || true
        echo "pid $1 did not end"
        return 1
    fi
    wait "$1" && rc=0 || rc=$?
}

# wait_gone PATTERN [SECONDS]: until no process whose command line matches is
# left (polled: not a guess at how long they take; not pidwait under timeout,
# whose own command line holds the pattern and so is always waited for); the
# caller's own check then fails if one outlived SECONDS (default 10).
wait_gone() {
    local i
    for i in $(seq 1 $((${2:-10} * 20))); do
        pgrep -f -- "$1" >/dev/null || return 0
        sleep 0.05
    done
    return 0
}

# hold_lock FILE: hold one of pvetmpl's run_dir lock files as another run
# would (flock -o: the lock lives in flock itself, not in its child); returns
# once it is held. release_lock frees it; it also runs at the test's end.
hold_lock() {
    mkdir -p "$(dirname "$1")" || return 1
    flock -o "$1" sh -c 'echo $$ >"$0"; exec sleep 60' "$T/lock-holder.pid" &
    LOCK_FLOCK=$!
    trap release_lock EXIT
    wait_for_grep '^[0-9]+$' "$T/lock-holder.pid"
}

release_lock() {
    [ -n "${LOCK_FLOCK:-}" ] || return 0
    kill "$(cat "$T/lock-holder.pid")" 2>/dev/null || true
    wait "$LOCK_FLOCK" 2>/dev/null || true
    LOCK_FLOCK=
    rm -f "$T/lock-holder.pid"
}

# race_two WAIT_A WAIT_B ARGS...: two runs of pvetmpl ARGS while the only copy
# slot of local-lvm is held: the first (A) is started and waited for until
# WAIT_A shows in its stderr, then the second (B) until WAIT_B shows in its
# own; then the slot is freed and both finish. Output in $T/a.out, a.err,
# b.out, b.err; exit codes in RA and RB. Synchronised on messages, no sleeps.
race_two() {
    local wa=$1 wb=$2 a b
    shift 2
    hold_lock "$T/run/storage-local-lvm.0.lock"
    "$PVETMPL" --no-progress "$@" >"$T/a.out" 2>"$T/a.err" &
    a=$!
    wait_for_grep "$wa" "$T/a.err"
    "$PVETMPL" --no-progress "$@" >"$T/b.out" 2>"$T/b.err" &
    b=$!
    wait_for_grep "$wb" "$T/b.err"
    release_lock
    wait "$a" && RA=0 || RA=$?
    wait "$b" && RB=0 || RB=$?
}

# journal_mark: marks the end of the suite's journal (scripts share one
# journald under tests/run.sh); journal_since [journalctl args...] then
# reads only the entries written after the mark: a script's own records.
# (--cursor, not --after-cursor: with matches, journalctl 252 skips the
# first matching entry after the cursor as if it were the cursor's.)
journal_mark() {
    local id
    id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    printf 'MESSAGE=test mark\nPVETMPL_TEST_MARK=%s\n' "$id" | logger --journald
    journalctl --sync
    JOURNAL_CURSOR=$(journalctl -D "$JOURNAL_DIR" --no-pager -o json PVETMPL_TEST_MARK="$id" |
        jq -r .__CURSOR)
    if [ -z "$JOURNAL_CURSOR" ]; then
        echo "journal_mark: the mark was not journalled"
        return 1
    fi
}

journal_since() {
    journalctl -D "$JOURNAL_DIR" --no-pager --cursor "$JOURNAL_CURSOR" "$@"
}
