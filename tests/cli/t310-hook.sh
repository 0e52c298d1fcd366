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

# A copy of the hook as $HOOK in the test's dir: its config is the file
# beside it, $HOOK.conf (the environment never names the hook's config).
mkhook() {
    HOOK=$T/hook
    cp "$PVETMPL_HOOK" "$HOOK"
}
# A fake /etc/pve in $T/pve with VM configs in the real node's layout, and
# $HOOK with a config pointing at it.
mkpve() {
    mkhook
    mkdir -p "$T/pve/nodes/pve/qemu-server"
    ln -s nodes/pve/qemu-server "$T/pve/qemu-server"
    cat >"$T/hook.conf" <<EOF
pve_dir = "$T/pve"
node = "pve"
EOF
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
        expect_rc 0 "$HOOK" 3100 "$ph"
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
    PVE_MIGRATED_FROM=pve2 expect_rc 0 "$HOOK" 3101 pre-start
    j=$(jget PVETMPL_VMID=3101)
    assert_eq pve2 "$(jfield "$j" PVETMPL_MIGRATED_FROM)"
    assert_eq "VM 3101 'mig' pre-start (migrated from pve2)" "$(jfield "$j" MESSAGE)"
    # Proxmox sets it empty on a normal start: then the field is left out.
    PVE_MIGRATED_FROM="" expect_rc 0 "$HOOK" 3101 post-start
    j=$(jget PVETMPL_VMID=3101 PVETMPL_PHASE=post-start)
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_MIGRATED_FROM)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_TAGS)"
    # Full clone: no base- volume, so no source.
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_SOURCE_VMID)"
}

unknown_phase() {
    mkpve
    expect_rc 0 "$HOOK" 3102 pre-migrate
    assert_grep "unknown phase 'pre-migrate', ignoring" "$T/err"
    j=$(jget PVETMPL_VMID=3102)
    assert_eq $ID_INVALID "$(jfield "$j" MESSAGE_ID)"
    assert_eq pre-migrate "$(jfield "$j" PVETMPL_PHASE)"
    assert_eq "unknown phase 'pre-migrate'" "$(jfield "$j" PVETMPL_ERROR)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
}

bad_arguments() {
    mkpve
    expect_rc 0 "$HOOK"
    assert_grep "bad arguments: expected VMID PHASE, got 0" "$T/err"
    expect_rc 0 "$HOOK" 3103 pre-start extra
    assert_grep "got 3 argument" "$T/err"
    expect_rc 0 "$HOOK" 99 pre-start
    assert_grep "invalid VMID '99'" "$T/err"
    expect_rc 0 "$HOOK" "" pre-start
    expect_rc 0 "$HOOK" "3103x" pre-start
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
            "$HOOK" 3104 $ph
        assert_grep "not recorded: journal socket '/run/systemd/journal/socket' is not available" \
            "$T/err"
    done
    assert_eq 0 "$(count PVETMPL_VMID=3104)"
}

missing_config() {
    # No config beside the hook (and none at the default path here): the
    # defaults, no policy, exit 0; a missing VM config is only a warning.
    mkhook
    expect_rc 0 "$HOOK" 3105 pre-start
    assert_grep "cannot read the config of VM 3105" "$T/err"
    j=$(jget PVETMPL_VMID=3105)
    assert_eq $ID_PRE_START "$(jfield "$j" MESSAGE_ID)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_NAME)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_CONFIG_ERROR)"
}

broken_config() {
    # A config that does not parse and configures no policy: the defaults
    # (the start goes on), but never silently.
    mkpve
    addvm 3106 broken ""
    printf 'pve_dir = "%s/pve"\nnode = "pve"\ntimeout = {1}\n' "$T" >"$T/hook.conf"
    expect_rc 0 "$HOOK" 3106 pre-start
    assert_grep "config '$T/hook.conf' not used: $T/hook.conf:3: .*; using the defaults \(no policy\)" \
        "$T/err"
    j=$(jget PVETMPL_VMID=3106)
    assert_eq $ID_PRE_START "$(jfield "$j" MESSAGE_ID)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == "config '$T/hook.conf' not used: $T/hook.conf:3: "* ]]
    assert_eq "$T/hook.conf" "$(jfield "$j" PVETMPL_CONFIG)"
    # A policy key in a comment configures nothing.
    printf 'pve_dir = "%s/pve"\n# hook_refuse_vmids = {"3106"}\nbogus = 1\n' "$T" >"$T/hook.conf"
    expect_rc 0 "$HOOK" 3106 pre-start
    assert_grep "no such option 'bogus'" "$T/err"
    # One that evidently configures a policy fails closed: every pre-start
    # is refused (the admin asked for a policy we cannot read); the other
    # phases are logged.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = {"3106"\n' "$T" >"$T/hook.conf"
    expect_rc 1 "$HOOK" 3108 pre-start
    assert_grep "refusing to start VM 3108: fail-closed: config '$T/hook.conf' may configure a refusal policy and cannot be used" \
        "$T/err"
    j=$(jget PVETMPL_VMID=3108)
    assert_eq $ID_REFUSED "$(jfield "$j" MESSAGE_ID)"
    [[ $(jfield "$j" PVETMPL_POLICY) == "fail-closed: "* ]]
    [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == *"every pre-start is refused" ]]
    expect_rc 0 "$HOOK" 3108 post-stop
    assert_eq $ID_POST_STOP "$(jfield "$(jget PVETMPL_VMID=3108 PVETMPL_PHASE=post-stop)" MESSAGE_ID)"
}

hidden_policy_keys() {
    # libconfuse reads a quoted option name with escapes: a policy key can
    # be spelt without the text "hook_refuse" (or sit behind an unclosed
    # comment). With an unrelated error in the file, the policy must still
    # be seen: every pre-start refused.
    mkpve
    addvm 3220 hidden ""
    local base
    base=$(cat "$T/hook.conf")
    printf '%s\n"hook\\x5frefuse_vmids" = {777}\ntimeout = -1\n' "$base" >"$T/hook.conf"
    expect_rc 1 "$HOOK" 3220 pre-start
    assert_grep "refusing to start VM 3220: fail-closed: config '$T/hook.conf' may configure a refusal policy and cannot be used" \
        "$T/err"
    assert_grep "hook.conf:4: option 'timeout'" "$T/err"
    # Behind a syntax error the rest cannot be read as libconfuse would:
    # a backslash there could spell a key.
    printf '%s\ntimeout 5 6\n"hook\\x5frefuse_vmids" = {777}\n' "$base" >"$T/hook.conf"
    expect_rc 1 "$HOOK" 3220 pre-start
    assert_grep "fail-closed" "$T/err"
    # Everything after an unclosed comment could be meant as policy.
    printf '%s\n/* timeout = 5\nhook_refuse_vmids = {777}\n' "$base" >"$T/hook.conf"
    expect_rc 1 "$HOOK" 3220 pre-start
    assert_grep "hook.conf:3: unterminated comment; it may configure a refusal policy" "$T/err"
    # Escapes in values only, no policy, a bad value: libconfuse's own
    # reading finds no policy key, so the defaults apply (exit 0).
    printf '%s\nhook_name = "\\x70vetmpl"\ntimeout = -1\n' "$base" >"$T/hook.conf"
    expect_rc 0 "$HOOK" 3220 pre-start
    assert_grep "hook.conf:4: option 'timeout'.*; using the defaults \(no policy\)" "$T/err"
}

unreadable_config() {
    # An existing config that cannot be read may hold a policy: every
    # pre-start is refused. /proc/self/mem is a root-owned regular file
    # whose read at offset 0 fails with EIO.
    mkpve
    addvm 3221 unreadable ""
    rm "$T/hook.conf"
    ln -s /proc/self/mem "$T/hook.conf"
    expect_rc 1 "$HOOK" 3221 pre-start
    assert_grep "config '$T/hook.conf' not used: cannot read '$T/hook.conf': Input/output error; it may configure a refusal policy: every pre-start is refused" \
        "$T/err"
    j=$(jget PVETMPL_VMID=3221)
    assert_eq $ID_REFUSED "$(jfield "$j" MESSAGE_ID)"
    # The other phases go on.
    expect_rc 0 "$HOOK" 3221 post-stop
    assert_grep "cannot read '$T/hook.conf': Input/output error" "$T/err"
}

hook_alarm_before_decision() {
    # When the alarm fires before the policy has decided, a configured
    # policy refuses the start (it cannot have been checked); without one
    # the start goes on. What blocks here is an LD_PRELOAD shim whose open()
    # of the VM config waits for a signal: it stands in for a read the alarm
    # can interrupt (the hook opens everything O_NONBLOCK, so only a slow or
    # hung file system - /etc/pve is FUSE - can hold it there).
    mkpve
    addvm 3222 slow ""
    cat >block.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
int open(const char *path, int flags, ...)
{
    static int (*real)(const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (!real) {
        real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    }
    if (strstr(path, "/qemu-server/3222.conf")) {
        pause();
    }
    return real(path, flags, mode);
}
C
    cc -shared -fPIC -o block.so block.c -ldl
    echo 'hook_refuse_vmids = {"4000"}' >>"$T/hook.conf"
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/block.so \
        expect_rc 1 timeout 60 "$HOOK" 3222 pre-start
    assert_grep "timed out .* before the start policy decided: refusing the start" "$T/err"
    # Other phases are never refused.
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/block.so \
        expect_rc 0 timeout 60 "$HOOK" 3222 post-start
    assert_grep "timed out" "$T/err"
    # No policy: the start goes on.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\n' "$T" >"$T/hook.conf"
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/block.so \
        expect_rc 0 timeout 60 "$HOOK" 3222 pre-start
    assert_grep "timed out" "$T/err"
}

bad_rules() {
    # A rule that can never match, a misspelt policy key, a byte order mark:
    # the shared reader refuses the file (as the wrapper does), which then
    # evidently configures a policy it cannot apply: fail closed, and say why.
    mkpve
    addvm 3150 ranged "web"
    local bom=$'\xef\xbb\xbf' rule
    for rule in 'hook_refuse_vmids = {"3199-3100"}' 'hook_refuse_vmids = {"03150"}' \
        'hook_refuse_vmids = {"31x0"}' "hook_refuse_vmids = {\"${bom}3150\"}" \
        'hook_refuse_tags = {"no start"}' 'hook_refuse_tags = {"-x"}' \
        'hook_refuse_vmid = "3150"' "${bom}hook_refuse_vmids = {\"3150\"}"; do
        printf '%s\npve_dir = "%s/pve"\n' "$rule" "$T" >"$T/hook.conf"
        expect_rc 1 "$HOOK" 3100 pre-start
        assert_grep "fail-closed" "$T/err"
        j=$(jget PVETMPL_VMID=3100 MESSAGE_ID=$ID_REFUSED)
        [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == *"not used: $T/hook.conf:1: "* ]]
        # Other phases carry it too: the problem shows wherever one looks.
        expect_rc 0 "$HOOK" 3150 post-stop
        assert_eq 4 "$(jfield "$(jget PVETMPL_VMID=3150 PVETMPL_PHASE=post-stop)" PRIORITY)"
    done
    # A clean config: no error field, the usual priority.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = {"3100-3149"}\n' "$T" \
        >"$T/hook.conf"
    expect_rc 0 "$HOOK" 3150 pre-stop
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
    expect_rc 0 timeout 20 "$HOOK" 3160 pre-start
    ms=$((($(date +%s%N) - s) / 1000000))
    [ "$ms" -lt 3000 ] || { echo "took $ms ms"; return 1; }
    assert_grep "cannot read the config of VM 3160 .*: not a regular file" "$T/err"
    rm "$T/hook.conf"
    mkfifo "$T/hook.conf"
    s=$(date +%s%N)
    expect_rc 0 timeout 20 "$HOOK" 3160 post-start
    ms=$((($(date +%s%N) - s) / 1000000))
    [ "$ms" -lt 3000 ] || { echo "took $ms ms"; return 1; }
    assert_grep "side config ignored: '$T/hook.conf' is not a regular file" "$T/err"
    j=$(jget PVETMPL_VMID=3160 PVETMPL_PHASE=post-start)
    [[ $(jfield "$j" PVETMPL_CONFIG_ERROR) == *"not a regular file"* ]]
}

# stalled_journal_pl FILE: the start of a Perl script that binds the journal
# socket (in the test's own mount namespace) and fills its queue, so the
# next write to it blocks; the caller appends what runs against it.
stalled_journal_pl() {
    cat >"$1" <<'PERL'
use strict;
use Socket;
use Fcntl;
my $p = "/run/systemd/journal/socket";
socket(my $srv, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
bind($srv, pack_sockaddr_un($p)) or die "bind: $!";
socket(my $cli, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
connect($cli, pack_sockaddr_un($p)) or die "connect: $!";
fcntl($cli, F_SETFL, fcntl($cli, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!";
my $n = 0;
$n++ while $n < 100000 && send($cli, "x" x 64, 0);
die "the queue never filled\n" if $n >= 100000;
PERL
}

stalled_journal() {
    # A journal socket whose queue is full: the write gives up after its
    # bound (journal.h JOURNAL_SEND_TIMEOUT_MS, under the hook's alarm) with
    # a warning - exit 0, or 1 once the policy has refused. The stalled
    # "journald" is a socket this test binds in its own mount namespace.
    mkpve
    addvm 3165 stalled "halt"
    echo 'hook_refuse_tags = {"halt"}' >>"$T/hook.conf"
    stalled_journal_pl stall.pl
    cat >>stall.pl <<'PERL'
use Time::HiRes qw(time);
my $t0 = time;
system(@ARGV);
printf "rc=%d secs=%d\n", $? >> 8, time - $t0;
PERL
    for ph in post-start pre-start; do
        # shellcheck disable=SC2016 # expanded by the inner sh
        expect_rc 0 timeout 60 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd &&
            mkdir /run/systemd/journal && exec perl "$@"' sh stall.pl "$HOOK" 3165 $ph
        cp "$T/out" "out.$ph"
        assert_grep "not recorded: the journal write timed out after 3 s" "$T/err"
        # the journal's own bound ended the wait, not the hook's alarm (the
        # timeout above only guards against a hang)
        assert_no_grep "giving up" "$T/err"
    done
    # post-start goes on with exit 0; a refused pre-start stays refused.
    assert_grep "^rc=0 secs=" out.post-start
    assert_grep "^rc=1 secs=" out.pre-start
}

node_layout_without_symlink() {
    mkpve
    rm "$T/pve/qemu-server"
    addvm 3107 nodeform ""
    expect_rc 0 "$HOOK" 3107 post-stop
    assert_eq "" "$(cat "$T/err")"
    assert_eq nodeform "$(jfield "$(jget PVETMPL_VMID=3107)" PVETMPL_NAME)"
}

policy_refusal() {
    mkpve
    addvm 3110 ok-vm "web"
    addvm 3150 ranged ""
    addvm 3111 tagged "Web;NoStart"
    cat >>"$T/hook.conf" <<'EOF'
# only pre-start is ever refused
hook_refuse_vmids = {"3140-3160", "3199"}
hook_refuse_tags = {"nostart"}   // case does not matter
EOF
    expect_rc 0 "$HOOK" 3110 pre-start
    expect_rc 1 "$HOOK" 3150 pre-start
    assert_grep "^pvetmpl-hook: refusing to start VM 3150: it matches hook_refuse_vmids '3140-3160' in '$T/hook.conf'" "$T/err"
    j=$(jget PVETMPL_VMID=3150)
    assert_eq $ID_REFUSED "$(jfield "$j" MESSAGE_ID)"
    assert_eq "hook_refuse_vmids '3140-3160'" "$(jfield "$j" PVETMPL_POLICY)"
    assert_eq "$T/hook.conf" "$(jfield "$j" PVETMPL_CONFIG)"
    assert_eq pre-start "$(jfield "$j" PVETMPL_PHASE)"
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    expect_rc 1 "$HOOK" 3111 pre-start
    assert_grep "hook_refuse_tags 'nostart'" "$T/err"
    # The other phases are never refused.
    for ph in post-start pre-stop post-stop; do
        expect_rc 0 "$HOOK" 3150 $ph
    done
    # Refusal holds even without a journal.
    expect_rc 1 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && exec "$@"' sh \
        "$HOOK" 3199 pre-start
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
    expect_rc 0 "$HOOK" 3170 pre-start
    assert_eq "<absent>" "$(jfield "$(jget PVETMPL_VMID=3170)" PVETMPL_SOURCE_VMID)"
    echo "scsi2: local-zfs:base-400-disk-1/vm-3170-disk-2,size=8G" \
        >>"$T/pve/nodes/pve/qemu-server/3170.conf"
    expect_rc 0 "$HOOK" 3170 post-start
    assert_eq 400 "$(jfield "$(jget PVETMPL_VMID=3170 PVETMPL_PHASE=post-start)" \
        PVETMPL_SOURCE_VMID)"
}

raw_config_as_proxmox_reads_it() {
    # The raw file is read as qemu-server's parse_vm_config reads it: only
    # the main section ([PENDING] is not what the VM starts with), a repeated
    # key's last value, a '[' line that is no section header skipped.
    mkpve
    {
        echo "name: first"
        echo "tags: old"
        echo "name: second"
        echo "[unclosed is no section"
        echo "unused0: local-zfs:base-400-disk-0/vm-3180-disk-1"
        echo
        echo "[PENDING]"
        echo "tags: pending"
    } >"$T/pve/nodes/pve/qemu-server/3180.conf"
    echo 'hook_refuse_tags = {"pending"}' >>"$T/hook.conf"
    expect_rc 0 "$HOOK" 3180 pre-start
    j=$(jget PVETMPL_VMID=3180)
    assert_eq second "$(jfield "$j" PVETMPL_NAME)"
    assert_eq old "$(jfield "$j" PVETMPL_TAGS)"
    assert_eq 400 "$(jfield "$j" PVETMPL_SOURCE_VMID)"
    # Cut at 1 MiB inside the tags line (no policy): what that line would
    # say is unknown, so it is not read at all.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\n' "$T" >"$T/hook.conf"
    {
        echo "name: cut"
        awk 'BEGIN { s = sprintf("%1000s", ""); gsub(/ /, "x", s); for (i = 0; i < 1046; i++) print "#" s }'
        printf 'tags: %s\n' "$(printf '%2000s' "" | tr ' ' t)"
    } >"$T/pve/nodes/pve/qemu-server/3181.conf"
    [ "$(head -c 1048576 "$T/pve/nodes/pve/qemu-server/3181.conf" | tail -n 1 | cut -c1-5)" = "tags:" ]
    expect_rc 0 "$HOOK" 3181 pre-start
    j=$(jget PVETMPL_VMID=3181)
    assert_eq cut "$(jfield "$j" PVETMPL_NAME)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_TAGS)"
    [[ $(jfield "$j" PVETMPL_VM_CONFIG_ERROR) == *"read only its first 1048576 bytes" ]]
}

sidecar_config() {
    # Proxmox passes the caller's environment on to the hook: an exported
    # PVETMPL_CONFIG naming a permissive config must not choose the policy.
    mkpve
    addvm 3120 sidecar ""
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = "3120"\n' "$T" >"$T/hook.conf"
    printf 'pve_dir = "%s/pve"\nnode = "pve"\n' "$T" >"$T/permissive.conf"
    expect_rc 1 env -i LC_ALL=C PATH=/sbin:/bin:/usr/sbin:/usr/bin "$HOOK" 3120 pre-start
    assert_grep "in '$T/hook.conf'" "$T/err"
    export PVETMPL_CONFIG=$T/permissive.conf
    expect_rc 1 "$HOOK" 3120 pre-start
    assert_grep "refusing to start VM 3120: it matches hook_refuse_vmids '3120' in '$T/hook.conf'" \
        "$T/err"
    # Without the side file the default path is next, still not the environment.
    rm "$T/hook.conf"
    expect_rc 0 "$HOOK" 3120 pre-start
    assert_eq "<absent>" "$(jfield "$(jget PVETMPL_VMID=3120 MESSAGE_ID=$ID_PRE_START)" PVETMPL_NAME)"
}

sidecar_must_be_roots() {
    # Whoever can write the side file decides which VMs start: only a
    # root-owned file that nobody else can write is used. One refused for
    # that which configures a policy fails closed, as /etc's would (passing
    # over it to /etc, which usually has no policy, would start the VMs it
    # refuses); one without a policy is passed over for /etc.
    mkpve
    addvm 3121 sideown ""
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = "3121"\n' "$T" >"$T/hook.conf"
    chown 65534 "$T/hook.conf"
    expect_rc 1 env -i LC_ALL=C "$HOOK" 3121 pre-start
    local why="'$T/hook.conf' is owned by uid 65534, not by root or us: refusing it"
    assert_grep "refusing to start VM 3121: fail-closed: config '$T/hook.conf' may configure a refusal policy" \
        "$T/err"
    j=$(jget PVETMPL_VMID=3121)
    assert_eq $ID_REFUSED "$(jfield "$j" MESSAGE_ID)"
    assert_eq "config '$T/hook.conf' not used: $why; it may configure a refusal policy: every pre-start is refused" \
        "$(jfield "$j" PVETMPL_CONFIG_ERROR)"
    chown 0 "$T/hook.conf"
    for m in 0664:"its group" 0646:everyone 0620:"its group"; do
        chmod "${m%%:*}" "$T/hook.conf"
        expect_rc 1 env -i LC_ALL=C "$HOOK" 3121 pre-start
        assert_grep "config '$T/hook.conf' not used: '$T/hook.conf' is writable by ${m#*:}: refusing it; it may configure a refusal policy" \
            "$T/err"
    done
    # No policy in it: passed over for the default path, and said why.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\n' "$T" >"$T/hook.conf"
    chmod 0664 "$T/hook.conf"
    expect_rc 0 env -i LC_ALL=C "$HOOK" 3121 pre-start
    local skip="side config ignored: '$T/hook.conf' is writable by its group: refusing it; using '/etc/pvetmpl/pvetmpl.conf'"
    assert_grep "$skip" "$T/err"
    j=$(jget PVETMPL_VMID=3121 MESSAGE_ID=$ID_PRE_START)
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    assert_eq "$skip" "$(jfield "$j" PVETMPL_CONFIG_ERROR)"
    assert_eq "<absent>" "$(jfield "$j" PVETMPL_NAME)" "pve_dir from the side file not used"
    printf 'pve_dir = "%s/pve"\nnode = "pve"\nhook_refuse_vmids = "3121"\n' "$T" >"$T/hook.conf"
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
    # PVETMPL_CONFIG stays exported (as in an admin's shell): it names the
    # wrapper's config, which has no policy; the hook must not read it.
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
    assert_grep "refusing to start VM 3131" <(cat "$T/out" "$T/err")
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
    assert_no_grep "node-local" "$T/err"
}

node_local_storage_warning() {
    # A hookscript on node-local storage cannot run on the other nodes:
    # warned about once the cluster has guests elsewhere.
    sim_setup --other-node pve2
    D=$S
    "$PVESIM" "$D" add-vm 3185 --name nl --disk scsi0=local:8 >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3185
    assert_no_grep "node-local" "$T/err"
    "$PVESIM" "$D" add-vm 3186 --node pve2 --name far --disk scsi0=local:8 >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3185
    # One line (the full story is check's), once per command.
    assert_eq "pvetmpl: warning: hook storage 'local' is node-local: VMs with the hook cannot start on other nodes (see 'pvetmpl check')" "$(grep warning "$T/err")"
    # Shared storages: by type, or "shared 1" in storage.cfg.
    expect_rc 0 "$PVETMPL" hook install 3185 --storage nfs-shared
    assert_no_grep "node-local" "$T/err"
    mkdir -p "$D/mnt/sh"
    "$PVESIM" "$D" add-storage dir shdir path="$D/mnt/sh" content=snippets shared=1 >/dev/null
    expect_rc 0 "$PVETMPL" hook install 3185 --storage shdir
    assert_no_grep "node-local" "$T/err"
    # make-template registers the hook through the same code: same warning.
    expect_rc 0 "$PVETMPL" make-template --storage dir-tmpl 100 9100
    assert_eq 1 "$(grep -c "hook storage 'local' is node-local" "$T/err")"
    assert_eq 1 "$(grep -c warning "$T/err")" "make-template: only that warning"
    # check explains it in full.
    expect_rc 0 "$PVETMPL" check --storage dir-tmpl 100
    assert_grep "warning: hook storage 'local' is not shared, but the cluster has guests on other nodes \(e.g. 3186 on 'pve2'\).*cannot start there .*run 'pvetmpl hook install' on every node" "$T/err"
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
    assert_no_grep "node-local" "$T/err"
    expect_rc 0 "$PVETMPL" hook install 3187 --storage zero
    assert_grep "warning: hook storage 'zero' is node-local" "$T/err"
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

install_over_fifo() {
    # A FIFO at the hook's snippets path would block the comparing read
    # forever: refused at once, with what to do, and nothing changed.
    mknode
    "$PVESIM" "$D" add-vm 3147 --name ff --disk scsi0=local:8 >/dev/null
    mkfifo "$SNIP/pvetmpl-hook"
    expect_rc 69 timeout 20 "$PVETMPL" hook install 3147
    assert_grep "'$SNIP/pvetmpl-hook' exists and is not a regular file \(a FIFO, device or directory\): remove it, then install again" \
        "$T/err"
    [ -p "$SNIP/pvetmpl-hook" ]
    assert_eq "" "$("$PVESIM" "$D" calls --mutating)" "nothing set"
}

snippets_dir_untrusted() {
    # Root executes what lands in the snippets directory: a directory on its
    # path that someone else could write to (or a symlink) would let them
    # rename their own file over the hook. Refused, naming it; nothing written.
    mknode
    "$PVESIM" "$D" add-vm 3149 --name sd --disk scsi0=local:8 >/dev/null
    local before
    before=$(ls -A "$SNIP")
    chmod 0777 "$SNIP"
    expect_rc 78 "$PVETMPL" hook install 3149
    assert_grep "snippets directory '$SNIP' is refused: '$SNIP' is writable by group or others \(mode 0777\)" "$T/err"
    assert_eq "$before" "$(ls -A "$SNIP")" "nothing written"
    chmod 0755 "$SNIP"
    chmod g+w "$D/var/lib/vz"
    expect_rc 78 "$PVETMPL" hook install 3149
    assert_grep "snippets directory '$SNIP' is refused: '$D/var/lib/vz' is writable by group or others" "$T/err"
    chmod g-w "$D/var/lib/vz"
    mv "$SNIP" "$D/var/lib/vz/real"
    ln -s real "$SNIP"
    expect_rc 78 "$PVETMPL" hook install 3149
    assert_grep "snippets directory '$SNIP' is refused: '$SNIP' on its path is a symbolic link" "$T/err"
    assert_eq "$before" "$(ls -A "$D/var/lib/vz/real")" "nothing written through the link"
    assert_eq "" "$("$PVESIM" "$D" calls --mutating)" "nothing set"
    rm "$SNIP"
    mv "$D/var/lib/vz/real" "$SNIP"
    expect_rc 0 "$PVETMPL" hook install 3149
    cmp "$PVETMPL_HOOK" "$SNIP/pvetmpl-hook"
    # The same bytes already there are no excuse: the directory is the hole.
    chmod 0777 "$SNIP"
    expect_rc 78 "$PVETMPL" hook install 3149
    assert_grep "snippets directory '$SNIP' is refused" "$T/err"
    expect_rc 78 "$PVETMPL" -n hook install 3149
    assert_grep "snippets directory '$SNIP' is refused" "$T/err"
    chmod 0755 "$SNIP"
}

wrapper_config_group_writable() {
    # The wrapper's config names programs root runs: group-writable is
    # refused like world-writable, before anything runs.
    mknode
    chmod 0664 "$PVETMPL_CONFIG"
    expect_rc 78 "$PVETMPL" hook status 100
    assert_grep "'$PVETMPL_CONFIG' is writable by its group: refusing it" "$T/err"
    assert_eq 0 "$(sim_calls)" "no qm or pvesm call"
    chmod 0644 "$PVETMPL_CONFIG"
    expect_rc 0 "$PVETMPL" hook status 100
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
    # The file the hook uses and its policy: here none beside the hook, so
    # the default path (missing in the test: defaults, no policy).
    assert_grep "^VMID +HOOK +STATE +HOOKSCRIPT$" "$T/out"
    assert_grep "^3143 +pvetmpl +current +local:snippets/pvetmpl-hook +config /etc/pvetmpl/pvetmpl.conf \((used|missing: defaults, no policy)\)$" "$T/out"
    assert_grep "^3144 +none +- +-$" "$T/out"
    # The rows are drawn from the report: none under -q; with a VM that
    # fails after one that did not, the first one's row and then the error.
    expect_rc 0 "$PVETMPL" -q hook status 3143 3144
    assert_eq "" "$(cat "$T/out")"
    run "$PVETMPL" hook status 3144 3999
    [ "$RC" != 0 ]
    assert_eq "VMID       HOOK     STATE           HOOKSCRIPT
3144       none     -               -" "$(cat "$T/out")"
    assert_grep "3999" "$T/err"
    # The side config: shown, with the policy the hook reads from it.
    printf 'hook_refuse_tags = {"x", "\\x79"}\nhook_refuse_vmids = 777\n' >"$SNIP/pvetmpl-hook.conf"
    expect_rc 0 "$PVETMPL" hook status 3143
    assert_grep "^3143 +pvetmpl +current +local:snippets/pvetmpl-hook +config $SNIP/pvetmpl-hook.conf \(used\)$" "$T/out"
    assert_grep "^  policy: hook_refuse_vmids = 777$" "$T/out"
    assert_grep "^  policy: hook_refuse_tags = x y$" "$T/out"
    # Not root's, with a policy in it: every start refused, and status says
    # so; without a policy the hook passes it over.
    chown 65534 "$SNIP/pvetmpl-hook.conf"
    expect_rc 0 "$PVETMPL" --json hook status 3143
    assert_eq "$SNIP/pvetmpl-hook.conf" "$(jq -r '.vms[0].config' "$T/out")"
    assert_eq "unusable: every pre-start is refused" "$(jq -r '.vms[0].config_state' "$T/out")"
    [[ $(jq -r '.vms[0].config_error' "$T/out") == *"'$SNIP/pvetmpl-hook.conf' is owned by uid 65534"* ]]
    echo 'timeout = 1' >"$SNIP/pvetmpl-hook.conf"
    expect_rc 0 "$PVETMPL" --json hook status 3143
    assert_eq "/etc/pvetmpl/pvetmpl.conf" "$(jq -r '.vms[0].config' "$T/out")"
    [[ $(jq -r '.vms[0].config_skipped' "$T/out") == *"'$SNIP/pvetmpl-hook.conf' is owned by uid 65534"* ]]
    printf 'hook_refuse_tags = {"x", "\\x79"}\nhook_refuse_vmids = 777\n' >"$SNIP/pvetmpl-hook.conf"
    # Unusable with a policy in it: every start refused, as the hook does.
    chown 0 "$SNIP/pvetmpl-hook.conf"
    echo 'hook_refuse_vmids = 0777' >>"$SNIP/pvetmpl-hook.conf"
    expect_rc 0 "$PVETMPL" --json hook status 3143
    assert_eq "unusable: every pre-start is refused" "$(jq -r '.vms[0].config_state' "$T/out")"
    assert_eq true "$(jq -r '.vms[0].policy.refuse_all' "$T/out")"
    [[ $(jq -r '.vms[0].config_error' "$T/out") == "$SNIP/pvetmpl-hook.conf:3: "* ]]
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

truncation() {
    # No fixed limit changes a decision: 120 harmless tags before the one
    # the policy refuses (past the old 1023-byte cut) ...
    mkpve
    local tags i
    tags=$(for i in $(seq 1 120); do printf 'harmless-tag-%03d;' "$i"; done)deny
    addvm 3200 many-tags "$tags"
    echo 'hook_refuse_tags = {"deny"}' >>"$T/hook.conf"
    expect_rc 1 "$HOOK" 3200 pre-start
    assert_grep "refusing to start VM 3200: it matches hook_refuse_tags 'deny'" "$T/err"
    assert_eq "$tags" "$(jfield "$(jget PVETMPL_VMID=3200)" PVETMPL_TAGS)"
    # ... a VMID rule after more than 4 KiB of others (the old list cut) ...
    printf 'hook_refuse_vmids = {%s"777"}\n' "$(for i in $(seq 1000 2200); do printf '"%d", ' "$i"; done)" \
        >>"$T/hook.conf"
    [ "$(wc -c <"$T/hook.conf")" -gt 8000 ]
    expect_rc 1 "$HOOK" 777 pre-start
    assert_grep "it matches hook_refuse_vmids '777'" "$T/err"
    # ... and a VM config larger than pmxcfs holds (1 MiB; the old cut was
    # 64 KiB): with a tag policy its start is refused, the tag could be in
    # the part not read.
    {
        echo "name: huge"
        head -c 1100000 /dev/zero | tr '\0' x | fold -w 1000 | sed 's/^/#/'
        echo "tags: web"
    } >"$T/pve/nodes/pve/qemu-server/3201.conf"
    expect_rc 1 "$HOOK" 3201 pre-start
    assert_grep "refusing to start VM 3201: fail-closed: hook_refuse_tags is set and the config of VM 3201 cannot be read whole" \
        "$T/err"
    j=$(jget PVETMPL_VMID=3201)
    assert_eq $ID_REFUSED "$(jfield "$j" MESSAGE_ID)"
    [[ $(jfield "$j" PVETMPL_VM_CONFIG_ERROR) == *"is larger than 1048576 bytes"* ]]
    # Without a policy it starts, and the entry says what was cut.
    printf 'pve_dir = "%s/pve"\nnode = "pve"\n' "$T" >"$T/hook.conf"
    expect_rc 0 "$HOOK" 3201 pre-start
    assert_grep "the config of VM 3201 .* is larger than 1048576 bytes, the most pmxcfs holds: read only its first 1048576 bytes" \
        "$T/err"
    j=$(jget PVETMPL_VMID=3201 MESSAGE_ID=$ID_PRE_START)
    assert_eq 4 "$(jfield "$j" PRIORITY)"
    assert_eq huge "$(jfield "$j" PVETMPL_NAME)"
    [[ $(jfield "$j" PVETMPL_VM_CONFIG_ERROR) == *"read only its first 1048576 bytes" ]]
    # A VMID rule needs no VM config: a cut one does not refuse by itself.
    echo 'hook_refuse_vmids = {"3100"}' >>"$T/hook.conf"
    expect_rc 0 "$HOOK" 3201 pre-start
}

broken_pipe() {
    # A warning into a pipe nobody reads raises SIGPIPE: the hook must live
    # on, journal and exit as it would (0, or 1 for a refusal).
    mkpve
    cat >closedpipe.pl <<'PERL'
pipe(my $r, my $w) or die "pipe: $!";
close $r;
open(STDERR, '>&', $w) or die "dup: $!";
close $w;
$SIG{PIPE} = 'DEFAULT';
exec @ARGV or die "exec: $!";
PERL
    # No config for VM 3210: the hook warns before it journals.
    expect_rc 0 perl closedpipe.pl "$HOOK" 3210 pre-start
    assert_eq $ID_PRE_START "$(jfield "$(jget PVETMPL_VMID=3210)" MESSAGE_ID)"
    echo 'hook_refuse_vmids = {"3211"}' >>"$T/hook.conf"
    expect_rc 1 perl closedpipe.pl "$HOOK" 3211 pre-start
    assert_eq $ID_REFUSED "$(jfield "$(jget PVETMPL_VMID=3211)" MESSAGE_ID)"
}

closed_std_fds() {
    # Started with fds 0-2 closed, the hook still journals and exits right ...
    mkpve
    addvm 3212 fds ""
    echo 'hook_refuse_vmids = {"3213"}' >>"$T/hook.conf"
    # shellcheck disable=SC2016 # expanded by the inner sh
    expect_rc 0 sh -c 'exec "$@" <&- >&- 2>&-' sh "$HOOK" 3212 pre-start
    assert_eq fds "$(jfield "$(jget PVETMPL_VMID=3212)" PVETMPL_NAME)"
    # shellcheck disable=SC2016
    expect_rc 1 sh -c 'exec "$@" 2>&-' sh "$HOOK" 3213 pre-start
    assert_eq $ID_REFUSED "$(jfield "$(jget PVETMPL_VMID=3213)" MESSAGE_ID)"
    # ... and what sits on fds 0-2 is /dev/null, not a file or socket it
    # opened later (which its warnings would then reach). Seen in /proc while
    # a stalled journal holds the hook in its journal write.
    stalled_journal_pl fds.pl
    cat >>fds.pl <<'PERL'
use POSIX ();
open(my $out, '>', 'fds.out') or die "fds.out: $!";
my $pid = fork() // die "fork: $!";
if (!$pid) {
    exec 'sh', '-c', 'exec "$@" <&- >&- 2>&-', 'sh', @ARGV or POSIX::_exit(127);
}
# Until the hook has its journal socket open (it then blocks in the write).
my $found = 0;
for (1 .. 200) {
    # (the hook itself: before exec, the child still holds our sockets)
    my $exe = readlink("/proc/$pid/exe") // '';
    for my $fd ($exe eq $ARGV[0] ? glob "/proc/$pid/fd/*" : ()) {
        my $t = readlink($fd) // '';
        $found = 1 if $t =~ /^socket:/;
    }
    last if $found;
    select(undef, undef, undef, 0.02);
}
print $out "socket $found\n";
print $out "$_ " . (readlink("/proc/$pid/fd/$_") // 'closed') . "\n" for 0 .. 2;
close $out;
waitpid($pid, 0);
PERL
    # shellcheck disable=SC2016 # expanded by the inner sh
    expect_rc 0 timeout 60 unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd &&
        mkdir /run/systemd/journal && exec perl "$@"' sh fds.pl "$HOOK" 3212 post-start
    assert_file_eq fds.out "socket 1
0 /dev/null
1 /dev/null
2 /dev/null
"
}

# rule_matches RULE VMID: prints 1 when a hook_refuse_vmids rule "N" or
# "A-B" covers VMID, else 0 (printed, not returned: tests/lint-cli.pl).
rule_matches() {
    local lo=${1%-*} hi=${1#*-}
    if [ "$lo" -le "$2" ] && [ "$2" -le "$hi" ]; then echo 1; else echo 0; fi
}
# tag_matches TAGS WANT: prints 1 when WANT is among TAGS (split on ; , space),
# any case, else 0.
tag_matches() {
    local t
    for t in $(tr ';,' '  ' <<<"$1"); do
        if [ "${t,,}" = "${2,,}" ]; then
            echo 1
            return 0
        fi
    done
    echo 0
}

corpus_hook_and_wrapper_agree() {
    # One grammar: for each text of tests/conf-corpus, the policy the
    # wrapper reads (hook status) is the one the hook applies, probe by probe.
    mknode
    local probes="777:- 778:- 3301:prod 3302:x70rod 3303:deny 3304:web;blocked 3305:DeNy"
    local p vmid tags f name refused_any=0 used=0 unusable=0
    "$PVESIM" "$D" add-vm 3300 --name corpus --disk scsi0=local:8 >/dev/null
    for p in $probes; do
        vmid=${p%%:*} tags=${p#*:}
        if [ "$tags" = - ]; then
            "$PVESIM" "$D" add-vm "$vmid" --name "p$vmid" --disk scsi0=local:8 >/dev/null
        else
            "$PVESIM" "$D" add-vm "$vmid" --name "p$vmid" --tags "$tags" \
                --disk scsi0=local:8 >/dev/null
        fi
    done
    expect_rc 0 "$PVETMPL" hook install 3300
    for f in "$TOP"/tests/conf-corpus/*.conf; do
        name=${f##*/}
        # The corpus text as written, then where the simulated node is.
        { cat "$f"; printf '\npve_dir = "%s/etc/pve"\nnode = "pve"\n' "$D"; } \
            >"$SNIP/pvetmpl-hook.conf"
        expect_rc 0 "$PVETMPL" --json hook status 3300
        local st all vmids ptags
        st=$(jq -r '.vms[0].config_state' "$T/out")
        all=$(jq -r '.vms[0].policy.refuse_all' "$T/out")
        vmids=$(jq -r '.vms[0].policy.refuse_vmids[]' "$T/out")
        ptags=$(jq -r '.vms[0].policy.refuse_tags[]' "$T/out")
        assert_eq "$SNIP/pvetmpl-hook.conf" "$(jq -r '.vms[0].config' "$T/out")" "$name: file"
        case $st in
        used) used=$((used + 1)) ;;
        unusable*) unusable=$((unusable + 1)) ;;
        *) echo "$name: unexpected state '$st'"; return 1 ;;
        esac
        for p in $probes; do
            vmid=${p%%:*} tags=${p#*:}
            local want=0 r
            if [ "$all" = true ]; then
                want=1
            fi
            for r in $vmids; do
                if [ "$(rule_matches "$r" "$vmid")" = 1 ]; then want=1; fi
            done
            for r in $ptags; do
                if [ "$(tag_matches "$tags" "$r")" = 1 ]; then want=1; fi
            done
            run env -i LC_ALL=C PATH=/usr/bin:/bin "$SNIP/pvetmpl-hook" "$vmid" pre-start
            if [ "$RC" != "$want" ]; then
                echo "$name: VM $vmid (tags $tags): the wrapper's reading ($st;" \
                    "vmids: ${vmids//$'\n'/ }; tags: ${ptags//$'\n'/ }; refuse_all: $all)" \
                    "says exit $want, the hook exited $RC"
                cat "$T/err"
                return 1
            fi
            refused_any=$((refused_any + want))
            echo "$name $vmid $want" >>decisions
        done
        echo "$name: $st; vmids: ${vmids//$'\n'/ }; tags: ${ptags//$'\n'/ }" >>readings
    done
    # The corpus exercises both readings and both verdicts.
    echo "used $used, unusable $unusable, refusals $refused_any"
    [ "$used" -gt 10 ]
    [ "$unusable" -gt 10 ]
    [ "$refused_any" -gt 10 ]
    # The three texts the old scanner misread, pinned.
    assert_grep "^02-hex-escape.conf 3301 1$" decisions
    assert_grep "^03-octal-escape.conf 777 1$" decisions
    assert_grep "^04-backslash-newline.conf 3303 1$" decisions
    # Policy keys no text search sees (an escaped name, one behind an
    # unclosed comment or a syntax error): unusable, every start refused.
    assert_grep "^41-escaped-key-and-bad-value.conf 778 1$" decisions
    assert_grep "^42-unclosed-comment-before-policy.conf 778 1$" decisions
    assert_grep "^43-escaped-key-after-syntax-error.conf 778 1$" decisions
    # Grants are part of the grammar: read beside the policy, or a mistake.
    assert_grep "^45-grant-sections.conf 778 0$" decisions
    assert_grep "^46-bad-grant-beside-policy.conf 778 1$" decisions
    cat readings
}

t_check "all four phases: one entry each, exit 0, fields from the VM config" four_phases
t_check "PVE_MIGRATED_FROM becomes PVETMPL_MIGRATED_FROM only when set" migrated_from
t_check "an unknown phase is logged and ignored (exit 0)" unknown_phase
t_check "bad arguments are logged and ignored (exit 0)" bad_arguments
t_check "no journal socket: exit 0 and a warning on stderr" no_journal
t_check "missing config and VM config: defaults, warnings, exit 0" missing_config
t_check "unusable config: defaults and a warning, or fail closed when it sets a policy" broken_config
t_check "bad rules, misspelt keys, a BOM: the file is refused, the policy fails closed" bad_rules
t_check "a policy key behind escapes, a syntax error or an unclosed comment fails closed" \
    hidden_policy_keys
t_check "an existing config that cannot be read fails closed" unreadable_config
if command -v cc >/dev/null; then
    t_check "the alarm before the policy decided: a configured policy refuses the start" \
        hook_alarm_before_decision
else
    t_skip "the alarm before the policy decided" "no C compiler for the LD_PRELOAD shim"
fi
t_check "a FIFO as VM config or config: exit 0 at once" fifo_files
t_check "a stalled journal: the write gives up, exit 0, or 1 after a refusal" stalled_journal
t_check "no silent cut: long tags, long rule lists, a VM config past pmxcfs's limit" truncation
t_check "a warning into a broken pipe does not kill the hook (SIGPIPE ignored)" broken_pipe
t_check "closed fds 0-2: reopened on /dev/null, the hook journals and exits right" \
    closed_std_fds
t_check "a cdrom or ISO volume is no linked-clone base" cdrom_and_iso_are_no_base
t_check "the raw VM config read as Proxmox reads it: main section, last value, cut line" \
    raw_config_as_proxmox_reads_it
t_check "VM config found under nodes/<node>/ without the symlink" node_layout_without_symlink
t_check "pre-start policy refuses by VMID range and tag (exit 1, journaled)" policy_refusal
t_check "the config beside the hook decides; an exported PVETMPL_CONFIG does not" sidecar_config
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
    t_check "hook install: a FIFO at the snippets path is refused, not waited on" \
        install_over_fifo
    t_check "hook install: a snippets directory others could write to is refused" \
        snippets_dir_untrusted
    t_check "the wrapper's config is refused when group-writable" wrapper_config_group_writable
    if command -v cc >/dev/null; then
        t_check "hook install: a write that returns 0 is reported without a stale errno" \
            write_returns_zero
    else
        t_skip "hook install: a write that returns 0" "no C compiler for the LD_PRELOAD shim"
    fi
    t_check "hook status and remove" status_and_remove
    t_check "config corpus: the hook applies the policy the wrapper reads, text by text" \
        corpus_hook_and_wrapper_agree
else
    t_skip "simulated node end to end" "tests/pvesim/pvesim or build/pvetmpl is missing"
fi
t_done
