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
    bool json_lines; /* --json-lines: audit streams one JSON event per line */
    const struct request_caller *caller;    /* who asked, through which front end */
    const volatile sig_atomic_t *interrupt; /* set by SIGINT/SIGTERM handlers */
    struct report *rep;
    bool own_output; /* the command printed its result itself (audit): no report is drawn */
};

/* The run step of each command: the request is validated and allowed. */
int cmd_make_template_run(struct ctx *c, const struct request_clone *r, struct err *e);
int cmd_clone_run(struct ctx *c, const struct request_clone *r, struct err *e);
int cmd_template_run(struct ctx *c, const struct request_template *r, struct err *e);
int cmd_check_run(struct ctx *c, const struct request_check *r, struct err *e);
int cmd_storages_run(struct ctx *c, struct err *e);
int cmd_hook_run(struct ctx *c, const struct request_hook *r, struct err *e);
int cmd_audit_run(struct ctx *c, const struct request_audit *r, struct err *e);

/* Old argv entry points, going away as the seam lands (front ends parse);
 * until the hookaudit branch is merged, shim.c calls these two. */
int cmd_hook(struct ctx *c, int argc, char **argv, struct err *e);  /* hook install|remove|status */
int cmd_audit(struct ctx *c, int argc, char **argv, struct err *e); /* reads the journal */

/* Human-mode messages: "pvetmpl: ..." on stderr unless --json (then they go to
 * the report's warnings) or -q for info. */
void cmd_info(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_warn(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a command's --help text; under --json it becomes the report's msg,
 * so stdout still holds exactly one JSON object. */
void cmd_help(const struct ctx *c, const char *text);
/* Records a state-changing argv in the report (run, or planned in a dry run);
 * in a human dry run also prints "would run: <argv, shell-quoted>" on stdout. */
void cmd_record(const struct ctx *c, char *const *argv);

#endif
