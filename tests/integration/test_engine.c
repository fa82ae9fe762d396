/*
 * test_engine.c - the engine end to end: the real daemon, the router
 * simulator, real HTTP on loopback.  Runs, events, retries, denials,
 * cancel, the overall timeout, secrets and payloads kept out of the logs,
 * and many waiting runs on two threads.
 */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "harness.h"

static th_proc g_sim, g_d;

static int start_pair(const char *scenario, const char *const *env)
{
    if (th_sim_start(scenario, NULL, &g_sim) < 0)
        return -1;
    const char *plugins[] = {"test_chain", "test_wait", NULL};
    if (th_daemon_start(plugins, env, &g_sim, &g_d) < 0) {
        th_proc_stop(&g_sim, 2000);
        return -1;
    }
    return 0;
}

/* Stop both; the daemon must exit 0 on SIGTERM (and, under valgrind, clean). */
static void stop_pair(void)
{
    CU_ASSERT_EQUAL(th_proc_stop(&g_d, 20000), 0);
    th_proc_stop(&g_sim, 5000);
}

static json_object *requests_for(const char *action)
{
    json_object *all = th_sim_requests(&g_sim), *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        json_object *r = json_object_array_get_idx(all, i);
        const char *a = th_get_str(r, "body.action");
        if (a && (!action || strcmp(a, action) == 0))
            json_object_array_add(out, json_object_get(r));
    }
    json_object_put(all);
    return out;
}

static void test_run_succeeds_with_events(void)
{
    const char *env[] = {"SUPERVISOR_API_KEY=router-key-123", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", env) == 0);
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_chain", "{\"label\":\"hello\"}", id), 202);
    json_object *v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    TH_STR_EQ(th_get_str(v, "graph"), "test_chain");
    TH_STR_EQ(th_get_str(v, "graph_version"), "1.0.0");
    TH_STR_EQ(th_get_str(v, "workspace_id"), "ws1");
    CU_ASSERT_EQUAL(th_get_int(v, "result.steps", 0), 3);
    TH_STR_EQ(th_get_str(v, "result.last.echo"), "hello");
    CU_ASSERT(json_object_get_type(th_get(v, "error")) == json_type_null);
    CU_ASSERT_PTR_NOT_NULL(th_get_str(v, "created_at"));
    CU_ASSERT_PTR_NOT_NULL(strstr(th_get_str(v, "finished_at"), "+00:00"));
    CU_ASSERT_EQUAL(th_count_events(v, "run_start"), 1);
    CU_ASSERT_EQUAL(th_count_events(v, "node_start"), 3);
    CU_ASSERT_EQUAL(th_count_events(v, "node_end"), 3);
    CU_ASSERT_EQUAL(th_count_events(v, "tool_call"), 3);
    CU_ASSERT_EQUAL(th_count_events(v, "run_end"), 1);
    TH_STR_EQ(th_get_str(v, "events[0].type"), "run_start");
    TH_STR_EQ(th_get_str(v, "events[1].type"), "node_start");
    TH_STR_EQ(th_get_str(v, "events[1].node"), "a");
    /* node_end says where the run went next */
    json_object *ev = th_get(v, "events");
    int saw_next_b = 0, saw_end = 0;
    for (size_t i = 0; i < json_object_array_length(ev); i++) {
        json_object *e = json_object_array_get_idx(ev, i);
        const char *t = th_get_str(e, "type");
        if (strcmp(t, "node_end") == 0) {
            saw_next_b |= strcmp(th_get_str(e, "details.next"), "b") == 0;
            saw_end |= strcmp(th_get_str(e, "details.next"), "END") == 0;
            CU_ASSERT(th_get_int(e, "details.duration_ms", -1) >= 0);
        }
        if (strcmp(t, "tool_call") == 0) {
            TH_STR_EQ(th_get_str(e, "details.tool"), "test_tool");
            TH_STR_EQ(th_get_str(e, "details.status"), "succeeded");
            CU_ASSERT_EQUAL(th_get_int(e, "details.http_status", 0), 200);
            CU_ASSERT_EQUAL(strlen(th_get_str(e, "details.request_sha256")), 64);
            CU_ASSERT(th_get_int(e, "details.request_bytes", 0) > 0);
            CU_ASSERT(th_get_int(e, "details.response_bytes", 0) > 0);
            /* hashes and sizes only: no payload in an event */
            CU_ASSERT_PTR_NULL(th_get(e, "details.params"));
            CU_ASSERT_PTR_NULL(th_get(e, "details.data"));
        }
        if (strcmp(t, "run_end") == 0)
            TH_STR_EQ(th_get_str(e, "details.status"), "succeeded");
    }
    CU_ASSERT(saw_next_b && saw_end);
    const char *text = json_object_to_json_string(v);
    CU_ASSERT_PTR_NULL(strstr(text, "checkpoint"));
    /* every router request: the run id, the ids, the key, a stable call id */
    json_object *reqs = requests_for("step");
    CU_ASSERT_EQUAL(json_object_array_length(reqs), 3);
    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        json_object *r = json_object_array_get_idx(reqs, i);
        TH_STR_EQ(th_get_str(r, "body.metadata.graph_run_id"), id);
        TH_STR_EQ(th_get_str(r, "body.metadata.graph"), "test_chain");
        TH_STR_EQ(th_get_str(r, "body.workspace_id"), "ws1");
        TH_STR_EQ(th_get_str(r, "body.user_id"), "u1");
        TH_STR_EQ(th_get_str(r, "body.agent_id"), "a1");
        TH_STR_EQ(th_get_str(r, "authorization"), "Bearer router-key-123");
        TH_STR_EQ(th_get_str(r, "x_request_id"), th_get_str(r, "body.metadata.call_id"));
        CU_ASSERT_EQUAL(th_get_int(r, "body.metadata.attempt", 0), 1);
    }
    char want[128];
    snprintf(want, sizeof want, "%s:b:1", id);
    TH_STR_EQ(th_get_str(json_object_array_get_idx(reqs, 1), "body.metadata.call_id"), want);
    json_object_put(reqs);
    json_object_put(v);
    stop_pair();
}

/* A 503 is retried with the same call_id and attempt 2; a 403 is not. */
static void test_retry_and_no_retry(void)
{
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_retry.json", NULL) == 0);
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_chain", "{\"label\":\"r\"}", id), 202);
    json_object *v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_count_events(v, "tool_call"), 4); /* 2 attempts + 2 calls */
    json_object *reqs = requests_for("step");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(reqs), 4);
    json_object *r1 = json_object_array_get_idx(reqs, 0), *r2 = json_object_array_get_idx(reqs, 1);
    TH_STR_EQ(th_get_str(r1, "body.metadata.call_id"), th_get_str(r2, "body.metadata.call_id"));
    CU_ASSERT_EQUAL(th_get_int(r1, "body.metadata.attempt", 0), 1);
    CU_ASSERT_EQUAL(th_get_int(r2, "body.metadata.attempt", 0), 2);
    CU_ASSERT_EQUAL(th_get_int(r1, "http_status", 0), 503);
    json_object_put(reqs);
    json_object_put(v);
    stop_pair();

    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_forbidden.json", NULL) == 0);
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_chain", "{\"label\":\"f\"}", id), 202);
    v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "forbidden");
    CU_ASSERT_EQUAL(th_count_events(v, "node_error"), 1);
    reqs = requests_for(NULL);
    CU_ASSERT_EQUAL(json_object_array_length(reqs), 1);
    json_object_put(reqs);
    json_object_put(v);
    stop_pair();
}

/* Retries spent on a router that stays down: the run fails "unavailable"
 * after exactly GATEWAY_MAX_ATTEMPTS requests. */
static void test_retries_spent(void)
{
    const char *env[] = {"GATEWAY_MAX_ATTEMPTS=3", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_unavailable.json", env) == 0);
    char id[64];
    th_start_run(g_d.port, "test_chain", "{\"label\":\"down\"}", id);
    json_object *v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "unavailable");
    json_object *reqs = requests_for(NULL);
    CU_ASSERT_EQUAL(json_object_array_length(reqs), 3);
    json_object_put(reqs);
    json_object_put(v);
    stop_pair();
}

static void test_node_failures(void)
{
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", NULL) == 0);
    char id[64];
    th_start_run(g_d.port, "test_chain", "{\"label\":\"x\",\"fail_at\":\"b\"}", id);
    json_object *v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "test_failure");
    TH_STR_EQ(th_get_str(v, "error.message"), "failing as the input asked");
    CU_ASSERT_EQUAL(th_count_events(v, "node_error"), 1);
    CU_ASSERT_EQUAL(th_count_events(v, "tool_call"), 1); /* a ran, b failed first */
    json_object_put(v);
    th_start_run(g_d.port, "test_chain", "{\"label\":\"x\",\"bad_next\":true}", id);
    v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "bad_next_node");
    json_object_put(v);
    stop_pair();
}

static long post_cancel(const char *id, th_resp *r)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    th_http("POST", g_d.port, path, NULL, NULL, r);
    return r->status;
}

/* A waiting run holds no thread, and a cancel ends it at once: the graph's
 * on_cancel runs once and may still call tools. */
static void test_cancel_waiting_run(void)
{
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", NULL) == 0);
    char id[64];
    th_start_run(g_d.port, "test_wait", "{\"waits\":5,\"delay_ms\":60000}", id);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&g_sim, 1, 10000), 0);
    CU_ASSERT_EQUAL(th_wait_status(g_d.port, id, "running", 5000), 0);
    th_resp r;
    long long t0 = th_mono_ms();
    CU_ASSERT_EQUAL(post_cancel(id, &r), 202);
    TH_STR_EQ(th_get_str(r.json, "status"), "cancelling");
    TH_STR_EQ(th_get_str(r.json, "run_id"), id);
    th_resp_free(&r);
    json_object *v = th_wait_run(g_d.port, id, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(th_mono_ms() - t0 < 10000); /* not the 60 s delay */
    TH_STR_EQ(th_get_str(v, "status"), "cancelled");
    CU_ASSERT_EQUAL(th_count_events(v, "cancel_requested"), 1);
    json_object *cleanup = requests_for("cleanup");
    CU_ASSERT_EQUAL(json_object_array_length(cleanup), 1);
    TH_STR_EQ(th_get_str(json_object_array_get_idx(cleanup, 0), "body.params.reason"), "user");
    TH_STR_EQ(th_get_str(json_object_array_get_idx(cleanup, 0), "body.metadata.graph_run_id"), id);
    json_object_put(cleanup);
    /* a second cancel: already cancelled -> 200 */
    CU_ASSERT_EQUAL(post_cancel(id, &r), 200);
    TH_STR_EQ(th_get_str(r.json, "status"), "cancelled");
    th_resp_free(&r);
    json_object_put(v);
    /* cancel of a finished run: 409; of an unknown run: 404 */
    th_start_run(g_d.port, "test_chain", "{\"label\":\"done\"}", id);
    v = th_wait_run(g_d.port, id, 10000);
    json_object_put(v);
    CU_ASSERT_EQUAL(post_cancel(id, &r), 409);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "run_finished");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(post_cancel("gr_00000000000000000000000000000000", &r), 404);
    th_resp_free(&r);
    stop_pair();
}

/* A cancel aborts the tool call in flight (the router takes 20 s). */
static void test_cancel_running_call(void)
{
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_slow.json", NULL) == 0);
    char id[64];
    th_start_run(g_d.port, "test_wait", "{\"waits\":0}", id);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&g_sim, 1, 10000), 0);
    th_resp r;
    long long t0 = th_mono_ms();
    CU_ASSERT_EQUAL(post_cancel(id, &r), 202);
    th_resp_free(&r);
    json_object *v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(th_mono_ms() - t0 < 10000);
    TH_STR_EQ(th_get_str(v, "status"), "cancelled");
    json_object *cleanup = requests_for("cleanup");
    CU_ASSERT_EQUAL(json_object_array_length(cleanup), 1);
    json_object_put(cleanup);
    json_object_put(v);
    stop_pair();
}

/* With the only thread the pool may have busy on a slow call
 * (WORKER_THREADS_MAX=1: no thread to hand its CPU slot to), a second run
 * stays queued; its cancel is immediate (200 cancelled) and it never calls
 * a tool. */
static void test_cancel_queued_run(void)
{
    const char *env[] = {"WORKER_THREADS=1", "WORKER_THREADS_MAX=1", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_slow.json", env) == 0);
    char busy[64], queued[64];
    th_start_run(g_d.port, "test_wait", "{\"waits\":0}", busy);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&g_sim, 1, 10000), 0);
    th_start_run(g_d.port, "test_chain", "{\"label\":\"q\"}", queued);
    th_resp r;
    CU_ASSERT_EQUAL(post_cancel(queued, &r), 200);
    TH_STR_EQ(th_get_str(r.json, "status"), "cancelled");
    th_resp_free(&r);
    json_object *v = th_wait_run(g_d.port, queued, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "cancelled");
    CU_ASSERT_EQUAL(th_count_events(v, "run_start"), 0);
    CU_ASSERT(json_object_get_type(th_get(v, "started_at")) == json_type_null);
    json_object_put(v);
    CU_ASSERT_EQUAL(post_cancel(busy, &r), 202);
    th_resp_free(&r);
    v = th_wait_run(g_d.port, busy, 15000);
    CU_ASSERT_PTR_NOT_NULL(v);
    json_object_put(v);
    json_object *steps = requests_for("step");
    CU_ASSERT_EQUAL(json_object_array_length(steps), 0);
    json_object_put(steps);
    stop_pair();
}

/* timeouts.overall_sec ends a waiting run with error "timeout" and calls
 * on_cancel with the timeout reason, once. */
static void test_overall_timeout(void)
{
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", NULL) == 0);
    char id[64];
    th_start_run(g_d.port, "test_wait",
                 "{\"waits\":3,\"delay_ms\":60000,\"timeouts\":{\"overall_sec\":1}}", id);
    json_object *v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "timeout");
    json_object *cleanup = requests_for("cleanup");
    CU_ASSERT_EQUAL(json_object_array_length(cleanup), 1);
    TH_STR_EQ(th_get_str(json_object_array_get_idx(cleanup, 0), "body.params.reason"), "timeout");
    json_object_put(cleanup);
    json_object_put(v);
    stop_pair();
    /* the deadline also cuts a tool call in flight */
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_slow.json", NULL) == 0);
    th_start_run(g_d.port, "test_wait", "{\"waits\":0,\"timeouts\":{\"overall_sec\":1}}", id);
    v = th_wait_run(g_d.port, id, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "timeout");
    json_object_put(v);
    stop_pair();
}

/* A run still queued when its deadline passes ends at once, with no node
 * run and no on_cancel, though every thread is busy. */
static void test_timeout_while_queued(void)
{
    const char *env[] = {"WORKER_THREADS=1", "WORKER_THREADS_MAX=1", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_slow.json", env) == 0);
    char busy[64], queued[64];
    th_start_run(g_d.port, "test_wait", "{\"waits\":0}", busy);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&g_sim, 1, 10000), 0);
    long long t0 = th_mono_ms();
    th_start_run(g_d.port, "test_wait", "{\"waits\":0,\"timeouts\":{\"overall_sec\":0.5}}", queued);
    json_object *v = th_wait_run(g_d.port, queued, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(th_mono_ms() - t0 < 10000); /* not after the busy run's 20 s call */
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "timeout");
    CU_ASSERT_EQUAL(th_count_events(v, "run_start"), 0);
    CU_ASSERT_EQUAL(th_count_events(v, "run_end"), 1);
    json_object_put(v);
    th_resp r;
    CU_ASSERT_EQUAL(post_cancel(busy, &r), 202);
    th_resp_free(&r);
    v = th_wait_run(g_d.port, busy, 15000);
    json_object_put(v);
    /* one cleanup: the busy run's; the queued run had nothing to clean */
    json_object *cleanup = requests_for("cleanup");
    CU_ASSERT_EQUAL(json_object_array_length(cleanup), 1);
    TH_STR_EQ(th_get_str(json_object_array_get_idx(cleanup, 0), "body.metadata.graph_run_id"),
              busy);
    json_object_put(cleanup);
    stop_pair();
}

/* What a caller or a tool sends never reaches the log; neither do keys. */
static void test_no_payload_in_logs(void)
{
    const char *env[] = {"SUPERVISOR_API_KEY=router-key-SECRET-1",
                         "SUPERVISOR_INTERNAL_KEY=api-key-SECRET-2", "LOG_LEVEL=debug", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", env) == 0);
    const char *hdr[] = {"Authorization: Bearer api-key-SECRET-2", NULL};
    th_resp r;
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs",
            "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\","
            "\"input\":{\"label\":\"SENTINEL-IN-91c2\"}}",
            hdr, &r);
    CU_ASSERT_EQUAL(r.status, 202);
    char id[64];
    snprintf(id, sizeof id, "%s", th_get_str(r.json, "run_id"));
    th_resp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    long long deadline = th_mono_ms() + 15000;
    const char *st = NULL;
    while (th_mono_ms() < deadline) {
        th_http("GET", g_d.port, path, NULL, hdr, &r);
        st = th_get_str(r.json, "status");
        int done = st && strcmp(st, "succeeded") == 0;
        th_resp_free(&r);
        if (done)
            break;
        th_poll_pause();
    }
    CU_ASSERT(th_log_contains(&g_d, "\"msg\":\"run finished\"", 5000));
    CU_ASSERT(th_log_contains(&g_d, "\"msg\":\"tool_call\"", 0));
    stop_pair();
    /* the simulator did receive the sentinel: the test would notice a typo */
    json_object *reqs = th_sim_requests(&g_sim);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_object_to_json_string(reqs), "SENTINEL-IN-91c2"));
    json_object_put(reqs);
    char *log = th_read_file(g_d.log_path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_PTR_NULL(strstr(log, "SENTINEL-IN"));
    CU_ASSERT_PTR_NULL(strstr(log, "SENTINEL-OUT"));
    CU_ASSERT_PTR_NULL(strstr(log, "SECRET"));
    free(log);
}

/* 200 runs, each waiting 4 x 500 ms between tool calls, on 2 workers: a
 * thread per waiting run would take 200 x 2 s / 2 = 200 s; parked runs
 * finish in a few seconds.  The bound below is generous for a noisy
 * machine and still an order of magnitude under the thread-holding time. */
static void test_many_waiting_runs(void)
{
    const char *env[] = {"WORKER_THREADS=2", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", env) == 0);
    enum { N = 200 };
    static char ids[N][64];
    long long t0 = th_mono_ms();
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(
            th_start_run(g_d.port, "test_wait", "{\"waits\":4,\"delay_ms\":500}", ids[i]), 202);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        json_object *v = th_wait_run(g_d.port, ids[i], 60000);
        if (v && strcmp(th_get_str(v, "status"), "succeeded") == 0 &&
            th_get_int(v, "result.ticks", 0) == 5)
            ok++;
        json_object_put(v);
    }
    long long ms = th_mono_ms() - t0;
    printf("\n    200 runs x 4 waits of 500 ms on 2 workers: %lld ms\n", ms);
    CU_ASSERT_EQUAL(ok, N);
    CU_ASSERT(ms < 40000);
    json_object *ticks = requests_for("tick");
    CU_ASSERT_EQUAL(json_object_array_length(ticks), N * 5);
    json_object_put(ticks);
    stop_pair();
}

/* A run keeps its newest 1000 events and says how many it dropped. */
static void test_event_cap(void)
{
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_ok.json", NULL) == 0);
    char id[64];
    th_start_run(g_d.port, "test_wait", "{\"waits\":400,\"delay_ms\":0}", id);
    json_object *v = th_wait_run(g_d.port, id, 60000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_len(v, "events"), 1000);
    /* 401 ticks x 3 events + run_start + run_end */
    CU_ASSERT_EQUAL(th_get_int(v, "events_dropped", 0), 401 * 3 + 2 - 1000);
    TH_STR_EQ(th_get_str(v, "events[999].type"), "run_end");
    json_object_put(v);
    stop_pair();
}

/* SIGTERM lets the node in flight finish, then exits 0. */
static void test_sigterm_drains(void)
{
    const char *env[] = {"SHUTDOWN_GRACE_SEC=2", NULL};
    CU_ASSERT_FATAL(start_pair("tests/scenarios/engine_slow.json", env) == 0);
    char id[64];
    th_start_run(g_d.port, "test_wait", "{\"waits\":0}", id);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&g_sim, 1, 10000), 0);
    long long t0 = th_mono_ms();
    CU_ASSERT_EQUAL(th_proc_stop(&g_d, 15000), 0);
    CU_ASSERT(th_mono_ms() - t0 < 12000); /* the 20 s call was cut after the grace */
    CU_ASSERT(th_log_contains(&g_d, "still running after the grace period", 0));
    CU_ASSERT(th_log_contains(&g_d, "\"msg\":\"stopped\"", 0));
    th_proc_stop(&g_sim, 5000);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"run succeeds with events and metadata", test_run_succeeds_with_events},
        {"503 retried with the same call_id, 403 not", test_retry_and_no_retry},
        {"retries spent -> unavailable", test_retries_spent},
        {"node failure and bad next node", test_node_failures},
        {"cancel a waiting run", test_cancel_waiting_run},
        {"cancel aborts the tool call in flight", test_cancel_running_call},
        {"cancel a queued run", test_cancel_queued_run},
        {"overall timeout", test_overall_timeout},
        {"timeout while queued", test_timeout_while_queued},
        {"no payload or key in the logs", test_no_payload_in_logs},
        {"200 waiting runs on 2 workers", test_many_waiting_runs},
        {"event cap", test_event_cap},
        {"SIGTERM drains and exits 0", test_sigterm_drains},
    };
    static const sv_cu_suite suites[] = {
        {.name = "engine", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
