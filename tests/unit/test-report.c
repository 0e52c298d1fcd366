/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of report's JSON text: every --json output parses, whatever
 * bytes went into it. The expected replacements follow Unicode 15 section
 * 3.9 ("U+FFFD Substitution of Maximal Subparts", Table 3-8's example is one
 * vector), which is also what Python's bytes.decode(errors="replace") gives. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define R "\xEF\xBF\xBD" /* U+FFFD */

struct vec {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
};

static void run_vecs(const struct vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = v[i].len ? v[i].len : strlen(v[i].in), got_len = 0;
        char *got = report_utf8_repair(v[i].in, len, &got_len);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(strcmp(got, v[i].want) == 0 && got_len == strlen(v[i].want),
                      "vector %zu: got '%s', want '%s'", i, got, v[i].want);
        /* what came out is valid: repairing it again changes nothing */
        char *again = report_utf8_repair(got, got_len, NULL);
        ck_assert_str_eq(again, got);
        free(again);
        free(got);
    }
}

START_TEST(valid_utf8_unchanged)
{
    static const struct vec v[] = {
        {"", 0, ""},
        {"plain ascii \x01\x1f\x7f", 0, "plain ascii \x01\x1f\x7f"},
        {"\xC2\x80 \xC3\xA9 \xDF\xBF", 0, "\xC2\x80 \xC3\xA9 \xDF\xBF"}, /* U+0080, é, U+07FF */
        {"\xE0\xA0\x80 \xE2\x82\xAC \xEF\xBF\xBF", 0, "\xE0\xA0\x80 \xE2\x82\xAC \xEF\xBF\xBF"},
        {"\xED\x9F\xBF \xEE\x80\x80", 0, "\xED\x9F\xBF \xEE\x80\x80"}, /* around the surrogates */
        {"\xF0\x90\x80\x80 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF", 0,
         "\xF0\x90\x80\x80 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"}, /* U+10000, 😀, U+10FFFF */
        {R, 0, R},
    };
    run_vecs(v, N(v));
}
END_TEST

START_TEST(invalid_bytes)
{
    static const struct vec v[] = {
        {"\xFF", 0, R},
        {"a\xFE"
         "b",
         0, "a" R "b"},
        {"\x80", 0, R},                   /* a lone continuation byte */
        {"\x80\xBF\x80", 0, R R R},       /* each stray one on its own */
        {"\xF5\x80\x80\x80", 0, R R R R}, /* F5..FF start nothing */
        {"\xF8\x88\x80\x80\x80", 0, R R R R R},
    };
    run_vecs(v, N(v));
}
END_TEST

START_TEST(overlong_forms)
{
    static const struct vec v[] = {
        {"\xC0\x80", 0, R R}, /* NUL, the "modified UTF-8" way */
        {"\xC1\xBF", 0, R R},
        {"\xC0\xAF", 0, R R},             /* '/' */
        {"\xE0\x80\xAF", 0, R R R},       /* E0 must be followed by A0..BF */
        {"\xE0\x9F\xBF", 0, R R R},       /* U+07FF in three bytes */
        {"\xF0\x80\x80\xAF", 0, R R R R}, /* F0 must be followed by 90..BF */
        {"\xF0\x8F\xBF\xBF", 0, R R R R}, /* U+FFFF in four bytes */
    };
    run_vecs(v, N(v));
}
END_TEST

START_TEST(surrogates_and_beyond)
{
    static const struct vec v[] = {
        {"\xED\xA0\x80", 0, R R R},                   /* U+D800 */
        {"\xED\xBF\xBF", 0, R R R},                   /* U+DFFF */
        {"\xED\xA0\xBD\xED\xB8\x80", 0, R R R R R R}, /* CESU-8 😀 */
        {"\xF4\x90\x80\x80", 0, R R R R},             /* U+110000 */
        {"\xF7\xBF\xBF\xBF", 0, R R R R},
    };
    run_vecs(v, N(v));
}
END_TEST

START_TEST(truncated_sequences)
{
    static const struct vec v[] = {
        {"\xC3", 0, R},
        {"\xE2\x82", 0, R}, /* the start of € and the end of the text: one */
        {"\xF0\x9F\x98", 0, R},
        {"\xE2\x82"
         "A",
         0, R "A"},
        {"\xE2"
         "A\xE2\x82\xAC",
         0, R "A\xE2\x82\xAC"},
        {"\xF0\x9F\x98\xE2\x82\xAC", 0, R "\xE2\x82\xAC"},
        {"\xE2\x82\xC3\xA9", 0, R "\xC3\xA9"},
        /* Unicode 15 Table 3-8 */
        {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 0, "a" R R R "b" R "c" R R "d"},
    };
    run_vecs(v, N(v));
}
END_TEST

/* Parses text as a strict JSON reader that also checks UTF-8 would. */
static struct json_object *parse_strict(const char *text)
{
    struct json_tokener *tok = json_tokener_new();
    ck_assert_ptr_nonnull(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text) + 1);
    ck_assert_msg(o && json_tokener_get_error(tok) == json_tokener_success,
                  "not valid JSON (%s): %s", json_tokener_error_desc(json_tokener_get_error(tok)),
                  text);
    json_tokener_free(tok);
    return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key '%s'", key);
    return json_object_get_string(v);
}

/* What a description, a config value or a qm error line can hold reaches
 * the report through its setters and report_set: the text still parses. */
START_TEST(report_text_always_parses)
{
    struct report *r = report_new("make-template");
    ck_assert_ptr_nonnull(r);
    report_set_name(r, "web\xFF");
    report_set_storage(r, "\xC0\x80");
    report_add_warning(r, "qm said: %s", "caf\xE9 \xED\xA0\x80");
    report_add_check(r, "source_exists", false, "description 'x\xE2\x82'");
    report_add_command(
        r, (char *const[]){"qm", "set", "100", "--description", "\x01\x1f\x7f\xF5", NULL});
    report_set(r, "key\xFF", json_object_new_string("tab\there\nnl \"q\" back\\slash /"));
    struct err e;
    err_set(&e, ERR_QM_FAILED, "'qm clone' failed (exit 255): %s", "bad \xF4\x90\x80\x80");
    struct json_object *o = report_finish(r, &e, 1, 7);
    char *text = report_json_text(o);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(!strchr(text, '\n'), "not one line: %s", text);
    struct json_object *p = parse_strict(text);
    ck_assert_str_eq(get_str(p, "name"), "web" R);
    ck_assert_str_eq(get_str(p, "storage"), R R);
    ck_assert_str_eq(get_str(p, "key" R), "tab\there\nnl \"q\" back\\slash /");
    struct json_object *w = NULL, *cmd = NULL, *ck = NULL, *er = NULL;
    json_object_object_get_ex(p, "warnings", &w);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(w, 0)),
                     "qm said: caf" R " " R R R);
    json_object_object_get_ex(p, "commands", &cmd);
    ck_assert_str_eq(
        json_object_get_string(json_object_array_get_idx(json_object_array_get_idx(cmd, 0), 4)),
        "\x01\x1f\x7f" R);
    json_object_object_get_ex(p, "checks", &ck);
    ck_assert_str_eq(get_str(json_object_array_get_idx(ck, 0), "detail"), "description 'x" R "'");
    json_object_object_get_ex(p, "error", &er);
    ck_assert_str_eq(get_str(er, "detail"), "'qm clone' failed (exit 255): bad " R R R R);
    /* control characters are escaped, '/' is not */
    ck_assert_ptr_nonnull(strstr(text, "\\u0001\\u001f\x7f"));
    ck_assert_ptr_nonnull(strstr(text, "back\\\\slash /"));
    json_object_put(p);
    free(text);
    report_free(r);
}
END_TEST

/* report_print_json: the same text and one newline. */
START_TEST(print_json_one_line)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("stop \xFF\xFE"));
    json_object_object_add(o, "uid", json_object_new_int(0));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(report_print_json(f, o), 0);
    fclose(f);
    ck_assert_str_eq(buf, "{\"message\":\"stop " R R "\",\"uid\":0}\n");
    free(buf);
    json_object_put(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, valid_utf8_unchanged);
    tcase_add_test(tc, invalid_bytes);
    tcase_add_test(tc, overlong_forms);
    tcase_add_test(tc, surrogates_and_beyond);
    tcase_add_test(tc, truncated_sequences);
    tcase_add_test(tc, report_text_always_parses);
    tcase_add_test(tc, print_json_one_line);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
