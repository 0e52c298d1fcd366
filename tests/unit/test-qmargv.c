/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The exact argv pvetmpl runs (or prints in a dry run), and the progress bar. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "qmargv.h"
#include "unit.h"

static char *joined(struct strv *sv)
{
    char *s = strv_join_quoted(strv_argv(sv));
    strv_release(sv);
    return s;
}

#define ASSERT_ARGV(call, want)                                                                    \
    do {                                                                                           \
        struct strv sv_ = STRV_INIT;                                                               \
        ck_assert_int_eq(call, 0);                                                                 \
        char *got_ = joined(&sv_);                                                                 \
        ck_assert_str_eq(got_, want);                                                              \
        free(got_);                                                                                \
    } while (0)

START_TEST(clone_minimal_is_explicit_about_full)
{
    struct clone_req q = {.src = 100, .newid = 9000, .full = true};
    ASSERT_ARGV(qmargv_clone("/usr/sbin/qm", &q, &sv_), "/usr/sbin/qm clone 100 9000 --full 1");
    q.full = false;
    ASSERT_ARGV(qmargv_clone("/usr/sbin/qm", &q, &sv_), "/usr/sbin/qm clone 100 9000 --full 0");
}
END_TEST

START_TEST(clone_every_option_in_order)
{
    struct clone_req q = {
        .src = 100,
        .newid = 999999999,
        .full = true,
        .name = "tmpl.example",
        .description = "line one\nit's $(not) run",
        .pool = "a/b",
        .snapname = "before-upgrade",
        .storage = "local-lvm",
        .format = "qcow2",
        .target = "pve2",
        .have_bwlimit = true,
        .bwlimit = 0,
    };
    ASSERT_ARGV(qmargv_clone("/usr/sbin/qm", &q, &sv_),
                "/usr/sbin/qm clone 100 999999999 --full 1 --name tmpl.example --description "
                "'line one\nit'\\''s $(not) run' --pool a/b --snapname before-upgrade --storage "
                "local-lvm --format qcow2 --target pve2 --bwlimit 0");
}
END_TEST

START_TEST(clone_description_is_one_argument)
{
    /* never a shell: the text reaches qm as one argv element, untouched */
    struct clone_req q = {.src = 100, .newid = 101, .full = true, .description = "a b; c"};
    struct strv sv = STRV_INIT;
    ck_assert_int_eq(qmargv_clone("/usr/sbin/qm", &q, &sv), 0);
    ck_assert_uint_eq(sv.n, 8);
    ck_assert_str_eq(sv.v[6], "--description");
    ck_assert_str_eq(sv.v[7], "a b; c");
    ck_assert_ptr_null(sv.v[8]);
    strv_release(&sv);
}
END_TEST

START_TEST(template_status_config_migrate)
{
    ASSERT_ARGV(qmargv_template("/usr/sbin/qm", 9000, NULL, &sv_), "/usr/sbin/qm template 9000");
    ASSERT_ARGV(qmargv_template("/usr/sbin/qm", 9000, "efidisk0", &sv_),
                "/usr/sbin/qm template 9000 --disk efidisk0");
    ASSERT_ARGV(qmargv_status("/usr/sbin/qm", 100, false, &sv_), "/usr/sbin/qm status 100");
    ASSERT_ARGV(qmargv_status("/usr/sbin/qm", 100, true, &sv_),
                "/usr/sbin/qm status 100 --verbose");
    ASSERT_ARGV(qmargv_config("/usr/sbin/qm", 100, NULL, &sv_), "/usr/sbin/qm config 100");
    ASSERT_ARGV(qmargv_config("/usr/sbin/qm", 100, "snap1", &sv_),
                "/usr/sbin/qm config 100 --snapshot snap1");
    ASSERT_ARGV(qmargv_config_current("/usr/sbin/qm", 100, &sv_),
                "/usr/sbin/qm config 100 --current");
    ASSERT_ARGV(qmargv_migrate("/usr/sbin/qm", 9000, "pve2", &sv_),
                "/usr/sbin/qm migrate 9000 pve2");
}
END_TEST

START_TEST(hookscript_and_path)
{
    ASSERT_ARGV(
        qmargv_set_hookscript("/usr/sbin/qm", 999999999, "nfs1:snippets/pvetmpl-hook", &sv_),
        "/usr/sbin/qm set 999999999 --hookscript nfs1:snippets/pvetmpl-hook");
    ASSERT_ARGV(qmargv_set_hookscript("/usr/sbin/qm", 101, NULL, &sv_),
                "/usr/sbin/qm set 101 --delete hookscript");
    ASSERT_ARGV(qmargv_set_name("/usr/sbin/qm", 9000, "base", NULL, &sv_),
                "/usr/sbin/qm set 9000 --name base");
    ASSERT_ARGV(qmargv_set_name("/usr/sbin/qm", 9000, "base-20260101", "a;pvetmpl-retired", &sv_),
                "/usr/sbin/qm set 9000 --name base-20260101 --tags 'a;pvetmpl-retired'");
    ASSERT_ARGV(qmargv_destroy("/usr/sbin/qm", 9000, &sv_), "/usr/sbin/qm destroy 9000");
    ASSERT_ARGV(qmargv_pvesm_path("/usr/sbin/pvesm", "local:snippets/pvetmpl-hook", &sv_),
                "/usr/sbin/pvesm path local:snippets/pvetmpl-hook");
}
END_TEST

START_TEST(pvesm_status_filters)
{
    ASSERT_ARGV(qmargv_pvesm_status("/usr/sbin/pvesm", NULL, NULL, &sv_), "/usr/sbin/pvesm status");
    ASSERT_ARGV(qmargv_pvesm_status("/usr/sbin/pvesm", "images", NULL, &sv_),
                "/usr/sbin/pvesm status --content images");
    ASSERT_ARGV(qmargv_pvesm_status("/usr/sbin/pvesm", NULL, "pve2", &sv_),
                "/usr/sbin/pvesm status --target pve2");
}
END_TEST

START_TEST(progress_bar_rendering)
{
    char buf[256];
    progress_render(buf, sizeof(buf), "scsi0", 50.0, 16ull << 30, 32ull << 30, 10);
    ck_assert_str_eq(buf, "scsi0    [#####-----]  50.00% 16.0 GiB of 32.0 GiB");
    progress_render(buf, sizeof(buf), "efidisk0", 100.0, 528 << 10, 528 << 10, 4);
    ck_assert_str_eq(buf, "efidisk0 [####] 100.00% 528.0 KiB of 528.0 KiB");
    /* out-of-range percentages are clamped, never overflow the bar */
    progress_render(buf, sizeof(buf), "virtio1", 250.0, 1, 1, 4);
    ck_assert_str_eq(buf, "virtio1  [####] 100.00% 1.0 B of 1.0 B");
    progress_render(buf, sizeof(buf), "sata0", -3.0, 0, 0, 4);
    ck_assert_str_eq(buf, "sata0    [----]   0.00% 0.0 B of 0.0 B");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qmargv");
    TCase *tc = tcase_create("qmargv");
    tcase_add_test(tc, clone_minimal_is_explicit_about_full);
    tcase_add_test(tc, clone_every_option_in_order);
    tcase_add_test(tc, clone_description_is_one_argument);
    tcase_add_test(tc, template_status_config_migrate);
    tcase_add_test(tc, hookscript_and_path);
    tcase_add_test(tc, pvesm_status_filters);
    tcase_add_test(tc, progress_bar_rendering);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
