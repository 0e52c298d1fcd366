/* SPDX-License-Identifier: GPL-3.0-or-later */
/* spawn: the one way this project starts a child process. argv arrays with an
 * absolute program path to execve (never a shell), a clean environment, no
 * inherited descriptors, stdout and stderr drained together with byte and
 * time limits. "Could not start" (started == false, exec_errno) is kept apart
 * from "ran and failed" (exited/status/signo). */
#ifndef PVETMPL_SPAWN_H
#define PVETMPL_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

enum spawn_stream { SPAWN_STDOUT = 1, SPAWN_STDERR = 2 };

struct spawn_opts {
    size_t max_output;  /* bytes kept per stream (0 = 4 MiB); the rest is drained and dropped */
    long timeout_ms;    /* 0 = none; then SIGTERM to the child's process group, SIGKILL after
                           kill_grace_ms */
    long kill_grace_ms; /* 0 = 5000 */
    /* Called for each complete line (without '\n'; '\r' also ends a line, as
     * PVE's run_command splits on it) as it arrives. May be NULL. */
    void (*on_line)(void *ud, size_t job, enum spawn_stream s, const char *line);
    void *ud;
    /* When set and it becomes non-zero, its value (a signal number) is sent to
     * every child's process group, and the result records it. */
    const volatile sig_atomic_t *interrupt;
    char *const *envp; /* NULL = the clean default: PATH=/usr/sbin:/usr/bin:/sbin:/bin, LC_ALL=C */
    const char *stdin_path; /* NULL = /dev/null */
};

struct spawn_result {
    bool started; /* false: exec_errno says why (ENOENT, EACCES, ENOEXEC, ...; also EAGAIN or
                     ENOMEM when the kernel made no process: posix_spawn reports both alike) */
    int exec_errno;
    bool exited; /* exited normally: status is the exit code */
    int status;
    int signo; /* killed by this signal (when !exited) */
    bool timed_out;
    int interrupted; /* the signal forwarded, or 0 */
    bool abandoned;  /* still stopping when spawn_abandon() ended the wait: never finished */
    char *out, *err; /* NUL-terminated, never NULL after spawn_run* returned 0 */
    size_t out_len, err_len;
    bool truncated;
    long duration_ms;
};

/* Runs one child to completion. Returns 0 when the result is filled (even if
 * the program could not be started), -errno when spawning machinery failed. */
int spawn_run(char *const argv[], const struct spawn_opts *o, struct spawn_result *ret);
/* Starts n children at once and drains them together (independent queries run
 * concurrently). rets[i] belongs to argvs[i]. */
int spawn_run_many(size_t n, char *const *const argvs[], const struct spawn_opts *o,
                   struct spawn_result rets[]);
void spawn_result_release(struct spawn_result *r);
/* 0 for a clean exit 0, else the shell-style code: status, or 128 + signo
 * (128 + the signal forwarded for an abandoned child, which never reads as
 * success). */
int spawn_result_code(const struct spawn_result *r);

/* A second signal must be able to end a wait the first could not end, without
 * killing the children (KILL would reach qm's parent only, which could die
 * before passing TERM to its worker). Both are async-signal-safe: a signal
 * handler asks whether spawn_run_many is waiting for children and, if so,
 * makes it stop waiting once every child has been sent TERM; the children
 * still running are left to finish stopping on their own, their results
 * marked interrupted and abandoned. spawn_abandoned says whether that
 * happened in this process. */
bool spawn_waiting(void);
void spawn_abandon(void);
bool spawn_abandoned(void);

#endif
