/*
 * watch.c - see watch.h.
 *
 * Waiters sit in a hash of run ids.  Each is taken out of the table under
 * the lock before it is woken, so it is woken exactly once: libmicrohttpd
 * forbids resuming a connection that is not suspended, and a woken request
 * that wants to wait on registers anew.  The thread looks at the table every
 * SV_WATCH_TICK_MS for deadlines and re-checks; waiting costs no thread per
 * request.
 */
#include "watch.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_WATCH_BUCKETS 1024
#define SV_WATCH_TICK_MS 100

typedef struct waiter {
    struct waiter *next;
    void *conn;
    int what;
    int64_t deadline_ms, next_check_ms;
    char run_id[SV_RUN_ID_LEN];
} waiter;

struct sv_watch {
    void (*wake)(void *arg, void *conn);
    void *arg;
    int64_t recheck_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    waiter *buckets[SV_WATCH_BUCKETS];
    /* Changes notified per bucket: a request reads its bucket's count before
     * it reads the run, and parks only if the count is still the same, so a
     * change made between the read and the park is never missed. */
    uint64_t changes[SV_WATCH_BUCKETS];
    size_t n;
    int closed; /* no new waiters */
    int stopping;
    pthread_t thread;
    int started;
};

static size_t bucket(const char *id)
{
    size_t h = 5381;
    for (const char *p = id; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % SV_WATCH_BUCKETS;
}

/* Wake and free a list of waiters already out of the table. */
static void wake_list(sv_watch *w, waiter *list)
{
    while (list) {
        waiter *x = list;
        list = x->next;
        w->wake(w->arg, x->conn);
        free(x);
    }
}

/* Move the waiters of bucket b that pick() selects onto the list *out. */
static void take(sv_watch *w, size_t b, int (*pick)(const waiter *, const void *), const void *ctx,
                 waiter **out)
{
    for (waiter **pp = &w->buckets[b]; *pp;) {
        waiter *x = *pp;
        if (pick(x, ctx)) {
            *pp = x->next;
            x->next = *out;
            *out = x;
            w->n--;
        } else {
            pp = &x->next;
        }
    }
}

typedef struct change {
    const char *run_id;
    int final;
} change;

static int pick_change(const waiter *x, const void *ctx)
{
    const change *c = ctx;
    return strcmp(x->run_id, c->run_id) == 0 && (c->final || x->what == SV_WATCH_ANY);
}

static int pick_due(const waiter *x, const void *ctx)
{
    int64_t now = *(const int64_t *)ctx;
    return now >= x->deadline_ms || now >= x->next_check_ms;
}

static int pick_all(const waiter *x, const void *ctx)
{
    (void)x;
    (void)ctx;
    return 1;
}

static void *watch_main(void *arg)
{
    sv_watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        sv_cond_wait_until(&w->cond, &w->lock, sv_mono_ms() + SV_WATCH_TICK_MS);
        waiter *due = NULL;
        int64_t now = sv_mono_ms();
        for (size_t b = 0; b < SV_WATCH_BUCKETS && w->n > 0; b++)
            take(w, b, pick_due, &now, &due);
        pthread_mutex_unlock(&w->lock);
        wake_list(w, due);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int sv_watch_new(void (*wake)(void *arg, void *conn), void *arg, int64_t recheck_ms, sv_watch **out)
{
    int rc = 0;
    sv_watch *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return -ENOMEM;
    w->wake = wake;
    w->arg = arg;
    w->recheck_ms = recheck_ms;
    pthread_mutex_init(&w->lock, NULL);
    sv_cond_init_mono(&w->cond);
    rc = -pthread_create(&w->thread, NULL, watch_main, w);
    if (rc < 0) {
        sv_watch_free(w);
        return rc;
    }
    w->started = 1;
    *out = w;
    return 0;
}

uint64_t sv_watch_mark(sv_watch *w, const char *run_id)
{
    pthread_mutex_lock(&w->lock);
    uint64_t m = w->changes[bucket(run_id)];
    pthread_mutex_unlock(&w->lock);
    return m;
}

int sv_watch_add(sv_watch *w, const char *run_id, void *conn, int what, int64_t deadline_mono_ms,
                 uint64_t mark)
{
    waiter *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    snprintf(x->run_id, sizeof x->run_id, "%s", run_id);
    x->conn = conn;
    x->what = what;
    x->deadline_ms = deadline_mono_ms;
    x->next_check_ms = w->recheck_ms > 0 ? sv_mono_ms() + w->recheck_ms : INT64_MAX;
    pthread_mutex_lock(&w->lock);
    size_t b = bucket(run_id);
    int rc = w->closed ? -ESHUTDOWN : w->changes[b] != mark ? -EAGAIN : 0;
    if (rc < 0) {
        pthread_mutex_unlock(&w->lock);
        free(x);
        return rc;
    }
    x->next = w->buckets[b];
    w->buckets[b] = x;
    w->n++;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void sv_watch_notify(sv_watch *w, const char *run_id, int final)
{
    if (!w)
        return;
    change c = {.run_id = run_id, .final = final};
    size_t b = bucket(run_id);
    pthread_mutex_lock(&w->lock);
    w->changes[b]++;
    waiter *got = NULL;
    if (w->n > 0)
        take(w, b, pick_change, &c, &got);
    pthread_mutex_unlock(&w->lock);
    wake_list(w, got);
}

void sv_watch_wake_all(sv_watch *w)
{
    waiter *all = NULL;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->closed = 1;
    for (size_t b = 0; b < SV_WATCH_BUCKETS && w->n > 0; b++)
        take(w, b, pick_all, NULL, &all);
    pthread_mutex_unlock(&w->lock);
    wake_list(w, all);
}

size_t sv_watch_count(sv_watch *w)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->n;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void sv_watch_free(sv_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (w->started)
        pthread_join(w->thread, NULL);
    sv_watch_wake_all(w); /* none should be left; never leave one suspended */
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
