package PVESim;
# Shared state handling for the simulated Proxmox VE node (see ./pvesim for
# the setup CLI and the knob list, ./sim.pl for the qm/pvesm entry point).
# Behaviour follows /work/shared/reference/pve-interface.md; where that left a
# question open, the upstream sources (qemu-server e6352be6, pve-common,
# pve-storage, pve-guest-common) were read, and the place is cited in comments.
use v5.36;
use Fcntl qw(:flock O_CREAT O_RDWR);
use File::Path qw(make_path remove_tree);
use JSON::PP;
use POSIX ();
use Time::HiRes ();

our $DIR;    # state directory (absolute)

# ---------------------------------------------------------------- helpers

sub slurp($f) {
    open(my $fh, '<', $f) or return undef;
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c;
}

sub spew($f, $data) {
    my $tmp = "$f.tmp.$$";
    open(my $fh, '>', $tmp) or die "pvesim: cannot write $tmp: $!\n";
    print $fh $data;
    close $fh or die "pvesim: cannot write $tmp: $!\n";
    rename($tmp, $f) or die "pvesim: rename $tmp: $!\n";
}

sub json() { JSON::PP->new->canonical(1) }

# internal mutex guarding the state files (not a PVE lock)
sub with_state_lock($code) {
    make_path("$DIR/lock");
    open(my $fh, '>>', "$DIR/lock/.pvesim-state") or die "pvesim: state lock: $!\n";
    flock($fh, LOCK_EX) or die "pvesim: state lock: $!\n";
    my @r = eval { $code->() };
    my $err = $@;
    close $fh;
    die $err if $err;
    return wantarray ? @r : $r[0];
}

# ---------------------------------------------------------------- cluster

sub members() {
    my $m = eval { decode_json(slurp("$DIR/etc/pve/.members") // '') };
    die "pvesim: $DIR is not a pvesim state directory (no etc/pve/.members)\n" if !$m;
    return $m;
}
sub nodename() { members()->{nodename} }
sub node_exists($n) { exists members()->{nodelist}->{$n} }
sub all_nodes() { sort keys %{ members()->{nodelist} } }

sub conf_dir($node = undef) { "$DIR/etc/pve/nodes/" . ($node // nodename()) . "/qemu-server" }
sub conf_path($vmid, $node = undef) { conf_dir($node) . "/$vmid.conf" }
sub cfs_rel($vmid, $node = undef) { "nodes/" . ($node // nodename()) . "/qemu-server/$vmid.conf" }

# find the node that owns a VMID (any node), undef if none
sub vm_node($vmid) {
    for my $n (all_nodes()) {
        return $n if -f conf_path($vmid, $n);
    }
    return undef;
}

# ---------------------------------------------------------------- storage.cfg

# pve-storage Plugin.pm @SHARED_STORAGE of PVE 9 (glusterfs left it with its plugin)
my %SHARED_TYPES = map { $_ => 1 } qw(iscsi nfs cifs rbd cephfs iscsidirect zfs drbd pbs);
# plugindata() content => [valid, default] of each plugin (pve-storage src/PVE/Storage/*Plugin.pm)
my %DEFAULT_CONTENT = (
    dir => 'images,rootdir', nfs => 'images', cifs => 'images', lvm => 'images',
    lvmthin => 'images,rootdir', zfspool => 'images,rootdir', rbd => 'images',
    iscsi => 'images', iscsidirect => 'images', cephfs => 'backup',
    pbs => 'backup', esxi => 'import', btrfs => 'images,rootdir', zfs => 'images',
);
my %VALID_CONTENT = (
    dir => [qw(images rootdir vztmpl iso backup snippets none import)],
    nfs => [qw(images rootdir vztmpl iso backup snippets import)],
    cifs => [qw(images rootdir vztmpl iso backup snippets import)],
    btrfs => [qw(images rootdir vztmpl iso backup snippets import)],
    cephfs => [qw(vztmpl iso backup snippets import)],
    lvm => [qw(images rootdir)], lvmthin => [qw(images rootdir)],
    zfspool => [qw(images rootdir)], rbd => [qw(images rootdir)],
    iscsi => [qw(images none)], iscsidirect => [qw(images none)], zfs => [qw(images)],
    pbs => [qw(backup none)], esxi => [qw(import)],
);
our %FILE_TYPES = map { $_ => 1 } qw(dir nfs cifs cephfs);    # btrfs: not simulated

# Types whose plugin options() lack 'shared' (pve-storage src/PVE/Storage/*Plugin.pm):
# all but dir, btrfs, lvm and esxi.
my %NO_SHARED = map { $_ => 1 } qw(cifs cephfs iscsi iscsidirect lvmthin nfs pbs rbd zfs zfspool);
my %BOOLEAN = map { $_ => 1 } qw(shared disable snapshot-as-volume-chain);
# The options each plugin's options() lists without 'optional' (*Plugin.pm): SectionConfig
# check_config dies "missing value for required option" without one (Perl hash order picks
# which is named when several miss; here the first listed).
my %REQUIRED = (
    dir => [qw(path)], btrfs => [qw(path)], cephfs => [qw(path)],
    nfs => [qw(path server export)], cifs => [qw(path server share)],
    lvm => [qw(vgname)], lvmthin => [qw(thinpool vgname)], zfspool => [qw(pool)],
    iscsi => [qw(portal target)], iscsidirect => [qw(portal target)],
    zfs => [qw(portal target pool blocksize iscsiprovider)], pbs => [qw(server datastore)],
    esxi => [qw(server username)], rbd => [],
);
my %REQUIRED_KEY = map { $_ => 1 } map {@$_} values %REQUIRED;

# pve-common src/PVE/SectionConfig.pm check_value, for the properties simulated: the
# error text ("\n"-terminated) or undef.  "unexpected property" only for 'shared';
# JSONSchema.pm check_type takes only '1'/'0' as booleans; Plugin.pm verify_path.
sub check_value($type, $k, $v) {
    return "unexpected property '$k'\n" if $k eq 'shared' && $NO_SHARED{$type};
    return "got undefined value\n" if !defined $v && $REQUIRED_KEY{$k};
    return undef if !defined $v;
    return "property contains a line feed\n" if $v =~ m/[\n\r]/;
    return "type check ('boolean') failed - got '$v'\n" if $BOOLEAN{$k} && $v ne '1' && $v ne '0';
    return "value does not look like a valid absolute path\n"
        if $k eq 'path' && $v !~ m|^/[^;\(\)]+|;
    return undef;
}

# Warnings of the last storage_cfg() parse, in the order PVE prints them.
our @CFG_WARNINGS;

# storage.cfg like pve-common src/PVE/SectionConfig.pm parse_config (loop, warning texts)
# + pve-storage src/PVE/Storage/Plugin.pm parse_section_header, decode_value ('content'),
# parse_config (local forced to dir, default content, shared types).  $filename is what
# pve-cluster src/PVE/Cluster.pm $ccache_read passes: "/etc/pve/storage.cfg".
# Values are checked only for 'shared', the booleans, 'path' and whether the required
# options are there (check_value, check_config above);
# other property names are not checked against each plugin's schema (not simulated).
# A later section of an id replaces an earlier one ($ids->{$sectionId} = $config).
sub storage_cfg() {
    my $raw = slurp("$DIR/etc/pve/storage.cfg") // '';
    my $filename = '/etc/pve/storage.cfg';
    my (%ids, @warn);
    my @lines = split /\n/, $raw;
    my $lineno = 0;
    my $nextline = sub {
        while (defined(my $line = shift @lines)) {
            $lineno++;
            return $line if $line !~ /^\s*#/;
        }
        return undef;
    };
    while (@lines) {
        my $line = $nextline->();
        next if !$line;
        my $errprefix = "file $filename line $lineno";
        if ($line =~ m/^(\S+):\s*(\S+)\s*$/) {
            my ($type, $id) = (lc($1), $2);
            my $skip = 0;
            my $errmsg;
            if (length($id) < 2) { $errmsg = "storage ID '$id' cannot be shorter than 2 characters" }
            elsif ($id !~ m/^[a-z][a-z0-9\-\_\.]*[a-z0-9]$/i) { $errmsg = "storage ID '$id' contains illegal characters" }
            if ($errmsg) {
                $skip = 1;
                push @warn, "$errprefix (skip section '$id'): $errmsg\n";
            } elsif (!$VALID_CONTENT{$type}) {
                $skip = 1;
                push @warn, "$errprefix (skip section '$id'): unsupported type '$type'\n";
            }
            my $cur = { type => $type, storage => $id };
            while ($line = $nextline->()) {
                next if $skip;
                $errprefix = "file $filename line $lineno";
                if ($line =~ m/^\s+(\S+)(\s+(.*\S))?\s*$/) {
                    my ($k, $v) = ($1, $3);
                    if (exists $cur->{$k} && $k ne 'type' && $k ne 'storage') {
                        push @warn, "$errprefix (section '$id') - unable to parse value of '$k': duplicate attribute\n";
                        next;
                    }
                    if ($k eq 'content') {
                        my %valid = map { $_ => 1 } @{ $VALID_CONTENT{$type} };
                        my %res;
                        for my $c (grep { $_ ne '' } split /[;,\s]+/, $v // '') {
                            if (!$valid{$c}) {
                                push @warn, "storage does not support content type '$c'\n";
                                next;
                            }
                            $res{$c} = 1;
                        }
                        if ($res{none} && keys(%res) > 1) {
                            push @warn, "$errprefix (section '$id') - unable to parse value of '$k': unable to combine 'none' with other content types\n";
                            next;
                        }
                        if (!%res && !$valid{none}) {
                            push @warn, "$errprefix (section '$id') - unable to parse value of '$k': storage does not support content type 'none'\n";
                            next;
                        }
                        $cur->{contenthash} = \%res;
                        $cur->{content} = join(',', sort keys %res);
                        next;
                    }
                    if (my $err = check_value($type, $k, $v)) {
                        push @warn, "$errprefix (section '$id') - unable to parse value of '$k': $err";
                        next;    # never stored: a later valid value of $k still is
                    }
                    $cur->{$k} = defined($v) ? $v : 1;
                } else {
                    push @warn, "$errprefix (section '$id') - ignore config line: $line\n";
                }
            }
            if (!$skip) {
                my @miss = grep { !defined $cur->{$_} } @{ $REQUIRED{$type} };
                if (@miss) {
                    # the id is stored as undef: no storage of it, an earlier section erased
                    push @warn, "$errprefix (skip section '$id'): missing value for required option '$miss[0]'\n";
                    delete $ids{$id};
                } else {
                    $ids{$id} = $cur;
                }
            }
        } else {
            push @warn, "$errprefix - ignore config line: $line\n";
        }
    }
    # Plugin.pm parse_config forces 'local' to be dir at /var/lib/vz (here: DIR/var/lib/vz)
    my $lp = "$DIR/var/lib/vz";
    if (!$ids{local} || $ids{local}->{type} ne 'dir'
        || ($ids{local}->{path} && $ids{local}->{path} ne $lp)) {
        $ids{local} = { type => 'dir', storage => 'local', path => $lp,
            content => 'backup,images,iso,rootdir,snippets,vztmpl' };
        delete $ids{local}->{contenthash};
    }
    $ids{local}->{path} //= $lp;
    delete $ids{local}->{nodes};
    for my $id (keys %ids) {
        my $s = $ids{$id};
        $s->{shared} = 1 if $SHARED_TYPES{ $s->{type} };
        if (!$s->{contenthash}) {
            my $content = $s->{contenthash} ? undef : ($DEFAULT_CONTENT{ $s->{type} } // '');
            $content = $s->{content} if $id eq 'local' && defined $s->{content};
            $s->{contenthash} = { map { $_ => 1 } grep { $_ ne '' } split /[,\s]+/, $content };
            $s->{content} = join(',', sort keys %{ $s->{contenthash} });
        }
        $s->{nodehash} = { map { $_ => 1 } split /[,\s]+/, $s->{nodes} } if defined $s->{nodes};
        $s->{disable} = 1 if defined($s->{disable}) && $s->{disable} ne '0';
        delete $s->{disable} if defined($s->{disable}) && $s->{disable} eq '0';
    }
    @CFG_WARNINGS = @warn;
    return \%ids;
}

sub storage_config($cfg, $sid) {
    my $s = $cfg->{$sid} or die "storage '$sid' does not exist\n";
    return $s;
}

# pve-storage Storage.pm storage_check_node / storage_check_enabled
sub storage_check_enabled($cfg, $sid, $node = undef) {
    my $s = storage_config($cfg, $sid);
    die "storage '$sid' is disabled\n" if $s->{disable};
    $node //= nodename();
    die "storage '$sid' is not available on node '$node'\n"
        if $s->{nodehash} && !$s->{nodehash}->{$node};
    return $s;
}

sub storage_enabled_on($s, $node) {
    return 0 if $s->{disable};
    return 0 if $s->{nodehash} && !$s->{nodehash}->{$node};
    return 1;
}

# ---------------------------------------------------------------- knobs / faults

sub knob($name) { $ENV{$name} }

# Returns the fault name (e.g. 'crash-mid-clone', 'storage-inactive') and its
# argument if PVESIM_FAULT applies to this call; consumes one PVESIM_FAULT_COUNT.
my %fault_cache;
sub fault_active($prog, $cmd, $want) {
    my $f = $ENV{PVESIM_FAULT} // '';
    return undef if $f eq '';
    my ($name, $arg) = split /=/, $f, 2;
    return undef if $name ne $want;
    if (my $fc = $ENV{PVESIM_FAULT_CMD}) {
        my $ok = 0;
        for my $c (map { s/^\s+|\s+$//gr } split /,/, $fc) {
            $ok = 1 if $c eq $cmd || $c eq "$prog $cmd" || $c eq "$prog-$cmd";
        }
        return undef if !$ok;
    }
    my $key = "$name";
    return $fault_cache{$key} if exists $fault_cache{$key};
    my $res = [$name, $arg];
    if (defined(my $max = $ENV{PVESIM_FAULT_COUNT})) {
        $res = with_state_lock(sub {
            my $n = slurp("$DIR/fault-count") // 0;
            chomp $n;
            return undef if $n >= $max;
            spew("$DIR/fault-count", ($n + 1) . "\n");
            return [$name, $arg];
        });
    }
    $fault_cache{$key} = $res;
    return $res;
}

# pve-storage Storage.pm activate_storage dies "storage '<id>' is not online" only when
# the plugin's check_connection returns false; only these plugins implement it
# (src/PVE/Storage/{NFS,CIFS,ISCSI,ESXi}Plugin.pm check_connection; Plugin.pm's default
# returns 1).  Other types fail to activate with their own, unconfirmed texts.
our %CHECK_CONNECTION_TYPES = map { $_ => 1 } qw(nfs cifs iscsi esxi);

# is $sid named by a storage-inactive fault that applies to this command (no counting)?
sub storage_fault_listed($prog, $cmd, $sid) {
    my $f = $ENV{PVESIM_FAULT} // '';
    return 0 if $f !~ m/^storage-inactive=(.+)$/;
    return 0 if !grep { $_ eq $sid } split /,/, $1;
    if (my $fc = $ENV{PVESIM_FAULT_CMD}) {
        return 0 if !grep { $_ eq $cmd || $_ eq "$prog $cmd" || $_ eq "$prog-$cmd" }
            map { s/^\s+|\s+$//gr } split /,/, $fc;
    }
    return 1;
}

sub storage_fault_inactive($prog, $cmd, $sid) {
    my $f = $ENV{PVESIM_FAULT} // '';
    return 0 if $f !~ m/^storage-inactive=(.+)$/;
    my %sids = map { $_ => 1 } split /,/, $1;
    return 0 if !$sids{$sid};
    return fault_active($prog, $cmd, 'storage-inactive') ? 1 : 0;
}

# ---------------------------------------------------------------- VM config

# parse a raw <vmid>.conf (qemu-server QemuServer.pm parse_vm_config)
sub parse_conf($raw) {
    my $res = { main => {}, snapshots => {}, pending => {}, special => {}, order => [] };
    my $conf = $res->{main};
    my $descr;
    my $finish = sub {
        if (defined $descr) {
            $descr =~ s/\s+$//;
            $conf->{description} = $descr;
        }
        $descr = undef;
    };
    for my $line (split /\n/, $raw) {
        next if $line =~ m/^\s*$/;
        if ($line =~ m/^\[PENDING\]\s*$/i) {
            $finish->();
            $conf = $res->{pending} = {};
            next;
        } elsif ($line =~ m/^\[special:([a-z]+)\]\s*$/i) {
            $finish->();
            $conf = $res->{special}->{$1} = {};
            next;
        } elsif ($line =~ m/^\[([a-z][a-z0-9_\-]+)\]\s*$/i) {
            $finish->();
            $conf = $res->{snapshots}->{$1} = {};
            next;
        }
        if ($line =~ m/^\#(.*)$/) {
            $descr //= '';
            $descr .= decode_text($1) . "\n";
            next;
        }
        if ($line =~ m/^(description):\s*(.*\S)\s*$/) {
            $descr //= '';
            $descr .= decode_text($2);
        } elsif ($line =~ m/^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$/) {
            my ($k, $v) = ($1, $2);
            $k = 'ide2' if $k eq 'cdrom';
            $conf->{$k} = $v;
        }
    }
    $finish->();
    return $res;
}

sub encode_text($text) {
    # pve-common ParseUtils::encode_text: control, hi-bit, ':' and '%'
    utf8::encode($text) if utf8::is_utf8($text);
    $text =~ s/([^\x20-\x24\x26-\x39\x3b-\x7e])/sprintf("%%%02X", ord($1))/ge;
    return $text;
}

sub decode_text($data) {
    $data =~ s/%([0-9a-fA-F]{2})/chr(hex($1))/ge;
    return $data;
}

# qemu-server write_vm_config: '#' description lines, sorted keys, sections
sub format_conf($c) {
    my $gen = sub ($conf, $pending = 0) {
        my $raw = '';
        if (defined(my $d = $conf->{description})) {
            if ($d ne '') {
                $raw .= '#' . encode_text($_) . "\n" for split /\n/, $d;
            } elsif ($pending) {
                $raw .= "#\n";
            }
        }
        for my $k (sort keys %$conf) {
            next if $k eq 'description';
            $raw .= "$k: $conf->{$k}\n";
        }
        return $raw;
    };
    my $raw = $gen->($c->{main});
    if (%{ $c->{pending} // {} }) {
        $raw .= "\n[PENDING]\n" . $gen->($c->{pending}, 1);
    }
    for my $s (sort keys %{ $c->{special} // {} }) {
        $raw .= "\n[special:$s]\n" . $gen->($c->{special}->{$s});
    }
    for my $s (sort keys %{ $c->{snapshots} // {} }) {
        $raw .= "\n[$s]\n" . $gen->($c->{snapshots}->{$s});
    }
    return $raw;
}

sub load_conf($vmid, $node = undef) {
    my $raw = slurp(conf_path($vmid, $node));
    return undef if !defined $raw;
    return parse_conf($raw);
}

sub write_conf($vmid, $c, $node = undef) {
    write_raw_conf($vmid, format_conf($c), $node);
}

sub write_raw_conf($vmid, $raw, $node = undef) {
    my $dir = conf_dir($node);
    make_path($dir);
    spew("$dir/$vmid.conf", $raw);
    bump_vm_version($vmid);
}

# ---------------------------------------------------------------- .vmlist

sub vmlist_state() {
    my $s = eval { decode_json(slurp("$DIR/state/vmlist.json") // '') };
    return $s // { version => 1, ids => {}, order => [] };
}

sub regen_vmlist(%opt) {
    with_state_lock(sub {
        my $st = vmlist_state();
        my %present;
        for my $n (all_nodes()) {
            for my $f (glob(conf_dir($n) . "/*.conf")) {
                next if $f !~ m|/(\d+)\.conf$|;
                $present{$1} = $n;
            }
        }
        my $changed = 0;
        my %added;
        for my $id (keys %present) {
            my $e = $st->{ids}->{$id};
            if (!$e) {
                $st->{ids}->{$id} = { node => $present{$id}, type => 'qemu', version => 1 };
                push @{ $st->{order} }, $id;
                $added{$id} = 1;
                $changed = 1;
            } elsif ($e->{node} ne $present{$id}) {
                $e->{node} = $present{$id};
                $changed = 1;
            }
        }
        for my $id (keys %{ $st->{ids} }) {
            next if $present{$id};
            delete $st->{ids}->{$id};
            $st->{order} = [grep { $_ ne $id } @{ $st->{order} }];
            $changed = 1;
        }
        if (my $b = $opt{bump}) {
            $st->{ids}->{$b}->{version}++ if $st->{ids}->{$b} && !$added{$b};
        }
        $st->{version}++ if $changed;
        make_path("$DIR/state");
        spew("$DIR/state/vmlist.json", json()->encode($st));
        # pve-cluster status.c cfs_create_vmlist_msg
        my $out = "{\n\"version\": $st->{version}";
        my @ids = @{ $st->{order} };
        if (@ids) {
            $out .= ",\n\"ids\": {\n";
            my @l = map {
                my $e = $st->{ids}->{$_};
                "\"$_\": { \"node\": \"$e->{node}\", \"type\": \"$e->{type}\", \"version\": $e->{version} }"
            } @ids;
            $out .= join(",\n", @l) . "}\n";
        } else {
            $out .= "\n";
        }
        $out .= "\n}\n";
        spew("$DIR/etc/pve/.vmlist", $out);
    });
}

sub bump_vm_version($vmid) { regen_vmlist(bump => $vmid) }

# ---------------------------------------------------------------- run state

sub run_state($vmid) {
    my $s = slurp("$DIR/run/$vmid.state");
    return { status => 'stopped' } if !defined $s;
    my %h = map { split /=/, $_, 2 } grep { /=/ } split /\n/, $s;
    $h{status} //= 'stopped';
    return \%h;
}

sub set_run_state($vmid, $status) {
    make_path("$DIR/run");
    if ($status eq 'stopped') {
        unlink "$DIR/run/$vmid.state";
        return;
    }
    my $old = run_state($vmid);
    my $pid = ($old->{status} ne 'stopped' && $old->{pid}) ? $old->{pid} : 100000 + int(rand(3000000));
    my $started = ($old->{status} ne 'stopped' && $old->{started}) ? $old->{started} : time();
    spew("$DIR/run/$vmid.state", "status=$status\npid=$pid\nstarted=$started\n");
}

sub is_running($vmid) { run_state($vmid)->{status} ne 'stopped' }

# ---------------------------------------------------------------- volumes

sub parse_volume_id($volid, $noerr = 0) {
    return ($1, $2) if $volid =~ m/^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$/i;
    return () if $noerr;
    die "unable to parse volume ID '$volid'\n";
}

# returns hash: vtype name vmid basename basevmid isBase format
sub parse_volname($s, $volname) {
    my $t = $s->{type};
    if ($FILE_TYPES{$t}) {
        if ($volname =~ m!^(\d+)/(\S+)/(\d+)/(\S+)$!) {
            my ($basedvmid, $basename, $vmid, $name) = ($1, $2, $3, $4);
            my ($fmt) = $name =~ m/\.(raw|qcow2|vmdk|subvol)$/;
            return { vtype => 'images', name => $name, vmid => $vmid, basename => $basename,
                basevmid => $basedvmid, isBase => 0, format => $fmt // 'raw' };
        } elsif ($volname =~ m!^(\d+)/(\S+)$!) {
            my ($vmid, $name) = ($1, $2);
            my ($fmt) = $name =~ m/\.(raw|qcow2|vmdk|subvol)$/;
            die "unable to parse directory volume name '$volname'\n" if !$fmt;
            return { vtype => 'images', name => $name, vmid => $vmid,
                isBase => ($name =~ m/^base-/ ? 1 : 0), format => $fmt };
        } elsif ($volname =~ m!^snippets/([^/]+)$!) {
            return { vtype => 'snippets', name => $1 };
        } elsif ($volname =~ m!^iso/([^/]+\.(?:iso|img))$!i) {
            return { vtype => 'iso', name => $1, format => 'raw' };
        } elsif ($volname =~ m!^vztmpl/([^/]+)$!) {
            return { vtype => 'vztmpl', name => $1 };
        } elsif ($volname =~ m!^backup/([^/]+)$!) {
            return { vtype => 'backup', name => $1 };
        } elsif ($volname =~ m!^import/([^/]+)$!) {
            return { vtype => 'import', name => $1 };
        }
        die "unable to parse directory volume name '$volname'\n";
    } elsif ($t eq 'lvm') {
        if ($volname =~ m/^(vm-(\d+)-\S+)$/) {
            return { vtype => 'images', name => $1, vmid => $2, isBase => 0, format => 'raw' };
        }
        die "unable to parse lvm volume name '$volname'\n";
    } elsif ($t eq 'lvmthin') {
        if ($volname =~ m/^((vm|base)-(\d+)-\S+)$/) {
            return { vtype => 'images', name => $1, vmid => $3, isBase => ($2 eq 'base' ? 1 : 0),
                format => 'raw' };
        }
        die "unable to parse lvm volume name '$volname'\n";
    } elsif ($t eq 'zfspool' || $t eq 'rbd') {
        if ($volname =~ m/^(((base|vm)-(\d+)-\S+)\/)?((base)?(vm)?-(\d+)-\S+)$/) {
            return { vtype => 'images', name => $5, vmid => $8, basename => $2, basevmid => $4,
                isBase => ($6 ? 1 : 0), format => 'raw' };
        }
        die "unable to parse " . ($t eq 'rbd' ? 'rbd' : 'zfs') . " volume name '$volname'\n";
    } elsif ($t eq 'iscsi' || $t eq 'iscsidirect') {
        if ($volname =~ m!^\d+\.\d+\.\d+\.([^/\s]+)$!) {
            return { vtype => 'images', name => $volname, isBase => 0, format => 'raw' };
        }
        die "unable to parse iscsi volume name '$volname'\n";
    }
    unsupported("storage type '$t' (volume '$volname')");
}

my %FEATURES = (
    file => {
        clone => { base => { qcow2 => 1, raw => 1, vmdk => 1 } },
        template => { current => { qcow2 => 1, raw => 1, vmdk => 1, subvol => 1 } },
        copy => { base => { qcow2 => 1, raw => 1, vmdk => 1 }, current => { qcow2 => 1, raw => 1, vmdk => 1 },
            snap => { qcow2 => 1 } },
    },
    lvm => { copy => { base => { qcow2 => 1, raw => 1 }, current => { qcow2 => 1, raw => 1 }, snap => { qcow2 => 1 } } },
    lvmthin => { clone => { base => 1, snap => 1 }, template => { current => 1 }, copy => { base => 1, current => 1, snap => 1 } },
    zfspool => { clone => { base => 1 }, template => { current => 1 }, copy => { base => 1, current => 1 } },
    rbd => { clone => { base => 1, snap => 1 }, template => { current => 1 }, copy => { base => 1, current => 1, snap => 1 } },
    iscsi => { copy => { current => 1 } },
    iscsidirect => { copy => { current => 1 } },
);

# pve-storage volume_has_feature (per plugin feature tables)
sub volume_has_feature($cfg, $feature, $volid, $snapname = undef) {
    my ($sid, $volname) = parse_volume_id($volid, 1);
    return 0 if !defined $sid;    # non-managed path
    my $s = storage_config($cfg, $sid);
    my $p = parse_volname($s, $volname);
    my $key = $snapname ? 'snap' : ($p->{isBase} ? 'base' : 'current');
    my $tab = $FILE_TYPES{ $s->{type} } ? $FEATURES{file} : $FEATURES{ $s->{type} };
    return 0 if !$tab;
    my $e = $tab->{$feature}->{$key};
    return 0 if !$e;
    return 1 if !ref $e;
    return $e->{ $p->{format} } ? 1 : 0;
}

sub vol_reg_path($sid, $volname) {
    (my $enc = $volname) =~ s/%/%25/g;
    $enc =~ s|/|%2F|g;
    return "$DIR/volumes/$sid/$enc";
}

sub vol_exists($sid, $volname) { -f vol_reg_path($sid, $volname) }

sub vol_size($sid, $volname) {
    my $c = slurp(vol_reg_path($sid, $volname)) // return undef;
    return $c =~ m/^size=(\d+)/m ? $1 : undef;
}

sub list_volumes($sid) {
    my @r;
    for my $f (glob("$DIR/volumes/$sid/*")) {
        my ($enc) = $f =~ m|/([^/]+)$|;
        next if $enc =~ /\.tmp\.\d+$/;
        $enc =~ s|%2F|/|g;
        $enc =~ s|%25|%|g;
        push @r, $enc;
    }
    return @r;
}

sub storage_used_bytes($sid) {
    my $sum = 0;
    for my $v (list_volumes($sid)) { $sum += vol_size($sid, $v) // 0 }
    return $sum;
}

# absolute path of a volume (pve-storage Plugin.pm filesystem_path)
sub volume_path($cfg, $volid) {
    my ($sid, $volname) = parse_volume_id($volid);
    my $s = storage_config($cfg, $sid);
    my $p = parse_volname($s, $volname);
    my $t = $s->{type};
    if ($FILE_TYPES{$t}) {
        my $path = $s->{path} or die "storage definition has no path\n";
        my %sub = (images => 'images', iso => 'template/iso', vztmpl => 'template/cache',
            backup => 'dump', snippets => 'snippets', import => 'import');
        my $dir = "$path/$sub{$p->{vtype}}";
        return ("$dir/$p->{vmid}/$p->{name}", $p->{vmid}, $p->{vtype}) if $p->{vtype} eq 'images';
        return ("$dir/$p->{name}", undef, $p->{vtype});
    } elsif ($t eq 'lvm' || $t eq 'lvmthin') {
        my $vg = $s->{vgname} // 'pve';
        return ("/dev/$vg/$p->{name}", $p->{vmid}, $p->{vtype});
    } elsif ($t eq 'zfspool') {
        return ("/dev/zvol/" . ($s->{pool} // 'rpool') . "/$p->{name}", $p->{vmid}, $p->{vtype});
    } elsif ($t eq 'rbd') {
        return ("rbd:" . ($s->{pool} // 'rbd') . "/$p->{name}", $p->{vmid}, $p->{vtype});
    } elsif ($t eq 'iscsi' || $t eq 'iscsidirect') {
        return ("/dev/disk/by-id/$p->{name}", undef, $p->{vtype});
    }
    unsupported("pvesm path on storage type '$t'");
}

sub storage_lock_file($sid) { "$DIR/lock/pve-storage-$sid" }

# register a volume (and create the file for file-based storages)
sub create_volume($cfg, $sid, $volname, $size, $extra = '') {
    my $s = storage_config($cfg, $sid);
    make_path("$DIR/volumes/$sid");
    spew(vol_reg_path($sid, $volname), "size=$size\n$extra");
    if ($FILE_TYPES{ $s->{type} }) {
        my ($path) = volume_path($cfg, "$sid:$volname");
        (my $d = $path) =~ s|/[^/]+$||;
        make_path($d);
        spew($path, "pvesim volume $sid:$volname size=$size\n");
    }
}

sub free_volume($cfg, $volid) {
    my ($sid, $volname) = parse_volume_id($volid);
    my $s = eval { storage_config($cfg, $sid) } or return;
    unlink vol_reg_path($sid, $volname);
    if ($FILE_TYPES{ $s->{type} }) {
        my ($path) = eval { volume_path($cfg, $volid) };
        if ($path) { chmod 0644, $path; unlink $path; }
    }
}

# pve-storage find_free_diskname: lowest N not used by vm-/base-<vmid>-disk-N
sub find_free_diskname($cfg, $sid, $vmid, $fmt) {
    my $s = storage_config($cfg, $sid);
    my %used;
    for my $v (list_volumes($sid)) {
        $used{$1} = 1 if $v =~ m/(?:^|\/)(?:vm|base)-\Q$vmid\E-disk-(\d+)(?:\.\w+)?$/;
    }
    for (my $i = 0; $i < 1000; $i++) {
        next if $used{$i};
        my $name = "vm-$vmid-disk-$i";
        $name .= ".$fmt" if $FILE_TYPES{ $s->{type} };
        return $name;
    }
    die "unable to allocate an image name for VM $vmid in storage '$sid'\n";
}

sub default_format($s) {
    return 'qcow2' if $FILE_TYPES{ $s->{type} };
    return 'raw';
}

# pve-storage Plugin.pm get_formats: plugindata 'format' ([valid, default], the storage's own
# 'format' property overriding the default), raw only for plugins without it; LVMPlugin.pm
# get_formats: qcow2 (the default then) only with 'snapshot-as-volume-chain'
my %PLUGIN_FORMATS = map { $_ => [qw(raw qcow2 vmdk)] } qw(dir nfs cifs);
sub storage_formats($s) {
    my $t = $s->{type};
    if (my $f = $PLUGIN_FORMATS{$t}) {
        return { default => $s->{format} || 'raw', valid => { map { $_ => 1 } @$f } };
    }
    if ($t eq 'lvm' && $s->{'snapshot-as-volume-chain'}) {
        return { default => 'qcow2', valid => { raw => 1, qcow2 => 1 } };
    }
    return { default => 'raw', valid => { raw => 1 } };
}

# pve-storage Storage.pm resolve_format_hint
sub resolve_format_hint($s, $fmt) {
    my $f = storage_formats($s);
    return $fmt if $fmt && $f->{valid}->{$fmt};
    return $f->{default};
}

# allocate a new image (PVE::Storage::vdisk_alloc); returns volid
sub vdisk_alloc($cfg, $sid, $vmid, $fmt, $name, $size) {
    my $s = storage_config($cfg, $sid);
    my $t = $s->{type};
    die "can't allocate space in iscsi storage\n" if $t eq 'iscsi' || $t eq 'iscsidirect';
    unsupported("allocation on storage type '$t'")
        if !$FILE_TYPES{$t} && !grep { $t eq $_ } qw(lvm lvmthin zfspool rbd);
    my $volname;
    with_state_lock(sub {
        $name //= find_free_diskname($cfg, $sid, $vmid, $fmt);
        if ($FILE_TYPES{$t}) {
            $volname = "$vmid/$name";
        } else {
            $volname = $name;
        }
        die "volume '$sid:$volname' already exists\n" if vol_exists($sid, $volname);
        create_volume($cfg, $sid, $volname, $size);
    });
    # the storage tools' own output (lvcreate, qemu-img create)
    if ($t eq 'lvm' || $t eq 'lvmthin') {
        print "  Logical volume \"$volname\" created.\n";
    } elsif ($FILE_TYPES{$t}) {
        my ($path) = volume_path($cfg, "$sid:$volname");
        if ($fmt eq 'qcow2') {
            print "Formatting '$path', fmt=qcow2 cluster_size=65536 extended_l2=off preallocation=metadata compression_type=zlib size=$size lazy_refcounts=off refcount_bits=16\n";
        } else {
            print "Formatting '$path', fmt=$fmt size=$size preallocation=off\n";
        }
    }
    return "$sid:$volname";
}

sub format_size($bytes) {
    # qemu-server Drive.pm format_size
    my $kb = $bytes / 1024;
    return $bytes if $kb != int($kb);
    my $mb = $kb / 1024;
    return "${kb}K" if $mb != int($mb);
    my $gb = $mb / 1024;
    return "${mb}M" if $gb != int($gb);
    my $tb = $gb / 1024;
    return "${gb}G" if $tb != int($tb);
    return "${tb}T";
}

sub parse_size($s) {
    return undef if !defined $s;
    my %m = (K => 1024, M => 1024**2, G => 1024**3, T => 1024**4);
    return $1 * $m{$2} if $s =~ m/^(\d+(?:\.\d+)?)([KMGT])$/;
    return $1 if $s =~ m/^(\d+)$/;
    die "pvesim: bad size '$s'\n";
}

# ---------------------------------------------------------------- drives

our @DRIVE_NAMES = ((map {"ide$_"} 0 .. 3), (map {"scsi$_"} 0 .. 30), (map {"virtio$_"} 0 .. 15),
    (map {"sata$_"} 0 .. 5), 'efidisk0', 'tpmstate0');
our %IS_DRIVE = map { $_ => 1 } @DRIVE_NAMES;

sub parse_drive($value) {
    my @parts = split /,/, $value;
    my $d = { opts => [] };
    my $first = shift @parts;
    if ($first =~ m/^file=(.*)$/) { $d->{file} = $1 }
    elsif ($first !~ m/=/) { $d->{file} = $first }
    else { unshift @parts, $first }
    for my $p (@parts) {
        my ($k, $v) = split /=/, $p, 2;
        if ($k eq 'file') { $d->{file} = $v; next }
        $d->{$k} = $v;
        push @{ $d->{opts} }, $k;
    }
    return $d;
}

sub print_drive($d) {
    my @o = ($d->{file});
    for my $k (sort grep { $_ ne 'file' && $_ ne 'opts' } keys %$d) {
        push @o, "$k=$d->{$k}";
    }
    return join(',', @o);
}

sub drive_is_cdrom($d) { ($d->{media} // '') eq 'cdrom' }
sub drive_is_cloudinit($d) { ($d->{file} // '') =~ m/vm-\d+-cloudinit(?:\.(?:raw|qcow2|vmdk))?$/ }

sub conf_drives($conf) {
    return map { [$_, parse_drive($conf->{$_})] } grep { $IS_DRIVE{$_} } sort keys %$conf;
}

sub boot_disk_size($conf) {
    my @cands;
    my $boot = $conf->{boot} // '';
    if ($boot =~ m/order=([^,]+)/) {
        @cands = split /;/, $1;
    } elsif (my $bd = $conf->{bootdisk}) {
        @cands = ($bd) if $boot eq '' || $boot =~ /c/;
    }
    for my $c (@cands) {
        next if !$IS_DRIVE{$c} || !$conf->{$c};
        my $d = parse_drive($conf->{$c});
        next if drive_is_cdrom($d);
        return parse_size($d->{size}) // 0;
    }
    return 0;
}

sub mem_bytes($conf) {
    my $m = $conf->{memory} // 2048;
    $m = $1 if $m =~ m/current=(\d+)/;
    return $m * 1024 * 1024;
}

# ---------------------------------------------------------------- misc

sub random_mac() {
    return sprintf("BC:24:11:%02X:%02X:%02X", int(rand(256)), int(rand(256)), int(rand(256)));
}

sub random_uuid() {
    my @b = map { int(rand(256)) } 1 .. 16;
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join('', map { sprintf '%02x', $_ } @b);
    return join('-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20));
}

# pve-access-control AccessControl.pm parse_user_config: every line and every ':'-field
# trimmed; a pool whose name fails verify_poolname is ignored ("ignore pool"); the parents
# of a nested pool exist too
sub pools() {
    my $raw = slurp("$DIR/etc/pve/user.cfg") // '';
    my %p;
    for my $line (split /\n/, $raw) {
        my @d = map { s/^\s+|\s+$//gr } split(/:/, $line =~ s/^\s+|\s+$//gr);
        next if ($d[0] // '') ne 'pool';
        my $pool = $d[1] // '';
        next if $pool !~ m!^[A-Za-z0-9\.\-_]+(?:/[A-Za-z0-9\.\-_]+){0,2}$!;
        $p{$pool} = 1;
        while ($pool =~ m!^(.+)/[^/]+$!) { $pool = $1; $p{$pool} = 1 }
    }
    return \%p;
}

sub unsupported($what) {
    die bless({ msg => "pvesim: unsupported: $what\n" }, 'PVESim::Unsupported');
}

1;
