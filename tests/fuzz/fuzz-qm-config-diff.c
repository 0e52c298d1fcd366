/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_config_diff_keys on two configs cut from one input at its first NUL,
 * into a buffer of every small size: the count does not depend on the
 * buffer, the text always fits, it is the whole list when that fits, and
 * otherwise whole keys then how many more. */
#include <stdbool.h>
#include <stdio.h>

#include "fuzz.h"
#include "qm.h"

/* buf is "K1,K2 ... and N more" (or "... and N more"): a prefix of full
 * that ends at a key, and the number of keys it leaves out. */
static bool cut_at_a_key(const char *buf, const char *full, size_t total)
{
    const char *more = strstr(buf, "... and ");
    if (!more) {
        return false;
    }
    size_t plen = (size_t)(more - buf);
    if (plen) {
        if (buf[plen - 1] != ' ' || full[plen - 1] != ',') {
            return false;
        }
        plen--;
    }
    size_t shown = plen ? 1 : 0;
    for (size_t i = 0; i < plen; i++) {
        shown += buf[i] == ',';
    }
    char tail[48];
    snprintf(tail, sizeof(tail), "... and %zu more", total - shown);
    return strncmp(buf, full, plen) == 0 && strcmp(more, tail) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    struct qm_config a, b;
    unsigned line;
    if (qm_parse_config((const char *)data, n1, &a, &line) != 0) {
        return 0;
    }
    const char *rest = nul ? (const char *)nul + 1 : "";
    if (qm_parse_config(rest, nul ? size - n1 - 1 : 0, &b, &line) != 0) {
        qm_config_release(&a);
        return 0;
    }
    char full[65536];
    size_t total = qm_config_diff_keys(&a, &b, full, sizeof(full));
    size_t flen = strlen(full);
    for (size_t len = 0; len <= 96; len++) {
        char *buf = malloc(len ? len : 1); /* exact size: ASan sees any overrun */
        if (!buf) {
            abort();
        }
        if (qm_config_diff_keys(&a, &b, buf, len) != total) {
            abort();
        }
        if (len && (strlen(buf) >= len || (flen < len && strcmp(buf, full) != 0))) {
            abort();
        }
        /* Below 24 bytes even "... and N more" may not fit. */
        if (len >= 24 && flen >= len && !cut_at_a_key(buf, full, total)) {
            abort();
        }
        free(buf);
    }
    qm_config_release(&a);
    qm_config_release(&b);
    return 0;
}
