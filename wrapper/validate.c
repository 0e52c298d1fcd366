/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The formats below follow Proxmox's validators (see validate.h). They are
 * stricter in one way only: Perl's '$' also matches before a final newline,
 * so PVE would take "100\n"; we never do, since such a value is always a
 * mistake and would end up in an argv or a log line. */
#include "validate.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* How much of an offending value a message repeats. */
#define SUBJECT_MAX VALIDATE_QUOTE_MAX

struct subject {
    char s[VALIDATE_QUOTE_SIZE];
};

/* The value as it may appear in a message: control characters escaped, so
 * the message stays one line, and long values cut (never inside a UTF-8
 * sequence). */
static const char *subject(struct subject *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char *o = b->s;
    size_t i;
    for (i = 0; i < SUBJECT_MAX && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        } else {
            *o++ = (char)c;
        }
    }
    if (s[i]) {
        /* Bytes >= 0x80 are copied one to one, so backing up is exact. */
        while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80) {
            i--;
            o--;
        }
        o = stpcpy(o, "...");
    }
    *o = '\0';
    return b->s;
}

const char *validate_quote(const char *s, char buf[VALIDATE_QUOTE_SIZE])
{
    struct subject b;
    subject(&b, s);
    memcpy(buf, b.s, sizeof(b.s));
    return buf;
}

static int fail(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg && msglen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* The common case: a rule that holds or not, and a message about s. Every
 * rule's fmt is a literal of this file with one %s, for the value. */
static int verdict(bool ok, const char *s, char *msg, size_t msglen, const char *fmt)
{
    struct subject b = {""};
    return ok ? 0 : fail(msg, msglen, fmt, subject(&b, s));
}

/* ASCII only: locale-dependent isalnum() could admit letters PVE refuses. */
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

/* [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? over s[0..n) */
static bool is_label(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) {
        return false;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Every character after the first is in set (plus letters and digits). */
static bool rest_in(const char *s, const char *set)
{
    for (; *s; s++) {
        if (!is_alnum(*s) && !strchr(set, *s)) {
            return false;
        }
    }
    return true;
}

/* Returns 0, -EINVAL for the syntax or -ERANGE above max (never wrapping). */
static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;
    bool over = false;
    if (!s[0] || (s[0] == '0' && s[1])) {
        return -EINVAL;
    }
    /* Keep scanning after an overflow: junk anywhere is a syntax error. */
    for (const char *p = s; *p; p++) {
        if (!is_digit(*p)) {
            return -EINVAL;
        }
        unsigned d = (unsigned)(*p - '0');
        if (over || v > max / 10 || max - v * 10 < d) {
            over = true;
        } else {
            v = v * 10 + d;
        }
    }
    if (over) {
        return -ERANGE;
    }
    *ret = v;
    return 0;
}

static int vmid_of(const char *s, uint32_t *ret)
{
    uint64_t v;
    if (parse_uint(s, VALIDATE_VMID_MAX, &v) < 0 || v < VALIDATE_VMID_MIN) {
        return -EINVAL;
    }
    *ret = (uint32_t)v;
    return 0;
}

int validate_vmid(const char *s, uint32_t *ret, char *msg, size_t msglen)
{
    return verdict(vmid_of(s, ret) == 0, s, msg, msglen,
                   "invalid VMID '%s': must be an integer from 100 to 999999999 with no sign, "
                   "spaces or leading zeros");
}

/* "A" or "A-B" into lo, hi (not yet ordered). */
static int range_of(const char *s, uint32_t *lo, uint32_t *hi)
{
    char first[16];
    const char *dash = strchr(s, '-');
    if (!dash) {
        int r = vmid_of(s, lo);
        *hi = *lo;
        return r;
    }
    size_t n = (size_t)(dash - s);
    if (n >= sizeof(first)) {
        return -EINVAL;
    }
    memcpy(first, s, n);
    first[n] = '\0';
    return vmid_of(first, lo) == 0 && vmid_of(dash + 1, hi) == 0 ? 0 : -EINVAL;
}

int validate_vmid_range(const char *s, uint32_t *ret_first, uint32_t *ret_last, char *msg,
                        size_t msglen)
{
    uint32_t lo = 0, hi = 0;
    int r = verdict(range_of(s, &lo, &hi) == 0, s, msg, msglen,
                    "invalid VMID or range '%s': must be a VMID from 100 to 999999999, or two "
                    "joined by '-' such as '100-199', with no sign, spaces or leading zeros");
    if (r == 0) {
        r = verdict(lo <= hi, s, msg, msglen,
                    "invalid VMID range '%s': the first VMID must not be greater than the last");
    }
    if (r == 0) {
        *ret_first = lo;
        *ret_last = hi;
    }
    return r;
}

static bool is_dns_name(const char *s)
{
    for (;;) {
        size_t n = strcspn(s, ".");
        if (!is_label(s, n)) {
            return false;
        }
        if (!s[n]) {
            return true;
        }
        s += n + 1;
    }
}

int validate_dns_name(const char *s, char *msg, size_t msglen)
{
    return verdict(is_dns_name(s), s, msg, msglen,
                   "invalid VM name '%s': value does not look like a valid DNS name (labels of "
                   "letters, digits and inner '-', joined by '.')");
}

int validate_storage_id(const char *s, char *msg, size_t msglen)
{
    size_t n = strlen(s);
    /* PVE's two checks, in its order and with its wording. */
    int r = verdict(n >= 2, s, msg, msglen, "storage ID '%s' cannot be shorter than 2 characters");
    if (r == 0) {
        r = verdict(is_alpha(s[0]) && is_alnum(s[n - 1]) && rest_in(s + 1, "-_."), s, msg, msglen,
                    "storage ID '%s' contains illegal characters: must start with a letter, end "
                    "with a letter or digit and hold only letters, digits, '-', '_' and '.'");
    }
    return r;
}

/* Levels as Perl's split("/") counts them: trailing empty fields drop out,
 * inner and leading ones count. */
static size_t pool_levels(const char *s)
{
    size_t levels = 0, kept = 0;
    for (;;) {
        size_t n = strcspn(s, "/");
        levels++;
        if (n > 0) {
            kept = levels;
        }
        if (!s[n]) {
            return kept;
        }
        s += n + 1;
    }
}

/* [A-Za-z0-9.\-_]+ segments joined by single '/'. */
static bool pool_chars_ok(const char *s)
{
    bool ok = s[0] != '\0';
    for (const char *p = s; ok && *p; p++) {
        if (*p == '/') {
            ok = p != s && p[-1] != '/' && p[1] != '\0';
        } else {
            ok = is_alnum(*p) || strchr(".-_", *p);
        }
    }
    return ok;
}

int validate_pool_id(const char *s, char *msg, size_t msglen)
{
    /* PVE checks the depth first. */
    int r = verdict(pool_levels(s) <= 3, s, msg, msglen,
                    "pool name '%s' nested too deeply (max levels = 3): at most two '/' are "
                    "allowed");
    if (r == 0) {
        r = verdict(pool_chars_ok(s), s, msg, msglen,
                    "pool name '%s' contains invalid characters: each level may hold only "
                    "letters, digits, '.', '-' and '_', and levels are joined by single '/'");
    }
    return r;
}

int validate_node_name(const char *s, char *msg, size_t msglen)
{
    return verdict(is_label(s, strlen(s)), s, msg, msglen,
                   "invalid node name '%s': value does not look like a valid node name (letters, "
                   "digits and inner '-')");
}

int validate_snapshot_name(const char *s, char *msg, size_t msglen)
{
    int r = verdict(is_alpha(s[0]) && s[1] && rest_in(s + 1, "_-"), s, msg, msglen,
                    "invalid snapshot name '%s': invalid configuration ID (a letter followed by "
                    "at least one letter, digit, '-' or '_')");
    if (r == 0) {
        r = verdict(strlen(s) <= VALIDATE_SNAPSHOT_NAME_MAX, s, msg, msglen,
                    "invalid snapshot name '%s': must be at most 40 characters");
    }
    return r;
}

int validate_format(const char *s, char *msg, size_t msglen)
{
    return verdict(!strcmp(s, "raw") || !strcmp(s, "qcow2") || !strcmp(s, "vmdk"), s, msg, msglen,
                   "invalid disk format '%s': must be one of raw, qcow2, vmdk");
}

static bool is_drive(const char *s)
{
    static const struct {
        const char *bus;
        uint64_t max;
    } buses[] = {
        {"ide", 3}, {"sata", 5}, {"scsi", 30}, {"virtio", 15}, {"efidisk", 0}, {"tpmstate", 0},
    };
    uint64_t i;
    for (size_t k = 0; k < sizeof(buses) / sizeof(buses[0]); k++) {
        size_t n = strlen(buses[k].bus);
        if (!strncmp(s, buses[k].bus, n) && parse_uint(s + n, buses[k].max, &i) == 0) {
            return true;
        }
    }
    return false;
}

int validate_drive(const char *s, char *msg, size_t msglen)
{
    return verdict(is_drive(s), s, msg, msglen,
                   "invalid drive '%s': must be one of ide0-ide3, sata0-sata5, scsi0-scsi30, "
                   "virtio0-virtio15, efidisk0, tpmstate0 (no leading zeros)");
}

int validate_tag(const char *s, char *msg, size_t msglen)
{
    return verdict((is_alnum(s[0]) || s[0] == '_') && rest_in(s + 1, "_+.-"), s, msg, msglen,
                   "invalid tag '%s': must start with a letter, digit or '_' and hold only "
                   "letters, digits, '_', '+', '.' and '-'");
}

/* unit ("KiB/s", "seconds") completes the rule; NULL for a bare count. */
static int number(const char *what, const char *unit, const char *s, uint64_t min, uint64_t max,
                  uint64_t *ret, char *msg, size_t msglen)
{
    struct subject b = {""};
    const char *sep = unit ? " " : "", *in = unit ? " in " : "";
    uint64_t v;
    int r = parse_uint(s, max, &v);
    if (!unit) {
        unit = "";
    }
    if (r == -EINVAL) {
        return fail(msg, msglen,
                    "invalid %s '%s': must be a non-negative integer%s%s with no sign, spaces or "
                    "leading zeros",
                    what, subject(&b, s), in, unit);
    }
    if (r < 0) {
        return fail(msg, msglen, "invalid %s '%s': must be at most %llu%s%s", what, subject(&b, s),
                    (unsigned long long)max, sep, unit);
    }
    if (v < min) {
        return fail(msg, msglen, "invalid %s '%s': must be at least %llu%s%s", what, subject(&b, s),
                    (unsigned long long)min, sep, unit);
    }
    *ret = v;
    return 0;
}

int validate_number(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
                    char *msg, size_t msglen)
{
    return number(what, NULL, s, min, max, ret, msg, msglen);
}

int validate_bwlimit(const char *s, uint64_t *ret, char *msg, size_t msglen)
{
    return number("bandwidth limit", "KiB/s", s, 0, VALIDATE_BWLIMIT_MAX, ret, msg, msglen);
}

int validate_timeout(const char *what, const char *s, long *ret, char *msg, size_t msglen)
{
    uint64_t v;
    int r = number(what, "seconds", s, 0, LONG_MAX / 1000, &v, msg, msglen);
    if (r == 0) {
        *ret = (long)v;
    }
    return r;
}

int validate_description(const char *s, char *msg, size_t msglen)
{
    struct subject b = {""};
    size_t n = strlen(s);
    /* qm takes any text here (it is stored as comment lines); only its
     * length is limited, by qemu-server's config schema. */
    if (n > VALIDATE_DESCRIPTION_MAX) {
        return fail(msg, msglen, "invalid description '%s': %zu bytes long, must be at most %d",
                    subject(&b, s), n, VALIDATE_DESCRIPTION_MAX);
    }
    return 0;
}

/* Control characters have no place in a path or file name and would break
 * the one-line messages and logs that repeat them. */
static bool has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return true;
        }
    }
    return false;
}

int validate_absolute_path(const char *s, char *msg, size_t msglen)
{
    return verdict(s[0] == '/' && !has_control(s), s, msg, msglen,
                   "invalid path '%s': must be absolute (start with '/') and hold no control "
                   "characters");
}

int validate_file_name(const char *s, char *msg, size_t msglen)
{
    return verdict(s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && !has_control(s),
                   s, msg, msglen,
                   "invalid file name '%s': must be a plain name, not empty, '.' or '..', with "
                   "no '/' or control characters");
}

int validate_storage_type(const char *s, char *msg, size_t msglen)
{
    bool ok = s[0] >= 'a' && s[0] <= 'z';
    for (const char *p = s + 1; ok && *p; p++) {
        ok = (*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '_' || *p == '-';
    }
    return verdict(ok, s, msg, msglen,
                   "invalid storage type '%s': must be a lowercase word (a letter, then "
                   "lowercase letters, digits, '_' or '-')");
}
