/*
 * test_api.c - the HTTP API from outside: auth, validation errors with the
 * failing field, 404/405/413, listing, idempotency, readiness and bad
 * settings stopping start-up.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

static th_proc g_sim, g_d;
static const char *g_auth[] = {"Authorization: Bearer k-internal", NULL};

static int suite_init(void)
{
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    const char *plugins[] = {"test_chain", "test_wait", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=k-internal", NULL};
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

static long req(const char *method, const char *path, const char *body, th_resp *r)
{
    th_http(method, g_d.port, path, body, g_auth, r);
    return r->status;
}

/* A 4xx/5xx carries {"error":{"code","message"}} and the expected code. */
static void expect_error(th_resp *r, long status, const char *code, const char *field)
{
    CU_ASSERT_EQUAL(r->status, status);
    const char *c = th_get_str(r->json, "error.code");
    CU_ASSERT_PTR_NOT_NULL(c);
    if (c && strcmp(c, code) != 0)
        fprintf(stderr, "\n    expected code %s, got %s (%s)\n", code, c, r->body);
    CU_ASSERT(c && strcmp(c, code) == 0);
    const char *m = th_get_str(r->json, "error.message");
    CU_ASSERT(m && strlen(m) > 5);
    if (field) {
        const char *f = th_get_str(r->json, "error.details.field");
        if (!f || strcmp(f, field) != 0)
            fprintf(stderr, "\n    expected field %s: %s\n", field, r->body);
        CU_ASSERT(f && strcmp(f, field) == 0);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(r->headers, "application/json"));
}

static void test_auth(void)
{
    th_resp r;
    th_http("GET", g_d.port, "/healthz", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    TH_STR_EQ(th_get_str(r.json, "status"), "ok");
    th_resp_free(&r);
    th_http("GET", g_d.port, "/v1/graphs", NULL, NULL, &r);
    expect_error(&r, 401, "unauthorized", NULL);
    th_resp_free(&r);
    const char *wrong[] = {"Authorization: Bearer k-internaX", NULL};
    th_http("GET", g_d.port, "/v1/graphs", NULL, wrong, &r);
    expect_error(&r, 401, "unauthorized", NULL);
    th_resp_free(&r);
    const char *prefix[] = {"Authorization: Bearer k-intern", NULL};
    th_http("GET", g_d.port, "/v1/graphs", NULL, prefix, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    th_resp_free(&r);
    const char *basic[] = {"Authorization: Basic k-internal", NULL};
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs", "{}", basic, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    th_resp_free(&r);
    th_http("GET", g_d.port, "/v1/runs/gr_00000000000000000000000000000000", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(req("GET", "/v1/graphs", NULL, &r), 200);
    th_resp_free(&r);
}

static void test_graphs(void)
{
    th_resp r;
    CU_ASSERT_EQUAL_FATAL(req("GET", "/v1/graphs", NULL, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "graphs"), 2);
    TH_STR_EQ(th_get_str(r.json, "graphs[0].name"), "test_chain");
    TH_STR_EQ(th_get_str(r.json, "graphs[0].version"), "1.0.0");
    TH_STR_EQ(th_get_str(r.json, "graphs[0].nodes[2]"), "c");
    TH_STR_EQ(th_get_str(r.json, "graphs[0].input_schema.type"), "object");
    TH_STR_EQ(th_get_str(r.json, "graphs[0].input_schema.required[0]"), "label");
    CU_ASSERT_PTR_NOT_NULL(th_get_str(r.json, "graphs[0].description"));
    TH_STR_EQ(th_get_str(r.json, "graphs[1].name"), "test_wait");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(req("GET", "/readyz", NULL, &r), 200);
    th_resp_free(&r);
}

static void start_expect(const char *body, long status, const char *code, const char *field)
{
    th_resp r;
    req("POST", "/v1/graphs/test_chain/runs", body, &r);
    expect_error(&r, status, code, field);
    th_resp_free(&r);
}

#define IDS "\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\""

static void test_bad_starts(void)
{
    start_expect("", 400, "invalid_json", NULL);
    start_expect("{\"workspace_id\":", 400, "invalid_json", NULL);
    start_expect("not json at all", 400, "invalid_json", NULL);
    start_expect("[1,2]", 400, "invalid_json", NULL);
    start_expect("{" IDS ",\"input\":{\"label\":\"x\"}} trailing", 400, "invalid_json", NULL);
    start_expect("{\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":{}}", 400, "invalid_request",
                 "workspace_id");
    start_expect("{\"workspace_id\":\"bad id!\",\"user_id\":\"u\",\"agent_id\":\"a\"}", 400,
                 "invalid_request", "workspace_id");
    start_expect("{\"workspace_id\":\"w\",\"user_id\":7,\"agent_id\":\"a\"}", 400,
                 "invalid_request", "user_id");
    start_expect("{" IDS ",\"input\":{\"label\":\"x\"},\"extra\":1}", 400, "invalid_request",
                 "extra");
    start_expect("{" IDS ",\"input\":[]}", 400, "invalid_input", "input");
    start_expect("{" IDS ",\"input\":{}}", 400, "invalid_input", "label");
    start_expect("{" IDS ",\"input\":{\"label\":\"x\",\"colour\":\"red\"}}", 400, "invalid_input",
                 "colour");
    start_expect("{" IDS ",\"input\":{\"label\":5}}", 400, "invalid_input", "label");
    start_expect("{" IDS ",\"input\":{\"label\":\"\"}}", 400, "invalid_input", "label");
    start_expect("{" IDS ",\"input\":{\"label\":\"x\",\"count\":11}}", 400, "invalid_input",
                 "count");
    start_expect("{" IDS ",\"input\":{\"label\":\"x\",\"count\":1.5}}", 400, "invalid_input",
                 "count");
    start_expect("{" IDS ",\"input\":{\"label\":\"x\",\"bad_next\":\"yes\"}}", 400, "invalid_input",
                 "bad_next");
    /* the Content-Type does not matter: JSON is JSON */
    th_resp r;
    const char *hdr[] = {"Authorization: Bearer k-internal", "Content-Type: text/plain", NULL};
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs", "{" IDS ",\"input\":{\"label\":\"t\"}}",
            hdr, &r);
    CU_ASSERT_EQUAL(r.status, 202);
    TH_STR_EQ(th_get_str(r.json, "status"), "queued");
    CU_ASSERT(json_object_get_type(th_get(r.json, "result")) == json_type_null);
    CU_ASSERT_EQUAL(strlen(th_get_str(r.json, "run_id")), 35);
    th_resp_free(&r);
}

#define STRICT_IDS "\"workspace_id\":\"strict-ws\",\"user_id\":\"u\",\"agent_id\":\"a\""

/* Strict JSON (json_strict.h): what json-c alone lets through is a 400 that
 * names the field, and no run is created. */
static void test_strict_json(void)
{
    static const struct {
        const char *body, *field; /* field NULL: none */
    } bad[] = {
        {"{\"workspace_id\":\"strict-ws\",\"workspace_id\":\"strict-ws\",\"user_id\":\"u\","
         "\"agent_id\":\"a\"}",
         "workspace_id"},
        {"{" STRICT_IDS ",\"input\":{\"label\":\"x\",\"label\":\"y\"}}", "input.label"},
        {"{" STRICT_IDS ",\"input\":{\"label\":'x'}}", "input.label"},
        {"{" STRICT_IDS ",\"input\":{\"label\":\"x\",\"count\":NaN}}", "input.count"},
        {"{" STRICT_IDS ",\"input\":{\"label\":\"x\",\"count\":-Infinity}}", "input.count"},
        {"{\"workspace_id\":\"strict-ws\\u0000x\",\"user_id\":\"u\",\"agent_id\":\"a\"}",
         "workspace_id"},
        {"{" STRICT_IDS ",\"input\":{\"label\":\"\\ud800\"}}", "input.label"},
        {"{" STRICT_IDS ",\"input\":{\"label\":\"\xC3\x28\"}}", "input.label"},
        {"{" STRICT_IDS ",\"input\":{\"tags\":[1,2,]}}", "input.tags"},
        {"{" STRICT_IDS ",\"input\":{\"label\":\"x\"},}", NULL},
        {"{" STRICT_IDS " /* a comment */}", NULL},
        {"{'workspace_id':\"strict-ws\"}", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_resp r;
        req("POST", "/v1/graphs/test_chain/runs", bad[i].body, &r);
        expect_error(&r, 400, "invalid_json", bad[i].field);
        CU_ASSERT_PTR_NOT_NULL(strstr(th_get_str(r.json, "error.message"), "not valid JSON"));
        if (!bad[i].field)
            CU_ASSERT_PTR_NULL(th_get(r.json, "error.details"));
        th_resp_free(&r);
    }
    th_resp r;
    CU_ASSERT_EQUAL(req("GET", "/v1/runs?workspace_id=strict-ws", NULL, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 0);
    th_resp_free(&r);
    /* escapes, a surrogate pair and white space are JSON: accepted */
    CU_ASSERT_EQUAL(req("POST", "/v1/graphs/test_chain/runs",
                        " {" STRICT_IDS ",\n\"input\":{\"label\":\"\\u00e9\\ud83d\\ude00\"}}\r\n",
                        &r),
                    202);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(req("GET", "/v1/runs?workspace_id=strict-ws", NULL, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 1);
    th_resp_free(&r);
}

static void test_not_found_and_methods(void)
{
    th_resp r;
    req("POST", "/v1/graphs/nope/runs", "{" IDS "}", &r);
    expect_error(&r, 404, "graph_not_found", NULL);
    th_resp_free(&r);
    req("GET", "/v1/runs/gr_00000000000000000000000000000000", NULL, &r);
    expect_error(&r, 404, "run_not_found", NULL);
    th_resp_free(&r);
    req("GET", "/v1/runs/not-a-run-id", NULL, &r);
    expect_error(&r, 404, "run_not_found", NULL);
    th_resp_free(&r);
    req("GET", "/v2/whatever", NULL, &r);
    expect_error(&r, 404, "not_found", NULL);
    th_resp_free(&r);
    req("DELETE", "/v1/graphs", NULL, &r);
    expect_error(&r, 405, "method_not_allowed", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "Allow: GET"));
    th_resp_free(&r);
    req("GET", "/v1/graphs/test_chain/runs", NULL, &r);
    expect_error(&r, 405, "method_not_allowed", NULL);
    th_resp_free(&r);
}

static void test_body_limit(void)
{
    size_t n = 1048576 + 10;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{" IDS ",\"input\":{\"label\":\"", 50);
    big[n - 3] = '"';
    big[n - 2] = '}';
    big[n - 1] = '}';
    big[n] = '\0';
    th_resp r;
    /* As a client sending a large body should: with "Expect: 100-continue"
     * the 413 comes before the body is sent, so no reset can race it. */
    const char *h[] = {"Authorization: Bearer k-internal", "Expect: 100-continue", NULL};
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs", big, h, &r);
    expect_error(&r, 413, "body_too_large", NULL);
    th_resp_free(&r);
    free(big);
    /* the daemon is still fine */
    CU_ASSERT_EQUAL(req("GET", "/v1/graphs", NULL, &r), 200);
    th_resp_free(&r);
}

static void test_idempotency(void)
{
    const char *body = "{" IDS ",\"input\":{\"label\":\"idem\"}}";
    const char *h1[] = {"Authorization: Bearer k-internal", "Idempotency-Key: key-1", NULL};
    th_resp a, b, c;
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs", body, h1, &a);
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs", body, h1, &b);
    CU_ASSERT_EQUAL(a.status, 202);
    CU_ASSERT_EQUAL(b.status, 202);
    TH_STR_EQ(th_get_str(a.json, "run_id"), th_get_str(b.json, "run_id"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.headers, "Idempotent-Replayed: true"));
    CU_ASSERT_PTR_NULL(strstr(a.headers, "Idempotent-Replayed"));
    /* same key, other request: a client bug, 409 */
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs",
            "{" IDS ",\"input\":{\"label\":\"other\"}}", h1, &c);
    expect_error(&c, 409, "idempotency_key_reused", NULL);
    th_resp_free(&c);
    /* same key in another workspace: another run */
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs",
            "{\"workspace_id\":\"w2\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":{\"label\":"
            "\"idem\"}}",
            h1, &c);
    CU_ASSERT_EQUAL(c.status, 202);
    CU_ASSERT_STRING_NOT_EQUAL(th_get_str(a.json, "run_id"), th_get_str(c.json, "run_id"));
    th_resp_free(&c);
    const char *bad[] = {"Authorization: Bearer k-internal", "Idempotency-Key: \x01", NULL};
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs", body, bad, &c);
    CU_ASSERT_EQUAL(c.status, 400);
    th_resp_free(&c);
    th_resp_free(&a);
    th_resp_free(&b);
}

static void start_ws(const char *ws, const char *graph, const char *input, char *id)
{
    char body[512], path[128];
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"%s\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":%s}", ws,
             input);
    snprintf(path, sizeof path, "/v1/graphs/%s/runs", graph);
    th_resp r;
    req("POST", path, body, &r);
    CU_ASSERT_EQUAL(r.status, 202);
    snprintf(id, 64, "%s", th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    th_resp_free(&r);
}

static int wait_done(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    long long deadline = th_mono_ms() + 15000;
    while (th_mono_ms() < deadline) {
        th_resp r;
        req("GET", path, NULL, &r);
        const char *s = th_get_str(r.json, "status");
        int done = s && (strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0);
        th_resp_free(&r);
        if (done)
            return 0;
        th_poll_pause();
    }
    return -1;
}

static void test_listing(void)
{
    char a[64], b[64], c[64];
    start_ws("list-ws", "test_chain", "{\"label\":\"1\"}", a);
    start_ws("list-ws", "test_chain", "{\"label\":\"2\",\"fail_at\":\"a\"}", b);
    start_ws("list-ws", "test_wait", "{\"waits\":0}", c);
    CU_ASSERT_EQUAL(wait_done(a), 0);
    CU_ASSERT_EQUAL(wait_done(b), 0);
    CU_ASSERT_EQUAL(wait_done(c), 0);
    th_resp r;
    CU_ASSERT_EQUAL_FATAL(req("GET", "/v1/runs?workspace_id=list-ws", NULL, &r), 200);
    json_object *runs = th_get(r.json, "runs");
    CU_ASSERT_EQUAL(json_object_array_length(runs), 3);
    /* newest first */
    TH_STR_EQ(th_get_str(runs, "[0].run_id"), c);
    TH_STR_EQ(th_get_str(runs, "[2].run_id"), a);
    CU_ASSERT_PTR_NULL(th_get(runs, "[0].events"));
    CU_ASSERT_PTR_NULL(th_get(runs, "[0].result"));
    th_resp_free(&r);
    req("GET", "/v1/runs?workspace_id=list-ws&graph=test_chain&status=failed", NULL, &r);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 1);
    TH_STR_EQ(th_get_str(r.json, "runs[0].run_id"), b);
    th_resp_free(&r);
    req("GET", "/v1/runs?workspace_id=list-ws&limit=2", NULL, &r);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 2);
    th_resp_free(&r);
    req("GET", "/v1/runs?workspace_id=nobody", NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 0);
    th_resp_free(&r);
    req("GET", "/v1/runs?status=done", NULL, &r);
    expect_error(&r, 400, "invalid_request", "status");
    th_resp_free(&r);
    req("GET", "/v1/runs?limit=0", NULL, &r);
    expect_error(&r, 400, "invalid_request", "limit");
    th_resp_free(&r);
    req("GET", "/v1/runs?limit=abc", NULL, &r);
    expect_error(&r, 400, "invalid_request", "limit");
    th_resp_free(&r);
    req("GET", "/v1/runs?state=failed", NULL, &r);
    expect_error(&r, 400, "invalid_request", "state");
    th_resp_free(&r);
}

/* Run a daemon that must refuse to start: exit status and its one line. */
static void expect_refused(const char *const *env, const char *needle)
{
    char bin[512], cmd[2048];
    snprintf(bin, sizeof bin, "%s/sofiia-supervisor", getenv("SV_BUILDDIR"));
    size_t off = (size_t)snprintf(cmd, sizeof cmd, "env -i");
    for (; *env; env++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " '%s'", *env);
    snprintf(cmd + off, sizeof cmd - off, " %s 2>&1", bin);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"level\":\"error\""));
    if (!strstr(out, needle))
        fprintf(stderr, "\n    expected '%s' in: %s\n", needle, out);
}

static void test_bad_settings(void)
{
    const char *e1[] = {"PLUGIN_DIR=/tmp", "RUN_TTL_SEC=soon", NULL};
    expect_refused(e1, "RUN_TTL_SEC=\\\"soon\\\"");
    const char *e2[] = {"PLUGIN_DIR=/nonexistent/dir", NULL};
    expect_refused(e2, "PLUGIN_DIR=\\\"/nonexistent/dir\\\"");
    const char *e3[] = {"PLUGIN_DIR=/tmp", "GATEWAY_BASE_URL=router:8000", NULL};
    expect_refused(e3, "GATEWAY_BASE_URL");
    const char *e4[] = {"PLUGIN_DIR=/tmp", "SUPERVISOR_LISTEN=nowhere", NULL};
    expect_refused(e4, "SUPERVISOR_LISTEN");
    const char *e5[] = {"PLUGIN_DIR=/tmp", "WORKER_THREADS=-1", NULL};
    expect_refused(e5, "WORKER_THREADS");
    const char *e6[] = {"PLUGIN_DIR=/tmp", "LOG_LEVEL=loud", NULL};
    expect_refused(e6, "LOG_LEVEL");
    char listen[64], pdir[320];
    snprintf(listen, sizeof listen, "SUPERVISOR_LISTEN=127.0.0.1:%d", g_d.port);
    /* a PLUGIN_DIR that passes (/tmp is world-writable: refused) */
    snprintf(pdir, sizeof pdir, "PLUGIN_DIR=%s", g_d.dir);
    const char *e7[] = {pdir, listen, NULL};
    expect_refused(e7, "cannot listen");
}

/* No graphs loaded: alive but not ready. */
static void test_not_ready_without_graphs(void)
{
    th_proc d;
    CU_ASSERT_FATAL(th_daemon_start(NULL, NULL, NULL, &d) == 0);
    th_resp r;
    th_http("GET", d.port, "/readyz", NULL, NULL, &r);
    expect_error(&r, 503, "not_ready", NULL);
    th_resp_free(&r);
    th_http("GET", d.port, "/healthz", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

int main(void)
{
    static const sv_cu_test api_tests[] = {
        {"auth: 401 without or with a wrong key, /healthz open", test_auth},
        {"GET /v1/graphs and /readyz", test_graphs},
        {"400 with the failing field", test_bad_starts},
        {"strict JSON: 400 invalid_json with the field, no run", test_strict_json},
        {"404 and 405", test_not_found_and_methods},
        {"413 over 1 MiB", test_body_limit},
        {"Idempotency-Key", test_idempotency},
        {"listing with filters", test_listing},
        {"bad settings stop start-up", test_bad_settings},
    };
    static const sv_cu_test readiness_tests[] = {
        {"503 not_ready without graphs", test_not_ready_without_graphs},
    };
    static const sv_cu_suite suites[] = {
        {.name = "api", SV_CU_TESTS(api_tests), .init = suite_init, .clean = suite_clean},
        {.name = "readiness", SV_CU_TESTS(readiness_tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
