/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl-hook: the Proxmox VE hookscript. qemu-server runs it as
 * `<path> <vmid> <phase>` as root while holding the VM's config lock
 * (pve-interface.md §7). It writes one journal entry per call and exits 0:
 * it must never be the reason a VM does not start. The one exception is the
 * documented pre-start policy (hook_refuse_vmids / hook_refuse_tags, off by
 * default), which refuses the start with exit 1.
 *
 * It never runs qm (the lock is held: qm would block for 10 s and fail). It
 * reads pvetmpl.conf with the wrapper's own reader (conf_load_file, through
 * conf_hook_load), so the admin's file means one thing to both; that costs a
 * few small allocations, which is fine for a process that lives a moment.
 *
 * Config lookup (conf_hook_load, shared with `pvetmpl hook status`): the
 * first that applies, nothing merged, never the environment (an exported
 * PVETMPL_CONFIG in the shell of an admin who runs `qm start` would reach us:
 * qemu-server's run_command passes the environment on):
 *   1. "<hook path>.conf" next to the hook, e.g.
 *      /var/lib/vz/snippets/pvetmpl-hook.conf, when it exists: a per-storage
 *      override that also works on a shared snippets storage. Used only when
 *      root-owned and writable by root only (it decides whether VMs start);
 *      failing that, it fails closed when it may set a policy (as /etc's
 *      would), and is passed over with a warning when it sets none or is no
 *      regular file;
 *   2. the compiled-in default /etc/pvetmpl/pvetmpl.conf.
 * A missing default file means the defaults (pve_dir /etc/pve, no policy).
 * A config that cannot be used (it does not parse, a bad value, unsafe
 * ownership, a read error) is never silent: a warning on stderr,
 * PVETMPL_CONFIG_ERROR in the entry and PRIORITY 4. When it may configure a
 * refusal policy (conf.c mentions_policy: libconfuse's own reading, and
 * anything it cannot read to the end; an existing file that cannot be read),
 * every pre-start is refused (fail closed): the admin asked for a policy we
 * cannot read. Otherwise the defaults apply.
 *
 * Nothing is cut silently: the VM's config is read whole up to pmxcfs's own
 * file size limit. Past it, with a tag policy configured, the start is
 * refused (the tag could be in the part not read); without one, the entry
 * says the config was cut.
 *
 * Proxmox waits for the hook without a timeout while holding the VM's config
 * lock, so nothing here may block forever: files are opened O_NONBLOCK and
 * must be regular (a FIFO would block the open or the read), and an alarm of
 * HOOK_TIMEOUT_SEC seconds covers the rest (journal_sendv bounds each write
 * itself; the alarm is the backstop). When it fires, the hook exits 0 -
 * or 1 once the policy has decided to refuse, or in a pre-start whose policy
 * has not decided (on_timeout): a timeout never starts a VM the policy could
 * refuse. Before the decision only file reads can block (a slow or hung
 * network or FUSE file system: /etc/pve is pmxcfs); t310 stands one in with
 * an LD_PRELOAD open() that waits for the alarm. SIGPIPE is ignored (a
 * warning into a closed pipe must not kill a pre-start), and fds 0-2 are
 * opened onto /dev/null when closed, so no file we open takes their place
 * and receives our warnings. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "conf.h"
#include "fileread.h"
#include "journal.h"
#include "qm.h"
#include "stdfd.h"
#include "validate.h"

/* Seconds before the hook gives up on whatever blocks it (see above). Long
 * enough for a busy journald, short enough not to hold the VM's lock. */
#define HOOK_TIMEOUT_SEC 5
/* pmxcfs's own limit (QM_CONF_FILE_MAX): no VM config Proxmox wrote is longer. */
#define VM_CONFIG_MAX QM_CONF_FILE_MAX
#define FIELDS_MAX 20

struct vminfo {
    char *path;           /* the config file read, NULL when none */
    struct qm_config cf;  /* its main section */
    const char *name;     /* in cf, NULL when none */
    const char *tags;     /* in cf, NULL when none */
    uint32_t source_vmid; /* linked-clone base from the disk volids, 0 = unknown */
    bool whole;           /* read, and not cut */
    bool cut;             /* read, but only up to VM_CONFIG_MAX */
    char *error;          /* why it was not read whole */
};

/* What the alarm does: the exit code of a start that times out. */
static volatile sig_atomic_t on_timeout;
enum {
    TIMEOUT_START,   /* no policy, or it let the start go on: exit 0 */
    TIMEOUT_REFUSED, /* the policy refused: exit 1 */
    TIMEOUT_PENDING, /* a pre-start whose policy has not decided (or whose
                      * config is still being read, and so may hold one):
                      * exit 1, a timeout never starts a VM the policy
                      * could refuse */
};

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "pvetmpl-hook: timed out (journal or file blocked), giving up\n";
    static const char p[] = "pvetmpl-hook: timed out (journal or file blocked) before the start "
                            "policy decided: refusing the start\n";
    bool pending = on_timeout == TIMEOUT_PENDING;
    ssize_t k =
        pending ? write(STDERR_FILENO, p, sizeof(p) - 1) : write(STDERR_FILENO, m, sizeof(m) - 1);
    (void)k;
    _exit(on_timeout == TIMEOUT_START ? 0 : 1);
}

/* The wrapper's rule (stdfd.h), so the VM config cannot end up receiving our
 * warnings. Unlike the wrapper, a failure is no reason to stop: the hook must
 * never be why a VM does not start. */
static void open_std_fds(void)
{
    (void)stdfd_ensure_open(false); /* a warning nobody reads is no failure */
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
    va_list ap;
    fputs("pvetmpl-hook: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* asprintf that yields NULL on failure (then the text is left out). */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    return s;
}

/* ---- the VM's config --------------------------------------------------- */

/* Reads name, tags and the linked-clone base from the main section of
 * <pve_dir>/qemu-server/<vmid>.conf (the symlink a real node has) or
 * <pve_dir>/nodes/<node>/qemu-server/<vmid>.conf, as the wrapper reads a VM
 * config file (qm_parse_conf_file). */
static void load_vm(const struct conf *c, uint32_t vmid, struct vminfo *vm)
{
    char node[256] = "";
    char *text = NULL;
    size_t len = 0;
    bool cut = false;
    if (c->node && c->node[0]) {
        snprintf(node, sizeof(node), "%s", c->node);
    } else {
        struct utsname u;
        if (uname(&u) == 0) {
            /* PVE's node name is the short host name. */
            snprintf(node, sizeof(node), "%.*s", (int)strcspn(u.nodename, "."), u.nodename);
        }
    }
    vm->path = fmt("%s/qemu-server/%" PRIu32 ".conf", c->pve_dir, vmid);
    int r = vm->path ? fileread_regular(vm->path, VM_CONFIG_MAX, &text, &len, &cut, NULL) : -ENOMEM;
    if (r == -ENOENT && node[0]) {
        free(vm->path);
        vm->path = fmt("%s/nodes/%s/qemu-server/%" PRIu32 ".conf", c->pve_dir, node, vmid);
        r = vm->path ? fileread_regular(vm->path, VM_CONFIG_MAX, &text, &len, &cut, NULL) : -ENOMEM;
    }
    if (r < 0) {
        vm->error =
            fmt("cannot read the config of VM %" PRIu32 " ('%s'): %s", vmid,
                vm->path ? vm->path : "?", r == -EINVAL ? "not a regular file" : strerror(-r));
        return;
    }
    vm->whole = !cut;
    vm->cut = cut;
    if (cut) {
        vm->error = fmt("the config of VM %" PRIu32 " ('%s') is larger than %d bytes, the most "
                        "pmxcfs holds: read only its first %d bytes",
                        vmid, vm->path, VM_CONFIG_MAX, VM_CONFIG_MAX);
    }
    if (qm_parse_conf_file(text, len, vmid, cut, &vm->cf) == 0) {
        vm->name = vm->cf.name;
        vm->tags = vm->cf.tags;
        vm->source_vmid = vm->cf.base_vmid;
    } else if (!vm->error) {
        /* No memory to read it with: as good as not read. */
        vm->whole = false;
        vm->error = fmt("cannot read the config of VM %" PRIu32 " ('%s'): %s", vmid, vm->path,
                        strerror(ENOMEM));
    }
    free(text);
}

/* ---- the pre-start policy ---------------------------------------------- */

static bool vmid_rule_matches(const char *rule, uint32_t vmid)
{
    uint32_t a, b;
    char msg[8];
    return validate_vmid_range(rule, &a, &b, msg, sizeof(msg)) == 0 && a <= vmid && vmid <= b;
}

/* PVE splits tags on ';', ',' and spaces; comparison ignores case. */
static bool has_tag(const char *tags, const char *want)
{
    size_t wl = strlen(want);
    for (const char *p = tags ? tags : ""; *p;) {
        size_t l = strcspn(p, ";, ");
        if (l == wl && l && strncasecmp(p, want, l) == 0) {
            return true;
        }
        p += l;
        p += *p != '\0';
    }
    return false;
}

/* Why the start is refused (malloc'd), or NULL to let it go on. rule is set
 * for a matching rule, so the message can name the file it came from. */
static char *policy_refuses(const struct conf_hook *h, uint32_t vmid, const struct vminfo *vm,
                            bool *rule)
{
    *rule = false;
    if (h->fail_closed) {
        return fmt("fail-closed: config '%s' may configure a refusal policy and cannot be used",
                   h->path ? h->path : "(unknown)");
    }
    const struct strv *v = &h->conf.hook_refuse_vmids, *t = &h->conf.hook_refuse_tags;
    for (size_t i = 0; i < v->n; i++) {
        if (vmid_rule_matches(v->v[i], vmid)) {
            *rule = true;
            return fmt("hook_refuse_vmids '%s'", v->v[i]);
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        if (has_tag(vm->tags, t->v[i])) {
            *rule = true;
            return fmt("hook_refuse_tags '%s'", t->v[i]);
        }
    }
    if (t->n && !vm->whole) {
        /* The tag could be in what was not read. */
        return fmt("fail-closed: hook_refuse_tags is set and the config of VM %" PRIu32
                   " cannot be read whole",
                   vmid);
    }
    return NULL;
}

/* ---- the entry --------------------------------------------------------- */

struct fields {
    struct iovec iov[FIELDS_MAX];
    int n;
};

static void add(struct fields *f, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void add(struct fields *f, const char *format, ...)
{
    char *s = NULL;
    if (f->n >= FIELDS_MAX) {
        return;
    }
    va_list ap;
    va_start(ap, format);
    int k = vasprintf(&s, format, ap);
    va_end(ap);
    if (k < 0) {
        return;
    }
    f->iov[f->n].iov_base = s;
    f->iov[f->n].iov_len = (size_t)k;
    f->n++;
}

/* priority < 0: the message's own. */
static void add_common(struct fields *f, enum journal_msg m, int priority)
{
    const struct journal_msg_info *mi = journal_msg_info(m);
    add(f, "MESSAGE_ID=%s", mi->id);
    add(f, "PRIORITY=%d", priority >= 0 ? priority : mi->priority);
    add(f, "SYSLOG_IDENTIFIER=%s", JOURNAL_HOOK_IDENT);
}

static void send_entry(struct fields *f, const char *what)
{
    struct err e;
    if (journal_sendv(f->iov, f->n, &e) < 0) {
        warn("%s not recorded: %s", what, e.detail);
    }
}

/* The config problems in one line ("; "-separated), NULL when none. */
static char *config_problems(const struct conf_hook *h)
{
    if (!h->error) {
        return h->skipped ? fmt("%s", h->skipped) : NULL;
    }
    return fmt("%s%sconfig '%s' not used: %s; %s", h->skipped ? h->skipped : "",
               h->skipped ? "; " : "", h->path, h->error,
               h->fail_closed ? "it may configure a refusal policy: every pre-start is refused"
                              : "using the defaults (no policy)");
}

int main(int argc, char **argv)
{
    /* Before anything opens a file (see the top). */
    open_std_fds();
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
    /* Nothing below may hold the VM's lock forever. */
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(HOOK_TIMEOUT_SEC);

    static struct fields f;
    static struct conf_hook h;
    static struct vminfo vm;
    const char *self = argc > 0 && argv[0] ? argv[0] : "pvetmpl-hook";
    char msg[8];
    uint32_t vmid = 0;
    bool vmid_ok = argc >= 2 && validate_vmid(argv[1], &vmid, msg, sizeof(msg)) == 0;
    enum journal_phase ph = argc >= 3 ? journal_phase_from_string(argv[2]) : _JOURNAL_PHASE_INVALID;

    if (argc != 3 || !vmid_ok || ph == _JOURNAL_PHASE_INVALID) {
        char err[256];
        if (argc != 3) {
            snprintf(err, sizeof(err), "bad arguments: expected VMID PHASE, got %d argument(s)",
                     argc - 1);
        } else if (!vmid_ok) {
            snprintf(err, sizeof(err), "invalid VMID '%.64s'", argv[1]);
        } else {
            snprintf(err, sizeof(err), "unknown phase '%.64s'", argv[2]);
        }
        /* A newer Proxmox may add phases: log and let it go on. */
        warn("%s, ignoring", err);
        add_common(&f, JOURNAL_MSG_HOOK_INVALID, -1);
        add(&f, "MESSAGE=pvetmpl-hook ignored a call: %s", err);
        if (vmid_ok) {
            add(&f, "PVETMPL_VMID=%" PRIu32, vmid);
        }
        if (argc >= 3) {
            add(&f, "PVETMPL_PHASE=%.64s", argv[2]);
        }
        add(&f, "PVETMPL_ERROR=%s", err);
        send_entry(&f, "the invalid call");
        return 0;
    }

    const char *phase = journal_phase_to_string(ph);
    struct err e;
    char *problems;
    if (ph == JOURNAL_PHASE_PRE_START) {
        on_timeout = TIMEOUT_PENDING;
    }
    if (conf_hook_load(self, &h, &e) < 0) {
        /* No memory to read the policy with: it cannot be known. */
        h.fail_closed = true;
        h.path = NULL;
        problems = fmt("cannot load the config: %s", e.detail);
    } else {
        problems = config_problems(&h);
    }
    if (!h.fail_closed && !h.conf.hook_refuse_vmids.n && !h.conf.hook_refuse_tags.n) {
        on_timeout = TIMEOUT_START; /* no policy: nothing to decide */
    }
    if (problems) {
        warn("%s", problems);
    }
    if (h.conf.pve_dir) {
        load_vm(&h.conf, vmid, &vm);
    }
    if (vm.error) {
        warn("%s%s", vm.error, vm.cut ? "" : ", logging without it");
    }
    const char *from = getenv("PVE_MIGRATED_FROM");
    const char *cpath = h.path ? h.path : "(none)";

    bool rule = false;
    char *why = ph == JOURNAL_PHASE_PRE_START ? policy_refuses(&h, vmid, &vm, &rule) : NULL;
    on_timeout = why ? TIMEOUT_REFUSED : TIMEOUT_START;
    if (why) {
        if (rule) {
            warn("refusing to start VM %" PRIu32 ": it matches %s in '%s'", vmid, why, cpath);
        } else {
            warn("refusing to start VM %" PRIu32 ": %s", vmid, why);
        }
        add_common(&f, JOURNAL_MSG_HOOK_REFUSED, -1);
        add(&f, "MESSAGE=VM %" PRIu32 "%s%s%s start refused by %s", vmid, vm.name ? " '" : "",
            vm.name ? vm.name : "", vm.name ? "'" : "", why);
        add(&f, "PVETMPL_POLICY=%s", why);
    } else {
        char *mig = from && *from ? fmt(" (migrated from %s)", from) : NULL;
        /* A config problem may have switched the policy off: make it stand out. */
        add_common(&f, journal_phase_msg(ph), problems || vm.cut ? 4 : -1);
        add(&f, "MESSAGE=VM %" PRIu32 "%s%s%s %s%s", vmid, vm.name ? " '" : "",
            vm.name ? vm.name : "", vm.name ? "'" : "", phase, mig ? mig : "");
        free(mig);
    }
    add(&f, "PVETMPL_VMID=%" PRIu32, vmid);
    add(&f, "PVETMPL_PHASE=%s", phase);
    if (from && *from) {
        add(&f, "PVETMPL_MIGRATED_FROM=%s", from);
    }
    if (vm.name) {
        add(&f, "PVETMPL_NAME=%s", vm.name);
    }
    if (vm.tags && vm.tags[0]) {
        add(&f, "PVETMPL_TAGS=%s", vm.tags);
    }
    if (vm.source_vmid) {
        add(&f, "PVETMPL_SOURCE_VMID=%" PRIu32, vm.source_vmid);
    }
    if ((why || problems) && h.path) {
        add(&f, "PVETMPL_CONFIG=%s", h.path);
    }
    if (problems) {
        add(&f, "PVETMPL_CONFIG_ERROR=%s", problems);
    }
    if (vm.cut) {
        add(&f, "PVETMPL_VM_CONFIG_ERROR=%s", vm.error);
    }
    char what[64];
    snprintf(what, sizeof(what), "VM %" PRIu32 " %s", vmid, phase);
    send_entry(&f, what);
    int rc = why ? 1 : 0;
    /* Freed so that leak checkers (make sanitize) see none. */
    free(why);
    free(problems);
    return rc;
}
