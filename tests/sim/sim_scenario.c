/* sim_scenario.c - loading and validating a scenario file.
 *
 * Validation is strict (unknown keys and wrong types are errors) because a typo in
 * a test fixture should fail loudly at start-up, not make a test pass or fail for
 * the wrong reason. Keys named "comment" or starting with "_" are ignored so that
 * fixtures can carry notes. */
#include "sim_scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_json.h"
#include "sim_template.h"

/* Scenario files are small hand-written fixtures; refuse anything absurd. */
#define SIM_SCENARIO_MAX_BYTES (64 * 1024 * 1024)
#define SIM_PATH_LEN 128

struct sim_err {
    char *buf;
    size_t len;
};

/* Record "path.key: message" (key may be NULL) in err and return -EINVAL, so that
 * the one error line names the exact field to fix. */
static int sim_fail(struct sim_err *err, const char *path, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int sim_fail(struct sim_err *err, const char *path, const char *key, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err->buf, err->len, "%s%s%s: ", path, key ? "." : "", key ? key : "");

    if (n >= 0 && (size_t)n < err->len) {
        va_start(ap, fmt);
        vsnprintf(err->buf + n, err->len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* Keys come from the file: keep a control character from breaking the line. */
    for (char *p = err->buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    return -EINVAL;
}

static const char *sim_type_name(json_object *v)
{
    return json_type_to_name(json_object_get_type(v));
}

/* Reject keys of obj that are not in allowed (NULL-terminated). */
static int sim_check_keys(json_object *obj, const char *path, const char *const *allowed,
                          struct sim_err *err)
{
    json_object_object_foreach(obj, key, val)
    {
        int ok = key[0] == '_' || strcmp(key, "comment") == 0;
        (void)val;
        for (size_t i = 0; !ok && allowed[i]; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return sim_fail(err, path, key, "unknown field");
    }
    return 0;
}

/* Optional string field: *out is a copy, or stays NULL when the field is absent. */
static int sim_get_string(json_object *obj, const char *key, const char *path, int required,
                          char **out, struct sim_err *err)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v)) {
        if (required)
            return sim_fail(err, path, key, "missing required field");
        return 0;
    }
    if (json_object_get_type(v) != json_type_string)
        return sim_fail(err, path, key, "must be a string, not %s", sim_type_name(v));
    *out = strdup(json_object_get_string(v));
    return *out ? 0 : -ENOMEM;
}

/* Optional integer field in [min, max]; *present says whether it was given. */
static int sim_get_int(json_object *obj, const char *key, const char *path, int64_t min,
                       int64_t max, int64_t *out, int *present, struct sim_err *err)
{
    json_object *v;
    int64_t n;

    *present = 0;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (json_object_get_type(v) != json_type_int)
        return sim_fail(err, path, key, "must be an integer, not %s", sim_type_name(v));
    n = json_object_get_int64(v);
    if (n < min || n > max)
        return sim_fail(err, path, key, "must be between %lld and %lld", (long long)min,
                        (long long)max);
    *out = n;
    *present = 1;
    return 0;
}

static int sim_get_latency(json_object *obj, const char *path, int64_t *out, struct sim_err *err)
{
    int present, rc;

    rc = sim_get_int(obj, "latency_ms", path, 0, SIM_LATENCY_MAX_MS, out, &present, err);
    if (rc == 0 && !present)
        *out = SIM_LATENCY_INHERIT;
    return rc;
}

/* The error code a body-less failure answer carries, so a test that only sets
 * http_status still gets the JSON the real router would send. */
static const char *sim_status_code(unsigned int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 408:
        return "timeout";
    case 409:
        return "conflict";
    case 413:
        return "payload_too_large";
    case 429:
        return "rate_limited";
    case 500:
        return "internal_error";
    case 502:
        return "bad_gateway";
    case 503:
        return "unavailable";
    case 504:
        return "gateway_timeout";
    default:
        return "error";
    }
}

/* Fill r->body with the answer a body-less response sends. */
static int sim_default_body(struct sim_response *r)
{
    char msg[64];

    if (r->http_status < 300) {
        r->body = strdup("{\"status\":\"succeeded\",\"data\":{}}");
        r->body_len = r->body ? strlen(r->body) : 0;
    } else {
        snprintf(msg, sizeof(msg), "router-sim: HTTP %u", r->http_status);
        r->body = sim_json_error_body(sim_status_code(r->http_status), msg, &r->body_len);
    }
    return r->body ? 0 : -ENOMEM;
}

static int sim_parse_retry_after(json_object *obj, const char *path, struct sim_response *r,
                                 struct sim_err *err)
{
    json_object *v;
    char num[32];
    const char *s;

    if (!json_object_object_get_ex(obj, "retry_after", &v))
        return 0;
    if (json_object_get_type(v) == json_type_int) {
        if (json_object_get_int64(v) < 0)
            return sim_fail(err, path, "retry_after", "must not be negative");
        snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
        s = num;
    } else if (json_object_get_type(v) == json_type_string) {
        s = json_object_get_string(v);
        /* A header value must be visible ASCII; CR/LF would split the header. */
        if (!*s)
            return sim_fail(err, path, "retry_after", "must not be empty");
        for (const char *p = s; *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                return sim_fail(err, path, "retry_after",
                                "must be printable ASCII (a number of "
                                "seconds or an HTTP date)");
    } else {
        return sim_fail(err, path, "retry_after", "must be a string or an integer, not %s",
                        sim_type_name(v));
    }
    r->retry_after = strdup(s);
    return r->retry_after ? 0 : -ENOMEM;
}

static int sim_parse_response(json_object *obj, const char *path, struct sim_response *r,
                              struct sim_err *err)
{
    static const char *const keys[] = {"http_status", "body",  "raw_body", "retry_after",
                                       "latency_ms",  "times", NULL};
    json_object *body = NULL, *raw = NULL;
    int has_body, has_raw, present, rc;
    int64_t n = 200;

    if (json_object_get_type(obj) != json_type_object) {
        rc = sim_fail(err, path, NULL, "must be an object, not %s", sim_type_name(obj));
        goto out;
    }
    if ((rc = sim_check_keys(obj, path, keys, err)) < 0)
        goto out;
    /* 1xx answers are not final responses, so they cannot be simulated here. */
    if ((rc = sim_get_int(obj, "http_status", path, 200, 599, &n, &present, err)) < 0)
        goto out;
    r->http_status = (unsigned int)n;
    n = 1;
    if ((rc = sim_get_int(obj, "times", path, 1, SIM_TIMES_MAX, &n, &present, err)) < 0)
        goto out;
    r->times = (uint64_t)n;
    if ((rc = sim_get_latency(obj, path, &r->latency_ms, err)) < 0)
        goto out;
    if ((rc = sim_parse_retry_after(obj, path, r, err)) < 0)
        goto out;
    has_body = json_object_object_get_ex(obj, "body", &body);
    has_raw = json_object_object_get_ex(obj, "raw_body", &raw);
    if (has_body && has_raw) {
        rc = sim_fail(err, path, "raw_body", "give \"body\" or \"raw_body\", not both");
        goto out;
    }
    if (has_raw) {
        if (json_object_get_type(raw) != json_type_string) {
            rc = sim_fail(err, path, "raw_body", "must be a string, not %s", sim_type_name(raw));
            goto out;
        }
        r->body_len = (size_t)json_object_get_string_len(raw);
        r->body = malloc(r->body_len + 1);
        if (!r->body) {
            rc = -ENOMEM;
            goto out;
        }
        /* Copy by length: a raw body may contain NUL bytes on purpose. */
        memcpy(r->body, json_object_get_string(raw), r->body_len + 1);
    } else if (has_body) {
        r->templated = sim_template_present(body);
        if (body) {
            r->body = sim_json_dump(body, &r->body_len);
        } else {
            r->body = strdup("null");
            r->body_len = 4;
        }
        if (!r->body)
            rc = -ENOMEM;
    } else {
        rc = sim_default_body(r);
    }
out:
    return rc;
}

static int sim_parse_rule(json_object *obj, size_t index, const char *path, struct sim_rule *rule,
                          struct sim_err *err)
{
    static const char *const keys[] = {"tool", "action", "params", "latency_ms", "responses", NULL};
    char sub[SIM_PATH_LEN];
    json_object *v;
    size_t n;
    int rc;

    if (json_object_get_type(obj) != json_type_object) {
        rc = sim_fail(err, path, NULL, "must be an object, not %s", sim_type_name(obj));
        goto out;
    }
    if ((rc = sim_check_keys(obj, path, keys, err)) < 0)
        goto out;
    if ((rc = sim_get_string(obj, "tool", path, 1, &rule->tool, err)) < 0)
        goto out;
    if ((rc = sim_get_string(obj, "action", path, 0, &rule->action, err)) < 0)
        goto out;
    if ((rc = sim_get_latency(obj, path, &rule->latency_ms, err)) < 0)
        goto out;
    if (json_object_object_get_ex(obj, "params", &v)) {
        if (json_object_get_type(v) != json_type_object) {
            rc = sim_fail(err, path, "params", "must be an object, not %s", sim_type_name(v));
            goto out;
        }
        rule->params = v; /* borrowed: the scenario keeps the whole tree */
    }
    if (!json_object_object_get_ex(obj, "responses", &v)) {
        rc = sim_fail(err, path, "responses", "missing required field");
        goto out;
    }
    if (json_object_get_type(v) != json_type_array || json_object_array_length(v) == 0) {
        rc = sim_fail(err, path, "responses", "must be a non-empty array of responses");
        goto out;
    }
    n = json_object_array_length(v);
    rule->responses = calloc(n, sizeof(*rule->responses));
    if (!rule->responses) {
        rc = -ENOMEM;
        goto out;
    }
    rule->n_responses = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof(sub), "$.rules[%zu].responses[%zu]", index, i);
        rc = sim_parse_response(json_object_array_get_idx(v, i), sub, &rule->responses[i], err);
        if (rc < 0)
            goto out;
    }
out:
    return rc;
}

static int sim_parse_rules(json_object *root, struct sim_scenario *sc, struct sim_err *err)
{
    char sub[SIM_PATH_LEN];
    json_object *v;
    size_t n;
    int rc = 0;

    if (!json_object_object_get_ex(root, "rules", &v))
        goto out;
    if (json_object_get_type(v) != json_type_array) {
        rc = sim_fail(err, "$", "rules", "must be an array, not %s", sim_type_name(v));
        goto out;
    }
    n = json_object_array_length(v);
    if (n == 0)
        goto out;
    sc->rules = calloc(n, sizeof(*sc->rules));
    if (!sc->rules) {
        rc = -ENOMEM;
        goto out;
    }
    sc->n_rules = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof(sub), "$.rules[%zu]", i);
        rc = sim_parse_rule(json_object_array_get_idx(v, i), i, sub, &sc->rules[i], err);
        if (rc < 0)
            goto out;
    }
out:
    return rc;
}

static int sim_parse_fallback(json_object *root, struct sim_scenario *sc, struct sim_err *err)
{
    struct sim_response *r = &sc->fallback;
    json_object *v;

    if (json_object_object_get_ex(root, "default", &v))
        return sim_parse_response(v, "$.default", r, err);
    r->http_status = 404;
    r->times = 1;
    r->latency_ms = SIM_LATENCY_INHERIT;
    r->body = sim_json_error_body("unknown_tool",
                                  "router-sim: no scenario rule matches this "
                                  "tool and action",
                                  &r->body_len);
    return r->body ? 0 : -ENOMEM;
}

static int sim_parse_root(json_object *root, struct sim_scenario *sc, struct sim_err *err)
{
    static const char *const keys[] = {"name",  "description", "latency_ms", "api_key",
                                       "rules", "default",     NULL};
    int present, rc;

    sc->latency_ms = 0;
    if (json_object_get_type(root) != json_type_object) {
        rc = sim_fail(err, "$", NULL, "a scenario must be a JSON object, not %s",
                      sim_type_name(root));
        goto out;
    }
    if ((rc = sim_check_keys(root, "$", keys, err)) < 0)
        goto out;
    if ((rc = sim_get_string(root, "name", "$", 0, &sc->name, err)) < 0)
        goto out;
    if ((rc = sim_get_string(root, "description", "$", 0, &sc->description, err)) < 0)
        goto out;
    if ((rc = sim_get_string(root, "api_key", "$", 0, &sc->api_key, err)) < 0)
        goto out;
    if (sc->api_key && !*sc->api_key) {
        rc = sim_fail(err, "$", "api_key", "must not be empty");
        goto out;
    }
    rc =
        sim_get_int(root, "latency_ms", "$", 0, SIM_LATENCY_MAX_MS, &sc->latency_ms, &present, err);
    if (rc < 0)
        goto out;
    if ((rc = sim_parse_rules(root, sc, err)) < 0)
        goto out;
    rc = sim_parse_fallback(root, sc, err);
out:
    return rc;
}

int sim_scenario_load(const char *path, struct sim_scenario *sc, char *errbuf, size_t errlen)
{
    struct sim_err err = {errbuf, errlen};
    int rc;

    memset(sc, 0, sizeof(*sc));
    errbuf[0] = '\0';
    rc = sim_json_load_file(path, SIM_SCENARIO_MAX_BYTES, &sc->root, errbuf, errlen);
    if (rc < 0)
        goto out;
    rc = sim_parse_root(sc->root, sc, &err);
out:
    if (rc == -ENOMEM && !errbuf[0])
        snprintf(errbuf, errlen, "out of memory");
    if (rc < 0)
        sim_scenario_free(sc);
    return rc;
}

static void sim_response_free(struct sim_response *r)
{
    free(r->retry_after);
    free(r->body);
}

void sim_scenario_free(struct sim_scenario *sc)
{
    for (size_t i = 0; i < sc->n_rules; i++) {
        struct sim_rule *rule = &sc->rules[i];
        for (size_t j = 0; j < rule->n_responses; j++)
            sim_response_free(&rule->responses[j]);
        free(rule->responses);
        free(rule->tool);
        free(rule->action);
    }
    free(sc->rules);
    sim_response_free(&sc->fallback);
    free(sc->name);
    free(sc->description);
    free(sc->api_key);
    json_object_put(sc->root);
    memset(sc, 0, sizeof(*sc));
}
