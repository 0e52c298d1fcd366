/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TEMPORARY -- DELETE THIS FILE AT THE MERGE of the seam (issue 8).
 *
 * The old argv entry points cmd_hook and cmd_audit, kept as thin adapters
 * so that main.c and the tests keep working until the CLI front end
 * (wrapper/cli.c) and request_validate (wrapper/request.c) land: they parse
 * argv exactly as the commands did, fill the request's typed fields, call
 * cmd_hook_run/cmd_audit_run, and draw the rows as the front end will
 * (cmd_hook_draw/cmd_audit_draw). The help texts move to cli.c. New here:
 * audit --json-lines (c->json_lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "journal.h"
#include "validate.h"

/* The finished report's object, for drawing: main finishes it again with
 * the real rc and duration before printing anything of its own. */
static struct json_object *report_object(const struct ctx *c)
{
    return report_finish(c->rep, NULL, 0, 0);
}

/* ---- hook ---- */

static const char *const help_hook =
    "usage: pvetmpl [GLOBAL OPTIONS] hook install|remove|status VMID... [--storage STORAGE]\n"
    "                                [--replace-hook]\n"
    "\n"
    "  install  copy hook_binary to STORAGE:snippets/<hook_name> (atomically, mode 0755,\n"
    "           left alone when identical) and set it as each VM's hookscript\n"
    "  remove   delete the hookscript of each VM (only when it is pvetmpl's)\n"
    "  status   whether each VM has the hook, which volume, whether the file is\n"
    "           the same binary as hook_binary, and the config file that hook uses\n"
    "           (<file>.conf beside it, else the default) with its start policy\n"
    "\n"
    "  --storage STORAGE  a file-based storage (default: hook_storage, 'local')\n"
    "  --replace-hook     install: replace a hookscript that is not pvetmpl's (without\n"
    "                     it, a VM with such a hookscript is refused and nothing is set)\n";

/* A usage error: the message, then the command's synopsis. */
static int usage(struct err *e, const char *synopsis, const char *fmt, const char *arg)
{
    char m[512];
    snprintf(m, sizeof(m), fmt, arg);
    return err_set(e, ERR_USAGE, "%s (usage: %s)", m, synopsis);
}

static const char *const hook_synopsis =
    "pvetmpl hook install|remove|status VMID... [--storage STORAGE]";
#define hook_usage(e, fmt, arg) usage(e, hook_synopsis, fmt, arg)

/* argv[1] (install|remove|status) into r->op; 1 for --help. */
static int hook_parse_op(struct ctx *c, int argc, char **argv, struct request_hook *r,
                         struct err *e)
{
    if (argc < 2) {
        return hook_usage(e, "%s", "missing subcommand");
    }
    if (strcmp(argv[1], "install") == 0) {
        r->op = REQ_HOOK_INSTALL;
    } else if (strcmp(argv[1], "remove") == 0) {
        r->op = REQ_HOOK_REMOVE;
    } else if (strcmp(argv[1], "status") == 0) {
        r->op = REQ_HOOK_STATUS;
    } else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_help(c, help_hook);
        c->own_output = !c->json;
        return 1;
    } else {
        return hook_usage(e, "unknown subcommand '%s'", argv[1]);
    }
    return 0;
}

/* VMIDs and options after the subcommand, validated as the command did. */
static int hook_parse_args(int argc, char **argv, struct request_hook *r, struct err *e)
{
    bool opts_done = false;
    char msg[256];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
        } else if (!opts_done &&
                   (strcmp(a, "--storage") == 0 || strncmp(a, "--storage=", 10) == 0)) {
            if (a[9] == '=') {
                r->storage = a + 10;
            } else if (i + 1 < argc) {
                r->storage = argv[++i];
            } else {
                return hook_usage(e, "option '%s' needs a value", a);
            }
        } else if (!opts_done && strcmp(a, "--replace-hook") == 0) {
            r->replace_hook = true;
        } else if (!opts_done && a[0] == '-') {
            return hook_usage(e, "unknown option '%s'", a);
        } else {
            if (validate_vmid(a, &r->ids[r->n_vmids], msg, sizeof(msg)) < 0) {
                return err_set(e, ERR_USAGE, "%s", msg);
            }
            r->n_vmids++;
        }
    }
    if (r->n_vmids == 0) {
        return hook_usage(e, "%s", "no VMID given");
    }
    if (r->op != REQ_HOOK_INSTALL && r->storage) {
        return hook_usage(e, "%s", "--storage only applies to 'hook install'");
    }
    if (r->op != REQ_HOOK_INSTALL && r->replace_hook) {
        return hook_usage(e, "%s", "--replace-hook only applies to 'hook install'");
    }
    if (r->storage && validate_storage_id(r->storage, msg, sizeof(msg)) < 0) {
        return err_set(e, ERR_USAGE, "%s", msg);
    }
    return 0;
}

int cmd_hook(struct ctx *c, int argc, char **argv, struct err *e)
{
    struct request_hook r = {0}; /* r.vmids stays NULL: the run reads r.ids only */
    int rc = hook_parse_op(c, argc, argv, &r, e);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }
    r.ids = calloc((size_t)argc, sizeof(*r.ids));
    if (!r.ids) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    rc = hook_parse_args(argc, argv, &r, e);
    if (rc == 0) {
        rc = cmd_hook_run(c, &r, e);
        if (!c->json) {
            cmd_hook_draw(c, report_object(c));
        }
    }
    free(r.ids);
    return rc;
}

/* ---- audit ---- */

static const char *const help_audit =
    "usage: pvetmpl audit [--vmid N] [--since T] [--until T] [--action A]\n"
    "                     [--json | --json-lines] [--all-users] [-D DIR | --file FILE]\n"
    "\n"
    "History from the systemd journal: who made which template from which VM on\n"
    "which storage when, the VMs cloned from it, and their starts and stops.\n"
    "\n"
    "  --vmid N        N and its lineage both ways (its source, its clones)\n"
    "  --since T, --until T  time limits, as journalctl takes them\n"
    "                  ('2026-11-26 10:00', '@EPOCH', 'today', 'yesterday', '-1h')\n"
    "  --action A      only this action or hook phase (make-template, clone, pre-start...)\n"
    "  --json          one JSON object (the report) with the events in \"events\"\n"
    "  --json-lines    one JSON object per event and line instead of the table\n"
    "  --all-users     also entries not written by root (_UID != 0), marked UNTRUSTED:\n"
    "                  anyone can write an entry that looks like pvetmpl's\n"
    "  -D DIR, --file FILE  read an exported journal directory or file\n";

static const char *const audit_synopsis =
    "pvetmpl audit [--vmid N] [--since T] [--until T] [--action A] [--json|--json-lines] "
    "[--all-users] [-D DIR|--file FILE]";
#define audit_usage(e, fmt, arg) usage(e, audit_synopsis, fmt, arg)

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static bool audit_takes_value(const char *opt)
{
    static const char *const with_value[] = {"--vmid",   "--since", "-S",          "--until", "-U",
                                             "--action", "-D",      "--directory", "--file"};
    for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++) {
        if (strcmp(opt, with_value[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* One option with its value into r; 1 for --help. */
static int audit_option(struct ctx *c, const char *opt, const char *a, const char *val,
                        struct request_audit *r, const char **files, struct err *e)
{
    char msg[256];
    if (strcmp(opt, "--json") == 0) {
        c->json = true;
    } else if (strcmp(opt, "--json-lines") == 0) {
        c->json_lines = true;
    } else if (strcmp(opt, "--all-users") == 0) {
        r->all_users = true;
    } else if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
        return 1;
    } else if (strcmp(opt, "--vmid") == 0) {
        r->vmid = val;
        if (validate_vmid(val, &r->id, msg, sizeof(msg)) < 0) {
            return err_set(e, ERR_USAGE, "%s", msg);
        }
    } else if (strcmp(opt, "--since") == 0 || strcmp(opt, "-S") == 0 ||
               strcmp(opt, "--until") == 0 || strcmp(opt, "-U") == 0) {
        bool is_since = opt[2] == 's' || opt[1] == 'S';
        *(is_since ? &r->since : &r->until) = val;
        if (journal_parse_time(val, now_usec(), is_since ? &r->since_us : &r->until_us) < 0) {
            return err_set(e, ERR_USAGE,
                           "invalid %s value '%.64s': expected YYYY-MM-DD [HH:MM[:SS]], @EPOCH, "
                           "today, yesterday, now or a relative time such as -1h",
                           is_since ? "--since" : "--until", val);
        }
    } else if (strcmp(opt, "--action") == 0) {
        if (!*val) {
            return audit_usage(e, "%s", "--action needs a non-empty value");
        }
        r->action = val;
    } else if (strcmp(opt, "-D") == 0 || strcmp(opt, "--directory") == 0) {
        r->directory = val;
    } else if (strcmp(opt, "--file") == 0) {
        files[r->n_files++] = val;
    } else {
        return audit_usage(e, "unknown argument '%s'", a);
    }
    return 0;
}

/* argv into r, validated as the command did; 1 for --help. */
static int audit_parse(struct ctx *c, int argc, char **argv, struct request_audit *r,
                       const char **files, struct err *e)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        const char *eq = strchr(a, '=');
        char opt[32];
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof(opt)) {
            snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(opt, sizeof(opt), "%.31s", a);
        }
        if (audit_takes_value(opt) && !val) {
            if (i + 1 >= argc) {
                return audit_usage(e, "option '%s' needs a value", opt);
            }
            val = argv[++i];
        }
        int k = audit_option(c, opt, a, val, r, files, e);
        if (k != 0) {
            return k;
        }
    }
    if (r->directory && r->n_files) {
        return audit_usage(e, "%s", "-D and --file exclude each other");
    }
    if (r->since_us > r->until_us) {
        return audit_usage(e, "%s", "--since is after --until");
    }
    return 0;
}

int cmd_audit(struct ctx *c, int argc, char **argv, struct err *e)
{
    struct request_audit r = {.until_us = UINT64_MAX};
    const char **files = calloc((size_t)argc + 1, sizeof(*files));
    if (!files) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    r.files = files;
    int rc = audit_parse(c, argc, argv, &r, files, e);
    if (rc == 1) {
        cmd_help(c, help_audit);
        c->own_output = !c->json;
        rc = 0;
    } else if (rc == 0) {
        rc = cmd_audit_run(c, &r, e);
        /* --json: main prints the report; else the rows are the answer */
        if (rc == 0 && (!c->json || c->json_lines)) {
            cmd_audit_draw(c, report_object(c));
            c->own_output = true;
        }
    }
    free(files);
    return rc < 0 ? -1 : rc;
}
