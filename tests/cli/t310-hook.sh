#!/bin/bash
# pvetmpl-hook against a real journald (tests/with-journald.sh): the entry of
# each phase read back with journalctl -o json, exit 0 for everything that is
# not the pre-start policy (unknown phases, bad arguments, no journal, no or
# broken config, no VM config), the policy refusal, the config lookup, and the
# simulated node's qm start/stop running the installed hook end to end.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

if [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    t_skip "pvetmpl-hook journal tests" "needs the test journald (run tests/run.sh as root)"
    t_done
    exit
fi

ID_PRE_START=0088113c58354056aaac4d63266d83bc
ID_POST_START=146f9bae60d34fe0a9c0c2be2d720f00
ID_PRE_STOP=a59a76b517484e8e9277e11008957cc4
ID_POST_STOP=c72a7568645347b08b2bb9c4299c4f97
ID_REFUSED=1955303dbf2440698971b5e467e691f3
ID_INVALID=52275f2771314a6382f6f849605a4497

# jget MATCH... : the newest matching entry of the hook as one JSON line.
jget() {
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl-hook "$@" | tail -n 1
}
# jfield JSON FIELD
jfield() { jq -r --arg f "$2" '.[$f] // "<absent>"' <<<"$1"; }
count() {
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl-hook "$@" | wc -l
}

# A fake /etc/pve in $T/pve with VM configs in the real node's layout.
mkpve() {
    mkdir -p "$T/pve/nodes/pve/qemu-server"
    ln -s nodes/pve/qemu-server "$T/pve/qemu-server"
    cat >"$T/pve.conf" <<EOF
pve_dir = "$T/pve"
node = "pve"
EOF
    export PVETMPL_CONFIG=$T/pve.conf
}
addvm() { # VMID NAME TAGS [DISK]
    {
        echo "#a description line: with a colon"
        echo "boot: order=scsi0"
        echo "name: $2"
        [ -z "$3" ] || echo "tags: $3"
        echo "scsi0: ${4:-local-lvm:vm-$1-disk-0},iothread=1,size=8G"
        echo "ide2: local:$1/vm-$1-cloudinit.qcow2,media=cdrom"
        echo
        echo "[snap1]"
        echo "name: old-name"
        echo "scsi0: local:9999/base-9999-disk-0.qcow2/$1/vm-$1-disk-0.qcow2,size=8G"
    } >"$T/pve/nodes/pve/qemu-server/$1.conf"
}

four_phases() {
    mkpve
    addvm 3100 web-3100 "prod;web" "local:9000/base-9000-disk-0.qcow2/3100/vm-3100-disk-0.qcow2"
    for ph in pre-start post-start pre-stop post-stop; do
        expect_rc 0 "$PVETMPL_HOOK" 3100 "$ph"
        assert_eq "" "$(cat "$T/err")" "stderr of $ph"
    done
    local ids=("$ID_PRE_START" "$ID_POST_START" "$ID_PRE_STOP" "$ID_POST_STOP") i=0
    for ph in pre-start post-start pre-stop post-stop; do
        j=$(jget PVETMPL_VMID=3100 PVETMPL_PHASE=$ph)
        assert_eq "${ids[$i]}" "$(jfield "$j" MESSAGE_ID)" "MESSAGE_ID of $ph"
        assert_eq 6 "$(jfield "$j" PRIORITY)"
        assert_eq pvetmpl-hook "$(jfield "$j" SYSLOG_IDENTIFIER)"
        assert_eq web-3100 "$(jfield "$j" PVETMPL_NAME)"
        assert_eq "prod;web" "$(jfield "$j" PVETMPL_TAGS)"
        assert_eq 9000 "$(jfield "$j" PVETMPL_SOURCE_VMID)"
        assert_eq "<absent>" "$(jfield "$j" PVETMPL_MIGRATED_FROM)"
        assert_eq "VM 3100 'web-3100' $ph" "$(jfield "$j" MESSAGE)"
        assert_eq 0 "$(jfield "$j" _UID)"
        i=$((i + 1))
    done
    assert_eq 4 "$(count PVETMPL_VMID=3100)" "one entry per call"
}

migrated_from() {
    mkpve
    addvm 3101 mig ""
    PVE_MIGRATED_FROM=pve2 expect_rc 0 "$PVETMPL_HOOK" 3101 pre-start
    j=$(jget PVETMPL_VMID=3101)
    assert_eq pve2 "$(jfield "$j" PVETMPL_MIGRATED_FROM)"
    assert_eq "VM 3101 'mig' pre-start (migrated from pve2)" "$(jfield "$j" MESSAGE)"
    # Proxmox sets it empty on a normal start: then the field is left out.
    PVE_MIGRATED_FROM="" expect_rc 0 "$PVETMPL_HOOK" 3101 post-start
    j=$(jget PVETMPL_VMID=3101 PVETMPL_PHASE=post-start)
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_MIGRATED_FROM)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_TAGS)"
    # Full clone: no base- volume, so no source.
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_SOURCE_VMID)"
}

unknown_phase() {
    mkpve
    expect_rc 0 "$PVETMPL_HOOK" 3102 pre-migrate
    assert_grep "unknown phase 'pre-migrate', ignoring" "$T/err"
    j=$(jget PVETMPL_VMID=3102)
    assert_eq $ID_INVALID "$(jfield "$j" MESSAGE_ID)"
    assert_eq pre-migrate "$(jfield "$j" PVETMPL_PHASE)"
    assert_eq "unknown phase 'pre-migrate'" "$(jfield "$j" PVETMPL_ERROR)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
}

bad_arguments() {
    mkpve
    expect_rc 0 "$PVETMPL_HOOK"
    assert_grep "bad arguments: expected VMID PHASE, got 0" "$T/err"
    expect_rc 0 "$PVETMPL_HOOK" 3103 pre-start extra
    assert_grep "got 3 argument" "$T/err"
    expect_rc 0 "$PVETMPL_HOOK" 99 pre-start
    assert_grep "invalid VMID '99'" "$T/err"
    expect_rc 0 "$PVETMPL_HOOK" "" pre-start
    expect_rc 0 "$PVETMPL_HOOK" "3103x" pre-start
    j=$(jget MESSAGE_ID=$ID_INVALID PVETMPL_ERROR="invalid VMID '3103x'")
    assert_eq pre-start "$(jfield "$j" PVETMPL_PHASE)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_VMID)"
}

no_journal() {
    mkpve
    addvm 3104 nojournal ""
    for ph in pre-start post-start pre-stop post-stop bogus; do
        # An empty /run/systemd: no journal socket at all.
        expect_rc 0 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec "$@"' sh \
            "$PVETMPL_HOOK" 3104 $ph
        assert_grep "not recorded: journal socket '/run/systemd/journal/socket' is not available" \
            "$T/err"
    done
    assert_eq 0 "$(count PVETMPL_VMID=3104)"
}

missing_config() {
    # The config file named by PVETMPL_CONFIG is missing: defaults, a warning, exit 0.
    PVETMPL_CONFIG=$T/nonexistent.conf expect_rc 0 "$PVETMPL_HOOK" 3105 pre-start
    assert_grep "cannot read config '$T/nonexistent.conf'" "$T/err"
    assert_grep "cannot read the config of VM 3105" "$T/err"
    j=$(jget PVETMPL_VMID=3105)
    assert_eq $ID_PRE_START "$(jfield "$j" MESSAGE_ID)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_NAME)"
}

broken_config() {
    mkpve
    addvm 3106 broken ""
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = {"3106"\n' "$T" >"$T/pve.conf"
    # Unparseable: no policy (the start goes on), default paths.
    expect_rc 0 "$PVETMPL_HOOK" 3106 pre-start
    assert_grep "cannot parse config '$T/pve.conf' at line" "$T/err"
    j=$(jget PVETMPL_VMID=3106)
    assert_eq $ID_PRE_START "$(jfield "$j" MESSAGE_ID)"
}

node_layout_without_symlink() {
    mkpve
    rm "$T/pve/qemu-server"
    addvm 3107 nodeform ""
    expect_rc 0 "$PVETMPL_HOOK" 3107 post-stop
    assert_eq "" "$(cat "$T/err")"
    assert_eq nodeform "$(jfield "$(jget PVETMPL_VMID=3107)" PVETMPL_NAME)"
}

policy_refusal() {
    mkpve
    addvm 3110 ok-vm "web"
    addvm 3150 ranged ""
    addvm 3111 tagged "Web;NoStart"
    cat >>"$T/pve.conf" <<'EOF'
# only pre-start is ever refused
hook_refuse_vmids = {"3140-3160", "3199"}
hook_refuse_tags = {"nostart"}   // case does not matter
/* sections are skipped */
other { hook_refuse_vmids = {"3110"} }
EOF
    expect_rc 0 "$PVETMPL_HOOK" 3110 pre-start
    expect_rc 1 "$PVETMPL_HOOK" 3150 pre-start
    assert_grep "^pvetmpl-hook: refusing to start VM 3150: it matches hook_refuse_vmids '3140-3160' in '$T/pve.conf'" "$T/err"
    j=$(jget PVETMPL_VMID=3150)
    assert_eq $ID_REFUSED "$(jfield "$j" MESSAGE_ID)"
    assert_eq "hook_refuse_vmids '3140-3160'" "$(jfield "$j" PVETMPL_POLICY)"
    assert_eq "$T/pve.conf" "$(jfield "$j" PVETMPL_CONFIG)"
    assert_eq pre-start "$(jfield "$j" PVETMPL_PHASE)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    expect_rc 1 "$PVETMPL_HOOK" 3111 pre-start
    assert_grep "hook_refuse_tags 'nostart'" "$T/err"
    # The other phases are never refused.
    for ph in post-start pre-stop post-stop; do
        expect_rc 0 "$PVETMPL_HOOK" 3150 $ph
    done
    # Refusal holds even without a journal.
    expect_rc 1 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec "$@"' sh \
        "$PVETMPL_HOOK" 3199 pre-start
    assert_grep "refusing to start VM 3199" "$T/err"
    assert_grep "not recorded" "$T/err"
}

sidecar_config() {
    # Proxmox passes only LC_ALL/PATH/PVE_MIGRATED_FROM: the file next to the
    # hook is found without any environment; PVETMPL_CONFIG beats it.
    mkpve
    addvm 3120 sidecar ""
    cp "$PVETMPL_HOOK" "$T/hook"
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = "3120"\n' "$T" >"$T/hook.conf"
    expect_rc 1 env -i LC_ALL=C PATH=/sbin:/bin:/usr/sbin:/usr/bin "$T/hook" 3120 pre-start
    assert_grep "in '$T/hook.conf'" "$T/err"
    expect_rc 0 env -i PVETMPL_CONFIG="$T/pve.conf" "$T/hook" 3120 pre-start
    assert_eq sidecar "$(jfield "$(jget PVETMPL_VMID=3120 MESSAGE_ID=$ID_PRE_START)" PVETMPL_NAME)"
}

sim_end_to_end() {
    D=$T/node
    "$PVESIM" init "$D" >/dev/null
    "$PVESIM" "$D" add-vm 3130 --name e2e-vm --tags "e2e" --disk scsi0=local:8 >/dev/null
    cat >"$T/pvetmpl.conf" <<EOF
qm = "$D/bin/qm"
pvesm = "$D/bin/pvesm"
vmlist = "$D/etc/pve/.vmlist"
pve_dir = "$D/etc/pve"
node = "pve"
run_dir = "$D/run/pvetmpl"
hook_binary = "$BUILD/pvetmpl-hook"
EOF
    export PVETMPL_CONFIG=$T/pvetmpl.conf
    expect_rc 0 "$PVETMPL" hook install 3130
    cmp "$BUILD/pvetmpl-hook" "$D/var/lib/vz/snippets/pvetmpl-hook"
    # The simulator runs the hook with qemu-server's environment: the sidecar
    # tells it where the simulated /etc/pve is.
    printf 'pve_dir = "%s/etc/pve"\nnode = "pve"\nhook_refuse_tags = {"blocked"}\n' "$D" \
        >"$D/var/lib/vz/snippets/pvetmpl-hook.conf"
    unset PVETMPL_CONFIG
    expect_rc 0 "$D/bin/qm" start 3130
    expect_rc 0 "$D/bin/qm" stop 3130
    local i=0 ids=("$ID_PRE_START" "$ID_POST_START" "$ID_PRE_STOP" "$ID_POST_STOP")
    for ph in pre-start post-start pre-stop post-stop; do
        j=$(jget PVETMPL_VMID=3130 PVETMPL_PHASE=$ph)
        assert_eq "${ids[$i]}" "$(jfield "$j" MESSAGE_ID)" "$ph"
        assert_eq e2e-vm "$(jfield "$j" PVETMPL_NAME)"
        i=$((i + 1))
    done
    # The policy through the simulator: qm start fails, the VM stays stopped.
    "$PVESIM" "$D" add-vm 3131 --name blocked-vm --tags "blocked" --disk scsi0=local:8 \
        --hookscript local:snippets/pvetmpl-hook >/dev/null
    expect_rc 255 "$D/bin/qm" start 3131
    assert_grep "hookscript error for 3131 on pre-start: command .* failed: exit code 1" "$T/err"
    assert_grep "refusing to start VM 3131" "$T/out" || assert_grep "refusing to start VM 3131" "$T/err"
    run "$D/bin/qm" status 3131
    assert_grep "status: stopped" "$T/out"
    assert_eq $ID_REFUSED "$(jfield "$(jget PVETMPL_VMID=3131)" MESSAGE_ID)"
}

mknode() { # the shared simulated node of lib.sh, as $D
    sim_setup
    D=$S
    SNIP=$D/var/lib/vz/snippets
}

install_idempotent() {
    mknode
    "$PVESIM" "$D" add-vm 3140 --name i1 --disk scsi0=local:8 >/dev/null
    expect_rc 0 "$PVETMPL" --json hook install 3140 100
    assert_eq true "$(jq -r .changed "$T/out")"
    assert_eq true "$(jq -r .hook_file.changed "$T/out")"
    assert_eq "$SNIP/pvetmpl-hook" "$(jq -r .hook_file.path "$T/out")"
    assert_eq "set set" "$(jq -r '[.vms[].state] | join(" ")' "$T/out")"
    assert_eq 755 "$(stat -c %a "$SNIP/pvetmpl-hook")"
    cmp "$BUILD/pvetmpl-hook" "$SNIP/pvetmpl-hook"
    assert_eq "pvetmpl-hook" "$(ls -A "$SNIP")" "no temporary files left"
    ino=$(stat -c %i "$SNIP/pvetmpl-hook")
    "$PVESIM" "$D" calls --mutating >before
    expect_rc 0 "$PVETMPL" --json hook install 3140 100
    assert_eq false "$(jq -r .changed "$T/out")"
    assert_eq "unchanged unchanged" "$(jq -r '[.vms[].state] | join(" ")' "$T/out")"
    assert_eq "$ino" "$(stat -c %i "$SNIP/pvetmpl-hook")" "file not rewritten"
    "$PVESIM" "$D" calls --mutating >after
    cmp before after
    # A different binary, or a lost x bit, is replaced atomically.
    echo garbage >"$SNIP/pvetmpl-hook"
    expect_rc 0 "$PVETMPL" hook install 3140
    cmp "$BUILD/pvetmpl-hook" "$SNIP/pvetmpl-hook"
    chmod 0644 "$SNIP/pvetmpl-hook"
    expect_rc 0 "$PVETMPL" hook install 3140
    assert_eq 755 "$(stat -c %a "$SNIP/pvetmpl-hook")"
}

install_refusals() {
    mknode
    "$PVESIM" "$D" add-vm 3141 --name r1 --disk scsi0=local:8 >/dev/null
    for s in local-lvm lvm-thick iscsi-san backup-pbs; do
        expect_rc 69 "$PVETMPL" hook install 3141 --storage $s
        assert_grep "storage '$s' \(type [a-z]+\) is not file-based" "$T/err"
    done
    expect_rc 69 "$PVETMPL" hook install 3141 --storage=nosuch
    assert_grep "storage 'nosuch' does not exist" "$T/err"
    expect_rc 69 "$PVETMPL" hook install 3141 --storage old-nfs
    assert_grep "storage 'old-nfs' is disabled" "$T/err"
    assert_eq "" "$(ls -A "$SNIP")" "nothing written"
    assert_eq "" "$("$PVESIM" "$D" calls --mutating)" "nothing changed"
    expect_rc 64 "$PVETMPL" hook install 99
    assert_grep "invalid VMID '99'" "$T/err"
    expect_rc 64 "$PVETMPL" hook install
    assert_grep "no VMID given" "$T/err"
    expect_rc 64 "$PVETMPL" hook frobnicate 3141
    expect_rc 64 "$PVETMPL" hook remove 3141 --storage local
    expect_rc 64 "$PVETMPL" hook install 3141 --storage 'a b'
    expect_rc 64 "$PVETMPL" hook install 3141 --bogus
    # A VM that does not exist: the query fails, nothing is set.
    run "$PVETMPL" hook install 3199
    [ "$RC" != 0 ]
    assert_grep "qm config 3199" "$T/err"
    # Another storage works when it is file-based.
    expect_rc 0 "$PVETMPL" hook install 3141 --storage dir-tmpl
    run "$D/bin/qm" config 3141
    assert_grep "^hookscript: dir-tmpl:snippets/pvetmpl-hook$" "$T/out"
    cmp "$BUILD/pvetmpl-hook" "$D/mnt/tmpl/snippets/pvetmpl-hook"
}

dry_run_changes_nothing() {
    mknode
    "$PVESIM" "$D" add-vm 3142 --name d1 --disk scsi0=local:8 >/dev/null
    expect_rc 0 "$PVETMPL" --json -n hook install 3142
    assert_eq true "$(jq -r .dry_run "$T/out")"
    assert_eq "$D/bin/qm set 3142 --hookscript local:snippets/pvetmpl-hook" \
        "$(jq -r '.commands[0] | join(" ")' "$T/out")"
    assert_eq "" "$(ls -A "$SNIP")" "nothing written"
    assert_eq "" "$("$PVESIM" "$D" calls --mutating)" "no mutating call"
    expect_rc 0 "$PVETMPL" hook install 3142
    expect_rc 0 "$PVETMPL" -n hook remove 3142
    assert_grep "would run: .*/qm set 3142 --delete hookscript" "$T/out"
    run "$D/bin/qm" config 3142
    assert_grep "^hookscript: " "$T/out"
}

status_and_remove() {
    mknode
    "$PVESIM" "$D" add-vm 3143 --name s1 --disk scsi0=local:8 >/dev/null
    "$PVESIM" "$D" add-vm 3144 --name s2 --disk scsi0=local:8 >/dev/null
    printf '#!/bin/sh\nexit 0\n' >"$SNIP/other.sh"
    chmod 755 "$SNIP/other.sh"
    "$PVESIM" "$D" add-vm 3145 --name s3 --disk scsi0=local:8 \
        --hookscript local:snippets/other.sh >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3143
    expect_rc 0 "$PVETMPL" --json hook status 3143 3144 3145
    assert_eq "installed none foreign" "$(jq -r '[.vms[].state] | join(" ")' "$T/out")"
    assert_eq same "$(jq -r '.vms[0].file' "$T/out")"
    assert_eq false "$(jq -r .changed "$T/out")"
    expect_rc 0 "$PVETMPL" hook status 3143 3144
    assert_grep "^3143 +installed +local:snippets/pvetmpl-hook +same$" "$T/out"
    assert_grep "^3144 +none +- +-$" "$T/out"
    cp /bin/true "$SNIP/pvetmpl-hook"
    expect_rc 0 "$PVETMPL" --json hook status 3143
    assert_eq "outdated differs" "$(jq -r '.vms[0] | "\(.state) \(.file)"' "$T/out")"
    # remove: only ours; none is fine; a foreign one is refused.
    expect_rc 0 "$PVETMPL" hook remove 3143 3144
    run "$D/bin/qm" config 3143
    assert_no_grep "^hookscript:" "$T/out"
    expect_rc 69 "$PVETMPL" hook remove 3145
    assert_grep "not pvetmpl's" "$T/err"
    run "$D/bin/qm" config 3145
    assert_grep "^hookscript: local:snippets/other.sh" "$T/out"
}

t_check "all four phases: one entry each, exit 0, fields from the VM config" four_phases
t_check "PVE_MIGRATED_FROM becomes PVETMPL_MIGRATED_FROM only when set" migrated_from
t_check "an unknown phase is logged and ignored (exit 0)" unknown_phase
t_check "bad arguments are logged and ignored (exit 0)" bad_arguments
t_check "no journal socket: exit 0 and a warning on stderr" no_journal
t_check "missing config and VM config: defaults, warnings, exit 0" missing_config
t_check "unparseable config: no policy, exit 0" broken_config
t_check "VM config found under nodes/<node>/ without the symlink" node_layout_without_symlink
t_check "pre-start policy refuses by VMID range and tag (exit 1, journaled)" policy_refusal
t_check "config next to the hook is found with Proxmox's bare environment" sidecar_config
if [ -x "$PVESIM" ] && [ -x "$PVETMPL" ]; then
    t_check "simulated node: hook install, qm start/stop run the hook, policy refusal" \
        sim_end_to_end
    t_check "hook install: atomic, mode 0755, idempotent" install_idempotent
    t_check "hook install: bad storages and arguments fail before any write" install_refusals
    t_check "hook -n: read-only queries only, planned argv reported" dry_run_changes_nothing
    t_check "hook status and remove" status_and_remove
else
    t_skip "simulated node end to end" "tests/pvesim/pvesim or build/pvetmpl is missing"
fi
t_done
