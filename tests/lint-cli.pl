#!/usr/bin/perl
# Usage: tests/lint-cli.pl FILE...   (tests/cli/*.sh)
# Rejects shell constructs that silently switch a test's checks off.
# bash ignores `set -e` inside anything run left of `&&`/`||` or as the
# condition of `if`/`while`/`until`/`!`: a failing assertion inside such a
# function does not stop it, and only its last command decides its status.
# So a function defined in tests/cli (a test or a helper) may not be
#   - followed by `&&`               (`bad_arg ... && assert_grep ...`);
#   - followed by `||`, except `|| return`/`|| exit` or `|| assert_...`
#     (the last command of a list is still checked by `set -e`);
#   - the condition of if/while/until or negated with `!`.
# Quoted strings, $(...) substitutions, comments and here-documents are
# ignored (a shell snippet passed to `sh -c` is not a test's own code).
# Prints "FILE:LINE: ..." per finding; exits 1 if there is any.
use strict;
use warnings;

my (%defs, %text);
for my $f (@ARGV) {
    open(my $fh, '<', $f) or die "lint-cli: $f: $!\n";
    local $/;
    $text{$f} = <$fh>;
    $defs{$1} = 1 while $text{$f} =~ /^\s*([A-Za-z_]\w*)\s*\(\)/mg;
}
my $names = join('|', map { quotemeta } sort keys %defs);
my $bad = 0;

for my $f (@ARGV) {
    my @lines = split /\n/, $text{$f}, -1;
    # here-documents: blank their bodies, keep the line numbers
    for (my $i = 0; $i < @lines; $i++) {
        next unless $lines[$i] =~ /<<-?\s*['"]?(\w+)['"]?/;
        my $end = $1;
        for (my $j = $i + 1; $j < @lines; $j++) {
            if ($lines[$j] =~ /^\s*\Q$end\E\s*$/) { $lines[$j] = ''; $i = $j; last }
            $lines[$j] = '';
        }
    }
    my $s = join("\n", @lines);
    # quotes and escapes, left to right; keep newlines so line numbers stay
    $s =~ s{(\\.|'[^']*'|"(?:\\.|[^"\\])*")}{my $q = $1; $q =~ tr/\n//cd; "Q$q"}gse;
    # comments, then command substitutions (nested)
    $s =~ s/(^|\s)#[^\n]*/$1/g;
    1 while $s =~ s{\$(\((?:[^()]++|(?1))*\))}{my $q = $1; $q =~ tr/\n//cd; "Q$q"}se;
    my $n = 0;
    for my $line (split /\n/, $s, -1) {
        $n++;
        $line =~ s/^\s*[A-Za-z_]\w*\s*\(\)\s*//;    # a one-line function's head
        # list elements with the operator that follows each
        my @parts = split /(&&|\|\||;|\bthen\b|\bdo\b|\belse\b)/, $line;
        for (my $k = 0; $k < @parts; $k += 2) {
            my $cmd = $parts[$k];
            my $op = $parts[$k + 1] // '';
            my $next = $parts[$k + 2] // '';
            $cmd =~ s/^[\s{(]+//;
            my $cond = $cmd =~ s/^(?:if|while|until|!)\s+//;
            next unless $cmd =~ /^($names)\b/;
            my $fn = $1;
            my $why;
            if ($cond) {
                $why = "'$fn' used as a condition";
            } elsif ($op eq '&&') {
                $why = "'$fn' followed by &&";
            } elsif ($op eq '||' && $next !~ /^\s*(?:return|exit|assert_\w+)\b/) {
                $why = "'$fn' followed by || without return/exit";
            }
            next unless $why;
            print "$f:$n: $why: set -e does not apply inside it; write two statements\n";
            $bad = 1;
        }
    }
}
exit $bad;
