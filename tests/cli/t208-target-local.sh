#!/bin/bash
# --target naming this node (its name or 'localhost'): make-template refuses
# it before any change (qm migrate refuses the local node: qemu-server
# API2/Qemu.pm migrate_vm "target is local node"), clone makes a local clone
# as qm clone does (clone_vm drops such a target) and confirms it locally.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

t_make_template_target_self() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 120 --name shared-src --disk scsi0=nfs-shared:8G
    local t
    for t in pve localhost; do
        expect_rc 69 "$PVETMPL" --json make-template 120 9000 --target "$t" --no-hook
        assert_eq false "$(json_get '.checks[] | select(.name=="target_node") | .ok')"
        assert_grep "node '$t' cannot be a target: it is this node, where the template is made anyway; leave out --target" \
            <(json_get '.checks[] | select(.name=="target_node") | .detail')
        assert_eq 0 "$(sim_mutating_calls)" "nothing changed"
        expect_rc 69 "$PVETMPL" make-template 120 9000 --target "$t" --no-hook
        cat "$T/out" "$T/err" >"$T/all"
        assert_grep "node '$t' cannot be a target: it is this node" "$T/all"
    done
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/9000.conf" ]
    # a typo is not pointed at this node: the other node is suggested
    expect_rc 69 "$PVETMPL" --json make-template 120 9000 --target pv --no-hook
    assert_grep "no such cluster node 'pv'" <(json_get '.checks[] | select(.name=="target_node") | .detail')
    assert_no_grep "did you mean 'pve'" <(json_get '.checks[] | select(.name=="target_node") | .detail')
    # check reports what make-template would
    expect_rc 69 "$PVETMPL" --json check 120 --target localhost
    assert_eq false "$(json_get '.checks[] | select(.name=="target_node") | .ok')"
}

# The answer does not depend on whether the template exists: a re-run on a
# finished template is refused the same way, not "nothing to do".
t_make_template_target_self_exists() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 120 --name shared-src --disk scsi0=nfs-shared:8G
    expect_rc 0 "$PVETMPL" make-template 120 9000 --no-hook
    test -f "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    local t before
    before=$(sim_mutating_calls)
    for t in pve localhost; do
        expect_rc 69 "$PVETMPL" --json make-template 120 9000 --target "$t" --no-hook
        assert_eq false "$(json_get '.checks[] | select(.name=="target_node") | .ok')"
        assert_grep "node '$t' cannot be a target: it is this node, where the template is made anyway; leave out --target" \
            <(json_get '.checks[] | select(.name=="target_node") | .detail')
        assert_no_grep "nothing to do" "$T/out"
        expect_rc 69 "$PVETMPL" make-template 120 9000 --target "$t" --no-hook
        cat "$T/out" "$T/err" >"$T/all"
        assert_grep "node '$t' cannot be a target: it is this node" "$T/all"
        assert_no_grep "nothing to do" "$T/all"
        # no NEWID: refused before one is chosen
        expect_rc 69 "$PVETMPL" make-template 120 --target "$t" --no-hook
        cat "$T/out" "$T/err" >"$T/all"
        assert_grep "node '$t' cannot be a target: it is this node" "$T/all"
        assert_no_grep "VMID" "$T/all"
    done
    assert_eq "$before" "$(sim_mutating_calls)" "nothing changed"
    # the template is untouched and still answers a plain re-run
    expect_rc 0 "$PVETMPL" make-template 120 9000 --no-hook
    assert_grep "nothing to do" "$T/out"
}

# The simulated qm does what clone_vm does: a local clone.
t_sim_clone_target_self() {
    sim_setup
    sim_qm clone 100 130 --target localhost >/dev/null
    sim_qm clone 100 131 --target pve >/dev/null
    test -f "$S/etc/pve/nodes/pve/qemu-server/130.conf"
    test -f "$S/etc/pve/nodes/pve/qemu-server/131.conf"
}

t_clone_target_self() {
    sim_setup --other-node pve2
    local t id=120
    # VM 100's disk is on local-lvm: a clone elsewhere would be refused
    for t in localhost pve; do
        expect_rc 0 "$PVETMPL" --json clone 100 "$id" --target "$t" --name "c$id"
        assert_eq true "$(json_get .changed)"
        assert_eq "VM 100 cloned to $id 'c$id'" "$(json_get .msg)"
        assert_eq "c$id" "$(json_get .name)"
        test -f "$S/etc/pve/nodes/pve/qemu-server/$id.conf"
        id=$((id + 1))
    done
    expect_rc 0 "$PVETMPL" clone 100 130 --target localhost
    assert_grep "^pvetmpl: --target 'localhost' is this node: a local clone, as qm clone makes it$" "$T/err"
    assert_grep "VM 100 cloned to 130" "$T/out"
    # a re-run is nothing to do, as for any local clone
    expect_rc 0 "$PVETMPL" --json clone 100 120 --target localhost --name c120
    assert_eq false "$(json_get .changed)"
}

t_check "make-template --target this node or localhost: 69 before any change, not suggested" t_make_template_target_self
t_check "make-template --target this node on a finished template: the same 69, not 'nothing to do'" t_make_template_target_self_exists
t_check "simulator: qm clone --target localhost or this node clones locally" t_sim_clone_target_self
t_check "clone --target this node or localhost: a local clone, confirmed locally" t_clone_target_self
t_done
