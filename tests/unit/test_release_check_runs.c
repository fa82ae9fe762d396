/*
 * test_release_check_runs.c - whole runs of release_check on the SDK's test
 * kit (sofiia/graph_test.h: the daemon's own rules on a mock host): a job
 * finished at start, polling with its delays, failed jobs, tool failures,
 * odd answers, transient poll errors, cancellation and the deadline.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include <sofiia/graph_test.h>

#include "cu_run.h"
#include "rc_logic.h"
#include "rc_nodes.h"
#include "rc_test_support.h"

extern const sv_graph sv_graph_descriptor;

#define TOOL RC_TOOL

#define FIVE_PASS                                                                                  \
    "{\"pr_review\":\"pass\",\"deps\":\"pass\",\"drift\":\"pass\",\"smoke\":\"pass\","             \
    "\"privacy\":\"pass\"}"
#define TWO_FAIL                                                                                   \
    "[{\"name\":\"pr_review\",\"status\":\"pass\"},{\"name\":\"deps\",\"status\":\"fail\"},"       \
    "{\"name\":\"drift\",\"status\":\"fail\"},{\"name\":\"smoke\",\"status\":\"skipped\"},"        \
    "{\"name\":\"privacy\",\"status\":\"pass\"}]"

static sv_test *kit(void)
{
    sv_test *t = sv_test_new(&sv_graph_descriptor);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

static void test_loads(void)
{
    sv_test *t = kit();
    CU_ASSERT_EQUAL(sv_test_load(t), 0);
    CU_ASSERT_STRING_EQUAL(sv_test_why(t), "");
    sv_test_free(t);
}

static void test_run_finished_at_start(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task",
                   "{\"job_id\":\"j1\",\"status\":\"succeeded\",\"result\":{\"pass\":true,"
                   "\"gates\":" FIVE_PASS ",\"recommendations\":[],\"elapsed_ms\":4200}}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'service_name': 'router'}"), SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,finalize"));
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "get_job", 0));
    CU_ASSERT_EQUAL(sv_test_waited_ms(t), 0);
    CU_ASSERT(sv_test_expect_calls(t, NULL, NULL, 1));
    /* the daemon fills the schema's defaults, so the job gets every one */
    CU_ASSERT(sv_test_expect_call(
        t, 0, TOOL, "start_task",
        "{'task_id': 'release_check', 'inputs': {'service_name': 'router', 'diff_text': '', "
        "'fail_fast': true, 'run_deps': true, 'run_drift': true, 'run_smoke': false, "
        "'deps_targets': ['python', 'node'], 'deps_vuln_mode': 'offline_cache', "
        "'deps_fail_on': ['CRITICAL', 'HIGH'], 'drift_categories': ['openapi', 'schema', "
        "'config', 'dependencies', 'infra'], 'risk_profile': 'default'}}"));
    CU_ASSERT_STRING_EQUAL(sv_test_call_at(t, 0)->node, "start_job");
    CU_ASSERT(sv_test_expect_result(t, "pass", "true"));
    CU_ASSERT_EQUAL(rct_jlen(sv_test_result(t), "gates"), 5);
    CU_ASSERT(sv_test_expect_result(t, "gates[0].name", "'pr_review'"));
    CU_ASSERT(sv_test_expect_result(t, "summary", "'All 5 gates passed.'"));
    CU_ASSERT(sv_test_expect_result(t, "elapsed_ms", "4200"));
    /* no events of the graph's own: nothing from the job leaks into them */
    CU_ASSERT_EQUAL(
        sv_test_count_events(t, NULL, NULL),
        sv_test_count_events(t, "run_start", NULL) + sv_test_count_events(t, "node_start", NULL) +
            sv_test_count_events(t, "node_end", NULL) + sv_test_count_events(t, "tool_call", NULL) +
            sv_test_count_events(t, "run_end", NULL));
    CU_ASSERT(sv_test_expect_events(t, "tool_call", "start_job", 1));
    sv_test_free(t);
}

static void test_run_polls_with_delay(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'queued'}");
    sv_test_answer(t, TOOL, "get_job", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job",
                   "{\"job_id\":\"j1\",\"status\":\"succeeded\",\"result\":{\"gates\":" TWO_FAIL
                   ",\"recommendations\":[\"Upgrade lodash\"]}}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 250}"), SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,poll_job,poll_job,poll_job,finalize"));
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "get_job", 3));
    CU_ASSERT_EQUAL(sv_test_waited_ms(t), 3 * 250);
    for (int i = 1; i < sv_test_calls(t); i++)
        CU_ASSERT(sv_test_expect_call(t, i, TOOL, "get_job", "{'job_id': 'j1'}"));
    CU_ASSERT(sv_test_expect_state(t, RC_ST_POLLS, "3"));
    /* failing gates are a succeeded run with pass false */
    CU_ASSERT(sv_test_expect_status(t, "succeeded", ""));
    CU_ASSERT(sv_test_expect_result(t, "pass", "false"));
    CU_ASSERT(sv_test_expect_result(t, "summary", "'2 of 5 gates failed: deps, drift.'"));
    CU_ASSERT(sv_test_expect_result(t, "recommendations", "['Upgrade lodash']"));
    /* no elapsed_ms from the job: the clock moved by the delays only */
    CU_ASSERT(sv_test_expect_result(t, "elapsed_ms", "750"));
    sv_test_free(t);
}

static void test_run_default_interval(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job", "{'status': 'succeeded'}");
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_SUCCEEDED);
    CU_ASSERT_EQUAL(sv_test_waited_ms(t), RC_POLL_INTERVAL_DEFAULT_MS);
    CU_ASSERT(sv_test_expect_result(t, "summary", "'No gates were reported.'"));
    sv_test_free(t);
}

static void test_run_job_failed(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job",
                   "{'job_id': 'j1', 'status': 'failed', 'error': {'code': 'pipeline_error', "
                   "'message': 'deps scanner crashed'}}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 10}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,poll_job,finalize"));
    CU_ASSERT(sv_test_expect_status(t, "failed", "job_failed"));
    CU_ASSERT_STRING_EQUAL(sv_test_error_message(t),
                           "release_check job j1 failed: pipeline_error: deps scanner crashed");
    CU_ASSERT_PTR_NULL(sv_test_result(t));
    CU_ASSERT_EQUAL(sv_test_on_cancel_calls(t), 0);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "cancel_job", 0));
    CU_ASSERT(sv_test_expect_events(t, "node_error", "finalize", 1));
    sv_test_free(t);
}

static void test_run_job_failed_at_start(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'status': 'failed', 'error': 'no runner'}");
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,finalize"));
    CU_ASSERT(sv_test_expect_status(t, "failed", "job_failed"));
    CU_ASSERT_STRING_EQUAL(sv_test_error_message(t), "release_check job failed: no runner");
    sv_test_free(t);
}

static void test_run_start_tool_failure(void)
{
    sv_test *t = kit();
    sv_test_answer_error(t, TOOL, "start_task", "forbidden", "denied by governance");
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_path(t, "start_job"));
    /* sv_call: the tool's code, and one line naming the call */
    CU_ASSERT(sv_test_expect_status(t, "failed", "forbidden"));
    CU_ASSERT_STRING_EQUAL(sv_test_error_message(t),
                           "job_orchestrator_tool/start_task failed: denied by governance");
    CU_ASSERT_PTR_NULL(sv_test_result(t));
    sv_test_free(t);

    /* no answer at all: what router-sim's 404 gives */
    t = kit();
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "not_found"));
    sv_test_free(t);
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
        sv_test *t = kit();
        sv_test_answer(t, TOOL, "start_task", bad[i]);
        CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_FAILED);
        CU_ASSERT(sv_test_expect_status(t, "failed", "bad_job"));
        CU_ASSERT(sv_test_expect_path(t, "start_job"));
        sv_test_free(t);
    }
}

static void test_run_odd_answers_survive(void)
{
    sv_test *t = kit();
    /* numeric job id, no status: polled as a running job */
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 42}");
    sv_test_answer(t, TOOL, "get_job", "{'status': null, 'job_id': 'other'}");
    sv_test_answer(t, TOOL, "get_job", "{'status': 'succeeded', 'result': 'garbage'}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 5}"), SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,poll_job,poll_job,finalize"));
    /* the first id stays: a poll answer never renames the job */
    CU_ASSERT(sv_test_expect_call(t, 2, TOOL, "get_job", "{'job_id': '42'}"));
    json_object *r = sv_test_result(t);
    CU_ASSERT_EQUAL(json_object_object_length(r), 5);
    CU_ASSERT(sv_test_expect_result(t, "pass", "true"));
    CU_ASSERT_EQUAL(rct_jlen(r, "gates"), 0);
    CU_ASSERT(sv_test_expect_result(t, "elapsed_ms", "10"));
    sv_test_free(t);

    /* a get_job answer that is no object fails the run cleanly */
    t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job", "[1,2,3]");
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "bad_job"));
    sv_test_free(t);
}

static void test_run_transient_poll_errors(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer_error(t, TOOL, "get_job", "unavailable", "router down");
    sv_test_answer_error(t, TOOL, "get_job", "timeout", "no answer");
    sv_test_answer(t, TOOL, "get_job", "{'status': 'running'}");
    for (int i = 0; i < RC_MAX_POLL_ERRORS - 1; i++)
        sv_test_answer_error(t, TOOL, "get_job", "unavailable", "router down");
    sv_test_answer(t, TOOL, "get_job", "{'status': 'succeeded'}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 100}"), SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "get_job", 3 + RC_MAX_POLL_ERRORS));
    CU_ASSERT_EQUAL(sv_test_waited_ms(t), 100 * (3 + RC_MAX_POLL_ERRORS));
    CU_ASSERT(sv_test_expect_state(t, RC_ST_POLL_ERRORS, "0"));
    CU_ASSERT_PTR_NOT_NULL(sv_test_result(t));
    sv_test_free(t);

    /* five in a row fail the run with that code; the last answer repeats */
    t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer_error(t, TOOL, "get_job", "unavailable", "router down");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 100}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "get_job", RC_MAX_POLL_ERRORS));
    CU_ASSERT(sv_test_expect_status(t, "failed", "unavailable"));
    CU_ASSERT_PTR_NULL(sv_test_result(t));
    sv_test_free(t);
}

static void test_run_poll_other_tool_error(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_answer_error(t, TOOL, "get_job", "not_found", "no such job");
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,poll_job"));
    CU_ASSERT(sv_test_expect_status(t, "failed", "not_found"));
    sv_test_free(t);
}

static void test_cancel_during_polling(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j7', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job", "{'job_id': 'j7', 'status': 'running'}");
    sv_test_answer(t, TOOL, "cancel_job", "{'job_id': 'j7', 'status': 'cancelled'}");
    sv_test_cancel_at_call(t, 4); /* start, get, get, then the third get is cut */
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 50}"), SV_TEST_CANCELLED);
    CU_ASSERT(sv_test_expect_path(t, "start_job,poll_job,poll_job,poll_job"));
    CU_ASSERT_EQUAL(sv_test_on_cancel_calls(t), 1);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "cancel_job", 1));
    CU_ASSERT(sv_test_expect_call(t, -1, TOOL, "cancel_job", "{'job_id': 'j7'}"));
    CU_ASSERT_STRING_EQUAL(sv_test_call_at(t, -1)->node, "on_cancel");
    CU_ASSERT(sv_test_expect_state(t, RC_ST_CANCEL_SENT, "true"));
    CU_ASSERT_PTR_NULL(sv_test_result(t));

    /* a second on_cancel (which the host never makes) still sends nothing */
    sv_test_on_cancel(t, SV_CANCEL_USER);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "cancel_job", 1));
    sv_test_free(t);
}

static void test_timeout_during_polling(void)
{
    /* timeouts.overall_sec is the run's deadline (the descriptor says so) */
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j7', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job", "{'job_id': 'j7', 'status': 'running'}");
    sv_test_answer(t, TOOL, "cancel_job", "{'job_id': 'j7', 'status': 'cancelled'}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 300, 'timeouts': {'overall_sec': 1}}"),
                    SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "timeout"));
    CU_ASSERT(sv_test_expect_path(t, "start_job,poll_job,poll_job,poll_job"));
    CU_ASSERT_EQUAL(sv_test_now_ms(t) - 1771840800000LL, 1000);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "cancel_job", 1));
    CU_ASSERT(sv_test_expect_call(t, -1, TOOL, "cancel_job", "{'job_id': 'j7'}"));
    sv_test_free(t);

    /* without it, the graph's default of 180 s */
    t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j7', 'status': 'running'}");
    sv_test_answer(t, TOOL, "get_job", "{'job_id': 'j7', 'status': 'running'}");
    CU_ASSERT_EQUAL(sv_test_run(t, "{'poll_interval_ms': 60000}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "timeout"));
    CU_ASSERT_EQUAL(sv_test_now_ms(t) - 1771840800000LL, 180000);
    sv_test_free(t);
}

static void test_cancel_before_job_exists(void)
{
    sv_test *t = kit();
    sv_test_answer(t, TOOL, "start_task", "{'job_id': 'j1', 'status': 'running'}");
    sv_test_cancel_at_call(t, 1);
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_CANCELLED);
    CU_ASSERT_EQUAL(sv_test_on_cancel_calls(t), 1);
    CU_ASSERT(sv_test_expect_calls(t, NULL, NULL, 1));
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "cancel_job", 0));
    sv_test_free(t);
}

static void test_cancel_after_job_finished(void)
{
    /* on_cancel on a job known to be finished sends nothing */
    sv_test *t = kit();
    json_object *st = sv_test_state(t);
    json_object_object_add(st, RC_ST_JOB_ID, json_object_new_string("j1"));
    json_object_object_add(st, RC_ST_JOB_STATUS, json_object_new_string("succeeded"));
    CU_ASSERT_EQUAL(sv_test_on_cancel(t, SV_CANCEL_TIMEOUT), 0);
    CU_ASSERT_EQUAL(sv_test_calls(t), 0);
    sv_test_free(t);
}

static void test_cancel_job_error_ignored(void)
{
    sv_test *t = kit();
    json_object *st = sv_test_state(t);
    json_object_object_add(st, RC_ST_JOB_ID, json_object_new_string("j1"));
    json_object_object_add(st, RC_ST_JOB_STATUS, json_object_new_string("running"));
    sv_test_answer_error(t, TOOL, "cancel_job", "unavailable", "router down");
    sv_test_on_cancel(t, SV_CANCEL_USER);
    sv_test_on_cancel(t, SV_CANCEL_USER);
    CU_ASSERT(sv_test_expect_calls(t, TOOL, "cancel_job", 1));
    sv_test_free(t);
}

static void test_bad_inputs_refused(void)
{
    /* what the daemon's 400 says, before any node runs */
    static const char *const bad[][2] = {
        {"{'timeouts': {'overall_sec': 0}}", "timeouts.overall_sec"},
        {"{'timeouts': {'overall_sec': 86401}}", "timeouts.overall_sec"},
        {"{'poll_interval_ms': -1}", "poll_interval_ms"},
        {"{'no_such_field': 1}", "no_such_field"},
        {"{'run_deps': 'yes'}", "run_deps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sv_test *t = kit();
        CU_ASSERT_EQUAL(sv_test_run(t, bad[i][0]), -1);
        CU_ASSERT(sv_test_expect_refused(t, "invalid_input", bad[i][1]));
        CU_ASSERT_EQUAL(sv_test_calls(t), 0);
        sv_test_free(t);
    }
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"loads as the daemon loads it", test_loads},
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
        {"deadline during polling", test_timeout_during_polling},
        {"cancel before job exists", test_cancel_before_job_exists},
        {"cancel after job finished", test_cancel_after_job_finished},
        {"cancel_job error ignored", test_cancel_job_error_ignored},
        {"bad inputs refused as the daemon does", test_bad_inputs_refused},
    };
    static const sv_cu_suite suites[] = {
        {.name = "release_check runs", SV_CU_TESTS(tests)},
    };
    int rc = sv_cu_run(suites, sizeof suites / sizeof suites[0]);
    return rc ? rc : sv_test_failures() != 0;
}
