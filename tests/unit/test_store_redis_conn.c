/*
 * test_store_redis_conn.c - the Redis store's connections against a real
 * redis-server: REDIS_URL forms, passwords, databases, the unix socket, a
 * server restart, reply shapes it must refuse, and the one pipelined connection.
 */
#include "cu_run.h"
#include "harness.h"
#include "redis_test_support.h"
#include "store.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE_MS 10000
#define EVENT_CAP 1000

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
    CU_ASSERT_EQUAL(sv_store_redis_new(rt_url, 10, err, sizeof err, NULL), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_redis_new(rt_url, 0, err, sizeof err, &st), -EINVAL);
    CU_ASSERT_EQUAL(sv_store_redis_new(rt_url, -1, err, sizeof err, &st), -EINVAL);
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
    int port = rt_unused_port();
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
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", rt_redis.port);
    st = rt_make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL(st);
    if (st)
        st->ops->destroy(st);
    snprintf(url, sizeof url, "redis://localhost:%d/0", rt_redis.port);
    st = rt_make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL(st);
    if (st) {
        CU_ASSERT_EQUAL(st->ops->ping(st), 0);
        st->ops->destroy(st);
    }
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
    redisContext *c0 = rt_raw(0), *c3 = rt_raw(3);

    rt_raw_do(c0, "FLUSHALL");
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", rt_redis.port);
    st = rt_make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_db", "{}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_db"), 0);
    CU_ASSERT_EQUAL(rt_raw_int(c3, "EXISTS sv:{gr_db}"), 1);
    CU_ASSERT_EQUAL(rt_raw_int(c3, "LLEN sv:queue"), 1);
    CU_ASSERT_EQUAL(rt_raw_int(c0, "DBSIZE"), 0);
    st->ops->destroy(st);

    snprintf(url, sizeof url, "redis://127.0.0.1:%d/99", rt_redis.port);
    CU_ASSERT_EQUAL(sv_store_redis_new(url, 10, err, sizeof err, &st), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "SELECT"));
    redisFree(c0);
    redisFree(c3);
}

static void test_unix_socket(void)
{
    char url[400];
    redisContext *c = rt_raw(0);
    char *s = NULL;

    rt_raw_do(c, "FLUSHALL");
    snprintf(url, sizeof url, "unix://%s", rt_redis.aux_path);
    sv_store *st = rt_make_on(url, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_unix", "{\"u\":1}", "{}", 1), 0);
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_unix", &s), 0);
    CU_ASSERT(th_streq(s, "{\"u\":1}"));
    free(s);
    CU_ASSERT_EQUAL(rt_raw_int(c, "EXISTS sv:{gr_unix}"), 1);
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
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_x", "{}", NULL, NULL), -EIO);
    CU_ASSERT_EQUAL(st->ops->run_put(st, "gr_x", "{}", "{}", NULL), -EIO);
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
    sv_store *st = rt_make_on(url, 10);
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
    sv_store *st = rt_make_store(10);
    redisContext *c = rt_raw(0);
    char *s = NULL;
    sv_strvec v = {0};
    uint64_t d;
    int f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    rt_raw_do(c, "RPUSH sv:{gr_list} a");
    CU_ASSERT_EQUAL(st->ops->run_get(st, "gr_list", &s), -EIO);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(st->ops->run_create(st, "gr_w", "{}", "{}", 1), 0);
    rt_raw_do(c, "SET sv:{gr_w}:ev x");
    CU_ASSERT_EQUAL(st->ops->event_append(st, "gr_w", "e", EVENT_CAP), -EIO);
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_w", &v, &d), -EIO);
    rt_raw_do(c, "DEL sv:{gr_w}:ev");
    rt_raw_do(c, "HSET sv:{gr_w} evn notanumber");
    CU_ASSERT_EQUAL(st->ops->events_get(st, "gr_w", &v, &d), -EIO);
    CU_ASSERT_PTR_NULL(v.v);
    rt_raw_do(c, "SADD sv:idem:k x");
    CU_ASSERT_EQUAL(st->ops->idem_claim(st, "k", "v", &s), -EIO);
    CU_ASSERT_PTR_NULL(s);
    rt_raw_do(c, "SET sv:queue x");
    CU_ASSERT_EQUAL(st->ops->queue_push(st, "gr_w"), -EIO);
    CU_ASSERT_EQUAL(st->ops->queue_pop(st, &s), -EIO);
    rt_raw_do(c, "SET sv:runs x");
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

/* 16 threads calling at once share the one pipelined connection (their
 * commands go out together), and every call gets its own answer. */
static void test_pool_bound(void)
{
    sv_store *st = rt_make_store(10);
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
    redisContext *c = rt_raw(0);
    int clients = -1;
    long long deadline = th_mono_ms() + DEADLINE_MS;
    do {
        redisReply *r = redisCommand(c, "INFO clients");
        const char *p =
            r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "connected_clients:") : NULL;
        clients = p ? atoi(p + 18) : -1;
        freeReplyObject(r);
    } while (clients > 1 + 1 && th_mono_ms() < deadline && (th_poll_pause(), 1));
    CU_ASSERT_EQUAL(clients, 1 + 1); /* + this raw one */
    redisFree(c);
    st->ops->destroy(st);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"constructor arguments and URL forms", test_new_arguments},
        {"password: right, wrong, missing", test_password},
        {"database selected by /db", test_db_select},
        {"unix socket URL", test_unix_socket},
        {"server restart survived", test_restart},
        {"keys of the wrong type are -EIO", test_wrong_reply_shapes},
        {"16 threads share one pipelined connection", test_pool_bound},
    };
    static const sv_cu_suite suites[] = {
        {.name = "store_redis connections",
         SV_CU_TESTS(tests),
         .init = rt_suite_init,
         .clean = rt_suite_clean},
    };
    /* A write to a connection the server closed must fail, not kill us;
     * main.c ignores SIGPIPE the same way. */
    signal(SIGPIPE, SIG_IGN);
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
