/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "stdfd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int stdfd_ensure_open(bool out_fails)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) {
            continue;
        }
        int n = open("/dev/null", fd == 0 || out_fails ? O_RDONLY : O_WRONLY);
        if (n < 0) {
            return -errno;
        }
        /* The lowest free fd is fd itself unless a lower one is closed too,
         * which the loop has already opened; dup2 only to be sure. */
        if (n != fd) {
            int r = dup2(n, fd) < 0 ? -errno : 0;
            close(n);
            if (r < 0) {
                return r;
            }
        }
    }
    return 0;
}
