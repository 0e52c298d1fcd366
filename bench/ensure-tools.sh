#!/bin/sh
# Installs the public tools `make bench` measures with (hyperfine, GNU time,
# perf) when one is missing; does nothing when all are present. Like
# tests/ensure-deps.sh, only root installs; anyone else is told what to run.
set -eu
missing=
command -v hyperfine >/dev/null || missing="$missing hyperfine"
[ -x /usr/bin/time ] || missing="$missing time"
command -v perf >/dev/null || missing="$missing linux-perf"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "bench: missing:$missing; install them as root: apt-get install$missing" >&2
    exit 1
fi
echo "bench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -q $missing
