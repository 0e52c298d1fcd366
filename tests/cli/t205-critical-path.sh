#!/bin/bash
# make-template's critical path (issue 11): which qm/pvesm calls it makes and
# in what order, read from the simulated node's calls.log. Each call costs a
# real qm's start-up (about 0.5 s): preflight asks pvesm once, and registering
# the hook after the clone reuses its answers; every change is still read back.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# The calls of the last run, one per line: argv without the binaries' paths.
calls() {
    perl -MJSON::PP -ne 'my $a = decode_json($_)->{argv}; print join(" ", @$a), "\n"' \
        "$S/calls.log" >"$T/calls"
}

# Line number of the first call matching the extended regex PATTERN (0: none).
first() {
    local n
    n=$(grep -nE -- "$1" "$T/calls" | head -n1 | cut -d: -f1)
    echo "${n:-0}"
}

t_hook_reuses_preflight() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    calls
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    # one pvesm status (preflight's), none again to register the hook
    assert_eq 1 "$(grep -cx 'pvesm status' "$T/calls")" "pvesm status calls"
    assert_eq 1 "$(grep -c '^pvesm path local:snippets/pvetmpl-hook$' "$T/calls")" "pvesm path calls"
    local path clone set tmpl
    path=$(first '^pvesm path ')
    clone=$(first '^qm clone 100 9000')
    set=$(first '^qm set 9000 --hookscript')
    tmpl=$(first '^qm template 9000')
    [ "$path" -lt "$clone" ] || {
        echo "pvesm path ($path) not asked before qm clone ($clone)"
        return 1
    }
    # the copy's hookscript is known (qm clone copies the source's): no read
    # of 9000 between the clone and qm set; one read-back after qm template
    # confirms both the hookscript and the template
    assert_eq $((clone + 1)) "$set" "qm set right after qm clone"
    assert_eq $((set + 1)) "$tmpl" "qm template right after qm set"
    assert_eq "qm config 9000 --current" "$(sed -n "$((tmpl + 1))p" "$T/calls")" "read-back after qm template"
    assert_eq $((tmpl + 1)) "$(wc -l <"$T/calls")" "nothing after the read-back"
    assert_eq 1 "$(grep -cx 'qm config 9000 --current' "$T/calls")" "read-backs of 9000"
    assert_grep "VM 9000: hookscript set to local:snippets/pvetmpl-hook" "$T/err"
}

# qm set exiting 0 without effect: the one read-back after qm template finds
# the template complete and the hookscript missing, and says so with what
# resumes it; the hook-install journal record is "failed".
t_hook_missing_after_template() {
    sim_setup
    sim_knob PVESIM_FAULT=garbage
    sim_knob "PVESIM_FAULT_CMD=qm set"
    journal_mark
    expect_rc 1 "$PVETMPL" make-template 100 9000 --name t9000
    calls
    assert_grep "template 9000 was made from VM 100, but registering the hookscript failed: 'qm set 9000 --hookscript' exited 0, but the config of VM 9000 reads back no hookscript, not 'hookscript: local:snippets/pvetmpl-hook'; resume with 'pvetmpl hook install 9000'$" "$T/err"
    assert_grep '^template: 1$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    assert_no_grep '^hookscript:' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    assert_eq 1 "$(grep -cx 'qm config 9000 --current' "$T/calls")" "read-backs of 9000"
    journalctl --sync
    journal_since -o json PVETMPL_VMID=9000 PVETMPL_ACTION=hook-install >"$T/j"
    jq -r .PVETMPL_RESULT <"$T/j" >"$T/results"
    assert_file_eq "$T/results" "started
failed
"
    "$PVESIM" "$S" knob --clear
    expect_rc 0 "$PVETMPL" hook install 9000
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
}

# A source that has pvetmpl's hookscript already: the copy has it too, which
# is read from the copy's config (not assumed), so no qm set is needed.
t_own_hook_read_not_assumed() {
    sim_setup
    expect_rc 0 "$PVETMPL" hook install 100
    : >"$S/calls.log"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    calls
    assert_grep "VM 9000 already has the hookscript local:snippets/pvetmpl-hook" "$T/err"
    assert_eq 0 "$(grep -c '^qm set' "$T/calls" || true)" "qm set calls"
    local clone
    clone=$(first '^qm clone 100 9000')
    assert_eq "qm config 9000 --current" "$(sed -n "$((clone + 1))p" "$T/calls")" "the copy's config read"
}

# A foreign hookscript replaced (--replace-hook): known from preflight, the
# replacement is named and read back.
t_replace_hook_known() {
    sim_setup
    printf '#!/bin/sh\nexit 0\n' >"$S/var/lib/vz/snippets/gpu-passthrough.pl"
    chmod 755 "$S/var/lib/vz/snippets/gpu-passthrough.pl"
    sim_qm set 100 --hookscript local:snippets/gpu-passthrough.pl >/dev/null
    : >"$S/calls.log"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000 --replace-hook
    calls
    assert_grep "VM 9000 had the hookscript 'local:snippets/gpu-passthrough.pl', replacing it" "$T/err"
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    local set
    set=$(first '^qm set 9000 --hookscript')
    assert_eq "$(($(first '^qm clone 100 9000') + 1))" "$set" "qm set right after qm clone"
}

# Only a make-template that writes the hook asks for the hook's path: not
# check, not --no-hook; a dry run asks once, with preflight's queries, to plan
# the file write.
t_path_only_when_written() {
    sim_setup
    expect_rc 0 "$PVETMPL" check 100
    expect_rc 0 "$PVETMPL" make-template 100 9001 --no-hook
    calls
    assert_eq 0 "$(grep -c '^pvesm path' "$T/calls" || true)" "pvesm path calls"
    : >"$S/calls.log"
    expect_rc 0 "$PVETMPL" -n make-template 100 9000
    calls
    assert_eq 1 "$(grep -c '^pvesm path' "$T/calls" || true)" "pvesm path calls of a dry run"
    cat "$T/out" "$T/err" >"$T/both"
    assert_grep "would write .*pvetmpl-hook" "$T/both"
}


# spy_setup: qm becomes $T/spy/qm, which records in $T/spy.log what the
# calls below need and runs the simulated qm. `qm status 100` and `qm config
# 100 --current` meet at a barrier: each waits (at most 5 s, then logs
# "alone") until the other has started as often as itself, so a pair run one
# after the other shows "alone". At `qm set 9000`/`qm template 9000` it logs
# whether local-lvm's copy slot and NEWID 9000's lock are held.
spy_setup() {
    mkdir -p "$T/spy"
    cat >"$T/spy/qm" <<SPY
#!/bin/sh
log=$T/spy.log
case "\$*" in
"status 100" | "config 100 --current")
    echo "start \$*" >>"\$log"
    i=0
    while [ "\$(grep -c '^start status 100\$' "\$log")" != "\$(grep -c '^start config 100 --current\$' "\$log")" ]; do
        i=\$((i + 1))
        if [ \$i -ge 100 ]; then
            echo "alone \$*" >>"\$log"
            break
        fi
        sleep 0.05
    done
    ;;
"set 9000 "* | "template 9000")
    if flock -n "$T/run/storage-local-lvm.0.lock" true; then s=free; else s=held; fi
    if flock -n "$T/run/vmid-9000.0.lock" true; then n=free; else n=held; fi
    echo "at \$1: slot \$s, newid \$n" >>"\$log"
    # a qm set that exits 0 without effect, with a qm template that fails
    if [ "\$1" = set ] && [ -e "$T/spy-set-noop" ]; then
        exit 0
    fi
    ;;
esac
exec "$S/bin/qm" "\$@"
SPY
    chmod 755 "$T/spy/qm"
    sed -i "s|^qm = .*|qm = \"$T/spy/qm\"|" "$PVETMPL_CONFIG"
    : >"$T/spy.log"
}

# A run that got its copy slot at once re-reads nothing of the source:
# preflight has just read it (issue 11). Only preflight asks qm status.
t_no_recheck_without_wait() {
    sim_setup
    spy_setup
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    calls
    assert_eq 1 "$(grep -cx 'qm status 100' "$T/calls")" "qm status 100 calls"
    assert_eq 1 "$(grep -cx 'qm config 100 --current' "$T/calls")" "qm config 100 --current calls"
    assert_eq "qm clone 100 9000 --full 1 --name t9000" \
        "$(sed -n "$(first '^qm clone ')p" "$T/calls" | sed 's/ --pool.*//')" "the clone"
}

# A run that waited for its copy slot reads the source again before qm clone,
# both queries at once (they meet at the spy's barrier, none runs alone).
t_recheck_after_wait_concurrent() {
    sim_setup
    spy_setup
    hold_lock "$T/run/storage-local-lvm.0.lock"
    "$PVETMPL" --no-progress make-template 100 9000 --name t9000 >"$T/out" 2>"$T/err" &
    local pid=$! rc=0
    wait_for_grep "waiting for a copy slot" "$T/err"
    release_lock
    wait "$pid" || rc=$?
    assert_eq 0 "$rc" "make-template's exit status"
    calls
    assert_eq 2 "$(grep -cx 'qm status 100' "$T/calls")" "qm status 100 calls"
    assert_eq 2 "$(grep -cx 'qm config 100 --current' "$T/calls")" "qm config 100 --current calls"
    local clone
    clone=$(first '^qm clone 100 9000')
    sed -n "1,$((clone - 1))p" "$T/calls" | tail -n 2 | sort >"$T/recheck"
    assert_file_eq "$T/recheck" "qm config 100 --current
qm status 100
"
    assert_no_grep '^alone' "$T/spy.log"
    assert_eq 4 "$(grep -c '^start ' "$T/spy.log")" "barrier entries"
}

# The copy slot is given back once the copy is confirmed: hook registration
# and conversion run without it, NEWID's lock held to the end (issue 11).
t_slot_released_after_copy() {
    sim_setup
    spy_setup
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    assert_grep '^at set: slot free, newid held$' "$T/spy.log"
    assert_grep '^at template: slot free, newid held$' "$T/spy.log"
}

# Peak RSS (issue 11): the caller's groups are asked of NSS only when a grant
# names a group. getgrouplist loads every module nsswitch.conf lists for
# groups (libnss_systemd and what it links: about 0.5 MiB); a private
# nsswitch.conf (mount namespace) lists glibc's own compat module, and
# LD_DEBUG=files shows whether pvetmpl loaded it (its children get a clean
# environment, so the lines are pvetmpl's own).
nss_loads() {
    printf 'passwd: files\ngroup: files compat\ninitgroups: files compat\n' >"$T/nsswitch.conf"
    LD_DEBUG=files unshare -m sh -c 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"' \
        "$T/nsswitch.conf" "$PVETMPL" "$@" >"$T/out" 2>"$T/err" || true
    grep -c 'file=libnss_compat' "$T/err" || true
}

t_groups_only_when_named() {
    sim_setup
    assert_eq 0 "$(nss_loads check 100)" "NSS modules loaded without a grant naming a group"
    assert_grep '^VM 100' "$T/out"
    echo 'grant bygroup { groups = {root} actions = {check} source_vmids = {100} }' >>"$PVETMPL_CONFIG"
    [ "$(nss_loads check 100)" -ge 1 ] || {
        echo "the grant naming a group did not make pvetmpl ask NSS for the groups"
        cat "$T/err"
        return 1
    }
}

# The conversion fails (a lock timeout, no retries) after qm set: the same
# read-back still confirms the hookscript (journalled "succeeded") and the
# message resumes with 'pvetmpl template' only.
t_convert_fails_hook_confirmed() {
    sim_setup
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=template
    sim_knob PVESIM_FAULT_COUNT=1
    journal_mark
    expect_rc 75 "$PVETMPL" make-template 100 9000 --name t9000
    assert_grep "VM 9000 was cloned from 100, but converting it to a template failed: .*; resume with 'pvetmpl template 9000'$" "$T/err"
    assert_no_grep "hook install" "$T/err"
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    journalctl --sync
    journal_since -o json PVETMPL_VMID=9000 PVETMPL_ACTION=hook-install >"$T/j"
    jq -r .PVETMPL_RESULT <"$T/j" >"$T/results"
    assert_file_eq "$T/results" "started
succeeded
"
}

# Both fail: qm set exits 0 without effect (the spy swallows it) and the
# conversion times out on a lock. The one read-back names both, and both
# commands that resume.
t_convert_fails_hook_missing() {
    sim_setup
    spy_setup
    : >"$T/spy-set-noop"
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=template
    sim_knob PVESIM_FAULT_COUNT=1
    expect_rc 75 "$PVETMPL" make-template 100 9000 --name t9000
    assert_grep "VM 9000 was cloned from 100, but converting it to a template failed: .*; the hookscript set is not confirmed either \('qm set 9000 --hookscript' exited 0, but the config of VM 9000 reads back no hookscript, not 'hookscript: local:snippets/pvetmpl-hook'\); resume with 'pvetmpl hook install 9000' and 'pvetmpl template 9000'$" "$T/err"
    assert_no_grep '^hookscript:' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
}

t_check "make-template: the hook is registered with preflight's pvesm answers, no re-read before qm set" t_hook_reuses_preflight
t_check "make-template: a hookscript that did not take is found by the one read-back after qm template" t_hook_missing_after_template
t_check "make-template: a failed conversion still confirms the hookscript in its read-back" t_convert_fails_hook_confirmed
t_check "make-template: a failed conversion and a hookscript that did not take are named together" t_convert_fails_hook_missing
t_check "make-template: pvetmpl's own hookscript on SRC is read from the copy, not assumed" t_own_hook_read_not_assumed
t_check "make-template --replace-hook: the foreign hookscript known from preflight is replaced and read back" t_replace_hook_known
t_check "pvesm path is asked only when make-template writes or plans the hook" t_path_only_when_written
t_check "make-template: no re-check of the source when the copy slot was free at once" t_no_recheck_without_wait
t_check "make-template: after a copy-slot wait the source is re-read, both queries at once" t_recheck_after_wait_concurrent
t_check "make-template: the copy slot is released once the copy exists, NEWID's lock kept" t_slot_released_after_copy
t_check "peak RSS: NSS is asked for the caller's groups only when a grant names a group" t_groups_only_when_named
t_done
