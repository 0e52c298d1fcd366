/* SPDX-License-Identifier: GPL-3.0-or-later */
/* make-template, clone, template: the state-changing commands. Each validates
 * every argument, runs the preflight, then qm with exact argv, and verifies
 * the outcome by reading the config back (qm template exits 0 even when it
 * fails). Nothing is ever deleted on the user's behalf. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cmd.h"
#include "hookreg.h"
#include "journal.h"
#include "list.h"
#include "newid.h"
#include "node.h"
#include "preflight.h"
#include "progress.h"
#include "qmargv.h"
#include "slot.h"

/* ---- running qm operations -------------------------------------------- */

/* The lock-retry budget of one action: lock_retries tries, c->lock_wait
 * seconds (--lock-wait, else lock_retry_max), exponential backoff from 1 s up
 * to 30 s. */
struct backoff {
    long attempt, waited_ms, next_ms;
};

/* After a lock error in e: warns, sleeps and returns true when another try is
 * allowed; false when the budget is spent (e unchanged) or on a signal (e set). */
static bool backoff_wait(struct ctx *c, struct backoff *b, struct err *e)
{
    if (!b->next_ms) {
        b->next_ms = 1000;
    }
    if (c->lock_wait == 0 && e->cls == ERR_BUSY) {
        /* asked not to wait: say so, and that a later run may succeed */
        char keep[sizeof(e->detail)];
        snprintf(keep, sizeof(keep), "%s", e->detail);
        err_set(e, ERR_BUSY, "%s; not waited for (lock wait 0 s): retry later", keep);
        return false;
    }
    if (b->attempt >= c->conf->lock_retries || b->waited_ms + b->next_ms > c->lock_wait * 1000) {
        return false;
    }
    b->attempt++;
    cmd_warn(c, "%s; retrying in %ld s (%ld of %ld)", e->detail, b->next_ms / 1000, b->attempt,
             c->conf->lock_retries);
    if (node_sleep(c, b->next_ms, e) < 0) {
        return false;
    }
    b->waited_ms += b->next_ms;
    b->next_ms = b->next_ms * 2 > 30000 ? 30000 : b->next_ms * 2;
    return true;
}

static bool is_lock_error(enum qm_error qe)
{
    return qe == QM_ERR_LOCKED || qe == QM_ERR_LOCK_TIMEOUT;
}

static bool newid_still_free(struct ctx *c, uint32_t newid)
{
    struct vmlist vl;
    struct err e2;
    if (node_load_vmlist(c->conf, &vl, &e2) < 0) {
        return false;
    }
    bool free_ = vmlist_find(&vl, newid) == NULL;
    vmlist_release(&vl);
    return free_;
}

/* Runs one state-changing qm command with progress. stderr_decides: qm
 * template exits 0 on failure, so its stderr is classified whatever the
 * status. Returns 0, or -1 with e set and *ret_qe the class of qm's error. */
static int run_once(struct ctx *c, const struct strv *argv, const char *what, bool stderr_decides,
                    enum qm_error *ret_qe, struct err *e)
{
    struct progress pr;
    struct spawn_result r;
    char *const *argvs[1] = {strv_argv(argv)};
    *ret_qe = QM_ERR_NONE;
    cmd_record(c, strv_argv(argv)); /* each attempt is a run */
    progress_init(&pr, c);
    int rr = node_run_many(c, 1, argvs, &r, progress_line, &pr, e);
    progress_finish(&pr);
    if (rr < 0) {
        return -1;
    }
    enum qm_error qe = qm_classify_task(r.err, r.out, NULL);
    int rc = 0;
    if (spawn_result_code(&r) != 0 || (stderr_decides && qe != QM_ERR_NONE)) {
        *ret_qe = qe;
        rc = node_fail(&r, what, e);
    }
    spawn_result_release(&r);
    return rc;
}

/* Runs the read-only `<what> VMID` built in argv (built < 0: it could not
 * be built) and parses its output into ret; retries nothing: a read. */
static int read_qm(struct ctx *c, uint32_t vmid, const char *what, int built, struct strv *argv,
                   int (*parse)(const struct spawn_result *, void *, unsigned *), void *ret,
                   struct err *e)
{
    struct spawn_result r;
    unsigned line = 0;
    if (built < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int rc = node_query(c, strv_argv(argv), what, &r, e);
    strv_release(argv);
    if (rc < 0) {
        return -1;
    }
    if (parse(&r, ret, &line) < 0) {
        rc = err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of '%s %" PRIu32 "' (line %u)",
                     what, vmid, line);
    }
    spawn_result_release(&r);
    return rc;
}

static int parse_config(const struct spawn_result *r, void *ret, unsigned *line)
{
    return qm_parse_config(r->out, r->out_len, ret, line);
}

static int parse_status(const struct spawn_result *r, void *ret, unsigned *line)
{
    return qm_parse_status(r->out, r->out_len, ret, line);
}

/* Reads VMID's committed config (qm config --current: what qm clone and qm
 * template act on, without pending changes). */
static int read_config(struct ctx *c, uint32_t vmid, struct qm_config *ret, struct err *e)
{
    struct strv argv = STRV_INIT;
    return read_qm(c, vmid, "qm config", qmargv_config_current(c->conf->qm, vmid, &argv), &argv,
                   parse_config, ret, e);
}

/* Reads VMID's committed config and run state at once (two processes, one
 * latency): the re-check after a copy-slot wait. An error is the config's
 * first, as when they were read one after the other. */
static int read_config_status(struct ctx *c, uint32_t vmid, struct qm_config *cf,
                              struct qm_status *st, struct err *e)
{
    struct strv a[2] = {STRV_INIT, STRV_INIT};
    static const char *const what[2] = {"qm config", "qm status"};
    struct spawn_result r[2];
    int rc = -1;
    if (qmargv_config_current(c->conf->qm, vmid, &a[0]) < 0 ||
        qmargv_status(c->conf->qm, vmid, false, &a[1]) < 0) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    char *const *argvs[2] = {strv_argv(&a[0]), strv_argv(&a[1])};
    if (node_run_many(c, 2, argvs, r, NULL, NULL, e) < 0) {
        goto out;
    }
    rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        unsigned line = 0;
        if (spawn_result_code(&r[i]) != 0) {
            rc = node_fail(&r[i], what[i], e);
        } else if ((i ? parse_status(&r[i], st, &line) : parse_config(&r[i], cf, &line)) < 0) {
            rc = err_set(e, ERR_BAD_OUTPUT, "cannot parse the output of '%s %" PRIu32 "' (line %u)",
                         what[i], vmid, line);
        }
    }
    spawn_result_release(&r[0]);
    spawn_result_release(&r[1]);
out:
    strv_release(&a[0]);
    strv_release(&a[1]);
    return rc;
}

static bool disk_needs_base(const struct qm_disk *d)
{
    return !d->cdrom; /* cloud-init drives are CD-ROMs: qm template skips them */
}

/* The disks that are not (yet) base volumes, "scsi0 (local-lvm:vm-100-disk-0)" each. */
static size_t unconverted(const struct qm_config *cf, const char *only, char *buf, size_t len)
{
    size_t n = 0, off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cf->n_disks; i++) {
        const struct qm_disk *d = &cf->disks[i];
        if (!disk_needs_base(d) || d->base || (only && strcmp(only, d->key) != 0)) {
            continue;
        }
        if (off < len) {
            off += (size_t)snprintf(buf + off, len - off, "%s%s (%s)", n ? ", " : "", d->key,
                                    d->volume);
        }
        n++;
    }
    return n;
}

static void report_disks(struct ctx *c, const struct qm_config *cf, const struct preflight *p)
{
    for (size_t i = 0; i < cf->n_disks; i++) {
        const struct qm_disk *d = &cf->disks[i];
        const struct pvesm_row *row =
            p && d->storage ? pvesm_status_find(&p->all, d->storage) : NULL;
        report_add_disk(c->rep, d->key, d->volume, d->storage, row ? row->type : NULL, d->base);
    }
}

static size_t count_base(const struct qm_config *cf)
{
    size_t n = 0;
    for (size_t i = 0; i < cf->n_disks; i++) {
        n += cf->disks[i].base;
    }
    return n;
}

/* Plans the conversion of cur: qm template VMID [--disk only], or, for a VM
 * already marked as a template, qm template VMID --disk D per remaining disk
 * (qm refuses "a template to a template" without --disk). */
static int plan_convert(struct ctx *c, uint32_t vmid, const struct qm_config *cur, const char *only,
                        struct strv *ret, size_t max, size_t *ret_n)
{
    size_t n = 0;
    if (cur && cur->template) {
        for (size_t i = 0; i < cur->n_disks && n < max; i++) {
            const struct qm_disk *d = &cur->disks[i];
            if (!disk_needs_base(d) || d->base || (only && strcmp(only, d->key) != 0)) {
                continue;
            }
            if (qmargv_template(c->conf->qm, vmid, d->key, &ret[n++]) < 0) {
                goto oom;
            }
        }
    } else if (qmargv_template(c->conf->qm, vmid, only, &ret[n++]) < 0) {
        goto oom;
    }
    *ret_n = n;
    return 0;
oom:
    for (size_t i = 0; i < n; i++) {
        strv_release(&ret[i]);
    }
    return -ENOMEM;
}

#define MAX_DRIVES 64

/* Converts VMID to a template and verifies it by reading the config back
 * (qm template exits 0 on failure). before: VMID's config now (NULL: a fresh
 * copy, not a template). Lock errors are retried with a plan made from a fresh
 * config, since qm may have written template: 1 before failing. The read-back
 * always runs, so a failure names every disk left unconverted; after, when
 * filled (*read_back), is the final config; *changed tells whether the
 * config changed. */
static int convert(struct ctx *c, uint32_t vmid, const struct qm_config *before, const char *only,
                   struct qm_config *after, bool *changed, bool *read_back, struct err *e)
{
    struct strv plan[MAX_DRIVES];
    struct qm_config fresh = {0};
    const struct qm_config *cur = before;
    struct backoff b = {0};
    size_t n = 0;
    int rc = 0;
    for (;;) {
        if (plan_convert(c, vmid, cur, only, plan, MAX_DRIVES, &n) < 0) {
            rc = err_set(e, ERR_INTERNAL, "out of memory");
            break;
        }
        enum qm_error qe = QM_ERR_NONE;
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            if (rc == 0) {
                rc = c->dry_run ? (cmd_record(c, strv_argv(&plan[i])), 0)
                                : run_once(c, &plan[i], "qm template", true, &qe, e);
            }
            strv_release(&plan[i]);
        }
        if (rc == 0 || c->dry_run || !is_lock_error(qe) || !backoff_wait(c, &b, e)) {
            break;
        }
        qm_config_release(&fresh);
        if (read_config(c, vmid, &fresh, e) < 0) {
            rc = -1;
            break;
        }
        cur = &fresh;
    }
    qm_config_release(&fresh);
    if (c->dry_run) {
        return rc;
    }
    /* The read-back decides, whatever qm said. */
    char qm_err[sizeof(e->detail)], list[700];
    enum err_class qcls = e->cls;
    snprintf(qm_err, sizeof(qm_err), "%s", rc < 0 ? e->detail : "");
    if (read_config(c, vmid, after, e) < 0) {
        return -1;
    }
    *read_back = true;
    *changed =
        !before || after->template != before->template || count_base(after) != count_base(before);
    if (!after->template) {
        unconverted(after, only, list, sizeof(list));
        return err_set(e, rc < 0 ? qcls : ERR_QM_FAILED,
                       "VM %" PRIu32 " was not converted (no 'template: 1' in its config; "
                       "disks not converted: %s)%s%s",
                       vmid, *list ? list : "none", rc < 0 ? ": " : "", qm_err);
    }
    if (unconverted(after, only, list, sizeof(list)) > 0) {
        return err_set(e, rc < 0 ? qcls : ERR_QM_FAILED,
                       "VM %" PRIu32 " is marked as a template but these disks were not "
                       "converted to base volumes: %s%s%s",
                       vmid, list, rc < 0 ? "; qm said: " : "", qm_err);
    }
    if (rc < 0) {
        /* qm complained, yet the config is a complete template. */
        cmd_warn(c, "%s; the config read back is a complete template", qm_err);
    }
    return 0;
}

/* ---- audit -------------------------------------------------------------- */

/* Journals one event of ev's action. A record that cannot be written never
 * stops the action: it becomes a warning (once). A dry run records only
 * "dry-run": its plan, or the error it stopped on (never "refused" or "failed":
 * nothing was about to run). */
static void audit(struct ctx *c, struct journal_event *ev, enum journal_result res,
                  const struct err *why)
{
    static bool warned;
    struct err je = {ERR_OK, ""};
    int r = 0;
    switch (res) {
    case JOURNAL_STARTED:
        r = c->dry_run ? 0 : journal_begin(ev, &je);
        break;
    case JOURNAL_SUCCEEDED:
        r = c->dry_run ? journal_dry_run(ev, NULL, &je) : journal_end(ev, NULL, &je);
        break;
    case JOURNAL_FAILED:
        r = c->dry_run ? journal_dry_run_failed(ev, why, &je) : journal_end(ev, why, &je);
        break;
    default:
        r = c->dry_run ? journal_dry_run_failed(ev, why, &je) : journal_refused(ev, why, &je);
        break;
    }
    if (r < 0 && !warned) {
        cmd_warn(c, "%s", je.detail); /* "audit record '<action> <result>' not written: why" */
        warned = true;
    }
}

/* ---- preflight with lock retries --------------------------------------- */

/* Runs the preflight; while only locks fail (a backup or another clone holds
 * the source) it is retried with the same budget as qm's own lock errors, as
 * a lock is transient. done(p), when set, ends the retries early (an already
 * complete template needs no lock). A dry run does not wait. */
static int preflight_retry(struct ctx *c, const struct preflight_req *q, struct preflight *p,
                           bool (*done)(const struct preflight *, const char *), const char *ud,
                           struct err *e)
{
    struct backoff b = {0};
    struct preflight_req now = *q;
    for (;;) {
        int r = preflight_run(c, &now, p, e);
        if (r != 1 || p->failed != p->failed_busy || c->dry_run || (done && done(p, ud))) {
            return r;
        }
        if (!backoff_wait(c, &b, e)) {
            return e->cls == ERR_INTERRUPTED ? -1 : r;
        }
        now.vl = NULL; /* after a wait the cluster's list is read afresh */
        preflight_release(p);
        report_clear_checks(c->rep);
    }
}

/* ---- make-template / clone ------------------------------------------------ */

/* The source as preflight saw it may be stale after the wait for copy slots,
 * or when preflight's concurrent batch waited seconds for its slowest query
 * (pvesm status on a hung NFS storage): started meanwhile, qm clone would
 * copy its live disks (qemu-server API2/Qemu.pm clone_vm: a running source
 * is drive-mirrored). So its state and lock are read again (both at once)
 * right before qm clone, and its hookscript (a foreign one set meanwhile is
 * refused by preflight's rule). A lock is waited for like any other (the
 * slots stay held); a running VM is refused. during: what the run was doing
 * meanwhile, for the messages. Returns 0, or -1 with e set
 * (ERR_PRECONDITION running or foreign hook, ERR_BUSY still locked). */
static int source_still_ready(struct ctx *c, const struct preflight_req *q, const char *during,
                              struct err *e)
{
    uint32_t src = q->src;
    char msg[1024];
    struct backoff b = {0};
    for (;;) {
        struct qm_config cf = {0};
        struct qm_status st = {0};
        int r = -1;
        if (read_config_status(c, src, &cf, &st, e) == 0) {
            if (strcmp(st.status, "stopped") != 0) {
                r = err_set(e, ERR_PRECONDITION,
                            "VM %" PRIu32 " is %s now: it was started while %s; stop it first "
                            "(the procedure copies a powered-off VM)",
                            src, st.status, during);
            } else if (qm_lock_persists(cf.lock)) {
                char hint[300];
                preflight_lock_hint(src, hint, sizeof(hint));
                r = err_set(e, ERR_PRECONDITION,
                            "VM %" PRIu32 " is locked (%s) now: %s; it was locked while %s", src,
                            cf.lock, hint, during);
            } else if (q->hook_storage && !q->replace_hook &&
                       preflight_foreign_hook(c->conf, src, cf.hookscript, false, msg,
                                              sizeof(msg))) {
                /* set while this run waited: preflight's rule, refused the same */
                r = err_set(e, ERR_PRECONDITION, "%s; it was set while %s", msg, during);
            } else if (cf.lock) {
                r = err_set(e, ERR_BUSY, "VM %" PRIu32 " is locked (%s): it was locked while %s",
                            src, cf.lock, during);
            } else {
                r = 0;
            }
        }
        qm_config_release(&cf);
        qm_status_release(&st);
        if (r == 0 || e->cls != ERR_BUSY || !backoff_wait(c, &b, e)) {
            return r;
        }
    }
}

/* The name a clone gets: --name, else qm's default "Copy-of-VM-<source name>". */
static void expected_name(struct ctx *c, const struct request_clone *o, char *buf, size_t len)
{
    struct qm_config src = {0};
    struct err ignore;
    if (o->q.name) {
        snprintf(buf, len, "%s", o->q.name);
    } else if (read_config(c, o->q.src, &src, &ignore) == 0 && src.name) {
        snprintf(buf, len, "Copy-of-VM-%s", src.name);
    } else {
        snprintf(buf, len, "Copy-of-VM-%" PRIu32, o->q.src);
    }
    qm_config_release(&src);
}

/* make-template registers pvetmpl's hookscript on the copy (conf hook on, no
 * --no-hook). */
static bool wants_hook(const struct ctx *c, const struct request_clone *o)
{
    return c->conf->hook && !o->no_hook;
}

/* The command that registers pvetmpl's hookscript on vmid: with
 * --replace-hook when the request had it (a foreign hookscript the copy
 * inherited is refused by hook install without it). */
static void hook_resume_cmd(bool replace, uint32_t vmid, char *buf, size_t len)
{
    snprintf(buf, len, "pvetmpl hook install %" PRIu32 "%s", vmid,
             replace ? " --replace-hook" : "");
}

/* A complete template NEWID of the expected name is what was asked only with
 * pvetmpl's hookscript when the hook is wanted (as hook status judges it:
 * hook_volid_is_ours): an earlier run whose hook did not take must not pass
 * for done. 0, or -1 with e set (ERR_PRECONDITION) naming the state and the
 * resume command. */
static int template_hook_taken(struct ctx *c, const struct request_clone *o, uint32_t newid,
                               const char *node, const struct qm_config *cf, struct err *e)
{
    if (!wants_hook(c, o) ||
        (cf->hookscript && hook_volid_is_ours(cf->hookscript, c->conf->hook_name))) {
        return 0;
    }
    char how[160];
    /* a foreign one there now is replaced only with --replace-hook */
    hook_resume_cmd(o->replace_hook || cf->hookscript, newid, how, sizeof(how));
    bool here = strcmp(node, node_local_name(c->conf)) == 0;
    return err_set(e, ERR_PRECONDITION,
                   "VM %" PRIu32 " is the template '%s', but its hookscript is %s%s%s, not "
                   "pvetmpl's (an earlier run's hook did not take): finish it with '%s'%s%s%s",
                   newid, cf->name ? cf->name : "", cf->hookscript ? "'" : "",
                   cf->hookscript ? cf->hookscript : "none", cf->hookscript ? "'" : "", how,
                   here ? "" : " on node '", here ? "" : node, here ? "" : "'");
}

/* NEWID exists already. Exit 0 unchanged only when it is exactly what was
 * asked for: unlocked, of the expected name, and (make-template) a complete
 * template with pvetmpl's hookscript when the hook is wanted / (clone) not a
 * template. Anything else is 69, naming the holder. */
static int existing_newid(struct ctx *c, const struct request_clone *o, bool make_template,
                          const struct vmlist_entry *ve, struct err *e)
{
    const char *local = node_local_name(c->conf);
    /* make-template --target: the template of an earlier run lives there. */
    bool remote = o->migrate_to && strcmp(ve->node, o->migrate_to) == 0;
    if (strcmp(ve->type, "qemu") != 0 || (strcmp(ve->node, local) != 0 && !remote)) {
        return err_set(e, ERR_PRECONDITION,
                       "VMID %" PRIu32 " is already used by a '%s' guest on node '%s'", o->q.newid,
                       ve->type, ve->node);
    }
    struct qm_config cf = {0};
    char list[700], want[256];
    if ((remote ? node_read_config_file(c->conf, ve->node, o->q.newid, &cf, e)
                : read_config(c, o->q.newid, &cf, e)) < 0) {
        return -1;
    }
    expected_name(c, o, want, sizeof(want));
    const char *nm = cf.name ? cf.name : "";
    bool name_ok = strcmp(nm, want) == 0, unlocked = !cf.lock;
    int rc;
    if (make_template && cf.template && name_ok && unlocked &&
        unconverted(&cf, NULL, list, sizeof(list)) == 0) {
        report_disks(c, &cf, NULL);
        if (template_hook_taken(c, o, o->q.newid, ve->node, &cf, e) < 0) {
            qm_config_release(&cf);
            return -1;
        }
        report_set_msg(c->rep, "VM %" PRIu32 " is already the template '%s'; nothing to do",
                       o->q.newid, nm);
        rc = 0;
    } else if (!make_template && !cf.template && name_ok && unlocked) {
        report_disks(c, &cf, NULL);
        report_set_msg(c->rep, "VM %" PRIu32 " '%s' exists already; nothing to do", o->q.newid, nm);
        rc = 0;
    } else if (make_template && name_ok && unlocked) {
        /* Our own earlier run, interrupted between the copy and the conversion. */
        rc = err_set(e, ERR_PRECONDITION,
                     "VMID %" PRIu32 " is already used by VM '%s', which is not a complete "
                     "template; if it is the copy of an interrupted make-template, finish it "
                     "with 'pvetmpl template %" PRIu32 "'",
                     o->q.newid, nm, o->q.newid);
    } else {
        rc = err_set(e, ERR_PRECONDITION, "VMID %" PRIu32 " is already used by %s '%s'%s%s%s",
                     o->q.newid, cf.template ? "the template" : "VM", nm,
                     cf.lock ? " (locked: " : "", cf.lock ? cf.lock : "", cf.lock ? ")" : "");
    }
    qm_config_release(&cf);
    return rc;
}

/* qm clone with lock retries; a retry never repeats a clone that already
 * created NEWID. *ret_qe: the class of qm's last error. */
static int run_clone(struct ctx *c, const struct request_clone *o, enum qm_error *ret_qe,
                     struct err *e)
{
    struct strv argv = STRV_INIT;
    struct backoff b = {0};
    int r;
    *ret_qe = QM_ERR_NONE;
    if (qmargv_clone(c->conf->qm, &o->q, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (c->dry_run) {
        cmd_record(c, strv_argv(&argv));
        strv_release(&argv);
        return 0;
    }
    cmd_info(c, "copying VM %" PRIu32 " to %" PRIu32 "%s", o->q.src, o->q.newid,
             o->linked ? " (linked clone)" : "");
    for (;;) {
        r = run_once(c, &argv, "qm clone", false, ret_qe, e);
        if (r == 0 || !is_lock_error(*ret_qe)) {
            break;
        }
        if (!newid_still_free(c, o->q.newid)) {
            e->cls = ERR_QM_FAILED; /* it got far enough to create NEWID: no blind retry */
            break;
        }
        if (!backoff_wait(c, &b, e)) {
            break;
        }
    }
    strv_release(&argv);
    return r;
}

/* Appends to e what the failed clone left behind, if anything: pvetmpl never
 * deletes, so it says how to look and how to remove. Returns whether NEWID exists. */
static bool left_behind(struct ctx *c, uint32_t newid, struct err *e)
{
    struct qm_config cf = {0};
    struct err ignore;
    if (read_config(c, newid, &cf, &ignore) < 0) {
        return false;
    }
    char keep[sizeof(e->detail)];
    snprintf(keep, sizeof(keep), "%s", e->detail);
    err_set(e, e->cls,
            "%s; VM %" PRIu32 " was left behind as qm left it%s%s%s: inspect it with 'qm config "
            "%" PRIu32 "' (remove it with 'qm unlock %" PRIu32 "' and 'qm destroy %" PRIu32
            "' if it is unwanted)",
            keep, newid, cf.lock ? " (lock: " : "", cf.lock ? cf.lock : "", cf.lock ? ")" : "",
            newid, newid, newid);
    qm_config_release(&cf);
    return true;
}

/* After what (qm clone, qm migrate) exited 0: is VMID on node now? pmxcfs's
 * .vmlist is the cluster's own answer; an exit status alone is no proof (qm may
 * print garbage and exit 0). Returns 0, or -1 with e set (ERR_QM_FAILED). */
/* keep (when not NULL) receives the list read here: the cluster as it is
 * after the step, for whoever looks at it next. */
static int confirm_on_node(struct ctx *c, uint32_t vmid, const char *node, const char *what,
                           struct vmlist *keep, struct err *e)
{
    struct vmlist vl;
    if (node_load_vmlist(c->conf, &vl, e) < 0) {
        return -1;
    }
    const struct vmlist_entry *ve = vmlist_find(&vl, vmid);
    int r = 0;
    if (!ve) {
        r = err_set(e, ERR_QM_FAILED,
                    "'%s' exited 0 but VM %" PRIu32 " does not exist (not in the cluster's VM "
                    "list)",
                    what, vmid);
    } else if (strcmp(ve->node, node) != 0) {
        r = err_set(e, ERR_QM_FAILED,
                    "'%s' exited 0 but VM %" PRIu32 " is on node '%s', not on '%s'", what, vmid,
                    ve->node, node);
    }
    if (keep && r == 0) {
        vmlist_release(keep);
        *keep = vl;
    } else {
        vmlist_release(&vl);
    }
    return r;
}

/* qm migrate (offline) with lock retries, then the check that the VM is on
 * node now. */
static int migrate(struct ctx *c, uint32_t vmid, const char *node, struct err *e)
{
    struct strv argv = STRV_INIT;
    struct backoff b = {0};
    enum qm_error qe;
    int r;
    if (qmargv_migrate(c->conf->qm, vmid, node, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (c->dry_run) {
        cmd_record(c, strv_argv(&argv));
        strv_release(&argv);
        return 0;
    }
    cmd_info(c, "moving template %" PRIu32 " to node '%s'", vmid, node);
    do {
        r = run_once(c, &argv, "qm migrate", false, &qe, e);
    } while (r < 0 && is_lock_error(qe) && backoff_wait(c, &b, e));
    strv_release(&argv);
    if (r < 0) {
        return -1;
    }
    return confirm_on_node(c, vmid, node, "qm migrate", NULL, e);
}

/* One make-template or clone run: what its steps share. */
struct clone_run {
    const struct request_clone *o;
    bool make_template;
    bool hook; /* make-template registers the hookscript on the copy */
    struct journal_event a;
    struct preflight_req pq;
    struct preflight p;
    struct qm_config cf;   /* the copy's config, read back */
    char storages[512];    /* the source disks' storages, when no --storage */
    int newid_lock;        /* our lock on NEWID (slot.c) */
    int slots[MAX_DRIVES]; /* copy slots held, one per target storage */
    int nslots;
    struct hook_pending hook_set; /* confirmed by the read-back after qm template */
    /* step 2's .vmlist, handed on to preflight (step 3); then the one read
     * after qm clone, handed on to the hook's registration */
    struct vmlist vl;
};

/* Step 1: NEWID is ours to create (no other pvetmpl run is creating it). A
 * dry run changes nothing, so it need not queue behind a real run. A chosen
 * NEWID was claimed with its lock already (choose_newid). */
static int clone_lock_newid(struct ctx *c, struct clone_run *cr, struct err *e)
{
    if (c->dry_run || cr->newid_lock >= 0) {
        return 0;
    }
    return slot_lock_newid(c, cr->o->q.newid, &cr->newid_lock, e);
}

/* Where a VMID is chosen: make-template's template_newid_range; clone's
 * clone_newid_range, else the range Proxmox itself picks automatic VMIDs
 * from (datacenter.cfg next-id, else 100-999999: pve-manager
 * PVE/API2/Cluster.pm 'nextid'), so a clone lands where the web UI's would.
 * desc names it for the messages. */
static int newid_range_of(struct ctx *c, bool make_template, struct newid_range *r, char *desc,
                          size_t len, struct err *e)
{
    const struct conf *cf = c->conf;
    bool found = false;
    if (make_template) {
        *r = (struct newid_range){cf->template_newid_first, cf->template_newid_last};
        snprintf(desc, len, "template_newid_range %" PRIu32 "-%" PRIu32, r->first, r->last);
    } else if (cf->clone_newid_first) {
        *r = (struct newid_range){cf->clone_newid_first, cf->clone_newid_last};
        snprintf(desc, len, "clone_newid_range %" PRIu32 "-%" PRIu32, r->first, r->last);
    } else if (node_read_next_id(cf, r, &found, e) < 0) {
        return -1;
    } else if (found) {
        snprintf(desc, len, "datacenter.cfg's next-id range %" PRIu32 "-%" PRIu32, r->first,
                 r->last);
    } else {
        *r = (struct newid_range){NEWID_PVE_LOWER, NEWID_PVE_UPPER - 1};
        snprintf(desc, len, "Proxmox's next-id range %" PRIu32 "-%" PRIu32, r->first, r->last);
    }
    return 0;
}

/* Step 0, no NEWID given: the lowest VMID of the range that is free in the
 * cluster (.vmlist) and that no other pvetmpl run is creating, claimed with
 * the same per-VMID lock a given NEWID takes (*ret_lock). A VMID whose lock
 * another run holds is skipped, not waited for; once the lock is ours the
 * list is read again, since the run that held it may just have created it.
 * qm clone is preceded by the usual re-check (clone_queue), for whoever
 * outside pvetmpl takes it meanwhile. A dry run claims nothing: it shows the
 * VMID a run would take now. */
static int choose_newid(struct ctx *c, bool make_template, uint32_t *ret_id, int *ret_lock,
                        struct err *e)
{
    struct newid_range r;
    char desc[160];
    if (newid_range_of(c, make_template, &r, desc, sizeof(desc), e) < 0) {
        return -1;
    }
    uint32_t from = r.first;
    for (;;) {
        struct vmlist vl;
        if (node_load_vmlist(c->conf, &vl, e) < 0) {
            return -1;
        }
        uint32_t id = newid_next_free(&vl, &r, from);
        vmlist_release(&vl);
        if (!id) {
            return err_set(e, ERR_PRECONDITION,
                           "no free VMID in %s: each one is used in the cluster or being "
                           "created by another pvetmpl run; give NEWID or widen the range "
                           "in %s",
                           desc, c->conf_path ? c->conf_path : "the configuration");
        }
        int fd = -1, lr = c->dry_run ? 0 : slot_try_lock_newid(c, id, &fd, e);
        if (lr < 0) {
            return -1;
        }
        if (lr == 0 && !c->dry_run) {
            if (node_load_vmlist(c->conf, &vl, e) < 0) {
                slot_release(fd);
                return -1;
            }
            if (vmlist_find(&vl, id)) {
                lr = 1; /* created by the run that held it */
                slot_release(fd);
            }
            vmlist_release(&vl);
        }
        if (lr == 1) {
            from = id + 1;
            continue;
        }
        cmd_info(c, "%s VMID %" PRIu32 ": the lowest free in %s",
                 c->dry_run ? "would use" : "chose", id, desc);
        *ret_id = id;
        *ret_lock = fd;
        return 0;
    }
}

/* Step 2, idempotency: 1 when NEWID exists already (then the answer is
 * there: 0 nothing to do, or e), 0 when it is free, -1 on errors. After the
 * NEWID lock, so a parallel run's result is seen. */
static int clone_existing(struct ctx *c, struct clone_run *cr, struct err *e)
{
    if (node_load_vmlist(c->conf, &cr->vl, e) < 0) {
        return -1;
    }
    const struct vmlist_entry *ve = vmlist_find(&cr->vl, cr->o->q.newid);
    if (!ve) {
        return 0; /* cr->vl: preflight's look at the cluster, the same moment */
    }
    int rc = existing_newid(c, cr->o, cr->make_template, ve, e);
    if (rc < 0) {
        audit(c, &cr->a, JOURNAL_REFUSED, e);
        return -1;
    }
    return 1;
}

/* Step 3: every precondition, locks waited for within c->lock_wait. */
static int clone_preflight(struct ctx *c, struct clone_run *cr, struct err *e)
{
    const struct request_clone *o = cr->o;
    cr->pq = (struct preflight_req){
        .src = o->q.src,
        .newid = o->q.newid,
        .storage = o->q.storage,
        .target = o->q.target ? o->q.target : o->migrate_to,
        .snapname = o->q.snapname,
        .for_template = cr->make_template,
        .linked = o->linked,
        .hook_storage = cr->hook ? c->conf->hook_storage : NULL,
        .pool = o->q.pool,
        .format = o->q.format,
        .replace_hook = o->replace_hook,
        .vl = &cr->vl,
    };
    int r = preflight_retry(c, &cr->pq, &cr->p, NULL, NULL, e);
    cr->pq.vl = NULL; /* handed over: a later gather must read the cluster afresh */
    if (cr->p.src_ok) {
        preflight_warn_pending(c, &cr->p, o->q.src,
                               cr->make_template ? "the template" : "the clone");
    }
    if (r != 0) {
        audit(c, &cr->a, r > 0 ? JOURNAL_REFUSED : JOURNAL_FAILED, e);
        return -1;
    }
    /* Without --storage the copy lands on the source disks' own storages:
     * the audit trail and the report name them. */
    const struct strv *st = &cr->p.storages;
    for (size_t i = 0, off = 0; !o->q.storage && i < st->n && off < sizeof(cr->storages); i++) {
        off += (size_t)snprintf(cr->storages + off, sizeof(cr->storages) - off, "%s%s",
                                i ? "," : "", st->v[i]);
    }
    if (*cr->storages) {
        cr->a.storage = cr->storages;
        report_set_storage(c->rep, cr->storages);
    }
    return 0;
}

/* How old preflight's reading of the source is, in ms (CLOCK_MONOTONIC). */
static long source_read_ms(const struct preflight *p)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - p->src_asked.tv_sec) * 1000 +
           (now.tv_nsec - p->src_asked.tv_nsec) / 1000000;
}

/* A reading of the source older than this is re-read before qm clone. */
#define SOURCE_FRESH_MS 1000

/* Step 4: queue behind other copies onto the same storages (taken in sorted
 * order: no deadlock), then look again at what may have changed meanwhile.
 * A run that did not wait, with preflight's reading of the source younger
 * than SOURCE_FRESH_MS, re-reads nothing of it: asking again would only cost
 * a qm latency. */
static int clone_queue(struct ctx *c, struct clone_run *cr, struct err *e)
{
    struct strv *st = &cr->p.storages;
    bool waited = false;
    if (c->dry_run) {
        return 0;
    }
    for (size_t i = 0; i < st->n; i++) {
        size_t min = i;
        for (size_t k = i + 1; k < st->n; k++) {
            if (strcmp(st->v[k], st->v[min]) < 0) {
                min = k;
            }
        }
        char *t = st->v[i];
        st->v[i] = st->v[min];
        st->v[min] = t;
        if (cr->nslots == MAX_DRIVES) {
            break;
        }
        bool w = false;
        if (slot_acquire_storage(c, st->v[i], &cr->slots[cr->nslots], &w, e) < 0) {
            return -1;
        }
        cr->nslots++;
        waited |= w;
    }
    /* Anyone outside pvetmpl may have taken NEWID while this run waited. */
    if (!newid_still_free(c, cr->o->q.newid)) {
        err_set(e, ERR_PRECONDITION, "VMID %" PRIu32 " was taken while waiting for a copy slot",
                cr->o->q.newid);
        audit(c, &cr->a, JOURNAL_REFUSED, e);
        return -1;
    }
    if ((waited || source_read_ms(&cr->p) > SOURCE_FRESH_MS) &&
        source_still_ready(c, &cr->pq,
                           waited ? "this run waited for a copy slot"
                                  : "this run's checks waited for their slowest query",
                           e) < 0) {
        audit(c, &cr->a,
              e->cls == ERR_PRECONDITION || e->cls == ERR_BUSY ? JOURNAL_REFUSED : JOURNAL_FAILED,
              e);
        return -1;
    }
    return 0;
}

/* Step 5: qm clone, confirmed on the node before anything is built on it. */
static int clone_copy(struct ctx *c, struct clone_run *cr, struct err *e)
{
    const struct request_clone *o = cr->o;
    enum qm_error qe;
    audit(c, &cr->a, JOURNAL_STARTED, NULL);
    if (run_clone(c, o, &qe, e) < 0) {
        if (qe == QM_ERR_EXISTS) {
            e->cls = ERR_PRECONDITION; /* someone else's VM: not ours to describe */
        } else if (spawn_abandoned()) {
            /* qm's worker cleans up after its TERM; nothing can be read now */
            char keep[sizeof(e->detail)];
            snprintf(keep, sizeof(keep), "%s", e->detail);
            err_set(e, e->cls,
                    "%s; VM %" PRIu32 " may still be being cleaned up: check 'qm config %" PRIu32
                    "'",
                    keep, o->q.newid, o->q.newid);
        } else if (!c->dry_run && left_behind(c, o->q.newid, e)) {
            report_set_changed(c->rep, true);
        }
        return -1;
    }
    if (!c->dry_run &&
        confirm_on_node(c, o->q.newid, o->q.target ? o->q.target : node_local_name(c->conf),
                        "qm clone", &cr->vl, e) < 0) {
        return -1;
    }
    report_set_changed(c->rep, !c->dry_run);
    return 0;
}

static void clone_release_slots(struct clone_run *cr)
{
    for (int i = 0; i < cr->nslots; i++) {
        slot_release(cr->slots[i]);
    }
    cr->nslots = 0;
}

/* Step 6 of clone: the copy read back into the report. */
static int clone_report(struct ctx *c, struct clone_run *cr, struct err *e)
{
    const struct request_clone *o = cr->o;
    if (c->dry_run) {
        report_set_msg(c->rep, "would clone VM %" PRIu32 " to %" PRIu32, o->q.src, o->q.newid);
        return 0;
    }
    /* On another node the copy cannot be read back by qm here; its config
     * file in pmxcfs can. */
    if ((o->q.target ? node_read_config_file(c->conf, o->q.target, o->q.newid, &cr->cf, e)
                     : read_config(c, o->q.newid, &cr->cf, e)) < 0) {
        return -1;
    }
    report_disks(c, &cr->cf, &cr->p);
    report_set_name(c->rep, cr->cf.name);
    report_set_msg(c->rep, "VM %" PRIu32 " cloned to %" PRIu32 " '%s'%s%s%s", o->q.src, o->q.newid,
                   cr->cf.name ? cr->cf.name : "", o->q.target ? " on node '" : "",
                   o->q.target ? o->q.target : "", o->q.target ? "'" : "");
    return 0;
}

/* Rewrites e as "<what happened>, but <step> failed: <e's detail>; <how to
 * resume>": a failure after the copy must say what exists now. */
static int resume_err(struct err *e, enum err_class cls, const char *what, const char *how)
{
    char keep[sizeof(e->detail)];
    snprintf(keep, sizeof(keep), "%s", e->detail);
    return err_set(e, cls, "%s: %s; %s", what, keep, how);
}

/* Step 6 of make-template: the hookscript on the copy (planned in a dry run). */
static int clone_hook(struct ctx *c, struct clone_run *cr, struct err *e)
{
    uint32_t newid = cr->o->q.newid;
    if (!cr->hook) {
        return 0;
    }
    /* A dry run plans the hook as hook install does: the file write, qm set.
     * Its node-local warning looks at the cluster as it is after qm clone
     * (a copy slot or a long copy may have taken minutes since preflight). */
    struct hook_known known = *preflight_hook_known(&cr->p);
    if (cr->vl.n) {
        known.vl = &cr->vl; /* not in a dry run: nothing was copied */
    }
    if (hook_register(c, newid, &known, &cr->hook_set, e) < 0) {
        if (c->dry_run) {
            return -1;
        }
        char what[128], how[256], hk[160];
        snprintf(what, sizeof(what),
                 "VM %" PRIu32 " was cloned, but registering the hookscript failed", newid);
        hook_resume_cmd(cr->o->replace_hook, newid, hk, sizeof(hk));
        snprintf(how, sizeof(how), "resume with '%s' and 'pvetmpl template %" PRIu32 "'", hk,
                 newid);
        return resume_err(e, e->cls, what, how);
    }
    return 0;
}

/* Step 7 of make-template: qm template, verified by reading the config back;
 * the same read-back confirms the hookscript qm set just set (step 6), so a
 * failure names both outcomes and what resumes each. */
static int clone_convert(struct ctx *c, struct clone_run *cr, struct err *e)
{
    const struct request_clone *o = cr->o;
    uint32_t newid = o->q.newid;
    bool changed = false, read_back = false;
    if (!c->dry_run) {
        cmd_info(c, "converting VM %" PRIu32 " to a template", newid);
    }
    int rc = convert(c, newid, NULL, NULL, &cr->cf, &changed, &read_back, e);
    struct err he = {ERR_OK, ""};
    int hr = hook_register_confirm(c, newid, &cr->hook_set, read_back ? NULL : e, cr->cf.hookscript,
                                   &he);
    char what[256], how[1200], hk[160];
    hook_resume_cmd(o->replace_hook, newid, hk, sizeof(hk));
    if (rc < 0) {
        snprintf(what, sizeof(what),
                 "VM %" PRIu32 " was cloned from %" PRIu32 ", but converting it to a template "
                 "failed",
                 newid, o->q.src);
        if (hr < 0) {
            snprintf(how, sizeof(how),
                     "the hookscript set is not confirmed either (%s); resume with '%s' and "
                     "'pvetmpl template %" PRIu32 "'",
                     he.detail, hk, newid);
        } else {
            snprintf(how, sizeof(how), "resume with 'pvetmpl template %" PRIu32 "'", newid);
        }
        resume_err(e, e->cls == ERR_OK ? ERR_QM_FAILED : e->cls, what, how);
        report_disks(c, &cr->cf, &cr->p);
        return -1;
    }
    if (hr < 0) {
        snprintf(what, sizeof(what),
                 "template %" PRIu32 " was made from VM %" PRIu32 ", but registering the "
                 "hookscript failed",
                 newid, o->q.src);
        snprintf(how, sizeof(how), "resume with '%s'", hk);
        *e = he;
        resume_err(e, e->cls, what, how);
        report_disks(c, &cr->cf, &cr->p);
        return -1;
    }
    return 0;
}

/* Step 8 of make-template --target: the finished template moved there. */
static int clone_migrate(struct ctx *c, struct clone_run *cr, struct err *e)
{
    const struct request_clone *o = cr->o;
    if (!o->migrate_to || migrate(c, o->q.newid, o->migrate_to, e) == 0) {
        return 0;
    }
    char what[256], how[256];
    snprintf(what, sizeof(what),
             "template %" PRIu32 " was created on this node, but moving it to node '%s' failed",
             o->q.newid, o->migrate_to);
    snprintf(how, sizeof(how), "finish with 'qm migrate %" PRIu32 " %s'", o->q.newid,
             o->migrate_to);
    resume_err(e, e->cls, what, how);
    report_disks(c, &cr->cf, &cr->p);
    return -1;
}

static void template_made_report(struct ctx *c, struct clone_run *cr)
{
    const struct request_clone *o = cr->o;
    if (c->dry_run) {
        report_set_msg(c->rep, "would create template %" PRIu32 " from VM %" PRIu32, o->q.newid,
                       o->q.src);
        return;
    }
    report_disks(c, &cr->cf, &cr->p);
    report_set_name(c->rep, cr->cf.name);
    report_set_msg(c->rep, "template %" PRIu32 " '%s' created from VM %" PRIu32 "%s%s%s",
                   o->q.newid, cr->cf.name ? cr->cf.name : "", o->q.src,
                   o->migrate_to ? " and moved to node '" : "", o->migrate_to ? o->migrate_to : "",
                   o->migrate_to ? "'" : "");
}

/* *ret_newid (when not NULL): the VMID made, given or chosen. */
static int do_clone(struct ctx *c, const struct request_clone *o, bool make_template,
                    uint32_t *ret_newid, struct err *e)
{
    /* clone --target naming this node: qm clone makes a local clone
     * (qemu-server API2/Qemu.pm clone_vm drops a target equal to the local
     * nodename or 'localhost'), so the run checks and confirms a local one. */
    struct request_clone here;
    if (!make_template && o->q.target &&
        preflight_target_is_local(o->q.target, node_local_name(c->conf))) {
        cmd_info(c, "--target '%s' is this node: a local clone, as qm clone makes it", o->q.target);
        here = *o;
        here.q.target = NULL;
        o = &here;
    }
    /* make-template --target naming this node: refused before anything, also
     * before the "already exists" look, so a re-run on a finished template
     * answers as the first run did (preflight's target_node check, the same
     * words). */
    if (make_template && o->migrate_to &&
        preflight_target_is_local(o->migrate_to, node_local_name(c->conf))) {
        struct journal_event ev = {.action = "make-template",
                                   .vmid = o->q.newid,
                                   .source_vmid = o->q.src,
                                   .name = o->q.name,
                                   .storage = o->q.storage};
        preflight_refuse_self_target(c, o->migrate_to, e);
        audit(c, &ev, JOURNAL_REFUSED, e);
        return -1;
    }
    /* No NEWID given: the run goes on as if the chosen one had been. */
    struct request_clone chosen;
    int newid_lock = -1;
    bool automatic = o->q.newid == 0;
    report_set(c->rep, "vmid_auto", json_object_new_boolean(automatic));
    if (automatic) {
        chosen = *o;
        if (choose_newid(c, make_template, &chosen.q.newid, &newid_lock, e) < 0) {
            return -1;
        }
        o = &chosen;
    }
    if (ret_newid) {
        *ret_newid = o->q.newid;
    }
    struct clone_run cr = {
        .o = o,
        .make_template = make_template,
        .hook = make_template && c->conf->hook && !o->no_hook,
        .a =
            {
                .action = make_template ? "make-template" : "clone",
                .vmid = o->q.newid,
                .source_vmid = o->q.src,
                .name = o->q.name,
                .storage = o->q.storage,
            },
        .newid_lock = newid_lock,
    };
    int rc = -1;
    report_set_vmid(c->rep, o->q.newid);
    report_set_source(c->rep, o->q.src);
    report_set_name(c->rep, o->q.name);
    report_set_storage(c->rep, o->q.storage);

    if (clone_lock_newid(c, &cr, e) < 0) {
        goto out;
    }
    int ex = clone_existing(c, &cr, e);
    if (ex != 0) {
        rc = ex > 0 ? 0 : -1; /* refusals are journalled by the step */
        goto out;
    }
    if (clone_preflight(c, &cr, e) < 0 || clone_queue(c, &cr, e) < 0) {
        goto out;
    }
    if (clone_copy(c, &cr, e) < 0) {
        goto fail;
    }
    /* The copy is on the node: later runs queue only for their own copy,
     * not behind this one's hook, conversion and read-back (NEWID's lock
     * stays to the end). */
    clone_release_slots(&cr);
    if (!make_template) {
        if (clone_report(c, &cr, e) < 0) {
            goto fail;
        }
    } else {
        if (clone_hook(c, &cr, e) < 0 || clone_convert(c, &cr, e) < 0 ||
            clone_migrate(c, &cr, e) < 0) {
            goto fail;
        }
        template_made_report(c, &cr);
    }
    audit(c, &cr.a, JOURNAL_SUCCEEDED, NULL);
    rc = 0;
    goto out;
fail:
    audit(c, &cr.a, JOURNAL_FAILED, e);
out:
    clone_release_slots(&cr);
    slot_release(cr.newid_lock);
    preflight_release(&cr.p);
    qm_config_release(&cr.cf);
    vmlist_release(&cr.vl);
    return rc;
}

/* ---- rotation ------------------------------------------------------------ */

#define RETIRED_TAG "pvetmpl-retired"
#define ROTATE_TMP_SUFFIX "-pvetmpl-new"

/* A template that has NAME now (a holder) or was retired from it. */
struct rot_tmpl {
    uint32_t vmid;
    char node[128];
    char name[320];
    char tags[1024]; /* as configured, "" when none */
    char date[16];   /* YYYYMMDD: when it was made (meta ctime), else today */
    size_t n_linked; /* guests with a disk on its base disks (list.c) */
    bool holder;
};

struct rotation {
    const char *name;
    uint32_t newid;
    bool named; /* newid was the complete template NAME already (a re-run) */
    struct rot_tmpl *t;
    size_t n;
};

static bool has_tag(const char *tags, const char *tag)
{
    size_t len = strlen(tag);
    for (const char *p = tags; *p;) {
        size_t n = strcspn(p, ";, ");
        if (n == len && strncasecmp(p, tag, len) == 0) {
            return true;
        }
        p += n;
        p += strspn(p, ";, ");
    }
    return false;
}

/* NAME-YYYYMMDD: the name a retired template of NAME gets. */
static bool is_retired_name(const char *s, const char *name)
{
    size_t len = strlen(name);
    return strncmp(s, name, len) == 0 && s[len] == '-' && strlen(s + len + 1) == 8 &&
           strspn(s + len + 1, "0123456789") == 8;
}

/* The date a template was made, UTC: list's "created" (list.c: the
 * journal's make-template, else the config's meta ctime), else today. The
 * journal comes first because qm clone copies the source's meta line
 * unchanged (qemu-server API2/Qemu.pm clone_vm copies every option it does
 * not handle) and qm template keeps it (API2/Qemu.pm template): a template's
 * own ctime is the day its source VM was made, the same for every rebuild. */
static void creation_date(const struct list_row *row, char *buf, size_t len)
{
    time_t t = row->created_source != LIST_CREATED_NONE ? (time_t)(row->created_us / 1000000) : 0;
    struct tm tm;
    if (t <= 0) {
        t = time(NULL);
    }
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y%m%d", &tm);
}

/* Newest first: by date, then by VMID (a later VMID of one day is newer). */
static int rot_cmp(const void *a, const void *b)
{
    const struct rot_tmpl *x = a, *y = b;
    int d = strcmp(y->date, x->date);
    return d ? d : (y->vmid > x->vmid) - (y->vmid < x->vmid);
}

/* The templates that have NAME (but newid) and those retired from it, from
 * the guests' config files (list.c: one read each, linked clones counted). */
static int rotation_gather(struct ctx *c, struct rotation *rt, struct err *e)
{
    struct list_opts lo = {.hook_name = c->conf->hook_name};
    struct list_result lr = {0};
    struct audit_lineage lin;
    struct err je;
    if (audit_lineage_load(&lin, &je) < 0) {
        cmd_info(c,
                 "cannot read the journal's lineage, so a retired name's date is its config's "
                 "meta ctime (its source VM's, when qm clone made it): %s",
                 je.detail);
    }
    lo.edges = lin.v;
    lo.n_edges = lin.n;
    int k = list_load(c->conf, &lo, c->interrupt, &lr, e);
    audit_lineage_release(&lin);
    if (k < 0) {
        return -1;
    }
    rt->t = calloc(lr.n ? lr.n : 1, sizeof(*rt->t));
    if (!rt->t) {
        list_result_release(&lr);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < lr.n && rc == 0; i++) {
        const struct list_row *row = &lr.rows[i];
        if (!row->name || row->vmid == rt->newid) {
            continue;
        }
        bool holder = strcmp(row->name, rt->name) == 0;
        if (!holder && !is_retired_name(row->name, rt->name)) {
            continue;
        }
        struct qm_config cf = {0};
        if (node_read_config_file(c->conf, row->node, row->vmid, &cf, e) < 0) {
            rc = -1;
            break;
        }
        const char *tags = qm_config_get(&cf, "tags");
        if (holder || (tags && has_tag(tags, RETIRED_TAG))) {
            struct rot_tmpl *t = &rt->t[rt->n++];
            t->vmid = row->vmid;
            t->holder = holder;
            t->n_linked = row->n_linked;
            snprintf(t->node, sizeof(t->node), "%s", row->node);
            snprintf(t->name, sizeof(t->name), "%s", row->name);
            snprintf(t->tags, sizeof(t->tags), "%s", tags ? tags : "");
            if (holder) {
                creation_date(row, t->date, sizeof(t->date));
            } else {
                snprintf(t->date, sizeof(t->date), "%s", row->name + strlen(rt->name) + 1);
            }
        }
        qm_config_release(&cf);
    }
    list_result_release(&lr);
    return rc;
}

/* How many guests' disks are based on template vmid now (list.c), read
 * again just before its destroy: a linked clone made during the build
 * counts. */
static int rotation_linked(struct ctx *c, uint32_t vmid, size_t *ret, struct err *e)
{
    struct list_opts lo = {.hook_name = c->conf->hook_name};
    struct list_result lr = {0};
    if (list_load(c->conf, &lo, c->interrupt, &lr, e) < 0) {
        return -1;
    }
    *ret = 0;
    for (size_t i = 0; i < lr.n; i++) {
        if (lr.rows[i].vmid == vmid) {
            *ret = lr.rows[i].n_linked;
        }
    }
    list_result_release(&lr);
    return 0;
}

/* One qm set/destroy of the rotation: journalled (action, VMID, the name it
 * is about), recorded, and for qm set verified by reading the config file
 * back (qm set may exit 0 without effect). In a dry run only planned. */
static int rotation_step(struct ctx *c, const char *action, uint32_t vmid, const char *node,
                         const char *name, struct strv *argv, const char *want_name, struct err *e)
{
    struct journal_event a = {.action = action, .vmid = vmid, .name = name};
    enum qm_error qe;
    int r;
    if (c->dry_run) {
        cmd_record(c, strv_argv(argv));
        audit(c, &a, JOURNAL_SUCCEEDED, NULL);
        strv_release(argv);
        return 0;
    }
    audit(c, &a, JOURNAL_STARTED, NULL);
    struct backoff b = {0};
    do {
        r = run_once(c, argv, strcmp(action, "rotate-destroy") == 0 ? "qm destroy" : "qm set",
                     false, &qe, e);
    } while (r < 0 && is_lock_error(qe) && backoff_wait(c, &b, e));
    strv_release(argv);
    if (r == 0 && want_name) {
        struct qm_config cf = {0};
        if (node_read_config_file(c->conf, node, vmid, &cf, e) < 0) {
            r = -1;
        } else if (!qm_config_get(&cf, "name") || strcmp(qm_config_get(&cf, "name"), want_name)) {
            r = err_set(e, ERR_QM_FAILED,
                        "'qm set %" PRIu32 " --name %s' exited 0, but the VM's name is '%s'", vmid,
                        want_name, qm_config_get(&cf, "name") ? qm_config_get(&cf, "name") : "");
        }
        qm_config_release(&cf);
    }
    audit(c, &a, r == 0 ? JOURNAL_SUCCEEDED : JOURNAL_FAILED, r == 0 ? NULL : e);
    return r;
}

/* Appends to buf (a list of "VMID 'name'"). */
static void list_add(char *buf, size_t len, uint32_t vmid, const char *name)
{
    size_t off = strlen(buf);
    if (off < len) {
        snprintf(buf + off, len - off, "%s%" PRIu32 " '%s'", off ? ", " : "", vmid, name);
    }
}

/* The hand-over, once the new template is complete under its temporary name.
 *
 * Order: (1) the new template takes NAME, then (2) each template that had
 * NAME is renamed NAME-YYYYMMDD and tagged pvetmpl-retired in one 'qm set'
 * (one config write: it never carries the tag without the new name or the
 * reverse). A name lookup thus never finds none: NAME belongs to a complete
 * template at every instant, first the old, then both, then the new one.
 * Renaming the old first would leave a moment with no template of that name,
 * which breaks a consumer (Terraform, Packer) outright; Proxmox allows two
 * VMs of one name, and in the moment between (1) and (2) a lookup may find
 * both - each a complete, verified template, so either choice works. There is
 * no cross-VM atomic rename in Proxmox (each config is its own pmxcfs file),
 * so this overlap of one qm set per old template is the least possible.
 * (3) With --keep N, retired templates beyond the newest N are destroyed
 * last, only those no guest's disk is based on. */
static int rotation_handover(struct ctx *c, const struct request_clone *r, struct rotation *rt,
                             const char *tmp_name, struct err *e)
{
    struct strv argv = STRV_INIT;
    char retired[2048] = "", pending[2048] = "", destroyed[1024] = "", kept[2048] = "",
         remote[2048] = "";
    struct json_object *jr = json_object_new_object(), *jret = json_object_new_array(),
                       *jdes = json_object_new_array(), *jkept = json_object_new_array(),
                       *jremote = json_object_new_array();
    json_object_object_add(jr, "name", json_object_new_string(rt->name));
    json_object_object_add(jr, "retired", jret);
    json_object_object_add(jr, "destroyed", jdes);
    json_object_object_add(jr, "kept_linked", jkept);
    json_object_object_add(jr, "kept_remote", jremote);
    report_set(c->rep, "rotation", jr);
    /* (1), skipped when a re-run finds it done */
    if (!rt->named && (qmargv_set_name(c->conf->qm, rt->newid, rt->name, NULL, &argv) < 0 ||
                       rotation_step(c, "rotate-rename", rt->newid, node_local_name(c->conf),
                                     rt->name, &argv, rt->name, e) < 0)) {
        char how[512];
        snprintf(how, sizeof(how),
                 "nothing else was changed: the templates named '%s' are as they were; "
                 "finish with 'qm set %" PRIu32 " --name %s' and retire them by hand",
                 rt->name, rt->newid, rt->name);
        char what[800];
        snprintf(what, sizeof(what),
                 "template %" PRIu32 " is complete under the name '%s', but giving it the name "
                 "'%s' failed",
                 rt->newid, tmp_name, rt->name);
        return resume_err(e, e->cls == ERR_OK ? ERR_QM_FAILED : e->cls, what, how);
    }
    report_set_name(c->rep, rt->name);
    bool changed = !rt->named;
    /* (2) */
    for (size_t i = 0; i < rt->n; i++) {
        if (rt->t[i].holder) {
            list_add(pending, sizeof(pending), rt->t[i].vmid, rt->name);
        }
    }
    for (size_t i = 0; i < rt->n; i++) {
        struct rot_tmpl *t = &rt->t[i];
        if (!t->holder) {
            continue;
        }
        char newname[300], tags[1100];
        snprintf(newname, sizeof(newname), "%s-%s", rt->name, t->date);
        snprintf(tags, sizeof(tags), "%s%s" RETIRED_TAG, t->tags, *t->tags ? ";" : "");
        if (qmargv_set_name(c->conf->qm, t->vmid, newname, tags, &argv) < 0 ||
            rotation_step(c, "rotate-retire", t->vmid, t->node, newname, &argv, newname, e) < 0) {
            char what[2600], how[2400];
            snprintf(what, sizeof(what),
                     "template %" PRIu32 " has the name '%s' now; retiring template %" PRIu32
                     " failed",
                     rt->newid, rt->name, t->vmid);
            snprintf(how, sizeof(how),
                     "retired already: %s; still named '%s' (usable, not retired): %s; finish "
                     "with 'qm set %" PRIu32 " --name %s --tags \"%s\"' for each",
                     *retired ? retired : "none", rt->name, pending, t->vmid, newname, tags);
            return resume_err(e, e->cls == ERR_OK ? ERR_QM_FAILED : e->cls, what, how);
        }
        changed = true;
        /* drop it from the pending list: rebuilt from the rest */
        list_add(retired, sizeof(retired), t->vmid, newname);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "vmid", json_object_new_int64(t->vmid));
        json_object_object_add(o, "name", json_object_new_string(newname));
        json_object_array_add(jret, o);
        snprintf(t->name, sizeof(t->name), "%s", newname);
        t->holder = false;
        pending[0] = '\0';
        for (size_t k = i + 1; k < rt->n; k++) {
            if (rt->t[k].holder) {
                list_add(pending, sizeof(pending), rt->t[k].vmid, rt->name);
            }
        }
    }
    /* (3) every template of rt is retired now */
    if (r->have_keep) {
        qsort(rt->t, rt->n, sizeof(*rt->t), rot_cmp);
        for (size_t i = (size_t)r->keep_n; i < rt->n; i++) {
            struct rot_tmpl *t = &rt->t[i];
            /* qm destroys only VMs of this node: one elsewhere is left, named */
            if (strcmp(t->node, node_local_name(c->conf)) != 0) {
                char item[480];
                snprintf(item, sizeof(item), "%s (on node '%s')", t->name, t->node);
                list_add(remote, sizeof(remote), t->vmid, item);
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "vmid", json_object_new_int64(t->vmid));
                json_object_object_add(o, "name", json_object_new_string(t->name));
                json_object_object_add(o, "node", json_object_new_string(t->node));
                json_object_array_add(jremote, o);
                continue;
            }
            if (!c->dry_run && rotation_linked(c, t->vmid, &t->n_linked, e) < 0) {
                char what[900];
                snprintf(what, sizeof(what),
                         "template %" PRIu32 " has the name '%s' and the old ones are retired, "
                         "but counting the linked clones of %" PRIu32 " failed",
                         rt->newid, rt->name, t->vmid);
                return resume_err(e, e->cls, what,
                                  *destroyed ? "some retired templates were destroyed"
                                             : "nothing was destroyed");
            }
            if (t->n_linked) {
                char item[480];
                snprintf(item, sizeof(item), "%s (%zu linked clone%s)", t->name, t->n_linked,
                         t->n_linked == 1 ? "" : "s");
                list_add(kept, sizeof(kept), t->vmid, item);
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "vmid", json_object_new_int64(t->vmid));
                json_object_object_add(o, "name", json_object_new_string(t->name));
                json_object_object_add(o, "linked_clones",
                                       json_object_new_int64((int64_t)t->n_linked));
                json_object_array_add(jkept, o);
                continue;
            }
            int dr =
                qmargv_destroy(c->conf->qm, t->vmid, &argv) < 0
                    ? err_set(e, ERR_INTERNAL, "out of memory")
                    : rotation_step(c, "rotate-destroy", t->vmid, t->node, t->name, &argv, NULL, e);
            /* qm's own refusal (qemu-server QemuServer.pm destroy_vm: "base volume '<volid>'
             * is still in use by linked cloned"): clones list.c cannot see in the volume
             * names (LVM-thin) use it; kept like those it counted */
            if (dr < 0 && strstr(e->detail, "is still in use by linked clone")) {
                char item[480];
                snprintf(item, sizeof(item), "%s (qm destroy: still in use by a linked clone)",
                         t->name);
                list_add(kept, sizeof(kept), t->vmid, item);
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "vmid", json_object_new_int64(t->vmid));
                json_object_object_add(o, "name", json_object_new_string(t->name));
                json_object_object_add(o, "linked_clones", NULL);
                json_object_array_add(jkept, o);
                e->cls = ERR_OK;
                continue;
            }
            if (dr < 0) {
                char what[900], how[1200];
                snprintf(what, sizeof(what),
                         "template %" PRIu32 " has the name '%s' and the old ones are retired, "
                         "but destroying retired template %" PRIu32 " '%s' failed",
                         rt->newid, rt->name, t->vmid, t->name);
                snprintf(how, sizeof(how), "destroyed before it: %s; nothing else is changed",
                         *destroyed ? destroyed : "none");
                return resume_err(e, e->cls == ERR_OK ? ERR_QM_FAILED : e->cls, what, how);
            }
            changed = true;
            list_add(destroyed, sizeof(destroyed), t->vmid, t->name);
            json_object_array_add(jdes, json_object_new_int64(t->vmid));
        }
    }
    report_set_name(c->rep, rt->name);
    report_set_changed(c->rep, changed && !c->dry_run);
    if (!changed) {
        report_set_msg(c->rep, "VM %" PRIu32 " is already the template '%s'; nothing to do%s%s%s%s",
                       rt->newid, rt->name, *kept ? "; kept, linked clones use them: " : "", kept,
                       *remote ? "; kept, on another node (destroy them there): " : "", remote);
        return 0;
    }
    report_set_msg(c->rep,
                   "%s template %" PRIu32 " '%s' %s VM %" PRIu32 "; retired: %s%s%s%s%s%s%s",
                   c->dry_run ? "would rotate:" : "rotated:", rt->newid, rt->name,
                   rt->named ? "(made earlier) from" : "created from", r->q.src,
                   *retired ? retired : "none", *destroyed ? "; destroyed: " : "", destroyed,
                   *kept ? "; kept, linked clones use them: " : "", kept,
                   *remote ? "; kept, on another node (destroy them there): " : "", remote);
    return 0;
}

/* A holder on another node: qm renames only VMs of this node. */
static int rotation_remote_holder(struct ctx *c, const struct rotation *rt, const char *state,
                                  struct err *e)
{
    const char *local = node_local_name(c->conf);
    for (size_t i = 0; i < rt->n; i++) {
        if (rt->t[i].holder && strcmp(rt->t[i].node, local) != 0) {
            return err_set(e, ERR_PRECONDITION,
                           "template %" PRIu32 " '%s' is on node '%s': qm renames only VMs of "
                           "this node; rotate '%s' on node '%s' (%s)",
                           rt->t[i].vmid, rt->name, rt->t[i].node, rt->name, rt->t[i].node, state);
        }
    }
    return 0;
}

/* A re-run with an explicit NEWID: is NEWID the complete, unlocked template
 * NAME already (its rotation done or interrupted after step 1)? Sets
 * rt->named. Such a template without pvetmpl's hookscript (the hook wanted)
 * is refused as make-template refuses it: -1 with e set; else 0. */
static int rotation_done_newid(struct ctx *c, const struct request_clone *r, struct rotation *rt,
                               struct err *e)
{
    struct vmlist vl;
    struct err ignore;
    struct qm_config cf = {0};
    int rc = 0;
    rt->named = false;
    if (!rt->newid || node_load_vmlist(c->conf, &vl, &ignore) < 0) {
        return 0;
    }
    const struct vmlist_entry *ve = vmlist_find(&vl, rt->newid);
    if (ve && strcmp(ve->type, "qemu") == 0 && strcmp(ve->node, node_local_name(c->conf)) == 0 &&
        read_config(c, rt->newid, &cf, &ignore) == 0) {
        char list[8];
        rt->named = cf.template && !cf.lock && cf.name && strcmp(cf.name, rt->name) == 0 &&
                    unconverted(&cf, NULL, list, sizeof(list)) == 0;
        if (rt->named) {
            rc = template_hook_taken(c, r, rt->newid, ve->node, &cf, e);
        }
    }
    qm_config_release(&cf);
    vmlist_release(&vl);
    return rc;
}

/* make-template --rotate: the new template is built and verified under a
 * temporary name by the ordinary make-template run, then NAME is handed over
 * (rotation_handover). Two rotations of one name queue on its lock (plain
 * make-template/clone --name take it too). The holders are gathered again
 * after the build (it takes minutes): one made meanwhile is retired too.
 * Holders must be on this node: qm renames only local VMs. */
static int rotate_run(struct ctx *c, const struct request_clone *r, struct err *e)
{
    struct rotation rt = {.name = r->name};
    char tmp_name[300];
    int lock = -1, rc = -1;
    snprintf(tmp_name, sizeof(tmp_name), "%s" ROTATE_TMP_SUFFIX, r->name);
    if (!c->dry_run && slot_lock_name(c, r->name, &lock, e) < 0) {
        return -1;
    }
    if (r->q.newid) {
        rt.newid = r->q.newid;
    }
    if (rotation_done_newid(c, r, &rt, e) < 0) {
        cmd_info(c, "nothing was renamed: the templates named '%s' are unchanged", r->name);
        goto out;
    }
    if (rotation_gather(c, &rt, e) < 0 ||
        rotation_remote_holder(c, &rt, "nothing was changed", e) < 0) {
        goto out;
    }
    if (!rt.named) {
        struct request_clone b = *r;
        b.name = tmp_name;
        b.q.name = tmp_name;
        if (do_clone(c, &b, true, &rt.newid, e) < 0) {
            char keep[sizeof(e->detail)];
            snprintf(keep, sizeof(keep), "%s", e->detail);
            err_set(e, e->cls, "%s; nothing was renamed: the templates named '%s' are unchanged",
                    keep, r->name);
            /* a refusal's report shows the checks, not e: say it there too */
            cmd_info(c, "nothing was renamed: the templates named '%s' are unchanged", r->name);
            goto out;
        }
        if (!c->dry_run) {
            /* again, after the build: a holder made meanwhile is retired too */
            free(rt.t);
            rt.t = NULL;
            rt.n = 0;
            char what[700];
            snprintf(what, sizeof(what),
                     "template %" PRIu32 " is complete under the name '%s', but nothing was "
                     "renamed",
                     rt.newid, tmp_name);
            if (rotation_gather(c, &rt, e) < 0 ||
                rotation_remote_holder(c, &rt, "nothing was renamed", e) < 0) {
                char how[600];
                snprintf(how, sizeof(how),
                         "the templates named '%s' are unchanged; once the cause is fixed, "
                         "run the same rotation again with NEWID %" PRIu32
                         " (it is not built again)",
                         r->name, rt.newid);
                resume_err(e, e->cls, what, how);
                goto out;
            }
        }
    }
    rc = rotation_handover(c, r, &rt, tmp_name, e);
out:
    free(rt.t);
    slot_release(lock);
    return rc;
}

/* A delegated caller may not give a VM a name another VM has: consumers that
 * look a name up (Terraform, Packer) would pick either, and a grant's name
 * pattern would let a CI account shadow a production template. 69, as any
 * state of the cluster that stands in the way; replacing a template of
 * that name is --rotate (root's). NEWID itself (an earlier run's result)
 * does not count. One read of each VM's config file (node.c), no qm. */
static int name_unused(struct ctx *c, const struct request_clone *r, struct err *e)
{
    struct vmlist vl;
    if (node_load_vmlist(c->conf, &vl, e) < 0) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < vl.n && rc == 0; i++) {
        const struct vmlist_entry *ve = &vl.entries[i];
        struct qm_config cf = {0};
        if (ve->vmid == r->q.newid || strcmp(ve->type, "qemu") != 0) {
            continue;
        }
        if (node_read_config_file(c->conf, ve->node, ve->vmid, &cf, e) < 0) {
            rc = -1;
        } else if (cf.name && strcmp(cf.name, r->name) == 0) {
            rc = err_set(e, ERR_PRECONDITION,
                         "the name '%s' is already used by %s %" PRIu32 " on node '%s'; a "
                         "delegated caller may not make a second VM of one name (choose "
                         "another name; root replaces a template with --rotate)",
                         r->name, cf.template ? "template" : "VM", ve->vmid, ve->node);
            c->denied_field = "name";
        }
        qm_config_release(&cf);
    }
    vmlist_release(&vl);
    return rc;
}

/* A plain run with --name takes the name's lock too: it queues behind a
 * rotation of that name rather than making a holder in the middle of it. */
static int named_run(struct ctx *c, const struct request_clone *r, bool make_template,
                     struct err *e)
{
    int lock = -1;
    if (r->name && !c->dry_run && slot_lock_name(c, r->name, &lock, e) < 0) {
        return -1;
    }
    if (r->name && c->caller && c->caller->delegated && name_unused(c, r, e) < 0) {
        slot_release(lock);
        return -1;
    }
    int rc = do_clone(c, r, make_template, NULL, e);
    slot_release(lock);
    return rc;
}

int cmd_make_template_run(struct ctx *c, const struct request_clone *r, struct err *e)
{
    return r->rotate ? rotate_run(c, r, e) : named_run(c, r, true, e);
}

int cmd_clone_run(struct ctx *c, const struct request_clone *r, struct err *e)
{
    return named_run(c, r, false, e);
}

/* ---- template ------------------------------------------------------------ */

/* A complete template (or, with disk, that disk a base volume): nothing to do. */
static bool is_complete(const struct preflight *p, const char *disk)
{
    char list[8];
    return p->src_ok && p->src_cf.template &&
           unconverted(&p->src_cf, disk, list, sizeof(list)) == 0;
}

/* The outcome of template [--disk D], per disk: what is a base volume now and
 * what is not (qm template --disk converts one disk but marks the whole VM a
 * template). JSON gets "base" and "not_base" (drive names) besides "disks". */
static void report_template(struct ctx *c, uint32_t vmid, const struct qm_config *cf,
                            const char *disk, bool already)
{
    char base[700] = "", rest[700];
    struct json_object *jb = json_object_new_array(), *jn = json_object_new_array();
    for (size_t i = 0, off = 0; i < cf->n_disks; i++) {
        const struct qm_disk *d = &cf->disks[i];
        if (!disk_needs_base(d)) {
            continue;
        }
        json_object_array_add(d->base ? jb : jn, json_object_new_string(d->key));
        if (d->base && off < sizeof(base)) {
            off += (size_t)snprintf(base + off, sizeof(base) - off, "%s%s (%s)", off ? ", " : "",
                                    d->key, d->volume);
        }
    }
    report_set(c->rep, "base", jb);
    report_set(c->rep, "not_base", jn);
    const char *nm = cf->name ? cf->name : "";
    if (unconverted(cf, NULL, rest, sizeof(rest)) == 0) {
        report_set_msg(c->rep, "VM %" PRIu32 " '%s' %s a template%s", vmid, nm,
                       already ? "is already" : "is now", already ? "; nothing to do" : "");
    } else {
        /* Only reachable with --disk: without it, any unconverted disk fails. */
        report_set_msg(c->rep,
                       "VM %" PRIu32 " '%s': disk %s %s a base volume; the VM is marked as a "
                       "template, but only partly converted: base now: %s; not converted: %s "
                       "(convert them with 'pvetmpl template %" PRIu32 "')",
                       vmid, nm, disk, already ? "was already" : "is now", *base ? base : "none",
                       rest, vmid);
    }
}

int cmd_template_run(struct ctx *c, const struct request_template *r, struct err *e)
{
    uint32_t vmid = r->id;
    const char *disk = r->disk;
    report_set_vmid(c->rep, vmid);
    struct journal_event a = {.action = "template", .vmid = vmid};

    /* The same concurrent queries as a clone's preflight, for one VM. */
    struct preflight p = {0};
    struct preflight_req pq = {.src = vmid, .no_storages = true, .in_place = true};
    struct qm_config cf = {0};
    int rc = -1;
    int pr = preflight_retry(c, &pq, &p, is_complete, disk, e);
    if (p.src_ok) {
        preflight_warn_pending(c, &p, vmid, "the template");
    }
    if (pr < 0 || !p.src_ok) {
        audit(c, &a, pr < 0 ? JOURNAL_FAILED : JOURNAL_REFUSED, e);
        goto out;
    }
    a.name = p.src_cf.name;
    report_set_name(c->rep, p.src_cf.name);
    if (disk && !qm_config_get(&p.src_cf, disk)) {
        err_set(e, ERR_PRECONDITION, "VM %" PRIu32 " has no disk '%s'", vmid, disk);
        audit(c, &a, JOURNAL_REFUSED, e);
        goto out;
    }
    /* Idempotent: a complete template is nothing to do, locked or not. */
    if (is_complete(&p, disk)) {
        report_clear_checks(c->rep);
        report_disks(c, &p.src_cf, &p);
        report_template(c, vmid, &p.src_cf, disk, true);
        rc = 0;
        goto out;
    }
    /* On top of the source checks: what qm template needs of the disks to convert. */
    preflight_check(c, &p, "snapshots", !p.src_cf.parent, false,
                    p.src_cf.parent ? "VM %" PRIu32 " has snapshots; qm cannot make a template "
                                      "of it (unable to create template, because VM contains "
                                      "snapshots)"
                                    : "VM %" PRIu32 " has no snapshots",
                    vmid);
    for (size_t i = 0; i < p.src_cf.n_disks; i++) {
        const struct qm_disk *d = &p.src_cf.disks[i];
        if (!disk_needs_base(d) || d->base || (disk && strcmp(disk, d->key) != 0)) {
            continue;
        }
        if (!d->storage) {
            char nm[64];
            snprintf(nm, sizeof(nm), "disk:%s", d->key);
            preflight_check(c, &p, nm, false, false,
                            "disk %s is '%s', not a volume on a storage; it cannot become a "
                            "base volume",
                            d->key, d->volume);
            continue;
        }
        if (!preflight_check_storage(c, &p, d->storage, true, NULL, NULL)) {
            /* Name the disk too: the one in the committed config, the one qm converts. */
            char nm[64];
            snprintf(nm, sizeof(nm), "disk:%s", d->key);
            preflight_check(c, &p, nm, false, false,
                            "disk %s (%s) cannot become a base volume on storage '%s'", d->key,
                            d->volume, d->storage);
        }
    }
    if (p.failed) {
        preflight_fail(&p, e);
        audit(c, &a, JOURNAL_REFUSED, e);
        goto out;
    }
    audit(c, &a, JOURNAL_STARTED, NULL);
    bool changed = false;
    bool read_back = false;
    int cr = convert(c, vmid, &p.src_cf, disk, &cf, &changed, &read_back, e);
    report_set_changed(c->rep, changed);
    if (!c->dry_run && cf.n_kv) {
        report_disks(c, &cf, &p);
    }
    if (cr < 0) {
        audit(c, &a, JOURNAL_FAILED, e);
        goto out;
    }
    if (!c->dry_run) {
        report_template(c, vmid, &cf, disk, false);
    } else if (disk) {
        report_set_msg(c->rep, "would convert disk %s of VM %" PRIu32 " to a base volume", disk,
                       vmid);
    } else {
        report_set_msg(c->rep, "would convert VM %" PRIu32 " to a template", vmid);
    }
    audit(c, &a, JOURNAL_SUCCEEDED, NULL);
    rc = 0;
out:
    preflight_release(&p);
    qm_config_release(&cf);
    return rc;
}
