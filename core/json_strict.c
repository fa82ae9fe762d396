/* json_strict.c - see json_strict.h.  A recursive-descent parser straight to
 * json-c objects: one pass, so nothing the grammar check accepted can be
 * read differently by a second parser (a validator in front of json-c's
 * tokener would have had to agree with it byte for byte). */
#include "json_strict.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_JSON_PATH_MAX 512

typedef struct jp {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    char *str; /* the string being decoded (NUL-terminated) */
    size_t str_n, str_cap;
    char path[SV_JSON_PATH_MAX]; /* the member being parsed: "input.items[2]" */
    size_t plen;
    char *err;
    size_t errlen;
    char *field;
    size_t fieldlen;
} jp;

/* Copy at most dstlen-1 bytes of src without cutting a UTF-8 character. */
static void copy_cut(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (!dst || dstlen == 0)
        return;
    if (n > dstlen - 1) {
        n = dstlen - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int fail(jp *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(jp *p, size_t at, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s at byte %zu", what, at);
    copy_cut(p->field, p->fieldlen, p->path, p->plen);
    return -EINVAL;
}

static int cur(const jp *p)
{
    return p->pos < p->len ? p->s[p->pos] : -1;
}

static void skip_ws(jp *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int starts_ci(const jp *p, size_t at, const char *word)
{
    size_t n = strlen(word);
    if (p->len - at < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p->s[at + i];
        if ((c | 0x20) != (unsigned char)word[i])
            return 0;
    }
    return 1;
}

/* Why the byte at pos cannot be there: the lenient forms get their name. */
static int unexpected(jp *p, const char *expected)
{
    int c = cur(p);
    size_t at = p->pos;
    if (c < 0)
        return fail(p, at, "unexpected end of input (%s expected)", expected);
    if (c == '\'')
        return fail(p, at, "single quotes are not JSON: strings and keys take \"");
    if (c == '/')
        return fail(p, at, "comments are not JSON");
    if (starts_ci(p, at, "nan") || starts_ci(p, at, "inf") ||
        (c == '-' && starts_ci(p, at + 1, "inf")))
        return fail(p, at, "NaN and Infinity are not JSON numbers");
    if (c >= 0x21 && c <= 0x7e)
        return fail(p, at, "unexpected '%c' (%s expected)", c, expected);
    return fail(p, at, "unexpected byte 0x%02X (%s expected)", (unsigned)c, expected);
}

/* Keep the path of the member about to be parsed; returns the length to
 * restore.  A path too long to keep whole is cut (on a character). */
static size_t path_push(jp *p, const char *sep, const char *s, size_t n)
{
    size_t saved = p->plen;
    size_t sl = p->plen ? strlen(sep) : 0;
    if (p->plen + sl < sizeof p->path - 1) {
        memcpy(p->path + p->plen, sep, sl);
        p->plen += sl;
        copy_cut(p->path + p->plen, sizeof p->path - p->plen, s, n);
        p->plen += strlen(p->path + p->plen);
    }
    p->path[p->plen] = '\0';
    return saved;
}

static void path_pop(jp *p, size_t saved)
{
    p->plen = saved;
    p->path[saved] = '\0';
}

static int str_put(jp *p, const void *b, size_t n)
{
    if (p->str_n + n + 1 > p->str_cap) {
        size_t cap = p->str_cap ? p->str_cap : 256;
        while (cap < p->str_n + n + 1)
            cap *= 2;
        char *s = realloc(p->str, cap);
        if (!s)
            return -ENOMEM;
        p->str = s;
        p->str_cap = cap;
    }
    memcpy(p->str + p->str_n, b, n);
    p->str_n += n;
    p->str[p->str_n] = '\0';
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (Unicode 15, table 3-7:
 * no overlongs, no surrogates, nothing past U+10FFFF), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static int hex4(const jp *p, size_t at, unsigned *out)
{
    unsigned v = 0;
    if (p->len - at < 4)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = p->s[at + i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (unsigned)((c | 0x20) - 'a' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* One \u escape (a pair for a surrogate pair) at pos, UTF-8 into the string. */
static int parse_u_escape(jp *p)
{
    size_t at = p->pos;
    unsigned cp, lo;
    unsigned char b[4];
    size_t n;
    if (hex4(p, at + 2, &cp) < 0)
        return fail(p, at, "\\u must be followed by four hex digits");
    p->pos += 6;
    if (cp == 0)
        return fail(p, at, "\\u0000 (a NUL character) is not allowed in strings");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, at, "lone surrogate \\u%04X (a low surrogate with no high one before it)",
                    cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
            hex4(p, p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, at, "lone surrogate \\u%04X (a high surrogate needs a low one after it)",
                        cp);
        p->pos += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return str_put(p, b, n);
}

/* The string at pos (on its '"') decoded into p->str. */
static int parse_string(jp *p)
{
    size_t start = p->pos;
    int rc = 0;
    p->pos++;
    p->str_n = 0;
    if ((rc = str_put(p, "", 0)) < 0)
        return rc;
    for (;;) {
        /* plain ASCII runs are copied at once */
        size_t run = p->pos;
        while (run < p->len && p->s[run] >= 0x20 && p->s[run] < 0x80 && p->s[run] != '"' &&
               p->s[run] != '\\')
            run++;
        if (run > p->pos && (rc = str_put(p, p->s + p->pos, run - p->pos)) < 0)
            return rc;
        p->pos = run;
        int c = cur(p);
        if (c < 0)
            return fail(p, start, "unterminated string");
        if (c == '"') {
            p->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(p, p->pos, "control character 0x%02X in a string (write it as an escape)",
                        (unsigned)c);
        if (c >= 0x80) {
            size_t n = utf8_seq(p->s + p->pos, p->len - p->pos);
            if (n == 0)
                return fail(p, p->pos, "invalid UTF-8");
            if ((rc = str_put(p, p->s + p->pos, n)) < 0)
                return rc;
            p->pos += n;
            continue;
        }
        /* a backslash */
        if (p->pos + 1 >= p->len)
            return fail(p, start, "unterminated string");
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        unsigned char e = p->s[p->pos + 1];
        const char *hit = e ? strchr(from, e) : NULL;
        if (e == 'u') {
            rc = parse_u_escape(p);
        } else if (hit) {
            rc = str_put(p, &to[hit - from], 1);
            p->pos += 2;
        } else {
            return e >= 0x21 && e <= 0x7e
                       ? fail(p, p->pos, "invalid escape \\%c", e)
                       : fail(p, p->pos, "invalid escape (byte 0x%02X after \\)", (unsigned)e);
        }
        if (rc < 0)
            return rc;
    }
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259's number grammar, then json-c's types: int64, uint64, else a
 * double that keeps its text (as json-c's tokener does) so it prints as sent. */
static int parse_number(jp *p, json_object **out)
{
    size_t start = p->pos, i = p->pos;
    int is_double = 0;
    char buf[SV_JSON_MAX_NUMBER + 1];
    const unsigned char *s = p->s;
    if (s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(s[i]))
        return i < p->len && (s[i] | 0x20) == 'i' ? unexpected(p, "a number")
                                                  : fail(p, i, "a digit must follow '-'");
    if (s[i] == '0') {
        if (++i < p->len && is_digit(s[i]))
            return fail(p, start, "numbers may not have leading zeros");
    } else {
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && s[i] == '.') {
        is_double = 1;
        if (++i >= p->len || !is_digit(s[i]))
            return fail(p, i, "a digit must follow the decimal point");
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        is_double = 1;
        if (++i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(p, i, "the exponent needs digits");
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    size_t n = i - start;
    if (n > SV_JSON_MAX_NUMBER)
        return fail(p, start, "number longer than %d characters", SV_JSON_MAX_NUMBER);
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    p->pos = i;
    *out = NULL;
    if (!is_double) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            *out = json_object_new_int64(v);
            return *out ? 0 : -ENOMEM;
        }
        errno = 0;
        unsigned long long u = buf[0] == '-' ? 0 : strtoull(buf, NULL, 10);
        if (buf[0] != '-' && errno == 0) {
            *out = json_object_new_uint64(u);
            return *out ? 0 : -ENOMEM;
        }
        /* past 64 bits: a double, not json-c's silent clamp to the limit */
    }
    errno = 0;
    double d = strtod(buf, NULL);
    if (errno == ERANGE && isinf(d))
        return fail(p, start, "number out of the range of a double");
    *out = json_object_new_double_s(d, buf);
    return *out ? 0 : -ENOMEM;
}

static int parse_value(jp *p, json_object **out);

/* What to say when a key should start at pos. */
static int key_expected(jp *p)
{
    int c = cur(p);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$')
        if (!starts_ci(p, p->pos, "nan") && !starts_ci(p, p->pos, "inf"))
            return fail(p, p->pos, "keys must be strings in double quotes");
    return unexpected(p, "a key in double quotes");
}

static int parse_object(jp *p, json_object **out)
{
    int rc = 0;
    char *key = NULL;
    json_object *o = NULL;
    if (++p->depth > SV_JSON_MAX_DEPTH) {
        rc = fail(p, p->pos, "nested deeper than %d levels", SV_JSON_MAX_DEPTH);
        goto out;
    }
    if (!(o = json_object_new_object())) {
        rc = -ENOMEM;
        goto out;
    }
    p->pos++;
    skip_ws(p);
    if (cur(p) == '}') {
        p->pos++;
        goto out;
    }
    for (;;) {
        skip_ws(p);
        if (cur(p) != '"') {
            rc = cur(p) == '}' ? fail(p, p->pos, "trailing comma before '}'") : key_expected(p);
            goto out;
        }
        size_t key_at = p->pos;
        if ((rc = parse_string(p)) < 0)
            goto out;
        if (!(key = strdup(p->str))) {
            rc = -ENOMEM;
            goto out;
        }
        size_t saved = path_push(p, ".", key, strlen(key));
        if (json_object_object_get_ex(o, key, NULL)) {
            char shown[80];
            copy_cut(shown, sizeof shown, key, strlen(key));
            rc = fail(p, key_at, "duplicate key \"%s\"", shown);
            goto out;
        }
        skip_ws(p);
        if (cur(p) != ':') {
            rc = unexpected(p, "':'");
            goto out;
        }
        p->pos++;
        json_object *v = NULL;
        if ((rc = parse_value(p, &v)) < 0)
            goto out;
        if (json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
            json_object_put(v);
            rc = -ENOMEM;
            goto out;
        }
        free(key);
        key = NULL;
        path_pop(p, saved);
        skip_ws(p);
        if (cur(p) == '}') {
            p->pos++;
            break;
        }
        if (cur(p) != ',') {
            rc = unexpected(p, "',' or '}'");
            goto out;
        }
        p->pos++;
    }
out:
    free(key);
    p->depth--;
    if (rc < 0) {
        json_object_put(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

static int parse_array(jp *p, json_object **out)
{
    int rc = 0;
    json_object *a = NULL;
    if (++p->depth > SV_JSON_MAX_DEPTH) {
        rc = fail(p, p->pos, "nested deeper than %d levels", SV_JSON_MAX_DEPTH);
        goto out;
    }
    if (!(a = json_object_new_array())) {
        rc = -ENOMEM;
        goto out;
    }
    p->pos++;
    skip_ws(p);
    if (cur(p) == ']') {
        p->pos++;
        goto out;
    }
    for (size_t i = 0;; i++) {
        char idx[32];
        skip_ws(p);
        if (i > 0 && cur(p) == ']') {
            rc = fail(p, p->pos, "trailing comma before ']'");
            goto out;
        }
        int n = snprintf(idx, sizeof idx, "[%zu]", i);
        size_t saved = path_push(p, "", idx, (size_t)n);
        json_object *v = NULL;
        if ((rc = parse_value(p, &v)) < 0)
            goto out;
        if (json_object_array_add(a, v) < 0) {
            json_object_put(v);
            rc = -ENOMEM;
            goto out;
        }
        path_pop(p, saved);
        skip_ws(p);
        if (cur(p) == ']') {
            p->pos++;
            break;
        }
        if (cur(p) != ',') {
            rc = unexpected(p, "',' or ']'");
            goto out;
        }
        p->pos++;
    }
out:
    p->depth--;
    if (rc < 0) {
        json_object_put(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

static int literal(jp *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return 0;
    p->pos += n;
    return 1;
}

static int parse_value(jp *p, json_object **out)
{
    *out = NULL;
    skip_ws(p);
    int c = cur(p);
    if (c == '{')
        return parse_object(p, out);
    if (c == '[')
        return parse_array(p, out);
    if (c == '"') {
        int rc = parse_string(p);
        if (rc < 0)
            return rc;
        *out = json_object_new_string_len(p->str, (int)p->str_n);
        return *out ? 0 : -ENOMEM;
    }
    if (c == '-' || is_digit(c))
        return parse_number(p, out);
    if (literal(p, "true") || literal(p, "false")) {
        *out = json_object_new_boolean(p->s[p->pos - 4] == 't');
        return *out ? 0 : -ENOMEM;
    }
    if (literal(p, "null"))
        return 0;
    return unexpected(p, "a value");
}

int sv_json_parse_strict(const char *buf, size_t len, json_object **out, char *err, size_t errlen,
                         char *field, size_t fieldlen)
{
    jp p = {.s = (const unsigned char *)buf,
            .len = buf ? len : 0,
            .err = err,
            .errlen = errlen,
            .field = field,
            .fieldlen = fieldlen};
    json_object *v = NULL;
    int rc;
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (field && fieldlen)
        field[0] = '\0';
    if (p.len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        rc = fail(&p, 0, "a byte order mark is not allowed");
        goto out;
    }
    rc = parse_value(&p, &v);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos < p.len)
            rc = unexpected(&p, "end of input after the JSON value");
    }
out:
    free(p.str);
    if (rc < 0) {
        json_object_put(v);
        v = NULL;
        if (rc == -ENOMEM && err && errlen)
            snprintf(err, errlen, "out of memory");
    }
    *out = v;
    return rc;
}
