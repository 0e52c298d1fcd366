/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pvecfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static bool in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++) {
        if (strcmp(s, *list) == 0) {
            return true;
        }
    }
    return false;
}

bool pvecfg_type_always_shared(const char *type)
{
    /* pve-storage src/PVE/Storage/Plugin.pm @SHARED_STORAGE */
    static const char *const shared[] = {"iscsi",       "nfs", "cifs", "rbd", "cephfs",
                                         "iscsidirect", "zfs", "drbd", "pbs", NULL};
    return in_list(type, shared);
}

bool pvecfg_type_can_allocate(const char *type)
{
    static const char *const no[] = {"iscsi", "iscsidirect", NULL};
    return !in_list(type, no);
}

const char *pvecfg_storage_formats(const char *type, bool volume_chain)
{
    /* plugindata 'format' of DirPlugin, NFSPlugin, CIFSPlugin (and
     * GlusterfsPlugin of PVE <= 8); BTRFSPlugin: raw (and subvol, for
     * containers); LVMPlugin get_formats. The others have none: raw. */
    static const char *const files[] = {"dir", "nfs", "cifs", "glusterfs", NULL};
    static const char *const raw[] = {"btrfs", "lvmthin",     "zfspool", "zfs", "rbd",
                                      "iscsi", "iscsidirect", "cephfs",  "pbs", NULL};
    if (in_list(type, files)) {
        return "raw, qcow2, vmdk";
    }
    if (type && strcmp(type, "lvm") == 0) {
        return volume_chain ? "raw, qcow2" : "raw";
    }
    return in_list(type, raw) ? "raw" : NULL;
}

bool pvecfg_storage_holds_format(const char *type, bool volume_chain, const char *format)
{
    const char *f = pvecfg_storage_formats(type, volume_chain);
    if (!f) {
        return true;
    }
    size_t n = strlen(format);
    for (const char *p = f; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 2 : 0)) {
        if (strncmp(p, format, n) == 0 && (p[n] == ',' || p[n] == '\0')) {
            return n > 0;
        }
    }
    return false;
}

/* ---- storage.cfg ---------------------------------------------------------- */

struct span {
    const char *p;
    size_t n;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The next whitespace-separated word of *s, advancing it. */
static struct span word(struct span *s)
{
    while (s->n && is_space(*s->p)) {
        s->p++;
        s->n--;
    }
    struct span w = {s->p, 0};
    while (w.n < s->n && !is_space(w.p[w.n])) {
        w.n++;
    }
    s->p += w.n;
    s->n -= w.n;
    return w;
}

static struct span trim(struct span s)
{
    while (s.n && is_space(*s.p)) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1])) {
        s.n--;
    }
    return s;
}

static bool span_is(struct span s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static bool is_comment(struct span l)
{
    struct span t = trim(l);
    return t.n && t.p[0] == '#';
}

/* SectionConfig: a boolean property is "0" or "1", or 1 without a value;
 * anything else is an invalid value, and the line is skipped. */
static int parse_bool(struct span v, bool *ret)
{
    if (!v.n || span_is(v, "1")) {
        *ret = true;
    } else if (span_is(v, "0")) {
        *ret = false;
    } else {
        return -1;
    }
    return 0;
}

/* Keys seen in the current section: the first value counts. */
enum { SEEN_SHARED = 1, SEEN_FORMAT = 2, SEEN_CHAIN = 4 };

static void apply_prop(struct pvecfg_storage *s, unsigned *seen, struct span k, struct span v,
                       bool *oom)
{
    bool b;
    if (span_is(k, "shared") && !(*seen & SEEN_SHARED)) {
        *seen |= SEEN_SHARED;
        if (parse_bool(v, &b) == 0) {
            s->shared = b;
        }
    } else if (span_is(k, "snapshot-as-volume-chain") && !(*seen & SEEN_CHAIN)) {
        *seen |= SEEN_CHAIN;
        if (parse_bool(v, &b) == 0) {
            s->volume_chain = b;
        }
    } else if (span_is(k, "format") && !(*seen & SEEN_FORMAT) && v.n) {
        *seen |= SEEN_FORMAT;
        s->format = strndup(v.p, v.n);
        *oom |= !s->format;
    }
}

/* "<type>: <id>" with nothing else (SectionConfig parse_section_header). */
static bool parse_header(struct span l, struct span *type, struct span *id)
{
    if (!l.n || is_space(l.p[0])) {
        return false;
    }
    const char *colon = memchr(l.p, ':', l.n);
    if (!colon) {
        return false;
    }
    struct span t = {l.p, (size_t)(colon - l.p)};
    struct span rest = {colon + 1, l.n - t.n - 1};
    for (size_t i = 0; i < t.n; i++) {
        if (is_space(t.p[i])) {
            return false;
        }
    }
    *id = word(&rest);
    *type = t;
    return t.n && id->n && trim(rest).n == 0;
}

static bool id_ok(struct span id)
{
    /* Plugin.pm parse_section_header: pve-storage-id */
    char buf[128], msg[256];
    if (id.n >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, id.p, id.n);
    buf[id.n] = '\0';
    return validate_storage_id(buf, msg, sizeof(msg)) == 0;
}

static struct pvecfg_storage *add(struct pvecfg_storages *st, struct span type, struct span id)
{
    struct pvecfg_storage *v = realloc(st->v, (st->n + 1) * sizeof(*v));
    if (!v) {
        return NULL;
    }
    st->v = v;
    struct pvecfg_storage *s = &v[st->n];
    memset(s, 0, sizeof(*s));
    s->id = strndup(id.p, id.n);
    s->type = strndup(type.p, type.n);
    if (!s->id || !s->type) {
        free(s->id);
        free(s->type);
        return NULL;
    }
    for (char *p = s->type; *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    st->n++;
    return s;
}

int pvecfg_parse_storage(const char *text, size_t len, struct pvecfg_storages *ret)
{
    memset(ret, 0, sizeof(*ret));
    const char *cur = text ? text : "", *end = cur + (text ? len : 0);
    struct pvecfg_storage *s = NULL;
    bool in_section = false, skip = false, oom = false;
    unsigned seen = 0;
    while (cur < end && !oom) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        struct span l = {cur, (size_t)((nl ? nl : end) - cur)};
        cur = nl ? nl + 1 : end;
        if (is_comment(l)) {
            continue; /* also inside a section: it does not end it */
        }
        if (in_section) {
            if (l.n == 0) {
                in_section = false; /* only an empty line ends a section */
                continue;
            }
            if (skip || !is_space(l.p[0])) {
                continue; /* "ignore config line" */
            }
            struct span rest = l;
            struct span k = word(&rest);
            if (s && k.n) {
                apply_prop(s, &seen, k, trim(rest), &oom);
            }
            continue;
        }
        struct span type, id;
        if (!parse_header(l, &type, &id)) {
            continue;
        }
        in_section = true;
        seen = 0;
        skip = !id_ok(id);
        s = NULL;
        if (!skip) {
            struct span idt = id;
            char idb[128];
            snprintf(idb, sizeof(idb), "%.*s", (int)idt.n, idt.p);
            if (pvecfg_storage_find(ret, idb)) {
                skip = true; /* SectionConfig keeps the first section of an id */
            } else if (!(s = add(ret, type, id))) {
                oom = true;
            }
        }
    }
    /* Plugin.pm parse_config: 'local' is always a dir storage. */
    struct pvecfg_storage *local = (struct pvecfg_storage *)pvecfg_storage_find(ret, "local");
    if (!oom && local && strcmp(local->type, "dir") != 0) {
        free(local->type);
        free(local->format);
        local->format = NULL;
        local->shared = local->volume_chain = false;
        oom = !(local->type = strdup("dir"));
    }
    for (size_t i = 0; !oom && i < ret->n; i++) {
        ret->v[i].shared |= pvecfg_type_always_shared(ret->v[i].type);
    }
    if (oom) {
        pvecfg_storages_release(ret);
        return -ENOMEM;
    }
    return 0;
}

void pvecfg_storages_release(struct pvecfg_storages *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->v[i].id);
        free(st->v[i].type);
        free(st->v[i].format);
    }
    free(st->v);
    st->v = NULL;
    st->n = 0;
}

const struct pvecfg_storage *pvecfg_storage_find(const struct pvecfg_storages *st, const char *id)
{
    for (size_t i = 0; id && i < st->n; i++) {
        if (strcmp(st->v[i].id, id) == 0) {
            return &st->v[i];
        }
    }
    return NULL;
}

/* ---- user.cfg --------------------------------------------------------------- */

bool pvecfg_pool_exists(const char *text, size_t len, const char *pool)
{
    const char *cur = text ? text : "", *end = cur + (text ? len : 0);
    size_t pn = pool ? strlen(pool) : 0;
    if (!pn) {
        return false;
    }
    while (cur < end) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        struct span l = trim((struct span){cur, (size_t)((nl ? nl : end) - cur)});
        cur = nl ? nl + 1 : end;
        const char *c1 = memchr(l.p, ':', l.n);
        if (!c1 || !span_is(trim((struct span){l.p, (size_t)(c1 - l.p)}), "pool")) {
            continue;
        }
        struct span rest = {c1 + 1, l.n - (size_t)(c1 + 1 - l.p)};
        const char *c2 = memchr(rest.p, ':', rest.n);
        struct span name = trim((struct span){rest.p, c2 ? (size_t)(c2 - rest.p) : rest.n});
        char buf[256], msg[256];
        if (name.n >= sizeof(buf)) {
            continue;
        }
        memcpy(buf, name.p, name.n);
        buf[name.n] = '\0';
        if (validate_pool_id(buf, msg, sizeof(msg)) < 0) {
            continue; /* "ignore pool '...' - invalid characters in pool name" */
        }
        /* the pool itself, or a parent of a nested one */
        if (name.n >= pn && memcmp(buf, pool, pn) == 0 && (buf[pn] == '\0' || buf[pn] == '/')) {
            return true;
        }
    }
    return false;
}
