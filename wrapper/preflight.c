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

/* ---- evaluate: facts + request -> checks, pure -------------------------- */

static bool add(struct preflight_eval *v, const char *name, bool ok, bool busy, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

/* Appends one check to v; returns ok. */
static bool add(struct preflight_eval *v, const char *name, bool ok, bool busy, const char *fmt,
                ...)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        struct preflight_item *items = realloc(v->items, cap * sizeof(*items));
        if (!items) {
            v->oom = true;
            return ok;
        }
        v->items = items;
        v->cap = cap;
    }
    struct preflight_item *it = &v->items[v->n++];
    snprintf(it->name, sizeof(it->name), "%s", name);
    it->ok = ok;
    it->busy = busy;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
    va_end(ap);
    return ok;
}

static bool eval_storage(const struct conf *cf, const struct pvesm_status *all,
                         const struct pvesm_status *images, const char *sid, bool for_template,
                         const struct pvesm_status *target_list, const char *target,
                         struct preflight_eval *v)
{
    char name[160];
    snprintf(name, sizeof(name), "storage:%s", sid);
    const struct pvesm_row *row = pvesm_status_find(all, sid);
    if (!row) {
        return add(v, name, false, false, "storage '%s' does not exist%s", sid,
                   SUGGEST_STORAGE(all, sid));
    }
    if (row->state != PVESM_ACTIVE) {
        return add(v, name, false, false, "storage '%s' is %s, not active", sid,
                   pvesm_state_name(row->state));
    }
    if (!pvesm_status_find(images, sid)) {
        return add(v, name, false, false, "storage '%s' does not hold VM images (content 'images')",
                   sid);
    }
    if (for_template) {
        switch (preflight_template_support(cf, row->type)) {
        case PVESM_TEMPLATE_YES:
            break;
        case PVESM_TEMPLATE_UNKNOWN:
            return add(v, name, false, false,
                       "storage '%s' has type '%s', which pvetmpl does not know to "
                       "hold base images; list it in template_types if it does",
                       sid, row->type);
        default:
            return add(v, name, false, false,
                       "storage '%s' has type '%s', which cannot hold templates "
                       "(qm template would silently leave its disks unconverted)",
                       sid, row->type);
        }
    }
    if (!pvecfg_type_can_allocate(row->type)) {
        return add(v, name, false, false,
                   "storage '%s' has type '%s', which cannot allocate new disks "
                   "(pve-storage: \"can't allocate space in iscsi storage\"): it is "
                   "never a clone target",
                   sid, row->type);
    }
    if (target_list && !pvesm_status_find(target_list, sid)) {
        return add(v, name, false, false, "storage '%s' is not shared with node '%s'", sid, target);
    }
    return add(v, name, true, false, "storage '%s' (%s) is active and can take %s", sid, row->type,
               for_template ? "templates" : "VM images");
}

/* A query's failure or unparseable answer, as the run error it makes. */
static int answer_error(const struct preflight_answer *a, const char *what, struct err *e)
{
    if (a->failed) {
        *e = a->fail;
        return -1;
    }
    return err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of '%s' (line %u)", what,
                   a->bad_line);
}

/* The source VM: on this node, a VM, unlocked, stopped (a template for a
 * linked clone). Sets v->src_ok when it could be judged. */
static int eval_source(const struct preflight_req *q, const struct preflight_facts *f,
                       struct preflight_eval *v, struct err *e)
{
    const struct vmlist_entry *ve = vmlist_find(&f->vl, q->src);
    char what[48];
    if (ve && strcmp(ve->node, f->local) != 0) {
        add(v, "source_exists", false, false,
            "VM %" PRIu32 " is on node '%s', not on this node '%s'", q->src, ve->node, f->local);
        return 0;
    }
    if (ve && strcmp(ve->type, "qemu") != 0) {
        add(v, "source_exists", false, false, "guest %" PRIu32 " is a '%s' guest, not a qemu VM",
            q->src, ve->type);
        return 0;
    }
    if (f->q_config.failed) {
        add(v, "source_exists", false, false, "VM %" PRIu32 " not found: %s", q->src,
            f->q_config.error);
        return 0;
    }
    if (f->q_config.bad) {
        snprintf(what, sizeof(what), "qm config %" PRIu32, q->src);
        return answer_error(&f->q_config, what, e);
    }
    if (f->q_status.failed || f->q_status.bad) {
        snprintf(what, sizeof(what), "qm status %" PRIu32, q->src);
        return answer_error(&f->q_status, f->q_status.failed ? "qm status" : what, e);
    }
    const struct qm_config *cf = &f->src_cf;
    v->src_ok = true;
    add(v, "source_exists", true, false, "VM %" PRIu32 " '%s' is on this node '%s'", q->src,
        cf->name ? cf->name : "", f->local);
    if (qm_lock_persists(cf->lock)) {
        /* Not waited for: no task drops it. */
        char hint[300];
        preflight_lock_hint(q->src, hint, sizeof(hint));
        add(v, "source_unlocked", false, false, "VM %" PRIu32 " is locked (%s): %s", q->src,
            cf->lock, hint);
    } else if (cf->lock) {
        add(v, "source_unlocked", false, true, "VM %" PRIu32 " is locked (%s)", q->src, cf->lock);
    } else {
        add(v, "source_unlocked", true, false, "VM %" PRIu32 " is not locked", q->src);
    }
    bool stopped = strcmp(f->src_st.status, "stopped") == 0;
    add(v, "source_stopped", stopped, false,
        stopped ? "VM %" PRIu32 " is %s" : "VM %" PRIu32 " is %s; stop it first (%s)", q->src,
        f->src_st.status,
        q->in_place ? "qm template converts only a powered-off VM"
                    : "the procedure copies a powered-off VM");
    if (q->linked) {
        add(v, "source_is_template", cf->template, false,
            cf->template ? "VM %" PRIu32 " is a template"
                         : "VM %" PRIu32 " is not a template; a linked clone needs one (use a "
                           "full clone)",
            q->src);
    }
    return 0;
}

/* Pending changes ([PENDING] in the VM's config) are what `qm config` shows
 * on top of `qm config --current`; qm clone discards them (qemu-server
 * API2/Qemu.pm clone_vm: "found pending changes for '...', discarding for
 * clone") and qm template converts the committed disks (QemuServer.pm
 * template_create), so the copy or template will not carry them. */
static void eval_pending(const struct preflight_facts *f, struct preflight_eval *v)
{
    if (!f->q_pending.asked || f->q_pending.failed || f->q_pending.bad) {
        v->pending_unknown = true;
    } else {
        v->n_pending =
            qm_config_diff_keys(&f->pending_cf, &f->src_cf, v->pending, sizeof(v->pending));
    }
}

static void eval_snapshot(const struct preflight_req *q, const struct preflight_facts *f,
                          struct preflight_eval *v)
{
    bool ok = f->q_snap.asked && !f->q_snap.failed;
    add(v, "snapshot_exists", ok, false,
        ok ? "snapshot '%s' exists" : "snapshot '%s' of VM %" PRIu32 ": %s", q->snapname, q->src,
        ok ? "" : f->q_snap.error);
}

static void eval_newid(const struct preflight_req *q, const struct preflight_facts *f,
                       struct preflight_eval *v)
{
    const struct vmlist_entry *ne = vmlist_find(&f->vl, q->newid);
    if (ne) {
        add(v, "newid_free", false, false,
            "VMID %" PRIu32 " is already used by a '%s' guest on node '%s'", q->newid, ne->type,
            ne->node);
    } else {
        add(v, "newid_free", true, false, "VMID %" PRIu32 " is free in the cluster", q->newid);
    }
}

bool preflight_target_is_local(const char *target, const char *local)
{
    return strcmp(target, "localhost") == 0 || (local && strcmp(target, local) == 0);
}

/* Why make-template's --target may not name this node (see eval_target). */
static const char self_target_why[] =
    "it is this node, where the template is made anyway; leave out --target";

int preflight_refuse_self_target(struct ctx *c, const char *target, struct err *e)
{
    struct preflight p = {0};
    preflight_check(c, &p, "target_node", false, false, "node '%s' cannot be a target: %s", target,
                    self_target_why);
    preflight_fail(&p, e);
    preflight_release(&p);
    return -1;
}

/* --target: a node pvesm does not accept is a failed check, not a failed
 * run. pvesm status --target accepts any node name (pve-storage
 * API2/Storage/Status.pm index checks none), qm clone refuses one that is not
 * in .members (qemu-server API2/Qemu.pm clone_vm, pve-cluster Cluster.pm
 * check_node_exists; this node itself is no target there). make-template's
 * target is where qm migrate moves the template, which refuses this node
 * (migrate_vm: "target is local node"): refused here, before any change, and
 * never suggested. *ret_ok: the target's storage list can be used. */
static int eval_target(const struct preflight_req *q, const struct preflight_facts *f,
                       struct preflight_eval *v, bool *ret_ok, struct err *e)
{
    bool self = preflight_target_is_local(q->target, f->local) ||
                (f->members.nodename && !strcmp(q->target, f->members.nodename));
    const char *here[] = {f->local, f->members.nodename};
    char why[1024] = "", sugg[SUGGEST_BUF_SIZE] = "";
    if (*f->members_error) {
        snprintf(why, sizeof(why), "%s", f->members_error);
    } else if (self && q->for_template) {
        snprintf(why, sizeof(why), "%s", self_target_why);
    } else if (!self && !vmlist_members_has(&f->members, q->target)) {
        snprintf(why, sizeof(why), "no such cluster node '%s'", q->target);
    } else if (!f->q_target.asked || f->q_target.failed) {
        snprintf(why, sizeof(why), "%s", f->q_target.error);
    }
    bool ok = !*why;
    if (!ok && !(self && q->for_template)) {
        suggest_node_except(sugg, sizeof(sugg), &f->members, &f->vl, q->target, here,
                            q->for_template ? 2 : 0);
    }
    add(v, "target_node", ok, false,
        ok ? "node '%s' answers for shared storages%s%s" : "node '%s' cannot be a target: %s%s",
        q->target, why, sugg);
    *ret_ok = ok;
    return ok && f->q_target.bad ? answer_error(&f->q_target, "pvesm status --target", e) : 0;
}

static void add_storage(struct preflight_eval *v, const char *sid)
{
    if (!in_list(&v->storages, sid)) {
        strv_push(&v->storages, sid);
    }
}

/* The storages the copy writes to: the given one, or each source disk's own. */
static void eval_disks(const struct preflight_req *q, const struct preflight_facts *f,
                       struct preflight_eval *v)
{
    if (q->storage && !q->linked) {
        add_storage(v, q->storage);
    }
    for (size_t i = 0; v->src_ok && !q->no_storages && i < f->src_cf.n_disks; i++) {
        const struct qm_disk *d = &f->src_cf.disks[i];
        if (d->cdrom && !d->cloudinit) {
            continue; /* CD-ROMs are copied verbatim */
        }
        if (!d->storage) {
            char nm[64];
            snprintf(nm, sizeof(nm), "disk:%s", d->key);
            add(v, nm, false, false,
                "disk %s is '%s', not a volume on a storage; qm cannot copy it", d->key, d->volume);
            continue;
        }
        if (!q->storage || q->linked) {
            add_storage(v, d->storage);
        }
    }
}

/* --pool: qm checks it only inside clone_vm (RPCEnvironment.pm
 * check_pool_exist, as a 403); gather read the cluster's pools. */
static void eval_pool(const struct conf *cf, const struct preflight_req *q,
                      const struct preflight_facts *f, struct preflight_eval *v)
{
    if (*f->pool_error) {
        add(v, "pool", false, false, "pool '%s' cannot be checked: %s", q->pool, f->pool_error);
        return;
    }
    add(v, "pool", f->pool_exists, false,
        f->pool_exists ? "pool '%s' exists"
                       : "pool '%s' does not exist in the cluster (%s/user.cfg); create it "
                         "with 'pveum pool add %s' or name an existing one",
        q->pool, cf->pve_dir, f->pool_exists ? "" : q->pool);
}

/* --format: qm clone replaces a format the target storage cannot hold with
 * the storage's default, with only a warning (QemuServer.pm clone_disk,
 * resolve_dst_disk_format -> pve-storage Storage.pm resolve_format_hint). */
static void eval_format(const struct preflight_req *q, const struct preflight_facts *f,
                        struct preflight_eval *v)
{
    const char *format = q->format;
    if (*f->storage_cfg_error) {
        add(v, "format", false, false, "format '%s' cannot be checked: %s", format,
            f->storage_cfg_error);
        return;
    }
    size_t bad = 0;
    for (size_t i = 0; i < v->storages.n; i++) {
        const char *sid = v->storages.v[i];
        const struct pvecfg_storage *s = pvecfg_storage_find(&f->storage_cfg, sid);
        const struct pvesm_row *row = pvesm_status_find(&f->all, sid);
        const char *type = row ? row->type : s ? s->type : NULL;
        bool chain = s && s->volume_chain;
        if (type && !pvecfg_storage_holds_format(type, chain, format)) {
            char only[64];
            pvecfg_formats_text(pvecfg_storage_formats(type, chain), only, sizeof(only));
            bad++;
            add(v, "format", false, false,
                "storage '%s' (%s) cannot hold format '%s', only %s: qm would silently use "
                "another format",
                sid, type, format, only);
        }
    }
    if (!bad) {
        add(v, "format", true, false, "format '%s' fits every target storage", format);
    }
}

/* The copy inherits the source's hookscript, which Proxmox checks before
 * every start on the node the VM is on. */
static void eval_source_hookscript(const struct preflight_req *q, const struct preflight_facts *f,
                                   struct preflight_eval *v)
{
    const char *hs = f->src_cf.hookscript;
    char sid[128];
    snprintf(sid, sizeof(sid), "%.*s", (int)strcspn(hs, ":"), hs);
    bool ok = pvesm_status_find(&f->target_list, sid) != NULL;
    add(v, "source_hookscript", ok, false,
        ok ? "hookscript '%s' is on storage '%s', shared with node '%s'"
           : "hookscript '%s' is on storage '%s', not shared with node '%s': the copy could not "
             "start there",
        hs, sid, q->target);
}

static void eval_hook_storage(const struct preflight_req *q, const struct preflight_facts *f,
                              struct preflight_eval *v, bool target_ok)
{
    if (q->target && target_ok && !pvesm_status_find(&f->target_list, q->hook_storage)) {
        /* Proxmox checks the hookscript before every phase: a clone on a node
         * without the file could not start at all. */
        add(v, "hook_storage", false, false,
            "hook storage '%s' is not shared with node '%s': VMs made from this template could "
            "not start there (set a shared hook_storage, or --no-hook)",
            q->hook_storage, q->target);
        return;
    }
    const struct pvesm_row *hr = pvesm_status_find(&f->all, q->hook_storage);
    bool ok = hr && hr->state == PVESM_ACTIVE && pvesm_type_is_file_based(hr->type);
    add(v, "hook_storage", ok, false,
        !hr   ? "hook storage '%s' does not exist (hook_storage; or --no-hook)"
        : !ok ? "hook storage '%s' must be an active file-based storage (hook_storage; or "
                "--no-hook)"
              : "hook storage '%s' can hold snippets",
        q->hook_storage);
}

static int evaluate(const struct conf *cf, const struct preflight_req *q,
                    const struct preflight_facts *f, struct preflight_eval *v, struct err *e)
{
    if (eval_source(q, f, v, e) < 0) {
        return -1;
    }
    if (v->src_ok && !q->snapname) { /* a snapshot is copied as it was */
        eval_pending(f, v);
    }
    if (q->snapname && v->src_ok) {
        eval_snapshot(q, f, v);
    }
    if (q->newid) {
        eval_newid(q, f, v);
    }
    if (f->q_pvesm.failed || f->q_pvesm.bad) {
        return answer_error(&f->q_pvesm, "pvesm status", e);
    }
    if (f->q_images.failed || f->q_images.bad) {
        return answer_error(&f->q_images, "pvesm status --content images", e);
    }
    bool target_ok = true;
    if (q->target && eval_target(q, f, v, &target_ok, e) < 0) {
        return -1;
    }
    eval_disks(q, f, v);
    for (size_t i = 0; i < v->storages.n; i++) {
        eval_storage(cf, &f->all, &f->images, v->storages.v[i], q->for_template && !q->linked,
                     q->target && target_ok ? &f->target_list : NULL, q->target, v);
    }
    if (q->hook_storage && v->src_ok) {
        char msg[1024];
        if (preflight_foreign_hook(cf, q->src, f->src_cf.hookscript, q->replace_hook, msg,
                                   sizeof(msg))) {
            add(v, "foreign_hookscript", q->replace_hook, false, "%s", msg);
        }
    }
    if (q->pool) {
        eval_pool(cf, q, f, v);
    }
    if (q->format && !q->linked && !q->no_storages) {
        eval_format(q, f, v);
    }
    if (q->target && target_ok && v->src_ok && f->src_cf.hookscript) {
        eval_source_hookscript(q, f, v);
    }
    if (q->hook_storage) {
        eval_hook_storage(q, f, v, target_ok);
    }
    /* A copy of the committed config (not of a snapshot) carries its
     * hookscript; only one that is not pvetmpl's is worth knowing (qm set
     * follows it, and its read-back). */
    v->copy_hook_known =
        v->src_ok && !q->snapname &&
        !(f->src_cf.hookscript && hook_volid_is_ours(f->src_cf.hookscript, cf->hook_name));
    return 0;
}

int preflight_evaluate(const struct conf *cf, const struct preflight_req *q,
                       const struct preflight_facts *f, struct preflight_eval *ret, struct err *e)
{
    memset(ret, 0, sizeof(*ret));
    int r = evaluate(cf, q, f, ret, e);
    if (r == 0 && ret->oom) {
        r = err_set(e, ERR_INTERNAL, "out of memory");
    }
    return r;
}

void preflight_eval_release(struct preflight_eval *v)
{
    free(v->items);
    strv_release(&v->storages);
    memset(v, 0, sizeof(*v));
}

/* ---- record: checks -> report -------------------------------------------- */

static void record_items(struct ctx *c, struct preflight *p, const struct preflight_eval *v)
{
    for (size_t i = 0; i < v->n; i++) {
        const struct preflight_item *it = &v->items[i];
        preflight_check(c, p, it->name, it->ok, it->busy, "%s", it->detail);
    }
}

void preflight_record(struct ctx *c, struct preflight *p, struct preflight_facts *f,
                      struct preflight_eval *v)
{
    record_items(c, p, v);
    /* moved, not copied: f and v keep nothing to release twice */
    p->vl = f->vl;
    p->src_cf = f->src_cf;
    p->src_st = f->src_st;
    p->all = f->all;
    p->images = f->images;
    memset(&f->vl, 0, sizeof(f->vl));
    memset(&f->src_cf, 0, sizeof(f->src_cf));
    memset(&f->src_st, 0, sizeof(f->src_st));
    memset(&f->all, 0, sizeof(f->all));
    memset(&f->images, 0, sizeof(f->images));
    strv_release(&p->storages);
    p->storages = v->storages;
    v->storages = (struct strv)STRV_INIT;
    p->src_ok = v->src_ok;
    snprintf(p->pending, sizeof(p->pending), "%s", v->pending);
    p->n_pending = v->n_pending;
    p->pending_unknown = v->pending_unknown;
    snprintf(p->hook_path, sizeof(p->hook_path), "%s", f->hook_path_text);
    p->hook.fresh_copy = v->copy_hook_known;
    p->src_asked = f->src_asked;
}

bool preflight_check_storage(struct ctx *c, struct preflight *p, const char *sid, bool for_template,
                             const struct pvesm_status *target_list, const char *target)
{
    struct preflight_eval v = {0};
    bool ok =
        eval_storage(c->conf, &p->all, &p->images, sid, for_template, target_list, target, &v);
    record_items(c, p, &v);
    preflight_eval_release(&v);
    return ok;
}

const struct hook_known *preflight_hook_known(struct preflight *p)
{
    p->hook.status = &p->all;
    p->hook.vl = &p->vl;
    p->hook.path = *p->hook_path ? p->hook_path : NULL;
    p->hook.cur = p->hook.fresh_copy ? p->src_cf.hookscript : NULL;
    return &p->hook;
}

/* ---- gather: the node's answers -> facts ----------------------------------- */

/* Index of each query in the concurrent batch. */
enum { Q_STATUS, Q_CONFIG, Q_PVESM, Q_IMAGES, Q_SNAP, Q_TARGET, Q_PENDING, Q_HOOK_PATH, Q_MAX };

/* The argv of each query q needs (the others stay empty). -1 out of memory. */
static int query_argvs(const struct ctx *c, const struct preflight_req *q, struct strv argv[Q_MAX],
                       char *hook_volid_buf, size_t len)
{
    const struct conf *cf = c->conf;
    /* Judged on the committed config (--current): qm clone and qm template act
     * on it; the plain config (pending applied) only tells what they drop. */
    if (qmargv_status(cf->qm, q->src, false, &argv[Q_STATUS]) < 0 ||
        qmargv_config_current(cf->qm, q->src, &argv[Q_CONFIG]) < 0 ||
        qmargv_config(cf->qm, q->src, NULL, &argv[Q_PENDING]) < 0 ||
        qmargv_pvesm_status(cf->pvesm, NULL, NULL, &argv[Q_PVESM]) < 0 ||
        qmargv_pvesm_status(cf->pvesm, "images", NULL, &argv[Q_IMAGES]) < 0 ||
        (q->snapname && qmargv_config(cf->qm, q->src, q->snapname, &argv[Q_SNAP]) < 0) ||
        (q->target && qmargv_pvesm_status(cf->pvesm, NULL, q->target, &argv[Q_TARGET]) < 0)) {
        return -1;
    }
    /* The hook's file, asked now rather than after the clone (one latency
     * less there): only when make-template will write it, or plan writing it
     * in a dry run (check has no NEWID). Too long a volid is hook_register's
     * error to give. */
    if (q->hook_storage && q->newid &&
        hook_volid(q->hook_storage, cf->hook_name, hook_volid_buf, len) == 0 &&
        qmargv_pvesm_path(cf->pvesm, hook_volid_buf, &argv[Q_HOOK_PATH]) < 0) {
        return -1;
    }
    return 0;
}

/* Fills a from r. Returns whether it exited 0 (then its output is the
 * caller's to parse). */
static bool take_answer(const struct spawn_result *r, const char *what, struct preflight_answer *a)
{
    a->asked = true;
    if (spawn_result_code(r) == 0) {
        return true;
    }
    a->failed = true;
    node_error_line(r, a->error, sizeof(a->error));
    node_fail(r, what, &a->fail);
    return false;
}

static void parse_pvesm_answer(const struct spawn_result *r, const char *what,
                               struct preflight_answer *a, struct pvesm_status *ret)
{
    if (take_answer(r, what, a) && pvesm_parse_status(r->out, r->out_len, ret, &a->bad_line) < 0) {
        a->bad = true;
    }
}

static void parse_config_answer(const struct spawn_result *r, const char *what,
                                struct preflight_answer *a, struct qm_config *ret)
{
    if (take_answer(r, what, a) && qm_parse_config(r->out, r->out_len, ret, &a->bad_line) < 0) {
        a->bad = true;
    }
}

static void take_answers(const struct preflight_req *q, const int idx[Q_MAX],
                         const struct spawn_result res[], const char *hook_volid_s,
                         struct preflight_facts *f)
{
    const struct spawn_result *r;
    if (take_answer(&res[idx[Q_STATUS]], "qm status", &f->q_status) &&
        qm_parse_status(res[idx[Q_STATUS]].out, res[idx[Q_STATUS]].out_len, &f->src_st,
                        &f->q_status.bad_line) < 0) {
        f->q_status.bad = true;
    }
    parse_config_answer(&res[idx[Q_CONFIG]], "qm config", &f->q_config, &f->src_cf);
    parse_config_answer(&res[idx[Q_PENDING]], "qm config", &f->q_pending, &f->pending_cf);
    parse_pvesm_answer(&res[idx[Q_PVESM]], "pvesm status", &f->q_pvesm, &f->all);
    parse_pvesm_answer(&res[idx[Q_IMAGES]], "pvesm status --content images", &f->q_images,
                       &f->images);
    if (q->snapname) {
        take_answer(&res[idx[Q_SNAP]], "qm config --snapshot", &f->q_snap);
    }
    if (q->target) {
        parse_pvesm_answer(&res[idx[Q_TARGET]], "pvesm status --target", &f->q_target,
                           &f->target_list);
    }
    if (idx[Q_HOOK_PATH] >= 0) {
        struct err ignore; /* hook_register asks again and says it */
        r = &res[idx[Q_HOOK_PATH]];
        if (take_answer(r, "pvesm path", &f->q_hook_path) &&
            hook_path_parse(hook_volid_s, r->out, f->hook_path_text, sizeof(f->hook_path_text),
                            &ignore) < 0) {
            f->q_hook_path.bad = true;
        }
    }
}

static int gather_queries(struct ctx *c, const struct preflight_req *q, struct preflight_facts *f,
                          struct err *e)
{
    struct strv argv[Q_MAX];
    char *const *argvs[Q_MAX];
    int idx[Q_MAX];
    struct spawn_result res[Q_MAX];
    char volid[512] = "";
    size_t n = 0;
    int rc = -1;

    for (int i = 0; i < Q_MAX; i++) {
        argv[i] = (struct strv)STRV_INIT;
    }
    if (query_argvs(c, q, argv, volid, sizeof(volid)) < 0) {
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
    clock_gettime(CLOCK_MONOTONIC, &f->src_asked);
    if (node_run_many(c, n, argvs, res, NULL, NULL, e) < 0) {
        goto out;
    }
    take_answers(q, idx, res, volid, f);
    for (size_t i = 0; i < n; i++) {
        spawn_result_release(&res[i]);
    }
    rc = 0;
out:
    for (int i = 0; i < Q_MAX; i++) {
        strv_release(&argv[i]);
    }
    return rc;
}

/* The cluster's files the checks of q read (pmxcfs): an unreadable one is a
 * failed check, not a failed run. */
static void gather_files(const struct ctx *c, const struct preflight_req *q,
                         struct preflight_facts *f)
{
    struct err re;
    if (q->pool && node_pool_exists(c->conf, q->pool, &f->pool_exists, &re) < 0) {
        snprintf(f->pool_error, sizeof(f->pool_error), "%s", re.detail);
    }
    if (q->target && node_load_members(c->conf, &f->members, &re) < 0) {
        snprintf(f->members_error, sizeof(f->members_error), "%s", re.detail);
    }
    if (q->format && !q->linked && !q->no_storages &&
        node_load_storage_cfg(c->conf, &f->storage_cfg, &re) < 0) {
        snprintf(f->storage_cfg_error, sizeof(f->storage_cfg_error), "%s", re.detail);
    }
}

int preflight_gather(struct ctx *c, const struct preflight_req *q, struct preflight_facts *ret,
                     struct err *e)
{
    memset(ret, 0, sizeof(*ret));
    ret->local = node_local_name(c->conf);
    if (q->vl) {
        ret->vl = *q->vl;
        *q->vl = (struct vmlist){0};
    } else if (node_load_vmlist(c->conf, &ret->vl, e) < 0) {
        return -1;
    }
    if (gather_queries(c, q, ret, e) < 0) {
        return -1;
    }
    gather_files(c, q, ret);
    return 0;
}

void preflight_facts_release(struct preflight_facts *f)
{
    vmlist_release(&f->vl);
    vmlist_members_release(&f->members);
    qm_status_release(&f->src_st);
    qm_config_release(&f->src_cf);
    qm_config_release(&f->pending_cf);
    pvesm_status_release(&f->all);
    pvesm_status_release(&f->images);
    pvesm_status_release(&f->target_list);
    pvecfg_storages_release(&f->storage_cfg);
    memset(f, 0, sizeof(*f));
}

/* ---- the three in a row ------------------------------------------------------ */

int preflight_run(struct ctx *c, const struct preflight_req *q, struct preflight *p, struct err *e)
{
    struct preflight_facts f;
    struct preflight_eval v;
    memset(p, 0, sizeof(*p));
    int rc = preflight_gather(c, q, &f, e);
    if (rc == 0) {
        rc = preflight_evaluate(c->conf, q, &f, &v, e);
        preflight_record(c, p, &f, &v);
        preflight_eval_release(&v);
    }
    preflight_facts_release(&f);
    if (rc == 0 && p->failed) {
        preflight_fail(p, e);
        if (c->interrupt && *c->interrupt) {
            /* a check cut short by a signal (a pmxcfs read): the run is
             * being interrupted, not refused */
            e->cls = ERR_INTERRUPTED;
        }
        rc = 1;
    }
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
