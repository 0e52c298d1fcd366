/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether root may trust st (at sofar, on the way to path): root's, and
 * writable by nobody else - unless a sticky directory on the way (as /tmp):
 * there others cannot rename or remove root's entries, and the next
 * component is checked in turn. */
static int check_one(const char *what, const char *path, const char *sofar, const struct stat *st,
                     bool last, struct err *e)
{
    if (st->st_uid != 0) {
        return err_set(e, ERR_CONFIG, "%s '%s' is refused: '%s' is owned by uid %u, not root", what,
                       path, sofar, (unsigned)st->st_uid);
    }
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) && (last || !(st->st_mode & S_ISVTX))) {
        return err_set(e, ERR_CONFIG,
                       "%s '%s' is refused: '%s' is writable by group or others (mode %04o)", what,
                       path, sofar, (unsigned)(st->st_mode & 07777));
    }
    return 0;
}

enum walk_mode { WALK_OPEN_DIR, WALK_CHECK_DIR, WALK_CHECK_FILE };

/* Walks path from "/"; see safepath.h for each mode. *ret_fd (WALK_OPEN_DIR)
 * is the directory's fd; *ret_missing: the last component does not exist. */
static int walk(const char *path, const char *what, enum walk_mode mode, mode_t create, int *ret_fd,
                bool *ret_missing, struct err *e)
{
    char buf[4096], sofar[4096] = "";
    struct stat st;
    if (ret_missing) {
        *ret_missing = false;
    }
    if (path[0] != '/' || strlen(path) >= sizeof(buf)) {
        return err_set(e, ERR_CONFIG, "%s '%s' is not an absolute path", what, path);
    }
    if (strspn(path, "/") == strlen(path)) {
        return err_set(e, ERR_CONFIG, "%s '%s' is refused: it is the root directory", what, path);
    }
    snprintf(buf, sizeof(buf), "%s", path);
    int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return err_set(e, ERR_CONFIG, "cannot open '/': %s", strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return err_set(e, ERR_CONFIG, "cannot open '/': %s", strerror(saved));
    }
    if (check_one(what, path, "/", &st, false, e) < 0) {
        close(fd);
        return -1;
    }
    /* The directory being walked: what a missing last component is in. */
    mode_t dir_mode = st.st_mode;
    char dir_sofar[4096] = "/";
    char *save = NULL;
    for (char *comp = strtok_r(buf + 1, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        bool last = save == NULL || *save == '\0' || strspn(save, "/") == strlen(save);
        size_t off = strlen(sofar);
        if (off > 0) {
            snprintf(dir_sofar, sizeof(dir_sofar), "%s", sofar);
        }
        snprintf(sofar + off, sizeof(sofar) - off, "/%s", comp);
        if (last && mode == WALK_OPEN_DIR && create && mkdirat(fd, comp, create) < 0 &&
            errno != EEXIST) {
            int saved = errno;
            close(fd);
            return err_set(e, ERR_CONFIG, "cannot create %s '%s': %s", what, path, strerror(saved));
        }
        int flags = last && mode == WALK_CHECK_FILE ? O_PATH : O_RDONLY | O_DIRECTORY;
        int next = openat(fd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int saved = errno;
            bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            close(fd);
            if (link || saved == ELOOP) {
                return err_set(e, ERR_CONFIG,
                               "%s '%s' is refused: '%s' on its path is a symbolic link", what,
                               path, sofar);
            }
            /* Missing here: trusted only if nobody else can make it appear,
             * which a sticky directory others may write (as /tmp) allows. */
            if (saved == ENOENT && mode != WALK_OPEN_DIR && ret_missing) {
                if (dir_mode & (S_IWGRP | S_IWOTH)) {
                    return err_set(e, ERR_CONFIG,
                                   "%s '%s' is refused: it does not exist and '%s' is writable "
                                   "by group or others (mode %04o), so another user could "
                                   "create it",
                                   what, path, dir_sofar, (unsigned)(dir_mode & 07777));
                }
                *ret_missing = true;
                return 0;
            }
            return err_set(e, ERR_CONFIG, "cannot open %s '%s': %s", what, path, strerror(saved));
        }
        close(fd);
        fd = next;
        if (fstat(fd, &st) < 0) {
            int saved = errno;
            close(fd);
            return err_set(e, ERR_CONFIG, "cannot open %s '%s': %s", what, path, strerror(saved));
        }
        if (S_ISLNK(st.st_mode)) { /* O_PATH | O_NOFOLLOW opens the link itself */
            close(fd);
            return err_set(e, ERR_CONFIG, "%s '%s' is refused: '%s' on its path is a symbolic link",
                           what, path, sofar);
        }
        if (last && mode == WALK_CHECK_FILE && !S_ISREG(st.st_mode)) {
            close(fd);
            return err_set(e, ERR_CONFIG, "%s '%s' is refused: it is not a regular file", what,
                           path);
        }
        if (check_one(what, path, sofar, &st, last, e) < 0) {
            close(fd);
            return -1;
        }
        dir_mode = st.st_mode;
    }
    if (mode == WALK_OPEN_DIR) {
        *ret_fd = fd;
    } else {
        close(fd);
    }
    return 0;
}

int safepath_open_dir(const char *dir, const char *what, mode_t create, int *ret_fd, struct err *e)
{
    return walk(dir, what, WALK_OPEN_DIR, create, ret_fd, NULL, e);
}

int safepath_check_dir(const char *dir, const char *what, struct err *e)
{
    bool missing;
    return walk(dir, what, WALK_CHECK_DIR, 0, NULL, &missing, e);
}

int safepath_check_file(const char *path, const char *what, bool missing_ok, bool *ret_missing,
                        struct err *e)
{
    bool missing = false;
    if (walk(path, what, WALK_CHECK_FILE, 0, NULL, &missing, e) < 0) {
        return -1;
    }
    if (ret_missing) {
        *ret_missing = missing;
    }
    if (missing && !missing_ok) {
        return err_set(e, ERR_CONFIG, "cannot open %s '%s': %s", what, path, strerror(ENOENT));
    }
    return 0;
}
