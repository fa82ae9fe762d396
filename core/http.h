/*
 * http.h - the HTTP transport on libmicrohttpd: one internal polling thread
 * (epoll), request bodies gathered up to a limit (413 beyond it), the
 * Bearer check, JSON responses, and requests parked (suspended) while they
 * wait for something.  What each path means is api.c's business.
 */
#ifndef SV_HTTP_H
#define SV_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

typedef struct sv_http sv_http;

typedef struct sv_req {
    void *conn; /* struct MHD_Connection * */
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated; may hold NULs inside */
    size_t body_len;
    /* Kept across parks (sv_http_park): 0 the first time the handler sees
     * the request; the handler may keep a deadline there. */
    int64_t *park_deadline;
    struct sv_http *http; /* the transport's own, for sv_http_park */
    void *state;
    /* The API key that authenticated the request (auth.h): its id for
     * logs and events, its workspaces for what it may touch.  NULL when the
     * API is open (and on /healthz). */
    const struct sv_auth_key *key;
} sv_req;

typedef struct sv_resp {
    int status;
    json_object *body; /* owned; sent as JSON */
    char allow[64];    /* Allow header for 405 */
    char extra_name[64];
    char extra_value[128];
    int parked;      /* set by sv_http_park: no answer now */
    char *text;      /* owned (malloc'd); when set, sent as Prometheus text instead of body */
    char *json_text; /* owned (malloc'd); when set, sent as JSON text instead of body */
} sv_resp;

typedef void (*sv_http_handler)(void *app, const sv_req *req, sv_resp *resp);

typedef struct sv_http_cfg {
    const char *host; /* numeric IPv4/IPv6 */
    int port;         /* 0 = any free port */
    int64_t max_body_bytes;
    const char *internal_key; /* SUPERVISOR_INTERNAL_KEY (auth.h); NULL = no auth */
    sv_http_handler handler;
    void *app;
    /* When set, every request but /healthz runs its handler on this pool
     * (pool.h) instead of the HTTP thread: the handler may wait on a store
     * (Redis) without holding up any other request.  The connection is
     * suspended meanwhile and resumed with the answer.  NULL: handlers run
     * on the HTTP thread (the embedded store never waits). */
    struct sv_pool *offload;
} sv_http_cfg;

int sv_http_start(const sv_http_cfg *cfg, sv_http **out);
/* The port actually bound. */
int sv_http_port(const sv_http *h);
/* Stop accepting new connections (requests in progress finish). */
void sv_http_quiesce(sv_http *h);
void sv_http_stop(sv_http *h);

/* A request header or query argument, NULL when absent. */
const char *sv_req_header(const sv_req *req, const char *name);
const char *sv_req_query(const sv_req *req, const char *name);

/* Is there a query argument not in allowed (NULL-terminated)?  1 and its
 * name in bad, or 0. */
int sv_req_unknown_query(const sv_req *req, const char *const *allowed, char *bad, size_t len);

/*
 * Park the request instead of answering (from the handler only): its
 * connection is suspended, holding no thread, until sv_http_wake(req->conn);
 * then the handler is called again with the same request and may answer or
 * park again.  Whoever is to wake it must be told after this call.
 */
void sv_http_park(const sv_req *req, sv_resp *resp);
/* Wake a parked request; any thread, exactly once per park. */
void sv_http_wake(void *conn);
/* Wait up to timeout_ms for every request that was parked or handed to the
 * pool to be answered and done (a stop: after waking them, before
 * sv_http_stop cuts them). */
void sv_http_drain(sv_http *h, int64_t timeout_ms);

/* Fill resp with the error body {"error":{"code","message"[,"details":{"field"}]}}. */
void sv_resp_error(sv_resp *resp, int status, const char *code, const char *message,
                   const char *field);

#endif
