/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmlist: pure parsers of pmxcfs's status files /etc/pve/.vmlist and
 * /etc/pve/.members (JSON, via json-c). */
#ifndef PVETMPL_VMLIST_H
#define PVETMPL_VMLIST_H

#include <stdbool.h>
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

/* /etc/pve/.members (pve-cluster pmxcfs/status.c cfs_create_memberlist_msg):
 * "nodename" and "version" always; in a cluster also "cluster" and
 * "nodelist" {"<name>": {"id": N, "online": 0|1[, "ip": "..."]}}. A node
 * outside a cluster has no nodelist: no other node exists for qemu-server
 * (pve-cluster Cluster.pm check_node_exists). */
struct vmlist_members {
    char *nodename; /* this node */
    char **nodes;   /* the nodelist's names, sorted; none outside a cluster */
    size_t n;
};
/* -EBADMSG for text that is not that shape, -ENOMEM. */
int vmlist_members_parse(const char *text, size_t len, struct vmlist_members *ret);
void vmlist_members_release(struct vmlist_members *m);
/* Whether node is a cluster node (in the nodelist). */
bool vmlist_members_has(const struct vmlist_members *m, const char *node);

#endif
