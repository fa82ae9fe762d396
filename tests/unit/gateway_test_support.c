/*
 * gateway_test_support.c - the scripted router and client helpers of
 * test_gateway.c.  Thread-per-connection, so a slow scripted answer holds
 * only its own connection; latency waits end at tgw_server_stop().
 */
#include "gateway_test_support.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_SCRIPT 16
#define MAX_RECS 64

static struct {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    struct tgw_answer script[MAX_SCRIPT];
    int n_script, next;
    struct tgw_rec recs[MAX_RECS];
    int n_recs;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct upload {
    char *buf;
    size_t len;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void tgw_script(const struct tgw_answer *a, int n)
{
    pthread_mutex_lock(&srv.mu);
    memcpy(srv.script, a, sizeof *a * (size_t)n);
    srv.n_script = n;
    srv.next = 0;
    pthread_mutex_unlock(&srv.mu);
}

int tgw_n_recs(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.n_recs;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

void tgw_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll *v until it reaches n or timeout_ms passes; 0 or -1. */
int tgw_wait_atomic(atomic_int *v, int n, int timeout_ms)
{
    int64_t end = sv_mono_ms() + timeout_ms;
    while (atomic_load(v) < n) {
        if (sv_mono_ms() >= end)
            return -1;
        tgw_sleep_ms(2);
    }
    return 0;
}

int tgw_wait_recs(int n, int timeout_ms)
{
    int64_t end = sv_mono_ms() + timeout_ms;
    while (tgw_n_recs() < n) {
        if (sv_mono_ms() >= end)
            return -1;
        tgw_sleep_ms(2);
    }
    return 0;
}

static void record(struct MHD_Connection *c, const char *url, const char *method, struct upload *up)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    pthread_mutex_lock(&srv.mu);
    if (srv.n_recs < MAX_RECS) {
        struct tgw_rec *r = &srv.recs[srv.n_recs++];
        r->auth = dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
        r->request_id =
            dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id"));
        r->content_type =
            dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
        r->method = strdup(method);
        r->url = strdup(url);
        r->body = up->buf ? up->buf : strdup("");
        r->body_len = up->len;
        up->buf = NULL;
        r->at_ms = sv_mono_ms();
        r->client_port = ci ? ntohs(((const struct sockaddr_in *)ci->client_addr)->sin_port) : 0;
    }
    pthread_mutex_unlock(&srv.mu);
}

/* Take the next scripted answer (the last one repeats) and wait its latency,
 * cut short when the server stops. */
static struct tgw_answer next_answer(void)
{
    pthread_mutex_lock(&srv.mu);
    struct tgw_answer a = {.status = 200, .body = TGW_OK_BODY};
    if (srv.n_script > 0)
        a = srv.script[srv.next < srv.n_script ? srv.next++ : srv.n_script - 1];
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += a.latency_ms / 1000;
    until.tv_nsec += (long)(a.latency_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (a.latency_ms > 0 && !srv.stopping &&
           pthread_cond_timedwait(&srv.cv, &srv.mu, &until) == 0)
        ;
    pthread_mutex_unlock(&srv.mu);
    return a;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct upload *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof *up);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*data_size > 0) {
        char *b = realloc(up->buf, up->len + *data_size + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + up->len, data, *data_size);
        up->len += *data_size;
        b[up->len] = '\0';
        up->buf = b;
        *data_size = 0;
        return MHD_YES;
    }
    record(c, url, method, up);
    struct tgw_answer a = next_answer();
    if (a.status == 0)
        return MHD_NO;
    size_t len = a.body_len ? a.body_len : strlen(a.body ? a.body : "");
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(a.body ? a.body : ""),
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (a.retry_after)
        MHD_add_response_header(r, "Retry-After", a.retry_after);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)a.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct upload *up = *con_cls;
    if (up)
        free(up->buf);
    free(up);
    *con_cls = NULL;
}

void tgw_server_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv.cv, &ca);
    pthread_condattr_destroy(&ca);
    srv.stopping = 0;
    srv.n_script = srv.next = srv.n_recs = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                             NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *di =
        srv.d ? MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    srv.port = di ? di->port : 0;
}

void tgw_server_stop(void)
{
    pthread_mutex_lock(&srv.mu);
    srv.stopping = 1;
    pthread_cond_broadcast(&srv.cv);
    pthread_mutex_unlock(&srv.mu);
    if (srv.d)
        MHD_stop_daemon(srv.d);
    srv.d = NULL;
    for (int i = 0; i < srv.n_recs; i++) {
        struct tgw_rec *r = &srv.recs[i];
        free(r->auth);
        free(r->request_id);
        free(r->content_type);
        free(r->method);
        free(r->url);
        free(r->body);
    }
    srv.n_recs = 0;
    pthread_cond_destroy(&srv.cv);
}

int tgw_port(void)
{
    return srv.port;
}

const struct tgw_rec *tgw_rec(int i)
{
    return &srv.recs[i];
}

/* ---- the client side ---- */

void tgw_on_attempt(void *arg, const sv_gw_attempt *a)
{
    struct tgw_seen *s = arg;
    int i = atomic_load(&s->n);
    if (i < TGW_MAX_SEEN) {
        s->a[i] = *a;
        snprintf(s->codes[i], sizeof s->codes[i], "%s", a->error_code ? a->error_code : "");
        s->a[i].error_code = a->error_code ? s->codes[i] : NULL;
        s->a[i].status = strcmp(a->status, "succeeded") == 0 ? "succeeded"
                         : strcmp(a->status, "failed") == 0  ? "failed"
                                                             : "error";
    }
    atomic_fetch_add(&s->n, 1);
}

sv_gateway *tgw_gateway_port(int port, const char *key, int64_t timeout_ms, int attempts)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    sv_gateway_cfg cfg = {.base_url = url,
                          .api_key = key,
                          .timeout_ms = timeout_ms,
                          .max_attempts = attempts,
                          .backoff_base_ms = 10,
                          .backoff_cap_ms = 40};
    sv_gateway *gw = NULL;
    CU_ASSERT_EQUAL_FATAL(sv_gateway_new(&cfg, &gw), 0);
    return gw;
}

sv_gateway *tgw_gateway(const char *key, int64_t timeout_ms, int attempts)
{
    CU_ASSERT_FATAL(srv.port > 0);
    return tgw_gateway_port(srv.port, key, timeout_ms, attempts);
}

sv_gw_call tgw_call(json_object *params, struct tgw_seen *seen)
{
    return (sv_gw_call){.tool = "job_orchestrator_tool",
                        .action = "start_task",
                        .params = params,
                        .workspace_id = "ws1",
                        .user_id = "u1",
                        .agent_id = "a1",
                        .run_id = "gr_0123456789abcdef0123456789abcdef",
                        .graph = "release_check",
                        .node = "start_job",
                        .call_id = "gr_0123456789abcdef0123456789abcdef:start_job:1",
                        .on_attempt = seen ? tgw_on_attempt : NULL,
                        .arg = seen};
}

json_object *tgw_rec_json(int i)
{
    return json_tokener_parse(srv.recs[i].body);
}

int64_t tgw_meta_int(json_object *body, const char *key)
{
    json_object *m = NULL, *v = NULL;
    json_object_object_get_ex(body, "metadata", &m);
    json_object_object_get_ex(m, key, &v);
    return json_object_get_int64(v);
}

const char *tgw_str(json_object *o, const char *obj, const char *key)
{
    json_object *v = NULL;
    if (obj && !json_object_object_get_ex(o, obj, &o))
        return "";
    if (!json_object_object_get_ex(o, key, &v))
        return "";
    return json_object_get_string(v);
}

/* Is s well-formed UTF-8 (the messages end up in JSON)? */
int tgw_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80             ? 0
                : (*p & 0xE0) == 0xC0 ? 1
                : (*p & 0xF0) == 0xE0 ? 2
                : (*p & 0xF8) == 0xF0 ? 3
                                      : -1;
        if (n < 0)
            return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}
