/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hookreg: registering the pvetmpl hookscript on VMs. hook_register lives in
 * cmd-hook.c (next to `pvetmpl hook install`, which it shares code with);
 * the pure volid helpers live in hookreg.c, so unit tests can link them
 * without the command layer. The argv builders are qmargv's. */
#ifndef PVETMPL_HOOKREG_H
#define PVETMPL_HOOKREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "strv.h"

struct ctx;

/* For make-template (which checks conf->hook and --no-hook itself, and calls
 * this before converting, so clones inherit the key): makes sure the hook binary is in place on the
 * configured hook_storage (same checks and atomic write as `hook install`)
 * and sets it as the VM's hookscript unless it already is. Honours
 * c->dry_run, adds the commands to c->rep and writes the journal events
 * (action "hook-install"). Returns 0 or -1 with e set. */
int hook_register(struct ctx *c, uint32_t vmid, struct err *e);

/* "<storage>:snippets/<name>" into buf. Returns 0, or -ENAMETOOLONG. */
int hook_volid(const char *storage, const char *name, char *buf, size_t len);
/* True when volid is "<any storage>:snippets/<name>". */
bool hook_volid_is_ours(const char *volid, const char *name);

#endif
