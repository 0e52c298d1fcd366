/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of cli_parse, the only argv reader: argv -> request, nothing
 * run. Options anywhere, exact long options, "--", flags that take no value,
 * words with no place, and each command's positional arguments. */
#include <check.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "unit.h"

#define MAX_ARGS 16

static struct request r;
static struct cli_parsed p;
static struct err e;
static char *argv_buf[MAX_ARGS + 1];

/* Parses "pvetmpl" followed by the given words (NULL-terminated). */
static int parse(const char *first, ...)
{
    va_list ap;
    int argc = 0;
    cli_parsed_release(&p);
    e = (struct err){ERR_OK, ""};
    argv_buf[argc++] = (char *)"pvetmpl";
    va_start(ap, first);
    for (const char *w = first; w; w = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, MAX_ARGS);
        argv_buf[argc++] = (char *)w;
    }
    va_end(ap);
    argv_buf[argc] = NULL;
    return cli_parse(argc, argv_buf, &r, &p, &e);
}

/* The line is refused as a usage error whose message holds want. */
#define REFUSED(want, ...)                                                                         \
    do {                                                                                           \
        ck_assert_int_eq(parse(__VA_ARGS__, NULL), -1);                                            \
        ck_assert_int_eq(e.cls, ERR_USAGE);                                                        \
        ck_assert_msg(strstr(e.detail, want), "'%s' not in '%s'", want, e.detail);                 \
    } while (0)

static void teardown(void)
{
    cli_parsed_release(&p);
}

START_TEST(options_anywhere)
{
    ck_assert_int_eq(parse("check", "100", "-n", "--json", NULL), 0);
    ck_assert_int_eq(r.cmd, REQ_CHECK);
    ck_assert_str_eq(r.u.check.src, "100");
    ck_assert(r.g.dry_run && r.g.json && !r.g.quiet);
    ck_assert_int_eq(parse("-q", "make-template", "--name", "web", "100", "--timeout=5", "9000",
                           "--lock-wait", "0", NULL),
                     0);
    ck_assert_int_eq(r.cmd, REQ_MAKE_TEMPLATE);
    ck_assert_str_eq(r.u.clone.name, "web");
    ck_assert_str_eq(r.u.clone.src, "100");
    ck_assert_str_eq(r.u.clone.newid, "9000");
    ck_assert_str_eq(r.g.timeout, "5");
    ck_assert_str_eq(r.g.lock_wait, "0");
    ck_assert(r.g.quiet);
    /* short options cluster; -c takes the rest of its word, or the next */
    ck_assert_int_eq(parse("storages", "-nqv", "-c/etc/x.conf", NULL), 0);
    ck_assert(r.g.dry_run && r.g.quiet && r.g.verbose);
    ck_assert_str_eq(r.g.config, "/etc/x.conf");
    ck_assert_int_eq(parse("-c", "/etc/y.conf", "hook", "status", "100", "--json-lines", NULL), 0);
    ck_assert_str_eq(r.g.config, "/etc/y.conf");
    ck_assert(r.g.json_lines && !r.g.json);
    /* a command's option before the command is refused */
    REFUSED("belongs to a command", "--name", "x", "make-template", "100", "9000");
}
END_TEST

START_TEST(exact_match)
{
    REFUSED("unknown option '--jso'", "--jso", "storages");
    REFUSED("did you mean '--storage'?", "make-template", "100", "9000", "--stor", "x");
    REFUSED("unknown option '--disk' for make-template", "make-template", "100", "9000", "--disk",
            "scsi0");
    REFUSED("unknown option '--all' for audit", "audit", "--all");
    ck_assert_int_eq(parse("list", "--all", NULL), 0);
    ck_assert(r.u.list.all);
    /* single-dash words: named whole, a suggestion only for this command */
    REFUSED("unknown option '-name': did you mean '--name'?", "clone", "100", "9000", "-name", "x");
    REFUSED("unknown option '-full': pvetmpl clones are full unless --linked", "make-template",
            "100", "9000", "-full", "1");
    REFUSED("unknown option '-vmid' for clone", "clone", "100", "9000", "-vmid", "5");
    ck_assert_ptr_null(strstr(e.detail, "did you mean"));
    REFUSED("did you mean '--vmid'?", "audit", "-vmid", "5");
}
END_TEST

START_TEST(double_dash)
{
    ck_assert_int_eq(parse("check", "--", "100", NULL), 0);
    ck_assert_str_eq(r.u.check.src, "100");
    REFUSED("unexpected argument '--json'", "check", "--", "100", "--json");
    /* after "--" a word starting with '-' is an argument */
    ck_assert_int_eq(parse("hook", "remove", "--json", "--", "100", "-5", NULL), 0);
    ck_assert(r.g.json);
    ck_assert_uint_eq(r.u.hook.n_vmids, 2);
    ck_assert_str_eq(r.u.hook.vmids[1], "-5");
}
END_TEST

START_TEST(takes_no_value)
{
    REFUSED("option '--json' takes no value", "--json=1", "storages");
    REFUSED("option '--no-hook' takes no value", "make-template", "100", "9000", "--no-hook=1");
    REFUSED("option '--all-users' takes no value", "audit", "--all-users=no");
    REFUSED("option '-n' takes no value", "-n=1", "storages");
    REFUSED("option '--lock-wait' needs a value", "storages", "--lock-wait");
    REFUSED("option '-c' needs a value", "storages", "-c");
    ck_assert_int_eq(parse("audit", "--since=-1h", "-U", "now", NULL), 0);
    ck_assert_str_eq(r.u.audit.since, "-1h");
    ck_assert_str_eq(r.u.audit.until, "now");
}
END_TEST

START_TEST(extra_arguments)
{
    REFUSED("unexpected argument 'extra' (make-template takes SRC and an optional NEWID)",
            "make-template", "100", "9041", "extra");
    REFUSED("unexpected argument '9002' (clone takes SRC and an optional NEWID)", "clone", "100",
            "9001", "9002");
    REFUSED("unexpected argument '101' (template takes one VMID)", "template", "100", "101");
    REFUSED("unexpected argument '101' (check takes one SRC)", "check", "100", "101");
    REFUSED("unexpected argument 'x' (storages takes no arguments)", "storages", "x");
    REFUSED("unexpected argument 'x' (audit takes options only)", "audit", "x");
    REFUSED("unexpected argument 'x' (list takes options only)", "list", "x");
    REFUSED("unknown subcommand 'stat'", "hook", "stat", "100");
    REFUSED("unknown command 'make'", "make", "100");
    REFUSED("no command given", "--json");
}
END_TEST

START_TEST(positionals)
{
    ck_assert_int_eq(parse("clone", "100", "9000", "--linked", "--target", "pve2", NULL), 0);
    ck_assert_int_eq(r.cmd, REQ_CLONE);
    ck_assert_str_eq(r.u.clone.src, "100");
    ck_assert_str_eq(r.u.clone.newid, "9000");
    ck_assert(r.u.clone.linked);
    ck_assert_str_eq(r.u.clone.target, "pve2");
    /* a missing NEWID is validate's to name */
    ck_assert_int_eq(parse("make-template", "100", NULL), 0);
    ck_assert_ptr_null(r.u.clone.newid);
    ck_assert_int_eq(parse("template", "9000", "--disk", "scsi1", NULL), 0);
    ck_assert_str_eq(r.u.tmpl.vmid, "9000");
    ck_assert_str_eq(r.u.tmpl.disk, "scsi1");
    ck_assert_int_eq(parse("check", "--storage", "local", "100", "--target", "n2", NULL), 0);
    ck_assert_str_eq(r.u.check.src, "100");
    ck_assert_str_eq(r.u.check.storage, "local");
    ck_assert_str_eq(r.u.check.target, "n2");
    ck_assert_int_eq(parse("storages", NULL), 0);
    ck_assert_int_eq(r.cmd, REQ_STORAGES);
    ck_assert_int_eq(
        parse("hook", "install", "100", "101", "--storage", "snip", "102", "--replace-hook", NULL),
        0);
    ck_assert_int_eq(r.u.hook.op, REQ_HOOK_INSTALL);
    ck_assert_uint_eq(r.u.hook.n_vmids, 3);
    ck_assert_str_eq(r.u.hook.vmids[0], "100");
    ck_assert_str_eq(r.u.hook.vmids[2], "102");
    ck_assert_str_eq(r.u.hook.storage, "snip");
    ck_assert(r.u.hook.replace_hook);
    ck_assert_int_eq(parse("audit", "--file", "a", "--vmid", "100", "--file", "b", NULL), 0);
    ck_assert_uint_eq(r.u.audit.n_files, 2);
    ck_assert_str_eq(r.u.audit.files[0], "a");
    ck_assert_str_eq(r.u.audit.files[1], "b");
    ck_assert_str_eq(r.u.audit.vmid, "100");
    ck_assert_int_eq(parse("list", NULL), 0);
    ck_assert_int_eq(r.cmd, REQ_LIST);
    ck_assert(!r.u.list.all);
}
END_TEST

START_TEST(help_and_version)
{
    /* the rest of the line is not read */
    ck_assert_int_eq(parse("make-template", "100", "--help", "--bogus", NULL), 0);
    ck_assert(r.help);
    ck_assert_int_eq(r.cmd, REQ_MAKE_TEMPLATE);
    ck_assert_int_eq(parse("-V", "bogus", NULL), 0);
    ck_assert(p.version);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, options_anywhere);
    tcase_add_test(tc, exact_match);
    tcase_add_test(tc, double_dash);
    tcase_add_test(tc, takes_no_value);
    tcase_add_test(tc, extra_arguments);
    tcase_add_test(tc, positionals);
    tcase_add_test(tc, help_and_version);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
