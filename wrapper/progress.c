/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "progress.h"

#include <stdlib.h>
#include <string.h>

#include "qm.h"
#include "termtext.h"

#define BAR_MAX 30 /* the bar's width when the terminal has room */

void progress_init(struct progress *p, const struct ctx *c)
{
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->tty = c->progress ? stderr : NULL;
    p->last_pct = -1;
}

static void render_bytes(char *buf, size_t len, uint64_t v)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", d, units[u]);
}

void progress_render(char *buf, size_t len, const char *drive, double pct, uint64_t done,
                     uint64_t total, int width)
{
    char bar[128], a[32], b[32];
    if (width > (int)sizeof(bar) - 1) {
        width = (int)sizeof(bar) - 1;
    }
    if (pct < 0) {
        pct = 0;
    }
    if (pct > 100) {
        pct = 100;
    }
    int fill = (int)(pct * width / 100.0);
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '-', (size_t)(width - fill));
    bar[width] = '\0';
    render_bytes(a, sizeof(a), done);
    render_bytes(b, sizeof(b), total);
    snprintf(buf, len, "%-8s [%s] %6.2f%% %s of %s", drive, bar, pct, a, b);
}

void progress_fit(char *buf, size_t len, const char *drive, double pct, uint64_t done,
                  uint64_t total, int cols)
{
    char line[256];
    int room = cols - 1; /* the last column would make the terminal wrap */
    if (room < 1 || len == 0) {
        if (len) {
            buf[0] = '\0';
        }
        return;
    }
    char a[32], b[32];
    render_bytes(a, sizeof(a), done);
    render_bytes(b, sizeof(b), total);
    /* The bar's width is the same for the whole copy: room is kept for the
     * widest "done" ("1023.9 MiB"), so the bar does not jump as it grows. */
    progress_render(line, sizeof(line), drive, pct, done, total, 0);
    int bar = room - ((int)strlen(line) - (int)strlen(a) + (int)strlen("1023.9 MiB"));
    if (bar > BAR_MAX) {
        bar = BAR_MAX;
    }
    if (bar >= 5) {
        progress_render(buf, len, drive, pct, done, total, bar);
        return;
    }
    /* No room for a bar that says anything: the numbers alone, cut if need be. */
    snprintf(line, sizeof(line), "%-8s %6.2f%% %s of %s", drive,
             pct < 0     ? 0
             : pct > 100 ? 100
                         : pct,
             a, b);
    if ((int)strlen(line) > room) {
        line[room] = '\0';
    }
    snprintf(buf, len, "%s", line);
}

void progress_finish(struct progress *p)
{
    if (p->tty && p->drawn) {
        fputc('\n', p->tty);
        fflush(p->tty);
    }
    p->drawn = 0;
}

void progress_line(void *ud, size_t job, enum spawn_stream s, const char *line)
{
    struct progress *p = ud;
    struct qm_line l;
    (void)job;
    if (p->c->verbose && !p->c->json) {
        progress_finish(p);
        fprintf(stderr, "qm: %s\n", line);
    }
    if (s != SPAWN_STDOUT) {
        return;
    }
    qm_parse_line(line, &l);
    if (l.kind == QM_LINE_DRIVE) {
        progress_finish(p);
        snprintf(p->drive, sizeof(p->drive), "%s", l.drive);
        p->last_pct = -1;
    } else if (l.kind == QM_LINE_PROGRESS && p->tty && !p->c->verbose) {
        if (l.percent == p->last_pct) {
            return; /* qm prints the 100% line twice */
        }
        char buf[256];
        progress_fit(buf, sizeof(buf), l.drive[0] ? l.drive : p->drive, l.percent, l.done, l.total,
                     termtext_columns(p->tty, 80));
        /* erase to the end of the line: a shorter line ("1.0 GiB" after
         * "1023.9 MiB") must not leave the old one's tail behind */
        fprintf(p->tty, "\r%s\033[K", buf);
        fflush(p->tty);
        p->drawn = 1;
        p->last_pct = l.percent;
    }
}
