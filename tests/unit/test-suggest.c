/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of suggest.c: "did you mean" for storages and nodes. */
#include <check.h>
#include <string.h>

#include "suggest.h"
#include "unit.h"

static const char *const storages[] = {"local", "local-lvm", "nfs-iso", "cephfs", "local-zfs"};
#define N_ST (sizeof(storages) / sizeof(storages[0]))

START_TEST(near_words)
{
    ck_assert_str_eq(suggest_nearest("local-lvn", storages, N_ST), "local-lvm");
    ck_assert_str_eq(suggest_nearest("lcoal-lvm", storages, N_ST), "local-lvm"); /* swap */
    ck_assert_str_eq(suggest_nearest("locallvm", storages, N_ST), "local-lvm");  /* missing */
    ck_assert_str_eq(suggest_nearest("Local", storages, N_ST), "local");
    ck_assert_str_eq(suggest_nearest("lokal", storages, N_ST), "local");
    ck_assert_str_eq(suggest_nearest("cephs", storages, N_ST), "cephfs");
}
END_TEST

START_TEST(no_guess)
{
    ck_assert_ptr_null(suggest_nearest("local", storages, N_ST)); /* exists */
    ck_assert_ptr_null(suggest_nearest("backup", storages, N_ST));
    ck_assert_ptr_null(suggest_nearest("zz", storages, N_ST));
    ck_assert_ptr_null(suggest_nearest("", storages, N_ST));
    ck_assert_ptr_null(suggest_nearest("local-lvm", NULL, 0));
    /* 4 characters: one edit at most */
    static const char *const nodes[] = {"pve1", "pve2"};
    ck_assert_ptr_null(suggest_nearest("px", nodes, 2));
    ck_assert_str_eq(suggest_nearest("pve3", nodes, 2), "pve1"); /* tie: the first */
    ck_assert_str_eq(suggest_nearest("pev2", nodes, 2), "pve2"); /* a swap is one edit */
}
END_TEST

START_TEST(message_text)
{
    char buf[SUGGEST_BUF_SIZE];
    ck_assert_str_eq(suggest_text(buf, sizeof(buf), "local-lvn", storages, N_ST),
                     "; did you mean 'local-lvm'?");
    ck_assert_str_eq(suggest_text(buf, sizeof(buf), "nothing-like-it", storages, N_ST), "");
    struct pvesm_row rows[] = {{.name = "local"}, {.name = "local-lvm"}};
    struct pvesm_status st = {.rows = rows, .n = 2};
    ck_assert_str_eq(SUGGEST_STORAGE(&st, "local-lv"), "; did you mean 'local-lvm'?");
    struct vmlist_entry en[] = {{.vmid = 100, .node = "pve", .type = "qemu"},
                                {.vmid = 101, .node = "node2", .type = "qemu"}};
    struct vmlist vl = {.entries = en, .n = 2};
    ck_assert_str_eq(SUGGEST_NODE(NULL, &vl, "nod2"), "; did you mean 'node2'?");
    ck_assert_str_eq(SUGGEST_NODE(NULL, &vl, "elsewhere"), "");
    /* a node without guests is only in the member list */
    char *names[] = {"empty3", "pve"};
    struct vmlist_members m = {.nodename = "pve", .nodes = names, .n = 2};
    ck_assert_str_eq(SUGGEST_NODE(&m, &vl, "emty3"), "; did you mean 'empty3'?");
    ck_assert_str_eq(SUGGEST_NODE(&m, NULL, "pv"), "; did you mean 'pve'?");
    /* without the excepted names (this node, for make-template --target) */
    const char *here[] = {"pve", NULL};
    char b2[SUGGEST_BUF_SIZE];
    ck_assert_str_eq(suggest_node_except(b2, sizeof(b2), &m, &vl, "pv", here, 2), "");
    ck_assert_str_eq(suggest_node_except(b2, sizeof(b2), &m, &vl, "emty3", here, 2),
                     "; did you mean 'empty3'?");
    struct vmlist_members alone = {.nodename = "solo"};
    ck_assert_str_eq(SUGGEST_NODE(&alone, &vl, "sol"), "; did you mean 'solo'?");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("suggest");
    TCase *tc = tcase_create("suggest");
    tcase_add_test(tc, near_words);
    tcase_add_test(tc, no_guess);
    tcase_add_test(tc, message_text);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
