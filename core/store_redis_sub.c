/*
 * store_redis_sub.c - the Redis store's cancel listener: one thread on a
 * connection of its own, subscribed to the cancels channel, blocking in
 * read.  A lost connection is made again after a second; stopping shuts the
 * socket down under the blocked read, which then returns.
 */
#include "store_redis_conn.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SV_SUB_RETRY_MS 1000

struct sv_redis_sub {
    struct sv_redis *rs;
    void (*fn)(void *arg, const char *run_id);
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock; /* c, stopping */
    pthread_cond_t cond;  /* stopping */
    redisContext *c;      /* the subscribed connection, while there is one */
    int stopping;
};

/* A "message" push: ["message", channel, run id]. */
static void dispatch(struct sv_redis_sub *s, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    char id[64];
    if (r->element[2]->len >= sizeof id)
        return;
    memcpy(id, r->element[2]->str, r->element[2]->len);
    id[r->element[2]->len] = '\0';
    s->fn(s->arg, id);
}

/* Connect and subscribe; NULL when the server does not answer. */
static redisContext *subscribe(struct sv_redis_sub *s)
{
    char err[512];
    redisReply *r = NULL;
    struct timeval forever = {0, 0};
    redisContext *c = sv_redis_conn_open(s->rs, err, sizeof err);
    if (!c)
        return NULL;
    /* Subscribed within the usual timeout; then none: the thread waits for
     * messages as long as it takes (a timeout would break the context). */
    if (redisAppendCommand(c, "SUBSCRIBE %s", s->rs->channel) != REDIS_OK ||
        redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_ARRAY ||
        redisSetTimeout(c, forever) != REDIS_OK) {
        freeReplyObject(r);
        redisFree(c);
        return NULL;
    }
    freeReplyObject(r);
    return c;
}

/* Wait ms unless stopping; 1 when stopping. */
static int pause_ms(struct sv_redis_sub *s, long ms)
{
    pthread_mutex_lock(&s->lock);
    if (!s->stopping)
        sv_cond_wait_until(&s->cond, &s->lock, sv_mono_ms() + ms);
    int stop = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void *sub_main(void *arg)
{
    struct sv_redis_sub *s = arg;
    for (;;) {
        redisContext *c = subscribe(s);
        pthread_mutex_lock(&s->lock);
        int stop = s->stopping;
        if (!stop)
            s->c = c;
        pthread_mutex_unlock(&s->lock);
        if (stop) {
            redisFree(c);
            break;
        }
        if (!c) {
            if (pause_ms(s, SV_SUB_RETRY_MS))
                break;
            continue;
        }
        redisReply *r = NULL;
        while (redisGetReply(c, (void **)&r) == REDIS_OK && r) {
            dispatch(s, r);
            freeReplyObject(r);
            r = NULL;
        }
        pthread_mutex_lock(&s->lock);
        s->c = NULL;
        stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        redisFree(c);
        if (stop || pause_ms(s, SV_SUB_RETRY_MS))
            break;
    }
    return NULL;
}

int sv_redis_sub_start(struct sv_redis *rs, void (*fn)(void *arg, const char *run_id), void *arg,
                       struct sv_redis_sub **out)
{
    struct sv_redis_sub *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return -ENOMEM;
    s->rs = rs;
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_init(&s->lock, NULL);
    sv_cond_init_mono(&s->cond);
    int rc = -pthread_create(&s->thread, NULL, sub_main, s);
    if (rc < 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sv_redis_sub_stop(struct sv_redis_sub *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    if (s->c)
        shutdown(s->c->fd, SHUT_RDWR); /* the blocked read returns */
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
