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
    # Made after every record of the shared test journald: the configs say so
    # (pvesim's add-vm writes a fixed ctime), so what other scripts made with
    # these VMIDs, even within list's slack of a minute, is not taken for
    # these VMs.
    CTIME=$(($(date +%s) + 3600))
    sed -i -E "s/ctime=[0-9]+/ctime=$CTIME/" "$S"/etc/pve/nodes/*/qemu-server/*.conf
}

tmpl() { # VMID KEY: a key of template VMID's row in $T/out
    jq -r --argjson id "$1" ".templates[] | select(.vmid == \$id) | $2" "$T/out"
}

rows_and_counts() {
    cluster
    local calls
    calls=$(sim_calls)
    expect_rc 0 "$PVETMPL" --json list
    assert_eq $((calls + 1)) "$(sim_calls)" "calls made by list: one, for the one hook file"
    assert_eq '["pvesm","path","local:snippets/pvetmpl-hook"]' \
        "$(tail -n 1 "$S/calls.log" | jq -c '.argv | .[0] |= sub(".*/"; "")')"
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
    assert_eq missing "$(tmpl 9000 .hook_current)" "no hook file on 'local'"
    assert_eq null "$(tmpl 9001 .hook_current)" "no hookscript"
    # no journal record of these (pvesim's add-vm): the config's meta ctime
    assert_eq "config $CTIME null" \
        "$(tmpl 9001 '"\(.created_source) \(.created) \(.created_from)"')"
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
    assert_grep '^VMID +NAME +NODE +STORAGES +SIZE +CREATED +LINKED +HOOK$' "$T/out"
    assert_grep '^9000  ubuntu-2404  pve +local-zfs,dir-tmpl +36G +[0-9]{4}-[0-9]{2}-[0-9]{2} +2  pvetmpl \(missing\)$' "$T/out"
    assert_grep '^ +`- 101 web01 on pve, linked clone$' "$T/out"
    assert_grep '^ +`- 102 web02 on pve, linked clone$' "$T/out"
    assert_grep '^9001  debian-12 +pve +local-lvm +8G +[0-9-]{10} +0  none$' "$T/out"
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
    # made after every record of the shared test journald (see cluster)
    GEN_CTIME=$(($(date +%s) + 3600)) "$TOP/tests/tools/gen-cluster.pl" "$pve" 100 99
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

# Templates made by pvetmpl itself: the journal (root's records, read in
# one pass) says when and from which VM; --all adds the full clones pvetmpl
# made from them. The hook file compared with hook_binary as `hook status`
# compares it.
journal_lineage() {
    sim_setup
    "$PVESIM" "$S" add-storage zfspool local-zfs pool=rpool/data content=images,rootdir
    local t0 t1 path
    t0=$(date +%s)
    # on ZFS, where a linked clone's volume names its base
    expect_rc 0 "$PVETMPL" make-template 100 9100 --name tmpl-a --storage local-zfs
    expect_rc 0 "$PVETMPL" clone 9100 120 --name full01
    expect_rc 0 "$PVETMPL" clone 9100 121 --name linked01 --linked
    # a clone made by hand: in no journal record, and no linked clone
    sim_qm clone 9100 122 --name byhand --full >/dev/null
    # a clone of a clone is not the template's
    expect_rc 0 "$PVETMPL" clone 120 123 --name grandchild
    t1=$(date +%s)
    expect_rc 0 "$PVETMPL" --json list --all
    assert_eq 0 "$(json_get '.warnings | length')"
    assert_eq "journal 100" "$(tmpl 9100 '"\(.created_source) \(.created_from)"')"
    local created
    created=$(tmpl 9100 .created)
    assert_eq 1 "$((created >= t0 && created <= t1))" "created $created within [$t0, $t1]"
    assert_eq "120:full01:false 121:linked01:true" \
        "$(tmpl 9100 '[.clones[] | "\(.vmid):\(.name):\(.linked)"] | join(" ")')"
    assert_eq 1 "$(tmpl 9100 .linked_clones)"
    assert_eq current "$(tmpl 9100 .hook_current)"
    expect_rc 0 "$PVETMPL" list --all
    assert_grep "^9100  tmpl-a +pve +[^ ]+ +[0-9.]+[KMGT]? +[0-9]{4}-[0-9]{2}-[0-9]{2} from 100 +1  pvetmpl$" "$T/out"
    assert_grep '^ +`- 120 full01 on pve, full clone$' "$T/out"
    assert_grep '^ +`- 121 linked01 on pve, linked clone$' "$T/out"
    assert_no_grep '`- 12[23] ' "$T/out"
    # one journal pass for the whole list, however many templates: a shim
    # counts the journals opened
    expect_rc 0 "$PVETMPL" make-template 120 9101 --name tmpl-b --storage local-zfs
    cat >shim.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
int sd_journal_open(void **j, int flags)
{
    int (*real)(void **, int) = (int (*)(void **, int))dlsym(RTLD_NEXT, "sd_journal_open");
    FILE *f = fopen(getenv("SHIM_LOG"), "a");
    if (f) {
        fputs("open\n", f);
        fclose(f);
    }
    return real(j, flags);
}
C
    cc -shared -fPIC -o shim.so shim.c -ldl
    SHIM_LOG=$T/opens ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 0 "$PVETMPL" --json list --all
    assert_eq 1 "$(wc -l <"$T/opens")" "journals opened"
    assert_eq "journal 120" "$(tmpl 9101 '"\(.created_source) \(.created_from)"')"
    assert_eq 0 "$(tmpl 9101 '.clones | length')" "123 is 120's clone, not 9101's"
    # without --all: the dates, no clones
    expect_rc 0 "$PVETMPL" --json list
    assert_eq "journal 100 null" "$(tmpl 9100 '"\(.created_source) \(.created_from) \(.clones)"')"

    # the hook file on the storage changed (an older package's): outdated,
    # as hook status says; then gone: missing
    expect_rc 0 "$PVETMPL" --json hook status 9100
    path=$(jq -r '.vms[0].path' "$T/out")
    [ -f "$path" ]
    printf 'old' >>"$path"
    expect_rc 0 "$PVETMPL" --json hook status 9100
    assert_eq outdated "$(jq -r '.vms[0].state' "$T/out")"
    expect_rc 0 "$PVETMPL" --json list
    assert_eq outdated "$(tmpl 9100 .hook_current)"
    expect_rc 0 "$PVETMPL" list
    assert_grep '^9100  tmpl-a .*  pvetmpl \(outdated\)$' "$T/out"
    rm "$path"
    expect_rc 0 "$PVETMPL" --json list
    assert_eq missing "$(tmpl 9100 .hook_current)"
    expect_rc 0 "$PVETMPL" list
    assert_grep '^9100  tmpl-a .*  pvetmpl \(missing\)$' "$T/out"
}

# A template on another node: its hook file there is not this node's, unless
# the hook storage is shared.
other_node_hook() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-storage nfs nfs-hook export=/e path="$S/mnt/nfs-hook" server=192.0.2.9 \
        content=snippets,images
    "$PVESIM" "$S" add-vm 9300 --node pve2 --disk scsi0=local-lvm:8G \
        --hookscript local:snippets/pvetmpl-hook --template
    "$PVESIM" "$S" add-vm 9301 --node pve2 --disk scsi0=local-lvm:8G \
        --hookscript nfs-hook:snippets/pvetmpl-hook --template
    expect_rc 0 "$PVETMPL" --json list
    assert_eq "null" "$(tmpl 9300 .hook_current)"
    assert_eq "the template is on another node and its hook storage is not shared" \
        "$(tmpl 9300 .hook_current_why)"
    assert_eq missing "$(tmpl 9301 .hook_current)" "nfs is shared: this node sees the file"
    assert_eq null "$(tmpl 9301 .hook_current_why)"
    expect_rc 0 "$PVETMPL" list
    assert_grep '^9300 .*  pvetmpl \(\?\)$' "$T/out"
}

# A journal that cannot be read (an LD_PRELOAD shim fails sd_journal_next,
# as in t320): the dates fall back to the configs', no full clone is
# listed, and a warning says why; the listing itself succeeds.
unreadable_journal() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 9100 --name tmpl-a
    expect_rc 0 "$PVETMPL" clone 9100 120 --name full01
    cat >shim.c <<'C'
#define _GNU_SOURCE
#include <errno.h>
int sd_journal_next(void *j)
{
    (void)j;
    return -EIO;
}
C
    cc -shared -fPIC -o shim.so shim.c
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 0 "$PVETMPL" --json list --all
    assert_eq "config $((1780000000 + 100)) null" \
        "$(tmpl 9100 '"\(.created_source) \(.created) \(.created_from)"')" "100's meta, copied by qm clone"
    assert_eq 0 "$(tmpl 9100 '.clones | length')"
    jq -r '.warnings[0]' "$T/out" >"$T/warning"
    assert_grep "^cannot read the journal's lineage \(when and from which VM each template was made, its full clones\): reading the journal failed: Input/output error$" \
        "$T/warning"
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 0 "$PVETMPL" list
    assert_grep "^pvetmpl: warning: cannot read the journal's lineage \(when and from which VM each template was made\): reading the journal failed" "$T/err"
    assert_grep '^9100  tmpl-a .* [0-9]{4}-[0-9]{2}-[0-9]{2} +0  pvetmpl$' "$T/out"
}

# make demo ends with `pvetmpl list` showing the template it made.
demo_ends_with_list() {
    run "$TOP/tests/demo.sh"
    assert_eq 0 "$RC" "demo.sh exit status"
    # the last command the demo runs, and its table
    local last
    last=$(grep -n '\$ .*/pvetmpl list' "$T/out" | tail -n1 | cut -d: -f1)
    [ -n "$last" ] || { echo "no 'pvetmpl list' in the demo"; return 1; }
    assert_eq "" "$(tail -n +"$((last + 1))" "$T/out" | grep '\$ ' || true)" "a command after list"
    tail -n +"$last" "$T/out" >"$T/list"
    assert_grep '^ *VMID +NAME +NODE' "$T/list"
    assert_grep '^ *9000 +ubuntu-server-template-22\.04 +pve ' "$T/list"
    assert_grep '^\(exit 0\)$' "$T/list"
}

t_check "no template in the cluster: said, exit 0" no_templates
t_check "rows: storages, size, hook, linked clones counted; no qm call, one pvesm path" \
    rows_and_counts
t_check "--all lists the clones; the table" all_and_table
t_check "a guest vanishing between .vmlist and its config is skipped and counted" \
    vanished_guest
t_check "an unreadable config or .vmlist fails the listing (69)" unreadable
t_check "a 10 000-guest cluster on three nodes" big_cluster
t_check "the journal's lineage: created, created_from, full clones; the hook file's state" \
    journal_lineage
t_check "a template on another node: its hook file is known only on a shared storage" \
    other_node_hook
t_check "an unreadable journal: the configs' dates, no full clones, a warning" \
    unreadable_journal
t_check "make demo ends with pvetmpl list showing its template" demo_ends_with_list
t_done
