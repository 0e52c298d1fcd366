/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "safepath.h"

#define POLL_MS 200

static int open_lock(int dir_fd, const char *dir, const char *name, int *ret_fd, struct err *e)
{
    /* 0600 in a 0700 run_dir: flock needs only a read-only fd, so a lock
     * file others could open would let any user hold pvetmpl's queues. */
    int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return err_set(e, ERR_CONFIG, "cannot open lock file '%s/%s': %s", dir, name,
                       strerror(errno));
    }
    *ret_fd = fd;
    return 0;
}

/* Milliseconds since an arbitrary start that no clock change moves. */
static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tries each of n lock files name.0 .. name.(n-1); waits until one is free,
 * at most c->lock_wait seconds (--lock-wait bounds every wait pvetmpl makes:
 * then ERR_BUSY, held saying what is held), or (waiting NULL) returns 1 at
 * once when all are held by other runs. *ret_waited (may be NULL): whether
 * every slot was held at first, so the run waited. */
static int acquire(struct ctx *c, const char *name, long n, const char *waiting, const char *held,
                   int *ret_fd, bool *ret_waited, struct err *e)
{
    long start = now_ms();
    if (ret_waited) {
        *ret_waited = false;
    }
    int fds[64];
    if (n < 1) {
        n = 1;
    }
    if (n > 64) {
        n = 64;
    }
    int dir_fd = -1;
    /* where root creates files: trusted along its whole path (safepath.h) */
    struct stat dst;
    if (safepath_open_dir(c->conf->run_dir, "run_dir", 0700, &dir_fd, e) < 0) {
        return -1;
    }
    /* Lock files made before (0644), or a run_dir made 0755, stay out of
     * other users' reach once the directory is root's alone. */
    if (fstat(dir_fd, &dst) == 0 && (dst.st_mode & 077) && fchmod(dir_fd, 0700) < 0) {
        int saved = errno;
        close(dir_fd);
        return err_set(e, ERR_CONFIG, "cannot make run_dir '%s' private (mode 0700): %s",
                       c->conf->run_dir, strerror(saved));
    }
    for (long i = 0; i < n; i++) {
        char file[512];
        snprintf(file, sizeof(file), "%s.%ld.lock", name, i);
        if (open_lock(dir_fd, c->conf->run_dir, file, &fds[i], e) < 0) {
            while (i-- > 0) {
                close(fds[i]);
            }
            close(dir_fd);
            return -1;
        }
    }
    close(dir_fd);
    bool told = false;
    for (;;) {
        for (long i = 0; i < n; i++) {
            int r;
            do {
                r = flock(fds[i], LOCK_EX | LOCK_NB);
            } while (r < 0 && errno == EINTR);
            if (r == 0) {
                for (long k = 0; k < n; k++) {
                    if (k != i) {
                        close(fds[k]);
                    }
                }
                *ret_fd = fds[i];
                return 0;
            }
            /* Only "held by another run" is worth waiting for; anything
             * else (ENOLCK: run_dir on a file system without locks) would
             * make us wait forever for nothing. */
            if (errno != EWOULDBLOCK) {
                int saved = errno;
                for (long k = 0; k < n; k++) {
                    close(fds[k]);
                }
                return err_set(e, ERR_CONFIG, "cannot lock '%s.%ld.lock' in run_dir '%s': %s", name,
                               i, c->conf->run_dir, strerror(saved));
            }
        }
        if (!waiting) {
            for (long k = 0; k < n; k++) {
                close(fds[k]);
            }
            *ret_fd = -1;
            return 1;
        }
        if (now_ms() - start >= c->lock_wait * 1000) {
            for (long k = 0; k < n; k++) {
                close(fds[k]);
            }
            if (c->lock_wait == 0) {
                return err_set(e, ERR_BUSY, "%s: not waiting (--lock-wait 0); retry later", held);
            }
            return err_set(e, ERR_BUSY,
                           "%s: gave up after %ld s of waiting (--lock-wait); retry later", held,
                           c->lock_wait);
        }
        if (!told) {
            cmd_info(c, "%s", waiting);
            told = true;
            if (ret_waited) {
                *ret_waited = true;
            }
        }
        if (node_sleep(c, POLL_MS, e) < 0) {
            for (long k = 0; k < n; k++) {
                close(fds[k]);
            }
            return -1;
        }
    }
}

int slot_lock_newid(struct ctx *c, uint32_t newid, int *ret_fd, struct err *e)
{
    char name[64], msg[256], held[256];
    snprintf(name, sizeof(name), "vmid-%" PRIu32, newid);
    snprintf(msg, sizeof(msg), "waiting for another pvetmpl run that is creating VM %" PRIu32,
             newid);
    snprintf(held, sizeof(held), "VM %" PRIu32 " is being created by another pvetmpl run", newid);
    return acquire(c, name, 1, msg, held, ret_fd, NULL, e);
}

int slot_try_lock_newid(struct ctx *c, uint32_t newid, int *ret_fd, struct err *e)
{
    char name[64];
    snprintf(name, sizeof(name), "vmid-%" PRIu32, newid);
    return acquire(c, name, 1, NULL, NULL, ret_fd, NULL, e);
}

int slot_lock_name(struct ctx *c, const char *name, int *ret_fd, struct err *e)
{
    char file[300], msg[400], held[400];
    snprintf(file, sizeof(file), "name-%s", name);
    snprintf(msg, sizeof(msg), "waiting for another pvetmpl run that uses the name '%s'", name);
    snprintf(held, sizeof(held), "the name '%s' is in use by another pvetmpl run", name);
    return acquire(c, file, 1, msg, held, ret_fd, NULL, e);
}

int slot_acquire_storage(struct ctx *c, const char *storage, int *ret_fd, bool *ret_waited,
                         struct err *e)
{
    char name[128], msg[512], held[512];
    snprintf(name, sizeof(name), "storage-%s", storage);
    snprintf(msg, sizeof(msg), "waiting for a copy slot on storage '%s' (copies_per_storage = %ld)",
             storage, c->conf->copies_per_storage);
    snprintf(held, sizeof(held),
             "every copy slot on storage '%s' (copies_per_storage = %ld) is held by another "
             "pvetmpl run",
             storage, c->conf->copies_per_storage);
    return acquire(c, name, c->conf->copies_per_storage, msg, held, ret_fd, ret_waited, e);
}

void slot_release(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}
