/* SPDX-License-Identifier: GPL-3.0-or-later */
/* request: validate, privilege, policy and run of one request, the pipeline
 * both front ends (cli.c, the Ansible module) share. Every rule about what may
 * be asked lives in request_validate, so neither front end can skip one. */
#include "request.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "cmd.h"
#include "conf.h"
#include "journal.h"
#include "list.h"
#include "policy.h"
#include "safepath.h"
#include "validate.h"

const char *request_action_name(const struct request *r)
{
    return action_name(r->cmd, r->cmd == REQ_HOOK ? r->u.hook.op : REQ_HOOK_NONE);
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

/* A user name as policy USER: what useradd accepts on Debian without
 * --badname, and the upper case some directories hand out. */
static int validate_policy(const struct request_policy_query *r, struct err *e)
{
    char q[VALIDATE_QUOTE_SIZE];
    const char *u = r->user;
    if (!u) {
        return 0;
    }
    size_t n = strlen(u), k = strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-");
    if (n == 0 || n > 32 || u[0] == '-' || (k != n && !(k == n - 1 && u[k] == '$'))) {
        return err_set(e, ERR_USAGE,
                       "invalid user name '%s': expected 1-32 letters, digits, '.', '_' or '-' "
                       "(not first), optionally ending in '$'",
                       validate_quote(u, q));
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
    case REQ_POLICY:
        return validate_policy(&r->u.pol, e);
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
    if (r->help || r->cmd == REQ_AUDIT || r->cmd == REQ_POLICY) {
        return 0; /* policy reads the configuration as far as the caller may */
    }
    /* Checked once, here, before any side effect: qm and pvesm refuse other
     * users, the run_dir is root's. */
    if (geteuid() != 0) {
        const char *name = action_cmd_name(r->cmd);
        return err_set(e, ERR_PERMISSION, "pvetmpl%s%s must run as root, not as uid %u",
                       name ? " " : "", name ? name : "", (unsigned)geteuid());
    }
    return 0;
}

/* Whether a grant names a group: only then are the caller's groups worth
 * asking NSS for (getgrouplist loads every passwd/group module, e.g.
 * libnss_systemd and what it links: about 0.5 MiB of peak RSS). */
static bool grants_name_groups(const struct conf *conf)
{
    for (size_t i = 0; i < conf->n_grants; i++) {
        if (conf->grants[i].groups.n > 0) {
            return true;
        }
    }
    return false;
}

int request_policy(const struct conf *conf, const struct request *r,
                   const struct request_caller *who, struct policy_decision *ret, struct err *e)
{
    struct strv groups = STRV_INIT;
    /* Without root's privileges nothing is delegated: the run has only the
     * caller's own rights (request_privilege let only audit and policy
     * through), and policy's own rule still holds. */
    if (who->delegated && geteuid() != 0 && r->cmd != REQ_POLICY) {
        *ret = (struct policy_decision){.allowed = true};
        snprintf(ret->reason, sizeof(ret->reason), "the caller's own rights");
        return 0;
    }
    if (who->user && grants_name_groups(conf) && policy_caller_groups(who->user, &groups, e) < 0) {
        return -1;
    }
    policy_decide(conf, r, who, (const char *const *)groups.v, groups.n, ret);
    strv_release(&groups);
    if (!ret->allowed) {
        return err_set(e, ERR_PERMISSION, "%s", ret->reason);
    }
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
    case REQ_POLICY:
        return cmd_policy_run(c, &r->u.pol, e);
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

/* ---- the caller, and a delegated run's process ---------------------------- */

/* Nothing the caller's environment or open files could bring along reaches
 * this process or what it starts (spawn.c gives children a clean
 * environment and closes their fds too; this is for our own reads). */
static void harden_process(void)
{
    clearenv();
    setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    umask(022);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) {
        return;
    }
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) {
        close((int)fd);
    }
}

void request_caller_init(struct request_caller *who, const char *frontend, char *user,
                         size_t user_len)
{
    bool sudo = false;
    uid_t uid = journal_caller_uid(&sudo);
    struct passwd pw, *res = NULL;
    char pwbuf[1024], sudo_user[64] = "";
    *who = (struct request_caller){.uid = uid, .frontend = frontend, .via_sudo = sudo};
    who->delegated = uid != 0 || getuid() != 0;
    who->config_env = getenv("PVETMPL_CONFIG") != NULL;
    const char *su = sudo ? getenv("SUDO_USER") : NULL;
    if (su) {
        snprintf(sudo_user, sizeof(sudo_user), "%s", su);
        who->sudo_mismatch =
            getpwnam_r(su, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res || res->pw_uid != uid;
    }
    if (!who->delegated && !who->sudo_mismatch) {
        journal_user(user, user_len);
        who->user = user;
        return;
    }
    harden_process();
    /* the name of the uid, never $SUDO_USER: anyone's to set */
    if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res &&
        strlen(res->pw_name) < user_len) {
        snprintf(user, user_len, "%s", res->pw_name);
        who->user = user;
    } else {
        snprintf(user, user_len, "uid:%u", (unsigned)uid);
    }
    if (who->sudo_mismatch) {
        /* who asked cannot be told: the record says what both claimed */
        char claim[160];
        snprintf(claim, sizeof(claim), "SUDO_UID:%u/SUDO_USER:%.64s", (unsigned)uid, sudo_user);
        journal_set_context(claim, NULL);
        return;
    }
    journal_set_context(user, NULL);
}

/* The request as one line for the journal: the command and every value
 * the front end read, each quoted as messages quote them. */
static void describe(const struct request *r, char *buf, size_t len)
{
    FILE *f = fmemopen(buf, len, "w");
    char q[VALIDATE_QUOTE_SIZE];
    const char *name = action_cmd_name(r->cmd);
    buf[0] = '\0';
    if (!f) {
        return;
    }
#define OPT(flag, val)                                                                             \
    do {                                                                                           \
        if (val) {                                                                                 \
            fprintf(f, " %s '%s'", flag, validate_quote(val, q));                                  \
        }                                                                                          \
    } while (0)
#define FLAG(flag, on)                                                                             \
    do {                                                                                           \
        if (on) {                                                                                  \
            fprintf(f, " %s", flag);                                                               \
        }                                                                                          \
    } while (0)
    fputs(name ? name : "(no command)", f);
    switch (r->cmd) {
    case REQ_MAKE_TEMPLATE:
    case REQ_CLONE: {
        const struct request_clone *c = &r->u.clone;
        OPT("SRC", c->src);
        OPT("NEWID", c->newid);
        OPT("--name", c->name);
        OPT("--storage", c->storage);
        OPT("--format", c->format);
        OPT("--pool", c->pool);
        OPT("--target", c->target);
        OPT("--description", c->description);
        OPT("--bwlimit", c->bwlimit);
        OPT("--snapname", c->snapname);
        FLAG("--no-hook", c->no_hook);
        FLAG("--replace-hook", c->replace_hook);
        FLAG("--linked", c->linked);
        FLAG("--rotate", c->rotate);
        OPT("--keep", c->keep);
        break;
    }
    case REQ_TEMPLATE:
        OPT("VMID", r->u.tmpl.vmid);
        OPT("--disk", r->u.tmpl.disk);
        break;
    case REQ_CHECK:
        OPT("SRC", r->u.check.src);
        OPT("--storage", r->u.check.storage);
        OPT("--target", r->u.check.target);
        break;
    case REQ_HOOK: {
        const char *op = action_hook_op_word(r->u.hook.op);
        fprintf(f, " %s", op ? op : "(none)");
        for (size_t i = 0; i < r->u.hook.n_vmids && r->u.hook.vmids; i++) {
            OPT("VMID", r->u.hook.vmids[i]);
        }
        OPT("--storage", r->u.hook.storage);
        FLAG("--replace-hook", r->u.hook.replace_hook);
        break;
    }
    case REQ_AUDIT:
        OPT("--vmid", r->u.audit.vmid);
        OPT("--since", r->u.audit.since);
        OPT("--until", r->u.audit.until);
        OPT("--action", r->u.audit.action);
        OPT("-D", r->u.audit.directory);
        for (size_t i = 0; i < r->u.audit.n_files && r->u.audit.files; i++) {
            OPT("--file", r->u.audit.files[i]);
        }
        FLAG("--all-users", r->u.audit.all_users);
        break;
    case REQ_LIST:
        FLAG("--all", r->u.list.all);
        break;
    case REQ_POLICY:
        OPT("USER", r->u.pol.user);
        break;
    case REQ_STORAGES:
    case REQ_NONE:
    case _REQ_CMD_MAX:
        break;
    }
    OPT("--config", r->g.config);
    OPT("--timeout", r->g.timeout);
    OPT("--lock-wait", r->g.lock_wait);
    FLAG("--dry-run", r->g.dry_run);
#undef OPT
#undef FLAG
    fclose(f);
    buf[len - 1] = '\0';
}

/* The journal's action for a request: hook's subcommand as hook-install... */
static const char *journal_action(const struct request *r)
{
    const char *name = request_action_name(r);
    return name ? name : "unknown";
}

/* A delegated caller's request refused before anything ran, in the journal
 * (only a root process writes an entry audit trusts; a user without root
 * has only its own rights to lose). grant and field: the policy's (NULL:
 * none; field then the error's class). */
static void journal_refusal(const struct request *r, const struct request_caller *who,
                            const char *grant, const char *field, const struct err *why)
{
    char text[2048];
    uint32_t v;
    struct err je;
    if (!(who->delegated || who->sudo_mismatch) || geteuid() != 0) {
        return;
    }
    struct journal_event ev = {.action = journal_action(r)};
    switch (r->cmd) {
    case REQ_MAKE_TEMPLATE:
    case REQ_CLONE:
        ev.vmid = validate_vmid(r->u.clone.newid ? r->u.clone.newid : "", &v, NULL, 0) == 0 ? v : 0;
        ev.source_vmid =
            validate_vmid(r->u.clone.src ? r->u.clone.src : "", &v, NULL, 0) == 0 ? v : 0;
        break;
    case REQ_TEMPLATE:
        ev.vmid = validate_vmid(r->u.tmpl.vmid ? r->u.tmpl.vmid : "", &v, NULL, 0) == 0 ? v : 0;
        break;
    case REQ_CHECK:
        ev.source_vmid =
            validate_vmid(r->u.check.src ? r->u.check.src : "", &v, NULL, 0) == 0 ? v : 0;
        break;
    default:
        break;
    }
    describe(r, text, sizeof(text));
    if (!field) {
        field = why->cls == ERR_USAGE ? "usage" : why->cls == ERR_PERMISSION ? "caller" : "config";
    }
    /* Not warned about: the caller gets the refusal itself either way. */
    (void)journal_denied(&ev, grant, field, text, why, &je);
}

void request_refused(const struct request *r, const struct request_caller *who,
                     const struct err *why)
{
    journal_refusal(r, who, NULL, NULL, why);
}

/* For a delegated caller: what the configuration names root runs or writes
 * into must be as trustworthy as the file (safepath.h): the programs, the
 * hookscript it installs, run_dir. */
static int check_trust(const struct conf *cf, struct err *e)
{
    if (safepath_check_file(cf->qm, "qm", true, NULL, e) < 0 ||
        safepath_check_file(cf->pvesm, "pvesm", true, NULL, e) < 0 ||
        safepath_check_file(cf->hook_binary, "hook_binary", true, NULL, e) < 0 ||
        safepath_check_dir(cf->run_dir, "run_dir", e) < 0) {
        return -1;
    }
    return 0;
}

/* Loads the configuration of the run into *cf; c->conf_path says which. */
static int load_conf(struct ctx *c, const struct request *r, const struct request_caller *who,
                     struct conf *cf, struct err *e)
{
    const char *path = r->g.config ? r->g.config : getenv("PVETMPL_CONFIG");
    if (!who->delegated) {
        c->conf_path = path ? path : CONF_DEFAULT_PATH;
        return conf_load_file(c->conf_path, path != NULL, cf, e);
    }
    /* Only the system's: the grants live there. Refused before a byte of
     * the named file is read (a parse error would echo it). */
    if (r->g.config || who->config_env) {
        char name[300];
        if (who->user) {
            snprintf(name, sizeof(name), "user %s", who->user);
        } else {
            snprintf(name, sizeof(name), "uid %u", (unsigned)who->uid);
        }
        return err_set(e, ERR_USAGE,
                       "%s is refused: a run for a caller other than root (%s%s) uses only "
                       "the system configuration '%s'",
                       r->g.config ? "-c/--config" : "$PVETMPL_CONFIG", name,
                       who->via_sudo ? ", through sudo" : "", CONF_DEFAULT_PATH);
    }
    c->conf_path = CONF_DEFAULT_PATH;
    if (safepath_check_file(CONF_DEFAULT_PATH, "configuration", true, NULL, e) < 0) {
        return -1;
    }
    if (conf_load_file(CONF_DEFAULT_PATH, false, cf, e) < 0) {
        /* Its text is root's: never repeated to another user. */
        return err_set(e, e->cls,
                       "the system configuration '%s' cannot be used (the reason is shown to "
                       "root: run 'pvetmpl storages' as root)",
                       CONF_DEFAULT_PATH);
    }
    return 0;
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
    struct policy_decision d = {.allowed = false};
    if (request_validate(r, e) < 0) {
        journal_refusal(r, who, NULL, NULL, e);
        return -1;
    }
    if (request_privilege(r, e) < 0) {
        return -1;
    }
    if (who->sudo_mismatch) {
        err_set(e, ERR_PERMISSION,
                "sudo's SUDO_UID (%u) and SUDO_USER disagree: the sudoers rule lets the caller "
                "set them (SETENV or env_keep), so who asked cannot be told; refusing",
                (unsigned)who->uid);
        journal_refusal(r, who, NULL, NULL, e);
        return -1;
    }
    struct conf *cf = calloc(1, sizeof(*cf));
    if (!cf) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (load_conf(c, r, who, cf, e) < 0) {
        struct err why = *e;
        free(cf);
        journal_refusal(r, who, NULL, NULL, &why);
        return -1;
    }
    c->conf = cf;
    if (request_policy(cf, r, who, &d, e) < 0) {
        journal_refusal(r, who, d.field ? d.grant : NULL,
                        d.field ? policy_field_name(d.field) : NULL, e);
        return -1;
    }
    if (who->delegated && geteuid() == 0 && check_trust(cf, e) < 0) {
        journal_refusal(r, who, NULL, NULL, e);
        return -1;
    }
    if (d.grant) { /* also a grant naming root: it labels root's runs */
        journal_set_context(NULL, d.grant);
    }
    if (d.grant && c->rep) {
        report_set(c->rep, "grant", json_object_new_string(d.grant));
    }
    /* A delegated dry run answers "may I?" too. */
    if (who->delegated && c->dry_run && d.grant && !c->quiet && !c->json) {
        printf("would be allowed by grant '%s'\n", d.grant);
    }
    c->timeout = r->g.have_timeout ? r->g.timeout_s : cf->timeout;
    c->lock_wait = r->g.have_lock_wait ? r->g.lock_wait_s : cf->lock_retry_max;
    c->progress = !r->g.no_progress && !c->quiet && !c->json && isatty(STDERR_FILENO);
    if (request_run(c, r, e) == 0) {
        e->cls = ERR_OK;
        return 0;
    }
    /* A rule of delegated runs that only the run could apply (the name in
     * use): a denial too, as the policy's are. */
    if (c->denied_field) {
        journal_refusal(r, who, d.grant, c->denied_field, e);
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
