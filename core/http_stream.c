/*
 * http_stream.c - streamed answers (see http.h): a libmicrohttpd response
 * whose content reader hands out what the stream's fill wrote and, when
 * nothing is left, suspends the connection and asks fill for more.
 *
 * libmicrohttpd 0.9.75 allows MHD_suspend_connection from the content
 * reader, and a reader that returns 0 must have suspended (else the polling
 * thread spins); on resume it calls the reader again.  So the reader, with
 * nothing buffered, suspends and runs fill: on the API pool when there is
 * one (fill may wait on Redis), else right there.  When fill is done it
 * resumes the connection unless fill parked the stream (SV_STREAM_WAIT), in
 * which case its waker resumes it.  `running`, `suspended` and `rewake`,
 * under the stream's lock, make each suspend matched by exactly one resume
 * however fill's end and a wake interleave.  After the resume the stream
 * may be freed at once (on the HTTP thread): nothing touches it after that.
 */
#include "http_internal.h"
#include "pool.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SV_STREAM_BLOCK (32 * 1024)

struct sv_stream {
    sv_http *h;
    struct MHD_Connection *conn;
    sv_stream_ops ops;
    void *ctx;
    int fd;
    pthread_mutex_t lock;
    char *buf; /* unsent bytes are buf[off..len) */
    size_t off, len, cap;
    int running;   /* fill is running */
    int offloaded; /* ... on the pool (counted in h->offered) */
    int suspended; /* by the reader, not yet resumed */
    int rewake;    /* woken while fill ran */
    int gone;      /* the client hung up */
    int ended;     /* fill said SV_STREAM_END */
    sv_pool_task task;
};

sv_stream *sv_stream_new(const sv_req *req, const sv_stream_ops *ops, void *ctx)
{
    sv_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->h = req->http;
    s->conn = req->conn;
    s->ops = *ops;
    s->ctx = ctx;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? (int)ci->connect_fd : -1;
    pthread_mutex_init(&s->lock, NULL);
    atomic_fetch_add(&s->h->streams, 1);
    return s;
}

int sv_stream_write(sv_stream *s, const char *data, size_t len)
{
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (s->off > 0 && s->off == s->len)
        s->off = s->len = 0;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) {
            rc = -ENOMEM;
            goto out;
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sv_stream_fd(const sv_stream *s)
{
    return s->fd;
}

void sv_stream_wake(sv_stream *s, int hangup)
{
    pthread_mutex_lock(&s->lock);
    if (hangup)
        s->gone = 1;
    if (s->running || !s->suspended) {
        s->rewake = s->running;
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->suspended = 0;
    struct MHD_Connection *conn = s->conn;
    pthread_mutex_unlock(&s->lock);
    MHD_resume_connection(conn);
}

/* fill, with the connection suspended; then resume it unless fill parked. */
static void fill_task(sv_pool_task *t)
{
    sv_stream *s = (sv_stream *)((char *)t - offsetof(sv_stream, task));
    sv_http *h = s->h;
    int rc = s->ops.fill(s->ctx, s);
    pthread_mutex_lock(&s->lock);
    int offloaded = s->offloaded;
    s->running = s->offloaded = 0;
    if (rc == SV_STREAM_END || (rc != SV_STREAM_MORE && rc != SV_STREAM_WAIT))
        s->ended = 1;
    int resume = s->suspended && (rc != SV_STREAM_WAIT || s->rewake || s->gone);
    if (resume)
        s->suspended = 0;
    s->rewake = 0;
    struct MHD_Connection *conn = s->conn;
    pthread_mutex_unlock(&s->lock);
    if (offloaded)
        atomic_fetch_sub(&h->offered, 1);
    if (resume)
        MHD_resume_connection(conn); /* s may be freed from here on */
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    sv_stream *s = cls;
    sv_http *h = s->h;
    (void)pos;
    pthread_mutex_lock(&s->lock);
    if (s->gone) {
        pthread_mutex_unlock(&s->lock);
        return MHD_CONTENT_READER_END_WITH_ERROR; /* closes the connection */
    }
    if (s->len > s->off) {
        size_t n = s->len - s->off < max ? s->len - s->off : max;
        memcpy(buf, s->buf + s->off, n);
        s->off += n;
        pthread_mutex_unlock(&s->lock);
        return (ssize_t)n;
    }
    if (s->ended) {
        pthread_mutex_unlock(&s->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    /* Nothing to send: suspend before fill runs, so that whoever wakes the
     * stream finds it suspended. */
    pthread_mutex_lock(&h->olock);
    int pool = h->cfg.offload && !h->inline_only;
    pthread_mutex_unlock(&h->olock);
    s->running = 1;
    s->offloaded = pool;
    s->suspended = 1;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&s->lock);
    s->task.fn = fill_task;
    if (pool) {
        atomic_fetch_add(&h->offered, 1);
        sv_pool_submit(h->cfg.offload, &s->task, 0);
    } else {
        fill_task(&s->task);
    }
    return 0;
}

static void stream_free(void *cls)
{
    sv_stream *s = cls;
    sv_http *h = s->h;
    if (s->ops.done)
        s->ops.done(s->ctx);
    free(s->buf);
    pthread_mutex_destroy(&s->lock);
    free(s);
    atomic_fetch_sub(&h->streams, 1);
}

void sv_stream_discard(sv_stream *s)
{
    if (s)
        stream_free(s);
}

MHD_Result sv_stream_queue(struct MHD_Connection *conn, sv_stream *s)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SV_STREAM_BLOCK,
                                                               reader, s, stream_free);
    if (!r) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    /* nginx and its kin would hold the events back to fill a buffer */
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r); /* frees s if it was not queued */
    return ret;
}
