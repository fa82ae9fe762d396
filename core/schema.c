/*
 * schema.c - the input-schema validator.  Graphs describe their input with a
 * small JSON Schema subset (see sofiia/graph.h and docs/input-schema.md);
 * sv_schema_check() vets a schema once when the plugin loads, so that
 * sv_schema_validate(), which runs on every start request, can trust it and
 * walk the already parsed json_object without re-reading anything.
 *
 * Every error is one line that names where the problem is (a schema path for
 * plugin authors, an input field path for API callers) and what is allowed.
 * Text that comes from outside (field names, string values) is escaped and
 * cut to a few dozen characters, and every buffer is cut on a UTF-8 character
 * boundary, so an error message is always valid UTF-8 and fits.
 */
#include "schema.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Deeper schemas are refused: recursion stays bounded whatever a plugin ships
 * (the json-c parser stops at 32 levels anyway; each schema level takes at
 * least two). */
#define SCHEMA_MAX_DEPTH 32
/* Room for a path while walking; longer paths are cut in the error. */
#define PATH_CAP 256
/* At most this many characters of a caller's string are quoted back. */
#define QUOTE_MAX_CP 40
/* Room for such a quote: an escape takes up to 6 bytes, plus quotes and "...". */
#define QUOTE_BUF (6 * QUOTE_MAX_CP + 8)
/* Schema paths run deeper than input paths ("properties.a.properties.b"). */
#define CHECK_PATH_CAP 2048
/* A schema path in a check reason keeps its last this many bytes, leaving
 * room for the reason itself. */
#define WHY_PATH_MAX 100

enum stype { ST_NONE = 0, ST_STRING, ST_BOOLEAN, ST_INTEGER, ST_NUMBER, ST_ARRAY, ST_OBJECT };

#define TB(t) (1u << (t))
#define T_ALL                                                                                      \
    (TB(ST_STRING) | TB(ST_BOOLEAN) | TB(ST_INTEGER) | TB(ST_NUMBER) | TB(ST_ARRAY) | TB(ST_OBJECT))
#define T_NUMERIC (TB(ST_INTEGER) | TB(ST_NUMBER))

static const struct {
    const char *name;
    const char *article;
} type_names[] = {
    [ST_NONE] = {"?", "?"},
    [ST_STRING] = {"string", "a string"},
    [ST_BOOLEAN] = {"boolean", "a boolean"},
    [ST_INTEGER] = {"integer", "an integer"},
    [ST_NUMBER] = {"number", "a number"},
    [ST_ARRAY] = {"array", "an array"},
    [ST_OBJECT] = {"object", "an object"},
};

/* The supported keywords and the types each one makes sense for: a keyword
 * on a type it cannot constrain is refused rather than silently ignored. */
static const struct {
    const char *name;
    unsigned types;
} keywords[] = {
    {"type", T_ALL},
    {"properties", TB(ST_OBJECT)},
    {"required", TB(ST_OBJECT)},
    {"default", T_ALL},
    {"description", T_ALL},
    {"title", T_ALL},
    {"examples", T_ALL},
    {"minimum", T_NUMERIC},
    {"maximum", T_NUMERIC},
    {"x-clamp", T_NUMERIC},
    {"enum", TB(ST_STRING) | T_NUMERIC},
    {"minLength", TB(ST_STRING)},
    {"maxLength", TB(ST_STRING)},
    {"format", TB(ST_STRING)},
    {"minItems", TB(ST_ARRAY)},
    {"maxItems", TB(ST_ARRAY)},
    {"items", TB(ST_ARRAY)},
};

/* ---- bounded, UTF-8-safe text ---------------------------------------- */

struct sbuf {
    char *p;
    size_t cap; /* including the NUL */
    size_t len;
    bool full;
};

static void sb_init(struct sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = false;
    p[0] = '\0';
}

/* Append s (valid UTF-8) as far as it fits, never splitting a character. */
static void sb_put(struct sbuf *b, const char *s, size_t n)
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

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Formats here print only ASCII (numbers, type names). */
__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n)
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
static void sb_text(struct sbuf *b, const char *s, size_t n, size_t max_cp, bool quote)
{
    const unsigned char *u = (const unsigned char *)s;
    if (quote)
        sb_put(b, "\"", 1);
    size_t i = 0;
    for (size_t cp = 0; i < n && !b->full; cp++) {
        if (cp == max_cp) {
            sb_put(b, "...", 3);
            break;
        }
        size_t k = utf8_seq(u + i, n - i);
        char esc[8];
        if (k == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", u[i]);
            sb_puts(b, esc);
            k = 1;
        } else if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\', esc[1] = (char)u[i];
            sb_put(b, esc, 2);
        } else if (u[i] < 0x20 || u[i] == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04x", u[i]);
            sb_puts(b, esc);
        } else {
            sb_put(b, s + i, k);
        }
        i += k;
    }
    if (quote)
        sb_put(b, "\"", 1);
}

/* ---- JSON helpers ---------------------------------------------------- */

static enum stype type_from_name(const char *s)
{
    for (int t = ST_STRING; t <= ST_OBJECT; t++)
        if (strcmp(s, type_names[t].name) == 0)
            return (enum stype)t;
    return ST_NONE;
}

static enum stype schema_type(json_object *schema)
{
    json_object *t;
    if (!json_object_object_get_ex(schema, "type", &t) || !json_object_is_type(t, json_type_string))
        return ST_NONE;
    return type_from_name(json_object_get_string(t));
}

static json_object *kw(json_object *schema, const char *name)
{
    json_object *v = NULL;
    json_object_object_get_ex(schema, name, &v);
    return v;
}

static const char *value_label(json_object *v)
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

static bool is_number(json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* long double holds every int64 and uint64 exactly, so ranges compare right
 * even at the edges. */
static long double num_value(json_object *v)
{
    if (json_object_is_type(v, json_type_double))
        return json_object_get_double(v);
    int64_t i = json_object_get_int64(v);
    if (i == INT64_MAX) /* json-c saturates values past INT64_MAX */
        return (long double)json_object_get_uint64(v);
    return i;
}

static bool is_integral(json_object *v)
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

static void sb_num(struct sbuf *b, json_object *v)
{
    if (json_object_is_type(v, json_type_double)) {
        sb_printf(b, "%.15g", json_object_get_double(v));
        return;
    }
    int64_t i = json_object_get_int64(v);
    if (i == INT64_MAX)
        sb_printf(b, "%llu", (unsigned long long)json_object_get_uint64(v));
    else
        sb_printf(b, "%lld", (long long)i);
}

/* Append one list item (already formatted) unless it would leave less than
 * `reserve` bytes; then end the list with "..." and say so. */
static bool sb_item(struct sbuf *b, const char *item, bool first, bool last, size_t reserve)
{
    size_t need = strlen(item) + (first ? 0 : 2) + (last ? 0 : 5) + reserve;
    if (b->len + need > b->cap - 1) {
        sb_puts(b, first ? "..." : ", ...");
        return false;
    }
    if (!first)
        sb_puts(b, ", ");
    sb_puts(b, item);
    return true;
}

/* "a, b, c": the property names, as many as fit before `reserve` bytes. */
static void sb_names(struct sbuf *b, json_object *props, size_t reserve)
{
    char tmp[QUOTE_BUF];
    struct sbuf it;
    size_t i = 0;
    size_t n = (size_t)json_object_object_length(props);
    json_object_object_foreach(props, name, sub)
    {
        (void)sub;
        sb_init(&it, tmp, sizeof tmp);
        sb_text(&it, name, strlen(name), QUOTE_MAX_CP, false);
        if (!sb_item(b, tmp, i == 0, i + 1 == n, reserve))
            return;
        i++;
    }
    if (n == 0)
        sb_puts(b, "(none)");
}

/* "\"a\", \"b\"" or "1, 2": an enum's values, as many as fit. */
static void sb_enum(struct sbuf *b, json_object *en, size_t reserve)
{
    char tmp[QUOTE_BUF];
    struct sbuf it;
    size_t n = json_object_array_length(en);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(en, i);
        sb_init(&it, tmp, sizeof tmp);
        if (json_object_is_type(e, json_type_string))
            sb_text(&it, json_object_get_string(e), (size_t)json_object_get_string_len(e),
                    QUOTE_MAX_CP, true);
        else
            sb_num(&it, e);
        if (!sb_item(b, tmp, i == 0, i + 1 == n, reserve))
            return;
    }
}

/* ---- validation ------------------------------------------------------ */

struct vctx {
    sv_error *err;
    char path[PATH_CAP]; /* dotted path of the value being validated */
    struct sbuf pb;
    int depth;
    bool strict; /* checking a default: out of range is an error even with x-clamp */
};

static size_t path_push_key(struct vctx *c, const char *key)
{
    size_t saved = c->pb.len;
    if (saved > 0)
        sb_put(&c->pb, ".", 1);
    sb_text(&c->pb, key, strlen(key), PATH_CAP, false);
    return saved;
}

static size_t path_push_index(struct vctx *c, size_t i)
{
    size_t saved = c->pb.len;
    sb_printf(&c->pb, "[%zu]", i);
    return saved;
}

static void path_pop(struct vctx *c, size_t saved)
{
    c->pb.len = saved;
    c->pb.full = false;
    c->path[saved] = '\0';
}

/* Start an error at the current path; the caller writes the message into m. */
static void fail_begin(struct vctx *c, const char *code, struct sbuf *m)
{
    struct sbuf f;
    snprintf(c->err->code, sizeof c->err->code, "%s", code);
    sb_init(&f, c->err->field, sizeof c->err->field);
    sb_put(&f, c->path, c->pb.len);
    sb_init(m, c->err->message, sizeof c->err->message);
}

static int fail_msg(struct vctx *c, const char *msg)
{
    struct sbuf m;
    fail_begin(c, "invalid_input", &m);
    sb_puts(&m, msg);
    return -EINVAL;
}

static int fail_type(struct vctx *c, enum stype want, json_object *v)
{
    struct sbuf m;
    fail_begin(c, "invalid_input", &m);
    sb_printf(&m, "must be %s, got %s", type_names[want].article, value_label(v));
    return -EINVAL;
}

/* Only reachable with a schema that sv_schema_check() would have refused. */
static int fail_schema(struct vctx *c)
{
    struct sbuf m;
    fail_begin(c, "invalid_schema", &m);
    sb_puts(&m, "the graph's input schema is invalid here (missing or unknown \"type\", or nested "
                "too deeply)");
    return -EINVAL;
}

static int fail_nomem(struct vctx *c)
{
    struct sbuf m;
    fail_begin(c, "out_of_memory", &m);
    sb_puts(&m, "out of memory while validating the input");
    return -ENOMEM;
}

static int validate_value(struct vctx *c, json_object *schema, json_object *v, json_object **repl);

/* Would an absent object of this schema come out non-empty from its
 * properties' defaults alone?  Not when it has required members: the caller
 * did not supply the object, so it must not be told a member is missing. */
static bool fillable(json_object *schema, int depth)
{
    json_object *props = kw(schema, "properties");
    json_object *req = kw(schema, "required");
    if (depth > SCHEMA_MAX_DEPTH || schema_type(schema) != ST_OBJECT ||
        !json_object_is_type(props, json_type_object))
        return false;
    if (json_object_is_type(req, json_type_array) && json_object_array_length(req) > 0)
        return false;
    json_object_object_foreach(props, name, sub)
    {
        (void)name;
        if (kw(sub, "default") || fillable(sub, depth + 1))
            return true;
    }
    return false;
}

static bool is_required(json_object *schema, const char *name)
{
    json_object *req = kw(schema, "required");
    if (!json_object_is_type(req, json_type_array))
        return false;
    size_t n = json_object_array_length(req);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(req, i);
        if (json_object_is_type(r, json_type_string) &&
            strcmp(json_object_get_string(r), name) == 0)
            return true;
    }
    return false;
}

/* The value a missing member gets: a validated copy of its default, or an
 * object of its properties' defaults; NULL when it stays absent. */
static int make_default(struct vctx *c, json_object *sub, json_object **out)
{
    json_object *def = kw(sub, "default");
    json_object *v = NULL;
    json_object *repl = NULL;
    int rc = 0;

    *out = NULL;
    /* A JSON null default reads as NULL here, i.e. as no default (check
     * refuses it anyway). */
    if (def) {
        if (json_object_deep_copy(def, &v, NULL) != 0)
            v = NULL;
    } else if (fillable(sub, c->depth)) {
        v = json_object_new_object();
    } else {
        goto out;
    }
    if (!v) {
        rc = fail_nomem(c);
        goto out;
    }
    /* Fills nested defaults and turns an integral 180.0 into 180. */
    rc = validate_value(c, sub, v, &repl);
    if (rc < 0)
        goto out;
    if (repl) {
        json_object_put(v);
        v = repl;
    }
    *out = v;
    v = NULL;
out:
    json_object_put(v);
    return rc;
}

static int validate_object(struct vctx *c, json_object *schema, json_object *obj)
{
    json_object *props = kw(schema, "properties");
    int rc = 0;

    /* Without "properties" an object is free-form, as an array without
     * "items" is. */
    if (!json_object_is_type(props, json_type_object))
        return 0;

    /* Replacing the value of an existing key does not change json-c's table,
     * so it is safe inside the walk; new keys are only added below. */
    json_object_object_foreach(obj, key, val)
    {
        json_object *sub;
        json_object *repl = NULL;
        size_t saved = path_push_key(c, key);
        if (!json_object_object_get_ex(props, key, &sub)) {
            struct sbuf m;
            fail_begin(c, "invalid_input", &m);
            sb_puts(&m, "unknown field ");
            sb_text(&m, key, strlen(key), QUOTE_MAX_CP, true);
            sb_puts(&m, "; allowed: ");
            sb_names(&m, props, 0);
            return -EINVAL;
        }
        rc = validate_value(c, sub, val, &repl);
        if (rc < 0)
            return rc;
        if (repl && json_object_object_add(obj, key, repl) < 0) {
            json_object_put(repl);
            return fail_nomem(c);
        }
        path_pop(c, saved);
    }

    json_object_object_foreach(props, name, sub)
    {
        json_object *v = NULL;
        if (json_object_object_get_ex(obj, name, NULL))
            continue;
        size_t saved = path_push_key(c, name);
        if (is_required(schema, name)) {
            struct sbuf m;
            fail_begin(c, "invalid_input", &m);
            sb_text(&m, name, strlen(name), QUOTE_MAX_CP, true);
            sb_puts(&m, " is required");
            return -EINVAL;
        }
        rc = make_default(c, sub, &v);
        if (rc < 0)
            return rc;
        if (v && json_object_object_add(obj, name, v) < 0) {
            json_object_put(v);
            return fail_nomem(c);
        }
        path_pop(c, saved);
    }
    return 0;
}

static void sb_range(struct sbuf *m, enum stype t, json_object *min, json_object *max)
{
    sb_printf(m, "must be %s ", type_names[t].article);
    if (min && max) {
        sb_puts(m, "between ");
        sb_num(m, min);
        sb_puts(m, " and ");
        sb_num(m, max);
    } else if (min) {
        sb_puts(m, ">= ");
        sb_num(m, min);
    } else {
        sb_puts(m, "<= ");
        sb_num(m, max);
    }
}

/* A fresh number equal to bound `like`, as an int when `t` is integer. */
static json_object *new_number(enum stype t, json_object *like)
{
    if (json_object_is_type(like, json_type_int)) {
        int64_t i = json_object_get_int64(like);
        return i == INT64_MAX ? json_object_new_uint64(json_object_get_uint64(like))
                              : json_object_new_int64(i);
    }
    if (t == ST_INTEGER && is_integral(like))
        return json_object_new_int64((int64_t)json_object_get_double(like));
    return json_object_new_double(json_object_get_double(like));
}

static int validate_number(struct vctx *c, json_object *schema, enum stype t, json_object *v,
                           json_object **repl)
{
    if (!is_number(v))
        return fail_type(c, t, v);
    if (json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v))) {
        struct sbuf m;
        fail_begin(c, "invalid_input", &m);
        sb_printf(&m, "must be a finite number, got %g", json_object_get_double(v));
        return -EINVAL;
    }
    bool to_int = t == ST_INTEGER && json_object_is_type(v, json_type_double);
    if (t == ST_INTEGER && !is_integral(v)) {
        struct sbuf m;
        fail_begin(c, "invalid_input", &m);
        sb_puts(&m, "must be an integer, got ");
        sb_num(&m, v);
        return -EINVAL;
    }
    long double x = num_value(v);

    json_object *en = kw(schema, "enum");
    if (json_object_is_type(en, json_type_array)) {
        size_t n = json_object_array_length(en);
        size_t i;
        for (i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(en, i);
            if (is_number(e) && num_value(e) == x)
                break;
        }
        if (i == n) {
            struct sbuf m;
            fail_begin(c, "invalid_input", &m);
            char got[64];
            struct sbuf g;
            sb_init(&g, got, sizeof got);
            sb_puts(&g, ", got ");
            sb_num(&g, v);
            sb_puts(&m, "must be one of ");
            sb_enum(&m, en, g.len);
            sb_puts(&m, got);
            return -EINVAL;
        }
    }

    json_object *min = kw(schema, "minimum");
    json_object *max = kw(schema, "maximum");
    if (!is_number(min))
        min = NULL;
    if (!is_number(max))
        max = NULL;
    json_object *bound = NULL;
    if (min && x < num_value(min))
        bound = min;
    else if (max && x > num_value(max))
        bound = max;
    if (bound) {
        json_object *clamp = kw(schema, "x-clamp");
        if (!c->strict && json_object_is_type(clamp, json_type_boolean) &&
            json_object_get_boolean(clamp)) {
            *repl = new_number(t, bound);
            return *repl ? 0 : fail_nomem(c);
        }
        struct sbuf m;
        fail_begin(c, "invalid_input", &m);
        sb_range(&m, t, min, max);
        sb_puts(&m, ", got ");
        sb_num(&m, v);
        return -EINVAL;
    }
    if (to_int) {
        *repl = json_object_new_int64((int64_t)x);
        return *repl ? 0 : fail_nomem(c);
    }
    return 0;
}

static int validate_string(struct vctx *c, json_object *schema, json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return fail_type(c, ST_STRING, v);
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    const unsigned char *u = (const unsigned char *)s;

    /* Everything downstream treats strings as C strings inside UTF-8 JSON. */
    size_t cps = 0;
    for (size_t i = 0; i < n; cps++) {
        size_t k = utf8_seq(u + i, n - i);
        if (k == 0)
            return fail_msg(c, "must be valid UTF-8 text");
        if (u[i] == '\0')
            return fail_msg(c, "must not contain NUL (\\u0000) characters");
        i += k;
    }

    json_object *en = kw(schema, "enum");
    if (json_object_is_type(en, json_type_array)) {
        size_t ne = json_object_array_length(en);
        size_t i;
        for (i = 0; i < ne; i++) {
            json_object *e = json_object_array_get_idx(en, i);
            if (json_object_is_type(e, json_type_string) &&
                (size_t)json_object_get_string_len(e) == n &&
                memcmp(json_object_get_string(e), s, n) == 0)
                break;
        }
        if (i == ne) {
            struct sbuf m;
            fail_begin(c, "invalid_input", &m);
            char got[QUOTE_BUF];
            struct sbuf g;
            sb_init(&g, got, sizeof got);
            sb_puts(&g, ", got ");
            sb_text(&g, s, n, QUOTE_MAX_CP, true);
            sb_puts(&m, "must be one of ");
            sb_enum(&m, en, g.len);
            sb_puts(&m, got);
            return -EINVAL;
        }
    }

    json_object *jmin = kw(schema, "minLength");
    json_object *jmax = kw(schema, "maxLength");
    int64_t lo = json_object_is_type(jmin, json_type_int) ? json_object_get_int64(jmin) : -1;
    int64_t hi = json_object_is_type(jmax, json_type_int) ? json_object_get_int64(jmax) : -1;
    if ((lo >= 0 && (int64_t)cps < lo) || (hi >= 0 && (int64_t)cps > hi)) {
        struct sbuf m;
        fail_begin(c, "invalid_input", &m);
        if (lo >= 0 && hi >= 0)
            sb_printf(&m, "must be %lld to %lld characters long", (long long)lo, (long long)hi);
        else if (lo >= 0)
            sb_printf(&m, "must be at least %lld character%s long", (long long)lo,
                      lo == 1 ? "" : "s");
        else
            sb_printf(&m, "must be at most %lld character%s long", (long long)hi,
                      hi == 1 ? "" : "s");
        sb_printf(&m, ", got %zu", cps);
        return -EINVAL;
    }

    json_object *fmt = kw(schema, "format");
    int64_t us;
    if (json_object_is_type(fmt, json_type_string) &&
        strcmp(json_object_get_string(fmt), "date-time") == 0 && sv_parse_ts(s, &us) < 0) {
        struct sbuf m;
        fail_begin(c, "invalid_input", &m);
        sb_puts(&m, "must be an RFC 3339 date-time such as 2026-02-23T10:00:00Z or "
                    "2026-02-23T12:00:00.5+02:00, got ");
        sb_text(&m, s, n, QUOTE_MAX_CP, true);
        return -EINVAL;
    }
    return 0;
}

static int validate_array(struct vctx *c, json_object *schema, json_object *v)
{
    if (!json_object_is_type(v, json_type_array))
        return fail_type(c, ST_ARRAY, v);
    size_t n = json_object_array_length(v);
    json_object *jmin = kw(schema, "minItems");
    json_object *jmax = kw(schema, "maxItems");
    int64_t lo = json_object_is_type(jmin, json_type_int) ? json_object_get_int64(jmin) : -1;
    int64_t hi = json_object_is_type(jmax, json_type_int) ? json_object_get_int64(jmax) : -1;
    if ((lo >= 0 && (int64_t)n < lo) || (hi >= 0 && (int64_t)n > hi)) {
        struct sbuf m;
        fail_begin(c, "invalid_input", &m);
        if (lo >= 0 && hi >= 0)
            sb_printf(&m, "must have %lld to %lld items", (long long)lo, (long long)hi);
        else if (lo >= 0)
            sb_printf(&m, "must have at least %lld item%s", (long long)lo, lo == 1 ? "" : "s");
        else
            sb_printf(&m, "must have at most %lld item%s", (long long)hi, hi == 1 ? "" : "s");
        sb_printf(&m, ", got %zu", n);
        return -EINVAL;
    }

    json_object *items = kw(schema, "items");
    if (!items)
        return 0;
    for (size_t i = 0; i < n; i++) {
        json_object *repl = NULL;
        size_t saved = path_push_index(c, i);
        int rc = validate_value(c, items, json_object_array_get_idx(v, i), &repl);
        if (rc < 0)
            return rc;
        if (repl && json_object_array_put_idx(v, i, repl) < 0) {
            json_object_put(repl);
            return fail_nomem(c);
        }
        path_pop(c, saved);
    }
    return 0;
}

/* Validate v against schema.  When v has to change type or value (an
 * integral double for an integer, a clamped number) *repl receives the new
 * value, which the caller puts in v's place. */
static int validate_value(struct vctx *c, json_object *schema, json_object *v, json_object **repl)
{
    enum stype t = schema_type(schema);
    int rc;

    *repl = NULL;
    if (t == ST_NONE || c->depth >= SCHEMA_MAX_DEPTH)
        return fail_schema(c);
    c->depth++;
    switch (t) {
    case ST_STRING:
        rc = validate_string(c, schema, v);
        break;
    case ST_BOOLEAN:
        rc = json_object_is_type(v, json_type_boolean) ? 0 : fail_type(c, t, v);
        break;
    case ST_INTEGER:
    case ST_NUMBER:
        rc = validate_number(c, schema, t, v, repl);
        break;
    case ST_ARRAY:
        rc = validate_array(c, schema, v);
        break;
    case ST_OBJECT:
        rc = json_object_is_type(v, json_type_object) ? validate_object(c, schema, v)
                                                      : fail_type(c, t, v);
        break;
    default:
        rc = fail_schema(c);
        break;
    }
    c->depth--;
    return rc;
}

static void vctx_init(struct vctx *c, sv_error *err, bool strict)
{
    memset(err, 0, sizeof *err);
    c->err = err;
    c->depth = 0;
    c->strict = strict;
    sb_init(&c->pb, c->path, sizeof c->path);
}

int sv_schema_validate(json_object *schema, json_object *input, sv_error *err)
{
    sv_error scratch;
    struct vctx c;

    vctx_init(&c, err ? err : &scratch, false);
    if (!json_object_is_type(input, json_type_object))
        return fail_msg(&c, "input must be a JSON object");
    if (!json_object_is_type(schema, json_type_object) || schema_type(schema) != ST_OBJECT)
        return fail_schema(&c);
    c.depth = 1;
    return validate_object(&c, schema, input);
}

/* ---- schema check ---------------------------------------------------- */

struct cctx {
    struct sbuf why;
    char path[CHECK_PATH_CAP]; /* dotted path of the schema being checked */
    struct sbuf pb;
};

/* Start a reason at the current schema path; the caller appends the rest. */
static struct sbuf *cfail(struct cctx *c)
{
    c->why.len = 0;
    c->why.full = false;
    c->why.p[0] = '\0';
    if (c->pb.len == 0) {
        sb_puts(&c->why, "(root)");
    } else if (c->pb.len <= WHY_PATH_MAX) {
        sb_put(&c->why, c->path, c->pb.len);
    } else {
        /* The end of a long path is where the problem is. */
        size_t start = c->pb.len - WHY_PATH_MAX;
        const char *dot = memchr(c->path + start, '.', c->pb.len - start);
        if (dot && dot + 1 < c->path + c->pb.len)
            start = (size_t)(dot - c->path) + 1;
        while (((unsigned char)c->path[start] & 0xC0) == 0x80)
            start++;
        sb_puts(&c->why, "...");
        sb_put(&c->why, c->path + start, c->pb.len - start);
    }
    sb_puts(&c->why, ": ");
    return &c->why;
}

static int cfail_msg(struct cctx *c, const char *msg)
{
    sb_puts(cfail(c), msg);
    return -EINVAL;
}

static size_t cpath_push(struct cctx *c, const char *kwd, const char *name)
{
    size_t saved = c->pb.len;
    if (saved > 0)
        sb_put(&c->pb, ".", 1);
    sb_puts(&c->pb, kwd);
    if (name) {
        sb_put(&c->pb, ".", 1);
        sb_text(&c->pb, name, strlen(name), CHECK_PATH_CAP, false);
    }
    return saved;
}

static void cpath_pop(struct cctx *c, size_t saved)
{
    c->pb.len = saved;
    c->pb.full = false;
    c->path[saved] = '\0';
}

/* A "minimum"/"maximum": a finite number, integral for type integer. */
static int check_bound(struct cctx *c, json_object *schema, const char *name, enum stype t)
{
    json_object *v = kw(schema, name);
    if (!v)
        return 0;
    if (!is_number(v) ||
        (json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v)))) {
        sb_printf(cfail(c), "\"%s\" must be a number", name);
        return -EINVAL;
    }
    if (t == ST_INTEGER && !is_integral(v)) {
        sb_printf(cfail(c), "\"%s\" must be an integer for \"type\": \"integer\"", name);
        return -EINVAL;
    }
    return 0;
}

/* A "minLength"-like count: a non-negative JSON integer. */
static int check_count(struct cctx *c, json_object *schema, const char *name)
{
    json_object *v = kw(schema, name);
    if (v && (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)) {
        sb_printf(cfail(c), "\"%s\" must be a non-negative integer", name);
        return -EINVAL;
    }
    return 0;
}

static int check_min_max(struct cctx *c, json_object *schema, const char *lo, const char *hi)
{
    json_object *a = kw(schema, lo);
    json_object *b = kw(schema, hi);
    if (a && b && num_value(a) > num_value(b)) {
        struct sbuf *m = cfail(c);
        sb_printf(m, "\"%s\" (", lo);
        sb_num(m, a);
        sb_printf(m, ") is greater than \"%s\" (", hi);
        sb_num(m, b);
        sb_puts(m, ")");
        return -EINVAL;
    }
    return 0;
}

static int check_enum(struct cctx *c, json_object *en, enum stype t)
{
    if (!json_object_is_type(en, json_type_array) || json_object_array_length(en) == 0)
        return cfail_msg(c, "\"enum\" must be a non-empty array");
    size_t n = json_object_array_length(en);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(en, i);
        bool ok;
        if (t == ST_STRING)
            ok = json_object_is_type(e, json_type_string);
        else if (t == ST_INTEGER)
            ok = is_integral(e);
        else
            ok = is_number(e) && isfinite((double)num_value(e));
        if (!ok) {
            sb_printf(cfail(c), "\"enum\"[%zu] must be %s (the schema's \"type\"), got %s", i,
                      type_names[t].article, value_label(e));
            return -EINVAL;
        }
    }
    return 0;
}

/* A default must pass the validator itself (with no clamping), so a caller
 * who leaves the field out gets a value the graph accepts. */
static int check_default(struct cctx *c, json_object *schema, json_object *def)
{
    sv_error e;
    struct vctx v;
    json_object *copy = NULL;
    json_object *repl = NULL;
    int rc;

    if (json_object_is_type(def, json_type_null))
        return cfail_msg(c, "\"default\" must not be null; leave it out instead");
    vctx_init(&v, &e, true);
    /* Validation fills and converts in place: work on a copy. */
    if (json_object_deep_copy(def, &copy, NULL) != 0) {
        rc = cfail_msg(c, "out of memory");
        goto out;
    }
    rc = validate_value(&v, schema, copy, &repl);
    if (rc < 0) {
        struct sbuf *m = cfail(c);
        sb_puts(m, "\"default\" is invalid");
        if (e.field[0]) {
            sb_puts(m, " at ");
            sb_puts(m, e.field);
        }
        sb_puts(m, ": ");
        sb_puts(m, e.message);
        rc = -EINVAL;
    }
out:
    json_object_put(repl);
    json_object_put(copy);
    return rc;
}

static int check_schema(struct cctx *c, json_object *schema, int depth);

static int check_properties(struct cctx *c, json_object *props, int depth)
{
    if (!json_object_is_type(props, json_type_object))
        return cfail_msg(c, "\"properties\" must be an object of schemas");
    json_object_object_foreach(props, name, sub)
    {
        size_t saved = cpath_push(c, "properties", name);
        int rc = check_schema(c, sub, depth + 1);
        if (rc < 0)
            return rc;
        cpath_pop(c, saved);
    }
    return 0;
}

static int check_required(struct cctx *c, json_object *req, json_object *props)
{
    if (!json_object_is_type(req, json_type_array))
        return cfail_msg(c, "\"required\" must be an array of property names");
    size_t n = json_object_array_length(req);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(req, i);
        if (!json_object_is_type(r, json_type_string)) {
            sb_printf(cfail(c), "\"required\"[%zu] must be a string, got %s", i, value_label(r));
            return -EINVAL;
        }
        if (!json_object_object_get_ex(props, json_object_get_string(r), NULL)) {
            struct sbuf *m = cfail(c);
            sb_puts(m, "\"required\" names ");
            sb_text(m, json_object_get_string(r), (size_t)json_object_get_string_len(r),
                    QUOTE_MAX_CP, true);
            sb_puts(m, ", which is not in \"properties\"");
            return -EINVAL;
        }
    }
    return 0;
}

static int check_schema(struct cctx *c, json_object *schema, int depth)
{
    int rc;

    if (!json_object_is_type(schema, json_type_object)) {
        sb_printf(cfail(c), "a schema must be a JSON object, got %s", value_label(schema));
        return -EINVAL;
    }
    if (depth >= SCHEMA_MAX_DEPTH) {
        sb_printf(cfail(c), "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        return -EINVAL;
    }

    json_object *jt = kw(schema, "type");
    if (!jt)
        return cfail_msg(c, "missing \"type\" (one of string, boolean, integer, number, array, "
                            "object)");
    enum stype t = json_object_is_type(jt, json_type_string)
                       ? type_from_name(json_object_get_string(jt))
                       : ST_NONE;
    if (t == ST_NONE) {
        struct sbuf *m = cfail(c);
        sb_puts(m, "\"type\" must be one of string, boolean, integer, number, array, object; got ");
        if (json_object_is_type(jt, json_type_string))
            sb_text(m, json_object_get_string(jt), (size_t)json_object_get_string_len(jt),
                    QUOTE_MAX_CP, true);
        else
            sb_puts(m, value_label(jt));
        return -EINVAL;
    }

    json_object_object_foreach(schema, key, val)
    {
        size_t k;
        (void)val;
        for (k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
            if (strcmp(key, keywords[k].name) == 0)
                break;
        if (k == sizeof keywords / sizeof keywords[0]) {
            struct sbuf *m = cfail(c);
            sb_puts(m, "unknown keyword ");
            sb_text(m, key, strlen(key), QUOTE_MAX_CP, true);
            return -EINVAL;
        }
        if (!(keywords[k].types & TB(t))) {
            sb_printf(cfail(c), "keyword \"%s\" does not apply to \"type\": \"%s\"", key,
                      type_names[t].name);
            return -EINVAL;
        }
    }

    json_object *v;
    if ((v = kw(schema, "description")) && !json_object_is_type(v, json_type_string))
        return cfail_msg(c, "\"description\" must be a string");
    if ((v = kw(schema, "title")) && !json_object_is_type(v, json_type_string))
        return cfail_msg(c, "\"title\" must be a string");
    if ((v = kw(schema, "examples")) && !json_object_is_type(v, json_type_array))
        return cfail_msg(c, "\"examples\" must be an array");
    if ((v = kw(schema, "x-clamp")) && !json_object_is_type(v, json_type_boolean))
        return cfail_msg(c, "\"x-clamp\" must be true or false");
    if ((v = kw(schema, "format")) && (!json_object_is_type(v, json_type_string) ||
                                       strcmp(json_object_get_string(v), "date-time") != 0))
        return cfail_msg(c, "\"format\" must be \"date-time\", the only supported format");

    if ((rc = check_bound(c, schema, "minimum", t)) < 0 ||
        (rc = check_bound(c, schema, "maximum", t)) < 0 ||
        (rc = check_min_max(c, schema, "minimum", "maximum")) < 0 ||
        (rc = check_count(c, schema, "minLength")) < 0 ||
        (rc = check_count(c, schema, "maxLength")) < 0 ||
        (rc = check_min_max(c, schema, "minLength", "maxLength")) < 0 ||
        (rc = check_count(c, schema, "minItems")) < 0 ||
        (rc = check_count(c, schema, "maxItems")) < 0 ||
        (rc = check_min_max(c, schema, "minItems", "maxItems")) < 0)
        return rc;
    if ((v = kw(schema, "enum")) && (rc = check_enum(c, v, t)) < 0)
        return rc;

    json_object *props = kw(schema, "properties");
    if (props && (rc = check_properties(c, props, depth)) < 0)
        return rc;
    if ((v = kw(schema, "required")) && (rc = check_required(c, v, props)) < 0)
        return rc;
    if ((v = kw(schema, "items"))) {
        size_t saved = cpath_push(c, "items", NULL);
        if ((rc = check_schema(c, v, depth + 1)) < 0)
            return rc;
        cpath_pop(c, saved);
    }

    /* Last: the validator may only meet sub-schemas that passed above. */
    if (json_object_object_get_ex(schema, "default", &v) && (rc = check_default(c, schema, v)) < 0)
        return rc;
    return 0;
}

int sv_schema_check(json_object *schema, char *why, size_t why_len)
{
    char scratch[1];
    struct cctx c;

    if (!why || why_len == 0) {
        why = scratch;
        why_len = sizeof scratch;
    }
    sb_init(&c.why, why, why_len);
    sb_init(&c.pb, c.path, sizeof c.path);
    if (!json_object_is_type(schema, json_type_object))
        return cfail_msg(&c, "the input schema must be a JSON object");
    if (schema_type(schema) != ST_OBJECT)
        return cfail_msg(&c, "the input schema must have \"type\": \"object\"");
    return check_schema(&c, schema, 0);
}
