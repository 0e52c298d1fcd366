/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "qmargv.h"

#include <errno.h>
#include <inttypes.h>

static int opt(struct strv *sv, const char *name, const char *val)
{
    if (!val) {
        return 0;
    }
    return strv_push(sv, name) < 0 || strv_push(sv, val) < 0 ? -ENOMEM : 0;
}

static int done(struct strv *sv, int r)
{
    if (r < 0) {
        strv_release(sv);
        return -ENOMEM;
    }
    return 0;
}

int qmargv_clone(const char *qm, const struct clone_req *q, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "clone");
    r |= strv_pushf(&sv, "%" PRIu32, q->src);
    r |= strv_pushf(&sv, "%" PRIu32, q->newid);
    r |= strv_push(&sv, "--full");
    r |= strv_push(&sv, q->full ? "1" : "0");
    r |= opt(&sv, "--name", q->name);
    r |= opt(&sv, "--description", q->description);
    r |= opt(&sv, "--pool", q->pool);
    r |= opt(&sv, "--snapname", q->snapname);
    r |= opt(&sv, "--storage", q->storage);
    r |= opt(&sv, "--format", q->format);
    r |= opt(&sv, "--target", q->target);
    if (q->have_bwlimit) {
        r |= strv_push(&sv, "--bwlimit");
        r |= strv_pushf(&sv, "%" PRIu64, q->bwlimit);
    }
    *ret = sv;
    return done(ret, r);
}

int qmargv_template(const char *qm, uint32_t vmid, const char *disk, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "template");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    r |= opt(&sv, "--disk", disk);
    *ret = sv;
    return done(ret, r);
}

int qmargv_migrate(const char *qm, uint32_t vmid, const char *node, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "migrate");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    r |= strv_push(&sv, node);
    *ret = sv;
    return done(ret, r);
}

int qmargv_set_hookscript(const char *qm, uint32_t vmid, const char *volid, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "set");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    r |= volid ? opt(&sv, "--hookscript", volid) : opt(&sv, "--delete", "hookscript");
    *ret = sv;
    return done(ret, r);
}

int qmargv_set_name(const char *qm, uint32_t vmid, const char *name, const char *tags,
                    struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "set");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    r |= opt(&sv, "--name", name);
    if (tags) {
        r |= opt(&sv, "--tags", tags);
    }
    *ret = sv;
    return done(ret, r);
}

int qmargv_destroy(const char *qm, uint32_t vmid, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "destroy");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    *ret = sv;
    return done(ret, r);
}

int qmargv_pvesm_path(const char *pvesm, const char *volid, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, pvesm);
    r |= strv_push(&sv, "path");
    r |= strv_push(&sv, volid);
    *ret = sv;
    return done(ret, r);
}

int qmargv_status(const char *qm, uint32_t vmid, bool verbose, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "status");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    if (verbose) {
        r |= strv_push(&sv, "--verbose");
    }
    *ret = sv;
    return done(ret, r);
}

static int config_argv(const char *qm, uint32_t vmid, const char *snapshot, bool current,
                       struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, qm);
    r |= strv_push(&sv, "config");
    r |= strv_pushf(&sv, "%" PRIu32, vmid);
    r |= opt(&sv, "--snapshot", snapshot);
    if (current) {
        r |= strv_push(&sv, "--current");
    }
    *ret = sv;
    return done(ret, r);
}

int qmargv_config(const char *qm, uint32_t vmid, const char *snapshot, struct strv *ret)
{
    return config_argv(qm, vmid, snapshot, false, ret);
}

int qmargv_config_current(const char *qm, uint32_t vmid, struct strv *ret)
{
    return config_argv(qm, vmid, NULL, true, ret);
}

int qmargv_pvesm_status(const char *pvesm, const char *content, const char *target,
                        struct strv *ret)
{
    struct strv sv = STRV_INIT;
    int r = strv_push(&sv, pvesm);
    r |= strv_push(&sv, "status");
    r |= opt(&sv, "--content", content);
    r |= opt(&sv, "--target", target);
    *ret = sv;
    return done(ret, r);
}
