/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf: pvetmpl.conf through libconfuse. Every value is checked as it is
 * parsed (libconfuse value callbacks), so a bad value is reported with its
 * file and line; the result is copied into struct conf and the cfg_t freed.
 * Not thread-safe: libconfuse's lexer is global state anyway, and we swap
 * the process environment while parsing (see parse()). */
#include "conf.h"

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "fileread.h"
#include "validate.h"

extern char **environ;

/* Larger than any sane config; the limit keeps a wrong path from making us
 * read a huge file. */
#define CONF_MAX_SIZE (1024 * 1024)
/* mentions_policy reads this much of a config that did not load: beyond
 * it, a file is taken to configure a policy. */
#define CONF_POLICY_SCAN_MAX (16 * 1024 * 1024)
/* Counts stay within an int, which is what callers compare them with. */
#define CONF_COUNT_MAX INT_MAX
/* slot.c holds one lock file open per copy slot and stops at 64: say so
 * here rather than let a larger value be cut silently. */
#define CONF_COPIES_MAX 64

/* The load in progress. libconfuse's error callback carries no user pointer;
 * loads never nest, so one slot is enough. Only the first error is kept:
 * it is the specific one, later ones are consequences. */
static struct {
    struct err *e;
    bool failed;
} current;

static void on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    char text[768];
    if (!current.e || current.failed) {
        return;
    }
    current.failed = true;
    vsnprintf(text, sizeof(text), fmt, ap);
    /* libconfuse may quote a token with a newline in it: keep one line. */
    for (char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    if (cfg && cfg->filename && cfg->line) {
        err_set(current.e, ERR_CONFIG, "%s:%d: %s", cfg->filename, cfg->line, text);
    } else if (cfg && cfg->filename) {
        err_set(current.e, ERR_CONFIG, "%s: %s", cfg->filename, text);
    } else {
        err_set(current.e, ERR_CONFIG, "%s", text);
    }
}

/* ---- value callbacks: check one value, report through cfg_error ---- */

typedef int (*check_fn)(const char *s, char *msg, size_t msglen);

static int check_str(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result, check_fn fn)
{
    char msg[512];
    if (fn(value, msg, sizeof(msg)) < 0) {
        cfg_error(cfg, "option '%s': %s", opt->name, msg);
        return -1;
    }
    *(const char **)result = value;
    return 0;
}

static int cb_path(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, validate_absolute_path);
}

static int cb_file_name(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, validate_file_name);
}

static int cb_storage_id(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, validate_storage_id);
}

static int cb_storage_type(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, validate_storage_type);
}

static int cb_tag(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, validate_tag);
}

/* Empty means "ask uname", so it is allowed here. */
static int node_or_empty(const char *s, char *msg, size_t msglen)
{
    return s[0] ? validate_node_name(s, msg, msglen) : 0;
}

static int cb_node(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, node_or_empty);
}

static int vmid_range(const char *s, char *msg, size_t msglen)
{
    uint32_t first, last;
    return validate_vmid_range(s, &first, &last, msg, msglen);
}

static int cb_vmid_range(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, vmid_range);
}

/* Empty means "Proxmox's own next-id range" (clone_newid_range). */
static int vmid_range_or_empty(const char *s, char *msg, size_t msglen)
{
    return s[0] ? vmid_range(s, msg, msglen) : 0;
}

static int cb_vmid_range_or_empty(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, vmid_range_or_empty);
}

/* Our own integer parsing: libconfuse's accepts signs, hex and octal, and
 * tests a stale errno for overflow. */
static int check_int(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result, uint64_t min,
                     uint64_t max)
{
    char msg[512];
    uint64_t v;
    if (validate_number("value", value, min, max, &v, msg, sizeof(msg)) < 0) {
        cfg_error(cfg, "option '%s': %s", opt->name, msg);
        return -1;
    }
    *(long *)result = (long)v;
    return 0;
}

static int cb_seconds(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    /* Callers turn seconds into milliseconds in a long. */
    return check_int(cfg, opt, value, result, 0, LONG_MAX / 1000);
}

static int cb_count(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_int(cfg, opt, value, result, 0, CONF_COUNT_MAX);
}

static int cb_copies(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_int(cfg, opt, value, result, 1, CONF_COPIES_MAX);
}

/* ---- the grant sections ---- */

/* A grant action: one of action.c's table, the list spelled out from it. */
static int action(const char *s, char *msg, size_t msglen)
{
    if (action_grant_from_name(s) != ACTION_GRANT_MAX) {
        return 0;
    }
    char q[VALIDATE_QUOTE_SIZE];
    FILE *f = fmemopen(msg, msglen, "w");
    if (!f) {
        snprintf(msg, msglen, "unknown action");
        return -EINVAL;
    }
    fprintf(f, "unknown action '%s': one of", validate_quote(s, q));
    for (int a = 0; a < ACTION_GRANT_MAX; a++) {
        fprintf(f, "%s %s", a ? "," : "", action_grant_name((enum action_grant)a));
    }
    fclose(f);
    msg[msglen - 1] = '\0'; /* a full buffer has no room for fmemopen's NUL */
    return -EINVAL;
}

static int cb_action(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, action);
}

/* A user or group name as sudo reports it: what useradd accepts, plus '@'
 * (directory users) and a final '$' (machine accounts). */
static int account(const char *s, char *msg, size_t msglen)
{
    size_t n = strlen(s);
    size_t ok = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@");
    char q[VALIDATE_QUOTE_SIZE];
    if (n == 0 || n > 256 || s[0] == '-' || (ok != n && !(ok == n - 1 && s[ok] == '$'))) {
        snprintf(msg, msglen,
                 "invalid user or group name '%s': letters, digits, '.', '_', '-', '@' and a "
                 "final '$', not starting with '-', at most 256",
                 validate_quote(s, q));
        return -EINVAL;
    }
    return 0;
}

static int cb_account(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, account);
}

static int storage_or_any(const char *s, char *msg, size_t msglen)
{
    return strcmp(s, "*") == 0 ? 0 : validate_storage_id(s, msg, msglen);
}

static int cb_storage_or_any(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, storage_or_any);
}

static int pool_or_any(const char *s, char *msg, size_t msglen)
{
    return strcmp(s, "*") == 0 ? 0 : validate_pool_id(s, msg, msglen);
}

static int cb_pool_or_any(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, pool_or_any);
}

static int node_or_any(const char *s, char *msg, size_t msglen)
{
    return strcmp(s, "*") == 0 ? 0 : validate_node_name(s, msg, msglen);
}

static int cb_node_or_any(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, node_or_any);
}

static int cb_format(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, validate_format);
}

/* A VM name pattern: the characters of a VM name (dns-name) and fnmatch's
 * own, so a pattern that can never match (an '_', a space) is refused. */
static int name_pattern(const char *s, char *msg, size_t msglen)
{
    size_t n = strlen(s);
    char q[VALIDATE_QUOTE_SIZE];
    if (n == 0 || n > 128 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*?[]!^\\") !=
            n) {
        snprintf(msg, msglen,
                 "invalid name pattern '%s': VM names have letters, digits, '-' and '.'; a "
                 "pattern adds '*', '?', '[...]' and '\\' (at most 128 characters)",
                 validate_quote(s, q));
        return -EINVAL;
    }
    return 0;
}

static int cb_name_pattern(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    return check_str(cfg, opt, value, result, name_pattern);
}

/* What each action needs besides the action itself to ever allow a request:
 * a grant without it is a mistake, said at load rather than found out by a
 * denial. */
static const struct {
    enum action_grant action;
    bool source, target; /* needs source_vmids / target_vmids */
} action_needs[] = {
    {ACTION_GRANT_MAKE_TEMPLATE, true, true}, {ACTION_GRANT_CLONE, true, true},
    {ACTION_GRANT_TEMPLATE, false, true},     {ACTION_GRANT_CHECK, true, false},
    {ACTION_GRANT_HOOK_INSTALL, false, true}, {ACTION_GRANT_HOOK_REMOVE, false, true},
};

static bool grant_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 64 && isalnum((unsigned char)s[0]) &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Checks a whole grant once its closing brace is read (libconfuse reports
 * the line of that brace). */
static int cb_grant(cfg_t *cfg, cfg_opt_t *opt)
{
    cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
    const char *name = sec ? cfg_title(sec) : NULL;
    if (!sec) {
        return -1;
    }
    if (!grant_name_ok(name)) {
        char q[VALIDATE_QUOTE_SIZE];
        cfg_error(cfg,
                  "grant '%s' (ending on this line): invalid name: letters, digits, '.', '_' "
                  "and '-', starting with a letter or digit, at most 64",
                  validate_quote(name ? name : "", q));
        return -1;
    }
    if (cfg_size(sec, "users") == 0 && cfg_size(sec, "groups") == 0) {
        cfg_error(cfg, "grant '%s' (ending on this line) names no caller: set users or groups",
                  name);
        return -1;
    }
    if (cfg_size(sec, "actions") == 0) {
        cfg_error(cfg, "grant '%s' (ending on this line) allows no action: set actions", name);
        return -1;
    }
    for (unsigned i = 0; i < cfg_size(sec, "actions"); i++) {
        enum action_grant a = action_grant_from_name(cfg_getnstr(sec, "actions", i));
        for (size_t k = 0; k < sizeof(action_needs) / sizeof(action_needs[0]); k++) {
            const char *need = NULL;
            if (action_needs[k].action != a) {
                continue;
            }
            if (action_needs[k].source && cfg_size(sec, "source_vmids") == 0) {
                need = "source_vmids";
            } else if (action_needs[k].target && cfg_size(sec, "target_vmids") == 0) {
                need = "target_vmids";
            }
            if (need) {
                cfg_error(cfg,
                          "grant '%s' (ending on this line) allows %s but sets no %s: it could "
                          "never allow one",
                          name, action_grant_name(a), need);
                return -1;
            }
        }
    }
    return 0;
}

static cfg_opt_t grant_opts[] = {
    CFG_STR_LIST_CB("users", NULL, CFGF_NONE, cb_account),
    CFG_STR_LIST_CB("groups", NULL, CFGF_NONE, cb_account),
    CFG_STR_LIST_CB("actions", NULL, CFGF_NONE, cb_action),
    CFG_STR_LIST_CB("source_vmids", NULL, CFGF_NONE, cb_vmid_range),
    CFG_STR_LIST_CB("target_vmids", NULL, CFGF_NONE, cb_vmid_range),
    CFG_STR_LIST_CB("storages", NULL, CFGF_NONE, cb_storage_or_any),
    CFG_STR_LIST_CB("pools", NULL, CFGF_NONE, cb_pool_or_any),
    CFG_STR_LIST_CB("names", NULL, CFGF_NONE, cb_name_pattern),
    CFG_STR_LIST_CB("formats", NULL, CFGF_NONE, cb_format),
    CFG_STR_LIST_CB("target_nodes", NULL, CFGF_NONE, cb_node_or_any),
    CFG_STR_LIST_CB("hook_storages", NULL, CFGF_NONE, cb_storage_or_any),
    CFG_BOOL("allow_linked", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_replace_hook", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_no_hook", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_same_storage", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_description", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_bwlimit", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_snapname", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_disk", cfg_false, CFGF_NONE),
    CFG_BOOL("allow_journal_files", cfg_false, CFGF_NONE),
    CFG_END(),
};

/* The schema. Defaults here and in conf.h and conf/pvetmpl.conf agree. */
static cfg_opt_t opts[] = {
    CFG_STR_CB("qm", "/usr/sbin/qm", CFGF_NONE, cb_path),
    CFG_STR_CB("pvesm", "/usr/sbin/pvesm", CFGF_NONE, cb_path),
    CFG_STR_CB("vmlist", "/etc/pve/.vmlist", CFGF_NONE, cb_path),
    CFG_STR_CB("pve_dir", "/etc/pve", CFGF_NONE, cb_path),
    CFG_STR_CB("node", "", CFGF_NONE, cb_node),
    CFG_STR_CB("run_dir", "/run/pvetmpl", CFGF_NONE, cb_path),
    CFG_INT_CB("timeout", 0, CFGF_NONE, cb_seconds),
    CFG_INT_CB("lock_retries", 5, CFGF_NONE, cb_count),
    CFG_INT_CB("lock_retry_max", 300, CFGF_NONE, cb_seconds),
    CFG_INT_CB("copies_per_storage", 1, CFGF_NONE, cb_copies),
    CFG_STR_CB("template_newid_range", "9000-9999", CFGF_NONE, cb_vmid_range),
    CFG_STR_CB("clone_newid_range", "", CFGF_NONE, cb_vmid_range_or_empty),
    CFG_STR_LIST_CB("template_types", NULL, CFGF_NONE, cb_storage_type),
    CFG_BOOL("hook", cfg_true, CFGF_NONE),
    CFG_STR_CB("hook_storage", "local", CFGF_NONE, cb_storage_id),
    CFG_STR_CB("hook_binary", PVETMPL_LIBEXECDIR "/pvetmpl-hook", CFGF_NONE, cb_path),
    CFG_STR_CB("hook_name", "pvetmpl-hook", CFGF_NONE, cb_file_name),
    CFG_STR_LIST_CB("hook_refuse_vmids", NULL, CFGF_NONE, cb_vmid_range),
    CFG_STR_LIST_CB("hook_refuse_tags", NULL, CFGF_NONE, cb_tag),
    CFG_SEC("grant", grant_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
    CFG_END(),
};

/* ---- copying out of the cfg_t ---- */

static int copy_str(cfg_t *cfg, const char *key, char **dst)
{
    const char *v = cfg_getstr(cfg, key);
    *dst = strdup(v ? v : "");
    return *dst ? 0 : -ENOMEM;
}

static int copy_list(cfg_t *cfg, const char *key, struct strv *dst)
{
    unsigned n = cfg_size(cfg, key);
    for (unsigned i = 0; i < n; i++) {
        int r = strv_push(dst, cfg_getnstr(cfg, key, i));
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int copy_grant(cfg_t *sec, struct conf_grant *g)
{
    static const struct {
        const char *key;
        size_t off;
    } lists[] = {
        {"users", offsetof(struct conf_grant, users)},
        {"groups", offsetof(struct conf_grant, groups)},
        {"source_vmids", offsetof(struct conf_grant, source_vmids)},
        {"target_vmids", offsetof(struct conf_grant, target_vmids)},
        {"storages", offsetof(struct conf_grant, storages)},
        {"pools", offsetof(struct conf_grant, pools)},
        {"names", offsetof(struct conf_grant, names)},
        {"formats", offsetof(struct conf_grant, formats)},
        {"target_nodes", offsetof(struct conf_grant, target_nodes)},
        {"hook_storages", offsetof(struct conf_grant, hook_storages)},
    };
    static const struct {
        const char *key;
        size_t off;
    } flags[] = {
        {"allow_linked", offsetof(struct conf_grant, allow_linked)},
        {"allow_replace_hook", offsetof(struct conf_grant, allow_replace_hook)},
        {"allow_no_hook", offsetof(struct conf_grant, allow_no_hook)},
        {"allow_same_storage", offsetof(struct conf_grant, allow_same_storage)},
        {"allow_description", offsetof(struct conf_grant, allow_description)},
        {"allow_bwlimit", offsetof(struct conf_grant, allow_bwlimit)},
        {"allow_snapname", offsetof(struct conf_grant, allow_snapname)},
        {"allow_disk", offsetof(struct conf_grant, allow_disk)},
        {"allow_journal_files", offsetof(struct conf_grant, allow_journal_files)},
    };
    if (!(g->name = strdup(cfg_title(sec)))) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (copy_list(sec, lists[i].key, (struct strv *)((char *)g + lists[i].off)) < 0) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        *(bool *)((char *)g + flags[i].off) = cfg_getbool(sec, flags[i].key) == cfg_true;
    }
    for (unsigned i = 0; i < cfg_size(sec, "actions"); i++) {
        g->actions |= 1u << action_grant_from_name(cfg_getnstr(sec, "actions", i));
    }
    return 0;
}

static int copy_grants(cfg_t *cfg, struct conf *c)
{
    unsigned n = cfg_size(cfg, "grant");
    if (n == 0) {
        return 0;
    }
    if (!(c->grants = calloc(n, sizeof(*c->grants)))) {
        return -ENOMEM;
    }
    c->n_grants = n;
    for (unsigned i = 0; i < n; i++) {
        if (copy_grant(cfg_getnsec(cfg, "grant", i), &c->grants[i]) < 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

static int copy_out(cfg_t *cfg, struct conf *c)
{
    c->timeout = cfg_getint(cfg, "timeout");
    c->lock_retries = cfg_getint(cfg, "lock_retries");
    c->lock_retry_max = cfg_getint(cfg, "lock_retry_max");
    c->copies_per_storage = cfg_getint(cfg, "copies_per_storage");
    c->hook = cfg_getbool(cfg, "hook") == cfg_true;
    /* checked by their callbacks: these parse */
    char msg[256];
    validate_vmid_range(cfg_getstr(cfg, "template_newid_range"), &c->template_newid_first,
                        &c->template_newid_last, msg, sizeof(msg));
    const char *cr = cfg_getstr(cfg, "clone_newid_range");
    if (cr && *cr) {
        validate_vmid_range(cr, &c->clone_newid_first, &c->clone_newid_last, msg, sizeof(msg));
    }
    if (copy_str(cfg, "qm", &c->qm) < 0 || copy_str(cfg, "pvesm", &c->pvesm) < 0 ||
        copy_str(cfg, "vmlist", &c->vmlist) < 0 || copy_str(cfg, "pve_dir", &c->pve_dir) < 0 ||
        copy_str(cfg, "node", &c->node) < 0 || copy_str(cfg, "run_dir", &c->run_dir) < 0 ||
        copy_str(cfg, "hook_storage", &c->hook_storage) < 0 ||
        copy_str(cfg, "hook_binary", &c->hook_binary) < 0 ||
        copy_str(cfg, "hook_name", &c->hook_name) < 0 ||
        copy_list(cfg, "template_types", &c->template_types) < 0 ||
        copy_list(cfg, "hook_refuse_vmids", &c->hook_refuse_vmids) < 0 ||
        copy_list(cfg, "hook_refuse_tags", &c->hook_refuse_tags) < 0 || copy_grants(cfg, c) < 0) {
        return -ENOMEM;
    }
    return 0;
}

/* ---- reading the text ---- */

/* Whether the digits after a backslash in a double-quoted string make
 * libconfuse's lexer fail: it takes the longest match of \\[0-7]{1,3} (an
 * octal escape, an error past \\377) and \\[0-9]+ (always an error). */
static bool bad_escape(const char *d)
{
    size_t run = strspn(d, "0123456789"), oct = strspn(d, "01234567");
    unsigned v = 0;
    if (!run) {
        return false;
    }
    oct = oct > 3 ? 3 : oct;
    if (run > oct) {
        return true;
    }
    for (size_t i = 0; i < oct; i++) {
        v = v * 8 + (unsigned)(d[i] - '0');
    }
    return v > 0xFF;
}

/* A scan of the raw text before libconfuse sees it, for two of its flaws:
 *  - libconfuse 3.3 (Debian 12) counts each '#' or '//' comment line three
 *    times and each block comment one line too many, so its line numbers
 *    would be wrong in any commented file, ours above all. The scan blanks
 *    comments (keeping newlines), which the lexer then never sees.
 *  - Its lexer replaces ${VAR} and ${VAR:-default}, unquoted or in double
 *    quotes, with getenv()'s answer; no flag turns that off, and the values
 *    reach us already expanded. This file names programs that root runs, so
 *    the caller's environment must not reach into it: the scan refuses "${"
 *    outside single quotes, naming the line, rather than let it turn into
 *    something the admin did not write. (parse() also hides the
 *    environment, in case the scan and the lexer ever disagree.)
 *  - Its lexer eats a '*' outside quotes without a word: names = {tmpl-*}
 *    would read as "tmpl-", storages = {"a", *} as {"a"}. The scan refuses
 *    it, naming the line.
 * Unterminated strings and comments are reported here too: the lexer ends
 * on them silently and stays in its string state for the next parse; so are
 * the numeric escapes its lexer fails on mid-string (same trouble), and a
 * UTF-8 byte order mark, which would become part of the first key.
 * The scan always runs to the end, so every comment is blanked even after an
 * error; *whole (when not NULL) tells whether the lexer could read the text
 * to its end (no unterminated string or comment, no bad escape): what
 * mentions_policy needs to know.
 * The rules mirror libconfuse's lexer.l: '#' starts a comment anywhere
 * outside quotes, '//' and '/' '*' only where no unquoted word is under way;
 * in either kind of string a backslash takes the next character along. */
static int prescan(char *t, const char *label, struct err *e, bool *whole)
{
    enum { NORMAL, DQ, SQ, LINE_COMMENT, BLOCK_COMMENT } st = NORMAL;
    unsigned line = 1, opened = 1, dollar = 0, escape = 0, star = 0;
    bool in_word = false;
    bool bom = strncmp(t, "\xEF\xBB\xBF", 3) == 0; /* stops at a shorter text's NUL */
    for (char *p = t; *p; p++) {
        char c = p[0], n = p[1];
        switch (st) {
        case NORMAL:
            if (c == '"' || c == '\'') {
                st = c == '"' ? DQ : SQ;
                opened = line;
            } else if (c == '#' || (!in_word && c == '/' && (n == '/' || n == '*'))) {
                st = c == '/' && n == '*' ? BLOCK_COMMENT : LINE_COMMENT;
                opened = line;
                *p = ' ';
                if (st == BLOCK_COMMENT) {
                    *++p = ' ';
                }
                continue;
            } else if (c == '$' && n == '{' && !dollar) {
                dollar = line;
            } else if (c == '*' && !star) {
                star = line;
            }
            in_word = !strchr(" #\"'\t\n\r={}()+,*", c);
            break;
        case DQ:
        case SQ:
            if (c == '\\' && n) {
                if (st == DQ && !escape && bad_escape(p + 1)) {
                    escape = line;
                }
                line += n == '\n';
                p++;
            } else if (c == (st == DQ ? '"' : '\'')) {
                st = NORMAL;
                in_word = false;
            } else if (st == DQ && c == '$' && n == '{' && !dollar) {
                dollar = line;
            }
            break;
        case LINE_COMMENT:
            if (c == '\n') {
                st = NORMAL;
                in_word = false;
            } else {
                *p = ' ';
            }
            break;
        case BLOCK_COMMENT:
            if (c == '*' && n == '/') {
                st = NORMAL;
                in_word = false;
                *p++ = ' ';
                *p = ' ';
            } else if (c != '\n') {
                *p = ' ';
            }
            break;
        }
        line += c == '\n';
    }
    if (whole) {
        *whole = st != DQ && st != SQ && st != BLOCK_COMMENT && !escape;
    }
    if (bom) {
        return err_set(e, ERR_CONFIG,
                       "%s:1: starts with a UTF-8 byte order mark: save the file without one",
                       label);
    }
    if (dollar) {
        return err_set(e, ERR_CONFIG,
                       "%s:%u: '${' is not allowed here: environment variables are not expanded "
                       "(put a literal '${' in single quotes)",
                       label, dollar);
    }
    if (escape) {
        return err_set(e, ERR_CONFIG,
                       "%s:%u: bad escape in a string: a backslash and digits must be an octal "
                       "escape of at most 3 digits from \\0 to \\377",
                       label, escape);
    }
    if (star) {
        return err_set(e, ERR_CONFIG,
                       "%s:%u: '*' outside quotes is not allowed: libconfuse would drop it without "
                       "a word (write \"tmpl-*\" or \"*\" in quotes)",
                       label, star);
    }
    if (st == DQ || st == SQ) {
        return err_set(e, ERR_CONFIG, "%s:%u: unterminated string", label, opened);
    }
    if (st == BLOCK_COMMENT) {
        return err_set(e, ERR_CONFIG, "%s:%u: unterminated comment", label, opened);
    }
    return 0;
}

/* Parses with an empty environment, then puts the pointer back untouched,
 * so ${VAR} could never expand to anything from the caller. */
static int parse(cfg_t *cfg, FILE *fp)
{
    static char *no_env[] = {NULL};
    char **saved = environ;
    environ = no_env;
    int r = cfg_parse_fp(cfg, fp);
    environ = saved;
    return r;
}

/* Parses text (which the scan modifies) into *ret; on failure *ret is left
 * alone. Empty text gives the defaults. */
static int load(char *text, const char *label, struct conf *ret, struct err *e)
{
    struct conf c = {0};
    FILE *fp = NULL;
    int r = -1;
    if (prescan(text, label, e, NULL) < 0) {
        return -1;
    }
    cfg_t *cfg = cfg_init(opts, CFGF_NONE);
    if (!cfg) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    current.e = e;
    current.failed = false;
    cfg_set_error_function(cfg, on_cfg_error);
    cfg_set_validate_func(cfg, "grant", cb_grant);
    /* cfg_parse_fp names its input "FILE" unless told; messages want the path. */
    free(cfg->filename);
    cfg->filename = strdup(label);
    if (!cfg->filename) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* fmemopen refuses a zero-length buffer on older glibc; nothing to parse anyway. */
    if (text[0]) {
        fp = fmemopen(text, strlen(text), "r");
        if (!fp) {
            err_set(e, ERR_INTERNAL, "cannot read '%s': %s", label, strerror(errno));
            goto out;
        }
        if (parse(cfg, fp) != CFG_SUCCESS) {
            if (!current.failed) {
                err_set(e, ERR_CONFIG, "%s: syntax error", label);
            }
            goto out;
        }
    }
    if (copy_out(cfg, &c) < 0) {
        conf_release(&c);
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    *ret = c;
    r = 0;
out:
    if (fp) {
        fclose(fp);
    }
    current.e = NULL;
    cfg_free(cfg);
    return r;
}

int conf_load_string(const char *text, struct conf *ret, struct err *e)
{
    char *copy = strdup(text);
    if (!copy) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int r = load(copy, "<string>", ret, e);
    free(copy);
    return r;
}

/* The file names programs root runs and decides which VMs start: it must be
 * root's (or ours, when we are not root: then root runs nothing from it) and
 * writable by its owner only. The one rule for the wrapper's and the hook's
 * config files. */
static int check_file(const char *path, const struct stat *st, struct err *e)
{
    if (!S_ISREG(st->st_mode)) {
        return err_set(e, ERR_CONFIG, "'%s' is not a regular file", path);
    }
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        return err_set(e, ERR_CONFIG, "'%s' is owned by uid %u, not by root or us: refusing it",
                       path, (unsigned)st->st_uid);
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        return err_set(e, ERR_CONFIG, "'%s' is writable by %s: refusing it", path,
                       st->st_mode & S_IWOTH ? "everyone" : "its group");
    }
    return 0;
}

/* The checks of a file read whole (up to CONF_POLICY_SCAN_MAX), then the
 * load; text is modified. */
static int load_read(const char *path, char *text, size_t len, bool cut, const struct stat *st,
                     struct conf *ret, struct err *e)
{
    if (check_file(path, st, e) < 0) {
        return -1;
    }
    if (cut || len > CONF_MAX_SIZE) {
        return err_set(e, ERR_CONFIG, "'%s' is larger than %d bytes", path, CONF_MAX_SIZE);
    }
    if (strlen(text) != len) {
        /* The lexer would stop at it without a word. */
        return err_set(e, ERR_CONFIG, "'%s' contains a NUL byte", path);
    }
    return load(text, path, ret, e);
}

/* A read error of fileread_regular as an error of its class. */
static int read_error(const char *path, int r, struct err *e)
{
    if (r == -ENOMEM) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (r == -EINVAL) {
        return err_set(e, ERR_CONFIG, "'%s' is not a regular file", path);
    }
    return err_set(e, ERR_CONFIG, "cannot %s '%s': %s", r == -ENOENT ? "open" : "read", path,
                   strerror(-r));
}

int conf_load_file(const char *path, bool must_exist, struct conf *ret, struct err *e)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    bool cut = false;
    int r = fileread_regular(path, CONF_MAX_SIZE, &text, &len, &cut, &st);
    if (r == -ENOENT && !must_exist) {
        char empty[] = "";
        return load(empty, path, ret, e);
    }
    if (r < 0) {
        return read_error(path, r, e);
    }
    r = load_read(path, text, len, cut, &st, ret, e);
    free(text);
    return r;
}

/* ---- the hook's config ---- */

/* The options that make a policy, as plain lists: what libconfuse makes of
 * a policy key whatever its values. */
static cfg_opt_t policy_opts[] = {
    CFG_STR_LIST("hook_refuse_vmids", NULL, CFGF_NONE),
    CFG_STR_LIST("hook_refuse_tags", NULL, CFGF_NONE),
    CFG_END(),
};

/* Whether libconfuse, reading text with no value checks and every other
 * key ignored, assigns a policy key (1), does not (0), or cannot read the
 * text to its end (-1). */
static int lenient_policy(char *text)
{
    cfg_t *cfg = cfg_init(policy_opts, CFGF_IGNORE_UNKNOWN);
    FILE *fp = NULL;
    int r = -1;
    if (!cfg) {
        return -1;
    }
    current.e = NULL; /* its errors are not reported */
    cfg_set_error_function(cfg, on_cfg_error);
    fp = text[0] ? fmemopen(text, strlen(text), "r") : NULL;
    if (!text[0]) {
        r = 0;
    } else if (fp && parse(cfg, fp) == CFG_SUCCESS) {
        r = 0;
        for (cfg_opt_t *o = policy_opts; o->name; o++) {
            cfg_opt_t *got = cfg_getopt(cfg, o->name);
            r |= got && (got->flags & CFGF_MODIFIED || cfg_opt_size(got) > 0);
        }
    }
    if (fp) {
        fclose(fp);
    }
    cfg_free(cfg);
    return r;
}

/* Whether a config text that cannot be used evidently configures a refusal
 * policy (text is modified). Asked of what libconfuse itself reads, since
 * it decodes escapes in a quoted key ("hook\x5frefuse_vmids" is a policy
 * key) - conservatively, as the file is wrong somewhere:
 *  - text the lexer cannot read to its end (an unclosed comment or string,
 *    a bad escape): what follows may be a policy;
 *  - "hook_refuse" in any case outside comments (a misspelt key too);
 *  - libconfuse, parsing with no value checks and other keys ignored,
 *    assigns a policy key;
 *  - it stops at a syntax error and the text holds a backslash or "${":
 *    only those make a key that does not spell "hook_refuse" literally.
 * A file too large to read whole counts as one: what it says cannot be told. */
static bool mentions_policy(char *text, size_t len, bool cut)
{
    struct err ignore;
    bool whole = false;
    if (cut) {
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        text[i] = text[i] ? text[i] : ' ';
    }
    (void)prescan(text, "", &ignore, &whole);
    if (!whole || strcasestr(text, "hook_refuse")) {
        return true;
    }
    int r = lenient_policy(text);
    return r != 0 && (r > 0 || strchr(text, '\\') || strstr(text, "${"));
}

/* Tries path for the hook: 1 when it decides (*h filled in), 0 when the
 * side file is to be passed over (h->skipped says why, unless it does not
 * exist), -1 when out of memory. The file is read once, and judged by what
 * was read: nothing can change between a check and the read. */
static int hook_try(const char *path, bool side, struct conf_hook *h)
{
    struct stat st;
    struct err le = {ERR_OK, ""};
    char *text = NULL, *copy = NULL;
    size_t len = 0;
    bool cut = false;
    int ret = -1;
    int r = fileread_regular(path, CONF_POLICY_SCAN_MAX, &text, &len, &cut, &st);
    if (r == -ENOMEM) {
        return -1;
    }
    /* A missing side file, or something that is no file (a FIFO, a
     * directory: no text a policy could be in): the next place. */
    if (side && (r == -ENOENT || r == -EINVAL)) {
        if (r == -EINVAL &&
            asprintf(&h->skipped, "side config ignored: '%s' is not a regular file; using '%s'",
                     path, CONF_DEFAULT_PATH) < 0) {
            h->skipped = NULL;
            return -1;
        }
        return 0;
    }
    bool loaded = false;
    if (r < 0 && r != -ENOENT) {
        read_error(path, r, &le);
        /* An existing file that cannot be read may well hold a policy. */
        h->fail_closed = r != -EINVAL;
    } else if (r == 0) {
        if (!(copy = malloc(len + 1))) {
            goto out;
        }
        memcpy(copy, text, len + 1);
        loaded = load_read(path, copy, len, cut, &st, &h->conf, &le) == 0;
        if (!loaded && le.cls == ERR_INTERNAL) {
            goto out;
        }
        if (!loaded) {
            h->fail_closed = mentions_policy(text, len, cut);
            /* A side file refused for its owner or mode that sets no policy
             * is passed over; one that sets a policy fails closed, as the
             * same mistake in the default file does. */
            struct err own;
            if (side && !h->fail_closed && check_file(path, &st, &own) < 0) {
                if (asprintf(&h->skipped, "side config ignored: %s; using '%s'", own.detail,
                             CONF_DEFAULT_PATH) < 0) {
                    h->skipped = NULL;
                    goto out;
                }
                ret = 0;
                goto out;
            }
        }
    }
    /* Missing (the default file) or unusable: the defaults. */
    if (le.cls != ERR_OK && !(h->error = strdup(le.detail))) {
        goto out;
    }
    if (!loaded && conf_load_string("", &h->conf, &le) < 0) {
        goto out;
    }
    if (!(h->path = strdup(path))) {
        goto out;
    }
    h->found = r != -ENOENT;
    ret = 1;
out:
    free(text);
    free(copy);
    return ret;
}

int conf_hook_load(const char *hook_path, struct conf_hook *ret, struct err *e)
{
    struct conf_hook h = {0};
    char *side = NULL;
    int r = 0;
    /* The side file counts only by its absolute path: Proxmox runs the hook
     * by the path of its snippets volume. */
    if (hook_path && hook_path[0] == '/') {
        if (asprintf(&side, "%s.conf", hook_path) < 0) {
            side = NULL;
            goto oom;
        }
        r = hook_try(side, true, &h);
        free(side);
    }
    if (r == 0) {
        r = hook_try(CONF_DEFAULT_PATH, false, &h);
    }
    if (r < 0) {
        goto oom;
    }
    *ret = h;
    return 0;
oom:
    conf_hook_release(&h);
    return err_set(e, ERR_INTERNAL, "out of memory");
}

void conf_hook_release(struct conf_hook *h)
{
    if (!h) {
        return;
    }
    conf_release(&h->conf);
    free(h->path);
    free(h->skipped);
    free(h->error);
    *h = (struct conf_hook){0};
}

void conf_release(struct conf *c)
{
    if (!c) {
        return;
    }
    free(c->qm);
    free(c->pvesm);
    free(c->vmlist);
    free(c->pve_dir);
    free(c->node);
    free(c->run_dir);
    free(c->hook_storage);
    free(c->hook_binary);
    free(c->hook_name);
    strv_release(&c->template_types);
    strv_release(&c->hook_refuse_vmids);
    strv_release(&c->hook_refuse_tags);
    for (size_t i = 0; i < c->n_grants; i++) {
        struct conf_grant *g = &c->grants[i];
        struct strv *lists[] = {
            &g->users, &g->groups, &g->source_vmids, &g->target_vmids, &g->storages,
            &g->pools, &g->names,  &g->formats,      &g->target_nodes, &g->hook_storages};
        free(g->name);
        for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
            strv_release(lists[k]);
        }
    }
    free(c->grants);
    *c = (struct conf){0};
}
