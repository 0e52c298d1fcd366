/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qm: pure parsers of `qm` output (status, config, list, clone/template
 * progress) and the classifier of qm's error texts. No I/O, no logging.
 * Formats: ../shared/reference/pve-interface.md §1-§4, §9.
 * Unknown lines are ignored; only missing required data is an error. */
#ifndef PVETMPL_QM_H
#define PVETMPL_QM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- qm status <vmid> [--verbose] ------------------------------------- */
struct qm_status {
    char *status; /* "stopped", "running", "paused", ... ("unknown" is kept as is) */
    /* Only with --verbose (else NULL/false/0): */
    char *qmpstatus;
    char *lock;
    char *name;
    bool template;
    uint64_t pid;
};
/* Returns 0, or -EBADMSG when no top-level `status:` line is present
 * (*reterr_line = 0) or a top-level line is malformed (its 1-based number).
 * Nested (TAB-indented) lines of --verbose are skipped. */
int qm_parse_status(const char *text, size_t len, struct qm_status *ret, unsigned *reterr_line);
void qm_status_release(struct qm_status *st);

/* ---- qm config <vmid> -------------------------------------------------- */
struct qm_disk {
    char *key;     /* "scsi0", "ide2", "efidisk0", ... */
    char *volume;  /* first field: "local-lvm:vm-100-disk-0", "none", "cdrom", "/dev/..." */
    char *storage; /* storage id when volume is a volume id, else NULL */
    char *volname; /* part after "storage:", else NULL */
    char *size;    /* "32G" or NULL */
    bool cdrom;    /* media=cdrom (cloud-init drives included) */
    bool cloudinit;
    bool base; /* last '/'-component of volname starts with base- or basevol- */
};
struct qm_kv {
    char *key;
    char *value;
};
struct qm_config {
    struct qm_kv *kv; /* every line, in order; values exactly as printed */
    size_t n_kv;
    struct qm_disk *disks; /* keys ide0-3 scsi0-30 virtio0-15 sata0-5 efidisk0 tpmstate0 */
    size_t n_disks;
    /* Convenience views into kv (NULL when absent): */
    const char *name, *lock, *parent, *hookscript, *tags, *description;
    bool template; /* template: 1 */
    /* Only from qm_parse_conf_file: the linked-clone base VM named by the
     * first drive or unusedN volume that is not a CD-ROM, 0 when none. */
    uint32_t base_vmid;
};
/* Returns 0, or -EBADMSG with *reterr_line set for a line that is not `key: value`
 * (a `key:` with an empty value, as `boot:`, is valid). */
int qm_parse_config(const char *text, size_t len, struct qm_config *ret, unsigned *reterr_line);
void qm_config_release(struct qm_config *cf);
const char *qm_config_get(const struct qm_config *cf, const char *key);
/* The keys whose value differs between a and b, or that only one has, in a's
 * order then b's, comma-separated into buf. When they do not all fit, buf
 * ends after a whole key with " ... and N more". Returns their number. For `qm config` vs `qm
 * config --current`: the pending changes. */
size_t qm_config_diff_keys(const struct qm_config *a, const struct qm_config *b, char *buf,
                           size_t len);
/* ---- /etc/pve/[nodes/<node>/]qemu-server/<vmid>.conf, the raw file ------- */
/* pmxcfs holds no larger file (pve-cluster src/pmxcfs/memdb.h
 * MEMDB_MAX_FILE_SIZE): no VM config Proxmox wrote is longer. */
#define QM_CONF_FILE_MAX (1024 * 1024)
/* The main section of a raw VM config file (pve-interface.md §6.2), read the
 * way qemu-server's parse_vm_config (QemuServer.pm) reads it: blank lines and
 * the description's '#' lines are skipped; the first section header `[...]`
 * ([PENDING], [special:...], a snapshot) ends it; a `key: value` line (key
 * [a-z][a-z_-]*<digits>) sets key to value without the blanks around it, the
 * last one counting when a key repeats; any other line is skipped, as
 * Proxmox skips it with a warning. cut says text is only the start of a
 * longer file: its last line, unless it ends with '\n', is not read. Fills
 * ret as qm_parse_config does, and ret->base_vmid (vmid is the VM the file
 * belongs to). Returns 0 or -ENOMEM. */
int qm_parse_conf_file(const char *text, size_t len, uint32_t vmid, bool cut,
                       struct qm_config *ret);
/* True for the drive keys qm treats as disks (pve-interface.md §3). */
bool qm_is_drive_key(const char *key);
/* Decodes description's %XX escapes into a malloc'd string (NULL on OOM/bad input). */
char *qm_decode_text(const char *s);

/* ---- qm list ----------------------------------------------------------- */
struct qm_list_row {
    uint32_t vmid;
    char *name; /* may contain spaces; split from both ends */
    char *status;
    uint64_t mem_mb;
    double bootdisk_gb;
    uint64_t pid;
};
struct qm_list {
    struct qm_list_row *rows;
    size_t n;
};
/* Empty text is an empty list. Returns -EBADMSG for a row it cannot split. */
int qm_parse_list(const char *text, size_t len, struct qm_list *ret, unsigned *reterr_line);
void qm_list_release(struct qm_list *l);

/* ---- qm clone / template output lines --------------------------------- */
enum qm_line_kind {
    QM_LINE_OTHER = 0,
    QM_LINE_CLONE_START, /* creating a clone of VM <vmid> with ID <newid> */
    QM_LINE_DRIVE,       /* create full|linked clone of drive <drive> (<volid>) */
    QM_LINE_ALLOCATED,   /* allocated target volume '<volid>' */
    QM_LINE_PROGRESS,    /* [<job>: ]transferred X of Y (P%)[ in D][, ready] and the
                            pre-2021 "transferred: N bytes remaining: ..." form */
    QM_LINE_WARNINGS,    /* Task finished with N warning(s)! */
};
struct qm_line {
    enum qm_line_kind kind;
    char drive[32];  /* DRIVE, and PROGRESS of a mirror job ("scsi0") */
    char volid[512]; /* DRIVE: source volid; ALLOCATED: new volid */
    bool linked;     /* DRIVE */
    uint64_t done;   /* PROGRESS: bytes (rendered units converted back) */
    uint64_t total;  /* PROGRESS */
    double percent;  /* PROGRESS */
    unsigned warnings;
};
/* Classifies one line (without its newline). Never fails: unknown is OTHER. */
void qm_parse_line(const char *line, struct qm_line *ret);
/* "1.5 GiB" -> bytes; returns 0 or -EINVAL. */
int qm_parse_size_rendered(const char *s, uint64_t *ret);

/* ---- qm error texts (stderr) ------------------------------------------ */
enum qm_error {
    QM_ERR_NONE = 0,
    QM_ERR_UNKNOWN,         /* non-empty, not recognised */
    QM_ERR_NO_CONFIG,       /* Configuration file '...' does not exist; unable to find ... */
    QM_ERR_LOCKED,          /* VM is locked (<lock>), a lock its task clears */
    QM_ERR_SUSPENDED,       /* VM is locked (suspended): stays until resumed */
    QM_ERR_LOCK_TIMEOUT,    /* can't lock file '...' - got timeout */
    QM_ERR_EXISTS,          /* unable to create VM N: config file already exists; File exists */
    QM_ERR_PARAM,           /* 400 ... */
    QM_ERR_PERMISSION,      /* 403 ...; only root can ...; please run as root */
    QM_ERR_HAS_SNAPSHOTS,   /* unable to create template, because VM contains snapshots */
    QM_ERR_IS_TEMPLATE,     /* you can't convert a template to a template */
    QM_ERR_RUNNING,         /* you can't convert a VM to template if VM is running */
    QM_ERR_NO_SNAPSHOT,     /* snapshot '<s>' does not exist */
    QM_ERR_STORAGE,         /* storage '<id>' does not exist|is disabled|... */
    QM_ERR_FEATURE,         /* (Full|Linked) clone feature is not supported ... */
    QM_ERR_NO_QUORUM,       /* cluster not ready - no quorum?; cfs-lock '<id>' error: no quorum! */
    QM_ERR_NO_POOL,         /* 403 Permission check failed (pool '<p>' does not exist) */
    QM_ERR_CLONE_FAILED,    /* clone failed: ... */
    QM_ERR_UNKNOWN_COMMAND, /* ERROR: unknown command ... */
    _QM_ERR_MAX,
};
/* True for a lock value that no task clears by itself ("suspended": the VM
 * is hibernated), so waiting for it is pointless. */
bool qm_lock_persists(const char *lock);
/* Classifies qm's stderr (all of it). *ret_line, when not NULL, gets a pointer
 * into text at the start of the deciding line (or NULL). */
enum qm_error qm_classify_error(const char *text, const char **ret_line);
/* Classifies a failed task from its stderr and stdout: a worker whose log is
 * on stdout (qm migrate) prints only "migration aborted" on stderr, and the
 * reason on stdout in its "ERROR: migration aborted (duration ...): <why>"
 * line. That line decides when stderr alone is not recognised; *ret_line
 * then points into out. */
enum qm_error qm_classify_task(const char *err, const char *out, const char **ret_line);
const char *qm_error_name(enum qm_error e);

#endif
