/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "volname.h"

#include <errno.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal VMID without leading zero that fits 32 bits, n bytes at p. */
static bool parse_id(const char *p, size_t n, uint32_t *ret)
{
    uint64_t v = 0;
    if (n == 0 || n > 10 || p[0] == '0') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i])) {
            return false;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > UINT32_MAX) {
        return false;
    }
    *ret = (uint32_t)v;
    return true;
}

/* Perl's \S (ASCII) without '/', where the components were split. */
static bool is_name_char(char c)
{
    return c != '\0' && c != '/' && !strchr(" \t\n\r\f\v", c);
}

/* "(vm|base)-N-REST" with REST non-empty: ZFSPoolPlugin/RBDPlugin's
 * "(base|vm)-(\d+)-\S+"; file storages also want parse_name_dir's
 * ".(raw|qcow2|vmdk)" at the end (".subvol" is a container's). */
static bool parse_name(const char *p, size_t n, bool file, uint32_t *ret_vmid, bool *ret_base)
{
    size_t k;
    if (n > 5 && strncmp(p, "base-", 5) == 0) {
        *ret_base = true;
        k = 5;
    } else if (n > 3 && strncmp(p, "vm-", 3) == 0) {
        *ret_base = false;
        k = 3;
    } else {
        return false;
    }
    size_t d = k;
    while (d < n && is_digit(p[d])) {
        d++;
    }
    if (!parse_id(p + k, d - k, ret_vmid) || d + 1 >= n || p[d] != '-') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_name_char(p[i])) {
            return false;
        }
    }
    if (!file) {
        return true;
    }
    static const char *const exts[] = {".raw", ".qcow2", ".vmdk"};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i]);
        /* something between "N-" and the extension */
        if (n > d + 1 + el && memcmp(p + n - el, exts[i], el) == 0) {
            return true;
        }
    }
    return false;
}

int volname_parse(const char *volname, struct volname *ret)
{
    const char *part[4];
    size_t len[4], n = 0;
    *ret = (struct volname){0};
    if (!volname || !*volname) {
        return -EINVAL;
    }
    for (const char *p = volname;;) {
        const char *s = strchr(p, '/');
        size_t l = s ? (size_t)(s - p) : strlen(p);
        if (n == 4 || l == 0) {
            return -EINVAL;
        }
        part[n] = p;
        len[n++] = l;
        if (!s) {
            break;
        }
        p = s + 1;
    }
    uint32_t base_own = 0, own = 0;
    bool base_is_base = false;
    ret->file = is_digit(volname[0]);
    if (ret->file) {
        /* "VMID/NAME" or "BASEVMID/BASENAME/VMID/NAME" */
        if ((n != 2 && n != 4) || !parse_id(part[0], len[0], &ret->vmid)) {
            return -EINVAL;
        }
        if (n == 4) {
            /* Plugin.pm clone_image dies unless the source is a base */
            ret->base_vmid = ret->vmid;
            if (!parse_name(part[1], len[1], true, &base_own, &base_is_base) || !base_is_base ||
                !parse_id(part[2], len[2], &ret->vmid)) {
                return -EINVAL;
            }
            ret->base_name = part[1];
            ret->base_name_len = len[1];
        }
        ret->name = part[n - 1];
        ret->name_len = len[n - 1];
        return parse_name(ret->name, ret->name_len, true, &own, &ret->is_base) ? 0 : -EINVAL;
    }
    /* "NAME" or "BASENAME/NAME" */
    if (n > 2) {
        return -EINVAL;
    }
    if (n == 2) {
        /* only a base volume can be cloned (clone_image dies otherwise) */
        if (!parse_name(part[0], len[0], false, &ret->base_vmid, &base_is_base) || !base_is_base) {
            return -EINVAL;
        }
        ret->base_name = part[0];
        ret->base_name_len = len[0];
    }
    ret->name = part[n - 1];
    ret->name_len = len[n - 1];
    return parse_name(ret->name, ret->name_len, false, &ret->vmid, &ret->is_base) ? 0 : -EINVAL;
}
