/* SPDX-License-Identifier: GPL-3.0-or-later */
/* make-template, clone, template: the state-changing commands. Each validates
 * every argument, runs the preflight, then qm with exact argv, and verifies
 * the outcome by reading the config back (qm template exits 0 even when it
 * fails). Nothing is ever deleted on the user's behalf. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "hookreg.h"
#include "journal.h"
#include "node.h"
#include "preflight.h"
#include "progress.h"
#include "qmargv.h"
#include "slot.h"
#include "validate.h"

struct opts {
    uint32_t src, newid;
    struct clone_req q;
    bool no_hook, linked;
};

enum {
    O_NAME = 256,
    O_STORAGE,
    O_FORMAT,
    O_POOL,
    O_TARGET,
    O_DESCRIPTION,
    O_BWLIMIT,
    O_SNAPNAME,
    O_NO_HOOK,
    O_LINKED,
    O_DISK,
    O_HELP,
};

static const char *const help_make_template =
    "usage: pvetmpl [GLOBAL OPTIONS] make-template SRC NEWID [OPTIONS]\n"
    "\n"
    "Full-clone the stopped VM SRC to NEWID, register the pvetmpl hookscript on\n"
    "the copy, convert the copy to a template and verify that every disk became\n"
    "a base volume. SRC is left untouched.\n"
    "\n"
    "  --name NAME            name of the template (DNS name)\n"
    "  --storage STORAGE      target storage (default: each source disk's own)\n"
    "  --format raw|qcow2|vmdk  disk format on file storages\n"
    "  --pool POOL            add the template to this resource pool\n"
    "  --target NODE          create it on another node (shared storage only)\n"
    "  --description TEXT     description (default: the source's)\n"
    "  --bwlimit KIB          copy bandwidth limit in KiB/s\n"
    "  --snapname SNAP        copy from this snapshot of SRC\n"
    "  --no-hook              do not register the hookscript\n";

static const char *const help_clone =
    "usage: pvetmpl [GLOBAL OPTIONS] clone SRC NEWID [OPTIONS] [--linked]\n"
    "\n"
    "Clone the stopped VM (or template) SRC to NEWID after checking every\n"
    "precondition. Full copy by default; --linked makes a linked clone of a\n"
    "template (no --storage/--format then).\n"
    "\n"
    "  options as for make-template (without --no-hook), plus\n"
    "  --linked               linked clone (SRC must be a template)\n";

static const char *const help_template =
    "usage: pvetmpl [GLOBAL OPTIONS] template VMID [--disk DRIVE]\n"
    "\n"
    "Convert the stopped VM VMID to a template and verify the result. Refuses a\n"
    "running or locked VM, a VM with snapshots, and disks on storages that cannot\n"
    "hold base images (qm template would skip them silently). A template whose\n"
    "disks were not all converted is completed disk by disk.\n"
    "\n"
    "  --disk DRIVE           convert only this disk (scsi0, virtio1, efidisk0, ...)\n";

static int usage_err(struct err *e, const char *msg)
{
    return err_set(e, ERR_USAGE, "%s", msg);
}

/* Parses SRC NEWID and the clone options. Returns 1 for --help (printed). */
static int parse_clone_opts(struct ctx *c, int argc, char **argv, bool make_template,
                            struct opts *o, struct err *e)
{
    static const struct option lopts[] = {
        {"name", required_argument, NULL, O_NAME},
        {"storage", required_argument, NULL, O_STORAGE},
        {"format", required_argument, NULL, O_FORMAT},
        {"pool", required_argument, NULL, O_POOL},
        {"target", required_argument, NULL, O_TARGET},
        {"description", required_argument, NULL, O_DESCRIPTION},
        {"bwlimit", required_argument, NULL, O_BWLIMIT},
        {"snapname", required_argument, NULL, O_SNAPNAME},
        {"no-hook", no_argument, NULL, O_NO_HOOK},
        {"linked", no_argument, NULL, O_LINKED},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    char msg[512];
    int ch;
    memset(o, 0, sizeof(*o));
    o->q.full = true;
    optind = 0; /* 0, not 1: fully re-initialises GNU getopt after main's "+" scan */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        const char *a = optarg;
        int r = 0;
        switch (ch) {
        case O_NAME:
            r = validate_dns_name(a, msg, sizeof(msg));
            o->q.name = a;
            break;
        case O_STORAGE:
            r = validate_storage_id(a, msg, sizeof(msg));
            o->q.storage = a;
            break;
        case O_FORMAT:
            r = validate_format(a, msg, sizeof(msg));
            o->q.format = a;
            break;
        case O_POOL:
            r = validate_pool_id(a, msg, sizeof(msg));
            o->q.pool = a;
            break;
        case O_TARGET:
            r = validate_node_name(a, msg, sizeof(msg));
            o->q.target = a;
            break;
        case O_DESCRIPTION:
            r = validate_description(a, msg, sizeof(msg));
            o->q.description = a;
            break;
        case O_BWLIMIT:
            r = validate_bwlimit(a, &o->q.bwlimit, msg, sizeof(msg));
            o->q.have_bwlimit = true;
            break;
        case O_SNAPNAME:
            r = validate_snapshot_name(a, msg, sizeof(msg));
            o->q.snapname = a;
            break;
        case O_NO_HOOK:
            if (!make_template) {
                return err_set(e, ERR_USAGE, "option '--no-hook' is only for make-template");
            }
            o->no_hook = true;
            break;
        case O_LINKED:
            if (make_template) {
                return err_set(e, ERR_USAGE,
                               "option '--linked' is only for clone: a template is always a "
                               "full copy");
            }
            o->linked = true;
            o->q.full = false;
            break;
        case 'h':
        case O_HELP:
            fputs(make_template ? help_make_template : help_clone, stdout);
            return 1;
        case ':':
            return err_set(e, ERR_USAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            return err_set(e, ERR_USAGE, "unknown option '%s' for %s", argv[optind - 1], argv[0]);
        }
        if (r < 0) {
            return usage_err(e, msg);
        }
    }
    if (argc - optind != 2) {
        return err_set(e, ERR_USAGE, "%s needs SRC and NEWID (see 'pvetmpl %s --help')", argv[0],
                       argv[0]);
    }
    if (validate_vmid(argv[optind], &o->src, msg, sizeof(msg)) < 0 ||
        validate_vmid(argv[optind + 1], &o->newid, msg, sizeof(msg)) < 0) {
        return usage_err(e, msg);
    }
    if (o->src == o->newid) {
        return err_set(e, ERR_USAGE, "SRC and NEWID are both %" PRIu32, o->src);
    }
    if (o->linked && (o->q.storage || o->q.format)) {
        return err_set(e, ERR_USAGE,
                       "options '--storage' and '--format' are not allowed for linked clones");
    }
    o->q.src = o->src;
    o->q.newid = o->newid;
    (void)c;
    return 0;
}

/* ---- running qm operations -------------------------------------------- */

/* Whether a lock error may be retried: for clone, only while NEWID does not exist. */
typedef bool (*retry_ok_fn)(struct ctx *c, uint32_t newid);

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

/* Runs a state-changing qm command with progress, retrying qm's lock errors
 * with backoff (lock_retries / lock_retry_max). stderr_decides: qm template
 * exits 0 on failure, so its stderr is classified whatever the status. */
static int run_op(struct ctx *c, const struct strv *argv, const char *what, bool stderr_decides,
                  retry_ok_fn retry_ok, uint32_t newid, struct err *e)
{
    if (c->dry_run) {
        cmd_record(c, strv_argv(argv));
        return 0;
    }
    long waited_ms = 0, backoff_ms = 1000;
    for (long attempt = 0;; attempt++) {
        struct progress pr;
        cmd_record(c, strv_argv(argv)); /* each attempt is a run */
        struct spawn_result r;
        char *const *argvs[1] = {strv_argv(argv)};
        progress_init(&pr, c);
        int rr = node_run_many(c, 1, argvs, &r, progress_line, &pr, e);
        progress_finish(&pr);
        if (rr < 0) {
            return -1;
        }
        enum qm_error qe = qm_classify_error(r.err, NULL);
        bool failed = spawn_result_code(&r) != 0 || (stderr_decides && qe != QM_ERR_NONE);
        if (!failed) {
            spawn_result_release(&r);
            return 0;
        }
        if (!r.exited) {
            node_fail(&r, what, e);
        } else {
            node_fail(&r, what, e);
        }
        spawn_result_release(&r);
        bool lockerr = qe == QM_ERR_LOCKED || qe == QM_ERR_LOCK_TIMEOUT;
        if (!lockerr) {
            return -1;
        }
        if (attempt >= c->conf->lock_retries ||
            waited_ms + backoff_ms > c->conf->lock_retry_max * 1000 ||
            (retry_ok && !retry_ok(c, newid))) {
            e->cls = ERR_BUSY;
            return -1;
        }
        cmd_warn(c, "%s; retrying in %ld s (%ld of %ld)", e->detail, backoff_ms / 1000, attempt + 1,
                 c->conf->lock_retries);
        if (node_sleep(c, backoff_ms, e) < 0) {
            return -1;
        }
        waited_ms += backoff_ms;
        backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
    }
}

/* Reads VMID's config (retrying nothing: a read). */
static int read_config(struct ctx *c, uint32_t vmid, struct qm_config *ret, struct err *e)
{
    struct strv argv = STRV_INIT;
    struct spawn_result r;
    unsigned line = 0;
    if (qmargv_config(c->conf->qm, vmid, NULL, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int rc = node_run(c, strv_argv(&argv), &r, e);
    strv_release(&argv);
    if (rc < 0) {
        return -1;
    }
    if (spawn_result_code(&r) != 0) {
        rc = node_fail(&r, "qm config", e);
    } else if (qm_parse_config(r.out, r.out_len, ret, &line) < 0) {
        rc = err_set(e, ERR_BAD_OUTPUT,
                     "cannot parse the output of 'qm config %" PRIu32 "' (line %u)", vmid, line);
    }
    spawn_result_release(&r);
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

/* The read-back check: template: 1 and every non-CD-ROM disk (or only) a base volume. */
static int verify_template(struct ctx *c, uint32_t vmid, const char *only, const char *qm_err,
                           struct qm_config *cf, struct err *e)
{
    char list[700];
    if (read_config(c, vmid, cf, e) < 0) {
        return -1;
    }
    if (!cf->template) {
        return err_set(e, ERR_QM_FAILED,
                       "'qm template %" PRIu32 "' did not convert VM %" PRIu32
                       " (no 'template: 1' in its config)%s%s",
                       vmid, vmid, qm_err ? ": " : "", qm_err ? qm_err : "");
    }
    if (unconverted(cf, only, list, sizeof(list)) > 0) {
        return err_set(e, ERR_QM_FAILED,
                       "VM %" PRIu32 " is marked as a template but these disks were not "
                       "converted to base volumes: %s",
                       vmid, list);
    }
    return 0;
}

/* Runs qm template (or, for a half-converted template, qm template --disk for
 * each remaining disk), then verifies. */
static int convert(struct ctx *c, uint32_t vmid, const struct qm_config *before, const char *only,
                   struct err *e)
{
    struct strv argv = STRV_INIT;
    int rc = 0;
    if (before && before->template) {
        for (size_t i = 0; rc == 0 && i < before->n_disks; i++) {
            const struct qm_disk *d = &before->disks[i];
            if (!disk_needs_base(d) || d->base || (only && strcmp(only, d->key) != 0)) {
                continue;
            }
            if (qmargv_template(c->conf->qm, vmid, d->key, &argv) < 0) {
                return err_set(e, ERR_INTERNAL, "out of memory");
            }
            rc = run_op(c, &argv, "qm template --disk", true, NULL, 0, e);
            strv_release(&argv);
        }
    } else {
        if (qmargv_template(c->conf->qm, vmid, only, &argv) < 0) {
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
        rc = run_op(c, &argv, "qm template", true, NULL, 0, e);
        strv_release(&argv);
    }
    return rc;
}

/* ---- audit -------------------------------------------------------------- */

/* Journals one event of ev's action. A record that cannot be written never
 * stops the action: it becomes a warning (once). A dry run records only its
 * refusal or its plan. */
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
        r = journal_end(ev, why, &je);
        break;
    default:
        r = journal_refused(ev, why, &je);
        break;
    }
    if (r < 0 && !warned) {
        cmd_warn(c, "the audit record was not written: %s", je.detail);
        warned = true;
    }
}

/* ---- make-template / clone ------------------------------------------------ */

/* NEWID exists already. Exit 0 unchanged when it is what was asked for. */
static int existing_newid(struct ctx *c, const struct opts *o, bool make_template,
                          const struct vmlist_entry *ve, struct err *e)
{
    const char *local = node_local_name(c->conf);
    if (strcmp(ve->type, "qemu") != 0 || strcmp(ve->node, local) != 0) {
        return err_set(e, ERR_PRECONDITION,
                       "VMID %" PRIu32 " is already used by a '%s' guest on node '%s'", o->newid,
                       ve->type, ve->node);
    }
    struct qm_config cf = {0};
    char list[700];
    if (read_config(c, o->newid, &cf, e) < 0) {
        return -1;
    }
    const char *nm = cf.name ? cf.name : "";
    int rc;
    bool name_ok = !o->q.name || strcmp(nm, o->q.name) == 0;
    if (make_template && cf.template && name_ok &&
        unconverted(&cf, NULL, list, sizeof(list)) == 0) {
        report_disks(c, &cf, NULL);
        report_set_msg(c->rep, "VM %" PRIu32 " is already the template '%s'; nothing to do",
                       o->newid, nm);
        rc = 0;
    } else if (!make_template && !cf.template && name_ok && o->q.name) {
        report_set_msg(c->rep, "VM %" PRIu32 " '%s' exists already; nothing to do", o->newid, nm);
        rc = 0;
    } else if (make_template && !cf.template && name_ok && !cf.lock) {
        rc = err_set(e, ERR_PRECONDITION,
                     "VMID %" PRIu32 " is already used by VM '%s', which is not a template; if "
                     "it is the copy of an interrupted make-template, finish it with "
                     "'pvetmpl template %" PRIu32 "'",
                     o->newid, nm, o->newid);
    } else {
        rc = err_set(e, ERR_PRECONDITION, "VMID %" PRIu32 " is already used by %s '%s'%s%s%s",
                     o->newid, cf.template ? "the template" : "VM", nm, cf.lock ? " (locked: " : "",
                     cf.lock ? cf.lock : "", cf.lock ? ")" : "");
    }
    qm_config_release(&cf);
    return rc;
}

static int do_clone(struct ctx *c, int argc, char **argv, bool make_template, struct err *e)
{
    struct opts o;
    int r = parse_clone_opts(c, argc, argv, make_template, &o, e);
    if (r != 0) {
        return r > 0 ? 0 : -1;
    }
    struct journal_event a = {
        .action = make_template ? "make-template" : "clone",
        .vmid = o.newid,
        .source_vmid = o.src,
        .name = o.q.name,
        .storage = o.q.storage,
    };
    report_set_vmid(c->rep, o.newid);
    report_set_source(c->rep, o.src);
    report_set_name(c->rep, o.q.name);
    report_set_storage(c->rep, o.q.storage);
    bool hook = make_template && c->conf->hook && !o.no_hook;

    int newid_lock = -1, slots[64], nslots = 0, rc = -1;
    struct preflight p = {0};
    struct qm_config cf = {0};
    if (slot_lock_newid(c, o.newid, &newid_lock, e) < 0) {
        return -1;
    }
    /* Idempotency: after taking the NEWID lock, so a parallel run's result is seen. */
    struct vmlist vl;
    if (node_load_vmlist(c->conf, &vl, e) < 0) {
        goto out;
    }
    const struct vmlist_entry *ve = vmlist_find(&vl, o.newid);
    if (ve) {
        rc = existing_newid(c, &o, make_template, ve, e);
        vmlist_release(&vl);
        if (rc < 0) {
            audit(c, &a, JOURNAL_REFUSED, e);
        }
        goto out;
    }
    vmlist_release(&vl);

    struct preflight_req pq = {
        .src = o.src,
        .newid = o.newid,
        .storage = o.q.storage,
        .target = o.q.target,
        .snapname = o.q.snapname,
        .for_template = make_template,
        .linked = o.linked,
        .hook_storage = hook ? c->conf->hook_storage : NULL,
    };
    r = preflight_run(c, &pq, &p, e);
    if (r != 0) {
        audit(c, &a, r > 0 ? JOURNAL_REFUSED : JOURNAL_FAILED, e);
        goto out;
    }
    if (!o.q.name && p.src_cf.name) {
        report_set_name(c->rep, NULL);
    }

    /* Queue behind other copies onto the same storages (sorted: no deadlock). */
    for (size_t i = 0; i < p.storages.n && nslots < 64; i++) {
        size_t min = i;
        for (size_t k = i + 1; k < p.storages.n; k++) {
            if (strcmp(p.storages.v[k], p.storages.v[min]) < 0) {
                min = k;
            }
        }
        char *t = p.storages.v[i];
        p.storages.v[i] = p.storages.v[min];
        p.storages.v[min] = t;
        if (!c->dry_run && slot_acquire_storage(c, p.storages.v[i], &slots[nslots], e) < 0) {
            goto out;
        }
        nslots += !c->dry_run;
    }

    audit(c, &a, JOURNAL_STARTED, NULL);
    struct strv cargv = STRV_INIT;
    if (qmargv_clone(c->conf->qm, &o.q, &cargv) < 0) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto fail;
    }
    cmd_info(c, "copying VM %" PRIu32 " to %" PRIu32 "%s", o.src, o.newid,
             o.linked ? " (linked clone)" : "");
    r = run_op(c, &cargv, "qm clone", false, newid_still_free, o.newid, e);
    strv_release(&cargv);
    if (r < 0) {
        if (!c->dry_run && !newid_still_free(c, o.newid)) {
            /* Keep the half-made VM: never delete on the user's behalf. */
            char keep[sizeof(e->detail)];
            snprintf(keep, sizeof(keep), "%s", e->detail);
            err_set(e, e->cls,
                    "%s; VM %" PRIu32 " was left behind as qm left it: inspect it with 'qm "
                    "config %" PRIu32 "' (remove it with 'qm unlock %" PRIu32 "' and 'qm destroy "
                    "%" PRIu32 "' if it is unwanted)",
                    keep, o.newid, o.newid, o.newid, o.newid);
        }
        goto fail;
    }
    if (!make_template) {
        if (!c->dry_run) {
            if (read_config(c, o.newid, &cf, e) < 0) {
                goto fail;
            }
            report_disks(c, &cf, &p);
            report_set_changed(c->rep, true);
            report_set_msg(c->rep, "VM %" PRIu32 " cloned to %" PRIu32 " '%s'", o.src, o.newid,
                           cf.name ? cf.name : "");
        } else {
            report_set_msg(c->rep, "would clone VM %" PRIu32 " to %" PRIu32, o.src, o.newid);
        }
        audit(c, &a, JOURNAL_SUCCEEDED, NULL);
        rc = 0;
        goto out;
    }
    if (hook && c->dry_run) {
        /* The copy does not exist yet, so hook_register cannot inspect it: plan its change. */
        char volid[512];
        struct strv hargv = STRV_INIT;
        if (hook_volid(c->conf->hook_storage, c->conf->hook_name, volid, sizeof(volid)) < 0 ||
            hook_argv_qm_set(c->conf, o.newid, volid, &hargv) < 0) {
            err_set(e, ERR_INTERNAL, "cannot build the hookscript command");
            goto fail;
        }
        cmd_record(c, strv_argv(&hargv));
        strv_release(&hargv);
    } else if (hook && hook_register(c, o.newid, e) < 0) {
        char keep[sizeof(e->detail)];
        snprintf(keep, sizeof(keep), "%s", e->detail);
        err_set(e, e->cls,
                "VM %" PRIu32 " was cloned, but registering the hookscript failed: %s; resume "
                "with 'pvetmpl hook install %" PRIu32 "' and 'pvetmpl template %" PRIu32 "'",
                o.newid, keep, o.newid, o.newid);
        goto fail;
    }
    cmd_info(c, "converting VM %" PRIu32 " to a template", o.newid);
    if (convert(c, o.newid, NULL, NULL, e) < 0 ||
        (!c->dry_run && verify_template(c, o.newid, NULL, NULL, &cf, e) < 0)) {
        char keep[sizeof(e->detail)];
        snprintf(keep, sizeof(keep), "%s", e->detail);
        err_set(e, e->cls == ERR_OK ? ERR_QM_FAILED : e->cls,
                "VM %" PRIu32 " was cloned from %" PRIu32 ", but converting it to a template "
                "failed: %s; resume with 'pvetmpl template %" PRIu32 "'",
                o.newid, o.src, keep, o.newid);
        if (cf.n_kv) {
            report_disks(c, &cf, &p);
        }
        goto fail;
    }
    if (!c->dry_run) {
        report_disks(c, &cf, &p);
        report_set_changed(c->rep, true);
        report_set_name(c->rep, cf.name);
        report_set_msg(c->rep, "template %" PRIu32 " '%s' created from VM %" PRIu32, o.newid,
                       cf.name ? cf.name : "", o.src);
    } else {
        report_set_msg(c->rep, "would create template %" PRIu32 " from VM %" PRIu32, o.newid,
                       o.src);
    }
    audit(c, &a, JOURNAL_SUCCEEDED, NULL);
    rc = 0;
    goto out;
fail:
    audit(c, &a, JOURNAL_FAILED, e);
out:
    for (int i = 0; i < nslots; i++) {
        slot_release(slots[i]);
    }
    slot_release(newid_lock);
    preflight_release(&p);
    qm_config_release(&cf);
    return rc;
}

int cmd_make_template(struct ctx *c, int argc, char **argv, struct err *e)
{
    return do_clone(c, argc, argv, true, e);
}

int cmd_clone(struct ctx *c, int argc, char **argv, struct err *e)
{
    return do_clone(c, argc, argv, false, e);
}

/* ---- template ------------------------------------------------------------ */

int cmd_template(struct ctx *c, int argc, char **argv, struct err *e)
{
    static const struct option lopts[] = {
        {"disk", required_argument, NULL, O_DISK},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *disk = NULL;
    char msg[512];
    uint32_t vmid;
    int ch;
    optind = 0; /* 0, not 1: fully re-initialises GNU getopt after main's "+" scan */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        switch (ch) {
        case O_DISK:
            if (validate_drive(optarg, msg, sizeof(msg)) < 0) {
                return usage_err(e, msg);
            }
            disk = optarg;
            break;
        case 'h':
        case O_HELP:
            fputs(help_template, stdout);
            return 0;
        case ':':
            return err_set(e, ERR_USAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            return err_set(e, ERR_USAGE, "unknown option '%s' for template", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        return err_set(e, ERR_USAGE, "template needs one VMID (see 'pvetmpl template --help')");
    }
    if (validate_vmid(argv[optind], &vmid, msg, sizeof(msg)) < 0) {
        return usage_err(e, msg);
    }
    report_set_vmid(c->rep, vmid);
    struct journal_event a = {.action = "template", .vmid = vmid};

    /* The same concurrent queries as a clone's preflight, for one VM. */
    struct preflight p = {0};
    struct preflight_req pq = {.src = vmid, .no_storages = true};
    struct qm_config cf = {0};
    char list[700];
    int rc = -1;
    int pr = preflight_run(c, &pq, &p, e);
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
    /* Idempotent: a complete template is nothing to do. */
    if (p.src_cf.template && unconverted(&p.src_cf, disk, list, sizeof(list)) == 0) {
        report_disks(c, &p.src_cf, &p);
        report_set_msg(c->rep, "VM %" PRIu32 " is already a template; nothing to do", vmid);
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
        preflight_check_storage(c, &p, d->storage, true, NULL, NULL);
    }
    if (p.failed) {
        preflight_fail(&p, e);
        audit(c, &a, JOURNAL_REFUSED, e);
        goto out;
    }
    audit(c, &a, JOURNAL_STARTED, NULL);
    if (convert(c, vmid, &p.src_cf, disk, e) < 0 ||
        (!c->dry_run && verify_template(c, vmid, disk, NULL, &cf, e) < 0)) {
        if (cf.n_kv) {
            report_disks(c, &cf, &p);
        }
        audit(c, &a, JOURNAL_FAILED, e);
        goto out;
    }
    if (!c->dry_run) {
        report_disks(c, &cf, &p);
        report_set_changed(c->rep, true);
        report_set_msg(c->rep, "VM %" PRIu32 " '%s' is now a template", vmid,
                       cf.name ? cf.name : "");
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
