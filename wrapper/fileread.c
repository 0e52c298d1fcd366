/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "fileread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static int read_whole(const char *path, size_t max, bool stop_on_eintr, char **ret, size_t *ret_len,
                      bool *ret_cut, struct stat *ret_st)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before fstat. */
    int fd;
    while ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 && errno == EINTR &&
           !stop_on_eintr) {
    }
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    int r = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool cut = false;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        goto out;
    }
    /* The size is a hint (the file may grow while we read): one byte more
     * than max is read to tell whether it was cut. */
    cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
    buf = malloc(cap + 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                r = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t k = read(fd, buf + len, cap - len);
        if (k < 0 && errno == EINTR && !stop_on_eintr) {
            continue;
        }
        if (k < 0) {
            r = -errno;
            goto out;
        }
        if (k == 0) {
            break;
        }
        len += (size_t)k;
    }
    if (len > max) {
        cut = true;
        len = max;
    }
    buf[len] = '\0';
    *ret = buf;
    buf = NULL;
    *ret_len = len;
    if (ret_cut) {
        *ret_cut = cut;
    }
    if (ret_st) {
        *ret_st = st;
    }
out:
    free(buf);
    close(fd);
    return r;
}

int fileread_regular(const char *path, size_t max, char **ret, size_t *ret_len, bool *ret_cut,
                     struct stat *ret_st)
{
    return read_whole(path, max, false, ret, ret_len, ret_cut, ret_st);
}

int fileread_interruptible(const char *path, size_t max, char **ret, size_t *ret_len, bool *ret_cut)
{
    return read_whole(path, max, true, ret, ret_len, ret_cut, NULL);
}
