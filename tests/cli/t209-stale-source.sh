#!/bin/bash
# The source's state as preflight read it is re-read before qm clone not only
# after a copy-slot wait but also when that reading is more than 1 s old:
# preflight's concurrent batch ends with its slowest query (pvesm status on a
# hung NFS storage takes seconds), so qm status may be seconds old by then.
# A quick preflight without a wait re-reads nothing (t205).
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# pvesm whose `status` answers late (a storage that hangs): it logs its
# start, then answers no sooner than 1.5 s later and not before $T/pvesm-go
# exists (at most 20 s), so the test can act while preflight waits for it.
slow_pvesm_setup() {
    mkdir -p "$T/slow"
    cat >"$T/slow/pvesm" <<SLOW
#!/bin/sh
if [ "\$1" = status ]; then
    echo "start \$*" >>"$T/pvesm.log"
    sleep 1.5
    i=0
    while [ ! -e "$T/pvesm-go" ] && [ \$i -lt 400 ]; do
        i=\$((i + 1))
        sleep 0.05
    done
fi
exec "$S/bin/pvesm" "\$@"
SLOW
    chmod 755 "$T/slow/pvesm"
    sed -i "s|^pvesm = .*|pvesm = \"$T/slow/pvesm\"|" "$PVETMPL_CONFIG"
}

calls_of() {
    grep -c "\"argv\":$1" "$S/calls.log" || true
}

# Started while preflight waited for the slow pvesm: refused 69, no qm clone.
t_started_during_slow_preflight() {
    sim_setup
    slow_pvesm_setup
    journal_mark
    "$PVETMPL" --no-progress make-template 100 9000 --name t9000 >"$T/out" 2>"$T/err" &
    local pid=$! rc=0
    # preflight has read the source (both queries answered) and waits for pvesm
    wait_for_grep '"argv":\["qm","status","100"\]' "$S/calls.log"
    wait_for_grep '"argv":\["qm","config","100","--current"\]' "$S/calls.log"
    wait_for_grep '^start status$' "$T/pvesm.log"
    sim_qm start 100 >/dev/null
    touch "$T/pvesm-go"
    wait "$pid" || rc=$?
    assert_eq 69 "$rc" "make-template's exit status"
    assert_grep "VM 100 is running now: it was started while this run's checks waited for their slowest query; stop it first" "$T/err"
    assert_eq 0 "$(calls_of '\["qm","clone"')" "qm clone calls"
    assert_eq 2 "$(calls_of '\["qm","status","100"\]')" "qm status 100 calls"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/9000.conf" ]
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        journalctl --sync
        journal_since -o json PVETMPL_VMID=9000 PVETMPL_ACTION=make-template >"$T/j"
        assert_eq refused "$(jq -r .PVETMPL_RESULT <"$T/j" | tail -n1)"
    fi
}

# A slow preflight alone: the source is read again (both queries), found
# ready, and the template made.
t_slow_preflight_rechecks() {
    sim_setup
    slow_pvesm_setup
    touch "$T/pvesm-go"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000 --no-hook
    assert_eq 2 "$(calls_of '\["qm","status","100"\]')" "qm status 100 calls"
    assert_eq 2 "$(calls_of '\["qm","config","100","--current"\]')" "qm config 100 --current calls"
    assert_grep '^template: 1$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
}

t_check "source started while preflight waited for a slow pvesm: re-read, 69, no qm clone" t_started_during_slow_preflight
t_check "a preflight reading of the source older than 1 s is re-read before qm clone" t_slow_preflight_rechecks
t_done
