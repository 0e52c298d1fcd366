/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl audit [--vmid N] [--since T] [--until T] [--action A]
 *               [--json | --json-lines] [--all-users] [-D DIR | --file FILE...]
 *
 * Two halves: cmd_audit_run collects the matching events into the report
 * (key "events", an array, empty when nothing matched), and cmd_audit_draw
 * draws that array for a person (the table) or as JSON lines. Under --json
 * the front end prints the report itself: one object.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "journal.h"
#include "termtext.h"

struct aev {
    uint64_t usec;
    enum journal_msg msg;
    uint32_t vmid, src;
    /* -1 = absent; uid and loginuid are the journal's own (_UID, _AUDIT_LOGINUID) */
    int64_t exit_code, duration_ms, uid, loginuid;
    bool trusted; /* written by root (_UID=0) */
    /* owned copies, NULL when the field is absent */
    char *action, *result, *phase, *name, *storage, *volid, *user, *error, *tags, *migrated_from,
        *policy, *plan, *message, *hostname, *config_error;
};

struct aevs {
    struct aev *v;
    size_t n, alloc;
};

static void aev_release(struct aev *a)
{
    char **fs[] = {&a->action, &a->result, &a->phase,   &a->name,     &a->storage,
                   &a->volid,  &a->user,   &a->error,   &a->tags,     &a->migrated_from,
                   &a->policy, &a->plan,   &a->message, &a->hostname, &a->config_error};
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

/* A plain decimal up to max; -1 when absent or not one. */
static int64_t field_num(sd_journal *j, const char *name, uint64_t max, int *oom)
{
    char *s = field(j, name, oom);
    uint64_t v = 0;
    int64_t r = -1;
    if (s && parse_uint(s, max, &v) == 0) {
        r = (int64_t)v;
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
    a->exit_code = field_num(j, "PVETMPL_EXIT", INT64_MAX, &oom);
    a->duration_ms = field_num(j, "PVETMPL_DURATION_MS", INT64_MAX, &oom);
    a->uid = field_num(j, "_UID", UINT32_MAX, &oom);
    a->loginuid = field_num(j, "_AUDIT_LOGINUID", UINT32_MAX, &oom);
    a->action = field(j, "PVETMPL_ACTION", &oom);
    a->result = field(j, "PVETMPL_RESULT", &oom);
    a->phase = field(j, "PVETMPL_PHASE", &oom);
    a->name = field(j, "PVETMPL_NAME", &oom);
    a->storage = field(j, "PVETMPL_STORAGE", &oom);
    a->volid = field(j, "PVETMPL_VOLID", &oom);
    a->user = field(j, "PVETMPL_USER", &oom);
    a->error = field(j, "PVETMPL_ERROR", &oom);
    a->tags = field(j, "PVETMPL_TAGS", &oom);
    a->migrated_from = field(j, "PVETMPL_MIGRATED_FROM", &oom);
    a->policy = field(j, "PVETMPL_POLICY", &oom);
    a->plan = field(j, "PVETMPL_PLAN", &oom);
    a->message = field(j, "MESSAGE", &oom);
    a->hostname = field(j, "_HOSTNAME", &oom);
    a->config_error = field(j, "PVETMPL_CONFIG_ERROR", &oom);
    a->trusted = a->uid == 0;
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

/* Step 1: the system journal, or the exported directory or files asked for. */
static int open_journal(const struct request_audit *r, sd_journal **j, struct err *e)
{
    int k;
    const char *what = r->directory ? r->directory
                       : r->n_files ? r->files[0]
                                    : "the system journal";
    if (r->directory) {
        k = sd_journal_open_directory(j, r->directory, 0);
    } else if (r->n_files) {
        k = sd_journal_open_files(j, (const char **)r->files, 0);
    } else {
        k = sd_journal_open(j, 0);
    }
    if (k < 0) {
        return err_set(e, ERR_PRECONDITION, "cannot open the journal '%s': %s", what, strerror(-k));
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

/* The lineage edge a (root's) entry proves, into *ret: a finished
 * clone/conversion, or the hook seeing a linked clone's base (phases and
 * refusals). A failed clone may or may not have left a VM; nothing tells. */
static bool aev_edge(const struct aev *a, struct audit_edge *ret)
{
    bool real = a->msg == JOURNAL_MSG_ACTION_SUCCEEDED ||
                (a->msg >= JOURNAL_MSG_HOOK_PRE_START && a->msg <= JOURNAL_MSG_HOOK_REFUSED);
    if (!a->vmid || !a->src || !real || !a->trusted) {
        return false;
    }
    enum audit_edge_kind k = AUDIT_EDGE_HOOK;
    if (a->action && strcmp(a->action, "clone") == 0) {
        k = AUDIT_EDGE_CLONE;
    } else if (a->action && strcmp(a->action, "make-template") == 0) {
        k = AUDIT_EDGE_TEMPLATE;
    }
    *ret = (struct audit_edge){.vmid = a->vmid, .src = a->src, .usec = a->usec, .kind = k};
    return true;
}

/* The edges of l, in journal order. 0 or -ENOMEM. */
static int lineage_of(const struct aevs *l, struct audit_lineage *ret)
{
    *ret = (struct audit_lineage){0};
    ret->v = calloc(l->n ? l->n : 1, sizeof(*ret->v));
    if (!ret->v) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++) {
        ret->n += aev_edge(&l->v[i], &ret->v[ret->n]);
    }
    return 0;
}

void audit_lineage_release(struct audit_lineage *l)
{
    free(l->v);
    *l = (struct audit_lineage){0};
}

/* Grows set along edges src->vmid (down) or vmid->src (up) until stable.
 * *n is the set's size; the set has room for cap entries. */
static void closure(const struct audit_lineage *l, uint32_t *set, size_t *n, size_t cap, bool down)
{
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < l->n && *n < cap; i++) {
            const struct audit_edge *a = &l->v[i];
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

/* ---- collect: the matching events into the report ---- */

/* The event as a JSON object: numbers as numbers (also the journal's _UID and
 * _AUDIT_LOGINUID), a key only when the entry has the field. */
static struct json_object *aev_json(const struct aev *a)
{
    struct json_object *o = json_object_new_object();
    char t[64];
    if (!o) {
        return NULL;
    }
    fmt_time(a->usec, t, sizeof(t), true);
    json_object_object_add(o, "time", json_object_new_string(t));
    json_object_object_add(o, "realtime_usec", json_object_new_int64((int64_t)a->usec));
    json_object_object_add(o, "event", json_object_new_string(journal_msg_info(a->msg)->name));
    json_object_object_add(o, "message_id", json_object_new_string(journal_msg_info(a->msg)->id));
    json_object_object_add(o, "action", json_object_new_string(aev_action(a)));
    json_object_object_add(o, "result", json_object_new_string(aev_result(a)));
    json_object_object_add(o, "trusted", json_object_new_boolean(a->trusted));
    const struct {
        const char *key;
        int64_t val; /* absent: 0 for VMIDs, -1 for the others */
        bool present;
    } nums[] = {
        {"vmid", a->vmid, a->vmid != 0},
        {"source_vmid", a->src, a->src != 0},
        {"exit", a->exit_code, a->exit_code >= 0},
        {"duration_ms", a->duration_ms, a->duration_ms >= 0},
        {"uid", a->uid, a->uid >= 0},
        {"audit_loginuid", a->loginuid, a->loginuid >= 0},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (nums[i].present) {
            json_object_object_add(o, nums[i].key, json_object_new_int64(nums[i].val));
        }
    }
    const struct {
        const char *key, *val;
    } strs[] = {
        {"phase", a->phase},
        {"name", a->name},
        {"storage", a->storage},
        {"volid", a->volid},
        {"user", a->user},
        {"error", a->error},
        {"tags", a->tags},
        {"migrated_from", a->migrated_from},
        {"policy", a->policy},
        {"plan", a->plan},
        {"hostname", a->hostname},
        {"message", a->message},
        {"config_error", a->config_error},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i].val) {
            json_object_object_add(o, strs[i].key, json_object_new_string(strs[i].val));
        }
    }
    return o;
}

/* Step 2: only pvetmpl's entries are read at all. With --vmid, lineage needs
 * every event: --action filters afterwards (select_events). */
static int match_ours(sd_journal *j, const struct request_audit *r, struct err *e)
{
    int k = add_matches(j, r->id ? NULL : r->action, r->all_users);
    if (k < 0) {
        return err_set(e, ERR_INTERNAL, "cannot add journal matches: %s", strerror(-k));
    }
    return 0;
}

/* Step 3: every matching entry. A read error part-way is a warning: what
 * was read so far is shown. */
static int read_events(const struct ctx *c, sd_journal *j, struct aevs *l, struct err *e)
{
    int read_err = 0;
    if (load(j, l, &read_err, e) < 0) {
        return -1;
    }
    if (read_err < 0) {
        cmd_warn(c, "reading the journal stopped early: %s; the history below may be incomplete",
                 strerror(-read_err));
    }
    return 0;
}

/* --vmid's VMs: set holds the ancestors, then (from down on) the
 * descendants, each part with the VM itself. Empty without --vmid. */
struct lineage {
    uint32_t *set;
    size_t nset;
    const uint32_t *down;
    size_t ndown;
};

/* Step 4: the lineage of vmid, both ways. */
static int trace_lineage(const struct audit_lineage *l, uint32_t vmid, struct lineage *lin,
                         struct err *e)
{
    size_t cap = 2 * l->n + 2;
    memset(lin, 0, sizeof(*lin));
    if (!vmid) {
        return 0;
    }
    lin->set = calloc(cap, sizeof(*lin->set));
    if (!lin->set) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    /* Ancestors first, then descendants of the VM itself (not of its
     * ancestors: siblings are another lineage). */
    size_t nset = 0, ndown = 0;
    lin->set[nset++] = vmid;
    closure(l, lin->set, &nset, cap, false);
    uint32_t *down = lin->set + nset;
    down[ndown++] = vmid;
    closure(l, down, &ndown, cap - nset, true);
    lin->nset = nset + ndown;
    lin->down = down;
    lin->ndown = ndown;
    return 0;
}

static bool wanted(const struct request_audit *r, const struct lineage *lin, const struct aev *a)
{
    if (a->usec < r->since_us || a->usec > r->until_us) {
        return false;
    }
    if (r->action && strcmp(aev_action(a), r->action) != 0) {
        return false;
    }
    /* A VM of the lineage, or an attempt (dry run, refusal) to derive a VM
     * from one of its descendants; not a sibling's clone. */
    return !r->id || in_set(lin->set, lin->nset, a->vmid) ||
           (a->src && in_set(lin->down, lin->ndown, a->src));
}

/* Step 5: the wanted events into the array, in journal order. */
static int select_events(const struct request_audit *r, const struct aevs *l,
                         const struct lineage *lin, struct json_object *events, struct err *e)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!wanted(r, lin, &l->v[i])) {
            continue;
        }
        struct json_object *o = aev_json(&l->v[i]);
        if (!o || json_object_array_add(events, o) < 0) {
            json_object_put(o);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    return 0;
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

/* Step 6, when nothing matched: why, if it may be that nothing could be read. */
static void explain_none(const struct ctx *c, const struct request_audit *r, sd_journal *j)
{
    bool system = !r->directory && !r->n_files;
    if (system && !sd_journal_has_runtime_files(j) && !sd_journal_has_persistent_files(j)) {
        /* sd_journal_open skips what it may not read: nothing matched because
         * nothing could be read, not because nothing happened. */
        cmd_warn(c,
                 "no journal file was readable (uid %u): members of the group adm or "
                 "systemd-journal, or root, can read the system journal",
                 (unsigned)geteuid());
    } else if (system && geteuid() != 0 && !journal_group_member()) {
        cmd_warn(c,
                 "no matching pvetmpl events in the journal files readable by uid %u (the "
                 "system journal needs group adm or systemd-journal)",
                 (unsigned)geteuid());
    } else {
        cmd_info(c, "no matching pvetmpl events in the journal");
    }
}

int audit_lineage_load(struct audit_lineage *ret, struct err *e)
{
    static const struct request_audit system = {0};
    sd_journal *j = NULL;
    struct aevs l = {0};
    int read_err = 0, k;
    *ret = (struct audit_lineage){0};
    if (open_journal(&system, &j, e) < 0) {
        return -1;
    }
    int rc = -1;
    if (!sd_journal_has_runtime_files(j) && !sd_journal_has_persistent_files(j)) {
        err_set(e, ERR_PRECONDITION,
                "no journal file is readable (uid %u): members of the group adm or "
                "systemd-journal, or root, can read the system journal",
                (unsigned)geteuid());
    } else if ((k = add_matches(j, NULL, false)) < 0) {
        err_set(e, ERR_INTERNAL, "cannot add journal matches: %s", strerror(-k));
    } else if (load(j, &l, &read_err, e) < 0) {
        /* e is set */
    } else if (read_err < 0) {
        err_set(e, ERR_PRECONDITION, "reading the journal failed: %s", strerror(-read_err));
    } else if (lineage_of(&l, ret) < 0) {
        err_set(e, ERR_INTERNAL, "out of memory");
    } else {
        rc = 0;
    }
    aevs_release(&l);
    sd_journal_close(j);
    return rc;
}

int cmd_audit_run(struct ctx *c, const struct request_audit *r, struct err *e)
{
    sd_journal *j = NULL;
    struct aevs l = {0};
    struct lineage lin = {0};
    struct audit_lineage edges = {0};
    struct json_object *events = json_object_new_array();
    int rc = -1;

    report_set_action(c->rep, "audit");
    if (!events) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    /* Present whatever happens: an empty history is an empty array. */
    report_set(c->rep, "events", json_object_get(events));
    if (open_journal(r, &j, e) < 0 || match_ours(j, r, e) < 0 || read_events(c, j, &l, e) < 0 ||
        (lineage_of(&l, &edges) < 0 && err_set(e, ERR_INTERNAL, "out of memory") < 0) ||
        trace_lineage(&edges, r->id, &lin, e) < 0 || select_events(r, &l, &lin, events, e) < 0) {
        goto out;
    }
    size_t n = json_object_array_length(events);
    if (n == 0) {
        explain_none(c, r, j);
        report_set_msg(c->rep, "no matching pvetmpl events");
    } else {
        report_set_msg(c->rep, "%zu pvetmpl event%s", n, n == 1 ? "" : "s");
    }
    rc = 0;
out:
    json_object_put(events);
    free(lin.set);
    audit_lineage_release(&edges);
    aevs_release(&l);
    if (j) {
        sd_journal_close(j);
    }
    return rc;
}

/* ---- draw: the report's events for a person, or as JSON lines ---- */

static bool jnum(struct json_object *o, const char *key, int64_t *ret)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
        return false;
    }
    *ret = json_object_get_int64(v);
    return true;
}

/* The DETAIL column: the one field that tells most about the event. */
static void row_detail(struct json_object *ev, char *buf, size_t len)
{
    const char *s;
    int64_t ms;
    buf[0] = '\0';
    if ((s = cmd_json_str(ev, "error"))) {
        snprintf(buf, len, "%s", s);
    } else if ((s = cmd_json_str(ev, "policy"))) {
        snprintf(buf, len, "policy %s", s);
    } else if ((s = cmd_json_str(ev, "config_error"))) {
        snprintf(buf, len, "config: %s", s);
    } else if ((s = cmd_json_str(ev, "migrated_from"))) {
        snprintf(buf, len, "migrated from %s", s);
    } else if (jnum(ev, "duration_ms", &ms)) {
        snprintf(buf, len, "%" PRId64 " ms", ms);
    } else if ((s = cmd_json_str(ev, "volid"))) {
        snprintf(buf, len, "%s", s);
    }
}

enum {
    AC_TIME,
    AC_ACTION,
    AC_RESULT,
    AC_VMID,
    AC_SOURCE,
    AC_NAME,
    AC_STORAGE,
    AC_USER,
    AC_UID,
    AC_DETAIL,
    AC_MAX
};

#define AC_DETAIL_MIN 30 /* DETAIL keeps at least this, else columns go */
#define AC_DETAIL_LINES 3
#define AC_GAP 2

static const char *const ac_head[AC_MAX] = {"TIME", "ACTION",  "RESULT", "VMID", "SOURCE",
                                            "NAME", "STORAGE", "USER",   "UID",  "DETAIL"};
/* The widest a column grows (DETAIL: the rest of the line). */
static const size_t ac_cap[AC_MAX] = {19, 14, 9, 10, 10, 20, 16, 12, 21, AC_DETAIL_MIN};
/* Which columns go first when the terminal is too narrow: the row's who and
 * where stay, the event's when, what, outcome and detail always. */
static const int ac_drop[] = {AC_UID, AC_SOURCE, AC_STORAGE, AC_USER, AC_NAME};

/* One event's cells, each clean (termtext) for the terminal. */
static void row_cells(struct json_object *ev, char cells[AC_MAX][1400])
{
    char raw[1200];
    int64_t v, login;
    struct json_object *tr;
    for (int k = 0; k < AC_MAX; k++) {
        snprintf(cells[k], sizeof(cells[k]), "-");
    }
    if (jnum(ev, "realtime_usec", &v)) {
        fmt_time((uint64_t)v, cells[AC_TIME], sizeof(cells[AC_TIME]), false);
    }
    if (jnum(ev, "vmid", &v)) {
        snprintf(cells[AC_VMID], sizeof(cells[AC_VMID]), "%" PRId64, v);
    }
    if (jnum(ev, "source_vmid", &v)) {
        snprintf(cells[AC_SOURCE], sizeof(cells[AC_SOURCE]), "%" PRId64, v);
    }
    /* _UID, and the login uid behind it when the kernel recorded one. */
    snprintf(cells[AC_UID], sizeof(cells[AC_UID]), "?");
    if (jnum(ev, "uid", &v)) {
        bool has_login = jnum(ev, "audit_loginuid", &login) && login != UINT32_MAX;
        if (has_login) {
            snprintf(cells[AC_UID], sizeof(cells[AC_UID]), "%" PRId64 "/%" PRId64, v, login);
        } else {
            snprintf(cells[AC_UID], sizeof(cells[AC_UID]), "%" PRId64, v);
        }
    }
    static const struct {
        int col;
        const char *key;
    } strs[] = {{AC_ACTION, "action"},
                {AC_RESULT, "result"},
                {AC_NAME, "name"},
                {AC_STORAGE, "storage"},
                {AC_USER, "user"}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const char *f = cmd_json_str(ev, strs[i].key);
        termtext_clean(cells[strs[i].col], sizeof(cells[0]), f ? f : "-");
    }
    row_detail(ev, raw, sizeof(raw));
    /* Not root's: anyone could have written it. First in DETAIL, so it is
     * never cut off; clean text cannot reorder it. */
    bool trusted = json_object_object_get_ex(ev, "trusted", &tr) && json_object_get_boolean(tr);
    char d[sizeof(raw)];
    termtext_clean(d, sizeof(d), raw);
    snprintf(cells[AC_DETAIL], sizeof(cells[AC_DETAIL]), "%s%s",
             trusted ? "" : "UNTRUSTED (not written by root) ", d);
}

/* The layout for a terminal cols wide: each column's width, 0 when dropped. */
static void layout(struct json_object *events, int cols, size_t w[AC_MAX])
{
    static char cells[AC_MAX][1400];
    size_t n = json_object_array_length(events);
    for (int k = 0; k < AC_MAX; k++) {
        w[k] = strlen(ac_head[k]);
    }
    for (size_t i = 0; i < n; i++) {
        row_cells(json_object_array_get_idx(events, i), cells);
        for (int k = 0; k <= AC_DETAIL; k++) {
            size_t l = termtext_width(cells[k]);
            w[k] = l > w[k] ? (l < ac_cap[k] ? l : ac_cap[k]) : w[k];
        }
    }
    size_t used = 0;
    for (int k = 0; k < AC_DETAIL; k++) {
        used += w[k] + AC_GAP;
    }
    /* DETAIL needs its widest cell, up to AC_DETAIL_MIN (longer ones wrap) */
    size_t need = w[AC_DETAIL] < AC_DETAIL_MIN ? w[AC_DETAIL] : AC_DETAIL_MIN;
    for (size_t i = 0; i < sizeof(ac_drop) / sizeof(ac_drop[0]); i++) {
        if (used + need <= (size_t)cols) {
            break;
        }
        used -= w[ac_drop[i]] + AC_GAP;
        w[ac_drop[i]] = 0;
    }
    w[AC_DETAIL] = (size_t)cols > used + AC_DETAIL_MIN ? (size_t)cols - used : AC_DETAIL_MIN;
}

/* s in a column w wide: cut with '~' when longer, padded unless last. */
static void put_cell(const char *s, size_t w, bool last)
{
    size_t l = termtext_width(s);
    if (l > w) {
        printf("%.*s~", (int)termtext_cut(s, w - 1), s);
        l = w;
    } else {
        fputs(s, stdout);
    }
    if (!last) {
        printf("%*s", (int)(w - l + AC_GAP), "");
    }
}

/* DETAIL from column indent on, at most AC_DETAIL_LINES lines of w
 * characters, broken at a space when one is near; "..." when cut. */
static void put_detail(const char *s, size_t indent, size_t w)
{
    for (int line = 0; line < AC_DETAIL_LINES; line++) {
        if (line) {
            printf("\n%*s", (int)indent, "");
        }
        size_t l = termtext_width(s);
        if (l <= w) {
            fputs(s, stdout);
            break;
        }
        if (line == AC_DETAIL_LINES - 1) {
            printf("%.*s...", (int)termtext_cut(s, w - 3), s);
            break;
        }
        size_t b = termtext_cut(s, w);
        size_t sp = b;
        while (sp > 0 && s[sp] != ' ') {
            sp--;
        }
        if (sp > b * 2 / 3) {
            b = sp; /* break at the space, dropped at the next line's start */
        }
        printf("%.*s", (int)b, s);
        s += b;
        while (*s == ' ') {
            s++;
        }
    }
    putchar('\n');
}

static void print_row(const size_t w[AC_MAX], char cells[AC_MAX][1400])
{
    size_t indent = 0;
    int last = AC_DETAIL; /* no blanks at the end of a row without DETAIL */
    while (!*cells[AC_DETAIL] && last > 0 && (last == AC_DETAIL || !w[last])) {
        last--;
    }
    for (int k = 0; k < AC_DETAIL; k++) {
        if (w[k]) {
            put_cell(cells[k], w[k], k == last);
            indent += w[k] + AC_GAP;
        }
    }
    put_detail(cells[AC_DETAIL], indent, w[AC_DETAIL]);
}

void cmd_audit_draw(const struct ctx *c, struct json_object *report)
{
    struct json_object *events;
    if (!json_object_object_get_ex(report, "events", &events) ||
        !json_object_is_type(events, json_type_array)) {
        return;
    }
    size_t n = json_object_array_length(events);
    size_t w[AC_MAX];
    static char cells[AC_MAX][1400];
    for (size_t i = 0; i < n; i++) {
        struct json_object *ev = json_object_array_get_idx(events, i);
        if (c->json_lines) {
            report_print_json(stdout, ev); /* journal fields may hold any bytes */
            continue;
        }
        if (i == 0) {
            layout(events, termtext_columns(stdout, 100), w);
            char head[AC_MAX][1400];
            for (int k = 0; k < AC_MAX; k++) {
                snprintf(head[k], sizeof(head[k]), "%s", ac_head[k]);
            }
            print_row(w, head);
        }
        row_cells(ev, cells);
        print_row(w, cells);
    }
    fflush(stdout);
}
