#!/bin/sh
# The shell equivalent of pvetmpl-hook for `make bench` (row 1): reads the
# VM's name and tags from its config and sends one structured entry with
# `logger --journald` (the fields pvetmpl-hook sends).
vmid=$1
phase=$2
conf=${BENCH_PVE_DIR:-/etc/pve}/qemu-server/$vmid.conf
name=$(sed -n '/^\[/q; s/^name: *//p' "$conf" 2>/dev/null)
tags=$(sed -n '/^\[/q; s/^tags: *//p' "$conf" 2>/dev/null)
case $phase in
pre-start | post-start | pre-stop | post-stop) ;;
*)
    echo "got unknown phase '$phase'" >&2
    exit 1
    ;;
esac
logger --journald <<END
MESSAGE=VM $vmid '$name' $phase
MESSAGE_ID=0088113c58354056aaac4d63266d83bc
PRIORITY=6
SYSLOG_IDENTIFIER=hook-logger.sh
PVETMPL_VMID=$vmid
PVETMPL_PHASE=$phase
PVETMPL_NAME=$name
PVETMPL_TAGS=$tags
END
