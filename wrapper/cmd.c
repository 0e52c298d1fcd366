/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd: the output every command shares (info, warnings, help, planned
 * commands), in the library so that modules such as preflight can speak
 * without linking main. Where it goes depends on the context: stderr for a
 * person, the report under --json. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "strv.h"

void cmd_info(const struct ctx *c, const char *fmt, ...)
{
    if (c->quiet || c->json) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("pvetmpl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cmd_warn(const struct ctx *c, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (c->rep) {
        report_add_warning(c->rep, "%s", buf);
    }
    if (!c->json) {
        fprintf(stderr, "pvetmpl: warning: %s\n", buf);
    }
}

void cmd_record(const struct ctx *c, char *const *argv)
{
    report_add_command(c->rep, argv);
    if (c->dry_run && !c->json && !c->quiet) {
        char *s = strv_join_quoted(argv);
        printf("would run: %s\n", s ? s : argv[0]);
        free(s);
    }
}

void cmd_plan(const struct ctx *c, const char *fmt, ...)
{
    if (!c->dry_run || c->json || c->quiet) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("would ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

const char *cmd_json_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}
