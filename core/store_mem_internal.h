/*
 * store_mem_internal.h - what store_mem.c (the backend) and
 * store_mem_keep.c (listing pages, retain) share: the entries and the lock
 * discipline.  Nothing outside those two files includes it.
 */
#ifndef SV_STORE_MEM_INTERNAL_H
#define SV_STORE_MEM_INTERNAL_H

#include "htab.h"
#include "list.h"
#include "store.h"

#include <pthread.h>
#include <stdint.h>

/* ---- entries ---- */

struct run {
    struct sv_htab_node h; /* first: table nodes convert to runs */
    struct sv_link exp;
    struct sv_link ord;
    char *json;
    char *summary; /* what run_summaries returns: listing never reads json */
    int64_t created_us;
    uint64_t seq;
    int64_t expires_ms;
    int cancelled;
    /* Ring of event strings: ev_n of them from ev_head, oldest first. */
    char **ev;
    size_t ev_alloc, ev_head, ev_n;
    uint64_t ev_dropped;
};

struct claim {
    struct sv_htab_node h; /* first: table nodes convert to claims */
    struct sv_link exp;
    char *value;
    int64_t expires_ms;
};

struct qnode {
    struct qnode *next;
    char *run_id;
};

struct mem {
    sv_store base; /* first: the sv_store handed out converts back */
    pthread_mutex_t lock;
    int64_t (*now_ms)(void *arg);
    void *clock_arg;
    int64_t ttl_ms;
    /* Wall-clock ms minus the store's clock, read once: an expiry shows as
     * the same wall-clock time however often it is asked for. */
    int64_t wall_offset_ms;
    uint64_t hash_key[2];
    struct sv_htab runs;
    struct sv_link runs_exp;  /* oldest write first */
    struct sv_link runs_kept; /* retained (store_mem_keep.c): soonest expiry first */
    struct sv_link runs_ord;  /* oldest created first */
    uint64_t seq;
    size_t n_events;
    struct sv_htab claims;
    struct sv_link claims_exp;
    struct qnode *q_head, **q_tail;
    size_t q_len;
};

/* Entries unlinked under the lock, freed once it is dropped. */
struct reap {
    struct sv_htab_node *runs, *claims;
};

/* Take the lock, read the clock and sweep; returns the time. */
int64_t sv_mem_enter(struct mem *m, struct reap *rp);
/* Drop the lock and free what expired meanwhile. */
void sv_mem_leave(struct mem *m, struct reap *rp);
/* The live run with this id, or NULL; an expired one is unlinked on the way. */
struct run *sv_mem_run_find(struct mem *m, const char *id, int64_t now, struct reap *rp);
void sv_mem_run_unlink(struct mem *m, struct run *r, struct reap *rp);
/* Order of runs_ord: created_us, then id; <0, 0, >0. */
int sv_mem_pos_cmp(int64_t a_us, const char *a_id, int64_t b_us, const char *b_id);
/* Put a run whose expiry went past the uniform TTL's on runs_kept, in order. */
void sv_mem_keep_insert(struct mem *m, struct run *r);

int sv_mem_run_summaries_after(sv_store *st, const sv_run_pos *after, size_t max,
                               sv_strvec *summaries, sv_run_pos **pos);
int sv_mem_run_retain(sv_store *st, const char *run_id, int64_t ttl_sec, int64_t *expires_ms);
int sv_mem_run_expiry(sv_store *st, const char *run_id, int64_t *expires_ms);

#endif
