#!/bin/bash
# Usage: with-journald.sh CMD [ARGS...]
# Runs CMD with its own systemd-journald (volatile, tmpfs) in a private mount
# namespace: the host's /run, /var/log and journal stay untouched.
# Recipe: ../shared/reference/test-env.md §2.
set -eu
if [ "${_PVETMPL_IN_JNS:-}" != 1 ]; then
    exec env _PVETMPL_IN_JNS=1 unshare -m --propagation private "$0" "$@"
fi
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mount -t tmpfs -o mode=0755 tmpfs /run/log
mkdir -p /run/systemd/journal /run/log/journal
conf=$(mktemp /tmp/pvetmpl-journald.conf.XXXXXX)
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\nRateLimitBurst=0\n' >"$conf"
# Bind over the host's file inside this namespace only (systemd ships it).
mount --bind "$conf" /etc/systemd/journald.conf
/lib/systemd/systemd-journald >/dev/null 2>&1 & # NO arguments: argv[1] would be a namespace name
JPID=$!
trap 'kill $JPID 2>/dev/null; wait $JPID 2>/dev/null; rm -f "$conf"' EXIT
for _ in $(seq 1 200); do
    [ -S /run/systemd/journal/socket ] && break
    sleep 0.025
done
[ -S /run/systemd/journal/socket ] || {
    echo "with-journald: journald did not start" >&2
    exit 1
}
export PVETMPL_TEST_JOURNALD=1
export PVETMPL_TEST_JOURNALD_PID=$JPID # for tests that stall it (SIGSTOP), by PID only
export JOURNAL_DIR=/run/log/journal/$(cat /etc/machine-id)
"$@"
