/*
 * test_trace.c - W3C Trace Context through the real daemon and router-sim
 * (core/trace.c): a run started with a valid traceparent joins the caller's
 * trace (its id in the start answer, the run view, every router call's
 * traceparent with the caller's flags, and every log line about the run);
 * one span per logical call, the same for its retries, distinct between
 * calls; a run without one gets a fresh random trace; invalid headers are
 * ignored; and on Redis a run resumed after kill -9 keeps its trace and
 * flags.
 */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

#define CALLER_TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define CALLER_SPAN "00f067aa0ba902b7"

/* engine_retry.json: every call of node a is answered 503 once, so one
 * logical call has two attempts. */
static th_proc g_sim, g_d;

static int suite_init(void)
{
    if (th_sim_start("tests/scenarios/engine_retry.json", NULL, &g_sim) < 0)
        return -1;
    const char *plugins[] = {"test_chain", NULL};
    const char *env[] = {"GATEWAY_BACKOFF_MS=1", NULL};
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

/* Start a run of graph on port with `traceparent` (NULL: no header); the
 * status, its id in id and the answer's trace_id in trace ("" if none). */
static long start_traced(int port, const char *graph, const char *input, const char *traceparent,
                         char id[64], char trace[64])
{
    char path[128], body[512], tp[256];
    th_resp r;
    snprintf(path, sizeof path, "/v1/graphs/%s/runs", graph);
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\",\"input\":%s}",
             input);
    snprintf(tp, sizeof tp, "traceparent: %s", traceparent ? traceparent : "");
    const char *hdr[] = {"Content-Type: application/json", tp, NULL};
    if (!traceparent)
        hdr[1] = NULL;
    th_http("POST", port, path, body, hdr, &r);
    const char *v = th_get_str(r.json, "run_id");
    snprintf(id, 64, "%s", v ? v : "");
    v = th_get_str(r.json, "trace_id");
    snprintf(trace, 64, "%s", v ? v : "");
    long st = r.status;
    th_resp_free(&r);
    return st;
}

/* n lowercase hex digits, not all zeros. */
static int hex_id(const char *s, size_t n)
{
    int nonzero = 0;
    if (!s || strlen(s) < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

static int valid_trace_id(const char *s)
{
    return s && strlen(s) == 32 && hex_id(s, 32);
}

/* The router calls of one run, from the simulator's record. */
static json_object *calls_of(const char *run_id)
{
    json_object *all = th_sim_requests(&g_sim), *mine = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        json_object *q = json_object_array_get_idx(all, i);
        const char *run = th_get_str(q, "body.metadata.graph_run_id");
        if (run && strcmp(run, run_id) == 0)
            json_object_array_add(mine, json_object_get(q));
    }
    json_object_put(all);
    return mine;
}

/*
 * Check each call's traceparent: "00-<trace>-<span>-<flags>", a valid span,
 * the same span for every attempt of one call (X-Request-Id), a different
 * one for every other call, never the caller's own parent id.  Returns the
 * number of distinct calls.
 */
static int check_calls(json_object *calls, const char *trace, const char *flags)
{
    char spans[16][17], ids[16][256];
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *q = json_object_array_get_idx(calls, i);
        const char *tp = th_get_str(q, "traceparent");
        const char *rid = th_get_str(q, "x_request_id");
        CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(rid);
        CU_ASSERT_EQUAL(strlen(tp), 55);
        CU_ASSERT_EQUAL(strncmp(tp, "00-", 3), 0);
        CU_ASSERT_EQUAL(strncmp(tp + 3, trace, 32), 0);
        CU_ASSERT(tp[35] == '-' && tp[52] == '-');
        CU_ASSERT(hex_id(tp + 36, 16));
        CU_ASSERT_NOT_EQUAL(strncmp(tp + 36, CALLER_SPAN, 16), 0);
        TH_STR_EQ(tp + 53, flags);
        int found = -1;
        for (int k = 0; k < n; k++)
            if (strcmp(ids[k], rid) == 0)
                found = k;
        if (found >= 0) { /* a retry: the same span */
            CU_ASSERT_EQUAL(strncmp(spans[found], tp + 36, 16), 0);
            continue;
        }
        for (int k = 0; k < n; k++) /* another call: another span */
            CU_ASSERT_NOT_EQUAL(strncmp(spans[k], tp + 36, 16), 0);
        if (n < 16) {
            snprintf(spans[n], sizeof spans[n], "%.16s", tp + 36);
            snprintf(ids[n], sizeof ids[n], "%s", rid);
            n++;
        }
    }
    return n;
}

/* Every log line naming the run names its trace too; the count of lines
 * naming the run, *tool_lines those of its tool calls (with a span id). */
static int check_log_lines(const th_proc *d, const char *run_id, const char *trace, int *tool_lines)
{
    char *log = th_read_file(d->log_path, NULL), want[80], *save = NULL;
    int n = 0;
    *tool_lines = 0;
    snprintf(want, sizeof want, "\"trace_id\":\"%s\"", trace);
    for (char *line = log ? strtok_r(log, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strstr(line, run_id))
            continue;
        n++;
        CU_ASSERT_PTR_NOT_NULL(strstr(line, want));
        if (!strstr(line, want))
            fprintf(stderr, "\n    no %s in: %s\n", want, line);
        if (strstr(line, "\"msg\":\"tool_call\"")) {
            (*tool_lines)++;
            const char *sp = strstr(line, "\"span_id\":\"");
            CU_ASSERT(sp && hex_id(sp + 11, 16) && sp[27] == '"');
        }
    }
    free(log);
    return n;
}

static void test_joins_caller_trace(void)
{
    char id[64], trace[64], path[128];
    /* flags 00 (not sampled): the caller's, not the 01 of a trace begun here */
    CU_ASSERT_EQUAL(start_traced(g_d.port, "test_chain", "{\"label\":\"t\"}",
                                 "00-" CALLER_TRACE "-" CALLER_SPAN "-00", id, trace),
                    202);
    TH_STR_EQ(trace, CALLER_TRACE);
    json_object *v = th_wait_run(g_d.port, id, 20000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    TH_STR_EQ(th_get_str(v, "trace_id"), CALLER_TRACE);
    json_object_put(v);
    /* the plain (text) view says the same as the waited one */
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    CU_ASSERT_EQUAL(th_http("GET", g_d.port, path, NULL, NULL, &r), 0);
    TH_STR_EQ(th_get_str(r.json, "trace_id"), CALLER_TRACE);
    th_resp_free(&r);
    json_object *calls = calls_of(id);
    /* three nodes, one call each; node a's call retried once */
    CU_ASSERT_EQUAL(json_object_array_length(calls), 4);
    CU_ASSERT_EQUAL(check_calls(calls, CALLER_TRACE, "00"), 3);
    json_object_put(calls);
    /* its log lines: started, four tool_call attempts, finished */
    CU_ASSERT(th_log_count(&g_d, id, 6, 10000) >= 6);
    int tools = 0;
    CU_ASSERT(check_log_lines(&g_d, id, CALLER_TRACE, &tools) >= 6);
    CU_ASSERT_EQUAL(tools, 4);
    CU_ASSERT(th_log_contains(&g_d, "\"msg\":\"run started\"", 0));
    CU_ASSERT(th_log_contains(&g_d, "\"msg\":\"run finished\"", 0));
}

static void test_fresh_trace_per_run(void)
{
    char id1[64], id2[64], t1[64], t2[64];
    CU_ASSERT_EQUAL(start_traced(g_d.port, "test_chain", "{\"label\":\"t\"}", NULL, id1, t1), 202);
    CU_ASSERT_EQUAL(start_traced(g_d.port, "test_chain", "{\"label\":\"t\"}", NULL, id2, t2), 202);
    CU_ASSERT(valid_trace_id(t1));
    CU_ASSERT(valid_trace_id(t2));
    CU_ASSERT_STRING_NOT_EQUAL(t1, t2);
    CU_ASSERT_STRING_NOT_EQUAL(t1, CALLER_TRACE);
    json_object *v = th_wait_run(g_d.port, id1, 20000);
    TH_STR_EQ(th_get_str(v, "trace_id"), t1);
    json_object_put(v);
    v = th_wait_run(g_d.port, id2, 20000);
    TH_STR_EQ(th_get_str(v, "trace_id"), t2);
    json_object_put(v);
    /* a trace begun here is sampled: every run is logged */
    json_object *calls = calls_of(id1);
    CU_ASSERT_EQUAL(check_calls(calls, t1, "01"), 3);
    json_object_put(calls);
    int tools = 0;
    CU_ASSERT(th_log_count(&g_d, id2, 6, 10000) >= 6);
    CU_ASSERT(check_log_lines(&g_d, id2, t2, &tools) >= 6);
}

static void test_invalid_header_ignored(void)
{
    static const char *const bad[] = {
        "00-" CALLER_TRACE "-" CALLER_SPAN "-0",                  /* too short */
        "00-" CALLER_TRACE "-" CALLER_SPAN "-01-",                /* v00 with more */
        "00-" CALLER_TRACE "0-" CALLER_SPAN "-01",                /* long trace id */
        "00-00000000000000000000000000000000-" CALLER_SPAN "-01", /* zero trace id */
        "00-" CALLER_TRACE "-0000000000000000-01",                /* zero parent id */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" CALLER_SPAN "-01", /* uppercase */
        "ff-" CALLER_TRACE "-" CALLER_SPAN "-01",                 /* version ff */
        "0x-" CALLER_TRACE "-" CALLER_SPAN "-01",                 /* version not hex */
        "00_" CALLER_TRACE "_" CALLER_SPAN "_01",                 /* wrong separators */
        "00-" CALLER_TRACE "-" CALLER_SPAN "-zz",                 /* flags not hex */
        "garbage",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char id[64], trace[64];
        CU_ASSERT_EQUAL(
            start_traced(g_d.port, "test_chain", "{\"label\":\"t\"}", bad[i], id, trace), 202);
        CU_ASSERT(valid_trace_id(trace));
        CU_ASSERT_STRING_NOT_EQUAL(trace, CALLER_TRACE);
        if (!valid_trace_id(trace) || strcmp(trace, CALLER_TRACE) == 0)
            fprintf(stderr, "\n    header \"%s\" gave trace \"%s\"\n", bad[i], trace);
        json_object_put(th_wait_run(g_d.port, id, 20000));
    }
    /* a later version is read as far as version 00 goes (forward compatible) */
    char id[64], trace[64];
    CU_ASSERT_EQUAL(start_traced(g_d.port, "test_chain", "{\"label\":\"t\"}",
                                 "01-" CALLER_TRACE "-" CALLER_SPAN "-01-what-comes-later", id,
                                 trace),
                    202);
    TH_STR_EQ(trace, CALLER_TRACE);
    json_object_put(th_wait_run(g_d.port, id, 20000));
}

/* kill -9 while a run waits between ticks: resumed by the same node id
 * restarted, it keeps its trace, and its later calls the caller's flags. */
static void test_redis_resume_keeps_trace(void)
{
    th_proc sim, redis, a, b;
    char url[64], id[64], trace[64];
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/durable.json", NULL, &sim) == 0);
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *plugins[] = {"test_wait", NULL};
    const char *env[] = {url, "SUPERVISOR_NODE_ID=node-t", "NODE_TTL_SEC=60",
                         "SHUTDOWN_GRACE_SEC=1", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &a) == 0);
    CU_ASSERT_EQUAL(start_traced(a.port, "test_wait", "{\"waits\":3,\"delay_ms\":700}",
                                 "00-" CALLER_TRACE "-" CALLER_SPAN "-00", id, trace),
                    202);
    TH_STR_EQ(trace, CALLER_TRACE);
    /* its first node is over (the next waits): killed between two ticks */
    long long deadline = th_mono_ms() + 10000;
    int ended = 0;
    while (!ended && th_mono_ms() < deadline) {
        th_resp r;
        char path[128];
        snprintf(path, sizeof path, "/v1/runs/%s", id);
        ended = th_http("GET", a.port, path, NULL, NULL, &r) == 0 &&
                th_count_events(r.json, "node_end") >= 1;
        th_resp_free(&r);
        if (!ended)
            th_poll_pause();
    }
    CU_ASSERT_FATAL(ended);
    kill(a.pid, SIGKILL);
    waitpid(a.pid, NULL, 0);
    a.pid = -1;
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &b) == 0);
    json_object *v = th_wait_run(b.port, id, 30000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    TH_STR_EQ(th_get_str(v, "trace_id"), CALLER_TRACE);
    CU_ASSERT_EQUAL(th_count_events(v, "run_resumed"), 1);
    json_object_put(v);
    /* every tick, before and after the kill, in the caller's trace and flags */
    json_object *all = th_sim_requests(&sim);
    CU_ASSERT_EQUAL(json_object_array_length(all), 4);
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        const char *tp = th_get_str(json_object_array_get_idx(all, i), "traceparent");
        CU_ASSERT(tp && strncmp(tp, "00-" CALLER_TRACE "-", 36) == 0 && strlen(tp) == 55 &&
                  strcmp(tp + 53, "00") == 0);
    }
    json_object_put(all);
    int tools = 0;
    CU_ASSERT(th_log_contains(&b, "\"msg\":\"run resumed\"", 0));
    CU_ASSERT(check_log_lines(&b, id, CALLER_TRACE, &tools) >= 2);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
    th_redis_stop(&redis);
    th_proc_stop(&sim, 5000);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"a traceparent joins the caller's trace: view, calls, logs", test_joins_caller_trace},
        {"no traceparent: a fresh random trace per run", test_fresh_trace_per_run},
        {"an invalid traceparent is ignored; a later version is read", test_invalid_header_ignored},
        {"Redis: a run resumed after kill -9 keeps its trace", test_redis_resume_keeps_trace},
    };
    static const sv_cu_suite suites[] = {
        {.name = "trace", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
