/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "suggest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 64 /* storage IDs and node names are shorter; longer: no guess */

/* Optimal string alignment distance between a and b (both < WORD_MAX). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[WORD_MAX + 1][WORD_MAX + 1];
    for (size_t i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            v = d[i][j - 1] + 1 < v ? d[i][j - 1] + 1 : v;
            v = d[i - 1][j - 1] + cost < v ? d[i - 1][j - 1] + cost : v;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v) {
                v = d[i - 2][j - 2] + 1;
            }
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *suggest_nearest(const char *word, const char *const *cands, size_t n)
{
    size_t lw = word ? strlen(word) : 0;
    if (lw == 0 || lw >= WORD_MAX) {
        return NULL;
    }
    size_t max = lw <= 4 ? 1 : lw <= 8 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = max + 1;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || strlen(cands[i]) >= WORD_MAX) {
            continue;
        }
        size_t d = distance(word, cands[i]);
        if (d == 0) {
            return NULL;
        }
        if (d < best_d) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}

const char *suggest_text(char *buf, size_t len, const char *word, const char *const *cands,
                         size_t n)
{
    const char *s = suggest_nearest(word, cands, n);
    if (len > 0) {
        buf[0] = '\0';
    }
    if (s && len > 0) {
        snprintf(buf, len, "; did you mean '%s'?", s);
    }
    return buf;
}

const char *suggest_storage(char *buf, size_t len, const struct pvesm_status *st, const char *word)
{
    const char **v = calloc(st && st->n ? st->n : 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; v && st && i < st->n; i++) {
        v[n++] = st->rows[i].name;
    }
    suggest_text(buf, len, word, v, n);
    free(v);
    return buf;
}

/* Whether s is one of the n names of except. */
static bool excepted(const char *s, const char *const *except, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        if (except[i] && strcmp(s, except[i]) == 0) {
            return true;
        }
    }
    return false;
}

const char *suggest_node(char *buf, size_t len, const struct vmlist_members *m,
                         const struct vmlist *vl, const char *word)
{
    return suggest_node_except(buf, len, m, vl, word, NULL, 0);
}

const char *suggest_node_except(char *buf, size_t len, const struct vmlist_members *m,
                                const struct vmlist *vl, const char *word,
                                const char *const *except, size_t n_except)
{
    /* the member list names every node, those without guests too; .vmlist
     * still counts when the member list could not be read */
    size_t nm = m ? m->n + (m->nodename != NULL) : 0, nv = vl ? vl->n : 0;
    const char **v = calloc(nm + nv ? nm + nv : 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; v && m && i < m->n; i++) {
        v[n] = m->nodes[i];
        n += !excepted(v[n], except, n_except);
    }
    if (v && m && m->nodename && !excepted(m->nodename, except, n_except)) {
        v[n++] = m->nodename;
    }
    for (size_t i = 0; v && vl && i < vl->n; i++) {
        v[n] = vl->entries[i].node; /* repeated names: the first wins a tie anyway */
        n += !excepted(v[n], except, n_except);
    }
    suggest_text(buf, len, word, v, n);
    free(v);
    return buf;
}
