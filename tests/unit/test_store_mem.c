/*
 * test_store_mem.c - the embedded store: the contract every backend passes
 * (store_contract.c), then what is the embedded store's own.
 *
 * Time is injected (sv_store_mem_new_clock), so TTL tests move a counter
 * instead of sleeping.  Reclaiming is observed through sv_store_mem_counts,
 * a test hook of store_mem.c that is deliberately not in store.h.
 */
#include "cu_run.h"
#include "store.h"
#include "store_contract.h"

#include <CUnit/CUnit.h>
#include <errno.h>
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

/* Does the store list exactly one summary, `want` (none when NULL)? */
static int summary_is(sv_store *st, const char *want)
{
    sv_strvec v = {0};
    int rc = st->ops->run_summaries(st, 10, &v);
    int same = rc == 0 && (want ? v.n == 1 && strcmp(v.v[0], want) == 0 : v.n == 0);
    sv_strvec_free(&v);
    return same;
}

static void test_real_clock(void)
{
    sv_store *st = NULL;
    CU_ASSERT_FATAL(sv_store_mem_new(86400, &st) == 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", "{}", 1), 0);
    CU_ASSERT(record_is(st, "gr_a", "{}"));
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e", EVENT_CAP), 0);
    st->ops->destroy(st);
}

static void test_ttl_run_expires(void)
{
    int64_t now;
    sv_store *st = new_store(&now);

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":1}", "s1", 1), 0);
    now = TTL_MS - 1;
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":1}"));
    CU_ASSERT(summary_is(st, "s1"));
    now = TTL_MS;
    char *json = NULL;
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_a", &json), -ENOENT);
    CU_ASSERT_PTR_NULL(json);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}", NULL, NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}", "s9", NULL), -ENOENT);
    /* The summary went with the record. */
    CU_ASSERT(summary_is(st, NULL));
    /* An expired id is free again, and starts with nothing of the old run. */
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":2}", "s2", 2), 0);
    CU_ASSERT(record_is(st, "gr_a", "{\"v\":2}"));
    CU_ASSERT(summary_is(st, "s2"));
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

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", "{}", 1), 0);
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

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", "{}", 1), 0);
    now = 5000;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{\"p\":1}", NULL, NULL), 0);
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

/* A retained run lives past the TTL through its own writes, expires when
 * the retain runs out, and is reclaimed by the sweep (runs_kept) without
 * being looked at; a write once the retain has less left than the TTL gives
 * the TTL again. */
static void test_retain_expiry(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char id[40];

    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_k", "{}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_w", "{}", "{}", 2), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_u", "{}", "{}", 3), 0);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 100, NULL), 0); /* until 100000 */
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_w", 30, NULL), 0);  /* until 30000 */
    now = 5000;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_k", "{\"p\":1}", NULL, NULL), 0);
    now = TTL_MS; /* gr_u's TTL is over, the others are retained */
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_u", &(char *){NULL}), -ENOENT);
    CU_ASSERT(record_is(st, "gr_k", "{\"p\":1}"));
    CU_ASSERT(record_is(st, "gr_w", "{}"));
    now = 25000;
    /* Less than a TTL left: this write gives gr_w 25000 + TTL. */
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_w", "e", EVENT_CAP), 0);
    now = 30000 + 1;
    CU_ASSERT(record_is(st, "gr_w", "{}"));
    now = 25000 + TTL_MS;
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_w"), -ENOENT);
    now = 99999;
    CU_ASSERT(record_is(st, "gr_k", "{\"p\":1}"));
    /* Past the retain: reclaimed by the sweep of other calls' entries. */
    now = 100000;
    for (unsigned i = 0; i < 4; i++) {
        run_id(id, i);
        CU_ASSERT_EQUAL(st->ops->run_create(st, id, "{}", "{}", 10 + i), 0);
    }
    CU_ASSERT_EQUAL(count_runs(st), 4);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 100, NULL), -ENOENT);
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
        CU_ASSERT_EQUAL(st->ops->run_create(st, id, "{}", "{}", i), 0);
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
        CU_ASSERT_EQUAL(st->ops->run_create(st, id, "{}", "{}", now * 1000), 0);
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
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 1000, &ids), 0);
    CU_ASSERT(ids.n >= TTL_SEC - 1 && ids.n <= TTL_SEC);
    sv_strvec_free(&ids);
    st->ops->destroy(st);
}

static void test_constructor_arguments(void)
{
    sv_store *bad = (sv_store *)1;
    int64_t now = 0;

    CU_ASSERT_EQUAL(sv_store_mem_new(0, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new(-5, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new(10, NULL), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new_clock(10, NULL, NULL, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_new_clock(0, test_clock, &now, &bad), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_mem_counts(NULL, NULL, NULL, NULL, NULL), -EINVAL);
}

/* Writes keep two runs alive past the others' TTL: the list skips the rest.
 * Each run's summary here is its id; the put leaves r2's as it was. */
static void test_summaries_skip_expired(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    sv_strvec ids = {0};
    static const char *const ids_in[] = {"r1", "r2", "r3", "r4", "r5"};

    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(st->ops->run_create(st, ids_in[i], "{}", ids_in[i], (int64_t)i * 100), 0);
    now = TTL_MS / 2;
    CU_ASSERT_EQUAL(st->ops->run_put(st, "r2", "{}", NULL, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "r5", "e", EVENT_CAP), 0);
    now = TTL_MS;
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 100, &ids), 0);
    CU_ASSERT_EQUAL_FATAL(ids.n, 2);
    CU_ASSERT_STRING_EQUAL(ids.v[0], "r5");
    CU_ASSERT_STRING_EQUAL(ids.v[1], "r2");
    sv_strvec_free(&ids);
    CU_ASSERT_EQUAL(count_runs(st), 2);
    st->ops->destroy(st);
}

/* A claim lapses a TTL after it was made; the key is claimable again. */
static void test_idem_claim_lapses(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char *held = NULL;

    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "gr_first", &held), 0);
    now = TTL_MS / 2;
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws2:key", "gr_other", &held), 0);
    now = TTL_MS - 1;
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "gr_late", &held), -EEXIST);
    CU_ASSERT_STRING_EQUAL(held, "gr_first");
    free(held);
    now = TTL_MS;
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:key", "gr_late", &held), 0);
    CU_ASSERT_PTR_NULL(held);
    now = TTL_MS / 2 + TTL_MS;
    /* The sweep at that call reclaimed the lapsed claim before the new one. */
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "ws2:key"), -ENOENT);
    CU_ASSERT_EQUAL(count_claims(st), 1);
    st->ops->destroy(st);
}

/* Queued ids do not expire. */
static void test_queue_outlives_ttl(void)
{
    int64_t now;
    sv_store *st = new_store(&now);
    char *id = NULL;
    size_t q = 0;

    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q1"), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "q2"), 0);
    now = 100 * TTL_MS;
    CU_ASSERT_EQUAL(sv_store_mem_counts(st, NULL, NULL, NULL, &q), 0);
    CU_ASSERT_EQUAL(q, 2);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &id), 0);
    CU_ASSERT_STRING_EQUAL(id, "q1");
    free(id);
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
        all_created &= st->ops->run_create(st, id, json, id, (int64_t)i) == 0;
    }
    CU_ASSERT(all_created);
    CU_ASSERT_EQUAL(count_runs(st), n);
    for (unsigned i = 0; i < n; i++) {
        run_id(id, i * 2654435761u);
        snprintf(json, sizeof json, "{\"i\":%u}", i);
        all_found &= record_is(st, id, json);
    }
    CU_ASSERT(all_found);

    /* Each run's summary is its id here. */
    sv_strvec ids = {0};
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, n, &ids), 0);
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

static sv_store *make_store(int64_t ttl_sec)
{
    sv_store *st = NULL;
    return sv_store_mem_new(ttl_sec, &st) == 0 ? st : NULL;
}

int main(void)
{
    static const sv_store_backend backend = {
        .name = "memory", .durable = 0, .make = make_store, .counts = sv_store_mem_counts};
    static const sv_cu_test tests[] = {
        {"constructor arguments", test_constructor_arguments},
        {"default monotonic clock", test_real_clock},
        {"run expires after TTL", test_ttl_run_expires},
        {"events and cancel flag expire with the run", test_ttl_events_and_cancel_expire},
        {"writes refresh the TTL, reads do not", test_ttl_refresh_on_write},
        {"a retained run outlives the TTL, then expires", test_retain_expiry},
        {"expired run freed on access", test_reclaim_on_access},
        {"memory bounded under steady load", test_reclaim_under_steady_load},
        {"summaries skip expired runs", test_summaries_skip_expired},
        {"idempotency claims lapse after the TTL", test_idem_claim_lapses},
        {"queued ids do not expire", test_queue_outlives_ttl},
        {"100000 runs all found", test_many_runs},
    };
    const sv_cu_suite suites[] = {
        {.name = "store contract (memory)",
         .tests = sv_store_contract_tests,
         .n_tests = sv_store_contract_n_tests},
        {.name = "store_mem", SV_CU_TESTS(tests)},
    };
    sv_store_contract_use(&backend);
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
