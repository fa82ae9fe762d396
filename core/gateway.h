/*
 * gateway.h - the one way out of the process: tool calls to the router's
 * POST {GATEWAY_BASE_URL}/v1/tools/execute, exactly as docs/CONTRACT.md §3.
 */
#ifndef SV_GATEWAY_H
#define SV_GATEWAY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <sofiia/graph.h>

typedef struct sv_gateway_cfg {
    const char *base_url;    /* e.g. "http://router:8000", no trailing slash needed */
    const char *api_key;     /* NULL = no Authorization header; never logged */
    int64_t timeout_ms;      /* per attempt (default 30000) */
    int max_attempts;        /* including the first (default 4) */
    int64_t backoff_base_ms; /* first retry delay before jitter (default 200) */
    int64_t backoff_cap_ms;  /* largest delay (default 5000) */
} sv_gateway_cfg;

typedef struct sv_gateway sv_gateway;

/* What one attempt did, for the tool_call event (no payload content). */
typedef struct sv_gw_attempt {
    int attempt; /* 1-based */
    const char
        *status;     /* "succeeded", "failed" (router said so or HTTP error), "error" (transport) */
    int http_status; /* 0 when no HTTP answer */
    const char *error_code; /* NULL on success */
    int64_t duration_ms;
    char request_sha256[65];
    size_t request_bytes;
    char response_sha256[65];
    size_t response_bytes;
} sv_gw_attempt;

/* One logical call; every pointer is borrowed for the duration of the call. */
typedef struct sv_gw_call {
    const char *tool;
    const char *action;
    json_object *params; /* NULL = {} */
    const char *workspace_id, *user_id, *agent_id;
    const char *run_id, *graph, *node;
    const char *call_id; /* "gr_…:node:N", the same for every attempt */
    /* W3C Trace Context: the run's trace id and this call's span id (hex,
     * trace.h), sent as `traceparent: 00-<trace>-<span>-<flags>` on every
     * attempt; NULL = no header. */
    const char *trace_id, *span_id;
    unsigned trace_flags;
    int64_t deadline_mono_ms; /* 0 = none; no attempt or backoff goes past it */
    atomic_int *cancel;       /* NULL or a flag: non-zero aborts the call in flight */
    void (*on_attempt)(void *arg, const sv_gw_attempt *a); /* may be NULL */
    void *arg;
} sv_gw_call;

/* Attempts made since start, by outcome (sv_gw_attempt.status), for
 * /metrics. */
typedef struct sv_gw_stats {
    uint64_t succeeded, failed, error;
    uint64_t duration_ms; /* of all attempts */
} sv_gw_stats;
void sv_gateway_stats(sv_gateway *gw, sv_gw_stats *out);

/* Create the client; copies the strings in cfg.  0 or -errno. */
int sv_gateway_new(const sv_gateway_cfg *cfg, sv_gateway **out);
void sv_gateway_free(sv_gateway *gw);

/*
 * Make the call, retrying 429/500/502/503/504, connection failures and
 * timeouts with exponential backoff and jitter (Retry-After honoured), never
 * 400/401/403/404/413.  Returns SV_OK with *data (new reference or NULL),
 * SV_ETOOL with err filled, or SV_ECANCELLED (cancel flag or deadline).
 * Each attempt is logged (hashes and sizes only) and reported to on_attempt.
 * Thread-safe; connections are reused per calling thread.
 */
int sv_gateway_call(sv_gateway *gw, const sv_gw_call *call, json_object **data, sv_error *err);

/* Release the calling thread's connection cache (call before a thread exits). */
void sv_gateway_thread_cleanup(void);

/*
 * The delay before retry number `retry` (1 = the first retry): the
 * exponential step min(cap, base * 2^(retry-1)), jittered into
 * [step/2, step) by `unit` in [0,1).  Exposed for tests.
 */
int64_t sv_backoff_delay_ms(int retry, int64_t base_ms, int64_t cap_ms, double unit);

/* Parse a Retry-After value (delta-seconds or an HTTP date) into ms from
 * now_ms; -1 when unparseable.  Exposed for tests. */
int64_t sv_retry_after_ms(const char *value, int64_t now_ms);

/*
 * Judge one answer of the router as an attempt does: its HTTP status, body
 * (len bytes, NUL-terminated) and Retry-After value (NULL: none).  SV_OK and
 * *data (a new reference, or NULL); SV_ETOOL and err; or -EAGAIN when it
 * would be retried, with *retry_after_ms what the answer asks (-1: nothing).
 * For tests and the fuzzer (tests/fuzz/fuzz_gateway.c).
 */
int sv_gateway_judge(long http_status, const char *body, size_t len, const char *retry_after,
                     json_object **data, sv_error *err, int64_t *retry_after_ms);

#endif
