/* SPDX-License-Identifier: GPL-3.0-or-later */
/* err: error classes that flow up as values. Only main() turns a class into
 * an exit code (err_exit_code), from the table documented in README and --help. */
#ifndef PVETMPL_ERR_H
#define PVETMPL_ERR_H

#include <stddef.h>

enum err_class {
    ERR_OK = 0,
    ERR_QM_FAILED,    /* 1: the qm operation ran and failed */
    ERR_USAGE,        /* 64: bad usage or argument */
    ERR_BAD_OUTPUT,   /* 65: unparseable qm/pvesm output */
    ERR_PRECONDITION, /* 69: a precondition is not met */
    ERR_INTERNAL,     /* 70: internal error (OOM, bug) */
    ERR_SPAWN,        /* 71: qm/pvesm could not be started */
    ERR_BUSY,         /* 75: locked or busy, retry later */
    ERR_PERMISSION,   /* 77: not permitted */
    ERR_CONFIG,       /* 78: configuration error */
    ERR_TIMEOUT,      /* 124: timed out */
    ERR_INTERRUPTED,  /* 130: interrupted by a signal */
    _ERR_CLASS_MAX,
};

/* A failure with its class and one human-readable detail line
 * (lowercase, subject in single quotes, no final full stop). */
struct err {
    enum err_class cls;
    char detail[1024];
};

/* Sets e and returns -1, so callers can write: return err_set(e, ...). */
int err_set(struct err *e, enum err_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stable machine name of a class, as in --json's error.class. */
const char *err_class_name(enum err_class cls);
/* The documented exit code of a class. */
int err_exit_code(enum err_class cls);

#endif
