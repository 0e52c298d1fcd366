#!/bin/bash
# pvetmpl's own audit events against a real journald (tests/with-journald.sh):
# every action MESSAGE_ID and field, read back with journalctl -o json and
# through pvetmpl audit (sd_journal), from the hook commands and from the real
# make-template, clone and template runs on the simulated node; PVETMPL_USER;
# an unreachable journal only warns; the message catalog is consumed by
# journalctl --update-catalog and shown by -x.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

ID_STARTED=e6110781a22e4187ad41bbb786685409
ID_SUCCEEDED=af54a1449e15477cbe8f5b94cc8fd3cd
ID_FAILED=83241a15c883482ab443d58aceae279f
ID_REFUSED=43242ce83883437e8d97216c3986631f
ID_DRY_RUN=005554488480410a91698c38c3c0ed42
ID_DENIED=01b2bf2779e7455aa839a7c25cebe61f # issue 9's refusals: t500-sudo.sh writes them
ALL_IDS="0088113c58354056aaac4d63266d83bc 146f9bae60d34fe0a9c0c2be2d720f00
a59a76b517484e8e9277e11008957cc4 c72a7568645347b08b2bb9c4299c4f97
1955303dbf2440698971b5e467e691f3 52275f2771314a6382f6f849605a4497
$ID_STARTED $ID_SUCCEEDED $ID_FAILED $ID_REFUSED $ID_DRY_RUN $ID_DENIED"

catalog_syntax() {
    # What the package's postinst runs, against a private root.
    mkdir -p root/usr/lib/systemd/catalog root/var/lib/systemd/catalog
    cp "$TOP/conf/pvetmpl.catalog" root/usr/lib/systemd/catalog/
    expect_rc 0 journalctl --root="$T/root" --update-catalog
    assert_eq "" "$(cat "$T/err")" "update-catalog complaints"
    journalctl --root="$T/root" --list-catalog >list
    for id in $ALL_IDS; do
        assert_grep "^$id pvetmpl: " list
    done
    assert_eq 12 "$(wc -l <list)"
    # Catalog prose lines stay within 76 columns.
    assert_no_grep '^.{77,}' "$TOP/conf/pvetmpl.catalog"
}

t_check "the catalog is accepted by journalctl --update-catalog" catalog_syntax

if [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    t_skip "pvetmpl audit events" "needs the test journald (run tests/run.sh as root)"
    t_done
    exit
fi
if [ ! -x "$PVESIM" ]; then
    t_skip "pvetmpl audit events" "tests/pvesim/pvesim does not exist yet"
    t_done
    exit
fi

jsel() { # MATCH... -> all matching entries of pvetmpl as JSON lines
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl "$@"
}
jfield() { jq -r --arg f "$2" '.[$f] // "<absent>"' <<<"$1"; }

mknode() { # the shared simulated node of lib.sh, as $D
    sim_setup
    D=$S
    T0=$(date +%s.%N)
}

every_action_id_and_field() {
    mknode
    "$PVESIM" "$D" add-vm 3001 --name ev-a --disk scsi0=local:8 >/dev/null
    # dry-run, then started + succeeded (file and VM), refused, failed.
    SUDO_UID=0 SUDO_USER=root expect_rc 0 "$PVETMPL" -n hook install 3001
    SUDO_UID=0 SUDO_USER=root expect_rc 0 "$PVETMPL" hook install 3001
    SUDO_UID=0 SUDO_USER=root expect_rc 69 "$PVETMPL" hook install 3001 --storage local-lvm
    "$PVESIM" "$D" knob PVESIM_FAULT=lock-timeout
    "$PVESIM" "$D" knob PVESIM_FAULT_CMD="qm set"
    SUDO_UID=0 SUDO_USER=root expect_rc 75 "$PVETMPL" hook remove 3001
    "$PVESIM" "$D" knob --clear

    # dry-run
    j=$(jsel PVETMPL_VMID=3001 MESSAGE_ID=$ID_DRY_RUN)
    assert_eq 1 "$(grep -c . <<<"$j")" "one dry-run entry"
    assert_eq hook-install "$(jfield "$j" PVETMPL_ACTION)"
    assert_eq dry-run "$(jfield "$j" PVETMPL_RESULT)"
    assert_eq local "$(jfield "$j" PVETMPL_STORAGE)"
    assert_eq local:snippets/pvetmpl-hook "$(jfield "$j" PVETMPL_VOLID)"
    assert_eq "$D/bin/qm set 3001 --hookscript local:snippets/pvetmpl-hook" \
        "$(jfield "$j" PVETMPL_PLAN)"
    assert_eq root "$(jfield "$j" PVETMPL_USER)"
    assert_eq 6 "$(jfield "$j" PRIORITY)"
    # started / succeeded
    j=$(jsel PVETMPL_VMID=3001 MESSAGE_ID=$ID_STARTED PVETMPL_ACTION=hook-install)
    assert_eq started "$(jfield "$j" PVETMPL_RESULT)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_DURATION_MS)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_EXIT)"
    j=$(jsel PVETMPL_VMID=3001 MESSAGE_ID=$ID_SUCCEEDED)
    assert_eq succeeded "$(jfield "$j" PVETMPL_RESULT)"
    assert_eq 0 "$(jfield "$j" PVETMPL_EXIT)"
    [[ $(jfield "$j" PVETMPL_DURATION_MS) =~ ^[0-9]+$ ]]
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_ERROR)"
    assert_eq 0 "$(jfield "$j" _UID)"
    assert_eq pvetmpl "$(jfield "$j" SYSLOG_IDENTIFIER)"
    # the file placement has its own pair
    j=$(jsel PVETMPL_ACTION=hook-file MESSAGE_ID=$ID_SUCCEEDED | tail -n 1)
    assert_eq local "$(jfield "$j" PVETMPL_STORAGE)"
    # refused: the storage check stopped it before anything was written
    j=$(jsel PVETMPL_VMID=3001 MESSAGE_ID=$ID_REFUSED)
    assert_eq refused "$(jfield "$j" PVETMPL_RESULT)"
    assert_eq 69 "$(jfield "$j" PVETMPL_EXIT)"
    assert_eq local-lvm "$(jfield "$j" PVETMPL_STORAGE)"
    [[ $(jfield "$j" PVETMPL_ERROR) == "storage 'local-lvm' (type lvmthin) is not file-based"* ]]
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    # failed: qm set hit a lock timeout
    j=$(jsel PVETMPL_VMID=3001 MESSAGE_ID=$ID_FAILED)
    assert_eq hook-remove "$(jfield "$j" PVETMPL_ACTION)"
    assert_eq failed "$(jfield "$j" PVETMPL_RESULT)"
    assert_eq 75 "$(jfield "$j" PVETMPL_EXIT)"
    [[ $(jfield "$j" PVETMPL_ERROR) == *"got timeout"* ]]
    [[ $(jfield "$j" PVETMPL_DURATION_MS) =~ ^[0-9]+$ ]]
    assert_eq 3 "$(jfield "$j" PRIORITY)"

    # The same entries through the sd_journal reader.
    expect_rc 0 "$PVETMPL" audit --json-lines --since "@$T0" --vmid 3001
    jq -s . "$T/out" >/dev/null
    a=$(jq -c 'select(.event == "action-failed")' "$T/out")
    assert_eq "$ID_FAILED" "$(jq -r .message_id <<<"$a")"
    assert_eq 3001 "$(jq -r .vmid <<<"$a")"
    assert_eq 75 "$(jq -r .exit <<<"$a")"
    assert_eq root "$(jq -r .user <<<"$a")"
    assert_eq hook-remove "$(jq -r .action <<<"$a")"
    assert_eq "$(jfield "$(jsel PVETMPL_VMID=3001 MESSAGE_ID=$ID_FAILED)" PVETMPL_ERROR)" \
        "$(jq -r .error <<<"$a")"
    for ev in action-dry-run action-started action-succeeded action-refused action-failed; do
        # (jq 1.6's -e looks at the last input only: slurp)
        jq -es --arg e $ev 'map(select(.event == $e)) | length >= 1' "$T/out" >/dev/null || {
            echo "audit lacks $ev"
            return 1
        }
    done
    d=$(jq -c 'select(.event == "action-dry-run")' "$T/out")
    assert_eq "$D/bin/qm set 3001 --hookscript local:snippets/pvetmpl-hook" "$(jq -r .plan <<<"$d")"
    assert_eq local:snippets/pvetmpl-hook "$(jq -r .volid <<<"$d")"
    # Entry count agrees with journalctl's for the same VM and window.
    assert_eq "$(jsel PVETMPL_VMID=3001 --since "@${T0%.*}" | wc -l)" "$(wc -l <"$T/out")"
}

# real_writer ACTION VMID NAME STORAGE: the started/succeeded pair the real
# command wrote, via journalctl -o json and via pvetmpl audit --json-lines, agree
# and carry every field. STORAGE "<absent>" when the action has none.
real_writer() {
    local act=$1 vm=$2 name=$3 storage=$4 j a
    j=$(jsel PVETMPL_ACTION="$act" PVETMPL_VMID="$vm" MESSAGE_ID=$ID_SUCCEEDED)
    assert_eq 1 "$(grep -c . <<<"$j")" "one $act succeeded entry for $vm"
    assert_eq succeeded "$(jfield "$j" PVETMPL_RESULT)"
    assert_eq 0 "$(jfield "$j" PVETMPL_EXIT)"
    [[ $(jfield "$j" PVETMPL_DURATION_MS) =~ ^[0-9]+$ ]]
    assert_eq root "$(jfield "$j" PVETMPL_USER)" "$act: SUDO_UID's user as root"
    assert_eq "$name" "$(jfield "$j" PVETMPL_NAME)" "$act name"
    assert_eq "$storage" "$(jfield "$j" PVETMPL_STORAGE)" "$act storage"
    assert_eq 0 "$(jfield "$j" _UID)"
    s=$(jsel PVETMPL_ACTION="$act" PVETMPL_VMID="$vm" MESSAGE_ID=$ID_STARTED)
    assert_eq 1 "$(grep -c . <<<"$s")" "one $act started entry for $vm"
    assert_eq started "$(jfield "$s" PVETMPL_RESULT)"
    assert_eq "<absent>" "$(jfield "$s" PVETMPL_EXIT)"
    # The same entry through sd_journal.
    expect_rc 0 "$PVETMPL" audit --json-lines --since "@$T0" --action "$act"
    a=$(jq -c --argjson v "$vm" 'select(.vmid == $v and .result == "succeeded")' "$T/out")
    assert_eq 1 "$(grep -c . <<<"$a")"
    assert_eq "$(jfield "$j" PVETMPL_NAME)" "$(jq -r '.name // "<absent>"' <<<"$a")"
    assert_eq "$(jfield "$j" PVETMPL_STORAGE)" "$(jq -r '.storage // "<absent>"' <<<"$a")"
    assert_eq "$(jfield "$j" PVETMPL_DURATION_MS)" "$(jq -r .duration_ms <<<"$a")"
    assert_eq root "$(jq -r .user <<<"$a")"
    assert_eq 0 "$(jq -r .exit <<<"$a")"
    assert_eq "true 0" "$(jq -r '"\(.trusted) \(.uid)"' <<<"$a")"
    assert_eq 1 "$(jq -c --argjson v "$vm" 'select(.vmid == $v and .result == "started")' \
        "$T/out" | grep -c .)"
}

real_template_clone_entries() {
    mknode
    SUDO_UID=0 SUDO_USER=root expect_rc 0 "$PVETMPL" make-template --name tmpl-j --storage dir-tmpl \
        100 9300
    SUDO_UID=0 SUDO_USER=root expect_rc 0 "$PVETMPL" clone --name web-j --storage dir-tmpl 9300 301
    SUDO_UID=0 SUDO_USER=root expect_rc 0 "$PVETMPL" template 301
    real_writer make-template 9300 tmpl-j dir-tmpl
    real_writer clone 301 web-j dir-tmpl
    real_writer template 301 web-j "<absent>"
    j=$(jsel PVETMPL_ACTION=make-template PVETMPL_VMID=9300 MESSAGE_ID=$ID_SUCCEEDED)
    assert_eq 100 "$(jfield "$j" PVETMPL_SOURCE_VMID)"
    j=$(jsel PVETMPL_ACTION=clone PVETMPL_VMID=301 MESSAGE_ID=$ID_SUCCEEDED)
    assert_eq 9300 "$(jfield "$j" PVETMPL_SOURCE_VMID)"
}

user_field() {
    mknode
    "$PVESIM" "$D" add-vm 3004 --name who --disk scsi0=local:8 >/dev/null
    # As root, SUDO_UID says who asked, by number (root's own here: the run
    # stays root's, with its config); SUDO_USER alone is never read.
    SUDO_UID=0 SUDO_USER=root expect_rc 0 "$PVETMPL" -n hook install 3004
    assert_eq root "$(jfield "$(jsel PVETMPL_VMID=3004 | tail -n 1)" PVETMPL_USER)"
    SUDO_USER=alice expect_rc 0 env -u SUDO_UID "$PVETMPL" -n hook install 3004
    u=$(jfield "$(jsel PVETMPL_VMID=3004 | tail -n 1)" PVETMPL_USER)
    [ -n "$u" ] && [ "$u" != alice ] && [ "$u" != "<absent>" ]
}

no_journal_still_acts() {
    mknode
    "$PVESIM" "$D" add-vm 3002 --name nj --disk scsi0=local:8 >/dev/null
    expect_rc 0 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec "$@"' sh \
        "$PVETMPL" hook install 3002
    assert_grep "^pvetmpl: warning: audit record 'hook-install started' not written: journal socket '/run/systemd/journal/socket' is not available" "$T/err"
    assert_grep "audit record 'hook-install succeeded' not written" "$T/err"
    run "$D/bin/qm" config 3002
    assert_grep "^hookscript: local:snippets/pvetmpl-hook" "$T/out"
    assert_eq 0 "$(jsel PVETMPL_VMID=3002 | wc -l)"
    # --json: the warning goes into the report instead.
    expect_rc 0 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec "$@"' sh \
        "$PVETMPL" --json hook remove 3002
    jq -e '.warnings | map(select(test("not written"))) | length == 2' "$T/out" >/dev/null
}

native_protocol() {
    # journal_sendv speaks journald's native protocol itself: a value with
    # newlines (length-prefixed form) and one too large for a datagram (a
    # sealed memfd) arrive whole.
    tag=native-$$-$RANDOM
    expect_rc 0 "$BUILD/tests/journal-send" "SYSLOG_IDENTIFIER=$tag" "MESSAGE=two
lines" "PVETMPL_ERROR=a=b
=c
" "PVETMPL_VMID=7"
    expect_rc 0 "$BUILD/tests/journal-send" "SYSLOG_IDENTIFIER=$tag" MESSAGE=big \
        --big PVETMPL_PLAN=1048576
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager --all -o json SYSLOG_IDENTIFIER=$tag >j
    assert_eq 2 "$(wc -l <j)" "entries"
    head -n 1 j >j1
    assert_eq "two
lines" "$(jq -r .MESSAGE j1)"
    assert_eq '"a=b\n=c\n"' "$(jq .PVETMPL_ERROR j1)"
    assert_eq 7 "$(jq -r .PVETMPL_VMID j1)"
    tail -n 1 j >j2
    assert_eq $((1048576 + 4)) "$(jq -r '.PVETMPL_PLAN | length' j2)" "size of the big field"
    assert_eq "xxx
end" "$(jq -r '.PVETMPL_PLAN[-7:]' j2)"
    # a field without a name is refused, nothing sent
    expect_rc 1 "$BUILD/tests/journal-send" "SYSLOG_IDENTIFIER=$tag" "=x"
    assert_grep "field 2 has no valid name" "$T/err"
}

stalled_journald() {
    # A real journald, private to this test (its own mount namespace through
    # with-journald.sh), SIGSTOPped with its socket queue full: every write
    # gives up after its bound, the run goes on with warnings, finishes and
    # leaves no lock held.
    mknode
    cat >fill.pl <<'PERL'
use strict;
use Socket;
use Fcntl;
socket(my $c, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
connect($c, pack_sockaddr_un("/run/systemd/journal/socket")) or die "connect: $!";
fcntl($c, F_SETFL, fcntl($c, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!";
my $n = 0;
$n++ while $n < 100000 && send($c, "MESSAGE=fill\n", 0);
die "the queue never filled: $!\n" if $n >= 100000 || !$!{EAGAIN};
PERL
    cat >inner.sh <<'SH'
set -u
j=$PVETMPL_TEST_JOURNALD_PID
trap 'kill -CONT $j' EXIT
kill -STOP $j
# stopped ('T' in /proc/PID/stat) before the queue is filled
until [ "$(sed 's/.*) //' /proc/$j/stat | cut -d' ' -f1)" = T ]; do sleep 0.01; done
perl fill.pl || exit 99
# journal_sendv's own report: the first write waits for its bound, the next
# one of the same process does not wait again
"$BUILD/tests/journal-send" --twice MESSAGE=probe 2>twice
timeout -k 5 30 "$@" # only a guard against a hang
echo "rc=$?" >result
# the run's NEWID lock and copy slot are free
flock -n run/vmid-9000.0.lock true && flock -n run/storage-local-lvm.0.lock true && echo free >locks
SH
    expect_rc 0 env -u _PVETMPL_IN_JNS BUILD="$BUILD" "$TOP/tests/with-journald.sh" bash inner.sh \
        "$PVETMPL" make-template 100 9000 --no-hook
    cat result
    assert_grep "^rc=0$" result
    assert_file_eq locks "free
"
    assert_grep "^pvetmpl: warning: audit record 'make-template started' not written: the journal write timed out after 3 s" "$T/err"
    # one bound per process: after the first timeout the later writes do not
    # wait again (as journal_sendv reports for each)
    assert_file_eq twice "journal-send: the journal write timed out after 3 s (journald stalled or overloaded)
journal-send: journald did not take it at once and is not waited for again (an earlier write timed out after 3 s: journald stalled or overloaded)
"
    "$D/bin/qm" config 9000 >conf
    assert_grep "^template: 1" conf
}

catalog_explains() {
    mknode
    "$PVESIM" "$D" add-vm 3003 --name cat --disk scsi0=local:8 >/dev/null
    expect_rc 69 "$PVETMPL" hook install 3003 --storage lvm-thick
    mkdir -p root/usr/lib/systemd/catalog root/var/lib/systemd/catalog
    cp "$TOP/conf/pvetmpl.catalog" root/usr/lib/systemd/catalog/
    journalctl --root="$T/root" --update-catalog
    journalctl --sync
    # Show it through a private catalog database: the host's stays untouched.
    # shellcheck disable=SC2016 # expanded by the inner sh
    expect_rc 0 unshare -m sh -c 'mount --bind "$1" /var/lib/systemd/catalog && shift &&
        exec journalctl -x --no-pager -D "$JOURNAL_DIR" "$@"' sh "$T/root/var/lib/systemd/catalog" \
        MESSAGE_ID=$ID_REFUSED PVETMPL_VMID=3003
    assert_grep "Subject: pvetmpl hook-install refused before it started" "$T/out"
    assert_grep "did not run the action hook-install on VM 3003" "$T/out"
    assert_grep "storage 'lvm-thick' \(type lvm\) is not file-based" "$T/out"
}

t_check "every action MESSAGE_ID and field, via journalctl and pvetmpl audit" \
    every_action_id_and_field
t_check "make-template, clone, template: the real writers' entries, both readers" \
    real_template_clone_entries
t_check "PVETMPL_USER: SUDO_UID's user as root, never SUDO_USER" user_field
t_check "no journal: the action proceeds, a warning says the record is missing" \
    no_journal_still_acts
t_check "journalctl -x explains an entry with the catalog" catalog_explains
t_check "native protocol: newlines and a 1 MiB field arrive whole" native_protocol
t_check "a stalled journald: each write gives up after 3 s, the run goes on and frees its locks" \
    stalled_journald
t_done
