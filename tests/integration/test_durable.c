/*
 * test_durable.c - the daemon on a real Redis: a restart loses nothing, a
 * run whose daemon is killed with SIGKILL is resumed from its checkpoint (by
 * the same node id restarted, or by another instance once the dead one's
 * heartbeat lapses), a clean stop hands runs over at once, a cancel reaches
 * a run on another instance, an unresumable run fails saying why, and a
 * Redis outage gives 503 without taking the daemon down.
 *
 * Every test gets a fresh redis-server, so nodes killed by one test are not
 * taken over by the next.
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

static th_proc g_sim, g_redis;
static char g_url[64];

static int suite_init(void)
{
    return th_sim_start("tests/scenarios/durable.json", NULL, &g_sim);
}

static int suite_clean(void)
{
    th_proc_stop(&g_sim, 5000);
    return 0;
}

/* A Redis that does not start leaves g_url empty, which fails the test at
 * its first daemon start. */
static void test_setup(void)
{
    g_url[0] = '\0';
    if (th_redis_start(&g_redis) == 0)
        snprintf(g_url, sizeof g_url, "REDIS_URL=redis://127.0.0.1:%d/0", g_redis.port);
}

static void test_teardown(void)
{
    th_proc_stop(&g_redis, 5000);
}

/* SIGKILL: no chance to save anything or end the heartbeat. */
static void kill9(th_proc *d)
{
    kill(d->pid, SIGKILL);
    int st = 0;
    waitpid(d->pid, &st, 0);
    d->pid = -1;
}

static int start_daemon(const char *plugin, const char *node_id, const char *ttl, th_proc *d)
{
    char node[96], ttl_env[64];
    if (!g_url[0])
        return -1;
    snprintf(node, sizeof node, "SUPERVISOR_NODE_ID=%s", node_id ? node_id : "");
    snprintf(ttl_env, sizeof ttl_env, "NODE_TTL_SEC=%s", ttl ? ttl : "10");
    const char *plugins[] = {plugin, NULL};
    const char *env[] = {g_url, node, ttl_env, "SHUTDOWN_GRACE_SEC=1", NULL};
    return th_daemon_start(plugins, env, &g_sim, d);
}

/* Wait until the run's events hold at least n of type. */
static int wait_events(int port, const char *id, const char *type, int n, int timeout_ms)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        th_resp r;
        int got = th_http("GET", port, path, NULL, NULL, &r) == 0 && r.status == 200
                      ? th_count_events(r.json, type)
                      : 0;
        th_resp_free(&r);
        if (got >= n)
            return 0;
        th_poll_pause();
    }
    return -1;
}

/* The simulator's tick requests of one run, as "tick:call_id" lines. */
static void ticks_of(const char *run_id, char *out, size_t len)
{
    json_object *reqs = th_sim_requests(&g_sim);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; reqs && i < json_object_array_length(reqs); i++) {
        json_object *q = json_object_array_get_idx(reqs, i);
        const char *run = th_get_str(q, "body.metadata.graph_run_id");
        const char *action = th_get_str(q, "body.action");
        if (!run || strcmp(run, run_id) != 0 || !action || strcmp(action, "tick") != 0)
            continue;
        used += (size_t)snprintf(out + used, len - used, "%lld:%s\n",
                                 th_get_int(q, "body.params.tick", -1),
                                 th_get_str(q, "body.metadata.call_id"));
        if (used >= len)
            break;
    }
    json_object_put(reqs);
}

static void test_restart_loses_nothing(void)
{
    th_proc a, b;
    char id[64];
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, NULL, &a) == 0);
    CU_ASSERT_EQUAL(th_start_run(a.port, "test_wait", "{\"waits\":1,\"delay_ms\":10}", id), 202);
    json_object *v = th_wait_run(a.port, id, 15000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    int events = v ? (int)th_len(v, "events") : 0;
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&a, 20000), 0);
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, NULL, &b) == 0);
    th_resp r;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    CU_ASSERT_EQUAL(th_http("GET", b.port, path, NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    TH_STR_EQ(th_get_str(r.json, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_get_int(r.json, "result.ticks", 0), 2);
    CU_ASSERT_EQUAL((int)th_len(r.json, "events"), events);
    CU_ASSERT_PTR_NULL(th_get(r.json, "checkpoint")); /* never shown */
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_http("GET", b.port, "/v1/runs?graph=test_wait", NULL, NULL, &r), 0);
    TH_STR_EQ(th_get_str(r.json, "runs[0].run_id"), id);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_http("GET", b.port, "/readyz", NULL, NULL, &r), 0);
    TH_STR_EQ(th_get_str(r.json, "store"), "redis");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
}

/* Killed while a run waits between ticks: restarted under the same node id,
 * the daemon resumes it at once with its state (ticks go on from where they
 * were, none is repeated). */
static void test_kill9_same_node_resumes(void)
{
    th_proc a, b;
    char id[64], ticks[2048];
    CU_ASSERT_FATAL(start_daemon("test_wait", "node-a", "60", &a) == 0);
    CU_ASSERT_EQUAL(th_start_run(a.port, "test_wait", "{\"waits\":3,\"delay_ms\":700}", id), 202);
    CU_ASSERT_EQUAL_FATAL(wait_events(a.port, id, "node_end", 1, 10000), 0);
    kill9(&a);
    long long t0 = th_mono_ms();
    CU_ASSERT_FATAL(start_daemon("test_wait", "node-a", "60", &b) == 0);
    json_object *v = th_wait_run(b.port, id, 20000);
    /* not after the 60 s heartbeat: the node knew its own runs */
    CU_ASSERT(th_mono_ms() - t0 < 30000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_get_int(v, "result.ticks", 0), 4);
    CU_ASSERT_EQUAL(th_count_events(v, "run_resumed"), 1);
    CU_ASSERT_EQUAL(th_count_events(v, "run_start"), 1);
    json_object_put(v);
    ticks_of(id, ticks, sizeof ticks);
    char want[1024];
    snprintf(want, sizeof want, "1:%s:tick:1\n2:%s:tick:2\n3:%s:tick:3\n4:%s:tick:4\n", id, id, id,
             id);
    TH_STR_EQ(ticks, want);
    CU_ASSERT(th_log_contains(&b, "\"msg\":\"run resumed\"", 0));
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
}

/* Killed during a tool call (the simulator holds tick 2 for 4 s): another
 * instance takes the run over once the dead node's heartbeat lapses, runs
 * the node again, and the repeated call keeps its call_id. */
static void test_kill9_other_node_takes_over(void)
{
    th_proc a, b;
    char id[64], ticks[2048];
    /* 4 s: short for the test, long enough that a live daemon slowed down by
     * valgrind on a busy machine still beats in time */
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, "4", &a) == 0);
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, "4", &b) == 0);
    CU_ASSERT_EQUAL(
        th_start_run(a.port, "test_wait", "{\"waits\":2,\"delay_ms\":10,\"label\":\"slow\"}", id),
        202);
    /* tick 2 is in flight on a: the simulator has recorded it */
    char needle[128];
    long long deadline = th_mono_ms() + 10000;
    for (;;) {
        ticks_of(id, ticks, sizeof ticks);
        snprintf(needle, sizeof needle, "2:%s:tick:2\n", id);
        if (strstr(ticks, needle) || th_mono_ms() > deadline)
            break;
        th_poll_pause();
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(ticks, needle));
    kill9(&a);
    json_object *v = th_wait_run(b.port, id, 30000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_get_int(v, "result.ticks", 0), 3);
    CU_ASSERT_EQUAL(th_count_events(v, "run_resumed"), 1);
    json_object_put(v);
    ticks_of(id, ticks, sizeof ticks);
    char want[1024];
    snprintf(want, sizeof want, "1:%s:tick:1\n2:%s:tick:2\n2:%s:tick:2\n3:%s:tick:3\n", id, id, id,
             id);
    TH_STR_EQ(ticks, want);
    CU_ASSERT(th_log_contains(&b, "is gone; 1 of its runs resumed here", 5000));
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
}

/* SIGTERM ends the heartbeat: another instance resumes the waiting run at
 * its next look, long before the 30 s heartbeat would have lapsed. */
static void test_clean_stop_hands_over(void)
{
    th_proc a, b;
    char id[64];
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, "30", &a) == 0);
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, "30", &b) == 0);
    CU_ASSERT_EQUAL(th_start_run(a.port, "test_wait", "{\"waits\":2,\"delay_ms\":3000}", id), 202);
    CU_ASSERT_EQUAL_FATAL(wait_events(a.port, id, "node_end", 1, 10000), 0);
    long long t0 = th_mono_ms();
    CU_ASSERT_EQUAL(th_proc_stop(&a, 20000), 0);
    json_object *v = th_wait_run(b.port, id, 25000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT(th_mono_ms() - t0 < 25000);
    CU_ASSERT_EQUAL(th_get_int(v, "result.ticks", 0), 3);
    CU_ASSERT_EQUAL(th_count_events(v, "run_resumed"), 1);
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
}

/* A cancel sent to another instance reaches the run through the store, and
 * wakes it even while it waits between nodes. */
static void test_cancel_through_other_instance(void)
{
    th_proc a, b;
    char id[64], path[128];
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, NULL, &a) == 0);
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, NULL, &b) == 0);
    /* waiting 30 s between ticks on a: only the store tells a of the cancel */
    CU_ASSERT_EQUAL(th_start_run(a.port, "test_wait", "{\"waits\":100,\"delay_ms\":30000}", id),
                    202);
    CU_ASSERT_EQUAL_FATAL(wait_events(a.port, id, "node_end", 1, 10000), 0);
    long long t0 = th_mono_ms();
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    th_resp r;
    CU_ASSERT_EQUAL(th_http("POST", b.port, path, NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 202);
    TH_STR_EQ(th_get_str(r.json, "status"), "cancelling");
    th_resp_free(&r);
    json_object *v = th_wait_run(b.port, id, 20000);
    TH_STR_EQ(th_get_str(v, "status"), "cancelled");
    CU_ASSERT(th_mono_ms() - t0 < 15000); /* heard at once, not after the 30 s wait */
    CU_ASSERT_EQUAL(th_count_events(v, "cancel_requested"), 1);
    CU_ASSERT(th_get_int(v, "result.ticks", 0) < 100);
    json_object_put(v);
    /* the graph's cleanup ran on the instance that had the run */
    CU_ASSERT_EQUAL(th_proc_stop(&a, 20000), 0);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
}

/* The version the run started on is gone: the run fails saying so, rather
 * than handing its state to code that may read it differently. */
static void test_unresumable_fails_with_reason(void)
{
    th_proc a, b;
    char id[64];
    CU_ASSERT_FATAL(start_daemon("test_wait", "node-v", "60", &a) == 0);
    CU_ASSERT_EQUAL(th_start_run(a.port, "test_wait", "{\"waits\":3,\"delay_ms\":2000}", id), 202);
    CU_ASSERT_EQUAL_FATAL(wait_events(a.port, id, "node_end", 1, 10000), 0);
    kill9(&a);
    CU_ASSERT_FATAL(start_daemon("test_wait_v2", "node-v", "60", &b) == 0);
    json_object *v = th_wait_run(b.port, id, 10000);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "resume_failed");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(th_get_str(v, "error.message") ? th_get_str(v, "error.message") : "",
               "test_wait 1.0.0 is not loaded here (loaded: 2.0.0)"));
    CU_ASSERT_EQUAL(th_count_events(v, "run_end"), 1);
    CU_ASSERT_PTR_NOT_NULL(th_get(v, "finished_at"));
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
}

/* Redis goes away: starts and reads answer 503, the daemon stays up, and
 * it works again once Redis is back on the same port. */
static void test_redis_outage(void)
{
    th_proc a;
    char id[64];
    CU_ASSERT_FATAL(start_daemon("test_wait", NULL, NULL, &a) == 0);
    int port = g_redis.port;
    CU_ASSERT_EQUAL(th_proc_stop(&g_redis, 5000), 0);
    th_resp r;
    CU_ASSERT_EQUAL(th_start_run(a.port, "test_wait", "{\"waits\":0}", id), 503);
    CU_ASSERT_EQUAL(th_http("GET", a.port, "/readyz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "store_unavailable");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(
        th_http("GET", a.port, "/v1/runs/gr_0123456789abcdef0123456789abcdef", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    th_resp_free(&r);
    CU_ASSERT(th_proc_alive(&a));
    CU_ASSERT_FATAL(th_redis_start_port(port, &g_redis) == 0);
    long long deadline = th_mono_ms() + 10000;
    long st = 0;
    while (th_mono_ms() < deadline &&
           (st = th_start_run(a.port, "test_wait", "{\"waits\":0}", id)) != 202)
        th_poll_pause();
    CU_ASSERT_EQUAL(st, 202);
    json_object *v = th_wait_run(a.port, id, 10000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&a, 20000), 0);
}

/* A store that does not answer at start-up stops the daemon with one line. */
static void test_unreachable_redis_refused(void)
{
    th_proc a;
    int port = g_redis.port;
    CU_ASSERT_FATAL(g_url[0] != '\0');
    CU_ASSERT_EQUAL(th_proc_stop(&g_redis, 5000), 0);
    CU_ASSERT_NOT_EQUAL(start_daemon("test_wait", NULL, NULL, &a), 0);
    char needle[96];
    snprintf(needle, sizeof needle, "REDIS_URL: cannot connect to 127.0.0.1:%d", port);
    CU_ASSERT(th_log_contains(&a, needle, 0));
    CU_ASSERT(th_log_contains(&a, "\"msg\":\"bad configuration\"", 0));
    CU_ASSERT_FATAL(th_redis_start_port(port, &g_redis) == 0); /* for the teardown */
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"a restart loses nothing", test_restart_loses_nothing},
        {"kill -9, same node id: resumed at once", test_kill9_same_node_resumes},
        {"kill -9 in a tool call: another node takes over", test_kill9_other_node_takes_over},
        {"a clean stop hands runs over", test_clean_stop_hands_over},
        {"cancel through another instance", test_cancel_through_other_instance},
        {"unresumable run fails with the reason", test_unresumable_fails_with_reason},
        {"Redis outage: 503, then recovery", test_redis_outage},
        {"unreachable Redis at start-up", test_unreachable_redis_refused},
    };
    static const sv_cu_suite suites[] = {
        {.name = "durable",
         SV_CU_TESTS(tests),
         .init = suite_init,
         .clean = suite_clean,
         .setup = test_setup,
         .teardown = test_teardown},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
