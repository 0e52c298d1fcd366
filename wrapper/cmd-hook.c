/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl hook install|remove|status VMID... [--storage STORAGE]
 *
 * install: copies hook_binary to the path `pvesm path <storage>:snippets/
 * <hook_name>` names (atomically, mode 0755, untouched when identical), then
 * `qm set VMID --hookscript <volid>` for each VM that does not have it yet.
 * remove: `qm set VMID --delete hookscript`, only when it is ours.
 * status: which hookscript each VM has, whether the file is our binary, and
 * the config that hook uses with its policy (conf_hook_load, the hook's own).
 * Every change writes journal audit events (actions "hook-file",
 * "hook-install", "hook-remove").
 *
 * cmd_hook_run takes the validated request and puts one row per VM into the
 * report ("vms"); cmd_hook_draw draws status's rows for a person. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "cmd.h"
#include "fileread.h"
#include "conf.h"
#include "hookreg.h"
#include "qmargv.h"
#include "grow.h"
#include "journal.h"
#include "list.h"
#include "node.h"
#include "pvesm.h"
#include "qm.h"
#include "safepath.h"
#include "suggest.h"
#include "termtext.h"
#include "validate.h"
#include "vmlist.h"

#define HOOK_BINARY_MAX (64u << 20)

/* The hook file as placed on the storage. */
struct placed {
    char volid[512];
    char path[PATH_MAX];
    bool changed;
};

static void warn_journal(struct ctx *c, const struct err *je)
{
    cmd_warn(c, "%s", je->detail);
}

/* Journals ev as refused by why; a dry run's record is "dry-run" with that
 * outcome (nothing was about to run). -1 when the record was not written
 * (warned). */
static int journal_refusal(struct ctx *c, const struct journal_event *ev, const struct err *why)
{
    struct err je;
    if ((c->dry_run ? journal_dry_run_failed(ev, why, &je) : journal_refused(ev, why, &je)) < 0) {
        warn_journal(c, &je);
        return -1;
    }
    return 0;
}

/* A whole file of at most HOOK_BINARY_MAX bytes, read as every file root
 * reads here is (fileread_regular: regular files only, a FIFO never blocks
 * us). Returns 0, or -errno: -EFBIG when larger, -EINVAL when not regular. */
static int read_all(const char *path, char **ret, size_t *ret_len, struct stat *ret_st)
{
    bool cut = false;
    int r = fileread_regular(path, HOOK_BINARY_MAX, ret, ret_len, &cut, ret_st);
    if (r == 0 && cut) {
        free(*ret);
        *ret = NULL;
        return -EFBIG;
    }
    return r;
}

/* Creates a new file "<dir>/.<base>.XXXXXX" relative to dfd, as mkostemp
 * does but never through a symlink. Its fd, or -1 with errno; tmp gets the
 * name. */
static int create_temp(int dfd, const char *base, char *tmp, size_t size)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int tries = 0; tries < 100; tries++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
            return -1;
        }
        char suffix[sizeof(rnd) + 1];
        for (size_t i = 0; i < sizeof(rnd); i++) {
            suffix[i] = set[rnd[i] % (sizeof(set) - 1)];
        }
        suffix[sizeof(rnd)] = '\0';
        if (snprintf(tmp, size, ".%s.%s", base, suffix) >= (int)size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) {
            return fd;
        }
    }
    errno = EEXIST;
    return -1;
}

/* The directory of the hook file path, into dir. 0, or -1 with e. */
static int hook_dir(const char *path, char *dir, size_t size, struct err *e)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
        return err_set(e, ERR_PRECONDITION, "unexpected hook path '%s'", path);
    }
    snprintf(dir, size, "%.*s", (int)(slash - path), path);
    return 0;
}

/* Writes data to path through a temporary file in the same directory, so a
 * hook that Proxmox executes at any moment is either the old or the new one.
 * Root executes the result: the directory must be one nobody else could
 * write to, along its whole path (safepath.h), or someone could rename their
 * own file over the hook; everything after that walk is relative to its fd,
 * so no symlink swapped in later is followed. */
static int write_atomic(const char *path, const char *data, size_t len, struct err *e)
{
    char dir[PATH_MAX], tmp[NAME_MAX + 1];
    if (hook_dir(path, dir, sizeof(dir), e) < 0) {
        return -1;
    }
    const char *base = strrchr(path, '/') + 1;
    int dfd;
    if (safepath_open_dir(dir, "snippets directory", 0755, &dfd, e) < 0) {
        return -1;
    }
    int fd = create_temp(dfd, base, tmp, sizeof(tmp));
    if (fd < 0) {
        int saved = errno;
        close(dfd);
        return err_set(e, ERR_PRECONDITION, "cannot create a file in '%s': %s", dir,
                       strerror(saved));
    }
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k == 0) {
            errno = EIO; /* no progress and no error: errno would be stale */
        }
        if (k <= 0) {
            goto fail;
        }
        off += (size_t)k;
    }
    if (fchmod(fd, 0755) < 0 || fsync(fd) < 0) {
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, base) < 0) {
        goto fail;
    }
    (void)fsync(dfd); /* make the rename itself durable */
    close(dfd);
    return 0;
fail:;
    int saved = errno;
    if (fd >= 0) {
        close(fd);
    }
    unlinkat(dfd, tmp, 0);
    close(dfd);
    return err_set(e, ERR_PRECONDITION, "cannot write '%s': %s", path, strerror(saved));
}

/* Runs a state-changing command, or only records it in a dry run. */
static int change(struct ctx *c, struct strv *argv, const char *what, struct err *e)
{
    cmd_record(c, strv_argv(argv));
    if (c->dry_run) {
        return 0;
    }
    struct spawn_result res;
    if (node_run(c, strv_argv(argv), &res, e) < 0) {
        return -1;
    }
    int r = spawn_result_code(&res) == 0 ? 0 : node_fail(&res, what, e);
    spawn_result_release(&res);
    return r;
}

static int vm_hookscript(struct ctx *c, uint32_t vmid, char *buf, size_t len, bool *ret_has,
                         struct err *e);

/* qm set may exit 0 without effect: VMID's committed config is read back and
 * must show the hookscript want (NULL: none) before the change counts. The
 * committed one, also for a running VM: hookscript is a "fast plug" option,
 * applied at once, never left pending (qemu-server QemuServer.pm
 * $fast_plug_option). */
static int hookscript_reads_back(uint32_t vmid, const char *want, bool has, const char *cur,
                                 const char *what, struct err *e)
{
    if (want ? has && strcmp(cur, want) == 0 : !has) {
        return 0;
    }
    char got[600], wanted[600];
    snprintf(got, sizeof(got), has ? "'hookscript: %s'" : "no hookscript", cur);
    snprintf(wanted, sizeof(wanted), want ? "'hookscript: %s'" : "no hookscript", want ? want : "");
    return err_set(e, ERR_QM_FAILED,
                   "'%s' exited 0, but the config of VM %" PRIu32 " reads back %s, not %s", what,
                   vmid, got, wanted);
}

static int confirm_hookscript(struct ctx *c, uint32_t vmid, const char *want, const char *what,
                              struct err *e)
{
    char cur[512];
    bool has = false;
    if (vm_hookscript(c, vmid, cur, sizeof(cur), &has, e) < 0) {
        return -1;
    }
    return hookscript_reads_back(vmid, want, has, cur, what, e);
}

/* A change of VMID's hookscript to want (NULL: removed) with its journal
 * records: "dry-run", or "started" then "succeeded"/"failed", succeeded only
 * once the config read back shows it. An unwritten record is only a warning. */
static int journalled_change(struct ctx *c, struct journal_event *ev, struct strv *argv,
                             const char *what, uint32_t vmid, const char *want,
                             struct hook_pending *defer, struct err *e)
{
    struct err je;
    if (c->dry_run) {
        char *q = strv_join_quoted(strv_argv(argv));
        if (journal_dry_run(ev, q, &je) < 0) {
            warn_journal(c, &je);
        }
        free(q);
        return change(c, argv, what, e);
    }
    if (journal_begin(ev, &je) < 0) {
        warn_journal(c, &je);
    }
    int r = change(c, argv, what, e);
    if (r == 0 && defer) {
        /* the caller's read-back decides (hook_register_confirm) */
        defer->active = true;
        snprintf(defer->volid, sizeof(defer->volid), "%s", want);
        defer->ev = *ev;
        defer->ev.volid = defer->volid;
        return 0;
    }
    if (r == 0) {
        r = confirm_hookscript(c, vmid, want, what, e);
    }
    if (journal_end(ev, r < 0 ? e : NULL, &je) < 0) {
        warn_journal(c, &je);
    }
    return r;
}

/* Checks the storage exists, is usable and file-based; its type into type.
 * known: `pvesm status` as make-template's preflight read it, or NULL. */
static int check_storage(struct ctx *c, const char *storage, const struct pvesm_status *known,
                         char *type, size_t type_len, struct err *e)
{
    struct pvesm_status st = {0};
    if (!known) {
        struct strv argv = STRV_INIT;
        struct spawn_result res;
        if (qmargv_pvesm_status(c->conf->pvesm, NULL, NULL, &argv) < 0) {
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
        int q = node_query(c, strv_argv(&argv), "pvesm status", &res, e);
        strv_release(&argv);
        if (q < 0) {
            return -1;
        }
        unsigned line = 0;
        if (pvesm_parse_status(res.out, res.out_len, &st, &line) < 0) {
            spawn_result_release(&res);
            return err_set(e, ERR_BAD_OUTPUT, "cannot parse 'pvesm status' output at line %u",
                           line);
        }
        spawn_result_release(&res);
        known = &st;
    }
    int r = 0;
    const struct pvesm_row *row = pvesm_status_find(known, storage);
    if (!row) {
        r = err_set(e, ERR_PRECONDITION, "storage '%s' does not exist on this node%s", storage,
                    SUGGEST_STORAGE(&st, storage));
    } else if (!pvesm_type_is_file_based(row->type)) {
        r = err_set(e, ERR_PRECONDITION,
                    "storage '%s' (type %s) is not file-based: a hookscript must be a file in "
                    "a snippets directory; use --storage with a dir, nfs, cifs or cephfs "
                    "storage",
                    storage, row->type);
    } else if (row->state != PVESM_ACTIVE) {
        r = err_set(e, ERR_PRECONDITION, "storage '%s' is %s", storage,
                    pvesm_state_name(row->state));
    } else {
        snprintf(type, type_len, "%s", row->type);
    }
    pvesm_status_release(&st);
    return r;
}

/* `pvesm path <volid>` -> the file's absolute path. */
static int volid_path(struct ctx *c, const char *volid, char *path, size_t len, struct err *e)
{
    struct strv argv = STRV_INIT;
    struct spawn_result res;
    if (qmargv_pvesm_path(c->conf->pvesm, volid, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int r = node_query(c, strv_argv(&argv), "pvesm path", &res, e);
    strv_release(&argv);
    if (r < 0) {
        return -1;
    }
    r = hook_path_parse(volid, res.out, path, len, e);
    spawn_result_release(&res);
    return r;
}

/* Whether storage is shared between the nodes, as pve-storage sees it:
 * "shared" (bare or 1) in storage.cfg, or a type it always shares; an
 * unreadable storage.cfg counts as not shared (the warning errs on the safe
 * side). A network file system type counts even without a storage.cfg entry. */
bool cmd_hook_storage_shared(const struct conf *cf, const char *storage, const char *type)
{
    struct pvecfg_storages st;
    struct err ignore;
    if (type && pvecfg_type_always_shared(type)) {
        return true;
    }
    if (node_load_storage_cfg(cf, &st, &ignore) < 0) {
        return false;
    }
    const struct pvecfg_storage *s = pvecfg_storage_find(&st, storage);
    bool shared = s && s->shared;
    pvecfg_storages_release(&st);
    return shared;
}

bool cmd_hook_storage_local(const struct conf *cf, const struct vmlist *vl, const char *storage,
                            const char *type, char *buf, size_t len)
{
    if (cmd_hook_storage_shared(cf, storage, type)) {
        return false;
    }
    struct vmlist own = {0};
    struct err ignore;
    if (!vl) {
        if (node_load_vmlist(cf, &own, &ignore) < 0) {
            return false; /* no cluster view: nothing to warn about */
        }
        vl = &own;
    }
    const char *local = node_local_name(cf);
    bool found = false;
    for (size_t i = 0; i < vl->n && !found; i++) {
        if (vl->entries[i].node && strcmp(vl->entries[i].node, local) != 0) {
            found = true;
            snprintf(buf, len,
                     "hook storage '%s' is not shared, but the cluster has guests on other "
                     "nodes (e.g. %" PRIu32 " on '%s'): Proxmox checks a VM's hookscript before "
                     "every start, so a VM whose hookscript file is missing on a node cannot "
                     "start there (migration, HA, clone --target); use a shared file storage "
                     "(nfs, cifs, cephfs) as hook_storage, or run 'pvetmpl hook install' on "
                     "every node",
                     storage, vl->entries[i].vmid, vl->entries[i].node);
        }
    }
    vmlist_release(&own);
    return found;
}

/* The short form of that, once per command (the hook file may be placed for
 * several storages); 'pvetmpl check' gives the whole explanation. */
static void warn_node_local(struct ctx *c, const struct vmlist *vl, const char *storage,
                            const char *type)
{
    static bool warned;
    char why[1024];
    if (warned || !cmd_hook_storage_local(c->conf, vl, storage, type, why, sizeof(why))) {
        return;
    }
    warned = true;
    cmd_warn(c,
             "hook storage '%s' is node-local: VMs with the hook cannot start on other nodes "
             "(see 'pvetmpl check')",
             storage);
}

/* Places hook_binary on storage as snippets/<hook_name>; fills p. known: what
 * need not be asked again (hook_register), or NULL. */
static int place_hook(struct ctx *c, const char *storage, const struct hook_known *known,
                      struct placed *p, struct err *e)
{
    const struct conf *cf = c->conf;
    char *bin = NULL, *cur = NULL;
    size_t bin_len = 0, cur_len = 0;
    struct stat st;
    int r;

    memset(p, 0, sizeof(*p));
    if (hook_volid(storage, cf->hook_name, p->volid, sizeof(p->volid)) < 0) {
        char qs[VALIDATE_QUOTE_SIZE], qn[VALIDATE_QUOTE_SIZE];
        return err_set(e, ERR_CONFIG, "hook_storage '%s' and hook_name '%s' are too long",
                       validate_quote(storage, qs), validate_quote(cf->hook_name, qn));
    }
    r = read_all(cf->hook_binary, &bin, &bin_len, NULL);
    if (r < 0) {
        return err_set(e, ERR_CONFIG, "cannot read hook_binary '%s': %s", cf->hook_binary,
                       strerror(-r));
    }
    char type[64] = "";
    if (check_storage(c, storage, known ? known->status : NULL, type, sizeof(type), e) < 0 ||
        (known && known->path ? hook_path_parse(p->volid, known->path, p->path, sizeof(p->path), e)
                              : volid_path(c, p->volid, p->path, sizeof(p->path), e)) < 0) {
        free(bin);
        return -1;
    }
    warn_node_local(c, known ? known->vl : NULL, storage, type);
    /* Checked before the comparison too: an identical hook in a directory
     * others can write is no more safe than a different one (a dry run
     * answers as the real one). write_atomic walks it again to write. */
    char dir[PATH_MAX];
    if (hook_dir(p->path, dir, sizeof(dir), e) < 0 ||
        safepath_check_dir(dir, "snippets directory", e) < 0) {
        free(bin);
        return -1;
    }
    r = read_all(p->path, &cur, &cur_len, &st);
    if (r == -EINVAL) {
        /* Not ours to replace: someone put it there on purpose or by mistake. */
        free(bin);
        return err_set(e, ERR_PRECONDITION,
                       "'%s' exists and is not a regular file (a FIFO, device or directory): "
                       "remove it, then install again",
                       p->path);
    }
    /* Identical bytes are not enough: its owner could change it at any time
     * into something Proxmox runs as root. */
    bool same = r == 0 && cur_len == bin_len && memcmp(cur, bin, bin_len) == 0 &&
                (st.st_mode & 07777) == 0755 && st.st_uid == 0;
    free(cur);
    if (same) {
        cmd_info(c, "'%s' is already the current hook binary", p->path);
        free(bin);
        return 0;
    }
    p->changed = true;
    struct journal_event ev = {.action = "hook-file", .storage = storage, .volid = p->volid};
    struct err je;
    if (c->dry_run) {
        cmd_plan(c, "write '%s' (%s) from '%s'", p->path, p->volid, cf->hook_binary);
        if (journal_dry_run(&ev, p->path, &je) < 0) {
            warn_journal(c, &je);
        }
        free(bin);
        return 0;
    }
    if (journal_begin(&ev, &je) < 0) {
        warn_journal(c, &je);
    }
    r = write_atomic(p->path, bin, bin_len, e);
    free(bin);
    if (journal_end(&ev, r < 0 ? e : NULL, &je) < 0) {
        warn_journal(c, &je);
    }
    if (r == 0) {
        cmd_info(c, "wrote '%s' (%s)", p->path, p->volid);
    }
    return r;
}

/* The VM's hookscript in its committed config (qm config --current: a
 * pending one is not in effect yet) into buf ("" when none). */
static int vm_hookscript(struct ctx *c, uint32_t vmid, char *buf, size_t len, bool *ret_has,
                         struct err *e)
{
    struct strv argv = STRV_INIT;
    struct spawn_result res;
    char what[32];
    snprintf(what, sizeof(what), "qm config %" PRIu32, vmid);
    if (qmargv_config_current(c->conf->qm, vmid, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int r = node_query(c, strv_argv(&argv), what, &res, e);
    strv_release(&argv);
    if (r < 0) {
        return -1;
    }
    struct qm_config cf = {0};
    unsigned line = 0;
    if (qm_parse_config(res.out, res.out_len, &cf, &line) < 0) {
        spawn_result_release(&res);
        return err_set(e, ERR_BAD_OUTPUT, "cannot parse 'qm config %" PRIu32 "' at line %u", vmid,
                       line);
    }
    *ret_has = cf.hookscript != NULL;
    snprintf(buf, len, "%s", cf.hookscript ? cf.hookscript : "");
    qm_config_release(&cf);
    spawn_result_release(&res);
    return 0;
}

/* The report's "hook_file": where the hook is, and whether it was (would
 * be, in a dry run) written. */
static void report_hook_file(struct ctx *c, const struct placed *p)
{
    struct json_object *fo = json_object_new_object();
    json_object_object_add(fo, "volid", json_object_new_string(p->volid));
    json_object_object_add(fo, "path", json_object_new_string(p->path));
    json_object_object_add(fo, "changed", json_object_new_boolean(p->changed));
    report_set(c->rep, "hook_file", fo);
}

static struct json_object *vm_obj(uint32_t vmid, const char *hookscript, const char *state)
{
    struct json_object *o = json_object_new_object();
    if (!o) {
        return NULL;
    }
    json_object_object_add(o, "vmid", json_object_new_int64(vmid));
    json_object_object_add(o, "hookscript",
                           hookscript && *hookscript ? json_object_new_string(hookscript) : NULL);
    json_object_object_add(o, "state", json_object_new_string(state));
    return o;
}

/* Sets volid as the hookscript of vmid. *changed tells whether it did. */
/* The VM's current hookscript, as vm_hookscript read it (once: the caller
 * reads every VM before anything is written). */
struct vm_hook {
    char cur[512];
    bool has;
};

/* A hookscript that is not pvetmpl's is the admin's (e.g. a GPU passthrough
 * script): replaced only when asked (--replace-hook), as make-template does. */
static int refuse_foreign(struct ctx *c, uint32_t vmid, const struct vm_hook *vh, bool replace,
                          struct err *e)
{
    if (!vh->has || replace || hook_volid_is_ours(vh->cur, c->conf->hook_name)) {
        return 0;
    }
    return err_set(e, ERR_PRECONDITION,
                   "VM %" PRIu32 " has the hookscript '%s', which is not pvetmpl's: not "
                   "replacing it (use --replace-hook to replace it)",
                   vmid, vh->cur);
}

static int install_one(struct ctx *c, uint32_t vmid, const struct vm_hook *vh, const char *storage,
                       const char *volid, struct json_object *vms, bool *changed,
                       struct hook_pending *defer, struct err *e)
{
    const char *cur = vh->cur;
    bool has = vh->has;
    struct journal_event ev = {
        .action = "hook-install", .vmid = vmid, .storage = storage, .volid = volid};
    if (has && strcmp(cur, volid) == 0) {
        cmd_info(c, "VM %" PRIu32 " already has the hookscript %s", vmid, volid);
        json_object_array_add(vms, vm_obj(vmid, cur, "unchanged"));
        return 0;
    }
    if (has) {
        cmd_warn(c, "VM %" PRIu32 " had the hookscript '%s', replacing it", vmid, cur);
    }
    struct strv argv = STRV_INIT;
    if (qmargv_set_hookscript(c->conf->qm, vmid, volid, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    char what[48];
    snprintf(what, sizeof(what), "qm set %" PRIu32 " --hookscript", vmid);
    int r = journalled_change(c, &ev, &argv, what, vmid, volid, defer, e);
    strv_release(&argv);
    if (r == 0) {
        *changed = true;
        json_object_array_add(vms, vm_obj(vmid, volid, c->dry_run ? "would-set" : "set"));
        if (!c->dry_run && !(defer && defer->active)) {
            cmd_info(c, "VM %" PRIu32 ": hookscript set to %s", vmid, volid);
        }
    }
    return r;
}

static int remove_one(struct ctx *c, uint32_t vmid, struct json_object *vms, bool *changed,
                      struct err *e)
{
    char cur[512] = "";
    bool has = false;
    struct journal_event ev = {.action = "hook-remove", .vmid = vmid, .volid = cur};
    if (vm_hookscript(c, vmid, cur, sizeof(cur), &has, e) < 0) {
        ev.volid = NULL;
        journal_refusal(c, &ev, e);
        return -1;
    }
    if (!has) {
        cmd_info(c, "VM %" PRIu32 " has no hookscript", vmid);
        json_object_array_add(vms, vm_obj(vmid, NULL, "unchanged"));
        return 0;
    }
    if (!hook_volid_is_ours(cur, c->conf->hook_name)) {
        err_set(e, ERR_PRECONDITION,
                "VM %" PRIu32 " has the hookscript '%s', which is not pvetmpl's ('%s'): "
                "not removing it",
                vmid, cur, c->conf->hook_name);
        journal_refusal(c, &ev, e);
        return -1;
    }
    struct strv argv = STRV_INIT;
    if (qmargv_set_hookscript(c->conf->qm, vmid, NULL, &argv) < 0) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    char what[48];
    snprintf(what, sizeof(what), "qm set %" PRIu32 " --delete hookscript", vmid);
    int r = journalled_change(c, &ev, &argv, what, vmid, NULL, NULL, e);
    strv_release(&argv);
    if (r == 0) {
        *changed = true;
        json_object_array_add(vms, vm_obj(vmid, cur, c->dry_run ? "would-remove" : "removed"));
        if (!c->dry_run) {
            cmd_info(c, "VM %" PRIu32 ": hookscript %s removed", vmid, cur);
        }
    }
    return r;
}

/* What is known of one hook file, looked up once per command (a node's VMs
 * mostly share one): its path and how it compares with hook_binary. */
struct cmd_hook_file_seen {
    char volid[512];
    char path[PATH_MAX];
    const char *state;
};

void cmd_hook_file_cache_release(struct cmd_hook_file_cache *fc)
{
    free(fc->v);
    *fc = (struct cmd_hook_file_cache){0};
}

const char *cmd_hook_file_state(struct ctx *c, struct cmd_hook_file_cache *fc, const char *volid,
                                char *path, size_t len)
{
    struct err ignore;
    char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    for (size_t i = 0; fc && i < fc->n; i++) {
        if (strcmp(fc->v[i].volid, volid) == 0) {
            snprintf(path, len, "%s", fc->v[i].path);
            return fc->v[i].state;
        }
    }
    const char *s = "differs";
    if (volid_path(c, volid, path, len, &ignore) < 0) {
        path[0] = '\0';
        s = "unknown";
    } else if (read_all(path, &a, &al, NULL) < 0) {
        s = "missing";
    } else if (read_all(c->conf->hook_binary, &b, &bl, NULL) == 0 && al == bl &&
               memcmp(a, b, al) == 0) {
        s = "same";
    }
    free(a);
    free(b);
    if (fc && grow_array(&fc->v, fc->n, &fc->alloc, sizeof(*fc->v)) == 0) {
        struct cmd_hook_file_seen *f = &fc->v[fc->n++];
        snprintf(f->volid, sizeof(f->volid), "%s", volid);
        snprintf(f->path, sizeof(f->path), "%s", path);
        f->state = s;
    }
    return s;
}

/* A list as a JSON array of strings. */
static struct json_object *strv_json(const struct strv *sv)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < sv->n; i++) {
        json_object_array_add(a, json_object_new_string(sv->v[i]));
    }
    return a;
}

/* hook status's row of VM vmid, whose hookscript is cur (has: it has one). */
static int status_row(struct ctx *c, struct cmd_hook_file_cache *fc, uint32_t vmid, bool has,
                      const char *cur, struct json_object *vms, struct err *e)
{
    char path[PATH_MAX] = "";
    bool ours = has && hook_volid_is_ours(cur, c->conf->hook_name);
    const char *fs = has ? cmd_hook_file_state(c, fc, cur, path, sizeof(path)) : NULL;
    const char *state = !has                         ? "none"
                        : !ours                      ? "foreign"
                        : strcmp(fs, "same") == 0    ? "installed"
                        : strcmp(fs, "missing") == 0 ? "missing"
                        : strcmp(fs, "unknown") == 0 ? "unknown"
                                                     : "outdated";
    /* The config the hook at that path applies, by the hook's own lookup
     * and reader: what decides whether VMs start. */
    struct conf_hook hc = {0};
    bool show = ours && path[0];
    if (show && conf_hook_load(path, &hc, e) < 0) {
        return -1;
    }
    const char *cstate = !show            ? NULL
                         : hc.fail_closed ? "unusable: every pre-start is refused"
                         : hc.error       ? "unusable: defaults, no policy"
                         : hc.found       ? "used"
                                          : "missing: defaults, no policy";
    struct json_object *o = vm_obj(vmid, has ? cur : NULL, state);
    if (o) {
        json_object_object_add(o, "ours", json_object_new_boolean(ours));
        if (fs) {
            json_object_object_add(o, "file", json_object_new_string(fs));
        }
        if (path[0]) {
            json_object_object_add(o, "path", json_object_new_string(path));
        }
        if (show) {
            json_object_object_add(o, "config", json_object_new_string(hc.path));
            json_object_object_add(o, "config_state", json_object_new_string(cstate));
            if (hc.skipped) {
                json_object_object_add(o, "config_skipped", json_object_new_string(hc.skipped));
            }
            if (hc.error) {
                /* It may quote the file: root's text, never a delegated caller's to see
                 * (as request.c's load_conf). */
                char hidden[96];
                snprintf(hidden, sizeof(hidden),
                         "the reason is shown to root: run 'pvetmpl hook status %" PRIu32
                         "' as root",
                         vmid);
                json_object_object_add(
                    o, "config_error",
                    json_object_new_string(c->caller && c->caller->delegated ? hidden : hc.error));
            }
            struct json_object *po = json_object_new_object();
            json_object_object_add(po, "refuse_all", json_object_new_boolean(hc.fail_closed));
            json_object_object_add(po, "refuse_vmids", strv_json(&hc.conf.hook_refuse_vmids));
            json_object_object_add(po, "refuse_tags", strv_json(&hc.conf.hook_refuse_tags));
            json_object_object_add(o, "policy", po);
        }
        json_object_array_add(vms, o);
    }
    conf_hook_release(&hc);
    return 0;
}

static int status_one(struct ctx *c, struct cmd_hook_file_cache *fc, uint32_t vmid,
                      struct json_object *vms, struct err *e)
{
    char cur[512];
    bool has = false;
    if (vm_hookscript(c, vmid, cur, sizeof(cur), &has, e) < 0) {
        return -1;
    }
    return status_row(c, fc, vmid, has, cur, vms, e);
}

/* The first failure decides; the others are reported alike (warnings, the
 * journal) and the loop goes on to the next VM. */
struct outcome {
    int rc;
    struct err first;
};

static void outcome_add(struct outcome *o, int r, const struct err *e)
{
    if (r < 0 && o->rc == 0) {
        o->rc = -1;
        o->first = *e;
    }
}

static int outcome_end(const struct outcome *o, struct err *e)
{
    if (o->rc < 0) {
        *e = o->first;
    }
    return o->rc;
}

/* Nothing was set on any VM: the refusal is recorded under the VMs ids[from,
 * to) — the one that caused it (missing, foreign hookscript), or each when
 * the hook file could not be placed. */
static void record_refusals(struct ctx *c, const struct request_hook *r, size_t from, size_t to,
                            const char *storage, const struct err *e)
{
    for (size_t i = from; i < to && i < r->n_vmids; i++) {
        struct journal_event ev = {.action = "hook-install", .vmid = r->ids[i], .storage = storage};
        if (journal_refusal(c, &ev, e) < 0) {
            break;
        }
    }
}

/* Every VM must exist, and have no hookscript that is not to be replaced,
 * before anything is written: their hookscripts into vh. On failure *bad is
 * the index of the VM that failed. */
static int read_hookscripts(struct ctx *c, const struct request_hook *r, struct vm_hook *vh,
                            size_t *bad, struct err *e)
{
    for (size_t i = 0; i < r->n_vmids; i++) {
        if (vm_hookscript(c, r->ids[i], vh[i].cur, sizeof(vh[i].cur), &vh[i].has, e) < 0 ||
            refuse_foreign(c, r->ids[i], &vh[i], r->replace_hook, e) < 0) {
            *bad = i;
            return -1;
        }
    }
    return 0;
}

/* hook install: check every VM, place the file, then set it on each VM. */
static int install_all(struct ctx *c, const struct request_hook *r, const char *storage,
                       struct json_object *vms, bool *changed, struct err *e)
{
    struct placed p;
    struct outcome o = {0};
    size_t bad = 0;
    /* The volid must fit before anything runs: a long --storage is the
     * caller's argument (64), a long hook_storage the config's (78). */
    if (hook_volid(storage, c->conf->hook_name, p.volid, sizeof(p.volid)) < 0) {
        char qs[VALIDATE_QUOTE_SIZE], qn[VALIDATE_QUOTE_SIZE];
        return err_set(e, r->storage ? ERR_USAGE : ERR_CONFIG,
                       "%s '%s' is too long (%zu characters): the hookscript's volume "
                       "ID '<storage>:snippets/%s' must be shorter than %zu characters",
                       r->storage ? "--storage" : "hook_storage", validate_quote(storage, qs),
                       strlen(storage), validate_quote(c->conf->hook_name, qn), sizeof(p.volid));
    }
    struct vm_hook *vh = calloc(r->n_vmids, sizeof(*vh));
    report_set_storage(c->rep, storage);
    if (!vh) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (read_hookscripts(c, r, vh, &bad, e) < 0) {
        record_refusals(c, r, bad, bad + 1, storage, e);
        free(vh);
        return -1;
    }
    if (place_hook(c, storage, NULL, &p, e) < 0) {
        record_refusals(c, r, 0, r->n_vmids, storage, e);
        free(vh);
        return -1;
    }
    *changed = p.changed;
    report_hook_file(c, &p);
    for (size_t i = 0; i < r->n_vmids; i++) {
        outcome_add(&o, install_one(c, r->ids[i], &vh[i], storage, p.volid, vms, changed, NULL, e),
                    e);
    }
    free(vh);
    return outcome_end(&o, e);
}

static int remove_all(struct ctx *c, const struct request_hook *r, struct json_object *vms,
                      bool *changed, struct err *e)
{
    struct outcome o = {0};
    for (size_t i = 0; i < r->n_vmids; i++) {
        outcome_add(&o, remove_one(c, r->ids[i], vms, changed, e), e);
    }
    return outcome_end(&o, e);
}

/* ---- the whole node: every VM of it with a hookscript ---- */

struct node_hook {
    uint32_t vmid;
    char *hookscript;
};
struct node_hooks {
    struct node_hook *v;
    size_t n, alloc;
};

static void node_hooks_release(struct node_hooks *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].hookscript);
    }
    free(h->v);
    *h = (struct node_hooks){0};
}

static int collect_hook(void *ud, uint32_t vmid, const char *node, const char *text, size_t len)
{
    struct node_hooks *h = ud;
    struct qm_config cf;
    (void)node;
    if (qm_parse_conf_file(text, len, vmid, false, &cf) < 0) {
        return -ENOMEM;
    }
    int r = 0;
    if (cf.hookscript) {
        if (grow_array(&h->v, h->n, &h->alloc, sizeof(*h->v)) < 0 ||
            !(h->v[h->n].hookscript = strdup(cf.hookscript))) {
            r = -ENOMEM;
        } else {
            h->v[h->n++].vmid = vmid;
        }
    }
    qm_config_release(&cf);
    return r;
}

/* Every VM of this node with a hookscript, by VMID, as its config file says
 * (the committed one: list.c's walk over the cluster's config files, one read
 * per file, no qm process per VM). */
static int load_node_hooks(struct ctx *c, struct node_hooks *ret, struct err *e)
{
    *ret = (struct node_hooks){0};
    struct list_walk w = {.guest = collect_hook, .ud = ret, .node = node_local_name(c->conf)};
    if (list_walk(c->conf, &w, c->interrupt, e) < 0) {
        node_hooks_release(ret);
        return -1;
    }
    return 0;
}

/* hook status without VMIDs: a row per VM of this node with a hookscript. */
static int status_node(struct ctx *c, struct json_object *vms, struct err *e)
{
    struct node_hooks h;
    struct cmd_hook_file_cache fc = {0};
    struct outcome o = {0};
    if (load_node_hooks(c, &h, e) < 0) {
        return -1;
    }
    for (size_t i = 0; i < h.n; i++) {
        outcome_add(&o, status_row(c, &fc, h.v[i].vmid, true, h.v[i].hookscript, vms, e), e);
    }
    size_t n[4] = {0}; /* installed, outdated, missing, foreign */
    static const char *const words[] = {"installed", "outdated", "missing", "foreign"};
    for (size_t i = 0; i < json_object_array_length(vms); i++) {
        const char *st = cmd_json_str(json_object_array_get_idx(vms, i), "state");
        for (size_t k = 0; st && k < 4; k++) {
            n[k] += strcmp(st, words[k]) == 0;
        }
    }
    const char *node = node_local_name(c->conf);
    if (h.n == 0) {
        report_set_msg(c->rep, "no VM on node '%s' has a hookscript", node);
    } else {
        size_t stale = h.n - n[0] - n[3];
        report_set_msg(c->rep,
                       "%zu VM%s on node '%s' with a hookscript: %zu pvetmpl's current, %zu "
                       "outdated or missing, %zu foreign%s",
                       h.n, h.n == 1 ? "" : "s", node, n[0], stale, n[3],
                       stale ? "; run 'pvetmpl hook update'" : "");
    }
    cmd_hook_file_cache_release(&fc);
    node_hooks_release(&h);
    return outcome_end(&o, e);
}

/* hook update: hook_binary over the hook file of every storage that this
 * node's VMs take pvetmpl's hookscript from, where it is not current
 * (place_hook: the same checks, journal records and dry run as install).
 * The VMs' configs already name the file: none is changed. */
static int update_node(struct ctx *c, bool *changed, struct err *e)
{
    struct node_hooks h;
    struct strv done = STRV_INIT;
    struct json_object *files = json_object_new_array();
    struct outcome o = {0};
    size_t n_changed = 0;
    if (!files) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (load_node_hooks(c, &h, e) < 0) {
        json_object_put(files);
        return -1;
    }
    for (size_t i = 0; i < h.n; i++) {
        const char *hs = h.v[i].hookscript;
        if (!hook_volid_is_ours(hs, c->conf->hook_name)) {
            continue;
        }
        char storage[256];
        snprintf(storage, sizeof(storage), "%.*s", (int)strcspn(hs, ":"), hs);
        bool seen = false;
        for (size_t k = 0; k < done.n; k++) {
            seen = seen || strcmp(done.v[k], storage) == 0;
        }
        if (seen) {
            continue;
        }
        if (strv_push(&done, storage) < 0) {
            outcome_add(&o, err_set(e, ERR_INTERNAL, "out of memory"), e);
            break;
        }
        struct placed p;
        int r = place_hook(c, storage, NULL, &p, e);
        outcome_add(&o, r, e);
        if (r < 0) {
            cmd_warn(c, "hook file on storage '%s' not updated: %s", storage, e->detail);
            continue;
        }
        n_changed += p.changed;
        struct json_object *fo = json_object_new_object();
        json_object_object_add(fo, "storage", json_object_new_string(storage));
        json_object_object_add(fo, "volid", json_object_new_string(p.volid));
        json_object_object_add(fo, "path", json_object_new_string(p.path));
        json_object_object_add(fo, "changed", json_object_new_boolean(p.changed));
        json_object_array_add(files, fo);
    }
    report_set(c->rep, "files", files);
    *changed = n_changed > 0;
    if (o.rc == 0 && done.n == 0) {
        report_set_msg(c->rep, "%shook update: no VM on this node has pvetmpl's hookscript",
                       c->dry_run ? "dry run: " : "");
    } else if (o.rc == 0) {
        report_set_msg(c->rep, "%shook update: %zu of %zu hook file%s %s",
                       c->dry_run ? "dry run: " : "", n_changed, done.n, done.n == 1 ? "" : "s",
                       !n_changed   ? "outdated: nothing to do"
                       : c->dry_run ? "would be written"
                                    : "written");
    }
    strv_release(&done);
    node_hooks_release(&h);
    return outcome_end(&o, e);
}

static int status_all(struct ctx *c, const struct request_hook *r, struct json_object *vms,
                      struct err *e)
{
    struct outcome o = {0};
    struct cmd_hook_file_cache fc = {0};
    if (r->n_vmids == 0) {
        return status_node(c, vms, e);
    }
    for (size_t i = 0; i < r->n_vmids; i++) {
        outcome_add(&o, status_one(c, &fc, r->ids[i], vms, e), e);
    }
    cmd_hook_file_cache_release(&fc);
    return outcome_end(&o, e);
}

int cmd_hook_run(struct ctx *c, const struct request_hook *r, struct err *e)
{
    const char *storage = r->storage ? r->storage : c->conf->hook_storage;
    struct json_object *vms = json_object_new_array();
    bool changed = false;
    int rc;

    report_set_action(c->rep, action_name(REQ_HOOK, r->op));
    if (r->n_vmids == 1) {
        report_set_vmid(c->rep, r->ids[0]);
    }
    if (!vms) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    switch (r->op) {
    case REQ_HOOK_INSTALL:
        rc = install_all(c, r, storage, vms, &changed, e);
        break;
    case REQ_HOOK_REMOVE:
        rc = remove_all(c, r, vms, &changed, e);
        break;
    case REQ_HOOK_STATUS:
        rc = status_all(c, r, vms, e);
        break;
    case REQ_HOOK_UPDATE:
        rc = update_node(c, &changed, e);
        break;
    default:
        rc = err_set(e, ERR_INTERNAL, "hook: no subcommand in the request");
        break;
    }
    report_set(c->rep, "vms", vms);
    report_set_changed(c->rep, changed && !c->dry_run);
    if (rc == 0 && r->op != REQ_HOOK_STATUS && r->op != REQ_HOOK_UPDATE) {
        report_set_msg(c->rep, "%s%s: %zu VM%s", c->dry_run ? "dry run: " : "",
                       action_name(REQ_HOOK, r->op), r->n_vmids, r->n_vmids == 1 ? "" : "s");
    }
    return rc;
}

int hook_register(struct ctx *c, uint32_t vmid, const struct hook_known *known,
                  struct hook_pending *pending, struct err *e)
{
    struct placed p;
    struct vm_hook vh = {.has = known && known->fresh_copy && known->cur};
    if (vh.has) {
        snprintf(vh.cur, sizeof(vh.cur), "%s", known->cur);
    }
    /* The VM must exist before anything is written (a fresh copy does: its
     * clone was confirmed). In a dry run it is the copy not made yet, without
     * a hookscript: the plan lists the file write and the qm set a real run
     * would make. */
    if ((!c->dry_run && !(known && known->fresh_copy) &&
         vm_hookscript(c, vmid, vh.cur, sizeof(vh.cur), &vh.has, e) < 0) ||
        place_hook(c, c->conf->hook_storage, known, &p, e) < 0) {
        struct journal_event ev = {
            .action = "hook-install", .vmid = vmid, .storage = c->conf->hook_storage};
        journal_refusal(c, &ev, e);
        return -1;
    }
    report_hook_file(c, &p);
    struct json_object *vms = json_object_new_array();
    bool changed = false;
    int r = install_one(c, vmid, &vh, c->conf->hook_storage, p.volid, vms, &changed, pending, e);
    json_object_put(vms);
    return r;
}

int hook_register_confirm(struct ctx *c, uint32_t vmid, struct hook_pending *pending,
                          const struct err *unread, const char *hookscript, struct err *e)
{
    if (!pending->active) {
        return 0;
    }
    pending->active = false;
    char what[48];
    snprintf(what, sizeof(what), "qm set %" PRIu32 " --hookscript", vmid);
    /* Not read back: what is known is that qm set exited 0; the record
     * carries why the read was not made (130 when a signal cut the run
     * short, as any step it interrupts), not a failure of qm's. */
    int r = !unread ? hookscript_reads_back(vmid, pending->volid, hookscript != NULL,
                                            hookscript ? hookscript : "", what, e)
                    : err_set(e, unread->cls != ERR_OK ? unread->cls : ERR_QM_FAILED,
                              "'%s' exited 0, but VM %" PRIu32
                              "'s config was not read back to confirm it: %s",
                              what, vmid, *unread->detail ? unread->detail : "no reason given");
    struct err je;
    if (journal_end(&pending->ev, r < 0 ? e : NULL, &je) < 0) {
        warn_journal(c, &je);
    }
    if (r == 0) {
        cmd_info(c, "VM %" PRIu32 ": hookscript set to %s", vmid, pending->volid);
    }
    return r;
}

/* ---- draw: hook status's rows for a person ---- */

/* The hook's config problems and policy under its status line. */
/* A line "  <prefix><s>" with s clean (termtext). */
static void print_clean(const char *prefix, const char *s)
{
    char buf[1024];
    termtext_clean(buf, sizeof(buf), s);
    printf("  %s%s\n", prefix, buf);
}

static void print_policy(struct json_object *vm)
{
    const char *s;
    struct json_object *po, *v;
    if ((s = cmd_json_str(vm, "config_skipped"))) {
        print_clean("", s);
    }
    if ((s = cmd_json_str(vm, "config_error"))) {
        print_clean("config error: ", s);
    }
    if (!json_object_object_get_ex(vm, "policy", &po)) {
        return;
    }
    if (json_object_object_get_ex(po, "refuse_all", &v) && json_object_get_boolean(v)) {
        printf("  policy: refuse every start (the config may configure a refusal policy and "
               "cannot be used)\n");
        return;
    }
    static const char *const keys[] = {"refuse_vmids", "refuse_tags"};
    static const char *const names[] = {"hook_refuse_vmids", "hook_refuse_tags"};
    bool any = false;
    for (size_t l = 0; l < 2; l++) {
        size_t n = json_object_object_get_ex(po, keys[l], &v) ? json_object_array_length(v) : 0;
        if (!n) {
            continue;
        }
        any = true;
        printf("  policy: %s =", names[l]);
        for (size_t i = 0; i < n; i++) {
            char buf[256];
            termtext_clean(buf, sizeof(buf),
                           json_object_get_string(json_object_array_get_idx(v, i)));
            printf(" %s", buf);
        }
        printf("\n");
    }
    if (!any) {
        printf("  policy: none\n");
    }
}

/* The STATE column: for pvetmpl's hook whether its file is hook_binary. */
static const char *state_word(const char *state)
{
    static const char *const map[][2] = {{"installed", "current"},
                                         {"outdated", "outdated"},
                                         {"missing", "missing binary"},
                                         {"unknown", "unknown file"}};
    for (size_t i = 0; state && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(state, map[i][0]) == 0) {
            return map[i][1];
        }
    }
    return "-";
}

#define STATUS_ROW "%-10s %-8s %-15s %s"

/* One VM's status line, with its hook's config and policy under it. Every
 * field clean (termtext): a VM config names its hookscript. */
static void print_status_row(struct json_object *vm)
{
    struct json_object *id = NULL, *ours = NULL;
    const char *state = cmd_json_str(vm, "state"), *cfg = cmd_json_str(vm, "config"),
               *cstate = cmd_json_str(vm, "config_state");
    char vmid[24], hs[512], cf[PATH_MAX], cs[128];
    json_object_object_get_ex(vm, "vmid", &id);
    json_object_object_get_ex(vm, "ours", &ours);
    snprintf(vmid, sizeof(vmid), "%" PRId64, json_object_get_int64(id));
    termtext_clean(hs, sizeof(hs), cmd_json_str(vm, "hookscript"));
    bool none = state && strcmp(state, "none") == 0;
    printf(STATUS_ROW, vmid,
           none                            ? "none"
           : json_object_get_boolean(ours) ? "pvetmpl"
                                           : "foreign",
           state_word(state), *hs ? hs : "-");
    if (cfg) {
        printf("%*s",
               40 - (int)termtext_width(*hs ? hs : "-") > 0
                   ? 40 - (int)termtext_width(*hs ? hs : "-")
                   : 0,
               "");
        termtext_clean(cf, sizeof(cf), cfg);
        termtext_clean(cs, sizeof(cs), cstate ? cstate : "-");
        printf(" config %s (%s)", cf, cs);
    }
    printf("\n");
    if (cfg) {
        print_policy(vm);
    }
}

void cmd_hook_draw(const struct ctx *c, struct json_object *report)
{
    struct json_object *vms;
    const char *action = cmd_json_str(report, "action");
    if (c->quiet || !action || strcmp(action, "hook-status") != 0 ||
        !json_object_object_get_ex(report, "vms", &vms) ||
        !json_object_is_type(vms, json_type_array)) {
        return;
    }
    for (size_t i = 0; i < json_object_array_length(vms); i++) {
        if (i == 0) {
            printf(STATUS_ROW "\n", "VMID", "HOOK", "STATE", "HOOKSCRIPT");
        }
        print_status_row(json_object_array_get_idx(vms, i));
    }
    fflush(stdout);
}
