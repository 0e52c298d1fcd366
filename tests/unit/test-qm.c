/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of qm.c's pure parsers: hand-made edge cases, systemd style.
 * Real captured outputs are covered by the fixture layer (t010-fixtures.sh). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qm.h"
#include "unit.h"

/* ---- qm status --------------------------------------------------------- */

static int status_of(const char *text, struct qm_status *st, unsigned *line)
{
    *line = 12345;
    return qm_parse_status(text, strlen(text), st, line);
}

START_TEST(status_plain_and_verbose)
{
    struct qm_status st;
    unsigned line;
    ck_assert_int_eq(status_of("status: running\n", &st, &line), 0);
    ck_assert_str_eq(st.status, "running");
    ck_assert_ptr_null(st.qmpstatus);
    ck_assert_ptr_null(st.lock);
    ck_assert_ptr_null(st.name);
    ck_assert(!st.template);
    ck_assert_uint_eq(st.pid, 0);
    qm_status_release(&st);

    ck_assert_int_eq(status_of("blockstat:\n\tscsi0:\n\t\tstatus: bogus\nlock: backup\n"
                               "name: VM 100\npid: 18446744073709551615\nqmpstatus: paused\n"
                               "status: running\ntemplate: 1\nvmid: 100\n",
                               &st, &line),
                     0);
    ck_assert_str_eq(st.status, "running");
    ck_assert_str_eq(st.qmpstatus, "paused");
    ck_assert_str_eq(st.lock, "backup");
    ck_assert_str_eq(st.name, "VM 100"); /* qm's default name has a space */
    ck_assert(st.template);
    ck_assert_uint_eq(st.pid, UINT64_MAX);
    qm_status_release(&st);
    qm_status_release(&st); /* released twice: harmless */
    qm_status_release(NULL);
}
END_TEST

START_TEST(status_edge_cases)
{
    struct qm_status st;
    unsigned line;
    /* no final newline, CRLF, trailing blanks of a paste */
    ck_assert_int_eq(status_of("status: stopped", &st, &line), 0);
    ck_assert_str_eq(st.status, "stopped");
    qm_status_release(&st);
    ck_assert_int_eq(status_of("status: stopped\r\n", &st, &line), 0);
    ck_assert_str_eq(st.status, "stopped");
    qm_status_release(&st);
    ck_assert_int_eq(status_of("\nstatus: stopped  \n\n", &st, &line), 0);
    ck_assert_str_eq(st.status, "stopped");
    qm_status_release(&st);
    /* "unknown" is kept as is */
    ck_assert_int_eq(status_of("status: unknown\n", &st, &line), 0);
    ck_assert_str_eq(st.status, "unknown");
    qm_status_release(&st);
}
END_TEST

START_TEST(status_errors)
{
    static const struct {
        const char *text;
        unsigned line;
    } cases[] = {
        {"", 0},
        {"\n\n", 0},
        {"qmpstatus: running\n", 0},
        {"blockstat:\n\tstatus: running\n", 0}, /* nested only */
        {"garbage\n", 1},
        {"status:running\n", 1},
        {"status:  running\n", 1}, /* odd spacing: the value would start with a blank */
        {"status:\n", 1},
        {"status: run ning\n", 1},
        {"  status: running\n", 1}, /* spaces are not qm's TAB nesting */
        {"status: running\nstatus: stopped\n", 2},
        {"status: running\npid: 18446744073709551616\n", 2}, /* overflow */
        {"status: running\npid: -1\n", 2},
        {"status: running\npid: 12a\n", 2},
        {"status: running\ntemplate: 2\n", 2},
        {"status: running\ntemplate: 1\ntemplate: 1\n", 3},
        {"Configuration file 'nodes/pve/qemu-server/100.conf' does not exist\n", 1},
        {"stat us: running\n", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct qm_status st = {.status = (char *)"untouched"};
        unsigned line;
        ck_assert_msg(status_of(cases[i].text, &st, &line) == -EBADMSG, "case %zu", i);
        ck_assert_msg(line == cases[i].line, "case %zu: line %u", i, line);
        ck_assert_str_eq(st.status, "untouched"); /* ret is not written on failure */
    }
    /* reterr_line may be NULL */
    struct qm_status st;
    ck_assert_int_eq(qm_parse_status("x", 1, &st, NULL), -EBADMSG);
    /* an embedded NUL is not text */
    ck_assert_int_eq(qm_parse_status("status: run\0ning\n", 17, &st, NULL), -EBADMSG);
}
END_TEST

START_TEST(status_overlong_line)
{
    size_t n = 200000;
    char *text = malloc(n + 64);
    strcpy(text, "status: running\nname: ");
    size_t off = strlen(text);
    memset(text + off, 'a', n);
    strcpy(text + off + n, "\n");
    struct qm_status st;
    unsigned line;
    ck_assert_int_eq(status_of(text, &st, &line), 0);
    ck_assert_uint_eq(strlen(st.name), n);
    qm_status_release(&st);
    free(text);
}
END_TEST

/* ---- qm config --------------------------------------------------------- */

static int config_of(const char *text, struct qm_config *cf, unsigned *line)
{
    *line = 12345;
    return qm_parse_config(text, strlen(text), cf, line);
}

START_TEST(config_basic)
{
    struct qm_config cf;
    unsigned line;
    ck_assert_int_eq(config_of("boot:\ndescription:  two%0Aspaces\nide2: none,media=cdrom\n"
                               "lock: clone\nname: web01\nscsi0: file=local:100/"
                               "base-100-disk-0.qcow2,size=32G\ntemplate: 1\r\n"
                               "unused0: local-lvm:vm-100-disk-1",
                               &cf, &line),
                     0);
    ck_assert_uint_eq(cf.n_kv, 8);
    ck_assert_str_eq(cf.kv[0].key, "boot");
    ck_assert_str_eq(cf.kv[0].value, ""); /* empty value is valid */
    ck_assert_str_eq(qm_config_get(&cf, "description"), " two%0Aspaces");
    ck_assert_ptr_eq(cf.description, qm_config_get(&cf, "description"));
    ck_assert_str_eq(cf.name, "web01");
    ck_assert_str_eq(cf.lock, "clone");
    ck_assert_ptr_null(cf.parent);
    ck_assert_ptr_null(cf.hookscript);
    ck_assert_ptr_null(cf.tags);
    ck_assert(cf.template);
    ck_assert_str_eq(qm_config_get(&cf, "template"), "1"); /* CR dropped */
    ck_assert_ptr_null(qm_config_get(&cf, "missing"));
    ck_assert_ptr_null(qm_config_get(&cf, NULL));
    ck_assert_uint_eq(cf.n_disks, 2); /* unused0 is not a drive */
    ck_assert_str_eq(cf.disks[0].key, "ide2");
    ck_assert_str_eq(cf.disks[0].volume, "none");
    ck_assert_ptr_null(cf.disks[0].storage);
    ck_assert(cf.disks[0].cdrom);
    ck_assert(!cf.disks[0].cloudinit);
    ck_assert_str_eq(cf.disks[1].volume, "local:100/base-100-disk-0.qcow2"); /* file= form */
    ck_assert_str_eq(cf.disks[1].storage, "local");
    ck_assert_str_eq(cf.disks[1].volname, "100/base-100-disk-0.qcow2");
    ck_assert_str_eq(cf.disks[1].size, "32G");
    ck_assert(cf.disks[1].base);
    ck_assert(!cf.disks[1].cdrom);
    qm_config_release(&cf);
    qm_config_release(&cf);
    qm_config_release(NULL);

    ck_assert_int_eq(config_of("", &cf, &line), 0);
    ck_assert_uint_eq(cf.n_kv, 0);
    ck_assert_uint_eq(cf.n_disks, 0);
    ck_assert(!cf.template);
    qm_config_release(&cf);
}
END_TEST

/* qm config vs qm config --current: the pending changes, named once each. */
START_TEST(config_diff_keys)
{
    struct qm_config pend, cur;
    unsigned line;
    char buf[64];
    ck_assert_int_eq(config_of("memory: 4096\nname: a\nscsi0: local-lvm:vm-100-disk-1,size=8G\n"
                               "tags: x\n",
                               &pend, &line),
                     0);
    ck_assert_int_eq(config_of("memory: 2048\nname: a\nscsi0: lvm:vm-100-disk-0,size=8G\n"
                               "serial0: socket\n",
                               &cur, &line),
                     0);
    ck_assert_uint_eq(qm_config_diff_keys(&pend, &cur, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "memory,scsi0,tags,serial0");
    ck_assert_uint_eq(qm_config_diff_keys(&cur, &cur, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "");
    /* Full: cut after a whole key, saying how many more there are. */
    char tiny[20];
    ck_assert_uint_eq(qm_config_diff_keys(&pend, &cur, tiny, sizeof(tiny)), 4);
    ck_assert_str_eq(tiny, "... and 4 more");
    char exact[sizeof("memory,scsi0,tags,serial0")];
    ck_assert_uint_eq(qm_config_diff_keys(&pend, &cur, exact, sizeof(exact)), 4);
    ck_assert_str_eq(exact, "memory,scsi0,tags,serial0");
    char one_short[sizeof("memory,scsi0,tags,serial0") - 1];
    ck_assert_uint_eq(qm_config_diff_keys(&pend, &cur, one_short, sizeof(one_short)), 4);
    ck_assert_str_eq(one_short, "memory ... and 3 more");
    ck_assert_uint_eq(qm_config_diff_keys(&pend, &cur, NULL, 0), 4);
    qm_config_release(&pend);
    qm_config_release(&cur);
}
END_TEST

/* ---- the raw config file ------------------------------------------------ */

static int conf_file_of(const char *text, uint32_t vmid, bool cut, struct qm_config *cf)
{
    return qm_parse_conf_file(text, strlen(text), vmid, cut, cf);
}

/* Only the main section counts: [PENDING], [special:...] and snapshots are
 * not the config the VM starts with (the full cases are in
 * tests/fixtures/qm-conf-file). */
START_TEST(conf_file_sections)
{
    struct qm_config cf;
    ck_assert_int_eq(
        conf_file_of("#tags: deny\nname: a\ntags: x\n\n[PENDING]\ntags: deny\n", 100, false, &cf),
        0);
    ck_assert_str_eq(cf.name, "a");
    ck_assert_str_eq(cf.tags, "x");
    ck_assert_uint_eq(cf.n_kv, 2);
    qm_config_release(&cf);
    static const char *const headers[] = {
        "[PENDING]", "[special:cloudinit]", "[snap1]", "[Before-Upgrade]  ", "[]", "[what ever]\t"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "name: a\n%s\ntags: deny\n", headers[i]);
        ck_assert_int_eq(conf_file_of(text, 100, false, &cf), 0);
        ck_assert_msg(cf.tags == NULL, "%s did not end the main section", headers[i]);
        ck_assert_str_eq(cf.name, "a");
        qm_config_release(&cf);
    }
    /* Not a header (parse_vm_config skips it): the main section goes on. */
    static const char *const not_headers[] = {"[unclosed", "[a] b", " [snap]"};
    for (size_t i = 0; i < sizeof(not_headers) / sizeof(not_headers[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "name: a\n%s\ntags: deny\n", not_headers[i]);
        ck_assert_int_eq(conf_file_of(text, 100, false, &cf), 0);
        ck_assert_msg(cf.tags && strcmp(cf.tags, "deny") == 0, "%s ended the main section",
                      not_headers[i]);
        qm_config_release(&cf);
    }
}
END_TEST

/* parse_vm_config's line rules: blanks around the value dropped, a repeated
 * key's last value counts, what is not `key: value` is skipped. */
START_TEST(conf_file_lines)
{
    struct qm_config cf;
    ck_assert_int_eq(conf_file_of("name: one\ntags:\nTags: up\n9x: y\n-a: b\nbad line\n"
                                  "cores:\t4 \t\r\nname:  two  \nscsi0: size=1G\n"
                                  "hookscript: local:snippets/h.pl\nx-y_z9: v\n",
                                  100, false, &cf),
                     0);
    ck_assert_str_eq(cf.name, "two");
    ck_assert_ptr_null(cf.tags);
    ck_assert_str_eq(qm_config_get(&cf, "cores"), "4");
    ck_assert_ptr_null(qm_config_get(&cf, "scsi0")); /* a drive without a volume */
    ck_assert_str_eq(cf.hookscript, "local:snippets/h.pl");
    ck_assert_str_eq(qm_config_get(&cf, "x-y_z9"), "v");
    ck_assert_uint_eq(cf.n_kv, 4);
    ck_assert_uint_eq(cf.n_disks, 0);
    qm_config_release(&cf);

    /* A repeated drive replaces the disk too. */
    ck_assert_int_eq(conf_file_of("scsi0: a:vm-100-disk-0\nscsi0: local:base-9-disk-0/"
                                  "vm-100-disk-0\n",
                                  100, false, &cf),
                     0);
    ck_assert_uint_eq(cf.n_disks, 1);
    ck_assert_str_eq(cf.disks[0].volume, "local:base-9-disk-0/vm-100-disk-0");
    qm_config_release(&cf);

    ck_assert_int_eq(qm_parse_conf_file("", 0, 100, false, &cf), 0);
    ck_assert_uint_eq(cf.n_kv, 0);
    ck_assert_uint_eq(cf.base_vmid, 0);
    qm_config_release(&cf);
    /* A NUL inside a line: not a line Proxmox wrote. */
    ck_assert_int_eq(qm_parse_conf_file("name: a\0b\ntags: t\n", 19, 100, false, &cf), 0);
    ck_assert_ptr_null(cf.name);
    ck_assert_str_eq(cf.tags, "t");
    qm_config_release(&cf);
}
END_TEST

/* A cut file: its last line, unless whole, is not read (a tag could be
 * missing from it); a final line without '\n' counts when nothing is cut. */
START_TEST(conf_file_cut)
{
    struct qm_config cf;
    ck_assert_int_eq(conf_file_of("name: a\ntags: x;de", 100, true, &cf), 0);
    ck_assert_str_eq(cf.name, "a");
    ck_assert_ptr_null(cf.tags);
    qm_config_release(&cf);
    ck_assert_int_eq(conf_file_of("name: a\ntags: x;de", 100, false, &cf), 0);
    ck_assert_str_eq(cf.tags, "x;de");
    qm_config_release(&cf);
    ck_assert_int_eq(conf_file_of("name: a\ntags: x\n", 100, true, &cf), 0);
    ck_assert_str_eq(cf.tags, "x");
    qm_config_release(&cf);
    ck_assert_int_eq(conf_file_of("tags: x", 100, true, &cf), 0);
    ck_assert_uint_eq(cf.n_kv, 0);
    qm_config_release(&cf);
}
END_TEST

/* The linked-clone base: the first drive or unusedN volume (not a CD-ROM)
 * that journal_base_vmid accepts for this VM. */
START_TEST(conf_file_base)
{
    static const struct {
        const char *text;
        uint32_t vmid, base;
    } cases[] = {
        {"scsi0: local-lvm:base-100-disk-0/vm-101-disk-0,size=8G\n", 101, 100},
        {"ide2: local-lvm:base-200-disk-0/vm-101-disk-1,media=cdrom\n"
         "scsi0: local-lvm:base-100-disk-0/vm-101-disk-0\n",
         101, 100},
        {"ide2: local-lvm:base-200-disk-0/vm-101-cloudinit\n", 101, 0}, /* cloud-init: a CD */
        {"efidisk0: local:100/base-100-disk-1.qcow2/101/vm-101-disk-1.qcow2,size=528K\n", 101, 100},
        {"unused0: local-zfs:base-300-disk-0/vm-101-disk-2\n", 101, 300},
        {"unused256: local-zfs:base-300-disk-0/vm-101-disk-2\n", 101, 0},
        {"scsi31: local-lvm:base-100-disk-0/vm-101-disk-0\n", 101, 0},
        {"net0: local-lvm:base-100-disk-0/vm-101-disk-0\n", 101, 0},
        {"scsi0: local-lvm:base-100-disk-0/vm-102-disk-0\n", 101, 0}, /* another VM's */
        {"scsi0: local-lvm:vm-101-disk-0\n", 101, 0},
        {"scsi0: local-lvm:vm-101-disk-0\n[snap]\nscsi0: local-lvm:base-100-disk-0/"
         "vm-101-disk-0\n",
         101, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct qm_config cf;
        ck_assert_int_eq(conf_file_of(cases[i].text, cases[i].vmid, false, &cf), 0);
        ck_assert_msg(cf.base_vmid == cases[i].base, "case %zu: base %u, expected %u", i,
                      (unsigned)cf.base_vmid, (unsigned)cases[i].base);
        qm_config_release(&cf);
    }
}
END_TEST

START_TEST(config_disks)
{
    static const struct {
        const char *value;
        const char *storage, *volname;
        bool cdrom, cloudinit, base;
    } cases[] = {
        {"local-lvm:vm-100-cloudinit,media=cdrom", "local-lvm", "vm-100-cloudinit", 1, 1, 0},
        {"local:100/vm-100-cloudinit.qcow2", "local", "100/vm-100-cloudinit.qcow2", 1, 1, 0},
        {"local:100/vm-100-cloudinit-x", "local", "100/vm-100-cloudinit-x", 0, 0, 0},
        {"local:100/myvm-100-cloudinit", "local", "100/myvm-100-cloudinit", 0, 0, 0},
        {"local:100/vm-100-cloudinit.", "local", "100/vm-100-cloudinit.", 0, 0, 0},
        {"zfs:base-100-disk-0/vm-101-disk-0", "zfs", "base-100-disk-0/vm-101-disk-0", 0, 0, 0},
        {"zfs:basevol-100-disk-0", "zfs", "basevol-100-disk-0", 0, 0, 1},
        {"zfs:based-100-disk-0", "zfs", "based-100-disk-0", 0, 0, 0},
        {"cdrom,media=cdrom", NULL, NULL, 1, 0, 0},
        {"/dev/disk/by-id/ata-X,size=1T", NULL, NULL, 0, 0, 0},
        {"1abc:vol", NULL, NULL, 0, 0, 0}, /* not a storage id */
        {"x:vol", NULL, NULL, 0, 0, 0},    /* too short for a storage id */
        {"Local.A_b-1:vol", "Local.A_b-1", "vol", 0, 0, 0},
        {"local:", NULL, NULL, 0, 0, 0},
        {"media=cdrom,local:iso/a.iso", "local", "iso/a.iso", 1, 0, 0},
        {"local:iso/a.iso,media=disk", "local", "iso/a.iso", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        struct qm_config cf;
        unsigned line;
        snprintf(text, sizeof(text), "virtio15: %s\n", cases[i].value);
        ck_assert_msg(config_of(text, &cf, &line) == 0, "case %zu", i);
        ck_assert_uint_eq(cf.n_disks, 1);
        const struct qm_disk *d = &cf.disks[0];
        if (cases[i].storage) {
            ck_assert_str_eq(d->storage, cases[i].storage);
            ck_assert_str_eq(d->volname, cases[i].volname);
        } else {
            ck_assert_msg(!d->storage && !d->volname, "case %zu", i);
        }
        ck_assert_msg(d->cdrom == cases[i].cdrom, "case %zu cdrom", i);
        ck_assert_msg(d->cloudinit == cases[i].cloudinit, "case %zu cloudinit", i);
        ck_assert_msg(d->base == cases[i].base, "case %zu base", i);
        qm_config_release(&cf);
    }
}
END_TEST

START_TEST(config_errors)
{
    static const struct {
        const char *text;
        unsigned line;
    } cases[] = {
        {"garbage\n", 1},        {"name: a\n#comment\n", 2},
        {"name:a\n", 1},         {"name: a\nname: a\n", 2},
        {": value\n", 1},        {"na me: a\n", 1},
        {"scsi0:\n", 1},         {"scsi0: ,size=1G\n", 1},
        {"scsi0: size=1G\n", 1}, {"name: a\n[snap1]\nparent: x\n", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct qm_config cf = {.n_kv = 77};
        unsigned line;
        ck_assert_msg(config_of(cases[i].text, &cf, &line) == -EBADMSG, "case %zu", i);
        ck_assert_msg(line == cases[i].line, "case %zu: line %u", i, line);
        ck_assert_uint_eq(cf.n_kv, 77);
    }
}
END_TEST

START_TEST(config_overlong_line)
{
    size_t n = 300000;
    char *text = malloc(n + 64);
    strcpy(text, "description: ");
    size_t off = strlen(text);
    for (size_t i = 0; i < n; i += 3) {
        memcpy(text + off + i, "%0A", 3);
    }
    strcpy(text + off + n, "\nname: x");
    struct qm_config cf;
    unsigned line;
    ck_assert_int_eq(config_of(text, &cf, &line), 0);
    ck_assert_uint_eq(strlen(cf.description), n);
    ck_assert_str_eq(cf.name, "x");
    char *d = qm_decode_text(cf.description);
    ck_assert_uint_eq(strlen(d), n / 3);
    free(d);
    qm_config_release(&cf);
    free(text);
}
END_TEST

START_TEST(drive_keys)
{
    static const char *const yes[] = {"ide0",   "ide3",   "scsi0",    "scsi9",
                                      "scsi10", "scsi30", "virtio0",  "virtio15",
                                      "sata0",  "sata5",  "efidisk0", "tpmstate0"};
    static const char *const no[] = {
        "ide4",     "scsi31",    "virtio16", "sata6",
        "efidisk1", "tpmstate1", "scsi01",   "scsi",
        "",         "net0",      "unused0",  "scsi0 ",
        "scsi-1",   "ide",       "scsi100",  "scsi99999999999999999999",
        "Scsi0",    "cdrom"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        ck_assert_msg(qm_is_drive_key(yes[i]), "%s", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(!qm_is_drive_key(no[i]), "%s", no[i]);
    }
    ck_assert(!qm_is_drive_key(NULL));
}
END_TEST

START_TEST(decode_text)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},         {"plain", "plain"}, {"a%0Ab", "a\nb"},      {"https%3A//x", "https://x"},
        {"%3a%3A", "::"}, {"100%25", "100%"}, {"%C3%A9", "\xc3\xa9"}, {"'\"<#&;", "'\"<#&;"},
        {"%", NULL},      {"%0", NULL},       {"%0G", NULL},          {"%G0", NULL},
        {"a%00b", NULL}, /* an encoded NUL would truncate the text */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *d = qm_decode_text(cases[i].in);
        if (cases[i].out) {
            ck_assert_msg(d != NULL, "case %zu", i);
            ck_assert_str_eq(d, cases[i].out);
        } else {
            ck_assert_msg(d == NULL, "case %zu", i);
        }
        free(d);
    }
    ck_assert_ptr_null(qm_decode_text(NULL));
}
END_TEST

/* ---- qm list ----------------------------------------------------------- */

#define LIST_HEADER                                                                                \
    "      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       \n"

static int list_of(const char *text, struct qm_list *l, unsigned *line)
{
    *line = 12345;
    return qm_parse_list(text, strlen(text), l, line);
}

START_TEST(list_rows)
{
    struct qm_list l;
    unsigned line;
    ck_assert_int_eq(list_of("", &l, &line), 0);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(list_of(LIST_HEADER, &l, &line), 0); /* header only */
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(list_of("VMID NAME STATUS MEM(MB) BOOTDISK(GB) PID", &l, &line), 0);
    ck_assert_uint_eq(l.n, 0);

    ck_assert_int_eq(list_of(LIST_HEADER
                             "       104 VM 104               running    2048              "
                             "32.00 1234      \r\n"
                             "       105 abcdefghij0123456789 stopped    512                "
                             "0.00 0\n"
                             "\t106\tname\twith\ttabs   paused\t1\t0.50\t7",
                             &l, &line),
                     0);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.rows[0].vmid, 104);
    ck_assert_str_eq(l.rows[0].name, "VM 104");
    ck_assert_str_eq(l.rows[0].status, "running");
    ck_assert_uint_eq(l.rows[0].mem_mb, 2048);
    ck_assert_double_eq_tol(l.rows[0].bootdisk_gb, 32.0, 1e-9);
    ck_assert_uint_eq(l.rows[0].pid, 1234);
    ck_assert_str_eq(l.rows[1].name, "abcdefghij0123456789");
    ck_assert_double_eq(l.rows[1].bootdisk_gb, 0.0);
    ck_assert_str_eq(l.rows[2].name, "name\twith\ttabs");
    ck_assert_double_eq_tol(l.rows[2].bootdisk_gb, 0.5, 1e-9);
    qm_list_release(&l);
    qm_list_release(&l);
    qm_list_release(NULL);
}
END_TEST

START_TEST(list_errors)
{
    static const struct {
        const char *text;
        unsigned line;
    } cases[] = {
        {"garbage\n", 1},
        {"       100 a running 1 1.00 0\n", 1}, /* no header */
        {"      VMID NAME STATUS MEM(MB) BOOTDISK(GB)\n", 1},
        {"      vmid NAME STATUS MEM(MB) BOOTDISK(GB) PID\n", 1},
        {LIST_HEADER "garbage\n", 2},
        {LIST_HEADER "       100 running 2048 32.00 0\n", 2},                  /* no name */
        {LIST_HEADER "       100 a running 2048 32.00\n", 2},                  /* no pid */
        {LIST_HEADER "       100 a running 2048 32.00 1x\n", 2},               /* bad pid */
        {LIST_HEADER "       100 a running 2048 1e3 0\n", 2},                  /* bad bootdisk */
        {LIST_HEADER "       100 a running 2048 .5 0\n", 2},                   /* bad bootdisk */
        {LIST_HEADER "       100 a running 2048 5. 0\n", 2},                   /* bad bootdisk */
        {LIST_HEADER "       100 a running 2048 nan 0\n", 2},                  /* bad bootdisk */
        {LIST_HEADER "       100 a running -1 1.00 0\n", 2},                   /* bad mem */
        {LIST_HEADER "       100 a running 1 1.00 18446744073709551616\n", 2}, /* overflow */
        {LIST_HEADER "        99 a running 1 1.00 0\n", 2},                    /* VMID < 100 */
        {LIST_HEADER "      0100 a running 1 1.00 0\n", 2},
        {LIST_HEADER "1000000000 a running 1 1.00 0\n", 2},
        {LIST_HEADER "       abc a running 1 1.00 0\n", 2},
        {LIST_HEADER "       100 a run/ning 1 1.00 0\n", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct qm_list l = {.n = 77};
        unsigned line;
        ck_assert_msg(list_of(cases[i].text, &l, &line) == -EBADMSG, "case %zu", i);
        ck_assert_msg(line == cases[i].line, "case %zu: line %u", i, line);
        ck_assert_uint_eq(l.n, 77);
    }
}
END_TEST

/* ---- clone / template lines -------------------------------------------- */

START_TEST(size_rendered)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        {"0.0 B", 0},
        {"1023.0 B", 1023},
        {"1.0 KiB", 1024},
        {"1.5 MiB", 1572864},
        {"1.5 GiB", 1610612736},
        {"2.0 TiB", 2199023255552ULL},
        {"1.0 PiB", 1125899906842624ULL},
        {"15.9 PiB", 17901808518797722ULL}, /* 17901808518797721.6 */
        {"35.8 MiB", 37539021},             /* 37539020.8: nearest byte */
        {"71.7 MiB", 75182899},             /* 75182899.2 */
        {"12 KiB", 12288},
    };
    static const char *const bad[] = {
        "",         "1",      "1.5GiB", "1.5 gib", " 1.5 GiB",    "1.5 GiB ",
        "1.5  GiB", "-1.0 B", "+1.0 B", "1e3 B",   "1.0 EiB",     "1.0 KB",
        ".5 KiB",   "5. KiB", "nan B",  "1,5 GiB", "16384.0 PiB", "99999999999999999999.0 B",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 7;
        ck_assert_msg(qm_parse_size_rendered(ok[i].s, &v) == 0, "%s", ok[i].s);
        ck_assert_msg(v == ok[i].v, "%s: %llu", ok[i].s, (unsigned long long)v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 7;
        ck_assert_msg(qm_parse_size_rendered(bad[i], &v) == -EINVAL, "'%s'", bad[i]);
        ck_assert_uint_eq(v, 7);
    }
    ck_assert_int_eq(qm_parse_size_rendered(NULL, &(uint64_t){0}), -EINVAL);
}
END_TEST

START_TEST(line_kinds)
{
    struct qm_line l;

    qm_parse_line("creating a clone of VM 9000 with ID 9100", &l);
    ck_assert_int_eq(l.kind, QM_LINE_CLONE_START);

    qm_parse_line("create full clone of drive scsi0 (local-lvm:base-9000-disk-0)", &l);
    ck_assert_int_eq(l.kind, QM_LINE_DRIVE);
    ck_assert_str_eq(l.drive, "scsi0");
    ck_assert_str_eq(l.volid, "local-lvm:base-9000-disk-0");
    ck_assert(!l.linked);

    qm_parse_line("create linked clone of drive efidisk0 (dir:100/base-100-disk-1.qcow2)\r", &l);
    ck_assert_int_eq(l.kind, QM_LINE_DRIVE);
    ck_assert_str_eq(l.drive, "efidisk0");
    ck_assert_str_eq(l.volid, "dir:100/base-100-disk-1.qcow2");
    ck_assert(l.linked);

    qm_parse_line("allocated target volume 'local-lvm:vm-9100-disk-0'", &l);
    ck_assert_int_eq(l.kind, QM_LINE_ALLOCATED);
    ck_assert_str_eq(l.volid, "local-lvm:vm-9100-disk-0");

    qm_parse_line("transferred 1.2 GiB of 40.0 GiB (3.00%)", &l);
    ck_assert_int_eq(l.kind, QM_LINE_PROGRESS);
    ck_assert_str_eq(l.drive, "");
    ck_assert_uint_eq(l.done, 1288490189); /* 1.2 * 2^30 = 1288490188.8 */
    ck_assert_uint_eq(l.total, 42949672960ULL);
    ck_assert_double_eq_tol(l.percent, 3.0, 1e-9);

    qm_parse_line("mirror-scsi0: transferred 8.0 GiB of 8.0 GiB (100.00%) in 9s, ready", &l);
    ck_assert_int_eq(l.kind, QM_LINE_PROGRESS);
    ck_assert_str_eq(l.drive, "scsi0");
    ck_assert_double_eq_tol(l.percent, 100.0, 1e-9);

    qm_parse_line("drive-virtio1: transferred 2.0 GiB of 8.0 GiB (24.40%) in 2s", &l);
    ck_assert_int_eq(l.kind, QM_LINE_PROGRESS);
    ck_assert_str_eq(l.drive, "virtio1");
    ck_assert_double_eq_tol(l.percent, 24.40, 1e-9);

    qm_parse_line(
        "drive-efidisk0: transferred: 131072 bytes remaining: 0 bytes total: 131072 bytes "
        "progression: 100.00 % busy: 0 ready: 1 ",
        &l);
    ck_assert_int_eq(l.kind, QM_LINE_PROGRESS);
    ck_assert_str_eq(l.drive, "efidisk0");
    ck_assert_uint_eq(l.done, 131072);
    ck_assert_uint_eq(l.total, 131072);
    ck_assert_double_eq_tol(l.percent, 100.0, 1e-9);

    qm_parse_line("Task finished with 3 warning(s)!", &l);
    ck_assert_int_eq(l.kind, QM_LINE_WARNINGS);
    ck_assert_uint_eq(l.warnings, 3);
}
END_TEST

START_TEST(line_others)
{
    static const char *const other[] = {
        "",
        "\r",
        "garbage",
        "  Logical volume \"vm-108-disk-0\" created.",
        "drive mirror is starting for drive-scsi0",
        "all 'mirror' jobs are ready",
        "transferred 1.0 GiB of 2.0 GiB",
        "transferred 1.0 GiB of 2.0 GiB (x%)",
        "transferred 1.0 GiB of 2.0 GiB (50.00%)junk",
        "foo: transferred 1.0 GiB of 2.0 GiB (50.00%)",
        "drive-a b: transferred 1.0 GiB of 2.0 GiB (50.00%)",
        "transferred: 1 bytes remaining: 0 bytes total: 1 bytes",
        "transferred: x bytes remaining: 0 bytes total: 1 bytes progression: 100.00 %",
        "create full clone of drive scsi0",
        "create full clone of drive scsi0 ()",
        "create full clone of drive scsi0 (local:1",
        "create half clone of drive scsi0 (local:1)",
        "allocated target volume 'x",
        "Task finished with -1 warning(s)!",
        "Task finished with 4294967296 warning(s)!",
        "creating a clone of VM 9000 with ID",
        "creating a clone of VM 99 with ID 100",
        "TASK ERROR: clone failed: x",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct qm_line l;
        memset(&l, 0xaa, sizeof(l));
        qm_parse_line(other[i], &l);
        ck_assert_msg(l.kind == QM_LINE_OTHER, "'%s' -> %d", other[i], l.kind);
        ck_assert_str_eq(l.drive, "");
        ck_assert_uint_eq(l.done, 0);
    }
    struct qm_line l;
    qm_parse_line(NULL, &l);
    ck_assert_int_eq(l.kind, QM_LINE_OTHER);
    /* trailing blanks of the old format are dropped, so this one still counts */
    qm_parse_line("Task finished with 1 warning(s)!   ", &l);
    ck_assert_int_eq(l.kind, QM_LINE_WARNINGS);
}
END_TEST

START_TEST(line_overlong)
{
    char buf[8192];
    struct qm_line l;
    /* A volid that does not fit volid[512] is not truncated: the line is OTHER. */
    int n = snprintf(buf, sizeof(buf), "create full clone of drive scsi0 (local:");
    memset(buf + n, 'x', 600);
    strcpy(buf + n + 600, ")");
    qm_parse_line(buf, &l);
    ck_assert_int_eq(l.kind, QM_LINE_OTHER);
    memset(buf, 'y', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    qm_parse_line(buf, &l);
    ck_assert_int_eq(l.kind, QM_LINE_OTHER);
    /* drive[32]: a 31-character drive fits, 32 does not */
    snprintf(buf, sizeof(buf), "create full clone of drive %031d (a:b)", 0);
    qm_parse_line(buf, &l);
    ck_assert_int_eq(l.kind, QM_LINE_DRIVE);
    snprintf(buf, sizeof(buf), "create full clone of drive %032d (a:b)", 0);
    qm_parse_line(buf, &l);
    ck_assert_int_eq(l.kind, QM_LINE_OTHER);
}
END_TEST

/* ---- error classes ----------------------------------------------------- */

START_TEST(error_classes)
{
    static const struct {
        const char *text;
        enum qm_error e;
        unsigned line; /* 1-based deciding line, 0 for none */
    } cases[] = {
        {"", QM_ERR_NONE, 0},
        {" \n\t\n", QM_ERR_NONE, 0},
        {"something new\n", QM_ERR_UNKNOWN, 1},
        {"warning\nsomething new\n\n", QM_ERR_UNKNOWN, 2},
        {"Configuration file 'nodes/pve/qemu-server/100.conf' does not exist\n", QM_ERR_NO_CONFIG,
         1},
        {"unable to find configuration file for VM 100 on node 'pve'\n", QM_ERR_NO_CONFIG, 1},
        {"VM is locked (backup)\n", QM_ERR_LOCKED, 1},
        {"can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout\n",
         QM_ERR_LOCK_TIMEOUT, 1},
        {"clone failed: can't lock file '/var/lock/pve-manager/pve-storage-x' - got timeout",
         QM_ERR_LOCK_TIMEOUT, 1},
        {"unable to create VM 101: config file already exists\n", QM_ERR_EXISTS, 1},
        {"close (rename) atomic file '/etc/pve/nodes/b/qemu-server/101.conf' failed: File exists",
         QM_ERR_EXISTS, 1},
        {"unable to create VM 101 - storage error\n", QM_ERR_UNKNOWN, 1},
        {"400 Parameter verification failed.\nvmid: invalid format\n\nqm status <vmid>\n",
         QM_ERR_PARAM, 1},
        {"Unknown option: x\n400 unable to parse option\n", QM_ERR_PARAM, 2},
        {"403 Permission check failed (pool 'p' does not exist)\n", QM_ERR_NO_POOL, 1},
        {"403 Permission check failed (/pool/p, Pool.Allocate)\n", QM_ERR_PERMISSION, 1},
        {"VM is locked (suspended)\n", QM_ERR_SUSPENDED, 1},
        {"VM is locked (suspending)\n", QM_ERR_LOCKED, 1},
        {"clone failed: cfs-lock 'storage-nfs1' error: no quorum!\n", QM_ERR_NO_QUORUM, 1},
        {"please run as root\n", QM_ERR_PERMISSION, 1},
        {"only root can set 'hookscript' config\n", QM_ERR_PERMISSION, 1},
        {"unable to create template, because VM contains snapshots\n", QM_ERR_HAS_SNAPSHOTS, 1},
        {"you can't convert a template to a template\n", QM_ERR_IS_TEMPLATE, 1},
        {"you can't convert a VM to template if VM is running\n", QM_ERR_RUNNING, 1},
        {"snapshot 'snap1' does not exist\n", QM_ERR_NO_SNAPSHOT, 1},
        {"storage 'x1' does not exist\n", QM_ERR_STORAGE, 1},
        {"storage 'x1' is disabled\n", QM_ERR_STORAGE, 1},
        {"storage 'x1' is not available on node 'pve'\n", QM_ERR_STORAGE, 1},
        {"400 Parameter verification failed.\nstorage: storage 'x1' does not support vm images\n",
         QM_ERR_STORAGE, 2},
        {"storage 'x1' is full\n", QM_ERR_UNKNOWN, 1},
        {"Full clone feature is not supported for 'a:b' (scsi0)\n", QM_ERR_FEATURE, 1},
        {"Linked clone feature is not supported for 'a:b' (scsi0)\n", QM_ERR_FEATURE, 1},
        {"cluster not ready - no quorum?\n", QM_ERR_NO_QUORUM, 1},
        {"clone failed: lvcreate error\n", QM_ERR_CLONE_FAILED, 1},
        {"ERROR: unknown command 'qm foo'\nUSAGE: qm <COMMAND> [ARGS] [OPTIONS]\n",
         QM_ERR_UNKNOWN_COMMAND, 1},
        {"ERROR: no command specified\n", QM_ERR_UNKNOWN_COMMAND, 1},
        {"WARN: x\r\nVM is locked (clone)\r\n", QM_ERR_LOCKED, 2},
        {"status: running\nsnapshot 'a' does not exist", QM_ERR_NO_SNAPSHOT, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *at = (const char *)1;
        enum qm_error e = qm_classify_error(cases[i].text, &at);
        ck_assert_msg(e == cases[i].e, "case %zu: %s", i, qm_error_name(e));
        if (cases[i].line == 0) {
            ck_assert_ptr_null(at);
            continue;
        }
        const char *want = cases[i].text;
        for (unsigned k = 1; k < cases[i].line; k++) {
            want = strchr(want, '\n') + 1;
        }
        ck_assert_msg(at == want, "case %zu: wrong line", i);
    }
    ck_assert_int_eq(qm_classify_error(NULL, NULL), QM_ERR_NONE);
    /* an over-long line is classified on its start */
    char *big = malloc(100000);
    strcpy(big, "VM is locked (backup) ");
    memset(big + strlen(big), 'x', 90000);
    big[90022] = '\0';
    ck_assert_int_eq(qm_classify_error(big, NULL), QM_ERR_LOCKED);
    free(big);
    ck_assert_int_eq(qm_classify_error("VM is locked (backup)", NULL), QM_ERR_LOCKED);
}
END_TEST

START_TEST(classify_task)
{
    /* pve-guest-common AbstractMigrate.pm: the reason is in the worker's log */
    const char *out = "2026-11-30 04:00:00 starting migration of VM 9000 to node 'pve2'\n"
                      "2026-11-30 04:00:10 ERROR: migration aborted (duration 00:00:10): can't "
                      "lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout\n";
    const char *at = NULL;
    ck_assert_int_eq(qm_classify_task("migration aborted\n", out, &at), QM_ERR_LOCK_TIMEOUT);
    ck_assert_ptr_eq(at, strchr(out, '\n') + 1);
    ck_assert_int_eq(qm_classify_task("migration aborted\n",
                                      "2026-11-30 04:00:00 ERROR: migration aborted (duration "
                                      "00:00:00): VM is locked (backup)\n",
                                      NULL),
                     QM_ERR_LOCKED);
    /* stderr decides when it is recognised; an unknown reason stays unknown */
    ck_assert_int_eq(qm_classify_task("VM is locked (clone)\n", out, NULL), QM_ERR_LOCKED);
    ck_assert_int_eq(qm_classify_task("migration aborted\n",
                                      "x ERROR: migration aborted (duration 00:00:01): disk "
                                      "full\n",
                                      &at),
                     QM_ERR_UNKNOWN);
    /* a lock text elsewhere in the log is not the reason */
    ck_assert_int_eq(qm_classify_task("migration aborted\n",
                                      "x VM is locked (backup)\nx ERROR: migration aborted "
                                      "(duration 00:00:01): disk full\n",
                                      NULL),
                     QM_ERR_UNKNOWN);
    ck_assert_int_eq(qm_classify_task(NULL, NULL, NULL), QM_ERR_NONE);
}
END_TEST

START_TEST(error_names)
{
    for (int i = 0; i < _QM_ERR_MAX; i++) {
        const char *n = qm_error_name((enum qm_error)i);
        ck_assert_ptr_nonnull(n);
        ck_assert_str_ne(n, "invalid");
        for (int k = 0; k < i; k++) {
            ck_assert_str_ne(n, qm_error_name((enum qm_error)k));
        }
    }
    ck_assert_str_eq(qm_error_name(QM_ERR_NONE), "none");
    ck_assert_str_eq(qm_error_name(QM_ERR_LOCK_TIMEOUT), "lock-timeout");
    ck_assert_str_eq(qm_error_name(_QM_ERR_MAX), "invalid");
    ck_assert_str_eq(qm_error_name((enum qm_error) - 1), "invalid");
}
END_TEST

static Suite *qm_suite(void)
{
    Suite *s = suite_create("qm");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, status_plain_and_verbose);
    tcase_add_test(tc, config_diff_keys);
    tcase_add_test(tc, status_edge_cases);
    tcase_add_test(tc, status_errors);
    tcase_add_test(tc, status_overlong_line);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_add_test(tc, config_basic);
    tcase_add_test(tc, config_disks);
    tcase_add_test(tc, conf_file_sections);
    tcase_add_test(tc, conf_file_lines);
    tcase_add_test(tc, conf_file_cut);
    tcase_add_test(tc, conf_file_base);
    tcase_add_test(tc, config_errors);
    tcase_add_test(tc, config_overlong_line);
    tcase_add_test(tc, drive_keys);
    tcase_add_test(tc, decode_text);
    suite_add_tcase(s, tc);
    tc = tcase_create("list");
    tcase_add_test(tc, list_rows);
    tcase_add_test(tc, list_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("lines");
    tcase_add_test(tc, size_rendered);
    tcase_add_test(tc, line_kinds);
    tcase_add_test(tc, line_others);
    tcase_add_test(tc, line_overlong);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, error_classes);
    tcase_add_test(tc, classify_task);
    tcase_add_test(tc, error_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(qm_suite());
}
