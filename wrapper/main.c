/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvetmpl: the process around a front end: fds 0-2, signals, and the answer
 * only counted as given once it is written. Parsing, the run and the drawing
 * of its report are the front end's (cli.c, or module.c for Ansible); the exit
 * code is err_exit_code's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "module.h"
#include "spawn.h"
#include "stdfd.h"

static volatile sig_atomic_t interrupted;

/* The first signal ends the run: qm is stopped, the run recorded, exit 130.
 * A second one while qm is still stopping ends the wait for it (qm had its
 * TERM and goes on cleaning up on its own, never KILLed: that would reach
 * qm's parent only, which could die before passing TERM to its worker); the
 * run is still recorded as interrupted, with qm still stopping. A second
 * signal with no child to wait for (a read retried after EINTR), or a third,
 * kills at once by its default action: the admin's way out. */
static void on_signal(int sig)
{
    static volatile sig_atomic_t waited;
    if (!interrupted) {
        interrupted = sig;
        return;
    }
    if (!waited && spawn_waiting()) {
        waited = 1;
        spawn_abandon();
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
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
    /* Before anything opens a file (see stdfd.h). Writes to a closed stdout
     * or stderr must fail: the answer that went nowhere is an error
     * (close_stdout), never exit 0. */
    if (stdfd_ensure_open(true) < 0) {
        return err_exit_code(ERR_INTERNAL);
    }
    install_signals();
    /* Ansible runs a binary module as `pvetmpl ARGS-FILE` (module.h) */
    if (module_invoked(argc, argv)) {
        return close_stdout(module_main(argc, argv, &interrupted));
    }
    return close_stdout(cli_main(argc, argv, &interrupted));
}
