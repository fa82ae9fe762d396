/*
 * sse.c - GET /v1/runs/{id}/events: a run's events as Server-Sent Events,
 * or as a JSON page (see sse.h, docs/api.md).
 *
 * An event's sequence number is what `since` counts: events_dropped plus
 * its index among the kept ones, so it never changes while the run lives.
 * The stream sends each event once as "id: SEQ", "event: TYPE" and "data:
 * EVENT", then, after run_end, "event: end" with the run's final status,
 * result and error, and closes.  A client resumes with Last-Event-ID (or
 * ?since=): nothing before it is sent again, nothing after it is skipped;
 * events dropped before it could read them are one "event: dropped".
 *
 * Between batches the stream is parked on the watch (no thread): woken by
 * the run's events written here, by the periodic look at the store (runs
 * executed by another instance), by its heartbeat's deadline, or by its
 * client's hang-up.  The watch's mark is read before the store is, and the
 * park is refused when the run changed since, so no event is missed.
 */
#include "sse.h"
#include "auth.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_PAGE_MAX 1000 /* events in one JSON page: all a run keeps */

typedef struct run_stream {
    sv_api *api;
    sv_stream *s;
    char run_id[SV_RUN_ID_LEN];
    int64_t next;     /* sequence number of the next event to send */
    int64_t beat_due; /* monotonic ms of the next heartbeat */
    uint64_t mark;    /* the watch's mark read before the last look */
    int marked;       /* everything up to mark is sent: park on it */
    int saw_end;      /* run_end sent: the final record next */
} run_stream;

int sv_sse_wanted(const sv_req *req)
{
    const char *a = sv_req_header(req, "Accept");
    return a && strstr(a, "text/event-stream") != NULL;
}

void sv_sse_woke(void *stream, int why)
{
    sv_stream_wake(stream, why == SV_WATCH_WOKE_HANGUP);
}

int sv_sse_write_event(sv_stream *s, int64_t id, const char *type, const char *data)
{
    char head[160];
    int n = 0;
    if (id >= 0)
        n += snprintf(head + n, sizeof head - (size_t)n, "id: %" PRId64 "\n", id);
    if (type)
        n += snprintf(head + n, sizeof head - (size_t)n, "event: %.100s\n", type);
    int rc = sv_stream_write(s, head, (size_t)n);
    /* JSON text has no raw line breaks; should one come, each line is a
     * data line of its own, which the client joins back with "\n". */
    for (const char *p = data; rc == 0;) {
        size_t len = strcspn(p, "\r\n");
        rc = sv_stream_write(s, "data: ", 6);
        if (rc == 0)
            rc = sv_stream_write(s, p, len);
        if (rc == 0)
            rc = sv_stream_write(s, "\n", 1);
        if (!p[len])
            break;
        p += len + (p[len] == '\r' && p[len + 1] == '\n' ? 2 : 1);
    }
    return rc == 0 ? sv_stream_write(s, "\n", 1) : rc;
}

/* The "type" of an event as stored, into buf ("message" when unreadable:
 * the data still says everything). */
static const char *event_type(const char *text, char *buf, size_t len)
{
    const char *p = strstr(text, "\"type\":\"");
    snprintf(buf, len, "message");
    if (!p)
        return buf;
    p += 8;
    size_t n = strcspn(p, "\"\\\r\n");
    if (p[n] == '"' && n > 0 && n < len)
        snprintf(buf, len, "%.*s", (int)n, p);
    return buf;
}

static int write_json(sv_stream *s, int64_t id, const char *type, json_object *o)
{
    const char *t =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return sv_sse_write_event(s, id, type, t ? t : "{}");
}

static int write_error(sv_stream *s, const char *code, const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    int rc = write_json(s, -1, "error", o);
    json_object_put(o);
    return rc;
}

/* The events from rs->next on: 1 when something was written (or the
 * stream must end: *end), 0 when there was nothing new. */
static int send_events(run_stream *rs, int *end)
{
    sv_store *st = rs->api->store;
    sv_strvec ev = {0};
    uint64_t dropped = 0;
    int wrote = 0;
    int rc = st->ops->events_get(st, rs->run_id, &ev, &dropped);
    if (rc < 0) {
        /* the client may come back with Last-Event-ID once it is back */
        write_error(rs->s, rc == -ENOENT ? "run_not_found" : "store_unavailable",
                    rc == -ENOENT ? "the run is no longer stored (RUN_TTL_SEC)"
                                  : "the run store is not answering; reconnect with Last-Event-ID");
        *end = 1;
        return 1;
    }
    if (rs->next < (int64_t)dropped) {
        /* Gone before they could be sent: say how many, under the id of the
         * last of them, so a reconnect does not hear of it again. */
        json_object *o = json_object_new_object();
        json_object_object_add(o, "events_dropped", json_object_new_int64((int64_t)dropped));
        json_object_object_add(o, "missed", json_object_new_int64((int64_t)dropped - rs->next));
        write_json(rs->s, (int64_t)dropped - 1, "dropped", o);
        json_object_put(o);
        rs->next = (int64_t)dropped;
        wrote = 1;
    }
    for (size_t i = (size_t)(rs->next - (int64_t)dropped); i < ev.n; i++) {
        char type[104];
        event_type(ev.v[i], type, sizeof type);
        if (sv_sse_write_event(rs->s, rs->next, type, ev.v[i]) < 0) {
            *end = 1;
            break;
        }
        rs->next++;
        wrote = 1;
        if (strcmp(type, "run_end") == 0)
            rs->saw_end = 1;
    }
    sv_strvec_free(&ev);
    return wrote || *end;
}

/* After run_end: the final record, as "event: end".  1 when written (the
 * stream ends), 0 when the record is not final yet (it is saved just after
 * run_end: wait for it). */
static int send_end(run_stream *rs)
{
    sv_store *st = rs->api->store;
    char *text = NULL;
    int rc = st->ops->run_get(st, rs->run_id, &text);
    json_object *rec = rc == 0 ? json_tokener_parse(text) : NULL;
    free(text);
    int s = sv_run_status_parse(sv_run_record_str(rec, "status"));
    if (rec && s >= 0 && !sv_run_status_final((sv_run_status)s)) {
        json_object_put(rec);
        return 0;
    }
    static const char *const keys[] = {"run_id",     "graph",      "status",
                                       "created_at", "started_at", "finished_at",
                                       "result",     "error",      NULL};
    json_object *o = json_object_new_object();
    for (const char *const *k = keys; rec && *k; k++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(rec, *k, &v))
            json_object_object_add(o, *k, json_object_get(v));
    }
    if (!rec)
        json_object_object_add(o, "run_id", json_object_new_string(rs->run_id));
    write_json(rs->s, -1, "end", o);
    json_object_put(o);
    json_object_put(rec);
    return 1;
}

static int run_fill(void *ctx, sv_stream *s)
{
    run_stream *rs = ctx;
    sv_api *api = rs->api;
    int end = 0;
    if (atomic_load(&api->stopping)) {
        sv_stream_write(s, ": the daemon is stopping; reconnect with Last-Event-ID\n\n", 56);
        return SV_STREAM_END;
    }
    if (!rs->marked) {
        rs->mark = api->watch ? sv_watch_mark(api->watch, rs->run_id) : 0;
        int wrote = !rs->saw_end && send_events(rs, &end);
        if (end)
            return SV_STREAM_END;
        if (rs->saw_end && send_end(rs))
            return SV_STREAM_END;
        if (wrote) {
            /* Sent once this is out; then park on the same mark. */
            rs->marked = 1;
            rs->beat_due = sv_mono_ms() + api->cfg->sse_heartbeat_ms;
            return SV_STREAM_MORE;
        }
    }
    int64_t now = sv_mono_ms();
    if (now >= rs->beat_due) {
        /* Keeps proxies from cutting an idle stream, and finds a client that
         * left without the hang-up being seen: the write fails. */
        sv_stream_write(s, ": keep-alive\n\n", 14);
        rs->beat_due = now + api->cfg->sse_heartbeat_ms;
        rs->marked = 1;
        return SV_STREAM_MORE;
    }
    if (!api->watch)
        return SV_STREAM_END;
    sv_watch_cb cb = {.fn = sv_sse_woke, .ctx = s, .fd = sv_stream_fd(s)};
    uint64_t mark = rs->mark;
    rs->marked = 0; /* woken: look again */
    int rc = sv_watch_add_cb(api->watch, rs->run_id, &cb,
                             rs->saw_end ? SV_WATCH_FINAL : SV_WATCH_ANY, rs->beat_due, mark);
    if (rc == -EAGAIN)
        return SV_STREAM_MORE; /* it changed meanwhile: look again now */
    return rc == 0 ? SV_STREAM_WAIT : SV_STREAM_END;
}

static void run_done(void *ctx)
{
    run_stream *rs = ctx;
    atomic_fetch_sub(&rs->api->streams, 1);
    free(rs);
}

static void not_found(sv_resp *resp, const char *id)
{
    char msg[160];
    snprintf(msg, sizeof msg, "no run with id \"%.40s\" (runs expire after RUN_TTL_SEC)", id);
    sv_resp_error(resp, 404, "run_not_found", msg, NULL);
}

static void store_down(sv_resp *resp, int rc)
{
    char msg[160];
    snprintf(msg, sizeof msg, "the run store is not answering (%s); try again", strerror(-rc));
    sv_resp_error(resp, 503, "store_unavailable", msg, NULL);
}

/* A whole number in [lo, hi]; 0 when absent (*out unchanged), 1 when read,
 * -1 with a 400 in resp when malformed.  what names it in the message. */
static int whole(const char *v, const char *what, int64_t lo, int64_t hi, int64_t *out,
                 sv_resp *resp)
{
    char *end = NULL, msg[192];
    if (!v)
        return 0;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        snprintf(msg, sizeof msg, "%s must be a whole number %" PRId64 "..%" PRId64, what, lo, hi);
        sv_resp_error(resp, 400, "invalid_request", msg, what);
        return -1;
    }
    *out = n;
    return 1;
}

/* The JSON page: {"run_id","status","events":[{"seq",...}],"next",
 * "events_dropped","missed"}, the events spliced in as stored. */
static void events_page(sv_api *api, const char *id, const char *status, int64_t since,
                        int64_t limit, sv_resp *resp)
{
    sv_strvec ev = {0};
    uint64_t dropped = 0;
    int rc = api->store->ops->events_get(api->store, id, &ev, &dropped);
    if (rc < 0) {
        if (rc == -ENOENT)
            not_found(resp, id);
        else
            store_down(resp, rc);
        return;
    }
    int64_t total = (int64_t)dropped + (int64_t)ev.n;
    int64_t first = since < (int64_t)dropped ? (int64_t)dropped : since > total ? total : since;
    int64_t n = total - first < limit ? total - first : limit;
    size_t cap = 256;
    for (int64_t i = 0; i < n; i++)
        cap += strlen(ev.v[first - (int64_t)dropped + i]) + 32;
    char *out = malloc(cap), *p = out;
    if (!out) {
        sv_strvec_free(&ev);
        sv_resp_error(resp, 500, "internal", "out of memory", NULL);
        return;
    }
    p += sprintf(p, "{\"run_id\":\"%s\",\"status\":\"%s\",\"events\":[", id, status);
    for (int64_t i = 0; i < n; i++) {
        const char *t = ev.v[first - (int64_t)dropped + i];
        p += sprintf(p, "%s{\"seq\":%" PRId64 "%s%s", i ? "," : "", first + i,
                     t[0] == '{' && t[1] != '}' ? "," : "", t[0] == '{' ? t + 1 : "}");
    }
    sprintf(p, "],\"next\":%" PRId64 ",\"events_dropped\":%" PRIu64 ",\"missed\":%" PRId64 "}",
            first + n, dropped, since < (int64_t)dropped ? (int64_t)dropped - since : 0);
    sv_strvec_free(&ev);
    resp->status = 200;
    resp->json_text = out;
}

void sv_sse_run_events(sv_api *api, const sv_req *req, const char *id, sv_resp *resp)
{
    static const char *const allowed[] = {"since", "limit", NULL};
    char bad[64], msg[192], *text = NULL;
    int sse = sv_sse_wanted(req);
    int64_t since = 0, last = -1, limit = SV_PAGE_MAX;
    if (sv_req_unknown_query(req, allowed, bad, sizeof bad)) {
        snprintf(msg, sizeof msg, "unknown query parameter \"%s\"; allowed: since, limit", bad);
        sv_resp_error(resp, 400, "invalid_request", msg, bad);
        return;
    }
    if (whole(sv_req_query(req, "since"), "since", 0, INT64_MAX / 2, &since, resp) < 0 ||
        whole(sv_req_query(req, "limit"), "limit", 1, SV_PAGE_MAX, &limit, resp) < 0)
        return;
    /* What a reconnecting EventSource sends: the id of the last event it
     * got, so the next one is wanted.  It wins over the URL's since, which
     * is where the stream first began. */
    int has_last =
        whole(sv_req_header(req, "Last-Event-ID"), "Last-Event-ID", -1, INT64_MAX / 2, &last, resp);
    if (has_last < 0)
        return;
    if (has_last)
        since = last + 1;
    int rc = sv_run_id_valid(id) ? api->store->ops->run_get(api->store, id, &text) : -ENOENT;
    json_object *rec = rc == 0 ? json_tokener_parse(text) : NULL;
    free(text);
    if (rc == 0 && (!rec || !sv_auth_allows(req->key, sv_run_record_str(rec, "workspace_id"))))
        rc = -ENOENT; /* another workspace's run: as if it did not exist */
    if (rc < 0) {
        json_object_put(rec);
        if (rc == -ENOENT)
            not_found(resp, id);
        else
            store_down(resp, rc);
        return;
    }
    if (!sse) {
        const char *status = sv_run_record_str(rec, "status");
        events_page(api, id, sv_json_plain(status ? status : "") ? status : "unknown", since, limit,
                    resp);
        json_object_put(rec);
        return;
    }
    json_object_put(rec);
    if (atomic_load(&api->stopping)) {
        sv_resp_error(resp, 503, "shutting_down",
                      "the daemon is shutting down; reconnect to another instance", NULL);
        return;
    }
    run_stream *rs = calloc(1, sizeof *rs);
    static const sv_stream_ops ops = {.fill = run_fill, .done = run_done};
    sv_stream *s = rs ? sv_stream_new(req, &ops, rs) : NULL;
    if (!s) {
        free(rs);
        sv_resp_error(resp, 500, "internal", "out of memory", NULL);
        return;
    }
    atomic_fetch_add(&api->streams, 1);
    rs->api = api;
    rs->s = s;
    snprintf(rs->run_id, sizeof rs->run_id, "%s", id);
    rs->next = since;
    /* Bytes at once, so the client's fetch() resolves before the first
     * event; retry: how soon an EventSource reconnects. */
    snprintf(msg, sizeof msg, ": events of %s from %" PRId64 "\nretry: 2000\n\n", id, since);
    sv_stream_write(s, msg, strlen(msg));
    resp->stream = s;
}
