/*
 * store_redis.c - the Redis store: shared by daemon instances and durable.
 * This file is the key layout and the operations; the connections are in
 * store_redis_conn.c.
 *
 * Keys, all under "sv:" so the daemon can share a database with others:
 *   sv:run:{id}     string  the run record (JSON)
 *   sv:sum:{id}     string  its summary (JSON), what listings return
 *   sv:ev:{id}      list    its kept events, oldest first
 *   sv:evn:{id}     string  how many events were ever pushed (dropped = pushed - kept)
 *   sv:cancel:{id}  string  "1" once cancelling was asked for
 *   sv:idem:{key}   string  an idempotency claim: the value that holds it
 *   sv:runs         zset    run ids scored by created_us (microseconds), for listing
 *   sv:queue        list    runnable run ids: pushed left, popped right
 *   sv:nodes        set     the daemon instances (nodes) known
 *   sv:node:{node}  string  a node's heartbeat, expiring
 *   sv:owned:{node} set     the run ids a node executes
 *   sv:cancels:{db} channel each cancel_set publishes its run id (store_redis_sub.c)
 *
 * As in store_mem, every write to a run gives its record, summary, events,
 * counter and flag another TTL and reads give none, so a run lives and dies
 * as one.  The writes that must first see the record exist (create, put,
 * event, cancel) are short Lua scripts: MULTI/EXEC cannot make a command
 * depend on another's answer, and without that an event for an expired run
 * would leave a list behind, or a re-created id would inherit the old run's
 * events or summary.  Scripts run by EVAL (Redis caches them by digest), so a
 * restarted server needs no reloading.  The run scripts touch only the keys
 * they are given; the listing script reads summaries (and, for the ids
 * without one, records) by name, which is fine outside Redis Cluster.
 *
 * The index is pruned on each create of the entries created more than a TTL
 * before the new run, and of expired ids by each listing that meets them, so
 * it stays about one TTL of creates long.  A listing so shows the live runs
 * created within a TTL of the newest: a run kept alive longer than that by
 * writes stays readable but leaves the listing (store_mem keeps listing it).
 * Ids that tie on created_us list in descending id order (store_mem: newest
 * insertion first); ids are random, so no order among them means anything.
 */
#include "store_redis_conn.h"
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

/* created_us - ttl in microseconds must not overflow. */
#define SV_REDIS_MAX_TTL (INT64_MAX / 1000000)

/* The five keys of a run, as one EVAL key list, and their arguments. */
#define SV_RUN_KEY_NAMES "sv:run:%b sv:ev:%b sv:evn:%b sv:cancel:%b sv:sum:%b"
#define SV_RUN_KEYS "5 " SV_RUN_KEY_NAMES
#define SV_RUN_KEY_ARGS(id, n) (id), (n), (id), (n), (id), (n), (id), (n), (id), (n)
/* A write gives the events, counter, flag and summary (KEYS[2..5]) the TTL
 * (ARGV[1]). */
#define SV_LUA_TOUCH "for i = 2, 5 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end\n"

/* ARGV: ttl, json, summary, created_us, prune cutoff, id; KEYS[6] = sv:runs.
 * The old keys deleted: an expired id starts with nothing of its previous
 * run. */
static const char lua_create[] =
    "if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[1]) then return 0 end\n"
    "redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])\n"
    "redis.call('SET', KEYS[5], ARGV[3], 'EX', ARGV[1])\n"
    "redis.call('ZADD', KEYS[6], ARGV[4], ARGV[6])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[5])\n"
    "return 1\n";
/* ARGV: ttl, json[, summary]: without one, the summary stays as it is. */
/* Answers 0 (no record), 1, or 2 when the run's cancel flag is set. */
static const char lua_put[] =
    "if not redis.call('SET', KEYS[1], ARGV[2], 'XX', 'EX', ARGV[1]) then return 0 end\n"
    "if ARGV[3] then redis.call('SET', KEYS[5], ARGV[3]) end\n" SV_LUA_TOUCH
    "return 1 + redis.call('EXISTS', KEYS[4])\n";
/* ARGV: ttl, json, -cap.  EXPIRE answers 0 for a missing record: the test
 * and the refresh in one command. */
static const char lua_event[] = "if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
                                "redis.call('RPUSH', KEYS[2], ARGV[2])\n"
                                "redis.call('LTRIM', KEYS[2], ARGV[3], -1)\n"
                                "redis.call('INCR', KEYS[3])\n" SV_LUA_TOUCH "return 1\n";
/* ARGV: ttl. */
/* ARGV[2], ARGV[3]: the cancels channel and the run id, published so that
 * the instance running the run hears of it at once. */
static const char lua_cancel[] =
    "if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "redis.call('SET', KEYS[4], '1')\n" SV_LUA_TOUCH "redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
    "return 1\n";
/*
 * KEYS[1] = sv:runs; ARGV: max.  The summaries, newest first, in batches of
 * at most 256 ids (one MGET each).  An id without a summary is unindexed
 * when its record has expired too, so `max` live summaries come back when
 * there are; one whose record is still there (written by a daemon from
 * before summaries) is skipped but kept: its next write with a summary lists
 * it again.
 */
static const char lua_list[] =
    "local max, out, gone, pos = tonumber(ARGV[1]), {}, {}, 0\n"
    "while #out < max do\n"
    "  local ids = redis.call('ZREVRANGE', KEYS[1], pos, pos + math.min(256, max - #out) - 1)\n"
    "  if #ids == 0 then break end\n"
    "  local keys = {}\n"
    "  for i, id in ipairs(ids) do keys[i] = 'sv:sum:' .. id end\n"
    "  for i, s in ipairs(redis.call('MGET', unpack(keys))) do\n"
    "    if s then out[#out + 1] = s\n"
    "    elseif redis.call('EXISTS', 'sv:run:' .. ids[i]) == 0 then gone[#gone + 1] = ids[i] end\n"
    "  end\n"
    "  pos = pos + #ids\n"
    "end\n"
    "for i = 1, #gone, 256 do\n"
    "  redis.call('ZREM', KEYS[1], unpack(gone, i, math.min(i + 255, #gone)))\n"
    "end\n"
    "return out\n";

/* ---- the backend table ---- */

static int rd_ping(sv_store *st)
{
    redisReply *r = NULL;
    int rc;

    if (!st)
        return -EINVAL;
    rc = sv_redis_call((struct sv_redis *)st, &r, "PING");
    if (rc == 0 && (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "PONG") != 0))
        rc = -EIO;
    freeReplyObject(r);
    return rc;
}

static int rd_run_create(sv_store *st, const char *run_id, const char *json, const char *summary,
                         int64_t created_us)
{
    if (!st || !run_id || !json || !summary)
        return -EINVAL;
    int64_t ttl_us = st->ttl_sec * 1000000;
    int64_t cutoff = created_us < INT64_MIN + ttl_us ? INT64_MIN : created_us - ttl_us;
    size_t n = strlen(run_id);
    int rc = sv_redis_call01(st, "EVAL %s 6 " SV_RUN_KEY_NAMES " sv:runs %lld %b %b %lld %lld %b",
                             lua_create, SV_RUN_KEY_ARGS(run_id, n), (long long)st->ttl_sec, json,
                             strlen(json), summary, strlen(summary), (long long)created_us,
                             (long long)cutoff, run_id, n);
    return rc == -ENOENT ? -EEXIST : rc;
}

static int rd_run_put(sv_store *st, const char *run_id, const char *json, const char *summary,
                      int *cancelled)
{
    redisReply *r = NULL;
    int rc;
    if (!st || !run_id || !json)
        return -EINVAL;
    size_t n = strlen(run_id);
    struct sv_redis *rs = (struct sv_redis *)st;
    if (!summary)
        rc = sv_redis_call(rs, &r, "EVAL %s " SV_RUN_KEYS " %lld %b", lua_put,
                           SV_RUN_KEY_ARGS(run_id, n), (long long)st->ttl_sec, json, strlen(json));
    else
        rc = sv_redis_call(rs, &r, "EVAL %s " SV_RUN_KEYS " %lld %b %b", lua_put,
                           SV_RUN_KEY_ARGS(run_id, n), (long long)st->ttl_sec, json, strlen(json),
                           summary, strlen(summary));
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer > 0 ? 0 : -ENOENT;
    if (rc == 0 && cancelled)
        *cancelled = r->integer > 1;
    freeReplyObject(r);
    return rc;
}

static int rd_run_get(sv_store *st, const char *run_id, char **json)
{
    if (!st || !run_id || !json)
        return -EINVAL;
    return sv_redis_call_str(st, json, "GET sv:run:%b", run_id, strlen(run_id));
}

static int rd_run_summaries(sv_store *st, size_t max, sv_strvec *summaries)
{
    if (!st || !summaries)
        return -EINVAL;
    if (max == 0) {
        summaries->v = NULL;
        summaries->n = 0;
        return 0;
    }
    return sv_redis_call_vec(st, summaries, "EVAL %s 1 sv:runs %llu", lua_list,
                             (unsigned long long)max);
}

static int rd_event_append(sv_store *st, const char *run_id, const char *json, size_t cap)
{
    if (!st || !run_id || !json || cap == 0)
        return -EINVAL;
    /* LTRIM from -cap keeps the newest cap. */
    long long keep_from = cap > (size_t)LLONG_MAX ? -LLONG_MAX : -(long long)cap;
    size_t n = strlen(run_id);
    return sv_redis_call01(st, "EVAL %s " SV_RUN_KEYS " %lld %b %lld", lua_event,
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
    rc = sv_redis_multi((struct sv_redis *)st, run_id, cmds, 3, &x);
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
        rc = sv_redis_reply_strvec(a[1], events);
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
    struct sv_redis *rs = (struct sv_redis *)st;
    return sv_redis_call01(st, "EVAL %s " SV_RUN_KEYS " %lld %s %b", lua_cancel,
                           SV_RUN_KEY_ARGS(run_id, n), (long long)st->ttl_sec, rs->channel, run_id,
                           n);
}

static int rd_cancel_get(sv_store *st, const char *run_id, int *flag)
{
    static const char *const cmds[] = {"EXISTS sv:run:%b", "EXISTS sv:cancel:%b"};
    redisReply *x = NULL, **a;
    int rc;

    if (!st || !run_id || !flag)
        return -EINVAL;
    *flag = 0;
    rc = sv_redis_multi((struct sv_redis *)st, run_id, cmds, 2, &x);
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
    rc = sv_redis_conn_get((struct sv_redis *)st, &c);
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
    rc = sv_redis_finish((struct sv_redis *)st, c, 4, &x);
    if (rc < 0)
        goto out;
    a = x->type == REDIS_REPLY_ARRAY && x->elements == 2 ? x->element : NULL;
    if (a && a[0]->type == REDIS_REPLY_STATUS)
        rc = 0;
    else if (a && a[0]->type == REDIS_REPLY_NIL)
        rc = sv_redis_reply_dup(a[1], existing);
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
    return sv_redis_call01(st, "DEL sv:idem:%b", key, strlen(key));
}

static int rd_queue_push(sv_store *st, const char *run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    return sv_redis_call01(st, "LPUSH sv:queue %b", run_id, strlen(run_id));
}

static int rd_queue_pop(sv_store *st, char **run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    return sv_redis_call_str(st, run_id, "RPOP sv:queue");
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
    return sv_redis_call01(st, "EVAL %s 2 sv:nodes sv:node:%b %b %lld", lua_beat, node, n, node, n,
                           (long long)ttl_ms);
}

static int rd_nodes_dead(sv_store *st, sv_strvec *dead)
{
    if (!st || !dead)
        return -EINVAL;
    return sv_redis_call_vec(st, dead, "EVAL %s 1 sv:nodes", lua_dead);
}

static int rd_node_forget(sv_store *st, const char *node)
{
    if (!st || !node)
        return -EINVAL;
    size_t n = strlen(node);
    int rc = sv_redis_call01(st, "EVAL %s 2 sv:nodes sv:owned:%b %b", lua_forget, node, n, node, n);
    return rc == -ENOENT ? -EBUSY : rc;
}

static int rd_owned_add(sv_store *st, const char *node, const char *run_id)
{
    if (!st || !node || !run_id)
        return -EINVAL;
    int rc = sv_redis_call01(st, "SADD sv:owned:%b %b", node, strlen(node), run_id, strlen(run_id));
    return rc == -ENOENT ? 0 : rc; /* 0: it was owned already */
}

static int rd_owned_del(sv_store *st, const char *node, const char *run_id)
{
    if (!st || !node || !run_id)
        return -EINVAL;
    return sv_redis_call01(st, "SREM sv:owned:%b %b", node, strlen(node), run_id, strlen(run_id));
}

static int rd_owned_list(sv_store *st, const char *node, sv_strvec *runs)
{
    if (!st || !node || !runs)
        return -EINVAL;
    return sv_redis_call_vec(st, runs, "SMEMBERS sv:owned:%b", node, strlen(node));
}

static int rd_owned_move(sv_store *st, const char *from, const char *to, const char *run_id)
{
    if (!st || !from || !to || !run_id)
        return -EINVAL;
    return sv_redis_call01(st, "SMOVE sv:owned:%b sv:owned:%b %b", from, strlen(from), to,
                           strlen(to), run_id, strlen(run_id));
}

/* Frees what the constructor made, whatever it got to.  No call may be in
 * flight: every connection is idle by then. */
static int rd_cancel_listen(sv_store *st, void (*fn)(void *arg, const char *run_id), void *arg)
{
    struct sv_redis *rs = (struct sv_redis *)st;
    sv_redis_sub_stop(rs->sub); /* one listener at a time */
    rs->sub = NULL;
    return fn ? sv_redis_sub_start(rs, fn, arg, &rs->sub) : 0;
}

static void rd_destroy(sv_store *st)
{
    struct sv_redis *rs = (struct sv_redis *)st;

    if (!rs)
        return;
    sv_redis_sub_stop(rs->sub);
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
    .run_summaries = rd_run_summaries,
    .event_append = rd_event_append,
    .events_get = rd_events_get,
    .cancel_set = rd_cancel_set,
    .cancel_get = rd_cancel_get,
    .cancel_listen = rd_cancel_listen,
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
    struct sv_redis *rs = NULL;
    redisContext *c;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!url || !out || ttl_sec <= 0 || ttl_sec > SV_REDIS_MAX_TTL)
        return sv_redis_fail(err, errlen, -EINVAL, "redis store: no URL, or a TTL out of range");
    *out = NULL;
    rs = calloc(1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    /* Ready for rd_destroy before anything can fail. */
    pthread_mutex_init(&rs->lock, NULL);
    pthread_cond_init(&rs->cond, NULL);
    rs->base.ops = &redis_ops;
    rs->base.ttl_sec = ttl_sec;
    rc = sv_redis_url_parse(rs, url, err, errlen);
    if (rc < 0)
        goto out;
    /* Channels are server-wide, databases are not: one per database keeps
     * deployments that share a server apart. */
    snprintf(rs->channel, sizeof rs->channel, "sv:cancels:%d", rs->db);
    c = sv_redis_conn_open(rs, err, errlen);
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
