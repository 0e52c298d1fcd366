/* SPDX-License-Identifier: GPL-3.0-or-later */
/* termtext: text from anywhere (journal fields, VM configs) made safe for a
 * person's terminal, and the terminal's width. The one cleaner of every table
 * pvetmpl draws (audit, list, hook status): a forged field must not move the
 * cursor, recolour the screen, or reorder what is drawn around it. */
#ifndef PVETMPL_TERMTEXT_H
#define PVETMPL_TERMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Copies src (NULL: "") into dst (len bytes, NUL-terminated, never cut inside
 * a character): control characters (C0, DEL, C1), the bidirectional controls
 * (U+200E/U+200F, U+202A..U+202E, U+2066..U+2069, U+061C), the line and
 * paragraph separators (U+2028/U+2029) and every byte that is not part of
 * valid UTF-8 (overlong forms, surrogates, beyond U+10FFFF, cut sequences)
 * each become one '?'. The result is valid UTF-8. */
void termtext_clean(char *dst, size_t len, const char *src);
/* Columns s takes (one per character; s is termtext_clean's output). */
size_t termtext_width(const char *s);
/* The bytes of s's first cols characters. */
size_t termtext_cut(const char *s, size_t cols);
/* Writes s to f padded with spaces to cols columns by termtext_width (not by
 * bytes: a UTF-8 name must not shift the columns after it), on the left when
 * right-aligned. Longer text is written whole. */
void termtext_pad(FILE *f, const char *s, size_t cols, bool right);
/* The width of the terminal f is: its window size, else $COLUMNS (1..9999),
 * else fallback. */
int termtext_columns(FILE *f, int fallback);

#endif
