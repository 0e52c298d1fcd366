/* SPDX-License-Identifier: GPL-3.0-or-later */
/* request: what was asked, as a value. The seam between the front ends and
 * the commands:
 *
 *   front end parses (cli.c: argv; module.c: Ansible's JSON)
 *     -> struct request (raw strings and flags, nothing checked)
 *   request_validate(r)          pure: every format and cross-argument rule,
 *                                the same for both front ends; fills the
 *                                typed fields (ids, numbers)
 *   request_privilege(r)         not root -> 77, before any side effect
 *   (the configuration: the system's for a delegated caller)
 *   request_policy(conf, r, caller)  the sudo grants (policy.h) decide a
 *                                delegated caller's validated request
 *   request_run(ctx, r)          the command; fills ctx->rep
 *
 * The front end then draws the report (table, JSON, or the module's result).
 * Strings are not owned: they point into argv or into the module's parsed
 * JSON, both alive until the process ends. */
#ifndef PVETMPL_REQUEST_H
#define PVETMPL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "qmargv.h"

struct ctx;

enum request_cmd {
    REQ_NONE = 0,
    REQ_MAKE_TEMPLATE,
    REQ_CLONE,
    REQ_TEMPLATE,
    REQ_CHECK,
    REQ_STORAGES,
    REQ_HOOK,
    REQ_AUDIT,
    REQ_LIST,
    REQ_POLICY,
    _REQ_CMD_MAX, /* each command has its row in action.c */
};

enum request_hook_op {
    REQ_HOOK_NONE = 0,
    REQ_HOOK_INSTALL,
    REQ_HOOK_REMOVE,
    REQ_HOOK_STATUS,
    REQ_HOOK_UPDATE,
};

/* The short usage a hook usage error repeats (both front ends' messages). */
#define REQUEST_HOOK_USAGE                                                                         \
    "pvetmpl hook install|remove VMID... [--storage STORAGE] [--replace-hook], hook status "       \
    "[VMID...], hook update"

/* Options every command takes, anywhere on the command line. */
struct request_global {
    const char *config; /* -c/--config, or NULL (then $PVETMPL_CONFIG, then the default) */
    bool json, json_lines, dry_run, quiet, verbose, no_progress;
    const char *timeout;   /* --timeout SEC as given, or NULL (config's) */
    const char *lock_wait; /* --lock-wait SEC as given, or NULL (config's lock_retry_max) */
    /* filled by validate */
    bool have_timeout, have_lock_wait;
    long timeout_s, lock_wait_s;
};

/* make-template SRC [NEWID], clone SRC [NEWID] */
struct request_clone {
    const char *src, *newid; /* newid NULL: chosen by the run (q.newid is 0 then) */
    const char *name, *storage, *format, *pool, *target, *description, *bwlimit, *snapname;
    bool no_hook, replace_hook, linked;
    bool rotate;      /* make-template --rotate: hand --name over to the new template */
    const char *keep; /* --keep N as given, or NULL */
    /* filled by validate */
    bool have_keep;
    long keep_n;
    /* filled by validate: q is the qm clone request (q.target is NULL for
     * make-template, whose --target becomes migrate_to) */
    struct clone_req q;
    const char *migrate_to;
};

/* template VMID [--disk DRIVE] */
struct request_template {
    const char *vmid, *disk;
    uint32_t id; /* filled by validate */
};

/* check SRC [--storage S] [--target NODE] */
struct request_check {
    const char *src, *storage, *target;
    uint32_t id; /* filled by validate */
};

/* hook install|remove|status VMID... [--storage S] [--replace-hook], hook
 * status (no VMID: every VM of this node with a hookscript), hook update */
struct request_hook {
    enum request_hook_op op;
    const char *const *vmids; /* as given */
    size_t n_vmids;           /* 0: status of the whole node; always 0 for update */
    const char *storage;      /* NULL: the config's hook_storage (run fills it in) */
    bool replace_hook;
    uint32_t *ids; /* filled by validate (request_release frees it) */
};

/* audit [--vmid N] [--since T] [--until T] [--action A] [--all-users] [-D DIR|--file F...] */
struct request_audit {
    const char *vmid, *since, *until, *action, *directory;
    const char *const *files;
    size_t n_files;
    bool all_users;
    /* filled by validate */
    uint32_t id;                 /* 0: every VM */
    uint64_t since_us, until_us; /* 0 and UINT64_MAX when not given */
};

/* list [--all] */
struct request_list {
    bool all; /* --all: also the VMs made from each template */
};

/* policy [USER] */
struct request_policy_query {
    const char *user; /* NULL: the caller */
};

struct request {
    enum request_cmd cmd;
    bool help; /* --help: print the command's help, run nothing */
    struct request_global g;
    union {
        struct request_clone clone; /* REQ_MAKE_TEMPLATE, REQ_CLONE */
        struct request_template tmpl;
        struct request_check check;
        struct request_hook hook;
        struct request_audit audit;
        struct request_list list;
        struct request_policy_query pol;
    } u;
};

/* Who asked: the real user behind the run, and which front end it came
 * through. Under sudo (real uid 0 and $SUDO_UID set) the user of SUDO_UID
 * (getpwuid), never $SUDO_USER; else the real uid. */
struct request_caller {
    uid_t uid;
    const char *user;     /* the name of uid; NULL when it has none */
    const char *frontend; /* "cli" or "ansible" */
    bool via_sudo;        /* uid came from $SUDO_UID */
    /* The caller is not root (sudo's caller, or the real user): only the
     * system configuration counts, the environment was rebuilt, fds above 2
     * closed, umask 022 (request_caller_init). */
    bool delegated;
    bool config_env; /* $PVETMPL_CONFIG was set (a delegated run refuses it) */
    /* Under sudo, $SUDO_USER names no user or another uid than $SUDO_UID:
     * sudo sets both, so the sudoers rule let the caller set one (SETENV,
     * env_keep); the run is refused (77), whatever uid is claimed. */
    bool sudo_mismatch;
};

/* The action as reports and the journal name it (action.h's action_name):
 * the command's name, for hook with its subcommand once known
 * ("hook-status"). NULL without a command. */
const char *request_action_name(const struct request *r);

/* Pure: checks every value and every rule between values, fills the typed
 * fields. ERR_USAGE with a message naming the argument; -1 on failure. */
int request_validate(struct request *r, struct err *e);
/* Not root: ERR_PERMISSION (77). Help never needs it. */
int request_privilege(const struct request *r, struct err *e);
struct conf;
struct policy_decision;
/* The sudo policy's say on a validated request under conf's grants (policy.h):
 * fills *ret; a denial is ERR_PERMISSION with the decision's reason, naming
 * who, what and the grant that said no. A run without root's privileges
 * delegates nothing: it is allowed (only audit gets that far). */
int request_policy(const struct conf *conf, const struct request *r,
                   const struct request_caller *who, struct policy_decision *ret, struct err *e);
/* Runs the validated, allowed request; fills c->rep. 0, or -1 with e set.
 * Front ends call request_execute, never this: qm runs only behind
 * request_privilege and request_policy (node.c does not check the uid). */
int request_run(struct ctx *c, const struct request *r, struct err *e);
void request_release(struct request *r);

/* Fills who for a front end ("cli", "ansible"), first thing, before the
 * front end opens anything: the caller (see struct request_caller), its name
 * written into user (user_len bytes, which who->user then points to), also
 * as the journal's PVETMPL_USER. A delegated caller's process is made safe
 * here, before anything else runs: the environment is rebuilt from nothing
 * (PATH only), every fd above 2 is closed, the umask is 022. */
void request_caller_init(struct request_caller *who, const char *frontend, char *user,
                         size_t user_len);

/* Journals the refusal why of a request that never reached request_execute
 * (the front end could not parse it), when its caller is delegated: every
 * refusal of one is in the journal ("denied"). */
void request_refused(const struct request *r, const struct request_caller *who,
                     const struct err *why);

/* The one pipeline both front ends call: validate, privilege, load the
 * configuration (r->g.config, else $PVETMPL_CONFIG, else the default; for a
 * delegated caller only the default, checked along its whole path, and -c
 * or $PVETMPL_CONFIG is a usage error), policy, then for a delegated caller
 * the programs and run_dir the configuration names checked as the file was,
 * set c up from r->g, run. Every refusal of a delegated caller is journalled. 0, or -1 with e set
 * (the front end picks the exit code with err_exit_code and draws c->rep). */
int request_execute(struct ctx *c, struct request *r, const struct request_caller *who,
                    struct err *e);
/* Releases what request_execute set up in c (the loaded configuration). */
void request_ctx_release(struct ctx *c);

#endif
