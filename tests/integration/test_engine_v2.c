/*
 * test_engine_v2.c - what Engine v2 promises, end to end with the real
 * daemon and router simulator: a tool call in flight, and its retry wait,
 * hold no CPU slot (WORKER_THREADS), so runs are not queued behind slow
 * routers.
 */
#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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

typedef struct poller {
    int port;
    const char *run_id;
    atomic_int *stop;
} poller;

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* GET url with a timeout: the HTTP status, 0 when no answer came in time. */
static long get_within(int port, const char *path, long timeout_ms)
{
    char url[256];
    long code = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static void *poll_run(void *arg)
{
    poller *p = arg;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", p->run_id);
    while (!atomic_load(p->stop))
        get_within(p->port, path, 10000);
    return NULL;
}

/* Redis frozen (SIGSTOP) while 4 clients poll a run: every request that
 * needs the store waits, and /healthz, which does not, is still answered
 * at once each time it is asked.  (On one HTTP thread that waits on Redis,
 * it would queue behind the polls for their 2 s store timeouts.) */
static void test_healthz_while_redis_frozen(void)
{
    th_proc redis, sim, d;
    char url[96], id[64];
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *plugins[] = {"test_wait", NULL};
    const char *env[] = {url, NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/engine_ok.json", NULL, &sim) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &d) == 0);
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{\"waits\":1,\"delay_ms\":60000}", id), 202);
    atomic_int stop;
    atomic_init(&stop, 0);
    poller p = {.port = d.port, .run_id = id, .stop = &stop};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, poll_run, &p) == 0);
    CU_ASSERT_EQUAL_FATAL(kill(redis.pid, SIGSTOP), 0);
    int answered = 0;
    for (int i = 0; i < 20; i++)
        answered += get_within(d.port, "/healthz", 1500) == 200;
    CU_ASSERT_EQUAL(answered, 20);
    kill(redis.pid, SIGCONT);
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* Redis back: the store answers again, the run is there. */
    json_object *v = NULL;
    long long deadline = th_mono_ms() + 20000;
    th_resp r = {0};
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    while (th_mono_ms() < deadline) {
        th_resp_free(&r);
        if (th_http("GET", d.port, path, NULL, NULL, &r) == 0 && r.status == 200)
            break;
        th_poll_pause();
    }
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&sim, 5000);
    th_redis_stop(&redis);
}

static void redis_do(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    CU_ASSERT(r && r->type != REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

/* Runs a daemon of the previous version left in Redis (its five keys per
 * run): a finished one is shown, listed and its events read; a running one
 * whose instance is gone is resumed from its checkpoint, moved to the new
 * key layout, and finishes. */
static void test_previous_key_layout(void)
{
    th_proc redis, sim, d;
    char url[96];
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    redisContext *c = redisConnect("127.0.0.1", redis.port);
    CU_ASSERT_FATAL(c && !c->err);
    static const char done_id[] = "gr_0123456789abcdef0123456789abcdef";
    static const char live_id[] = "gr_fedcba9876543210fedcba9876543210";
    const char *done_rec =
        "{\"run_id\":\"gr_0123456789abcdef0123456789abcdef\",\"graph\":\"test_chain\","
        "\"graph_version\":\"1.0.0\",\"status\":\"succeeded\",\"workspace_id\":\"ws\","
        "\"user_id\":\"u\",\"agent_id\":\"a\",\"created_at\":\"2026-12-01T10:00:00.000000+00:00\","
        "\"started_at\":\"2026-12-01T10:00:00.100000+00:00\","
        "\"finished_at\":\"2026-12-01T10:00:01.000000+00:00\",\"result\":{\"old\":true},"
        "\"error\":null}";
    const char *live_rec =
        "{\"run_id\":\"gr_fedcba9876543210fedcba9876543210\",\"graph\":\"test_chain\","
        "\"graph_version\":\"1.0.0\",\"status\":\"running\",\"workspace_id\":\"ws\","
        "\"user_id\":\"u\",\"agent_id\":\"a\",\"created_at\":\"2026-12-07T10:00:00.000000+00:00\","
        "\"started_at\":\"2026-12-07T10:00:00.100000+00:00\",\"finished_at\":null,"
        "\"result\":null,\"error\":null,\"checkpoint\":{\"node\":\"b\","
        "\"input\":{\"label\":\"old\"},\"state\":{\"steps\":1},\"call_seq\":[1,0,0,0]}}";
    redis_do(c, "SET sv:run:%s %s EX 3600", done_id, done_rec);
    redis_do(c, "SET sv:sum:%s %s EX 3600", done_id, done_rec);
    redis_do(c, "RPUSH sv:ev:%s %s", done_id,
             "{\"ts\":\"2026-12-01T10:00:01.000000+00:00\",\"type\":\"run_end\",\"node\":null,"
             "\"details\":{\"status\":\"succeeded\"}}");
    redis_do(c, "SET sv:evn:%s 1", done_id);
    redis_do(c, "ZADD sv:runs 1 %s", done_id);
    redis_do(c, "SET sv:run:%s %s EX 3600", live_id, live_rec);
    redis_do(c, "ZADD sv:runs 2 %s", live_id);
    redis_do(c, "SADD sv:nodes old-node");
    redis_do(c, "SADD sv:owned:old-node %s", live_id);

    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *plugins[] = {"test_chain", NULL};
    const char *env[] = {url, NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/engine_ok.json", NULL, &sim) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &d) == 0);
    th_resp r;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", done_id);
    CU_ASSERT_EQUAL(th_http("GET", d.port, path, NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    TH_STR_EQ(th_get_str(r.json, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_count_events(r.json, "run_end"), 1);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_http("GET", d.port, "/v1/runs?limit=10", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT(r.body && strstr(r.body, done_id));
    th_resp_free(&r);
    /* the running one: resumed at node b, finished on the new layout */
    json_object *v = th_wait_run(d.port, live_id, 30000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_count_events(v, "run_resumed"), 1);
    json_object_put(v);
    redisReply *x = redisCommand(c, "EXISTS sv:run:%s", live_id);
    CU_ASSERT(x && x->type == REDIS_REPLY_INTEGER && x->integer == 0);
    freeReplyObject(x);
    x = redisCommand(c, "HEXISTS sv:{%s} rec", live_id);
    CU_ASSERT(x && x->type == REDIS_REPLY_INTEGER && x->integer == 1);
    freeReplyObject(x);
    /* nodes b and c called the router, a was done before */
    json_object *calls = th_sim_requests(&sim);
    CU_ASSERT_EQUAL(json_object_array_length(calls), 2);
    json_object_put(calls);
    redisFree(c);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&sim, 5000);
    th_redis_stop(&redis);
}

static long long redis_int(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

/* A daemon with Redis of its own, the simulator, and a raw connection. */
typedef struct redis_pair {
    th_proc redis, sim, d;
    redisContext *c;
    char url[96];
} redis_pair;

static void pair_start(redis_pair *p, const char *const *redis_args, const char *scenario)
{
    CU_ASSERT_FATAL(th_redis_start_args(0, redis_args, &p->redis) == 0);
    p->c = redisConnect("127.0.0.1", p->redis.port);
    CU_ASSERT_FATAL(p->c && !p->c->err);
    snprintf(p->url, sizeof p->url, "REDIS_URL=redis://127.0.0.1:%d/0", p->redis.port);
    const char *plugins[] = {"test_wait", "test_chain", NULL};
    const char *env[] = {p->url, "NODE_TTL_SEC=60", NULL};
    CU_ASSERT_FATAL(th_sim_start(scenario, NULL, &p->sim) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &p->sim, &p->d) == 0);
}

static void pair_stop(redis_pair *p)
{
    CU_ASSERT_EQUAL(th_proc_stop(&p->d, 20000), 0);
    th_proc_stop(&p->sim, 5000);
    redisFree(p->c);
    th_redis_stop(&p->redis);
}

/* Fencing: while a run waits between its nodes here, another instance
 * takes it over (its ownership epoch goes up, as recover.c's claim does).
 * This instance's next write is refused: it stops the run and says so,
 * and writes nothing more of it (no run_end). */
static void test_fencing_stale_owner_stops(void)
{
    redis_pair p;
    char id[64], key[96];
    pair_start(&p, NULL, "tests/scenarios/engine_ok.json");
    CU_ASSERT_EQUAL(th_start_run(p.d.port, "test_wait", "{\"waits\":2,\"delay_ms\":1500}", id),
                    202);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&p.sim, 1, 20000), 0);
    snprintf(key, sizeof key, "sv:{%s}", id);
    CU_ASSERT_EQUAL(redis_int(p.c, "HINCRBY %s ep 1", key), 1);
    CU_ASSERT(th_log_contains(&p.d, "another instance took it over", 30000));
    json_object *v = NULL;
    th_resp r;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    CU_ASSERT_EQUAL(th_http("GET", p.d.port, path, NULL, NULL, &r), 0);
    TH_STR_EQ(th_get_str(r.json, "status"), "running");
    CU_ASSERT_EQUAL(th_count_events(r.json, "run_end"), 0);
    th_resp_free(&r);
    json_object_put(v);
    pair_stop(&p);
}

/* The end of a run while Redis is frozen: not lost, not left running.  The
 * daemon keeps trying to store it, says so once, and once Redis answers
 * again the run shows succeeded with one run_end. */
static void test_final_write_survives_frozen_redis(void)
{
    redis_pair p;
    char id[64];
    pair_start(&p, NULL, "tests/scenarios/engine_ok.json");
    CU_ASSERT_EQUAL(th_start_run(p.d.port, "test_wait", "{\"waits\":1,\"delay_ms\":1500}", id),
                    202);
    CU_ASSERT_EQUAL_FATAL(th_sim_wait_requests(&p.sim, 1, 20000), 0);
    CU_ASSERT_EQUAL_FATAL(kill(p.redis.pid, SIGSTOP), 0);
    int said = th_log_contains(&p.d, "the store does not have it yet", 30000);
    kill(p.redis.pid, SIGCONT);
    CU_ASSERT(said);
    json_object *v = th_wait_run(p.d.port, id, 30000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_count_events(v, "run_end"), 1);
    json_object_put(v);
    pair_stop(&p);
}

/* Redis at its maxmemory: a start is 503 store_full (not "not answering"),
 * /readyz says not ready the same way, and both recover once memory is
 * freed. */
static void test_redis_full(void)
{
    redis_pair p;
    char id[64];
    pair_start(&p, NULL, "tests/scenarios/engine_ok.json");
    /* full: a maxmemory below what it holds, nothing to evict */
    redis_do(p.c, "CONFIG SET maxmemory-policy noeviction");
    redis_do(p.c, "CONFIG SET maxmemory 1");
    redisReply *x = redisCommand(p.c, "SET probe 1");
    CU_ASSERT_FATAL(x && x->type == REDIS_REPLY_ERROR && strstr(x->str, "OOM"));
    freeReplyObject(x);
    th_resp r;
    CU_ASSERT_EQUAL(th_start_run(p.d.port, "test_chain", "{\"label\":\"x\"}", id), 503);
    const char *body =
        "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":{\"label\":\"x\"}}";
    CU_ASSERT_EQUAL(th_http("POST", p.d.port, "/v1/graphs/test_chain/runs", body, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "store_full");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_http("GET", p.d.port, "/readyz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "store_full");
    th_resp_free(&r);
    redis_do(p.c, "CONFIG SET maxmemory 0");
    CU_ASSERT_EQUAL(th_http("GET", p.d.port, "/readyz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_start_run(p.d.port, "test_chain", "{\"label\":\"x\"}", id), 202);
    pair_stop(&p);
}

static long long redis_hget(redisContext *c, const char *key, const char *field)
{
    redisReply *r = redisCommand(c, "HGET %s %s", key, field);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    freeReplyObject(r);
    return v;
}

/* Wait until the process has exited (it crashed); 0 or -1. */
static int wait_dead(th_proc *d)
{
    long long deadline = th_mono_ms() + 60000;
    while (th_proc_alive(d) && th_mono_ms() < deadline)
        th_poll_pause();
    return th_proc_alive(d) ? -1 : 0;
}

/* The run id of the daemon's crash line into id; 0 or -1. */
static int crashed_run_id(const th_proc *d, char id[64])
{
    static const char tag[] = "\"msg\":\"crashed\",\"signal\":\"SIGSEGV\",\"run_id\":\"";
    char line[4096];
    int rc = -1;
    FILE *f = fopen(d->log_path, "r");
    while (f && rc < 0 && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, tag), *q = p ? strchr(p + sizeof tag - 1, '"') : NULL;
        if (q && (size_t)(q - (p + sizeof tag - 1)) < 64) {
            memcpy(id, p + sizeof tag - 1, (size_t)(q - (p + sizeof tag - 1)));
            id[q - (p + sizeof tag - 1)] = '\0';
            rc = 0;
        }
    }
    if (f)
        fclose(f);
    return rc;
}

/* A poison run: its node crashes the daemon.  The crash line names the
 * signal, run, graph and node; Redis records it on the run and for the
 * graph's version; the restarted daemon resumes the run once more
 * (MAX_RESUMES=1), crashes again, and the next start fails the run with
 * resume_limit instead of crashing a third time.  With two crashes the
 * version is quarantined (QUARANTINE_CRASHES=2): starts get 503
 * graph_quarantined, other graphs still start. */
static void test_poison_run(void)
{
    th_proc redis, sim, d;
    char url[96], id[64], key[96], needle[128];
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    redisContext *c = redisConnect("127.0.0.1", redis.port);
    CU_ASSERT_FATAL(c && !c->err);
    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *plugins[] = {"test_crash", "test_chain", NULL};
    const char *env[] = {url, "SUPERVISOR_NODE_ID=poison-1", "MAX_RESUMES=1",
                         "QUARANTINE_CRASHES=2", NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/engine_ok.json", NULL, &sim) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &d) == 0);
    /* The node may crash the daemon before the 202 leaves it: then the
     * crash line names the run. */
    long st = th_start_run(d.port, "test_crash", "{\"crash\":true}", id);
    CU_ASSERT(st == 202 || st <= 0);
    CU_ASSERT_EQUAL_FATAL(wait_dead(&d), 0);
    if (st != 202)
        CU_ASSERT_EQUAL_FATAL(crashed_run_id(&d, id), 0);
    snprintf(needle, sizeof needle, "\"msg\":\"crashed\",\"signal\":\"SIGSEGV\",\"run_id\":\"%s\"",
             id);
    CU_ASSERT(th_log_contains(&d, needle, 0));
    CU_ASSERT(th_log_contains(&d,
                              "\"graph\":\"test_crash\",\"graph_version\":\"1.0.0\","
                              "\"node\":\"boom\"",
                              0));
    snprintf(key, sizeof key, "sv:{%s}", id);
    CU_ASSERT_EQUAL(redis_hget(c, key, "crashes"), 1);
    CU_ASSERT_EQUAL(redis_hget(c, "sv:crashes", "test_crash@1.0.0"), 1);
    th_proc_stop(&d, 1000);
    /* restarted: resumes the run (one crash so far) as it starts, which
     * crashes it again, before or after it answers */
    if (th_daemon_start(plugins, env, &sim, &d) == 0)
        CU_ASSERT_EQUAL_FATAL(wait_dead(&d), 0);
    CU_ASSERT(th_log_contains(&d, needle, 0));
    CU_ASSERT_EQUAL(redis_hget(c, key, "crashes"), 2);
    th_proc_stop(&d, 1000);
    /* restarted again: not resumed, failed; the daemon lives */
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &d) == 0);
    json_object *v = th_wait_run(d.port, id, 30000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "resume_limit");
    json_object_put(v);
    CU_ASSERT(th_proc_alive(&d));
    /* quarantined after two crashes; another graph still starts */
    th_resp r;
    const char *body = "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\","
                       "\"input\":{\"crash\":false}}";
    CU_ASSERT_EQUAL(th_http("POST", d.port, "/v1/graphs/test_crash/runs", body, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "graph_quarantined");
    th_resp_free(&r);
    CU_ASSERT(th_log_contains(&d, "graph quarantined: test_crash@1.0.0", 0));
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"x\"}", id), 202);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&sim, 5000);
    redisFree(c);
    th_redis_stop(&redis);
}

/* Two processes with one SUPERVISOR_NODE_ID would both run every run: the
 * second refuses to start while the first beats; after the first is killed
 * (kill -9), a restart under the id starts and takes its runs back. */
static void test_duplicate_node_id(void)
{
    th_proc redis, sim, a, b;
    char url[96];
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *plugins[] = {"test_chain", NULL};
    const char *env[] = {url, "SUPERVISOR_NODE_ID=dup-1", "NODE_TTL_SEC=2", NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/engine_ok.json", NULL, &sim) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &sim, &a) == 0);
    CU_ASSERT_EQUAL(th_daemon_start(plugins, env, &sim, &b), -1);
    CU_ASSERT(th_log_contains(&b, "another running instance uses this id", 0));
    th_resp r;
    CU_ASSERT_EQUAL(th_http("GET", a.port, "/healthz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
    kill(a.pid, SIGKILL);
    CU_ASSERT_EQUAL(wait_dead(&a), 0);
    th_proc_stop(&a, 1000);
    CU_ASSERT_EQUAL(th_daemon_start(plugins, env, &sim, &b), 0);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
    th_proc_stop(&sim, 5000);
    th_redis_stop(&redis);
}

/* A start whose run was never stored (Redis frozen under it, its instance
 * killed in between) leaves its Idempotency-Key claimed for a run that does
 * not exist.  A retry of the same start takes the claim over and starts the
 * run, once the claim is old enough not to be a start still in progress;
 * before that it is told to try again (503 with Retry-After), never 409. */
static void test_idempotency_claim_of_a_lost_start(void)
{
    redis_pair p;
    const char *body = "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\","
                       "\"input\":{\"label\":\"x\"}}";
    const char *hk[] = {"Idempotency-Key: k1", NULL};
    char first[64] = "", key[96];
    th_resp r;
    pair_start(&p, NULL, "tests/scenarios/engine_ok.json");
    CU_ASSERT_EQUAL(th_http("POST", p.d.port, "/v1/graphs/test_chain/runs", body, hk, &r), 0);
    CU_ASSERT_EQUAL(r.status, 202);
    snprintf(first, sizeof first, "%s",
             th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    th_resp_free(&r);
    json_object_put(th_wait_run(p.d.port, first, 20000));
    /* the run is gone, its claim stays (as after a lost start) */
    snprintf(key, sizeof key, "sv:{%s}", first);
    CU_ASSERT_EQUAL(redis_int(p.c, "DEL %s", key), 1);
    /* a young claim: maybe a start still storing its run */
    CU_ASSERT_EQUAL(th_http("POST", p.d.port, "/v1/graphs/test_chain/runs", body, hk, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "idempotency_key_busy");
    CU_ASSERT(r.headers && strstr(r.headers, "Retry-After"));
    th_resp_free(&r);
    /* an old one: taken over, a new run starts */
    redis_do(p.c, "PEXPIRE sv:idem:idem:w:k1 86000000");
    CU_ASSERT_EQUAL(th_http("POST", p.d.port, "/v1/graphs/test_chain/runs", body, hk, &r), 0);
    CU_ASSERT_EQUAL(r.status, 202);
    const char *second = th_get_str(r.json, "run_id");
    CU_ASSERT(second && strcmp(second, first) != 0);
    char id2[64];
    snprintf(id2, sizeof id2, "%s", second ? second : "");
    th_resp_free(&r);
    /* and the key now replays that run */
    CU_ASSERT_EQUAL(th_http("POST", p.d.port, "/v1/graphs/test_chain/runs", body, hk, &r), 0);
    CU_ASSERT_EQUAL(r.status, 202);
    TH_STR_EQ(th_get_str(r.json, "run_id"), id2);
    CU_ASSERT(r.headers && strstr(r.headers, "Idempotent-Replayed"));
    th_resp_free(&r);
    pair_stop(&p);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"calls in flight exceed WORKER_THREADS", test_calls_in_flight_exceed_workers},
        {"a Retry-After wait delays no other run", test_retry_after_delays_nobody},
        {"/healthz answers while Redis is frozen", test_healthz_while_redis_frozen},
        {"runs of the previous Redis key layout", test_previous_key_layout},
        {"fencing: a stale owner stops its run", test_fencing_stale_owner_stops},
        {"a run's end outlasts a frozen Redis", test_final_write_survives_frozen_redis},
        {"Redis full: 503 store_full, not ready", test_redis_full},
        {"a poison run: crash line, records, resume limit, quarantine", test_poison_run},
        {"a node id in use refuses a second process", test_duplicate_node_id},
        {"the Idempotency-Key of a lost start", test_idempotency_claim_of_a_lost_start},
    };
    static const sv_cu_suite suites[] = {{.name = "engine v2", SV_CU_TESTS(tests)}};
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
