/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_OUTPUT (4u << 20)
#define DEFAULT_GRACE_MS 5000
#define TICK_MS 50

/* Set and read by signal handlers: see spawn_waiting. */
static volatile sig_atomic_t waiting, abandon, abandoned;

static char *const default_envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

struct stream {
    int fd;
    char *buf; /* kept output, NUL-terminated */
    size_t len, cap;
    size_t line_start; /* start of the unfinished line in buf (for on_line) */
};

struct job {
    pid_t pid;
    bool reaped;
    struct stream s[2];
    struct spawn_result *r;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int stream_append(struct stream *st, const char *data, size_t n, size_t max, bool *truncated)
{
    size_t keep = n;
    if (st->len + keep > max) {
        keep = st->len < max ? max - st->len : 0;
        *truncated = true;
    }
    if (st->len + keep + 1 > st->cap) {
        size_t nc = st->cap ? st->cap : 4096;
        while (nc < st->len + keep + 1) {
            nc *= 2;
        }
        char *nb = realloc(st->buf, nc);
        if (!nb) {
            return -ENOMEM;
        }
        st->buf = nb;
        st->cap = nc;
    }
    memcpy(st->buf + st->len, data, keep);
    st->len += keep;
    st->buf[st->len] = '\0';
    return 0;
}

static void emit_lines(const struct spawn_opts *o, size_t job, enum spawn_stream which,
                       struct stream *st, bool final)
{
    if (!o->on_line) {
        st->line_start = st->len;
        return;
    }
    char *p = st->buf + st->line_start, *end = st->buf + st->len;
    while (p < end) {
        char *nl = p;
        while (nl < end && *nl != '\n' && *nl != '\r') {
            nl++;
        }
        if (nl == end && !final) {
            break;
        }
        char saved = *nl;
        *nl = '\0';
        if (nl > p || saved == '\n') {
            o->on_line(o->ud, job, which, p);
        }
        *nl = saved;
        p = nl < end ? nl + 1 : nl;
    }
    st->line_start = (size_t)(p - st->buf);
}

static void fill_status(struct spawn_result *r, int ws)
{
    if (WIFEXITED(ws)) {
        r->exited = true;
        r->status = WEXITSTATUS(ws);
    } else if (WIFSIGNALED(ws)) {
        r->signo = WTERMSIG(ws);
    }
}

/* Whether job still has something alive: its leader, or a process of its
 * group that holds the pipes after the leader exited (qm's forked worker). */
static bool job_alive(const struct job *j)
{
    return j->pid > 0 && (!j->reaped || j->s[0].fd >= 0 || j->s[1].fd >= 0);
}

static void kill_all(struct job *jobs, size_t n, int sig)
{
    for (size_t i = 0; i < n; i++) {
        if (job_alive(&jobs[i])) {
            kill(-jobs[i].pid, sig);
        }
    }
}

/* For streamed output only the lines matter: drop all but the last keep
 * bytes of complete lines, so a long copy's progress never hits the limit. */
static void stream_compact(struct stream *st, size_t keep)
{
    if (st->line_start <= keep) {
        if (st->len - st->line_start > keep) {
            st->len = st->line_start + keep;
            st->buf[st->len] = '\0';
        }
        return;
    }
    size_t drop = st->line_start - keep;
    while (drop < st->line_start && st->buf[drop - 1] != '\n') {
        drop++;
    }
    memmove(st->buf, st->buf + drop, st->len - drop + 1);
    st->len -= drop;
    st->line_start -= drop;
    if (st->len - st->line_start > keep) {
        /* one endless line: keep its start only */
        st->len = st->line_start + keep;
        st->buf[st->len] = '\0';
    }
}

/* The child is made by posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK,
 * then execve), not fork: fork copies pvetmpl's page tables for every child
 * and that copy is charged to pvetmpl's own CPU. attr gives the child its own
 * process group (a timeout or ^C reaches qm's workers too), default signal
 * dispositions and an empty signal mask. posix_spawn returns only once the
 * child has called execve, so its group exists before any kill of ours, and
 * an exec failure comes back as the errno itself: "could not start". */
static int start_job(char *const argv[], const struct spawn_opts *o, const posix_spawnattr_t *attr,
                     struct job *j)
{
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in = -1, r = 0;
    struct spawn_result *res = j->r;
    posix_spawn_file_actions_t fa;
    bool fa_made = false;

    if (!argv || !argv[0] || argv[0][0] != '/') {
        /* Only absolute paths: no PATH search, nothing the environment can redirect. */
        res->started = false;
        res->exec_errno = EINVAL;
        return 0;
    }
    in = open(o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        r = -errno;
        goto out;
    }
    /* Onto 0, 1, 2. A source below 3 elsewhere is first moved up (here, in
     * the parent), so no dup2 overwrites a source still to be used; one
     * already at its target is dup2'd onto itself, which posix_spawn turns
     * into clearing its close-on-exec flag. */
    int *src[3] = {&in, &out[1], &err[1]};
    for (int i = 0; i < 3; i++) {
        if (*src[i] < 3 && *src[i] != i) {
            int up = fcntl(*src[i], F_DUPFD_CLOEXEC, 3);
            if (up < 0) {
                r = -errno;
                goto out;
            }
            close(*src[i]);
            *src[i] = up;
        }
    }
    if ((r = -posix_spawn_file_actions_init(&fa)) < 0) {
        goto out;
    }
    fa_made = true;
    for (int i = 0; i < 3 && r == 0; i++) {
        r = -posix_spawn_file_actions_adddup2(&fa, *src[i], i);
    }
    /* No inherited descriptors: whatever the parent left open without
     * O_CLOEXEC is closed in the child (close_range). */
    if (r == 0) {
        r = -posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    }
    if (r < 0) {
        goto out;
    }
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, attr, argv, o->envp ? o->envp : default_envp);
    if (e != 0) {
        /* execve (or a file action) failed, and glibc has reaped the child:
         * "could not start", not "ran and failed". */
        res->started = false;
        res->exec_errno = e;
        goto out;
    }
    j->pid = pid;
    res->started = true;
    j->s[0].fd = out[0];
    j->s[1].fd = err[0];
    out[0] = err[0] = -1;
    for (int i = 0; i < 2; i++) {
        fcntl(j->s[i].fd, F_SETFL, fcntl(j->s[i].fd, F_GETFL) | O_NONBLOCK);
    }
out:
    if (fa_made) {
        posix_spawn_file_actions_destroy(&fa);
    }
    for (int *fd = (int[]){in, out[0], out[1], err[0], err[1]}, i = 0; i < 5; i++) {
        if (fd[i] >= 0) {
            close(fd[i]);
        }
    }
    return r;
}

/* The same for every child: own process group, default dispositions for
 * every signal (an ignored one would survive execve), an empty mask. */
static int make_attr(posix_spawnattr_t *attr)
{
    sigset_t all, none;
    /* Every bit, not sigfillset: that leaves out glibc's two internal
     * signals (32, 33), which posix_spawn would then set to SIG_IGN in the
     * child, and an ignored signal survives execve. */
    memset(&all, 0xff, sizeof(all));
    sigemptyset(&none);
    int e = posix_spawnattr_init(attr);
    if (e != 0) {
        return -e;
    }
    if ((e = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETSIGMASK)) != 0 ||
        (e = posix_spawnattr_setpgroup(attr, 0)) != 0 ||
        (e = posix_spawnattr_setsigdefault(attr, &all)) != 0 ||
        (e = posix_spawnattr_setsigmask(attr, &none)) != 0) {
        posix_spawnattr_destroy(attr);
        return -e;
    }
    return 0;
}

int spawn_run_many(size_t n, char *const *const argvs[], const struct spawn_opts *opts,
                   struct spawn_result rets[])
{
    static const struct spawn_opts defaults;
    const struct spawn_opts *o = opts ? opts : &defaults;
    size_t max = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT;
    long grace = o->kill_grace_ms ? o->kill_grace_ms : DEFAULT_GRACE_MS;
    long start = now_ms(), kill_at = -1;
    int r = 0;

    struct job *jobs = calloc(n ? n : 1, sizeof(*jobs));
    struct pollfd *pfd = calloc(2 * (n ? n : 1), sizeof(*pfd));
    if (!jobs || !pfd) {
        free(jobs);
        free(pfd);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        memset(&rets[i], 0, sizeof(rets[i]));
        jobs[i].r = &rets[i];
        jobs[i].s[0].fd = jobs[i].s[1].fd = -1;
    }
    waiting = 1;
    posix_spawnattr_t attr;
    r = make_attr(&attr);
    bool attr_made = r == 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        r = start_job(argvs[i], o, &attr, &jobs[i]);
    }
    if (attr_made) {
        posix_spawnattr_destroy(&attr);
    }
    if (r < 0) {
        kill_all(jobs, n, SIGKILL);
    }

    for (;;) {
        size_t np = 0, running = 0;
        for (size_t i = 0; i < n; i++) {
            for (int s = 0; s < 2; s++) {
                if (jobs[i].s[s].fd >= 0) {
                    pfd[np].fd = jobs[i].s[s].fd;
                    pfd[np].events = POLLIN;
                    pfd[np].revents = 0;
                    np++;
                }
            }
            /* A child is reaped once its pipes are closed: until then it is
             * alive anyway (see job_alive) and its group stays reachable,
             * and a waitpid per child and wake-up would cost for nothing. */
            if (jobs[i].pid > 0 && !jobs[i].reaped && jobs[i].s[0].fd < 0 && jobs[i].s[1].fd < 0) {
                int ws;
                pid_t w = waitpid(jobs[i].pid, &ws, WNOHANG);
                if (w == jobs[i].pid) {
                    jobs[i].reaped = true;
                    fill_status(jobs[i].r, ws);
                } else {
                    running++;
                }
            }
        }
        if (np == 0 && running == 0) {
            break;
        }
        long now = now_ms();
        if (r == 0 && o->interrupt && *o->interrupt) {
            /* Whatever ended our run, the children get TERM: qm's parent
             * turns INT, QUIT and TERM into TERM for its worker, which runs
             * in a session of its own and so is reached only that way
             * (pve-common RESTEnvironment.pm tee_worker); a HUP would kill
             * the parent alone and leave the worker copying, a QUIT would
             * make other children dump core. */
            for (size_t i = 0; i < n; i++) {
                if (!rets[i].interrupted && job_alive(&jobs[i])) {
                    rets[i].interrupted = *o->interrupt;
                    kill(-jobs[i].pid, SIGTERM);
                }
            }
            if (kill_at < 0) {
                kill_at = now + grace;
            }
            if (abandon) {
                /* Every child has had its TERM (just above): leave them to
                 * stop on their own, unfinished; never KILL them here. */
                for (size_t i = 0; i < n; i++) {
                    if (job_alive(&jobs[i])) {
                        rets[i].abandoned = true;
                        rets[i].exited = false;
                    }
                }
                abandoned = 1;
                break;
            }
        }
        if (o->timeout_ms > 0 && now - start >= o->timeout_ms && kill_at < 0) {
            for (size_t i = 0; i < n; i++) {
                if (job_alive(&jobs[i])) {
                    rets[i].timed_out = true;
                }
            }
            kill_all(jobs, n, SIGTERM);
            kill_at = now + grace;
        }
        if (kill_at >= 0 && now >= kill_at) {
            kill_all(jobs, n, SIGKILL);
        }
        if (np == 0) {
            /* Streams closed but a child still runs: wait for it in ticks. */
            poll(NULL, 0, TICK_MS);
            continue;
        }
        int pr = poll(pfd, np, TICK_MS);
        if (pr < 0 && errno != EINTR) {
            r = -errno;
            kill_all(jobs, n, SIGKILL);
            continue;
        }
        /* Only the streams poll found ready, in the order pfd was filled. */
        for (size_t i = 0, p = 0; i < n; i++) {
            for (int s = 0; s < 2; s++) {
                struct stream *st = &jobs[i].s[s];
                if (st->fd < 0 || !pfd[p++].revents) {
                    continue;
                }
                char buf[8192];
                ssize_t k = read(st->fd, buf, sizeof(buf));
                if (k > 0) {
                    /* Streamed output is taken whole, cut into lines, then
                     * compacted; other output is cut at the limit. */
                    if (stream_append(st, buf, (size_t)k, o->on_line ? SIZE_MAX : max,
                                      &rets[i].truncated) < 0) {
                        r = -ENOMEM;
                    }
                    emit_lines(o, i, s == 0 ? SPAWN_STDOUT : SPAWN_STDERR, st, false);
                    if (o->on_line && st->len > max) {
                        stream_compact(st, max / 2);
                        rets[i].truncated = true;
                    }
                } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                    emit_lines(o, i, s == 0 ? SPAWN_STDOUT : SPAWN_STDERR, st, true);
                    close(st->fd);
                    st->fd = -1;
                }
            }
        }
    }

    waiting = 0;
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < 2; s++) {
            struct stream *st = &jobs[i].s[s];
            /* An abandoned child's pipes stay open until pvetmpl exits: a
             * write of qm's parent must not meet EPIPE (and die) before it
             * has passed TERM on to its worker. */
            if (!st->buf) {
                st->buf = calloc(1, 1);
                if (!st->buf) {
                    r = -ENOMEM;
                }
            }
        }
        rets[i].out = jobs[i].s[0].buf;
        rets[i].out_len = jobs[i].s[0].len;
        rets[i].err = jobs[i].s[1].buf;
        rets[i].err_len = jobs[i].s[1].len;
        rets[i].duration_ms = now_ms() - start;
    }
    free(jobs);
    free(pfd);
    if (r < 0) {
        for (size_t i = 0; i < n; i++) {
            spawn_result_release(&rets[i]);
        }
    }
    return r;
}

int spawn_run(char *const argv[], const struct spawn_opts *o, struct spawn_result *ret)
{
    char *const *argvs[1] = {argv};
    return spawn_run_many(1, argvs, o, ret);
}

void spawn_result_release(struct spawn_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
    r->out_len = r->err_len = 0;
}

int spawn_result_code(const struct spawn_result *r)
{
    if (!r->started) {
        return 127;
    }
    if (r->abandoned) {
        return 128 + (r->interrupted ? r->interrupted : SIGTERM);
    }
    return r->exited ? r->status : 128 + r->signo;
}

bool spawn_waiting(void)
{
    return waiting;
}

void spawn_abandon(void)
{
    abandon = 1;
}

bool spawn_abandoned(void)
{
    return abandoned;
}
