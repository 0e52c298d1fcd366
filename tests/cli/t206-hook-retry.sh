#!/bin/bash
# make-template whose hookscript did not take: the template is made, the run
# fails with what resumes it, and a retry of the same command is no "nothing
# to do" (exit 0 with a template missing the hook) but 69 naming the state and
# the exact resume command, which then works.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

conf() { echo "$S/etc/pve/nodes/pve/qemu-server/$1.conf"; }

# qm set exits 0 without effect (the sim's garbage fault on qm set only)
qm_set_fails_silently() {
    sim_knob PVESIM_FAULT=garbage
    sim_knob "PVESIM_FAULT_CMD=qm set"
}

t_retry_without_hook_refused() {
    sim_setup
    qm_set_fails_silently
    expect_rc 1 "$PVETMPL" make-template 100 9000 --name t9000
    assert_grep "resume with 'pvetmpl hook install 9000'$" "$T/err"
    "$PVESIM" "$S" knob --clear
    local before
    before=$(sim_mutating_calls)
    expect_rc 69 "$PVETMPL" make-template 100 9000 --name t9000
    assert_grep "VM 9000 is the template 't9000', but its hookscript is none, not pvetmpl's \(an earlier run's hook did not take\): finish it with 'pvetmpl hook install 9000'$" "$T/err"
    assert_no_grep "nothing to do" "$T/out"
    assert_eq "$before" "$(sim_mutating_calls)" "no change"
    # JSON: refused, the same words
    expect_rc 69 "$PVETMPL" --json make-template 100 9000 --name t9000
    assert_grep "but its hookscript is none, not pvetmpl's" <(json_get .msg)
    # the resume command given works, then the retry is "nothing to do"
    expect_rc 0 "$PVETMPL" hook install 9000
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    assert_grep "VM 9000 is already the template 't9000'; nothing to do" "$T/out"
    # without the hook wanted, a template without it is what was asked
    sed -i '/^hookscript:/d' "$(conf 9000)"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000 --no-hook
    assert_grep "nothing to do" "$T/out"
}

# --replace-hook over a foreign hookscript on SRC: the copy keeps the foreign
# one when qm set does nothing; the hint carries --replace-hook (hook install
# refuses a foreign hookscript without it), the retry is refused the same.
t_retry_replace_hook() {
    sim_setup
    "$PVESIM" "$S" add-vm 101 --name gpu --disk scsi0=local-lvm:8G \
        --hookscript local:snippets/gpu-passthrough.pl >/dev/null
    qm_set_fails_silently
    expect_rc 1 "$PVETMPL" make-template 101 9000 --name t9000 --replace-hook
    assert_grep "resume with 'pvetmpl hook install 9000 --replace-hook'$" "$T/err"
    assert_grep '^hookscript: local:snippets/gpu-passthrough.pl$' "$(conf 9000)"
    "$PVESIM" "$S" knob --clear
    expect_rc 69 "$PVETMPL" make-template 101 9000 --name t9000 --replace-hook
    assert_grep "VM 9000 is the template 't9000', but its hookscript is 'local:snippets/gpu-passthrough.pl', not pvetmpl's .*: finish it with 'pvetmpl hook install 9000 --replace-hook'$" "$T/err"
    # without --replace-hook the foreign one is still only replaced with it
    expect_rc 69 "$PVETMPL" make-template 101 9000 --name t9000
    assert_grep "finish it with 'pvetmpl hook install 9000 --replace-hook'$" "$T/err"
    # the hint as given works
    expect_rc 0 "$PVETMPL" hook install 9000 --replace-hook
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$(conf 9000)"
    expect_rc 0 "$PVETMPL" make-template 101 9000 --name t9000 --replace-hook
    assert_grep "nothing to do" "$T/out"
}

# A failed conversion with a hookscript that did not take either: the hint
# for the hook carries --replace-hook too.
t_convert_and_hook_fail_replace_hint() {
    sim_setup
    "$PVESIM" "$S" add-vm 101 --name gpu --disk scsi0=local-lvm:8G \
        --hookscript local:snippets/gpu-passthrough.pl >/dev/null
    sim_knob PVESIM_FAULT=garbage
    sim_knob "PVESIM_FAULT_CMD=qm set,qm template"
    expect_rc 1 "$PVETMPL" make-template 101 9000 --name t9000 --replace-hook
    assert_grep "resume with 'pvetmpl hook install 9000 --replace-hook' and 'pvetmpl template 9000'$" "$T/err"
}

# ^C while qm template runs (after qm set exited 0): the read-back that
# confirms both is not made (node_run_many refuses it). Nothing showed the
# hookscript set failed: its record says what is known (qm set exited 0, the
# read-back not made, interrupted: exit 130, as every step a signal cuts
# short), not a failure of qm; the report says what to resume.
t_interrupted_conversion_hook_record() {
    sim_setup
    sim_knob PVESIM_FAULT=hang
    sim_knob "PVESIM_FAULT_CMD=qm template"
    "$PVETMPL" make-template 100 9000 --name t9000 >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for_proc "sim.pl $S qm template"
    kill -INT "$pid"
    wait_exit "$pid"
    assert_eq 130 "$rc"
    assert_grep "converting it to a template failed.*the hookscript set is not confirmed either \('qm set 9000 --hookscript' exited 0, but VM 9000's config was not read back to confirm it: .*interrupted" "$T/err"
    assert_grep "resume with 'pvetmpl hook install 9000' and 'pvetmpl template 9000'" "$T/err"
    assert_no_grep "could not be read back" "$T/err"
    wait_gone "sim.pl $S qm template"
    if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
        journalctl --sync
        journalctl -D "$JOURNAL_DIR" --no-pager -o json _PID="$pid" PVETMPL_ACTION=hook-install \
            PVETMPL_RESULT=failed >j
        assert_eq 1 "$(jq -s length j)" "one hook-install end record"
        assert_eq 130 "$(jq -r .PVETMPL_EXIT j)" "the hook-install record: interrupted, not a qm failure"
        assert_grep "exited 0, but VM 9000's config was not read back to confirm it" <(jq -r .PVETMPL_ERROR j)
    fi
}

# --rotate re-run with NEWID: a template whose hook did not take is refused
# the same, before anything is renamed; the one already named NAME too.
t_rotate_retry_without_hook() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name base
    qm_set_fails_silently
    expect_rc 1 "$PVETMPL" make-template 100 9001 --name base --rotate
    assert_grep "resume with 'pvetmpl hook install 9001'" "$T/err"
    "$PVESIM" "$S" knob --clear
    local before
    before=$(sim_mutating_calls)
    expect_rc 69 "$PVETMPL" make-template 100 9001 --name base --rotate
    assert_grep "VM 9001 is the template 'base-pvetmpl-new', but its hookscript is none, not pvetmpl's .*: finish it with 'pvetmpl hook install 9001'" "$T/err"
    assert_eq "$before" "$(sim_mutating_calls)" "nothing renamed"
    assert_grep '^name: base$' "$(conf 9000)"
    # NEWID already named NAME (the handover done) but without the hook
    sim_qm set 9001 --name base-x >/dev/null
    sim_qm set 9000 --name base-old >/dev/null
    sim_qm set 9001 --name base >/dev/null
    before=$(sim_mutating_calls)
    expect_rc 69 "$PVETMPL" make-template 100 9001 --name base --rotate
    assert_grep "VM 9001 is the template 'base', but its hookscript is none, not pvetmpl's .*: finish it with 'pvetmpl hook install 9001'" "$T/err"
    assert_eq "$before" "$(sim_mutating_calls)" "nothing renamed"
    expect_rc 0 "$PVETMPL" hook install 9001
    expect_rc 0 "$PVETMPL" make-template 100 9001 --name base --rotate
    assert_grep '^name: base$' "$(conf 9001)"
}

t_check "a retry after a hookscript that did not take: 69 with the resume command, not 'nothing to do'" t_retry_without_hook_refused
t_check "--replace-hook: the resume hint and the retry's refusal carry it" t_retry_replace_hook
t_check "a failed conversion and hook: the hint carries --replace-hook" t_convert_and_hook_fail_replace_hint
t_check "^C during qm template: the hook-install record says the read-back was not made (130)" t_interrupted_conversion_hook_record
t_check "--rotate re-run with NEWID: a template without the hook refused before any rename" t_rotate_retry_without_hook
t_done
