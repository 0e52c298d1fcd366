/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hook-floor VMID PHASE: the floor for a journalling hookscript - one
 * sd_journal_send with the fields pvetmpl-hook sends, and nothing else (no
 * config, no VM config, no checks). Measured by `make bench`, row 1. */
#include <systemd/sd-journal.h>

int main(int argc, char **argv)
{
    const char *vmid = argc > 1 ? argv[1] : "0";
    const char *phase = argc > 2 ? argv[2] : "none";
    return sd_journal_send("MESSAGE=VM %s %s", vmid, phase,
                           "MESSAGE_ID=0088113c58354056aaac4d63266d83bc", "PRIORITY=6",
                           "SYSLOG_IDENTIFIER=hook-floor", "PVETMPL_VMID=%s", vmid,
                           "PVETMPL_PHASE=%s", phase, NULL) < 0;
}
