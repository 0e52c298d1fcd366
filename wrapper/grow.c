/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int grow_array(void *arr, size_t n, size_t *alloc, size_t sz)
{
    void **a = arr;
    if (n < *alloc) {
        return 0;
    }
    size_t na = *alloc ? *alloc * 2 : 16;
    if (na < *alloc || na > SIZE_MAX / sz) {
        return -ENOMEM;
    }
    void *nv = realloc(*a, na * sz);
    if (!nv) {
        return -ENOMEM;
    }
    *a = nv;
    *alloc = na;
    return 0;
}
