/*
 * executor.h - runs graphs: a pool of worker threads pulling runnable runs
 * from a queue, one node per turn, and a timer for runs that wait.  A run
 * that waits (a poll interval, a backoff) sits in the timer's heap and holds
 * no thread; its overall deadline is one more heap entry.
 */
#ifndef SV_EXECUTOR_H
#define SV_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "run.h"

typedef struct sv_exec sv_exec;

typedef struct sv_exec_cfg {
    int threads;     /* CPU slots: nodes executing at once (WORKER_THREADS) */
    int max_threads; /* threads in all, those waiting on the router or the store included */
    sv_store *store;
    /* This instance's node id in a durable store: its runs are kept in the
     * node's owned set (store.h) so that another instance can resume them.
     * NULL with the embedded store. */
    const char *node_id;
    /* Told when a run of this executor adds an event or ends (run.h). */
    void (*notify)(void *arg, const char *run_id, int final);
    void *notify_arg;
    /* The deadline of runs whose graph declares none (RUN_DEFAULT_TIMEOUT_SEC;
     * 0 = one hour), and the most nodes one run may execute in this process
     * (MAX_NODES_PER_RUN; 0 = no cap); past either the run fails, with
     * "timeout" or "node_limit". */
    int64_t run_default_timeout_ms;
    int max_nodes_per_run;
} sv_exec_cfg;

int sv_exec_new(const sv_exec_cfg *cfg, sv_exec **out);

/*
 * Put a run in this node's owned set (own 1) or take it out (own 0) in a
 * durable store; 0 with the embedded one.  A new run is owned before its
 * record is created: an owned id without a record is harmless (recovery
 * drops it), a record nobody owns would never be resumed.
 */
int sv_exec_own(sv_exec *ex, const char *run_id, int own);

/*
 * Take a new run (already created in the store and owned): arm its deadline
 * (graph_rules.h sv_rule_deadline_ms: the graph's, perhaps set by its
 * input, or the daemon's) and queue it.  The executor takes its own
 * references; the caller keeps its own.
 */
int sv_exec_submit(sv_exec *ex, sv_run *r);

/*
 * Take a run rebuilt from its checkpoint (sv_run_restore), already in this
 * node's owned set: as submit, with the deadline still counted from the
 * run's creation.
 */
int sv_exec_resume(sv_exec *ex, sv_run *r);

/*
 * Ask a live run of this process to stop.  Sets *status to what the caller
 * should report: SV_RUN_CANCELLED when it was still queued (cancelled at
 * once), SV_RUN_RUNNING when it will stop between nodes (its tool call in
 * flight is aborted), or its final status.  -ENOENT when the run is not live
 * here.  The first cancel of a queued or running run writes its
 * cancel_requested event, with details.key_id the id of the API key that
 * asked (auth.h; none when key_id is NULL, the API being open).
 */
int sv_exec_cancel(sv_exec *ex, const char *run_id, const char *key_id, sv_run_status *status);
/* The same for a cancel that another instance took and set in the store:
 * that instance wrote the event, so none is written here. */
int sv_exec_cancel_remote(sv_exec *ex, const char *run_id);

/* Live runs (queued, running or waiting) in this process. */
size_t sv_exec_live(sv_exec *ex);

/* Counts since start and gauges now, for /metrics. */
typedef struct sv_exec_stats {
    uint64_t started, resumed;             /* runs that began here; runs taken over */
    uint64_t succeeded, failed, cancelled; /* runs that ended here */
    uint64_t nodes;                        /* nodes executed */
    size_t live, runnable, busy_workers, workers;
    size_t threads, blocked; /* pool threads; of them waiting on the router or the store */
    uint64_t handoffs;       /* CPU slots handed on by a thread whose wait went long */
    uint64_t spawned;        /* pool threads started */
    /* Live runs by status (sv_run_status; a final one is on its way out),
     * and by what they wait on: the runnable queue (a worker), the timer (a
     * poll interval or backoff); threads waiting on the router or the store
     * (each a run's node, or with a durable store an API request too). */
    size_t by_status[5];
    size_t wait_worker, wait_timer, wait_router, wait_store;
} sv_exec_stats;
void sv_exec_stats_get(sv_exec *ex, sv_exec_stats *out);

/*
 * Stop: take no new node, let nodes in flight finish for up to grace_ms,
 * then abort the tool calls still going and join the threads.  Runs left
 * unfinished keep their last checkpoint in the store.
 */
void sv_exec_shutdown(sv_exec *ex, int64_t grace_ms);
void sv_exec_free(sv_exec *ex);

#endif
