/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_parse_conf_file (the raw /etc/pve VM config the hook and the wrapper
 * read) on arbitrary bytes, whole and as if cut: it never fails but for
 * memory, and what it returns holds together. */
#include "fuzz.h"
#include "qm.h"

static void check(const uint8_t *data, size_t size, bool cut)
{
    struct qm_config cf;
    /* The VM id from the first bytes, so the base rule sees matching ids too. */
    uint32_t vmid = size >= 2 ? 100u + (uint32_t)(data[0] % 4) : 101u;
    if (qm_parse_conf_file((const char *)data, size, vmid, cut, &cf) != 0) {
        abort(); /* only -ENOMEM, which the fuzzer's small inputs never reach */
    }
    for (size_t i = 0; i < cf.n_kv; i++) {
        if (qm_config_get(&cf, cf.kv[i].key) != cf.kv[i].value) {
            abort(); /* a key is set once: the last value replaced the others */
        }
    }
    if (cf.n_disks > cf.n_kv || (cf.base_vmid && cf.base_vmid == vmid)) {
        abort();
    }
    qm_config_release(&cf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, false);
    check(data, size, true);
    return 0;
}
