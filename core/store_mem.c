/*
 * store_mem.c - the embedded store: one process, not durable.
 *
 * Runs and idempotency claims live in chained hash tables (htab.c) keyed by
 * SipHash with a random per-store key: idempotency keys come from clients, so
 * the table must not be something a client can flood into one chain.
 *
 * Every entry also sits on an expiry list kept in last-write order.  The TTL
 * is one value per store, so last-write order is expiry order and both lazy
 * expiry (on access) and the sweep (a few entries from the head per call)
 * are O(1); memory stays bounded under steady load with no background thread.
 * A retained run (store_mem_keep.c) expires later than its last write says:
 * it sits on a second list, runs_kept, sorted by expiry (retains are rare
 * and operator-made, so its sorted insert may walk), swept the same way.
 *
 * Runs also sit on a list ordered by (created_us, run id), which
 * run_summaries walks from the newest end.  created_us comes from the
 * daemon's clock, so a new run nearly always goes at the tail; only one
 * created "in the past" walks back over the runs that are newer than it.
 * Each run keeps its summary beside its record, so that walk copies a few
 * hundred bytes per run and never the record.
 *
 * One mutex guards everything.  Values are opaque strings: they are copied
 * before the lock is taken, and entries that expire are unlinked under it but
 * freed after it is dropped, so a critical section is a few pointer moves.
 * The injected clock is called with the lock held and must not call back in.
 */
#include "store_mem_internal.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Entries examined per call at the head of each expiry list.  Each write adds
 * at most one entry, so any budget above one keeps up with the expiries. */
#define SV_MEM_SWEEP_BUDGET 16
/* A run's event ring starts small and doubles up to the cap: most runs log a
 * few dozen events, and 1000 slots each for 100k runs would be 800 MB. */
#define SV_MEM_MIN_EVENTS 16

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->ev_n; i++)
        free(r->ev[(r->ev_head + i) % r->ev_alloc]);
    free(r->ev);
    free(r->json);
    free(r->summary);
    free(r->h.key);
    free(r);
}

static void claim_free(struct claim *c)
{
    free(c->value);
    free(c->h.key);
    free(c);
}

static void reap_free(struct reap *rp)
{
    while (rp->runs) {
        struct sv_htab_node *h = rp->runs;
        rp->runs = h->next;
        run_free((struct run *)h);
    }
    while (rp->claims) {
        struct sv_htab_node *h = rp->claims;
        rp->claims = h->next;
        claim_free((struct claim *)h);
    }
}

static void run_unlink(struct mem *m, struct run *r, struct reap *rp)
{
    sv_htab_remove(&m->runs, &r->h);
    sv_link_del(&r->exp);
    sv_link_del(&r->ord);
    m->n_events -= r->ev_n;
    r->h.next = rp->runs;
    rp->runs = &r->h;
}

static void claim_unlink(struct mem *m, struct claim *c, struct reap *rp)
{
    sv_htab_remove(&m->claims, &c->h);
    sv_link_del(&c->exp);
    c->h.next = rp->claims;
    rp->claims = &c->h;
}

void sv_mem_run_unlink(struct mem *m, struct run *r, struct reap *rp)
{
    run_unlink(m, r, rp);
}

static int64_t expiry_of(const struct mem *m, int64_t now)
{
    return now > INT64_MAX - m->ttl_ms ? INT64_MAX : now + m->ttl_ms;
}

/* A write: the run lives another TTL and moves to the back of the expiry
 * list, unless it was retained for longer than that: then it keeps its
 * expiry and its place on runs_kept. */
static void run_touch(struct mem *m, struct run *r, int64_t now)
{
    int64_t e = expiry_of(m, now);
    if (r->expires_ms > e && r->exp.next != &r->exp)
        return;
    r->expires_ms = e;
    sv_link_del(&r->exp);
    sv_link_add_before(&m->runs_exp, &r->exp);
}

void sv_mem_keep_insert(struct mem *m, struct run *r)
{
    struct sv_link *pos = m->runs_kept.prev;
    sv_link_del(&r->exp);
    while (pos != &m->runs_kept &&
           SV_CONTAINER_OF(pos, struct run, exp)->expires_ms > r->expires_ms)
        pos = pos->prev;
    sv_link_add_before(pos->next, &r->exp);
}

static void sweep(struct mem *m, int64_t now, struct reap *rp)
{
    for (int i = 0; i < SV_MEM_SWEEP_BUDGET && m->runs_exp.next != &m->runs_exp; i++) {
        struct run *r = SV_CONTAINER_OF(m->runs_exp.next, struct run, exp);
        if (now < r->expires_ms)
            break;
        run_unlink(m, r, rp);
    }
    for (int i = 0; i < SV_MEM_SWEEP_BUDGET && m->runs_kept.next != &m->runs_kept; i++) {
        struct run *r = SV_CONTAINER_OF(m->runs_kept.next, struct run, exp);
        if (now < r->expires_ms)
            break;
        run_unlink(m, r, rp);
    }
    for (int i = 0; i < SV_MEM_SWEEP_BUDGET && m->claims_exp.next != &m->claims_exp; i++) {
        struct claim *c = SV_CONTAINER_OF(m->claims_exp.next, struct claim, exp);
        if (now < c->expires_ms)
            break;
        claim_unlink(m, c, rp);
    }
}

int64_t sv_mem_enter(struct mem *m, struct reap *rp)
{
    pthread_mutex_lock(&m->lock);
    int64_t now = m->now_ms(m->clock_arg);
    sweep(m, now, rp);
    return now;
}

void sv_mem_leave(struct mem *m, struct reap *rp)
{
    pthread_mutex_unlock(&m->lock);
    reap_free(rp);
}

static uint64_t key_hash(const struct mem *m, const char *key)
{
    return sv_htab_hash(m->hash_key, key, strlen(key));
}

/* The live run with this id, or NULL; an expired one is unlinked on the way. */
static struct run *run_find(struct mem *m, const char *id, uint64_t hash, int64_t now,
                            struct reap *rp)
{
    struct run *r = (struct run *)sv_htab_find(&m->runs, hash, id);
    if (r && now >= r->expires_ms) {
        run_unlink(m, r, rp);
        r = NULL;
    }
    return r;
}

struct run *sv_mem_run_find(struct mem *m, const char *id, int64_t now, struct reap *rp)
{
    return run_find(m, id, key_hash(m, id), now, rp);
}

static struct claim *claim_find(struct mem *m, const char *key, uint64_t hash, int64_t now,
                                struct reap *rp)
{
    struct claim *c = (struct claim *)sv_htab_find(&m->claims, hash, key);
    if (c && now >= c->expires_ms) {
        claim_unlink(m, c, rp);
        c = NULL;
    }
    return c;
}

int sv_mem_pos_cmp(int64_t a_us, const char *a_id, int64_t b_us, const char *b_id)
{
    if (a_us != b_us)
        return a_us < b_us ? -1 : 1;
    return strcmp(a_id, b_id);
}

/* Keep runs_ord sorted by created_us, equal times by id, as Redis lists
 * them: a listing position (created_us, id) then means the same in both. */
static void ord_insert(struct mem *m, struct run *r)
{
    struct sv_link *pos = m->runs_ord.prev;
    while (pos != &m->runs_ord) {
        struct run *o = SV_CONTAINER_OF(pos, struct run, ord);
        if (sv_mem_pos_cmp(o->created_us, o->h.key, r->created_us, r->h.key) <= 0)
            break;
        pos = pos->prev;
    }
    sv_link_add_before(pos->next, &r->ord);
}

/* Room for one more event below `cap`: double the ring, oldest moved to 0. */
static int ring_grow(struct run *r, size_t cap)
{
    size_t alloc = r->ev_alloc ? r->ev_alloc * 2 : SV_MEM_MIN_EVENTS;
    if (alloc > cap || alloc < r->ev_alloc)
        alloc = cap;
    if (alloc > SIZE_MAX / sizeof(char *))
        return -ENOMEM;
    char **ev = malloc(alloc * sizeof *ev);
    if (!ev)
        return -ENOMEM;
    for (size_t i = 0; i < r->ev_n; i++)
        ev[i] = r->ev[(r->ev_head + i) % r->ev_alloc];
    free(r->ev);
    r->ev = ev;
    r->ev_alloc = alloc;
    r->ev_head = 0;
    return 0;
}

/* ---- the backend table ---- */

static int mem_ping(sv_store *st)
{
    return st ? 0 : -EINVAL;
}

static int mem_run_create(sv_store *st, const char *run_id, const char *json, const char *summary,
                          int64_t created_us)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    struct run *r = NULL;
    int rc = 0;

    if (!st || !run_id || !json || !summary)
        return -EINVAL;
    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->h.key = strdup(run_id);
    r->json = strdup(json);
    r->summary = strdup(summary);
    if (!r->h.key || !r->json || !r->summary) {
        rc = -ENOMEM;
        goto out;
    }
    r->h.hash = key_hash(m, run_id);
    r->created_us = created_us;
    sv_link_init(&r->exp);
    sv_link_init(&r->ord);

    int64_t now = sv_mem_enter(m, &rp);
    if (run_find(m, run_id, r->h.hash, now, &rp)) {
        rc = -EEXIST;
    } else {
        r->seq = ++m->seq;
        sv_htab_insert(&m->runs, &r->h);
        ord_insert(m, r);
        run_touch(m, r, now);
        r = NULL;
    }
    sv_mem_leave(m, &rp);
out:
    if (r)
        run_free(r);
    return rc;
}

static int mem_run_put(sv_store *st, const char *run_id, const char *json, const char *summary,
                       int *cancelled)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    char *copy = NULL, *sum = NULL;
    int rc = 0;

    if (!st || !run_id || !json)
        return -EINVAL;
    copy = strdup(json);
    sum = summary ? strdup(summary) : NULL;
    if (!copy || (summary && !sum)) {
        free(copy);
        free(sum);
        return -ENOMEM;
    }
    uint64_t hash = key_hash(m, run_id);

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = run_find(m, run_id, hash, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    /* Swap so the old texts are freed outside the lock. */
    char *old = r->json;
    r->json = copy;
    copy = old;
    if (sum) {
        old = r->summary;
        r->summary = sum;
        sum = old;
    }
    if (cancelled)
        *cancelled = r->cancelled;
    run_touch(m, r, now);
out:
    sv_mem_leave(m, &rp);
    free(copy);
    free(sum);
    return rc;
}

static int mem_run_get(sv_store *st, const char *run_id, char **json)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    int rc = 0;

    if (!st || !run_id || !json)
        return -EINVAL;
    *json = NULL;
    uint64_t hash = key_hash(m, run_id);

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = run_find(m, run_id, hash, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    *json = strdup(r->json);
    if (!*json)
        rc = -ENOMEM;
out:
    sv_mem_leave(m, &rp);
    return rc;
}

static int mem_run_summaries(sv_store *st, size_t max, sv_strvec *summaries)
{
    return sv_mem_run_summaries_after(st, NULL, max, summaries, NULL);
}

static int mem_event_append(sv_store *st, const char *run_id, const char *json, size_t cap)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    char *copy = NULL;
    int rc = 0;

    if (!st || !run_id || !json || cap == 0)
        return -EINVAL;
    copy = strdup(json);
    if (!copy)
        return -ENOMEM;
    uint64_t hash = key_hash(m, run_id);

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = run_find(m, run_id, hash, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    if (r->ev_n < cap && r->ev_n == r->ev_alloc) {
        rc = ring_grow(r, cap);
        if (rc < 0)
            goto out;
    }
    /* Usually drops one; more only when a caller lowered the cap. */
    while (r->ev_n >= cap) {
        free(r->ev[r->ev_head]);
        r->ev_head = (r->ev_head + 1) % r->ev_alloc;
        r->ev_n--;
        r->ev_dropped++;
        m->n_events--;
    }
    r->ev[(r->ev_head + r->ev_n) % r->ev_alloc] = copy;
    copy = NULL;
    r->ev_n++;
    m->n_events++;
    run_touch(m, r, now);
out:
    sv_mem_leave(m, &rp);
    free(copy);
    return rc;
}

static int mem_events_get(sv_store *st, const char *run_id, sv_strvec *events, uint64_t *dropped)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    char **v = NULL;
    size_t n = 0;
    int rc = 0;

    if (!st || !run_id || !events || !dropped)
        return -EINVAL;
    events->v = NULL;
    events->n = 0;
    *dropped = 0;
    uint64_t hash = key_hash(m, run_id);

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = run_find(m, run_id, hash, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    if (r->ev_n > 0) {
        v = malloc(r->ev_n * sizeof *v);
        if (!v) {
            rc = -ENOMEM;
            goto out;
        }
        for (; n < r->ev_n; n++) {
            v[n] = strdup(r->ev[(r->ev_head + n) % r->ev_alloc]);
            if (!v[n]) {
                rc = -ENOMEM;
                goto out;
            }
        }
    }
    *dropped = r->ev_dropped;
out:
    sv_mem_leave(m, &rp);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
    } else {
        events->v = v;
        events->n = n;
    }
    return rc;
}

static int mem_cancel_set(sv_store *st, const char *run_id)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    int rc = 0;

    if (!st || !run_id)
        return -EINVAL;
    uint64_t hash = key_hash(m, run_id);

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = run_find(m, run_id, hash, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    r->cancelled = 1;
    run_touch(m, r, now);
out:
    sv_mem_leave(m, &rp);
    return rc;
}

static int mem_cancel_get(sv_store *st, const char *run_id, int *flag)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    int rc = 0;

    if (!st || !run_id || !flag)
        return -EINVAL;
    *flag = 0;
    uint64_t hash = key_hash(m, run_id);

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = run_find(m, run_id, hash, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    *flag = r->cancelled;
out:
    sv_mem_leave(m, &rp);
    return rc;
}

static int mem_idem_claim(sv_store *st, const char *key, const char *value, char **existing)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    struct claim *c = NULL;
    int rc = 0;

    if (!st || !key || !value || !existing)
        return -EINVAL;
    *existing = NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->h.key = strdup(key);
    c->value = strdup(value);
    if (!c->h.key || !c->value) {
        rc = -ENOMEM;
        goto out;
    }
    c->h.hash = key_hash(m, key);
    sv_link_init(&c->exp);

    int64_t now = sv_mem_enter(m, &rp);
    struct claim *held = claim_find(m, key, c->h.hash, now, &rp);
    if (held) {
        *existing = strdup(held->value);
        rc = *existing ? -EEXIST : -ENOMEM;
    } else {
        c->expires_ms = expiry_of(m, now);
        sv_htab_insert(&m->claims, &c->h);
        sv_link_add_before(&m->claims_exp, &c->exp);
        c = NULL;
    }
    sv_mem_leave(m, &rp);
out:
    if (c)
        claim_free(c);
    return rc;
}

static int mem_idem_release(sv_store *st, const char *key)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    int rc = 0;

    if (!st || !key)
        return -EINVAL;
    uint64_t hash = key_hash(m, key);

    int64_t now = sv_mem_enter(m, &rp);
    struct claim *c = claim_find(m, key, hash, now, &rp);
    if (c)
        claim_unlink(m, c, &rp);
    else
        rc = -ENOENT;
    sv_mem_leave(m, &rp);
    return rc;
}

static int mem_queue_push(sv_store *st, const char *run_id)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    struct qnode *q = NULL;

    if (!st || !run_id)
        return -EINVAL;
    q = malloc(sizeof *q);
    if (!q)
        return -ENOMEM;
    q->next = NULL;
    q->run_id = strdup(run_id);
    if (!q->run_id) {
        free(q);
        return -ENOMEM;
    }

    sv_mem_enter(m, &rp);
    *m->q_tail = q;
    m->q_tail = &q->next;
    m->q_len++;
    sv_mem_leave(m, &rp);
    return 0;
}

static int mem_queue_pop(sv_store *st, char **run_id)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    struct qnode *q;

    if (!st || !run_id)
        return -EINVAL;
    *run_id = NULL;

    sv_mem_enter(m, &rp);
    q = m->q_head;
    if (q) {
        m->q_head = q->next;
        if (!m->q_head)
            m->q_tail = &m->q_head;
        m->q_len--;
    }
    sv_mem_leave(m, &rp);
    if (!q)
        return -ENOENT;
    *run_id = q->run_id;
    free(q);
    return 0;
}

static void mem_destroy(sv_store *st)
{
    struct mem *m = (struct mem *)st;

    if (!m)
        return;
    while (m->runs_ord.next != &m->runs_ord) {
        struct run *r = SV_CONTAINER_OF(m->runs_ord.next, struct run, ord);
        sv_link_del(&r->ord);
        run_free(r);
    }
    while (m->claims_exp.next != &m->claims_exp) {
        struct claim *c = SV_CONTAINER_OF(m->claims_exp.next, struct claim, exp);
        sv_link_del(&c->exp);
        claim_free(c);
    }
    while (m->q_head) {
        struct qnode *q = m->q_head;
        m->q_head = q->next;
        free(q->run_id);
        free(q);
    }
    sv_htab_fini(&m->runs);
    sv_htab_fini(&m->claims);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const sv_store_ops mem_ops = {
    .name = "memory", /* not .durable: it dies with the process */
    .ping = mem_ping,
    .run_create = mem_run_create,
    .run_put = mem_run_put,
    .run_get = mem_run_get,
    .run_summaries = mem_run_summaries,
    .run_summaries_after = sv_mem_run_summaries_after,
    .run_retain = sv_mem_run_retain,
    .run_expiry = sv_mem_run_expiry,
    .event_append = mem_event_append,
    .events_get = mem_events_get,
    .cancel_set = mem_cancel_set,
    .cancel_get = mem_cancel_get,
    .idem_claim = mem_idem_claim,
    .idem_release = mem_idem_release,
    .queue_push = mem_queue_push,
    .queue_pop = mem_queue_pop,
    .destroy = mem_destroy,
};

/* Monotonic: a wall-clock step must not expire or resurrect runs. */
static int64_t mem_default_clock(void *arg)
{
    (void)arg;
    return sv_mono_ms();
}

int sv_store_mem_new_clock(int64_t ttl_sec, int64_t (*now_ms)(void *arg), void *arg, sv_store **out)
{
    struct mem *m = NULL;
    int rc;

    if (!out || !now_ms || ttl_sec <= 0)
        return -EINVAL;
    *out = NULL;
    m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    rc = sv_random_bytes(m->hash_key, sizeof m->hash_key);
    if (rc < 0)
        goto out;
    rc = sv_htab_init(&m->runs);
    if (rc < 0)
        goto out;
    rc = sv_htab_init(&m->claims);
    if (rc < 0)
        goto out;
    rc = -pthread_mutex_init(&m->lock, NULL);
    if (rc < 0)
        goto out;
    m->base.ops = &mem_ops;
    m->base.ttl_sec = ttl_sec;
    m->ttl_ms = ttl_sec > INT64_MAX / 1000 ? INT64_MAX : ttl_sec * 1000;
    m->now_ms = now_ms;
    m->clock_arg = arg;
    /* Between two reads of the store's clock, so a pause between them
     * shifts it by half of it at most. */
    int64_t before = now_ms(arg), wall = sv_now_ms();
    m->wall_offset_ms = wall - before / 2 - now_ms(arg) / 2;
    sv_link_init(&m->runs_exp);
    sv_link_init(&m->runs_ord);
    sv_link_init(&m->runs_kept);
    sv_link_init(&m->claims_exp);
    m->q_head = NULL;
    m->q_tail = &m->q_head;
    *out = &m->base;
out:
    if (rc < 0) {
        sv_htab_fini(&m->runs);
        sv_htab_fini(&m->claims);
        free(m);
    }
    return rc;
}

int sv_store_mem_new(int64_t ttl_sec, sv_store **out)
{
    return sv_store_mem_new_clock(ttl_sec, mem_default_clock, NULL, out);
}

/* Test hook, declared by tests/unit/test_store_mem.c rather than store.h
 * because it is no part of the backend table: how many entries the store
 * holds right now, expired-but-unreclaimed ones included.  Any pointer may be
 * NULL. */
int sv_store_mem_counts(sv_store *st, size_t *runs, size_t *events, size_t *claims, size_t *queued);
int sv_store_mem_counts(sv_store *st, size_t *runs, size_t *events, size_t *claims, size_t *queued)
{
    struct mem *m = (struct mem *)st;

    if (!st || st->ops != &mem_ops)
        return -EINVAL;
    pthread_mutex_lock(&m->lock);
    if (runs)
        *runs = m->runs.n;
    if (events)
        *events = m->n_events;
    if (claims)
        *claims = m->claims.n;
    if (queued)
        *queued = m->q_len;
    pthread_mutex_unlock(&m->lock);
    return 0;
}
