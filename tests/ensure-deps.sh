#!/bin/sh
# Installs debian/control's Build-Depends (including the <!nocheck> test tools)
# when any is missing; does nothing when all are present.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && ! command -v dpkg-checkbuilddeps >/dev/null; then
    # dpkg-dev reads debian/control for us; a minimal image may lack it.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg-dev
fi
# Test tools that are not build dependencies (the package build runs only the
# unit and fixture layers): tests/cli/t400-ansible.sh runs ansible-playbook
# and ansible-doc (ansible-core) against a private sshd (openssh-server; its
# postinst starts no daemon), and t207 counts pvetmpl's opens of .vmlist with
# strace. Without them, as a normal user, those checks skip.
test_pkgs="ansible-core openssh-server strace"
missing=
for p in $test_pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "ensure-deps: installing the test tools$missing" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    else
        echo "ensure-deps: test tools missing:$missing (tests/cli/t400 and t207's counts will skip); run 'make deps' as root" >&2
    fi
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
