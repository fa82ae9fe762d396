/*
 * test_incident_triage.c - incident_triage through the real daemon and the
 * router simulator: each scenario of etc/scenarios/incident_*.json, asserting
 * the report's fields (not just "succeeded"), what was sent to the router,
 * the window clamp, and bad inputs.  Every wait has a deadline; every test
 * stops the processes it started, also when an assertion fails.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "harness.h"

#define S(x) ((x) ? (x) : "(null)")
#define RUN_DEADLINE_MS 30000
#define GRAPH "incident_triage"

typedef struct env {
    th_proc sim;
    th_proc d;
    int have_sim;
    int have_d;
} env;

/* Start the simulator with a scenario and the daemon with the plugin (and
 * extra daemon environment).  0 or -1; on -1 whatever started is stopped. */
static int env_start(env *e, const char *scenario, const char *const *daemon_env)
{
    static const char *const plugins[] = {GRAPH, NULL};
    memset(e, 0, sizeof *e);
    if (th_sim_start(scenario, NULL, &e->sim) != 0) {
        fprintf(stderr, "\n  cannot start router-sim with %s\n", scenario);
        return -1;
    }
    e->have_sim = 1;
    if (th_daemon_start(plugins, daemon_env, &e->sim, &e->d) != 0) {
        fprintf(stderr, "\n  cannot start the daemon (log: %s)\n", e->d.log_path);
        th_proc_stop(&e->sim, 5000);
        e->have_sim = 0;
        return -1;
    }
    e->have_d = 1;
    return 0;
}

/* Stop both; the daemon must exit 0 (under SV_DAEMON_WRAPPER=valgrind that
 * also means no memory error in the plugin). */
static void env_stop(env *e)
{
    if (e->have_d) {
        int rc = th_proc_stop(&e->d, 20000);
        if (rc != 0)
            fprintf(stderr, "\n  daemon exit status %d (log: %s)\n", rc, e->d.log_path);
        CU_ASSERT_EQUAL(rc, 0);
    }
    if (e->have_sim)
        th_proc_stop(&e->sim, 5000);
    e->have_d = e->have_sim = 0;
}

/* The recorded tool calls (not the harness's health probes), as a new array
 * of request bodies. */
static json_object *tool_calls(const env *e)
{
    json_object *reqs = th_sim_requests(&e->sim), *out = json_object_new_array();
    for (size_t i = 0; reqs && i < json_object_array_length(reqs); i++) {
        json_object *r = json_object_array_get_idx(reqs, i);
        if (strcmp(S(th_get_str(r, "path")), "/v1/tools/execute") == 0)
            json_object_array_add(out, json_object_get(th_get(r, "body")));
    }
    json_object_put(reqs);
    return out;
}

/* How many calls of action; and the params of the first one (borrowed). */
static int count_action(json_object *calls, const char *action, json_object **params)
{
    int n = 0;
    if (params)
        *params = NULL;
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *c = json_object_array_get_idx(calls, i);
        if (strcmp(S(th_get_str(c, "action")), action) != 0)
            continue;
        if (n++ == 0 && params)
            *params = th_get(c, "params");
    }
    return n;
}

/* Does every call carry metadata.graph_run_id == run_id and graph == GRAPH? */
static int all_tagged(json_object *calls, const char *run_id)
{
    int ok = json_object_array_length(calls) > 0;
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *c = json_object_array_get_idx(calls, i);
        if (strcmp(S(th_get_str(c, "metadata.graph_run_id")), run_id) != 0 ||
            strcmp(S(th_get_str(c, "metadata.graph")), GRAPH) != 0 ||
            !th_get_str(c, "metadata.node") || !th_get_str(c, "metadata.call_id")) {
            fprintf(stderr, "\n  call %zu is not tagged with %s: %s\n", i, run_id,
                    json_object_to_json_string(c));
            ok = 0;
        }
    }
    return ok;
}

/* Start a run of the graph and wait for its end; the view or NULL. */
static json_object *run_to_end(const env *e, const char *input, char run_id[64])
{
    long status = th_start_run(e->d.port, GRAPH, input, run_id);
    CU_ASSERT_EQUAL(status, 202);
    if (status != 202 || !run_id[0])
        return NULL;
    json_object *view = th_wait_run(e->d.port, run_id, RUN_DEADLINE_MS);
    CU_ASSERT_PTR_NOT_NULL(view);
    return view;
}

static int contains(const char *hay, const char *needle)
{
    if (hay && strstr(hay, needle))
        return 1;
    fprintf(stderr, "\n    \"%s\" not found in %s\n", needle, S(hay));
    return 0;
}

/* Does any string of the array at path contain needle? */
static int any_contains(json_object *o, const char *path, const char *needle)
{
    json_object *arr = th_get(o, path);
    for (size_t i = 0;
         arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++)
        if (strstr(S(json_object_get_string(json_object_array_get_idx(arr, i))), needle))
            return 1;
    fprintf(stderr, "\n    no entry of %s contains \"%s\": %s\n", path, needle,
            arr ? json_object_to_json_string(arr) : "(absent)");
    return 0;
}

static size_t len_at(json_object *o, const char *path)
{
    json_object *a = th_get(o, path);
    return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The first n distinct trace ids of a scenario's logs_query answer. */
static json_object *scenario_trace_ids(const char *scenario, int n)
{
    char path[512];
    char *text = th_read_file(th_src(scenario, path, sizeof path), NULL);
    json_object *root = text ? json_tokener_parse(text) : NULL, *ids = json_object_new_array();
    json_object *rules = th_get(root, "rules");
    free(text);
    for (size_t r = 0; rules && r < json_object_array_length(rules); r++) {
        json_object *rule = json_object_array_get_idx(rules, r);
        if (strcmp(S(th_get_str(rule, "action")), "logs_query") != 0)
            continue;
        json_object *lines = th_get(rule, "responses[0].body.data.lines");
        for (size_t i = 0; lines && i < json_object_array_length(lines); i++) {
            const char *id = th_get_str(json_object_array_get_idx(lines, i), "trace_id");
            int seen = 0;
            for (size_t k = 0; id && k < json_object_array_length(ids); k++)
                seen |= strcmp(json_object_get_string(json_object_array_get_idx(ids, k)), id) == 0;
            if (id && !seen && (int)json_object_array_length(ids) < n)
                json_object_array_add(ids, json_object_new_string(id));
        }
    }
    json_object_put(root);
    return ids;
}

static void test_db_pool_after_deploy(void)
{
    env e;
    char rid[64];
    if (env_start(&e, "etc/scenarios/incident_db_pool.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    json_object *view = run_to_end(&e,
                                   "{\"service\":\"router\",\"symptom\":\"High error rate "
                                   "after deploy\",\"env\":\"prod\",\"include_traces\":true,"
                                   "\"time_range\":{\"from\":\"2026-02-23T09:00:00Z\","
                                   "\"to\":\"2026-02-23T10:00:00Z\"}}",
                                   rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        TH_STR_EQ(th_get_str(view, "status"), "succeeded");
        TH_STR_EQ(th_get_str(view, "result.suspected_root_causes[0].cause"),
                  "DB connection-pool exhaustion");
        CU_ASSERT_EQUAL(th_get_int(view, "result.suspected_root_causes[0].rank", 0), 1);
        /* The pool lines, counted, are the first evidence. */
        CU_ASSERT(contains(th_get_str(view, "result.suspected_root_causes[0].evidence[0]"),
                           "37\xc3\x97 connection pool exhausted: timeout acquiring connection"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "alert DBConnectionPoolExhausted (critical) firing"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "health check db: fail"));
        TH_STR_EQ(th_get_str(view, "result.suspected_root_causes[1].cause"), "Recent deploy");
        CU_ASSERT(
            any_contains(view, "result.suspected_root_causes[1].evidence", "alert DeployRollout"));
        CU_ASSERT(contains(th_get_str(view, "result.impact_assessment"),
                           "SLO impact: error_rate=2.1%, latency_p95_ms=850, availability=99.2%"));
        CU_ASSERT(contains(th_get_str(view, "result.summary"),
                           "router (prod), 2026-02-23T09:00:00Z to 2026-02-23T10:00:00Z: most "
                           "likely DB connection-pool exhaustion (37 of 50 error lines); also a "
                           "recent deploy."));
        CU_ASSERT(contains(th_get_str(view, "result.mitigations_now[0]"), "Increase DB pool size"));
        CU_ASSERT(any_contains(view, "result.mitigations_now", "Increase ROUTER_DB_POOL_SIZE"));
        CU_ASSERT(any_contains(view, "result.mitigations_now", "Roll back the latest deploy"));
        CU_ASSERT(any_contains(view, "result.next_checks", "Verify healthz: db is fail"));
        CU_ASSERT_EQUAL(len_at(view, "result.data_gaps"), 0);
        CU_ASSERT_EQUAL(th_get_int(view, "result.references.metrics.alerts_count", -1), 2);
        CU_ASSERT_EQUAL(th_get_int(view, "result.references.metrics.slo.latency_p95_ms", -1), 850);
        CU_ASSERT_EQUAL(len_at(view, "result.references.log_samples"), 3);
        CU_ASSERT_EQUAL(len_at(view, "result.references.runbook_snippets"), 2);
        TH_STR_EQ(th_get_str(view, "result.references.runbook_snippets[0].path"),
                  "runbooks/router/db-pool-exhaustion.md");
        CU_ASSERT_EQUAL(len_at(view, "result.references.traces.traces"), 1);
        CU_ASSERT_EQUAL(th_count_events(view, "node_start"), 6);
        CU_ASSERT_EQUAL(th_count_events(view, "tool_call"), 5);

        /* What the router saw: five calls, all tagged with the run. */
        CU_ASSERT_EQUAL(json_object_array_length(calls), 5);
        CU_ASSERT(all_tagged(calls, rid));
        json_object *p = NULL;
        CU_ASSERT_EQUAL(count_action(calls, "service_overview", &p), 1);
        TH_STR_EQ(th_get_str(p, "service"), "router");
        TH_STR_EQ(th_get_str(p, "env"), "prod");
        TH_STR_EQ(th_get_str(p, "time_range.from"), "2026-02-23T09:00:00Z");
        TH_STR_EQ(th_get_str(p, "time_range.to"), "2026-02-23T10:00:00Z");
        CU_ASSERT_EQUAL(count_action(calls, "logs_query", &p), 1);
        TH_STR_EQ(th_get_str(p, "query"), "level:error OR level:fatal");
        CU_ASSERT_EQUAL(th_get_int(p, "limit", -1), 120);
        CU_ASSERT_EQUAL(count_action(calls, "service_health", &p), 1);
        CU_ASSERT_EQUAL(count_action(calls, "runbook_search", &p), 1);
        CU_ASSERT_EQUAL(th_get_int(p, "limit", -1), 3);
        CU_ASSERT(contains(th_get_str(p, "query"), "High error rate after deploy connection pool "
                                                   "exhausted"));
        CU_ASSERT_EQUAL(count_action(calls, "traces_query", &p), 1);
        json_object *want = scenario_trace_ids("etc/scenarios/incident_db_pool.json", 5);
        TH_STR_EQ(json_object_to_json_string(th_get(p, "trace_ids")),
                  json_object_to_json_string(want));
        json_object_put(want);
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

static void test_upstream_timeouts(void)
{
    env e;
    char rid[64];
    if (env_start(&e, "etc/scenarios/incident_upstream_timeouts.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    json_object *view = run_to_end(
        &e, "{\"service\":\"checkout\",\"symptom\":\"Checkout requests are slow and failing\"}",
        rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        TH_STR_EQ(th_get_str(view, "status"), "succeeded");
        TH_STR_EQ(th_get_str(view, "result.suspected_root_causes[0].cause"), "Upstream timeouts");
        CU_ASSERT(contains(th_get_str(view, "result.suspected_root_causes[0].evidence[0]"),
                           "28\xc3\x97 upstream request to inventory timed out"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "context deadline exceeded"));
        CU_ASSERT(
            any_contains(view, "result.suspected_root_causes[0].evidence", "504 Gateway Timeout"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "metric latency_p95_ms=3100"));
        CU_ASSERT(
            contains(th_get_str(view, "result.summary"), "checkout (prod), ")); /* env defaulted */
        CU_ASSERT(contains(th_get_str(view, "result.summary"),
                           "most likely upstream timeouts (43 of 46 error lines)"));
        CU_ASSERT(contains(th_get_str(view, "result.impact_assessment"), "error_rate=4.7%"));
        /* include_traces defaults to false: no traces_query at all. */
        CU_ASSERT_EQUAL(count_action(calls, "traces_query", NULL), 0);
        CU_ASSERT_EQUAL(json_object_array_length(calls), 4);
        CU_ASSERT(all_tagged(calls, rid));
        CU_ASSERT_EQUAL(len_at(view, "result.references.traces.traces"), 0);
        CU_ASSERT(any_contains(view, "result.next_checks", "include_traces=true"));
        CU_ASSERT(any_contains(view, "result.mitigations_now",
                               "Enable the inventory circuit "
                               "breaker"));
        CU_ASSERT_EQUAL(len_at(view, "result.data_gaps"), 0);
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

static void test_oom_kills(void)
{
    env e;
    char rid[64];
    if (env_start(&e, "etc/scenarios/incident_oom.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    json_object *view =
        run_to_end(&e, "{\"service\":\"router\",\"symptom\":\"Pods keep restarting\"}", rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        TH_STR_EQ(th_get_str(view, "status"), "succeeded");
        TH_STR_EQ(th_get_str(view, "result.suspected_root_causes[0].cause"),
                  "Memory pressure (OOM kills)");
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "out of memory: cannot allocate"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence", "OOMKilled"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "alert PodOOMKilled (critical)"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "metric memory_usage_pct=98"));
        CU_ASSERT(contains(th_get_str(view, "result.summary"),
                           "most likely memory pressure (OOM kills) (15 of 19 error lines)"));
        CU_ASSERT(
            contains(th_get_str(view, "result.mitigations_now[0]"), "Raise the memory limit"));
        CU_ASSERT(any_contains(view, "result.next_checks", "OOMKilled events"));
        CU_ASSERT(all_tagged(calls, rid));
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

static void test_healthy_service(void)
{
    env e;
    char rid[64];
    if (env_start(&e, "etc/scenarios/incident_healthy.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    /* max_log_lines out of range is clamped, not refused. */
    json_object *view = run_to_end(&e,
                                   "{\"service\":\"billing\",\"symptom\":\"User reports a "
                                   "slow page load\",\"max_log_lines\":5000}",
                                   rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        TH_STR_EQ(th_get_str(view, "status"), "succeeded");
        CU_ASSERT_EQUAL(len_at(view, "result.suspected_root_causes"), 0);
        CU_ASSERT_PTR_NOT_NULL(th_get(view, "result.suspected_root_causes"));
        CU_ASSERT(contains(th_get_str(view, "result.summary"),
                           "no errors found in the logs, health ok, 0 alert(s) firing; no clear "
                           "cause for \"User reports a slow page load\"."));
        CU_ASSERT(contains(th_get_str(view, "result.impact_assessment"),
                           "SLO impact: error_rate=0.04%, latency_p95_ms=120, "
                           "availability=99.98%; 0 alerts firing; health: ok"));
        CU_ASSERT_EQUAL(len_at(view, "result.mitigations_now"), 0);
        CU_ASSERT_EQUAL(len_at(view, "result.data_gaps"), 0);
        CU_ASSERT(any_contains(view, "result.next_checks", "Verify healthz"));
        json_object *p = NULL;
        CU_ASSERT_EQUAL(count_action(calls, "logs_query", &p), 1);
        CU_ASSERT_EQUAL(th_get_int(p, "limit", -1), 200);
        CU_ASSERT(all_tagged(calls, rid));
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

static void test_traces_denied(void)
{
    env e;
    char rid[64];
    if (env_start(&e, "etc/scenarios/incident_traces_denied.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    json_object *view = run_to_end(&e,
                                   "{\"service\":\"payments\",\"symptom\":\"Charges "
                                   "failing\",\"include_traces\":true}",
                                   rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        /* A denied source is a gap, not a failure. */
        TH_STR_EQ(th_get_str(view, "status"), "succeeded");
        CU_ASSERT_EQUAL(len_at(view, "result.data_gaps"), 1);
        TH_STR_EQ(th_get_str(view, "result.data_gaps[0].node"), "trace_lookup");
        TH_STR_EQ(th_get_str(view, "result.data_gaps[0].tool"), "observability_tool");
        CU_ASSERT(contains(th_get_str(view, "result.data_gaps[0].error"), "forbidden"));
        TH_STR_EQ(th_get_str(view, "result.suspected_root_causes[0].cause"),
                  "Dependency 5xx errors");
        CU_ASSERT(contains(th_get_str(view, "result.suspected_root_causes[0].evidence[0]"),
                           "14\xc3\x97 payment provider returned 503 Service Unavailable"));
        CU_ASSERT(contains(th_get_str(view, "result.summary"),
                           "Data gaps: trace_lookup (observability_tool: forbidden)"));
        CU_ASSERT_EQUAL(len_at(view, "result.references.traces.traces"), 0);
        CU_ASSERT(any_contains(view, "result.next_checks", "by hand: traces_query failed"));
        CU_ASSERT(any_contains(view, "result.suspected_root_causes[0].evidence",
                               "alert PaymentsUpstream5xx (critical)"));
        CU_ASSERT(any_contains(view, "result.mitigations_now", "Switch to the backup provider"));
        /* 403 is not retried. */
        CU_ASSERT_EQUAL(count_action(calls, "traces_query", NULL), 1);
        CU_ASSERT(all_tagged(calls, rid));
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

static void test_all_sources_down(void)
{
    env e;
    char rid[64];
    if (env_start(&e, "etc/scenarios/incident_all_down.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    json_object *view = run_to_end(&e,
                                   "{\"service\":\"router\",\"symptom\":\"everything is "
                                   "down\",\"include_traces\":true}",
                                   rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        TH_STR_EQ(th_get_str(view, "status"), "failed");
        TH_STR_EQ(th_get_str(view, "error.code"), "all_sources_failed");
        CU_ASSERT(contains(th_get_str(view, "error.message"), "every data source failed"));
        /* The four sources were tried (503s retried); no trace ids, no traces call. */
        CU_ASSERT(count_action(calls, "service_overview", NULL) >= 2);
        CU_ASSERT_EQUAL(count_action(calls, "runbook_search", NULL), 1);
        CU_ASSERT_EQUAL(count_action(calls, "traces_query", NULL), 0);
        CU_ASSERT(all_tagged(calls, rid));
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

static void test_window_clamped(void)
{
    env e;
    char rid[64];
    static const char *const denv[] = {"INCIDENT_MAX_TIME_WINDOW_H=6", NULL};
    if (env_start(&e, "etc/scenarios/incident_healthy.json", denv) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    /* 48 hours, "to" with an offset: the latest 6 hours are kept, in UTC. */
    json_object *view = run_to_end(&e,
                                   "{\"service\":\"billing\",\"symptom\":\"slow\","
                                   "\"time_range\":{\"from\":\"2026-02-21T10:00:00Z\","
                                   "\"to\":\"2026-02-23T12:00:00+02:00\"}}",
                                   rid);
    json_object *calls = tool_calls(&e);
    if (view) {
        TH_STR_EQ(th_get_str(view, "status"), "succeeded");
        json_object *p = NULL;
        CU_ASSERT_EQUAL(count_action(calls, "service_overview", &p), 1);
        TH_STR_EQ(th_get_str(p, "time_range.from"), "2026-02-23T04:00:00Z");
        TH_STR_EQ(th_get_str(p, "time_range.to"), "2026-02-23T10:00:00Z");
        CU_ASSERT_EQUAL(count_action(calls, "logs_query", &p), 1);
        TH_STR_EQ(th_get_str(p, "time_range.from"), "2026-02-23T04:00:00Z");
        CU_ASSERT(contains(th_get_str(view, "result.summary"),
                           "2026-02-23T04:00:00Z to 2026-02-23T10:00:00Z (the 6h maximum "
                           "window)"));
    }
    json_object_put(calls);
    json_object_put(view);
    env_stop(&e);
}

/* POST a start request with this input; the status, and details.field. */
static long start_bad(const env *e, const char *input, char *field, size_t len)
{
    char *body = NULL;
    th_resp r;
    const char *hdr[] = {"Content-Type: application/json", NULL};
    field[0] = '\0';
    if (asprintf(&body,
                 "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\","
                 "\"input\":%s}",
                 input) < 0)
        return -1;
    if (th_http("POST", e->d.port, "/v1/graphs/" GRAPH "/runs", body, hdr, &r) != 0) {
        free(body);
        return -1;
    }
    free(body);
    snprintf(field, len, "%s", S(th_get_str(r.json, "error.details.field")));
    if (r.status != 400)
        fprintf(stderr, "\n    %s -> %ld %s\n", input, r.status, S(r.body));
    long status = r.status;
    th_resp_free(&r);
    return status;
}

static void test_bad_inputs(void)
{
    env e;
    char field[128];
    if (env_start(&e, "etc/scenarios/incident_healthy.json", NULL) != 0) {
        CU_FAIL("environment did not start");
        return;
    }
    CU_ASSERT_EQUAL(start_bad(&e, "{\"symptom\":\"x\"}", field, sizeof field), 400);
    TH_STR_EQ(field, "service");
    CU_ASSERT_EQUAL(start_bad(&e, "{\"service\":\"router\"}", field, sizeof field), 400);
    TH_STR_EQ(field, "symptom");
    CU_ASSERT_EQUAL(start_bad(&e,
                              "{\"service\":\"router\",\"symptom\":\"x\",\"time_range\":{"
                              "\"from\":\"2026-02-23T10:00:00Z\",\"to\":\"2026-02-23T09:00:00Z\""
                              "}}",
                              field, sizeof field),
                    400);
    TH_STR_EQ(field, "time_range");
    CU_ASSERT_EQUAL(start_bad(&e,
                              "{\"service\":\"router\",\"symptom\":\"x\",\"time_range\":{"
                              "\"from\":\"yesterday\"}}",
                              field, sizeof field),
                    400);
    TH_STR_EQ(field, "time_range.from");
    CU_ASSERT_EQUAL(start_bad(&e, "{\"service\":\"router\",\"symptom\":\"x\",\"colour\":1}", field,
                              sizeof field),
                    400);
    TH_STR_EQ(field, "colour");
    /* Nothing was started, so nothing reached the router. */
    json_object *calls = tool_calls(&e);
    CU_ASSERT_EQUAL(json_object_array_length(calls), 0);
    json_object_put(calls);
    env_stop(&e);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"db pool exhaustion after a deploy", test_db_pool_after_deploy},
        {"upstream timeouts, no traces asked", test_upstream_timeouts},
        {"oom kills", test_oom_kills},
        {"healthy service, max_log_lines clamped", test_healthy_service},
        {"traces denied by rbac", test_traces_denied},
        {"every source down", test_all_sources_down},
        {"window clamped to INCIDENT_MAX_TIME_WINDOW_H", test_window_clamped},
        {"bad inputs are 400 with the field", test_bad_inputs},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_integration", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
