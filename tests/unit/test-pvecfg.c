/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of pvecfg.c: storage.cfg and user.cfg as Proxmox reads them
 * (fixtures in tests/fixtures/pve-cfg/, each case commented there). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvecfg.h"
#include "unit.h"

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/fixtures/pve-cfg/%s",
             getenv("PVETMPL_TOP") ? getenv("PVETMPL_TOP") : ".", name);
    FILE *f = fopen(path, "re");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

START_TEST(storage_cfg)
{
    size_t len;
    char *text = slurp("storage.cfg", &len);
    struct pvecfg_storages st;
    ck_assert_int_eq(pvecfg_parse_storage(text, len, &st), 0);
    const struct pvecfg_storage *s;
    /* a bare boolean is 1 (SectionConfig check_value) */
    ck_assert_ptr_nonnull(s = pvecfg_storage_find(&st, "shbare"));
    ck_assert(s->shared);
    ck_assert_str_eq(s->type, "dir");
    /* a later section of an id replaces the earlier one ($ids->{$sectionId} = $config) */
    ck_assert_ptr_nonnull(s = pvecfg_storage_find(&st, "sh1"));
    ck_assert_str_eq(s->type, "lvm");
    ck_assert(!s->shared);
    /* the first value of a repeated key counts; a comment does not end a section */
    ck_assert(pvecfg_storage_find(&st, "shfirst")->shared);
    ck_assert(!pvecfg_storage_find(&st, "sh0")->shared);
    /* only 0 and 1 are booleans: "yes" is never stored, so a later "1" is */
    ck_assert(!pvecfg_storage_find(&st, "shbad")->shared);
    ck_assert(pvecfg_storage_find(&st, "shyes1")->shared);
    /* lvmthin takes no 'shared' ("unexpected property") */
    ck_assert(!pvecfg_storage_find(&st, "thinsh")->shared);
    /* a false line ("0") ends a section like an empty one */
    ck_assert(!pvecfg_storage_find(&st, "zeroend")->shared);
    /* check_config: a section without a required option is no storage, and
     * erases an earlier one of its id; an option without value is none */
    ck_assert_ptr_null(pvecfg_storage_find(&st, "noname"));
    ck_assert_ptr_null(pvecfg_storage_find(&st, "gone"));
    ck_assert_ptr_null(pvecfg_storage_find(&st, "emptypath"));
    ck_assert_ptr_nonnull(pvecfg_storage_find(&st, "zfs-over-iscsi"));
    /* the header's type is greedy: "dir:odd:cc" is type "dir:odd", id "cc" */
    ck_assert_str_eq(pvecfg_storage_find(&st, "cc")->type, "dir:odd");
    ck_assert_ptr_null(pvecfg_storage_find(&st, "odd:cc"));
    /* Plugin.pm @SHARED_STORAGE: shared whatever the config says */
    ck_assert_ptr_nonnull(s = pvecfg_storage_find(&st, "nfs1"));
    ck_assert(s->shared);
    ck_assert(pvecfg_storage_find(&st, "gluster1")->shared);
    ck_assert(pvecfg_storage_find(&st, "ceph1")->shared);
    ck_assert(pvecfg_storage_find(&st, "zfs-over-iscsi")->shared);
    ck_assert(!pvecfg_storage_find(&st, "local")->shared);
    ck_assert(pvecfg_storage_find(&st, "lvm-chain")->volume_chain);
    ck_assert(pvecfg_storage_find(&st, "lvm-plain")->volume_chain);
    /* the type is lower-cased; a header without a blank line before it is no section */
    ck_assert_str_eq(pvecfg_storage_find(&st, "local-lvm")->type, "lvmthin");
    ck_assert_ptr_null(pvecfg_storage_find(&st, "notasection"));
    /* an id shorter than 2 characters is skipped */
    ck_assert_ptr_null(pvecfg_storage_find(&st, "a"));
    ck_assert_ptr_null(pvecfg_storage_find(&st, NULL));
    pvecfg_storages_release(&st);
    free(text);

    /* 'local' is a dir at /var/lib/vz, else replaced by one (Plugin.pm parse_config) */
    static const struct {
        const char *text;
        bool shared;
    } local[] = {
        {"nfs: local\n\tserver x\n\tshared 1\n", false},
        {"dir: local\n\tpath /srv\n\tshared 1\n", false},
        {"dir: local\n\tpath /var/lib/vz\n\tshared 1\n", true},
        {"dir: local\n\tshared 1\n", false},                  /* no path: check_config drops it */
        {"dir: local\n\tpath relative\n\tshared 1\n", false}, /* invalid: never stored */
        {"dir: local\n\tpath relative\n\tpath /var/lib/vz\n\tshared 1\n", true},
        {"dir: local\n\tpath /var/lib/vz\n\tpath /srv\n\tshared 1\n", true},
        {"dir: other\n\tpath /srv\n", false}, /* none: one is made */
    };
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        ck_assert_int_eq(pvecfg_parse_storage(local[i].text, strlen(local[i].text), &st), 0);
        ck_assert_ptr_nonnull(s = pvecfg_storage_find(&st, "local"));
        ck_assert_str_eq(s->type, "dir");
        ck_assert_msg(s->shared == local[i].shared, "%s", local[i].text);
        pvecfg_storages_release(&st);
    }
    ck_assert_int_eq(pvecfg_parse_storage(NULL, 0, &st), 0);
    ck_assert_uint_eq(st.n, 1);
    ck_assert_str_eq(st.v[0].id, "local");
    pvecfg_storages_release(&st);
}
END_TEST

START_TEST(type_tables)
{
    static const char *const shared[] = {"iscsi",       "nfs",       "cifs", "rbd",  "cephfs",
                                         "iscsidirect", "glusterfs", "zfs",  "drbd", "pbs"};
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
        ck_assert_msg(pvecfg_type_always_shared(shared[i]), "%s", shared[i]);
    }
    ck_assert(!pvecfg_type_always_shared("dir"));
    ck_assert(!pvecfg_type_always_shared("lvm"));
    ck_assert(!pvecfg_type_always_shared(NULL));
    ck_assert(!pvecfg_type_can_allocate("iscsi"));
    ck_assert(!pvecfg_type_can_allocate("iscsidirect"));
    ck_assert(!pvecfg_type_can_allocate("esxi"));
    ck_assert(pvecfg_type_can_allocate("lvm"));
    ck_assert(pvecfg_type_can_allocate("thirdparty"));
    ck_assert(pvecfg_storage_holds_format("dir", false, "vmdk"));
    ck_assert(pvecfg_storage_holds_format("nfs", false, "qcow2"));
    ck_assert(!pvecfg_storage_holds_format("lvmthin", false, "qcow2"));
    ck_assert(pvecfg_storage_holds_format("lvmthin", false, "raw"));
    ck_assert(!pvecfg_storage_holds_format("lvm", false, "qcow2"));
    ck_assert(pvecfg_storage_holds_format("lvm", true, "qcow2"));
    ck_assert(!pvecfg_storage_holds_format("lvm", true, "vmdk"));
    ck_assert(!pvecfg_storage_holds_format("zfspool", false, "vmdk"));
    ck_assert(!pvecfg_storage_holds_format("dir", false, "qcow"));
    ck_assert(!pvecfg_storage_holds_format("dir", false, ""));
    ck_assert(!pvecfg_storage_holds_format("btrfs", false, "qcow2"));
    ck_assert(pvecfg_storage_holds_format("esxi", false, "vmdk"));
    ck_assert(pvecfg_storage_holds_format("thirdparty", false, "vmdk"));
    ck_assert(pvecfg_storage_holds_format("thirdparty", false, "anything"));
    char buf[64];
    pvecfg_formats_text(pvecfg_storage_formats("rbd", false), buf, sizeof(buf));
    ck_assert_str_eq(buf, "raw");
    pvecfg_formats_text(pvecfg_storage_formats("dir", false), buf, sizeof(buf));
    ck_assert_str_eq(buf, "raw, qcow2, vmdk");
    pvecfg_formats_text(pvecfg_storage_formats("lvm", true), buf, sizeof(buf));
    ck_assert_str_eq(buf, "raw, qcow2");
    ck_assert_uint_eq(pvecfg_storage_formats("thirdparty", false), 0);
}
END_TEST

START_TEST(pools)
{
    size_t len;
    char *text = slurp("user.cfg", &len);
    ck_assert(pvecfg_pool_exists(text, len, "pool-ci"));
    ck_assert(pvecfg_pool_exists(text, len, "spaced")); /* fields are trimmed */
    ck_assert(pvecfg_pool_exists(text, len, "dept/team/sub"));
    ck_assert(pvecfg_pool_exists(text, len, "dept/team")); /* parents of a nested pool */
    ck_assert(pvecfg_pool_exists(text, len, "dept"));
    ck_assert(!pvecfg_pool_exists(text, len, "dep"));
    ck_assert(!pvecfg_pool_exists(text, len, "dept/te"));
    ck_assert(!pvecfg_pool_exists(text, len, "bad name")); /* ignored: invalid name */
    ck_assert(!pvecfg_pool_exists(text, len, "x"));        /* ignored: too deep */
    ck_assert(!pvecfg_pool_exists(text, len, "root@pam"));
    ck_assert(!pvecfg_pool_exists(text, len, "pool"));
    ck_assert(!pvecfg_pool_exists(text, len, ""));
    ck_assert(!pvecfg_pool_exists(NULL, 0, "pool-ci"));
    free(text);
}
END_TEST

static Suite *pvecfg_suite(void)
{
    Suite *s = suite_create("pvecfg");
    TCase *tc = tcase_create("pvecfg");
    tcase_add_test(tc, storage_cfg);
    tcase_add_test(tc, type_tables);
    tcase_add_test(tc, pools);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(pvecfg_suite());
}
