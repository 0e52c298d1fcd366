/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "list.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "grow.h"
#include "hookreg.h"
#include "node.h"
#include "qm.h"
#include "termtext.h"
#include "volname.h"

/* A base volume, "STORAGE:OWNER/NAME": how a template's disk and a clone's
 * pointer to it compare (Storage.pm volume_is_base_and_used compares the
 * owner and the name, on one storage). */
struct base_key {
    char *key;
    size_t idx; /* template disk: its row; clone's pointer: its guest */
};

struct guest {
    uint32_t vmid;
    char *name, *node;
    uint64_t ctime; /* meta: ctime=, 0 when absent */
};

struct list_builder {
    struct list_opts o;
    struct list_row *rows;
    size_t n_rows, a_rows;
    struct base_key *disks; /* the templates' base disks */
    size_t n_disks, a_disks;
    struct base_key *uses; /* every guest's volumes that stand on a base volume */
    size_t n_uses, a_uses;
    struct guest *guests; /* every guest read, in that order (uses' idx) */
    size_t n_guests, a_guests;
    size_t read, vanished;
};

int list_parse_size(const char *s, uint64_t *ret)
{
    /* JSONSchema.pm parse_size: ^(\d+(\.\d+)?)([KMGT](?:iB)?)?$, then int(). */
    static const char units[] = "KMGT";
    uint64_t ip = 0, mult = 1;
    double frac = 0, scale = 1;
    const char *p = s;
    if (!s || *p < '0' || *p > '9') {
        return -EINVAL;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (ip > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
            return -EINVAL;
        }
        ip = ip * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9') {
            return -EINVAL;
        }
        for (p++; *p >= '0' && *p <= '9'; p++) {
            scale /= 10;
            frac += (*p - '0') * scale;
        }
    }
    const char *u = *p ? strchr(units, *p) : NULL;
    if (u) {
        for (const char *k = units; k <= u; k++) {
            mult *= 1024;
        }
        p++;
        if (strcmp(p, "iB") == 0) {
            p += 2;
        }
    }
    uint64_t part = (uint64_t)(frac * (double)mult); /* < mult */
    if (*p || (ip && mult > UINT64_MAX / ip) || part > UINT64_MAX - ip * mult) {
        return -EINVAL;
    }
    *ret = ip * mult + part;
    return 0;
}

struct list_builder *list_builder_new(const struct list_opts *o)
{
    struct list_builder *b = calloc(1, sizeof(*b));
    if (b) {
        b->o = *o;
    }
    return b;
}

static void row_release(struct list_row *r)
{
    free(r->name);
    free(r->node);
    strv_release(&r->storages);
    free(r->hookscript);
    free(r->hook_why);
    for (size_t i = 0; i < r->n_clones; i++) {
        free(r->clones[i].name);
        free(r->clones[i].node);
    }
    free(r->clones);
}

static void builder_free(struct list_builder *b)
{
    if (!b) {
        return;
    }
    for (size_t i = 0; i < b->n_rows; i++) {
        row_release(&b->rows[i]);
    }
    for (size_t i = 0; i < b->n_disks; i++) {
        free(b->disks[i].key);
    }
    for (size_t i = 0; i < b->n_uses; i++) {
        free(b->uses[i].key);
    }
    for (size_t i = 0; i < b->n_guests; i++) {
        free(b->guests[i].name);
        free(b->guests[i].node);
    }
    free(b->rows);
    free(b->disks);
    free(b->uses);
    free(b->guests);
    free(b);
}

/* unused0 .. unused255 (qemu-server QemuConfig.pm $MAX_UNUSED_DISKS): a
 * detached disk is still the guest's, and still stands on its base. */
static bool is_unused_key(const char *k)
{
    if (strncmp(k, "unused", 6) != 0 || k[6] < '0' || k[6] > '9' || (k[6] == '0' && k[7])) {
        return false;
    }
    char *end;
    unsigned long n = strtoul(k + 6, &end, 10);
    return !*end && n <= 255;
}

typedef int (*volume_fn)(struct list_builder *b, void *ud, const char *storage,
                         const struct volname *v);

/* Calls fn for each volume of cf that is a VM image on a storage: its drives
 * (no CD-ROM: an ISO's or cloud-init image is never a base nor a clone) and
 * its unusedN volumes. */
static int each_volume(struct list_builder *b, const struct qm_config *cf, volume_fn fn, void *ud)
{
    for (size_t i = 0; i < cf->n_disks; i++) {
        const struct qm_disk *d = &cf->disks[i];
        struct volname v;
        if (d->cdrom || !d->storage || volname_parse(d->volname, &v) < 0) {
            continue;
        }
        int r = fn(b, ud, d->storage, &v);
        if (r < 0) {
            return r;
        }
    }
    for (size_t i = 0; i < cf->n_kv; i++) {
        if (!is_unused_key(cf->kv[i].key)) {
            continue;
        }
        const char *val = cf->kv[i].value, *colon = strchr(val, ':');
        size_t end = strcspn(val, ",");
        if (!colon || colon == val || (size_t)(colon - val) >= end) {
            continue;
        }
        char *storage = strndup(val, (size_t)(colon - val));
        char *volname = strndup(colon + 1, end - (size_t)(colon - val) - 1);
        struct volname v;
        int r = storage && volname ? 0 : -ENOMEM;
        if (r == 0 && volname_parse(volname, &v) == 0) {
            r = fn(b, ud, storage, &v);
        }
        free(storage);
        free(volname);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static char *key_of(const char *storage, uint32_t owner, const char *name, size_t len)
{
    char *k;
    return asprintf(&k, "%s:%" PRIu32 "/%.*s", storage, owner, (int)len, name) < 0 ? NULL : k;
}

static int add_key(struct base_key **arr, size_t *n, size_t *alloc, char *key, size_t idx)
{
    if (!key || grow_array(arr, *n, alloc, sizeof(**arr)) < 0) {
        free(key);
        return -ENOMEM;
    }
    (*arr)[(*n)++] = (struct base_key){key, idx};
    return 0;
}

static int add_base_disk(struct list_builder *b, void *ud, const char *storage,
                         const struct volname *v)
{
    if (!v->is_base) {
        return 0;
    }
    return add_key(&b->disks, &b->n_disks, &b->a_disks,
                   key_of(storage, v->vmid, v->name, v->name_len), *(size_t *)ud);
}

static int add_use(struct list_builder *b, void *ud, const char *storage, const struct volname *v)
{
    (void)ud;
    if (!v->base_name) {
        return 0;
    }
    return add_key(&b->uses, &b->n_uses, &b->a_uses,
                   key_of(storage, v->base_vmid, v->base_name, v->base_name_len), b->n_guests);
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d = s ? strdup(s) : NULL;
    *oom |= s && !d;
    return d;
}

/* The "ctime=" of a config's meta: property (qemu-server QemuServer.pm
 * new_meta_info_string: "creation-qemu=...,ctime=<epoch seconds>"); 0 when
 * absent or malformed. */
static uint64_t meta_ctime(const struct qm_config *cf)
{
    for (size_t i = 0; i < cf->n_kv; i++) {
        if (strcmp(cf->kv[i].key, "meta") != 0) {
            continue;
        }
        for (const char *p = cf->kv[i].value; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
            if (strncmp(p, "ctime=", 6) != 0 || p[6] < '0' || p[6] > '9') {
                continue;
            }
            char *end;
            errno = 0;
            unsigned long long v = strtoull(p + 6, &end, 10);
            return errno || (*end && *end != ',') ? 0 : (uint64_t)v;
        }
    }
    return 0;
}

static int add_template(struct list_builder *b, uint32_t vmid, const char *node,
                        const struct qm_config *cf)
{
    if (grow_array(&b->rows, b->n_rows, &b->a_rows, sizeof(*b->rows)) < 0) {
        return -ENOMEM;
    }
    size_t idx = b->n_rows++;
    struct list_row *r = &b->rows[idx];
    bool oom = false;
    *r = (struct list_row){.vmid = vmid, .size_known = true};
    uint64_t ct = meta_ctime(cf);
    if (ct) {
        r->created_us = ct * 1000000;
        r->created_source = LIST_CREATED_CONFIG;
    }
    r->name = dup_or_null(cf->name, &oom);
    r->node = dup_or_null(node, &oom);
    r->hookscript = dup_or_null(cf->hookscript, &oom);
    r->hook = !cf->hookscript ? LIST_HOOK_NONE
              : hook_volid_is_ours(cf->hookscript, b->o.hook_name ? b->o.hook_name : "")
                  ? LIST_HOOK_PVETMPL
                  : LIST_HOOK_FOREIGN;
    for (size_t i = 0; i < cf->n_disks && !oom; i++) {
        const struct qm_disk *d = &cf->disks[i];
        uint64_t sz;
        if (d->cdrom) {
            continue;
        }
        r->n_disks++;
        if (d->size && list_parse_size(d->size, &sz) == 0 && sz <= UINT64_MAX - r->size) {
            r->size += sz;
        } else {
            r->size_known = false;
        }
        bool seen = !d->storage;
        for (size_t k = 0; k < r->storages.n && !seen; k++) {
            seen = strcmp(r->storages.v[k], d->storage) == 0;
        }
        oom = !seen && strv_push(&r->storages, d->storage) < 0;
    }
    if (oom) {
        return -ENOMEM;
    }
    return each_volume(b, cf, add_base_disk, &idx);
}

/* The volumes of the sections after the main one: a snapshot (or a pending
 * change) may hold a disk the main section no longer has, and that volume
 * still stands on its base (volume_is_base_and_used sees it on the storage). */
static int add_section_uses(struct list_builder *b, uint32_t vmid, const char *text, size_t len,
                            bool cut)
{
    const char *end = text + len;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        /* a header as qm.c reads one: "[...]" (PENDING, special:..., a snapshot) */
        if (*p == '[' && memchr(p, ']', (size_t)(next - p))) {
            struct qm_config cf;
            /* qm_parse_conf_file reads up to the next section header */
            if (qm_parse_conf_file(next, (size_t)(end - next), vmid, cut, &cf) < 0) {
                return -ENOMEM;
            }
            int r = each_volume(b, &cf, add_use, NULL);
            qm_config_release(&cf);
            if (r < 0) {
                return r;
            }
        }
        p = next;
    }
    return 0;
}

int list_builder_add(struct list_builder *b, uint32_t vmid, const char *node, const char *text,
                     size_t len, bool cut)
{
    struct qm_config cf;
    if (qm_parse_conf_file(text, len, vmid, cut, &cf) < 0) {
        return -ENOMEM;
    }
    b->read++;
    int r = cf.template ? add_template(b, vmid, node, &cf) : 0;
    if (r == 0) {
        r = each_volume(b, &cf, add_use, NULL);
    }
    if (r == 0) {
        r = add_section_uses(b, vmid, text, len, cut);
    }
    /* Every guest's name, node and creation: --all lists the linked clones
     * (uses) and the full ones (the journal's lineage). */
    if (r == 0) {
        bool oom = grow_array(&b->guests, b->n_guests, &b->a_guests, sizeof(*b->guests)) < 0;
        if (!oom) {
            struct guest *g = &b->guests[b->n_guests++];
            *g = (struct guest){.vmid = vmid, .ctime = meta_ctime(&cf)};
            g->name = dup_or_null(cf.name, &oom);
            g->node = dup_or_null(node, &oom);
        }
        r = oom ? -ENOMEM : 0;
    }
    qm_config_release(&cf);
    return r;
}

void list_builder_vanished(struct list_builder *b)
{
    b->vanished++;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct base_key *)a)->key, ((const struct base_key *)b)->key);
}

static int cmp_row(const void *a, const void *b)
{
    uint32_t x = ((const struct list_row *)a)->vmid, y = ((const struct list_row *)b)->vmid;
    return x < y ? -1 : x > y;
}

/* (template row, guest) pairs, sorted so that each row's guests are together
 * and in VMID order, each once however many disks it has on the template. */
struct pair {
    size_t row, guest;
    uint32_t vmid;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->row != y->row) {
        return x->row < y->row ? -1 : 1;
    }
    return x->vmid < y->vmid ? -1 : x->vmid > y->vmid;
}

static int link_clones(struct list_builder *b)
{
    struct pair *pairs = calloc(b->n_uses ? b->n_uses : 1, sizeof(*pairs));
    size_t np = 0;
    if (!pairs) {
        return -ENOMEM;
    }
    /* qsort and bsearch take no NULL array, even of 0 elements (a cluster
     * without templates has no base disk) */
    if (b->n_disks) {
        qsort(b->disks, b->n_disks, sizeof(*b->disks), cmp_key);
    }
    for (size_t i = 0; b->n_disks && i < b->n_uses; i++) {
        const struct base_key *d =
            bsearch(&b->uses[i], b->disks, b->n_disks, sizeof(*b->disks), cmp_key);
        const struct guest *g = &b->guests[b->uses[i].idx];
        /* a template's own chain (base-100-disk-0/base-101-disk-0) names
         * its parent, never itself */
        if (d && b->rows[d->idx].vmid != g->vmid) {
            pairs[np++] = (struct pair){d->idx, b->uses[i].idx, g->vmid};
        }
    }
    qsort(pairs, np, sizeof(*pairs), cmp_pair);
    int r = 0;
    for (size_t i = 0; i < np && r == 0; i++) {
        if (i > 0 && pairs[i].row == pairs[i - 1].row && pairs[i].vmid == pairs[i - 1].vmid) {
            continue;
        }
        struct list_row *row = &b->rows[pairs[i].row];
        row->n_linked++;
        if (!b->o.all) {
            continue;
        }
        struct list_clone *nc = realloc(row->clones, (row->n_clones + 1) * sizeof(*nc));
        if (!nc) {
            r = -ENOMEM;
            break;
        }
        row->clones = nc;
        const struct guest *g = &b->guests[pairs[i].guest];
        bool oom = false;
        nc[row->n_clones++] = (struct list_clone){
            .vmid = g->vmid,
            .name = dup_or_null(g->name, &oom),
            .node = dup_or_null(g->node, &oom),
            .linked = true,
        };
        r = oom ? -ENOMEM : 0;
    }
    free(pairs);
    return r;
}

/* Whether edge e can be about guest g, not about an earlier VM of that
 * VMID: g was not created after it (meta ctime, seconds; a clone may carry
 * its source's, older still). A minute's slack for the nodes' clocks. */
static bool edge_fits(const struct audit_edge *e, uint64_t ctime)
{
    return !ctime || ctime <= e->usec / 1000000 + 60;
}

/* The latest edge of kind into vmid that fits ctime, or NULL. */
static const struct audit_edge *latest_edge(const struct list_opts *o, enum audit_edge_kind kind,
                                            uint32_t vmid, uint64_t ctime)
{
    const struct audit_edge *best = NULL;
    for (size_t i = 0; i < o->n_edges; i++) {
        const struct audit_edge *e = &o->edges[i];
        if (e->kind == kind && e->vmid == vmid && edge_fits(e, ctime) &&
            (!best || e->usec >= best->usec)) {
            best = e;
        }
    }
    return best;
}

static int cmp_clone(const void *a, const void *b)
{
    uint32_t x = ((const struct list_clone *)a)->vmid, y = ((const struct list_clone *)b)->vmid;
    return x < y ? -1 : x > y;
}

/* The journal's lineage over the rows (sorted by VMID): when and from what
 * each template was made, and with --all its full clones. The edges are few
 * (one per clone ever made here): a scan per template and per guest. */
static int apply_lineage(struct list_builder *b)
{
    const struct list_opts *o = &b->o;
    for (size_t i = 0; i < b->n_rows; i++) {
        struct list_row *r = &b->rows[i];
        uint64_t ct = r->created_source == LIST_CREATED_CONFIG ? r->created_us / 1000000 : 0;
        const struct audit_edge *e = latest_edge(o, AUDIT_EDGE_TEMPLATE, r->vmid, ct);
        if (e) {
            r->created_us = e->usec;
            r->created_from = e->src;
            r->created_source = LIST_CREATED_JOURNAL;
        }
    }
    if (!o->all || !o->n_edges) {
        return 0;
    }
    for (size_t i = 0; i < b->n_guests; i++) {
        const struct guest *g = &b->guests[i];
        const struct audit_edge *e = latest_edge(o, AUDIT_EDGE_CLONE, g->vmid, g->ctime);
        struct list_row key = {.vmid = e ? e->src : 0};
        struct list_row *r =
            e ? bsearch(&key, b->rows, b->n_rows, sizeof(*b->rows), cmp_row) : NULL;
        bool listed = false;
        for (size_t k = 0; r && k < r->n_clones && !listed; k++) {
            listed = r->clones[k].vmid == g->vmid; /* a linked clone, seen already */
        }
        if (!r || listed || r->vmid == g->vmid) {
            continue;
        }
        struct list_clone *nc = realloc(r->clones, (r->n_clones + 1) * sizeof(*nc));
        if (!nc) {
            return -ENOMEM;
        }
        r->clones = nc;
        bool oom = false;
        nc[r->n_clones++] = (struct list_clone){
            .vmid = g->vmid,
            .name = dup_or_null(g->name, &oom),
            .node = dup_or_null(g->node, &oom),
            .linked = false,
        };
        if (oom) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < b->n_rows; i++) {
        if (b->rows[i].n_clones > 1) {
            qsort(b->rows[i].clones, b->rows[i].n_clones, sizeof(*b->rows[i].clones), cmp_clone);
        }
    }
    return 0;
}

int list_builder_finish(struct list_builder *b, struct list_result *ret)
{
    *ret = (struct list_result){0};
    if (!b) {
        return -ENOMEM;
    }
    int r = link_clones(b);
    if (r == 0) {
        if (b->n_rows) {
            qsort(b->rows, b->n_rows, sizeof(*b->rows), cmp_row);
        }
        r = apply_lineage(b);
    }
    if (r == 0) {
        *ret = (struct list_result){b->rows, b->n_rows, b->read, b->vanished};
        b->rows = NULL;
        b->n_rows = 0;
    }
    builder_free(b);
    return r;
}

void list_result_release(struct list_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        row_release(&r->rows[i]);
    }
    free(r->rows);
    *r = (struct list_result){0};
}

/* ---- I/O -------------------------------------------------------------- */

/* Reads vmid's config on node and hands it to w: 0, 1 when it is gone, -1
 * with e set. */
static int read_guest(const struct conf *cf, const struct list_walk *w, uint32_t vmid,
                      const char *node, struct err *e)
{
    char *text;
    size_t len;
    int r = node_read_config_text(cf, node, vmid, true, &text, &len, e);
    if (r != 0) {
        return r;
    }
    r = w->guest(w->ud, vmid, node, text, len);
    free(text);
    return r < 0 ? err_set(e, ERR_INTERNAL, "out of memory") : 0;
}

static bool is_qemu(const struct vmlist_entry *en)
{
    return en && strcmp(en->type, "qemu") == 0;
}

/* A guest the walk reads: a VM, and on w->node when one is given. */
static bool walked(const struct list_walk *w, const struct vmlist_entry *en)
{
    return is_qemu(en) && (!w->node || strcmp(en->node, w->node) == 0);
}

static int interrupted(const volatile sig_atomic_t *interrupt, struct err *e)
{
    return interrupt && *interrupt
               ? err_set(e, ERR_INTERRUPTED, "interrupted by signal %d", (int)*interrupt)
               : 0;
}

static int walk_gone(const struct conf *cf, const struct list_walk *w, const struct vmlist *old,
                     const uint32_t *gone, size_t n, const volatile sig_atomic_t *interrupt,
                     struct err *e)
{
    struct vmlist vl;
    if (node_load_vmlist(cf, &vl, e) < 0) {
        return -1;
    }
    int r = 0;
    for (size_t i = 0; i < n && r >= 0; i++) {
        const struct vmlist_entry *now = vmlist_find(&vl, gone[i]);
        const struct vmlist_entry *was = vmlist_find(old, gone[i]);
        r = interrupted(interrupt, e);
        if (r == 0 && walked(w, now) && (!was || strcmp(now->node, was->node) != 0)) {
            r = read_guest(cf, w, now->vmid, now->node, e);
        } else if (r == 0) {
            r = 1;
        }
        if (r == 1 && w->vanished) {
            w->vanished(w->ud);
        }
    }
    vmlist_release(&vl);
    return r < 0 ? -1 : 0;
}

static int builder_guest(void *ud, uint32_t vmid, const char *node, const char *text, size_t len)
{
    return list_builder_add(ud, vmid, node, text, len, false);
}

static void builder_vanished(void *ud)
{
    list_builder_vanished(ud);
}

int list_load_gone(const struct conf *cf, struct list_builder *b, const struct vmlist *old,
                   const uint32_t *gone, size_t n, const volatile sig_atomic_t *interrupt,
                   struct err *e)
{
    struct list_walk w = {.guest = builder_guest, .vanished = builder_vanished, .ud = b};
    return walk_gone(cf, &w, old, gone, n, interrupt, e);
}

int list_walk(const struct conf *cf, const struct list_walk *w,
              const volatile sig_atomic_t *interrupt, struct err *e)
{
    struct vmlist vl;
    if (node_load_vmlist(cf, &vl, e) < 0) {
        return -1;
    }
    uint32_t *gone = calloc(vl.n ? vl.n : 1, sizeof(*gone));
    size_t n_gone = 0;
    int r = gone ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
    /* One read per file, in VMID order; containers are not ours. */
    for (size_t i = 0; i < vl.n && r == 0; i++) {
        const struct vmlist_entry *en = &vl.entries[i];
        if (!walked(w, en) || (r = interrupted(interrupt, e)) < 0) {
            continue;
        }
        r = read_guest(cf, w, en->vmid, en->node, e);
        if (r == 1) {
            gone[n_gone++] = en->vmid;
            r = 0;
        }
    }
    if (r == 0 && n_gone > 0) {
        r = walk_gone(cf, w, &vl, gone, n_gone, interrupt, e);
    }
    free(gone);
    vmlist_release(&vl);
    return r < 0 ? -1 : 0;
}

int list_load(const struct conf *cf, const struct list_opts *o,
              const volatile sig_atomic_t *interrupt, struct list_result *ret, struct err *e)
{
    *ret = (struct list_result){0};
    struct list_builder *b = list_builder_new(o);
    if (!b) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    struct list_walk w = {.guest = builder_guest, .vanished = builder_vanished, .ud = b};
    if (list_walk(cf, &w, interrupt, e) < 0) {
        builder_free(b);
        return -1;
    }
    if (list_builder_finish(b, ret) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    return 0;
}

/* ---- report and table ------------------------------------------------- */

static struct json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static const char *hook_name_of(enum list_hook h)
{
    return h == LIST_HOOK_PVETMPL ? "pvetmpl" : h == LIST_HOOK_FOREIGN ? "foreign" : "none";
}

struct json_object *list_rows_json(const struct list_result *r, bool all)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < r->n; i++) {
        const struct list_row *w = &r->rows[i];
        struct json_object *o = json_object_new_object(), *st = json_object_new_array();
        for (size_t k = 0; st && k < w->storages.n; k++) {
            json_object_array_add(st, json_object_new_string(w->storages.v[k]));
        }
        json_object_object_add(o, "vmid", json_object_new_int64(w->vmid));
        json_object_object_add(o, "name", str_or_null(w->name));
        json_object_object_add(o, "node", str_or_null(w->node));
        json_object_object_add(o, "storages", st);
        json_object_object_add(o, "disks", json_object_new_int64((int64_t)w->n_disks));
        json_object_object_add(o, "size", w->size_known ? json_object_new_uint64(w->size) : NULL);
        json_object_object_add(o, "hookscript", str_or_null(w->hookscript));
        json_object_object_add(o, "hook", json_object_new_string(hook_name_of(w->hook)));
        json_object_object_add(o, "hook_current", str_or_null(w->hook_current));
        if (w->hook_why) {
            json_object_object_add(o, "hook_current_why", json_object_new_string(w->hook_why));
        }
        json_object_object_add(
            o, "created", w->created_us ? json_object_new_uint64(w->created_us / 1000000) : NULL);
        json_object_object_add(o, "created_from",
                               w->created_from ? json_object_new_int64(w->created_from) : NULL);
        json_object_object_add(
            o, "created_source",
            w->created_source == LIST_CREATED_JOURNAL  ? json_object_new_string("journal")
            : w->created_source == LIST_CREATED_CONFIG ? json_object_new_string("config")
                                                       : NULL);
        json_object_object_add(o, "linked_clones", json_object_new_int64((int64_t)w->n_linked));
        if (all) {
            struct json_object *cl = json_object_new_array();
            for (size_t k = 0; cl && k < w->n_clones; k++) {
                const struct list_clone *c = &w->clones[k];
                struct json_object *co = json_object_new_object();
                json_object_object_add(co, "vmid", json_object_new_int64(c->vmid));
                json_object_object_add(co, "name", str_or_null(c->name));
                json_object_object_add(co, "node", str_or_null(c->node));
                json_object_object_add(co, "linked", json_object_new_boolean(c->linked));
                json_object_array_add(cl, co);
            }
            json_object_object_add(o, "clones", cl);
        }
        json_object_array_add(a, o);
    }
    return a;
}

/* Whether pvetmpl's hook file of template w is the current hook_binary, as
 * `hook status` answers it (cmd_hook_file_state: one `pvesm path` per hook
 * file). Only where this node sees the file the template's node uses: the
 * template is on this node, or the hook storage is shared. */
static int hook_state(struct ctx *c, struct cmd_hook_file_cache *fc, struct list_row *w)
{
    char path[PATH_MAX], storage[256];
    const char *colon = strchr(w->hookscript, ':');
    snprintf(storage, sizeof(storage), "%.*s", colon ? (int)(colon - w->hookscript) : 0,
             w->hookscript);
    const char *local = node_local_name(c->conf);
    const char *why = NULL;
    if (strcmp(w->node, local) != 0 && !cmd_hook_storage_shared(c->conf, storage, NULL)) {
        why = "the template is on another node and its hook storage is not shared";
    } else {
        const char *fs = cmd_hook_file_state(c, fc, w->hookscript, path, sizeof(path));
        w->hook_current = strcmp(fs, "same") == 0      ? "current"
                          : strcmp(fs, "missing") == 0 ? "missing"
                          : strcmp(fs, "differs") == 0 ? "outdated"
                                                       : NULL;
        why = w->hook_current ? NULL : "the hook file's path is unknown ('pvesm path' failed)";
    }
    if (why && !(w->hook_why = strdup(why))) {
        return -ENOMEM;
    }
    return 0;
}

int cmd_list_run(struct ctx *c, const struct request_list *r, struct err *e)
{
    struct list_opts o = {.hook_name = c->conf->hook_name, .all = r->all};
    struct list_result res;
    struct audit_lineage lin;
    struct err je;
    /* One pass over the journal for the whole list. */
    if (audit_lineage_load(&lin, &je) < 0) {
        cmd_warn(c,
                 "cannot read the journal's lineage (when and from which VM each template was "
                 "made%s): %s",
                 r->all ? ", its full clones" : "", je.detail);
    }
    o.edges = lin.v;
    o.n_edges = lin.n;
    int k = list_load(c->conf, &o, c->interrupt, &res, e);
    audit_lineage_release(&lin);
    if (k < 0) {
        return -1;
    }
    struct cmd_hook_file_cache fc = {0};
    for (size_t i = 0; i < res.n && k == 0; i++) {
        if (res.rows[i].hook == LIST_HOOK_PVETMPL) {
            k = hook_state(c, &fc, &res.rows[i]);
        }
    }
    cmd_hook_file_cache_release(&fc);
    if (k < 0) {
        list_result_release(&res);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    report_set(c->rep, "templates", list_rows_json(&res, r->all));
    report_set(c->rep, "guests", json_object_new_int64((int64_t)res.n_guests));
    report_set(c->rep, "vanished", json_object_new_int64((int64_t)res.n_vanished));
    report_set_msg(c->rep, "%zu template%s among %zu VMs", res.n, res.n == 1 ? "" : "s",
                   res.n_guests);
    if (res.n_vanished) {
        cmd_info(c, "%zu VM%s of the cluster's list vanished while it was read (deleted meanwhile)",
                 res.n_vanished, res.n_vanished == 1 ? "" : "s");
    }
    list_result_release(&res);
    return 0;
}

/* Like pve-common JSONSchema.pm format_size ("32G", the size= notation the
 * admin knows from the VM's config) when the size is a whole number of its
 * largest unit; else that unit with one decimal ("33.5G"). */
void list_format_size(char *buf, size_t len, uint64_t v)
{
    static const char units[] = "KMGT";
    int u = -1;
    uint64_t div = 1;
    while (u < 3 && v / div >= 1024) {
        div *= 1024;
        u++;
    }
    if (u < 0) {
        snprintf(buf, len, "%" PRIu64, v);
    } else if (v % div == 0) {
        snprintf(buf, len, "%" PRIu64 "%c", v / div, units[u]);
    } else {
        snprintf(buf, len, "%.1f%c", (double)v / (double)div, units[u]);
    }
}

/* A field as one safe table cell (termtext: no control or bidi character). */
static void cell(char *buf, size_t len, const char *s)
{
    termtext_clean(buf, len, s);
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

enum {
    COL_VMID,
    COL_NAME,
    COL_NODE,
    COL_STORAGES,
    COL_SIZE,
    COL_CREATED,
    COL_LINKED,
    COL_HOOK,
    N_COLS
};

/* "2026-11-30 from 100" (local date; from: the journal's lineage), or "-". */
static void created_cell(struct json_object *t, char *buf, size_t len)
{
    struct json_object *v;
    if (!json_object_object_get_ex(t, "created", &v) || !v) {
        snprintf(buf, len, "-");
        return;
    }
    time_t when = (time_t)json_object_get_int64(v);
    struct tm tm;
    if (!localtime_r(&when, &tm) || strftime(buf, len, "%Y-%m-%d", &tm) == 0) {
        snprintf(buf, len, "?");
    }
    const char *from = get_str(t, "created_from");
    if (from) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, " from %s", from);
    }
}

static void row_cells(struct json_object *t, char cells[N_COLS][256])
{
    struct json_object *v;
    cell(cells[COL_VMID], 256, get_str(t, "vmid"));
    cell(cells[COL_NAME], 256, get_str(t, "name") ? get_str(t, "name") : "-");
    cell(cells[COL_NODE], 256, get_str(t, "node"));
    char st[256] = "";
    if (json_object_object_get_ex(t, "storages", &v)) {
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            size_t n = strlen(st);
            snprintf(st + n, sizeof(st) - n, "%s%s", k ? "," : "",
                     json_object_get_string(json_object_array_get_idx(v, k)));
        }
    }
    cell(cells[COL_STORAGES], 256, *st ? st : "-");
    if (json_object_object_get_ex(t, "size", &v) && v) {
        list_format_size(cells[COL_SIZE], 256, json_object_get_uint64(v));
    } else {
        snprintf(cells[COL_SIZE], 256, "?");
    }
    created_cell(t, cells[COL_CREATED], 256);
    cell(cells[COL_LINKED], 256, get_str(t, "linked_clones"));
    /* pvetmpl's hook: "pvetmpl (outdated)", "(missing)", "(?)" when not
     * known from this node; nothing more when current. */
    const char *hook = get_str(t, "hook");
    const char *cur = get_str(t, "hook_current");
    bool ours = hook && strcmp(hook, "pvetmpl") == 0;
    snprintf(cells[COL_HOOK], 256, "%s%s%s%s", hook ? hook : "-",
             !ours || (cur && strcmp(cur, "current") == 0) ? "" : " (",
             !ours || (cur && strcmp(cur, "current") == 0) ? ""
             : cur                                         ? cur
                                                           : "?",
             !ours || (cur && strcmp(cur, "current") == 0) ? "" : ")");
}

void list_draw(FILE *f, struct json_object *templates)
{
    static const char *const head[N_COLS] = {"VMID", "NAME",    "NODE",   "STORAGES",
                                             "SIZE", "CREATED", "LINKED", "HOOK"};
    size_t n = templates ? json_object_array_length(templates) : 0;
    size_t w[N_COLS];
    char cells[N_COLS][256];
    if (n == 0) {
        fputs("no templates in the cluster\n", f);
        return;
    }
    for (int k = 0; k < N_COLS; k++) {
        w[k] = strlen(head[k]);
    }
    for (size_t i = 0; i < n; i++) {
        row_cells(json_object_array_get_idx(templates, i), cells);
        for (int k = 0; k < N_COLS; k++) {
            size_t l = termtext_width(cells[k]); /* columns, not bytes */
            w[k] = l > w[k] ? l : w[k];
        }
    }
    for (size_t i = 0; i <= n; i++) {
        struct json_object *t = i ? json_object_array_get_idx(templates, i - 1) : NULL;
        if (t) {
            row_cells(t, cells);
        }
        for (int k = 0; k < N_COLS; k++) {
            const char *s = t ? cells[k] : head[k];
            bool right = k == COL_VMID || k == COL_SIZE || k == COL_LINKED;
            if (k == N_COLS - 1) {
                fprintf(f, "%s\n", s);
            } else {
                termtext_pad(f, s, w[k], right);
                fputs("  ", f);
            }
        }
        struct json_object *cl;
        if (!t || !json_object_object_get_ex(t, "clones", &cl) || !cl) {
            continue;
        }
        for (size_t k = 0; k < json_object_array_length(cl); k++) {
            struct json_object *g = json_object_array_get_idx(cl, k);
            char name[256], node[256];
            cell(name, sizeof(name), get_str(g, "name") ? get_str(g, "name") : "-");
            cell(node, sizeof(node), get_str(g, "node"));
            fprintf(f, "%*s  `- %s %s on %s, %s clone\n", (int)w[COL_VMID], "", get_str(g, "vmid"),
                    name, node, strcmp(get_str(g, "linked"), "true") == 0 ? "linked" : "full");
        }
    }
}
