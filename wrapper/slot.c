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
#include <unistd.h>

#include "node.h"

#define POLL_MS 200

/* Whether root may trust directory st (at path) on run_dir's way: root's,
 * and writable by nobody else - unless sticky (as /tmp): there others cannot
 * rename or remove root's entries, and the next component is checked in turn
 * (OpenSSH's safe_path rule, with the sticky exception; doas demands the same
 * of its config). 0, or -1 with e. */
static int check_dir(const char *dir, const char *path, const struct stat *st, bool last,
                     struct err *e)
{
    if (st->st_uid != 0) {
        return err_set(e, ERR_CONFIG, "run_dir '%s' is refused: '%s' is owned by uid %u, not root",
                       dir, path, (unsigned)st->st_uid);
    }
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) && (last || !(st->st_mode & S_ISVTX))) {
        return err_set(e, ERR_CONFIG,
                       "run_dir '%s' is refused: '%s' is writable by group or others (mode %04o)",
                       dir, path, (unsigned)(st->st_mode & 07777));
    }
    return 0;
}

/* Opens run_dir, where root creates files, as a directory fd: walked from "/"
 * one component at a time with O_NOFOLLOW, so no symbolic link anywhere on the
 * path can redirect root's writes (a check before open would race); only its
 * last component is created when missing. Every directory on the way must be
 * one root can trust (check_dir): whoever could write to one could replace
 * what follows it, and so plant the lock files. */
static int open_run_dir(const char *dir, int *ret_fd, struct err *e)
{
    char path[4096], sofar[4096] = "";
    if (dir[0] != '/' || strlen(dir) >= sizeof(path)) {
        return err_set(e, ERR_CONFIG, "run_dir '%s' is not an absolute path", dir);
    }
    if (strspn(dir, "/") == strlen(dir)) {
        return err_set(e, ERR_CONFIG, "run_dir '%s' is refused: it is the root directory", dir);
    }
    snprintf(path, sizeof(path), "%s", dir);
    int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return err_set(e, ERR_CONFIG, "cannot open '/': %s", strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return err_set(e, ERR_CONFIG, "cannot open '/': %s", strerror(saved));
    }
    if (check_dir(dir, "/", &st, false, e) < 0) {
        close(fd);
        return -1;
    }
    char *save = NULL;
    for (char *comp = strtok_r(path + 1, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        bool last = save == NULL || *save == '\0' || strspn(save, "/") == strlen(save);
        size_t off = strlen(sofar);
        snprintf(sofar + off, sizeof(sofar) - off, "/%s", comp);
        if (last && mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
            int saved = errno;
            close(fd);
            return err_set(e, ERR_CONFIG, "cannot create run_dir '%s': %s", dir, strerror(saved));
        }
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int saved = errno;
            bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            close(fd);
            if (link) {
                return err_set(e, ERR_CONFIG,
                               "run_dir '%s' is refused: '%s' on its path is a symbolic link", dir,
                               sofar);
            }
            return err_set(e, ERR_CONFIG, "cannot open run_dir '%s': %s", dir, strerror(saved));
        }
        close(fd);
        fd = next;
        if (fstat(fd, &st) < 0) {
            int saved = errno;
            close(fd);
            return err_set(e, ERR_CONFIG, "cannot open run_dir '%s': %s", dir, strerror(saved));
        }
        if (check_dir(dir, sofar, &st, last, e) < 0) {
            close(fd);
            return -1;
        }
    }
    *ret_fd = fd;
    return 0;
}

static int open_lock(int dir_fd, const char *dir, const char *name, int *ret_fd, struct err *e)
{
    int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        return err_set(e, ERR_CONFIG, "cannot open lock file '%s/%s': %s", dir, name,
                       strerror(errno));
    }
    *ret_fd = fd;
    return 0;
}

/* Tries each of n lock files name.0 .. name.(n-1); waits until one is free,
 * or (waiting NULL) returns 1 at once when all are held by other runs. */
static int acquire(struct ctx *c, const char *name, long n, const char *waiting, int *ret_fd,
                   struct err *e)
{
    int fds[64];
    if (n < 1) {
        n = 1;
    }
    if (n > 64) {
        n = 64;
    }
    int dir_fd = -1;
    if (open_run_dir(c->conf->run_dir, &dir_fd, e) < 0) {
        return -1;
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
        if (!told) {
            cmd_info(c, "%s", waiting);
            told = true;
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
    char name[64], msg[256];
    snprintf(name, sizeof(name), "vmid-%" PRIu32, newid);
    snprintf(msg, sizeof(msg), "waiting for another pvetmpl run that is creating VM %" PRIu32,
             newid);
    return acquire(c, name, 1, msg, ret_fd, e);
}

int slot_try_lock_newid(struct ctx *c, uint32_t newid, int *ret_fd, struct err *e)
{
    char name[64];
    snprintf(name, sizeof(name), "vmid-%" PRIu32, newid);
    return acquire(c, name, 1, NULL, ret_fd, e);
}

int slot_lock_name(struct ctx *c, const char *name, int *ret_fd, struct err *e)
{
    char file[300], msg[400];
    snprintf(file, sizeof(file), "name-%s", name);
    snprintf(msg, sizeof(msg), "waiting for another pvetmpl run that is rotating the name '%s'",
             name);
    return acquire(c, file, 1, msg, ret_fd, e);
}

int slot_acquire_storage(struct ctx *c, const char *storage, int *ret_fd, struct err *e)
{
    char name[128], msg[512];
    snprintf(name, sizeof(name), "storage-%s", storage);
    snprintf(msg, sizeof(msg), "waiting for a copy slot on storage '%s' (copies_per_storage = %ld)",
             storage, c->conf->copies_per_storage);
    return acquire(c, name, c->conf->copies_per_storage, msg, ret_fd, e);
}

void slot_release(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}
