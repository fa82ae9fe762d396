/*
 * test_longpoll.c - GET /v1/runs/{id}?wait=SEC[&since=N]: the answer comes
 * when the run ends (or, with since, when it has news), at the deadline
 * otherwise, at once for a run already over; bad values are 400; a hundred
 * waiting requests hold no thread each; a stop answers the waiting ones.
 * Also /metrics, which counts what these tests did.
 */
#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "harness.h"
#include "sv_build.h" /* PACKAGE_VERSION */

static th_proc g_sim, g_d;

static int suite_init(void)
{
    const char *plugins[] = {"test_wait", NULL};
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    const char *env[] = {"WORKER_THREADS=2", NULL};
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

/* GET the run with a query; the view (caller puts) and how long it took. */
static json_object *get_q(int port, const char *id, const char *query, long *status, long long *ms)
{
    char path[256];
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s%s", id, query);
    long long t0 = th_mono_ms();
    th_http("GET", port, path, NULL, NULL, &r);
    *ms = th_mono_ms() - t0;
    *status = r.status;
    json_object *v = json_object_get(r.json);
    th_resp_free(&r);
    return v;
}

static long long total_events(json_object *v)
{
    json_object *ev = th_get(v, "events");
    return th_get_int(v, "events_dropped", 0) + (ev ? (long long)json_object_array_length(ev) : 0);
}

static void test_wait_until_end(void)
{
    char id[64];
    long st;
    long long ms;
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_wait", "{\"waits\":2,\"delay_ms\":400}", id), 202);
    json_object *v = get_q(g_d.port, id, "?wait=20", &st, &ms);
    CU_ASSERT_EQUAL(st, 200);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_count_events(v, "run_end"), 1);
    /* it answered when the run ended, not at the deadline */
    CU_ASSERT(ms < 15000);
    json_object_put(v);
    /* a run already over answers at once */
    v = get_q(g_d.port, id, "?wait=20", &st, &ms);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT(ms < 5000);
    json_object_put(v);
}

/* Runs that end while the request is between reading the run and parking:
 * the end must still wake it (no lost wake-up), every time. */
static void test_wait_races_the_end(void)
{
    int slow = 0, not_final = 0;
    for (int i = 0; i < 40; i++) {
        char id[64];
        long st;
        long long ms;
        if (th_start_run(g_d.port, "test_wait", "{\"waits\":0}", id) != 202) {
            not_final++;
            continue;
        }
        json_object *v = get_q(g_d.port, id, "?wait=20", &st, &ms);
        not_final += !th_get_str(v, "status") || strcmp(th_get_str(v, "status"), "succeeded") != 0;
        slow += ms >= 10000;
        json_object_put(v);
    }
    CU_ASSERT_EQUAL(not_final, 0);
    CU_ASSERT_EQUAL(slow, 0);
}

static void test_wait_deadline_and_since(void)
{
    char id[64], q[64];
    long st;
    long long ms;
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_wait", "{\"waits\":100,\"delay_ms\":300}", id),
                    202);
    /* the deadline: the current view, still running, after about a second */
    json_object *v = get_q(g_d.port, id, "?wait=1", &st, &ms);
    CU_ASSERT_EQUAL(st, 200);
    TH_STR_EQ(th_get_str(v, "status"), "running");
    CU_ASSERT(ms >= 900);
    long long seen = total_events(v);
    json_object_put(v);
    /* since: back as soon as there is an event past the ones seen */
    snprintf(q, sizeof q, "?wait=30&since=%lld", seen);
    v = get_q(g_d.port, id, q, &st, &ms);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT(total_events(v) > seen);
    TH_STR_EQ(th_get_str(v, "status"), "running");
    CU_ASSERT(ms < 20000);
    json_object_put(v);
    /* since already behind: at once */
    v = get_q(g_d.port, id, "?wait=30&since=0", &st, &ms);
    CU_ASSERT(ms < 5000);
    json_object_put(v);
    /* a cancel wakes a waiter at once */
    char path[128];
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    th_http("POST", g_d.port, path, NULL, NULL, &r);
    th_resp_free(&r);
    v = get_q(g_d.port, id, "?wait=30", &st, &ms);
    TH_STR_EQ(th_get_str(v, "status"), "cancelled");
    CU_ASSERT(ms < 20000);
    json_object_put(v);
}

static void test_bad_values(void)
{
    static const char *const bad[][2] = {
        {"?wait=abc", "wait"},  {"?wait=61", "wait"},  {"?wait=-1", "wait"},  {"?wait=", "wait"},
        {"?since=-1", "since"}, {"?since=x", "since"}, {"?bogus=1", "bogus"},
    };
    char id[64];
    long st;
    long long ms;
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_wait", "{\"waits\":0}", id), 202);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *v = get_q(g_d.port, id, bad[i][0], &st, &ms);
        CU_ASSERT_EQUAL(st, 400);
        TH_STR_EQ(th_get_str(v, "error.details.field"), bad[i][1]);
        json_object_put(v);
    }
    /* wait=0 is a plain read */
    json_object *v = get_q(g_d.port, id, "?wait=0", &st, &ms);
    CU_ASSERT_EQUAL(st, 200);
    json_object_put(v);
    /* unknown run: 404 at once, not after the wait */
    v = get_q(g_d.port, "gr_0123456789abcdef0123456789abcdef", "?wait=30", &st, &ms);
    CU_ASSERT_EQUAL(st, 404);
    CU_ASSERT(ms < 5000);
    json_object_put(v);
}

/* A sample of GET /metrics ("name" or "name{labels}"); -1 when absent. */
static double metric(int port, const char *sample)
{
    th_resp r;
    double v = -1;
    char needle[256];
    snprintf(needle, sizeof needle, "\n%s ", sample);
    if (th_http("GET", port, "/metrics", NULL, NULL, &r) == 0 && r.status == 200 && r.body) {
        const char *p = strstr(r.body, needle);
        if (p)
            v = strtod(p + strlen(needle), NULL);
    }
    th_resp_free(&r);
    return v;
}

static int threads_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* 100 requests waiting at once on one run: no thread each, all answered
 * when it ends. */
static void test_many_waiters_no_threads(void)
{
    enum { N = 100 };
    char id[64], url[256];
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_wait", "{\"waits\":6,\"delay_ms\":500}", id), 202);
    int before = threads_of(g_d.pid);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/runs/%s?wait=30", g_d.port, id);
    CURLM *m = curl_multi_init();
    CURL *h[N];
    for (int i = 0; i < N; i++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_TIMEOUT_MS, 40000L);
        curl_multi_add_handle(m, h[i]);
    }
    int running = N, peak = before, done_ok = 0;
    long long deadline = th_mono_ms() + 45000;
    while (running > 0 && th_mono_ms() < deadline) {
        curl_multi_perform(m, &running);
        curl_multi_wait(m, NULL, 0, 100, NULL);
        int t = threads_of(g_d.pid);
        peak = t > peak ? t : peak;
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        done_ok += msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK && code == 200;
    }
    for (int i = 0; i < N; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
    }
    curl_multi_cleanup(m);
    CU_ASSERT_EQUAL(done_ok, N);
    printf("\n    threads: %d before, %d at most while %d requests waited\n", before, peak, N);
    /* Not one per waiting request.  With Redis, each look at the store
     * runs on the API pool, which may add up to 8 threads per CPU slot
     * (WORKER_THREADS=2 here) to wait on the store together. */
    CU_ASSERT(peak <= before + 2 + 16);
    json_object *v = th_wait_run(g_d.port, id, 1000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
}

/* A stop answers the requests still waiting (with the view as it is) and
 * exits 0 without waiting for their deadlines. */
static void test_stop_answers_waiters(void)
{
    th_proc d;
    char id[64], url[256];
    const char *plugins[] = {"test_wait", NULL};
    const char *env[] = {"SHUTDOWN_GRACE_SEC=1", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &d) == 0);
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{\"waits\":100,\"delay_ms\":1000}", id),
                    202);
    CU_ASSERT_EQUAL(th_wait_status(d.port, id, "running", 10000), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/runs/%s?wait=60", d.port, id);
    CURLM *m = curl_multi_init();
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_multi_add_handle(m, h);
    int running = 1;
    /* until the daemon has parked it */
    long long until = th_mono_ms() + 10000;
    while (metric(d.port, "sofiia_waiting_requests") != 1 && th_mono_ms() < until) {
        curl_multi_perform(m, &running);
        curl_multi_wait(m, NULL, 0, 50, NULL);
    }
    CU_ASSERT_EQUAL(metric(d.port, "sofiia_waiting_requests"), 1);
    long long t0 = th_mono_ms();
    CU_ASSERT_EQUAL(th_proc_stop(&d, 30000), 0);
    CU_ASSERT(th_mono_ms() - t0 < 20000); /* not the 60 s wait */
    long long deadline = th_mono_ms() + 5000;
    while (running > 0 && th_mono_ms() < deadline) {
        curl_multi_perform(m, &running);
        curl_multi_wait(m, NULL, 0, 50, NULL);
    }
    CU_ASSERT_EQUAL(running, 0);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    CU_ASSERT_EQUAL(code, 200);
    curl_multi_remove_handle(m, h);
    curl_easy_cleanup(h);
    curl_multi_cleanup(m);
}

/* What the earlier tests did shows in /metrics, in Prometheus' format. */
static void test_metrics(void)
{
    th_resp r;
    CU_ASSERT_EQUAL(th_http("GET", g_d.port, "/metrics", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "text/plain; version=0.0.4") : NULL);
    CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "# TYPE sofiia_runs_finished_total counter\n")
                                  : NULL);
    CU_ASSERT_PTR_NOT_NULL(
        r.body ? strstr(r.body, "sofiia_build_info{version=\"" PACKAGE_VERSION "\",store=\"")
               : NULL);
    th_resp_free(&r);
    /* earlier tests: 43 runs succeeded (end, races, bad values, 100 waiters), 1 cancelled */
    CU_ASSERT(metric(g_d.port, "sofiia_runs_finished_total{status=\"succeeded\"}") >= 43);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_runs_finished_total{status=\"cancelled\"}"), 1);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_runs_finished_total{status=\"failed\"}"), 0);
    CU_ASSERT(metric(g_d.port, "sofiia_runs_started_total") >= 4);
    CU_ASSERT(metric(g_d.port, "sofiia_nodes_executed_total") >= 10);
    CU_ASSERT(metric(g_d.port, "sofiia_tool_call_attempts_total{status=\"succeeded\"}") >= 10);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_graphs_loaded"), 1);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_workers"), 2);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_runs_live"), 0);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_waiting_requests"), 0);
    CU_ASSERT_EQUAL(th_http("POST", g_d.port, "/metrics", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 405);
    th_resp_free(&r);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"wait until the run ends", test_wait_until_end},
        {"the end never slips past a parking request", test_wait_races_the_end},
        {"deadline, since, cancel wakes", test_wait_deadline_and_since},
        {"bad wait and since values", test_bad_values},
        {"100 waiters, no thread each", test_many_waiters_no_threads},
        {"/metrics", test_metrics},
        {"a stop answers waiting requests", test_stop_answers_waiters},
    };
    static const sv_cu_suite suites[] = {
        {.name = "longpoll", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
