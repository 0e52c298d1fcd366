#!/bin/bash
# bench/run.sh: the measurements of `make bench` (issue 11), each row beside
# its comparison, in one run. Prints one Markdown table and writes it to
# bench/RESULTS.md (BENCH_OUT overrides). It reports numbers and never fails
# on one; it fails when a measurement could not run (a tool failed, a command
# measured exited non-zero, an expected journal entry is missing).
#
# BENCH_QUICK=1: few repeats and a 20 000-entry journal, for working on the
# bench itself; writes build/bench/RESULTS.quick.md unless BENCH_OUT is set.
# BENCH_ROWS="3": only these rows (of 1-6), e.g. to measure a change to the
# critical path; prints the raw rows (build/bench/rows.tsv, meta.txt) and
# writes no RESULTS.md, whose verdicts need every row.
#
# Needs root: like the test suite it runs inside a private mount namespace
# with its own systemd-journald (tests/with-journald.sh); the host's journal is
# never touched. Every simulated node lives under one temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
if [ "$(id -u)" != 0 ]; then
    echo "bench: must run as root (it starts a private journald in a mount namespace)" >&2
    exit 1
fi
if [ "${_PVETMPL_IN_JNS:-}" != 1 ]; then
    exec tests/with-journald.sh "$0" "$@"
fi

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    HOOK_RUNS=20 CPU_RUNS=3 CP_RUNS=1 SCALE_RUNS=3 AUDIT_ENTRIES=20000 AUDIT_RUNS=2 GREP_RUNS=1
    PAR_RUNS=1
    out=${BENCH_OUT:-$top/build/bench/RESULTS.quick.md}
else
    HOOK_RUNS=200 CPU_RUNS=15 CP_RUNS=3 SCALE_RUNS=15 AUDIT_ENTRIES=1000000 AUDIT_RUNS=10 GREP_RUNS=2
    PAR_RUNS=2
    out=${BENCH_OUT:-$top/bench/RESULTS.md}
fi
LATENCY_MS=500 # a real qm's start-up (issue 11, row 3)

PVETMPL=${BENCH_PVETMPL:-$top/build/pvetmpl} # BENCH_PVETMPL: another build, to compare with
HOOK=$top/build/pvetmpl-hook
BB=$top/build/bench
PVESIM=$top/tests/pvesim/pvesim
for f in "$PVETMPL" "$HOOK" "$BB/noop" "$BB/noop-libs" "$BB/hook-floor" "$BB/gen-journal" \
    "$BB/parse-bench" "$BB/vmhwm.so"; do
    [ -x "$f" ] || {
        echo "bench: $f is missing: run 'make bench'" >&2
        exit 1
    }
done

work=$(mktemp -d /tmp/pvetmpl-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
rows=$work/rows.tsv
meta=$work/meta.txt
: >"$rows"
started=$(date +%s)

die() {
    echo "bench: $*" >&2
    exit 1
}
note() { printf '[bench %4ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$meta"; }
# row SECTION KEY LABEL UNIT MEDIAN MIN MAX N
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }

# hf SECTION KEY-PREFIX [hyperfine options and -n NAME CMD pairs]: hyperfine
# runs; each command becomes the row KEY-PREFIX.NAME (ms). HF_ROUNDS=N repeats
# the whole hyperfine call N times and pools the runs, so that the commands
# take turns and a change in the machine's load hits them alike.
hf() {
    local sec=$1 pre=$2 i
    shift 2
    for i in $(seq 1 "${HF_ROUNDS:-1}"); do
        if ! hyperfine -N --style none --export-json "$work/hf-$pre-$i.json" "$@" \
            >"$work/hf-$pre.log" 2>&1; then
            cat "$work/hf-$pre.log" >&2
            die "hyperfine failed for $pre"
        fi
    done
    perl -MJSON::PP -e '
        my ($sec, $pre, @files) = @ARGV;
        my (%t, @order);
        for my $file (@files) {
            open(my $fh, "<", $file) or die "$file: $!\n";
            my $r = decode_json(do { local $/; <$fh> });
            for my $x (@{ $r->{results} }) {
                push @order, $x->{command} if !$t{ $x->{command} };
                push @{ $t{ $x->{command} } }, @{ $x->{times} };
            }
        }
        for my $c (@order) {
            my @v = sort { $a <=> $b } @{ $t{$c} };
            my $m = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
            printf "%s\t%s.%s\t%s\tms\t%.3f\t%.3f\t%.3f\t%d\n", $sec, $pre, $c, $c, 1000 * $m,
                1000 * $v[0], 1000 * $v[-1], scalar @v;
        }' "$sec" "$pre" "$work/hf-$pre-"*.json >>"$rows"
}

# stats SECTION KEY LABEL UNIT FILE: one number per line in FILE -> a row.
stats() {
    perl -e '
        my ($sec, $key, $label, $unit, $file) = @ARGV;
        open(my $fh, "<", $file) or die "$file: $!\n";
        my @v = sort { $a <=> $b } map { chomp; $_ } grep { /\S/ } <$fh>;
        die "bench: no values for $key\n" if !@v;
        my $m = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
        printf "%s\t%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%d\n", $sec, $key, $label, $unit, $m, $v[0], $v[-1],
            scalar @v;' "$@" >>"$rows"
}

# A simulated node with VM 100 (ubuntu-server-22.04, 32G on local-lvm) and
# pvetmpl's config for it: mknode DIR [KEY=VALUE config lines...]
mknode() {
    local d=$1
    shift
    "$PVESIM" init "$d/node" >/dev/null
    mkdir -p "$d/node/var/lib/vz/snippets"
    # the hook finds pve_dir beside itself, as in `make demo`
    printf 'pve_dir = "%s"\nnode = "pve"\n' "$d/node/etc/pve" >"$d/node/var/lib/vz/snippets/pvetmpl-hook.conf"
    {
        echo "qm = \"$d/node/bin/qm\""
        echo "pvesm = \"$d/node/bin/pvesm\""
        echo "vmlist = \"$d/node/etc/pve/.vmlist\""
        echo "pve_dir = \"$d/node/etc/pve\""
        echo 'node = "pve"'
        echo "run_dir = \"$d/run\""
        echo "hook_binary = \"$HOOK\""
        for kv in "$@"; do echo "$kv"; done
    } >"$d/pvetmpl.conf"
}

# A node whose qm and pvesm take a real qm's start-up, snapshotted so that
# DIR/reset.sh (hyperfine's --prepare) puts it back before every run: VM 100
# only, an empty calls.log, no queue files. latency_node DIR [KNOB=VALUE...]
latency_node() {
    local d=$1 k
    shift
    mknode "$d"
    for k in PVESIM_LATENCY_MS=$LATENCY_MS "$@"; do "$PVESIM" "$d/node" knob "$k" >/dev/null; done
    cp -a "$d/node" "$d/node.pristine"
    printf '#!/bin/sh\nrm -rf %s %s && cp -a %s %s\n' "'$d/node'" "'$d/run'" "'$d/node.pristine'" \
        "'$d/node'" >"$d/reset.sh"
    chmod +x "$d/reset.sh"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
BENCH_ROWS=${BENCH_ROWS:-1 2 3 4 5 6}
want() { [[ " $BENCH_ROWS " == *" $1 "* ]]; }
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta load_before "$(loadavg)"
meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
meta mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -r)"
meta os "$(. /etc/os-release && echo "$PRETTY_NAME")"
meta tools "$(hyperfine --version), $(perf --version 2>/dev/null || echo 'perf: none'), GNU time $(dpkg-query -W -f '${Version}' time 2>/dev/null || echo '?')"
meta commit "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
meta quick "${BENCH_QUICK:-0}"
meta pvetmpl "$PVETMPL"

# ---------------------------------------------------------------- 5. audit
if want 5; then
# First, so the journal holds only the unrelated entries and one template's
# history; the other rows add pvetmpl entries of their own afterwards.
note "5. audit: filling the journal with $AUDIT_ENTRIES unrelated entries"
meta load_5 "$(loadavg)"
a=$work/audit
mknode "$a"
export PVETMPL_CONFIG=$a/pvetmpl.conf
t0=$(date +%s.%N)
"$BB/gen-journal" $((AUDIT_ENTRIES / 2))
# the template's history in the middle: made, cloned, the clone started and stopped
"$PVETMPL" -q make-template 100 7000 --name audit-tmpl >/dev/null
"$PVETMPL" -q clone 7000 7100 --linked --name audit-clone >/dev/null
"$a/node/bin/qm" start 7100 >/dev/null
"$a/node/bin/qm" stop 7100 >/dev/null
"$BB/gen-journal" $((AUDIT_ENTRIES - AUDIT_ENTRIES / 2))
journalctl --sync
t1=$(date +%s.%N)
meta fill_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
meta journal_size "$(du -sh /run/log/journal | cut -f1) in $(find /run/log/journal -name '*.journal' | wc -l) files"
nent=$(journalctl --no-pager -o cat BENCH_SEQ=$((AUDIT_ENTRIES - AUDIT_ENTRIES / 2 - 1)) | wc -l)
[ "$nent" -ge 1 ] || die "row 5: the generated entries are not in the journal"
"$PVETMPL" audit --vmid 7000 >"$work/audit.out"
if ! grep -q 7100 "$work/audit.out" || ! grep -q 'post-stop' "$work/audit.out"; then
    die "row 5: audit --vmid 7000 does not show the clone 7100 and its stop: $(cat "$work/audit.out")"
fi
meta audit_entries "$(journalctl --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl SYSLOG_IDENTIFIER=pvetmpl-hook | wc -l)"
meta audit_lines "$(wc -l <"$work/audit.out")"
note "5. audit: measuring ($AUDIT_RUNS runs, grep $GREP_RUNS)"
hf 5 audit --warmup 1 --runs "$AUDIT_RUNS" \
    -n audit "$PVETMPL audit --vmid 7000" \
    -n journalctl-match "journalctl --no-pager -o json PVETMPL_VMID=7000"
hf 5 grep --runs "$GREP_RUNS" \
    -n journalctl-grep "sh -c 'journalctl --no-pager -o json | grep -F \"\\\"PVETMPL_VMID\\\":\\\"7000\\\"\"'"
unset PVETMPL_CONFIG


fi # row 5

# ---------------------------------------------------------------- 1. hook latency
if want 1; then
note "1. hook latency ($HOOK_RUNS runs each, in 5 rounds)"
meta load_1 "$(loadavg)"
h=$work/hook
mknode "$h"
# The VM the hook fires for: a clone of a template as pvetmpl deploys them.
"$PVESIM" "$h/node" add-vm 9100 --name web01 --disk scsi0=local-lvm:32G --disk scsi1=local-lvm:100G \
    --cdrom ide2=local-lvm:cloudinit --tags 'prod;web' --hookscript local:snippets/pvetmpl-hook \
    --description 'web frontend, deployed from template 9000' --memory 4096
cp "$HOOK" "$h/node/var/lib/vz/snippets/pvetmpl-hook"
snip=$h/node/var/lib/vz/snippets
export BENCH_PVE_DIR=$h/node/etc/pve/nodes/pve BENCH_SYSLOG_SOCKET=/run/systemd/journal/dev-log
HF_ROUNDS=5 hf 1 hook --warmup 5 --runs $((HOOK_RUNS / 5)) \
    -n pvetmpl-hook "$snip/pvetmpl-hook 9100 pre-start" \
    -n perl "$top/bench/hook-example.pl 9100 pre-start" \
    -n shell "$top/bench/hook-logger.sh 9100 pre-start" \
    -n floor "$BB/hook-floor 9100 pre-start" \
    -n noop "$BB/noop"
unset BENCH_PVE_DIR BENCH_SYSLOG_SOCKET
journalctl --sync
# Every variant must really have logged, with the VM's name where it reads it.
for id in pvetmpl-hook hook-example.pl hook-logger.sh hook-floor; do
    n=$(journalctl --no-pager -o cat SYSLOG_IDENTIFIER="$id" | wc -l)
    [ "$n" -ge "$HOOK_RUNS" ] || die "row 1: $id logged $n entries, expected at least $HOOK_RUNS"
done
# (into a file first: grep -q ending early would fail journalctl with SIGPIPE under pipefail)
jgrep() { # jgrep WHAT PATTERN MATCH...: the entries MATCH must contain PATTERN
    local what=$1 pat=$2
    shift 2
    journalctl --no-pager -o cat "$@" >"$work/j.out"
    grep -q "$pat" "$work/j.out" || die "row 1: $what did not log VM 9100's name"
}
jgrep pvetmpl-hook "VM 9100 'web01' pre-start" SYSLOG_IDENTIFIER=pvetmpl-hook PVETMPL_NAME=web01 PVETMPL_VMID=9100
jgrep "the Perl hook" "VM 9100 'web01' pre-start" SYSLOG_IDENTIFIER=hook-example.pl
jgrep "the shell hook" "VM 9100 'web01' pre-start" SYSLOG_IDENTIFIER=hook-logger.sh PVETMPL_NAME=web01

fi # row 1

# ---------------------------------------------------------------- 2. wrapper overhead
if want 2; then
note "2. wrapper overhead ($CPU_RUNS runs each)"
meta load_2 "$(loadavg)"
w=$work/wrap
mknode "$w"
export PVETMPL_CONFIG=$w/pvetmpl.conf
seq_id=8000
# own_cpu KEY LABEL RUNS CMD...: pvetmpl's own CPU (task-clock of the process
# itself: perf stat --no-inherit leaves out qm, pvesm and every other child) and
# its own peak RSS (VmHWM via vmhwm.so; /usr/bin/time -v's maximum resident
# set size includes the largest waited-for child, recorded beside it).
# "@ID@" in an argument becomes a fresh VMID for each run.
own_cpu() {
    local key=$1 label=$2 runs=$3
    shift 3
    local cpu=$work/cpu-$key rss=$work/rss-$key tm=$work/tm-$key a args
    : >"$cpu"
    : >"$rss"
    : >"$tm"
    for _ in $(seq 1 "$runs"); do
        seq_id=$((seq_id + 1))
        args=()
        for a in "$@"; do args+=("${a//@ID@/$seq_id}"); done
        perf stat -x, --no-inherit -e task-clock -o "$work/perf.out" -- "${args[@]}" \
            >"$work/out" 2>"$work/err" || {
            cat "$work/err" >&2
            die "row 2: '${args[*]}' exited $?"
        }
        awk -F, '$3 == "task-clock" { print $1 }' "$work/perf.out" >>"$cpu"
    done
    for _ in 1 2 3; do
        seq_id=$((seq_id + 1))
        args=()
        for a in "$@"; do args+=("${a//@ID@/$seq_id}"); done
        /usr/bin/time -f %M -o "$work/time.out" env LD_PRELOAD="$BB/vmhwm.so" \
            BENCH_VMHWM_FILE="$rss" "${args[@]}" >"$work/out" 2>"$work/err" || {
            cat "$work/err" >&2
            die "row 2: '${args[*]}' exited $?"
        }
        cat "$work/time.out" >>"$tm"
    done
    [ "$(wc -l <"$rss")" = 3 ] || die "row 2: no peak RSS from vmhwm.so for $key"
    stats 2 "cpu.$key" "$label: own CPU" ms "$cpu"
    stats 2 "rss.$key" "$label: own peak RSS" KiB "$rss"
    stats 2 "rsskids.$key" "$label: peak RSS incl. children (time -v)" KiB "$tm"
}
own_cpu noop "a process that does nothing" "$CPU_RUNS" "$BB/noop"
own_cpu noop-libs "the same, linked with libconfuse, libsystemd, json-c" "$CPU_RUNS" "$BB/noop-libs"
own_cpu help "pvetmpl --help (start-up, no config)" "$CPU_RUNS" "$PVETMPL" --help
own_cpu check "pvetmpl check 100" "$CPU_RUNS" "$PVETMPL" check 100
own_cpu dry "pvetmpl -n make-template 100 NEWID" "$CPU_RUNS" "$PVETMPL" -n make-template 100 @ID@ --name dry-@ID@
own_cpu make "pvetmpl make-template 100 NEWID" "$CPU_RUNS" "$PVETMPL" make-template 100 @ID@ --name mt-@ID@
made=$seq_id # the last make-template run made this template
# list on this node: VM 100 and the templates the runs above made
own_cpu list "pvetmpl list (VM 100 and the $((CPU_RUNS + 3)) templates made above)" "$CPU_RUNS" "$PVETMPL" list
meta audit_entries_2 "$(journalctl --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl SYSLOG_IDENTIFIER=pvetmpl-hook | wc -l)"
own_cpu audit "pvetmpl audit --vmid NEWID (the journal of row 5)" "$CPU_RUNS" "$PVETMPL" audit --vmid "$made"
unset PVETMPL_CONFIG

fi # row 2

# ---------------------------------------------------------------- 3. critical path
if want 3; then
note "3. critical path, PVESIM_LATENCY_MS=$LATENCY_MS ($CP_RUNS runs each)"
meta load_3 "$(loadavg)"
c=$work/cp
latency_node "$c"
qm=$c/node/bin/qm
hf 3 cp --runs "$CP_RUNS" --prepare "$c/reset.sh" \
    -n raw "sh -c '$qm clone 100 9000 --full 1 --name t9000 && $qm template 9000'" \
    -n make-template "$PVETMPL -c $c/pvetmpl.conf -q make-template 100 9000 --name t9000" \
    -n make-template-no-hook "$PVETMPL -c $c/pvetmpl.conf -q make-template 100 9000 --name t9000 --no-hook" \
    -n one-qm "$qm status 100" \
    -n preflight "$PVETMPL -c $c/pvetmpl.conf -q check 100"
# process counts: one more run of each on a fresh node, counted in calls.log
count_calls() {
    local key=$1
    shift
    "$c/reset.sh"
    "$@" >/dev/null 2>"$work/err" || {
        cat "$work/err" >&2
        die "row 3: $key failed"
    }
    grep -q '^template: 1' "$c/node/etc/pve/nodes/pve/qemu-server/9000.conf" ||
        die "row 3: $key did not make 9000 a template"
    local nqm npvesm
    nqm=$(grep -c '"argv":\["qm"' "$c/node/calls.log" || true)
    npvesm=$(grep -c '"argv":\["pvesm"' "$c/node/calls.log" || true)
    meta "calls_$key" "$(perl -MJSON::PP -ne 'my $a = decode_json($_)->{argv};
        push @c, join(" ", grep { !/^--?(full|name)$|^t9000$|^1$/ } @$a[0 .. ($#$a < 3 ? $#$a : 3)]);
        END { print join(", ", @c) }' "$c/node/calls.log")"
    row 3 "procs.$key.qm" "$key: qm processes" count "$nqm" "$nqm" "$nqm" 1
    row 3 "procs.$key.pvesm" "$key: pvesm processes" count "$npvesm" "$npvesm" "$npvesm" 1
}
count_calls raw sh -c "$qm clone 100 9000 --full 1 --name t9000 && $qm template 9000"
count_calls make-template "$PVETMPL" -c "$c/pvetmpl.conf" -q make-template 100 9000 --name t9000
count_calls make-template-no-hook "$PVETMPL" -c "$c/pvetmpl.conf" -q make-template 100 9000 --name t9000 --no-hook

fi # row 3

# ---------------------------------------------------------------- 4. scale
if want 4; then
note "4. scale ($SCALE_RUNS runs each)"
meta load_4 "$(loadavg)"
s=$work/scale
mkdir -p "$s"
# pvesm status with N storages, in the PVE >= 9.0.14 layout (fixtures/pvesm-status/real-1)
for n in 10 1000 10000 100000; do
    perl -e 'my $n = shift;
        printf "%-18s %8s %10s %15s %15s %15s %8s\n", "Name", "Type", "Status", "Total (KiB)",
            "Used (KiB)", "Available (KiB)", "%";
        my @t = qw(dir lvmthin zfspool nfs cifs rbd);
        for my $i (1 .. $n) {
            my $tot = 1000000 + $i * 977; my $used = int($tot * (($i % 90) + 5) / 100);
            printf "%-18s %8s %10s %15d %15d %15d %7.2f%%\n", "store$i", $t[$i % 6], "active",
                $tot, $used, $tot - $used, 100 * $used / $tot;
        }' "$n" >"$s/pvesm-$n.txt"
done
# .vmlist with N guests, in pmxcfs's shape (fixtures/vmlist)
for n in 10 1000 10000 100000; do
    perl -e 'my $n = shift;
        print "{\n\"version\": ", $n + 7, ",\n\"ids\": {\n";
        print join(",\n", map { sprintf "\"%d\": { \"node\": \"pve%d\", \"type\": \"%s\", \"version\": %d }",
            99 + $_, $_ % 16, $_ % 5 ? "qemu" : "lxc", $_ } 1 .. $n), "}\n\n}\n";' "$n" >"$s/vmlist-$n.txt"
done
# qm config: a typical VM (the simulator's own output) and the largest Proxmox allows:
# every disk bus full (ide 4, sata 6, scsi 31, virtio 16), 256 unusedN, 32 NICs, 8 KiB description
"$PVESIM" init "$s/node" >/dev/null
"$s/node/bin/qm" config 100 >"$s/qmconfig-typical.txt"
perl -e '
    my %c = (boot => "order=scsi0", cores => 8, memory => 65536, name => "huge", ostype => "l26",
        scsihw => "virtio-scsi-single", sockets => 2, vmgenid => "c0ffee00-1111-2222-3333-444455556666",
        smbios1 => "uuid=0badf00d-1111-2222-3333-444455556666", meta => "creation-qemu=10.1.2,ctime=1780000000");
    $c{description} = join("", map { "%23 line $_ of a long description%0A" } 1 .. 200);
    my $d = 0;
    for my $bus ([ide => 4], [sata => 6], [scsi => 31], [virtio => 16]) {
        for my $i (0 .. $bus->[1] - 1) {
            $d++;
            $c{"$bus->[0]$i"} = "local-lvm:vm-100-disk-$d,iothread=1,size=32G";
        }
    }
    $c{"unused$_"} = "local-lvm:vm-100-disk-" . (100 + $_) for 0 .. 255;
    $c{"net$_"} = sprintf("virtio=BC:24:11:00:00:%02X,bridge=vmbr0,firewall=1", $_) for 0 .. 31;
    print "$_: $c{$_}\n" for sort keys %c;' >"$s/qmconfig-max.txt"
for f in pvesm-10 pvesm-1000 pvesm-10000 pvesm-100000 vmlist-10 vmlist-1000 vmlist-10000 vmlist-100000 \
    qmconfig-typical qmconfig-max; do
    case $f in pvesm*) fam='pvesm-status' ;; vmlist*) fam='vmlist' ;; *) fam='qm-config' ;; esac
    "$BB/parse-bench" "$fam" "$s/$f.txt" >"$s/$f.n" || die "row 4: the parser refused $f"
done
meta qmconfig_lines "typical $(wc -l <"$s/qmconfig-typical.txt"), max $(wc -l <"$s/qmconfig-max.txt")"
hf 4 scale --warmup 3 --runs "$SCALE_RUNS" \
    -n noop "$BB/noop" \
    -n pvesm-10 "$BB/parse-bench pvesm-status $s/pvesm-10.txt" \
    -n pvesm-1000 "$BB/parse-bench pvesm-status $s/pvesm-1000.txt" \
    -n pvesm-10000 "$BB/parse-bench pvesm-status $s/pvesm-10000.txt" \
    -n pvesm-100000 "$BB/parse-bench pvesm-status $s/pvesm-100000.txt" \
    -n qmconfig-typical "$BB/parse-bench qm-config $s/qmconfig-typical.txt" \
    -n qmconfig-max "$BB/parse-bench qm-config $s/qmconfig-max.txt" \
    -n vmlist-10 "$BB/parse-bench vmlist $s/vmlist-10.txt" \
    -n vmlist-1000 "$BB/parse-bench vmlist $s/vmlist-1000.txt" \
    -n vmlist-10000 "$BB/parse-bench vmlist $s/vmlist-10000.txt" \
    -n vmlist-100000 "$BB/parse-bench vmlist $s/vmlist-100000.txt"
meta qmconfig_keys "typical $(cat "$s/qmconfig-typical.n"), max $(cat "$s/qmconfig-max.n")"
# pvetmpl list over clusters of N guests as pmxcfs holds them (t330's big
# cluster, tests/tools/gen-cluster.pl): templates with 99 linked clones each
# (1 with 9 for 10 guests) and one full clone, on three nodes; the config file
# read per guest, as list does.
list_args=()
for n in 10 1000 10000 100000; do
    case $n in 10) tc="1 9" ;; *) tc="$((n / 100)) 99" ;; esac
    # shellcheck disable=SC2086 # TEMPLATES CLONES
    "$top/tests/tools/gen-cluster.pl" "$s/cluster-$n" $tc
    mknode "$s/list-$n"
    sed -i -e "s|^vmlist = .*|vmlist = \"$s/cluster-$n/.vmlist\"|" \
        -e "s|^pve_dir = .*|pve_dir = \"$s/cluster-$n\"|" "$s/list-$n/pvetmpl.conf"
    "$PVETMPL" -c "$s/list-$n/pvetmpl.conf" --json list >"$s/list-$n.json" || die "row 4: list over $n guests failed"
    grep -q "\"guests\": *$n\b" "$s/list-$n.json" || die "row 4: list over $n guests did not read $n: $(head -c 300 "$s/list-$n.json")"
    list_args+=(-n "list-$n" "$PVETMPL -c $s/list-$n/pvetmpl.conf list")
done
meta load_4_list "$(loadavg)"
hf 4 list --warmup 1 --runs "$SCALE_RUNS" -n noop "$BB/noop" "${list_args[@]}"

fi # row 4

# ---------------------------------------------------------------- 6. parallel work
if want 6; then
note "6. parallel work: 8 at once, PVESIM_LATENCY_MS=$LATENCY_MS ($PAR_RUNS runs each)"
meta load_6 "$(loadavg)"
p=$work/par
# copies take time too: the 32 GiB disk in 0.5 s
latency_node "$p" PVESIM_COPY_MIBPS=65536
cp "$p/pvetmpl.conf" "$p/c1.conf"
echo 'copies_per_storage = 1' >>"$p/c1.conf"
cp "$p/pvetmpl.conf" "$p/c2.conf"
echo 'copies_per_storage = 2' >>"$p/c2.conf"
qm=$p/node/bin/qm
hf 6 par --runs "$PAR_RUNS" --prepare "$p/reset.sh" \
    -n raw "$top/bench/parallel.sh $p/fail-raw 8 sh -c '$qm clone 100 70@I@ --full 1 --name p70@I@ && $qm template 70@I@'" \
    -n copies1 "$top/bench/parallel.sh $p/fail-c1 8 $PVETMPL -c $p/c1.conf -q make-template 100 70@I@ --name p70@I@" \
    -n copies2 "$top/bench/parallel.sh $p/fail-c2 8 $PVETMPL -c $p/c2.conf -q make-template 100 70@I@ --name p70@I@"
stats 6 fail.raw "raw qm clone + qm template: failed of 8" count "$p/fail-raw"
stats 6 fail.copies1 "pvetmpl make-template, copies_per_storage 1: failed of 8" count "$p/fail-c1"
stats 6 fail.copies2 "pvetmpl make-template, copies_per_storage 2: failed of 8" count "$p/fail-c2"
# what the failures said (first line of each distinct error)
for v in raw c1 c2; do
    cat "$p"/fail-$v.*.err 2>/dev/null | grep -v '^trying to acquire lock' | grep -i 'lock\|timeout\|fail\|error' |
        sed 's/[0-9]\{3,\}/N/g' | sort | uniq -c | sort -rn | head -n 3 >"$p/why-$v" || true
    meta "why_$v" "$(tr '\n' ';' <"$p/why-$v" | sed 's/  */ /g')"
done

fi # row 6

meta load_after "$(loadavg)"
meta duration_s "$(($(date +%s) - started))"
# the raw measurements, to rework the report without measuring again
mkdir -p "$top/build/bench"
cp "$meta" "$rows" "$top/build/bench/"
if [ "$BENCH_ROWS" != "1 2 3 4 5 6" ]; then
    note "rows $BENCH_ROWS only: no RESULTS.md (raw rows in build/bench/)"
    cat "$meta" "$rows"
    exit 0
fi
note "writing $out"
perl "$top/bench/report.pl" "$meta" "$rows" "$LATENCY_MS" >"$work/RESULTS.md"
mkdir -p "$(dirname "$out")"
cp "$work/RESULTS.md" "$out"
cat "$out"
