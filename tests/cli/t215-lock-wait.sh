#!/bin/bash
# --lock-wait bounds every wait pvetmpl itself makes, not only Proxmox's
# locks: the copy-slot queue of a storage, the lock on a NEWID another run is
# creating and the lock on a name another run is rotating, each held here by
# a stand-in "run" (flock on the lock file, lib.sh's hold_lock). --lock-wait 0
# exits 75 at once naming what is held; a short wait gives up after it;
# nothing is changed either way; once the lock is free the run goes through.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

held() { # LOCKFILE WANT-MESSAGE ARGS...
    local lock=$1 want=$2
    shift 2
    sim_setup
    hold_lock "$T/run/$lock"
    # timeout: without the bound the run would wait for the holder forever
    expect_rc 75 timeout 15 "$PVETMPL" --no-progress "$@" --lock-wait 0
    assert_grep "$want" "$T/err"
    assert_grep "not waiting \(--lock-wait 0\); retry later" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)" "nothing changed"
    expect_rc 75 timeout 15 "$PVETMPL" --no-progress "$@" --lock-wait 1
    assert_grep "$want" "$T/err"
    assert_grep "gave up after 1 s of waiting \(--lock-wait\); retry later" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)" "nothing changed"
    release_lock
    expect_rc 0 timeout 60 "$PVETMPL" --no-progress "$@" --lock-wait 0
}

copy_slot() {
    held storage-local-lvm.0.lock \
        "every copy slot on storage 'local-lvm' \(copies_per_storage = 1\) is held by another pvetmpl run" \
        make-template 100 9000 --no-hook
}
newid_lock() {
    held vmid-9000.0.lock "VM 9000 is being created by another pvetmpl run" \
        make-template 100 9000 --no-hook
}
name_lock() {
    held name-tmpl-web.0.lock "the name 'tmpl-web' is in use by another pvetmpl run" \
        make-template 100 9000 --no-hook --name tmpl-web --rotate
}

if [ -x "$PVESIM" ] && [ -x "$PVETMPL" ]; then
    t_check "--lock-wait bounds the wait for a copy slot" copy_slot
    t_check "--lock-wait bounds the wait for a NEWID another run is creating" newid_lock
    t_check "--lock-wait bounds the wait for a name another run is rotating" name_lock
fi
t_done
