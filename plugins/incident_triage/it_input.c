/*
 * it_input.c - the input schema and everything done to an input before the
 * nodes use it: defaults, the time-window rules (default last hour, latest
 * INCIDENT_MAX_TIME_WINDOW_H hours kept, reversed or unparseable = 400) and
 * the max_log_lines clamp.  prepare_input() applies them at start; the first
 * node applies them again to build the parameters every node reads, so the
 * graph also works on an input that never went through prepare_input.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

/* The validator rejects unknown fields, fills defaults and clamps
 * max_log_lines (x-clamp); docs/graphs.md explains each one. */
const char it_input_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"service\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,"
    "\"description\":\"Service name (required), e.g. router\"},"
    "\"symptom\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000,"
    "\"description\":\"Brief incident description (required); a deploy/rollout/release "
    "mentioned here is taken as evidence of a recent deploy\"},"
    "\"time_range\":{\"type\":\"object\",\"description\":\"Analysis window; default the last "
    "hour; a longer window than INCIDENT_MAX_TIME_WINDOW_H (default 24) hours keeps its "
    "latest hours; from must be before to\",\"properties\":{"
    "\"from\":{\"type\":\"string\",\"format\":\"date-time\",\"description\":\"Start of the "
    "window, RFC 3339 with any offset; default to minus one hour\"},"
    "\"to\":{\"type\":\"string\",\"format\":\"date-time\",\"description\":\"End of the "
    "window, RFC 3339 with any offset; default now\"}}},"
    "\"env\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,\"default\":\"prod\","
    "\"description\":\"Environment\"},"
    "\"include_traces\":{\"type\":\"boolean\",\"default\":false,\"description\":\"Look up "
    "up to 5 traces whose ids appear in the error logs\"},"
    "\"max_log_lines\":{\"type\":\"integer\",\"default\":120,\"minimum\":1,\"maximum\":200,"
    "\"x-clamp\":true,\"description\":\"Log lines to analyse; values outside 1-200 are "
    "clamped\"},"
    "\"log_query_hint\":{\"type\":\"string\",\"maxLength\":1000,\"description\":\"Custom log "
    "query filter; default level:error OR level:fatal\"}"
    "},\"required\":[\"service\",\"symptom\"]}";

static int it_invalid(sv_error *err, const char *field, const char *message)
{
    if (err) {
        snprintf(err->code, sizeof err->code, "invalid_input");
        snprintf(err->field, sizeof err->field, "%s", field);
        snprintf(err->message, sizeof err->message, "%s", message);
    }
    return SV_EINVAL;
}

/* A member that is absent or JSON null counts as not given. */
static json_object *it_member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

/* One end of the window: absent = *ms untouched, else parsed or an error. */
static int it_window_end(json_object *tr, const char *key, const char *field, int64_t *ms,
                         sv_error *err)
{
    char msg[200];
    json_object *v = it_member(tr, key);
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string) ||
        it_time_parse(json_object_get_string(v), ms) != 0) {
        snprintf(msg, sizeof msg,
                 "%s is not an RFC 3339 date-time; give e.g. \"2026-02-23T09:00:00Z\" or "
                 "\"2026-02-23T11:00:00+02:00\"",
                 field);
        return it_invalid(err, field, msg);
    }
    return 1;
}

int it_window_resolve(json_object *time_range, int64_t now_ms, long max_h, it_window *w,
                      sv_error *err)
{
    int rc = 0;
    int64_t to = now_ms, from = 0;

    memset(w, 0, sizeof *w);
    if (time_range && !json_object_is_type(time_range, json_type_object)) {
        rc = it_invalid(err, "time_range", "time_range must be an object {\"from\", \"to\"}");
        goto out;
    }
    if ((rc = it_window_end(time_range, "to", "time_range.to", &to, err)) < 0)
        goto out;
    from = to - IT_DEFAULT_WINDOW_MS;
    if ((rc = it_window_end(time_range, "from", "time_range.from", &from, err)) < 0)
        goto out;
    rc = 0;
    if (from >= to) {
        rc = it_invalid(err, "time_range",
                        "time_range.from must be before time_range.to (the range is reversed "
                        "or empty)");
        goto out;
    }
    if (max_h <= 0)
        max_h = IT_DEFAULT_MAX_WINDOW_H;
    w->max_h = max_h;
    /* An incident is about now: keep the latest hours, drop the oldest. */
    if (to - from > (int64_t)max_h * 3600 * 1000) {
        from = to - (int64_t)max_h * 3600 * 1000;
        w->clamped = 1;
    }
    w->from_ms = from;
    w->to_ms = to;
out:
    return rc;
}

long it_max_window_h(const sv_host *host)
{
    long h = (long)sv_setting_int(host, IT_SETTING_MAX_WINDOW, IT_DEFAULT_MAX_WINDOW_H);
    if (h < 1)
        h = IT_DEFAULT_MAX_WINDOW_H;
    if (h > IT_MAX_WINDOW_H_LIMIT)
        h = IT_MAX_WINDOW_H_LIMIT;
    return h;
}

int it_log_lines(json_object *input)
{
    json_object *v = it_member(input, "max_log_lines");
    int64_t n = IT_DEFAULT_LOG_LINES;
    if (v && json_object_is_type(v, json_type_int))
        n = json_object_get_int64(v);
    else if (v && json_object_is_type(v, json_type_double))
        n = (int64_t)json_object_get_double(v);
    if (n < 1)
        n = 1;
    if (n > IT_MAX_LOG_LINES)
        n = IT_MAX_LOG_LINES;
    return (int)n;
}

/* A text field: required or optional, 1..max bytes; 0, 1 (present) or SV_EINVAL. */
static int it_check_text(json_object *input, const char *key, size_t max, int required,
                         sv_error *err)
{
    char msg[200];
    json_object *v = it_member(input, key);
    if (!v && !required)
        return 0;
    if (v && json_object_is_type(v, json_type_string)) {
        size_t n = (size_t)json_object_get_string_len(v);
        if (n >= 1 && n <= max)
            return 1;
        if (n == 0 && !required)
            return 0;
    }
    snprintf(msg, sizeof msg, "%s %s: a string of 1 to %zu characters", key,
             v ? "is invalid" : "is required", max);
    return it_invalid(err, key, msg);
}

/* The checks prepare_input and the first node share. */
static int it_check_fields(json_object *input, sv_error *err)
{
    int rc;
    json_object *v;

    if (!input || !json_object_is_type(input, json_type_object))
        return it_invalid(err, "", "input must be a JSON object");
    if ((rc = it_check_text(input, "service", IT_MAX_SERVICE_LEN, 1, err)) < 0)
        return rc;
    if ((rc = it_check_text(input, "symptom", IT_MAX_SYMPTOM_LEN, 1, err)) < 0)
        return rc;
    if ((rc = it_check_text(input, "env", 64, 0, err)) < 0)
        return rc;
    if ((rc = it_check_text(input, "log_query_hint", 1000, 0, err)) < 0)
        return rc;
    v = it_member(input, "include_traces");
    if (v && !json_object_is_type(v, json_type_boolean))
        return it_invalid(err, "include_traces", "include_traces must be true or false");
    v = it_member(input, "max_log_lines");
    if (v && !json_object_is_type(v, json_type_int))
        return it_invalid(err, "max_log_lines", "max_log_lines must be an integer (1-200)");
    return 0;
}

int it_prepare_input(const sv_host *host, json_object *input, sv_error *err)
{
    int rc;
    it_window w;
    char from[IT_TS_LEN], to[IT_TS_LEN], line[160];
    json_object *tr = NULL;
    int64_t now = host && host->now_ms ? host->now_ms(NULL) : 0;

    if ((rc = it_check_fields(input, err)) < 0)
        goto out;
    rc = it_window_resolve(it_member(input, "time_range"), now, it_max_window_h(host), &w, err);
    if (rc < 0)
        goto out;
    if (!it_member(input, "env"))
        json_object_object_add(input, "env", json_object_new_string(IT_DEFAULT_ENV));
    if (!it_member(input, "include_traces"))
        json_object_object_add(input, "include_traces", json_object_new_boolean(0));
    /* The schema clamps already (x-clamp); this keeps a bare input honest too. */
    json_object_object_add(input, "max_log_lines", json_object_new_int(it_log_lines(input)));
    it_time_format(w.from_ms, from);
    it_time_format(w.to_ms, to);
    tr = json_object_new_object();
    if (!tr) {
        rc = SV_ENOMEM;
        goto out;
    }
    json_object_object_add(tr, "from", json_object_new_string(from));
    json_object_object_add(tr, "to", json_object_new_string(to));
    json_object_object_add(input, "time_range", tr);
    /* No field is added to record the clamp (unknown fields stay out of the
     * input); the report says when the window is at the limit. */
    if (w.clamped && host && host->log) {
        snprintf(line, sizeof line,
                 "incident_triage: time_range longer than %s=%ld h; kept its latest %ld h",
                 IT_MAX_WINDOW_KEY, w.max_h, w.max_h);
        host->log(NULL, SV_LOG_INFO, line);
    }
out:
    return rc;
}

int it_params_build(json_object *input, int64_t now_ms, long max_h, json_object **out,
                    sv_error *err)
{
    int rc;
    it_window w;
    char ts[IT_TS_LEN];
    json_object *p = NULL;
    const char *env, *hint;
    json_object *tv = it_json_get(input, "include_traces", json_type_boolean);
    int traces = tv ? json_object_get_boolean(tv) : 0;

    *out = NULL;
    if ((rc = it_check_fields(input, err)) < 0)
        goto out;
    rc = it_window_resolve(it_member(input, "time_range"), now_ms, max_h, &w, err);
    if (rc < 0)
        goto out;
    p = json_object_new_object();
    if (!p) {
        rc = SV_ENOMEM;
        goto out;
    }
    env = it_json_str(input, "env");
    hint = it_json_str(input, "log_query_hint");
    json_object_object_add(p, "service", json_object_new_string(it_json_str(input, "service")));
    json_object_object_add(p, "env", json_object_new_string(env && *env ? env : IT_DEFAULT_ENV));
    json_object_object_add(p, "symptom", json_object_new_string(it_json_str(input, "symptom")));
    it_time_format(w.from_ms, ts);
    json_object_object_add(p, "from", json_object_new_string(ts));
    it_time_format(w.to_ms, ts);
    json_object_object_add(p, "to", json_object_new_string(ts));
    json_object_object_add(p, "window_h",
                           json_object_new_double((double)(w.to_ms - w.from_ms) / 3600000.0));
    json_object_object_add(p, "max_h", json_object_new_int64(w.max_h));
    json_object_object_add(p, "clamped", json_object_new_boolean(w.clamped));
    json_object_object_add(p, "limit", json_object_new_int(it_log_lines(input)));
    json_object_object_add(p, "query",
                           json_object_new_string(hint && *hint ? hint : IT_DEFAULT_QUERY));
    json_object_object_add(p, "include_traces", json_object_new_boolean(traces));
    *out = p;
    p = NULL;
out:
    json_object_put(p);
    return rc;
}
