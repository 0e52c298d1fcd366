/* SPDX-License-Identifier: GPL-3.0-or-later */
/* preflight: every precondition of a clone / make-template, checked before
 * anything changes. The independent queries (qm status, qm config, pvesm
 * status, ...) run concurrently; every check is recorded in the report (name,
 * ok, detail) and all failures are reported, not only the first. */
#ifndef PVETMPL_PREFLIGHT_H
#define PVETMPL_PREFLIGHT_H

#include "cmd.h"
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
};

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
