/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of storages' row (cmd_storages_row): "templates" a bool, and
 * "template_support" the word the table shows, "unknown" included for a
 * third-party storage type pvetmpl does not know (the simulated node has
 * only Proxmox's own types). */
#include <check.h>
#include <string.h>

#include "cmd.h"
#include "pvesm.h"
#include "unit.h"

static const char *support(struct json_object *o, bool *templates)
{
    struct json_object *v;
    ck_assert(json_object_object_get_ex(o, "templates", &v));
    ck_assert(json_object_is_type(v, json_type_boolean));
    *templates = json_object_get_boolean(v);
    ck_assert(json_object_object_get_ex(o, "template_support", &v));
    return json_object_get_string(v);
}

static void expect(const struct conf *cf, const char *type, bool images, const char *word,
                   bool templates)
{
    struct pvesm_row row = {.name = (char *)"s1", .type = (char *)type, .state = PVESM_ACTIVE};
    struct json_object *o = cmd_storages_row(cf, &row, images);
    bool t;
    ck_assert_ptr_nonnull(o);
    ck_assert_msg(strcmp(support(o, &t), word) == 0, "%s: %s, not %s", type, support(o, &t), word);
    ck_assert_msg(t == templates, "%s: templates %d", type, t);
    json_object_put(o);
}

START_TEST(template_support)
{
    struct conf cf = {0};
    expect(&cf, "lvmthin", true, "yes", true);
    expect(&cf, "lvm", true, "no", false);
    expect(&cf, "dir", false, "no", false); /* no images there */
    /* a third-party plugin's type: neither yes nor no */
    expect(&cf, "myplugin", true, "unknown", false);
    /* ... until template_types lists it */
    ck_assert_int_eq(strv_push(&cf.template_types, "myplugin"), 0);
    expect(&cf, "myplugin", true, "yes", true);
    strv_release(&cf.template_types);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("storages");
    TCase *tc = tcase_create("row");
    tcase_add_test(tc, template_support);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
