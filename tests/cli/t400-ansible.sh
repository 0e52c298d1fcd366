#!/bin/bash
# Ansible for real: ansible-playbook (Debian's ansible-core) drives pvetmpl as
# a binary module over SSH to a private sshd on 127.0.0.1, with the simulated
# node on the remote side (this machine) and the module's records in this
# suite's journald. Recipe: ../shared/reference/test-env.md §3.
#
# ansible-playbook starts slowly (2-3 s), so the playbooks run first, once,
# with the JSON callback; the checks below read their results.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"
. "$TOP/tests/cli/lib-ansible.sh"

W=$TMPROOT/ansible
trap 'stop_sshd; rm -rf "$TMPROOT"' EXIT

why_skip=
if [ "$(id -u)" != 0 ]; then
    why_skip="needs root (sshd, the simulated node's qm)"
elif [ "${PVETMPL_TEST_JOURNALD:-}" != 1 ]; then
    why_skip="needs the test journald (tests/run.sh runs it as root)"
elif ! command -v ansible-playbook >/dev/null || ! [ -x /usr/sbin/sshd ]; then
    why_skip="needs ansible-core and openssh-server (make deps)"
fi
if [ -n "$why_skip" ]; then
    for t in "first run changes, second does not" "check mode" "diff" "refused precondition" \
        "lock retried by until" "unknown parameter, bad VMID" "ansible.builtin.command" \
        "journal" "examples" "module protocol" "ansible-doc"; do
        t_skip "$t" "$why_skip"
    done
    t_done
    exit
fi

mkdir -p "$W/home" "$W/ltmp" "$W/rtmp" "$W/library" "$W/play"
start_sshd root >"$W/sshd-start.log" 2>&1
if [ -z "$SSHD_PID" ]; then
    cat "$W/sshd-start.log"
    exit 1
fi
# The module as a user installs it: the binary symlinked as library/pvetmpl,
# beside its documentation sidecar.
ln -s "$PVETMPL" "$W/library/pvetmpl"
ln -s "$TOP/ansible/library/pvetmpl.yml" "$W/library/pvetmpl.yml"
ln -s "$W/library" "$W/play/library"
cat >"$W/inv.ini" <<INV
node ansible_host=127.0.0.1 ansible_port=$PORT ansible_user=root ansible_ssh_private_key_file=$W/ssh/client_ed25519 ansible_remote_tmp=$W/rtmp ansible_python_interpreter=/usr/bin/python3
INV
ansible_env
unset PVETMPL_CONFIG

# ans_node NAME [sim_setup options]: a simulated node set up as every CLI test
# sets one up (sim_setup), in $W/NAME; its config path is $W/NAME/pvetmpl.conf.
ans_node() {
    local name=$1
    shift
    T=$W/$name
    mkdir -p "$T"
    sim_setup "$@"
    unset PVETMPL_CONFIG
}
# calls_of NAME [--mutating]: the qm/pvesm calls the node NAME recorded.
calls_of() {
    S=$W/$1/node
    if [ "${2:-}" = --mutating ]; then
        sim_mutating_calls
    else
        sim_calls
    fi
}

# 1. check mode and diff on a fresh VMID: nothing may change on the node
ans_node check
playbook_vars="conf_check=$W/check/pvetmpl.conf"
cat >"$W/play/check.yml" <<'YML'
- hosts: node
  gather_facts: false
  tasks:
    - name: make-template in check mode
      pvetmpl: {source: 100, vmid: 9000, name: tmpl-check, config: "{{ conf_check }}"}
      register: checked
YML
playbook check checked -- --check --diff -e "$playbook_vars"

# 2. one playbook for the rest, each task on a node of its own: the real run,
# then the same task again (with --diff); a running source; an unknown
# parameter and a bad VMID (no qm call at all); a lock that goes away after
# one clone attempt (the simulator's fault counter), retried by `until:`;
# and the README's ansible.builtin.command task
ans_node main
ans_node refused
"$PVESIM" "$W/refused/node" set-status 100 running
ans_node bad
ans_node lock
"$PVESIM" "$W/lock/node" knob PVESIM_FAULT=lock-timeout
"$PVESIM" "$W/lock/node" knob PVESIM_FAULT_CMD="qm clone"
"$PVESIM" "$W/lock/node" knob PVESIM_FAULT_COUNT=1
ans_node cmd
mkdir -p "$W/bin"
ln -s "$PVETMPL" "$W/bin/pvetmpl"
cat >"$W/play/main.yml" <<'YML'
- hosts: node
  gather_facts: false
  tasks:
    - name: first
      pvetmpl: {source: 100, vmid: 9000, name: tmpl-main, config: "{{ base }}/main/pvetmpl.conf"}
      register: first
    - name: second
      pvetmpl: {source: "100", vmid: "9000", name: tmpl-main, config: "{{ base }}/main/pvetmpl.conf", hook: "yes"}
      register: second
    - name: running source
      pvetmpl: {source: 100, vmid: 9000, name: t400-refused, config: "{{ base }}/refused/pvetmpl.conf"}
      register: refused
      ignore_errors: true
    - name: unknown parameter
      pvetmpl: {source: 100, vmid: 9000, full: true, config: "{{ base }}/bad/pvetmpl.conf"}
      register: unknown
      ignore_errors: true
    - name: bad vmid
      pvetmpl: {source: 100, vmid: 99, config: "{{ base }}/bad/pvetmpl.conf"}
      register: badvmid
      ignore_errors: true
    - name: locked
      pvetmpl: {source: 100, vmid: 9000, name: t400-lock, lock_wait: 0, config: "{{ base }}/lock/pvetmpl.conf"}
      register: tmpl
      until: tmpl is succeeded or not tmpl.retryable
      retries: 3
      delay: 0
    - name: command
      ansible.builtin.command:
        argv: [pvetmpl, --json, make-template, "100", "9000", --name, t400-cli]
      environment:
        PATH: "{{ base }}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        PVETMPL_CONFIG: "{{ base }}/cmd/pvetmpl.conf"
      register: cli
      changed_when: (cli.stdout | from_json).changed
      failed_when: (cli.stdout | from_json).failed
YML
playbook main first second refused unknown badvmid tmpl cli -- --diff -e "base=$W"

# result NAME [PLAYBOOK]: the registered result NAME, as JSON
result() {
    jq --arg t "$1" '.[$t]' "$W/${2:-main}.json"
}

t_first_then_unchanged() {
    T=$W/main
    assert_eq 0 "$(cat "$W/main.rc")" "ansible-playbook exit code; stderr: $(cat "$W/main.err")"
    result first >first.json
    result second >second.json
    assert_eq true "$(jq .changed first.json)"
    assert_eq 9000 "$(jq .vmid first.json)"
    assert_eq 0 "$(jq .rc first.json)"
    assert_eq make-template "$(jq -r .action first.json)"
    assert_eq false "$(jq .changed second.json)"
    assert_eq false "$(jq '.failed // false' second.json)"
    assert_eq 9000 "$(jq .vmid second.json)" "the target VMID again, not the source's"
    # the template exists in the simulator, as asked
    S=$W/main/node
    sim_qm config 9000 >cf
    assert_grep '^template: 1$' cf
    assert_grep '^name: tmpl-main$' cf
}

t_check_mode() {
    T=$W/check
    assert_eq 0 "$(cat "$W/check.rc")" "ansible-playbook exit code; stderr: $(cat "$W/check.err")"
    result checked check >r.json
    assert_eq 0 "$(calls_of check --mutating)" "state-changing calls in check mode"
    assert_eq true "$(jq .changed r.json)" "a real run would change the node"
    assert_eq true "$(jq .dry_run r.json)"
    assert_eq "$W/check/node/bin/qm clone 100 9000 --full 1 --name tmpl-check" \
        "$(jq -r '.commands[0] | join(" ")' r.json)" "the plan"
    assert_eq "$W/check/node/bin/qm template 9000" "$(jq -r '.commands[-1] | join(" ")' r.json)"
    expect_rc 2 "$W/check/node/bin/qm" config 9000
    assert_grep 'does not exist' "$T/err"
}

t_diff() {
    T=$W/main
    result checked check >c.json
    assert_eq absent "$(jq -r .diff.before.state c.json)"
    assert_eq true "$(jq .diff.after.template c.json)"
    assert_eq tmpl-check "$(jq -r .diff.after.name c.json)"
    assert_eq false "$(jq '.diff.after | has("disks")' c.json)" "a dry run cannot know them"
    result first >first.json
    assert_eq '{"state":"absent","vmid":9000}' "$(jq -cS .diff.before first.json)"
    assert_eq '{"disks":["ide2","scsi0"],"name":"tmpl-main","state":"present","storage":"local-lvm","template":true,"vmid":9000}' \
        "$(jq -cS .diff.after first.json)"
    result second >second.json
    assert_eq "$(jq -c .diff.after second.json)" "$(jq -c .diff.before second.json)" "no change"
}

t_refused() {
    T=$W/refused
    result refused >r.json
    assert_eq true "$(jq .failed r.json)"
    assert_eq false "$(jq .changed r.json)"
    assert_eq 69 "$(jq .rc r.json)"
    assert_eq false "$(jq .retryable r.json)"
    jq -r .msg r.json >msg
    assert_grep 'running' msg
    assert_eq 0 "$(calls_of refused --mutating)" "state-changing calls"
}

t_lock_retried() {
    T=$W/lock
    result tmpl >r.json
    assert_eq 2 "$(jq .attempts r.json)" "the first attempt hit the lock, the second passed"
    assert_eq true "$(jq .changed r.json)"
    assert_eq false "$(jq '.failed // false' r.json)"
    S=$W/lock/node
    sim_qm config 9000 >cf
    assert_grep '^template: 1$' cf
}

t_usage_errors() {
    T=$W/bad
    result unknown >u.json
    assert_eq true "$(jq .failed u.json)"
    assert_eq 'Unsupported parameters for (pvetmpl) module: full. Supported parameters include: bwlimit, config, description, disk, format, hook, linked, lock_wait, name, pool, replace_hook, snapname, source, state, storage, target, timeout, vmid.' \
        "$(jq -r .msg u.json)"
    assert_eq 64 "$(jq .rc u.json)"
    result badvmid >v.json
    assert_eq true "$(jq .failed v.json)"
    assert_eq 64 "$(jq .rc v.json)"
    jq -r .msg v.json >msg
    assert_grep "'99'" msg
    assert_eq 0 "$(calls_of bad)" "qm/pvesm calls"
}

t_command_task() {
    T=$W/cmd
    result cli >r.json
    assert_eq true "$(jq .changed r.json)"
    assert_eq false "$(jq .failed r.json)"
    S=$W/cmd/node
    sim_qm config 9000 >cf
    assert_grep '^name: t400-cli$' cf
}

t_journal() {
    journalctl --sync
    journalctl -D "$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=pvetmpl \
        PVETMPL_ACTION=make-template >all.json
    # the module's runs: the first real run of main, under the ssh user
    jq -c "select(.PVETMPL_NAME == \"tmpl-main\" and .PVETMPL_RESULT == \"succeeded\")" \
        all.json >ok.json
    assert_eq 1 "$(grep -c . ok.json)" "one succeeded record of the module's run"
    assert_eq ansible "$(jq -r .PVETMPL_FRONTEND ok.json)"
    assert_eq root "$(jq -r .PVETMPL_USER ok.json)" "the user who connected"
    assert_eq 9000 "$(jq -r .PVETMPL_VMID ok.json)"
    # check mode is journalled as a dry run, through the module too
    jq -c 'select(.PVETMPL_NAME == "tmpl-check")' all.json >dry.json
    assert_eq "dry-run ansible" "$(jq -r '.PVETMPL_RESULT + " " + .PVETMPL_FRONTEND' dry.json)"
    # the refusal, and the command line's run (through ansible.builtin.command)
    jq -c 'select(.PVETMPL_NAME == "t400-refused" and .PVETMPL_RESULT == "refused")' all.json >refused.json
    assert_eq 1 "$(grep -c . refused.json)" "one refused record"
    assert_eq ansible "$(jq -r .PVETMPL_FRONTEND refused.json)"
    jq -c 'select(.PVETMPL_NAME == "t400-cli" and .PVETMPL_RESULT == "succeeded")' all.json >cli.json
    assert_eq 1 "$(grep -c . cli.json)" "one succeeded record of the command line's run"
    assert_eq cli "$(jq -r .PVETMPL_FRONTEND cli.json)"
}

# The binary as Ansible runs it, without Ansible (whose action plugin drops
# invocation.module_args from every result, plugins/action/normal.py):
# `pvetmpl PATH` with PATH a regular file holding a '/' is the module; a
# command's name stays a command even when such a file exists.
t_module_protocol() {
    sim_setup
    unset PVETMPL_CONFIG
    printf '{"source": "100", "vmid": 9000, "config": "%s", "_ansible_check_mode": true, "_ansible_no_log": false}' \
        "$T/pvetmpl.conf" >args
    expect_rc 0 "$PVETMPL" "$T/args"
    assert_eq 1 "$(jq -s length "$T/out")" "exactly one JSON object"
    assert_eq 9000 "$(json_get .invocation.module_args.vmid)"
    assert_eq 100 "$(json_get .invocation.module_args.source)" "a number, given as a string"
    assert_eq true "$(json_get .invocation.module_args.hook)" "the default"
    assert_eq true "$(json_get .changed)"
    assert_eq 0 "$(sim_mutating_calls)"
    printf '{"vmid": 9000, "config": "%s"}' "$T/pvetmpl.conf" >bad
    expect_rc 1 "$PVETMPL" ./bad
    assert_eq 'state is template but all of the following are missing: source' "$(json_get .msg)"
    assert_eq 64 "$(json_get .rc)"
    # arguments that are not one JSON object: still one JSON object back
    : >empty
    expect_rc 1 "$PVETMPL" ./empty
    assert_eq 1 "$(jq -s length "$T/out")" "exactly one JSON object"
    assert_eq "the module arguments './empty' are not one JSON object: empty, or cut short" \
        "$(json_get .msg)"
    printf '{"vmid": 9000} {}' >junk
    expect_rc 1 "$PVETMPL" ./junk
    assert_eq "the module arguments './junk' are not one JSON object: unexpected character" \
        "$(json_get .msg)"
    assert_eq 64 "$(json_get .rc)"
    # a file named as a command does not make the command a module run
    cp args storages
    expect_rc 0 "$PVETMPL" -c "$T/pvetmpl.conf" storages
    assert_grep 'local-lvm' "$T/out"
}

t_ansible_doc() {
    expect_rc 0 ansible-doc -M "$W/library" pvetmpl
    assert_grep '^> PVETMPL ' "$T/out"
    assert_grep 'choices: \[template, cloned, converted\]' "$T/out"
    assert_grep 'retryable' "$T/out"
    assert_no_grep 'WARNING|ERROR' "$T/err"
}

t_check "first run changes, second does not, same vmid" t_first_then_unchanged
t_check "check mode: the plan, changed, no state change" t_check_mode
t_check "diff: before absent, after the template" t_diff
t_check "refused precondition fails with the reason, nothing changed" t_refused
t_check "lock retried by until, then done" t_lock_retried
t_check "unknown parameter, bad VMID: Ansible's message, no qm call" t_usage_errors
t_check "README's ansible.builtin.command task" t_command_task
t_check "journal: the module's records, frontend and user" t_journal
t_examples() {
    expect_rc 0 ansible-playbook --syntax-check -i "$TOP/ansible/inventory.ini" "$TOP/ansible/playbook.yml"
    expect_rc 0 ansible-inventory -i "$TOP/ansible/inventory.ini" --list
    assert_grep 'pve1.example.org' "$T/out"
}

t_check "the example playbook and inventory parse" t_examples
t_check "the module protocol: pvetmpl ARGS-FILE, one JSON object" t_module_protocol
t_check "ansible-doc renders the sidecar" t_ansible_doc
stop_sshd
SSHD_PID=
t_done
