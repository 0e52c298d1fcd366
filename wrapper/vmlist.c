/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "vmlist.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "validate.h"

/* pmxcfs prints ids with %u: decimal, no sign, no leading zero. */
static int parse_id(const char *s, uint32_t *ret)
{
    uint64_t v;
    int r = validate_number("VMID", s, 1, UINT32_MAX, &v, NULL, 0);
    if (r == 0) {
        *ret = (uint32_t)v;
    }
    return r;
}

static char *get_string(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0) {
        return NULL;
    }
    return (char *)json_object_get_string(v);
}

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct vmlist_entry *)a)->vmid;
    uint32_t y = ((const struct vmlist_entry *)b)->vmid;
    return x < y ? -1 : x > y;
}

static int fill(struct json_object *root, struct vmlist *vl)
{
    struct json_object *ver, *ids;
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "version", &ver) ||
        !json_object_is_type(ver, json_type_int) || json_object_get_int64(ver) < 0) {
        return -EBADMSG;
    }
    vl->version = json_object_get_uint64(ver);
    if (!json_object_object_get_ex(root, "ids", &ids)) {
        return 0; /* no guests in the cluster */
    }
    if (!json_object_is_type(ids, json_type_object)) {
        return -EBADMSG;
    }
    size_t n = (size_t)json_object_object_length(ids);
    vl->entries = calloc(n ? n : 1, sizeof(*vl->entries));
    if (!vl->entries) {
        return -ENOMEM;
    }
    json_object_object_foreach(ids, key, val)
    {
        struct vmlist_entry *e = &vl->entries[vl->n];
        const char *node =
            json_object_is_type(val, json_type_object) ? get_string(val, "node") : NULL;
        const char *type = node ? get_string(val, "type") : NULL;
        if (!type || parse_id(key, &e->vmid) < 0) {
            return -EBADMSG;
        }
        e->node = strdup(node);
        e->type = strdup(type);
        vl->n++;
        if (!e->node || !e->type) {
            return -ENOMEM;
        }
    }
    /* pmxcfs does not sort; sorted entries make lookups and dumps stable. */
    if (vl->n) { /* qsort takes no NULL array, even of 0 elements */
        qsort(vl->entries, vl->n, sizeof(*vl->entries), cmp_entry);
    }
    return 0;
}

/* The one JSON value of text (strict; only blanks may follow it) into
 * *ret (to json_object_put). 0, -EBADMSG or -ENOMEM. */
static int parse_json(const char *text, size_t len, struct json_object **ret)
{
    *ret = NULL;
    if (!text || len == 0 || len > INT_MAX) {
        return -EBADMSG;
    }
    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        return -ENOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    int r = root && json_tokener_get_error(tok) == json_tokener_success ? 0 : -EBADMSG;
    for (size_t i = r == 0 ? json_tokener_get_parse_end(tok) : len; i < len; i++) {
        if (!strchr(" \t\r\n", text[i]) || text[i] == '\0') {
            r = -EBADMSG;
        }
    }
    json_tokener_free(tok);
    if (r < 0) {
        json_object_put(root);
        return r;
    }
    *ret = root;
    return 0;
}

int vmlist_parse(const char *text, size_t len, struct vmlist *ret)
{
    struct vmlist vl = {0};
    struct json_object *root;
    int r = parse_json(text, len, &root);
    if (r == 0) {
        r = fill(root, &vl);
    }
    json_object_put(root);
    if (r < 0) {
        vmlist_release(&vl);
        return r;
    }
    *ret = vl;
    return 0;
}

void vmlist_release(struct vmlist *vl)
{
    if (!vl) {
        return;
    }
    for (size_t i = 0; i < vl->n; i++) {
        free(vl->entries[i].node);
        free(vl->entries[i].type);
    }
    free(vl->entries);
    *vl = (struct vmlist){0};
}

const struct vmlist_entry *vmlist_find(const struct vmlist *vl, uint32_t vmid)
{
    if (!vl || vl->n == 0) {
        return NULL;
    }
    struct vmlist_entry key = {.vmid = vmid};
    return bsearch(&key, vl->entries, vl->n, sizeof(*vl->entries), cmp_entry);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fill_members(struct json_object *root, struct vmlist_members *m)
{
    struct json_object *ver, *nl;
    const char *name =
        json_object_is_type(root, json_type_object) ? get_string(root, "nodename") : NULL;
    if (!name || !json_object_object_get_ex(root, "version", &ver) ||
        !json_object_is_type(ver, json_type_int)) {
        return -EBADMSG;
    }
    if (!(m->nodename = strdup(name))) {
        return -ENOMEM;
    }
    if (!json_object_object_get_ex(root, "nodelist", &nl)) {
        return 0; /* not in a cluster */
    }
    if (!json_object_is_type(nl, json_type_object)) {
        return -EBADMSG;
    }
    size_t n = (size_t)json_object_object_length(nl);
    if (!(m->nodes = calloc(n ? n : 1, sizeof(*m->nodes)))) {
        return -ENOMEM;
    }
    json_object_object_foreach(nl, key, val)
    {
        if (!json_object_is_type(val, json_type_object) || !*key) {
            return -EBADMSG;
        }
        if (!(m->nodes[m->n] = strdup(key))) {
            return -ENOMEM;
        }
        m->n++;
    }
    if (m->n) {
        qsort(m->nodes, m->n, sizeof(*m->nodes), cmp_str);
    }
    return 0;
}

int vmlist_members_parse(const char *text, size_t len, struct vmlist_members *ret)
{
    struct vmlist_members m = {0};
    struct json_object *root;
    int r = parse_json(text, len, &root);
    if (r == 0) {
        r = fill_members(root, &m);
    }
    json_object_put(root);
    if (r < 0) {
        vmlist_members_release(&m);
        return r;
    }
    *ret = m;
    return 0;
}

void vmlist_members_release(struct vmlist_members *m)
{
    if (!m) {
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        free(m->nodes[i]);
    }
    free(m->nodes);
    free(m->nodename);
    *m = (struct vmlist_members){0};
}

bool vmlist_members_has(const struct vmlist_members *m, const char *node)
{
    return m && m->n && node && bsearch(&node, m->nodes, m->n, sizeof(*m->nodes), cmp_str) != NULL;
}
