/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_parse_config on arbitrary bytes, then the lookups callers make on it
 * (hook_volid_is_ours: whether its hookscript is pvetmpl's). */
#include "fuzz.h"
#include "hookreg.h"
#include "qm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qm_config cf;
    unsigned line = 0;
    if (qm_parse_config((const char *)data, size, &cf, &line) != 0) {
        return 0;
    }
    for (size_t i = 0; i < cf.n_kv; i++) {
        if (qm_config_get(&cf, cf.kv[i].key) == NULL) {
            abort(); /* every parsed key must be found again */
        }
        qm_is_drive_key(cf.kv[i].key);
    }
    if (cf.hookscript) {
        hook_volid_is_ours(cf.hookscript, "pvetmpl-hook");
    }
    if (cf.description) {
        free(qm_decode_text(cf.description));
    }
    qm_config_release(&cf);
    return 0;
}
