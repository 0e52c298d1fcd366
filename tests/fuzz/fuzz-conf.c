/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf_load_string (the pvetmpl.conf reader) on arbitrary text: it either
 * loads or fails with a class and a message, never anything else. */
#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct conf c;
    struct err e = {0};
    if (conf_load_string(text, &c, &e) == 0) {
        conf_release(&c);
    } else if (e.cls == ERR_OK || !e.detail[0]) {
        abort();
    }
    free(text);
    return 0;
}
