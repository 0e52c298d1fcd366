#!/bin/bash
# make-template --name NAME --rotate [--keep N]: the new template takes NAME,
# the old ones become NAME-YYYYMMDD tagged pvetmpl-retired; --keep destroys
# retired ones beyond the newest N unless linked clones use them.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

conf() { echo "$S/etc/pve/nodes/pve/qemu-server/$1.conf"; }
name_of() { sed -n 's/^name: //p' "$(conf "$1")"; }
tags_of() { sed -n 's/^tags: //p' "$(conf "$1")"; }
# how many VMs are named $1
named() { grep -lx "name: $1" "$S"/etc/pve/nodes/*/qemu-server/*.conf 2>/dev/null | wc -l; }
# the date in a config's meta ctime (UTC)
made_on() { date -u -d "@$(sed -n 's/^meta: .*ctime=\([0-9]*\).*/\1/p' "$(conf "$1")")" +%Y%m%d; }
# the date a retired name carries: the day pvetmpl made the template (the
# journal's make-template, just now), else its meta ctime
retired_day() {
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then date -u +%Y%m%d; else made_on "$1"; fi
}
# line number of the first call in calls.log matching $1
call_at() { grep -n -- "$1" "$S/calls.log" | head -n1 | cut -d: -f1; }

t_rotate() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    sim_qm set 9000 --tags keepme >/dev/null
    # qm clone copied the source's meta line, qm template kept it: 9000's
    # ctime is the day VM 100 was made, not the template's
    assert_eq "$(grep '^meta: ' "$(conf 100)")" "$(grep '^meta: ' "$(conf 9000)")"
    local day
    day=$(retired_day 9000)
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        [ "$(made_on 9000)" != "$day" ] || { echo "the source's ctime is today: no proof"; return 1; }
    fi
    expect_rc 0 "$PVETMPL" --json make-template 100 --name base --no-hook --rotate
    assert_eq 9001 "$(json_get .vmid)"
    assert_eq base "$(json_get .name)"
    assert_eq "9000 base-$day" "$(json_get '.rotation.retired[0] | "\(.vmid) \(.name)"')"
    assert_eq base "$(name_of 9001)"
    assert_eq "base-$day" "$(name_of 9000)"
    assert_eq "keepme;pvetmpl-retired" "$(tags_of 9000)"
    assert_eq 1 "$(named base)" "one template named base"
    assert_grep '^template: 1$' "$(conf 9000)"
    # built under a temporary name; the new one takes the name before the old loses it
    assert_grep '"clone","100","9001","--full","1","--name","base-pvetmpl-new"' "$S/calls.log"
    local give take
    give=$(call_at '"set","9001","--name","base"')
    take=$(call_at '"set","9000","--name","base-')
    [ -n "$give" ] && [ -n "$take" ] && [ "$give" -lt "$take" ] || {
        echo "order: new renamed at $give, old at $take"
        return 1
    }
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        expect_rc 0 "$PVETMPL" audit --json --action rotate-retire
        assert_eq "9000 succeeded" "$(json_get '.events[-1] | "\(.vmid) \(.result)"')"
        expect_rc 0 "$PVETMPL" audit --json --action rotate-rename
        assert_eq "9001 base" "$(json_get '.events[-1] | "\(.vmid) \(.name)"')"
    fi
}

# --keep 0: the retired template a linked clone stands on stays (named in the
# report), the other is destroyed; the template that has the name is never
# touched. ZFS names the base in a linked clone's volume (list.c counts it).
t_keep_linked() {
    sim_setup
    "$PVESIM" "$S" add-storage zfspool local-zfs pool=rpool/data content=images,rootdir >/dev/null
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook --storage local-zfs
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook --storage local-zfs --rotate
    sim_qm clone 9000 300 --name user-of-9000 --full 0 >/dev/null
    expect_rc 0 "$PVETMPL" --json make-template 100 --name base --no-hook --storage local-zfs \
        --rotate --keep 0
    assert_eq 9002 "$(json_get .vmid)"
    assert_eq "9001" "$(json_get '.rotation.destroyed | map(tostring) | join(",")')"
    assert_eq "9000 1" "$(json_get '.rotation.kept_linked[] | "\(.vmid) \(.linked_clones)"')"
    [ ! -e "$(conf 9001)" ] || { echo "9001 not destroyed"; return 1; }
    [ -e "$(conf 9000)" ] && [ -e "$(conf 9002)" ] && [ -e "$(conf 300)" ]
    assert_eq 0 "$(grep -c '"destroy","9000"' "$S/calls.log" || true)" "no qm destroy 9000"
    assert_grep "kept, linked clones use them: 9000 'base-[0-9]{8} \(1 linked clone\)'" \
        <(json_get .msg)
    # human: the kept one is named
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook --storage local-zfs \
        --rotate --keep 1
    assert_grep "kept, linked clones use them: 9000 " "$T/out"
}

# LVM-thin linked clones name no base: qm destroy's own refusal keeps it.
t_keep_lvmthin() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    sim_qm clone 9000 300 --full 0 >/dev/null
    expect_rc 0 "$PVETMPL" --json make-template 100 --name base --no-hook --rotate --keep 0
    assert_eq "9000" "$(json_get '.rotation.kept_linked[].vmid')"
    [ -e "$(conf 9000)" ]
}

t_dry_run() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    local before day
    before=$(sim_mutating_calls)
    day=$(retired_day 9000)
    expect_rc 0 "$PVETMPL" -n make-template 100 --name base --no-hook --rotate --keep 0
    assert_grep "would run: .*qm clone 100 9001 --full 1 --name base-pvetmpl-new" "$T/out"
    assert_grep "would run: .*qm template 9001" "$T/out"
    assert_grep "would run: .*qm set 9001 --name base$" "$T/out"
    assert_grep "would run: .*qm set 9000 --name base-$day --tags pvetmpl-retired$" "$T/out"
    assert_grep "would run: .*qm destroy 9000$" "$T/out"
    assert_eq "$before" "$(sim_mutating_calls)" "no mutating call"
    assert_eq base "$(name_of 9000)"
}

# A failure halfway (the old template cannot be renamed): the new one has
# the name, the old one keeps it too, usable; the message says so.
t_fail_halfway() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    sed -i 's/^name:/lock: backup\nname:/' "$(conf 9000)"
    run "$PVETMPL" make-template 100 --name base --no-hook --rotate
    assert_eq 75 "$RC" "locked: retry later"
    assert_grep "template 9001 has the name 'base' now; retiring template 9000 failed: .*VM is locked \(backup\).*retired already: none; still named 'base' \(usable, not retired\): 9000 'base'" "$T/err"
    assert_eq base "$(name_of 9001)"
    assert_eq base "$(name_of 9000)"
    assert_grep '^template: 1$' "$(conf 9000)"
}

# The build fails: nothing renamed.
t_fail_build() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    sim_qm start 100 >/dev/null
    run "$PVETMPL" make-template 100 --name base --no-hook --rotate
    assert_eq 69 "$RC"
    assert_grep "nothing was renamed: the templates named 'base' are unchanged" "$T/err"
    assert_eq base "$(name_of 9000)"
    assert_eq 0 "$(grep -c '"set"' "$S/calls.log" || true)" "no qm set"
}

# A template with NAME on another node: qm here cannot rename it, so nothing
# is built or renamed.
t_holder_elsewhere() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 9500 --node pve2 --name base --disk scsi0=local-lvm:1G --template >/dev/null
    expect_rc 69 "$PVETMPL" make-template 100 --name base --no-hook --rotate
    assert_grep "template 9500 'base' is on node 'pve2': qm renames only VMs of this node; rotate 'base' on node 'pve2' \(nothing was changed\)" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)" "mutating calls"
}

t_usage() {
    sim_setup
    expect_rc 64 "$PVETMPL" make-template 100 --rotate
    assert_grep "'--rotate' needs '--name NAME'" "$T/err"
    expect_rc 64 "$PVETMPL" make-template 100 --name b --keep 1
    assert_grep "'--keep' needs '--rotate'" "$T/err"
    expect_rc 64 "$PVETMPL" clone 100 --name b --rotate
    assert_grep "'--rotate' is only for make-template" "$T/err"
    expect_rc 64 "$PVETMPL" make-template 100 --name b --rotate --keep -1
    assert_grep "invalid --keep value '-1'" "$T/err"
    assert_eq 0 "$(sim_calls)" "qm/pvesm calls"
}

# Two rotations of one name: the second waits for the first (its lock),
# then retires the first one's template. Synchronised on their messages.
t_two_rotations() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    race_two "waiting for a copy slot" \
        "waiting for another pvetmpl run that uses the name 'base'" \
        make-template 100 --name base --no-hook --rotate
    assert_eq "0 0" "$RA $RB" "exit codes"
    assert_eq 1 "$(named base)" "one template named base"
    assert_eq base "$(name_of 9002)"
    assert_grep "^pvetmpl: chose VMID 9001" "$T/a.err"
    assert_grep "retired: 9001 'base-" "$T/b.out"
    assert_eq pvetmpl-retired "$(tags_of 9001)"
    assert_eq pvetmpl-retired "$(tags_of 9000)"
}

# A qm for the test: before the first 'qm clone 100', runs "$T/during"
# (what happens while the new template is built), then the simulated qm.
qm_during() {
    cat >"$T/during"
    cat >"$T/qm" <<EOF
#!/bin/bash
if [ "\$1" = clone ] && [ "\$2" = 100 ] && [ ! -e "$T/during.done" ]; then
    : >"$T/during.done"
    S="$S" PVESIM="$PVESIM" bash "$T/during" >/dev/null || exit 1
fi
exec "$S/bin/qm" "\$@"
EOF
    chmod +x "$T/qm"
    sed -i "s|^qm = .*|qm = \"$T/qm\"|" "$PVETMPL_CONFIG"
}

# A holder of NAME made while the new template is built is retired too.
t_holder_during_build() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    qm_during <<'EOF'
"$PVESIM" "$S" add-vm 9500 --name base --disk scsi0=local-lvm:1G --template
EOF
    expect_rc 0 "$PVETMPL" --json make-template 100 --name base --no-hook --rotate
    [ -e "$(conf 9500)" ] || { echo "the holder was not made"; return 1; }
    assert_eq 9001 "$(json_get .vmid)"
    assert_eq 1 "$(named base)" "one template named base"
    assert_eq base "$(name_of 9001)"
    assert_grep '^base-[0-9]{8}$' <(name_of 9500)
    assert_eq pvetmpl-retired "$(tags_of 9500)"
}

# A linked clone made during the build keeps its retired template (counted
# again just before the destroy).
t_linked_during_build() {
    sim_setup
    "$PVESIM" "$S" add-storage zfspool local-zfs pool=rpool/data content=images,rootdir >/dev/null
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook --storage local-zfs
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook --storage local-zfs --rotate
    qm_during <<'EOF'
"$S/bin/qm" clone 9000 300 --name user-of-9000 --full 0
EOF
    expect_rc 0 "$PVETMPL" --json make-template 100 --name base --no-hook --storage local-zfs \
        --rotate --keep 0
    [ -e "$(conf 300)" ] || { echo "the linked clone was not made"; return 1; }
    assert_eq "9000 1" "$(json_get '.rotation.kept_linked[] | "\(.vmid) \(.linked_clones)"')"
    assert_eq 0 "$(grep -c '"destroy","9000"' "$S/calls.log" || true)" "no qm destroy 9000"
    [ -e "$(conf 9000)" ]
}

# A plain make-template --name NAME queues behind a rotation of NAME (the
# name's lock) instead of making a holder in the middle of it.
t_plain_waits() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    local a b
    hold_lock "$T/run/storage-local-lvm.0.lock"
    "$PVETMPL" --no-progress make-template 100 --name base --no-hook --rotate \
        >"$T/a.out" 2>"$T/a.err" &
    a=$!
    wait_for_grep "waiting for a copy slot" "$T/a.err"
    "$PVETMPL" --no-progress make-template 100 9500 --name base --no-hook \
        >"$T/b.out" 2>"$T/b.err" &
    b=$!
    wait_for_grep "waiting for another pvetmpl run that uses the name 'base'" "$T/b.err"
    release_lock
    wait "$a" && RA=0 || RA=$?
    wait "$b" && RB=0 || RB=$?
    assert_eq "0 0" "$RA $RB" "exit codes"
    assert_eq base "$(name_of 9001)"
    assert_grep '^base-[0-9]{8}$' <(name_of 9000)
    # made after the rotation: it is not retired (root may have two)
    assert_eq base "$(name_of 9500)"
}

# --keep: a retired template on another node is named, not destroyed here
# (qm destroys only local VMs); a later run still exits 0.
t_keep_remote() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 9500 --node pve2 --name base-20200101 --disk scsi0=local-lvm:1G \
        --template >/dev/null
    sed -i 's/^name:/tags: pvetmpl-retired\nname:/' "$S/etc/pve/nodes/pve2/qemu-server/9500.conf"
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    expect_rc 0 "$PVETMPL" --json make-template 100 --name base --no-hook --rotate --keep 0
    assert_eq "9500 pve2" "$(json_get '.rotation.kept_remote[] | "\(.vmid) \(.node)"')"
    assert_eq "9000" "$(json_get '.rotation.destroyed | map(tostring) | join(",")')"
    assert_eq 0 "$(grep -c '"destroy","9500"' "$S/calls.log" || true)" "no qm destroy 9500"
    assert_grep "kept, on another node \(destroy them there\): 9500 'base-20200101 \(on node 'pve2'\)'" \
        <(json_get .msg)
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook --rotate --keep 0
}

# A finished rotation with an explicit NEWID, repeated: nothing to do.
t_rerun_newid() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --name base --no-hook
    expect_rc 0 "$PVETMPL" make-template 100 9100 --name base --no-hook --rotate
    local before
    before=$(sim_mutating_calls)
    expect_rc 0 "$PVETMPL" --json make-template 100 9100 --name base --no-hook --rotate
    assert_eq false "$(json_get .changed)"
    assert_eq "$before" "$(sim_mutating_calls)" "no mutating call"
    assert_grep "already the template 'base'; nothing to do" <(json_get .msg)
}

t_check "rotate: the new one takes NAME, the old one is retired and tagged" t_rotate
t_check "--keep 0: a retired template with a linked clone stays, named" t_keep_linked
t_check "--keep 0: qm destroy's linked-clone refusal keeps it too (LVM-thin)" t_keep_lvmthin
t_check "dry run: the whole plan, nothing changed" t_dry_run
t_check "failure halfway: both usable, the state said" t_fail_halfway
t_check "build fails: nothing renamed" t_fail_build
t_check "a holder on another node: 69 before anything is built" t_holder_elsewhere
t_check "usage errors: 64 before any call" t_usage
t_check "two rotations of one name queue; one template keeps the name" t_two_rotations
t_check "a holder made during the build is retired too" t_holder_during_build
t_check "a linked clone made during the build keeps its template" t_linked_during_build
t_check "a plain make-template --name queues behind the rotation" t_plain_waits
t_check "--keep: a retired template on another node is named, not destroyed" t_keep_remote
t_check "a finished rotation with NEWID, repeated: nothing to do" t_rerun_newid
t_done
