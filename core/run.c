/* run.c - a run's record, events and view in the store. */
#include "run.h"
#include "json_text.h"
#include "log.h"
#include "run_fsm.h"
#include "timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input never changes, but the checkpoint written after every node
 * carries it: serialise it once, and let the checkpoint hold an object whose
 * serializer copies that text (a 1 MiB diff_text is then one memcpy per
 * node, not a walk of the tree). */
static int input_text_serializer(json_object *jso, struct printbuf *pb, int level, int flags)
{
    (void)level;
    (void)flags;
    const char *text = json_object_get_userdata(jso);
    return printbuf_memappend(pb, text, (int)strlen(text));
}

static void input_text_free(json_object *jso, void *userdata)
{
    (void)jso;
    free(userdata);
}

static json_object *input_checkpoint(json_object *input)
{
    char *text = strdup(json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN));
    /* any small object will do as the carrier: an int has no hash table */
    json_object *o = text ? json_object_new_int(0) : NULL;
    if (!o) {
        free(text);
        return NULL;
    }
    json_object_set_serializer(o, input_text_serializer, text, input_text_free);
    return o;
}

static const char *const g_status[] = {"queued", "running", "succeeded", "failed", "cancelled"};

const char *sv_run_status_name(sv_run_status s)
{
    return (unsigned)s < 5 ? g_status[s] : "unknown";
}

int sv_run_status_parse(const char *s)
{
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, g_status[i]) == 0)
            return i;
    return -1;
}

/* The parts of a run every way of making one shares; takes input. */
static int run_alloc(sv_store *st, sv_graph_ent *e, json_object *input, sv_run **out)
{
    int rc = 0;
    sv_run *r = calloc(1, sizeof *r);
    if (!r) {
        rc = -ENOMEM;
        goto out;
    }
    r->call_seq = calloc(e->desc->n_nodes + 1, sizeof *r->call_seq);
    r->state = json_object_new_object();
    r->input_cp = input_checkpoint(input);
    if (!r->call_seq || !r->state || !r->input_cp) {
        rc = -ENOMEM;
        goto out;
    }
    sv_graph_ent_ref(e);
    r->graph = e;
    r->input = input;
    input = NULL;
    r->status = SV_RUN_QUEUED;
    r->summary_status = -1; /* none stored yet, or (restored) not by us */
    r->park_slot = r->deadline_slot = SV_TIMER_NONE;
    r->node = sv_graph_ent_node(e, e->desc->entry);
    atomic_init(&r->cancel, SV_STOP_NONE);
    atomic_init(&r->refs, 1);
    pthread_mutex_init(&r->lock, NULL);
    r->store = st;
out:
    if (rc < 0 && r) {
        free(r->call_seq);
        json_object_put(r->state);
        json_object_put(r->input_cp);
        free(r);
        r = NULL;
    }
    json_object_put(input);
    *out = r;
    return rc;
}

int sv_run_new(sv_store *st, sv_graph_ent *e, const char *workspace_id, const char *user_id,
               const char *agent_id, json_object *input, sv_run **out)
{
    sv_run *r = NULL;
    int rc = run_alloc(st, e, input, &r);
    if (rc < 0)
        goto out;
    rc = sv_run_id_new(r->id);
    if (rc == 0)
        rc = sv_trace_id_new(r->trace_id);
    if (rc < 0)
        goto out;
    r->trace_flags = SV_TRACE_FLAGS_NEW;
    snprintf(r->workspace_id, sizeof r->workspace_id, "%s", workspace_id);
    snprintf(r->user_id, sizeof r->user_id, "%s", user_id);
    snprintf(r->agent_id, sizeof r->agent_id, "%s", agent_id);
    r->created_us = sv_now_us();
out:
    if (rc < 0) {
        sv_run_unref(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

int sv_run_join_trace(sv_run *r, const char *traceparent)
{
    char id[SV_TRACE_ID_LEN];
    unsigned flags = 0;
    /* An invalid header is the caller's mistake in a header it need not
     * send: ignored, as the spec asks, and the run keeps its own trace. */
    if (sv_traceparent_parse(traceparent, id, &flags) < 0)
        return 0;
    memcpy(r->trace_id, id, sizeof id);
    r->trace_flags = flags;
    return 1;
}

void sv_run_record_trace(json_object *record, char out[SV_TRACE_ID_LEN])
{
    const char *t = sv_run_record_str(record, "trace_id");
    if (sv_trace_id_valid(t))
        memcpy(out, t, SV_TRACE_ID_LEN);
    else
        sv_trace_id_derive(sv_run_record_str(record, "run_id"), out);
}

const char *sv_run_record_str(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* Copy a stored id field; it was checked when the run started, but the
 * record came back from outside the process. */
static int rec_id(json_object *rec, const char *key, char *dst, size_t len)
{
    const char *v = sv_run_record_str(rec, key);
    if (!v || !*v || strlen(v) >= len)
        return -EINVAL;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int rec_ts(json_object *rec, const char *key, int64_t *us)
{
    const char *v = sv_run_record_str(rec, key);
    *us = 0;
    return v ? sv_parse_ts(v, us) : 0;
}

int sv_run_restore(sv_store *st, sv_graph_ent *e, json_object *record, sv_run **out, char *why,
                   size_t why_len)
{
    int rc = -EINVAL;
    sv_run *r = NULL;
    json_object *cp = NULL, *input = NULL, *state = NULL, *seq = NULL;
    const char *what = "its checkpoint is missing";
    const sv_node *node = NULL;
    int status = sv_run_status_parse(sv_run_record_str(record, "status"));
    if (status != SV_RUN_QUEUED && status != SV_RUN_RUNNING) {
        what = "it is not queued or running";
        goto out;
    }
    if (!json_object_object_get_ex(record, "checkpoint", &cp) ||
        !json_object_is_type(cp, json_type_object))
        goto out;
    what = "its checkpoint is malformed";
    if (!json_object_object_get_ex(cp, "input", &input) ||
        !json_object_is_type(input, json_type_object) ||
        !json_object_object_get_ex(cp, "state", &state) ||
        !json_object_is_type(state, json_type_object) ||
        !json_object_object_get_ex(cp, "call_seq", &seq) ||
        !json_object_is_type(seq, json_type_array) ||
        json_object_array_length(seq) != e->desc->n_nodes + 1)
        goto out;
    node = sv_graph_ent_node(e, sv_run_record_str(cp, "node") ? sv_run_record_str(cp, "node") : "");
    if (!node) {
        what = "its checkpoint names a node the graph does not have";
        goto out;
    }
    /* Deep copies: the record is the caller's, and json-c's counts are not
     * atomic across the threads that will touch the run. */
    json_object *in_copy = NULL, *state_copy = NULL;
    if (json_object_deep_copy(input, &in_copy, NULL) < 0 ||
        json_object_deep_copy(state, &state_copy, NULL) < 0) {
        json_object_put(in_copy);
        rc = -ENOMEM;
        what = "out of memory";
        goto out;
    }
    rc = run_alloc(st, e, in_copy, &r);
    if (rc < 0) {
        json_object_put(state_copy);
        what = "out of memory";
        goto out;
    }
    json_object_put(r->state);
    r->state = state_copy;
    rc = -EINVAL;
    what = "its ids or timestamps are malformed";
    if (rec_id(record, "run_id", r->id, sizeof r->id) < 0 || !sv_run_id_valid(r->id) ||
        rec_id(record, "workspace_id", r->workspace_id, sizeof r->workspace_id) < 0 ||
        rec_id(record, "user_id", r->user_id, sizeof r->user_id) < 0 ||
        rec_id(record, "agent_id", r->agent_id, sizeof r->agent_id) < 0 ||
        rec_ts(record, "created_at", &r->created_us) < 0 || r->created_us == 0 ||
        rec_ts(record, "started_at", &r->started_us) < 0)
        goto out;
    /* A run stored before traces existed gets the id every instance
     * derives for it, and the flags of a trace started here. */
    sv_run_record_trace(record, r->trace_id);
    json_object *fl = NULL;
    int64_t flags =
        json_object_object_get_ex(cp, "trace_flags", &fl) && json_object_is_type(fl, json_type_int)
            ? json_object_get_int64(fl)
            : -1;
    r->trace_flags = flags >= 0 && flags <= 255 ? (unsigned)flags : SV_TRACE_FLAGS_NEW;
    for (uint32_t i = 0; i <= e->desc->n_nodes; i++)
        r->call_seq[i] = (uint32_t)json_object_get_int64(json_object_array_get_idx(seq, i));
    r->node = node;
    r->status = (sv_run_status)status;
    /* A run that was running may have started a node: a stop now owes the
     * graph its on_cancel. */
    r->nodes_started = status == SV_RUN_RUNNING;
    rc = 0;
out:
    if (rc < 0) {
        snprintf(why, why_len, "%s", what);
        sv_run_unref(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

void sv_run_ref(sv_run *r)
{
    atomic_fetch_add(&r->refs, 1);
}

static void pend_clear(sv_run *r)
{
    for (size_t i = 0; i < r->n_pend; i++)
        free(r->pend[i]);
    r->n_pend = 0;
}

void sv_run_unref(sv_run *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    pend_clear(r);
    free(r->pend);
    sv_graph_ent_unref(r->graph);
    json_object_put(r->input);
    json_object_put(r->input_cp);
    json_object_put(r->state);
    json_object_put(r->result);
    free(r->call_seq);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void sv_run_release(sv_run *r)
{
    pthread_mutex_lock(&r->lock);
    sv_graph_ent *g = r->graph;
    json_object *in = r->input, *st = r->state, *res = r->result, *cp = r->input_cp;
    uint32_t *seq = r->call_seq;
    r->graph = NULL;
    r->input = r->state = r->result = r->input_cp = NULL;
    r->call_seq = NULL;
    r->node = NULL;
    pthread_mutex_unlock(&r->lock);
    json_object_put(in);
    json_object_put(cp);
    json_object_put(st);
    json_object_put(res);
    free(seq);
    sv_graph_ent_unref(g);
}

static json_object *ts_or_null(int64_t us)
{
    if (!us)
        return NULL;
    char buf[SV_TS_LEN];
    sv_format_ts(us, buf);
    return json_object_new_string(buf);
}

json_object *sv_run_record(const sv_run *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "run_id", json_object_new_string(r->id));
    json_object_object_add(o, "graph", json_object_new_string(r->graph->desc->name));
    json_object_object_add(o, "graph_version", json_object_new_string(r->graph->desc->version));
    json_object_object_add(o, "status", json_object_new_string(sv_run_status_name(r->status)));
    json_object_object_add(o, "workspace_id", json_object_new_string(r->workspace_id));
    json_object_object_add(o, "user_id", json_object_new_string(r->user_id));
    json_object_object_add(o, "agent_id", json_object_new_string(r->agent_id));
    json_object_object_add(o, "trace_id", json_object_new_string(r->trace_id));
    json_object_object_add(o, "created_at", ts_or_null(r->created_us));
    json_object_object_add(o, "started_at", ts_or_null(r->started_us));
    json_object_object_add(o, "finished_at", ts_or_null(r->finished_us));
    json_object_object_add(o, "result", r->result ? json_object_get(r->result) : NULL);
    json_object *err = NULL;
    if (r->err_code[0]) {
        err = json_object_new_object();
        json_object_object_add(err, "code", json_object_new_string(r->err_code));
        json_object_object_add(err, "message", json_object_new_string(r->err_message));
    }
    json_object_object_add(o, "error", err);
    /* What another instance needs to resume the run after this one dies:
     * never shown to callers. */
    if (!sv_run_status_final(r->status)) {
        json_object *cp = json_object_new_object();
        json_object_object_add(cp, "node", r->node ? json_object_new_string(r->node->name) : NULL);
        json_object_object_add(cp, "input", json_object_get(r->input_cp));
        json_object_object_add(cp, "state", json_object_get(r->state));
        json_object *seq = json_object_new_array();
        for (uint32_t i = 0; i <= r->graph->desc->n_nodes; i++)
            json_object_array_add(seq, json_object_new_int64(r->call_seq[i]));
        json_object_object_add(cp, "call_seq", seq);
        /* the caller's flags go on with the calls of whoever resumes it */
        json_object_object_add(cp, "trace_flags", json_object_new_int((int)r->trace_flags));
        json_object_object_add(o, "checkpoint", cp);
    }
    return o;
}

/* The members of a run's summary, in the order listings show them: the
 * record's, less the result and the checkpoint (and, in the view, events). */
static const char *const g_summary_keys[] = {
    "run_id",   "graph",      "graph_version", "status",      "workspace_id", "user_id",
    "agent_id", "created_at", "started_at",    "finished_at", "error",        NULL};

/* The summary of a record (references to its members), so both texts come
 * from one tree and can never disagree. */
static json_object *summary_of(json_object *record)
{
    json_object *o = json_object_new_object();
    for (const char *const *k = g_summary_keys; o && *k; k++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(record, *k, &v))
            json_object_object_add(o, *k, json_object_get(v));
    }
    return o;
}

static const char *plain(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

/*
 * Write the record, and the summary when it may differ from the one stored.
 * Of its members, the ids, graph and created_at never change; started_at and
 * finished_at are set in the same step as the status (step_run, mark_final);
 * only the error can change on its own (host->fail() in a node that goes on).
 * So the summary goes with the create, with every change of status, and with
 * every write while an error is set (almost always the final one anyway),
 * and the checkpoints after each node write none.  summary_status is only
 * moved on once a write with the summary succeeded, so a failed one is
 * retried by the next.
 */
static void notify_events(sv_run *r)
{
    if (r->notify)
        r->notify(r->notify_arg, r->id, 0);
}

/* After a write of the kept events: gone on success, or when the run is
 * gone from the store (nothing to write them to); kept for the next write
 * otherwise, so a store that was away gets them late but in order. */
static void pend_done(sv_run *r, int rc, size_t n)
{
    if (rc < 0 && rc != -ENOENT)
        return;
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        free(r->pend[i]);
    memmove(r->pend, r->pend + n, (r->n_pend - n) * sizeof *r->pend);
    r->n_pend -= n;
    r->pend_first += n;
    if (rc == 0)
        notify_events(r);
}

/* wait: 1 waits for the store's answer, 0 posts (create always waits). */
static int put_record(sv_run *r, int create, int wait)
{
    sv_run_status status = r->status;
    int with_summary = create || (int)status != r->summary_status || r->err_code[0];
    json_object *rec = sv_run_record(r), *sum = NULL;
    int rc = 0, flag = 0;
    size_t n = r->n_pend;
    if (with_summary && !(sum = summary_of(rec))) {
        rc = -ENOMEM;
        goto out;
    }
    const char *sum_text = sum ? plain(sum) : NULL;
    const char *const *ev = (const char *const *)r->pend;
    if (create) {
        rc = r->store->ops->run_create(r->store, r->id, plain(rec), sum_text, r->created_us);
    } else if (wait) {
        rc = sv_store_step_seq(r->store, r->id, ev, n, SV_EVENTS_CAP, plain(rec), sum_text,
                               r->epoch, r->pend_first, &flag);
        pend_done(r, rc, n);
    } else {
        rc = sv_store_step_post_seq(r->store, r->id, ev, n, SV_EVENTS_CAP, plain(rec), sum_text,
                                    r->epoch, r->pend_first);
        pend_done(r, rc, n);
    }
    if (rc == 0 && sum)
        r->summary_status = (int)status;
    if (rc == 0 && !create && wait)
        r->cancel_seen = flag;
out:
    json_object_put(sum);
    json_object_put(rec);
    return rc;
}

int sv_run_store_create(sv_run *r)
{
    return put_record(r, 1, 1);
}

int sv_run_save(sv_run *r)
{
    int rc = put_record(r, 0, 1);
    /* A newer owner, or a retry of a run's end already said: no line. */
    if (rc < 0 && rc != -ESTALE && r->final_retries == 0)
        sv_logf(SV_LEVEL_ERROR, "run %s: cannot save its record: %s", r->id, strerror(-rc));
    return rc;
}

int sv_run_save_post(sv_run *r)
{
    int rc = put_record(r, 0, 0);
    if (rc < 0)
        sv_logf(SV_LEVEL_ERROR, "run %s: cannot save its record: %s", r->id, strerror(-rc));
    return rc;
}

static int write_events(sv_run *r, int wait)
{
    size_t n = r->n_pend;
    if (n == 0)
        return 0;
    const char *const *ev = (const char *const *)r->pend;
    int rc = wait ? sv_store_step_seq(r->store, r->id, ev, n, SV_EVENTS_CAP, NULL, NULL, r->epoch,
                                      r->pend_first, NULL)
                  : sv_store_step_post_seq(r->store, r->id, ev, n, SV_EVENTS_CAP, NULL, NULL,
                                           r->epoch, r->pend_first);
    pend_done(r, rc, n);
    return rc;
}

int sv_run_post(sv_run *r)
{
    return write_events(r, 0);
}

int sv_run_flush(sv_run *r)
{
    return write_events(r, 1);
}

static char *event_text(const char *type, const char *node, json_object *details)
{
    char ts[SV_TS_LEN];
    sv_format_ts(sv_now_us(), ts);
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "ts", json_object_new_string(ts));
    json_object_object_add(ev, "type", json_object_new_string(type));
    json_object_object_add(ev, "node", node ? json_object_new_string(node) : NULL);
    json_object_object_add(ev, "details", details ? details : json_object_new_object());
    char *text = strdup(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
    json_object_put(ev);
    return text;
}

int sv_run_event_to(sv_store *st, const char *run_id, const char *type, const char *node,
                    json_object *details)
{
    char *text = event_text(type, node, details);
    if (!text)
        return -ENOMEM;
    int rc = st->ops->event_append(st, run_id, text, SV_EVENTS_CAP);
    free(text);
    return rc;
}

int sv_json_plain(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
            return 0;
    return s != NULL;
}

static int keep_event(sv_run *r, char *text);

int sv_run_event_text(sv_run *r, const char *type, const char *node, const char *details)
{
    char ts[SV_TS_LEN], *text = NULL;
    if (!sv_json_plain(type) || (node && !sv_json_plain(node)))
        return sv_run_event(r, type, node, json_tokener_parse(details));
    sv_format_ts(sv_now_us(), ts);
    int n = node ? asprintf(&text, "{\"ts\":\"%s\",\"type\":\"%s\",\"node\":\"%s\",\"details\":%s}",
                            ts, type, node, details)
                 : asprintf(&text, "{\"ts\":\"%s\",\"type\":\"%s\",\"node\":null,\"details\":%s}",
                            ts, type, details);
    if (n < 0)
        return -ENOMEM;
    return keep_event(r, text);
}

int sv_run_event(sv_run *r, const char *type, const char *node, json_object *details)
{
    char *text = event_text(type, node, details);
    if (!text)
        return -ENOMEM;
    return keep_event(r, text);
}

/* Keep an event's text (taken) with the run until its next write. */
static int keep_event(sv_run *r, char *text)
{
    if (r->n_pend == r->cap_pend) {
        size_t cap = r->cap_pend ? r->cap_pend * 2 : 8;
        char **p = realloc(r->pend, cap * sizeof *p);
        if (!p) {
            free(text);
            return -ENOMEM;
        }
        r->pend = p;
        r->cap_pend = cap;
    }
    /* Numbered as they are made: the store keeps each number once
     * (store.h run_claim), whatever write carries it. */
    if (r->n_pend == 0)
        r->pend_first = r->ev_seq + 1;
    r->ev_seq++;
    r->pend[r->n_pend++] = text;
    /* A node that makes many events, or a store away for long: write them
     * (or, past the cap, drop the oldest kept, as the store would). */
    if (r->n_pend >= 256)
        sv_run_flush(r);
    if (r->n_pend > SV_EVENTS_CAP) {
        free(r->pend[0]);
        memmove(r->pend, r->pend + 1, (r->n_pend - 1) * sizeof *r->pend);
        r->n_pend--;
        r->pend_first++;
    }
    return 0;
}

int sv_run_fail_record(sv_store *st, json_object *record, const char *code, const char *message)
{
    const char *id = sv_run_record_str(record, "run_id");
    int from = sv_run_status_parse(sv_run_record_str(record, "status"));
    sv_run_status to;
    if (!id || from < 0 || sv_run_fsm_next((sv_run_status)from, SV_RI_FAIL, &to) < 0)
        return -EINVAL;
    int64_t now = sv_now_us(), created = 0;
    char ts[SV_TS_LEN];
    sv_format_ts(now, ts);
    json_object *err = json_object_new_object();
    json_object_object_add(err, "code", json_object_new_string(code));
    json_object_object_add(err, "message", json_object_new_string(message));
    json_object_object_add(record, "status", json_object_new_string(sv_run_status_name(to)));
    json_object_object_add(record, "error", err);
    json_object_object_add(record, "finished_at", json_object_new_string(ts));
    json_object_object_del(record, "checkpoint");
    json_object *d = json_object_new_object();
    json_object_object_add(d, "status", json_object_new_string("failed"));
    if (rec_ts(record, "created_at", &created) == 0 && created > 0)
        json_object_object_add(d, "duration_ms", json_object_new_int64((now - created) / 1000));
    json_object_object_add(d, "error_code", json_object_new_string(code));
    /* The event first, as for a run that ends normally: whoever sees the
     * final status also sees why. */
    sv_run_event_to(st, id, "run_end", NULL, d);
    json_object *sum = summary_of(record);
    int rc = sum ? st->ops->run_put(st, id, plain(record), plain(sum), NULL) : -ENOMEM;
    json_object_put(sum);
    return rc;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

int sv_run_view_text(sv_store *st, const char *run_id, char **out, char *workspace, size_t wslen)
{
    int rc = 0;
    char *text = NULL, *buf = NULL;
    sv_strvec events = {0};
    uint64_t dropped = 0;
    size_t b = 0, e = 0, vb, ve;
    *out = NULL;
    rc = st->ops->run_get(st, run_id, &text);
    if (rc < 0)
        goto out;
    /* The record is our own text: its workspace and its checkpoint are
     * found in it, not parsed out of it (json_text.h). */
    size_t rlen = strlen(text);
    if (sv_json_text_str(text, rlen, "workspace_id", workspace, wslen) < 0) {
        rc = -EIO;
        goto out;
    }
    rc = sv_json_text_member(text, rlen, "checkpoint", &b, &e, &vb, &ve);
    if (rc == -ENOENT) {
        b = e = 0;
    } else if (rc < 0) {
        rc = -EIO;
        goto out;
    }
    rc = st->ops->events_get(st, run_id, &events, &dropped);
    if (rc == -ENOENT) {
        rc = 0; /* a run with no events yet */
    } else if (rc < 0) {
        goto out;
    }
    while (rlen > 0 && text[rlen - 1] != '}')
        rlen--;
    /* A run stored before traces existed shows the id derived from its id. */
    char trace[SV_TRACE_ID_LEN] = "";
    size_t tb, te, tvb, tve;
    if (sv_json_text_member(text, rlen, "trace_id", &tb, &te, &tvb, &tve) == -ENOENT)
        sv_trace_id_derive(run_id, trace);
    size_t need = rlen + 64 + (trace[0] ? 48 : 0);
    for (size_t i = 0; i < events.n; i++)
        need += strlen(events.v[i]) + 1;
    buf = malloc(need);
    if (!buf || rlen < 2) {
        rc = buf ? -EIO : -ENOMEM;
        goto out;
    }
    /* {...record members but the checkpoint...,"events":[e1,e2],"events_dropped":N} */
    memcpy(buf, text, b);
    memcpy(buf + b, text + e, rlen - 1 - e);
    size_t n = b + rlen - 1 - e;
    while (n > 0 && is_blank(buf[n - 1]))
        n--;
    if (trace[0])
        n += (size_t)snprintf(buf + n, need - n, "%s\"trace_id\":\"%s\"",
                              buf[n - 1] == '{' ? "" : ",", trace);
    n += (size_t)snprintf(buf + n, need - n, "%s\"events\":[", buf[n - 1] == '{' ? "" : ",");
    for (size_t i = 0; i < events.n; i++) {
        size_t l = strlen(events.v[i]);
        if (i)
            buf[n++] = ',';
        memcpy(buf + n, events.v[i], l);
        n += l;
    }
    snprintf(buf + n, need - n, "],\"events_dropped\":%llu}", (unsigned long long)dropped);
    *out = buf;
    buf = NULL;
out:
    free(buf);
    sv_strvec_free(&events);
    free(text);
    return rc;
}

int sv_run_view(sv_store *st, const char *run_id, json_object **out)
{
    int rc = 0;
    char *text = NULL;
    sv_strvec events = {0};
    uint64_t dropped = 0;
    json_object *view = NULL;
    *out = NULL;
    rc = st->ops->run_get(st, run_id, &text);
    if (rc < 0)
        goto out;
    view = json_tokener_parse(text);
    if (!view || !json_object_is_type(view, json_type_object)) {
        rc = -EIO;
        goto out;
    }
    json_object_object_del(view, "checkpoint");
    if (!json_object_object_get_ex(view, "trace_id", NULL)) {
        char trace[SV_TRACE_ID_LEN];
        sv_trace_id_derive(run_id, trace);
        json_object_object_add(view, "trace_id", json_object_new_string(trace));
    }
    rc = st->ops->events_get(st, run_id, &events, &dropped);
    if (rc == -ENOENT) {
        rc = 0; /* a run with no events yet */
    } else if (rc < 0) {
        goto out;
    }
    json_object *arr = json_object_new_array_ext((int)events.n);
    for (size_t i = 0; i < events.n; i++) {
        json_object *ev = json_tokener_parse(events.v[i]);
        if (ev)
            json_object_array_add(arr, ev);
    }
    json_object_object_add(view, "events", arr);
    json_object_object_add(view, "events_dropped", json_object_new_int64((int64_t)dropped));
    *out = view;
    view = NULL;
out:
    json_object_put(view);
    sv_strvec_free(&events);
    free(text);
    return rc;
}
