/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fileread: a whole regular file into memory, never blocking on it. For the
 * config files and the VM configs the hook reads while Proxmox holds the VM's
 * lock: a FIFO or device there must not hang us. */
#ifndef PVETMPL_FILEREAD_H
#define PVETMPL_FILEREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Reads up to max bytes of path into a malloc'd buffer with a NUL after them
 * (*ret_len excludes it). *ret_cut tells whether the file held more than
 * max bytes; the first max are returned then. ret_st, when not NULL, gets
 * the fstat of what was read. Returns 0, or -errno: -EINVAL when path is not
 * a regular file, -ENOMEM. */
int fileread_regular(const char *path, size_t max, char **ret, size_t *ret_len, bool *ret_cut,
                     struct stat *ret_st);

/* The same for a caller whose only signal handlers are those that end its
 * run (the wrapper, reading pmxcfs, which can block while the cluster hangs):
 * an open or read interrupted by a signal stops the read with -EINTR, where
 * fileread_regular retries it. */
int fileread_interruptible(const char *path, size_t max, char **ret, size_t *ret_len,
                           bool *ret_cut);

#endif
