#!/bin/bash
# Living with hooks and storages on the simulated node: `hook status` without
# VMID (every VM of this node with a hookscript, from the config files, no qm
# per VM), `hook update` after a package upgrade (journalled, dry run,
# idempotent), the storages table's capacity, and "did you mean" for a
# mistyped storage or node.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

if [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    t_skip "hook status/update, storages" "needs the test journald (run tests/run.sh as root)"
    t_done
    exit
fi
if [ ! -x "$PVESIM" ] || [ ! -x "$PVETMPL" ]; then
    t_skip "hook status/update, storages" "tests/pvesim/pvesim or build/pvetmpl is missing"
    t_done
    exit
fi

# jcount MATCH...: our journal entries matching.
jcount() {
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl "$@" | wc -l
}

# A node whose VMs take pvetmpl's hook from three storages: 'local' holds
# the current binary, 'old' the binary of an earlier package (outdated),
# 'gone' none at all (missing); 3504 has a hookscript of its own, 3505 none,
# 3506 is on the other node.
hooked_node() {
    sim_setup --other-node pve2
    D=$S
    SNIP=$D/var/lib/vz/snippets
    mkdir -p "$SNIP" "$D/mnt/old/snippets" "$D/mnt/gone"
    "$PVESIM" "$D" add-storage dir old path="$D/mnt/old" content=snippets >/dev/null
    "$PVESIM" "$D" add-storage dir gone path="$D/mnt/gone" content=snippets >/dev/null
    install -m 0755 "$PVETMPL_HOOK" "$SNIP/pvetmpl-hook"
    printf '#!/bin/sh\n# pvetmpl-hook of an earlier release\nexit 0\n' >"$D/mnt/old/snippets/pvetmpl-hook"
    chmod 0755 "$D/mnt/old/snippets/pvetmpl-hook"
    printf '#!/bin/sh\nexit 0\n' >"$SNIP/gpu.sh"
    chmod 0755 "$SNIP/gpu.sh"
    "$PVESIM" "$D" add-vm 3501 --name cur --disk scsi0=local:8 \
        --hookscript local:snippets/pvetmpl-hook >/dev/null
    "$PVESIM" "$D" add-vm 3502 --name old --disk scsi0=local:8 \
        --hookscript old:snippets/pvetmpl-hook >/dev/null
    "$PVESIM" "$D" add-vm 3503 --name old2 --disk scsi0=local:8 \
        --hookscript old:snippets/pvetmpl-hook >/dev/null
    "$PVESIM" "$D" add-vm 3504 --name gpu --disk scsi0=local:8 \
        --hookscript local:snippets/gpu.sh >/dev/null
    "$PVESIM" "$D" add-vm 3505 --name plain --disk scsi0=local:8 >/dev/null
    "$PVESIM" "$D" add-vm 3506 --node pve2 --name far --disk scsi0=local:8 \
        --hookscript local:snippets/pvetmpl-hook >/dev/null
    "$PVESIM" "$D" add-vm 3507 --name lost --disk scsi0=local:8 \
        --hookscript gone:snippets/pvetmpl-hook >/dev/null
}

status_of_the_node() {
    hooked_node
    : >"$D/calls.log"
    expect_rc 0 "$PVETMPL" --json hook status
    assert_eq "3501 installed true;3502 outdated true;3503 outdated true;3504 foreign false;3507 missing true" \
        "$(jq -r '[.vms[] | "\(.vmid) \(.state) \(.ours)"] | join(";")' "$T/out")"
    # The VMs come from their config files: no qm process per VM (one
    # pvesm path per hook file).
    assert_no_grep '"qm"' "$D/calls.log"
    assert_eq 4 "$(grep -c '"pvesm","path"' "$D/calls.log")"
    expect_rc 0 "$PVETMPL" hook status
    assert_eq "VMID       HOOK     STATE           HOOKSCRIPT" "$(head -n 1 "$T/out")"
    assert_grep "^3501 +pvetmpl +current +local:snippets/pvetmpl-hook +config " "$T/out"
    assert_grep "^3502 +pvetmpl +outdated +old:snippets/pvetmpl-hook +config " "$T/out"
    assert_grep "^3504 +foreign +- +local:snippets/gpu.sh$" "$T/out"
    assert_grep "^3507 +pvetmpl +missing binary +gone:snippets/pvetmpl-hook" "$T/out"
    assert_no_grep "^350[56] " "$T/out"
    assert_grep "^5 VMs on node 'pve' with a hookscript: 1 pvetmpl's current, 3 outdated or missing, 1 foreign; run 'pvetmpl hook update'$" "$T/out"
}

update_after_upgrade() {
    hooked_node
    # the test journald is shared by every script of a run: count what this
    # test adds
    local dry ok old_sum
    dry=$(jcount PVETMPL_ACTION=hook-file PVETMPL_RESULT=dry-run)
    ok=$(jcount PVETMPL_ACTION=hook-file PVETMPL_RESULT=succeeded)
    old_sum=$(md5sum <"$D/mnt/old/snippets/pvetmpl-hook")
    # The dry run plans both files and writes nothing.
    expect_rc 0 "$PVETMPL" -n --json hook update
    assert_eq "gone:true local:false old:true" \
        "$(jq -r '[.files[] | "\(.storage):\(.changed)"] | sort | join(" ")' "$T/out")"
    assert_eq false "$(jq -r .changed "$T/out")"
    assert_eq "$old_sum" "$(md5sum <"$D/mnt/old/snippets/pvetmpl-hook")"
    [ ! -e "$D/mnt/gone/snippets/pvetmpl-hook" ]
    assert_eq $((dry + 2)) "$(jcount PVETMPL_ACTION=hook-file PVETMPL_RESULT=dry-run)"
    # The real one: both written, journalled, no VM config touched.
    : >"$D/calls.log"
    expect_rc 0 "$PVETMPL" --json hook update
    assert_eq true "$(jq -r .changed "$T/out")"
    assert_eq "hook update: 2 of 3 hook files written" "$(jq -r .msg "$T/out")"
    cmp "$PVETMPL_HOOK" "$D/mnt/old/snippets/pvetmpl-hook"
    cmp "$PVETMPL_HOOK" "$D/mnt/gone/snippets/pvetmpl-hook"
    assert_eq 755 "$(stat -c %a "$D/mnt/gone/snippets/pvetmpl-hook")"
    assert_eq $((ok + 2)) "$(jcount PVETMPL_ACTION=hook-file PVETMPL_RESULT=succeeded)"
    assert_no_grep '"qm"' "$D/calls.log"
    expect_rc 0 "$PVETMPL" --json hook status
    assert_eq "installed installed installed foreign installed" \
        "$(jq -r '[.vms[].state] | join(" ")' "$T/out")"
    # Nothing left to do: exit 0, changed false, no file rewritten.
    local ino
    ino=$(stat -c %i "$D/mnt/old/snippets/pvetmpl-hook")
    expect_rc 0 "$PVETMPL" --json hook update
    assert_eq false "$(jq -r .changed "$T/out")"
    assert_eq "hook update: 0 of 3 hook files outdated: nothing to do" "$(jq -r .msg "$T/out")"
    assert_eq "$ino" "$(stat -c %i "$D/mnt/old/snippets/pvetmpl-hook")"
    assert_eq $((ok + 2)) "$(jcount PVETMPL_ACTION=hook-file PVETMPL_RESULT=succeeded)"
}

update_edge_cases() {
    sim_setup
    D=$S
    "$PVESIM" "$D" add-vm 3510 --name plain --disk scsi0=local:8 >/dev/null
    # No VM with pvetmpl's hook: nothing to do, not an error.
    expect_rc 0 "$PVETMPL" --json hook update
    assert_eq false "$(jq -r .changed "$T/out")"
    assert_eq "hook update: no VM on this node has pvetmpl's hookscript" "$(jq -r .msg "$T/out")"
    expect_rc 0 "$PVETMPL" hook status
    assert_eq "no VM on node 'pve' has a hookscript" "$(cat "$T/out")"
    # update names no VM; --storage is install's.
    expect_rc 64 "$PVETMPL" hook update 3510
    assert_grep "'hook update' takes no VMID" "$T/err"
    expect_rc 64 "$PVETMPL" hook update --storage local
    assert_grep "only applies to 'hook install'" "$T/err"
    expect_rc 64 "$PVETMPL" hook install
    assert_grep "no VMID given" "$T/err"
    # A storage that fails: the others are still refreshed, the run fails.
    "$PVESIM" "$D" add-vm 3511 --name a --disk scsi0=local:8 \
        --hookscript local:snippets/pvetmpl-hook >/dev/null
    "$PVESIM" "$D" add-vm 3512 --name b --disk scsi0=local:8 \
        --hookscript nosuch:snippets/pvetmpl-hook >/dev/null
    expect_rc 69 "$PVETMPL" hook update
    assert_grep "storage 'nosuch' does not exist on this node" "$T/err"
    cmp "$PVETMPL_HOOK" "$D/var/lib/vz/snippets/pvetmpl-hook"
}

storages_capacity() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json storages
    local total avail
    total=$(jq -r '.storages[] | select(.storage=="local-lvm") | .total_kib' "$T/out")
    avail=$(jq -r '.storages[] | select(.storage=="local-lvm") | .avail_kib' "$T/out")
    expect_rc 0 "$PVETMPL" storages
    assert_grep "^STORAGE +TYPE +STATE +TOTAL +AVAIL +IMAGES +TEMPLATES +CLONES$" "$T/out"
    # KiB in the JSON, the same in G (one decimal) in the table.
    local want
    want=$(awk -v t="$total" -v a="$avail" \
        'BEGIN { printf "%.1fG +%.1fG", t / 1048576, a / 1048576 }')
    assert_grep "^local-lvm +lvmthin +active +$want +yes +yes +yes$" "$T/out"
    # A disabled storage has no capacity to show.
    assert_grep "^old-nfs +nfs +disabled +- +- +no" "$T/out"
}

did_you_mean() {
    sim_setup
    expect_rc 69 "$PVETMPL" check --storage local-lvn 100
    assert_grep "storage 'local-lvn' does not exist; did you mean 'local-lvm'\?" "$T/out"
    expect_rc 69 "$PVETMPL" make-template --storage locl-lvm 100 9350
    assert_grep "storage 'locl-lvm' does not exist; did you mean 'local-lvm'\?" "$T/err"
    expect_rc 69 "$PVETMPL" hook install --storage lcoal 100
    assert_grep "storage 'lcoal' does not exist on this node; did you mean 'local'\?" "$T/err"
    # Nothing near: no guess.
    expect_rc 69 "$PVETMPL" check --storage zzzzzz 100
    assert_grep "storage 'zzzzzz' does not exist$" "$T/out"
}

# A mistyped node: pvesm status --target accepts any name (as pve-storage
# does), qm clone would refuse it; pvetmpl refuses first, in qm clone's words,
# and guesses from the cluster's member list: node2 has no guest, so .vmlist
# alone would never name it.
node_did_you_mean() {
    sim_setup --other-node node2
    assert_no_grep node2 "$S/etc/pve/.vmlist"
    assert_grep '"node2"' "$S/etc/pve/.members"
    expect_rc 0 "$S/bin/pvesm" status --target nodx2
    local before
    before=$(sim_mutating_calls)
    expect_rc 69 "$PVETMPL" make-template 100 9351 --target nodx2
    assert_grep "node 'nodx2' cannot be a target: no such cluster node 'nodx2'; did you mean 'node2'\?" "$T/err"
    assert_eq "$(sim_mutating_calls)" "$before"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/9351.conf" ]
    [ ! -e "$S/etc/pve/nodes/node2/qemu-server/9351.conf" ]
    expect_rc 69 "$PVETMPL" check 100 --target nodx2
    assert_grep "no such cluster node 'nodx2'; did you mean 'node2'\?" "$T/out"
    # Nothing near: the refusal without a guess; the right name passes.
    expect_rc 69 "$PVETMPL" check 100 --target zzzzzz
    assert_grep "no such cluster node 'zzzzzz'$" "$T/out"
    "$PVETMPL" check 100 --target node2 >"$T/out" 2>&1 || true
    assert_grep "node 'node2' answers for shared storages" "$T/out"
    assert_eq "$(sim_mutating_calls)" "$before"
}

t_check "hook status without VMID: every VM of this node with a hookscript" status_of_the_node
t_check "hook update: refreshes outdated and missing hook files, journalled, idempotent" \
    update_after_upgrade
t_check "hook update: nothing to do, bad arguments, a storage that fails" update_edge_cases
t_check "storages: capacity in the table" storages_capacity
t_check "a mistyped storage: did you mean" did_you_mean
t_check "a mistyped node: no such cluster node, did you mean one without guests" node_did_you_mean
t_done
