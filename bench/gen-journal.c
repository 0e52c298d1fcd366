/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gen-journal N: sends N unrelated entries to the journal over its native
 * protocol (one datagram each), shaped like a busy node's log: a handful of
 * daemons, varying messages and priorities, no PVETMPL_ field. Used by
 * `make bench` to fill the audit row's journal quickly. */
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

int main(int argc, char **argv)
{
    static const char *const ids[] = {"pvedaemon", "pveproxy", "pvestatd",     "kernel",
                                      "sshd",      "cron",     "pve-firewall", "corosync"};
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: gen-journal N\n");
        return 64;
    }
    for (long i = 0; i < n; i++) {
        int r = sd_journal_send("MESSAGE=worker %ld: request %ld finished in %ld ms", i % 97, i,
                                i % 1000, "PRIORITY=%d", (int)(3 + i % 5), "SYSLOG_IDENTIFIER=%s",
                                ids[i % 8], "BENCH_SEQ=%ld", i, NULL);
        if (r < 0) {
            fprintf(stderr, "gen-journal: entry %ld: sd_journal_send: error %d\n", i, r);
            return 1;
        }
    }
    return 0;
}
