/* SPDX-License-Identifier: GPL-3.0-or-later */
/* journal-send [--twice] [--big KEY=N] KEY=VALUE...: writes one journal entry with
 * journal_sendv, the writer pvetmpl and the hook share, so
 * tests/cli/t300-journal.sh can read back what journald made of it. --big
 * adds a field KEY of N bytes ("x" repeated, then "\nend"), larger than a
 * datagram may be. --twice sends it twice, one error line each. Exit 0, or 1
 * with journal_sendv's error on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

int main(int argc, char **argv)
{
    struct iovec iov[JOURNAL_MAX_FIELDS];
    char *big = NULL;
    int n = 0, times = 1;
    for (int i = 1; i < argc && n < JOURNAL_MAX_FIELDS; i++) {
        if (strcmp(argv[i], "--twice") == 0) {
            times = 2;
        } else if (strcmp(argv[i], "--big") == 0 && i + 1 < argc) {
            const char *eq = strchr(argv[++i], '=');
            size_t klen = eq ? (size_t)(eq - argv[i]) : 0, len = eq ? strtoul(eq + 1, NULL, 10) : 0;
            big = malloc(klen + 1 + len + 4);
            if (!big || !eq) {
                return 2;
            }
            memcpy(big, argv[i], klen + 1);
            memset(big + klen + 1, 'x', len);
            memcpy(big + klen + 1 + len, "\nend", 4);
            iov[n++] = (struct iovec){big, klen + 1 + len + 4};
        } else {
            iov[n++] = (struct iovec){argv[i], strlen(argv[i])};
        }
    }
    int rc = 0;
    for (int t = 0; t < times; t++) {
        struct err e;
        if (journal_sendv(iov, n, &e) < 0) {
            fprintf(stderr, "journal-send: %s\n", e.detail);
            rc = 1;
        }
    }
    free(big);
    return rc;
}
