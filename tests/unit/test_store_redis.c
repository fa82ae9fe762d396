/*
 * test_store_redis.c - the Redis store against a real redis-server that the
 * harness starts on a free loopback port: the contract every backend passes
 * (store_contract.c), then what only Redis has: TTLs on its keys, expiry,
 * the listing's summary keys, the ownership sets of durable stores.  Its
 * connections (URLs, passwords, databases, the socket, restarts, reply
 * shapes, the pool) are test_store_redis_conn.c's.
 *
 * What the store wrote is checked behind its back through a raw hiredis
 * connection.  Expiry runs on real time (TTL 1 s), polled with a deadline.
 */
#include "cu_run.h"
#include "harness.h"
#include "redis_test_support.h"
#include "store.h"
#include "store_contract.h"
#include "store_redis_conn.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENT_CAP 1000
#define DEADLINE_MS 10000

/* ---- the backend for the contract ---- */

static size_t count_keys(redisContext *c, const char *pattern, int sum_llen)
{
    size_t n = 0;
    redisReply *r = redisCommand(c, "KEYS %s", pattern);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        n += sum_llen ? (size_t)rt_raw_int(c, "LLEN %s", r->element[i]->str) : 1;
    freeReplyObject(r);
    return n;
}

static int store_counts(sv_store *st, size_t *runs, size_t *events, size_t *claims, size_t *queued)
{
    redisContext *c = rt_raw(0);
    (void)st;
    if (!c)
        return -EIO;
    if (runs)
        *runs = count_keys(c, "sv:{*}", 0);
    if (events)
        *events = count_keys(c, "sv:{*}:ev", 1);
    if (claims)
        *claims = count_keys(c, "sv:idem:*", 0);
    if (queued)
        *queued = (size_t)rt_raw_int(c, "LLEN sv:queue");
    redisFree(c);
    return 0;
}

/* ---- Redis only ---- */

static const char *const run_keys[] = {"sv:{gr_t}", "sv:{gr_t}:ev"};
#define N_RUN_KEYS (sizeof run_keys / sizeof run_keys[0])

/* Is the field of the hash at key exactly `want`? */
static int raw_field_is(redisContext *c, const char *key, const char *field, const char *want)
{
    redisReply *r = c ? redisCommand(c, "HGET %s %s", key, field) : NULL;
    int same = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
    if (!same)
        fprintf(stderr, "\n    HGET %s %s: %s, wanted %s\n", key, field,
                r && r->type == REDIS_REPLY_STRING ? r->str : "(not a string)", want);
    freeReplyObject(r);
    return same;
}

/* A run with both of its keys, and every field of its hash. */
static sv_store *store_with_run(int64_t ttl_sec)
{
    sv_store *st = rt_make_store(ttl_sec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_t", "{}", "s0", sv_now_us()), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_t", "e1", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_t"), 0);
    return st;
}

static void test_ttl_on_every_key(void)
{
    sv_store *st = store_with_run(100);
    redisContext *c = rt_raw(0);
    char *held = NULL;

    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:k", "gr_t", &held), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_t"), 0);
    for (size_t i = 0; i < N_RUN_KEYS; i++) {
        long long ttl = rt_raw_int(c, "TTL %s", run_keys[i]);
        if (ttl <= 0 || ttl > 100)
            fprintf(stderr, "\n    TTL %s = %lld\n", run_keys[i], ttl);
        CU_ASSERT(ttl > 0 && ttl <= 100);
    }
    long long ttl = rt_raw_int(c, "TTL sv:idem:ws1:k");
    CU_ASSERT(ttl > 0 && ttl <= 100);
    /* The queue does not expire, as in store_mem; the index is kept small by
     * pruning instead. */
    CU_ASSERT_EQUAL(rt_raw_int(c, "TTL sv:queue"), -1);
    CU_ASSERT_EQUAL(rt_raw_int(c, "TTL sv:runs"), -1);
    CU_ASSERT_EQUAL(rt_raw_int(c, "DBSIZE"), 5);
    redisFree(c);
    st->ops->destroy(st);
}

/* Shorten the run's keys to 50 s of their 100. */
static void shorten(redisContext *c)
{
    for (size_t i = 0; i < N_RUN_KEYS; i++)
        CU_ASSERT_EQUAL(rt_raw_int(c, "PEXPIRE %s 50000", run_keys[i]), 1);
}

/* Do both keys have more than 50 s left? */
static int refreshed(redisContext *c)
{
    int all = 1;
    for (size_t i = 0; i < N_RUN_KEYS; i++)
        all &= rt_raw_int(c, "PTTL %s", run_keys[i]) > 50000;
    return all;
}

static int untouched(redisContext *c)
{
    int all = 1;
    for (size_t i = 0; i < N_RUN_KEYS; i++) {
        long long t = rt_raw_int(c, "PTTL %s", run_keys[i]);
        all &= t > 0 && t <= 50000;
    }
    return all;
}

static void test_writes_refresh_reads_dont(void)
{
    sv_store *st = store_with_run(100);
    redisContext *c = rt_raw(0);
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t dropped;
    int flag;

    /* A put without a summary refreshes the one there, and keeps it. */
    shorten(c);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_t", "{\"p\":1}", NULL, NULL), 0);
    CU_ASSERT(refreshed(c));
    CU_ASSERT(raw_field_is(c, "sv:{gr_t}", "sum", "s0"));
    shorten(c);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_t", "{\"p\":1}", "s1", NULL), 0);
    CU_ASSERT(refreshed(c));
    CU_ASSERT(raw_field_is(c, "sv:{gr_t}", "sum", "s1"));
    shorten(c);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_t", "e2", EVENT_CAP), 0);
    CU_ASSERT(refreshed(c));
    shorten(c);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_t"), 0);
    CU_ASSERT(refreshed(c));

    shorten(c);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_t", &s), 0);
    free(s);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_t", &v, &dropped), 0);
    CU_ASSERT_EQUAL(v.n, 2);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_t", &flag), 0);
    CU_ASSERT_EQUAL(flag, 1);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT_EQUAL(v.n, 1);
    sv_strvec_free(&v);
    CU_ASSERT(untouched(c));
    redisFree(c);
    st->ops->destroy(st);
}

/* TTL 1 s on the real clock: gr_a is left alone and expires, gr_b is written
 * all along and lives on. */
static void test_expiry(void)
{
    sv_store *st = rt_make_store(1);
    redisContext *c = rt_raw(0);
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t dropped = 9;
    int flag = 9, gone = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{}", "sum_a", sv_now_us()), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e1", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), 0);
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:k", "gr_a", &s), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_b", "{}", "sum_b", sv_now_us()), 0);
    long long deadline = th_mono_ms() + DEADLINE_MS;
    while (!gone && th_mono_ms() < deadline) {
        CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_b", "{\"alive\":1}", NULL, NULL), 0);
        gone = rt_raw_int(c, "EXISTS sv:{gr_a} sv:{gr_a}:ev sv:idem:ws1:k") == 0;
        if (!gone)
            th_poll_pause();
    }
    CU_ASSERT_FATAL(gone);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_a", &s), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}", NULL, NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}", "sum_a2", NULL), -ENOENT);
    CU_ASSERT_EQUAL(rt_raw_int(c, "EXISTS sv:{gr_a}"), 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &v, &dropped), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e2", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 1);
    CU_ASSERT_STRING_EQUAL(v.v[0], "sum_b");
    sv_strvec_free(&v);
    /* The listing dropped the expired id from the index on its way. */
    CU_ASSERT_EQUAL(rt_raw_int(c, "ZCARD sv:runs"), 1);
    /* The claim lapsed, and the id is free again with nothing of the old run. */
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:k", "gr_c", &s), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_a", "{\"v\":2}", "sum_a3", sv_now_us()), 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &v, &dropped), 0);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(dropped, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    redisFree(c);
    st->ops->destroy(st);
}

/* The listing shows runs created within the TTL (see store_redis.c): an
 * older one still readable has left the index. */
static void test_list_shows_runs_created_within_ttl(void)
{
    sv_store *st = rt_make_store(10);
    sv_strvec v = {0};
    char *s = NULL;
    int64_t now = sv_now_us();

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    /* Each run's summary is its id here. */
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_old", "{}", "gr_old", now - 20 * 1000000LL), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_mid", "{}", "gr_mid", now - 5 * 1000000LL), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_new", "{}", "gr_new", now), 0);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 2);
    CU_ASSERT_STRING_EQUAL(v.v[0], "gr_new");
    CU_ASSERT_STRING_EQUAL(v.v[1], "gr_mid");
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_old", &s), 0);
    free(s);
    st->ops->destroy(st);
}

/* The listing reads the sum field of sv:{id}: an id whose summary and record are both
 * gone leaves the index; one whose record is there without a summary (as a
 * daemon from before summaries wrote them) is skipped but stays indexed, and
 * is listed again once a write brings a summary.  Batches of 256 ids. */
static void test_summaries_from_sum_keys(void)
{
    sv_store *st = rt_make_store(100);
    redisContext *c = rt_raw(0);
    sv_strvec v = {0};
    int64_t now = sv_now_us();

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_1", "{}", "s1", now), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_2", "{}", "s2", now + 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_3", "{}", "s3", now + 2), 0);
    CU_ASSERT(raw_field_is(c, "sv:{gr_2}", "sum", "s2"));
    rt_raw_do(c, "HDEL sv:{gr_2} sum");
    rt_raw_do(c, "DEL sv:{gr_3}");
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT(v.n == 1 && strcmp(v.v[0], "s1") == 0);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(rt_raw_int(c, "ZCARD sv:runs"), 2);
    CU_ASSERT_EQUAL(rt_raw_int(c, "ZRANK sv:runs gr_2"), 1);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_2", "{}", "s2b", NULL), 0);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT(v.n == 2 && strcmp(v.v[0], "s2b") == 0 && strcmp(v.v[1], "s1") == 0);
    sv_strvec_free(&v);

    /* 700 more runs, every third one expired: `max` live ones come back,
     * newest first, across batches. */
    char id[40];
    int created = 1;
    for (int i = 0; i < 700; i++) {
        snprintf(id, sizeof id, "gr_b%03d", i);
        created &= st->ops->run_create(st, id, "{}", id, now + 10 + i) == 0;
        if (i % 3 == 0)
            rt_raw_do(c, "DEL sv:{%s}", id);
    }
    CU_ASSERT(created);
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 300, &v), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 300);
    int in_order = 1;
    for (int i = 699, k = 0; k < 300; i--) {
        if (i % 3 == 0)
            continue;
        snprintf(id, sizeof id, "gr_b%03d", i);
        in_order &= strcmp(v.v[k++], id) == 0;
    }
    CU_ASSERT(in_order);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 1000, &v), 0);
    CU_ASSERT_EQUAL(v.n, 466 + 2);
    CU_ASSERT_STRING_EQUAL(v.v[v.n - 1], "s1");
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(rt_raw_int(c, "ZCARD sv:runs"), 466 + 2);
    redisFree(c);
    st->ops->destroy(st);
}

/* Writes to a run that does not exist leave no key behind, and a create
 * clears whatever another life of the id left. */
static void test_unknown_run_writes_nothing(void)
{
    sv_store *st = rt_make_store(10);
    redisContext *c = rt_raw(0);

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}", NULL, NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}", "{}", NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_none", "{}", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_none"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "none"), -ENOENT);
    CU_ASSERT_EQUAL(rt_raw_int(c, "DBSIZE"), 0);
    /* Keys that outlived their record by a moment are no part of a new run. */
    rt_raw_do(c, "RPUSH sv:{gr_none}:ev old");
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_none", "{}", "new", 1), 0);
    CU_ASSERT(raw_field_is(c, "sv:{gr_none}", "sum", "new"));
    CU_ASSERT(rt_raw_int(c, "TTL sv:{gr_none}") > 0);
    sv_strvec v = {0};
    uint64_t dropped = 9;
    int flag = 9;
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_none", &v, &dropped), 0);
    CU_ASSERT(v.n == 0 && dropped == 0);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_none", &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    redisFree(c);
    st->ops->destroy(st);
}

/* A run written by the previous key layout (five keys, no hash tag) is read,
 * listed and cancelled as it is, and run_upgrade moves it into sv:{id}. */
static void test_previous_layout(void)
{
    sv_store *st = rt_make_store(100);
    redisContext *c = rt_raw(0);
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t dropped = 9;
    int flag = 9;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    rt_raw_do(c, "SET sv:run:gr_o {\"old\":1} EX 100");
    rt_raw_do(c, "SET sv:sum:gr_o old-sum EX 100");
    rt_raw_do(c, "RPUSH sv:ev:gr_o e1 e2");
    rt_raw_do(c, "SET sv:evn:gr_o 3");
    rt_raw_do(c, "ZADD sv:runs 1 gr_o");
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_o", &s), 0);
    CU_ASSERT_STRING_EQUAL(s ? s : "", "{\"old\":1}");
    free(s);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_o", &v, &dropped), 0);
    CU_ASSERT(v.n == 2 && dropped == 1);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT(v.n == 1 && strcmp(v.v[0], "old-sum") == 0);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_o", &flag), 0);
    CU_ASSERT_EQUAL(flag, 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_o"), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_o", &flag), 0);
    CU_ASSERT_EQUAL(flag, 1);
    /* Upgraded: the old keys are gone, everything is in the new ones. */
    CU_ASSERT_EQUAL(st->ops->run_upgrade(st, "gr_o"), 0);
    CU_ASSERT_EQUAL(rt_raw_int(c, "EXISTS sv:run:gr_o sv:sum:gr_o sv:ev:gr_o sv:evn:gr_o "
                                  "sv:cancel:gr_o"),
                    0);
    CU_ASSERT(raw_field_is(c, "sv:{gr_o}", "sum", "old-sum"));
    CU_ASSERT(rt_raw_int(c, "TTL sv:{gr_o}") > 0 && rt_raw_int(c, "TTL sv:{gr_o}:ev") > 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_o", &v, &dropped), 0);
    CU_ASSERT(v.n == 2 && dropped == 1);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_o", &flag), 0);
    CU_ASSERT_EQUAL(flag, 1);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_o", "{\"new\":1}", NULL, &flag), 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_o", &s), 0);
    CU_ASSERT_STRING_EQUAL(s ? s : "", "{\"new\":1}");
    free(s);
    CU_ASSERT_EQUAL(st->ops->run_upgrade(st, "gr_o"), 0); /* nothing left to move */
    CU_ASSERT_EQUAL(st->ops->run_upgrade(st, "gr_none"), -ENOENT);
    redisFree(c);
    st->ops->destroy(st);
}

/* Is member's score in the zset at key exactly `want`? */
static int zscore_is(redisContext *c, const char *key, const char *member, long long want)
{
    redisReply *r = redisCommand(c, "ZSCORE %s %s", key, member);
    int same = r && r->type == REDIS_REPLY_STRING && strtoll(r->str, NULL, 10) == want;
    freeReplyObject(r);
    return same;
}

/* Retain on Redis: every key of the run gets the TTL and keeps it through
 * the scripts' writes; the run stays listed (sv:kept) once the create of a
 * newer run prunes it from sv:runs, created_us coming from the index or the
 * hash; a run of the previous layout is retained in its five keys; an id in
 * sv:kept whose run is gone is unindexed by a listing, and pages go on
 * through both sets without repeats. */
static void test_retain_keys_and_listing(void)
{
    sv_store *st = rt_make_store(10);
    redisContext *c = rt_raw(0);
    sv_strvec v = {0};
    sv_run_pos *pos = NULL;
    int64_t now = sv_now_us(), until = 0;
    const char *ev[] = {"e1"};

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_k", "{}", "gr_k", now - 30 * 1000000LL), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_j", "{}", "gr_j", now - 20 * 1000000LL), 0);
    /* gr_k and gr_j were pruned from sv:runs by gr_j's and this create. */
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_n", "{}", "gr_n", now), 0);
    CU_ASSERT_EQUAL(rt_raw_int(c, "ZCARD sv:runs"), 1);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_k", 3600, &until), 0); /* cu from the hash */
    CU_ASSERT(until > sv_now_us() / 1000 + 3500 * 1000);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:{gr_k}") > 3500 * 1000);
    CU_ASSERT(zscore_is(c, "sv:kept", "gr_k", now - 30 * 1000000LL));
    /* The writes of a step, a put and a cancel keep it. */
    CU_ASSERT_EQUAL(sv_store_step(st, "gr_k", ev, 1, EVENT_CAP, "{\"v\":1}", "gr_k", 0, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_k", "{\"v\":2}", NULL, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_k"), 0);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:{gr_k}") > 3500 * 1000);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:{gr_k}:ev") > 3500 * 1000);
    /* Unretained runs still get the TTL alone. */
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_n", "{\"v\":1}", NULL, NULL), 0);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:{gr_n}") <= 10 * 1000);
    /* Listed: gr_n from sv:runs, gr_k from sv:kept; gr_j is not retained. */
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT(v.n == 2 && !strcmp(v.v[0], "gr_n") && !strcmp(v.v[1], "gr_k"));
    sv_strvec_free(&v);
    /* In both sets (retained while still indexed): listed once; pages of
     * one go through both. */
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_n", 60, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, NULL, 1, &v, &pos), 0);
    CU_ASSERT_FATAL(v.n == 1 && pos);
    CU_ASSERT_STRING_EQUAL(v.v[0], "gr_n");
    sv_run_pos at = pos[0];
    sv_strvec_free(&v);
    free(pos);
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, &at, 1, &v, &pos), 0);
    CU_ASSERT_FATAL(v.n == 1 && pos);
    CU_ASSERT_STRING_EQUAL(v.v[0], "gr_k");
    CU_ASSERT_EQUAL(pos[0].created_us, now - 30 * 1000000LL);
    at = pos[0];
    sv_strvec_free(&v);
    free(pos);
    CU_ASSERT_EQUAL(st->ops->run_summaries_after(st, &at, 1, &v, &pos), 0);
    CU_ASSERT_EQUAL(v.n, 0);
    /* Gone while retained (deleted here): the listing unindexes it. */
    rt_raw_do(c, "DEL sv:{gr_k} sv:{gr_k}:ev");
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT(v.n == 1 && !strcmp(v.v[0], "gr_n"));
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(rt_raw_int(c, "ZCARD sv:kept"), 1);
    /* The previous layout: its five keys. */
    rt_raw_do(c, "SET sv:run:gr_o {\"old\":1} EX 100");
    rt_raw_do(c, "SET sv:sum:gr_o old-sum EX 100");
    rt_raw_do(c, "RPUSH sv:ev:gr_o e1");
    rt_raw_do(c, "ZADD sv:runs 5 gr_o");
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_o", 3600, &until), 0);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:run:gr_o") > 3500 * 1000);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:sum:gr_o") > 3500 * 1000);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:ev:gr_o") > 3500 * 1000);
    CU_ASSERT(zscore_is(c, "sv:kept", "gr_o", 5));
    CU_ASSERT_EQUAL(st->ops->run_expiry(st, "gr_o", &until), 0);
    CU_ASSERT(until > sv_now_us() / 1000 + 3500 * 1000);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_o"), 0);
    CU_ASSERT(rt_raw_int(c, "PTTL sv:run:gr_o") > 3500 * 1000);
    CU_ASSERT_EQUAL(st->ops->run_retain(st, "gr_none", 60, NULL), -ENOENT);
    CU_ASSERT_EQUAL(rt_raw_int(c, "EXISTS sv:{gr_none}"), 0);
    redisFree(c);
    st->ops->destroy(st);
}

/* Fencing: a takeover raises the run's epoch, and a step written at an
 * older one is refused whole (nothing of it lands). */
static void test_fencing(void)
{
    sv_store *st = rt_make_store(100);
    uint64_t ep = 0, seq = 0;
    const char *ev[] = {"e1"};
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t dropped = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_claim(st, "gr_f", &ep, &seq), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_f", "{\"v\":0}", "s", 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev, 1, EVENT_CAP, "{\"v\":1}", NULL, 0, 0, NULL),
                    0);
    CU_ASSERT_EQUAL(st->ops->run_claim(st, "gr_f", &ep, &seq), 0);
    CU_ASSERT_EQUAL(ep, 1);
    /* the old owner (epoch 0): refused, nothing written */
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev, 1, EVENT_CAP, "{\"v\":2}", NULL, 0, 0, NULL),
                    -ESTALE);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_f", &s), 0);
    CU_ASSERT_STRING_EQUAL(s ? s : "", "{\"v\":1}");
    free(s);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_f", &v, &dropped), 0);
    CU_ASSERT_EQUAL(v.n, 1);
    sv_strvec_free(&v);
    /* the new owner writes */
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev, 1, EVENT_CAP, "{\"v\":3}", NULL, 1, 0, NULL),
                    0);
    CU_ASSERT_EQUAL(st->ops->run_claim(st, "gr_f", &ep, &seq), 0);
    CU_ASSERT_EQUAL(ep, 2);
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev, 1, EVENT_CAP, "{\"v\":4}", NULL, 1, 0, NULL),
                    -ESTALE);
    /* writes that are no owner's (an event from the API, a record failed by
     * recovery) land at whatever epoch */
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_f", "e2", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_f", "{\"v\":5}", NULL, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_f", &s), 0);
    CU_ASSERT_STRING_EQUAL(s ? s : "", "{\"v\":5}");
    free(s);
    CU_ASSERT_EQUAL(st->ops->run_claim(st, "gr_f", &ep, &seq), 0);
    CU_ASSERT_EQUAL(seq, 0);
    /* numbered events: a write applied after its caller gave up, then sent
     * again with one more, lands once */
    const char *ev3[] = {"n1", "n2", "n3"};
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev3, 2, EVENT_CAP, NULL, NULL, ep, 1, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev3, 3, EVENT_CAP, NULL, NULL, ep, 1, NULL), 0);
    CU_ASSERT_EQUAL(st->ops->run_step(st, "gr_f", ev3 + 2, 1, EVENT_CAP, NULL, NULL, ep, 3, NULL),
                    0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_f", &v, &dropped), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 6); /* e1, e1, e2, n1, n2, n3 */
    CU_ASSERT_STRING_EQUAL(v.v[3], "n1");
    CU_ASSERT_STRING_EQUAL(v.v[5], "n3");
    sv_strvec_free(&v);
    uint64_t ep2 = 0;
    CU_ASSERT_EQUAL(st->ops->run_claim(st, "gr_f", &ep2, &seq), 0);
    CU_ASSERT_EQUAL(seq, 3); /* the next owner goes on from there */
    st->ops->destroy(st);
}

/* Writes of many callers share flushes (group commit): 8 threads x 200
 * steps take far fewer flushes than calls. */
static void *stepper(void *arg)
{
    sv_store *st = arg;
    long bad = 0;
    const char *ev[] = {"e"};
    for (int i = 0; i < 200; i++)
        bad += sv_store_step(st, "gr_g", ev, 1, EVENT_CAP, "{}", NULL, 0, NULL) != 0;
    return (void *)bad;
}

static void test_group_commit(void)
{
    sv_store *st = rt_make_store(100);
    pthread_t th[8];
    long bad = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_g", "{}", "s", 1), 0);
    uint64_t before = ((struct sv_redis *)st)->flushes;
    for (int i = 0; i < 8; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, stepper, st) == 0);
    for (int i = 0; i < 8; i++) {
        void *b = NULL;
        pthread_join(th[i], &b);
        bad += (long)b;
    }
    uint64_t flushes = ((struct sv_redis *)st)->flushes - before;
    printf("\n    1600 steps from 8 threads in %llu flushes\n", (unsigned long long)flushes);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(flushes < 1600);
    sv_strvec v = {0};
    uint64_t dropped = 0;
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_g", &v, &dropped), 0);
    CU_ASSERT_EQUAL(v.n + dropped, 1600);
    sv_strvec_free(&v);
    st->ops->destroy(st);
}

static int strvec_has(const sv_strvec *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return 1;
    return 0;
}

typedef struct heard {
    pthread_mutex_t lock;
    char ids[64][64];
    int n;
} heard;

static void on_cancel(void *arg, const char *run_id)
{
    heard *h = arg;
    pthread_mutex_lock(&h->lock);
    if (h->n < 64)
        snprintf(h->ids[h->n++], sizeof h->ids[0], "%s", run_id);
    pthread_mutex_unlock(&h->lock);
}

static int heard_n(heard *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* A cancel set through one store is heard by another's listener; a cancel
 * of an unknown run is not published; stopping joins the thread. */
static void test_cancel_listen(void)
{
    heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    sv_store *a = rt_make_store(10), *b = rt_make_on(rt_url, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->ops->cancel_listen(a, on_cancel, &h), 0);
    CU_ASSERT_EQUAL(b->ops->run_create(b, "gr_l1", "{}", "{}", 1), 0);
    /* the listener subscribes on its own thread: cancel until it hears */
    long long deadline = th_mono_ms() + DEADLINE_MS;
    while (heard_n(&h) == 0 && th_mono_ms() < deadline) {
        CU_ASSERT_EQUAL(b->ops->cancel_set(b, "gr_l1"), 0);
        th_poll_pause();
    }
    CU_ASSERT(heard_n(&h) >= 1);
    CU_ASSERT_STRING_EQUAL(h.ids[0], "gr_l1");
    CU_ASSERT_EQUAL(b->ops->cancel_set(b, "gr_nope"), -ENOENT);
    CU_ASSERT_EQUAL(b->ops->run_create(b, "gr_l2", "{}", "{}", 2), 0);
    CU_ASSERT_EQUAL(b->ops->cancel_set(b, "gr_l2"), 0);
    int got_l2 = 0, other = 0;
    deadline = th_mono_ms() + DEADLINE_MS;
    while (!got_l2 && th_mono_ms() < deadline) {
        th_poll_pause();
        pthread_mutex_lock(&h.lock);
        for (int i = 0; i < h.n; i++)
            got_l2 |= strcmp(h.ids[i], "gr_l2") == 0;
        pthread_mutex_unlock(&h.lock);
    }
    CU_ASSERT(got_l2);
    /* messages come in order: once gr_l2 is in, gr_nope would be too */
    pthread_mutex_lock(&h.lock);
    for (int i = 0; i < h.n; i++)
        other += strcmp(h.ids[i], "gr_l1") != 0 && strcmp(h.ids[i], "gr_l2") != 0;
    pthread_mutex_unlock(&h.lock);
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT_EQUAL(a->ops->cancel_listen(a, NULL, NULL), 0);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* Heartbeats, dead nodes and the owned sets of durable stores. */
static void test_ownership(void)
{
    sv_store *st = rt_make_store(10);
    sv_strvec v = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->node_beat(NULL, "n1", 1000), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->node_beat(st, "n1", -1), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->owned_move(st, "n1", NULL, "a"), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->nodes_dead(st, NULL), -EINVAL);
    CU_ASSERT_EQUAL(st->ops->node_beat(st, "n1", 60000), 0);
    CU_ASSERT_EQUAL(st->ops->node_beat(st, "n2", 60000), 0);
    CU_ASSERT_EQUAL(st->ops->nodes_dead(st, &v), 0);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(st->ops->owned_add(st, "n1", "gr_1"), 0);
    CU_ASSERT_EQUAL(st->ops->owned_add(st, "n1", "gr_1"), 0);
    CU_ASSERT_EQUAL(st->ops->owned_add(st, "n1", "gr_2"), 0);
    CU_ASSERT_EQUAL(st->ops->owned_list(st, "n1", &v), 0);
    CU_ASSERT(v.n == 2 && strvec_has(&v, "gr_1") && strvec_has(&v, "gr_2"));
    sv_strvec_free(&v);

    /* A clean stop: dead at once, and forgotten only once its runs moved. */
    CU_ASSERT_EQUAL(st->ops->node_beat(st, "n1", 0), 0);
    CU_ASSERT_EQUAL(st->ops->nodes_dead(st, &v), 0);
    CU_ASSERT(v.n == 1 && strvec_has(&v, "n1"));
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(st->ops->node_forget(st, "n1"), -EBUSY);
    CU_ASSERT_EQUAL(st->ops->owned_move(st, "n1", "n2", "gr_1"), 0);
    CU_ASSERT_EQUAL(st->ops->owned_move(st, "n1", "n2", "gr_1"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->owned_move(st, "n1", "n2", "gr_2"), 0);
    CU_ASSERT_EQUAL(st->ops->node_forget(st, "n1"), 0);
    CU_ASSERT_EQUAL(st->ops->nodes_dead(st, &v), 0);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(st->ops->owned_list(st, "n1", &v), 0);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(st->ops->owned_del(st, "n2", "gr_1"), 0);
    CU_ASSERT_EQUAL(st->ops->owned_del(st, "n2", "gr_1"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->owned_list(st, "n2", &v), 0);
    CU_ASSERT(v.n == 1 && strvec_has(&v, "gr_2"));
    sv_strvec_free(&v);

    /* A heartbeat that is not renewed lapses on its own. */
    CU_ASSERT_EQUAL(st->ops->node_beat(st, "n3", 50), 0);
    int dead = 0;
    long long deadline = th_mono_ms() + DEADLINE_MS;
    while (!dead && th_mono_ms() < deadline) {
        CU_ASSERT_EQUAL(st->ops->nodes_dead(st, &v), 0);
        dead = strvec_has(&v, "n3");
        CU_ASSERT(!strvec_has(&v, "n2"));
        sv_strvec_free(&v);
        if (!dead)
            th_poll_pause();
    }
    CU_ASSERT(dead);
    st->ops->destroy(st);
}

int main(void)
{
    static const sv_store_backend backend = {
        .name = "redis", .durable = 1, .make = rt_make_store, .counts = store_counts};
    static const sv_cu_test tests[] = {
        {"TTL set on every key", test_ttl_on_every_key},
        {"writes refresh every key's TTL, reads do not", test_writes_refresh_reads_dont},
        {"run, events, flag and claim expire (TTL 1 s)", test_expiry},
        {"listing shows runs created within the TTL", test_list_shows_runs_created_within_ttl},
        {"listing reads the summary keys, prunes expired ids", test_summaries_from_sum_keys},
        {"unknown run: no key written, leftovers cleared", test_unknown_run_writes_nothing},
        {"runs of the previous key layout: read, cancelled, upgraded", test_previous_layout},
        {"retain: every key, through writes, listed past the prune", test_retain_keys_and_listing},
        {"group commit: many callers, few flushes", test_group_commit},
        {"fencing: a write at an older epoch is refused", test_fencing},
        {"node heartbeats and owned runs", test_ownership},
        {"cancels heard through pub/sub", test_cancel_listen},
    };
    const sv_cu_suite suites[] = {
        {.name = "store contract (redis)",
         .tests = sv_store_contract_tests,
         .n_tests = sv_store_contract_n_tests,
         .init = rt_suite_init,
         .clean = rt_suite_clean},
        {.name = "store_redis", SV_CU_TESTS(tests), .init = rt_suite_init, .clean = rt_suite_clean},
    };
    /* A write to a connection the server closed must fail, not kill us;
     * main.c ignores SIGPIPE the same way. */
    signal(SIGPIPE, SIG_IGN);
    sv_store_contract_use(&backend);
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
