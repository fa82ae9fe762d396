/*
 * schema.c - the input-schema validator.  Graphs describe their input with a
 * small JSON Schema subset (see sofiia/graph.h and docs/input-schema.md);
 * sv_schema_check() (schema_check.c) vets a schema once when the plugin
 * loads, so that sv_schema_validate(), which runs on every start request, can
 * trust it and walk the already parsed json_object without re-reading
 * anything.  The message and number helpers both use are in schema_text.c.
 */
#include "schema_internal.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Room for a path while walking; longer paths are cut in the error. */
#define PATH_CAP 256

/* ---- message lists --------------------------------------------------- */

/* Append one list item (already formatted) unless it would leave less than
 * `reserve` bytes; then end the list with "..." and say so. */
static bool sb_item(struct sv_schema_sbuf *b, const char *item, bool first, bool last,
                    size_t reserve)
{
    size_t need = strlen(item) + (first ? 0 : 2) + (last ? 0 : 5) + reserve;
    if (b->len + need > b->cap - 1) {
        sv_schema_sb_puts(b, first ? "..." : ", ...");
        return false;
    }
    if (!first)
        sv_schema_sb_puts(b, ", ");
    sv_schema_sb_puts(b, item);
    return true;
}

/* "a, b, c": the property names, as many as fit before `reserve` bytes. */
static void sb_names(struct sv_schema_sbuf *b, json_object *props, size_t reserve)
{
    char tmp[SV_SCHEMA_QUOTE_BUF];
    struct sv_schema_sbuf it;
    size_t i = 0;
    size_t n = (size_t)json_object_object_length(props);
    json_object_object_foreach(props, name, sub)
    {
        (void)sub;
        sv_schema_sb_init(&it, tmp, sizeof tmp);
        sv_schema_sb_text(&it, name, strlen(name), SV_SCHEMA_QUOTE_MAX_CP, false);
        if (!sb_item(b, tmp, i == 0, i + 1 == n, reserve))
            return;
        i++;
    }
    if (n == 0)
        sv_schema_sb_puts(b, "(none)");
}

/* "\"a\", \"b\"" or "1, 2": an enum's values, as many as fit. */
static void sb_enum(struct sv_schema_sbuf *b, json_object *en, size_t reserve)
{
    char tmp[SV_SCHEMA_QUOTE_BUF];
    struct sv_schema_sbuf it;
    size_t n = json_object_array_length(en);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(en, i);
        sv_schema_sb_init(&it, tmp, sizeof tmp);
        if (json_object_is_type(e, json_type_string))
            sv_schema_sb_text(&it, json_object_get_string(e), (size_t)json_object_get_string_len(e),
                              SV_SCHEMA_QUOTE_MAX_CP, true);
        else
            sv_schema_sb_num(&it, e);
        if (!sb_item(b, tmp, i == 0, i + 1 == n, reserve))
            return;
    }
}

/* ---- validation ------------------------------------------------------ */

struct vctx {
    sv_error *err;
    char path[PATH_CAP]; /* dotted path of the value being validated */
    struct sv_schema_sbuf pb;
    int depth;
    bool strict; /* checking a default: out of range is an error even with x-clamp */
};

static size_t path_push_key(struct vctx *c, const char *key)
{
    size_t saved = c->pb.len;
    if (saved > 0)
        sv_schema_sb_put(&c->pb, ".", 1);
    sv_schema_sb_text(&c->pb, key, strlen(key), PATH_CAP, false);
    return saved;
}

static size_t path_push_index(struct vctx *c, size_t i)
{
    size_t saved = c->pb.len;
    sv_schema_sb_printf(&c->pb, "[%zu]", i);
    return saved;
}

static void path_pop(struct vctx *c, size_t saved)
{
    c->pb.len = saved;
    c->pb.full = false;
    c->path[saved] = '\0';
}

/* Start an error at the current path; the caller writes the message into m. */
static void fail_begin(struct vctx *c, const char *code, struct sv_schema_sbuf *m)
{
    struct sv_schema_sbuf f;
    snprintf(c->err->code, sizeof c->err->code, "%s", code);
    sv_schema_sb_init(&f, c->err->field, sizeof c->err->field);
    sv_schema_sb_put(&f, c->path, c->pb.len);
    sv_schema_sb_init(m, c->err->message, sizeof c->err->message);
}

static int fail_msg(struct vctx *c, const char *msg)
{
    struct sv_schema_sbuf m;
    fail_begin(c, "invalid_input", &m);
    sv_schema_sb_puts(&m, msg);
    return -EINVAL;
}

static int fail_type(struct vctx *c, enum sv_schema_type want, json_object *v)
{
    struct sv_schema_sbuf m;
    fail_begin(c, "invalid_input", &m);
    sv_schema_sb_printf(&m, "must be %s, got %s", sv_schema_type_names[want].article,
                        sv_schema_value_label(v));
    return -EINVAL;
}

/* Only reachable with a schema that sv_schema_check() would have refused. */
static int fail_schema(struct vctx *c)
{
    struct sv_schema_sbuf m;
    fail_begin(c, "invalid_schema", &m);
    sv_schema_sb_puts(
        &m, "the graph's input schema is invalid here (missing or unknown \"type\", or nested "
            "too deeply)");
    return -EINVAL;
}

static int fail_nomem(struct vctx *c)
{
    struct sv_schema_sbuf m;
    fail_begin(c, "out_of_memory", &m);
    sv_schema_sb_puts(&m, "out of memory while validating the input");
    return -ENOMEM;
}

static int validate_value(struct vctx *c, json_object *schema, json_object *v, json_object **repl);

/* Would an absent object of this schema come out non-empty from its
 * properties' defaults alone?  Not when it has required members: the caller
 * did not supply the object, so it must not be told a member is missing. */
static bool fillable(json_object *schema, int depth)
{
    json_object *props = sv_schema_kw(schema, "properties");
    json_object *req = sv_schema_kw(schema, "required");
    if (depth > SV_SCHEMA_MAX_DEPTH || sv_schema_type_of(schema) != SV_SCHEMA_OBJECT ||
        !json_object_is_type(props, json_type_object))
        return false;
    if (json_object_is_type(req, json_type_array) && json_object_array_length(req) > 0)
        return false;
    json_object_object_foreach(props, name, sub)
    {
        (void)name;
        if (sv_schema_kw(sub, "default") || fillable(sub, depth + 1))
            return true;
    }
    return false;
}

static bool is_required(json_object *schema, const char *name)
{
    json_object *req = sv_schema_kw(schema, "required");
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
    json_object *def = sv_schema_kw(sub, "default");
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
    json_object *props = sv_schema_kw(schema, "properties");
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
            struct sv_schema_sbuf m;
            fail_begin(c, "invalid_input", &m);
            sv_schema_sb_puts(&m, "unknown field ");
            sv_schema_sb_text(&m, key, strlen(key), SV_SCHEMA_QUOTE_MAX_CP, true);
            sv_schema_sb_puts(&m, "; allowed: ");
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
            struct sv_schema_sbuf m;
            fail_begin(c, "invalid_input", &m);
            sv_schema_sb_text(&m, name, strlen(name), SV_SCHEMA_QUOTE_MAX_CP, true);
            sv_schema_sb_puts(&m, " is required");
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

static void sb_range(struct sv_schema_sbuf *m, enum sv_schema_type t, json_object *min,
                     json_object *max)
{
    sv_schema_sb_printf(m, "must be %s ", sv_schema_type_names[t].article);
    if (min && max) {
        sv_schema_sb_puts(m, "between ");
        sv_schema_sb_num(m, min);
        sv_schema_sb_puts(m, " and ");
        sv_schema_sb_num(m, max);
    } else if (min) {
        sv_schema_sb_puts(m, ">= ");
        sv_schema_sb_num(m, min);
    } else {
        sv_schema_sb_puts(m, "<= ");
        sv_schema_sb_num(m, max);
    }
}

/* A fresh number equal to bound `like`, as an int when `t` is integer. */
static json_object *new_number(enum sv_schema_type t, json_object *like)
{
    if (json_object_is_type(like, json_type_int)) {
        int64_t i = json_object_get_int64(like);
        return i == INT64_MAX ? json_object_new_uint64(json_object_get_uint64(like))
                              : json_object_new_int64(i);
    }
    if (t == SV_SCHEMA_INTEGER && sv_schema_is_integral(like))
        return json_object_new_int64((int64_t)json_object_get_double(like));
    return json_object_new_double(json_object_get_double(like));
}

static int validate_number(struct vctx *c, json_object *schema, enum sv_schema_type t,
                           json_object *v, json_object **repl)
{
    if (!sv_schema_is_number(v))
        return fail_type(c, t, v);
    if (json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v))) {
        struct sv_schema_sbuf m;
        fail_begin(c, "invalid_input", &m);
        sv_schema_sb_printf(&m, "must be a finite number, got %g", json_object_get_double(v));
        return -EINVAL;
    }
    bool to_int = t == SV_SCHEMA_INTEGER && json_object_is_type(v, json_type_double);
    if (t == SV_SCHEMA_INTEGER && !sv_schema_is_integral(v)) {
        struct sv_schema_sbuf m;
        fail_begin(c, "invalid_input", &m);
        sv_schema_sb_puts(&m, "must be an integer, got ");
        sv_schema_sb_num(&m, v);
        return -EINVAL;
    }
    long double x = sv_schema_num_value(v);

    json_object *en = sv_schema_kw(schema, "enum");
    if (json_object_is_type(en, json_type_array)) {
        size_t n = json_object_array_length(en);
        size_t i;
        for (i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(en, i);
            if (sv_schema_is_number(e) && sv_schema_num_value(e) == x)
                break;
        }
        if (i == n) {
            struct sv_schema_sbuf m;
            fail_begin(c, "invalid_input", &m);
            char got[64];
            struct sv_schema_sbuf g;
            sv_schema_sb_init(&g, got, sizeof got);
            sv_schema_sb_puts(&g, ", got ");
            sv_schema_sb_num(&g, v);
            sv_schema_sb_puts(&m, "must be one of ");
            sb_enum(&m, en, g.len);
            sv_schema_sb_puts(&m, got);
            return -EINVAL;
        }
    }

    json_object *min = sv_schema_kw(schema, "minimum");
    json_object *max = sv_schema_kw(schema, "maximum");
    if (!sv_schema_is_number(min))
        min = NULL;
    if (!sv_schema_is_number(max))
        max = NULL;
    json_object *bound = NULL;
    if (min && x < sv_schema_num_value(min))
        bound = min;
    else if (max && x > sv_schema_num_value(max))
        bound = max;
    if (bound) {
        json_object *clamp = sv_schema_kw(schema, "x-clamp");
        if (!c->strict && json_object_is_type(clamp, json_type_boolean) &&
            json_object_get_boolean(clamp)) {
            *repl = new_number(t, bound);
            return *repl ? 0 : fail_nomem(c);
        }
        struct sv_schema_sbuf m;
        fail_begin(c, "invalid_input", &m);
        sb_range(&m, t, min, max);
        sv_schema_sb_puts(&m, ", got ");
        sv_schema_sb_num(&m, v);
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
        return fail_type(c, SV_SCHEMA_STRING, v);
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    const unsigned char *u = (const unsigned char *)s;

    /* Everything downstream treats strings as C strings inside UTF-8 JSON. */
    size_t cps = 0;
    for (size_t i = 0; i < n; cps++) {
        size_t k = sv_schema_utf8_seq(u + i, n - i);
        if (k == 0)
            return fail_msg(c, "must be valid UTF-8 text");
        if (u[i] == '\0')
            return fail_msg(c, "must not contain NUL (\\u0000) characters");
        i += k;
    }

    json_object *en = sv_schema_kw(schema, "enum");
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
            struct sv_schema_sbuf m;
            fail_begin(c, "invalid_input", &m);
            char got[SV_SCHEMA_QUOTE_BUF];
            struct sv_schema_sbuf g;
            sv_schema_sb_init(&g, got, sizeof got);
            sv_schema_sb_puts(&g, ", got ");
            sv_schema_sb_text(&g, s, n, SV_SCHEMA_QUOTE_MAX_CP, true);
            sv_schema_sb_puts(&m, "must be one of ");
            sb_enum(&m, en, g.len);
            sv_schema_sb_puts(&m, got);
            return -EINVAL;
        }
    }

    json_object *jmin = sv_schema_kw(schema, "minLength");
    json_object *jmax = sv_schema_kw(schema, "maxLength");
    int64_t lo = json_object_is_type(jmin, json_type_int) ? json_object_get_int64(jmin) : -1;
    int64_t hi = json_object_is_type(jmax, json_type_int) ? json_object_get_int64(jmax) : -1;
    if ((lo >= 0 && (int64_t)cps < lo) || (hi >= 0 && (int64_t)cps > hi)) {
        struct sv_schema_sbuf m;
        fail_begin(c, "invalid_input", &m);
        if (lo >= 0 && hi >= 0)
            sv_schema_sb_printf(&m, "must be %lld to %lld characters long", (long long)lo,
                                (long long)hi);
        else if (lo >= 0)
            sv_schema_sb_printf(&m, "must be at least %lld character%s long", (long long)lo,
                                lo == 1 ? "" : "s");
        else
            sv_schema_sb_printf(&m, "must be at most %lld character%s long", (long long)hi,
                                hi == 1 ? "" : "s");
        sv_schema_sb_printf(&m, ", got %zu", cps);
        return -EINVAL;
    }

    json_object *fmt = sv_schema_kw(schema, "format");
    int64_t us;
    if (json_object_is_type(fmt, json_type_string) &&
        strcmp(json_object_get_string(fmt), "date-time") == 0 && sv_parse_ts(s, &us) < 0) {
        struct sv_schema_sbuf m;
        fail_begin(c, "invalid_input", &m);
        sv_schema_sb_puts(&m, "must be an RFC 3339 date-time such as 2026-02-23T10:00:00Z or "
                              "2026-02-23T12:00:00.5+02:00, got ");
        sv_schema_sb_text(&m, s, n, SV_SCHEMA_QUOTE_MAX_CP, true);
        return -EINVAL;
    }
    return 0;
}

static int validate_array(struct vctx *c, json_object *schema, json_object *v)
{
    if (!json_object_is_type(v, json_type_array))
        return fail_type(c, SV_SCHEMA_ARRAY, v);
    size_t n = json_object_array_length(v);
    json_object *jmin = sv_schema_kw(schema, "minItems");
    json_object *jmax = sv_schema_kw(schema, "maxItems");
    int64_t lo = json_object_is_type(jmin, json_type_int) ? json_object_get_int64(jmin) : -1;
    int64_t hi = json_object_is_type(jmax, json_type_int) ? json_object_get_int64(jmax) : -1;
    if ((lo >= 0 && (int64_t)n < lo) || (hi >= 0 && (int64_t)n > hi)) {
        struct sv_schema_sbuf m;
        fail_begin(c, "invalid_input", &m);
        if (lo >= 0 && hi >= 0)
            sv_schema_sb_printf(&m, "must have %lld to %lld items", (long long)lo, (long long)hi);
        else if (lo >= 0)
            sv_schema_sb_printf(&m, "must have at least %lld item%s", (long long)lo,
                                lo == 1 ? "" : "s");
        else
            sv_schema_sb_printf(&m, "must have at most %lld item%s", (long long)hi,
                                hi == 1 ? "" : "s");
        sv_schema_sb_printf(&m, ", got %zu", n);
        return -EINVAL;
    }

    json_object *items = sv_schema_kw(schema, "items");
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
    enum sv_schema_type t = sv_schema_type_of(schema);
    int rc;

    *repl = NULL;
    if (t == SV_SCHEMA_NONE || c->depth >= SV_SCHEMA_MAX_DEPTH)
        return fail_schema(c);
    c->depth++;
    switch (t) {
    case SV_SCHEMA_STRING:
        rc = validate_string(c, schema, v);
        break;
    case SV_SCHEMA_BOOLEAN:
        rc = json_object_is_type(v, json_type_boolean) ? 0 : fail_type(c, t, v);
        break;
    case SV_SCHEMA_INTEGER:
    case SV_SCHEMA_NUMBER:
        rc = validate_number(c, schema, t, v, repl);
        break;
    case SV_SCHEMA_ARRAY:
        rc = validate_array(c, schema, v);
        break;
    case SV_SCHEMA_OBJECT:
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
    sv_schema_sb_init(&c->pb, c->path, sizeof c->path);
}

int sv_schema_validate(json_object *schema, json_object *input, sv_error *err)
{
    sv_error scratch;
    struct vctx c;

    vctx_init(&c, err ? err : &scratch, false);
    if (!json_object_is_type(input, json_type_object))
        return fail_msg(&c, "input must be a JSON object");
    if (!json_object_is_type(schema, json_type_object) ||
        sv_schema_type_of(schema) != SV_SCHEMA_OBJECT)
        return fail_schema(&c);
    c.depth = 1;
    return validate_object(&c, schema, input);
}

int sv_schema_validate_default(json_object *schema, json_object *v, sv_error *err,
                               json_object **repl)
{
    struct vctx c;

    vctx_init(&c, err, true);
    return validate_value(&c, schema, v, repl);
}
