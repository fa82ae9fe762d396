/* metrics.c - see metrics.h. */
#include "metrics.h"
#include "metrics_hist.h"
#include "http.h"
#include "stall.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef sv_mtext text;
#define put sv_mtext_put

/* HELP and TYPE lines of one metric. */
static void head(text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(text *t, const char *name, const char *type, const char *help, uint64_t v)
{
    head(t, name, type, help);
    put(t, "%s %llu\n", name, (unsigned long long)v);
}

/* A gauge or counter with one label over a fixed set of values. */
static void by_label(text *t, const char *name, const char *type, const char *help,
                     const char *label, const char *const *values, const uint64_t *n, size_t count)
{
    head(t, name, type, help);
    for (size_t i = 0; i < count; i++)
        put(t, "%s{%s=\"%s\"} %llu\n", name, label, values[i], (unsigned long long)n[i]);
}

/* The histograms, the labelled counters and the gauges of issue 11. */
static void render_more(text *t, const sv_metrics_src *src, const sv_exec_stats *ex)
{
    sv_mfam_render(&sv_mfam_run_duration, t);
    sv_mfam_render(&sv_mfam_node_duration, t);
    sv_mfam_render(&sv_mfam_tool_call_duration, t);
    sv_mfam_render(&sv_mfam_tool_call_retries, t);

    const char *kinds[SV_STORE_ERR_KINDS];
    uint64_t errs[SV_STORE_ERR_KINDS];
    for (int i = 0; i < SV_STORE_ERR_KINDS; i++) {
        kinds[i] = sv_store_error_name((sv_store_err_kind)i);
        errs[i] = sv_store_errors((sv_store_err_kind)i);
    }
    by_label(t, "sofiia_store_errors_total", "counter",
             "Store calls that failed, by kind (unavailable: no connection or it broke; "
             "error_reply: the store answered an error; full: it is out of memory).",
             "kind", kinds, errs, SV_STORE_ERR_KINDS);

    sv_registry_counts rc;
    sv_registry_counts_get(src->reg, &rc);
    const char *reasons[SV_REFUSAL_COUNT];
    uint64_t now[SV_REFUSAL_COUNT];
    for (int i = 0; i < SV_REFUSAL_COUNT; i++) {
        reasons[i] = sv_refusal_name((sv_refusal)i);
        now[i] = rc.refused_now[i];
    }
    one(t, "sofiia_plugin_loads_total", "counter",
        "Plugin files loaded and registered (first loads and replacements).", rc.loads);
    by_label(t, "sofiia_plugin_refusals_total", "counter",
             "Plugin load attempts refused, by reason (docs/plugin-authoring.md).", "reason",
             reasons, rc.refusals, SV_REFUSAL_COUNT);
    by_label(t, "sofiia_plugins_refused", "gauge",
             "Files in PLUGIN_DIR whose last load attempt was refused, by reason.", "reason",
             reasons, now, SV_REFUSAL_COUNT);

    static const char *const statuses[] = {"queued", "running", "succeeded", "failed", "cancelled"};
    uint64_t st[5];
    for (int i = 0; i < 5; i++)
        st[i] = ex->by_status[i];
    by_label(t, "sofiia_runs_by_status", "gauge",
             "Runs live in this process by status (a final one is being stored).", "status",
             statuses, st, 5);
    static const char *const on[] = {"worker", "timer", "router", "store"};
    uint64_t w[] = {ex->wait_worker, ex->wait_timer, ex->wait_router, ex->wait_store};
    by_label(t, "sofiia_runs_waiting", "gauge",
             "Runs of this process waiting: for a worker (runnable), on the timer (a poll interval "
             "or backoff), on the router (a tool call), on the store (a round trip; with a "
             "durable store, API requests too).",
             "on", on, w, 4);
}

int sv_metrics_render(const sv_metrics_src *src, char **out)
{
    text t = {0};
    sv_exec_stats ex;
    sv_gw_stats gw;
    sv_exec_stats_get(src->exec, &ex);
    sv_gateway_stats(src->gw, &gw);
    json_object *list = sv_registry_list(src->reg);
    size_t graphs = json_object_array_length(json_object_object_get(list, "graphs"));
    json_object_put(list);

    head(&t, "sofiia_build_info", "gauge", "Version and run store of this daemon.");
    put(&t, "sofiia_build_info{version=\"%s\",store=\"%s\"} 1\n", src->version,
        src->store->ops->name);
    one(&t, "sofiia_graphs_loaded", "gauge", "Graphs that can be started.", graphs);
    one(&t, "sofiia_runs_started_total", "counter", "Runs whose first node began here.",
        ex.started);
    one(&t, "sofiia_runs_resumed_total", "counter",
        "Runs taken over here from a stopped or dead instance.", ex.resumed);
    head(&t, "sofiia_runs_finished_total", "counter", "Runs that ended here, by final status.");
    put(&t,
        "sofiia_runs_finished_total{status=\"succeeded\"} %llu\n"
        "sofiia_runs_finished_total{status=\"failed\"} %llu\n"
        "sofiia_runs_finished_total{status=\"cancelled\"} %llu\n",
        (unsigned long long)ex.succeeded, (unsigned long long)ex.failed,
        (unsigned long long)ex.cancelled);
    one(&t, "sofiia_nodes_executed_total", "counter", "Graph nodes executed.", ex.nodes);
    one(&t, "sofiia_runs_live", "gauge", "Runs queued, running or waiting in this process.",
        ex.live);
    one(&t, "sofiia_runs_runnable", "gauge", "Runs ready for a node, waiting for a worker.",
        ex.runnable);
    one(&t, "sofiia_workers", "gauge", "CPU slots for node code (WORKER_THREADS).", ex.workers);
    one(&t, "sofiia_workers_busy", "gauge", "CPU slots executing a node now.", ex.busy_workers);
    one(&t, "sofiia_worker_threads", "gauge",
        "Executor threads, those waiting on the router or the store included.", ex.threads);
    one(&t, "sofiia_worker_threads_waiting", "gauge",
        "Executor threads waiting on the router or the store now.", ex.blocked);
    one(&t, "sofiia_worker_threads_started_total", "counter",
        "Executor threads started (the pool grows with calls in flight, and shrinks when idle).",
        ex.spawned);
    one(&t, "sofiia_worker_handoffs_total", "counter",
        "CPU slots handed on by a thread whose wait on the router or the store went long.",
        ex.handoffs);
    head(&t, "sofiia_tool_call_attempts_total", "counter",
         "Attempts of tool calls to the router, by outcome.");
    put(&t,
        "sofiia_tool_call_attempts_total{status=\"succeeded\"} %llu\n"
        "sofiia_tool_call_attempts_total{status=\"failed\"} %llu\n"
        "sofiia_tool_call_attempts_total{status=\"error\"} %llu\n",
        (unsigned long long)gw.succeeded, (unsigned long long)gw.failed,
        (unsigned long long)gw.error);
    head(&t, "sofiia_tool_call_attempt_seconds_total", "counter",
         "Time spent in tool call attempts.");
    put(&t, "sofiia_tool_call_attempt_seconds_total %.3f\n", (double)gw.duration_ms / 1000.0);
    one(&t, "sofiia_waiting_requests", "gauge", "GET /v1/runs/{id}?wait= requests parked now.",
        sv_watch_count(src->watch));
    one(&t, "sofiia_runs_active_limit", "gauge",
        "MAX_RUNS_ACTIVE: runs live here past which starts are refused (429).",
        (uint64_t)src->runs_limit);
    one(&t, "sofiia_runs_refused_total", "counter",
        "Starts refused with 429 too_many_runs (MAX_RUNS_ACTIVE).", src->runs_refused);
    unsigned conn_limit = 0, conns = sv_http_connections(&conn_limit);
    one(&t, "sofiia_http_connections", "gauge", "HTTP connections open now.", conns);
    one(&t, "sofiia_http_connections_limit", "gauge",
        "MAX_CONNECTIONS (lowered when RLIMIT_NOFILE cannot fit it): past it, new connections "
        "wait in the listen backlog.",
        conn_limit);
    size_t stalled = 0;
    uint64_t stalled_total = 0;
    sv_stall_counts(&stalled, &stalled_total);
    one(&t, "sofiia_nodes_blocking_stop", "gauge",
        "Nodes that a cancel, deadline or stop has waited on for over a second (plugin code that "
        "does not return).",
        stalled);
    one(&t, "sofiia_nodes_blocking_stop_total", "counter",
        "Nodes that held a cancel, deadline or stop up for over a second.", stalled_total);
    one(&t, "sofiia_event_streams", "gauge",
        "Event streams (GET /v1/runs/{id}/events, GET /v1/events) open now.", src->streams);
    render_more(&t, src, &ex);
    if (t.failed) {
        free(t.p);
        return -ENOMEM;
    }
    *out = t.p;
    return 0;
}
