/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf: the libconfuse schema of pvetmpl.conf, copied into a plain struct.
 * No other module sees a cfg_t. Every key has a working default. */
#ifndef PVETMPL_CONF_H
#define PVETMPL_CONF_H

#include <stdbool.h>

#include "err.h"
#include "strv.h"

#define CONF_DEFAULT_PATH PVETMPL_SYSCONFDIR "/pvetmpl/pvetmpl.conf"

struct conf {
    char *qm;                   /* absolute path, default /usr/sbin/qm */
    char *pvesm;                /* absolute path, default /usr/sbin/pvesm */
    char *vmlist;               /* default /etc/pve/.vmlist */
    char *pve_dir;              /* default /etc/pve: where the hook reads its VM's config */
    char *node;                 /* local node name; default (empty): uname's nodename */
    char *run_dir;              /* our own lock files; default /run/pvetmpl */
    long timeout;               /* seconds for one qm operation; 0 = none */
    long lock_retries;          /* retries of "VM is locked"/"got timeout"; default 5 */
    long lock_retry_max;        /* seconds of retrying at most; default 300 */
    long copies_per_storage;    /* concurrent copies onto one storage; default 1 */
    struct strv template_types; /* extra (third-party) storage types allowed to hold templates */
    bool hook;                  /* make-template registers the hookscript; default true */
    char *hook_storage;         /* default "local" */
    char *hook_binary;          /* default PVETMPL_LIBEXECDIR "/pvetmpl-hook" */
    char *hook_name;            /* file name under snippets/, default "pvetmpl-hook" */
    /* pre-start policy of the hook (off when both are empty) */
    struct strv hook_refuse_vmids; /* VMIDs or ranges "100-199" */
    struct strv hook_refuse_tags;
};

/* Loads path. A missing file is not an error when it is the default path
 * (must_exist false): the defaults apply. Errors are ERR_CONFIG with the
 * file, line and problem in e->detail. */
int conf_load_file(const char *path, bool must_exist, struct conf *ret, struct err *e);
int conf_load_string(const char *text, struct conf *ret, struct err *e);
void conf_release(struct conf *c);

#endif
