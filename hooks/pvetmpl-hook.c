/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl-hook: the Proxmox VE hookscript. qemu-server runs it as
 * `<path> <vmid> <phase>` as root while holding the VM's config lock
 * (pve-interface.md §7). It writes one journal entry per call and exits 0:
 * it must never be the reason a VM does not start. The one exception is the
 * documented pre-start policy (hook_refuse_vmids / hook_refuse_tags, off by
 * default), which refuses the start with exit 1.
 *
 * It never runs qm (the lock is held: qm would block for 10 s and fail), and
 * it allocates nothing: fixed buffers, a small scanner for the few config keys
 * it needs instead of the full libconfuse schema.
 *
 * Config lookup (the first that applies; nothing is merged):
 *   1. $PVETMPL_CONFIG, when set and not empty. qemu-server's run_command
 *      only adds LC_ALL and LVM_SUPPRESS_FD_WARNINGS (the CLI also sets
 *      PATH); everything else is inherited, so a value exported in the shell
 *      of an admin who runs `qm start` reaches the hook too;
 *   2. "<hook path>.conf" next to the hook, when that file exists, e.g.
 *      /var/lib/vz/snippets/pvetmpl-hook.conf: a per-storage override that
 *      also works on a shared snippets storage. Ignored (with a warning) unless
 *      it is root-owned and not group/world-writable: the snippets directory
 *      of a storage may be writable by others, and this file decides whether
 *      VMs start;
 *   3. the compiled-in default /etc/pvetmpl/pvetmpl.conf.
 * A missing file means the defaults (pve_dir /etc/pve, no policy). Keys read:
 * pve_dir, node, hook_refuse_vmids, hook_refuse_tags. A config or rule that
 * does not parse never stops a VM, but is never silent either: a warning on
 * stderr, PVETMPL_CONFIG_ERROR in the entry and PRIORITY 4.
 *
 * Proxmox waits for the hook without a timeout while holding the VM's config
 * lock, so nothing here may block forever: files are opened O_NONBLOCK and
 * must be regular (a FIFO would block the open or the read), and an alarm of
 * HOOK_TIMEOUT_SEC seconds covers the rest (a stalled journald whose socket
 * queue is full blocks sd_journal_sendv). When it fires, the hook exits 0 -
 * or 1 once the policy has decided to refuse: a timeout never turns a
 * refusal into a start. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "journal.h"

#ifndef PVETMPL_SYSCONFDIR
#define PVETMPL_SYSCONFDIR "/etc"
#endif
#define HOOK_DEFAULT_CONFIG PVETMPL_SYSCONFDIR "/pvetmpl/pvetmpl.conf"

#define LIST_MAX 4096
/* Seconds before the hook gives up on whatever blocks it (see above). Long
 * enough for a busy journald, short enough not to hold the VM's lock. */
#define HOOK_TIMEOUT_SEC 5

struct hconf {
    char path[PATH_MAX]; /* the file read, "" when none */
    char pve_dir[1024];
    char node[256];
    char vmids[LIST_MAX]; /* NUL-separated items, ends with an empty item */
    size_t vmids_len;
    char tags[LIST_MAX];
    size_t tags_len;
    char error[900]; /* PVETMPL_CONFIG_ERROR: what was ignored, "" when all was fine */
};

struct vminfo {
    char path[PATH_MAX]; /* the config file read, "" when none */
    char name[256];
    char tags[1024];
    uint32_t source_vmid; /* linked-clone base from the disk volids, 0 = unknown */
};

/* Static, not on the stack or heap: read once per call, never freed. */
static char filebuf[64 * 1024];

/* Set once the pre-start policy has decided to refuse: the alarm then exits 1. */
static volatile sig_atomic_t refusing;

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "pvetmpl-hook: timed out (journal or file blocked), giving up\n";
    ssize_t k = write(STDERR_FILENO, m, sizeof(m) - 1);
    (void)k;
    _exit(refusing ? 1 : 0);
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

/* Reads at most sizeof(filebuf)-1 bytes of path, which must be a regular file
 * (a FIFO or device could block us forever); its stat goes into st when not
 * NULL. Returns the length or -errno (-EINVAL: not a regular file). */
static ssize_t read_file(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return -errno;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    if (st) {
        *st = sb;
    }
    size_t n = 0;
    while (n < sizeof(filebuf) - 1) {
        ssize_t k = read(fd, filebuf + n, sizeof(filebuf) - 1 - n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            int r = -errno;
            close(fd);
            return r;
        }
        if (k == 0) {
            break;
        }
        n += (size_t)k;
    }
    close(fd);
    filebuf[n] = '\0';
    return (ssize_t)n;
}

static const char *read_error(ssize_t r)
{
    return r == -EINVAL ? "not a regular file" : strerror((int)-r);
}

/* Appends one problem to h->error ("; "-separated) and says it on stderr. */
static void conf_error(struct hconf *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conf_error(struct hconf *h, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    warn("%s", m);
    size_t l = strlen(h->error);
    snprintf(h->error + l, sizeof(h->error) - l, "%s%s", l ? "; " : "", m);
}

/* ---- the config scanner ----------------------------------------------
 * libconfuse syntax, just enough of it: `key = value`, `key = {a, b}`,
 * `key += {...}`, "..." strings with backslash escapes, '...' strings, bare
 * words, # and // and C comments; sections (`name [title] { ... }`) are
 * skipped. */

enum tok { T_EOF, T_WORD, T_STR, T_EQ, T_PLUSEQ, T_LBRACE, T_RBRACE, T_COMMA, T_BAD };

struct scan {
    const char *p;
    char val[PATH_MAX];
};

static enum tok next_tok(struct scan *s)
{
    for (;;) {
        while (isspace((unsigned char)*s->p)) {
            s->p++;
        }
        if (*s->p == '#' || (s->p[0] == '/' && s->p[1] == '/')) {
            while (*s->p && *s->p != '\n') {
                s->p++;
            }
            continue;
        }
        if (s->p[0] == '/' && s->p[1] == '*') {
            const char *e = strstr(s->p + 2, "*/");
            if (!e) {
                return T_BAD;
            }
            s->p = e + 2;
            continue;
        }
        break;
    }
    char c = *s->p;
    size_t n = 0;
    switch (c) {
    case '\0':
        return T_EOF;
    case '=':
        s->p++;
        return T_EQ;
    case '{':
        s->p++;
        return T_LBRACE;
    case '}':
        s->p++;
        return T_RBRACE;
    case ',':
        s->p++;
        return T_COMMA;
    case '+':
        if (s->p[1] == '=') {
            s->p += 2;
            return T_PLUSEQ;
        }
        break;
    case '"':
    case '\'':
        s->p++;
        while (*s->p && *s->p != c) {
            char ch = *s->p++;
            if (c == '"' && ch == '\\' && *s->p) {
                ch = *s->p++;
                ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
            }
            if (n + 1 < sizeof(s->val)) {
                s->val[n++] = ch;
            }
        }
        if (*s->p != c) {
            return T_BAD;
        }
        s->p++;
        s->val[n] = '\0';
        return T_STR;
    default:
        break;
    }
    while (*s->p && !isspace((unsigned char)*s->p) && !strchr("={},\"'#", *s->p)) {
        if (n + 1 < sizeof(s->val)) {
            s->val[n++] = *s->p;
        }
        s->p++;
    }
    s->val[n] = '\0';
    return n ? T_WORD : T_BAD;
}

static void list_add(char *buf, size_t *len, const char *item)
{
    size_t l = strlen(item);
    if (*len + l + 2 <= LIST_MAX) {
        memcpy(buf + *len, item, l + 1);
        *len += l + 1;
        buf[*len] = '\0';
    }
}

/* Fills h from the text in filebuf. Returns 0, or -1 with the line in *line. */
static int scan_config(struct hconf *h, unsigned *line)
{
    struct scan s = {.p = filebuf};
    if (memcmp(filebuf, "\xEF\xBB\xBF", 3) == 0) {
        /* Otherwise the first key would silently become "\xEF\xBB\xBF<key>". */
        conf_error(h, "'%s' starts with a UTF-8 byte order mark; skipped it", h->path);
        s.p += 3;
    }
    int depth = 0;
    char key[64];
    enum tok t;
    while ((t = next_tok(&s)) != T_EOF) {
        if (t == T_RBRACE && depth > 0) {
            depth--;
            continue;
        }
        if (t != T_WORD) {
            goto bad;
        }
        snprintf(key, sizeof(key), "%.63s", s.val);
        t = next_tok(&s);
        if (t == T_LBRACE || t == T_WORD || t == T_STR) {
            /* a section: "name {" or "name title {" */
            if (t != T_LBRACE && next_tok(&s) != T_LBRACE) {
                goto bad;
            }
            depth++;
            continue;
        }
        if (t != T_EQ && t != T_PLUSEQ) {
            goto bad;
        }
        bool append = t == T_PLUSEQ;
        char *lbuf = NULL;
        size_t *llen = NULL;
        if (depth == 0 && strcmp(key, "hook_refuse_vmids") == 0) {
            lbuf = h->vmids;
            llen = &h->vmids_len;
        } else if (depth == 0 && strcmp(key, "hook_refuse_tags") == 0) {
            lbuf = h->tags;
            llen = &h->tags_len;
        } else if (depth == 0 && strncmp(key, "hook_refuse", 11) == 0) {
            /* A misspelt policy key would otherwise switch the policy off. */
            conf_error(h, "unknown key '%s' in '%s' ignored", key, h->path);
        }
        if (lbuf && !append) {
            *llen = 0;
            lbuf[0] = '\0';
        }
        t = next_tok(&s);
        if (t == T_LBRACE) {
            for (;;) {
                t = next_tok(&s);
                if (t == T_RBRACE) {
                    break;
                }
                if (t != T_WORD && t != T_STR) {
                    goto bad;
                }
                if (lbuf) {
                    list_add(lbuf, llen, s.val);
                }
                t = next_tok(&s);
                if (t == T_RBRACE) {
                    break;
                }
                if (t != T_COMMA) {
                    goto bad;
                }
            }
            continue;
        }
        if (t != T_WORD && t != T_STR) {
            goto bad;
        }
        if (depth != 0) {
            continue;
        }
        if (lbuf) {
            list_add(lbuf, llen, s.val);
        } else if (strcmp(key, "pve_dir") == 0) {
            snprintf(h->pve_dir, sizeof(h->pve_dir), "%.1023s", s.val);
        } else if (strcmp(key, "node") == 0) {
            snprintf(h->node, sizeof(h->node), "%.255s", s.val);
        }
    }
    return 0;
bad:
    *line = 1;
    for (const char *q = filebuf; q < s.p; q++) {
        *line += *q == '\n';
    }
    return -1;
}

static void load_config(struct hconf *h, const char *self)
{
    snprintf(h->pve_dir, sizeof(h->pve_dir), "/etc/pve");
    const char *path = getenv("PVETMPL_CONFIG");
    bool must_exist = path && *path;
    bool is_side = false;
    char side[PATH_MAX];
    if (!must_exist) {
        path = HOOK_DEFAULT_CONFIG;
        if (self[0] == '/' && snprintf(side, sizeof(side), "%s.conf", self) < (int)sizeof(side) &&
            access(side, F_OK) == 0) {
            path = side;
            must_exist = is_side = true;
        }
    }
    struct stat st;
    ssize_t n = read_file(path, &st);
    if (n >= 0 && is_side && (st.st_uid != 0 || (st.st_mode & 022))) {
        /* Anyone who can write it could refuse starts or hide the policy. */
        conf_error(h, "ignoring '%s': it is %s", path,
                   st.st_uid != 0 ? "not owned by root" : "group- or world-writable");
        path = HOOK_DEFAULT_CONFIG;
        must_exist = false;
        n = read_file(path, NULL);
    }
    if (n < 0) {
        if (must_exist || n != -ENOENT) {
            conf_error(h, "cannot read config '%s': %s, using the defaults", path, read_error(n));
        }
        return;
    }
    snprintf(h->path, sizeof(h->path), "%s", path);
    unsigned line = 0;
    if (scan_config(h, &line) < 0) {
        /* A broken config must not stop VMs: no policy, default paths. */
        char keep[PATH_MAX], err[sizeof(h->error)];
        snprintf(keep, sizeof(keep), "%s", h->path);
        snprintf(err, sizeof(err), "%s", h->error);
        memset(h, 0, sizeof(*h));
        snprintf(h->path, sizeof(h->path), "%s", keep);
        snprintf(h->error, sizeof(h->error), "%s", err);
        snprintf(h->pve_dir, sizeof(h->pve_dir), "/etc/pve");
        conf_error(h, "cannot parse config '%s' at line %u, using the defaults (no policy)", path,
                   line);
    }
}

/* ---- the VM's config --------------------------------------------------- */

static bool is_drive_key(const char *k, size_t len)
{
    static const char *const pfx[] = {"ide",     "sata",     "scsi",  "virtio",
                                      "efidisk", "tpmstate", "unused"};
    for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
        size_t pl = strlen(pfx[i]);
        if (len > pl && strncmp(k, pfx[i], pl) == 0) {
            size_t j = pl;
            while (j < len && isdigit((unsigned char)k[j])) {
                j++;
            }
            if (j == len) {
                return true;
            }
        }
    }
    return false;
}

/* Reads name, tags and the linked-clone base from the main section of
 * <pve_dir>/qemu-server/<vmid>.conf (the symlink a real node has) or
 * <pve_dir>/nodes/<node>/qemu-server/<vmid>.conf. */
static int load_vm(const struct hconf *h, uint32_t vmid, struct vminfo *vm)
{
    char node[256];
    snprintf(node, sizeof(node), "%s", h->node);
    if (!node[0]) {
        struct utsname u;
        if (uname(&u) == 0) {
            /* PVE's node name is the short host name. */
            snprintf(node, sizeof(node), "%.*s", (int)strcspn(u.nodename, "."), u.nodename);
        }
    }
    snprintf(vm->path, sizeof(vm->path), "%.1023s/qemu-server/%" PRIu32 ".conf", h->pve_dir, vmid);
    ssize_t n = read_file(vm->path, NULL);
    if (n == -ENOENT && node[0]) {
        snprintf(vm->path, sizeof(vm->path), "%.1023s/nodes/%.255s/qemu-server/%" PRIu32 ".conf",
                 h->pve_dir, node, vmid);
        n = read_file(vm->path, NULL);
    }
    if (n < 0) {
        return (int)n;
    }
    for (char *l = filebuf; *l;) {
        char *eol = strchr(l, '\n');
        size_t len = eol ? (size_t)(eol - l) : strlen(l);
        if (l[0] == '[') {
            break; /* [PENDING], [special:...], snapshots: not the running config */
        }
        char *colon = memchr(l, ':', len);
        if (l[0] != '#' && colon) {
            size_t kl = (size_t)(colon - l);
            char *v = colon + 1;
            while (v < l + len && *v == ' ') {
                v++;
            }
            int vl = (int)(l + len - v);
            if (kl == 4 && strncmp(l, "name", 4) == 0) {
                snprintf(vm->name, sizeof(vm->name), "%.*s", vl, v);
            } else if (kl == 4 && strncmp(l, "tags", 4) == 0) {
                snprintf(vm->tags, sizeof(vm->tags), "%.*s", vl, v);
            } else if (!vm->source_vmid && is_drive_key(l, kl)) {
                char vol[512], opts[512];
                size_t vlen = strcspn(v, ",\n");
                snprintf(vol, sizeof(vol), "%.*s", (int)vlen, v);
                snprintf(opts, sizeof(opts), ",%.*s,", vl - (int)vlen, v + vlen);
                /* A CD-ROM's image is never a linked clone's base, whatever its name. */
                if (!strstr(opts, ",media=cdrom,")) {
                    vm->source_vmid = journal_base_vmid(vol, vmid);
                }
            }
        }
        l = eol ? eol + 1 : l + len;
    }
    return 0;
}

/* ---- the pre-start policy ---------------------------------------------- */

/* A VMID: 3 to 9 digits, no leading zero (pve-vmid). */
static bool parse_vmid(const char *s, size_t len, uint32_t *ret)
{
    if (len < 3 || len > 9 || s[0] == '0') {
        return false;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    *ret = v;
    return true;
}

/* A rule is "N" or "A-B" (A <= B); fills [*lo, *hi]. */
static bool parse_vmid_rule(const char *rule, uint32_t *lo, uint32_t *hi)
{
    const char *dash = strchr(rule, '-');
    if (!dash) {
        return parse_vmid(rule, strlen(rule), lo) && (*hi = *lo, true);
    }
    return parse_vmid(rule, (size_t)(dash - rule), lo) &&
           parse_vmid(dash + 1, strlen(dash + 1), hi) && *lo <= *hi;
}

static bool vmid_rule_matches(const char *rule, uint32_t vmid)
{
    uint32_t a, b;
    return parse_vmid_rule(rule, &a, &b) && a <= vmid && vmid <= b;
}

/* pve-tag: [a-z0-9_][a-z0-9_+.-]*, any case. */
static bool valid_tag(const char *t)
{
    if (!*t || *t == '-' || *t == '+' || *t == '.') {
        return false;
    }
    for (; *t; t++) {
        if (!isalnum((unsigned char)*t) && !strchr("_+.-", *t)) {
            return false;
        }
    }
    return true;
}

/* A rule that cannot match anything would quietly switch that part of the
 * policy off: say so, so the entry and stderr show it. */
static void check_rules(struct hconf *h)
{
    uint32_t a, b;
    for (const char *r = h->vmids; *r; r += strlen(r) + 1) {
        if (!parse_vmid_rule(r, &a, &b)) {
            conf_error(h,
                       "ignoring hook_refuse_vmids rule '%.64s' in '%s': not a VMID (3-9 "
                       "digits, no leading zero) or a range LOW-HIGH",
                       r, h->path);
        }
    }
    for (const char *t = h->tags; *t; t += strlen(t) + 1) {
        if (!valid_tag(t)) {
            conf_error(h, "ignoring hook_refuse_tags rule '%.64s' in '%s': not a valid tag", t,
                       h->path);
        }
    }
}

/* PVE splits tags on ';', ',' and spaces; comparison ignores case. */
static bool has_tag(const char *tags, const char *want)
{
    size_t wl = strlen(want);
    for (const char *p = tags; *p;) {
        size_t l = strcspn(p, ";, ");
        if (l == wl && l && strncasecmp(p, want, l) == 0) {
            return true;
        }
        p += l;
        p += *p != '\0';
    }
    return false;
}

/* Writes the matching rule into why; returns true to refuse. */
static bool policy_refuses(const struct hconf *h, uint32_t vmid, const struct vminfo *vm, char *why,
                           size_t whylen)
{
    for (const char *r = h->vmids; *r; r += strlen(r) + 1) {
        if (vmid_rule_matches(r, vmid)) {
            snprintf(why, whylen, "hook_refuse_vmids '%.200s'", r);
            return true;
        }
    }
    for (const char *t = h->tags; *t; t += strlen(t) + 1) {
        if (has_tag(vm->tags, t)) {
            snprintf(why, whylen, "hook_refuse_tags '%.200s'", t);
            return true;
        }
    }
    return false;
}

/* ---- the entry --------------------------------------------------------- */

struct fields {
    struct iovec iov[16];
    char buf[16][1100];
    int n;
};

static void add(struct fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct fields *f, const char *fmt, ...)
{
    if (f->n >= 16) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(f->buf[f->n], sizeof(f->buf[f->n]), fmt, ap);
    va_end(ap);
    if (k < 0) {
        return;
    }
    f->iov[f->n].iov_base = f->buf[f->n];
    f->iov[f->n].iov_len = strlen(f->buf[f->n]);
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

int main(int argc, char **argv)
{
    static struct fields f;
    static struct hconf h;
    static struct vminfo vm;
    const char *self = argc > 0 && argv[0] ? argv[0] : "pvetmpl-hook";

    /* First of all: nothing below may hold the VM's lock forever. */
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(HOOK_TIMEOUT_SEC);

    uint32_t vmid = 0;
    bool vmid_ok = argc >= 2 && parse_vmid(argv[1], strlen(argv[1]), &vmid);
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
    load_config(&h, self);
    check_rules(&h);
    int r = load_vm(&h, vmid, &vm);
    if (r < 0) {
        warn("cannot read the config of VM %" PRIu32 " ('%s'): %s, logging without it", vmid,
             vm.path, read_error(r));
    }
    const char *from = getenv("PVE_MIGRATED_FROM");

    char why[256];
    if (ph == JOURNAL_PHASE_PRE_START && policy_refuses(&h, vmid, &vm, why, sizeof(why))) {
        refusing = 1;
        warn("refusing to start VM %" PRIu32 ": it matches %s in '%s'", vmid, why,
             h.path[0] ? h.path : "(no config)");
        add_common(&f, JOURNAL_MSG_HOOK_REFUSED, -1);
        add(&f, "MESSAGE=VM %" PRIu32 "%s%s%s start refused by %s", vmid, vm.name[0] ? " '" : "",
            vm.name, vm.name[0] ? "'" : "", why);
        add(&f, "PVETMPL_POLICY=%s", why);
    } else {
        char mig[300] = "";
        if (from && *from) {
            snprintf(mig, sizeof(mig), " (migrated from %.255s)", from);
        }
        /* A config problem may have switched the policy off: make it stand out. */
        add_common(&f, journal_phase_msg(ph), h.error[0] ? 4 : -1);
        add(&f, "MESSAGE=VM %" PRIu32 "%s%s%s %s%s", vmid, vm.name[0] ? " '" : "", vm.name,
            vm.name[0] ? "'" : "", phase, mig);
        why[0] = '\0';
    }
    add(&f, "PVETMPL_VMID=%" PRIu32, vmid);
    add(&f, "PVETMPL_PHASE=%s", phase);
    if (from && *from) {
        add(&f, "PVETMPL_MIGRATED_FROM=%.255s", from);
    }
    if (vm.name[0]) {
        add(&f, "PVETMPL_NAME=%s", vm.name);
    }
    if (vm.tags[0]) {
        add(&f, "PVETMPL_TAGS=%s", vm.tags);
    }
    if (vm.source_vmid) {
        add(&f, "PVETMPL_SOURCE_VMID=%" PRIu32, vm.source_vmid);
    }
    if ((why[0] || h.error[0]) && h.path[0]) {
        add(&f, "PVETMPL_CONFIG=%s", h.path);
    }
    if (h.error[0]) {
        add(&f, "PVETMPL_CONFIG_ERROR=%s", h.error);
    }
    char what[64];
    snprintf(what, sizeof(what), "VM %" PRIu32 " %s", vmid, phase);
    send_entry(&f, what);
    return why[0] ? 1 : 0;
}
