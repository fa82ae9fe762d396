/* graph_rules.c - the checks of the graph contract; see graph_rules.h. */
#include "graph_rules.h"
#include "schema.h"
#include "reason.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The size of an ABI 1.0 descriptor: later minors only append fields, so
 * this is the least a plugin of any 1.x has. */
#define SV_GRAPH_SIZE_1_0 (offsetof(sv_graph, on_cancel) + sizeof(void (*)(void)))
/* ... and of a 1.1 one, which a plugin declaring minor >= 1 must have. */
#define SV_GRAPH_SIZE_1_1 (offsetof(sv_graph, deadline) + sizeof(sv_deadline))

int sv_rule_name(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int sv_rule_word(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

/* An environment variable's name: [A-Z][A-Z0-9_]*, at most 128. */
static int env_name(const char *s)
{
    if (!s || !(*s >= 'A' && *s <= 'Z') || strlen(s) > 128)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int sv_rule_abi(const sv_graph *g, char *why, size_t len)
{
    if (g->abi_major != SV_ABI_MAJOR || g->abi_minor > SV_ABI_MINOR)
        return sv_reason(why, len, "built for SDK ABI %u.%u; this daemon runs ABI %d.0 to %d.%d",
                         g->abi_major, g->abi_minor, SV_ABI_MAJOR, SV_ABI_MAJOR, SV_ABI_MINOR);
    return 0;
}

const sv_setting *sv_rule_settings(const sv_graph *g, uint32_t *n)
{
    *n = g->abi_minor >= 1 ? g->n_settings : 0;
    return *n ? g->settings : NULL;
}

sv_deadline sv_rule_deadline(const sv_graph *g)
{
    sv_deadline none = {0, 0, NULL};
    return g->abi_minor >= 1 ? g->deadline : none;
}

const char *sv_rule_setting_type(int type)
{
    switch (type) {
    case SV_SETTING_INT:
        return "integer";
    case SV_SETTING_NUMBER:
        return "number";
    case SV_SETTING_BOOL:
        return "boolean";
    case SV_SETTING_STRING:
        return "string";
    }
    return "?";
}

/* "expected 1..8760", "expected a whole number", "expected 0.5..2"; bounds
 * of 0 and 0 mean none. */
static void expected(const sv_setting *s, char *buf, size_t len)
{
    const char *what = s->type == SV_SETTING_INT ? "a whole number" : "a number";
    if (s->min == 0 && s->max == 0)
        snprintf(buf, len, "expected %s", what);
    else
        snprintf(buf, len, "expected %.17g..%.17g", s->min, s->max);
}

static int bad_value(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad_value(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -ERANGE;
}

static int parse_bool(const char *t, int *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"}, *const no[] = {"false", "0", "no",
                                                                                "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(t, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int sv_rule_setting_value(const sv_setting *s, const char *text, json_object **out, char *why,
                          size_t len)
{
    char exp[96], *end = NULL;
    int bounded = !(s->min == 0 && s->max == 0), b = 0;
    *out = NULL;
    if (!text)
        text = "";
    switch (s->type) {
    case SV_SETTING_INT: {
        expected(s, exp, sizeof exp);
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (!*text || isspace((unsigned char)*text) || errno || *end)
            return bad_value(why, len, "not a whole number (%s)", exp);
        if (bounded && ((double)n < s->min || (double)n > s->max))
            return bad_value(why, len, "out of range (%s)", exp);
        *out = json_object_new_int64(n);
        break;
    }
    case SV_SETTING_NUMBER: {
        expected(s, exp, sizeof exp);
        errno = 0;
        double d = strtod(text, &end);
        if (!*text || isspace((unsigned char)*text) || errno || *end || !isfinite(d))
            return bad_value(why, len, "not a number (%s)", exp);
        if (bounded && (d < s->min || d > s->max))
            return bad_value(why, len, "out of range (%s)", exp);
        *out = json_object_new_double(d);
        break;
    }
    case SV_SETTING_BOOL:
        if (parse_bool(text, &b) < 0)
            return bad_value(why, len, "expected true or false (also 1/0, yes/no, on/off)");
        *out = json_object_new_boolean(b);
        break;
    case SV_SETTING_STRING: {
        size_t n = strlen(text);
        for (const char *p = text; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return bad_value(why, len, "contains a control character (expected one line)");
        if (bounded && ((double)n < s->min || (double)n > s->max))
            return bad_value(why, len, "%zu bytes long (expected %.0f..%.0f)", n, s->min, s->max);
        *out = json_object_new_string(text);
        break;
    }
    default:
        return bad_value(why, len, "unknown type %d", s->type);
    }
    return *out ? 0 : -ENOMEM;
}

/* One setting's declaration and default. */
static int check_setting(const sv_graph *g, const sv_setting *s, uint32_t i, char *why, size_t len)
{
    char sub[256];
    json_object *v = NULL;
    if (!sv_rule_name(s->name, 64))
        return sv_reason(why, len, "graph %s: setting #%u needs a name of 1-64 chars of [a-z0-9_]",
                         g->name, i);
    if (s->type < SV_SETTING_INT || s->type > SV_SETTING_STRING)
        return sv_reason(why, len, "graph %s: setting %s: type %d is not one of SV_SETTING_*",
                         g->name, s->name, s->type);
    if (s->type != SV_SETTING_BOOL &&
        (!isfinite(s->min) || !isfinite(s->max) || s->min > s->max ||
         (s->type != SV_SETTING_NUMBER && (s->min != floor(s->min) || s->max != floor(s->max))) ||
         (s->type == SV_SETTING_STRING && s->min < 0)))
        return sv_reason(why, len, "graph %s: setting %s: bad range %g..%g", g->name, s->name,
                         s->min, s->max);
    if (s->env && !env_name(s->env))
        return sv_reason(
            why, len,
            "graph %s: setting %s: env \"%.130s\" is not a variable name ([A-Z][A-Z0-9_]*)",
            g->name, s->name, s->env);
    if (!s->def && s->type != SV_SETTING_STRING)
        return sv_reason(why, len, "graph %s: setting %s: no default", g->name, s->name);
    if (sv_rule_setting_value(s, s->def ? s->def : "", &v, sub, sizeof sub) < 0)
        return sv_reason(why, len, "graph %s: setting %s: default \"%.100s\": %s", g->name, s->name,
                         s->def ? s->def : "", sub);
    json_object_put(v);
    return 0;
}

static int check_settings(const sv_graph *g, char *why, size_t len)
{
    uint32_t n;
    const sv_setting *set = sv_rule_settings(g, &n);
    if (n > SV_RULE_MAX_SETTINGS || (n > 0 && !set))
        return sv_reason(why, len, "graph %s: needs 0..%d settings in a table", g->name,
                         SV_RULE_MAX_SETTINGS);
    for (uint32_t i = 0; i < n; i++) {
        int rc = check_setting(g, &set[i], i, why, len);
        if (rc < 0)
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(set[j].name, set[i].name) == 0)
                return sv_reason(why, len, "graph %s: setting %s is declared twice", g->name,
                                 set[i].name);
    }
    sv_deadline d = sv_rule_deadline(g);
    if (d.default_sec && d.max_sec && d.max_sec < d.default_sec)
        return sv_reason(why, len, "graph %s: deadline: max_sec %u is below default_sec %u",
                         g->name, d.max_sec, d.default_sec);
    return 0;
}

int sv_rule_descriptor(const sv_graph *g, char *why, size_t len)
{
    if (g->size < SV_GRAPH_SIZE_1_0)
        return sv_reason(why, len, "descriptor size %u is smaller than ABI %d.0's %zu", g->size,
                         SV_ABI_MAJOR, (size_t)SV_GRAPH_SIZE_1_0);
    if (g->abi_minor >= 1 && g->size < SV_GRAPH_SIZE_1_1)
        return sv_reason(why, len, "descriptor size %u is smaller than ABI %d.1's %zu", g->size,
                         SV_ABI_MAJOR, (size_t)SV_GRAPH_SIZE_1_1);
    if (!sv_rule_name(g->name, 64))
        return sv_reason(why, len, "graph name must be 1-64 chars of [a-z0-9_]");
    if (!g->version || !*g->version)
        return sv_reason(why, len, "graph %s: version is empty", g->name);
    if (!g->nodes || g->n_nodes == 0 || g->n_nodes > 1024)
        return sv_reason(why, len, "graph %s: needs 1..1024 nodes", g->name);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const sv_node *n = &g->nodes[i];
        if (!sv_rule_name(n->name, 64) || !n->run)
            return sv_reason(why, len, "graph %s: node #%u needs a [a-z0-9_] name and a function",
                             g->name, i);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(g->nodes[j].name, n->name) == 0)
                return sv_reason(why, len, "graph %s: node \"%s\" is defined twice", g->name,
                                 n->name);
    }
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const char *next = g->nodes[i].next;
        int found = next == NULL;
        for (uint32_t j = 0; next && j < g->n_nodes; j++)
            found |= strcmp(g->nodes[j].name, next) == 0;
        if (!found)
            return sv_reason(why, len, "graph %s: node \"%s\" continues to unknown node \"%s\"",
                             g->name, g->nodes[i].name, next);
    }
    int entry_ok = 0;
    for (uint32_t i = 0; g->entry && i < g->n_nodes; i++)
        entry_ok |= strcmp(g->nodes[i].name, g->entry) == 0;
    if (!entry_ok)
        return sv_reason(why, len, "graph %s: entry node \"%s\" is not one of its nodes", g->name,
                         g->entry ? g->entry : "(null)");
    if (!g->input_schema)
        return sv_reason(why, len, "graph %s: input_schema is missing", g->name);
    return check_settings(g, why, len);
}

/* The schema of the input member at a dotted path, or NULL. */
static json_object *schema_at(json_object *schema, const char *path)
{
    char key[128];
    while (schema && *path) {
        size_t n = strcspn(path, ".");
        json_object *props = NULL;
        if (n == 0 || n >= sizeof key || !json_object_object_get_ex(schema, "properties", &props))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(props, key, &schema))
            return NULL;
        path += n + (path[n] == '.');
    }
    return schema;
}

int sv_rule_schema(const sv_graph *g, json_object **out, char *why, size_t len)
{
    enum json_tokener_error jerr;
    char swhy[384];
    int rc = 0;
    json_object *schema = json_tokener_parse_verbose(g->input_schema, &jerr), *t = NULL;
    if (!schema) {
        rc = sv_reason(why, len, "graph %s: input_schema is not JSON: %s", g->name,
                       json_tokener_error_desc(jerr));
        goto out;
    }
    if (sv_schema_check(schema, swhy, sizeof swhy) < 0) {
        rc = sv_reason(why, len, "graph %s: input_schema: %s", g->name, swhy);
        goto out;
    }
    sv_deadline d = sv_rule_deadline(g);
    if (d.input) {
        json_object *p = schema_at(schema, d.input);
        const char *type =
            json_object_object_get_ex(p, "type", &t) ? json_object_get_string(t) : "";
        if (!p || (strcmp(type, "number") != 0 && strcmp(type, "integer") != 0))
            rc = sv_reason(
                why, len,
                "graph %s: deadline.input \"%.100s\" is not an integer or number property "
                "of input_schema",
                g->name, d.input);
    }
out:
    if (rc < 0) {
        json_object_put(schema);
        schema = NULL;
    }
    *out = schema;
    return rc;
}

int64_t sv_rule_deadline_ms(const sv_graph *g, json_object *input, int64_t default_ms,
                            const char **from)
{
    sv_deadline d = sv_rule_deadline(g);
    int64_t def = d.default_sec ? (int64_t)d.default_sec * 1000 : default_ms;
    int64_t max = d.max_sec ? (int64_t)d.max_sec * 1000 : def;
    json_object *v = d.input ? sv_json_at(input, d.input) : NULL;
    const char *src = d.default_sec ? "graph" : "daemon";
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        double sec = json_object_get_double(v);
        if (isfinite(sec) && sec > 0) {
            double ms = sec * 1000.0;
            src = "input";
            def = ms < (double)max ? (int64_t)ms : max;
        }
    }
    if (from)
        *from = src;
    return def > 0 ? def : 1;
}

static int bad_call(sv_error *err, const char *message)
{
    snprintf(err->code, sizeof err->code, "bad_request");
    snprintf(err->message, sizeof err->message, "%s", message);
    return SV_EINVAL;
}

int sv_rule_tool_call(const char *tool, const char *action, json_object *params, sv_error *err)
{
    if (!sv_rule_word(tool, 128) || !sv_rule_word(action, 128))
        return bad_call(err, "tool and action must be 1-128 chars of [A-Za-z0-9_.-]");
    if (params && !json_object_is_type(params, json_type_object))
        return bad_call(err, "params must be a JSON object");
    return SV_OK;
}

/* Types the core writes itself: a graph may not forge them. */
static const char *const g_reserved[] = {"run_start",  "node_start",       "node_end", "tool_call",
                                         "node_error", "cancel_requested", "run_end",  NULL};

int sv_rule_event(const char *type, json_object *details)
{
    if (!sv_rule_word(type, 64) || (details && !json_object_is_type(details, json_type_object)))
        return SV_EINVAL;
    for (const char *const *t = g_reserved; *t; t++)
        if (strcmp(*t, type) == 0)
            return SV_EINVAL;
    return SV_OK;
}

const char *sv_rule_fail_code(const char *code)
{
    return sv_rule_word(code, 63) ? code : "node_failed";
}
