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

int hook_path_parse(const char *volid, const char *out, char *path, size_t len, struct err *e)
{
    size_t l = strcspn(out, "\n");
    const char *name = strrchr(volid, '/');
    size_t nl = name ? strlen(name) : 0;
    /* Write only where the volume's own file name ends the path. */
    if (l == 0 || out[0] != '/' || l >= len || !name || l <= nl ||
        strncmp(out + l - nl, name, nl) != 0) {
        return err_set(e, ERR_BAD_OUTPUT, "'pvesm path %s' printed no absolute path to '%s'", volid,
                       name ? name + 1 : volid);
    }
    snprintf(path, len, "%.*s", (int)l, out);
    return 0;
}
