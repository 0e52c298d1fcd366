# Delegation through the real sudo, shared by t500-sudo.sh and
# t410-ansible-become.sh: the same grant, users and node for both. Source it
# after lib.sh, in a private mount namespace (the script re-executes itself
# under `unshare -m` first): deleg_setup bind-mounts a private copy of /etc
# there, so the real system's users and sudoers are never touched.
#
# deleg_setup [SUDOERS-LINE...]: a simulated node in $S (pool tmpl, VM 199 at
# the source range's edge); pvetmpl and the hook copied to $TMPROOT/bin ($BIN:
# root's, 0755 all the way, as root trusts it); throwaway users on free ids:
# pvtdeleg and pvtcare in group pvtops (the grant's), pvtnone in sudoers but
# in no grant ($DELEG $CARE $NONE $OPS_GID); /etc/pvetmpl/pvetmpl.conf ($CONF)
# holding grant 'ops'; a sudoers with the README's line for the group, one for
# pvtnone, and the extra lines given. pvtdeleg has a shell (/bin/sh) and a
# home, $TMPROOT/home/pvtdeleg, so that it can log in over ssh; no password.
deleg_free_id() { # FIRST: the first id >= FIRST that is neither a uid nor a gid
    local i=$1
    while getent passwd "$i" >/dev/null || getent group "$i" >/dev/null; do i=$((i + 1)); done
    echo "$i"
}

deleg_setup() {
    P=$TMPROOT/priv # the private /etc and what root trusts
    chmod 0755 "$TMPROOT"
    mkdir -m 0755 "$P" "$TMPROOT/bin" "$TMPROOT/home"
    cp "$PVETMPL" "$PVETMPL_HOOK" "$TMPROOT/bin/"
    BIN=$TMPROOT/bin/pvetmpl
    S=$TMPROOT/node
    "$PVESIM" init "$S" >/dev/null
    "$PVESIM" "$S" add-pool tmpl >/dev/null
    "$PVESIM" "$S" add-vm 199 --name edge --disk scsi0=local-lvm:8G >/dev/null # the range's edge
    chmod -R a+rX "$S"
    OPS_GID=$(deleg_free_id 64100)
    DELEG=$(deleg_free_id $((OPS_GID + 1)))
    CARE=$(deleg_free_id $((DELEG + 1)))
    NONE=$(deleg_free_id $((CARE + 1)))
    mkdir -m 0755 "$TMPROOT/home/pvtdeleg"
    chown "$DELEG:$OPS_GID" "$TMPROOT/home/pvtdeleg"
    cp -a /etc "$P/etc"
    {
        echo "pvtdeleg:x:$DELEG:$OPS_GID::$TMPROOT/home/pvtdeleg:/bin/sh"
        echo "pvtcare:x:$CARE:$OPS_GID::/nonexistent:/usr/sbin/nologin"
        echo "pvtnone:x:$NONE:$NONE::/nonexistent:/usr/sbin/nologin"
    } >>"$P/etc/passwd"
    {
        echo "pvtops:x:$OPS_GID:"
        echo "pvtnone:x:$NONE:"
    } >>"$P/etc/group"
    # '*': no password; not '!', which sshd without PAM takes for a locked account
    printf '%s:*:20000::::::\n' pvtdeleg pvtcare pvtnone >>"$P/etc/shadow"
    mkdir -p "$P/etc/pvetmpl"
    CONF=$P/etc/pvetmpl/pvetmpl.conf
    cat >"$CONF" <<CONF
qm = "$S/bin/qm"
pvesm = "$S/bin/pvesm"
vmlist = "$S/etc/pve/.vmlist"
pve_dir = "$S/etc/pve"
node = "pve"
run_dir = "$TMPROOT/run"
hook_binary = "$TMPROOT/bin/pvetmpl-hook"
lock_retries = 0
timeout = 600
grant ops {
    groups = {pvtops}
    actions = {make-template, clone, check, storages, list, hook-status}
    source_vmids = {100-199}
    target_vmids = {9000-9099}
    storages = {local-lvm}
    pools = {tmpl}
    names = {"tmpl-*"}
    formats = {raw}
}
CONF
    chmod 0644 "$CONF"
    {
        echo "Defaults env_reset"
        echo "Defaults timestampdir=$TMPROOT/sudo-ts"
        echo "root ALL=(ALL:ALL) ALL"
        echo "%pvtops ALL=(root) NOPASSWD: $BIN" # the README's line
        echo "pvtnone ALL=(root) NOPASSWD: $BIN"
        [ $# = 0 ] || printf '%s\n' "$@"
    } >"$P/etc/sudoers"
    chmod 0440 "$P/etc/sudoers"
    mount --bind "$P/etc" /etc
}
