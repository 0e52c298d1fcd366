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
    /* pve-storage src/PVE/Storage/Plugin.pm @SHARED_STORAGE; 'glusterfs' is
     * in it up to PVE 8 (dropped with GlusterfsPlugin by pve-storage commit
     * 7669a99 "drop support for using GlusterFS directly", PVE 9, where a
     * glusterfs section is an unsupported type and no storage at all). */
    static const char *const shared[] = {"iscsi",     "nfs", "cifs", "rbd", "cephfs", "iscsidirect",
                                         "glusterfs", "zfs", "drbd", "pbs", NULL};
    return in_list(type, shared);
}

bool pvecfg_type_can_allocate(const char *type)
{
    /* alloc_image dies in ISCSIPlugin, ISCSIDirectPlugin ("can't allocate
     * space in iscsi storage") and ESXiPlugin ("creating images is not
     * supported") */
    static const char *const no[] = {"iscsi", "iscsidirect", "esxi", NULL};
    return !in_list(type, no);
}

static const struct {
    const char *name;
    unsigned bit;
} formats[] = {{"raw", PVECFG_FMT_RAW}, {"qcow2", PVECFG_FMT_QCOW2}, {"vmdk", PVECFG_FMT_VMDK}};

unsigned pvecfg_storage_formats(const char *type, bool volume_chain)
{
    /* plugindata 'format' of DirPlugin, NFSPlugin, CIFSPlugin, ESXiPlugin
     * (and GlusterfsPlugin of PVE <= 8); BTRFSPlugin: raw (and subvol, for
     * containers); LVMPlugin get_formats. The others have none: raw. */
    static const char *const files[] = {"dir", "nfs", "cifs", "esxi", "glusterfs", NULL};
    static const char *const raw[] = {"btrfs", "lvmthin",     "zfspool", "zfs", "rbd",
                                      "iscsi", "iscsidirect", "cephfs",  "pbs", NULL};
    if (in_list(type, files)) {
        return PVECFG_FMT_RAW | PVECFG_FMT_QCOW2 | PVECFG_FMT_VMDK;
    }
    if (type && strcmp(type, "lvm") == 0) {
        return PVECFG_FMT_RAW | (volume_chain ? PVECFG_FMT_QCOW2 : 0);
    }
    return in_list(type, raw) ? PVECFG_FMT_RAW : 0;
}

void pvecfg_formats_text(unsigned mask, char *buf, size_t len)
{
    size_t n = 0;
    if (len) {
        buf[0] = '\0';
    }
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if ((mask & formats[i].bit) && n < len) {
            int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", formats[i].name);
            n += w > 0 ? (size_t)w : 0;
        }
    }
}

bool pvecfg_storage_holds_format(const char *type, bool volume_chain, const char *format)
{
    unsigned mask = pvecfg_storage_formats(type, volume_chain);
    if (!mask) {
        return true;
    }
    for (size_t i = 0; format && i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(format, formats[i].name) == 0) {
            return (mask & formats[i].bit) != 0;
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

/* SectionConfig check_value: no value is 1 for a boolean; a value with a CR
 * is refused; JSONSchema check_type takes only "1" and "0" as booleans. */
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

/* Plugin.pm verify_path (pve-storage-path): m|^/[^;\(\)]+|, and no CR
 * (check_value). */
static bool path_ok(struct span v)
{
    return v.n >= 2 && v.p[0] == '/' && !strchr(";()", v.p[1]) && !memchr(v.p, '\r', v.n);
}

/* Known types whose options() lack 'shared' (check_value: "unexpected
 * property"): every plugin but DirPlugin, BTRFSPlugin, LVMPlugin, ESXiPlugin.
 * Third-party types are not known here: their 'shared' is taken. */
static bool takes_shared(const char *type)
{
    static const char *const no[] = {"cifs", "cephfs", "iscsi", "iscsidirect", "lvmthin",   "nfs",
                                     "pbs",  "rbd",    "zfs",   "zfspool",     "glusterfs", NULL};
    return !in_list(type, no);
}

/* The options each known plugin's options() lists without 'optional'
 * (pve-storage src/PVE/Storage/<Type>Plugin.pm; glusterfs: GlusterfsPlugin.pm of
 * PVE 8): SectionConfig check_config, called by parse_config with $create,
 * dies "missing value for required option" without one, and the section is
 * stored as undef: no storage of that id at all. */
static const char *const *required(const char *type)
{
    static const struct {
        const char *type;
        const char *const keys[6];
    } req[] = {
        {"dir", {"path"}},
        {"btrfs", {"path"}},
        {"cephfs", {"path"}},
        {"nfs", {"path", "server", "export"}},
        {"cifs", {"path", "server", "share"}},
        {"glusterfs", {"path", "volume"}},
        {"lvm", {"vgname"}},
        {"lvmthin", {"thinpool", "vgname"}},
        {"zfspool", {"pool"}},
        {"iscsi", {"portal", "target"}},
        {"iscsidirect", {"portal", "target"}},
        {"zfs", {"portal", "target", "pool", "blocksize", "iscsiprovider"}},
        {"pbs", {"server", "datastore"}},
        {"esxi", {"server", "username"}},
    };
    for (size_t i = 0; type && i < sizeof(req) / sizeof(req[0]); i++) {
        if (strcmp(type, req[i].type) == 0) {
            return req[i].keys;
        }
    }
    return NULL;
}

/* What parse_config keeps of the current section. */
struct section {
    struct pvecfg_storage st;
    unsigned stored;        /* the keys holding a value */
    bool path_default;      /* its 'path' is /var/lib/vz */
    const char *const *req; /* required(type) */
    unsigned req_seen;      /* bit i: req[i] holds a value */
};
enum { HAS_SHARED = 1, HAS_CHAIN = 2, HAS_PATH = 4 };

/* SectionConfig parse_config: the first value check_value accepts is
 * stored; a later one is a "duplicate attribute", an invalid one is never
 * stored (and does not block a later valid one). */
static void apply_prop(struct section *s, struct span k, struct span v)
{
    bool b;
    /* A required key holds a value when check_value takes it: one is given
     * (else "got undefined value"), without CR; path as verify_path wants.
     * Other formats (vgname, portal, ...) are not checked here. */
    for (size_t i = 0; s->req && i < 6 && s->req[i]; i++) {
        if (span_is(k, s->req[i]) && v.n && !memchr(v.p, '\r', v.n) &&
            (!span_is(k, "path") || path_ok(v))) {
            s->req_seen |= 1u << i;
        }
    }
    if (span_is(k, "shared") && !(s->stored & HAS_SHARED) && takes_shared(s->st.type) &&
        parse_bool(v, &b) == 0) {
        s->stored |= HAS_SHARED;
        s->st.shared = b;
    } else if (span_is(k, "snapshot-as-volume-chain") && !(s->stored & HAS_CHAIN) &&
               parse_bool(v, &b) == 0) {
        s->stored |= HAS_CHAIN;
        s->st.volume_chain = b;
    } else if (span_is(k, "path") && !(s->stored & HAS_PATH) && path_ok(v)) {
        s->stored |= HAS_PATH;
        s->path_default = span_is(v, "/var/lib/vz");
    }
}

/* Plugin.pm parse_section_header: m/^(\S+):\s*(\S+)\s*$/ (the type is
 * greedy: "a:b:c" is type "a:b", id "c"). */
static bool parse_header(struct span l, struct span *type, struct span *id)
{
    struct span rest = l;
    if (!l.n || is_space(l.p[0])) {
        return false;
    }
    struct span t1 = word(&rest), t2 = word(&rest);
    if (trim(rest).n) {
        return false;
    }
    if (t2.n) {
        *type = (struct span){t1.p, t1.n - 1};
        *id = t2;
        return t1.n >= 2 && t1.p[t1.n - 1] == ':';
    }
    for (size_t i = t1.n - 1; i > 0; i--) {
        if (t1.p[i - 1] == ':' && i - 1 > 0) {
            *type = (struct span){t1.p, i - 1};
            *id = (struct span){t1.p + i, t1.n - i};
            return true;
        }
    }
    return false;
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

static int section_start(struct section *s, struct span type, struct span id)
{
    memset(s, 0, sizeof(*s));
    s->path_default = false;
    s->st.id = strndup(id.p, id.n);
    s->st.type = strndup(type.p, type.n);
    if (!s->st.id || !s->st.type) {
        return -ENOMEM;
    }
    for (char *p = s->st.type; *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    s->req = required(s->st.type);
    return 0;
}

static void storage_free(struct pvecfg_storage *s)
{
    free(s->id);
    free(s->type);
    memset(s, 0, sizeof(*s));
}

/* A section ends: SectionConfig "$ids->{$sectionId} = $config", so a later
 * section of an id replaces an earlier one. Takes s->st either way. */
static int section_end(struct pvecfg_storages *st, struct section *s, bool *local_default)
{
    if (!s->st.id) {
        return 0;
    }
    if (strcmp(s->st.id, "local") == 0) {
        *local_default = s->path_default;
    }
    struct pvecfg_storage *old = (struct pvecfg_storage *)pvecfg_storage_find(st, s->st.id);
    for (size_t i = 0; s->req && i < 6 && s->req[i]; i++) {
        if (!(s->req_seen & (1u << i))) {
            /* check_config died: the id is stored as undef, erasing an earlier section */
            if (old) {
                storage_free(old);
                *old = st->v[--st->n];
            }
            storage_free(&s->st);
            return 0;
        }
    }
    if (old) {
        storage_free(old);
        *old = s->st;
    } else {
        struct pvecfg_storage *v = realloc(st->v, (st->n + 1) * sizeof(*v));
        if (!v) {
            storage_free(&s->st);
            return -ENOMEM;
        }
        st->v = v;
        v[st->n++] = s->st;
    }
    memset(&s->st, 0, sizeof(s->st));
    return 0;
}

/* Plugin.pm parse_config: a 'local' that is missing, not dir, or has a path
 * other than /var/lib/vz is replaced by a fresh dir one (not shared). A dir
 * without a valid path never got here (check_config: path is required). */
static int force_local(struct pvecfg_storages *st, bool local_default)
{
    struct pvecfg_storage *l = (struct pvecfg_storage *)pvecfg_storage_find(st, "local");
    if (l && strcmp(l->type, "dir") == 0 && local_default) {
        return 0;
    }
    struct section s;
    int r = section_start(&s, (struct span){"dir", 3}, (struct span){"local", 5});
    s.req = NULL; /* it has its path, /var/lib/vz */
    if (r == 0) {
        return section_end(st, &s, &local_default);
    }
    storage_free(&s.st);
    return r;
}

int pvecfg_parse_storage(const char *text, size_t len, struct pvecfg_storages *ret)
{
    memset(ret, 0, sizeof(*ret));
    const char *cur = text ? text : "", *end = cur + (text ? len : 0);
    struct section s = {0};
    bool in_section = false, local_default = false;
    int r = 0;
    while (cur < end && r == 0) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        struct span l = {cur, (size_t)((nl ? nl : end) - cur)};
        cur = nl ? nl + 1 : end;
        if (is_comment(l)) {
            continue; /* also inside a section: it does not end it */
        }
        if (in_section) {
            if (l.n == 0 || span_is(l, "0")) {
                /* "while ($line = $nextline->())": a false line ends it */
                in_section = false;
                r = section_end(ret, &s, &local_default);
                continue;
            }
            struct span rest = l;
            struct span k = word(&rest);
            if (s.st.id && k.n && is_space(l.p[0])) {
                apply_prop(&s, k, trim(rest)); /* else "ignore config line" */
            }
            continue;
        }
        struct span type, id;
        if (!parse_header(l, &type, &id)) {
            continue;
        }
        in_section = true;
        if (id_ok(id)) {
            r = section_start(&s, type, id);
        }
    }
    if (r == 0 && in_section) {
        r = section_end(ret, &s, &local_default);
    }
    if (r == 0) {
        r = force_local(ret, local_default);
    }
    for (size_t i = 0; r == 0 && i < ret->n; i++) {
        ret->v[i].shared |= pvecfg_type_always_shared(ret->v[i].type);
    }
    if (r < 0) {
        storage_free(&s.st);
        pvecfg_storages_release(ret);
    }
    return r;
}

void pvecfg_storages_release(struct pvecfg_storages *st)
{
    for (size_t i = 0; i < st->n; i++) {
        storage_free(&st->v[i]);
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
