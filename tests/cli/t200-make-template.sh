#!/bin/bash
# Black-box tests of pvetmpl make-template / clone / template / check / storages
# against the simulated node (tests/pvesim).
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# ---- arguments: exit 64, one message naming the argument, no qm started ----
# Relies on `set -e`: tests/lint-cli.pl rejects any call of it (or of any test
# function) where `set -e` does not apply, so its first failure ends the test.
bad_arg() {
    sim_setup
    expect_rc 64 "$PVETMPL" "$@"
    assert_eq 1 "$(grep -c . "$T/err")" "one message line"
    assert_eq 0 "$(sim_calls)" "qm/pvesm calls"
}
t_vmid_99() { bad_arg make-template 99 9000; assert_grep "'99'" "$T/err"; }
t_vmid_lead0() { bad_arg make-template 0100 9000; assert_grep "'0100'" "$T/err"; }
t_vmid_junk() { bad_arg make-template '100;reboot' 9000; assert_grep "VMID" "$T/err"; }
t_vmid_space() { bad_arg make-template 100 '9000 '; assert_grep "VMID" "$T/err"; }
t_vmid_big() { bad_arg clone 100 1000000000; }
t_name_bad() { bad_arg make-template 100 9000 --name 'a b'; assert_grep "DNS name" "$T/err"; }
t_name_opt() { bad_arg make-template 100 9000 --name --full; }
t_storage_bad() { bad_arg make-template 100 9000 --storage '../etc'; assert_grep "illegal characters" "$T/err"; }
t_format_bad() { bad_arg make-template 100 9000 --format vhd; assert_grep "vhd" "$T/err"; }
t_bwlimit_bad() { bad_arg make-template 100 9000 --bwlimit -5; assert_grep "bwlimit|-5" "$T/err"; }
t_pool_bad() { bad_arg make-template 100 9000 --pool 'a/b/c/d'; assert_grep "nested too deeply" "$T/err"; }
t_snap_bad() { bad_arg make-template 100 9000 --snapname 1abc; }
t_target_bad() { bad_arg make-template 100 9000 --target node_1; }
t_disk_bad() { bad_arg template 100 --disk scsi31; assert_grep "scsi31" "$T/err"; }
t_timeout_bad() { bad_arg --timeout 5s storages; assert_grep "5s" "$T/err"; }
t_unknown_cmd() { bad_arg frobnicate; assert_grep "unknown command 'frobnicate'" "$T/err"; }
t_unknown_opt() { bad_arg make-template 100 9000 --full; assert_grep "'--full'" "$T/err"; }
t_missing_src() { bad_arg make-template; }
t_linked_storage() { bad_arg clone 100 9001 --linked --storage local-lvm; assert_grep "linked" "$T/err"; }
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
    assert_grep "make-template SRC \[NEWID\]" "$T/out"
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
    assert_eq true "$(json_get '.storages[] | select(.storage=="local-lvm") | .templates')"
    assert_eq false "$(json_get '.storages[] | select(.storage=="lvm-thick") | .templates')"
    assert_eq disabled "$(json_get '.storages[] | select(.storage=="old-nfs") | .state')"
    # the word beside the bool, which the table shows (unknown: test-storages)
    assert_eq "yes no" "$(json_get '[.storages[] | select(.storage=="local-lvm" or .storage=="lvm-thick") | .template_support] | join(" ")')"
    expect_rc 0 "$PVETMPL" storages
    assert_grep "^lvm-thick +lvm +active +[0-9.]+[KMGT] +[0-9.]+[KMGT] +yes +no" "$T/out"
    assert_grep "^local-lvm +lvmthin +active +([0-9.]+[KMGT]|-) +([0-9.]+[KMGT]|-) +yes +yes" "$T/out"
}

t_template_silent_skip_refused() {
    sim_setup
    "$PVESIM" "$S" add-vm 102 --name on-lvm --disk scsi0=lvm-thick:8G
    expect_rc 69 "$PVETMPL" template 102
    assert_grep "lvm" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
}

# Committed scsi0 on lvm, a pending scsi0 on local-lvm: qm clone and qm
# template act on the committed disk, so that is what preflight must judge.
t_pending_changes_judged_committed() {
    sim_setup
    "$PVESIM" "$S" add-vm 102 --name pend --disk scsi0=lvm-thick:8G
    conf=$S/etc/pve/nodes/pve/qemu-server/102.conf
    printf '\n[PENDING]\nmemory: 4096\nscsi0: local-lvm:vm-102-disk-9,size=8G\n' >>"$conf"
    cp "$conf" "$T/before"
    expect_rc 69 "$PVETMPL" template 102
    assert_grep "storage 'lvm-thick' has type 'lvm'" "$T/err"
    assert_grep "disk scsi0 \(lvm-thick:vm-102-disk-0\) cannot become a base volume" "$T/err"
    assert_no_grep "vm-102-disk-9" "$T/err"
    assert_grep "pending changes that the template will not carry: memory,scsi0" "$T/err"
    expect_rc 69 "$PVETMPL" --json make-template 102 9000 --no-hook
    assert_eq false "$(json_get '.checks[] | select(.name=="storage:lvm-thick") | .ok')"
    assert_eq "" "$(json_get '.checks[] | select(.name=="storage:local-lvm") | .name')"
    assert_grep "memory,scsi0" <(json_get '.warnings[]')
    # check says it too, before anyone runs make-template.
    expect_rc 69 "$PVETMPL" check 102
    assert_grep "pending changes that a template made now will not carry: memory,scsi0" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
    cmp "$T/before" "$conf"
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
    wait_gone "sim.pl $S qm clone"
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
    wait_exit $pid
    assert_eq 130 "$rc"
    assert_grep "interrupted" "$T/err"
    wait_gone "sim.pl $S qm clone"
    assert_eq "" "$(pgrep -f "sim.pl $S qm clone" || true)" "qm stopped too"
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        # the run's own record says how it ended
        journalctl --sync
        journalctl -D "$JOURNAL_DIR" --no-pager -o json _PID=$pid PVETMPL_RESULT=failed >j
        assert_eq 130 "$(jq -r .PVETMPL_EXIT j)" "PVETMPL_EXIT of the failed record"
    fi
}
# vols_of VMID: the simulated local-lvm's volumes of VMID (pvesim keeps one
# file per volume); VM 100's must be seen, or the check could not fail.
vols_of() {
    ls "$S/volumes/local-lvm" | grep -q "^vm-100-" || echo "no volume of VM 100 seen"
    ls "$S/volumes/local-lvm" | grep "^vm-$1-" || true
}

# signal_during_copy SIG: qm clone's worker runs in a session of its own
# (RESTEnvironment.pm fork_worker, modelled by pvesim): only qm's parent can
# pass a signal on, and it does so for INT, QUIT and TERM only. Whatever
# pvetmpl received, the worker must hear of it and clean up: no NEWID left
# with 'lock: clone', no volume of it left without a config.
signal_during_copy() {
    sim_setup
    sim_knob PVESIM_COPY_MIBPS=320 # 32 GiB: 1 s per 1 % step
    "$PVETMPL" -v make-template 100 9000 --no-hook >"$T/out" 2>"$T/err" &
    pid=$!
    local conf
    conf=$(dirname "$(find "$S/etc/pve/nodes" -name 100.conf)")/9000.conf
    wait_for_grep 'transferred' "$T/err" 30 # the worker is copying
    kill -"$1" $pid
    wait_exit $pid
    assert_eq 130 "$rc"
    wait_gone "sim.pl $S qm clone" # the worker's cleanup takes a second (sim: sleep 1)
    assert_eq "" "$(pgrep -f "sim.pl $S qm clone" || true)" "qm and its worker ended"
    assert_eq no "$([ -e "$conf" ] && echo "yes: $(cat "$conf")" || echo no)" "9000.conf left"
    assert_eq "" "$(vols_of 9000)" "volumes of 9000 left"
}
t_interrupt() { signal_during_clone INT; }

# Two INTs back to back mid-copy (^C ^C): both arrive while pvetmpl waits for
# qm. The second ends the wait without killing anything: pvetmpl exits 130 by
# itself with the run recorded, and qm's worker, which had its TERM at the
# first, still cleans up after pvetmpl is gone.
t_second_signal_mid_copy() {
    sim_setup
    sim_knob PVESIM_COPY_MIBPS=320 # 32 GiB: 1 s per 1 % step
    local conf
    conf=$(dirname "$(find "$S/etc/pve/nodes" -name 100.conf)")/9000.conf
    perl -e 'my $p = fork() // die; if (!$p) { exec(@ARGV) or die } open(my $f, ">", "pid");
        print $f "$p\n"; close $f; waitpid($p, 0);
        print(($? & 127) ? "signal " . ($? & 127) : "exit " . ($? >> 8))' \
        -- "$PVETMPL" -v make-template 100 9000 --no-hook >"$T/status" 2>"$T/err" &
    waiter=$!
    wait_for_grep 'transferred' "$T/err" 30 # the worker is copying
    pid=$(cat pid)
    kill -INT "$pid"
    # Two INTs still pending are one: the second is sent once the first has
    # been delivered (no longer pending: the handler has taken it).
    local i
    for i in $(seq 1 200); do
        [ "$(sigmask_has "$pid" ShdPnd 2)$(sigmask_has "$pid" SigPnd 2)" = 00 ] && break
        sleep 0.01
    done
    kill -INT "$pid"
    wait_exit $waiter
    assert_eq "exit 130" "$(cat status)" "pvetmpl ended by itself, not by the second INT"
    assert_grep "interrupted by signal 2 and was still stopping" "$T/err"
    assert_grep "VM 9000 may still be being cleaned up: check 'qm config 9000'" "$T/err"
    wait_gone "sim.pl $S qm clone" # the worker's cleanup takes a second (sim: sleep 1)
    assert_eq "" "$(pgrep -f "sim.pl $S qm clone" || true)" "qm and its worker ended"
    assert_eq no "$([ -e "$conf" ] && echo "yes: $(cat "$conf")" || echo no)" "9000.conf left"
    assert_eq "" "$(vols_of 9000)" "volumes of 9000 left"
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        journalctl --sync
        journalctl -D "$JOURNAL_DIR" --no-pager -o json _PID="$pid" PVETMPL_RESULT=failed >j
        assert_eq 130 "$(jq -r .PVETMPL_EXIT j)" "PVETMPL_EXIT of the failed record"
        assert_grep "still stopping" j
    fi
}
t_sigterm() { signal_during_clone TERM; }
t_sighup() { signal_during_clone HUP; }
t_sigquit() { signal_during_clone QUIT; }

# 1 when signal SIG (a number) is set in the hex mask FIELD of /proc/PID/status
sigmask_has() { # PID FIELD SIG
    local m
    m=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")
    echo $(((0x$m >> ($3 - 1)) & 1))
}

# wait_wchan PID PATTERN: until PID sleeps in a kernel function matching PATTERN
wait_wchan() {
    local i
    for i in $(seq 1 200); do
        grep -qE -- "$2" "/proc/$1/wchan" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "wait_wchan: $1 is in '$(cat "/proc/$1/wchan" 2>/dev/null)', not /$2/"
    return 1
}

# block_read_shim: $T/block.so, an LD_PRELOAD shim whose read() of the file
# named by $BLOCK_PATH waits for a signal, as a read of pmxcfs (a FUSE file
# system: regular files) does while the cluster hangs. Each wait appends a
# line to $BLOCK_READY. BLOCK_MODE=once returns EINTR after the signal (the
# interrupt reached the read), BLOCK_MODE=forever waits again (it did not).
block_read_shim() {
    cat >block.c <<'C'
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <errno.h>
    #include <fcntl.h>
    #include <poll.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>
    ssize_t read(int fd, void *buf, size_t n)
    {
        static ssize_t (*real)(int, void *, size_t);
        const char *want = getenv("BLOCK_PATH"), *mode = getenv("BLOCK_MODE");
        char link[64], path[4096];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, path, sizeof(path) - 1);
        if (want && k > 0 && (path[k] = '\0', strcmp(path, want) == 0)) {
            do {
                int r = open(getenv("BLOCK_READY"), O_WRONLY | O_APPEND | O_CREAT, 0600);
                if (r >= 0) {
                    (void)!write(r, "waiting\n", 8);
                    close(r);
                }
                poll(NULL, 0, -1);
            } while (mode && strcmp(mode, "forever") == 0);
            errno = EINTR;
            return -1;
        }
        if (!real) {
            real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
        }
        return real(fd, buf, n);
    }
C
    cc -shared -fPIC -o block.so block.c -ldl
}

# ^C while a pmxcfs file blocks (pmxcfs hangs): 130 and the file named, not
# 69, for every file pvetmpl reads there; one reader serves them all.
t_pve_read_interrupted() {
    sim_setup
    block_read_shim
    local f
    for f in "$S/etc/pve/.vmlist" "$S/etc/pve/storage.cfg" "$S/etc/pve/user.cfg"; do
        rm -f ready
        BLOCK_PATH=$f BLOCK_MODE=once BLOCK_READY=$T/ready LD_PRELOAD=$T/block.so \
            ASAN_OPTIONS=verify_asan_link_order=0 \
            "$PVETMPL" make-template 100 9000 --no-hook --pool pool-ci --format qcow2 \
            >"$T/out" 2>"$T/err" &
        pid=$!
        wait_for_grep waiting ready
        kill -INT $pid
        wait_exit $pid
        assert_eq 130 "$rc" "exit when interrupted reading $f"
        assert_grep "^pvetmpl: error: .*interrupted by a signal while reading '$f'" "$T/err"
    done
    assert_eq 0 "$(sim_mutating_calls)"
}

# A second signal kills at once when the first could not end the wait.
t_second_signal_kills() {
    sim_setup
    block_read_shim
    BLOCK_PATH=$S/etc/pve/.vmlist BLOCK_MODE=forever BLOCK_READY=$T/ready \
        LD_PRELOAD=$T/block.so ASAN_OPTIONS=verify_asan_link_order=0 \
        perl -e 'my $p = fork() // die; if (!$p) { exec(@ARGV) or die } open(my $f, ">", "pid");
            print $f "$p\n"; close $f; waitpid($p, 0);
            print(($? & 127) ? "signal " . ($? & 127) : "exit " . ($? >> 8))' \
        -- "$PVETMPL" make-template 100 9000 --no-hook >"$T/status" 2>"$T/err" &
    waiter=$!
    wait_for_grep waiting ready
    kill -INT "$(cat pid)"
    local i # the INT was handled, and the read waits again
    for i in $(seq 1 200); do
        [ "$(grep -c waiting ready)" -ge 2 ] && break
        sleep 0.05
    done
    assert_eq 2 "$(grep -c waiting ready)" "the first INT did not end the read"
    kill -INT "$(cat pid)"
    wait_exit $waiter
    assert_eq "signal 2" "$(cat status)" "died by the second INT"
}

t_run_dir_refused() { # root writes run_dir: no symlink on its path, root's, not writable by others
    sim_setup
    mkdir target real
    refused() { # WHAT: make-template stops with 78 before any change
        local before
        before=$(sim_mutating_calls)
        expect_rc 78 "$PVETMPL" make-template 100 9000 --no-hook
        assert_grep "^pvetmpl: error: run_dir '[^']*' is refused: $1" "$T/err"
        assert_eq "$before" "$(sim_mutating_calls)" "no change"
        assert_eq "" "$(find target real -mindepth 1)" "nothing created through a link"
    }
    ln -s target run # the run_dir itself
    refused "'$T/run' on its path is a symbolic link"
    sed -i "s|^run_dir = .*|run_dir = \"$T/via/run\"|" "$PVETMPL_CONFIG"
    ln -s real via # a directory above it
    refused "'$T/via' on its path is a symbolic link"
    rm run via
    # every directory on the way: root's, writable by nobody else unless sticky
    mkdir -m 0775 mid
    sed -i "s|^run_dir = .*|run_dir = \"$T/mid/run\"|" "$PVETMPL_CONFIG"
    refused "'$T/mid' is writable by group or others \(mode 0775\)"
    chmod 0755 mid
    chown 65534 mid
    refused "'$T/mid' is owned by uid 65534, not root"
    assert_eq "" "$(ls -A mid)" "nothing created below a refused directory"
    mkdir -m 1777 sticky # as /tmp: others cannot replace root's entries
    sed -i "s|^run_dir = .*|run_dir = \"$T/sticky/run\"|" "$PVETMPL_CONFIG"
    expect_rc 0 "$PVETMPL" make-template 100 9001 --no-hook
    [ -f sticky/run/vmid-9001.0.lock ]
    # made private: flock needs only a read-only fd, so no other user may
    # open a lock file and hold pvetmpl's queues
    assert_eq 700 "$(stat -c %a sticky/run)" "a new run_dir's mode"
    assert_eq 600 "$(stat -c %a sticky/run/vmid-9001.0.lock)" "a lock file's mode"
    sed -i "s|^run_dir = .*|run_dir = \"/\"|" "$PVETMPL_CONFIG"
    refused "it is the root directory"
    sed -i "s|^run_dir = .*|run_dir = \"$T/run\"|" "$PVETMPL_CONFIG"
    mkdir -m 0775 run
    refused "'$T/run' is writable by group or others \(mode 0775\)"
    chmod 1777 run # sticky is no excuse for the run_dir itself
    refused "'$T/run' is writable by group or others \(mode 1777\)"
    chmod 0757 run
    refused "'$T/run' is writable by group or others \(mode 0757\)"
    chmod 0755 run
    chown 65534 run
    refused "'$T/run' is owned by uid 65534, not root"
    assert_eq "" "$(ls -A run)" "no lock file in a refused run_dir"
    chown 0 run
    expect_rc 0 "$PVETMPL" make-template 100 9000 --no-hook
    [ -f run/vmid-9000.0.lock ]
    assert_eq 700 "$(stat -c %a run)" "an existing 0755 run_dir made private"
}

t_output_lost() { # a failed write of stdout is an error, never exit 0
    sim_setup
    for args in "--json storages" storages -V; do
        # shellcheck disable=SC2086 # word-split on purpose
        "$PVETMPL" $args >/dev/full 2>"$T/err" && rc=0 || rc=$?
        assert_eq 70 "$rc" "exit of pvetmpl $args >/dev/full"
        assert_grep "^pvetmpl: error: cannot write to standard output: No space left on device" "$T/err"
    done
}

t_reader_gone() { # a reader that stopped reading: SIGPIPE, as any filter, no message
    sim_setup
    # The pipe's read end is closed before pvetmpl starts: its write must fail.
    perl -e 'pipe(my $r, my $w) or die; close $r; open(STDOUT, ">&", $w) or die;
        system(@ARGV); print STDERR "sig=", $? & 127, " rc=", $? >> 8, "\n"' \
        "$PVETMPL" --json storages 2>"$T/err"
    assert_grep "^sig=13 rc=0$" "$T/err"
    assert_eq 1 "$(wc -l <"$T/err")" "nothing but the verdict on stderr"
    # a failing run keeps its exit code (piped to tee, the admin sees 69)
    perl -e 'pipe(my $r, my $w) or die; close $r; open(STDOUT, ">&", $w) or die;
        system(@ARGV); print STDERR "sig=", $? & 127, " rc=", $? >> 8, "\n"' \
        "$PVETMPL" --json make-template 555 9000 --no-hook 2>"$T/err"
    assert_grep "^sig=0 rc=69$" "$T/err"
}

# A signal after the last step (here: while the success is journalled) does
# not turn a completed, recorded success into 130.
t_signal_after_success() {
    sim_setup
    cat >late.c <<'C'
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <signal.h>
    #include <string.h>
    #include <sys/socket.h>
    #include <unistd.h>
    ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
    {
        static ssize_t (*real)(int, const struct msghdr *, int);
        for (size_t i = 0; i < mh->msg_iovlen; i++) {
            if (mh->msg_iov[i].iov_len == 24 &&
                memcmp(mh->msg_iov[i].iov_base, "PVETMPL_RESULT=succeeded", 24) == 0) {
                kill(getpid(), SIGTERM);
            }
        }
        if (!real) {
            real = (ssize_t(*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
        }
        return real(fd, mh, flags);
    }
C
    cc -shared -fPIC -o late.so late.c -ldl
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/late.so \
        expect_rc 0 "$PVETMPL" make-template 100 9876 --no-hook
    journalctl --sync
    # the journal namespace is the script's: a NEWID no other test uses
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl \
        PVETMPL_VMID=9876 PVETMPL_RESULT=succeeded >j
    assert_eq make-template "$(jq -r .PVETMPL_ACTION j)" "the success was journalled"
}

# flock: only "held by another run" (EWOULDBLOCK) is waited for; any other
# error (ENOLCK: run_dir on a file system without locks) is a configuration
# error at once, never a wait for nothing.
t_flock_error() {
    sim_setup
    cat >nolck.c <<'C'
    #include <errno.h>
    int flock(int fd, int op)
    {
        (void)fd;
        (void)op;
        errno = ENOLCK;
        return -1;
    }
C
    cc -shared -fPIC -o nolck.so nolck.c
    # timeout: a broken build waits forever (124 then fails the test)
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$T/nolck.so \
        expect_rc 78 timeout 30 "$PVETMPL" make-template 100 9000 --no-hook
    assert_grep "^pvetmpl: error: cannot lock 'vmid-9000.0.lock' in run_dir '$T/run': No locks available" "$T/err"
    assert_no_grep "waiting" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)" "no change"
}

t_closed_std_fds() { # closed 0-2 become /dev/null before anything is opened
    sim_setup
    cat >pvesm-spy <<SPY
#!/bin/sh
readlink /proc/\$\$/fd/0 >>"$T/stdin-of-pvesm" || echo closed >>"$T/stdin-of-pvesm"
exec "$S/bin/pvesm" "\$@"
SPY
    chmod +x pvesm-spy
    sed -i "s|^pvesm = .*|pvesm = \"$T/pvesm-spy\"|" "$PVETMPL_CONFIG"
    # stdout closed: nothing else takes fd 1, and the answer that went
    # nowhere is an error, never exit 0 (fd 1 is /dev/null read-only)
    "$PVETMPL" --json storages >&- 2>"$T/err" && rc=0 || rc=$?
    assert_eq 70 "$rc"
    assert_grep "^pvetmpl: error: cannot write to standard output: Bad file descriptor" "$T/err"
    assert_eq 1 "$(grep -c . "$T/err")" "one message"
    # stderr closed too: still 70, and no message lands anywhere else
    "$PVETMPL" --json storages >&- 2>&- && rc=0 || rc=$?
    assert_eq 70 "$rc"
    # stdin closed: the child still gets /dev/null
    "$PVETMPL" --json storages <&- >"$T/out" && rc=0 || rc=$?
    assert_eq 0 "$rc"
    jq -e '.storages | length > 0' "$T/out" >/dev/null
    sort -u stdin-of-pvesm >seen
    assert_file_eq seen "/dev/null
"
}

t_nohup() { # an ignored HUP (nohup) stays ignored; TERM still ends the run
    sim_setup
    sim_knob PVESIM_FAULT=hang
    sim_knob PVESIM_FAULT_CMD=clone
    env --ignore-signal=HUP "$PVETMPL" make-template 100 9000 --no-hook >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for_proc "sim.pl $S qm clone"
    # the handlers are in place once qm runs
    assert_eq 1 "$(sigmask_has $pid SigIgn 1)" "HUP ignored"
    assert_eq 1 "$(sigmask_has $pid SigCgt 3)" "QUIT caught"
    assert_eq 1 "$(sigmask_has $pid SigCgt 15)" "TERM caught"
    kill -TERM $pid
    wait_exit $pid
    assert_eq 130 "$rc"
}

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
        sim_qm config $((9010 + i)) >"$T/cfg"
        assert_grep '^template: 1$' "$T/cfg"
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
    # read back from the target node's config, not taken from the command line
    assert_eq moved "$(json_get .name)"
    assert_eq nfs-shared "$(json_get '.disks[] | select(.drive=="scsi0") | .storage')"
}

# qm clone printing garbage and exiting 0 without making the VM: a failure,
# confirmed from .vmlist, never "cloned" (with and without --target).
t_clone_exit0_without_vm() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 120 --name shared-src --disk scsi0=nfs-shared:8G
    sim_knob PVESIM_FAULT=garbage
    sim_knob PVESIM_FAULT_CMD=clone
    expect_rc 1 "$PVETMPL" --json clone 120 9100 --target pve2
    assert_eq qm_failed "$(json_get .error.class)"
    assert_grep "'qm clone' exited 0 but VM 9100 does not exist" <(json_get .msg)
    assert_no_grep "cloned" <(json_get .msg)
    expect_rc 1 "$PVETMPL" make-template 100 9000
    assert_grep "'qm clone' exited 0 but VM 9000 does not exist" "$T/err"
    assert_no_grep "hookscript set" "$T/err"
    assert_eq "" "$("$PVESIM" "$S" calls --mutating | grep -v '"clone"' || true)" "only the clones"
}

t_short_cluster_option() {
    bad_arg -Zq storages
    assert_grep "unknown option '-Zq' \(see 'pvetmpl --help'\)" "$T/err"
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

# hold_slot / release_slot: the storage's only copy slot, held as another
# run would hold it (lib.sh hold_lock).
hold_slot() {
    hold_lock "$T/run/storage-local-lvm.0.lock"
}

release_slot() {
    release_lock
}

# Runs pvetmpl ARGS... while hold_slot holds the copy slot; once it says it is
# waiting, runs CHANGE (a function: what happens to the node meanwhile), then
# frees the slot. The run's exit status is left in rc.
across_slot_wait() {
    local change=$1 pid
    shift
    hold_slot
    "$PVETMPL" "$@" >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for_grep "waiting for a copy slot" "$T/err"
    "$change"
    release_slot
    wait $pid && rc=0 || rc=$?
}

t_taken_while_waiting() {
    sim_setup
    during_wait() {
        "$PVESIM" "$S" add-vm 9000 --name someone-elses --disk scsi0=local-lvm:8G
    }
    across_slot_wait during_wait make-template 100 9000 --no-hook
    assert_eq 69 "$rc"
    assert_grep "taken while waiting" "$T/err"
    assert_no_grep "destroy" "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
}

# The source started while its make-template waits for a copy slot: no qm
# clone of the running VM (Proxmox would drive-mirror its live disks).
t_started_while_waiting() {
    sim_setup
    during_wait() {
        sim_qm start 100 >/dev/null
    }
    across_slot_wait during_wait make-template 100 9000 --no-hook
    assert_eq 69 "$rc"
    assert_grep "VM 100 is running now: it was started while this run waited for a copy slot" \
        "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
    assert_eq "" "$("$PVESIM" "$S" calls --mutating | grep -v '"start"' || true)" "only the qm start"
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        journalctl --sync
        journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl \
            PVETMPL_VMID=9000 PVETMPL_RESULT=refused >"$T/j"
        assert_grep "started while this run waited" "$T/j"
    fi
}

# The re-check's own answer unreadable: 65, no qm clone.
t_recheck_unreadable() {
    sim_setup
    during_wait() {
        sim_knob PVESIM_FAULT=garbage
        sim_knob PVESIM_FAULT_CMD=status
    }
    across_slot_wait during_wait make-template 100 9000 --no-hook
    assert_eq 65 "$rc"
    assert_grep "cannot parse the output of 'qm status 100'" "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
}

# A lock taken on the source during the wait is waited for like any lock.
t_locked_while_waiting() {
    sim_setup
    echo "lock_retries = 1" >>"$PVETMPL_CONFIG"
    during_wait() {
        sed -i 's/^name:/lock: backup\nname:/' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    }
    across_slot_wait during_wait make-template 100 9000 --no-hook
    assert_eq 75 "$rc"
    assert_grep "VM 100 is locked \(backup\): it was locked while this run waited" "$T/err"
    assert_grep "retrying in 1 s \(1 of 1\)" "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
}

# Hibernated while waiting: 'suspended' is the lock no task drops, so the
# re-check refuses at once (69) as preflight does, without waiting for it.
t_suspended_while_waiting() {
    sim_setup
    during_wait() {
        sed -i 's/^name:/lock: suspended\nname:/' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    }
    across_slot_wait during_wait make-template 100 9000 --no-hook
    assert_eq 69 "$rc"
    assert_grep "VM 100 is locked \(suspended\) now: it is hibernated .*'qm resume 100'" "$T/err"
    assert_no_grep "retrying" "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
}

# A foreign hookscript set on the source while the run waited for a copy slot:
# preflight's rule again right before qm clone (69 unless --replace-hook).
t_foreign_hook_while_waiting() {
    sim_setup
    during_wait() {
        sed -i 's/^name:/hookscript: local:snippets\/gpu-passthrough.pl\nname:/' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    }
    across_slot_wait during_wait make-template 100 9000
    assert_eq 69 "$rc"
    assert_grep "VM 100 has the hookscript 'local:snippets/gpu-passthrough.pl', not pvetmpl's: .*'make-template --replace-hook'; it was set while this run waited for a copy slot" "$T/err"
    assert_eq 0 "$(grep -c '"clone"' "$S/calls.log" || true)" "no qm clone"
    # --replace-hook: the admin chose to replace it, as preflight would let it
    sed -i '/^hookscript:/d' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    during_wait() {
        sed -i 's/^name:/hookscript: local:snippets\/gpu-passthrough.pl\nname:/' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    }
    across_slot_wait during_wait make-template 100 9000 --replace-hook
    assert_eq 0 "$rc"
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
}

# qm set exiting 0 without effect: the hookscript read back from the config
# decides, for make-template, hook install and hook remove.
t_hookscript_read_back() {
    sim_setup
    sim_knob PVESIM_FAULT=garbage
    sim_knob "PVESIM_FAULT_CMD=qm set"
    expect_rc 1 "$PVETMPL" make-template 100 9000
    assert_grep "registering the hookscript failed: 'qm set 9000 --hookscript' exited 0, but the config of VM 9000 reads back no hookscript, not 'hookscript: local:snippets/.*; resume with 'pvetmpl hook install 9000'" "$T/err"
    assert_no_grep "hookscript set" "$T/err"
    expect_rc 1 "$PVETMPL" --json hook install 100
    assert_grep "reads back no hookscript" <(json_get .msg)
    assert_no_grep "hookscript:" <(sim_qm config 100 --current)
    "$PVESIM" "$S" knob --clear
    expect_rc 0 "$PVETMPL" hook install 100
    sim_knob PVESIM_FAULT=garbage
    sim_knob "PVESIM_FAULT_CMD=qm set"
    expect_rc 1 "$PVETMPL" hook remove 100
    assert_grep "reads back 'hookscript: local:snippets/.*', not no hookscript" "$T/err"
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
    sim_qm config 9000 >"$T/cfg"
    assert_grep '^scsi0: local-lvm:base-9000-disk-0' "$T/cfg"
}

t_half_template_completed_per_disk() {
    # template: 1 but a vm- disk (what a worker that failed after the flag leaves):
    # qm refuses "a template to a template", so each disk is converted with --disk.
    sim_setup
    "$PVESIM" "$S" add-vm 107 --name half --disk scsi0=local-lvm:8G --disk scsi1=local-lvm:4G
    echo 'template: 1' >>"$S/etc/pve/nodes/pve/qemu-server/107.conf" # pve-interface.md §3: flag first
    sim_qm config 107 >"$T/cfg"
    assert_grep '^template: 1$' "$T/cfg"
    assert_grep '^scsi0: local-lvm:vm-107-disk-0' "$T/cfg"
    expect_rc 0 "$PVETMPL" --json template 107
    assert_eq "$S/bin/qm template 107 --disk scsi0" "$(json_get '.commands[0] | join(" ")')"
    assert_eq "$S/bin/qm template 107 --disk scsi1" "$(json_get '.commands[1] | join(" ")')"
    assert_eq true "$(json_get .changed)"
    assert_eq 2 "$(json_get '[.disks[] | select(.base)] | length')"
}

# template --disk converts one disk and qm marks the whole VM a template:
# say what is base now and what is not, never just "is now a template".
t_template_one_disk_reports_the_rest() {
    sim_setup
    "$PVESIM" "$S" add-vm 108 --name two --disk scsi0=local-lvm:8G --disk scsi1=local-lvm:4G
    expect_rc 0 "$PVETMPL" template 108 --disk scsi0
    assert_grep "disk scsi0 is now a base volume" "$T/out"
    assert_grep "base now: scsi0 \(local-lvm:base-108-disk-0\); not converted: scsi1 \(local-lvm:vm-108-disk-1\)" "$T/out"
    assert_no_grep "is now a template" "$T/out"
    expect_rc 0 "$PVETMPL" --json template 108 --disk scsi0
    assert_eq '["scsi0"]' "$(json_get '.base | tostring')"
    assert_eq '["scsi1"]' "$(json_get '.not_base | tostring')"
    assert_grep "scsi0 was already a base volume" <(json_get .msg)
    expect_rc 0 "$PVETMPL" --json template 108
    assert_eq '["scsi0","scsi1"]' "$(json_get '.base | tostring')"
    assert_eq '[]' "$(json_get '.not_base | tostring')"
    assert_eq "VM 108 'two' is now a template" "$(json_get .msg)"
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
    sim_qm config 105 >"$T/cfg"
    assert_grep '^scsi0: local-lvm:base-105-disk-0' "$T/cfg"
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
    sim_qm config 9001 >"$T/cfg"
    assert_grep '^name: Copy-of-VM-ubuntu-server-22.04$' "$T/cfg"
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
    # unlocked once pvetmpl has read the locked config: the sim logs each
    # call as it ends, so the first look saw the lock and the retry is sure
    (
        wait_for_grep '"argv":\["qm","config","130","--current"' "$S/calls.log" 30
        "$S/bin/qm" unlock 130
    ) &
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
    wait_gone "sim.pl $S "
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
    assert_grep "^iscsi-san +iscsi +active +- +- +yes +no +no$" "$T/out"
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
    # check takes neither option: its advice names make-template's
    expect_rc 69 "$PVETMPL" --json check 130
    assert_grep "'make-template --no-hook'.*'make-template --replace-hook'" <(json_get '.checks[] | select(.name=="foreign_hookscript") | .detail')
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
    perl -0pi -e 's/"quorate": 1/"quorate": 0/' "$S/etc/pve/.members"
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
t_check "usage: missing SRC" t_missing_src
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
t_check "pending changes: judged on the committed config, named in a warning" t_pending_changes_judged_committed
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
t_check "qm clone exiting 0 without a VM is a failure (.vmlist read-back)" t_clone_exit0_without_vm
t_check "a word that is no cluster of short options is named whole" t_short_cluster_option
t_check "--json: one object for --help, early errors, and after the command" t_json_everywhere
t_check "NEWID taken while waiting for a slot: 69, no clone, no destroy advice" t_taken_while_waiting
t_check "source started while waiting for a slot: 69, no qm clone, journalled" t_started_while_waiting
t_check "source locked while waiting for a slot: retried, then 75, no qm clone" t_locked_while_waiting
t_check "hibernated (lock suspended) during the slot wait: 69 at once, no clone" t_suspended_while_waiting
t_check "foreign hookscript set during the slot wait: 69 unless --replace-hook, no clone" t_foreign_hook_while_waiting
t_check "source state unreadable after the wait: 65, no qm clone" t_recheck_unreadable
t_check "hookscript change confirmed from the config read back" t_hookscript_read_back
t_check "failed conversion: changed, disks named, resume works" t_resume_after_failed_conversion
t_check "template --disk: what is base now and what is not" t_template_one_disk_reports_the_rest
t_check "template: lock errors retried" t_template_lock_retry_replans
t_check "template: a half-made template is completed disk by disk" t_half_template_completed_per_disk
t_check "idempotency: only the requested template counts" t_idempotency_is_strict
t_check "a half-made clone is not 'nothing to do'" t_half_made_clone_not_idempotent
t_check "a locked source is retried until the lock clears" t_locked_source_retried
t_check "dry run of clone and template" t_dry_run_clone_and_template
t_check "SIGTERM is passed on: 130" t_sigterm
t_check "SIGHUP (a dropped SSH session) is passed on: 130" t_sighup
t_check "SIGHUP mid-copy: qm's worker is stopped and cleans up" signal_during_copy HUP
t_check "SIGQUIT mid-copy: qm's worker is stopped and cleans up" signal_during_copy QUIT
t_check "SIGTERM mid-copy: qm's worker is stopped and cleans up" signal_during_copy TERM
t_check "SIGQUIT is passed on: 130" t_sigquit
t_check "under nohup SIGHUP stays ignored" t_nohup
t_check "^C while a pmxcfs file (.vmlist, storage.cfg, user.cfg) blocks: 130, not 69" t_pve_read_interrupted
t_check "a second signal kills at once when the first cannot end the wait" t_second_signal_kills
t_check "^C ^C mid-copy: 130 recorded, qm left to clean up, not killed" t_second_signal_mid_copy
t_check "run_dir: a symlink on its path, group/world-writable or not root's: 78" t_run_dir_refused
t_check "stdout that cannot be written (/dev/full): 70 with a message" t_output_lost
t_check "a flock error other than 'busy' is a configuration error (78), not a wait" t_flock_error
if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
    t_check "a signal while the success is journalled keeps exit 0" t_signal_after_success
else
    t_skip "a signal while the success is journalled keeps exit 0" "no private journald"
fi
t_check "a reader gone (| head): ended by SIGPIPE, no message" t_reader_gone
t_check "closed stdin/stdout: /dev/null in their place, for pvetmpl and its children" \
    t_closed_std_fds
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
