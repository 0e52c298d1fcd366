/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf: the libconfuse schema of pvetmpl.conf, copied into a plain struct.
 * No other module sees a cfg_t. Every key has a working default. */
#ifndef PVETMPL_CONF_H
#define PVETMPL_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "strv.h"

#define CONF_DEFAULT_PATH PVETMPL_SYSCONFDIR "/pvetmpl/pvetmpl.conf"

/* One 'grant NAME { ... }' section: what the callers it names may ask of
 * pvetmpl through sudo (policy.c decides; pvetmpl.conf(5) says what each
 * key means). Lists hold the values as written, each checked at load; an
 * empty list or a false flag allows nothing. */
struct conf_grant {
    char *name;
    struct strv users, groups; /* the sudo caller's user name, or one of its groups */
    unsigned actions;          /* bit (1u << enum action_grant) per action allowed */
    struct strv source_vmids;  /* VMIDs or ranges "A-B" a request may read from */
    struct strv target_vmids;  /* VMIDs or ranges a request may create or change */
    struct strv storages;      /* --storage of make-template, clone, check; "*": any */
    struct strv pools;         /* --pool; "*": any */
    struct strv names;         /* fnmatch(3) patterns for --name, no flags */
    struct strv formats;       /* --format: raw, qcow2, vmdk */
    struct strv target_nodes;  /* --target; "*": any */
    struct strv hook_storages; /* --storage of hook install/remove/status; "*": any */
    bool allow_linked;         /* clone --linked */
    bool allow_replace_hook;   /* --replace-hook */
    bool allow_no_hook;        /* make-template --no-hook */
    bool allow_same_storage;   /* make-template/clone without --storage */
    bool allow_description;    /* --description */
    bool allow_bwlimit;        /* --bwlimit */
    bool allow_snapname;       /* --snapname */
    bool allow_disk;           /* template --disk */
    bool allow_journal_files;  /* audit -D/--file */
};

struct conf {
    char *qm;                /* absolute path, default /usr/sbin/qm */
    char *pvesm;             /* absolute path, default /usr/sbin/pvesm */
    char *vmlist;            /* default /etc/pve/.vmlist */
    char *pve_dir;           /* default /etc/pve: where the hook reads its VM's config */
    char *node;              /* local node name; default (empty): uname's nodename */
    char *run_dir;           /* our own lock files; default /run/pvetmpl */
    long timeout;            /* seconds for one qm operation; 0 = none */
    long lock_retries;       /* retries of "VM is locked"/"got timeout"; default 5 */
    long lock_retry_max;     /* seconds of retrying at most; default 300 */
    long copies_per_storage; /* concurrent copies onto one storage; default 1 */
    /* where a VMID is chosen when make-template / clone get no NEWID
     * (inclusive); template: default 9000-9999; clone: 0-0 (unset) means
     * datacenter.cfg's next-id range, else Proxmox's 100-999999 */
    uint32_t template_newid_first, template_newid_last;
    uint32_t clone_newid_first, clone_newid_last;
    struct strv template_types; /* extra (third-party) storage types allowed to hold templates */
    bool hook;                  /* make-template registers the hookscript; default true */
    char *hook_storage;         /* default "local" */
    char *hook_binary;          /* default PVETMPL_LIBEXECDIR "/pvetmpl-hook" */
    char *hook_name;            /* file name under snippets/, default "pvetmpl-hook" */
    /* pre-start policy of the hook (off when both are empty) */
    struct strv hook_refuse_vmids; /* VMIDs or ranges "100-199" */
    struct strv hook_refuse_tags;
    /* the sudo delegation policy, in file order */
    struct conf_grant *grants;
    size_t n_grants;
};

/* Loads path. A missing file is not an error when it is the default path
 * (must_exist false): the defaults apply. Errors are ERR_CONFIG with the
 * file, line and problem in e->detail. */
int conf_load_file(const char *path, bool must_exist, struct conf *ret, struct err *e);
int conf_load_string(const char *text, struct conf *ret, struct err *e);
void conf_release(struct conf *c);

/* The configuration pvetmpl-hook applies, found by the one lookup rule the
 * hook and `pvetmpl hook status` share: "<hook_path>.conf" when it exists,
 * else CONF_DEFAULT_PATH. Never the environment: the caller of `qm start`
 * must not choose the policy. The side file is passed over for the default
 * path when it is no regular file, or when it fails the ownership rule of
 * conf_load_file (root's, writable by its owner only) and configures no
 * policy; failing that rule with a policy in it, it fails closed. */
struct conf_hook {
    struct conf conf; /* the file's; the defaults when it is missing or unusable */
    char *path;       /* the file chosen */
    bool found;       /* it exists (a missing default file means the defaults) */
    char *skipped;    /* why "<hook_path>.conf" was passed over, or NULL */
    char *error;      /* why path could not be used, or NULL */
    /* error, and the file may configure a refusal policy: it evidently does
     * (see mentions_policy in conf.c), or it exists and cannot be read */
    bool fail_closed;
};

/* Fills *ret. A config that cannot be used is no failure here (error and
 * fail_closed say so); only ERR_INTERNAL (out of memory) returns -1. */
int conf_hook_load(const char *hook_path, struct conf_hook *ret, struct err *e);
void conf_hook_release(struct conf_hook *h);

#endif
