#!/bin/sh
# Makes sure $FUZZ_CC (default clang-14) can build a libFuzzer harness with
# ASan and UBSan; as root, installs Debian's clang-14 and libclang-rt-14-dev
# when it cannot. Not in debian/control: the package build runs no fuzzer.
# Without root and without the compiler it only says so: tests/fuzz/run.sh
# then reports each harness as skipped, with this reason.
set -eu
cc=${FUZZ_CC:-clang-14}
tmp=$(mktemp -d /tmp/pvetmpl-fuzzprobe.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
probe() {
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$tmp/p.c"
    "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/p" "$tmp/p.c" >/dev/null 2>&1
}
if probe; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "ensure-clang: $cc cannot build libFuzzer harnesses; the fuzz tests will be skipped (as root: make fuzz-deps, or apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 0
fi
echo "ensure-clang: installing clang-14 and libclang-rt-14-dev for the fuzz tests" >&2
export DEBIAN_FRONTEND=noninteractive
# another suite may be installing at the same moment: wait for dpkg's lock
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends clang-14 libclang-rt-14-dev
probe || {
    echo "ensure-clang: $cc still cannot build a libFuzzer harness" >&2
    exit 1
}
