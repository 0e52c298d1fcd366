#!/bin/bash
# `pvetmpl help [COMMAND]`, as qm has it (pve-common PVE/CLIHandler.pm, the
# 'help' method: no topic prints the usage, a topic that command's usage, an
# unknown topic is refused naming it).
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

help_is_the_usage() {
    expect_rc 0 "$PVETMPL" --help
    cp "$T/out" "$T/usage"
    expect_rc 0 "$PVETMPL" help
    assert_eq "$(cat "$T/usage")" "$(cat "$T/out")" "'help' against '--help'"
    assert_grep '^  help \[COMMAND\] ' "$T/out"
    [ ! -s "$T/err" ]
}

help_command_is_its_help() {
    local cmd
    for cmd in make-template clone template check storages hook audit list; do
        expect_rc 0 "$PVETMPL" "$cmd" --help
        cp "$T/out" "$T/want"
        expect_rc 0 "$PVETMPL" help "$cmd"
        assert_eq "$(cat "$T/want")" "$(cat "$T/out")" "'help $cmd'"
        assert_grep "^usage: pvetmpl \[GLOBAL OPTIONS\] $cmd( |$)" "$T/out"
    done
    # global options stand anywhere, --json too
    expect_rc 0 "$PVETMPL" help clone --json
    assert_eq 0 "$(json_get .rc)"
    jq -r .msg "$T/out" >"$T/msg"
    assert_grep '^usage: pvetmpl \[GLOBAL OPTIONS\] clone SRC' "$T/msg"
}

help_unknown_or_extra() {
    expect_rc 64 "$PVETMPL" help make-tempalte
    assert_eq "pvetmpl: error: unknown command 'make-tempalte' (see 'pvetmpl --help')" "$(cat "$T/err")"
    [ ! -s "$T/out" ]
    expect_rc 64 "$PVETMPL" help clone 100
    assert_grep "unexpected argument '100' \(help takes one COMMAND\)" "$T/err"
    expect_rc 64 "$PVETMPL" --json help nope
    assert_eq usage "$(json_get .error.class)"
    assert_grep "unknown command 'nope'" "$T/out"
}

t_check "help prints the usage, as --help" help_is_the_usage
t_check "help COMMAND prints COMMAND's help, as COMMAND --help" help_command_is_its_help
t_check "help with an unknown command or a second word: 64, named" help_unknown_or_extra
t_done
