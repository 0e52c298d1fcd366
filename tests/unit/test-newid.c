/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of newid.c: datacenter.cfg's next-id line (pve-cluster
 * DataCenterConfig.pm $next_id_format) and the lowest free VMID of a range. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "newid.h"
#include "unit.h"

static int dc(const char *text, struct newid_range *r)
{
    return newid_parse_datacenter(text, strlen(text), r);
}

START_TEST(next_id_line)
{
    struct newid_range r = {0, 0};
    ck_assert_int_eq(dc("keyboard: de\nnext-id: lower=200,upper=1000000\n", &r), 1);
    ck_assert_uint_eq(r.first, 200);
    ck_assert_uint_eq(r.last, 999999); /* upper is exclusive */
    ck_assert_int_eq(dc("next-id: upper=9010,lower=9000", &r), 1);
    ck_assert_uint_eq(r.first, 9000);
    ck_assert_uint_eq(r.last, 9009);
    /* either bound may be left out: the schema's defaults */
    ck_assert_int_eq(dc("next-id: lower=5000\n", &r), 1);
    ck_assert_uint_eq(r.first, 5000);
    ck_assert_uint_eq(r.last, NEWID_PVE_UPPER - 1);
    ck_assert_int_eq(dc("next-id: upper=1000\n", &r), 1);
    ck_assert_uint_eq(r.first, NEWID_PVE_LOWER);
    ck_assert_uint_eq(r.last, 999);
    ck_assert_int_eq(dc("next-id: lower=999999999,upper=1000000000\n", &r), 1);
    ck_assert_uint_eq(r.last, 999999999);
}
END_TEST

START_TEST(no_next_id)
{
    struct newid_range r = {7, 7};
    ck_assert_int_eq(dc("", &r), 0);
    ck_assert_int_eq(dc("keyboard: de\n#next-id: lower=5\n migration: x\n", &r), 0);
    ck_assert_uint_eq(r.first, 7); /* untouched */
}
END_TEST

START_TEST(bad_next_id)
{
    static const char *const texts[] = {
        "next-id: lower=abc\n",
        "next-id: lower=99\n",              /* below the schema's minimum */
        "next-id: lower=5000,upper=5000\n", /* empty */
        "next-id: lower=6000,upper=5000\n",
        "next-id: upper=1000000001\n",
        "next-id: lower=200,lower=300\n",
        "next-id: lower=200;upper=300\n",
        "next-id: size=3\n",
        "next-id: lower=12345678901\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct newid_range r;
        ck_assert_msg(dc(texts[i], &r) == -EBADMSG, "case %zu: %s", i, texts[i]);
    }
}
END_TEST

START_TEST(lowest_free)
{
    struct vmlist_entry ents[] = {
        {9000, "pve", "qemu"}, {9001, "pve2", "lxc"}, {9003, "pve", "qemu"}};
    struct vmlist vl = {.entries = ents, .n = 3};
    struct newid_range r = {9000, 9004};
    ck_assert_uint_eq(newid_next_free(&vl, &r, 0), 9002);
    ck_assert_uint_eq(newid_next_free(&vl, &r, 9003), 9004);
    ck_assert_uint_eq(newid_next_free(&vl, &r, 9005), 0);
    struct newid_range full = {9000, 9001};
    ck_assert_uint_eq(newid_next_free(&vl, &full, 9000), 0);
    struct vmlist none = {0};
    ck_assert_uint_eq(newid_next_free(&none, &r, 9000), 9000);
    struct newid_range top = {999999999, 999999999};
    ck_assert_uint_eq(newid_next_free(&none, &top, 100), 999999999);
    ck_assert_uint_eq(newid_next_free(&none, &top, 1000000000), 0);
}
END_TEST

static Suite *newid_suite(void)
{
    Suite *s = suite_create("newid");
    TCase *tc = tcase_create("newid");
    tcase_add_test(tc, next_id_line);
    tcase_add_test(tc, no_next_id);
    tcase_add_test(tc, bad_next_id);
    tcase_add_test(tc, lowest_free);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(newid_suite());
}
