/* SPDX-License-Identifier: GPL-3.0-or-later */
/* action: the names of commands, hook subcommands and grant actions, from
 * one table (see action.h). */
#include "action.h"

#include <string.h>

/* hook's subcommand is its name after this prefix: "hook-install". */
#define HOOK_PREFIX "hook-"

static const struct {
    enum request_cmd cmd;
    enum request_hook_op op; /* REQ_HOOK_NONE but on hook's subcommand rows */
    const char *name;
    enum action_grant grant;
} actions[] = {
    {REQ_MAKE_TEMPLATE, REQ_HOOK_NONE, "make-template", ACTION_GRANT_MAKE_TEMPLATE},
    {REQ_CLONE, REQ_HOOK_NONE, "clone", ACTION_GRANT_CLONE},
    {REQ_TEMPLATE, REQ_HOOK_NONE, "template", ACTION_GRANT_TEMPLATE},
    {REQ_CHECK, REQ_HOOK_NONE, "check", ACTION_GRANT_CHECK},
    {REQ_STORAGES, REQ_HOOK_NONE, "storages", ACTION_GRANT_STORAGES},
    {REQ_HOOK, REQ_HOOK_NONE, "hook", ACTION_GRANT_MAX},
    {REQ_HOOK, REQ_HOOK_INSTALL, HOOK_PREFIX "install", ACTION_GRANT_HOOK_INSTALL},
    {REQ_HOOK, REQ_HOOK_REMOVE, HOOK_PREFIX "remove", ACTION_GRANT_HOOK_REMOVE},
    {REQ_HOOK, REQ_HOOK_STATUS, HOOK_PREFIX "status", ACTION_GRANT_HOOK_STATUS},
    {REQ_HOOK, REQ_HOOK_UPDATE, HOOK_PREFIX "update", ACTION_GRANT_MAX}, /* not delegable yet */
    {REQ_AUDIT, REQ_HOOK_NONE, "audit", ACTION_GRANT_AUDIT},
    {REQ_LIST, REQ_HOOK_NONE, "list", ACTION_GRANT_LIST},
    {REQ_POLICY, REQ_HOOK_NONE, "policy", ACTION_GRANT_MAX}, /* see policy_decide */
};

#define N_ACTIONS (sizeof(actions) / sizeof(actions[0]))

/* The row of cmd and op (hook's op; REQ_HOOK_NONE for the others), or -1. */
static int row_of(enum request_cmd cmd, enum request_hook_op op)
{
    for (size_t i = 0; i < N_ACTIONS; i++) {
        if (actions[i].cmd == cmd && actions[i].op == (cmd == REQ_HOOK ? op : REQ_HOOK_NONE)) {
            return (int)i;
        }
    }
    return -1;
}

const char *action_cmd_name(enum request_cmd cmd)
{
    int i = row_of(cmd, REQ_HOOK_NONE);
    return i < 0 ? NULL : actions[i].name;
}

enum request_cmd action_cmd_from_name(const char *name)
{
    for (size_t i = 0; name && i < N_ACTIONS; i++) {
        if (actions[i].op == REQ_HOOK_NONE && strcmp(actions[i].name, name) == 0) {
            return actions[i].cmd;
        }
    }
    return REQ_NONE;
}

const char *action_name(enum request_cmd cmd, enum request_hook_op op)
{
    int i = row_of(cmd, op);
    return i < 0 ? NULL : actions[i].name;
}

enum request_hook_op action_hook_op_from_word(const char *word)
{
    const size_t n = strlen(HOOK_PREFIX);
    for (size_t i = 0; word && i < N_ACTIONS; i++) {
        if (actions[i].cmd == REQ_HOOK && actions[i].op != REQ_HOOK_NONE &&
            strcmp(actions[i].name + n, word) == 0) {
            return actions[i].op;
        }
    }
    return REQ_HOOK_NONE;
}

const char *action_hook_op_word(enum request_hook_op op)
{
    int i = op == REQ_HOOK_NONE ? -1 : row_of(REQ_HOOK, op);
    return i < 0 ? NULL : actions[i].name + strlen(HOOK_PREFIX);
}

enum action_grant action_grant_of(enum request_cmd cmd, enum request_hook_op op)
{
    int i = row_of(cmd, op);
    return i < 0 ? ACTION_GRANT_MAX : actions[i].grant;
}

const char *action_grant_name(enum action_grant a)
{
    for (size_t i = 0; i < N_ACTIONS; i++) {
        if (a != ACTION_GRANT_MAX && actions[i].grant == a) {
            return actions[i].name;
        }
    }
    return NULL;
}

enum action_grant action_grant_from_name(const char *name)
{
    for (size_t i = 0; name && i < N_ACTIONS; i++) {
        if (actions[i].grant != ACTION_GRANT_MAX && strcmp(actions[i].name, name) == 0) {
            return actions[i].grant;
        }
    }
    return ACTION_GRANT_MAX;
}
