/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm_classify_error on arbitrary stderr text: the deciding line it returns
 * must point into the text, and every class must have a name. */
#include "fuzz.h"
#include "qm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    const char *line = NULL;
    enum qm_error e = qm_classify_error(text, &line);
    if (line && (line < text || line > text + size)) {
        abort();
    }
    if ((unsigned)e >= _QM_ERR_MAX || !qm_error_name(e)) {
        abort();
    }
    free(text);
    return 0;
}
