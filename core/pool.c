/* pool.c - see pool.h. */
#include "pool.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct sv_pool_fifo {
    sv_pool_task *head, *tail;
    size_t n;
} sv_pool_fifo;

/* A thread of the pool.  Threads are joinable, and one that exits puts its
 * record on the pool's dead list for whoever comes next to join, so that
 * once sv_pool_join returns no thread can still touch the pool. */
typedef struct sv_pool_thr {
    struct sv_pool *pool;
    pthread_t tid;
    struct sv_pool_thr *next;            /* live list, then dead list */
    struct sv_pool_thr *h_prev, *h_next; /* holding list (waiting with its slot) */
    int depth;                           /* nested block_begin calls (its own) */
    /* under the pool's lock: */
    int waiting;            /* inside block_begin .. block_end */
    int handed;             /* its slot was handed on while it waits */
    enum sv_pool_wait what; /* what it waits on */
    int64_t due_us;         /* hand its slot on at this time (monotonic) */
    int64_t since_us;       /* when the wait began */
} sv_pool_thr;

struct sv_pool {
    sv_pool_cfg cfg;
    pthread_mutex_t lock;
    pthread_cond_t work;   /* a task arrived, a slot freed for new work, or stopping */
    pthread_cond_t slot;   /* a slot freed for a thread coming back from a wait */
    pthread_cond_t change; /* a task ended or a thread exited (stop, join) */
    pthread_cond_t mon;    /* a thread started waiting while it holds its slot */
    pthread_attr_t attr;
    pthread_t monitor;
    int monitor_started;
    int monitor_asleep; /* waiting with no due time: a new waiter must wake it */
    sv_pool_thr *live, *dead;
    /* Threads waiting that still hold their slot, oldest first: their due
     * times are in the same order (each is its start + handoff_us). */
    sv_pool_thr *h_head, *h_tail;
    sv_pool_fifo urgent, normal;
    int free_slots;
    int threads, idle, blocked, holding, returning, running;
    int blocked_on[2]; /* blocked, by enum sv_pool_wait */
    int stopping;
    uint64_t spawned, reaped, handoffs;
    /* How long waits of each kind have lasted lately (moving average, us):
     * what decides how long the next one keeps its slot. */
    int64_t avg_us[2];
};

/* The pool thread this is, while it runs a task. */
static _Thread_local sv_pool_thr *tl_self;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void fifo_push(sv_pool_fifo *f, sv_pool_task *t)
{
    t->next = NULL;
    if (f->tail)
        f->tail->next = t;
    else
        f->head = t;
    f->tail = t;
    f->n++;
}

static sv_pool_task *fifo_pop(sv_pool_fifo *f)
{
    sv_pool_task *t = f->head;
    if (t) {
        f->head = t->next;
        if (!f->head)
            f->tail = NULL;
        f->n--;
        t->next = NULL;
    }
    return t;
}

static int has_task(const sv_pool *p)
{
    return p->urgent.n + p->normal.n > 0;
}

static void *thread_main(void *arg);

static void holding_add(sv_pool *p, sv_pool_thr *t)
{
    t->h_next = NULL;
    t->h_prev = p->h_tail;
    if (p->h_tail)
        p->h_tail->h_next = t;
    else
        p->h_head = t;
    p->h_tail = t;
    p->holding++;
}

static void holding_del(sv_pool *p, sv_pool_thr *t)
{
    if (t->h_prev)
        t->h_prev->h_next = t->h_next;
    else
        p->h_head = t->h_next;
    if (t->h_next)
        t->h_next->h_prev = t->h_prev;
    else
        p->h_tail = t->h_prev;
    t->h_prev = t->h_next = NULL;
    p->holding--;
}

/* Is there work a slot held by a waiting thread could do? */
static int wanted(const sv_pool *p)
{
    return p->returning > 0 || (p->urgent.n + p->normal.n > 0 && !p->stopping);
}

/* Under the lock: join the threads that have exited. */
static void reap_dead(sv_pool *p)
{
    while (p->dead) {
        sv_pool_thr *d = p->dead;
        p->dead = d->next;
        pthread_join(d->tid, NULL);
        free(d);
    }
}

/* Under the lock: one more thread. */
static int spawn(sv_pool *p)
{
    sv_pool_thr *th = calloc(1, sizeof *th);
    if (!th)
        return -ENOMEM;
    th->pool = p;
    int rc = -pthread_create(&th->tid, &p->attr, thread_main, th);
    if (rc < 0) {
        free(th);
        return rc;
    }
    th->next = p->live;
    p->live = th;
    p->threads++;
    p->spawned++;
    return 0;
}

/* Under the lock: make sure someone will take the queued work now that a
 * slot may be free, starting a thread while there are fewer than
 * spawn_max.  Threads back from a wait come first. */
static void dispatch_upto(sv_pool *p, int spawn_max)
{
    if (p->free_slots <= 0)
        return;
    if (p->returning > 0) {
        pthread_cond_signal(&p->slot);
        return;
    }
    if (!has_task(p) || p->stopping)
        return;
    if (p->idle > 0) {
        pthread_cond_signal(&p->work);
        return;
    }
    if (p->threads >= spawn_max)
        return; /* a thread that ends its task or its wait takes it */
    reap_dead(p);
    spawn(p);
}

static void dispatch(sv_pool *p)
{
    dispatch_upto(p, p->cfg.max_threads);
}

/*
 * The monitor: a thread that waits keeps its slot for handoff_us, so a call
 * that answers at once (a router on loopback, a Redis round trip) costs no
 * hand-over and no thread; past that the slot goes to other work.  This is
 * the Go runtime's sysmon retaking a P from a thread in a system call.
 */
static void *monitor_main(void *arg)
{
    sv_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        /* Nothing waits for a slot: a waiting thread may keep its own. */
        if (!p->h_head || !wanted(p)) {
            p->monitor_asleep = 1;
            pthread_cond_wait(&p->mon, &p->lock);
            p->monitor_asleep = 0;
            continue;
        }
        int64_t now = mono_us();
        while (p->h_head && p->h_head->due_us <= now && wanted(p)) {
            sv_pool_thr *t = p->h_head;
            holding_del(p, t);
            t->handed = 1;
            p->free_slots++;
            p->handoffs++;
            dispatch_upto(p, t->what == SV_POOL_WAIT_STORE ? p->cfg.store_wait_threads
                                                           : p->cfg.max_threads);
        }
        if (!p->h_head || !wanted(p))
            continue;
        int64_t next = p->h_head->due_us;
        struct timespec ts = {.tv_sec = next / 1000000, .tv_nsec = (next % 1000000) * 1000};
        pthread_cond_timedwait(&p->mon, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Under the lock: work arrived (a task, a thread back from a wait): a
 * sleeping monitor must look at the waiting threads' slots. */
static void monitor_poke(sv_pool *p)
{
    if (p->monitor_asleep && p->h_head) {
        p->monitor_asleep = 0;
        pthread_cond_signal(&p->mon);
    }
}

static void *thread_main(void *arg)
{
    sv_pool_thr *self = arg;
    sv_pool *p = self->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int64_t idle_until = sv_mono_ms() + p->cfg.idle_ms;
        int reap = 0;
        while (!p->stopping && !(has_task(p) && p->free_slots > 0 && p->returning == 0)) {
            if (p->threads > p->cfg.slots && sv_mono_ms() >= idle_until) {
                reap = 1;
                break;
            }
            p->idle++;
            sv_cond_wait_until(&p->work, &p->lock, idle_until);
            p->idle--;
        }
        if (p->stopping || reap)
            break;
        sv_pool_task *t = fifo_pop(&p->urgent);
        if (!t)
            t = fifo_pop(&p->normal);
        p->free_slots--;
        p->running++;
        /* More work and slots: wake one more taker before starting. */
        dispatch(p);
        pthread_mutex_unlock(&p->lock);
        tl_self = self;
        self->depth = 0;
        t->fn(t);
        tl_self = NULL;
        pthread_mutex_lock(&p->lock);
        p->running--;
        p->free_slots++;
        dispatch(p);
        pthread_cond_broadcast(&p->change);
    }
    if (!p->stopping)
        p->reaped++;
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.thread_exit)
        p->cfg.thread_exit();
    pthread_mutex_lock(&p->lock);
    for (sv_pool_thr **pp = &p->live; *pp; pp = &(*pp)->next) {
        if (*pp == self) {
            *pp = self->next;
            break;
        }
    }
    p->threads--;
    self->next = p->dead;
    p->dead = self;
    pthread_cond_broadcast(&p->change);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int sv_pool_new(const sv_pool_cfg *cfg, sv_pool **out)
{
    int rc = 0;
    sv_pool *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    if (p->cfg.slots < 1)
        p->cfg.slots = 1;
    if (p->cfg.max_threads < p->cfg.slots)
        p->cfg.max_threads = p->cfg.slots;
    if (p->cfg.idle_ms <= 0)
        p->cfg.idle_ms = 10000;
    if (p->cfg.store_wait_threads <= 0 || p->cfg.store_wait_threads > p->cfg.max_threads)
        p->cfg.store_wait_threads = p->cfg.max_threads;
    if (p->cfg.handoff_us <= 0)
        p->cfg.handoff_us = SV_POOL_HANDOFF_US;
    p->free_slots = p->cfg.slots;
    pthread_mutex_init(&p->lock, NULL);
    pthread_attr_init(&p->attr);
    if ((rc = sv_cond_init_mono(&p->work)) < 0 || (rc = sv_cond_init_mono(&p->slot)) < 0 ||
        (rc = sv_cond_init_mono(&p->change)) < 0 || (rc = sv_cond_init_mono(&p->mon)) < 0)
        goto out;
    if (p->cfg.stack_bytes)
        pthread_attr_setstacksize(&p->attr, p->cfg.stack_bytes);
    pthread_mutex_lock(&p->lock);
    rc = -pthread_create(&p->monitor, NULL, monitor_main, p);
    p->monitor_started = rc == 0;
    /* The first `slots` threads are kept for good: they never idle out. */
    for (int i = 0; i < p->cfg.slots && rc == 0; i++)
        rc = spawn(p);
    pthread_mutex_unlock(&p->lock);
out:
    if (rc < 0 && p) {
        sv_pool_stop(p, 0);
        sv_pool_join(p);
        sv_pool_free(p, NULL);
        p = NULL;
    }
    *out = p;
    return rc;
}

void sv_pool_submit(sv_pool *p, sv_pool_task *t, int urgent)
{
    pthread_mutex_lock(&p->lock);
    fifo_push(urgent ? &p->urgent : &p->normal, t);
    dispatch(p);
    if (p->free_slots <= 0)
        monitor_poke(p);
    pthread_mutex_unlock(&p->lock);
}

void sv_pool_block_begin(enum sv_pool_wait what)
{
    sv_pool_thr *self = tl_self;
    if (!self || self->depth++ > 0)
        return;
    sv_pool *p = self->pool;
    pthread_mutex_lock(&p->lock);
    int64_t now = mono_us(), avg = p->avg_us[what];
    self->waiting = 1;
    self->handed = 0;
    self->what = what;
    self->since_us = now;
    p->blocked++;
    p->blocked_on[what]++;
    if (avg >= SV_POOL_LONG_WAIT_US) {
        /* Waits like this one last long (a real router): the slot goes to
         * other work at once. */
        self->handed = 1;
        p->free_slots++;
        p->handoffs++;
        dispatch_upto(p,
                      what == SV_POOL_WAIT_STORE ? p->cfg.store_wait_threads : p->cfg.max_threads);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    /* Short ones keep it while they last as they usually do, and a while
     * more: a hand-over costs more than the wait it would fill. */
    int64_t keep = 3 * avg > p->cfg.handoff_us ? 3 * avg : p->cfg.handoff_us;
    self->due_us = now + keep;
    holding_add(p, self);
    /* A monitor timing a wait looks at this one when it wakes (its due time
     * is later than any it times now); one asleep is woken only if some
     * work wants a slot. */
    if (wanted(p))
        monitor_poke(p);
    pthread_mutex_unlock(&p->lock);
}

void sv_pool_block_end(void)
{
    sv_pool_thr *self = tl_self;
    if (!self || self->depth == 0 || --self->depth > 0)
        return;
    sv_pool *p = self->pool;
    int64_t took = mono_us() - self->since_us;
    pthread_mutex_lock(&p->lock);
    self->waiting = 0;
    p->blocked--;
    p->blocked_on[self->what]--;
    p->avg_us[self->what] += (took - p->avg_us[self->what]) / 8;
    if (!self->handed) {
        holding_del(p, self); /* back before its slot was handed on */
        pthread_mutex_unlock(&p->lock);
        return;
    }
    self->handed = 0;
    p->returning++;
    monitor_poke(p);
    while (p->free_slots <= 0)
        pthread_cond_wait(&p->slot, &p->lock);
    p->returning--;
    p->free_slots--;
    /* Another thread may be waiting for the next free slot too. */
    dispatch(p);
    pthread_mutex_unlock(&p->lock);
}

void sv_pool_stats_get(sv_pool *p, sv_pool_stats *out)
{
    pthread_mutex_lock(&p->lock);
    out->threads = (size_t)p->threads;
    out->idle = (size_t)p->idle;
    out->blocked = (size_t)p->blocked;
    out->blocked_router = (size_t)p->blocked_on[SV_POOL_WAIT_ROUTER];
    out->blocked_store = (size_t)p->blocked_on[SV_POOL_WAIT_STORE];
    out->running = (size_t)p->running;
    out->queued = p->urgent.n + p->normal.n;
    out->slots = (size_t)p->cfg.slots;
    out->max_threads = (size_t)p->cfg.max_threads;
    out->spawned = p->spawned;
    out->reaped = p->reaped;
    out->handoffs = p->handoffs;
    pthread_mutex_unlock(&p->lock);
}

int sv_pool_stop(sv_pool *p, int64_t grace_ms)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_cond_signal(&p->mon);
    int64_t deadline = sv_mono_ms() + grace_ms;
    while (p->running > 0 && sv_mono_ms() < deadline)
        sv_cond_wait_until(&p->change, &p->lock, deadline);
    int running = p->running;
    pthread_mutex_unlock(&p->lock);
    return running;
}

void sv_pool_join(sv_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_cond_signal(&p->mon);
    /* Threads still in a task may wait for a slot: let them all through. */
    p->free_slots += p->cfg.slots;
    pthread_cond_broadcast(&p->slot);
    while (p->threads > 0)
        pthread_cond_wait(&p->change, &p->lock);
    reap_dead(p);
    int monitor = p->monitor_started;
    p->monitor_started = 0;
    pthread_mutex_unlock(&p->lock);
    if (monitor)
        pthread_join(p->monitor, NULL);
}

void sv_pool_free(sv_pool *p, void (*drop)(sv_pool_task *t))
{
    if (!p)
        return;
    sv_pool_task *t;
    while ((t = fifo_pop(&p->urgent)) || (t = fifo_pop(&p->normal)))
        if (drop)
            drop(t);
    pthread_attr_destroy(&p->attr);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->slot);
    pthread_cond_destroy(&p->change);
    pthread_cond_destroy(&p->mon);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
