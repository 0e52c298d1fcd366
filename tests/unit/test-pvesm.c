/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of pvesm.c: the `pvesm status` parser and the type tables.
 * Real captured outputs are covered by the fixture layer (t010-fixtures.sh). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvesm.h"
#include "unit.h"

#define HDR_NEW                                                                                    \
    "Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %\n"
#define HDR_OLD                                                                                    \
    "Name             Type     Status           Total            Used       Available        %\n"
#define ROW_LOCAL                                                                                  \
    "local             dir     active        98497780        12345678        81099484   12.53%\n"
#define ROW_NFS                                                                                    \
    "nfs1              nfs   disabled               0               0               0      N/A\n"

static int parse(const char *text, struct pvesm_status *st, unsigned *line)
{
    *line = 12345;
    return pvesm_parse_status(text, strlen(text), st, line);
}

START_TEST(both_headers)
{
    static const char *const texts[] = {
        HDR_NEW ROW_LOCAL ROW_NFS,
        HDR_OLD ROW_LOCAL ROW_NFS,
        "zfs error: cannot open 'vmdata': no such pool\n\n" HDR_OLD ROW_LOCAL ROW_NFS,
        /* CRLF, and no final newline */
        "Name Type Status Total (KiB) Used (KiB) Available (KiB) %\r\nlocal dir active 98497780 "
        "12345678 81099484 12.53%\r\nnfs1 nfs disabled 0 0 0 N/A",
        /* odd spacing: TABs and runs of blanks */
        "\tName\tType Status  Total\t(KiB) Used (KiB) Available (KiB) %\n\tlocal\tdir\tactive\t"
        "98497780\t12345678\t81099484\t12.53%\t\n\nnfs1 nfs disabled 0 0 0 N/A   \n\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct pvesm_status st;
        unsigned line;
        ck_assert_msg(parse(texts[i], &st, &line) == 0, "case %zu line %u", i, line);
        ck_assert_uint_eq(st.n, 2);
        ck_assert_str_eq(st.rows[0].name, "local");
        ck_assert_str_eq(st.rows[0].type, "dir");
        ck_assert_int_eq(st.rows[0].state, PVESM_ACTIVE);
        ck_assert_uint_eq(st.rows[0].total_kib, 98497780);
        ck_assert_uint_eq(st.rows[0].used_kib, 12345678);
        ck_assert_uint_eq(st.rows[0].avail_kib, 81099484);
        ck_assert_double_eq_tol(st.rows[0].percent, 12.53, 1e-9);
        ck_assert_str_eq(st.rows[1].name, "nfs1");
        ck_assert_int_eq(st.rows[1].state, PVESM_DISABLED);
        ck_assert_double_eq(st.rows[1].percent, -1);
        ck_assert_ptr_eq(pvesm_status_find(&st, "nfs1"), &st.rows[1]);
        ck_assert_ptr_null(pvesm_status_find(&st, "nfs"));
        ck_assert_ptr_null(pvesm_status_find(&st, NULL));
        pvesm_status_release(&st);
        pvesm_status_release(&st);
    }
    pvesm_status_release(NULL);
    ck_assert_ptr_null(pvesm_status_find(NULL, "local"));
}
END_TEST

START_TEST(no_rows)
{
    static const char *const texts[] = {"", "\n \n", HDR_NEW, HDR_OLD, "warn\n" HDR_NEW "\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct pvesm_status st;
        unsigned line;
        ck_assert_msg(parse(texts[i], &st, &line) == 0, "case %zu", i);
        ck_assert_uint_eq(st.n, 0);
        pvesm_status_release(&st);
    }
}
END_TEST

START_TEST(row_values)
{
    struct pvesm_status st;
    unsigned line;
    ck_assert_int_eq(parse(HDR_NEW "a1 zfspool inactive 0 0 0 0.00%\n"
                                   "b1 esxi active 0 0 0 0.00%\n"
                                   "c1 truenasplugin weird 1 2 3 100.00%\n"
                                   "d1 dir active 18446744073709551615 17414445952 0 99.99%\n",
                           &st, &line),
                     0);
    ck_assert_uint_eq(st.n, 4);
    ck_assert_int_eq(st.rows[0].state, PVESM_INACTIVE);
    ck_assert_double_eq(st.rows[0].percent, 0);
    ck_assert_int_eq(st.rows[1].state, PVESM_ACTIVE);
    ck_assert_str_eq(st.rows[2].type, "truenasplugin");
    ck_assert_int_eq(st.rows[2].state, PVESM_UNKNOWN);
    ck_assert_double_eq_tol(st.rows[2].percent, 100.0, 1e-9);
    ck_assert_uint_eq(st.rows[3].total_kib, UINT64_MAX);
    ck_assert_uint_eq(st.rows[3].used_kib, 17414445952ULL);
    ck_assert_double_eq_tol(st.rows[3].percent, 99.99, 1e-9);
    pvesm_status_release(&st);
}
END_TEST

START_TEST(overlong_line)
{
    size_t n = 100000;
    char *text = malloc(n + 256);
    strcpy(text, HDR_NEW);
    size_t off = strlen(text);
    memset(text + off, 'x', n);
    strcpy(text + off + n, " dir active 1 1 0 100.00%\n");
    struct pvesm_status st;
    unsigned line;
    ck_assert_int_eq(parse(text, &st, &line), 0);
    ck_assert_uint_eq(strlen(st.rows[0].name), n);
    pvesm_status_release(&st);
    free(text);
}
END_TEST

START_TEST(errors)
{
    static const struct {
        const char *text;
        unsigned line;
    } cases[] = {
        {"garbage\n", 0},
        {ROW_LOCAL, 0}, /* rows but no header (pre-2017 format, or a grep) */
        {"    // " HDR_NEW, 0},
        {"Name Type Status Total Used Available\n", 0},
        {"Name Type Status Total (KiB) Used Available %\n", 0},
        {HDR_NEW "garbage\n", 2},
        {HDR_NEW ROW_LOCAL "local dir active 1 2 3\n", 3},
        {HDR_NEW "local dir active 1 2 3 4 5%\n", 2},
        {HDR_NEW "local dir active 18446744073709551616 0 0 0.00%\n", 2}, /* overflow */
        {HDR_NEW "local dir active 99999999999999999999 0 0 0.00%\n", 2},
        {HDR_NEW "local dir active -1 0 0 0.00%\n", 2},
        {HDR_NEW "local dir active 1x 0 0 0.00%\n", 2},
        {HDR_NEW "local dir active 1 0 0 0.00\n", 2},
        {HDR_NEW "local dir active 1 0 0 0.0%\n", 2},
        {HDR_NEW "local dir active 1 0 0 .00%\n", 2},
        {HDR_NEW "local dir active 1 0 0 n/a\n", 2},
        {HDR_NEW "local dir active 1 0 0 -1.00%\n", 2},
        {HDR_NEW "local dir active 1 0 0 1e3%\n", 2},
        {HDR_NEW HDR_NEW, 2}, /* a second header is not a row */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pvesm_status st = {.n = 77};
        unsigned line;
        ck_assert_msg(parse(cases[i].text, &st, &line) == -EBADMSG, "case %zu", i);
        ck_assert_msg(line == cases[i].line, "case %zu: line %u", i, line);
        ck_assert_uint_eq(st.n, 77);
    }
    struct pvesm_status st;
    ck_assert_int_eq(pvesm_parse_status("x", 1, &st, NULL), -EBADMSG);
    static const char nul[] = HDR_NEW "local dir active 1 0 0 0.00%\0\n";
    unsigned line = 0;
    ck_assert_int_eq(pvesm_parse_status(nul, sizeof(nul) - 1, &st, &line), -EBADMSG);
    ck_assert_uint_eq(line, 2);
}
END_TEST

START_TEST(state_names)
{
    ck_assert_str_eq(pvesm_state_name(PVESM_ACTIVE), "active");
    ck_assert_str_eq(pvesm_state_name(PVESM_INACTIVE), "inactive");
    ck_assert_str_eq(pvesm_state_name(PVESM_DISABLED), "disabled");
    ck_assert_str_eq(pvesm_state_name(PVESM_UNKNOWN), "unknown");
    ck_assert_str_eq(pvesm_state_name((enum pvesm_state)99), "unknown");
}
END_TEST

START_TEST(type_tables)
{
    static const struct {
        const char *type;
        enum pvesm_template_support t;
        bool file;
    } cases[] = {
        {"dir", PVESM_TEMPLATE_YES, true},
        {"nfs", PVESM_TEMPLATE_YES, true},
        {"cifs", PVESM_TEMPLATE_YES, true},
        {"glusterfs", PVESM_TEMPLATE_YES, true},
        {"btrfs", PVESM_TEMPLATE_YES, true},
        {"lvmthin", PVESM_TEMPLATE_YES, false},
        {"zfspool", PVESM_TEMPLATE_YES, false},
        {"zfs", PVESM_TEMPLATE_YES, false},
        {"rbd", PVESM_TEMPLATE_YES, false},
        {"lvm", PVESM_TEMPLATE_NO, false},
        {"iscsi", PVESM_TEMPLATE_NO, false},
        {"iscsidirect", PVESM_TEMPLATE_NO, false},
        {"cephfs", PVESM_TEMPLATE_NO_IMAGES, true},
        {"pbs", PVESM_TEMPLATE_NO_IMAGES, false},
        {"esxi", PVESM_TEMPLATE_NO_IMAGES, false},
        {"truenasplugin", PVESM_TEMPLATE_UNKNOWN, false},
        {"DIR", PVESM_TEMPLATE_UNKNOWN, false},
        {"", PVESM_TEMPLATE_UNKNOWN, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(pvesm_type_template_support(cases[i].type) == cases[i].t, "%s",
                      cases[i].type);
        ck_assert_msg(pvesm_type_is_file_based(cases[i].type) == cases[i].file, "%s",
                      cases[i].type);
    }
    ck_assert_int_eq(pvesm_type_template_support(NULL), PVESM_TEMPLATE_UNKNOWN);
    ck_assert(!pvesm_type_is_file_based(NULL));
}
END_TEST

static Suite *pvesm_suite(void)
{
    Suite *s = suite_create("pvesm");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, both_headers);
    tcase_add_test(tc, no_rows);
    tcase_add_test(tc, row_values);
    tcase_add_test(tc, overlong_line);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, state_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("types");
    tcase_add_test(tc, type_tables);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(pvesm_suite());
}
