#!/bin/bash
# Black-box tests of `pvetmpl list` against the simulated node: templates and
# their linked clones made with the simulator's own qm, read back from the
# cluster filesystem only (no qm call), a guest vanishing, a 10 000-guest
# cluster.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# The node: template 9000 on ZFS (block) and a dir storage (file), with
# pvetmpl's hookscript; linked clones 101 and 102, full clone 103; template
# 9001 on LVM-thin with linked clone 104 (LVM-thin names no base).
cluster() {
    sim_setup
    "$PVESIM" "$S" add-storage zfspool local-zfs pool=rpool/data content=images,rootdir
    "$PVESIM" "$S" add-vm 9000 --name ubuntu-2404 --disk scsi0=local-zfs:32G \
        --disk scsi1=dir-tmpl:4G --hookscript local:snippets/pvetmpl-hook --template
    "$PVESIM" "$S" add-vm 9001 --name debian-12 --disk scsi0=local-lvm:8G --template
    sim_qm clone 9000 101 --name web01 >/dev/null
    sim_qm clone 9000 102 --name web02 >/dev/null
    sim_qm clone 9000 103 --name db01 --full >/dev/null
    sim_qm clone 9001 104 --name thin01 >/dev/null
}

tmpl() { # VMID KEY: a key of template VMID's row in $T/out
    jq -r --argjson id "$1" ".templates[] | select(.vmid == \$id) | $2" "$T/out"
}

rows_and_counts() {
    cluster
    local calls
    calls=$(sim_calls)
    expect_rc 0 "$PVETMPL" --json list
    assert_eq "$calls" "$(sim_calls)" "qm/pvesm calls made by list"
    assert_eq false "$(json_get .failed)"
    assert_eq "9000 9001" "$(json_get '[.templates[].vmid] | join(" ")')" "templates, by VMID"
    assert_eq 7 "$(json_get .guests)" "VM configs read (100 101 102 103 104 9000 9001)"
    assert_eq 0 "$(json_get .vanished)"
    assert_eq ubuntu-2404 "$(tmpl 9000 .name)"
    assert_eq pve "$(tmpl 9000 .node)"
    assert_eq "local-zfs,dir-tmpl" "$(tmpl 9000 '.storages | join(",")')"
    assert_eq 2 "$(tmpl 9000 .disks)"
    assert_eq $((36 << 30)) "$(tmpl 9000 .size)" "32G + 4G"
    assert_eq pvetmpl "$(tmpl 9000 .hook)"
    assert_eq local:snippets/pvetmpl-hook "$(tmpl 9000 .hookscript)"
    assert_eq 2 "$(tmpl 9000 .linked_clones)" "101 and 102; 103 is a full clone"
    assert_eq null "$(tmpl 9000 .clones)" "clones only with --all"
    assert_eq none "$(tmpl 9001 .hook)"
    assert_eq 0 "$(tmpl 9001 .linked_clones)" "an LVM-thin clone names no base"
    assert_eq $((8 << 30)) "$(tmpl 9001 .size)"
}

all_and_table() {
    cluster
    expect_rc 0 "$PVETMPL" --json list --all
    assert_eq "101:web01:true 102:web02:true" \
        "$(tmpl 9000 '[.clones[] | "\(.vmid):\(.name):\(.linked)"] | join(" ")')"
    assert_eq 0 "$(tmpl 9001 '.clones | length')"
    expect_rc 0 "$PVETMPL" list --all
    assert_grep '^VMID +NAME +NODE +STORAGES +SIZE +LINKED +HOOK$' "$T/out"
    assert_grep '^9000  ubuntu-2404  pve +local-zfs,dir-tmpl +36G +2  pvetmpl$' "$T/out"
    assert_grep '^ +`- 101 web01 on pve, linked clone$' "$T/out"
    assert_grep '^ +`- 102 web02 on pve, linked clone$' "$T/out"
    assert_grep '^9001  debian-12 +pve +local-lvm +8G +0  none$' "$T/out"
    assert_eq 6 "$(wc -l <"$T/out")" "header, 2 templates, 2 clones, the summary"
}

# A guest deleted after .vmlist was read: its config is gone. pmxcfs updates
# .vmlist after the file; removing only the file is that moment.
vanished_guest() {
    cluster
    rm "$S/etc/pve/nodes/pve/qemu-server/101.conf"
    expect_rc 0 "$PVETMPL" --json list --all
    assert_eq 1 "$(json_get .vanished)"
    assert_eq 6 "$(json_get .guests)"
    assert_eq 1 "$(tmpl 9000 .linked_clones)"
    assert_eq 102 "$(tmpl 9000 '[.clones[].vmid] | join(" ")')"
    # in the table: said on stderr, the listing still whole
    expect_rc 0 "$PVETMPL" list
    assert_grep '1 VM of the cluster.s list vanished' "$T/err"
    assert_grep '^9000 ' "$T/out"
}

# Any other unreadable config is not skipped: a clone left out would make a
# template look unused. The cluster list itself missing: 69.
unreadable() {
    cluster
    rm "$S/etc/pve/nodes/pve/qemu-server/102.conf"
    mkdir "$S/etc/pve/nodes/pve/qemu-server/102.conf"
    expect_rc 69 "$PVETMPL" --json list
    assert_eq true "$(json_get .failed)"
    assert_grep "102.conf': not a regular file" "$T/out"
    rm "$S/etc/pve/.vmlist"
    expect_rc 69 "$PVETMPL" list
    assert_grep "cannot read '$S/etc/pve/.vmlist'" "$T/err"
}

# 10 000 guests on three nodes, written as pmxcfs holds them: 100 templates
# (9000-9099), each with 99 linked clones (ZFS names) but the last with 98,
# and a full clone (tests/tools/gen-cluster.pl, shared with bench row 4).
big_cluster() {
    sim_setup
    local pve=$T/big
    "$TOP/tests/tools/gen-cluster.pl" "$pve" 100 99
    sed -i -e "s|^vmlist = .*|vmlist = \"$pve/.vmlist\"|" -e "s|^pve_dir = .*|pve_dir = \"$pve\"|" \
        "$PVETMPL_CONFIG"
    expect_rc 0 "$PVETMPL" --json list
    assert_eq 10000 "$(json_get .guests)"
    assert_eq 100 "$(json_get '.templates | length')"
    assert_eq 9000 "$(json_get '.templates[0].vmid')"
    assert_eq 9099 "$(json_get '.templates[99].vmid')"
    assert_eq 99 "$(json_get '[.templates[:99][].linked_clones] | unique | join(" ")')" \
        "every template has its 99 clones, no more"
    assert_eq 98 "$(tmpl 9099 .linked_clones)"
    assert_eq "pve2" "$(tmpl 9001 .node)"
    expect_rc 0 "$PVETMPL" --json list --all
    assert_eq 9899 "$(json_get '[.templates[].clones[]] | length')"
    assert_eq "100100 100198" "$(tmpl 9001 '"\(.clones[0].vmid) \(.clones[98].vmid)"')"
}

no_templates() {
    sim_setup # VM 100 only, no template
    expect_rc 0 "$PVETMPL" list
    assert_grep "^no templates in the cluster$" "$T/out"
    expect_rc 0 "$PVETMPL" --json list
    assert_eq "0 1" "$(json_get '"\(.templates | length) \(.guests)"')"
    assert_eq "" "$(cat "$T/err")"
}

t_check "no template in the cluster: said, exit 0" no_templates
t_check "rows: storages, size, hook, linked clones counted; no qm call" rows_and_counts
t_check "--all lists the clones; the table" all_and_table
t_check "a guest vanishing between .vmlist and its config is skipped and counted" \
    vanished_guest
t_check "an unreadable config or .vmlist fails the listing (69)" unreadable
t_check "a 10 000-guest cluster on three nodes" big_cluster
t_done
