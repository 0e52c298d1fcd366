#!/bin/bash
# make-template's critical path (issue 11): which qm/pvesm calls it makes and
# in what order, read from the simulated node's calls.log. Each call costs a
# real qm's start-up (about 0.5 s): preflight asks pvesm once, and registering
# the hook after the clone reuses its answers; every change is still read back.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# The calls of the last run, one per line: argv without the binaries' paths.
calls() {
    perl -MJSON::PP -ne 'my $a = decode_json($_)->{argv}; print join(" ", @$a), "\n"' \
        "$S/calls.log" >"$T/calls"
}

# Line number of the first call matching the extended regex PATTERN (0: none).
first() {
    local n
    n=$(grep -nE -- "$1" "$T/calls" | head -n1 | cut -d: -f1)
    echo "${n:-0}"
}

t_hook_reuses_preflight() {
    sim_setup
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    calls
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    # one pvesm status (preflight's), none again to register the hook
    assert_eq 1 "$(grep -cx 'pvesm status' "$T/calls")" "pvesm status calls"
    assert_eq 1 "$(grep -c '^pvesm path local:snippets/pvetmpl-hook$' "$T/calls")" "pvesm path calls"
    local path clone set tmpl
    path=$(first '^pvesm path ')
    clone=$(first '^qm clone 100 9000')
    set=$(first '^qm set 9000 --hookscript')
    tmpl=$(first '^qm template 9000')
    [ "$path" -lt "$clone" ] || {
        echo "pvesm path ($path) not asked before qm clone ($clone)"
        return 1
    }
    # the copy's hookscript is known (qm clone copies the source's): no read
    # of 9000 between the clone and qm set; then exactly the read-back
    assert_eq $((clone + 1)) "$set" "qm set right after qm clone"
    assert_eq "qm config 9000 --current" "$(sed -n "$((set + 1))p" "$T/calls")" "read-back after qm set"
    assert_eq $((set + 2)) "$tmpl" "qm template after the read-back"
    assert_eq "qm config 9000 --current" "$(sed -n "$((tmpl + 1))p" "$T/calls")" "read-back after qm template"
    assert_eq $((tmpl + 1)) "$(wc -l <"$T/calls")" "nothing after the read-back"
}

# A source that has pvetmpl's hookscript already: the copy has it too, which
# is read from the copy's config (not assumed), so no qm set is needed.
t_own_hook_read_not_assumed() {
    sim_setup
    expect_rc 0 "$PVETMPL" hook install 100
    : >"$S/calls.log"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000
    calls
    assert_grep "VM 9000 already has the hookscript local:snippets/pvetmpl-hook" "$T/err"
    assert_eq 0 "$(grep -c '^qm set' "$T/calls" || true)" "qm set calls"
    local clone
    clone=$(first '^qm clone 100 9000')
    assert_eq "qm config 9000 --current" "$(sed -n "$((clone + 1))p" "$T/calls")" "the copy's config read"
}

# A foreign hookscript replaced (--replace-hook): known from preflight, the
# replacement is named and read back.
t_replace_hook_known() {
    sim_setup
    printf '#!/bin/sh\nexit 0\n' >"$S/var/lib/vz/snippets/gpu-passthrough.pl"
    chmod 755 "$S/var/lib/vz/snippets/gpu-passthrough.pl"
    sim_qm set 100 --hookscript local:snippets/gpu-passthrough.pl >/dev/null
    : >"$S/calls.log"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --name t9000 --replace-hook
    calls
    assert_grep "VM 9000 had the hookscript 'local:snippets/gpu-passthrough.pl', replacing it" "$T/err"
    assert_grep '^hookscript: local:snippets/pvetmpl-hook$' "$S/etc/pve/nodes/pve/qemu-server/9000.conf"
    local set
    set=$(first '^qm set 9000 --hookscript')
    assert_eq "$(($(first '^qm clone 100 9000') + 1))" "$set" "qm set right after qm clone"
}

# Only a make-template that writes the hook asks for the hook's path: not
# check, not --no-hook; a dry run asks once, with preflight's queries, to plan
# the file write.
t_path_only_when_written() {
    sim_setup
    expect_rc 0 "$PVETMPL" check 100
    expect_rc 0 "$PVETMPL" make-template 100 9001 --no-hook
    calls
    assert_eq 0 "$(grep -c '^pvesm path' "$T/calls" || true)" "pvesm path calls"
    : >"$S/calls.log"
    expect_rc 0 "$PVETMPL" -n make-template 100 9000
    calls
    assert_eq 1 "$(grep -c '^pvesm path' "$T/calls" || true)" "pvesm path calls of a dry run"
    cat "$T/out" "$T/err" >"$T/both"
    assert_grep "would write .*pvetmpl-hook" "$T/both"
}

t_check "make-template: the hook is registered with preflight's pvesm answers, no re-read before qm set" t_hook_reuses_preflight
t_check "make-template: pvetmpl's own hookscript on SRC is read from the copy, not assumed" t_own_hook_read_not_assumed
t_check "make-template --replace-hook: the foreign hookscript known from preflight is replaced and read back" t_replace_hook_known
t_check "pvesm path is asked only when make-template writes or plans the hook" t_path_only_when_written
t_done
