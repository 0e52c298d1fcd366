#!/bin/bash
# What pvetmpl says: --json output that always parses (invalid UTF-8 from
# arguments, VM configs and journal fields), consistent JSON types, and the
# messages of issue 8 (the VM a refusal belongs to, one-sentence journal
# warnings, a long --storage, dry runs in the journal, the hook file in a
# make-template dry run, template's wording, the progress bar on a terminal).
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# strict_json FILE: FILE is one JSON document in valid UTF-8 (jq would
# accept invalid bytes; Python's strict decoder does not).
strict_json() {
    python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1"
}

# jsel MATCH...: this script's pvetmpl entries in the test journal, JSON lines.
jsel() {
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl "$@"
}

# The bytes every JSON test feeds in: Latin-1 é, a stray 0xFF, a UTF-16
# surrogate, an overlong NUL, a cut-off sequence, control characters.
BAD=$'caf\xe9 \xff \xed\xa0\x80 \xc0\x80 \xe2\x82 \x01\x1f end'
# ... and what each becomes (U+FFFD per maximal subpart; controls kept, escaped)
GOOD=$'caf\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd \x01\x1f end'

t_json_invalid_utf8_argument() {
    sim_setup
    # --description goes verbatim into the planned qm argv, and so into "commands"
    expect_rc 0 "$PVETMPL" --json -n make-template 100 22000 --description "$BAD"
    strict_json "$T/out"
    assert_eq "$GOOD" "$(jq -r '.commands[0][-1]' "$T/out")"
    # the same on failure: the error detail quotes the argument
    expect_rc 64 "$PVETMPL" --json make-template 100 22000 --storage "$BAD"
    strict_json "$T/out"
    assert_eq usage "$(json_get .error.class)"
}

t_json_invalid_utf8_from_node() {
    sim_setup
    # a hookscript volid and a qm error line with bytes that are not UTF-8
    "$PVESIM" "$S" add-vm 22001 --name odd --disk scsi0=local-lvm:1 \
        --hookscript $'local:snippets/h\xff\xfe' >/dev/null
    expect_rc 0 "$PVETMPL" --json hook status 22001
    strict_json "$T/out"
    assert_eq $'local:snippets/h\xef\xbf\xbd\xef\xbf\xbd' "$(json_get '.vms[0].hookscript')"
    expect_rc 69 "$PVETMPL" --json hook install 22001
    strict_json "$T/out"
    assert_grep $'snippets/h\xef\xbf\xbd\xef\xbf\xbd' <(json_get .msg)
}

t_json_invalid_utf8_audit() {
    # a journal field with such bytes (any local user can write one)
    printf '%s\n' "MESSAGE=x" MESSAGE_ID=e6110781a22e4187ad41bbb786685409 SYSLOG_IDENTIFIER=pvetmpl \
        PVETMPL_ACTION=clone PVETMPL_RESULT=started PVETMPL_VMID=22002 "PVETMPL_NAME=$BAD" \
        "PVETMPL_USER=$BAD" | logger --journald
    journalctl --sync
    : >"$T/empty.conf"
    PVETMPL_CONFIG=$T/empty.conf expect_rc 0 "$PVETMPL" audit --json --vmid 22002
    strict_json "$T/out" # one event: one JSON document, whichever shape audit gives it
    assert_eq "$GOOD" "$(json_get '[.. | objects | select(.vmid? == 22002)][0].name')"
    assert_eq "$GOOD" "$(json_get '[.. | objects | select(.vmid? == 22002)][0].user')"
}

t_json_types() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json storages
    jq -e '.storages | length > 0 and all(
        (.images | type == "boolean") and (.templates | type == "boolean") and
        (.clones | type == "boolean") and (.total_kib | type == "number") and
        (.avail_kib | type == "number"))' "$T/out" >/dev/null
    assert_eq true "$(json_get '.storages[] | select(.storage == "local-lvm") | .templates')"
    assert_eq false "$(json_get '.storages[] | select(.storage == "lvm-thick") | .templates')"
    assert_eq false "$(json_get '.storages[] | select(.storage == "iscsi-san") | .templates')"
    # the table still says it in words
    expect_rc 0 "$PVETMPL" storages
    assert_grep "^local-lvm +lvmthin +active +[0-9.]+[KMGT] +[0-9.]+[KMGT] +yes +yes +yes$" "$T/out"
    expect_rc 0 "$PVETMPL" --json hook install 100
    jq -e '(.vmid | type == "number") and (.hook_file.changed | type == "boolean") and
        (.vms[0].vmid | type == "number")' "$T/out" >/dev/null
    expect_rc 0 "$PVETMPL" --json hook status 100
    jq -e '(.vms[0].ours | type == "boolean") and
        (.vms[0].policy.refuse_all | type == "boolean")' "$T/out" >/dev/null
}

# hook install with a VM that does not exist: 69, as check/template say it,
# and refused under that VM, not the first one named.
t_hook_install_missing_vm() {
    sim_setup
    "$PVESIM" "$S" add-vm 22010 --disk scsi0=local-lvm:1 >/dev/null
    expect_rc 69 "$PVETMPL" hook install 22010 22019
    assert_grep "qm config 22019.*no such VM on this node" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
    expect_rc 69 "$PVETMPL" hook remove 22019
    expect_rc 69 "$PVETMPL" hook status 22019
}
# ... and journalled as refused under the missing VM (needs the private journald).
t_hook_install_missing_vm_journal() {
    t_hook_install_missing_vm
    assert_eq "" "$(jsel PVETMPL_VMID=22010)" "nothing recorded under 22010"
    j=$(jsel PVETMPL_VMID=22019 PVETMPL_ACTION=hook-install)
    assert_eq 1 "$(grep -c . <<<"$j")" "one refusal under 22019"
    assert_eq refused "$(jq -r .PVETMPL_RESULT <<<"$j")"
    assert_eq 69 "$(jq -r .PVETMPL_EXIT <<<"$j")"
}

# No journal: each unwritten record is one warning sentence, said once.
t_audit_warning_wording() {
    sim_setup
    expect_rc 0 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec "$@"' sh \
        "$PVETMPL" make-template 100 22020 --no-hook
    assert_grep "^pvetmpl: warning: audit record 'make-template started' not written: journal socket '/run/systemd/journal/socket' is not available" "$T/err"
    assert_no_grep "not written.*not written" "$T/err"
    assert_no_grep "the audit record was not written" "$T/err"
}

# A --storage too long for a volume ID is the argument's fault: 64, before
# anything runs, naming --storage.
t_long_storage() {
    sim_setup
    long=$(printf 'a%.0s' $(seq 1 600))
    expect_rc 64 "$PVETMPL" hook install 100 --storage "$long"
    assert_grep "^pvetmpl: error: --storage 'a{64}\.\.\.' is too long \(600 characters\)" "$T/err"
    assert_no_grep "hook_name" "$T/err"
    assert_eq 1 "$(grep -c . "$T/err")" "one message line"
    assert_eq 0 "$(sim_calls)" "qm/pvesm calls"
    expect_rc 64 "$PVETMPL" --json hook install 100 --storage "$long"
    assert_eq usage "$(json_get .error.class)"
}

# A dry run is journalled as a dry run, with its outcome, however it ends.
t_dry_run_journalled() {
    sim_setup
    "$PVESIM" "$S" add-vm 22030 --disk scsi0=local-lvm:1 --status running >/dev/null
    "$PVESIM" "$S" add-vm 22031 --disk scsi0=local-lvm:1 >/dev/null
    # refused by a check
    expect_rc 69 "$PVETMPL" -n template 22030
    # failed: qm status prints garbage, so the preflight itself fails (65)
    sim_knob PVESIM_FAULT=garbage
    sim_knob "PVESIM_FAULT_CMD=qm status"
    expect_rc 65 "$PVETMPL" -n make-template 22031 22039
    "$PVESIM" "$S" knob --clear
    # hook install refused for a missing VM
    expect_rc 69 "$PVETMPL" -n hook install 22031 22038
    # a whole plan
    expect_rc 0 "$PVETMPL" -n template 22031
    for vm in 22030 22039 22038 22031; do
        j=$(jsel PVETMPL_VMID=$vm)
        assert_eq "" "$(jq -r 'select(.PVETMPL_RESULT != "dry-run") | .MESSAGE' <<<"$j")" \
            "VM $vm: only dry-run records"
    done
    j=$(jsel PVETMPL_VMID=22030)
    assert_eq "template dry-run 69" "$(jq -r '[.PVETMPL_ACTION, .PVETMPL_RESULT, .PVETMPL_EXIT] | join(" ")' <<<"$j")"
    assert_grep "is running; stop it first" <(jq -r .PVETMPL_ERROR <<<"$j")
    j=$(jsel PVETMPL_VMID=22039)
    assert_eq "make-template dry-run 65" "$(jq -r '[.PVETMPL_ACTION, .PVETMPL_RESULT, .PVETMPL_EXIT] | join(" ")' <<<"$j")"
    j=$(jsel PVETMPL_VMID=22038)
    assert_eq "hook-install dry-run 69" "$(jq -r '[.PVETMPL_ACTION, .PVETMPL_RESULT, .PVETMPL_EXIT] | join(" ")' <<<"$j")"
    j=$(jsel PVETMPL_VMID=22031 PVETMPL_ACTION=template)
    assert_eq "dry-run 0 null" "$(jq -r '[.PVETMPL_RESULT, .PVETMPL_EXIT, .PVETMPL_ERROR] | map(tostring) | join(" ")' <<<"$j")"
    assert_eq 0 "$(sim_mutating_calls)"
}

# -n make-template plans the hook as -n hook install does: the file write too.
t_dry_run_hook_file() {
    sim_setup
    snip=$S/var/lib/vz/snippets/pvetmpl-hook
    # the whole plan on stdout, the file write before the qm set that needs it
    expect_rc 0 "$PVETMPL" -n hook install 100
    assert_eq "would write '$snip' (local:snippets/pvetmpl-hook) from '$BUILD/pvetmpl-hook'
would run: $S/bin/qm set 100 --hookscript local:snippets/pvetmpl-hook" "$(head -n 2 "$T/out")"
    assert_no_grep "would" "$T/err"
    expect_rc 0 "$PVETMPL" -n make-template 100 22040
    assert_grep "^would write '$snip' \(local:snippets/pvetmpl-hook\)" "$T/out"
    assert_no_grep "would write" "$T/err"
    assert_grep "^would run: .*qm set 22040 --hookscript local:snippets/pvetmpl-hook$" "$T/out"
    [ "$(grep -n "^would write" "$T/out" | cut -d: -f1)" -lt "$(grep -n "qm set 22040" "$T/out" | cut -d: -f1)" ]
    expect_rc 0 "$PVETMPL" --json -n make-template 100 22040
    assert_eq true "$(json_get .hook_file.changed)"
    assert_eq local:snippets/pvetmpl-hook "$(json_get .hook_file.volid)"
    [ ! -e "$snip" ]
    assert_eq 0 "$(sim_mutating_calls)"
}

t_template_wording() {
    sim_setup
    "$PVESIM" "$S" add-vm 22050 --disk scsi0=local-lvm:1 --status running >/dev/null
    expect_rc 69 "$PVETMPL" template 22050
    assert_grep "VM 22050 is running; stop it first \(qm template converts only a powered-off VM\)" "$T/err"
    assert_no_grep "cop(y|ies)" "$T/err"
    # make-template does copy
    expect_rc 69 "$PVETMPL" make-template 22050 22051
    assert_grep "the procedure copies a powered-off VM" "$T/err"
}

# The progress bar on a terminal COLS wide: every state of the line is a
# whole bar line (nothing of a longer one left behind: "32.0 GiBiB"), and
# none is wider than the terminal.
progress_on_pty() { # COLS BAR-REGEX
    local cols=$1 re=$2
    sim_setup
    cat >onpty.py <<'PY'
# onpty.py COLS CMD...: runs CMD with its stderr on a pseudo-terminal COLS
# wide (stdin and stdout as given), replays what it drew there as a terminal
# shows it (\r, \n, ESC[K; a line is never wrapped here, so one that went
# past COLS shows as longer), and prints every state a screen line was in
# just before a \r or \n moved the cursor off it. Exit: CMD's exit status.
import fcntl, os, pty, struct, sys, termios
cols = int(sys.argv[1])
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
attr = termios.tcgetattr(slave)
attr[1] &= ~termios.OPOST  # no \n -> \r\n: the bytes as pvetmpl wrote them
termios.tcsetattr(slave, termios.TCSANOW, attr)
pid = os.fork()
if pid == 0:
    os.close(master)
    os.dup2(slave, 2)
    os.close(slave)
    os.execvp(sys.argv[2], sys.argv[2:])
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the last writer closed its side
        break
    if not chunk:
        break
    data += chunk
_, status = os.waitpid(pid, 0)
text = data.decode("utf-8", "replace")
screen, cur, i = [], 0, 0
while i < len(text):
    if text.startswith("\x1b[K", i):
        del screen[cur:]
        i += 3
        continue
    ch = text[i]
    if ch in "\r\n":
        print("".join(screen))
        if ch == "\n":
            screen = []
        cur = 0
    elif cur < len(screen):
        screen[cur] = ch
        cur += 1
    else:
        screen.append(ch)
        cur += 1
    i += 1
sys.exit(os.waitstatus_to_exitcode(status))
PY
    # 32 GiB at 32 GiB/s: one second, a line per percent
    sim_knob PVESIM_COPY_MIBPS=32768
    run python3 onpty.py "$cols" "$PVETMPL" make-template 100 22060 --no-hook
    assert_eq 0 "$RC" "exit status (stderr: $(cat "$T/err"))"
    grep -E '^scsi0 ' "$T/out" >bars
    [ "$(grep -c . bars)" -ge 50 ] || { echo "too few bar states:"; cat "$T/out"; return 1; }
    # a longer line was followed by a shorter one ("983.0 MiB", then "1.3 GiB")
    grep -qE ' 983\.0 MiB ' bars
    grep -qE ' 1\.3 GiB ' bars
    if grep -vE "$re" bars >stale; then
        echo "bar lines with stale or missing characters:"
        head -n 5 stale
        return 1
    fi
    awk -v c="$cols" 'length($0) >= c { print "wider than " c - 1 ": " $0; bad = 1 } END { exit bad }' bars
}
t_progress_wide() {
    progress_on_pty 50 '^scsi0    \[[#-]{7}\] +[0-9]+\.[0-9]{2}% [0-9]+\.[0-9] (B|KiB|MiB|GiB) of 32\.0 GiB$'
}
t_progress_narrow() {
    # no room for a bar: the numbers, cut at 29 columns
    progress_on_pty 30 '^scsi0    +[0-9]+\.[0-9]{2}% [0-9]+\.[0-9] (B|KiB|MiB|GiB)( of( [0-9.]*)?)?$'
}

t_check "--json: invalid UTF-8 in an argument becomes U+FFFD, the output parses" t_json_invalid_utf8_argument
t_check "--json: invalid UTF-8 in a VM config and qm's error parses" t_json_invalid_utf8_from_node
if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
    t_check "audit --json: invalid UTF-8 in journal fields parses" t_json_invalid_utf8_audit
    t_check "a dry run is journalled as dry-run with its outcome, refused or failed" t_dry_run_journalled
else
    t_skip "audit --json: invalid UTF-8 in journal fields parses" "no private journald"
    t_skip "a dry run is journalled as dry-run with its outcome, refused or failed" "no private journald"
fi
t_check "--json types: storages' templates a bool like images, numbers as numbers" t_json_types
# (the journal is shared by the whole script: the refusal is made once)
if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
    t_check "hook install 100 MISSING: 69, journalled as refused under the missing VM" t_hook_install_missing_vm_journal
else
    t_check "hook install 100 MISSING: 69" t_hook_install_missing_vm
    t_skip "hook install 100 MISSING: journalled as refused under the missing VM" "no private journald"
fi
t_check "an unwritten audit record: one warning sentence" t_audit_warning_wording
t_check "hook install --storage too long: 64 naming --storage, nothing run" t_long_storage
t_check "-n make-template and -n hook install: the hook file write on stdout, in the plan" t_dry_run_hook_file
t_check "template of a running VM speaks of converting, not copying" t_template_wording
t_check "progress bar: no stale characters, never wider than the terminal" t_progress_wide
t_check "progress bar on a narrow terminal: numbers only, cut to fit" t_progress_narrow
t_done
