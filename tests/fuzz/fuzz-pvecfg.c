/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The cluster files on arbitrary bytes: pvecfg_parse_storage (storage.cfg)
 * never fails but for memory and finds every storage it returns;
 * pvecfg_pool_exists (user.cfg) reads the same text for the pool named by
 * its first line. */
#include "fuzz.h"
#include "pvecfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvecfg_storages s;
    if (pvecfg_parse_storage((const char *)data, size, &s) != 0) {
        abort();
    }
    for (size_t i = 0; i < s.n; i++) {
        if (!s.v[i].id || !s.v[i].type || !pvecfg_storage_find(&s, s.v[i].id)) {
            abort();
        }
        pvecfg_storage_holds_format(s.v[i].type, s.v[i].volume_chain, "qcow2");
        pvecfg_storage_formats(s.v[i].type, s.v[i].volume_chain);
        pvecfg_type_can_allocate(s.v[i].type);
    }
    pvecfg_storages_release(&s);
    const uint8_t *nl = memchr(data, '\n', size);
    char *pool = fuzz_cstr(data, nl ? (size_t)(nl - data) : size);
    pvecfg_pool_exists((const char *)data, size, pool);
    free(pool);
    return 0;
}
