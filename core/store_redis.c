/*
 * store_redis.c - the Redis store: shared by daemon instances and durable.
 *
 * Keys, all under "sv:" so the daemon can share a database with others:
 *   sv:run:{id}     string  the run record (JSON)
 *   sv:ev:{id}      list    its kept events, oldest first
 *   sv:evn:{id}     string  how many events were ever pushed (dropped = pushed - kept)
 *   sv:cancel:{id}  string  "1" once cancelling was asked for
 *   sv:idem:{key}   string  an idempotency claim: the value that holds it
 *   sv:runs         zset    run ids scored by created_us (microseconds), for listing
 *   sv:queue        list    runnable run ids: pushed left, popped right
 *
 * As in store_mem, every write to a run gives its record, events, counter and
 * flag another TTL and reads give none, so a run lives and dies as one.  The
 * writes that must first see the record exist (create, put, event, cancel) are
 * short Lua scripts: MULTI/EXEC cannot make a command depend on another's
 * answer, and without that an event for an expired run would leave a list
 * behind, or a re-created id would inherit the old run's events.  Scripts run
 * by EVAL (Redis caches them by digest), so a restarted server needs no
 * reloading.  The run scripts touch only the keys they are given; the listing
 * script reads records by name, which is fine outside Redis Cluster.
 *
 * The index is pruned on each create of the entries created more than a TTL
 * before the new run, and of expired ids by each listing that meets them, so
 * it stays about one TTL of creates long.  A listing so shows the live runs
 * created within a TTL of the newest: a run kept alive longer than that by
 * writes stays readable but leaves the listing (store_mem keeps listing it).
 * Ids that tie on created_us list in descending id order (store_mem: newest
 * insertion first); ids are random, so no order among them means anything.
 *
 * Connections come from a small pool, made lazily: any thread may call in, and
 * a hiredis context is one thread's at a time.  A connection that failed is
 * closed together with the idle ones (a restarted server left them all dead),
 * so after an outage one call fails with -EIO and the next connects afresh.
 * Each call is one round trip.  SIGPIPE must be ignored (main.c does).
 */
#include "store.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_REDIS_POOL 8        /* connections at most; more threads wait */
#define SV_REDIS_TIMEOUT_SEC 2 /* to connect, and for each round trip */
#define SV_REDIS_DEFAULT_PORT 6379
/* created_us - ttl in microseconds must not overflow. */
#define SV_REDIS_MAX_TTL (INT64_MAX / 1000000)

/* The four keys of a run, as one EVAL key list, and their arguments. */
#define SV_RUN_KEYS "4 sv:run:%b sv:ev:%b sv:evn:%b sv:cancel:%b"
#define SV_RUN_KEY_ARGS(id, n) (id), (n), (id), (n), (id), (n), (id), (n)
/* A write gives the events, counter and flag (KEYS[2..4]) the TTL (ARGV[1]). */
#define SV_LUA_TOUCH "for i = 2, 4 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end\n"

/* ARGV: ttl, json, created_us, prune cutoff, id; KEYS[5] = sv:runs.  The old
 * keys deleted: an expired id starts with nothing of its previous run. */
static const char lua_create[] =
    "if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[1]) then return 0 end\n"
    "redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])\n"
    "redis.call('ZADD', KEYS[5], ARGV[3], ARGV[5])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[4])\n"
    "return 1\n";
/* ARGV: ttl, json. */
static const char lua_put[] = "if not redis.call('SET', KEYS[1], ARGV[2], 'XX', 'EX', ARGV[1]) "
                              "then return 0 end\n" SV_LUA_TOUCH "return 1\n";
/* ARGV: ttl, json, -cap.  EXPIRE answers 0 for a missing record: the test
 * and the refresh in one command. */
static const char lua_event[] = "if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
                                "redis.call('RPUSH', KEYS[2], ARGV[2])\n"
                                "redis.call('LTRIM', KEYS[2], ARGV[3], -1)\n"
                                "redis.call('INCR', KEYS[3])\n" SV_LUA_TOUCH "return 1\n";
/* ARGV: ttl. */
static const char lua_cancel[] =
    "if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "redis.call('SET', KEYS[4], '1')\n" SV_LUA_TOUCH "return 1\n";
/* KEYS[1] = sv:runs; ARGV: max.  Newest first, skipping (and unindexing)
 * ids whose record expired, so `max` live ids come back when there are. */
static const char lua_list[] =
    "local max, out, gone, pos = tonumber(ARGV[1]), {}, {}, 0\n"
    "while #out < max do\n"
    "  local ids = redis.call('ZREVRANGE', KEYS[1], pos, pos + 255)\n"
    "  if #ids == 0 then break end\n"
    "  for _, id in ipairs(ids) do\n"
    "    if #out >= max then break end\n"
    "    if redis.call('EXISTS', 'sv:run:' .. id) == 1 then out[#out + 1] = id\n"
    "    else gone[#gone + 1] = id end\n"
    "  end\n"
    "  pos = pos + 256\n"
    "end\n"
    "for i = 1, #gone, 256 do\n"
    "  redis.call('ZREM', KEYS[1], unpack(gone, i, math.min(i + 255, #gone)))\n"
    "end\n"
    "return out\n";

struct rs {
    sv_store base; /* first: the sv_store handed out converts back */
    char *host, *path, *password;
    int port, db;
    char where[300]; /* host:port or socket path, for messages (never the password) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    redisContext *idle[SV_REDIS_POOL];
    size_t n_idle, n_open; /* n_open counts idle, busy and being made */
    int down;              /* the last connection failed: say so once */
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- REDIS_URL ---- */

/* Digits at *s, at least one, at most max; *s moves past them. */
static int parse_num(const char **s, long max, int *out)
{
    long v = 0;
    const char *p = *s;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (*p - '0');
        if (v > max)
            return -EINVAL;
    }
    *s = p;
    *out = (int)v;
    return 0;
}

static int url_parse(struct rs *rs, const char *url, char *err, size_t errlen)
{
    static const char form[] = "expected redis://[:password@]host[:port][/db] or "
                               "unix:///path (%s)";
    if (strncmp(url, "unix://", 7) == 0) {
        if (url[7] != '/')
            return fail(err, errlen, -EINVAL, form, "a socket path must be absolute");
        rs->path = strdup(url + 7);
        snprintf(rs->where, sizeof rs->where, "%s", url + 7);
        return rs->path ? 0 : -ENOMEM;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return fail(err, errlen, -EINVAL, form, "unknown scheme");
    const char *p = url + 8, *at = strrchr(p, '@'), *end;
    if (at) {
        /* Up to the last '@', taken literally: a password may hold '@', ':' or '/'. */
        p += *p == ':';
        if (at > p && !(rs->password = strndup(p, (size_t)(at - p))))
            return -ENOMEM;
        p = at + 1;
    }
    if (*p == '[') { /* [v6 address] */
        end = strchr(++p, ']');
        if (!end)
            return fail(err, errlen, -EINVAL, form, "unclosed '['");
    } else {
        end = p + strcspn(p, ":/");
    }
    if (end == p)
        return fail(err, errlen, -EINVAL, form, "no host");
    rs->host = strndup(p, (size_t)(end - p));
    if (!rs->host)
        return -ENOMEM;
    p = *end == ']' ? end + 1 : end;
    rs->port = SV_REDIS_DEFAULT_PORT;
    if (*p == ':' && (p++, parse_num(&p, 65535, &rs->port) < 0 || rs->port == 0))
        return fail(err, errlen, -EINVAL, form, "the port must be 1-65535");
    if (*p == '/' && *++p && parse_num(&p, 1000000, &rs->db) < 0)
        return fail(err, errlen, -EINVAL, form, "the database must be a number");
    if (*p)
        return fail(err, errlen, -EINVAL, form, "unexpected text after the address");
    snprintf(rs->where, sizeof rs->where, strchr(rs->host, ':') ? "[%s]:%d" : "%s:%d", rs->host,
             rs->port);
    return 0;
}

/* ---- connections ---- */

/* Connect, log in, pick the database and see that it answers; NULL with a
 * one-line reason in err if any of that fails. */
static redisContext *conn_open(struct rs *rs, char *err, size_t errlen)
{
    struct timeval tv = {SV_REDIS_TIMEOUT_SEC, 0};
    redisContext *c = rs->path ? redisConnectUnixWithTimeout(rs->path, tv)
                               : redisConnectWithTimeout(rs->host, rs->port, tv);
    redisReply *r = NULL;
    int ok = 0;

    if (!c || c->err) {
        fail(err, errlen, 0, "cannot connect to %s (%s); start Redis there or fix the URL",
             rs->where, c ? c->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        fail(err, errlen, 0, "cannot set timeouts on %s (%s)", rs->where, c->errstr);
        goto out;
    }
    /* One round trip: each reply checked in order. */
    static const char *const steps[] = {"AUTH", "SELECT", "PING"};
    int sent[] = {rs->password != NULL, rs->db != 0, 1};
    if (rs->password)
        redisAppendCommand(c, "AUTH %b", rs->password, strlen(rs->password));
    if (rs->db)
        redisAppendCommand(c, "SELECT %d", rs->db);
    redisAppendCommand(c, "PING");
    for (int i = 0; i < 3; i++) {
        if (!sent[i])
            continue;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            fail(err, errlen, 0, "%s did not answer %s (%s)", rs->where, steps[i], c->errstr);
            goto out;
        }
        if (r->type != REDIS_REPLY_STATUS) {
            const char *why = r->type == REDIS_REPLY_ERROR ? r->str : "an unexpected reply";
            const char *hint = "is it a Redis server?";
            if (i == 1)
                hint = "pick a database the server has";
            else if (i == 0 || strstr(why, "NOAUTH"))
                hint = "check the password: redis://:password@host:port";
            fail(err, errlen, 0, "%s refused %s (%s); %s", rs->where, steps[i], why, hint);
            goto out;
        }
        freeReplyObject(r);
        r = NULL;
    }
    ok = 1;
out:
    freeReplyObject(r);
    if (!ok && c) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

/* A connection of the pool, made if none is idle and there is room. */
static int conn_get(struct rs *rs, redisContext **out)
{
    char err[512];
    int was_down;

    pthread_mutex_lock(&rs->lock);
    while (rs->n_idle == 0 && rs->n_open >= SV_REDIS_POOL)
        pthread_cond_wait(&rs->cond, &rs->lock);
    if (rs->n_idle > 0) {
        *out = rs->idle[--rs->n_idle];
        pthread_mutex_unlock(&rs->lock);
        return 0;
    }
    rs->n_open++; /* the slot is ours while we connect without the lock */
    pthread_mutex_unlock(&rs->lock);

    *out = conn_open(rs, err, sizeof err);
    pthread_mutex_lock(&rs->lock);
    was_down = rs->down;
    rs->down = !*out;
    if (!*out) {
        rs->n_open--;
        pthread_cond_signal(&rs->cond);
    }
    pthread_mutex_unlock(&rs->lock);
    if (!*out && !was_down)
        sv_logf(SV_LEVEL_WARN, "%s; store calls fail until it answers", err);
    else if (*out && was_down)
        sv_logf(SV_LEVEL_INFO, "redis store at %s answers again", rs->where);
    return *out ? 0 : -EIO;
}

/* Give a connection back.  One that failed is out of step with its server,
 * and the idle ones probably died with it: all are closed. */
static void conn_put(struct rs *rs, redisContext *c)
{
    redisContext *dead[SV_REDIS_POOL + 1];
    size_t n = 0;
    int was_down;

    pthread_mutex_lock(&rs->lock);
    if (!c->err) {
        rs->idle[rs->n_idle++] = c;
        pthread_cond_signal(&rs->cond);
        pthread_mutex_unlock(&rs->lock);
        return;
    }
    dead[n++] = c;
    while (rs->n_idle > 0)
        dead[n++] = rs->idle[--rs->n_idle];
    rs->n_open -= n;
    was_down = rs->down;
    rs->down = 1;
    pthread_cond_broadcast(&rs->cond);
    pthread_mutex_unlock(&rs->lock);
    if (!was_down)
        sv_logf(SV_LEVEL_WARN, "redis store at %s: %s; store calls fail until it answers",
                rs->where, c->errstr);
    for (size_t i = 0; i < n; i++)
        redisFree(dead[i]);
}

/* Read the replies to the n commands just appended on c, keep the last in
 * *last, and give c back.  -EIO when the connection failed or any reply is an
 * error; all n are read either way, so the stream stays in step. */
static int rs_finish(struct rs *rs, redisContext *c, size_t n, redisReply **last)
{
    redisReply *r = NULL;
    int rc = 0;

    *last = NULL;
    for (size_t i = 0; i < n; i++) {
        freeReplyObject(r);
        r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            rc = -EIO;
            break;
        }
        if (r->type == REDIS_REPLY_ERROR && rc == 0) {
            sv_logf(SV_LEVEL_WARN, "redis store at %s answered: %s", rs->where, r->str);
            rc = -EIO;
        }
    }
    conn_put(rs, c);
    if (rc < 0)
        freeReplyObject(r);
    else
        *last = r;
    return rc;
}

/* One command in one round trip: its reply in *r (caller frees). */
static int rs_vcall(struct rs *rs, redisReply **r, const char *fmt, va_list ap)
{
    redisContext *c;
    int rc;

    *r = NULL;
    rc = conn_get(rs, &c);
    if (rc < 0)
        return rc;
    redisvAppendCommand(c, fmt, ap); /* a failure sets c->err: the read fails */
    return rs_finish(rs, c, 1, r);
}

static int rs_call(struct rs *rs, redisReply **r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = rs_vcall(rs, r, fmt, ap);
    va_end(ap);
    return rc;
}

/* A command or script answering a count: 0 if it is positive (done), -ENOENT
 * if it is 0 (nothing there). */
static int rs_call01(sv_store *st, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = rs_vcall((struct rs *)st, &r, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer > 0 ? 0 : -ENOENT;
    freeReplyObject(r);
    return rc;
}

static int reply_dup(const redisReply *r, char **out)
{
    if (r->type != REDIS_REPLY_STRING)
        return -EIO;
    *out = strndup(r->str, r->len);
    return *out ? 0 : -ENOMEM;
}

/* A command answering a string, or nil for -ENOENT: *out (malloc'd) or NULL. */
static int rs_call_str(sv_store *st, char **out, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    *out = NULL;
    va_start(ap, fmt);
    int rc = rs_vcall((struct rs *)st, &r, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = r->type == REDIS_REPLY_NIL ? -ENOENT : reply_dup(r, out);
    freeReplyObject(r);
    return rc;
}

static int reply_strvec(const redisReply *r, sv_strvec *out)
{
    sv_strvec v = {NULL, 0};
    int rc = 0;

    if (r->type != REDIS_REPLY_ARRAY)
        return -EIO;
    if (r->elements > 0 && !(v.v = calloc(r->elements, sizeof *v.v)))
        return -ENOMEM;
    while (v.n < r->elements) {
        rc = reply_dup(r->element[v.n], &v.v[v.n]);
        if (rc < 0)
            break;
        v.n++;
    }
    if (rc < 0)
        sv_strvec_free(&v);
    else
        *out = v;
    return rc;
}

/* A command answering an array of strings, into *out (emptied first). */
static int rs_call_vec(sv_store *st, sv_strvec *out, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    out->v = NULL;
    out->n = 0;
    va_start(ap, fmt);
    int rc = rs_vcall((struct rs *)st, &r, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = reply_strvec(r, out);
    freeReplyObject(r);
    return rc;
}

/* MULTI, one command per format (each given the key), EXEC: one round trip,
 * and *x (caller frees) holds exactly the k answers. */
static int rs_multi(struct rs *rs, const char *key, const char *const *fmts, size_t k,
                    redisReply **x)
{
    redisContext *c;
    int rc = conn_get(rs, &c);

    *x = NULL;
    if (rc < 0)
        return rc;
    redisAppendCommand(c, "MULTI");
    for (size_t i = 0; i < k; i++)
        redisAppendCommand(c, fmts[i], key, strlen(key));
    redisAppendCommand(c, "EXEC");
    rc = rs_finish(rs, c, k + 2, x);
    if (rc == 0 && ((*x)->type != REDIS_REPLY_ARRAY || (*x)->elements != k))
        rc = -EIO;
    if (rc < 0) {
        freeReplyObject(*x);
        *x = NULL;
    }
    return rc;
}

/* ---- the backend table ---- */

static int rd_ping(sv_store *st)
{
    redisReply *r = NULL;
    int rc;

    if (!st)
        return -EINVAL;
    rc = rs_call((struct rs *)st, &r, "PING");
    if (rc == 0 && (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "PONG") != 0))
        rc = -EIO;
    freeReplyObject(r);
    return rc;
}

static int rd_run_create(sv_store *st, const char *run_id, const char *json, int64_t created_us)
{
    if (!st || !run_id || !json)
        return -EINVAL;
    int64_t ttl_us = st->ttl_sec * 1000000;
    int64_t cutoff = created_us < INT64_MIN + ttl_us ? INT64_MIN : created_us - ttl_us;
    size_t n = strlen(run_id);
    int rc = rs_call01(
        st, "EVAL %s 5 sv:run:%b sv:ev:%b sv:evn:%b sv:cancel:%b sv:runs %lld %b %lld %lld %b",
        lua_create, SV_RUN_KEY_ARGS(run_id, n), (long long)st->ttl_sec, json, strlen(json),
        (long long)created_us, (long long)cutoff, run_id, n);
    return rc == -ENOENT ? -EEXIST : rc;
}

static int rd_run_put(sv_store *st, const char *run_id, const char *json)
{
    if (!st || !run_id || !json)
        return -EINVAL;
    size_t n = strlen(run_id);
    return rs_call01(st, "EVAL %s " SV_RUN_KEYS " %lld %b", lua_put, SV_RUN_KEY_ARGS(run_id, n),
                     (long long)st->ttl_sec, json, strlen(json));
}

static int rd_run_get(sv_store *st, const char *run_id, char **json)
{
    if (!st || !run_id || !json)
        return -EINVAL;
    return rs_call_str(st, json, "GET sv:run:%b", run_id, strlen(run_id));
}

static int rd_run_list(sv_store *st, size_t max, sv_strvec *ids)
{
    if (!st || !ids)
        return -EINVAL;
    if (max == 0) {
        ids->v = NULL;
        ids->n = 0;
        return 0;
    }
    return rs_call_vec(st, ids, "EVAL %s 1 sv:runs %llu", lua_list, (unsigned long long)max);
}

static int rd_event_append(sv_store *st, const char *run_id, const char *json, size_t cap)
{
    if (!st || !run_id || !json || cap == 0)
        return -EINVAL;
    /* LTRIM from -cap keeps the newest cap. */
    long long keep_from = cap > (size_t)LLONG_MAX ? -LLONG_MAX : -(long long)cap;
    size_t n = strlen(run_id);
    return rs_call01(st, "EVAL %s " SV_RUN_KEYS " %lld %b %lld", lua_event,
                     SV_RUN_KEY_ARGS(run_id, n), (long long)st->ttl_sec, json, strlen(json),
                     keep_from);
}

/* A counter's decimal text. */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || end == s || *end || *s == '-' ? -EIO : 0;
}

static int rd_events_get(sv_store *st, const char *run_id, sv_strvec *events, uint64_t *dropped)
{
    /* In one transaction, so the counter and the list agree. */
    static const char *const cmds[] = {"EXISTS sv:run:%b", "LRANGE sv:ev:%b 0 -1", "GET sv:evn:%b"};
    redisReply *x = NULL, **a;
    uint64_t pushed = 0;
    int rc;

    if (!st || !run_id || !events || !dropped)
        return -EINVAL;
    events->v = NULL;
    events->n = 0;
    *dropped = 0;
    rc = rs_multi((struct rs *)st, run_id, cmds, 3, &x);
    if (rc < 0)
        return rc;
    a = x->element;
    if (a[0]->type != REDIS_REPLY_INTEGER)
        rc = -EIO;
    else if (a[0]->integer == 0)
        rc = -ENOENT;
    else if (a[2]->type == REDIS_REPLY_STRING) /* nil: nothing pushed yet */
        rc = parse_count(a[2]->str, &pushed);
    else if (a[2]->type != REDIS_REPLY_NIL)
        rc = -EIO;
    if (rc == 0)
        rc = reply_strvec(a[1], events);
    if (rc == 0)
        *dropped = pushed > events->n ? pushed - events->n : 0;
    freeReplyObject(x);
    return rc;
}

static int rd_cancel_set(sv_store *st, const char *run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    size_t n = strlen(run_id);
    return rs_call01(st, "EVAL %s " SV_RUN_KEYS " %lld", lua_cancel, SV_RUN_KEY_ARGS(run_id, n),
                     (long long)st->ttl_sec);
}

static int rd_cancel_get(sv_store *st, const char *run_id, int *flag)
{
    static const char *const cmds[] = {"EXISTS sv:run:%b", "EXISTS sv:cancel:%b"};
    redisReply *x = NULL, **a;
    int rc;

    if (!st || !run_id || !flag)
        return -EINVAL;
    *flag = 0;
    rc = rs_multi((struct rs *)st, run_id, cmds, 2, &x);
    if (rc < 0)
        return rc;
    a = x->element;
    if (a[0]->type != REDIS_REPLY_INTEGER || a[1]->type != REDIS_REPLY_INTEGER)
        rc = -EIO;
    else if (a[0]->integer == 0)
        rc = -ENOENT;
    else
        *flag = a[1]->integer != 0;
    freeReplyObject(x);
    return rc;
}

static int rd_idem_claim(sv_store *st, const char *key, const char *value, char **existing)
{
    redisContext *c;
    redisReply *x = NULL, **a;
    int rc;

    if (!st || !key || !value || !existing)
        return -EINVAL;
    *existing = NULL;
    rc = conn_get((struct rs *)st, &c);
    if (rc < 0)
        return rc;
    /* SET NX and GET in one transaction: when the claim is taken, the GET
     * sees the value that holds it, so there is no window to retry over. */
    size_t n = strlen(key);
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "SET sv:idem:%b %b NX EX %lld", key, n, value, strlen(value),
                       (long long)st->ttl_sec);
    redisAppendCommand(c, "GET sv:idem:%b", key, n);
    redisAppendCommand(c, "EXEC");
    rc = rs_finish((struct rs *)st, c, 4, &x);
    if (rc < 0)
        goto out;
    a = x->type == REDIS_REPLY_ARRAY && x->elements == 2 ? x->element : NULL;
    if (a && a[0]->type == REDIS_REPLY_STATUS)
        rc = 0;
    else if (a && a[0]->type == REDIS_REPLY_NIL)
        rc = reply_dup(a[1], existing);
    else
        rc = -EIO;
    if (rc == 0 && *existing)
        rc = -EEXIST;
out:
    freeReplyObject(x);
    return rc;
}

static int rd_idem_release(sv_store *st, const char *key)
{
    if (!st || !key)
        return -EINVAL;
    return rs_call01(st, "DEL sv:idem:%b", key, strlen(key));
}

static int rd_queue_push(sv_store *st, const char *run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    return rs_call01(st, "LPUSH sv:queue %b", run_id, strlen(run_id));
}

static int rd_queue_pop(sv_store *st, char **run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    return rs_call_str(st, run_id, "RPOP sv:queue");
}

/* ---- ownership: sv:nodes (set of known nodes), sv:node:{node} (its
 * heartbeat, expiring), sv:owned:{node} (set of the run ids it executes) ---- */

/* KEYS: sv:nodes, sv:node:{node}; ARGV: node, ttl_ms (0: the beat ends now,
 * and the node stays known so that others take its runs over at once). */
static const char lua_beat[] = "redis.call('SADD', KEYS[1], ARGV[1])\n"
                               "if ARGV[2] == '0' then redis.call('DEL', KEYS[2])\n"
                               "else redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end\n"
                               "return 1\n";
/* KEYS: sv:nodes. */
static const char lua_dead[] =
    "local dead = {}\n"
    "for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  if redis.call('EXISTS', 'sv:node:' .. n) == 0 then dead[#dead + 1] = n end\n"
    "end\n"
    "return dead\n";
/* KEYS: sv:nodes, sv:owned:{node}; ARGV: node.  Atomic, so a run moved to
 * the node meanwhile is not orphaned. */
static const char lua_forget[] = "if redis.call('SCARD', KEYS[2]) > 0 then return 0 end\n"
                                 "redis.call('SREM', KEYS[1], ARGV[1])\n"
                                 "return 1\n";

static int rd_node_beat(sv_store *st, const char *node, int64_t ttl_ms)
{
    if (!st || !node || ttl_ms < 0)
        return -EINVAL;
    size_t n = strlen(node);
    return rs_call01(st, "EVAL %s 2 sv:nodes sv:node:%b %b %lld", lua_beat, node, n, node, n,
                     (long long)ttl_ms);
}

static int rd_nodes_dead(sv_store *st, sv_strvec *dead)
{
    if (!st || !dead)
        return -EINVAL;
    return rs_call_vec(st, dead, "EVAL %s 1 sv:nodes", lua_dead);
}

static int rd_node_forget(sv_store *st, const char *node)
{
    if (!st || !node)
        return -EINVAL;
    size_t n = strlen(node);
    int rc = rs_call01(st, "EVAL %s 2 sv:nodes sv:owned:%b %b", lua_forget, node, n, node, n);
    return rc == -ENOENT ? -EBUSY : rc;
}

static int rd_owned_add(sv_store *st, const char *node, const char *run_id)
{
    if (!st || !node || !run_id)
        return -EINVAL;
    int rc = rs_call01(st, "SADD sv:owned:%b %b", node, strlen(node), run_id, strlen(run_id));
    return rc == -ENOENT ? 0 : rc; /* 0: it was owned already */
}

static int rd_owned_del(sv_store *st, const char *node, const char *run_id)
{
    if (!st || !node || !run_id)
        return -EINVAL;
    return rs_call01(st, "SREM sv:owned:%b %b", node, strlen(node), run_id, strlen(run_id));
}

static int rd_owned_list(sv_store *st, const char *node, sv_strvec *runs)
{
    if (!st || !node || !runs)
        return -EINVAL;
    return rs_call_vec(st, runs, "SMEMBERS sv:owned:%b", node, strlen(node));
}

static int rd_owned_move(sv_store *st, const char *from, const char *to, const char *run_id)
{
    if (!st || !from || !to || !run_id)
        return -EINVAL;
    return rs_call01(st, "SMOVE sv:owned:%b sv:owned:%b %b", from, strlen(from), to, strlen(to),
                     run_id, strlen(run_id));
}

/* Frees what the constructor made, whatever it got to.  No call may be in
 * flight: every connection is idle by then. */
static void rd_destroy(sv_store *st)
{
    struct rs *rs = (struct rs *)st;

    if (!rs)
        return;
    while (rs->n_idle > 0)
        redisFree(rs->idle[--rs->n_idle]);
    if (rs->password)
        explicit_bzero(rs->password, strlen(rs->password));
    free(rs->password);
    free(rs->host);
    free(rs->path);
    pthread_cond_destroy(&rs->cond);
    pthread_mutex_destroy(&rs->lock);
    free(rs);
}

static const sv_store_ops redis_ops = {
    .name = "redis",
    .durable = 1,
    .ping = rd_ping,
    .run_create = rd_run_create,
    .run_put = rd_run_put,
    .run_get = rd_run_get,
    .run_list = rd_run_list,
    .event_append = rd_event_append,
    .events_get = rd_events_get,
    .cancel_set = rd_cancel_set,
    .cancel_get = rd_cancel_get,
    .idem_claim = rd_idem_claim,
    .idem_release = rd_idem_release,
    .queue_push = rd_queue_push,
    .queue_pop = rd_queue_pop,
    .node_beat = rd_node_beat,
    .nodes_dead = rd_nodes_dead,
    .node_forget = rd_node_forget,
    .owned_add = rd_owned_add,
    .owned_del = rd_owned_del,
    .owned_list = rd_owned_list,
    .owned_move = rd_owned_move,
    .destroy = rd_destroy,
};

int sv_store_redis_new(const char *url, int64_t ttl_sec, char *err, size_t errlen, sv_store **out)
{
    struct rs *rs = NULL;
    redisContext *c;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!url || !out || ttl_sec <= 0 || ttl_sec > SV_REDIS_MAX_TTL)
        return fail(err, errlen, -EINVAL, "redis store: no URL, or a TTL out of range");
    *out = NULL;
    rs = calloc(1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    /* Ready for rd_destroy before anything can fail. */
    pthread_mutex_init(&rs->lock, NULL);
    pthread_cond_init(&rs->cond, NULL);
    rs->base.ops = &redis_ops;
    rs->base.ttl_sec = ttl_sec;
    rc = url_parse(rs, url, err, errlen);
    if (rc < 0)
        goto out;
    c = conn_open(rs, err, errlen);
    if (!c) {
        rc = -EIO;
        goto out;
    }
    rs->idle[rs->n_idle++] = c;
    rs->n_open = 1;
    *out = &rs->base;
out:
    if (rc < 0)
        rd_destroy(&rs->base);
    return rc;
}
