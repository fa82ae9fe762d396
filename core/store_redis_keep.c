/*
 * store_redis_keep.c - retain and expiry of the Redis store (store.h
 * run_retain, run_expiry).  A retained run's keys get a longer TTL; the
 * writes' scripts (store_redis.c SV_LUA_KEEP) give the later of RUN_TTL_SEC
 * and what is left, so the run keeps it through its own writes.  Its id
 * also goes into sv:kept, the index that the prune on create leaves alone,
 * so listings still show it; listings unindex it once the run is gone.
 * Runs of the previous key layout are retained in their five keys.
 */
#include "store_redis_conn.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * KEYS: sv:{id}, sv:{id}:ev, the previous layout's five (sv:run:id ...),
 * sv:runs, sv:kept; ARGV: the TTL wanted (ms), the id.  Answers the TTL
 * the run has now (ms), never less than it had, or -2 when there is no run.
 * created_us comes from the index, or the hash (cu) for a run created more
 * than a TTL ago (the index prune took it out).
 */
static const char lua_retain[] =
    "local first, last = 1, 2\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end\n"
    "  first, last = 3, 7\n"
    "end\n"
    "local p, want = redis.call('PTTL', KEYS[first]), tonumber(ARGV[1])\n"
    "if p < want then\n"
    "  for i = first, last do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end\n"
    "  p = want\n"
    "end\n"
    "local cu = redis.call('ZSCORE', KEYS[8], ARGV[2])\n"
    "if not cu and first == 1 then cu = redis.call('HGET', KEYS[1], 'cu') end\n"
    "if cu then redis.call('ZADD', KEYS[9], cu, ARGV[2]) end\n"
    "return p\n";

/* ms left to an absolute wall-clock time. */
static int64_t wall_after(long long left_ms)
{
    int64_t now = sv_now_ms();
    return left_ms > INT64_MAX - now ? INT64_MAX : now + left_ms;
}

int sv_rd_run_retain(sv_store *st, const char *run_id, int64_t ttl_sec, int64_t *expires_ms)
{
    redisReply *r = NULL;
    if (!st || !run_id || ttl_sec <= 0 || ttl_sec > INT64_MAX / 1000)
        return -EINVAL;
    size_t n = strlen(run_id);
    int rc = sv_redis_call((struct sv_redis *)st, &r,
                           "EVAL %s 9 sv:{%b} sv:{%b}:ev sv:run:%b sv:ev:%b sv:evn:%b "
                           "sv:cancel:%b sv:sum:%b sv:runs sv:kept %lld %b",
                           lua_retain, run_id, n, run_id, n, run_id, n, run_id, n, run_id, n,
                           run_id, n, run_id, n, (long long)(ttl_sec * 1000), run_id, n);
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer == -2 ? -ENOENT : 0;
    if (rc == 0 && expires_ms)
        *expires_ms = wall_after(r->integer);
    freeReplyObject(r);
    return rc;
}

/* PTTL of one key: 0 with *left, -ENOENT when it is not there. */
static int pttl(sv_store *st, const char *fmt, const char *run_id, long long *left)
{
    redisReply *r = NULL;
    int rc = sv_redis_call((struct sv_redis *)st, &r, fmt, run_id, strlen(run_id));
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer == -2 ? -ENOENT : 0;
    if (rc == 0)
        *left = r->integer < 0 ? (long long)INT64_MAX / 2 : r->integer;
    freeReplyObject(r);
    return rc;
}

int sv_rd_run_expiry(sv_store *st, const char *run_id, int64_t *expires_ms)
{
    long long left = 0;
    if (!st || !run_id || !expires_ms)
        return -EINVAL;
    int rc = pttl(st, "PTTL sv:{%b}", run_id, &left);
    if (rc == -ENOENT) /* a run of the previous layout? */
        rc = pttl(st, "PTTL sv:run:%b", run_id, &left);
    if (rc == 0)
        *expires_ms = wall_after(left);
    return rc;
}
