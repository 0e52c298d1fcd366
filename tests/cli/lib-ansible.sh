# Ansible over SSH to a private sshd on 127.0.0.1, shared by t400-ansible.sh
# and t410-ansible-become.sh (recipe: ../shared/reference/test-env.md §3).
# Source it after lib.sh; the script sets W (a directory under $TMPROOT)
# and stops sshd in its EXIT trap (stop_sshd).
#
#   start_sshd USER      sshd as this script's child ($SSHD_PID, port $PORT);
#                        the key $W/ssh/client_ed25519 logs in as USER only
#   ansible_env          Ansible's home, temp dirs and ssh options in $W
#   playbook NAME TASKS... -- [ansible-playbook options]   (below)
SSHD_PID=
stop_sshd() {
    if [ -n "$SSHD_PID" ]; then
        kill "$SSHD_PID" 2>/dev/null
        wait "$SSHD_PID" 2>/dev/null
    fi
    SSHD_PID=
}

# Its own host key, config and client key, all in $W/ssh. The client key is
# authorized for USER alone (AuthorizedKeysFile .../%u; sshd reads it as
# USER, hence the directory's 0755; the private keys stay 0600). sshd needs
# its privilege-separation directory /run/sshd: rather than create it on the
# host, sshd gets a /run of its own (a tmpfs in its own mount namespace) with
# this suite's /run/systemd bound into it, so that the sessions' pvetmpl
# writes to the test journald (the socket path is fixed:
# /run/systemd/journal/socket).
start_sshd() {
    local user=$1 d=$W/ssh port i root_login=no
    [ "$user" != root ] || root_login=prohibit-password
    mkdir -p "$d" "$d/sysd" "$d/keys"
    chmod 755 "$d" "$d/keys"
    ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -f "$d/client_ed25519"
    cp "$d/client_ed25519.pub" "$d/keys/$user"
    chmod 644 "$d/keys/$user"
    for i in 1 2 3 4 5; do
        # a free port now (another suite may run beside this one)
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >"$d/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/keys/%u
PermitRootLogin $root_login
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
        rm -f "$d/sshd.pid"
        # sh execs sshd: $! is sshd's PID. -D: no daemon, it stays our child.
        unshare -m --propagation private sh -c '
            mount --bind /run/systemd "$1/sysd" &&
            mount -t tmpfs -o mode=0755 tmpfs /run &&
            mkdir -m 0755 /run/sshd /run/systemd &&
            mount --bind "$1/sysd" /run/systemd &&
            /usr/sbin/sshd -t -f "$1/sshd_config" &&
            exec /usr/sbin/sshd -D -f "$1/sshd_config" -E "$1/sshd.log"' sh "$d" &
        SSHD_PID=$!
        # sshd writes its PID file once it listens; it exits if the port was taken
        while [ ! -s "$d/sshd.pid" ] && kill -0 "$SSHD_PID" 2>/dev/null; do
            sleep 0.02
        done
        if [ -s "$d/sshd.pid" ]; then
            PORT=$port
            return 0
        fi
        wait "$SSHD_PID" 2>/dev/null
        SSHD_PID=
    done
    echo "sshd did not start:"
    cat "$d/sshd.log"
    return 1
}

# Nothing of Ansible's lands outside $W: its home, temp dirs, ssh options
# (no known_hosts write, no lingering control master, no user ssh config);
# local modules from $W/library.
ansible_env() {
    : >"$W/ansible.cfg"
    export HOME=$W/home ANSIBLE_CONFIG=$W/ansible.cfg ANSIBLE_LOCAL_TEMP=$W/ltmp
    export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False
    export ANSIBLE_SSH_ARGS='-F /dev/null -o ControlMaster=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes'
    export ANSIBLE_LIBRARY=$W/library
}

# playbook NAME TASKS... -- [ansible-playbook options]: runs $W/play/NAME.yml,
# whose last task saves the registered results of TASKS as one JSON object
# in $PLAY_OUT/NAME.json (default $W; ansible-core has no JSON callback; the
# task runs as the remote user, who must be able to write there); its exit
# code goes to $W/NAME.rc, its output to $W/NAME.out and $W/NAME.err.
playbook() {
    local name=$1 regs='' t
    shift
    while [ "$1" != -- ]; do
        regs="$regs${regs:+, }'$1': $1"
        shift
    done
    shift
    cat >>"$W/play/$name.yml" <<YML
    - name: save the results
      ansible.builtin.copy:
        content: "{{ {$regs} | to_json }}"
        dest: "${PLAY_OUT:-$W}/$name.json"
      check_mode: false
      diff: false
YML
    (cd "$W/play" && ansible-playbook -i "$W/inv.ini" "$@" "$name.yml") \
        >"$W/$name.out" 2>"$W/$name.err"
    echo $? >"$W/$name.rc"
}
