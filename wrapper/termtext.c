/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "termtext.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

/* The length of the valid UTF-8 character at p (1..4), its code point into
 * *cp; 0 when p does not start one (RFC 3629: no overlong forms, no
 * surrogates, nothing beyond U+10FFFF). */
static size_t utf8_char(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n;
    uint32_t min;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, *cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, *cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, *cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0; /* also the NUL of a cut sequence */
        }
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* Characters that change how the terminal draws what follows them. */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void termtext_clean(char *dst, size_t len, const char *src)
{
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    size_t k = 0;
    if (len == 0) {
        return;
    }
    while (*p) {
        uint32_t cp;
        size_t n = utf8_char(p, &cp);
        if (n == 0 || is_control(cp)) {
            if (k + 1 >= len) {
                break;
            }
            dst[k++] = '?';
            p += n ? n : 1;
            continue;
        }
        if (k + n >= len) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            dst[k++] = (char)p[i];
        }
        p += n;
    }
    dst[k] = '\0';
}

size_t termtext_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        w += (*p & 0xc0) != 0x80;
    }
    return w;
}

size_t termtext_cut(const char *s, size_t cols)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, w = 0;
    for (; p[i]; i++) {
        if ((p[i] & 0xc0) != 0x80 && w++ == cols) {
            break;
        }
    }
    return i;
}

void termtext_pad(FILE *f, const char *s, size_t cols, bool right)
{
    size_t w = termtext_width(s);
    int fill = w < cols ? (int)(cols - w) : 0;
    if (right) {
        fprintf(f, "%*s%s", fill, "", s);
    } else {
        fprintf(f, "%s%*s", s, fill, "");
    }
}

int termtext_columns(FILE *f, int fallback)
{
    struct winsize ws;
    if (f && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    const char *env = getenv("COLUMNS");
    char *end;
    long n = env ? strtol(env, &end, 10) : 0;
    return env && *end == '\0' && n > 0 && n < 10000 ? (int)n : fallback;
}
