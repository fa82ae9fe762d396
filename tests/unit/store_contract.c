/* store_contract.c - see store_contract.h.  Moved here from test_store_mem.c
 * with the backend's own checks (counts through its hook) put behind
 * sv_store_backend, so both backends pass the same assertions. */
#include "store_contract_internal.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const sv_store_backend *g_be;

void sv_store_contract_use(const sv_store_backend *backend)
{
    g_be = backend;
}

const sv_store_backend *sv_sc_backend(void)
{
    return g_be;
}

sv_store *sv_sc_new_store(int64_t ttl_sec)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_be);
    sv_store *st = g_be->make(ttl_sec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    return st;
}

void sv_sc_run_id(char buf[40], unsigned i)
{
    snprintf(buf, 40, "gr_%032x", i);
}

static size_t count_runs(sv_store *st)
{
    size_t n = 0;
    CU_ASSERT(g_be->counts(st, &n, NULL, NULL, NULL) == 0);
    return n;
}

static size_t count_events(sv_store *st)
{
    size_t n = 0;
    CU_ASSERT(g_be->counts(st, NULL, &n, NULL, NULL) == 0);
    return n;
}

static size_t count_claims(sv_store *st)
{
    size_t n = 0;
    CU_ASSERT(g_be->counts(st, NULL, NULL, &n, NULL) == 0);
    return n;
}

/* Is the run's record exactly `want`? */
static int record_is(sv_store *st, const char *id, const char *want)
{
    char *json = NULL;
    int rc = st->ops->run_get(st, id, &json);
    int same = rc == 0 && json && strcmp(json, want) == 0;
    free(json);
    return same;
}

/* A summary as the daemon writes them: small JSON with the run's id. */
static const char *summary(char buf[128], const char *id, const char *status)
{
    snprintf(buf, 128, "{\"run_id\":\"%s\",\"status\":\"%s\"}", id, status);
    return buf;
}

/* Are the listed summaries exactly `want`, in that order? */
static int summaries_are(const sv_strvec *v, const char *const *want, size_t n)
{
    int same = v->n == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(v->v[i], want[i]) == 0;
    if (!same) {
        fprintf(stderr, "\n    listed %zu summaries, wanted %zu:", v->n, n);
        for (size_t i = 0; i < v->n; i++)
            fprintf(stderr, " %s", v->v[i]);
    }
    return same;
}

static void test_create_get_put(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    char *json = NULL;

    CU_ASSERT_STRING_EQUAL(st->ops->name, g_be->name);
    CU_ASSERT_EQUAL(st->ops->durable, g_be->durable);
    CU_ASSERT_EQUAL(st->ttl_sec, TTL_SEC);
    CU_ASSERT_EQUAL(st->ops->ping(st), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":1}", "{}", 100), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":1}"));
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"v\":2}", NULL, NULL), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":3}", "{}", 200), -EEXIST);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    /* The caller owns what it reads: changing it must not touch the store. */
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_a", &json), 0);
    json[0] = 'X';
    free(json);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_b", "", "", 100), 0);
    CU_ASSERT(record_is(st, "gr_b", ""));
    CU_ASSERT_EQUAL(count_runs(st), 2);
    st->ops->destroy(st);
}

/* run_put reads the run's cancel flag in the same call (the executor's only
 * look at it between nodes). */
static void test_put_reads_cancel_flag(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    int flag = -1;
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_c", "{}", "{}", 100), 0);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_c", "{\"v\":1}", NULL, &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_c"), 0);
    flag = -1;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_c", "{\"v\":2}", "{}", &flag), 0);
    CU_ASSERT_EQUAL(flag, 1);
    /* another run's flag is its own */
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_d", "{}", "{}", 100), 0);
    flag = -1;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_d", "{}", NULL, &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    st->ops->destroy(st);
}

static void test_unknown_run(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    char *json = (char *)"untouched";
    sv_strvec ev = {(char **)1, 7};
    uint64_t dropped = 7;
    int flag = 7;

    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_none", &json), -ENOENT);
    CU_ASSERT_PTR_NULL(json);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}", NULL, NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}", "{}", NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_none", "{}", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_none", &ev, &dropped), -ENOENT);
    CU_ASSERT_PTR_NULL(ev.v);
    CU_ASSERT_EQUAL(ev.n, 0);
    CU_ASSERT_EQUAL(dropped, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_none"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_none", &flag), -ENOENT);
    CU_ASSERT_EQUAL(flag, 0);
    CU_ASSERT_EQUAL(count_runs(st), 0);
    CU_ASSERT_EQUAL(count_events(st), 0);
    sv_strvec sums = {0};
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT_EQUAL(sums.n, 0);
    /* Nothing of it was kept: a run made now under that id starts clean. */
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_none", "{}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_none", &ev, &dropped), 0);
    CU_ASSERT_EQUAL(ev.n, 0);
    CU_ASSERT_EQUAL(dropped, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_none", &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    st->ops->destroy(st);
}

static void test_null_arguments(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    const sv_store_ops *o = st->ops;
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t d;
    int f;

    CU_ASSERT_EQUAL(o->ping(NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_create(NULL, "a", "{}", "{}", 0), -EINVAL);
    CU_ASSERT_EQUAL(o->run_create(st, NULL, "{}", "{}", 0), -EINVAL);
    CU_ASSERT_EQUAL(o->run_create(st, "a", NULL, "{}", 0), -EINVAL);
    /* A run is never without a summary: only run_put may leave it out. */
    CU_ASSERT_EQUAL(o->run_create(st, "a", "{}", NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(NULL, "a", "{}", "{}", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(st, NULL, "{}", "{}", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(st, "a", NULL, "{}", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(st, "a", NULL, NULL, NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_get(NULL, "a", &s), -EINVAL);
    CU_ASSERT_EQUAL(o->run_get(st, NULL, &s), -EINVAL);
    CU_ASSERT_EQUAL(o->run_get(st, "a", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_summaries(NULL, 10, &v), -EINVAL);
    CU_ASSERT_EQUAL(o->run_summaries(st, 10, NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->event_append(NULL, "a", "{}", 10), -EINVAL);
    CU_ASSERT_EQUAL(o->event_append(st, NULL, "{}", 10), -EINVAL);
    CU_ASSERT_EQUAL(o->event_append(st, "a", NULL, 10), -EINVAL);
    CU_ASSERT_EQUAL(o->event_append(st, "a", "{}", 0), -EINVAL);
    CU_ASSERT_EQUAL(o->events_get(NULL, "a", &v, &d), -EINVAL);
    CU_ASSERT_EQUAL(o->events_get(st, NULL, &v, &d), -EINVAL);
    CU_ASSERT_EQUAL(o->events_get(st, "a", NULL, &d), -EINVAL);
    CU_ASSERT_EQUAL(o->events_get(st, "a", &v, NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->cancel_set(NULL, "a"), -EINVAL);
    CU_ASSERT_EQUAL(o->cancel_set(st, NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->cancel_get(NULL, "a", &f), -EINVAL);
    CU_ASSERT_EQUAL(o->cancel_get(st, NULL, &f), -EINVAL);
    CU_ASSERT_EQUAL(o->cancel_get(st, "a", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->idem_claim(NULL, "k", "v", &s), -EINVAL);
    CU_ASSERT_EQUAL(o->idem_claim(st, NULL, "v", &s), -EINVAL);
    CU_ASSERT_EQUAL(o->idem_claim(st, "k", NULL, &s), -EINVAL);
    CU_ASSERT_EQUAL(o->idem_claim(st, "k", "v", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->idem_release(NULL, "k"), -EINVAL);
    CU_ASSERT_EQUAL(o->idem_release(st, NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->queue_push(NULL, "a"), -EINVAL);
    CU_ASSERT_EQUAL(o->queue_push(st, NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->queue_pop(NULL, &s), -EINVAL);
    CU_ASSERT_EQUAL(o->queue_pop(st, NULL), -EINVAL);
    o->destroy(NULL);
    sv_strvec_free(NULL);
    sv_strvec_free(&v);

    /* Nothing was stored by any of that. */
    size_t r = 1, e = 1, c = 1, q = 1;
    CU_ASSERT_EQUAL(g_be->counts(st, &r, &e, &c, &q), 0);
    CU_ASSERT(r == 0 && e == 0 && c == 0 && q == 0);
    o->destroy(st);
}

static void test_event_cap_and_dropped(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    sv_strvec ev = {0};
    uint64_t dropped = 99;
    char buf[32];

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &ev, &dropped), 0);
    CU_ASSERT_EQUAL(ev.n, 0);
    CU_ASSERT_EQUAL(dropped, 0);
    for (int i = 1; i <= 1005; i++) {
        snprintf(buf, sizeof buf, "#%d", i);
        CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", buf, EVENT_CAP), 0);
    }
    CU_ASSERT_EQUAL_FATAL(st->ops->events_get(st, "gr_a", &ev, &dropped), 0);
    CU_ASSERT_EQUAL_FATAL(ev.n, 1000);
    CU_ASSERT_EQUAL(dropped, 5);
    int in_order = 1;
    for (size_t i = 0; i < ev.n; i++) {
        snprintf(buf, sizeof buf, "#%zu", i + 6);
        in_order &= strcmp(ev.v[i], buf) == 0;
    }
    CU_ASSERT(in_order);
    CU_ASSERT_STRING_EQUAL(ev.v[0], "#6");
    CU_ASSERT_STRING_EQUAL(ev.v[999], "#1005");
    sv_strvec_free(&ev);
    CU_ASSERT_PTR_NULL(ev.v);
    CU_ASSERT_EQUAL(count_events(st), 1000);
    st->ops->destroy(st);
}

/* Many wraps of a small ring, then a cap raised and lowered between calls. */
static void test_event_ring_wrap_and_cap_change(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    sv_strvec ev = {0};
    uint64_t dropped;
    char buf[32];

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", "{}", 1), 0);
    for (int i = 1; i <= 50; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", buf, 3), 0);
    }
    CU_ASSERT_EQUAL_FATAL(st->ops->events_get(st, "gr_a", &ev, &dropped), 0);
    CU_ASSERT_EQUAL_FATAL(ev.n, 3);
    CU_ASSERT_EQUAL(dropped, 47);
    CU_ASSERT_STRING_EQUAL(ev.v[0], "48");
    CU_ASSERT_STRING_EQUAL(ev.v[2], "50");
    sv_strvec_free(&ev);

    /* Raised: the ring grows from a wrapped state and keeps the order. */
    for (int i = 51; i <= 60; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", buf, 40), 0);
    }
    CU_ASSERT_EQUAL_FATAL(st->ops->events_get(st, "gr_a", &ev, &dropped), 0);
    CU_ASSERT_EQUAL_FATAL(ev.n, 13);
    CU_ASSERT_EQUAL(dropped, 47);
    CU_ASSERT_STRING_EQUAL(ev.v[0], "48");
    CU_ASSERT_STRING_EQUAL(ev.v[12], "60");
    sv_strvec_free(&ev);

    /* Lowered: one append drops everything beyond the new cap. */
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "61", 2), 0);
    CU_ASSERT_EQUAL_FATAL(st->ops->events_get(st, "gr_a", &ev, &dropped), 0);
    CU_ASSERT_EQUAL_FATAL(ev.n, 2);
    CU_ASSERT_EQUAL(dropped, 59);
    CU_ASSERT_STRING_EQUAL(ev.v[0], "60");
    CU_ASSERT_STRING_EQUAL(ev.v[1], "61");
    sv_strvec_free(&ev);
    CU_ASSERT_EQUAL(count_events(st), 2);
    st->ops->destroy(st);
}

static void test_summaries_order_and_max(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    sv_strvec sums = {0};
    char buf[128];
    /* created_us out of insertion order, with ties.  A tie lists the later
     * insertion first in store_mem and the greater id first in Redis: the
     * ids here make both the same order. */
    static const struct {
        const char *id;
        int64_t created_us;
    } runs[] = {{"r1", 100}, {"r2", 300}, {"r3", 200}, {"r4", 300},
                {"r5", 50},  {"r6", 300}, {"r7", 400}};
    static const char *const newest_first[] = {
        "{\"run_id\":\"r7\",\"status\":\"queued\"}", "{\"run_id\":\"r6\",\"status\":\"queued\"}",
        "{\"run_id\":\"r4\",\"status\":\"queued\"}", "{\"run_id\":\"r2\",\"status\":\"queued\"}",
        "{\"run_id\":\"r3\",\"status\":\"queued\"}", "{\"run_id\":\"r1\",\"status\":\"queued\"}",
        "{\"run_id\":\"r5\",\"status\":\"queued\"}"};

    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT_EQUAL(sums.n, 0);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        CU_ASSERT_EQUAL(st->ops->run_create(st, runs[i].id, "{\"big\":\"record\"}",
                                            summary(buf, runs[i].id, "queued"), runs[i].created_us),
                        0);

    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 100, &sums), 0);
    CU_ASSERT(summaries_are(&sums, newest_first, 7));
    sv_strvec_free(&sums);

    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 3, &sums), 0);
    CU_ASSERT(summaries_are(&sums, newest_first, 3));
    sv_strvec_free(&sums);

    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 0, &sums), 0);
    CU_ASSERT_EQUAL(sums.n, 0);
    CU_ASSERT_PTR_NULL(sums.v);
    st->ops->destroy(st);
}

/* Pages by position: every run once, newest first, ties by id descending;
 * the positions returned are the runs'; a position whose run is gone still
 * places the page; runs created after a page's position do not show in it. */
static void test_summaries_after(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    sv_strvec sums = {0};
    sv_run_pos *pos = NULL, at;
    char buf[128];
    static const struct {
        const char *id;
        int64_t created_us;
    } runs[] = {{"r1", 100}, {"r2", 300}, {"r3", 200}, {"r4", 300}, {"r5", 50}, {"r6", 300}};
    /* newest first: r6 r4 r2 (300, by id) r3 (200) r1 (100) r5 (50) */
    static const char *const order[] = {"r6", "r4", "r2", "r3", "r1", "r5"};
    static const int64_t order_us[] = {300, 300, 300, 200, 100, 50};

    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, NULL, 10, &sums, &pos), 0);
    CU_ASSERT_EQUAL(sums.n, 0);
    CU_ASSERT_PTR_NULL(pos);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        CU_ASSERT_EQUAL(st->ops->run_create(st, runs[i].id, "{}",
                                            summary(buf, runs[i].id, "queued"), runs[i].created_us),
                        0);
    /* Pages of 2 from the newest, each from the last position of the one
     * before: all six once, in order. */
    size_t seen = 0;
    const sv_run_pos *after = NULL;
    for (int page = 0; page < 10; page++) {
        CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries_after(st, after, 2, &sums, &pos), 0);
        if (sums.n == 0) {
            CU_ASSERT_PTR_NULL(pos);
            break;
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(pos);
        for (size_t i = 0; i < sums.n && seen < 6; i++, seen++) {
            CU_ASSERT_STRING_EQUAL(sums.v[i], summary(buf, order[seen], "queued"));
            CU_ASSERT_STRING_EQUAL(pos[i].id, order[seen]);
            CU_ASSERT_EQUAL(pos[i].created_us, order_us[seen]);
        }
        at = pos[sums.n - 1];
        after = &at;
        sv_strvec_free(&sums);
        free(pos);
        pos = NULL;
    }
    CU_ASSERT_EQUAL(seen, 6);
    /* A position between runs (no run there): the page starts below it. */
    at.created_us = 300;
    snprintf(at.id, sizeof at.id, "r3"); /* below r4, above r2 among the 300s */
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries_after(st, &at, 10, &sums, &pos), 0);
    CU_ASSERT_EQUAL_FATAL(sums.n, 4);
    CU_ASSERT_STRING_EQUAL(pos[0].id, "r2");
    CU_ASSERT_STRING_EQUAL(pos[3].id, "r5");
    sv_strvec_free(&sums);
    free(pos);
    /* A newer run created meanwhile is not below an older position. */
    at.created_us = 200;
    snprintf(at.id, sizeof at.id, "r3");
    CU_ASSERT_EQUAL(st->ops->run_create(st, "r9", "{}", summary(buf, "r9", "queued"), 1000), 0);
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries_after(st, &at, 10, &sums, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sums.n, 2);
    CU_ASSERT_STRING_EQUAL(sums.v[0], summary(buf, "r1", "queued"));
    sv_strvec_free(&sums);
    /* Below the oldest: nothing; max 0: nothing. */
    at.created_us = 50;
    snprintf(at.id, sizeof at.id, "r5");
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, &at, 10, &sums, &pos), 0);
    CU_ASSERT_EQUAL(sums.n, 0);
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, NULL, 0, &sums, &pos), 0);
    CU_ASSERT_EQUAL(sums.n, 0);
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(NULL, NULL, 1, &sums, &pos), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, NULL, 1, NULL, &pos), -EINVAL);
    st->ops->destroy(st);
}

/* Wall-clock ms now. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Retain: the expiry moves later, never earlier; the run's own writes
 * afterwards keep it; an unknown run is -ENOENT.  (Time stands still here:
 * expiry itself is tested per backend.) */
static void test_retain(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    char buf[128];
    int64_t e0 = 0, e1 = 0, e2 = 0, e3 = 0, t = wall_ms();
    const char *ev[] = {"e1"};

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_k", "{}", summary(buf, "gr_k", "queued"), 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_u", "{}", summary(buf, "gr_u", "queued"), 2), 0);
    /* Unretained: about RUN_TTL_SEC from now. */
    CU_ASSERT_EQUAL_FATAL(st->ops->run_expiry(st, "gr_u", &e0), 0);
    CU_ASSERT(e0 > t + TTL_SEC * 1000 - 2000 && e0 <= wall_ms() + TTL_SEC * 1000 + 1000);

    CU_ASSERT_EQUAL_FATAL(st->ops->run_retain(st, "gr_k", 3600, &e1), 0);
    CU_ASSERT(e1 > t + 3600 * 1000 - 2000 && e1 <= wall_ms() + 3600 * 1000 + 1000);
    /* The same expiry reads the same every time (an API answer and a view
     * agree to the millisecond). */
    CU_ASSERT_EQUAL(st->ops->run_expiry(st, "gr_k", &e2), 0);
    CU_ASSERT_EQUAL(e2, e1);
    /* Shorter: nothing changes (what it had is answered). */
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 5, &e2), 0);
    CU_ASSERT_EQUAL(e2, e1);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 5, NULL), 0);
    /* Every kind of write leaves the retained expiry. */
    CU_ASSERT_EQUAL(
        st->ops->run_put(st, "gr_k", "{\"v\":2}", summary(buf, "gr_k", "running"), NULL), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_k", "e0", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_k", ev, 1, EVENT_CAP, "{\"v\":3}", NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_k"), 0);
    CU_ASSERT_EQUAL(st->ops->run_expiry(st, "gr_k", &e3), 0);
    CU_ASSERT_EQUAL(e3, e1);
    CU_ASSERT(record_is(st, "gr_k", "{\"v\":3}"));
    /* Longer: later. */
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 7200, &e3), 0);
    CU_ASSERT(e3 > e1 + 3000 * 1000);
    /* The other run is untouched; both still listed. */
    CU_ASSERT_EQUAL(st->ops->run_expiry(st, "gr_u", &e2), 0);
    CU_ASSERT(e2 <= wall_ms() + TTL_SEC * 1000 + 1000);
    sv_strvec sums = {0};
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT_EQUAL(sums.n, 2);
    sv_strvec_free(&sums);

    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_none", 60, &e1), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_expiry(st, "gr_none", &e1), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 0, &e1), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, NULL, 60, &e1), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->run_retain(NULL, "gr_k", 60, &e1), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->run_expiry(st, "gr_k", NULL), -EINVAL);
    st->ops->destroy(st);
}

/* run_put with a summary replaces it, with NULL keeps it; the record is
 * replaced either way, and no other call writes a summary. */
static void test_summary_put(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    sv_strvec sums = {0};
    char b[128], q[128], r[128], s[128];
    const char *want[2] = {summary(b, "gr_b", "queued"), summary(q, "gr_a", "queued")};

    summary(r, "gr_a", "running");
    summary(s, "gr_a", "succeeded");
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":1}", q, 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_b", "{}", b, 2), 0);

    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"v\":2}", NULL, NULL), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT(summaries_are(&sums, want, 2));
    sv_strvec_free(&sums);

    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"v\":3}", r, NULL), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":3}"));
    want[1] = r;
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT(summaries_are(&sums, want, 2));
    sv_strvec_free(&sums);

    /* Events, the cancel flag, a refused create and reads leave it alone. */
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", s, 3), -EEXIST);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"v\":4}", NULL, NULL), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":4}"));
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT(summaries_are(&sums, want, 2));
    sv_strvec_free(&sums);

    /* The caller owns what it reads: changing it must not touch the store. */
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 1, &sums), 0);
    CU_ASSERT_EQUAL_FATAL(sums.n, 1);
    sums.v[0][0] = 'X';
    sv_strvec_free(&sums);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"v\":5}", s, NULL), 0);
    want[1] = s;
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT(summaries_are(&sums, want, 2));
    sv_strvec_free(&sums);
    st->ops->destroy(st);
}

static void test_idem_claim(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    char *held = (char *)"untouched";

    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "gr_first", &held), 0);
    CU_ASSERT_PTR_NULL(held);
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "gr_second", &held), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL_FATAL(held);
    CU_ASSERT_STRING_EQUAL(held, "gr_first");
    free(held);
    /* Claims are independent of runs and of each other. */
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws2:key", "gr_other", &held), 0);
    CU_ASSERT_EQUAL(count_claims(st), 2);

    CU_ASSERT_EQUAL(st->ops->idem_release(st, "ws1:key"), 0);
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "ws1:key"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "never"), -ENOENT);
    CU_ASSERT_EQUAL(count_claims(st), 1);
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "gr_third", &held), 0);
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "x", &held), -EEXIST);
    CU_ASSERT_STRING_EQUAL(held, "gr_third");
    free(held);
    /* Keys and values are taken whole: spaces and separators included. */
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws 3:a b", "gr_x 1f2e", &held), 0);
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws 3:a b", "y", &held), -EEXIST);
    CU_ASSERT_STRING_EQUAL(held, "gr_x 1f2e");
    free(held);
    CU_ASSERT_EQUAL(count_claims(st), 3);
    st->ops->destroy(st);
}

static void test_queue_fifo(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    char *id = (char *)"untouched";
    size_t q = 9;

    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), -ENOENT);
    CU_ASSERT_PTR_NULL(id);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q1"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q2"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), 0);
    CU_ASSERT_STRING_EQUAL(id, "q1");
    free(id);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q3"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), 0);
    CU_ASSERT_STRING_EQUAL(id, "q2");
    free(id);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), 0);
    CU_ASSERT_STRING_EQUAL(id, "q3");
    free(id);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), -ENOENT);
    /* Emptied and refilled. */
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q4"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), 0);
    CU_ASSERT_STRING_EQUAL(id, "q4");
    free(id);
    /* destroy frees what is left (valgrind sees to that). */
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q5"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q6"), 0);
    CU_ASSERT_EQUAL(g_be->counts(st, NULL, NULL, NULL, &q), 0);
    CU_ASSERT_EQUAL(q, 2);
    st->ops->destroy(st);
}

/* A node's writes as one step (sv_store_step, the backend's run_step when
 * it has one): events in order under the cap, record and summary replaced
 * when given, the cancel flag read; a posted step lands before the next. */
static void test_step(void)
{
    sv_store *st = sv_sc_new_store(TTL_SEC);
    const char *ev[] = {"e1", "e2", "e3"};
    char *rec = NULL;
    sv_strvec v = {0}, sums = {0};
    uint64_t dropped = 9;
    int flag = -1;
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_s", ev, 3, EVENT_CAP, "{}", NULL, 0, &flag), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_s", "{\"v\":0}", "s0", 100), 0);
    CU_ASSERT_EQUAL(sv_store_step_post(st, "gr_s", ev, 1, EVENT_CAP, NULL, NULL, 0), 0);
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_s", ev + 1, 2, EVENT_CAP, "{\"v\":1}", NULL, 0, &flag),
                    0);
    CU_ASSERT_EQUAL(flag, 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_s", &rec), 0);
    CU_ASSERT_STRING_EQUAL(rec ? rec : "", "{\"v\":1}");
    free(rec);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_s", &v, &dropped), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 3);
    CU_ASSERT(strcmp(v.v[0], "e1") == 0 && strcmp(v.v[2], "e3") == 0);
    CU_ASSERT_EQUAL(dropped, 0);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT(sums.n == 1 && strcmp(sums.v[0], "s0") == 0);
    sv_strvec_free(&sums);
    /* events only, over a cap of 2; then the summary; then the flag */
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_s", ev, 3, 2, NULL, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_s", &v, &dropped), 0);
    CU_ASSERT(v.n == 2 && dropped == 4 && strcmp(v.v[1], "e3") == 0);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_s", NULL, 0, 2, "{\"v\":2}", "s2", 0, &flag), 0);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &sums), 0);
    CU_ASSERT(sums.n == 1 && strcmp(sums.v[0], "s2") == 0);
    sv_strvec_free(&sums);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_s"), 0);
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_s", ev, 1, EVENT_CAP, NULL, NULL, 0, &flag), 0);
    CU_ASSERT_EQUAL(flag, 1);
    st->ops->destroy(st);
}

const sv_cu_test sv_store_contract_tests[] = {
    {"one step: events, record, summary, cancel flag", test_step},
    {"create, get, put, duplicate", test_create_get_put},
    {"run_put reads the cancel flag", test_put_reads_cancel_flag},
    {"unknown run is -ENOENT everywhere", test_unknown_run},
    {"NULL arguments are -EINVAL", test_null_arguments},
    {"event cap 1000 with dropped counter", test_event_cap_and_dropped},
    {"event ring wrap and cap change", test_event_ring_wrap_and_cap_change},
    {"summaries: order and max", test_summaries_order_and_max},
    {"summaries: replaced by run_put, kept with NULL", test_summary_put},
    {"summaries after a position: pages, ties, gaps", test_summaries_after},
    {"retain: later, never earlier, kept through writes", test_retain},
    {"idempotency claim and release", test_idem_claim},
    {"queue FIFO", test_queue_fifo},
    {"4 threads x 10000 mixed ops", sv_sc_test_concurrent_mixed_ops},
};
const size_t sv_store_contract_n_tests =
    sizeof sv_store_contract_tests / sizeof sv_store_contract_tests[0];
