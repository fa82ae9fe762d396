/*
 * it_sources.c - digests of the router's answers (overview, health, runbooks,
 * traces): what the report needs, bounded in size, in the state.  An answer
 * of the wrong shape is SV_EINVAL ("bad_response: ..."), which the nodes
 * record as a data gap like any failed source.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

static int it_bad(char *why, size_t why_len, const char *what)
{
    snprintf(why, why_len, "bad_response: %s", what);
    return SV_EINVAL;
}

/* A bounded one-line copy of member key (or def when not a string). */
static json_object *it_line_of(json_object *obj, const char *key, size_t max, const char *def)
{
    char buf[IT_EVIDENCE_LINE_LEN + 8];
    const char *s = it_json_str(obj, key);
    if (max > sizeof buf)
        max = sizeof buf;
    it_text_line(s ? s : def, buf, max);
    return json_object_new_string(buf);
}

static int it_is_number(json_object *v)
{
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

/* Copy scalar members (numbers, booleans, short strings) of src, at most max. */
static json_object *it_scalars(json_object *src, int max)
{
    json_object *o = json_object_new_object();
    int n = 0;
    char key[64], val[65];
    if (!o || !src || !json_object_is_type(src, json_type_object))
        return o;
    json_object_object_foreach(src, k, v)
    {
        if (n >= max)
            break;
        it_text_line(k, key, sizeof key);
        if (!*key)
            continue;
        if (it_is_number(v)) {
            /* A copy keeps the number as the router wrote it (0.021, not
             * 0.021000000000000001). */
            json_object *copy = NULL;
            if (json_object_deep_copy(v, &copy, NULL) != 0)
                continue;
            json_object_object_add(o, key, copy);
        } else if (v && json_object_is_type(v, json_type_boolean)) {
            json_object_object_add(o, key, json_object_new_boolean(json_object_get_boolean(v)));
        } else if (v && json_object_is_type(v, json_type_string)) {
            json_object_object_add(
                o, key,
                json_object_new_string(it_text_line(json_object_get_string(v), val, sizeof val)));
        } else {
            continue;
        }
        n++;
    }
    return o;
}

int it_overview_digest(json_object *data, json_object **out, char *why, size_t why_len)
{
    int rc = 0;
    json_object *d = NULL, *alerts = NULL;
    json_object *raw = it_json_get(data, "alerts", json_type_array);
    int64_t count = 0;

    *out = NULL;
    if (!data || !json_object_is_type(data, json_type_object)) {
        rc = it_bad(why, why_len, "service_overview answer is not an object");
        goto out;
    }
    d = json_object_new_object();
    alerts = json_object_new_array();
    if (!d || !alerts) {
        rc = SV_ENOMEM;
        goto out;
    }
    json_object_object_add(d, "slo", it_scalars(it_json_get(data, "slo", json_type_object), 16));
    json_object_object_add(
        d, "metrics", it_scalars(it_json_get(data, "metrics", json_type_object), IT_MAX_METRICS));
    for (size_t i = 0; raw && i < json_object_array_length(raw); i++) {
        json_object *a = json_object_array_get_idx(raw, i), *e;
        const char *name = NULL;
        if (a && json_object_is_type(a, json_type_string))
            name = json_object_get_string(a);
        else if (a && json_object_is_type(a, json_type_object))
            name = it_json_str(a, "name");
        if (!name || !*name)
            continue;
        /* Every alert counts; only the first few are quoted. */
        if (count++ >= IT_MAX_ALERTS)
            continue;
        e = json_object_new_object();
        if (!e) {
            rc = SV_ENOMEM;
            goto out;
        }
        json_object_object_add(e, "name", it_line_of(a, "name", 129, name));
        json_object_object_add(e, "severity", it_line_of(a, "severity", 33, ""));
        json_object_object_add(e, "since", it_line_of(a, "since", 41, ""));
        json_object_array_add(alerts, e);
    }
    json_object_object_add(d, "alerts", alerts);
    alerts = NULL;
    json_object_object_add(d, "alerts_count", json_object_new_int64(count));
    *out = d;
    d = NULL;
out:
    json_object_put(alerts);
    json_object_put(d);
    return rc;
}

int it_status_bad(const char *status)
{
    char s[32];
    if (!status || it_status_ok(status))
        return 0;
    it_text_lower(status, s, sizeof s);
    return *s && strcmp(s, "unknown") != 0;
}

int it_status_ok(const char *status)
{
    static const char *const good[] = {"ok",        "pass",      "passed", "passing",
                                       "healthy",   "up",        "green",  "success",
                                       "succeeded", "available", "true",   NULL};
    char s[32];
    if (!status)
        return 0;
    it_text_lower(status, s, sizeof s);
    for (int i = 0; good[i]; i++)
        if (strcmp(s, good[i]) == 0)
            return 1;
    return 0;
}

int it_health_digest(json_object *data, json_object **out, char *why, size_t why_len)
{
    int rc = 0;
    char low[33];
    json_object *d = NULL, *checks = NULL;
    json_object *raw = it_json_get(data, "checks", json_type_array);
    const char *status = it_json_str(data, "status");

    *out = NULL;
    if (!data || !json_object_is_type(data, json_type_object)) {
        rc = it_bad(why, why_len, "service_health answer is not an object");
        goto out;
    }
    d = json_object_new_object();
    checks = json_object_new_array();
    if (!d || !checks) {
        rc = SV_ENOMEM;
        goto out;
    }
    json_object_object_add(d, "status",
                           json_object_new_string(status && *status
                                                      ? it_text_lower(status, low, sizeof low)
                                                      : "unknown"));
    for (size_t i = 0; raw && i < json_object_array_length(raw); i++) {
        json_object *c = json_object_array_get_idx(raw, i), *e;
        if (!c || !json_object_is_type(c, json_type_object) || !it_json_str(c, "name"))
            continue;
        if (json_object_array_length(checks) >= IT_MAX_CHECKS)
            break;
        e = json_object_new_object();
        if (!e) {
            rc = SV_ENOMEM;
            goto out;
        }
        const char *cs = it_json_str(c, "status");
        json_object_object_add(e, "name", it_line_of(c, "name", 65, ""));
        json_object_object_add(
            e, "status",
            json_object_new_string(cs && *cs ? it_text_lower(cs, low, sizeof low) : "unknown"));
        json_object_object_add(e, "detail", it_line_of(c, "detail", IT_EVIDENCE_LINE_LEN, ""));
        json_object_array_add(checks, e);
    }
    json_object_object_add(d, "checks", checks);
    checks = NULL;
    *out = d;
    d = NULL;
out:
    json_object_put(checks);
    json_object_put(d);
    return rc;
}

int it_runbooks_digest(json_object *data, json_object **out, char *why, size_t why_len)
{
    int rc = 0;
    char text[IT_RUNBOOK_TEXT_KEEP];
    json_object *arr = NULL;
    json_object *raw = it_json_get(data, "results", json_type_array);

    *out = NULL;
    if (!raw) {
        rc = it_bad(why, why_len, "runbook_search answer has no \"results\" array");
        goto out;
    }
    arr = json_object_new_array();
    if (!arr) {
        rc = SV_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(raw); i++) {
        json_object *r = json_object_array_get_idx(raw, i), *e;
        if (!r || !json_object_is_type(r, json_type_object) ||
            (!it_json_str(r, "text") && !it_json_str(r, "path")))
            continue;
        if (json_object_array_length(arr) >= IT_RUNBOOK_LIMIT)
            break;
        e = json_object_new_object();
        if (!e) {
            rc = SV_ENOMEM;
            goto out;
        }
        json_object_object_add(e, "path", it_line_of(r, "path", 257, ""));
        json_object_object_add(e, "title", it_line_of(r, "title", 201, ""));
        /* Newlines kept: runbook actions are found line by line. */
        const char *t = it_json_str(r, "text");
        json_object_object_add(
            e, "text", json_object_new_string(it_text_block(t ? t : "", text, sizeof text)));
        json_object_array_add(arr, e);
    }
    *out = arr;
    arr = NULL;
out:
    json_object_put(arr);
    return rc;
}

int it_traces_digest(json_object *data, json_object **out, char *why, size_t why_len)
{
    int rc = 0;
    json_object *d = NULL, *arr = NULL;
    json_object *raw = it_json_get(data, "traces", json_type_array);

    *out = NULL;
    if (!raw) {
        rc = it_bad(why, why_len, "traces_query answer has no \"traces\" array");
        goto out;
    }
    d = json_object_new_object();
    arr = json_object_new_array();
    if (!d || !arr) {
        rc = SV_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(raw) && i < IT_MAX_TRACE_IDS; i++) {
        json_object *t = json_object_array_get_idx(raw, i), *copy = NULL;
        size_t len = 0;
        json_object_to_json_string_length(t, JSON_C_TO_STRING_PLAIN, &len);
        if (len <= IT_MAX_TRACE_BYTES && json_object_deep_copy(t, &copy, NULL) == 0) {
            json_object_array_add(arr, copy);
            continue;
        }
        /* A trace too big for the run record is named, not copied. */
        copy = json_object_new_object();
        if (!copy) {
            rc = SV_ENOMEM;
            goto out;
        }
        json_object_object_add(copy, "trace_id", it_line_of(t, "trace_id", 129, ""));
        json_object_object_add(copy, "truncated", json_object_new_boolean(1));
        json_object_array_add(arr, copy);
    }
    json_object_object_add(d, "traces", arr);
    arr = NULL;
    *out = d;
    d = NULL;
out:
    json_object_put(arr);
    json_object_put(d);
    return rc;
}

void it_runbook_query(const char *symptom, const char *top_sig, char *out, size_t len)
{
    it_buf b = {0};
    char line[IT_MAX_SYMPTOM_LEN + 1];
    it_buf_cat(&b, it_text_line(symptom, line, sizeof line));
    /* The words of the top signature, without its <placeholders>. */
    if (top_sig && *top_sig) {
        it_buf_cat(&b, " ");
        for (const char *p = top_sig; *p; p++) {
            if (*p == '<') {
                const char *end = strchr(p, '>');
                if (end) {
                    p = end;
                    it_buf_cat(&b, " ");
                    continue;
                }
            }
            char c[2] = {*p, '\0'};
            int word = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                       (unsigned char)*p >= 0x80;
            it_buf_cat(&b, word ? c : " ");
        }
    }
    it_text_line(it_buf_str(&b), out, len);
    it_buf_free(&b);
}
