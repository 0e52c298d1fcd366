/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvesm_parse_status on arbitrary bytes, then a lookup of each row. */
#include "fuzz.h"
#include "pvesm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvesm_status st;
    unsigned line = 0;
    if (pvesm_parse_status((const char *)data, size, &st, &line) != 0) {
        return 0;
    }
    for (size_t i = 0; i < st.n; i++) {
        if (!pvesm_status_find(&st, st.rows[i].name) || !pvesm_state_name(st.rows[i].state)) {
            abort();
        }
        pvesm_type_template_support(st.rows[i].type);
        pvesm_type_is_file_based(st.rows[i].type);
    }
    pvesm_status_release(&st);
    return 0;
}
