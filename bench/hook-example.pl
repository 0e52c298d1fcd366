#!/usr/bin/perl
# The Perl equivalent of pvetmpl-hook for `make bench` (row 1): shaped like
# Proxmox's example hookscript (pve-docs examples/guest-example-hookscript.pl:
# strict, warnings, vmid and phase from @ARGV, one branch per phase, die on an
# unknown phase), reading the VM's name and tags from its config as
# pvetmpl-hook does, and logging one line through syslog.
use strict;
use warnings;
use Sys::Syslog qw(:standard);

my $vmid = shift;
my $phase = shift;

# On a Proxmox node /dev/log is journald's syslog socket; the bench's private
# journald has it at its systemd path only.
Sys::Syslog::setlogsock({ type => 'unix', path => $ENV{BENCH_SYSLOG_SOCKET} // '/dev/log' });
openlog('hook-example.pl', 'pid', 'daemon');

my ($name, $tags) = ('', '');
my $pve = $ENV{BENCH_PVE_DIR} // '/etc/pve';
if (open(my $fh, '<', "$pve/qemu-server/$vmid.conf")) {
    while (my $l = <$fh>) {
        last if $l =~ m/^\[/;    # the snapshot sections follow
        $name = $1 if $l =~ m/^name:\s*(.*?)\s*$/;
        $tags = $1 if $l =~ m/^tags:\s*(.*?)\s*$/;
    }
    close($fh);
}

if ($phase eq 'pre-start' || $phase eq 'post-start' || $phase eq 'pre-stop'
    || $phase eq 'post-stop') {
    syslog('info', "VM $vmid '$name' $phase tags=$tags");
} else {
    die "got unknown phase '$phase'\n";
}
closelog();
exit(0);
