/*
 * test_retain.c - POST /v1/runs/{id}/retain and GET /v1/runs in pages,
 * against the real daemon (both stores: test.sh runs it again with
 * SV_TEST_STORE=redis, where the keys' TTLs are read from Redis too).
 *
 * Retain: with RUN_TTL_SEC=3 an unretained run disappears while a retained
 * one that finished earlier is still there (polled with a deadline, no
 * sleeps), a retain never shortens, a live run retained then finishing
 * keeps its retained expiry, it stays listed, and every bad request is
 * refused with the right status and field.  Paging: every run exactly once,
 * newest first, "next" null at the end, runs started during the walk cause
 * no duplicates, filters page too, damaged cursors are 400.
 */
#include <CUnit/CUnit.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cu_run.h"
#include "harness.h"

#define ADMIN "admin-secret-0123456789"
#define OTHER "other-secret-9876543210"
#define WAIT_MS 30000

static th_proc g_sim, g_d;

static int start_daemon(const char *ttl)
{
    const char *plugins[] = {"test_wait", "test_chain", NULL};
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=adm:" ADMIN ",w2:" OTHER "@ws2", ttl,
                         "RUN_RETAIN_MAX_SEC=86400", "WORKER_THREADS=2", NULL};
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int retain_init(void)
{
    return start_daemon("RUN_TTL_SEC=3");
}

static int paging_init(void)
{
    return start_daemon("RUN_TTL_SEC=3600");
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

/* A request with a key (NULL: none); the answer in r (caller frees). */
static long req(const char *method, const char *path, const char *body, const char *key, th_resp *r)
{
    char auth[128];
    const char *hdr[3] = {"Content-Type: application/json", NULL, NULL};
    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        hdr[1] = auth;
    }
    if (th_http(method, g_d.port, path, body, hdr, r) < 0)
        return -1;
    return r->status;
}

/* Start a run in workspace ws; its id, or "" on failure. */
static void start(const char *graph, const char *input, const char *ws, char id[64])
{
    char path[128], body[512];
    th_resp r;
    snprintf(path, sizeof path, "/v1/graphs/%s/runs", graph);
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"%s\",\"user_id\":\"u1\",\"agent_id\":\"a1\",\"input\":%s}", ws,
             input);
    id[0] = '\0';
    CU_ASSERT_EQUAL(req("POST", path, body, ADMIN, &r), 202);
    const char *s = th_get_str(r.json, "run_id");
    if (s)
        snprintf(id, 64, "%s", s);
    th_resp_free(&r);
}

/* GET the run: its status code, and the view (caller puts) when 200. */
static long get(const char *id, json_object **view)
{
    char path[128];
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    long st = req("GET", path, NULL, ADMIN, &r);
    if (view)
        *view = st == 200 ? json_object_get(r.json) : NULL;
    th_resp_free(&r);
    return st;
}

static int terminal(const char *s)
{
    return s && (!strcmp(s, "succeeded") || !strcmp(s, "failed") || !strcmp(s, "cancelled"));
}

/* Poll until the run's status is `want` (NULL: any terminal one); 0 or -1. */
static int wait_status(const char *id, const char *want)
{
    long long deadline = th_mono_ms() + WAIT_MS;
    while (th_mono_ms() < deadline) {
        json_object *v = NULL;
        get(id, &v);
        const char *s = th_get_str(v, "status");
        int ok = want ? s && !strcmp(s, want) : terminal(s);
        json_object_put(v);
        if (ok)
            return 0;
        th_poll_pause();
    }
    return -1;
}

/* Poll until GET answers 404 (the run expired); 0 or -1. */
static int wait_gone(const char *id)
{
    long long deadline = th_mono_ms() + WAIT_MS;
    while (th_mono_ms() < deadline) {
        if (get(id, NULL) == 404)
            return 0;
        th_poll_pause();
    }
    return -1;
}

/* Seconds from now to an RFC 3339 UTC time ("2026-12-07T03:00:00.123456+00:00"). */
static long long secs_until(const char *ts)
{
    struct tm tm = {0};
    if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm))
        return -1000000;
    return (long long)timegm(&tm) - (long long)time(NULL);
}

/* POST retain; the status, and the answer (caller puts) when 200. */
static long retain(const char *id, const char *body, const char *key, json_object **ans)
{
    char path[128];
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s/retain", id);
    long st = req("POST", path, body, key, &r);
    if (ans)
        *ans = json_object_get(r.json);
    th_resp_free(&r);
    return st;
}

/* With Redis under the daemon, a key's TTL in ms (-2: absent); -100 without. */
static long long redis_pttl(const char *fmt, const char *id)
{
    if (!g_d.store)
        return -100;
    redisContext *c = redisConnect("127.0.0.1", g_d.store->port);
    long long v = -3;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, fmt, id);
        if (r && r->type == REDIS_REPLY_INTEGER)
            v = r->integer;
        freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return v;
}

/* Is run id in the first page of GET /v1/runs (limit 1000)? */
static int listed(const char *id)
{
    th_resp r;
    int found = 0;
    CU_ASSERT_EQUAL(req("GET", "/v1/runs?limit=1000", NULL, ADMIN, &r), 200);
    json_object *runs = th_get(r.json, "runs");
    for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
        const char *s = th_get_str(json_object_array_get_idx(runs, i), "run_id");
        found |= s && strcmp(s, id) == 0;
    }
    th_resp_free(&r);
    return found;
}

static void test_retained_outlives_ttl(void)
{
    char a[64], b[64], c[64];
    json_object *ans = NULL, *v = NULL;
    /* A finishes first and is retained; B finishes after it and is not:
     * once B is gone, A's own expiry (its last write + 3 s) is past too. */
    start("test_wait", "{\"waits\":0}", "ws1", a);
    CU_ASSERT_EQUAL_FATAL(wait_status(a, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(retain(a, "{\"ttl_sec\":600}", ADMIN, &ans), 200);
    TH_STR_EQ(th_get_str(ans, "run_id"), a);
    TH_STR_EQ(th_get_str(ans, "status"), "succeeded");
    long long ttl = th_get_int(ans, "ttl_sec", -1);
    CU_ASSERT(ttl > 500 && ttl <= 600);
    CU_ASSERT(secs_until(th_get_str(ans, "expires_at")) > 500);
    json_object_put(ans);
    start("test_wait", "{\"waits\":0}", "ws1", b);
    CU_ASSERT_EQUAL_FATAL(wait_status(b, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(wait_gone(b), 0);
    CU_ASSERT_EQUAL(get(a, &v), 200);
    CU_ASSERT(secs_until(th_get_str(v, "expires_at")) > 500);
    json_object_put(v);
    if (g_d.store) {
        fprintf(stderr, "redis store: the keys' TTLs are checked in Redis too\n");
        CU_ASSERT(redis_pttl("PTTL sv:{%s}", a) > 500000);
        CU_ASSERT(redis_pttl("PTTL sv:{%s}:ev", a) > 500000);
        CU_ASSERT_EQUAL(redis_pttl("PTTL sv:{%s}", b), -2);
    }
    /* A shorter retain shortens nothing. */
    CU_ASSERT_EQUAL(retain(a, "{\"ttl_sec\":5}", ADMIN, &ans), 200);
    CU_ASSERT(th_get_int(ans, "ttl_sec", -1) > 500);
    CU_ASSERT(secs_until(th_get_str(ans, "expires_at")) > 500);
    json_object_put(ans);
    /* Still listed once a run created later than a TTL after it exists (on
     * Redis the create prunes the index of runs that old). */
    start("test_wait", "{\"waits\":0}", "ws1", c);
    CU_ASSERT_EQUAL(wait_status(c, NULL), 0);
    CU_ASSERT(listed(a));
    CU_ASSERT(listed(c));
    CU_ASSERT(!listed(b));
}

static void test_live_run_keeps_retain(void)
{
    char id[64];
    json_object *ans = NULL, *v = NULL;
    start("test_wait", "{\"waits\":1,\"delay_ms\":60000}", "ws1", id);
    CU_ASSERT_EQUAL_FATAL(wait_status(id, "running"), 0);
    CU_ASSERT_EQUAL_FATAL(retain(id, "{\"ttl_sec\":900}", ADMIN, &ans), 200);
    TH_STR_EQ(th_get_str(ans, "status"), "running");
    json_object_put(ans);
    /* Its writes from here on (the cancel, its hook's call, the end) give it
     * RUN_TTL_SEC each, which must not cut the 900 s short. */
    char path[128];
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    CU_ASSERT_EQUAL(req("POST", path, "", ADMIN, &r), 202);
    th_resp_free(&r);
    CU_ASSERT_EQUAL_FATAL(wait_status(id, "cancelled"), 0);
    CU_ASSERT_EQUAL(get(id, &v), 200);
    long long left = secs_until(th_get_str(v, "expires_at"));
    CU_ASSERT(left > 800 && left <= 901);
    json_object_put(v);
    if (g_d.store) {
        CU_ASSERT(redis_pttl("PTTL sv:{%s}", id) > 800000);
        CU_ASSERT(redis_pttl("PTTL sv:{%s}:ev", id) > 800000);
    }
    /* An unretained run's expires_at is about RUN_TTL_SEC away. */
    char u[64];
    start("test_wait", "{\"waits\":0}", "ws1", u);
    CU_ASSERT_EQUAL(wait_status(u, NULL), 0);
    if (get(u, &v) == 200) {
        left = secs_until(th_get_str(v, "expires_at"));
        CU_ASSERT(left >= -1 && left <= 4);
    }
    json_object_put(v);
}

/* The error body's code and field. */
static void expect_error(const char *id, const char *body, const char *key, long want,
                         const char *code, const char *field)
{
    th_resp r;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s/retain", id);
    long got = req("POST", path, body, key, &r);
    CU_ASSERT_EQUAL(got, want);
    TH_STR_EQ(th_get_str(r.json, "error.code"), code);
    if (field)
        TH_STR_EQ(th_get_str(r.json, "error.details.field"), field);
    if (got != want)
        fprintf(stderr, "retain %s %s: %ld %s\n", id, body ? body : "-", got, r.body ? r.body : "");
    th_resp_free(&r);
}

static void test_retain_errors(void)
{
    char id[64], w2[64];
    start("test_wait", "{\"waits\":0}", "ws1", id);
    start("test_wait", "{\"waits\":0}", "ws2", w2);
    CU_ASSERT_EQUAL_FATAL(wait_status(id, NULL), 0);
    /* Runs of 3 s are kept alive here by retains of 60 s the errors must
     * not have made. */
    expect_error(id, "{", ADMIN, 400, "invalid_json", NULL);
    expect_error(id, "", ADMIN, 400, "invalid_json", NULL);
    expect_error(id, "[1]", ADMIN, 400, "invalid_json", NULL);
    expect_error(id, "{\"ttl_sec\":1,\"ttl_sec\":2}", ADMIN, 400, "invalid_json", NULL);
    expect_error(id, "{\"ttl_sec\":0}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":-1}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":1.5}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":60.0}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":\"10\"}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":null}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":true}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":86401}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":99999999999999999999}", ADMIN, 400, "invalid_request",
                 "ttl_sec");
    expect_error(id, "{}", ADMIN, 400, "invalid_request", "ttl_sec");
    expect_error(id, "{\"ttl_sec\":60,\"why\":\"audit\"}", ADMIN, 400, "invalid_request", "why");
    expect_error("gr_00000000000000000000000000000000", "{\"ttl_sec\":60}", ADMIN, 404,
                 "run_not_found", NULL);
    expect_error("not-a-run", "{\"ttl_sec\":60}", ADMIN, 404, "run_not_found", NULL);
    /* Another workspace's run is absent for a key limited to ws2; its own is not. */
    expect_error(id, "{\"ttl_sec\":60}", OTHER, 404, "run_not_found", NULL);
    expect_error(id, "{\"ttl_sec\":60}", NULL, 401, "unauthorized", NULL);
    expect_error(id, "{\"ttl_sec\":60}", "wrong-key-0123456789", 401, "unauthorized", NULL);
    json_object *ans = NULL;
    CU_ASSERT_EQUAL(retain(w2, "{\"ttl_sec\":60}", OTHER, &ans), 200);
    json_object_put(ans);
    /* The message names the range. */
    ans = NULL;
    CU_ASSERT_EQUAL(retain(id, "{\"ttl_sec\":0}", ADMIN, &ans), 400);
    CU_ASSERT(strstr(th_get_str(ans, "error.message") ? th_get_str(ans, "error.message") : "",
                     "1..86400") != NULL);
    json_object_put(ans);
    /* Only POST. */
    th_resp r;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s/retain", id);
    CU_ASSERT_EQUAL(req("GET", path, NULL, ADMIN, &r), 405);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "method_not_allowed");
    CU_ASSERT(r.headers && strstr(r.headers, "Allow: POST") != NULL);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(req("DELETE", path, NULL, ADMIN, &r), 405);
    th_resp_free(&r);
    /* None of those retained it: it expires as any run. */
    CU_ASSERT_EQUAL(wait_gone(id), 0);
}

/* ---- paging ---- */

/* Walk every page of GET /v1/runs{query}&limit=N from the newest; the ids
 * in order into ids (up to max), their count, or -1 on a bad page.  After
 * the first page, start `extra` runs (a walk that others write during). */
static int walk(const char *query, int limit, char ids[][64], int max, int extra)
{
    char path[1024], cursor[512] = "";
    int n = 0, pages = 0;
    for (;;) {
        th_resp r;
        snprintf(path, sizeof path, "/v1/runs?limit=%d%s%s%s", limit, query,
                 cursor[0] ? "&cursor=" : "", cursor);
        if (req("GET", path, NULL, ADMIN, &r) != 200) {
            th_resp_free(&r);
            return -1;
        }
        json_object *runs = th_get(r.json, "runs"), *next = NULL;
        CU_ASSERT_FATAL(json_object_object_get_ex(r.json, "next", &next));
        CU_ASSERT(runs && (int)json_object_array_length(runs) <= limit);
        for (size_t i = 0; runs && i < json_object_array_length(runs); i++)
            if (n < max)
                snprintf(ids[n++], 64, "%s",
                         th_get_str(json_object_array_get_idx(runs, i), "run_id"));
        int more = next != NULL;
        if (more) {
            CU_ASSERT(json_object_is_type(next, json_type_string));
            snprintf(cursor, sizeof cursor, "%s", json_object_get_string(next));
        }
        th_resp_free(&r);
        if (pages++ == 0)
            for (int i = 0; i < extra; i++) {
                char id[64];
                start("test_chain", "{\"label\":\"late\"}", "ws1", id);
            }
        if (!more)
            return n;
        if (pages > 1000)
            return -1;
    }
}

#define N_RUNS 23
static char g_ids[N_RUNS][64]; /* newest last */

static int index_of(const char *id)
{
    for (int i = 0; i < N_RUNS; i++)
        if (!strcmp(g_ids[i], id))
            return i;
    return -1;
}

static void test_paging_walk(void)
{
    char got[200][64];
    /* ws1 and ws2 alternate; every third a test_chain run. */
    for (int i = 0; i < N_RUNS; i++)
        start(i % 3 == 0 ? "test_chain" : "test_wait",
              i % 3 == 0 ? "{\"label\":\"p\"}" : "{\"waits\":0}", i % 2 ? "ws2" : "ws1", g_ids[i]);
    for (int i = 0; i < N_RUNS; i++)
        CU_ASSERT_EQUAL(wait_status(g_ids[i], NULL), 0);
    /* limit 5: every run once, newest first. */
    int n = walk("", 5, got, 200, 0);
    CU_ASSERT_EQUAL_FATAL(n, N_RUNS);
    for (int i = 0; i < n; i++)
        TH_STR_EQ(got[i], g_ids[N_RUNS - 1 - i]);
    /* One page that holds all: next is null. */
    th_resp r;
    CU_ASSERT_EQUAL(req("GET", "/v1/runs?limit=100", NULL, ADMIN, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), N_RUNS);
    json_object *next = NULL;
    CU_ASSERT(json_object_object_get_ex(r.json, "next", &next) && next == NULL);
    th_resp_free(&r);
    /* Exactly a page's worth: one page, next null, no empty page after. */
    CU_ASSERT_EQUAL(req("GET", "/v1/runs?limit=23", NULL, ADMIN, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), N_RUNS);
    CU_ASSERT(json_object_object_get_ex(r.json, "next", &next) && next == NULL);
    th_resp_free(&r);
}

static void test_paging_while_starting(void)
{
    char got[200][64];
    /* Runs started after the first page are newer: they are not in the
     * walk's later pages, and nothing older is skipped or repeated. */
    int n = walk("", 4, got, 200, 6);
    CU_ASSERT_EQUAL_FATAL(n, N_RUNS);
    for (int i = 0; i < n; i++)
        TH_STR_EQ(got[i], g_ids[N_RUNS - 1 - i]);
}

static void test_paging_filters(void)
{
    char got[200][64];
    /* Filters apply to every page; the pages together hold exactly the
     * matching runs of the walk above, newest first. */
    int n = walk("&workspace_id=ws2&graph=test_wait", 2, got, 200, 0);
    int want = 0, last = N_RUNS;
    for (int i = 0; i < N_RUNS; i++)
        want += i % 2 && i % 3 != 0;
    CU_ASSERT_EQUAL(n, want);
    for (int i = 0; i < n; i++) {
        int k = index_of(got[i]);
        CU_ASSERT(k >= 0 && k < last && k % 2 == 1 && k % 3 != 0);
        last = k;
    }
    /* A key limited to ws2 pages through ws2's runs only. */
    th_resp r;
    char path[600];
    int seen = 0;
    snprintf(path, sizeof path, "/v1/runs?limit=3");
    for (int pages = 0; pages < 100; pages++) {
        CU_ASSERT_EQUAL_FATAL(req("GET", path, NULL, OTHER, &r), 200);
        json_object *runs = th_get(r.json, "runs"), *next = NULL;
        for (size_t i = 0; runs && i < json_object_array_length(runs); i++, seen++)
            TH_STR_EQ(th_get_str(json_object_array_get_idx(runs, i), "workspace_id"), "ws2");
        json_object_object_get_ex(r.json, "next", &next);
        if (next)
            snprintf(path, sizeof path, "/v1/runs?limit=3&cursor=%s", json_object_get_string(next));
        th_resp_free(&r);
        if (!next)
            break;
    }
    CU_ASSERT_EQUAL(seen, N_RUNS / 2);
}

static void test_bad_cursors(void)
{
    th_resp r;
    json_object *next = NULL;
    char good[512], path[700];
    CU_ASSERT_EQUAL_FATAL(req("GET", "/v1/runs?limit=2", NULL, ADMIN, &r), 200);
    CU_ASSERT_FATAL(json_object_object_get_ex(r.json, "next", &next) && next);
    snprintf(good, sizeof good, "%s", json_object_get_string(next));
    th_resp_free(&r);
    size_t n = strlen(good);
    char cut[512], tampered[512], upper[512];
    snprintf(cut, sizeof cut, "%.*s", (int)(n - 2), good);
    snprintf(tampered, sizeof tampered, "%s", good);
    tampered[4] = tampered[4] == '1' ? '2' : '1';
    snprintf(upper, sizeof upper, "%s", good);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    const char *bad[] = {"garbage", "", "zz", cut, tampered, upper, "00", NULL};
    for (const char *const *b = bad; *b; b++) {
        snprintf(path, sizeof path, "/v1/runs?limit=2&cursor=%s", *b);
        CU_ASSERT_EQUAL(req("GET", path, NULL, ADMIN, &r), 400);
        TH_STR_EQ(th_get_str(r.json, "error.code"), "invalid_request");
        TH_STR_EQ(th_get_str(r.json, "error.details.field"), "cursor");
        th_resp_free(&r);
    }
    /* The good one still works, and the page after it starts below it. */
    snprintf(path, sizeof path, "/v1/runs?limit=2&cursor=%s", good);
    CU_ASSERT_EQUAL(req("GET", path, NULL, ADMIN, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 2);
    th_resp_free(&r);
}

int main(void)
{
    static const sv_cu_test retain_tests[] = {
        {"a retained run outlives RUN_TTL_SEC, stays listed, never shortened",
         test_retained_outlives_ttl},
        {"a live run retained then finishing keeps the retain", test_live_run_keeps_retain},
        {"bad retain requests", test_retain_errors},
    };
    static const sv_cu_test paging_tests[] = {
        {"walk: every run once, newest first", test_paging_walk},
        {"runs started during the walk", test_paging_while_starting},
        {"filters and workspaces page too", test_paging_filters},
        {"bad cursors are 400", test_bad_cursors},
    };
    static const sv_cu_suite suites[] = {
        {.name = "retain", SV_CU_TESTS(retain_tests), .init = retain_init, .clean = suite_clean},
        {.name = "paging", SV_CU_TESTS(paging_tests), .init = paging_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
