/*
 * watch.c - see watch.h.
 *
 * Waiters sit in a hash of run ids.  Each is taken out of the table under
 * the lock before it is woken, so it is woken exactly once: libmicrohttpd
 * forbids resuming a connection that is not suspended, and a woken request
 * that wants to wait on registers anew.  The thread looks at the table every
 * SV_WATCH_TICK_MS for deadlines and re-checks; waiting costs no thread per
 * request.
 *
 * A waiter may bring its client's socket (an event stream waiting for the
 * run's next event): the thread waits in epoll_wait for EPOLLRDHUP on those
 * between its ticks, so a client that goes away is released at once rather
 * than at the next heartbeat.  A socket is in the epoll set only while its
 * waiter is in the table, and is taken out under the lock before the waiter
 * is woken: libmicrohttpd may close it once the connection is resumed.  An
 * epoll event names its waiter by a sequence number, not a pointer, so an
 * event about a waiter woken meanwhile finds nothing.
 */
#include "watch.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#define SV_WATCH_BUCKET_BITS 10
#define SV_WATCH_BUCKETS (1u << SV_WATCH_BUCKET_BITS)
#define SV_WATCH_TICK_MS 100

typedef struct waiter {
    struct waiter *next;
    void *conn;
    sv_watch_cb cb; /* cb.fn NULL: a plain parked request (conn) */
    int why;        /* SV_WATCH_WOKE_*, set when taken out */
    int what;
    uint64_t seq; /* names it in epoll events */
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
    size_t n;       /* waiters in the table */
    size_t n_plain; /* those without a callback */
    size_t n_all;   /* those on SV_WATCH_ALL_RUNS */
    uint64_t seq;
    int epfd;   /* hang-ups of waiters' sockets; -1: none watched */
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
        if (x->cb.fn)
            x->cb.fn(x->cb.ctx, x->why);
        else
            w->wake(w->arg, x->conn);
        free(x);
    }
}

/* Take x out of the counts and its socket out of the epoll set (lock held). */
static void forget(sv_watch *w, waiter *x, int why)
{
    w->n--;
    w->n_plain -= !x->cb.fn;
    w->n_all -= strcmp(x->run_id, SV_WATCH_ALL_RUNS) == 0;
    if (x->cb.fd >= 0 && w->epfd >= 0)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, x->cb.fd, NULL);
    x->why = why;
}

/* Move the waiters of bucket b that pick() selects onto the list *out. */
static void take(sv_watch *w, size_t b, int (*pick)(const waiter *, const void *), const void *ctx,
                 int why, waiter **out)
{
    for (waiter **pp = &w->buckets[b]; *pp;) {
        waiter *x = *pp;
        if (pick(x, ctx)) {
            *pp = x->next;
            x->next = *out;
            *out = x;
            forget(w, x, why);
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
    return strcmp(x->run_id, c->run_id) == 0 && x->what != SV_WATCH_NONE &&
           (c->final || x->what == SV_WATCH_ANY);
}

static int pick_seq(const waiter *x, const void *ctx)
{
    return x->seq == *(const uint64_t *)ctx;
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
    struct epoll_event ev[64];
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        int got = 0;
        if (w->epfd >= 0) {
            /* The tick's wait, cut short by a hang-up. */
            pthread_mutex_unlock(&w->lock);
            got = epoll_wait(w->epfd, ev, 64, SV_WATCH_TICK_MS);
            pthread_mutex_lock(&w->lock);
            if (w->stopping)
                break;
        } else {
            sv_cond_wait_until(&w->cond, &w->lock, sv_mono_ms() + SV_WATCH_TICK_MS);
        }
        waiter *due = NULL;
        for (int i = 0; i < got; i++) {
            uint64_t seq = ev[i].data.u64 >> SV_WATCH_BUCKET_BITS;
            size_t b = (size_t)(ev[i].data.u64 & (SV_WATCH_BUCKETS - 1));
            take(w, b, pick_seq, &seq, SV_WATCH_WOKE_HANGUP, &due);
        }
        int64_t now = sv_mono_ms();
        for (size_t b = 0; b < SV_WATCH_BUCKETS && w->n > 0; b++)
            take(w, b, pick_due, &now, SV_WATCH_WOKE_DUE, &due);
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
    /* Without it hang-ups are noticed at a stream's next heartbeat only. */
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
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

static int add(sv_watch *w, const char *run_id, void *conn, const sv_watch_cb *cb, int what,
               int64_t deadline_mono_ms, uint64_t mark)
{
    waiter *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    snprintf(x->run_id, sizeof x->run_id, "%s", run_id);
    x->conn = conn;
    x->cb = cb ? *cb : (sv_watch_cb){.fd = -1};
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
    x->seq = ++w->seq;
    if (x->cb.fd >= 0 && w->epfd >= 0) {
        struct epoll_event ev = {.events = EPOLLRDHUP,
                                 .data.u64 = x->seq << SV_WATCH_BUCKET_BITS | b};
        /* On failure the stream finds out at its next heartbeat instead. */
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, x->cb.fd, &ev) < 0)
            x->cb.fd = -1;
    }
    x->next = w->buckets[b];
    w->buckets[b] = x;
    w->n++;
    w->n_plain += !x->cb.fn;
    w->n_all += strcmp(run_id, SV_WATCH_ALL_RUNS) == 0;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

int sv_watch_add(sv_watch *w, const char *run_id, void *conn, int what, int64_t deadline_mono_ms,
                 uint64_t mark)
{
    return add(w, run_id, conn, NULL, what, deadline_mono_ms, mark);
}

int sv_watch_add_cb(sv_watch *w, const char *run_id, const sv_watch_cb *cb, int what,
                    int64_t deadline_mono_ms, uint64_t mark)
{
    return add(w, run_id, NULL, cb, what, deadline_mono_ms, mark);
}

int sv_watch_add_fd(sv_watch *w, const char *run_id, void *conn, int fd, int what,
                    int64_t deadline_mono_ms, uint64_t mark)
{
    /* A client already gone is not parked: epoll would report it at once,
     * and the request would park and wake in a loop until its deadline. */
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    if (fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        return -ECONNRESET;
    sv_watch_cb cb = {.fn = NULL, .fd = fd};
    return add(w, run_id, conn, &cb, what, deadline_mono_ms, mark);
}

void sv_watch_notify(sv_watch *w, const char *run_id, int final)
{
    if (!w)
        return;
    change c = {.run_id = run_id, .final = final};
    change all = {.run_id = SV_WATCH_ALL_RUNS, .final = 1};
    size_t b = bucket(run_id), ball = bucket(SV_WATCH_ALL_RUNS);
    pthread_mutex_lock(&w->lock);
    w->changes[b]++;
    if (ball != b)
        w->changes[ball]++;
    waiter *got = NULL;
    if (w->n > 0)
        take(w, b, pick_change, &c, SV_WATCH_WOKE_CHANGE, &got);
    if (w->n_all > 0)
        take(w, ball, pick_change, &all, SV_WATCH_WOKE_CHANGE, &got);
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
        take(w, b, pick_all, NULL, SV_WATCH_WOKE_STOP, &all);
    pthread_mutex_unlock(&w->lock);
    wake_list(w, all);
}

size_t sv_watch_count(sv_watch *w)
{
    if (!w) /* as notify: an API without waiting requests (tests/fuzz) */
        return 0;
    pthread_mutex_lock(&w->lock);
    size_t n = w->n_plain;
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
    if (w->epfd >= 0)
        close(w->epfd);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
