/*
 * gateway_http.h - internal to the gateway: one HTTP attempt on the calling
 * thread's curl handles, abortable by a cancel flag or a deadline.
 */
#ifndef SV_GATEWAY_HTTP_H
#define SV_GATEWAY_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

/* Larger answers are refused (bad_response) instead of buffered. */
#define SV_GW_MAX_RESPONSE (8u << 20)
/* Keep-alive connections to the router kept open at most (one cache shared
 * by every thread): as many as calls can be in flight. */
#define SV_GW_MAX_CONNS 1024
/* How often a transfer or a backoff wait looks at the cancel flag. */
#define SV_GW_SLICE_MS 50

enum sv_gw_xfer_end {
    SV_GW_XFER_DONE,      /* curl finished: see cc and http */
    SV_GW_XFER_TIMEOUT,   /* end_ms passed first */
    SV_GW_XFER_CANCELLED, /* the cancel flag or the deadline stopped it */
};

/* One call's transfer state; zero-initialise, reused across its attempts. */
struct sv_gw_xfer {
    struct curl_slist *headers;
    char *resp; /* NUL-terminated body bytes of the last attempt */
    size_t resp_len, resp_cap;
    int overflow;         /* the answer went past SV_GW_MAX_RESPONSE */
    char retry_after[64]; /* Retry-After of the last answer, "" when none */
    enum sv_gw_xfer_end end;
    CURLcode cc;
    long http; /* 0 when no answer */
    int64_t duration_ms;
};

/* curl_global_init once per process; 0 or -EIO. */
int sv_gw_http_global_init(void);
/* Free the calling thread's handles. */
void sv_gw_http_thread_cleanup(void);
/* Build the request headers of a call (auth, call_id and traceparent, the
 * header's value, may be NULL); 0 or -ENOMEM. */
int sv_gw_http_headers(struct sv_gw_xfer *x, const char *auth, const char *call_id,
                       const char *traceparent);
/* POST body to url; stop at end_ms (timeout), at deadline_ms (0 = none) or
 * when *cancel becomes non-zero.  The outcome is in x. */
void sv_gw_http_perform(const char *url, const char *body, size_t len, int64_t end_ms,
                        int64_t deadline_ms, atomic_int *cancel, struct sv_gw_xfer *x);
void sv_gw_http_xfer_free(struct sv_gw_xfer *x);

#endif
