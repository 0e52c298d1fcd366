/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the argument validators. The accepted/rejected vectors of
 * pve-interface.md's Appendix were produced by Proxmox's own validators;
 * every one of them is here, plus the edges of each rule. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*str_validator)(const char *s, char *msg, size_t msglen);

/* A vector: the input, and for a rejection a part the message must hold
 * (NULL: accepted). */
struct vec {
    const char *in;
    const char *want;
};

/* Every message: one line, not empty, lowercase start, no final full stop. */
static void assert_style(const char *in, const char *msg)
{
    size_t n = strlen(msg);
    ck_assert_msg(n > 0, "'%s': empty message", in);
    ck_assert_msg(!strchr(msg, '\n'), "'%s': message has a newline: %s", in, msg);
    ck_assert_msg(msg[0] >= 'a' && msg[0] <= 'z', "'%s': message not lowercase: %s", in, msg);
    ck_assert_msg(msg[n - 1] != '.', "'%s': message ends in a full stop: %s", in, msg);
}

static void run_vecs(const char *name, str_validator fn, const struct vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char msg[512] = "";
        int r = fn(v[i].in, msg, sizeof(msg));
        if (!v[i].want) {
            ck_assert_msg(r == 0, "%s: '%s' should be accepted, got: %s", name, v[i].in, msg);
            continue;
        }
        ck_assert_msg(r == -EINVAL, "%s: '%s' should be rejected", name, v[i].in);
        assert_style(v[i].in, msg);
        ck_assert_msg(strstr(msg, v[i].want), "%s: '%s': message '%s' lacks '%s'", name, v[i].in,
                      msg, v[i].want);
    }
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- VMID ---- */

#define VMID_RULE "must be an integer from 100 to 999999999 with no sign, spaces or leading zeros"

START_TEST(vmid_vectors)
{
    static const struct {
        const char *in;
        uint32_t want;
    } ok[] = {
        {"100", 100},         {"999999999", 999999999}, {"101", 101},
        {"1000000", 1000000}, {"12345", 12345},
    };
    /* Appendix first, then our edges: overflow that would wrap to a valid
     * ID, the empty string, hex and a final newline (Perl's '$' admits it). */
    static const char *const bad[] = {
        "99",    "0100",       "-1",    "+100",       "1e3",
        "100.0", "1000000000", "100 ",  " 100",       "100;reboot",
        "",      "0",          "00100", "4294967396", "18446744073709551716",
        "0x64",  "1_000",      "100\n", "9999999999", "１００",
    };
    for (size_t i = 0; i < N(ok); i++) {
        uint32_t v = 0;
        char msg[256] = "";
        ck_assert_msg(validate_vmid(ok[i].in, &v, msg, sizeof(msg)) == 0, "'%s': %s", ok[i].in,
                      msg);
        ck_assert_uint_eq(v, ok[i].want);
    }
    for (size_t i = 0; i < N(bad); i++) {
        uint32_t v = 4242;
        char msg[256] = "";
        ck_assert_msg(validate_vmid(bad[i], &v, msg, sizeof(msg)) == -EINVAL, "'%s' accepted",
                      bad[i]);
        ck_assert_msg(v == 4242, "'%s': ret written on failure", bad[i]);
        assert_style(bad[i], msg);
        ck_assert_msg(strstr(msg, VMID_RULE), "'%s': %s", bad[i], msg);
    }
}
END_TEST

START_TEST(vmid_message_exact)
{
    char msg[256];
    uint32_t v;
    ck_assert_int_eq(validate_vmid("99", &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid VMID '99': " VMID_RULE);
    ck_assert_int_eq(validate_vmid("1000000000", &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid VMID '1000000000': " VMID_RULE);
    /* Fullwidth digits are shown as they are (printable UTF-8). */
    ck_assert_int_eq(validate_vmid("１００", &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid VMID '１００': " VMID_RULE);
}
END_TEST

START_TEST(vmid_range_vectors)
{
    static const struct {
        const char *in;
        uint32_t first, last;
    } ok[] = {
        {"100", 100, 100},
        {"100-199", 100, 199},
        {"100-100", 100, 100},
        {"999999999", 999999999, 999999999},
        {"100-999999999", 100, 999999999},
    };
    static const struct vec bad[] = {
        {"199-100", "invalid VMID range '199-100': the first VMID must not be greater"},
        {"99-100", "invalid VMID or range '99-100'"},
        {"100-1000000000", "invalid VMID or range"},
        {"100-", "invalid VMID or range"},
        {"-100", "invalid VMID or range"},
        {"100-200-300", "invalid VMID or range"},
        {"100 - 200", "invalid VMID or range"},
        {"100-0200", "invalid VMID or range"},
        {"12345678901234567890-100", "invalid VMID or range"},
        {"", "invalid VMID or range ''"},
        {"a-b", "such as '100-199'"},
        {"+100", "invalid VMID or range"},
    };
    for (size_t i = 0; i < N(ok); i++) {
        uint32_t a = 0, b = 0;
        char msg[256] = "";
        ck_assert_msg(validate_vmid_range(ok[i].in, &a, &b, msg, sizeof(msg)) == 0, "'%s': %s",
                      ok[i].in, msg);
        ck_assert_uint_eq(a, ok[i].first);
        ck_assert_uint_eq(b, ok[i].last);
    }
    for (size_t i = 0; i < N(bad); i++) {
        uint32_t a = 7, b = 7;
        char msg[256] = "";
        ck_assert_msg(validate_vmid_range(bad[i].in, &a, &b, msg, sizeof(msg)) == -EINVAL,
                      "'%s' accepted", bad[i].in);
        ck_assert(a == 7 && b == 7);
        assert_style(bad[i].in, msg);
        ck_assert_msg(strstr(msg, bad[i].want), "'%s': %s", bad[i].in, msg);
    }
}
END_TEST

/* ---- names ---- */

#define DNS "value does not look like a valid DNS name"

START_TEST(dns_name_vectors)
{
    char *label300 = repeat('a', 300);
    const struct vec v[] = {
        {"ubuntu-server-template-22.04", NULL},
        {"UPPER.case", NULL},
        {"1abc", NULL},
        {"x", NULL},
        {label300, NULL},
        {"a-b.c-d.e", NULL},
        {"a b", DNS},
        {"$(reboot)", DNS},
        {"--full", DNS},
        {"a..b", DNS},
        {"-lead", DNS},
        {"trail-", DNS},
        {"a.b.", DNS},
        {"a_b", DNS},
        {"a\nb", DNS},
        {"", DNS},
        {"é", DNS},
        {".a", DNS},
        {"a.-b", DNS},
        {"a-.b", DNS},
        {"name\n", DNS},
    };
    run_vecs("dns_name", validate_dns_name, v, N(v));
    free(label300);
}
END_TEST

START_TEST(dns_name_message)
{
    char msg[256];
    ck_assert_int_eq(validate_dns_name("a b", msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid VM name 'a b': " DNS
                          " (labels of letters, digits and inner '-', joined by '.')");
}
END_TEST

#define SHORT "cannot be shorter than 2 characters"
#define ILLEGAL "contains illegal characters"

START_TEST(storage_id_vectors)
{
    static const struct vec v[] = {
        {"local-lvm", NULL},
        {"Local", NULL},
        {"a.b_c-d", NULL},
        {"ab", NULL},
        {"a1", NULL},
        {"LOCAL-ZFS", NULL},
        {"x", "storage ID 'x' " SHORT},
        {"A", "storage ID 'A' " SHORT},
        {"", "storage ID '' " SHORT},
        {"../etc", "storage ID '../etc' " ILLEGAL},
        {"local;rm", "storage ID 'local;rm' " ILLEGAL},
        {"1abc", "storage ID '1abc' " ILLEGAL},
        {"ab-", "storage ID 'ab-' " ILLEGAL},
        {"a b", "storage ID 'a b' " ILLEGAL},
        {"a.", ILLEGAL},
        {"_ab", ILLEGAL},
        {"local\n", "storage ID 'local\\x0a' " ILLEGAL},
        {"lö", ILLEGAL},
    };
    run_vecs("storage_id", validate_storage_id, v, N(v));
}
END_TEST

#define DEEP "nested too deeply (max levels = 3)"
#define INVALID "contains invalid characters"

START_TEST(pool_id_vectors)
{
    static const struct vec v[] = {
        {"a", NULL},
        {"pool", NULL},
        {"a/b", NULL},
        {"a/b/c", NULL},
        {"Pool-1.x_y/Sub_2", NULL},
        {"...", NULL},
        {"a/b/c/d", "pool name 'a/b/c/d' " DEEP},
        {"/a/b/c", "pool name '/a/b/c' " DEEP},
        {"a//b/c", "pool name 'a//b/c' " DEEP},
        /* Depth is checked first, as PVE does. */
        {"a b/c/d/e", "pool name 'a b/c/d/e' " DEEP},
        {"a/b/c/d/", DEEP},
        {"a b", "pool name 'a b' " INVALID},
        {"a/b/c/", "pool name 'a/b/c/' " INVALID},
        {"", "pool name '' " INVALID},
        {"a//b", INVALID},
        {"/a", INVALID},
        {"a/", INVALID},
        {"/", INVALID},
        {"ä", INVALID},
        {"a;b", INVALID},
    };
    run_vecs("pool_id", validate_pool_id, v, N(v));
}
END_TEST

#define NODE "value does not look like a valid node name"

START_TEST(node_name_vectors)
{
    static const struct vec v[] = {
        {"pve1", NULL}, {"pve-1", NULL},  {"a", NULL},     {"1", NULL},
        {"PVE", NULL},  {"node_1", NODE}, {"-pve", NODE},  {"pve.local", NODE},
        {"", NODE},     {"pve-", NODE},   {"pve\n", NODE}, {"pve 1", NODE},
    };
    run_vecs("node_name", validate_node_name, v, N(v));
}
END_TEST

#define CONFIGID "invalid configuration ID"

START_TEST(snapshot_name_vectors)
{
    char *max = repeat('b', 40);
    char *over = repeat('b', 41);
    max[0] = over[0] = 's';
    const struct vec v[] = {
        {"snap1", NULL},
        {"Before-Upgrade", NULL},
        /* The format allows it; only creating a snapshot reserves it. */
        {"current", NULL},
        {"ab", NULL},
        {"a_1-", NULL},
        {max, NULL},
        {over, "must be at most 40 characters"},
        {"1abc", CONFIGID},
        {"a", CONFIGID},
        {"", CONFIGID},
        {"a b", CONFIGID},
        {"a.b", CONFIGID},
        {"_ab", CONFIGID},
        {"-ab", CONFIGID},
        {"snap\n", CONFIGID},
    };
    run_vecs("snapshot_name", validate_snapshot_name, v, N(v));
    free(max);
    free(over);
}
END_TEST

#define FORMAT "must be one of raw, qcow2, vmdk"

START_TEST(format_vectors)
{
    static const struct vec v[] = {
        {"raw", NULL},    {"qcow2", NULL},  {"vmdk", NULL},  {"", FORMAT},        {"RAW", FORMAT},
        {"qcow", FORMAT}, {"raw ", FORMAT}, {"vdi", FORMAT}, {"qcow2\n", FORMAT},
    };
    run_vecs("format", validate_format, v, N(v));
    char msg[128];
    ck_assert_int_eq(validate_format("vdi", msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid disk format 'vdi': " FORMAT);
}
END_TEST

#define DRIVE "must be one of ide0-ide3, sata0-sata5, scsi0-scsi30, virtio0-virtio15"

START_TEST(drive_vectors)
{
    static const struct vec v[] = {
        {"ide0", NULL},      {"ide3", NULL},       {"sata0", NULL},
        {"sata5", NULL},     {"scsi0", NULL},      {"scsi10", NULL},
        {"scsi30", NULL},    {"virtio0", NULL},    {"virtio15", NULL},
        {"efidisk0", NULL},  {"tpmstate0", NULL},  {"ide4", "invalid drive 'ide4': " DRIVE},
        {"sata6", DRIVE},    {"scsi31", DRIVE},    {"virtio16", DRIVE},
        {"efidisk1", DRIVE}, {"tpmstate1", DRIVE}, {"scsi01", DRIVE},
        {"scsi00", DRIVE},   {"ide00", DRIVE},     {"scsi", DRIVE},
        {"", DRIVE},         {"SCSI0", DRIVE},     {"scsi-1", DRIVE},
        {"scsi+1", DRIVE},   {"scsi 1", DRIVE},    {"scsi0 ", DRIVE},
        {"unused0", DRIVE},  {"net0", DRIVE},      {"scsi18446744073709551616", DRIVE},
    };
    run_vecs("drive", validate_drive, v, N(v));
}
END_TEST

#define TAG "must start with a letter, digit or '_'"

START_TEST(tag_vectors)
{
    static const struct vec v[] = {
        {"prod", NULL}, {"Keep_me", NULL}, {"a+b.c-d", NULL}, {"_x", NULL}, {"1", NULL},
        {"", TAG},      {"-a", TAG},       {"a b", TAG},      {"a,b", TAG}, {"a;b", TAG},
    };
    run_vecs("tag", validate_tag, v, N(v));
}
END_TEST

/* ---- numbers ---- */

START_TEST(bwlimit_vectors)
{
    static const struct {
        const char *in;
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"1", 1},
        {"102400", 102400},
        {"9007199254740991", 9007199254740991ull},
    };
    static const struct vec bad[] = {
        {"9007199254740992", "must be at most 9007199254740991 KiB/s"},
        {"18446744073709551615", "must be at most"},
        /* 2^64: must not wrap around to 0. */
        {"18446744073709551616", "must be at most"},
        {"99999999999999999999999", "must be at most"},
        {"-1", "invalid bandwidth limit '-1': must be a non-negative integer in KiB/s"},
        {"+1", "with no sign, spaces or leading zeros"},
        {"01", "non-negative integer"},
        {" 1", "non-negative integer"},
        {"1 ", "non-negative integer"},
        {"1k", "non-negative integer"},
        {"", "invalid bandwidth limit ''"},
        {"1.5", "non-negative integer"},
        {"0x10", "non-negative integer"},
        /* Junk after an overflow is still a syntax error. */
        {"99999999999999999999x", "non-negative integer"},
    };
    for (size_t i = 0; i < N(ok); i++) {
        uint64_t v = 99;
        char msg[256] = "";
        ck_assert_msg(validate_bwlimit(ok[i].in, &v, msg, sizeof(msg)) == 0, "'%s': %s", ok[i].in,
                      msg);
        ck_assert_msg(v == ok[i].want, "'%s'", ok[i].in);
    }
    for (size_t i = 0; i < N(bad); i++) {
        uint64_t v = 99;
        char msg[256] = "";
        ck_assert_msg(validate_bwlimit(bad[i].in, &v, msg, sizeof(msg)) == -EINVAL, "'%s' accepted",
                      bad[i].in);
        ck_assert(v == 99);
        assert_style(bad[i].in, msg);
        ck_assert_msg(strstr(msg, bad[i].want), "'%s': %s", bad[i].in, msg);
    }
}
END_TEST

START_TEST(timeout_vectors)
{
    char max[32], over[32], msg[256];
    long v;
    snprintf(max, sizeof(max), "%ld", LONG_MAX / 1000);
    snprintf(over, sizeof(over), "%ld", LONG_MAX / 1000 + 1);
    ck_assert_int_eq(validate_timeout("--timeout value", "0", &v, msg, sizeof(msg)), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(validate_timeout("--timeout value", "3600", &v, msg, sizeof(msg)), 0);
    ck_assert_int_eq(v, 3600);
    ck_assert_int_eq(validate_timeout("--timeout value", max, &v, msg, sizeof(msg)), 0);
    ck_assert_int_eq(v, LONG_MAX / 1000);
    v = -5;
    ck_assert_int_eq(validate_timeout("--timeout value", over, &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_int_eq(v, -5);
    ck_assert_ptr_nonnull(strstr(msg, "seconds"));
    ck_assert_ptr_nonnull(strstr(msg, "must be at most"));
    static const char *const bad[] = {"-1", "", "1s", "030", " 5", "5\n", "1e3"};
    for (size_t i = 0; i < N(bad); i++) {
        ck_assert_msg(validate_timeout("--timeout value", bad[i], &v, msg, sizeof(msg)) == -EINVAL,
                      "'%s'", bad[i]);
        assert_style(bad[i], msg);
        ck_assert_msg(strstr(msg, "must be a non-negative integer in seconds"), "%s", msg);
        ck_assert_msg(strncmp(msg, "invalid --timeout value '", 25) == 0, "%s", msg);
    }
}
END_TEST

START_TEST(number_min)
{
    char msg[256];
    uint64_t v = 3;
    ck_assert_int_eq(validate_number("value", "0", 1, 10, &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid value '0': must be at least 1");
    ck_assert_int_eq(validate_number("value", "11", 1, 10, &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_str_eq(msg, "invalid value '11': must be at most 10");
    ck_assert_uint_eq(v, 3);
    ck_assert_int_eq(validate_number("value", "10", 1, 10, &v, msg, sizeof(msg)), 0);
    ck_assert_uint_eq(v, 10);
    /* max 0: only "0"; the overflow test must not underflow max - digit. */
    ck_assert_int_eq(validate_number("value", "0", 0, 0, &v, msg, sizeof(msg)), 0);
    ck_assert_int_eq(validate_number("value", "5", 0, 0, &v, msg, sizeof(msg)), -EINVAL);
    ck_assert_int_eq(
        validate_number("value", "18446744073709551615", 0, UINT64_MAX, &v, msg, sizeof(msg)), 0);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(
        validate_number("value", "18446744073709551616", 0, UINT64_MAX, &v, msg, sizeof(msg)),
        -EINVAL);
    ck_assert_ptr_nonnull(strstr(msg, "must be at most 18446744073709551615"));
}
END_TEST

/* ---- free text and config values ---- */

START_TEST(description_length)
{
    char *max = repeat('x', VALIDATE_DESCRIPTION_MAX);
    char *over = repeat('x', VALIDATE_DESCRIPTION_MAX + 1);
    char msg[512];
    ck_assert_int_eq(validate_description("", msg, sizeof(msg)), 0);
    ck_assert_int_eq(
        validate_description("any text\nwith lines\tand tabs; $(x) 'q'", msg, sizeof(msg)), 0);
    ck_assert_int_eq(validate_description(max, msg, sizeof(msg)), 0);
    ck_assert_int_eq(validate_description(over, msg, sizeof(msg)), -EINVAL);
    assert_style("over", msg);
    ck_assert_ptr_nonnull(strstr(msg, "8193 bytes long, must be at most 8192"));
    free(max);
    free(over);
}
END_TEST

START_TEST(config_value_vectors)
{
    static const struct vec paths[] = {
        {"/", NULL},
        {"/usr/sbin/qm", NULL},
        {"/opt/x y/qm", NULL},
        {"", "invalid path '': must be absolute"},
        {"usr/sbin/qm", "must be absolute"},
        {"./qm", "must be absolute"},
        {"~/qm", "must be absolute"},
        {"/usr/\nx", "invalid path '/usr/\\x0ax'"},
    };
    static const struct vec names[] = {
        {"pvetmpl-hook", NULL},
        {"a.b", NULL},
        {"...", NULL},
        {"", "invalid file name ''"},
        {".", "must be a plain name"},
        {"..", "must be a plain name"},
        {"a/b", "must be a plain name"},
        {"/x", "must be a plain name"},
        {"a\tb", "invalid file name 'a\\x09b'"},
    };
    static const struct vec types[] = {
        {"dir", NULL},
        {"lvmthin", NULL},
        {"zfspool", NULL},
        {"my-plugin_2", NULL},
        {"", "invalid storage type ''"},
        {"Dir", "must be a lowercase word"},
        {"1dir", "must be a lowercase word"},
        {"a b", "must be a lowercase word"},
        {"-x", "must be a lowercase word"},
    };
    run_vecs("path", validate_absolute_path, paths, N(paths));
    run_vecs("file_name", validate_file_name, names, N(names));
    run_vecs("storage_type", validate_storage_type, types, N(types));
}
END_TEST

/* ---- how the value is shown ---- */

START_TEST(subject_is_escaped_and_cut)
{
    char msg[1024];
    char *longv = repeat('a', 300);
    ck_assert_int_eq(validate_dns_name("a\x01\x7f", msg, sizeof(msg)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(msg, "'a\\x01\\x7f'"));

    longv[150] = '_';
    ck_assert_int_eq(validate_dns_name(longv, msg, sizeof(msg)), -EINVAL);
    char *want = repeat('a', 64);
    char quoted[128];
    snprintf(quoted, sizeof(quoted), "'%s...'", want);
    ck_assert_msg(strstr(msg, quoted), "%s", msg);
    ck_assert_uint_lt(strlen(msg), 200);

    /* 63 bytes, then a two-byte character across the cut: it goes whole. */
    char utf[80];
    memset(utf, 'a', 63);
    strcpy(utf + 63, "\xc3\xa9zz");
    ck_assert_int_eq(validate_dns_name(utf, msg, sizeof(msg)), -EINVAL);
    snprintf(quoted, sizeof(quoted), "'%.63s...'", utf);
    ck_assert_msg(strstr(msg, quoted), "%s", msg);
    free(longv);
    free(want);
}
END_TEST

START_TEST(message_buffer_edges)
{
    uint32_t v;
    char small[8];
    /* No buffer: only the verdict. */
    ck_assert_int_eq(validate_vmid("99", &v, NULL, 0), -EINVAL);
    ck_assert_int_eq(validate_vmid("100", &v, NULL, 0), 0);
    /* A short buffer is cut and terminated. */
    ck_assert_int_eq(validate_vmid("99", &v, small, sizeof(small)), -EINVAL);
    ck_assert_str_eq(small, "invalid");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, vmid_vectors);
    tcase_add_test(tc, vmid_message_exact);
    tcase_add_test(tc, vmid_range_vectors);
    tcase_add_test(tc, dns_name_vectors);
    tcase_add_test(tc, dns_name_message);
    tcase_add_test(tc, storage_id_vectors);
    tcase_add_test(tc, pool_id_vectors);
    tcase_add_test(tc, node_name_vectors);
    tcase_add_test(tc, snapshot_name_vectors);
    tcase_add_test(tc, format_vectors);
    tcase_add_test(tc, drive_vectors);
    tcase_add_test(tc, tag_vectors);
    tcase_add_test(tc, bwlimit_vectors);
    tcase_add_test(tc, timeout_vectors);
    tcase_add_test(tc, number_min);
    tcase_add_test(tc, description_length);
    tcase_add_test(tc, config_value_vectors);
    tcase_add_test(tc, subject_is_escaped_and_cut);
    tcase_add_test(tc, message_buffer_edges);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
