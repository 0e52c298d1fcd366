/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of stdfd.c: closed fds 0-2 come back on /dev/null with the
 * right access mode; open ones are left as they were. Check runs each test
 * in a child of its own, so closing fds here touches nothing else. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stdfd.h"
#include "unit.h"

static void assert_dev_null(int fd, int mode)
{
    struct stat st, null;
    ck_assert_int_eq(stat("/dev/null", &null), 0);
    ck_assert_msg(fstat(fd, &st) == 0, "fd %d is closed", fd);
    ck_assert_msg(S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev, "fd %d is not /dev/null", fd);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, mode);
}

START_TEST(all_closed)
{
    close(0);
    close(1);
    close(2);
    ck_assert_int_eq(stdfd_ensure_open(false), 0);
    assert_dev_null(0, O_RDONLY);
    assert_dev_null(1, O_WRONLY);
    assert_dev_null(2, O_WRONLY);
    /* The next file opened does not take one of them. */
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 3);
    close(fd);
}
END_TEST

/* The wrapper's choice: a write to a closed stdout/stderr must fail. */
START_TEST(out_fails)
{
    close(0);
    close(1);
    close(2);
    ck_assert_int_eq(stdfd_ensure_open(true), 0);
    assert_dev_null(0, O_RDONLY);
    assert_dev_null(1, O_RDONLY);
    assert_dev_null(2, O_RDONLY);
    ck_assert_int_lt(write(1, "x", 1), 0);
}
END_TEST

/* Only 1 closed, 0 and 2 open: what is open stays. */
START_TEST(one_closed)
{
    int keep = open("/dev/zero", O_RDONLY);
    ck_assert_int_ge(keep, 0);
    ck_assert_int_eq(dup2(keep, 0), 0);
    close(keep);
    close(1);
    ck_assert_int_eq(stdfd_ensure_open(false), 0);
    assert_dev_null(1, O_WRONLY);
    struct stat st, zero;
    ck_assert_int_eq(stat("/dev/zero", &zero), 0);
    ck_assert_int_eq(fstat(0, &st), 0);
    ck_assert(st.st_rdev == zero.st_rdev);
    ck_assert_int_ge(fcntl(2, F_GETFD), 0);
}
END_TEST

static Suite *stdfd_suite(void)
{
    Suite *s = suite_create("stdfd");
    TCase *tc = tcase_create("open");
    tcase_add_test(tc, all_closed);
    tcase_add_test(tc, out_fails);
    tcase_add_test(tc, one_closed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(stdfd_suite());
}
