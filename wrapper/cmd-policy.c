/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl policy [USER]: what a user may have pvetmpl do through sudo, from
 * the grants of the configuration, as `sudo -l` answers for sudo itself.
 * Root may ask about anyone, any other caller about itself (policy.c). The
 * report holds the grants that name the user or one of its groups, each
 * with what it allows, spelt as pvetmpl.conf(5) spells it. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "action.h"
#include "cmd.h"
#include "policy.h"

static struct json_object *strv_json(const struct strv *l)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < l->n; i++) {
        json_object_array_add(a, json_object_new_string(l->v[i]));
    }
    return a;
}

static bool has(const struct strv *l, const char *v)
{
    for (size_t i = 0; v && i < l->n; i++) {
        if (strcmp(l->v[i], v) == 0) {
            return true;
        }
    }
    return false;
}

/* One grant as the report shows it; via: why it applies to the user. */
static struct json_object *grant_json(const struct conf_grant *g, const char *via)
{
    struct json_object *o = json_object_new_object(), *acts = json_object_new_array(),
                       *allow = json_object_new_array();
    const struct {
        const char *key;
        const struct strv *l;
    } lists[] = {
        {"source_vmids", &g->source_vmids},
        {"target_vmids", &g->target_vmids},
        {"storages", &g->storages},
        {"pools", &g->pools},
        {"names", &g->names},
        {"formats", &g->formats},
        {"target_nodes", &g->target_nodes},
        {"hook_storages", &g->hook_storages},
    };
    const struct {
        const char *key;
        bool on;
    } flags[] = {
        {"allow_linked", g->allow_linked},
        {"allow_replace_hook", g->allow_replace_hook},
        {"allow_no_hook", g->allow_no_hook},
        {"allow_same_storage", g->allow_same_storage},
        {"allow_description", g->allow_description},
        {"allow_bwlimit", g->allow_bwlimit},
        {"allow_snapname", g->allow_snapname},
        {"allow_disk", g->allow_disk},
        {"allow_journal_files", g->allow_journal_files},
    };
    if (!o || !acts || !allow) {
        json_object_put(o);
        json_object_put(acts);
        json_object_put(allow);
        return NULL;
    }
    json_object_object_add(o, "name", json_object_new_string(g->name));
    json_object_object_add(o, "via", json_object_new_string(via));
    for (int a = 0; a < ACTION_GRANT_MAX; a++) {
        if (g->actions & (1u << a)) {
            json_object_array_add(acts,
                                  json_object_new_string(action_grant_name((enum action_grant)a)));
        }
    }
    json_object_object_add(o, "actions", acts);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        json_object_object_add(o, lists[i].key, strv_json(lists[i].l));
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (flags[i].on) {
            json_object_array_add(allow, json_object_new_string(flags[i].key));
        }
    }
    json_object_object_add(o, "allow", allow);
    return o;
}

int cmd_policy_run(struct ctx *c, const struct request_policy_query *q, struct err *e)
{
    const struct request_caller *who = c->caller;
    const char *user = q->user ? q->user : who ? who->user : NULL;
    struct passwd pw, *res = NULL;
    char pwbuf[1024];
    struct strv groups = STRV_INIT;
    bool root;
    if (!q->user && who && who->uid == 0) {
        user = "root"; /* not the login name behind su: root asks for root */
    }
    if (!user) {
        return err_set(e, ERR_PRECONDITION, "uid %u has no user name: no grant can name it",
                       who ? (unsigned)who->uid : 0u);
    }
    bool known = getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res;
    root = known && res->pw_uid == 0;
    if (policy_caller_groups(user, &groups, e) < 0) {
        return -1;
    }
    struct json_object *grants = json_object_new_array(), *gr = strv_json(&groups);
    size_t n = 0;
    for (size_t i = 0; grants && i < c->conf->n_grants; i++) {
        const struct conf_grant *g = &c->conf->grants[i];
        char via[320] = "";
        if (has(&g->users, user)) {
            snprintf(via, sizeof(via), "user %s", user);
        }
        for (size_t k = 0; !via[0] && k < groups.n; k++) {
            if (has(&g->groups, groups.v[k])) {
                snprintf(via, sizeof(via), "group %s", groups.v[k]);
            }
        }
        if (via[0]) {
            json_object_array_add(grants, grant_json(g, via));
            n++;
        }
    }
    report_set(c->rep, "user", json_object_new_string(user));
    report_set(c->rep, "uid", known ? json_object_new_int64(res->pw_uid) : NULL);
    report_set(c->rep, "groups", gr);
    report_set(c->rep, "full_use", json_object_new_boolean(root));
    report_set(c->rep, "config", json_object_new_string(c->conf_path));
    report_set(c->rep, "grants", grants);
    if (root) {
        report_set_msg(c->rep, "user root has full use of pvetmpl: no grant is needed%s",
                       n ? " (the grants that name it label its runs)" : "");
    } else if (!known && n == 0) {
        report_set_msg(c->rep, "user '%s' does not exist: no grant applies", user);
    } else if (!known) {
        report_set_msg(c->rep, "user '%s' does not exist on this system; these grants name it",
                       user);
    } else if (n == 0) {
        report_set_msg(c->rep,
                       "user '%s' may not have pvetmpl do anything as root: no grant of '%s' "
                       "names it or one of its groups",
                       user, c->conf_path);
    } else {
        report_set_msg(c->rep,
                       "user '%s' may have pvetmpl do, as root, what %s allows (a request "
                       "must fit one grant in every part)",
                       user, n == 1 ? "this grant" : "one of these grants");
    }
    strv_release(&groups);
    return 0;
}

static void draw_list(struct json_object *g, const char *key)
{
    struct json_object *a;
    if (!json_object_object_get_ex(g, key, &a) || !json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) == 0) {
        return;
    }
    printf("    %-20s", key);
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(a, i)));
    }
    putchar('\n');
}

void cmd_policy_draw(const struct ctx *c, struct json_object *report)
{
    struct json_object *grants, *msg;
    static const char *const keys[] = {
        "actions", "source_vmids", "target_vmids", "storages",      "pools",
        "names",   "formats",      "target_nodes", "hook_storages", "allow"};
    if (c->quiet) {
        return;
    }
    if (json_object_object_get_ex(report, "msg", &msg)) {
        printf("%s\n", json_object_get_string(msg));
    }
    if (!json_object_object_get_ex(report, "grants", &grants)) {
        return;
    }
    for (size_t i = 0; i < json_object_array_length(grants); i++) {
        struct json_object *g = json_object_array_get_idx(grants, i);
        printf("\ngrant '%s' (%s)\n", cmd_json_str(g, "name"), cmd_json_str(g, "via"));
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            draw_list(g, keys[k]);
        }
    }
}
