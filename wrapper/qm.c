/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "qm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "grow.h"
#include "journal.h"
#include "validate.h"

/* ---- small text helpers ------------------------------------------------ */

struct line {
    const char *p;
    size_t n;
    unsigned no; /* 1-based */
};

/* Yields the next line without its "\n" or "\r\n". A final line without a
 * newline counts; the empty rest after a final newline does not. */
static bool next_line(const char **cur, const char *end, struct line *l)
{
    if (*cur >= end) {
        return false;
    }
    const char *nl = memchr(*cur, '\n', (size_t)(end - *cur));
    const char *e = nl ? nl : end;
    l->p = *cur;
    l->n = (size_t)(e - *cur);
    if (l->n > 0 && l->p[l->n - 1] == '\r') {
        l->n--;
    }
    l->no++;
    *cur = nl ? nl + 1 : end;
    return true;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t') {
            return false;
        }
    }
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal as qm prints it (no sign, blanks or leading zeros), from a span of
 * a line: validate's number rules, which match Perl's own printing. */
static int parse_u64(const char *p, size_t n, uint64_t *ret)
{
    char buf[32];
    if (n >= sizeof(buf)) {
        return -EINVAL;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    return validate_number("value", buf, 0, UINT64_MAX, ret, NULL, 0);
}

/* "12.53", "0", "1863.02": digits with an optional fraction. Parsed by hand
 * so the result does not depend on the locale's decimal point. */
static int parse_decimal(const char *p, size_t n, double *ret)
{
    uint64_t mant = 0;
    size_t i = 0, ndig = 0, frac = 0;
    bool dot = false;
    for (; i < n; i++) {
        if (p[i] == '.' && !dot && ndig > 0) {
            dot = true;
            continue;
        }
        if (!is_digit(p[i]) || ++ndig > 18) {
            return -EINVAL;
        }
        mant = mant * 10 + (uint64_t)(p[i] - '0');
        frac += dot;
    }
    if (ndig == 0 || p[n - 1] == '.') {
        return -EINVAL;
    }
    double div = 1;
    while (frac--) {
        div *= 10;
    }
    *ret = (double)mant / div;
    return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* qm's keys: "status", "running-qemu", "scsi0". */
static bool is_key(const char *p, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !is_digit(c) && c != '_' &&
            c != '-') {
            return false;
        }
    }
    return true;
}

/* Splits "key: value" / "key:" (value exactly after the one space qm prints). */
static bool split_kv(const struct line *l, size_t *ret_klen, const char **ret_v, size_t *ret_vlen)
{
    const char *colon = memchr(l->p, ':', l->n);
    if (!colon || memchr(l->p, '\0', l->n)) {
        return false;
    }
    size_t k = (size_t)(colon - l->p);
    size_t rest = l->n - k - 1;
    if (!is_key(l->p, k) || (rest > 0 && colon[1] != ' ')) {
        return false;
    }
    *ret_klen = k;
    *ret_v = rest > 0 ? colon + 2 : colon + 1;
    *ret_vlen = rest > 0 ? rest - 1 : 0;
    return true;
}

static bool key_is(const char *p, size_t n, const char *key)
{
    return strlen(key) == n && memcmp(p, key, n) == 0;
}

/* Returns r; for -EBADMSG also reports the line it happened on. */
static int bad_line(int r, unsigned no, unsigned *reterr_line)
{
    if (r == -EBADMSG && reterr_line) {
        *reterr_line = no;
    }
    return r;
}

/* ---- qm status --------------------------------------------------------- */

/* One word ("running", "backup"): the states we keep never hold blanks. */
static bool is_word(const char *p, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ' || p[i] == '\t') {
            return false;
        }
    }
    return true;
}

static int status_set(char **field, const char *v, size_t n, bool blanks_ok)
{
    if (*field || n == 0 || (!blanks_ok && !is_word(v, n))) {
        return -EBADMSG; /* a repeated key means this is not one qm status output */
    }
    *field = strndup(v, n);
    return *field ? 0 : -ENOMEM;
}

static int status_line(struct qm_status *st, bool *seen_tmpl, bool *seen_pid, const struct line *l)
{
    size_t k, vn;
    const char *v;
    if (!split_kv(l, &k, &v, &vn)) {
        return -EBADMSG;
    }
    /* qm pads nothing; trailing blanks only come from pastes, never from values we keep. */
    while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) {
        vn--;
    }
    if (key_is(l->p, k, "status")) {
        return status_set(&st->status, v, vn, false);
    }
    if (key_is(l->p, k, "qmpstatus")) {
        return status_set(&st->qmpstatus, v, vn, false);
    }
    if (key_is(l->p, k, "lock")) {
        return status_set(&st->lock, v, vn, false);
    }
    if (key_is(l->p, k, "name")) {
        return status_set(&st->name, v, vn, true); /* default "VM <vmid>" */
    }
    if (key_is(l->p, k, "template")) {
        if (*seen_tmpl || vn != 1 || (v[0] != '0' && v[0] != '1')) {
            return -EBADMSG;
        }
        *seen_tmpl = true;
        st->template = v[0] == '1';
        return 0;
    }
    if (key_is(l->p, k, "pid")) {
        if (*seen_pid || parse_u64(v, vn, &st->pid) < 0) {
            return -EBADMSG;
        }
        *seen_pid = true;
    }
    return 0;
}

int qm_parse_status(const char *text, size_t len, struct qm_status *ret, unsigned *reterr_line)
{
    struct qm_status st = {0};
    bool seen_tmpl = false, seen_pid = false;
    const char *cur = text, *end = text + len;
    struct line l = {0};
    int r = 0;

    while (next_line(&cur, end, &l)) {
        if (is_blank(l.p, l.n) || l.p[0] == '\t') {
            continue; /* nested hash members of --verbose */
        }
        r = status_line(&st, &seen_tmpl, &seen_pid, &l);
        if (r < 0) {
            break;
        }
    }
    if (r == 0 && !st.status) {
        r = -EBADMSG;
        l.no = 0;
    }
    if (r < 0) {
        qm_status_release(&st);
        return bad_line(r, l.no, reterr_line);
    }
    *ret = st;
    return 0;
}

void qm_status_release(struct qm_status *st)
{
    if (!st) {
        return;
    }
    free(st->status);
    free(st->qmpstatus);
    free(st->lock);
    free(st->name);
    *st = (struct qm_status){0};
}

/* ---- qm config --------------------------------------------------------- */

static bool drive_key_in(const char *key, const char *prefix, unsigned max)
{
    size_t pl = strlen(prefix);
    const char *d = key + pl;
    if (strncmp(key, prefix, pl) != 0 || !is_digit(d[0])) {
        return false;
    }
    if (d[0] == '0' && d[1] != '\0') {
        return false; /* "scsi01" is not a drive key */
    }
    unsigned v = 0;
    for (; *d; d++) {
        if (!is_digit(*d) || v > 100) {
            return false;
        }
        v = v * 10 + (unsigned)(*d - '0');
    }
    return v <= max;
}

bool qm_is_drive_key(const char *key)
{
    if (!key) {
        return false;
    }
    return drive_key_in(key, "ide", 3) || drive_key_in(key, "scsi", 30) ||
           drive_key_in(key, "virtio", 15) || drive_key_in(key, "sata", 5) ||
           strcmp(key, "efidisk0") == 0 || strcmp(key, "tpmstate0") == 0;
}

/* Storage id as pve-storage's parse_volume_id wants it: [a-z][a-z0-9-_.]*[a-z0-9]. */
static bool is_storage_id(const char *p, size_t n)
{
    if (n < 2) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = (char)(p[i] | 0x20);
        bool alnum = (c >= 'a' && c <= 'z') || is_digit(p[i]);
        if (i == 0       ? !(c >= 'a' && c <= 'z')
            : i == n - 1 ? !alnum
                         : !(alnum || p[i] == '-' || p[i] == '_' || p[i] == '.')) {
            return false;
        }
    }
    return true;
}

/* Last '/' component of a volname. */
static const char *basename_of(const char *volname)
{
    const char *s = strrchr(volname, '/');
    return s ? s + 1 : volname;
}

/* vm-<id>-cloudinit, optionally with a ".<fmt>" suffix (Drive.pm's test). */
static bool is_cloudinit_name(const char *b)
{
    if (!has_prefix(b, "vm-") || !is_digit(b[3])) {
        return false;
    }
    b += 3;
    while (is_digit(*b)) {
        b++;
    }
    if (!has_prefix(b, "-cloudinit")) {
        return false;
    }
    b += strlen("-cloudinit");
    if (*b == '\0') {
        return true;
    }
    if (*b != '.' || b[1] == '\0') {
        return false;
    }
    for (b++; *b; b++) {
        if (!((*b >= 'a' && *b <= 'z') || is_digit(*b))) {
            return false;
        }
    }
    return true;
}

static void disk_release(struct qm_disk *d)
{
    free(d->key);
    free(d->volume);
    free(d->storage);
    free(d->volname);
    free(d->size);
}

/* Fills d from a drive string "<volume>,opt=v,...". Returns -EBADMSG when there
 * is no volume. */
static int disk_parse(struct qm_disk *d, const char *key, const char *value)
{
    const char *f = value;
    *d = (struct qm_disk){0};
    d->key = strdup(key);
    if (!d->key) {
        return -ENOMEM;
    }
    while (*f) {
        const char *e = strchr(f, ',');
        size_t n = e ? (size_t)(e - f) : strlen(f);
        const char *eq = memchr(f, '=', n);
        char **dst = NULL;
        size_t off = 0;
        if (!eq && !d->volume) {
            dst = &d->volume; /* the default key comes first */
        } else if (eq && key_is(f, (size_t)(eq - f), "file") && !d->volume) {
            dst = &d->volume;
            off = 5;
        } else if (eq && key_is(f, (size_t)(eq - f), "size") && !d->size) {
            dst = &d->size;
            off = 5;
        } else if (key_is(f, n, "media=cdrom")) {
            d->cdrom = true;
        }
        if (dst) {
            *dst = strndup(f + off, n - off);
            if (!*dst) {
                return -ENOMEM;
            }
        }
        f += n + (e ? 1 : 0);
    }
    if (!d->volume || d->volume[0] == '\0') {
        return -EBADMSG;
    }
    const char *colon = strchr(d->volume, ':');
    if (colon && colon[1] != '\0' && is_storage_id(d->volume, (size_t)(colon - d->volume))) {
        d->storage = strndup(d->volume, (size_t)(colon - d->volume));
        d->volname = strdup(colon + 1);
        if (!d->storage || !d->volname) {
            return -ENOMEM;
        }
        const char *b = basename_of(d->volname);
        d->cloudinit = is_cloudinit_name(b);
        d->cdrom = d->cdrom || d->cloudinit; /* cloud-init drives are always CD-ROMs */
        d->base = has_prefix(b, "base-") || has_prefix(b, "basevol-");
    }
    return 0;
}

static ssize_t kv_index(const struct qm_config *cf, const char *key)
{
    for (size_t i = 0; i < cf->n_kv; i++) {
        if (strcmp(cf->kv[i].key, key) == 0) {
            return (ssize_t)i;
        }
    }
    return -1;
}

struct config_alloc {
    size_t kv, disk;
};

/* Sets key (k bytes at kp) to value (vn bytes at v). A key already set is
 * -EBADMSG unless replace; a drive without a volume is -EBADMSG and changes
 * nothing. */
static int config_set(struct qm_config *cf, struct config_alloc *a, const char *kp, size_t k,
                      const char *v, size_t vn, bool replace)
{
    struct qm_disk d = {0};
    char *key = strndup(kp, k);
    char *value = strndup(v, vn);
    int r = 0;
    if (!key || !value) {
        r = -ENOMEM;
        goto fail;
    }
    ssize_t old = kv_index(cf, key);
    if (old >= 0 && !replace) {
        r = -EBADMSG; /* qm prints each key once */
        goto fail;
    }
    bool drive = qm_is_drive_key(key);
    if (drive && (r = disk_parse(&d, key, value)) < 0) {
        goto fail;
    }
    if (old >= 0) {
        free(cf->kv[old].value);
        cf->kv[old].value = value;
        free(key);
        for (size_t i = 0; drive && i < cf->n_disks; i++) {
            if (strcmp(cf->disks[i].key, d.key) == 0) {
                disk_release(&cf->disks[i]);
                cf->disks[i] = d;
            }
        }
        return 0;
    }
    if (grow_array(&cf->kv, cf->n_kv, &a->kv, sizeof(*cf->kv)) < 0 ||
        (drive && grow_array(&cf->disks, cf->n_disks, &a->disk, sizeof(*cf->disks)) < 0)) {
        r = -ENOMEM;
        goto fail;
    }
    cf->kv[cf->n_kv++] = (struct qm_kv){key, value};
    if (drive) {
        cf->disks[cf->n_disks++] = d;
    }
    return 0;
fail:
    disk_release(&d);
    free(key);
    free(value);
    return r;
}

static void config_views(struct qm_config *cf)
{
    cf->name = qm_config_get(cf, "name");
    cf->lock = qm_config_get(cf, "lock");
    cf->parent = qm_config_get(cf, "parent");
    cf->hookscript = qm_config_get(cf, "hookscript");
    cf->tags = qm_config_get(cf, "tags");
    cf->description = qm_config_get(cf, "description");
    const char *t = qm_config_get(cf, "template");
    cf->template = t && strcmp(t, "1") == 0;
}

int qm_parse_config(const char *text, size_t len, struct qm_config *ret, unsigned *reterr_line)
{
    struct qm_config cf = {0};
    struct config_alloc a = {0};
    const char *cur = text, *end = text + len;
    struct line l = {0};
    int r = 0;

    while (next_line(&cur, end, &l)) {
        size_t k, vn;
        const char *v;
        if (l.n == 0) {
            continue;
        }
        r = split_kv(&l, &k, &v, &vn) ? config_set(&cf, &a, l.p, k, v, vn, false) : -EBADMSG;
        if (r < 0) {
            qm_config_release(&cf);
            return bad_line(r, l.no, reterr_line);
        }
    }
    config_views(&cf);
    *ret = cf;
    return 0;
}

/* ---- the raw config file ----------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* parse_vm_config's section headers: `^\[([^\]]*)\]\s*$` covers [PENDING],
 * [special:...], snapshots and the unknown sections it skips. */
static bool is_section_header(const struct line *l)
{
    if (l->n < 2 || l->p[0] != '[') {
        return false;
    }
    const char *close = memchr(l->p + 1, ']', l->n - 1);
    if (!close) {
        return false;
    }
    for (const char *c = close + 1; c < l->p + l->n; c++) {
        if (!is_space(*c)) {
            return false;
        }
    }
    return true;
}

/* parse_vm_config's `^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$`. */
static bool split_conf_kv(const struct line *l, size_t *ret_klen, const char **ret_v,
                          size_t *ret_vlen)
{
    const char *p = l->p, *e = l->p + l->n;
    if (p == e || !(*p >= 'a' && *p <= 'z') || memchr(p, '\0', l->n)) {
        return false;
    }
    while (p < e && ((*p >= 'a' && *p <= 'z') || *p == '_' || *p == '-')) {
        p++;
    }
    while (p < e && is_digit(*p)) {
        p++;
    }
    if (p == e || *p != ':') {
        return false;
    }
    *ret_klen = (size_t)(p - l->p);
    for (p++; p < e && is_space(*p);) {
        p++;
    }
    while (e > p && is_space(e[-1])) {
        e--;
    }
    if (p == e) {
        return false;
    }
    *ret_v = p;
    *ret_vlen = (size_t)(e - p);
    return true;
}

/* unused0 .. unused255 (QemuConfig.pm $MAX_UNUSED_DISKS): a detached disk,
 * still the linked clone's. */
static bool is_unused_key(const char *key)
{
    return drive_key_in(key, "unused", 255);
}

static uint32_t config_base_vmid(const struct qm_config *cf, uint32_t vmid)
{
    for (size_t i = 0; i < cf->n_kv; i++) {
        const char *key = cf->kv[i].key;
        uint32_t base = 0;
        if (is_unused_key(key)) {
            char *vol = strndup(cf->kv[i].value, strcspn(cf->kv[i].value, ","));
            base = vol ? journal_base_vmid(vol, vmid) : 0;
            free(vol);
        }
        for (size_t j = 0; j < cf->n_disks && !base; j++) {
            /* A CD-ROM's image is never a linked clone's base, whatever its name. */
            if (strcmp(cf->disks[j].key, key) == 0 && !cf->disks[j].cdrom) {
                base = journal_base_vmid(cf->disks[j].volume, vmid);
            }
        }
        if (base) {
            return base;
        }
    }
    return 0;
}

int qm_parse_conf_file(const char *text, size_t len, uint32_t vmid, bool cut, struct qm_config *ret)
{
    struct qm_config cf = {0};
    struct config_alloc a = {0};
    const char *end = text + len;
    if (cut) {
        /* The last line is the cut one: what it would say is unknown. */
        while (end > text && end[-1] != '\n') {
            end--;
        }
    }
    const char *cur = text;
    struct line l = {0};
    while (next_line(&cur, end, &l)) {
        size_t k, vn;
        const char *v;
        if (is_section_header(&l)) {
            break;
        }
        /* The description's '#' lines and blank ones hold no key. */
        if (!split_conf_kv(&l, &k, &v, &vn)) {
            continue;
        }
        if (config_set(&cf, &a, l.p, k, v, vn, true) == -ENOMEM) {
            qm_config_release(&cf);
            return -ENOMEM;
        }
    }
    config_views(&cf);
    cf.base_vmid = config_base_vmid(&cf, vmid);
    *ret = cf;
    return 0;
}

/* Whether key i of the difference (a's then b's) differs; *ret the key. */
static bool diff_at(const struct qm_config *a, const struct qm_config *b, size_t i,
                    const char **ret)
{
    if (i < a->n_kv) {
        const char *v = qm_config_get(b, a->kv[i].key);
        *ret = a->kv[i].key;
        return !v || strcmp(v, a->kv[i].value) != 0;
    }
    *ret = b->kv[i - a->n_kv].key;
    return !qm_config_get(a, *ret);
}

size_t qm_config_diff_keys(const struct qm_config *a, const struct qm_config *b, char *buf,
                           size_t len)
{
    size_t total = 0, shown = 0, off = 0, all = 0;
    const char *key;
    for (size_t i = 0; i < a->n_kv + b->n_kv; i++) {
        if (diff_at(a, b, i, &key)) {
            all += (total++ ? 1 : 0) + strlen(key);
        }
    }
    if (len == 0) {
        return total;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < a->n_kv + b->n_kv; i++) {
        if (!diff_at(a, b, i, &key)) {
            continue;
        }
        /* A key goes in whole, with room left to say how many did not. */
        char more[48] = "";
        if (shown + 1 < total && all >= len) {
            snprintf(more, sizeof(more), " ... and %zu more", total - shown - 1);
        }
        size_t need = (shown ? 1 : 0) + strlen(key) + strlen(more);
        if (off + need >= len) {
            break;
        }
        off += (size_t)snprintf(buf + off, len - off, "%s%s", shown ? "," : "", key);
        shown++;
    }
    if (shown < total) {
        snprintf(buf + off, len - off, "%s... and %zu more", shown ? " " : "", total - shown);
    }
    return total;
}

void qm_config_release(struct qm_config *cf)
{
    if (!cf) {
        return;
    }
    for (size_t i = 0; i < cf->n_kv; i++) {
        free(cf->kv[i].key);
        free(cf->kv[i].value);
    }
    for (size_t i = 0; i < cf->n_disks; i++) {
        disk_release(&cf->disks[i]);
    }
    free(cf->kv);
    free(cf->disks);
    *cf = (struct qm_config){0};
}

const char *qm_config_get(const struct qm_config *cf, const char *key)
{
    if (!cf || !key) {
        return NULL;
    }
    for (size_t i = 0; i < cf->n_kv; i++) {
        if (strcmp(cf->kv[i].key, key) == 0) {
            return cf->kv[i].value;
        }
    }
    return NULL;
}

static int hexval(char c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *qm_decode_text(const char *s)
{
    if (!s) {
        return NULL;
    }
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out) {
        return NULL;
    }
    for (; *s; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
        if (lo < 0 || (hi | lo) == 0) {
            free(out); /* a stray '%' or an encoded NUL: not encode_text's output */
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        s += 2;
    }
    *o = '\0';
    return out;
}

/* ---- qm list ----------------------------------------------------------- */

/* Splits off the last blank-separated token of [p, p+*n). */
static bool pop_token(const char *p, size_t *n, const char **ret_tok, size_t *ret_len)
{
    size_t e = *n;
    while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t')) {
        e--;
    }
    size_t b = e;
    while (b > 0 && p[b - 1] != ' ' && p[b - 1] != '\t') {
        b--;
    }
    if (b == e) {
        return false;
    }
    *ret_tok = p + b;
    *ret_len = e - b;
    *n = b;
    return true;
}

static bool is_header(const char *p, size_t n)
{
    static const char *const cols[] = {"PID", "BOOTDISK(GB)", "MEM(MB)", "STATUS", "NAME", "VMID"};
    const char *t;
    size_t tn;
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        if (!pop_token(p, &n, &t, &tn) || !key_is(t, tn, cols[i])) {
            return false;
        }
    }
    return is_blank(p, n);
}

/* VMID as pve-vmid: [1-9][0-9]{2,8}. */
static int parse_vmid(const char *p, size_t n, uint32_t *ret)
{
    uint64_t v;
    if (parse_u64(p, n, &v) < 0 || v < VALIDATE_VMID_MIN || v > VALIDATE_VMID_MAX) {
        return -EINVAL;
    }
    *ret = (uint32_t)v;
    return 0;
}

static int list_row(struct qm_list_row *row, const char *p, size_t n)
{
    const char *t;
    size_t tn;
    double d;

    *row = (struct qm_list_row){0};
    /* From the right: PID, BOOTDISK, MEM, STATUS are single tokens. */
    if (!pop_token(p, &n, &t, &tn) || parse_u64(t, tn, &row->pid) < 0) {
        return -EBADMSG;
    }
    if (!pop_token(p, &n, &t, &tn) || parse_decimal(t, tn, &d) < 0) {
        return -EBADMSG;
    }
    row->bootdisk_gb = d;
    if (!pop_token(p, &n, &t, &tn) || parse_u64(t, tn, &row->mem_mb) < 0) {
        return -EBADMSG;
    }
    if (!pop_token(p, &n, &t, &tn) || !is_key(t, tn)) {
        return -EBADMSG;
    }
    const char *status = t;
    size_t status_n = tn;
    /* From the left: the VMID; the name is whatever sits between, spaces included. */
    size_t b = 0;
    while (b < n && (p[b] == ' ' || p[b] == '\t')) {
        b++;
    }
    size_t e = b;
    while (e < n && p[e] != ' ' && p[e] != '\t') {
        e++;
    }
    if (parse_vmid(p + b, e - b, &row->vmid) < 0) {
        return -EBADMSG;
    }
    while (e < n && (p[e] == ' ' || p[e] == '\t')) {
        e++;
    }
    while (n > e && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    if (n == e) {
        return -EBADMSG;
    }
    row->name = strndup(p + e, n - e);
    row->status = strndup(status, status_n);
    if (!row->name || !row->status) {
        free(row->name);
        free(row->status);
        return -ENOMEM;
    }
    return 0;
}

int qm_parse_list(const char *text, size_t len, struct qm_list *ret, unsigned *reterr_line)
{
    struct qm_list l = {0};
    size_t alloc = 0;
    const char *cur = text, *end = text + len;
    struct line ln = {0};
    bool header = false;
    int r = 0;

    while (next_line(&cur, end, &ln)) {
        if (is_blank(ln.p, ln.n)) {
            continue;
        }
        if (memchr(ln.p, '\0', ln.n)) {
            r = -EBADMSG;
        } else if (!header) {
            header = is_header(ln.p, ln.n);
            r = header ? 0 : -EBADMSG;
        } else if ((r = grow_array(&l.rows, l.n, &alloc, sizeof(*l.rows))) == 0) {
            r = list_row(&l.rows[l.n], ln.p, ln.n);
            l.n += r == 0;
        }
        if (r < 0) {
            qm_list_release(&l);
            return bad_line(r, ln.no, reterr_line);
        }
    }
    *ret = l;
    return 0;
}

void qm_list_release(struct qm_list *l)
{
    if (!l) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].name);
        free(l->rows[i].status);
    }
    free(l->rows);
    *l = (struct qm_list){0};
}

/* ---- qm clone / template lines ----------------------------------------- */

int qm_parse_size_rendered(const char *s, uint64_t *ret)
{
    /* render_bytes(v, 1): "%.1f <unit>", units B KiB MiB GiB TiB PiB. */
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    const char *sp = s ? strchr(s, ' ') : NULL;
    double v;
    if (!sp || parse_decimal(s, (size_t)(sp - s), &v) < 0) {
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(sp + 1, units[i]) == 0) {
            for (size_t k = 0; k < i; k++) {
                v *= 1024;
            }
            if (v >= 18446744073709551616.0) {
                return -EINVAL;
            }
            *ret = (uint64_t)(v + 0.5);
            return 0;
        }
    }
    return -EINVAL;
}

static bool copy_field(char *dst, size_t sz, const char *p, size_t n)
{
    if (n >= sz) {
        return false;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

/* Reads a rendered size ending at the string stop; advances *s past stop. */
static bool take_size(const char **s, const char *stop, uint64_t *ret)
{
    const char *e = strstr(*s, stop);
    char buf[64];
    if (!e || !copy_field(buf, sizeof(buf), *s, (size_t)(e - *s)) ||
        qm_parse_size_rendered(buf, ret) < 0) {
        return false;
    }
    *s = e + strlen(stop);
    return true;
}

/* Reads "<digits> bytes" followed by stop. */
static bool take_bytes(const char **s, const char *stop, uint64_t *ret)
{
    const char *e = strstr(*s, " bytes");
    if (!e || parse_u64(*s, (size_t)(e - *s), ret) < 0 || !has_prefix(e + 6, stop)) {
        return false;
    }
    *s = e + 6 + strlen(stop);
    return true;
}

/* Reads a percentage (decimal) ending at stop. */
static bool take_percent(const char **s, const char *stop, double *ret)
{
    const char *e = strstr(*s, stop);
    if (!e || parse_decimal(*s, (size_t)(e - *s), ret) < 0) {
        return false;
    }
    *s = e + strlen(stop);
    return true;
}

static bool parse_progress(const char *s, struct qm_line *ret)
{
    const char *colon = strstr(s, ": transferred");
    if (colon) {
        /* Mirror job id: mirror-<drive> (blockdev) or drive-<drive> (older). */
        const char *d = has_prefix(s, "mirror-") ? s + 7 : has_prefix(s, "drive-") ? s + 6 : NULL;
        if (!d || d == colon || memchr(d, ' ', (size_t)(colon - d)) ||
            !copy_field(ret->drive, sizeof(ret->drive), d, (size_t)(colon - d))) {
            return false;
        }
        s = colon + 2;
    }
    if (has_prefix(s, "transferred: ")) {
        /* pre-2021: "transferred: N bytes remaining: N bytes total: N bytes progression: P %" */
        uint64_t remaining;
        s += strlen("transferred: ");
        if (!take_bytes(&s, " remaining: ", &ret->done) ||
            !take_bytes(&s, " total: ", &remaining) ||
            !take_bytes(&s, " progression: ", &ret->total) ||
            !take_percent(&s, " %", &ret->percent)) {
            return false;
        }
        return *s == '\0' || *s == ' ';
    }
    if (!has_prefix(s, "transferred ")) {
        return false;
    }
    s += strlen("transferred ");
    if (!take_size(&s, " of ", &ret->done) || !take_size(&s, " (", &ret->total) ||
        !take_percent(&s, "%)", &ret->percent)) {
        return false;
    }
    /* Then nothing, or " in <duration>" and/or ", ready" / ", still busy". */
    return *s == '\0' || has_prefix(s, " in ") || *s == ',';
}

static bool parse_drive(const char *s, struct qm_line *ret)
{
    if (has_prefix(s, "create full clone of drive ")) {
        s += strlen("create full clone of drive ");
    } else if (has_prefix(s, "create linked clone of drive ")) {
        s += strlen("create linked clone of drive ");
        ret->linked = true;
    } else {
        return false;
    }
    /* The drive name can be empty (an import prints "drive (<volid>)"). */
    const char *open = s[0] == '(' ? s : strstr(s, " (");
    size_t dn = open ? (size_t)(open - s) : 0;
    size_t n = strlen(s);
    if (open && open != s) {
        open++;
    }
    if (!open || s[n - 1] != ')' || memchr(s, ' ', dn) || open + 1 >= s + n - 1) {
        return false;
    }
    return copy_field(ret->drive, sizeof(ret->drive), s, dn) &&
           copy_field(ret->volid, sizeof(ret->volid), open + 1, (size_t)(s + n - 2 - open));
}

static bool parse_simple(const char *s, struct qm_line *ret)
{
    const char *p;
    uint64_t v;
    if (has_prefix(s, "allocated target volume '")) {
        p = s + strlen("allocated target volume '");
        size_t n = strlen(p);
        if (n < 2 || p[n - 1] != '\'' || !copy_field(ret->volid, sizeof(ret->volid), p, n - 1)) {
            return false;
        }
        ret->kind = QM_LINE_ALLOCATED;
        return true;
    }
    if (has_prefix(s, "Task finished with ")) {
        p = s + strlen("Task finished with ");
        const char *e = strstr(p, " warning(s)!");
        if (!e || strcmp(e, " warning(s)!") != 0 || parse_u64(p, (size_t)(e - p), &v) < 0 ||
            v > UINT32_MAX) {
            return false;
        }
        ret->warnings = (unsigned)v;
        ret->kind = QM_LINE_WARNINGS;
        return true;
    }
    if (has_prefix(s, "creating a clone of VM ")) {
        p = s + strlen("creating a clone of VM ");
        const char *e = strstr(p, " with ID ");
        if (!e || parse_vmid(p, (size_t)(e - p), &(uint32_t){0}) < 0 ||
            parse_vmid(e + 9, strlen(e + 9), &(uint32_t){0}) < 0) {
            return false;
        }
        ret->kind = QM_LINE_CLONE_START;
        return true;
    }
    return false;
}

void qm_parse_line(const char *line, struct qm_line *ret)
{
    char buf[2048];
    size_t n = line ? strlen(line) : 0;

    *ret = (struct qm_line){0};
    /* Drop the "\r" of CRLF and the trailing blank the old mirror format printed. */
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ')) {
        n--;
    }
    if (n == 0 || !copy_field(buf, sizeof(buf), line, n)) {
        return; /* longer than any line we classify */
    }
    /* Each parser may write into its struct before it gives up: start clean. */
    struct qm_line t = {0};
    if (parse_simple(buf, &t)) {
        *ret = t;
        return;
    }
    t = (struct qm_line){.kind = QM_LINE_DRIVE};
    if (parse_drive(buf, &t)) {
        *ret = t;
        return;
    }
    t = (struct qm_line){.kind = QM_LINE_PROGRESS};
    if (parse_progress(buf, &t)) {
        *ret = t;
    }
}

/* ---- qm error texts ---------------------------------------------------- */

/* Finds prefix + <quoted text without '> + suffix anywhere in the line. */
static bool has_quoted(const char *l, const char *prefix, const char *const *suffixes)
{
    for (const char *p = strstr(l, prefix); p; p = strstr(p + 1, prefix)) {
        const char *q = strchr(p + strlen(prefix), '\'');
        for (size_t i = 0; q && suffixes[i]; i++) {
            if (has_prefix(q, suffixes[i])) {
                return true;
            }
        }
    }
    return false;
}

static bool has_exists(const char *l)
{
    /* "unable to create VM <n>: config file already exists" */
    for (const char *p = strstr(l, "unable to create VM "); p;
         p = strstr(p + 1, "unable to create VM ")) {
        p += strlen("unable to create VM ");
        while (is_digit(*p)) {
            p++;
        }
        if (has_prefix(p, ": config file already exists")) {
            return true;
        }
    }
    return has_quoted(l, "close (rename) atomic file '",
                      (const char *const[]){"' failed: File exists", NULL});
}

/* Classes decided by a distinctive phrase anywhere in the line, most specific
 * first: "clone failed: can't lock file ... got timeout" is a lock timeout. */
static enum qm_error classify_phrase(const char *l)
{
    if (has_quoted(l, "can't lock file '", (const char *const[]){"' - got timeout", NULL}) ||
        /* shared storages lock through pmxcfs (pve-cluster Cluster.pm cfs_lock) */
        has_quoted(l, "cfs-lock '",
                   (const char *const[]){"' error: got lock request timeout", NULL})) {
        return QM_ERR_LOCK_TIMEOUT;
    }
    if (has_quoted(l, "Configuration file '", (const char *const[]){"' does not exist", NULL}) ||
        strstr(l, "unable to find configuration file for VM ")) {
        return QM_ERR_NO_CONFIG;
    }
    /* A lock no task drops is not waited for (qm_lock_persists). */
    const char *lk = strstr(l, "VM is locked (");
    if (lk) {
        lk += strlen("VM is locked (");
        size_t n = strcspn(lk, ")");
        char v[32];
        if (lk[n] == ')' && n < sizeof(v)) {
            memcpy(v, lk, n);
            v[n] = '\0';
            if (qm_lock_persists(v)) {
                return QM_ERR_SUSPENDED;
            }
        }
    }
    if (strstr(l, "VM is locked (")) {
        return QM_ERR_LOCKED;
    }
    if (has_exists(l)) {
        return QM_ERR_EXISTS;
    }
    if (strstr(l, "unable to create template, because VM contains snapshots")) {
        return QM_ERR_HAS_SNAPSHOTS;
    }
    if (strstr(l, "you can't convert a template to a template")) {
        return QM_ERR_IS_TEMPLATE;
    }
    if (strstr(l, "you can't convert a VM to template if VM is running")) {
        return QM_ERR_RUNNING;
    }
    if (has_quoted(l, "snapshot '", (const char *const[]){"' does not exist", NULL})) {
        return QM_ERR_NO_SNAPSHOT;
    }
    if (has_quoted(l, "storage '",
                   (const char *const[]){"' does not exist", "' is disabled",
                                         "' is not available on node '",
                                         "' does not support vm images", NULL})) {
        return QM_ERR_STORAGE;
    }
    if (strstr(l, "Full clone feature is not supported") ||
        strstr(l, "Linked clone feature is not supported")) {
        return QM_ERR_FEATURE;
    }
    /* pve-cluster Cluster.pm check_cfs_quorum, and $cfs_lock's "no quorum!"
     * when the lock was not got and the node has no quorum. */
    if (strstr(l, "cluster not ready - no quorum?") ||
        has_quoted(l, "cfs-lock '", (const char *const[]){"' error: no quorum!", NULL})) {
        return QM_ERR_NO_QUORUM;
    }
    /* pve-access-control RPCEnvironment.pm check_pool_exist raises it as a
     * permission error, but it is a missing pool, not a missing right. */
    if (has_prefix(l, "403 ") && has_quoted(l, "Permission check failed (pool '",
                                            (const char *const[]){"' does not exist)", NULL})) {
        return QM_ERR_NO_POOL;
    }
    if (has_prefix(l, "403 ") || strstr(l, "only root can ") || strstr(l, "please run as root")) {
        return QM_ERR_PERMISSION;
    }
    if (strstr(l, "clone failed: ")) {
        return QM_ERR_CLONE_FAILED;
    }
    if (has_prefix(l, "ERROR: unknown command ") || has_prefix(l, "ERROR: no command specified")) {
        return QM_ERR_UNKNOWN_COMMAND;
    }
    return QM_ERR_NONE;
}

bool qm_lock_persists(const char *lock)
{
    /* Of the lock values (qemu-server QemuServer.pm $confdesc 'lock'), only
     * 'suspended' outlives its task: RunState.pm vm_suspend sets it when it
     * hibernates the VM, and only a resume (QemuServer.pm vm_start) or
     * deleting vmstate (API2/Qemu.pm update_vm) clears it. */
    return lock && strcmp(lock, "suspended") == 0;
}

enum qm_error qm_classify_error(const char *text, const char **ret_line)
{
    const char *param = NULL, *last = NULL;
    enum qm_error found = QM_ERR_NONE;
    const char *found_line = NULL;
    const char *cur = text ? text : "", *end = cur + strlen(cur);
    struct line l = {0};
    char buf[4096];

    while (found == QM_ERR_NONE && next_line(&cur, end, &l)) {
        if (is_blank(l.p, l.n)) {
            continue;
        }
        last = l.p;
        /* A line longer than buf is classified on its start: the phrases are short. */
        size_t n = l.n < sizeof(buf) ? l.n : sizeof(buf) - 1;
        memcpy(buf, l.p, n);
        buf[n] = '\0';
        found = classify_phrase(buf);
        found_line = l.p;
        if (!param && has_prefix(buf, "400 ")) {
            param = l.p; /* the 400 block's own lines may name a more specific class */
        }
    }
    if (found == QM_ERR_NONE) {
        found = param ? QM_ERR_PARAM : last ? QM_ERR_UNKNOWN : QM_ERR_NONE;
        /* Unrecognised: qm prints its error last, after any warnings. */
        found_line = param ? param : last;
    }
    if (ret_line) {
        *ret_line = found_line;
    }
    return found;
}

enum qm_error qm_classify_task(const char *err, const char *out, const char **ret_line)
{
    static const char abort_mark[] = "ERROR: migration aborted (duration ";
    enum qm_error qe = qm_classify_error(err, ret_line);
    if (qe != QM_ERR_UNKNOWN && qe != QM_ERR_NONE) {
        return qe;
    }
    /* pve-guest-common AbstractMigrate.pm migrate: the worker logs
     * "migration aborted (duration HH:MM:SS): $err" (log 'err' prefixes
     * "ERROR: ") and dies "migration aborted". */
    const char *cur = out ? out : "", *end = cur + strlen(cur);
    struct line l = {0};
    char buf[4096];
    while (next_line(&cur, end, &l)) {
        size_t n = l.n < sizeof(buf) ? l.n : sizeof(buf) - 1;
        memcpy(buf, l.p, n);
        buf[n] = '\0';
        const char *m = strstr(buf, abort_mark);
        const char *why = m ? strstr(m, "): ") : NULL;
        if (!why) {
            continue;
        }
        enum qm_error t = classify_phrase(why + 3);
        if (t != QM_ERR_NONE) {
            if (ret_line) {
                *ret_line = l.p;
            }
            return t;
        }
    }
    return qe;
}

const char *qm_error_name(enum qm_error e)
{
    static const char *const names[_QM_ERR_MAX] = {
        [QM_ERR_NONE] = "none",
        [QM_ERR_UNKNOWN] = "unknown",
        [QM_ERR_NO_CONFIG] = "no-config",
        [QM_ERR_LOCKED] = "locked",
        [QM_ERR_SUSPENDED] = "suspended",
        [QM_ERR_LOCK_TIMEOUT] = "lock-timeout",
        [QM_ERR_EXISTS] = "exists",
        [QM_ERR_PARAM] = "param",
        [QM_ERR_PERMISSION] = "permission",
        [QM_ERR_HAS_SNAPSHOTS] = "has-snapshots",
        [QM_ERR_IS_TEMPLATE] = "is-template",
        [QM_ERR_RUNNING] = "running",
        [QM_ERR_NO_SNAPSHOT] = "no-snapshot",
        [QM_ERR_STORAGE] = "storage",
        [QM_ERR_FEATURE] = "feature",
        [QM_ERR_NO_QUORUM] = "no-quorum",
        [QM_ERR_NO_POOL] = "no-pool",
        [QM_ERR_CLONE_FAILED] = "clone-failed",
        [QM_ERR_UNKNOWN_COMMAND] = "unknown-command",
    };
    return (unsigned)e < _QM_ERR_MAX ? names[e] : "invalid";
}
