#!/bin/bash
# pmxcfs's .vmlist is read and parsed once for each moment a run looks at the
# cluster: check reads it once (preflight and the hook-storage warning share
# it), make-template once for its "already exists" look and preflight, then
# again only where a fresh look is the point (NEWID still free after the
# copy-slot queue; the copy confirmed after qm clone, whose reading the hook
# registration's warning uses). Counted with strace: pvetmpl's own opens
# (children not traced). LeakSanitizer cannot run under ptrace: in a `make
# sanitize` build the traced runs go without leak checks (every other test
# keeps them).
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# vmlist_opens FILE: how many times the traced process opened .vmlist.
vmlist_opens() {
    grep -c '/etc/pve/\.vmlist", O_RDONLY' "$1" || true
}

t_check_reads_once() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 3186 --node pve2 --name far --disk scsi0=local:8 >/dev/null
    expect_rc 0 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -o "$T/trace" -e trace=openat "$PVETMPL" check 100
    assert_eq 1 "$(vmlist_opens "$T/trace")" ".vmlist opens by check"
    # the warning still sees the guests on the other node
    assert_grep "warning: hook storage 'local' is not shared, but the cluster has guests on other nodes \(e\.g\. 3186 on 'pve2'\)" "$T/err"
}

t_make_template_reads() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 3186 --node pve2 --name far --disk scsi0=local:8 >/dev/null
    expect_rc 0 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -o "$T/trace" -e trace=openat "$PVETMPL" make-template 100 9000
    assert_grep "created from VM 100" "$T/out"
    assert_eq 1 "$(grep -c "hook storage 'local' is node-local" "$T/err")"
    # one shared look, NEWID still free after the queue, the copy confirmed
    assert_eq 3 "$(vmlist_opens "$T/trace")" ".vmlist opens by make-template"
}

# The handed-over list serves the first preflight only: a retry after a wait
# for the source's lock reads .vmlist again, so a NEWID created meanwhile is
# seen by the retry's own check (not only by the later re-check).
t_retry_reads_again() {
    sim_setup
    echo 'lock_retries = 3' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 130 --name busy --disk scsi0=local-lvm:8G --lock backup >/dev/null
    # once pvetmpl has read the locked config (the sim logs a call as it
    # ends): 9130 is created, then the lock cleared
    (
        wait_for_grep '"argv":\["qm","config","130","--current"' "$S/calls.log" 30
        "$PVESIM" "$S" add-vm 9130 --name other --disk scsi0=local-lvm:1G >/dev/null
        "$S/bin/qm" unlock 130
    ) &
    expect_rc 69 "$PVETMPL" --json make-template 130 9130 --no-hook
    wait
    assert_grep "retrying" <(json_get '.warnings[]')
    assert_eq false "$(json_get '.checks[] | select(.name=="newid_free") | .ok')"
    assert_eq "VMID 9130 is already used by a 'qemu' guest on node 'pve'" \
        "$(json_get '.checks[] | select(.name=="newid_free") | .detail')"
    assert_no_grep '"clone"' "$S/calls.log"
}

# The hook's node-local warning looks at the cluster as qm clone left it, not
# as preflight saw it: a guest that appeared on another node during the copy
# (a migration, HA) is seen, so the warning is given.
t_hook_warning_after_copy() {
    sim_setup --other-node pve2
    sim_knob PVESIM_COPY_MIBPS=8000 # 32 GiB: about 4 s of copying
    "$PVETMPL" -v make-template 100 9000 >"$T/out" 2>"$T/err" &
    local pid=$!
    wait_for_grep 'transferred' "$T/err" 30 # preflight saw no guest on pve2
    "$PVESIM" "$S" add-vm 3186 --node pve2 --name far --disk scsi0=local:8 >/dev/null
    wait $pid
    assert_grep "created from VM 100" "$T/out"
    assert_eq 1 "$(grep -c "hook storage 'local' is node-local" "$T/err")"
}

t_check "a preflight retried after a lock wait reads .vmlist again" t_retry_reads_again
t_check "the hook's node-local warning sees the cluster after the copy" t_hook_warning_after_copy
if command -v strace >/dev/null; then
    t_check "check reads .vmlist once" t_check_reads_once
    t_check "make-template reads .vmlist once per moment (3 with the fresh looks)" t_make_template_reads
else
    t_skip "check reads .vmlist once" "no strace"
    t_skip "make-template reads .vmlist once per moment" "no strace"
fi
t_done
