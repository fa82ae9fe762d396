/*
 * schema_text.c - the helpers that the validator (schema.c) and the schema
 * check (schema_check.c) share: bounded, UTF-8-safe message building and
 * reading a schema's keywords and numbers.
 */
#include "schema_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const struct sv_schema_type_name sv_schema_type_names[] = {
    [SV_SCHEMA_NONE] = {"?", "?"},
    [SV_SCHEMA_STRING] = {"string", "a string"},
    [SV_SCHEMA_BOOLEAN] = {"boolean", "a boolean"},
    [SV_SCHEMA_INTEGER] = {"integer", "an integer"},
    [SV_SCHEMA_NUMBER] = {"number", "a number"},
    [SV_SCHEMA_ARRAY] = {"array", "an array"},
    [SV_SCHEMA_OBJECT] = {"object", "an object"},
};

/* ---- bounded, UTF-8-safe text ---------------------------------------- */

void sv_schema_sb_init(struct sv_schema_sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = false;
    p[0] = '\0';
}

/* Append s (valid UTF-8) as far as it fits, never splitting a character. */
void sv_schema_sb_put(struct sv_schema_sbuf *b, const char *s, size_t n)
{
    size_t room = b->cap - 1 - b->len;
    size_t k = n;
    if (k > room) {
        k = room;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        b->full = true;
    }
    memcpy(b->p + b->len, s, k);
    b->len += k;
    b->p[b->len] = '\0';
}

void sv_schema_sb_puts(struct sv_schema_sbuf *b, const char *s)
{
    sv_schema_sb_put(b, s, strlen(s));
}

/* Formats here print only ASCII (numbers, type names). */
void sv_schema_sb_printf(struct sv_schema_sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sv_schema_sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included). */
size_t sv_schema_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
        len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Append text from outside, escaped so it reads unambiguously on one line,
 * cut after max_cp characters, optionally in double quotes. */
void sv_schema_sb_text(struct sv_schema_sbuf *b, const char *s, size_t n, size_t max_cp, bool quote)
{
    const unsigned char *u = (const unsigned char *)s;
    if (quote)
        sv_schema_sb_put(b, "\"", 1);
    size_t i = 0;
    for (size_t cp = 0; i < n && !b->full; cp++) {
        if (cp == max_cp) {
            sv_schema_sb_put(b, "...", 3);
            break;
        }
        size_t k = sv_schema_utf8_seq(u + i, n - i);
        char esc[8];
        if (k == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", u[i]);
            sv_schema_sb_puts(b, esc);
            k = 1;
        } else if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\', esc[1] = (char)u[i];
            sv_schema_sb_put(b, esc, 2);
        } else if (u[i] < 0x20 || u[i] == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04x", u[i]);
            sv_schema_sb_puts(b, esc);
        } else {
            sv_schema_sb_put(b, s + i, k);
        }
        i += k;
    }
    if (quote)
        sv_schema_sb_put(b, "\"", 1);
}

/* ---- JSON helpers ---------------------------------------------------- */

enum sv_schema_type sv_schema_type_from_name(const char *s)
{
    for (int t = SV_SCHEMA_STRING; t <= SV_SCHEMA_OBJECT; t++)
        if (strcmp(s, sv_schema_type_names[t].name) == 0)
            return (enum sv_schema_type)t;
    return SV_SCHEMA_NONE;
}

enum sv_schema_type sv_schema_type_of(json_object *schema)
{
    json_object *t;
    if (!json_object_object_get_ex(schema, "type", &t) || !json_object_is_type(t, json_type_string))
        return SV_SCHEMA_NONE;
    return sv_schema_type_from_name(json_object_get_string(t));
}

json_object *sv_schema_kw(json_object *schema, const char *name)
{
    json_object *v = NULL;
    json_object_object_get_ex(schema, name, &v);
    return v;
}

const char *sv_schema_value_label(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "boolean";
    case json_type_double:
        return "number";
    case json_type_int:
        return "integer";
    case json_type_object:
        return "object";
    case json_type_array:
        return "array";
    case json_type_string:
        return "string";
    }
    return "?";
}

bool sv_schema_is_number(json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* long double holds every int64 and uint64 exactly, so ranges compare right
 * even at the edges. */
long double sv_schema_num_value(json_object *v)
{
    if (json_object_is_type(v, json_type_double))
        return json_object_get_double(v);
    int64_t i = json_object_get_int64(v);
    if (i == INT64_MAX) /* json-c saturates values past INT64_MAX */
        return (long double)json_object_get_uint64(v);
    return i;
}

bool sv_schema_is_integral(json_object *v)
{
    if (json_object_is_type(v, json_type_int))
        return true;
    if (!json_object_is_type(v, json_type_double))
        return false;
    double d = json_object_get_double(v);
    /* Range first: the cast is only defined for values an int64 holds.  No
     * floor(), so the core does not need libm for this. */
    return isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
           (double)(int64_t)d == d;
}

void sv_schema_sb_num(struct sv_schema_sbuf *b, json_object *v)
{
    if (json_object_is_type(v, json_type_double)) {
        sv_schema_sb_printf(b, "%.15g", json_object_get_double(v));
        return;
    }
    int64_t i = json_object_get_int64(v);
    if (i == INT64_MAX)
        sv_schema_sb_printf(b, "%llu", (unsigned long long)json_object_get_uint64(v));
    else
        sv_schema_sb_printf(b, "%lld", (long long)i);
}
