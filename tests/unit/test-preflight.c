/* SPDX-License-Identifier: GPL-3.0-or-later */
/* preflight's pure stage, without a node: which storage types may hold
 * templates (the built-in table plus the config's template_types), and
 * preflight_evaluate on facts built from captured outputs in tests/fixtures/
 * and from small literal ones, a test per check, passing and failing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight.h"
#include "unit.h"

#ifndef TOP
#define TOP "."
#endif

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

/* ---- facts --------------------------------------------------------------- */

static char *slurp(const char *rel, size_t *ret_len)
{
    const char *top = getenv("PVETMPL_TOP");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/fixtures/%s", top ? top : TOP, rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    *ret_len = n;
    return buf;
}

static void parse_config(const char *text, struct qm_config *ret)
{
    unsigned line = 0;
    ck_assert_msg(qm_parse_config(text, strlen(text), ret, &line) == 0, "config line %u", line);
}

static void parse_pvesm(const char *text, struct pvesm_status *ret)
{
    unsigned line = 0;
    ck_assert_msg(pvesm_parse_status(text, strlen(text), ret, &line) == 0, "pvesm line %u", line);
}

/* Fixture names relative to tests/fixtures/<family>/ (".txt" added). */
static void fixture_config(const char *name, struct qm_config *ret)
{
    char rel[256];
    size_t n;
    snprintf(rel, sizeof(rel), "qm-config/%s.txt", name);
    parse_config(slurp(rel, &n), ret);
}

static void fixture_status(const char *name, struct qm_status *ret)
{
    char rel[256];
    size_t n;
    unsigned line = 0;
    snprintf(rel, sizeof(rel), "qm-status/%s.txt", name);
    const char *t = slurp(rel, &n);
    ck_assert_msg(qm_parse_status(t, n, ret, &line) == 0, "status line %u", line);
}

static void fixture_pvesm(const char *name, struct pvesm_status *ret)
{
    char rel[256];
    size_t n;
    snprintf(rel, sizeof(rel), "pvesm-status/%s.txt", name);
    parse_pvesm(slurp(rel, &n), ret);
}

static void fixture_members(const char *name, struct vmlist_members *ret)
{
    char rel[256];
    size_t n;
    snprintf(rel, sizeof(rel), "members/%s.txt", name);
    const char *t = slurp(rel, &n);
    ck_assert_int_eq(vmlist_members_parse(t, n, ret), 0);
}

static void fixture_vmlist(const char *name, struct vmlist *ret)
{
    char rel[256];
    size_t n;
    snprintf(rel, sizeof(rel), "vmlist/%s.txt", name);
    const char *t = slurp(rel, &n);
    ck_assert_int_eq(vmlist_parse(t, n, ret), 0);
}

/* The answers of a node where every query succeeded: VM 100 on node pve1
 * (vmlist spec-other-nodes: 101 is an lxc guest on pve2), with config cfg,
 * status st (fixture names), every storage of pvesm holding images, no
 * pending changes. */
static void facts(struct preflight_facts *f, const char *cfg, const char *st, const char *pvesm)
{
    memset(f, 0, sizeof(*f));
    f->local = "pve1";
    fixture_vmlist("spec-other-nodes", &f->vl);
    fixture_members("spec-cluster", &f->members);
    fixture_config(cfg, &f->src_cf);
    fixture_config(cfg, &f->pending_cf);
    fixture_status(st, &f->src_st);
    fixture_pvesm(pvesm, &f->all);
    fixture_pvesm(pvesm, &f->images);
    f->q_status.asked = f->q_config.asked = f->q_pending.asked = true;
    f->q_pvesm.asked = f->q_images.asked = true;
}

/* The same from literal text. */
static void facts_text(struct preflight_facts *f, const char *cfg, const char *status,
                       const char *pvesm)
{
    memset(f, 0, sizeof(*f));
    f->local = "pve1";
    fixture_vmlist("spec-other-nodes", &f->vl);
    fixture_members("spec-cluster", &f->members);
    parse_config(cfg, &f->src_cf);
    parse_config(cfg, &f->pending_cf);
    unsigned line = 0;
    ck_assert_int_eq(qm_parse_status(status, strlen(status), &f->src_st, &line), 0);
    parse_pvesm(pvesm, &f->all);
    parse_pvesm(pvesm, &f->images);
    f->q_status.asked = f->q_config.asked = f->q_pending.asked = true;
    f->q_pvesm.asked = f->q_images.asked = true;
}

#define PVESM_HDR                                                                                  \
    "Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %\n"
#define PVESM_ROW(name, type, state)                                                               \
    name " " type " " state "  100000000  1000  99999000    1.00%\n"

static const struct conf *config(void)
{
    static struct conf cf;
    cf.hook_name = "pvetmpl-hook";
    cf.pve_dir = "/etc/pve";
    return &cf;
}

/* Evaluates q on f; 0 expected. */
static void eval(const struct preflight_req *q, const struct preflight_facts *f,
                 struct preflight_eval *v)
{
    struct err e = {0};
    int r = preflight_evaluate(config(), q, f, v, &e);
    ck_assert_msg(r == 0, "evaluate: %s", e.detail);
}

static const struct preflight_item *item(const struct preflight_eval *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->items[i].name, name) == 0) {
            return &v->items[i];
        }
    }
    return NULL;
}

/* The check name exists with ok (and busy), its detail containing want. */
static void expect(const struct preflight_eval *v, const char *name, bool ok, bool busy,
                   const char *want)
{
    const struct preflight_item *it = item(v, name);
    ck_assert_msg(it != NULL, "no check '%s'", name);
    ck_assert_msg(it->ok == ok, "check '%s' ok=%d: %s", name, it->ok, it->detail);
    ck_assert_msg(it->busy == busy, "check '%s' busy=%d: %s", name, it->busy, it->detail);
    ck_assert_msg(strstr(it->detail, want) != NULL, "check '%s': '%s' lacks '%s'", name, it->detail,
                  want);
}

static void release(struct preflight_facts *f, struct preflight_eval *v)
{
    preflight_facts_release(f);
    preflight_eval_release(v);
}

/* ---- the source ---------------------------------------------------------- */

START_TEST(source_stopped_passes_running_fails)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .newid = 9000, .for_template = true};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    ck_assert(v.src_ok);
    expect(&v, "source_exists", true, false, "VM 100 'hmi-scada' is on this node 'pve1'");
    expect(&v, "source_stopped", true, false, "VM 100 is stopped");
    expect(&v, "source_unlocked", true, false, "is not locked");
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-1-running", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "source_stopped", false, false, "VM 100 is running; stop it first");
    release(&f, &v);
}
END_TEST

START_TEST(source_suspended_is_not_stopped)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    facts(&f, "real-7-legacy-boot-iso", "spec-value-suspended", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "source_stopped", false, false, "VM 100 is suspended; stop it first");
    release(&f, &v);
}
END_TEST

START_TEST(source_locked_is_busy)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    /* lock: clone, a task's lock: retried later */
    facts(&f, "spec-lock-clone-parent-hookscript", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "source_unlocked", false, true, "VM 100 is locked (clone)");
    release(&f, &v);
}
END_TEST

START_TEST(source_hibernated_lock_is_not_waited_for)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    facts_text(&f, "lock: suspended\nname: h\nscsi0: local-lvm:vm-100-disk-0,size=8G\n",
               "status: stopped\n", PVESM_HDR PVESM_ROW("local-lvm", "lvmthin", "active"));
    eval(&q, &f, &v);
    /* no task drops it: a precondition, not busy, and what to do */
    expect(&v, "source_unlocked", false, false, "'qm resume 100'");
    release(&f, &v);
}
END_TEST

START_TEST(source_on_other_node_or_not_qemu_or_missing)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.local = "pve9";
    eval(&q, &f, &v);
    ck_assert(!v.src_ok);
    expect(&v, "source_exists", false, false, "VM 100 is on node 'pve1', not on this node 'pve9'");
    ck_assert_ptr_null(item(&v, "source_stopped"));
    release(&f, &v);

    q.src = 101; /* an lxc guest */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.local = "pve2";
    eval(&q, &f, &v);
    expect(&v, "source_exists", false, false, "guest 101 is a 'lxc' guest, not a qemu VM");
    release(&f, &v);

    q.src = 555; /* not in .vmlist, qm says why */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.q_config.failed = true;
    snprintf(f.q_config.error, sizeof(f.q_config.error),
             "Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist");
    eval(&q, &f, &v);
    expect(&v, "source_exists", false, false, "VM 555 not found: Configuration file");
    release(&f, &v);
}
END_TEST

START_TEST(unparseable_or_failed_answers_are_run_errors)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    struct err e = {0};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.q_config.bad = true;
    f.q_config.bad_line = 3;
    ck_assert_int_eq(preflight_evaluate(config(), &q, &f, &v, &e), -1);
    ck_assert_int_eq(e.cls, ERR_BAD_OUTPUT);
    ck_assert_str_eq(e.detail, "cannot parse the output of 'qm config 100' (line 3)");
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.q_pvesm.failed = true;
    err_set(&f.q_pvesm.fail, ERR_QM_FAILED, "'pvesm status' failed (exit 2): boom");
    ck_assert_int_eq(preflight_evaluate(config(), &q, &f, &v, &e), -1);
    ck_assert_str_eq(e.detail, "'pvesm status' failed (exit 2): boom");
    /* the checks made before are kept, for the report */
    ck_assert_ptr_nonnull(item(&v, "source_stopped"));
    release(&f, &v);
}
END_TEST

START_TEST(linked_clone_needs_a_template)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .newid = 9001, .linked = true};
    facts(&f, "real-9-template-lvmthin-base", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "source_is_template", true, false, "VM 100 is a template");
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "source_is_template", false, false, "is not a template; a linked clone needs one");
    release(&f, &v);

    q.linked = false; /* a full clone does not ask */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    ck_assert_ptr_null(item(&v, "source_is_template"));
    release(&f, &v);
}
END_TEST

START_TEST(newid_free_or_taken)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .newid = 9000};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "newid_free", true, false, "VMID 9000 is free in the cluster");
    release(&f, &v);

    q.newid = 101;
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "newid_free", false, false,
           "VMID 101 is already used by a 'lxc' guest on node 'pve2'");
    release(&f, &v);
}
END_TEST

/* ---- storages ------------------------------------------------------------- */

START_TEST(storage_active_passes_inactive_fails)
{
    struct preflight_facts f;
    struct preflight_eval v;
    /* the source's disk is on local-lvm (lvmthin, active) */
    struct preflight_req q = {.src = 100, .newid = 9000, .for_template = true};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-3-disabled-na");
    eval(&q, &f, &v);
    expect(&v, "storage:local-lvm", true, false,
           "'local-lvm' (lvmthin) is active and can take "
           "templates");
    ck_assert_uint_eq(v.storages.n, 1); /* the ISO's storage is not written to */
    release(&f, &v);

    q.storage = "HHDD"; /* zfspool, disabled */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-3-disabled-na");
    eval(&q, &f, &v);
    expect(&v, "storage:HHDD", false, false, "storage 'HHDD' is disabled, not active");
    ck_assert_ptr_null(item(&v, "storage:local-lvm"));
    release(&f, &v);

    q.storage = "nowhere";
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-3-disabled-na");
    eval(&q, &f, &v);
    expect(&v, "storage:nowhere", false, false, "storage 'nowhere' does not exist");
    release(&f, &v);
}
END_TEST

START_TEST(storage_without_images_fails)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .storage = "local"};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    pvesm_status_release(&f.images);
    parse_pvesm(PVESM_HDR PVESM_ROW("local-lvm", "lvmthin", "active"), &f.images);
    eval(&q, &f, &v);
    expect(&v, "storage:local", false, false, "does not hold VM images (content 'images')");
    release(&f, &v);
}
END_TEST

START_TEST(storage_unsupported_for_templates)
{
    struct preflight_facts f;
    struct preflight_eval v;
    const char *pvesm =
        PVESM_HDR PVESM_ROW("thick", "lvm", "active") PVESM_ROW("netapp", "truenas", "active");
    struct preflight_req q = {.src = 100, .storage = "thick", .for_template = true};
    facts_text(&f, "name: a\nscsi0: thick:vm-100-disk-0,size=8G\n", "status: stopped\n", pvesm);
    eval(&q, &f, &v);
    expect(&v, "storage:thick", false, false, "cannot hold templates");
    release(&f, &v);

    q.storage = "netapp"; /* a type pvetmpl does not know */
    facts_text(&f, "name: a\nscsi0: thick:vm-100-disk-0,size=8G\n", "status: stopped\n", pvesm);
    eval(&q, &f, &v);
    expect(&v, "storage:netapp", false, false, "list it in template_types if it does");
    release(&f, &v);

    q.for_template = false; /* a plain clone may go to lvm */
    q.storage = "thick";
    facts_text(&f, "name: a\nscsi0: thick:vm-100-disk-0,size=8G\n", "status: stopped\n", pvesm);
    eval(&q, &f, &v);
    expect(&v, "storage:thick", true, false, "can take VM images");
    release(&f, &v);
}
END_TEST

START_TEST(storage_iscsi_is_never_a_target)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .storage = "san"};
    facts_text(&f, "name: a\nscsi0: san:0.0.0.scsi-36001405,size=8G\n", "status: stopped\n",
               PVESM_HDR PVESM_ROW("san", "iscsi", "active"));
    eval(&q, &f, &v);
    expect(&v, "storage:san", false, false, "cannot allocate new disks");
    release(&f, &v);
}
END_TEST

START_TEST(disk_without_storage_fails)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    facts_text(&f, "name: a\nscsi0: /dev/disk/by-id/ata-X,size=32G\n", "status: stopped\n",
               PVESM_HDR PVESM_ROW("local-lvm", "lvmthin", "active"));
    eval(&q, &f, &v);
    expect(&v, "disk:scsi0", false, false, "not a volume on a storage; qm cannot copy it");
    release(&f, &v);

    /* CD-ROMs are copied verbatim (none, cdrom, an ISO on local) */
    facts(&f, "spec-cdrom-kinds", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    ck_assert_uint_eq(v.storages.n, 1);
    ck_assert_str_eq(v.storages.v[0], "local-lvm");
    ck_assert_ptr_null(item(&v, "disk:ide0"));
    release(&f, &v);

    /* a cloud-init drive is written: its storage counts */
    facts_text(&f,
               "name: a\nide2: ci:vm-100-cloudinit,media=cdrom\n"
               "scsi0: local-lvm:vm-100-disk-0,size=8G\n",
               "status: stopped\n",
               PVESM_HDR PVESM_ROW("local-lvm", "lvmthin", "active")
                   PVESM_ROW("ci", "dir", "active"));
    eval(&q, &f, &v);
    ck_assert_uint_eq(v.storages.n, 2);
    expect(&v, "storage:ci", true, false, "'ci' (dir) is active");
    release(&f, &v);
}
END_TEST

/* ---- options ---------------------------------------------------------------- */

START_TEST(pool_exists_or_missing)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .pool = "prod"};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.pool_exists = true;
    eval(&q, &f, &v);
    expect(&v, "pool", true, false, "pool 'prod' exists");
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "pool", false, false,
           "pool 'prod' does not exist in the cluster (/etc/pve/user.cfg); create it with "
           "'pveum pool add prod'");
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    snprintf(f.pool_error, sizeof(f.pool_error), "cannot read '/etc/pve/user.cfg'");
    eval(&q, &f, &v);
    expect(&v, "pool", false, false, "pool 'prod' cannot be checked: cannot read");
    release(&f, &v);
}
END_TEST

START_TEST(format_fits_or_not)
{
    struct preflight_facts f;
    struct preflight_eval v;
    size_t n;
    const char *cfg = slurp("pve-cfg/storage.cfg", &n);
    struct preflight_req q = {.src = 100, .format = "qcow2"}; /* disk on local-lvm: lvmthin */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    ck_assert_int_eq(pvecfg_parse_storage(cfg, n, &f.storage_cfg), 0);
    eval(&q, &f, &v);
    expect(&v, "format", false, false,
           "storage 'local-lvm' (lvmthin) cannot hold format 'qcow2', only raw");
    release(&f, &v);

    q.storage = "local"; /* dir */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    ck_assert_int_eq(pvecfg_parse_storage(cfg, n, &f.storage_cfg), 0);
    eval(&q, &f, &v);
    expect(&v, "format", true, false, "format 'qcow2' fits every target storage");
    release(&f, &v);
}
END_TEST

START_TEST(foreign_hook_refused_unless_replaced)
{
    struct preflight_facts f;
    struct preflight_eval v;
    const char *cfg = "name: gpu\nhookscript: local:snippets/gpu.pl\n"
                      "scsi0: local-lvm:vm-100-disk-0,size=8G\n";
    const char *pvesm =
        PVESM_HDR PVESM_ROW("local", "dir", "active") PVESM_ROW("local-lvm", "lvmthin", "active");
    struct preflight_req q = {.src = 100, .for_template = true, .hook_storage = "local"};
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    eval(&q, &f, &v);
    expect(&v, "foreign_hookscript", false, false,
           "VM 100 has the hookscript 'local:snippets/gpu.pl', not pvetmpl's");
    expect(&v, "hook_storage", true, false, "hook storage 'local' can hold snippets");
    release(&f, &v);

    q.replace_hook = true;
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    eval(&q, &f, &v);
    expect(&v, "foreign_hookscript", true, false, "(--replace-hook)");
    /* the copy inherits it, and registering replaces it: known, no read needed */
    ck_assert(v.copy_hook_known);
    release(&f, &v);

    /* a copy of a snapshot carries the snapshot's hookscript, not this one */
    q.snapname = "s1";
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_snap.asked = true;
    eval(&q, &f, &v);
    ck_assert(!v.copy_hook_known);
    release(&f, &v);
    q.snapname = NULL;

    /* pvetmpl's own, on any storage: no check, and the copy's is read back */
    facts(&f, "spec-lock-clone-parent-hookscript", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    ck_assert_ptr_null(item(&v, "foreign_hookscript"));
    ck_assert(!v.copy_hook_known);
    release(&f, &v);

    q.hook_storage = NULL; /* --no-hook: qm copies it, nothing to refuse */
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    eval(&q, &f, &v);
    ck_assert_ptr_null(item(&v, "foreign_hookscript"));
    ck_assert_ptr_null(item(&v, "hook_storage"));
    release(&f, &v);
}
END_TEST

START_TEST(hook_storage_must_be_active_and_file_based)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .hook_storage = "local-lvm"};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "hook_storage", false, false, "must be an active file-based storage");
    release(&f, &v);

    q.hook_storage = "gone";
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    expect(&v, "hook_storage", false, false, "hook storage 'gone' does not exist");
    release(&f, &v);
}
END_TEST

START_TEST(target_node_answers_or_not)
{
    struct preflight_facts f;
    struct preflight_eval v;
    const char *cfg = "name: a\nhookscript: local:snippets/x.pl\n"
                      "scsi0: shared-nfs:100/vm-100-disk-0.qcow2,size=8G\n";
    const char *pvesm =
        PVESM_HDR PVESM_ROW("local", "dir", "active") PVESM_ROW("shared-nfs", "nfs", "active");
    struct preflight_req q = {.src = 100, .target = "pve2"};
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    parse_pvesm(PVESM_HDR PVESM_ROW("shared-nfs", "nfs", "active"), &f.target_list);
    eval(&q, &f, &v);
    expect(&v, "target_node", true, false, "node 'pve2' answers for shared storages");
    expect(&v, "storage:shared-nfs", true, false, "is active");
    /* the inherited hookscript lives on node-local storage */
    expect(&v, "source_hookscript", false, false, "not shared with node 'pve2'");
    release(&f, &v);

    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = f.q_target.failed = true;
    snprintf(f.q_target.error, sizeof(f.q_target.error), "storage 'x' is not online");
    eval(&q, &f, &v);
    expect(&v, "target_node", false, false,
           "node 'pve2' cannot be a target: storage 'x' is not online");
    ck_assert_ptr_null(item(&v, "source_hookscript"));
    release(&f, &v);

    /* pvesm status --target answers for any name; qm clone wants a member
     * (pve3 has no guest: only .members names it) */
    struct preflight_req q4 = {.src = 100, .target = "pve4"};
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    parse_pvesm(PVESM_HDR PVESM_ROW("shared-nfs", "nfs", "active"), &f.target_list);
    eval(&q4, &f, &v);
    expect(&v, "target_node", false, false,
           "node 'pve4' cannot be a target: no such cluster node 'pve4'; did you mean 'pve1'?");
    ck_assert_ptr_null(item(&v, "source_hookscript"));
    release(&f, &v);
    struct preflight_req q3 = {.src = 100, .target = "pev3"};
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    eval(&q3, &f, &v);
    expect(&v, "target_node", false, false, "no such cluster node 'pev3'; did you mean 'pve3'?");
    release(&f, &v);
    /* the member list unreadable: refused, saying why */
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    snprintf(f.members_error, sizeof(f.members_error), "cannot read '/etc/pve/.members': gone");
    eval(&q, &f, &v);
    expect(&v, "target_node", false, false,
           "node 'pve2' cannot be a target: cannot read '/etc/pve/.members': gone");
    release(&f, &v);

    /* make-template: this node (its name, the member list's nodename or
     * 'localhost') is no target (qm migrate refuses it), and is never
     * suggested for a typo; a clone may name it (qm clones locally) */
    const char *self[] = {"pve1", "localhost"};
    for (size_t i = 0; i < 2; i++) {
        struct preflight_req qs = {.src = 100, .target = self[i], .for_template = true};
        facts_text(&f, cfg, "status: stopped\n", pvesm);
        f.q_target.asked = true;
        parse_pvesm(PVESM_HDR PVESM_ROW("shared-nfs", "nfs", "active"), &f.target_list);
        eval(&qs, &f, &v);
        expect(&v, "target_node", false, false, "cannot be a target: it is this node");
        ck_assert_ptr_null(strstr(item(&v, "target_node")->detail, "did you mean"));
        release(&f, &v);
    }
    struct preflight_req qt = {.src = 100, .target = "pve4", .for_template = true};
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    eval(&qt, &f, &v);
    expect(&v, "target_node", false, false,
           "node 'pve4' cannot be a target: no such cluster node 'pve4'; did you mean 'pve2'?");
    release(&f, &v);
    struct preflight_req qc = {.src = 100, .target = "pve1"};
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    parse_pvesm(PVESM_HDR PVESM_ROW("shared-nfs", "nfs", "active"), &f.target_list);
    eval(&qc, &f, &v);
    expect(&v, "target_node", true, false, "node 'pve1' answers for shared storages");
    release(&f, &v);

    /* a storage the target does not see */
    facts_text(&f, cfg, "status: stopped\n", pvesm);
    f.q_target.asked = true;
    parse_pvesm(PVESM_HDR PVESM_ROW("local", "dir", "active"), &f.target_list);
    eval(&q, &f, &v);
    expect(&v, "storage:shared-nfs", false, false, "is not shared with node 'pve2'");
    expect(&v, "source_hookscript", true, false, "shared with node 'pve2'");
    release(&f, &v);
}
END_TEST

START_TEST(pending_changes_named_or_unknown)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    eval(&q, &f, &v);
    ck_assert_uint_eq(v.n_pending, 0);
    ck_assert(!v.pending_unknown);
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    qm_config_release(&f.pending_cf);
    parse_config("name: hmi-scada\nmemory: 4096\nscsi0: local-lvm:vm-100-disk-0,size=20G\n",
                 &f.pending_cf);
    eval(&q, &f, &v);
    ck_assert_uint_gt(v.n_pending, 0);
    ck_assert_msg(strstr(v.pending, "memory") != NULL, "pending: %s", v.pending);
    release(&f, &v);

    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.q_pending.failed = true;
    eval(&q, &f, &v);
    ck_assert(v.pending_unknown);
    release(&f, &v);

    q.snapname = "s1"; /* a snapshot is copied as it was: no pending changes */
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.q_pending.failed = true;
    f.q_snap.asked = true;
    eval(&q, &f, &v);
    ck_assert(!v.pending_unknown);
    expect(&v, "snapshot_exists", true, false, "snapshot 's1' exists");
    release(&f, &v);
}
END_TEST

START_TEST(snapshot_missing_fails)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .snapname = "s9"};
    facts(&f, "real-7-legacy-boot-iso", "real-3-stopped", "real-1-new-header");
    f.q_snap.asked = f.q_snap.failed = true;
    snprintf(f.q_snap.error, sizeof(f.q_snap.error), "snapshot 's9' does not exist");
    eval(&q, &f, &v);
    expect(&v, "snapshot_exists", false, false, "snapshot 's9' of VM 100: snapshot 's9' does");
    release(&f, &v);
}
END_TEST

START_TEST(every_failure_is_reported)
{
    struct preflight_facts f;
    struct preflight_eval v;
    struct preflight_req q = {.src = 100, .newid = 101, .storage = "HHDD", .pool = "x"};
    facts(&f, "spec-lock-clone-parent-hookscript", "real-1-running", "real-3-disabled-na");
    eval(&q, &f, &v);
    size_t failed = 0;
    for (size_t i = 0; i < v.n; i++) {
        failed += !v.items[i].ok;
    }
    /* locked, running, newid taken, storage disabled, pool missing */
    ck_assert_uint_eq(failed, 5);
    release(&f, &v);
}
END_TEST

START_TEST(hook_path_parse_takes_only_the_volume_file)
{
    char path[256];
    struct err e;
    const char *volid = "local:snippets/pvetmpl-hook";
    ck_assert_int_eq(
        hook_path_parse(volid, "/var/lib/vz/snippets/pvetmpl-hook\n", path, sizeof(path), &e), 0);
    ck_assert_str_eq(path, "/var/lib/vz/snippets/pvetmpl-hook");
    ck_assert_int_eq(hook_path_parse(volid, "", path, sizeof(path), &e), -1);
    ck_assert_int_eq(e.cls, ERR_BAD_OUTPUT);
    ck_assert_int_eq(
        hook_path_parse(volid, "var/lib/vz/snippets/pvetmpl-hook\n", path, sizeof(path), &e), -1);
    ck_assert_int_eq(hook_path_parse(volid, "/var/lib/vz/snippets/other\n", path, sizeof(path), &e),
                     -1);
    ck_assert_int_eq(hook_path_parse(volid, "/x/pvetmpl-hook\n", path, 5, &e), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("preflight");
    TCase *tc = tcase_create("preflight");
    tcase_add_test(tc, builtin_types);
    tcase_add_test(tc, template_types_vouch_for_third_party_types_only);
    tcase_add_test(tc, source_stopped_passes_running_fails);
    tcase_add_test(tc, source_suspended_is_not_stopped);
    tcase_add_test(tc, source_locked_is_busy);
    tcase_add_test(tc, source_hibernated_lock_is_not_waited_for);
    tcase_add_test(tc, source_on_other_node_or_not_qemu_or_missing);
    tcase_add_test(tc, unparseable_or_failed_answers_are_run_errors);
    tcase_add_test(tc, linked_clone_needs_a_template);
    tcase_add_test(tc, newid_free_or_taken);
    tcase_add_test(tc, storage_active_passes_inactive_fails);
    tcase_add_test(tc, storage_without_images_fails);
    tcase_add_test(tc, storage_unsupported_for_templates);
    tcase_add_test(tc, storage_iscsi_is_never_a_target);
    tcase_add_test(tc, disk_without_storage_fails);
    tcase_add_test(tc, pool_exists_or_missing);
    tcase_add_test(tc, format_fits_or_not);
    tcase_add_test(tc, foreign_hook_refused_unless_replaced);
    tcase_add_test(tc, hook_storage_must_be_active_and_file_based);
    tcase_add_test(tc, target_node_answers_or_not);
    tcase_add_test(tc, pending_changes_named_or_unknown);
    tcase_add_test(tc, snapshot_missing_fails);
    tcase_add_test(tc, every_failure_is_reported);
    tcase_add_test(tc, hook_path_parse_takes_only_the_volume_file);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
