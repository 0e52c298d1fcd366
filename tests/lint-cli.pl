#!/usr/bin/perl
# Usage: tests/lint-cli.pl FILE...   (tests/cli/*.sh)
# Rejects shell constructs that silently switch a test's checks off.
# Tests run under `set -e` (no pipefail). bash ignores `set -e` inside any
# command run left of `&&`/`||` or as the condition of if/elif/while/until
# or negated with `!` -- also inside the functions such a command calls: a
# failing assertion there does not stop the function, and only its last
# command decides its status, so `helper || return 1` and
# `helper || assert_x` hide a failure inside helper as well as `helper && x`.
# In a pipeline, `set -e` still applies inside each element, but only the
# last element's status counts: a failure of `helper | cat` is lost.
# So a function defined in tests/cli (a test or a helper) may not be
#   - followed by `&&` or `||` (whatever follows; also across a `\` line
#     continuation);
#   - the condition of if/elif/while/until, or negated with `!`;
#   - piped into another command (the last element of a pipeline is fine);
#   - the command of lib.sh's `run` or `expect_rc`, which run it with set +e.
# Write two statements instead: under `set -e` the helper's own failure
# stops the test. The last command of a list (`x && helper`) is checked.
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
    # quotes, escapes and comments, left to right (an apostrophe in a comment
    # opens no string); keep newlines so line numbers stay; a line
    # continuation (backslash-newline outside quotes) becomes \x01
    $s =~ s{(\\.|'[^']*'|"(?:\\.|[^"\\])*"|(?:^|(?<=[\s;&|()]))\#[^\n]*)}{
        my $q = $1;
        if ($q eq "\\\n") { "\x01" }
        elsif ($q =~ /^\#/) { "" }
        else { $q =~ tr/\n//cd; "Q$q" }
    }gsme;
    # command substitutions (nested)
    1 while $s =~ s{\$(\((?:[^()]++|(?1))*\))}{my $q = $1; $q =~ tr/\n//cd; "Q$q"}se;
    my $n = 0;
    for my $line (split /\n/, $s, -1) {
        $n++;
        # one logical line; reported at its first physical line
        my $more = ($line =~ tr/\x01/ /);
        $line =~ s/^\s*[A-Za-z_]\w*\s*\(\)\s*//;    # a one-line function's head
        # list and pipeline elements with the operator that follows each
        my @parts = split /(&&|\|\||\|&?|;|\bthen\b|\bdo\b|\belse\b)/, $line;
        for (my $k = 0; $k < @parts; $k += 2) {
            my $cmd = $parts[$k];
            my $op = $parts[$k + 1] // '';
            my $next = $parts[$k + 2] // '';
            $cmd =~ s/^[\s{(]+//;
            my $cond = 0;
            $cond = 1 while $cmd =~ s/^(?:if|elif|while|until|!)\s+//;
            # lib.sh's run (and expect_rc through it) runs its command with set +e
            if ($cmd =~ /^(?:run|expect_rc\s+\S+)\s+($names)\b/) {
                print "$f:$n: '$1' run by run/expect_rc: set -e does not apply inside it;"
                    . " call it directly\n";
                $bad = 1;
            }
            next unless $cmd =~ /^($names)\b/;
            my $fn = $1;
            my $why;
            if ($cond) {
                $why = "'$fn' used as a condition: set -e does not apply inside it";
            } elsif ($op eq '&&' || $op eq '||') {
                $why = "'$fn' followed by $op: set -e does not apply inside it";
            } elsif ($op =~ /^\|&?$/) {
                $why = "'$fn' piped into another command: its failure is lost";
            }
            next unless $why;
            print "$f:$n: $why; write two statements\n";
            $bad = 1;
        }
        $n += $more;
    }
}
exit $bad;
