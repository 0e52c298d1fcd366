/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "newid.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* A decimal number of at most 10 digits at *p, up to any of stop. */
static int number(const char **p, const char *end, uint64_t *ret)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (s < end && *s >= '0' && *s <= '9' && n < 11) {
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
        n++;
    }
    if (n == 0 || n > 10) {
        return -EBADMSG;
    }
    *p = s;
    *ret = v;
    return 0;
}

/* "lower=N,upper=M" in either order, each optional, per the schema's bounds. */
static int parse_value(const char *s, const char *end, struct newid_range *ret)
{
    uint64_t lower = NEWID_PVE_LOWER, upper = NEWID_PVE_UPPER;
    bool seen_lower = false, seen_upper = false;
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
        end--;
    }
    while (s < end) {
        uint64_t *v;
        bool *seen;
        if ((size_t)(end - s) > 6 && strncmp(s, "lower=", 6) == 0) {
            v = &lower, seen = &seen_lower, s += 6;
        } else if ((size_t)(end - s) > 6 && strncmp(s, "upper=", 6) == 0) {
            v = &upper, seen = &seen_upper, s += 6;
        } else {
            return -EBADMSG;
        }
        if (*seen || number(&s, end, v) < 0) {
            return -EBADMSG;
        }
        *seen = true;
        if (s < end && *s != ',') {
            return -EBADMSG;
        }
        s += s < end;
    }
    /* DataCenterConfig.pm: lower 100..999999999, upper 100..1000000000 */
    if (lower < 100 || lower > 999999999 || upper < 100 || upper > 1000000000 || upper <= lower) {
        return -EBADMSG;
    }
    ret->first = (uint32_t)lower;
    ret->last = (uint32_t)(upper - 1);
    return 0;
}

int newid_parse_datacenter(const char *text, size_t len, struct newid_range *ret)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        /* PVE::JSONSchema::parse_config: "key: value" lines, '#' comments */
        static const char key[] = "next-id:";
        if ((size_t)(le - p) >= sizeof(key) - 1 && strncmp(p, key, sizeof(key) - 1) == 0) {
            return parse_value(p + sizeof(key) - 1, le, ret) < 0 ? -EBADMSG : 1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

uint32_t newid_next_free(const struct vmlist *vl, const struct newid_range *r, uint32_t from)
{
    uint32_t id = from < r->first ? r->first : from;
    for (; id && id <= r->last; id++) {
        if (!vmlist_find(vl, id)) {
            return id;
        }
        if (id == UINT32_MAX) {
            break;
        }
    }
    return 0;
}
