/* SPDX-License-Identifier: GPL-3.0-or-later */
/* request: validate, privilege, policy and run of one request, the pipeline
 * both front ends (cli.c, the Ansible module) share. Every rule about what may
 * be asked lives in request_validate, so neither front end can skip one. */
#include "request.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "journal.h"
#include "list.h"
#include "validate.h"

static const char *const cmd_names[] = {
    [REQ_MAKE_TEMPLATE] = "make-template",
    [REQ_CLONE] = "clone",
    [REQ_TEMPLATE] = "template",
    [REQ_CHECK] = "check",
    [REQ_STORAGES] = "storages",
    [REQ_HOOK] = "hook",
    [REQ_AUDIT] = "audit",
    [REQ_LIST] = "list",
};

const char *request_cmd_name(enum request_cmd cmd)
{
    if ((size_t)cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[cmd]) {
        return cmd_names[cmd];
    }
    return NULL;
}

const char *request_hook_op_name(enum request_hook_op op)
{
    switch (op) {
    case REQ_HOOK_INSTALL:
        return "hook-install";
    case REQ_HOOK_REMOVE:
        return "hook-remove";
    case REQ_HOOK_STATUS:
        return "hook-status";
    case REQ_HOOK_UPDATE:
        return "hook-update";
    default:
        return "hook";
    }
}

const char *request_action_name(const struct request *r)
{
    return r->cmd == REQ_HOOK ? request_hook_op_name(r->u.hook.op) : request_cmd_name(r->cmd);
}

enum request_cmd request_cmd_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++) {
        if (cmd_names[i] && strcmp(cmd_names[i], name) == 0) {
            return (enum request_cmd)i;
        }
    }
    return REQ_NONE;
}

/* ---- validate ----------------------------------------------------------- */

/* A validator's verdict as the request's error. */
static int check(int r, const char *msg, struct err *e)
{
    return r < 0 ? err_set(e, ERR_USAGE, "%s", msg) : 0;
}

static int validate_global(struct request_global *g, struct err *e)
{
    char msg[512];
    g->have_timeout = g->timeout != NULL;
    g->have_lock_wait = g->lock_wait != NULL;
    if (g->json && g->json_lines) {
        return err_set(e, ERR_USAGE, "options '--json' and '--json-lines' exclude each other");
    }
    if ((g->timeout &&
         check(validate_timeout("--timeout value", g->timeout, &g->timeout_s, msg, sizeof(msg)),
               msg, e) < 0) ||
        (g->lock_wait && check(validate_timeout("--lock-wait value", g->lock_wait, &g->lock_wait_s,
                                                msg, sizeof(msg)),
                               msg, e) < 0)) {
        return -1;
    }
    return 0;
}

static int validate_clone(struct request_clone *r, bool make_template, struct err *e)
{
    const char *cmd = make_template ? "make-template" : "clone";
    char msg[512];
    struct clone_req *q = &r->q;
    memset(q, 0, sizeof(*q));
    r->migrate_to = NULL;
    /* qm clone's own checks, each value as Proxmox's schema has it */
    if ((r->name && check(validate_dns_name(r->name, msg, sizeof(msg)), msg, e) < 0) ||
        (r->storage && check(validate_storage_id(r->storage, msg, sizeof(msg)), msg, e) < 0) ||
        (r->format && check(validate_format(r->format, msg, sizeof(msg)), msg, e) < 0) ||
        (r->pool && check(validate_pool_id(r->pool, msg, sizeof(msg)), msg, e) < 0) ||
        (r->target && check(validate_node_name(r->target, msg, sizeof(msg)), msg, e) < 0) ||
        (r->description &&
         check(validate_description(r->description, msg, sizeof(msg)), msg, e) < 0) ||
        (r->bwlimit &&
         check(validate_bwlimit(r->bwlimit, &q->bwlimit, msg, sizeof(msg)), msg, e) < 0) ||
        (r->snapname && check(validate_snapshot_name(r->snapname, msg, sizeof(msg)), msg, e) < 0)) {
        return -1;
    }
    if (r->no_hook && !make_template) {
        return err_set(e, ERR_USAGE, "option '--no-hook' is only for make-template");
    }
    if (r->replace_hook && !make_template) {
        return err_set(e, ERR_USAGE, "option '--replace-hook' is only for make-template");
    }
    if (r->linked && make_template) {
        return err_set(e, ERR_USAGE,
                       "option '--linked' is only for clone: a template is always a full copy");
    }
    if (!r->src) {
        return err_set(e, ERR_USAGE, "%s needs SRC (see 'pvetmpl %s --help')", cmd, cmd);
    }
    /* No NEWID: q->newid stays 0 and the run chooses one (cmd-template.c). */
    if (check(validate_vmid(r->src, &q->src, msg, sizeof(msg)), msg, e) < 0 ||
        (r->newid && check(validate_vmid(r->newid, &q->newid, msg, sizeof(msg)), msg, e) < 0)) {
        return -1;
    }
    if (q->src == q->newid) {
        return err_set(e, ERR_USAGE, "SRC and NEWID are both %" PRIu32, q->src);
    }
    if (r->no_hook && r->replace_hook) {
        return err_set(e, ERR_USAGE,
                       "options '--no-hook' and '--replace-hook' contradict each other: "
                       "--no-hook keeps SRC's hookscript, --replace-hook replaces it");
    }
    r->have_keep = r->keep != NULL;
    if (r->rotate && !make_template) {
        return err_set(e, ERR_USAGE, "option '--rotate' is only for make-template");
    }
    if (r->keep && !r->rotate) {
        return err_set(e, ERR_USAGE, "option '--keep' needs '--rotate'");
    }
    if (r->rotate && !r->name) {
        return err_set(e, ERR_USAGE,
                       "option '--rotate' needs '--name NAME': the name to hand over");
    }
    if (r->rotate && r->target) {
        return err_set(e, ERR_USAGE,
                       "options '--rotate' and '--target' together are not supported: the old "
                       "templates are renamed with qm on this node");
    }
    if (r->rotate && strlen(r->name) > 200) {
        return err_set(e, ERR_USAGE, "--name is too long to rotate (at most 200 characters)");
    }
    if (r->keep) {
        uint64_t v;
        if (check(validate_number("--keep value", r->keep, 0, 10000, &v, msg, sizeof(msg)), msg,
                  e) < 0) {
            return -1;
        }
        r->keep_n = (long)v;
    }
    if (r->linked && (r->storage || r->format)) {
        return err_set(e, ERR_USAGE,
                       "options '--storage' and '--format' are not allowed for linked clones");
    }
    q->full = !r->linked;
    q->name = r->name;
    q->storage = r->storage;
    q->format = r->format;
    q->pool = r->pool;
    q->description = r->description;
    q->snapname = r->snapname;
    q->have_bwlimit = r->bwlimit != NULL;
    if (make_template) {
        /* qm template must run on the node that holds the VM, and qm here only
         * reaches this node: make the template here, then migrate it. */
        r->migrate_to = r->target;
    } else {
        q->target = r->target;
    }
    return 0;
}

static int validate_template(struct request_template *r, struct err *e)
{
    char msg[512];
    if (r->disk && check(validate_drive(r->disk, msg, sizeof(msg)), msg, e) < 0) {
        return -1;
    }
    if (!r->vmid) {
        return err_set(e, ERR_USAGE, "template needs one VMID (see 'pvetmpl template --help')");
    }
    return check(validate_vmid(r->vmid, &r->id, msg, sizeof(msg)), msg, e);
}

static int validate_check(struct request_check *r, struct err *e)
{
    char msg[512];
    if ((r->storage && check(validate_storage_id(r->storage, msg, sizeof(msg)), msg, e) < 0) ||
        (r->target && check(validate_node_name(r->target, msg, sizeof(msg)), msg, e) < 0)) {
        return -1;
    }
    if (!r->src) {
        return err_set(e, ERR_USAGE, "check needs one SRC VMID (see 'pvetmpl check --help')");
    }
    return check(validate_vmid(r->src, &r->id, msg, sizeof(msg)), msg, e);
}

static int hook_usage(struct err *e, const char *what)
{
    return err_set(e, ERR_USAGE, "%s (usage: " REQUEST_HOOK_USAGE ")", what);
}

static int validate_hook(struct request_hook *r, struct err *e)
{
    char msg[512];
    free(r->ids);
    r->ids = NULL;
    if (r->op == REQ_HOOK_NONE) {
        return hook_usage(e, "missing subcommand");
    }
    if (r->op == REQ_HOOK_UPDATE && r->n_vmids > 0) {
        return hook_usage(e, "'hook update' takes no VMID: it refreshes every hook file of "
                             "this node's VMs");
    }
    if (r->n_vmids == 0 && r->op != REQ_HOOK_STATUS && r->op != REQ_HOOK_UPDATE) {
        return hook_usage(e, "no VMID given");
    }
    if (r->op != REQ_HOOK_INSTALL && r->storage) {
        return hook_usage(e, "--storage only applies to 'hook install'");
    }
    if (r->op != REQ_HOOK_INSTALL && r->replace_hook) {
        return hook_usage(e, "--replace-hook only applies to 'hook install'");
    }
    if (r->storage && check(validate_storage_id(r->storage, msg, sizeof(msg)), msg, e) < 0) {
        return -1;
    }
    r->ids = calloc(r->n_vmids ? r->n_vmids : 1, sizeof(*r->ids));
    if (!r->ids) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < r->n_vmids; i++) {
        if (check(validate_vmid(r->vmids[i], &r->ids[i], msg, sizeof(msg)), msg, e) < 0) {
            return -1;
        }
    }
    return 0;
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static int audit_usage(struct err *e, const char *what)
{
    return err_set(e, ERR_USAGE,
                   "%s (usage: pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] "
                   "[--all-users] [-D DIR|--file FILE])",
                   what);
}

static int validate_audit(struct request_audit *r, struct err *e)
{
    char msg[512], q[VALIDATE_QUOTE_SIZE];
    /* Relative times (-1h, today) are read against the clock: the only
     * input of validate that is not the request. */
    uint64_t now = now_usec();
    r->id = 0;
    r->since_us = 0;
    r->until_us = UINT64_MAX;
    if (r->vmid && check(validate_vmid(r->vmid, &r->id, msg, sizeof(msg)), msg, e) < 0) {
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        const char *v = k ? r->until : r->since;
        if (v && journal_parse_time(v, now, k ? &r->until_us : &r->since_us) < 0) {
            return err_set(e, ERR_USAGE,
                           "invalid %s value '%s': expected YYYY-MM-DD [HH:MM[:SS]], @EPOCH, "
                           "today, yesterday, now or a relative time such as -1h",
                           k ? "--until" : "--since", validate_quote(v, q));
        }
    }
    if (r->action && !*r->action) {
        return audit_usage(e, "--action needs a non-empty value");
    }
    if (r->directory && r->n_files) {
        return audit_usage(e, "-D and --file exclude each other");
    }
    if (r->since_us > r->until_us) {
        return audit_usage(e, "--since is after --until");
    }
    return 0;
}

int request_validate(struct request *r, struct err *e)
{
    if (validate_global(&r->g, e) < 0) {
        return -1;
    }
    switch (r->cmd) {
    case REQ_MAKE_TEMPLATE:
    case REQ_CLONE:
        return validate_clone(&r->u.clone, r->cmd == REQ_MAKE_TEMPLATE, e);
    case REQ_TEMPLATE:
        return validate_template(&r->u.tmpl, e);
    case REQ_CHECK:
        return validate_check(&r->u.check, e);
    case REQ_STORAGES:
        return 0;
    case REQ_HOOK:
        return validate_hook(&r->u.hook, e);
    case REQ_AUDIT:
        return validate_audit(&r->u.audit, e);
    case REQ_LIST:
        return 0;
    default:
        return err_set(e, ERR_USAGE, "no command given (see 'pvetmpl --help')");
    }
}

/* ---- privilege, policy, run --------------------------------------------- */

int request_privilege(const struct request *r, struct err *e)
{
    /* audit only reads the journal, as far as the caller's groups let it
     * (adm, systemd-journal): the audit trail is for anyone who may read it,
     * and it warns when nothing was readable. */
    if (r->help || r->cmd == REQ_AUDIT) {
        return 0;
    }
    /* Checked once, here, before any side effect: qm and pvesm refuse other
     * users, the run_dir is root's. */
    if (geteuid() != 0) {
        const char *name = request_cmd_name(r->cmd);
        return err_set(e, ERR_PERMISSION, "pvetmpl%s%s must run as root, not as uid %u",
                       name ? " " : "", name ? name : "", (unsigned)geteuid());
    }
    return 0;
}

int request_policy(const struct request *r, const struct request_caller *who, struct err *e)
{
    /* Issue 9's sudo delegation plugs in here: it sees the validated request
     * and the real user before anything happens. Today: root may do all. */
    (void)r;
    (void)who;
    (void)e;
    return 0;
}

int request_run(struct ctx *c, const struct request *r, struct err *e)
{
    switch (r->cmd) {
    case REQ_MAKE_TEMPLATE:
        return cmd_make_template_run(c, &r->u.clone, e);
    case REQ_CLONE:
        return cmd_clone_run(c, &r->u.clone, e);
    case REQ_TEMPLATE:
        return cmd_template_run(c, &r->u.tmpl, e);
    case REQ_CHECK:
        return cmd_check_run(c, &r->u.check, e);
    case REQ_STORAGES:
        return cmd_storages_run(c, e);
    case REQ_HOOK:
        return cmd_hook_run(c, &r->u.hook, e);
    case REQ_AUDIT:
        return cmd_audit_run(c, &r->u.audit, e);
    case REQ_LIST:
        return cmd_list_run(c, &r->u.list, e);
    default:
        return err_set(e, ERR_INTERNAL, "no command to run");
    }
}

void request_release(struct request *r)
{
    if (r->cmd == REQ_HOOK) {
        free(r->u.hook.ids);
        r->u.hook.ids = NULL;
    }
}

void request_caller_init(struct request_caller *who, const char *frontend, char *user,
                         size_t user_len)
{
    journal_user(user, user_len);
    who->uid = getuid();
    who->user = user;
    who->frontend = frontend;
}

int request_execute(struct ctx *c, struct request *r, const struct request_caller *who,
                    struct err *e)
{
    const char *name = request_action_name(r);
    if (name && c->rep) {
        report_set_action(c->rep, name);
    }
    /* --json-lines: audit's stdout holds only event lines, its messages and
     * errors go to stderr as for a person; every other command answers as
     * with --json. */
    c->json = r->g.json || (r->g.json_lines && r->cmd != REQ_AUDIT);
    c->json_lines = r->g.json_lines && r->cmd == REQ_AUDIT;
    c->dry_run = r->g.dry_run;
    c->quiet = r->g.quiet;
    c->verbose = r->g.verbose;
    c->caller = who;
    if (c->rep) {
        report_set_dry_run(c->rep, c->dry_run);
    }
    if (request_validate(r, e) < 0 || request_privilege(r, e) < 0 ||
        request_policy(r, who, e) < 0) {
        return -1;
    }
    struct conf *cf = calloc(1, sizeof(*cf));
    if (!cf) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    const char *path = r->g.config ? r->g.config : getenv("PVETMPL_CONFIG");
    if (conf_load_file(path ? path : CONF_DEFAULT_PATH, path != NULL, cf, e) < 0) {
        free(cf);
        return -1;
    }
    c->conf = cf;
    c->conf_path = path ? path : CONF_DEFAULT_PATH;
    c->timeout = r->g.have_timeout ? r->g.timeout_s : cf->timeout;
    c->lock_wait = r->g.have_lock_wait ? r->g.lock_wait_s : cf->lock_retry_max;
    c->progress = !r->g.no_progress && !c->quiet && !c->json && isatty(STDERR_FILENO);
    if (request_run(c, r, e) == 0) {
        e->cls = ERR_OK;
        return 0;
    }
    if (e->cls == ERR_OK) {
        err_set(e, ERR_INTERNAL, "command failed without an error message");
    }
    return -1;
}

void request_ctx_release(struct ctx *c)
{
    if (c->conf) {
        conf_release((struct conf *)c->conf);
        free((void *)c->conf);
        c->conf = NULL;
    }
}
