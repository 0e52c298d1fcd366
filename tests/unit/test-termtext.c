/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of termtext.c: the one cleaner of the tables (audit, list, hook
 * status) and the terminal's width. Expected strings are written by hand. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "termtext.h"
#include "unit.h"

static void cleans(const char *in, const char *want)
{
    char buf[128];
    termtext_clean(buf, sizeof(buf), in);
    ck_assert_msg(strcmp(buf, want) == 0, "'%s' -> '%s', want '%s'", in, buf, want);
}

START_TEST(control_characters)
{
    cleans("plain", "plain");
    cleans(NULL, "");
    cleans("a\tb\nc\rd\x1b[31me\x7f", "a?b?c?d?[31me?");
    cleans("c1 \xc2\x85 \xc2\x9b", "c1 ? ?"); /* NEL, CSI */
    cleans("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(bidi_controls)
{
    /* LRE RLE PDF LRO RLO */
    cleans("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae", "?????");
    /* LRI RLI FSI PDI */
    cleans("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "????");
    /* LRM RLM ALM, LS PS */
    cleans("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8\xe2\x80\xa9", "?????");
    /* A forged name that would draw its row's UNTRUSTED marker first. */
    cleans("web1\xe2\x80\xae DETRUSTNU", "web1? DETRUSTNU");
    /* Neighbours that are ordinary characters stay: U+2065, U+206A, U+202F. */
    cleans("\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\xaf", "\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\xaf");
}
END_TEST

START_TEST(invalid_utf8)
{
    cleans("a\xff"
           "b",
           "a?b");
    cleans("\xc0\xaf", "??");           /* overlong '/' */
    cleans("\xe0\x80\xaf", "???");      /* overlong */
    cleans("\xed\xa0\x80", "???");      /* surrogate U+D800 */
    cleans("\xf4\x90\x80\x80", "????"); /* beyond U+10FFFF */
    cleans("\xe2\x82", "??");           /* cut at the end */
    cleans("\xe2\x82"
           "x",
           "??x");            /* cut in the middle */
    cleans("\x80\xbf", "??"); /* lone continuation bytes */
}
END_TEST

START_TEST(never_cut_inside_a_character)
{
    char buf[5];
    termtext_clean(buf, sizeof(buf), "ab\xe2\x82\xac");
    ck_assert_str_eq(buf, "ab");
    termtext_clean(buf, sizeof(buf),
                   "abc\x1b"
                   "d");
    ck_assert_str_eq(buf, "abc?");
    termtext_clean(buf, 1, "abc");
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(width_and_cut)
{
    ck_assert_uint_eq(termtext_width("caf\xc3\xa9"), 4);
    ck_assert_uint_eq(termtext_width(""), 0);
    ck_assert_uint_eq(termtext_cut("caf\xc3\xa9s", 4), 5);
    ck_assert_uint_eq(termtext_cut("caf\xc3\xa9s", 3), 3);
    ck_assert_uint_eq(termtext_cut("abc", 9), 3);
    ck_assert_uint_eq(termtext_cut("abc", 0), 0);
}
END_TEST

START_TEST(columns_from_the_environment)
{
    /* stdin is not a terminal here (tests/run.sh) */
    FILE *f = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(f);
    unsetenv("COLUMNS");
    ck_assert_int_eq(termtext_columns(f, 100), 100);
    setenv("COLUMNS", "57", 1);
    ck_assert_int_eq(termtext_columns(f, 100), 57);
    setenv("COLUMNS", "57x", 1);
    ck_assert_int_eq(termtext_columns(f, 100), 100);
    setenv("COLUMNS", "0", 1);
    ck_assert_int_eq(termtext_columns(f, 80), 80);
    unsetenv("COLUMNS");
    fclose(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("termtext");
    TCase *tc = tcase_create("termtext");
    tcase_add_test(tc, control_characters);
    tcase_add_test(tc, bidi_controls);
    tcase_add_test(tc, invalid_utf8);
    tcase_add_test(tc, never_cut_inside_a_character);
    tcase_add_test(tc, width_and_cut);
    tcase_add_test(tc, columns_from_the_environment);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
