/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TEMPORARY: remove once `pvetmpl list` reaches the CLI through the seam
 * (request.h/cli.c); tests/cli/t330-list.sh then runs pvetmpl itself.
 *
 * list-probe [--all] [--table] CONFIG: runs cmd_list_run with a context
 * built from the pvetmpl config file CONFIG and prints the report as one
 * JSON object (or, with --table, the table list_draw makes of it; the
 * error then on stderr). Exit status as pvetmpl's: err_exit_code. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "list.h"

int main(int argc, char **argv)
{
    struct request_list r = {0};
    bool table = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--all") == 0) {
            r.all = true;
        } else if (strcmp(argv[i], "--table") == 0) {
            table = true;
        } else {
            break;
        }
    }
    if (i != argc - 1) {
        fputs("usage: list-probe [--all] [--table] CONFIG\n", stderr);
        return 64;
    }
    struct conf cf = {0};
    struct err e = {0};
    static volatile sig_atomic_t interrupt;
    struct ctx c = {.conf = &cf,
                    .conf_path = argv[i],
                    .json = !table,
                    .quiet = !table,
                    .interrupt = &interrupt,
                    .rep = report_new("list")};
    int rc = 0;
    if (!c.rep) {
        return 70;
    }
    if (conf_load_file(argv[i], true, &cf, &e) < 0 || cmd_list_run(&c, &r, &e) < 0) {
        rc = err_exit_code(e.cls);
    }
    struct json_object *o = report_finish(c.rep, &e, rc, 0), *t = NULL;
    if (!table) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    } else if (rc != 0) {
        fprintf(stderr, "list-probe: error: %s\n", e.detail);
    } else {
        json_object_object_get_ex(o, "templates", &t);
        list_draw(stdout, t);
    }
    report_free(c.rep);
    conf_release(&cf);
    return rc;
}
