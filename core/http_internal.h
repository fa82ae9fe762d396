/*
 * http_internal.h - what http.c and http_stream.c share: the transport's
 * state.  Nothing outside the HTTP layer includes it.
 */
#ifndef SV_HTTP_INTERNAL_H
#define SV_HTTP_INTERNAL_H

#include "auth.h"
#include "http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result;
#else
typedef enum MHD_Result MHD_Result;
#endif

struct sv_http {
    struct MHD_Daemon *d;
    sv_http_cfg cfg;
    sv_auth *auth; /* NULL: the API is open */
    int port;
    atomic_int parked;     /* requests parked at least once and not yet complete */
    atomic_int offered;    /* requests (and stream fills) handed to the pool and not yet done */
    atomic_int streams;    /* streamed answers not yet over */
    pthread_mutex_t olock; /* the phases of offloaded requests, inline_only */
    int inline_only;       /* stopping: the pool may stop, handlers run here */
};

/* Queue s as the 200 answer on conn (the HTTP thread, from send_resp); s is
 * the response's from then on, and freed with it (also on failure). */
MHD_Result sv_stream_queue(struct MHD_Connection *conn, sv_stream *s);

#endif
