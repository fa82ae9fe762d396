/*
 * test_incident_triage.c - unit tests of the incident_triage graph against the
 * mock host: schema and input rules, RFC 3339, signatures and groups, cause
 * mapping and ranking, report wording, and whole runs with scripted router
 * answers (good, denied, garbage, huge).  No daemon, no network.
 *
 * Set IT_TEST_DUMP=1 to print the results of the whole-run tests.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"
#include "mock_host.h"

extern const sv_graph sv_graph_descriptor;

/* 2026-02-23T10:00:00Z, the mock's default clock. */
#define NOW_MS 1771840800000LL
#define HOUR_MS 3600000LL

/* ---- fixtures: a DB pool exhaustion after a deploy ------------------------ */

static const char *const POOL_OVERVIEW =
    "{\"slo\":{\"error_rate\":0.021,\"latency_p95_ms\":850,\"availability\":0.992},"
    "\"alerts\":[{\"name\":\"DBConnectionPoolExhausted\",\"severity\":\"critical\","
    "\"since\":\"2026-02-23T09:20:00Z\"},{\"name\":\"DeployRollout\",\"severity\":\"info\","
    "\"since\":\"2026-02-23T09:05:00Z\"}],"
    "\"metrics\":{\"db_pool_in_use\":100,\"db_pool_size\":100,\"rps\":420}}";

static const char *const POOL_LOGS =
    "{\"total\":11,\"lines\":["
    "{\"ts\":\"2026-02-23T09:21:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5000ms (in_use=100/100) "
    "request_id=req-8f3a2c1d\",\"trace_id\":\"t-0001\"},"
    "{\"ts\":\"2026-02-23T09:22:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5003ms (in_use=100/100) "
    "request_id=req-77ab01ff\",\"trace_id\":\"t-0002\"},"
    "{\"ts\":\"2026-02-23T09:23:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5001ms (in_use=100/100) "
    "request_id=req-1a2b3c4d\",\"trace_id\":\"t-0001\"},"
    "{\"ts\":\"2026-02-23T09:24:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5002ms (in_use=99/100) "
    "request_id=req-5e6f7a8b\",\"trace_id\":\"t-0003\"},"
    "{\"ts\":\"2026-02-23T09:25:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5000ms (in_use=100/100) "
    "request_id=req-9c8d7e6f\"},"
    "{\"ts\":\"2026-02-23T09:26:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5004ms (in_use=100/100) "
    "request_id=req-0a0b0c0d\",\"trace_id\":\"t-0004\"},"
    "{\"ts\":\"2026-02-23T09:27:00Z\",\"level\":\"error\",\"message\":\"POST /v1/orders "
    "failed for user 1234: internal error\",\"trace_id\":\"t-0005\"},"
    "{\"ts\":\"2026-02-23T09:28:00Z\",\"level\":\"error\",\"message\":\"POST /v1/orders "
    "failed for user 98: internal error\",\"trace_id\":\"t-0006\"},"
    "{\"ts\":\"2026-02-23T09:29:00Z\",\"level\":\"fatal\",\"message\":\"worker 7 crashed: "
    "panic in handler\",\"trace_id\":\"t-0007\"}"
    "]}";

static const char *const POOL_HEALTH =
    "{\"status\":\"degraded\",\"checks\":[{\"name\":\"db\",\"status\":\"fail\",\"detail\":"
    "\"connection pool 100/100 in use\"},{\"name\":\"http\",\"status\":\"ok\",\"detail\":"
    "\"200 in 12ms\"}]}";

static const char *const POOL_RUNBOOKS =
    "{\"results\":[{\"path\":\"runbooks/router/db-pool.md\",\"title\":\"DB pool "
    "exhaustion\",\"text\":\"# DB pool exhaustion\\n1. Check active connections in "
    "pg_stat_activity.\\n2. Increase ROUTER_DB_POOL_SIZE to 200 and restart the pods.\\n- "
    "Kill idle-in-transaction sessions older than 5 minutes.\\nBackground: the pool is "
    "shared by all workers.\"}]}";

static const char *const POOL_TRACES =
    "{\"traces\":[{\"trace_id\":\"t-0001\",\"duration_ms\":5012,\"root\":\"POST /v1/orders\","
    "\"spans\":12}]}";

static const char *const POOL_INPUT =
    "{\"service\":\"router\",\"symptom\":\"High error rate after deploy\",\"env\":\"prod\","
    "\"include_traces\":true,\"time_range\":{\"from\":\"2026-02-23T09:00:00Z\","
    "\"to\":\"2026-02-23T10:00:00Z\"}}";

static int dump_enabled(void)
{
    const char *v = getenv("IT_TEST_DUMP");
    return v && *v && strcmp(v, "0") != 0;
}

static void dump(const char *what, json_object *o)
{
    if (dump_enabled())
        fprintf(stderr, "\n--- %s ---\n%s\n", what,
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *gets(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static json_object *idx(json_object *arr, size_t i)
{
    if (!arr || !json_object_is_type(arr, json_type_array) || i >= json_object_array_length(arr))
        return NULL;
    return json_object_array_get_idx(arr, i);
}

static size_t alen(json_object *arr)
{
    return arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

static int contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

/* Does any string of arr contain needle? */
static int any_contains(json_object *arr, const char *needle)
{
    for (size_t i = 0; i < alen(arr); i++)
        if (contains(json_object_get_string(idx(arr, i)), needle))
            return 1;
    return 0;
}

/* A mock with the pool scenario's answers queued. */
static mock_host *pool_mock(const char *input)
{
    mock_host *m = mock_host_new(input ? input : POOL_INPUT);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, POOL_OVERVIEW, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, POOL_LOGS, NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, POOL_HEALTH, NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, POOL_RUNBOOKS, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_TRACES, SV_OK, POOL_TRACES, NULL);
    return m;
}

/* ---- schema and descriptor ------------------------------------------------ */

static void test_schema_json(void)
{
    json_object *s = json_tokener_parse(it_input_schema);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(gets(s, "type"), "object");
    json_object *props = get(s, "properties");
    CU_ASSERT_PTR_NOT_NULL_FATAL(props);
    json_object *req = get(s, "required");
    CU_ASSERT_EQUAL(alen(req), 2);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(req, 0)), "service");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(req, 1)), "symptom");

    const char *names[] = {"service",        "symptom",       "time_range",     "env",
                           "include_traces", "max_log_lines", "log_query_hint", NULL};
    for (int i = 0; names[i]; i++) {
        json_object *p = get(props, names[i]);
        CU_ASSERT_PTR_NOT_NULL(p);
        CU_ASSERT_PTR_NOT_NULL(gets(p, "description"));
        CU_ASSERT_PTR_NOT_NULL(gets(p, "type"));
    }
    CU_ASSERT_EQUAL(json_object_object_length(props), 7);
    CU_ASSERT_STRING_EQUAL(gets(get(props, "service"), "type"), "string");
    CU_ASSERT_EQUAL(json_object_get_int(get(get(props, "service"), "minLength")), 1);
    CU_ASSERT_EQUAL(json_object_get_int(get(get(props, "service"), "maxLength")), 128);
    CU_ASSERT_EQUAL(json_object_get_int(get(get(props, "symptom"), "maxLength")), 1000);
    CU_ASSERT_STRING_EQUAL(gets(get(props, "env"), "default"), "prod");
    json_object *tr = get(props, "include_traces");
    CU_ASSERT_STRING_EQUAL(gets(tr, "type"), "boolean");
    CU_ASSERT_TRUE(json_object_is_type(get(tr, "default"), json_type_boolean));
    CU_ASSERT_FALSE(json_object_get_boolean(get(tr, "default")));
    json_object *ml = get(props, "max_log_lines");
    CU_ASSERT_STRING_EQUAL(gets(ml, "type"), "integer");
    CU_ASSERT_EQUAL(json_object_get_int(get(ml, "default")), 120);
    CU_ASSERT_EQUAL(json_object_get_int(get(ml, "minimum")), 1);
    CU_ASSERT_EQUAL(json_object_get_int(get(ml, "maximum")), 200);
    CU_ASSERT_TRUE(json_object_get_boolean(get(ml, "x-clamp")));
    json_object *trp = get(get(props, "time_range"), "properties");
    CU_ASSERT_STRING_EQUAL(gets(get(trp, "from"), "format"), "date-time");
    CU_ASSERT_STRING_EQUAL(gets(get(trp, "to"), "format"), "date-time");
    CU_ASSERT_PTR_NOT_NULL(gets(get(trp, "from"), "description"));
    CU_ASSERT_PTR_NULL(get(props, "time_range") ? get(get(props, "time_range"), "default") : NULL);
    json_object_put(s);
}

static void test_descriptor(void)
{
    const sv_graph *g = &sv_graph_descriptor;
    static const char *const order[] = {"validate_input",  "service_overview",
                                        "top_errors_logs", "health_and_runbooks",
                                        "trace_lookup",    "build_triage_report"};
    CU_ASSERT_EQUAL(g->abi_major, SV_ABI_MAJOR);
    CU_ASSERT_EQUAL(g->abi_minor, SV_ABI_MINOR);
    CU_ASSERT_EQUAL(g->size, sizeof(sv_graph));
    CU_ASSERT_STRING_EQUAL(g->name, "incident_triage");
    CU_ASSERT_STRING_EQUAL(g->entry, "validate_input");
    CU_ASSERT_PTR_NOT_NULL(g->prepare_input);
    CU_ASSERT_EQUAL_FATAL(g->n_nodes, 6);
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(g->nodes[i].name, order[i]);
        if (i < 5)
            CU_ASSERT_STRING_EQUAL(g->nodes[i].next, order[i + 1]);
    }
    CU_ASSERT_PTR_NULL(g->nodes[5].next);
}

/* ---- RFC 3339 ---------------------------------------------------------------- */

static void test_time_parse_format(void)
{
    int64_t ms = -1;
    char buf[IT_TS_LEN];
    CU_ASSERT_EQUAL(it_time_parse("1970-01-01T00:00:00Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 0);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23T10:00:00Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, NOW_MS);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23T12:00:00+02:00", &ms), 0);
    CU_ASSERT_EQUAL(ms, NOW_MS);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23t04:30:00.250-05:30", &ms), 0);
    CU_ASSERT_EQUAL(ms, NOW_MS + 250);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23 10:00:00z", &ms), 0);
    CU_ASSERT_EQUAL(it_time_parse("2024-02-29T00:00:00Z", &ms), 0);
    CU_ASSERT_EQUAL(it_time_parse("2023-02-29T00:00:00Z", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("2026-13-01T00:00:00Z", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23T24:00:00Z", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23T10:00:00", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23T10:00:00.Z", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23T10:00:00Z ", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("2026-02-23", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("yesterday", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse("", &ms), SV_EINVAL);
    CU_ASSERT_EQUAL(it_time_parse(NULL, &ms), SV_EINVAL);

    it_time_format(0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00Z");
    it_time_format(NOW_MS, buf);
    CU_ASSERT_STRING_EQUAL(buf, "2026-02-23T10:00:00Z");
    it_time_format(NOW_MS + 5, buf);
    CU_ASSERT_STRING_EQUAL(buf, "2026-02-23T10:00:00.005Z");
    it_time_format(-1, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:59.999Z");
    CU_ASSERT_EQUAL(it_time_parse("2024-02-29T23:59:59Z", &ms), 0);
    it_time_format(ms, buf);
    CU_ASSERT_STRING_EQUAL(buf, "2024-02-29T23:59:59Z");
}

/* ---- prepare_input ------------------------------------------------------------ */

/* Run prepare_input on input; returns rc, fills err and the window strings. */
static int prepare(const char *input, long max_h, sv_error *err, char *from, char *to,
                   json_object **out)
{
    mock_host *m = mock_host_new(input);
    if (max_h)
        mock_set_config(m, IT_MAX_WINDOW_KEY, max_h);
    int rc = mock_prepare(m, &sv_graph_descriptor, err);
    json_object *tr = get(mock_input(m), "time_range");
    if (from)
        snprintf(from, IT_TS_LEN, "%s", gets(tr, "from") ? gets(tr, "from") : "");
    if (to)
        snprintf(to, IT_TS_LEN, "%s", gets(tr, "to") ? gets(tr, "to") : "");
    if (out)
        json_object_deep_copy(mock_input(m), out, NULL);
    mock_host_free(m);
    return rc;
}

static void test_prepare_defaults(void)
{
    sv_error err;
    char from[IT_TS_LEN], to[IT_TS_LEN];
    json_object *in = NULL;
    CU_ASSERT_EQUAL(
        prepare("{\"service\":\"router\",\"symptom\":\"errors\"}", 0, &err, from, to, &in), 0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-23T09:00:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-23T10:00:00Z");
    CU_ASSERT_STRING_EQUAL(gets(in, "env"), "prod");
    CU_ASSERT_FALSE(json_object_get_boolean(get(in, "include_traces")));
    CU_ASSERT_EQUAL(json_object_get_int(get(in, "max_log_lines")), 120);
    /* No unknown field is added. */
    CU_ASSERT_EQUAL(json_object_object_length(in), 6);
    json_object_put(in);

    /* Only "to": one hour before it.  Only "from": up to now. */
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"to\":"
                            "\"2026-02-20T00:00:00Z\"}}",
                            0, &err, from, to, NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-19T23:00:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-20T00:00:00Z");
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-23T07:30:00Z\"}}",
                            0, &err, from, to, NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-23T07:30:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-23T10:00:00Z");
    /* An empty time_range object is the default too. */
    CU_ASSERT_EQUAL(
        prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{}}", 0, &err, from, to, NULL),
        0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-23T09:00:00Z");
}

static void test_prepare_clamp_window(void)
{
    sv_error err;
    char from[IT_TS_LEN], to[IT_TS_LEN];
    const char *in48 = "{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                       "\"2026-02-21T10:00:00Z\",\"to\":\"2026-02-23T10:00:00Z\"}}";
    /* 48h with the default 24h limit: the latest 24 hours are kept. */
    CU_ASSERT_EQUAL(prepare(in48, 0, &err, from, to, NULL), 0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-22T10:00:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-23T10:00:00Z");
    /* The deployment's INCIDENT_MAX_TIME_WINDOW_H. */
    CU_ASSERT_EQUAL(prepare(in48, 6, &err, from, to, NULL), 0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-23T04:00:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-23T10:00:00Z");
    /* A nonsense setting falls back to 24. */
    CU_ASSERT_EQUAL(prepare(in48, -5, &err, from, to, NULL), 0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-22T10:00:00Z");
    /* Exactly the limit is not clamped. */
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-22T10:00:00Z\",\"to\":\"2026-02-23T10:00:00Z\"}}",
                            0, &err, from, to, NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-22T10:00:00Z");

    it_window w;
    json_object *tr = json_tokener_parse("{\"from\":\"2026-02-21T10:00:00Z\"}");
    CU_ASSERT_EQUAL(it_window_resolve(tr, NOW_MS, 24, &w, &err), 0);
    CU_ASSERT_TRUE(w.clamped);
    CU_ASSERT_EQUAL(w.to_ms - w.from_ms, 24 * HOUR_MS);
    CU_ASSERT_EQUAL(w.to_ms, NOW_MS);
    json_object_put(tr);
}

static void test_prepare_offsets(void)
{
    sv_error err;
    char from[IT_TS_LEN], to[IT_TS_LEN];
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-23T11:00:00+02:00\",\"to\":\"2026-02-23T05:00:00.5-05:00\"}"
                            "}",
                            0, &err, from, to, NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-23T09:00:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-23T10:00:00.500Z");
}

static void test_prepare_errors(void)
{
    sv_error err;
    /* Reversed and empty ranges. */
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-23T10:00:00Z\",\"to\":\"2026-02-23T09:00:00Z\"}}",
                            0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range");
    CU_ASSERT_TRUE(contains(err.message, "before"));
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-23T10:00:00Z\",\"to\":\"2026-02-23T12:00:00+02:00\"}}",
                            0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range");
    /* "from" in the future with no "to" is reversed too. */
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-24T10:00:00Z\"}}",
                            0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range");
    /* Unparseable ends name their field. */
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"yesterday\"}}",
                            0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range.from");
    CU_ASSERT_STRING_EQUAL(err.code, "invalid_input");
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":"
                            "\"2026-02-23T09:00:00Z\",\"to\":\"2026-02-30T10:00:00Z\"}}",
                            0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range.to");
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":{\"from\":5}}", 0,
                            &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range.from");
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"time_range\":\"1h\"}", 0, &err,
                            NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "time_range");
    /* Required fields. */
    CU_ASSERT_EQUAL(prepare("{\"symptom\":\"b\"}", 0, &err, NULL, NULL, NULL), SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "service");
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"\"}", 0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "symptom");
    CU_ASSERT_EQUAL(prepare("{\"service\":7,\"symptom\":\"b\"}", 0, &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "service");
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"include_traces\":\"yes\"}", 0,
                            &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "include_traces");
}

static void test_prepare_log_lines(void)
{
    sv_error err;
    json_object *in = NULL;
    static const struct {
        const char *given;
        int want;
    } cases[] = {{"5000", 200}, {"200", 200}, {"0", 1}, {"-3", 1}, {"77", 77}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char input[128];
        snprintf(input, sizeof input, "{\"service\":\"a\",\"symptom\":\"b\",\"max_log_lines\":%s}",
                 cases[i].given);
        in = NULL;
        CU_ASSERT_EQUAL(prepare(input, 0, &err, NULL, NULL, &in), 0);
        CU_ASSERT_EQUAL(json_object_get_int(get(in, "max_log_lines")), cases[i].want);
        json_object_put(in);
    }
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"max_log_lines\":\"x\"}", 0,
                            &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "max_log_lines");
}

/* ---- signatures ------------------------------------------------------------- */

static void test_signature_table(void)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"Connection pool exhausted after 5000ms", "connection pool exhausted after <n>ms"},
        {"request 123e4567-e89b-12d3-a456-426614174000 failed", "request <uuid> failed"},
        {"connect to 10.0.3.17:5432 refused", "connect to <ip> refused"},
        {"peer 192.168.1.1 reset", "peer <ip> reset"},
        {"dial tcp [2001:db8::1]:443: i/o timeout", "dial tcp [<ip>]:<n>: i/o timeout"},
        {"bind ::1 failed", "bind <ip> failed"},
        {"fe80:0:0:0:200:f8ff:fe21:67cf down", "<ip> down"},
        {"object 0x7ffd5e8c freed twice", "object <hex> freed twice"},
        {"commit deadbeef12 broke the build", "commit <hex> broke the build"},
        {"retry 3 of 5 in 1.25s", "retry <n> of <n> in <n>s"},
        {"user \"alice\" not found", "user <str> not found"},
        {"key 'a b c' missing", "key <str> missing"},
        {"can't connect", "can't connect"},
        {"user=123 order=o12345x failed", "user=<n> order=<id> failed"},
        {"upstream returned 503", "upstream returned 503"},
        {"HTTP 504 Gateway Timeout", "http 504 gateway timeout"},
        {"status=502 from payments", "status=502 from payments"},
        {"retried 503 times", "retried <n> times"},
        {"at 10:00:00 job failed", "at <n>:<n>:<n> job failed"},
        {"pod router-7d9f8b6c5-x2b4q OOMKilled", "pod router-<hex>-<id> oomkilled"},
        {"pod router-7d9f8b6c5-qbwzt OOMKilled", "pod router-<hex>-<id> oomkilled"},
        {"request req-86734721 and req-8c38fb29", "request req-<hex> and req-<hex>"},
        {"charge ch_123456 at 1771840800000", "charge ch_<hex> at <hex>"},
        {"allocate 8388608-byte block", "allocate <n>-byte block"},
        {"latency p95 above 5xx budget v2", "latency p95 above 5xx budget v2"},
        {"  spaces\tand\nnewlines   ", "spaces and newlines"},
        {"", ""},
    };
    char out[IT_SIG_LEN];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        it_signature(t[i].in, out, sizeof out);
        if (strcmp(out, t[i].want) != 0)
            fprintf(stderr, "\nsignature of [%s]: got [%s], want [%s]\n", t[i].in, out, t[i].want);
        CU_ASSERT_STRING_EQUAL(out, t[i].want);
    }
    it_signature(NULL, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_signature_same_group(void)
{
    char a[IT_SIG_LEN], b[IT_SIG_LEN];
    it_signature("timeout acquiring connection after 5000ms (in_use=100/100) "
                 "request_id=req-8f3a2c1d user 42 at 10.1.2.3",
                 a, sizeof a);
    it_signature("timeout acquiring connection after 5003ms (in_use=99/100) "
                 "request_id=req-77ab01ff user 9000 at 10.9.9.9",
                 b, sizeof b);
    CU_ASSERT_STRING_EQUAL(a, b);
    it_signature("trace 550e8400-e29b-41d4-a716-446655440000 span 0xdeadbeef", a, sizeof a);
    it_signature("trace 6ba7b810-9dad-11d1-80b4-00c04fd430c8 span 0x1", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(a, b);
}

static void test_signature_bounds(void)
{
    size_t n = 100000;
    char *big = malloc(n + 1);
    char out[IT_SIG_LEN], small[8];
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    static const char pattern[] = "a1 \"x'\xc3\xa9:0x.";
    for (size_t i = 0; i < n; i++)
        big[i] = pattern[i % (sizeof pattern - 1)];
    big[n] = '\0';
    it_signature(big, out, sizeof out);
    CU_ASSERT_TRUE(strlen(out) < IT_SIG_LEN);
    it_signature(big, small, sizeof small);
    CU_ASSERT_TRUE(strlen(small) < sizeof small);
    /* Broken UTF-8 becomes '?', never a half character. */
    it_signature("bad \xc3 byte \xff end", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "bad ? byte ? end");
    free(big);
}

/* ---- groups ------------------------------------------------------------------ */

static void test_groups_rank(void)
{
    it_groups g = {0};
    const char *msgs[] = {"b failed 1", "a failed 1", "a failed 2", "c broke",
                          "b failed 7", "a failed 3", "d broke",    "c broke"};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
        CU_ASSERT_EQUAL(it_groups_add(&g, msgs[i]), 0);
    it_groups_rank(&g);
    CU_ASSERT_EQUAL_FATAL(g.n, 4);
    CU_ASSERT_EQUAL(g.lines, 8);
    CU_ASSERT_STRING_EQUAL(g.v[0].sig, "a failed <n>");
    CU_ASSERT_EQUAL(g.v[0].count, 3);
    CU_ASSERT_STRING_EQUAL(g.v[0].sample, "a failed 1");
    /* b and c both have 2: b was seen first. */
    CU_ASSERT_STRING_EQUAL(g.v[1].sig, "b failed <n>");
    CU_ASSERT_STRING_EQUAL(g.v[2].sig, "c broke");
    CU_ASSERT_STRING_EQUAL(g.v[3].sig, "d broke");
    it_groups_free(&g);
}

static void test_logs_digest(void)
{
    char why[200] = "";
    json_object *d = NULL;
    json_object *data = json_tokener_parse(POOL_LOGS);
    CU_ASSERT_EQUAL(it_logs_digest(data, 120, &d, why, sizeof why), 0);
    dump("logs digest", d);
    CU_ASSERT_EQUAL(json_object_get_int(get(d, "total")), 11);
    CU_ASSERT_EQUAL(json_object_get_int(get(d, "analysed")), 9);
    json_object *groups = get(d, "groups");
    CU_ASSERT_EQUAL(alen(groups), 3);
    CU_ASSERT_EQUAL(json_object_get_int(get(idx(groups, 0), "count")), 6);
    CU_ASSERT_TRUE(contains(gets(idx(groups, 0), "sig"), "connection pool exhausted"));
    CU_ASSERT_EQUAL(json_object_get_int(get(idx(groups, 1), "count")), 2);
    json_object *ids = get(d, "trace_ids");
    CU_ASSERT_EQUAL_FATAL(alen(ids), 5);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(ids, 0)), "t-0001");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(ids, 1)), "t-0002");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(ids, 2)), "t-0003");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(ids, 3)), "t-0004");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(ids, 4)), "t-0005");
    json_object_put(d);

    /* Only the first `limit` lines count. */
    CU_ASSERT_EQUAL(it_logs_digest(data, 2, &d, why, sizeof why), 0);
    CU_ASSERT_EQUAL(json_object_get_int(get(d, "analysed")), 2);
    CU_ASSERT_EQUAL(alen(get(d, "groups")), 1);
    json_object_put(d);
    json_object_put(data);

    /* Info lines are no errors, but a deploy among them is remembered. */
    data = json_tokener_parse(
        "{\"lines\":[\"plain string line 1\",{\"level\":\"INFO\",\"message\":\"deploy v2.3.1 "
        "rolled out\"},{\"level\":\"error\",\"message\":\"boom\"},null,5,{\"message\":7},"
        "{\"level\":\"error\",\"message\":\"x\",\"trace_id\":\"has space\"}],\"total\":\"?\"}");
    CU_ASSERT_EQUAL(it_logs_digest(data, 200, &d, why, sizeof why), 0);
    CU_ASSERT_EQUAL(json_object_get_int(get(d, "analysed")), 3);
    CU_ASSERT_EQUAL(json_object_get_int(get(d, "total")), 7);
    CU_ASSERT_EQUAL(json_object_get_int(get(d, "deploy_lines")), 1);
    CU_ASSERT_STRING_EQUAL(gets(d, "deploy_sample"), "deploy v2.3.1 rolled out");
    CU_ASSERT_EQUAL(alen(get(d, "trace_ids")), 0);
    json_object_put(d);
    json_object_put(data);

    data = json_tokener_parse("{\"lines\":\"nope\"}");
    CU_ASSERT_EQUAL(it_logs_digest(data, 120, &d, why, sizeof why), SV_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_TRUE(contains(why, "bad_response"));
    json_object_put(data);
    CU_ASSERT_EQUAL(it_logs_digest(NULL, 120, &d, why, sizeof why), SV_EINVAL);
}

/* ---- causes ---------------------------------------------------------------- */

static void test_cause_classify(void)
{
    static const struct {
        const char *text;
        int want;
    } t[] = {
        {"connection pool exhausted: <n> of <n> in use", IT_CAUSE_POOL},
        {"fatal: remaining connection slots are reserved", IT_CAUSE_POOL},
        {"pq: sorry, too many clients already", IT_CAUSE_POOL},
        {"timeout acquiring connection after <n>ms", IT_CAUSE_POOL},
        {"hikaripool-<n> - connection is not available, request timed out", IT_CAUSE_POOL},
        {"container killed: oomkilled", IT_CAUSE_MEMORY},
        {"java.lang.outofmemoryerror: java heap space", IT_CAUSE_MEMORY},
        {"pod oom killed", IT_CAUSE_MEMORY},
        {"runtime: cannot allocate memory", IT_CAUSE_MEMORY},
        {"upstream timed out (<n>: connection timed out) while reading", IT_CAUSE_TIMEOUT},
        {"rpc error: code = deadlineexceeded desc = context deadline exceeded", IT_CAUSE_TIMEOUT},
        {"http 504 gateway timeout", IT_CAUSE_TIMEOUT},
        {"net/http: read timeout", IT_CAUSE_TIMEOUT},
        {"upstream returned 503 service unavailable", IT_CAUSE_DEP5XX},
        {"payments: 502 bad gateway", IT_CAUSE_DEP5XX},
        {"circuit breaker open for inventory", IT_CAUSE_DEP5XX},
        {"payments upstream 5xx", IT_CAUSE_DEP5XX},
        {"deployment router-v2 started", IT_CAUSE_DEPLOY},
        {"rollout of v2.3.1 complete", IT_CAUSE_DEPLOY},
        {"high error rate after release", IT_CAUSE_DEPLOY},
        {"user <n> not found", IT_CAUSE_NONE},
        {"room booking failed", IT_CAUSE_NONE},
        {"connection released to the pool", IT_CAUSE_NONE},
        {"took 15045ms", IT_CAUSE_NONE},
        {"", IT_CAUSE_NONE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = it_cause_classify(t[i].text);
        if (got != t[i].want)
            fprintf(stderr, "\nclassify [%s]: got %d, want %d\n", t[i].text, got, t[i].want);
        CU_ASSERT_EQUAL(got, t[i].want);
    }
    CU_ASSERT_EQUAL(it_cause_classify(NULL), IT_CAUSE_NONE);
    char w[128];
    CU_ASSERT_STRING_EQUAL(it_text_words("DBConnectionPoolExhausted", w, sizeof w),
                           "db connection pool exhausted");
    CU_ASSERT_EQUAL(it_cause_classify(w), IT_CAUSE_POOL);
    CU_ASSERT_STRING_EQUAL(it_text_words("PodOOMKilled", w, sizeof w), "pod oom killed");
    CU_ASSERT_STRING_EQUAL(it_text_words("High5xxRate", w, sizeof w), "high 5xx rate");
    CU_ASSERT_STRING_EQUAL(it_text_words("upstream_timeout-high", w, sizeof w),
                           "upstream timeout high");
    CU_ASSERT_EQUAL(it_cause_classify(w), IT_CAUSE_TIMEOUT);
}

/* A state as the source nodes leave it, from literal digests. */
static json_object *state_of(const char *overview, const char *logs, const char *health,
                             const char *symptom)
{
    char why[200];
    json_object *st = json_object_new_object(), *d = NULL, *data;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "service", json_object_new_string("router"));
    json_object_object_add(p, "env", json_object_new_string("prod"));
    json_object_object_add(p, "symptom", json_object_new_string(symptom));
    json_object_object_add(p, "from", json_object_new_string("2026-02-23T09:00:00Z"));
    json_object_object_add(p, "to", json_object_new_string("2026-02-23T10:00:00Z"));
    json_object_object_add(p, "window_h", json_object_new_double(1.0));
    json_object_object_add(p, "max_h", json_object_new_int(24));
    json_object_object_add(p, "clamped", json_object_new_boolean(0));
    json_object_object_add(p, "limit", json_object_new_int(120));
    json_object_object_add(st, "params", p);
    json_object_object_add(st, "data_gaps", json_object_new_array());
    json_object_object_add(st, "attempted", json_object_new_int(4));
    json_object_object_add(st, "failed", json_object_new_int(0));
    if (overview && (data = json_tokener_parse(overview))) {
        if (it_overview_digest(data, &d, why, sizeof why) == 0)
            json_object_object_add(st, "overview", d);
        json_object_put(data);
    }
    if (logs && (data = json_tokener_parse(logs))) {
        if (it_logs_digest(data, 120, &d, why, sizeof why) == 0)
            json_object_object_add(st, "logs", d);
        json_object_put(data);
    }
    if (health && (data = json_tokener_parse(health))) {
        if (it_health_digest(data, &d, why, sizeof why) == 0)
            json_object_object_add(st, "health", d);
        json_object_put(data);
    }
    return st;
}

/* n error lines of message msg as a logs_query answer. */
static char *lines_of(const char *msg1, int n1, const char *msg2, int n2)
{
    it_buf b = {0};
    it_buf_cat(&b, "{\"lines\":[");
    for (int i = 0; i < n1 + n2; i++)
        it_buf_printf(&b, "%s{\"level\":\"error\",\"message\":\"%s %d\"}", i ? "," : "",
                      i < n1 ? msg1 : msg2, i);
    it_buf_cat(&b, "]}");
    char *s = strdup(it_buf_str(&b));
    it_buf_free(&b);
    return s;
}

static void test_causes_pool_and_deploy(void)
{
    it_ranking r;
    json_object *causes = NULL;
    json_object *st =
        state_of(POOL_OVERVIEW, POOL_LOGS, POOL_HEALTH, "High error rate after deploy");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    dump("pool causes", causes);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_POOL);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_DEPLOY);
    CU_ASSERT_EQUAL(r.top_lines, 6);
    json_object *c0 = idx(causes, 0), *c1 = idx(causes, 1);
    CU_ASSERT_EQUAL(json_object_get_int(get(c0, "rank")), 1);
    CU_ASSERT_STRING_EQUAL(gets(c0, "cause"), "DB connection-pool exhaustion");
    json_object *ev = get(c0, "evidence");
    CU_ASSERT_TRUE(contains(json_object_get_string(idx(ev, 0)),
                            "6\xc3\x97 connection pool exhausted: timeout acquiring connection"));
    CU_ASSERT_TRUE(any_contains(ev, "alert DBConnectionPoolExhausted (critical) firing"));
    CU_ASSERT_TRUE(any_contains(ev, "health check db: fail - connection pool 100/100 in use"));
    CU_ASSERT_TRUE(any_contains(ev, "metric db_pool_in_use=100"));
    CU_ASSERT_EQUAL(json_object_get_int(get(c1, "rank")), 2);
    CU_ASSERT_STRING_EQUAL(gets(c1, "cause"), "Recent deploy");
    CU_ASSERT_TRUE(any_contains(get(c1, "evidence"), "alert DeployRollout"));
    CU_ASSERT_TRUE(any_contains(get(c1, "evidence"), "symptom: \"High error rate after deploy\""));
    json_object_put(causes);
    json_object_put(st);
}

static void test_causes_ranking_by_score(void)
{
    it_ranking r;
    json_object *causes = NULL;
    /* 30 timeouts beat 5 pool errors plus a pool alert (5 + 10). */
    char *logs = lines_of("upstream inventory timed out after 3000 ms", 30,
                          "too many connections for role app", 5);
    json_object *st = state_of("{\"slo\":{\"latency_p95_ms\":4200},\"alerts\":[{\"name\":"
                               "\"DBPoolExhausted\"}]}",
                               logs, NULL, "slow checkout");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_TIMEOUT);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_POOL);
    CU_ASSERT_STRING_EQUAL(gets(idx(causes, 0), "cause"), "Upstream timeouts");
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "metric latency_p95_ms=4200"));
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "30\xc3\x97 upstream"));
    json_object_put(causes);
    json_object_put(st);
    free(logs);

    /* Memory from logs and an alert; 5xx from logs. */
    logs = lines_of("worker killed: OOMKilled (limit 512Mi)", 4,
                    "payments answered 502 Bad "
                    "Gateway",
                    6);
    st = state_of("{\"alerts\":[{\"name\":\"PodOOMKilled\",\"severity\":\"warning\"}],"
                  "\"metrics\":{\"memory_usage_pct\":97,\"restarts\":4}}",
                  logs, NULL, "pods restarting");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_MEMORY); /* 4 + 10 > 6 */
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_DEP5XX);
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "metric memory_usage_pct=97"));
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "metric restarts=4"));
    CU_ASSERT_STRING_EQUAL(gets(idx(causes, 1), "cause"), "Dependency 5xx errors");
    json_object_put(causes);
    json_object_put(st);
    free(logs);
}

static void test_causes_unknown_and_healthy(void)
{
    it_ranking r;
    json_object *causes = NULL;
    char *logs = lines_of("NullPointerException in OrderMapper.map", 7, "bad json at line", 2);
    json_object *st = state_of("{\"slo\":{\"error_rate\":0.01}}", logs, NULL, "errors");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(alen(causes), 1);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_UNKNOWN);
    CU_ASSERT_EQUAL(r.top_lines, 7);
    CU_ASSERT_TRUE(contains(gets(idx(causes, 0), "cause"),
                            "Unknown: no known pattern matched; top error signature "
                            "\"nullpointerexception in ordermapper.map <n>\""));
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "7\xc3\x97 NullPointer"));
    json_object_put(causes);
    json_object_put(st);
    free(logs);

    /* Healthy: no errors, no alerts, health ok; a deploy in the symptom is
     * no cause of nothing. */
    st = state_of("{\"slo\":{\"error_rate\":0.0001},\"alerts\":[]}", "{\"lines\":[]}",
                  "{\"status\":\"ok\",\"checks\":[{\"name\":\"db\",\"status\":\"ok\"}]}",
                  "users say it is slow since the deploy");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL(alen(causes), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    json_object_put(causes);
    json_object_put(st);

    /* Trouble with no known pattern: an unknown cause from the checks. */
    st = state_of("{\"alerts\":[{\"name\":\"KubePodCrashLooping\"}]}", "{\"lines\":[]}",
                  "{\"status\":\"down\",\"checks\":[{\"name\":\"http\",\"status\":\"fail\","
                  "\"detail\":\"connection refused\"}]}",
                  "site down");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(alen(causes), 1);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_UNKNOWN);
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "alert KubePodCrashLooping"));
    CU_ASSERT_TRUE(any_contains(get(idx(causes, 0), "evidence"), "health check http: fail"));
    json_object_put(causes);
    json_object_put(st);
}

/* ---- report wording --------------------------------------------------------- */

static void test_summary_and_impact(void)
{
    it_ranking r;
    it_buf b = {0};
    json_object *causes = NULL;
    json_object *st =
        state_of(POOL_OVERVIEW, POOL_LOGS, POOL_HEALTH, "High error rate after deploy");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    it_summary(st, &r, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "router (prod), 2026-02-23T09:00:00Z to 2026-02-23T10:00:00Z: most "
                           "likely DB connection-pool exhaustion (6 of 9 error lines); also a "
                           "recent deploy.");
    it_buf_reset(&b);
    it_impact(st, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "SLO impact: error_rate=2.1%, latency_p95_ms=850, availability=99.2%; "
                           "2 alerts firing; health: degraded; 11 error lines in the window (9 "
                           "analysed).");
    /* A data gap is named in a second sentence. */
    json_object *g = json_object_new_object();
    json_object_object_add(g, "node", json_object_new_string("trace_lookup"));
    json_object_object_add(g, "tool", json_object_new_string("observability_tool"));
    json_object_object_add(g, "error", json_object_new_string("forbidden: denied by RBAC"));
    json_object_array_add(get(st, "data_gaps"), g);
    it_buf_reset(&b);
    it_summary(st, &r, &b);
    CU_ASSERT_TRUE(contains(it_buf_str(&b), ". Data gaps: trace_lookup (observability_tool: "
                                            "forbidden); the report uses the other sources."));
    json_object_put(causes);
    json_object_put(st);

    /* Percent figures stay percent; the max window is said. */
    st = state_of("{\"slo\":{\"error_rate\":2.5,\"availability\":99.9,\"latency_p95_ms\":120.5}}",
                  "{\"lines\":[]}", "{\"status\":\"ok\"}", "latency spike reported");
    json_object_object_add(get(st, "params"), "window_h", json_object_new_double(24.0));
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    it_buf_reset(&b);
    it_summary(st, &r, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "router (prod), 2026-02-23T09:00:00Z to 2026-02-23T10:00:00Z (the 24h "
                           "maximum window): no errors found in the logs, health ok, 0 alert(s) "
                           "firing; no clear cause for \"latency spike reported\".");
    it_buf_reset(&b);
    it_impact(st, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "SLO impact: error_rate=2.5%, latency_p95_ms=120.5, "
                           "availability=99.9%; 0 alerts firing; health: ok; 0 error lines in the "
                           "window (0 analysed).");
    json_object_put(causes);
    json_object_put(st);

    /* No overview at all. */
    st = state_of(NULL, "{\"lines\":[]}", NULL, "x");
    it_buf_reset(&b);
    it_impact(st, &b);
    CU_ASSERT_TRUE(contains(it_buf_str(&b), "SLO impact: unknown (service_overview data "
                                            "missing: not collected)"));
    CU_ASSERT_TRUE(contains(it_buf_str(&b), "health: unknown"));
    json_object_put(st);
    it_buf_free(&b);

    char num[32];
    it_text_number(0.021 * 100, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "2.1");
    it_text_number(850, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "850");
    it_text_number(0.00012, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "0.0001");
    it_text_number(-0.0, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "0");
}

static void test_mitigations_and_checks(void)
{
    it_ranking r;
    json_object *causes = NULL, *data = json_tokener_parse(POOL_RUNBOOKS), *rb = NULL;
    char why[200];
    json_object *st =
        state_of(POOL_OVERVIEW, POOL_LOGS, POOL_HEALTH, "High error rate after deploy");
    CU_ASSERT_EQUAL(it_runbooks_digest(data, &rb, why, sizeof why), 0);
    json_object_object_add(st, "runbooks", rb);
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    json_object *mit = it_mitigations(st, &r);
    json_object *next = it_next_checks(st, &r);
    dump("mitigations", mit);
    dump("next_checks", next);
    CU_ASSERT_TRUE(contains(json_object_get_string(idx(mit, 0)), "Increase DB pool size"));
    CU_ASSERT_TRUE(any_contains(mit, "Roll back the latest deploy"));
    CU_ASSERT_TRUE(any_contains(mit, "Increase ROUTER_DB_POOL_SIZE to 200 and restart the pods"));
    CU_ASSERT_TRUE(any_contains(mit, "Kill idle-in-transaction sessions older than 5 minutes"));
    CU_ASSERT_FALSE(any_contains(mit, "Background"));
    CU_ASSERT_FALSE(any_contains(mit, "Check active connections"));
    CU_ASSERT_TRUE(alen(mit) <= IT_MAX_MITIGATIONS);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(idx(next, 0)),
                           "Verify healthz: db is fail (connection pool 100/100 in use)");
    CU_ASSERT_TRUE(any_contains(next, "Check DB active connections against the pool size"));
    CU_ASSERT_TRUE(any_contains(next, "Check active connections in pg_stat_activity"));
    CU_ASSERT_TRUE(any_contains(next, "Look up traces t-0001, t-0002, t-0003, t-0004, t-0005 (run "
                                      "again with include_traces=true)"));
    /* Deduplicated. */
    for (size_t i = 0; i < alen(mit); i++)
        for (size_t j = i + 1; j < alen(mit); j++)
            CU_ASSERT_STRING_NOT_EQUAL(json_object_get_string(idx(mit, i)),
                                       json_object_get_string(idx(mit, j)));
    json_object_put(mit);
    json_object_put(next);
    json_object_put(causes);
    json_object_put(data);
    json_object_put(st);
}

static void test_all_sources_failed(void)
{
    char why[256];
    json_object *st = state_of(NULL, NULL, NULL, "x");
    json_object_object_add(st, "failed", json_object_new_int(4));
    CU_ASSERT_TRUE(it_all_sources_failed(st, why, sizeof why));
    CU_ASSERT_TRUE(contains(why, "every data source failed"));
    json_object_object_add(st, "failed", json_object_new_int(3));
    CU_ASSERT_FALSE(it_all_sources_failed(st, why, sizeof why));
    json_object_put(st);
}

/* ---- whole runs on the mock host -------------------------------------------- */

static const char *const PATH_ALL = "validate_input,service_overview,top_errors_logs,"
                                    "health_and_runbooks,trace_lookup,build_triage_report";

static void assert_result_shape(json_object *res)
{
    static const char *const keys[] = {"summary",           "suspected_root_causes",
                                       "impact_assessment", "mitigations_now",
                                       "next_checks",       "references",
                                       "data_gaps",         NULL};
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    CU_ASSERT_EQUAL(json_object_object_length(res), 7);
    for (int i = 0; keys[i]; i++)
        CU_ASSERT_PTR_NOT_NULL(get(res, keys[i]));
    CU_ASSERT_TRUE(json_object_is_type(get(res, "summary"), json_type_string));
    CU_ASSERT_TRUE(json_object_is_type(get(res, "suspected_root_causes"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(get(res, "impact_assessment"), json_type_string));
    CU_ASSERT_TRUE(json_object_is_type(get(res, "mitigations_now"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(get(res, "next_checks"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(get(res, "data_gaps"), json_type_array));
    json_object *causes = get(res, "suspected_root_causes");
    for (size_t i = 0; i < alen(causes); i++) {
        json_object *c = idx(causes, i);
        CU_ASSERT_EQUAL(json_object_object_length(c), 3);
        CU_ASSERT_EQUAL(json_object_get_int(get(c, "rank")), (int)i + 1);
        CU_ASSERT_PTR_NOT_NULL(gets(c, "cause"));
        CU_ASSERT_TRUE(json_object_is_type(get(c, "evidence"), json_type_array));
    }
    json_object *ref = get(res, "references");
    CU_ASSERT_EQUAL(json_object_object_length(ref), 4);
    json_object *metrics = get(ref, "metrics");
    CU_ASSERT_TRUE(json_object_is_type(get(metrics, "slo"), json_type_object));
    CU_ASSERT_TRUE(json_object_is_type(get(metrics, "alerts_count"), json_type_int));
    CU_ASSERT_TRUE(json_object_is_type(get(ref, "log_samples"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(get(ref, "runbook_snippets"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(get(get(ref, "traces"), "traces"), json_type_array));
    for (size_t i = 0; i < alen(get(res, "data_gaps")); i++) {
        json_object *g = idx(get(res, "data_gaps"), i);
        CU_ASSERT_EQUAL(json_object_object_length(g), 3);
        CU_ASSERT_PTR_NOT_NULL(gets(g, "node"));
        CU_ASSERT_PTR_NOT_NULL(gets(g, "tool"));
        CU_ASSERT_PTR_NOT_NULL(gets(g, "error"));
    }
}

static void test_run_pool(void)
{
    sv_error err;
    mock_host *m = pool_mock(NULL);
    CU_ASSERT_EQUAL_FATAL(mock_prepare(m, &sv_graph_descriptor, &err), 0);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), PATH_ALL);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    CU_ASSERT_EQUAL_FATAL(mock_n_calls(m), 5);

    /* The calls, in order, with their exact params. */
    static const char *const want[][3] = {
        {"observability_tool", "service_overview",
         "{ \"service\": \"router\", \"env\": \"prod\", \"time_range\": { \"from\": "
         "\"2026-02-23T09:00:00Z\", \"to\": \"2026-02-23T10:00:00Z\" } }"},
        {"observability_tool", "logs_query",
         "{ \"service\": \"router\", \"env\": \"prod\", \"time_range\": { \"from\": "
         "\"2026-02-23T09:00:00Z\", \"to\": \"2026-02-23T10:00:00Z\" }, \"query\": "
         "\"level:error OR level:fatal\", \"limit\": 120 }"},
        {"oncall_tool", "service_health", "{ \"service\": \"router\", \"env\": \"prod\" }"},
        {"kb_tool", "runbook_search", NULL},
        {"observability_tool", "traces_query",
         "{ \"trace_ids\": [ \"t-0001\", \"t-0002\", \"t-0003\", \"t-0004\", \"t-0005\" ] }"},
    };
    for (int i = 0; i < 5; i++) {
        const mock_call *c = mock_get_call(m, i);
        CU_ASSERT_STRING_EQUAL(c->tool, want[i][0]);
        CU_ASSERT_STRING_EQUAL(c->action, want[i][1]);
        if (want[i][2])
            CU_ASSERT_STRING_EQUAL(json_object_to_json_string(c->params), want[i][2]);
    }
    const mock_call *rb = mock_get_call(m, 3);
    CU_ASSERT_STRING_EQUAL(gets(rb->params, "service"), "router");
    CU_ASSERT_EQUAL(json_object_get_int(get(rb->params, "limit")), 3);
    CU_ASSERT_STRING_EQUAL(gets(rb->params, "query"),
                           "High error rate after deploy connection pool exhausted timeout "
                           "acquiring connection after ms in_use request_id req");
    CU_ASSERT_EQUAL(json_object_object_length(rb->params), 3);
    CU_ASSERT_STRING_EQUAL(mock_get_call(m, 0)->node, "service_overview");
    CU_ASSERT_STRING_EQUAL(mock_get_call(m, 3)->node, "health_and_runbooks");

    json_object *res = mock_result(m);
    dump("pool result", res);
    assert_result_shape(res);
    json_object *c0 = idx(get(res, "suspected_root_causes"), 0);
    CU_ASSERT_STRING_EQUAL(gets(c0, "cause"), "DB connection-pool exhaustion");
    CU_ASSERT_TRUE(any_contains(get(c0, "evidence"), "6\xc3\x97 connection pool exhausted"));
    CU_ASSERT_TRUE(contains(gets(res, "impact_assessment"), "error_rate=2.1%"));
    CU_ASSERT_TRUE(contains(gets(res, "summary"), "most likely DB connection-pool exhaustion"));
    CU_ASSERT_EQUAL(alen(get(res, "data_gaps")), 0);
    json_object *ref = get(res, "references");
    CU_ASSERT_EQUAL(json_object_get_int(get(get(ref, "metrics"), "alerts_count")), 2);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string(get(get(ref, "metrics"), "slo")),
                           "{ \"error_rate\": 0.021, \"latency_p95_ms\": 850, \"availability\": "
                           "0.992 }");
    CU_ASSERT_EQUAL(alen(get(ref, "log_samples")), 3);
    CU_ASSERT_STRING_EQUAL(gets(idx(get(ref, "runbook_snippets"), 0), "path"),
                           "runbooks/router/db-pool.md");
    CU_ASSERT_EQUAL(alen(get(get(ref, "traces"), "traces")), 1);
    CU_ASSERT_TRUE(any_contains(get(res, "next_checks"), "Inspect traces t-0001"));
    /* The state stays compact: digests, not answers. */
    CU_ASSERT_TRUE(strlen(json_object_to_json_string(mock_state(m))) < 16384);
    mock_host_free(m);
}

static void test_run_no_traces_when_not_asked(void)
{
    sv_error err;
    mock_host *m = pool_mock("{\"service\":\"router\",\"symptom\":\"errors\"}");
    CU_ASSERT_EQUAL_FATAL(mock_prepare(m, &sv_graph_descriptor, &err), 0);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), PATH_ALL);
    CU_ASSERT_EQUAL(mock_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_EQUAL(mock_n_calls(m), 4);
    json_object *res = mock_result(m);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(alen(get(get(get(res, "references"), "traces"), "traces")), 0);
    CU_ASSERT_TRUE(any_contains(get(res, "next_checks"), "include_traces=true"));
    mock_host_free(m);

    /* Asked for, but the logs carry no trace ids: no call either. */
    m = mock_host_new("{\"service\":\"router\",\"symptom\":\"errors\",\"include_traces\":true}");
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, POOL_OVERVIEW, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK,
                    "{\"lines\":[{\"level\":\"error\",\"message\":\"x\"}]}", NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, POOL_HEALTH, NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, "{\"results\":[]}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    CU_ASSERT_EQUAL(mock_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_STRING_EQUAL(gets(mock_state(m), "traces_note"), "no_trace_ids");
    mock_host_free(m);
}

static void test_run_traces_denied(void)
{
    sv_error err;
    mock_host *m = mock_host_new(POOL_INPUT);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, POOL_OVERVIEW, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, POOL_LOGS, NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, POOL_HEALTH, NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, POOL_RUNBOOKS, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_TRACES, SV_ETOOL, NULL, "forbidden");
    CU_ASSERT_EQUAL_FATAL(mock_prepare(m, &sv_graph_descriptor, &err), 0);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    json_object *res = mock_result(m);
    dump("traces denied", res);
    assert_result_shape(res);
    json_object *gaps = get(res, "data_gaps");
    CU_ASSERT_EQUAL_FATAL(alen(gaps), 1);
    CU_ASSERT_STRING_EQUAL(gets(idx(gaps, 0), "node"), "trace_lookup");
    CU_ASSERT_STRING_EQUAL(gets(idx(gaps, 0), "tool"), "observability_tool");
    CU_ASSERT_TRUE(contains(gets(idx(gaps, 0), "error"), "forbidden"));
    CU_ASSERT_TRUE(contains(gets(res, "summary"), "Data gaps: trace_lookup"));
    CU_ASSERT_STRING_EQUAL(gets(idx(get(res, "suspected_root_causes"), 0), "cause"),
                           "DB connection-pool exhaustion");
    CU_ASSERT_TRUE(any_contains(get(res, "next_checks"), "by hand: traces_query failed"));
    mock_host_free(m);
}

static void test_run_all_sources_fail(void)
{
    sv_error err;
    mock_host *m = mock_host_new(POOL_INPUT);
    /* Nothing queued: every call fails ("no_mock_answer"). */
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_ETOOL, NULL, "unavailable");
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_ETOOL, NULL, "timeout");
    CU_ASSERT_EQUAL_FATAL(mock_prepare(m, &sv_graph_descriptor, &err), 0);
    int rc = mock_run(m, &sv_graph_descriptor, 20, 0);
    CU_ASSERT_EQUAL(rc, SV_ERR);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "all_sources_failed");
    CU_ASSERT_TRUE(contains(mock_fail_message(m), "every data source failed"));
    CU_ASSERT_PTR_NULL(mock_result(m));
    /* Traces were not asked for: no ids, so four sources tried. */
    CU_ASSERT_EQUAL(mock_n_calls(m), 4);
    CU_ASSERT_EQUAL(json_object_get_int(get(mock_state(m), "failed")), 4);
    mock_host_free(m);

    /* One source answering is enough for a report. */
    m = mock_host_new(POOL_INPUT);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, POOL_RUNBOOKS, NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    json_object *res = mock_result(m);
    dump("only runbooks", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(alen(get(res, "data_gaps")), 3);
    CU_ASSERT_TRUE(contains(gets(res, "impact_assessment"), "unknown"));
    mock_host_free(m);
}

static void test_run_garbage_answers(void)
{
    mock_host *m = mock_host_new(POOL_INPUT);
    /* data null, lines not an array, health an array, results null. */
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, NULL, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, "{\"lines\":{\"a\":1},\"total\":-5}", NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, "[1,2,3]", NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK,
                    "{\"results\":[null,7,{\"path\":5,\"text\":null},{\"path\":\"p\",\"text\":"
                    "\"Restart it.\"}]}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    json_object *res = mock_result(m);
    dump("garbage", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(alen(get(res, "data_gaps")), 3);
    CU_ASSERT_TRUE(contains(gets(idx(get(res, "data_gaps"), 0), "error"), "bad_response"));
    /* Results without path or text are dropped. */
    CU_ASSERT_EQUAL(alen(get(get(res, "references"), "runbook_snippets")), 1);
    CU_ASSERT_TRUE(any_contains(get(res, "next_checks"), "Check by hand what service_overview"));
    mock_host_free(m);

    /* Wrong types everywhere inside otherwise good shapes. */
    m = mock_host_new(POOL_INPUT);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK,
                    "{\"slo\":\"bad\",\"alerts\":[null,1,\"StringAlert\",{\"name\":7},"
                    "{\"name\":\"Mem\\u0000High\",\"severity\":[1]}],\"metrics\":[1,2]}",
                    NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK,
                    "{\"lines\":[null,1,true,[],{},{\"message\":null},{\"message\":\"\"},"
                    "{\"message\":\"ok\",\"trace_id\":42}]}",
                    NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK,
                    "{\"status\":5,\"checks\":[null,{\"name\":null},{\"name\":\"x\",\"status\":"
                    "{},\"detail\":[]}]}",
                    NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, "{\"results\":[]}", NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_TRACES, SV_OK, "{\"traces\":\"none\"}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    res = mock_result(m);
    dump("wrong types", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(
        json_object_get_int(get(get(get(res, "references"), "metrics"), "alerts_count")), 2);
    /* Only "ok" is a line: null, numbers, empty messages are not. */
    CU_ASSERT_EQUAL(json_object_get_int(get(get(mock_state(m), "logs"), "analysed")), 1);
    /* trace_id 42 is no id: traces_query is not called. */
    CU_ASSERT_EQUAL(mock_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_EQUAL(alen(get(res, "data_gaps")), 0);
    mock_host_free(m);
}

static void test_run_huge_logs(void)
{
    it_buf b = {0};
    it_buf_cat(&b, "{\"total\":10000,\"lines\":[");
    for (int i = 0; i < 10000; i++)
        it_buf_printf(&b,
                      "%s{\"ts\":\"2026-02-23T09:%02d:00Z\",\"level\":\"error\",\"message\":"
                      "\"upstream payments timed out after %d ms (attempt %d) id=%08x\","
                      "\"trace_id\":\"tr-%d\"}",
                      i ? "," : "", i % 60, 3000 + i, i % 4, (unsigned)i * 2654435761u, i);
    it_buf_cat(&b, "]}");
    CU_ASSERT_FALSE_FATAL(b.oom);

    /* A 100 KB message and a deep answer on the overview. */
    it_buf o = {0};
    it_buf_cat(&o, "{\"slo\":{\"error_rate\":0.3},\"alerts\":[");
    for (int i = 0; i < 5000; i++)
        it_buf_printf(&o, "%s{\"name\":\"UpstreamTimeout%d\"}", i ? "," : "", i);
    it_buf_cat(&o, "]}");

    mock_host *m = mock_host_new("{\"service\":\"router\",\"symptom\":\"timeouts\","
                                 "\"max_log_lines\":200,\"include_traces\":true}");
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, it_buf_str(&o), NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, it_buf_str(&b), NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, "{\"status\":\"degraded\"}", NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, "{\"results\":[]}", NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_TRACES, SV_OK, "{\"traces\":[]}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    json_object *res = mock_result(m);
    assert_result_shape(res);
    json_object *logs = get(mock_state(m), "logs");
    CU_ASSERT_EQUAL(json_object_get_int(get(logs, "analysed")), 200);
    CU_ASSERT_EQUAL(json_object_get_int(get(logs, "total")), 10000);
    CU_ASSERT_EQUAL(alen(get(logs, "groups")), 1);
    CU_ASSERT_EQUAL(alen(get(logs, "trace_ids")), 5);
    CU_ASSERT_EQUAL(
        json_object_get_int(get(get(get(res, "references"), "metrics"), "alerts_count")), 5000);
    CU_ASSERT_STRING_EQUAL(gets(idx(get(res, "suspected_root_causes"), 0), "cause"),
                           "Upstream timeouts");
    CU_ASSERT_TRUE(any_contains(get(res, "next_checks"), "Only 200 of 10000 log lines"));
    CU_ASSERT_TRUE(alen(get(idx(get(res, "suspected_root_causes"), 0), "evidence")) <=
                   IT_MAX_EVIDENCE);
    CU_ASSERT_TRUE(strlen(json_object_to_json_string(mock_state(m))) < 32768);
    CU_ASSERT_EQUAL(json_object_get_int(get(mock_get_call(m, 1)->params, "limit")), 200);
    mock_host_free(m);
    it_buf_free(&b);
    it_buf_free(&o);
}

static void test_run_cancel_and_bad_input(void)
{
    mock_host *m = pool_mock(NULL);
    mock_cancel_at_call(m, 2);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), SV_ECANCELLED);
    CU_ASSERT_PTR_NULL(mock_result(m));
    CU_ASSERT_EQUAL(mock_n_calls(m), 2);
    mock_host_free(m);

    /* Without prepare_input the first node still refuses a bad input. */
    m = mock_host_new("{\"symptom\":\"x\"}");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "invalid_input");
    CU_ASSERT_TRUE(contains(mock_fail_message(m), "service"));
    CU_ASSERT_EQUAL(mock_n_calls(m), 0);
    mock_host_free(m);

    /* A node run out of order fails cleanly. */
    m = mock_host_new(POOL_INPUT);
    sv_step step = {NULL, 0};
    CU_ASSERT_EQUAL(it_node_service_overview(mock_ctx(m), mock_host_table(m), &step), SV_ERR);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "invalid_state");
    mock_host_free(m);
}

static void test_run_healthy(void)
{
    mock_host *m = mock_host_new("{\"service\":\"billing\",\"symptom\":\"latency spike "
                                 "reported by one customer\",\"env\":\"staging\"}");
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK,
                    "{\"slo\":{\"error_rate\":0.0002,\"latency_p95_ms\":140,\"availability\":"
                    "0.9999},\"alerts\":[],\"metrics\":{}}",
                    NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, "{\"lines\":[],\"total\":0}", NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK,
                    "{\"status\":\"ok\",\"checks\":[{\"name\":\"db\",\"status\":\"ok\","
                    "\"detail\":\"3ms\"}]}",
                    NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK,
                    "{\"results\":[{\"path\":\"r.md\",\"text\":\"Restart the pods.\"}]}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    json_object *res = mock_result(m);
    dump("healthy", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(alen(get(res, "suspected_root_causes")), 0);
    CU_ASSERT_EQUAL(alen(get(res, "mitigations_now")), 0);
    CU_ASSERT_TRUE(contains(gets(res, "summary"), "billing (staging)"));
    CU_ASSERT_TRUE(contains(gets(res, "summary"), "no errors found in the logs, health ok"));
    CU_ASSERT_TRUE(contains(gets(res, "impact_assessment"), "error_rate=0.02%"));
    CU_ASSERT_TRUE(contains(gets(res, "impact_assessment"), "availability=99.99%"));
    CU_ASSERT_TRUE(any_contains(get(res, "next_checks"), "Verify healthz stays ok"));
    mock_host_free(m);
}

int main(void)
{
    CU_pSuite s;
    unsigned int failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("incident_triage_input", NULL, NULL);
    CU_add_test(s, "schema json", test_schema_json);
    CU_add_test(s, "descriptor", test_descriptor);
    CU_add_test(s, "rfc3339 parse and format", test_time_parse_format);
    CU_add_test(s, "prepare defaults", test_prepare_defaults);
    CU_add_test(s, "prepare clamps the window", test_prepare_clamp_window);
    CU_add_test(s, "prepare normalises offsets", test_prepare_offsets);
    CU_add_test(s, "prepare errors", test_prepare_errors);
    CU_add_test(s, "prepare max_log_lines", test_prepare_log_lines);
    s = CU_add_suite("incident_triage_analysis", NULL, NULL);
    CU_add_test(s, "signature table", test_signature_table);
    CU_add_test(s, "signature groups variants", test_signature_same_group);
    CU_add_test(s, "signature bounds", test_signature_bounds);
    CU_add_test(s, "groups rank", test_groups_rank);
    CU_add_test(s, "logs digest", test_logs_digest);
    CU_add_test(s, "cause classify", test_cause_classify);
    CU_add_test(s, "causes pool and deploy", test_causes_pool_and_deploy);
    CU_add_test(s, "causes ranked by score", test_causes_ranking_by_score);
    CU_add_test(s, "causes unknown and healthy", test_causes_unknown_and_healthy);
    CU_add_test(s, "summary and impact", test_summary_and_impact);
    CU_add_test(s, "mitigations and next checks", test_mitigations_and_checks);
    CU_add_test(s, "all sources failed", test_all_sources_failed);
    s = CU_add_suite("incident_triage_runs", NULL, NULL);
    CU_add_test(s, "pool exhaustion run", test_run_pool);
    CU_add_test(s, "no traces unless asked", test_run_no_traces_when_not_asked);
    CU_add_test(s, "traces denied", test_run_traces_denied);
    CU_add_test(s, "all sources fail", test_run_all_sources_fail);
    CU_add_test(s, "garbage answers", test_run_garbage_answers);
    CU_add_test(s, "huge logs", test_run_huge_logs);
    CU_add_test(s, "cancel and bad input", test_run_cancel_and_bad_input);
    CU_add_test(s, "healthy service", test_run_healthy);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
