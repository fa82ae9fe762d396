/*
 * sofiia/graph_helpers.h - static inline helpers for graph plugins, included
 * by sofiia/graph.h (define SV_NO_HELPERS before including it to leave them
 * out).  They are plain code over the host table and json-c: nothing here is
 * a host function, so they work on any host of the plugin's ABI, and a graph
 * may use some, all or none of them.
 *
 *   sv_call(ctx, host, tool, action, params, &data)
 *       a tool call that, when it fails, fails the run with the tool's code
 *       and a one-line message ("tool/action failed: ..."); consumes params.
 *   sv_try_call(...)
 *       the same without failing the run: the caller decides (data gaps).
 *   sv_params("{'job_id': %s, 'limit': %d}", id, 5)
 *       a params object from a JSON template: ' stands for ", and %s %d %ld
 *       %lld %u %g %b %j insert a C value as JSON (below).
 *   sv_input_str / _int / _num / _bool (ctx, host, "a.b[0].c", def)
 *   sv_state_str / _int / _num / _bool, sv_state_set (ctx, host, path, ...)
 *       typed getters and setters by dotted path; a getter gives `def` when
 *       the member is absent or of another type.
 *   sv_state_incr(ctx, host, "polls")
 *       a counter in the state: adds 1, returns the new count.
 *   sv_fail(ctx, host, code, fmt, ...), sv_oom(ctx, host)
 *       record why the run fails (one line) and return the code to return.
 *   sv_setting_int / _num / _bool / _str (host, name, def)
 *       the graph's declared settings (ABI 1.1).
 *
 * Paths: members separated by '.', array elements as [N]: "timeouts.
 * overall_sec", "gates[1].name".  A member whose name holds '.' or '[' is
 * not reachable by path (use json-c directly).
 */
#ifndef SOFIIA_GRAPH_HELPERS_H
#define SOFIIA_GRAPH_HELPERS_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofiia/graph.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- JSON by path ------------------------------------------------------- */

/* One step of a path: the member name (into key, cut at its size) or, for
 * "[N]", the index.  Returns the rest of the path, or NULL when malformed. */
static inline const char *sv__path_step(const char *p, char *key, size_t len, long *index)
{
    size_t n = 0;
    *index = -1;
    if (*p == '[') {
        char *end = NULL;
        long i = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != ']' || i < 0)
            return NULL;
        *index = i;
        p = end + 1;
    } else {
        while (*p && *p != '.' && *p != '[') {
            if (n + 1 < len)
                key[n++] = *p;
            p++;
        }
        key[n] = '\0';
        if (n == 0)
            return NULL;
    }
    if (*p == '.')
        p++;
    return p;
}

/* The value at path in o (borrowed), or NULL. */
static inline json_object *sv_json_at(json_object *o, const char *path)
{
    char key[256];
    long index;
    if (!path)
        return NULL;
    while (o && *path) {
        path = sv__path_step(path, key, sizeof key, &index);
        if (!path)
            return NULL;
        if (index >= 0) {
            if (!json_object_is_type(o, json_type_array) ||
                (size_t)index >= json_object_array_length(o))
                return NULL;
            o = json_object_array_get_idx(o, (size_t)index);
        } else if (!json_object_is_type(o, json_type_object) ||
                   !json_object_object_get_ex(o, key, &o)) {
            return NULL;
        }
    }
    return o;
}

static inline const char *sv_json_str(json_object *o, const char *path, const char *def)
{
    json_object *v = sv_json_at(o, path);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

/* An integer member; a double that holds a whole number counts too. */
static inline int64_t sv_json_int(json_object *o, const char *path, int64_t def)
{
    json_object *v = sv_json_at(o, path);
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        /* (no floor(): a graph need not link libm) */
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && (double)(int64_t)d == d)
            return (int64_t)d;
    }
    return def;
}

static inline double sv_json_num(json_object *o, const char *path, double def)
{
    json_object *v = sv_json_at(o, path);
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
        return json_object_get_double(v);
    return def;
}

static inline int sv_json_bool(json_object *o, const char *path, int def)
{
    json_object *v = sv_json_at(o, path);
    return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

/* sv_json_set; a NULL v is JSON null when null_ok, else a failed
 * allocation. */
static inline int sv__json_put(json_object *o, const char *path, json_object *v, int null_ok)
{
    char key[256];
    long index;
    int rc = SV_OK;
    if (!v && !null_ok) {
        rc = SV_ENOMEM;
        goto out;
    }
    if (!path || !*path) {
        rc = SV_EINVAL;
        goto out;
    }
    for (;;) {
        path = sv__path_step(path, key, sizeof key, &index);
        if (!path || index >= 0 || !json_object_is_type(o, json_type_object)) {
            rc = SV_EINVAL;
            goto out;
        }
        if (!*path)
            break;
        json_object *next = NULL;
        if (!json_object_object_get_ex(o, key, &next)) {
            next = json_object_new_object();
            if (!next || json_object_object_add(o, key, next) != 0) {
                json_object_put(next);
                rc = SV_ENOMEM;
                goto out;
            }
        }
        o = next;
    }
    if (json_object_object_add(o, key, v) != 0)
        rc = SV_ENOMEM;
    v = NULL;
out:
    if (rc != SV_OK)
        json_object_put(v);
    return rc;
}

/*
 * Put v at path in o, making the objects on the way.  Takes ownership of v,
 * even on failure.  SV_EINVAL when the path is malformed, uses [N], or a
 * member on the way is not an object; SV_ENOMEM (also for a NULL v: the
 * json_object_new_*() before the call failed).
 */
static inline int sv_json_set(json_object *o, const char *path, json_object *v)
{
    return sv__json_put(o, path, v, 0);
}

/* ---- the input and the state -------------------------------------------- */

static inline json_object *sv_input_at(sv_ctx *ctx, const sv_host *host, const char *path)
{
    return sv_json_at(host->input(ctx), path);
}
static inline const char *sv_input_str(sv_ctx *ctx, const sv_host *host, const char *path,
                                       const char *def)
{
    return sv_json_str(host->input(ctx), path, def);
}
static inline int64_t sv_input_int(sv_ctx *ctx, const sv_host *host, const char *path, int64_t def)
{
    return sv_json_int(host->input(ctx), path, def);
}
static inline double sv_input_num(sv_ctx *ctx, const sv_host *host, const char *path, double def)
{
    return sv_json_num(host->input(ctx), path, def);
}
static inline int sv_input_bool(sv_ctx *ctx, const sv_host *host, const char *path, int def)
{
    return sv_json_bool(host->input(ctx), path, def);
}

static inline json_object *sv_state_at(sv_ctx *ctx, const sv_host *host, const char *path)
{
    return sv_json_at(host->state(ctx), path);
}
/* A string of the state: valid until the member changes. */
static inline const char *sv_state_str(sv_ctx *ctx, const sv_host *host, const char *path,
                                       const char *def)
{
    return sv_json_str(host->state(ctx), path, def);
}
static inline int64_t sv_state_int(sv_ctx *ctx, const sv_host *host, const char *path, int64_t def)
{
    return sv_json_int(host->state(ctx), path, def);
}
static inline double sv_state_num(sv_ctx *ctx, const sv_host *host, const char *path, double def)
{
    return sv_json_num(host->state(ctx), path, def);
}
static inline int sv_state_bool(sv_ctx *ctx, const sv_host *host, const char *path, int def)
{
    return sv_json_bool(host->state(ctx), path, def);
}

/* Put v (owned, even on failure) at path in the state; SV_OK or < 0. */
static inline int sv_state_set(sv_ctx *ctx, const sv_host *host, const char *path, json_object *v)
{
    return sv_json_set(host->state(ctx), path, v);
}
/* A copy of value; NULL stores JSON null. */
static inline int sv_state_set_str(sv_ctx *ctx, const sv_host *host, const char *path,
                                   const char *value)
{
    if (!value)
        return sv__json_put(host->state(ctx), path, NULL, 1);
    return sv_state_set(ctx, host, path, json_object_new_string(value));
}
static inline int sv_state_set_int(sv_ctx *ctx, const sv_host *host, const char *path,
                                   int64_t value)
{
    return sv_state_set(ctx, host, path, json_object_new_int64(value));
}
static inline int sv_state_set_num(sv_ctx *ctx, const sv_host *host, const char *path, double value)
{
    return sv_state_set(ctx, host, path, json_object_new_double(value));
}
static inline int sv_state_set_bool(sv_ctx *ctx, const sv_host *host, const char *path, int value)
{
    return sv_state_set(ctx, host, path, json_object_new_boolean(value ? 1 : 0));
}

/* A counter in the state: adds 1 to the integer at path (0 when absent) and
 * returns the new count, or a negative SV_E* code.  The state is saved after
 * every node, so the count survives a restart of the daemon. */
static inline int64_t sv_state_incr(sv_ctx *ctx, const sv_host *host, const char *path)
{
    int64_t n = sv_state_int(ctx, host, path, 0) + 1;
    int rc = sv_state_set_int(ctx, host, path, n);
    return rc == SV_OK ? n : rc;
}

/* ---- failing the run ----------------------------------------------------- */

/* Make s one line of at most 255 bytes without splitting a UTF-8
 * character: what the host keeps of a message. */
static inline void sv__one_line(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
            s[i] = ' ';
    if (n > 255) {
        n = 255;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        s[n] = '\0';
    }
}

/* Record why the run fails: `code` (1-63 chars of [A-Za-z0-9_.-]) and a
 * printf-style message made one line.  Returns SV_ERR, to return from the
 * node: `return sv_fail(ctx, host, "bad_job", "job %s has no status", id);` */
static inline int sv_fail(sv_ctx *ctx, const sv_host *host, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int sv_fail(sv_ctx *ctx, const sv_host *host, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sv__one_line(msg);
    host->fail(ctx, code, msg);
    return SV_ERR;
}

/* The run failed for want of memory; returns SV_ENOMEM. */
static inline int sv_oom(sv_ctx *ctx, const sv_host *host)
{
    host->fail(ctx, "out_of_memory", "the graph ran out of memory; retry the run");
    return SV_ENOMEM;
}

/* ---- params from a template ------------------------------------------------ */

typedef struct sv__buf {
    char *p;
    size_t len, cap;
    int bad;
} sv__buf;

static inline void sv__put(sv__buf *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = (char *)realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A C string as a JSON string; NULL as null. */
static inline void sv__put_string(sv__buf *b, const char *s)
{
    if (!s) {
        sv__put(b, "null", 4);
        return;
    }
    sv__put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sv__put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sv__put(b, esc, 6);
        } else {
            sv__put(b, s, 1);
        }
    }
    sv__put(b, "\"", 1);
}

/*
 * A params object from a JSON template (see sv_params); NULL when the
 * template is malformed, the result is not a JSON object, or memory ran out.
 */
static inline json_object *sv_paramsv(const char *fmt, va_list ap)
{
    sv__buf b = {NULL, 0, 0, 0};
    char num[64];
    json_object *out = NULL;
    for (const char *f = fmt; f && *f; f++) {
        if (*f == '\'') {
            sv__put(&b, "\"", 1);
            continue;
        }
        if (*f != '%') {
            sv__put(&b, f, 1);
            continue;
        }
        f++;
        if (*f == '%') {
            sv__put(&b, "%", 1);
        } else if (*f == 's') {
            sv__put_string(&b, va_arg(ap, const char *));
        } else if (*f == 'd') {
            snprintf(num, sizeof num, "%d", va_arg(ap, int));
            sv__put(&b, num, strlen(num));
        } else if (*f == 'u') {
            snprintf(num, sizeof num, "%u", va_arg(ap, unsigned));
            sv__put(&b, num, strlen(num));
        } else if (f[0] == 'l' && f[1] == 'd') {
            snprintf(num, sizeof num, "%ld", va_arg(ap, long));
            sv__put(&b, num, strlen(num));
            f++;
        } else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'd') {
            snprintf(num, sizeof num, "%lld", va_arg(ap, long long));
            sv__put(&b, num, strlen(num));
            f += 2;
        } else if (*f == 'g') {
            double d = va_arg(ap, double);
            if (isfinite(d))
                snprintf(num, sizeof num, "%.17g", d);
            else
                snprintf(num, sizeof num, "null");
            sv__put(&b, num, strlen(num));
        } else if (*f == 'b') {
            const char *t = va_arg(ap, int) ? "true" : "false";
            sv__put(&b, t, strlen(t));
        } else if (*f == 'j') {
            json_object *j = va_arg(ap, json_object *);
            const char *t = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN) : "null";
            sv__put(&b, t, strlen(t));
        } else {
            b.bad = 1; /* an unknown conversion: the arguments no longer line up */
            break;
        }
    }
    if (!b.bad && b.p) {
        out = json_tokener_parse(b.p);
        if (out && !json_object_is_type(out, json_type_object)) {
            json_object_put(out);
            out = NULL;
        }
    }
    free(b.p);
    return out;
}

/*
 * A params object from a JSON template, for sv_call():
 *   sv_params("{'job_id': %s, 'limit': %d, 'deep': %b, 'opts': %j}",
 *             id, 5, 1, opts)
 * In the template ' stands for " (write text with quotes through %s).
 *   %s  a C string, as a JSON string (escaped); NULL gives null
 *   %d %u %ld %lld  int, unsigned, long, long long
 *   %g  a double (full precision; NaN and infinities give null)
 *   %b  an int, as true or false
 *   %j  a json_object * (borrowed: its JSON text is copied); NULL gives null
 *   %%  a percent sign
 * A new object, or NULL (malformed template, not an object, out of memory).
 */
static inline json_object *sv_params(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_object *o = sv_paramsv(fmt, ap);
    va_end(ap);
    return o;
}

/* ---- tool calls -------------------------------------------------------------- */

/*
 * host->tool_call(), taking ownership of params (even on failure) so that
 * sv_params() can be written in the call.  A NULL params is taken for a
 * template that could not be built: the call is not made and err says
 * "bad_params" (pass json_object_new_object() or sv_params("{}") for none).
 * Returns SV_OK (*data a new reference or NULL, when data is not NULL),
 * SV_ECANCELLED, or another negative code with err filled.
 */
static inline int sv_try_call(sv_ctx *ctx, const sv_host *host, const char *tool,
                              const char *action, json_object *params, json_object **data,
                              sv_error *err)
{
    sv_error local;
    int rc;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (data)
        *data = NULL;
    if (!params) {
        snprintf(err->code, sizeof err->code, "bad_params");
        snprintf(err->message, sizeof err->message,
                 "the params of %.80s/%.80s could not be built (a bad template or no memory)",
                 tool ? tool : "?", action ? action : "?");
        return SV_EINVAL;
    }
    rc = host->tool_call(ctx, tool, action, params, data, err);
    json_object_put(params);
    return rc;
}

/*
 * A tool call whose failure fails the run: with the tool's error code and
 * the message "TOOL/ACTION failed: MESSAGE" (one line), so callers see
 * e.g. "forbidden" rather than a generic code.  Takes ownership of params
 * as sv_try_call() does.  Return what it returns from the node when it is
 * not SV_OK (SV_ECANCELLED included, which fails nothing):
 *
 *   rc = sv_call(ctx, host, "job_tool", "get_job", sv_params("{'id': %s}", id), &data);
 *   if (rc != SV_OK)
 *       return rc;
 */
static inline int sv_call(sv_ctx *ctx, const sv_host *host, const char *tool, const char *action,
                          json_object *params, json_object **data)
{
    sv_error err;
    int rc = sv_try_call(ctx, host, tool, action, params, data, &err);
    if (rc != SV_OK && rc != SV_ECANCELLED)
        sv_fail(ctx, host, err.code[0] ? err.code : "tool_failed", "%s/%s failed: %s",
                tool ? tool : "?", action ? action : "?",
                err.message[0] ? err.message : "no message");
    return rc;
}

/* ---- settings (ABI 1.1) ------------------------------------------------------ */

/* The graph's declared setting `name`, or def when the host has no
 * settings (a 1.0 host) or the graph declares no such setting. */
static inline json_object *sv__setting(const sv_host *host, const char *name)
{
    if (!host || !SV_HOST_HAS(host, setting) || !host->setting)
        return NULL;
    return host->setting(host, name);
}
static inline int64_t sv_setting_int(const sv_host *host, const char *name, int64_t def)
{
    json_object *v = sv__setting(host, name);
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}
static inline double sv_setting_num(const sv_host *host, const char *name, double def)
{
    json_object *v = sv__setting(host, name);
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)
               ? json_object_get_double(v)
               : def;
}
static inline int sv_setting_bool(const sv_host *host, const char *name, int def)
{
    json_object *v = sv__setting(host, name);
    return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}
/* Valid until the graph's fini(). */
static inline const char *sv_setting_str(const sv_host *host, const char *name, const char *def)
{
    json_object *v = sv__setting(host, name);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

#ifdef __cplusplus
}
#endif
#endif /* SOFIIA_GRAPH_HELPERS_H */
