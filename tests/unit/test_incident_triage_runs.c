/*
 * test_incident_triage_runs.c - whole runs of incident_triage on the SDK's
 * test kit (the daemon's rules on a mock host) with scripted router answers:
 * good, denied, failing, garbage, huge, cancelled, healthy.  No daemon, no
 * network.
 *
 * Set IT_TEST_DUMP=1 to print the results.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "it.h"
#include "it_test_support.h"

#include <sofiia/graph_test.h>

extern const sv_graph sv_graph_descriptor;

/* The input of the kit made last: each test runs one kit at a time. */
static const char *g_input;

static sv_test *kit(const char *input)
{
    sv_test *t = sv_test_new(&sv_graph_descriptor);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    g_input = input;
    return t;
}

/* Start its run as POST .../runs would and run it to the end: its status. */
static int run(sv_test *t)
{
    return sv_test_run(t, g_input);
}

/* A mock with the pool scenario's answers queued. */
static sv_test *pool_mock(const char *input)
{
    sv_test *m = kit(input ? input : ITT_POOL_INPUT);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, ITT_POOL_OVERVIEW);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS, ITT_POOL_LOGS);
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, ITT_POOL_HEALTH);
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, ITT_POOL_RUNBOOKS);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_TRACES, ITT_POOL_TRACES);
    return m;
}

/* ---- whole runs on the mock host -------------------------------------------- */

static const char *const PATH_ALL = "validate_input,service_overview,top_errors_logs,"
                                    "health_and_runbooks,trace_lookup,build_triage_report";

/* A confidence level as the report writes it. */
static int is_level(const char *s)
{
    return s && (strcmp(s, "high") == 0 || strcmp(s, "medium") == 0 || strcmp(s, "low") == 0);
}

/* The fields issue 10 added beside the seed's three of a cause. */
static void assert_cause_additions(json_object *c)
{
    static const char *const sources[] = {"logs",    "alerts",   "health",
                                          "metrics", "runbooks", "symptom"};
    CU_ASSERT_PTR_NOT_NULL(itt_gets(c, "key"));
    CU_ASSERT_TRUE(is_level(itt_gets(c, "confidence")));
    CU_ASSERT_PTR_NOT_NULL(itt_gets(c, "confidence_reason"));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(c, "score"), json_type_double));
    json_object *parts = itt_get(c, "score_parts"), *by = itt_get(c, "evidence_by_source");
    CU_ASSERT_EQUAL(json_object_object_length(parts), 7);
    CU_ASSERT_EQUAL(json_object_object_length(by), 6);
    for (size_t k = 0; k < sizeof sources / sizeof sources[0]; k++) {
        CU_ASSERT_TRUE(json_object_is_type(itt_get(parts, sources[k]), json_type_double));
        CU_ASSERT_TRUE(json_object_is_type(itt_get(by, sources[k]), json_type_array));
    }
}

static void assert_result_shape(json_object *res)
{
    /* The seed's fields and data_gaps, then what issue 10 added beside them. */
    static const char *const keys[] = {"summary",           "suspected_root_causes",
                                       "impact_assessment", "mitigations_now",
                                       "next_checks",       "references",
                                       "data_gaps",         "confidence",
                                       "coverage",          NULL};
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    CU_ASSERT_EQUAL(json_object_object_length(res), 9);
    for (int i = 0; keys[i]; i++)
        CU_ASSERT_PTR_NOT_NULL(itt_get(res, keys[i]));
    CU_ASSERT_TRUE(is_level(itt_gets(res, "confidence")));
    json_object *cov = itt_get(res, "coverage");
    CU_ASSERT_TRUE(json_object_is_type(itt_get(cov, "sources"), json_type_object));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(cov, "missing"), json_type_array));
    CU_ASSERT_PTR_NOT_NULL(itt_gets(cov, "effect"));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(res, "summary"), json_type_string));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(res, "suspected_root_causes"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(res, "impact_assessment"), json_type_string));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(res, "mitigations_now"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(res, "next_checks"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(res, "data_gaps"), json_type_array));
    json_object *causes = itt_get(res, "suspected_root_causes");
    for (size_t i = 0; i < itt_alen(causes); i++) {
        json_object *c = itt_idx(causes, i);
        CU_ASSERT_EQUAL(json_object_object_length(c), 9);
        CU_ASSERT_EQUAL(json_object_get_int(itt_get(c, "rank")), (int)i + 1);
        CU_ASSERT_PTR_NOT_NULL(itt_gets(c, "cause"));
        CU_ASSERT_TRUE(json_object_is_type(itt_get(c, "evidence"), json_type_array));
        for (size_t k = 0; k < itt_alen(itt_get(c, "evidence")); k++)
            CU_ASSERT_TRUE(
                json_object_is_type(itt_idx(itt_get(c, "evidence"), k), json_type_string));
        assert_cause_additions(c);
    }
    json_object *ref = itt_get(res, "references");
    CU_ASSERT_EQUAL(json_object_object_length(ref), 4);
    json_object *metrics = itt_get(ref, "metrics");
    CU_ASSERT_TRUE(json_object_is_type(itt_get(metrics, "slo"), json_type_object));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(metrics, "alerts_count"), json_type_int));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(ref, "log_samples"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(ref, "runbook_snippets"), json_type_array));
    CU_ASSERT_TRUE(json_object_is_type(itt_get(itt_get(ref, "traces"), "traces"), json_type_array));
    for (size_t i = 0; i < itt_alen(itt_get(res, "data_gaps")); i++) {
        json_object *g = itt_idx(itt_get(res, "data_gaps"), i);
        CU_ASSERT_EQUAL(json_object_object_length(g), 3);
        CU_ASSERT_PTR_NOT_NULL(itt_gets(g, "node"));
        CU_ASSERT_PTR_NOT_NULL(itt_gets(g, "tool"));
        CU_ASSERT_PTR_NOT_NULL(itt_gets(g, "error"));
    }
}

static void test_run_pool(void)
{
    sv_test *m = pool_mock(NULL);
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    CU_ASSERT_STRING_EQUAL(sv_test_path(m), PATH_ALL);
    CU_ASSERT_STRING_EQUAL(sv_test_error_code(m), "");
    CU_ASSERT_EQUAL_FATAL(sv_test_calls(m), 5);

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
        const sv_test_call *c = sv_test_call_at(m, i);
        CU_ASSERT_STRING_EQUAL(c->tool, want[i][0]);
        CU_ASSERT_STRING_EQUAL(c->action, want[i][1]);
        if (want[i][2])
            CU_ASSERT_STRING_EQUAL(json_object_to_json_string(c->params), want[i][2]);
    }
    const sv_test_call *rb = sv_test_call_at(m, 3);
    CU_ASSERT_STRING_EQUAL(itt_gets(rb->params, "service"), "router");
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(rb->params, "limit")), 3);
    CU_ASSERT_STRING_EQUAL(itt_gets(rb->params, "query"),
                           "High error rate after deploy connection pool exhausted timeout "
                           "acquiring connection after ms in_use request_id req");
    CU_ASSERT_EQUAL(json_object_object_length(rb->params), 3);
    CU_ASSERT_STRING_EQUAL(sv_test_call_at(m, 0)->node, "service_overview");
    CU_ASSERT_STRING_EQUAL(sv_test_call_at(m, 3)->node, "health_and_runbooks");

    json_object *res = sv_test_result(m);
    itt_dump("pool result", res);
    assert_result_shape(res);
    json_object *c0 = itt_idx(itt_get(res, "suspected_root_causes"), 0);
    CU_ASSERT_STRING_EQUAL(itt_gets(c0, "cause"), "DB connection-pool exhaustion");
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(c0, "evidence"), "6\xc3\x97 connection pool exhausted"));
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "impact_assessment"), "error_rate=2.1%"));
    CU_ASSERT_TRUE(
        itt_contains(itt_gets(res, "summary"), "most likely DB connection-pool exhaustion"));
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 0);
    json_object *ref = itt_get(res, "references");
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_get(ref, "metrics"), "alerts_count")), 2);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string(itt_get(itt_get(ref, "metrics"), "slo")),
                           "{ \"error_rate\": 0.021, \"latency_p95_ms\": 850, \"availability\": "
                           "0.992 }");
    CU_ASSERT_EQUAL(itt_alen(itt_get(ref, "log_samples")), 3);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(itt_get(ref, "runbook_snippets"), 0), "path"),
                           "runbooks/router/db-pool.md");
    CU_ASSERT_EQUAL(itt_alen(itt_get(itt_get(ref, "traces"), "traces")), 1);
    CU_ASSERT_TRUE(itt_any_contains(itt_get(res, "next_checks"), "Inspect traces t-0001"));
    /* The state stays compact: digests, not answers. */
    CU_ASSERT_TRUE(strlen(json_object_to_json_string(sv_test_state(m))) < 16384);
    sv_test_free(m);
}

static void test_run_no_traces_when_not_asked(void)
{
    sv_test *m = pool_mock("{\"service\":\"router\",\"symptom\":\"errors\"}");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    CU_ASSERT_STRING_EQUAL(sv_test_path(m), PATH_ALL);
    CU_ASSERT_EQUAL(sv_test_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_EQUAL(sv_test_calls(m), 4);
    json_object *res = sv_test_result(m);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(itt_alen(itt_get(itt_get(itt_get(res, "references"), "traces"), "traces")), 0);
    CU_ASSERT_TRUE(itt_any_contains(itt_get(res, "next_checks"), "include_traces=true"));
    sv_test_free(m);

    /* Asked for, but the logs carry no trace ids: no call either. */
    m = kit("{\"service\":\"router\",\"symptom\":\"errors\",\"include_traces\":true}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, ITT_POOL_OVERVIEW);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS,
                   "{\"lines\":[{\"level\":\"error\",\"message\":\"x\"}]}");
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, ITT_POOL_HEALTH);
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, "{\"results\":[]}");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    CU_ASSERT_EQUAL(sv_test_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_STRING_EQUAL(itt_gets(sv_test_state(m), "traces_note"), "no_trace_ids");
    sv_test_free(m);
}

static void test_run_traces_denied(void)
{
    sv_test *m = kit(ITT_POOL_INPUT);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, ITT_POOL_OVERVIEW);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS, ITT_POOL_LOGS);
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, ITT_POOL_HEALTH);
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, ITT_POOL_RUNBOOKS);
    sv_test_answer_error(m, IT_TOOL_OBS, IT_ACT_TRACES, "forbidden",
                         "router said "
                         "forbidden");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    CU_ASSERT_STRING_EQUAL(sv_test_error_code(m), "");
    json_object *res = sv_test_result(m);
    itt_dump("traces denied", res);
    assert_result_shape(res);
    json_object *gaps = itt_get(res, "data_gaps");
    CU_ASSERT_EQUAL_FATAL(itt_alen(gaps), 1);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(gaps, 0), "node"), "trace_lookup");
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(gaps, 0), "tool"), "observability_tool");
    CU_ASSERT_TRUE(itt_contains(itt_gets(itt_idx(gaps, 0), "error"), "forbidden"));
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "summary"), "Data gaps: trace_lookup"));
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(itt_get(res, "suspected_root_causes"), 0), "cause"),
                           "DB connection-pool exhaustion");
    CU_ASSERT_TRUE(itt_any_contains(itt_get(res, "next_checks"), "by hand: traces_query failed"));
    sv_test_free(m);
}

static void test_run_all_sources_fail(void)
{
    sv_test *m = kit(ITT_POOL_INPUT);
    /* Only these two scripted: the others get router-sim's 404 (not_found). */
    sv_test_answer_error(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, "unavailable",
                         "router said "
                         "unavailable");
    sv_test_answer_error(m, IT_TOOL_OBS, IT_ACT_LOGS, "timeout",
                         "router said "
                         "timeout");
    CU_ASSERT_EQUAL(run(m), SV_TEST_FAILED);
    CU_ASSERT_STRING_EQUAL(sv_test_error_code(m), "all_sources_failed");
    CU_ASSERT_TRUE(itt_contains(sv_test_error_message(m), "every data source failed"));
    CU_ASSERT_PTR_NULL(sv_test_result(m));
    /* Traces were not asked for: no ids, so four sources tried. */
    CU_ASSERT_EQUAL(sv_test_calls(m), 4);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(sv_test_state(m), "failed")), 4);
    sv_test_free(m);

    /* One source answering is enough for a report. */
    m = kit(ITT_POOL_INPUT);
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, ITT_POOL_RUNBOOKS);
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    json_object *res = sv_test_result(m);
    itt_dump("only runbooks", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 3);
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "impact_assessment"), "unknown"));
    sv_test_free(m);
}

static void test_run_garbage_answers(void)
{
    sv_test *m = kit(ITT_POOL_INPUT);
    /* data null, lines not an array, health an array, results null. */
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, NULL);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS, "{\"lines\":{\"a\":1},\"total\":-5}");
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, "[1,2,3]");
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS,
                   "{\"results\":[null,7,{\"path\":5,\"text\":null},{\"path\":\"p\",\"text\":"
                   "\"Restart it.\"}]}");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    json_object *res = sv_test_result(m);
    itt_dump("garbage", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 3);
    CU_ASSERT_TRUE(
        itt_contains(itt_gets(itt_idx(itt_get(res, "data_gaps"), 0), "error"), "bad_response"));
    /* Results without path or text are dropped. */
    CU_ASSERT_EQUAL(itt_alen(itt_get(itt_get(res, "references"), "runbook_snippets")), 1);
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(res, "next_checks"), "Check by hand what service_overview"));
    sv_test_free(m);

    /* Wrong types everywhere inside otherwise good shapes. */
    m = kit(ITT_POOL_INPUT);
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW,
                   "{\"slo\":\"bad\",\"alerts\":[null,1,\"StringAlert\",{\"name\":7},"
                   "{\"name\":\"Mem\\u0000High\",\"severity\":[1]}],\"metrics\":[1,2]}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS,
                   "{\"lines\":[null,1,true,[],{},{\"message\":null},{\"message\":\"\"},"
                   "{\"message\":\"ok\",\"trace_id\":42}]}");
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH,
                   "{\"status\":5,\"checks\":[null,{\"name\":null},{\"name\":\"x\",\"status\":"
                   "{},\"detail\":[]}]}");
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, "{\"results\":[]}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_TRACES, "{\"traces\":\"none\"}");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    res = sv_test_result(m);
    itt_dump("wrong types", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(json_object_get_int(
                        itt_get(itt_get(itt_get(res, "references"), "metrics"), "alerts_count")),
                    2);
    /* Only "ok" is a line: null, numbers, empty messages are not. */
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_get(sv_test_state(m), "logs"), "analysed")), 1);
    /* trace_id 42 is no id: traces_query is not called. */
    CU_ASSERT_EQUAL(sv_test_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 0);
    sv_test_free(m);
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

    sv_test *m = kit("{\"service\":\"router\",\"symptom\":\"timeouts\","
                     "\"max_log_lines\":200,\"include_traces\":true}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, it_buf_str(&o));
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS, it_buf_str(&b));
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, "{\"status\":\"degraded\"}");
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, "{\"results\":[]}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_TRACES, "{\"traces\":[]}");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    json_object *res = sv_test_result(m);
    assert_result_shape(res);
    json_object *logs = itt_get(sv_test_state(m), "logs");
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(logs, "analysed")), 200);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(logs, "total")), 10000);
    CU_ASSERT_EQUAL(itt_alen(itt_get(logs, "groups")), 1);
    CU_ASSERT_EQUAL(itt_alen(itt_get(logs, "trace_ids")), 5);
    CU_ASSERT_EQUAL(json_object_get_int(
                        itt_get(itt_get(itt_get(res, "references"), "metrics"), "alerts_count")),
                    5000);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(itt_get(res, "suspected_root_causes"), 0), "cause"),
                           "Upstream timeouts");
    CU_ASSERT_TRUE(itt_any_contains(itt_get(res, "next_checks"), "Only 200 of 10000 log lines"));
    CU_ASSERT_TRUE(itt_alen(itt_get(itt_idx(itt_get(res, "suspected_root_causes"), 0),
                                    "evidence")) <= IT_MAX_EVIDENCE);
    CU_ASSERT_TRUE(strlen(json_object_to_json_string(sv_test_state(m))) < 32768);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(sv_test_call_at(m, 1)->params, "limit")), 200);
    sv_test_free(m);
    it_buf_free(&b);
    it_buf_free(&o);
}

static void test_run_cancel_and_bad_input(void)
{
    sv_test *m = pool_mock(NULL);
    sv_test_cancel_at_call(m, 2);
    CU_ASSERT_EQUAL(run(m), SV_TEST_CANCELLED);
    CU_ASSERT_PTR_NULL(sv_test_result(m));
    CU_ASSERT_EQUAL(sv_test_calls(m), 2);
    sv_test_free(m);

    /* A bad input never starts, as with the daemon: the 400 names the field. */
    m = kit("{\"symptom\":\"x\"}");
    CU_ASSERT_EQUAL(run(m), -1);
    CU_ASSERT(sv_test_expect_refused(m, "invalid_input", "service"));
    CU_ASSERT_EQUAL(sv_test_calls(m), 0);
    sv_test_free(m);

    /* The first node still refuses an input that bypassed the checks. */
    m = kit(ITT_POOL_INPUT);
    sv_step first = {NULL, 0};
    CU_ASSERT_EQUAL(it_node_validate_input(sv_test_ctx(m), sv_test_host(m), &first), SV_ERR);
    CU_ASSERT_STRING_EQUAL(sv_test_error_code(m), "invalid_input");
    sv_test_free(m);

    /* A node run out of order fails cleanly. */
    m = kit(ITT_POOL_INPUT);
    sv_step step = {NULL, 0};
    CU_ASSERT_EQUAL(it_node_service_overview(sv_test_ctx(m), sv_test_host(m), &step), SV_ERR);
    CU_ASSERT_STRING_EQUAL(sv_test_error_code(m), "invalid_state");
    sv_test_free(m);
}

static void test_run_healthy(void)
{
    sv_test *m = kit("{\"service\":\"billing\",\"symptom\":\"latency spike "
                     "reported by one customer\",\"env\":\"staging\"}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_OVERVIEW,
                   "{\"slo\":{\"error_rate\":0.0002,\"latency_p95_ms\":140,\"availability\":"
                   "0.9999},\"alerts\":[],\"metrics\":{}}");
    sv_test_answer(m, IT_TOOL_OBS, IT_ACT_LOGS, "{\"lines\":[],\"total\":0}");
    sv_test_answer(m, IT_TOOL_ONCALL, IT_ACT_HEALTH,
                   "{\"status\":\"ok\",\"checks\":[{\"name\":\"db\",\"status\":\"ok\","
                   "\"detail\":\"3ms\"}]}");
    sv_test_answer(m, IT_TOOL_KB, IT_ACT_RUNBOOKS,
                   "{\"results\":[{\"path\":\"r.md\",\"text\":\"Restart the pods.\"}]}");
    CU_ASSERT_EQUAL(run(m), SV_TEST_SUCCEEDED);
    json_object *res = sv_test_result(m);
    itt_dump("healthy", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "suspected_root_causes")), 0);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "mitigations_now")), 0);
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "summary"), "billing (staging)"));
    CU_ASSERT_TRUE(
        itt_contains(itt_gets(res, "summary"), "no errors found in the logs, health ok"));
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "impact_assessment"), "error_rate=0.02%"));
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "impact_assessment"), "availability=99.99%"));
    CU_ASSERT_TRUE(itt_any_contains(itt_get(res, "next_checks"), "Verify healthz stays ok"));
    sv_test_free(m);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"pool exhaustion run", test_run_pool},
        {"no traces unless asked", test_run_no_traces_when_not_asked},
        {"traces denied", test_run_traces_denied},
        {"all sources fail", test_run_all_sources_fail},
        {"garbage answers", test_run_garbage_answers},
        {"huge logs", test_run_huge_logs},
        {"cancel and bad input", test_run_cancel_and_bad_input},
        {"healthy service", test_run_healthy},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_runs", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
