/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *name;
    int code;
} table[_ERR_CLASS_MAX] = {
    [ERR_OK] = {"ok", 0},
    [ERR_QM_FAILED] = {"qm_failed", 1},
    [ERR_USAGE] = {"usage", 64},
    [ERR_BAD_OUTPUT] = {"bad_output", 65},
    [ERR_PRECONDITION] = {"precondition", 69},
    [ERR_INTERNAL] = {"internal", 70},
    [ERR_SPAWN] = {"spawn", 71},
    [ERR_BUSY] = {"busy", 75},
    [ERR_PERMISSION] = {"permission", 77},
    [ERR_CONFIG] = {"config", 78},
    [ERR_TIMEOUT] = {"timeout", 124},
    [ERR_INTERRUPTED] = {"interrupted", 130},
};

int err_set(struct err *e, enum err_class cls, const char *fmt, ...)
{
    va_list ap;
    e->cls = cls;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    return -1;
}

const char *err_class_name(enum err_class cls)
{
    return (cls >= 0 && cls < _ERR_CLASS_MAX) ? table[cls].name : "internal";
}

int err_exit_code(enum err_class cls)
{
    return (cls >= 0 && cls < _ERR_CLASS_MAX) ? table[cls].code : 70;
}
