/* SPDX-License-Identifier: GPL-3.0-or-later */
/* policy: the sudo delegation policy. Decides whether the caller behind a
 * run (sudo's SUDO_USER, or the login user) may have a validated request,
 * from the 'grant' sections of pvetmpl.conf (conf.h, pvetmpl.conf(5)).
 *
 * Root keeps full use. Any other caller needs one grant that names it (by
 * user or by group) and allows every part of the request; grants do not add
 * up. What a grant does not mention it does not allow: an empty list or a
 * false flag allows nothing. policy_decide is pure; policy_caller_groups
 * asks the system for the groups it needs. */
#ifndef PVETMPL_POLICY_H
#define PVETMPL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"
#include "request.h"
#include "strv.h"

/* The part of a request a denial is about, in the order the checks run
 * (a later one means the grant came closer to allowing the request). */
enum policy_field {
    POLICY_FIELD_NONE = 0,      /* allowed */
    POLICY_FIELD_CONFIG,        /* -c/--config: never for a delegated run */
    POLICY_FIELD_TIMEOUT,       /* --timeout longer than the config's */
    POLICY_FIELD_LOCK_WAIT,     /* --lock-wait longer than the config's */
    POLICY_FIELD_CALLER,        /* no grant names the caller */
    POLICY_FIELD_ACTION,        /* actions */
    POLICY_FIELD_SOURCE_VMID,   /* source_vmids */
    POLICY_FIELD_TARGET_VMID,   /* target_vmids */
    POLICY_FIELD_STORAGE,       /* storages, allow_same_storage */
    POLICY_FIELD_POOL,          /* pools */
    POLICY_FIELD_NAME,          /* names */
    POLICY_FIELD_FORMAT,        /* formats */
    POLICY_FIELD_TARGET,        /* target_nodes */
    POLICY_FIELD_LINKED,        /* allow_linked */
    POLICY_FIELD_REPLACE_HOOK,  /* allow_replace_hook */
    POLICY_FIELD_NO_HOOK,       /* allow_no_hook */
    POLICY_FIELD_DESCRIPTION,   /* allow_description */
    POLICY_FIELD_BWLIMIT,       /* allow_bwlimit */
    POLICY_FIELD_SNAPNAME,      /* allow_snapname */
    POLICY_FIELD_DISK,          /* allow_disk */
    POLICY_FIELD_HOOK_STORAGE,  /* hook_storages */
    POLICY_FIELD_JOURNAL_FILES, /* allow_journal_files */
    _POLICY_FIELD_MAX,
};

struct policy_decision {
    bool allowed;
    /* Allowed: the grant that allowed it, or NULL when root needed none.
     * Denied: the grant that came closest, or NULL when none names the
     * caller or the refusal needs no grant (config, timeout, lock-wait).
     * Points into the conf. */
    const char *grant;
    enum policy_field field; /* denied: what no grant allowed */
    /* One line: allowed: "grant 'ops'" or "root"; denied: why, naming the
     * caller, the value refused, the closest grant and what it allows. */
    char reason[1024];
};

/* Whether caller (in groups, n_groups names) may have the validated request
 * r under conf's grants; fills *ret. Pure: reads nothing but its arguments.
 * Requests that ask for help or for nothing are allowed and denied as the
 * rules above say. */
void policy_decide(const struct conf *conf, const struct request *r,
                   const struct request_caller *caller, const char *const *groups, size_t n_groups,
                   struct policy_decision *ret);

/* The key a denial is about, as the config spells it ("target_vmids",
 * "allow_linked", "caller", "config"...), for the journal and for tests. */
const char *policy_field_name(enum policy_field f);

/* The names of user's groups (its primary group first), from the system's
 * user and group databases. An unknown user has none. 0, or -1 with e set
 * (ERR_INTERNAL). ret is empty (STRV_INIT) on entry. */
int policy_caller_groups(const char *user, struct strv *ret, struct err *e);

#endif
