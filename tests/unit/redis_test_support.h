/*
 * redis_test_support.h - shared by test_store_redis.c and
 * test_store_redis_conn.c (see redis_test_support.c).
 */
#ifndef SV_REDIS_TEST_SUPPORT_H
#define SV_REDIS_TEST_SUPPORT_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "harness.h"
#include "store.h"

/* The server of the suite (started by rt_suite_init) and its URL. */
extern th_proc rt_redis;
extern char rt_url[64];

/* A raw connection to a port (database db), or to the suite's server. */
redisContext *rt_raw_on(int port, int db);
redisContext *rt_raw(int db);
/* A command's integer answer, LLONG_MIN for anything else. */
long long rt_raw_int(redisContext *c, const char *fmt, ...);
/* Run a command whose answer does not matter (set-up of a test). */
void rt_raw_do(redisContext *c, const char *fmt, ...);
/* sv_store_redis_new on url, saying why on stderr when it fails. */
sv_store *rt_make_on(const char *url, int64_t ttl_sec);
/* A store on the suite's server, emptied first (FLUSHALL). */
sv_store *rt_make_store(int64_t ttl_sec);
/* A loopback port nobody listens on. */
int rt_unused_port(void);
/* CUnit suite init and clean: start and stop the server. */
int rt_suite_init(void);
int rt_suite_clean(void);

#endif
