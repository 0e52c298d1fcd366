/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pt-parse FAMILY FILE: runs one of the pure parsers on FILE and prints the
 * resulting struct as canonical "key=value" lines, for the fixture tests
 * (tests/cli/t010-fixtures.sh). On a parse failure it prints
 * "error=<ERRNO> line=<n>". Families: qm-status qm-config qm-conf-file
 * qm-list pvesm-status vmlist members clone-lines errors. A qm-conf-file case is
 * named after the VM it belongs to: "<vmid>-<what>.txt".
 *
 * Values are escaped so every dump line is one line: '\\', control bytes
 * as \n \r \t or \xHH. In lines with several fields, spaces inside a value
 * are written \x20, except in the last field, which runs to the end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvesm.h"
#include "qm.h"
#include "vmlist.h"

static void put_esc(const char *s, int space_too)
{
    if (!s) {
        fputs("(null)", stdout);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') {
            fputs("\\\\", stdout);
        } else if (*p == '\n') {
            fputs("\\n", stdout);
        } else if (*p == '\r') {
            fputs("\\r", stdout);
        } else if (*p == '\t') {
            fputs("\\t", stdout);
        } else if (*p < 0x20 || *p == 0x7f || (space_too && *p == ' ')) {
            printf("\\x%02x", *p);
        } else {
            putchar(*p);
        }
    }
}

/* " key=value" inside a multi-field line. */
static void field(const char *key, const char *value)
{
    printf(" %s=", key);
    put_esc(value, 1);
}

/* "key=value\n" on a line of its own. */
static void line_kv(const char *key, const char *value)
{
    printf("%s=", key);
    put_esc(value, 0);
    putchar('\n');
}

static int fail(int r, unsigned line)
{
    printf("error=%s line=%u\n", r == -EBADMSG ? "EBADMSG" : strerror(-r), line);
    return 0;
}

static int dump_status(const char *text, size_t len)
{
    struct qm_status st;
    unsigned line = 0;
    int r = qm_parse_status(text, len, &st, &line);
    if (r < 0) {
        return fail(r, line);
    }
    line_kv("status", st.status);
    line_kv("qmpstatus", st.qmpstatus);
    line_kv("lock", st.lock);
    line_kv("name", st.name);
    printf("template=%d\npid=%llu\n", st.template, (unsigned long long)st.pid);
    qm_status_release(&st);
    return 0;
}

static void print_config(const struct qm_config *c);

static int dump_config(const char *text, size_t len)
{
    struct qm_config cf;
    unsigned line = 0;
    int r = qm_parse_config(text, len, &cf, &line);
    if (r < 0) {
        return fail(r, line);
    }
    print_config(&cf);
    qm_config_release(&cf);
    return 0;
}

/* The raw file: vmid from the case's name, read whole (not cut). */
static int dump_conf_file(const char *path, const char *text, size_t len)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct qm_config cf;
    int r = qm_parse_conf_file(text, len, (uint32_t)strtoul(base, NULL, 10), false, &cf);
    if (r < 0) {
        return fail(r, 0);
    }
    print_config(&cf);
    printf("base_vmid=%u\n", (unsigned)cf.base_vmid);
    qm_config_release(&cf);
    return 0;
}

static void print_config(const struct qm_config *c)
{
    const struct qm_config cf = *c;
    printf("n_kv=%zu\n", cf.n_kv);
    for (size_t i = 0; i < cf.n_kv; i++) {
        printf("kv.%s=", cf.kv[i].key);
        put_esc(cf.kv[i].value, 0);
        putchar('\n');
    }
    printf("n_disks=%zu\n", cf.n_disks);
    for (size_t i = 0; i < cf.n_disks; i++) {
        const struct qm_disk *d = &cf.disks[i];
        printf("disk=%s", d->key);
        field("storage", d->storage);
        field("volname", d->volname);
        field("size", d->size);
        printf(" cdrom=%d cloudinit=%d base=%d", d->cdrom, d->cloudinit, d->base);
        field("volume", d->volume);
        putchar('\n');
    }
    line_kv("name", cf.name);
    line_kv("lock", cf.lock);
    line_kv("parent", cf.parent);
    line_kv("hookscript", cf.hookscript);
    line_kv("tags", cf.tags);
    printf("template=%d\n", cf.template);
    line_kv("description", cf.description);
    if (cf.description) {
        char *dec = qm_decode_text(cf.description);
        line_kv("description.decoded", dec ? dec : "(undecodable)");
        free(dec);
    }
}

static int dump_list(const char *text, size_t len)
{
    struct qm_list l;
    unsigned line = 0;
    int r = qm_parse_list(text, len, &l, &line);
    if (r < 0) {
        return fail(r, line);
    }
    printf("n=%zu\n", l.n);
    for (size_t i = 0; i < l.n; i++) {
        const struct qm_list_row *w = &l.rows[i];
        printf("row vmid=%u", w->vmid);
        field("status", w->status);
        printf(" mem_mb=%llu bootdisk_gb=%.2f pid=%llu name=", (unsigned long long)w->mem_mb,
               w->bootdisk_gb, (unsigned long long)w->pid);
        put_esc(w->name, 0);
        putchar('\n');
    }
    qm_list_release(&l);
    return 0;
}

static int dump_pvesm(const char *text, size_t len)
{
    struct pvesm_status st;
    unsigned line = 0;
    int r = pvesm_parse_status(text, len, &st, &line);
    if (r < 0) {
        return fail(r, line);
    }
    printf("n=%zu\n", st.n);
    for (size_t i = 0; i < st.n; i++) {
        const struct pvesm_row *w = &st.rows[i];
        printf("row");
        field("name", w->name);
        field("type", w->type);
        printf(" state=%s total_kib=%llu used_kib=%llu avail_kib=%llu percent=%.2f",
               pvesm_state_name(w->state), (unsigned long long)w->total_kib,
               (unsigned long long)w->used_kib, (unsigned long long)w->avail_kib, w->percent);
        putchar('\n');
    }
    pvesm_status_release(&st);
    return 0;
}

static int dump_vmlist(const char *text, size_t len)
{
    struct vmlist vl;
    int r = vmlist_parse(text, len, &vl);
    if (r < 0) {
        return fail(r, 0);
    }
    printf("version=%llu\nn=%zu\n", (unsigned long long)vl.version, vl.n);
    for (size_t i = 0; i < vl.n; i++) {
        printf("entry vmid=%u", vl.entries[i].vmid);
        field("node", vl.entries[i].node);
        field("type", vl.entries[i].type);
        putchar('\n');
    }
    vmlist_release(&vl);
    return 0;
}

static int dump_members(const char *text, size_t len)
{
    struct vmlist_members m;
    int r = vmlist_members_parse(text, len, &m);
    if (r < 0) {
        return fail(r, 0);
    }
    printf("nodename=%s\nn=%zu\n", m.nodename, m.n);
    for (size_t i = 0; i < m.n; i++) {
        printf("node=%s\n", m.nodes[i]);
    }
    vmlist_members_release(&m);
    return 0;
}

static const char *kind_name(enum qm_line_kind k)
{
    switch (k) {
    case QM_LINE_CLONE_START:
        return "clone-start";
    case QM_LINE_DRIVE:
        return "drive";
    case QM_LINE_ALLOCATED:
        return "allocated";
    case QM_LINE_PROGRESS:
        return "progress";
    case QM_LINE_WARNINGS:
        return "warnings";
    default:
        return "other";
    }
}

static int dump_lines(char *text, size_t len)
{
    unsigned no = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) {
            *nl = '\0';
        }
        struct qm_line l;
        qm_parse_line(p, &l);
        printf("%u %s", ++no, kind_name(l.kind));
        switch (l.kind) {
        case QM_LINE_DRIVE:
            printf(" linked=%d", l.linked);
            field("drive", l.drive);
            field("volid", l.volid);
            break;
        case QM_LINE_ALLOCATED:
            field("volid", l.volid);
            break;
        case QM_LINE_PROGRESS:
            field("drive", l.drive);
            printf(" done=%llu total=%llu percent=%.2f", (unsigned long long)l.done,
                   (unsigned long long)l.total, l.percent);
            break;
        case QM_LINE_WARNINGS:
            printf(" warnings=%u", l.warnings);
            break;
        default:
            break;
        }
        putchar('\n');
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int dump_errors(const char *text)
{
    const char *at = NULL;
    enum qm_error e = qm_classify_error(text, &at);
    unsigned line = 0;
    printf("class=%s\n", qm_error_name(e));
    if (at) {
        line = 1;
        for (const char *p = text; p < at; p++) {
            line += *p == '\n';
        }
    }
    printf("line=%u\n", line);
    if (at) {
        const char *nl = strchr(at, '\n');
        char *s = strndup(at, nl ? (size_t)(nl - at) : strlen(at));
        line_kv("text", s);
        free(s);
    }
    return 0;
}

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        return NULL;
    }
    size_t n = 0, alloc = 4096;
    char *buf = malloc(alloc + 1);
    while (buf) {
        n += fread(buf + n, 1, alloc - n, f);
        if (n < alloc) {
            break;
        }
        char *nb = realloc(buf, alloc * 2 + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        alloc *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *ret_len = n;
    }
    return buf;
}

int main(int argc, char **argv)
{
    size_t len = 0;
    char *text;
    int r;

    if (argc != 3) {
        fprintf(stderr, "usage: pt-parse FAMILY FILE\n");
        return 2;
    }
    text = slurp(argv[2], &len);
    if (!text) {
        fprintf(stderr, "pt-parse: cannot read '%s'\n", argv[2]);
        return 2;
    }
    const char *fam = argv[1];
    if (strcmp(fam, "qm-status") == 0) {
        r = dump_status(text, len);
    } else if (strcmp(fam, "qm-config") == 0) {
        r = dump_config(text, len);
    } else if (strcmp(fam, "qm-conf-file") == 0) {
        r = dump_conf_file(argv[2], text, len);
    } else if (strcmp(fam, "qm-list") == 0) {
        r = dump_list(text, len);
    } else if (strcmp(fam, "pvesm-status") == 0) {
        r = dump_pvesm(text, len);
    } else if (strcmp(fam, "vmlist") == 0) {
        r = dump_vmlist(text, len);
    } else if (strcmp(fam, "members") == 0) {
        r = dump_members(text, len);
    } else if (strcmp(fam, "clone-lines") == 0) {
        r = dump_lines(text, len);
    } else if (strcmp(fam, "errors") == 0) {
        r = dump_errors(text);
    } else {
        fprintf(stderr, "pt-parse: unknown family '%s'\n", fam);
        r = 2;
    }
    free(text);
    return r;
}
