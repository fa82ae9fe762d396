/* rc_logic.c - see rc_logic.h. */
#include "rc_logic.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Elapsed times above this (about 31 years) are nonsense, not data. */
#define RC_MAX_ELAPSED_MS 1000000000000000LL

static const char *const rc_pass_words[] = {"pass", "passed", "ok", "success", "succeeded", NULL};
static const char *const rc_fail_words[] = {"fail", "failed", "failure", NULL};
static const char *const rc_skip_words[] = {"skip", "skipped", NULL};
static const char *const rc_done_words[] = {"succeeded", "success",  "completed", "complete",
                                            "done",      "finished", NULL};
/* A job that was cancelled or expired elsewhere is as finished as a failed
 * one: polling it further can only time out. */
static const char *const rc_failed_words[] = {"failed",    "failure",  "error",   "errored",
                                              "cancelled", "canceled", "aborted", "timeout",
                                              "timed_out", "expired",  NULL};

static int word_in(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcasecmp(s, words[i]) == 0)
            return 1;
    return 0;
}

json_object *rc_json_member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* The string member `key` of o when it is a non-empty string, else NULL. */
static const char *rc_get_str(json_object *o, const char *key)
{
    json_object *v = rc_json_member(o, key);
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return NULL;
    return json_object_get_string(v);
}

/* json-c does not free a value it failed to add: these do, so callers have
 * one cleanup path. */
static int obj_put(json_object *o, const char *key, json_object *val)
{
    if (!val)
        return -ENOMEM;
    if (json_object_object_add(o, key, val) != 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

static int arr_put(json_object *a, json_object *val)
{
    if (!val)
        return -ENOMEM;
    if (json_object_array_add(a, val) != 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

json_object *rc_json_string_capped(const char *s, size_t len, size_t cap)
{
    if (len > cap) {
        len = cap;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    return json_object_new_string_len(s, (int)len);
}

void rc_utf8_trim(char *s)
{
    size_t n = strlen(s), cont = 0, need;
    while (n > 0 && cont < 4 && ((unsigned char)s[n - 1] & 0xC0) == 0x80) {
        n--;
        cont++;
    }
    if (n == 0) {
        /* Only continuation bytes: nothing valid to keep. */
        if (cont)
            s[0] = '\0';
        return;
    }
    unsigned char lead = (unsigned char)s[n - 1];
    if (lead < 0x80)
        need = 1;
    else if ((lead & 0xE0) == 0xC0)
        need = 2;
    else if ((lead & 0xF0) == 0xE0)
        need = 3;
    else if ((lead & 0xF8) == 0xF0)
        need = 4;
    else
        need = 0;
    if (need == 0 || cont + 1 < need)
        s[n - 1] = '\0';
    else if (need == 1 && cont)
        s[n] = '\0';
}

const char *rc_gate_status_name(enum rc_gate_status s)
{
    switch (s) {
    case RC_GATE_PASS:
        return "pass";
    case RC_GATE_FAIL:
        return "fail";
    case RC_GATE_SKIPPED:
        return "skipped";
    case RC_GATE_ERROR:
        break;
    }
    return "error";
}

enum rc_gate_status rc_gate_status_from_json(json_object *v)
{
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? RC_GATE_PASS : RC_GATE_FAIL;
    if (!json_object_is_type(v, json_type_string))
        return RC_GATE_ERROR;
    const char *s = json_object_get_string(v);
    if (word_in(s, rc_pass_words))
        return RC_GATE_PASS;
    if (word_in(s, rc_fail_words))
        return RC_GATE_FAIL;
    if (word_in(s, rc_skip_words))
        return RC_GATE_SKIPPED;
    return RC_GATE_ERROR;
}

enum rc_job_phase rc_job_phase_from_json(json_object *status)
{
    if (!json_object_is_type(status, json_type_string))
        return RC_JOB_PENDING;
    const char *s = json_object_get_string(status);
    if (word_in(s, rc_done_words))
        return RC_JOB_SUCCEEDED;
    if (word_in(s, rc_failed_words))
        return RC_JOB_FAILED;
    return RC_JOB_PENDING;
}

static int gates_append(json_object *gates, const char *name, size_t name_len,
                        enum rc_gate_status st, size_t index)
{
    char fallback[32];
    json_object *g = json_object_new_object();
    int rc = -ENOMEM;
    if (!g)
        goto out;
    /* A gate without a usable name still counts; give it a stable one. */
    if (!name || name_len == 0) {
        snprintf(fallback, sizeof fallback, "gate_%zu", index + 1);
        name = fallback;
        name_len = strlen(fallback);
    }
    rc = obj_put(g, "name", rc_json_string_capped(name, name_len, RC_MAX_GATE_NAME));
    if (rc < 0)
        goto out;
    rc = obj_put(g, "status", json_object_new_string(rc_gate_status_name(st)));
    if (rc < 0)
        goto out;
    rc = arr_put(gates, g);
    g = NULL;
out:
    json_object_put(g);
    return rc;
}

/* The status of one gate given as an object: its "status", else its "pass". */
static enum rc_gate_status gate_status_of_object(json_object *g)
{
    json_object *st = rc_json_member(g, "status");
    if (st)
        return rc_gate_status_from_json(st);
    return rc_gate_status_from_json(rc_json_member(g, "pass"));
}

static int gates_append_item(json_object *gates, json_object *item, size_t index)
{
    if (!json_object_is_type(item, json_type_object))
        return gates_append(gates, NULL, 0, rc_gate_status_from_json(item), index);
    static const char *const name_keys[] = {"name", "gate", "id", NULL};
    const char *name = NULL;
    for (size_t k = 0; name_keys[k] && !name; k++)
        name = rc_get_str(item, name_keys[k]);
    return gates_append(gates, name, name ? strlen(name) : 0, gate_status_of_object(item), index);
}

int rc_gates_normalise(json_object *raw, json_object **out)
{
    json_object *gates = json_object_new_array();
    int rc = -ENOMEM;
    if (!gates)
        goto out;
    if (json_object_is_type(raw, json_type_array)) {
        size_t n = json_object_array_length(raw);
        for (size_t i = 0; i < n && i < RC_MAX_GATES; i++) {
            rc = gates_append_item(gates, json_object_array_get_idx(raw, i), i);
            if (rc < 0)
                goto out;
        }
    } else if (json_object_is_type(raw, json_type_object)) {
        size_t i = 0;
        json_object_object_foreach(raw, key, val)
        {
            if (i >= RC_MAX_GATES)
                break;
            enum rc_gate_status st = json_object_is_type(val, json_type_object)
                                         ? gate_status_of_object(val)
                                         : rc_gate_status_from_json(val);
            rc = gates_append(gates, key, strlen(key), st, i);
            if (rc < 0)
                goto out;
            i++;
        }
    }
    *out = gates;
    gates = NULL;
    rc = 0;
out:
    json_object_put(gates);
    return rc;
}

/* The text a recommendation item stands for, or NULL to drop it. */
static const char *recommendation_text(json_object *item, size_t *len)
{
    const char *s = NULL;
    switch (json_object_get_type(item)) {
    case json_type_string:
        s = json_object_get_string(item);
        break;
    case json_type_object: {
        static const char *const keys[] = {"text", "message", "title", NULL};
        for (size_t k = 0; keys[k] && !s; k++)
            s = rc_get_str(item, keys[k]);
        break;
    }
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        s = json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN);
        break;
    default:
        break;
    }
    if (!s || !*s)
        return NULL;
    *len = strlen(s);
    return s;
}

int rc_recommendations_normalise(json_object *raw, json_object **out)
{
    json_object *recs = json_object_new_array();
    size_t len = 0;
    int rc = -ENOMEM;
    if (!recs)
        goto out;
    if (json_object_is_type(raw, json_type_array)) {
        size_t n = json_object_array_length(raw), kept = 0;
        for (size_t i = 0; i < n && kept < RC_MAX_RECOMMENDATIONS; i++) {
            const char *s = recommendation_text(json_object_array_get_idx(raw, i), &len);
            if (!s)
                continue;
            rc = arr_put(recs, rc_json_string_capped(s, len, RC_MAX_RECOMMENDATION_LEN));
            if (rc < 0)
                goto out;
            kept++;
        }
    } else if (json_object_is_type(raw, json_type_string)) {
        const char *s = recommendation_text(raw, &len);
        if (s) {
            rc = arr_put(recs, rc_json_string_capped(s, len, RC_MAX_RECOMMENDATION_LEN));
            if (rc < 0)
                goto out;
        }
    }
    *out = recs;
    recs = NULL;
    rc = 0;
out:
    json_object_put(recs);
    return rc;
}

static const char *gate_status_at(json_object *gates, size_t i, const char **name)
{
    json_object *g = json_object_array_get_idx(gates, i);
    const char *st = rc_get_str(g, "status");
    if (name)
        *name = rc_get_str(g, "name");
    return st ? st : "error";
}

static int status_is_failing(const char *st)
{
    return strcmp(st, "fail") == 0 || strcmp(st, "error") == 0;
}

int rc_gates_count_failing(json_object *gates)
{
    size_t n = json_object_is_type(gates, json_type_array) ? json_object_array_length(gates) : 0;
    int failing = 0;
    for (size_t i = 0; i < n; i++)
        failing += status_is_failing(gate_status_at(gates, i, NULL));
    return failing;
}

/* Append to buf at *off; on truncation *off sticks at len - 1 and later
 * appends do nothing. */
__attribute__((format(printf, 4, 5))) static void sb_printf(char *buf, size_t len, size_t *off,
                                                            const char *fmt, ...)
{
    va_list ap;
    if (*off + 1 >= len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *off = *off + (size_t)n >= len ? len - 1 : *off + (size_t)n;
}

void rc_summary_format(json_object *gates, int job_pass, char *buf, size_t len)
{
    size_t n = json_object_is_type(gates, json_type_array) ? json_object_array_length(gates) : 0;
    size_t failing = 0, skipped = 0, off = 0;
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *st = gate_status_at(gates, i, NULL);
        failing += status_is_failing(st);
        skipped += strcmp(st, "skipped") == 0;
    }
    if (n == 0) {
        sb_printf(buf, len, &off, "No gates were reported.");
    } else if (failing == 0 && skipped == 0) {
        if (n == 1)
            sb_printf(buf, len, &off, "1 gate passed.");
        else
            sb_printf(buf, len, &off, "All %zu gates passed.", n);
    } else if (failing == 0) {
        if (skipped == n)
            sb_printf(buf, len, &off, "No gate ran: %zu skipped.", n);
        else
            sb_printf(buf, len, &off, "%zu of %zu gates passed, %zu skipped.", n - skipped, n,
                      skipped);
    } else {
        size_t listed = 0;
        sb_printf(buf, len, &off, "%zu of %zu %s failed: ", failing, n, n == 1 ? "gate" : "gates");
        for (size_t i = 0; i < n && listed < RC_MAX_SUMMARY_NAMES; i++) {
            const char *name = NULL;
            const char *st = gate_status_at(gates, i, &name);
            if (!status_is_failing(st))
                continue;
            sb_printf(buf, len, &off, "%s%s%s", listed ? ", " : "", name ? name : "?",
                      strcmp(st, "error") == 0 ? " (error)" : "");
            listed++;
        }
        if (failing > listed)
            sb_printf(buf, len, &off, ", and %zu more", failing - listed);
        sb_printf(buf, len, &off, ".");
    }
    /* Say so when the job's own verdict disagrees with its gates. */
    if (job_pass == 0 && failing == 0)
        sb_printf(buf, len, &off, " The job reported pass: false.");
    else if (job_pass == 1 && failing > 0)
        sb_printf(buf, len, &off, " The job reported pass: true.");
    rc_utf8_trim(buf);
}

static int64_t elapsed_from_json(json_object *v, int64_t fallback)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t ms = json_object_get_int64(v);
        if (ms >= 0 && ms <= RC_MAX_ELAPSED_MS)
            return ms;
    } else if (json_object_is_type(v, json_type_double)) {
        double ms = json_object_get_double(v);
        if (isfinite(ms) && ms >= 0 && ms <= (double)RC_MAX_ELAPSED_MS)
            return (int64_t)(ms + 0.5); /* ms >= 0: rounds without libm */
    }
    return fallback < 0 ? 0 : fallback;
}

int rc_result_build(json_object *job_result, int64_t elapsed_fallback_ms, json_object **out)
{
    json_object *res = NULL, *gates = NULL, *recs = NULL, *v;
    char summary[RC_SUMMARY_LEN];
    int job_pass = -1, pass, rc;
    if (!json_object_is_type(job_result, json_type_object))
        job_result = NULL;
    rc = rc_gates_normalise(rc_json_member(job_result, "gates"), &gates);
    if (rc < 0)
        goto out;
    rc = rc_recommendations_normalise(rc_json_member(job_result, "recommendations"), &recs);
    if (rc < 0)
        goto out;
    v = rc_json_member(job_result, "pass");
    if (json_object_is_type(v, json_type_boolean))
        job_pass = json_object_get_boolean(v) ? 1 : 0;
    pass = job_pass >= 0 ? job_pass : rc_gates_count_failing(gates) == 0;
    rc_summary_format(gates, job_pass, summary, sizeof summary);

    rc = -ENOMEM;
    res = json_object_new_object();
    if (!res)
        goto out;
    if ((rc = obj_put(res, "pass", json_object_new_boolean(pass))) < 0)
        goto out;
    rc = obj_put(res, "gates", gates);
    gates = NULL;
    if (rc < 0)
        goto out;
    rc = obj_put(res, "recommendations", recs);
    recs = NULL;
    if (rc < 0)
        goto out;
    if ((rc = obj_put(res, "summary", json_object_new_string(summary))) < 0)
        goto out;
    rc = obj_put(res, "elapsed_ms",
                 json_object_new_int64(elapsed_from_json(rc_json_member(job_result, "elapsed_ms"),
                                                         elapsed_fallback_ms)));
    if (rc < 0)
        goto out;
    *out = res;
    res = NULL;
out:
    json_object_put(gates);
    json_object_put(recs);
    json_object_put(res);
    return rc;
}

int rc_start_params_build(json_object *input, json_object **out)
{
    json_object *params = json_object_new_object(), *inputs = json_object_new_object();
    int rc = -ENOMEM;
    if (!params || !inputs)
        goto out;
    if (json_object_is_type(input, json_type_object)) {
        json_object_object_foreach(input, key, val)
        {
            json_object *copy = NULL;
            /* These two steer the supervisor, not the job. */
            if (strcmp(key, "timeouts") == 0 || strcmp(key, "poll_interval_ms") == 0)
                continue;
            if (val && json_object_deep_copy(val, &copy, NULL) != 0)
                goto out;
            if (json_object_object_add(inputs, key, copy) != 0) {
                json_object_put(copy);
                goto out;
            }
        }
    }
    if ((rc = obj_put(params, "task_id", json_object_new_string(RC_TASK_ID))) < 0)
        goto out;
    rc = obj_put(params, "inputs", inputs);
    inputs = NULL;
    if (rc < 0)
        goto out;
    *out = params;
    params = NULL;
out:
    json_object_put(inputs);
    json_object_put(params);
    return rc;
}

uint32_t rc_input_poll_interval_ms(json_object *input)
{
    json_object *v = rc_json_member(input, "poll_interval_ms");
    if (!json_object_is_type(v, json_type_int))
        return RC_POLL_INTERVAL_DEFAULT_MS;
    int64_t ms = json_object_get_int64(v);
    if (ms < 0)
        return 0;
    return ms > RC_POLL_INTERVAL_MAX_MS ? RC_POLL_INTERVAL_MAX_MS : (uint32_t)ms;
}

void rc_job_id_from_json(json_object *v, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    if (json_object_is_type(v, json_type_string)) {
        size_t n = (size_t)json_object_get_string_len(v);
        /* An id we cannot send back whole is no id: a cut one names another job. */
        if (n > 0 && n <= RC_MAX_JOB_ID && n < len && strlen(json_object_get_string(v)) == n)
            memcpy(buf, json_object_get_string(v), n + 1);
    } else if (json_object_is_type(v, json_type_int)) {
        snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
    }
}

void rc_job_error_describe(const char *job_id, const char *status, json_object *error, char *buf,
                           size_t len)
{
    const char *code = NULL, *msg = NULL;
    size_t off = 0;
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    if (json_object_is_type(error, json_type_object)) {
        code = rc_get_str(error, "code");
        msg = rc_get_str(error, "message");
    } else if (json_object_is_type(error, json_type_string) &&
               json_object_get_string_len(error) > 0) {
        msg = json_object_get_string(error);
    }
    /* No byte precision on the pieces: a cut in the middle of the line could
     * split a UTF-8 sequence that rc_utf8_trim would not see. */
    sb_printf(buf, len, &off, "release_check job%s%s", job_id && *job_id ? " " : "",
              job_id ? job_id : "");
    if (status && *status && strcasecmp(status, "failed") != 0)
        sb_printf(buf, len, &off, " ended with status %s", status);
    else
        sb_printf(buf, len, &off, " failed");
    if (code && msg)
        sb_printf(buf, len, &off, ": %s: %s", code, msg);
    else if (code || msg)
        sb_printf(buf, len, &off, ": %s", code ? code : msg);
    else
        sb_printf(buf, len, &off, " (no error reported)");
    rc_utf8_trim(buf);
}
