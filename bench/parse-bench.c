/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parse-bench FAMILY FILE: runs one of pvetmpl's parsers (linked from
 * build/libpvetmpl.a) once over FILE, looks up the last row as the callers do,
 * and prints the row count. `make bench` times it with hyperfine on generated
 * inputs of growing size (row 4, scale). Families: pvesm-status qm-config
 * vmlist. Exit 1 when the parser refuses the input: a scale row must not
 * time an error path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvesm.h"
#include "qm.h"
#include "vmlist.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        return NULL;
    }
    size_t cap = 1 << 20, n = 0, k;
    char *buf = malloc(cap + 1);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: parse-bench pvesm-status|qm-config|vmlist FILE\n");
        return 64;
    }
    size_t len = 0;
    char *text = slurp(argv[2], &len);
    if (!text) {
        fprintf(stderr, "parse-bench: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    unsigned line = 0;
    int r;
    size_t n = 0;
    if (strcmp(argv[1], "pvesm-status") == 0) {
        struct pvesm_status st;
        r = pvesm_parse_status(text, len, &st, &line);
        if (r >= 0) {
            n = st.n;
            if (n == 0 || !pvesm_status_find(&st, st.rows[n - 1].name)) {
                r = -ENOENT;
            }
            pvesm_status_release(&st);
        }
    } else if (strcmp(argv[1], "qm-config") == 0) {
        struct qm_config cf;
        r = qm_parse_config(text, len, &cf, &line);
        if (r >= 0) {
            n = cf.n_kv;
            qm_config_release(&cf);
        }
    } else if (strcmp(argv[1], "vmlist") == 0) {
        struct vmlist vl;
        r = vmlist_parse(text, len, &vl);
        if (r >= 0) {
            n = vl.n;
            if (n == 0 || !vmlist_find(&vl, vl.entries[n - 1].vmid)) {
                r = -ENOENT;
            }
            vmlist_release(&vl);
        }
    } else {
        fprintf(stderr, "parse-bench: unknown family '%s'\n", argv[1]);
        return 64;
    }
    free(text);
    if (r < 0) {
        fprintf(stderr, "parse-bench: %s: %s at line %u\n", argv[2], strerror(-r), line);
        return 1;
    }
    printf("%zu\n", n);
    return 0;
}
