/* SPDX-License-Identifier: GPL-3.0-or-later */
/* module: the Ansible binary-module front end. Ansible copies the binary to
 * the node, writes the task's arguments as one flat JSON object to a file and
 * runs `pvetmpl <path-of-that-file>` (ansible-core executor/module_common.py,
 * plugins/action/__init__.py; peers.md §2). This is the only place that
 * parses JSON arguments: it maps them to a struct request, runs the same
 * pipeline as the CLI (request_execute: validate, privilege, policy, run) and
 * prints exactly one JSON object, Ansible's result, on stdout.
 *
 * Parameters (state template|cloned|converted = make-template|clone|template):
 * see ansible/library/pvetmpl.yml, the documentation sidecar. */
#ifndef PVETMPL_MODULE_H
#define PVETMPL_MODULE_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "request.h"

#define MODULE_NAME "pvetmpl"
#define MODULE_MAX_PARAMS 24

/* The protocol's shape: exactly one argument, which contains a '/' (Ansible
 * passes an absolute path; no command or option has one). The word alone
 * decides: looking at the file as root would answer a sudo caller whether a
 * root-only path exists. Anything else is the command line. */
bool module_invoked(int argc, char **argv);

/* The whole front end: reads argv[1], executes (frontend "ansible"), prints
 * the result. Returns the exit status: 0, or 1 when the task failed, as
 * Ansible's own binary modules do (the pvetmpl exit code is the result's
 * rc); stdout is left open for the caller's close_stdout. */
int module_main(int argc, char **argv, const volatile sig_atomic_t *interrupt);

enum module_state { MODULE_STATE_TEMPLATE, MODULE_STATE_CLONED, MODULE_STATE_CONVERTED };

/* What the arguments asked, beyond the request. */
struct module_params {
    enum module_state state;
    bool check_mode; /* _ansible_check_mode: a dry run (preflight, the plan) */
    bool diff;       /* _ansible_diff: return diff {before, after} */
    /* invocation.module_args: every parameter, normalised, defaults filled
     * (owned; module_params_release) */
    struct json_object *module_args;
    /* decimal text of parameters given as JSON numbers (the request points here) */
    char num[MODULE_MAX_PARAMS][24];
};

/* Pure: maps the arguments object to r (strings point into args, or into
 * mp->num) in AnsibleModule's order of checks: unsupported keys, missing
 * required ones, types, choices, required_if, then parameters the chosen
 * state does not take. Keys starting with "_ansible_" are Ansible's: only
 * _ansible_check_mode and _ansible_diff are read. Values are checked by
 * request_validate afterwards, not here. 0, or -1 with e (ERR_USAGE, message
 * in AnsibleModule's words). */
int module_parse(struct json_object *args, struct module_params *mp, struct request *r,
                 struct err *e);
void module_params_release(struct module_params *mp);

/* Pure: the module's result from the command's finished report (its JSON,
 * every key kept): adds vmid when the report has none, `retryable`,
 * `invocation.module_args`, in check mode `changed` = the plan would change
 * the node, and with mp->diff a `diff`. Takes a reference on rep_json's
 * members; returns a new object (NULL when out of memory). */
struct json_object *module_result(const struct module_params *mp, const struct request *r,
                                  struct json_object *rep_json, const struct err *e);

#endif
