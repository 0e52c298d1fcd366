/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stdfd: fds 0-2 open before anything else, the rule both mains follow. A
 * closed 0, 1 or 2 would be taken by the next open(): a config or lock file
 * would receive our output, or a child would read its stdin from it. */
#ifndef PVETMPL_STDFD_H
#define PVETMPL_STDFD_H

#include <stdbool.h>

/* Opens /dev/null on each of fds 0-2 that is closed (read-only on 0; on 1
 * and 2 write-only, or read-only with out_fails, so that a write there fails
 * and an answer that went nowhere is seen as lost); open ones are left
 * alone. Returns 0, or -errno when one could not be opened. Call it first
 * thing in main. */
int stdfd_ensure_open(bool out_fails);

#endif
