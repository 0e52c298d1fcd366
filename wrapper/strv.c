/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int strv_push_owned(struct strv *sv, char *s)
{
    if (sv->n + 2 > sv->alloc) {
        size_t na = sv->alloc ? sv->alloc * 2 : 8;
        char **nv = realloc(sv->v, na * sizeof(*nv));
        if (!nv) {
            return -ENOMEM;
        }
        sv->v = nv;
        sv->alloc = na;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

int strv_push(struct strv *sv, const char *s)
{
    char *d = strdup(s);
    if (!d) {
        return -ENOMEM;
    }
    int r = strv_push_owned(sv, d);
    if (r < 0) {
        free(d);
    }
    return r;
}

int strv_pushf(struct strv *sv, const char *fmt, ...)
{
    va_list ap;
    char *d = NULL;
    va_start(ap, fmt);
    int k = vasprintf(&d, fmt, ap);
    va_end(ap);
    if (k < 0) {
        return -ENOMEM;
    }
    int r = strv_push_owned(sv, d);
    if (r < 0) {
        free(d);
    }
    return r;
}

void strv_release(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++) {
        free(sv->v[i]);
    }
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->alloc = 0;
}

char *const *strv_argv(const struct strv *sv)
{
    static char *const empty[] = {NULL};
    return sv->v ? sv->v : empty;
}

static int word_is_plain(const char *w)
{
    if (!*w) {
        return 0;
    }
    for (const char *p = w; *p; p++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+",
                    *p)) {
            return 0;
        }
    }
    return 1;
}

char *strv_join_quoted(char *const *argv)
{
    size_t len = 1;
    for (char *const *a = argv; *a; a++) {
        len += strlen(*a) * 4 + 3;
    }
    char *out = malloc(len), *o = out;
    if (!out) {
        return NULL;
    }
    for (char *const *a = argv; *a; a++) {
        if (a != argv) {
            *o++ = ' ';
        }
        if (word_is_plain(*a)) {
            o = stpcpy(o, *a);
            continue;
        }
        /* Single quotes protect everything but a single quote itself. */
        *o++ = '\'';
        for (const char *p = *a; *p; p++) {
            if (*p == '\'') {
                o = stpcpy(o, "'\\''");
            } else {
                *o++ = *p;
            }
        }
        *o++ = '\'';
    }
    *o = '\0';
    return out;
}
