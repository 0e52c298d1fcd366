#!/bin/sh
# Installs debian/control's Build-Depends (including the <!nocheck> test tools)
# when any is missing; does nothing when all are present.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && ! command -v dpkg-checkbuilddeps >/dev/null; then
    # dpkg-dev reads debian/control for us; a minimal image may lack it.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg-dev
fi
if dpkg-checkbuilddeps debian/control 2>/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    dpkg-checkbuilddeps debian/control || true
    echo "ensure-deps: build dependencies are missing; run 'make deps' as root, or install them with 'apt-get build-dep ./'" >&2
    exit 1
fi
echo "ensure-deps: installing the build dependencies listed in debian/control" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get build-dep -y -q ./
dpkg-checkbuilddeps debian/control
