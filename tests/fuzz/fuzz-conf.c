/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf_load_string (the pvetmpl.conf reader) on arbitrary text: it either
 * loads or fails with a class and a message, never anything else. What it
 * loads is used as the hook uses it: every hook_refuse_vmids rule is a range
 * the hook can match a VM against, every tag one it can compare; and as the
 * delegation policy uses it: every grant's VMID rule is a range, and each
 * decision is one terminated line naming one of the file's grants. */
#include "conf.h"
#include "fuzz.h"
#include "policy.h"
#include "validate.h"

static void use_as_the_hook_does(const struct conf *c)
{
    char msg[256];
    for (size_t i = 0; i < c->hook_refuse_vmids.n; i++) {
        uint32_t a, b;
        if (validate_vmid_range(c->hook_refuse_vmids.v[i], &a, &b, msg, sizeof(msg)) != 0 ||
            a > b) {
            abort(); /* a rule the hook would silently never apply */
        }
    }
    for (size_t i = 0; i < c->hook_refuse_tags.n; i++) {
        if (validate_tag(c->hook_refuse_tags.v[i], msg, sizeof(msg)) != 0) {
            abort();
        }
    }
}

static void use_as_the_policy_does(const struct conf *c)
{
    static const char *const groups[] = {"ops", "devs"};
    static const uint32_t ids[] = {9000};
    static const char *const vmids[] = {"9000"};
    const struct request_caller callers[] = {
        {0, "root", "cli"}, {1000, "ci", "cli"}, {1001, NULL, "cli"}};
    struct request reqs[3] = {{0}};
    char msg[256];
    reqs[0].cmd = REQ_CLONE;
    reqs[0].u.clone.q = (struct clone_req){
        .src = 9000, .newid = 9001, .full = true, .storage = "local-lvm", .name = "tmpl-a"};
    reqs[1].cmd = REQ_HOOK;
    reqs[1].u.hook = (struct request_hook){
        .op = REQ_HOOK_STATUS, .vmids = vmids, .n_vmids = 1, .ids = (uint32_t *)ids};
    reqs[2].cmd = REQ_TEMPLATE;
    reqs[2].u.tmpl.id = 9000;
    for (size_t i = 0; i < c->n_grants; i++) {
        const struct strv *l[] = {&c->grants[i].source_vmids, &c->grants[i].target_vmids};
        for (size_t k = 0; k < 2; k++) {
            for (size_t j = 0; j < l[k]->n; j++) {
                uint32_t a, b;
                if (validate_vmid_range(l[k]->v[j], &a, &b, msg, sizeof(msg)) != 0) {
                    abort(); /* a rule the policy would silently never apply */
                }
            }
        }
    }
    for (size_t q = 0; q < 3; q++) {
        for (size_t w = 0; w < 3; w++) {
            struct policy_decision d;
            policy_decide(c, &reqs[q], &callers[w], groups, 2, &d);
            bool named = d.grant == NULL;
            for (size_t i = 0; i < c->n_grants; i++) {
                named = named || d.grant == c->grants[i].name;
            }
            if (!named || !d.reason[0] || !memchr(d.reason, '\0', sizeof(d.reason)) ||
                (d.allowed && callers[w].uid != 0 && !d.grant)) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct conf c;
    struct err e = {0};
    if (conf_load_string(text, &c, &e) == 0) {
        use_as_the_hook_does(&c);
        use_as_the_policy_does(&c);
        conf_release(&c);
    } else if (e.cls == ERR_OK || !e.detail[0]) {
        abort();
    }
    free(text);
    return 0;
}
