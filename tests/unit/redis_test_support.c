/*
 * redis_test_support.c - what the Redis store's test programs share: the
 * redis-server they test against, a raw hiredis connection to look behind
 * the store, and a store made on a URL.
 */
#include "redis_test_support.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

th_proc rt_redis = {.pid = -1};
char rt_url[64];

redisContext *rt_raw_on(int port, int db)
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

redisContext *rt_raw(int db)
{
    return rt_raw_on(rt_redis.port, db);
}

/* A command's integer answer, LLONG_MIN for anything else. */
long long rt_raw_int(redisContext *c, const char *fmt, ...)
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
void rt_raw_do(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = c ? redisvCommand(c, fmt, ap) : NULL;
    va_end(ap);
    CU_ASSERT(r && r->type != REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

sv_store *rt_make_on(const char *url, int64_t ttl_sec)
{
    sv_store *st = NULL;
    char err[512];
    int rc = sv_store_redis_new(url, ttl_sec, err, sizeof err, &st);
    if (rc < 0)
        fprintf(stderr, "sv_store_redis_new(%s): %s (%s)\n", url, strerror(-rc), err);
    return st;
}

int rt_suite_init(void)
{
    if (th_redis_start(&rt_redis) < 0)
        return -1;
    snprintf(rt_url, sizeof rt_url, "redis://127.0.0.1:%d", rt_redis.port);
    return 0;
}

int rt_suite_clean(void)
{
    return th_redis_stop(&rt_redis) == 0 ? 0 : -1;
}

/* A loopback port nobody listens on. */
int rt_unused_port(void)
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

/* A fresh store: the server is emptied first. */
sv_store *rt_make_store(int64_t ttl_sec)
{
    redisContext *c = rt_raw(0);
    rt_raw_do(c, "FLUSHALL");
    redisFree(c);
    return rt_make_on(rt_url, ttl_sec);
}
