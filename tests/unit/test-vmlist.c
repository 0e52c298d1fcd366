/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of vmlist.c: /etc/pve/.vmlist as pmxcfs writes it, and shapes
 * it must refuse. Real captured files are in the fixture layer. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlist.h"
#include "unit.h"

static int parse(const char *text, struct vmlist *vl)
{
    return vmlist_parse(text, strlen(text), vl);
}

START_TEST(pmxcfs_layout)
{
    /* The exact shape of status.c: '}}' closes ids, then a blank line, then '}'. */
    static const char text[] =
        "{\n\"version\": 12,\n\"ids\": {\n"
        "\"910\": { \"node\": \"pve1\", \"type\": \"qemu\", \"version\": 4 },\n"
        "\"101\": { \"node\": \"pve2\", \"type\": \"lxc\", \"version\": 1 },\n"
        "\"4294967295\": { \"node\": \"pve3\", \"type\": \"openvz\", "
        "\"version\": 9 }}\n\n}\n";
    struct vmlist vl;
    ck_assert_int_eq(parse(text, &vl), 0);
    ck_assert_uint_eq(vl.version, 12);
    ck_assert_uint_eq(vl.n, 3);
    /* sorted by vmid, whatever the file order */
    ck_assert_uint_eq(vl.entries[0].vmid, 101);
    ck_assert_uint_eq(vl.entries[1].vmid, 910);
    ck_assert_uint_eq(vl.entries[2].vmid, UINT32_MAX);
    ck_assert_str_eq(vl.entries[0].node, "pve2");
    ck_assert_str_eq(vl.entries[0].type, "lxc");
    const struct vmlist_entry *e = vmlist_find(&vl, 910);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->node, "pve1");
    ck_assert_str_eq(e->type, "qemu");
    ck_assert_ptr_null(vmlist_find(&vl, 100));
    ck_assert_ptr_null(vmlist_find(&vl, 0));
    ck_assert_ptr_nonnull(vmlist_find(&vl, UINT32_MAX));
    vmlist_release(&vl);
    vmlist_release(&vl);
    vmlist_release(NULL);
    ck_assert_ptr_null(vmlist_find(NULL, 100));
}
END_TEST

START_TEST(empty_cluster)
{
    struct vmlist vl;
    ck_assert_int_eq(parse("{\n\"version\": 7\n\n}\n", &vl), 0);
    ck_assert_uint_eq(vl.version, 7);
    ck_assert_uint_eq(vl.n, 0);
    ck_assert_ptr_null(vmlist_find(&vl, 100));
    vmlist_release(&vl);
    ck_assert_int_eq(parse("{\"version\": 0, \"ids\": {}}", &vl), 0);
    ck_assert_uint_eq(vl.n, 0);
    vmlist_release(&vl);
}
END_TEST

START_TEST(length_is_honoured)
{
    /* Only len bytes are read: the text need not be NUL-terminated there. */
    static const char text[] = "{\"version\": 3}GARBAGE";
    struct vmlist vl;
    ck_assert_int_eq(vmlist_parse(text, strlen("{\"version\": 3}"), &vl), 0);
    ck_assert_uint_eq(vl.version, 3);
    vmlist_release(&vl);
    ck_assert_int_eq(vmlist_parse(text, strlen(text), &vl), -EBADMSG);
    ck_assert_int_eq(vmlist_parse(text, 5, &vl), -EBADMSG); /* truncated */
    static const char crlf[] = "{\r\n\"version\": 3\r\n}\r\n\r\n";
    ck_assert_int_eq(parse(crlf, &vl), 0);
    vmlist_release(&vl);
    static const char nul[] = "{\"version\": 3}\0";
    ck_assert_int_eq(vmlist_parse(nul, sizeof(nul) - 1, &vl), -EBADMSG);
}
END_TEST

START_TEST(many_entries)
{
    /* A large cluster: one long text, every id found again. */
    size_t n = 20000, cap = n * 64 + 64, off = 0;
    char *text = malloc(cap);
    off += (size_t)snprintf(text + off, cap - off, "{\n\"version\": 99,\n\"ids\": {\n");
    for (size_t i = 0; i < n; i++) {
        off += (size_t)snprintf(
            text + off, cap - off,
            "\"%zu\": { \"node\": \"n%zu\", \"type\": \"qemu\", \"version\": 1 }%s\n",
            100 + (n - 1 - i) * 7, i % 3, i + 1 < n ? "," : "}");
    }
    off += (size_t)snprintf(text + off, cap - off, "\n}\n");
    struct vmlist vl;
    ck_assert_int_eq(vmlist_parse(text, off, &vl), 0);
    ck_assert_uint_eq(vl.n, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(vmlist_find(&vl, (uint32_t)(100 + i * 7)));
        ck_assert_ptr_null(vmlist_find(&vl, (uint32_t)(101 + i * 7)));
    }
    vmlist_release(&vl);
    free(text);
}
END_TEST

START_TEST(bad_shapes)
{
    static const char *const texts[] = {
        "",
        "   \n",
        "garbage",
        "[]",
        "null",
        "12",
        "{}",
        "{\"version\": \"3\"}",
        "{\"version\": 3.5}",
        "{\"version\": -1}",
        "{\"version\": 3, \"ids\": []}",
        "{\"version\": 3, \"ids\": null}",
        "{\"version\": 3, \"ids\": {\"100\": 1}}",
        "{\"version\": 3, \"ids\": {\"100\": {\"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"100\": {\"node\": \"a\"}}}",
        "{\"version\": 3, \"ids\": {\"100\": {\"node\": \"\", \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"100\": {\"node\": 1, \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"abc\": {\"node\": \"a\", \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"0100\": {\"node\": \"a\", \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"-100\": {\"node\": \"a\", \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"\": {\"node\": \"a\", \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"4294967296\": {\"node\": \"a\", \"type\": \"qemu\"}}}",
        "{\"version\": 3, \"ids\": {\"99999999999999999999\": {\"node\": \"a\", \"type\": \"q\"}}}",
        "{\"version\": 3,}",
        "{\"version\": 3} {}",
        "{\"version\": 3}}",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct vmlist vl = {.n = 77};
        ck_assert_msg(parse(texts[i], &vl) == -EBADMSG, "case %zu: %s", i, texts[i]);
        ck_assert_uint_eq(vl.n, 77); /* ret untouched on failure */
    }
    struct vmlist vl;
    ck_assert_int_eq(vmlist_parse(NULL, 0, &vl), -EBADMSG);
}
END_TEST

static Suite *vmlist_suite(void)
{
    Suite *s = suite_create("vmlist");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, pmxcfs_layout);
    tcase_add_test(tc, empty_cluster);
    tcase_add_test(tc, length_is_honoured);
    tcase_add_test(tc, many_entries);
    tcase_add_test(tc, bad_shapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(vmlist_suite());
}
