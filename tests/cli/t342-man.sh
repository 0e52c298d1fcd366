#!/bin/bash
# The man pages against the code: every check name the code reports, every
# command, MESSAGE_ID, journal field, error class and exit code is documented
# in pvetmpl(8), so a new one cannot go undocumented; each page renders
# without a warning from man/groff, as lintian renders it.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"
MAN8=$TOP/wrapper/pvetmpl.8

# section NAME: the text of pvetmpl.8's section NAME (.SH NAME up to the next
# .SH), font escapes dropped and \- read as -, in $T/section.
section() {
    awk -v want=".SH $1" '
        /^\.SH / { on = ($0 == want) ; next }
        on' "$MAN8" | sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' >"$T/section"
    if [ ! -s "$T/section" ]; then
        echo "no section '$1' in $MAN8"
        return 1
    fi
}

# has WORD: WORD stands in $T/section as a word of its own (not inside a longer name).
# A name ending in ':' (storage:<id>) is a prefix: anything may follow it.
has() {
    local end='([^A-Za-z0-9_]|$)'
    case $1 in *:) end= ;; esac
    if ! grep -qE -- "(^|[^A-Za-z0-9_-])$1$end" "$T/section"; then
        echo "'$1' is not documented in that section of pvetmpl.8"
        return 1
    fi
}

every_check_documented() {
    # the names given to preflight_check (third argument) or to preflight's
    # pure evaluator add (second): literals, or a buffer filled by
    # snprintf(buf, ..., "prefix:%s", ...)
    perl -0777 -ne '
        my $text = $_;
        while (/(?:\bpreflight_check\s*\(\s*[^,]+,|\badd\s*\()\s*[^,]+,\s*("([^"]+)"|(\w+))\s*,/g) {
            if (defined $2) { print "$2\n"; next }
            my $v = $3;
            my @p = $text =~ /snprintf\(\s*\Q$v\E\s*,\s*sizeof\(\s*\Q$v\E\s*\)\s*,\s*"([a-z_]+:)%s"/g;
            die "$ARGV: preflight_check with a name in \"$v\" that is filled from no \"prefix:%s\"\n"
                unless @p;
            print "$_\n" for @p;
        }' "$TOP"/wrapper/*.c | sort -u >"$T/checks"
    local n
    n=$(wc -l <"$T/checks")
    echo "checks in the code: $(tr '\n' ' ' <"$T/checks")"
    [ "$n" -ge 14 ]
    section CHECKS
    local c
    while read -r c; do
        has "$c"
    done <"$T/checks"
}

every_command_has_an_example() {
    local names c
    names=$(sed -n 's/^    {REQ_[A-Z_]*, REQ_HOOK_NONE, "\([a-z-]*\)",.*/\1/p' "$TOP/wrapper/action.c")
    [ "$(echo "$names" | wc -w)" -ge 8 ]
    section EXAMPLES
    for c in $names help; do
        if ! grep -qE "^pvetmpl( -[-a-z]+( [^ -][^ ]*)?)* $c( |$)" "$T/section"; then
            echo "no example of 'pvetmpl $c' in EXAMPLES"
            return 1
        fi
    done
    # the seed's procedure first: stop the VM, then make-template (full clone + template)
    awk '/^\.nf/ { n++ } n == 1 && /^(qm|pvetmpl) /' "$T/section" >"$T/first"
    assert_grep '^qm shutdown ' "$T/first"
    assert_grep '^pvetmpl make-template [0-9]+ [0-9]+ ' "$T/first"
    section COMMANDS
    for c in $names help; do
        has "$c"
    done
}

journal_documented() {
    section JOURNAL
    local id f
    for id in $(grep -oE '"[0-9a-f]{32}"' "$TOP/wrapper/journal.c" | tr -d '"'); do
        has "$id"
    done
    for f in $(grep -ohE '"PVETMPL_[A-Z_]+' "$TOP"/wrapper/*.c "$TOP"/hooks/*.c | tr -d '"' | sort -u); do
        has "$f"
    done
    # the catalog: every entry points at this page, and documents an id of journal.c
    local entries docs
    entries=$(grep -c '^-- [0-9a-f]\{32\}$' "$TOP/conf/pvetmpl.catalog")
    docs=$(grep -cE '^Documentation: man:pvetmpl\(8\)( |$)' "$TOP/conf/pvetmpl.catalog")
    assert_eq "$entries" "$docs" "catalog entries pointing at man:pvetmpl(8)"
    assert_eq "$(grep -cE '"[0-9a-f]{32}"' "$TOP/wrapper/journal.c")" "$entries" "catalog entries"
}

exit_codes_and_json_documented() {
    section "EXIT STATUS"
    local code cls
    for code in $(sed -n 's/^    \[ERR_[A-Z_]*\] = {"[a-z_]*", \([0-9]*\)},$/\1/p' "$TOP/wrapper/err.c"); do
        has "$code"
    done
    section "JSON OUTPUT"
    for cls in $(sed -n 's/^    \[ERR_[A-Z_]*\] = {"\([a-z_]*\)", [0-9]*},$/\1/p' "$TOP/wrapper/err.c"); do
        [ "$cls" = ok ] || has "$cls"
    done
    for cls in changed failed msg rc action vmid source name storage dry_run commands disks \
        checks warnings duration_ms error; do
        has "$cls"
    done
    section OPTIONS
    assert_grep 'anywhere on the command line' "$T/section"
}

# man --warnings as lintian runs it (lintian's manpages check).
renders_without_warnings() {
    local page
    for page in wrapper/pvetmpl.8 hooks/pvetmpl-hook.8 conf/pvetmpl.conf.5; do
        LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
            man --warnings -E UTF-8 -l -Tutf8 -Z "$TOP/$page" >"$T/out" 2>"$T/err"
        if [ -s "$T/err" ]; then
            echo "$page:"
            cat "$T/err"
            return 1
        fi
        [ -s "$T/out" ]
        grep -q '^\.SH EXAMPLES\?$' "$TOP/$page"
        grep -q '^\.SH SEE ALSO$' "$TOP/$page"
    done
}

t_check "every check name of the code is explained in pvetmpl.8's CHECKS" every_check_documented
t_check "every command has an example (the seed's procedure first) and a description" \
    every_command_has_an_example
t_check "every MESSAGE_ID and PVETMPL_ field in pvetmpl.8; the catalog points at it" \
    journal_documented
t_check "exit codes, error classes, JSON keys, where global options stand" \
    exit_codes_and_json_documented
if command -v man >/dev/null; then
    t_check "each man page renders without warnings (man --warnings)" renders_without_warnings
else
    t_skip "each man page renders without warnings (man --warnings)" "man-db is not installed"
fi
t_done
