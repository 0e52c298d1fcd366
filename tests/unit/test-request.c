/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of request_validate: every rule of every command, each once
 * accepted and once refused, and the typed fields it fills. The same function
 * checks what the CLI and the Ansible module were asked. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "policy.h"
#include "request.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define MT(...)                                                                                    \
    {                                                                                              \
        .cmd = REQ_MAKE_TEMPLATE, .u.clone = {.src = "100", .newid = "9000", __VA_ARGS__ }         \
    }
#define CL(...)                                                                                    \
    {                                                                                              \
        .cmd = REQ_CLONE, .u.clone = {.src = "100", .newid = "9000", __VA_ARGS__ }                 \
    }

static const char *const two[] = {"100", "101"};
static const char *const bad_second[] = {"100", "99"};
static const char *const files[] = {"/tmp/a.journal"};

/* A request, and for a refusal a part its message must hold (NULL: accepted). */
struct vec {
    struct request r;
    const char *want;
};

static const struct vec vecs[] = {
    /* global options */
    {{.cmd = REQ_STORAGES}, NULL},
    {{.cmd = REQ_STORAGES, .g = {.timeout = "0"}}, NULL},
    {{.cmd = REQ_STORAGES, .g = {.timeout = "5s"}}, "'5s'"},
    {{.cmd = REQ_STORAGES, .g = {.lock_wait = "0"}}, NULL},
    {{.cmd = REQ_STORAGES, .g = {.lock_wait = "30"}}, NULL},
    {{.cmd = REQ_STORAGES, .g = {.lock_wait = "-1"}}, "--lock-wait value '-1'"},
    {{.cmd = REQ_STORAGES, .g = {.lock_wait = "x"}}, "--lock-wait value 'x'"},
    {{.cmd = REQ_NONE}, "no command given"},
    /* make-template / clone: SRC and NEWID */
    {MT(), NULL},
    {{.cmd = REQ_MAKE_TEMPLATE, .u.clone = {.src = "100"}}, NULL}, /* NEWID chosen by the run */
    {{.cmd = REQ_CLONE, .u.clone = {.src = "100"}}, NULL},
    {{.cmd = REQ_CLONE, .u.clone = {.newid = "9000"}}, "clone needs SRC"},
    {{.cmd = REQ_MAKE_TEMPLATE}, "make-template needs SRC"},
    {{.cmd = REQ_MAKE_TEMPLATE, .u.clone = {.src = "99", .newid = "9000"}}, "'99'"},
    {{.cmd = REQ_CLONE, .u.clone = {.src = "100", .newid = "0100"}}, "'0100'"},
    {{.cmd = REQ_CLONE, .u.clone = {.src = "100", .newid = "100"}}, "both 100"},
    /* each value's format */
    {MT(.name = "tmpl-1"), NULL},
    {MT(.name = "a b"), "DNS name"},
    {MT(.storage = "local-lvm"), NULL},
    {MT(.storage = "../etc"), "illegal characters"},
    {MT(.format = "qcow2"), NULL},
    {MT(.format = "vhd"), "'vhd'"},
    {MT(.pool = "a/b"), NULL},
    {MT(.pool = "a/b/c/d"), "nested too deeply"},
    {MT(.target = "pve2"), NULL},
    {MT(.target = "node_1"), "'node_1'"},
    {MT(.description = "any text"), NULL},
    {MT(.bwlimit = "1024"), NULL},
    {MT(.bwlimit = "-5"), "'-5'"},
    {MT(.snapname = "before"), NULL},
    {MT(.snapname = "1abc"), "'1abc'"},
    /* which command takes which flag, and flags that exclude each other */
    {MT(.no_hook = true), NULL},
    {CL(.no_hook = true), "'--no-hook' is only for make-template"},
    {MT(.name = "base", .rotate = true), NULL},
    {MT(.name = "base", .rotate = true, .keep = "0"), NULL},
    {MT(.rotate = true), "'--rotate' needs '--name NAME'"},
    {MT(.name = "base", .keep = "2"), "'--keep' needs '--rotate'"},
    {CL(.name = "base", .rotate = true), "'--rotate' is only for make-template"},
    {MT(.name = "base", .rotate = true, .keep = "x"), "--keep value 'x'"},
    {MT(.name = "base", .rotate = true, .target = "pve2"), "'--rotate' and '--target'"},
    {MT(.replace_hook = true), NULL},
    {CL(.replace_hook = true), "'--replace-hook' is only for make-template"},
    {CL(.linked = true), NULL},
    {MT(.linked = true), "'--linked' is only for clone"},
    {MT(.no_hook = true, .replace_hook = true), "contradict each other"},
    {CL(.linked = true, .storage = "local-lvm"), "not allowed for linked clones"},
    {CL(.linked = true, .format = "raw"), "not allowed for linked clones"},
    /* template */
    {{.cmd = REQ_TEMPLATE, .u.tmpl = {.vmid = "100"}}, NULL},
    {{.cmd = REQ_TEMPLATE, .u.tmpl = {.vmid = "100", .disk = "scsi0"}}, NULL},
    {{.cmd = REQ_TEMPLATE, .u.tmpl = {.vmid = "100", .disk = "scsi31"}}, "'scsi31'"},
    {{.cmd = REQ_TEMPLATE}, "template needs one VMID"},
    {{.cmd = REQ_TEMPLATE, .u.tmpl = {.vmid = "1e3"}}, "'1e3'"},
    /* check */
    {{.cmd = REQ_CHECK, .u.check = {.src = "100", .storage = "local", .target = "pve2"}}, NULL},
    {{.cmd = REQ_CHECK}, "check needs one SRC"},
    {{.cmd = REQ_CHECK, .u.check = {.src = "100", .storage = "x"}}, "'x'"},
    {{.cmd = REQ_CHECK, .u.check = {.src = "100", .target = "-a"}}, "'-a'"},
    /* hook */
    {{.cmd = REQ_HOOK, .u.hook = {.op = REQ_HOOK_STATUS, .vmids = two, .n_vmids = 2}}, NULL},
    {{.cmd = REQ_HOOK, .u.hook = {.vmids = two, .n_vmids = 2}}, "missing subcommand"},
    {{.cmd = REQ_HOOK, .u.hook = {.op = REQ_HOOK_INSTALL}}, "no VMID given"},
    {{.cmd = REQ_HOOK, .u.hook = {.op = REQ_HOOK_INSTALL, .vmids = bad_second, .n_vmids = 2}},
     "'99'"},
    {{.cmd = REQ_HOOK,
      .u.hook = {.op = REQ_HOOK_INSTALL,
                 .vmids = two,
                 .n_vmids = 1,
                 .storage = "local",
                 .replace_hook = true}},
     NULL},
    {{.cmd = REQ_HOOK,
      .u.hook = {.op = REQ_HOOK_REMOVE, .vmids = two, .n_vmids = 1, .storage = "local"}},
     "--storage only applies to 'hook install'"},
    {{.cmd = REQ_HOOK,
      .u.hook = {.op = REQ_HOOK_STATUS, .vmids = two, .n_vmids = 1, .replace_hook = true}},
     "--replace-hook only applies to 'hook install'"},
    {{.cmd = REQ_HOOK,
      .u.hook = {.op = REQ_HOOK_INSTALL, .vmids = two, .n_vmids = 1, .storage = "a b"}},
     "'a b'"},
    /* audit */
    {{.cmd = REQ_AUDIT}, NULL},
    {{.cmd = REQ_AUDIT, .u.audit = {.vmid = "4100", .action = "clone", .all_users = true}}, NULL},
    {{.cmd = REQ_AUDIT, .u.audit = {.vmid = "99"}}, "'99'"},
    {{.cmd = REQ_AUDIT, .u.audit = {.since = "@1000", .until = "@2000"}}, NULL},
    {{.cmd = REQ_AUDIT, .u.audit = {.since = "next tuesday"}}, "invalid --since value"},
    {{.cmd = REQ_AUDIT, .u.audit = {.until = "2026-13-01"}}, "invalid --until value"},
    {{.cmd = REQ_AUDIT, .u.audit = {.since = "@2000", .until = "@1000"}}, "--since is after"},
    {{.cmd = REQ_AUDIT, .u.audit = {.action = ""}}, "--action needs a non-empty value"},
    {{.cmd = REQ_AUDIT, .u.audit = {.files = files, .n_files = 1}}, NULL},
    {{.cmd = REQ_AUDIT, .u.audit = {.directory = "/tmp"}}, NULL},
    {{.cmd = REQ_AUDIT, .u.audit = {.directory = "/tmp", .files = files, .n_files = 1}},
     "exclude each other"},
};

START_TEST(test_rules)
{
    for (size_t i = 0; i < N(vecs); i++) {
        struct request r = vecs[i].r;
        struct err e = {ERR_OK, ""};
        int rc = request_validate(&r, &e);
        if (!vecs[i].want) {
            ck_assert_msg(rc == 0, "vector %zu: refused: %s", i, e.detail);
        } else {
            ck_assert_msg(rc == -1, "vector %zu: accepted, wanted '%s'", i, vecs[i].want);
            ck_assert_msg(e.cls == ERR_USAGE, "vector %zu: class %d", i, e.cls);
            ck_assert_msg(strstr(e.detail, vecs[i].want), "vector %zu: '%s' not in: %s", i,
                          vecs[i].want, e.detail);
            ck_assert_msg(!strchr(e.detail, '\n'), "vector %zu: two lines: %s", i, e.detail);
        }
        request_release(&r);
    }
}
END_TEST

START_TEST(test_typed_fields)
{
    struct err e;
    struct request r = {
        .cmd = REQ_MAKE_TEMPLATE,
        .g = {.timeout = "7", .lock_wait = "0"},
        .u.clone = {
            .src = "100", .newid = "9000", .target = "pve2", .bwlimit = "512", .name = "t"}};
    ck_assert_int_eq(request_validate(&r, &e), 0);
    ck_assert(r.g.have_timeout && r.g.timeout_s == 7);
    ck_assert(r.g.have_lock_wait && r.g.lock_wait_s == 0);
    ck_assert_uint_eq(r.u.clone.q.src, 100);
    ck_assert_uint_eq(r.u.clone.q.newid, 9000);
    ck_assert(r.u.clone.q.full);
    ck_assert(r.u.clone.q.have_bwlimit && r.u.clone.q.bwlimit == 512);
    ck_assert_str_eq(r.u.clone.q.name, "t");
    /* make-template --target: made here, then migrated */
    ck_assert_ptr_null(r.u.clone.q.target);
    ck_assert_str_eq(r.u.clone.migrate_to, "pve2");

    struct request cl = {
        .cmd = REQ_CLONE,
        .u.clone = {.src = "100", .newid = "9000", .target = "pve2", .linked = true}};
    ck_assert_int_eq(request_validate(&cl, &e), 0);
    ck_assert_str_eq(cl.u.clone.q.target, "pve2");
    ck_assert_ptr_null(cl.u.clone.migrate_to);
    ck_assert(!cl.u.clone.q.full);
    ck_assert(!cl.g.have_timeout && !cl.g.have_lock_wait);

    struct request t = {.cmd = REQ_TEMPLATE, .u.tmpl = {.vmid = "4100"}};
    ck_assert_int_eq(request_validate(&t, &e), 0);
    ck_assert_uint_eq(t.u.tmpl.id, 4100);

    struct request h = {.cmd = REQ_HOOK,
                        .u.hook = {.op = REQ_HOOK_STATUS, .vmids = two, .n_vmids = 2}};
    ck_assert_int_eq(request_validate(&h, &e), 0);
    ck_assert_uint_eq(h.u.hook.ids[0], 100);
    ck_assert_uint_eq(h.u.hook.ids[1], 101);
    request_release(&h);
    ck_assert_ptr_null(h.u.hook.ids);

    struct request a = {.cmd = REQ_AUDIT, .u.audit = {.vmid = "4100", .since = "@1000"}};
    ck_assert_int_eq(request_validate(&a, &e), 0);
    ck_assert_uint_eq(a.u.audit.id, 4100);
    ck_assert(a.u.audit.since_us == 1000000000ull);
    ck_assert(a.u.audit.until_us == UINT64_MAX);
}
END_TEST

/* --description: only its length is bounded (qemu-server's 8 KiB). */
START_TEST(test_description_length)
{
    static char text[8194];
    struct err e = {ERR_OK, ""};
    memset(text, 'x', 8192);
    struct request r = MT(.description = text);
    ck_assert_int_eq(request_validate(&r, &e), 0);
    text[8192] = 'x';
    r = (struct request)MT(.description = text);
    ck_assert_int_eq(request_validate(&r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.detail, "at most 8192"));
}
END_TEST

/* The report's and the journal's action: the command, hook's with its
 * subcommand (action.c has the names; test-action checks the table). */
START_TEST(test_names)
{
    struct request r = {.cmd = REQ_MAKE_TEMPLATE};
    ck_assert_str_eq(request_action_name(&r), "make-template");
    r = (struct request){.cmd = REQ_HOOK};
    ck_assert_str_eq(request_action_name(&r), "hook");
    r.u.hook.op = REQ_HOOK_STATUS;
    ck_assert_str_eq(request_action_name(&r), "hook-status");
    r = (struct request){.cmd = REQ_POLICY};
    ck_assert_str_eq(request_action_name(&r), "policy");
    r = (struct request){.cmd = REQ_NONE};
    ck_assert_ptr_null(request_action_name(&r));
}
END_TEST

START_TEST(test_policy_allows)
{
    struct request r = {.cmd = REQ_STORAGES};
    /* a name no system has: its groups are none, whatever the machine */
    struct request_caller who = {.uid = 4000001, .user = "pvetmpl-unit-x", .frontend = "cli"};
    struct err e = {ERR_OK, ""};
    struct conf cf;
    struct policy_decision d;
    ck_assert_int_eq(
        conf_load_string("grant g1 { users = {pvetmpl-unit-x} actions = {storages} }", &cf, &e), 0);
    ck_assert_int_eq(request_policy(&cf, &r, &who, &d, &e), 0);
    ck_assert_str_eq(d.grant, "g1");
    /* what the grant does not allow: 77, naming who, what and the grant */
    r.cmd = REQ_LIST;
    ck_assert_int_eq(request_policy(&cf, &r, &who, &d, &e), -1);
    ck_assert_int_eq(e.cls, ERR_PERMISSION);
    ck_assert_str_eq(e.detail, "user 'pvetmpl-unit-x': grant 'g1' does not allow list "
                               "(actions: storages)");
    /* and what any caller may ask: its own policy, no one else's */
    r.cmd = REQ_POLICY;
    ck_assert_int_eq(request_policy(&cf, &r, &who, &d, &e), 0);
    r.u.pol.user = "root";
    ck_assert_int_eq(request_policy(&cf, &r, &who, &d, &e), -1);
    ck_assert_int_eq(e.cls, ERR_PERMISSION);
    conf_release(&cf);
    r.cmd = REQ_STORAGES;
    /* help needs no privileges, whoever runs it */
    r.help = true;
    ck_assert_int_eq(request_privilege(&r, &e), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_typed_fields);
    tcase_add_test(tc, test_description_length);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_policy_allows);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
