/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the Ansible module front end: JSON arguments -> request
 * (types, booleans, unknown keys, Ansible's own keys, the state's rules) and
 * the result built from a report (check mode's changed, retryable, diff,
 * invocation). Messages are AnsibleModule's (ansible-core 2.14). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"
#include "report.h"
#include "unit.h"

struct parsed {
    struct json_object *args; /* keeps the request's strings alive */
    struct module_params mp;
    struct request r;
    struct err e;
    int rc;
};

static void parse(struct parsed *p, const char *json)
{
    memset(p, 0, sizeof(*p));
    p->args = json_tokener_parse(json);
    ck_assert_msg(p->args != NULL, "bad test JSON: %s", json);
    p->rc = module_parse(p->args, &p->mp, &p->r, &p->e);
}

static void done(struct parsed *p)
{
    module_params_release(&p->mp);
    json_object_put(p->args);
}

static void parse_ok(struct parsed *p, const char *json)
{
    parse(p, json);
    ck_assert_msg(p->rc == 0, "%s: refused: %s", json, p->e.detail);
}

static void parse_fails(const char *json, const char *want)
{
    struct parsed p;
    parse(&p, json);
    ck_assert_msg(p.rc == -1, "%s: accepted", json);
    ck_assert_int_eq(p.e.cls, ERR_USAGE);
    ck_assert_msg(strcmp(p.e.detail, want) == 0, "%s:\n  got:  %s\n  want: %s", json, p.e.detail,
                  want);
    done(&p);
}

START_TEST(state_maps_to_command)
{
    struct parsed p;
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000}");
    ck_assert_int_eq(p.r.cmd, REQ_MAKE_TEMPLATE); /* state defaults to template */
    ck_assert_str_eq(p.r.u.clone.src, "100");
    ck_assert_str_eq(p.r.u.clone.newid, "9000");
    ck_assert(!p.r.u.clone.no_hook);
    ck_assert(p.r.g.json);
    ck_assert(!p.r.g.dry_run);
    done(&p);
    parse_ok(&p, "{\"state\": \"cloned\", \"source\": \"9000\", \"vmid\": \"101\", "
                 "\"linked\": \"yes\", \"name\": \"web01\", \"pool\": \"pool-ci\"}");
    ck_assert_int_eq(p.r.cmd, REQ_CLONE);
    ck_assert(p.r.u.clone.linked);
    ck_assert_str_eq(p.r.u.clone.name, "web01");
    ck_assert_str_eq(p.r.u.clone.pool, "pool-ci");
    done(&p);
    parse_ok(&p, "{\"state\": \"converted\", \"vmid\": 9000, \"disk\": \"scsi0\"}");
    ck_assert_int_eq(p.r.cmd, REQ_TEMPLATE);
    ck_assert_str_eq(p.r.u.tmpl.vmid, "9000");
    ck_assert_str_eq(p.r.u.tmpl.disk, "scsi0");
    done(&p);
}
END_TEST

START_TEST(every_parameter_reaches_the_request)
{
    struct parsed p;
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"name\": \"t\", \"storage\": \"s\", "
                 "\"format\": \"raw\", \"pool\": \"p\", \"target\": \"n2\", \"description\": "
                 "\"d\", \"bwlimit\": 1024, \"snapname\": \"snap\", \"hook\": false, "
                 "\"timeout\": 30, \"lock_wait\": \"0\", \"config\": \"/etc/x.conf\"}");
    const struct request_clone *c = &p.r.u.clone;
    ck_assert_str_eq(c->name, "t");
    ck_assert_str_eq(c->storage, "s");
    ck_assert_str_eq(c->format, "raw");
    ck_assert_str_eq(c->pool, "p");
    ck_assert_str_eq(c->target, "n2");
    ck_assert_str_eq(c->description, "d");
    ck_assert_str_eq(c->bwlimit, "1024");
    ck_assert_str_eq(c->snapname, "snap");
    ck_assert(c->no_hook);
    ck_assert(!c->replace_hook);
    ck_assert_str_eq(p.r.g.timeout, "30");
    ck_assert_str_eq(p.r.g.lock_wait, "0");
    ck_assert_str_eq(p.r.g.config, "/etc/x.conf");
    done(&p);
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"replace_hook\": true}");
    ck_assert(p.r.u.clone.replace_hook);
    done(&p);
}
END_TEST

/* ad-hoc k=v gives strings, YAML gives typed values: the same request */
START_TEST(strings_and_typed_values_alike)
{
    struct parsed a, b;
    parse_ok(&a, "{\"source\": \"100\", \"vmid\": \"9000\", \"timeout\": \"5\", \"linked\": "
                 "\"false\", \"state\": \"cloned\"}");
    parse_ok(&b, "{\"source\": 100, \"vmid\": 9000, \"timeout\": 5, \"linked\": false, "
                 "\"state\": \"cloned\"}");
    ck_assert_str_eq(a.r.u.clone.src, b.r.u.clone.src);
    ck_assert_str_eq(a.r.u.clone.newid, b.r.u.clone.newid);
    ck_assert_str_eq(a.r.g.timeout, b.r.g.timeout);
    ck_assert_int_eq(a.r.u.clone.linked, b.r.u.clone.linked);
    /* module_args: numbers as numbers in both */
    ck_assert_str_eq(json_object_to_json_string(a.mp.module_args),
                     json_object_to_json_string(b.mp.module_args));
    done(&a);
    done(&b);
    /* a number where a string is wanted is its decimal text */
    parse_ok(&a, "{\"source\": 100, \"vmid\": 9000, \"name\": 123}");
    ck_assert_str_eq(a.r.u.clone.name, "123");
    done(&a);
    /* a string the int rule does not take as Python's int() would is kept
     * as given: request_validate judges it with the CLI's message */
    parse_ok(&a, "{\"source\": \"0100\", \"vmid\": \" 9000\"}");
    ck_assert_str_eq(a.r.u.clone.src, "0100");
    ck_assert_str_eq(a.r.u.clone.newid, " 9000");
    done(&a);
}
END_TEST

START_TEST(booleans_as_ansible_reads_them)
{
    static const char *const yes[] = {"true",  "\"yes\"", "\"Yes\"",    "\"on\"", "\"1\"",
                                      "\"t\"", "\"y\"",   "\" TRUE \"", "1",      "1.0"};
    static const char *const no[] = {"false", "\"no\"",    "\"off\"", "\"0\"", "\"f\"",
                                     "\"n\"", "\"False\"", "0",       "0.0"};
    char json[256];
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct parsed p;
        snprintf(json, sizeof(json),
                 "{\"state\": \"cloned\", \"source\": 100, \"vmid\": 101, \"linked\": %s}", yes[i]);
        parse_ok(&p, json);
        ck_assert_msg(p.r.u.clone.linked, "%s is true", yes[i]);
        done(&p);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct parsed p;
        snprintf(json, sizeof(json), "{\"source\": 100, \"vmid\": 9000, \"hook\": %s}", no[i]);
        parse_ok(&p, json);
        ck_assert_msg(p.r.u.clone.no_hook, "%s is false", no[i]);
        done(&p);
    }
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"hook\": \"maybe\"}",
                "argument 'hook' is of type <class 'str'> and we were unable to convert to bool: "
                "The value 'maybe' is not a valid boolean.  Valid booleans include: 'y', 'yes', "
                "'on', '1', 'true', 't', 1, 1.0, True, 'n', 'no', 'off', '0', 'false', 'f', 0, "
                "0.0, False");
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"hook\": 2}",
                "argument 'hook' is of type <class 'int'> and we were unable to convert to bool: "
                "The value '2' is not a valid boolean.  Valid booleans include: 'y', 'yes', "
                "'on', '1', 'true', 't', 1, 1.0, True, 'n', 'no', 'off', '0', 'false', 'f', 0, "
                "0.0, False");
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"hook\": [true]}",
                "argument 'hook' is of type <class 'list'> and we were unable to convert to bool: "
                "<class 'list'> cannot be converted to a bool");
}
END_TEST

START_TEST(types_refused_as_ansible_does)
{
    parse_fails("{\"source\": 100, \"vmid\": \"abc\"}",
                "argument 'vmid' is of type <class 'str'> and we were unable to convert to int: "
                "<class 'str'> cannot be converted to an int");
    parse_fails("{\"source\": 100, \"vmid\": 9000.5}",
                "argument 'vmid' is of type <class 'float'> and we were unable to convert to int: "
                "<class 'float'> cannot be converted to an int");
    parse_fails("{\"source\": true, \"vmid\": 9000}",
                "argument 'source' is of type <class 'bool'> and we were unable to convert to "
                "int: <class 'bool'> cannot be converted to an int");
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"name\": {\"a\": 1}}",
                "argument 'name' is of type <class 'dict'> and we were unable to convert to str: "
                "a <class 'dict'> is not a string");
}
END_TEST

START_TEST(unknown_keys_refused_by_name)
{
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"newid\": 9001, \"full\": true}",
                "Unsupported parameters for (pvetmpl) module: full, newid. Supported parameters "
                "include: bwlimit, config, description, disk, format, hook, linked, lock_wait, "
                "name, pool, replace_hook, snapname, source, state, storage, target, timeout, "
                "vmid.");
    /* before any other rule, as AnsibleModule checks it first */
    parse_fails("{\"bogus\": 1}",
                "Unsupported parameters for (pvetmpl) module: bogus. Supported parameters "
                "include: bwlimit, config, description, disk, format, hook, linked, lock_wait, "
                "name, pool, replace_hook, snapname, source, state, storage, target, timeout, "
                "vmid.");
    parse_fails("{\"source\": 100}", "missing required arguments: vmid");
    parse_fails("{\"source\": 100, \"vmid\": null}", "missing required arguments: vmid");
    parse_fails("{\"vmid\": 9000}", "state is template but all of the following are missing: "
                                    "source");
    parse_fails("{\"state\": \"cloned\", \"vmid\": 9000}",
                "state is cloned but all of the following are missing: source");
    parse_fails("{\"state\": \"present\", \"vmid\": 9000}",
                "value of state must be one of: template, cloned, converted, got: present");
}
END_TEST

START_TEST(parameters_the_state_does_not_take)
{
    parse_fails("{\"state\": \"converted\", \"vmid\": 9000, \"source\": 100, \"storage\": \"s\"}",
                "state is converted, which does not take: source, storage");
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"linked\": true}",
                "state is template, which does not take: linked");
    parse_fails("{\"state\": \"cloned\", \"source\": 100, \"vmid\": 101, \"hook\": false}",
                "state is cloned, which does not take: hook");
    parse_fails("{\"source\": 100, \"vmid\": 9000, \"disk\": \"scsi0\"}",
                "state is template, which does not take: disk");
    /* a bool at its default asks for nothing */
    struct parsed p;
    parse_ok(&p, "{\"state\": \"cloned\", \"source\": 100, \"vmid\": 101, \"hook\": true, "
                 "\"replace_hook\": false}");
    done(&p);
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"linked\": \"no\", \"name\": null}");
    ck_assert_ptr_null(p.r.u.clone.name);
    done(&p);
}
END_TEST

START_TEST(ansible_keys)
{
    struct parsed p;
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"_ansible_check_mode\": true, "
                 "\"_ansible_diff\": true, \"_ansible_no_log\": false, \"_ansible_verbosity\": 3, "
                 "\"_ansible_version\": \"2.14.18\", \"_ansible_module_name\": \"pvetmpl\", "
                 "\"_ansible_future_key\": [1]}");
    ck_assert(p.mp.check_mode);
    ck_assert(p.mp.diff);
    ck_assert(p.r.g.dry_run);
    /* module_args holds the module's parameters only */
    ck_assert(!json_object_object_get_ex(p.mp.module_args, "_ansible_check_mode", NULL));
    done(&p);
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"_ansible_check_mode\": \"False\", "
                 "\"_ansible_diff\": false}");
    ck_assert(!p.mp.check_mode);
    ck_assert(!p.mp.diff);
    ck_assert(!p.r.g.dry_run);
    done(&p);
    /* not a JSON object at all */
    struct json_object *a = json_tokener_parse("[1]");
    struct module_params mp;
    struct request r;
    struct err e = {0};
    ck_assert_int_eq(module_parse(a, &mp, &r, &e), -1);
    ck_assert_int_eq(e.cls, ERR_USAGE);
    json_object_put(a);
}
END_TEST

START_TEST(module_args_normalised)
{
    struct parsed p;
    parse_ok(&p, "{\"source\": \"100\", \"vmid\": 9000, \"linked\": \"no\"}");
    ck_assert_str_eq(json_object_to_json_string_ext(p.mp.module_args, JSON_C_TO_STRING_PLAIN),
                     "{\"bwlimit\":null,\"config\":null,\"description\":null,\"disk\":null,"
                     "\"format\":null,\"hook\":true,\"linked\":false,\"lock_wait\":null,"
                     "\"name\":null,\"pool\":null,\"replace_hook\":false,\"snapname\":null,"
                     "\"source\":100,\"state\":\"template\",\"storage\":null,\"target\":null,"
                     "\"timeout\":null,\"vmid\":9000}");
    done(&p);
}
END_TEST

static struct json_object *result(struct parsed *p, struct report *rep, const struct err *e)
{
    struct json_object *o = report_finish(rep, e, err_exit_code(e->cls), 5);
    return module_result(&p->mp, &p->r, o, e);
}

static const char *s_of(struct json_object *o, const char *path)
{
    struct json_object *v = o;
    char buf[128], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) {
        if (!json_object_object_get_ex(v, k, &v)) {
            return "(absent)";
        }
    }
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
}

START_TEST(result_check_mode_changed_follows_the_plan)
{
    struct parsed p;
    struct err ok = {ERR_OK, ""};
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"_ansible_check_mode\": true}");
    struct report *rep = report_new("make-template");
    report_set_dry_run(rep, true);
    report_set_changed(rep, false);
    report_add_command(rep, (char *const[]){"qm", "clone", "100", "9000", NULL});
    struct json_object *o = result(&p, rep, &ok);
    ck_assert_str_eq(s_of(o, "changed"), "true");
    ck_assert_str_eq(s_of(o, "dry_run"), "true");
    ck_assert_str_eq(s_of(o, "vmid"), "9000"); /* from the request: the report had none */
    ck_assert_str_eq(s_of(o, "invocation.module_args.vmid"), "9000");
    ck_assert_str_eq(s_of(o, "retryable"), "false");
    ck_assert_str_eq(s_of(o, "diff"), "(absent)");
    json_object_put(o);
    report_free(rep);
    /* nothing planned: nothing would change */
    rep = report_new("make-template");
    o = result(&p, rep, &ok);
    ck_assert_str_eq(s_of(o, "changed"), "false");
    json_object_put(o);
    report_free(rep);
    done(&p);
}
END_TEST

START_TEST(result_keeps_the_report_and_marks_retryable)
{
    struct parsed p;
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000}");
    struct report *rep = report_new("make-template");
    report_set_vmid(rep, 9000);
    report_add_check(rep, "source_unlocked", false, "VM 100 is locked (backup)");
    struct err busy = {ERR_BUSY, "VM 100 is locked (backup)"};
    struct json_object *o = result(&p, rep, &busy);
    ck_assert_str_eq(s_of(o, "failed"), "true");
    ck_assert_str_eq(s_of(o, "rc"), "75");
    ck_assert_str_eq(s_of(o, "retryable"), "true");
    ck_assert_str_eq(s_of(o, "msg"), "\"VM 100 is locked (backup)\"");
    ck_assert_str_eq(s_of(o, "error.class"), "\"busy\"");
    ck_assert_str_eq(s_of(o, "action"), "\"make-template\"");
    ck_assert_str_eq(s_of(o, "checks"),
                     "[{\"name\":\"source_unlocked\",\"ok\":false,\"detail\":\"VM 100 is locked "
                     "(backup)\"}]");
    json_object_put(o);
    report_free(rep);
    /* a precondition (no quorum among them) is not retried */
    rep = report_new("make-template");
    struct err pre = {ERR_PRECONDITION, "cluster not ready - no quorum?"};
    o = result(&p, rep, &pre);
    ck_assert_str_eq(s_of(o, "retryable"), "false");
    ck_assert_str_eq(s_of(o, "rc"), "69");
    json_object_put(o);
    report_free(rep);
    done(&p);
}
END_TEST

START_TEST(result_diff)
{
    struct parsed p;
    struct err ok = {ERR_OK, ""};
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"name\": \"tmpl\", \"_ansible_diff\": 1}");
    struct report *rep = report_new("make-template");
    report_set_vmid(rep, 9000);
    report_set_name(rep, "tmpl");
    report_set_storage(rep, "local-lvm");
    report_set_changed(rep, true);
    report_add_disk(rep, "scsi0", "local-lvm:base-9000-disk-0", "local-lvm", "lvmthin", true);
    struct json_object *o = result(&p, rep, &ok);
    ck_assert_str_eq(s_of(o, "diff.before"), "{\"vmid\":9000,\"state\":\"absent\"}");
    ck_assert_str_eq(s_of(o, "diff.after"),
                     "{\"vmid\":9000,\"state\":\"present\",\"template\":true,\"name\":\"tmpl\","
                     "\"storage\":\"local-lvm\",\"disks\":[\"scsi0\"]}");
    json_object_put(o);
    report_free(rep);
    /* unchanged: before is after */
    rep = report_new("make-template");
    report_set_vmid(rep, 9000);
    report_set_name(rep, "tmpl");
    o = result(&p, rep, &ok);
    ck_assert_str_eq(s_of(o, "diff.before"), s_of(o, "diff.after"));
    json_object_put(o);
    report_free(rep);
    done(&p);
    /* check mode: the plan decides; the copy's disks are unknown, not empty */
    parse_ok(&p, "{\"source\": 100, \"vmid\": 9000, \"_ansible_diff\": true, "
                 "\"_ansible_check_mode\": true}");
    rep = report_new("make-template");
    report_add_command(rep, (char *const[]){"qm", "clone", NULL});
    o = result(&p, rep, &ok);
    ck_assert_str_eq(s_of(o, "diff.before.state"), "\"absent\"");
    ck_assert_str_eq(s_of(o, "diff.after.template"), "true");
    ck_assert_str_eq(s_of(o, "diff.after.disks"), "(absent)");
    json_object_put(o);
    report_free(rep);
    done(&p);
    /* converted: before is the VM, not a template */
    parse_ok(&p, "{\"state\": \"converted\", \"vmid\": 103, \"_ansible_diff\": true}");
    rep = report_new("template");
    report_set_vmid(rep, 103);
    report_set_changed(rep, true);
    o = result(&p, rep, &ok);
    ck_assert_str_eq(s_of(o, "diff.before.template"), "false");
    ck_assert_str_eq(s_of(o, "diff.after.template"), "true");
    json_object_put(o);
    report_free(rep);
    done(&p);
}
END_TEST

START_TEST(invoked_only_by_a_path)
{
    char dir[] = "/tmp/test-module.XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/args", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{}", f);
    fclose(f);
    ck_assert(module_invoked(2, (char *[]){"pvetmpl", path, NULL}));
    ck_assert(!module_invoked(3, (char *[]){"pvetmpl", path, "x", NULL}));
    /* by the word alone: a path names module mode whether or not it exists,
     * so a sudo caller learns nothing of root's files from the answer */
    ck_assert(module_invoked(2, (char *[]){"pvetmpl", dir, NULL}));
    ck_assert(!module_invoked(2, (char *[]){"pvetmpl", "storages", NULL})); /* a command */
    ck_assert(!module_invoked(2, (char *[]){"pvetmpl", "--help", NULL}));
    ck_assert(!module_invoked(1, (char *[]){"pvetmpl", NULL}));
    /* a regular file named without a '/' is a word of the command line */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert(!module_invoked(2, (char *[]){"pvetmpl", "args", NULL}));
    ck_assert(module_invoked(2, (char *[]){"pvetmpl", "./args", NULL}));
    ck_assert_int_eq(chdir(cwd), 0);
    unlink(path);
    ck_assert(module_invoked(2, (char *[]){"pvetmpl", path, NULL})); /* gone: still a path */
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("module");
    TCase *tc = tcase_create("module");
    tcase_add_test(tc, state_maps_to_command);
    tcase_add_test(tc, every_parameter_reaches_the_request);
    tcase_add_test(tc, strings_and_typed_values_alike);
    tcase_add_test(tc, booleans_as_ansible_reads_them);
    tcase_add_test(tc, types_refused_as_ansible_does);
    tcase_add_test(tc, unknown_keys_refused_by_name);
    tcase_add_test(tc, parameters_the_state_does_not_take);
    tcase_add_test(tc, ansible_keys);
    tcase_add_test(tc, module_args_normalised);
    tcase_add_test(tc, result_check_mode_changed_follows_the_plan);
    tcase_add_test(tc, result_keeps_the_report_and_marks_retryable);
    tcase_add_test(tc, result_diff);
    tcase_add_test(tc, invoked_only_by_a_path);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
