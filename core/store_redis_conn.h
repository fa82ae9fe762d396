/*
 * store_redis_conn.h - the Redis store's connection and round trips
 * (store_redis_conn.c), used by its key layout and operations
 * (store_redis.c).  Private to those files.
 *
 * Every call goes through one pipelined connection (the pipe): its commands
 * are written together with those of every other caller waiting then, and
 * its replies handed back; -EIO when the connection failed or Redis answered
 * an error (logged), -ENOMEM, or what each function says.
 */
#ifndef SV_STORE_REDIS_CONN_H
#define SV_STORE_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SV_REDIS_TIMEOUT_SEC 2 /* to connect, and for each round trip */
#define SV_REDIS_DEFAULT_PORT 6379

struct sv_redis {
    sv_store base; /* first: the sv_store handed out converts back */
    char *host, *path, *password;
    int port, db;
    char where[300];       /* host:port or socket path, for messages (never the password) */
    pthread_mutex_t lock;  /* the queue, down, stopping */
    pthread_cond_t q_cond; /* work for the pipe */
    pthread_t pipe;        /* the thread that owns conn */
    int pipe_started;
    int stopping;
    redisContext *conn;                   /* the pipe's; NULL until (re)connected */
    redisContext *crash_conn;             /* crash.c's records, written from a signal handler */
    struct sv_redis_req *q_head, *q_tail; /* waiting for the next flush */
    uint64_t flushes;                     /* batches written (the pipe's own count) */
    const char *const *scripts;           /* loaded on each connection the pipe makes */
    size_t n_scripts;
    int conn_loaded;       /* conn has them */
    int down;              /* the last connection failed: say so once */
    int64_t err_logged_ms; /* the pipe's: last error reply logged */
    unsigned long long err_suppressed;
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
/* Start and stop the pipe thread (stop writes what is queued first). */
int sv_redis_pipe_start(struct sv_redis *rs);
void sv_redis_pipe_stop(struct sv_redis *rs);
/* Send n formatted commands (cmd, len: RESP text) with the next flush and
 * wait for their n replies (caller frees each; all NULL on a failure other
 * than an error reply). */
int sv_redis_exec(struct sv_redis *rs, const char *cmd, size_t len, size_t n, redisReply **replies);
/* The same without waiting: cmd (malloc'd) is taken; replies are dropped,
 * errors logged. */
int sv_redis_post(struct sv_redis *rs, char *cmd, size_t len, size_t n);

/* Commands formatted one after another, sent as one. */
struct sv_redis_buf {
    char *s;
    size_t len, cap, n;
    int failed; /* out of memory or a bad format: exec fails */
};
/* Append a command (hiredis format, as redisCommand). */
int sv_redis_buf_add(struct sv_redis_buf *b, const char *fmt, ...);
/* Append a formatted command; takes cmd (malloc'd, from redisFormatCommand*). */
int sv_redis_buf_take(struct sv_redis_buf *b, char *cmd, int len);
/* Send b (freed either way) and wait: the last reply in *last. */
int sv_redis_buf_exec(struct sv_redis *rs, struct sv_redis_buf *b, redisReply **last);
void sv_redis_buf_free(struct sv_redis_buf *b);
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

/* The operations of store_redis_nodes.c, for the backend table in store_redis.c. */
int sv_rd_run_crashes(sv_store *st, const char *run_id, long *n);
int sv_rd_crash_counts(sv_store *st, sv_strvec *pairs);
int sv_rd_idem_claim(sv_store *st, const char *key, const char *value, char **existing);
int sv_rd_idem_swap(sv_store *st, const char *key, const char *old, const char *value);
int sv_rd_idem_release(sv_store *st, const char *key);
int sv_rd_queue_push(sv_store *st, const char *run_id);
int sv_rd_queue_pop(sv_store *st, char **run_id);
int sv_rd_node_beat(sv_store *st, const char *node, int64_t ttl_ms);
int sv_rd_node_look(sv_store *st, const char *node, int64_t *left_ms);
int sv_rd_nodes_dead(sv_store *st, sv_strvec *dead);
int sv_rd_node_forget(sv_store *st, const char *node);
int sv_rd_owned_add(sv_store *st, const char *node, const char *run_id);
int sv_rd_owned_del(sv_store *st, const char *node, const char *run_id);
int sv_rd_owned_list(sv_store *st, const char *node, sv_strvec *runs);
int sv_rd_owned_move(sv_store *st, const char *from, const char *to, const char *run_id);
/* Those of store_redis_keep.c, and its listing script (one of the table
 * store_redis.c loads on each connection, at SV_RD_SC_LIST). */
int sv_rd_run_summaries_after(sv_store *st, const sv_run_pos *after, size_t max,
                              sv_strvec *summaries, sv_run_pos **pos);
extern const char sv_rd_lua_list[];
/* ... and its expiry script (at SV_RD_SC_EXPIRY), run on every view of a run. */
extern const char sv_rd_lua_expiry[];
/* The scripts of store_redis.c's table, by index. */
enum {
    SV_RD_SC_CREATE,
    SV_RD_SC_STEP,
    SV_RD_SC_CANCEL,
    SV_RD_SC_LIST,
    SV_RD_SC_CLAIM,
    SV_RD_SC_EXPIRY,
    SV_RD_SC_N
};
/* Run script `which` of the table by EVALSHA (by EVAL when the server lost
 * it) with argv after the digest (numkeys, keys, arguments); *r the reply. */
int sv_rd_evalsha(sv_store *st, int which, int argc, const char *const *argv, redisReply **r);
int sv_rd_run_retain(sv_store *st, const char *run_id, int64_t ttl_sec, int64_t *expires_ms);
int sv_rd_run_expiry(sv_store *st, const char *run_id, int64_t *expires_ms);

#endif
