/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "hookreg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int hook_volid(const char *storage, const char *name, char *buf, size_t len)
{
    int k = snprintf(buf, len, "%s:snippets/%s", storage, name);
    return (k < 0 || (size_t)k >= len) ? -ENAMETOOLONG : 0;
}

bool hook_volid_is_ours(const char *volid, const char *name)
{
    const char *colon = volid ? strchr(volid, ':') : NULL;
    return colon && colon != volid && strncmp(colon + 1, "snippets/", 9) == 0 &&
           strcmp(colon + 10, name) == 0;
}
