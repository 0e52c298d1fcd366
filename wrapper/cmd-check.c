/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check and storages: read-only commands. check runs the clone/make-template
 * preflight and reports every check; storages lists what each storage can do.
 * Both only fill the report: the front end draws the tables. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "node.h"
#include "preflight.h"
#include "pvecfg.h"
#include "qmargv.h"

int cmd_check_run(struct ctx *c, const struct request_check *r, struct err *e)
{
    struct preflight_req q = {
        .for_template = true, .src = r->id, .storage = r->storage, .target = r->target};
    if (c->conf->hook) {
        q.hook_storage = c->conf->hook_storage;
    }
    report_set_source(c->rep, q.src);
    report_set_storage(c->rep, q.storage);
    struct preflight p;
    int pr = preflight_run(c, &q, &p, e);
    if (p.src_ok) {
        preflight_warn_pending(c, &p, q.src, "a template made now");
    }
    /* The whole story behind make-template's one-line warning. */
    const struct pvesm_row *hr = q.hook_storage ? pvesm_status_find(&p.all, q.hook_storage) : NULL;
    char why[1024];
    /* preflight's reading of .vmlist: one look at the cluster per check */
    if (hr && cmd_hook_storage_local(c->conf, &p.vl, q.hook_storage, hr->type, why, sizeof(why))) {
        cmd_warn(c, "%s", why);
    }
    if (pr == 0) {
        report_set_msg(c->rep, "VM %" PRIu32 " can be made into a template", q.src);
    }
    preflight_release(&p);
    return pr == 0 ? 0 : -1;
}

static const char *template_word(const struct conf *cf, const struct pvesm_row *row, bool images)
{
    if (!images) {
        return "no";
    }
    switch (preflight_template_support(cf, row->type)) {
    case PVESM_TEMPLATE_YES:
        return "yes";
    case PVESM_TEMPLATE_UNKNOWN:
        return "unknown";
    default:
        return "no";
    }
}

struct json_object *cmd_storages_row(const struct conf *cf, const struct pvesm_row *row, bool img)
{
    const char *tw = template_word(cf, row, img);
    /* A clone's disks are new volumes: only where images can be allocated. */
    bool clones = img && pvecfg_type_can_allocate(row->type);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "storage", json_object_new_string(row->name));
    json_object_object_add(o, "type", json_object_new_string(row->type));
    json_object_object_add(o, "state", json_object_new_string(pvesm_state_name(row->state)));
    json_object_object_add(o, "images", json_object_new_boolean(img));
    /* a boolean like images: "unknown" (a type not in template_types) is refused;
     * the word keeps what the bool cannot say, for the table */
    json_object_object_add(o, "templates", json_object_new_boolean(strcmp(tw, "yes") == 0));
    json_object_object_add(o, "template_support", json_object_new_string(tw));
    json_object_object_add(o, "clones", json_object_new_boolean(clones));
    json_object_object_add(o, "total_kib", json_object_new_int64((int64_t)row->total_kib));
    json_object_object_add(o, "avail_kib", json_object_new_int64((int64_t)row->avail_kib));
    return o;
}

/* One row per storage into the report ("storages"); the front end draws it. */
int cmd_storages_run(struct ctx *c, struct err *e)
{
    struct strv a1 = STRV_INIT, a2 = STRV_INIT;
    struct spawn_result res[2];
    struct pvesm_status all = {0}, images = {0};
    unsigned line = 0;
    int rc = -1;
    if (qmargv_pvesm_status(c->conf->pvesm, NULL, NULL, &a1) < 0 ||
        qmargv_pvesm_status(c->conf->pvesm, "images", NULL, &a2) < 0) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    char *const *argvs[2] = {strv_argv(&a1), strv_argv(&a2)};
    if (node_run_many(c, 2, argvs, res, NULL, NULL, e) < 0) {
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        struct pvesm_status *st = i ? &images : &all;
        if (spawn_result_code(&res[i]) != 0) {
            node_fail(&res[i], "pvesm status", e);
            goto out_res;
        }
        if (pvesm_parse_status(res[i].out, res[i].out_len, st, &line) < 0) {
            err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of 'pvesm status' (line %u)", line);
            goto out_res;
        }
    }
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < all.n; i++) {
        const struct pvesm_row *row = &all.rows[i];
        bool img = pvesm_status_find(&images, row->name) != NULL;
        json_object_array_add(arr, cmd_storages_row(c->conf, row, img));
    }
    report_set(c->rep, "storages", arr);
    report_set_msg(c->rep, "%zu storages", all.n);
    rc = 0;
out_res:
    spawn_result_release(&res[0]);
    spawn_result_release(&res[1]);
out:
    strv_release(&a1);
    strv_release(&a2);
    pvesm_status_release(&all);
    pvesm_status_release(&images);
    return rc;
}
