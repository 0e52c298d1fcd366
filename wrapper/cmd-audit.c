/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] [--json]
 *               [--all-users] [-D DIR | --file FILE...]
 *
 * Reads pvetmpl's own entries (the wrapper's audit events and the hook's
 * phase events) through libsystemd: field matches on MESSAGE_ID,
 * SYSLOG_IDENTIFIER and _UID=0, so unrelated entries are never even read.
 * Only the journal-set _UID can be trusted: any local user can write an
 * entry with our MESSAGE_ID, identifier and PVETMPL_* fields, but the hook
 * and every state change run as root. --all-users lifts the _UID match and
 * marks the other rows untrusted.
 *
 * --vmid follows lineage both ways along "source -> vmid" edges: the VM's
 * ancestors (the template it came from, the VM that template was made from)
 * and its descendants (clones, their clones). Edges come from root's
 * succeeded clone and make-template events (a started or failed clone may
 * have left no VM, and a later unrelated VM may reuse its VMID) and from the
 * hook's PVETMPL_SOURCE_VMID (the base of a linked clone's disks). */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "journal.h"
#include "validate.h"

struct aev {
    uint64_t usec;
    enum journal_msg msg;
    uint32_t vmid, src;
    long exit_code, duration_ms; /* -1 = absent */
    bool trusted;                /* written by root (_UID=0) */
    /* owned copies, NULL when the field is absent */
    char *action, *result, *phase, *name, *storage, *volid, *user, *uid, *error, *tags,
        *migrated_from, *policy, *plan, *message, *hostname, *loginuid, *config_error;
};

struct aevs {
    struct aev *v;
    size_t n, alloc;
};

static void aev_release(struct aev *a)
{
    char **fs[] = {&a->action,        &a->result,      &a->phase, &a->name,    &a->storage,
                   &a->volid,         &a->user,        &a->uid,   &a->error,   &a->tags,
                   &a->migrated_from, &a->policy,      &a->plan,  &a->message, &a->hostname,
                   &a->loginuid,      &a->config_error};
    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
        free(*fs[i]);
        *fs[i] = NULL;
    }
}

static void aevs_release(struct aevs *l)
{
    for (size_t i = 0; i < l->n; i++) {
        aev_release(&l->v[i]);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->alloc = 0;
}

/* The value of field (without "FIELD="), as a malloc'd string; NULL when absent. */
static char *field(sd_journal *j, const char *name, int *oom)
{
    const void *d;
    size_t l;
    size_t nl = strlen(name);
    if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= nl) {
        return NULL;
    }
    char *s = strndup((const char *)d + nl + 1, l - nl - 1);
    if (!s) {
        *oom = 1;
    }
    return s;
}

/* A plain decimal up to max, else -1. */
static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;
    if (!*s) {
        return -1;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10) {
            return -1;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *ret = v;
    return 0;
}

static uint32_t field_u32(sd_journal *j, const char *name, int *oom)
{
    char *s = field(j, name, oom);
    uint64_t v = 0;
    if (s && parse_uint(s, UINT32_MAX, &v) < 0) {
        v = 0;
    }
    free(s);
    return (uint32_t)v;
}

static long field_long(sd_journal *j, const char *name, int *oom)
{
    char *s = field(j, name, oom);
    uint64_t v = 0;
    long r = -1;
    if (s && parse_uint(s, LONG_MAX, &v) == 0) {
        r = (long)v;
    }
    free(s);
    return r;
}

static int read_entry(sd_journal *j, struct aev *a)
{
    int oom = 0;
    char *mid = field(j, "MESSAGE_ID", &oom);
    memset(a, 0, sizeof(*a));
    a->msg = journal_msg_from_id(mid);
    free(mid);
    if (a->msg == _JOURNAL_MSG_INVALID) {
        return 1; /* not ours after all */
    }
    (void)sd_journal_get_realtime_usec(j, &a->usec);
    a->vmid = field_u32(j, "PVETMPL_VMID", &oom);
    a->src = field_u32(j, "PVETMPL_SOURCE_VMID", &oom);
    a->exit_code = field_long(j, "PVETMPL_EXIT", &oom);
    a->duration_ms = field_long(j, "PVETMPL_DURATION_MS", &oom);
    a->action = field(j, "PVETMPL_ACTION", &oom);
    a->result = field(j, "PVETMPL_RESULT", &oom);
    a->phase = field(j, "PVETMPL_PHASE", &oom);
    a->name = field(j, "PVETMPL_NAME", &oom);
    a->storage = field(j, "PVETMPL_STORAGE", &oom);
    a->volid = field(j, "PVETMPL_VOLID", &oom);
    a->user = field(j, "PVETMPL_USER", &oom);
    a->uid = field(j, "_UID", &oom);
    a->error = field(j, "PVETMPL_ERROR", &oom);
    a->tags = field(j, "PVETMPL_TAGS", &oom);
    a->migrated_from = field(j, "PVETMPL_MIGRATED_FROM", &oom);
    a->policy = field(j, "PVETMPL_POLICY", &oom);
    a->plan = field(j, "PVETMPL_PLAN", &oom);
    a->message = field(j, "MESSAGE", &oom);
    a->hostname = field(j, "_HOSTNAME", &oom);
    a->loginuid = field(j, "_AUDIT_LOGINUID", &oom);
    a->config_error = field(j, "PVETMPL_CONFIG_ERROR", &oom);
    a->trusted = a->uid && strcmp(a->uid, "0") == 0;
    if (oom) {
        aev_release(a);
        return -ENOMEM;
    }
    return 0;
}

/* What the ACTION column shows: pvetmpl's action, or the hook's phase. */
static const char *aev_action(const struct aev *a)
{
    if (a->action) {
        return a->action;
    }
    if (a->msg == JOURNAL_MSG_HOOK_INVALID) {
        return "hook-invalid";
    }
    return a->phase ? a->phase : "-";
}

static const char *aev_result(const struct aev *a)
{
    if (a->result) {
        return a->result;
    }
    switch (a->msg) {
    case JOURNAL_MSG_HOOK_REFUSED:
        return "refused";
    case JOURNAL_MSG_HOOK_INVALID:
        return "ignored";
    default:
        return "ok";
    }
}

static int open_journal(sd_journal **j, const char *dir, char **files, size_t nfiles, struct err *e)
{
    int r;
    const char *what = dir ? dir : nfiles ? files[0] : "the system journal";
    if (dir) {
        r = sd_journal_open_directory(j, dir, 0);
    } else if (nfiles) {
        r = sd_journal_open_files(j, (const char **)files, 0);
    } else {
        r = sd_journal_open(j, 0);
    }
    if (r < 0) {
        return err_set(e, ERR_PRECONDITION, "cannot open the journal '%s': %s", what, strerror(-r));
    }
    return 0;
}

/* The hook's kinds that --action names by their MESSAGE_ID: a phase (whose
 * refusals show as that phase too) or "hook-invalid". Fills ids; returns how
 * many, 0 when action is one of pvetmpl's own actions. */
static size_t hook_kind_ids(const char *action, enum journal_msg ids[2])
{
    enum journal_phase ph = journal_phase_from_string(action);
    if (ph != _JOURNAL_PHASE_INVALID) {
        ids[0] = journal_phase_msg(ph);
        ids[1] = JOURNAL_MSG_HOOK_REFUSED;
        return ph == JOURNAL_PHASE_PRE_START ? 2 : 1;
    }
    if (strcmp(action, "hook-invalid") == 0) {
        ids[0] = JOURNAL_MSG_HOOK_INVALID;
        return 1;
    }
    return 0;
}

static int add_matches(sd_journal *j, const char *action, bool all_users)
{
    int r = 0;
    char m[128];
    enum journal_msg ids[2];
    size_t nk = action ? hook_kind_ids(action, ids) : 0;
    for (int i = 0; i < _JOURNAL_MSG_MAX && r >= 0; i++) {
        bool want = nk == 0 || ids[0] == (enum journal_msg)i || (nk > 1 && ids[1] == i);
        if (want) {
            snprintf(m, sizeof(m), "MESSAGE_ID=%s", journal_msg_info((enum journal_msg)i)->id);
            r = sd_journal_add_match(j, m, 0);
        }
    }
    /* Same field ORs, different fields AND: ours by id and by identifier. */
    if (r >= 0) {
        r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=" JOURNAL_IDENT, 0);
    }
    if (r >= 0) {
        r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=" JOURNAL_HOOK_IDENT, 0);
    }
    if (r >= 0 && !all_users) {
        r = sd_journal_add_match(j, "_UID=0", 0);
    }
    if (r >= 0 && action && nk == 0) {
        snprintf(m, sizeof(m), "PVETMPL_ACTION=%s", action);
        r = sd_journal_add_match(j, m, 0);
    }
    return r;
}

/* Reads every matching entry. A read error ends the scan with what was read
 * so far: *read_err is set, the caller warns. */
static int load(sd_journal *j, struct aevs *l, int *read_err, struct err *e)
{
    int r;
    *read_err = 0;
    for (;;) {
        r = sd_journal_next(j);
        if (r < 0) {
            *read_err = r;
            break;
        }
        if (r == 0) {
            break;
        }
        if (l->n == l->alloc) {
            size_t na = l->alloc ? l->alloc * 2 : 64;
            struct aev *nv = realloc(l->v, na * sizeof(*nv));
            if (!nv) {
                return err_set(e, ERR_INTERNAL, "out of memory");
            }
            l->v = nv;
            l->alloc = na;
        }
        r = read_entry(j, &l->v[l->n]);
        if (r < 0) {
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
        if (r == 0) {
            l->n++;
        }
    }
    return 0;
}

static bool in_set(const uint32_t *s, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == v) {
            return true;
        }
    }
    return false;
}

/* Grows set along edges src->vmid (down) or vmid->src (up) until stable.
 * *n is the set's size; the set has room for cap entries. */
static void closure(const struct aevs *l, uint32_t *set, size_t *n, size_t cap, bool down)
{
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < l->n && *n < cap; i++) {
            const struct aev *a = &l->v[i];
            /* Only what proves the VM exists: a finished clone/conversion, or
             * the hook seeing a linked clone's base (phases and refusals). A
             * failed clone may or may not have left a VM; nothing tells. */
            bool real =
                a->msg == JOURNAL_MSG_ACTION_SUCCEEDED ||
                (a->msg >= JOURNAL_MSG_HOOK_PRE_START && a->msg <= JOURNAL_MSG_HOOK_REFUSED);
            if (!a->vmid || !a->src || !real || !a->trusted) {
                continue;
            }
            uint32_t from = down ? a->src : a->vmid, to = down ? a->vmid : a->src;
            if (in_set(set, *n, from) && !in_set(set, *n, to)) {
                set[(*n)++] = to;
                grew = true;
            }
        }
    }
}

static void fmt_time(uint64_t usec, char *buf, size_t len, bool utc)
{
    time_t t = (time_t)(usec / 1000000ULL);
    struct tm tm;
    if (utc) {
        gmtime_r(&t, &tm);
        size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + k, len - k,
                 ".%06u"
                 "Z",
                 (unsigned)(usec % 1000000ULL));
    } else {
        localtime_r(&t, &tm);
        strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    }
}

static void print_json(const struct aev *a)
{
    struct json_object *o = json_object_new_object();
    char t[64];
    if (!o) {
        return;
    }
    fmt_time(a->usec, t, sizeof(t), true);
    json_object_object_add(o, "time", json_object_new_string(t));
    json_object_object_add(o, "realtime_usec", json_object_new_int64((int64_t)a->usec));
    json_object_object_add(o, "event", json_object_new_string(journal_msg_info(a->msg)->name));
    json_object_object_add(o, "message_id", json_object_new_string(journal_msg_info(a->msg)->id));
    json_object_object_add(o, "action", json_object_new_string(aev_action(a)));
    json_object_object_add(o, "result", json_object_new_string(aev_result(a)));
    if (a->vmid) {
        json_object_object_add(o, "vmid", json_object_new_int64(a->vmid));
    }
    if (a->src) {
        json_object_object_add(o, "source_vmid", json_object_new_int64(a->src));
    }
    if (a->exit_code >= 0) {
        json_object_object_add(o, "exit", json_object_new_int64(a->exit_code));
    }
    if (a->duration_ms >= 0) {
        json_object_object_add(o, "duration_ms", json_object_new_int64(a->duration_ms));
    }
    json_object_object_add(o, "trusted", json_object_new_boolean(a->trusted));
    const struct {
        const char *key, *val;
    } strs[] = {
        {"phase", a->phase},
        {"name", a->name},
        {"storage", a->storage},
        {"volid", a->volid},
        {"user", a->user},
        {"uid", a->uid},
        {"error", a->error},
        {"tags", a->tags},
        {"migrated_from", a->migrated_from},
        {"policy", a->policy},
        {"plan", a->plan},
        {"hostname", a->hostname},
        {"message", a->message},
        {"audit_loginuid", a->loginuid},
        {"config_error", a->config_error},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i].val) {
            json_object_object_add(o, strs[i].key, json_object_new_string(strs[i].val));
        }
    }
    report_print_json(stdout, o); /* journal fields may hold any bytes */
    json_object_put(o);
}

/* Copies src into dst for the table: control characters (C0, DEL, C1 in
 * UTF-8) become '?', so a forged field cannot move the cursor, recolour the
 * terminal or fake a row. */
static void clean(char *dst, size_t len, const char *src)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(src ? src : "-"); *p && n + 1 < len;
         p++) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[n++] = '?';
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            dst[n++] = '?';
            p++;
        } else {
            dst[n++] = (char)*p;
        }
    }
    dst[n] = '\0';
}

static void print_row(const struct aev *a)
{
    char t[32], vm[16] = "-", src[16] = "-", raw[1200] = "", uid[48];
    char action[64], result[32], name[128], storage[64], user[64], cuid[48], detail[1300];
    fmt_time(a->usec, t, sizeof(t), false);
    if (a->vmid) {
        snprintf(vm, sizeof(vm), "%" PRIu32, a->vmid);
    }
    if (a->src) {
        snprintf(src, sizeof(src), "%" PRIu32, a->src);
    }
    if (a->error) {
        snprintf(raw, sizeof(raw), "%s", a->error);
    } else if (a->policy) {
        snprintf(raw, sizeof(raw), "policy %s", a->policy);
    } else if (a->config_error) {
        snprintf(raw, sizeof(raw), "config: %s", a->config_error);
    } else if (a->migrated_from) {
        snprintf(raw, sizeof(raw), "migrated from %s", a->migrated_from);
    } else if (a->duration_ms >= 0) {
        snprintf(raw, sizeof(raw), "%ld ms", a->duration_ms);
    } else if (a->volid) {
        snprintf(raw, sizeof(raw), "%s", a->volid);
    }
    /* _UID, and the login uid behind it when the kernel recorded one. */
    bool has_login = a->loginuid && strcmp(a->loginuid, "4294967295") != 0;
    snprintf(uid, sizeof(uid), "%.16s%s%.16s", a->uid ? a->uid : "?", has_login ? "/" : "",
             has_login ? a->loginuid : "");
    clean(action, sizeof(action), aev_action(a));
    clean(result, sizeof(result), aev_result(a));
    clean(name, sizeof(name), a->name);
    clean(storage, sizeof(storage), a->storage);
    clean(user, sizeof(user), a->user);
    clean(cuid, sizeof(cuid), uid);
    char d[sizeof(raw)];
    clean(d, sizeof(d), raw[0] ? raw : "");
    /* Not root's: anyone could have written it. */
    snprintf(detail, sizeof(detail), "%s%s", a->trusted ? "" : "UNTRUSTED (not written by root) ",
             d);
    printf("%-19s  %-14s %-9s  %-9s %-9s %-28s %-12s %-10s %-10s %s\n", t, action, result, vm, src,
           name, storage, user, cuid, detail);
}

static int usage(struct err *e, const char *fmt, const char *arg)
{
    char m[512];
    snprintf(m, sizeof(m), fmt, arg);
    return err_set(e, ERR_USAGE,
                   "%s (usage: pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] "
                   "[--json] [--all-users] [-D DIR|--file FILE])",
                   m);
}

/* A warning that reaches stderr also with --json: stdout then holds JSON
 * lines, not the report that would otherwise carry it. */
static void audit_warn(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void audit_warn(struct ctx *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cmd_warn(c, "%s", buf);
    if (c->json) {
        fprintf(stderr, "pvetmpl: warning: %s\n", buf);
    }
}

/* Whether we are in a group that can read the system journal. */
static bool journal_group_member(void)
{
    static const char *const names[] = {"adm", "systemd-journal", "wheel"};
    gid_t gids[256];
    int n = getgroups(sizeof(gids) / sizeof(gids[0]), gids);
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        struct group *g = getgrnam(names[k]);
        if (!g) {
            continue;
        }
        if (g->gr_gid == getegid()) {
            return true;
        }
        for (int i = 0; i < n; i++) {
            if (gids[i] == g->gr_gid) {
                return true;
            }
        }
    }
    return false;
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static const char *const help_audit =
    "usage: pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] [--json]\n"
    "                     [--all-users] [-D DIR | --file FILE]\n"
    "\n"
    "History from the systemd journal: who made which template from which VM on\n"
    "which storage when, the VMs cloned from it, and their starts and stops.\n"
    "\n"
    "  --vmid N        N and its lineage both ways (its source, its clones)\n"
    "  --since T, --until T  time limits, as journalctl takes them\n"
    "                  ('2026-11-26 10:00', '@EPOCH', 'today', 'yesterday', '-1h')\n"
    "  --action A      only this action or hook phase (make-template, clone, pre-start...)\n"
    "  --json          one JSON object per line instead of the table\n"
    "  --all-users     also entries not written by root (_UID != 0), marked UNTRUSTED:\n"
    "                  anyone can write an entry that looks like pvetmpl's\n"
    "  -D DIR, --file FILE  read an exported journal directory or file\n";

int cmd_audit(struct ctx *c, int argc, char **argv, struct err *e)
{
    const char *dir = NULL, *action = NULL;
    bool all_users = false;
    uint32_t vmid = 0;
    uint64_t since = 0, until = UINT64_MAX;
    char **files = calloc((size_t)argc + 1, sizeof(*files));
    size_t nfiles = 0;
    int rc = -1;
    sd_journal *j = NULL;
    struct aevs l = {0};
    uint32_t *set = NULL;

    if (!files) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        const char *eq = strchr(a, '=');
        char opt[32];
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof(opt)) {
            snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(opt, sizeof(opt), "%.31s", a);
        }
        bool takes =
            strcmp(opt, "--vmid") == 0 || strcmp(opt, "--since") == 0 || strcmp(opt, "-S") == 0 ||
            strcmp(opt, "--until") == 0 || strcmp(opt, "-U") == 0 || strcmp(opt, "--action") == 0 ||
            strcmp(opt, "-D") == 0 || strcmp(opt, "--directory") == 0 || strcmp(opt, "--file") == 0;
        if (takes && !val) {
            if (i + 1 >= argc) {
                usage(e, "option '%s' needs a value", opt);
                goto out;
            }
            val = argv[++i];
        }
        if (strcmp(opt, "--json") == 0) {
            c->json = true;
        } else if (strcmp(opt, "--all-users") == 0) {
            all_users = true;
        } else if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            cmd_help(c, help_audit);
            c->own_output = !c->json;
            rc = 0;
            goto out;
        } else if (strcmp(opt, "--vmid") == 0) {
            char msg[256];
            if (validate_vmid(val, &vmid, msg, sizeof(msg)) < 0) {
                err_set(e, ERR_USAGE, "%s", msg);
                goto out;
            }
        } else if (strcmp(opt, "--since") == 0 || strcmp(opt, "-S") == 0 ||
                   strcmp(opt, "--until") == 0 || strcmp(opt, "-U") == 0) {
            bool is_since = opt[2] == 's' || opt[1] == 'S';
            if (journal_parse_time(val, now_usec(), is_since ? &since : &until) < 0) {
                err_set(e, ERR_USAGE,
                        "invalid %s value '%.64s': expected YYYY-MM-DD [HH:MM[:SS]], @EPOCH, "
                        "today, yesterday, now or a relative time such as -1h",
                        is_since ? "--since" : "--until", val);
                goto out;
            }
        } else if (strcmp(opt, "--action") == 0) {
            if (!*val) {
                usage(e, "%s", "--action needs a non-empty value");
                goto out;
            }
            action = val;
        } else if (strcmp(opt, "-D") == 0 || strcmp(opt, "--directory") == 0) {
            dir = val;
        } else if (strcmp(opt, "--file") == 0) {
            files[nfiles++] = (char *)val;
        } else {
            usage(e, "unknown argument '%s'", a);
            goto out;
        }
    }
    if (dir && nfiles) {
        usage(e, "%s", "-D and --file exclude each other");
        goto out;
    }
    if (since > until) {
        usage(e, "%s", "--since is after --until");
        goto out;
    }
    report_set_action(c->rep, "audit");

    if (open_journal(&j, dir, files, nfiles, e) < 0) {
        goto out;
    }
    /* With --vmid, lineage needs every event: --action filters afterwards. */
    int r = add_matches(j, vmid ? NULL : action, all_users);
    if (r < 0) {
        err_set(e, ERR_INTERNAL, "cannot add journal matches: %s", strerror(-r));
        goto out;
    }
    int read_err = 0;
    if (load(j, &l, &read_err, e) < 0) {
        goto out;
    }
    if (read_err < 0) {
        audit_warn(c, "reading the journal stopped early: %s; the history below may be incomplete",
                   strerror(-read_err));
    }

    /* set = ancestors (with vmid) followed by down = descendants (with vmid). */
    size_t nset = 0, ndown = 0, cap = 2 * l.n + 2;
    uint32_t *down = NULL;
    if (vmid) {
        set = calloc(cap, sizeof(*set));
        if (!set) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out;
        }
        /* Ancestors first, then descendants of the VM itself (not of its
         * ancestors: siblings are another lineage). */
        set[nset++] = vmid;
        closure(&l, set, &nset, cap, false);
        down = set + nset;
        down[ndown++] = vmid;
        closure(&l, down, &ndown, cap - nset, true);
        nset += ndown;
    }

    size_t shown = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct aev *a = &l.v[i];
        if (a->usec < since || a->usec > until) {
            continue;
        }
        if (action && strcmp(aev_action(a), action) != 0) {
            continue;
        }
        /* A VM of the lineage, or an attempt (dry run, refusal) to derive a
         * VM from one of its descendants; not a sibling's clone. */
        if (vmid && !in_set(set, nset, a->vmid) && !(a->src && in_set(down, ndown, a->src))) {
            continue;
        }
        if (c->json) {
            print_json(a);
        } else {
            if (shown == 0) {
                printf("%-19s  %-14s %-9s  %-9s %-9s %-28s %-12s %-10s %-10s %s\n", "TIME",
                       "ACTION", "RESULT", "VMID", "SOURCE", "NAME", "STORAGE", "USER", "UID",
                       "DETAIL");
            }
            print_row(a);
        }
        shown++;
    }
    if (shown == 0 && !dir && !nfiles && !sd_journal_has_runtime_files(j) &&
        !sd_journal_has_persistent_files(j)) {
        /* sd_journal_open skips what it may not read: nothing matched because
         * nothing could be read, not because nothing happened. */
        audit_warn(c,
                   "no journal file was readable (uid %u): members of the group adm or "
                   "systemd-journal, or root, can read the system journal",
                   (unsigned)geteuid());
    } else if (shown == 0 && !dir && !nfiles && geteuid() != 0 && !journal_group_member()) {
        audit_warn(c,
                   "no matching pvetmpl events in the journal files readable by uid %u (the "
                   "system journal needs group adm or systemd-journal)",
                   (unsigned)geteuid());
    } else if (shown == 0) {
        cmd_info(c, "no matching pvetmpl events in the journal");
    }
    fflush(stdout);
    c->own_output = true;
    rc = 0;
out:
    free(set);
    aevs_release(&l);
    if (j) {
        sd_journal_close(j);
    }
    free(files);
    return rc;
}
