/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] [--json]
 *               [-D DIR | --file FILE...]
 *
 * Reads pvetmpl's own entries (the wrapper's audit events and the hook's
 * phase events) through libsystemd: field matches on MESSAGE_ID and
 * SYSLOG_IDENTIFIER, so unrelated entries are never even read. --vmid
 * follows lineage both ways along "source -> vmid" edges: the VM's ancestors
 * (the template it came from, the VM that template was made from) and its
 * descendants (clones, their clones). Edges come from pvetmpl's clone and
 * make-template events and from the hook's PVETMPL_SOURCE_VMID (the base of
 * a linked clone's disks). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "cmd.h"
#include "journal.h"
#include "validate.h"

struct aev {
    uint64_t usec;
    enum journal_msg msg;
    uint32_t vmid, src;
    long exit_code, duration_ms; /* -1 = absent */
    /* owned copies, NULL when the field is absent */
    char *action, *result, *phase, *name, *storage, *volid, *user, *uid, *error, *tags,
        *migrated_from, *policy, *plan, *message, *hostname;
};

struct aevs {
    struct aev *v;
    size_t n, alloc;
};

static void aev_release(struct aev *a)
{
    char **fs[] = {&a->action,        &a->result, &a->phase, &a->name,    &a->storage,
                   &a->volid,         &a->user,   &a->uid,   &a->error,   &a->tags,
                   &a->migrated_from, &a->policy, &a->plan,  &a->message, &a->hostname};
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

static int add_matches(sd_journal *j, const char *action, bool by_action)
{
    int r = 0;
    char m[128];
    for (int i = 0; i < _JOURNAL_MSG_MAX && r >= 0; i++) {
        snprintf(m, sizeof(m), "MESSAGE_ID=%s", journal_msg_info((enum journal_msg)i)->id);
        r = sd_journal_add_match(j, m, 0);
    }
    /* Same field ORs, different fields AND: ours by id and by identifier. */
    if (r >= 0) {
        r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=" JOURNAL_IDENT, 0);
    }
    if (r >= 0) {
        r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=" JOURNAL_HOOK_IDENT, 0);
    }
    if (r >= 0 && by_action) {
        bool is_phase = journal_phase_from_string(action) != _JOURNAL_PHASE_INVALID;
        snprintf(m, sizeof(m), "%s=%s", is_phase ? "PVETMPL_PHASE" : "PVETMPL_ACTION", action);
        r = sd_journal_add_match(j, m, 0);
    }
    return r;
}

static int load(sd_journal *j, struct aevs *l, struct err *e)
{
    int r;
    SD_JOURNAL_FOREACH(j)
    {
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
            if (!a->vmid || !a->src || a->msg == JOURNAL_MSG_ACTION_DRY_RUN ||
                a->msg == JOURNAL_MSG_ACTION_REFUSED) {
                continue; /* no edge, or one that never became real */
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
    const struct {
        const char *key, *val;
    } strs[] = {
        {"phase", a->phase},     {"name", a->name}, {"storage", a->storage},
        {"volid", a->volid},     {"user", a->user}, {"uid", a->uid},
        {"error", a->error},     {"tags", a->tags}, {"migrated_from", a->migrated_from},
        {"policy", a->policy},   {"plan", a->plan}, {"hostname", a->hostname},
        {"message", a->message},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i].val) {
            json_object_object_add(o, strs[i].key, json_object_new_string(strs[i].val));
        }
    }
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void print_row(const struct aev *a)
{
    char t[32], vm[16] = "-", src[16] = "-", detail[1200] = "";
    fmt_time(a->usec, t, sizeof(t), false);
    if (a->vmid) {
        snprintf(vm, sizeof(vm), "%" PRIu32, a->vmid);
    }
    if (a->src) {
        snprintf(src, sizeof(src), "%" PRIu32, a->src);
    }
    if (a->error) {
        snprintf(detail, sizeof(detail), "%s", a->error);
    } else if (a->policy) {
        snprintf(detail, sizeof(detail), "policy %s", a->policy);
    } else if (a->migrated_from) {
        snprintf(detail, sizeof(detail), "migrated from %s", a->migrated_from);
    } else if (a->duration_ms >= 0) {
        snprintf(detail, sizeof(detail), "%ld ms", a->duration_ms);
    } else if (a->volid) {
        snprintf(detail, sizeof(detail), "%s", a->volid);
    }
    /* A newline in an error would break the table. */
    for (char *p = detail; *p; p++) {
        if (*p == '\n' || *p == '\t') {
            *p = ' ';
        }
    }
    printf("%-19s  %-14s %-9s  %-9s %-9s %-16s %-12s %-10s %s\n", t, aev_action(a), aev_result(a),
           vm, src, a->name ? a->name : "-", a->storage ? a->storage : "-", a->user ? a->user : "-",
           detail);
}

static int usage(struct err *e, const char *fmt, const char *arg)
{
    char m[512];
    snprintf(m, sizeof(m), fmt, arg);
    return err_set(e, ERR_USAGE,
                   "%s (usage: pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] "
                   "[--json] [-D DIR|--file FILE])",
                   m);
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static const char *const help_audit =
    "usage: pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] [--json]\n"
    "                     [-D DIR | --file FILE]\n"
    "\n"
    "History from the systemd journal: who made which template from which VM on\n"
    "which storage when, the VMs cloned from it, and their starts and stops.\n"
    "\n"
    "  --vmid N        N and its lineage both ways (its source, its clones)\n"
    "  --since T, --until T  time limits, as journalctl takes them\n"
    "                  ('2026-11-26 10:00', '@EPOCH', 'today', 'yesterday', '-1h')\n"
    "  --action A      only this action or hook phase (make-template, clone, pre-start...)\n"
    "  --json          one JSON object per line instead of the table\n"
    "  -D DIR, --file FILE  read an exported journal directory or file\n";

int cmd_audit(struct ctx *c, int argc, char **argv, struct err *e)
{
    const char *dir = NULL, *action = NULL;
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
    int r = add_matches(j, action, action && !vmid);
    if (r < 0) {
        err_set(e, ERR_INTERNAL, "cannot add journal matches: %s", strerror(-r));
        goto out;
    }
    if (load(j, &l, e) < 0) {
        goto out;
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
                printf("%-19s  %-14s %-9s  %-9s %-9s %-16s %-12s %-10s %s\n", "TIME", "ACTION",
                       "RESULT", "VMID", "SOURCE", "NAME", "STORAGE", "USER", "DETAIL");
            }
            print_row(a);
        }
        shown++;
    }
    if (shown == 0) {
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
