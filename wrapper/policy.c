/* SPDX-License-Identifier: GPL-3.0-or-later */
/* policy: decides a validated request against the grants of pvetmpl.conf.
 * Each grant is checked part by part in one fixed order (enum policy_field);
 * the first part it does not allow is its answer, and the grant that got
 * furthest is the one a denial names. */
#include "policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "validate.h"

static const char *const field_names[_POLICY_FIELD_MAX] = {
    [POLICY_FIELD_NONE] = "none",
    [POLICY_FIELD_CONFIG] = "config",
    [POLICY_FIELD_TIMEOUT] = "timeout",
    [POLICY_FIELD_LOCK_WAIT] = "lock_wait",
    [POLICY_FIELD_CALLER] = "caller",
    [POLICY_FIELD_ACTION] = "actions",
    [POLICY_FIELD_SOURCE_VMID] = "source_vmids",
    [POLICY_FIELD_TARGET_VMID] = "target_vmids",
    [POLICY_FIELD_STORAGE] = "storages",
    [POLICY_FIELD_POOL] = "pools",
    [POLICY_FIELD_NAME] = "names",
    [POLICY_FIELD_FORMAT] = "formats",
    [POLICY_FIELD_TARGET] = "target_nodes",
    [POLICY_FIELD_LINKED] = "allow_linked",
    [POLICY_FIELD_REPLACE_HOOK] = "allow_replace_hook",
    [POLICY_FIELD_NO_HOOK] = "allow_no_hook",
    [POLICY_FIELD_DESCRIPTION] = "allow_description",
    [POLICY_FIELD_BWLIMIT] = "allow_bwlimit",
    [POLICY_FIELD_SNAPNAME] = "allow_snapname",
    [POLICY_FIELD_DISK] = "allow_disk",
    [POLICY_FIELD_HOOK_STORAGE] = "hook_storages",
    [POLICY_FIELD_JOURNAL_FILES] = "allow_journal_files",
};

const char *policy_field_name(enum policy_field f)
{
    return (unsigned)f < _POLICY_FIELD_MAX ? field_names[f] : "unknown";
}

/* ---- matching one value ---- */

static bool id_in_exact(const struct strv *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], v) == 0) {
            return true;
        }
    }
    return false;
}

/* Exact (case-sensitive, as Proxmox compares IDs), or the list says "*". */
static bool id_in(const struct strv *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], "*") == 0 || strcmp(l->v[i], v) == 0) {
            return true;
        }
    }
    return false;
}

static bool vmid_in(const struct strv *ranges, uint32_t id)
{
    for (size_t i = 0; i < ranges->n; i++) {
        uint32_t a, b;
        if (validate_vmid_range(ranges->v[i], &a, &b, NULL, 0) == 0 && a <= id && id <= b) {
            return true;
        }
    }
    return false;
}

/* The whole name, fnmatch(3) with no flags: case-sensitive, '*' also
 * matches '.', a backslash quotes. */
static bool name_in(const struct strv *patterns, const char *name)
{
    for (size_t i = 0; i < patterns->n; i++) {
        if (fnmatch(patterns->v[i], name, 0) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- one grant against the request ---- */

/* A grant's verdict on the request: the first part it does not allow, and
 * what that part asked for, for the message. */
struct verdict {
    enum policy_field field;
    char what[256];
};

__attribute__((format(printf, 3, 4))) static enum policy_field
refuse(struct verdict *v, enum policy_field f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->what, sizeof(v->what), fmt, ap);
    va_end(ap);
    return v->field = f;
}

/* The values a request asks for in one place: what validate filled in for
 * the run and what the front end read, when they differ (they never should;
 * checking both keeps the policy right if they ever do). */
static size_t values(const char *a, const char *b, const char *out[2])
{
    size_t n = 0;
    if (a) {
        out[n++] = a;
    }
    if (b && (!a || strcmp(a, b) != 0)) {
        out[n++] = b;
    }
    return n;
}

static enum policy_field check_ids(const struct strv *l, enum policy_field f, const char *a,
                                   const char *b, const char *option, struct verdict *v)
{
    const char *vals[2];
    size_t n = values(a, b, vals);
    for (size_t i = 0; i < n; i++) {
        if (!id_in(l, vals[i])) {
            return refuse(v, f, "%s '%.64s'", option, vals[i]);
        }
    }
    return POLICY_FIELD_NONE;
}

static enum policy_field check_flag(bool granted, enum policy_field f, bool asked,
                                    const char *option, struct verdict *v)
{
    return asked && !granted ? refuse(v, f, "%s", option) : POLICY_FIELD_NONE;
}

static enum policy_field check_clone(const struct conf_grant *g, const struct request_clone *c,
                                     struct verdict *v)
{
    enum policy_field f;
    const char *vals[2];
    bool linked = c->linked || !c->q.full;
    if (!vmid_in(&g->source_vmids, c->q.src)) {
        return refuse(v, POLICY_FIELD_SOURCE_VMID, "source VMID %" PRIu32, c->q.src);
    }
    /* An automatic NEWID is chosen after the policy spoke: a grant cannot
     * vouch for it, so a delegated caller names NEWID. */
    if (!c->newid || !c->q.newid) {
        return refuse(v, POLICY_FIELD_TARGET_VMID,
                      "an automatic NEWID (name NEWID: a grant allows only the VMIDs it lists)");
    }
    if (!vmid_in(&g->target_vmids, c->q.newid)) {
        return refuse(v, POLICY_FIELD_TARGET_VMID, "new VMID %" PRIu32, c->q.newid);
    }
    /* Rotation renames and may destroy other templates: no grant key covers
     * that, so it stays root's. */
    if (c->rotate || c->keep) {
        return refuse(v, POLICY_FIELD_ACTION,
                      "--rotate/--keep (renaming and destroying templates "
                      "is not delegated)");
    }
    /* Without --storage a full copy lands on the source's storages, which
     * this pure check cannot see; a linked clone stays on the template's,
     * which allow_linked grants. */
    if (!values(c->q.storage, c->storage, vals) && !linked && !g->allow_same_storage) {
        return refuse(v, POLICY_FIELD_STORAGE,
                      "a copy without --storage: it would stay on the source's storage, and "
                      "allow_same_storage is not set");
    }
    if ((f = check_ids(&g->storages, POLICY_FIELD_STORAGE, c->q.storage, c->storage, "--storage",
                       v)) ||
        (f = check_ids(&g->pools, POLICY_FIELD_POOL, c->q.pool, c->pool, "--pool", v))) {
        return f;
    }
    size_t n = values(c->q.name, c->name, vals);
    for (size_t i = 0; i < n; i++) {
        if (!name_in(&g->names, vals[i])) {
            return refuse(v, POLICY_FIELD_NAME, "--name '%.64s'", vals[i]);
        }
    }
    if ((f = check_ids(&g->formats, POLICY_FIELD_FORMAT, c->q.format, c->format, "--format", v)) ||
        (f = check_ids(&g->target_nodes, POLICY_FIELD_TARGET, c->q.target, c->target, "--target",
                       v)) ||
        (f = check_ids(&g->target_nodes, POLICY_FIELD_TARGET, c->migrate_to, NULL, "--target",
                       v)) ||
        (f = check_flag(g->allow_linked, POLICY_FIELD_LINKED, linked, "--linked", v)) ||
        (f = check_flag(g->allow_replace_hook, POLICY_FIELD_REPLACE_HOOK, c->replace_hook,
                        "--replace-hook", v)) ||
        (f = check_flag(g->allow_no_hook, POLICY_FIELD_NO_HOOK, c->no_hook, "--no-hook", v)) ||
        (f = check_flag(g->allow_description, POLICY_FIELD_DESCRIPTION,
                        c->q.description || c->description, "--description", v)) ||
        (f = check_flag(g->allow_bwlimit, POLICY_FIELD_BWLIMIT, c->q.have_bwlimit || c->bwlimit,
                        "--bwlimit", v)) ||
        (f = check_flag(g->allow_snapname, POLICY_FIELD_SNAPNAME, c->q.snapname || c->snapname,
                        "--snapname", v))) {
        return f;
    }
    return POLICY_FIELD_NONE;
}

static enum policy_field check_hook(const struct conf_grant *g, const struct request_hook *h,
                                    struct verdict *v)
{
    enum policy_field f;
    bool status = h->op == REQ_HOOK_STATUS;
    /* Without VMIDs, status and update act on every VM of the node: more
     * than any VMID range a grant lists. */
    if (h->n_vmids == 0) {
        return refuse(v, POLICY_FIELD_TARGET_VMID,
                      "'hook %s' without VMIDs (every VM of the node): name the VMIDs",
                      h->op == REQ_HOOK_UPDATE ? "update" : "status");
    }
    /* Unvalidated VMIDs are no VMIDs. */
    if (h->n_vmids && !h->ids) {
        return refuse(v, POLICY_FIELD_TARGET_VMID, "VMIDs that were not validated");
    }
    for (size_t i = 0; i < h->n_vmids; i++) {
        uint32_t id = h->ids[i];
        if (status && !vmid_in(&g->source_vmids, id) && !vmid_in(&g->target_vmids, id)) {
            return refuse(v, POLICY_FIELD_SOURCE_VMID, "VMID %" PRIu32, id);
        }
        if (!status && !vmid_in(&g->target_vmids, id)) {
            return refuse(v, POLICY_FIELD_TARGET_VMID, "VMID %" PRIu32, id);
        }
    }
    if ((f = check_flag(g->allow_replace_hook, POLICY_FIELD_REPLACE_HOOK, h->replace_hook,
                        "--replace-hook", v)) ||
        (f = check_ids(&g->hook_storages, POLICY_FIELD_HOOK_STORAGE, h->storage, NULL, "--storage",
                       v))) {
        return f;
    }
    return POLICY_FIELD_NONE;
}

/* POLICY_FIELD_NONE when g allows all of r. */
static enum policy_field check_grant(const struct conf_grant *g, const struct request *r,
                                     struct verdict *v)
{
    enum policy_field f;
    enum action_grant a =
        action_grant_of(r->cmd, r->cmd == REQ_HOOK ? r->u.hook.op : REQ_HOOK_NONE);
    if (a == ACTION_GRANT_MAX) {
        return refuse(v, POLICY_FIELD_ACTION, "a request for no known command");
    }
    if (!(g->actions & (1u << a))) {
        return refuse(v, POLICY_FIELD_ACTION, "%s", action_grant_name(a));
    }
    switch (r->cmd) {
    case REQ_MAKE_TEMPLATE:
    case REQ_CLONE:
        return check_clone(g, &r->u.clone, v);
    case REQ_TEMPLATE:
        if (!vmid_in(&g->target_vmids, r->u.tmpl.id)) {
            return refuse(v, POLICY_FIELD_TARGET_VMID, "VMID %" PRIu32, r->u.tmpl.id);
        }
        return check_flag(g->allow_disk, POLICY_FIELD_DISK, r->u.tmpl.disk != NULL, "--disk", v);
    case REQ_CHECK:
        if (!vmid_in(&g->source_vmids, r->u.check.id)) {
            return refuse(v, POLICY_FIELD_SOURCE_VMID, "source VMID %" PRIu32, r->u.check.id);
        }
        /* check changes nothing: without --storage it reports on the
         * source's own storage, which needs no grant. */
        if ((f = check_ids(&g->storages, POLICY_FIELD_STORAGE, r->u.check.storage, NULL,
                           "--storage", v)) ||
            (f = check_ids(&g->target_nodes, POLICY_FIELD_TARGET, r->u.check.target, NULL,
                           "--target", v))) {
            return f;
        }
        return POLICY_FIELD_NONE;
    case REQ_HOOK:
        return check_hook(g, &r->u.hook, v);
    case REQ_AUDIT:
        /* Its filters only narrow what is shown; reading a file as root
         * is another matter. */
        return check_flag(g->allow_journal_files, POLICY_FIELD_JOURNAL_FILES,
                          r->u.audit.directory || r->u.audit.n_files, "-D/--file", v);
    case REQ_STORAGES:
    case REQ_LIST: /* read-only, cluster-wide: the action grant is all */
    case REQ_POLICY:
    case REQ_NONE:
    case _REQ_CMD_MAX:
        break;
    }
    return POLICY_FIELD_NONE;
}

static bool names_caller(const struct conf_grant *g, const struct request_caller *who,
                         const char *const *groups, size_t n_groups)
{
    if (who->user && id_in_exact(&g->users, who->user)) {
        return true;
    }
    for (size_t i = 0; i < n_groups; i++) {
        if (groups[i] && id_in_exact(&g->groups, groups[i])) {
            return true;
        }
    }
    return false;
}

/* ---- the decision ---- */

/* What grant g allows for field f, for a denial: "storages: local-lvm". */
static void allowed_text(const struct conf_grant *g, enum policy_field f, char *buf, size_t len)
{
    const struct strv *l = NULL;
    FILE *out = fmemopen(buf, len, "w");
    buf[0] = '\0';
    if (!out) {
        return;
    }
    switch (f) {
    case POLICY_FIELD_ACTION:
        fputs("actions:", out);
        for (int a = 0; a < ACTION_GRANT_MAX; a++) {
            if (g->actions & (1u << a)) {
                fprintf(out, " %s", action_grant_name((enum action_grant)a));
            }
        }
        break;
    case POLICY_FIELD_SOURCE_VMID:
        l = &g->source_vmids;
        break;
    case POLICY_FIELD_TARGET_VMID:
        l = &g->target_vmids;
        break;
    case POLICY_FIELD_STORAGE:
        l = &g->storages;
        break;
    case POLICY_FIELD_POOL:
        l = &g->pools;
        break;
    case POLICY_FIELD_NAME:
        l = &g->names;
        break;
    case POLICY_FIELD_FORMAT:
        l = &g->formats;
        break;
    case POLICY_FIELD_TARGET:
        l = &g->target_nodes;
        break;
    case POLICY_FIELD_HOOK_STORAGE:
        l = &g->hook_storages;
        break;
    default:
        fprintf(out, "%s is not set", policy_field_name(f));
        break;
    }
    if (l) {
        fprintf(out, "%s:", policy_field_name(f));
        for (size_t i = 0; i < l->n; i++) {
            fprintf(out, "%s %s", i ? "," : "", l->v[i]);
        }
        if (!l->n) {
            fputs(" none", out);
        }
    }
    fclose(out);
    buf[len - 1] = '\0'; /* a full buffer has no room for fmemopen's NUL */
}

/* "user 'bob'" or "uid 1001" */
static void caller_text(const struct request_caller *who, char *buf, size_t len)
{
    if (who->user) {
        snprintf(buf, len, "user '%.64s'", who->user);
    } else {
        snprintf(buf, len, "uid %u", (unsigned)who->uid);
    }
}

/* The checks that need no grant: what a delegated caller may never widen. */
static bool global_refusal(const struct conf *conf, const struct request_global *g, const char *who,
                           struct policy_decision *ret)
{
    const size_t n = sizeof(ret->reason);
    if (g->config) {
        ret->field = POLICY_FIELD_CONFIG;
        snprintf(ret->reason, n,
                 "%s may not choose the configuration (-c/--config): the policy is the system "
                 "configuration's",
                 who);
    } else if (g->timeout && !g->have_timeout) {
        ret->field = POLICY_FIELD_TIMEOUT;
        snprintf(ret->reason, n, "%s: --timeout %.32s was not validated", who, g->timeout);
    } else if (g->timeout && g->timeout_s == 0) {
        ret->field = POLICY_FIELD_TIMEOUT;
        snprintf(ret->reason, n, "%s may only shorten the time limit: --timeout 0 means none", who);
    } else if (g->timeout && conf->timeout > 0 && g->timeout_s > conf->timeout) {
        ret->field = POLICY_FIELD_TIMEOUT;
        snprintf(ret->reason, n,
                 "%s may only shorten the time limit: --timeout %.32s is longer than the "
                 "configured timeout of %ld s",
                 who, g->timeout, conf->timeout);
    } else if (g->lock_wait && !g->have_lock_wait) {
        ret->field = POLICY_FIELD_LOCK_WAIT;
        snprintf(ret->reason, n, "%s: --lock-wait %.32s was not validated", who, g->lock_wait);
    } else if (g->lock_wait && g->lock_wait_s > conf->lock_retry_max) {
        ret->field = POLICY_FIELD_LOCK_WAIT;
        snprintf(ret->reason, n,
                 "%s may only shorten the wait for a lock: --lock-wait %.32s is longer than the "
                 "configured lock_retry_max of %ld s",
                 who, g->lock_wait, conf->lock_retry_max);
    } else {
        return false;
    }
    return true;
}

void policy_decide(const struct conf *conf, const struct request *r,
                   const struct request_caller *caller, const char *const *groups, size_t n_groups,
                   struct policy_decision *ret)
{
    char who[96];
    const struct conf_grant *closest = NULL;
    struct verdict best = {POLICY_FIELD_NONE, ""};
    size_t naming = 0;
    *ret = (struct policy_decision){.field = POLICY_FIELD_NONE};
    caller_text(caller, who, sizeof(who));
    /* Help runs nothing, whoever asks and whatever else the line says. */
    if (r->help) {
        ret->allowed = true;
        snprintf(ret->reason, sizeof(ret->reason), "help");
        return;
    }
    /* What one may do is anyone's to ask about themselves, as sudo -l;
     * only root asks about others. No grant is needed or named. */
    if (r->cmd == REQ_POLICY) {
        const char *u = r->u.pol.user;
        if (caller->uid != 0 && u && (!caller->user || strcmp(u, caller->user) != 0)) {
            ret->field = POLICY_FIELD_CALLER;
            snprintf(ret->reason, sizeof(ret->reason),
                     "%s may only ask what it may do itself, not what user '%.64s' may (root "
                     "may ask about anyone)",
                     who, u);
            return;
        }
        if (caller->uid != 0 && global_refusal(conf, &r->g, who, ret)) {
            return;
        }
        ret->allowed = true;
        snprintf(ret->reason, sizeof(ret->reason), "%s", caller->uid ? "its own grants" : "root");
        return;
    }
    for (size_t i = 0; i < conf->n_grants; i++) {
        const struct conf_grant *g = &conf->grants[i];
        struct verdict v = {POLICY_FIELD_NONE, ""};
        if (!names_caller(g, caller, groups, n_groups)) {
            continue;
        }
        naming++;
        if (check_grant(g, r, &v) == POLICY_FIELD_NONE) {
            if (caller->uid != 0 && global_refusal(conf, &r->g, who, ret)) {
                return;
            }
            ret->allowed = true;
            ret->grant = g->name;
            snprintf(ret->reason, sizeof(ret->reason), "grant '%s'", g->name);
            return;
        }
        if (!closest || v.field > best.field) {
            closest = g;
            best = v;
        }
    }
    /* Root owns the node anyway; a grant that names root only labels its
     * runs. */
    if (caller->uid == 0) {
        ret->allowed = true;
        snprintf(ret->reason, sizeof(ret->reason), "root");
        return;
    }
    if (global_refusal(conf, &r->g, who, ret)) {
        return;
    }
    if (!closest) {
        ret->field = POLICY_FIELD_CALLER;
        snprintf(ret->reason, sizeof(ret->reason),
                 "%s is not root and no grant names it or one of its groups", who);
        return;
    }
    char allows[384];
    allowed_text(closest, best.field, allows, sizeof(allows));
    ret->grant = closest->name;
    ret->field = best.field;
    snprintf(ret->reason, sizeof(ret->reason), "%s: grant '%.64s'%s does not allow %s (%s)", who,
             closest->name, naming > 1 ? " (the closest)" : "", best.what, allows);
}

/* ---- the caller's groups (not pure: asks NSS) ---- */

int policy_caller_groups(const char *user, struct strv *ret, struct err *e)
{
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    gid_t *gids = NULL;
    int n = 16;
    int r = -1;
    if (!user || getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp) {
        return 0; /* unknown: no groups */
    }
    for (;;) {
        int want = n;
        gid_t *more = realloc(gids, (size_t)want * sizeof(*gids));
        if (!more) {
            goto oom;
        }
        gids = more;
        if (getgrouplist(user, pw.pw_gid, gids, &n) >= 0) {
            break;
        }
        if (n <= want) {
            n = want * 2; /* glibc sets n; do not loop on a libc that does not */
        }
    }
    for (int i = 0; i < n; i++) {
        struct group gr, *grp = NULL;
        char grbuf[16384];
        if (getgrgid_r(gids[i], &gr, grbuf, sizeof(grbuf), &grp) != 0 || !grp) {
            continue; /* a gid without a name: no grant can name it */
        }
        if (strv_push(ret, gr.gr_name) < 0) {
            goto oom;
        }
    }
    r = 0;
    goto out;
oom:
    strv_release(ret);
    err_set(e, ERR_INTERNAL, "out of memory");
out:
    free(gids);
    return r;
}
