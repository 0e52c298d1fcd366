/* SPDX-License-Identifier: GPL-3.0-or-later */
/* node: talking to the local Proxmox node through spawn — running qm/pvesm
 * with the context's timeout and interrupt flag, turning spawn outcomes and
 * qm's error texts into error classes, retrying lock errors, reading the
 * cluster's .vmlist. Reports nothing itself: results and errors flow up. */
#ifndef PVETMPL_NODE_H
#define PVETMPL_NODE_H

#include "cmd.h"
#include "newid.h"
#include "pvecfg.h"
#include "qm.h"
#include "spawn.h"
#include "vmlist.h"

/* Runs n argv at once. Returns 0 when every process ran (any exit status), or
 * -1 with e set: ERR_SPAWN (could not start), ERR_TIMEOUT, ERR_INTERRUPTED,
 * ERR_INTERNAL. on_line, when set, streams lines (progress). */
int node_run_many(struct ctx *c, size_t n, char *const *const argvs[], struct spawn_result rets[],
                  void (*on_line)(void *, size_t, enum spawn_stream, const char *), void *ud,
                  struct err *e);
int node_run(struct ctx *c, char *const argv[], struct spawn_result *ret, struct err *e);
/* Runs a read-only query that must exit 0: *ret holds its output then (to
 * release). Otherwise -1 with e set, by node_fail when qm said why. */
int node_query(struct ctx *c, char *const argv[], const char *what, struct spawn_result *ret,
               struct err *e);

/* The class of a failed qm/pvesm run from its stderr: locks a task will drop
 * are ERR_BUSY; what waiting cannot cure (lock 'suspended', no quorum, a
 * missing pool, a missing VM) ERR_PRECONDITION; permission errors ERR_PERMISSION;
 * everything else ERR_QM_FAILED. */
enum err_class node_error_class(enum qm_error qe);
/* Fills e from a failed run: "'qm clone' failed (exit 255): <qm's deciding error
 * line>" (qm_classify_task: a migration's reason from its log), plus how to
 * clear an error waiting does not cure. */
int node_fail(const struct spawn_result *r, const char *what, struct err *e);
/* The first non-empty line of qm's stderr that classify picked (or the last
 * line), copied into buf; for messages. */
const char *node_error_line(const struct spawn_result *r, char *buf, size_t len);

/* Reads and parses the config's vmlist file. */
int node_load_vmlist(const struct conf *cf, struct vmlist *ret, struct err *e);
/* Reads and parses <pve_dir>/.members (the cluster's nodes). */
int node_load_members(const struct conf *cf, struct vmlist_members *ret, struct err *e);
/* datacenter.cfg's next-id range (newid_parse_datacenter) under pve_dir:
 * *ret_found false when the file or the line is missing. 0, or -1 with e. */
int node_read_next_id(const struct conf *cf, struct newid_range *ret, bool *ret_found,
                      struct err *e);
/* Reads a VM's config straight from pmxcfs (<pve_dir>/nodes/<node>/qemu-server/
 * <vmid>.conf): qm here cannot read a VM of another node. Only the main
 * section counts, read as qm_parse_conf_file reads it. */
int node_read_config_file(const struct conf *cf, const char *node, uint32_t vmid,
                          struct qm_config *ret, struct err *e);
/* The raw text of that file (malloc'd, NUL-terminated). A missing file is 1
 * with no error set when missing_ok (a guest deleted or migrated meanwhile). */
int node_read_config_text(const struct conf *cf, const char *node, uint32_t vmid, bool missing_ok,
                          char **ret, size_t *ret_len, struct err *e);
/* Reads and parses <pve_dir>/storage.cfg (a missing file is an empty one:
 * pve-cluster's cfs read of a missing file gives no text). */
int node_load_storage_cfg(const struct conf *cf, struct pvecfg_storages *ret, struct err *e);
/* Whether pool exists in <pve_dir>/user.cfg (missing: no pools). */
int node_pool_exists(const struct conf *cf, const char *pool, bool *ret, struct err *e);
/* The local node's name: the config's node, else uname's nodename. */
const char *node_local_name(const struct conf *cf);

/* Sleeps ms milliseconds unless interrupted; returns -1 with ERR_INTERRUPTED then. */
int node_sleep(struct ctx *c, long ms, struct err *e);

#endif
