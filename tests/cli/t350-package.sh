#!/bin/bash
# The Debian package, built with dpkg-buildpackage in a copy of the tree (the
# checkout is left as it was): lintian finds nothing at warning level or above;
# the .deb holds the binaries, man pages, catalog, bash completion, README and
# examples, declares Enhances: qemu-server, and its maintainer scripts never
# touch a VM; the unpacked binaries with the unpacked default config run one
# make-template against the simulated node. Slow (a whole package build): it
# builds once and every check below reads that build.
. "${PVETMPL_TOP:-.}/tests/cli/lib.sh"

PKG=$TMPROOT/pkg

build() {
    mkdir -p "$PKG/src"
    # the tree as it is, without build products or git's files
    tar -C "$TOP" --exclude=./build --exclude=./.git --exclude=./debian/pvetmpl \
        --exclude=./debian/.debhelper -cf - . | tar -C "$PKG/src" -xf -
    # nocheck: the unit layer the build would run is a test layer of its own
    (cd "$PKG/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
        >"$PKG/build.log" 2>&1 || {
        tail -n 40 "$PKG/build.log"
        return 1
    }
    DEB=$(ls "$PKG"/pvetmpl_*.deb)
    [ -f "$DEB" ]
    dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$PKG/contents"
    mkdir "$PKG/root" "$PKG/control"
    dpkg-deb -x "$DEB" "$PKG/root"
    dpkg-deb -e "$DEB" "$PKG/control"
}

# in_deb PATH-REGEX: a file of the .deb matches.
in_deb() {
    if ! grep -qxE -- "$1" "$PKG/contents"; then
        echo "not in the package: $1"
        sed 's/^/  | /' "$PKG/contents"
        return 1
    fi
}

contents() {
    in_deb /usr/sbin/pvetmpl
    in_deb /usr/libexec/pvetmpl/pvetmpl-hook
    in_deb /etc/pvetmpl/pvetmpl.conf
    in_deb /usr/lib/systemd/catalog/pvetmpl.catalog
    in_deb '/usr/share/man/man8/pvetmpl.8(\.gz)?'
    in_deb '/usr/share/man/man8/pvetmpl-hook.8(\.gz)?'
    in_deb '/usr/share/man/man5/pvetmpl.conf.5(\.gz)?'
    in_deb /usr/share/bash-completion/completions/pvetmpl
    in_deb '/usr/share/doc/pvetmpl/README.md(\.gz)?'
    in_deb '/usr/share/doc/pvetmpl/examples/pvetmpl.conf(\.gz)?'
    if [ -d "$TOP/ansible" ]; then
        in_deb '/usr/share/doc/pvetmpl/examples/ansible/.*'
    fi
    # the completion shipped is the tree's
    cmp "$TOP/completion/pvetmpl" "$PKG/root/usr/share/bash-completion/completions/pvetmpl"
    assert_eq qemu-server "$(dpkg-deb -f "$DEB" Enhances)" "Enhances"
}

lintian_clean() {
    # lintian as an unprivileged user (it reads the .deb only)
    local d as=()
    d=$(reachable_copy "$DEB")
    if [ "$(id -u)" = 0 ]; then
        as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
    run "${as[@]}" env HOME="$d" lintian --fail-on warning --pedantic --no-cfg "$d/$(basename "$DEB")"
    cat "$T/out" "$T/err"
    assert_eq 0 "$RC" "lintian's exit status"
    assert_no_grep '^[EW]: ' "$T/out"
}

# The package's maintainer scripts (debhelper's generated ones included) and
# any in debian/: none starts qm, pvesm, pvetmpl or the hook.
maintainer_scripts_touch_no_vm() {
    local f found=0
    for f in "$PKG"/control/preinst "$PKG"/control/postinst "$PKG"/control/prerm \
        "$PKG"/control/postrm "$PKG"/control/config "$TOP"/debian/*.preinst \
        "$TOP"/debian/*.postinst "$TOP"/debian/*.prerm "$TOP"/debian/*.postrm \
        "$TOP"/debian/preinst "$TOP"/debian/postinst "$TOP"/debian/prerm "$TOP"/debian/postrm; do
        [ -e "$f" ] || continue
        found=$((found + 1))
        assert_no_grep '(^|[^A-Za-z0-9_.-])(qm|pvesm|pvetmpl|pvetmpl-hook|qmrestore|pvesh)([^A-Za-z0-9_.-]|$)' "$f"
    done
    echo "maintainer scripts read: $found"
}

# The unpacked pvetmpl with the unpacked default config, its paths pointed at
# the simulated node and the unpacked hook: one make-template, then list.
unpacked_binaries_run() {
    sim_setup
    local root=$PKG/root
    cp "$root/etc/pvetmpl/pvetmpl.conf" "$T/pkg.conf"
    cat >>"$T/pkg.conf" <<CONF
qm = "$S/bin/qm"
pvesm = "$S/bin/pvesm"
vmlist = "$S/etc/pve/.vmlist"
pve_dir = "$S/etc/pve"
node = "pve"
run_dir = "$T/run"
hook_binary = "$root/usr/libexec/pvetmpl/pvetmpl-hook"
CONF
    expect_rc 0 "$root/usr/sbin/pvetmpl" -c "$T/pkg.conf" --json make-template 100 9000 \
        --name pkg-template --storage local-lvm
    assert_eq true "$(json_get .changed)"
    expect_rc 0 "$root/usr/sbin/pvetmpl" -c "$T/pkg.conf" --json list
    assert_eq 9000 "$(json_get '[.templates[].vmid] | join(" ")')"
    assert_eq pvetmpl "$(json_get '.templates[0].hook')"
}

if ! command -v dpkg-buildpackage >/dev/null; then
    t_skip "the package builds" "dpkg-buildpackage is not installed (make deps)"
    t_done
    exit
fi
t_check "the package builds in a copy of the tree" build
if [ -z "${DEB:-}" ]; then
    DEB=$(ls "$PKG"/pvetmpl_*.deb 2>/dev/null || true)
fi
if [ -f "$DEB" ]; then
    t_check "the .deb holds binaries, man pages, catalog, completion, README, examples; Enhances" \
        contents
    if command -v lintian >/dev/null; then
        t_check "lintian --pedantic: no warning or error" lintian_clean
    else
        t_skip "lintian --pedantic: no warning or error" "lintian is not installed (make deps)"
    fi
    t_check "no maintainer script starts qm, pvesm or pvetmpl" maintainer_scripts_touch_no_vm
    t_check "the unpacked binaries and default config run make-template and list" \
        unpacked_binaries_run
fi
t_done
