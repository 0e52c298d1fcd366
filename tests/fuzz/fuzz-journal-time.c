/* SPDX-License-Identifier: GPL-3.0-or-later */
/* journal_parse_time (audit --since/--until) on arbitrary text: it parses or
 * says -EINVAL, and leaves the result alone when it refuses. The same text as
 * a hook phase and a MESSAGE_ID (the journal's words audit and the hook
 * read): a name found maps back to itself. */
#include <errno.h>

#include "fuzz.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    /* A fixed "now" keeps a crashing input reproducible. */
    uint64_t v = 42;
    int r = journal_parse_time(s, 1700000000000000ull, &v);
    if ((r != 0 && r != -EINVAL) || (r != 0 && v != 42)) {
        abort();
    }
    enum journal_phase ph = journal_phase_from_string(s);
    if (ph != _JOURNAL_PHASE_INVALID && strcmp(journal_phase_to_string(ph), s) != 0) {
        abort();
    }
    enum journal_msg m = journal_msg_from_id(s);
    if (m != _JOURNAL_MSG_INVALID && strcmp(journal_msg_info(m)->id, s) != 0) {
        abort();
    }
    free(s);
    return 0;
}
