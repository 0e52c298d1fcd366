/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "journal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <endian.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "volname.h"

/* Generated once with `systemd-id128 new`; conf/pvetmpl.catalog documents
 * each. Never reuse or change an id: saved journal queries depend on them. */
static const struct journal_msg_info msgs[_JOURNAL_MSG_MAX] = {
    [JOURNAL_MSG_HOOK_PRE_START] = {"0088113c58354056aaac4d63266d83bc", "hook-pre-start", 6},
    [JOURNAL_MSG_HOOK_POST_START] = {"146f9bae60d34fe0a9c0c2be2d720f00", "hook-post-start", 6},
    [JOURNAL_MSG_HOOK_PRE_STOP] = {"a59a76b517484e8e9277e11008957cc4", "hook-pre-stop", 6},
    [JOURNAL_MSG_HOOK_POST_STOP] = {"c72a7568645347b08b2bb9c4299c4f97", "hook-post-stop", 6},
    [JOURNAL_MSG_HOOK_REFUSED] = {"1955303dbf2440698971b5e467e691f3", "hook-refused", 4},
    [JOURNAL_MSG_HOOK_INVALID] = {"52275f2771314a6382f6f849605a4497", "hook-invalid", 4},
    [JOURNAL_MSG_ACTION_STARTED] = {"e6110781a22e4187ad41bbb786685409", "action-started", 6},
    [JOURNAL_MSG_ACTION_SUCCEEDED] = {"af54a1449e15477cbe8f5b94cc8fd3cd", "action-succeeded", 5},
    [JOURNAL_MSG_ACTION_FAILED] = {"83241a15c883482ab443d58aceae279f", "action-failed", 3},
    [JOURNAL_MSG_ACTION_REFUSED] = {"43242ce83883437e8d97216c3986631f", "action-refused", 4},
    [JOURNAL_MSG_ACTION_DRY_RUN] = {"005554488480410a91698c38c3c0ed42", "action-dry-run", 6},
    [JOURNAL_MSG_ACTION_DENIED] = {"01b2bf2779e7455aa839a7c25cebe61f", "action-denied", 4},
};

const struct journal_msg_info *journal_msg_info(enum journal_msg m)
{
    return (m >= 0 && m < _JOURNAL_MSG_MAX) ? &msgs[m] : NULL;
}

enum journal_msg journal_msg_from_id(const char *id)
{
    for (int i = 0; i < _JOURNAL_MSG_MAX; i++) {
        if (id && strcmp(id, msgs[i].id) == 0) {
            return (enum journal_msg)i;
        }
    }
    return _JOURNAL_MSG_INVALID;
}

static const char *const phases[_JOURNAL_PHASE_MAX] = {
    [JOURNAL_PHASE_PRE_START] = "pre-start",
    [JOURNAL_PHASE_POST_START] = "post-start",
    [JOURNAL_PHASE_PRE_STOP] = "pre-stop",
    [JOURNAL_PHASE_POST_STOP] = "post-stop",
};

enum journal_phase journal_phase_from_string(const char *s)
{
    for (int i = 0; i < _JOURNAL_PHASE_MAX; i++) {
        if (s && strcmp(s, phases[i]) == 0) {
            return (enum journal_phase)i;
        }
    }
    return _JOURNAL_PHASE_INVALID;
}

const char *journal_phase_to_string(enum journal_phase p)
{
    return (p >= 0 && p < _JOURNAL_PHASE_MAX) ? phases[p] : NULL;
}

enum journal_msg journal_phase_msg(enum journal_phase p)
{
    return (p >= 0 && p < _JOURNAL_PHASE_MAX) ? (enum journal_msg)(JOURNAL_MSG_HOOK_PRE_START + p)
                                              : _JOURNAL_MSG_INVALID;
}

static const char *const results[_JOURNAL_RESULT_MAX] = {
    [JOURNAL_STARTED] = "started", [JOURNAL_SUCCEEDED] = "succeeded", [JOURNAL_FAILED] = "failed",
    [JOURNAL_REFUSED] = "refused", [JOURNAL_DRY_RUN] = "dry-run",     [JOURNAL_DENIED] = "denied",
};

const char *journal_result_to_string(enum journal_result r)
{
    return (r >= 0 && r < _JOURNAL_RESULT_MAX) ? results[r] : NULL;
}

enum journal_msg journal_result_msg(enum journal_result r)
{
    return (r >= 0 && r < _JOURNAL_RESULT_MAX) ? (enum journal_msg)(JOURNAL_MSG_ACTION_STARTED + r)
                                               : _JOURNAL_MSG_INVALID;
}

/* "clone succeeded: VM 9000 -> 101 'web01' on 'local-lvm' (1234 ms)" */
static char *event_message(const struct journal_event *ev, enum journal_result r, long duration_ms,
                           const char *error)
{
    char vm[64] = "", dur[48] = "";
    if (ev->source_vmid && ev->vmid) {
        snprintf(vm, sizeof(vm), ": VM %" PRIu32 " -> %" PRIu32, ev->source_vmid, ev->vmid);
    } else if (ev->vmid || ev->source_vmid) {
        snprintf(vm, sizeof(vm), ": VM %" PRIu32, ev->vmid ? ev->vmid : ev->source_vmid);
    }
    if (duration_ms >= 0) {
        snprintf(dur, sizeof(dur), " in %ld ms", duration_ms);
    }
    char *m = NULL;
    if (asprintf(&m, "%s %s%s%s%s%s%s%s%s%s%s%s", ev->action, results[r], vm, ev->name ? " '" : "",
                 ev->name ? ev->name : "", ev->name ? "'" : "", ev->storage ? " on '" : "",
                 ev->storage ? ev->storage : "", ev->storage ? "'" : "", dur, error ? ": " : "",
                 error ? error : "") < 0) {
        return NULL;
    }
    return m;
}

int journal_event_fields(const struct journal_event *ev, enum journal_result r, int exit_code,
                         long duration_ms, const char *error, const char *user, struct strv *ret)
{
    struct strv sv = STRV_INIT;
    const struct journal_msg_info *mi = journal_msg_info(journal_result_msg(r));
    if (!mi || !ev->action) {
        return -EINVAL;
    }
    char *msg = event_message(ev, r, duration_ms, error);
    int k = msg ? strv_pushf(&sv, "MESSAGE=%s", msg) : -ENOMEM;
    free(msg);
    if (k == 0) {
        k = strv_pushf(&sv, "MESSAGE_ID=%s", mi->id);
    }
    if (k == 0) {
        k = strv_pushf(&sv, "PRIORITY=%d", mi->priority);
    }
    if (k == 0) {
        k = strv_push(&sv, "SYSLOG_IDENTIFIER=" JOURNAL_IDENT);
    }
    if (k == 0) {
        k = strv_pushf(&sv, "PVETMPL_ACTION=%s", ev->action);
    }
    if (k == 0) {
        k = strv_pushf(&sv, "PVETMPL_RESULT=%s", results[r]);
    }
    if (k == 0 && ev->vmid) {
        k = strv_pushf(&sv, "PVETMPL_VMID=%" PRIu32, ev->vmid);
    }
    if (k == 0 && ev->source_vmid) {
        k = strv_pushf(&sv, "PVETMPL_SOURCE_VMID=%" PRIu32, ev->source_vmid);
    }
    if (k == 0 && ev->name) {
        k = strv_pushf(&sv, "PVETMPL_NAME=%s", ev->name);
    }
    if (k == 0 && ev->storage) {
        k = strv_pushf(&sv, "PVETMPL_STORAGE=%s", ev->storage);
    }
    if (k == 0 && ev->volid) {
        k = strv_pushf(&sv, "PVETMPL_VOLID=%s", ev->volid);
    }
    if (k == 0 && exit_code >= 0) {
        k = strv_pushf(&sv, "PVETMPL_EXIT=%d", exit_code);
    }
    if (k == 0 && duration_ms >= 0) {
        k = strv_pushf(&sv, "PVETMPL_DURATION_MS=%ld", duration_ms);
    }
    if (k == 0 && error) {
        k = strv_pushf(&sv, "PVETMPL_ERROR=%s", error);
    }
    if (k == 0 && user) {
        k = strv_pushf(&sv, "PVETMPL_USER=%s", user);
    }
    if (k < 0) {
        strv_release(&sv);
        return k;
    }
    *ret = sv;
    return 0;
}

uid_t journal_caller_uid(bool *via_sudo)
{
    /* Only root can have been reached through sudo; anyone else could set
     * it. A root caller forging it only narrows its own run (policy.h). */
    const char *s = getuid() == 0 ? getenv("SUDO_UID") : NULL;
    uint64_t v = 0;
    bool ok = s && *s && strlen(s) <= 10;
    for (const char *p = s; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9';
        v = v * 10 + (uint64_t)(*p - '0');
    }
    ok = ok && v < UINT32_MAX; /* (uid_t)-1 is no user */
    if (via_sudo) {
        *via_sudo = ok;
    }
    return ok ? (uid_t)v : getuid();
}

void journal_user(char *buf, size_t len)
{
    bool sudo;
    uid_t uid = journal_caller_uid(&sudo);
    struct passwd pw, *res = NULL;
    char pwbuf[1024];
    /* getlogin_r reads /proc/self/loginuid (survives su/sudo), then utmp:
     * who logged in, when no sudo says who asked. */
    if (!sudo && getlogin_r(buf, len) == 0 && buf[0]) {
        return;
    }
    if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res &&
        strlen(res->pw_name) < len) {
        snprintf(buf, len, "%s", res->pw_name);
        return;
    }
    snprintf(buf, len, "uid:%u", (unsigned)uid);
}

static char context_user[256], context_grant[256];
static bool have_context_user;

void journal_set_context(const char *user, const char *grant)
{
    if (user) {
        have_context_user = true;
        snprintf(context_user, sizeof(context_user), "%s", user);
    }
    snprintf(context_grant, sizeof(context_grant), "%s", grant ? grant : "");
}

int journal_check_socket(struct err *e)
{
    struct stat st;
    if (stat(JOURNAL_SOCKET, &st) < 0) {
        return err_set(e, ERR_PRECONDITION, "journal socket '%s' is not available: %s",
                       JOURNAL_SOCKET, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return err_set(e, ERR_PRECONDITION, "journal socket '%s' is not a socket", JOURNAL_SOCKET);
    }
    return 0;
}

/* Set once a write of this process timed out: journald is stalled, and later
 * writes try once without waiting, so a run never waits more than one bound. */
static bool journal_stalled;

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* sendmsg with the time left of the bound as SO_SNDTIMEO: a full socket queue
 * (journald stopped or too slow) makes it fail with EAGAIN instead of blocking
 * forever. A signal does not end the wait early, only the bound does. Returns
 * 0 or -errno. */
static int send_bounded(int fd, const struct msghdr *mh, const struct timespec *t0)
{
    for (;;) {
        long left = journal_stalled ? 0 : JOURNAL_SEND_TIMEOUT_MS - ms_since(t0);
        if (left > 0) {
            struct timeval tv = {left / 1000, (left % 1000) * 1000};
            if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
                return -errno;
            }
        }
        if (sendmsg(fd, mh, MSG_NOSIGNAL | (left > 0 ? 0 : MSG_DONTWAIT)) >= 0) {
            return 0;
        }
        if (errno == EINTR && left > 0) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            journal_stalled = true;
        }
        return -errno;
    }
}

/* An entry too large for one datagram goes as a sealed memfd (journald's
 * native protocol accepts one passed with SCM_RIGHTS). */
static int send_memfd(int fd, struct msghdr mh, const struct timespec *t0)
{
    int mfd = memfd_create("pvetmpl-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0) {
        return -errno;
    }
    int r = 0;
    for (size_t i = 0; i < mh.msg_iovlen && r == 0; i++) {
        const char *p = mh.msg_iov[i].iov_base;
        size_t left = mh.msg_iov[i].iov_len;
        while (left > 0) {
            ssize_t k = write(mfd, p, left);
            if (k < 0 && errno == EINTR) {
                continue;
            }
            if (k <= 0) {
                r = k < 0 ? -errno : -EIO;
                break;
            }
            p += k;
            left -= (size_t)k;
        }
    }
    if (r == 0 &&
        fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        r = -errno;
    }
    if (r == 0) {
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int))];
        } control;
        memset(&control, 0, sizeof(control));
        mh.msg_iov = NULL;
        mh.msg_iovlen = 0;
        mh.msg_control = &control;
        mh.msg_controllen = sizeof(control);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
        r = send_bounded(fd, &mh, t0);
    }
    close(mfd);
    return r;
}

/* journald's rule for a field a client may send (systemd journal_field_valid
 * with protected fields refused): 1-64 characters of A-Z, 0-9 and '_', not
 * starting with a digit, and no leading '_' (trusted fields, set by journald
 * itself). journald drops an entry with any other name without a word. */
static bool field_name_valid(const char *p, size_t len)
{
    if (len == 0 || len > 64 || (p[0] >= '0' && p[0] <= '9') || p[0] == '_') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_')) {
            return false;
        }
    }
    return true;
}

int journal_sendv(const struct iovec *iov, int n, struct err *e)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool stalled_before = journal_stalled;
    if (n < 0 || n > JOURNAL_MAX_FIELDS) {
        return err_set(e, ERR_INTERNAL, "cannot write to the journal: %d fields (at most %d)", n,
                       JOURNAL_MAX_FIELDS);
    }
    for (int i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        const char *eq = memchr(p, '=', iov[i].iov_len);
        size_t klen = eq ? (size_t)(eq - p) : iov[i].iov_len;
        if (!eq || !field_name_valid(p, klen)) {
            return err_set(e, ERR_INTERNAL,
                           "cannot write to the journal: field %d has no valid name (A-Z, 0-9, "
                           "'_', at most 64, not starting with a digit or '_')",
                           i + 1);
        }
    }
    if (journal_check_socket(e) < 0) {
        return -1;
    }
    /* journald's native protocol (systemd's docs/JOURNAL_NATIVE_PROTOCOL.md):
     * "KEY=value\n", or for a value holding a newline "KEY\n", the value's
     * length as 64-bit little endian, the value, "\n". Spoken here rather
     * than through sd_journal_sendv, whose blocking socket is out of reach. */
    static const char nl[] = "\n";
    struct iovec w[JOURNAL_MAX_FIELDS * 5];
    uint64_t lens[JOURNAL_MAX_FIELDS];
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        char *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;
        char *eq = memchr(p, '=', len);
        if (!eq || eq == p) {
            return err_set(e, ERR_INTERNAL, "cannot write to the journal: a field without a name");
        }
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        if (memchr(eq + 1, '\n', vlen)) {
            lens[i] = htole64((uint64_t)vlen);
            w[k++] = (struct iovec){p, klen};
            w[k++] = (struct iovec){(char *)nl, 1};
            w[k++] = (struct iovec){&lens[i], sizeof(lens[i])};
            w[k++] = (struct iovec){eq + 1, vlen};
        } else {
            w[k++] = (struct iovec){p, len};
        }
        w[k++] = (struct iovec){(char *)nl, 1};
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return err_set(e, ERR_INTERNAL, "cannot write to the journal: %s", strerror(errno));
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
    struct msghdr mh = {
        .msg_name = &sa,
        .msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof(JOURNAL_SOCKET)),
        .msg_iov = w,
        .msg_iovlen = k,
    };
    int r = send_bounded(fd, &mh, &t0);
    if (r == -EMSGSIZE || r == -ENOBUFS) {
        r = send_memfd(fd, mh, &t0);
    }
    close(fd);
    if ((r == -EAGAIN || r == -EWOULDBLOCK) && stalled_before) {
        return err_set(e, ERR_TIMEOUT,
                       "journald did not take it at once and is not waited for again (an earlier "
                       "write timed out after %d s: journald stalled or overloaded)",
                       JOURNAL_SEND_TIMEOUT_MS / 1000);
    }
    if (r == -EAGAIN || r == -EWOULDBLOCK) {
        return err_set(e, ERR_TIMEOUT,
                       "the journal write timed out after %d s (journald stalled or overloaded)",
                       JOURNAL_SEND_TIMEOUT_MS / 1000);
    }
    if (r < 0) {
        return err_set(e, ERR_INTERNAL, "cannot write to the journal: %s", strerror(-r));
    }
    return 0;
}

static const char *frontend = "cli";

void journal_set_frontend(const char *f)
{
    frontend = f;
}

/* Extra fields of one entry beyond journal_event_fields's. */
struct extra {
    const char *plan, *grant, *field, *request;
};

static int send_event_x(const struct journal_event *ev, enum journal_result r, int exit_code,
                        long duration_ms, const char *error, const struct extra *x, struct err *e)
{
    char user[256];
    struct strv sv = STRV_INIT;
    const char *grant = x->grant ? x->grant : context_grant[0] ? context_grant : NULL;
    if (have_context_user) {
        snprintf(user, sizeof(user), "%s", context_user);
    } else {
        journal_user(user, sizeof(user));
    }
    if (journal_event_fields(ev, r, exit_code, duration_ms, error, user, &sv) < 0 ||
        strv_pushf(&sv, "PVETMPL_FRONTEND=%s", frontend) < 0 ||
        (x->plan && strv_pushf(&sv, "PVETMPL_PLAN=%s", x->plan) < 0) ||
        (grant && strv_pushf(&sv, "PVETMPL_POLICY=%s", grant) < 0) ||
        (x->field && strv_pushf(&sv, "PVETMPL_POLICY_FIELD=%s", x->field) < 0) ||
        (x->request && strv_pushf(&sv, "PVETMPL_REQUEST=%s", x->request) < 0)) {
        strv_release(&sv);
        return err_set(e, ERR_INTERNAL, "audit record '%s %s' not written: out of memory",
                       ev->action ? ev->action : "?", results[r]);
    }
    struct iovec iov[32];
    int n = 0;
    for (size_t i = 0; i < sv.n && n < (int)(sizeof(iov) / sizeof(iov[0])); i++) {
        iov[n].iov_base = sv.v[i];
        iov[n].iov_len = strlen(sv.v[i]);
        n++;
    }
    int k = journal_sendv(iov, n, e);
    strv_release(&sv);
    if (k < 0) {
        /* Say which record is missing: the caller only adds "warning". */
        char d[sizeof(e->detail)];
        snprintf(d, sizeof(d), "%s", e->detail);
        return err_set(e, e->cls, "audit record '%s %s' not written: %.900s", ev->action,
                       results[r], d);
    }
    return 0;
}

static int send_event(const struct journal_event *ev, enum journal_result r, int exit_code,
                      long duration_ms, const char *error, const char *plan, struct err *e)
{
    struct extra x = {.plan = plan};
    return send_event_x(ev, r, exit_code, duration_ms, error, &x, e);
}

int journal_denied(const struct journal_event *ev, const char *grant, const char *field,
                   const char *request, const struct err *why, struct err *e)
{
    struct extra x = {.grant = grant, .field = field, .request = request};
    return send_event_x(ev, JOURNAL_DENIED, why ? err_exit_code(why->cls) : -1, -1,
                        why ? why->detail : NULL, &x, e);
}

int journal_begin(struct journal_event *ev, struct err *e)
{
    clock_gettime(CLOCK_MONOTONIC, &ev->t0);
    return send_event(ev, JOURNAL_STARTED, -1, -1, NULL, NULL, e);
}

static long elapsed_ms(const struct journal_event *ev)
{
    if (ev->t0.tv_sec == 0 && ev->t0.tv_nsec == 0) {
        return -1;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)((now.tv_sec - ev->t0.tv_sec) * 1000 + (now.tv_nsec - ev->t0.tv_nsec) / 1000000);
}

int journal_end(const struct journal_event *ev, const struct err *why, struct err *e)
{
    if (!why) {
        return send_event(ev, JOURNAL_SUCCEEDED, 0, elapsed_ms(ev), NULL, NULL, e);
    }
    return send_event(ev, JOURNAL_FAILED, err_exit_code(why->cls), elapsed_ms(ev), why->detail,
                      NULL, e);
}

int journal_refused(const struct journal_event *ev, const struct err *why, struct err *e)
{
    return send_event(ev, JOURNAL_REFUSED, why ? err_exit_code(why->cls) : -1, -1,
                      why ? why->detail : NULL, NULL, e);
}

int journal_dry_run(const struct journal_event *ev, const char *plan, struct err *e)
{
    return send_event(ev, JOURNAL_DRY_RUN, 0, -1, NULL, plan, e);
}

int journal_dry_run_failed(const struct journal_event *ev, const struct err *why, struct err *e)
{
    return send_event(ev, JOURNAL_DRY_RUN, why ? err_exit_code(why->cls) : -1, -1,
                      why ? why->detail : NULL, NULL, e);
}

/* ---- time specs ------------------------------------------------------- */

static const struct {
    const char *name;
    uint64_t usec;
} units[] = {
    {"usec", 1ULL},
    {"us", 1ULL},
    {"msec", 1000ULL},
    {"ms", 1000ULL},
    {"seconds", 1000000ULL},
    {"second", 1000000ULL},
    {"sec", 1000000ULL},
    {"s", 1000000ULL},
    {"minutes", 60000000ULL},
    {"minute", 60000000ULL},
    {"min", 60000000ULL},
    {"months", 2629800000000ULL}, /* systemd: 30.44 days */
    {"month", 2629800000000ULL},
    {"M", 2629800000000ULL},
    {"m", 60000000ULL},
    {"hours", 3600000000ULL},
    {"hour", 3600000000ULL},
    {"hr", 3600000000ULL},
    {"h", 3600000000ULL},
    {"days", 86400000000ULL},
    {"day", 86400000000ULL},
    {"d", 86400000000ULL},
    {"weeks", 604800000000ULL},
    {"week", 604800000000ULL},
    {"w", 604800000000ULL},
    {"years", 31557600000000ULL}, /* systemd: 365.25 days */
    {"year", 31557600000000ULL},
    {"y", 31557600000000ULL},
};

/* "1h 30min" (at least one number+unit pair) -> usec. */
static int parse_span(const char *s, uint64_t *ret)
{
    uint64_t total = 0;
    int pairs = 0;
    for (;;) {
        while (*s == ' ') {
            s++;
        }
        if (!*s) {
            break;
        }
        if (!isdigit((unsigned char)*s)) {
            return -EINVAL;
        }
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || v > UINT32_MAX) {
            return -EINVAL;
        }
        s = end;
        while (*s == ' ') {
            s++;
        }
        size_t ulen = 0;
        while (isalpha((unsigned char)s[ulen])) {
            ulen++;
        }
        uint64_t mult = 0;
        if (ulen == 0) {
            mult = 1000000ULL; /* a bare number is seconds, as in systemd */
        }
        for (size_t i = 0; ulen && i < sizeof(units) / sizeof(units[0]); i++) {
            if (strlen(units[i].name) == ulen && strncmp(units[i].name, s, ulen) == 0) {
                mult = units[i].usec;
                break;
            }
        }
        if (!mult || v > UINT64_MAX / mult || total > UINT64_MAX - v * mult) {
            return -EINVAL;
        }
        total += v * mult;
        s += ulen;
        pairs++;
    }
    if (!pairs) {
        return -EINVAL;
    }
    *ret = total;
    return 0;
}

/* Exactly n digits into *ret. */
static int digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -EINVAL;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *ret = v;
    return 0;
}

/* "HH:MM[:SS]" at the end of the string. */
static int parse_clock(const char *p, struct tm *tm)
{
    int h, mi, se = 0;
    if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0) {
        return -EINVAL;
    }
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &se) < 0) {
            return -EINVAL;
        }
    }
    if (*p || h > 23 || mi > 59 || se > 60) {
        return -EINVAL;
    }
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = se;
    return 0;
}

static int tm_to_usec(struct tm *tm, uint64_t *ret)
{
    tm->tm_isdst = -1;
    int y = tm->tm_year, mo = tm->tm_mon, d = tm->tm_mday;
    time_t t = mktime(tm);
    /* mktime normalises 2026-02-31 into March: refuse such dates. */
    if (t == (time_t)-1 || t < 0 || tm->tm_year != y || tm->tm_mon != mo || tm->tm_mday != d) {
        return -EINVAL;
    }
    *ret = (uint64_t)t * 1000000ULL;
    return 0;
}

static int day_start(uint64_t now_usec, int day_offset, uint64_t *ret)
{
    time_t t = (time_t)(now_usec / 1000000ULL);
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        return -EINVAL;
    }
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mday += day_offset;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1) {
        return -EINVAL;
    }
    *ret = (uint64_t)t * 1000000ULL;
    return 0;
}

int journal_parse_time(const char *s, uint64_t now_usec, uint64_t *ret_usec)
{
    if (!s || !*s) {
        return -EINVAL;
    }
    size_t len = strlen(s);
    uint64_t v;
    if (strcmp(s, "now") == 0) {
        *ret_usec = now_usec;
        return 0;
    }
    if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0 || strcmp(s, "tomorrow") == 0) {
        int off = s[0] == 'y' ? -1 : s[0] == 't' && s[2] == 'm' ? 1 : 0;
        if (day_start(now_usec, off, &v) < 0) {
            return -EINVAL;
        }
        *ret_usec = v;
        return 0;
    }
    if (s[0] == '@') {
        /* @EPOCH[.FRACTION] */
        const char *p = s + 1;
        if (!isdigit((unsigned char)*p)) {
            return -EINVAL;
        }
        errno = 0;
        char *end;
        unsigned long long sec = strtoull(p, &end, 10);
        if (errno || sec > UINT64_MAX / 1000000ULL - 1) {
            return -EINVAL;
        }
        uint64_t frac = 0, scale = 100000;
        if (*end == '.') {
            end++;
            if (!isdigit((unsigned char)*end)) {
                return -EINVAL;
            }
            for (; isdigit((unsigned char)*end); end++) {
                frac += (uint64_t)(*end - '0') * scale;
                scale /= 10;
            }
        }
        if (*end) {
            return -EINVAL;
        }
        *ret_usec = sec * 1000000ULL + frac;
        return 0;
    }
    if (s[0] == '-' || s[0] == '+') {
        if (parse_span(s + 1, &v) < 0) {
            return -EINVAL;
        }
        if (s[0] == '-') {
            *ret_usec = v > now_usec ? 0 : now_usec - v;
        } else {
            if (v > UINT64_MAX - now_usec) {
                return -EINVAL;
            }
            *ret_usec = now_usec + v;
        }
        return 0;
    }
    if (len > 4 && (strcmp(s + len - 4, " ago") == 0 || strcmp(s + len - 5, " left") == 0)) {
        bool ago = s[len - 1] == 'o';
        char span[128];
        size_t sl = len - (ago ? 4 : 5);
        if (sl >= sizeof(span)) {
            return -EINVAL;
        }
        memcpy(span, s, sl);
        span[sl] = '\0';
        if (parse_span(span, &v) < 0) {
            return -EINVAL;
        }
        if (ago) {
            *ret_usec = v > now_usec ? 0 : now_usec - v;
        } else {
            if (v > UINT64_MAX - now_usec) {
                return -EINVAL;
            }
            *ret_usec = now_usec + v;
        }
        return 0;
    }
    struct tm tm;
    time_t nt = (time_t)(now_usec / 1000000ULL);
    if (!localtime_r(&nt, &tm)) {
        return -EINVAL;
    }
    if (len >= 10 && s[4] == '-' && s[7] == '-') {
        const char *p = s;
        int y, mo, d;
        if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
            digits(&p, 2, &d) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970) {
            return -EINVAL;
        }
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        if (*p == ' ' || *p == 'T') {
            if (parse_clock(p + 1, &tm) < 0) {
                return -EINVAL;
            }
        } else if (*p) {
            return -EINVAL;
        }
        return tm_to_usec(&tm, ret_usec);
    }
    if (parse_clock(s, &tm) == 0) {
        return tm_to_usec(&tm, ret_usec);
    }
    return -EINVAL;
}

/* The length of "PREFIX<id>-" when name (len bytes) starts with it, else 0. */
static size_t head_len(const char *name, size_t len, const char *prefix, uint32_t id)
{
    char head[32];
    int h = snprintf(head, sizeof(head), "%s%" PRIu32 "-", prefix, id);
    return h > 0 && (size_t)h < len && memcmp(name, head, (size_t)h) == 0 ? (size_t)h : 0;
}

/* A base volume's "disk-M", ".FMT" after it on a file storage (volname_parse
 * checked which): the only base names Proxmox makes. */
static bool is_disk_number(const char *p, size_t n, bool file)
{
    size_t d = 5;
    if (n <= d || memcmp(p, "disk-", d) != 0 || !isdigit((unsigned char)p[d])) {
        return false;
    }
    while (d < n && isdigit((unsigned char)p[d])) {
        d++;
    }
    return file ? d < n && p[d] == '.' : d == n;
}

uint32_t journal_base_vmid(const char *volume, uint32_t vmid)
{
    const char *p = volume ? strchr(volume, ':') : NULL;
    struct volname v;
    size_t h = 0;
    /* The shapes are volname.c's; a lineage needs more: the volume is this
     * VM's own ("vm-VMID-..."), the base another VM's (pve-vmid) disk
     * "base-N-disk-M", on a file storage in that VM's directory. */
    if (!p || p == volume || volname_parse(p + 1, &v) < 0 || !v.base_name || v.vmid != vmid ||
        v.base_vmid == vmid || v.base_vmid < 100 || v.base_vmid > 999999999 ||
        !head_len(v.name, v.name_len, "vm-", vmid) ||
        !(h = head_len(v.base_name, v.base_name_len, "base-", v.base_vmid)) ||
        !is_disk_number(v.base_name + h, v.base_name_len - h, v.file)) {
        return 0;
    }
    return v.base_vmid;
}
