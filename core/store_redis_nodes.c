/*
 * store_redis_nodes.c - the Redis store's keys that belong to no one run:
 * the instances' heartbeats and owned sets (who resumes what), crash
 * records (crash.h), idempotency claims and the shared queue.  The key
 * layout is described in store_redis.c; these functions are its table's
 * (store_redis_conn.h).
 */
#include "store_redis_conn.h"
#include "crash.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

int sv_rd_run_crashes(sv_store *st, const char *run_id, long *n)
{
    char *s = NULL;
    if (!st || !run_id || !n)
        return -EINVAL;
    int rc = sv_redis_call_str(st, &s, "HGET sv:{%b} " SV_CRASH_FIELD, run_id, strlen(run_id));
    *n = rc == 0 ? atol(s) : 0;
    free(s);
    return rc == -ENOENT ? 0 : rc;
}

int sv_rd_crash_counts(sv_store *st, sv_strvec *pairs)
{
    if (!st || !pairs)
        return -EINVAL;
    return sv_redis_call_vec(st, pairs, "HGETALL " SV_CRASH_KEY);
}

int sv_store_redis_crash_fd(sv_store *st)
{
    char err[256];
    struct sv_redis *rs = (struct sv_redis *)st;
    if (!rs->crash_conn)
        rs->crash_conn = sv_redis_conn_open(rs, err, sizeof err);
    return rs->crash_conn ? rs->crash_conn->fd : -1;
}

int sv_rd_idem_claim(sv_store *st, const char *key, const char *value, char **existing)
{
    redisReply *x = NULL, **a;
    struct sv_redis_buf b = {0};
    int rc;

    if (!st || !key || !value || !existing)
        return -EINVAL;
    *existing = NULL;
    /* SET NX and GET in one transaction: when the claim is taken, the GET
     * sees the value that holds it, so there is no window to retry over. */
    size_t n = strlen(key);
    sv_redis_buf_add(&b, "MULTI");
    sv_redis_buf_add(&b, "SET sv:idem:%b %b NX EX %lld", key, n, value, strlen(value),
                     (long long)st->ttl_sec);
    sv_redis_buf_add(&b, "GET sv:idem:%b", key, n);
    sv_redis_buf_add(&b, "EXEC");
    rc = sv_redis_buf_exec((struct sv_redis *)st, &b, &x);
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

int sv_rd_idem_swap(sv_store *st, const char *key, const char *old, const char *value)
{
    /* A claim younger than a few store timeouts may belong to a start
     * still storing its run: -2, not taken. */
    static const char lua_swap[] = "local v = redis.call('GET', KEYS[1])\n"
                                   "if not v then return -1 end\n"
                                   "if v ~= ARGV[1] then return 0 end\n"
                                   "if redis.call('PTTL', KEYS[1]) > tonumber(ARGV[3]) then\n"
                                   "  return -2\n"
                                   "end\n"
                                   "redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')\n"
                                   "return 1\n";
    redisReply *r = NULL;
    if (!st || !key || !old || !value)
        return -EINVAL;
    long long young = st->ttl_sec * 1000 - 3000LL * SV_REDIS_TIMEOUT_SEC;
    int rc = sv_redis_call((struct sv_redis *)st, &r, "EVAL %s 1 sv:idem:%b %b %b %lld", lua_swap,
                           key, strlen(key), old, strlen(old), value, strlen(value), young);
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO
             : r->integer == -2             ? -EBUSY
             : r->integer < 0               ? -ENOENT
             : r->integer == 0              ? -EEXIST
                                            : 0;
    freeReplyObject(r);
    return rc;
}

int sv_rd_idem_release(sv_store *st, const char *key)
{
    if (!st || !key)
        return -EINVAL;
    return sv_redis_call01(st, "DEL sv:idem:%b", key, strlen(key));
}

int sv_rd_queue_push(sv_store *st, const char *run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    return sv_redis_call01(st, "LPUSH sv:queue %b", run_id, strlen(run_id));
}

int sv_rd_queue_pop(sv_store *st, char **run_id)
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

int sv_rd_node_beat(sv_store *st, const char *node, int64_t ttl_ms)
{
    if (!st || !node || ttl_ms < 0)
        return -EINVAL;
    size_t n = strlen(node);
    return sv_redis_call01(st, "EVAL %s 2 sv:nodes sv:node:%b %b %lld", lua_beat, node, n, node, n,
                           (long long)ttl_ms);
}

int sv_rd_node_look(sv_store *st, const char *node, int64_t *left_ms)
{
    redisReply *r = NULL;
    if (!st || !node || !left_ms)
        return -EINVAL;
    int rc = sv_redis_call((struct sv_redis *)st, &r, "PTTL sv:node:%b", node, strlen(node));
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer < 0 ? -ENOENT : 0;
    if (rc == 0)
        *left_ms = r->integer;
    freeReplyObject(r);
    return rc;
}

int sv_rd_nodes_dead(sv_store *st, sv_strvec *dead)
{
    if (!st || !dead)
        return -EINVAL;
    return sv_redis_call_vec(st, dead, "EVAL %s 1 sv:nodes", lua_dead);
}

int sv_rd_node_forget(sv_store *st, const char *node)
{
    if (!st || !node)
        return -EINVAL;
    size_t n = strlen(node);
    int rc = sv_redis_call01(st, "EVAL %s 2 sv:nodes sv:owned:%b %b", lua_forget, node, n, node, n);
    return rc == -ENOENT ? -EBUSY : rc;
}

int sv_rd_owned_add(sv_store *st, const char *node, const char *run_id)
{
    if (!st || !node || !run_id)
        return -EINVAL;
    int rc = sv_redis_call01(st, "SADD sv:owned:%b %b", node, strlen(node), run_id, strlen(run_id));
    return rc == -ENOENT ? 0 : rc; /* 0: it was owned already */
}

int sv_rd_owned_del(sv_store *st, const char *node, const char *run_id)
{
    if (!st || !node || !run_id)
        return -EINVAL;
    return sv_redis_call01(st, "SREM sv:owned:%b %b", node, strlen(node), run_id, strlen(run_id));
}

int sv_rd_owned_list(sv_store *st, const char *node, sv_strvec *runs)
{
    if (!st || !node || !runs)
        return -EINVAL;
    return sv_redis_call_vec(st, runs, "SMEMBERS sv:owned:%b", node, strlen(node));
}

int sv_rd_owned_move(sv_store *st, const char *from, const char *to, const char *run_id)
{
    if (!st || !from || !to || !run_id)
        return -EINVAL;
    return sv_redis_call01(st, "SMOVE sv:owned:%b sv:owned:%b %b", from, strlen(from), to,
                           strlen(to), run_id, strlen(run_id));
}

/* Frees what the constructor made, whatever it got to.  No call may be in
 * flight: every connection is idle by then. */
