#!/bin/bash
# pvetmpl audit against a real journald: lineage both ways across
# template -> clone -> start/stop, time windows, --action, -D/--file on a
# copied journal, bad values, thousands of unrelated entries, entries forged
# by another user, and a journal the caller may not read.
# The lineage entries are written with logger --journald in exactly the shape
# pvetmpl and the hook write them (t300/t310 check that shape against the
# real writers), so the test does not depend on the clone commands.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

if [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    t_skip "pvetmpl audit" "needs the test journald (run tests/run.sh as root)"
    t_done
    exit
fi
if [ ! -x "$PVETMPL" ]; then
    t_skip "pvetmpl audit" "build/pvetmpl is missing"
    t_done
    exit
fi

ID_PRE_START=0088113c58354056aaac4d63266d83bc
ID_POST_START=146f9bae60d34fe0a9c0c2be2d720f00
ID_POST_STOP=c72a7568645347b08b2bb9c4299c4f97
ID_STARTED=e6110781a22e4187ad41bbb786685409
ID_SUCCEEDED=af54a1449e15477cbe8f5b94cc8fd3cd
ID_DRY_RUN=005554488480410a91698c38c3c0ed42
ID_FAILED=83241a15c883482ab443d58aceae279f
ID_INVALID=52275f2771314a6382f6f849605a4497

# audit does not read the config, but main loads it: an empty one is fine.
: >"$TMPROOT/empty.conf"
export PVETMPL_CONFIG=$TMPROOT/empty.conf

inject() { # FIELD=VALUE...
    printf '%s\n' "$@" | logger --journald
}
inject_as_nobody() { # FIELD=VALUE...: what any local user can write
    printf '%s\n' "$@" | setpriv --reuid=65534 --regid=65534 --clear-groups logger --journald
}
action() { # ACTION RESULT-ID RESULT VMID SRC [more fields]
    local a=$1 id=$2 res=$3 vm=$4 src=$5
    shift 5
    inject "MESSAGE=$a $res: VM $src -> $vm" "MESSAGE_ID=$id" SYSLOG_IDENTIFIER=pvetmpl \
        PRIORITY=5 "PVETMPL_ACTION=$a" "PVETMPL_RESULT=$res" "PVETMPL_VMID=$vm" \
        "PVETMPL_SOURCE_VMID=$src" PVETMPL_USER=alice "$@"
}
hook() { # ID PHASE VMID [more fields]
    local id=$1 ph=$2 vm=$3
    shift 3
    inject "MESSAGE=VM $vm $ph" "MESSAGE_ID=$id" SYSLOG_IDENTIFIER=pvetmpl-hook PRIORITY=6 \
        "PVETMPL_VMID=$vm" "PVETMPL_PHASE=$ph" "$@"
}

# One history for all the tests below; T0/T1 bound its two halves.
T0=$(date +%s.%N)
action make-template $ID_SUCCEEDED succeeded 4900 4100 PVETMPL_NAME=tmpl-deb \
    PVETMPL_STORAGE=local PVETMPL_EXIT=0 PVETMPL_DURATION_MS=5000
action clone $ID_STARTED started 4101 4900 PVETMPL_NAME=web1 PVETMPL_STORAGE=local
action clone $ID_SUCCEEDED succeeded 4101 4900 PVETMPL_NAME=web1 PVETMPL_STORAGE=local \
    PVETMPL_EXIT=0 PVETMPL_DURATION_MS=1200
action clone $ID_SUCCEEDED succeeded 4102 4900 PVETMPL_NAME=web2
action clone $ID_SUCCEEDED succeeded 4201 4101 PVETMPL_NAME=web1-copy
action clone $ID_DRY_RUN dry-run 4999 4900 "PVETMPL_PLAN=qm clone 4900 4999"
action clone $ID_SUCCEEDED succeeded 4501 4500 PVETMPL_NAME=unrelated
# A clone of 4900 that failed before a VM existed; later an unrelated VM 4601.
action clone $ID_STARTED started 4601 4900 PVETMPL_NAME=lost
action clone $ID_FAILED failed 4601 4900 PVETMPL_NAME=lost PVETMPL_EXIT=75
hook $ID_PRE_START pre-start 4101 PVETMPL_NAME=web1
hook $ID_POST_START post-start 4101 PVETMPL_NAME=web1
hook $ID_PRE_START pre-start 4102 PVETMPL_NAME=web2
hook $ID_PRE_START pre-start 4201
hook $ID_PRE_START pre-start 4301 PVETMPL_SOURCE_VMID=4900 # a linked clone made by hand
hook $ID_PRE_START pre-start 4501
hook $ID_PRE_START pre-start 4601 PVETMPL_NAME=stranger
hook $ID_INVALID pre-migrate 4502 "PVETMPL_ERROR=unknown phase 'pre-migrate'"
# Forged by an ordinary user with our id, identifier and fields, claiming
# root and carrying terminal escapes in every column.
ESC=$'\e'
inject_as_nobody "MESSAGE=clone succeeded" "MESSAGE_ID=$ID_SUCCEEDED" SYSLOG_IDENTIFIER=pvetmpl \
    PRIORITY=5 "PVETMPL_ACTION=clone${ESC}[2K" PVETMPL_RESULT=succeeded PVETMPL_VMID=4777 \
    PVETMPL_SOURCE_VMID=4900 "PVETMPL_NAME=evil${ESC}]0;x" "PVETMPL_USER=root${ESC}[31m" \
    "PVETMPL_STORAGE=local${ESC}[1A" "PVETMPL_ERROR=${ESC}[2Jboom"
# Forged with bidi controls and invalid UTF-8: RLO would draw the rest of its
# row (its UNTRUSTED marker too) right to left, LRI/PDI and RLM likewise.
RLO=$'\xe2\x80\xae' LRI=$'\xe2\x81\xa6' PDI=$'\xe2\x81\xa9' RLM=$'\xe2\x80\x8f'
inject_as_nobody "MESSAGE=clone succeeded" "MESSAGE_ID=$ID_SUCCEEDED" SYSLOG_IDENTIFIER=pvetmpl \
    PRIORITY=5 PVETMPL_ACTION=clone PVETMPL_RESULT=succeeded PVETMPL_VMID=4778 \
    PVETMPL_SOURCE_VMID=4950 "PVETMPL_NAME=web${RLO}1" "PVETMPL_USER=${LRI}root${PDI}" \
    "PVETMPL_STORAGE=loc"$'\xff'"al" "PVETMPL_ERROR=${RLM}ok"$'\xc0\xaf'"${RLO}DETSURTNU"
# A failure whose message is longer than three lines of any terminal (forged
# as well, so that the trusted history above stays as it is).
LONG=$(printf 'word%03d ' $(seq 1 120))
inject_as_nobody "MESSAGE=clone failed" "MESSAGE_ID=$ID_FAILED" SYSLOG_IDENTIFIER=pvetmpl \
    PRIORITY=5 PVETMPL_ACTION=clone PVETMPL_RESULT=failed PVETMPL_VMID=4779 \
    PVETMPL_SOURCE_VMID=4950 PVETMPL_NAME=long-error PVETMPL_EXIT=1 \
    "PVETMPL_ERROR=qm clone failed: $LONG"
# Look-alikes that are not ours: no MESSAGE_ID, or a foreign identifier.
inject MESSAGE=forged SYSLOG_IDENTIFIER=pvetmpl PVETMPL_VMID=4101 PVETMPL_ACTION=clone
inject MESSAGE=forged "MESSAGE_ID=$ID_SUCCEEDED" SYSLOG_IDENTIFIER=other PVETMPL_VMID=4101 \
    PVETMPL_ACTION=clone
# Thousands of unrelated entries in between.
seq 1 5000 | sed 's/^/noise line /' | systemd-cat -t noise
sleep 0.05
T1=$(date +%s.%N)
sleep 0.05
hook $ID_POST_STOP post-stop 4101 PVETMPL_NAME=web1
seq 1 2000 | systemd-cat -t noise2
journalctl --sync

# audit --json prints one report object, its events in .events (README).
# one_object FILE: FILE holds exactly one JSON text (json_pp refuses
# anything after it), an object, with an events array.
one_object() {
    json_pp -t null <"$1"
    if [ "$(jq -s 'length == 1 and (.[0].events | type == "array")' "$1")" != true ]; then
        echo "not one JSON object with an events array:"
        cat "$1"
        return 1
    fi
}
# rows FILE -> "action result vmid source" per event
rows() {
    one_object "$1"
    jq -r '.events[] | [.action, .result, (.vmid // "-"), (.source_vmid // "-")] | join(" ")' "$1"
}
# nevents FILE -> how many events the report holds
nevents() {
    one_object "$1"
    jq '.events | length' "$1"
}

lineage_of_a_clone() {
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4101
    rows "$T/out" >got
    assert_file_eq got "make-template succeeded 4900 4100
clone started 4101 4900
clone succeeded 4101 4900
clone succeeded 4201 4101
pre-start ok 4101 -
post-start ok 4101 -
pre-start ok 4201 -
post-stop ok 4101 -
"
}

lineage_of_a_template() {
    # The failed clone 4601 shows as an attempt; the later VM 4601 is no clone.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4900
    rows "$T/out" >got
    assert_file_eq got "make-template succeeded 4900 4100
clone started 4101 4900
clone succeeded 4101 4900
clone succeeded 4102 4900
clone succeeded 4201 4101
clone dry-run 4999 4900
clone started 4601 4900
clone failed 4601 4900
pre-start ok 4101 -
post-start ok 4101 -
pre-start ok 4102 -
pre-start ok 4201 -
pre-start ok 4301 4900
post-stop ok 4101 -
"
    # The source VM's view reaches the whole tree; the unrelated one only itself.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4100
    assert_eq 14 "$(nevents "$T/out")"
    # The VM that took the failed clone's VMID is on its own.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4601
    rows "$T/out" >got
    assert_file_eq got "clone started 4601 4900
clone failed 4601 4900
pre-start ok 4601 -
"
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4501
    rows "$T/out" >got
    assert_file_eq got "clone succeeded 4501 4500
pre-start ok 4501 -
"
}

fields_and_table() {
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4201 --action clone
    rows "$T/out" >got
    assert_file_eq got "clone started 4101 4900
clone succeeded 4101 4900
clone succeeded 4201 4101
"
    a=$(jq -c '.events[-1]' "$T/out")
    assert_eq web1-copy "$(jq -r .name <<<"$a")"
    assert_eq alice "$(jq -r .user <<<"$a")"
    assert_eq action-succeeded "$(jq -r .event <<<"$a")"
    assert_eq $ID_SUCCEEDED "$(jq -r .message_id <<<"$a")"
    [[ $(jq -r .time <<<"$a") =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]]
    expect_rc 0 "$PVETMPL" audit --since "@$T0" --vmid 4101
    assert_grep '^TIME +ACTION +RESULT +VMID +SOURCE +NAME +STORAGE +USER +UID +DETAIL$' "$T/out"
    assert_grep '^[0-9-]{10} [0-9:]{8}  make-template +succeeded +4900 +4100 +tmpl-deb +local +alice +0 +5000 ms$' "$T/out"
    assert_grep '  post-stop +ok +4101 +- +web1 ' "$T/out"
    assert_eq 9 "$(wc -l <"$T/out")" "header + 8 rows"
    # Without --vmid: everything of ours in the window, nothing forged.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0"
    assert_no_grep forged "$T/out"
    assert_eq 18 "$(nevents "$T/out")"
    assert_eq true "$(jq '.events | all(.trusted and .uid == 0)' "$T/out")"
}

time_window() {
    expect_rc 0 "$PVETMPL" audit --json --since "@$T1"
    rows "$T/out" >got
    assert_file_eq got "post-stop ok 4101 -
"
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --until "@$T1" --vmid 4101
    assert_eq 7 "$(nevents "$T/out")"
    expect_rc 0 "$PVETMPL" audit --json --since today --vmid 4501
    assert_eq 2 "$(nevents "$T/out")"
    expect_rc 0 "$PVETMPL" audit --json --since -1h --vmid 4501
    assert_eq 2 "$(nevents "$T/out")"
    expect_rc 0 "$PVETMPL" audit --json -S "1 hour ago" --until now --vmid 4501
    assert_eq 2 "$(nevents "$T/out")"
    expect_rc 0 "$PVETMPL" audit --json --since 2000-01-01 --until "2000-01-02 12:00" --vmid 4501
    assert_eq 0 "$(nevents "$T/out")"
    expect_rc 0 "$PVETMPL" audit --until yesterday --vmid 4501
    assert_eq "" "$(cat "$T/out")"
    assert_grep "no matching pvetmpl events" "$T/err"
}

actions() {
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --action pre-start
    assert_eq 6 "$(nevents "$T/out")"
    # The hook's invalid calls have no PVETMPL_ACTION: matched by MESSAGE_ID,
    # the same with and without --vmid.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --action hook-invalid
    rows "$T/out" >got
    assert_file_eq got "hook-invalid ignored 4502 -
"
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --action hook-invalid --vmid 4502
    rows "$T/out" >got
    assert_file_eq got "hook-invalid ignored 4502 -
"
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --action make-template
    rows "$T/out" >got
    assert_file_eq got "make-template succeeded 4900 4100
"
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --action=clone --vmid=4102
    rows "$T/out" >got
    assert_file_eq got "clone succeeded 4102 4900
"
}

bad_values() {
    expect_rc 64 "$PVETMPL" audit --since "next tuesday"
    assert_grep "invalid --since value 'next tuesday'" "$T/err"
    expect_rc 64 "$PVETMPL" audit --until 2026-13-01
    assert_grep "invalid --until value '2026-13-01'" "$T/err"
    expect_rc 64 "$PVETMPL" audit --vmid 99
    assert_grep "invalid VMID '99'" "$T/err"
    expect_rc 64 "$PVETMPL" audit --since
    assert_grep "option '--since' needs a value" "$T/err"
    expect_rc 64 "$PVETMPL" audit --bogus
    expect_rc 64 "$PVETMPL" audit --since now --until -1d
    expect_rc 64 "$PVETMPL" audit -D /tmp --file /tmp/x.journal
    expect_rc 69 "$PVETMPL" audit --file "$T/nonexistent.journal"
    assert_grep "cannot open the journal" "$T/err"
}

exported_journal() {
    journalctl --sync
    cp -a "$JOURNAL_DIR" exported
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4101 -D "$T/exported"
    rows "$T/out" >viadir
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4101
    rows "$T/out" >live
    assert_file_eq viadir "$(cat live)
"
    args=()
    for f in "$T"/exported/*.journal; do args+=(--file "$f"); done
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4101 "${args[@]}"
    rows "$T/out" >viafile
    assert_file_eq viafile "$(cat live)
"
}

many_unrelated_entries() {
    # The match on MESSAGE_ID/SYSLOG_IDENTIFIER keeps 7000 noise lines cheap.
    n=$(journalctl -D "$JOURNAL_DIR" --no-pager -o cat SYSLOG_IDENTIFIER=noise | wc -l)
    [ "$n" -ge 5000 ]
    s=$(date +%s%N)
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0"
    e=$(date +%s%N)
    assert_eq 18 "$(nevents "$T/out")"
    ms=$(((e - s) / 1000000))
    echo "audit took $ms ms"
    [ "$ms" -lt 3000 ]
}

forged_by_another_user() {
    # Not shown by default, nor does it attach 4777 to 4900's lineage.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4777
    assert_eq 0 "$(nevents "$T/out")"
    expect_rc 0 "$PVETMPL" audit --since "@$T0"
    assert_no_grep 4777 "$T/out"
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4900
    assert_no_grep 4777 "$T/out"
    # --all-users shows it, marked, with the journal's _UID.
    expect_rc 0 "$PVETMPL" audit --json --all-users --since "@$T0" --vmid 4777
    assert_eq 1 "$(nevents "$T/out")"
    assert_eq "false 65534" "$(jq -r '.events[] | "\(.trusted) \(.uid)"' "$T/out")"
    # (a terminal wide enough for every column)
    expect_rc 0 env COLUMNS=200 "$PVETMPL" audit --all-users --since "@$T0" --vmid 4777
    assert_grep '^[0-9-]{10} [0-9:]{8}  clone\?\[2K +succeeded +4777 +4900 +evil\?\]0;x +local\?\[1A +root\?\[31m +65534 +UNTRUSTED \(not written by root\) \?\[2Jboom$' "$T/out"
    # No control character reaches the terminal, in any column.
    assert_no_grep $'[\x01-\x08\x0b-\x1f\x7f]' "$T/out"
    # In 4900's history it shows as an untrusted attempt, nothing more.
    expect_rc 0 "$PVETMPL" audit --json --all-users --since "@$T0" --vmid 4900
    assert_eq false "$(jq -r '.events[] | select(.vmid == 4777) | .trusted' "$T/out")"
}

# width FILE: the widest line, in characters.
width() {
    LC_ALL=C.UTF-8 awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }' "$1"
}

table_fits_the_terminal() {
    # Not a terminal, no $COLUMNS: drawn for 100 columns.
    expect_rc 0 env -u COLUMNS "$PVETMPL" audit --all-users --since "@$T0"
    [ "$(width "$T/out")" -le 100 ]
    assert_grep '^TIME +ACTION +RESULT +VMID +NAME +DETAIL$' "$T/out"
    # The long error: its row wraps to three lines and is cut there.
    grep -A 3 '  4779  ' "$T/out" >row
    assert_eq 2 "$(grep -c '^ \{40,\}[^ ]' row)" "continuation lines"
    head -n 3 row | sed 's/^ *//' | tr '\n' ' ' >joined
    assert_grep '^[0-9-]{10} [0-9:]{8}  clone +failed +4779 +long-error +UNTRUSTED \(not written by root\) qm clone failed: word001 word002 .*[0-9] \.\.\. $' joined
    [ "$(sed -n 4p row | cut -c1)" != " " ]
    # $COLUMNS when not a terminal; wide enough, every column is back.
    expect_rc 0 env COLUMNS=100 "$PVETMPL" audit --all-users --since "@$T0" --vmid 4779
    [ "$(width "$T/out")" -le 100 ]
    assert_eq 4 "$(wc -l <"$T/out")" "header and a row of three lines"
    expect_rc 0 env COLUMNS=300 "$PVETMPL" audit --all-users --since "@$T0" --vmid 4779
    assert_grep '^TIME +ACTION +RESULT +VMID +SOURCE +NAME +STORAGE +USER +UID +DETAIL$' "$T/out"
    assert_eq 4 "$(wc -l <"$T/out")" "header and a row of three lines"
    [ "$(width "$T/out")" -le 300 ]
    [ "$(width "$T/out")" -gt 200 ]
}

bidi_and_invalid_utf8() {
    expect_rc 0 env COLUMNS=200 "$PVETMPL" audit --all-users --since "@$T0" --vmid 4778
    # Every bidi control and invalid byte is one '?': the row reads left to
    # right, its marker first in DETAIL.
    assert_grep '^[0-9-]{10} [0-9:]{8}  clone +succeeded +4778 +4950 +web\?1 +loc\?al +\?root\? +65534 +UNTRUSTED \(not written by root\) \?ok\?\?\?DETSURTNU$' "$T/out"
    iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null
    assert_no_grep $'\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$T/out"
    # --json keeps the fields as they were (valid UTF-8 JSON).
    expect_rc 0 "$PVETMPL" audit --json --all-users --since "@$T0" --vmid 4778
    assert_eq "web${RLO}1" "$(jq -r '.events[0].name' "$T/out")"
}

unreadable_journal() {
    # audit is the one command an ordinary user may run: it reads what the
    # journal lets the user read, and says when that was nothing. No
    # $PVETMPL_CONFIG: a user who is not root gets the system's only (issue 9).
    chmod 0755 "$T" "$TMPROOT"
    r=$(reachable_copy "$PVETMPL") # the checkout may be closed to uid 65534
    expect_rc 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
        env -u PVETMPL_CONFIG "$r/pvetmpl" audit --vmid 4101
    assert_grep "no journal file was readable \(uid 65534\).*group adm or systemd-journal" \
        "$T/err"
    assert_no_grep "no matching pvetmpl events in the journal$" "$T/err"
    # With --json: one object, no events, the warning in its warnings.
    expect_rc 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
        env -u PVETMPL_CONFIG "$r/pvetmpl" audit --json --vmid 4101
    assert_eq 0 "$(nevents "$T/out")"
    [[ $(jq -r '.warnings[0]' "$T/out") == "no journal file was readable (uid 65534)"* ]]
    # With --json-lines: no line on stdout, the warning on stderr.
    expect_rc 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
        env -u PVETMPL_CONFIG "$r/pvetmpl" audit --json-lines --vmid 4101
    assert_eq "" "$(cat "$T/out")"
    assert_grep "no journal file was readable \(uid 65534\)" "$T/err"
}

read_error_warns() {
    # A journal read error part-way through must not pass for the end of the
    # history: an LD_PRELOAD shim makes sd_journal_next fail after 3 entries.
    cat >shim.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
int sd_journal_next(void *j)
{
    static int (*real)(void *);
    static int calls;
    if (!real) {
        real = (int (*)(void *))dlsym(RTLD_NEXT, "sd_journal_next");
    }
    if (++calls > atoi(getenv("SHIM_FAIL_AFTER"))) {
        return -EIO;
    }
    return real(j);
}
C
    cc -shared -fPIC -o shim.so shim.c -ldl
    SHIM_FAIL_AFTER=3 ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 0 "$PVETMPL" audit --json-lines
    assert_eq 3 "$(wc -l <"$T/out")"
    assert_grep "warning: reading the journal stopped early: Input/output error; the history below may be incomplete" "$T/err"
    # --json: the warning is in the report.
    SHIM_FAIL_AFTER=3 ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 0 "$PVETMPL" audit --json
    assert_eq 3 "$(nevents "$T/out")"
    assert_grep "reading the journal stopped early: Input/output error" "$T/out"
    assert_eq "" "$(cat "$T/err")"
    # The shim itself changes nothing when it does not fail.
    SHIM_FAIL_AFTER=100000 ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 0 "$PVETMPL" audit --json-lines \
        --since "@$T0"
    assert_eq 18 "$(wc -l <"$T/out")"
    assert_eq "" "$(cat "$T/err")"
}

real_lineage_end_to_end() {
    # The real writers: make-template registers the hook, the linked clone
    # inherits it, the simulated qm start/stop run it, audit ties them up.
    sim_setup
    local D=$S
    printf 'pve_dir = "%s/etc/pve"\nnode = "pve"\n' "$D" \
        >"$D/var/lib/vz/snippets/pvetmpl-hook.conf"
    local t
    t=$(date +%s.%N)
    PVETMPL_CONFIG=$T/pvetmpl.conf expect_rc 0 "$PVETMPL" make-template --name tmpl \
        --storage dir-tmpl 100 9000
    PVETMPL_CONFIG=$T/pvetmpl.conf expect_rc 0 "$PVETMPL" clone --linked --name web1 9000 101
    expect_rc 0 "$D/bin/qm" start 101
    expect_rc 0 "$D/bin/qm" stop 101
    expect_rc 0 "$PVETMPL" audit --json --since "@$t" --vmid 101
    jq -r '.events[] | select(.result != "started") | [.action, .result, (.vmid // "-"), (.source_vmid // "-")] | join(" ")' \
        "$T/out" >got
    assert_file_eq got "hook-install succeeded 9000 -
make-template succeeded 9000 100
clone succeeded 101 9000
pre-start ok 101 9000
post-start ok 101 9000
pre-stop ok 101 9000
post-stop ok 101 9000
"
    # From the source VM, the same tree.
    expect_rc 0 "$PVETMPL" audit --json --since "@$t" --vmid 100
    assert_eq 6 "$(jq '[.events[] | select(.vmid == 101)] | length' "$T/out")" "101's clone + hook"
}

json_is_one_object() {
    # Nothing matched: one object all the same, an empty events array, rc 0.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4888
    one_object "$T/out"
    assert_eq 1 "$(wc -l <"$T/out")"
    got=$(jq -r '"\(.action) \(.rc) \(.failed) \(.events | length)"' "$T/out")
    assert_eq "audit 0 false 0" "$got"
    assert_eq "[]" "$(jq -c .events "$T/out")"
    assert_eq "" "$(cat "$T/err")"
    # Matches: the same envelope every command prints, events inside.
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4501
    one_object "$T/out"
    assert_eq 1 "$(wc -l <"$T/out")"
    assert_eq true "$(jq 'has("changed") and has("msg") and has("warnings") and has("duration_ms")' "$T/out")"
    got=$(jq -r '"\(.action) \(.rc) \(.failed) \(.events | length)"' "$T/out")
    assert_eq "audit 0 false 2" "$got"
    # A failure is the same one object, with the error.
    expect_rc 69 "$PVETMPL" audit --json --file "$T/nonexistent.journal"
    one_object "$T/out"
    assert_eq "precondition true 69" "$(jq -r '"\(.error.class) \(.failed) \(.rc)"' "$T/out")"
    # --json anywhere, as with every command.
    expect_rc 0 "$PVETMPL" --json audit --since "@$T0" --vmid 4501
    assert_eq 2 "$(nevents "$T/out")"
}

json_lines() {
    # One event object per line, the same events as --json's array.
    expect_rc 0 "$PVETMPL" audit --json-lines --since "@$T0" --vmid 4101
    assert_eq 8 "$(wc -l <"$T/out")"
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line" >one.json
        json_pp -t null <one.json
        assert_eq object "$(jq -r type one.json)"
    done <"$T/out"
    cp "$T/out" lines
    expect_rc 0 "$PVETMPL" audit --json --since "@$T0" --vmid 4101
    jq -c '.events[]' "$T/out" >from-json
    jq -c . lines >from-lines
    assert_file_eq from-lines "$(cat from-json)
"
    # Nothing matched: nothing printed, rc 0.
    expect_rc 0 "$PVETMPL" audit --json-lines --since "@$T0" --vmid 4888
    assert_eq "" "$(cat "$T/out")"
    # A failure under --json-lines alone speaks on stderr, as without it.
    expect_rc 64 "$PVETMPL" audit --json-lines --since "next tuesday"
    assert_eq "" "$(cat "$T/out")"
    assert_grep "invalid --since value 'next tuesday'" "$T/err"
}

value_types() {
    # Numbers are numbers: the journal's _UID too; no value is a number
    # spelt as a string; --all-users (uid 65534) included.
    expect_rc 0 "$PVETMPL" audit --json --all-users --since "@$T0"
    one_object "$T/out"
    assert_eq 21 "$(jq '.events | length' "$T/out")"
    assert_eq true "$(jq '.events | all(.uid | type == "number")' "$T/out")"
    assert_eq "0 65534" "$(jq -r '[.events[].uid] | unique | map(tostring) | join(" ")' "$T/out")"
    assert_eq true "$(jq '[.events[] | .vmid, .source_vmid, .exit, .duration_ms, .realtime_usec, .audit_loginuid | select(. != null)] | all(type == "number")' "$T/out")"
    assert_eq true "$(jq '.events | all(.trusted | type == "boolean")' "$T/out")"
    assert_eq "" "$(jq -r '.events[] | to_entries[] | select((.value | type) == "string" and (.value | test("^[0-9]+$"))) | .key' "$T/out")"
    expect_rc 0 "$PVETMPL" audit --json-lines --all-users --since "@$T0"
    assert_eq true "$(jq -s 'all(.uid | type == "number")' "$T/out")"
}

t_check "--vmid of a clone: its template, the template's source, its clones, its starts" \
    lineage_of_a_clone
t_check "--vmid of a template: source, every clone (also linked, by the hook), no strangers" \
    lineage_of_a_template
t_check "JSON fields, the table, forged look-alikes left out" fields_and_table
t_check "--since/--until: @epoch, today, -1h, 'ago', dates" time_window
t_check "--action matches pvetmpl actions and hook phases" actions
t_check "bad values exit 64 naming the value" bad_values
t_check "--json: exactly one object, events in an array, also when none matched" \
    json_is_one_object
t_check "--json-lines: one event object per line" json_lines
t_check "value types: uid and every number a JSON number" value_types
t_check "-D DIR and --file read a copied journal the same way" exported_journal
t_check "thousands of unrelated entries" many_unrelated_entries
t_check "an entry forged by another user: hidden by default, marked with --all-users" \
    forged_by_another_user
t_check "the table fits a 100-column terminal: columns dropped, DETAIL wrapped to 3 lines" \
    table_fits_the_terminal
t_check "bidi controls and invalid UTF-8 in any field: '?' in the table" bidi_and_invalid_utf8
t_check "not root: audit reads what the user may, and says when that is nothing" unreadable_journal
if command -v cc >/dev/null; then
    t_check "a read error part-way through is a warning, not a silent end" read_error_warns
else
    t_skip "a read error part-way through" "no C compiler for the LD_PRELOAD shim"
fi
if [ -x "$PVESIM" ]; then
    t_check "real make-template -> linked clone -> qm start/stop, traced by audit" \
        real_lineage_end_to_end
else
    t_skip "real lineage end to end" "tests/pvesim/pvesim does not exist yet"
fi
t_done
