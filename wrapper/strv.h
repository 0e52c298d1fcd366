/* SPDX-License-Identifier: GPL-3.0-or-later */
/* strv: a growable NULL-terminated vector of owned strings (argv, lines). */
#ifndef PVETMPL_STRV_H
#define PVETMPL_STRV_H

#include <stddef.h>

struct strv {
    char **v; /* always NULL-terminated once anything was pushed; NULL when empty */
    size_t n;
    size_t alloc;
};

#define STRV_INIT                                                                                  \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Each returns 0, or -ENOMEM leaving the vector unchanged. push copies s. */
int strv_push(struct strv *sv, const char *s);
int strv_pushf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the strings and the array, and leaves sv empty (STRV_INIT). */
void strv_release(struct strv *sv);
/* The argv, never NULL: an empty vector yields a pointer to a static NULL. */
char *const *strv_argv(const struct strv *sv);
/* Joins argv for display, quoting each word the way a POSIX shell would read it
 * back. Returns a malloc'd string or NULL on OOM. */
char *strv_join_quoted(char *const *argv);

#endif
