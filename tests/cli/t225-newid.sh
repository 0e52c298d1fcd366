#!/bin/bash
# make-template / clone without NEWID: the lowest VMID free in the cluster
# within the configured range, claimed against parallel runs.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

t_template_first_free() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 --no-hook
    assert_grep "^pvetmpl: chose VMID 9000: the lowest free in template_newid_range 9000-9999$" "$T/err"
    assert_grep "template 9000 .* created from VM 100" "$T/out"
    assert_grep '^template: 1$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    # JSON: the VMID, and that it was chosen
    expect_rc 0 "$PVETMPL" --json make-template 100 --no-hook
    assert_eq 9001 "$(json_get .vmid)"
    assert_eq true "$(json_get .vmid_auto)"
    expect_rc 0 "$PVETMPL" --json make-template 100 9500 --no-hook
    assert_eq 9500 "$(json_get .vmid)"
    assert_eq false "$(json_get .vmid_auto)"
}

# Free means free in the whole cluster: a VM on another node counts, and the
# lowest gap is taken.
t_cluster_wide_gaps() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 9000 --disk scsi0=local-lvm:1G >/dev/null
    "$PVESIM" "$S" add-vm 9001 --node pve2 --disk scsi0=local-lvm:1G >/dev/null
    "$PVESIM" "$S" add-vm 9003 --disk scsi0=local-lvm:1G >/dev/null
    expect_rc 0 "$PVETMPL" --json make-template 100 --no-hook
    assert_eq 9002 "$(json_get .vmid)"
    assert_grep '"clone","100","9002"' "$S/calls.log"
}

# Range used up: 69 naming the range, nothing run.
t_range_exhausted() {
    sim_setup
    echo 'template_newid_range = "9000-9001"' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 9000 --disk scsi0=local-lvm:1G >/dev/null
    "$PVESIM" "$S" add-vm 9001 --disk scsi0=local-lvm:1G >/dev/null
    expect_rc 69 "$PVETMPL" make-template 100 --no-hook
    assert_grep "no free VMID in template_newid_range 9000-9001: .*give NEWID or widen the range" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)" "mutating calls"
}

t_bad_range_config() {
    sim_setup
    echo 'template_newid_range = "9999-9000"' >>"$PVETMPL_CONFIG"
    expect_rc 78 "$PVETMPL" make-template 100 --no-hook
    assert_grep "template_newid_range.*'9999-9000'" "$T/err"
    sed -i '/^template_newid_range/d' "$PVETMPL_CONFIG"
    echo 'clone_newid_range = "50-60"' >>"$PVETMPL_CONFIG"
    expect_rc 78 "$PVETMPL" clone 100
    assert_grep "clone_newid_range.*'50-60'" "$T/err"
}

# clone: Proxmox's own pool (pve-manager Cluster.pm nextid): 100-999999, or
# datacenter.cfg's next-id range; clone_newid_range overrides both.
t_clone_ranges() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json clone 100
    assert_eq 101 "$(json_get .vmid)"
    assert_eq true "$(json_get .vmid_auto)"
    printf 'keyboard: en-us\nnext-id: upper=5003,lower=5001\n' >"$S/etc/pve/datacenter.cfg"
    expect_rc 0 "$PVETMPL" clone 100
    assert_grep "^pvetmpl: chose VMID 5001: the lowest free in datacenter.cfg's next-id range 5001-5002$" "$T/err"
    expect_rc 0 "$PVETMPL" clone 100
    assert_grep "chose VMID 5002" "$T/err"
    expect_rc 69 "$PVETMPL" clone 100
    assert_grep "no free VMID in datacenter.cfg's next-id range 5001-5002" "$T/err"
    echo 'clone_newid_range = "700-800"' >>"$PVETMPL_CONFIG"
    expect_rc 0 "$PVETMPL" --json clone 100
    assert_eq 700 "$(json_get .vmid)"
}

t_datacenter_malformed() {
    sim_setup
    printf 'next-id: lower=abc\n' >"$S/etc/pve/datacenter.cfg"
    expect_rc 69 "$PVETMPL" clone 100
    assert_grep "cannot parse the 'next-id' line of '.*/datacenter.cfg'" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)" "mutating calls"
}

# A dry run shows the VMID a run would take and claims nothing.
t_dry_run() {
    sim_setup
    expect_rc 0 "$PVETMPL" -n make-template 100 --no-hook
    assert_grep "^pvetmpl: would use VMID 9000: the lowest free in template_newid_range 9000-9999$" "$T/err"
    assert_grep "would run: .*qm clone 100 9000 " "$T/out"
    assert_eq 0 "$(sim_mutating_calls)" "mutating calls"
}

# A VMID another pvetmpl run is creating (its lock held) is skipped, not
# waited for.
t_skip_locked() {
    sim_setup
    hold_lock "$T/run/vmid-9000.0.lock"
    expect_rc 0 "$PVETMPL" --json make-template 100 --no-hook
    assert_eq 9001 "$(json_get .vmid)"
    assert_no_grep "waiting for another pvetmpl run" "$T/err"
    release_lock
}

# Two runs without NEWID racing: the first claims 9000 and waits for the only
# copy slot; the second, started then, must take 9001. Synchronised on their
# messages (each is printed once its lock is held), no sleeps.
t_two_runs_race() {
    sim_setup
    race_two "waiting for a copy slot" "waiting for a copy slot" make-template 100 --no-hook
    assert_eq "0 0" "$RA $RB" "exit codes"
    assert_grep "chose VMID 9000" "$T/a.err"
    assert_grep "chose VMID 9001" "$T/b.err"
    assert_grep '^template: 1$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    assert_grep '^template: 1$' "$S/etc/pve/nodes/pve/qemu-server/9001.conf"
}

t_check "make-template without NEWID: 9000, printed and in the JSON" t_template_first_free
t_check "the lowest gap free in the whole cluster" t_cluster_wide_gaps
t_check "range used up: 69 naming it, nothing run" t_range_exhausted
t_check "a bad range in the configuration: 78" t_bad_range_config
t_check "clone: Proxmox's next-id range, datacenter.cfg's, clone_newid_range" t_clone_ranges
t_check "datacenter.cfg's next-id unreadable: 69 naming it" t_datacenter_malformed
t_check "dry run: the VMID a run would take, nothing claimed" t_dry_run
t_check "a VMID another run is creating is skipped" t_skip_locked
t_check "two runs without NEWID race: 9000 and 9001" t_two_runs_race
t_done
