/* SPDX-License-Identifier: GPL-3.0-or-later */
/* volname: pure parser of the pve-storage volume names of VM images, the
 * part after "STORAGE:" in a drive's volume id. Which base volume a linked
 * clone's disk stands on is written in that name, and nowhere else in the
 * guest's config. The shapes are pve-storage's (src/PVE/Storage/...):
 *   file storages (Plugin.pm parse_volname and parse_name_dir; dir, nfs,
 *   cifs, glusterfs, cephfs): "VMID/NAME" and, for a linked clone made by
 *   Plugin.pm clone_image, "BASEVMID/BASENAME/VMID/NAME", where NAME and
 *   BASENAME are "(vm|base)-N-...(.raw|.qcow2|.vmdk)";
 *   block storages (ZFSPoolPlugin.pm and RBDPlugin.pm parse_volname):
 *   "NAME" and, for a linked clone (their clone_image returns
 *   "$basename/$name"), "BASENAME/NAME", where NAME and BASENAME are
 *   "(vm|base)-N-...".
 * LvmThinPlugin.pm names a linked clone "vm-N-disk-M" like any disk: its
 * clone_image returns the bare name, and the note at the top of that file
 * says LVM-thin does not track the relation (deleting the base does not
 * harm the clone). Such a clone parses as a plain disk here.
 * Container volumes (subvol-, basevol-) are not VM images and are refused. */
#ifndef PVETMPL_VOLNAME_H
#define PVETMPL_VOLNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct volname {
    bool file;        /* the file-storage shape ("VMID/NAME...") */
    uint32_t vmid;    /* the owner: NAME's N (block) or the VMID directory (file) */
    const char *name; /* NAME, pointing into the parsed text, name_len bytes */
    size_t name_len;
    bool is_base; /* NAME starts with "base-": a template's disk */
    /* A linked clone's base volume (0/NULL when the volume stands alone). */
    uint32_t base_vmid;
    const char *base_name;
    size_t base_name_len;
};

/* Parses volname (without "STORAGE:"). Returns 0, or -EINVAL for a name that
 * is no VM image of these shapes (ISO, snippet, LXC subvol, garbage). */
int volname_parse(const char *volname, struct volname *ret);

#endif
