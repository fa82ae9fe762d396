/*
 * store_redis_conn.h - the Redis store's connections and round trips
 * (store_redis_conn.c), used by its key layout and operations
 * (store_redis.c).  Private to those two files.
 *
 * Every call is one round trip on a connection taken from the pool and given
 * back; -EIO when the connection failed or Redis answered an error (logged),
 * -ENOMEM, or what each function says.
 */
#ifndef SV_STORE_REDIS_CONN_H
#define SV_STORE_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include "store.h"

#define SV_REDIS_POOL 8        /* connections at most; more threads wait */
#define SV_REDIS_TIMEOUT_SEC 2 /* to connect, and for each round trip */
#define SV_REDIS_DEFAULT_PORT 6379

struct sv_redis {
    sv_store base; /* first: the sv_store handed out converts back */
    char *host, *path, *password;
    int port, db;
    char where[300]; /* host:port or socket path, for messages (never the password) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    redisContext *idle[SV_REDIS_POOL];
    size_t n_idle, n_open;    /* n_open counts idle, busy and being made */
    int down;                 /* the last connection failed: say so once */
    char channel[48];         /* pub/sub channel of cancels: sv:cancels:{db} */
    struct sv_redis_sub *sub; /* the cancel listener, or NULL */
};

/* The cancel listener (store_redis_sub.c): a thread subscribed to
 * rs->channel calling fn(arg, run_id) for each message. */
struct sv_redis_sub;
int sv_redis_sub_start(struct sv_redis *rs, void (*fn)(void *arg, const char *run_id), void *arg,
                       struct sv_redis_sub **out);
void sv_redis_sub_stop(struct sv_redis_sub *sub);

/* Fill err (when given) and return rc. */
int sv_redis_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* REDIS_URL into rs's host/port/password/db or socket path; -EINVAL with err. */
int sv_redis_url_parse(struct sv_redis *rs, const char *url, char *err, size_t errlen);
/* A new connection, authenticated and on its database; NULL with err. */
redisContext *sv_redis_conn_open(struct sv_redis *rs, char *err, size_t errlen);
/* Take a connection from the pool (waits when all are busy). */
int sv_redis_conn_get(struct sv_redis *rs, redisContext **out);
/* Read the replies of the n commands appended on c, keep the last in *last
 * (caller frees), and give c back. */
int sv_redis_finish(struct sv_redis *rs, redisContext *c, size_t n, redisReply **last);
/* One command: its reply in *r (caller frees). */
int sv_redis_call(struct sv_redis *rs, redisReply **r, const char *fmt, ...);
/* A command answering a count: 0 if positive, -ENOENT if 0. */
int sv_redis_call01(sv_store *st, const char *fmt, ...);
/* A command answering a string (*out, malloc'd) or nil (-ENOENT). */
int sv_redis_call_str(sv_store *st, char **out, const char *fmt, ...);
/* A command answering an array of strings, into *out. */
int sv_redis_call_vec(sv_store *st, sv_strvec *out, const char *fmt, ...);
/* MULTI, one command per format (each given key), EXEC: *x holds the k answers. */
int sv_redis_multi(struct sv_redis *rs, const char *key, const char *const *fmts, size_t k,
                   redisReply **x);
/* A string reply copied (-EIO for another type); an array of them. */
int sv_redis_reply_dup(const redisReply *r, char **out);
int sv_redis_reply_strvec(const redisReply *r, sv_strvec *out);

#endif
