/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TEMPORARY - DELETE THIS FILE WHEN THE hookaudit BRANCH IS MERGED.
 * cmd_hook_run and cmd_audit_run as adapters to the old argv entry points
 * cmd_hook and cmd_audit: the request is written back as the argv those
 * parsers read. The hookaudit branch provides the real cmd_hook_run and
 * cmd_audit_run (taking the request), and removes cmd_hook/cmd_audit. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd.h"
#include "strv.h"

/* Runs fn on argv; *argv is released. */
static int call_old(struct ctx *c, struct strv *argv, int built,
                    int (*fn)(struct ctx *, int, char **, struct err *), struct err *e)
{
    if (built < 0) {
        strv_release(argv);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int argc = 0;
    while (strv_argv(argv)[argc]) {
        argc++;
    }
    int r = fn(c, argc, (char **)strv_argv(argv), e); /* the old parsers do not write it */
    strv_release(argv);
    return r;
}

int cmd_hook_run(struct ctx *c, const struct request_hook *r, struct err *e)
{
    static const char *const ops[] = {
        [REQ_HOOK_INSTALL] = "install", [REQ_HOOK_REMOVE] = "remove", [REQ_HOOK_STATUS] = "status"};
    struct strv argv = STRV_INIT;
    int k = strv_push(&argv, "hook");
    k = k < 0 ? k : strv_push(&argv, ops[r->op]);
    if (r->storage) {
        k = k < 0 ? k : strv_push(&argv, "--storage");
        k = k < 0 ? k : strv_push(&argv, r->storage);
    }
    if (r->replace_hook) {
        k = k < 0 ? k : strv_push(&argv, "--replace-hook");
    }
    k = k < 0 ? k : strv_push(&argv, "--");
    for (size_t i = 0; i < r->n_vmids; i++) {
        k = k < 0 ? k : strv_pushf(&argv, "%" PRIu32, r->ids[i]);
    }
    return call_old(c, &argv, k, cmd_hook, e);
}

int cmd_audit_run(struct ctx *c, const struct request_audit *r, struct err *e)
{
    struct strv argv = STRV_INIT;
    int k = strv_push(&argv, "audit");
    const struct {
        const char *opt, *val;
    } vals[] = {{"--vmid", r->vmid},
                {"--since", r->since},
                {"--until", r->until},
                {"--action", r->action},
                {"--directory", r->directory}};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        if (vals[i].val) {
            k = k < 0 ? k : strv_pushf(&argv, "%s=%s", vals[i].opt, vals[i].val);
        }
    }
    for (size_t i = 0; i < r->n_files; i++) {
        k = k < 0 ? k : strv_pushf(&argv, "--file=%s", r->files[i]);
    }
    if (r->all_users) {
        k = k < 0 ? k : strv_push(&argv, "--all-users");
    }
    return call_old(c, &argv, k, cmd_audit, e);
}
