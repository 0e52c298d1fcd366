/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmlist_parse on arbitrary bytes, then a lookup of each entry. */
#include "fuzz.h"
#include "vmlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vmlist vl;
    if (vmlist_parse((const char *)data, size, &vl) != 0) {
        return 0;
    }
    for (size_t i = 0; i < vl.n; i++) {
        if (!vmlist_find(&vl, vl.entries[i].vmid)) {
            abort();
        }
    }
    vmlist_release(&vl);
    return 0;
}
