/*
 * pool.h - an elastic pool of threads with a fixed number of CPU slots.
 *
 * A task runs on a pool thread that holds one of `slots` CPU slots, so at
 * most `slots` tasks execute code at once (WORKER_THREADS).  A thread about
 * to wait on the outside world (a tool call to the router, its retry
 * backoff, a store round trip) calls sv_pool_block_begin().  If the wait
 * lasts longer than handoff_us, the pool's monitor hands the thread's slot
 * to another task, starting a thread when none is idle; a wait that ends
 * sooner (a router on loopback, a Redis round trip) keeps its slot and costs
 * no hand-over.  sv_pool_block_end() takes a slot again (if it was handed
 * on) before the thread goes back to CPU work; threads coming back from a
 * wait go before new tasks, so work already begun finishes first.  This is
 * the Go runtime's hand-off at system calls (entersyscall, and sysmon
 * retaking the processor of a long one) and Varnish's elastic pools:
 * throughput is bounded by CPU and by how many tasks are in flight, not by
 * slots x latency.  Threads beyond `slots` that stay idle for idle_ms exit;
 * there are never more than max_threads.
 *
 * Urgent tasks (API requests) are taken before normal ones (run steps).
 */
#ifndef SV_POOL_H
#define SV_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sv_pool sv_pool;

/*
 * How long a waiting thread keeps its CPU slot before the monitor hands it
 * on.  The pool keeps a moving average of how long waits of each kind
 * (router, store) last: when they last SV_POOL_LONG_WAIT_US or more (a real
 * router's tens of milliseconds), the slot is handed on as the wait begins;
 * when they are short (a router on loopback, a Redis round trip), a wait
 * keeps its slot for three times the average, at least SV_POOL_HANDOFF_US,
 * so only the rare long one is handed over: on a busy CPU a hand-over costs
 * more than the short wait it would fill.
 */
#define SV_POOL_HANDOFF_US 200
#define SV_POOL_LONG_WAIT_US 2000

/* Embedded in whatever the task works on; fn gets the same pointer back. */
typedef struct sv_pool_task {
    struct sv_pool_task *next;
    void (*fn)(struct sv_pool_task *t);
} sv_pool_task;

typedef struct sv_pool_cfg {
    int slots;       /* threads executing at once (>= 1) */
    int max_threads; /* threads in all, waiting ones included (>= slots) */
    /* A store round trip is short: a thread starting one hands its slot to
     * an idle thread, but starts a new one only while there are fewer than
     * this many (0: max_threads).  Enough waiters to fill a flush of the
     * pipelined store, not one per parked request woken at once. */
    int store_wait_threads;
    int64_t idle_ms; /* an extra thread idle this long exits */
    size_t stack_bytes;
    int64_t handoff_us;        /* a wait keeps its slot this long (0: SV_POOL_HANDOFF_US) */
    void (*thread_exit)(void); /* called on each thread before it exits; may be NULL */
} sv_pool_cfg;

int sv_pool_new(const sv_pool_cfg *cfg, sv_pool **out);

/* Queue a task; it runs once on some pool thread.  Never fails: a pool that
 * cannot start a thread runs the task on an existing one when it frees. */
void sv_pool_submit(sv_pool *p, sv_pool_task *t, int urgent);

/* What a thread is about to wait on. */
enum sv_pool_wait {
    SV_POOL_WAIT_ROUTER, /* a tool call or its retry backoff: tens of ms to minutes */
    SV_POOL_WAIT_STORE,  /* a store round trip: well under a millisecond, usually */
};
/* On a pool thread holding a slot: give it back while the thread waits.
 * Nests; a no-op on other threads (the HTTP thread, tests). */
void sv_pool_block_begin(enum sv_pool_wait what);
/* Take a slot again (waiting for one); the inverse of block_begin. */
void sv_pool_block_end(void);

typedef struct sv_pool_stats {
    size_t threads, idle, blocked, running, queued, slots, max_threads;
    size_t blocked_router, blocked_store; /* blocked, by what they wait on */
    uint64_t spawned, reaped, handoffs;
} sv_pool_stats;
void sv_pool_stats_get(sv_pool *p, sv_pool_stats *out);

/*
 * Stop: no task starts any more.  Waits up to grace_ms for the running
 * tasks to end; returns how many are still running then (the caller can
 * abort them and call sv_pool_join).
 */
int sv_pool_stop(sv_pool *p, int64_t grace_ms);
/* Wait for every thread to exit (after sv_pool_stop). */
void sv_pool_join(sv_pool *p);
/* Free the pool; drop() is called for each task never run. */
void sv_pool_free(sv_pool *p, void (*drop)(sv_pool_task *t));

#endif
