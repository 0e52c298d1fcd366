/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_parse_list on arbitrary bytes. */
#include "fuzz.h"
#include "qm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qm_list l;
    unsigned line = 0;
    if (qm_parse_list((const char *)data, size, &l, &line) == 0) {
        qm_list_release(&l);
    }
    return 0;
}
