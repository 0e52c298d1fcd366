/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the pure parts of the journal pillar: the MESSAGE_ID table
 * (and that the catalog documents each id), the event fields, the time-spec
 * parser, the linked-clone base finder, and the hook argv builders. Sending
 * and reading the journal is tested against a real journald in
 * tests/cli/t300-journal.sh. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hookreg.h"
#include "journal.h"
#include "volname.h"
#include "unit.h"

/* 2026-11-26 12:34:56 UTC; tests run with TZ=UTC. */
#define NOW 1795696496000000ULL

START_TEST(msg_ids_are_valid_and_unique)
{
    for (int i = 0; i < _JOURNAL_MSG_MAX; i++) {
        const struct journal_msg_info *mi = journal_msg_info((enum journal_msg)i);
        ck_assert_ptr_nonnull(mi);
        ck_assert_uint_eq(strlen(mi->id), 32);
        for (const char *p = mi->id; *p; p++) {
            ck_assert(isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f'));
        }
        ck_assert(mi->priority >= 0 && mi->priority <= 7);
        ck_assert_int_eq(journal_msg_from_id(mi->id), i);
        for (int k = 0; k < i; k++) {
            ck_assert_str_ne(mi->id, journal_msg_info((enum journal_msg)k)->id);
            ck_assert_str_ne(mi->name, journal_msg_info((enum journal_msg)k)->name);
        }
    }
    ck_assert_ptr_null(journal_msg_info(_JOURNAL_MSG_MAX));
    ck_assert_ptr_null(journal_msg_info(_JOURNAL_MSG_INVALID));
    ck_assert_int_eq(journal_msg_from_id("00000000000000000000000000000000"), _JOURNAL_MSG_INVALID);
    ck_assert_int_eq(journal_msg_from_id(NULL), _JOURNAL_MSG_INVALID);
}
END_TEST

START_TEST(catalog_documents_every_id)
{
    const char *top = getenv("PVETMPL_TOP");
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf/pvetmpl.catalog", top ? top : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    for (int i = 0; i < _JOURNAL_MSG_MAX; i++) {
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "\n-- %s\nSubject: ", journal_msg_info((enum journal_msg)i)->id);
        ck_assert_msg(strstr(text, hdr) != NULL, "catalog lacks %s", hdr + 4);
    }
}
END_TEST

START_TEST(phases)
{
    static const char *const names[] = {"pre-start", "post-start", "pre-stop", "post-stop"};
    for (int i = 0; i < 4; i++) {
        enum journal_phase p = journal_phase_from_string(names[i]);
        ck_assert_int_eq(p, i);
        ck_assert_str_eq(journal_phase_to_string(p), names[i]);
        ck_assert_int_eq(journal_phase_msg(p), JOURNAL_MSG_HOOK_PRE_START + i);
    }
    ck_assert_int_eq(journal_phase_from_string("pre-migrate"), _JOURNAL_PHASE_INVALID);
    ck_assert_int_eq(journal_phase_from_string("PRE-START"), _JOURNAL_PHASE_INVALID);
    ck_assert_int_eq(journal_phase_from_string(""), _JOURNAL_PHASE_INVALID);
    ck_assert_int_eq(journal_phase_from_string(NULL), _JOURNAL_PHASE_INVALID);
    ck_assert_ptr_null(journal_phase_to_string(_JOURNAL_PHASE_INVALID));
    ck_assert_int_eq(journal_phase_msg(_JOURNAL_PHASE_MAX), _JOURNAL_MSG_INVALID);
}
END_TEST

START_TEST(results)
{
    ck_assert_str_eq(journal_result_to_string(JOURNAL_STARTED), "started");
    ck_assert_str_eq(journal_result_to_string(JOURNAL_SUCCEEDED), "succeeded");
    ck_assert_str_eq(journal_result_to_string(JOURNAL_FAILED), "failed");
    ck_assert_str_eq(journal_result_to_string(JOURNAL_REFUSED), "refused");
    ck_assert_str_eq(journal_result_to_string(JOURNAL_DRY_RUN), "dry-run");
    ck_assert_int_eq(journal_result_msg(JOURNAL_STARTED), JOURNAL_MSG_ACTION_STARTED);
    ck_assert_int_eq(journal_result_msg(JOURNAL_DRY_RUN), JOURNAL_MSG_ACTION_DRY_RUN);
    ck_assert_int_eq(journal_result_msg(_JOURNAL_RESULT_MAX), _JOURNAL_MSG_INVALID);
}
END_TEST

static void assert_fields(const struct strv *sv, const char *const *want)
{
    size_t i = 0;
    for (; want[i]; i++) {
        ck_assert_msg(i < sv->n, "missing field %s", want[i]);
        ck_assert_str_eq(sv->v[i], want[i]);
    }
    ck_assert_uint_eq(sv->n, i);
}

START_TEST(event_fields_full)
{
    struct journal_event ev = {.action = "clone",
                               .vmid = 101,
                               .source_vmid = 9000,
                               .name = "web01",
                               .storage = "local-lvm"};
    struct strv sv = STRV_INIT;
    ck_assert_int_eq(
        journal_event_fields(&ev, JOURNAL_FAILED, 1, 1234, "'qm clone' failed", "alice", &sv), 0);
    const char *const want[] = {
        "MESSAGE=clone failed: VM 9000 -> 101 'web01' on 'local-lvm' in 1234 ms: 'qm clone' "
        "failed",
        "MESSAGE_ID=83241a15c883482ab443d58aceae279f",
        "PRIORITY=3",
        "SYSLOG_IDENTIFIER=pvetmpl",
        "PVETMPL_ACTION=clone",
        "PVETMPL_RESULT=failed",
        "PVETMPL_VMID=101",
        "PVETMPL_SOURCE_VMID=9000",
        "PVETMPL_NAME=web01",
        "PVETMPL_STORAGE=local-lvm",
        "PVETMPL_EXIT=1",
        "PVETMPL_DURATION_MS=1234",
        "PVETMPL_ERROR='qm clone' failed",
        "PVETMPL_USER=alice",
        NULL,
    };
    assert_fields(&sv, want);
    strv_release(&sv);
}
END_TEST

START_TEST(event_fields_minimal)
{
    struct journal_event ev = {
        .action = "hook-install", .vmid = 100, .volid = "local:snippets/pvetmpl-hook"};
    struct strv sv = STRV_INIT;
    ck_assert_int_eq(journal_event_fields(&ev, JOURNAL_STARTED, -1, -1, NULL, NULL, &sv), 0);
    const char *const want[] = {
        "MESSAGE=hook-install started: VM 100",
        "MESSAGE_ID=e6110781a22e4187ad41bbb786685409",
        "PRIORITY=6",
        "SYSLOG_IDENTIFIER=pvetmpl",
        "PVETMPL_ACTION=hook-install",
        "PVETMPL_RESULT=started",
        "PVETMPL_VMID=100",
        "PVETMPL_VOLID=local:snippets/pvetmpl-hook",
        NULL,
    };
    assert_fields(&sv, want);
    strv_release(&sv);

    struct journal_event none = {.vmid = 100};
    ck_assert_int_eq(journal_event_fields(&none, JOURNAL_STARTED, -1, -1, NULL, NULL, &sv),
                     -EINVAL);
    ck_assert_int_eq(journal_event_fields(&ev, _JOURNAL_RESULT_MAX, -1, -1, NULL, NULL, &sv),
                     -EINVAL);
}
END_TEST

START_TEST(user_from_sudo)
{
    char buf[64];
    bool sudo;
    /* SUDO_UID says who, by number; SUDO_USER is never read. */
    setenv("SUDO_USER", "bob", 1);
    setenv("SUDO_UID", "4000002", 1);
    journal_user(buf, sizeof(buf));
    if (getuid() == 0) {
        ck_assert_str_eq(buf, "uid:4000002"); /* a uid without a name */
        ck_assert_uint_eq(journal_caller_uid(&sudo), 4000002);
        ck_assert(sudo);
        setenv("SUDO_UID", "0", 1);
        journal_user(buf, sizeof(buf));
        ck_assert_str_eq(buf, "root");
        /* not a plain decimal, or (uid_t)-1: no sudo caller */
        const char *bad[] = {"", "-1", "+5", "12a", "4294967295", "99999999999", " 5"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            setenv("SUDO_UID", bad[i], 1);
            ck_assert_uint_eq(journal_caller_uid(&sudo), 0);
            ck_assert_msg(!sudo, "SUDO_UID '%s'", bad[i]);
        }
        setenv("SUDO_UID", "4000002", 1);
        /* check forks each test: dropping root here affects only this one. */
        ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);
        journal_user(buf, sizeof(buf));
    }
    /* Not root: SUDO_* are anyone's to set, so they are ignored. */
    ck_assert_str_ne(buf, "bob");
    ck_assert_str_ne(buf, "uid:4000002");
    ck_assert_uint_eq(journal_caller_uid(&sudo), getuid());
    ck_assert(!sudo);
    ck_assert(buf[0] != '\0');
    unsetenv("SUDO_USER");
    unsetenv("SUDO_UID");
    journal_user(buf, sizeof(buf));
    ck_assert(buf[0] != '\0');
}
END_TEST

static uint64_t t(const char *s)
{
    uint64_t v = 0;
    ck_assert_msg(journal_parse_time(s, NOW, &v) == 0, "'%s' did not parse", s);
    return v;
}

static void bad(const char *s)
{
    uint64_t v = 42;
    ck_assert_msg(journal_parse_time(s, NOW, &v) == -EINVAL, "'%s' parsed", s);
    ck_assert_uint_eq(v, 42);
}

START_TEST(time_absolute)
{
    ck_assert_uint_eq(t("2026-11-26"), 1795651200000000ULL);
    ck_assert_uint_eq(t("2026-11-26 12:34"), 1795696440000000ULL);
    ck_assert_uint_eq(t("2026-11-26 12:34:56"), NOW);
    ck_assert_uint_eq(t("2026-11-26T12:34:56"), NOW);
    ck_assert_uint_eq(t("12:00"), 1795694400000000ULL); /* today */
    ck_assert_uint_eq(t("@0"), 0);
    ck_assert_uint_eq(t("@1795696496"), NOW);
    ck_assert_uint_eq(t("@1.5"), 1500000ULL);
    ck_assert_uint_eq(t("now"), NOW);
    ck_assert_uint_eq(t("today"), 1795651200000000ULL);
    ck_assert_uint_eq(t("yesterday"), 1795651200000000ULL - 86400000000ULL);
    ck_assert_uint_eq(t("tomorrow"), 1795651200000000ULL + 86400000000ULL);
    ck_assert_uint_eq(t("2024-02-29"), 1709164800000000ULL);
}
END_TEST

START_TEST(time_relative)
{
    ck_assert_uint_eq(t("-1h"), NOW - 3600000000ULL);
    ck_assert_uint_eq(t("+1h"), NOW + 3600000000ULL);
    ck_assert_uint_eq(t("-30min"), NOW - 1800000000ULL);
    ck_assert_uint_eq(t("-1h 30min"), NOW - 5400000000ULL);
    ck_assert_uint_eq(t("-2d"), NOW - 2 * 86400000000ULL);
    ck_assert_uint_eq(t("-1w"), NOW - 604800000000ULL);
    ck_assert_uint_eq(t("-10s"), NOW - 10000000ULL);
    ck_assert_uint_eq(t("-10"), NOW - 10000000ULL); /* bare number: seconds */
    ck_assert_uint_eq(t("-5m"), NOW - 300000000ULL);
    ck_assert_uint_eq(t("-1M"), NOW - 2629800000000ULL);
    ck_assert_uint_eq(t("2 days ago"), NOW - 2 * 86400000000ULL);
    ck_assert_uint_eq(t("1h ago"), NOW - 3600000000ULL);
    ck_assert_uint_eq(t("5min left"), NOW + 300000000ULL);
    ck_assert_uint_eq(t("-100y"), 0); /* clamps at the epoch */
}
END_TEST

START_TEST(time_invalid)
{
    bad("");
    bad("soon");
    bad("2026-13-01");
    bad("2026-02-30");
    bad("2026-11-26 25:00");
    bad("2026-11-26 12:60");
    bad("2026-11-26 12");
    bad("2026-11-26x");
    bad("26-11-2026");
    bad("@");
    bad("@-1");
    bad("@12x");
    bad("-");
    bad("-1 parsec");
    bad("-h");
    bad(" ago");
    bad("1969-12-31");
    bad("-99999999999999999999h");
}
END_TEST

START_TEST(base_vmid)
{
    /* The two shapes Proxmox gives a linked clone's disks. */
    ck_assert_uint_eq(
        journal_base_vmid("local:100/base-100-disk-0.qcow2/101/vm-101-disk-0.qcow2", 101), 100);
    ck_assert_uint_eq(journal_base_vmid("local-zfs:base-9000-disk-0/vm-101-disk-0", 101), 9000);
    ck_assert_uint_eq(journal_base_vmid("ceph:base-123456789-disk-1/vm-200-disk-1", 200),
                      123456789);
    ck_assert_uint_eq(journal_base_vmid("local-lvm:base-100-disk-0/vm-101-cloudinit", 101), 100);
    /* Full clones, media and look-alikes are not. */
    ck_assert_uint_eq(journal_base_vmid("local-lvm:vm-101-disk-0", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:iso/base-100-disk-0.iso", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-100-disk-0.iso", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:101/mybase-100-disk-0.raw", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-99-disk-0/vm-101-disk-0", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-0100-disk-0/vm-101-disk-0", 101), 0);
    /* The template's own base volume, and another VM's volume. */
    ck_assert_uint_eq(journal_base_vmid("local-zfs:base-100-disk-0", 100), 0);
    ck_assert_uint_eq(journal_base_vmid("local-zfs:base-100-disk-0/vm-102-disk-0", 101), 0);
    ck_assert_uint_eq(
        journal_base_vmid("local:100/base-100-disk-0.qcow2/102/vm-102-disk-0.qcow2", 101), 0);
    /* Directory and base do not agree; nested paths; no disk number. */
    ck_assert_uint_eq(
        journal_base_vmid("local:200/base-100-disk-0.qcow2/101/vm-101-disk-0.qcow2", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-100-disk-0/vm-101-disk-0/x", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-100-disk-/vm-101-disk-0", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-100-disk-0/vm-101-", 101), 0);
    ck_assert_uint_eq(journal_base_vmid(":base-100-disk-0/vm-101-disk-0", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("base-100-disk-0/vm-101-disk-0", 101), 0);
    /* volname_parse's shapes bound it: a file storage's volumes end in
     * .raw, .qcow2 or .vmdk, a block storage's names hold no space. */
    ck_assert_uint_eq(journal_base_vmid("local:100/base-100-disk-0.qcow2/101/vm-101-disk-0", 101),
                      0);
    ck_assert_uint_eq(
        journal_base_vmid("local:100/base-100-disk-0.iso/101/vm-101-disk-0.qcow2", 101), 0);
    ck_assert_uint_eq(journal_base_vmid("local:base-100-disk-0/vm-101-disk 0", 101), 0);
    /* the directory and the name of the clone's volume are both this VM's */
    ck_assert_uint_eq(
        journal_base_vmid("local:100/base-100-disk-0.qcow2/101/vm-102-disk-0.qcow2", 101), 0);
    ck_assert_uint_eq(
        journal_base_vmid("local:100/base-100-disk-0.qcow2/102/vm-101-disk-0.qcow2", 101), 0);
    /* what it accepts, volname_parse reads as the same base */
    static const char *const linked[] = {
        "100/base-100-disk-0.qcow2/101/vm-101-disk-0.qcow2",
        "100/base-100-disk-12.raw/101/vm-101-disk-3.raw",
        "base-9000-disk-0/vm-101-disk-0",
    };
    for (size_t i = 0; i < sizeof(linked) / sizeof(linked[0]); i++) {
        char vol[128];
        struct volname v;
        snprintf(vol, sizeof(vol), "store:%s", linked[i]);
        ck_assert_int_eq(volname_parse(linked[i], &v), 0);
        ck_assert_uint_eq(journal_base_vmid(vol, 101), v.base_vmid);
    }
    ck_assert_uint_eq(journal_base_vmid("none", 101), 0);
    ck_assert_uint_eq(journal_base_vmid(NULL, 101), 0);
}
END_TEST

START_TEST(volids)
{
    char buf[64];
    ck_assert_int_eq(hook_volid("local", "pvetmpl-hook", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "local:snippets/pvetmpl-hook");
    ck_assert_int_eq(hook_volid("local", "pvetmpl-hook", buf, 10), -ENAMETOOLONG);
    ck_assert(hook_volid_is_ours("local:snippets/pvetmpl-hook", "pvetmpl-hook"));
    ck_assert(hook_volid_is_ours("nfs-1:snippets/pvetmpl-hook", "pvetmpl-hook"));
    ck_assert(!hook_volid_is_ours("local:snippets/other.pl", "pvetmpl-hook"));
    ck_assert(!hook_volid_is_ours("local:snippets/pvetmpl-hook2", "pvetmpl-hook"));
    ck_assert(!hook_volid_is_ours("local:iso/pvetmpl-hook", "pvetmpl-hook"));
    ck_assert(!hook_volid_is_ours(":snippets/pvetmpl-hook", "pvetmpl-hook"));
    ck_assert(!hook_volid_is_ours("pvetmpl-hook", "pvetmpl-hook"));
    ck_assert(!hook_volid_is_ours(NULL, "pvetmpl-hook"));
}
END_TEST

/* A name journald would drop the entry for is refused before sending. */
START_TEST(field_names)
{
    static const char *const bad[] = {
        "BAD\nNAME=x",
        "lower=x",
        "9LIVES=x",
        "_TRUSTED=x",
        "=x",
        "NOEQUALS",
        "A-B=x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x", /* 65 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iovec iov[2] = {{(char *)"MESSAGE=m", 9}, {(char *)bad[i], strlen(bad[i])}};
        struct err e = {ERR_OK, ""};
        ck_assert_int_lt(journal_sendv(iov, 2, &e), 0);
        ck_assert_msg(strstr(e.detail, "field 2 has no valid name"), "%s: %s", bad[i], e.detail);
    }
}
END_TEST

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("journal");
    tcase_add_test(tc, msg_ids_are_valid_and_unique);
    tcase_add_test(tc, catalog_documents_every_id);
    tcase_add_test(tc, phases);
    tcase_add_test(tc, results);
    tcase_add_test(tc, event_fields_full);
    tcase_add_test(tc, event_fields_minimal);
    tcase_add_test(tc, user_from_sudo);
    tcase_add_test(tc, time_absolute);
    tcase_add_test(tc, time_relative);
    tcase_add_test(tc, time_invalid);
    tcase_add_test(tc, base_vmid);
    tcase_add_test(tc, volids);
    tcase_add_test(tc, field_names);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
