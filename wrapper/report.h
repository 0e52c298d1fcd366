/* SPDX-License-Identifier: GPL-3.0-or-later */
/* report: the result of one pvetmpl invocation. Commands fill it; main prints
 * it once at the end: one JSON object on stdout under --json (json-c), or a
 * short human summary. Keys are documented in README ("JSON output"). */
#ifndef PVETMPL_REPORT_H
#define PVETMPL_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct report;

struct report *report_new(const char *action);
void report_free(struct report *r);

void report_set_changed(struct report *r, bool changed);
void report_set_msg(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_set_action(struct report *r, const char *action);
void report_set_vmid(struct report *r, uint32_t vmid); /* the VM acted on / created */
void report_set_source(struct report *r, uint32_t vmid);
void report_set_name(struct report *r, const char *name);
void report_set_storage(struct report *r, const char *storage);
void report_set_dry_run(struct report *r, bool dry_run);
/* Records argv as run (or, in a dry run, as planned). */
void report_add_command(struct report *r, char *const *argv);
void report_add_check(struct report *r, const char *name, bool ok, const char *detail);
void report_add_warning(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report_add_disk(struct report *r, const char *drive, const char *volume, const char *storage,
                     const char *type, bool base);
/* Any other key (e.g. a command's own data); takes ownership of val. */
void report_set(struct report *r, const char *key, struct json_object *val);
/* Forgets the checks recorded so far (a preflight that is run again). */
void report_clear_checks(struct report *r);

/* Finalises rc/failed/error/duration_ms and returns the object (owned by r). */
struct json_object *report_finish(struct report *r, const struct err *e, int rc, long duration_ms);

/* The one serialisation of every --json output (the report, audit's events,
 * the Ansible module's result): json-c's plain one-line form, '/' unescaped,
 * and always valid JSON, whatever bytes a VM name, description, qm line or
 * journal field held. json-c copies a string's bytes through unchecked, so
 * each invalid UTF-8 sequence becomes U+FFFD (see report_utf8_repair).
 * Returns a malloc'd string, or NULL when out of memory. */
char *report_json_text(struct json_object *o);
/* Prints report_json_text(o) and a newline on f. 0, or -1 when out of memory
 * (nothing printed). */
int report_print_json(FILE *f, struct json_object *o);
/* Pure: the len bytes of in with each invalid UTF-8 sequence (a stray
 * continuation byte, C0/C1/F5..FF, an overlong form, a UTF-16 surrogate, a
 * code point above U+10FFFF, a sequence cut short) replaced by U+FFFD, one per
 * maximal subpart, as Unicode 15 section 3.9 recommends (Python's
 * errors="replace" and the WHATWG decoder do the same). Valid UTF-8 is copied
 * unchanged. Returns a malloc'd NUL-terminated string (*ret_len bytes, if
 * ret_len), or NULL when out of memory. */
char *report_utf8_repair(const char *in, size_t len, size_t *ret_len);

#endif
