/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmlist: pure parser of pmxcfs's /etc/pve/.vmlist (JSON, via json-c). */
#ifndef PVETMPL_VMLIST_H
#define PVETMPL_VMLIST_H

#include <stddef.h>
#include <stdint.h>

struct vmlist_entry {
    uint32_t vmid;
    char *node;
    char *type; /* "qemu", "lxc", ... */
};
struct vmlist {
    uint64_t version;
    struct vmlist_entry *entries;
    size_t n;
};
/* An object without "ids" is an empty cluster. Returns -EBADMSG for text that
 * is not the expected JSON shape. */
int vmlist_parse(const char *text, size_t len, struct vmlist *ret);
void vmlist_release(struct vmlist *vl);
const struct vmlist_entry *vmlist_find(const struct vmlist *vl, uint32_t vmid);

#endif
