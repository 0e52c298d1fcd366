/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pvecfg: pure parsers of the cluster files pvetmpl reads from pmxcfs
 * (<pve_dir>): storage.cfg, for what `pvesm status` does not say (shared,
 * formats), and user.cfg, for the pools. No I/O (node.c reads the files). */
#ifndef PVETMPL_PVECFG_H
#define PVETMPL_PVECFG_H

#include <stdbool.h>
#include <stddef.h>

struct pvecfg_storage {
    char *id;
    char *type;
    bool shared;       /* "shared 1" or a bare "shared", or a type always shared */
    bool volume_chain; /* lvm "snapshot-as-volume-chain": qcow2 allowed */
};
struct pvecfg_storages {
    struct pvecfg_storage *v;
    size_t n;
};

/* storage.cfg as pve-common SectionConfig.pm parse_config and pve-storage
 * Plugin.pm parse_config read it: sections "<type>: <id>", indented
 * "<key>[ <value>]" lines, a blank line ends a section, '#' lines are
 * comments; a boolean given without value is 1, and only "0"/"1" are
 * booleans; of a repeated key the first valid value counts (an invalid one
 * is never stored); a later section of an id replaces an earlier one;
 * 'shared' counts only for types that take it; a section of a known type
 * without one of its required options is no storage (check_config);
 * 'local' is a plain dir unless it is one at /var/lib/vz; the types of Plugin.pm @SHARED_STORAGE
 * are always shared. Never fails but for -ENOMEM. */
int pvecfg_parse_storage(const char *text, size_t len, struct pvecfg_storages *ret);
void pvecfg_storages_release(struct pvecfg_storages *s);
const struct pvecfg_storage *pvecfg_storage_find(const struct pvecfg_storages *s, const char *id);

/* pve-storage Plugin.pm @SHARED_STORAGE: types shared whatever the config says. */
bool pvecfg_type_always_shared(const char *type);
/* Whether qm can allocate a new disk there: ISCSIPlugin and ISCSIDirectPlugin
 * alloc_image die "can't allocate space in iscsi storage". */
bool pvecfg_type_can_allocate(const char *type);
enum { PVECFG_FMT_RAW = 1, PVECFG_FMT_QCOW2 = 2, PVECFG_FMT_VMDK = 4 };
/* The disk formats a storage can hold (pve-storage get_formats: plugindata
 * 'format', raw only without it; LVMPlugin: qcow2 with a volume chain), as
 * PVECFG_FMT_* bits; 0 for a type pvetmpl does not know. */
unsigned pvecfg_storage_formats(const char *type, bool volume_chain);
/* mask as "raw, qcow2, vmdk" into buf. */
void pvecfg_formats_text(unsigned mask, char *buf, size_t len);
/* Whether format is one of them; true for an unknown type (qm decides). */
bool pvecfg_storage_holds_format(const char *type, bool volume_chain, const char *format);

/* Whether pool exists in user.cfg, as pve-access-control AccessControl.pm
 * parse_user_config sees it: a "pool:<name>:<comment>:<vms>:<storages>" line
 * (fields trimmed; names that fail verify_poolname ignored), or a parent of
 * a nested pool named there. */
bool pvecfg_pool_exists(const char *text, size_t len, const char *pool);

#endif
