/*
 * test_incident_triage_input.c - unit tests of incident_triage's input side
 * on the SDK's test kit (the daemon's schema validation, then prepare_input):
 * the input schema and the descriptor, its setting, RFC 3339, and the input
 * as a start request makes it (defaults, the clamped window, offsets, the
 * 400s, log lines).  No daemon, no network.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "it.h"
#include "it_test_support.h"

#include <sofiia/graph_test.h>

extern const sv_graph sv_graph_descriptor;

/* 2026-02-23T10:00:00Z, the kit's clock. */
#define NOW_MS 1771840800000LL
#define HOUR_MS 3600000LL

/* ---- schema and descriptor ------------------------------------------------ */

static void test_schema_json(void)
{
    json_object *s = json_tokener_parse(it_input_schema);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(itt_gets(s, "type"), "object");
    json_object *props = itt_get(s, "properties");
    CU_ASSERT_PTR_NOT_NULL_FATAL(props);
    json_object *req = itt_get(s, "required");
    CU_ASSERT_EQUAL(itt_alen(req), 2);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(req, 0)), "service");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(req, 1)), "symptom");

    const char *names[] = {"service",        "symptom",       "time_range",     "env",
                           "include_traces", "max_log_lines", "log_query_hint", NULL};
    for (int i = 0; names[i]; i++) {
        json_object *p = itt_get(props, names[i]);
        CU_ASSERT_PTR_NOT_NULL(p);
        CU_ASSERT_PTR_NOT_NULL(itt_gets(p, "description"));
        CU_ASSERT_PTR_NOT_NULL(itt_gets(p, "type"));
    }
    CU_ASSERT_EQUAL(json_object_object_length(props), 7);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_get(props, "service"), "type"), "string");
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_get(props, "service"), "minLength")), 1);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_get(props, "service"), "maxLength")), 128);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_get(props, "symptom"), "maxLength")), 1000);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_get(props, "env"), "default"), "prod");
    json_object *tr = itt_get(props, "include_traces");
    CU_ASSERT_STRING_EQUAL(itt_gets(tr, "type"), "boolean");
    CU_ASSERT_TRUE(json_object_is_type(itt_get(tr, "default"), json_type_boolean));
    CU_ASSERT_FALSE(json_object_get_boolean(itt_get(tr, "default")));
    json_object *ml = itt_get(props, "max_log_lines");
    CU_ASSERT_STRING_EQUAL(itt_gets(ml, "type"), "integer");
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(ml, "default")), 120);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(ml, "minimum")), 1);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(ml, "maximum")), 200);
    CU_ASSERT_TRUE(json_object_get_boolean(itt_get(ml, "x-clamp")));
    json_object *trp = itt_get(itt_get(props, "time_range"), "properties");
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_get(trp, "from"), "format"), "date-time");
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_get(trp, "to"), "format"), "date-time");
    CU_ASSERT_PTR_NOT_NULL(itt_gets(itt_get(trp, "from"), "description"));
    CU_ASSERT_PTR_NULL(
        itt_get(props, "time_range") ? itt_get(itt_get(props, "time_range"), "default") : NULL);
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
    /* its one setting, under the seed's variable as well */
    CU_ASSERT_EQUAL_FATAL(g->n_settings, 1);
    CU_ASSERT_STRING_EQUAL(g->settings[0].name, IT_SETTING_MAX_WINDOW);
    CU_ASSERT_STRING_EQUAL(g->settings[0].env, "INCIDENT_MAX_TIME_WINDOW_H");
    CU_ASSERT_STRING_EQUAL(g->settings[0].def, "24");
    CU_ASSERT_EQUAL(g->settings[0].type, SV_SETTING_INT);
    CU_ASSERT_EQUAL(g->settings[0].min, 1);
    CU_ASSERT_EQUAL(g->settings[0].max, 8760);
    CU_ASSERT_EQUAL(g->deadline.default_sec, 900);
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

/* Start a run with input as POST .../runs would (the schema, then
 * prepare_input) with max_time_window_h = max_h (0: its default); returns 0
 * or SV_EINVAL, fills err as the 400 would and the window strings. */
static int prepare(const char *input, long max_h, sv_error *err, char *from, char *to,
                   json_object **out)
{
    char h[32];
    sv_test *t = sv_test_new(&sv_graph_descriptor);
    snprintf(h, sizeof h, "%ld", max_h);
    if (max_h)
        CU_ASSERT_EQUAL(sv_test_setting(t, IT_SETTING_MAX_WINDOW, h), 0);
    int rc = sv_test_start(t, input) == 0 ? 0 : SV_EINVAL;
    memset(err, 0, sizeof *err);
    snprintf(err->code, sizeof err->code, "%s", sv_test_error_code(t));
    snprintf(err->field, sizeof err->field, "%s", sv_test_error_field(t));
    snprintf(err->message, sizeof err->message, "%s", sv_test_error_message(t));
    json_object *tr = itt_get(sv_test_input(t), "time_range");
    if (from)
        snprintf(from, IT_TS_LEN, "%s", itt_gets(tr, "from") ? itt_gets(tr, "from") : "");
    if (to)
        snprintf(to, IT_TS_LEN, "%s", itt_gets(tr, "to") ? itt_gets(tr, "to") : "");
    if (out)
        json_object_deep_copy(sv_test_input(t), out, NULL);
    sv_test_free(t);
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
    CU_ASSERT_STRING_EQUAL(itt_gets(in, "env"), "prod");
    CU_ASSERT_FALSE(json_object_get_boolean(itt_get(in, "include_traces")));
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(in, "max_log_lines")), 120);
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
    /* The deployment's INCIDENT_MAX_TIME_WINDOW_H (the graph's setting). */
    CU_ASSERT_EQUAL(prepare(in48, 6, &err, from, to, NULL), 0);
    CU_ASSERT_STRING_EQUAL(from, "2026-02-23T04:00:00Z");
    CU_ASSERT_STRING_EQUAL(to, "2026-02-23T10:00:00Z");
    /* A nonsense setting never reaches the graph: the host refuses it. */
    sv_test *t = sv_test_new(&sv_graph_descriptor);
    CU_ASSERT_EQUAL(sv_test_setting(t, IT_SETTING_MAX_WINDOW, "-5"), 0);
    CU_ASSERT_EQUAL(sv_test_load(t), -1);
    CU_ASSERT_TRUE(itt_contains(sv_test_why(t), "out of range (expected 1..8760)"));
    sv_test_free(t);
    /* ... and neither does a setting it does not declare */
    t = sv_test_new(&sv_graph_descriptor);
    CU_ASSERT_EQUAL(sv_test_setting(t, "max_window", "6"), -1);
    sv_test_free(t);
    /* An ABI 1.0 graph read the setting by config_int(): that still works. */
    t = sv_test_new(&sv_graph_descriptor);
    sv_test_setting(t, IT_SETTING_MAX_WINDOW, "12");
    CU_ASSERT_EQUAL_FATAL(sv_test_load(t), 0);
    CU_ASSERT_EQUAL(sv_test_host(t)->config_int(IT_MAX_WINDOW_KEY, 24), 12);
    CU_ASSERT_EQUAL(sv_test_host(t)->config_int("GRAPH_INCIDENT_TRIAGE_MAX_TIME_WINDOW_H", 24), 12);
    CU_ASSERT_EQUAL(sv_test_host(t)->config_int("OTHER", 24), 24);
    sv_test_free(t);
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
    CU_ASSERT_TRUE(itt_contains(err.message, "before"));
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
        CU_ASSERT_EQUAL(json_object_get_int(itt_get(in, "max_log_lines")), cases[i].want);
        json_object_put(in);
    }
    CU_ASSERT_EQUAL(prepare("{\"service\":\"a\",\"symptom\":\"b\",\"max_log_lines\":\"x\"}", 0,
                            &err, NULL, NULL, NULL),
                    SV_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "max_log_lines");
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"schema json", test_schema_json},
        {"descriptor", test_descriptor},
        {"rfc3339 parse and format", test_time_parse_format},
        {"prepare defaults", test_prepare_defaults},
        {"prepare clamps the window", test_prepare_clamp_window},
        {"prepare normalises offsets", test_prepare_offsets},
        {"prepare errors", test_prepare_errors},
        {"prepare max_log_lines", test_prepare_log_lines},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_input", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
