/* SPDX-License-Identifier: GPL-3.0-or-later */
/* module_parse (the Ansible module's JSON arguments -> request) on arbitrary
 * text: an object either maps to a request of a command the module runs, with
 * the target VMID set, or is refused as bad usage with a message; the result
 * built from an empty report always serialises. */
#include <json-c/json.h>

#include "fuzz.h"
#include "module.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct json_object *args = json_tokener_parse(text);
    struct module_params mp;
    struct request r;
    struct err e = {ERR_OK, ""};
    if (module_parse(args, &mp, &r, &e) == 0) {
        const char *target = r.cmd == REQ_TEMPLATE ? r.u.tmpl.vmid : r.u.clone.newid;
        if ((r.cmd != REQ_MAKE_TEMPLATE && r.cmd != REQ_CLONE && r.cmd != REQ_TEMPLATE) ||
            !target || (r.cmd != REQ_TEMPLATE && !r.u.clone.src) || !mp.module_args || !r.g.json ||
            r.g.dry_run != mp.check_mode) {
            abort();
        }
    } else if (e.cls != ERR_USAGE || !e.detail[0]) {
        abort();
    }
    struct report *rep = report_new(NULL);
    struct json_object *o = rep ? module_result(&mp, &r, report_finish(rep, &e, 64, 0), &e) : NULL;
    if (!o || !json_object_to_json_string(o)) {
        abort();
    }
    json_object_put(o);
    report_free(rep);
    module_params_release(&mp);
    json_object_put(args);
    free(text);
    return 0;
}
