/* SPDX-License-Identifier: GPL-3.0-or-later */
/* validate: strict checks of every argument pvetmpl passes on to qm/pvesm,
 * matching Proxmox's own formats (pve-common JSONSchema.pm, pve-access-control,
 * qemu-server), so a bad value is refused before anything runs. Pure: no I/O.
 *
 * Each validator returns 0, or -EINVAL after writing one message into msg
 * (lowercase, the value in single quotes, no final full stop), e.g.
 *   invalid VMID '99': must be an integer from 100 to 999999999 with no sign,
 *   spaces or leading zeros
 * The quoted value has control characters escaped as \xNN and is cut after
 * 64 bytes, so a message is always one printable line. msg may be NULL
 * (msglen 0) when only the verdict matters. ret_ outputs are written only on
 * success. */
#ifndef PVETMPL_VALIDATE_H
#define PVETMPL_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#define VALIDATE_VMID_MIN 100u
#define VALIDATE_VMID_MAX 999999999u
#define VALIDATE_SNAPSHOT_NAME_MAX 40
/* qemu-server's maxLength for a VM's description, counted here in bytes. */
#define VALIDATE_DESCRIPTION_MAX 8192
/* KiB/s; times 1024 it still fits QEMU's signed 64-bit bytes/s (2^53 - 1). */
#define VALIDATE_BWLIMIT_MAX 9007199254740991ull

/* How much of a value a message repeats, and the buffer validate_quote needs. */
#define VALIDATE_QUOTE_MAX 64
#define VALIDATE_QUOTE_SIZE (VALIDATE_QUOTE_MAX * 4 + sizeof("..."))
/* s as every message quotes a value: control characters as \xNN, cut after
 * VALIDATE_QUOTE_MAX bytes (never inside a UTF-8 sequence). Returns buf. */
const char *validate_quote(const char *s, char buf[VALIDATE_QUOTE_SIZE]);

/* pve-vmid: ^[1-9][0-9]{2,8}$, i.e. 100..999999999. */
int validate_vmid(const char *s, uint32_t *ret, char *msg, size_t msglen);
/* A VMID or an inclusive range "A-B" of VMIDs with A <= B (config lists). */
int validate_vmid_range(const char *s, uint32_t *ret_first, uint32_t *ret_last, char *msg,
                        size_t msglen);
/* dns-name (a VM name): labels [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by '.'. */
int validate_dns_name(const char *s, char *msg, size_t msglen);
/* pve-storage-id: at least 2 characters, ^[a-z][a-z0-9\-_.]*[a-z0-9]$, any case. */
int validate_storage_id(const char *s, char *msg, size_t msglen);
/* pve-poolid: [A-Za-z0-9.\-_]+ segments joined by '/', at most 3 levels. */
int validate_pool_id(const char *s, char *msg, size_t msglen);
/* pve-node: ^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$ */
int validate_node_name(const char *s, char *msg, size_t msglen);
/* pve-snapshot-name: pve-configid ^[a-z][a-z0-9_-]+$ (any case), at most 40. */
int validate_snapshot_name(const char *s, char *msg, size_t msglen);
/* qm clone --format: raw, qcow2 or vmdk. */
int validate_format(const char *s, char *msg, size_t msglen);
/* qm template --disk: ide0-3, sata0-5, scsi0-30, virtio0-15, efidisk0, tpmstate0. */
int validate_drive(const char *s, char *msg, size_t msglen);
/* A tag (pve-tag): ^[a-z0-9_][a-z0-9_+.-]*$, any case. */
int validate_tag(const char *s, char *msg, size_t msglen);
/* KiB/s, a plain decimal 0..VALIDATE_BWLIMIT_MAX. */
int validate_bwlimit(const char *s, uint64_t *ret, char *msg, size_t msglen);
/* Seconds, a plain decimal 0..LONG_MAX / 1000 (so it converts to ms); what
 * names the value in the message ("--timeout value"). */
int validate_timeout(const char *what, const char *s, long *ret, char *msg, size_t msglen);
/* Free text for qm's --description; only the length is bounded. */
int validate_description(const char *s, char *msg, size_t msglen);

/* A plain decimal from min to max: digits only, no sign, spaces or leading
 * zeros. what names the value in the message ("value", "timeout"...). */
int validate_number(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
                    char *msg, size_t msglen);
/* Config values: a path starting with '/', with no control characters. */
int validate_absolute_path(const char *s, char *msg, size_t msglen);
/* A plain file name: not empty, '.' or '..', no '/' or control characters. */
int validate_file_name(const char *s, char *msg, size_t msglen);
/* A storage type as storage.cfg spells it (dir, lvmthin, zfspool, or a
 * third-party plugin's): a lowercase letter, then [a-z0-9_-]. */
int validate_storage_type(const char *s, char *msg, size_t msglen);

#endif
