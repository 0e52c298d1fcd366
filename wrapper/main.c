/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl: global options, configuration, dispatch, and the one place that
 * prints the result and chooses the exit code (err_exit_code's table). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "stdfd.h"
#include "validate.h"

static volatile sig_atomic_t interrupted;

/* The first signal ends the run: qm is stopped, the run recorded, exit 130.
 * A second one kills at once, by its default action: the admin's way out of
 * a wait the first could not end (a child ignoring TERM during the grace
 * period, a read retried after EINTR). */
static void on_signal(int sig)
{
    if (interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    interrupted = sig;
}

static const char *const usage_text =
    "usage: pvetmpl [-c FILE] [--json] [-n|--dry-run] [-q] [-v] [--no-progress] [--timeout SEC]\n"
    "               COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  make-template SRC NEWID [--name NAME] [--storage STORAGE] [--format raw|qcow2|vmdk]\n"
    "                [--pool POOL] [--target NODE] [--description TEXT] [--bwlimit KIB]\n"
    "                [--snapname SNAP] [--no-hook|--replace-hook]\n"
    "                              full-clone SRC and make the copy a verified template\n"
    "  clone SRC NEWID [same options] [--linked]\n"
    "                              clone SRC after checking every precondition\n"
    "  template VMID [--disk DRIVE] convert VMID to a template and verify it\n"
    "  check SRC [--storage STORAGE] [--target NODE]\n"
    "                              preflight report only, changes nothing\n"
    "  storages                    every storage, its type, state, and template support\n"
    "  hook install|remove|status VMID... [--storage STORAGE] [--replace-hook]\n"
    "                              manage the pvetmpl-hook hookscript of VMs\n"
    "  audit [--vmid N] [--since T] [--until T] [--action A] [--all-users] [-D DIR|--file FILE]\n"
    "                              history of templates, clones, starts and stops\n"
    "\n"
    "Global options:\n"
    "  -c, --config FILE   configuration (default " CONF_DEFAULT_PATH ", or $PVETMPL_CONFIG)\n"
    "      --json          print exactly one JSON object on stdout\n"
    "  -n, --dry-run       run only read-only queries; print the commands a real run would run\n"
    "  -q, --quiet         print errors only\n"
    "  -v, --verbose       show qm's own output lines\n"
    "      --no-progress   no progress bars\n"
    "      --timeout SEC   stop a qm command after SEC seconds (0 = never)\n"
    "  -h, --help          this help ('pvetmpl COMMAND --help' for a command's)\n"
    "  -V, --version       the version\n"
    "\n"
    "Exit codes:\n"
    "  0 ok or nothing to do       1 the qm operation failed   64 bad usage or argument\n"
    "  65 unparseable qm/pvesm output  69 a precondition is not met  70 internal error\n"
    "  71 qm/pvesm could not be started  75 locked/busy, retry later  77 not permitted\n"
    "  78 configuration error      124 timed out               130 interrupted\n";

static const struct {
    const char *name;
    int (*fn)(struct ctx *, int, char **, struct err *);
} commands[] = {
    {"make-template", cmd_make_template},
    {"clone", cmd_clone},
    {"template", cmd_template},
    {"check", cmd_check},
    {"storages", cmd_storages},
    {"hook", cmd_hook},
    {"audit", cmd_audit},
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void print_human(const struct ctx *c, struct json_object *o, const struct err *e,
                        bool is_check)
{
    struct json_object *checks, *msg;
    json_object_object_get_ex(o, "checks", &checks);
    size_t n = checks ? json_object_array_length(checks) : 0;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *ck = json_object_array_get_idx(checks, i), *ok, *name, *detail;
        json_object_object_get_ex(ck, "ok", &ok);
        json_object_object_get_ex(ck, "name", &name);
        json_object_object_get_ex(ck, "detail", &detail);
        bool good = json_object_get_boolean(ok);
        failed += !good;
        if (is_check && !c->quiet) {
            printf("%-4s %-24s %s\n", good ? "ok" : "FAIL", json_object_get_string(name),
                   json_object_get_string(detail));
        } else if (!good) {
            fprintf(stderr, "pvetmpl: check '%s' failed: %s\n", json_object_get_string(name),
                    json_object_get_string(detail));
        }
    }
    if (e->cls != ERR_OK) {
        if (failed && (e->cls == ERR_PRECONDITION || e->cls == ERR_BUSY)) {
            fprintf(stderr, "pvetmpl: error: %zu check%s failed%s\n", failed,
                    failed == 1 ? "" : "s", e->cls == ERR_BUSY ? " (locked: retry later)" : "");
        } else {
            fprintf(stderr, "pvetmpl: error: %s\n", e->detail);
        }
    } else if (!c->quiet && json_object_object_get_ex(o, "msg", &msg) &&
               *json_object_get_string(msg)) {
        printf("%s\n", json_object_get_string(msg));
    }
}

/* The answer is only given once it is written: a full disk or a closed pipe
 * must not turn into exit 0 with the output lost. Returns the exit code. A
 * reader that stopped reading (`pvetmpl audit | head`) ends us as it ends any
 * filter, by SIGPIPE and without a message: ignored while qm ran, it is
 * harmless now that every record is written. */
static int close_stdout(int rc)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        /* only a success may end by SIGPIPE: a failing run piped to tee
         * keeps its exit code */
        if (errno == EPIPE && rc == 0) {
            signal(SIGPIPE, SIG_DFL);
            raise(SIGPIPE);
        }
        fprintf(stderr, "pvetmpl: error: cannot write to standard output: %s\n",
                errno ? strerror(errno) : "write error");
        return rc ? rc : err_exit_code(ERR_INTERNAL);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"config", required_argument, NULL, 'c'},  {"json", no_argument, NULL, 'J'},
        {"dry-run", no_argument, NULL, 'n'},       {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},       {"no-progress", no_argument, NULL, 'P'},
        {"timeout", required_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    struct ctx c = {.interrupt = &interrupted};
    struct err e = {ERR_OK, ""};
    struct conf cf = {0};
    const char *conf_path = NULL, *timeout_arg = NULL;
    bool no_progress = false, conf_loaded = false;
    long t0 = now_ms();
    const size_t ncmd = sizeof(commands) / sizeof(commands[0]);
    size_t k = ncmd;
    int ch, rc;

    /* Before anything opens a file (see stdfd.h). Writes to a closed stdout
     * or stderr must fail: the answer that went nowhere is an error
     * (close_stdout), never exit 0. */
    if (stdfd_ensure_open(true) < 0) {
        return err_exit_code(ERR_INTERNAL);
    }
    c.rep = report_new(NULL);
    if (!c.rep) {
        fputs("pvetmpl: error: out of memory\n", stderr);
        return err_exit_code(ERR_INTERNAL);
    }
    /* --json anywhere (before a "--") decides the form of every answer,
     * including errors found before getopt reaches it. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        c.json |= strcmp(argv[i], "--json") == 0;
    }
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+:c:nqvhV", lopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            break;
        case 'J':
            c.json = true;
            break;
        case 'n':
            c.dry_run = true;
            break;
        case 'q':
            c.quiet = true;
            break;
        case 'v':
            c.verbose = true;
            break;
        case 'P':
            no_progress = true;
            break;
        case 'T':
            timeout_arg = optarg;
            break;
        case 'h':
            cmd_help(&c, usage_text);
            goto done;
        case 'V':
            if (c.json) {
                report_set_msg(c.rep, "pvetmpl %s", PVETMPL_VERSION);
                goto done;
            }
            printf("pvetmpl %s\n", PVETMPL_VERSION);
            report_free(c.rep);
            return close_stdout(0);
        case ':':
            err_set(&e, ERR_USAGE, "option '%s' needs a value", argv[optind - 1]);
            goto done;
        default:
            /* in a cluster such as -Zq, argv[optind - 1] is not the bad option */
            if (optopt) {
                err_set(&e, ERR_USAGE, "unknown option '-%c' (see 'pvetmpl --help')", optopt);
            } else {
                err_set(&e, ERR_USAGE, "unknown option '%s' (see 'pvetmpl --help')",
                        argv[optind - 1]);
            }
            goto done;
        }
    }
    report_set_dry_run(c.rep, c.dry_run);
    if (optind >= argc) {
        err_set(&e, ERR_USAGE, "no command given (see 'pvetmpl --help')");
        goto done;
    }
    for (k = 0; k < ncmd; k++) {
        if (strcmp(argv[optind], commands[k].name) == 0) {
            break;
        }
    }
    if (k == ncmd) {
        err_set(&e, ERR_USAGE, "unknown command '%s' (see 'pvetmpl --help')", argv[optind]);
        goto done;
    }
    report_set_action(c.rep, commands[k].name);

    if (!conf_path) {
        conf_path = getenv("PVETMPL_CONFIG");
    }
    if (conf_load_file(conf_path ? conf_path : CONF_DEFAULT_PATH, conf_path != NULL, &cf, &e) < 0) {
        goto done;
    }
    conf_loaded = true;
    c.conf = &cf;
    c.conf_path = conf_path ? conf_path : CONF_DEFAULT_PATH;
    c.timeout = cf.timeout;
    if (timeout_arg) {
        char msg[256];
        if (validate_timeout(timeout_arg, &c.timeout, msg, sizeof(msg)) < 0) {
            err_set(&e, ERR_USAGE, "%s", msg);
            goto done;
        }
    }
    c.progress = !no_progress && !c.quiet && !c.json && isatty(STDERR_FILENO);

    /* The root check is made where qm is run (node_run_many): validation,
     * --help and usage errors come first, and nothing can skip it. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    /* A dropped SSH session (HUP) or ^\ (QUIT) must not kill pvetmpl while
     * qm runs on: like INT and TERM they are passed to qm's process group,
     * recorded, and end the run with 130. A HUP already ignored stays
     * ignored: under nohup the admin asked the run to outlive the session. */
    for (const int *sig = (const int[]){SIGINT, SIGTERM, SIGHUP, SIGQUIT, 0}; *sig; sig++) {
        struct sigaction old;
        if (*sig == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
            continue;
        }
        sigaction(*sig, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);

    if (commands[k].fn(&c, argc - optind, argv + optind, &e) == 0) {
        e.cls = ERR_OK;
    } else if (e.cls == ERR_OK) {
        err_set(&e, ERR_INTERNAL, "command failed without an error message");
    }
    /* The command's result stands: an interruption it noticed is its error;
     * a signal after its last step (the success already journalled) changes
     * nothing that happened. */

done:
    rc = err_exit_code(e.cls);
    struct json_object *o = report_finish(c.rep, &e, rc, now_ms() - t0);
    if (c.own_output && e.cls == ERR_OK) {
        /* the command printed its result itself */
    } else if (c.json) {
        if (report_print_json(stdout, o) < 0) {
            fputs("pvetmpl: error: out of memory\n", stderr);
            rc = rc ? rc : err_exit_code(ERR_INTERNAL);
        }
    } else {
        print_human(&c, o, &e, k < ncmd && commands[k].fn == cmd_check);
    }
    report_free(c.rep);
    if (conf_loaded) {
        conf_release(&cf);
    }
    return close_stdout(rc);
}
