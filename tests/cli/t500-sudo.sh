#!/bin/bash
# Delegation through the real sudo (issue 9): a table of hostile requests from
# unprivileged callers, each refused before anything runs and journalled, and
# the requests a grant allows, which run. Everything happens in a private mount
# namespace: a private copy of /etc (passwd, group, shadow with throwaway users,
# sudoers, pvetmpl/pvetmpl.conf pointing at a simulated node) is bind-mounted
# over /etc there, so the real system's users and sudoers are never touched.
if [ "${_PVETMPL_SUDO_NS:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    exec env _PVETMPL_SUDO_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"
. "$TOP/tests/cli/lib-sudo.sh"

if [ "$(id -u)" != 0 ] || [ "${_PVETMPL_SUDO_NS:-}" != 1 ] || [ ! -x /usr/bin/sudo ] ||
    [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    t_skip "delegation through sudo" "needs root, unshare, sudo and the test journald (tests/run.sh)"
    t_done
    exit
fi

DENIED_ID=01b2bf2779e7455aa839a7c25cebe61f
journal_mark # the checks read only this script's records
# The node, users, grant 'ops' and sudoers of lib-sudo.sh; pvtcare's rule is
# a careless one that keeps PATH, PVETMPL_CONFIG and SUDO_UID from the caller.
deleg_setup 'Defaults:pvtcare env_keep += "PATH PVETMPL_CONFIG SUDO_UID"'

# An "evil" directory the caller controls: a qm on its PATH, a preload library.
EVIL=$TMPROOT/evil
mkdir -m 0777 "$EVIL"
printf '#!/bin/sh\ntouch %s/ran\n' "$EVIL" >"$EVIL/qm"
cp "$EVIL/qm" "$EVIL/pvesm"
chmod 0755 "$EVIL/qm" "$EVIL/pvesm"
printf 'grant all { users = {pvtdeleg} actions = {make-template} source_vmids = {1-999999999} target_vmids = {1-999999999} allow_same_storage = true }\n' >"$EVIL/evil.conf"
chmod 0644 "$EVIL/evil.conf"
if command -v cc >/dev/null; then
    printf '#include <unistd.h>\n__attribute__((constructor)) static void f(void) { if (!access("%s", F_OK)) { int r = link("%s/qm", "%s/ran"); (void)r; } }\n' \
        "$EVIL" "$EVIL" "$EVIL" >"$EVIL/evil.c"
    cc -shared -fPIC -o "$EVIL/evil.so" "$EVIL/evil.c"
fi

uid_of() { # USER
    case $1 in
    pvtdeleg) echo "$DELEG" ;;
    pvtcare) echo "$CARE" ;;
    pvtnone) echo "$NONE" ;;
    esac
}

# as USER ENV... -- ARGS...: pvetmpl through sudo as USER, with exactly the
# environment ENV (VAR=value words) on the caller's side.
as() {
    local user=$1 envs=()
    shift
    while [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    run setpriv --reuid="$(uid_of "$user")" --regid="$(id -g "$user")" --init-groups \
        env -i PATH=/usr/bin:/bin "${envs[@]}" /usr/bin/sudo -n "$BIN" "$@"
}

expect_as() { # WANT_RC USER ENV... -- ARGS...: as, and fail unless it exits WANT_RC
    local want=$1
    shift
    as "$@"
    if [ "$RC" != "$want" ]; then
        echo "expected exit $want, got $RC from: $*"
        cat "$T/out" "$T/err"
        return 1
    fi
}

EXPECTED=$TMPROOT/expected-denials # "USER EXIT FIELD" per refusal, in order

# hostile USER WANT_RC FIELD ENV ARGS...: refused with WANT_RC and a clear
# message, no qm/pvesm call, no evil program run, and one "denied" entry
# (PVETMPL_POLICY_FIELD FIELD) expected in the journal. ENV: "-" or
# VAR=value[,VAR=value...] set on the caller's side.
hostile() {
    local user=$1 want=$2 field=$3 envspec=$4 before envs=()
    shift 4
    [ "$envspec" = - ] || IFS=, read -r -a envs <<<"$envspec"
    before=$(sim_calls)
    as "$user" "${envs[@]}" -- "$@"
    echo "$user $want $field" >>"$EXPECTED"
    if [ "$RC" != "$want" ]; then
        echo "expected exit $want, got $RC"
        cat "$T/out" "$T/err"
        return 1
    fi
    local msg=$T/err
    case " $* " in
    *" --json "*) # the error is the JSON report's, stderr stays empty
        assert_eq "" "$(cat "$T/err")" "stderr"
        jq -r .error.detail "$T/out" >msg
        msg=msg
        ;;
    *)
        assert_grep "^pvetmpl: error: ." "$T/err"
        assert_eq 1 "$(grep -c . "$T/err")" "one message"
        assert_eq "" "$(cat "$T/out")" "stdout"
        ;;
    esac
    if [ "$want" = 77 ] && [ "$field" != usage ]; then
        assert_grep "user '$user'" "$msg"
    fi
    case $field in
    source_vmids | target_vmids | storages | pools | names | formats | target_nodes | actions)
        assert_grep "grant 'ops' does not allow .*\($field: " "$msg"
        ;;
    allow_*)
        assert_grep "grant 'ops' does not allow .*\($field is not set\)" "$msg"
        ;;
    esac
    # nothing a root-owned file holds is ever repeated to the caller
    assert_no_grep 'root:|\$[0-9y]\$' "$T/err"
    assert_eq "$before" "$(sim_calls)" "qm/pvesm calls"
    [ ! -e "$EVIL/ran" ] || {
        echo "an evil program ran"
        return 1
    }
}

# ---- the table ----------------------------------------------------------------
# Each line: USER RC FIELD ENV ARGS (ARGS as shell words, quoted as needed).
TABLE=$TMPROOT/table
cat >"$TABLE" <<'ROWS'
pvtdeleg 77 target_vmids - make-template 100 8999 --storage local-lvm
pvtdeleg 77 target_vmids - make-template 100 9100 --storage local-lvm
pvtdeleg 77 target_vmids - make-template 100 10000 --storage local-lvm
pvtdeleg 77 target_vmids - make-template 100 100000 --storage local-lvm
pvtdeleg 77 target_vmids - make-template 100 999999999 --storage local-lvm
pvtdeleg 77 target_vmids - make-template 100 101 --storage local-lvm
pvtdeleg 77 target_vmids - clone 100 8999 --storage local-lvm
pvtdeleg 77 target_vmids - clone 100 9100 --storage local-lvm
pvtdeleg 77 target_vmids - clone 199 9100 --storage local-lvm
pvtdeleg 64 usage - make-template 99 9000 --storage local-lvm
pvtdeleg 77 source_vmids - make-template 200 9000 --storage local-lvm
pvtdeleg 77 source_vmids - make-template 9000 9001 --storage local-lvm
pvtdeleg 77 source_vmids - make-template 1000 9001 --storage local-lvm
pvtdeleg 64 usage - clone 99 9000 --storage local-lvm
pvtdeleg 77 source_vmids - clone 200 9000 --storage local-lvm
pvtdeleg 77 source_vmids - clone 9000 9001 --storage local-lvm
pvtdeleg 64 usage - check 99
pvtdeleg 77 source_vmids - check 200
pvtdeleg 77 source_vmids - check 9000
pvtdeleg 64 usage - hook status 99
pvtdeleg 77 source_vmids - hook status 100 200
pvtdeleg 77 source_vmids - hook status 9100
pvtdeleg 77 storages - make-template 100 9000
pvtdeleg 77 storages - clone 100 9000
pvtdeleg 77 storages - make-template 100 9000 --storage local
pvtdeleg 77 storages - make-template 100 9000 --storage local-lvm2
pvtdeleg 77 storages - make-template 100 9000 --storage local-lv
pvtdeleg 77 storages - make-template 100 9000 --storage lvm-thick
pvtdeleg 77 storages - make-template 100 9000 --storage nfs-shared
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm.
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm-
pvtdeleg 77 storages - make-template 100 9000 --storage local_lvm
pvtdeleg 77 storages - clone 100 9000 --storage dir-tmpl
pvtdeleg 77 storages - check 100 --storage local
pvtdeleg 77 storages - check 100 --storage local-lvm2
pvtdeleg 77 storages - make-template 100 9000 --storage local-lvm --storage local
pvtdeleg 77 storages - make-template 100 9000 --storage Local-lvm
pvtdeleg 77 storages - make-template 100 9000 --storage LOCAL-LVM
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-lvm '
pvtdeleg 64 usage - make-template 100 9000 --storage ' local-lvm'
pvtdeleg 64 usage - make-template 100 9000 --storage 'lоcal-lvm'
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-lvm/../local'
pvtdeleg 64 usage - make-template 100 9000 --storage ''
pvtdeleg 64 usage - make-template 100 9000 '--storage=local-lvm --pool x'
pvtdeleg 77 pools - make-template 100 9000 --storage local-lvm --pool tmpl2
pvtdeleg 77 pools - make-template 100 9000 --storage local-lvm --pool tmp
pvtdeleg 77 pools - make-template 100 9000 --storage local-lvm --pool Tmpl
pvtdeleg 77 pools - make-template 100 9000 --storage local-lvm --pool TMPL
pvtdeleg 77 pools - make-template 100 9000 --storage local-lvm --pool xtmpl
pvtdeleg 77 pools - clone 100 9000 --storage local-lvm --pool prod
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name tmpl
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name xtmpl-a
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name Tmpl-a
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name TMPL-A
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name tmp-a
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name tmpl.a
pvtdeleg 77 names - make-template 100 9000 --storage local-lvm --name a.tmpl-a
pvtdeleg 77 names - clone 100 9000 --storage local-lvm --name web01
pvtdeleg 77 formats - make-template 100 9000 --storage local-lvm --format qcow2
pvtdeleg 77 formats - make-template 100 9000 --storage local-lvm --format vmdk
pvtdeleg 77 target_nodes - make-template 100 9000 --storage local-lvm --target pve2
pvtdeleg 77 target_nodes - clone 100 9000 --storage local-lvm --target pve2
pvtdeleg 77 target_nodes - clone 100 9000 --storage local-lvm --target pve
pvtdeleg 77 target_nodes - check 100 --target pve2
pvtdeleg 77 allow_linked - clone 100 9000 --linked
pvtdeleg 77 allow_replace_hook - make-template 100 9000 --storage local-lvm --replace-hook
pvtdeleg 77 allow_no_hook - make-template 100 9000 --storage local-lvm --no-hook
pvtdeleg 77 allow_description - make-template 100 9000 --storage local-lvm --description hi
pvtdeleg 77 allow_bwlimit - make-template 100 9000 --storage local-lvm --bwlimit 1000
pvtdeleg 77 allow_snapname - make-template 100 9000 --storage local-lvm --snapname s1
pvtdeleg 77 actions - template 9000
pvtdeleg 77 actions - template 100
pvtdeleg 77 actions - hook install 9000
pvtdeleg 77 actions - hook update
pvtdeleg 64 usage - hook update 100
pvtdeleg 77 actions - hook remove 9000
pvtdeleg 77 actions - hook install 100 --storage local
pvtdeleg 77 actions - audit
pvtdeleg 77 actions - audit -D /var/log/journal
pvtdeleg 77 actions - audit --file /etc/shadow
pvtdeleg 77 actions - audit --all-users
pvtdeleg 77 timeout - make-template 100 9000 --storage local-lvm --timeout 601
pvtdeleg 77 timeout - make-template 100 9000 --storage local-lvm --timeout 0
pvtdeleg 77 timeout - storages --timeout 100000
pvtdeleg 77 lock_wait - make-template 100 9000 --storage local-lvm --lock-wait 301
pvtdeleg 77 lock_wait - make-template 100 9000 --storage local-lvm --lock-wait 999999
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --timeout -1
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --timeout 1e9
pvtdeleg 77 caller - policy root
pvtdeleg 77 caller - policy pvtcare
pvtdeleg 77 caller - policy pvtnone
pvtdeleg 77 caller - --json policy root
pvtnone 77 caller - storages
pvtnone 77 caller - list
pvtnone 77 caller - check 100
pvtnone 77 caller - make-template 100 9000 --storage local-lvm
pvtnone 77 caller - -n make-template 100 9000 --storage local-lvm
pvtnone 77 caller - policy pvtdeleg
pvtnone 64 usage - -c /etc/shadow storages
pvtdeleg 77 target_vmids - -n make-template 100 10000 --storage local-lvm
pvtdeleg 77 storages - -n make-template 100 9000 --storage local
pvtdeleg 77 actions - -n template 9000
pvtdeleg 77 target_vmids - --json make-template 100 10000 --storage local-lvm
pvtdeleg 77 target_vmids - -q make-template 100 10000 --storage local-lvm
pvtdeleg 77 target_vmids - -v make-template 100 10000 --storage local-lvm
pvtdeleg 77 target_vmids - make-template 100 10000 --storage local-lvm --no-progress
pvtdeleg 77 target_vmids - make-template -- 100 10000
pvtdeleg 64 usage - -c /etc/shadow storages
pvtdeleg 64 usage - -c /etc/sudoers storages
pvtdeleg 64 usage - -c /etc/gshadow list
pvtdeleg 64 usage - -c /etc/ssh/sshd_config storages
pvtdeleg 64 usage - -c /root/.bash_history storages
pvtdeleg 64 usage - -c /proc/self/environ storages
pvtdeleg 64 usage - -c /proc/1/environ storages
pvtdeleg 64 usage - -c /dev/zero storages
pvtdeleg 64 usage - -c /dev/stdin storages
pvtdeleg 64 usage - -c /etc/pvetmpl/pvetmpl.conf storages
pvtdeleg 64 usage - -c/etc/shadow storages
pvtdeleg 64 usage - --config /etc/shadow storages
pvtdeleg 64 usage - --config=/etc/shadow storages
pvtdeleg 64 usage - -nc /etc/shadow storages
pvtdeleg 64 usage - -qc/etc/shadow check 100
pvtdeleg 64 usage - storages -c /etc/shadow
pvtdeleg 64 usage - check 100 --config /etc/shadow
pvtdeleg 64 usage - -c /etc/shadow make-template 100 9000 --storage local-lvm
pvtdeleg 64 usage - -c /etc/shadow policy
pvtdeleg 64 usage - -c /etc/shadow --help-me storages
pvtdeleg 64 usage - --conf /etc/shadow storages
pvtdeleg 64 usage - --config
pvtdeleg 64 usage - -c
pvtdeleg 64 usage - storages --evil
pvtdeleg 64 usage - --stor local storages
pvtdeleg 64 usage - 'storages;id'
pvtdeleg 64 usage - 'storages && id'
pvtdeleg 64 usage - '$(id)'
pvtdeleg 64 usage - '`id`'
pvtdeleg 64 usage - make-template
pvtdeleg 77 target_vmids - make-template 100 --storage local-lvm
pvtdeleg 77 actions - make-template 100 9000 --storage local-lvm --name t --rotate
pvtdeleg 64 usage - make-template 100 9000 9001
pvtdeleg 64 usage - make-template 100 100
pvtdeleg 64 usage - make-template 100 9000 --linked
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --no-hook --replace-hook
pvtdeleg 64 usage - clone 100 9000 --linked --storage local-lvm
pvtdeleg 64 usage - make-template 100 9000 -storage local-lvm
pvtdeleg 64 usage - make-template 100 9000 --storage
pvtdeleg 64 usage - make-template 0100 9000 --storage local-lvm
pvtdeleg 64 usage - make-template 100 09000 --storage local-lvm
pvtdeleg 64 usage - make-template 100 +9000 --storage local-lvm
pvtdeleg 64 usage - make-template 100 -9000 --storage local-lvm
pvtdeleg 64 usage - make-template 100 ' 9000' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '9000 ' --storage local-lvm
pvtdeleg 64 usage - make-template 100 0x2328 --storage local-lvm
pvtdeleg 64 usage - make-template 100 9e3 --storage local-lvm
pvtdeleg 64 usage - make-template 100 9000.0 --storage local-lvm
pvtdeleg 64 usage - make-template 100 1000000000 --storage local-lvm
pvtdeleg 64 usage - make-template 100 4294967396 --storage local-lvm
pvtdeleg 64 usage - make-template 100 18446744073709560616 --storage local-lvm
pvtdeleg 64 usage - make-template 99 0 --storage local-lvm
pvtdeleg 64 usage - make-template 100 '٩٠٠٠' --storage local-lvm
pvtdeleg 64 usage - make-template 100 9000-9001 --storage local-lvm
pvtdeleg 64 usage - make-template 100 '9000,9001' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '*' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '90?0' --storage local-lvm
pvtdeleg 64 usage - make-template '100;id' 9000 --storage local-lvm
pvtdeleg 64 usage - make-template 100 '9000;id' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '9000|id' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '9000&id' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '$(id)' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '`id`' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '9000>/etc/passwd' --storage local-lvm
pvtdeleg 64 usage - make-template 100 $'9000\nid' --storage local-lvm
pvtdeleg 64 usage - make-template 100 '${IFS}9000' --storage local-lvm
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-lvm;id'
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-lvm|id'
pvtdeleg 64 usage - make-template 100 9000 --storage '$(id)'
pvtdeleg 64 usage - make-template 100 9000 --storage '`id`'
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-lvm&&id'
pvtdeleg 64 usage - make-template 100 9000 --storage $'local-lvm\nid'
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-lvm,local'
pvtdeleg 64 usage - make-template 100 9000 --storage '*'
pvtdeleg 64 usage - make-template 100 9000 --storage 'local-*'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --pool 'tmpl;id'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --pool '$(id)'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --pool '`id`'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --pool 'tmpl tmpl'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --pool '*'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-a;id'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-$(id)'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-`id`'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-*'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-?'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-[a]'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-a b'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name $'tmpl-a\nb'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-a/../b'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name 'tmpl-é'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --name -tmpl-a
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --format 'raw;id'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --format RAW
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --target 'pve;id'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --target '$(id)'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --snapname '$(id)'
pvtdeleg 64 usage - make-template 100 9000 --storage local-lvm --bwlimit '1;id'
pvtdeleg 77 allow_description - make-template 100 9000 --storage local-lvm --description $'a\x01b'
pvtdeleg 64 usage - check '100;id'
pvtdeleg 64 usage - check 100 --storage '$(id)'
pvtdeleg 64 usage - check 100 --target '`id`'
pvtdeleg 64 usage - hook status '100;id'
pvtdeleg 64 usage - hook 'status;id' 100
pvtdeleg 77 target_vmids - hook status
pvtdeleg 64 usage - hook evil 100
pvtdeleg 64 usage - template '9000;id'
pvtdeleg 64 usage - template 9000 --disk '$(id)'
pvtdeleg 64 usage - audit --vmid '1;id'
pvtdeleg 64 usage - audit --since '$(id)'
pvtdeleg 64 usage - list extra
pvtdeleg 64 usage - storages extra
pvtdeleg 64 usage - policy 'root;id'
pvtdeleg 64 usage - policy '$(id)'
pvtdeleg 64 usage - policy ../root
pvtdeleg 64 usage - policy pvtdeleg extra
pvtdeleg 77 target_vmids PVETMPL_CONFIG=@EVIL@/evil.conf make-template 100 5000 --storage local-lvm
pvtdeleg 77 storages PVETMPL_CONFIG=@EVIL@/evil.conf make-template 100 9000
pvtdeleg 77 target_vmids PATH=@EVIL@:/usr/bin:/bin make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids LD_PRELOAD=@EVIL@/evil.so make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids LD_LIBRARY_PATH=@EVIL@ make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids SUDO_UID=0,SUDO_USER=root make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids SUDO_UID=0,SUDO_GID=0,SUDO_USER=root,SUDO_COMMAND=/bin/sh make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids PVETMPL_TOP=@EVIL@,PVETMPL_TEST_JOURNALD=0 make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids 'SHELLOPTS=xtrace,PS4=$(id),BASH_ENV=@EVIL@/qm' make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids TZ=../../../../etc/shadow,LC_ALL=../../../etc make-template 100 5000 --storage local-lvm
pvtdeleg 77 target_vmids COLUMNS=-1,TERM=../../evil make-template 100 5000 --storage local-lvm
pvtcare 64 usage PVETMPL_CONFIG=@EVIL@/evil.conf make-template 100 5000 --storage local-lvm
pvtcare 64 usage PVETMPL_CONFIG=/etc/shadow storages
pvtcare 64 usage PVETMPL_CONFIG=/etc/pvetmpl/pvetmpl.conf storages
pvtcare 64 usage PVETMPL_CONFIG= storages
pvtcare 77 target_vmids PATH=@EVIL@:/usr/bin:/bin make-template 100 5000 --storage local-lvm
pvtcare 77 actions PATH=@EVIL@ template 9000
pvtcare 77 target_vmids SUDO_UID=0,SUDO_USER=root make-template 100 5000 --storage local-lvm
ROWS

n_rows=0
while IFS= read -r line; do
    [ -n "$line" ] || continue
    line=${line//@EVIL@/$EVIL}
    eval "row=($line)"
    n_rows=$((n_rows + 1))
    # the title is one TAP line: a word with a newline or another control
    # character is shown quoted ($'9000\nid')
    words=()
    for w in "${row[@]:4}"; do
        [[ $w != *[[:cntrl:]]* ]] || printf -v w %q "$w"
        words+=("$w")
    done
    t_check "hostile $n_rows: ${row[0]} ${words[*]} (${row[3]}) -> ${row[1]} ${row[2]}" \
        hostile "${row[@]}"
done <"$TABLE"

forged_sudo_uid() {
    # `sudo SUDO_UID=0 pvetmpl`: sudoers lets pvtcare set SUDO_UID on sudo's
    # command line, so it arrives forged; SUDO_USER (set by sudo) disagrees.
    local before
    before=$(sim_calls)
    run setpriv --reuid="$CARE" --regid="$OPS_GID" --init-groups \
        env -i PATH=/usr/bin:/bin /usr/bin/sudo -n SUDO_UID=0 "$BIN" storages
    echo "SUDO_UID:0/SUDO_USER:pvtcare 77 caller" >>"$EXPECTED"
    assert_eq 77 "$RC"
    assert_grep "^pvetmpl: error: sudo's SUDO_UID \(0\) and SUDO_USER disagree" "$T/err"
    assert_eq "$before" "$(sim_calls)"
}
t_check "hostile: SUDO_UID=0 forged on sudo's command line -> 77" forged_sudo_uid
n_rows=$((n_rows + 1))

# ---- the journal: one "denied" entry per refusal, in order -----------------
denials_journalled() {
    journalctl --sync
    journal_since -o json MESSAGE_ID=$DENIED_ID _UID=0 >j
    jq -r '"\(.PVETMPL_USER) \(.PVETMPL_EXIT) \(.PVETMPL_POLICY_FIELD)"' j >got
    assert_eq "$n_rows" "$(wc -l <"$EXPECTED")" "refusals tried"
    diff -u "$EXPECTED" got
    # who, what and which rule: the first row's entry in full
    assert_eq make-template "$(jq -r -s '.[0].PVETMPL_ACTION' j)"
    assert_eq ops "$(jq -r -s '.[0].PVETMPL_POLICY' j)"
    assert_eq 8999 "$(jq -r -s '.[0].PVETMPL_VMID' j)"
    assert_eq "make-template SRC '100' NEWID '8999' --storage 'local-lvm'" \
        "$(jq -r -s '.[0].PVETMPL_REQUEST' j)"
    assert_eq "user 'pvtdeleg': grant 'ops' does not allow new VMID 8999 (target_vmids: 9000-9099)" \
        "$(jq -r -s '.[0].PVETMPL_ERROR' j)"
    assert_eq denied "$(jq -r -s '.[0].PVETMPL_RESULT' j)"
    # nothing was ever recorded as started
    journal_since -o json PVETMPL_RESULT=started >s
    assert_eq 0 "$(grep -c . s || true)" "actions started"
}
t_check "every refusal is in the journal, with who, what and which grant" denials_journalled
echo "# $n_rows hostile requests tried through sudo"

audit_shows_denials() {
    expect_rc 0 "$BIN" audit --json --action make-template
    assert_eq pvtdeleg "$(json_get '[.events[] | select(.result == "denied")][0].user')"
    expect_rc 0 env COLUMNS=250 "$BIN" audit --action make-template # every column
    assert_grep "^[0-9-]{10} [0-9:]{8}  make-template +denied +8999 +100 .* pvtdeleg +0 +user 'pvtdeleg': grant 'ops' does not allow new VMID 8999" "$T/out"
}
t_check "audit shows the denials (root)" audit_shows_denials

# ---- what a grant allows runs ------------------------------------------------
dry_run_says_allowed() {
    local before
    before=$(sim_mutating_calls)
    expect_as 0 pvtdeleg -- -n make-template 100 9000 --storage local-lvm --pool tmpl --name tmpl-a
    assert_grep "^would be allowed by grant 'ops'$" "$T/out"
    assert_grep "^would run: .*/qm clone 100 9000 " "$T/out"
    expect_as 0 pvtdeleg -- --json -n make-template 199 9099 --storage local-lvm --format raw
    assert_eq ops "$(json_get .grant)"
    assert_eq "$before" "$(sim_mutating_calls)" "state-changing calls"
}
t_check "-n through sudo says which grant would allow it" dry_run_says_allowed

real_run_records_grant() {
    as pvtdeleg -- make-template 100 9001 --storage local-lvm --name tmpl-web
    assert_eq 0 "$RC"
    sim_qm config 9001 >cfg
    assert_grep "^template: 1" cfg
    journalctl --sync
    journal_since -o json PVETMPL_VMID=9001 PVETMPL_RESULT=succeeded \
        PVETMPL_ACTION=make-template >j
    assert_eq "ops pvtdeleg 0" "$(jq -r '"\(.PVETMPL_POLICY) \(.PVETMPL_USER) \(._UID)"' j)"
    expect_rc 0 env COLUMNS=250 "$BIN" audit --vmid 9001 --action make-template
    assert_grep "succeeded +9001 +100 +tmpl-web +local-lvm +pvtdeleg .*policy ops" "$T/out"
}
t_check "an allowed run runs, and its record names the grant" real_run_records_grant

# hook status shows why the hook's config is unusable; that reason may quote
# the file, root's text: a delegated caller is told to ask root instead.
hook_config_error_hidden() {
    local side=$S/var/lib/vz/snippets/pvetmpl-hook.conf # beside 9001's hook (the run above)
    echo 'hunter2_secret_token = 1' >"$side"
    expect_rc 0 "$BIN" --json hook status 9001
    assert_eq "$side" "$(jq -r '.vms[0].config' "$T/out")"
    assert_grep "hunter2_secret_token" "$T/out"
    expect_as 0 pvtdeleg -- --json hook status 9001
    assert_eq "unusable: defaults, no policy" "$(jq -r '.vms[0].config_state' "$T/out")"
    assert_eq "the reason is shown to root: run 'pvetmpl hook status 9001' as root" \
        "$(jq -r '.vms[0].config_error' "$T/out")"
    assert_no_grep hunter2 "$T/out"
    expect_as 0 pvtdeleg -- hook status 9001
    assert_grep "run 'pvetmpl hook status 9001' as root" "$T/out"
    assert_no_grep hunter2 "$T/out"
    assert_no_grep hunter2 "$T/err"
    rm "$side"
}
t_check "hook status keeps the hook config's text from a delegated caller" hook_config_error_hidden

# A name another VM has (tmpl-web, the template of the run above): a
# delegated caller may not make a second one (69, nothing run); the run
# above repeated (NEWID itself has the name) is still "nothing to do".
second_name_refused() {
    local before
    before=$(sim_mutating_calls)
    as pvtdeleg -- make-template 100 9002 --storage local-lvm --name tmpl-web
    assert_eq 69 "$RC"
    assert_grep "the name 'tmpl-web' is already used by template 9001 on node 'pve'; a delegated caller may not make a second VM of one name" "$T/err"
    assert_eq "$before" "$(sim_mutating_calls)" "no mutating call"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/9002.conf" ]
    as pvtdeleg -- -n make-template 100 9003 --storage local-lvm --name tmpl-web
    assert_eq 69 "$RC"
    as pvtdeleg -- make-template 100 9001 --storage local-lvm --name tmpl-web
    assert_eq 0 "$RC"
    assert_eq "$before" "$(sim_mutating_calls)" "no mutating call"
    # each refusal is a denial in the journal, as the policy's are: who,
    # what, the grant that let the request this far, and the rule (name)
    journalctl --sync
    journal_since -o json MESSAGE_ID=$DENIED_ID _UID=0 PVETMPL_POLICY_FIELD=name >j
    assert_eq "pvtdeleg 69 ops make-template 9002 100
pvtdeleg 69 ops make-template 9003 100" \
        "$(jq -r '"\(.PVETMPL_USER) \(.PVETMPL_EXIT) \(.PVETMPL_POLICY) \(.PVETMPL_ACTION) \(.PVETMPL_VMID) \(.PVETMPL_SOURCE_VMID)"' j)"
    assert_eq "make-template SRC '100' NEWID '9002' --name 'tmpl-web' --storage 'local-lvm'" \
        "$(jq -r -s '.[0].PVETMPL_REQUEST' j)"
    jq -r -s '.[0].PVETMPL_ERROR' j >why
    assert_grep "^the name 'tmpl-web' is already used by template 9001 on node 'pve'; a delegated caller may not" why
}
t_check "a delegated caller may not make a second VM of one name" second_name_refused

policy_command() {
    as pvtdeleg -- policy
    assert_eq 0 "$RC"
    assert_grep "^user 'pvtdeleg' may have pvetmpl do, as root, what this grant allows" "$T/out"
    assert_grep "^grant 'ops' \(group pvtops\)$" "$T/out"
    assert_grep "^    target_vmids +9000-9099$" "$T/out"
    as pvtdeleg -- policy pvtdeleg
    assert_eq 0 "$RC"
    as pvtnone -- --json policy
    assert_eq 0 "$RC"
    assert_eq 0 "$(json_get '.grants | length')"
    assert_eq false "$(json_get .full_use)"
    # root may ask about anyone
    expect_rc 0 "$BIN" --json policy pvtcare
    assert_eq "ops group pvtops" "$(json_get '.grants[0] | "\(.name) \(.via)"')"
    expect_rc 0 "$BIN" policy
    assert_grep "^user root has full use of pvetmpl" "$T/out"
}
t_check "pvetmpl policy [USER], as sudo -l" policy_command

root_keeps_full_use() {
    # root directly and root through sudo: no grant needed
    expect_rc 0 "$BIN" -n make-template 100 5000 --storage dir-tmpl --name web
    assert_no_grep "would be allowed" "$T/out"
    expect_rc 0 sudo -n "$BIN" -n make-template 100 5000 --storage dir-tmpl --name web
    # a root caller forging SUDO_UID only narrows its own run
    expect_rc 77 env SUDO_UID="$DELEG" SUDO_USER=pvtdeleg "$BIN" -n make-template 100 5000 \
        --storage dir-tmpl
    assert_grep "user 'pvtdeleg': grant 'ops' does not allow new VMID 5000" "$T/err"
    # a grant that names root labels root's runs, nothing more
    cp "$CONF" conf.saved
    echo 'grant rootlabel { users = {root} actions = {make-template} source_vmids = {100-199}
        target_vmids = {5000-5999} storages = {"*"} }' >>"$CONF"
    expect_rc 0 "$BIN" -n make-template 100 5001 --storage local-lvm
    expect_rc 0 "$BIN" -n make-template 100 6001 --storage local-lvm # outside it: root anyway
    cp conf.saved "$CONF"
    journalctl --sync
    journal_since -o json PVETMPL_RESULT=dry-run \
        PVETMPL_ACTION=make-template _UID=0 >j
    assert_eq "5001 rootlabel" "$(jq -r 'select(.PVETMPL_VMID == "5001") | "\(.PVETMPL_VMID) \(.PVETMPL_POLICY)"' j)"
    assert_eq "6001 null" "$(jq -r 'select(.PVETMPL_VMID == "6001") | "\(.PVETMPL_VMID) \(.PVETMPL_POLICY)"' j)"
}
t_check "root keeps full use; a forged SUDO_UID only narrows root's own run" root_keeps_full_use

# ---- what root trusts on the caller's behalf --------------------------------
untrusted() { # PATH-TO-CHANGE HOW WANT-MESSAGE
    local before
    before=$(sim_calls)
    as pvtdeleg -- storages
    assert_eq 78 "$RC"
    assert_grep "$1" "$T/err"
    assert_eq "$before" "$(sim_calls)"
}

trust_whole_path() {
    chmod g+w "$CONF"
    untrusted "configuration '/etc/pvetmpl/pvetmpl.conf' is refused: '/etc/pvetmpl/pvetmpl.conf' is writable by group or others"
    chmod g-w "$CONF"
    chmod o+w "$P/etc/pvetmpl"
    untrusted "'/etc/pvetmpl' is writable by group or others"
    chmod o-w "$P/etc/pvetmpl"
    chown "$DELEG" "$S/bin/qm"
    untrusted "^pvetmpl: error: qm '$S/bin/qm' is refused: '$S/bin/qm' is owned by uid $DELEG, not root"
    chown 0 "$S/bin/qm"
    chmod g+w "$S/bin"
    untrusted "qm '$S/bin/qm' is refused: '$S/bin' is writable by group or others"
    chmod g-w "$S/bin"
    chmod o+w "$S/bin/pvesm"
    untrusted "pvesm '$S/bin/pvesm' is refused: '$S/bin/pvesm' is writable by group or others"
    chmod o-w "$S/bin/pvesm"
    mv "$S/bin/pvesm" "$S/bin/pvesm.real"
    ln -s pvesm.real "$S/bin/pvesm"
    untrusted "'$S/bin/pvesm' on its path is a symbolic link"
    rm "$S/bin/pvesm"
    mv "$S/bin/pvesm.real" "$S/bin/pvesm"
    chmod g+w "$TMPROOT/bin/pvetmpl-hook"
    untrusted "hook_binary '$TMPROOT/bin/pvetmpl-hook' is refused"
    chmod g-w "$TMPROOT/bin/pvetmpl-hook"
    mkdir -p "$TMPROOT/run"
    chown "$DELEG" "$TMPROOT/run"
    untrusted "run_dir '$TMPROOT/run' is refused: '$TMPROOT/run' is owned by uid $DELEG"
    chown 0 "$TMPROOT/run"
    # all restored: allowed again
    expect_as 0 pvtdeleg -- storages
}
t_check "config, qm, pvesm, hook_binary and run_dir: root's along the whole path" trust_whole_path

missing_under_sticky() {
    # A missing file is trusted only when nobody else could create it: under
    # a sticky world-writable directory (as /tmp) anyone can.
    mkdir -m 1777 "$TMPROOT/sticky"
    cp "$CONF" conf.saved
    sed -i "s|^hook_binary = .*|hook_binary = \"$TMPROOT/sticky/pvetmpl-hook\"|" "$CONF"
    untrusted "hook_binary '$TMPROOT/sticky/pvetmpl-hook' is refused: it does not exist and '$TMPROOT/sticky' is writable by group or others \(mode 1777\), so another user could create it"
    cp conf.saved "$CONF"
    sed -i "s|^qm = .*|qm = \"$TMPROOT/sticky/qm\"|" "$CONF"
    untrusted "qm '$TMPROOT/sticky/qm' is refused: it does not exist and '$TMPROOT/sticky'"
    cp conf.saved "$CONF"
    expect_as 0 pvtdeleg -- storages
}
t_check "a program missing under a directory others can write to is refused" missing_under_sticky

no_config_text_echoed() {
    cp "$CONF" conf.saved
    echo 'hunter2_secret_token = 1' >>"$CONF"
    as pvtdeleg -- storages
    assert_eq 78 "$RC"
    assert_grep "the system configuration '/etc/pvetmpl/pvetmpl.conf' cannot be used" "$T/err"
    assert_no_grep hunter2 "$T/err"
    # root is told what is wrong
    expect_rc 78 "$BIN" storages
    assert_grep hunter2_secret_token "$T/err"
    cp conf.saved "$CONF"
    # -c never reads the file: no token of /etc/shadow, whatever the command
    as pvtdeleg -- -c /etc/shadow storages
    assert_eq 64 "$RC"
    assert_grep "^pvetmpl: error: -c/--config is refused: a run for a caller other than root \(user pvtdeleg, through sudo\) uses only the system configuration '/etc/pvetmpl/pvetmpl.conf'$" "$T/err"
}
t_check "no text of a root-owned file is ever shown to a delegated caller" no_config_text_echoed

process_is_clean() {
    # a probe in qm's place records what its parent, pvetmpl, holds
    cp "$S/bin/qm" qm.saved
    cat >"$S/bin/qm" <<PROBE
#!/bin/sh
ls -l /proc/\$PPID/fd/ >$TMPROOT/probe-fds
grep Umask /proc/\$PPID/status >$TMPROOT/probe-umask
env >$TMPROOT/probe-env
exec sh $PWD/qm.saved "\$@"
PROBE
    # root forging SUDO_UID is delegated too: fd 7 open, umask 077, a hostile env
    run env SUDO_UID="$DELEG" SUDO_USER=pvtdeleg PVETMPL_X=1 \
        sh -c 'umask 077; exec 7</etc/hostname; exec "$@"' sh "$BIN" check 100
    assert_grep " 0 -> " "$TMPROOT/probe-fds" # the probe ran
    assert_no_grep "/etc/hostname" "$TMPROOT/probe-fds"
    assert_grep "Umask:	0022" "$TMPROOT/probe-umask"
    assert_no_grep "PVETMPL_X|SUDO_" "$TMPROOT/probe-env"
    cp qm.saved "$S/bin/qm"
}
t_check "a delegated run: fds above 2 closed, umask 022, nothing of the caller's env passed" \
    process_is_clean

interrupted_run() {
    # ^C through sudo: the run ends (130), qm is stopped, the record says so
    sim_knob PVESIM_FAULT=hang
    sim_knob PVESIM_FAULT_CMD=clone
    setsid setpriv --reuid="$DELEG" --regid="$OPS_GID" --init-groups \
        env -i PATH=/usr/bin:/bin /usr/bin/sudo -n "$BIN" make-template 100 9050 \
        --storage local-lvm >"$T/out" 2>"$T/err" &
    local pid=$! rc=0
    wait_for_proc "sim.pl $S qm clone"
    kill -INT "$pid"
    wait "$pid" || rc=$?
    "$PVESIM" "$S" knob --clear
    assert_eq 130 "$rc"
    assert_grep "interrupted" "$T/err"
    journalctl --sync
    journal_since -o json PVETMPL_VMID=9050 PVETMPL_RESULT=failed >j
    assert_eq "130 ops pvtdeleg" "$(jq -r '"\(.PVETMPL_EXIT) \(.PVETMPL_POLICY) \(.PVETMPL_USER)"' j)"
    jq -r .PVETMPL_ERROR j >why
    assert_grep "interrupted" why
}
t_check "^C through sudo ends the run cleanly, and the record says so" interrupted_run

interrupted_twice() {
    # ^C ^C through sudo mid-copy: the second ends pvetmpl's wait for qm, not
    # pvetmpl; the run is recorded (130) and qm's worker still cleans up
    sim_knob PVESIM_COPY_MIBPS=320 # 32 GiB: 1 s per 1 % step
    setsid setpriv --reuid="$DELEG" --regid="$OPS_GID" --init-groups \
        env -i PATH=/usr/bin:/bin /usr/bin/sudo -n "$BIN" -v make-template 100 9051 \
        --storage local-lvm >"$T/out" 2>"$T/err" &
    local pid=$! rc=0 p i
    wait_for_grep 'transferred' "$T/err" 30
    p=$(pgrep -f "^$BIN -v make-template 100 9051")
    kill -INT "$pid" # sudo passes it on; the second only once the first was taken
    for i in $(seq 1 200); do
        [ "$(awk '$1 == "ShdPnd:" || $1 == "SigPnd:" { print $2 }' "/proc/$p/status" |
            while read -r m; do echo $(((0x$m >> 1) & 1)); done | tr -d '\n')" = 00 ] && break
        sleep 0.01
    done
    kill -INT "$pid"
    wait "$pid" || rc=$?
    for i in $(seq 1 200); do # the worker's cleanup takes a second (sim: sleep 1)
        pgrep -f "sim.pl $S qm clone" >/dev/null || break
        sleep 0.05
    done
    "$PVESIM" "$S" knob --clear
    assert_eq 130 "$rc"
    assert_grep "still stopping" "$T/err"
    assert_eq "" "$(pgrep -f "sim.pl $S qm clone" || true)" "qm and its worker ended"
    assert_eq "" "$(ls "$S/volumes/local-lvm" | grep '^vm-9051-' || true)" "volumes of 9051 left"
    journalctl --sync
    journal_since -o json PVETMPL_VMID=9051 PVETMPL_RESULT=failed >j
    assert_eq "130 ops pvtdeleg" "$(jq -r '"\(.PVETMPL_EXIT) \(.PVETMPL_POLICY) \(.PVETMPL_USER)"' j)"
    jq -r .PVETMPL_ERROR j >why
    assert_grep "may still be being cleaned up: check 'qm config 9051'" why
}
t_check "^C ^C through sudo mid-copy: recorded, qm left to clean up" interrupted_twice

# Module mode (one argument with a '/') under sudo: pvetmpl, as root, reads
# only an arguments file the caller owns, and answers alike for a root-only
# file and a path that does not exist: nothing shown, nothing confirmed.
module_mode_own_file() {
    local before
    before=$(sim_calls)
    as pvtdeleg -- /etc/shadow
    assert_eq 1 "$RC" "the module's failure"
    cp "$T/out" shadow.json
    assert_eq 77 "$(jq -r .rc shadow.json)"
    assert_grep "arguments file of your own" shadow.json
    assert_no_grep 'root:|\$[0-9y]\$' shadow.json
    assert_eq null "$(jq -r .invocation.module_args shadow.json)"
    as pvtdeleg -- /nonexistent/args
    assert_eq 1 "$RC"
    assert_eq "$(jq -c 'del(.duration_ms)' shadow.json)" "$(jq -c 'del(.duration_ms)' "$T/out")" \
        "the same answer for a root-only file and no file"
    # the caller's own file is read, and goes through the grants like the CLI
    printf '{"state": "template", "source": 100, "vmid": 9999, "storage": "local-lvm"}' >args.json
    chown "$DELEG" args.json
    chmod 0644 args.json
    chmod a+x "$T"
    as pvtdeleg -- "$T/args.json"
    assert_eq 1 "$RC"
    assert_eq 77 "$(jq -r .rc "$T/out")"
    assert_grep "grant 'ops' does not allow new VMID 9999" "$T/out"
    assert_eq "$before" "$(sim_calls)" "qm/pvesm calls"
}
t_check "module mode under sudo: only the caller's own arguments file is read" module_mode_own_file

# hook remove deletes no file, delegated or not: it only unsets the VM's
# hookscript (qm set --delete hookscript), as the file may serve other VMs. A
# snippets directory swapped for a symlink to a directory of the caller's,
# with a file of the hook's name in it, changes nothing of what it does.
hook_remove_deletes_no_file() {
    local snip=$S/var/lib/vz/snippets
    cp "$CONF" conf.saved
    printf 'grant hookrm {\n users = {pvtcare}\n actions = {hook-remove}\n target_vmids = {100-199}\n}\n' \
        >>"$CONF"
    expect_rc 0 "$BIN" hook install 100 # root
    cp "$snip/pvetmpl-hook" hook.placed
    mkdir -m 0755 "$TMPROOT/care-snippets"
    echo "the caller's file" >"$TMPROOT/care-snippets/pvetmpl-hook"
    chown -R "$CARE" "$TMPROOT/care-snippets"
    mv "$snip" "$snip.real"
    ln -s "$TMPROOT/care-snippets" "$snip"
    as pvtcare -- hook remove 100
    rm "$snip"
    mv "$snip.real" "$snip"
    cp conf.saved "$CONF"
    assert_eq 0 "$RC" "hook remove's exit code; $(cat "$T/err")"
    sim_qm config 100 >cf
    assert_no_grep '^hookscript:' cf
    assert_eq "the caller's file" "$(cat "$TMPROOT/care-snippets/pvetmpl-hook")"
    cmp hook.placed "$snip/pvetmpl-hook"
    journalctl --sync
    journal_since -o json PVETMPL_ACTION=hook-remove PVETMPL_RESULT=succeeded >j
    assert_eq "pvtcare hookrm 100" "$(jq -r '"\(.PVETMPL_USER) \(.PVETMPL_POLICY) \(.PVETMPL_VMID)"' j)"
}
t_check "hook remove through sudo deletes no file, whatever the snippets directory is" \
    hook_remove_deletes_no_file

t_done
