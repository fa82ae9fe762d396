/*
 * sse_runs.c - GET /v1/events[?graph=&workspace_id=]: every run's start,
 * status changes and end as Server-Sent Events, for dashboards (sse.h).
 *
 * The store keeps no log of runs' changes across instances, but it keeps
 * their summaries: the stream compares the newest SV_RUNS_WINDOW summaries
 * with what it saw last time and sends what changed.  It looks again when a
 * run changes here (the watch's "every run" channel), at each periodic look
 * at the store (with Redis, for runs of other instances), at most every
 * SV_RUNS_MIN_GAP_MS however busy the daemon is.  The first look, made
 * before the answer's headers, is a silent baseline: a dashboard opens the
 * stream, then reads GET /v1/runs, and misses nothing in between.
 */
#include "sse.h"
#include "auth.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_RUNS_WINDOW 500     /* newest runs compared at each look */
#define SV_RUNS_MIN_GAP_MS 250 /* between two looks */

typedef struct seen {
    char run_id[SV_RUN_ID_LEN];
    int status;
} seen;

typedef struct runs_stream {
    sv_api *api;
    sv_stream *s;
    const sv_auth_key *key;  /* lives as long as the HTTP server */
    char *graph, *workspace; /* filters; NULL: any */
    seen *seen;              /* sorted by run_id */
    size_t n_seen;
    int64_t last_look, beat_due;
    uint64_t mark;
} runs_stream;

static int by_id(const void *a, const void *b)
{
    return strcmp(((const seen *)a)->run_id, ((const seen *)b)->run_id);
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "";
}

/* Look at the newest summaries; send what changed unless quiet.  How many
 * events were written, or the store's error. */
static int look(runs_stream *rs, int quiet)
{
    sv_api *api = rs->api;
    sv_strvec sums = {0};
    rs->mark = api->watch ? sv_watch_mark(api->watch, SV_WATCH_ALL_RUNS) : 0;
    rs->last_look = sv_mono_ms();
    int rc = api->store->ops->run_summaries(api->store, SV_RUNS_WINDOW, &sums);
    seen *now = rc == 0 ? calloc(sums.n + 1, sizeof *now) : NULL;
    size_t n = 0;
    int wrote = 0;
    if (rc == 0 && !now)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < sums.n; i++) {
        json_object *o = json_tokener_parse(sums.v[i]);
        const char *id = str_of(o, "run_id"), *ws = str_of(o, "workspace_id");
        int status = sv_run_status_parse(str_of(o, "status"));
        if (!o || !sv_run_id_valid(id) || status < 0 || !sv_auth_allows(rs->key, ws) ||
            (rs->graph && strcmp(str_of(o, "graph"), rs->graph) != 0) ||
            (rs->workspace && strcmp(ws, rs->workspace) != 0)) {
            json_object_put(o);
            continue;
        }
        seen key;
        snprintf(key.run_id, sizeof key.run_id, "%s", id);
        key.status = status;
        now[n++] = key;
        seen *was = rs->seen ? bsearch(&key, rs->seen, rs->n_seen, sizeof key, by_id) : NULL;
        int final = sv_run_status_final((sv_run_status)status);
        if (!quiet && (!was || was->status != status)) {
            /* A run first seen already over (it started and ended between
             * two looks) gets both. */
            if (!was)
                sv_sse_write_event(rs->s, -1, "run_start", sums.v[i]);
            if (final || was)
                sv_sse_write_event(rs->s, -1, final ? "run_end" : "run_update", sums.v[i]);
            wrote++;
        }
        json_object_put(o);
    }
    sv_strvec_free(&sums);
    if (rc < 0) {
        free(now);
        return rc;
    }
    qsort(now, n, sizeof *now, by_id);
    free(rs->seen);
    rs->seen = now;
    rs->n_seen = n;
    return wrote;
}

static int runs_fill(void *ctx, sv_stream *s)
{
    runs_stream *rs = ctx;
    sv_api *api = rs->api;
    int64_t now = sv_mono_ms();
    if (atomic_load(&api->stopping)) {
        sv_stream_write(s, ": the daemon is stopping\n\n", 26);
        return SV_STREAM_END;
    }
    if (now - rs->last_look >= SV_RUNS_MIN_GAP_MS) {
        int wrote = look(rs, 0);
        if (wrote < 0) {
            sv_sse_write_event(s, -1, "error",
                               "{\"code\":\"store_unavailable\",\"message\":\"the run store is not "
                               "answering; reconnect\"}");
            return SV_STREAM_END;
        }
        now = sv_mono_ms();
        if (wrote > 0) {
            rs->beat_due = now + api->cfg->sse_heartbeat_ms;
            return SV_STREAM_MORE; /* sent, then parked on the mark of this look */
        }
    }
    if (now >= rs->beat_due) {
        sv_stream_write(s, ": keep-alive\n\n", 14);
        rs->beat_due = now + api->cfg->sse_heartbeat_ms;
        return SV_STREAM_MORE;
    }
    if (!api->watch)
        return SV_STREAM_END;
    /* Too soon after the last look: wait out the gap, deaf to changes. */
    int soon = now - rs->last_look < SV_RUNS_MIN_GAP_MS;
    int64_t due = soon ? rs->last_look + SV_RUNS_MIN_GAP_MS : rs->beat_due;
    sv_watch_cb cb = {.fn = sv_sse_woke, .ctx = s, .fd = sv_stream_fd(s)};
    /* Deaf to changes, it must not be refused for one either: the look
     * after the gap sees it. */
    uint64_t mark = soon ? sv_watch_mark(api->watch, SV_WATCH_ALL_RUNS) : rs->mark;
    int rc =
        sv_watch_add_cb(api->watch, SV_WATCH_ALL_RUNS, &cb, soon ? SV_WATCH_NONE : SV_WATCH_ANY,
                        due < rs->beat_due ? due : rs->beat_due, mark);
    if (rc == -EAGAIN)
        return SV_STREAM_MORE;
    return rc == 0 ? SV_STREAM_WAIT : SV_STREAM_END;
}

static void runs_done(void *ctx)
{
    runs_stream *rs = ctx;
    atomic_fetch_sub(&rs->api->streams, 1);
    free(rs->seen);
    free(rs->graph);
    free(rs->workspace);
    free(rs);
}

void sv_sse_runs(sv_api *api, const sv_req *req, sv_resp *resp)
{
    static const char *const allowed[] = {"graph", "workspace_id", NULL};
    char bad[64], msg[192];
    if (sv_req_unknown_query(req, allowed, bad, sizeof bad)) {
        snprintf(msg, sizeof msg, "unknown query parameter \"%s\"; allowed: graph, workspace_id",
                 bad);
        sv_resp_error(resp, 400, "invalid_request", msg, bad);
        return;
    }
    if (!sv_sse_wanted(req)) {
        sv_resp_error(resp, 406, "not_acceptable",
                      "this is a stream: send Accept: text/event-stream (GET /v1/runs lists runs)",
                      NULL);
        return;
    }
    if (atomic_load(&api->stopping)) {
        sv_resp_error(resp, 503, "shutting_down",
                      "the daemon is shutting down; reconnect to another instance", NULL);
        return;
    }
    const char *graph = sv_req_query(req, "graph"), *ws = sv_req_query(req, "workspace_id");
    runs_stream *rs = calloc(1, sizeof *rs);
    static const sv_stream_ops ops = {.fill = runs_fill, .done = runs_done};
    sv_stream *s = NULL;
    if (rs) {
        rs->api = api;
        rs->key = req->key;
        rs->graph = graph ? strdup(graph) : NULL;
        rs->workspace = ws ? strdup(ws) : NULL;
    }
    if (!rs || (graph && !rs->graph) || (ws && !rs->workspace) ||
        !(s = sv_stream_new(req, &ops, rs))) {
        if (rs) {
            free(rs->graph);
            free(rs->workspace);
        }
        free(rs);
        sv_resp_error(resp, 500, "internal", "out of memory", NULL);
        return;
    }
    atomic_fetch_add(&api->streams, 1);
    rs->s = s;
    int rc = look(rs, 1);
    if (rc < 0) {
        sv_stream_discard(s); /* runs_done frees rs */
        snprintf(msg, sizeof msg, "the run store is not answering (%s); try again", strerror(-rc));
        sv_resp_error(resp, 503, "store_unavailable", msg, NULL);
        return;
    }
    rs->beat_due = sv_mono_ms() + api->cfg->sse_heartbeat_ms;
    sv_stream_write(s, ": runs' starts and ends\nretry: 2000\n\n", 37);
    resp->stream = s;
}
