/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check and storages: read-only commands. check runs the clone/make-template
 * preflight and reports every check; storages lists what each storage can do. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "node.h"
#include "preflight.h"
#include "pvecfg.h"
#include "qmargv.h"
#include "validate.h"

enum { O_STORAGE = 256, O_TARGET, O_HELP, O_JSON };

static const char *const help_check =
    "usage: pvetmpl [GLOBAL OPTIONS] check SRC [--storage STORAGE] [--target NODE]\n"
    "\n"
    "Run every make-template precondition for SRC and report each check; changes\n"
    "nothing. Exit 0 when make-template could proceed, 69 when a check fails.\n";

static const char *const help_storages =
    "usage: pvetmpl [GLOBAL OPTIONS] storages\n"
    "\n"
    "List every storage of this node with its type, state, whether it holds VM\n"
    "images, whether it can hold templates (base images) and whether a clone's\n"
    "disks can be put there (iscsi and iscsidirect cannot allocate new disks).\n";

int cmd_check(struct ctx *c, int argc, char **argv, struct err *e)
{
    static const struct option lopts[] = {
        {"storage", required_argument, NULL, O_STORAGE},
        {"target", required_argument, NULL, O_TARGET},
        {"help", no_argument, NULL, O_HELP},
        {"json", no_argument, NULL, O_JSON}, /* main already saw it anywhere on the line */
        {NULL, 0, NULL, 0},
    };
    struct preflight_req q = {.for_template = true};
    char msg[512];
    int ch;
    optind = 0; /* 0, not 1: fully re-initialises GNU getopt after main's "+" scan */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        int r = 0;
        switch (ch) {
        case O_STORAGE:
            r = validate_storage_id(optarg, msg, sizeof(msg));
            q.storage = optarg;
            break;
        case O_TARGET:
            r = validate_node_name(optarg, msg, sizeof(msg));
            q.target = optarg;
            break;
        case O_JSON:
            break;
        case 'h':
        case O_HELP:
            cmd_help(c, help_check);
            return 0;
        case ':':
            return err_set(e, ERR_USAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt) {
                return err_set(e, ERR_USAGE, "unknown option '-%c' for check", optopt);
            }
            return err_set(e, ERR_USAGE, "unknown option '%s' for check", argv[optind - 1]);
        }
        if (r < 0) {
            return err_set(e, ERR_USAGE, "%s", msg);
        }
    }
    if (argc - optind != 1) {
        return err_set(e, ERR_USAGE, "check needs one SRC VMID (see 'pvetmpl check --help')");
    }
    if (validate_vmid(argv[optind], &q.src, msg, sizeof(msg)) < 0) {
        return err_set(e, ERR_USAGE, "%s", msg);
    }
    if (c->conf->hook) {
        q.hook_storage = c->conf->hook_storage;
    }
    report_set_source(c->rep, q.src);
    report_set_storage(c->rep, q.storage);
    struct preflight p;
    int r = preflight_run(c, &q, &p, e);
    if (p.src_ok) {
        preflight_warn_pending(c, &p, q.src, "a template made now");
    }
    if (r == 0) {
        report_set_msg(c->rep, "VM %" PRIu32 " can be made into a template", q.src);
    }
    preflight_release(&p);
    return r == 0 ? 0 : -1;
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

int cmd_storages(struct ctx *c, int argc, char **argv, struct err *e)
{
    if (argc > 1 && strcmp(argv[1], "--json") != 0) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            cmd_help(c, help_storages);
            return 0;
        }
        return err_set(e, ERR_USAGE, "storages takes no arguments, got '%s'", argv[1]);
    }
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
    if (!c->json) {
        printf("%-20s %-12s %-9s %-7s %-9s %s\n", "STORAGE", "TYPE", "STATE", "IMAGES", "TEMPLATES",
               "CLONES");
    }
    for (size_t i = 0; i < all.n; i++) {
        const struct pvesm_row *row = &all.rows[i];
        bool img = pvesm_status_find(&images, row->name) != NULL;
        const char *tw = template_word(c->conf, row, img);
        /* A clone's disks are new volumes: only where images can be allocated. */
        bool clones = img && pvecfg_type_can_allocate(row->type);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "storage", json_object_new_string(row->name));
        json_object_object_add(o, "type", json_object_new_string(row->type));
        json_object_object_add(o, "state", json_object_new_string(pvesm_state_name(row->state)));
        json_object_object_add(o, "images", json_object_new_boolean(img));
        /* a boolean like images: "unknown" (a type not in template_types) is refused */
        json_object_object_add(o, "templates", json_object_new_boolean(strcmp(tw, "yes") == 0));
        json_object_object_add(o, "clones", json_object_new_boolean(clones));
        json_object_object_add(o, "total_kib", json_object_new_int64((int64_t)row->total_kib));
        json_object_object_add(o, "avail_kib", json_object_new_int64((int64_t)row->avail_kib));
        json_object_array_add(arr, o);
        if (!c->json) {
            printf("%-20s %-12s %-9s %-7s %-9s %s\n", row->name, row->type,
                   pvesm_state_name(row->state), img ? "yes" : "no", tw, clones ? "yes" : "no");
        }
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
