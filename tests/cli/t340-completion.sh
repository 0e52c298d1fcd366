#!/bin/bash
# The bash completion (completion/pvetmpl), driven as bash drives it: the
# function `complete -p pvetmpl` names, called with COMP_WORDS/COMP_CWORD in a
# clean bash, against the simulated node's files. Its option lists are checked
# against wrapper/cli.c's option table, so they cannot drift; it must never
# start qm, pvesm or pvetmpl.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"
COMPLETION=$TOP/completion/pvetmpl

# comp WORD...: the completions of the last WORD (COMP_WORDS as bash splits
# the line, '=' a word of its own), sorted, one a line, in $T/out. Run with a
# PATH whose qm, pvesm and pvetmpl only leave a mark in $T/ran.
comp() {
    mkdir -p "$T/spy"
    local p
    for p in qm pvesm pvetmpl; do
        printf '#!/bin/sh\necho "%s $*" >>"%s/ran"\n' "$p" "$T" >"$T/spy/$p"
        chmod +x "$T/spy/$p"
    done
    PATH=$T/spy:$PATH bash --norc --noprofile -c '
        . "$1" || exit 1
        shift
        spec=$(complete -p pvetmpl) || exit 1
        case $spec in *" -F "*) ;; *) echo "no function in: $spec" >&2; exit 1 ;; esac
        fn=${spec#* -F }
        fn=${fn%% *}
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        "$fn" pvetmpl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || exit 1
        if ((${#COMPREPLY[@]})); then printf "%s\n" "${COMPREPLY[@]}" | sort; fi
    ' comp "$COMPLETION" "$@" >"$T/out"
}

# want WORD...: $T/out holds exactly these words (any order).
want() {
    local w
    w=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
    assert_eq "$w" "$(cat "$T/out")" "completions"
}

# A node with a second node pve2: VM 100 (the seed's), VM 101, template 9000
# on pve; VM 200 and template 9100 on pve2.
cluster() {
    sim_setup --other-node pve2
    "$PVESIM" "$S" add-vm 101 --name web01 >/dev/null
    "$PVESIM" "$S" add-vm 9000 --name tmpl --template >/dev/null
    "$PVESIM" "$S" add-vm 200 --node pve2 >/dev/null
    "$PVESIM" "$S" add-vm 9100 --node pve2 --template >/dev/null
    calls0=$(sim_calls)
}

no_process_ran() {
    if [ -e "$T/ran" ]; then
        echo "the completion ran:"
        cat "$T/ran"
        return 1
    fi
    assert_eq "$calls0" "$(sim_calls)" "qm/pvesm calls seen by the simulator"
}

# cli.c's option table: "NAME SHORT VALUE CMDS" per option (CMDS: GLOBAL, or
# the command names), and the command names of action.c.
table() {
    perl -ne '
        BEGIN {
            %n = (MAKE_TEMPLATE => "make-template", CLONE => "clone", TEMPLATE => "template",
                  CHECK => "check", STORAGES => "storages", HOOK => "hook", AUDIT => "audit",
                  LIST => "list");
        }
        if (/^#define CLONES \((.*)\)$/) { $clones = $1; next }
        next unless /^\s*\{"([a-z-]+)", (?:\x27(.)\x27|0), (true|false), ([^,]+), O_\w+\},$/;
        my ($name, $short, $value, $mask) = ($1, $2 // "-", $3, $4);
        $mask =~ s/CLONES/$clones/;
        my @c = $mask eq "GLOBAL" ? ("GLOBAL") : map { $n{$_} // die "unknown $_" } $mask =~ /M\(REQ_(\w+)\)/g;
        print "$name $short $value @c\n";
    ' "$TOP/wrapper/cli.c" >"$T/table"
    [ -s "$T/table" ]
}

commands_match_request() {
    sim_setup
    comp pvetmpl ''
    local names
    names=$(sed -n 's/^    {REQ_[A-Z_]*, REQ_HOOK_NONE, "\([a-z-]*\)",.*/\1/p' "$TOP/wrapper/action.c")
    [ -n "$names" ]
    # shellcheck disable=SC2086
    want $names help
    comp pvetmpl ma
    want make-template
    comp pvetmpl help ''
    # shellcheck disable=SC2086
    want $names help
    comp pvetmpl --timeout 5 -q c
    want clone check
}

options_match_cli_table() {
    sim_setup
    table
    local cmd global
    global=$(awk '$4 == "GLOBAL" { print "--" $1 }' "$T/table")
    comp pvetmpl --
    # shellcheck disable=SC2086
    want $global
    for cmd in make-template clone template check storages hook audit list; do
        comp pvetmpl "$cmd" 100 --
        # shellcheck disable=SC2086
        want $global $(awk -v c="$cmd" '{ for (i = 4; i <= NF; i++) if ($i == c) print "--" $1 }' "$T/table")
    done
    # every option that takes a value, long and short, and no other
    local have wantv
    have=$(bash --norc --noprofile -c '. "$1"; printf "%s\n" $_pvetmpl_value_opts | sort' x "$COMPLETION")
    wantv=$(awk '$3 == "true" { print "--" $1; if ($2 != "-") print "-" $2 }' "$T/table" | sort)
    assert_eq "$wantv" "$have" "options taking a value"
}

vmids_and_templates() {
    cluster
    comp pvetmpl make-template ''
    want 100 101 9000
    comp pvetmpl clone ''
    want 9000
    comp pvetmpl -q clone 9
    want 9000
    comp pvetmpl clone 9000 ''
    want
    comp pvetmpl check 10
    want 100 101
    comp pvetmpl hook ''
    want install remove status update
    comp pvetmpl hook status 100 ''
    want 100 101 9000
    comp pvetmpl audit --vmid ''
    want 100 101 200 9000 9100
    # a VM whose config says template: 1 only in a snapshot is no template
    printf '[snap1]\ntemplate: 1\n' >>"$S/etc/pve/nodes/pve/qemu-server/101.conf"
    comp pvetmpl clone ''
    want 9000
    no_process_ran
}

storages_nodes_pools() {
    cluster
    local ids
    ids=$(sed -n 's/^[a-z]*: \(.*\)$/\1/p' "$S/etc/pve/storage.cfg")
    [ -n "$ids" ]
    comp pvetmpl make-template 100 9001 --storage ''
    # shellcheck disable=SC2086
    want $ids
    comp pvetmpl clone 9000 9001 --storage = local
    want local local-lvm
    comp pvetmpl hook install 100 --storage=lvm-
    want lvm-thick
    comp pvetmpl check 100 --target ''
    want pve pve2
    comp pvetmpl clone 9000 9001 --pool ''
    want pool-ci
    comp pvetmpl make-template 100 9001 --format q
    want qcow2
    comp pvetmpl audit --action hook-
    want hook-install hook-remove hook-file hook-invalid
    no_process_ran
}

config_on_the_line() {
    cluster
    # another "cluster": only VM 300, a template, on node pve
    mkdir -p "$T/other/nodes/pve/qemu-server"
    printf '{"version": 1, "ids": {"300": {"node": "pve", "type": "qemu", "version": 1}}}\n' \
        >"$T/other/.vmlist"
    printf 'template: 1\n' >"$T/other/nodes/pve/qemu-server/300.conf"
    printf 'vmlist = "%s/other/.vmlist"\npve_dir = "%s/other"\nnode = pve\n' "$T" "$T" >"$T/other.conf"
    comp pvetmpl -c "$T/other.conf" clone ''
    want 300
    comp pvetmpl clone --config="$T/other.conf" ''
    want 300
    comp pvetmpl -qc "$T/other.conf" clone ''
    want 300
    comp pvetmpl clone ''
    want 9000
    # node: from the config; another node's VMs are not offered as SRC
    sed -i 's/^node = .*/node = "pve2"/' "$PVETMPL_CONFIG"
    comp pvetmpl make-template ''
    want 200 9100
    no_process_ran
}

t_check "commands: action.c's names and help" commands_match_request
t_check "options per command match wrapper/cli.c's table" options_match_cli_table
t_check "VMIDs from .vmlist on this node, templates only for clone's SRC, no process" \
    vmids_and_templates
t_check "storages, nodes, pools, formats, audit actions from the files" storages_nodes_pools
t_check "the config named on the line (-c, --config=, -qc) and its node" config_on_the_line
t_done
