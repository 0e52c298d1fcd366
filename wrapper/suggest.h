/* SPDX-License-Identifier: GPL-3.0-or-later */
/* suggest: "did you mean 'local-lvm'?" for a mistyped storage or node. Pure:
 * the candidates are what pvesm status, the cluster's .members or .vmlist
 * listed. */
#ifndef PVETMPL_SUGGEST_H
#define PVETMPL_SUGGEST_H

#include <stddef.h>

#include "pvesm.h"
#include "vmlist.h"

/* The candidate nearest word by edit distance (insert, delete, replace, swap
 * two neighbours; case counts as a replace), when near enough to be a typo:
 * at most 1 edit for words up to 4 characters, 2 up to 8, else 3. NULL when
 * none is that near, or word is a candidate itself. Ties: the first. */
const char *suggest_nearest(const char *word, const char *const *cands, size_t n);

/* "; did you mean 'X'?" into buf (len bytes) for the nearest candidate, ""
 * when there is none; returns buf, to end a message with: "storage '%s' does
 * not exist%s". */
const char *suggest_text(char *buf, size_t len, const char *word, const char *const *cands,
                         size_t n);
/* suggest_text over the storages pvesm status listed. */
const char *suggest_storage(char *buf, size_t len, const struct pvesm_status *st, const char *word);
/* suggest_text over the cluster's nodes: .members' nodelist and nodename (m,
 * NULL or empty when unreadable) and the nodes .vmlist names. */
const char *suggest_node(char *buf, size_t len, const struct vmlist_members *m,
                         const struct vmlist *vl, const char *word);
/* suggest_node without the n_except names of except (NULL entries allowed):
 * make-template --target is never this node, so it is not offered. */
const char *suggest_node_except(char *buf, size_t len, const struct vmlist_members *m,
                                const struct vmlist *vl, const char *word,
                                const char *const *except, size_t n_except);

/* A buffer for one suggestion inside an expression (it lives until the end
 * of the enclosing block): SUGGEST_STORAGE(&st, sid) in a printf's arguments. */
#define SUGGEST_BUF_SIZE 160
#define SUGGEST_STORAGE(st, word)                                                                  \
    suggest_storage((char[SUGGEST_BUF_SIZE]){0}, SUGGEST_BUF_SIZE, (st), (word))
#define SUGGEST_NODE(m, vl, word)                                                                  \
    suggest_node((char[SUGGEST_BUF_SIZE]){0}, SUGGEST_BUF_SIZE, (m), (vl), (word))

#endif
