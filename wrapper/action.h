/* SPDX-License-Identifier: GPL-3.0-or-later */
/* action: the one table of what pvetmpl can be asked to do, by name. Each
 * command (enum request_cmd) and each hook subcommand is one row: its name
 * on the command line, in reports and in the journal ("make-template",
 * "hook-install"), and the grant action a sudo grant's 'actions' list names
 * to allow it, if any (pvetmpl.conf(5)). The argv parser, the config's check
 * of a grant, the policy and the reports all read it, so a new command is
 * one row here. Plain data: pvetmpl-hook links conf.c, which reads it. */
#ifndef PVETMPL_ACTION_H
#define PVETMPL_ACTION_H

#include "request.h"

/* What a sudo grant may allow: bit (1u << a) of conf_grant.actions, in the
 * order messages list a grant's actions. */
enum action_grant {
    ACTION_GRANT_MAKE_TEMPLATE = 0,
    ACTION_GRANT_CLONE,
    ACTION_GRANT_TEMPLATE,
    ACTION_GRANT_CHECK,
    ACTION_GRANT_STORAGES,
    ACTION_GRANT_LIST, /* read-only, cluster-wide: the action is the whole grant */
    ACTION_GRANT_AUDIT,
    ACTION_GRANT_HOOK_INSTALL,
    ACTION_GRANT_HOOK_REMOVE,
    ACTION_GRANT_HOOK_STATUS,
    ACTION_GRANT_MAX, /* also: no grant allows it */
};

/* The command's name ("make-template", "hook"); NULL for REQ_NONE. */
const char *action_cmd_name(enum request_cmd cmd);
/* The command named name, or REQ_NONE. */
enum request_cmd action_cmd_from_name(const char *name);
/* The action as reports and the journal name it: the command's name, for
 * hook with its subcommand once known ("hook-status"). NULL for REQ_NONE. */
const char *action_name(enum request_cmd cmd, enum request_hook_op op);
/* hook's subcommand named word on the command line ("install"), or
 * REQ_HOOK_NONE. */
enum request_hook_op action_hook_op_from_word(const char *word);
/* The word of hook's subcommand op on the command line; NULL for none. */
const char *action_hook_op_word(enum request_hook_op op);
/* The grant action that allows cmd (with op for hook), or ACTION_GRANT_MAX
 * when no grant can: hook update, hook without a subcommand, policy (which
 * policy_decide answers apart). */
enum action_grant action_grant_of(enum request_cmd cmd, enum request_hook_op op);
/* The grant action's name in pvetmpl.conf; NULL out of range. */
const char *action_grant_name(enum action_grant a);
/* The grant action named name, or ACTION_GRANT_MAX. */
enum action_grant action_grant_from_name(const char *name);

#endif
