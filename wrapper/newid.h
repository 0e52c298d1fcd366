/* SPDX-License-Identifier: GPL-3.0-or-later */
/* newid: the rules for choosing a new VMID when none is given. Pure: the
 * cluster's VM list and datacenter.cfg come in as values; claiming the chosen
 * VMID against parallel runs is slot.c's (cmd-template.c joins them). */
#ifndef PVETMPL_NEWID_H
#define PVETMPL_NEWID_H

#include <stddef.h>
#include <stdint.h>

#include "vmlist.h"

/* An inclusive range of VMIDs. */
struct newid_range {
    uint32_t first, last;
};

/* Proxmox's own pool for automatic VMIDs when datacenter.cfg sets none
 * (pve-manager PVE/API2/Cluster.pm 'nextid': lower 100, upper 1000000
 * exclusive). */
#define NEWID_PVE_LOWER 100u
#define NEWID_PVE_UPPER 1000000u

/* The 'next-id: lower=N,upper=M' line of datacenter.cfg text (pve-cluster
 * PVE/DataCenterConfig.pm $next_id_format: lower inclusive, default 100;
 * upper exclusive, default 1000000; either may be left out) as an inclusive
 * range. 1 and *ret when the line is there, 0 when not, -EBADMSG when it is
 * there but not of that form (or upper <= lower). */
int newid_parse_datacenter(const char *text, size_t len, struct newid_range *ret);

/* The lowest VMID >= from within r that vl does not hold; 0 when none. */
uint32_t newid_next_free(const struct vmlist *vl, const struct newid_range *r, uint32_t from);

#endif
