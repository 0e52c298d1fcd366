#!/bin/bash
# Black-box tests of the command-line front end (wrapper/cli.c): where options
# may stand, exact long options, the messages for a mistyped line, --lock-wait,
# and the root check made once, before anything happens.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# A line refused with 64, one message naming the problem, nothing run.
refused_line() { # PATTERN ARGS...
    local want=$1
    shift
    sim_setup
    expect_rc 64 "$PVETMPL" "$@"
    assert_eq 1 "$(grep -c . "$T/err")" "one message line"
    assert_grep "$want" "$T/err"
    assert_eq 0 "$(sim_calls)" "qm/pvesm calls"
}

# FILE holds exactly one JSON object and nothing else.
one_json() {
    local n
    n=$(jq -rs 'map(type) | join(",")' "$1")
    assert_eq object "$n" "one JSON object in $1"
}

# ---- options anywhere, for every command ----
t_global_after_args() {
    sim_setup
    expect_rc 0 "$PVETMPL" check 100 -n
    assert_grep "^ok +source_exists" "$T/out"
    expect_rc 0 "$PVETMPL" make-template 100 9000 --timeout=5 --json --no-hook
    assert_eq 9000 "$(json_get .vmid)"
    expect_rc 0 "$PVETMPL" template 9000 --json -q
    assert_eq false "$(json_get .changed)"
    expect_rc 0 "$PVETMPL" storages --json
    assert_eq true "$(json_get '.storages | length > 0')"
    expect_rc 0 "$PVETMPL" hook status 100 --json
    assert_eq hook-status "$(json_get .action)"
    expect_rc 0 "$PVETMPL" clone 9000 9001 --linked --lock-wait 0 --json
    assert_eq 9001 "$(json_get .vmid)"
    # a global option between a command's option and its arguments
    expect_rc 0 "$PVETMPL" -n clone --name web1 100 --no-progress 9002 -v
    assert_grep "^would run: .*qm clone 100 9002 --full 1 --name web1$" "$T/out"
    # after "--" nothing is an option
    expect_rc 64 "$PVETMPL" check -- 100 --json
    assert_grep "unexpected argument '--json'" "$T/err"
}

t_audit_options_anywhere() {
    sim_setup
    expect_rc 0 "$PVETMPL" audit --vmid 4242 --since -1h --json -q
    one_json "$T/out"
    assert_eq "audit true" "$(json_get '"\(.action) \(.events == [])"')"
    # -q after the arguments silences what the same line says without it
    expect_rc 0 "$PVETMPL" audit --vmid=4242 -S -1h
    assert_grep "^pvetmpl: no matching pvetmpl events" "$T/err"
    expect_rc 0 "$PVETMPL" audit --vmid=4242 -S -1h -q
    assert_eq "" "$(cat "$T/out" "$T/err")"
}

t_help_anywhere() {
    expect_rc 0 "$PVETMPL" make-template 100 --help
    assert_grep "^usage: pvetmpl .*make-template SRC \[NEWID\]" "$T/out"
    for c in make-template clone template check storages hook audit list; do
        expect_rc 0 "$PVETMPL" "$c" --help
        assert_grep "usage: pvetmpl .*$c" "$T/out"
        expect_rc 0 "$PVETMPL" --json "$c" -h
        assert_grep "usage: pvetmpl .*$c" <(json_get .msg)
    done
    expect_rc 0 "$PVETMPL" --json --help
    assert_grep "130 interrupted" <(json_get .msg) # whole, not cut
    assert_grep "lock-wait SEC" <(json_get .msg)
}

# ---- --json-lines: audit's event lines; every other command as --json ----
t_json_lines_others() {
    sim_setup
    expect_rc 0 "$PVETMPL" --json-lines storages
    one_json "$T/out"
    assert_eq true "$(json_get '.storages | length > 0')"
    expect_rc 0 "$PVETMPL" --json-lines list
    one_json "$T/out"
    assert_eq list "$(json_get .action)"
    expect_rc 0 "$PVETMPL" check 100 --json-lines
    one_json "$T/out"
    assert_eq true "$(json_get '.checks | length > 0')"
    expect_rc 0 "$PVETMPL" --json-lines --version
    one_json "$T/out"
    assert_grep "^pvetmpl [0-9]" <(json_get .msg)
    # a usage error of a command other than audit, too
    expect_rc 64 "$PVETMPL" --json-lines template 100 101
    one_json "$T/out"
    assert_eq usage "$(json_get .error.class)"
    assert_eq "" "$(cat "$T/err")"
}
t_json_and_json_lines() {
    sim_setup
    expect_rc 64 "$PVETMPL" --json-lines audit --json
    one_json "$T/out"
    assert_eq "options '--json' and '--json-lines' exclude each other" "$(json_get .error.detail)"
    expect_rc 64 "$PVETMPL" storages --json --json-lines
    assert_grep "exclude each other" <(json_get .error.detail)
    assert_eq 0 "$(sim_calls)"
}

# ---- long options match exactly ----
t_abbrev_refused() { refused_line "unknown option '--stor'.*did you mean '--storage'" make-template 100 9000 --stor local-lvm; }
t_abbrev_global() { refused_line "unknown option '--jso'" --jso storages; }
t_abbrev_audit() { refused_line "unknown option '--all'" audit --all; }
t_single_dash_long() { refused_line "unknown option '-name': did you mean '--name'\?" make-template 100 9000 -name foo; }
t_single_dash_storage() { refused_line "unknown option '-storage': did you mean '--storage'\?" check 100 -storage local; }
t_single_dash_full() { refused_line "^pvetmpl: error: unknown option '-full': pvetmpl clones are full unless --linked$" make-template 100 9000 -full 1; }
# a did-you-mean only for an option the command has
t_single_dash_other_cmd() {
    refused_line "^pvetmpl: error: unknown option '-vmid' for clone" clone 100 9000 -vmid 5
    assert_no_grep "did you mean" "$T/err"
}
t_single_dash_other_cmd2() {
    refused_line "^pvetmpl: error: unknown option '-disk' for make-template" make-template 100 9000 -disk scsi0
    assert_no_grep "did you mean" "$T/err"
}
t_single_dash_audit() { refused_line "unknown option '-vmid': did you mean '--vmid'\?" audit -vmid 4242; }
t_short_value() { refused_line "^pvetmpl: error: option '-n' takes no value \(got '-n=1'\)$" -n=1 storages; }
t_wrong_command_opt() { refused_line "unknown option '--disk' for make-template" make-template 100 9000 --disk scsi0; }
t_cmd_opt_before_cmd() { refused_line "option '--name' belongs to a command" --name x make-template 100 9000; }

# ---- a flag takes no value ----
t_no_hook_value() { refused_line "^pvetmpl: error: option '--no-hook' takes no value" make-template 100 9000 --no-hook=1; }
t_linked_value() { refused_line "option '--linked' takes no value" clone 100 9000 --linked=1; }
t_json_value() {
    refused_line "option '--json' takes no value" --json=1 storages
    assert_no_grep $'[\x01-\x08\x0b-\x1f]' "$T/err"
}
t_all_users_value() { refused_line "option '--all-users' takes no value" audit --all-users=no; }
t_value_missing() { refused_line "option '--lock-wait' needs a value" storages --lock-wait; }

# ---- a word with no place is named ----
t_extra_arg() { refused_line "unexpected argument 'extra' \(make-template takes SRC and an optional NEWID\)" make-template 100 9041 extra; }
t_extra_template() { refused_line "unexpected argument '101'" template 100 101; }
t_storages_extra() {
    sim_setup
    expect_rc 64 "$PVETMPL" storages --json extra
    assert_eq usage "$(json_get .error.class)"
    assert_grep "unexpected argument 'extra'" <(json_get .error.detail)
    assert_eq 0 "$(sim_calls)"
}
# A usage error names the action as a run would (hook-status, not hook).
t_hook_usage_action() {
    sim_setup
    expect_rc 64 "$PVETMPL" --json hook status 100 extra
    assert_eq "hook-status usage" "$(json_get '"\(.action) \(.error.class)"')"
    expect_rc 64 "$PVETMPL" hook status 100 --bogus --json
    assert_eq "hook-status usage" "$(json_get '"\(.action) \(.error.class)"')"
    expect_rc 64 "$PVETMPL" --json hook
    assert_eq "hook usage" "$(json_get '"\(.action) \(.error.class)"')"
    expect_rc 64 "$PVETMPL" --json check 100 extra
    assert_eq "check usage" "$(json_get '"\(.action) \(.error.class)"')"
    assert_eq 0 "$(sim_calls)"
}
t_audit_extra() { refused_line "unexpected argument 'x'" audit x; }

# A value echoed in a message never carries raw control bytes to the terminal.
t_audit_since_escaped() {
    refused_line "invalid --since value 'a[\\]x1b\[2Jb'" audit --since $'a\x1b[2Jb'
    assert_no_grep $'\x1b' "$T/err"
}

# ---- --lock-wait ----
t_lock_wait_bad() { refused_line "invalid --lock-wait value '-1'" storages --lock-wait -1; }
t_timeout_bad() { refused_line "^pvetmpl: error: invalid --timeout value '-1': must be a non-negative integer in seconds" make-template 100 9000 --timeout -1; }
t_lock_wait_frac() { refused_line "invalid --lock-wait value '1.5'" make-template 100 9000 --lock-wait=1.5; }

# The next qm clone fails once with "can't lock file ... - got timeout".
lock_fault_once() {
    "$PVESIM" "$S" knob --clear >/dev/null
    sim_knob PVESIM_FAULT=lock-timeout
    sim_knob PVESIM_FAULT_CMD=clone
    sim_knob PVESIM_FAULT_COUNT=1
}

# qm clone meets a lock once: --lock-wait 0 gives 75 at once, the default waits and succeeds.
t_lock_wait_zero() {
    sim_setup
    echo 'lock_retries = 3' >>"$PVETMPL_CONFIG"
    lock_fault_once
    expect_rc 75 "$PVETMPL" --json make-template 100 9000 --no-hook --lock-wait 0
    assert_eq busy "$(json_get .error.class)"
    assert_grep "retry later" <(json_get .error.detail)
    assert_eq 0 "$(json_get '[.warnings[] | select(test("retrying"))] | length')" "no wait"
    assert_eq 1 "$(json_get '[.commands[] | select(.[1]=="clone")] | length')" "clone tried once"
    lock_fault_once
    expect_rc 0 "$PVETMPL" --json make-template 100 9000 --no-hook
    assert_eq 1 "$(json_get '[.warnings[] | select(test("retrying"))] | length')" "the default waits"
    assert_eq 2 "$(json_get '[.commands[] | select(.[1]=="clone")] | length')"
}

# A source under backup: --lock-wait 0 answers at once, as check does.
t_lock_wait_zero_preflight() {
    sim_setup
    echo 'lock_retries = 1' >>"$PVETMPL_CONFIG"
    "$PVESIM" "$S" add-vm 101 --name locked --disk scsi0=local-lvm:8G --lock backup
    expect_rc 75 "$PVETMPL" make-template 101 9000 --lock-wait 0
    assert_no_grep "retrying" "$T/err"
    assert_grep "retry later" "$T/err"
    expect_rc 75 "$PVETMPL" make-template 101 9000
    assert_grep "retrying in 1 s" "$T/err"
    assert_eq 0 "$(sim_mutating_calls)"
}

# --lock-wait overrides lock_retry_max both ways.
t_lock_wait_overrides_config() {
    sim_setup
    printf 'lock_retries = 3\nlock_retry_max = 0\n' >>"$PVETMPL_CONFIG"
    lock_fault_once
    expect_rc 75 "$PVETMPL" --json clone 100 9000
    assert_eq 0 "$(json_get '[.warnings[] | select(test("retrying"))] | length')" "the config's 0"
    lock_fault_once
    expect_rc 0 "$PVETMPL" --json clone 100 9000 --lock-wait 60
    assert_eq 1 "$(json_get '[.warnings[] | select(test("retrying"))] | length')" "--lock-wait 60"
}

# ---- not root: 77, after validation, before anything else ----
t_not_root_first() {
    sim_setup
    chmod a+x "$TMPROOT"
    chmod -R a+rX "$T"
    local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups) r
    r=$(reachable_copy "$PVETMPL") # the checkout may be closed to uid 65534
    local PVETMPL=$r/pvetmpl
    for line in "make-template 100 9000" "clone 100 9000" "template 100" "check 100" storages \
        "hook status 100" "hook install 100" "-n make-template 100 9000" list "list --all"; do
        # shellcheck disable=SC2086
        expect_rc 77 "${nobody[@]}" "$PVETMPL" $line
        assert_grep "must run as root" "$T/err"
        assert_eq 1 "$(grep -c . "$T/err")" "one message for: $line"
    done
    expect_rc 77 "${nobody[@]}" "$PVETMPL" --json make-template 100 9000
    assert_eq permission "$(json_get .error.class)"
    assert_eq 0 "$(sim_calls)" "qm/pvesm calls"
    [ ! -e "$T/run" ] || { echo "run_dir $T/run was made"; return 1; }
    # audit alone is for anyone: it reads what the journal lets the user read,
    # with the system configuration only (issue 9: not root, no -c/$PVETMPL_CONFIG)
    expect_rc 64 "${nobody[@]}" "$PVETMPL" audit
    assert_grep "PVETMPL_CONFIG is refused: a run for a caller other than root \(user nobody\)" "$T/err"
    expect_rc 0 "${nobody[@]}" env -u PVETMPL_CONFIG "$PVETMPL" audit
    assert_grep "no journal file was readable" "$T/err"
    # validation comes first, and help needs no privilege
    expect_rc 64 "${nobody[@]}" "$PVETMPL" make-template 100 9041 extra
    expect_rc 0 "${nobody[@]}" "$PVETMPL" make-template --help
    # a broken configuration is not read for a user who may not run anything
    echo 'bogus = 1' >>"$PVETMPL_CONFIG"
    expect_rc 77 "${nobody[@]}" "$PVETMPL" storages
}

t_check "global options after the arguments, for every command" t_global_after_args
t_check "audit takes global options anywhere" t_audit_options_anywhere
t_check "--help anywhere, for every command, whole under --json" t_help_anywhere
t_check "--json-lines: every command but audit answers as with --json" t_json_lines_others
t_check "--json with --json-lines: 64" t_json_and_json_lines
t_check "an abbreviated long option is refused, the option named" t_abbrev_refused
t_check "an abbreviated global option is refused" t_abbrev_global
t_check "audit: an abbreviated option is refused" t_abbrev_audit
t_check "-name: did you mean '--name'?" t_single_dash_long
t_check "-storage: did you mean '--storage'?" t_single_dash_storage
t_check "-full: named whole, what pvetmpl does instead" t_single_dash_full
t_check "clone -vmid: no did-you-mean for audit's option" t_single_dash_other_cmd
t_check "make-template -disk: no did-you-mean for template's option" t_single_dash_other_cmd2
t_check "audit -vmid: did you mean '--vmid'?" t_single_dash_audit
t_check "-n=1: takes no value" t_short_value
t_check "another command's option is refused" t_wrong_command_opt
t_check "a command's option before the command is refused" t_cmd_opt_before_cmd
t_check "--no-hook=1: takes no value" t_no_hook_value
t_check "--linked=1: takes no value" t_linked_value
t_check "--json=1: takes no value, no control characters" t_json_value
t_check "audit --all-users=no: takes no value" t_all_users_value
t_check "--lock-wait without a value" t_value_missing
t_check "make-template 100 9041 extra: the extra argument named" t_extra_arg
t_check "template: a second VMID is named" t_extra_template
t_check "storages --json extra: refused, named, in JSON" t_storages_extra
t_check "audit: a word is named" t_audit_extra
t_check "a usage error's action: hook-status once the subcommand is read" t_hook_usage_action
t_check "audit --since with an escape sequence: quoted, no raw ESC" t_audit_since_escaped
t_check "--lock-wait -1: 64" t_lock_wait_bad
t_check "--lock-wait=1.5: 64" t_lock_wait_frac
t_check "--timeout -1: 64 naming --timeout" t_timeout_bad
t_check "--lock-wait 0: qm's lock error gives 75 at once; the default waits" t_lock_wait_zero
t_check "--lock-wait 0: a locked source gives 75 at once; the default waits" t_lock_wait_zero_preflight
t_check "--lock-wait overrides lock_retry_max" t_lock_wait_overrides_config
t_check "not root: 77 for every command but audit, before any call or file" t_not_root_first
t_done
