#!/usr/bin/perl
# gen-cluster.pl DIR TEMPLATES CLONES: a cluster's guests written as pmxcfs
# holds them (DIR/.vmlist and DIR/nodes/NODE/qemu-server/VMID.conf), for
# `pvetmpl list` at scale: t330's big cluster and bench row 4 share it.
# Three nodes; TEMPLATES templates from 9000 up, each with CLONES linked
# clones (ZFS names, VMIDs from 100001) but the last with CLONES - 1, and a
# full clone 99999: TEMPLATES * (CLONES + 1) guests.
use strict;
use warnings;

my ($dir, $ntmpl, $nclones) = @ARGV;
die "usage: gen-cluster.pl DIR TEMPLATES CLONES\n"
    if !defined $nclones || $ntmpl !~ /^[1-9][0-9]*$/ || $nclones !~ /^[1-9][0-9]*$/
    || $ntmpl > 90000;
my @nodes = qw(pve pve2 pve3);
for ('', '/nodes', map { ("/nodes/$_", "/nodes/$_/qemu-server") } @nodes) {
    mkdir "$dir$_" or $!{EEXIST} or die "$dir$_: $!\n";
}
my @ids;
my $now = $ENV{GEN_CTIME} // time(); # the creation time the configs state
my $w = sub {
    my ($id, $node, $text) = @_;
    open(my $f, '>', "$dir/nodes/$node/qemu-server/$id.conf") or die "$id.conf: $!\n";
    # created now, as qm writes meta (QemuServer.pm new_meta_info_string):
    # no older journal record of the same VMID is taken for this guest
    print $f "meta: creation-qemu=10.1.2,ctime=$now\n$text";
    close($f) or die "$id.conf: $!\n";
    push @ids, qq("$id": { "node": "$node", "type": "qemu", "version": 1 });
};
my $vm = 100000;
my $last = 9000 + $ntmpl - 1;
for my $t (9000 .. $last) {
    $w->($t, $nodes[$t % 3], "name: tmpl-$t\nscsi0: local-zfs:base-$t-disk-0,size=8G\ntemplate: 1\n");
    for (1 .. ($t == $last ? $nclones - 1 : $nclones)) {
        $vm++;
        $w->($vm, $nodes[$vm % 3], "name: vm-$vm\nscsi0: local-zfs:base-$t-disk-0/vm-$vm-disk-0,size=8G\n");
    }
}
$w->(99999, 'pve', "name: full\nscsi0: local-zfs:vm-99999-disk-0,size=8G\n");
open(my $f, '>', "$dir/.vmlist") or die ".vmlist: $!\n";
print $f "{\n\"version\": 1,\n\"ids\": {\n" . join(",\n", @ids) . "}\n\n}\n";
close($f) or die ".vmlist: $!\n";
