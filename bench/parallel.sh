#!/bin/bash
# parallel.sh FAILFILE N CMD [ARG...]: starts N copies of CMD at once (every
# "@I@" in an argument becomes the copy's number 1..N), waits for all, and
# appends how many exited non-zero to FAILFILE. Exits 0 whatever they did:
# failures are what `make bench` row 6 counts, hyperfine times the whole.
# Each copy's stderr goes to FAILFILE.I.err for the reader of the report.
set -u
failfile=$1
n=$2
shift 2
pids=()
for i in $(seq 1 "$n"); do
    args=()
    for a in "$@"; do args+=("${a//@I@/$i}"); done
    "${args[@]}" >/dev/null 2>"$failfile.$i.err" &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do
    wait "$p" || failed=$((failed + 1))
done
echo "$failed" >>"$failfile"
