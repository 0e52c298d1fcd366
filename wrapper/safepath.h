/* SPDX-License-Identifier: GPL-3.0-or-later */
/* safepath: whether root may trust a path, along its whole length. Every
 * directory from "/" to the path's last component must be root's and
 * writable by nobody else (a sticky directory such as /tmp is allowed on the
 * way, not at the end), and no component may be a symbolic link: whoever
 * could write to one of them could replace what follows it (OpenSSH's
 * safe_path rule; doas demands the same of its config). One walker for
 * run_dir (slot.c) and for what a delegated run trusts (request.c): the
 * configuration file and the programs it names. */
#ifndef PVETMPL_SAFEPATH_H
#define PVETMPL_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* Opens the directory dir as an fd, walked from "/" one component at a time
 * with O_NOFOLLOW (no check-then-open race); creates its last component
 * with mode create when missing and create is not 0. what names it in
 * errors ("run_dir"). 0, or -1 with e (ERR_CONFIG). */
int safepath_open_dir(const char *dir, const char *what, mode_t create, int *ret_fd, struct err *e);

/* The same walk for a directory that need not exist yet (its parent must
 * be trusted; the one who creates it walks again). 0 or -1 with e. */
int safepath_check_dir(const char *dir, const char *what, struct err *e);

/* The walk to path's directory, then path itself: a regular file, root's,
 * writable by nobody else. A missing file is no error when missing_ok and
 * its directory is writable by root alone (not even sticky: under /tmp anyone
 * could create it); *ret_missing (may be NULL) says so. The same holds for
 * safepath_check_dir's missing directory. 0 or -1 with e (ERR_CONFIG). */
int safepath_check_file(const char *path, const char *what, bool missing_ok, bool *ret_missing,
                        struct err *e);

#endif
