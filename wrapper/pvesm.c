/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pvesm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

/* Old header (before libpve-storage-perl 9.0.14) and new one. Compared as
 * blank-separated words: "Available (KiB)" sits one space from "Used (KiB)". */
static const char *const header_words_old[] = {"Name", "Type",      "Status", "Total",
                                               "Used", "Available", "%",      NULL};
static const char *const header_words_new[] = {
    "Name", "Type", "Status", "Total", "(KiB)", "Used", "(KiB)", "Available", "(KiB)", "%", NULL};

#define MAX_WORDS 12

/* A line cut into NUL-terminated words, in place. */
struct words {
    char *w[MAX_WORDS];
    size_t n; /* MAX_WORDS + 1 when there were more */
};

static void split_words(char *p, struct words *ret)
{
    ret->n = 0;
    for (char *save = NULL, *t = strtok_r(p, " \t\r", &save); t;
         t = strtok_r(NULL, " \t\r", &save)) {
        if (ret->n < MAX_WORDS) {
            ret->w[ret->n] = t;
        }
        if (ret->n <= MAX_WORDS) {
            ret->n++;
        }
    }
}

static bool words_are(const struct words *w, const char *const *want)
{
    size_t i = 0;
    for (; want[i]; i++) {
        if (i >= w->n || strcmp(want[i], w->w[i]) != 0) {
            return false;
        }
    }
    return i == w->n;
}

static bool is_header(const struct words *w)
{
    return words_are(w, header_words_old) || words_are(w, header_words_new);
}

/* %15d of a KiB count, as Perl prints it: no sign, no leading zeros. */
static int parse_kib(const char *s, uint64_t *ret)
{
    return validate_number("KiB", s, 0, UINT64_MAX, ret, NULL, 0);
}

/* "% 7.2f%%" ("12.53%") or "N/A" (disabled) -> -1. Modifies s. */
static int parse_percent(char *s, double *ret)
{
    uint64_t whole;
    size_t n = strlen(s);
    char *dot = strchr(s, '.');
    if (strcmp(s, "N/A") == 0) {
        *ret = -1;
        return 0;
    }
    /* Exactly two decimals, as %.2f prints them. */
    if (!dot || n < 5 || s[n - 1] != '%' || dot != s + n - 4 || dot[1] < '0' || dot[1] > '9' ||
        dot[2] < '0' || dot[2] > '9') {
        return -EINVAL;
    }
    *dot = '\0';
    if (parse_kib(s, &whole) < 0 || whole > 1000000) {
        return -EINVAL;
    }
    *ret = (double)(whole * 100 + (uint64_t)(dot[1] - '0') * 10 + (uint64_t)(dot[2] - '0')) / 100.0;
    return 0;
}

static enum pvesm_state parse_state(const char *s)
{
    static const char *const names[] = {"active", "inactive", "disabled"};
    static const enum pvesm_state states[] = {PVESM_ACTIVE, PVESM_INACTIVE, PVESM_DISABLED};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(names[i], s) == 0) {
            return states[i];
        }
    }
    return PVESM_UNKNOWN;
}

static int parse_row(const struct words *w, struct pvesm_row *row)
{
    *row = (struct pvesm_row){0};
    if (w->n != 7 || parse_kib(w->w[3], &row->total_kib) < 0 ||
        parse_kib(w->w[4], &row->used_kib) < 0 || parse_kib(w->w[5], &row->avail_kib) < 0 ||
        parse_percent(w->w[6], &row->percent) < 0) {
        return -EBADMSG;
    }
    row->state = parse_state(w->w[2]);
    row->name = strdup(w->w[0]);
    row->type = strdup(w->w[1]);
    if (!row->name || !row->type) {
        free(row->name);
        free(row->type);
        return -ENOMEM;
    }
    return 0;
}

/* One line: before the header, everything is stderr merged in (activation
 * warnings) and only the header counts; after it, every line is a row. */
static int status_line(struct pvesm_status *st, bool *header, bool *any, char *line)
{
    struct words w;
    split_words(line, &w);
    if (w.n == 0) {
        return 0;
    }
    if (!*header) {
        *any = true;
        *header = is_header(&w);
        return 0;
    }
    int r = parse_row(&w, &st->rows[st->n]);
    st->n += r == 0;
    return r;
}

int pvesm_parse_status(const char *text, size_t len, struct pvesm_status *ret,
                       unsigned *reterr_line)
{
    struct pvesm_status st = {0};
    const char *cur = text, *end = text + len;
    bool header = false, any = false;
    unsigned no = 0;
    int r = 0;

    /* At most one row per line. */
    size_t lines = 1;
    for (const char *p = text; p < end; p++) {
        lines += *p == '\n';
    }
    st.rows = calloc(lines, sizeof(*st.rows));
    if (!st.rows) {
        return -ENOMEM;
    }
    while (r == 0 && cur < end) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        size_t n = (size_t)((nl ? nl : end) - cur);
        no++;
        if (memchr(cur, '\0', n)) {
            r = -EBADMSG; /* not text */
        } else {
            char *line = strndup(cur, n);
            r = line ? status_line(&st, &header, &any, line) : -ENOMEM;
            free(line);
        }
        cur = nl ? nl + 1 : end;
    }
    if (r == 0 && any && !header) {
        r = -EBADMSG;
        no = 0;
    }
    if (r < 0) {
        pvesm_status_release(&st);
        if (r == -EBADMSG && reterr_line) {
            *reterr_line = no;
        }
        return r;
    }
    *ret = st;
    return 0;
}

void pvesm_status_release(struct pvesm_status *st)
{
    if (!st) {
        return;
    }
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].name);
        free(st->rows[i].type);
    }
    free(st->rows);
    *st = (struct pvesm_status){0};
}

const struct pvesm_row *pvesm_status_find(const struct pvesm_status *st, const char *name)
{
    if (!st || !name) {
        return NULL;
    }
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->rows[i].name, name) == 0) {
            return &st->rows[i];
        }
    }
    return NULL;
}

const char *pvesm_state_name(enum pvesm_state s)
{
    switch (s) {
    case PVESM_ACTIVE:
        return "active";
    case PVESM_INACTIVE:
        return "inactive";
    case PVESM_DISABLED:
        return "disabled";
    default:
        return "unknown";
    }
}

static bool in_list(const char *type, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(type, *list) == 0) {
            return true;
        }
    }
    return false;
}

enum pvesm_template_support pvesm_type_template_support(const char *type)
{
    static const char *const yes[] = {"dir",     "nfs", "cifs", "btrfs",     "lvmthin",
                                      "zfspool", "zfs", "rbd",  "glusterfs", NULL};
    static const char *const no[] = {"lvm", "iscsi", "iscsidirect", NULL};
    static const char *const no_images[] = {"cephfs", "pbs", "esxi", NULL};
    if (!type) {
        return PVESM_TEMPLATE_UNKNOWN;
    }
    if (in_list(type, yes)) {
        return PVESM_TEMPLATE_YES;
    }
    if (in_list(type, no)) {
        return PVESM_TEMPLATE_NO;
    }
    if (in_list(type, no_images)) {
        return PVESM_TEMPLATE_NO_IMAGES;
    }
    return PVESM_TEMPLATE_UNKNOWN;
}

bool pvesm_type_is_file_based(const char *type)
{
    /* Plugins whose volumes are files below a path: snippets can live there. */
    static const char *const files[] = {"dir", "nfs", "cifs", "cephfs", "btrfs", "glusterfs", NULL};
    return type && in_list(type, files);
}
