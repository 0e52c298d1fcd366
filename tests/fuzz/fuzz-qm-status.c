/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_parse_status on arbitrary bytes (no terminator: the parser gets a length). */
#include "fuzz.h"
#include "qm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qm_status st;
    unsigned line = 0;
    if (qm_parse_status((const char *)data, size, &st, &line) == 0) {
        qm_status_release(&st);
    }
    return 0;
}
