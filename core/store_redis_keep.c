/*
 * store_redis_keep.c - which runs the Redis store lists and for how long:
 * listing pages (store.h run_summaries_after), retain and expiry (run_retain,
 * run_expiry).  A retained run's keys get a longer TTL; the writes' scripts
 * (store_redis.c SV_LUA_KEEP) give the later of RUN_TTL_SEC and what is
 * left, so the run keeps it through its own writes.  Its id
 * also goes into sv:kept, the index that the prune on create leaves alone,
 * so listings still show it; listings unindex it once the run is gone.
 * Runs of the previous key layout are retained in their five keys.
 */
#include "store_redis_conn.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * KEYS: sv:runs, sv:kept; ARGV: max, and the position to go on from
 * (created_us and id; '' and '': from the newest).  The summaries below the
 * position, newest first, each followed by its created_us and id, as a flat
 * list.  Retained runs are in sv:kept too, which the
 * pruning on create leaves alone: the walk merges both sets (a run in both
 * goes out once), in batches of at most 256, and goes out only as far as
 * both batches are known to hold everything above.  An id without a
 * summary is unindexed when its run has expired too, so `max` live
 * summaries come back when there are; one whose record is still there
 * (written by a daemon from before summaries) is skipped but kept: its next
 * write with a summary lists it again.  Runs of the previous layout are read
 * from their own keys.  Scores are created_us: whole numbers below 2^53,
 * exact in Lua's numbers, formatted with %.0f for Redis.
 */
const char sv_rd_lua_list[] =
    "local max, cs, cid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]\n"
    "local out, gone, n = {}, {}, 0\n"
    "local function lt(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end\n"
    "local function below(key, want)\n"
    "  local got, off = {}, 0\n"
    "  local hi = cs and string.format('%.0f', cs) or '+inf'\n"
    "  while #got < want do\n"
    "    local r = redis.call('ZREVRANGEBYSCORE', key, hi, '-inf', 'WITHSCORES', 'LIMIT', off,\n"
    "                         want - #got)\n"
    "    if #r == 0 then break end\n"
    "    for i = 1, #r, 2 do\n"
    "      local e = {tonumber(r[i + 1]), r[i]}\n"
    "      if not cs or lt(e, {cs, cid}) then got[#got + 1] = e end\n"
    "    end\n"
    "    off = off + #r / 2\n"
    "  end\n"
    "  return got\n"
    "end\n"
    "while n < max do\n"
    "  local want = math.min(256, max - n)\n"
    "  local a, k = below(KEYS[1], want), below(KEYS[2], want)\n"
    "  if #a == 0 and #k == 0 then break end\n"
    "  local la, lk = #a == want and a[#a], #k == want and k[#k]\n"
    "  local i, j = 1, 1\n"
    "  while n < max and (i <= #a or j <= #k) do\n"
    "    local e\n"
    "    if j > #k or (i <= #a and not lt(a[i], k[j])) then\n"
    "      e, i = a[i], i + 1\n"
    "      if j <= #k and k[j][1] == e[1] and k[j][2] == e[2] then j = j + 1 end\n"
    "    else\n"
    "      e, j = k[j], j + 1\n"
    "    end\n"
    "    if (la and lt(e, la)) or (lk and lt(e, lk)) then break end\n"
    "    cs, cid = e[1], e[2]\n"
    "    local h = 'sv:{' .. e[2] .. '}'\n"
    "    local s = redis.call('HGET', h, 'sum') or redis.call('GET', 'sv:sum:' .. e[2])\n"
    "    if s then\n"
    "      out[#out + 1], out[#out + 2], out[#out + 3] = s, string.format('%.0f', e[1]), e[2]\n"
    "      n = n + 1\n"
    "    elseif redis.call('EXISTS', h, 'sv:run:' .. e[2]) == 0 then gone[#gone + 1] = e[2] end\n"
    "  end\n"
    "end\n"
    "for i = 1, #gone, 256 do\n"
    "  local g = {unpack(gone, i, math.min(i + 255, #gone))}\n"
    "  redis.call('ZREM', KEYS[1], unpack(g))\n"
    "  redis.call('ZREM', KEYS[2], unpack(g))\n"
    "end\n"
    "return out\n";

int sv_rd_run_summaries_after(sv_store *st, const sv_run_pos *after, size_t max,
                              sv_strvec *summaries, sv_run_pos **pos)
{
    redisReply *r = NULL;
    char num[24], cu[24];
    sv_run_pos *p = NULL;
    if (!st || !summaries)
        return -EINVAL;
    summaries->v = NULL;
    summaries->n = 0;
    if (pos)
        *pos = NULL;
    if (max == 0)
        return 0;
    snprintf(num, sizeof num, "%llu", (unsigned long long)max);
    snprintf(cu, sizeof cu, "%lld", after ? (long long)after->created_us : 0LL);
    const char *argv[] = {"2", "sv:runs", "sv:kept", num, after ? cu : "", after ? after->id : ""};
    int rc = sv_rd_evalsha(st, SV_RD_SC_LIST, 6, argv, &r);
    if (rc == 0 && (r->type != REDIS_REPLY_ARRAY || r->elements % 3))
        rc = -EIO;
    size_t n = rc == 0 ? r->elements / 3 : 0;
    if (n && !(summaries->v = calloc(n, sizeof *summaries->v)))
        rc = -ENOMEM;
    if (rc == 0 && n && pos && !(p = calloc(n, sizeof *p)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        redisReply **e = &r->element[3 * i];
        if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING ||
            e[2]->type != REDIS_REPLY_STRING) {
            rc = -EIO;
            break;
        }
        rc = sv_redis_reply_dup(e[0], &summaries->v[i]);
        if (rc < 0)
            break;
        summaries->n++;
        if (p) {
            p[i].created_us = strtoll(e[1]->str, NULL, 10);
            snprintf(p[i].id, sizeof p[i].id, "%s", e[2]->str);
        }
    }
    freeReplyObject(r);
    if (rc < 0) {
        sv_strvec_free(summaries);
        free(p);
    } else if (pos) {
        *pos = p;
    }
    return rc;
}

/*
 * KEYS: sv:{id}, sv:{id}:ev, the previous layout's five (sv:run:id ...),
 * sv:runs, sv:kept; ARGV: the TTL wanted (ms), the id.  Answers the TTL
 * the run has now (ms), never less than it had, and when it expires (unix
 * ms, PEXPIRETIME: Redis 7; -1 before), or -2 when there is no run.
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
    "local at = redis.pcall('PEXPIRETIME', KEYS[first])\n"
    "if type(at) ~= 'number' then at = -1 end\n"
    "return {p, at}\n";

/* A script's answer of {a, b} (integers), or -2 for no run: 0, -ENOENT or
 * -EIO. */
static int pair_reply(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER && r->integer == -2)
        return -ENOENT;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER)
        return -EIO;
    return 0;
}

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
        rc = pair_reply(r);
    /* The server's absolute expiry reads the same on every instance and at
     * every ask; what is left added to our clock is the fallback. */
    if (rc == 0 && expires_ms)
        *expires_ms = r->element[1]->integer > 0 ? r->element[1]->integer
                                                 : wall_after(r->element[0]->integer);
    freeReplyObject(r);
    return rc;
}

/*
 * KEYS: sv:{id}, sv:run:id (the previous layout).  When the run expires:
 * {1, unix ms} by PEXPIRETIME (Redis 7), {0, ms left} by PTTL before, or -2
 * when there is no run.
 */
const char sv_rd_lua_expiry[] = "local k = KEYS[1]\n"
                                "if redis.call('EXISTS', k) == 0 then k = KEYS[2] end\n"
                                "local p = redis.call('PTTL', k)\n"
                                "if p == -2 then return -2 end\n"
                                "local at = redis.pcall('PEXPIRETIME', k)\n"
                                "if type(at) == 'number' and at > 0 then return {1, at} end\n"
                                "return {0, p}\n";

int sv_rd_run_expiry(sv_store *st, const char *run_id, int64_t *expires_ms)
{
    redisReply *r = NULL;
    if (!st || !run_id || !expires_ms)
        return -EINVAL;
    char k1[96], k2[96];
    /* By digest: a view of a run asks this every time. */
    if ((size_t)snprintf(k1, sizeof k1, "sv:{%s}", run_id) >= sizeof k1 ||
        (size_t)snprintf(k2, sizeof k2, "sv:run:%s", run_id) >= sizeof k2)
        return -EINVAL;
    const char *argv[] = {"2", k1, k2};
    int rc = sv_rd_evalsha(st, SV_RD_SC_EXPIRY, 3, argv, &r);
    if (rc == 0)
        rc = pair_reply(r);
    if (rc == 0)
        *expires_ms = r->element[0]->integer       ? r->element[1]->integer
                      : r->element[1]->integer < 0 ? INT64_MAX / 2
                                                   : wall_after(r->element[1]->integer);
    freeReplyObject(r);
    return rc;
}
