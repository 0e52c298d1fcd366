/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli: the command-line front end, the only code that reads argv. It turns
 * argv into a struct request, hands it to request_execute, and draws the
 * report (tables and messages for a person, one JSON object for a program).
 *
 * Rules of the command line: global options are taken anywhere before a
 * `--`, also after the command and its arguments; a command's own options
 * follow the command's name; long options match exactly (no abbreviations);
 * a flag takes no "=VALUE"; a word the command has no place for is refused by
 * name. */
#ifndef PVETMPL_CLI_H
#define PVETMPL_CLI_H

#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "request.h"

/* What cli_parse allocated for r (the hook's VMID and audit's file lists). */
struct cli_parsed {
    bool version; /* -V/--version */
    const char **words;
};

/* argv -> r (zeroed first). Nothing is validated beyond the shape of the
 * line: request_validate does the rest. 0, or -1 with e (ERR_USAGE).
 * r->help or p->version set by --help/--version: the rest of the line was
 * not read. 'help [COMMAND]' sets r->help with r->cmd the topic (REQ_NONE:
 * none), the whole line read. */
int cli_parse(int argc, char **argv, struct request *r, struct cli_parsed *p, struct err *e);
void cli_parsed_release(struct cli_parsed *p);

/* The whole front end: parse, execute (frontend "cli"), draw. Returns the
 * exit code; stdout is left open for the caller's close_stdout. */
int cli_main(int argc, char **argv, const volatile sig_atomic_t *interrupt);

#endif
