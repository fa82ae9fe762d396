/* sim_server.c - libmicrohttpd front of the router simulator.
 *
 * One request's life: the body is collected (up to SIM_BODY_LIMIT), the answer is
 * chosen, the request is recorded at once (so a test sees a call that is still
 * waiting out its latency), the latency is waited out, and the answer is sent. */
#include "sim_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sim_json.h"
#include "sim_rules.h"
#include "sim_template.h"

struct sim_server {
    struct MHD_Daemon *mhd;
    struct sim_server_config cfg;
    struct sim_counters *counters;
    /* Latency waits sleep on cond so that shutdown can wake them at once. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
    long in_flight; /* tool calls between arrival and answer (under lock) */
};

/* One request being received. */
struct sim_conn {
    char *buf; /* NUL-terminated body received so far */
    size_t len, cap;
    size_t received; /* all body bytes, including those dropped past the limit */
};

/* The answer chosen for a request. */
struct sim_answer {
    unsigned int status;
    const char *body; /* borrowed from the scenario, or owned (below) */
    size_t len;
    char *owned;
    const char *retry_after;
    int64_t latency_ms;
    long rule;
};

static int64_t sim_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep the body up to the limit; past it only count, so the 413 can say how much. */
static int sim_conn_append(struct sim_conn *c, const char *data, size_t n)
{
    size_t cap;
    char *nb;

    c->received += n;
    if (c->received > SIM_BODY_LIMIT) {
        free(c->buf);
        c->buf = NULL;
        c->len = c->cap = 0;
        return 0;
    }
    if (c->len + n + 1 > c->cap) {
        cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        nb = realloc(c->buf, cap);
        if (!nb)
            return -ENOMEM;
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return 0;
}

/* Set ans to a simulator-generated error (no rule, no latency). */
static void sim_answer_error(struct sim_answer *ans, unsigned int status, const char *code,
                             const char *message)
{
    free(ans->owned);
    ans->owned = sim_json_error_body(code, message, &ans->len);
    ans->body = ans->owned;
    ans->status = status;
    ans->latency_ms = 0;
    ans->retry_after = NULL;
    ans->rule = -1;
}

/* Does the Authorization header carry the expected key? */
static int sim_auth_ok(const char *header, const char *key)
{
    static const char scheme[] = "Bearer ";

    /* The scheme name is case-insensitive (RFC 9110); the key is not. */
    if (!header || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
        return 0;
    return strcmp(header + sizeof(scheme) - 1, key) == 0;
}

/* A string member of obj, or NULL when absent or of another type. */
static const char *sim_member_string(json_object *obj, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Choose the scenario's answer to a well-formed tool call. */
static int sim_answer_rule(struct sim_server *s, json_object *req, struct sim_answer *ans)
{
    const struct sim_scenario *sc = s->cfg.scenario;
    const struct sim_response *resp;
    json_object *params = NULL, *meta = NULL;
    const char *run_id = NULL;
    int64_t latency = sc->latency_ms;
    uint64_t n = 0;
    int rc = 0;

    json_object_object_get_ex(req, "params", &params);
    if (json_object_object_get_ex(req, "metadata", &meta))
        run_id = sim_member_string(meta, "graph_run_id");
    ans->rule = sim_rules_find(sc, sim_member_string(req, "tool"), sim_member_string(req, "action"),
                               params);
    if (ans->rule >= 0) {
        const struct sim_rule *rule = &sc->rules[ans->rule];
        if ((rc = sim_counters_next(s->counters, (size_t)ans->rule, run_id, &n)) < 0)
            goto out;
        resp = sim_rules_response(rule, n);
        if (rule->latency_ms != SIM_LATENCY_INHERIT)
            latency = rule->latency_ms;
    } else {
        resp = &sc->fallback;
    }
    if (resp->latency_ms != SIM_LATENCY_INHERIT)
        latency = resp->latency_ms;
    ans->status = resp->http_status;
    ans->retry_after = resp->retry_after;
    ans->latency_ms = latency;
    if (resp->templated) {
        rc = sim_template_render(resp->body, resp->body_len, req, &ans->owned, &ans->len);
        if (rc < 0)
            goto out;
        ans->body = ans->owned;
    } else {
        ans->body = resp->body;
        ans->len = resp->body_len;
    }
out:
    return rc;
}

/* POST /v1/tools/execute: limit, authentication, validation, then the scenario. */
static void sim_answer_execute(struct sim_server *s, struct MHD_Connection *conn,
                               const struct sim_conn *c, json_object *req, const char *jerr,
                               struct sim_answer *ans)
{
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char msg[256];

    if (c->received > SIM_BODY_LIMIT) {
        snprintf(msg, sizeof(msg), "request body of %zu bytes is over the limit of %d bytes",
                 c->received, SIM_BODY_LIMIT);
        sim_answer_error(ans, 413, "payload_too_large", msg);
    } else if (s->cfg.api_key && !sim_auth_ok(auth, s->cfg.api_key)) {
        sim_answer_error(ans, 401, "unauthorized",
                         auth ? "wrong API key in Authorization" : "missing Authorization: Bearer");
    } else if (jerr) {
        snprintf(msg, sizeof(msg), "body is not valid JSON: %s", jerr);
        sim_answer_error(ans, 400, "bad_request", msg);
    } else if (!json_object_is_type(req, json_type_object)) {
        sim_answer_error(ans, 400, "bad_request", "body must be a JSON object");
    } else if (!sim_member_string(req, "tool") || !*sim_member_string(req, "tool")) {
        sim_answer_error(ans, 400, "bad_request", "field \"tool\" must be a non-empty string");
    } else if (!sim_member_string(req, "action") || !*sim_member_string(req, "action")) {
        sim_answer_error(ans, 400, "bad_request", "field \"action\" must be a non-empty string");
    } else if (sim_answer_rule(s, req, ans) < 0) {
        sim_answer_error(ans, 500, "internal_error", "router-sim: out of memory");
    }
}

/* What the record shows as the body: the parsed JSON, {"_raw": text} when it is not
 * JSON, {"_too_large": true, "_bytes": n} past the limit, null when there was none.
 * A new reference, or NULL for null. */
static json_object *sim_record_body(const struct sim_conn *c, json_object *req, const char *jerr)
{
    json_object *o;

    if (c->received == 0)
        return NULL;
    if (c->received <= SIM_BODY_LIMIT && !jerr)
        return json_object_get(req);
    o = json_object_new_object();
    if (!o)
        return NULL;
    if (c->received > SIM_BODY_LIMIT) {
        json_object_object_add(o, "_too_large", json_object_new_boolean(1));
        json_object_object_add(o, "_bytes", json_object_new_int64((int64_t)c->received));
    } else {
        json_object_object_add(o, "_raw", sim_json_string_utf8(c->buf, c->len));
    }
    return o;
}

/* Wait ms milliseconds; -ECANCELED when the server started stopping meanwhile. */
static int sim_server_sleep(struct sim_server *s, int64_t ms)
{
    struct timespec deadline;
    int rc = 0;

    if (ms <= 0)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stopping)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == ETIMEDOUT)
            break;
    if (s->stopping)
        rc = -ECANCELED;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static enum MHD_Result sim_send(struct MHD_Connection *conn, const struct sim_answer *ans)
{
    struct MHD_Response *resp;
    enum MHD_Result ret = MHD_NO;

    resp = MHD_create_response_from_buffer(ans->len, (void *)ans->body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        goto out;
    /* raw_body answers claim JSON too: they exist to test malformed JSON. */
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") !=
            MHD_YES ||
        (ans->retry_after &&
         MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ans->retry_after) != MHD_YES))
        goto out;
    ret = MHD_queue_response(conn, ans->status, resp);
out:
    if (resp)
        MHD_destroy_response(resp);
    return ret;
}

/* The whole body is in: answer, record, wait, send. */
static enum MHD_Result sim_server_answer(struct sim_server *s, struct MHD_Connection *conn,
                                         const char *url, const char *method, struct sim_conn *c)
{
    struct sim_answer ans = {.rule = -1};
    struct sim_record_entry e = {.ts_ms = sim_now_ms(), .method = method, .path = url};
    json_object *req = NULL;
    char jerr_buf[160];
    const char *jerr = NULL;
    char msg[256];
    enum MHD_Result ret;

    if (c->received > 0 && c->received <= SIM_BODY_LIMIT &&
        sim_json_parse(c->buf, c->len, 1, &req, jerr_buf, sizeof(jerr_buf)) < 0)
        jerr = jerr_buf;
    if (c->received == 0)
        jerr = "empty body";

    if (strcmp(url, "/healthz") == 0 && strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
        ans.status = 200;
        ans.body = "{\"status\":\"ok\"}";
        ans.len = strlen(ans.body);
    } else if (strcmp(url, "/v1/tools/execute") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
        sim_answer_execute(s, conn, c, req, jerr, &ans);
    } else {
        snprintf(msg, sizeof(msg), "router-sim: no route for %s %s", method, url);
        sim_answer_error(&ans, 404, "not_found", msg);
    }
    if (!ans.body) {
        /* Only an allocation failure leaves no body; close rather than lie. */
        ret = MHD_NO;
        goto out;
    }

    e.authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    e.x_request_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    e.traceparent = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent");
    e.tracestate = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "tracestate");
    e.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    e.body = sim_record_body(c, req, jerr);
    e.rule = ans.rule;
    e.http_status = ans.status;
    /* How many calls the caller has open at once: what shows that a
     * supervisor does not hold one thread per call. */
    int counted = strcmp(url, "/v1/tools/execute") == 0;
    pthread_mutex_lock(&s->lock);
    if (counted)
        s->in_flight++;
    e.in_flight = s->in_flight;
    pthread_mutex_unlock(&s->lock);
    if (sim_record_write(s->cfg.record, &e) < 0)
        fprintf(stderr, "router-sim: cannot write the record file\n");
    json_object_put(e.body);

    /* Stopped while the answer was pending: drop the connection, as a router that
     * goes away mid-call would, rather than answer early. */
    if (sim_server_sleep(s, ans.latency_ms) < 0)
        ret = MHD_NO;
    else
        ret = sim_send(conn, &ans);
    pthread_mutex_lock(&s->lock);
    if (counted)
        s->in_flight--;
    pthread_mutex_unlock(&s->lock);
out:
    free(ans.owned);
    json_object_put(req);
    return ret;
}

static enum MHD_Result sim_server_access(void *cls, struct MHD_Connection *conn, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **con_cls)
{
    struct sim_server *s = cls;
    struct sim_conn *c = *con_cls;

    (void)version;
    /* First call: headers only. Keep per-request state until the body is in. */
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return MHD_NO;
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (sim_conn_append(c, upload_data, *upload_data_size) < 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return sim_server_answer(s, conn, url, method, c);
}

static void sim_server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    struct sim_conn *c = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (c) {
        free(c->buf);
        free(c);
        *con_cls = NULL;
    }
}

int sim_server_start(const struct sim_server_config *cfg, struct sim_server **out)
{
    struct sim_server *s = NULL;
    pthread_condattr_t attr;
    int rc = 0, fd = cfg->listen_fd;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    s->cfg = *cfg;
    if ((rc = sim_counters_new(&s->counters)) < 0)
        goto out;
    pthread_mutex_init(&s->lock, NULL);
    /* Latency is measured on the monotonic clock, immune to wall-clock jumps. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                  MHD_USE_AUTO,
                              0, NULL, NULL, sim_server_access, s, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_NOTIFY_COMPLETED, sim_server_completed, s, MHD_OPTION_END);
    if (!s->mhd) {
        rc = -EIO;
        goto out;
    }
    fd = -1; /* the daemon closes it when stopped */
    *out = s;
    s = NULL;
out:
    if (s) {
        if (s->counters) {
            pthread_cond_destroy(&s->cond);
            pthread_mutex_destroy(&s->lock);
        }
        sim_counters_free(s->counters);
        free(s);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

void sim_server_stop(struct sim_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    MHD_stop_daemon(s->mhd);
    sim_counters_free(s->counters);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
