/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "node.h"

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

#include "fileread.h"

#define VMLIST_MAX (64u << 20)

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
    /* qm and pvesm refuse other users ("please run as root"); say so before
     * running anything. Every qm/pvesm call passes here. */
    if (geteuid() != 0) {
        return err_set(e, ERR_PERMISSION,
                       "pvetmpl must run as root: qm and pvesm refuse other users");
    }
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

/* pvetmpl installs handlers only for the signals that interrupt a run
 * (main.c), so EINTR from a blocking call means: stop, this run is being
 * interrupted (130), not "the file cannot be read" (69). */
static int interrupted_reading(const char *path, struct err *e)
{
    return err_set(e, ERR_INTERRUPTED, "interrupted by a signal while reading '%s'", path);
}

int node_load_vmlist(const struct conf *cf, struct vmlist *ret, struct err *e)
{
    /* pmxcfs (FUSE) can block in open or read while the cluster hangs */
    int fd = open(cf->vmlist, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == EINTR) {
        return interrupted_reading(cf->vmlist, e);
    }
    if (fd < 0) {
        return err_set(e, ERR_PRECONDITION, "cannot read the cluster's VM list '%s': %s",
                       cf->vmlist, strerror(errno));
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t k = 0;
    while (buf && (k = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)k;
        if (len + 1 == cap) {
            char *nb = cap < VMLIST_MAX ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int saved = errno;
    close(fd);
    if (!buf) {
        return err_set(e, ERR_INTERNAL, "cannot read '%s': out of memory or too large", cf->vmlist);
    }
    if (k < 0) {
        free(buf);
        if (saved == EINTR) {
            return interrupted_reading(cf->vmlist, e);
        }
        return err_set(e, ERR_PRECONDITION, "cannot read '%s': %s", cf->vmlist, strerror(saved));
    }
    buf[len] = '\0';
    int r = vmlist_parse(buf, len, ret);
    free(buf);
    if (r < 0) {
        return err_set(e, ERR_BAD_OUTPUT, "cannot parse the cluster's VM list '%s'", cf->vmlist);
    }
    return 0;
}

int node_read_config_file(const struct conf *cf, const char *node, uint32_t vmid,
                          struct qm_config *ret, struct err *e)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/nodes/%s/qemu-server/%" PRIu32 ".conf", cf->pve_dir, node,
             vmid);
    char *buf = NULL;
    size_t len = 0;
    bool cut = false;
    int r = fileread_regular(path, QM_CONF_FILE_MAX, &buf, &len, &cut, NULL);
    if (r == -EINTR) {
        return interrupted_reading(path, e);
    }
    if (r < 0) {
        return err_set(e, r == -ENOMEM ? ERR_INTERNAL : ERR_PRECONDITION, "cannot read '%s': %s",
                       path, r == -EINVAL ? "not a regular file" : strerror(-r));
    }
    if (cut) {
        free(buf);
        return err_set(e, ERR_BAD_OUTPUT, "'%s' is larger than %d bytes, the most pmxcfs holds",
                       path, QM_CONF_FILE_MAX);
    }
    r = qm_parse_conf_file(buf, len, vmid, false, ret);
    free(buf);
    return r < 0 ? err_set(e, ERR_INTERNAL, "out of memory") : 0;
}

#define CLUSTER_FILE_MAX (16u << 20)

/* A whole small file of <pve_dir> into a malloc'd NUL-terminated buffer; a
 * missing file is empty text. */
static int read_pve_file(const struct conf *cf, const char *name, char **ret, size_t *ret_len,
                         struct err *e)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", cf->pve_dir, name);
    *ret = NULL;
    *ret_len = 0;
    FILE *f = fopen(path, "re");
    if (!f && errno == ENOENT) {
        *ret = strdup("");
        return *ret ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (!f) {
        return err_set(e, ERR_PRECONDITION, "cannot read '%s': %s", path, strerror(errno));
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    char chunk[8192];
    size_t k;
    while (out && (k = fread(chunk, 1, sizeof(chunk), f)) > 0 && len < CLUSTER_FILE_MAX) {
        fwrite(chunk, 1, k, out);
    }
    bool bad = ferror(f) != 0;
    int saved = errno;
    fclose(f);
    if (!out || fclose(out) != 0) {
        free(buf);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (bad || len >= CLUSTER_FILE_MAX) {
        free(buf);
        return err_set(e, ERR_PRECONDITION, "cannot read '%s': %s", path,
                       bad ? strerror(saved) : "too large");
    }
    *ret = buf;
    *ret_len = len;
    return 0;
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
