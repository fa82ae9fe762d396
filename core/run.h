/*
 * run.h - one run of a graph: its identity, its pinned graph version, its
 * input/state/result, and its record and events in the store.
 *
 * The store holds the truth callers read (GET /v1/runs/{id}); the sv_run
 * here is the executor's working copy while the run is alive in this
 * process.  A run is touched by one worker at a time; `lock` guards the
 * fields that the HTTP thread and the timer also touch (status, where,
 * cancel bookkeeping).
 */
#ifndef SV_RUN_H
#define SV_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <json-c/json.h>

#include "pool.h"
#include "registry.h"
#include "store.h"
#include "trace.h"
#include "util.h"

typedef enum sv_run_status {
    SV_RUN_QUEUED = 0,
    SV_RUN_RUNNING,
    SV_RUN_SUCCEEDED,
    SV_RUN_FAILED,
    SV_RUN_CANCELLED,
} sv_run_status;

/* Where a live run is: exactly one place at a time. */
typedef enum sv_run_where {
    SV_WHERE_QUEUE = 0, /* in the executor's runnable queue */
    SV_WHERE_WORKER,    /* a worker is executing a node */
    SV_WHERE_TIMER,     /* parked until a delay passes */
    SV_WHERE_DONE,      /* finished; only references keep it */
} sv_run_where;

/* Values of sv_run.cancel: why the run must stop. */
enum { SV_STOP_NONE = 0, SV_STOP_USER = 1, SV_STOP_TIMEOUT = 2, SV_STOP_SHUTDOWN = 3 };

#define SV_ID_MAX 128
#define SV_EVENTS_CAP 1000

typedef struct sv_run {
    char id[SV_RUN_ID_LEN];
    sv_graph_ent *graph; /* pinned for the run's life */
    char workspace_id[SV_ID_MAX + 1];
    char user_id[SV_ID_MAX + 1];
    char agent_id[SV_ID_MAX + 1];
    char trace_id[SV_TRACE_ID_LEN]; /* its W3C trace (trace.h) */
    unsigned trace_flags;           /* the trace's flags, sent on with every call */
    json_object *input;             /* validated, defaults filled */
    json_object *input_cp;          /* input as it goes in checkpoints: its text, made once */
    json_object *state;             /* the graph's own, checkpointed after each node */
    json_object *result;            /* NULL until set */
    char err_code[64];
    char err_message[256];
    sv_run_status status;
    int summary_status;     /* status of the summary this process last stored; -1: none */
    int cancel_seen;        /* the store's cancel flag, as the last save read it */
    uint64_t epoch;         /* its ownership epoch in a shared store (store.h run_claim) */
    uint64_t ev_seq;        /* its events numbered so far (store.h run_claim) */
    uint64_t pend_first;    /* the number of pend[0] */
    unsigned final_retries; /* tries to store its end while the store was away */
    const sv_node *node;    /* the node to run next */
    uint32_t *call_seq;     /* per node: tool calls made, for call_id */
    int64_t created_us, started_us, finished_us;
    int64_t deadline_mono_ms; /* 0 = none */
    atomic_int cancel;        /* SV_STOP_* */
    int on_cancel_done;
    uint32_t nodes_started; /* nodes begun so far */
    /* The node executing now, for stall.h: its number + 1 (0 between
     * nodes) and when it began (sv_mono_ms). */
    atomic_uint node_running;
    atomic_llong node_t0_ms;
    /* Events made and not yet written (the worker's own: see sv_run_event). */
    char **pend;
    size_t n_pend, cap_pend;
    /* guarded by lock */
    pthread_mutex_t lock;
    sv_run_where where;
    uint64_t park_gen;    /* bumps when a parked run is woken early */
    size_t park_slot;     /* its timer entry while parked (timer.h) */
    size_t deadline_slot; /* its deadline's timer entry */
    atomic_int refs;
    sv_store *store;
    void *exec; /* the executor running it */
    /* Told of each event (final 0) and of the saved end (final 1): what
     * wakes the requests waiting on the run (watch.h).  NULL = nobody. */
    void (*notify)(void *arg, const char *run_id, int final);
    void *notify_arg;
    sv_pool_task task;       /* its next step, queued in the executor's pool */
    struct sv_run *map_next; /* live-run map chain (executor) */
} sv_run;

const char *sv_run_status_name(sv_run_status s);
/* "queued" -> SV_RUN_QUEUED; -1 when unknown. */
int sv_run_status_parse(const char *s);
static inline int sv_run_status_final(sv_run_status s)
{
    return s >= SV_RUN_SUCCEEDED;
}

/* A new run (one reference) of graph e; takes ownership of input. */
int sv_run_new(sv_store *st, sv_graph_ent *e, const char *workspace_id, const char *user_id,
               const char *agent_id, json_object *input, sv_run **out);
/*
 * Rebuild a live run from its stored record (queued or running, with its
 * checkpoint) to resume it in this process: the same id, ids, input, state,
 * node and call counters, pinned to e (which must be the graph of the same
 * name and version).  -EINVAL with why filled when the record cannot be
 * resumed; -ENOMEM.
 */
int sv_run_restore(sv_store *st, sv_graph_ent *e, json_object *record, sv_run **out, char *why,
                   size_t why_len);
/* Join the trace of a caller's traceparent header value (NULL: none): 1
 * when it was valid and the run now belongs to it, 0 when the run keeps the
 * fresh trace sv_run_new gave it. */
int sv_run_join_trace(sv_run *r, const char *traceparent);
/* The trace id of a stored record: its "trace_id", or for a run stored
 * before traces existed the one derived from its id (trace.h). */
void sv_run_record_trace(json_object *record, char out[SV_TRACE_ID_LEN]);
void sv_run_ref(sv_run *r);
void sv_run_unref(sv_run *r);

/*
 * A finished run keeps only what late callers (a timer entry, a cancel
 * racing the end) look at: its id and status.  Drops the input, state,
 * result and the pin on its graph version, so an old version is unloaded as
 * soon as its last run ends rather than when the run's deadline would have
 * passed.  Call once the final record is saved.
 */
void sv_run_release(sv_run *r);

/* The stored record (status, ids, timestamps, result, error, checkpoint). */
json_object *sv_run_record(const sv_run *r);
/* Create the record and its summary (the record's members a listing shows,
 * store.h) in the store (-EEXIST, -EIO ...). */
int sv_run_store_create(sv_run *r);
/* Write the record again (after every node and on every status change), and
 * the summary with it when it may have changed since this process last
 * stored it: the checkpoints between status changes write none.  The events
 * made since the last write go with it, in the same round trip, and the
 * answer brings the run's cancel flag (cancel_seen). */
int sv_run_save(sv_run *r);
/* The same without waiting for the store (a status change followers should
 * see at once, such as the run's start): later writes land after it. */
int sv_run_save_post(sv_run *r);
/*
 * Make an event {"ts","type","node","details"} (details is consumed).  It
 * is kept with the run and written by the next sv_run_post, sv_run_flush or
 * sv_run_save, so a node's events and its checkpoint are one write.  Only
 * the thread executing the run calls it (others use sv_run_event_to).
 */
int sv_run_event(sv_run *r, const char *type, const char *node, json_object *details);
/*
 * The same with the details as JSON text (an object) made by the caller:
 * the executor's and the gateway's own events, made with no JSON tree.
 * type and node must need no escaping (they are checked names).
 */
int sv_run_event_text(sv_run *r, const char *type, const char *node, const char *details);
/* Does s need no escaping inside a JSON string (printable ASCII, no quote
 * or backslash)? */
int sv_json_plain(const char *s);
/* Write the kept events now, without waiting (what followers should see
 * while the node goes on: its start, a failed attempt before a retry). */
int sv_run_post(sv_run *r);
/* Write the kept events now and wait. */
int sv_run_flush(sv_run *r);
/* Append an event at once to a run known only by its id (from a thread
 * other than the one executing it). */
int sv_run_event_to(sv_store *st, const char *run_id, const char *type, const char *node,
                    json_object *details);
/*
 * End a stored run that cannot go on (recovery found it unresumable): the
 * record becomes failed with {code, message}, loses its checkpoint, and
 * gets a run_end event; its summary is written from it.  Modifies record.
 */
int sv_run_fail_record(sv_store *st, json_object *record, const char *code, const char *message);

/*
 * The run view of GET /v1/runs/{id} from the store: record minus checkpoint,
 * plus events and events_dropped.  -ENOENT, -EIO.
 */
int sv_run_view(sv_store *st, const char *run_id, json_object **out);
/*
 * The same view as text (malloc'd, *out), made without parsing the events:
 * they are stored as JSON text and spliced in as they are, which is most of
 * what a view costs.  workspace (wslen bytes) gets the run's workspace_id.
 */
int sv_run_view_text(sv_store *st, const char *run_id, char **out, char *workspace, size_t wslen);
/* A string member of a stored record; NULL when absent or not a string. */
const char *sv_run_record_str(json_object *record, const char *key);

#endif
