/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_parse_line (clone/template progress lines), qm_parse_size_rendered and
 * qm_decode_text on each line of the input, as the clone runner feeds them. */
#include "fuzz.h"
#include "qm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        struct qm_line ql;
        uint64_t n;
        qm_parse_line(l, &ql);
        if (ql.kind == QM_LINE_PROGRESS && ql.percent != ql.percent) {
            abort(); /* NaN progress */
        }
        qm_parse_size_rendered(l, &n);
        free(qm_decode_text(l));
    }
    free(text);
    return 0;
}
