/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qmargv: pure builders of the exact argv pvetmpl runs (or, in a dry run,
 * prints). argv[0] is the configured absolute path of qm or pvesm. Each
 * returns 0 or -ENOMEM (the vector is then released). */
#ifndef PVETMPL_QMARGV_H
#define PVETMPL_QMARGV_H

#include <stdbool.h>
#include <stdint.h>

#include "strv.h"

struct clone_req {
    uint32_t src, newid;
    bool full; /* always passed explicitly: qm's default depends on the source */
    const char *name, *description, *pool, *snapname, *storage, *format, *target;
    bool have_bwlimit;
    uint64_t bwlimit;
};

int qmargv_clone(const char *qm, const struct clone_req *q, struct strv *ret);
int qmargv_template(const char *qm, uint32_t vmid, const char *disk, struct strv *ret);
int qmargv_status(const char *qm, uint32_t vmid, bool verbose, struct strv *ret);
/* qm config VMID [--snapshot SNAP]: pending changes applied (what the VM will be) */
int qmargv_config(const char *qm, uint32_t vmid, const char *snapshot, struct strv *ret);
/* qm config VMID --current: the committed config, the one qm clone and qm
 * template act on (qemu-server clone_vm drops [PENDING]; template_create walks
 * the main section) */
int qmargv_config_current(const char *qm, uint32_t vmid, struct strv *ret);
/* qm migrate VMID NODE (offline: the VM is stopped or a template) */
int qmargv_migrate(const char *qm, uint32_t vmid, const char *node, struct strv *ret);
/* qm set VMID --hookscript VOLID; with volid NULL: qm set VMID --delete hookscript */
int qmargv_set_hookscript(const char *qm, uint32_t vmid, const char *volid, struct strv *ret);
/* qm set VMID --name NAME [--tags TAGS]: one config write for both */
int qmargv_set_name(const char *qm, uint32_t vmid, const char *name, const char *tags,
                    struct strv *ret);
/* qm destroy VMID */
int qmargv_destroy(const char *qm, uint32_t vmid, struct strv *ret);
/* pvesm path VOLID */
int qmargv_pvesm_path(const char *pvesm, const char *volid, struct strv *ret);
/* pvesm status [--content C] [--target NODE] */
int qmargv_pvesm_status(const char *pvesm, const char *content, const char *target,
                        struct strv *ret);

#endif
