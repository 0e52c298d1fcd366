/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli: argv -> struct request -> request_execute -> the report drawn for a
 * person or a program. The only reader of argv (see cli.h for its rules). A
 * small table-driven parser rather than getopt_long: getopt accepts any
 * unambiguous abbreviation (--stor for --storage), so an option added later
 * would change what an old command line means. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "cmd.h"
#include "list.h"
#include "validate.h"

/* ---- help texts ------------------------------------------------------------ */

static const char *const usage_text =
    "usage: pvetmpl [GLOBAL OPTIONS] COMMAND [ARGS...] [GLOBAL OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  make-template SRC [NEWID] [--name NAME] [--storage STORAGE] [--format raw|qcow2|vmdk]\n"
    "                [--pool POOL] [--target NODE] [--description TEXT] [--bwlimit KIB]\n"
    "                [--snapname SNAP] [--no-hook|--replace-hook] [--rotate [--keep N]]\n"
    "                              full-clone SRC and make the copy a verified template\n"
    "  clone SRC [NEWID] [same options] [--linked]\n"
    "                              clone SRC after checking every precondition\n"
    "  template VMID [--disk DRIVE] convert VMID to a template and verify it\n"
    "  check SRC [--storage STORAGE] [--target NODE]\n"
    "                              preflight report only, changes nothing\n"
    "  storages                    every storage, its type, state, and template support\n"
    "  hook install|remove VMID... [--storage STORAGE] [--replace-hook]\n"
    "  hook status [VMID...] | hook update\n"
    "                              manage the pvetmpl-hook hookscript of VMs\n"
    "  audit [--vmid N] [--since T] [--until T] [--action A] [--all-users] [-D DIR|--file FILE]\n"
    "                              history of templates, clones, starts and stops\n"
    "  list [--all]                every template of the cluster and its linked clones\n"
    "  help [COMMAND]              this help, or COMMAND's (as 'pvetmpl COMMAND --help')\n"
    "  policy [USER]               what USER (default: you) may have pvetmpl do through sudo\n"
    "\n"
    "Global options (anywhere on the line, before a '--'; long options match exactly):\n"
    "  -c, --config FILE   configuration (default " CONF_DEFAULT_PATH ", or $PVETMPL_CONFIG)\n"
    "      --json          print exactly one JSON object on stdout\n"
    "      --json-lines    audit: one JSON object per event and line (others: as --json)\n"
    "  -n, --dry-run       run only read-only queries; print the commands a real run would run\n"
    "  -q, --quiet         print errors only\n"
    "  -v, --verbose       show qm's own output lines\n"
    "      --no-progress   no progress bars\n"
    "      --timeout SEC   stop a qm command after SEC seconds (0 = never)\n"
    "      --lock-wait SEC wait at most SEC seconds for a locked VM or a slot, NEWID or\n"
    "                      name another pvetmpl run holds (0 = do not wait;\n"
    "                      default: the configuration's lock_retry_max)\n"
    "  -h, --help          this help ('pvetmpl COMMAND --help' for a command's)\n"
    "  -V, --version       the version\n"
    "\n"
    "Every command but audit and policy must run as root: any other user gets 77\n"
    "before anything happens. audit shows what the user's groups let them read of the\n"
    "journal. Through sudo, the grants of the system configuration decide what the\n"
    "caller may do (see 'pvetmpl policy'); -c and $PVETMPL_CONFIG are refused then.\n"
    "\n"
    "Exit codes:\n"
    "  0 ok or nothing to do       1 the qm operation failed   64 bad usage or argument\n"
    "  65 unparseable qm/pvesm output  69 a precondition is not met  70 internal error\n"
    "  71 qm/pvesm could not be started  75 locked/busy, retry later  77 not permitted\n"
    "  78 configuration error      124 timed out               130 interrupted\n";

static const char *const help_make_template =
    "usage: pvetmpl [GLOBAL OPTIONS] make-template SRC [NEWID] [OPTIONS]\n"
    "\n"
    "Full-clone the stopped VM SRC to NEWID, register the pvetmpl hookscript on\n"
    "the copy, convert the copy to a template and verify that every disk became\n"
    "a base volume. SRC is left untouched. Without NEWID, the lowest VMID free in\n"
    "the cluster within template_newid_range (default 9000-9999) is taken and\n"
    "printed (JSON: \"vmid\", with \"vmid_auto\": true).\n"
    "\n"
    "  --name NAME            name of the template (DNS name)\n"
    "  --storage STORAGE      target storage (default: each source disk's own)\n"
    "  --format raw|qcow2|vmdk  disk format on file storages\n"
    "  --pool POOL            add the template to this resource pool\n"
    "  --target NODE          put the template on NODE: it is made here (qm template\n"
    "                         runs where the VM is), then moved with 'qm migrate'\n"
    "  --description TEXT     description (default: the source's)\n"
    "  --bwlimit KIB          copy bandwidth limit in KiB/s\n"
    "  --snapname SNAP        copy from this snapshot of SRC\n"
    "  --no-hook              do not register the hookscript (a hookscript SRC has is\n"
    "                         kept: qm copies it)\n"
    "  --replace-hook         replace a hookscript of SRC that is not pvetmpl's\n"
    "                         (without it, make-template refuses such a VM)\n"
    "  --rotate               with --name NAME: build and verify the new template\n"
    "                         under a temporary name, then hand NAME over: it takes\n"
    "                         NAME, the templates that had it become NAME-YYYYMMDD\n"
    "                         (their creation date) tagged pvetmpl-retired\n"
    "  --keep N               with --rotate: destroy the retired templates of NAME\n"
    "                         beyond the newest N, except those linked clones use\n";

static const char *const help_clone =
    "usage: pvetmpl [GLOBAL OPTIONS] clone SRC [NEWID] [OPTIONS] [--linked]\n"
    "\n"
    "Clone the stopped VM (or template) SRC to NEWID after checking every\n"
    "precondition. Full copy by default; --linked makes a linked clone of a\n"
    "template (no --storage/--format then). Without NEWID, the lowest VMID free\n"
    "in the cluster within clone_newid_range is taken (default: datacenter.cfg's\n"
    "next-id range, as Proxmox's own choice, else 100-999999).\n"
    "\n"
    "  options as for make-template (without --no-hook and --replace-hook), plus\n"
    "  --target NODE          create the clone on another node (shared storage only)\n"
    "  --linked               linked clone (SRC must be a template)\n";

static const char *const help_template =
    "usage: pvetmpl [GLOBAL OPTIONS] template VMID [--disk DRIVE]\n"
    "\n"
    "Convert the stopped VM VMID to a template and verify the result. Refuses a\n"
    "running or locked VM, a VM with snapshots, and disks on storages that cannot\n"
    "hold base images (qm template would skip them silently). A template whose\n"
    "disks were not all converted is completed disk by disk.\n"
    "\n"
    "  --disk DRIVE           convert only this disk (scsi0, virtio1, efidisk0, ...)\n";

static const char *const help_check =
    "usage: pvetmpl [GLOBAL OPTIONS] check SRC [--storage STORAGE] [--target NODE]\n"
    "\n"
    "Run every make-template precondition for SRC and report each check; changes\n"
    "nothing. Exit 0 when make-template could proceed, 69 when a check fails.\n";

static const char *const help_storages =
    "usage: pvetmpl [GLOBAL OPTIONS] storages\n"
    "\n"
    "List every storage of this node with its type, state, whether it holds VM\n"
    "images, whether it can hold templates (base images) and whether a clone's\n"
    "disks can be put there (iscsi and iscsidirect cannot allocate new disks).\n";

static const char *const help_hook =
    "usage: pvetmpl [GLOBAL OPTIONS] hook install|remove VMID... [--storage STORAGE]\n"
    "                                [--replace-hook]\n"
    "       pvetmpl [GLOBAL OPTIONS] hook status [VMID...]\n"
    "       pvetmpl [GLOBAL OPTIONS] hook update\n"
    "\n"
    "  install  copy hook_binary to STORAGE:snippets/<hook_name> (atomically, mode 0755,\n"
    "           left alone when identical) and set it as each VM's hookscript\n"
    "  remove   delete the hookscript of each VM (only when it is pvetmpl's)\n"
    "  status   whether each VM has the hook, which volume, whether the file is\n"
    "           the same binary as hook_binary, and the config file that hook uses\n"
    "           (<file>.conf beside it, else the default) with its start policy;\n"
    "           without VMID: every VM of this node that has a hookscript, pvetmpl's\n"
    "           (current, outdated, missing binary) or foreign\n"
    "  update   write hook_binary over every outdated or missing hook file that this\n"
    "           node's VMs use (one per storage); run it after upgrading pvetmpl\n"
    "\n"
    "  --storage STORAGE  a file-based storage (default: hook_storage, 'local')\n"
    "  --replace-hook     install: replace a hookscript that is not pvetmpl's (without\n"
    "                     it, a VM with such a hookscript is refused and nothing is set)\n";

static const char *const help_audit =
    "usage: pvetmpl [GLOBAL OPTIONS] audit [--vmid N] [--since T] [--until T] [--action A]\n"
    "                                [--all-users] [-D DIR | --file FILE]\n"
    "\n"
    "History from the systemd journal: who made which template from which VM on\n"
    "which storage when, the VMs cloned from it, and their starts and stops.\n"
    "\n"
    "  --vmid N        N and its lineage both ways (its source, its clones)\n"
    "  -S T, --since T, -U T, --until T  time limits, as journalctl takes them\n"
    "                  ('2026-11-26 10:00', '@EPOCH', 'today', 'yesterday', '-1h')\n"
    "  --action A      only this action or hook phase (make-template, clone, pre-start...)\n"
    "  --all-users     also entries not written by root (_UID != 0), marked UNTRUSTED:\n"
    "                  anyone can write an entry that looks like pvetmpl's\n"
    "  -D DIR, --directory DIR, --file FILE  read an exported journal directory or\n"
    "                  file (--file may be given more than once)\n"
    "  --json          one JSON object, the events in an array\n"
    "  --json-lines    one JSON object per event and line, once the journal was read\n";

static const char *const help_list =
    "usage: pvetmpl [GLOBAL OPTIONS] list [--all]\n"
    "\n"
    "Every template of the cluster, read from .vmlist and each VM's config file\n"
    "(one read per file, no qm process): VMID, name, node, storages, size, when\n"
    "and from which VM it was made (the journal's lineage, else the config's\n"
    "ctime), the hookscript and whether its hook file is current (one 'pvesm\n"
    "path' per hook file), and how many guests have a disk based on one of its\n"
    "base disks (linked clones; on LVM-thin a linked clone does not depend on its\n"
    "template).\n"
    "\n"
    "  --all           also list those guests under each template, and the full\n"
    "                  clones the journal records as made from it\n";

static const char *const help_policy =
    "usage: pvetmpl [GLOBAL OPTIONS] policy [USER]\n"
    "\n"
    "What USER may have pvetmpl do as root through sudo, as 'sudo -l' shows it\n"
    "for sudo: every grant of the configuration that names USER or one of its\n"
    "groups, with what it allows. A request must fit one grant in every part.\n"
    "Root may ask about any user; anyone else only about themselves (the default).\n"
    "'pvetmpl -n COMMAND ...' through sudo says whether that request would be\n"
    "allowed, and by which grant.\n";

static const char *help_for(enum request_cmd cmd)
{
    switch (cmd) {
    case REQ_MAKE_TEMPLATE:
        return help_make_template;
    case REQ_CLONE:
        return help_clone;
    case REQ_TEMPLATE:
        return help_template;
    case REQ_CHECK:
        return help_check;
    case REQ_STORAGES:
        return help_storages;
    case REQ_HOOK:
        return help_hook;
    case REQ_AUDIT:
        return help_audit;
    case REQ_LIST:
        return help_list;
    case REQ_POLICY:
        return help_policy;
    default:
        return usage_text;
    }
}

/* ---- the option table -------------------------------------------------- */

enum opt_id {
    O_CONFIG,
    O_JSON,
    O_JSON_LINES,
    O_DRY_RUN,
    O_QUIET,
    O_VERBOSE,
    O_NO_PROGRESS,
    O_TIMEOUT,
    O_LOCK_WAIT,
    O_HELP,
    O_VERSION,
    O_NAME,
    O_STORAGE,
    O_FORMAT,
    O_POOL,
    O_TARGET,
    O_DESCRIPTION,
    O_BWLIMIT,
    O_SNAPNAME,
    O_NO_HOOK,
    O_REPLACE_HOOK,
    O_LINKED,
    O_ROTATE,
    O_KEEP,
    O_DISK,
    O_VMID,
    O_SINCE,
    O_UNTIL,
    O_ACTION,
    O_ALL_USERS,
    O_ALL,
    O_DIRECTORY,
    O_FILE,
};

#define M(cmd) (1u << (cmd))
#define GLOBAL (~0u)
#define CLONES (M(REQ_MAKE_TEMPLATE) | M(REQ_CLONE))

struct opt {
    const char *name; /* long name without "--" */
    char shortc;      /* or 0 */
    bool value;       /* takes a value */
    unsigned cmds;    /* the commands that take it (GLOBAL: all, and before the command) */
    enum opt_id id;
};

/* --no-hook, --replace-hook and --linked are read for both clone commands:
 * which of them each allows is a rule of request_validate, shared with the
 * module front end. */
static const struct opt opts[] = {
    {"config", 'c', true, GLOBAL, O_CONFIG},
    {"json", 0, false, GLOBAL, O_JSON},
    {"json-lines", 0, false, GLOBAL, O_JSON_LINES},
    {"dry-run", 'n', false, GLOBAL, O_DRY_RUN},
    {"quiet", 'q', false, GLOBAL, O_QUIET},
    {"verbose", 'v', false, GLOBAL, O_VERBOSE},
    {"no-progress", 0, false, GLOBAL, O_NO_PROGRESS},
    {"timeout", 0, true, GLOBAL, O_TIMEOUT},
    {"lock-wait", 0, true, GLOBAL, O_LOCK_WAIT},
    {"help", 'h', false, GLOBAL, O_HELP},
    {"version", 'V', false, GLOBAL, O_VERSION},
    {"name", 0, true, CLONES, O_NAME},
    {"storage", 0, true, CLONES | M(REQ_CHECK) | M(REQ_HOOK), O_STORAGE},
    {"format", 0, true, CLONES, O_FORMAT},
    {"pool", 0, true, CLONES, O_POOL},
    {"target", 0, true, CLONES | M(REQ_CHECK), O_TARGET},
    {"description", 0, true, CLONES, O_DESCRIPTION},
    {"bwlimit", 0, true, CLONES, O_BWLIMIT},
    {"snapname", 0, true, CLONES, O_SNAPNAME},
    {"no-hook", 0, false, CLONES, O_NO_HOOK},
    {"replace-hook", 0, false, CLONES | M(REQ_HOOK), O_REPLACE_HOOK},
    {"linked", 0, false, CLONES, O_LINKED},
    {"rotate", 0, false, CLONES, O_ROTATE},
    {"keep", 0, true, CLONES, O_KEEP},
    {"disk", 0, true, M(REQ_TEMPLATE), O_DISK},
    {"vmid", 0, true, M(REQ_AUDIT), O_VMID},
    {"since", 'S', true, M(REQ_AUDIT), O_SINCE},
    {"until", 'U', true, M(REQ_AUDIT), O_UNTIL},
    {"action", 0, true, M(REQ_AUDIT), O_ACTION},
    {"all-users", 0, false, M(REQ_AUDIT), O_ALL_USERS},
    {"all", 0, false, M(REQ_LIST), O_ALL},
    {"directory", 'D', true, M(REQ_AUDIT), O_DIRECTORY},
    {"file", 0, true, M(REQ_AUDIT), O_FILE},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const struct opt *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

static const struct opt *find_short(char ch)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].shortc && opts[i].shortc == ch) {
            return &opts[i];
        }
    }
    return NULL;
}

static bool opt_for(const struct opt *o, enum request_cmd cmd)
{
    return o->cmds == GLOBAL || (cmd != REQ_NONE && (o->cmds & M(cmd)));
}

/* ---- parsing ----------------------------------------------------------------- */

struct parser {
    int argc;
    char **argv;
    struct request *r;
    struct cli_parsed *p;
    size_t n_words;
    int npos;       /* positional arguments of the command seen so far */
    bool help_word; /* the line is 'help [COMMAND]' (as qm's CLIHandler has it) */
};

static const char *where(enum request_cmd cmd, char *buf, size_t len)
{
    const char *n = action_cmd_name(cmd);
    if (n) {
        snprintf(buf, len, " for %s (see 'pvetmpl %s --help')", n, n);
    } else {
        snprintf(buf, len, " (see 'pvetmpl --help')");
    }
    return buf;
}

/* An option no command of this line takes: names the nearest one. */
static int unknown_long(const struct parser *ps, const char *arg, size_t len, struct err *e)
{
    char q[VALIDATE_QUOTE_SIZE], w[128], name[80];
    enum request_cmd cmd = ps->r->cmd;
    snprintf(name, sizeof(name), "%.*s", (int)(len > 70 ? 70 : len), arg);
    validate_quote(name, q);
    const struct opt *known = find_long(arg + 2, len - 2);
    if (known && cmd == REQ_NONE) {
        return err_set(e, ERR_USAGE,
                       "option '%s' belongs to a command: put it after the command's name "
                       "(see 'pvetmpl --help')",
                       q);
    }
    if (known) {
        return err_set(e, ERR_USAGE, "unknown option '%s'%s", q, where(cmd, w, sizeof(w)));
    }
    /* An abbreviation is refused (options match exactly), but named. */
    const struct opt *cand = NULL;
    size_t ncand = 0;
    for (size_t i = 0; len > 2 && i < N_OPTS; i++) {
        if (opt_for(&opts[i], cmd) && strncmp(opts[i].name, arg + 2, len - 2) == 0) {
            cand = &opts[i];
            ncand++;
        }
    }
    if (ncand == 1) {
        return err_set(e, ERR_USAGE,
                       "unknown option '%s': did you mean '--%s'? (options match exactly)", q,
                       cand->name);
    }
    return err_set(e, ERR_USAGE, "unknown option '%s'%s", q, where(cmd, w, sizeof(w)));
}

static int set_opt(struct parser *ps, const struct opt *o, const char *val)
{
    struct request *r = ps->r;
    struct request_global *g = &r->g;
    struct request_clone *cl = &r->u.clone;
    struct request_audit *au = &r->u.audit;
    switch (o->id) {
    case O_CONFIG:
        g->config = val;
        break;
    case O_JSON:
        g->json = true;
        break;
    case O_JSON_LINES:
        g->json_lines = true;
        break;
    case O_DRY_RUN:
        g->dry_run = true;
        break;
    case O_QUIET:
        g->quiet = true;
        break;
    case O_VERBOSE:
        g->verbose = true;
        break;
    case O_NO_PROGRESS:
        g->no_progress = true;
        break;
    case O_TIMEOUT:
        g->timeout = val;
        break;
    case O_LOCK_WAIT:
        g->lock_wait = val;
        break;
    case O_HELP:
        r->help = true;
        return 1;
    case O_VERSION:
        ps->p->version = true;
        return 1;
    case O_NAME:
        cl->name = val;
        break;
    case O_STORAGE:
        if (r->cmd == REQ_CHECK) {
            r->u.check.storage = val;
        } else if (r->cmd == REQ_HOOK) {
            r->u.hook.storage = val;
        } else {
            cl->storage = val;
        }
        break;
    case O_FORMAT:
        cl->format = val;
        break;
    case O_POOL:
        cl->pool = val;
        break;
    case O_TARGET:
        if (r->cmd == REQ_CHECK) {
            r->u.check.target = val;
        } else {
            cl->target = val;
        }
        break;
    case O_DESCRIPTION:
        cl->description = val;
        break;
    case O_BWLIMIT:
        cl->bwlimit = val;
        break;
    case O_SNAPNAME:
        cl->snapname = val;
        break;
    case O_NO_HOOK:
        cl->no_hook = true;
        break;
    case O_ROTATE:
        cl->rotate = true;
        break;
    case O_KEEP:
        cl->keep = val;
        break;
    case O_REPLACE_HOOK:
        if (r->cmd == REQ_HOOK) {
            r->u.hook.replace_hook = true;
        } else {
            cl->replace_hook = true;
        }
        break;
    case O_LINKED:
        cl->linked = true;
        break;
    case O_DISK:
        r->u.tmpl.disk = val;
        break;
    case O_VMID:
        au->vmid = val;
        break;
    case O_SINCE:
        au->since = val;
        break;
    case O_UNTIL:
        au->until = val;
        break;
    case O_ACTION:
        au->action = val;
        break;
    case O_ALL_USERS:
        au->all_users = true;
        break;
    case O_ALL:
        r->u.list.all = true;
        break;
    case O_DIRECTORY:
        au->directory = val;
        break;
    case O_FILE:
        if (au->n_files == 0) {
            au->files = ps->p->words + ps->n_words;
        }
        ps->p->words[ps->n_words++] = val;
        au->n_files++;
        break;
    }
    return 0;
}

/* --name VALUE, --name=VALUE, --flag. Returns 1 for --help/--version. */
static int parse_long(struct parser *ps, int *i, struct err *e)
{
    const char *arg = ps->argv[*i], *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct opt *o = find_long(arg + 2, len - 2);
    char q[VALIDATE_QUOTE_SIZE];
    if (!o || !opt_for(o, ps->r->cmd)) {
        return unknown_long(ps, arg, len, e);
    }
    if (!o->value && eq) {
        return err_set(e, ERR_USAGE, "option '--%s' takes no value (got '%s')", o->name,
                       validate_quote(arg, q));
    }
    const char *val = eq ? eq + 1 : NULL;
    if (o->value && !val) {
        if (*i + 1 >= ps->argc) {
            return err_set(e, ERR_USAGE, "option '--%s' needs a value", o->name);
        }
        val = ps->argv[++*i];
    }
    return set_opt(ps, o, val);
}

/* Whether arg (-nqv, -cFILE, -nc FILE) reads as short options of this
 * command: every letter one, up to the first that takes a value. */
static bool short_cluster(const struct parser *ps, const char *arg)
{
    for (const char *s = arg + 1; *s; s++) {
        const struct opt *o = find_short(*s);
        if (!o || !opt_for(o, ps->r->cmd)) {
            return false;
        }
        if (o->value) {
            return true;
        }
    }
    return true;
}

/* A single-dash word that is no cluster of short options (a qm-style -name,
 * -full): named whole, with the long option only when this command has it. */
static int unknown_single(const struct parser *ps, const char *arg, size_t len, struct err *e)
{
    char q[VALIDATE_QUOTE_SIZE], w[128], word[80];
    enum request_cmd cmd = ps->r->cmd;
    snprintf(word, sizeof(word), "-%.*s", (int)(len > 70 ? 70 : len), arg + 1);
    validate_quote(word, q);
    if ((cmd == REQ_CLONE || cmd == REQ_MAKE_TEMPLATE) && len == 4 &&
        strncmp(arg + 1, "full", 4) == 0) {
        return err_set(e, ERR_USAGE, "unknown option '%s': pvetmpl clones are full unless --linked",
                       q);
    }
    const struct opt *lo = find_long(arg + 1, len);
    if (lo && opt_for(lo, cmd)) {
        return err_set(e, ERR_USAGE, "unknown option '%s': did you mean '--%s'?", q, lo->name);
    }
    return err_set(e, ERR_USAGE, "unknown option '%s'%s", q, where(cmd, w, sizeof(w)));
}

/* -n, -nqv, -c FILE, -cFILE; -n=1 is a flag given a value. */
static int parse_short(struct parser *ps, int *i, struct err *e)
{
    const char *arg = ps->argv[*i];
    char q[VALIDATE_QUOTE_SIZE], w[128];
    size_t len = strcspn(arg + 1, "=");
    const struct opt *o1 = find_short(arg[1]);
    if (len == 1 && arg[2] == '=' && o1 && opt_for(o1, ps->r->cmd) && !o1->value) {
        return err_set(e, ERR_USAGE, "option '-%c' takes no value (got '%s')", arg[1],
                       validate_quote(arg, q));
    }
    if (len > 1 && !short_cluster(ps, arg)) {
        return unknown_single(ps, arg, len, e);
    }
    for (const char *s = arg + 1; *s; s++) {
        const struct opt *o = find_short(*s);
        if (!o || !opt_for(o, ps->r->cmd)) {
            char word[3] = {'-', *s, '\0'};
            return err_set(e, ERR_USAGE, "unknown option '%s'%s", validate_quote(word, q),
                           where(ps->r->cmd, w, sizeof(w)));
        }
        if (!o->value) {
            int r = set_opt(ps, o, NULL);
            if (r != 0) {
                return r;
            }
            continue;
        }
        const char *val = s[1] ? s + 1 : NULL;
        if (!val) {
            if (*i + 1 >= ps->argc) {
                return err_set(e, ERR_USAGE, "option '-%c' needs a value", *s);
            }
            val = ps->argv[++*i];
        }
        return set_opt(ps, o, val);
    }
    return 0;
}

static int unexpected(const char *arg, const char *takes, struct err *e)
{
    char q[VALIDATE_QUOTE_SIZE];
    return err_set(e, ERR_USAGE, "unexpected argument '%s' (%s)", validate_quote(arg, q), takes);
}

/* A word that is no option: the command's name, then its arguments. */
static int positional(struct parser *ps, const char *arg, struct err *e)
{
    struct request *r = ps->r;
    char q[VALIDATE_QUOTE_SIZE];
    int k = ps->npos++;
    /* 'help [COMMAND]', as qm has it (pve-common PVE/CLIHandler.pm, method
     * 'help'): no topic is the usage, a topic that command's help, an
     * unknown one a usage error naming it. r->help makes cli_main print it. */
    if (r->cmd == REQ_NONE && !ps->help_word && strcmp(arg, "help") == 0) {
        ps->help_word = true;
        r->help = true;
        return 0;
    }
    if (ps->help_word && r->cmd != REQ_NONE) {
        return unexpected(arg, "help takes one COMMAND", e);
    }
    switch (r->cmd) {
    case REQ_NONE:
        r->cmd = action_cmd_from_name(arg);
        ps->npos = 0;
        if (r->cmd == REQ_NONE) {
            return err_set(e, ERR_USAGE, "unknown command '%s' (see 'pvetmpl --help')",
                           validate_quote(arg, q));
        }
        return 0;
    case REQ_MAKE_TEMPLATE:
    case REQ_CLONE:
        if (k >= 2) {
            return unexpected(arg,
                              r->cmd == REQ_CLONE ? "clone takes SRC and an optional NEWID"
                                                  : "make-template takes SRC and an optional NEWID",
                              e);
        }
        *(k ? &r->u.clone.newid : &r->u.clone.src) = arg;
        return 0;
    case REQ_TEMPLATE:
        if (k >= 1) {
            return unexpected(arg, "template takes one VMID", e);
        }
        r->u.tmpl.vmid = arg;
        return 0;
    case REQ_CHECK:
        if (k >= 1) {
            return unexpected(arg, "check takes one SRC", e);
        }
        r->u.check.src = arg;
        return 0;
    case REQ_HOOK:
        if (k == 0) {
            r->u.hook.op = action_hook_op_from_word(arg);
            if (r->u.hook.op != REQ_HOOK_NONE) {
                return 0;
            }
            char m[VALIDATE_QUOTE_SIZE + 64];
            snprintf(m, sizeof(m), "unknown subcommand '%s'", validate_quote(arg, q));
            return err_set(e, ERR_USAGE, "%s (usage: " REQUEST_HOOK_USAGE ")", m);
        }
        if (r->u.hook.n_vmids == 0) {
            r->u.hook.vmids = ps->p->words + ps->n_words;
        }
        /* VMIDs are contiguous in words: audit's files never share a line */
        ps->p->words[ps->n_words++] = arg;
        r->u.hook.n_vmids++;
        return 0;
    case REQ_STORAGES:
        return unexpected(arg, "storages takes no arguments", e);
    case REQ_AUDIT:
        return unexpected(arg, "audit takes options only", e);
    case REQ_LIST:
        return unexpected(arg, "list takes options only", e);
    case REQ_POLICY:
        if (k >= 1) {
            return unexpected(arg, "policy takes at most one USER", e);
        }
        r->u.pol.user = arg;
        return 0;
    case _REQ_CMD_MAX:
        break;
    }
    return err_set(e, ERR_INTERNAL, "unknown command state");
}

int cli_parse(int argc, char **argv, struct request *r, struct cli_parsed *p, struct err *e)
{
    memset(r, 0, sizeof(*r));
    memset(p, 0, sizeof(*p));
    p->words = calloc((size_t)argc + 1, sizeof(*p->words));
    if (!p->words) {
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    struct parser ps = {.argc = argc, .argv = argv, .r = r, .p = p};
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc;
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1] == '-') {
            rc = parse_long(&ps, &i, e);
        } else if (!opts_done && a[0] == '-' && a[1]) {
            rc = parse_short(&ps, &i, e);
        } else {
            rc = positional(&ps, a, e);
        }
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            return 0; /* --help, --version: the rest is not read, as getopt did */
        }
    }
    if (r->cmd == REQ_NONE && !ps.help_word) {
        return err_set(e, ERR_USAGE, "no command given (see 'pvetmpl --help')");
    }
    return 0;
}

void cli_parsed_release(struct cli_parsed *p)
{
    free(p->words);
    p->words = NULL;
}

/* ---- drawing the report -------------------------------------------------- */

static const char *word(struct json_object *row, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(row, key, &v)) {
        return "";
    }
    if (json_object_is_type(v, json_type_boolean)) {
        return json_object_get_boolean(v) ? "yes" : "no";
    }
    return json_object_get_string(v);
}

/* KiB as the admin reads sizes ("32G", "97.9G"); "-" when pvesm had none
 * (an inactive storage shows 0). */
static void kib_text(char *buf, size_t len, struct json_object *row, const char *key)
{
    struct json_object *v;
    uint64_t kib = json_object_object_get_ex(row, key, &v) ? json_object_get_uint64(v) : 0;
    if (kib == 0) {
        snprintf(buf, len, "-");
    } else {
        list_format_size(buf, len, kib * 1024);
    }
}

static void draw_storages(struct json_object *o)
{
    struct json_object *arr;
    if (!json_object_object_get_ex(o, "storages", &arr)) {
        return;
    }
    printf("%-20s %-12s %-9s %7s %7s %-7s %-9s %s\n", "STORAGE", "TYPE", "STATE", "TOTAL", "AVAIL",
           "IMAGES", "TEMPLATES", "CLONES");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *row = json_object_array_get_idx(arr, i);
        char total[32], avail[32];
        kib_text(total, sizeof(total), row, "total_kib");
        kib_text(avail, sizeof(avail), row, "avail_kib");
        printf("%-20s %-12s %-9s %7s %7s %-7s %-9s %s\n", word(row, "storage"), word(row, "type"),
               word(row, "state"), total, avail, word(row, "images"), word(row, "template_support"),
               word(row, "clones"));
    }
}

/* For a person: check's table, failed checks and the error on stderr, the
 * message on stdout. */
static void draw_human(const struct ctx *c, struct json_object *o, const struct err *e,
                       enum request_cmd cmd)
{
    struct json_object *checks, *msg;
    bool is_check = cmd == REQ_CHECK;
    if (cmd == REQ_STORAGES && e->cls == ERR_OK) {
        draw_storages(o);
    }
    /* hook's rows also after a failure: those made before it stand */
    if (cmd == REQ_HOOK) {
        cmd_hook_draw(c, o);
    }
    if (cmd == REQ_LIST && e->cls == ERR_OK) {
        struct json_object *t = NULL;
        json_object_object_get_ex(o, "templates", &t);
        list_draw(stdout, t);
    }
    if (cmd == REQ_AUDIT && e->cls == ERR_OK) {
        cmd_audit_draw(c, o); /* the table says what msg would */
        return;
    }
    if (cmd == REQ_POLICY && e->cls == ERR_OK) {
        cmd_policy_draw(c, o); /* msg first, then the grants */
        return;
    }
    json_object_object_get_ex(o, "checks", &checks);
    size_t n = checks ? json_object_array_length(checks) : 0;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *ck = json_object_array_get_idx(checks, i), *ok, *name, *detail;
        json_object_object_get_ex(ck, "ok", &ok);
        json_object_object_get_ex(ck, "name", &name);
        json_object_object_get_ex(ck, "detail", &detail);
        bool good = json_object_get_boolean(ok);
        failed += !good;
        if (is_check && !c->quiet) {
            printf("%-4s %-24s %s\n", good ? "ok" : "FAIL", json_object_get_string(name),
                   json_object_get_string(detail));
        } else if (!good) {
            fprintf(stderr, "pvetmpl: check '%s' failed: %s\n", json_object_get_string(name),
                    json_object_get_string(detail));
        }
    }
    if (e->cls != ERR_OK) {
        if (failed && (e->cls == ERR_PRECONDITION || e->cls == ERR_BUSY)) {
            fprintf(stderr, "pvetmpl: error: %zu check%s failed%s\n", failed,
                    failed == 1 ? "" : "s", e->cls == ERR_BUSY ? " (locked: retry later)" : "");
        } else {
            fprintf(stderr, "pvetmpl: error: %s\n", e->detail);
        }
    } else if (!c->quiet && json_object_object_get_ex(o, "msg", &msg) &&
               *json_object_get_string(msg)) {
        printf("%s\n", json_object_get_string(msg));
    }
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int cli_main(int argc, char **argv, const volatile sig_atomic_t *interrupt)
{
    struct ctx c = {.interrupt = interrupt};
    struct err e = {ERR_OK, ""};
    struct request r;
    struct cli_parsed p = {0};
    struct request_caller who;
    char user[256];
    long t0 = now_ms();

    c.rep = report_new(NULL);
    if (!c.rep) {
        fputs("pvetmpl: error: out of memory\n", stderr);
        return err_exit_code(ERR_INTERNAL);
    }
    /* --json anywhere (before a "--") decides the form of every answer,
     * including a usage error found before the parser reaches it; so does
     * --json-lines for every command but audit (whose errors stay on stderr). */
    bool lines = false, audit_word = false;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        c.json |= strcmp(argv[i], "--json") == 0;
        lines |= strcmp(argv[i], "--json-lines") == 0;
        audit_word |= strcmp(argv[i], "audit") == 0;
    }
    request_caller_init(&who, "cli", user, sizeof(user));
    int parsed = cli_parse(argc, argv, &r, &p, &e);
    if (parsed < 0 && request_action_name(&r)) {
        report_set_action(c.rep, request_action_name(&r)); /* as far as it was read */
    }
    /* a line refused before its command was read is audit's when it names it */
    c.json |= lines && r.cmd != REQ_AUDIT && (r.cmd != REQ_NONE || !audit_word);
    if (parsed < 0) {
        request_refused(&r, &who, &e); /* journalled when who is delegated */
        goto done;
    }
    c.json = c.json || r.g.json;
    c.quiet = r.g.quiet;
    if (p.version) {
        if (c.json || lines) {
            report_set_msg(c.rep, "pvetmpl %s", PVETMPL_VERSION);
        } else {
            printf("pvetmpl %s\n", PVETMPL_VERSION);
            c.own_output = true;
        }
        goto done;
    }
    if (r.help) {
        /* under --json the text is the report's msg: stdout holds one object */
        if (c.json) {
            /* whole: report_set_msg would cut it at its buffer's size */
            report_set(c.rep, "msg", json_object_new_string(help_for(r.cmd)));
        } else {
            fputs(help_for(r.cmd), stdout);
            c.own_output = true;
        }
        goto done;
    }
    request_execute(&c, &r, &who, &e);

done:;
    int rc = err_exit_code(e.cls);
    struct json_object *o = report_finish(c.rep, &e, rc, now_ms() - t0);
    if (c.own_output && e.cls == ERR_OK) {
        /* the command (or the help) printed its result itself */
    } else if (r.cmd == REQ_AUDIT && c.json_lines && e.cls == ERR_OK) {
        cmd_audit_draw(&c, o); /* the stream takes the place of the report */
    } else if (c.json) {
        report_print_json(stdout, o); /* valid UTF-8 whatever the fields hold */
    } else {
        draw_human(&c, o, &e, r.cmd);
    }
    report_free(c.rep);
    request_ctx_release(&c);
    request_release(&r);
    cli_parsed_release(&p);
    return rc;
}
