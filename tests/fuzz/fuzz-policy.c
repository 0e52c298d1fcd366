/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The delegation policy end to end, as a delegated run reaches it: a
 * pvetmpl.conf with grant sections (conf_load_string), a command line
 * (cli_parse, request_validate) and a caller; policy_decide's answer must
 * keep the rules of policy.h, checked here by a second, plain reading of
 * the grant that allowed the request:
 * - root is always allowed; a caller that is not root is allowed only by a
 *   grant that names it (user or group) and allows every part of the request,
 *   or for help and its own 'policy' (which need no grant);
 * - an allowed NEWID (make-template, clone), VMID (template, hook) or source
 *   VMID lies inside the grant's ranges; --rotate/--keep, -c and a longer
 *   --timeout/--lock-wait are never delegated;
 * - the same caller stripped of its name and groups, or the same request
 *   under a config with no grants, is denied;
 * - the decision is deterministic, one terminated line, naming a grant of
 *   the file or none.
 *
 * Input: the config text, a line "%%", a line "UID USER [GROUP...]" (USER
 * "-": a uid without a name), then one argv word per line (after argv[0]). */
#include <fnmatch.h>
#include <stdio.h>

#include "action.h"
#include "cli.h"
#include "conf.h"
#include "fuzz.h"
#include "policy.h"
#include "validate.h"

#define MAX_WORDS 64

static bool listed(const struct strv *l, const char *v, bool star)
{
    for (size_t i = 0; v && i < l->n; i++) {
        if ((star && strcmp(l->v[i], "*") == 0) || strcmp(l->v[i], v) == 0) {
            return true;
        }
    }
    return false;
}

static bool in_ranges(const struct strv *l, uint32_t id)
{
    for (size_t i = 0; i < l->n; i++) {
        uint32_t a, b;
        if (validate_vmid_range(l->v[i], &a, &b, NULL, 0) == 0 && a <= id && id <= b) {
            return true;
        }
    }
    return false;
}

static bool name_matches(const struct strv *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (fnmatch(l->v[i], name, 0) == 0) {
            return true;
        }
    }
    return false;
}

/* An optional value: absent, or one the list allows. */
static bool opt_ok(const struct strv *l, const char *a, const char *b)
{
    return (!a || listed(l, a, true)) && (!b || listed(l, b, true));
}

static void check(bool ok)
{
    if (!ok) {
        abort();
    }
}

/* What grant g must allow of r, read plainly off pvetmpl.conf(5). */
static void grant_allows(const struct conf_grant *g, const struct request *r)
{
    static const enum action_grant hook_action[] = {
        [REQ_HOOK_INSTALL] = ACTION_GRANT_HOOK_INSTALL,
        [REQ_HOOK_REMOVE] = ACTION_GRANT_HOOK_REMOVE,
        [REQ_HOOK_STATUS] = ACTION_GRANT_HOOK_STATUS,
    };
    const struct request_clone *c = &r->u.clone;
    const struct request_hook *h = &r->u.hook;
    bool linked;
    switch (r->cmd) {
    case REQ_MAKE_TEMPLATE:
    case REQ_CLONE:
        linked = c->linked || !c->q.full;
        check(g->actions &
              (1u << (r->cmd == REQ_CLONE ? ACTION_GRANT_CLONE : ACTION_GRANT_MAKE_TEMPLATE)));
        check(in_ranges(&g->source_vmids, c->q.src));
        check(c->newid && c->q.newid && in_ranges(&g->target_vmids, c->q.newid));
        check(!c->rotate && !c->keep);
        check(c->q.storage || c->storage ? opt_ok(&g->storages, c->q.storage, c->storage)
                                         : linked || g->allow_same_storage);
        check(opt_ok(&g->pools, c->q.pool, c->pool));
        check(!c->q.name || name_matches(&g->names, c->q.name));
        check(!c->name || name_matches(&g->names, c->name));
        check(opt_ok(&g->formats, c->q.format, c->format));
        check(opt_ok(&g->target_nodes, c->q.target, c->target));
        check(opt_ok(&g->target_nodes, c->migrate_to, NULL));
        check(!linked || g->allow_linked);
        check(!c->replace_hook || g->allow_replace_hook);
        check(!c->no_hook || g->allow_no_hook);
        check(!(c->q.description || c->description) || g->allow_description);
        check(!(c->q.have_bwlimit || c->bwlimit) || g->allow_bwlimit);
        check(!(c->q.snapname || c->snapname) || g->allow_snapname);
        break;
    case REQ_TEMPLATE:
        check(g->actions & (1u << ACTION_GRANT_TEMPLATE));
        check(in_ranges(&g->target_vmids, r->u.tmpl.id));
        check(!r->u.tmpl.disk || g->allow_disk);
        break;
    case REQ_CHECK:
        check(g->actions & (1u << ACTION_GRANT_CHECK));
        check(in_ranges(&g->source_vmids, r->u.check.id));
        check(opt_ok(&g->storages, r->u.check.storage, NULL));
        check(opt_ok(&g->target_nodes, r->u.check.target, NULL));
        break;
    case REQ_HOOK:
        check(h->op == REQ_HOOK_INSTALL || h->op == REQ_HOOK_REMOVE || h->op == REQ_HOOK_STATUS);
        check(g->actions & (1u << hook_action[h->op]));
        check(h->n_vmids > 0 && h->ids);
        for (size_t i = 0; i < h->n_vmids; i++) {
            check(in_ranges(&g->target_vmids, h->ids[i]) ||
                  (h->op == REQ_HOOK_STATUS && in_ranges(&g->source_vmids, h->ids[i])));
        }
        check(!h->replace_hook || g->allow_replace_hook);
        check(opt_ok(&g->hook_storages, h->storage, NULL));
        break;
    case REQ_AUDIT:
        check(g->actions & (1u << ACTION_GRANT_AUDIT));
        check(!(r->u.audit.directory || r->u.audit.n_files) || g->allow_journal_files);
        break;
    case REQ_STORAGES:
        check(g->actions & (1u << ACTION_GRANT_STORAGES));
        break;
    case REQ_LIST:
        check(g->actions & (1u << ACTION_GRANT_LIST));
        break;
    case REQ_POLICY:
    case REQ_NONE:
    case _REQ_CMD_MAX:
        abort(); /* never allowed by a grant */
    }
}

static void decide(const struct conf *cf, const struct request *r, const struct request_caller *who,
                   const char *const *groups, size_t n, struct policy_decision *d)
{
    struct policy_decision again;
    policy_decide(cf, r, who, groups, n, d);
    policy_decide(cf, r, who, groups, n, &again);
    check(d->allowed == again.allowed && d->grant == again.grant && d->field == again.field &&
          memchr(d->reason, '\0', sizeof(d->reason)) && strcmp(d->reason, again.reason) == 0);
    check(d->reason[0] && !strchr(d->reason, '\n'));
    check(d->allowed == (d->field == POLICY_FIELD_NONE));
    bool named = d->grant == NULL;
    for (size_t i = 0; i < cf->n_grants; i++) {
        named = named || d->grant == cf->grants[i].name;
    }
    check(named);
}

/* Allowed without a grant for a caller that is not root. */
static bool needs_no_grant(const struct request *r, const struct request_caller *who)
{
    return r->help || (r->cmd == REQ_POLICY &&
                       (!r->u.pol.user || (who->user && strcmp(r->u.pol.user, who->user) == 0)));
}

static void check_decision(struct conf *cf, const struct request *r,
                           const struct request_caller *who, const char *const *groups, size_t n)
{
    struct policy_decision d;
    decide(cf, r, who, groups, n, &d);
    if (who->uid == 0) {
        check(d.allowed);
        return;
    }
    if (d.allowed && !r->help) {
        const struct request_global *g = &r->g;
        check(!g->config);
        check(!g->timeout || (g->have_timeout && g->timeout_s > 0 &&
                              (cf->timeout <= 0 || g->timeout_s <= cf->timeout)));
        check(!g->lock_wait || (g->have_lock_wait && g->lock_wait_s <= cf->lock_retry_max));
    }
    if (d.allowed && !needs_no_grant(r, who)) {
        check(d.grant != NULL);
        const struct conf_grant *g = NULL;
        for (size_t i = 0; i < cf->n_grants && !g; i++) {
            g = d.grant == cf->grants[i].name ? &cf->grants[i] : NULL;
        }
        bool names_caller = listed(&g->users, who->user, false);
        for (size_t i = 0; i < n; i++) {
            names_caller = names_caller || listed(&g->groups, groups[i], false);
        }
        check(names_caller);
        grant_allows(g, r);
    }
    /* Nobody's grants: no name, no groups; then no grants at all. */
    struct request_caller anon = *who;
    anon.user = NULL;
    decide(cf, r, &anon, NULL, 0, &d);
    check(!d.allowed || needs_no_grant(r, &anon));
    size_t n_grants = cf->n_grants;
    cf->n_grants = 0;
    decide(cf, r, who, groups, n, &d);
    cf->n_grants = n_grants;
    check(!d.allowed || needs_no_grant(r, who));
}

/* Splits text into lines in place: NULL-terminated, at most max. */
static size_t split_lines(char *text, char **out, size_t max)
{
    size_t n = 0;
    while (text && *text && n < max) {
        out[n++] = text;
        char *nl = strchr(text, '\n');
        if (!nl) {
            break;
        }
        *nl = '\0';
        text = nl + 1;
    }
    out[n] = NULL;
    return n;
}

static void run(const struct conf *conf, char *rest)
{
    char *lines[MAX_WORDS + 2];
    size_t n = split_lines(rest, lines, MAX_WORDS + 1);
    if (n == 0) {
        return;
    }
    /* the caller: "UID USER [GROUP...]" */
    char *who_words[18];
    size_t nw = 0;
    for (char *save = NULL, *w = strtok_r(lines[0], " ", &save); w && nw < 18;
         w = strtok_r(NULL, " ", &save)) {
        who_words[nw++] = w;
    }
    if (nw < 2) {
        return;
    }
    char *end;
    unsigned long uid = strtoul(who_words[0], &end, 10);
    if (*end || uid > 0xfffffffeUL) {
        return;
    }
    struct request_caller who = {
        .uid = (uid_t)uid,
        .user = strcmp(who_words[1], "-") == 0 ? NULL : who_words[1],
        .frontend = "cli",
        .via_sudo = true,
        .delegated = uid != 0,
    };
    const char *const *groups = (const char *const *)who_words + 2;

    char *argv[MAX_WORDS + 2];
    argv[0] = "pvetmpl";
    for (size_t i = 1; i < n; i++) {
        argv[i] = lines[i];
    }
    argv[n] = NULL;
    struct request r;
    struct cli_parsed p = {0};
    struct err e = {ERR_OK, ""};
    if (cli_parse((int)n, argv, &r, &p, &e) == 0 && !p.version) {
        if (r.help || request_validate(&r, &e) == 0) {
            check_decision((struct conf *)conf, &r, &who, groups, nw - 2);
        } else {
            check(e.cls == ERR_USAGE && e.detail[0]);
        }
        request_release(&r);
    } else if (!p.version) {
        check(e.cls == ERR_USAGE && e.detail[0]);
    }
    cli_parsed_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *sep = strstr(text, "\n%%\n");
    struct conf c;
    struct err e = {ERR_OK, ""};
    if (sep) {
        *sep = '\0';
    }
    if (conf_load_string(text, &c, &e) == 0) {
        if (sep) {
            run(&c, sep + 4);
        }
        conf_release(&c);
    }
    free(text);
    return 0;
}
