/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the sudo delegation policy: one config with several grants
 * (the worked example of pvetmpl.conf(5) among them) and a table of callers
 * and validated requests, each with the verdict, the grant named and the
 * field a denial is about. Requests are written as command lines, read by
 * cli_parse and filled in by request_validate (typed ids, q, migrate_to). */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "policy.h"
#include "request.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char config[] =
    "timeout = 600\n"
    "lock_retry_max = 300\n"
    "# the worked example: the ops group may make templates 9000-9999 on local-lvm\n"
    "grant ops-templates {\n"
    "    groups       = {ops}\n"
    "    actions      = {make-template, check, storages}\n"
    "    source_vmids = {\"100-8999\"}\n"
    "    target_vmids = {\"9000-9999\"}\n"
    "    storages     = {local-lvm}\n"
    "}\n"
    "grant ci {\n"
    "    users         = {ci}\n"
    "    actions       = {clone, template, hook-install, hook-remove, hook-status, audit}\n"
    "    source_vmids  = {\"9000-9999\"}\n"
    "    target_vmids  = {\"20000-20999\", 30000}\n"
    "    storages      = {ceph-vm}\n"
    "    pools         = {ci}\n"
    "    names         = {\"ci-*\", \"build-[0-9][0-9]\"}\n"
    "    formats       = {qcow2}\n"
    "    target_nodes  = {pve2}\n"
    "    hook_storages = {snip}\n"
    "    allow_linked  = yes\n"
    "    allow_description = yes\n"
    "}\n"
    "grant alice-all {\n"
    "    users = {alice}\n"
    "    actions = {make-template, clone}\n"
    "    source_vmids = {\"100-999999999\"}\n"
    "    target_vmids = {\"100-999999999\"}\n"
    "    storages = {\"*\"}\n"
    "    pools = {\"*\"}\n"
    "    names = {\"*\"}\n"
    "    formats = {raw, qcow2, vmdk}\n"
    "    target_nodes = {\"*\"}\n"
    "    allow_linked = yes\n"
    "    allow_replace_hook = yes\n"
    "    allow_no_hook = yes\n"
    "    allow_same_storage = yes\n"
    "    allow_description = yes\n"
    "    allow_bwlimit = yes\n"
    "    allow_snapname = yes\n"
    "}\n"
    "grant root-label { users = {root} actions = {storages} }\n"
    "grant devs-a {\n"
    "    groups = {devs}\n"
    "    actions = {make-template}\n"
    "    source_vmids = {\"100-199\"}\n"
    "    target_vmids = {\"9100-9199\"}\n"
    "    allow_same_storage = yes\n"
    "}\n"
    "grant devs-b {\n"
    "    groups = {devs}\n"
    "    actions = {make-template}\n"
    "    source_vmids = {\"200-299\"}\n"
    "    target_vmids = {\"9200-9299\"}\n"
    "    storages = {local-zfs}\n"
    "    allow_no_hook = yes\n"
    "    allow_replace_hook = yes\n"
    "}\n";

/* ---- building a caller and a validated request from text ---- */

struct built {
    char who_buf[128], req_buf[512];
    char *argv[40];
    struct request r;
    struct request_caller who;
    const char *groups[8];
    size_t n_groups;
    /* what cli_parse and request_validate allocated, copied here */
    const char *words[8];
    uint32_t ids[8];
};

/* who: "user:uid:group,group" (an empty user is NULL) */
static void build_caller(const char *who, struct built *b)
{
    char *buf = b->who_buf;
    ck_assert_uint_lt(strlen(who), sizeof(b->who_buf));
    strcpy(buf, who);
    char *uid = strchr(buf, ':');
    ck_assert_ptr_nonnull(uid);
    *uid++ = '\0';
    char *groups = strchr(uid, ':');
    ck_assert_ptr_nonnull(groups);
    *groups++ = '\0';
    b->who.user = buf[0] ? buf : NULL;
    b->who.uid = (uid_t)strtoul(uid, NULL, 10);
    b->who.frontend = "cli";
    for (char *save = NULL, *g = strtok_r(groups, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
        ck_assert_uint_lt(b->n_groups, N(b->groups));
        b->groups[b->n_groups++] = g;
    }
}

/* A command line as the caller types it, read by the real front end
 * (cli_parse) and checked by request_validate, so the policy sees what a
 * user's argv becomes. The word "none" makes the request one for no
 * command (the rest of the line read as for storages): no front end sends
 * one on, the policy must still deny it. */
static void build_request(const char *line, struct built *b)
{
    static char prog[] = "pvetmpl";
    struct request *r = &b->r;
    struct cli_parsed p;
    struct err e = {ERR_OK, ""};
    bool none = false;
    int argc = 0;
    char *save = NULL;
    ck_assert_uint_lt(strlen(line), sizeof(b->req_buf));
    strcpy(b->req_buf, line);
    b->argv[argc++] = prog;
    for (char *w = strtok_r(b->req_buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (strcmp(w, "none") == 0) {
            none = true;
            continue;
        }
        ck_assert_uint_lt((size_t)argc, N(b->argv) - 2);
        b->argv[argc++] = w;
    }
    if (none) {
        static char cmd[] = "storages"; /* a command to parse the rest with */
        b->argv[argc++] = cmd;
    }
    b->argv[argc] = NULL;
    ck_assert_msg(cli_parse(argc, b->argv, r, &p, &e) == 0, "%s: %s", line, e.detail);
    if (r->cmd != REQ_NONE && !r->help) {
        ck_assert_msg(request_validate(r, &e) == 0, "%s: %s", line, e.detail);
    }
    if (none) {
        r->cmd = REQ_NONE;
    }
    /* b owns the request's lists, so that a test can keep b */
    if (r->cmd == REQ_HOOK) {
        struct request_hook *h = &r->u.hook;
        ck_assert_uint_le(h->n_vmids, N(b->words));
        for (size_t i = 0; i < h->n_vmids; i++) {
            b->words[i] = h->vmids[i];
            b->ids[i] = h->ids ? h->ids[i] : 0;
        }
        h->vmids = h->n_vmids ? b->words : NULL;
        free(h->ids);
        h->ids = h->n_vmids ? b->ids : NULL;
    } else if (r->cmd == REQ_AUDIT) {
        ck_assert_uint_le(r->u.audit.n_files, N(b->words));
        for (size_t i = 0; i < r->u.audit.n_files; i++) {
            b->words[i] = r->u.audit.files[i];
        }
        r->u.audit.files = r->u.audit.n_files ? b->words : NULL;
    }
    cli_parsed_release(&p);
}

static void build(const char *who, const char *line, struct built *b)
{
    memset(b, 0, sizeof(*b));
    build_caller(who, b);
    build_request(line, b);
}

static struct conf conf;

static void load_config(void)
{
    struct err e = {0};
    ck_assert_msg(conf_load_string(config, &conf, &e) == 0, "%s", e.detail);
}

static void release_config(void)
{
    conf_release(&conf);
}

/* ---- the table ---- */

#define BOB "bob:1001:ops"
#define CI "ci:1003:ci"
#define ALICE "alice:1010:"
#define CAROL "carol:1002:devs"
#define ROOT "root:0:root"
#define EVE "eve:1004:users"

#define OK(grant) 1, grant, POLICY_FIELD_NONE
#define NO(grant, field) 0, grant, POLICY_FIELD_##field

static const struct pcase {
    const char *who, *req;
    int allowed;
    const char *grant;
    enum policy_field field;
} cases[] = {
    /* the worked example: ops may make templates 9000-9999 on local-lvm */
    {BOB, "make-template 100 9000 --storage local-lvm", OK("ops-templates")},
    {BOB, "make-template 8999 9999 --storage local-lvm", OK("ops-templates")},
    {BOB, "make-template 4711 9500 --storage local-lvm", OK("ops-templates")},
    {BOB, "make-template 100 8999 --storage local-lvm", NO("ops-templates", TARGET_VMID)},
    {BOB, "make-template 100 10000 --storage local-lvm", NO("ops-templates", TARGET_VMID)},
    {BOB, "make-template 100 999999999 --storage local-lvm", NO("ops-templates", TARGET_VMID)},
    {BOB, "make-template 9000 9001 --storage local-lvm", NO("ops-templates", SOURCE_VMID)},
    {BOB, "make-template 9999 9001 --storage local-lvm", NO("ops-templates", SOURCE_VMID)},
    {BOB, "make-template 100 9000", NO("ops-templates", STORAGE)},
    /* an automatic NEWID and rotation are root's */
    {BOB, "make-template 100 --storage local-lvm", NO("ops-templates", TARGET_VMID)},
    {BOB, "make-template 100 9000 --storage local-lvm --name t --rotate",
     NO("ops-templates", ACTION)},
    {BOB, "make-template 100 9000 --storage local-lvm --name t --rotate --keep 2",
     NO("ops-templates", ACTION)},
    {BOB, "make-template 100 9000 --storage local-lvm2", NO("ops-templates", STORAGE)},
    {BOB, "make-template 100 9000 --storage local-lv", NO("ops-templates", STORAGE)},
    {BOB, "make-template 100 9000 --storage Local-lvm", NO("ops-templates", STORAGE)},
    {BOB, "make-template 100 9000 --storage local", NO("ops-templates", STORAGE)},
    {BOB, "make-template 100 9000 --storage local-lvm --pool tmpl", NO("ops-templates", POOL)},
    {BOB, "make-template 100 9000 --storage local-lvm --name tmpl", NO("ops-templates", NAME)},
    {BOB, "make-template 100 9000 --storage local-lvm --format raw", NO("ops-templates", FORMAT)},
    {BOB, "make-template 100 9000 --storage local-lvm --target pve2", NO("ops-templates", TARGET)},
    {BOB, "make-template 100 9000 --storage local-lvm --no-hook", NO("ops-templates", NO_HOOK)},
    {BOB, "make-template 100 9000 --storage local-lvm --replace-hook",
     NO("ops-templates", REPLACE_HOOK)},
    {BOB, "make-template 100 9000 --storage local-lvm --description x",
     NO("ops-templates", DESCRIPTION)},
    {BOB, "make-template 100 9000 --storage local-lvm --bwlimit 100", NO("ops-templates", BWLIMIT)},
    {BOB, "make-template 100 9000 --storage local-lvm --bwlimit 0", NO("ops-templates", BWLIMIT)},
    {BOB, "make-template 100 9000 --storage local-lvm --snapname s1",
     NO("ops-templates", SNAPNAME)},
    {BOB, "clone 100 9000 --storage local-lvm", NO("ops-templates", ACTION)},
    {BOB, "clone 100 9000 --linked", NO("ops-templates", ACTION)},
    {BOB, "template 9000", NO("ops-templates", ACTION)},
    {BOB, "check 100", OK("ops-templates")},
    {BOB, "check 8999 --storage local-lvm", OK("ops-templates")},
    {BOB, "check 100 --storage local-zfs", NO("ops-templates", STORAGE)},
    {BOB, "check 9000", NO("ops-templates", SOURCE_VMID)},
    {BOB, "check 100 --target pve2", NO("ops-templates", TARGET)},
    {BOB, "storages", OK("ops-templates")},
    {BOB, "audit", NO("ops-templates", ACTION)},
    {BOB, "hook install 9000", NO("ops-templates", ACTION)},
    {BOB, "hook remove 9000", NO("ops-templates", ACTION)},
    {BOB, "hook status 9000", NO("ops-templates", ACTION)},
    {BOB, "none", NO("ops-templates", ACTION)},
    {BOB, "-n make-template 100 9000 --storage local-lvm", OK("ops-templates")},
    /* what no grant can widen */
    {BOB, "-c /etc/shadow storages", NO(NULL, CONFIG)},
    {BOB, "-c /etc/pvetmpl/pvetmpl.conf make-template 100 9000 --storage local-lvm",
     NO(NULL, CONFIG)},
    {BOB, "--timeout 600 storages", OK("ops-templates")},
    {BOB, "--timeout 1 make-template 100 9000 --storage local-lvm", OK("ops-templates")},
    {BOB, "--timeout 601 storages", NO(NULL, TIMEOUT)},
    {BOB, "--timeout 0 storages", NO(NULL, TIMEOUT)},
    {BOB, "--lock-wait 300 storages", OK("ops-templates")},
    {BOB, "--lock-wait 0 storages", OK("ops-templates")},
    {BOB, "--lock-wait 301 storages", NO(NULL, LOCK_WAIT)},
    /* callers: by group membership only, names exact */
    {"bob:1001:wheel", "storages", NO(NULL, CALLER)},
    {"bob:1001:ops2", "storages", NO(NULL, CALLER)},
    {"bob:1001:Ops", "storages", NO(NULL, CALLER)},
    {"bob:1001:", "storages", NO(NULL, CALLER)},
    {"ops:1001:", "storages", NO(NULL, CALLER)},
    {"bob:1001:wheel,ops", "storages", OK("ops-templates")},
    {":1005:", "storages", NO(NULL, CALLER)},
    {":1005:ops", "storages", OK("ops-templates")},
    {"mallory:1006:", "storages", NO(NULL, CALLER)},
    {"Ci:1003:", "template 30000", NO(NULL, CALLER)},
    {"ci2:1003:", "template 30000", NO(NULL, CALLER)},
    {EVE, "storages", NO(NULL, CALLER)},
    {EVE, "--help make-template 100 9000", OK(NULL)},
    {BOB, "--help -c /etc/shadow --timeout 0 storages", OK(NULL)},
    {ROOT, "--help storages", OK(NULL)},
    {EVE, "-c /etc/shadow none", NO(NULL, CONFIG)},
    {EVE, "-c /etc/shadow storages", NO(NULL, CONFIG)},
    /* ci: a user grant with every list */
    {CI, "clone 9000 20000 --storage ceph-vm --pool ci --name ci-a", OK("ci")},
    {CI, "clone 9999 20999 --storage ceph-vm", OK("ci")},
    {CI, "clone 9000 30000 --storage ceph-vm", OK("ci")},
    {CI, "clone 9000 30001 --storage ceph-vm", NO("ci", TARGET_VMID)},
    {CI, "clone 9000 29999 --storage ceph-vm", NO("ci", TARGET_VMID)},
    {CI, "clone 9000 19999 --storage ceph-vm", NO("ci", TARGET_VMID)},
    {CI, "clone 9000 21000 --storage ceph-vm", NO("ci", TARGET_VMID)},
    {CI, "clone 8999 20000 --storage ceph-vm", NO("ci", SOURCE_VMID)},
    {CI, "clone 10000 20000 --storage ceph-vm", NO("ci", SOURCE_VMID)},
    {CI, "clone 9000 20000 --linked", OK("ci")},
    {CI, "clone 9000 20000 --linked --pool ci --name build-07", OK("ci")},
    {CI, "clone 9000 20000", NO("ci", STORAGE)},
    {CI, "clone 9000 20000 --storage ceph-vm2", NO("ci", STORAGE)},
    {CI, "clone 9000 20000 --storage ceph", NO("ci", STORAGE)},
    {CI, "clone 9000 20000 --storage ceph-vm --pool ci2", NO("ci", POOL)},
    {CI, "clone 9000 20000 --storage ceph-vm --pool CI", NO("ci", POOL)},
    {CI, "clone 9000 20000 --storage ceph-vm --pool ci/sub", NO("ci", POOL)},
    {CI, "clone 9000 20000 --storage ceph-vm --name ci-0", OK("ci")},
    {CI, "clone 9000 20000 --storage ceph-vm --name ci", NO("ci", NAME)},
    {CI, "clone 9000 20000 --storage ceph-vm --name xci-a", NO("ci", NAME)},
    {CI, "clone 9000 20000 --storage ceph-vm --name CI-a", NO("ci", NAME)},
    {CI, "clone 9000 20000 --storage ceph-vm --name ci-a.example.org", OK("ci")},
    {CI, "clone 9000 20000 --storage ceph-vm --name build-12", OK("ci")},
    {CI, "clone 9000 20000 --storage ceph-vm --name build-1", NO("ci", NAME)},
    {CI, "clone 9000 20000 --storage ceph-vm --name build-123", NO("ci", NAME)},
    {CI, "clone 9000 20000 --storage ceph-vm --name build-1a", NO("ci", NAME)},
    {CI, "clone 9000 20000 --storage ceph-vm --format qcow2", OK("ci")},
    {CI, "clone 9000 20000 --storage ceph-vm --format raw", NO("ci", FORMAT)},
    {CI, "clone 9000 20000 --storage ceph-vm --target pve2", OK("ci")},
    {CI, "clone 9000 20000 --linked --target pve3", NO("ci", TARGET)},
    {CI, "clone 9000 20000 --linked --target PVE2", NO("ci", TARGET)},
    {CI, "clone 9000 20000 --linked --description x", OK("ci")},
    {CI, "clone 9000 20000 --linked --bwlimit 10", NO("ci", BWLIMIT)},
    {CI, "clone 9000 20000 --linked --snapname s1", NO("ci", SNAPNAME)},
    {CI, "template 30000", OK("ci")},
    {CI, "template 20000 --disk scsi0", NO("ci", DISK)},
    {CI, "template 9000", NO("ci", TARGET_VMID)},
    {CI, "hook install 20000 20999", OK("ci")},
    {CI, "hook install 20000 21000", NO("ci", TARGET_VMID)},
    {CI, "hook install 9000", NO("ci", TARGET_VMID)},
    {CI, "hook install 20000 --storage snip", OK("ci")},
    {CI, "hook install 20000 --storage snip2", NO("ci", HOOK_STORAGE)},
    {CI, "hook install 20000 --replace-hook", NO("ci", REPLACE_HOOK)},
    {CI, "hook remove 30000", OK("ci")},
    {CI, "hook install 30000 --storage local", NO("ci", HOOK_STORAGE)},
    {CI, "hook status 9000", OK("ci")},
    {CI, "hook status 20000 9500", OK("ci")},
    {CI, "hook status 500", NO("ci", SOURCE_VMID)},
    {CI, "hook status", NO("ci", TARGET_VMID)},
    {CI, "audit", OK("ci")},
    {CI, "audit --vmid 500 --all-users", OK("ci")},
    {CI, "audit --file /etc/shadow", NO("ci", JOURNAL_FILES)},
    {CI, "audit -D /var/log/journal", NO("ci", JOURNAL_FILES)},
    {CI, "make-template 9000 20000 --storage ceph-vm", NO("ci", ACTION)},
    {CI, "storages", NO("ci", ACTION)},
    {"ci:1003:", "clone 9000 20000 --linked", OK("ci")},
    /* alice: everything in two actions */
    {ALICE,
     "clone 100 999999999 --storage any-st --pool p/q --name Whatever --format vmdk --target n1 "
     "--description d --bwlimit 5 --snapname s1",
     OK("alice-all")},
    {ALICE, "make-template 100 101 --no-hook", OK("alice-all")},
    {ALICE, "make-template 100 101 --replace-hook --storage x1", OK("alice-all")},
    {ALICE, "template 100", NO("alice-all", ACTION)},
    {ALICE, "hook install 100", NO("alice-all", ACTION)},
    {ALICE, "audit --file /x", NO("alice-all", ACTION)},
    /* two grants for one group: each request must fit one of them whole */
    {CAROL, "make-template 150 9150", OK("devs-a")},
    {CAROL, "make-template 199 9199", OK("devs-a")},
    {CAROL, "make-template 250 9250 --storage local-zfs", OK("devs-b")},
    {CAROL, "make-template 250 9250 --storage local-zfs --no-hook", OK("devs-b")},
    {CAROL, "make-template 150 9250 --storage local-zfs", NO("devs-a", TARGET_VMID)},
    {CAROL, "make-template 250 9250", NO("devs-b", STORAGE)},
    {CAROL, "make-template 150 9150 --no-hook", NO("devs-a", NO_HOOK)},
    {CAROL, "make-template 150 9150 --storage local-zfs", NO("devs-a", STORAGE)},
    {CAROL, "make-template 200 9199", NO("devs-b", TARGET_VMID)},
    {CAROL, "make-template 99999 9199", NO("devs-a", SOURCE_VMID)},
    {CAROL, "storages", NO("devs-a", ACTION)},
    {"carol:1002:devs,ops", "make-template 100 9000 --storage local-lvm", OK("ops-templates")},
    {"carol:1002:devs,ops", "make-template 150 9150", OK("devs-a")},
    {"carol:1002:devs,ops", "make-template 150 9150 --storage local-lvm", OK("ops-templates")},
    /* root keeps full use; a grant naming root only labels its runs */
    {ROOT, "storages", OK("root-label")},
    {ROOT, "clone 100 101", OK(NULL)},
    {ROOT, "-c /x storages", OK("root-label")},
    {ROOT, "-c /x --timeout 0 --lock-wait 9999 clone 100 101 --linked", OK(NULL)},
    {":0:", "hook install 100 --replace-hook", OK(NULL)},
    {":0:", "none", OK(NULL)},
};

START_TEST(table)
{
    const struct pcase *t = &cases[_i];
    struct built b;
    struct policy_decision d;
    build(t->who, t->req, &b);
    memset(&d, 0x5a, sizeof(d));
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_msg(d.allowed == (t->allowed != 0), "%s: %s: %s, want %s: %s", t->who, t->req,
                  d.allowed ? "allowed" : "denied", t->allowed ? "allowed" : "denied", d.reason);
    ck_assert_msg(d.field == t->field, "%s: %s: field %s, want %s: %s", t->who, t->req,
                  policy_field_name(d.field), policy_field_name(t->field), d.reason);
    if (t->grant) {
        ck_assert_msg(d.grant && !strcmp(d.grant, t->grant), "%s: %s: grant %s, want %s: %s",
                      t->who, t->req, d.grant ? d.grant : "(none)", t->grant, d.reason);
    } else {
        ck_assert_msg(!d.grant, "%s: %s: grant %s, want none", t->who, t->req, d.grant);
    }
    ck_assert_msg(d.reason[0] && !strchr(d.reason, '\n'), "%s: %s: reason '%s'", t->who, t->req,
                  d.reason);
}
END_TEST

/* ---- the messages ---- */

static const char *reason_of(const char *who, const char *req)
{
    static struct policy_decision d;
    struct built b;
    build(who, req, &b);
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    return d.reason;
}

START_TEST(reasons)
{
    static const struct {
        const char *who, *req, *want;
    } v[] = {
        {BOB, "make-template 100 10000 --storage local-lvm",
         "user 'bob': grant 'ops-templates' does not allow new VMID 10000 (target_vmids: "
         "9000-9999)"},
        {BOB, "make-template 100 9000 --storage local-lvm2",
         "user 'bob': grant 'ops-templates' does not allow --storage 'local-lvm2' (storages: "
         "local-lvm)"},
        {BOB, "make-template 100 9000",
         "user 'bob': grant 'ops-templates' does not allow a copy without --storage: it would "
         "stay on the source's storage, and allow_same_storage is not set (storages: "
         "local-lvm)"},
        {BOB, "--timeout 0 storages",
         "user 'bob' may only shorten the time limit: --timeout 0 means none"},
        {BOB, "clone 100 9000 --linked",
         "user 'bob': grant 'ops-templates' does not allow clone (actions: make-template check "
         "storages)"},
        {BOB, "make-template 100 9000 --storage local-lvm --target pve2",
         "user 'bob': grant 'ops-templates' does not allow --target 'pve2' (target_nodes: none)"},
        {BOB, "make-template 100 9000 --storage local-lvm --no-hook",
         "user 'bob': grant 'ops-templates' does not allow --no-hook (allow_no_hook is not set)"},
        {CI, "clone 9000 20000 --storage ceph-vm --name build-1",
         "user 'ci': grant 'ci' does not allow --name 'build-1' (names: ci-*, build-[0-9][0-9])"},
        {CAROL, "make-template 150 9250 --storage local-zfs",
         "user 'carol': grant 'devs-a' (the closest) does not allow new VMID 9250"},
        {EVE, "storages", "user 'eve' is not root and no grant names it or one of its groups"},
        {":1005:", "storages", "uid 1005 is not root and no grant names it or one of its groups"},
        {BOB, "-c /etc/shadow storages",
         "user 'bob' may not choose the configuration (-c/--config): the policy is the system "
         "configuration's"},
        {BOB, "--timeout 601 storages",
         "user 'bob' may only shorten the time limit: --timeout 601 is longer than the "
         "configured timeout of 600 s"},
        {BOB, "--lock-wait 301 storages",
         "user 'bob' may only shorten the wait for a lock: --lock-wait 301 is longer than the "
         "configured lock_retry_max of 300 s"},
        /* their own reasons, not the generic VMID or action refusal */
        {BOB, "make-template 100 --storage local-lvm",
         "user 'bob': grant 'ops-templates' does not allow an automatic NEWID"},
        {BOB, "make-template 100 9000 --storage local-lvm --name t --rotate",
         "user 'bob': grant 'ops-templates' does not allow --rotate/--keep"},
        {CI, "hook status", "user 'ci': grant 'ci' does not allow 'hook status' without VMIDs"},
        {BOB, "storages", "grant 'ops-templates'"},
        {ROOT, "clone 100 101", "root"},
        {EVE, "--help storages", "help"},
    };
    for (size_t i = 0; i < N(v); i++) {
        const char *got = reason_of(v[i].who, v[i].req);
        ck_assert_msg(!strncmp(got, v[i].want, strlen(v[i].want)), "%s\n got: %s\nwant: %s",
                      v[i].req, got, v[i].want);
    }
    /* The source_vmids message lists every range of the closest grant. */
    ck_assert_str_eq(reason_of(CAROL, "make-template 150 9250 --storage local-zfs"),
                     "user 'carol': grant 'devs-a' (the closest) does not allow new VMID 9250 "
                     "(target_vmids: 9100-9199)");
}
END_TEST

/* ---- what the table cannot build ---- */

/* A config without grants: root keeps full use, nobody else has any. */
START_TEST(no_grants)
{
    struct conf empty = {0};
    struct err e = {0};
    struct built b;
    struct policy_decision d;
    ck_assert_int_eq(conf_load_string("", &empty, &e), 0);
    build(ROOT, "clone 100 101 --linked", &b);
    policy_decide(&empty, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert(d.allowed);
    ck_assert_ptr_null(d.grant);
    ck_assert_str_eq(d.reason, "root");
    build(BOB, "storages", &b);
    policy_decide(&empty, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert(!d.allowed);
    ck_assert_int_eq(d.field, POLICY_FIELD_CALLER);
    /* With the config's timeout 0 (none), any limit shortens it; 0 does not. */
    build(BOB, "--timeout 5 storages", &b);
    policy_decide(&empty, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_CALLER);
    build(BOB, "--timeout 0 storages", &b);
    policy_decide(&empty, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_TIMEOUT);
    conf_release(&empty);
}
END_TEST

/* The policy judges what runs: values validate did not fill in, or that
 * differ from what was read, are not waved through. */
START_TEST(fails_closed_on_unvalidated_requests)
{
    struct built b;
    struct policy_decision d;
    /* hook VMIDs without their validated ids */
    build(CI, "hook install 20000", &b);
    b.r.u.hook.ids = NULL;
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert(!d.allowed);
    ck_assert_int_eq(d.field, POLICY_FIELD_TARGET_VMID);
    /* a clone request whose ids were never filled */
    build(CI, "clone 9000 20000 --linked", &b);
    b.r.u.clone.q.src = 0;
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_SOURCE_VMID);
    /* the qm request says linked although the option was not read */
    build(BOB, "make-template 100 9000 --storage local-lvm", &b);
    b.r.u.clone.q.full = false;
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert(!d.allowed);
    ck_assert_int_eq(d.field, POLICY_FIELD_LINKED);
    /* what was read and what runs differ: both must be allowed */
    build(BOB, "make-template 100 9000 --storage local-lvm", &b);
    b.r.u.clone.storage = "local-zfs";
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_STORAGE);
    build(CI, "clone 9000 20000 --linked --target pve2", &b);
    b.r.u.clone.q.target = "pve3";
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_TARGET);
    build(CI, "clone 9000 20000 --linked", &b);
    b.r.u.clone.q.have_bwlimit = true;
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_BWLIMIT);
    /* a timeout given but not validated */
    build(BOB, "storages", &b);
    b.r.g.timeout = "5";
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_TIMEOUT);
    /* a hook request with no operation */
    build(CI, "hook status 9000", &b);
    b.r.u.hook.op = REQ_HOOK_NONE;
    policy_decide(&conf, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_ACTION);
    /* a NULL among the groups is no group */
    build("bob:1001:", "storages", &b);
    const char *groups[] = {NULL, "ops"};
    policy_decide(&conf, &b.r, &b.who, groups, 1, &d);
    ck_assert_int_eq(d.field, POLICY_FIELD_CALLER);
    policy_decide(&conf, &b.r, &b.who, groups, 2, &d);
    ck_assert(d.allowed);
}
END_TEST

#ifndef TOP
#define TOP "."
#endif

/* The first grant block after "marker" in file, with prefix (the shipped
 * file's '#') taken off each line. */
static char *doc_grant(const char *file, const char *marker, const char *prefix)
{
    FILE *f = fopen(file, "r");
    char line[256], *text = NULL;
    size_t len = 0;
    bool seen = false, in = false;
    ck_assert_ptr_nonnull(f);
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    while (fgets(line, sizeof(line), f)) {
        const char *l = strncmp(line, prefix, strlen(prefix)) ? line : line + strlen(prefix);
        seen = seen || strstr(line, marker);
        in = in || (seen && !strncmp(l, "grant ", 6));
        if (in) {
            fputs(l, out);
            if (l[0] == '}') {
                break;
            }
        }
    }
    fclose(f);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_msg(in, "no grant after '%s' in %s", marker, file);
    return text;
}

/* The worked example of pvetmpl.conf(5) and of the shipped file does what
 * the page says, and is the grant the table tests. */
START_TEST(documented_example)
{
    static const char *const files[][3] = {
        {TOP "/conf/pvetmpl.conf.5", ".SH EXAMPLE", ""},
        {TOP "/conf/pvetmpl.conf", "The worked example", "#"},
    };
    static const struct {
        const char *req;
        enum policy_field field;
    } v[] = {
        {"make-template 120 9120 --storage local-lvm", POLICY_FIELD_NONE},
        {"check 120", POLICY_FIELD_NONE},
        {"storages", POLICY_FIELD_NONE},
        {"make-template 120 10000 --storage local-lvm", POLICY_FIELD_TARGET_VMID},
        {"make-template 120 9120 --storage local-zfs", POLICY_FIELD_STORAGE},
        {"make-template 120 9120", POLICY_FIELD_STORAGE},
        {"make-template 120 9120 --storage local-lvm --name a", POLICY_FIELD_NAME},
        {"make-template 120 9120 --storage local-lvm --pool a", POLICY_FIELD_POOL},
        {"make-template 120 9120 --storage local-lvm --target b", POLICY_FIELD_TARGET},
        {"make-template 120 9120 --storage local-lvm --no-hook", POLICY_FIELD_NO_HOOK},
        {"make-template 120 9120 --storage local-lvm --replace-hook", POLICY_FIELD_REPLACE_HOOK},
        {"clone 9120 9121 --linked", POLICY_FIELD_ACTION},
        {"template 9120", POLICY_FIELD_ACTION},
        {"hook install 9120", POLICY_FIELD_ACTION},
        {"hook remove 9120", POLICY_FIELD_ACTION},
        {"hook status 9120", POLICY_FIELD_ACTION},
    };
    for (size_t k = 0; k < N(files); k++) {
        char *text = doc_grant(files[k][0], files[k][1], files[k][2]);
        struct conf c = {0};
        struct err e = {0};
        ck_assert_msg(conf_load_string(text, &c, &e) == 0, "%s: %s\n%s", files[k][0], e.detail,
                      text);
        ck_assert_uint_eq(c.n_grants, 1);
        ck_assert_str_eq(c.grants[0].name, conf.grants[0].name);
        for (size_t i = 0; i < N(v); i++) {
            struct built b;
            struct policy_decision d;
            build(BOB, v[i].req, &b);
            policy_decide(&c, &b.r, &b.who, b.groups, b.n_groups, &d);
            ck_assert_msg(d.field == v[i].field && d.allowed == (v[i].field == POLICY_FIELD_NONE),
                          "%s: %s: %s", files[k][0], v[i].req, d.reason);
        }
        conf_release(&c);
        free(text);
    }
}
END_TEST

/* A grant whose list does not fit the message: cut, still one line. */
START_TEST(long_lists_are_cut)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    fputs("grant many { users = {bob} actions = {template} target_vmids = {", out);
    for (unsigned i = 0; i < 300; i++) {
        fprintf(out, "%s\"%u-%u\"", i ? ", " : "", 100000 + i * 10, 100000 + i * 10 + 5);
    }
    fputs("} }\n", out);
    ck_assert_int_eq(fclose(out), 0);
    struct conf c = {0};
    struct err e = {0};
    ck_assert_msg(conf_load_string(text, &c, &e) == 0, "%s", e.detail);
    struct built b;
    struct policy_decision d;
    build("bob:1001:", "template 100", &b);
    policy_decide(&c, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert(!d.allowed);
    ck_assert_int_eq(d.field, POLICY_FIELD_TARGET_VMID);
    ck_assert_uint_lt(strlen(d.reason), sizeof(d.reason));
    ck_assert_ptr_null(strchr(d.reason, '\n'));
    ck_assert_msg(!strncmp(d.reason,
                           "user 'bob': grant 'many' does not allow VMID 100 (target_vmids: "
                           "100000-100005, 100010-100015",
                           90),
                  "%s", d.reason);
    build("bob:1001:", "template 102995", &b);
    policy_decide(&c, &b.r, &b.who, b.groups, b.n_groups, &d);
    ck_assert_msg(d.allowed, "%s", d.reason);
    conf_release(&c);
    free(text);
}
END_TEST

START_TEST(field_names)
{
    ck_assert_str_eq(policy_field_name(POLICY_FIELD_NONE), "none");
    ck_assert_str_eq(policy_field_name(POLICY_FIELD_TARGET_VMID), "target_vmids");
    ck_assert_str_eq(policy_field_name(POLICY_FIELD_LINKED), "allow_linked");
    ck_assert_str_eq(policy_field_name(POLICY_FIELD_JOURNAL_FILES), "allow_journal_files");
    ck_assert_str_eq(policy_field_name(_POLICY_FIELD_MAX), "unknown");
    for (int f = 0; f < _POLICY_FIELD_MAX; f++) {
        ck_assert_ptr_nonnull(policy_field_name((enum policy_field)f));
    }
}
END_TEST

START_TEST(caller_groups)
{
    struct strv g = STRV_INIT;
    struct err e = {0};
    ck_assert_int_eq(policy_caller_groups("root", &g, &e), 0);
    ck_assert_uint_ge(g.n, 1);
    ck_assert_str_eq(g.v[0], "root");
    strv_release(&g);
    ck_assert_int_eq(policy_caller_groups("no-such-user-pvetmpl", &g, &e), 0);
    ck_assert_uint_eq(g.n, 0);
    ck_assert_int_eq(policy_caller_groups(NULL, &g, &e), 0);
    ck_assert_uint_eq(g.n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_add_unchecked_fixture(tc, load_config, release_config);
    tcase_add_loop_test(tc, table, 0, (int)N(cases));
    tcase_add_test(tc, reasons);
    tcase_add_test(tc, no_grants);
    tcase_add_test(tc, fails_closed_on_unvalidated_requests);
    tcase_add_test(tc, documented_example);
    tcase_add_test(tc, long_lists_are_cut);
    tcase_add_test(tc, field_names);
    tcase_add_test(tc, caller_groups);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
