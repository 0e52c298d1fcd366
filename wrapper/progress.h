/* SPDX-License-Identifier: GPL-3.0-or-later */
/* progress: what the user sees of qm's output while a copy runs — a bar per
 * disk on a terminal (from qm's "transferred X of Y (P%)" lines), qm's own
 * lines with -v. Fed line by line from spawn's on_line callback. */
#ifndef PVETMPL_PROGRESS_H
#define PVETMPL_PROGRESS_H

#include <stdio.h>

#include "cmd.h"
#include "spawn.h"

struct progress {
    const struct ctx *c;
    FILE *tty;      /* where bars go (stderr), NULL when bars are off */
    char drive[32]; /* the disk being copied */
    int drawn;      /* a bar is on screen and needs a newline */
    double last_pct;
};

void progress_init(struct progress *p, const struct ctx *c);
/* spawn on_line callback; ud is a struct progress. */
void progress_line(void *ud, size_t job, enum spawn_stream s, const char *line);
/* Ends the current bar line, if any. */
void progress_finish(struct progress *p);
/* Renders one bar line (pure, for tests): "scsi0 [#####-----]  50.00% 1.0 GiB of 2.0 GiB". */
void progress_render(char *buf, size_t len, const char *drive, double pct, uint64_t done,
                     uint64_t total, int width);
/* The line drawn on a terminal cols wide (pure): at most cols - 1 characters,
 * so the terminal never wraps it. The bar (at most 30 wide) shrinks first,
 * goes when fewer than 5 columns are left for it, then the text is cut. */
void progress_fit(char *buf, size_t len, const char *drive, double pct, uint64_t done,
                  uint64_t total, int cols);

#endif
