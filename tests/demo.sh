#!/bin/bash
# make demo: builds nothing itself (make does), creates a throw-away simulated
# Proxmox node and runs pvetmpl's main job on it. As root it runs inside a
# private journald (tests/with-journald.sh) so the audit trail is real and the
# host's journal is untouched.
set -u
cd "$(dirname "$0")/.."
top=$PWD
if [ "$(id -u)" = 0 ] && [ "${_PVETMPL_IN_JNS:-}" != 1 ]; then
    exec tests/with-journald.sh "$0" "$@"
fi
demo=$(mktemp -d /tmp/pvetmpl-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
node=$demo/node
tests/pvesim/pvesim init "$node" >/dev/null
# A real qm is Perl and takes a moment to start; copies take time.
tests/pvesim/pvesim "$node" knob PVESIM_LATENCY_MS=150 >/dev/null
tests/pvesim/pvesim "$node" knob PVESIM_COPY_MIBPS=16000 >/dev/null
cat >"$demo/pvetmpl.conf" <<CONF
qm = "$node/bin/qm"
pvesm = "$node/bin/pvesm"
vmlist = "$node/etc/pve/.vmlist"
pve_dir = "$node/etc/pve"
node = "pve"
run_dir = "$demo/run"
hook_binary = "$top/build/pvetmpl-hook"
CONF
export PVETMPL_CONFIG=$demo/pvetmpl.conf
# Proxmox runs the hook with a bare environment; it finds its settings in
# <hook>.conf beside itself (on a real node /etc/pve needs no setting at all).
mkdir -p "$node/var/lib/vz/snippets"
printf 'pve_dir = "%s"\nnode = "pve"\n' "$node/etc/pve" >"$node/var/lib/vz/snippets/pvetmpl-hook.conf"
pvetmpl=$top/build/pvetmpl
qm=$node/bin/qm

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() {
    step "$*"
    "$@"
    echo "(exit $?)"
}

echo "A simulated Proxmox VE node 'pve' in $node (removed at the end)."
run "$pvetmpl" storages
run "$qm" list
run "$pvetmpl" check 100
run "$pvetmpl" make-template 100 9000 --name ubuntu-server-template-22.04
run "$qm" config 9000
echo
echo "Running it again changes nothing:"
run "$pvetmpl" make-template 100 9000 --name ubuntu-server-template-22.04
echo
echo "A plain-LVM storage cannot hold templates (qm template would skip its disks silently):"
run "$pvetmpl" make-template 100 9001 --storage lvm-thick
echo
echo "Deploy a VM from the template; it inherits the hookscript:"
run "$pvetmpl" clone 9000 9100 --linked --name web01
run "$qm" start 9100
run "$qm" stop 9100
if [ "${PVETMPL_TEST_JOURNALD:-}" = 1 ]; then
    echo
    echo "The audit trail (from a private systemd-journald):"
    run "$pvetmpl" audit --vmid 9000
    step journalctl -o verbose SYSLOG_IDENTIFIER=pvetmpl-hook PVETMPL_VMID=9100 "| grep PVETMPL_"
    journalctl --no-pager -o verbose SYSLOG_IDENTIFIER=pvetmpl-hook PVETMPL_VMID=9100 | grep -E '^\s+(MESSAGE|PVETMPL_[A-Z_]+)=' | head -n 20
else
    echo
    echo "(run 'make demo' as root to see the audit trail in a private journald)"
fi
echo
echo "Every template of the cluster, the one made above among them:"
run "$pvetmpl" list
