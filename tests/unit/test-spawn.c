/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the one spawn helper and of strv. The children are small
 * system programs; /bin/sh appears only as a test subject, never in spawn. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "strv.h"
#include "unit.h"

static struct spawn_result run(char *const argv[], const struct spawn_opts *o)
{
    struct spawn_result r;
    ck_assert_int_eq(spawn_run(argv, o, &r), 0);
    return r;
}

START_TEST(exit_codes_and_streams)
{
    char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert(r.started);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out, "out\n");
    ck_assert_str_eq(r.err, "err\n");
    ck_assert_int_eq(spawn_result_code(&r), 3);
    spawn_result_release(&r);
}
END_TEST

START_TEST(missing_program_is_not_a_failed_run)
{
    char *argv[] = {"/nonexistent/qm", "status", "100", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert(!r.started);
    ck_assert_int_eq(r.exec_errno, ENOENT);
    ck_assert(!r.exited);
    ck_assert_str_eq(r.out, "");
    spawn_result_release(&r);
}
END_TEST

START_TEST(not_executable)
{
    char path[] = "/tmp/pvetmpl-noexec.XXXXXX";
    int fd = mkstemp(path); /* mode 0600: not executable, even for root */
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *argv[] = {path, NULL};
    struct spawn_result r = run(argv, NULL);
    unlink(path);
    ck_assert(!r.started);
    ck_assert_int_eq(r.exec_errno, EACCES);
    spawn_result_release(&r);
}
END_TEST

START_TEST(relative_path_refused)
{
    char *argv[] = {"qm", "list", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert(!r.started);
    ck_assert_int_eq(r.exec_errno, EINVAL);
    spawn_result_release(&r);
}
END_TEST

START_TEST(clean_environment)
{
    setenv("PVETMPL_LEAK", "secret", 1);
    char *argv[] = {"/usr/bin/env", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert_str_eq(r.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n");
    spawn_result_release(&r);
}
END_TEST

START_TEST(no_inherited_descriptors)
{
    int fd = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
    ck_assert_int_ge(fd, 3);
    char *argv[] = {"/bin/ls", "/proc/self/fd", NULL};
    struct spawn_result r = run(argv, NULL);
    /* ls sees 0 1 2 and its own directory fd only */
    ck_assert_str_eq(r.out, "0\n1\n2\n3\n");
    close(fd);
    spawn_result_release(&r);
}
END_TEST

/* What the parent blocked, ignored or caught does not reach the child: its
 * mask is empty and every disposition the default (an ignored signal would
 * survive execve). Check forks each test, so changing signals here is safe. */
static void on_term(int sig)
{
    (void)sig;
}

START_TEST(child_signals_default)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ck_assert_int_eq(sigprocmask(SIG_BLOCK, &usr1, NULL), 0);
    ck_assert(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
    ck_assert(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    ck_assert(signal(SIGTERM, on_term) != SIG_ERR);
    char *argv[] = {"/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert_int_eq(spawn_result_code(&r), 0);
    ck_assert_str_eq(r.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    spawn_result_release(&r);
}
END_TEST

/* The child leads a process group of its own, apart from ours, so a timeout
 * or ^C reaches qm's workers and never pvetmpl itself. */
START_TEST(own_process_group)
{
    char *argv[] = {"/usr/bin/cut", "-d", " ", "-f", "1,5", "/proc/self/stat", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert_int_eq(spawn_result_code(&r), 0);
    long pid = 0, pgrp = 0;
    ck_assert_int_eq(sscanf(r.out, "%ld %ld", &pid, &pgrp), 2);
    ck_assert_int_eq(pgrp, pid);
    ck_assert_int_ne(pgrp, (long)getpgrp());
    spawn_result_release(&r);
}
END_TEST

/* A program execve refuses (no #!, not ELF) is never handed to a shell, as
 * execvp and a compatibility posix_spawn would: it could not start. */
START_TEST(no_shell_fallback)
{
    char path[] = "/tmp/pvetmpl-noshebang.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "echo ran\n", 9), 9);
    ck_assert_int_eq(fchmod(fd, 0700), 0);
    close(fd);
    char *argv[] = {path, NULL};
    struct spawn_result r = run(argv, NULL);
    unlink(path);
    ck_assert(!r.started);
    ck_assert_int_eq(r.exec_errno, ENOEXEC);
    ck_assert_str_eq(r.out, "");
    spawn_result_release(&r);
}
END_TEST

START_TEST(stdin_is_devnull)
{
    char *argv[] = {"/bin/cat", NULL};
    struct spawn_result r = run(argv, NULL);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    spawn_result_release(&r);
}
END_TEST

/* With 0, 1 and 2 closed in the parent, the child's stdin and pipes land
 * on them: each must still reach the child (dup2 onto itself would leave
 * close-on-exec set). Check forks each test, so closing them here is safe. */
START_TEST(std_fds_closed_in_parent)
{
    char path[] = "/tmp/pvetmpl-stdin.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "from the file\n", 14), 14);
    close(fd);
    close(0);
    close(1);
    close(2);
    char *argv[] = {"/bin/sh", "-c", "cat; echo err >&2", NULL};
    struct spawn_opts o = {.stdin_path = path};
    struct spawn_result r = run(argv, &o);
    unlink(path);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "from the file\n");
    ck_assert_str_eq(r.err, "err\n");
    spawn_result_release(&r);
}
END_TEST

START_TEST(timeout_term)
{
    struct spawn_opts o = {.timeout_ms = 200};
    char *argv[] = {"/bin/sleep", "30", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert(r.timed_out);
    ck_assert(!r.exited);
    ck_assert_int_eq(r.signo, SIGTERM);
    ck_assert_int_eq(spawn_result_code(&r), 128 + SIGTERM);
    spawn_result_release(&r);
}
END_TEST

START_TEST(timeout_kill_when_term_ignored)
{
    struct spawn_opts o = {.timeout_ms = 200, .kill_grace_ms = 300};
    char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert(r.timed_out);
    ck_assert_int_eq(r.signo, SIGKILL);
    spawn_result_release(&r);
}
END_TEST

START_TEST(output_limit)
{
    struct spawn_opts o = {.max_output = 1000};
    char *argv[] = {"/usr/bin/head", "-c", "100000", "/dev/zero", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 0); /* drained to the end: no SIGPIPE */
    ck_assert(r.truncated);
    ck_assert_uint_eq(r.out_len, 1000);
    spawn_result_release(&r);
}
END_TEST

struct lines {
    struct strv out, err;
};

static void collect(void *ud, size_t job, enum spawn_stream s, const char *line)
{
    struct lines *l = ud;
    ck_assert_uint_eq(job, 0);
    strv_push(s == SPAWN_STDOUT ? &l->out : &l->err, line);
}

START_TEST(line_callback_splits_cr_and_lf)
{
    struct lines l = {STRV_INIT, STRV_INIT};
    struct spawn_opts o = {.on_line = collect, .ud = &l};
    char *argv[] = {"/usr/bin/printf", "a 1%%\\rb 2%%\\nc\\n\\nlast", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert_uint_eq(l.out.n, 5);
    ck_assert_str_eq(l.out.v[0], "a 1%");
    ck_assert_str_eq(l.out.v[1], "b 2%");
    ck_assert_str_eq(l.out.v[2], "c");
    ck_assert_str_eq(l.out.v[3], "");
    ck_assert_str_eq(l.out.v[4], "last");
    ck_assert_uint_eq(l.err.n, 0);
    strv_release(&l.out);
    strv_release(&l.err);
    spawn_result_release(&r);
}
END_TEST

static void count_lines(void *ud, size_t job, enum spawn_stream s, const char *line)
{
    size_t *n = ud;
    (void)job;
    (void)s;
    (void)line;
    (*n)++;
}

START_TEST(streamed_lines_beyond_the_limit)
{
    /* A long copy prints progress for hours: every line must still arrive. */
    size_t n = 0;
    struct spawn_opts o = {.max_output = 1000, .on_line = count_lines, .ud = &n};
    char *argv[] = {"/usr/bin/seq", "1", "5000", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert_uint_eq(n, 5000);
    ck_assert_uint_le(r.out_len, 1000);
    ck_assert(strstr(r.out, "5000\n") != NULL); /* the tail is what is kept */
    spawn_result_release(&r);
}
END_TEST

START_TEST(timeout_reaches_the_group_after_the_leader_exits)
{
    /* qm's worker can outlive the process we started while holding its pipes. */
    struct spawn_opts o = {.timeout_ms = 300, .kill_grace_ms = 300};
    char *argv[] = {"/bin/sh", "-c", "sleep 30 & exit 0", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert(r.timed_out);
    ck_assert(r.exited); /* the leader itself had exited 0 */
    ck_assert_int_eq(r.status, 0);
    spawn_result_release(&r);
}
END_TEST

START_TEST(many_run_concurrently)
{
    /* The writer blocks opening the FIFO until the reader opens it, so this
     * finishes only if both children run at the same time. */
    char dir[] = "/tmp/pvetmpl-spawn.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char fifo[128];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "echo through > %s", fifo);
    char *a[] = {"/bin/sh", "-c", cmd, NULL};
    char *b[] = {"/bin/cat", fifo, NULL};
    char *const *argvs[] = {a, b};
    struct spawn_result r[2];
    struct spawn_opts o = {.timeout_ms = 5000};
    ck_assert_int_eq(spawn_run_many(2, argvs, &o, r), 0);
    ck_assert(!r[0].timed_out && !r[1].timed_out);
    ck_assert_int_eq(spawn_result_code(&r[0]), 0);
    ck_assert_str_eq(r[1].out, "through\n");
    spawn_result_release(&r[0]);
    spawn_result_release(&r[1]);
    unlink(fifo);
    rmdir(dir);
}
END_TEST

/* Whatever signal ended the run, the child's group gets TERM: qm's parent
 * passes only INT, QUIT and TERM on to its worker (as TERM) and dies of a HUP
 * alone. r.interrupted names the signal pvetmpl received. */
START_TEST(interrupt_is_forwarded)
{
    static volatile sig_atomic_t flag = SIGHUP;
    struct spawn_opts o = {.interrupt = &flag, .timeout_ms = 5000};
    char *argv[] = {"/bin/sleep", "30", NULL};
    struct spawn_result r = run(argv, &o);
    ck_assert_int_eq(r.interrupted, SIGHUP);
    ck_assert_int_eq(r.signo, SIGTERM);
    ck_assert(!r.timed_out);
    spawn_result_release(&r);
}
END_TEST

/* A second signal (spawn_abandon, from the handler) ends the wait for a child
 * that is still stopping after its TERM, without killing it: the child is
 * left running, its result interrupted and abandoned, never a success. */
static volatile sig_atomic_t abandon_flag;
static pid_t abandon_child;

static void abandon_on_line(void *ud, size_t job, enum spawn_stream s, const char *line)
{
    (void)ud;
    (void)job;
    (void)s;
    abandon_child = (pid_t)atol(line);
    abandon_flag = SIGINT; /* ^C */
    spawn_abandon();       /* ^C again */
}

START_TEST(second_signal_abandons_without_killing)
{
    struct spawn_opts o = {.interrupt = &abandon_flag, .on_line = abandon_on_line};
    /* TERM ignored: the wait could only end by the grace period's KILL */
    char *argv[] = {"/bin/sh", "-c", "trap '' TERM; echo $$; exec sleep 30", NULL};
    ck_assert(!spawn_abandoned());
    struct spawn_result r = run(argv, &o);
    ck_assert(!spawn_waiting());
    ck_assert(spawn_abandoned());
    ck_assert(r.abandoned);
    ck_assert_int_eq(r.interrupted, SIGINT);
    ck_assert(!r.exited);
    ck_assert_int_eq(spawn_result_code(&r), 128 + SIGINT);
    ck_assert_int_gt(abandon_child, 0);
    ck_assert_int_eq(kill(abandon_child, 0), 0); /* still running: not killed */
    ck_assert_int_lt(r.duration_ms, 4000);       /* not the 5 s grace period */
    kill(abandon_child, SIGKILL);
    waitpid(abandon_child, NULL, 0);
    spawn_result_release(&r);
}
END_TEST

START_TEST(strv_quoting)
{
    struct strv sv = STRV_INIT;
    ck_assert_ptr_null(strv_argv(&sv)[0]);
    strv_push(&sv, "/usr/sbin/qm");
    strv_push(&sv, "clone");
    strv_pushf(&sv, "%u", 100u);
    strv_push(&sv, "--description");
    strv_push(&sv, "it's a $(test)");
    strv_push(&sv, "");
    char *s = strv_join_quoted(strv_argv(&sv));
    ck_assert_str_eq(s, "/usr/sbin/qm clone 100 --description 'it'\\''s a $(test)' ''");
    ck_assert_uint_eq(sv.n, 6);
    ck_assert_ptr_null(sv.v[6]);
    free(s);
    strv_release(&sv);
    ck_assert_uint_eq(sv.n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spawn");
    TCase *tc = tcase_create("spawn");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, exit_codes_and_streams);
    tcase_add_test(tc, missing_program_is_not_a_failed_run);
    tcase_add_test(tc, not_executable);
    tcase_add_test(tc, relative_path_refused);
    tcase_add_test(tc, clean_environment);
    tcase_add_test(tc, no_inherited_descriptors);
    tcase_add_test(tc, child_signals_default);
    tcase_add_test(tc, own_process_group);
    tcase_add_test(tc, no_shell_fallback);
    tcase_add_test(tc, stdin_is_devnull);
    tcase_add_test(tc, std_fds_closed_in_parent);
    tcase_add_test(tc, timeout_term);
    tcase_add_test(tc, timeout_kill_when_term_ignored);
    tcase_add_test(tc, output_limit);
    tcase_add_test(tc, line_callback_splits_cr_and_lf);
    tcase_add_test(tc, streamed_lines_beyond_the_limit);
    tcase_add_test(tc, timeout_reaches_the_group_after_the_leader_exits);
    tcase_add_test(tc, many_run_concurrently);
    tcase_add_test(tc, interrupt_is_forwarded);
    tcase_add_test(tc, second_signal_abandons_without_killing);
    tcase_add_test(tc, strv_quoting);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
