/*
 * it_text.c - string helpers shared by the analysis and the report: a growable
 * buffer, one-line cleaning of untrusted text, word splitting of identifiers,
 * keyword matching on word boundaries, compact numbers.
 */
#include "it.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void it_buf_free(it_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void it_buf_reset(it_buf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

static int it_buf_reserve(it_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void it_buf_cat(it_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (it_buf_reserve(b, n) < 0)
        return;
    memcpy(b->s + b->len, s ? s : "", n);
    b->len += n;
    b->s[b->len] = '\0';
}

void it_buf_printf(it_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || it_buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *it_buf_str(const it_buf *b)
{
    return b->s ? b->s : "";
}

size_t it_utf8_seq(const unsigned char *p)
{
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

static char *it_text_clean(const char *src, char *dst, size_t len, int keep_nl)
{
    size_t o = 0;
    int cut = 0;

    if (!dst || len == 0)
        return dst;
    dst[0] = '\0';
    if (!src)
        return dst;
    for (const unsigned char *p = (const unsigned char *)src; *p;) {
        size_t n = it_utf8_seq(p);
        const char *emit = (const char *)p;
        char one;
        if (keep_nl && *p == '\n') {
            p++;
            while (o > 0 && dst[o - 1] == ' ')
                o--;
        } else if (n == 0 || *p < 0x20 || *p == 0x7f) {
            /* Newlines, tabs and broken bytes must not reach a one-line report. */
            one = (n == 0) ? '?' : ' ';
            emit = &one;
            p += n ? n : 1;
            n = 1;
        } else {
            p += n;
        }
        if (emit[0] == ' ' && (o == 0 || dst[o - 1] == ' ' || dst[o - 1] == '\n'))
            continue;
        if (o + n > len - 1) {
            cut = 1;
            break;
        }
        memcpy(dst + o, emit, n);
        o += n;
    }
    if (cut && len > 4) {
        size_t keep = o;
        while (keep > 0 && keep + 3 > len - 1)
            keep--;
        /* Back off to the start of a character so "..." never splits one. */
        while (keep > 0 && keep < o && ((unsigned char)dst[keep] & 0xc0) == 0x80)
            keep--;
        while (keep > 0 && dst[keep - 1] == ' ')
            keep--;
        memcpy(dst + keep, "...", 3);
        o = keep + 3;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
    return dst;
}

char *it_text_line(const char *src, char *dst, size_t len)
{
    return it_text_clean(src, dst, len, 0);
}

char *it_text_block(const char *src, char *dst, size_t len)
{
    return it_text_clean(src, dst, len, 1);
}

char *it_text_lower(const char *src, char *dst, size_t len)
{
    it_text_line(src, dst, len);
    for (char *p = dst; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return dst;
}

static int it_is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int it_is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static int it_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

char *it_text_words(const char *src, char *dst, size_t len)
{
    size_t o = 0;

    if (!dst || len == 0)
        return dst;
    dst[0] = '\0';
    for (size_t i = 0; src && src[i] && o + 2 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        unsigned char prev = i ? (unsigned char)src[i - 1] : 0;
        unsigned char next = (unsigned char)src[i + 1];
        int space = 0;
        if (it_is_upper(c))
            space =
                it_is_lower(prev) || it_is_digit(prev) || (it_is_upper(prev) && it_is_lower(next));
        else if (it_is_digit(c))
            space = it_is_lower(prev) || it_is_upper(prev);
        else if (!it_is_lower(c) && c < 0x80)
            c = ' ';
        if ((space || c == ' ') && o > 0 && dst[o - 1] != ' ')
            dst[o++] = ' ';
        if (c != ' ')
            dst[o++] = (char)(it_is_upper(c) ? c - 'A' + 'a' : c);
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
    return dst;
}

static int it_is_word(char c)
{
    return it_is_lower(c) || it_is_upper(c) || it_is_digit(c) || c == '_';
}

int it_text_has_keyword(const char *text, const char *kw)
{
    char k[64];
    size_t n;
    int prefix;

    if (!text || !kw)
        return 0;
    n = strlen(kw);
    prefix = n > 0 && kw[n - 1] == '*';
    if (prefix)
        n--;
    if (n == 0 || n >= sizeof k)
        return 0;
    memcpy(k, kw, n);
    k[n] = '\0';
    for (const char *p = strstr(text, k); p; p = strstr(p + 1, k)) {
        if (p > text && it_is_word(p[-1]))
            continue;
        if (!prefix && it_is_word(p[n]))
            continue;
        return 1;
    }
    return 0;
}

void it_text_number(double v, char *buf, size_t len)
{
    double a = v < 0 ? -v : v;
    if (v != v) {
        snprintf(buf, len, "n/a");
        return;
    }
    if (a >= 1e15) {
        snprintf(buf, len, "%.3g", v);
        return;
    }
    int dec = a >= 100 ? 1 : a >= 1 ? 3 : 4;
    snprintf(buf, len, "%.*f", dec, v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, len, "0");
}

json_object *it_json_get(json_object *obj, const char *key, json_type t)
{
    json_object *v = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v || !json_object_is_type(v, t))
        return NULL;
    return v;
}

const char *it_json_str(json_object *obj, const char *key)
{
    json_object *v = it_json_get(obj, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}
