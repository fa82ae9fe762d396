/*
 * test_engine_v2.c - what Engine v2 promises, end to end with the real
 * daemon and router simulator: a tool call in flight, and its retry wait,
 * hold no CPU slot (WORKER_THREADS), so runs are not queued behind slow
 * routers.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "harness.h"

/* 200 release_check runs (4 polls, 500 ms apart) on WORKER_THREADS=2 with
 * a router answering every call after 50 ms: all succeed, and the router
 * saw more than 2 calls open at once, which a thread per call in flight
 * with 2 threads could never make. */
static void test_calls_in_flight_exceed_workers(void)
{
    th_proc sim, d;
    const char *plugins[] = {"release_check", NULL};
    const char *env[] = {"WORKER_THREADS=2", NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/inflight_release.json", NULL, &sim) == 0);
    if (th_daemon_start(plugins, env, &sim, &d) < 0) {
        th_proc_stop(&sim, 2000);
        CU_FAIL_FATAL("daemon did not start");
    }
    enum { N = 200 };
    static char ids[N][64];
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(th_start_run(d.port, "release_check",
                                     "{\"service_name\":\"router\",\"poll_interval_ms\":500}",
                                     ids[i]),
                        202);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        json_object *v = th_wait_run(d.port, ids[i], 120000);
        if (v && th_streq(th_get_str(v, "status"), "succeeded") && th_get(v, "result.pass") &&
            json_object_get_boolean(th_get(v, "result.pass")))
            ok++;
        json_object_put(v);
    }
    CU_ASSERT_EQUAL(ok, N);
    json_object *calls = th_sim_requests(&sim);
    long n = (long)json_object_array_length(calls), max = 0;
    for (long i = 0; i < n; i++) {
        long long f = th_get_int(json_object_array_get_idx(calls, i), "in_flight", 0);
        if (f > max)
            max = (long)f;
    }
    json_object_put(calls);
    printf("\n    %ld tool calls, at most %ld in flight at once on 2 worker threads\n", n, max);
    CU_ASSERT_EQUAL(n, N * 5); /* start_task + 4 x get_job */
    CU_ASSERT(max > 2);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&sim, 5000);
}

/* One run's call is answered 503 with Retry-After: 2.  On the only CPU
 * slot (WORKER_THREADS=1), 50 other runs started after that answer all
 * finish before the retry is sent: the wait holds no slot. */
static void test_retry_after_delays_nobody(void)
{
    th_proc sim, d;
    const char *plugins[] = {"test_chain", NULL};
    const char *env[] = {"WORKER_THREADS=1", NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/retry_after.json", NULL, &sim) == 0);
    if (th_daemon_start(plugins, env, &sim, &d) < 0) {
        th_proc_stop(&sim, 2000);
        CU_FAIL_FATAL("daemon did not start");
    }
    char slow[64];
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"slow\"}", slow), 202);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&sim, 1, 20000), 0);
    enum { N = 50 };
    static char ids[N][64];
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"fast\"}", ids[i]), 202);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        json_object *v = th_wait_run(d.port, ids[i], 60000);
        if (v && th_streq(th_get_str(v, "status"), "succeeded"))
            ok++;
        json_object_put(v);
    }
    CU_ASSERT_EQUAL(ok, N);
    json_object *v = th_wait_run(d.port, slow, 60000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    /* In the router's order of arrival: every fast call came before the
     * slow run's second attempt. */
    json_object *calls = th_sim_requests(&sim);
    long n = (long)json_object_array_length(calls), retry_at = -1, last_fast = -1;
    for (long i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(calls, i);
        const char *label = th_get_str(c, "body.params.label");
        if (label && strcmp(label, "slow") == 0 && th_get_int(c, "body.metadata.attempt", 0) == 2)
            retry_at = i;
        if (label && strcmp(label, "fast") == 0)
            last_fast = i;
    }
    json_object_put(calls);
    CU_ASSERT(retry_at > 0);
    CU_ASSERT_EQUAL(n, (N + 1) * 3 + 1);
    CU_ASSERT(last_fast >= 0 && last_fast < retry_at);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&sim, 5000);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"calls in flight exceed WORKER_THREADS", test_calls_in_flight_exceed_workers},
        {"a Retry-After wait delays no other run", test_retry_after_delays_nobody},
    };
    static const sv_cu_suite suites[] = {{.name = "engine v2", SV_CU_TESTS(tests)}};
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
