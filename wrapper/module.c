/* SPDX-License-Identifier: GPL-3.0-or-later */
/* module: the Ansible binary-module front end (see module.h). The checks of
 * the arguments' shape and the messages follow AnsibleModule (ansible-core
 * 2.14, lib/ansible/module_utils/basic.py AnsibleModule.__init__,
 * common/arg_spec.py ArgumentSpecValidator.validate, common/parameters.py,
 * common/validation.py), so a playbook author reads what any module says. */
#include "module.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "fileread.h"
#include "journal.h"
#include "report.h"

/* Ansible's args file holds a few hundred bytes; anything near this is not it. */
#define ARGS_MAX (1024 * 1024)

enum ptype { P_STR, P_INT, P_BOOL };
#define ST_T (1u << MODULE_STATE_TEMPLATE)
#define ST_C (1u << MODULE_STATE_CLONED)
#define ST_V (1u << MODULE_STATE_CONVERTED)
#define ST_ALL (ST_T | ST_C | ST_V)

/* The argument spec, in name order: "Supported parameters include" lists
 * them so, as AnsibleModule sorts them. */
enum pidx {
    P_BWLIMIT,
    P_CONFIG,
    P_DESCRIPTION,
    P_DISK,
    P_FORMAT,
    P_HOOK,
    P_LINKED,
    P_LOCK_WAIT,
    P_NAME,
    P_POOL,
    P_REPLACE_HOOK,
    P_SNAPNAME,
    P_SOURCE,
    P_STATE,
    P_STORAGE,
    P_TARGET,
    P_TIMEOUT,
    P_VMID,
    N_PARAMS,
};
static const struct param {
    const char *name;
    enum ptype type;
    unsigned states;   /* the states that take it */
    bool bool_default; /* P_BOOL: the value that asks for nothing */
} params[N_PARAMS] = {
    [P_BWLIMIT] = {"bwlimit", P_INT, ST_T | ST_C, false},
    [P_CONFIG] = {"config", P_STR, ST_ALL, false},
    [P_DESCRIPTION] = {"description", P_STR, ST_T | ST_C, false},
    [P_DISK] = {"disk", P_STR, ST_V, false},
    [P_FORMAT] = {"format", P_STR, ST_T | ST_C, false},
    [P_HOOK] = {"hook", P_BOOL, ST_T, true},
    [P_LINKED] = {"linked", P_BOOL, ST_C, false},
    [P_LOCK_WAIT] = {"lock_wait", P_INT, ST_ALL, false},
    [P_NAME] = {"name", P_STR, ST_T | ST_C, false},
    [P_POOL] = {"pool", P_STR, ST_T | ST_C, false},
    [P_REPLACE_HOOK] = {"replace_hook", P_BOOL, ST_T, false},
    [P_SNAPNAME] = {"snapname", P_STR, ST_T | ST_C, false},
    [P_SOURCE] = {"source", P_INT, ST_T | ST_C, false},
    [P_STATE] = {"state", P_STR, ST_ALL, false},
    [P_STORAGE] = {"storage", P_STR, ST_T | ST_C, false},
    [P_TARGET] = {"target", P_STR, ST_T | ST_C, false},
    [P_TIMEOUT] = {"timeout", P_INT, ST_ALL, false},
    [P_VMID] = {"vmid", P_INT, ST_ALL, false},
};
_Static_assert(N_PARAMS <= MODULE_MAX_PARAMS, "module_params.num is too small");

static const char *const state_names[] = {
    [MODULE_STATE_TEMPLATE] = "template",
    [MODULE_STATE_CLONED] = "cloned",
    [MODULE_STATE_CONVERTED] = "converted",
};

struct value {
    bool given; /* present and not null (AnsibleModule treats null as not given) */
    const char *s;
    bool b;
};

/* ---- parse -------------------------------------------------------------- */

bool module_invoked(int argc, char **argv)
{
    /* By the word alone, never by looking at the file: under sudo a stat
     * made as root would tell the caller which root-only paths exist. No
     * command or option holds a '/'. */
    return argc == 2 && argv[1][0] != '-' && strchr(argv[1], '/');
}

/* type(value) as Python prints it: what AnsibleModule's messages name. */
static const char *py_type(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return "<class 'bool'>";
    case json_type_double:
        return "<class 'float'>";
    case json_type_int:
        return "<class 'int'>";
    case json_type_object:
        return "<class 'dict'>";
    case json_type_array:
        return "<class 'list'>";
    case json_type_string:
        return "<class 'str'>";
    default:
        return "<class 'NoneType'>";
    }
}

static int type_error(struct err *e, const char *name, struct json_object *v, const char *want,
                      const char *why)
{
    return err_set(e, ERR_USAGE,
                   "argument '%s' is of type %s and we were unable to convert to %s: %s", name,
                   py_type(v), want, why);
}

/* BOOLEANS_TRUE / BOOLEANS_FALSE of module_utils/parsing/convert_bool.py. */
static int to_bool(const char *name, struct json_object *v, bool *ret, struct err *e)
{
    static const char *const yes[] = {"y", "yes", "on", "1", "true", "t"};
    static const char *const no[] = {"n", "no", "off", "0", "false", "f"};
    char why[512];
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        *ret = json_object_get_boolean(v);
        return 0;
    case json_type_int:
    case json_type_double: {
        double d = json_object_get_double(v);
        if (d == 1.0 || d == 0.0) {
            *ret = d == 1.0;
            return 0;
        }
        break;
    }
    case json_type_string: {
        /* lower-cased and stripped, as boolean() normalises */
        const char *s = json_object_get_string(v);
        size_t len = strlen(s);
        while (len && strchr(" \t\n\r\f\v", s[len - 1])) {
            len--;
        }
        while (len && strchr(" \t\n\r\f\v", *s)) {
            s++;
            len--;
        }
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            if (strlen(yes[i]) == len && strncasecmp(s, yes[i], len) == 0) {
                *ret = true;
                return 0;
            }
            if (strlen(no[i]) == len && strncasecmp(s, no[i], len) == 0) {
                *ret = false;
                return 0;
            }
        }
        break;
    }
    default:
        snprintf(why, sizeof(why), "%s cannot be converted to a bool", py_type(v));
        return type_error(e, name, v, "bool", why);
    }
    snprintf(why, sizeof(why),
             "The value '%.200s' is not a valid boolean.  Valid booleans include: 'y', 'yes', "
             "'on', '1', 'true', 't', 1, 1.0, True, 'n', 'no', 'off', '0', 'false', 'f', 0, "
             "0.0, False",
             json_object_get_string(v));
    return type_error(e, name, v, "bool", why);
}

/* Python's int(str): blanks around, a sign, digits with single '_' between. */
static bool python_int_literal(const char *s)
{
    while (*s && strchr(" \t\n\r\f\v", *s)) {
        s++;
    }
    if (*s == '+' || *s == '-') {
        s++;
    }
    if (*s < '0' || *s > '9') {
        return false;
    }
    while ((*s >= '0' && *s <= '9') || (*s == '_' && s[1] >= '0' && s[1] <= '9')) {
        s++;
    }
    while (*s && strchr(" \t\n\r\f\v", *s)) {
        s++;
    }
    return *s == '\0';
}

/* A value as the request's text: strings are kept as given (request_validate
 * judges them, with the CLI's rules and messages); numbers become decimal
 * text in buf. */
static int to_text(const struct param *p, struct json_object *v, char *buf, size_t len,
                   const char **ret, struct err *e)
{
    enum json_type t = json_object_get_type(v);
    if (t == json_type_string) {
        *ret = json_object_get_string(v);
        if (p->type == P_INT && !python_int_literal(*ret)) {
            char why[128];
            snprintf(why, sizeof(why), "%s cannot be converted to an int", py_type(v));
            return type_error(e, p->name, v, "int", why);
        }
        return 0;
    }
    if (t == json_type_int) {
        snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
        *ret = buf;
        return 0;
    }
    if (p->type == P_STR && (t == json_type_double || t == json_type_boolean)) {
        /* check_type_str converts them (str(1.5), str(True)) */
        if (t == json_type_boolean) {
            snprintf(buf, len, "%s", json_object_get_boolean(v) ? "True" : "False");
        } else {
            snprintf(buf, len, "%s", json_object_get_string(v));
        }
        *ret = buf;
        return 0;
    }
    char why[128];
    if (p->type == P_INT) {
        /* a float, a bool, a list or a dict: not an int for pvetmpl (Python
         * would take True as 1; a VMID or a number of seconds is never that) */
        snprintf(why, sizeof(why), "%s cannot be converted to an int", py_type(v));
        return type_error(e, p->name, v, "int", why);
    }
    snprintf(why, sizeof(why), "a %s is not a string", py_type(v));
    return type_error(e, p->name, v, "str", why);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "Unsupported parameters for (pvetmpl) module: a, b. Supported parameters
 * include: ... ." (basic.py AnsibleModule.__init__ around arg_spec.py's
 * "{0}. Supported parameters include: {1}."; both lists sorted) */
static int unsupported(struct json_object *args, struct err *e)
{
    const char *bad[64];
    size_t n = 0, total = 0;
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        bool known = strncmp(key, "_ansible_", 9) == 0;
        for (size_t i = 0; i < N_PARAMS && !known; i++) {
            known = strcmp(key, params[i].name) == 0;
        }
        if (!known) {
            total++;
            if (n < sizeof(bad) / sizeof(bad[0])) {
                bad[n++] = key;
            }
        }
    }
    if (!total) {
        return 0;
    }
    qsort(bad, n, sizeof(bad[0]), cmp_str);
    char list[600] = "", supported[400] = "";
    for (size_t i = 0, off = 0; i < n && off < sizeof(list); i++) {
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", bad[i]);
    }
    for (size_t i = 0, off = 0; i < N_PARAMS && off < sizeof(supported); i++) {
        off += (size_t)snprintf(supported + off, sizeof(supported) - off, "%s%s", i ? ", " : "",
                                params[i].name);
    }
    return err_set(e, ERR_USAGE,
                   "Unsupported parameters for (" MODULE_NAME
                   ") module: %s%s. Supported parameters include: %s.",
                   list, n < total ? ", ..." : "", supported);
}

/* Ansible's own keys: only check mode and diff concern us; the others
 * (_ansible_no_log, _ansible_verbosity, ...: PASS_VARS) are ignored, as
 * AnsibleModule ignores those it does not know. */
static int internal_keys(struct json_object *args, struct module_params *mp, struct err *e)
{
    struct json_object *v;
    if (json_object_object_get_ex(args, "_ansible_check_mode", &v) && v &&
        to_bool("_ansible_check_mode", v, &mp->check_mode, e) < 0) {
        return -1;
    }
    if (json_object_object_get_ex(args, "_ansible_diff", &v) && v &&
        to_bool("_ansible_diff", v, &mp->diff, e) < 0) {
        return -1;
    }
    return 0;
}

static int read_values(struct json_object *args, struct module_params *mp, struct value *val,
                       struct err *e)
{
    for (size_t i = 0; i < N_PARAMS; i++) {
        const struct param *p = &params[i];
        struct json_object *v = NULL;
        val[i] = (struct value){.b = p->bool_default};
        if (!json_object_object_get_ex(args, p->name, &v) || !v) {
            continue;
        }
        val[i].given = true;
        int r = p->type == P_BOOL ? to_bool(p->name, v, &val[i].b, e)
                                  : to_text(p, v, mp->num[i], sizeof(mp->num[i]), &val[i].s, e);
        if (r < 0) {
            return -1;
        }
    }
    return 0;
}

/* The state's choices, then what it requires, then what it does not take. */
static int check_state(const struct value *val, struct module_params *mp, struct err *e)
{
    const char *st = val[P_STATE].given ? val[P_STATE].s : "template";
    size_t k;
    for (k = 0; k < sizeof(state_names) / sizeof(state_names[0]); k++) {
        if (strcmp(st, state_names[k]) == 0) {
            break;
        }
    }
    if (k == sizeof(state_names) / sizeof(state_names[0])) {
        return err_set(e, ERR_USAGE,
                       "value of state must be one of: template, cloned, converted, got: %.200s",
                       st);
    }
    mp->state = (enum module_state)k;
    if (mp->state != MODULE_STATE_CONVERTED && !val[P_SOURCE].given) {
        return err_set(e, ERR_USAGE, "state is %s but all of the following are missing: source",
                       st);
    }
    /* Never ignored silently: a parameter the state's command has no place
     * for is refused by name (a bool at its default asks for nothing). */
    char list[400] = "";
    for (size_t i = 0, off = 0; i < N_PARAMS && off < sizeof(list); i++) {
        const struct param *p = &params[i];
        bool asks = val[i].given && (p->type != P_BOOL || val[i].b != p->bool_default);
        if (asks && !(p->states & (1u << mp->state))) {
            off +=
                (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", p->name);
        }
    }
    if (*list) {
        return err_set(e, ERR_USAGE, "state is %s, which does not take: %s", st, list);
    }
    return 0;
}

/* invocation.module_args: each parameter as the module used it (AnsibleModule
 * returns its validated params: numbers as numbers, defaults filled). */
static int build_module_args(const struct value *val, struct module_params *mp)
{
    struct json_object *o = json_object_new_object();
    if (!o) {
        return -1;
    }
    for (size_t i = 0; i < N_PARAMS; i++) {
        const struct param *p = &params[i];
        struct json_object *v = NULL;
        if (p->type == P_BOOL) {
            v = json_object_new_boolean(val[i].b);
        } else if (i == P_STATE) {
            v = json_object_new_string(state_names[mp->state]);
        } else if (val[i].given) {
            char *end;
            errno = 0;
            long long n = strtoll(val[i].s, &end, 10);
            v = p->type == P_INT && !errno && *val[i].s && !*end ? json_object_new_int64(n)
                                                                 : json_object_new_string(val[i].s);
        }
        json_object_object_add(o, p->name, v);
    }
    mp->module_args = o;
    return 0;
}

static void to_request(const struct value *val, const struct module_params *mp, struct request *r)
{
    memset(r, 0, sizeof(*r));
    r->g.config = val[P_CONFIG].s;
    r->g.timeout = val[P_TIMEOUT].s;
    r->g.lock_wait = val[P_LOCK_WAIT].s;
    r->g.json = true; /* every message goes into the report */
    r->g.no_progress = true;
    r->g.dry_run = mp->check_mode;
    if (mp->state == MODULE_STATE_CONVERTED) {
        r->cmd = REQ_TEMPLATE;
        r->u.tmpl.vmid = val[P_VMID].s;
        r->u.tmpl.disk = val[P_DISK].s;
        return;
    }
    struct request_clone *c = &r->u.clone;
    r->cmd = mp->state == MODULE_STATE_TEMPLATE ? REQ_MAKE_TEMPLATE : REQ_CLONE;
    c->src = val[P_SOURCE].s;
    c->newid = val[P_VMID].s;
    c->name = val[P_NAME].s;
    c->storage = val[P_STORAGE].s;
    c->format = val[P_FORMAT].s;
    c->pool = val[P_POOL].s;
    c->target = val[P_TARGET].s;
    c->description = val[P_DESCRIPTION].s;
    c->bwlimit = val[P_BWLIMIT].s;
    c->snapname = val[P_SNAPNAME].s;
    c->no_hook = mp->state == MODULE_STATE_TEMPLATE && !val[P_HOOK].b;
    c->replace_hook = val[P_REPLACE_HOOK].b;
    c->linked = val[P_LINKED].b;
}

int module_parse(struct json_object *args, struct module_params *mp, struct request *r,
                 struct err *e)
{
    struct value val[N_PARAMS];
    memset(mp, 0, sizeof(*mp));
    memset(r, 0, sizeof(*r));
    if (!json_object_is_type(args, json_type_object)) {
        return err_set(e, ERR_USAGE, "the module arguments are not a JSON object");
    }
    /* AnsibleModule's order: unsupported keys, required, types, choices,
     * required_if; its own keys are read first (check mode must hold even
     * for a task that fails). */
    if (internal_keys(args, mp, e) < 0 || unsupported(args, e) < 0) {
        return -1;
    }
    struct json_object *v;
    if (!json_object_object_get_ex(args, "vmid", &v) || !v) {
        return err_set(e, ERR_USAGE, "missing required arguments: vmid");
    }
    if (read_values(args, mp, val, e) < 0 || check_state(val, mp, e) < 0 ||
        build_module_args(val, mp) < 0) {
        if (e->cls == ERR_OK) {
            err_set(e, ERR_INTERNAL, "out of memory");
        }
        return -1;
    }
    to_request(val, mp, r);
    return 0;
}

void module_params_release(struct module_params *mp)
{
    json_object_put(mp->module_args);
    mp->module_args = NULL;
}

/* ---- result ------------------------------------------------------------- */

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    json_object_object_get_ex(o, key, &v);
    return v;
}

static size_t array_len(struct json_object *o, const char *key)
{
    struct json_object *a = get(o, key);
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The target VMID as given, when it is a plain number (the report has none
 * when the run stopped before naming it). */
static struct json_object *given_vmid(const struct request *r)
{
    const char *s = r->cmd == REQ_TEMPLATE ? r->u.tmpl.vmid : r->u.clone.newid;
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18) {
        return NULL;
    }
    return json_object_new_int64(strtoll(s, NULL, 10));
}

/* The target VM as the diff shows it: its VMID, whether it is a template,
 * its name and storage, and its disks' drive names when the run read them
 * (a dry run cannot know the copy's disks: left out rather than shown empty). */
static struct json_object *vm_state(const struct request *r, struct json_object *rep,
                                    struct json_object *vmid, bool is_template)
{
    struct json_object *o = json_object_new_object(), *disks = get(rep, "disks");
    json_object_object_add(o, "vmid", json_object_get(vmid));
    json_object_object_add(o, "state", json_object_new_string("present"));
    json_object_object_add(o, "template", json_object_new_boolean(is_template));
    const char *name = json_object_get_string(get(rep, "name"));
    if (!name && r->cmd != REQ_TEMPLATE) {
        name = r->u.clone.name;
    }
    json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
    json_object_object_add(o, "storage", json_object_get(get(rep, "storage")));
    if (array_len(rep, "disks")) {
        struct json_object *drives = json_object_new_array();
        for (size_t i = 0; i < array_len(rep, "disks"); i++) {
            json_object_array_add(
                drives, json_object_get(get(json_object_array_get_idx(disks, i), "drive")));
        }
        json_object_object_add(o, "disks", drives);
    }
    return o;
}

/* before: absent (a VM that make-template/clone creates) or what exists;
 * after: the VM the run leaves (or would leave). */
static struct json_object *diff(const struct module_params *mp, const struct request *r,
                                struct json_object *rep, struct json_object *vmid, bool changed)
{
    bool tmpl = mp->state != MODULE_STATE_CLONED;
    struct json_object *d = json_object_new_object();
    struct json_object *after = vm_state(r, rep, vmid, tmpl), *before;
    if (!changed) {
        before = json_object_get(after);
    } else if (mp->state == MODULE_STATE_CONVERTED) {
        before = vm_state(r, rep, vmid, false);
    } else {
        before = json_object_new_object();
        json_object_object_add(before, "vmid", json_object_get(vmid));
        json_object_object_add(before, "state", json_object_new_string("absent"));
    }
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "VM %s", vmid ? json_object_get_string(vmid) : "?");
    json_object_object_add(d, "before_header", json_object_new_string(hdr));
    json_object_object_add(d, "after_header", json_object_new_string(hdr));
    json_object_object_add(d, "before", before);
    json_object_object_add(d, "after", after);
    return d;
}

struct json_object *module_result(const struct module_params *mp, const struct request *r,
                                  struct json_object *rep, const struct err *e)
{
    struct json_object *o = json_object_new_object();
    if (!o) {
        return NULL;
    }
    json_object_object_foreach(rep, key, val)
    {
        json_object_object_add(o, key, json_object_get(val));
    }
    bool ok = !e || e->cls == ERR_OK;
    struct json_object *vmid = get(o, "vmid");
    if (!vmid) {
        vmid = given_vmid(r);
        json_object_object_add(o, "vmid", vmid);
    }
    bool changed = json_object_get_boolean(get(o, "changed"));
    if (mp->check_mode) {
        /* the dry run changed nothing; its plan says whether a real run would */
        changed = ok && array_len(o, "commands") > 0;
        json_object_object_add(o, "changed", json_object_new_boolean(changed));
    }
    /* a lock or a busy queue: the same task may succeed later (`until:`) */
    json_object_object_add(o, "retryable", json_object_new_boolean(e && e->cls == ERR_BUSY));
    if (mp->diff && ok) {
        json_object_object_add(o, "diff", diff(mp, r, o, vmid, changed));
    }
    struct json_object *inv = json_object_new_object();
    json_object_object_add(inv, "module_args",
                           mp->module_args ? json_object_get(mp->module_args) : NULL);
    json_object_object_add(o, "invocation", inv);
    return o;
}

/* ---- main --------------------------------------------------------------- */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct json_object *read_args(const char *path, const struct request_caller *who,
                                     struct err *e)
{
    char *buf = NULL;
    size_t len = 0;
    bool cut = false;
    struct stat st;
    int k = fileread_regular(path, ARGS_MAX, &buf, &len, &cut, &st);
    /* Read as root: a delegated caller (sudo) gets only a file of its own
     * read, and is told nothing else about any other path, so a root-only
     * file is neither shown nor confirmed to exist. */
    if (who->delegated && (k < 0 || st.st_uid != who->uid)) {
        free(buf);
        err_set(e, ERR_PERMISSION,
                "under sudo the module reads only an arguments file of your own (uid %u)",
                (unsigned)who->uid);
        return NULL;
    }
    if (k < 0) {
        err_set(e, ERR_USAGE, "cannot read the module arguments '%s': %s", path, strerror(-k));
        return NULL;
    }
    struct json_object *o = NULL;
    enum json_tokener_error je = json_tokener_error_parse_eof;
    struct json_tokener *tok = json_tokener_new();
    if (tok && !cut) {
        o = json_tokener_parse_ex(tok, buf, (int)len);
        je = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        if (je == json_tokener_success && end < len && buf[end + strspn(buf + end, " \t\r\n")]) {
            je = json_tokener_error_parse_unexpected; /* junk after the object */
        }
    }
    if (!o || je != json_tokener_success) {
        err_set(e, ERR_USAGE, "the module arguments '%s' are not one JSON object: %s", path,
                cut                           ? "too large"
                : je == json_tokener_continue ? "empty, or cut short"
                                              : json_tokener_error_desc(je));
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    free(buf);
    return o;
}

int module_main(int argc, char **argv, const volatile sig_atomic_t *interrupt)
{
    long t0 = now_ms();
    struct err e = {ERR_OK, ""};
    struct module_params mp = {0};
    struct request r = {0};
    char user[256];
    struct request_caller who;
    struct ctx c = {.interrupt = interrupt, .json = true};
    (void)argc;

    journal_set_frontend("ansible");
    c.rep = report_new(NULL);
    if (!c.rep) {
        fputs("{\"failed\": true, \"msg\": \"out of memory\", \"rc\": 70}\n", stdout);
        return 1;
    }
    /* Who asks comes first: the environment is rebuilt and the args file
     * read with the caller's rights in mind. */
    request_caller_init(&who, "ansible", user, sizeof(user));
    struct json_object *args = read_args(argv[1], &who, &e);
    if (args && module_parse(args, &mp, &r, &e) == 0) {
        report_set_dry_run(c.rep, mp.check_mode);
        if (request_execute(&c, &r, &who, &e) == 0) {
            e.cls = ERR_OK;
        }
    } else {
        request_refused(&r, &who, &e); /* journalled when who is delegated */
    }
    int rc = err_exit_code(e.cls);
    struct json_object *rep = report_finish(c.rep, &e, rc, now_ms() - t0);
    struct json_object *res = module_result(&mp, &r, rep, &e);
    bool failed = e.cls != ERR_OK;
    if (res) {
        report_print_json(stdout, res); /* valid UTF-8 whatever the VM's fields hold */
    } else {
        fputs("{\"failed\": true, \"msg\": \"out of memory\", \"rc\": 70}\n", stdout);
        failed = true;
    }
    json_object_put(res);
    request_release(&r);
    request_ctx_release(&c);
    report_free(c.rep);
    module_params_release(&mp);
    json_object_put(args);
    return failed ? 1 : 0;
}
