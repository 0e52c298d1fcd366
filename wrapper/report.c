/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report {
    struct json_object *o;
};

/* OOM inside json-c leaves a key missing; the caller cannot do better, and the
 * final print reports what exists, so these helpers ignore allocation errors. */
static void put(struct report *r, const char *key, struct json_object *v)
{
    json_object_object_add(r->o, key, v);
}

struct report *report_new(const char *action)
{
    struct report *r = calloc(1, sizeof(*r));
    if (!r || !(r->o = json_object_new_object())) {
        free(r);
        return NULL;
    }
    put(r, "changed", json_object_new_boolean(0));
    put(r, "failed", json_object_new_boolean(0));
    put(r, "msg", json_object_new_string(""));
    put(r, "rc", json_object_new_int(0));
    put(r, "action", action ? json_object_new_string(action) : NULL);
    put(r, "vmid", NULL);
    put(r, "source", NULL);
    put(r, "name", NULL);
    put(r, "storage", NULL);
    put(r, "dry_run", json_object_new_boolean(0));
    put(r, "commands", json_object_new_array());
    put(r, "disks", json_object_new_array());
    put(r, "checks", json_object_new_array());
    put(r, "warnings", json_object_new_array());
    put(r, "duration_ms", json_object_new_int(0));
    return r;
}

void report_free(struct report *r)
{
    if (r) {
        json_object_put(r->o);
        free(r);
    }
}

void report_set_changed(struct report *r, bool changed)
{
    put(r, "changed", json_object_new_boolean(changed));
}

void report_set_msg(struct report *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    put(r, "msg", json_object_new_string(buf));
}

void report_set_action(struct report *r, const char *action)
{
    put(r, "action", json_object_new_string(action));
}

void report_set_vmid(struct report *r, uint32_t vmid)
{
    put(r, "vmid", json_object_new_int64(vmid));
}

void report_set_source(struct report *r, uint32_t vmid)
{
    put(r, "source", json_object_new_int64(vmid));
}

void report_set_name(struct report *r, const char *name)
{
    put(r, "name", name ? json_object_new_string(name) : NULL);
}

void report_set_storage(struct report *r, const char *storage)
{
    put(r, "storage", storage ? json_object_new_string(storage) : NULL);
}

void report_set_dry_run(struct report *r, bool dry_run)
{
    put(r, "dry_run", json_object_new_boolean(dry_run));
}

static struct json_object *array(struct report *r, const char *key)
{
    struct json_object *a = NULL;
    json_object_object_get_ex(r->o, key, &a);
    return a;
}

void report_add_command(struct report *r, char *const *argv)
{
    struct json_object *a = json_object_new_array();
    for (; a && *argv; argv++) {
        json_object_array_add(a, json_object_new_string(*argv));
    }
    json_object_array_add(array(r, "commands"), a);
}

void report_add_check(struct report *r, const char *name, bool ok, const char *detail)
{
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "name", json_object_new_string(name));
    json_object_object_add(c, "ok", json_object_new_boolean(ok));
    json_object_object_add(c, "detail", json_object_new_string(detail ? detail : ""));
    json_object_array_add(array(r, "checks"), c);
}

void report_add_warning(struct report *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_object_array_add(array(r, "warnings"), json_object_new_string(buf));
}

void report_add_disk(struct report *r, const char *drive, const char *volume, const char *storage,
                     const char *type, bool base)
{
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "drive", json_object_new_string(drive));
    json_object_object_add(d, "volume", volume ? json_object_new_string(volume) : NULL);
    json_object_object_add(d, "storage", storage ? json_object_new_string(storage) : NULL);
    json_object_object_add(d, "type", type ? json_object_new_string(type) : NULL);
    json_object_object_add(d, "base", json_object_new_boolean(base));
    json_object_array_add(array(r, "disks"), d);
}

void report_set(struct report *r, const char *key, struct json_object *val)
{
    put(r, key, val);
}

void report_clear_checks(struct report *r)
{
    put(r, "checks", json_object_new_array());
}

struct json_object *report_finish(struct report *r, const struct err *e, int rc, long duration_ms)
{
    bool failed = e && e->cls != ERR_OK;
    put(r, "failed", json_object_new_boolean(failed));
    put(r, "rc", json_object_new_int(rc));
    put(r, "duration_ms", json_object_new_int64(duration_ms));
    if (failed) {
        struct json_object *eo = json_object_new_object();
        json_object_object_add(eo, "class", json_object_new_string(err_class_name(e->cls)));
        json_object_object_add(eo, "detail", json_object_new_string(e->detail));
        put(r, "error", eo);
        struct json_object *m;
        if (json_object_object_get_ex(r->o, "msg", &m) && !*json_object_get_string(m)) {
            put(r, "msg", json_object_new_string(e->detail));
        }
    }
    return r->o;
}

/* The second byte's range after lead byte b (Unicode Table 3-7), and how
 * many continuation bytes follow the lead; 0 for a byte that starts nothing. */
static int utf8_lead(unsigned char b, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        return 1;
    }
    if (b >= 0xE0 && b <= 0xEF) {
        *lo = b == 0xE0 ? 0xA0 : 0x80; /* E0 80..9F: overlong */
        *hi = b == 0xED ? 0x9F : 0xBF; /* ED A0..BF: surrogates */
        return 2;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        *lo = b == 0xF0 ? 0x90 : 0x80; /* F0 80..8F: overlong */
        *hi = b == 0xF4 ? 0x8F : 0xBF; /* F4 90..: above U+10FFFF */
        return 3;
    }
    return 0; /* ASCII is handled by the caller; 80..C1 and F5..FF are never valid */
}

char *report_utf8_repair(const char *in, size_t len, size_t *ret_len)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    /* at worst each byte becomes three */
    char *out = len <= (SIZE_MAX - 1) / 3 ? malloc(len * 3 + 1) : NULL;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    if (!out) {
        return NULL;
    }
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            out[o++] = (char)s[i++];
            continue;
        }
        unsigned char lo, hi;
        int need = utf8_lead(s[i], &lo, &hi);
        int got = 0; /* continuation bytes that fit the sequence so far */
        while (got < need && i + 1 + (size_t)got < len) {
            unsigned char b = s[i + 1 + (size_t)got];
            if (got == 0 ? b < lo || b > hi : b < 0x80 || b > 0xBF) {
                break;
            }
            got++;
        }
        if (need > 0 && got == need) {
            memcpy(out + o, s + i, (size_t)need + 1);
            o += (size_t)need + 1;
        } else {
            /* the maximal subpart: the lead and what fitted, one U+FFFD */
            memcpy(out + o, fffd, 3);
            o += 3;
        }
        i += 1 + (size_t)got;
    }
    out[o] = '\0';
    if (ret_len) {
        *ret_len = o;
    }
    return out;
}

char *report_json_text(struct json_object *o)
{
    const char *t =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    /* JSON's syntax is ASCII: a byte above 0x7F in json-c's text is inside a
     * string (a key or a value), where U+FFFD is as good a character as any. */
    return t ? report_utf8_repair(t, strlen(t), NULL) : NULL;
}

int report_print_json(FILE *f, struct json_object *o)
{
    char *t = report_json_text(o);
    if (!t) {
        return -1;
    }
    fprintf(f, "%s\n", t);
    free(t);
    return 0;
}
