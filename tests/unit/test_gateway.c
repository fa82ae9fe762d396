/*
 * test_gateway.c - the router client (core/gateway.c) against a real HTTP
 * server on loopback: the scripted router of gateway_test_support.c, which
 * records every request, so each test checks what went over the wire.
 */
#include "cu_run.h"
#include "gateway.h"
#include "gateway_test_support.h"
#include "log.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_success_shape(void)
{
    sv_gateway *gw = tgw_gateway("k-123", 5000, 4);
    json_object *params = json_tokener_parse("{\"job_id\":\"j1\",\"n\":3}");
    sv_gw_call c = tgw_call(params, NULL);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_OK);
    CU_ASSERT_STRING_EQUAL(tgw_str(data, NULL, "job_id"), "j1");
    CU_ASSERT_EQUAL_FATAL(tgw_n_recs(), 1);
    const struct tgw_rec *r = tgw_rec(0);
    CU_ASSERT_STRING_EQUAL(r->method, "POST");
    CU_ASSERT_STRING_EQUAL(r->url, "/v1/tools/execute");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->auth);
    CU_ASSERT_STRING_EQUAL(r->auth, "Bearer k-123");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->request_id);
    CU_ASSERT_STRING_EQUAL(r->request_id, c.call_id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->content_type);
    CU_ASSERT_STRING_EQUAL(r->content_type, "application/json");
    json_object *b = tgw_rec_json(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(json_object_object_length(b), 7);
    CU_ASSERT_STRING_EQUAL(tgw_str(b, NULL, "tool"), "job_orchestrator_tool");
    CU_ASSERT_STRING_EQUAL(tgw_str(b, NULL, "action"), "start_task");
    json_object *p = NULL;
    CU_ASSERT(json_object_object_get_ex(b, "params", &p) && json_object_equal(p, params));
    CU_ASSERT_STRING_EQUAL(tgw_str(b, NULL, "workspace_id"), "ws1");
    CU_ASSERT_STRING_EQUAL(tgw_str(b, NULL, "user_id"), "u1");
    CU_ASSERT_STRING_EQUAL(tgw_str(b, NULL, "agent_id"), "a1");
    CU_ASSERT_STRING_EQUAL(tgw_str(b, "metadata", "graph_run_id"), c.run_id);
    CU_ASSERT_STRING_EQUAL(tgw_str(b, "metadata", "graph"), "release_check");
    CU_ASSERT_STRING_EQUAL(tgw_str(b, "metadata", "node"), "start_job");
    CU_ASSERT_STRING_EQUAL(tgw_str(b, "metadata", "call_id"), c.call_id);
    CU_ASSERT_EQUAL(tgw_meta_int(b, "attempt"), 1);
    json_object_put(b);
    json_object_put(data);
    json_object_put(params);
    sv_gateway_free(gw);
}

static void test_no_key_no_auth(void)
{
    struct tgw_answer a[] = {{.status = 200, .body = "{\"status\":\"succeeded\"}"}};
    tgw_script(a, 1);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d///", tgw_port());
    sv_gateway_cfg cfg = {.base_url = url};
    sv_gateway *gw = NULL;
    CU_ASSERT_EQUAL_FATAL(sv_gateway_new(&cfg, &gw), 0);
    sv_gw_call c = tgw_call(NULL, NULL);
    json_object *data = (json_object *)&c; /* must be overwritten */
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_OK);
    CU_ASSERT_PTR_NULL(data); /* succeeded without data */
    CU_ASSERT_EQUAL_FATAL(tgw_n_recs(), 1);
    CU_ASSERT_PTR_NULL(tgw_rec(0)->auth);
    CU_ASSERT_STRING_EQUAL(tgw_rec(0)->url, "/v1/tools/execute");
    json_object *b = tgw_rec_json(0), *p = NULL;
    CU_ASSERT(json_object_object_get_ex(b, "params", &p) &&
              json_object_is_type(p, json_type_object) && json_object_object_length(p) == 0);
    json_object_put(b);
    sv_gateway_free(gw);
}

static void test_new_rejects_bad_config(void)
{
    sv_gateway *gw = NULL;
    sv_gateway_cfg bad[] = {{.base_url = NULL},
                            {.base_url = "router:8000"},
                            {.base_url = "ftp://x"},
                            {.base_url = "http://r", .api_key = "k\r\nX-Evil: 1"}};
    CU_ASSERT_EQUAL(sv_gateway_new(NULL, &gw), -EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(sv_gateway_new(&bad[i], &gw), -EINVAL);
    CU_ASSERT_PTR_NULL(gw);
}

static void test_retry_503_then_ok(void)
{
    struct tgw_answer a[] = {{.status = 503, .body = ""}, {.status = 200, .body = TGW_OK_BODY}};
    tgw_script(a, 2);
    sv_gateway *gw = tgw_gateway("k", 5000, 4);
    struct tgw_seen seen = {0};
    sv_gw_call c = tgw_call(NULL, &seen);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_OK);
    CU_ASSERT_PTR_NOT_NULL(data);
    CU_ASSERT_EQUAL_FATAL(tgw_n_recs(), 2);
    for (int i = 0; i < 2; i++) {
        json_object *b = tgw_rec_json(i);
        CU_ASSERT_STRING_EQUAL(tgw_rec(i)->request_id, c.call_id);
        CU_ASSERT_STRING_EQUAL(tgw_str(b, "metadata", "call_id"), c.call_id);
        CU_ASSERT_EQUAL(tgw_meta_int(b, "attempt"), i + 1);
        json_object_put(b);
    }
    /* on_attempt: once per attempt, hashes and sizes of the exact bytes. */
    CU_ASSERT_EQUAL_FATAL(atomic_load(&seen.n), 2);
    const char *resp[] = {"", TGW_OK_BODY};
    for (int i = 0; i < 2; i++) {
        char h[65];
        sv_gw_attempt *at = &seen.a[i];
        CU_ASSERT_EQUAL(at->attempt, i + 1);
        sv_sha256_hex(tgw_rec(i)->body, tgw_rec(i)->body_len, h);
        CU_ASSERT_STRING_EQUAL(at->request_sha256, h);
        CU_ASSERT_EQUAL(at->request_bytes, tgw_rec(i)->body_len);
        sv_sha256_hex(resp[i], strlen(resp[i]), h);
        CU_ASSERT_STRING_EQUAL(at->response_sha256, h);
        CU_ASSERT_EQUAL(at->response_bytes, strlen(resp[i]));
        CU_ASSERT(at->duration_ms >= 0);
    }
    CU_ASSERT_STRING_EQUAL(seen.a[0].response_sha256,
                           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CU_ASSERT_STRING_EQUAL(seen.a[0].status, "failed");
    CU_ASSERT_EQUAL(seen.a[0].http_status, 503);
    CU_ASSERT_STRING_EQUAL(seen.codes[0], "unavailable");
    CU_ASSERT_STRING_EQUAL(seen.a[1].status, "succeeded");
    CU_ASSERT_EQUAL(seen.a[1].http_status, 200);
    CU_ASSERT_PTR_NULL(seen.a[1].error_code);
    json_object_put(data);
    sv_gateway_free(gw);
}

static void test_retry_after_honoured(void)
{
    struct tgw_answer a[] = {{.status = 429, .body = "{}", .retry_after = "1"},
                             {.status = 200, .body = TGW_OK_BODY}};
    tgw_script(a, 2);
    sv_gateway *gw = tgw_gateway(NULL, 5000, 4);
    sv_gw_call c = tgw_call(NULL, NULL);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_OK);
    CU_ASSERT_EQUAL_FATAL(tgw_n_recs(), 2);
    /* Backoff alone would be under 40 ms; only the header explains 1 s. */
    CU_ASSERT(tgw_rec(1)->at_ms - tgw_rec(0)->at_ms >= 1000 - 20);
    json_object_put(data);
    sv_gateway_free(gw);
}

static void test_final_http_errors(void)
{
    static const struct {
        int status;
        const char *body, *code, *in_message;
    } cases[] = {
        {403, "{\"error\":{\"code\":\"denied\",\"message\":\"governance said no\"}}", "forbidden",
         "governance said no"},
        {400, "{\"detail\":\"params.job_id is required\"}", "bad_request", "job_id is required"},
        {401, "", "unauthorized", "401"},
        {404, "<html>nope</html>", "not_found", "404"},
        {413, "{}", "too_large", "413"},
        {418, "{}", "http_418", "418"},
        /* Multi-line and long multi-byte text: one line, cut on a boundary. */
        {403,
         "{\"detail\":\"denied\\nby policy "
         "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"
         "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\"}",
         "forbidden", "denied by policy é"},
    };
    sv_gateway *gw = tgw_gateway("k", 5000, 4);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tgw_answer a[] = {{.status = cases[i].status, .body = cases[i].body},
                                 {.status = 200, .body = TGW_OK_BODY}};
        tgw_script(a, 2);
        int before = tgw_n_recs();
        struct tgw_seen seen = {0};
        sv_gw_call c = tgw_call(NULL, &seen);
        json_object *data = NULL;
        sv_error err;
        CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
        CU_ASSERT_PTR_NULL(data);
        CU_ASSERT_STRING_EQUAL(err.code, cases[i].code);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, cases[i].in_message));
        CU_ASSERT_PTR_NULL(strchr(err.message, '\n'));
        CU_ASSERT(tgw_utf8_valid(err.message));
        CU_ASSERT_STRING_EQUAL(err.field, "");
        CU_ASSERT_EQUAL(tgw_n_recs() - before, 1); /* not retried */
        CU_ASSERT_EQUAL(atomic_load(&seen.n), 1);
        CU_ASSERT_EQUAL(seen.a[0].http_status, cases[i].status);
        CU_ASSERT_STRING_EQUAL(seen.a[0].status, "failed");
    }
    sv_gateway_free(gw);
}

static void test_router_failed(void)
{
    struct tgw_answer a[] = {
        {.status = 200,
         .body = "{\"status\":\"failed\",\"error\":{\"code\":\"job_not_found\",\"message\":\"no "
                 "job j9\"}}"}};
    tgw_script(a, 1);
    sv_gateway *gw = tgw_gateway("k", 5000, 4);
    sv_gw_call c = tgw_call(NULL, NULL);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(err.code, "job_not_found");
    CU_ASSERT_STRING_EQUAL(err.message, "no job j9");
    CU_ASSERT_EQUAL(tgw_n_recs(), 1);
    sv_gateway_free(gw);
}

static void test_retries_spent(void)
{
    struct tgw_answer a[] = {{.status = 503, .body = "busy"}};
    tgw_script(a, 1);
    sv_gateway *gw = tgw_gateway("k", 5000, 3);
    struct tgw_seen seen = {0};
    sv_gw_call c = tgw_call(NULL, &seen);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(err.code, "unavailable");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "3 attempts"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "HTTP 503"));
    CU_ASSERT_EQUAL(tgw_n_recs(), 3);
    CU_ASSERT_EQUAL(atomic_load(&seen.n), 3);
    sv_gateway_free(gw);
}

static void test_connection_refused(void)
{
    /* A bound socket that does not listen: connecting is refused, no race. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    sv_gateway *gw = tgw_gateway_port(ntohs(sa.sin_port), "k", 5000, 2);
    struct tgw_seen seen = {0};
    sv_gw_call c = tgw_call(NULL, &seen);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(err.code, "unavailable");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "2 attempts"));
    CU_ASSERT_EQUAL(atomic_load(&seen.n), 2);
    CU_ASSERT_STRING_EQUAL(seen.a[0].status, "error");
    CU_ASSERT_EQUAL(seen.a[0].http_status, 0);
    CU_ASSERT_EQUAL(seen.a[0].response_bytes, 0);
    sv_gateway_free(gw);
    close(fd);
}

static void test_dropped_then_ok(void)
{
    struct tgw_answer a[] = {{.status = 0}, {.status = 200, .body = TGW_OK_BODY}};
    tgw_script(a, 2);
    sv_gateway *gw = tgw_gateway("k", 5000, 4);
    sv_gw_call c = tgw_call(NULL, NULL);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_OK);
    CU_ASSERT_EQUAL(tgw_n_recs(), 2);
    json_object_put(data);
    sv_gateway_free(gw);
}

static void test_bad_responses(void)
{
    /* Valid JSON, so only the size cap can refuse it. */
    static char big[(9u << 20) + 1];
    static const char head[] = "{\"status\":\"succeeded\",\"data\":\"";
    memset(big, 'x', sizeof big - 1);
    memcpy(big, head, sizeof head - 1);
    memcpy(big + sizeof big - 3, "\"}", 2);
    const struct tgw_answer cases[] = {
        {.status = 200, .body = "{\"status\":\"succeeded\",\"data\":"},
        {.status = 200, .body = "not json at all"},
        {.status = 200, .body = ""},
        {.status = 200, .body = "{\"data\":{}}"},
        {.status = 200, .body = "{\"status\":\"maybe\"}"},
        {.status = 200, .body = "[1,2]"},
        {.status = 200, .body = "{\"status\":\"succeeded\"} trailing"},
        {.status = 200, .body = big, .body_len = sizeof big - 1},
    };
    sv_gateway *gw = tgw_gateway("k", 10000, 4);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tgw_script(&cases[i], 1);
        int before = tgw_n_recs();
        sv_gw_call c = tgw_call(NULL, NULL);
        json_object *data = NULL;
        sv_error err;
        CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
        CU_ASSERT_STRING_EQUAL(err.code, "bad_response");
        CU_ASSERT_PTR_NULL(data);
        CU_ASSERT_EQUAL(tgw_n_recs() - before, 1);
    }
    sv_gateway_free(gw);
}

struct canceller {
    atomic_int *flag;
    atomic_int *watch; /* set the flag once *watch >= n */
    int n;
};

static void *cancel_later(void *p)
{
    struct canceller *k = p;
    if (k->watch)
        tgw_wait_atomic(k->watch, k->n, 10000);
    else
        tgw_wait_recs(k->n, 10000);
    atomic_store(k->flag, 1);
    return NULL;
}

static void test_cancel_in_flight(void)
{
    struct tgw_answer a[] = {{.status = 200, .body = TGW_OK_BODY, .latency_ms = 5000}};
    tgw_script(a, 1);
    sv_gateway *gw = tgw_gateway("k", 30000, 4);
    atomic_int cancel = 0;
    sv_gw_call c = tgw_call(NULL, NULL);
    c.cancel = &cancel;
    struct canceller k = {.flag = &cancel, .n = 1};
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, cancel_later, &k), 0);
    int64_t t0 = sv_mono_ms();
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ECANCELLED);
    CU_ASSERT(sv_mono_ms() - t0 < 4000); /* proves the transfer was aborted */
    CU_ASSERT_STRING_EQUAL(err.code, "cancelled");
    CU_ASSERT_EQUAL(tgw_n_recs(), 1);
    pthread_join(th, NULL);
    sv_gateway_free(gw);
}

static void test_cancel_in_backoff(void)
{
    struct tgw_answer a[] = {{.status = 503, .body = "", .retry_after = "10"}};
    tgw_script(a, 1);
    sv_gateway *gw = tgw_gateway("k", 30000, 4);
    atomic_int cancel = 0;
    struct tgw_seen seen = {0};
    sv_gw_call c = tgw_call(NULL, &seen);
    c.cancel = &cancel;
    struct canceller k = {.flag = &cancel, .watch = &seen.n, .n = 1};
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, cancel_later, &k), 0);
    int64_t t0 = sv_mono_ms();
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ECANCELLED);
    CU_ASSERT(sv_mono_ms() - t0 < 4000);
    CU_ASSERT_EQUAL(tgw_n_recs(), 1);
    pthread_join(th, NULL);
    sv_gateway_free(gw);
}

static void test_deadline(void)
{
    sv_gateway *gw = tgw_gateway("k", 30000, 4);
    sv_gw_call c = tgw_call(NULL, NULL);
    json_object *data = NULL;
    sv_error err;
    /* Already past: nothing is sent. */
    c.deadline_mono_ms = sv_mono_ms() - 1;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ECANCELLED);
    CU_ASSERT_EQUAL(tgw_n_recs(), 0);
    /* Reached during a slow answer: the attempt stops there. */
    struct tgw_answer slow[] = {{.status = 200, .body = TGW_OK_BODY, .latency_ms = 5000}};
    tgw_script(slow, 1);
    int64_t t0 = sv_mono_ms();
    c.deadline_mono_ms = t0 + 300;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ECANCELLED);
    CU_ASSERT(sv_mono_ms() - t0 >= 290);
    CU_ASSERT(sv_mono_ms() - t0 < 4000);
    CU_ASSERT_EQUAL(tgw_n_recs(), 1);
    /* A retry that could only start after the deadline is not waited for. */
    struct tgw_answer later[] = {{.status = 503, .body = "", .retry_after = "10"}};
    tgw_script(later, 1);
    t0 = sv_mono_ms();
    c.deadline_mono_ms = t0 + 3000;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(err.code, "unavailable");
    CU_ASSERT(sv_mono_ms() - t0 < 2500);
    CU_ASSERT_EQUAL(tgw_n_recs(), 2);
    sv_gateway_free(gw);
}

static void test_attempt_timeout(void)
{
    struct tgw_answer a[] = {{.status = 200, .body = TGW_OK_BODY, .latency_ms = 3000},
                             {.status = 200, .body = TGW_OK_BODY}};
    tgw_script(a, 2);
    sv_gateway *gw = tgw_gateway("k", 300, 4);
    struct tgw_seen seen = {0};
    sv_gw_call c = tgw_call(NULL, &seen);
    json_object *data = NULL;
    sv_error err;
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_OK);
    CU_ASSERT_EQUAL_FATAL(tgw_n_recs(), 2);
    json_object *b = tgw_rec_json(1);
    CU_ASSERT_EQUAL(tgw_meta_int(b, "attempt"), 2);
    json_object_put(b);
    CU_ASSERT_EQUAL_FATAL(atomic_load(&seen.n), 2);
    CU_ASSERT_STRING_EQUAL(seen.a[0].status, "error");
    CU_ASSERT_STRING_EQUAL(seen.codes[0], "timeout");
    CU_ASSERT(seen.a[0].duration_ms >= 290);
    json_object_put(data);

    /* Every attempt times out: the code says so. */
    struct tgw_answer slow[] = {{.status = 200, .body = TGW_OK_BODY, .latency_ms = 3000}};
    tgw_script(slow, 1);
    CU_ASSERT_EQUAL(sv_gateway_call(gw, &c, &data, &err), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(err.code, "timeout");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "4 attempts"));
    CU_ASSERT_EQUAL(tgw_n_recs(), 6);
    sv_gateway_free(gw);
}

static void test_keepalive_and_log(void)
{
    sv_gateway *gw = tgw_gateway("API-KEY-XYZ", 5000, 4);
    json_object *params = json_tokener_parse("{\"secret\":\"s3cr3t-param\"}");
    sv_gw_call c = tgw_call(params, NULL);
    json_object *data = NULL;
    sv_error err;
    char path[] = "/tmp/test_gateway_log.XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    sv_log_set_level(SV_LEVEL_INFO);
    int rc1 = sv_gateway_call(gw, &c, &data, &err);
    json_object_put(data);
    int rc2 = sv_gateway_call(gw, &c, &data, &err);
    sv_log_set_level(SV_LEVEL_WARN);
    dup2(saved, STDERR_FILENO);
    close(saved);
    CU_ASSERT_EQUAL(rc1, SV_OK);
    CU_ASSERT_EQUAL(rc2, SV_OK);
    json_object_put(data);
    CU_ASSERT_EQUAL_FATAL(tgw_n_recs(), 2);
    CU_ASSERT(tgw_rec(0)->client_port != 0 && tgw_rec(0)->client_port == tgw_rec(1)->client_port);

    char buf[8192];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    CU_ASSERT_FATAL(n > 0);
    buf[n] = '\0';
    CU_ASSERT_PTR_NULL(strstr(buf, "s3cr3t"));
    CU_ASSERT_PTR_NULL(strstr(buf, "API-KEY"));
    CU_ASSERT_PTR_NULL(strstr(buf, "queued")); /* from the answer's data */
    int lines = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_object *o = json_tokener_parse(l);
        if (!o || strcmp(tgw_str(o, NULL, "msg"), "tool_call") != 0) {
            json_object_put(o);
            continue;
        }
        lines++;
        char h[65];
        sv_sha256_hex(tgw_rec(0)->body, tgw_rec(0)->body_len, h);
        CU_ASSERT_STRING_EQUAL(tgw_str(o, NULL, "request_sha256"), h);
        CU_ASSERT_STRING_EQUAL(tgw_str(o, NULL, "run_id"), c.run_id);
        CU_ASSERT_STRING_EQUAL(tgw_str(o, NULL, "call_id"), c.call_id);
        CU_ASSERT_STRING_EQUAL(tgw_str(o, NULL, "status"), "succeeded");
        static const char *const keys[] = {
            "node",        "tool",          "action",          "attempt",        "http_status",
            "duration_ms", "request_bytes", "response_sha256", "response_bytes", "error_code"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            CU_ASSERT(json_object_object_get_ex(o, keys[i], NULL));
        json_object_put(o);
    }
    CU_ASSERT_EQUAL(lines, 2);
    json_object_put(params);
    sv_gateway_free(gw);
}

static atomic_int g_thread_ok;

static void *call_thread(void *p)
{
    sv_gateway *gw = p;
    for (int i = 0; i < 5; i++) {
        sv_gw_call c = tgw_call(NULL, NULL);
        json_object *data = NULL;
        sv_error err;
        if (sv_gateway_call(gw, &c, &data, &err) == SV_OK && data)
            atomic_fetch_add(&g_thread_ok, 1);
        json_object_put(data);
    }
    sv_gateway_thread_cleanup();
    return NULL;
}

static void test_threads(void)
{
    sv_gateway *gw = tgw_gateway("k", 5000, 4);
    pthread_t th[4];
    atomic_store(&g_thread_ok, 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, call_thread, gw), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&g_thread_ok), 20);
    CU_ASSERT_EQUAL(tgw_n_recs(), 20);
    sv_gateway_free(gw);
}

static void test_backoff_schedule(void)
{
    static const int64_t low[] = {50, 100, 200, 400, 800, 1600};
    static const int64_t high[] = {99, 199, 399, 799, 1599, 3198};
    for (int r = 1; r <= 6; r++) {
        CU_ASSERT_EQUAL(sv_backoff_delay_ms(r, 100, 5000, 0.0), low[r - 1]);
        CU_ASSERT_EQUAL(sv_backoff_delay_ms(r, 100, 5000, 0.999), high[r - 1]);
    }
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(7, 100, 5000, 0.0), 2500);
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(7, 100, 5000, 0.999), 2500 + 2497);
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(64, 100, 5000, 0.0), 2500);
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(1000000, 100, 5000, 0.0), 2500);
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(2147483647, 200, 5000, 0.5), 3750);
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(100, INT64_MAX / 4, INT64_MAX, 0.0), INT64_MAX / 2);
    CU_ASSERT_EQUAL(sv_backoff_delay_ms(1, 0, 0, 0.5), 0);
    for (int r = 1; r < 40; r++) {
        int64_t d = sv_backoff_delay_ms(r, 10, 40, sv_rand_unit());
        CU_ASSERT(d >= 5 && d < 40);
    }
}

static void test_retry_after_parse(void)
{
    const int64_t date_s = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    CU_ASSERT_EQUAL(sv_retry_after_ms("3", 0), 3000);
    CU_ASSERT_EQUAL(sv_retry_after_ms("0", 123), 0);
    CU_ASSERT_EQUAL(sv_retry_after_ms(" 5 ", 0), 5000);
    CU_ASSERT(sv_retry_after_ms("99999999999999999999999", 0) > 0);
    CU_ASSERT_EQUAL(sv_retry_after_ms("garbage", 0), -1);
    CU_ASSERT_EQUAL(sv_retry_after_ms("", 0), -1);
    CU_ASSERT_EQUAL(sv_retry_after_ms(NULL, 0), -1);
    CU_ASSERT_EQUAL(sv_retry_after_ms("-5", 0), -1);
    CU_ASSERT_EQUAL(sv_retry_after_ms("1.5", 0), -1);
    CU_ASSERT_EQUAL(sv_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date_s * 1000 - 5000), 5000);
    /* A date in the past means "now", never a negative delay. */
    CU_ASSERT_EQUAL(sv_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date_s * 1000 + 5000), 0);
}

int main(void)
{
    static const sv_cu_test http_tests[] = {
        {"success returns data; body and headers as the contract", test_success_shape},
        {"no api key: no Authorization; params NULL sends {}", test_no_key_no_auth},
        {"sv_gateway_new rejects bad config", test_new_rejects_bad_config},
        {"503 then 200: retried with the same call_id", test_retry_503_then_ok},
        {"429 with Retry-After: 1 waits at least 1 s", test_retry_after_honoured},
        {"400/401/403/404/413/418 are not retried", test_final_http_errors},
        {"router status failed gives its code", test_router_failed},
        {"spent retries: unavailable after max_attempts", test_retries_spent},
        {"connection refused: unavailable", test_connection_refused},
        {"dropped connection then 200: retried", test_dropped_then_ok},
        {"malformed or oversized 200: bad_response", test_bad_responses},
        {"cancel aborts a slow answer", test_cancel_in_flight},
        {"cancel wakes the backoff wait", test_cancel_in_backoff},
        {"deadline: before, during, and past the next retry", test_deadline},
        {"per-attempt timeout is retried", test_attempt_timeout},
        {"keep-alive reuse; log lines carry hashes, not content", test_keepalive_and_log},
        {"concurrent calls from several threads", test_threads},
    };
    static const sv_cu_test policy_tests[] = {
        {"backoff schedule, cap, large retry numbers", test_backoff_schedule},
        {"Retry-After parsing", test_retry_after_parse},
    };
    static const sv_cu_suite suites[] = {
        {.name = "gateway_http",
         SV_CU_TESTS(http_tests),
         .setup = tgw_server_start,
         .teardown = tgw_server_stop},
        {.name = "gateway_policy", SV_CU_TESTS(policy_tests)},
    };
    signal(SIGPIPE, SIG_IGN);
    /* tool_call lines are checked in one test; elsewhere they are noise. */
    sv_log_set_level(SV_LEVEL_WARN);
    int rc = sv_cu_run(suites, sizeof suites / sizeof suites[0]);
    sv_gateway_thread_cleanup();
    curl_global_cleanup();
    return rc;
}
