/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the config module: defaults, every key, every refusal, the
 * ${VAR} rule, file handling, and that the shipped conf/pvetmpl.conf both
 * changes nothing and documents the true defaults. Run from the repo root
 * (or build with -DTOP='"/path/to/repo"'). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "conf.h"
#include "unit.h"

#ifndef TOP
#define TOP "."
#endif
#define SHIPPED TOP "/conf/pvetmpl.conf"
#define HOOK_BINARY PVETMPL_LIBEXECDIR "/pvetmpl-hook"

extern char **environ;

static void assert_list(const struct strv *sv, const char *const *want)
{
    size_t n = 0;
    while (want[n]) {
        n++;
    }
    ck_assert_uint_eq(sv->n, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(sv->v[i], want[i]);
    }
}

static const char *const none[] = {NULL};

static void assert_defaults(const struct conf *c)
{
    ck_assert_str_eq(c->qm, "/usr/sbin/qm");
    ck_assert_str_eq(c->pvesm, "/usr/sbin/pvesm");
    ck_assert_str_eq(c->vmlist, "/etc/pve/.vmlist");
    ck_assert_str_eq(c->pve_dir, "/etc/pve");
    ck_assert_str_eq(c->node, "");
    ck_assert_str_eq(c->run_dir, "/run/pvetmpl");
    ck_assert_int_eq(c->timeout, 0);
    ck_assert_int_eq(c->lock_retries, 5);
    ck_assert_int_eq(c->lock_retry_max, 300);
    ck_assert_int_eq(c->copies_per_storage, 1);
    ck_assert_uint_eq(c->template_newid_first, 9000);
    ck_assert_uint_eq(c->template_newid_last, 9999);
    ck_assert_uint_eq(c->clone_newid_first, 0); /* Proxmox's next-id range */
    ck_assert_uint_eq(c->clone_newid_last, 0);
    assert_list(&c->template_types, none);
    ck_assert(c->hook);
    ck_assert_str_eq(c->hook_storage, "local");
    ck_assert_str_eq(c->hook_binary, HOOK_BINARY);
    ck_assert_str_eq(c->hook_name, "pvetmpl-hook");
    assert_list(&c->hook_refuse_vmids, none);
    assert_list(&c->hook_refuse_tags, none);
    ck_assert_uint_eq(c->n_grants, 0);
    ck_assert_ptr_null(c->grants);
}

/* Loads text that must parse, into *c. */
static void load_ok(const char *text, struct conf *c)
{
    struct err e = {0};
    ck_assert_msg(conf_load_string(text, c, &e) == 0, "%s\n%s", text, e.detail);
}

/* Loads text that must fail; returns the error detail (static). */
static const char *load_fail(const char *text)
{
    static struct err e;
    struct conf c = {0};
    memset(&e, 0, sizeof(e));
    int r = conf_load_string(text, &c, &e);
    ck_assert_msg(r == -1, "accepted: %s", text);
    ck_assert_int_eq(e.cls, ERR_CONFIG);
    ck_assert_ptr_null(c.qm);
    return e.detail;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* A fresh path in a private directory; removed by cleanup_dir(). */
static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[128];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/test-conf.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

static void cleanup_dir(void)
{
    static const char *const names[] = {"a.conf", "fifo", NULL};
    if (!tmpdir[0]) {
        return;
    }
    for (size_t i = 0; names[i]; i++) {
        unlink(tmp_path(names[i]));
    }
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

START_TEST(defaults_from_empty_text)
{
    struct conf c = {0};
    load_ok("", &c);
    assert_defaults(&c);
    conf_release(&c);
    load_ok("# only a comment\n\n", &c);
    assert_defaults(&c);
    conf_release(&c);
}
END_TEST

START_TEST(every_key)
{
    static const char text[] = "qm = /opt/pve/qm\n"
                               "pvesm = '/opt/pve/pvesm'\n"
                               "vmlist = \"/srv/vmlist\"\n"
                               "pve_dir = /srv/pve\n"
                               "node = pve-2\n"
                               "run_dir = /run/other\n"
                               "timeout = 3600\n"
                               "lock_retries = 0\n"
                               "lock_retry_max = 60\n"
                               "copies_per_storage = 64\n"
                               "template_newid_range = 500\n"
                               "clone_newid_range = \"2000-2999\"\n"
                               "template_types = {\"myplugin\", blockbridge}\n"
                               "hook = false\n"
                               "hook_storage = cephfs-snip\n"
                               "hook_binary = /usr/local/lib/hook\n"
                               "hook_name = \"my-hook.bin\"\n"
                               "hook_refuse_vmids = {\"100\", \"9000-9099\"}\n"
                               "hook_refuse_vmids += {200}\n"
                               "hook_refuse_tags = {frozen, \"do-not-start\"}\n";
    static const char *const types[] = {"myplugin", "blockbridge", NULL};
    static const char *const vmids[] = {"100", "9000-9099", "200", NULL};
    static const char *const tags[] = {"frozen", "do-not-start", NULL};
    struct conf c = {0};
    load_ok(text, &c);
    ck_assert_str_eq(c.qm, "/opt/pve/qm");
    ck_assert_str_eq(c.pvesm, "/opt/pve/pvesm");
    ck_assert_str_eq(c.vmlist, "/srv/vmlist");
    ck_assert_str_eq(c.pve_dir, "/srv/pve");
    ck_assert_str_eq(c.node, "pve-2");
    ck_assert_str_eq(c.run_dir, "/run/other");
    ck_assert_int_eq(c.timeout, 3600);
    ck_assert_int_eq(c.lock_retries, 0);
    ck_assert_int_eq(c.lock_retry_max, 60);
    ck_assert_int_eq(c.copies_per_storage, 64);
    ck_assert_uint_eq(c.template_newid_first, 500);
    ck_assert_uint_eq(c.template_newid_last, 500);
    ck_assert_uint_eq(c.clone_newid_first, 2000);
    ck_assert_uint_eq(c.clone_newid_last, 2999);
    assert_list(&c.template_types, types);
    ck_assert(!c.hook);
    ck_assert_str_eq(c.hook_storage, "cephfs-snip");
    ck_assert_str_eq(c.hook_binary, "/usr/local/lib/hook");
    ck_assert_str_eq(c.hook_name, "my-hook.bin");
    assert_list(&c.hook_refuse_vmids, vmids);
    assert_list(&c.hook_refuse_tags, tags);
    conf_release(&c);
}
END_TEST

START_TEST(list_forms_and_booleans)
{
    static const char *const one[] = {"dir2", NULL};
    struct conf c = {0};
    /* A single value is a list of one; {} empties it; later lines win. */
    load_ok("template_types = dir2\nhook = no\nhook = on\n"
            "hook_refuse_tags = {a}\nhook_refuse_tags = {}\n",
            &c);
    assert_list(&c.template_types, one);
    assert_list(&c.hook_refuse_tags, none);
    ck_assert(c.hook);
    conf_release(&c);
}
END_TEST

START_TEST(unknown_key_names_line)
{
    ck_assert_str_eq(load_fail("qm = /usr/sbin/qm\n\nbogus = 1\n"),
                     "<string>:3: no such option 'bogus'");
    /* A key in quotes with a newline: the detail stays one line. */
    ck_assert_str_eq(load_fail("\"a\nb\" = 1\n"), "<string>:2: no such option 'a?b'");
    /* Keys are case-sensitive, as documented in the shipped file. */
    ck_assert_str_eq(load_fail("QM = /usr/sbin/qm\n"), "<string>:1: no such option 'QM'");
}
END_TEST

START_TEST(validation_failures)
{
    static const struct {
        const char *text, *want;
    } v[] = {
        {"qm = usr/sbin/qm", "<string>:1: option 'qm': invalid path 'usr/sbin/qm': must be "
                             "absolute"},
        {"pvesm = \"\"", "option 'pvesm': invalid path ''"},
        {"template_newid_range = \"\"", "option 'template_newid_range': invalid VMID or range ''"},
        {"template_newid_range = 9999-9000", "option 'template_newid_range': invalid VMID range"},
        {"clone_newid_range = 99-200",
         "option 'clone_newid_range': invalid VMID or range '99-200'"},
        {"vmlist = etc/.vmlist", "option 'vmlist': invalid path"},
        {"pve_dir = pve", "option 'pve_dir': invalid path"},
        {"run_dir = \"run\"", "option 'run_dir': invalid path"},
        {"\n\nhook_binary = \"./hook\"", "<string>:3: option 'hook_binary': invalid path './hook'"},
        {"qm = \"/usr/sbin/q\\nm\"", "invalid path '/usr/sbin/q\\x0am'"},
        {"node = node_1", "option 'node': invalid node name 'node_1': value does not look like a "
                          "valid node name"},
        {"timeout = -1", "option 'timeout': invalid value '-1': must be a non-negative integer"},
        {"timeout = 0x10", "option 'timeout': invalid value '0x10'"},
        {"timeout = 1e3", "option 'timeout': invalid value '1e3'"},
        {"timeout = \"\"", "option 'timeout': invalid value ''"},
        {"timeout = \" 5\"", "option 'timeout': invalid value ' 5'"},
        {"timeout = 99999999999999999999", "option 'timeout': invalid value "
                                           "'99999999999999999999': must be at most"},
        {"lock_retries = -5", "option 'lock_retries': invalid value '-5'"},
        {"lock_retries = 2147483648", "option 'lock_retries': invalid value '2147483648': must "
                                      "be at most 2147483647"},
        {"lock_retry_max = \"+3\"", "option 'lock_retry_max': invalid value '+3'"},
        {"copies_per_storage = 0", "option 'copies_per_storage': invalid value '0': must be at "
                                   "least 1"},
        {"copies_per_storage = 65", "option 'copies_per_storage': invalid value '65': must be "
                                    "at most 64"},
        {"hook_storage = x", "option 'hook_storage': storage ID 'x' cannot be shorter than 2 "
                             "characters"},
        {"hook_storage = \"1abc\"", "option 'hook_storage': storage ID '1abc' contains illegal "
                                    "characters"},
        {"hook_name = \"a/b\"", "option 'hook_name': invalid file name 'a/b'"},
        {"hook_name = \"\"", "option 'hook_name': invalid file name ''"},
        {"hook_name = ..", "option 'hook_name': invalid file name '..'"},
        {"hook_refuse_vmids = {\"100\",\n \"99\"}", "<string>:2: option 'hook_refuse_vmids': "
                                                    "invalid VMID or range '99'"},
        {"hook_refuse_vmids = {\"200-100\"}", "option 'hook_refuse_vmids': invalid VMID range "
                                              "'200-100'"},
        {"hook_refuse_vmids = 0100", "invalid VMID or range '0100'"},
        {"template_types = {Dir}", "option 'template_types': invalid storage type 'Dir'"},
        {"template_types = {\"\"}", "option 'template_types': invalid storage type ''"},
        {"hook_refuse_tags = {\"a b\"}", "option 'hook_refuse_tags': invalid tag 'a b'"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        const char *d = load_fail(v[i].text);
        ck_assert_msg(strstr(d, v[i].want), "%s\n got: %s\nwant: %s", v[i].text, d, v[i].want);
        ck_assert_msg(!strncmp(d, "<string>:", 9), "no location: %s", d);
    }
}
END_TEST

START_TEST(bad_types_and_syntax)
{
    ck_assert_str_eq(load_fail("hook = maybe\n"),
                     "<string>:1: invalid boolean value for option 'hook'");
    ck_assert_str_eq(load_fail("timeout = {1, 2}\n"), "<string>:1: unexpected token '{'");
    ck_assert_str_eq(load_fail("qm = {\"/a\"}\n"), "<string>:1: unexpected token '{'");
    ck_assert_str_eq(load_fail("qm /usr/sbin/qm\n"),
                     "<string>:1: missing equal sign after option 'qm'");
    ck_assert_str_eq(load_fail("timeout += 1\n"),
                     "<string>:1: attempt to append to non-list option 'timeout'");
    ck_assert_ptr_nonnull(strstr(load_fail("qm =\n"), "premature end of file"));
    ck_assert_ptr_nonnull(strstr(load_fail("template_types = {dir,\n"), "<string>:"));
}
END_TEST

START_TEST(bom_refused)
{
    /* libconfuse would read it as part of the first key. */
    ck_assert_str_eq(load_fail("\xEF\xBB\xBFtimeout = 1\n"),
                     "<string>:1: starts with a UTF-8 byte order mark: save the file without one");
}
END_TEST

START_TEST(unterminated)
{
    ck_assert_str_eq(load_fail("\nqm = \"/usr/sbin/qm\n\n"), "<string>:2: unterminated string");
    ck_assert_str_eq(load_fail("qm = '/usr\\'\n"), "<string>:1: unterminated string");
    ck_assert_str_eq(load_fail("qm = /a\n/* open\n"), "<string>:2: unterminated comment");
    /* The lexer is usable afterwards (its state is never left in a string). */
    struct conf c = {0};
    load_ok("qm = /b\n", &c);
    ck_assert_str_eq(c.qm, "/b");
    conf_release(&c);
}
END_TEST

/* libconfuse 3.3 miscounts lines after comments; the scan hides them. */
START_TEST(comments_do_not_shift_lines)
{
    ck_assert_str_eq(load_fail("# a\n## b\n// c\n/* d\n e */\nqm = /a # f\n\nbogus = 1\n"),
                     "<string>:8: no such option 'bogus'");
    ck_assert_str_eq(load_fail("qm = \"/a\\\nb\" # x\nhook_name = 'c\\\nd'\ntimeout = x\n"),
                     "<string>:5: option 'timeout': invalid value 'x': must be a non-negative "
                     "integer with no sign, spaces or leading zeros");
}
END_TEST

START_TEST(comment_markers_inside_values)
{
    struct conf c = {0};
    load_ok("qm = /usr//sbin/qm // trailing\n"
            "pvesm = /opt/pvesm#comment\n"
            "vmlist = \"/a#b//c/*d*/\"\n"
            "node = 'n' /* x */\n",
            &c);
    ck_assert_str_eq(c.qm, "/usr//sbin/qm");
    ck_assert_str_eq(c.pvesm, "/opt/pvesm");
    ck_assert_str_eq(c.vmlist, "/a#b//c/*d*/");
    ck_assert_str_eq(c.node, "n");
    conf_release(&c);
}
END_TEST

#define DOLLAR                                                                                     \
    "'${' is not allowed here: environment variables are not expanded (put a literal '${' in "     \
    "single quotes)"

START_TEST(env_is_not_read)
{
    ck_assert_int_eq(setenv("PVETMPL_TEST_WORD", "leaked", 1), 0);
    ck_assert_int_eq(setenv("PVETMPL_TEST_PATH", "/leaked/qm", 1), 0);
    char **before = environ;
    /* Double quotes and bare words would be expanded by libconfuse: refused,
     * with the line, and the environment's value appears nowhere. */
    const char *d = load_fail("qm = \"${PVETMPL_TEST_PATH}\"\n");
    ck_assert_str_eq(d, "<string>:1: " DOLLAR);
    ck_assert_ptr_null(strstr(d, "leaked"));
    ck_assert_str_eq(load_fail("# ok\n\nnode = ${PVETMPL_TEST_WORD}\n"), "<string>:3: " DOLLAR);
    ck_assert_str_eq(load_fail("hook_name = ${PVETMPL_TEST_WORD:-x}\n"), "<string>:1: " DOLLAR);
    ck_assert_str_eq(load_fail("qm = \"/usr${HOME}/qm\"\n"), "<string>:1: " DOLLAR);
    ck_assert_str_eq(load_fail("template_types = {\"a\",\n\"${X}\"}\n"), "<string>:2: " DOLLAR);

    /* Single quotes, an escaped '$' and comments keep it as plain text. */
    struct conf c = {0};
    load_ok("# ${PVETMPL_TEST_WORD}\n"
            "hook_binary = '/x/${PVETMPL_TEST_PATH}' // ${HOME}\n"
            "qm = \"/y/\\${PVETMPL_TEST_PATH}\"\n",
            &c);
    ck_assert_str_eq(c.hook_binary, "/x/${PVETMPL_TEST_PATH}");
    ck_assert_str_eq(c.qm, "/y/${PVETMPL_TEST_PATH}");
    conf_release(&c);

    /* The environment is back, unchanged. */
    ck_assert_ptr_eq(environ, before);
    ck_assert_str_eq(getenv("PVETMPL_TEST_WORD"), "leaked");
    ck_assert_str_eq(getenv("PVETMPL_TEST_PATH"), "/leaked/qm");
    unsetenv("PVETMPL_TEST_WORD");
    unsetenv("PVETMPL_TEST_PATH");
}
END_TEST

#define STAR                                                                                       \
    "'*' outside quotes is not allowed: libconfuse would drop it without a word (write "           \
    "\"tmpl-*\" or \"*\" in quotes)"

/* libconfuse's lexer eats an unquoted '*' without a word: {tmpl-*} would
 * read as {"tmpl-"}, a path would lose a character. Refused, with the line. */
START_TEST(unquoted_star_refused)
{
    ck_assert_str_eq(load_fail("grant g {\n users = {u}\n actions = {clone}\n"
                               " source_vmids = {100}\n target_vmids = {9000}\n"
                               " names = {tmpl-*}\n}\n"),
                     "<string>:6: " STAR);
    ck_assert_str_eq(load_fail("grant g { users = {u} actions = {storages}\n"
                               "storages = {\"a1\",\n *} }\n"),
                     "<string>:3: " STAR);
    ck_assert_str_eq(load_fail("qm = /usr/sbin/q*m\n"), "<string>:1: " STAR);
    ck_assert_str_eq(load_fail("# a\n*\n"), "<string>:2: " STAR);
    ck_assert_str_eq(load_fail("hook_refuse_tags = *\n"), "<string>:1: " STAR);
    /* In quotes and in comments it is text. */
    struct conf c = {0};
    load_ok("/* a * b */ # *\n// *\n"
            "grant g { users = {u} actions = {storages} storages = {\"*\"}\n"
            "  names = {'tmpl-*', \"*.x\"} }\n",
            &c);
    ck_assert_uint_eq(c.n_grants, 1);
    static const char *const st[] = {"*", NULL};
    static const char *const names[] = {"tmpl-*", "*.x", NULL};
    assert_list(&c.grants[0].storages, st);
    assert_list(&c.grants[0].names, names);
    conf_release(&c);
}
END_TEST

START_TEST(failure_leaves_ret_alone)
{
    char sentinel[] = "sentinel";
    struct conf c = {.qm = sentinel, .timeout = 77};
    struct err e = {0};
    ck_assert_int_eq(conf_load_string("timeout = 5\nbogus = 1\n", &c, &e), -1);
    ck_assert_ptr_eq(c.qm, sentinel);
    ck_assert_int_eq(c.timeout, 77);
}
END_TEST

START_TEST(shipped_conf_is_defaults)
{
    struct conf c = {0};
    struct err e = {0};
    ck_assert_msg(conf_load_file(SHIPPED, true, &c, &e) == 0, "%s", e.detail);
    assert_defaults(&c);
    conf_release(&c);
}
END_TEST

/* Uncommenting every "#key = value" line of the shipped file must give the
 * defaults again: the file documents the true values. */
START_TEST(shipped_conf_documents_defaults)
{
    FILE *f = fopen(SHIPPED, "r");
    ck_assert_ptr_nonnull(f);
    char line[512], *text = NULL;
    size_t len = 0, keys = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    while (fgets(line, sizeof(line), f)) {
        size_t k = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_");
        if (line[0] == '#' && k > 0 && !strncmp(line + 1 + k, " = ", 3)) {
            fputs(line + 1, out);
            keys++;
        }
    }
    fclose(f);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_uint_eq(keys, 19);
    struct conf c = {0};
    load_ok(text, &c);
    /* The file shows the Debian package's path; a build may move it. */
    ck_assert_str_eq(c.hook_binary, "/usr/libexec/pvetmpl/pvetmpl-hook");
    free(c.hook_binary);
    c.hook_binary = strdup(HOOK_BINARY);
    assert_defaults(&c);
    conf_release(&c);
    free(text);
}
END_TEST

START_TEST(file_errors_carry_path_and_line)
{
    const char *p = tmp_path("a.conf");
    char want[256];
    struct conf c = {0};
    struct err e = {0};
    write_file(p, "# comment\ntimeout = 30\nbogus = 1\n", 0644);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_int_eq(e.cls, ERR_CONFIG);
    snprintf(want, sizeof(want), "%s:3: no such option 'bogus'", p);
    ck_assert_str_eq(e.detail, want);

    write_file(p, "\ntimeout = abc\n", 0600);
    ck_assert_int_eq(conf_load_file(p, false, &c, &e), -1);
    snprintf(want, sizeof(want), "%s:2: option 'timeout': invalid value 'abc'", p);
    ck_assert_msg(!strncmp(e.detail, want, strlen(want)), "%s", e.detail);

    write_file(p, "timeout = 30\n", 0644);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), 0);
    ck_assert_int_eq(c.timeout, 30);
    conf_release(&c);
    cleanup_dir();
}
END_TEST

START_TEST(missing_file)
{
    const char *p = "/nonexistent/pvetmpl/pvetmpl.conf";
    struct conf c = {0};
    struct err e = {0};
    ck_assert_int_eq(conf_load_file(p, false, &c, &e), 0);
    assert_defaults(&c);
    conf_release(&c);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_int_eq(e.cls, ERR_CONFIG);
    ck_assert_str_eq(e.detail, "cannot open '/nonexistent/pvetmpl/pvetmpl.conf': No such file "
                               "or directory");
    ck_assert_ptr_null(c.qm);
}
END_TEST

START_TEST(unsafe_files_refused)
{
    struct conf c = {0};
    struct err e = {0};
    ck_assert_int_eq(conf_load_file("/", true, &c, &e), -1);
    ck_assert_str_eq(e.detail, "'/' is not a regular file");
    ck_assert_int_eq(conf_load_file("/", false, &c, &e), -1);

    /* A FIFO must be refused, not waited on. */
    const char *p = tmp_path("fifo");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.detail, "is not a regular file"));

    p = tmp_path("a.conf");
    write_file(p, "timeout = 1\n", 0666);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_int_eq(e.cls, ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.detail, "is writable by everyone"));
    ck_assert_ptr_null(c.qm);
    /* Group-writable too: the file names programs root runs. */
    ck_assert_int_eq(chmod(p, 0664), 0);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_str_eq(strstr(e.detail, "is writable"), "is writable by its group: refusing it");
    ck_assert_ptr_null(c.qm);

    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fwrite("qm = /a\0\nbogus = 1\n", 1, 19, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(p, 0644), 0);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.detail, "contains a NUL byte"));

    /* Over 1 MiB (of blanks, otherwise valid) is refused. */
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 1024 * 1024 + 1; i++) {
        fputc(' ', f);
    }
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(conf_load_file(p, true, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.detail, "is larger than 1048576 bytes"));
    ck_assert_ptr_null(c.qm);
    cleanup_dir();
}
END_TEST

/* The hook's lookup: "<hook>.conf" when safe, else the default path;
 * never the environment. */
START_TEST(hook_lookup)
{
    struct conf_hook h = {0};
    struct err e = {0};
    char hook[128], side[160];
    snprintf(hook, sizeof(hook), "%s", tmp_path("hook"));
    snprintf(side, sizeof(side), "%s.conf", hook);

    setenv("PVETMPL_CONFIG", side, 1);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, CONF_DEFAULT_PATH);
    ck_assert_ptr_null(h.skipped);
    ck_assert(!h.fail_closed);
    conf_hook_release(&h);

    write_file(side, "hook_refuse_vmids = {\"\\067\\067\\067\"}\n", 0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, side);
    ck_assert(h.found);
    ck_assert_ptr_null(h.error);
    const char *const v777[] = {"777", NULL};
    assert_list(&h.conf.hook_refuse_vmids, v777);
    conf_hook_release(&h);
    /* Only by an absolute path: a relative one depends on the caller's cwd. */
    ck_assert_int_eq(conf_hook_load("hook", &h, &e), 0);
    ck_assert_str_eq(h.path, CONF_DEFAULT_PATH);
    conf_hook_release(&h);

    /* Writable by others with a policy in it: fail closed, as the default
     * path would; without one: passed over, and said why. */
    ck_assert_int_eq(chmod(side, 0620), 0);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, side);
    ck_assert_ptr_null(h.skipped);
    ck_assert_ptr_nonnull(strstr(h.error, "is writable by its group"));
    ck_assert(h.fail_closed);
    ck_assert_uint_eq(h.conf.hook_refuse_vmids.n, 0);
    conf_hook_release(&h);
    write_file(side, "timeout = 1\n", 0620);
    ck_assert_int_eq(chmod(side, 0620), 0);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, CONF_DEFAULT_PATH);
    ck_assert_ptr_nonnull(h.skipped);
    ck_assert_ptr_nonnull(strstr(h.skipped, "is writable by its group"));
    ck_assert(!h.fail_closed);
    conf_hook_release(&h);
    unsetenv("PVETMPL_CONFIG");

    /* Unreadable with a policy in it: fail closed; the defaults otherwise. */
    write_file(side, "hook_refuse_tags = {\"a b\"}\n", 0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, side);
    ck_assert_ptr_nonnull(h.error);
    ck_assert(h.fail_closed);
    ck_assert_str_eq(h.conf.pve_dir, "/etc/pve");
    ck_assert_uint_eq(h.conf.hook_refuse_tags.n, 0);
    conf_hook_release(&h);
    write_file(side, "# hook_refuse_tags = {x}\n/* hook_refuse_vmids */ bogus = 1\n", 0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_ptr_nonnull(strstr(h.error, "no such option 'bogus'"));
    ck_assert(!h.fail_closed);
    conf_hook_release(&h);
    /* Even past a '${' error the comments are told from the keys. */
    write_file(side, "node = \"${X}\"\nhook_refuse_vmids = {100}\n", 0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_ptr_nonnull(strstr(h.error, "'${' is not allowed"));
    ck_assert(h.fail_closed);
    conf_hook_release(&h);
    /* Policy keys no text search finds: libconfuse's own reading of the
     * file (an escaped key beside a bad value), a syntax error before a
     * backslash, an unclosed comment or a bad escape: fail closed. */
    static const char *const hidden[] = {
        "\"hook\\x5frefuse_vmids\" = {777}\ntimeout = -1\n",
        "\"hook_\\162efuse_tags\" += x\nnode = \"-\"\n",
        "timeout 5 6\n\"hook\\x5frefuse_vmids\" = {777}\n",
        "/* timeout = 5\nhook_refuse_vmids = {777}\n",
        "node = \"\\9\"\n",
    };
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        write_file(side, hidden[i], 0644);
        ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
        ck_assert_msg(h.error && h.fail_closed, "text %zu", i);
        conf_hook_release(&h);
    }
    /* Escapes in values, no policy key: libconfuse's reading says none. */
    write_file(side, "hook_name = \"\\x70vetmpl\"\ntimeout = -1\n", 0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_ptr_nonnull(h.error);
    ck_assert(!h.fail_closed);
    conf_hook_release(&h);
    /* An existing file that cannot be read may hold a policy (reading
     * /proc/self/mem at offset 0 fails with EIO). */
    unlink(side);
    ck_assert_int_eq(symlink("/proc/self/mem", side), 0);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, side);
    ck_assert_ptr_nonnull(strstr(h.error, "Input/output error"));
    ck_assert(h.fail_closed);
    conf_hook_release(&h);
    unlink(side);
    /* A FIFO is no config, and never waited on. */
    unlink(side);
    ck_assert_int_eq(mkfifo(side, 0600), 0);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, CONF_DEFAULT_PATH);
    ck_assert_ptr_nonnull(strstr(h.skipped, "is not a regular file"));
    conf_hook_release(&h);
    unlink(side);
    cleanup_dir();
}
END_TEST

/* ---- the grant sections (sudo delegation) ---- */

START_TEST(grant_every_key)
{
    static const char text[] =
        "# the worked example of pvetmpl.conf(5), and every other key\n"
        "grant \"ops-templates\" {\n"
        "    groups       = {\"ops\"}\n"
        "    actions      = {\"make-template\", \"check\", \"storages\"}\n"
        "    source_vmids = {\"100-8999\"}\n"
        "    target_vmids = {\"9000-9999\"}\n"
        "    storages     = {\"local-lvm\"}\n"
        "}\n"
        "grant ci.build_2 {\n"
        "    users = {ci, \"build$\", \"jo@example.org\"}\n"
        "    groups = {wheel}\n"
        "    groups += {ops}\n"
        "    actions = {make-template, clone, template, check, storages, list, audit,\n"
        "               hook-install, hook-remove, hook-status}\n"
        "    source_vmids = {100, \"200-299\"}\n"
        "    target_vmids = {\"9000-9099\"}\n"
        "    storages = {local-lvm, \"*\"}\n"
        "    pools = {templates, \"a/b/c\", \"*\"}\n"
        "    names = {\"tmpl-*\", \"base-[0-9]?\", \"x\\\\*\"}\n"
        "    formats = {raw, qcow2, vmdk}\n"
        "    target_nodes = {pve2, \"*\"}\n"
        "    hook_storages = {local}\n"
        "    allow_linked = true\n"
        "    allow_replace_hook = yes\n"
        "    allow_no_hook = on\n"
        "    allow_same_storage = true\n"
        "    allow_description = true\n"
        "    allow_bwlimit = true\n"
        "    allow_snapname = true\n"
        "    allow_disk = true\n"
        "    allow_journal_files = true\n"
        "}\n"
        "timeout = 5\n";
    static const char *const ops[] = {"ops", NULL};
    static const char *const r1[] = {"100-8999", NULL};
    static const char *const r2[] = {"9000-9999", NULL};
    static const char *const lvm[] = {"local-lvm", NULL};
    static const char *const users[] = {"ci", "build$", "jo@example.org", NULL};
    static const char *const groups[] = {"wheel", "ops", NULL};
    static const char *const src[] = {"100", "200-299", NULL};
    static const char *const tgt[] = {"9000-9099", NULL};
    static const char *const st[] = {"local-lvm", "*", NULL};
    static const char *const pools[] = {"templates", "a/b/c", "*", NULL};
    static const char *const names[] = {"tmpl-*", "base-[0-9]?", "x\\*", NULL};
    static const char *const formats[] = {"raw", "qcow2", "vmdk", NULL};
    static const char *const nodes[] = {"pve2", "*", NULL};
    static const char *const local[] = {"local", NULL};
    struct conf c = {0};
    load_ok(text, &c);
    ck_assert_int_eq(c.timeout, 5);
    ck_assert_uint_eq(c.n_grants, 2);
    const struct conf_grant *g = &c.grants[0];
    ck_assert_str_eq(g->name, "ops-templates");
    assert_list(&g->users, none);
    assert_list(&g->groups, ops);
    ck_assert_uint_eq(g->actions, 1u << ACTION_GRANT_MAKE_TEMPLATE | 1u << ACTION_GRANT_CHECK |
                                      1u << ACTION_GRANT_STORAGES);
    assert_list(&g->source_vmids, r1);
    assert_list(&g->target_vmids, r2);
    assert_list(&g->storages, lvm);
    /* What the example does not mention it does not allow. */
    assert_list(&g->pools, none);
    assert_list(&g->names, none);
    assert_list(&g->formats, none);
    assert_list(&g->target_nodes, none);
    assert_list(&g->hook_storages, none);
    ck_assert(!g->allow_linked && !g->allow_replace_hook && !g->allow_no_hook);
    ck_assert(!g->allow_same_storage && !g->allow_description && !g->allow_bwlimit);
    ck_assert(!g->allow_snapname && !g->allow_disk && !g->allow_journal_files);

    g = &c.grants[1];
    ck_assert_str_eq(g->name, "ci.build_2");
    assert_list(&g->users, users);
    assert_list(&g->groups, groups);
    ck_assert_uint_eq(g->actions, (1u << ACTION_GRANT_MAX) - 1);
    assert_list(&g->source_vmids, src);
    assert_list(&g->target_vmids, tgt);
    assert_list(&g->storages, st);
    assert_list(&g->pools, pools);
    assert_list(&g->names, names);
    assert_list(&g->formats, formats);
    assert_list(&g->target_nodes, nodes);
    assert_list(&g->hook_storages, local);
    ck_assert(g->allow_linked && g->allow_replace_hook && g->allow_no_hook);
    ck_assert(g->allow_same_storage && g->allow_description && g->allow_bwlimit);
    ck_assert(g->allow_snapname && g->allow_disk && g->allow_journal_files);
    conf_release(&c);
    ck_assert_ptr_null(c.grants);
    ck_assert_uint_eq(c.n_grants, 0);
}
END_TEST

START_TEST(grant_action_names)
{
    static const char *const want[ACTION_GRANT_MAX] = {
        "make-template", "clone", "template",     "check",       "storages",
        "list",          "audit", "hook-install", "hook-remove", "hook-status"};
    for (int a = 0; a < ACTION_GRANT_MAX; a++) {
        ck_assert_str_eq(action_grant_name((enum action_grant)a), want[a]);
    }
    ck_assert_ptr_null(action_grant_name(ACTION_GRANT_MAX));
}
END_TEST

/* Every mistake in a grant names the file, the line and the problem. */
START_TEST(grant_errors)
{
#define G(body) "grant g {\n users = {u}\n actions = {storages}\n" body "}\n"
#define X64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    static const struct {
        const char *text, *want;
    } v[] = {
        {G(" bogus = 1\n"), "<string>:4: no such option 'bogus'"},
        {G(" Users = {x}\n"), "<string>:4: no such option 'Users'"},
        {G(" actions = {storages, \"hook install\"}\n"),
         "<string>:4: option 'actions': unknown action 'hook install': one of make-template, "
         "clone, template, check, storages, list, audit, hook-install, hook-remove, hook-status"},
        {G(" actions = {Clone}\n"), "<string>:4: option 'actions': unknown action 'Clone'"},
        {G(" actions = {hook}\n"), "<string>:4: option 'actions': unknown action 'hook'"},
        /* values quoted as every message quotes one (validate_quote): control
         * characters escaped, a long value cut with "..." */
        {G(" actions = {\"a\\tb\"}\n"), "<string>:4: option 'actions': unknown action 'a\\x09b'"},
        {G(" users = {\"" X64 "x!\"}\n"),
         "<string>:4: option 'users': invalid user or group name '" X64 "...': "},
        {G(" names = {\"a\\tb\"}\n"), "<string>:4: option 'names': invalid name pattern 'a\\x09b'"},
        {"grant \"a\\tb\" {\n users = {u}\n actions = {storages}\n}\n",
         "<string>:4: grant 'a\\x09b' (ending on this line): invalid name"},
        {G(" users = {\"-x\"}\n"),
         "<string>:4: option 'users': invalid user or group name '-x': letters, digits, '.', "
         "'_', '-', '@' and a final '$', not starting with '-', at most 256"},
        {G(" users = {\"a b\"}\n"), "<string>:4: option 'users': invalid user or group name 'a b'"},
        {G(" users = {\"\"}\n"), "<string>:4: option 'users': invalid user or group name ''"},
        {G(" groups = {\"a$b\"}\n"), "<string>:4: option 'groups': invalid user or group name"},
        {G(" groups = {\"*\"}\n"), "<string>:4: option 'groups': invalid user or group name '*'"},
        {G(" source_vmids = {99}\n"),
         "<string>:4: option 'source_vmids': invalid VMID or range '99'"},
        {G(" target_vmids = {\"9999-9000\"}\n"),
         "<string>:4: option 'target_vmids': invalid VMID range '9999-9000'"},
        {G(" target_vmids = {\"*\"}\n"), "<string>:4: option 'target_vmids': invalid VMID"},
        {G(" storages = {\"local lvm\"}\n"),
         "<string>:4: option 'storages': storage ID 'local lvm' contains illegal characters"},
        {G(" storages = {\"l*\"}\n"), "<string>:4: option 'storages': storage ID 'l*'"},
        {G(" hook_storages = {x}\n"),
         "<string>:4: option 'hook_storages': storage ID 'x' cannot be shorter than 2"},
        {G(" pools = {\"a/b/c/d\"}\n"), "<string>:4: option 'pools': "},
        {G(" formats = {qcow}\n"), "<string>:4: option 'formats': "},
        {G(" target_nodes = {\"pve_2\"}\n"),
         "<string>:4: option 'target_nodes': invalid node name 'pve_2'"},
        {G(" names = {\"tmpl_*\"}\n"),
         "<string>:4: option 'names': invalid name pattern 'tmpl_*': VM names have letters, "
         "digits, '-' and '.'; a pattern adds '*', '?', '[...]' and '\\' (at most 128 "
         "characters)"},
        {G(" names = {\"\"}\n"), "<string>:4: option 'names': invalid name pattern ''"},
        {G(" names = {\"a b*\"}\n"), "<string>:4: option 'names': invalid name pattern 'a b*'"},
        {G(" allow_linked = maybe\n"),
         "<string>:4: invalid boolean value for option 'allow_linked'"},
        {G(" allow_target = true\n"), "<string>:4: no such option 'allow_target'"},
        {G(" storages = local-lvm\n pools += \"x y\"\n"), "<string>:5: option 'pools': "},
        {"grant {\n users = {u}\n}\n", "<string>:1: missing title for section 'grant'"},
        {"grant \"\" {\n users = {u}\n actions = {storages}\n}\n",
         "<string>:4: grant '' (ending on this line): invalid name: letters, digits, '.', '_' and "
         "'-', starting with a letter or digit, at most 64"},
        {"grant \"-g\" {\n users = {u}\n actions = {storages}\n}\n",
         "<string>:4: grant '-g' (ending on this line): invalid name"},
        {"grant \"a b\" {\n users = {u}\n actions = {storages}\n}\n",
         "<string>:4: grant 'a b' (ending on this line): invalid name"},
        {"grant g {\n actions = {storages}\n}\n",
         "<string>:3: grant 'g' (ending on this line) names no caller: set users or groups"},
        {"grant g {\n users = {}\n groups = {}\n actions = {storages}\n}\n",
         "<string>:5: grant 'g' (ending on this line) names no caller"},
        {"grant g {\n users = {u}\n}\n",
         "<string>:3: grant 'g' (ending on this line) allows no action: set actions"},
        {"grant g {\n users = {u}\n actions = {make-template}\n target_vmids = {9000}\n}\n",
         "<string>:5: grant 'g' (ending on this line) allows make-template but sets no "
         "source_vmids: it could never allow one"},
        {"grant g {\n users = {u}\n actions = {clone}\n source_vmids = {100}\n}\n",
         "<string>:5: grant 'g' (ending on this line) allows clone but sets no target_vmids"},
        {"grant g {\n users = {u}\n actions = {template}\n source_vmids = {100}\n}\n",
         "<string>:5: grant 'g' (ending on this line) allows template but sets no target_vmids"},
        {"grant g {\n users = {u}\n actions = {storages, check}\n}\n",
         "<string>:4: grant 'g' (ending on this line) allows check but sets no source_vmids"},
        {"grant g {\n users = {u}\n actions = {hook-install}\n source_vmids = {100}\n}\n",
         "<string>:5: grant 'g' (ending on this line) allows hook-install but sets no "
         "target_vmids"},
        {"grant g {\n users = {u}\n actions = {hook-remove}\n}\n",
         "<string>:4: grant 'g' (ending on this line) allows hook-remove but sets no "
         "target_vmids"},
        {G("") G(""), "<string>:5: found duplicate title 'g'"},
        {"grant g users = {u}\n", "<string>:1: missing opening brace for section 'grant'"},
        {"grant = {x}\n", "<string>:1: missing title for section 'grant'"},
        {"users = {u}\n", "<string>:1: no such option 'users'"},
        {"# ${X} in a comment is fine\n" G(" names = {\"${X}\"}\n"), "<string>:5: " DOLLAR},
        {G(" source_vmids = {100}\n") "grant h {\n users = {u}\n actions = {check}\n}\n",
         "<string>:9: grant 'h' (ending on this line) allows check but sets no source_vmids"},
    };
#undef G
#undef X64
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        const char *d = load_fail(v[i].text);
        ck_assert_msg(!strncmp(d, v[i].want, strlen(v[i].want)), "%s\n got: %s\nwant: %s",
                      v[i].text, d, v[i].want);
    }
}
END_TEST

/* The smallest grants that load: an action that needs no VMIDs, and one
 * whose VMID list is given. */
START_TEST(grant_minimal)
{
    struct conf c = {0};
    load_ok("grant a { users = {u} actions = {storages} }\n"
            "grant b { groups = {g} actions = {hook-status} target_vmids = {100} }\n"
            "grant c { users = {u} actions = {hook-status} source_vmids = {100} }\n"
            "grant d { users = {u} actions = {audit, list} }\n",
            &c);
    ck_assert_uint_eq(c.n_grants, 4);
    ck_assert_str_eq(c.grants[3].name, "d");
    ck_assert_uint_eq(c.grants[3].actions, 1u << ACTION_GRANT_AUDIT | 1u << ACTION_GRANT_LIST);
    conf_release(&c);
}
END_TEST

/* One reader: the hook loads a config with grants as the wrapper does, and
 * a mistake in a grant is a mistake in the file (it fails closed when the
 * file also sets a refusal policy). */
START_TEST(hook_reads_grants)
{
    struct conf_hook h = {0};
    struct err e = {0};
    char hook[128], side[160];
    snprintf(hook, sizeof(hook), "%s", tmp_path("hook"));
    snprintf(side, sizeof(side), "%s.conf", hook);
    const char *const v777[] = {"777", NULL};

    write_file(side,
               "grant ops { groups = {ops} actions = {make-template}\n"
               "  source_vmids = {\"100-8999\"} target_vmids = {\"9000-9999\"} }\n"
               "hook_refuse_vmids = {777}\n",
               0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_str_eq(h.path, side);
    ck_assert_ptr_null(h.error);
    ck_assert(!h.fail_closed);
    assert_list(&h.conf.hook_refuse_vmids, v777);
    ck_assert_uint_eq(h.conf.n_grants, 1);
    conf_hook_release(&h);

    write_file(side, "grant ops { groups = {ops} actions = {clone} }\nhook_refuse_vmids = {777}\n",
               0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_ptr_nonnull(h.error);
    ck_assert_ptr_nonnull(strstr(h.error, "grant 'ops' (ending on this line) allows clone"));
    ck_assert(h.fail_closed);
    conf_hook_release(&h);

    write_file(side, "grant ops { groups = {ops} actions = {clone} }\ntimeout = 5\n", 0644);
    ck_assert_int_eq(conf_hook_load(hook, &h, &e), 0);
    ck_assert_ptr_nonnull(h.error);
    ck_assert(!h.fail_closed);
    conf_hook_release(&h);
    unlink(side);
    cleanup_dir();
}
END_TEST

START_TEST(release_is_safe)
{
    struct conf c;
    memset(&c, 0, sizeof(c));
    conf_release(&c);
    conf_release(&c);
    conf_release(NULL);
    load_ok("hook_refuse_tags = {a}", &c);
    conf_release(&c);
    ck_assert_ptr_null(c.qm);
    ck_assert_ptr_null(c.hook_refuse_tags.v);
    conf_release(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("conf");
    tcase_add_test(tc, defaults_from_empty_text);
    tcase_add_test(tc, every_key);
    tcase_add_test(tc, list_forms_and_booleans);
    tcase_add_test(tc, unknown_key_names_line);
    tcase_add_test(tc, validation_failures);
    tcase_add_test(tc, bad_types_and_syntax);
    tcase_add_test(tc, env_is_not_read);
    tcase_add_test(tc, failure_leaves_ret_alone);
    tcase_add_test(tc, shipped_conf_is_defaults);
    tcase_add_test(tc, shipped_conf_documents_defaults);
    tcase_add_test(tc, file_errors_carry_path_and_line);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, unsafe_files_refused);
    tcase_add_test(tc, release_is_safe);
    tcase_add_test(tc, bom_refused);
    tcase_add_test(tc, hook_lookup);
    tcase_add_test(tc, unterminated);
    tcase_add_test(tc, comments_do_not_shift_lines);
    tcase_add_test(tc, comment_markers_inside_values);
    tcase_add_test(tc, unquoted_star_refused);
    tcase_add_test(tc, grant_every_key);
    tcase_add_test(tc, grant_action_names);
    tcase_add_test(tc, grant_errors);
    tcase_add_test(tc, grant_minimal);
    tcase_add_test(tc, hook_reads_grants);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
