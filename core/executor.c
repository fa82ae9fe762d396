/* executor.c - workers, the runnable queue, parking and stopping runs. */
#include "executor.h"
#include "graph_rules.h"
#include "host.h"
#include "crash.h"
#include "log.h"
#include "metrics_hist.h"
#include "run_fsm.h"
#include "stall.h"
#include "timer.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_MAP_BUCKETS 4096

struct sv_exec {
    sv_store *store;
    char node_id[65]; /* "" = no ownership tracking (embedded store) */
    void (*notify)(void *arg, const char *run_id, int final);
    void *notify_arg;
    int64_t run_default_timeout_ms; /* RUN_DEFAULT_TIMEOUT_SEC */
    int max_nodes_per_run;          /* MAX_NODES_PER_RUN; 0 = no cap */
    /* /metrics: relaxed counters, read without stopping anyone */
    atomic_uint_fast64_t n_started, n_resumed, n_nodes, n_end[3];
    sv_timer *timer;
    sv_pool *pool;         /* runs' steps, and (with a durable store) API requests */
    pthread_mutex_t mlock; /* the live-run map */
    sv_run *map[SV_MAP_BUCKETS];
    size_t live;
};

static size_t bucket(const char *id)
{
    /* ids are random hex: a few of their characters are a fine hash */
    size_t h = 0;
    for (const char *p = id + 3; *p && p < id + 11; p++)
        h = h * 16 + (size_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
    return h % SV_MAP_BUCKETS;
}

static void map_add(sv_exec *ex, sv_run *r)
{
    sv_run_ref(r);
    pthread_mutex_lock(&ex->mlock);
    size_t b = bucket(r->id);
    r->map_next = ex->map[b];
    ex->map[b] = r;
    ex->live++;
    pthread_mutex_unlock(&ex->mlock);
}

static void map_del(sv_exec *ex, sv_run *r)
{
    int found = 0;
    pthread_mutex_lock(&ex->mlock);
    for (sv_run **pp = &ex->map[bucket(r->id)]; *pp; pp = &(*pp)->map_next) {
        if (*pp == r) {
            *pp = r->map_next;
            ex->live--;
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&ex->mlock);
    if (found)
        sv_run_unref(r);
}

static sv_run *map_get(sv_exec *ex, const char *id)
{
    sv_run *found = NULL;
    pthread_mutex_lock(&ex->mlock);
    for (sv_run *r = ex->map[bucket(id)]; r; r = r->map_next) {
        if (strcmp(r->id, id) == 0) {
            sv_run_ref(r);
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&ex->mlock);
    return found;
}

static void step_task(sv_pool_task *t);

/* Queue a run's next step; the caller's reference passes to the queue. */
static void enqueue(sv_exec *ex, sv_run *r)
{
    r->task.fn = step_task;
    sv_pool_submit(ex->pool, &r->task, 0);
}

static void park_fire(void *arg, uint64_t gen, int fired)
{
    sv_run *r = arg;
    sv_exec *ex = NULL;
    if (fired) {
        pthread_mutex_lock(&r->lock);
        if (r->where == SV_WHERE_TIMER && r->park_gen == gen) {
            r->where = SV_WHERE_QUEUE;
            ex = r->exec;
        }
        pthread_mutex_unlock(&r->lock);
    }
    if (ex)
        enqueue(ex, r);
    else
        sv_run_unref(r);
}

static void timeout_error(sv_run *r);
static void publish_final(sv_exec *ex, sv_run *r);

static void deadline_fire(void *arg, uint64_t tag, int fired)
{
    sv_run *r = arg;
    sv_exec *wake = NULL, *ended = NULL;
    (void)tag;
    if (fired) {
        pthread_mutex_lock(&r->lock);
        int none = SV_STOP_NONE;
        if (!sv_run_status_final(r->status) &&
            atomic_compare_exchange_strong(&r->cancel, &none, SV_STOP_TIMEOUT)) {
            sv_stall_stop_asked(r, SV_STOP_TIMEOUT);
            if (r->status == SV_RUN_QUEUED) {
                /* Never started: end it here rather than wait for a worker;
                 * its queue entry finds it final and drops it. */
                timeout_error(r);
                sv_run_move(r, SV_RI_FAIL);
                ended = r->exec;
            } else if (r->where == SV_WHERE_TIMER) {
                /* Wake the parked run now so it ends without waiting out its delay. */
                r->park_gen++;
                r->where = SV_WHERE_QUEUE;
                wake = r->exec;
            }
        }
        pthread_mutex_unlock(&r->lock);
    }
    if (ended)
        publish_final(ended, r);
    if (wake) {
        /* Drop the wait's entry before the run can park again on this slot. */
        sv_timer_cancel(wake->timer, &r->park_slot);
        sv_run_ref(r);
        enqueue(wake, r);
    }
    sv_run_unref(r);
}

/* Put the run in the timer for delay_ms; the worker's reference passes on.
 * A stop that arrived meanwhile queues it at once instead. */
static void park(sv_exec *ex, sv_run *r, uint32_t delay_ms)
{
    pthread_mutex_lock(&r->lock);
    if (atomic_load(&r->cancel) != SV_STOP_NONE) {
        r->where = SV_WHERE_QUEUE;
        pthread_mutex_unlock(&r->lock);
        enqueue(ex, r);
        return;
    }
    r->where = SV_WHERE_TIMER;
    uint64_t gen = ++r->park_gen;
    pthread_mutex_unlock(&r->lock);
    if (sv_timer_add(ex->timer, sv_mono_ms() + delay_ms, park_fire, r, gen, &r->park_slot) < 0) {
        pthread_mutex_lock(&r->lock);
        r->where = SV_WHERE_QUEUE;
        pthread_mutex_unlock(&r->lock);
        enqueue(ex, r); /* no memory for the timer: run again at once */
    }
}

static void log_run_end(const sv_run *r)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "run_id", json_object_new_string(r->id));
    /* named here: a cancel ends a queued run on the HTTP thread */
    json_object_object_add(f, "trace_id", json_object_new_string(r->trace_id));
    json_object_object_add(f, "graph", json_object_new_string(r->graph->desc->name));
    json_object_object_add(f, "status", json_object_new_string(sv_run_status_name(r->status)));
    json_object_object_add(f, "duration_ms",
                           json_object_new_int64((r->finished_us - r->created_us) / 1000));
    if (r->err_code[0])
        json_object_object_add(f, "error_code", json_object_new_string(r->err_code));
    sv_log(SV_LEVEL_INFO, "run finished", f);
}

/* Tell the world about a run already marked final (under its lock). */
static void final_write(sv_exec *ex, sv_run *r);

static void final_task(sv_pool_task *t)
{
    sv_run *r = (sv_run *)((char *)t - offsetof(sv_run, task));
    sv_log_set_trace(r->trace_id);
    final_write(r->exec, r);
    sv_log_set_trace(NULL);
    sv_run_unref(r);
}

static void final_retry_fire(void *arg, uint64_t tag, int fired)
{
    sv_run *r = arg;
    (void)tag;
    if (!fired) {
        sv_run_unref(r);
        return;
    }
    r->task.fn = final_task; /* the reference goes with the task */
    sv_pool_submit(((sv_exec *)r->exec)->pool, &r->task, 0);
}

/*
 * Store the end of a run already marked final, then tell the world.  Until
 * the store has it, the run is not over for anyone: while the store is away
 * the write is tried again every second (the run stays in this process and
 * in its owned set), so a run whose end was not stored is never left
 * "running" with nobody working on it, and one whose end was stored is
 * never resumed.
 */
static void final_write(sv_exec *ex, sv_run *r)
{
    int rc = sv_run_save(r);
    if (rc < 0 && rc != -ESTALE && rc != -ENOENT) {
        if (!r->final_retries++)
            sv_logf(SV_LEVEL_WARN,
                    "run %s ended %s, but the store does not have it yet: trying again every "
                    "second",
                    r->id, sv_run_status_name(r->status));
        sv_run_ref(r);
        if (sv_timer_add(ex->timer, sv_mono_ms() + 1000, final_retry_fire, r, 0, &r->park_slot) ==
            0)
            return;
        sv_run_unref(r);
    }
    if (rc == -ESTALE) {
        sv_logf(SV_LEVEL_WARN,
                "run %s: another instance took it over while this one was cut off; its end here "
                "is not stored, and the other instance goes on with it",
                r->id);
    } else {
        sv_run_status status = r->status;
        atomic_fetch_add_explicit(&ex->n_end[status - SV_RUN_SUCCEEDED], 1, memory_order_relaxed);
        const char *lv[] = {r->graph->desc->name, sv_run_status_name(status)};
        sv_mfam_observe(&sv_mfam_run_duration, lv, r->finished_us - r->created_us);
        if (ex->notify)
            ex->notify(ex->notify_arg, r->id, 1);
        if (ex->node_id[0])
            ex->store->ops->owned_del(ex->store, ex->node_id, r->id);
        log_run_end(r);
    }
    map_del(ex, r);
    /* A finished run's deadline entry would keep it in memory until the
     * deadline: take it out now. */
    sv_timer_cancel(ex->timer, &r->deadline_slot);
    sv_run_release(r);
}

/* Tell the world about a run already marked final (under its lock). */
static void publish_final(sv_exec *ex, sv_run *r)
{
    sv_run_status status = r->status;
    json_object *d = json_object_new_object();
    json_object_object_add(d, "status", json_object_new_string(sv_run_status_name(status)));
    json_object_object_add(d, "duration_ms",
                           json_object_new_int64((r->finished_us - r->created_us) / 1000));
    if (r->err_code[0])
        json_object_object_add(d, "error_code", json_object_new_string(r->err_code));
    sv_run_event(r, "run_end", NULL, d);
    final_write(ex, r);
}

/* A newer owner has the run (store.h run_claim): stop it here, writing
 * nothing more. */
static void abandon(sv_exec *ex, sv_run *r)
{
    sv_logf(SV_LEVEL_WARN,
            "run %s: another instance took it over while this one was cut off from the store; "
            "stopping it here (node %s ran here once more)",
            r->id, r->node ? r->node->name : "?");
    pthread_mutex_lock(&r->lock);
    r->where = SV_WHERE_DONE;
    pthread_mutex_unlock(&r->lock);
    map_del(ex, r);
    sv_timer_cancel(ex->timer, &r->deadline_slot);
    sv_run_release(r);
}

/* The run is over (input: SV_RI_SUCCEED, _FAIL or _STOPPED): event, record,
 * log, and out of the live map.  The run_end event goes first so a caller
 * that sees the final status also sees the event. */
static void finish(sv_exec *ex, sv_run *r, sv_run_input in)
{
    pthread_mutex_lock(&r->lock);
    int rc = sv_run_move(r, in);
    pthread_mutex_unlock(&r->lock);
    if (rc < 0) { /* not in the table: a bug, said loudly, the run failed */
        sv_logf(SV_LEVEL_ERROR, "run %s: no move from %s on input %d; failing it", r->id,
                sv_run_status_name(r->status), (int)in);
        pthread_mutex_lock(&r->lock);
        sv_run_move(r, SV_RI_FAIL);
        pthread_mutex_unlock(&r->lock);
    }
    publish_final(ex, r);
}

static void fail_run(sv_exec *ex, sv_run *r, const char *code, const char *fmt, const char *arg)
{
    if (!r->err_code[0]) {
        snprintf(r->err_code, sizeof r->err_code, "%s", code);
        snprintf(r->err_message, sizeof r->err_message, fmt, arg);
    }
    finish(ex, r, SV_RI_FAIL);
}

static void timeout_error(sv_run *r)
{
    const sv_exec *ex = r->exec;
    const char *from = NULL;
    const sv_deadline d = sv_rule_deadline(r->graph->desc);
    int64_t ms = sv_rule_deadline_ms(r->graph->desc, r->input, ex->run_default_timeout_ms, &from);
    snprintf(r->err_code, sizeof r->err_code, "timeout");
    /* which deadline, so the caller knows what to raise */
    snprintf(r->err_message, sizeof r->err_message, "the run passed its deadline of %g s (%s%s)",
             (double)ms / 1000.0, strcmp(from, "input") == 0 ? "input " : "",
             strcmp(from, "input") == 0   ? d.input
             : strcmp(from, "graph") == 0 ? "the graph's default"
                                          : "RUN_DEFAULT_TIMEOUT_SEC");
}

/* A user cancel or the deadline: let the graph clean up, then end the run. */
static void finish_stopped(sv_exec *ex, sv_run *r, int stop)
{
    const sv_graph *g = r->graph->desc;
    /* A run stopped before its first node has nothing to clean up, whether
     * a user or the deadline stopped it. */
    if (g->on_cancel && !r->on_cancel_done && r->nodes_started > 0) {
        r->on_cancel_done = 1;
        sv_ctx ctx = {.run = r, .node_name = "on_cancel", .seq_slot = g->n_nodes, .cleanup = 1};
        sv_crash_enter(r->id, g->name, g->version, "on_cancel");
        g->on_cancel(&ctx, &r->graph->host,
                     stop == SV_STOP_TIMEOUT ? SV_CANCEL_TIMEOUT : SV_CANCEL_USER);
        sv_crash_leave();
    }
    if (stop == SV_STOP_TIMEOUT) {
        timeout_error(r);
        finish(ex, r, SV_RI_FAIL);
    } else {
        finish(ex, r, SV_RI_STOPPED);
    }
}

static json_object *node_details(int64_t ms, const char *next)
{
    json_object *d = json_object_new_object();
    json_object_object_add(d, "duration_ms", json_object_new_int64(ms));
    json_object_object_add(d, "next", json_object_new_string(next ? next : "END"));
    return d;
}

/* One turn of a run: at most one node.  Consumes the worker's reference. */
static void step_run(sv_exec *ex, sv_run *r)
{
    int started = 0;
    pthread_mutex_lock(&r->lock);
    int stop = atomic_load(&r->cancel);
    if (sv_run_status_final(r->status) || stop == SV_STOP_SHUTDOWN) {
        pthread_mutex_unlock(&r->lock);
        goto out;
    }
    r->where = SV_WHERE_WORKER;
    /* Every line this thread writes for the run names its trace (log.h). */
    sv_log_set_trace(r->trace_id);
    if (r->status == SV_RUN_QUEUED) {
        sv_run_move(r, SV_RI_START);
        started = 1;
    }
    pthread_mutex_unlock(&r->lock);
    const sv_graph *g = r->graph->desc;
    if (started) {
        atomic_fetch_add_explicit(&ex->n_started, 1, memory_order_relaxed);
        json_object *d = json_object_new_object();
        json_object_object_add(d, "graph", json_object_new_string(g->name));
        json_object_object_add(d, "graph_version", json_object_new_string(g->version));
        sv_run_event(r, "run_start", NULL, d);
        json_object *f = json_object_new_object();
        json_object_object_add(f, "run_id", json_object_new_string(r->id));
        json_object_object_add(f, "graph", json_object_new_string(g->name));
        json_object_object_add(f, "graph_version", json_object_new_string(g->version));
        sv_log(SV_LEVEL_INFO, "run started", f);
    }
    if (stop == SV_STOP_NONE && ex->node_id[0]) {
        /* A cancel that reached another instance is in the store: the save
         * after the last node (or the run's start) read its flag.  The
         * listener (store.h cancel_listen) usually tells us sooner. */
        int none = SV_STOP_NONE;
        /* No event: the instance that took the request wrote it (api.c),
         * with the id of the key that asked. */
        if (r->cancel_seen && atomic_compare_exchange_strong(&r->cancel, &none, SV_STOP_USER))
            stop = SV_STOP_USER;
    }
    if (stop != SV_STOP_NONE) {
        finish_stopped(ex, r, stop);
        goto out;
    }
    if (ex->max_nodes_per_run > 0 && r->nodes_started >= (uint32_t)ex->max_nodes_per_run) {
        char n[32]; /* a graph that loops for ever: MAX_NODES_PER_RUN */
        snprintf(n, sizeof n, "%d", ex->max_nodes_per_run);
        fail_run(ex, r, "node_limit", "the run reached MAX_NODES_PER_RUN (%s nodes)", n);
        goto out;
    }
    const sv_node *node = r->node;
    r->nodes_started++;
    atomic_fetch_add_explicit(&ex->n_nodes, 1, memory_order_relaxed);
    sv_run_event_text(r, "node_start", node->name, "{}");
    /* Followers see the node begin now; nothing waits for the store here.
     * A run's first node also carries its start (status running). */
    if (started)
        sv_run_save_post(r);
    else
        sv_run_post(r);
    int64_t t0 = sv_mono_us();
    sv_step step = {.next = node->next, .delay_ms = 0};
    sv_ctx ctx = {
        .run = r, .node_name = node->name, .seq_slot = (uint32_t)(node - g->nodes), .cleanup = 0};
    sv_stall_node_begin(r, ctx.seq_slot);
    sv_crash_enter(r->id, g->name, g->version, node->name); /* for a crash line */
    int rc = node->run(&ctx, &r->graph->host, &step);
    sv_crash_leave();
    sv_stall_node_end(r);
    int64_t us = sv_mono_us() - t0, ms = us / 1000;
    const char *lv[] = {g->name, node->name};
    sv_mfam_observe(&sv_mfam_node_duration, lv, us);
    stop = atomic_load(&r->cancel);
    if (stop == SV_STOP_SHUTDOWN) {
        sv_run_flush(r); /* what the node did, for the record */
        goto out;        /* and the checkpoint for whoever resumes the run */
    }
    if (rc == SV_OK) {
        char d[160];
        const char *next = step.next ? step.next : "END";
        if (sv_json_plain(next) && strlen(next) < 100) {
            snprintf(d, sizeof d, "{\"duration_ms\":%lld,\"next\":\"%s\"}", (long long)ms, next);
            sv_run_event_text(r, "node_end", node->name, d);
        } else {
            sv_run_event(r, "node_end", node->name, node_details(ms, step.next));
        }
    } else {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "duration_ms", json_object_new_int64(ms));
        json_object_object_add(d, "code",
                               json_object_new_string(rc == SV_ECANCELLED ? "cancelled"
                                                      : r->err_code[0]    ? r->err_code
                                                                          : "node_failed"));
        sv_run_event(r, "node_error", node->name, d);
    }
    if (stop != SV_STOP_NONE) {
        finish_stopped(ex, r, stop);
    } else if (rc == SV_ECANCELLED) {
        /* The graph says cancelled but nobody asked: treat as its failure. */
        fail_run(ex, r, "cancelled", "node %s returned SV_ECANCELLED", node->name);
    } else if (rc != SV_OK) {
        fail_run(ex, r, "node_failed", "node %s failed", node->name);
    } else if (!step.next) {
        finish(ex, r, SV_RI_SUCCEED);
    } else {
        const sv_node *next = sv_graph_ent_node(r->graph, step.next);
        if (!next) {
            fail_run(ex, r, "bad_next_node", "the graph asked for an unknown node \"%s\"",
                     step.next);
            goto out;
        }
        r->node = next;
        /* The node's events and, in a durable store, the checkpoint (where
         * another instance resumes): one write, whose answer brings the
         * cancel flag.  A write that fails for the store being away is
         * carried by the next one (the events are kept). */
        if (r->store->ops->durable) {
            if (sv_run_save(r) == -ESTALE) {
                abandon(ex, r);
                goto out;
            }
        } else {
            sv_run_post(r);
        }
        if (step.delay_ms > 0)
            park(ex, r, step.delay_ms);
        else
            enqueue(ex, r);
        sv_log_set_trace(NULL);
        return; /* the reference went with the run */
    }
out:
    sv_log_set_trace(NULL);
    sv_run_unref(r);
}

static void step_task(sv_pool_task *t)
{
    sv_crash_thread_init(); /* once per thread: its crash handler's own stack */
    sv_run *r = (sv_run *)((char *)t - offsetof(sv_run, task));
    step_run(r->exec, r);
}

/* A pool thread's own resources, before it exits. */
static void thread_exit(void)
{
    sv_gateway_thread_cleanup();
    sv_crash_thread_fini();
}

static void drop_task(sv_pool_task *t)
{
    sv_run_unref((sv_run *)((char *)t - offsetof(sv_run, task)));
}

int sv_exec_new(const sv_exec_cfg *cfg, sv_exec **out)
{
    int rc = 0;
    sv_exec *ex = calloc(1, sizeof *ex);
    *out = NULL;
    if (!ex)
        return -ENOMEM;
    ex->store = cfg->store;
    if (cfg->node_id)
        snprintf(ex->node_id, sizeof ex->node_id, "%s", cfg->node_id);
    ex->notify = cfg->notify;
    ex->notify_arg = cfg->notify_arg;
    ex->run_default_timeout_ms =
        cfg->run_default_timeout_ms > 0 ? cfg->run_default_timeout_ms : 3600 * 1000;
    ex->max_nodes_per_run = cfg->max_nodes_per_run;
    atomic_init(&ex->n_started, 0);
    atomic_init(&ex->n_resumed, 0);
    atomic_init(&ex->n_nodes, 0);
    for (int i = 0; i < 3; i++)
        atomic_init(&ex->n_end[i], 0);
    pthread_mutex_init(&ex->mlock, NULL);
    rc = sv_timer_new(&ex->timer);
    if (rc < 0)
        goto out;
    sv_pool_cfg pc = {.slots = cfg->threads,
                      .max_threads = cfg->max_threads > 0 ? cfg->max_threads : 1024,
                      .idle_ms = 10000,
                      /* nodes run plugin code: a generous stack, of which only
                       * the pages touched are memory */
                      .stack_bytes = 1u << 20,
                      .store_wait_threads = 4 * cfg->threads,
                      .thread_exit = thread_exit};
    rc = sv_pool_new(&pc, &ex->pool);
out:
    if (rc < 0) {
        sv_exec_shutdown(ex, 0);
        sv_exec_free(ex);
        ex = NULL;
    }
    *out = ex;
    return rc;
}

static void take(sv_exec *ex, sv_run *r)
{
    r->exec = ex;
    r->notify = ex->notify;
    r->notify_arg = ex->notify_arg;
    map_add(ex, r);
    /* Every run has a deadline: the graph's (sv_deadline, perhaps set by
     * its input) or RUN_DEFAULT_TIMEOUT_SEC.  Counted from the run's
     * creation, which for a resumed run was in another process: the wall
     * clock is the common one. */
    int64_t ms = sv_rule_deadline_ms(r->graph->desc, r->input, ex->run_default_timeout_ms, NULL);
    int64_t left_ms = r->created_us / 1000 + ms - sv_now_ms();
    r->deadline_mono_ms = sv_mono_ms() + (left_ms > 0 ? left_ms : 0);
    sv_run_ref(r);
    if (sv_timer_add(ex->timer, r->deadline_mono_ms, deadline_fire, r, 0, &r->deadline_slot) < 0)
        sv_run_unref(r);
    sv_run_ref(r);
    pthread_mutex_lock(&r->lock);
    r->where = SV_WHERE_QUEUE;
    pthread_mutex_unlock(&r->lock);
    enqueue(ex, r);
}

int sv_exec_own(sv_exec *ex, const char *run_id, int own)
{
    if (!ex->node_id[0])
        return 0;
    return own ? ex->store->ops->owned_add(ex->store, ex->node_id, run_id)
               : ex->store->ops->owned_del(ex->store, ex->node_id, run_id);
}

int sv_exec_submit(sv_exec *ex, sv_run *r)
{
    take(ex, r);
    return 0;
}

int sv_exec_resume(sv_exec *ex, sv_run *r)
{
    atomic_fetch_add_explicit(&ex->n_resumed, 1, memory_order_relaxed);
    take(ex, r);
    return 0;
}

/* event: write the first cancel's cancel_requested, with key_id (may be NULL). */
static int cancel_run(sv_exec *ex, const char *run_id, int event, const char *key_id,
                      sv_run_status *status)
{
    sv_run *r = map_get(ex, run_id);
    int wake = 0, newly = 0, now_cancelled = 0;
    if (!r)
        return -ENOENT;
    pthread_mutex_lock(&r->lock);
    if (sv_run_status_final(r->status)) {
        *status = r->status;
    } else if (r->status == SV_RUN_QUEUED) {
        atomic_store(&r->cancel, SV_STOP_USER);
        sv_run_move(r, SV_RI_CANCEL);
        now_cancelled = 1;
        *status = SV_RUN_CANCELLED;
    } else {
        int none = SV_STOP_NONE;
        sv_run_move(r, SV_RI_CANCEL); /* running stays running: it is asked to stop */
        newly = atomic_compare_exchange_strong(&r->cancel, &none, SV_STOP_USER);
        if (newly)
            sv_stall_stop_asked(r, SV_STOP_USER);
        if (newly && r->where == SV_WHERE_TIMER) {
            r->park_gen++;
            r->where = SV_WHERE_QUEUE;
            wake = 1;
        }
        *status = SV_RUN_RUNNING;
    }
    pthread_mutex_unlock(&r->lock);
    if (event && (newly || now_cancelled)) {
        json_object *d = json_object_new_object();
        if (key_id)
            json_object_object_add(d, "key_id", json_object_new_string(key_id));
        /* Not the executing thread's to keep: written at once. */
        if (sv_run_event_to(r->store, r->id, "cancel_requested", NULL, d) == 0 && r->notify)
            r->notify(r->notify_arg, r->id, 0);
    }
    if (now_cancelled) {
        /* Never started: no node ran, so no on_cancel either.  The queue
         * entry finds the run final and drops it. */
        publish_final(ex, r);
    }
    if (wake) {
        /* Drop the wait's entry before the run can park again on this slot. */
        sv_timer_cancel(ex->timer, &r->park_slot);
        sv_run_ref(r);
        enqueue(ex, r);
    }
    sv_run_unref(r);
    return 0;
}

int sv_exec_cancel(sv_exec *ex, const char *run_id, const char *key_id, sv_run_status *status)
{
    return cancel_run(ex, run_id, 1, key_id, status);
}

int sv_exec_cancel_remote(sv_exec *ex, const char *run_id)
{
    sv_run_status st;
    return cancel_run(ex, run_id, 0, NULL, &st);
}

size_t sv_exec_live(sv_exec *ex)
{
    pthread_mutex_lock(&ex->mlock);
    size_t n = ex->live;
    pthread_mutex_unlock(&ex->mlock);
    return n;
}

void sv_exec_stats_get(sv_exec *ex, sv_exec_stats *out)
{
    out->started = atomic_load_explicit(&ex->n_started, memory_order_relaxed);
    out->resumed = atomic_load_explicit(&ex->n_resumed, memory_order_relaxed);
    out->nodes = atomic_load_explicit(&ex->n_nodes, memory_order_relaxed);
    out->succeeded = atomic_load_explicit(&ex->n_end[0], memory_order_relaxed);
    out->failed = atomic_load_explicit(&ex->n_end[1], memory_order_relaxed);
    out->cancelled = atomic_load_explicit(&ex->n_end[2], memory_order_relaxed);
    out->live = sv_exec_live(ex);
    /* A walk of the live runs: a scrape every few seconds over at most
     * MAX_RUNS_ACTIVE runs costs less than keeping gauges on every move. */
    memset(out->by_status, 0, sizeof out->by_status);
    out->wait_worker = out->wait_timer = 0;
    pthread_mutex_lock(&ex->mlock);
    for (size_t b = 0; b < SV_MAP_BUCKETS; b++) {
        for (sv_run *r = ex->map[b]; r; r = r->map_next) {
            pthread_mutex_lock(&r->lock);
            if ((unsigned)r->status < 5)
                out->by_status[r->status]++;
            out->wait_worker += r->where == SV_WHERE_QUEUE && !sv_run_status_final(r->status);
            out->wait_timer += r->where == SV_WHERE_TIMER;
            pthread_mutex_unlock(&r->lock);
        }
    }
    pthread_mutex_unlock(&ex->mlock);
    sv_pool_stats ps;
    sv_pool_stats_get(ex->pool, &ps);
    out->runnable = ps.queued;
    out->busy_workers = ps.running - ps.blocked;
    out->workers = ps.slots;
    out->threads = ps.threads;
    out->blocked = ps.blocked;
    out->handoffs = ps.handoffs;
    out->spawned = ps.spawned;
    out->wait_router = ps.blocked_router;
    out->wait_store = ps.blocked_store;
}

static void stop_in_flight(sv_exec *ex)
{
    pthread_mutex_lock(&ex->mlock);
    for (size_t b = 0; b < SV_MAP_BUCKETS; b++) {
        for (sv_run *r = ex->map[b]; r; r = r->map_next) {
            pthread_mutex_lock(&r->lock);
            if (r->where == SV_WHERE_WORKER) {
                atomic_store(&r->cancel, SV_STOP_SHUTDOWN);
                sv_stall_stop_asked(r, SV_STOP_SHUTDOWN);
            }
            pthread_mutex_unlock(&r->lock);
        }
    }
    pthread_mutex_unlock(&ex->mlock);
}

void sv_exec_shutdown(sv_exec *ex, int64_t grace_ms)
{
    if (!ex || !ex->pool)
        return;
    int busy = sv_pool_stop(ex->pool, grace_ms);
    if (busy > 0) {
        sv_logf(SV_LEVEL_WARN, "%d node(s) still running after the grace period: aborting them",
                busy);
        stop_in_flight(ex);
    }
    sv_pool_join(ex->pool);
}

void sv_exec_free(sv_exec *ex)
{
    if (!ex)
        return;
    sv_timer_free(ex->timer); /* releases parked runs and deadlines */
    sv_pool_free(ex->pool, drop_task);
    for (size_t b = 0; b < SV_MAP_BUCKETS; b++) {
        while (ex->map[b]) {
            sv_run *r = ex->map[b];
            ex->map[b] = r->map_next;
            sv_run_unref(r);
        }
    }
    pthread_mutex_destroy(&ex->mlock);
    free(ex);
}
