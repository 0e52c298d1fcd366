/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hookreg: registering the pvetmpl hookscript on VMs. hook_register lives in
 * cmd-hook.c (next to `pvetmpl hook install`, which it shares code with);
 * the pure volid helpers live in hookreg.c, so unit tests can link them
 * without the command layer. The argv builders are qmargv's. */
#ifndef PVETMPL_HOOKREG_H
#define PVETMPL_HOOKREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "journal.h"
#include "pvesm.h"
#include "strv.h"

struct vmlist;

struct ctx;

/* What make-template's preflight learnt already, so that registering the hook
 * after the clone does not ask qm and pvesm again. Any field may be absent
 * (NULL / false): then hook_register asks. */
struct hook_known {
    const struct pvesm_status *status; /* `pvesm status` */
    const struct vmlist *vl;           /* .vmlist (where the cluster's guests are) */
    const char *path;                  /* `pvesm path` of the hook's volid (hook_path_parse) */
    /* The VM is the copy qm clone just made of a VM whose committed
     * hookscript was cur (NULL: none), which qm clone copies; set only when
     * cur is not pvetmpl's, so that qm set follows and its read-back checks
     * the outcome. Then the copy's config is not read before qm set. */
    bool fresh_copy;
    const char *cur;
};

/* A hookscript hook_register set whose read-back the caller makes:
 * make-template reads the copy's config once, after qm template, for both
 * (one qm call less). active: qm set exited 0, its "hook-install" journal
 * event started and not ended; hook_register_confirm ends it. */
struct hook_pending {
    bool active;
    char volid[512];
    struct journal_event ev;
};

/* For make-template (which checks conf->hook and --no-hook itself, and calls
 * this before converting, so clones inherit the key): makes sure the hook
 * binary is in place on the
 * configured hook_storage (same checks and atomic write as `hook install`)
 * and sets it as the VM's hookscript unless it already is. Honours
 * c->dry_run, adds the commands to c->rep and writes the journal events
 * (action "hook-install"). known (may be NULL): what need not be asked again.
 * pending (NULL: the hookscript set is read back here): where a hookscript
 * set is left to be confirmed by hook_register_confirm.
 * Returns 0 or -1 with e set. */
int hook_register(struct ctx *c, uint32_t vmid, const struct hook_known *known,
                  struct hook_pending *pending, struct err *e);
/* Confirms a pending registration from VMID's committed config read back
 * after it (hookscript NULL: none), with the same rule and message as hook
 * install's read-back, and ends its journal event. unread: NULL when the
 * config was read back, else why it was not (e.g. ERR_INTERRUPTED: a signal
 * made node_run_many refuse the read): then nothing is known to have failed,
 * and e (and the event's end) says that qm set exited 0 and the read-back was
 * not made, with unread's class and words. 0 (also when nothing is pending),
 * or -1 with e set (ERR_QM_FAILED, or unread's class). */
int hook_register_confirm(struct ctx *c, uint32_t vmid, struct hook_pending *pending,
                          const struct err *unread, const char *hookscript, struct err *e);

/* "<storage>:snippets/<name>" into buf. Returns 0, or -ENAMETOOLONG. */
int hook_volid(const char *storage, const char *name, char *buf, size_t len);
/* True when volid is "<any storage>:snippets/<name>". */
bool hook_volid_is_ours(const char *volid, const char *name);
/* The file of volid from the output of `pvesm path <volid>` (its first line)
 * into path: only an absolute path that ends in the volume's own file name is
 * written to. 0, or -1 with e set (ERR_BAD_OUTPUT). */
int hook_path_parse(const char *volid, const char *out, char *path, size_t len, struct err *e);

#endif
