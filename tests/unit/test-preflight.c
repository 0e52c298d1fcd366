/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Which storage types may hold templates: the built-in table plus the
 * config's template_types, as both make-template's preflight and `storages` see it. */
#include <check.h>
#include <stdlib.h>

#include "preflight.h"
#include "unit.h"

START_TEST(builtin_types)
{
    struct conf cf = {0};
    const char *yes[] = {"dir", "nfs", "cifs", "btrfs", "lvmthin", "zfspool", "zfs", "rbd"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        ck_assert_int_eq(preflight_template_support(&cf, yes[i]), PVESM_TEMPLATE_YES);
    }
    /* qm template would skip their disks silently */
    ck_assert_int_eq(preflight_template_support(&cf, "lvm"), PVESM_TEMPLATE_NO);
    ck_assert_int_eq(preflight_template_support(&cf, "iscsi"), PVESM_TEMPLATE_NO);
    ck_assert_int_eq(preflight_template_support(&cf, "iscsidirect"), PVESM_TEMPLATE_NO);
    ck_assert_int_eq(preflight_template_support(&cf, "truenas"), PVESM_TEMPLATE_UNKNOWN);
}
END_TEST

START_TEST(template_types_vouch_for_third_party_types_only)
{
    struct conf cf = {0};
    strv_push(&cf.template_types, "truenas");
    strv_push(&cf.template_types, "lvm"); /* cannot make lvm hold base images */
    ck_assert_int_eq(preflight_template_support(&cf, "truenas"), PVESM_TEMPLATE_YES);
    ck_assert_int_eq(preflight_template_support(&cf, "lvm"), PVESM_TEMPLATE_NO);
    ck_assert_int_eq(preflight_template_support(&cf, "netapp"), PVESM_TEMPLATE_UNKNOWN);
    strv_release(&cf.template_types);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("preflight");
    TCase *tc = tcase_create("preflight");
    tcase_add_test(tc, builtin_types);
    tcase_add_test(tc, template_types_vouch_for_third_party_types_only);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
