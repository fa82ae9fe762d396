/*
 * test_store_mem.c - the embedded store through its function table.
 *
 * Time is injected (sv_store_mem_new_clock), so TTL tests move a counter
 * instead of sleeping.  Reclaiming is observed through sv_store_mem_counts,
 * a test hook of store_mem.c that is deliberately not in store.h.
 */
#include "cu_run.h"
#include "store.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sv_store_mem_counts(sv_store *st, size_t *runs, size_t *events, size_t *claims, size_t *queued);

#define TTL_SEC 10
#define TTL_MS (TTL_SEC * 1000)
#define EVENT_CAP 1000

static int64_t test_clock(void *arg)
{
    return *(const int64_t *)arg;
}

/* A store on a clock the test moves; *now starts at 0. */
static sv_store *new_store(int64_t *now)
{
    sv_store *st = NULL;
    *now = 0;
    CU_ASSERT_FATAL(sv_store_mem_new_clock(TTL_SEC, test_clock, now, &st) == 0);
    CU_ASSERT_FATAL(st != NULL);
    return st;
}

static void run_id(char buf[40], unsigned i)
{
    snprintf(buf, 40, "gr_%032x", i);
}

static size_t count_runs(sv_store *st)
{
    size_t n = 0;
    CU_ASSERT(sv_store_mem_counts(st, &n, NULL, NULL, NULL) == 0);
    return n;
}

static size_t count_events(sv_store *st)
{
    size_t n = 0;
    CU_ASSERT(sv_store_mem_counts(st, NULL, &n, NULL, NULL) == 0);
    return n;
}

static size_t count_claims(sv_store *st)
{
    size_t n = 0;
    CU_ASSERT(sv_store_mem_counts(st, NULL, NULL, &n, NULL) == 0);
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

static void test_create_get_put(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char *json = NULL;

    CU_ASSERT_STRING_EQUAL(st->ops->name, "memory");
    CU_ASSERT_EQUAL(st->ttl_sec, TTL_SEC);
    CU_ASSERT_EQUAL(st->ops->ping(st), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":1}", 100), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":1}"));
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"v\":2}"), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":3}", 200), -EEXIST);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    /* The caller owns what it reads: changing it must not touch the store. */
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_a", &json), 0);
    json[0] = 'X';
    free(json);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_b", "", 100), 0);
    CU_ASSERT(record_is(st, "gr_b", ""));
    CU_ASSERT_EQUAL(count_runs(st), 2);
    st->ops->destroy(st);
}

static void test_unknown_run(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char *json = (char *)"untouched";
    sv_strvec ev = {(char **)1, 7};
    uint64_t dropped = 7;
    int flag = 7;

    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_none", &json), -ENOENT);
    CU_ASSERT_PTR_NULL(json);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_none", "{}", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_none", &ev, &dropped), -ENOENT);
    CU_ASSERT_PTR_NULL(ev.v);
    CU_ASSERT_EQUAL(ev.n, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_none"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_none", &flag), -ENOENT);
    CU_ASSERT_EQUAL(count_runs(st), 0);
    CU_ASSERT_EQUAL(count_events(st), 0);
    st->ops->destroy(st);
}

static void test_null_arguments(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    const sv_store_ops *o = st->ops;
    sv_store *bad = (sv_store *)1;
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t d;
    int f;

    CU_ASSERT_EQUAL(sv_store_mem_new(0, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new(-5, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new(10, NULL), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new_clock(10, NULL, NULL, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_counts(NULL, NULL, NULL, NULL, NULL), -EINVAL);

    CU_ASSERT_EQUAL(o->ping(NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_create(NULL, "a", "{}", 0), -EINVAL);
    CU_ASSERT_EQUAL(o->run_create(st, NULL, "{}", 0), -EINVAL);
    CU_ASSERT_EQUAL(o->run_create(st, "a", NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(NULL, "a", "{}"), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(st, NULL, "{}"), -EINVAL);
    CU_ASSERT_EQUAL(o->run_put(st, "a", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_get(NULL, "a", &s), -EINVAL);
    CU_ASSERT_EQUAL(o->run_get(st, NULL, &s), -EINVAL);
    CU_ASSERT_EQUAL(o->run_get(st, "a", NULL), -EINVAL);
    CU_ASSERT_EQUAL(o->run_list(NULL, 10, &v), -EINVAL);
    CU_ASSERT_EQUAL(o->run_list(st, 10, NULL), -EINVAL);
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
    CU_ASSERT_EQUAL(sv_store_mem_counts(st, &r, &e, &c, &q), 0);
    CU_ASSERT(r == 0 && e == 0 && c == 0 && q == 0);
    o->destroy(st);
}

static void test_real_clock(void)
{
    sv_store *st = NULL;
    CU_ASSERT_FATAL(sv_store_mem_new(86400, &st) == 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", 1), 0);
    CU_ASSERT(record_is(st, "gr_a", "{}"));
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e", EVENT_CAP), 0);
    st->ops->destroy(st);
}

static void test_ttl_run_expires(void)
{
    int64_t now;
    sv_store *st = new_store(&now);

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":1}", 1), 0);
    now = TTL_MS - 1;
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":1}"));
    now = TTL_MS;
    char *json = NULL;
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_a", &json), -ENOENT);
    CU_ASSERT_PTR_NULL(json);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}"), -ENOENT);
    /* An expired id is free again, and starts with nothing of the old run. */
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":2}", 2), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    int flag = 1;
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    st->ops->destroy(st);
}

static void test_ttl_events_and_cancel_expire(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    sv_strvec ev = {0};
    uint64_t dropped;
    int flag;

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e1", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), 0);
    now = TTL_MS;
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &ev, &dropped), -ENOENT);
    CU_ASSERT_EQUAL(ev.n, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e2", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(count_runs(st), 0);
    CU_ASSERT_EQUAL(count_events(st), 0);
    st->ops->destroy(st);
}

/* Each kind of write gives the run (record, events, flag) another full TTL. */
static void test_ttl_refresh_on_write(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    sv_strvec ev = {0};
    uint64_t dropped;
    int flag = 0;

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", 1), 0);
    now = 5000;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"p\":1}"), 0);
    now = 5000 + TTL_MS - 1;
    CU_ASSERT(record_is(st, "gr_a", "{\"p\":1}"));
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e1", EVENT_CAP), 0);
    int64_t t_event = now;
    now = t_event + TTL_MS - 1;
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), 0);
    int64_t t_cancel = now;
    /* Reads do not refresh. */
    now = t_cancel + TTL_MS - 1;
    CU_ASSERT(record_is(st, "gr_a", "{\"p\":1}"));
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), 0);
    CU_ASSERT_EQUAL(flag, 1);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &ev, &dropped), 0);
    CU_ASSERT_EQUAL(ev.n, 1);
    sv_strvec_free(&ev);
    now = t_cancel + TTL_MS;
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &ev, &dropped), -ENOENT);
    st->ops->destroy(st);
}

/* Looking at an expired run frees it there and then. */
static void test_reclaim_on_access(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char id[40];

    for (unsigned i = 0; i < 3; i++) {
        run_id(id, i);
        CU_ASSERT_EQUAL(st->ops->run_create(st, id, "{}", i), 0);
        for (int k = 0; k < 10; k++)
            CU_ASSERT_EQUAL(st->ops->event_append(st, id, "ev", EVENT_CAP), 0);
    }
    CU_ASSERT_EQUAL(count_runs(st), 3);
    CU_ASSERT_EQUAL(count_events(st), 30);
    now = TTL_MS;
    run_id(id, 1);
    int flag;
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, id, &flag), -ENOENT);
    /* The sweep at the start of that call took all three (budget 16). */
    CU_ASSERT_EQUAL(count_runs(st), 0);
    CU_ASSERT_EQUAL(count_events(st), 0);
    st->ops->destroy(st);
}

/*
 * Steady load for ten TTLs of simulated time: one new run a second, each
 * written a few times and never read again.  Only the incremental sweep can
 * reclaim them, and the store must hold about one TTL's worth, not all.
 */
static void test_reclaim_under_steady_load(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char id[40];
    size_t peak_runs = 0, peak_events = 0, peak_claims = 0;
    const unsigned seconds = 10 * TTL_SEC;

    for (unsigned i = 0; i < seconds; i++) {
        now = (int64_t)i * 1000;
        run_id(id, i);
        CU_ASSERT_EQUAL(st->ops->run_create(st, id, "{}", now * 1000), 0);
        for (int k = 0; k < 5; k++)
            CU_ASSERT_EQUAL(st->ops->event_append(st, id, "ev", EVENT_CAP), 0);
        char *held = NULL;
        CU_ASSERT_EQUAL(st->ops->idem_claim(st, id, id, &held), 0);
        size_t r, e, c;
        CU_ASSERT_EQUAL(sv_store_mem_counts(st, &r, &e, &c, NULL), 0);
        peak_runs = r > peak_runs ? r : peak_runs;
        peak_events = e > peak_events ? e : peak_events;
        peak_claims = c > peak_claims ? c : peak_claims;
    }
    CU_ASSERT(peak_runs <= TTL_SEC + 1);
    CU_ASSERT(peak_events <= 5 * (TTL_SEC + 1));
    CU_ASSERT(peak_claims <= TTL_SEC + 1);
    sv_strvec ids = {0};
    CU_ASSERT_EQUAL(st->ops->run_list(st, 1000, &ids), 0);
    CU_ASSERT(ids.n >= TTL_SEC - 1 && ids.n <= TTL_SEC);
    sv_strvec_free(&ids);
    st->ops->destroy(st);
}

static void test_event_cap_and_dropped(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    sv_strvec ev = {0};
    uint64_t dropped = 99;
    char buf[32];

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", 1), 0);
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
    int64_t now;
    sv_store *st = new_store(&now);
    sv_strvec ev = {0};
    uint64_t dropped;
    char buf[32];

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", 1), 0);
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

static void test_run_list_order_and_max(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    sv_strvec ids = {0};
    /* created_us out of insertion order, with ties. */
    static const struct {
        const char *id;
        int64_t created_us;
    } runs[] = {{"r1", 100}, {"r2", 300}, {"r3", 200}, {"r4", 300},
                {"r5", 50},  {"r6", 300}, {"r7", 400}};
    static const char *const newest_first[] = {"r7", "r6", "r4", "r2", "r3", "r1", "r5"};

    CU_ASSERT_EQUAL(st->ops->run_list(st, 10, &ids), 0);
    CU_ASSERT_EQUAL(ids.n, 0);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        CU_ASSERT_EQUAL(st->ops->run_create(st, runs[i].id, "{}", runs[i].created_us), 0);

    CU_ASSERT_EQUAL_FATAL(st->ops->run_list(st, 100, &ids), 0);
    CU_ASSERT_EQUAL_FATAL(ids.n, 7);
    for (size_t i = 0; i < 7; i++)
        CU_ASSERT_STRING_EQUAL(ids.v[i], newest_first[i]);
    sv_strvec_free(&ids);

    CU_ASSERT_EQUAL_FATAL(st->ops->run_list(st, 3, &ids), 0);
    CU_ASSERT_EQUAL_FATAL(ids.n, 3);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(ids.v[i], newest_first[i]);
    sv_strvec_free(&ids);

    CU_ASSERT_EQUAL(st->ops->run_list(st, 0, &ids), 0);
    CU_ASSERT_EQUAL(ids.n, 0);
    CU_ASSERT_PTR_NULL(ids.v);

    /* Keep r2 and r5 alive past the others' TTL: the list skips the rest. */
    now = TTL_MS / 2;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "r2", "{}"), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "r5", "e", EVENT_CAP), 0);
    now = TTL_MS;
    CU_ASSERT_EQUAL_FATAL(st->ops->run_list(st, 100, &ids), 0);
    CU_ASSERT_EQUAL_FATAL(ids.n, 2);
    CU_ASSERT_STRING_EQUAL(ids.v[0], "r2");
    CU_ASSERT_STRING_EQUAL(ids.v[1], "r5");
    sv_strvec_free(&ids);
    CU_ASSERT_EQUAL(count_runs(st), 2);
    st->ops->destroy(st);
}

static void test_idem_claim(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
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

    /* The claim made at 0 lapses at TTL; the key is claimable again. */
    now = TTL_MS - 1;
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws2:key", "gr_late", &held), -EEXIST);
    free(held);
    now = TTL_MS;
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws2:key", "gr_late", &held), 0);
    CU_ASSERT_PTR_NULL(held);
    /* The sweep at that call reclaimed both lapsed claims before the new one. */
    CU_ASSERT_EQUAL(count_claims(st), 1);
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "ws1:key"), -ENOENT);
    st->ops->destroy(st);
}

static void test_queue_fifo(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char *id = (char *)"untouched";

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
    /* Emptied and refilled: the tail pointer was reset properly. */
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q4"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), 0);
    CU_ASSERT_STRING_EQUAL(id, "q4");
    free(id);
    /* Queued ids do not expire; destroy frees what is left. */
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q5"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q6"), 0);
    now = 100 * TTL_MS;
    size_t q = 0;
    CU_ASSERT_EQUAL(sv_store_mem_counts(st, NULL, NULL, NULL, &q), 0);
    CU_ASSERT_EQUAL(q, 2);
    st->ops->destroy(st);
}

/* ---- concurrency ---- */

#define N_THREADS 4
#define OPS_PER_THREAD 10000
#define RUNS_PER_THREAD (OPS_PER_THREAD / 10)
#define SHARED_KEYS 100

struct worker {
    sv_store *st;
    int t;
    int errors;
    unsigned events[RUNS_PER_THREAD];
    unsigned claims_won;
    unsigned pushed, popped;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sv_store *st = w->st;
    char id[40], key[40], json[64];
    unsigned created = 0;

    for (unsigned i = 0; i < OPS_PER_THREAD; i++) {
        unsigned own = created ? (i * 7919u) % created : 0;
        run_id(id, (unsigned)w->t << 24 | own);
        char *s = NULL;
        int rc = 0, flag = 0;
        switch (i % 10) {
        case 0:
            run_id(id, (unsigned)w->t << 24 | created);
            snprintf(json, sizeof json, "{\"t\":%d,\"i\":%u}", w->t, i);
            rc = st->ops->run_create(st, id, json, (int64_t)i);
            created++;
            break;
        case 1:
        case 2:
        case 3:
            rc = st->ops->event_append(st, id, "{\"type\":\"node_start\"}", EVENT_CAP);
            if (rc == 0)
                w->events[own]++;
            break;
        case 4:
            rc = st->ops->run_put(st, id, "{\"status\":\"running\"}");
            break;
        case 5:
            rc = st->ops->run_get(st, id, &s);
            free(s);
            break;
        case 6:
            rc = st->ops->cancel_set(st, id);
            if (rc == 0)
                rc = st->ops->cancel_get(st, id, &flag);
            if (rc == 0 && flag != 1)
                rc = -EPROTO;
            break;
        case 7:
            /* Every thread races for the same keys: one winner each. */
            snprintf(key, sizeof key, "shared:%u", (i / 10) % SHARED_KEYS);
            snprintf(json, sizeof json, "t%d", w->t);
            rc = st->ops->idem_claim(st, key, json, &s);
            if (rc == 0)
                w->claims_won++;
            else if (rc == -EEXIST && s && s[0] == 't')
                rc = 0;
            free(s);
            break;
        case 8:
            snprintf(json, sizeof json, "q%d:%u", w->t, i);
            rc = st->ops->queue_push(st, json);
            if (rc == 0)
                w->pushed++;
            break;
        case 9:
            rc = st->ops->queue_pop(st, &s);
            if (rc == 0)
                w->popped++;
            else if (rc == -ENOENT)
                rc = 0;
            free(s);
            break;
        }
        if (rc != 0)
            w->errors++;
    }
    return NULL;
}

static void test_concurrent_mixed_ops(void)
{
    sv_store *st = NULL;
    struct worker w[N_THREADS];
    pthread_t th[N_THREADS];
    size_t total_events = 0, pushed = 0, popped = 0, won = 0;

    CU_ASSERT_FATAL(sv_store_mem_new(3600, &st) == 0);
    memset(w, 0, sizeof w);
    for (int t = 0; t < N_THREADS; t++) {
        w[t].st = st;
        w[t].t = t;
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, worker_main, &w[t]) == 0);
    }
    for (int t = 0; t < N_THREADS; t++)
        pthread_join(th[t], NULL);

    for (int t = 0; t < N_THREADS; t++) {
        CU_ASSERT_EQUAL(w[t].errors, 0);
        won += w[t].claims_won;
        pushed += w[t].pushed;
        popped += w[t].popped;
        /* Each run holds exactly the events its thread appended. */
        int events_match = 1;
        for (unsigned r = 0; r < RUNS_PER_THREAD; r++) {
            char id[40];
            sv_strvec ev = {0};
            uint64_t dropped = 1;
            run_id(id, (unsigned)t << 24 | r);
            events_match &= st->ops->events_get(st, id, &ev, &dropped) == 0 &&
                            ev.n == w[t].events[r] && dropped == 0;
            total_events += ev.n;
            sv_strvec_free(&ev);
        }
        CU_ASSERT(events_match);
    }
    CU_ASSERT_EQUAL(won, SHARED_KEYS);

    size_t runs, events, claims, queued;
    CU_ASSERT_EQUAL(sv_store_mem_counts(st, &runs, &events, &claims, &queued), 0);
    CU_ASSERT_EQUAL(runs, N_THREADS * RUNS_PER_THREAD);
    CU_ASSERT_EQUAL(events, total_events);
    CU_ASSERT_EQUAL(claims, SHARED_KEYS);
    CU_ASSERT_EQUAL(queued, pushed - popped);

    sv_strvec ids = {0};
    CU_ASSERT_EQUAL(st->ops->run_list(st, SIZE_MAX, &ids), 0);
    CU_ASSERT_EQUAL(ids.n, N_THREADS * RUNS_PER_THREAD);
    sv_strvec_free(&ids);

    size_t drained = 0;
    char *s;
    while (st->ops->queue_pop(st, &s) == 0) {
        drained++;
        free(s);
    }
    CU_ASSERT_EQUAL(drained, pushed - popped);
    st->ops->destroy(st);
}

/* Enough runs to grow the table many times; every one still found. */
static void test_many_runs(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    const unsigned n = 100000;
    char id[40], json[40];
    int all_created = 1, all_found = 1;

    for (unsigned i = 0; i < n; i++) {
        run_id(id, i * 2654435761u);
        snprintf(json, sizeof json, "{\"i\":%u}", i);
        all_created &= st->ops->run_create(st, id, json, (int64_t)i) == 0;
    }
    CU_ASSERT(all_created);
    CU_ASSERT_EQUAL(count_runs(st), n);
    for (unsigned i = 0; i < n; i++) {
        run_id(id, i * 2654435761u);
        snprintf(json, sizeof json, "{\"i\":%u}", i);
        all_found &= record_is(st, id, json);
    }
    CU_ASSERT(all_found);

    sv_strvec ids = {0};
    CU_ASSERT_EQUAL_FATAL(st->ops->run_list(st, n, &ids), 0);
    CU_ASSERT_EQUAL_FATAL(ids.n, n);
    int newest_first = 1;
    for (unsigned k = 0; k < n; k++) {
        run_id(id, (n - 1 - k) * 2654435761u);
        newest_first &= strcmp(ids.v[k], id) == 0;
    }
    CU_ASSERT(newest_first);
    sv_strvec_free(&ids);
    st->ops->destroy(st);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"create, get, put, duplicate", test_create_get_put},
        {"unknown run is -ENOENT everywhere", test_unknown_run},
        {"NULL arguments are -EINVAL", test_null_arguments},
        {"default monotonic clock", test_real_clock},
        {"run expires after TTL", test_ttl_run_expires},
        {"events and cancel flag expire with the run", test_ttl_events_and_cancel_expire},
        {"writes refresh the TTL, reads do not", test_ttl_refresh_on_write},
        {"expired run freed on access", test_reclaim_on_access},
        {"memory bounded under steady load", test_reclaim_under_steady_load},
        {"event cap 1000 with dropped counter", test_event_cap_and_dropped},
        {"event ring wrap and cap change", test_event_ring_wrap_and_cap_change},
        {"run_list order, max, expiry", test_run_list_order_and_max},
        {"idempotency claim, release, expiry", test_idem_claim},
        {"queue FIFO", test_queue_fifo},
        {"4 threads x 10000 mixed ops", test_concurrent_mixed_ops},
        {"100000 runs all found", test_many_runs},
    };
    static const sv_cu_suite suites[] = {
        {.name = "store_mem", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
