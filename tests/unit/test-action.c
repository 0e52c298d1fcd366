/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of action.c, the one table of command, hook subcommand and
 * grant action names: every command has its name, every grant action names
 * exactly one command (or hook subcommand), and every lookup is the inverse
 * of the other. A command added to enum request_cmd without its row, or a
 * grant action without its command, fails here. */
#include <check.h>
#include <string.h>

#include "action.h"
#include "unit.h"

START_TEST(every_command_has_a_name)
{
    for (int c = REQ_NONE + 1; c < _REQ_CMD_MAX; c++) {
        const char *n = action_cmd_name((enum request_cmd)c);
        ck_assert_msg(n != NULL, "command %d has no name in action.c", c);
        ck_assert_int_eq(action_cmd_from_name(n), c);
        ck_assert_str_eq(action_name((enum request_cmd)c, REQ_HOOK_NONE), n);
    }
    ck_assert_ptr_null(action_cmd_name(REQ_NONE));
    ck_assert_ptr_null(action_cmd_name(_REQ_CMD_MAX));
    ck_assert_ptr_null(action_name(REQ_NONE, REQ_HOOK_NONE));
    ck_assert_int_eq(action_cmd_from_name("make"), REQ_NONE);
    ck_assert_int_eq(action_cmd_from_name("hook-install"), REQ_NONE); /* an action, no command */
    ck_assert_int_eq(action_cmd_from_name(""), REQ_NONE);
    ck_assert_int_eq(action_cmd_from_name(NULL), REQ_NONE);
}
END_TEST

START_TEST(every_hook_subcommand_has_a_name)
{
    for (int op = REQ_HOOK_NONE + 1; op <= REQ_HOOK_UPDATE; op++) {
        const char *n = action_name(REQ_HOOK, (enum request_hook_op)op);
        ck_assert_msg(n != NULL, "hook subcommand %d has no name in action.c", op);
        ck_assert_int_eq(strncmp(n, "hook-", 5), 0);
        ck_assert_int_eq(action_hook_op_from_word(n + 5), op);
        ck_assert_str_eq(action_hook_op_word((enum request_hook_op)op), n + 5);
    }
    ck_assert_str_eq(action_name(REQ_HOOK, REQ_HOOK_NONE), "hook");
    ck_assert_ptr_null(action_hook_op_word(REQ_HOOK_NONE));
    ck_assert_str_eq(action_name(REQ_HOOK, REQ_HOOK_INSTALL), "hook-install");
    /* the subcommand of another command is no subcommand */
    ck_assert_str_eq(action_name(REQ_LIST, REQ_HOOK_INSTALL), "list");
    ck_assert_int_eq(action_hook_op_from_word("hook-install"), REQ_HOOK_NONE);
    ck_assert_int_eq(action_hook_op_from_word("Install"), REQ_HOOK_NONE);
    ck_assert_int_eq(action_hook_op_from_word(""), REQ_HOOK_NONE);
    ck_assert_int_eq(action_hook_op_from_word(NULL), REQ_HOOK_NONE);
}
END_TEST

/* Each grant action allows exactly one command or hook subcommand, and is
 * named as reports and the journal name that action. */
START_TEST(every_grant_action_names_one_command)
{
    /* bits of conf_grant.actions */
    ck_assert_int_le(ACTION_GRANT_MAX, 32);
    for (int a = 0; a < ACTION_GRANT_MAX; a++) {
        const char *n = action_grant_name((enum action_grant)a);
        int rows = 0;
        ck_assert_msg(n != NULL, "grant action %d has no name in action.c", a);
        ck_assert_int_eq(action_grant_from_name(n), a);
        for (int c = REQ_NONE; c <= _REQ_CMD_MAX; c++) {
            for (int op = REQ_HOOK_NONE; op <= REQ_HOOK_UPDATE; op++) {
                if (c != REQ_HOOK && op != REQ_HOOK_NONE) {
                    continue; /* the same row as op REQ_HOOK_NONE */
                }
                if ((int)action_grant_of((enum request_cmd)c, (enum request_hook_op)op) == a) {
                    rows++;
                    ck_assert_str_eq(action_name((enum request_cmd)c, (enum request_hook_op)op), n);
                }
            }
        }
        ck_assert_msg(rows == 1, "grant action %s allows %d commands, want 1", n, rows);
    }
    ck_assert_ptr_null(action_grant_name(ACTION_GRANT_MAX));
    ck_assert_int_eq(action_grant_from_name("policy"), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_from_name("hook"), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_from_name("hook-update"), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_from_name("install"), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_from_name(NULL), ACTION_GRANT_MAX);
}
END_TEST

/* What no grant allows, today: the policy query is anyone's (policy_decide
 * answers it apart), hook update and a bare 'hook' are root's. */
START_TEST(what_no_grant_allows)
{
    ck_assert_int_eq(action_grant_of(REQ_POLICY, REQ_HOOK_NONE), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_of(REQ_HOOK, REQ_HOOK_NONE), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_of(REQ_HOOK, REQ_HOOK_UPDATE), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_of(REQ_NONE, REQ_HOOK_NONE), ACTION_GRANT_MAX);
    ck_assert_int_eq(action_grant_of(REQ_CLONE, REQ_HOOK_NONE), ACTION_GRANT_CLONE);
    ck_assert_int_eq(action_grant_of(REQ_HOOK, REQ_HOOK_STATUS), ACTION_GRANT_HOOK_STATUS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("action");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, every_command_has_a_name);
    tcase_add_test(tc, every_hook_subcommand_has_a_name);
    tcase_add_test(tc, every_grant_action_names_one_command);
    tcase_add_test(tc, what_no_grant_allows);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
