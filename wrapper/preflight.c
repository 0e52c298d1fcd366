/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "preflight.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookreg.h"
#include "node.h"
#include "suggest.h"
#include "pvecfg.h"
#include "qmargv.h"

bool preflight_check(struct ctx *c, struct preflight *p, const char *name, bool ok, bool busy,
                     const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    report_add_check(c->rep, name, ok, detail);
    if (!ok) {
        p->failed++;
        if (busy) {
            p->failed_busy++;
        }
        strv_push(&p->failures, detail);
    }
    return ok;
}

int preflight_fail(const struct preflight *p, struct err *e)
{
    char buf[sizeof(e->detail)];
    size_t off = 0;
    for (size_t i = 0; i < p->failures.n && off < sizeof(buf); i++) {
        off +=
            (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "; " : "", p->failures.v[i]);
    }
    return err_set(e, p->failed == p->failed_busy ? ERR_BUSY : ERR_PRECONDITION, "%s", buf);
}

static bool in_list(const struct strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++) {
        if (strcmp(sv->v[i], s) == 0) {
            return true;
        }
    }
    return false;
}

enum pvesm_template_support preflight_template_support(const struct conf *cf, const char *type)
{
    enum pvesm_template_support t = pvesm_type_template_support(type);
    return t == PVESM_TEMPLATE_UNKNOWN && in_list(&cf->template_types, type) ? PVESM_TEMPLATE_YES
                                                                             : t;
}

bool preflight_check_storage(struct ctx *c, struct preflight *p, const char *sid, bool for_template,
                             const struct pvesm_status *target_list, const char *target)
{
    char name[160];
    snprintf(name, sizeof(name), "storage:%s", sid);
    const struct pvesm_row *row = pvesm_status_find(&p->all, sid);
    if (!row) {
        return preflight_check(c, p, name, false, false, "storage '%s' does not exist%s", sid,
                               SUGGEST_STORAGE(&p->all, sid));
    }
    if (row->state != PVESM_ACTIVE) {
        return preflight_check(c, p, name, false, false, "storage '%s' is %s, not active", sid,
                               pvesm_state_name(row->state));
    }
    if (!pvesm_status_find(&p->images, sid)) {
        return preflight_check(c, p, name, false, false,
                               "storage '%s' does not hold VM images (content 'images')", sid);
    }
    if (for_template) {
        switch (preflight_template_support(c->conf, row->type)) {
        case PVESM_TEMPLATE_YES:
            break;
        case PVESM_TEMPLATE_UNKNOWN:
            return preflight_check(c, p, name, false, false,
                                   "storage '%s' has type '%s', which pvetmpl does not know to "
                                   "hold base images; list it in template_types if it does",
                                   sid, row->type);
        default:
            return preflight_check(c, p, name, false, false,
                                   "storage '%s' has type '%s', which cannot hold templates "
                                   "(qm template would silently leave its disks unconverted)",
                                   sid, row->type);
        }
    }
    if (!pvecfg_type_can_allocate(row->type)) {
        return preflight_check(c, p, name, false, false,
                               "storage '%s' has type '%s', which cannot allocate new disks "
                               "(pve-storage: \"can't allocate space in iscsi storage\"): it is "
                               "never a clone target",
                               sid, row->type);
    }
    if (target_list && !pvesm_status_find(target_list, sid)) {
        return preflight_check(c, p, name, false, false,
                               "storage '%s' is not shared with node '%s'", sid, target);
    }
    return preflight_check(c, p, name, true, false, "storage '%s' (%s) is active and can take %s",
                           sid, row->type, for_template ? "templates" : "VM images");
}

/* --pool: qm checks it only inside clone_vm (RPCEnvironment.pm
 * check_pool_exist, as a 403); pvetmpl reads the cluster's pools itself. */
static void check_pool(struct ctx *c, struct preflight *p, const char *pool)
{
    struct err re;
    bool exists = false;
    if (node_pool_exists(c->conf, pool, &exists, &re) < 0) {
        preflight_check(c, p, "pool", false, false, "pool '%s' cannot be checked: %s", pool,
                        re.detail);
        return;
    }
    preflight_check(c, p, "pool", exists, false,
                    exists ? "pool '%s' exists"
                           : "pool '%s' does not exist in the cluster (%s/user.cfg); create it "
                             "with 'pveum pool add %s' or name an existing one",
                    pool, c->conf->pve_dir, exists ? "" : pool);
}

/* --format: qm clone replaces a format the target storage cannot hold with
 * the storage's default, with only a warning (QemuServer.pm clone_disk,
 * resolve_dst_disk_format -> pve-storage Storage.pm resolve_format_hint). */
static void check_format(struct ctx *c, struct preflight *p, const char *format)
{
    struct pvecfg_storages cfg;
    struct err re;
    if (node_load_storage_cfg(c->conf, &cfg, &re) < 0) {
        preflight_check(c, p, "format", false, false, "format '%s' cannot be checked: %s", format,
                        re.detail);
        return;
    }
    size_t bad = 0;
    for (size_t i = 0; i < p->storages.n; i++) {
        const char *sid = p->storages.v[i];
        const struct pvecfg_storage *s = pvecfg_storage_find(&cfg, sid);
        const struct pvesm_row *row = pvesm_status_find(&p->all, sid);
        const char *type = row ? row->type : s ? s->type : NULL;
        bool chain = s && s->volume_chain;
        if (type && !pvecfg_storage_holds_format(type, chain, format)) {
            char only[64];
            pvecfg_formats_text(pvecfg_storage_formats(type, chain), only, sizeof(only));
            bad++;
            preflight_check(c, p, "format", false, false,
                            "storage '%s' (%s) cannot hold format '%s', only %s: qm would "
                            "silently use another format",
                            sid, type, format, only);
        }
    }
    if (!bad) {
        preflight_check(c, p, "format", true, false, "format '%s' fits every target storage",
                        format);
    }
    pvecfg_storages_release(&cfg);
}

bool preflight_foreign_hook(const struct conf *cf, uint32_t src, const char *hookscript,
                            bool replace, char *msg, size_t len)
{
    if (!hookscript || hook_volid_is_ours(hookscript, cf->hook_name)) {
        return false;
    }
    /* make-template's options, named as such: check takes neither, and its
     * verdict is what make-template without them would do. */
    snprintf(msg, len,
             replace ? "VM %" PRIu32 " has the hookscript '%s', not pvetmpl's: the template gets "
                       "pvetmpl's instead (--replace-hook)"
                     : "VM %" PRIu32 " has the hookscript '%s', not pvetmpl's: the template and "
                       "every clone would lose it; keep it with 'make-template --no-hook' (qm "
                       "copies it) or replace it with 'make-template --replace-hook'",
             src, hookscript);
    return true;
}

static void check_foreign_hook(struct ctx *c, struct preflight *p, uint32_t src, bool replace)
{
    char msg[1024];
    if (preflight_foreign_hook(c->conf, src, p->src_cf.hookscript, replace, msg, sizeof(msg))) {
        preflight_check(c, p, "foreign_hookscript", replace, false, "%s", msg);
    }
}

/* Index of each query in the concurrent batch. */
enum { Q_STATUS, Q_CONFIG, Q_PVESM, Q_IMAGES, Q_SNAP, Q_TARGET, Q_PENDING, Q_MAX };

static int parse_pvesm(const struct spawn_result *r, const char *what, struct pvesm_status *ret,
                       struct err *e)
{
    unsigned line = 0;
    if (spawn_result_code(r) != 0) {
        return node_fail(r, what, e);
    }
    if (pvesm_parse_status(r->out, r->out_len, ret, &line) < 0) {
        return err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of '%s' (line %u)", what, line);
    }
    return 0;
}

static void add_storage(struct preflight *p, const char *sid)
{
    if (!in_list(&p->storages, sid)) {
        strv_push(&p->storages, sid);
    }
}

/* Pending changes ([PENDING] in the VM's config) are what `qm config` shows
 * on top of `qm config --current`; qm clone discards them (qemu-server
 * API2/Qemu.pm clone_vm: "found pending changes for '...', discarding for
 * clone") and qm template converts the committed disks (QemuServer.pm
 * template_create), so the copy or template will not carry them. */
static void read_pending(struct preflight *p, const struct qm_config *cur,
                         const struct spawn_result *rp)
{
    struct qm_config pend = {0};
    unsigned line = 0;
    if (spawn_result_code(rp) != 0 || qm_parse_config(rp->out, rp->out_len, &pend, &line) < 0) {
        p->pending_unknown = true;
    } else {
        p->n_pending = qm_config_diff_keys(&pend, cur, p->pending, sizeof(p->pending));
    }
    qm_config_release(&pend);
}

/* Names the source's pending changes, which the copy or template will not
 * carry (preflight judged the committed config, the one qm acts on). */
void preflight_warn_pending(struct ctx *c, const struct preflight *p, uint32_t vmid,
                            const char *what)
{
    if (p->pending_unknown) {
        cmd_warn(c,
                 "cannot read the pending changes of VM %" PRIu32 " ('qm config %" PRIu32
                 "'); its committed config was checked",
                 vmid, vmid);
    } else if (p->n_pending) {
        cmd_warn(c,
                 "VM %" PRIu32 " has pending changes that %s will not carry: %s (qm acts on the "
                 "committed config, 'qm config %" PRIu32 " --current'; apply or revert them "
                 "first to include them)",
                 vmid, what, p->pending, vmid);
    }
}

void preflight_lock_hint(uint32_t vmid, char *buf, size_t len)
{
    snprintf(buf, len,
             "it is hibernated and keeps the lock until it is resumed ('qm resume %" PRIu32
             "', then shut it down) or its saved state is discarded ('qm set %" PRIu32
             " --delete vmstate')",
             vmid, vmid);
}

int preflight_run(struct ctx *c, const struct preflight_req *q, struct preflight *p, struct err *e)
{
    const struct conf *cf = c->conf;
    const char *local = node_local_name(cf);
    struct strv argv[Q_MAX];
    char *const *argvs[Q_MAX];
    int idx[Q_MAX];
    struct spawn_result res[Q_MAX];
    struct pvesm_status target_list = {0};
    size_t n = 0;
    int rc = -1;

    memset(p, 0, sizeof(*p));
    for (int i = 0; i < Q_MAX; i++) {
        argv[i] = (struct strv)STRV_INIT;
    }
    if (node_load_vmlist(cf, &p->vl, e) < 0) {
        return -1;
    }

    /* Judged on the committed config (--current): qm clone and qm template act
     * on it; the plain config (pending applied) only tells what they drop. */
    if (qmargv_status(cf->qm, q->src, false, &argv[Q_STATUS]) < 0 ||
        qmargv_config_current(cf->qm, q->src, &argv[Q_CONFIG]) < 0 ||
        qmargv_config(cf->qm, q->src, NULL, &argv[Q_PENDING]) < 0 ||
        qmargv_pvesm_status(cf->pvesm, NULL, NULL, &argv[Q_PVESM]) < 0 ||
        qmargv_pvesm_status(cf->pvesm, "images", NULL, &argv[Q_IMAGES]) < 0 ||
        (q->snapname && qmargv_config(cf->qm, q->src, q->snapname, &argv[Q_SNAP]) < 0) ||
        (q->target && qmargv_pvesm_status(cf->pvesm, NULL, q->target, &argv[Q_TARGET]) < 0)) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (int i = 0; i < Q_MAX; i++) {
        idx[i] = -1;
        if (argv[i].n) {
            idx[i] = (int)n;
            argvs[n++] = strv_argv(&argv[i]);
        }
    }
    if (node_run_many(c, n, argvs, res, NULL, NULL, e) < 0) {
        goto out;
    }

    /* The source VM: on this node, a VM, unlocked, stopped. */
    const struct vmlist_entry *ve = vmlist_find(&p->vl, q->src);
    const struct spawn_result *rs = &res[idx[Q_STATUS]], *rcf = &res[idx[Q_CONFIG]];
    unsigned line = 0;
    if (ve && strcmp(ve->node, local) != 0) {
        preflight_check(c, p, "source_exists", false, false,
                        "VM %" PRIu32 " is on node '%s', not on this node '%s'", q->src, ve->node,
                        local);
    } else if (ve && strcmp(ve->type, "qemu") != 0) {
        preflight_check(c, p, "source_exists", false, false,
                        "guest %" PRIu32 " is a '%s' guest, not a qemu VM", q->src, ve->type);
    } else if (spawn_result_code(rcf) != 0) {
        char l[512];
        preflight_check(c, p, "source_exists", false, false, "VM %" PRIu32 " not found: %s", q->src,
                        node_error_line(rcf, l, sizeof(l)));
    } else if (qm_parse_config(rcf->out, rcf->out_len, &p->src_cf, &line) < 0) {
        err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of 'qm config %" PRIu32 "' (line %u)",
                q->src, line);
        goto out_res;
    } else if (spawn_result_code(rs) != 0) {
        node_fail(rs, "qm status", e);
        goto out_res;
    } else if (qm_parse_status(rs->out, rs->out_len, &p->src_st, &line) < 0) {
        err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of 'qm status %" PRIu32 "' (line %u)",
                q->src, line);
        goto out_res;
    } else {
        p->src_ok = true;
        const char *nm = p->src_cf.name ? p->src_cf.name : "";
        preflight_check(c, p, "source_exists", true, false,
                        "VM %" PRIu32 " '%s' is on this node '%s'", q->src, nm, local);
        if (qm_lock_persists(p->src_cf.lock)) {
            /* Not waited for: no task drops it. */
            char hint[300];
            preflight_lock_hint(q->src, hint, sizeof(hint));
            preflight_check(c, p, "source_unlocked", false, false,
                            "VM %" PRIu32 " is locked (%s): %s", q->src, p->src_cf.lock, hint);
        } else if (p->src_cf.lock) {
            preflight_check(c, p, "source_unlocked", false, true, "VM %" PRIu32 " is locked (%s)",
                            q->src, p->src_cf.lock);
        } else {
            preflight_check(c, p, "source_unlocked", true, false, "VM %" PRIu32 " is not locked",
                            q->src);
        }
        bool stopped = strcmp(p->src_st.status, "stopped") == 0;
        preflight_check(c, p, "source_stopped", stopped, false,
                        stopped ? "VM %" PRIu32 " is %s"
                                : "VM %" PRIu32 " is %s; stop it first (%s)",
                        q->src, p->src_st.status,
                        q->in_place ? "qm template converts only a powered-off VM"
                                    : "the procedure copies a powered-off VM");
        if (q->linked) {
            preflight_check(c, p, "source_is_template", p->src_cf.template, false,
                            p->src_cf.template ? "VM %" PRIu32 " is a template"
                                               : "VM %" PRIu32 " is not a template; a linked "
                                                 "clone needs one (use a full clone)",
                            q->src);
        }
    }

    if (p->src_ok && !q->snapname) { /* a snapshot is copied as it was */
        read_pending(p, &p->src_cf, &res[idx[Q_PENDING]]);
    }

    if (q->snapname && p->src_ok) {
        const struct spawn_result *rsn = &res[idx[Q_SNAP]];
        char l[512];
        bool ok = spawn_result_code(rsn) == 0;
        preflight_check(c, p, "snapshot_exists", ok, false,
                        ok ? "snapshot '%s' exists" : "snapshot '%s' of VM %" PRIu32 ": %s",
                        q->snapname, q->src, ok ? "" : node_error_line(rsn, l, sizeof(l)));
    }

    if (q->newid) {
        const struct vmlist_entry *ne = vmlist_find(&p->vl, q->newid);
        if (ne) {
            preflight_check(c, p, "newid_free", false, false,
                            "VMID %" PRIu32 " is already used by a '%s' guest on node '%s'",
                            q->newid, ne->type, ne->node);
        } else {
            preflight_check(c, p, "newid_free", true, false,
                            "VMID %" PRIu32 " is free in the cluster", q->newid);
        }
    }

    /* Storages: the given one, or each source disk's own. */
    if (parse_pvesm(&res[idx[Q_PVESM]], "pvesm status", &p->all, e) < 0 ||
        parse_pvesm(&res[idx[Q_IMAGES]], "pvesm status --content images", &p->images, e) < 0) {
        goto out_res;
    }
    bool target_ok = true;
    if (q->target) {
        /* A node pvesm does not accept is a failed check, not a failed run. */
        const struct spawn_result *rt = &res[idx[Q_TARGET]];
        char l[512];
        target_ok = spawn_result_code(rt) == 0;
        preflight_check(c, p, "target_node", target_ok, false,
                        target_ok ? "node '%s' answers for shared storages%s%s"
                                  : "node '%s' cannot be a target: %s%s",
                        q->target, target_ok ? "" : node_error_line(rt, l, sizeof(l)),
                        target_ok ? "" : SUGGEST_NODE(&p->vl, q->target));
        if (target_ok && parse_pvesm(rt, "pvesm status --target", &target_list, e) < 0) {
            goto out_res;
        }
    }
    if (q->storage && !q->linked) {
        add_storage(p, q->storage);
    }
    for (size_t i = 0; p->src_ok && !q->no_storages && i < p->src_cf.n_disks; i++) {
        const struct qm_disk *d = &p->src_cf.disks[i];
        if (d->cdrom && !d->cloudinit) {
            continue; /* CD-ROMs are copied verbatim */
        }
        if (!d->storage) {
            char nm[64];
            snprintf(nm, sizeof(nm), "disk:%s", d->key);
            preflight_check(c, p, nm, false, false,
                            "disk %s is '%s', not a volume on a storage; qm cannot copy it", d->key,
                            d->volume);
            continue;
        }
        if (!q->storage || q->linked) {
            add_storage(p, d->storage);
        }
    }
    for (size_t i = 0; i < p->storages.n; i++) {
        preflight_check_storage(c, p, p->storages.v[i], q->for_template && !q->linked,
                                q->target && target_ok ? &target_list : NULL, q->target);
    }
    if (q->hook_storage && p->src_ok) {
        check_foreign_hook(c, p, q->src, q->replace_hook);
    }
    if (q->pool) {
        check_pool(c, p, q->pool);
    }
    if (q->format && !q->linked && !q->no_storages) {
        check_format(c, p, q->format);
    }
    if (q->target && target_ok && p->src_ok && p->src_cf.hookscript) {
        /* The copy inherits the source's hookscript, which Proxmox checks
         * before every start on the node the VM is on. */
        char sid[128];
        snprintf(sid, sizeof(sid), "%.*s", (int)strcspn(p->src_cf.hookscript, ":"),
                 p->src_cf.hookscript);
        bool ok = pvesm_status_find(&target_list, sid) != NULL;
        preflight_check(c, p, "source_hookscript", ok, false,
                        ok ? "hookscript '%s' is on storage '%s', shared with node '%s'"
                           : "hookscript '%s' is on storage '%s', not shared with node '%s': the "
                             "copy could not start there",
                        p->src_cf.hookscript, sid, q->target);
    }
    if (q->hook_storage && q->target && target_ok &&
        !pvesm_status_find(&target_list, q->hook_storage)) {
        /* Proxmox checks the hookscript before every phase: a clone on a node
         * without the file could not start at all. */
        preflight_check(c, p, "hook_storage", false, false,
                        "hook storage '%s' is not shared with node '%s': VMs made from this "
                        "template could not start there (set a shared hook_storage, or --no-hook)",
                        q->hook_storage, q->target);
    } else if (q->hook_storage) {
        const struct pvesm_row *hr = pvesm_status_find(&p->all, q->hook_storage);
        bool ok = hr && hr->state == PVESM_ACTIVE && pvesm_type_is_file_based(hr->type);
        preflight_check(c, p, "hook_storage", ok, false,
                        !hr   ? "hook storage '%s' does not exist (hook_storage; or --no-hook)"
                        : !ok ? "hook storage '%s' must be an active file-based storage "
                                "(hook_storage; or --no-hook)"
                              : "hook storage '%s' can hold snippets",
                        q->hook_storage);
    }
    rc = 0;
    if (p->failed) {
        preflight_fail(p, e);
        if (c->interrupt && *c->interrupt) {
            /* a check cut short by a signal (a pmxcfs read): the run is
             * being interrupted, not refused */
            e->cls = ERR_INTERRUPTED;
        }
        rc = 1;
    }

out_res:
    for (size_t i = 0; i < n; i++) {
        spawn_result_release(&res[i]);
    }
out:
    for (int i = 0; i < Q_MAX; i++) {
        strv_release(&argv[i]);
    }
    pvesm_status_release(&target_list);
    return rc;
}

void preflight_release(struct preflight *p)
{
    vmlist_release(&p->vl);
    qm_config_release(&p->src_cf);
    qm_status_release(&p->src_st);
    pvesm_status_release(&p->all);
    pvesm_status_release(&p->images);
    strv_release(&p->storages);
    strv_release(&p->failures);
}
