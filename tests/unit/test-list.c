/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of volname.c (pve-storage's image names) and list.c (templates
 * and their linked clones from config texts; the I/O of list_load on the
 * cluster in tests/fixtures/list-cluster/, whose guests are described in
 * tests/fixtures/README.md; the table). Expected values are worked out from
 * the fixture by hand, not taken from the tool. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "list.h"
#include "node.h"
#include "unit.h"
#include "volname.h"

/* ---- volname ---------------------------------------------------------- */

static void vn_ok(const char *s, bool file, uint32_t vmid, const char *name, bool is_base,
                  uint32_t base_vmid, const char *base_name)
{
    struct volname v;
    ck_assert_msg(volname_parse(s, &v) == 0, "'%s' refused", s);
    ck_assert_int_eq(v.file, file);
    ck_assert_uint_eq(v.vmid, vmid);
    ck_assert_int_eq((int)v.name_len, (int)strlen(name));
    ck_assert_msg(strncmp(v.name, name, v.name_len) == 0, "'%s': name", s);
    ck_assert_int_eq(v.is_base, is_base);
    ck_assert_uint_eq(v.base_vmid, base_vmid);
    if (base_name) {
        ck_assert_ptr_nonnull(v.base_name);
        ck_assert_int_eq((int)v.base_name_len, (int)strlen(base_name));
        ck_assert_msg(strncmp(v.base_name, base_name, v.base_name_len) == 0, "'%s': base", s);
    } else {
        ck_assert_ptr_null(v.base_name);
    }
}

START_TEST(volname_shapes)
{
    /* block storages: ZFSPoolPlugin/RBDPlugin parse_volname */
    vn_ok("vm-100-disk-0", false, 100, "vm-100-disk-0", false, 0, NULL);
    vn_ok("base-9000-disk-1", false, 9000, "base-9000-disk-1", true, 0, NULL);
    vn_ok("base-9000-disk-0/vm-101-disk-0", false, 101, "vm-101-disk-0", false, 9000,
          "base-9000-disk-0");
    /* a template made from a linked clone (ZFS create_base keeps the prefix) */
    vn_ok("base-9000-disk-0/base-9003-disk-0", false, 9003, "base-9003-disk-0", true, 9000,
          "base-9000-disk-0");
    vn_ok("vm-4294967295-disk-0", false, UINT32_MAX, "vm-4294967295-disk-0", false, 0, NULL);
    /* file storages: Plugin.pm parse_volname / parse_name_dir */
    vn_ok("100/vm-100-disk-0.qcow2", true, 100, "vm-100-disk-0.qcow2", false, 0, NULL);
    vn_ok("9000/base-9000-disk-2.raw", true, 9000, "base-9000-disk-2.raw", true, 0, NULL);
    vn_ok("9000/base-9000-disk-2.qcow2/101/vm-101-disk-2.qcow2", true, 101, "vm-101-disk-2.qcow2",
          false, 9000, "base-9000-disk-2.qcow2");
    vn_ok("9000/base-9000-disk-0.vmdk/9003/base-9003-disk-0.qcow2", true, 9003,
          "base-9003-disk-0.qcow2", true, 9000, "base-9000-disk-0.vmdk");
}
END_TEST

START_TEST(volname_refused)
{
    static const char *const bad[] = {
        "",
        "iso/ubuntu.iso",
        "snippets/pvetmpl-hook",
        "subvol-100-disk-0",                               /* a container's */
        "basevol-100-disk-0/subvol-101-disk-0",            /* a container's */
        "vm-100",                                          /* no "-REST" */
        "vm-100-",                                         /* empty REST */
        "vm-0100-disk-0",                                  /* leading zero */
        "vm-4294967296-disk-0",                            /* beyond 32 bits */
        "vm-100-disk-0/vm-101-disk-0",                     /* only a base is cloned */
        "base-100-disk-0/vm-101-disk-0/x",                 /* three parts */
        "base-100-disk-0//vm-101-disk-0",                  /* empty part */
        "vm-100-disk 0",                                   /* blank */
        "100/vm-100-disk-0",                               /* file shape wants a format */
        "100/vm-100-disk-0.iso",                           /* not an image format */
        "100/vm-100-disk-0.subvol",                        /* a container's */
        "100/vm-100-disk-0.qcow2/101/vm-101-disk-0.qcow2", /* base not base- */
        "x00/vm-100-disk-0.qcow2",
        "100/base-100-disk-0.qcow2/101", /* three parts */
        "100/base-100-disk-0.qcow2/1a1/vm-101-disk-0.qcow2",
        "100/.qcow2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct volname v;
        ck_assert_msg(volname_parse(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
    }
    struct volname v;
    ck_assert_int_eq(volname_parse(NULL, &v), -EINVAL);
}
END_TEST

/* ---- sizes ------------------------------------------------------------ */

START_TEST(sizes)
{
    static const struct {
        const char *s;
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"512", 512},
        {"4K", 4096},
        {"1M", 1048576},
        {"32G", 34359738368ULL},
        {"2T", 2199023255552ULL},
        {"1.5G", 1610612736ULL},
        {"1536MiB", 1610612736ULL},
        {"0.5K", 512},
        {"1.0009K", 1024}, /* int() */
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 1;
        ck_assert_msg(list_parse_size(ok[i].s, &v) == 0, "'%s' refused", ok[i].s);
        ck_assert_msg(v == ok[i].want, "'%s': %llu", ok[i].s, (unsigned long long)v);
    }
    static const char *const bad[] = {"",   "G",  "32g", "32GB", "32 G", "-1",
                                      "1.", ".5", "1e3", "32Gi", "32P",  "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v;
        ck_assert_msg(list_parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
    }
    uint64_t v;
    ck_assert_int_eq(list_parse_size("16777216T", &v), -EINVAL); /* 2^64 bytes */
    ck_assert_int_eq(list_parse_size("16777215.5T", &v), 0);     /* 2^64 - 2^39 */
    ck_assert(v == UINT64_MAX - (1ULL << 39) + 1);
    ck_assert_int_eq(list_parse_size("18446744073709551615", &v), 0);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(list_parse_size("18446744073709551616", &v), -EINVAL);
}
END_TEST

/* ---- the fixture cluster through list_load ---------------------------- */

static struct conf cf;
static char vmlist_path[600], pve_dir[512];

static void load(bool all, struct list_result *res)
{
    const char *top = getenv("PVETMPL_TOP") ? getenv("PVETMPL_TOP") : ".";
    snprintf(pve_dir, sizeof(pve_dir), "%s/tests/fixtures/list-cluster", top);
    snprintf(vmlist_path, sizeof(vmlist_path), "%s/.vmlist", pve_dir);
    cf = (struct conf){.vmlist = vmlist_path, .pve_dir = pve_dir, .hook_name = "pvetmpl-hook"};
    struct list_opts o = {.hook_name = cf.hook_name, .all = all};
    struct err e = {0};
    ck_assert_msg(list_load(&cf, &o, NULL, res, &e) == 0, "list_load: %s", e.detail);
}

static const struct list_row *row(const struct list_result *res, uint32_t vmid)
{
    for (size_t i = 0; i < res->n; i++) {
        if (res->rows[i].vmid == vmid) {
            return &res->rows[i];
        }
    }
    ck_abort_msg("no row for %u", vmid);
    return NULL;
}

START_TEST(cluster_rows)
{
    struct list_result res;
    load(false, &res);
    /* 13 qemu guests in .vmlist, 120's file is gone, 200 is a container */
    ck_assert_uint_eq(res.n_guests, 12);
    ck_assert_uint_eq(res.n_vanished, 1);
    ck_assert_uint_eq(res.n, 4);
    ck_assert_uint_eq(res.rows[0].vmid, 9000); /* by VMID, whatever .vmlist's order */
    ck_assert_uint_eq(res.rows[3].vmid, 9003);

    const struct list_row *r = row(&res, 9000);
    ck_assert_str_eq(r->name, "ubuntu-2404");
    ck_assert_str_eq(r->node, "pve1");
    ck_assert_uint_eq(r->storages.n, 2);
    ck_assert_str_eq(r->storages.v[0], "local-zfs");
    ck_assert_str_eq(r->storages.v[1], "nfs-images");
    ck_assert_uint_eq(r->n_disks, 3); /* efidisk0 scsi0 scsi1; not the cloud-init CD-ROM */
    ck_assert(r->size_known);
    ck_assert_uint_eq(r->size, 1048576ULL + 34359738368ULL + 1610612736ULL);
    ck_assert_str_eq(r->hookscript, "local:snippets/pvetmpl-hook");
    ck_assert_int_eq(r->hook, LIST_HOOK_PVETMPL);
    ck_assert_ptr_null(r->hook_current);                    /* cmd_list_run's, from the node */
    ck_assert_int_eq(r->created_source, LIST_CREATED_NONE); /* no meta, no journal */
    ck_assert_uint_eq(r->created_us, 0);
    /* 101 (three disks), 102 (unused0), 9003 (a template on it); not 104's
     * CD-ROM, nor 105's volume of the same name on another storage */
    ck_assert_uint_eq(r->n_linked, 3);
    ck_assert_uint_eq(r->n_clones, 0); /* only with all */

    r = row(&res, 9001);
    ck_assert_str_eq(r->storages.v[0], "local-lvm");
    ck_assert_uint_eq(r->size, 8589934592ULL);
    ck_assert_int_eq(r->hook, LIST_HOOK_FOREIGN); /* pvetmpl-hook-old is not hook_name */
    ck_assert_uint_eq(r->n_linked, 0);            /* 106 on LVM-thin names no base */

    r = row(&res, 9002);
    ck_assert_str_eq(r->node, "pve2");
    ck_assert_uint_eq(r->n_disks, 2);
    ck_assert(!r->size_known); /* sata1 has no size= */
    ck_assert_int_eq(r->hook, LIST_HOOK_FOREIGN);
    ck_assert_uint_eq(r->n_linked, 1); /* 107, through its snapshot's disk */

    r = row(&res, 9003);
    ck_assert_ptr_null(r->hookscript);
    ck_assert_int_eq(r->hook, LIST_HOOK_NONE);
    ck_assert_uint_eq(r->n_linked, 1); /* 130 */
    list_result_release(&res);
    list_result_release(&res);
}
END_TEST

START_TEST(cluster_all)
{
    struct list_result res;
    load(true, &res);
    const struct list_row *r = row(&res, 9000);
    ck_assert_uint_eq(r->n_clones, 3);
    ck_assert_uint_eq(r->clones[0].vmid, 101);
    ck_assert_str_eq(r->clones[0].name, "web01");
    ck_assert_str_eq(r->clones[0].node, "pve1");
    ck_assert(r->clones[0].linked);
    ck_assert_uint_eq(r->clones[1].vmid, 102);
    ck_assert_str_eq(r->clones[1].node, "pve2");
    ck_assert_uint_eq(r->clones[2].vmid, 9003);
    r = row(&res, 9002);
    ck_assert_uint_eq(r->n_clones, 1);
    ck_assert_uint_eq(r->clones[0].vmid, 107);
    ck_assert_uint_eq(row(&res, 9001)->n_clones, 0);

    struct json_object *a = list_rows_json(&res, true);
    ck_assert_uint_eq(json_object_array_length(a), 4);
    struct json_object *o = json_object_array_get_idx(a, 0), *v;
    ck_assert(json_object_object_get_ex(o, "linked_clones", &v));
    ck_assert_int_eq(json_object_get_int(v), 3);
    ck_assert(json_object_object_get_ex(o, "hook", &v));
    ck_assert_str_eq(json_object_get_string(v), "pvetmpl");
    ck_assert(json_object_object_get_ex(o, "hook_current", &v));
    ck_assert_ptr_null(v);
    ck_assert(json_object_object_get_ex(o, "clones", &v));
    ck_assert_uint_eq(json_object_array_length(v), 3);
    o = json_object_array_get_idx(a, 2); /* 9002: size unknown */
    ck_assert(json_object_object_get_ex(o, "size", &v));
    ck_assert_ptr_null(v);
    json_object_put(a);
    list_result_release(&res);
}
END_TEST

START_TEST(cluster_errors)
{
    struct list_result res;
    struct list_opts o = {.hook_name = "pvetmpl-hook"};
    struct err e = {0};
    const char *top = getenv("PVETMPL_TOP") ? getenv("PVETMPL_TOP") : ".";
    char vl[512];
    snprintf(vl, sizeof(vl), "%s/tests/fixtures/list-cluster/no-such-vmlist", top);
    cf = (struct conf){.vmlist = vl, .pve_dir = "/nonexistent", .hook_name = "pvetmpl-hook"};
    ck_assert_int_eq(list_load(&cf, &o, NULL, &res, &e), -1);
    ck_assert_int_eq(e.cls, ERR_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(e.detail, "no-such-vmlist"));
    /* a config that is a directory is no vanished guest: the listing fails */
    snprintf(vl, sizeof(vl), "%s/tests/fixtures/list-cluster/.vmlist", top);
    char dir[] = "/tmp/pvetmpl-test-list.XXXXXX", p[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/nodes/pve1/qemu-server/101.conf", dir);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
    ck_assert_int_eq(system(cmd), 0);
    cf.pve_dir = dir;
    ck_assert_int_eq(list_load(&cf, &o, NULL, &res, &e), -1);
    ck_assert_int_eq(e.cls, ERR_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(e.detail, "101.conf"));
    ck_assert_ptr_nonnull(strstr(e.detail, "not a regular file"));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    /* an interrupt stops the walk: 130, nothing half listed */
    volatile sig_atomic_t intr = 15;
    ck_assert_int_eq(list_load(&cf, &o, &intr, &res, &e), -1);
    ck_assert_int_eq(e.cls, ERR_INTERRUPTED);
    ck_assert_ptr_null(res.rows);
}
END_TEST

/* A guest gone from where the first .vmlist put it: migrated (the fresh
 * .vmlist, the fixture's, has it on another node: read there), deleted (no
 * longer listed), or listed on the same node still (vanished). */
START_TEST(gone_guests)
{
    const char *top = getenv("PVETMPL_TOP") ? getenv("PVETMPL_TOP") : ".";
    snprintf(pve_dir, sizeof(pve_dir), "%s/tests/fixtures/list-cluster", top);
    snprintf(vmlist_path, sizeof(vmlist_path), "%s/.vmlist", pve_dir);
    cf = (struct conf){.vmlist = vmlist_path, .pve_dir = pve_dir, .hook_name = "pvetmpl-hook"};
    static const char first[] =
        "{\"version\": 76, \"ids\": {"
        "\"102\": {\"node\": \"pve1\", \"type\": \"qemu\", \"version\": 7},"
        "\"103\": {\"node\": \"pve1\", \"type\": \"qemu\", \"version\": 8},"
        "\"120\": {\"node\": \"pve2\", \"type\": \"qemu\", \"version\": 14},"
        "\"121\": {\"node\": \"pve1\", \"type\": \"qemu\", \"version\": 1}}}";
    struct vmlist old;
    ck_assert_int_eq(vmlist_parse(first, strlen(first), &old), 0);
    struct list_opts o = {.hook_name = "pvetmpl-hook", .all = true};
    struct list_builder *b = list_builder_new(&o);
    ck_assert_ptr_nonnull(b);
    /* the templates, read in the first pass */
    char *text;
    size_t len;
    struct err e = {0};
    ck_assert_int_eq(node_read_config_text(&cf, "pve1", 9000, false, &text, &len, &e), 0);
    ck_assert_int_eq(list_builder_add(b, 9000, "pve1", text, len, false), 0);
    free(text);
    static const uint32_t gone[] = {102, 120, 121};
    ck_assert_int_eq(list_load_gone(&cf, b, &old, gone, 3, NULL, &e), 0);
    struct list_result res;
    ck_assert_int_eq(list_builder_finish(b, &res), 0);
    ck_assert_uint_eq(res.n_guests, 2);   /* 9000, and 102 on pve2 */
    ck_assert_uint_eq(res.n_vanished, 2); /* 120 (same node, no file), 121 (not listed) */
    ck_assert_uint_eq(res.rows[0].n_linked, 1);
    ck_assert_str_eq(res.rows[0].clones[0].node, "pve2");
    list_result_release(&res);
    vmlist_release(&old);
}
END_TEST

/* ---- the pure builder on texts ---------------------------------------- */

static void add(struct list_builder *b, uint32_t vmid, const char *node, const char *text)
{
    ck_assert_int_eq(list_builder_add(b, vmid, node, text, strlen(text), false), 0);
}

/* No guest at all: nothing to sort or search (qsort and bsearch must not see
 * a NULL array, even of 0 elements: UBSan's nonnull-attribute). */
START_TEST(builder_empty)
{
    struct list_opts o = {.hook_name = "pvetmpl-hook"};
    struct list_builder *b = list_builder_new(&o);
    ck_assert_ptr_nonnull(b);
    struct list_result res;
    ck_assert_int_eq(list_builder_finish(b, &res), 0);
    ck_assert_uint_eq(res.n, 0);
    ck_assert_uint_eq(res.n_guests, 0);
    list_result_release(&res);
    b = list_builder_new(&o);
    ck_assert_ptr_nonnull(b);
    add(b, 100, "pve1", "name: plain\nscsi0: local-lvm:vm-100-disk-0,size=8G\n");
    ck_assert_int_eq(list_builder_finish(b, &res), 0);
    ck_assert_uint_eq(res.n, 0);
    ck_assert_uint_eq(res.n_guests, 1);
    list_result_release(&res);
}
END_TEST

START_TEST(builder_rules)
{
    struct list_opts o = {.hook_name = "my-hook", .all = true};
    struct list_builder *b = list_builder_new(&o);
    ck_assert_ptr_nonnull(b);
    add(b, 500, "n1",
        "template: 1\nhookscript: store:snippets/my-hook\n"
        "scsi0: zz:base-500-disk-0,size=1G\nscsi1: zz:base-500-disk-1,size=1G\n");
    /* two disks on the template: one clone */
    add(b, 501, "n1",
        "scsi0: zz:base-500-disk-0/vm-501-disk-0\nscsi1: zz:base-500-disk-1/vm-501-disk-1\n");
    /* a base volume name no template has (its template is gone): nobody's */
    add(b, 502, "n2", "scsi0: zz:base-499-disk-0/vm-502-disk-0\n");
    /* a cut file: its last, partial line is not read */
    ck_assert_int_eq(list_builder_add(b, 503, "n1", "name: x\nscsi0: zz:base-500-disk-0/vm-50",
                                      strlen("name: x\nscsi0: zz:base-500-disk-0/vm-50"), true),
                     0);
    /* template: 0 is no template; a template without a name */
    add(b, 504, "n1", "template: 0\nscsi0: zz:base-504-disk-0,size=1G\n");
    add(b, 505, "n1", "template: 1\nscsi0: /dev/sdb,size=1G\nide2: none,media=cdrom\n");
    list_builder_vanished(b);
    struct list_result res;
    ck_assert_int_eq(list_builder_finish(b, &res), 0);
    ck_assert_uint_eq(res.n_guests, 6);
    ck_assert_uint_eq(res.n_vanished, 1);
    ck_assert_uint_eq(res.n, 2);
    ck_assert_uint_eq(res.rows[0].vmid, 500);
    ck_assert_int_eq(res.rows[0].hook, LIST_HOOK_PVETMPL); /* hook_name decides */
    ck_assert_uint_eq(res.rows[0].n_linked, 1);
    ck_assert_uint_eq(res.rows[0].n_clones, 1);
    ck_assert_ptr_null(res.rows[0].clones[0].name);
    ck_assert_uint_eq(res.rows[1].vmid, 505);
    ck_assert_ptr_null(res.rows[1].name);
    ck_assert_uint_eq(res.rows[1].storages.n, 0); /* a passed-through device has none */
    ck_assert_uint_eq(res.rows[1].n_disks, 1);
    ck_assert_uint_eq(res.rows[1].size, 1073741824ULL);
    list_result_release(&res);
    list_result_release(NULL);
}
END_TEST

/* The journal's lineage (audit_lineage_load's edges) over the configs. */
START_TEST(builder_lineage)
{
    static const struct audit_edge edges[] = {
        /* 600 made from 400, twice: the later one counts */
        {.vmid = 600, .src = 400, .usec = 1700000000000000ULL, .kind = AUDIT_EDGE_TEMPLATE},
        {.vmid = 600, .src = 401, .usec = 1700000500000000ULL, .kind = AUDIT_EDGE_TEMPLATE},
        /* a make-template of a VMID 601 had before it was created again */
        {.vmid = 601, .src = 402, .usec = 1600000000000000ULL, .kind = AUDIT_EDGE_TEMPLATE},
        /* full clone 610; linked clone 611 (listed once); 612: a clone of an
         * earlier VM 612; 613: a clone of a VM, not of a template; 614: the
         * hook's edge, no clone event */
        {.vmid = 610, .src = 600, .usec = 1700001000000000ULL, .kind = AUDIT_EDGE_CLONE},
        {.vmid = 611, .src = 600, .usec = 1700001000000000ULL, .kind = AUDIT_EDGE_CLONE},
        {.vmid = 612, .src = 600, .usec = 1600000000000000ULL, .kind = AUDIT_EDGE_CLONE},
        {.vmid = 613, .src = 610, .usec = 1700002000000000ULL, .kind = AUDIT_EDGE_CLONE},
        {.vmid = 614, .src = 600, .usec = 1700002000000000ULL, .kind = AUDIT_EDGE_HOOK},
        /* 615 cloned from 600, then 601: the later one counts */
        {.vmid = 615, .src = 600, .usec = 1700001000000000ULL, .kind = AUDIT_EDGE_CLONE},
        {.vmid = 615, .src = 601, .usec = 1700003000000000ULL, .kind = AUDIT_EDGE_CLONE},
    };
    for (int all = 0; all < 2; all++) {
        struct list_opts o = {.all = all, .edges = edges, .n_edges = 7 + 3};
        struct list_builder *b = list_builder_new(&o);
        ck_assert_ptr_nonnull(b);
        add(b, 600, "n1",
            "template: 1\nmeta: creation-qemu=9.0.2,ctime=1690000000\n"
            "scsi0: zz:base-600-disk-0,size=1G\n");
        add(b, 601, "n1", "template: 1\nmeta: ctime=1650000000,creation-qemu=9.0.2\n");
        add(b, 602, "n1", "template: 1\nmeta: creation-qemu=9.0.2\n");
        add(b, 610, "n1", "name: full\nmeta: ctime=1690000000\nscsi0: zz:vm-610-disk-0\n");
        add(b, 611, "n2", "name: linked\nscsi0: zz:base-600-disk-0/vm-611-disk-0\n");
        add(b, 612, "n1", "meta: ctime=1650000000\n");
        add(b, 613, "n1", "name: c\n");
        add(b, 614, "n1", "name: d\n");
        add(b, 615, "n1", "name: e\n");
        struct list_result res;
        ck_assert_int_eq(list_builder_finish(b, &res), 0);
        ck_assert_uint_eq(res.n, 3);
        const struct list_row *r = row(&res, 600);
        ck_assert_int_eq(r->created_source, LIST_CREATED_JOURNAL);
        ck_assert_uint_eq(r->created_from, 401);
        ck_assert(r->created_us == 1700000500000000ULL);
        r = row(&res, 601); /* its edge is older than its config: the config's */
        ck_assert_int_eq(r->created_source, LIST_CREATED_CONFIG);
        ck_assert_uint_eq(r->created_from, 0);
        ck_assert(r->created_us == 1650000000000000ULL);
        r = row(&res, 602);
        ck_assert_int_eq(r->created_source, LIST_CREATED_NONE);
        ck_assert_uint_eq(r->created_us, 0);
        r = row(&res, 600);
        ck_assert_uint_eq(r->n_linked, 1);
        if (!all) {
            ck_assert_uint_eq(r->n_clones, 0);
        } else {
            ck_assert_uint_eq(r->n_clones, 2);
            ck_assert_uint_eq(r->clones[0].vmid, 610);
            ck_assert(!r->clones[0].linked);
            ck_assert_str_eq(r->clones[0].name, "full");
            ck_assert_str_eq(r->clones[0].node, "n1");
            ck_assert_uint_eq(r->clones[1].vmid, 611);
            ck_assert(r->clones[1].linked);
            ck_assert_uint_eq(row(&res, 601)->n_clones, 1);
            ck_assert_uint_eq(row(&res, 601)->clones[0].vmid, 615);
        }
        list_result_release(&res);
    }
}
END_TEST

/* ---- the table -------------------------------------------------------- */

static char *draw(const char *json)
{
    struct json_object *t = json_tokener_parse(json);
    ck_assert_ptr_nonnull(t);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    list_draw(f, t);
    fclose(f);
    json_object_put(t);
    return buf;
}

START_TEST(table)
{
    /* as list_rows_json makes them; "clones" only with --all */
#define ROW1                                                                                       \
    "{\"vmid\":9000,\"name\":\"ubuntu-2404\",\"node\":\"pve1\","                                   \
    "\"storages\":[\"local-zfs\",\"nfs\"],\"size\":35971399680,\"hook\":\"pvetmpl\","              \
    "\"hook_current\":\"outdated\",\"created\":1764460800,\"created_from\":100,"                   \
    "\"linked_clones\":12"
#define ROW2                                                                                       \
    "{\"vmid\":95001,\"name\":\"x\\u001b[2Jy\",\"node\":\"pve2\",\"storages\":[],"                 \
    "\"size\":null,\"hook\":\"none\",\"hook_current\":null,\"created\":null,"                      \
    "\"linked_clones\":0"
#define ROW3                                                                                       \
    "{\"vmid\":9100,\"name\":\"a\",\"node\":\"pve3\",\"storages\":[],\"size\":0,"                  \
    "\"hook\":\"pvetmpl\",\"hook_current\":null,\"created\":1764460800,\"linked_clones\":0}"
#define ROW4                                                                                       \
    "{\"vmid\":9101,\"name\":\"b\",\"node\":\"pve1\",\"storages\":[],\"size\":0,"                  \
    "\"hook\":\"pvetmpl\",\"hook_current\":\"missing\",\"created\":null,\"linked_clones\":0}"
#define ROW5                                                                                       \
    "{\"vmid\":9102,\"name\":\"c\",\"node\":\"pve1\",\"storages\":[],\"size\":0,"                  \
    "\"hook\":\"pvetmpl\",\"hook_current\":\"current\",\"created\":null,\"linked_clones\":0}"
    setenv("TZ", "UTC", 1);
    tzset();
    char *s = draw("[" ROW1 "}," ROW2 "}," ROW3 "," ROW4 "," ROW5 "]");
    ck_assert_str_eq(
        s,
        " VMID  NAME         NODE  STORAGES        SIZE  CREATED              LINKED  HOOK\n"
        " 9000  ubuntu-2404  pve1  local-zfs,nfs  33.5G  2025-11-30 from 100      12  pvetmpl "
        "(outdated)\n"
        "95001  x?[2Jy       pve2  -                  ?  -                         0  none\n"
        " 9100  a            pve3  -                  0  2025-11-30                0  pvetmpl (?)\n"
        " 9101  b            pve1  -                  0  -                         0  pvetmpl "
        "(missing)\n"
        " 9102  c            pve1  -                  0  -                         0  pvetmpl\n");
    free(s);
    s = draw("[" ROW1 ",\"clones\":[{\"vmid\":101,\"name\":\"web01\",\"node\":\"pve1\","
             "\"linked\":true}]}," ROW2 ",\"clones\":[]}]");
    ck_assert_ptr_nonnull(
        strstr(s, "(outdated)\n       `- 101 web01 on pve1, linked clone\n95001"));
    free(s);
#undef ROW1
#undef ROW2
#undef ROW3
#undef ROW4
#undef ROW5
    /* columns by display width, not bytes: "d\u00e9bian-\u00fcber" is 11
     * columns in 13 bytes, so NAME is 11 wide and the NODE column lines up */
    s = draw("[{\"vmid\":9200,\"name\":\"d\u00e9bian-\u00fcber\",\"node\":\"pve1\","
             "\"storages\":[],\"size\":0,\"hook\":\"none\",\"hook_current\":null,"
             "\"created\":null,\"linked_clones\":0},"
             "{\"vmid\":9201,\"name\":\"ascii\",\"node\":\"pve2\",\"storages\":[],"
             "\"size\":0,\"hook\":\"none\",\"hook_current\":null,\"created\":null,"
             "\"linked_clones\":0}]");
    ck_assert_str_eq(s, "VMID  NAME         NODE  STORAGES  SIZE  CREATED  LINKED  HOOK\n"
                        "9200  d\xc3\xa9"
                        "bian-\xc3\xbc"
                        "ber  pve1  -            0  -             0  none\n"
                        "9201  ascii        pve2  -            0  -             0  none\n");
    free(s);
    s = draw("[]");
    ck_assert_str_eq(s, "no templates in the cluster\n");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("list");
    TCase *tc = tcase_create("list");
    tcase_add_test(tc, volname_shapes);
    tcase_add_test(tc, volname_refused);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, cluster_rows);
    tcase_add_test(tc, cluster_all);
    tcase_add_test(tc, cluster_errors);
    tcase_add_test(tc, gone_guests);
    tcase_add_test(tc, builder_empty);
    tcase_add_test(tc, builder_rules);
    tcase_add_test(tc, builder_lineage);
    tcase_add_test(tc, table);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
