/* SPDX-License-Identifier: GPL-3.0-or-later */
/* journal_base_vmid on an arbitrary volume id: a base is a valid VM id other
 * than the VM's own, and appears in the volume as "base-<id>-disk-". */
#include <stdio.h>

#include "fuzz.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    /* First byte picks the VM the volume belongs to. */
    uint32_t vmid = 100u + data[0] % 8;
    char *s = fuzz_cstr(data + 1, size - 1);
    uint32_t base = journal_base_vmid(s, vmid);
    if (base) {
        char want[32];
        snprintf(want, sizeof(want), "base-%u-disk-", (unsigned)base);
        if (base < 100 || base > 999999999 || base == vmid || !strstr(s, want)) {
            abort();
        }
    }
    free(s);
    return 0;
}
