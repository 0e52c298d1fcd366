/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf_load_string (the pvetmpl.conf reader) on arbitrary text: it either
 * loads or fails with a class and a message, never anything else. What it
 * loads is used as the hook uses it: every hook_refuse_vmids rule is a range
 * the hook can match a VM against, every tag one it can compare. */
#include "conf.h"
#include "fuzz.h"
#include "validate.h"

static void use_as_the_hook_does(const struct conf *c)
{
    char msg[256];
    for (size_t i = 0; i < c->hook_refuse_vmids.n; i++) {
        uint32_t a, b;
        if (validate_vmid_range(c->hook_refuse_vmids.v[i], &a, &b, msg, sizeof(msg)) != 0 ||
            a > b) {
            abort(); /* a rule the hook would silently never apply */
        }
    }
    for (size_t i = 0; i < c->hook_refuse_tags.n; i++) {
        if (validate_tag(c->hook_refuse_tags.v[i], msg, sizeof(msg)) != 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct conf c;
    struct err e = {0};
    if (conf_load_string(text, &c, &e) == 0) {
        use_as_the_hook_does(&c);
        conf_release(&c);
    } else if (e.cls == ERR_OK || !e.detail[0]) {
        abort();
    }
    free(text);
    return 0;
}
