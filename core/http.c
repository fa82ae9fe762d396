/* http.c - see http.h. */
#include "http_internal.h"
#include "flood.h"
#include "log.h"
#include "pool.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Per-request state, freed by the completion callback. */
typedef struct sv_conn_state {
    char *buf;
    size_t len, cap;
    int too_large;
    int64_t park_deadline;
    int counted;            /* in sv_http.parked */
    const sv_auth_key *key; /* that authenticated the request */
    /* A request whose handler runs on the pool (sv_http_cfg.offload). */
    sv_pool_task task;
    struct sv_http *h;
    struct MHD_Connection *conn;
    const char *method, *url; /* libmicrohttpd's, valid while the request lives */
    int phase;                /* OFF_* under sv_http.olock */
    int rewake;               /* woken while its handler was still running */
    sv_resp answer;           /* phase OFF_READY: what to send */
} sv_conn_state;

enum { OFF_IDLE = 0, OFF_RUNNING, OFF_READY };

void sv_resp_error(sv_resp *resp, int status, const char *code, const char *message,
                   const char *field)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(message));
    if (field) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "field", json_object_new_string(field));
        json_object_object_add(e, "details", d);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", e);
    json_object_put(resp->body);
    resp->body = o;
    resp->status = status;
}

const char *sv_req_header(const sv_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sv_req_query(const sv_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct query_check {
    const char *const *allowed;
    char *bad;
    size_t len;
    int found;
} query_check;

static MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    query_check *qc = cls;
    (void)kind;
    (void)value;
    for (const char *const *k = qc->allowed; *k; k++)
        if (strcmp(*k, key) == 0)
            return MHD_YES;
    snprintf(qc->bad, qc->len, "%s", key);
    qc->found = 1;
    return MHD_NO;
}

int sv_req_unknown_query(const sv_req *req, const char *const *allowed, char *bad, size_t len)
{
    query_check qc = {.allowed = allowed, .bad = bad, .len = len};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_arg, &qc);
    return qc.found;
}

int sv_req_socket(const sv_req *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? (int)ci->connect_fd : -1;
}

/* Free what an unsent answer owns. */
static void resp_clear(sv_resp *resp)
{
    json_object_put(resp->body);
    resp->body = NULL;
    free(resp->text);
    resp->text = NULL;
    free(resp->json_text);
    resp->json_text = NULL;
    free(resp->raw);
    resp->raw = NULL;
    sv_stream_discard(resp->stream);
    resp->stream = NULL;
}

/* A static file of the console (ui.c): its bytes, type and validators.
 * The page's own rules (CSP) keep it to the daemon's own scripts. */
static MHD_Result send_file(struct MHD_Connection *conn, sv_resp *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->raw_len, resp->raw ? resp->raw : (void *)"", MHD_RESPMEM_MUST_COPY);
    MHD_Result ret = MHD_NO;
    if (r) {
        if (resp->status != 304)
            MHD_add_response_header(r, "Content-Type", resp->content_type);
        if (resp->etag[0])
            MHD_add_response_header(r, "ETag", resp->etag);
        /* Small files: always revalidated (a 304 when unchanged), so an
         * upgrade of the daemon is seen at the next load. */
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
        ret = MHD_queue_response(conn, (unsigned)resp->status, r);
        MHD_destroy_response(r);
    }
    resp_clear(resp);
    return ret;
}

static MHD_Result send_resp(struct MHD_Connection *conn, sv_resp *resp)
{
    if (resp->stream) {
        sv_stream *st = resp->stream;
        resp->stream = NULL;
        resp_clear(resp);
        return sv_stream_queue(conn, st);
    }
    if (resp->is_file)
        return send_file(conn, resp);
    size_t len = 0;
    const char *text = "{}";
    if (resp->text)
        len = strlen(text = resp->text);
    else if (resp->json_text)
        len = strlen(text = resp->json_text);
    else if (resp->body)
        text = json_object_to_json_string_length(
            resp->body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    else
        len = 2;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_Result ret = MHD_NO;
    if (r) {
        MHD_add_response_header(r, "Content-Type",
                                resp->text ? "text/plain; version=0.0.4" : "application/json");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        if (resp->allow[0])
            MHD_add_response_header(r, "Allow", resp->allow);
        if (resp->extra_name[0])
            MHD_add_response_header(r, resp->extra_name, resp->extra_value);
        ret = MHD_queue_response(conn, (unsigned)resp->status, r);
        MHD_destroy_response(r);
    }
    resp_clear(resp);
    return ret;
}

void sv_http_park(const sv_req *req, sv_resp *resp)
{
    sv_conn_state *st = req->state;
    if (!st->counted) {
        st->counted = 1;
        atomic_fetch_add(&req->http->parked, 1);
    }
    /* An offloaded request is suspended already, until its handler ends. */
    if (st->phase != OFF_RUNNING)
        MHD_suspend_connection(req->conn);
    resp->parked = 1;
}

void sv_http_drain(sv_http *h, int64_t timeout_ms)
{
    if (!h)
        return;
    /* From now on no request goes to the pool, which stops after this. */
    pthread_mutex_lock(&h->olock);
    h->inline_only = 1;
    pthread_mutex_unlock(&h->olock);
    int64_t deadline = sv_mono_ms() + timeout_ms;
    struct timespec ts = {0, 5 * 1000000L};
    /* Woken streams end at once; one still writing to a slow client is cut
     * by the stop after the bound. */
    while ((atomic_load(&h->parked) > 0 || atomic_load(&h->streams) > 0) && sv_mono_ms() < deadline)
        nanosleep(&ts, NULL);
    /* Handlers on the pool end within the store's timeout per round trip;
     * their connections must be theirs until then, whatever the bound. */
    while (atomic_load(&h->offered) > 0)
        nanosleep(&ts, NULL);
}

void sv_http_wake(void *conn)
{
    MHD_resume_connection(conn);
}

static MHD_Result send_error(struct MHD_Connection *conn, int status, const char *code,
                             const char *message)
{
    sv_resp resp = {0};
    sv_resp_error(&resp, status, code, message, NULL);
    return send_resp(conn, &resp);
}

/* Bearer check in constant time against every key (auth.h); /healthz stays
 * open for probes, and the console's static files (/ui/) for browsers: they
 * hold no data, and every API call the page makes carries the key.  The key
 * that matched in *key. */
static int authorized(sv_http *h, struct MHD_Connection *conn, const char *url,
                      const sv_auth_key **key)
{
    *key = NULL;
    if (!h->auth || strcmp(url, "/healthz") == 0 || strcmp(url, "/ui") == 0 ||
        strncmp(url, "/ui/", 4) == 0)
        return 1;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *tok = auth + 7;
    while (*tok == ' ')
        tok++;
    *key = sv_auth_match(h->auth, tok);
    return *key != NULL;
}

static MHD_Result handle_here(sv_http *h, sv_conn_state *st, struct MHD_Connection *conn,
                              const char *method, const char *url);

/* The request as the handler sees it, and its answer in resp: on the HTTP
 * thread or, offloaded, on a pool thread. */
static void run_handler(sv_http *h, sv_conn_state *st, struct MHD_Connection *conn,
                        const char *method, const char *url, sv_resp *resp)
{
    sv_req req = {.conn = conn,
                  .method = method,
                  .path = url,
                  .body = st->buf ? st->buf : "",
                  .body_len = st->len,
                  .park_deadline = &st->park_deadline,
                  .http = h,
                  .state = st,
                  .key = st->key};
    h->cfg.handler(h->cfg.app, &req, resp);
}

/* On a pool thread: the handler of an offloaded request. */
static void offload_task(sv_pool_task *t)
{
    sv_conn_state *st = (sv_conn_state *)((char *)t - offsetof(sv_conn_state, task));
    sv_http *h = st->h;
    sv_resp resp = {.status = 500};
    run_handler(h, st, st->conn, st->method, st->url, &resp);
    int resume = 1;
    pthread_mutex_lock(&h->olock);
    if (resp.parked) {
        /* Waits on, suspended: its waker resumes it, and the handler runs
         * again; a wake that came meanwhile is passed on now. */
        resp_clear(&resp);
        st->phase = OFF_IDLE;
        resume = st->rewake;
    } else {
        if (!resp.body && !resp.text && !resp.json_text && !resp.is_file && !resp.stream)
            sv_resp_error(&resp, 500, "internal", "the handler produced no answer", NULL);
        st->answer = resp;
        st->phase = OFF_READY;
    }
    st->rewake = 0;
    pthread_mutex_unlock(&h->olock);
    atomic_fetch_sub(&h->offered, 1);
    if (resume)
        MHD_resume_connection(st->conn);
}

/* On the HTTP thread: hand the request to the pool, or send the answer the
 * pool made.  The connection stays suspended while its handler runs. */
static MHD_Result offload(sv_http *h, sv_conn_state *st, struct MHD_Connection *conn,
                          const char *method, const char *url)
{
    pthread_mutex_lock(&h->olock);
    int phase = st->phase;
    if (phase == OFF_IDLE && h->inline_only) {
        pthread_mutex_unlock(&h->olock);
        return handle_here(h, st, conn, method, url);
    }
    if (phase == OFF_READY) {
        st->phase = OFF_IDLE;
    } else if (phase == OFF_RUNNING) {
        /* Woken (a parked wait ended) before its handler returned. */
        st->rewake = 1;
        MHD_suspend_connection(conn);
    } else {
        st->phase = OFF_RUNNING;
        st->h = h;
        st->conn = conn;
        st->method = method;
        st->url = url;
        st->task.fn = offload_task;
        atomic_fetch_add(&h->offered, 1);
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&h->olock);
    if (phase == OFF_READY) {
        sv_resp resp = st->answer;
        memset(&st->answer, 0, sizeof st->answer);
        return send_resp(conn, &resp);
    }
    if (phase == OFF_IDLE)
        sv_pool_submit(h->cfg.offload, &st->task, 1);
    return MHD_YES;
}

static MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    sv_http *h = cls;
    sv_conn_state *st = *con_cls;
    (void)version;
    if (!st) {
        /* Headers only: decide what can be decided before reading a body. */
        const sv_auth_key *key = NULL;
        if (!authorized(h, conn, url, &key))
            return send_error(conn, 401, "unauthorized",
                              "missing or wrong Authorization: Bearer <SUPERVISOR_INTERNAL_KEY>");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > h->cfg.max_body_bytes) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body is larger than the limit of %lld bytes",
                     (long long)h->cfg.max_body_bytes);
            return send_error(conn, 413, "body_too_large", msg);
        }
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->key = key;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (st->too_large || st->len + n > (size_t)h->cfg.max_body_bytes) {
            st->too_large = 1; /* keep reading and dropping; answer at the end */
            return MHD_YES;
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap : 4096;
            while (cap < st->len + n + 1)
                cap *= 2;
            char *b = realloc(st->buf, cap);
            if (!b)
                return MHD_NO;
            st->buf = b;
            st->cap = cap;
        }
        memcpy(st->buf + st->len, upload, n);
        st->len += n;
        st->buf[st->len] = '\0';
        return MHD_YES;
    }
    if (st->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is larger than the limit of %lld bytes",
                 (long long)h->cfg.max_body_bytes);
        return send_error(conn, 413, "body_too_large", msg);
    }
    if (h->cfg.offload && strcmp(url, "/healthz") != 0)
        return offload(h, st, conn, method, url);
    return handle_here(h, st, conn, method, url);
}

/* Run the handler on the HTTP thread and answer (or park). */
static MHD_Result handle_here(sv_http *h, sv_conn_state *st, struct MHD_Connection *conn,
                              const char *method, const char *url)
{
    sv_resp resp = {.status = 500};
    run_handler(h, st, conn, method, url, &resp);
    if (resp.parked) {
        resp_clear(&resp);
        return MHD_YES; /* called again once woken */
    }
    if (!resp.body && !resp.text && !resp.json_text && !resp.is_file && !resp.stream)
        sv_resp_error(&resp, 500, "internal", "the handler produced no answer", NULL);
    return send_resp(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    sv_http *h = cls;
    (void)conn;
    (void)toe;
    sv_conn_state *st = *con_cls;
    if (st) {
        if (st->counted)
            atomic_fetch_sub(&h->parked, 1);
        resp_clear(&st->answer); /* an answer made but never sent */
        free(st->buf);
        free(st);
    }
    *con_cls = NULL;
}

/* Connections open now, and how many may be (sv_http_start): for /metrics,
 * and for the line that says the limit was reached.  One transport per
 * process. */
static atomic_uint g_conns;
static unsigned g_conn_limit;
static sv_ratelimit g_limit_log = SV_RATELIMIT_INITIALIZER(1000);

/* At the limit libmicrohttpd stops accepting, silently: new connections
 * wait in the kernel's listen backlog.  Say so, once a second at most. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode what)
{
    uint64_t held = 0;
    (void)cls;
    (void)conn;
    (void)socket_ctx;
    if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&g_conns, 1);
        return;
    }
    unsigned n = atomic_fetch_add(&g_conns, 1) + 1;
    if (n < g_conn_limit || !sv_ratelimit_pass(&g_limit_log, sv_mono_ms(), &held))
        return;
    json_object *f = json_object_new_object();
    json_object_object_add(f, "connections", json_object_new_int64(n));
    json_object_object_add(f, "max_connections", json_object_new_int64(g_conn_limit));
    if (held > 0)
        json_object_object_add(f, "suppressed", json_object_new_int64((int64_t)held));
    sv_log(SV_LEVEL_WARN,
           "HTTP connection limit reached (MAX_CONNECTIONS): new connections wait in the "
           "kernel's listen backlog until one closes (idle ones close after "
           "CONNECTION_TIMEOUT_SEC)",
           f);
}

unsigned sv_http_connections(unsigned *limit)
{
    *limit = g_conn_limit;
    return atomic_load(&g_conns);
}

/* libmicrohttpd's complaints come once per refused connection in a flood:
 * a line a second at most, with the count of those held back. */
static sv_ratelimit g_mhd_log = SV_RATELIMIT_INITIALIZER(1000);

/* libmicrohttpd's own complaints go through the JSON logger too. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    uint64_t held = 0;
    (void)cls;
    if (!sv_ratelimit_pass(&g_mhd_log, sv_mono_ms(), &held))
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    json_object *f = json_object_new_object();
    json_object_object_add(f, "component", json_object_new_string("libmicrohttpd"));
    if (held > 0)
        json_object_object_add(f, "suppressed", json_object_new_int64((int64_t)held));
    sv_log(SV_LEVEL_WARN, msg, f);
}

int sv_http_start(const sv_http_cfg *cfg, sv_http **out)
{
    int rc = 0;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa;
    /* ITC lets sv_http_quiesce stop accepting while requests finish, and a
     * woken request be handled at once. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    sv_http *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h)
        return -ENOMEM;
    h->cfg = *cfg;
    atomic_init(&h->parked, 0);
    atomic_init(&h->offered, 0);
    atomic_init(&h->streams, 0);
    pthread_mutex_init(&h->olock, NULL);
    char why[384];
    rc = sv_auth_parse(cfg->internal_key, &h->auth, why, sizeof why); /* checked by config.c */
    if (rc < 0)
        goto out;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, cfg->host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, cfg->host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        rc = -EINVAL;
        goto out;
    }
    /* MHD_USE_EPOLL is an enum constant, not a macro: ask the library.
     * Without it the polling thread looks at every connection on every
     * event (poll), and select() stops at 1024 descriptors. */
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    else if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
        flags |= MHD_USE_POLL;
    unsigned conns = cfg->max_connections ? cfg->max_connections : 10000;
    unsigned idle = cfg->idle_timeout_sec ? cfg->idle_timeout_sec : 60;
    if (!cfg->side) /* the API's transport: the one /metrics counts */
        g_conn_limit = conns = sv_nofile_raise(conns);
    h->d = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, h, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, cfg->side ? NULL : on_connection, h,
        MHD_OPTION_CONNECTION_TIMEOUT, idle, MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_END);
    if (!h->d) {
        rc = -EADDRINUSE;
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->port;
out:
    if (rc < 0) {
        sv_auth_free(h->auth);
        free(h);
        h = NULL;
    }
    *out = h;
    return rc;
}

int sv_http_port(const sv_http *h)
{
    return h->port;
}

void sv_http_quiesce(sv_http *h)
{
    if (!h || !h->d)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void sv_http_stop(sv_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    sv_auth_free(h->auth);
    pthread_mutex_destroy(&h->olock);
    free(h);
}
