#!/bin/bash
# pvetmpl-hook against a real journald (tests/with-journald.sh): the entry of
# each phase read back with journalctl -o json, exit 0 for everything that is
# not the pre-start policy (unknown phases, bad arguments, no journal, no or
# broken config, bad rules, no VM config, FIFOs, a stalled journal), the
# policy refusal, the config lookup and its ownership rules, and the simulated
# node's qm start/stop running the installed hook end to end; `hook
# install|status|remove` on the simulated node.
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
    # ... but never silently: a warning entry that says why.
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == "cannot parse config '$T/pve.conf' at line 4"* ]]
    assert_eq "$T/pve.conf" "$(jfield "$j" PVETMPL_CONFIG)"
}

bad_rules() {
    # Rules that can never match would switch the policy off without a word:
    # each is warned about, the entry carries them, and the VM still starts.
    mkpve
    addvm 3150 ranged "web"
    bom=$'\xef\xbb\xbf'
    {
        echo "hook_refuse_vmids = {\"3199-3100\", \"03150\", \"${bom}3150\", \"31x0\"}"
        echo 'hook_refuse_tags = {"no start", "-x"}'
        echo 'hook_refuse_vmid = "3150"'
    } >>"$T/pve.conf"
    expect_rc 0 "$PVETMPL_HOOK" 3150 pre-start
    for r in "3199-3100" "03150" "${bom}3150" "31x0"; do
        assert_grep "ignoring hook_refuse_vmids rule '$r' in '$T/pve.conf'" "$T/err"
    done
    assert_grep "ignoring hook_refuse_tags rule 'no start'" "$T/err"
    assert_grep "ignoring hook_refuse_tags rule '-x'" "$T/err"
    assert_grep "unknown key 'hook_refuse_vmid' in '$T/pve.conf' ignored" "$T/err"
    j=$(jget PVETMPL_VMID=3150)
    assert_eq $ID_PRE_START "$(jfield "$j" MESSAGE_ID)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    ce=$(jfield "$j" PVETMPL_CONFIG_ERROR)
    [[ $ce == *"rule '3199-3100'"*"rule '03150'"*"rule 'no start'"* ]]
    [[ $ce == *"'hook_refuse_vmid'"* ]]
    # Other phases carry it too: the problem shows wherever one looks.
    expect_rc 0 "$PVETMPL_HOOK" 3150 post-stop
    assert_eq 4 "$(jfield "$(jget PVETMPL_VMID=3150 PVETMPL_PHASE=post-stop)" PRIORITY)"
    # A valid rule next to bad ones still refuses.
    echo 'hook_refuse_tags += {"web"}' >>"$T/pve.conf"
    expect_rc 1 "$PVETMPL_HOOK" 3150 pre-start
    j=$(jget PVETMPL_VMID=3150 MESSAGE_ID=$ID_REFUSED)
    assert_eq "hook_refuse_tags 'web'" "$(jfield "$j" PVETMPL_POLICY)"
    [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == *"rule '3199-3100'"* ]]
    # A byte order mark at the start of the file: said, skipped, rules kept.
    printf '\xef\xbb\xbfhook_refuse_vmids = {"3150"}\npve_dir = "%s/pve"\n' "$T" >"$T/pve.conf"
    expect_rc 1 "$PVETMPL_HOOK" 3150 pre-start
    assert_grep "starts with a UTF-8 byte order mark" "$T/err"
    # A clean config: no error field, the usual priority.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = {"3100-3149"}\n' "$T" \
        >"$T/pve.conf"
    expect_rc 0 "$PVETMPL_HOOK" 3150 pre-stop
    assert_eq "" "$(cat "$T/err")"
    j=$(jget PVETMPL_VMID=3150 PVETMPL_PHASE=pre-stop)
    assert_eq 6 "$(jfield "$j" PRIORITY)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_CONFIG_ERROR)"
}

fifo_files() {
    # A FIFO where a config should be would block open() forever while
    # Proxmox holds the VM's lock: it is refused at once instead.
    mkpve
    mkfifo "$T/pve/nodes/pve/qemu-server/3160.conf"
    s=$(date +%s%N)
    expect_rc 0 timeout 20 "$PVETMPL_HOOK" 3160 pre-start
    ms=$((($(date +%s%N) - s) / 1000000))
    [ "$ms" -lt 3000 ] || { echo "took $ms ms"; return 1; }
    assert_grep "cannot read the config of VM 3160 .*: not a regular file" "$T/err"
    mkfifo "$T/fifo.conf"
    s=$(date +%s%N)
    PVETMPL_CONFIG=$T/fifo.conf expect_rc 0 timeout 20 "$PVETMPL_HOOK" 3160 post-start
    ms=$((($(date +%s%N) - s) / 1000000))
    [ "$ms" -lt 3000 ] || { echo "took $ms ms"; return 1; }
    assert_grep "cannot read config '$T/fifo.conf': not a regular file" "$T/err"
    j=$(jget PVETMPL_VMID=3160 PVETMPL_PHASE=post-start)
    [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == *"not a regular file"* ]]
}

stalled_journal() {
    # A journal socket whose queue is full blocks sd_journal_sendv: the alarm
    # ends the hook - exit 0, or 1 once the policy has refused. The stalled
    # "journald" is a socket this test binds in its own mount namespace.
    mkpve
    addvm 3165 stalled "halt"
    echo 'hook_refuse_tags = {"halt"}' >>"$T/pve.conf"
    cat >stall.pl <<'PERL'
use strict;
use Socket;
use Fcntl;
use Time::HiRes qw(time);
my $p = "/run/systemd/journal/socket";
socket(my $srv, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
bind($srv, pack_sockaddr_un($p)) or die "bind: $!";
socket(my $cli, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
connect($cli, pack_sockaddr_un($p)) or die "connect: $!";
fcntl($cli, F_SETFL, fcntl($cli, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!";
my $n = 0;
$n++ while $n < 100000 && send($cli, "x" x 64, 0);
die "the queue never filled\n" if $n >= 100000;
my $t0 = time;
system(@ARGV);
printf "rc=%d secs=%d\n", $? >> 8, time - $t0;
PERL
    for ph in post-start pre-start; do
        # shellcheck disable=SC2016 # expanded by the inner sh
        expect_rc 0 timeout 60 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd &&
            mkdir /run/systemd/journal && exec perl "$@"' sh stall.pl "$PVETMPL_HOOK" 3165 $ph
        cp "$T/out" "out.$ph"
        assert_grep "timed out" "$T/err"
    done
    # post-start gives up with exit 0; a refused pre-start stays refused.
    assert_grep "^rc=0 secs=[4-9]$" out.post-start
    assert_grep "^rc=1 secs=[4-9]$" out.pre-start
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

cdrom_and_iso_are_no_base() {
    # Only a disk in a linked clone's shape names the base VM.
    mkpve
    {
        echo "name: media"
        echo "ide0: local:iso/base-100-disk-0.iso,media=cdrom"
        echo "ide2: local:100/base-100-disk-0.qcow2/3170/vm-3170-disk-0.qcow2,media=cdrom"
        echo "sata0: local:iso/base-200-disk-0.iso"
        echo "scsi0: local-lvm:vm-3170-disk-0,size=8G"
        echo "scsi1: local-zfs:base-300-disk-0/vm-3171-disk-0,size=8G"
    } >"$T/pve/nodes/pve/qemu-server/3170.conf"
    expect_rc 0 "$PVETMPL_HOOK" 3170 pre-start
    assert_eq "<absent>" "$(jfield "$(jget PVETMPL_VMID=3170)" PVETMPL_SOURCE_VMID)"
    echo "scsi2: local-zfs:base-400-disk-1/vm-3170-disk-2,size=8G" \
        >>"$T/pve/nodes/pve/qemu-server/3170.conf"
    expect_rc 0 "$PVETMPL_HOOK" 3170 post-start
    assert_eq 400 "$(jfield "$(jget PVETMPL_VMID=3170 PVETMPL_PHASE=post-start)" \
        PVETMPL_SOURCE_VMID)"
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

sidecar_must_be_roots() {
    # Whoever can write the side file decides which VMs start: only a
    # root-owned file that nobody else can write counts.
    mkpve
    addvm 3121 sideown ""
    cp "$PVETMPL_HOOK" "$T/hook"
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = "3121"\n' "$T" >"$T/hook.conf"
    chown 65534 "$T/hook.conf"
    expect_rc 0 env -i LC_ALL=C "$T/hook" 3121 pre-start
    assert_grep "ignoring '$T/hook.conf': it is not owned by root" "$T/err"
    j=$(jget PVETMPL_VMID=3121)
    assert_eq $ID_PRE_START "$(jfield "$j" MESSAGE_ID)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    assert_eq "ignoring '$T/hook.conf': it is not owned by root" \
        "$(jfield "$j" PVETMPL_CONFIG_ERROR)"
    chown 0 "$T/hook.conf"
    for m in 0664 0646; do
        chmod $m "$T/hook.conf"
        expect_rc 0 env -i LC_ALL=C "$T/hook" 3121 pre-start
        assert_grep "ignoring '$T/hook.conf': it is group- or world-writable" "$T/err"
    done
    chmod 0644 "$T/hook.conf"
    expect_rc 1 env -i LC_ALL=C "$T/hook" 3121 pre-start
    assert_grep "in '$T/hook.conf'" "$T/err"
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
    # Identical bytes owned by someone else: they could change it at will, so
    # it is replaced by root's own copy.
    chown 65534 "$SNIP/pvetmpl-hook"
    ino=$(stat -c %i "$SNIP/pvetmpl-hook")
    expect_rc 0 "$PVETMPL" --json hook install 3140
    assert_eq true "$(jq -r .hook_file.changed "$T/out")"
    assert_eq 0 "$(stat -c %u "$SNIP/pvetmpl-hook")"
    [ "$ino" != "$(stat -c %i "$SNIP/pvetmpl-hook")" ]
    cmp "$BUILD/pvetmpl-hook" "$SNIP/pvetmpl-hook"
    # A single-node cluster: no warning about node-local storage.
    assert_no_grep "not shared" "$T/err"
}

node_local_storage_warning() {
    # A hookscript on node-local storage cannot run on the other nodes:
    # warned about once the cluster has guests elsewhere.
    sim_setup --other-node pve2
    D=$S
    "$PVESIM" "$D" add-vm 3185 --name nl --disk scsi0=local:8 >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3185
    assert_no_grep "not shared" "$T/err"
    "$PVESIM" "$D" add-vm 3186 --node pve2 --name far --disk scsi0=local:8 >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3185
    assert_grep "warning: storage 'local' is not shared, but the cluster has guests on other nodes \(e.g. 3186 on 'pve2'\).*run 'pvetmpl hook install' on every node" "$T/err"
    # Shared storages: by type, or "shared 1" in storage.cfg.
    expect_rc 0 "$PVETMPL" hook install 3185 --storage nfs-shared
    assert_no_grep "not shared" "$T/err"
    mkdir -p "$D/mnt/sh"
    "$PVESIM" "$D" add-storage dir shdir path="$D/mnt/sh" content=snippets shared=1 >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3185 --storage shdir
    assert_no_grep "not shared" "$T/err"
    # make-template registers the hook through the same code: same warning.
    expect_rc 0 "$PVETMPL" make-template --storage dir-tmpl 100 9100
    assert_grep "warning: storage 'local' is not shared" "$T/err"
}


bare_shared_is_shared() {
    # pve-common SectionConfig.pm check_value: a boolean without value is 1, so a
    # bare "shared" line makes a storage shared; "shared 0" does not.
    sim_setup --other-node pve2
    D=$S
    "$PVESIM" "$D" add-vm 3187 --name bs --disk scsi0=local-lvm:8 >/dev/null
    "$PVESIM" "$D" add-vm 3188 --node pve2 --name far --disk scsi0=local-lvm:8 >/dev/null
    mkdir -p "$D/mnt/bare" "$D/mnt/zero"
    printf '\ndir: bare\n\tpath %s\n\tcontent snippets\n\tshared\n\ndir: zero\n\tpath %s\n\tcontent snippets\n\tshared 0\n\n' \
        "$D/mnt/bare" "$D/mnt/zero" >>"$D/etc/pve/storage.cfg"
    expect_rc 0 "$PVETMPL" hook install 3187 --storage bare
    assert_no_grep "not shared" "$T/err"
    expect_rc 0 "$PVETMPL" hook install 3187 --storage zero
    assert_grep "warning: storage 'zero' is not shared" "$T/err"
}


foreign_hook_refused() {
    mknode
    printf '#!/bin/sh\nexit 0\n' >"$SNIP/gpu-passthrough.pl"
    chmod 755 "$SNIP/gpu-passthrough.pl"
    "$PVESIM" "$D" add-vm 3190 --name gpu --disk scsi0=local-lvm:8 >/dev/null
    "$PVESIM" "$D" add-vm 3191 --name plain --disk scsi0=local-lvm:8 >/dev/null
    "$D/bin/qm" set 3190 --hookscript local:snippets/gpu-passthrough.pl >/dev/null
    before=$("$PVESIM" "$D" calls --mutating | wc -l)
    expect_rc 69 "$PVETMPL" hook install 3191 3190
    assert_grep "VM 3190 has the hookscript 'local:snippets/gpu-passthrough.pl', which is not pvetmpl's.*--replace-hook" "$T/err"
    assert_eq "$before" "$("$PVESIM" "$D" calls --mutating | wc -l)" "nothing set on any VM"
    assert_eq "" "$(ls "$SNIP" | grep -v gpu-passthrough.pl)" "no hook file written"
    expect_rc 64 "$PVETMPL" hook status 3190 --replace-hook
    expect_rc 0 "$PVETMPL" hook install 3191 3190 --replace-hook
    assert_grep "warning: VM 3190 had the hookscript 'local:snippets/gpu-passthrough.pl', replacing it" "$T/err"
    grep -q '^hookscript: local:snippets/pvetmpl-hook$' "$D/etc/pve/nodes/pve/qemu-server/3190.conf"
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
    # A VM that does not exist: checked before anything is written or set.
    run "$PVETMPL" hook install 3141 3199
    [ "$RC" != 0 ]
    assert_grep "qm config 3199" "$T/err"
    assert_eq "" "$(ls -A "$SNIP")" "nothing written for a missing VM"
    assert_eq "" "$("$PVESIM" "$D" calls --mutating)" "nothing set for a missing VM"
    # Another storage works when it is file-based.
    expect_rc 0 "$PVETMPL" hook install 3141 --storage dir-tmpl
    run "$D/bin/qm" config 3141
    assert_grep "^hookscript: dir-tmpl:snippets/pvetmpl-hook$" "$T/out"
    cmp "$BUILD/pvetmpl-hook" "$D/mnt/tmpl/snippets/pvetmpl-hook"
}

write_returns_zero() {
    # write(2) returning 0 leaves errno as it was: the error must not show a
    # stale one (ASan, under make sanitize, must be told the shim may come first). An LD_PRELOAD shim makes the temporary hook file's writes
    # return 0 after setting errno to ENOTTY.
    mknode
    "$PVESIM" "$D" add-vm 3146 --name w0 --disk scsi0=local:8 >/dev/null
    cat >shim.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    char link[64], target[4096];
    if (!real) {
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t l = readlink(link, target, sizeof(target) - 1);
    if (l > 0 && n > 0) {
        target[l] = '\0';
        if (strstr(target, "/snippets/.pvetmpl-hook.")) {
            errno = ENOTTY;
            return 0;
        }
    }
    return real(fd, buf, n);
}
C
    cc -shared -fPIC -o shim.so shim.c -ldl
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/shim.so expect_rc 69 "$PVETMPL" hook install 3146
    assert_grep "cannot write '$SNIP/pvetmpl-hook': Input/output error" "$T/err"
    assert_no_grep "Inappropriate ioctl" "$T/err"
    assert_eq "" "$(ls -A "$SNIP")" "no temporary file left"
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
    # The side config: shown, and whether the hook would use it.
    printf 'hook_refuse_tags = {"x"}\n' >"$SNIP/pvetmpl-hook.conf"
    expect_rc 0 "$PVETMPL" hook status 3143
    assert_grep "^3143 +installed +local:snippets/pvetmpl-hook +same  config $SNIP/pvetmpl-hook.conf \(used\)$" "$T/out"
    chown 65534 "$SNIP/pvetmpl-hook.conf"
    expect_rc 0 "$PVETMPL" --json hook status 3143
    assert_eq "$SNIP/pvetmpl-hook.conf" "$(jq -r '.vms[0].config' "$T/out")"
    assert_eq "ignored: not owned by root" "$(jq -r '.vms[0].config_state' "$T/out")"
    rm "$SNIP/pvetmpl-hook.conf"
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
t_check "unparseable config: no policy, exit 0, PVETMPL_CONFIG_ERROR, priority 4" broken_config
t_check "rules that do not parse are warned about and recorded; valid ones still refuse" \
    bad_rules
t_check "a FIFO as VM config or config: exit 0 at once" fifo_files
t_check "a stalled journal: the alarm exits 0, or 1 after a refusal" stalled_journal
t_check "a cdrom or ISO volume is no linked-clone base" cdrom_and_iso_are_no_base
t_check "VM config found under nodes/<node>/ without the symlink" node_layout_without_symlink
t_check "pre-start policy refuses by VMID range and tag (exit 1, journaled)" policy_refusal
t_check "config next to the hook is found without PVETMPL_CONFIG" sidecar_config
t_check "config next to the hook: ignored unless root's and not writable by others" \
    sidecar_must_be_roots
if [ -x "$PVESIM" ] && [ -x "$PVETMPL" ]; then
    t_check "simulated node: hook install, qm start/stop run the hook, policy refusal" \
        sim_end_to_end
    t_check "hook install: atomic, mode 0755, idempotent, root-owned" install_idempotent
    t_check "hook install on node-local storage warns when other nodes have guests" \
        node_local_storage_warning
    t_check "hook install: bad storages and arguments fail before any write" install_refusals
    t_check "a bare 'shared' line in storage.cfg means shared" bare_shared_is_shared
    t_check "hook install refuses a foreign hookscript unless --replace-hook" foreign_hook_refused
    t_check "hook -n: read-only queries only, planned argv reported" dry_run_changes_nothing
    if command -v cc >/dev/null; then
        t_check "hook install: a write that returns 0 is reported without a stale errno" \
            write_returns_zero
    else
        t_skip "hook install: a write that returns 0" "no C compiler for the LD_PRELOAD shim"
    fi
    t_check "hook status and remove" status_and_remove
else
    t_skip "simulated node end to end" "tests/pvesim/pvesim or build/pvetmpl is missing"
fi
t_done
