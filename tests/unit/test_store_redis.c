/*
 * test_store_redis.c - the Redis store against a real redis-server that the
 * harness starts on a free loopback port: the contract every backend passes
 * (store_contract.c), then what only Redis has (TTLs on its keys, passwords,
 * databases, the unix socket, a server restart, reply shapes it must refuse,
 * the ownership sets of durable stores).
 *
 * What the store wrote is checked behind its back through a raw hiredis
 * connection.  Expiry runs on real time (TTL 1 s), polled with a deadline.
 */
#include "cu_run.h"
#include "harness.h"
#include "store.h"
#include "store_contract.h"
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

static th_proc g_redis = {.pid = -1};
static char g_url[64];

/* ---- a raw connection, to look behind the store ---- */

static redisContext *raw_on(int port, int db)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c && !c->err && db) {
        redisReply *r = redisCommand(c, "SELECT %d", db);
        freeReplyObject(r);
    }
    if (!c || c->err) {
        fprintf(stderr, "raw connection to 127.0.0.1:%d: %s\n", port, c ? c->errstr : "OOM");
        redisFree(c);
        return NULL;
    }
    return c;
}

static redisContext *raw(int db)
{
    return raw_on(g_redis.port, db);
}

/* A command's integer answer, LLONG_MIN for anything else. */
static long long raw_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = c ? redisvCommand(c, fmt, ap) : NULL;
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : LLONG_MIN;
    freeReplyObject(r);
    return v;
}

/* Run a command whose answer does not matter (set-up of a test). */
static void raw_do(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = c ? redisvCommand(c, fmt, ap) : NULL;
    va_end(ap);
    CU_ASSERT(r && r->type != REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

/* ---- the backend for the contract ---- */

static sv_store *make_on(const char *url, int64_t ttl_sec)
{
    sv_store *st = NULL;
    char err[512];
    int rc = sv_store_redis_new(url, ttl_sec, err, sizeof err, &st);
    if (rc < 0)
        fprintf(stderr, "sv_store_redis_new(%s): %s (%s)\n", url, strerror(-rc), err);
    return st;
}

/* A fresh store: the server is emptied first. */
static sv_store *make_store(int64_t ttl_sec)
{
    redisContext *c = raw(0);
    raw_do(c, "FLUSHALL");
    redisFree(c);
    return make_on(g_url, ttl_sec);
}

static size_t count_keys(redisContext *c, const char *pattern, int sum_llen)
{
    size_t n = 0;
    redisReply *r = redisCommand(c, "KEYS %s", pattern);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        n += sum_llen ? (size_t)raw_int(c, "LLEN %s", r->element[i]->str) : 1;
    freeReplyObject(r);
    return n;
}

static int store_counts(sv_store *st, size_t *runs, size_t *events, size_t *claims, size_t *queued)
{
    redisContext *c = raw(0);
    (void)st;
    if (!c)
        return -EIO;
    if (runs)
        *runs = count_keys(c, "sv:run:*", 0);
    if (events)
        *events = count_keys(c, "sv:ev:*", 1);
    if (claims)
        *claims = count_keys(c, "sv:idem:*", 0);
    if (queued)
        *queued = (size_t)raw_int(c, "LLEN sv:queue");
    redisFree(c);
    return 0;
}

static int suite_init(void)
{
    if (th_redis_start(&g_redis) < 0)
        return -1;
    snprintf(g_url, sizeof g_url, "redis://127.0.0.1:%d", g_redis.port);
    return 0;
}

static int suite_clean(void)
{
    return th_redis_stop(&g_redis) == 0 ? 0 : -1;
}

/* ---- Redis only ---- */

/* A loopback port nobody listens on. */
static int unused_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_new_arguments(void)
{
    static const char *const bad[] = {
        "http://127.0.0.1:6379", "redis://",          "redis://:pw@",    "redis://h:0",
        "redis://h:65536",       "redis://h:12x",     "redis://h:1/x",   "redis://h:1/3?a=b",
        "unix://relative/sock",  "redis://[::1:6379", "redis://h:1/2/3", "redis://h:",
    };
    sv_store *st = (sv_store *)1;
    char err[512], url[96];

    CU_ASSERT_EQUAL(sv_store_redis_new(NULL, 10, err, sizeof err, &st), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_redis_new(g_url, 10, err, sizeof err, NULL), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_redis_new(g_url, 0, err, sizeof err, &st), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_redis_new(g_url, -1, err, sizeof err, &st), -EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        st = (sv_store *)1;
        int rc = sv_store_redis_new(bad[i], 10, err, sizeof err, &st);
        if (rc != -EINVAL || !err[0] || st != NULL)
            fprintf(stderr, "\n    %s: rc %d, err \"%s\"\n", bad[i], rc, err);
        CU_ASSERT(rc == -EINVAL && err[0] && st == NULL);
    }
    CU_ASSERT_EQUAL(sv_store_redis_new("redis://h:1/x", 10, NULL, 0, &st), -EINVAL);

    /* Nobody there: -EIO, and a line that names where it looked. */
    int port = unused_port();
    snprintf(url, sizeof url, "redis://:secret@127.0.0.1:%d/2", port);
    CU_ASSERT_EQUAL(sv_store_redis_new(url, 10, err, sizeof err, &st), -EIO);
    CU_ASSERT_PTR_NULL(st);
    snprintf(url, sizeof url, "cannot connect to 127.0.0.1:%d", port);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, url));
    CU_ASSERT_PTR_NULL(strstr(err, "secret"));
    CU_ASSERT_EQUAL(sv_store_redis_new("unix:///nonexistent/redis.sock", 10, err, sizeof err, &st),
                    -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/redis.sock"));

    /* The forms config.c lets through, with and without port and db. */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", g_redis.port);
    st = make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL(st);
    if (st)
        st->ops->destroy(st);
    snprintf(url, sizeof url, "redis://localhost:%d/0", g_redis.port);
    st = make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL(st);
    if (st) {
        CU_ASSERT_EQUAL(st->ops->ping(st), 0);
        st->ops->destroy(st);
    }
}

static const char *const run_keys[] = {"sv:run:gr_t", "sv:ev:gr_t", "sv:evn:gr_t", "sv:cancel:gr_t",
                                       "sv:sum:gr_t"};
#define N_RUN_KEYS (sizeof run_keys / sizeof run_keys[0])

/* Is the string at key exactly `want`? */
static int raw_str_is(redisContext *c, const char *key, const char *want)
{
    redisReply *r = c ? redisCommand(c, "GET %s", key) : NULL;
    int same = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
    if (!same)
        fprintf(stderr, "\n    GET %s: %s, wanted %s\n", key,
                r && r->type == REDIS_REPLY_STRING ? r->str : "(not a string)", want);
    freeReplyObject(r);
    return same;
}

/* A run with all five of its keys. */
static sv_store *store_with_run(int64_t ttl_sec)
{
    sv_store *st = make_store(ttl_sec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_t", "{}", "s0", sv_now_us()), 0);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_t", "e1", EVENT_CAP), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_t"), 0);
    return st;
}

static void test_ttl_on_every_key(void)
{
    sv_store *st = store_with_run(100);
    redisContext *c = raw(0);
    char *held = NULL;

    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "ws1:k", "gr_t", &held), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_t"), 0);
    for (size_t i = 0; i < N_RUN_KEYS; i++) {
        long long ttl = raw_int(c, "TTL %s", run_keys[i]);
        if (ttl <= 0 || ttl > 100)
            fprintf(stderr, "\n    TTL %s = %lld\n", run_keys[i], ttl);
        CU_ASSERT(ttl > 0 && ttl <= 100);
    }
    long long ttl = raw_int(c, "TTL sv:idem:ws1:k");
    CU_ASSERT(ttl > 0 && ttl <= 100);
    /* The queue does not expire, as in store_mem; the index is kept small by
     * pruning instead. */
    CU_ASSERT_EQUAL(raw_int(c, "TTL sv:queue"), -1);
    CU_ASSERT_EQUAL(raw_int(c, "TTL sv:runs"), -1);
    CU_ASSERT_EQUAL(raw_int(c, "DBSIZE"), 8);
    redisFree(c);
    st->ops->destroy(st);
}

/* Shorten the run's keys to 50 s of their 100. */
static void shorten(redisContext *c)
{
    for (size_t i = 0; i < N_RUN_KEYS; i++)
        CU_ASSERT_EQUAL(raw_int(c, "PEXPIRE %s 50000", run_keys[i]), 1);
}

/* Do all five keys have more than 50 s left? */
static int refreshed(redisContext *c)
{
    int all = 1;
    for (size_t i = 0; i < N_RUN_KEYS; i++)
        all &= raw_int(c, "PTTL %s", run_keys[i]) > 50000;
    return all;
}

static int untouched(redisContext *c)
{
    int all = 1;
    for (size_t i = 0; i < N_RUN_KEYS; i++) {
        long long t = raw_int(c, "PTTL %s", run_keys[i]);
        all &= t > 0 && t <= 50000;
    }
    return all;
}

static void test_writes_refresh_reads_dont(void)
{
    sv_store *st = store_with_run(100);
    redisContext *c = raw(0);
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t dropped;
    int flag;

    /* A put without a summary refreshes the one there, and keeps it. */
    shorten(c);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_t", "{\"p\":1}", NULL), 0);
    CU_ASSERT(refreshed(c));
    CU_ASSERT(raw_str_is(c, "sv:sum:gr_t", "s0"));
    shorten(c);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_t", "{\"p\":1}", "s1"), 0);
    CU_ASSERT(refreshed(c));
    CU_ASSERT(raw_str_is(c, "sv:sum:gr_t", "s1"));
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
    sv_store *st = make_store(1);
    redisContext *c = raw(0);
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
        CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_b", "{\"alive\":1}", NULL), 0);
        gone = raw_int(c, "EXISTS sv:run:gr_a sv:ev:gr_a sv:evn:gr_a sv:cancel:gr_a "
                          "sv:sum:gr_a sv:idem:ws1:k") == 0;
        if (!gone)
            th_poll_pause();
    }
    CU_ASSERT_FATAL(gone);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_a", &s), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}", NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_a", "{}", "sum_a2"), -ENOENT);
    CU_ASSERT_EQUAL(raw_int(c, "EXISTS sv:sum:gr_a"), 0);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_a", &v, &dropped), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_a", &flag), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_a"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_a", "e2", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 1);
    CU_ASSERT_STRING_EQUAL(v.v[0], "sum_b");
    sv_strvec_free(&v);
    /* The listing dropped the expired id from the index on its way. */
    CU_ASSERT_EQUAL(raw_int(c, "ZCARD sv:runs"), 1);
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
    sv_store *st = make_store(10);
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

/* The listing reads sv:sum:{id}: an id whose summary and record are both
 * gone leaves the index; one whose record is there without a summary (as a
 * daemon from before summaries wrote them) is skipped but stays indexed, and
 * is listed again once a write brings a summary.  Batches of 256 ids. */
static void test_summaries_from_sum_keys(void)
{
    sv_store *st = make_store(100);
    redisContext *c = raw(0);
    sv_strvec v = {0};
    int64_t now = sv_now_us();

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_1", "{}", "s1", now), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_2", "{}", "s2", now + 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_3", "{}", "s3", now + 2), 0);
    CU_ASSERT(raw_str_is(c, "sv:sum:gr_2", "s2"));
    raw_do(c, "DEL sv:sum:gr_2");
    raw_do(c, "DEL sv:run:gr_3 sv:sum:gr_3");
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT(v.n == 1 && strcmp(v.v[0], "s1") == 0);
    sv_strvec_free(&v);
    CU_ASSERT_EQUAL(raw_int(c, "ZCARD sv:runs"), 2);
    CU_ASSERT_EQUAL(raw_int(c, "ZRANK sv:runs gr_2"), 1);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_2", "{}", "s2b"), 0);
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
            raw_do(c, "DEL sv:run:%s sv:sum:%s", id, id);
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
    CU_ASSERT_EQUAL(raw_int(c, "ZCARD sv:runs"), 466 + 2);
    redisFree(c);
    st->ops->destroy(st);
}

/* Writes to a run that does not exist leave no key behind, and a create
 * clears whatever another life of the id left. */
static void test_unknown_run_writes_nothing(void)
{
    sv_store *st = make_store(10);
    redisContext *c = raw(0);

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}", NULL), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_none", "{}", "{}"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_none", "{}", EVENT_CAP), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_none"), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "none"), -ENOENT);
    CU_ASSERT_EQUAL(raw_int(c, "DBSIZE"), 0);
    /* Keys that outlived their record by a moment are no part of a new run. */
    raw_do(c, "RPUSH sv:ev:gr_none old");
    raw_do(c, "SET sv:evn:gr_none 5");
    raw_do(c, "SET sv:cancel:gr_none 1");
    raw_do(c, "SET sv:sum:gr_none old");
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_none", "{}", "new", 1), 0);
    CU_ASSERT(raw_str_is(c, "sv:sum:gr_none", "new"));
    CU_ASSERT(raw_int(c, "TTL sv:sum:gr_none") > 0);
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

static void test_password(void)
{
    static const char pw[] = "s3cr@t:/x";
    const char *const args[] = {"--requirepass", pw, NULL};
    th_proc r;
    char url[128], err[512];
    sv_store *st = NULL;
    char *s = NULL;

    CU_ASSERT_FATAL(th_redis_start_args(0, args, &r) == 0);
    /* The last '@' ends the password, so '@', ':' and '/' can be in it. */
    snprintf(url, sizeof url, "redis://:%s@127.0.0.1:%d", pw, r.port);
    CU_ASSERT_EQUAL(sv_store_redis_new(url, 10, err, sizeof err, &st), 0);
    if (st) {
        CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_pw", "{}", "{}", 1), 0);
        CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_pw", &s), 0);
        free(s);
        st->ops->destroy(st);
    }
    snprintf(url, sizeof url, "redis://:wrongpass@127.0.0.1:%d", r.port);
    CU_ASSERT_EQUAL(sv_store_redis_new(url, 10, err, sizeof err, &st), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AUTH"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "password"));
    CU_ASSERT_PTR_NULL(strstr(err, "wrongpass"));
    fprintf(stderr, "\n    wrong password: %s\n", err);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
    CU_ASSERT_EQUAL(sv_store_redis_new(url, 10, err, sizeof err, &st), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "NOAUTH"));
    fprintf(stderr, "    no password: %s\n", err);
    CU_ASSERT_EQUAL(th_redis_stop(&r), 0);
}

static void test_db_select(void)
{
    char url[96], err[512];
    sv_store *st = NULL;
    redisContext *c0 = raw(0), *c3 = raw(3);

    raw_do(c0, "FLUSHALL");
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", g_redis.port);
    st = make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_db", "{}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_db"), 0);
    CU_ASSERT_EQUAL(raw_int(c3, "EXISTS sv:run:gr_db"), 1);
    CU_ASSERT_EQUAL(raw_int(c3, "LLEN sv:queue"), 1);
    CU_ASSERT_EQUAL(raw_int(c0, "DBSIZE"), 0);
    st->ops->destroy(st);

    snprintf(url, sizeof url, "redis://127.0.0.1:%d/99", g_redis.port);
    CU_ASSERT_EQUAL(sv_store_redis_new(url, 10, err, sizeof err, &st), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "SELECT"));
    redisFree(c0);
    redisFree(c3);
}

static void test_unix_socket(void)
{
    char url[400];
    redisContext *c = raw(0);
    char *s = NULL;

    raw_do(c, "FLUSHALL");
    snprintf(url, sizeof url, "unix://%s", g_redis.aux_path);
    sv_store *st = make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_unix", "{\"u\":1}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_unix", &s), 0);
    CU_ASSERT(th_streq(s, "{\"u\":1}"));
    free(s);
    CU_ASSERT_EQUAL(raw_int(c, "EXISTS sv:run:gr_unix"), 1);
    redisFree(c);
    st->ops->destroy(st);
}

/* Every kind of call fails with -EIO while the server is gone. */
static void all_fail(sv_store *st)
{
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t d;
    int f;

    CU_ASSERT_EQUAL(st->ops->ping(st), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_x", "{}", "{}", 1), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_x", "{}", NULL), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_x", "{}", "{}"), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_x", &s), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), -EIO);
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_x", "e", EVENT_CAP), -EIO);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_x", &v, &d), -EIO);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_x"), -EIO);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_x", &f), -EIO);
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "k", "v", &s), -EIO);
    CU_ASSERT_EQUAL(st->ops->idem_release(st, "k"), -EIO);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_x"), -EIO);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &s), -EIO);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NULL(v.v);
}

static void *ping_a_few(void *arg)
{
    sv_store *st = arg;
    for (int i = 0; i < 20; i++)
        if (st->ops->ping(st) != 0)
            return st;
    return NULL;
}

/* Several pooled connections at once, so a restart leaves several dead. */
static void fill_pool(sv_store *st)
{
    pthread_t th[6];
    void *failed = NULL;
    for (int i = 0; i < 6; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, ping_a_few, st) == 0);
    for (int i = 0; i < 6; i++) {
        void *f = NULL;
        pthread_join(th[i], &f);
        failed = failed ? failed : f;
    }
    CU_ASSERT_PTR_NULL(failed);
}

static void test_restart(void)
{
    th_proc r;
    char url[96];
    char *s = NULL;

    CU_ASSERT_FATAL(th_redis_start(&r) == 0);
    int port = r.port;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    sv_store *st = make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_r", "{}", "{}", 1), 0);
    fill_pool(st);

    /* Down: calls fail, nothing crashes. */
    CU_ASSERT_EQUAL(th_redis_stop(&r), 0);
    all_fail(st);
    /* Back (empty: no persistence): the failed calls dropped every dead
     * connection, so the first call now connects afresh. */
    CU_ASSERT_FATAL(th_redis_start_port(port, &r) == 0);
    CU_ASSERT_EQUAL(st->ops->ping(st), 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_r", &s), -ENOENT);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_r", "{}", "{}", 1), 0);
    fill_pool(st);

    /* Restarted with no call in between: the first call meets a dead
     * connection (-EIO, or 0 if the pool had noticed), the next works. */
    CU_ASSERT_EQUAL(th_redis_stop(&r), 0);
    CU_ASSERT_FATAL(th_redis_start_port(port, &r) == 0);
    int first = st->ops->ping(st);
    CU_ASSERT(first == 0 || first == -EIO);
    CU_ASSERT_EQUAL(st->ops->ping(st), 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_r", "{}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_r", &s), 0);
    free(s);
    st->ops->destroy(st);
    CU_ASSERT_EQUAL(th_redis_stop(&r), 0);
}

/* Keys of the wrong type (someone else's data, a bug): -EIO, never a crash,
 * and the connection stays usable. */
static void test_wrong_reply_shapes(void)
{
    sv_store *st = make_store(10);
    redisContext *c = raw(0);
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t d;
    int f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    raw_do(c, "RPUSH sv:run:gr_list a");
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_list", &s), -EIO);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_w", "{}", "{}", 1), 0);
    raw_do(c, "SET sv:ev:gr_w x");
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_w", "e", EVENT_CAP), -EIO);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_w", &v, &d), -EIO);
    raw_do(c, "DEL sv:ev:gr_w");
    raw_do(c, "SET sv:evn:gr_w notanumber");
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_w", &v, &d), -EIO);
    CU_ASSERT_PTR_NULL(v.v);
    raw_do(c, "SADD sv:idem:k x");
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "k", "v", &s), -EIO);
    CU_ASSERT_PTR_NULL(s);
    raw_do(c, "SET sv:queue x");
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_w"), -EIO);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &s), -EIO);
    raw_do(c, "SET sv:runs x");
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, 10, &v), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_w2", "{}", "{}", 1), -EIO);
    /* Error replies leave the stream in step: the same connections work. */
    CU_ASSERT_EQUAL(st->ops->ping(st), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_set(st, "gr_w"), 0);
    CU_ASSERT_EQUAL(st->ops->cancel_get(st, "gr_w", &f), 0);
    CU_ASSERT_EQUAL(f, 1);
    redisFree(c);
    st->ops->destroy(st);
}

#define POOL_THREADS 16

static void *pool_worker(void *arg)
{
    sv_store *st = arg;
    char id[40], *s = NULL;
    long bad = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "gr_pool_%d", i % 10);
        bad += st->ops->ping(st) != 0;
        int rc = st->ops->run_get(st, id, &s);
        bad += rc != 0 && rc != -ENOENT;
        free(s);
        s = NULL;
    }
    return (void *)bad;
}

/* More threads than connections: they wait their turn, and the pool stays at
 * its bound of 8. */
static void test_pool_bound(void)
{
    sv_store *st = make_store(10);
    pthread_t th[POOL_THREADS];
    long bad = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    for (int i = 0; i < POOL_THREADS; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, pool_worker, st) == 0);
    for (int i = 0; i < POOL_THREADS; i++) {
        void *b = NULL;
        pthread_join(th[i], &b);
        bad += (long)b;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* Connections of stores destroyed before may still be counted until the
     * server sees them closed: wait for that, not for this pool to shrink. */
    redisContext *c = raw(0);
    int clients = -1;
    long long deadline = th_mono_ms() + DEADLINE_MS;
    do {
        redisReply *r = redisCommand(c, "INFO clients");
        const char *p =
            r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "connected_clients:") : NULL;
        clients = p ? atoi(p + 18) : -1;
        freeReplyObject(r);
    } while (clients > 8 + 1 && th_mono_ms() < deadline && (th_poll_pause(), 1));
    CU_ASSERT(clients >= 2 && clients <= 8 + 1); /* + this raw one */
    redisFree(c);
    st->ops->destroy(st);
}

static int strvec_has(const sv_strvec *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return 1;
    return 0;
}

/* Heartbeats, dead nodes and the owned sets of durable stores. */
static void test_ownership(void)
{
    sv_store *st = make_store(10);
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
        .name = "redis", .durable = 1, .make = make_store, .counts = store_counts};
    static const sv_cu_test tests[] = {
        {"constructor arguments and URL forms", test_new_arguments},
        {"TTL set on every key", test_ttl_on_every_key},
        {"writes refresh every key's TTL, reads do not", test_writes_refresh_reads_dont},
        {"run, events, flag and claim expire (TTL 1 s)", test_expiry},
        {"listing shows runs created within the TTL", test_list_shows_runs_created_within_ttl},
        {"listing reads the summary keys, prunes expired ids", test_summaries_from_sum_keys},
        {"unknown run: no key written, leftovers cleared", test_unknown_run_writes_nothing},
        {"password: right, wrong, missing", test_password},
        {"database selected by /db", test_db_select},
        {"unix socket URL", test_unix_socket},
        {"server restart survived", test_restart},
        {"keys of the wrong type are -EIO", test_wrong_reply_shapes},
        {"16 threads share at most 8 connections", test_pool_bound},
        {"node heartbeats and owned runs", test_ownership},
    };
    const sv_cu_suite suites[] = {
        {.name = "store contract (redis)",
         .tests = sv_store_contract_tests,
         .n_tests = sv_store_contract_n_tests,
         .init = suite_init,
         .clean = suite_clean},
        {.name = "store_redis", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    /* A write to a connection the server closed must fail, not kill us;
     * main.c ignores SIGPIPE the same way. */
    signal(SIGPIPE, SIG_IGN);
    sv_store_contract_use(&backend);
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
