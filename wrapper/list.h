/* SPDX-License-Identifier: GPL-3.0-or-later */
/* list: `pvetmpl list`, every template of the cluster. Reads the cluster's
 * .vmlist and each guest's config file under the cluster filesystem, one
 * read per file and no qm process (a cluster of 10 000 guests is listed in
 * a second, where a qm per guest would take an hour).
 *
 * The builder is pure (texts in, rows out) and unit-tested on fixtures;
 * list_load is the I/O around it (node.c's pmxcfs reader); cmd_list_run puts
 * the rows into the report as the array "templates"; list_draw draws that
 * array as a table for a person.
 *
 * Linked clones are found the way pve-storage's volume_is_base_and_used
 * (Storage.pm) finds the users of a base volume: a volume whose name names
 * it as its base (volname.h), on the same storage. Here the volumes are
 * those of the guests' configs (drives and unusedN), not a storage listing:
 * no storage is touched. LVM-thin linked clones carry no base in their
 * names (volname.h) and do not depend on the template's disks there.
 *
 * What no config holds comes from elsewhere, once per listing: when and
 * from which VM each template was made, and its full clones, from the
 * journal's lineage (cmd-audit.c's audit_lineage_load, one pass, handed to
 * the builder in list_opts); whether pvetmpl's hook file is current, from
 * cmd-hook.c's cmd_hook_file_state (one `pvesm path` per hook file). */
#ifndef PVETMPL_LIST_H
#define PVETMPL_LIST_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "conf.h"
#include "err.h"
#include "request.h"
#include "strv.h"
#include "vmlist.h"

struct ctx;
struct audit_edge;

struct list_opts {
    const char *hook_name; /* the config's hook_name: snippets/<it> is pvetmpl's hook */
    bool all;
    /* The journal's lineage (audit_lineage_load), kept by the caller until
     * list_builder_finish; NULL/0 when it could not be read. */
    const struct audit_edge *edges;
    size_t n_edges;
};

struct list_clone {
    uint32_t vmid;
    char *name; /* NULL when the config has none */
    char *node;
    bool linked; /* a disk stands on the template's base disk; else a full
                    clone, from the journal's lineage */
};

enum list_hook {
    LIST_HOOK_NONE = 0, /* no hookscript */
    LIST_HOOK_PVETMPL,  /* <any storage>:snippets/<hook_name> */
    LIST_HOOK_FOREIGN,  /* another hookscript */
};

enum list_created {
    LIST_CREATED_NONE = 0,
    LIST_CREATED_JOURNAL, /* a make-template that succeeded, journalled by root */
    LIST_CREATED_CONFIG,  /* the config's meta: ctime= */
};

struct list_row {
    uint32_t vmid;
    char *name; /* NULL when the config has none */
    char *node;
    struct strv storages; /* of its disks (no CD-ROM), each once, in config order */
    size_t n_disks;
    uint64_t size;    /* bytes, the sum of the disks' size= */
    bool size_known;  /* every disk had a size= that parses */
    char *hookscript; /* as configured, or NULL */
    enum list_hook hook;
    /* "current", "outdated", "missing" (hook status's answer), or NULL.
     * Not in any config: cmd_list_run fills it for pvetmpl's hook, or
     * hook_why (why it is not known). */
    const char *hook_current;
    char *hook_why;
    /* The journal's lineage (make-template succeeded, by root), else the
     * config's meta ctime; 0 when unknown. */
    uint64_t created_us;
    uint32_t created_from; /* journal only */
    enum list_created created_source;
    size_t n_linked;           /* guests with a disk on one of its base disks */
    struct list_clone *clones; /* with opts.all: those guests, by VMID */
    size_t n_clones;
};

struct list_result {
    struct list_row *rows; /* by VMID */
    size_t n;
    size_t n_guests;   /* VM configs read */
    size_t n_vanished; /* in .vmlist, but the config was gone when read */
};

struct list_builder;

/* Pure: collects guests one at a time, so a cluster's configs need not be in
 * memory together. NULL on OOM. */
struct list_builder *list_builder_new(const struct list_opts *o);
/* One VM's config file text (the whole file, or cut: its first bytes). */
int list_builder_add(struct list_builder *b, uint32_t vmid, const char *node, const char *text,
                     size_t len, bool cut);
/* A guest of .vmlist whose config was gone when read. */
void list_builder_vanished(struct list_builder *b);
/* Rows and counts into *ret, and frees b (also on failure). 0 or -ENOMEM. */
int list_builder_finish(struct list_builder *b, struct list_result *ret);
void list_result_release(struct list_result *r);

/* "32G" (a drive's size=) into bytes, as pve-common JSONSchema.pm
 * parse_size reads it. 0, or -EINVAL. */
int list_parse_size(const char *s, uint64_t *ret);

/* The walk over the guests' configs that list_load makes, for any reader:
 * guest is called with each VM's whole config file (ud; its return value < 0
 * means out of memory), vanished for each one whose file was gone (may be
 * NULL). node: only the VMs on that node; NULL: every node. */
struct list_walk {
    int (*guest)(void *ud, uint32_t vmid, const char *node, const char *text, size_t len);
    void (*vanished)(void *ud);
    void *ud;
    const char *node;
};
int list_walk(const struct conf *cf, const struct list_walk *w,
              const volatile sig_atomic_t *interrupt, struct err *e);

/* Bytes as pve-common's format_size writes a size= ("32G"), one decimal
 * when not whole ("33.5G"): the sizes of the tables. */
void list_format_size(char *buf, size_t len, uint64_t v);

/* The I/O: .vmlist, then each qemu guest's config under
 * <pve_dir>/nodes/<node>/qemu-server/<vmid>.conf. A guest whose file is gone
 * was deleted or migrated since .vmlist was read: those are looked up once
 * more in a fresh .vmlist (a migrated one is read on its new node), the rest
 * counted as vanished. Any other unreadable config fails the listing: a
 * linked clone left out would make a template look unused. */
int list_load(const struct conf *cf, const struct list_opts *o,
              const volatile sig_atomic_t *interrupt, struct list_result *ret, struct err *e);

/* list_load's second look at the guests gone in the first pass (gone: their
 * VMIDs, all in old, the .vmlist of that pass): a fresh .vmlist is read and a
 * guest now on another node (migrated meanwhile) is read there; the others
 * are counted as vanished. 0, or -1 with e set. */
int list_load_gone(const struct conf *cf, struct list_builder *b, const struct vmlist *old,
                   const uint32_t *gone, size_t n, const volatile sig_atomic_t *interrupt,
                   struct err *e);

/* The rows as the report's JSON array (documented in README). */
struct json_object *list_rows_json(const struct list_result *r, bool all);

/* `pvetmpl list`: fills c->rep ("templates", "guests", "vanished", msg). */
int cmd_list_run(struct ctx *c, const struct request_list *r, struct err *e);

/* The table a person sees, drawn from the report's "templates" array; each
 * row's "clones" (present with --all) under it. */
void list_draw(FILE *f, struct json_object *templates);

#endif
