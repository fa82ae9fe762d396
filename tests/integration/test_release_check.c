/*
 * test_release_check.c - release_check through the real daemon and the
 * router simulator: each scenario of etc/scenarios/release_*.json, the
 * overall timeout, a user cancel and bad inputs.  Every wait has a deadline;
 * every test stops the processes it started, also when an assertion fails.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "harness.h"

#define S(x) ((x) ? (x) : "(null)")
#define RUN_DEADLINE_MS 15000
#define QUIET_MS 700 /* how long "no further request" is watched for */

typedef struct env {
    th_proc sim;
    th_proc d;
    int have_sim;
    int have_d;
} env;

/* Start the simulator with a scenario (NULL = none) and the daemon with the
 * release_check plugin.  0 or -1; on -1 whatever started is stopped. */
static int env_start(env *e, const char *scenario)
{
    static const char *const plugins[] = {"release_check", NULL};
    memset(e, 0, sizeof *e);
    if (scenario) {
        if (th_sim_start(scenario, NULL, &e->sim) != 0) {
            fprintf(stderr, "\n  cannot start router-sim with %s\n", scenario);
            return -1;
        }
        e->have_sim = 1;
    }
    if (th_daemon_start(plugins, NULL, e->have_sim ? &e->sim : NULL, &e->d) != 0) {
        fprintf(stderr, "\n  cannot start the daemon (log: %s)\n", e->d.log_path);
        if (e->have_sim)
            th_proc_stop(&e->sim, 5000);
        e->have_sim = 0;
        return -1;
    }
    e->have_d = 1;
    return 0;
}

static void env_stop(env *e)
{
    if (e->have_d)
        th_proc_stop(&e->d, 5000);
    if (e->have_sim)
        th_proc_stop(&e->sim, 5000);
    e->have_d = e->have_sim = 0;
}

/* Number of recorded tool calls of `action`, and whether every recorded tool
 * call carried graph_run_id == run_id (checked when run_id is not NULL). */
static int count_action(const env *e, const char *action, const char *run_id, int *all_tagged)
{
    json_object *reqs = th_sim_requests(&e->sim);
    size_t n = json_object_is_type(reqs, json_type_array) ? json_object_array_length(reqs) : 0;
    int count = 0;
    if (all_tagged)
        *all_tagged = n > 0;
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(reqs, i);
        const char *a = th_get_str(r, "body.action");
        /* The harness's readiness probes are recorded too: only tool calls count. */
        if (strcmp(S(th_get_str(r, "path")), "/v1/tools/execute") != 0)
            continue;
        if (a && strcmp(a, action) == 0)
            count++;
        if (all_tagged && run_id) {
            const char *id = th_get_str(r, "body.metadata.graph_run_id");
            if (!id || strcmp(id, run_id) != 0) {
                if (*all_tagged)
                    fprintf(stderr, "\n  request %zu has graph_run_id %s, not %s: %s\n", i, S(id),
                            run_id, json_object_to_json_string(r));
                *all_tagged = 0;
            }
        }
    }
    json_object_put(reqs);
    return count;
}

/* The params of the first recorded request of `action` (caller puts). */
static json_object *first_params(const env *e, const char *action)
{
    json_object *reqs = th_sim_requests(&e->sim), *p = NULL;
    size_t n = json_object_is_type(reqs, json_type_array) ? json_object_array_length(reqs) : 0;
    for (size_t i = 0; i < n && !p; i++) {
        json_object *r = json_object_array_get_idx(reqs, i);
        const char *a = th_get_str(r, "body.action");
        if (a && strcmp(a, action) == 0)
            p = json_object_get(th_get(r, "body.params"));
    }
    json_object_put(reqs);
    return p;
}

/* Wait until `action` has been requested at least n times; 0 or -1. */
static int wait_action(const env *e, const char *action, int n, int timeout_ms)
{
    long long end = th_mono_ms() + timeout_ms;
    int total = 0;
    for (;;) {
        if (count_action(e, action, NULL, NULL) >= n)
            return 0;
        if (th_mono_ms() >= end)
            return -1;
        /* Block until one more request arrives or the deadline passes. */
        json_object *reqs = th_sim_requests(&e->sim);
        total =
            json_object_is_type(reqs, json_type_array) ? (int)json_object_array_length(reqs) : 0;
        json_object_put(reqs);
        long long left = end - th_mono_ms();
        th_sim_wait_requests(&e->sim, total + 1, left > 0 ? (int)left : 0);
    }
}

/* After the run ended, no further request should come: watch for one. */
static int no_more_requests(const env *e)
{
    json_object *reqs = th_sim_requests(&e->sim);
    int total =
        json_object_is_type(reqs, json_type_array) ? (int)json_object_array_length(reqs) : 0;
    json_object_put(reqs);
    return th_sim_wait_requests(&e->sim, total + 1, QUIET_MS) != 0;
}

static json_object *run_to_end(const env *e, const char *input, char run_id[64])
{
    long st = th_start_run(e->d.port, "release_check", input, run_id);
    CU_ASSERT_EQUAL(st, 202);
    if (st != 202)
        return NULL;
    json_object *view = th_wait_run(e->d.port, run_id, RUN_DEADLINE_MS);
    CU_ASSERT_PTR_NOT_NULL(view);
    return view;
}

/* ---- scenarios ---------------------------------------------------------- */

/* The seed's example input, polling fast. */
static void test_release_passes(void)
{
    env e;
    char run_id[64] = "";
    json_object *view = NULL, *params = NULL;
    int tagged = 0;
    if (env_start(&e, "etc/scenarios/release_pass.json") != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    view = run_to_end(&e,
                      "{\"service_name\":\"router\",\"run_deps\":true,\"run_drift\":true,"
                      "\"poll_interval_ms\":50}",
                      run_id);
    if (!view)
        goto out;
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "status")), "succeeded");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "graph")), "release_check");
    CU_ASSERT_TRUE(json_object_get_boolean(th_get(view, "result.pass")));
    CU_ASSERT_TRUE(json_object_is_type(th_get(view, "result.pass"), json_type_boolean));
    CU_ASSERT_EQUAL(th_len(view, "result.gates"), 5);
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[0].name")), "pr_review");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[4].status")), "pass");
    CU_ASSERT_EQUAL(th_len(view, "result.recommendations"), 0);
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.summary")), "All 5 gates passed.");
    CU_ASSERT_EQUAL(th_get_int(view, "result.elapsed_ms", -1), 4200);
    CU_ASSERT_PTR_NULL(th_get(view, "error"));

    CU_ASSERT_EQUAL(count_action(&e, "start_task", run_id, &tagged), 1);
    CU_ASSERT_TRUE(tagged);
    CU_ASSERT_EQUAL(count_action(&e, "get_job", NULL, NULL), 3);
    CU_ASSERT_EQUAL(count_action(&e, "cancel_job", NULL, NULL), 0);

    /* start_task got every input with defaults, minus the supervisor's own */
    params = first_params(&e, "start_task");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "task_id")), "release_check");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "inputs.service_name")), "router");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "inputs.deps_vuln_mode")), "offline_cache");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "inputs.deps_targets[1]")), "node");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "inputs.risk_profile")), "default");
    CU_ASSERT_PTR_NOT_NULL(th_get(params, "inputs.drift_categories"));
    CU_ASSERT_PTR_NULL(th_get(params, "inputs.timeouts"));
    CU_ASSERT_PTR_NULL(th_get(params, "inputs.poll_interval_ms"));
    CU_ASSERT_EQUAL(json_object_object_length(th_get(params, "inputs")), 11);
out:
    json_object_put(params);
    json_object_put(view);
    env_stop(&e);
}

static void test_two_gates_fail(void)
{
    env e;
    char run_id[64] = "";
    json_object *view = NULL;
    int tagged = 0;
    if (env_start(&e, "etc/scenarios/release_gates_fail.json") != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    view = run_to_end(&e, "{\"service_name\":\"router\",\"poll_interval_ms\":20}", run_id);
    if (!view)
        goto out;
    /* failing gates: the check ran, so the run succeeded */
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "status")), "succeeded");
    CU_ASSERT_TRUE(json_object_is_type(th_get(view, "result.pass"), json_type_boolean));
    CU_ASSERT_FALSE(json_object_get_boolean(th_get(view, "result.pass")));
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.summary")),
                           "2 of 5 gates failed: deps, drift.");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[0].status")), "pass");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[1].status")), "fail");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[2].status")), "fail");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[3].status")), "skipped");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[4].status")), "pass");
    CU_ASSERT_PTR_NULL(th_get(view, "result.gates[1].details"));
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.recommendations[1]")),
                           "Regenerate the OpenAPI spec of router");
    CU_ASSERT_EQUAL(th_get_int(view, "result.elapsed_ms", -1), 3100);
    CU_ASSERT_EQUAL(count_action(&e, "get_job", run_id, &tagged), 2);
    CU_ASSERT_TRUE(tagged);
out:
    json_object_put(view);
    env_stop(&e);
}

static void test_job_fails(void)
{
    env e;
    char run_id[64] = "";
    json_object *view = NULL;
    const char *msg;
    int tagged = 0;
    if (env_start(&e, "etc/scenarios/release_job_fails.json") != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    view = run_to_end(&e, "{\"poll_interval_ms\":20}", run_id);
    if (!view)
        goto out;
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "status")), "failed");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "error.code")), "job_failed");
    msg = S(th_get_str(view, "error.message"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "pipeline_error"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "drift analyzer crashed"));
    CU_ASSERT_PTR_NULL(th_get(view, "result"));
    CU_ASSERT_EQUAL(count_action(&e, "get_job", run_id, &tagged), 2);
    CU_ASSERT_TRUE(tagged);
    CU_ASSERT_EQUAL(count_action(&e, "cancel_job", NULL, NULL), 0);
out:
    json_object_put(view);
    env_stop(&e);
}

static void test_finished_at_start(void)
{
    env e;
    char run_id[64] = "";
    json_object *view = NULL;
    if (env_start(&e, "etc/scenarios/release_instant.json") != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    view = run_to_end(&e, "{}", run_id);
    if (!view)
        goto out;
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "status")), "succeeded");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.summary")), "All 3 gates passed.");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "result.gates[2].name")), "drift");
    CU_ASSERT_EQUAL(count_action(&e, "start_task", NULL, NULL), 1);
    CU_ASSERT_EQUAL(count_action(&e, "get_job", NULL, NULL), 0);
out:
    json_object_put(view);
    env_stop(&e);
}

/* ---- timeout and cancel ------------------------------------------------- */

static void test_never_finishes_times_out(void)
{
    env e;
    char run_id[64] = "";
    json_object *view = NULL, *params = NULL;
    long long t0, took;
    int tagged = 0;
    if (env_start(&e, "etc/scenarios/release_never_finishes.json") != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    t0 = th_mono_ms();
    view = run_to_end(&e, "{\"timeouts\":{\"overall_sec\":2},\"poll_interval_ms\":100}", run_id);
    took = th_mono_ms() - t0;
    if (!view)
        goto out;
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "status")), "failed");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "error.code")), "timeout");
    CU_ASSERT_TRUE(took >= 1800 && took < 10000);
    CU_ASSERT_EQUAL(wait_action(&e, "cancel_job", 1, 5000), 0);
    CU_ASSERT_TRUE(no_more_requests(&e));
    CU_ASSERT_EQUAL(count_action(&e, "cancel_job", run_id, &tagged), 1);
    CU_ASSERT_TRUE(tagged);
    /* polled all along, about every 100 ms */
    CU_ASSERT_TRUE(count_action(&e, "get_job", NULL, NULL) >= 5);
    params = first_params(&e, "cancel_job");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "job_id")), "rc-forever-1");
out:
    json_object_put(params);
    json_object_put(view);
    env_stop(&e);
}

static void test_user_cancel_mid_poll(void)
{
    env e;
    char run_id[64] = "";
    char path[128];
    json_object *view = NULL, *params = NULL;
    th_resp r;
    long st;
    int tagged = 0;
    memset(&r, 0, sizeof r);
    if (env_start(&e, "etc/scenarios/release_never_finishes.json") != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    st = th_start_run(e.d.port, "release_check", "{\"poll_interval_ms\":100}", run_id);
    CU_ASSERT_EQUAL(st, 202);
    if (st != 202)
        goto out;
    /* cancel once it is really polling */
    CU_ASSERT_EQUAL(wait_action(&e, "get_job", 2, RUN_DEADLINE_MS), 0);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", run_id);
    CU_ASSERT_EQUAL(th_http("POST", e.d.port, path, NULL, NULL, &r), 0);
    CU_ASSERT_TRUE(r.status == 202 || r.status == 200);
    CU_ASSERT_EQUAL(th_wait_status(e.d.port, run_id, "cancelled", RUN_DEADLINE_MS), 0);
    CU_ASSERT_EQUAL(wait_action(&e, "cancel_job", 1, 5000), 0);
    CU_ASSERT_TRUE(no_more_requests(&e));
    CU_ASSERT_EQUAL(count_action(&e, "cancel_job", run_id, &tagged), 1);
    CU_ASSERT_TRUE(tagged);
    params = first_params(&e, "cancel_job");
    CU_ASSERT_STRING_EQUAL(S(th_get_str(params, "job_id")), "rc-forever-1");
    view = th_wait_run(e.d.port, run_id, RUN_DEADLINE_MS);
    CU_ASSERT_STRING_EQUAL(S(th_get_str(view, "status")), "cancelled");
    CU_ASSERT_PTR_NULL(th_get(view, "result"));
out:
    th_resp_free(&r);
    json_object_put(params);
    json_object_put(view);
    env_stop(&e);
}

/* ---- inputs ----------------------------------------------------------- */

static void expect_400(int port, const char *input, const char *field)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    char body[1024];
    th_resp r;
    memset(&r, 0, sizeof r);
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"daarion\",\"user_id\":\"sofiia\",\"agent_id\":\"sofiia\","
             "\"input\":%s}",
             input);
    CU_ASSERT_EQUAL(th_http("POST", port, "/v1/graphs/release_check/runs", body, headers, &r), 0);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_STRING_EQUAL(S(th_get_str(r.json, "error.details.field")), field);
    CU_ASSERT_PTR_NOT_NULL(th_get_str(r.json, "error.code"));
    CU_ASSERT_PTR_NOT_NULL(th_get_str(r.json, "error.message"));
    if (r.status != 400 || !th_get_str(r.json, "error.details.field"))
        fprintf(stderr, "\n  input %s: HTTP %ld %s\n", input, r.status, S(r.body));
    th_resp_free(&r);
}

static void test_bad_inputs(void)
{
    env e;
    if (env_start(&e, NULL) != 0) {
        CU_FAIL("daemon did not start");
        return;
    }
    expect_400(e.d.port, "{\"poll_interval_ms\":70000}", "poll_interval_ms");
    expect_400(e.d.port, "{\"poll_interval_ms\":-1}", "poll_interval_ms");
    expect_400(e.d.port, "{\"poll_interval_ms\":\"fast\"}", "poll_interval_ms");
    expect_400(e.d.port, "{\"fail_fast\":\"yes\"}", "fail_fast");
    expect_400(e.d.port, "{\"unknown_field\":1}", "unknown_field");
    expect_400(e.d.port, "{\"service_name\":42}", "service_name");
    expect_400(e.d.port, "{\"deps_targets\":\"python\"}", "deps_targets");
    expect_400(e.d.port, "{\"deps_targets\":[\"python\",3]}", "deps_targets[1]");
    expect_400(e.d.port, "{\"timeouts\":{\"overall_sec\":\"2\"}}", "timeouts.overall_sec");
    expect_400(e.d.port, "{\"timeouts\":{\"overall_sec\":0}}", "timeouts.overall_sec");
    expect_400(e.d.port, "{\"timeouts\":{\"overall_sec\":86401}}", "timeouts.overall_sec");
    env_stop(&e);
}

static void test_listed_with_schema(void)
{
    env e;
    th_resp r;
    memset(&r, 0, sizeof r);
    if (env_start(&e, NULL) != 0) {
        CU_FAIL("daemon did not start");
        return;
    }
    CU_ASSERT_EQUAL(th_http("GET", e.d.port, "/v1/graphs", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    json_object *graphs = th_get(r.json, "graphs"), *g = NULL;
    size_t n = json_object_is_type(graphs, json_type_array) ? json_object_array_length(graphs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_array_get_idx(graphs, i);
        if (strcmp(S(th_get_str(x, "name")), "release_check") == 0)
            g = x;
    }
    CU_ASSERT_PTR_NOT_NULL(g);
    if (g) {
        CU_ASSERT_STRING_EQUAL(S(th_get_str(g, "nodes[0]")), "start_job");
        CU_ASSERT_STRING_EQUAL(S(th_get_str(g, "nodes[1]")), "poll_job");
        CU_ASSERT_STRING_EQUAL(S(th_get_str(g, "nodes[2]")), "finalize");
        CU_ASSERT_EQUAL(th_get_int(g, "input_schema.properties.poll_interval_ms.default", -1),
                        1000);
        CU_ASSERT_STRING_EQUAL(S(th_get_str(g, "input_schema.properties.service_name.default")),
                               "unknown");
    }
    th_resp_free(&r);
    env_stop(&e);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"release passes after a few polls", test_release_passes},
        {"two gates fail", test_two_gates_fail},
        {"job fails", test_job_fails},
        {"job finished at start", test_finished_at_start},
        {"never-finishing job times out", test_never_finishes_times_out},
        {"user cancel mid-poll", test_user_cancel_mid_poll},
        {"bad inputs", test_bad_inputs},
        {"listed with its schema", test_listed_with_schema},
    };
    static const sv_cu_suite suites[] = {
        {.name = "release_check through the daemon", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
