#!/bin/bash
# Fixture layer: every tests/fixtures/<family>/<case>.txt is parsed by
# build/tests/pt-parse and its dump must equal <case>.expected byte for byte.
# The .expected files were written from the format, not from the tool.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

PT_PARSE=$BUILD/tests/pt-parse
FIXTURES=$TOP/tests/fixtures

check_case() {
    local family=$1 txt=$2
    local want=${txt%.txt}.expected
    if [ ! -f "$want" ]; then
        echo "missing ${want#"$TOP"/}"
        return 1
    fi
    run "$PT_PARSE" "$family" "$txt"
    assert_eq 0 "$RC" "pt-parse exit status (stderr: $(cat "$T/err"))"
    assert_same_file "$want" "$T/out"
}

# Byte-exact, final newline included (lib.sh's assert_file_eq compares with a
# string, and a command substitution would drop the last newline).
assert_same_file() {
    if ! diff -u "$1" "$2"; then
        echo "pt-parse output differs from ${1#"$TOP"/}"
        return 1
    fi
}

check_orphan() {
    local want=$1
    [ -f "${want%.expected}.txt" ] || {
        echo "${want#"$TOP"/} has no .txt input"
        return 1
    }
}

n=0
for dir in "$FIXTURES"/*/; do
    family=$(basename "$dir")
    for txt in "$dir"*.txt; do
        [ -e "$txt" ] || continue
        n=$((n + 1))
        t_check "$family/$(basename "${txt%.txt}")" check_case "$family" "$txt"
    done
    for want in "$dir"*.expected; do
        [ -e "$want" ] || continue
        [ -f "${want%.expected}.txt" ] || t_check "$family/$(basename "$want") has an input" check_orphan "$want"
    done
done
[ "$n" -gt 0 ] || t_check "fixtures exist" false
t_done
