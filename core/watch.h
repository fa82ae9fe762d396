/*
 * watch.h - requests waiting on a run (GET /v1/runs/{id}?wait=): parked
 * HTTP connections, no thread each.  A waiter is woken, once, when the run
 * changes in this process, when it is due for a look at the store (a run
 * executed by another instance changes only there), or at its deadline;
 * the woken request then decides again whether to answer or wait on.
 */
#ifndef SV_WATCH_H
#define SV_WATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct sv_watch sv_watch;

/* What wakes a waiter besides its deadline: the run's end only, any new
 * event too, or nothing but its deadline (a stream pacing itself). */
enum { SV_WATCH_FINAL = 0, SV_WATCH_ANY = 1, SV_WATCH_NONE = 2 };

/* The id that waiters on every run's changes park on (GET /v1/events): each
 * notify of any run wakes them too. */
#define SV_WATCH_ALL_RUNS "*"

/* Why a waiter with a callback of its own was woken. */
enum {
    SV_WATCH_WOKE_CHANGE = 0, /* the run changed here */
    SV_WATCH_WOKE_DUE,        /* its deadline, or a look at the store is due */
    SV_WATCH_WOKE_HANGUP,     /* its client closed the connection */
    SV_WATCH_WOKE_STOP,       /* the daemon is stopping */
};

/* A waiter that is not a plain parked request (an event stream): fn(ctx,
 * why) is called once, without locks held, instead of the watch's wake.
 * fd >= 0: the client's socket, watched for a hang-up while it waits (a
 * suspended connection is not polled by libmicrohttpd, which would notice
 * only at its next write); it is out of the watch before fn is called. */
typedef struct sv_watch_cb {
    void (*fn)(void *ctx, int why);
    void *ctx;
    int fd;
} sv_watch_cb;

/* wake(arg, conn) resumes a parked request; called without locks held, on
 * the notifying thread or the watch's own.  recheck_ms > 0: also wake every
 * waiter that often, for changes made by other instances. */
int sv_watch_new(void (*wake)(void *arg, void *conn), void *arg, int64_t recheck_ms,
                 sv_watch **out);

/* Read before reading the run: what sv_watch_add compares with to know
 * whether the run may have changed since. */
uint64_t sv_watch_mark(sv_watch *w, const char *run_id);

/* Park conn (already suspended) on run_id until deadline_mono_ms, unless the
 * run may have changed since mark was read: -EAGAIN, and the caller wakes
 * conn to look again.  -ESHUTDOWN (stopping) or -ENOMEM: the caller wakes it
 * to answer at once. */
int sv_watch_add(sv_watch *w, const char *run_id, void *conn, int what, int64_t deadline_mono_ms,
                 uint64_t mark);

/*
 * sv_watch_add for a request whose client may hang up: fd (its socket,
 * sv_req_socket; -1: none) is watched while it is parked, and a hang-up
 * wakes it at once (libmicrohttpd does not look at a suspended connection,
 * so without this it would hold its socket and buffers until its deadline).
 * -ECONNRESET when the client has gone already: the caller answers now
 * (the answer fails, and libmicrohttpd closes the connection).
 */
int sv_watch_add_fd(sv_watch *w, const char *run_id, void *conn, int fd, int what,
                    int64_t deadline_mono_ms, uint64_t mark);

/* The same for a waiter with a callback (cb is copied).  Its waits are not
 * counted by sv_watch_count. */
int sv_watch_add_cb(sv_watch *w, const char *run_id, const sv_watch_cb *cb, int what,
                    int64_t deadline_mono_ms, uint64_t mark);

/* The run changed here: final = it has ended (its final record is saved),
 * else an event was added. */
void sv_watch_notify(sv_watch *w, const char *run_id, int final);

/* Wake every waiter now (a stop: parked connections must be resumed before
 * the HTTP server stops).  New waiters are refused from then on. */
void sv_watch_wake_all(sv_watch *w);

/* Plain waiters (sv_watch_add) parked now. */
size_t sv_watch_count(sv_watch *w);

/* Stops the thread; call after sv_watch_wake_all and the HTTP server's stop. */
void sv_watch_free(sv_watch *w);

#endif
