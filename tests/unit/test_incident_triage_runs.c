/*
 * test_incident_triage_runs.c - whole runs of incident_triage through the
 * mock host with scripted router answers: good, denied, failing, garbage,
 * huge, cancelled, healthy.  No daemon, no network.
 *
 * Set IT_TEST_DUMP=1 to print the results.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "it.h"
#include "it_test_support.h"
#include "mock_host.h"

extern const sv_graph sv_graph_descriptor;

/* A mock with the pool scenario's answers queued. */
static mock_host *pool_mock(const char *input)
{
    mock_host *m = mock_host_new(input ? input : ITT_POOL_INPUT);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, ITT_POOL_OVERVIEW, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, ITT_POOL_LOGS, NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, ITT_POOL_HEALTH, NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, ITT_POOL_RUNBOOKS, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_TRACES, SV_OK, ITT_POOL_TRACES, NULL);
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
    CU_ASSERT_STRING_EQUAL(itt_gets(rb->params, "service"), "router");
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(rb->params, "limit")), 3);
    CU_ASSERT_STRING_EQUAL(itt_gets(rb->params, "query"),
                           "High error rate after deploy connection pool exhausted timeout "
                           "acquiring connection after ms in_use request_id req");
    CU_ASSERT_EQUAL(json_object_object_length(rb->params), 3);
    CU_ASSERT_STRING_EQUAL(mock_get_call(m, 0)->node, "service_overview");
    CU_ASSERT_STRING_EQUAL(mock_get_call(m, 3)->node, "health_and_runbooks");

    json_object *res = mock_result(m);
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
    CU_ASSERT_EQUAL(itt_alen(itt_get(itt_get(itt_get(res, "references"), "traces"), "traces")), 0);
    CU_ASSERT_TRUE(itt_any_contains(itt_get(res, "next_checks"), "include_traces=true"));
    mock_host_free(m);

    /* Asked for, but the logs carry no trace ids: no call either. */
    m = mock_host_new("{\"service\":\"router\",\"symptom\":\"errors\",\"include_traces\":true}");
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, ITT_POOL_OVERVIEW, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK,
                    "{\"lines\":[{\"level\":\"error\",\"message\":\"x\"}]}", NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, ITT_POOL_HEALTH, NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, "{\"results\":[]}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    CU_ASSERT_EQUAL(mock_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_STRING_EQUAL(itt_gets(mock_state(m), "traces_note"), "no_trace_ids");
    mock_host_free(m);
}

static void test_run_traces_denied(void)
{
    sv_error err;
    mock_host *m = mock_host_new(ITT_POOL_INPUT);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_OK, ITT_POOL_OVERVIEW, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_OK, ITT_POOL_LOGS, NULL);
    mock_answer_add(m, IT_TOOL_ONCALL, IT_ACT_HEALTH, SV_OK, ITT_POOL_HEALTH, NULL);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, ITT_POOL_RUNBOOKS, NULL);
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_TRACES, SV_ETOOL, NULL, "forbidden");
    CU_ASSERT_EQUAL_FATAL(mock_prepare(m, &sv_graph_descriptor, &err), 0);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    json_object *res = mock_result(m);
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
    mock_host_free(m);
}

static void test_run_all_sources_fail(void)
{
    sv_error err;
    mock_host *m = mock_host_new(ITT_POOL_INPUT);
    /* Nothing queued: every call fails ("no_mock_answer"). */
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_OVERVIEW, SV_ETOOL, NULL, "unavailable");
    mock_answer_add(m, IT_TOOL_OBS, IT_ACT_LOGS, SV_ETOOL, NULL, "timeout");
    CU_ASSERT_EQUAL_FATAL(mock_prepare(m, &sv_graph_descriptor, &err), 0);
    int rc = mock_run(m, &sv_graph_descriptor, 20, 0);
    CU_ASSERT_EQUAL(rc, SV_ERR);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "all_sources_failed");
    CU_ASSERT_TRUE(itt_contains(mock_fail_message(m), "every data source failed"));
    CU_ASSERT_PTR_NULL(mock_result(m));
    /* Traces were not asked for: no ids, so four sources tried. */
    CU_ASSERT_EQUAL(mock_n_calls(m), 4);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(mock_state(m), "failed")), 4);
    mock_host_free(m);

    /* One source answering is enough for a report. */
    m = mock_host_new(ITT_POOL_INPUT);
    mock_answer_add(m, IT_TOOL_KB, IT_ACT_RUNBOOKS, SV_OK, ITT_POOL_RUNBOOKS, NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, 20, 0), 0);
    json_object *res = mock_result(m);
    itt_dump("only runbooks", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 3);
    CU_ASSERT_TRUE(itt_contains(itt_gets(res, "impact_assessment"), "unknown"));
    mock_host_free(m);
}

static void test_run_garbage_answers(void)
{
    mock_host *m = mock_host_new(ITT_POOL_INPUT);
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
    itt_dump("garbage", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 3);
    CU_ASSERT_TRUE(
        itt_contains(itt_gets(itt_idx(itt_get(res, "data_gaps"), 0), "error"), "bad_response"));
    /* Results without path or text are dropped. */
    CU_ASSERT_EQUAL(itt_alen(itt_get(itt_get(res, "references"), "runbook_snippets")), 1);
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(res, "next_checks"), "Check by hand what service_overview"));
    mock_host_free(m);

    /* Wrong types everywhere inside otherwise good shapes. */
    m = mock_host_new(ITT_POOL_INPUT);
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
    itt_dump("wrong types", res);
    assert_result_shape(res);
    CU_ASSERT_EQUAL(json_object_get_int(
                        itt_get(itt_get(itt_get(res, "references"), "metrics"), "alerts_count")),
                    2);
    /* Only "ok" is a line: null, numbers, empty messages are not. */
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_get(mock_state(m), "logs"), "analysed")), 1);
    /* trace_id 42 is no id: traces_query is not called. */
    CU_ASSERT_EQUAL(mock_count_calls(m, IT_TOOL_OBS, IT_ACT_TRACES), 0);
    CU_ASSERT_EQUAL(itt_alen(itt_get(res, "data_gaps")), 0);
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
    json_object *logs = itt_get(mock_state(m), "logs");
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
    CU_ASSERT_TRUE(strlen(json_object_to_json_string(mock_state(m))) < 32768);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(mock_get_call(m, 1)->params, "limit")), 200);
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
    CU_ASSERT_TRUE(itt_contains(mock_fail_message(m), "service"));
    CU_ASSERT_EQUAL(mock_n_calls(m), 0);
    mock_host_free(m);

    /* A node run out of order fails cleanly. */
    m = mock_host_new(ITT_POOL_INPUT);
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
    mock_host_free(m);
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
