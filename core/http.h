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
typedef struct sv_stream sv_stream; /* a streamed answer (http_stream.c) */

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
    /* A static file (ui.c): raw bytes (owned, malloc'd; NULL for a 304)
     * sent as content_type with its ETag, instead of JSON. */
    int is_file;
    char *raw;
    size_t raw_len;
    char content_type[48];
    char etag[48];
    /* A streamed answer (sv_stream_new), owned until sent: 200 with
     * text/event-stream, its body written as the stream fills it. */
    sv_stream *stream;
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
    /* Connections open at once (MAX_CONNECTIONS; 0: 10000); the soft
     * RLIMIT_NOFILE is raised to fit them (flood.h).  A connection idle
     * for idle_timeout_sec (CONNECTION_TIMEOUT_SEC; 0: 60) is closed; a
     * parked request is not idle: its client's hang-up ends it (watch.h). */
    unsigned max_connections;
    unsigned idle_timeout_sec;
    /* A side listener (METRICS_LISTEN): not counted in the connections
     * /metrics reports, and leaves RLIMIT_NOFILE alone; max_connections
     * is its own limit. */
    int side;
} sv_http_cfg;

int sv_http_start(const sv_http_cfg *cfg, sv_http **out);
/* The port actually bound. */
int sv_http_port(const sv_http *h);
/* HTTP connections open now, and in *limit how many may be. */
unsigned sv_http_connections(unsigned *limit);
/* Stop accepting new connections (requests in progress finish). */
void sv_http_quiesce(sv_http *h);
void sv_http_stop(sv_http *h);

/* A request header or query argument, NULL when absent. */
const char *sv_req_header(const sv_req *req, const char *name);
const char *sv_req_query(const sv_req *req, const char *name);

/* Is there a query argument not in allowed (NULL-terminated)?  1 and its
 * name in bad, or 0. */
int sv_req_unknown_query(const sv_req *req, const char *const *allowed, char *bad, size_t len);

/* The socket of the request's connection, to watch for its client's
 * hang-up while it is parked (watch.h); -1 when unknown. */
int sv_req_socket(const sv_req *req);

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

/*
 * Streamed answers (Server-Sent Events).  A handler makes a stream and
 * puts it in resp->stream; libmicrohttpd sends the headers, then asks for
 * the body.  Whenever all that was written has been sent, the stream's fill
 * is called for more.  It writes with sv_stream_write and says:
 *   SV_STREAM_MORE  call me again once this is sent;
 *   SV_STREAM_WAIT  nothing now: I have asked to be woken (sv_stream_wake),
 *                   the connection stays suspended, holding no thread;
 *   SV_STREAM_END   what I wrote is the last: finish the response.
 * fill runs with the connection suspended, on the API pool when the
 * transport has one (it may wait on the store) or on the HTTP thread.
 * done(ctx) is called once when the stream is over (sent, the client gone,
 * or never sent), never while fill runs or a wake is expected.
 */
enum { SV_STREAM_MORE = 0, SV_STREAM_WAIT = 1, SV_STREAM_END = 2 };
typedef struct sv_stream_ops {
    int (*fill)(void *ctx, sv_stream *s);
    void (*done)(void *ctx);
} sv_stream_ops;

/* A stream for req's connection with these ops and ctx; NULL: no memory
 * (done is not called then). */
sv_stream *sv_stream_new(const sv_req *req, const sv_stream_ops *ops, void *ctx);
/* Free a stream that will not be sent (done is called). */
void sv_stream_discard(sv_stream *s);
/* Append body bytes (from fill, or from the handler before it answers);
 * 0 or -ENOMEM. */
int sv_stream_write(sv_stream *s, const char *data, size_t len);
/* Resume a stream that answered SV_STREAM_WAIT (any thread, once per
 * wait): fill is called again.  hangup: its client has gone; the
 * connection is closed instead. */
void sv_stream_wake(sv_stream *s, int hangup);
/* The client's socket, for watching it for a hang-up while waiting; -1
 * when unknown. */
int sv_stream_fd(const sv_stream *s);

/* Fill resp with the error body {"error":{"code","message"[,"details":{"field"}]}}. */
void sv_resp_error(sv_resp *resp, int status, const char *code, const char *message,
                   const char *field);

#endif
