/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of node_read_config_file: another node's VM config read from
 * <pve_dir>/nodes/<node>/qemu-server/<vmid>.conf with the one raw-file reader
 * (its parsing is tested on fixtures in test-qm and t010), and each way the
 * file can fail to be read: missing, not a regular file, larger than pmxcfs
 * holds. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "node.h"
#include "qm.h"
#include "unit.h"

static char dir[64];
static char cfdir[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pvetmpl-test-node.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof(p), "%s/nodes", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/nodes/pve2", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(cfdir, sizeof(cfdir), "%s/nodes/pve2/qemu-server", dir);
    ck_assert_int_eq(mkdir(cfdir, 0755), 0);
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_conf(uint32_t vmid, const char *text, size_t pad)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%u.conf", cfdir, (unsigned)vmid);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    for (size_t i = 0; i < pad; i++) {
        fputc(i % 64 == 63 ? '\n' : '#', f);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static int read_conf(uint32_t vmid, struct qm_config *cf, struct err *e)
{
    struct conf c = {.pve_dir = dir};
    *e = (struct err){0};
    return node_read_config_file(&c, "pve2", vmid, cf, e);
}

START_TEST(main_section)
{
    write_conf(9100,
               "#a template\nname: t\ntemplate: 1\nscsi0: local-lvm:base-9100-disk-0,size=8G\n"
               "\n[PENDING]\ntemplate: 0\n\n[snap]\nname: old\n",
               0);
    struct qm_config cf;
    struct err e;
    ck_assert_int_eq(read_conf(9100, &cf, &e), 0);
    ck_assert_str_eq(cf.name, "t");
    ck_assert(cf.template);
    ck_assert_uint_eq(cf.n_disks, 1);
    ck_assert(cf.disks[0].base);
    ck_assert_uint_eq(cf.n_kv, 3);
    qm_config_release(&cf);
}
END_TEST

START_TEST(exactly_the_limit)
{
    /* 1 MiB is still whole (pmxcfs holds it). */
    const char *head = "name: big\n";
    write_conf(9101, head, QM_CONF_FILE_MAX - strlen(head));
    struct qm_config cf;
    struct err e;
    ck_assert_int_eq(read_conf(9101, &cf, &e), 0);
    ck_assert_str_eq(cf.name, "big");
    qm_config_release(&cf);
}
END_TEST

START_TEST(failures)
{
    struct qm_config cf;
    struct err e;
    ck_assert_int_eq(read_conf(9102, &cf, &e), -1);
    ck_assert_int_eq(e.cls, ERR_PRECONDITION);
    ck_assert_msg(strstr(e.detail, "9102.conf") && strstr(e.detail, "No such file"), "%s",
                  e.detail);

    char p[256];
    snprintf(p, sizeof(p), "%s/9103.conf", cfdir);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    ck_assert_int_eq(read_conf(9103, &cf, &e), -1); /* and does not hang */
    ck_assert_int_eq(e.cls, ERR_PRECONDITION);
    ck_assert_msg(strstr(e.detail, "not a regular file"), "%s", e.detail);

    const char *head = "name: big\n";
    write_conf(9104, head, QM_CONF_FILE_MAX - strlen(head) + 1);
    ck_assert_int_eq(read_conf(9104, &cf, &e), -1);
    ck_assert_int_eq(e.cls, ERR_BAD_OUTPUT);
    ck_assert_msg(strstr(e.detail, "9104.conf") && strstr(e.detail, "larger than 1048576 bytes"),
                  "%s", e.detail);
}
END_TEST

static Suite *node_suite(void)
{
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("config-file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, main_section);
    tcase_add_test(tc, exactly_the_limit);
    tcase_add_test(tc, failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(node_suite());
}
