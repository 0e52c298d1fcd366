#!/bin/bash
# The sudo grants through the Ansible module with `become: true` (issue 9):
# ansible-playbook logs in over ssh as the unprivileged grant holder pvtdeleg
# (its own key; root may not log in) and runs the pvetmpl module through the
# real sudo (become_method sudo) against the simulated node. The users, the
# grant 'ops' and the node are t500-sudo.sh's (lib-sudo.sh), in a private
# mount namespace with its own /etc; sshd is t400's (lib-ansible.sh).
#
# Ansible's sudo runs `sudo -u root /bin/sh -c '... AnsiballZ_pvetmpl ARGS'`,
# so become needs a sudoers rule for a shell: all of root. The grants still
# decide every module run (sudo's SUDO_UID names the caller), which is what
# this proves; the rule that is a boundary is the README's, for
# `sudo pvetmpl --json ...` through ansible.builtin.command (one task outside
# the grant, refused, and one inside it, which runs).
#
# One playbook (ansible-playbook starts slowly): the refusals first, then the
# node's call count (zero), then what the grant allows. Every task goes on
# after a failure, so that each check below reports on its own task.
if [ "${_PVETMPL_SUDO_NS:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    exec env _PVETMPL_SUDO_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"
. "$TOP/tests/cli/lib-sudo.sh"
. "$TOP/tests/cli/lib-ansible.sh"

W=$TMPROOT/ansible
trap 'stop_sshd; rm -rf "$TMPROOT"' EXIT

why_skip=
if [ "$(id -u)" != 0 ] || [ "${_PVETMPL_SUDO_NS:-}" != 1 ] || [ ! -x /usr/bin/sudo ]; then
    why_skip="needs root, unshare and sudo"
elif [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    why_skip="needs the test journald (tests/run.sh runs it as root)"
elif ! command -v ansible-playbook >/dev/null || ! [ -x /usr/sbin/sshd ]; then
    why_skip="needs ansible-core and openssh-server (make deps)"
fi
if [ -n "$why_skip" ]; then
    t_skip "the module through sudo with become: true" "$why_skip"
    t_done
    exit
fi

DENIED_ID=01b2bf2779e7455aa839a7c25cebe61f
journal_mark # the checks read only this script's records
deleg_setup "pvtdeleg ALL=(root) NOPASSWD: /bin/sh # Ansible's become runs a shell"

mkdir -p "$W/home" "$W/ltmp" "$W/library" "$W/play" "$W/out"
chown "$DELEG" "$W/out" # the results are saved as pvtdeleg
start_sshd pvtdeleg >"$W/sshd-start.log" 2>&1
if [ -z "$SSHD_PID" ]; then
    cat "$W/sshd-start.log"
    exit 1
fi
ln -s "$PVETMPL" "$W/library/pvetmpl" # the module as a user installs it
ln -s "$W/library" "$W/play/library"
cat >"$W/inv.ini" <<INV
node ansible_host=127.0.0.1 ansible_port=$PORT ansible_user=pvtdeleg ansible_ssh_private_key_file=$W/ssh/client_ed25519 ansible_remote_tmp=$TMPROOT/home/pvtdeleg/.ansible/tmp ansible_python_interpreter=/usr/bin/python3
INV
ansible_env
PLAY_OUT=$W/out

# No `config:`: a delegated run uses the system configuration only. Every
# pvetmpl task is `become: true` but one; the others run as pvtdeleg.
cat >"$W/play/become.yml" <<YML
- hosts: node
  gather_facts: false
  tasks:
    - name: NEWID outside target_vmids
      pvetmpl: {source: 100, vmid: 9100, storage: local-lvm, name: tmpl-far}
      become: true
      register: far
      ignore_errors: true
    - name: another storage
      pvetmpl: {source: 100, vmid: 9000, storage: local, name: tmpl-local}
      become: true
      register: storage
      ignore_errors: true
    - name: replace_hook, not granted
      pvetmpl: {source: 100, vmid: 9000, storage: local-lvm, name: tmpl-rh, replace_hook: true}
      become: true
      register: replacehook
      ignore_errors: true
    - name: check mode, outside the grant
      pvetmpl: {source: 100, vmid: 10000, storage: local-lvm, name: tmpl-checkno}
      become: true
      check_mode: true
      register: checkdenied
      ignore_errors: true
    - name: config, not for a delegated caller
      pvetmpl: {source: 100, vmid: 9000, storage: local-lvm, config: /etc/shadow}
      become: true
      register: config
      ignore_errors: true
    - name: without become
      pvetmpl: {source: 100, vmid: 9000, storage: local-lvm, name: tmpl-nobecome}
      register: nobecome
      ignore_errors: true
    - name: the README's command form, outside the grant
      ansible.builtin.command:
        argv: [sudo, -n, $BIN, --json, make-template, "100", "9100", --storage, local-lvm, --name, tmpl-cmdfar]
      register: cmdfar
      ignore_errors: true
      changed_when: false
      failed_when: (cmdfar.stdout | from_json).failed
    - name: the node's calls so far
      ansible.builtin.shell: cat $S/calls.log 2>/dev/null | wc -l
      register: callsbefore
      ignore_errors: true
    - name: check mode, inside the grant
      pvetmpl: {source: 100, vmid: 9001, storage: local-lvm, name: tmpl-checkok}
      become: true
      check_mode: true
      register: checkallowed
      ignore_errors: true
    - name: inside the grant
      pvetmpl: {source: 100, vmid: 9000, storage: local-lvm, pool: tmpl, name: tmpl-ans}
      become: true
      register: allowed
      ignore_errors: true
    - name: the README's command form through the narrow sudoers rule
      ansible.builtin.command:
        argv: [sudo, -n, $BIN, --json, make-template, "199", "9002", --storage, local-lvm, --name, tmpl-cmd]
      register: cmd
      ignore_errors: true
      changed_when: (cmd.stdout | from_json).changed
      failed_when: (cmd.stdout | from_json).failed
YML
playbook become far storage replacehook checkdenied config nobecome cmdfar callsbefore \
    checkallowed allowed cmd --

result() { # NAME: the registered result NAME, as JSON
    jq --arg t "$1" '.[$t]' "$W/out/become.json"
}

# denied NAME WANT-MSG: the task failed with 77 and the grant's reason
denied() {
    result "$1" >r.json
    assert_eq true "$(jq .failed r.json)" "$1 failed"
    assert_eq false "$(jq .changed r.json)"
    assert_eq 77 "$(jq .rc r.json)" "$1's rc"
    assert_eq "$2" "$(jq -r .msg r.json)" "$1's msg"
}

t_played() {
    assert_eq 0 "$(cat "$W/become.rc")" "ansible-playbook exit code; stderr: $(cat "$W/become.err")"
    assert_grep 'Accepted publickey for pvtdeleg ' "$W/ssh/sshd.log"
    assert_no_grep 'for root ' "$W/ssh/sshd.log"
}

t_denied() {
    # none of them (nor the check mode's, the config's and the unbecome
    # run's below) made a single qm or pvesm call: all ran before any call
    assert_eq 0 "$(result callsbefore | jq -r .stdout)" "qm/pvesm calls of the refused tasks"
    denied far \
        "user 'pvtdeleg': grant 'ops' does not allow new VMID 9100 (target_vmids: 9000-9099)"
    denied storage \
        "user 'pvtdeleg': grant 'ops' does not allow --storage 'local' (storages: local-lvm)"
    denied replacehook \
        "user 'pvtdeleg': grant 'ops' does not allow --replace-hook (allow_replace_hook is not set)"
    # the command form, through the README's sudoers line: the same grant
    result cmdfar >c.json
    assert_eq true "$(jq .failed c.json)" "cmdfar failed"
    assert_eq 77 "$(jq .rc c.json)" "sudo pvetmpl's exit code"
    assert_eq "user 'pvtdeleg': grant 'ops' does not allow new VMID 9100 (target_vmids: 9000-9099)" \
        "$(jq -r .stdout c.json | jq -r .error.detail)"
}

t_check_mode() {
    denied checkdenied \
        "user 'pvtdeleg': grant 'ops' does not allow new VMID 10000 (target_vmids: 9000-9099)"
    result checkallowed >r.json
    assert_eq false "$(jq '.failed // false' r.json)"
    assert_eq true "$(jq .changed r.json)" "a real run would change the node"
    assert_eq true "$(jq .dry_run r.json)"
    assert_eq ops "$(jq -r .grant r.json)" "the grant that would allow it"
    expect_rc 2 "$S/bin/qm" config 9001
    jq -r '"\(.argv | join(" "))"' <(grep '"mutating":true' "$S/calls.log") >mutating
    assert_no_grep ' 9001( |$)' mutating
}

t_refused_before_policy() {
    result config >c.json
    assert_eq 64 "$(jq .rc c.json)"
    jq -r .msg c.json >msg
    assert_grep "^-c/--config is refused: a run for a caller other than root \(user pvtdeleg, through sudo\)" msg
    assert_no_grep 'root:' msg
    result nobecome >n.json
    assert_eq true "$(jq .failed n.json)"
    assert_eq 77 "$(jq .rc n.json)"
    assert_eq "pvetmpl make-template must run as root, not as uid $DELEG" "$(jq -r .msg n.json)"
}

t_allowed() {
    result allowed >r.json
    assert_eq false "$(jq '.failed // false' r.json)"
    assert_eq true "$(jq .changed r.json)"
    assert_eq 0 "$(jq .rc r.json)"
    assert_eq 9000 "$(jq .vmid r.json)"
    assert_eq ops "$(jq -r .grant r.json)"
    sim_qm config 9000 >cf
    assert_grep '^template: 1$' cf
    assert_grep '^name: tmpl-ans$' cf
    # the command form, through the README's sudoers line
    result cmd >c.json
    assert_eq true "$(jq .changed c.json)"
    sim_qm config 9002 >cf2
    assert_grep '^name: tmpl-cmd$' cf2
}

t_journal() {
    journalctl --sync
    journal_since -o json SYSLOG_IDENTIFIER=pvetmpl \
        PVETMPL_ACTION=make-template >all.json
    # the allowed run: who connected, the grant, the front end, as root
    jq -c 'select(.PVETMPL_NAME == "tmpl-ans" and .PVETMPL_RESULT == "succeeded")' all.json >ok.json
    assert_eq "1" "$(grep -c . ok.json)" "one succeeded record"
    assert_eq "pvtdeleg ops ansible 0 9000" \
        "$(jq -r '"\(.PVETMPL_USER) \(.PVETMPL_POLICY) \(.PVETMPL_FRONTEND) \(._UID) \(.PVETMPL_VMID)"' ok.json)"
    jq -c 'select(.PVETMPL_NAME == "tmpl-checkok")' all.json >dry.json
    assert_eq "dry-run pvtdeleg ops ansible" \
        "$(jq -r '"\(.PVETMPL_RESULT) \(.PVETMPL_USER) \(.PVETMPL_POLICY) \(.PVETMPL_FRONTEND)"' dry.json)"
    jq -c 'select(.PVETMPL_NAME == "tmpl-cmd" and .PVETMPL_RESULT == "succeeded")' all.json >cmd.json
    assert_eq "pvtdeleg ops cli" \
        "$(jq -r '"\(.PVETMPL_USER) \(.PVETMPL_POLICY) \(.PVETMPL_FRONTEND)"' cmd.json)"
    # every refusal through sudo, in order, with who, which grant and why
    journal_since -o json MESSAGE_ID=$DENIED_ID _UID=0 >d.json
    jq -r '"\(.PVETMPL_USER) \(.PVETMPL_FRONTEND) \(.PVETMPL_EXIT) \(.PVETMPL_POLICY_FIELD) \(.PVETMPL_VMID)"' \
        d.json >got
    assert_file_eq got "pvtdeleg ansible 77 target_vmids 9100
pvtdeleg ansible 77 storages 9000
pvtdeleg ansible 77 allow_replace_hook 9000
pvtdeleg ansible 77 target_vmids 10000
pvtdeleg ansible 64 usage 9000
pvtdeleg cli 77 target_vmids 9100
"
    assert_eq "ops" "$(jq -r -s '.[0].PVETMPL_POLICY' d.json)"
    assert_eq "user 'pvtdeleg': grant 'ops' does not allow new VMID 9100 (target_vmids: 9000-9099)" \
        "$(jq -r -s '.[0].PVETMPL_ERROR' d.json)"
}

t_check "the play ran as pvtdeleg, who logged in with its own key" t_played
t_check "become and sudo pvetmpl through command: outside the grant, 77, the grant's reason, no qm call" t_denied
t_check "become + check mode: says whether the grant would allow it" t_check_mode
t_check "config refused (64); without become: not root (77)" t_refused_before_policy
t_check "become: inside the grant runs; so does sudo pvetmpl through command" t_allowed
t_check "journal: user, grant and front end of each run and each refusal" t_journal
stop_sshd
t_done
