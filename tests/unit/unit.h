/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one way a unit-test binary runs its suite: Check's normal output (its
 * "N%: Checks: ..." line is what tests/run.sh counts) and exit 1 on failure. */
#ifndef PVETMPL_TEST_UNIT_H
#define PVETMPL_TEST_UNIT_H

#include <check.h>

static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

#endif
