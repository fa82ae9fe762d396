/*
 * gateway.c - tool calls to the router (CONTRACT §3): the request body, the
 * retry policy, and one log line plus one on_attempt report per attempt.  The
 * transfer itself (per-thread curl handles, cancel, deadline) is in
 * gateway_http.c.
 */
#include "gateway.h"
#include "gateway_http.h"
#include "pool.h"
#include "log.h"
#include "metrics_hist.h"
#include "trace.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A router asking for a longer pause than this is as good as down: waiting
 * would only hold a worker thread. */
#define SV_GW_MAX_RETRY_AFTER_MS 60000
/* Retry-After delta-seconds beyond this are clamped (no overflow). */
#define SV_GW_RETRY_AFTER_SEC_MAX 1000000000LL

struct sv_gateway {
    char *url;  /* base_url + "/v1/tools/execute" */
    char *auth; /* "Authorization: Bearer <key>" or NULL */
    int64_t timeout_ms;
    int max_attempts;
    int64_t base_ms, cap_ms;
    atomic_uint_fast64_t n_ok, n_failed, n_error, total_ms;
};

/* What became of one attempt, in the terms of sv_gw_attempt and sv_error. */
enum verdict_kind { V_OK, V_FAIL, V_RETRY, V_CANCEL };

struct verdict {
    enum verdict_kind kind;
    const char *status; /* sv_gw_attempt.status */
    int http;
    char code[64];
    char message[256];
    char last[96]; /* the failure in a few words, for the "retries spent" message */
    int timed_out;
    int64_t retry_after_ms; /* -1 none */
    json_object *data;      /* V_OK: the answer's data (new reference) */
};

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

/* Copy src as one line of valid UTF-8: control characters become spaces and a
 * cut never splits a multi-byte sequence (the message ends up in JSON). */
static void copy_line(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    for (; src && src[n] && n + 1 < size; n++) {
        unsigned char ch = (unsigned char)src[n];
        dst[n] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    if (src && src[n]) {
        /* Truncated: drop a trailing partial sequence. */
        size_t k = n;
        while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0) {
            unsigned char lead = (unsigned char)dst[k - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (n - (k - 1) < need)
                n = k - 1;
        }
    }
    dst[n] = '\0';
}

static void err_set(sv_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_set(sv_error *err, const char *code, const char *fmt, ...)
{
    if (!err)
        return;
    /* Larger than the message so that copy_line does the cutting. */
    char msg[2 * sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    copy_line(err->code, sizeof err->code, code);
    copy_line(err->message, sizeof err->message, msg);
    err->field[0] = '\0';
}

int64_t sv_backoff_delay_ms(int retry, int64_t base_ms, int64_t cap_ms, double unit)
{
    if (base_ms < 0)
        base_ms = 0;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    /* Doubling stops at the cap, so any retry number is safe. */
    int64_t step = base_ms;
    for (int i = 1; i < retry && step < cap_ms; i++)
        step = step > cap_ms / 2 ? cap_ms : step * 2;
    if (step > cap_ms)
        step = cap_ms;
    if (!(unit >= 0.0))
        unit = 0.0;
    if (unit >= 1.0)
        unit = 0.999999;
    return step / 2 + (int64_t)(unit * (double)step / 2.0);
}

int64_t sv_retry_after_ms(const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    char buf[128];
    copy_line(buf, sizeof buf, value);
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == ' ')
        buf[--len] = '\0';
    if (len == 0)
        return -1;
    if (strspn(buf, "0123456789") == len) {
        int64_t secs = 0;
        for (size_t i = 0; i < len && secs < SV_GW_RETRY_AFTER_SEC_MAX; i++)
            secs = secs * 10 + (buf[i] - '0');
        if (secs > SV_GW_RETRY_AFTER_SEC_MAX)
            secs = SV_GW_RETRY_AFTER_SEC_MAX;
        return secs * 1000;
    }
    /* curl_getdate is lenient; an HTTP date always names a weekday or month,
     * so insist on a letter to keep "-5" or "1.5" from meaning something. */
    if (strspn(buf, "0123456789+-. ") == len)
        return -1;
    time_t t = curl_getdate(buf, NULL);
    if (t == (time_t)-1)
        return -1;
    /* A date far off is as far as a delta may say; one long past is now:
     * either way its milliseconds must not overflow. */
    if ((int64_t)t > now_ms / 1000 + SV_GW_RETRY_AFTER_SEC_MAX)
        return SV_GW_RETRY_AFTER_SEC_MAX * 1000;
    if ((int64_t)t < now_ms / 1000)
        return 0;
    int64_t ms = (int64_t)t * 1000 - now_ms;
    return ms > 0 ? ms : 0;
}

int sv_gateway_new(const sv_gateway_cfg *cfg, sv_gateway **out)
{
    int rc = 0;
    sv_gateway *gw = NULL;
    if (!cfg || !out || !cfg->base_url)
        return -EINVAL;
    *out = NULL;
    if ((strncmp(cfg->base_url, "http://", 7) != 0 && strncmp(cfg->base_url, "https://", 8) != 0) ||
        has_crlf(cfg->base_url) || has_crlf(cfg->api_key))
        return -EINVAL;
    rc = sv_gw_http_global_init();
    if (rc < 0)
        return rc;

    gw = calloc(1, sizeof *gw);
    if (!gw) {
        rc = -ENOMEM;
        goto out;
    }
    atomic_init(&gw->n_ok, 0);
    atomic_init(&gw->n_failed, 0);
    atomic_init(&gw->n_error, 0);
    atomic_init(&gw->total_ms, 0);
    size_t blen = strlen(cfg->base_url);
    while (blen > 0 && cfg->base_url[blen - 1] == '/')
        blen--;
    if (asprintf(&gw->url, "%.*s/v1/tools/execute", (int)blen, cfg->base_url) < 0) {
        gw->url = NULL;
        rc = -ENOMEM;
        goto out;
    }
    if (cfg->api_key && cfg->api_key[0] &&
        asprintf(&gw->auth, "Authorization: Bearer %s", cfg->api_key) < 0) {
        gw->auth = NULL;
        rc = -ENOMEM;
        goto out;
    }
    gw->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    gw->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 4;
    gw->base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : 200;
    gw->cap_ms = cfg->backoff_cap_ms > 0 ? cfg->backoff_cap_ms : 5000;
    if (gw->cap_ms < gw->base_ms)
        gw->cap_ms = gw->base_ms;
    *out = gw;
    gw = NULL;
out:
    sv_gateway_free(gw);
    return rc;
}

void sv_gateway_free(sv_gateway *gw)
{
    if (!gw)
        return;
    if (gw->auth) {
        /* The key should not outlive the client in freed heap memory. */
        explicit_bzero(gw->auth, strlen(gw->auth));
        free(gw->auth);
    }
    free(gw->url);
    free(gw);
}

void sv_gateway_thread_cleanup(void)
{
    sv_gw_http_thread_cleanup();
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* The body without the attempt number; *attempt is the member to update. */
static json_object *body_new(const sv_gw_call *c, json_object **attempt)
{
    json_object *b = json_object_new_object();
    json_object *meta = json_object_new_object();
    *attempt = json_object_new_int(1);
    if (!b || !meta || !*attempt) {
        json_object_put(b);
        json_object_put(meta);
        json_object_put(*attempt);
        return NULL;
    }
    json_object_object_add(b, "tool", str_or_null(c->tool));
    json_object_object_add(b, "action", str_or_null(c->action));
    json_object_object_add(b, "params",
                           c->params ? json_object_get(c->params) : json_object_new_object());
    json_object_object_add(b, "workspace_id", str_or_null(c->workspace_id));
    json_object_object_add(b, "user_id", str_or_null(c->user_id));
    json_object_object_add(b, "agent_id", str_or_null(c->agent_id));
    json_object_object_add(meta, "graph_run_id", str_or_null(c->run_id));
    json_object_object_add(meta, "graph", str_or_null(c->graph));
    json_object_object_add(meta, "node", str_or_null(c->node));
    json_object_object_add(meta, "call_id", str_or_null(c->call_id));
    json_object_object_add(meta, "attempt", *attempt);
    json_object_object_add(b, "metadata", meta);
    return b;
}

/* Parse a whole buffer as JSON; NULL unless it is one value and nothing else. */
static json_object *parse_all(const char *buf, size_t len)
{
    if (len == 0 || len > (size_t)INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    if (o && json_tokener_get_error(tok) == json_tokener_success) {
        size_t end = json_tokener_get_parse_end(tok);
        for (; end < len; end++) {
            if (!strchr(" \t\r\n", buf[end])) {
                json_object_put(o);
                o = NULL;
                break;
            }
        }
    } else {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The router's own words about an HTTP error, whatever its error shape. */
static const char *router_message(json_object *body)
{
    json_object *e = NULL;
    const char *m = NULL;
    if (json_object_object_get_ex(body, "error", &e) && (m = get_str(e, "message")))
        return m;
    if ((m = get_str(body, "error")) || (m = get_str(body, "detail")) ||
        (m = get_str(body, "message")))
        return m;
    return NULL;
}

static void verdict_200(struct verdict *v, const struct sv_gw_xfer *x)
{
    json_object *body = parse_all(x->resp, x->resp_len);
    const char *status = get_str(body, "status");
    if (status && strcmp(status, "succeeded") == 0) {
        json_object *d = NULL;
        v->kind = V_OK;
        v->status = "succeeded";
        if (json_object_object_get_ex(body, "data", &d))
            v->data = json_object_get(d);
    } else if (status && strcmp(status, "failed") == 0) {
        json_object *e = NULL;
        json_object_object_get_ex(body, "error", &e);
        const char *code = get_str(e, "code");
        const char *msg = get_str(e, "message");
        v->kind = V_FAIL;
        v->status = "failed";
        copy_line(v->code, sizeof v->code, code && code[0] ? code : "tool_failed");
        copy_line(v->message, sizeof v->message,
                  msg && msg[0] ? msg : "the router reported a failure without a message");
    } else {
        v->kind = V_FAIL;
        v->status = "failed";
        snprintf(v->code, sizeof v->code, "bad_response");
        if (body)
            snprintf(v->message, sizeof v->message,
                     "router answered 200 without a known \"status\"");
        else
            snprintf(v->message, sizeof v->message,
                     "router answered 200 with a body that is not JSON (%zu bytes)", x->resp_len);
    }
    json_object_put(body);
}

static void verdict_http(struct verdict *v, const struct sv_gw_xfer *x, int64_t now_ms)
{
    static const struct {
        int http;
        const char *code;
    } final[] = {{400, "bad_request"},
                 {401, "unauthorized"},
                 {403, "forbidden"},
                 {404, "not_found"},
                 {413, "too_large"}};
    v->status = "failed";
    snprintf(v->last, sizeof v->last, "HTTP %d", v->http);
    if (v->http == 429 || v->http == 500 || v->http == 502 || v->http == 503 || v->http == 504) {
        v->kind = V_RETRY;
        snprintf(v->code, sizeof v->code, "unavailable");
        v->retry_after_ms = x->retry_after[0] ? sv_retry_after_ms(x->retry_after, now_ms) : -1;
        return;
    }
    v->kind = V_FAIL;
    snprintf(v->code, sizeof v->code, "http_%d", v->http);
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        if (final[i].http == v->http)
            snprintf(v->code, sizeof v->code, "%s", final[i].code);
    json_object *body = parse_all(x->resp, x->resp_len);
    const char *rm = router_message(body);
    if (rm && !rm[0])
        rm = NULL; /* "" says nothing */
    char said[161];
    copy_line(said, sizeof said, rm ? rm : "");
    snprintf(v->message, sizeof v->message, "router answered HTTP %d (%s)%s%s", v->http, v->code,
             rm ? ": " : "", said);
    json_object_put(body);
}

static void verdict_transport(struct verdict *v, const struct sv_gw_xfer *x, int64_t timeout_ms)
{
    v->status = "error";
    switch (x->cc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        /* Nothing a retry could change. */
        v->kind = V_FAIL;
        snprintf(v->code, sizeof v->code, "unavailable");
        snprintf(v->message, sizeof v->message, "cannot call the router: %s",
                 curl_easy_strerror(x->cc));
        return;
    case CURLE_OPERATION_TIMEDOUT:
        v->timed_out = 1;
        snprintf(v->last, sizeof v->last, "no answer within %lld ms", (long long)timeout_ms);
        snprintf(v->code, sizeof v->code, "timeout");
        break;
    default:
        snprintf(v->last, sizeof v->last, "%s", curl_easy_strerror(x->cc));
        snprintf(v->code, sizeof v->code, "unavailable");
        break;
    }
    v->kind = V_RETRY;
}

/* Judge one finished transfer. */
static void judge(struct verdict *v, const struct sv_gw_xfer *x, int64_t timeout_ms)
{
    memset(v, 0, sizeof *v);
    v->retry_after_ms = -1;
    v->http = (int)x->http;
    if (x->end == SV_GW_XFER_CANCELLED) {
        v->kind = V_CANCEL;
        v->status = "error";
        snprintf(v->code, sizeof v->code, "cancelled");
        return;
    }
    if (x->end == SV_GW_XFER_TIMEOUT) {
        v->http = 0;
        verdict_transport(v, &(struct sv_gw_xfer){.cc = CURLE_OPERATION_TIMEDOUT}, timeout_ms);
        return;
    }
    if (x->overflow) {
        v->kind = V_FAIL;
        v->status = "failed";
        snprintf(v->code, sizeof v->code, "bad_response");
        snprintf(v->message, sizeof v->message, "router answer larger than %u bytes",
                 SV_GW_MAX_RESPONSE);
        return;
    }
    if (x->cc != CURLE_OK) {
        v->http = 0;
        verdict_transport(v, x, timeout_ms);
        return;
    }
    if (v->http == 200)
        verdict_200(v, x);
    else
        verdict_http(v, x, sv_now_ms());
}

int sv_gateway_judge(long http_status, const char *body, size_t len, const char *retry_after,
                     json_object **data, sv_error *err, int64_t *retry_after_ms)
{
    struct sv_gw_xfer x = {.resp = (char *)body,
                           .resp_len = len,
                           .overflow = len > SV_GW_MAX_RESPONSE,
                           .end = SV_GW_XFER_DONE,
                           .cc = CURLE_OK,
                           .http = http_status};
    struct verdict v;
    if (retry_after)
        snprintf(x.retry_after, sizeof x.retry_after, "%s", retry_after);
    judge(&v, &x, 0);
    *data = NULL;
    *retry_after_ms = v.retry_after_ms;
    if (v.kind == V_OK) {
        *data = v.data;
        return SV_OK;
    }
    if (v.kind == V_RETRY)
        return -EAGAIN;
    err_set(err, v.code, "%s", v.message);
    return SV_ETOOL;
}

static void report(const sv_gw_call *c, int attempt, const struct verdict *v,
                   const struct sv_gw_xfer *x, const char *req, size_t req_len)
{
    sv_gw_attempt a = {.attempt = attempt,
                       .status = v->status,
                       .http_status = v->http,
                       .error_code = v->kind == V_OK ? NULL : v->code,
                       .duration_ms = x->duration_ms,
                       .request_bytes = req_len,
                       .response_bytes = x->resp_len};
    sv_sha256_hex(req, req_len, a.request_sha256);
    sv_sha256_hex(x->resp ? x->resp : "", x->resp_len, a.response_sha256);
    if (c->on_attempt)
        c->on_attempt(c->arg, &a);
    if (!sv_log_enabled(SV_LEVEL_INFO))
        return;
    /* Names, hashes, sizes and timings only: never params, data or the key. */
    json_object *f = json_object_new_object();
    json_object_object_add(f, "run_id", str_or_null(c->run_id));
    json_object_object_add(f, "node", str_or_null(c->node));
    json_object_object_add(f, "tool", str_or_null(c->tool));
    json_object_object_add(f, "action", str_or_null(c->action));
    json_object_object_add(f, "call_id", str_or_null(c->call_id));
    if (c->trace_id)
        json_object_object_add(f, "trace_id", json_object_new_string(c->trace_id));
    json_object_object_add(f, "span_id", str_or_null(c->span_id));
    json_object_object_add(f, "attempt", json_object_new_int(attempt));
    json_object_object_add(f, "status", json_object_new_string(a.status));
    json_object_object_add(f, "http_status", json_object_new_int(a.http_status));
    json_object_object_add(f, "duration_ms", json_object_new_int64(a.duration_ms));
    json_object_object_add(f, "request_sha256", json_object_new_string(a.request_sha256));
    json_object_object_add(f, "request_bytes", json_object_new_int64((int64_t)a.request_bytes));
    json_object_object_add(f, "response_sha256", json_object_new_string(a.response_sha256));
    json_object_object_add(f, "response_bytes", json_object_new_int64((int64_t)a.response_bytes));
    json_object_object_add(f, "error_code", str_or_null(a.error_code));
    sv_log(SV_LEVEL_INFO, "tool_call", f);
}

static void count(sv_gateway *gw, const struct verdict *v, const struct sv_gw_xfer *x)
{
    atomic_uint_fast64_t *n = strcmp(v->status, "succeeded") == 0 ? &gw->n_ok
                              : strcmp(v->status, "failed") == 0  ? &gw->n_failed
                                                                  : &gw->n_error;
    atomic_fetch_add_explicit(n, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&gw->total_ms,
                              (uint_fast64_t)(x->duration_ms > 0 ? x->duration_ms : 0),
                              memory_order_relaxed);
}

void sv_gateway_stats(sv_gateway *gw, sv_gw_stats *out)
{
    out->succeeded = atomic_load_explicit(&gw->n_ok, memory_order_relaxed);
    out->failed = atomic_load_explicit(&gw->n_failed, memory_order_relaxed);
    out->error = atomic_load_explicit(&gw->n_error, memory_order_relaxed);
    out->duration_ms = atomic_load_explicit(&gw->total_ms, memory_order_relaxed);
}

static int cancel_requested(const sv_gw_call *c)
{
    return c->cancel && atomic_load(c->cancel) != 0;
}

/* Sleep ms in short slices so a cancel is seen within one slice. */
static int backoff_sleep(const sv_gw_call *c, int64_t ms)
{
    int64_t end = sv_mono_ms() + ms;
    int rc = 0;
    /* The wait holds no CPU slot (pool.h): other runs execute meanwhile. */
    sv_pool_block_begin(SV_POOL_WAIT_ROUTER);
    for (;;) {
        if (cancel_requested(c)) {
            rc = SV_ECANCELLED;
            break;
        }
        int64_t left = end - sv_mono_ms();
        if (left <= 0)
            break;
        if (left > SV_GW_SLICE_MS)
            left = SV_GW_SLICE_MS;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
    sv_pool_block_end();
    return rc;
}

static int call_cancelled(const sv_gw_call *c, sv_error *err)
{
    if (cancel_requested(c))
        err_set(err, "cancelled", "tool call %s/%s cancelled", c->tool, c->action);
    else
        err_set(err, "cancelled", "tool call %s/%s stopped at its deadline", c->tool, c->action);
    return SV_ECANCELLED;
}

int sv_gateway_call(sv_gateway *gw, const sv_gw_call *call, json_object **data, sv_error *err)
{
    int rc = SV_ETOOL;
    json_object *body = NULL, *attempt_no = NULL;
    struct sv_gw_xfer x = {0};
    struct verdict v = {0};

    if (data)
        *data = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    if (!gw || !call || !call->tool || !call->action || has_crlf(call->call_id)) {
        err_set(err, "bad_request", "tool call without a tool, an action or a valid call id");
        return SV_EINVAL;
    }
    /* /metrics times the logical call, retries and backoff included: what
     * the node waited (one attempt's time is in the tool_call log line). */
    int64_t t0 = sv_mono_us();
    const char *outcome = "error";
    body = body_new(call, &attempt_no);
    if (!body) {
        err_set(err, "unavailable", "out of memory building the tool call");
        return SV_ENOMEM;
    }
    /* One span per logical call: its retries are the same call (the same
     * X-Request-Id), so the router sees them as one span of the run. */
    char tp[SV_TRACEPARENT_LEN + 8];
    int with_tp = call->trace_id && call->span_id && sv_trace_id_valid(call->trace_id) &&
                  strlen(call->span_id) == 16;
    if (with_tp)
        snprintf(tp, sizeof tp, "00-%s-%s-%02x", call->trace_id, call->span_id,
                 call->trace_flags & 0xffu);
    rc = sv_gw_http_headers(&x, gw->auth, call->call_id, with_tp ? tp : NULL);
    if (rc < 0) {
        err_set(err, "unavailable", "out of memory building the tool call");
        rc = SV_ENOMEM;
        goto out;
    }

    for (int attempt = 1;; attempt++) {
        int64_t now = sv_mono_ms();
        if (cancel_requested(call) ||
            (call->deadline_mono_ms > 0 && now >= call->deadline_mono_ms)) {
            rc = call_cancelled(call, err);
            goto out;
        }
        if (attempt > 1) {
            const char *lv[] = {call->tool, call->action};
            sv_mfam_add(&sv_mfam_tool_call_retries, lv, 1);
        }
        int64_t limit = gw->timeout_ms;
        if (call->deadline_mono_ms > 0 && call->deadline_mono_ms - now < limit)
            limit = call->deadline_mono_ms - now;

        /* Re-serialised each time: the attempt number is part of the body. */
        json_object_set_int(attempt_no, attempt);
        size_t req_len = 0;
        const char *req = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &req_len);
        if (!req) {
            err_set(err, "unavailable", "out of memory building the tool call");
            rc = SV_ENOMEM;
            goto out;
        }
        sv_gw_http_perform(gw->url, req, req_len, now + limit, call->deadline_mono_ms, call->cancel,
                           &x);
        judge(&v, &x, limit);
        report(call, attempt, &v, &x, req, req_len);
        count(gw, &v, &x);
        outcome = v.status;

        if (v.kind == V_OK) {
            if (data)
                *data = v.data;
            else
                json_object_put(v.data);
            rc = SV_OK;
            goto out;
        }
        if (v.kind == V_CANCEL) {
            rc = call_cancelled(call, err);
            goto out;
        }
        if (v.kind == V_FAIL) {
            err_set(err, v.code, "%s", v.message);
            rc = SV_ETOOL;
            goto out;
        }
        const char *what = v.timed_out ? "timed out" : "unavailable";
        if (attempt >= gw->max_attempts) {
            err_set(err, v.code, "router %s after %d attempt%s (last: %s)", what, attempt,
                    attempt == 1 ? "" : "s", v.last);
            rc = SV_ETOOL;
            goto out;
        }
        int64_t delay = sv_backoff_delay_ms(attempt, gw->base_ms, gw->cap_ms, sv_rand_unit());
        if (v.retry_after_ms > delay)
            delay = v.retry_after_ms;
        if (v.retry_after_ms > SV_GW_MAX_RETRY_AFTER_MS ||
            (call->deadline_mono_ms > 0 && sv_mono_ms() + delay >= call->deadline_mono_ms)) {
            /* The next attempt could not start in time: say what happened now
             * rather than hold the thread until the deadline. */
            err_set(err, v.code,
                    "router %s after %d attempt%s (last: %s; next retry in %lld ms %s)", what,
                    attempt, attempt == 1 ? "" : "s", v.last, (long long)delay,
                    v.retry_after_ms > SV_GW_MAX_RETRY_AFTER_MS ? "is too far off"
                                                                : "would pass the deadline");
            rc = SV_ETOOL;
            goto out;
        }
        if (backoff_sleep(call, delay) < 0) {
            rc = call_cancelled(call, err);
            goto out;
        }
    }
out : {
    const char *lv[] = {call->tool, call->action, rc == SV_ECANCELLED ? "cancelled" : outcome};
    sv_mfam_observe(&sv_mfam_tool_call_duration, lv, sv_mono_us() - t0);
}
    sv_gw_http_xfer_free(&x);
    json_object_put(body);
    return rc;
}
