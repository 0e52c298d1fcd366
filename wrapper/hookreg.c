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

/* Pushes each word; on failure releases what was pushed. */
static int build(struct strv *ret, const char *const *words, size_t n)
{
    struct strv sv = STRV_INIT;
    for (size_t i = 0; i < n; i++) {
        if (strv_push(&sv, words[i]) < 0) {
            strv_release(&sv);
            return -ENOMEM;
        }
    }
    *ret = sv;
    return 0;
}

int hook_argv_pvesm_status(const struct conf *cf, struct strv *ret)
{
    const char *w[] = {cf->pvesm, "status"};
    return build(ret, w, 2);
}

int hook_argv_pvesm_path(const struct conf *cf, const char *volid, struct strv *ret)
{
    const char *w[] = {cf->pvesm, "path", volid};
    return build(ret, w, 3);
}

int hook_argv_qm_config(const struct conf *cf, uint32_t vmid, struct strv *ret)
{
    char id[16];
    snprintf(id, sizeof(id), "%" PRIu32, vmid);
    const char *w[] = {cf->qm, "config", id};
    return build(ret, w, 3);
}

int hook_argv_qm_set(const struct conf *cf, uint32_t vmid, const char *volid, struct strv *ret)
{
    char id[16];
    snprintf(id, sizeof(id), "%" PRIu32, vmid);
    const char *w[] = {cf->qm, "set", id, "--hookscript", volid};
    return build(ret, w, 5);
}

int hook_argv_qm_unset(const struct conf *cf, uint32_t vmid, struct strv *ret)
{
    char id[16];
    snprintf(id, sizeof(id), "%" PRIu32, vmid);
    const char *w[] = {cf->qm, "set", id, "--delete", "hookscript"};
    return build(ret, w, 5);
}
