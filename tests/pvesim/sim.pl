#!/usr/bin/perl
# pvesim: simulated `qm` and `pvesm` of one Proxmox VE node.
# Usage (through the launchers DIR/bin/qm, DIR/bin/pvesm):  sim.pl DIR qm|pvesm ARGS...
# Knobs: see the header of ./pvesim.  Anything not implemented fails with
# "pvesim: unsupported: ..." on stderr and exit 99.
use v5.36;
use FindBin;
use lib $FindBin::RealBin;
use PVESim;
use Fcntl qw(:flock);
use File::Path qw(make_path remove_tree);
use Getopt::Long ();
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

my $DIR = shift @ARGV // die "usage: sim.pl DIR qm|pvesm ARGS...\n";
my $PROG = shift @ARGV // die "usage: sim.pl DIR qm|pvesm ARGS...\n";
$DIR = Cwd::abs_path($DIR) if eval { require Cwd; 1 };
$PVESim::DIR = $DIR;
my @ARGS = @ARGV;
my $SUBCMD = '';
my $MUTATING = JSON::PP::false;
my $LOGGED = 0;

$| = 1;
select(STDERR); $| = 1; select(STDOUT);

sub log_call($rc) {
    return if $LOGGED++;
    my $line = JSON::PP->new->canonical(1)->encode(
        { argv => [$PROG, @ARGS], mutating => $MUTATING, rc => $rc });
    if (open(my $fh, '>>', "$DIR/calls.log")) {
        flock($fh, LOCK_EX);
        print $fh "$line\n";
        close $fh;
    }
}

# ------------------------------------------------------------ error helpers

sub unsupported($what) { PVESim::unsupported($what) }

sub err($msg, $rc = 255) { die bless({ msg => $msg, rc => $rc }, 'PVESim::Err') }

sub param_err($usage, %errors) {
    my $m = "400 Parameter verification failed.\n";
    $m .= "$_: $errors{$_}\n" for sort keys %errors;
    $m .= "$usage\n";
    err($m, 255);
}

# PVE::Storage::config() is cfs_read_file('storage.cfg'): parsed once per process and
# cached (pve-cluster src/PVE/Cluster.pm $ccache_read), so its parse warnings are printed
# once, to whatever STDERR is when the command first reads it (inside a worker: stdout).
my $CFG_WARNED = 0;
sub storage_config() {
    my $cfg = PVESim::storage_cfg();
    print STDERR $_ for $CFG_WARNED++ ? () : @PVESim::CFG_WARNINGS;
    return $cfg;
}

sub cfs_missing($vmid) {
    err("Configuration file '" . PVESim::cfs_rel($vmid) . "' does not exist\n", 2);
}

# ------------------------------------------------------------ CLI parsing

# the real command tables (qemu-server CLI/qm.pm and pve-storage CLI/pvesm.pm $cmddef):
# name => positional args; undef marks an alias (not used for prefix expansion)
my %QM_COMMANDS = (
    list => [], create => ['vmid'], destroy => ['vmid'], clone => ['vmid', 'newid'],
    migrate => ['vmid', 'target'], 'remote-migrate' => ['vmid', 'target-vmid', 'target-endpoint'],
    set => ['vmid'], config => ['vmid'], pending => ['vmid'], showcmd => ['vmid'],
    status => ['vmid'], snapshot => ['vmid', 'snapname'], delsnapshot => ['vmid', 'snapname'],
    listsnapshot => ['vmid'], rollback => ['vmid', 'snapname'], template => ['vmid'],
    start => ['vmid'], stop => ['vmid'], reset => ['vmid'], shutdown => ['vmid'],
    reboot => ['vmid'], suspend => ['vmid'], resume => ['vmid'], sendkey => ['vmid', 'key'],
    vncproxy => ['vmid'], wait => ['vmid'], unlock => ['vmid'], disk => ['...'],
    'enroll-efi-keys' => ['vmid'], monitor => ['vmid'], guest => ['...'], mtunnel => [],
    nbdstop => ['vmid'], terminal => ['vmid'], importovf => ['vmid', 'manifest', 'storage'],
    cleanup => ['vmid', 'clean-shutdown', 'guest-requested'], cloudinit => ['...'],
    import => ['vmid', 'source'], help => ['extra-args'],
    importdisk => undef, 'move-disk' => undef, move_disk => undef, rescan => undef,
    resize => undef, unlink => undef, agent => undef,
);
my %PVESM_COMMANDS = (
    add => ['type', 'storage'], set => ['storage'], remove => ['storage'], status => [],
    list => ['storage'], alloc => ['storage', 'vmid', 'filename', 'size'], free => ['volume'],
    scan => ['...'], path => ['volume'], extractconfig => ['volume'],
    export => ['volume', 'format', 'filename'], import => ['volume', 'format', 'filename'],
    apiinfo => [], 'prune-backups' => ['storage'], help => ['extra-args'],
    nfsscan => undef, cifsscan => undef, iscsiscan => undef, lvmscan => undef,
    lvmthinscan => undef, zfsscan => undef,
);

# approximation of CLIHandler print_usage_short's command list (one line per command)
sub usage_list($prog) {
    my $t = $prog eq 'qm' ? \%QM_COMMANDS : \%PVESM_COMMANDS;
    my $s = '';
    for my $c (sort grep { defined $t->{$_} } keys %$t) {
        my $args = join(' ', map { $_ eq '...' ? '<...>' : "<$_>" } @{ $t->{$c} });
        $s .= "       $prog $c $args [OPTIONS]\n";
    }
    return $s;
}

sub abort_usage($msg) {
    print STDERR "ERROR: $msg\n" if $msg;
    print STDERR "USAGE: $PROG <COMMAND> [ARGS] [OPTIONS]\n\n";
    print STDERR usage_list($PROG);
    return 255;
}

# validators: pve-common JSONSchema.pm formats
my %FORMATS = (
    'pve-vmid' => sub ($v) {
        die "value does not look like a valid VM ID\n" if $v !~ m/^[1-9][0-9]{2,8}$/;
    },
    'dns-name' => sub ($v) {
        my $l = qr/[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?/;
        die "value does not look like a valid DNS name\n" if $v !~ m/^(${l}\.)*${l}$/;
    },
    'pve-storage-id' => sub ($v) {
        die "storage ID '$v' cannot be shorter than 2 characters\n" if length($v) < 2;
        die "storage ID '$v' contains illegal characters\n"
            if $v !~ m/^[a-z][a-z0-9\-\_\.]*[a-z0-9]$/i;
    },
    'pve-node' => sub ($v) {
        die "value does not look like a valid node name\n"
            if $v !~ m/^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$/;
    },
    'pve-configid' => sub ($v) {
        die "invalid configuration ID '$v'\n" if $v !~ m/^[a-z][a-z0-9_-]+$/i;
    },
    'pve-poolid' => sub ($v) {
        die "pool name '$v' nested too deeply (max levels = 3)\n"
            if $v =~ m!^[A-Za-z0-9\.\-_]+(?:/[A-Za-z0-9\.\-_]+){3,}$!;
        die "pool name '$v' contains invalid characters\n"
            if $v !~ m!^[A-Za-z0-9\.\-_]+(?:/[A-Za-z0-9\.\-_]+){0,2}$!;
    },
    'pve-volume-id' => sub ($v) {
        die "unable to parse volume ID '$v'\n" if $v !~ m/^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$/i;
    },
    # JSONSchema.pm pve_verify_tag / 'pve-tag-list': $PVE_TAG_RE, split by split_list
    'pve-tag-list' => sub ($v) {
        my @t = grep { length } split /[;,\s]+/, $v;
        die "invalid tag list\n" if !@t;
        for my $t (@t) {
            die "invalid tag '$t'\n" if $t !~ m/^[a-z0-9_][a-z0-9_\-\+\.]*$/i;
        }
    },
    'pve-storage-content-list' => sub ($v) {
        for my $c (split /[,;\s]+/, $v) {
            die "invalid content type '$c'\n"
                if $c !~ m/^(images|rootdir|vztmpl|iso|backup|snippets|import|none)$/;
        }
    },
);

sub vmid_prop($desc = {}) { return { type => 'integer', format => 'pve-vmid', minimum => 100, maximum => 999999999, %$desc } }

# Getopt + schema check like pve-common JSONSchema::get_options / check_prop
sub parse_cli($usage, $schema, $argnames, $args) {
    my @getopt;
    for my $p (keys %$schema) {
        push @getopt, $schema->{$p}->{type} eq 'boolean' ? "$p:s" : "$p=s";
    }
    Getopt::Long::Configure('prefix_pattern=(--|-)');
    my $opts = {};
    my @a = @$args;
    local $SIG{__WARN__} = sub { print STDERR $_[0] };
    if (!Getopt::Long::GetOptionsFromArray(\@a, $opts, @getopt)) {
        err("400 unable to parse option\n$usage\n");
    }
    for my $n (@$argnames) {
        if (!@a) {
            err("400 not enough arguments\n$usage\n") if !$schema->{$n}->{optional};
            last;
        }
        $opts->{$n} = shift @a;
    }
    err("400 too many arguments\n$usage\n") if @a;
    for my $p (keys %$opts) {
        next if $schema->{$p}->{type} ne 'boolean';
        my $v = $opts->{$p};
        if ($v eq '') { $opts->{$p} = 1 }
        elsif ($v =~ m/^(1|on|yes|true)$/i) { $opts->{$p} = 1 }
        elsif ($v =~ m/^(0|off|no|false)$/i) { $opts->{$p} = 0 }
        else { err("400 unable to parse boolean option\n$usage\n") }
    }
    my %errors;
    for my $p (keys %$schema) {
        my $s = $schema->{$p};
        my $v = $opts->{$p};
        if (!defined $v) {
            $errors{$p} = "property is missing and it is not optional" if !$s->{optional};
            next;
        }
        if ($s->{type} eq 'integer' && $v !~ m/^[+-]?\d+$/) {
            $errors{$p} = "type check ('integer') failed - got '$v'";
            next;
        }
        if ($s->{format}) {
            eval { $FORMATS{ $s->{format} }->($v) };
            if ($@) { $errors{$p} = "invalid format - $@"; next; }
        }
        if (defined $s->{maxLength} && length($v) > $s->{maxLength}) {
            $errors{$p} = "value may only be $s->{maxLength} characters long";
            next;
        }
        if ($s->{type} eq 'integer') {
            if (defined $s->{maximum} && $v > $s->{maximum}) {
                $errors{$p} = "value must have a maximum value of $s->{maximum}";
                next;
            }
            if (defined $s->{minimum} && $v < $s->{minimum}) {
                $errors{$p} = "value must have a minimum value of $s->{minimum}";
                next;
            }
        }
        if ($s->{enum} && !grep { $_ eq $v } @{ $s->{enum} }) {
            $errors{$p} = "value '$v' does not have a value in the enumeration '"
                . join(', ', @{ $s->{enum} }) . "'";
        }
    }
    param_err($usage, %errors) if %errors;
    return $opts;
}

# ------------------------------------------------------------ locks

my %HELD;    # lock file -> fh (flock is per open file description)

# Takes $file's flock (re-entrant within this process), runs $code, releases.
# Waiting is announced with $wait_msg on STDERR and bounded by $timeout
# seconds; on timeout it dies with $timeout_msg, after a wait that ended well
# it prints $ok_msg (if any). The texts are the callers' (from source).
sub with_flock($file, $mode, $timeout, $wait_msg, $timeout_msg, $ok_msg, $code) {
    return $code->() if $HELD{$file};
    make_path("$DIR/lock");
    open(my $fh, '>>', $file) or die "can't open file - $!\n";
    if (!flock($fh, $mode | LOCK_NB)) {
        print STDERR $wait_msg;
        my $deadline = time() + $timeout;
        my $ok = 0;
        while (time() < $deadline) {
            if (flock($fh, $mode | LOCK_NB)) { $ok = 1; last }
            sleep(0.02);
        }
        die $timeout_msg if !$ok;
        print STDERR $ok_msg if defined($ok_msg);
    }
    $HELD{$file} = $fh;
    my @r = eval { $code->() };
    my $err = $@;
    delete $HELD{$file};
    close $fh;
    die $err if $err;
    return $r[0];
}

# pve-common Tools.pm lock_file_full: non-blocking try, then "trying to acquire
# lock..." on STDERR and a blocking wait bounded by $timeout seconds.
sub lock_file_full($realname, $file, $timeout, $shared, $code) {
    return with_flock($file, $shared ? LOCK_SH : LOCK_EX, $timeout, "trying to acquire lock...\n",
        "can't lock file '$realname' - got timeout\n", " OK\n", $code);
}

my $FAULT_LOCK_VMID;    # qm clone: the fault hits the target's lock
sub lock_vm($vmid, $timeout, $shared, $code) {
    if ((!defined($FAULT_LOCK_VMID) || $FAULT_LOCK_VMID eq $vmid)
        && PVESim::fault_active($PROG, $SUBCMD, 'lock-timeout')) {
        print STDERR "trying to acquire lock...\n";
        die "can't lock file '/var/lock/qemu-server/lock-$vmid.conf' - got timeout\n";
    }
    return lock_file_full("/var/lock/qemu-server/lock-$vmid.conf", "$DIR/lock/lock-$vmid.conf",
        $timeout, $shared, $code);
}

# pve-storage Plugin.pm cluster_lock_storage: a local flock for non-shared storages,
# a pmxcfs lock (pve-cluster Cluster.pm cfs_lock, 10 s) for shared ones
sub lock_storage($sid, $code) {
    my $cfg = PVESim::storage_cfg();
    my $shared = $cfg->{$sid} && $cfg->{$sid}->{shared};
    return lock_file_full("/var/lock/pve-manager/pve-storage-$sid", PVESim::storage_lock_file($sid),
        10, 0, $code) if !$shared;
    return with_flock("$DIR/lock/cfs-storage-$sid", LOCK_EX, 10,
        "trying to acquire cfs lock 'storage-$sid' ...\n",
        "cfs-lock 'storage-$sid' error: got lock request timeout\n", undef, $code);
}

# ------------------------------------------------------------ worker

# RESTEnvironment fork_worker for the CLI: worker output (stdout and stderr) goes to
# stdout; a failure is printed as one line on stderr.  Returns 1 on success.
sub run_worker($code) {
    open(my $saved, '>&', \*STDERR) or die;
    open(STDERR, '>&', \*STDOUT) or die;
    select(STDERR); $| = 1; select(STDOUT);
    my $ok = eval { $code->(); 1 };
    my $err = $@;
    open(STDERR, '>&', $saved) or die;
    select(STDERR); $| = 1; select(STDOUT);
    if (!$ok) {
        die $err if ref($err) && ref($err) ne 'PVESim::Err';
        $err = $err->{msg} if ref $err;
        chomp $err;
        $err =~ s/\n/ /g;
        print STDERR "$err\n";
        return 0;
    }
    return 1;
}

# The same for a worker that outlives a signal as a real one does (used by qm clone,
# whose copy runs long enough to be interrupted): pve-common RESTEnvironment.pm
# fork_worker for a sync CLI call. The parent ignores INT/QUIT/PIPE/TERM while it
# forks; the worker dies "received interrupt" on INT/QUIT/TERM, takes PIPE's default,
# and calls POSIX::setsid (stdin is not a tty under pvetmpl), so no signal meant for
# qm's process group reaches it; its stdout and stderr go to a pipe the parent copies
# out (tee_worker), and its result comes back on a control pipe ("TASK OK" or
# "TASK ERROR: <msg>", printed on stderr). tee_worker turns INT, QUIT and TERM into
# TERM for the worker's group (KILL from the fourth on) and dies "broken pipe" on
# PIPE; HUP has no handler anywhere, so a HUP kills the parent alone and the worker
# copies on until its next write hits the closed pipe. After the copy the parent
# kills the worker's group (kill_process_group: TERM, up to 5 s, KILL) and reaps it.
# Results the worker computes stay in the worker: only callers that need none use it.
our $WORKER_CTL;    # the control pipe, in a forked worker (for the crash fault)
sub run_forked_worker($code) {
    my ($out_r, $out_w, $ctl_r, $ctl_w);
    my $cpid;
    {
        local $SIG{INT} = local $SIG{QUIT} = local $SIG{PIPE} = local $SIG{TERM} = 'IGNORE';
        pipe($out_r, $out_w) or die "pipe: $!\n";
        pipe($ctl_r, $ctl_w) or die "pipe: $!\n";
        $cpid = fork() // die "unable to fork worker - $!\n";
        if (!$cpid) {
            $SIG{INT} = $SIG{QUIT} = $SIG{TERM} = sub { die "received interrupt\n" };
            $SIG{CHLD} = $SIG{PIPE} = 'DEFAULT';
            $SIG{TTOU} = 'IGNORE';
            POSIX::setsid();
            close $out_r;
            close $ctl_r;
            open(STDOUT, '>&', $out_w) or POSIX::_exit(1);
            open(STDERR, '>&', $out_w) or POSIX::_exit(1);
            close $out_w;
            select(STDERR); $| = 1; select(STDOUT); $| = 1;
            $WORKER_CTL = $ctl_w;
            my $ok = eval { $code->(); 1 };
            my $err = $@;
            my $msg = "TASK OK\n";
            if (!$ok) {
                # the simulator's own refusal reaches the caller as itself
                $err = "PVESIM-UNSUPPORTED $err->{msg}" if ref($err) eq 'PVESim::Unsupported';
                $err = $err->{msg} if ref($err) eq 'PVESim::Err';
                chomp $err;
                $err =~ s/\n/ /g;
                $msg = "TASK ERROR: $err\n";
            }
            syswrite($ctl_w, $msg);
            close $ctl_w;
            POSIX::_exit($ok ? 0 : 255);
        }
    }
    close $out_w;
    close $ctl_w;
    my ($ok, $err) = (0, '');
    eval {
        my $int_count = 0;
        local $SIG{INT} = local $SIG{QUIT} = local $SIG{TERM} = sub {
            kill($int_count++ < 3 ? 'TERM' : 'KILL', -$cpid);
        };
        local $SIG{PIPE} = sub { die "broken pipe\n" };
        while (1) {
            my $n = sysread($out_r, my $buf, 4096);
            if (!defined $n) {
                next if $!{EINTR};
                die "sync pipe read error: $!\n";
            }
            last if $n == 0;
            print $buf;
        }
        my $ctl = '';
        while (1) {
            my $n = sysread($ctl_r, my $buf, 4096);
            next if !defined($n) && $!{EINTR};
            last if !$n;
            $ctl .= $buf;
        }
        if ($ctl =~ m/^PVESIM-CRASH\n?$/) {
            log_call(137);
            kill 'KILL', $$;
        } elsif ($ctl =~ m/^TASK OK\n?$/) {
            $ok = 1;
        } elsif ($ctl =~ m/^TASK ERROR: PVESIM-UNSUPPORTED (.*)\n?$/) {
            $err = bless({ msg => "$1\n" }, 'PVESim::Unsupported');
        } elsif ($ctl =~ m/^TASK ERROR: (.*)\n?$/) {
            print STDERR "$1\n";
        } else {
            die "got unexpected control message: $ctl\n";
        }
    };
    if (my $e = $@) {
        $e =~ s/\n/ /g;
        print STDERR "$e\n";
    }
    close $out_r;
    close $ctl_r;
    kill('TERM', -$cpid);
    for (my $i = 0; $i < 5 && waitpid($cpid, POSIX::WNOHANG()) == 0; $i++) { sleep 1 }
    kill('KILL', -$cpid);
    waitpid($cpid, 0);
    die $err if ref $err;
    return $ok;
}

# The storage-inactive fault outside 'pvesm status' (documented there in
# pve-interface.md section 5) is only simulated where the source gives the text:
# activate_storage's "storage '<id>' is not online" for nfs/cifs/iscsi/esxi storages.
sub check_inactive_fault_supported($cfg, $cmd, @sids) {
    for my $sid (@sids) {
        next if !PVESim::storage_fault_listed('qm', $cmd, $sid);
        my $t = $cfg->{$sid} ? $cfg->{$sid}->{type} : '?';
        unsupported("storage-inactive fault on storage '$sid' of type '$t' for qm $cmd"
            . " (activation error text not confirmed; only nfs, cifs, iscsi, esxi)")
            if !$PVESim::CHECK_CONNECTION_TYPES{$t};
    }
}

sub maybe_garbage_or_hang() {
    if (PVESim::fault_active($PROG, $SUBCMD, 'hang')) {
        log_call(undef);
        sleep(3600) while 1;
    }
    if (PVESim::fault_active($PROG, $SUBCMD, 'garbage')) {
        print "\x{1b}[31mOK?? 0xDEADBEEF\n";
        print "status: \n";
        print "%%%% ,,, 12:34:56 <<garbage>> \\\n";
        print "transferred ??? of ??? (nan%)\n";
        return 1;
    }
    return 0;
}

# ------------------------------------------------------------ common VM helpers

sub load_local($vmid) {
    my $c = PVESim::load_conf($vmid) or cfs_missing($vmid);
    return $c;
}

sub check_lock($conf) {
    die "VM is locked ($conf->{lock})\n" if $conf->{lock};
}

sub is_template($conf) { ($conf->{template} // 0) ? 1 : 0 }

sub render_bytes($value, $precision = 1) {
    my @units = qw(B KiB MiB GiB TiB PiB);
    my $u = 0;
    if ($value > 1023) {
        $u = int(log($value) / log(1024));
        $value /= 1024**$u;
    }
    return sprintf("%.${precision}f $units[$u]", $value);
}

# ------------------------------------------------------------ hookscripts

sub shell_quote($s) {
    return $s if $s =~ m/^[-\w.\/:=@,+%]+$/;
    $s =~ s/'/'"'"'/g;
    return "'$s'";
}

# PVE::Storage::path (pve-storage src/PVE/Storage.pm path): parse_volume_id, storage_config,
# then the plugin's path/filesystem_path and parse_volname. Confirmed for the plugins that
# inherit src/PVE/Storage/Plugin.pm (dir, nfs, cifs, cephfs: parse_volname, parse_name_dir,
# get_subdir, filesystem_path) and for LVMPlugin.pm / LvmThinPlugin.pm (parse_lvm_name,
# parse_volname, filesystem_path); anything else fails loudly.
# Returns ($path, $owner_vmid, $vtype).
sub storage_path($cfg, $volid) {
    my ($sid, $volname) = PVESim::parse_volume_id($volid);    # "unable to parse volume ID '<v>'"
    my $s = $cfg->{$sid} or die "storage '$sid' does not exist\n";
    my $t = $s->{type};
    if ($PVESim::FILE_TYPES{$t}) {
        unsupported("volume path on storage '$sid' with content-dirs") if defined $s->{'content-dirs'};
        my $name_dir = sub ($name) {
            return 1 if $name =~ m!^((vm-|base-|subvol-)(\d+)-[^/\s]+\.(raw|qcow2|vmdk|subvol))$!;
            die "'$name' is a snapshot filename, not a volume!\n" if $name =~ m!^snap-.*\.qcow2$!;
            return 1 if $name =~ m!^((base-)?[^/\s]+\.(raw|qcow2|vmdk|subvol))$!;
            die "unable to parse volume filename '$name'\n";
        };
        my ($vtype, $name, $vmid);
        if ($volname =~ m!^(\d+)/(\S+)/(\d+)/(\S+)$!) {
            my ($basename, $v, $n) = ($2, $3, $4);
            $name_dir->($basename);
            $name_dir->($n);
            ($vtype, $name, $vmid) = ('images', $n, $v);
        } elsif ($volname =~ m!^(\d+)/(\S+)$!) {
            my ($v, $n) = ($1, $2);
            $name_dir->($n);
            ($vtype, $name, $vmid) = ('images', $n, $v);
        } elsif ($volname =~ m!^iso/([^/]+\.(?:iso|img))$!i) {
            ($vtype, $name) = ('iso', $1);
        } elsif ($volname =~ m{^vztmpl/([^/]+\.(?|(tar)(?!\.)|tar\.(gz|xz|zst|bz2)))$}i) {
            ($vtype, $name) = ('vztmpl', $1);
        } elsif ($volname =~ m!^backup/([^/]+\.(tgz|(?:tar|vma)(?:\.(gz|lzo|zst|bz2))?))$!) {
            ($vtype, $name) = ('backup', $1);
            $vmid = $1 if $name =~ m/^vzdump-(?:openvz|lxc|qemu)-(\d+)-.+/;
        } elsif ($volname =~ m!^snippets/([^/]+)$!) {
            ($vtype, $name) = ('snippets', $1);
        } elsif ($volname =~ m!^import/!) {
            unsupported("volume path of import volume '$volid'");
        } else {
            die "unable to parse directory volume name '$volname'\n";
        }
        my %sub = (images => 'images', iso => 'template/iso', vztmpl => 'template/cache',
            backup => 'dump', snippets => 'snippets');
        my $path = $s->{path} or die "storage definition has no path\n";
        my $dir = "$path/$sub{$vtype}";
        $dir .= "/$vmid" if $vtype eq 'images';
        return ("$dir/$name", $vmid, $vtype);
    } elsif ($t eq 'lvm' || $t eq 'lvmthin') {
        die "lvm name '$volname' contains illegal characters\n"
            if $volname !~ m/^[a-z0-9][a-z0-9\-\_\.]*[a-z0-9]$/i;
        my $re = $t eq 'lvm' ? qr/^(vm-(\d+)-\S+)$/ : qr/^((?:vm|base)-(\d+)-\S+)$/;
        my ($name, $vmid) = $volname =~ $re or die "unable to parse lvm volume name '$volname'\n";
        return ("/dev/$s->{vgname}/$name", $vmid, 'images');
    }
    unsupported("volume path on storage type '$t' ('$volid')");
}

# pve-guest-common GuestHelpers check_hookscript
sub check_hookscript($volid) {
    my $cfg = storage_config();
    my ($path, undef, $type) = storage_path($cfg, $volid);
    die "'$volid' is not in the snippets directory\n" if $type ne 'snippets';
    die "script '$volid' does not exist\n" if !-f $path;
    die "script '$volid' is not executable\n" if !-x $path;
    return $path;
}

# The hook's environment: the caller's (minus the simulator's PVESIM_* knobs), PATH as
# set by pve-common src/PVE/CLIHandler.pm run_cli_handler, LC_ALL and
# LVM_SUPPRESS_FD_WARNINGS as set by pve-common src/PVE/Cmd.pm run (run_command).
# PVE_MIGRATED_FROM: qemu-server src/PVE/QemuServer.pm vm_start_nolock assigns
# $ENV{PVE_MIGRATED_FROM} = $migratedfrom (undef for a normal start) before pre-start;
# whether that leaves it present-but-empty or absent is unconfirmed
# (pve-interface.md), so the knob PVESIM_HOOK_MIGRATED_FROM=empty|absent decides
# (default: empty).
sub hook_env($phase_env) {
    my %env = map { $_ => $ENV{$_} } grep { !/^PVESIM_/ } keys %ENV;
    $env{PATH} = '/sbin:/bin:/usr/sbin:/usr/bin';
    $env{LC_ALL} = 'C';
    $env{LVM_SUPPRESS_FD_WARNINGS} = '1';
    if ($phase_env->{start}) {
        my $mode = $ENV{PVESIM_HOOK_MIGRATED_FROM} // 'empty';
        if ($mode eq 'empty') { $env{PVE_MIGRATED_FROM} = '' }
        elsif ($mode eq 'absent') { delete $env{PVE_MIGRATED_FROM} }
        else { unsupported("PVESIM_HOOK_MIGRATED_FROM='$mode' (empty or absent)") }
    }
    return \%env;
}

# GuestHelpers exec_hookscript + pve-common Cmd.pm run
sub exec_hookscript($conf, $vmid, $phase, $stop_on_error, $phase_env = {}) {
    return if !$conf->{hookscript};
    my $env = hook_env($phase_env);
    eval {
        my $path = check_hookscript($conf->{hookscript});
        my $cmdstr = join(' ', map { shell_quote($_) } $path, $vmid, $phase);
        pipe(my $r, my $w) or die "pipe: $!\n";
        my $pid = fork() // die "fork failed: $!\n";
        if (!$pid) {
            close $w;
            open(STDIN, '<&', $r);
            open(STDERR, '>&', \*STDOUT);
            %ENV = %$env;
            { no warnings 'exec'; exec { $path } $path, "$vmid", $phase; }
            print STDERR "exec failed: $!\n";
            POSIX::_exit(-1);
        }
        close $r;
        close $w;    # stdin: a pipe closed immediately
        waitpid($pid, 0);
        my $st = $?;
        if (my $sig = $st & 127) {
            die "command '$cmdstr' failed: got signal $sig\n";
        } elsif (my $ec = $st >> 8) {
            die "command '$cmdstr' failed: exit code $ec\n";
        }
    };
    if (my $err = $@) {
        die $err if ref($err) eq 'PVESim::Unsupported';
        my $msg = "hookscript error for $vmid on $phase: $err\n";
        die $msg if $stop_on_error;
        print STDERR $msg;    # perl warn
    }
}

# ------------------------------------------------------------ qm status

sub vm_status_hash($vmid, $conf) {
    my $rs = PVESim::run_state($vmid);
    my $running = $rs->{status} ne 'stopped';
    my $h = {
        vmid => $vmid,
        name => $conf->{name} // "VM $vmid",
        status => $running ? 'running' : 'stopped',
        maxmem => PVESim::mem_bytes($conf),
        maxdisk => PVESim::boot_disk_size($conf),
        disk => 0,
        cpus => ($conf->{cores} // 1) * ($conf->{sockets} // 1),
        netin => 0, netout => 0, diskread => 0, diskwrite => 0,
        uptime => 0, mem => 0,
    };
    $h->{lock} = $conf->{lock} if $conf->{lock};
    $h->{tags} = $conf->{tags} if $conf->{tags};
    $h->{template} = 1 if is_template($conf);
    $h->{serial} = 1 if grep { /^serial\d$/ } keys %$conf;
    if ($running) {
        $h->{pid} = $rs->{pid};
        $h->{qmpstatus} = $rs->{status};
        $h->{uptime} = time() - ($rs->{started} // time());
        $h->{uptime} = int($h->{uptime});
        $h->{mem} = int($h->{maxmem} * 0.42);
        $h->{'running-qemu'} = '10.1.2';
        $h->{'running-machine'} = 'pc-i440fx-10.1+pve0';
        $h->{balloon} = $h->{maxmem};
        $h->{ballooninfo} = { actual => $h->{maxmem}, max_mem => $h->{maxmem},
            total_mem => $h->{maxmem} - 83886080, free_mem => int($h->{maxmem} * 0.5) };
        my %bs;
        for my $d (PVESim::conf_drives($conf)) {
            $bs{ $d->[0] } = { rd_bytes => 0, wr_bytes => 0, account_failed => 1,
                failed_rd_operations => 0 };
        }
        $h->{blockstat} = \%bs;
        my %nics;
        for my $k (sort grep { /^net\d+$/ } keys %$conf) {
            (my $n = $k) =~ s/^net//;
            $nics{"tap${vmid}i$n"} = { netin => 0, netout => 0 };
        }
        $h->{nics} = \%nics;
        $h->{'proxmox-support'} = { 'pbs-dirty-bitmap' => 1, 'query-bitmap-info' => 1,
            'pbs-library-version' => '1.5.2' };
    }
    return $h;
}

sub print_recursive_hash($prefix, $v, $key) {
    if (ref($v) eq 'HASH') {
        print "$prefix$key:\n" if defined $key;
        for my $k (sort keys %$v) {
            print_recursive_hash("$prefix\t", $v->{$k}, $k);
        }
    } elsif (ref($v) eq 'ARRAY') {
        print "$prefix$key:\n" if defined $key;
        print_recursive_hash("$prefix\t", $_, undef) for @$v;
    } else {
        print defined($key) ? "$prefix$key: $v\n" : "$prefix$v\n";
    }
}

sub cmd_status($args) {
    my $usage = 'qm status <vmid> [OPTIONS]';
    my $o = parse_cli($usage, { vmid => vmid_prop(), verbose => { type => 'boolean', optional => 1 } },
        ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    my $c = load_local($o->{vmid});
    my $h = vm_status_hash($o->{vmid}, $c->{main});
    if ($o->{verbose}) {
        for my $k (sort keys %$h) {
            next if $k eq 'cpu' || $k eq 'relcpu';
            print_recursive_hash('', $h->{$k}, $k);
        }
    } else {
        print "status: " . ($h->{qmpstatus} // $h->{status}) . "\n";
    }
    return 0;
}

# ------------------------------------------------------------ qm config

sub cmd_config($args) {
    my $usage = 'qm config <vmid> [OPTIONS]';
    my $o = parse_cli($usage, { vmid => vmid_prop(), current => { type => 'boolean', optional => 1 },
            snapshot => { type => 'string', format => 'pve-configid', maxLength => 40, optional => 1 } },
        ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    if ($o->{current} && defined $o->{snapshot}) {
        param_err($usage, current => "cannot use 'snapshot' parameter with 'current'",
            snapshot => "cannot use 'snapshot' parameter with 'current'");
    }
    my $c = load_local($o->{vmid});
    my $conf;
    if (defined(my $s = $o->{snapshot})) {
        $conf = $c->{snapshots}->{$s} or die "snapshot '$s' does not exist\n";
    } else {
        $conf = { %{ $c->{main} } };
        if (!$o->{current} && %{ $c->{pending} }) {
            my %p = %{ $c->{pending} };
            my $del = delete $p{delete};
            $conf->{$_} = $p{$_} for keys %p;
            if ($del) { delete $conf->{$_} for map { s/^!//r } split /,/, $del }
        }
    }
    for my $k (sort keys %$conf) {
        next if $k eq 'digest';
        my $v = $conf->{$k};
        $v = PVESim::encode_text($v) if $k eq 'description';
        $v = '**********' if $k eq 'cipassword';
        print "$k: $v\n";
    }
    return 0;
}

# ------------------------------------------------------------ qm list

sub cmd_list($args) {
    my $usage = 'qm list  [OPTIONS]';
    my $o = parse_cli($usage, { full => { type => 'boolean', optional => 1 } }, [], $args);
    return 0 if maybe_garbage_or_hang();
    my $vl = eval { decode_json(PVESim::slurp("$DIR/etc/pve/.vmlist") // '') } // {};
    my $node = PVESim::nodename();
    my @ids = sort { $a <=> $b } grep {
        my $e = $vl->{ids}->{$_};
        $e->{node} eq $node && $e->{type} eq 'qemu'
    } keys %{ $vl->{ids} // {} };
    my @rows;
    for my $id (@ids) {
        my $c = PVESim::load_conf($id) or next;
        push @rows, vm_status_hash($id, $c->{main});
    }
    return 0 if !@rows;
    printf "%10s %-20s %-10s %-10s %12s %-10s\n", qw(VMID NAME STATUS MEM(MB) BOOTDISK(GB) PID);
    for my $d (@rows) {
        my $status = $o->{full} ? ($d->{qmpstatus} // $d->{status}) : $d->{status};
        printf "%10s %-20s %-10s %-10s %12.2f %-10s\n", $d->{vmid}, $d->{name}, $status,
            int($d->{maxmem} / (1024 * 1024)), $d->{maxdisk} / (1024 * 1024 * 1024), $d->{pid} // 0;
    }
    return 0;
}

# ------------------------------------------------------------ qm clone

sub copy_progress($size, $fault_crash, $on_half, $bwlimit = undef) {
    my $mibps = $ENV{PVESIM_COPY_MIBPS} || 200000;
    # qemu-img convert -r <bwlimit>K caps the rate
    $mibps = $bwlimit / 1024 if $bwlimit && $bwlimit / 1024 < $mibps;
    my $total_secs = $size / (1024 * 1024) / $mibps;
    my $step_sleep = $total_secs / 100;
    my $total_h = render_bytes($size, 1);
    for (my $p = 0; $p <= 100; $p++) {
        my $pct = sprintf('%.2f', $p);
        my $tr = int($size * $pct / 100);
        print "transferred " . render_bytes($tr, 1) . " of $total_h ($pct%)\n";
        $on_half->() if $p == 50 && $on_half;
        sleep($step_sleep) if $p < 100 && $step_sleep > 0;
    }
    # qemu-img prints the final 100% progress twice
    print "transferred $total_h of $total_h (100.00%)\n";
}

sub cmd_clone($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm clone <vmid> <newid> [OPTIONS]';
    my $schema = {
        vmid => vmid_prop(), newid => vmid_prop(),
        name => { type => 'string', format => 'dns-name', optional => 1 },
        description => { type => 'string', optional => 1, maxLength => 8192 },
        pool => { type => 'string', format => 'pve-poolid', optional => 1 },
        snapname => { type => 'string', format => 'pve-configid', maxLength => 40, optional => 1 },
        storage => { type => 'string', format => 'pve-storage-id', optional => 1 },
        format => { type => 'string', enum => [qw(raw qcow2 vmdk)], optional => 1 },
        full => { type => 'boolean', optional => 1 },
        target => { type => 'string', format => 'pve-node', optional => 1 },
        bwlimit => { type => 'integer', minimum => 0, optional => 1 },
    };
    my $p = parse_cli($usage, $schema, ['vmid', 'newid'], $args);
    return 0 if maybe_garbage_or_hang();
    my ($vmid, $newid) = ($p->{vmid}, $p->{newid});
    # pve-interface.md could not settle what qemu-img does with '-r 0K'
    unsupported("qm clone --bwlimit 0 (meaning of '-r 0K' for qemu-img unknown)")
        if defined($p->{bwlimit}) && $p->{bwlimit} == 0;
    my ($pool, $snapname, $storage, $format, $target) = @$p{qw(pool snapname storage format target)};
    my $localnode = PVESim::nodename();
    # qemu-server API2/Qemu.pm clone_vm: the local nodename or 'localhost' is no target
    undef $target if $target && ($target eq $localnode || $target eq 'localhost');

    # check_running -> assert_config_exists_on_node
    err("unable to find configuration file for VM $vmid on node '$localnode'\n", 2)
        if !-f PVESim::conf_path($vmid);
    my $running = PVESim::is_running($vmid) ? 1 : 0;

    my $load_and_check = sub {
        die "403 Permission check failed (pool '$pool' does not exist)\n"
            if defined($pool) && !PVESim::pools()->{$pool};
        die "no such cluster node '$target'\n" if $target && !PVESim::node_exists($target);
        my $cfg = storage_config();
        if ($storage) {
            my $scfg = PVESim::storage_check_enabled($cfg, $storage);
            param_err($usage, storage => "storage '$storage' does not support vm images")
                if !$scfg->{contenthash}->{images};
            if ($target) {
                PVESim::storage_check_enabled($cfg, $storage, $target);
                die "can't clone to non-shared storage '$storage'\n" if !$scfg->{shared};
            }
        }
        # qemu-server API2/Qemu.pm clone_vm $load_and_check: check_cfs_quorum before load_config
        check_cfs_quorum();
        my $c = load_local($vmid);
        my $conf = $c->{main};
        check_lock($conf);
        my $verify_running = PVESim::is_running($vmid) ? 1 : 0;
        die "unexpected state change\n" if $verify_running != $running;
        die "snapshot '$snapname' does not exist\n" if $snapname && !$c->{snapshots}->{$snapname};
        my $full = $p->{full} // !is_template($conf);
        die "parameter 'storage' not allowed for linked clones\n" if defined($storage) && !$full;
        die "parameter 'format' not allowed for linked clones\n" if defined($format) && !$full;
        my $oldconf = $snapname ? $c->{snapshots}->{$snapname} : $conf;

        # check_storage_access_clone: is every disk on shared storage?
        # (CD-ROM images count too; 'none' and the physical 'cdrom' do not)
        my $sharedvm = 1;
        for my $d (PVESim::conf_drives($oldconf)) {
            my $volid = $d->[1]->{file};
            next if !$volid || $volid eq 'none' || $volid eq 'cdrom';
            my ($sid) = PVESim::parse_volume_id($volid);
            my $s = PVESim::storage_config($cfg, $sid);
            $sharedvm = 0 if !$s->{shared};
        }
        die "can't clone VM to node '$target' (VM uses local storage)\n" if $target && !$sharedvm;
        die "unable to create VM $newid: config file already exists\n"
            if -f PVESim::conf_path($newid);

        my $newconf = { lock => 'clone' };
        my (%drives, %fullclone);
        for my $opt (sort keys %$oldconf) {
            my $value = $oldconf->{$opt};
            next if $opt =~ /^(snapshots|parent|snaptime|vmstate|snapstate|runningcpu|runningmachine|running-nets-host-mtu)$/;
            next if $opt =~ m/^unused\d+$/;
            die "cannot clone TPM state while VM is running\n"
                if $full && $running && !$snapname && $opt eq 'tpmstate0';
            if ($opt =~ m/^net\d+$/) {
                my $v = $value;
                $v =~ s/^((?:virtio|e1000|e1000e|rtl8139|vmxnet3)=)[0-9A-Fa-f:]{17}/$1 . PVESim::random_mac()/e
                    or $v =~ s/^(virtio|e1000|e1000e|rtl8139|vmxnet3)(?=,|$)/"$1=" . PVESim::random_mac()/e;
                $newconf->{$opt} = $v;
            } elsif ($PVESim::IS_DRIVE{$opt}) {
                my $drive = PVESim::parse_drive($value);
                if (PVESim::drive_is_cdrom($drive) && !PVESim::drive_is_cloudinit($drive)) {
                    $newconf->{$opt} = $value;
                } else {
                    my $volid = $drive->{file};
                    my $msg = "clone feature is not supported for";
                    $msg .= " a snapshot of" if $snapname;
                    $msg .= " '$volid' ($opt)";
                    if ($full || PVESim::drive_is_cloudinit($drive) || $opt eq 'tpmstate0') {
                        die "Full $msg\n"
                            if !PVESim::volume_has_feature($cfg, 'copy', $volid, $snapname);
                        $fullclone{$opt} = 1;
                    } else {
                        die "Linked $msg\n"
                            if !PVESim::volume_has_feature($cfg, 'clone', $volid, $snapname);
                    }
                    $drives{$opt} = $drive;
                }
            } else {
                # everything else, 'meta' (creation-qemu, ctime) included: the clone keeps
                # its source's (qemu-server API2/Qemu.pm clone_vm "copy everything else";
                # only create_vm writes a new one, QemuServer/MetaInfo.pm
                # new_meta_info_string), and qm template does not touch it
                $newconf->{$opt} = $value;
            }
        }
        # the parsed 'pending' hash is copied like any other key and dropped later
        my $pending = $snapname ? {} : $c->{pending};
        return ($newconf, $oldconf, \%drives, \%fullclone, $pending);
    };

    # Paths the simulator does not implement fail here, after the same early checks as
    # the real command and before any output or allocation.
    my $refuse_unsupported = sub ($drives, $fullclone) {
        my $cfg = PVESim::storage_cfg();
        for my $opt (sort keys %$drives) {
            unsupported("qm clone --snapname as a linked clone")
                if !$fullclone->{$opt} && $snapname;
        }
        # storages the worker activates: the source volumes (API2/Qemu.pm clone_vm:
        # activate_volumes($vollist) - cloud-init drives are not in it) and each target
        # (vdisk_alloc / vdisk_clone -> activate_storage)
        my %sids;
        for my $opt (keys %$drives) {
            my ($src) = PVESim::parse_volume_id($drives->{$opt}->{file});
            $sids{$src} = 1 if !PVESim::drive_is_cloudinit($drives->{$opt});
            $sids{ ($fullclone->{$opt} && $storage) || $src } = 1;
        }
        check_inactive_fault_supported($cfg, 'clone', sort keys %sids);
    };

    my $clonefn = sub {
        my ($newconf, $oldconf, $drives, $fullclone, $pending) = $load_and_check->();
        print "creating a clone of VM $vmid with ID $newid\n";
        my $cfg = PVESim::storage_cfg();
        my $smb = $newconf->{smbios1} // '';
        if ($smb =~ m/uuid=[^,]*/) { $smb =~ s/uuid=[^,]*/'uuid=' . PVESim::random_uuid()/e }
        else { $smb = join(',', grep { $_ ne '' } 'uuid=' . PVESim::random_uuid(), $smb) }
        $newconf->{smbios1} = $smb;
        $newconf->{vmgenid} = PVESim::random_uuid() if $newconf->{vmgenid};
        delete $newconf->{template};
        $newconf->{name} = $p->{name} ? $p->{name} : 'Copy-of-VM-' . ($oldconf->{name} // $vmid);
        $newconf->{description} = $p->{description} if $p->{description};

        # pmxcfs refuses the file if the VMID exists on another node (memdb EEXIST)
        if (my $other = PVESim::vm_node($newid)) {
            die "close (rename) atomic file '/etc/pve/" . PVESim::cfs_rel($newid)
                . "' failed: File exists\n" if $other ne $localnode;
        }
        PVESim::write_raw_conf($newid, "# qmclone temporary file\nlock: clone\n");

        my @newvollist;
        my %mirror_jobs;
        my $crash = PVESim::fault_active('qm', 'clone', 'crash-mid-clone');
        my $die_now = sub {
            # qm dies as a whole: in a forked worker, the parent is told to die
            # after it has copied out the worker's last lines (run_forked_worker)
            if ($WORKER_CTL) {
                syswrite($WORKER_CTL, "PVESIM-CRASH\n");
                kill 'KILL', $$;
            }
            log_call(137);
            kill 'KILL', $$;
            sleep 10;
        };
        eval {
            # no HUP handler: qemu-server and fork_worker have none
            local $SIG{INT} = local $SIG{TERM} = local $SIG{QUIT} =
                sub { die "interrupted by signal\n" };
            # API2/Qemu.pm clone_vm: activate_volumes($storecfg, $vollist, $snapname) before
            # the disk loop; pve-storage Storage.pm activate_storage dies
            # "storage '<id>' is not online" when the plugin's check_connection fails
            for my $opt (sort keys %$drives) {
                next if PVESim::drive_is_cloudinit($drives->{$opt});
                my ($src_sid) = PVESim::parse_volume_id($drives->{$opt}->{file});
                die "storage '$src_sid' is not online\n"
                    if PVESim::storage_fault_inactive('qm', 'clone', $src_sid);
            }
            for my $opt (sort keys %$drives) {
                my $drive = $drives->{$opt};
                my ($src_sid, $src_volname) = PVESim::parse_volume_id($drive->{file});
                my $full = $fullclone->{$opt};
                print "create " . ($full ? 'full' : 'linked') . " clone of drive $opt ($drive->{file})\n";
                my $newvolid;
                if (!$full) {
                    # Storage.pm vdisk_clone: activate_storage first
                    die "storage '$src_sid' is not online\n"
                        if PVESim::storage_fault_inactive('qm', 'clone', $src_sid);
                    $newvolid = vdisk_clone($cfg, $drive->{file}, $newid);
                    push @newvollist, $newvolid;
                    $die_now->() if $crash;
                } else {
                    my $sid = $storage || $src_sid;
                    my $scfg = PVESim::storage_config($cfg, $sid);
                    my $src_s = PVESim::storage_config($cfg, $src_sid);
                    my $src_fmt = PVESim::parse_volname($src_s, $src_volname)->{format};
                    my $dst_fmt = PVESim::resolve_format_hint($scfg, $format // $src_fmt);
                    print "format '$format' is not supported by the target storage '$sid' - using '$dst_fmt' instead\n"
                        if $format && $format ne $dst_fmt;
                    my ($name, $size);
                    if (PVESim::drive_is_cloudinit($drive)) {
                        $name = "vm-$newid-cloudinit";
                        $name .= ".$dst_fmt" if $scfg->{path};
                        $size = 4 * 1024 * 1024;
                    } elsif ($opt eq 'tpmstate0') {
                        $size = 4 * 1024 * 1024;
                    } else {
                        $size = PVESim::vol_size($src_sid, $src_volname)
                            // PVESim::parse_size($drive->{size}) // 0;
                    }
                    # Storage.pm vdisk_alloc: activate_storage before allocating
                    die "storage '$sid' is not online\n"
                        if PVESim::storage_fault_inactive('qm', 'clone', $sid);
                    $newvolid = lock_storage($sid, sub {
                        PVESim::vdisk_alloc($cfg, $sid, $newid, $dst_fmt, $name, $size);
                    });
                    push @newvollist, $newvolid;
                    print "allocated target volume '$newvolid'\n";
                    my $last = $opt eq (sort keys %$drives)[-1];
                    if ($running && !$snapname) {
                        # clone_disk: $use_drive_mirror = $full && $running && !$snapname
                        mirror_running_disk($opt, $size, $p->{bwlimit}, \%mirror_jobs, $last,
                            PVESim::drive_is_cloudinit($drive) ? 1 : 0, $oldconf->{agent});
                    } elsif (!PVESim::drive_is_cloudinit($drive) && $opt ne 'efidisk0') {
                        copy_progress($size, $crash, $crash ? $die_now : undef, $p->{bwlimit});
                    } elsif ($crash && !PVESim::drive_is_cloudinit($drive)) {
                        $die_now->();
                    }
                }
                my $nd = { %$drive };
                delete $nd->{opts};
                delete $nd->{format};
                $nd->{file} = $newvolid;
                my ($nsid, $nvolname) = PVESim::parse_volume_id($newvolid);
                my $ns = PVESim::vol_size($nsid, $nvolname);
                $nd->{size} = PVESim::format_size($ns) if defined $ns;
                $newconf->{$opt} = PVESim::print_drive($nd);
                PVESim::write_conf($newid, { main => $newconf });
            }
            delete $newconf->{lock};
            # qemu-server e6352be6 API2/Qemu.pm clone_vm "do not write pending changes": a
            # warn (worker: stdout) naming the [PENDING] keys (Perl hash order there; sorted
            # here for stable output), then the section is dropped
            if (my @changes = sort keys %$pending) {
                print "found pending changes for '" . join(',', @changes) . "', discarding for clone\n";
            }
            PVESim::write_conf($newid, { main => $newconf });
            if ($target) {
                my $dst = PVESim::conf_dir($target);
                make_path($dst);
                rename(PVESim::conf_path($newid), "$dst/$newid.conf")
                    or die "Failed to move config to node '$target' - rename failed: $!\n";
                PVESim::regen_vmlist();
            }
            if ($pool) {
                PVESim::with_state_lock(sub {
                    my $raw = PVESim::slurp("$DIR/etc/pve/user.cfg") // '';
                    $raw =~ s/^(pool:\Q$pool\E:[^:]*:)([^:]*)/$1 . join(',', grep { $_ ne '' } split(',', $2), $newid)/me;
                    PVESim::spew("$DIR/etc/pve/user.cfg", $raw);
                });
            }
        };
        if (my $err = $@) {
            sleep 1;
            for my $v (@newvollist) { eval { PVESim::free_volume($cfg, $v) } }
            unlink PVESim::conf_path($newid);
            PVESim::regen_vmlist();
            die $err if ref $err;
            die "clone failed: $err";
        }
    };

    $FAULT_LOCK_VMID = $newid;
    my $lock_target = sub { lock_vm($newid, 1, 0, $clonefn) };
    my $lock_source = sub { lock_vm($vmid, 1, $running ? 0 : 1, $lock_target) };

    $refuse_unsupported->(($load_and_check->())[2, 3]);    # early checks before forking/locking
    return run_forked_worker($lock_source) ? 0 : 255;
}

# ------------------------------------------------------------ drive-mirror (running source)
#
# A full clone of a running VM without --snapname copies the live disks with QEMU's
# drive-mirror instead of qemu-img convert. Read (not copied) from qemu-server e6352be6:
# src/PVE/API2/Qemu.pm clone_vm ($completion 'skip' for every drive but the last, which
# gets 'complete'; the source is flocked exclusively), src/PVE/QemuServer.pm clone_disk
# ($use_drive_mirror = $full && $running && $src_drivename && !$snapname && !$unused) and
# clone_disk_copy_data, src/PVE/QemuServer/BlockJob.pm mirror (machine version >= 10.0:
# blockdev_mirror, job id "mirror-<drive>"; the simulated VM runs pc-i440fx-10.1),
# common_mirror_qmp_options, monitor and qemu_blockjobs_cancel, and
# src/PVE/QemuServer/Agent.pm guest_fs_freeze_applicable / should_fs_freeze. The mirror
# is simulated as instantly ready: one progress line at 0 % and one at 100 % with ", ready"
# (monitor prints a job's line until the first time it is ready).

# QemuServer/Agent.pm should_fs_freeze: parse_guest_agent's 'enabled' (the property
# string's default key) and 'freeze-fs' (default 1)
sub agent_should_freeze($agent) {
    return 0 if !defined $agent;
    my %kv = map { my ($k, $v) = split /=/, $_, 2; defined $v ? ($k => $v) : (enabled => $k) }
        split /,/, $agent;
    my $on = sub ($v) { $v =~ m/^(1|on|yes|true)$/i ? 1 : 0 };
    return $on->($kv{enabled} // 0) && $on->($kv{'freeze-fs'} // 1);
}

# pve-common src/PVE/Format.pm render_duration: the seconds rounded (POSIX round);
# none is "0s"; otherwise every unit of w (7 days), d, h, m, s whose count is not zero,
# largest first, one space between: 60 s is "1m", 3600 s "1h", 90061 s "1d 1h 1m 1s".
sub render_duration($secs) {
    my $rest = POSIX::round($secs // 0);
    return '0s' if !$rest;
    my @text;
    for my $unit ([w => 7 * 24 * 3600], [d => 24 * 3600], [h => 3600], [m => 60], [s => 1]) {
        my ($name, $length) = @$unit;
        my $v = int($rest / $length);
        next if $v <= 0;
        push @text, "$v$name";
        $rest -= $v * $length;
    }
    return join(' ', @text);
}

sub mirror_running_disk($opt, $size, $bwlimit, $jobs, $last, $cloudinit, $agent) {
    if (!$cloudinit) {    # clone_disk: no data is copied for a cloud-init drive
        # BlockJob.pm common_mirror_qmp_options
        if (defined $bwlimit) {
            print "drive mirror is starting for drive-$opt with bandwidth limit: $bwlimit KiB/s\n";
        } else {
            print "drive mirror is starting for drive-$opt\n";
        }
        my $job = "mirror-$opt";
        $jobs->{$job} = 1;
        my $mibps = $ENV{PVESIM_COPY_MIBPS} || 200000;
        $mibps = $bwlimit / 1024 if $bwlimit && $bwlimit / 1024 < $mibps;
        my $secs = int($size / (1024 * 1024) / $mibps);
        my $total_h = render_bytes($size, 1);
        # BlockJob.pm monitor: "transferred <X> of <Y> (<P>%) in <dur>", ", ready" once ready
        print "$job: transferred " . render_bytes(0, 1) . " of $total_h (0.00%) in 0s\n"
            if $size;
        print "$job: transferred $total_h of $total_h (100.00%) in " . render_duration($secs)
            . ", ready\n";
    } elsif (!$last || !%$jobs) {
        return;
    }
    # monitor, once every job is ready: 'skip' returns with the jobs running
    print "all 'mirror' jobs are ready\n";
    return if !$last;
    # 'complete' towards another VM: guest_fs_freeze_applicable logs why it does not
    # freeze, then suspend, cancel the jobs (the copies stay as they are), resume. No
    # simulated guest runs an agent, so an enabled one fails qga_check_running's
    # guest-ping (its 3 s timeout is not waited for here).
    print agent_should_freeze($agent)
        ? "skipping guest filesystem freeze - agent configured but not running?\n"
        : "skipping guest filesystem freeze - disabled in VM options\n";
    print "suspend vm\n";
    print "$_: Cancelling block job\n" for sort keys %$jobs;
    print "$_: Done.\n" for sort keys %$jobs;
    print "resume vm\n";
    %$jobs = ();
}

# PVE::Storage::vdisk_clone (linked clone of a base volume)
sub vdisk_clone($cfg, $volid, $newid) {
    my ($sid, $volname) = PVESim::parse_volume_id($volid);
    my $s = PVESim::storage_config($cfg, $sid);
    my $p = PVESim::parse_volname($s, $volname);
    my $t = $s->{type};
    return lock_storage($sid, sub {
        PVESim::with_state_lock(sub {
            my $size = PVESim::vol_size($sid, $volname) // 0;
            my $new;
            if ($PVESim::FILE_TYPES{$t}) {
                die "clone_image on wrong vtype '$p->{vtype}'\n" if $p->{vtype} ne 'images';
                die "clone_image only works on base images\n" if !$p->{isBase};
                my $name = PVESim::find_free_diskname($cfg, $sid, $newid, 'qcow2');
                print "clone $volname: images, $name, $newid to $name (base=../$volname)\n";
                $new = "$p->{vmid}/$p->{name}/$newid/$name";
                my ($path) = PVESim::volume_path($cfg, "$sid:$new");
                print "Formatting '$path', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=$size backing_file=../$volname backing_fmt=$p->{format} lazy_refcounts=off refcount_bits=16\n";
            } elsif ($t eq 'lvmthin') {
                die "clone_image only works on base images\n" if !$p->{isBase};
                $new = PVESim::find_free_diskname($cfg, $sid, $newid, 'raw');
                print "  Logical volume \"$new\" created.\n";
            } elsif ($t eq 'zfspool' || $t eq 'rbd') {
                die "clone_image only works on base images\n" if !$p->{isBase};
                $new = "$p->{name}/" . PVESim::find_free_diskname($cfg, $sid, $newid, 'raw');
            } else {
                die "can't clone images in $t storage\n";
            }
            PVESim::create_volume($cfg, $sid, $new, $size, "base=$volname\n");
            return "$sid:$new";
        });
    });
}

# ------------------------------------------------------------ qm template

sub create_base($cfg, $volid) {
    my ($sid, $volname) = PVESim::parse_volume_id($volid);
    my $s = PVESim::storage_config($cfg, $sid);
    my $p = PVESim::parse_volname($s, $volname);
    die "create_base not possible with base image\n" if $p->{isBase};
    my $t = $s->{type};
    (my $newname = $p->{name}) =~ s/^vm-/base-/;
    my $newvolname;
    if ($PVESim::FILE_TYPES{$t}) {
        die "create_base on wrong vtype '$p->{vtype}'\n" if $p->{vtype} ne 'images';
        $newvolname = $p->{basename} ? "$p->{basevmid}/$p->{basename}/$p->{vmid}/$newname"
            : "$p->{vmid}/$newname";
    } elsif ($t eq 'zfspool' || $t eq 'rbd') {
        $newvolname = $p->{basename} ? "$p->{basename}/$newname" : $newname;
    } else {
        $newvolname = $newname;
    }
    PVESim::with_state_lock(sub {
        my $old = PVESim::slurp(PVESim::vol_reg_path($sid, $volname)) // "size=0\n";
        if ($PVESim::FILE_TYPES{$t}) {
            my ($op) = PVESim::volume_path($cfg, $volid);
            my ($np) = PVESim::volume_path($cfg, "$sid:$newvolname");
            die "file '$np' already exists\n" if -e $np;
            rename($op, $np) or die "rename '$op' to '$np' failed - $!\n";
            chmod 0444, $np;
        }
        PVESim::spew(PVESim::vol_reg_path($sid, $newvolname), $old);
        unlink PVESim::vol_reg_path($sid, $volname);
    });
    return "$sid:$newvolname";
}

sub cmd_template($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm template <vmid> [OPTIONS]';
    my $p = parse_cli($usage, { vmid => vmid_prop(),
            disk => { type => 'string', enum => [@PVESim::DRIVE_NAMES], optional => 1 } },
        ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    my ($vmid, $disk) = ($p->{vmid}, $p->{disk});
    my $load_and_check = sub {
        my $c = load_local($vmid);
        check_lock($c->{main});
        die "unable to create template, because VM contains snapshots\n" if %{ $c->{snapshots} };
        die "you can't convert a template to a template\n" if is_template($c->{main}) && !$disk;
        die "you can't convert a VM to template if VM is running\n" if PVESim::is_running($vmid);
        return $c;
    };
    my $c0 = $load_and_check->();
    {
        # template_create -> vdisk_create_base -> activate_storage (see check_inactive_fault_supported)
        my $cfg = PVESim::storage_cfg();
        my @sids;
        for my $d (PVESim::conf_drives($c0->{main})) {
            next if PVESim::drive_is_cdrom($d->[1]) || ($disk && $d->[0] ne $disk);
            next if !PVESim::volume_has_feature($cfg, 'template', $d->[1]->{file});
            push @sids, (PVESim::parse_volume_id($d->[1]->{file}))[0];
        }
        check_inactive_fault_supported($cfg, 'template', @sids);
    }
    # API method 'template' has no $upid_exit in qm's cmddef: exit 0 even on failure
    run_worker(sub {
        lock_vm($vmid, 10, 0, sub {
            my $c = $load_and_check->();
            my $conf = $c->{main};
            $conf->{template} = 1;
            PVESim::write_conf($vmid, $c);
            # QemuServer.pm template_create reads the storage config (inside the worker)
            my $cfg = storage_config();
            for my $d (PVESim::conf_drives($conf)) {
                my ($ds, $drive) = @$d;
                next if PVESim::drive_is_cdrom($drive);
                next if $disk && $ds ne $disk;
                my $volid = $drive->{file};
                next if !PVESim::volume_has_feature($cfg, 'template', $volid);
                my ($sid) = PVESim::parse_volume_id($volid);
                die "storage '$sid' is not online\n" if PVESim::storage_fault_inactive('qm', 'template', $sid);
                my $dst = create_base($cfg, $volid);
                my $nd = { %$drive };
                delete $nd->{opts};
                $nd->{file} = $dst;
                $conf->{$ds} = PVESim::print_drive($nd);
                PVESim::write_conf($vmid, $c);
            }
        });
    });
    return 0;
}

# ------------------------------------------------------------ qm set / unlock

sub cmd_set($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm set <vmid> [OPTIONS]';
    my @a = @$args;
    # only --hookscript, --name, --tags and --delete hookscript are simulated
    for my $x (@a) {
        next if $x !~ m/^--?([a-z][\w-]*)(=.*)?$/;
        my $o = $1;
        unsupported("qm " . join(' ', 'set', @$args))
            if !grep { $o eq $_ } qw(hookscript delete name tags);
    }
    # qemu-server QemuServer.pm $confdesc: name dns-name, tags pve-tag-list
    my $p = parse_cli($usage, { vmid => vmid_prop(),
            hookscript => { type => 'string', format => 'pve-volume-id', optional => 1 },
            name => { type => 'string', format => 'dns-name', optional => 1 },
            tags => { type => 'string', format => 'pve-tag-list', optional => 1 },
            delete => { type => 'string', optional => 1 } }, ['vmid'], $args);
    if (defined $p->{delete}) {
        my @d = split /[,;\s]+/, $p->{delete};
        unsupported("qm " . join(' ', 'set', @$args)) if grep { $_ ne 'hookscript' } @d;
    }
    unsupported("qm " . join(' ', 'set', @$args))
        if !grep { defined $p->{$_} } qw(delete hookscript name tags);
    return 0 if maybe_garbage_or_hang();
    my $vmid = $p->{vmid};
    if (defined(my $h = $p->{hookscript})) {
        eval { check_hookscript($h) };
        if (my $e = $@) {
            die $e if ref($e) eq 'PVESim::Unsupported';
            $e = $e->{msg} if ref $e;
            param_err($usage, hookscript => $e);
        }
    }
    lock_vm($vmid, 10, 0, sub {
        my $c = load_local($vmid);
        check_lock($c->{main});
        if (defined $p->{delete}) { delete $c->{main}->{hookscript} }
        if (defined $p->{hookscript}) { $c->{main}->{hookscript} = $p->{hookscript} }
        # qm set on a stopped VM (or a template) writes the values at once (API2/Qemu.pm
        # update_vm_api: pending, then vmconfig_apply_pending); one config write for all
        $c->{main}->{name} = $p->{name} if defined $p->{name};
        $c->{main}->{tags} = unique_tags($p->{tags}) if defined $p->{tags};
        PVESim::write_conf($vmid, $c);
    });
    return 0;
}

# pve-guest-common GuestHelpers.pm get_unique_tags, with datacenter.cfg's tag-style at its
# defaults (ordering alphabetical, case-insensitive): lower-cased, sorted, each once, ';'
sub unique_tags($tags) {
    my %seen;
    return join(';', grep { !$seen{$_}++ } sort map { lc } grep { length } split /[;,\s]+/, $tags);
}

sub cmd_unlock($args) {
    $MUTATING = JSON::PP::true;
    my $p = parse_cli('qm unlock <vmid>', { vmid => vmid_prop() }, ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    lock_vm($p->{vmid}, 10, 0, sub {
        my $c = load_local($p->{vmid});
        delete $c->{main}->{lock};
        delete $c->{pending}->{lock};
        PVESim::write_conf($p->{vmid}, $c);
    });
    return 0;
}

# ------------------------------------------------------------ start / stop / shutdown

sub cmd_start($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm start <vmid> [OPTIONS]';
    my @a = @$args;
    for my $x (@a) {
        unsupported("qm " . join(' ', 'start', @$args)) if $x =~ m/^--?(?!skiplock)[a-z]/;
    }
    my $p = parse_cli($usage, { vmid => vmid_prop(), skiplock => { type => 'boolean', optional => 1 } },
        ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    my $vmid = $p->{vmid};
    # qemu-server API2/Qemu.pm vm_start: nothing is loaded before the fork except the
    # storage config; a missing VM config is a worker error (exit 255)
    my $cfg = storage_config();
    if (my $c = PVESim::load_conf($vmid)) {
        # paths the simulator does not implement fail before the worker starts
        my $conf = $c->{main};
        my $lock = $conf->{lock} // '';
        unsupported("qm start of a running VM with lock 'backup' (vm_resume)")
            if $lock eq 'backup' && PVESim::is_running($vmid);
        unsupported("qm start of a hibernated VM (resume from vmstate)")
            if !is_template($conf) && ($lock eq 'suspended' || defined $conf->{vmstate});
        unsupported("qm start with pending changes (vmconfig_apply_pending)")
            if !is_template($conf) && %{ $c->{pending} };
        my @sids;
        for my $d (PVESim::conf_drives($conf)) {
            my ($sid) = PVESim::parse_volume_id($d->[1]->{file} // '', 1);
            next if !defined $sid;
            # cloud-init is regenerated before pre-start (Cloudinit.pm commit_cloudinit_disk)
            # with its own activation-failure handling: not simulated
            unsupported("storage-inactive fault on the cloud-init drive's storage '$sid' for qm start")
                if PVESim::drive_is_cloudinit($d->[1]) && PVESim::storage_fault_listed('qm', 'start', $sid);
            push @sids, $sid;
        }
        check_inactive_fault_supported($cfg, 'start', @sids);
    }
    my $ok = run_worker(sub {
        # QemuServer.pm vm_start: lock_config, load_config, template check, check_lock
        # (unless skiplock or lock 'suspended'), then "VM <vmid> already running"
        lock_vm($vmid, 10, 0, sub {
            my $c = load_local($vmid);
            my $conf = $c->{main};
            die "you can't start a vm if it's a template\n" if is_template($conf);
            check_lock($conf) if !$p->{skiplock};
            die "VM $vmid already running\n" if PVESim::is_running($vmid);
            # vm_start_nolock: cloud-init ISO generation (Cloudinit.pm commit_cloudinit_disk
            # prints this for each cloud-init drive), then pre-start
            for my $d (PVESim::conf_drives($conf)) {
                my (undef, $vn) = PVESim::parse_volume_id($d->[1]->{file} // '', 1);
                print "generating cloud-init ISO\n" if defined($vn) && $vn =~ m/vm-$vmid-cloudinit/;
            }
            exec_hookscript($conf, $vmid, 'pre-start', 1, { start => 1 });
            # then activate_volumes (Storage.pm activate_storage: "... is not online")
            my %seen;
            for my $d (PVESim::conf_drives($conf)) {
                my ($sid) = PVESim::parse_volume_id($d->[1]->{file} // '', 1);
                next if !defined($sid) || $seen{$sid}++;
                die "storage '$sid' is not online\n" if PVESim::storage_fault_inactive('qm', 'start', $sid);
            }
            PVESim::set_run_state($vmid, 'running');
            exec_hookscript($conf, $vmid, 'post-start', 0, { start => 1 });
        });
    });
    return $ok ? 0 : 255;
}

sub assert_config_exists($vmid) {
    my $node = PVESim::nodename();
    die "unable to find configuration file for VM $vmid on node '$node'\n"
        if !-f PVESim::conf_path($vmid);
}

# qemu-server >= 9.1.13 decides by /run/qemu-server/force-legacy-cleanup (QemuServer/
# RunState.pm can_use_cleanup_flag; debian/preinst creates it when upgrading from an older
# version, a reboot removes it). Knob PVESIM_LEGACY_CLEANUP=1 simulates that file.
sub legacy_cleanup() { ($ENV{PVESIM_LEGACY_CLEANUP} // '') eq '1' }

# qemu-server QemuServer.pm _do_vm_stop (called under the config lock by vm_stop):
# check_running (asserts the config exists), load_config, check_lock, pre-stop, QMP
# quit/powerdown, wait, then vm_stop_cleanup. With the cleanup flag (the default) that
# runs the post-stop hook right there - still under the lock, output in the worker's
# stdout - and clears the flag; in legacy mode it runs no hook.
sub do_stop($vmid) {
    assert_config_exists($vmid);
    return 0 if !PVESim::is_running($vmid);
    my $c = load_local($vmid);
    my $conf = $c->{main};
    check_lock($conf);
    exec_hookscript($conf, $vmid, 'pre-stop', 0);
    PVESim::set_run_state($vmid, 'stopped');
    exec_hookscript($conf, $vmid, 'post-stop', 0) if !legacy_cleanup();
    return 1;
}

# QEMU has exited: qmeventd (src/qmeventd/qmeventd.c) runs `qm cleanup <vmid> 1 0`
# (CLI/qm.pm 'cleanup') on its own, detached from qm stop, with its output going to
# qmeventd's log - simulated as DIR/log/qmeventd.log. It waits for the config lock
# (lock_config_full, 60 s) and, only in legacy mode, runs the post-stop hook itself.
sub spawn_qmeventd_cleanup($vmid) {
    make_path("$DIR/log");
    my $pid = fork() // die "fork failed: $!\n";
    return if $pid;
    POSIX::setsid();
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', "$DIR/log/qmeventd.log") or POSIX::_exit(1);
    open(STDERR, '>&', \*STDOUT);
    select(STDERR); $| = 1; select(STDOUT); $| = 1;
    %HELD = ();
    eval {
        return if !-f PVESim::conf_path($vmid);
        print STDERR "Starting cleanup for $vmid\n";
        lock_file_full("/var/lock/qemu-server/lock-$vmid.conf", "$DIR/lock/lock-$vmid.conf", 60, 0, sub {
            my $c = load_local($vmid);
            exec_hookscript($c->{main}, $vmid, 'post-stop', 0) if legacy_cleanup();
        });
        print STDERR "Finished cleanup for $vmid\n";
    };
    if (my $e = $@) { print STDERR ref($e) ? $e->{msg} : $e }
    POSIX::_exit(0);
}

sub cmd_stop($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm stop <vmid> [OPTIONS]';
    for my $x (@$args) { unsupported("qm " . join(' ', 'stop', @$args)) if $x =~ m/^--?[a-z]/ }
    my $p = parse_cli($usage, { vmid => vmid_prop() }, ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    my $vmid = $p->{vmid};
    # API2/Qemu.pm vm_stop: storage config, then the worker (everything else is in it)
    storage_config();
    my $stopped = 0;
    my $ok = run_worker(sub { lock_vm($vmid, 10, 0, sub { $stopped = do_stop($vmid) }) });
    spawn_qmeventd_cleanup($vmid) if $stopped;
    return $ok ? 0 : 255;
}

sub cmd_shutdown($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm shutdown <vmid> [OPTIONS]';
    for my $x (@$args) { unsupported("qm " . join(' ', 'shutdown', @$args)) if $x =~ m/^--?[a-z]/ }
    my $p = parse_cli($usage, { vmid => vmid_prop() }, ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    my $vmid = $p->{vmid};
    # API2/Qemu.pm vm_shutdown: storage config, then QemuServer.pm vm_is_paused($vmid, 1):
    # assert_config_exists_on_node + QMP query-status inside an eval whose error is
    # warned as "$@\n" (so with an empty line after it); the QMP call on a stopped VM
    # dies "VM <vmid> not running" (QemuServer/Monitor.pm qmp_cmd)
    storage_config();
    my $st = PVESim::run_state($vmid)->{status};
    if (!-f PVESim::conf_path($vmid)) {
        print STDERR "unable to find configuration file for VM $vmid on node '" . PVESim::nodename() . "'\n\n";
    } elsif ($st eq 'stopped') {
        print STDERR "VM $vmid not running\n\n";
    } elsif ($st eq 'paused' || $st eq 'prelaunch' || $st eq 'suspended') {
        # a plain die before the fork: exit per the die rule, errno unknown -> 255
        die "VM is paused - cannot shutdown\n";
    }
    # the worker: vm_stop -> lock_config -> _do_vm_stop (a missing config dies there,
    # a stopped VM is a no-op)
    my $stopped = 0;
    my $ok = run_worker(sub { lock_vm($vmid, 10, 0, sub { $stopped = do_stop($vmid) }) });
    spawn_qmeventd_cleanup($vmid) if $stopped;
    return $ok ? 0 : 255;
}

# ------------------------------------------------------------ qm destroy

sub cmd_destroy($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm destroy <vmid> [OPTIONS]';
    for my $x (@$args) { unsupported("qm " . join(' ', 'destroy', @$args)) if $x =~ m/^--?[a-z]/ }
    my $p = parse_cli($usage, { vmid => vmid_prop() }, ['vmid'], $args);
    return 0 if maybe_garbage_or_hang();
    my $vmid = $p->{vmid};
    # qemu-server API2/Qemu.pm destroy_vm $early_checks (before the fork and again under
    # the lock): load_config, check_protection (pve-guest-common AbstractConfig.pm:
    # "<prefix> - protection mode enabled"), HA/replication (not simulated), running
    my $early_checks = sub {
        my $c = load_local($vmid);
        die "can't remove VM $vmid - protection mode enabled\n" if $c->{main}->{protection};
        die "VM $vmid is running - destroy failed\n" if PVESim::is_running($vmid);
        return $c;
    };
    my $c0 = $early_checks->();
    unsupported("qm destroy of a VM with snapshots (vmstate volumes, snapshot volumes)")
        if %{ $c0->{snapshots} };
    unsupported("qm destroy of a VM that is in a pool (AccessControl remove_vm_access)")
        if grep { $_ eq $vmid } map { split /,/ } (PVESim::slurp("$DIR/etc/pve/user.cfg") // '') =~ m/^pool:[^:]*:[^:]*:([^:]*):/mg;
    my $ok = run_worker(sub {
        my $cfg = storage_config();    # read inside the worker
        lock_vm($vmid, 10, 0, sub {
            $early_checks->();
            # QemuServer.pm destroy_vm
            my $c = load_local($vmid);
            my $conf = $c->{main};
            check_lock($conf) if ($conf->{lock} // '') ne 'suspended';
            my @drives = map { [$_, PVESim::parse_drive($conf->{$_})] }
                grep { $PVESim::IS_DRIVE{$_} || /^unused\d+$/ } sort keys %$conf;
            if (is_template($conf)) {
                for my $d (@drives) {
                    next if PVESim::drive_is_cdrom($d->[1]);
                    my $volid = $d->[1]->{file};
                    next if !$volid || $volid =~ m|^/|;
                    my ($sid, $vn) = PVESim::parse_volume_id($volid, 1);
                    next if !defined $sid;
                    # pve-storage Storage.pm volume_is_base_and_used
                    my @users = grep {
                        (PVESim::slurp(PVESim::vol_reg_path($sid, $_)) // '') =~ m/^base=\Q$vn\E$/m
                    } PVESim::list_volumes($sid);
                    die "base volume '$volid' is still in use by linked cloned\n" if @users;
                }
            }
            # remove the disks this VM owns (owner from PVE::Storage::path); the storage
            # tools' own output (lvremove ...) is not simulated: its wording is unconfirmed
            my %done;
            for my $d (@drives) {
                my $drive = $d->[1];
                next if PVESim::drive_is_cdrom($drive) && !PVESim::drive_is_cloudinit($drive);
                my $volid = $drive->{file};
                next if !$volid || $volid =~ m|^/| || $done{$volid};
                my ($sid, $vn) = PVESim::parse_volume_id($volid, 1);
                next if !defined $sid;
                my $s = $cfg->{$sid} or next;
                my $pv = eval { PVESim::parse_volname($s, $vn) } or next;
                next if !defined($pv->{vmid}) || $pv->{vmid} != $vmid;
                $done{$volid} = 1;
                PVESim::free_volume($cfg, $volid);
            }
            unlink PVESim::conf_path($vmid);
            PVESim::set_run_state($vmid, 'stopped');
            PVESim::regen_vmlist();
        });
    });
    return $ok ? 0 : 255;
}

# ------------------------------------------------------------ qm migrate (offline only)
#
# Read (not copied) and followed here:
#   qemu-server e6352be6 src/PVE/CLI/qm.pm $cmddef 'migrate': API method migrate_vm, positional
#     ['vmid', 'target'], $upid_exit (exit 0 if the task ended OK/WARNINGS, exit(-1) = 255 else)
#   qemu-server e6352be6 src/PVE/API2/Qemu.pm 'migrate_vm': schema and the checks before the
#     fork; worker 'qmigrate' = GuestHelpers guest_migration_lock + PVE::QemuMigrate->migrate
#   pve-guest-common 4a8f6cb src/PVE/GuestHelpers.pm guest_migration_lock (lock_file on
#     /var/lock/pve-manager/pve-migrate-<vmid>, 10 s)
#   pve-guest-common 4a8f6cb src/PVE/AbstractMigrate.pm migrate (phases, error handling,
#     duration), log / $msg2text (line format)
#   qemu-server e6352be6 src/PVE/QemuMigrate.pm lock_vm, prepare, scan_local_volumes, phase1,
#     phase1_cleanup, phase3_cleanup, final_cleanup
#   qemu-server e6352be6 src/PVE/QemuServer.pm check_storage_availability, foreach_volid,
#     get_vm_volumes, vm_stop/_do_vm_stop (nocheck, stopped VM: no-op), vm_stop_cleanup
#     (skip_hookscript: no post-stop hook)
#   pve-cluster 7091d92 src/PVE/Cluster.pm check_cfs_quorum, check_node_exists, remote_node_ip;
#     src/PVE/SSHInfo.pm get_ssh_info (the IP in the log line)
#   pve-storage 0c56bad src/PVE/Storage.pm storage_check_enabled/_node, activate_volumes,
#     volume_is_base_and_used; src/PVE/Storage/Plugin.pm activate_volume
# Live migration, copying local disks (storage_migrate: the storage tools' output is not
# confirmed) and everything listed in mig_refuse() fail with exit 99 before any effect.

# AbstractMigrate.pm log / $msg2text: "<%F %H:%M:%S localtime>[ ERROR:] <line>" per line
sub mig_log($level, $msg) {
    chomp $msg;
    return if !$msg;
    my $prefix = POSIX::strftime("%F %H:%M:%S", localtime);
    $prefix .= " ERROR:" if $level eq 'err';
    print "$prefix $_\n" for split /\n/, $msg;
}

# pve-cluster Cluster.pm check_cfs_quorum (/etc/pve/local writable only with quorum; the
# simulator takes "quorate" from .members)
sub check_cfs_quorum() {
    my $cl = PVESim::members()->{cluster} // {};
    die "cluster not ready - no quorum?\n" if defined($cl->{quorate}) && !$cl->{quorate};
}

# QemuServer.pm foreach_volid: all volumes of drives, unusedN and vmstate in the main
# section, [PENDING] and every snapshot, with the attributes the migration looks at
sub mig_volids($c) {
    my %vh;
    my $test = sub ($key, $drive, $snapname, $pending) {
        my $volid = $drive->{file};
        return if !defined($volid) || $volid eq '';
        my $a = ($vh{$volid} //= {});
        $a->{cdrom} //= 1;
        $a->{cdrom} = 0 if !PVESim::drive_is_cdrom($drive);
        $a->{is_cloudinit} = 1 if PVESim::drive_is_cloudinit($drive);
        $a->{is_unused} //= 0;
        $a->{is_unused} = 1 if $key =~ m/^unused\d+$/;
        $a->{is_attached} //= 0;
        $a->{is_attached} = 1 if !$a->{is_unused} && !defined($snapname) && !$pending;
        $a->{referenced_in_snapshot}->{$snapname} = 1 if defined $snapname;
        $a->{referenced_in_pending} = 1 if $pending;
        $a->{is_vmstate} = 1 if $key eq 'vmstate';
        $a->{is_tpmstate} = 1 if $key eq 'tpmstate0';
    };
    my $each = sub ($conf, $snapname, $pending) {
        for my $k (@PVESim::DRIVE_NAMES, 'vmstate', sort grep { /^unused\d+$/ } keys %$conf) {
            next if !defined $conf->{$k};
            my $d = $k =~ m/^(vmstate|unused\d+)$/ ? { file => $conf->{$k} } : PVESim::parse_drive($conf->{$k});
            $test->($k, $d, $snapname, $pending);
        }
    };
    $each->($c->{main}, undef, 0);
    $each->($c->{pending}, undef, 1) if %{ $c->{pending} // {} };
    $each->($c->{snapshots}->{$_}, $_, 0) for sort keys %{ $c->{snapshots} // {} };
    return \%vh;
}

# QemuServer.pm get_vm_volumes: foreach_volid minus absolute paths and non-volume IDs
sub mig_vm_volumes($c) {
    my $vh = mig_volids($c);
    return grep { !m|^/| && defined((PVESim::parse_volume_id($_, 1))[0]) } sort keys %$vh;
}

# pve-storage Storage.pm volume_is_base_and_used: a base volume is "used" if the plugin's
# parse_volname of some image on the storage names it as basename/basevmid (lvmthin's
# parse_volname returns no basename, so there it is never "used")
sub mig_base_and_used($sid, $volname, $s) {
    my $p = PVESim::parse_volname($s, $volname);
    return 0 if !$p->{isBase};
    for my $v (PVESim::list_volumes($sid)) {
        my $q = eval { PVESim::parse_volname($s, $v) } or next;
        return 1 if $q->{basename} && defined($q->{basevmid}) && $q->{basevmid} == $p->{vmid}
            && $q->{basename} eq $p->{name};
    }
    return 0;
}

# Paths of the offline migration that the simulator does not implement (exit 99), checked
# before the fork so that nothing has happened yet.
sub mig_refuse($vmid, $c, $target) {
    my $conf = $c->{main};
    # QemuMigrate/Helpers.pm check_local_resources (prepare dies "can't migrate VM which
    # uses local devices: <list>" in hash order, or with --force logs and goes on; mapped
    # devices need the mapping configs): none of it simulated
    my @res;
    push @res, grep { $conf->{$_} } qw(hostusb hostpci ivshmem);
    for my $k (sort keys %$conf) {
        next if $k =~ m/^usb\d+$/ && $conf->{$k} =~ m/(?:^|,)host=spice(?:,|$)/i;
        next if $k =~ m/^serial\d+$/ && $conf->{$k} eq 'socket';
        push @res, $k if $k =~ m/^(usb|hostpci|serial|parallel|virtiofs)\d+$/;
    }
    unsupported("qm migrate of a VM with local devices (" . join(', ', @res) . ")") if @res;
    # QemuConfig.pm cleanup_fleecing_images (prepare) logs and frees left-over images
    unsupported("qm migrate of a VM with [special:fleecing] images") if $c->{special}->{fleecing};
    # QemuMigrate.pm config_update_local_disksizes rewrites efidisk0/tpmstate0 sizes
    # (update_efidisk_size, update_tpmstate_size): not simulated
    for my $k (qw(efidisk0 tpmstate0)) {
        unsupported("qm migrate of a VM with $k (disk size rewrite)")
            if grep { defined $_->{$k} } $conf, $c->{pending} // {}, values %{ $c->{snapshots} // {} };
    }
    # HA (API2/Qemu.pm: vm_is_ha_managed -> 'ha-manager migrate'), replication
    # (QemuMigrate.pm prepare/handle_replication), datacenter.cfg migration settings
    # (AbstractMigrate.pm migrate: network -> mtunnel, type)
    unsupported("qm migrate with HA resources configured (etc/pve/ha/resources.cfg)")
        if -e "$DIR/etc/pve/ha/resources.cfg";
    unsupported("qm migrate with replication jobs configured (etc/pve/replication.cfg)")
        if -e "$DIR/etc/pve/replication.cfg";
    unsupported("qm migrate with a 'migration' setting in etc/pve/datacenter.cfg")
        if (PVESim::slurp("$DIR/etc/pve/datacenter.cfg") // '') =~ m/^migration:/m;
    # storage-inactive fault: only the shared-storage check in prepare is simulated
    # ("Used shared storage '<sid>' is not online on source node!", plugin check_connection)
    my $cfg = PVESim::storage_cfg();
    my %sids = map { ((PVESim::parse_volume_id($_))[0] => 1) } mig_vm_volumes($c);
    for my $sid (sort keys %sids) {
        next if !PVESim::storage_fault_listed('qm', 'migrate', $sid);
        my $s = $cfg->{$sid} // {};
        unsupported("storage-inactive fault on storage '$sid' for qm migrate (only shared"
            . " nfs, cifs, iscsi, esxi storages)")
            if !$s->{shared} || !$PVESim::CHECK_CONNECTION_TYPES{ $s->{type} };
    }
    # dry run of prepare's storage checks and of scan_local_volumes: real errors are left
    # to the worker; copying local volumes is not simulated
    my $scan = eval { mig_prepare_checks($c, $cfg, $target, 1); mig_scan($c, $cfg, $vmid, $target) };
    if (my $e = $@) {
        die $e if ref($e) eq 'PVESim::Unsupported';
        return;
    }
    unsupported("qm migrate copying local volumes (" . join(', ', sort keys %{ $scan->{local} })
        . "; PVE::Storage::storage_migrate output not confirmed)")
        if !$scan->{abort} && %{ $scan->{local} };
}

# QemuMigrate.pm prepare, the loop over get_vm_volumes: storage enabled on this node,
# target_storage_check_available (enabled on the target, content type), and for shared
# storages the check_connection warning (plain warn: worker output, no timestamp)
sub mig_prepare_checks($c, $cfg, $target, $dry) {
    for my $volid (mig_vm_volumes($c)) {
        my ($sid, $volname) = PVESim::parse_volume_id($volid);
        my $scfg = PVESim::storage_check_enabled($cfg, $sid);
        my $tscfg = PVESim::storage_check_enabled($cfg, $sid, $target);
        my $vtype = PVESim::parse_volname($tscfg, $volname)->{vtype};
        die "$volid: content type '$vtype' is not available on storage '$sid'\n"
            if !$tscfg->{contenthash}->{$vtype};
        if ($scfg->{shared} && !$dry) {
            print STDERR "Used shared storage '$sid' is not online on source node!\n"
                if PVESim::storage_fault_inactive('qm', 'migrate', $sid);
        }
    }
}

# QemuMigrate.pm scan_local_volumes for an offline migration inside the cluster (no
# storage map, no replication). Pure: returns { log => [[level, msg], ...],
# abort => error text or undef, local => { volid => ref } }.
sub mig_scan($c, $cfg, $vmid, $target) {
    my $vh = mig_volids($c);
    my (%local, %errs, @other);
    my $abort = 0;
    my $test_volid = sub ($volid, $attr) {
        unsupported("qm migrate of a VM with the local file/device '$volid'") if $volid =~ m|^/|;
        my $snaprefs = $attr->{referenced_in_snapshot};
        if ($attr->{cdrom}) {
            if ($volid eq 'cdrom') {
                my $msg = "can't migrate local cdrom drive";
                $msg .= " (referenced in snapshot - " . join(', ', sort keys %$snaprefs) . ")"
                    if $snaprefs && !$attr->{is_attached};
                push @other, "$msg\n";
                $abort = 1;
                return;
            }
            return if $volid eq 'none';
        }
        my ($sid, $volname) = PVESim::parse_volume_id($volid);
        my $scfg = PVESim::storage_check_enabled($cfg, $sid);
        # target_storage_check_available
        my $tscfg = PVESim::storage_check_enabled($cfg, $sid, $target);
        my $p = PVESim::parse_volname($scfg, $volname);
        die "$volid: content type '$p->{vtype}' is not available on storage '$sid'\n"
            if !$tscfg->{contenthash}->{ $p->{vtype} };
        return if $scfg->{shared};
        my $ref;
        $ref = 'pending' if $attr->{referenced_in_pending};
        $ref = 'snapshot' if $attr->{referenced_in_snapshot};
        $ref = 'unused' if $attr->{is_unused};
        $ref = 'attached' if $attr->{is_attached};
        $ref = 'generated' if $attr->{is_tpmstate};
        $local{$volid} = $ref;
        # activate_volumes (Storage.pm) -> Plugin.pm activate_volume checks that the file
        # exists; then volume_size_info (qemu-img info on the file)
        my $t = $scfg->{type};
        if ($PVESim::FILE_TYPES{$t}) {
            my ($path) = PVESim::volume_path($cfg, $volid);
            die "volume '$sid:$volname' does not exist\n" if !-e $path;
        } elsif ($t eq 'lvm' || $t eq 'lvmthin') {
            unsupported("qm migrate: size of the missing volume '$volid' (lvs error text)")
                if !PVESim::vol_exists($sid, $volname);
        } else {
            unsupported("qm migrate with a local volume on storage type '$t' ('$volid')");
        }
        if ($attr->{cdrom}) {
            if ($volid =~ m/vm-\d+-cloudinit/) {
                $local{$volid} = 'generated';
                return;
            }
            die "local cdrom image\n";
        }
        my (undef, $owner) = PVESim::volume_path($cfg, $volid);    # PVE::Storage::path
        unsupported("qm migrate of a volume without owner ('$volid')") if !defined $owner;
        die "owned by other VM (owner = VM $owner)\n" if $owner != $vmid;
        return if $attr->{is_vmstate};
        if ($snaprefs) {
            my $fmt = $p->{format} // 'raw';
            die "non-migratable snapshot exists\n"
                if !($t eq 'zfspool' || ($t eq 'btrfs' && $fmt eq 'raw')
                    || ($fmt eq 'qcow2' && !$scfg->{'snapshot-as-volume-chain'}));
        }
        die "referenced by linked clone(s)\n" if mig_base_and_used($sid, $volname, $scfg);
    };
    for my $volid (sort keys %$vh) {
        eval { $test_volid->($volid, $vh->{$volid}) };
        if (my $e = $@) {
            die $e if ref($e) eq 'PVESim::Unsupported';
            $e = $e->{msg} if ref $e;
            $errs{$volid} = $e;
            $abort = 1;
        }
    }
    my @log;
    for my $vol (sort keys %local) {
        my $ref = $local{$vol} // '';
        my %txt = (attached => ' (attached)', unused => ' (unused)',
            snapshot => ' (referenced by snapshot(s))', pending => ' (pending change)');
        if ($ref eq 'generated') {
            push @log, ['info', "found generated disk '$vol' (in current VM config)\n"];
        } else {
            push @log, ['info', "found local disk '$vol'" . ($txt{$ref} // '') . "\n"];
        }
    }
    push @log, ['warn', "can't migrate local disk '$_': $errs{$_}"] for sort keys %errs;
    push @log, ['warn', $_] for @other;
    return { log => \@log, local => \%local,
        abort => $abort ? "can't migrate VM - check log\n" : undef };
}

# AbstractMigrate.pm migrate with QemuMigrate.pm's phases, offline
sub mig_run($vmid, $target, $ip, $p) {
    my $starttime = CORE::time();
    my $errors = 0;
    eval {
        lock_vm($vmid, 10, 0, sub {    # QemuMigrate.pm lock_vm: lock_config (10 s)
            # prepare
            my $c = load_local($vmid);
            my $cfg = storage_config();
            check_lock($c->{main});
            if (PVESim::is_running($vmid)) {
                die "can't migrate running VM without --online\n" if !$p->{online};
                unsupported("qm migrate --online of a running VM (live migration)");
            }
            mig_refuse($vmid, $c, $target);
            mig_prepare_checks($c, $cfg, $target, 0);
            # (ssh <target> /bin/true succeeds: not simulated otherwise)

            # phase1
            eval {
                mig_log('info', "starting migration of VM $vmid to node '$target' ($ip)");
                $c->{main}->{lock} = 'migrate';
                PVESim::write_conf($vmid, $c);
                my $scan = mig_scan($c, $cfg, $vmid, $target);
                mig_log(@$_) for @{ $scan->{log} };
                die "Problem found while scanning volumes - $scan->{abort}" if $scan->{abort};
                unsupported("qm migrate copying local volumes") if %{ $scan->{local} };
                # config_update_local_disksizes: nothing local; write_config
                PVESim::write_conf($vmid, $c);
            };
            if (my $err = $@) {
                die $err if ref($err) eq 'PVESim::Unsupported';
                $err = $err->{msg} if ref $err;
                mig_log('err', $err);
                # phase1_cleanup: drop the migrate lock again (no remote disks, no bitmaps)
                mig_log('info', "aborting phase 1 - cleanup resources");
                delete $c->{main}->{lock};
                eval { PVESim::write_conf($vmid, $c) };
                if (my $e = $@) { mig_log('err', ref($e) ? $e->{msg} : $e) }
                die $err;
            }

            # phase3_cleanup: update_volume_ids with an empty map + write_config,
            # move_config_to_node, vm_stop(nocheck) is a no-op for a stopped VM,
            # vm_stop_cleanup skips the hookscript, then 'ssh <target> qm unlock <vmid>'
            eval {
                PVESim::write_conf($vmid, $c);
                my $dst = PVESim::conf_dir($target);
                make_path($dst);
                rename(PVESim::conf_path($vmid), "$dst/$vmid.conf")
                    or die "failed to move config file to node '$target': $!\n";
                PVESim::regen_vmlist();
                my $tc = PVESim::load_conf($vmid, $target);
                delete $tc->{main}->{lock};
                delete $tc->{pending}->{lock};
                PVESim::write_conf($vmid, $tc, $target);
            };
            if (my $err = $@) {
                mig_log('err', ref($err) ? $err->{msg} : $err);
                $errors = 1;
            }
        });
    };
    my $err = $@;
    die $err if ref($err) eq 'PVESim::Unsupported';
    $err = $err->{msg} if ref $err;
    my $delay = CORE::time() - $starttime;
    my $mins = int($delay / 60);
    my $secs = $delay - $mins * 60;
    my $hours = int($mins / 60);
    $mins -= $hours * 60;
    my $duration = sprintf("%02d:%02d:%02d", $hours, $mins, $secs);
    if ($err) {
        mig_log('err', "migration aborted (duration $duration): $err");
        die "migration aborted\n";
    }
    if ($errors) {
        mig_log('err', "migration finished with problems (duration $duration)");
        die "migration problems\n";
    }
    mig_log('info', "migration finished successfully (duration $duration)");
}

sub cmd_migrate($args) {
    $MUTATING = JSON::PP::true;
    my $usage = 'qm migrate <vmid> <target> [OPTIONS]';
    my $bool = { type => 'boolean', optional => 1 };
    my $schema = {
        vmid => vmid_prop(),
        target => { type => 'string', format => 'pve-node' },
        online => $bool, force => $bool, 'with-local-disks' => $bool,
        'with-conntrack-state' => $bool,
        migration_type => { type => 'string', enum => ['secure', 'insecure'], optional => 1 },
        migration_network => { type => 'string', optional => 1 },    # format CIDR: not simulated
        targetstorage => { type => 'string', optional => 1 },       # storage map: not simulated
        bwlimit => { type => 'integer', minimum => 0, optional => 1 },
    };
    my $p = parse_cli($usage, $schema, ['vmid', 'target'], $args);
    return 0 if maybe_garbage_or_hang();
    my ($vmid, $target) = @$p{qw(vmid target)};
    # --migration_network: AbstractMigrate.pm asks the target via 'pvecm mtunnel' for its
    # address and logs "use dedicated network address ..."; --targetstorage: parse_idmap and
    # check_storage_access_migrate texts. Neither is simulated.
    for my $o (qw(migration_network targetstorage)) {
        unsupported("qm migrate --$o") if defined $p->{$o};
    }
    # --force (local devices, replication), --with-local-disks (only checked for a running
    # VM in scan_local_volumes), --migration_type, --bwlimit (only used for local volumes)
    # and --with-conntrack-state (reset to 0 for a stopped VM) change nothing for the
    # offline migrations simulated here; root may use all of them.

    # API2/Qemu.pm migrate_vm, before the fork
    my $localnode = PVESim::nodename();
    param_err($usage, target => 'target is local node.') if $target eq $localnode;
    check_cfs_quorum();
    die "no such cluster node '$target'\n" if !PVESim::node_exists($target);
    # remote_node_ip: the nodelist's ip (falls back to a DNS lookup: not simulated)
    my $ip = PVESim::members()->{nodelist}->{$target}->{ip}
        // unsupported("qm migrate to node '$target' without an ip in etc/pve/.members");
    # QemuMigrate.pm prepare tests 'ssh <target> /bin/true' ("Can't connect to destination
    # address using public key"); how long ssh takes to fail for a dead node is unknown
    unsupported("qm migrate to node '$target' marked offline in etc/pve/.members")
        if !(PVESim::members()->{nodelist}->{$target}->{online} // 1);
    my $c = load_local($vmid);    # "Configuration file '...' does not exist", exit 2
    check_lock($c->{main});
    if (PVESim::is_running($vmid)) {
        die "can't migrate running VM without --online\n" if !$p->{online};
        unsupported("qm migrate --online of a running VM (live migration)");
    }
    print STDERR "VM isn't running. Doing offline migration instead.\n" if $p->{online};
    my $cfg = storage_config();
    # QemuServer.pm check_storage_availability: drives of the main section, in
    # valid_drive_names order; storage enabled here and on the target, content type
    my $conf = $c->{main};
    for my $k (grep { defined $conf->{$_} } @PVESim::DRIVE_NAMES) {
        my $volid = PVESim::parse_drive($conf->{$k})->{file};
        next if !$volid;
        my ($sid, $volname) = PVESim::parse_volume_id($volid, 1);
        next if !defined $sid;
        my $scfg = PVESim::storage_check_enabled($cfg, $sid);
        PVESim::storage_check_enabled($cfg, $sid, $target);
        my $vtype = PVESim::parse_volname($scfg, $volname)->{vtype};
        die "$volid: content type '$vtype' is not available on storage '$sid'\n"
            if !$scfg->{contenthash}->{$vtype};
    }
    mig_refuse($vmid, $c, $target);
    my $ok = run_worker(sub {
        lock_file_full("/var/lock/pve-manager/pve-migrate-$vmid", "$DIR/lock/pve-migrate-$vmid",
            10, 0, sub { mig_run($vmid, $target, $ip, $p) });
    });
    return $ok ? 0 : 255;
}

# ------------------------------------------------------------ pvesm

sub cmd_pvesm_status($args) {
    my $usage = 'pvesm status  [OPTIONS]';
    my $p = parse_cli($usage, {
            content => { type => 'string', format => 'pve-storage-content-list', optional => 1 },
            storage => { type => 'string', format => 'pve-storage-id', optional => 1 },
            enabled => { type => 'boolean', optional => 1 },
            target => { type => 'string', format => 'pve-node', optional => 1 },
            format => { type => 'boolean', optional => 1 },
        }, [], $args);
    return 0 if maybe_garbage_or_hang();
    # pve-storage src/PVE/API2/Storage/Status.pm 'index' and src/PVE/Storage.pm storage_info
    my $cfg = storage_config();
    my $node = PVESim::nodename();
    my $target = $p->{target};
    undef $target if $target && ($target eq $node || $target eq 'localhost');
    # storage_info: every storage, minus (with --content) those without a wanted content
    # type or not enabled on this node (storage_check_enabled: disable, nodes)
    my %info;
    my @ctypes = grep { $_ ne '' } split /[,;\s]+/, ($p->{content} // '');
    for my $sid (keys %$cfg) {
        my $s = $cfg->{$sid};
        my $enabled = PVESim::storage_enabled_on($s, $node);
        if (defined $p->{content}) {
            next if !(grep { $s->{contenthash}->{$_} } @ctypes) || !$enabled;
        }
        $info{$sid} = { enabled => $enabled, active => 0, total => 0, used => 0, avail => 0 };
    }
    # then activates every enabled one (a failure is warned and leaves it inactive)
    for my $sid (sort keys %info) {
        next if !$info{$sid}->{enabled};
        if (PVESim::storage_fault_inactive('pvesm', 'status', $sid)) {
            print STDERR "storage '$sid' is not online\n";
            next;
        }
        my ($t, $u, $a) = capacity($sid, $cfg->{$sid});
        @{ $info{$sid} }{qw(active total used avail)} = (1, $t, $u, $a);
    }
    param_err($usage, storage => 'No such storage.') if $p->{storage} && !$info{ $p->{storage} };
    # A target node is not checked for existence: any name of the pve-node format passes
    # and the shared storages whose 'nodes' list does not exclude it are listed, exit 0
    # (pve-storage 0c56bad src/PVE/API2/Storage/Status.pm 'index' calls no
    # check_node_exists, only storage_check_node($cfg, $sid, $target, 1) of
    # src/PVE/Storage.pm, which looks at the storage's 'nodes' alone; src/PVE/CLI/pvesm.pm
    # 'status' runs it with node => the local node). An unknown node is refused later,
    # by qm clone (qemu-server API2/Qemu.pm clone_vm -> pve-cluster Cluster.pm
    # check_node_exists: "no such cluster node '<target>'").
    my @rows;
    for my $sid (sort keys %info) {
        next if $p->{storage} && $p->{storage} ne $sid;
        my $s = $cfg->{$sid};
        next if $p->{enabled} && $s->{disable};
        if ($target) {
            next if !$s->{shared};
            next if $s->{nodehash} && !$s->{nodehash}->{$node};      # storage_check_node(local)
            next if $s->{nodehash} && !$s->{nodehash}->{$target};    # storage_check_node(target)
        }
        push @rows, [$sid, $s, $info{$sid}];
    }
    my $maxlen = 0;
    for (@rows) { $maxlen = length($_->[0]) if length($_->[0]) > $maxlen }
    $maxlen += 1;
    my @out;
    for my $r (@rows) {
        my ($sid, $s, $i) = @$r;
        # CLI/pvesm.pm $print_status: 'disabled' if not enabled, else active/inactive
        my $status = !$i->{enabled} ? 'disabled' : $i->{active} ? 'active' : 'inactive';
        push @out, [$sid, $s->{type}, $status, @$i{qw(total used avail)}];
    }
    my @hdr = $ENV{PVESIM_PVESM_OLD_HEADER}
        ? ('Name', 'Type', 'Status', 'Total', 'Used', 'Available', '%')
        : ('Name', 'Type', 'Status', 'Total (KiB)', 'Used (KiB)', 'Available (KiB)', '%');
    printf "%-${maxlen}s %10s %10s %15s %15s %15s %8s\n", @hdr;
    for my $o (@out) {
        printf "%-${maxlen}s %10s %10s %15d %15d %15d ", @$o[0 .. 5];
        if ($o->[2] eq 'disabled') {
            printf "%8s\n", 'N/A';
        } else {
            my $per = $o->[3] ? ($o->[4] * 100) / $o->[3] : 0;
            printf "%7.2f%%\n", $per;
        }
    }
    return 0;
}

# capacities in KiB; DIR/storage-capacity lines "<sid> <total KiB> <base used KiB>"
sub capacity($sid, $s) {
    my %cap;
    for (split /\n/, PVESim::slurp("$DIR/storage-capacity") // '') {
        my ($id, $t, $u) = split;
        $cap{$id} = [$t, $u] if defined $u;
    }
    my ($total, $base) = @{ $cap{$sid} // [0, 0] };
    return (0, 0, 0) if !$total;
    my $used = $base + int(PVESim::storage_used_bytes($sid) / 1024);
    $used = $total if $used > $total;
    return ($total, $used, $total - $used);
}

# pve-storage src/PVE/CLI/pvesm.pm method 'path': parameter 'volume' has format
# 'pve-volume-id' (Plugin.pm parse_volume_id as validator), then
# print PVE::Storage::path($cfg, $volume) . "\n" (see storage_path above); errors are a
# plain die (exit per the die rule of pve-interface.md section 9; 255 here).
sub cmd_pvesm_path($args) {
    my $usage = 'pvesm path <volume>';
    my $p = parse_cli($usage, { volume => { type => 'string', format => 'pve-volume-id' } },
        ['volume'], $args);
    return 0 if maybe_garbage_or_hang();
    my $cfg = storage_config();
    my ($path) = storage_path($cfg, $p->{volume});
    print "$path\n";
    return 0;
}

# ------------------------------------------------------------ dispatch

sub resolve($name, $table) {
    return $name if exists $table->{$name};
    my @m = grep { /^\Q$name\E/ && defined $table->{$_} } keys %$table;
    return $m[0] if @m == 1;
    return undef;
}

sub main() {
    if (my $ms = $ENV{PVESIM_LATENCY_MS}) { sleep($ms / 1000) }
    die "pvesim: state directory '$DIR' missing\n" if !-d "$DIR/etc/pve";
    my %impl = $PROG eq 'qm'
        ? (status => \&cmd_status, config => \&cmd_config, list => \&cmd_list, clone => \&cmd_clone,
            template => \&cmd_template, set => \&cmd_set, unlock => \&cmd_unlock, start => \&cmd_start,
            stop => \&cmd_stop, shutdown => \&cmd_shutdown, destroy => \&cmd_destroy,
            migrate => \&cmd_migrate)
        : $PROG eq 'pvesm' ? (status => \&cmd_pvesm_status, path => \&cmd_pvesm_path)
        : die "pvesim: unknown program '$PROG'\n";
    my %real = $PROG eq 'qm' ? %QM_COMMANDS : %PVESM_COMMANDS;
    my @a = @ARGS;
    return abort_usage('no command specified') if !@a;
    my $c = shift @a;
    my $cmd = resolve($c, \%real);
    # pve-common CLIHandler.pm $handle_cmd: "no command specified" first, then
    # setup_environment (RESTEnvironment.pm setup_default_cli_env: root@pam needs euid 0),
    # then "unknown command"; a plain die (exit per the die rule; 255 here)
    die "please run as root\n" if $> != 0;
    return abort_usage("unknown command '$PROG $c'") if !$cmd;
    $SUBCMD = $cmd;
    my $fn = $impl{$cmd};
    unsupported("$PROG " . join(' ', @ARGS)) if !$fn;
    return $fn->(\@a);
}

my $rc = eval { main() };
if (my $e = $@) {
    if (ref($e) eq 'PVESim::Unsupported') {
        print STDERR $e->{msg};
        $rc = 99;
    } elsif (ref($e) eq 'PVESim::Err') {
        print STDERR $e->{msg};
        $rc = $e->{rc};
    } else {
        print STDERR $e;
        $rc = 255;
    }
}
$rc //= 0;
log_call($rc);
exit $rc;
