/* pool.c - see pool.h. */
#include "pool.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct sv_pool_fifo {
    sv_pool_task *head, *tail;
    size_t n;
} sv_pool_fifo;

/* A thread's handle: threads are joinable, and one that exits puts its
 * handle on the pool's dead list for whoever comes next to join, so that
 * once sv_pool_join returns no thread can still touch the pool. */
typedef struct sv_pool_thr {
    struct sv_pool *pool;
    pthread_t tid;
    struct sv_pool_thr *next;
} sv_pool_thr;

struct sv_pool {
    sv_pool_cfg cfg;
    sv_pool_thr *dead; /* exited, not yet joined */
    pthread_mutex_t lock;
    pthread_cond_t work;   /* a task arrived, a slot freed for new work, or stopping */
    pthread_cond_t slot;   /* a slot freed for a thread coming back from a wait */
    pthread_cond_t change; /* a task ended or a thread exited (stop, join) */
    pthread_attr_t attr;
    sv_pool_fifo urgent, normal;
    int free_slots;
    int threads, idle, blocked, returning, running;
    int stopping;
    uint64_t spawned, reaped, handoffs;
};

/* What this thread holds: set while it runs a task of pool p. */
static _Thread_local sv_pool *tl_pool;
static _Thread_local int tl_depth; /* nested block_begin calls */

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
    p->threads++;
    p->spawned++;
    return 0;
}

/* Under the lock: make sure someone will take the queued work now that a
 * slot may be free.  Threads back from a wait come first. */
static void dispatch(sv_pool *p)
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
    if (p->threads >= p->cfg.max_threads)
        return; /* a thread that ends its task or its wait takes it */
    reap_dead(p);
    spawn(p);
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
        tl_pool = p;
        tl_depth = 0;
        t->fn(t);
        tl_pool = NULL;
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
    p->free_slots = p->cfg.slots;
    pthread_mutex_init(&p->lock, NULL);
    pthread_attr_init(&p->attr);
    if ((rc = sv_cond_init_mono(&p->work)) < 0 || (rc = sv_cond_init_mono(&p->slot)) < 0 ||
        (rc = sv_cond_init_mono(&p->change)) < 0)
        goto out;
    if (p->cfg.stack_bytes)
        pthread_attr_setstacksize(&p->attr, p->cfg.stack_bytes);
    /* The first `slots` threads are kept for good: they never idle out. */
    pthread_mutex_lock(&p->lock);
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
    pthread_mutex_unlock(&p->lock);
}

void sv_pool_block_begin(void)
{
    sv_pool *p = tl_pool;
    if (!p || tl_depth++ > 0)
        return;
    pthread_mutex_lock(&p->lock);
    p->free_slots++;
    p->blocked++;
    p->handoffs++;
    dispatch(p);
    pthread_mutex_unlock(&p->lock);
}

void sv_pool_block_end(void)
{
    sv_pool *p = tl_pool;
    if (!p || tl_depth == 0 || --tl_depth > 0)
        return;
    pthread_mutex_lock(&p->lock);
    p->blocked--;
    p->returning++;
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
    while (p->threads > 0)
        pthread_cond_wait(&p->change, &p->lock);
    reap_dead(p);
    pthread_mutex_unlock(&p->lock);
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
    pthread_mutex_destroy(&p->lock);
    free(p);
}
