/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd: the subcommands. Each runs a validated, allowed request (request.h),
 * fills c->rep, and returns 0 or -1 with e set. None parses arguments, prints
 * the final report or exits: the front end does. */
#ifndef PVETMPL_CMD_H
#define PVETMPL_CMD_H

#include <signal.h>
#include <stdbool.h>

#include "conf.h"
#include "err.h"
#include "report.h"
#include "request.h"

struct vmlist;

struct ctx {
    const struct conf *conf;
    const char *conf_path;
    bool json;       /* --json: exactly one JSON object on stdout, nothing else there */
    bool dry_run;    /* -n: read-only queries only; planned argv go to the report */
    bool quiet;      /* -q */
    bool verbose;    /* -v: show qm's own lines */
    bool progress;   /* progress bars allowed (tty, not -q/--json/--no-progress) */
    long timeout;    /* seconds per qm operation, 0 = none (from --timeout or the config) */
    long lock_wait;  /* seconds a lock is waited for at most (--lock-wait, else the config's
                        lock_retry_max); 0 = do not wait: 75 at once */
    bool json_lines; /* audit --json-lines: one JSON event per line, after the read (set
                        for audit only: other commands get json instead) */
    const struct request_caller *caller;    /* who asked, through which front end */
    const volatile sig_atomic_t *interrupt; /* set by SIGINT/SIGTERM handlers */
    struct report *rep;
    bool own_output; /* the front end printed the answer itself (--help, --version): no
                        report is drawn */
    /* Set by a command that refused a delegated caller by a rule of
     * delegation (PVETMPL_POLICY_FIELD, e.g. "name"): the failure is
     * journalled as a denial. */
    const char *denied_field;
};

/* The run step of each command: the request is validated and allowed. */
int cmd_make_template_run(struct ctx *c, const struct request_clone *r, struct err *e);
int cmd_clone_run(struct ctx *c, const struct request_clone *r, struct err *e);
int cmd_template_run(struct ctx *c, const struct request_template *r, struct err *e);
int cmd_check_run(struct ctx *c, const struct request_check *r, struct err *e);
int cmd_storages_run(struct ctx *c, struct err *e);
/* storages' row for one storage (pure): images tells whether it holds VM
 * images; "templates" is a bool, "template_support" the word the table shows
 * (yes, no, unknown: a third-party type not in template_types). */
struct pvesm_row;
struct json_object *cmd_storages_row(const struct conf *cf, const struct pvesm_row *row,
                                     bool images);
int cmd_hook_run(struct ctx *c, const struct request_hook *r, struct err *e);
int cmd_audit_run(struct ctx *c, const struct request_audit *r, struct err *e);
int cmd_policy_run(struct ctx *c, const struct request_policy_query *r, struct err *e);

/* Drawing the rows a command put into the report, on stdout, for the front
 * end (report is report_finish's object), after the run, also a failed one
 * (the rows made before the failure). cmd_audit_draw: the "events" as the
 * table, or one JSON object per line under c->json_lines (which then takes
 * the place of the report on success); cmd_hook_draw: hook status's
 * "vms" rows with each VM's hook config and policy, nothing under -q or for
 * install/remove. Not called when the report is printed as JSON. */
void cmd_audit_draw(const struct ctx *c, struct json_object *report);
void cmd_hook_draw(const struct ctx *c, struct json_object *report);
/* Whether the hook storage (of type, as pvesm status says) is node-local
 * while the cluster has guests on other nodes; then the whole explanation
 * (for check) into buf. cmd-hook.c's warning is its one-line form. vl: the
 * cluster's VM list the caller read already for this moment (check's
 * preflight), or NULL to read it now. */
bool cmd_hook_storage_local(const struct conf *cf, const struct vmlist *vl, const char *storage,
                            const char *type, char *buf, size_t len);
/* policy's answer: its msg, then each grant with what it allows. */
void cmd_policy_draw(const struct ctx *c, struct json_object *report);
/* Whether storage is shared between the nodes, as pve-storage sees it
 * (storage.cfg's "shared", or a type it always shares; type may be NULL:
 * storage.cfg's is used). An unreadable storage.cfg: not shared. */
bool cmd_hook_storage_shared(const struct conf *cf, const char *storage, const char *type);
/* The hook files looked up by one command (a node's VMs mostly share one). */
struct cmd_hook_file_seen;
struct cmd_hook_file_cache {
    struct cmd_hook_file_seen *v;
    size_t n, alloc;
};
void cmd_hook_file_cache_release(struct cmd_hook_file_cache *fc);
/* Compares the file behind the hookscript volid (found by `pvesm path`, once
 * per volid and command) with hook_binary: "same", "differs", "missing", or
 * "unknown" (the path could not be found out); its path into path ("" when
 * unknown). Remembered in fc (may be NULL). hook status's answer. */
const char *cmd_hook_file_state(struct ctx *c, struct cmd_hook_file_cache *fc, const char *volid,
                                char *path, size_t len);

/* One edge of the journal's lineage (cmd-audit.c, the one reader of it):
 * VM vmid was made from VM src, as an entry written by root proves it (a
 * succeeded clone or make-template, or the hook seeing a linked clone's
 * base). usec: the entry's time. */
enum audit_edge_kind { AUDIT_EDGE_HOOK, AUDIT_EDGE_CLONE, AUDIT_EDGE_TEMPLATE };
struct audit_edge {
    uint32_t vmid, src;
    uint64_t usec;
    enum audit_edge_kind kind;
};
struct audit_lineage {
    struct audit_edge *v; /* in journal order */
    size_t n;
};
/* Every edge of the system journal, in one pass over pvetmpl's root-written
 * entries (the ones audit reads). 0, or -1 with e set: the journal could not
 * be opened or read, or no journal file is readable. */
int audit_lineage_load(struct audit_lineage *ret, struct err *e);
void audit_lineage_release(struct audit_lineage *l);
/* For the drawers: o's key as a string, NULL when absent or not a string. */
const char *cmd_json_str(struct json_object *o, const char *key);

/* Human-mode messages: "pvetmpl: ..." on stderr unless --json (then they go to
 * the report's warnings) or -q for info. */
void cmd_info(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_warn(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a state-changing argv in the report (run, or planned in a dry run);
 * in a human dry run also prints "would run: <argv, shell-quoted>" on stdout. */
void cmd_record(const struct ctx *c, char *const *argv);
/* A planned change that is no command (a file write) in a human dry run:
 * "would <text>" on stdout, beside cmd_record's lines, so that the whole
 * plan is on stdout. Under --json the command puts it into the report. */
void cmd_plan(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
