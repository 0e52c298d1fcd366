/* SPDX-License-Identifier: GPL-3.0-or-later */
/* grow: the one way a parser's dynamic array gets room for one more element. */
#ifndef PVETMPL_GROW_H
#define PVETMPL_GROW_H

#include <stddef.h>

/* Grows *arr (a pointer to an array of elements of size sz, *alloc of them
 * allocated) to hold n+1 elements, doubling. Returns 0, or -ENOMEM leaving
 * *arr and *alloc as they were. */
int grow_array(void *arr, size_t n, size_t *alloc, size_t sz);

#endif
