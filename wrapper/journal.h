/* SPDX-License-Identifier: GPL-3.0-or-later */
/* journal: pvetmpl's structured records in the systemd journal. One table of
 * stable MESSAGE_IDs (shared with the hook and conf/pvetmpl.catalog), the
 * audit events of state-changing actions, and the pure helpers `pvetmpl
 * audit` needs (time specs). Field reference: README "Journal".
 *
 * Usage from a command (one call per event; a failed send is never fatal,
 * it only means the record is missing, so callers turn it into a warning):
 *
 *     struct journal_event ev = {.action = "clone", .vmid = newid,
 *                                .source_vmid = src, .name = name, .storage = sid};
 *     if (c->dry_run) {             // journal_dry_run_failed() when it stopped on an error
 *         if (journal_dry_run(&ev, planned_argv_text, &je) < 0)
 *             cmd_warn(c, "%s", je.detail);
 *         return 0;
 *     }
 *     if (journal_begin(&ev, &je) < 0)        // "started", remembers the start time
 *         cmd_warn(c, "%s", je.detail);
 *     int r = do_the_clone(..., e);
 *     if (journal_end(&ev, r < 0 ? e : NULL, &je) < 0)  // "succeeded" or "failed"
 *         cmd_warn(c, "%s", je.detail);
 *
 * A preflight that stops the action before anything ran is journal_refused(). */
#ifndef PVETMPL_JOURNAL_H
#define PVETMPL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "err.h"
#include "strv.h"

#define JOURNAL_IDENT "pvetmpl"           /* SYSLOG_IDENTIFIER of the wrapper's events */
#define JOURNAL_HOOK_IDENT "pvetmpl-hook" /* SYSLOG_IDENTIFIER of the hook's events */
/* journald's native socket (systemd's JOURNAL_NATIVE_PROTOCOL.md). */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
/* The longest one journal write may block (a stalled journald, a full socket
 * queue). Under the hook's own HOOK_TIMEOUT_SEC, so the hook still warns. */
#define JOURNAL_SEND_TIMEOUT_MS 3000
#define JOURNAL_MAX_FIELDS 64

/* Every message type pvetmpl writes. The ids never change once released. */
enum journal_msg {
    JOURNAL_MSG_HOOK_PRE_START,
    JOURNAL_MSG_HOOK_POST_START,
    JOURNAL_MSG_HOOK_PRE_STOP,
    JOURNAL_MSG_HOOK_POST_STOP,
    JOURNAL_MSG_HOOK_REFUSED, /* the pre-start policy refused the start */
    JOURNAL_MSG_HOOK_INVALID, /* unknown phase or bad arguments: ignored */
    JOURNAL_MSG_ACTION_STARTED,
    JOURNAL_MSG_ACTION_SUCCEEDED,
    JOURNAL_MSG_ACTION_FAILED,
    JOURNAL_MSG_ACTION_REFUSED, /* a preflight check stopped it before anything changed */
    JOURNAL_MSG_ACTION_DRY_RUN,
    JOURNAL_MSG_ACTION_DENIED, /* a delegated caller's request refused before anything ran */
    _JOURNAL_MSG_MAX,
    _JOURNAL_MSG_INVALID = -1,
};

struct journal_msg_info {
    const char *id;   /* 32 lower-case hex digits */
    const char *name; /* short stable name, e.g. "hook-pre-start", "action-failed" */
    int priority;     /* syslog priority used for it */
};
const struct journal_msg_info *journal_msg_info(enum journal_msg m);
/* The message a MESSAGE_ID value names, or _JOURNAL_MSG_INVALID. */
enum journal_msg journal_msg_from_id(const char *id);

/* The hookscript phases qemu-server calls (pve-interface.md §7). */
enum journal_phase {
    JOURNAL_PHASE_PRE_START,
    JOURNAL_PHASE_POST_START,
    JOURNAL_PHASE_PRE_STOP,
    JOURNAL_PHASE_POST_STOP,
    _JOURNAL_PHASE_MAX,
    _JOURNAL_PHASE_INVALID = -1,
};
enum journal_phase journal_phase_from_string(const char *s);
const char *journal_phase_to_string(enum journal_phase p);
enum journal_msg journal_phase_msg(enum journal_phase p);

/* Results of an audited action, in PVETMPL_RESULT spelling. */
enum journal_result {
    JOURNAL_STARTED,
    JOURNAL_SUCCEEDED,
    JOURNAL_FAILED,
    JOURNAL_REFUSED,
    JOURNAL_DRY_RUN,
    JOURNAL_DENIED,
    _JOURNAL_RESULT_MAX,
};
const char *journal_result_to_string(enum journal_result r); /* "started", ..., "denied" */
enum journal_msg journal_result_msg(enum journal_result r);

/* One audited action. The caller owns the strings; zero/NULL members are left
 * out of the entry. */
struct journal_event {
    const char
        *action;   /* PVETMPL_ACTION: "make-template", "clone", "template", "hook-install", ... */
    uint32_t vmid; /* PVETMPL_VMID: the VM acted on or created */
    uint32_t source_vmid; /* PVETMPL_SOURCE_VMID: the VM it was made from */
    const char *name;     /* PVETMPL_NAME */
    const char *storage;  /* PVETMPL_STORAGE */
    const char *volid;    /* PVETMPL_VOLID, e.g. the hookscript volume */
    struct timespec t0;   /* set by journal_begin (CLOCK_MONOTONIC); zero = no duration */
};

/* Sends "started" and records the start time in ev->t0. */
int journal_begin(struct journal_event *ev, struct err *e);
/* Sends "succeeded" (why == NULL) or "failed" with why's class as PVETMPL_EXIT
 * (its exit code) and why->detail as PVETMPL_ERROR; with the duration since
 * journal_begin. */
int journal_end(const struct journal_event *ev, const struct err *why, struct err *e);
/* Sends "refused": a preflight check stopped the action before any change. */
int journal_refused(const struct journal_event *ev, const struct err *why, struct err *e);
/* Sends "dry-run" for a dry run that planned its whole way (PVETMPL_EXIT=0);
 * plan (may be NULL), the planned command line, goes into PVETMPL_PLAN. */
int journal_dry_run(const struct journal_event *ev, const char *plan, struct err *e);
/* Sends "dry-run" for a dry run that stopped on why (a check refused it, or
 * a query failed): nothing was about to run, so a dry run is never recorded
 * as "refused" or "failed"; its outcome is why's exit code (PVETMPL_EXIT) and
 * detail (PVETMPL_ERROR). */
int journal_dry_run_failed(const struct journal_event *ev, const struct err *why, struct err *e);

/* Sends "denied": the sudo policy (or the rules of a delegated run) refused
 * the request of the caller before anything ran. grant: the grant that came
 * closest (PVETMPL_POLICY, may be NULL); field: the part of the request no
 * grant allowed (PVETMPL_POLICY_FIELD, may be NULL); why: who, what and
 * which rule (PVETMPL_ERROR, its class's exit code PVETMPL_EXIT); request:
 * the request as text (PVETMPL_REQUEST, may be NULL). */
int journal_denied(const struct journal_event *ev, const char *grant, const char *field,
                   const char *request, const struct err *why, struct err *e);

/* The run's context, recorded in every later action entry of the process:
 * user (PVETMPL_USER; NULL: as it was, at first journal_user's answer) and
 * grant, the sudo grant that allowed the run (PVETMPL_POLICY; NULL: none).
 * Copied. */
void journal_set_context(const char *user, const char *grant);

/* Builds the entry's "KEY=value" fields (MESSAGE, MESSAGE_ID, PRIORITY,
 * SYSLOG_IDENTIFIER and the PVETMPL_* ones). Pure; exit_code < 0, duration_ms
 * < 0 and NULL strings are left out. Returns 0 or -ENOMEM (ret released). */
int journal_event_fields(const struct journal_event *ev, enum journal_result r, int exit_code,
                         long duration_ms, const char *error, const char *user, struct strv *ret);

/* PVETMPL_USER: under sudo (real uid 0 and $SUDO_UID set: anyone else could
 * set it) the name of $SUDO_UID's user (or "uid:N"), never $SUDO_USER; else
 * the login user (loginuid), else the name of the real uid, else "uid:N".
 * Self-declared: readers trust _UID/_AUDIT_LOGINUID. Never fails. */
void journal_user(char *buf, size_t len);
/* The uid of the caller behind the run: $SUDO_UID when the real uid is 0
 * and it is set (a plain decimal below 2^32 - 1), else the real uid.
 * *via_sudo (may be NULL) says which. Pure but for getuid and getenv. */
uid_t journal_caller_uid(bool *via_sudo);

/* PVETMPL_FRONTEND of every later action record: "cli" (the default) or
 * "ansible"; the front end sets it once, first thing. frontend must live
 * until the process ends (a string literal). */
void journal_set_frontend(const char *frontend);

/* 0 when JOURNAL_SOCKET is a socket, else -1 with e (ERR_PRECONDITION). */
int journal_check_socket(struct err *e);
/* Checks the socket and sends one entry of at most JOURNAL_MAX_FIELDS
 * "KEY=value" fields (values may hold newlines); no allocation of its own
 * (the hook uses it). Never blocks longer than JOURNAL_SEND_TIMEOUT_MS, and
 * once a write timed out the later ones of the process do not wait at all: a
 * stalled journald costs a run one bound, then each write fails at once.
 * Returns 0 or -1 with e (ERR_TIMEOUT when journald did not take it). */
int journal_sendv(const struct iovec *iov, int n, struct err *e);

/* Parses a journalctl-style time spec into microseconds since the epoch:
 * "YYYY-MM-DD[ HH:MM[:SS]]" (also with 'T'), "HH:MM[:SS]" (today), "@EPOCH",
 * "now", "today", "yesterday", "tomorrow", and relative "-1h", "+30min",
 * "2d ago", "-1h 30min" (units us ms s sec m min h hour d day w week M month
 * y year, plurals too). Local time, as journalctl. Pure given now_usec.
 * Returns 0 or -EINVAL. */
int journal_parse_time(const char *s, uint64_t now_usec, uint64_t *ret_usec);

/* The base VM of a linked clone's disk volume of VM vmid: N for exactly the
 * shapes Proxmox creates, "STORAGE:base-N-disk-M/vm-VMID-..." (block
 * storages) and "STORAGE:N/base-N-disk-M.FMT/VMID/vm-VMID-....FMT" (file
 * storages, FMT raw, qcow2 or vmdk), as volname_parse reads them. Returns 0
 * for anything else (full clones, ISO images, another VM's volume), so a
 * look-alike name never invents a lineage. */
uint32_t journal_base_vmid(const char *volume, uint32_t vmid);

#endif
