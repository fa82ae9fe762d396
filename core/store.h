/*
 * store.h - where runs live.  A table of functions so the embedded in-memory
 * backend (one process, not durable) and Redis (shared, durable) are
 * interchangeable.  A run is a record and a summary (JSON text), events and a
 * cancel flag, which live as one: each write to the run gives all of them
 * RUN_TTL_SEC more, and they expire together.  All functions are thread-safe
 * and return 0 or a negative errno: -ENOENT (absent or expired), -EEXIST,
 * -ENOMEM, -EIO (the backend is down).
 */
#ifndef SV_STORE_H
#define SV_STORE_H

#include <stddef.h>
#include <stdint.h>

/* A list of malloc'd strings, freed with sv_strvec_free. */
typedef struct sv_strvec {
    char **v;
    size_t n;
} sv_strvec;
void sv_strvec_free(sv_strvec *sv);

typedef struct sv_store sv_store;

/* Longest run id a listing position holds (run ids are 35 characters). */
#define SV_RUN_POS_ID_MAX 64
/* Where a run sits in listings: newest created first, ties by id. */
typedef struct sv_run_pos {
    int64_t created_us;
    char id[SV_RUN_POS_ID_MAX + 1];
} sv_run_pos;

typedef struct sv_store_ops {
    const char *name; /* "memory", "redis" */
    /* Does it outlive the process?  Only then is a checkpoint after every
     * node worth writing: nobody can resume from a store that died with us. */
    int durable;
    /* Is the backend answering?  0 or -EIO. */
    int (*ping)(sv_store *st);
    /*
     * Create a run record and its summary; -EEXIST if the id is taken.  The
     * summary is the small JSON text (with "run_id") that listings return,
     * so they never read records, which carry the result and the checkpoint
     * (up to MAX_BODY_BYTES of input): the writer knows both, the store
     * keeps them side by side and they live and expire together.  Indexes
     * the run for listing by created_us.
     */
    int (*run_create)(sv_store *st, const char *run_id, const char *json, const char *summary,
                      int64_t created_us);
    /* Replace an existing run record (-ENOENT if it expired), and its summary
     * unless summary is NULL: a checkpoint that changes nothing a listing
     * shows keeps the old one (which lives on with the record all the same).
     * cancelled (may be NULL) gets the run's cancel flag in the same call:
     * the executor learns of a cancel made elsewhere from the checkpoint it
     * writes after each node, at no extra round trip. */
    int (*run_put)(sv_store *st, const char *run_id, const char *json, const char *summary,
                   int *cancelled);
    /*
     * One write of a run, atomic: append events (n_events of them, oldest
     * first, keeping the newest cap), and replace the record and the summary
     * when given (NULL: unchanged).  -ENOENT when the run is gone; cancelled
     * (may be NULL) gets the cancel flag.  A node's writes after it ends are
     * one of these: one round trip.  NULL in backends where it is no cheaper
     * than event_append and run_put (sv_store_step does those).
     */
    int (*run_step)(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                    size_t cap, const char *json, const char *summary, uint64_t epoch,
                    uint64_t first_seq, int *cancelled);
    /* The same sent without waiting for the answer (errors are logged): for
     * what followers should see at once (a node_start) but nothing depends
     * on.  Later writes of the caller land after it.  NULL: run_step. */
    int (*run_step_post)(sv_store *st, const char *run_id, const char *const *events,
                         size_t n_events, size_t cap, const char *json, const char *summary,
                         uint64_t epoch, uint64_t first_seq);
    /*
     * Fencing, in shared backends (NULL in the others).  A run's ownership
     * epoch starts at 0 when it is created and goes up by one each time an
     * instance takes it over (run_claim answers the new one); run_step and
     * run_step_post carry the writer's epoch and are refused with -ESTALE
     * (nothing written) when it is not the run's: an instance that was cut
     * off while another resumed its run cannot overwrite the new owner's
     * checkpoints, and learns that it must stop.
     */
    int (*run_claim)(sv_store *st, const char *run_id, uint64_t *epoch, uint64_t *seq);
    /*
     * Exactly once, for events: an owner numbers its events 1, 2, 3 ... and
     * a step gives the number of its first (first_seq; 0: not numbered, as
     * for an event from another instance).  The store skips those it has
     * already, so a write that timed out but was applied later, then sent
     * again with more, lands once.  run_claim answers the last number
     * stored (*seq), where the new owner goes on from.
     */
    /* Crash records (crash.h), in shared backends (NULL in the others): the
     * crashes recorded on a run; every graph version's count as pairs
     * "graph@version", "N". */
    int (*run_crashes)(sv_store *st, const char *run_id, long *n);
    int (*crash_counts)(sv_store *st, sv_strvec *pairs);
    /* Move a run written by an older key layout into the current one before
     * it is resumed: 0 (moved, or nothing to move), -ENOENT.  NULL when the
     * backend has had one layout. */
    int (*run_upgrade)(sv_store *st, const char *run_id);
    /* Read a run record into *json (malloc'd). */
    int (*run_get)(sv_store *st, const char *run_id, char **json);
    /* The summaries of the live runs, newest created first, at most `max`;
     * expired runs are skipped, so `max` come back when there are. */
    int (*run_summaries)(sv_store *st, size_t max, sv_strvec *summaries);
    /*
     * A page of the listing: like run_summaries, but only runs older than
     * the position `after` (NULL: from the newest), at most `max`, and the
     * position of each summary returned in pos (malloc'd, pos[i] for
     * summaries->v[i]; NULL when none), so the caller can go on from any of
     * them.  Runs are ordered by created_us, ties by run id, both
     * descending: a position is a key, not an offset, so runs created
     * meanwhile (newer) shift nothing.
     */
    int (*run_summaries_after)(sv_store *st, const sv_run_pos *after, size_t max,
                               sv_strvec *summaries, sv_run_pos **pos);
    /*
     * Keep a run at least ttl_sec more: its expiry becomes the later of what
     * it was and now + ttl_sec (never earlier), for the record, the events
     * and its place in listings; each later write gives it the later of
     * RUN_TTL_SEC and what it has left, so a retained live run is not
     * shortened by its own writes.  *expires_ms (may be NULL) gets when it
     * expires now, wall-clock ms since the epoch.  -ENOENT.
     */
    int (*run_retain)(sv_store *st, const char *run_id, int64_t ttl_sec, int64_t *expires_ms);
    /* When the run expires, wall-clock ms since the epoch.  -ENOENT. */
    int (*run_expiry)(sv_store *st, const char *run_id, int64_t *expires_ms);
    /* Append an event; keep the newest `cap`, counting the dropped ones. */
    int (*event_append)(sv_store *st, const char *run_id, const char *json, size_t cap);
    /* All kept events, oldest first, and how many were dropped. */
    int (*events_get)(sv_store *st, const char *run_id, sv_strvec *events, uint64_t *dropped);
    /* The cancel flag of a run: set it, read it (0/1). */
    int (*cancel_set)(sv_store *st, const char *run_id);
    int (*cancel_get)(sv_store *st, const char *run_id, int *flag);
    /*
     * Hear of cancels set through any instance as they happen (shared
     * backends only; NULL in the others): fn(arg, run_id) is called on a
     * thread of the store's own after each cancel_set anywhere.  Best effort:
     * one missed while the connection is re-made is not heard again, so the
     * flag stays the truth.  fn NULL stops listening (joins the thread).
     */
    int (*cancel_listen)(sv_store *st, void (*fn)(void *arg, const char *run_id), void *arg);
    /* Claim key for value unless claimed: 0, or -EEXIST with *existing
     * (malloc'd) set to the value that holds it. */
    int (*idem_claim)(sv_store *st, const char *key, const char *value, char **existing);
    /* Replace a claim's value if it still holds `old` (0, or -EEXIST when
     * another value holds it now, -ENOENT when it lapsed): taking over the
     * claim of a start whose run was never stored (its store write timed
     * out, its instance died in between).  -EBUSY for a claim too young to
     * tell from a start still storing its run.  NULL where that cannot
     * happen. */
    int (*idem_swap)(sv_store *st, const char *key, const char *old, const char *value);
    /* Release a claim (start failed after claiming). */
    int (*idem_release)(sv_store *st, const char *key);
    /* Queue of runnable run ids shared by the daemon instances. */
    int (*queue_push)(sv_store *st, const char *run_id);
    /* Pop the oldest; -ENOENT when empty. */
    int (*queue_pop)(sv_store *st, char **run_id);
    /*
     * Ownership, in durable backends only (NULL in the others).  Each daemon
     * instance is a node with a heartbeat, and the runs it executes are in
     * its owned set.  When a node's heartbeat lapses, the others move its
     * runs to themselves one at a time; the move is atomic, so exactly one
     * instance resumes each run.
     */
    /* Refresh a node's heartbeat for ttl_ms and list it as known; ttl_ms 0
     * ends the heartbeat now (a clean stop: others take over at once). */
    int (*node_beat)(sv_store *st, const char *node, int64_t ttl_ms);
    /* How long a node's heartbeat has left (ms), or -ENOENT: what tells a
     * starting instance whether another live one uses its node id. */
    int (*node_look)(sv_store *st, const char *node, int64_t *left_ms);
    /* Known nodes whose heartbeat has lapsed. */
    int (*nodes_dead)(sv_store *st, sv_strvec *dead);
    /* Forget a known node: 0, or -EBUSY while it still owns runs. */
    int (*node_forget)(sv_store *st, const char *node);
    int (*owned_add)(sv_store *st, const char *node, const char *run_id);
    int (*owned_del)(sv_store *st, const char *node, const char *run_id);
    int (*owned_list)(sv_store *st, const char *node, sv_strvec *runs);
    /* Move a run from one node's set to another's: 0, or -ENOENT when it
     * was not there (another instance moved it first). */
    int (*owned_move)(sv_store *st, const char *from, const char *to, const char *run_id);
    void (*destroy)(sv_store *st);
} sv_store_ops;

struct sv_store {
    const sv_store_ops *ops;
    int64_t ttl_sec;
};

/* ops->run_step, or the same made of event_append and run_put. */
int sv_store_step_seq(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                      size_t cap, const char *json, const char *summary, uint64_t epoch,
                      uint64_t first_seq, int *cancelled);
int sv_store_step_post_seq(sv_store *st, const char *run_id, const char *const *events,
                           size_t n_events, size_t cap, const char *json, const char *summary,
                           uint64_t epoch, uint64_t first_seq);
int sv_store_step(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                  size_t cap, const char *json, const char *summary, uint64_t epoch,
                  int *cancelled);
/* ops->run_step_post, else sv_store_step. */
int sv_store_step_post(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                       size_t cap, const char *json, const char *summary, uint64_t epoch);

/* Store calls that failed, by kind, since start (/metrics
 * sofiia_store_errors_total): the store could not be reached or the
 * connection broke; it answered an error; it is full (Redis maxmemory). */
typedef enum sv_store_err_kind {
    SV_STORE_ERR_UNAVAILABLE = 0,
    SV_STORE_ERR_REPLY,
    SV_STORE_ERR_FULL,
    SV_STORE_ERR_KINDS
} sv_store_err_kind;
void sv_store_error_count(sv_store_err_kind kind);
uint64_t sv_store_errors(sv_store_err_kind kind);
/* "unavailable", "error_reply", "full". */
const char *sv_store_error_name(sv_store_err_kind kind);

/* The embedded backend; `ttl_sec` > 0. */
int sv_store_mem_new(int64_t ttl_sec, sv_store **out);
/* The same with the clock that expiry reads (milliseconds, any epoch) injected,
 * so tests can move time; it is called under the store's lock and must not
 * call the store. */
int sv_store_mem_new_clock(int64_t ttl_sec, int64_t (*now_ms)(void *arg), void *arg,
                           sv_store **out);

/* A connection of the Redis backend kept for crash.c's records: its socket,
 * or -1. */
int sv_store_redis_crash_fd(sv_store *st);

/* The Redis backend.  url: redis://[:password@]host:port[/db] or unix:///path
 * (already checked for form by config.c).  Connects once to check it answers
 * (-EIO with *err filled if not).  ttl_sec > 0. */
int sv_store_redis_new(const char *url, int64_t ttl_sec, char *err, size_t errlen, sv_store **out);

#endif
