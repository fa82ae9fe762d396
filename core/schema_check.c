/*
 * schema_check.c - sv_schema_check(): vets a graph's input schema once, when
 * the plugin loads, so that the validator (schema.c) can trust it.  Every
 * reason is one line that starts with the schema path of the problem.
 */
#include "schema_internal.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Schema paths run deeper than input paths ("properties.a.properties.b"). */
#define CHECK_PATH_CAP 2048
/* A schema path in a check reason keeps its last this many bytes, leaving
 * room for the reason itself. */
#define WHY_PATH_MAX 100

#define TB(t) (1u << (t))
#define T_ALL                                                                                      \
    (TB(SV_SCHEMA_STRING) | TB(SV_SCHEMA_BOOLEAN) | TB(SV_SCHEMA_INTEGER) | TB(SV_SCHEMA_NUMBER) | \
     TB(SV_SCHEMA_ARRAY) | TB(SV_SCHEMA_OBJECT))
#define T_NUMERIC (TB(SV_SCHEMA_INTEGER) | TB(SV_SCHEMA_NUMBER))

/* The supported keywords and the types each one makes sense for: a keyword
 * on a type it cannot constrain is refused rather than silently ignored. */
static const struct {
    const char *name;
    unsigned types;
} keywords[] = {
    {"type", T_ALL},
    {"properties", TB(SV_SCHEMA_OBJECT)},
    {"required", TB(SV_SCHEMA_OBJECT)},
    {"default", T_ALL},
    {"description", T_ALL},
    {"title", T_ALL},
    {"examples", T_ALL},
    {"minimum", T_NUMERIC},
    {"maximum", T_NUMERIC},
    {"x-clamp", T_NUMERIC},
    {"enum", TB(SV_SCHEMA_STRING) | T_NUMERIC},
    {"minLength", TB(SV_SCHEMA_STRING)},
    {"maxLength", TB(SV_SCHEMA_STRING)},
    {"format", TB(SV_SCHEMA_STRING)},
    {"minItems", TB(SV_SCHEMA_ARRAY)},
    {"maxItems", TB(SV_SCHEMA_ARRAY)},
    {"items", TB(SV_SCHEMA_ARRAY)},
};

/* ---- schema check ---------------------------------------------------- */

struct cctx {
    struct sv_schema_sbuf why;
    char path[CHECK_PATH_CAP]; /* dotted path of the schema being checked */
    struct sv_schema_sbuf pb;
};

/* Start a reason at the current schema path; the caller appends the rest. */
static struct sv_schema_sbuf *cfail(struct cctx *c)
{
    c->why.len = 0;
    c->why.full = false;
    c->why.p[0] = '\0';
    if (c->pb.len == 0) {
        sv_schema_sb_puts(&c->why, "(root)");
    } else if (c->pb.len <= WHY_PATH_MAX) {
        sv_schema_sb_put(&c->why, c->path, c->pb.len);
    } else {
        /* The end of a long path is where the problem is. */
        size_t start = c->pb.len - WHY_PATH_MAX;
        const char *dot = memchr(c->path + start, '.', c->pb.len - start);
        if (dot && dot + 1 < c->path + c->pb.len)
            start = (size_t)(dot - c->path) + 1;
        while (((unsigned char)c->path[start] & 0xC0) == 0x80)
            start++;
        sv_schema_sb_puts(&c->why, "...");
        sv_schema_sb_put(&c->why, c->path + start, c->pb.len - start);
    }
    sv_schema_sb_puts(&c->why, ": ");
    return &c->why;
}

static int cfail_msg(struct cctx *c, const char *msg)
{
    sv_schema_sb_puts(cfail(c), msg);
    return -EINVAL;
}

static size_t cpath_push(struct cctx *c, const char *kwd, const char *name)
{
    size_t saved = c->pb.len;
    if (saved > 0)
        sv_schema_sb_put(&c->pb, ".", 1);
    sv_schema_sb_puts(&c->pb, kwd);
    if (name) {
        sv_schema_sb_put(&c->pb, ".", 1);
        sv_schema_sb_text(&c->pb, name, strlen(name), CHECK_PATH_CAP, false);
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
static int check_bound(struct cctx *c, json_object *schema, const char *name, enum sv_schema_type t)
{
    json_object *v = sv_schema_kw(schema, name);
    if (!v)
        return 0;
    if (!sv_schema_is_number(v) ||
        (json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v)))) {
        sv_schema_sb_printf(cfail(c), "\"%s\" must be a number", name);
        return -EINVAL;
    }
    if (t == SV_SCHEMA_INTEGER && !sv_schema_is_integral(v)) {
        sv_schema_sb_printf(cfail(c), "\"%s\" must be an integer for \"type\": \"integer\"", name);
        return -EINVAL;
    }
    return 0;
}

/* A "minLength"-like count: a non-negative JSON integer. */
static int check_count(struct cctx *c, json_object *schema, const char *name)
{
    json_object *v = sv_schema_kw(schema, name);
    if (v && (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)) {
        sv_schema_sb_printf(cfail(c), "\"%s\" must be a non-negative integer", name);
        return -EINVAL;
    }
    return 0;
}

static int check_min_max(struct cctx *c, json_object *schema, const char *lo, const char *hi)
{
    json_object *a = sv_schema_kw(schema, lo);
    json_object *b = sv_schema_kw(schema, hi);
    if (a && b && sv_schema_num_value(a) > sv_schema_num_value(b)) {
        struct sv_schema_sbuf *m = cfail(c);
        sv_schema_sb_printf(m, "\"%s\" (", lo);
        sv_schema_sb_num(m, a);
        sv_schema_sb_printf(m, ") is greater than \"%s\" (", hi);
        sv_schema_sb_num(m, b);
        sv_schema_sb_puts(m, ")");
        return -EINVAL;
    }
    return 0;
}

static int check_enum(struct cctx *c, json_object *en, enum sv_schema_type t)
{
    if (!json_object_is_type(en, json_type_array) || json_object_array_length(en) == 0)
        return cfail_msg(c, "\"enum\" must be a non-empty array");
    size_t n = json_object_array_length(en);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(en, i);
        bool ok;
        if (t == SV_SCHEMA_STRING)
            ok = json_object_is_type(e, json_type_string);
        else if (t == SV_SCHEMA_INTEGER)
            ok = sv_schema_is_integral(e);
        else
            ok = sv_schema_is_number(e) && isfinite((double)sv_schema_num_value(e));
        if (!ok) {
            sv_schema_sb_printf(cfail(c),
                                "\"enum\"[%zu] must be %s (the schema's \"type\"), got %s", i,
                                sv_schema_type_names[t].article, sv_schema_value_label(e));
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
    json_object *copy = NULL;
    json_object *repl = NULL;
    int rc;

    if (json_object_is_type(def, json_type_null))
        return cfail_msg(c, "\"default\" must not be null; leave it out instead");
    /* Validation fills and converts in place: work on a copy. */
    if (json_object_deep_copy(def, &copy, NULL) != 0) {
        rc = cfail_msg(c, "out of memory");
        goto out;
    }
    rc = sv_schema_validate_default(schema, copy, &e, &repl);
    if (rc < 0) {
        struct sv_schema_sbuf *m = cfail(c);
        sv_schema_sb_puts(m, "\"default\" is invalid");
        if (e.field[0]) {
            sv_schema_sb_puts(m, " at ");
            sv_schema_sb_puts(m, e.field);
        }
        sv_schema_sb_puts(m, ": ");
        sv_schema_sb_puts(m, e.message);
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
            sv_schema_sb_printf(cfail(c), "\"required\"[%zu] must be a string, got %s", i,
                                sv_schema_value_label(r));
            return -EINVAL;
        }
        if (!json_object_object_get_ex(props, json_object_get_string(r), NULL)) {
            struct sv_schema_sbuf *m = cfail(c);
            sv_schema_sb_puts(m, "\"required\" names ");
            sv_schema_sb_text(m, json_object_get_string(r), (size_t)json_object_get_string_len(r),
                              SV_SCHEMA_QUOTE_MAX_CP, true);
            sv_schema_sb_puts(m, ", which is not in \"properties\"");
            return -EINVAL;
        }
    }
    return 0;
}

static int check_schema(struct cctx *c, json_object *schema, int depth)
{
    int rc;

    if (!json_object_is_type(schema, json_type_object)) {
        sv_schema_sb_printf(cfail(c), "a schema must be a JSON object, got %s",
                            sv_schema_value_label(schema));
        return -EINVAL;
    }
    if (depth >= SV_SCHEMA_MAX_DEPTH) {
        sv_schema_sb_printf(cfail(c), "schema nested deeper than %d levels", SV_SCHEMA_MAX_DEPTH);
        return -EINVAL;
    }

    json_object *jt = sv_schema_kw(schema, "type");
    if (!jt)
        return cfail_msg(c, "missing \"type\" (one of string, boolean, integer, number, array, "
                            "object)");
    enum sv_schema_type t = json_object_is_type(jt, json_type_string)
                                ? sv_schema_type_from_name(json_object_get_string(jt))
                                : SV_SCHEMA_NONE;
    if (t == SV_SCHEMA_NONE) {
        struct sv_schema_sbuf *m = cfail(c);
        sv_schema_sb_puts(
            m, "\"type\" must be one of string, boolean, integer, number, array, object; got ");
        if (json_object_is_type(jt, json_type_string))
            sv_schema_sb_text(m, json_object_get_string(jt), (size_t)json_object_get_string_len(jt),
                              SV_SCHEMA_QUOTE_MAX_CP, true);
        else
            sv_schema_sb_puts(m, sv_schema_value_label(jt));
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
            struct sv_schema_sbuf *m = cfail(c);
            sv_schema_sb_puts(m, "unknown keyword ");
            sv_schema_sb_text(m, key, strlen(key), SV_SCHEMA_QUOTE_MAX_CP, true);
            return -EINVAL;
        }
        if (!(keywords[k].types & TB(t))) {
            sv_schema_sb_printf(cfail(c), "keyword \"%s\" does not apply to \"type\": \"%s\"", key,
                                sv_schema_type_names[t].name);
            return -EINVAL;
        }
    }

    json_object *v;
    if ((v = sv_schema_kw(schema, "description")) && !json_object_is_type(v, json_type_string))
        return cfail_msg(c, "\"description\" must be a string");
    if ((v = sv_schema_kw(schema, "title")) && !json_object_is_type(v, json_type_string))
        return cfail_msg(c, "\"title\" must be a string");
    if ((v = sv_schema_kw(schema, "examples")) && !json_object_is_type(v, json_type_array))
        return cfail_msg(c, "\"examples\" must be an array");
    if ((v = sv_schema_kw(schema, "x-clamp")) && !json_object_is_type(v, json_type_boolean))
        return cfail_msg(c, "\"x-clamp\" must be true or false");
    if ((v = sv_schema_kw(schema, "format")) &&
        (!json_object_is_type(v, json_type_string) ||
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
    if ((v = sv_schema_kw(schema, "enum")) && (rc = check_enum(c, v, t)) < 0)
        return rc;

    json_object *props = sv_schema_kw(schema, "properties");
    if (props && (rc = check_properties(c, props, depth)) < 0)
        return rc;
    if ((v = sv_schema_kw(schema, "required")) && (rc = check_required(c, v, props)) < 0)
        return rc;
    if ((v = sv_schema_kw(schema, "items"))) {
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
    sv_schema_sb_init(&c.why, why, why_len);
    sv_schema_sb_init(&c.pb, c.path, sizeof c.path);
    if (!json_object_is_type(schema, json_type_object))
        return cfail_msg(&c, "the input schema must be a JSON object");
    if (sv_schema_type_of(schema) != SV_SCHEMA_OBJECT)
        return cfail_msg(&c, "the input schema must have \"type\": \"object\"");
    return check_schema(&c, schema, 0);
}
