#!/bin/bash
# Fidelity tests of the simulated PVE node (tests/pvesim): every string, stream and
# exit code asserted here comes from /work/shared/reference/pve-interface.md (or the
# upstream source it cites), so tests written against the simulator stay honest.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

# sim [init args]: fresh state dir $S with launchers $QM / $PVESM
sim() {
    S=$T/s
    "$PVESIM" init "$S" "$@" >/dev/null
    QM=$S/bin/qm
    PVESM=$S/bin/pvesm
}
knob() { "$PVESIM" "$S" knob "$@"; }
hook() { # hook NAME BODY: executable snippet in local storage
    printf '#!/bin/sh\n%s\n' "$2" >"$S/var/lib/vz/snippets/$1"
    chmod 755 "$S/var/lib/vz/snippets/$1"
}

# ------------------------------------------------------------------ setup CLI / state

t_init_layout() {
    sim
    [ -x "$QM" ] && [ -x "$PVESM" ]
    assert_grep "^exec perl '.*/tests/pvesim/sim.pl' '$S' qm \"\\\$@\"$" "$QM"
    assert_grep $'^\tpath '"$S"'/var/lib/vz$' "$S/etc/pve/storage.cfg"
    assert_grep $'^\tdisable$' "$S/etc/pve/storage.cfg"
    for d in var/lib/vz/snippets mnt/tmpl mnt/pve/nfs-shared mnt/pve/cephfs; do [ -d "$S/$d" ]; done
    c=$S/etc/pve/nodes/pve/qemu-server/100.conf
    assert_grep '^scsi0: local-lvm:vm-100-disk-0,iothread=1,size=32G$' "$c"
    assert_grep '^ide2: local-lvm:vm-100-cloudinit,media=cdrom$' "$c"
    assert_grep '^name: ubuntu-server-22.04$' "$c"
    assert_grep '^memory: 2048$' "$c"
    assert_grep '^net0: virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0' "$c"
    grep -E '^[a-z]' "$c" | cut -d: -f1 | LC_ALL=C sort -c
    [ -f "$S/volumes/local-lvm/vm-100-disk-0" ]
}
t_check "pvesim init: stock scenario, TAB-indented storage.cfg, launchers, VM 100" t_init_layout

t_vmlist_bytes() {
    sim --other-node pve2
    "$PVESIM" "$S" add-vm 105 --node pve2 --name other --disk scsi0=nfs-shared:4G
    assert_file_eq "$S/etc/pve/.vmlist" '{
"version": 3,
"ids": {
"100": { "node": "pve", "type": "qemu", "version": 1 },
"105": { "node": "pve2", "type": "qemu", "version": 1 }}

}
'
    perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit($j->{ids}{105}{node} eq "pve2" ? 0 : 1)' <"$S/etc/pve/.vmlist"
    [ -f "$S/etc/pve/nodes/pve2/qemu-server/105.conf" ]
    # a guest on another node is not local: qm status fails like on a real node
    expect_rc 2 "$QM" status 105
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/105.conf' does not exist
"
    # qm list shows only local guests
    expect_rc 0 "$QM" list
    assert_no_grep ' 105 ' "$T/out"
}
t_check ".vmlist: byte-exact pmxcfs shape, other nodes' guests included" t_vmlist_bytes

t_vmlist_empty() {
    sim --bare
    assert_file_eq "$S/etc/pve/.vmlist" '{
"version": 1

}
'
    expect_rc 0 "$QM" list
    assert_file_eq "$T/out" ''
    assert_file_eq "$T/err" ''
}
t_check ".vmlist of an empty cluster; qm list prints nothing at all" t_vmlist_empty

t_vmlist_versions() {
    sim
    "$PVESIM" "$S" add-vm 101 --disk scsi0=local-lvm:2G
    v0=$(sed -n 's/^"version": \([0-9]*\),$/\1/p' "$S/etc/pve/.vmlist")
    expect_rc 0 "$QM" set 101 --delete hookscript
    assert_grep '^"101": \{ "node": "pve", "type": "qemu", "version": 2 \}\}$' "$S/etc/pve/.vmlist"
    assert_grep "^\"version\": $v0,$" "$S/etc/pve/.vmlist"
    expect_rc 0 "$QM" destroy 101
    assert_grep "^\"version\": $((v0 + 1)),$" "$S/etc/pve/.vmlist"
    assert_no_grep '"101"' "$S/etc/pve/.vmlist"
}
t_check ".vmlist versions: per-ID on config writes, top-level on add/remove" t_vmlist_versions

# ------------------------------------------------------------------ qm status / config / list

t_status() {
    sim
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: stopped
'
    "$PVESIM" "$S" set-status 100 paused
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: paused
'
    "$PVESIM" "$S" set-status 100 running
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: running
'
    expect_rc 2 "$QM" status 4242
    assert_file_eq "$T/out" ''
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist
"
    expect_rc 255 "$QM" status 99
    assert_file_eq "$T/err" '400 Parameter verification failed.
vmid: invalid format - value does not look like a valid VM ID

qm status <vmid> [OPTIONS]
'
    expect_rc 255 "$QM" status abc
    assert_file_eq "$T/err" "400 Parameter verification failed.
vmid: type check ('integer') failed - got 'abc'
qm status <vmid> [OPTIONS]
"
    expect_rc 255 "$QM" status
    assert_file_eq "$T/err" '400 not enough arguments
qm status <vmid> [OPTIONS]
'
    expect_rc 255 "$QM" status 100 101
    assert_file_eq "$T/err" '400 too many arguments
qm status <vmid> [OPTIONS]
'
}
t_check "qm status: states, missing VM (exit 2), parameter errors" t_status

t_status_verbose() {
    sim
    "$PVESIM" "$S" add-vm 9000 --name tmpl --disk scsi0=local-lvm:8G --template --lock backup --tags 'a;b'
    expect_rc 0 "$QM" status 9000 --verbose
    assert_grep '^status: stopped$' "$T/out"
    assert_grep '^template: 1$' "$T/out"
    assert_grep '^lock: backup$' "$T/out"
    assert_grep '^name: tmpl$' "$T/out"
    assert_grep '^tags: a;b$' "$T/out"
    assert_grep '^maxdisk: 8589934592$' "$T/out"
    assert_no_grep '^(cpu|relcpu):' "$T/out"
    cut -d: -f1 "$T/out" | LC_ALL=C sort -c
    expect_rc 0 "$QM" status 9000
    assert_file_eq "$T/out" 'status: stopped
'
    "$PVESIM" "$S" set-status 100 running
    expect_rc 0 "$QM" status 100 --verbose
    assert_grep '^qmpstatus: running$' "$T/out"
    assert_grep '^pid: [0-9]+$' "$T/out"
    assert_grep '^ballooninfo:$' "$T/out"
    assert_grep $'^\tactual: 2147483648$' "$T/out"
    assert_grep $'^blockstat:$' "$T/out"
    assert_grep $'^\t\taccount_failed: 1$' "$T/out"
    grep -v $'^\t' "$T/out" | cut -d: -f1 | LC_ALL=C sort -c
}
t_check "qm status --verbose: sorted keys, template/lock/name, TAB-nested hashes" t_status_verbose

t_config() {
    sim
    "$PVESIM" "$S" add-vm 120 --name web01 --disk scsi0=local-lvm:16G --description $'line one\nurl: http://x %ok' \
        --snapshot first --snapshot second --hookscript local:snippets/h
    raw=$S/etc/pve/nodes/pve/qemu-server/120.conf
    assert_grep '^#line one$' "$raw"
    assert_grep '^#url%3A http%3A//x %25ok$' "$raw"
    assert_grep '^\[first\]$' "$raw"
    assert_grep '^\[second\]$' "$raw"
    assert_grep '^snaptime: ' "$raw"
    expect_rc 0 "$QM" config 120
    assert_grep '^description: line one%0Aurl%3A http%3A//x %25ok$' "$T/out"
    assert_grep '^parent: second$' "$T/out"
    assert_grep '^hookscript: local:snippets/h$' "$T/out"
    assert_no_grep '^\[|^snaptime|^digest' "$T/out"
    cut -d: -f1 "$T/out" | LC_ALL=C sort -c
    expect_rc 0 "$QM" config 120 --snapshot first
    assert_grep '^snaptime: [0-9]+$' "$T/out"
    assert_no_grep '^parent:' "$T/out"
    expect_rc 255 "$QM" config 120 --current --snapshot first
    assert_file_eq "$T/err" "400 Parameter verification failed.
current: cannot use 'snapshot' parameter with 'current'
snapshot: cannot use 'snapshot' parameter with 'current'
qm config <vmid> [OPTIONS]
"
    expect_rc 255 "$QM" config 120 --snapshot nosnap
    assert_file_eq "$T/err" "snapshot 'nosnap' does not exist
"
    # pending values are shown unless --current
    sed -i '/^\[first\]/,$d; /^parent:/d' "$raw"
    printf '\n[PENDING]\nmemory: 4096\n' >>"$raw"
    expect_rc 0 "$QM" config 120
    assert_grep '^memory: 4096$' "$T/out"
    expect_rc 0 "$QM" config 120 --current
    assert_grep '^memory: 2048$' "$T/out"
    expect_rc 0 "$QM" clone 120 122
    assert_grep "^found pending changes for 'memory', discarding for clone$" "$T/out"
    assert_no_grep 'PENDING' "$S/etc/pve/nodes/pve/qemu-server/122.conf"
    expect_rc 2 "$QM" config 121
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/121.conf' does not exist
"
}
t_check "qm config: sorted keys, encoded description, parent:, no sections" t_config

t_list() {
    sim
    "$PVESIM" "$S" add-vm 9000 --name tmpl-debian --memory 1024 --disk scsi0=local-lvm:8G --template
    "$PVESIM" "$S" add-vm 150 --name a-name-longer-than-twenty --disk virtio0=dir-tmpl:3584M
    "$PVESIM" "$S" add-vm 151 --name nodisk
    expect_rc 0 "$QM" list
    assert_file_eq "$T/out" '      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       
       100 ubuntu-server-22.04  stopped    2048              32.00 0         
       150 a-name-longer-than-twenty stopped    2048               3.50 0         
       151 nodisk               stopped    2048               0.00 0         
      9000 tmpl-debian          stopped    1024               8.00 0         
'
    "$PVESIM" "$S" set-status 100 paused
    expect_rc 0 "$QM" list
    assert_grep '^       100 ubuntu-server-22.04  running    2048              32.00 [1-9][0-9]* *$' "$T/out"
    expect_rc 0 "$QM" list --full
    assert_grep '^       100 ubuntu-server-22.04  paused     2048              32.00 [1-9][0-9]* *$' "$T/out"
}
t_check "qm list: exact printf layout, numeric order, --full shows QMP state" t_list

# ------------------------------------------------------------------ pvesm

PVESM_STOCK='Name              Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %
backup-pbs         pbs     active       491134172        50841936       440292236   10.35%
cephfs          cephfs     active       938764288          631808       938132480    0.07%
dir-tmpl           dir     active       163632896         2358016       161274880    1.44%
iscsi-san        iscsi     active               0               0               0    0.00%
local              dir     active        98497780        12345678        86152102   12.53%
local-lvm      lvmthin     active       365760512        34793095       330967417    9.51%
lvm-thick          lvm     active       488136704               0       488136704    0.00%
nfs-shared         nfs     active      1921725720       372365312      1549360408   19.38%
old-nfs            nfs   disabled               0               0               0      N/A
'

t_pvesm_status() {
    sim
    expect_rc 0 "$PVESM" status
    assert_file_eq "$T/out" "$PVESM_STOCK"
    expect_rc 0 "$PVESM" status --storage local-lvm
    assert_file_eq "$T/out" 'Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %
local-lvm     lvmthin     active       365760512        34793095       330967417    9.51%
'
    expect_rc 0 "$PVESM" status --content images
    assert_no_grep '^(old-nfs|cephfs|backup-pbs|local) ' "$T/out"
    assert_grep '^local-lvm ' "$T/out"
    expect_rc 0 "$PVESM" status --enabled
    assert_no_grep '^old-nfs ' "$T/out"
    expect_rc 0 "$PVESM" status --target pve
    expect_rc 255 "$PVESM" status --storage nosuch
    assert_file_eq "$T/out" ''
    assert_file_eq "$T/err" '400 Parameter verification failed.
storage: No such storage.
pvesm status  [OPTIONS]
'
    expect_rc 255 "$PVESM" status --storage old-nfs --content images
    assert_grep '^storage: No such storage\.$' "$T/err"
    # Status.pm 'index': "No such storage." only when storage_info (which applies --content)
    # lacks it; --enabled/--target filter later and leave just the header (W = 0 + 1)
    expect_rc 0 "$PVESM" status --storage old-nfs --enabled
    assert_file_eq "$T/out" 'Name       Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %
'
    assert_file_eq "$T/err" ''
    expect_rc 0 "$PVESM" status --storage local-lvm --target pve2
    assert_file_eq "$T/out" 'Name       Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %
'
    # used grows with allocated volumes
    expect_rc 0 "$QM" clone 100 101
    expect_rc 0 "$PVESM" status --storage local-lvm
    assert_grep '^local-lvm     lvmthin     active       365760512        68351623       297408889   18.69%$' "$T/out"
}
t_check "pvesm status: exact layout, W = longest listed ID + 1, filters, unknown storage" t_pvesm_status

t_pvesm_status_multinode() {
    sim --other-node pve2
    "$PVESIM" "$S" add-storage lvmthin only-pve2 thinpool=data vgname=pve2 content=images nodes=pve2
    expect_rc 0 "$PVESM" status --storage only-pve2
    assert_file_eq "$T/out" 'Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %
only-pve2     lvmthin   disabled               0               0               0      N/A
'
    "$PVESIM" "$S" add-storage nfs nfs-pve export=/e path="$S/mnt/nfs-pve" server=192.0.2.9 content=images nodes=pve
    "$PVESIM" "$S" add-storage nfs nfs-both export=/e path="$S/mnt/nfs-both" server=192.0.2.9 content=images nodes=pve,pve2
    "$PVESIM" "$S" add-storage nfs nfs-other export=/e path="$S/mnt/nfs-other" server=192.0.2.9 content=images nodes=pve2
    # --target (Status.pm 'index'): shared, and storage_check_node for the local node and
    # the target; 'disable' is not looked at (old-nfs stays, as a disabled row)
    expect_rc 0 "$PVESM" status --target pve2
    assert_file_eq "$T/out" 'Name              Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %
backup-pbs         pbs     active       491134172        50841936       440292236   10.35%
cephfs          cephfs     active       938764288          631808       938132480    0.07%
iscsi-san        iscsi     active               0               0               0    0.00%
nfs-both           nfs     active       104857600         1048576       103809024    1.00%
nfs-shared         nfs     active      1921725720       372365312      1549360408   19.38%
old-nfs            nfs   disabled               0               0               0      N/A
'
    assert_file_eq "$T/err" ''
    # a node that is not in the cluster is not an error: only the nodes lists count
    expect_rc 0 "$PVESM" status --target pve3
    assert_no_grep '^(nfs-pve|nfs-both|nfs-other|local|local-lvm) ' "$T/out"
    assert_grep '^old-nfs +nfs +disabled ' "$T/out"
    assert_file_eq "$T/err" ''
}
t_check "pvesm status: nodes list makes a storage disabled, --target keeps shared ones" t_pvesm_status_multinode

t_pvesm_path() {
    sim
    expect_rc 0 "$PVESM" path local:snippets/hook.sh
    assert_file_eq "$T/out" "$S/var/lib/vz/snippets/hook.sh
"
    expect_rc 0 "$PVESM" path local-lvm:vm-100-disk-0
    assert_file_eq "$T/out" '/dev/pve/vm-100-disk-0
'
    expect_rc 255 "$PVESM" path nosuch:snippets/x
    assert_file_eq "$T/err" "storage 'nosuch' does not exist
"
    # 'volume' has format pve-volume-id: a parameter error (validator message ends in \n)
    expect_rc 255 "$PVESM" path 'bad volume'
    assert_file_eq "$T/err" "400 Parameter verification failed.
volume: invalid format - unable to parse volume ID 'bad volume'

pvesm path <volume>
"
    expect_rc 0 "$PVESM" path dir-tmpl:300/base-300-disk-0.qcow2/301/vm-301-disk-0.qcow2
    assert_file_eq "$T/out" "$S/mnt/tmpl/images/301/vm-301-disk-0.qcow2
"
    expect_rc 0 "$PVESM" path local:iso/debian.ISO
    assert_file_eq "$T/out" "$S/var/lib/vz/template/iso/debian.ISO
"
    expect_rc 0 "$PVESM" path lvm-thick:vm-100-disk-3
    assert_file_eq "$T/out" '/dev/vmdata/vm-100-disk-3
'
    expect_rc 255 "$PVESM" path local:100/foo
    assert_file_eq "$T/err" "unable to parse volume filename 'foo'
"
    expect_rc 255 "$PVESM" path local:images/x
    assert_file_eq "$T/err" "unable to parse directory volume name 'images/x'
"
    expect_rc 255 "$PVESM" path local-lvm:snippets/x
    assert_file_eq "$T/err" "lvm name 'snippets/x' contains illegal characters
"
    expect_rc 255 "$PVESM" path lvm-thick:base-100-disk-0
    assert_file_eq "$T/err" "unable to parse lvm volume name 'base-100-disk-0'
"
    # not read from the source: fails loudly
    expect_rc 99 "$PVESM" path iscsi-san:0.0.1.scsi-x
    assert_grep '^pvesim: unsupported: volume path on storage type .iscsi.' "$T/err"
}
t_check "pvesm path: snippets and volumes, errors" t_pvesm_path

# ------------------------------------------------------------------ qm clone

t_clone_full() {
    sim
    "$PVESIM" "$S" add-vm 130 --name src --disk scsi0=local-lvm:1G --cdrom ide2=local-lvm:cloudinit \
        --hookscript local:snippets/h --tags 'x;y' --description 'hello' --snapshot s1
    printf 'unused0: local-lvm:vm-130-disk-9\n' >>"$S/etc/pve/nodes/pve/qemu-server/130.conf"
    expect_rc 0 "$QM" clone 130 131 --name web-01
    assert_file_eq "$T/err" ''
    head -n 6 "$T/out" >"$T/head"
    assert_file_eq "$T/head" "creating a clone of VM 130 with ID 131
create full clone of drive ide2 (local-lvm:vm-130-cloudinit)
  Logical volume \"vm-131-cloudinit\" created.
allocated target volume 'local-lvm:vm-131-cloudinit'
create full clone of drive scsi0 (local-lvm:vm-130-disk-0)
  Logical volume \"vm-131-disk-0\" created.
"
    assert_grep "^allocated target volume 'local-lvm:vm-131-disk-0'$" "$T/out"
    assert_grep '^transferred 0\.0 B of 1\.0 GiB \(0\.00%\)$' "$T/out"
    assert_grep '^transferred 512\.0 MiB of 1\.0 GiB \(50\.00%\)$' "$T/out"
    [ "$(grep -c '^transferred 1\.0 GiB of 1\.0 GiB (100\.00%)$' "$T/out")" = 2 ]
    expect_rc 0 "$QM" config 131
    cp "$T/out" "$T/new"
    expect_rc 0 "$QM" config 130
    cp "$T/out" "$T/old"
    assert_grep '^name: web-01$' "$T/new"
    assert_grep '^scsi0: local-lvm:vm-131-disk-0,iothread=1,size=1G$' "$T/new"
    assert_grep '^ide2: local-lvm:vm-131-cloudinit,media=cdrom,size=4M$' "$T/new"
    assert_grep '^hookscript: local:snippets/h$' "$T/new"
    assert_grep '^tags: x;y$' "$T/new"
    assert_grep '^description: hello$' "$T/new"
    assert_no_grep '^(lock|parent|unused0|template):' "$T/new"
    [ "$(grep '^net0' "$T/new")" != "$(grep '^net0' "$T/old")" ]
    [ "$(grep '^smbios1' "$T/new")" != "$(grep '^smbios1' "$T/old")" ]
    assert_no_grep '^\[' "$S/etc/pve/nodes/pve/qemu-server/131.conf"
    assert_grep '^"131": ' "$S/etc/pve/.vmlist"
    # default name
    expect_rc 0 "$QM" clone 130 132
    expect_rc 0 "$QM" config 132
    assert_grep '^name: Copy-of-VM-src$' "$T/out"
}
t_check "qm clone (full): stdout lines, 100% twice, copied/renewed/dropped keys" t_clone_full

t_clone_param_errors() {
    sim
    expect_rc 255 "$QM" clone 100 99
    assert_file_eq "$T/err" '400 Parameter verification failed.
newid: invalid format - value does not look like a valid VM ID

qm clone <vmid> <newid> [OPTIONS]
'
    expect_rc 255 "$QM" clone 100 101 --name 'a b' --format qcow3
    assert_file_eq "$T/err" "400 Parameter verification failed.
format: value 'qcow3' does not have a value in the enumeration 'raw, qcow2, vmdk'
name: invalid format - value does not look like a valid DNS name

qm clone <vmid> <newid> [OPTIONS]
"
    expect_rc 255 "$QM" clone 100 101 --full maybe
    assert_file_eq "$T/err" '400 unable to parse boolean option
qm clone <vmid> <newid> [OPTIONS]
'
    expect_rc 255 "$QM" clone 100 101 --bogus
    assert_file_eq "$T/err" 'Unknown option: bogus
400 unable to parse option
qm clone <vmid> <newid> [OPTIONS]
'
    expect_rc 255 "$QM" clone 100 101 --storage x
    assert_grep "^storage: invalid format - storage ID 'x' cannot be shorter than 2 characters$" "$T/err"
    expect_rc 255 "$QM" clone 100 101 --pool 'a/b/c/d'
    assert_grep "^pool: invalid format - pool name 'a/b/c/d' nested too deeply \(max levels = 3\)$" "$T/err"
    expect_rc 255 "$QM" clone 100 101 --bwlimit -1
    assert_grep '^bwlimit: value must have a minimum value of 0$' "$T/err"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
}
t_check "qm clone: 400 parameter verification format, usage line, exit 255" t_clone_param_errors

t_clone_checks() {
    sim --other-node pve2
    expect_rc 2 "$QM" clone 999 101
    assert_file_eq "$T/err" "unable to find configuration file for VM 999 on node 'pve'
"
    expect_rc 255 "$QM" clone 100 101 --pool nopool
    assert_file_eq "$T/err" "403 Permission check failed (pool 'nopool' does not exist)
"
    expect_rc 255 "$QM" clone 100 101 --target pve9
    assert_file_eq "$T/err" "no such cluster node 'pve9'
"
    expect_rc 255 "$QM" clone 100 101 --storage nosuch
    assert_file_eq "$T/err" "storage 'nosuch' does not exist
"
    expect_rc 255 "$QM" clone 100 101 --storage old-nfs
    assert_file_eq "$T/err" "storage 'old-nfs' is disabled
"
    "$PVESIM" "$S" add-storage dir only2 path="$S/mnt/only2" content=images nodes=pve2
    expect_rc 255 "$QM" clone 100 101 --storage only2
    assert_file_eq "$T/err" "storage 'only2' is not available on node 'pve'
"
    expect_rc 255 "$QM" clone 100 101 --storage cephfs
    assert_file_eq "$T/err" "400 Parameter verification failed.
storage: storage 'cephfs' does not support vm images
qm clone <vmid> <newid> [OPTIONS]
"
    expect_rc 255 "$QM" clone 100 101 --storage local-lvm --target pve2
    assert_file_eq "$T/err" "can't clone to non-shared storage 'local-lvm'
"
    expect_rc 255 "$QM" clone 100 101 --target pve2
    assert_file_eq "$T/err" "can't clone VM to node 'pve2' (VM uses local storage)
"
    expect_rc 255 "$QM" clone 100 101 --snapname nosnap
    assert_file_eq "$T/err" "snapshot 'nosnap' does not exist
"
    expect_rc 255 "$QM" clone 100 101 --full 0
    assert_file_eq "$T/err" "Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)
"
    "$PVESIM" "$S" add-vm 101 --disk scsi0=local-lvm:1G
    expect_rc 255 "$QM" clone 100 101
    assert_file_eq "$T/err" 'unable to create VM 101: config file already exists
'
    # the VMID exists on another node: only pmxcfs refuses, inside the worker
    "$PVESIM" "$S" add-vm 102 --node pve2 --disk scsi0=nfs-shared:1G
    expect_rc 255 "$QM" clone 100 102
    assert_grep '^creating a clone of VM 100 with ID 102$' "$T/out"
    assert_file_eq "$T/err" "close (rename) atomic file '/etc/pve/nodes/pve/qemu-server/102.conf' failed: File exists
"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/102.conf" ]
    # locked source (the lock value is printed)
    "$PVESIM" "$S" add-vm 103 --disk scsi0=local-lvm:1G --lock backup
    expect_rc 255 "$QM" clone 103 104
    assert_file_eq "$T/err" 'VM is locked (backup)
'
    # the order of the checks: pool < target < storage < lock < snapname < linked-clone params
    expect_rc 255 "$QM" clone 103 104 --pool nopool --storage nosuch
    assert_grep "pool 'nopool' does not exist" "$T/err"
    expect_rc 255 "$QM" clone 103 104 --target pve9 --storage nosuch
    assert_grep "^no such cluster node 'pve9'$" "$T/err"
    expect_rc 255 "$QM" clone 103 104 --storage old-nfs
    assert_grep "^storage 'old-nfs' is disabled$" "$T/err"
    expect_rc 255 "$QM" clone 103 104 --snapname nosnap
    assert_grep '^VM is locked \(backup\)$' "$T/err"
    "$PVESIM" "$S" add-vm 9000 --disk scsi0=local-lvm:1G --template
    expect_rc 255 "$QM" clone 9000 104 --snapname nosnap --storage local-lvm
    assert_grep "^snapshot 'nosnap' does not exist$" "$T/err"
    expect_rc 255 "$QM" clone 9000 104 --storage local-lvm
    assert_file_eq "$T/err" "parameter 'storage' not allowed for linked clones
"
    expect_rc 255 "$QM" clone 9000 104 --format raw
    assert_file_eq "$T/err" "parameter 'format' not allowed for linked clones
"
    expect_rc 255 "$QM" clone 9000 101
    assert_file_eq "$T/err" 'unable to create VM 101: config file already exists
'
    "$PVESIM" "$S" add-pool pool-a
    expect_rc 0 "$QM" clone 9000 104 --pool pool-a
    assert_grep '^pool:pool-a::104:' "$S/etc/pve/user.cfg"
    [ "$("$PVESIM" "$S" calls | grep -c '"clone"')" -ge 20 ]
}
t_check "qm clone: every documented check, its text, exit code and order" t_clone_checks

t_clone_target_shared() {
    sim --other-node pve2
    "$PVESIM" "$S" add-vm 140 --name shared --disk scsi0=nfs-shared:1G
    expect_rc 0 "$QM" clone 140 141 --target pve2
    [ -f "$S/etc/pve/nodes/pve2/qemu-server/141.conf" ]
    [ ! -f "$S/etc/pve/nodes/pve/qemu-server/141.conf" ]
    assert_grep '^"141": \{ "node": "pve2", "type": "qemu", "version": [0-9]+ \}' "$S/etc/pve/.vmlist"
    assert_grep '^scsi0: nfs-shared:141/vm-141-disk-0.qcow2,iothread=1,size=1G$' "$S/etc/pve/nodes/pve2/qemu-server/141.conf"
    [ -f "$S/mnt/pve/nfs-shared/images/141/vm-141-disk-0.qcow2" ]
    # an ISO on local (non-shared) storage makes the VM local, 'none' does not
    "$PVESIM" "$S" add-vm 143 --disk scsi0=nfs-shared:1G --cdrom ide2=local:iso/debian.iso
    expect_rc 255 "$QM" clone 143 144 --target pve2
    assert_file_eq "$T/err" "can't clone VM to node 'pve2' (VM uses local storage)
"
    "$PVESIM" "$S" add-vm 145 --disk scsi0=nfs-shared:1G --cdrom ide2=none
    expect_rc 0 "$QM" clone 145 146 --target pve2
    # --target equal to the local node counts as unset
    expect_rc 0 "$QM" clone 140 142 --target pve
    [ -f "$S/etc/pve/nodes/pve/qemu-server/142.conf" ]
}
t_check "qm clone --target: shared storage only, config moves to the target node" t_clone_target_shared

t_linked_and_template() {
    sim
    expect_rc 0 "$QM" template 100
    assert_file_eq "$T/out" ''
    assert_file_eq "$T/err" ''
    expect_rc 0 "$QM" config 100
    assert_grep '^scsi0: local-lvm:base-100-disk-0,iothread=1,size=32G$' "$T/out"
    assert_grep '^ide2: local-lvm:vm-100-cloudinit,media=cdrom$' "$T/out"
    assert_grep '^template: 1$' "$T/out"
    expect_rc 0 "$QM" clone 100 101 --name linked
    assert_file_eq "$T/out" "creating a clone of VM 100 with ID 101
create full clone of drive ide2 (local-lvm:vm-100-cloudinit)
  Logical volume \"vm-101-cloudinit\" created.
allocated target volume 'local-lvm:vm-101-cloudinit'
create linked clone of drive scsi0 (local-lvm:base-100-disk-0)
  Logical volume \"vm-101-disk-0\" created.
"
    expect_rc 0 "$QM" config 101
    assert_grep '^scsi0: local-lvm:vm-101-disk-0,iothread=1,size=32G$' "$T/out"
    # dir storage: qcow2 base, linked clone overlay name
    "$PVESIM" "$S" add-vm 300 --name dirvm --disk virtio0=dir-tmpl:2G
    expect_rc 0 "$QM" template 300
    [ -f "$S/mnt/tmpl/images/300/base-300-disk-0.qcow2" ]
    [ ! -e "$S/mnt/tmpl/images/300/vm-300-disk-0.qcow2" ]
    [ ! -w "$S/mnt/tmpl/images/300/base-300-disk-0.qcow2" ] || [ "$(stat -c %a "$S/mnt/tmpl/images/300/base-300-disk-0.qcow2")" = 444 ]
    expect_rc 0 "$QM" clone 300 301
    assert_grep '^create linked clone of drive virtio0 \(dir-tmpl:300/base-300-disk-0.qcow2\)$' "$T/out"
    expect_rc 0 "$QM" config 301
    assert_grep '^virtio0: dir-tmpl:300/base-300-disk-0.qcow2/301/vm-301-disk-0.qcow2,iothread=1,size=2G$' "$T/out"
    [ -f "$S/mnt/tmpl/images/301/vm-301-disk-0.qcow2" ]
    # full clone of a template to another storage with format fallback
    expect_rc 0 "$QM" clone 300 302 --full --storage local-lvm --format qcow2
    assert_grep "^format 'qcow2' is not supported by the target storage 'local-lvm' - using 'raw' instead$" "$T/out"
    assert_grep "^allocated target volume 'local-lvm:vm-302-disk-0'$" "$T/out"
}
t_check "qm template on lvmthin/dir; linked clone names; full clone of a template" t_linked_and_template

t_template_lvm_skip() {
    sim
    "$PVESIM" "$S" add-vm 200 --name lvm --disk scsi0=lvm-thick:8G --disk scsi1=iscsi-san:4G --disk scsi2=local-lvm:2G
    expect_rc 0 "$QM" template 200
    assert_file_eq "$T/out" ''
    assert_file_eq "$T/err" ''
    expect_rc 0 "$QM" config 200
    assert_grep '^scsi0: lvm-thick:vm-200-disk-0,iothread=1,size=8G$' "$T/out"
    assert_grep '^scsi1: iscsi-san:0\.0\.[0-9]+\.scsi-' "$T/out"
    assert_grep '^scsi2: local-lvm:base-200-disk-0,iothread=1,size=2G$' "$T/out"
    assert_grep '^template: 1$' "$T/out"
    expect_rc 255 "$QM" clone 200 201
    assert_file_eq "$T/err" "Linked clone feature is not supported for 'lvm-thick:vm-200-disk-0' (scsi0)
"
    assert_file_eq "$T/out" ''
    # a full clone of the same template works (lvm has 'copy'); iscsi cannot allocate
    expect_rc 255 "$QM" clone 200 201 --full
    assert_grep "^clone failed: can't allocate space in iscsi storage$" "$T/err"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/201.conf" ]
    [ -z "$(ls "$S/volumes/lvm-thick" | grep 201)" ]
    expect_rc 0 "$QM" clone 200 201 --full --storage local-lvm
}
t_check "qm template: lvm/iscsi disks skipped silently; linked clone then fails" t_template_lvm_skip

t_template_checks() {
    sim
    expect_rc 2 "$QM" template 4242
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist
"
    "$PVESIM" "$S" add-vm 201 --disk scsi0=local-lvm:1G --lock backup --snapshot s1
    expect_rc 255 "$QM" template 201
    assert_file_eq "$T/err" 'VM is locked (backup)
'
    "$PVESIM" "$S" add-vm 202 --disk scsi0=local-lvm:1G --snapshot s1 --status running
    expect_rc 255 "$QM" template 202
    assert_file_eq "$T/err" 'unable to create template, because VM contains snapshots
'
    "$PVESIM" "$S" add-vm 203 --disk scsi0=local-lvm:1G --status running
    expect_rc 255 "$QM" template 203
    assert_file_eq "$T/err" "you can't convert a VM to template if VM is running
"
    "$PVESIM" "$S" add-vm 204 --disk scsi0=local-lvm:1G --template
    expect_rc 255 "$QM" template 204
    assert_file_eq "$T/err" "you can't convert a template to a template
"
    expect_rc 0 "$QM" template 204 --disk scsi0
    expect_rc 255 "$QM" template 100 --disk scsi99
    assert_grep "^disk: value 'scsi99' does not have a value in the enumeration 'ide0, " "$T/err"
}
t_check "qm template: checks in order with their texts" t_template_checks

t_template_worker_failure_exit0() {
    sim
    knob PVESIM_FAULT=lock-timeout
    knob PVESIM_FAULT_CMD=template
    expect_rc 0 "$QM" template 100
    assert_file_eq "$T/err" "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout
"
    assert_grep '^trying to acquire lock\.\.\.$' "$T/out"
    expect_rc 0 "$QM" config 100
    assert_no_grep '^template:' "$T/out"
    # storage failing in the worker after 'template: 1' was written (vdisk_create_base ->
    # activate_storage; an nfs storage whose check_connection fails)
    knob --clear
    "$PVESIM" "$S" add-vm 110 --disk scsi0=nfs-shared:1G
    knob PVESIM_FAULT=storage-inactive=nfs-shared
    knob PVESIM_FAULT_CMD=template
    expect_rc 0 "$QM" template 110
    assert_file_eq "$T/err" "storage 'nfs-shared' is not online
"
    expect_rc 0 "$QM" config 110
    assert_grep '^template: 1$' "$T/out"
    assert_grep '^scsi0: nfs-shared:110/vm-110-disk-0.qcow2,' "$T/out"
    # lvmthin has no check_connection: its activation text is not confirmed
    knob --clear
    knob PVESIM_FAULT=storage-inactive=local-lvm
    expect_rc 99 "$QM" template 100
    assert_file_eq "$T/out" ''
    expect_rc 0 "$QM" config 100
    assert_no_grep '^template:' "$T/out"
}
t_check "qm template: a failing worker prints the error and still exits 0" t_template_worker_failure_exit0

t_lock_clone_during_copy() {
    sim
    knob PVESIM_COPY_MIBPS=16384 # 32 GiB -> 2 s
    "$QM" clone 100 101 >"$T/bg.out" 2>"$T/bg.err" &
    pid=$!
    conf=$S/etc/pve/nodes/pve/qemu-server/101.conf
    for _ in $(seq 100); do grep -q '^transferred' "$T/bg.out" 2>/dev/null && break; sleep 0.05; done
    assert_grep '^lock: clone$' "$conf"
    expect_rc 0 "$QM" config 101
    assert_grep '^lock: clone$' "$T/out"
    assert_grep '^ide2: local-lvm:vm-101-cloudinit' "$T/out"
    expect_rc 255 "$QM" template 101
    assert_file_eq "$T/err" 'VM is locked (clone)
'
    expect_rc 255 "$QM" clone 101 102
    assert_file_eq "$T/err" 'VM is locked (clone)
'
    expect_rc 0 "$QM" status 101
    expect_rc 0 "$QM" config 100
    assert_no_grep '^lock:' "$T/out"
    wait $pid
    expect_rc 0 "$QM" config 101
    assert_no_grep '^lock:' "$T/out"
}
t_check "lock: clone on the new config while copying; the source gets no lock" t_lock_clone_during_copy

t_lock_contention() {
    sim
    # the pre-start hook runs with the VM lock held: it says so, then holds
    # it 2.5 s (the time is what is tested: clone's 1 s lock wait runs out)
    hook slow.sh "if [ \"\$2\" = pre-start ]; then echo started >'$T/slow-started'; sleep 2.5; fi"
    expect_rc 0 "$QM" set 100 --hookscript local:snippets/slow.sh
    "$QM" start 100 >"$T/bg.out" 2>&1 &
    pid=$!
    wait_for_grep started "$T/slow-started"
    t0=$(date +%s%N)
    expect_rc 255 "$QM" clone 100 101
    t1=$(date +%s%N)
    assert_file_eq "$T/err" "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout
"
    assert_grep '^trying to acquire lock\.\.\.$' "$T/out"
    ms=$(((t1 - t0) / 1000000))
    [ "$ms" -ge 900 ] || { echo "clone gave up after ${ms} ms"; false; }
    wait $pid
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: running
'
    # parallel clones of a stopped template share the source lock
    rm -rf "$S"
    sim
    expect_rc 0 "$QM" template 100
    knob PVESIM_COPY_MIBPS=4096
    "$QM" clone 100 201 --full >"$T/a" 2>&1 &
    a=$!
    "$QM" clone 100 202 --full >"$T/b" 2>&1 &
    b=$!
    wait $a
    wait $b
    [ -f "$S/etc/pve/nodes/pve/qemu-server/201.conf" ] && [ -f "$S/etc/pve/nodes/pve/qemu-server/202.conf" ]
}
t_check "flock: start holds the config lock, clone times out after 1 s; parallel clones" t_lock_contention

# ------------------------------------------------------------------ hookscripts

t_hookscript_set() {
    sim
    printf '#!/bin/sh\n' >"$S/var/lib/vz/snippets/noexec.sh"
    expect_rc 255 "$QM" set 100 --hookscript local:snippets/noexec.sh
    assert_file_eq "$T/err" "400 Parameter verification failed.
hookscript: script 'local:snippets/noexec.sh' is not executable

qm set <vmid> [OPTIONS]
"
    expect_rc 255 "$QM" set 100 --hookscript local:snippets/missing.sh
    assert_file_eq "$T/err" "400 Parameter verification failed.
hookscript: script 'local:snippets/missing.sh' does not exist

qm set <vmid> [OPTIONS]
"
    expect_rc 255 "$QM" set 100 --hookscript local:iso/x.iso
    assert_file_eq "$T/err" "400 Parameter verification failed.
hookscript: 'local:iso/x.iso' is not in the snippets directory

qm set <vmid> [OPTIONS]
"
    hook ok.sh 'exit 0'
    expect_rc 0 "$QM" set 100 --hookscript local:snippets/ok.sh
    assert_file_eq "$T/out" ''
    assert_grep '^hookscript: local:snippets/ok.sh$' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    expect_rc 2 "$QM" set 4242 --hookscript local:snippets/ok.sh
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist
"
    expect_rc 0 "$QM" set 100 --delete hookscript
    assert_no_grep '^hookscript' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    "$PVESIM" "$S" add-vm 101 --disk scsi0=local-lvm:1G --lock clone
    expect_rc 255 "$QM" set 101 --hookscript local:snippets/ok.sh
    assert_file_eq "$T/err" 'VM is locked (clone)
'
    expect_rc 0 "$QM" unlock 101
    expect_rc 0 "$QM" set 101 --hookscript local:snippets/ok.sh
}
t_check "qm set --hookscript: the three checks as parameter errors; --delete; locks" t_hookscript_set

t_hookscript_phases() {
    sim
    hook rec.sh 'echo "GUEST HOOK: $*"; echo "$*" >>'"$S"'/phases.log; { echo "argv0=$0"; env | sort; echo "stdin=$(cat | wc -c)"; echo --; } >>'"$S"'/hook.log'
    expect_rc 0 "$QM" set 100 --hookscript local:snippets/rec.sh
    knob PVESIM_HOOK_MIGRATED_FROM=empty
    FROM_CALLER=kept PVE_MIGRATED_FROM=stale expect_rc 0 "$QM" start 100
    # Cloudinit.pm commit_cloudinit_disk runs before pre-start
    assert_file_eq "$T/out" 'generating cloud-init ISO
GUEST HOOK: 100 pre-start
GUEST HOOK: 100 post-start
'
    assert_file_eq "$T/err" ''
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: running
'
    expect_rc 255 "$QM" start 100
    assert_file_eq "$T/err" 'VM 100 already running
'
    # cleanup flag (qemu-server >= 9.1.13): _do_vm_stop -> vm_stop_cleanup runs post-stop
    # in qm stop's worker; qmeventd's own 'qm cleanup' then finds no flag
    expect_rc 0 "$QM" stop 100
    assert_file_eq "$T/out" 'GUEST HOOK: 100 pre-stop
GUEST HOOK: 100 post-stop
'
    for _ in $(seq 100); do grep -q '^Finished cleanup for 100$' "$S/log/qmeventd.log" 2>/dev/null && break; sleep 0.05; done
    assert_file_eq "$S/log/qmeventd.log" 'Starting cleanup for 100
Finished cleanup for 100
'
    assert_file_eq "$S/phases.log" '100 pre-start
100 post-start
100 pre-stop
100 post-stop
'
    assert_grep "^argv0=$S/var/lib/vz/snippets/rec.sh$" "$S/hook.log"
    sed -n '1,/^--$/p' "$S/hook.log" >"$T/env1" # the pre-start call
    assert_grep '^LC_ALL=C$' "$T/env1"
    assert_grep '^LVM_SUPPRESS_FD_WARNINGS=1$' "$T/env1"
    assert_grep '^PATH=/sbin:/bin:/usr/sbin:/usr/bin$' "$T/env1"
    assert_grep '^FROM_CALLER=kept$' "$T/env1"
    assert_grep '^PVE_MIGRATED_FROM=$' "$T/env1" # knob: empty
    assert_grep '^stdin=0$' "$T/env1"
    assert_no_grep '^PVESIM_' "$S/hook.log"
    # the other knob value: absent (pve-interface.md leaves it open)
    knob PVESIM_HOOK_MIGRATED_FROM=absent
    : >"$S/hook.log"
    PVE_MIGRATED_FROM=stale expect_rc 0 "$QM" start 100
    sed -n '1,/^--$/p' "$S/hook.log" >"$T/env2"
    assert_no_grep '^PVE_MIGRATED_FROM=' "$T/env2"
    # vm_shutdown: vm_is_paused warns the QMP error "$@\n" before the fork; the
    # worker's _do_vm_stop is a no-op for a stopped VM, so the exit is 0
    expect_rc 0 "$QM" shutdown 100
    assert_grep '^GUEST HOOK: 100 pre-stop$' "$T/out"
    expect_rc 0 "$QM" shutdown 100
    assert_file_eq "$T/out" ''
    assert_file_eq "$T/err" 'VM 100 not running

'
    "$PVESIM" "$S" set-status 100 paused
    expect_rc 255 "$QM" shutdown 100
    assert_file_eq "$T/err" 'VM is paused - cannot shutdown
'
}
t_check "hookscript phases: argv, env, stdin, order for start/stop/shutdown" t_hookscript_phases

t_hookscript_failures() {
    sim
    hook fail.sh '[ "$2" = "${FAILPHASE:-pre-start}" ] && exit 3; exit 0'
    expect_rc 0 "$QM" set 100 --hookscript local:snippets/fail.sh
    expect_rc 255 "$QM" start 100
    # the worker's error (two newlines) is chomped once and joined: a trailing space
    assert_file_eq "$T/err" "hookscript error for 100 on pre-start: command '$S/var/lib/vz/snippets/fail.sh 100 pre-start' failed: exit code 3 
"
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: stopped
'
    hook fail.sh '[ "$2" = post-start ] && exit 4; exit 0'
    expect_rc 0 "$QM" start 100
    assert_grep "^hookscript error for 100 on post-start: command '$S/var/lib/vz/snippets/fail.sh 100 post-start' failed: exit code 4$" "$T/out"
    assert_file_eq "$T/err" ''
    hook fail.sh '[ "$2" = pre-stop ] && kill -9 $$; exit 0'
    expect_rc 0 "$QM" stop 100
    assert_grep "^hookscript error for 100 on pre-stop: command '.*fail.sh 100 pre-stop' failed: got signal 9$" "$T/out"
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: stopped
'
    rm "$S/var/lib/vz/snippets/fail.sh"
    expect_rc 255 "$QM" start 100
    assert_file_eq "$T/err" "hookscript error for 100 on pre-start: script 'local:snippets/fail.sh' does not exist 
"
    "$PVESIM" "$S" add-vm 9000 --disk scsi0=local-lvm:1G --template
    expect_rc 255 "$QM" start 9000
    assert_file_eq "$T/err" "you can't start a vm if it's a template
"
    # vm_start loads the config inside the worker: a task error, exit 255
    expect_rc 255 "$QM" start 4242
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist
"
    expect_rc 255 "$QM" stop 4242
    assert_file_eq "$T/err" "unable to find configuration file for VM 4242 on node 'pve'
"
    # vm_is_paused warns first, then the worker fails the same check
    expect_rc 255 "$QM" shutdown 4242
    assert_file_eq "$T/err" "unable to find configuration file for VM 4242 on node 'pve'

unable to find configuration file for VM 4242 on node 'pve'
"
    # stopping a stopped VM is a no-op without hooks
    hook fail.sh 'echo "HOOK $2"'
    expect_rc 0 "$QM" stop 100
    assert_file_eq "$T/out" ''
}
t_check "hookscript failures: pre-start aborts (exit 255), others only warn" t_hookscript_failures

t_destroy_unlock() {
    sim
    expect_rc 0 "$QM" clone 100 101
    [ -f "$S/volumes/local-lvm/vm-101-disk-0" ]
    "$PVESIM" "$S" set-status 101 running
    expect_rc 255 "$QM" destroy 101
    assert_file_eq "$T/err" 'VM 101 is running - destroy failed
'
    "$PVESIM" "$S" set-status 101 stopped
    expect_rc 0 "$QM" destroy 101
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
    [ ! -e "$S/volumes/local-lvm/vm-101-disk-0" ]
    [ ! -e "$S/volumes/local-lvm/vm-101-cloudinit" ]
    expect_rc 2 "$QM" destroy 101
    "$PVESIM" "$S" add-vm 102 --disk scsi0=local-lvm:1G --lock clone
    expect_rc 255 "$QM" destroy 102
    assert_file_eq "$T/err" 'VM is locked (clone)
'
    expect_rc 0 "$QM" unlock 102
    expect_rc 0 "$QM" destroy 102
    # a template whose base volume backs a linked clone cannot be destroyed
    expect_rc 0 "$QM" template 100
    expect_rc 0 "$QM" clone 100 103
    expect_rc 255 "$QM" destroy 100
    assert_file_eq "$T/err" "base volume 'local-lvm:base-100-disk-0' is still in use by linked cloned
"
    [ -f "$S/etc/pve/nodes/pve/qemu-server/100.conf" ]
    expect_rc 0 "$QM" destroy 103
    [ ! -e "$S/volumes/local-lvm/vm-103-disk-0" ]
    expect_rc 0 "$QM" destroy 100
    [ ! -e "$S/volumes/local-lvm/base-100-disk-0" ]
    # AbstractConfig.pm check_protection
    "$PVESIM" "$S" add-vm 104 --disk scsi0=local-lvm:1G
    echo 'protection: 1' >>"$S/etc/pve/nodes/pve/qemu-server/104.conf"
    expect_rc 255 "$QM" destroy 104
    assert_file_eq "$T/err" "can't remove VM 104 - protection mode enabled
"
}
t_check "qm destroy frees volumes; qm unlock clears a lock" t_destroy_unlock

t_post_stop_legacy() {
    sim
    hook rec.sh 'echo "HOOK $2"'
    expect_rc 0 "$QM" set 100 --hookscript local:snippets/rec.sh
    # /run/qemu-server/force-legacy-cleanup: vm_stop_cleanup runs no hook; qmeventd's
    # 'qm cleanup' runs post-stop after qm stop released the lock, into qmeventd's log
    knob PVESIM_LEGACY_CLEANUP=1
    expect_rc 0 "$QM" start 100
    expect_rc 0 "$QM" stop 100
    assert_file_eq "$T/out" 'HOOK pre-stop
'
    assert_file_eq "$T/err" ''
    for _ in $(seq 100); do grep -q '^Finished cleanup for 100$' "$S/log/qmeventd.log" 2>/dev/null && break; sleep 0.05; done
    assert_file_eq "$S/log/qmeventd.log" 'Starting cleanup for 100
HOOK post-stop
Finished cleanup for 100
'
}
t_check "post-stop: PVESIM_LEGACY_CLEANUP=1 moves it to qmeventd's qm cleanup (DIR/log/qmeventd.log)" t_post_stop_legacy

t_storage_cfg_warnings() {
    sim
    cat >>"$S/etc/pve/storage.cfg" <<EOF

cephfs: ceph2
	path $S/mnt/ceph2
	content images,iso
	fs-name cephfs

dir: 1bad
	path /x
EOF
    n=$(grep -n '^dir: 1bad$' "$S/etc/pve/storage.cfg" | cut -d: -f1)
    want="storage does not support content type 'images'
file /etc/pve/storage.cfg line $n (skip section '1bad'): storage ID '1bad' contains illegal characters
"
    expect_rc 0 "$PVESM" status
    assert_file_eq "$T/err" "$want"
    assert_grep '^ceph2 ' "$T/out"
    assert_no_grep '^1bad ' "$T/out"
    expect_rc 0 "$PVESM" status --content images
    assert_no_grep '^ceph2 ' "$T/out"
    # qm clone reads storage.cfg before the fork (stderr), once per process
    expect_rc 0 "$QM" clone 100 101
    assert_file_eq "$T/err" "$want"
    # qm destroy first reads it inside the worker: stdout
    expect_rc 0 "$QM" destroy 101
    assert_grep "^storage does not support content type 'images'$" "$T/out"
    assert_file_eq "$T/err" ''
    # commands that do not read it print nothing
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/err" ''
}
t_check "storage.cfg parse warnings on stderr (SectionConfig/Plugin.pm texts), once per call" t_storage_cfg_warnings

# SectionConfig parse_config: a value check_value refuses is never stored, so a
# later valid one is (no "duplicate attribute"); a later section of an id
# replaces the earlier one. Both as pvetmpl's pvecfg.c reads them.
t_storage_cfg_values() {
    sim
    cat >>"$S/etc/pve/storage.cfg" <<EOF

dir: shyes
	path $S/mnt/shyes
	shared yes
	shared 1
	shared 0

lvmthin: thin2
	thinpool data
	vgname pve
	shared 1

dir: relpath
	path mnt/rel
	path $S/mnt/rel

dir: dupid
	path $S/mnt/dup1
	content iso

dir: dupid
	path $S/mnt/dup2
	content images

lvm: novg
	shared 1
	content images

dir: gone
	path $S/mnt/dup1
	content images

dir: gone
	content images
EOF
    mkdir -p "$S/mnt/shyes" "$S/mnt/rel" "$S/mnt/dup1" "$S/mnt/dup2"
    n=$(grep -n '^dir: shyes$' "$S/etc/pve/storage.cfg" | cut -d: -f1)
    t=$(grep -n '^lvmthin: thin2$' "$S/etc/pve/storage.cfg" | cut -d: -f1)
    r=$(grep -n '^dir: relpath$' "$S/etc/pve/storage.cfg" | cut -d: -f1)
    v=$(grep -n '^lvm: novg$' "$S/etc/pve/storage.cfg" | cut -d: -f1)
    g=$(grep -n '^dir: gone$' "$S/etc/pve/storage.cfg" | tail -1 | cut -d: -f1)
    want="file /etc/pve/storage.cfg line $((n + 2)) (section 'shyes') - unable to parse value of 'shared': type check ('boolean') failed - got 'yes'
file /etc/pve/storage.cfg line $((n + 4)) (section 'shyes') - unable to parse value of 'shared': duplicate attribute
file /etc/pve/storage.cfg line $((t + 3)) (section 'thin2') - unable to parse value of 'shared': unexpected property 'shared'
file /etc/pve/storage.cfg line $((r + 1)) (section 'relpath') - unable to parse value of 'path': value does not look like a valid absolute path
file /etc/pve/storage.cfg line $((v + 2)) (skip section 'novg'): missing value for required option 'vgname'
file /etc/pve/storage.cfg line $((g + 1)) (skip section 'gone'): missing value for required option 'path'
"
    expect_rc 0 "$PVESM" status --content images
    assert_file_eq "$T/err" "$want"
    assert_grep '^dupid ' "$T/out"
    assert_grep '^relpath ' "$T/out"
    # check_config: a section without a required option is no storage, and erases an
    # earlier section of its id
    assert_no_grep '^novg ' "$T/out"
    assert_no_grep '^gone ' "$T/out"
    expect_rc 0 "$PVESM" status --content iso
    assert_no_grep '^dupid ' "$T/out"
}
t_check "storage.cfg: an invalid value is never stored, the last section of an id wins, required options" t_storage_cfg_values

t_not_root() {
    d=$(mktemp -d /tmp/pvesim-nonroot.XXXXXX)
    chmod 755 "$d"
    # the launchers exec sim.pl from where pvesim is: a copy user 65534 can read
    r=$(reachable_copy "$TOP/tests/pvesim")
    "$r/pvesim/pvesim" init "$d/s" >/dev/null
    run setpriv --reuid 65534 --regid 65534 --clear-groups "$d/s/bin/qm" status 100
    rc1=$RC
    cp "$T/err" "$T/err1"
    run setpriv --reuid 65534 --regid 65534 --clear-groups "$d/s/bin/pvesm"
    rm -rf "$d"
    assert_eq 255 "$rc1"
    assert_file_eq "$T/err1" 'please run as root
'
    # "no command specified" comes before the root check
    assert_eq 255 "$RC"
    assert_grep '^ERROR: no command specified$' "$T/err"
}
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    t_check "not root: 'please run as root' (CLIHandler setup_environment)" t_not_root
else
    t_skip "not root: 'please run as root'" "needs root and setpriv"
fi

# ------------------------------------------------------------------ knobs

t_knob_latency() {
    sim
    t0=$(date +%s%N)
    "$QM" status 100 >/dev/null
    t1=$(date +%s%N)
    knob PVESIM_LATENCY_MS=400
    "$QM" status 100 >/dev/null
    t2=$(date +%s%N)
    [ $(((t2 - t1) / 1000000)) -ge 400 ]
    [ $(((t2 - t1) - (t1 - t0))) -ge 300000000 ]
    # knobs reach qm through knobs.env even with a clean environment
    env -i PATH=/usr/bin:/bin LC_ALL=C "$QM" status 100 >/dev/null
}
t_check "knob PVESIM_LATENCY_MS (read from knobs.env under a clean env)" t_knob_latency

t_knob_copy_speed() {
    sim
    "$PVESIM" "$S" add-vm 101 --disk scsi0=local-lvm:8G
    knob PVESIM_COPY_MIBPS=8192 # 8 GiB -> 1 s
    t0=$(date +%s%N)
    expect_rc 0 "$QM" clone 101 102
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] || { echo "took $ms ms"; false; }
    [ "$(grep -c '^transferred ' "$T/out")" = 102 ]
}
t_check "knob PVESIM_COPY_MIBPS drives the copy duration (1 % steps)" t_knob_copy_speed

t_bwlimit() {
    sim
    "$PVESIM" "$S" add-vm 101 --disk scsi0=local-lvm:1G
    t0=$(date +%s%N)
    expect_rc 0 "$QM" clone 101 102 --bwlimit 1048576 # KiB/s: 1 GiB -> 1 s
    t1=$(date +%s%N)
    [ $(((t1 - t0) / 1000000)) -ge 900 ]
    expect_rc 99 "$QM" clone 101 103 --bwlimit 0
    assert_grep '^pvesim: unsupported: qm clone --bwlimit 0' "$T/err"
}
t_check "qm clone --bwlimit caps the copy rate; --bwlimit 0 is not guessed" t_bwlimit

t_knob_crash() {
    sim
    knob PVESIM_FAULT=crash-mid-clone
    expect_rc 137 "$QM" clone 100 101
    assert_grep '^transferred .* \(50\.00%\)$' "$T/out"
    assert_no_grep '\(100\.00%\)' "$T/out"
    c=$S/etc/pve/nodes/pve/qemu-server/101.conf
    assert_grep '^lock: clone$' "$c"
    assert_no_grep '^scsi0:' "$c"
    [ -f "$S/volumes/local-lvm/vm-101-disk-0" ]
    assert_grep '^"101": ' "$S/etc/pve/.vmlist"
    assert_grep '"argv":\["qm","clone","100","101"\],"mutating":true,"rc":137' "$S/calls.log"
    knob --clear
    expect_rc 255 "$QM" clone 100 101
    assert_file_eq "$T/err" 'unable to create VM 101: config file already exists
'
    expect_rc 255 "$QM" template 101
    assert_file_eq "$T/err" 'VM is locked (clone)
'
}
t_check "knob PVESIM_FAULT=crash-mid-clone leaves lock: clone and the volumes" t_knob_crash

t_knob_hang_garbage() {
    sim
    knob PVESIM_FAULT=hang
    knob PVESIM_FAULT_CMD=status
    "$QM" status 100 >"$T/h.out" 2>&1 &
    pid=$!
    # the hang logs its call (rc null), then sleeps for good: still running
    wait_for_grep '^\{"argv":\["qm","status","100"\],"mutating":false,"rc":null\}$' "$S/calls.log"
    kill -0 $pid
    kill $pid
    wait $pid || true
    expect_rc 0 "$QM" config 100 # other commands unaffected
    knob --clear
    knob PVESIM_FAULT=garbage
    expect_rc 0 "$QM" status 100
    assert_no_grep '^status: (stopped|running)$' "$T/out"
    [ -s "$T/out" ]
    expect_rc 0 "$QM" clone 100 101
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
    # "prog cmd" form: only that program's subcommand
    knob PVESIM_FAULT_CMD='pvesm status'
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: stopped
'
    expect_rc 0 "$PVESM" status
    assert_no_grep '^Name ' "$T/out"
}
t_check "knob PVESIM_FAULT=hang / garbage, PVESIM_FAULT_CMD" t_knob_hang_garbage

t_knob_fault_count() {
    sim
    knob PVESIM_FAULT=lock-timeout
    knob PVESIM_FAULT_CMD='qm clone'
    knob PVESIM_FAULT_COUNT=2
    expect_rc 255 "$QM" clone 100 101
    assert_file_eq "$T/err" "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout
"
    expect_rc 0 "$QM" status 100
    expect_rc 255 "$QM" clone 100 101
    expect_rc 0 "$QM" clone 100 101
    assert_file_eq "$T/err" ''
    [ -f "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
}
t_check "knob PVESIM_FAULT_COUNT: the fault fires for the first N matching calls" t_knob_fault_count

t_knob_storage_inactive() {
    sim
    "$PVESIM" "$S" add-vm 140 --disk scsi0=nfs-shared:1G
    knob PVESIM_FAULT=storage-inactive=nfs-shared
    expect_rc 0 "$PVESM" status
    assert_file_eq "$T/err" "storage 'nfs-shared' is not online
"
    assert_grep '^nfs-shared         nfs   inactive               0               0               0    0\.00%$' "$T/out"
    # storage_info activates every listed storage before --storage filters
    expect_rc 0 "$PVESM" status --storage local
    assert_file_eq "$T/err" "storage 'nfs-shared' is not online
"
    # clone_vm activates the source volumes before the first disk
    expect_rc 255 "$QM" clone 140 141
    assert_file_eq "$T/out" 'creating a clone of VM 140 with ID 141
'
    assert_file_eq "$T/err" "clone failed: storage 'nfs-shared' is not online
"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/141.conf" ]
    # the target storage: vdisk_alloc activates it after "create full clone of drive"
    expect_rc 255 "$QM" clone 100 101 --storage nfs-shared
    assert_file_eq "$T/out" 'creating a clone of VM 100 with ID 101
create full clone of drive ide2 (local-lvm:vm-100-cloudinit)
'
    assert_file_eq "$T/err" "clone failed: storage 'nfs-shared' is not online
"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
    [ -z "$(ls "$S/volumes/local-lvm" | grep 101)" ]
    # vm_start_nolock activates the volumes after pre-start
    expect_rc 255 "$QM" start 140
    assert_file_eq "$T/err" "storage 'nfs-shared' is not online
"
    # types without check_connection (lvmthin): not confirmed, fails loudly, no effects
    knob --clear
    knob PVESIM_FAULT=storage-inactive=local-lvm
    expect_rc 99 "$QM" clone 100 101
    assert_file_eq "$T/out" ''
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
    expect_rc 99 "$QM" start 100
    expect_rc 0 "$QM" status 100
    assert_file_eq "$T/out" 'status: stopped
'
}
t_check "knob PVESIM_FAULT=storage-inactive=<sid>" t_knob_storage_inactive

t_knob_old_header() {
    sim
    knob PVESIM_PVESM_OLD_HEADER=1
    expect_rc 0 "$PVESM" status --storage local
    assert_file_eq "$T/out" 'Name         Type     Status           Total            Used       Available        %
local         dir     active        98497780        12345678        86152102   12.53%
'
}
t_check "knob PVESIM_PVESM_OLD_HEADER=1: pre-9.0.14 header" t_knob_old_header

# ------------------------------------------------------------------ qm migrate (offline)
# Texts: qemu-server e6352be6 API2/Qemu.pm migrate_vm, QemuMigrate.pm; pve-guest-common
# 4a8f6cb AbstractMigrate.pm (see tests/pvesim/README.md "qm migrate").
TS='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'
# $T/out without the task-log timestamps and with "(duration 00:00:0N)" (whole seconds
# of time(), so a fast migration may still cross a second) as "(duration D)", into $T/o
ts_strip() { sed -E "s/^$TS //; s/\(duration 00:00:0[0-9]\)/(duration D)/" "$T/out" >"$T/o"; }

t_migrate_offline() {
    sim --other-node pve2
    hook mark.sh 'echo "$2" >>'"$T"'/hook.log'
    "$PVESIM" "$S" add-vm 140 --name web --disk scsi0=nfs-shared:2G --cdrom ide2=none \
        --hookscript local:snippets/mark.sh --snapshot s1
    c0=$(grep -v '^lock' "$S/etc/pve/nodes/pve/qemu-server/140.conf")
    expect_rc 0 "$QM" migrate 140 pve2
    assert_file_eq "$T/err" ''
    assert_grep "^$TS starting migration of VM 140 to node 'pve2' \(192\.0\.2\.12\)$" "$T/out"
    assert_grep "^$TS migration finished successfully \(duration [0-9]{2}:[0-9]{2}:[0-9]{2}\)$" "$T/out"
    ts_strip
    assert_file_eq "$T/o" "starting migration of VM 140 to node 'pve2' (192.0.2.12)
migration finished successfully (duration D)
"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/140.conf" ]
    c=$S/etc/pve/nodes/pve2/qemu-server/140.conf
    assert_eq "$c0" "$(cat "$c")" "config moved unchanged, no lock left"
    assert_grep '^"140": \{ "node": "pve2", "type": "qemu", "version": [0-9]+ \}' "$S/etc/pve/.vmlist"
    assert_grep '^"100": \{ "node": "pve", ' "$S/etc/pve/.vmlist"
    [ -f "$S/volumes/nfs-shared/140%2Fvm-140-disk-0.qcow2" ]
    [ ! -e "$T/hook.log" ] # no hook phase runs for an offline migration
    assert_grep '"argv":\["qm","migrate","140","pve2"\],"mutating":true,"rc":0' "$S/calls.log"
    # the VM is gone from this node
    expect_rc 2 "$QM" migrate 140 pve2
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/140.conf' does not exist
"
    expect_rc 0 "$QM" list
    assert_no_grep ' 140 ' "$T/out"
    # a template on shared storage, with a linked clone; --online on a stopped VM warns
    "$PVESIM" "$S" add-vm 9000 --disk scsi0=nfs-shared:1G --template
    expect_rc 0 "$QM" clone 9000 123
    expect_rc 0 "$QM" migrate 9000 pve2 --online --with-local-disks --force --bwlimit 100 \
        --migration_type insecure --with-conntrack-state
    assert_file_eq "$T/err" "VM isn't running. Doing offline migration instead.
"
    ts_strip
    assert_file_eq "$T/o" "starting migration of VM 9000 to node 'pve2' (192.0.2.12)
migration finished successfully (duration D)
"
    assert_grep '^template: 1$' "$S/etc/pve/nodes/pve2/qemu-server/9000.conf"
    assert_grep '^"9000": \{ "node": "pve2", ' "$S/etc/pve/.vmlist"
    # an unused disk and a [PENDING] section on shared storage move along
    "$PVESIM" "$S" add-vm 141 --disk scsi0=nfs-shared:1G --disk scsi1=nfs-shared:1G
    sed -i 's/^scsi1:/unused0:/; s/^\(unused0: [^,]*\),.*/\1/' "$S/etc/pve/nodes/pve/qemu-server/141.conf"
    printf '\n[PENDING]\nmemory: 4096\n' >>"$S/etc/pve/nodes/pve/qemu-server/141.conf"
    expect_rc 0 "$QM" migrate 141 pve2
    assert_grep '^unused0: nfs-shared:141/vm-141-disk-1.qcow2$' "$S/etc/pve/nodes/pve2/qemu-server/141.conf"
    assert_grep '^\[PENDING\]$' "$S/etc/pve/nodes/pve2/qemu-server/141.conf"
}
t_check "qm migrate (offline, shared storage): log lines, config moved, .vmlist, exit 0" t_migrate_offline

t_migrate_checks() {
    sim --other-node pve2
    expect_rc 255 "$QM" migrate 100 pve
    assert_file_eq "$T/err" '400 Parameter verification failed.
target: target is local node.
qm migrate <vmid> <target> [OPTIONS]
'
    expect_rc 255 "$QM" migrate 100 node_1
    assert_file_eq "$T/err" '400 Parameter verification failed.
target: invalid format - value does not look like a valid node name

qm migrate <vmid> <target> [OPTIONS]
'
    expect_rc 255 "$QM" migrate 100
    assert_file_eq "$T/err" '400 not enough arguments
qm migrate <vmid> <target> [OPTIONS]
'
    expect_rc 255 "$QM" migrate 100 pve3
    assert_file_eq "$T/err" "no such cluster node 'pve3'
"
    expect_rc 2 "$QM" migrate 4242 pve2
    assert_file_eq "$T/err" "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist
"
    "$PVESIM" "$S" add-vm 150 --disk scsi0=nfs-shared:1G --lock backup
    expect_rc 255 "$QM" migrate 150 pve2
    assert_file_eq "$T/err" 'VM is locked (backup)
'
    assert_file_eq "$T/out" ''
    "$PVESIM" "$S" add-vm 151 --disk scsi0=nfs-shared:1G --status paused
    expect_rc 255 "$QM" migrate 151 pve2
    assert_file_eq "$T/err" "can't migrate running VM without --online
"
    # check_storage_availability: both nodes, content type
    "$PVESIM" "$S" add-storage nfs nfs-one path="$S/mnt/one" server=192.0.2.52 export=/one \
        content=images nodes=pve
    "$PVESIM" "$S" add-vm 152 --disk scsi0=nfs-one:1G
    expect_rc 255 "$QM" migrate 152 pve2
    assert_file_eq "$T/err" "storage 'nfs-one' is not available on node 'pve2'
"
    "$PVESIM" "$S" add-vm 153 --disk scsi0=nfs-shared:1G --cdrom ide2=nfs-shared:iso/x.iso
    expect_rc 255 "$QM" migrate 153 pve2
    assert_file_eq "$T/err" "nfs-shared:iso/x.iso: content type 'iso' is not available on storage 'nfs-shared'
"
    sed -i 's/^scsi0: nfs-one:/scsi0: old-nfs:/' "$S/etc/pve/nodes/pve/qemu-server/152.conf"
    expect_rc 255 "$QM" migrate 152 pve2
    assert_file_eq "$T/err" "storage 'old-nfs' is disabled
"
    # an unused disk only counts in the worker (QemuMigrate.pm prepare)
    "$PVESIM" "$S" add-vm 154 --disk scsi0=nfs-shared:1G
    echo 'unused0: nfs-one:154/vm-154-disk-9.qcow2' >>"$S/etc/pve/nodes/pve/qemu-server/154.conf"
    expect_rc 255 "$QM" migrate 154 pve2
    ts_strip
    assert_file_eq "$T/o" "ERROR: migration aborted (duration D): storage 'nfs-one' is not available on node 'pve2'
"
    assert_file_eq "$T/err" 'migration aborted
'
    [ -f "$S/etc/pve/nodes/pve/qemu-server/154.conf" ]
    assert_no_grep '^lock' "$S/etc/pve/nodes/pve/qemu-server/154.conf"
    # no quorum (.members "quorate": 0)
    perl -0pi -e 's/"quorate": 1/"quorate": 0/' "$S/etc/pve/.members"
    assert_grep '"quorate": 0' "$S/etc/pve/.members"
    expect_rc 255 "$QM" migrate 154 pve2
    assert_file_eq "$T/err" 'cluster not ready - no quorum?
'
    assert_eq 0 "$(grep -c '"node": "pve2"' "$S/etc/pve/.vmlist" || true)" "nothing moved"
}
t_check "qm migrate: checks before the fork (param, node, config, lock, running, storages)" t_migrate_checks

t_migrate_scan_errors() {
    sim --other-node pve2
    v=$S/etc/pve/.vmlist
    # a local ISO: "local cdrom image"; missing file: activate_volume's error
    "$PVESIM" "$S" add-vm 141 --disk scsi0=nfs-shared:1G --cdrom ide2=local:iso/debian.iso
    touch "$S/var/lib/vz/template/iso/debian.iso"
    c0=$(cat "$S/etc/pve/nodes/pve/qemu-server/141.conf")
    expect_rc 255 "$QM" migrate 141 pve2
    assert_grep "^$TS ERROR: Problem found while scanning volumes - can't migrate VM - check log$" "$T/out"
    ts_strip
    assert_file_eq "$T/o" "starting migration of VM 141 to node 'pve2' (192.0.2.12)
found local disk 'local:iso/debian.iso' (attached)
can't migrate local disk 'local:iso/debian.iso': local cdrom image
ERROR: Problem found while scanning volumes - can't migrate VM - check log
aborting phase 1 - cleanup resources
ERROR: migration aborted (duration D): Problem found while scanning volumes - can't migrate VM - check log
"
    assert_file_eq "$T/err" 'migration aborted
'
    assert_eq "$c0" "$(cat "$S/etc/pve/nodes/pve/qemu-server/141.conf")" "lock: migrate removed again"
    assert_grep '^"141": \{ "node": "pve", ' "$v"
    rm "$S/var/lib/vz/template/iso/debian.iso"
    expect_rc 255 "$QM" migrate 141 pve2
    assert_grep "^$TS can't migrate local disk 'local:iso/debian.iso': volume 'local:iso/debian.iso' does not exist$" "$T/out"
    # the host's cdrom drive, also when only a snapshot references it
    "$PVESIM" "$S" add-vm 142 --disk scsi0=nfs-shared:1G --cdrom ide2=cdrom --snapshot s1
    expect_rc 255 "$QM" migrate 142 pve2
    ts_strip
    assert_file_eq "$T/o" "starting migration of VM 142 to node 'pve2' (192.0.2.12)
can't migrate local cdrom drive
ERROR: Problem found while scanning volumes - can't migrate VM - check log
aborting phase 1 - cleanup resources
ERROR: migration aborted (duration D): Problem found while scanning volumes - can't migrate VM - check log
"
    sed -i '0,/^ide2: cdrom/{/^ide2: cdrom/d}' "$S/etc/pve/nodes/pve/qemu-server/142.conf"
    expect_rc 255 "$QM" migrate 142 pve2
    assert_grep "^$TS can't migrate local cdrom drive \(referenced in snapshot - s1\)$" "$T/out"
    # a local lvm-thin disk with a snapshot: found, then refused
    "$PVESIM" "$S" add-vm 143 --disk scsi0=local-lvm:1G --snapshot s1
    expect_rc 255 "$QM" migrate 143 pve2
    ts_strip
    assert_grep "^found local disk 'local-lvm:vm-143-disk-0' \(attached\)$" "$T/o"
    assert_grep "^can't migrate local disk 'local-lvm:vm-143-disk-0': non-migratable snapshot exists$" "$T/o"
    # a template whose local base volume has linked clones
    "$PVESIM" "$S" add-vm 9001 --disk scsi0=dir-tmpl:1G --template
    expect_rc 0 "$QM" clone 9001 124
    expect_rc 255 "$QM" migrate 9001 pve2
    ts_strip
    assert_file_eq "$T/o" "starting migration of VM 9001 to node 'pve2' (192.0.2.12)
found local disk 'dir-tmpl:9001/base-9001-disk-0.qcow2' (attached)
can't migrate local disk 'dir-tmpl:9001/base-9001-disk-0.qcow2': referenced by linked clone(s)
ERROR: Problem found while scanning volumes - can't migrate VM - check log
aborting phase 1 - cleanup resources
ERROR: migration aborted (duration D): Problem found while scanning volumes - can't migrate VM - check log
"
    # a disk owned by another VM
    "$PVESIM" "$S" add-vm 144 --disk scsi0=nfs-shared:1G
    echo 'scsi1: dir-tmpl:9001/base-9001-disk-0.qcow2,size=1G' >>"$S/etc/pve/nodes/pve/qemu-server/144.conf"
    expect_rc 255 "$QM" migrate 144 pve2
    assert_grep "^$TS can't migrate local disk 'dir-tmpl:9001/base-9001-disk-0.qcow2': owned by other VM \(owner = VM 9001\)$" "$T/out"
    assert_no_grep '"node": "pve2"' "$v"
}
t_check "qm migrate: scan_local_volumes errors abort phase 1 (exit 255, config unlocked)" t_migrate_scan_errors

# held_migrate VMID LOCKFILE: qm migrate VMID pve2 while LOCKFILE is flocked by
# another process, freed once the worker says it waits; exit 0 wanted, output
# in $T/out and $T/err. Synchronised on the lock and the message, no sleeps.
held_migrate() {
    rm -f "$T/held"
    flock "$2" sh -c 'echo held >"$0"; while [ -e "$0" ]; do sleep 0.05; done' "$T/held" &
    local fl=$! mg
    wait_for_grep '^held$' "$T/held"
    "$QM" migrate "$1" pve2 >"$T/out" 2>"$T/err" &
    mg=$!
    wait_for_grep '^trying to acquire lock\.\.\.$' "$T/out"
    rm -f "$T/held"
    wait $fl
    wait $mg || { echo "qm migrate $1 failed"; cat "$T/err"; return 1; }
}

t_migrate_knobs() {
    sim --other-node pve2
    for i in 140 141 142 143; do "$PVESIM" "$S" add-vm $i --disk scsi0=nfs-shared:1G; done
    knob PVESIM_FAULT=lock-timeout
    knob PVESIM_FAULT_CMD=migrate
    knob PVESIM_FAULT_COUNT=1
    expect_rc 255 "$QM" migrate 140 pve2
    ts_strip
    assert_file_eq "$T/o" "trying to acquire lock...
ERROR: migration aborted (duration D): can't lock file '/var/lock/qemu-server/lock-140.conf' - got timeout
"
    assert_file_eq "$T/err" 'migration aborted
'
    expect_rc 0 "$QM" migrate 140 pve2 # count used up
    knob --clear
    # a real flock held until the worker says it waits (lock_config, 10 s)
    held_migrate 141 "$S/lock/lock-141.conf"
    ts_strip
    assert_file_eq "$T/o" "trying to acquire lock...
 OK
starting migration of VM 141 to node 'pve2' (192.0.2.12)
migration finished successfully (duration D)
"
    # guest_migration_lock (/var/lock/pve-manager/pve-migrate-<vmid>) is taken first
    held_migrate 142 "$S/lock/pve-migrate-142"
    assert_grep '^trying to acquire lock\.\.\.$' "$T/out"
    # storage-inactive on a shared nfs storage: prepare only warns
    knob PVESIM_FAULT=storage-inactive=nfs-shared
    expect_rc 0 "$QM" migrate 143 pve2
    ts_strip
    assert_file_eq "$T/o" "Used shared storage 'nfs-shared' is not online on source node!
starting migration of VM 143 to node 'pve2' (192.0.2.12)
migration finished successfully (duration D)
"
    knob --clear
    "$PVESIM" "$S" add-vm 144 --disk scsi0=nfs-shared:1G
    knob PVESIM_FAULT=garbage
    knob PVESIM_FAULT_CMD='qm migrate'
    expect_rc 0 "$QM" migrate 144 pve2
    assert_no_grep 'starting migration' "$T/out"
    [ -f "$S/etc/pve/nodes/pve/qemu-server/144.conf" ]
    knob --clear
    knob PVESIM_FAULT=hang
    knob PVESIM_FAULT_CMD=migrate
    "$QM" migrate 144 pve2 >/dev/null 2>&1 &
    pid=$!
    wait_for_grep '^\{"argv":\["qm","migrate","144","pve2"\],"mutating":(true|false),"rc":null\}$' "$S/calls.log"
    kill -0 $pid
    kill $pid
    wait $pid || true
    [ -f "$S/etc/pve/nodes/pve/qemu-server/144.conf" ]
    knob --clear
    knob PVESIM_LATENCY_MS=400
    t0=$(date +%s%N)
    expect_rc 0 "$QM" migrate 144 pve2
    t1=$(date +%s%N)
    [ $(((t1 - t0) / 1000000)) -ge 400 ]
    [ -f "$S/etc/pve/nodes/pve2/qemu-server/144.conf" ]
}
t_check "qm migrate: knobs lock-timeout/COUNT/CMD, real flocks, storage-inactive, garbage, hang, latency" t_migrate_knobs

t_migrate_unsupported() {
    sim --other-node pve2
    # local disks would be copied (storage_migrate): not simulated, also not with the option
    expect_rc 99 "$QM" migrate 100 pve2
    assert_file_eq "$T/err" 'pvesim: unsupported: qm migrate copying local volumes (local-lvm:vm-100-cloudinit, local-lvm:vm-100-disk-0; PVE::Storage::storage_migrate output not confirmed)
'
    assert_file_eq "$T/out" ''
    expect_rc 99 "$QM" migrate 100 pve2 --with-local-disks
    "$PVESIM" "$S" add-vm 140 --disk scsi0=nfs-shared:1G --status running
    expect_rc 99 "$QM" migrate 140 pve2 --online
    assert_file_eq "$T/err" 'pvesim: unsupported: qm migrate --online of a running VM (live migration)
'
    "$PVESIM" "$S" set-status 140 stopped
    expect_rc 99 "$QM" migrate 140 pve2 --migration_network 10.0.0.0/24
    expect_rc 99 "$QM" migrate 140 pve2 --targetstorage nfs-shared
    echo 'serial1: /dev/ttyS1' >>"$S/etc/pve/nodes/pve/qemu-server/140.conf"
    expect_rc 99 "$QM" migrate 140 pve2
    assert_file_eq "$T/err" 'pvesim: unsupported: qm migrate of a VM with local devices (serial1)
'
    "$PVESIM" "$S" add-vm 141 --disk scsi0=nfs-shared:1G
    knob PVESIM_FAULT=storage-inactive=local-lvm,nfs-shared
    expect_rc 99 "$QM" migrate 100 pve2
    assert_file_eq "$T/out" ''
    [ -f "$S/etc/pve/nodes/pve/qemu-server/100.conf" ] && [ -f "$S/etc/pve/nodes/pve/qemu-server/140.conf" ]
    assert_no_grep '^lock' "$S/etc/pve/nodes/pve/qemu-server/100.conf"
    assert_no_grep '"node": "pve2"' "$S/etc/pve/.vmlist"
}
t_check "qm migrate: live migration, local-disk copy, unconfirmed options exit 99 before any effect" t_migrate_unsupported

# ------------------------------------------------------------------ CLI errors / unsupported / call log

t_cli_errors() {
    sim
    expect_rc 255 "$QM" foo
    assert_grep "^ERROR: unknown command 'qm foo'$" "$T/err"
    assert_grep '^USAGE: qm <COMMAND> \[ARGS\] \[OPTIONS\]$' "$T/err"
    assert_grep '^       qm clone' "$T/err"
    expect_rc 255 "$QM"
    assert_grep '^ERROR: no command specified$' "$T/err"
    expect_rc 255 "$PVESM" frobnicate
    assert_grep "^ERROR: unknown command 'pvesm frobnicate'$" "$T/err"
    expect_rc 0 "$QM" stat 100 # unique prefix
    assert_file_eq "$T/out" 'status: stopped
'
    expect_rc 0 "$QM" status 100 -verbose # single-dash option
    assert_grep '^vmid: 100$' "$T/out"
    # Getopt's optional-value booleans swallow the next word, as on a real node
    expect_rc 255 "$QM" status -verbose 100
    assert_file_eq "$T/err" '400 not enough arguments
qm status <vmid> [OPTIONS]
'
}
t_check "unknown command / prefix expansion / single-dash options" t_cli_errors

# The mirror's duration as pve-common Format.pm render_duration writes it: zero
# units left out, days and weeks. At --bwlimit 1024 KiB/s a disk of N MiB takes
# N s; without a limit (200000 MiB/s) 1 GiB takes 0 s.
t_mirror_duration() {
    sim
    "$PVESIM" "$S" add-vm 130 --name live --disk scsi0=local-lvm:59M --disk scsi1=local-lvm:60M \
        --disk scsi2=local-lvm:3600M --disk scsi3=local-lvm:90061M --disk scsi4=local-lvm:694861M
    "$PVESIM" "$S" set-status 130 running
    expect_rc 0 "$QM" clone 130 131 --bwlimit 1024
    grep -E '^mirror-scsi[0-9]: transferred .* \(100\.00%\)' "$T/out" | sed -E 's/.*\) in //' >got
    assert_file_eq got "59s, ready
1m, ready
1h, ready
1d 1h 1m 1s, ready
1w 1d 1h 1m 1s, ready
"
    "$PVESIM" "$S" add-vm 140 --name live2 --disk scsi0=local-lvm:1G
    "$PVESIM" "$S" set-status 140 running
    expect_rc 0 "$QM" clone 140 141
    assert_grep '^mirror-scsi0: transferred 1\.0 GiB of 1\.0 GiB \(100\.00%\) in 0s, ready$' "$T/out"
}
t_check "drive-mirror durations as Format.pm render_duration (0s, 59s, 1m, 1h, 1d 1h 1m 1s, 1w ...)" t_mirror_duration

# A full clone of a running VM drive-mirrors its live disks (qemu-server
# clone_vm / clone_disk / BlockJob.pm monitor): 'skip' for every drive but the
# last, then suspend, cancel every job, resume. The source keeps running.
t_clone_running_mirror() {
    sim
    "$PVESIM" "$S" add-vm 130 --name live --disk scsi0=local-lvm:1G --disk virtio1=local-lvm:2G
    sed -i 's/^agent: enabled=1$/agent: 0/' "$S/etc/pve/nodes/pve/qemu-server/130.conf"
    "$PVESIM" "$S" set-status 130 running
    expect_rc 0 "$QM" clone 130 131 --bwlimit 2048
    assert_file_eq "$T/out" "creating a clone of VM 130 with ID 131
create full clone of drive scsi0 (local-lvm:vm-130-disk-0)
  Logical volume \"vm-131-disk-0\" created.
allocated target volume 'local-lvm:vm-131-disk-0'
drive mirror is starting for drive-scsi0 with bandwidth limit: 2048 KiB/s
mirror-scsi0: transferred 0.0 B of 1.0 GiB (0.00%) in 0s
mirror-scsi0: transferred 1.0 GiB of 1.0 GiB (100.00%) in 8m 32s, ready
all 'mirror' jobs are ready
create full clone of drive virtio1 (local-lvm:vm-130-disk-1)
  Logical volume \"vm-131-disk-1\" created.
allocated target volume 'local-lvm:vm-131-disk-1'
drive mirror is starting for drive-virtio1 with bandwidth limit: 2048 KiB/s
mirror-virtio1: transferred 0.0 B of 2.0 GiB (0.00%) in 0s
mirror-virtio1: transferred 2.0 GiB of 2.0 GiB (100.00%) in 17m 4s, ready
all 'mirror' jobs are ready
skipping guest filesystem freeze - disabled in VM options
suspend vm
mirror-scsi0: Cancelling block job
mirror-virtio1: Cancelling block job
mirror-scsi0: Done.
mirror-virtio1: Done.
resume vm
"
    assert_file_eq "$T/err" ""
    expect_rc 0 "$QM" status 130
    assert_file_eq "$T/out" "status: running
"
    expect_rc 0 "$QM" config 131
    assert_grep '^scsi0: local-lvm:vm-131-disk-0,iothread=1,size=1G$' "$T/out"
    assert_grep '^virtio1: local-lvm:vm-131-disk-1,iothread=1,size=2G$' "$T/out"
    assert_no_grep '^lock:' "$T/out"
    # the guest agent enabled: no simulated guest answers its guest-ping
    "$PVESIM" "$S" set-status 100 running
    expect_rc 0 "$QM" clone 100 101
    assert_grep "^skipping guest filesystem freeze - agent configured but not running\?$" "$T/out"
    assert_no_grep "^drive mirror is starting for drive-ide2" "$T/out" # cloud-init: nothing copied
}
t_check "qm clone of a running VM: drive-mirror lines, the source keeps running" t_clone_running_mirror

t_unsupported() {
    sim
    expect_rc 99 "$QM" reboot 100
    assert_file_eq "$T/err" 'pvesim: unsupported: qm reboot 100
'
    expect_rc 99 "$QM" set 100 --memory 4096
    assert_file_eq "$T/err" 'pvesim: unsupported: qm set 100 --memory 4096
'
    expect_rc 99 "$QM" start 100 --timeout 5
    expect_rc 99 "$QM" snapshot 100 s1
    expect_rc 99 "$PVESM" alloc local-lvm 100 vm-100-disk-5 1G
    # unsupported paths fail after the real early checks, before any output or allocation
    "$PVESIM" "$S" add-vm 9000 --disk scsi0=local-lvm:1G --template --snapshot s1
    expect_rc 99 "$QM" clone 9000 9001 --snapname s1
    assert_file_eq "$T/err" 'pvesim: unsupported: qm clone --snapname as a linked clone
'
    assert_file_eq "$T/out" ''
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/9001.conf" ]
    [ -z "$(ls "$S/volumes/local-lvm" | grep 9001)" ]
    # hibernated VM: resume is not simulated
    "$PVESIM" "$S" add-vm 102 --disk scsi0=local-lvm:1G --lock suspended
    expect_rc 99 "$QM" start 102
}
t_check "anything not implemented fails loudly: stderr 'pvesim: unsupported', exit 99" t_unsupported

t_calls_log() {
    sim
    "$QM" status 100 >/dev/null
    "$QM" config 100 >/dev/null
    "$QM" list >/dev/null
    "$PVESM" status >/dev/null
    "$QM" status 4242 >/dev/null 2>&1 || true
    assert_file_eq "$S/calls.log" '{"argv":["qm","status","100"],"mutating":false,"rc":0}
{"argv":["qm","config","100"],"mutating":false,"rc":0}
{"argv":["qm","list"],"mutating":false,"rc":0}
{"argv":["pvesm","status"],"mutating":false,"rc":0}
{"argv":["qm","status","4242"],"mutating":false,"rc":2}
'
    "$PVESIM" "$S" calls --mutating >"$T/m"
    assert_file_eq "$T/m" ''
    "$QM" clone 100 101 >/dev/null
    "$QM" template 101 >/dev/null
    "$PVESIM" "$S" calls --mutating >"$T/m"
    assert_file_eq "$T/m" '{"argv":["qm","clone","100","101"],"mutating":true,"rc":0}
{"argv":["qm","template","101"],"mutating":true,"rc":0}
'
}
t_check "calls.log: one JSON line per call with argv, mutating, rc" t_calls_log

# ---- issue 7: pools as parse_user_config reads them, formats as get_formats gives them
t_pools_user_cfg() {
    sim
    # AccessControl.pm parse_user_config: fields trimmed, parents of nested pools exist,
    # a pool with an invalid name is ignored (RPCEnvironment.pm check_pool_exist: 403)
    printf ' pool : dept/team : c ::\npool:x/y/z/w:::\n' >>"$S/etc/pve/user.cfg"
    expect_rc 0 "$QM" clone 100 101 --pool dept
    expect_rc 0 "$QM" clone 100 102 --pool dept/team
    expect_rc 255 "$QM" clone 100 103 --pool x
    assert_grep "^403 Permission check failed \\(pool 'x' does not exist\\)$" "$T/err"
}
t_check "qm clone --pool: pools as AccessControl.pm parse_user_config reads user.cfg" t_pools_user_cfg

t_clone_format_fallback() {
    sim
    # QemuServer.pm clone_disk -> Storage.pm resolve_format_hint -> LVMPlugin.pm
    # get_formats: plain lvm holds raw only
    expect_rc 0 "$QM" clone 100 101 --storage lvm-thick --format qcow2
    assert_grep "^format 'qcow2' is not supported by the target storage 'lvm-thick' - using 'raw' instead$" "$T/out"
    assert_grep '^scsi0: lvm-thick:vm-101-disk-0,' "$S/etc/pve/nodes/pve/qemu-server/101.conf"
}
t_check "qm clone --format: the storage's formats (get_formats), else its default" t_clone_format_fallback

t_clone_no_quorum() {
    sim
    perl -0pi -e 's/"quorate": 1/"quorate": 0/' "$S/etc/pve/.members"
    assert_grep '"quorate": 0' "$S/etc/pve/.members"
    # API2/Qemu.pm clone_vm: check_cfs_quorum after the pool, node and storage checks
    expect_rc 255 "$QM" clone 100 101 --pool nopool
    assert_grep "pool 'nopool' does not exist" "$T/err"
    expect_rc 255 "$QM" clone 100 101
    assert_eq "cluster not ready - no quorum?" "$(cat "$T/err")"
    [ ! -e "$S/etc/pve/nodes/pve/qemu-server/101.conf" ]
}
t_check "qm clone without quorum: 'cluster not ready - no quorum?' before the config" t_clone_no_quorum

t_done
