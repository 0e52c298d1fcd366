#!/bin/bash
# Black-box tests of pvetmpl make-template / clone / template / check / storages
# against the simulated node (tests/pvesim).
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# ---- arguments: exit 64, one message naming the argument, no qm started ----
bad_arg() {
    sim_setup
    expect_rc 64 "$PVETMPL" "$@"
    assert_eq 1 "$(grep -c . "$T/err")" "one message line"
    assert_eq 0 "$(sim_calls)" "qm/pvesm calls"
}
t_vmid_99() { bad_arg make-template 99 9000 && assert_grep "'99'" "$T/err"; }
t_vmid_lead0() { bad_arg make-template 0100 9000 && assert_grep "'0100'" "$T/err"; }
t_vmid_junk() { bad_arg make-template '100;reboot' 9000 && assert_grep "VMID" "$T/err"; }
t_vmid_space() { bad_arg make-template 100 '9000 ' && assert_grep "VMID" "$T/err"; }
t_vmid_big() { bad_arg clone 100 1000000000; }
t_name_bad() { bad_arg make-template 100 9000 --name 'a b' && assert_grep "DNS name" "$T/err"; }
t_name_opt() { bad_arg make-template 100 9000 --name --full; }
t_storage_bad() { bad_arg make-template 100 9000 --storage '../etc' && assert_grep "illegal characters" "$T/err"; }
t_format_bad() { bad_arg make-template 100 9000 --format vhd && assert_grep "vhd" "$T/err"; }
t_bwlimit_bad() { bad_arg make-template 100 9000 --bwlimit -5 && assert_grep "bwlimit|-5" "$T/err"; }
t_pool_bad() { bad_arg make-template 100 9000 --pool 'a/b/c/d' && assert_grep "nested too deeply" "$T/err"; }
t_snap_bad() { bad_arg make-template 100 9000 --snapname 1abc; }
t_target_bad() { bad_arg make-template 100 9000 --target node_1; }
t_disk_bad() { bad_arg template 100 --disk scsi31 && assert_grep "scsi31" "$T/err"; }
t_timeout_bad() { bad_arg --timeout 5s storages && assert_grep "5s" "$T/err"; }
t_unknown_cmd() { bad_arg frobnicate && assert_grep "unknown command 'frobnicate'" "$T/err"; }
t_unknown_opt() { bad_arg make-template 100 9000 --full && assert_grep "'--full'" "$T/err"; }
t_missing_newid() { bad_arg make-template 100; }
t_linked_storage() { bad_arg clone 100 9001 --linked --storage local-lvm && assert_grep "linked" "$T/err"; }
t_same_ids() { bad_arg clone 100 100; }
t_json_usage() {
    sim_setup
    expect_rc 64 "$PVETMPL" --json make-template 99 9000
    assert_eq true "$(json_get .failed)"
    assert_eq usage "$(json_get .error.class)"
    assert_eq 64 "$(json_get .rc)"
}

t_help() {
    expect_rc 0 "$PVETMPL" --help
    assert_grep "make-template SRC NEWID" "$T/out"
    assert_grep "75 locked/busy" "$T/out"
    for c in make-template clone template check storages; do
        expect_rc 0 "$PVETMPL" "$c" --help
        assert_grep "usage: pvetmpl .*$c" "$T/out"
    done
    expect_rc 0 "$PVETMPL" --version
    assert_grep '^pvetmpl [0-9]' "$T/out"
}

# ---- configuration: 78 ----
t_config_errors() {
    sim_setup
    echo 'bogus = 1' >>"$PVETMPL_CONFIG"
    expect_rc 78 "$PVETMPL" storages
    assert_grep "bogus" "$T/err"
    expect_rc 78 "$PVETMPL" -c "$T/missing.conf" storages
    assert_grep "missing.conf" "$T/err"
}

t_spawn_failure() {
    sim_setup
    sed -i "s|^qm = .*|qm = \"$T/no/such/qm\"|" "$PVETMPL_CONFIG"
    expect_rc 71 "$PVETMPL" --no-progress check 100
    assert_grep "could not start '$T/no/such/qm'" "$T/err"
}

t_not_root() {
    sim_setup
    chmod a+x "$TMPROOT"
    chmod -R a+rX "$T"
    expect_rc 77 setpriv --reuid=65534 --regid=65534 --clear-groups "$PVETMPL" storages
    assert_grep "root" "$T/err"
    assert_eq 0 "$(sim_calls)"
}

# ---- the main job ----
t_make_template() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --name ubuntu-server-template-22.04
    assert_eq true "$(json_get .changed)"
    assert_eq false "$(json_get .failed)"
    assert_eq 9000 "$(json_get .vmid)"
    assert_eq 100 "$(json_get .source)"
    assert_eq ubuntu-server-template-22.04 "$(json_get .name)"
    assert_eq local-lvm "$(json_get .storage)" "the source disk's storage"
    assert_eq "$S/bin/qm clone 100 9000 --full 1 --name ubuntu-server-template-22.04" \
        "$(json_get '.commands[0] | join(" ")')"
    assert_eq "$S/bin/qm template 9000" "$(json_get '.commands[-1] | join(" ")')"
    assert_eq "local-lvm:base-9000-disk-0" "$(json_get '.disks[] | select(.drive=="scsi0") | .volume')"
    assert_eq true "$(json_get '.disks[] | select(.drive=="scsi0") | .base')"
    for k in changed failed msg rc action vmid source name storage dry_run commands disks checks warnings duration_ms; do
        assert_eq true "$(jq "has(\"$k\")" <"$T/out")" "key $k"
    done
    sim_qm config 9000 >"$T/cf"
    assert_grep '^template: 1$' "$T/cf"
    assert_grep '^scsi0: local-lvm:base-9000-disk-0' "$T/cf"
    assert_grep '^name: ubuntu-server-template-22.04$' "$T/cf"
    # the source is untouched
    sim_qm config 100 >"$T/src"
    assert_grep '^scsi0: local-lvm:vm-100-disk-0' "$T/src"
    assert_no_grep '^template:' "$T/src"
}

t_idempotent() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --name tmpl
    before=$(sim_mutating_calls)
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --name tmpl
    assert_eq false "$(json_get .changed)"
    assert_eq "$before" "$(sim_mutating_calls)" "no state change on the re-run"
    expect_rc 0 "$PVETMPL" --json template 9000
    assert_eq false "$(json_get .changed)"
}

t_newid_taken() {
    sim_setup
    "$PVESIM" "$S" add-vm 9000 --name something-else --disk scsi0=local-lvm:8G
    expect_rc 69 "$PVETMPL" make-template 100 9000 --name tmpl
    assert_grep "9000.*something-else" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
}

t_newid_other_node() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 9000 --node pve2 --name elsewhere
    expect_rc 69 "$PVETMPL" make-template 100 9000
    assert_grep "node 'pve2'" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
}

t_source_running() {
    sim_setup
    "$PVESIM" "$S" set-status 100 running
    expect_rc 69 "$PVETMPL" --json make-template 100 9000
    assert_eq false "$(json_get '.checks[] | select(.name=="source_stopped") | .ok')"
    assert_grep "running" <(json_get '.checks[] | select(.name=="source_stopped") | .detail')
    assert_eq 0 "$(sim_mutating_calls)"
}

t_source_locked() {
    sim_setup
    "$PVESIM" "$S" add-vm 101 --name locked --disk scsi0=local-lvm:8G --lock backup
    expect_rc 75 "$PVETMPL" make-template 101 9000
    assert_grep "locked \(backup\)" "$T/err"
}

t_source_missing() {
    sim_setup
    expect_rc 69 "$PVETMPL" --json make-template 555 9000
    assert_eq false "$(json_get '.checks[] | select(.name=="source_exists") | .ok')"
}

t_source_other_node() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 300 --node pve2 --name remote --disk scsi0=nfs-shared:8G
    expect_rc 69 "$PVETMPL" make-template 300 9000
    assert_grep "node 'pve2'" "$T/err"
}

t_lvm_refused() {
    sim_setup
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --storage lvm-thick
    assert_grep "lvm" <(json_get '.checks[] | select(.name=="storage:lvm-thick") | .detail')
    assert_eq false "$(json_get '.checks[] | select(.name=="storage:lvm-thick") | .ok')"
    assert_eq 0 "$(sim_mutating_calls)"
}

t_all_failures_listed() {
    sim_setup
    "$PVESIM" "$S" set-status 100 running
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --storage iscsi-san
    assert_eq 2 "$(json_get '[.checks[] | select(.ok==false)] | length')"
}

t_storage_states() {
    sim_setup
    expect_rc 69 "$PVETMPL" make-template 100 9000 --storage old-nfs
    assert_grep "disabled" "$T/err"
    expect_rc 69 "$PVETMPL" make-template 100 9000 --storage nosuch
    assert_grep "'nosuch' does not exist" "$T/err"
    expect_rc 69 "$PVETMPL" make-template 100 9000 --storage cephfs
    assert_grep "images" "$T/err"
    sim_knob PVESIM_FAULT=storage-inactive=dir-tmpl
    expect_rc 69 "$PVETMPL" make-template 100 9000 --storage dir-tmpl
    assert_grep "inactive" "$T/err"
}

t_dry_run() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json -n make-template 100 9000 --name tmpl
    assert_eq true "$(json_get .dry_run)"
    assert_eq false "$(json_get .changed)"
    assert_eq "$S/bin/qm clone 100 9000 --full 1 --name tmpl" "$(json_get '.commands[0] | join(" ")')"
    assert_eq "$S/bin/qm set 9000 --hookscript local:snippets/pvetmpl-hook" "$(json_get '.commands[1] | join(" ")')"
    assert_eq "$S/bin/qm template 9000" "$(json_get '.commands[2] | join(" ")')"
    assert_eq 0 "$(sim_mutating_calls)" "dry run made no state-changing call"
    expect_rc 0 "$PVETMPL" -n make-template 100 9000 --name tmpl
    assert_grep "^would run: .*qm clone 100 9000 --full 1 --name tmpl" "$T/out"
    # and refuses as the real run would
    expect_rc 69 "$PVETMPL" -n make-template 100 9000 --storage lvm-thick
    assert_eq 0 "$(sim_mutating_calls)"
}

t_check_cmd() {
    sim_setup
    expect_rc 0 "$PVETMPL" check 100
    assert_grep "^ok +source_stopped" "$T/out"
    assert_grep "^ok +storage:local-lvm" "$T/out"
    expect_rc 69 "$PVETMPL" check 100 --storage lvm-thick
    assert_grep "^FAIL +storage:lvm-thick" "$T/out"
    assert_eq 0 "$(sim_mutating_calls)"
}

t_storages_cmd() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json storages
    assert_eq yes "$(json_get '.storages[] | select(.storage=="local-lvm") | .templates')"
    assert_eq no "$(json_get '.storages[] | select(.storage=="lvm-thick") | .templates')"
    assert_eq disabled "$(json_get '.storages[] | select(.storage=="old-nfs") | .state')"
    expect_rc 0 "$PVETMPL" storages
    assert_grep "^lvm-thick +lvm +active +yes +no" "$T/out"
}

t_template_silent_skip_refused() {
    sim_setup
    "$PVESIM" "$S" add-vm 102 --name on-lvm --disk scsi0=lvm-thick:8G
    expect_rc 69 "$PVETMPL" template 102
    assert_grep "lvm" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
}

t_template_failure_detected() {
    # qm template exits 0 when its worker fails: the read-back must catch it.
    sim_setup
    "$PVESIM" "$S" add-vm 103 --name conv --disk scsi0=local-lvm:8G
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=template
    expect_rc 75 "$PVETMPL" template 103
    assert_grep "got timeout" "$T/err"
}

t_template_snapshots() {
    sim_setup
    "$PVESIM" "$S" add-vm 104 --name snappy --disk scsi0=local-lvm:8G --snapshot before
    expect_rc 69 "$PVETMPL" template 104
    assert_grep "snapshots" "$T/err"
}

t_template_running() {
    sim_setup
    "$PVESIM" "$S" set-status 100 running
    expect_rc 69 "$PVETMPL" template 100
    assert_grep "running" "$T/err"
}

t_lock_retry() {
    sim_setup
    echo 'lock_retries = 3' >>"$PVETMPL_CONFIG"
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=clone
    sim_knob PVESIM_FAULT_COUNT=2
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --no-hook
    assert_eq 2 "$(json_get '[.warnings[] | select(test("retrying"))] | length')"
    assert_eq 3 "$(json_get '[.commands[] | select(.[1]=="clone")] | length')" "clone tried 3 times"
}

t_lock_gives_up() {
    sim_setup
    echo 'lock_retries = 1' >>"$PVETMPL_CONFIG"
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=clone
    expect_rc 75 "$PVETMPL" --json make-template 100 9000 --no-hook
    assert_eq busy "$(json_get .error.class)"
}

t_timeout() {
    sim_setup
    sim_knob PVESIM_FAULT=hang
    sim_knob PVESIM_FAULT_CMD=clone
    expect_rc 124 "$PVETMPL" --timeout 1 make-template 100 9000 --no-hook
    assert_grep "timed out" "$T/err"
    sleep 0.2
    assert_eq "" "$(pgrep -f "sim.pl $S qm clone" || true)" "qm process group ended"
}

signal_during_clone() { # SIG: pvetmpl passes it to qm's process group and exits 130
    sim_setup
    sim_knob PVESIM_FAULT=hang
    sim_knob PVESIM_FAULT_CMD=clone
    "$PVETMPL" make-template 100 9000 --no-hook >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for_proc "sim.pl $S qm clone"
    kill -"$1" $pid
    wait $pid && rc=0 || rc=$?
    assert_eq 130 "$rc"
    assert_grep "interrupted" "$T/err"
    sleep 0.2
    assert_eq "" "$(pgrep -f "sim.pl $S qm clone" || true)" "qm stopped too"
}
t_interrupt() { signal_during_clone INT; }
t_sigterm() { signal_during_clone TERM; }

t_garbage_output() {
    sim_setup
    sim_knob PVESIM_FAULT=garbage
    sim_knob PVESIM_FAULT_CMD=status
    expect_rc 65 "$PVETMPL" make-template 100 9000 --no-hook
    assert_grep "cannot parse" "$T/err"
}

t_crash_mid_clone() {
    sim_setup
    sim_knob PVESIM_FAULT=crash-mid-clone
    expect_rc 1 "$PVETMPL" make-template 100 9000 --no-hook
    assert_grep "left behind" "$T/err"
    test -f "$S/etc/pve/nodes/pve/qemu-server/9000.conf" # nothing deleted for the user
}

t_clone_linked() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 9000 --no-hook
    expect_rc 0 "$PVETMPL" --json clone 9000 9100 --linked --name web1
    assert_eq "$S/bin/qm clone 9000 9100 --full 0 --name web1" "$(json_get '.commands[0] | join(" ")')"
    sim_qm config 9100 >"$T/cf"
    assert_grep '^scsi0: local-lvm:vm-9100-disk-0' "$T/cf"
    expect_rc 69 "$PVETMPL" clone 100 9101 --linked
    assert_grep "not a template" "$T/err"
}

t_progress_tty() {
    # On a terminal: one bar per disk from qm's "transferred X of Y (P%)" lines.
    sim_setup
    sim_knob PVESIM_COPY_MIBPS=8000
    script -qec "$PVETMPL make-template 100 9000 --no-hook" /dev/null >"$T/tty" </dev/null
    tr '\r' '\n' <"$T/tty" >"$T/lines"
    assert_grep '^scsi0 +\[#+-*\] +[0-9]+\.[0-9]{2}% [0-9.]+ GiB of 32\.0 GiB' "$T/lines"
    assert_grep '^scsi0 +\[#{30}\] 100\.00% 32\.0 GiB of 32\.0 GiB' "$T/lines"
    # and none without a terminal, or with --no-progress / -q / --json
    expect_rc 0 "$PVETMPL" make-template 100 9001 --no-hook
    assert_no_grep '\[#' "$T/err"
    script -qec "$PVETMPL --no-progress make-template 100 9002 --no-hook" /dev/null >"$T/tty2" </dev/null
    assert_no_grep '\[#' "$T/tty2"
}

t_verbose_qm_lines() {
    sim_setup
    expect_rc 0 "$PVETMPL" -v make-template 100 9000 --no-hook
    assert_grep '^qm: create full clone of drive scsi0 \(local-lvm:vm-100-disk-0\)$' "$T/err"
    assert_grep '^qm: transferred .* of 32\.0 GiB \(100\.00%\)$' "$T/err"
    expect_rc 0 "$PVETMPL" make-template 100 9001 --no-hook
    assert_no_grep '^qm: ' "$T/err"
}

t_parallel_one_storage() {
    sim_setup
    sim_knob PVESIM_COPY_MIBPS=8000
    for i in 1 2 3 4; do
        "$PVESIM" "$S" add-vm $((110 + i)) --name src$i --disk scsi0=local-lvm:8G
    done
    pids=()
    for i in 1 2 3 4; do
        "$PVETMPL" make-template $((110 + i)) $((9010 + i)) --no-hook >"$T/out$i" 2>"$T/err$i" &
        pids+=($!)
    done
    fails=0
    for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
    cat "$T"/err* >&2
    assert_eq 0 "$fails" "failed runs"
    assert_grep "waiting for a copy slot on storage 'local-lvm'" <(cat "$T"/err*)
    assert_no_grep "got timeout|locked" <(cat "$T"/err*)
    for i in 1 2 3 4; do
        sim_qm config $((9010 + i)) | grep -q '^template: 1$'
    done
}

t_parallel_same_newid() {
    sim_setup
    pids=()
    for i in 1 2 3; do
        "$PVETMPL" --json make-template 100 9000 --name same --no-hook >"$T/out$i" 2>"$T/err$i" &
        pids+=($!)
    done
    fails=0
    for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
    assert_eq 0 "$fails"
    assert_eq 1 "$(grep -c '"clone","100","9000"' "$S/calls.log")" "exactly one qm clone"
    assert_eq 1 "$(cat "$T"/out* | jq -s '[.[] | select(.changed)] | length')"
}

# ---- review findings: each would fail if its fix were undone ----
t_make_template_target() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 120 --name shared-src --disk scsi0=nfs-shared:8G
    # the default hook storage 'local' is not on pve2: clones there could not start
    expect_rc 69 "$PVETMPL" --json make-template 120 9000 --target pve2
    assert_eq false "$(json_get '.checks[] | select(.name=="hook_storage") | .ok')"
    assert_eq 0 "$(sim_mutating_calls)"
    expect_rc 0 "$PVETMPL" --json make-template 120 9000 --target pve2 --no-hook --name tmpl
    assert_eq "$S/bin/qm clone 120 9000 --full 1 --name tmpl" "$(json_get '.commands[0] | join(" ")')"
    assert_eq "$S/bin/qm migrate 9000 pve2" "$(json_get '.commands[-1] | join(" ")')"
    assert_grep "moved to node 'pve2'" <(json_get .msg)
    grep -q '^template: 1$' "$S/etc/pve/nodes/pve2/qemu-server/9000.conf"
    grep -q 'nfs-shared:9000/base-9000-disk-0' "$S/etc/pve/nodes/pve2/qemu-server/9000.conf"
    # and a re-run finds it there
    expect_rc 0 "$PVETMPL" --json make-template 120 9000 --target pve2 --no-hook --name tmpl
    assert_eq false "$(json_get .changed)"
}

t_target_local_hookscript() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 121 --name hooked --disk scsi0=nfs-shared:8G --hookscript local:snippets/x
    expect_rc 69 "$PVETMPL" --json clone 121 9001 --target pve2
    assert_eq false "$(json_get '.checks[] | select(.name=="source_hookscript") | .ok')"
}

t_clone_target() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 120 --name shared-src --disk scsi0=nfs-shared:8G
    expect_rc 0 "$PVETMPL" --json clone 120 9000 --target pve2 --name moved
    assert_eq true "$(json_get .changed)"
    assert_grep "on node 'pve2'" <(json_get .msg)
    test -f "$S/etc/pve/nodes/pve2/qemu-server/9000.conf"
}

t_short_cluster_option() {
    bad_arg -Zq storages
    assert_grep "unknown option '-Z'" "$T/err"
}

t_json_everywhere() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json make-template --help
    assert_eq 1 "$(jq -s length <"$T/out")" "one JSON object"
    assert_grep "usage: pvetmpl" <(json_get .msg)
    expect_rc 64 "$PVETMPL" --json --bogus storages
    assert_eq usage "$(json_get .error.class)"
    expect_rc 0 "$PVETMPL" check 100 --json
    assert_eq false "$(json_get .failed)"
}

t_taken_while_waiting() {
    sim_setup
    mkdir -p "$T/run"
    # Hold the storage's only copy slot (flock -o: the lock lives in flock itself).
    flock -o "$T/run/storage-local-lvm.0.lock" sleep 60 &
    holder=$!
    "$PVETMPL" make-template 100 9000 --no-hook >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for_grep "waiting for a copy slot" "$T/err"
    "$PVESIM" "$S" add-vm 9000 --name someone-elses --disk scsi0=local-lvm:8G
    pkill -P $holder sleep || true
    kill $holder 2>/dev/null || true
    wait $holder 2>/dev/null || true
    wait $pid && rc=0 || rc=$?
    assert_eq 69 "$rc"
    assert_grep "taken while waiting" "$T/err"
    assert_no_grep "destroy" "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
}

t_resume_after_failed_conversion() {
    sim_setup
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=template
    sim_knob PVESIM_FAULT_COUNT=1
    expect_rc 75 "$PVETMPL" --json make-template 100 9000 --no-hook
    assert_eq true "$(json_get .changed)" "the clone was made"
    assert_grep "resume with 'pvetmpl template 9000'" <(json_get .msg)
    assert_grep "scsi0 \\(local-lvm:vm-9000-disk-0\\)" <(json_get .msg)
    assert_eq false "$(json_get '.disks[] | select(.drive=="scsi0") | .base')"
    expect_rc 0 "$PVETMPL" --json template 9000
    assert_eq true "$(json_get .changed)"
    assert_eq "$S/bin/qm template 9000" "$(json_get '.commands[0] | join(" ")')"
    sim_qm config 9000 | grep -q '^scsi0: local-lvm:base-9000-disk-0'
}

t_half_template_completed_per_disk() {
    # template: 1 but a vm- disk (what a worker that failed after the flag leaves):
    # qm refuses "a template to a template", so each disk is converted with --disk.
    sim_setup
    "$PVESIM" "$S" add-vm 107 --name half --disk scsi0=local-lvm:8G --disk scsi1=local-lvm:4G
    echo 'template: 1' >>"$S/etc/pve/nodes/pve/qemu-server/107.conf" # pve-interface.md §3: flag first
    sim_qm config 107 | grep -q '^template: 1$'
    sim_qm config 107 | grep -q '^scsi0: local-lvm:vm-107-disk-0'
    expect_rc 0 "$PVETMPL" --json template 107
    assert_eq "$S/bin/qm template 107 --disk scsi0" "$(json_get '.commands[0] | join(" ")')"
    assert_eq "$S/bin/qm template 107 --disk scsi1" "$(json_get '.commands[1] | join(" ")')"
    assert_eq true "$(json_get .changed)"
    assert_eq 2 "$(json_get '[.disks[] | select(.base)] | length')"
}

t_template_lock_retry_replans() {
    sim_setup
    echo 'lock_retries = 2' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 105 --name retry --disk scsi0=local-lvm:8G
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=template
    sim_knob PVESIM_FAULT_COUNT=1
    expect_rc 0 "$PVETMPL" --json template 105
    assert_eq 2 "$(json_get '[.commands[] | select(.[1]=="template")] | length')" "tried twice"
    assert_grep "retrying" <(json_get '.warnings[]')
    sim_qm config 105 | grep -q '^scsi0: local-lvm:base-105-disk-0'
}

t_idempotency_is_strict() {
    sim_setup
    "$PVESIM" "$S" add-vm 9000 --name unrelated --disk scsi0=local-lvm:8G --template
    expect_rc 69 "$PVETMPL" make-template 100 9000
    assert_grep "unrelated" "$T/err"
    # without --name the expected name is qm's default
    expect_rc 0 "$PVETMPL" make-template 100 9001 --no-hook
    expect_rc 0 "$PVETMPL" --json make-template 100 9001 --no-hook
    assert_eq false "$(json_get .changed)"
    sim_qm config 9001 | grep -q '^name: Copy-of-VM-ubuntu-server-22.04$'
}

t_half_made_clone_not_idempotent() {
    sim_setup
    sim_knob PVESIM_FAULT=crash-mid-clone
    sim_knob PVESIM_FAULT_COUNT=1
    expect_rc 1 "$PVETMPL" --json clone 100 9000 --name web1
    assert_eq true "$(json_get .changed)"
    assert_grep "lock: clone" <(json_get .msg)
    expect_rc 69 "$PVETMPL" clone 100 9000 --name web1
    assert_grep "locked: clone" "$T/err"
}

t_locked_source_retried() {
    sim_setup
    echo 'lock_retries = 3' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 130 --name busy --disk scsi0=local-lvm:8G --lock backup
    (sleep 1.5 && "$S/bin/qm" unlock 130) &
    expect_rc 0 "$PVETMPL" --json make-template 130 9130 --no-hook
    wait
    assert_grep "retrying" <(json_get '.warnings[]')
    assert_eq 1 "$(json_get '[.checks[] | select(.name=="source_unlocked")] | length')" "checks not repeated"
}

t_dry_run_clone_and_template() {
    sim_setup
    "$PVESIM" "$S" add-vm 106 --name dry --disk scsi0=local-lvm:8G
    expect_rc 0 "$PVETMPL" --json -n template 106
    assert_eq "$S/bin/qm template 106" "$(json_get '.commands[0] | join(" ")')"
    expect_rc 0 "$PVETMPL" -n clone 100 9000
    assert_grep "^would run: .*qm clone 100 9000 --full 1$" "$T/out"
    expect_rc 69 "$PVETMPL" -n clone 100 9000 --storage old-nfs
    assert_eq 0 "$(sim_mutating_calls)"
}


t_copies_per_storage_two() {
    sim_setup
    echo 'copies_per_storage = 2' >>"$PVETMPL_CONFIG"
    sim_knob PVESIM_COPY_MIBPS=4000
    "$PVETMPL" make-template 100 9001 --no-hook >"$T/o1" 2>"$T/e1" &
    p1=$!
    # once the first copy runs it holds a slot; the second must take the other one
    wait_for_proc "sim.pl $S qm clone 100 9001"
    "$PVETMPL" make-template 100 9002 --no-hook >"$T/o2" 2>"$T/e2"
    wait $p1
    assert_no_grep "waiting for a copy slot" "$T/e2"
    # and with one slot the second run does wait
    sed -i 's/^copies_per_storage = 2$/copies_per_storage = 1/' "$PVETMPL_CONFIG"
    "$PVETMPL" make-template 100 9003 --no-hook >"$T/o3" 2>"$T/e3" &
    p3=$!
    wait_for_proc "sim.pl $S qm clone 100 9003"
    "$PVETMPL" make-template 100 9004 --no-hook >"$T/o4" 2>"$T/e4"
    wait $p3
    assert_grep "waiting for a copy slot" "$T/e4"
}

t_internal_error() {
    # Out of file descriptors half-way through starting the concurrent queries:
    # an internal error (70), not a qm failure; the children already started are stopped.
    sim_setup
    expect_rc 70 bash -c "ulimit -n 10; exec \"$PVETMPL\" --json make-template 100 9000"
    assert_eq internal "$(json_get .error.class)"
    assert_grep "Too many open files" <(json_get .msg)
    assert_eq 0 "$(sim_mutating_calls)"
    sleep 0.2
    assert_eq "" "$(pgrep -f "sim.pl $S " || true)" "no qm left running"
}

t_snapshot_missing() {
    sim_setup
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --snapname nosuch
    assert_eq false "$(json_get '.checks[] | select(.name=="snapshot_exists") | .ok')"
}


# ---- issue 7, "what Proxmox really does": locks, pools, storages, foreign hooks ----
t_source_suspended() {
    sim_setup
    echo 'lock_retries = 3' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 101 --name hib --disk scsi0=local-lvm:8G --lock suspended
    expect_rc 69 "$PVETMPL" --json make-template 101 9000
    assert_eq precondition "$(json_get .error.class)"
    assert_grep "qm resume 101" <(json_get .error.detail)
    assert_eq 0 "$(json_get '[.warnings[] | select(test("retrying"))] | length')" "not waited for"
    assert_eq 0 "$(sim_mutating_calls)"
}

t_migrate_lock_retried() {
    sim_setup --other-node pve2
    echo 'lock_retries = 2' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 120 --name shared-src --disk scsi0=nfs-shared:8G
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=migrate
    sim_knob PVESIM_FAULT_COUNT=1
    expect_rc 0 "$PVETMPL" --json make-template 120 9000 --target pve2 --no-hook
    assert_eq 2 "$(json_get '[.commands[] | select(.[1]=="migrate")] | length')" "migrate tried twice"
    assert_eq 1 "$(json_get '[.warnings[] | select(test("got timeout"))] | length')"
    grep -q '^template: 1$' "$S/etc/pve/nodes/pve2/qemu-server/9000.conf"
}


t_pool_checked() {
    sim_setup
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --pool nosuch
    assert_eq false "$(json_get '.checks[] | select(.name=="pool") | .ok')"
    assert_grep "pool 'nosuch' does not exist" <(json_get .error.detail)
    assert_eq 0 "$(sim_mutating_calls)"
    # AccessControl.pm parse_user_config: the parents of a nested pool exist too
    printf 'pool:dept/team::: \n' >>"$S/etc/pve/user.cfg"
    expect_rc 0 "$PVETMPL" --json -n clone 100 9100 --pool dept --storage local-lvm
    assert_eq true "$(json_get '.checks[] | select(.name=="pool") | .ok')"
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --pool pool-ci --no-hook
    grep -q '^pool:pool-ci:[^:]*:9000:' "$S/etc/pve/user.cfg"
}

t_iscsi_never_clone_target() {
    sim_setup
    expect_rc 69 "$PVETMPL" --json clone 100 9100 --storage iscsi-san
    assert_grep "cannot allocate new disks" <(json_get '.checks[] | select(.name=="storage:iscsi-san") | .detail')
    assert_eq 0 "$(sim_mutating_calls)"
    expect_rc 0 "$PVETMPL" --json storages
    assert_eq false "$(json_get '.storages[] | select(.storage=="iscsi-san") | .clones')"
    assert_eq true "$(json_get '.storages[] | select(.storage=="lvm-thick") | .clones')"
    expect_rc 0 "$PVETMPL" storages
    assert_grep "^iscsi-san +iscsi +active +yes +no +no$" "$T/out"
}

t_format_refused() {
    sim_setup
    # lvmthin holds raw only: qm would print "format 'qcow2' is not supported by the
    # target storage" and go on with raw
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --storage local-lvm --format qcow2
    assert_grep "storage 'local-lvm' \(lvmthin\) cannot hold format 'qcow2', only raw" \
        <(json_get '.checks[] | select(.name=="format") | .detail')
    assert_eq 0 "$(sim_mutating_calls)"
    # without --storage each source disk's own storage is the target
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --format vmdk
    assert_eq false "$(json_get '.checks[] | select(.name=="format") | .ok')"
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --storage dir-tmpl --format qcow2 --no-hook
    grep -q '^scsi0: dir-tmpl:9000/base-9000-disk-0.qcow2' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    # LVMPlugin.pm get_formats: qcow2 with snapshot-as-volume-chain only
    "$PVESIM" "$S" add-storage lvm lvchain vgname=vmdata content=images snapshot-as-volume-chain=1 >/dev/null
    expect_rc 0 "$PVETMPL" --json -n clone 100 9100 --storage lvchain --format qcow2
    expect_rc 69 "$PVETMPL" --json -n clone 100 9100 --storage lvm-thick --format qcow2
}


t_foreign_hookscript() {
    sim_setup
    printf '#!/bin/sh\nexit 0\n' >"$S/var/lib/vz/snippets/gpu-passthrough.pl"
    chmod 755 "$S/var/lib/vz/snippets/gpu-passthrough.pl"
    "$PVESIM" "$S" add-vm 130 --name gpu --disk scsi0=local-lvm:8G
    "$S/bin/qm" set 130 --hookscript local:snippets/gpu-passthrough.pl >/dev/null
    expect_rc 69 "$PVETMPL" check 130
    assert_grep "^FAIL +foreign_hookscript" "$T/out"
    expect_rc 69 "$PVETMPL" --json make-template 130 9000
    assert_grep "local:snippets/gpu-passthrough.pl.*--no-hook.*--replace-hook" <(json_get .error.detail)
    assert_eq 1 "$(sim_mutating_calls)" "only the qm set of the setup"
    # --no-hook keeps it, as qm clone copies it
    expect_rc 0 "$PVETMPL" make-template 130 9000 --no-hook
    grep -q '^hookscript: local:snippets/gpu-passthrough.pl$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    expect_rc 0 "$PVETMPL" --json make-template 130 9001 --replace-hook
    assert_eq true "$(json_get '.checks[] | select(.name=="foreign_hookscript") | .ok')"
    grep -q '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9001.conf"
    expect_rc 64 "$PVETMPL" make-template 130 9002 --no-hook --replace-hook
    expect_rc 64 "$PVETMPL" clone 130 9002 --replace-hook
}


t_no_quorum_precondition() {
    sim_setup
    echo 'lock_retries = 3' >>"$PVETMPL_CONFIG"
    perl -0pi -e 's/"quorate" : 1/"quorate" : 0/' "$S/etc/pve/.members"
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --no-hook
    assert_eq precondition "$(json_get .error.class)"
    assert_grep "no quorum.*pvecm status" <(json_get .error.detail)
    assert_eq 0 "$(json_get '[.warnings[] | select(test("retrying"))] | length')" "not retried"
}

t_check "usage: VMID 99 refused" t_vmid_99
t_check "usage: VMID with a leading zero refused" t_vmid_lead0
t_check "usage: VMID with trailing junk refused" t_vmid_junk
t_check "usage: VMID with a trailing space refused" t_vmid_space
t_check "usage: VMID above 999999999 refused" t_vmid_big
t_check "usage: bad --name refused" t_name_bad
t_check "usage: --name that looks like an option refused" t_name_opt
t_check "usage: bad --storage refused" t_storage_bad
t_check "usage: bad --format refused" t_format_bad
t_check "usage: negative --bwlimit refused" t_bwlimit_bad
t_check "usage: pool nested too deeply refused" t_pool_bad
t_check "usage: bad --snapname refused" t_snap_bad
t_check "usage: bad --target refused" t_target_bad
t_check "usage: bad --disk refused" t_disk_bad
t_check "usage: bad --timeout refused" t_timeout_bad
t_check "usage: unknown command" t_unknown_cmd
t_check "usage: unknown option" t_unknown_opt
t_check "usage: missing NEWID" t_missing_newid
t_check "usage: --linked with --storage" t_linked_storage
t_check "usage: SRC equals NEWID" t_same_ids
t_check "usage: --json reports usage errors as JSON" t_json_usage
t_check "--help for every command and --version" t_help
t_check "config errors exit 78" t_config_errors
t_check "qm that cannot be started exits 71" t_spawn_failure
t_check "non-root exits 77 before any qm call" t_not_root
t_check "make-template 100 -> 9000 verified template" t_make_template
t_check "idempotent re-run: changed false, no state change" t_idempotent
t_check "NEWID taken on this node: 69 naming the holder" t_newid_taken
t_check "NEWID taken on another node (.vmlist): 69" t_newid_other_node
t_check "running source refused with its state" t_source_running
t_check "locked source: 75" t_source_locked
t_check "missing source: 69" t_source_missing
t_check "source on another node: 69" t_source_other_node
t_check "plain lvm storage refused for templates" t_lvm_refused
t_check "every failed check is reported" t_all_failures_listed
t_check "disabled, missing, no-images and inactive storages refused" t_storage_states
t_check "dry run: argv printed, zero state-changing calls" t_dry_run
t_check "check: report only" t_check_cmd
t_check "storages: types, states and template support" t_storages_cmd
t_check "template: disks on lvm refused (silent skip prevented)" t_template_silent_skip_refused
t_check "template: failing qm template (exit 0) detected" t_template_failure_detected
t_check "template: VM with snapshots refused" t_template_snapshots
t_check "template: running VM refused" t_template_running
t_check "lock errors retried with backoff, then succeed" t_lock_retry
t_check "lock errors past the retry budget: 75" t_lock_gives_up
t_check "--timeout ends the qm process group: 124" t_timeout
t_check "SIGINT is passed on and reported: 130" t_interrupt
t_check "unparseable qm output: 65" t_garbage_output
t_check "crash mid-clone: 1, nothing deleted" t_crash_mid_clone
t_check "clone --linked from a template" t_clone_linked
t_check "progress bar per disk on a terminal only" t_progress_tty
t_check "-v shows qm's own lines" t_verbose_qm_lines
t_check "4 parallel make-template onto one storage: none fails" t_parallel_one_storage
t_check "parallel runs for one NEWID: one qm clone" t_parallel_same_newid
t_check "make-template --target: made here, then migrated" t_make_template_target
t_check "--target refused when the inherited hookscript is node-local" t_target_local_hookscript
t_check "clone --target onto shared storage" t_clone_target
t_check "an unknown option inside a short cluster is named" t_short_cluster_option
t_check "--json: one object for --help, early errors, and after the command" t_json_everywhere
t_check "NEWID taken while waiting for a slot: 69, no clone, no destroy advice" t_taken_while_waiting
t_check "failed conversion: changed, disks named, resume works" t_resume_after_failed_conversion
t_check "template: lock errors retried" t_template_lock_retry_replans
t_check "template: a half-made template is completed disk by disk" t_half_template_completed_per_disk
t_check "idempotency: only the requested template counts" t_idempotency_is_strict
t_check "a half-made clone is not 'nothing to do'" t_half_made_clone_not_idempotent
t_check "a locked source is retried until the lock clears" t_locked_source_retried
t_check "dry run of clone and template" t_dry_run_clone_and_template
t_check "SIGTERM is passed on: 130" t_sigterm
t_check "copies_per_storage = 2 lets two copies run" t_copies_per_storage_two
t_check "missing --snapname snapshot: 69" t_snapshot_missing
t_check "resource exhaustion is an internal error: 70" t_internal_error
t_check "lock 'suspended' (hibernated VM): 69 at once, how to clear it" t_source_suspended
t_check "a lock error inside qm migrate's worker is retried" t_migrate_lock_retried
t_check "--pool is checked against the cluster's pools (user.cfg)" t_pool_checked
t_check "iscsi is never a clone target, and 'storages' says so" t_iscsi_never_clone_target
t_check "--format a target storage cannot hold is refused in preflight" t_format_refused
t_check "a foreign hookscript on SRC: refused unless --replace-hook, kept by --no-hook" t_foreign_hookscript
t_check "a cluster without quorum: 69 with what to do, not retried" t_no_quorum_precondition
t_done
