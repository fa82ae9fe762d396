/*
 * test_release_check_runs.c - whole runs of release_check through the mock
 * host: a job finished at start, polling with its delays, failed jobs, tool
 * failures, odd answers, transient poll errors, and cancellation.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include <sofiia/graph.h>

#include "cu_run.h"
#include "mock_host.h"
#include "rc_logic.h"
#include "rc_nodes.h"
#include "rc_test_support.h"

extern const sv_graph sv_graph_descriptor;

#define TOOL RC_TOOL
#define MAX_STEPS 64

/* ---- whole runs through the mock host --------------------------------- */

#define FIVE_PASS                                                                                  \
    "{\"pr_review\":\"pass\",\"deps\":\"pass\",\"drift\":\"pass\",\"smoke\":\"pass\","             \
    "\"privacy\":\"pass\"}"
#define TWO_FAIL                                                                                   \
    "[{\"name\":\"pr_review\",\"status\":\"pass\"},{\"name\":\"deps\",\"status\":\"fail\"},"       \
    "{\"name\":\"drift\",\"status\":\"fail\"},{\"name\":\"smoke\",\"status\":\"skipped\"},"        \
    "{\"name\":\"privacy\",\"status\":\"pass\"}]"

static mock_host *mock_new(const char *input)
{
    mock_host *m = mock_host_new(input);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

static void test_run_finished_at_start(void)
{
    mock_host *m = mock_new("{\"service_name\":\"router\",\"timeouts\":{\"overall_sec\":180},"
                            "\"poll_interval_ms\":1000}");
    mock_answer_add(m, TOOL, "start_task", SV_OK,
                    "{\"job_id\":\"j1\",\"status\":\"succeeded\",\"result\":{\"pass\":true,"
                    "\"gates\":" FIVE_PASS ",\"recommendations\":[],\"elapsed_ms\":4200}}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,finalize");
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), 0);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), 0);
    CU_ASSERT_EQUAL_FATAL(mock_n_calls(m), 1);
    const mock_call *c = mock_get_call(m, 0);
    CU_ASSERT_STRING_EQUAL(c->node, "start_job");
    CU_ASSERT_TRUE(rct_jeq(c->params, "{\"task_id\":\"release_check\",\"inputs\":{\"service_name\":"
                                      "\"router\"}}"));
    json_object *r = mock_result(m);
    CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 1);
    CU_ASSERT_EQUAL(rct_jlen(r, "gates"), 5);
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(r, "gates[0].name")), "pr_review");
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(r, "summary")), "All 5 gates passed.");
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 4200);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    /* no events carrying anything from the job */
    CU_ASSERT_EQUAL(json_object_array_length(mock_events(m)), 0);
    mock_host_free(m);
}

static void test_run_polls_with_delay(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":250}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"queued\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK,
                    "{\"job_id\":\"j1\",\"status\":\"succeeded\",\"result\":{\"gates\":" TWO_FAIL
                    ",\"recommendations\":[\"Upgrade lodash\"]}}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,poll_job,poll_job,finalize");
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), 3);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), 3 * 250);
    for (int i = 1; i < mock_n_calls(m); i++)
        CU_ASSERT_TRUE(rct_jeq(mock_get_call(m, i)->params, "{\"job_id\":\"j1\"}"));
    CU_ASSERT_EQUAL(rct_jint(mock_state(m), RC_ST_POLLS, -1), 3);
    json_object *r = mock_result(m);
    /* failing gates are a succeeded run with pass false */
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 0);
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(r, "summary")), "2 of 5 gates failed: deps, drift.");
    CU_ASSERT_TRUE(rct_jeq(rct_jget(r, "recommendations"), "[\"Upgrade lodash\"]"));
    /* no elapsed_ms from the job: the mock clock moved by the delays only */
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 750);
    mock_host_free(m);
}

static void test_run_default_interval(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"succeeded\"}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), RC_POLL_INTERVAL_DEFAULT_MS);
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(mock_result(m), "summary")), "No gates were reported.");
    mock_host_free(m);
}

static void test_run_job_failed(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":10}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK,
                    "{\"job_id\":\"j1\",\"status\":\"failed\",\"error\":{\"code\":"
                    "\"pipeline_error\",\"message\":\"deps scanner crashed\"}}",
                    NULL);
    int rc = mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0);
    CU_ASSERT_TRUE(rc < 0 && rc != SV_ECANCELLED);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,finalize");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "job_failed");
    CU_ASSERT_STRING_EQUAL(mock_fail_message(m),
                           "release_check job j1 failed: pipeline_error: deps scanner crashed");
    CU_ASSERT_PTR_NULL(mock_result(m));
    CU_ASSERT_EQUAL(mock_on_cancel_calls(m), 0);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 0);
    mock_host_free(m);
}

static void test_run_job_failed_at_start(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"status\":\"failed\",\"error\":\"no runner\"}",
                    NULL);
    CU_ASSERT_TRUE(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0) < 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,finalize");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "job_failed");
    CU_ASSERT_STRING_EQUAL(mock_fail_message(m), "release_check job failed: no runner");
    mock_host_free(m);
}

static void test_run_start_tool_failure(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_ETOOL, NULL, "forbidden");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "forbidden");
    CU_ASSERT_PTR_NOT_NULL(strstr(mock_fail_message(m), "start_task"));
    CU_ASSERT_PTR_NULL(mock_result(m));
    mock_host_free(m);
}

static void test_run_bad_start_answers(void)
{
    static const char *const bad[] = {
        "{\"status\":\"running\"}",                /* no job id */
        "{\"job_id\":\"\",\"status\":\"queued\"}", /* empty job id */
        "{\"job_id\":[1],\"status\":\"queued\"}",  /* odd job id */
        "[]",
        "\"j1\"",
        NULL, /* no data at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mock_host *m = mock_new("{}");
        mock_answer_add(m, TOOL, "start_task", SV_OK, bad[i], NULL);
        CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ERR);
        CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "bad_job");
        CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job");
        mock_host_free(m);
    }
}

static void test_run_odd_answers_survive(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":5}");
    /* numeric job id, no status: polled as a running job */
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":42}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":null,\"job_id\":\"other\"}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"succeeded\",\"result\":\"garbage\"}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,poll_job,finalize");
    /* the first id stays: a poll answer never renames the job */
    CU_ASSERT_TRUE(rct_jeq(mock_get_call(m, 2)->params, "{\"job_id\":\"42\"}"));
    json_object *r = mock_result(m);
    CU_ASSERT_EQUAL(json_object_object_length(r), 5);
    CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 1);
    CU_ASSERT_EQUAL(rct_jlen(r, "gates"), 0);
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 10);
    mock_host_free(m);

    /* a get_job answer that is no object fails the run cleanly */
    m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "[1,2,3]", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ERR);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "bad_job");
    mock_host_free(m);
}

static void test_run_transient_poll_errors(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":100}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "unavailable");
    mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "timeout");
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"running\"}", NULL);
    for (int i = 0; i < RC_MAX_POLL_ERRORS - 1; i++)
        mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "unavailable");
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"succeeded\"}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), 3 + RC_MAX_POLL_ERRORS);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), 100 * (3 + RC_MAX_POLL_ERRORS));
    CU_ASSERT_EQUAL(rct_jint(mock_state(m), RC_ST_POLL_ERRORS, -1), 0);
    CU_ASSERT_PTR_NOT_NULL(mock_result(m));
    mock_host_free(m);

    /* five in a row fail the run with that code */
    m = mock_new("{\"poll_interval_ms\":100}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    for (int i = 0; i < RC_MAX_POLL_ERRORS + 2; i++)
        mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "unavailable");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ETOOL);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), RC_MAX_POLL_ERRORS);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "unavailable");
    CU_ASSERT_PTR_NULL(mock_result(m));
    mock_host_free(m);
}

static void test_run_poll_other_tool_error(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "not_found");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "not_found");
    mock_host_free(m);
}

/* A run cancelled at the given tool call while polling, with that reason. */
static void check_cancel_while_polling(int reason)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":50}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j7\",\"status\":\"running\"}",
                    NULL);
    for (int i = 0; i < 5; i++)
        mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"job_id\":\"j7\",\"status\":\"running\"}",
                        NULL);
    mock_answer_add(m, TOOL, "cancel_job", SV_OK, "{\"job_id\":\"j7\",\"status\":\"cancelled\"}",
                    NULL);
    mock_cancel_at_call(m, 4); /* start, get, get, then the third get is cut */
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, reason), SV_ECANCELLED);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,poll_job,poll_job");
    CU_ASSERT_EQUAL(mock_on_cancel_calls(m), 1);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 1);
    const mock_call *last = mock_get_call(m, mock_n_calls(m) - 1);
    CU_ASSERT_STRING_EQUAL(last->action, "cancel_job");
    CU_ASSERT_TRUE(rct_jeq(last->params, "{\"job_id\":\"j7\"}"));
    CU_ASSERT_EQUAL(rct_jbool(mock_state(m), RC_ST_CANCEL_SENT, 0), 1);
    CU_ASSERT_PTR_NULL(mock_result(m));

    /* a second on_cancel (which the host never makes) still sends nothing */
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), reason);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 1);
    mock_host_free(m);
}

static void test_cancel_during_polling(void)
{
    check_cancel_while_polling(SV_CANCEL_USER);
}

static void test_timeout_during_polling(void)
{
    check_cancel_while_polling(SV_CANCEL_TIMEOUT);
}

static void test_cancel_before_job_exists(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_cancel_at_call(m, 1);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, SV_CANCEL_USER), SV_ECANCELLED);
    CU_ASSERT_EQUAL(mock_on_cancel_calls(m), 1);
    CU_ASSERT_EQUAL(mock_n_calls(m), 1);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 0);
    mock_host_free(m);
}

static void test_cancel_after_job_finished(void)
{
    /* on_cancel on a job known to be finished sends nothing */
    mock_host *m = mock_new("{}");
    json_object *st = mock_state(m);
    json_object_object_add(st, RC_ST_JOB_ID, json_object_new_string("j1"));
    json_object_object_add(st, RC_ST_JOB_STATUS, json_object_new_string("succeeded"));
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), SV_CANCEL_TIMEOUT);
    CU_ASSERT_EQUAL(mock_n_calls(m), 0);
    mock_host_free(m);
}

static void test_cancel_job_error_ignored(void)
{
    mock_host *m = mock_new("{}");
    json_object *st = mock_state(m);
    json_object_object_add(st, RC_ST_JOB_ID, json_object_new_string("j1"));
    json_object_object_add(st, RC_ST_JOB_STATUS, json_object_new_string("running"));
    mock_answer_add(m, TOOL, "cancel_job", SV_ETOOL, NULL, "unavailable");
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), SV_CANCEL_USER);
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), SV_CANCEL_USER);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 1);
    mock_host_free(m);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"finished at start skips polling", test_run_finished_at_start},
        {"polls with delay", test_run_polls_with_delay},
        {"default poll interval", test_run_default_interval},
        {"job failed", test_run_job_failed},
        {"job failed at start", test_run_job_failed_at_start},
        {"start_task tool failure", test_run_start_tool_failure},
        {"bad start answers", test_run_bad_start_answers},
        {"odd answers survive", test_run_odd_answers_survive},
        {"transient poll errors", test_run_transient_poll_errors},
        {"other poll tool error", test_run_poll_other_tool_error},
        {"cancel during polling", test_cancel_during_polling},
        {"timeout during polling", test_timeout_during_polling},
        {"cancel before job exists", test_cancel_before_job_exists},
        {"cancel after job finished", test_cancel_after_job_finished},
        {"cancel_job error ignored", test_cancel_job_error_ignored},
    };
    static const sv_cu_suite suites[] = {
        {.name = "release_check runs", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
