/*
 * test_sse.c - event streams through the real daemon (core/sse.c,
 * core/sse_runs.c, core/http_stream.c): a finished run's whole stream, a
 * running run's stream live, Last-Event-ID and ?since= resume with no gap
 * and no repeat (also across two daemons on one Redis), a client that hangs
 * up is released (sofiia_event_streams), the heartbeat comment, 401, 404, a
 * key limited to workspaces, the JSON page, GET /v1/events; and the run
 * console's static files (core/ui.c): types, ETag, 304, no traversal.
 *
 * Streams are read from a plain socket, so a test decides when the client
 * goes away.  Every wait polls with a deadline; nothing asserts a duration.
 */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

#define KEY "sse-secret-0123456789"
#define WSKEY "ws-secret-0123456789a"
#define AUTH "Authorization: Bearer " KEY

static th_proc g_sim, g_d;

static int suite_init(void)
{
    char ui[512], uienv[600];
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    snprintf(uienv, sizeof uienv, "UI_DIR=%s", th_src("ui", ui, sizeof ui));
    const char *plugins[] = {"test_wait", "test_chain", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=all:" KEY ",ws:" WSKEY "@ws_a",
                         "SSE_HEARTBEAT_SEC=1", "WORKER_THREADS=2", uienv, NULL};
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

/* ---- a raw HTTP/1.1 client for streams ---------------------------------- */

typedef struct conn {
    int fd;
    char *buf;  /* all received, NUL-terminated */
    char *text; /* the same, chunked framing out (conn_until) */
    size_t len, cap;
    int closed; /* the server closed it */
} conn;

/* Send "GET path" with extra header lines (each ending in \r\n) or a raw
 * request line; 0 or -1. */
static int conn_open(int port, const char *request, conn *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    memset(c, 0, sizeof *c);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    size_t n = strlen(request);
    return write(c->fd, request, n) == (ssize_t)n ? 0 : -1;
}

static int sse_open(int port, const char *path, const char *headers, conn *c)
{
    char req[1024];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
             "Connection: close\r\n%s\r\n",
             path, headers ? headers : AUTH "\r\n");
    return conn_open(port, req, c);
}

/* The headers and the body with chunked framing taken out (malloc'd): an
 * SSE line may be split across two chunks. */
static char *dechunk(const char *raw)
{
    const char *body = raw ? strstr(raw, "\r\n\r\n") : NULL;
    if (!body)
        return strdup(raw ? raw : "");
    body += 4;
    size_t hl = (size_t)(body - raw);
    char *out = malloc(strlen(raw) + 1);
    memcpy(out, raw, hl);
    size_t n = hl;
    if (!strstr(raw, "Transfer-Encoding: chunked")) {
        strcpy(out + n, body);
        return out;
    }
    for (const char *p = body;;) {
        char *end = NULL;
        unsigned long len = strtoul(p, &end, 16);
        const char *data = end ? strstr(end, "\r\n") : NULL;
        if (!data || len == 0)
            break;
        data += 2;
        size_t have = strlen(data);
        size_t take = have < len ? have : len;
        memcpy(out + n, data, take);
        n += take;
        if (have < len + 2)
            break;
        p = data + len + 2;
    }
    out[n] = '\0';
    return out;
}

/* Read until needle is in the body (NULL: until the server closes), or
 * timeout_ms passes; 1 when found (or closed), 0 otherwise.  c->text is
 * what was read, chunked framing out. */
static int conn_until(conn *c, const char *needle, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    for (;;) {
        free(c->text);
        c->text = dechunk(c->buf);
        if (needle && strstr(c->text, needle))
            return 1;
        if (c->closed)
            return needle == NULL;
        long long left = deadline - th_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (c->len + 4097 > c->cap) {
            c->cap = c->cap ? c->cap * 2 : 65536;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t n = read(c->fd, c->buf + c->len, 4096);
        if (n <= 0) {
            c->closed = 1;
        } else {
            c->len += (size_t)n;
        }
        c->buf[c->len] = '\0';
    }
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c->text);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* The SSE events in a response (chunked framing stripped roughly: chunk
 * size lines never look like SSE fields). */
typedef struct sse_ev {
    long long id; /* -1: none */
    char type[64];
    char *data;
} sse_ev;

typedef struct sse_list {
    sse_ev v[1200];
    int n;
    int comments;
} sse_list;

static void sse_parse(const char *text, sse_list *l)
{
    memset(l, 0, sizeof *l);
    const char *body = text ? strstr(text, "\r\n\r\n") : NULL;
    sse_ev cur = {.id = -1};
    int has = 0;
    for (const char *p = body ? body + 4 : ""; *p && l->n < 1200;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0) {
            if (has)
                l->v[l->n++] = cur;
            memset(&cur, 0, sizeof cur);
            cur.id = -1;
            has = 0;
        } else if (p[0] == ':') {
            l->comments++;
        } else if (strncmp(p, "id: ", 4) == 0) {
            cur.id = atoll(p + 4);
            has = 1;
        } else if (strncmp(p, "event: ", 7) == 0) {
            snprintf(cur.type, sizeof cur.type, "%.*s", (int)(len - 7), p + 7);
            has = 1;
        } else if (strncmp(p, "data: ", 6) == 0) {
            free(cur.data);
            cur.data = strndup(p + 6, len - 6);
            has = 1;
        }
        if (!e)
            break;
        p = e + 1;
    }
    free(cur.data); /* an event cut short is not in the list */
}

static void sse_free(sse_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i].data);
}

/* The run events of a list must be ids first..first+n-1 without a gap or
 * a repeat; n in *count; 0 or -1. */
static int ids_consecutive(const sse_list *l, long long first, int *count)
{
    long long want = first;
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        if (l->v[i].id < 0)
            continue;
        if (l->v[i].id != want) {
            fprintf(stderr, "\n    id %lld where %lld was due\n", l->v[i].id, want);
            return -1;
        }
        want++;
        n++;
    }
    *count = n;
    return 0;
}

static const sse_ev *last_of(const sse_list *l, const char *type)
{
    for (int i = l->n - 1; i >= 0; i--)
        if (strcmp(l->v[i].type, type) == 0)
            return &l->v[i];
    return NULL;
}

/* ---- helpers over the API ----------------------------------------------- */

static long start(const char *input, char id[64])
{
    char body[512];
    th_resp r;
    const char *hdr[] = {AUTH, NULL};
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"ws_a\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":%s}",
             input);
    th_http("POST", g_d.port, "/v1/graphs/test_wait/runs", body, hdr, &r);
    snprintf(id, 64, "%s", th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    long st = r.status;
    th_resp_free(&r);
    return st;
}

static json_object *view(int port, const char *id)
{
    char path[128];
    th_resp r;
    const char *hdr[] = {AUTH, NULL};
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    th_http("GET", port, path, NULL, hdr, &r);
    json_object *v = json_object_get(r.json);
    th_resp_free(&r);
    return v;
}

static json_object *wait_final(int port, const char *id)
{
    long long deadline = th_mono_ms() + 30000;
    while (th_mono_ms() < deadline) {
        json_object *v = view(port, id);
        const char *s = th_get_str(v, "status");
        if (s && (!strcmp(s, "succeeded") || !strcmp(s, "failed") || !strcmp(s, "cancelled")))
            return v;
        json_object_put(v);
        th_poll_pause();
    }
    return NULL;
}

static double metric(int port, const char *sample)
{
    th_resp r;
    double v = -1;
    char needle[256];
    const char *hdr[] = {AUTH, NULL};
    snprintf(needle, sizeof needle, "\n%s ", sample);
    if (th_http("GET", port, "/metrics", NULL, hdr, &r) == 0 && r.status == 200 && r.body) {
        const char *p = strstr(r.body, needle);
        if (p)
            v = strtod(p + strlen(needle), NULL);
    }
    th_resp_free(&r);
    return v;
}

static int wait_metric(int port, const char *sample, double want, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        if (metric(port, sample) == want)
            return 0;
        th_poll_pause();
    }
    return -1;
}

/* ---- the tests ---------------------------------------------------------- */

/* A finished run: every event once, in order, ids from 0, then "end". */
static void test_finished_run_stream(void)
{
    char id[64], path[128];
    conn c;
    sse_list l;
    int n = 0;
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":1,\"delay_ms\":10}", id), 202);
    json_object *v = wait_final(g_d.port, id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, NULL, &c), 0);
    CU_ASSERT(conn_until(&c, NULL, 20000)); /* the server ends it */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.text, "HTTP/1.1 200"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.text, "Content-Type: text/event-stream"));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, 0, &n), 0);
    CU_ASSERT_EQUAL(n, th_len(v, "events"));
    for (int i = 0; i < n && i < th_len(v, "events"); i++) {
        char p[64];
        snprintf(p, sizeof p, "events[%d].type", i);
        TH_STR_EQ(l.v[i].type, th_get_str(v, p));
        json_object *d = json_tokener_parse(l.v[i].data);
        TH_STR_EQ(th_get_str(d, "type"), th_get_str(v, p));
        json_object_put(d);
    }
    const sse_ev *end = last_of(&l, "end");
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    CU_ASSERT_EQUAL(end->id, -1);
    json_object *e = json_tokener_parse(end->data);
    TH_STR_EQ(th_get_str(e, "status"), "succeeded");
    TH_STR_EQ(th_get_str(e, "run_id"), id);
    json_object_put(e);
    CU_ASSERT_STRING_EQUAL(l.v[l.n - 2].type, "run_end");
    sse_free(&l);
    conn_close(&c);
    json_object_put(v);
}

/* A running run: the stream opened before it ends brings its events as
 * they come, then the end. */
static void test_live_stream(void)
{
    char id[64], path[128];
    conn c;
    sse_list l;
    int n = 0;
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":4,\"delay_ms\":300}", id), 202);
    long long until = th_mono_ms() + 10000;
    for (json_object *v0 = NULL; th_mono_ms() < until; th_poll_pause()) {
        v0 = view(g_d.port, id);
        int running = th_get_str(v0, "status") && !strcmp(th_get_str(v0, "status"), "running");
        json_object_put(v0);
        if (running)
            break;
    }
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, NULL, &c), 0);
    /* the first events come while the run is still going */
    CU_ASSERT(conn_until(&c, "event: run_start", 10000));
    json_object *v = view(g_d.port, id);
    int was_running = th_get_str(v, "status") && !strcmp(th_get_str(v, "status"), "running");
    json_object_put(v);
    CU_ASSERT(conn_until(&c, NULL, 30000));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, 0, &n), 0);
    CU_ASSERT_PTR_NOT_NULL(last_of(&l, "run_end"));
    CU_ASSERT_PTR_NOT_NULL(last_of(&l, "end"));
    v = view(g_d.port, id);
    CU_ASSERT_EQUAL(n, th_len(v, "events"));
    json_object_put(v);
    if (!was_running)
        fprintf(stderr, "\n    (the run had ended before the check; still a full stream)\n");
    sse_free(&l);
    conn_close(&c);
}

/* Resume: Last-Event-ID k gives k+1 onwards; ?since=N gives N onwards; the
 * header wins over the URL; a live stream cut and resumed misses nothing. */
static void test_resume(void)
{
    char id[64], path[160], hdr[256];
    conn c;
    sse_list l;
    int n = 0;
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":2,\"delay_ms\":10}", id), 202);
    json_object *v = wait_final(g_d.port, id);
    long total = th_len(v, "events");
    json_object_put(v);
    CU_ASSERT_FATAL(total > 4);
    snprintf(path, sizeof path, "/v1/runs/%s/events?since=1", id);
    snprintf(hdr, sizeof hdr, "%s\r\nLast-Event-ID: 2\r\n", AUTH);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, hdr, &c), 0);
    CU_ASSERT(conn_until(&c, NULL, 20000));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, 3, &n), 0);
    CU_ASSERT_EQUAL(n, total - 3);
    sse_free(&l);
    conn_close(&c);
    snprintf(path, sizeof path, "/v1/runs/%s/events?since=4", id);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, NULL, &c), 0);
    CU_ASSERT(conn_until(&c, NULL, 20000));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, 4, &n), 0);
    CU_ASSERT_EQUAL(n, total - 4);
    CU_ASSERT_PTR_NOT_NULL(last_of(&l, "end"));
    sse_free(&l);
    conn_close(&c);

    /* live: cut after the first few, resume from the last id seen */
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":6,\"delay_ms\":200}", id), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, NULL, &c), 0);
    CU_ASSERT(conn_until(&c, "id: 3\n", 20000));
    sse_parse(c.text, &l);
    long long last = -1;
    int first_part = 0;
    CU_ASSERT_EQUAL(ids_consecutive(&l, 0, &first_part), 0);
    for (int i = 0; i < l.n; i++)
        last = l.v[i].id > last ? l.v[i].id : last;
    sse_free(&l);
    conn_close(&c);
    snprintf(hdr, sizeof hdr, "%s\r\nLast-Event-ID: %lld\r\n", AUTH, last);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, hdr, &c), 0);
    CU_ASSERT(conn_until(&c, NULL, 30000));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, last + 1, &n), 0);
    v = view(g_d.port, id);
    CU_ASSERT_EQUAL(last + 1 + n, th_len(v, "events"));
    json_object_put(v);
    sse_free(&l);
    conn_close(&c);
}

/* A client that goes away while the stream waits is released: the gauge
 * goes back down, long before the run would end. */
static void test_hangup_released(void)
{
    char id[64], path[128];
    conn c;
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":200,\"delay_ms\":500}", id), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL(wait_metric(g_d.port, "sofiia_event_streams", 0, 10000), 0);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, NULL, &c), 0);
    CU_ASSERT(conn_until(&c, "event: run_start", 10000));
    CU_ASSERT_EQUAL(wait_metric(g_d.port, "sofiia_event_streams", 1, 10000), 0);
    conn_close(&c);
    CU_ASSERT_EQUAL(wait_metric(g_d.port, "sofiia_event_streams", 0, 10000), 0);
    json_object *v = view(g_d.port, id);
    TH_STR_EQ(th_get_str(v, "status"), "running"); /* released before the run's end */
    json_object_put(v);
    /* the daemon goes on serving streams */
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    th_resp r;
    const char *hdr[] = {AUTH, NULL};
    th_http("POST", g_d.port, path, NULL, hdr, &r);
    th_resp_free(&r);
}

/* An idle stream sends a comment line every SSE_HEARTBEAT_SEC (1 here). */
static void test_heartbeat(void)
{
    char id[64], path[128];
    conn c;
    sse_list l;
    /* a node every 3 s: the stream is idle between them */
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":100,\"delay_ms\":3000}", id), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, NULL, &c), 0);
    CU_ASSERT(conn_until(&c, "\n: keep-alive\n", 20000));
    sse_parse(c.text, &l);
    CU_ASSERT(l.comments >= 2); /* the opening line and a heartbeat */
    sse_free(&l);
    conn_close(&c);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    th_resp r;
    const char *hdr[] = {AUTH, NULL};
    th_http("POST", g_d.port, path, NULL, hdr, &r);
    th_resp_free(&r);
}

static long get_status(const char *path, const char *const *hdr, th_resp *out)
{
    th_resp r;
    th_http("GET", g_d.port, path, NULL, hdr, &r);
    long st = r.status;
    if (out)
        *out = r;
    else
        th_resp_free(&r);
    return st;
}

/* 401 without the key, 404 for an unknown or malformed id, 400 for bad
 * values, 405, 406 for /v1/events without the Accept header. */
static void test_errors(void)
{
    const char *sse_nokey[] = {"Accept: text/event-stream", NULL};
    const char *sse[] = {AUTH, "Accept: text/event-stream", NULL};
    const char *json[] = {AUTH, NULL};
    const char *bad_last[] = {AUTH, "Accept: text/event-stream", "Last-Event-ID: x1", NULL};
    th_resp r;
    char id[64], path[160];
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":0}", id), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL(get_status(path, sse_nokey, NULL), 401);
    CU_ASSERT_EQUAL(get_status("/v1/events", sse_nokey, NULL), 401);
    CU_ASSERT_EQUAL(get_status("/v1/runs/gr_0123456789abcdef0123456789abcdef/events", sse, &r),
                    404);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "run_not_found");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(get_status("/v1/runs/nope/events", json, NULL), 404);
    CU_ASSERT_EQUAL(get_status(path, bad_last, &r), 400);
    TH_STR_EQ(th_get_str(r.json, "error.details.field"), "Last-Event-ID");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s/events?since=-2", id);
    CU_ASSERT_EQUAL(get_status(path, json, &r), 400);
    TH_STR_EQ(th_get_str(r.json, "error.details.field"), "since");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s/events?limit=0", id);
    CU_ASSERT_EQUAL(get_status(path, json, NULL), 400);
    snprintf(path, sizeof path, "/v1/runs/%s/events?bogus=1", id);
    CU_ASSERT_EQUAL(get_status(path, json, NULL), 400);
    CU_ASSERT_EQUAL(get_status("/v1/events", json, &r), 406);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "not_acceptable");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(get_status("/v1/events?x=1", sse, NULL), 400);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    th_http("POST", g_d.port, path, NULL, json, &r);
    CU_ASSERT_EQUAL(r.status, 405);
    th_resp_free(&r);
}

/* A key limited to ws_a: another workspace's run is 404 (as if absent),
 * its own streams; /v1/events shows it only its workspace's runs. */
static void test_workspace_key(void)
{
    const char *ws_sse[] = {"Authorization: Bearer " WSKEY, "Accept: text/event-stream", NULL};
    const char *all[] = {AUTH, NULL};
    char body[256], path[160], other[64], own[64];
    th_resp r;
    conn c;
    sse_list l;
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"ws_b\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":"
             "{\"waits\":0}}");
    th_http("POST", g_d.port, "/v1/graphs/test_wait/runs", body, all, &r);
    snprintf(other, sizeof other, "%s",
             th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    th_resp_free(&r);
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":0}", own), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/events", other);
    CU_ASSERT_EQUAL(get_status(path, ws_sse, &r), 404);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "run_not_found");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s/events", own);
    json_object_put(wait_final(g_d.port, own));
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, path, "Authorization: Bearer " WSKEY "\r\n", &c), 0);
    CU_ASSERT(conn_until(&c, NULL, 20000));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.text, "event: end"));
    conn_close(&c);

    /* /v1/events: a ws_b run started after subscribing is not shown; a
     * ws_a one is */
    CU_ASSERT_EQUAL_FATAL(
        sse_open(g_d.port, "/v1/events", "Authorization: Bearer " WSKEY "\r\n", &c), 0);
    CU_ASSERT(conn_until(&c, "retry:", 10000));
    th_http("POST", g_d.port, "/v1/graphs/test_wait/runs", body, all, &r);
    snprintf(other, sizeof other, "%s",
             th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    th_resp_free(&r);
    json_object_put(wait_final(g_d.port, other));
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":0}", own), 202);
    char needle[128];
    snprintf(needle, sizeof needle, "\"run_id\":\"%s\"", own);
    CU_ASSERT(conn_until(&c, needle, 20000));
    CU_ASSERT(conn_until(&c, "event: run_end", 20000));
    CU_ASSERT_PTR_NULL(strstr(c.text, other));
    sse_parse(c.text, &l);
    CU_ASSERT_PTR_NOT_NULL(last_of(&l, "run_start"));
    sse_free(&l);
    conn_close(&c);
}

/* Without Accept: text/event-stream, a JSON page with seq, next, missed. */
static void test_json_page(void)
{
    const char *json[] = {AUTH, NULL};
    char id[64], path[160];
    th_resp r;
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":2,\"delay_ms\":10}", id), 202);
    json_object *v = wait_final(g_d.port, id);
    long total = th_len(v, "events");
    json_object_put(v);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    CU_ASSERT_EQUAL(get_status(path, json, &r), 200);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "application/json") : NULL);
    CU_ASSERT_EQUAL(th_len(r.json, "events"), total);
    CU_ASSERT_EQUAL(th_get_int(r.json, "next", -1), total);
    CU_ASSERT_EQUAL(th_get_int(r.json, "events_dropped", -1), 0);
    CU_ASSERT_EQUAL(th_get_int(r.json, "missed", -1), 0);
    CU_ASSERT_EQUAL(th_get_int(r.json, "events[0].seq", -1), 0);
    TH_STR_EQ(th_get_str(r.json, "events[0].type"), "run_start");
    TH_STR_EQ(th_get_str(r.json, "status"), "succeeded");
    TH_STR_EQ(th_get_str(r.json, "run_id"), id);
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s/events?since=2&limit=2", id);
    CU_ASSERT_EQUAL(get_status(path, json, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "events"), 2);
    CU_ASSERT_EQUAL(th_get_int(r.json, "events[0].seq", -1), 2);
    CU_ASSERT_EQUAL(th_get_int(r.json, "events[1].seq", -1), 3);
    CU_ASSERT_EQUAL(th_get_int(r.json, "next", -1), 4);
    th_resp_free(&r);
    /* past the end: nothing, and next says where the end is */
    snprintf(path, sizeof path, "/v1/runs/%s/events?since=999", id);
    CU_ASSERT_EQUAL(get_status(path, json, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "events"), 0);
    CU_ASSERT_EQUAL(th_get_int(r.json, "next", -1), total);
    th_resp_free(&r);
}

/* GET /v1/events: a run started after subscribing shows its start and its
 * end; the graph filter leaves other graphs out. */
static void test_runs_stream(void)
{
    conn c;
    char id[64], needle[128];
    CU_ASSERT_EQUAL_FATAL(sse_open(g_d.port, "/v1/events?graph=test_wait", NULL, &c), 0);
    CU_ASSERT(conn_until(&c, "retry:", 10000));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.text, "Content-Type: text/event-stream"));
    th_resp r;
    const char *hdr[] = {AUTH, NULL};
    th_http("POST", g_d.port, "/v1/graphs/test_chain/runs",
            "{\"workspace_id\":\"ws_a\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":{}}", hdr,
            &r);
    char chain[64];
    snprintf(chain, sizeof chain, "%s",
             th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "none");
    th_resp_free(&r);
    CU_ASSERT_EQUAL_FATAL(start("{\"waits\":1,\"delay_ms\":100}", id), 202);
    snprintf(needle, sizeof needle, "\"run_id\":\"%s\"", id);
    CU_ASSERT(conn_until(&c, needle, 20000));
    json_object_put(wait_final(g_d.port, id));
    CU_ASSERT(conn_until(&c, "event: run_end", 20000));
    sse_list l;
    sse_parse(c.text, &l);
    const sse_ev *end = last_of(&l, "run_end");
    json_object *s = end ? json_tokener_parse(end->data) : NULL;
    TH_STR_EQ(th_get_str(s, "run_id"), id);
    TH_STR_EQ(th_get_str(s, "status"), "succeeded");
    json_object_put(s);
    CU_ASSERT_PTR_NOT_NULL(last_of(&l, "run_start"));
    CU_ASSERT_PTR_NULL(strstr(c.text, chain)); /* another graph */
    sse_free(&l);
    conn_close(&c);
}

/* Two daemons on one Redis: a stream cut on the first resumes on the
 * second from Last-Event-ID, with nothing missed or repeated. */
static void test_resume_across_instances(void)
{
    th_proc redis, a, b;
    char url[128], id[64], path[128], hdr[256];
    const char *plugins[] = {"test_wait", NULL};
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *env[] = {url, "SUPERVISOR_INTERNAL_KEY=" KEY, NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &a) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &b) == 0);
    th_resp r;
    const char *auth[] = {AUTH, NULL};
    th_http("POST", a.port, "/v1/graphs/test_wait/runs",
            "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":"
            "{\"waits\":6,\"delay_ms\":250}}",
            auth, &r);
    CU_ASSERT_EQUAL(r.status, 202);
    snprintf(id, sizeof id, "%s", th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s/events", id);
    conn c;
    sse_list l;
    int n1 = 0, n2 = 0;
    CU_ASSERT_EQUAL_FATAL(sse_open(a.port, path, NULL, &c), 0);
    CU_ASSERT(conn_until(&c, "id: 4\n", 20000));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, 0, &n1), 0);
    sse_free(&l);
    conn_close(&c);
    snprintf(hdr, sizeof hdr, "%s\r\nLast-Event-ID: %d\r\n", AUTH, n1 - 1);
    CU_ASSERT_EQUAL_FATAL(sse_open(b.port, path, hdr, &c), 0);
    CU_ASSERT(conn_until(&c, NULL, 40000));
    sse_parse(c.text, &l);
    CU_ASSERT_EQUAL(ids_consecutive(&l, n1, &n2), 0);
    CU_ASSERT_PTR_NOT_NULL(last_of(&l, "end"));
    json_object *v = view(b.port, id);
    CU_ASSERT_EQUAL(n1 + n2, th_len(v, "events"));
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    sse_free(&l);
    conn_close(&c);
    CU_ASSERT_EQUAL(th_proc_stop(&a, 20000), 0);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
    th_redis_stop(&redis);
}

/* The console's files: open without the key, typed, with an ETag and a 304
 * for a current copy; nothing outside UI_DIR, whatever the path says. */
static void test_ui_files(void)
{
    th_resp r;
    CU_ASSERT_EQUAL(get_status("/ui/", NULL, &r), 200);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "text/html; charset=utf-8") : NULL);
    CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "<html") : NULL);
    const char *etag = r.headers ? strstr(r.headers, "ETag: ") : NULL;
    char inm[128] = "If-None-Match: ";
    if (etag)
        snprintf(inm + 15, sizeof inm - 15, "%.*s", (int)strcspn(etag + 6, "\r\n"), etag + 6);
    CU_ASSERT_PTR_NOT_NULL(etag);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "Cache-Control: no-cache") : NULL);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "X-Content-Type-Options: nosniff") : NULL);
    th_resp_free(&r);
    const char *cond[] = {inm, NULL};
    CU_ASSERT_EQUAL(get_status("/ui/index.html", cond, NULL), 304);
    CU_ASSERT_EQUAL(get_status("/ui/app.js", NULL, &r), 200);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "text/javascript") : NULL);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(get_status("/ui/style.css", NULL, &r), 200);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "text/css") : NULL);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(get_status("/ui/nope.js", NULL, NULL), 404);
    CU_ASSERT_EQUAL(get_status("/ui/local.am", NULL, NULL), 404); /* not a console type */
    CU_ASSERT_EQUAL(get_status("/ui", NULL, &r), 308);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "Location: /ui/") : NULL);
    th_resp_free(&r);
    /* the API next door still needs the key */
    CU_ASSERT_EQUAL(get_status("/v1/graphs", NULL, NULL), 401);
    /* traversal, sent raw so no client tidies the path first */
    static const char *const bad[] = {
        "/ui/../Makefile.am",    "/ui/%2e%2e/Makefile.am",
        "/ui/..%2fMakefile.am",  "/ui/./index.html",
        "/ui/.hidden.js",        "/ui//index.html",
        "/ui/x/../../README.md", "/ui/%2e%2e%2f%2e%2e%2fetc/passwd",
        "/ui/index.html/",       "/ui/..\\Makefile.am",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char req[512];
        conn c;
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 bad[i]);
        CU_ASSERT_EQUAL_FATAL(conn_open(g_d.port, req, &c), 0);
        conn_until(&c, NULL, 10000);
        int is404 = c.buf && strncmp(c.buf, "HTTP/1.1 404", 12) == 0;
        if (!is404)
            fprintf(stderr, "\n    %s: %.40s\n", bad[i], c.buf ? c.buf : "(nothing)");
        CU_ASSERT(is404);
        conn_close(&c);
    }
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"the stream of a finished run", test_finished_run_stream},
        {"the stream of a running run, live", test_live_stream},
        {"Last-Event-ID and since resume, no gap, no repeat", test_resume},
        {"a client that hangs up is released", test_hangup_released},
        {"heartbeat comment", test_heartbeat},
        {"401, 404, 400, 405, 406", test_errors},
        {"a key limited to workspaces", test_workspace_key},
        {"the JSON page", test_json_page},
        {"GET /v1/events", test_runs_stream},
        {"resume across two daemons on Redis", test_resume_across_instances},
        {"the console's static files", test_ui_files},
    };
    static const sv_cu_suite suites[] = {
        {.name = "sse", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
