/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the progress line's fit to the terminal (progress_fit). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "progress.h"
#include "unit.h"

START_TEST(bar_shrinks_then_goes)
{
    char buf[256];
    progress_fit(buf, sizeof(buf), "scsi0", 50.0, 16ull << 30, 32ull << 30, 120);
    ck_assert_str_eq(buf, "scsi0    [###############---------------]  50.00% 16.0 GiB of 32.0 GiB");
    progress_fit(buf, sizeof(buf), "scsi0", 50.0, 16ull << 30, 32ull << 30, 50);
    ck_assert_str_eq(buf, "scsi0    [###----]  50.00% 16.0 GiB of 32.0 GiB");
    /* the bar keeps its width while "done" grows and shrinks */
    progress_fit(buf, sizeof(buf), "scsi0", 3.0, 983ull << 20, 32ull << 30, 50);
    ck_assert_str_eq(buf, "scsi0    [-------]   3.00% 983.0 MiB of 32.0 GiB");
    /* too narrow for a bar: the numbers, cut to 29 columns */
    progress_fit(buf, sizeof(buf), "scsi0", 50.0, 16ull << 30, 32ull << 30, 30);
    ck_assert_str_eq(buf, "scsi0     50.00% 16.0 GiB of ");
    progress_fit(buf, sizeof(buf), "scsi0", 50.0, 1, 2, 1);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(never_wider_than_the_terminal)
{
    static const uint64_t done[] = {0, 1023, 1048063ull << 10, 16ull << 30, 1ull << 50};
    char buf[256];
    for (int cols = 0; cols <= 200; cols++) {
        for (size_t i = 0; i < sizeof(done) / sizeof(done[0]); i++) {
            progress_fit(buf, sizeof(buf), "efidisk0", 42.0, done[i], 1ull << 50, cols);
            ck_assert_msg((int)strlen(buf) <= (cols > 0 ? cols - 1 : 0),
                          "cols %d: %zu characters: '%s'", cols, strlen(buf), buf);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("progress");
    tcase_add_test(tc, bar_shrinks_then_goes);
    tcase_add_test(tc, never_wider_than_the_terminal);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
