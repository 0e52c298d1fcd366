/* SPDX-License-Identifier: GPL-3.0-or-later */
/* slot: pvetmpl's own flock(2)-based coordination between parallel runs on one
 * node, in the config's run_dir. Proxmox's own locks time out after 1-10 s, so
 * parallel copies are queued here instead of racing into them:
 *   - at most copies_per_storage concurrent copies onto one storage;
 *   - one run at a time per new VMID (two runs never both reach qm clone).
 * Locks die with the process, so a crashed run never leaves one behind. */
#ifndef PVETMPL_SLOT_H
#define PVETMPL_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"

/* Each waits (printing one "waiting" message) until the lock is free, at
 * most c->lock_wait seconds (0: not at all), or returns -1 with ERR_BUSY
 * (still held then, e saying what) / ERR_INTERRUPTED / ERR_CONFIG (run_dir
 * unusable). */
int slot_lock_newid(struct ctx *c, uint32_t newid, int *ret_fd, struct err *e);
/* slot_lock_newid without the wait: 0 and the lock, or 1 (*ret_fd -1) when
 * another run holds it, or -1 with e (ERR_CONFIG). */
int slot_try_lock_newid(struct ctx *c, uint32_t newid, int *ret_fd, struct err *e);
/* One rotation at a time per template name (a DNS name: safe as a file name). */
int slot_lock_name(struct ctx *c, const char *name, int *ret_fd, struct err *e);
/* One of the storage's copies_per_storage copy slots; *ret_waited: whether
 * they were all held at first (then the run waited, and what preflight learnt
 * may be stale). */
int slot_acquire_storage(struct ctx *c, const char *storage, int *ret_fd, bool *ret_waited,
                         struct err *e);
void slot_release(int fd);

#endif
