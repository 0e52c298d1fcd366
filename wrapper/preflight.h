/* SPDX-License-Identifier: GPL-3.0-or-later */
/* preflight: every precondition of a clone / make-template, checked before
 * anything changes, in three stages:
 *   gather    spawns the independent queries (qm status, qm config, pvesm
 *             status, ...) concurrently and reads .vmlist and the cluster's
 *             config files into plain facts;
 *   evaluate  pure: facts + request -> checks (name, ok, busy, detail);
 *   record    puts the checks into the report and the failures into p.
 * Every failure is reported, not only the first. */
#ifndef PVETMPL_PREFLIGHT_H
#define PVETMPL_PREFLIGHT_H

#include <time.h>

#include "cmd.h"
#include "hookreg.h"
#include "pvecfg.h"
#include "pvesm.h"
#include "qm.h"
#include "strv.h"
#include "vmlist.h"

struct preflight_req {
    uint32_t src;
    uint32_t newid; /* 0: no new VMID involved (check) */
    const char *storage, *target, *snapname;
    bool for_template;        /* make-template: target storages must hold base images */
    bool linked;              /* clone --linked: the source must be a template */
    const char *hook_storage; /* non-NULL: the hook will be registered from there */
    bool no_storages;         /* skip the target-storage checks (template adds its own) */
    const char *pool;         /* --pool: must exist in <pve_dir>/user.cfg */
    const char *format;       /* --format: every target storage must hold it */
    bool replace_hook;        /* with hook_storage: a foreign hookscript on SRC may go */
    bool in_place;            /* template: SRC itself is converted, nothing is copied */
    /* non-NULL: .vmlist as the caller read it for this same moment (make-
     * template's "already exists" look): gather takes it over (moved, the
     * caller's emptied) instead of reading and parsing the file again */
    struct vmlist *vl;
};

struct preflight {
    struct vmlist vl;
    struct qm_config src_cf; /* valid when src_ok; committed (qm config --current) */
    /* src_cf's pending changes (keys, comma-separated), which qm clone and qm
     * template do not act on; pending_unknown when they could not be read. */
    char pending[512];
    size_t n_pending;
    bool pending_unknown;
    struct qm_status src_st;
    struct pvesm_status all;    /* pvesm status */
    struct pvesm_status images; /* pvesm status --content images */
    struct strv storages;       /* distinct storages the copy writes to */
    bool src_ok;
    struct strv failures; /* detail of each failed check */
    size_t failed;        /* failed checks */
    size_t failed_busy;   /* of which: a lock (retry later) */
    /* with hook_storage and a NEWID (a real make-template): `pvesm path` of the hook's volid,
     * checked by hook_path_parse; "" when it could not be learnt */
    char hook_path[4096];
    struct hook_known hook; /* filled by preflight_hook_known */
    /* CLOCK_MONOTONIC when the source's queries (qm status, qm config) were
     * started: the batch ends with its slowest query, so they may be older
     * than the end of preflight */
    struct timespec src_asked;
};

/* One query of the gather, as it came back. */
struct preflight_answer {
    bool asked;
    bool failed;     /* ran and exited non-zero */
    char error[512]; /* failed: its deciding error line (node_error_line) */
    struct err fail; /* failed: the run error it makes (node_fail) */
    bool bad;        /* exited 0 but did not parse, at bad_line */
    unsigned bad_line;
};

/* What the node said, as plain values: the output of gather, the input of
 * evaluate. Unit tests build it by hand or from fixtures. */
struct preflight_facts {
    const char *local; /* this node's name */
    struct vmlist vl;  /* the cluster's .vmlist */
    /* qm status SRC, qm config SRC --current, qm config SRC (pending applied),
     * pvesm status, pvesm status --content images, qm config SRC --snapshot S,
     * pvesm status --target NODE, pvesm path <hook volid> */
    struct preflight_answer q_status, q_config, q_pending, q_pvesm, q_images, q_snap, q_target,
        q_hook_path;
    struct qm_status src_st;
    struct qm_config src_cf;     /* committed: what qm clone and qm template act on */
    struct qm_config pending_cf; /* with the pending changes applied */
    struct pvesm_status all, images, target_list;
    char hook_path_text[4096]; /* hook_path's answer when hook_path_parse took it */
    /* --pool: whether it is in <pve_dir>/user.cfg; pool_error when unreadable */
    bool pool_exists;
    char pool_error[1024];
    /* --target: <pve_dir>/.members; members_error when unreadable */
    struct vmlist_members members;
    char members_error[1024];
    /* --format: <pve_dir>/storage.cfg; storage_cfg_error when unreadable */
    struct pvecfg_storages storage_cfg;
    char storage_cfg_error[1024];
    struct timespec src_asked; /* see struct preflight */
};

/* One check, as evaluate judged it. */
struct preflight_item {
    char name[160];
    bool ok, busy; /* busy: failed on a lock a task will drop (retry later) */
    char detail[1024];
};

/* The output of evaluate. */
struct preflight_eval {
    struct preflight_item *items;
    size_t n, cap;
    bool src_ok;          /* the source VM could be judged */
    struct strv storages; /* distinct storages the copy writes to */
    char pending[512];    /* the source's pending changes (keys) */
    size_t n_pending;
    bool pending_unknown;
    /* qm clone of the committed config copies its hookscript, which is not
     * pvetmpl's (src_hookscript, NULL: none): see struct hook_known */
    bool copy_hook_known;
    bool oom;
};

/* gather: runs the queries q needs concurrently and reads the files; fills
 * ret (to release either way). -1 with e set when a query could not run or a
 * file could not be read that every check needs (.vmlist). */
int preflight_gather(struct ctx *c, const struct preflight_req *q, struct preflight_facts *ret,
                     struct err *e);
void preflight_facts_release(struct preflight_facts *f);
/* evaluate: pure. Judges facts f against request q (cf: template_types,
 * hook_name, pve_dir for messages) into ret (to release either way). 0; or -1
 * with e set when a query's answer makes judging impossible (qm status
 * failed, an output did not parse): ret holds the checks made until then. */
int preflight_evaluate(const struct conf *cf, const struct preflight_req *q,
                       const struct preflight_facts *f, struct preflight_eval *ret, struct err *e);
void preflight_eval_release(struct preflight_eval *v);
/* record: adds v's checks to the report and p's failures, and moves the facts
 * and verdicts callers read (vl, src_cf, src_st, all, images, storages,
 * pending, hook_path) from f and v into p. */
void preflight_record(struct ctx *c, struct preflight *p, struct preflight_facts *f,
                      struct preflight_eval *v);
/* What registering the hook after the clone need not ask again (make-template):
 * preflight's `pvesm status` and `pvesm path`, and the source's committed
 * hookscript, which qm clone copies. Valid while p is. */
const struct hook_known *preflight_hook_known(struct preflight *p);

/* Returns 0 when every check passed; 1 when checks failed (e set by
 * preflight_fail: ERR_PRECONDITION, or ERR_BUSY when only locks failed);
 * -1 with e set when a query could not run or be parsed. ret is filled as far
 * as the queries went and must be released either way. */
int preflight_run(struct ctx *c, const struct preflight_req *q, struct preflight *ret,
                  struct err *e);
void preflight_release(struct preflight *p);

/* What a storage type can do with base images, the config's template_types
 * (third-party types the admin vouches for) counted as YES. */
enum pvesm_template_support preflight_template_support(const struct conf *cf, const char *type);
/* Records one check in the report and, when it failed, in p->failures. */
bool preflight_check(struct ctx *c, struct preflight *p, const char *name, bool ok, bool busy,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Checks that storage sid can take the disks of a new VM (and, with
 * for_template, base images), as the check "storage:<sid>". target_list,
 * when non-NULL, is `pvesm status --target NODE`. */
bool preflight_check_storage(struct ctx *c, struct preflight *p, const char *sid, bool for_template,
                             const struct pvesm_status *target_list, const char *target);
/* Warns (cmd_warn) which pending changes of VMID what (e.g. "the template")
 * will not carry: qm acts on the committed config preflight judged. */
void preflight_warn_pending(struct ctx *c, const struct preflight *p, uint32_t vmid,
                            const char *what);
/* Whether a --target names this node as qm clone sees it: 'localhost' or
 * local (qemu-server API2/Qemu.pm clone_vm then makes a local clone). */
bool preflight_target_is_local(const char *target, const char *local);
/* make-template --target naming this node (qm migrate refuses it): records
 * the failed check "target_node" as preflight does and sets e
 * (ERR_PRECONDITION) with its message. Returns -1. */
int preflight_refuse_self_target(struct ctx *c, const char *target, struct err *e);
/* Registering pvetmpl's hook replaces the hookscript the copy inherits (qm
 * clone copies 'hookscript'): whether hookscript (of VM src) is one that
 * would be lost so, an admin's own (e.g. a GPU passthrough script). When it
 * is, msg says so and what to do; replace: --replace-hook was given. The one
 * rule of preflight and of the re-check after the copy-slot wait. */
bool preflight_foreign_hook(const struct conf *cf, uint32_t src, const char *hookscript,
                            bool replace, char *msg, size_t len);
/* What to do about a lock that persists (qm_lock_persists), for a message. */
void preflight_lock_hint(uint32_t vmid, char *buf, size_t len);
/* Sets e from the failed checks (ERR_BUSY when only locks failed) and returns -1. */
int preflight_fail(const struct preflight *p, struct err *e);

#endif
