/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "node.h"

#include "fileread.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int node_run_many(struct ctx *c, size_t n, char *const *const argvs[], struct spawn_result rets[],
                  void (*on_line)(void *, size_t, enum spawn_stream, const char *), void *ud,
                  struct err *e)
{
    struct spawn_opts o = {
        .timeout_ms = c->timeout * 1000,
        .interrupt = c->interrupt,
        .on_line = on_line,
        .ud = ud,
    };
    /* Not root was refused before the run (request_privilege, which every
     * front end passes through request_execute). */
    if (c->interrupt && *c->interrupt) {
        return err_set(e, ERR_INTERRUPTED, "interrupted by signal %d", *c->interrupt);
    }
    int r = spawn_run_many(n, argvs, &o, rets);
    if (r < 0) {
        return err_set(e, ERR_INTERNAL, "cannot run '%s': %s", argvs[0][0], strerror(-r));
    }
    for (size_t i = 0; i < n; i++) {
        const char *prog = argvs[i][0], *sub = argvs[i][1] ? argvs[i][1] : "";
        if (!rets[i].started) {
            err_set(e, ERR_SPAWN, "could not start '%s': %s", prog, strerror(rets[i].exec_errno));
        } else if (rets[i].abandoned) {
            err_set(e, ERR_INTERRUPTED,
                    "'%s %s' was interrupted by signal %d and was still stopping when a second "
                    "signal ended the wait for it",
                    prog, sub, rets[i].interrupted);
        } else if (rets[i].interrupted) {
            err_set(e, ERR_INTERRUPTED, "'%s %s' was interrupted by signal %d", prog, sub,
                    rets[i].interrupted);
        } else if (rets[i].timed_out) {
            err_set(e, ERR_TIMEOUT, "'%s %s' timed out after %ld s and was stopped", prog, sub,
                    c->timeout);
        } else if (rets[i].truncated && !on_line) {
            /* A query's output is parsed whole: a cut one must not parse "fine". */
            err_set(e, ERR_BAD_OUTPUT, "the output of '%s %s' exceeded the size limit", prog, sub);
        } else {
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            spawn_result_release(&rets[k]);
        }
        return -1;
    }
    return 0;
}

int node_run(struct ctx *c, char *const argv[], struct spawn_result *ret, struct err *e)
{
    char *const *argvs[1] = {argv};
    return node_run_many(c, 1, argvs, ret, NULL, NULL, e);
}

int node_query(struct ctx *c, char *const argv[], const char *what, struct spawn_result *ret,
               struct err *e)
{
    if (node_run(c, argv, ret, e) < 0) {
        return -1;
    }
    if (spawn_result_code(ret) != 0) {
        node_fail(ret, what, e);
        spawn_result_release(ret);
        return -1;
    }
    return 0;
}

enum err_class node_error_class(enum qm_error qe)
{
    switch (qe) {
    case QM_ERR_LOCKED:
    case QM_ERR_LOCK_TIMEOUT:
        return ERR_BUSY;
    case QM_ERR_PERMISSION:
        return ERR_PERMISSION;
    case QM_ERR_SUSPENDED: /* waiting cannot help: see qm_classify_error */
    case QM_ERR_NO_POOL:
    /* No such VM here: a precondition, as preflight's source_exists says it
     * (qm exits 2 after its config lookup, before any change). */
    case QM_ERR_NO_CONFIG:
    /* A lost quorum is the cluster's state, not a lock a task will drop:
     * /etc/pve stays read-only until the admin restores the cluster, so
     * retrying for minutes helps no one. */
    case QM_ERR_NO_QUORUM:
        return ERR_PRECONDITION;
    default:
        return ERR_QM_FAILED;
    }
}

const char *node_error_line(const struct spawn_result *r, char *buf, size_t len)
{
    const char *line = NULL;
    qm_classify_task(r->err, r->out, &line);
    if (!line) {
        /* Fall back to the last non-empty stderr line. */
        const char *p = r->err;
        for (const char *q = r->err; *q; q++) {
            if (*q == '\n' && q[1] && q[1] != '\n') {
                p = q + 1;
            }
        }
        line = p;
    }
    size_t k = strcspn(line, "\n");
    if (k >= len) {
        k = len - 1;
    }
    memcpy(buf, line, k);
    buf[k] = '\0';
    if (!*buf) {
        snprintf(buf, len, "no error text");
    }
    return buf;
}

/* What the admin can do about the errors that waiting does not cure. */
static const char *error_hint(enum qm_error qe)
{
    switch (qe) {
    case QM_ERR_SUSPENDED:
        return "; the VM is hibernated and keeps this lock until it is resumed ('qm resume "
               "VMID', then shut it down) or its saved state is discarded ('qm set VMID "
               "--delete vmstate')";
    case QM_ERR_NO_QUORUM:
        return "; the cluster has no quorum ('pvecm status'), so /etc/pve is read-only until "
               "it is back";
    case QM_ERR_NO_POOL:
        return "; create the pool ('pveum pool add POOL') or name an existing one";
    case QM_ERR_NO_CONFIG:
        return "; no such VM on this node";
    default:
        return "";
    }
}

int node_fail(const struct spawn_result *r, const char *what, struct err *e)
{
    char line[768];
    enum qm_error qe = qm_classify_task(r->err, r->out, NULL);
    node_error_line(r, line, sizeof(line));
    if (r->exited) {
        return err_set(e, node_error_class(qe), "'%s' failed (exit %d): %s%s", what, r->status,
                       line, error_hint(qe));
    }
    return err_set(e, ERR_QM_FAILED, "'%s' was killed by signal %d: %s", what, r->signo, line);
}

#define PVE_FILE_MAX (64u << 20)

/* The one reader of pmxcfs files (.vmlist, VM configs, storage.cfg,
 * user.cfg): a whole regular file, never a FIFO or device. pmxcfs (FUSE) can
 * block in open or read while the cluster hangs; pvetmpl installs handlers
 * only for the signals that end a run (main.c), so EINTR there means this run
 * is being interrupted (130), not "the file cannot be read" (69). A missing
 * file is 1, with no error set, when missing_ok. */
static int read_pve_path(const char *path, bool missing_ok, char **ret, size_t *ret_len,
                         struct err *e)
{
    bool cut = false;
    int r = fileread_interruptible(path, PVE_FILE_MAX, ret, ret_len, &cut);
    if (r == -EINTR) {
        return err_set(e, ERR_INTERRUPTED, "interrupted by a signal while reading '%s'", path);
    }
    if (r == -ENOENT && missing_ok) {
        return 1;
    }
    if (r == -ENOMEM) {
        return err_set(e, ERR_INTERNAL, "cannot read '%s': out of memory", path);
    }
    if (r < 0) {
        return err_set(e, ERR_PRECONDITION, "cannot read '%s': %s", path,
                       r == -EINVAL ? "not a regular file" : strerror(-r));
    }
    if (cut) {
        free(*ret);
        *ret = NULL;
        return err_set(e, ERR_PRECONDITION, "cannot read '%s': larger than %u MiB", path,
                       PVE_FILE_MAX >> 20);
    }
    return 0;
}

int node_load_vmlist(const struct conf *cf, struct vmlist *ret, struct err *e)
{
    char *buf;
    size_t len;
    if (read_pve_path(cf->vmlist, false, &buf, &len, e) < 0) {
        return -1;
    }
    int r = vmlist_parse(buf, len, ret);
    free(buf);
    if (r < 0) {
        return err_set(e, ERR_BAD_OUTPUT, "cannot parse the cluster's VM list '%s'", cf->vmlist);
    }
    return 0;
}

int node_load_members(const struct conf *cf, struct vmlist_members *ret, struct err *e)
{
    char path[4096], *buf;
    size_t len;
    snprintf(path, sizeof(path), "%s/.members", cf->pve_dir);
    if (read_pve_path(path, false, &buf, &len, e) < 0) {
        return -1;
    }
    int r = vmlist_members_parse(buf, len, ret);
    free(buf);
    if (r < 0) {
        return err_set(e, r == -ENOMEM ? ERR_INTERNAL : ERR_BAD_OUTPUT,
                       "cannot parse the cluster's member list '%s'", path);
    }
    return 0;
}

int node_read_next_id(const struct conf *cf, struct newid_range *ret, bool *ret_found,
                      struct err *e)
{
    char path[4096], *buf = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/datacenter.cfg", cf->pve_dir);
    *ret_found = false;
    int r = read_pve_path(path, true, &buf, &len, e);
    if (r != 0) {
        return r < 0 ? -1 : 0; /* no datacenter.cfg: Proxmox's defaults */
    }
    r = newid_parse_datacenter(buf, len, ret);
    free(buf);
    if (r < 0) {
        return err_set(e, ERR_PRECONDITION,
                       "cannot parse the 'next-id' line of '%s' (expected "
                       "'next-id: lower=N,upper=M')",
                       path);
    }
    *ret_found = r == 1;
    return 0;
}

int node_read_config_text(const struct conf *cf, const char *node, uint32_t vmid, bool missing_ok,
                          char **ret, size_t *ret_len, struct err *e)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/nodes/%s/qemu-server/%" PRIu32 ".conf", cf->pve_dir, node,
             vmid);
    int r = read_pve_path(path, missing_ok, ret, ret_len, e);
    if (r != 0) {
        return r;
    }
    if (*ret_len > QM_CONF_FILE_MAX) {
        free(*ret);
        *ret = NULL;
        return err_set(e, ERR_BAD_OUTPUT, "'%s' is larger than %d bytes, the most pmxcfs holds",
                       path, QM_CONF_FILE_MAX);
    }
    return 0;
}

int node_read_config_file(const struct conf *cf, const char *node, uint32_t vmid,
                          struct qm_config *ret, struct err *e)
{
    char *buf;
    size_t len;
    if (node_read_config_text(cf, node, vmid, false, &buf, &len, e) < 0) {
        return -1;
    }
    int r = qm_parse_conf_file(buf, len, vmid, false, ret);
    free(buf);
    return r < 0 ? err_set(e, ERR_INTERNAL, "out of memory") : 0;
}

/* A whole file of <pve_dir>; a missing file is empty text. */
static int read_pve_file(const struct conf *cf, const char *name, char **ret, size_t *ret_len,
                         struct err *e)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", cf->pve_dir, name);
    int r = read_pve_path(path, true, ret, ret_len, e);
    if (r <= 0) {
        return r;
    }
    *ret = strdup("");
    *ret_len = 0;
    return *ret ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
}

int node_load_storage_cfg(const struct conf *cf, struct pvecfg_storages *ret, struct err *e)
{
    char *text;
    size_t len;
    memset(ret, 0, sizeof(*ret));
    if (read_pve_file(cf, "storage.cfg", &text, &len, e) < 0) {
        return -1;
    }
    int r = pvecfg_parse_storage(text, len, ret);
    free(text);
    return r < 0 ? err_set(e, ERR_INTERNAL, "out of memory") : 0;
}

int node_pool_exists(const struct conf *cf, const char *pool, bool *ret, struct err *e)
{
    char *text;
    size_t len;
    if (read_pve_file(cf, "user.cfg", &text, &len, e) < 0) {
        return -1;
    }
    *ret = pvecfg_pool_exists(text, len, pool);
    free(text);
    return 0;
}

const char *node_local_name(const struct conf *cf)
{
    static struct utsname u;
    if (cf->node && *cf->node) {
        return cf->node;
    }
    if (!*u.nodename && uname(&u) < 0) {
        return "localhost";
    }
    /* PVE uses the short host name as the node name. */
    char *dot = strchr(u.nodename, '.');
    if (dot) {
        *dot = '\0';
    }
    return u.nodename;
}

int node_sleep(struct ctx *c, long ms, struct err *e)
{
    while (ms > 0) {
        if (c->interrupt && *c->interrupt) {
            return err_set(e, ERR_INTERRUPTED, "interrupted by signal %d", *c->interrupt);
        }
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return 0;
}
