/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvesm: pure parser of `pvesm status` and the storage-type capability table
 * (pve-interface.md §3.1, §5). No I/O, no logging. */
#ifndef PVETMPL_PVESM_H
#define PVETMPL_PVESM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pvesm_state {
    PVESM_UNKNOWN = 0, /* a state word we do not know */
    PVESM_ACTIVE,
    PVESM_INACTIVE,
    PVESM_DISABLED,
};
struct pvesm_row {
    char *name;
    char *type; /* "dir", "lvmthin", ... or a third-party plugin's type */
    enum pvesm_state state;
    uint64_t total_kib, used_kib, avail_kib;
    double percent; /* -1 for N/A */
};
struct pvesm_status {
    struct pvesm_row *rows;
    size_t n;
};
/* Accepts both header generations (with and without "(KiB)"), and output with
 * no rows at all. Lines before the header (stderr merged in) are skipped.
 * Returns -EBADMSG with *reterr_line for a row that does not parse, or when
 * there is text but no header. */
int pvesm_parse_status(const char *text, size_t len, struct pvesm_status *ret,
                       unsigned *reterr_line);
void pvesm_status_release(struct pvesm_status *st);
const struct pvesm_row *pvesm_status_find(const struct pvesm_status *st, const char *name);
const char *pvesm_state_name(enum pvesm_state s);

enum pvesm_template_support {
    PVESM_TEMPLATE_YES,       /* dir nfs cifs btrfs lvmthin zfspool zfs rbd (glusterfs, PVE <= 8) */
    PVESM_TEMPLATE_NO,        /* lvm iscsi iscsidirect: qm template skips their disks silently */
    PVESM_TEMPLATE_NO_IMAGES, /* cephfs pbs esxi: cannot hold VM images at all */
    PVESM_TEMPLATE_UNKNOWN,   /* third-party type: only if the config allows it */
};
enum pvesm_template_support pvesm_type_template_support(const char *type);
/* File-based types whose volumes live under a path (snippets possible). */
bool pvesm_type_is_file_based(const char *type);

#endif
