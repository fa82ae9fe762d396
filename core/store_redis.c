/*
 * store_redis.c - the Redis store: shared by daemon instances and durable.
 * This file is the key layout and the operations; the connection and its
 * pipeline are in store_redis_conn.c.
 *
 * Keys, all under "sv:" so the daemon can share a database with others.  A
 * run's keys share the hash tag {id}, so they sit in one Redis Cluster slot
 * and every per-run script touches one slot:
 *   sv:{id}         hash    rec: the run record (JSON); sum: its summary (JSON),
 *                           what listings return; cu: created_us; evn: how many events were ever
 *                           pushed (dropped = pushed - kept); cancel: "1" once
 *                           cancelling was asked for
 *   sv:{id}:ev      list    its kept events, oldest first
 *   sv:idem:{key}   string  an idempotency claim: the value that holds it
 *   sv:runs         zset    run ids scored by created_us (microseconds), for listing
 *   sv:kept         zset    the same for retained runs (store_redis_keep.c)
 * Listing pages are in store_redis_keep.c too.
 *   sv:queue        list    runnable run ids: pushed left, popped right
 *   sv:nodes        set     the daemon instances (nodes) known
 *   sv:node:{node}  string  a node's heartbeat, expiring
 *   sv:owned:{node} set     the run ids a node executes
 *   sv:cancels:{db} channel each cancel_set publishes its run id (store_redis_sub.c)
 * Runs written by the layout before this one (sv:run:ID, sv:sum:ID, sv:ev:ID,
 * sv:evn:ID, sv:cancel:ID: five keys, no hash tag) are still read, listed and
 * cancelled; run_upgrade moves one into this layout (recover.c calls it
 * before resuming a run), see docs/operations.md "Upgrading".
 *
 * As in store_mem, every write to a run gives its keys another TTL and reads
 * give none, so a run lives and dies as one.  The writes that must first see
 * the run exist (create, step, cancel) are short Lua scripts, sent by
 * EVALSHA (the pipe loads them on every connection, store_redis_conn.c; a
 * waited call whose script is missing sends it by EVAL).  A node's writes
 * after it ends are one script (run_step): its events, the checkpoint, the
 * summary, and the cancel flag's answer.
 *
 * The index is pruned on each create of the entries created more than a TTL
 * before the new run, and of expired ids by each listing that meets them, so
 * it stays about one TTL of creates long.  A listing so shows the live runs
 * created within a TTL of the newest, and the retained ones (sv:kept, which
 * the create leaves alone): a run kept alive longer than that by writes
 * alone stays readable but leaves the listing (store_mem keeps listing it).
 * Ids that tie on created_us list in descending id order (store_mem: newest
 * insertion first); ids are random, so no order among them means anything.
 */
#include "store_redis_conn.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* created_us - ttl in microseconds must not overflow. */
#define SV_REDIS_MAX_TTL (INT64_MAX / 1000000)

/* Longest run id a key is made of (run ids are 35 characters). */
#define SV_REDIS_ID_MAX 128
/* A run's two keys, as an EVAL key list. */
#define SV_RUN_KEYS "2 sv:{%b} sv:{%b}:ev"
#define SV_RUN_KEY_ARGS(id, n) (id), (n), (id), (n)
/* The previous layout's five keys, for reading old runs. */
#define SV_OLD_KEYS "5 sv:run:%b sv:ev:%b sv:evn:%b sv:cancel:%b sv:sum:%b"
#define SV_OLD_KEY_ARGS(id, n) (id), (n), (id), (n), (id), (n), (id), (n), (id), (n)

/* Lua: `ms`, a run's keys' new TTL in ms after a write, the later of ttl
 * (seconds) and what the key has left, applied to the key (a retained run,
 * store_redis_keep.c, has more than the TTL left: its key keeps its expiry
 * as it is, to the millisecond, and `ms` is what is left for the others). */
#define SV_LUA_KEEP(key, ttl)                                                                      \
    "local ms = redis.call('PTTL', " key ")\n"                                                     \
    "if ms < " ttl " * 1000 then\n"                                                                \
    "  ms = " ttl " * 1000\n"                                                                      \
    "  redis.call('PEXPIRE', " key ", string.format('%.0f', ms))\n"                                \
    "end\n"                                                                                        \
    "ms = string.format('%.0f', ms)\n"

/* KEYS: the run's two, sv:runs; ARGV: ttl, json, summary, created_us, prune
 * cutoff, id.  The old events deleted: an expired id starts with nothing of
 * its previous run. */
static const char lua_create[] = "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
                                 "redis.call('DEL', KEYS[2])\n"
                                 "redis.call('HSET', KEYS[1], 'rec', ARGV[2], 'sum', ARGV[3], "
                                 "'cu', ARGV[4])\n"
                                 "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
                                 "redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])\n"
                                 "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])\n"
                                 "return 1\n";
/*
 * One write of a run: append events (ARGV[7..]), keep the newest -ARGV[2],
 * replace the record (ARGV[3]) and the summary (ARGV[4]) unless empty, give
 * both keys the TTL (ARGV[1]), if ARGV[5] is the run's ownership epoch (ep,
 * 0 until a takeover).  ARGV[6] numbers the first event (0: unnumbered);
 * numbered events the run has already (ws, the last number stored) are
 * skipped, so a write applied after its caller gave up on it and sent it
 * again lands once.  Answers 0 (no run), -1 (another epoch: nothing
 * written), 1, or 2 when the run's cancel flag is set.
 */
static const char lua_step[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "if tonumber(redis.call('HGET', KEYS[1], 'ep') or '0') ~= tonumber(ARGV[5]) then\n"
    "  return -1\n"
    "end\n"
    "local from, total, seq = 7, #ARGV - 6, tonumber(ARGV[6])\n"
    "if total > 0 and seq > 0 then\n"
    "  local skip = tonumber(redis.call('HGET', KEYS[1], 'ws') or '0') - seq + 1\n"
    "  if skip > 0 then from = from + skip end\n"
    "  redis.call('HSET', KEYS[1], 'ws', seq + total - 1)\n"
    "end\n"
    "if from <= #ARGV then\n"
    "  redis.call('RPUSH', KEYS[2], unpack(ARGV, from))\n"
    "  redis.call('LTRIM', KEYS[2], ARGV[2], -1)\n"
    "  redis.call('HINCRBY', KEYS[1], 'evn', #ARGV - from + 1)\n"
    "end\n"
    "if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'rec', ARGV[3]) end\n"
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'sum', ARGV[4]) end\n" SV_LUA_KEEP(
        "KEYS[1]", "ARGV[1]") "redis.call('PEXPIRE', KEYS[2], ms)\n"
                              "return 1 + redis.call('HEXISTS', KEYS[1], 'cancel')\n";
/* A takeover: the run's next ownership epoch and its last event number
 * ({0, 0}: no run). */
static const char lua_claim[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end\n"
                                "return {redis.call('HINCRBY', KEYS[1], 'ep', 1),\n"
                                "        tonumber(redis.call('HGET', KEYS[1], 'ws') or '0')}\n";
/* ARGV: ttl, the cancels channel, the run id (published so that the
 * instance running the run hears of it at once). */
static const char lua_cancel[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'cancel', '1')\n" SV_LUA_KEEP(
        "KEYS[1]", "ARGV[1]") "redis.call('PEXPIRE', KEYS[2], ms)\n"
                              "redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
                              "return 1\n";
/* The same on a run of the previous layout (SV_OLD_KEYS). */
static const char lua_cancel_old[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('SET', KEYS[4], '1')\n" SV_LUA_KEEP(
        "KEYS[1]", "ARGV[1]") "for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], ms) end\n"
                              "redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
                              "return 1\n";
/* SV_OLD_KEYS, then the run's two new keys; ARGV: ttl.  Moves a run of the
 * previous layout into this one: 1 (moved, or already there), 0 (no run). */
static const char lua_upgrade[] =
    "if redis.call('EXISTS', KEYS[6]) == 1 then return 1 end\n"
    "local rec = redis.call('GET', KEYS[1])\n"
    "if not rec then return 0 end\n" SV_LUA_KEEP(
        "KEYS[1]", "ARGV[1]") "redis.call('HSET', KEYS[6], 'rec', rec)\n"
                              "local sum = redis.call('GET', KEYS[5])\n"
                              "if sum then redis.call('HSET', KEYS[6], 'sum', sum) end\n"
                              "local evn = redis.call('GET', KEYS[3])\n"
                              "if evn then redis.call('HSET', KEYS[6], 'evn', evn) end\n"
                              "if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('HSET', "
                              "KEYS[6], 'cancel', '1') end\n"
                              "if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', "
                              "KEYS[2], KEYS[7]) end\n"
                              "redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5])\n"
                              "redis.call('PEXPIRE', KEYS[6], ms)\n"
                              "redis.call('PEXPIRE', KEYS[7], ms)\n"
                              "return 1\n";
/* The scripts sent by EVALSHA, with their digests (made at start-up). */
static const char *const g_scripts[SV_RD_SC_N] = {lua_create,     lua_step,  lua_cancel,
                                                  sv_rd_lua_list, lua_claim, sv_rd_lua_expiry};
static char g_sha[SV_RD_SC_N][41];
static pthread_once_t g_sha_once = PTHREAD_ONCE_INIT;

static void sha_init(void)
{
    for (int i = 0; i < SV_RD_SC_N; i++) {
        unsigned char d[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)g_scripts[i], strlen(g_scripts[i]), d);
        for (int j = 0; j < SHA_DIGEST_LENGTH; j++)
            snprintf(&g_sha[i][2 * j], 3, "%02x", d[j]);
    }
}

/* A command as an argument vector (redisFormatCommandArgv), room for the
 * numbers and key names it is built from. */
typedef struct rd_args {
    int n, cap;
    const char **v;
    size_t *len;
    char keys[2][SV_REDIS_ID_MAX + 16];
    char nums[3][24];
    char epoch[24];
    char seq[24];
    int failed;
} rd_args;

static void arg_add(rd_args *a, const char *s, size_t len)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        const char **v = realloc(a->v, (size_t)cap * sizeof *v);
        size_t *l = v ? realloc(a->len, (size_t)cap * sizeof *l) : NULL;
        if (v)
            a->v = v;
        if (!v || !l) {
            a->failed = 1;
            return;
        }
        a->len = l;
        a->cap = cap;
    }
    a->v[a->n] = s;
    a->len[a->n++] = len;
}

static void arg_str(rd_args *a, const char *s)
{
    arg_add(a, s, strlen(s));
}

static void arg_num(rd_args *a, int slot, long long v)
{
    int n = snprintf(a->nums[slot], sizeof a->nums[slot], "%lld", v);
    arg_add(a, a->nums[slot], (size_t)n);
}

/* EVALSHA <digest> 2 sv:{id} sv:{id}:ev, ready for the script's arguments. */
static void args_run(rd_args *a, int which, const char *run_id)
{
    pthread_once(&g_sha_once, sha_init);
    memset(a, 0, sizeof *a);
    arg_str(a, "EVALSHA");
    arg_str(a, g_sha[which]);
    arg_str(a, "2");
    snprintf(a->keys[0], sizeof a->keys[0], "sv:{%s}", run_id);
    snprintf(a->keys[1], sizeof a->keys[1], "sv:{%s}:ev", run_id);
    arg_str(a, a->keys[0]);
    arg_str(a, a->keys[1]);
}

static void args_free(rd_args *a)
{
    free(a->v);
    free(a->len);
}

/* Run a script by its digest, and by its text when the server lacks it (a
 * restart since this connection loaded it, a SCRIPT FLUSH).  The reply in
 * *r (caller frees).  Frees a. */
static int rd_script(struct sv_redis *rs, int which, rd_args *a, redisReply **r)
{
    int rc = -ENOMEM;
    *r = NULL;
    for (int pass = 0; pass < 2 && !a->failed; pass++) {
        char *cmd = NULL;
        long long len = redisFormatCommandArgv(&cmd, a->n, a->v, a->len);
        if (len < 0) {
            rc = -ENOMEM;
            break;
        }
        rc = sv_redis_exec(rs, cmd, (size_t)len, 1, r);
        free(cmd);
        if (rc == 0 || !*r || (*r)->type != REDIS_REPLY_ERROR ||
            strncmp((*r)->str, "NOSCRIPT", 8) != 0)
            break;
        freeReplyObject(*r);
        *r = NULL;
        a->v[0] = "EVAL";
        a->len[0] = 4;
        a->v[1] = g_scripts[which];
        a->len[1] = strlen(g_scripts[which]);
    }
    if (rc < 0) {
        freeReplyObject(*r);
        *r = NULL;
    }
    args_free(a);
    return rc;
}

/* The same answering a count: 0 if positive, -ENOENT if 0; *n (may be NULL)
 * gets the count. */
static int rd_script01(struct sv_redis *rs, int which, rd_args *a, long long *n)
{
    redisReply *r = NULL;
    int rc = rd_script(rs, which, a, &r);
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer > 0 ? 0 : -ENOENT;
    if (rc == 0 && n)
        *n = r->integer;
    freeReplyObject(r);
    return rc;
}

/* Send a script by its digest without waiting (the pipe loads every script
 * on each connection it makes).  Frees a. */
static int rd_script_post(struct sv_redis *rs, rd_args *a)
{
    char *cmd = NULL;
    long long len = a->failed ? -1 : redisFormatCommandArgv(&cmd, a->n, a->v, a->len);
    args_free(a);
    if (len < 0)
        return -ENOMEM;
    return sv_redis_post(rs, cmd, (size_t)len, 1);
}

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
    r = NULL;
    /* Answering is not enough: a full server (maxmemory) answers PING but
     * refuses every write.  A tiny write that expires at once tells. */
    if (rc == 0)
        rc = sv_redis_call((struct sv_redis *)st, &r, "SET sv:probe 1 PX 1000");
    freeReplyObject(r);
    return rc;
}

static int rd_run_create(sv_store *st, const char *run_id, const char *json, const char *summary,
                         int64_t created_us)
{
    rd_args a;
    if (!st || !run_id || !json || !summary || strlen(run_id) > SV_REDIS_ID_MAX)
        return -EINVAL;
    int64_t ttl_us = st->ttl_sec * 1000000;
    int64_t cutoff = created_us < INT64_MIN + ttl_us ? INT64_MIN : created_us - ttl_us;
    args_run(&a, SV_RD_SC_CREATE, run_id);
    a.v[2] = "3";
    arg_str(&a, "sv:runs");
    arg_num(&a, 0, st->ttl_sec);
    arg_str(&a, json);
    arg_str(&a, summary);
    arg_num(&a, 1, created_us);
    arg_num(&a, 2, cutoff);
    arg_str(&a, run_id);
    int rc = rd_script01((struct sv_redis *)st, SV_RD_SC_CREATE, &a, NULL);
    return rc == -ENOENT ? -EEXIST : rc;
}

/* The arguments of one step write: events, record, summary (each optional). */
static void args_step(rd_args *a, sv_store *st, const char *run_id, const char *const *events,
                      size_t n_events, size_t cap, const char *json, const char *summary,
                      uint64_t epoch, uint64_t first_seq)
{
    args_run(a, SV_RD_SC_STEP, run_id);
    arg_num(a, 0, st->ttl_sec);
    /* LTRIM from -cap keeps the newest cap. */
    arg_num(a, 1, cap > (size_t)LLONG_MAX ? -LLONG_MAX : -(long long)cap);
    arg_str(a, json ? json : "");
    arg_str(a, summary ? summary : "");
    int n = snprintf(a->epoch, sizeof a->epoch, "%llu", (unsigned long long)epoch);
    arg_add(a, a->epoch, (size_t)n);
    n = snprintf(a->seq, sizeof a->seq, "%llu", (unsigned long long)first_seq);
    arg_add(a, a->seq, (size_t)n);
    for (size_t i = 0; i < n_events; i++)
        arg_str(a, events[i]);
}

static int rd_run_step(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                       size_t cap, const char *json, const char *summary, uint64_t epoch,
                       uint64_t first_seq, int *cancelled)
{
    rd_args a;
    redisReply *r = NULL;
    if (!st || !run_id || strlen(run_id) > SV_REDIS_ID_MAX || (n_events && !events) || cap == 0)
        return -EINVAL;
    args_step(&a, st, run_id, events, n_events, cap, json, summary, epoch, first_seq);
    int rc = rd_script((struct sv_redis *)st, SV_RD_SC_STEP, &a, &r);
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO
             : r->integer < 0               ? -ESTALE
             : r->integer == 0              ? -ENOENT
                                            : 0;
    if (rc == 0 && cancelled)
        *cancelled = r->integer > 1;
    freeReplyObject(r);
    return rc;
}

static int rd_run_step_post(sv_store *st, const char *run_id, const char *const *events,
                            size_t n_events, size_t cap, const char *json, const char *summary,
                            uint64_t epoch, uint64_t first_seq)
{
    rd_args a;
    if (!st || !run_id || strlen(run_id) > SV_REDIS_ID_MAX || (n_events && !events) || cap == 0)
        return -EINVAL;
    args_step(&a, st, run_id, events, n_events, cap, json, summary, epoch, first_seq);
    return rd_script_post((struct sv_redis *)st, &a);
}

/* The run's ownership epoch now (0 when it has none yet). */
static int epoch_of(sv_store *st, const char *run_id, uint64_t *epoch)
{
    redisReply *r = NULL;
    int rc = sv_redis_call((struct sv_redis *)st, &r, "HGET sv:{%b} ep", run_id, strlen(run_id));
    *epoch = rc == 0 && r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return rc;
}

/* A write that is no owner's step (a test, a record failed by recovery, an
 * event from the instance that took a cancel): at whatever epoch the run
 * is, read first when the first try meets another. */
static int step_any_epoch(sv_store *st, const char *run_id, const char *const *events,
                          size_t n_events, size_t cap, const char *json, const char *summary,
                          int *cancelled)
{
    uint64_t epoch = 0;
    int rc = rd_run_step(st, run_id, events, n_events, cap, json, summary, 0, 0, cancelled);
    if (rc == -ESTALE && (rc = epoch_of(st, run_id, &epoch)) == 0)
        rc = rd_run_step(st, run_id, events, n_events, cap, json, summary, epoch, 0, cancelled);
    return rc;
}

static int rd_run_put(sv_store *st, const char *run_id, const char *json, const char *summary,
                      int *cancelled)
{
    if (!json)
        return -EINVAL;
    return step_any_epoch(st, run_id, NULL, 0, 1, json, summary, cancelled);
}

static int rd_run_get(sv_store *st, const char *run_id, char **json)
{
    if (!st || !run_id || !json)
        return -EINVAL;
    size_t n = strlen(run_id);
    int rc = sv_redis_call_str(st, json, "HGET sv:{%b} rec", run_id, n);
    if (rc == -ENOENT) /* a run of the previous layout? */
        rc = sv_redis_call_str(st, json, "GET sv:run:%b", run_id, n);
    return rc;
}

int sv_rd_evalsha(sv_store *st, int which, int argc, const char *const *argv, redisReply **r)
{
    rd_args a;
    pthread_once(&g_sha_once, sha_init);
    memset(&a, 0, sizeof a);
    arg_str(&a, "EVALSHA");
    arg_str(&a, g_sha[which]);
    for (int i = 0; i < argc; i++)
        arg_str(&a, argv[i]);
    return rd_script((struct sv_redis *)st, which, &a, r);
}

static int rd_run_summaries(sv_store *st, size_t max, sv_strvec *summaries)
{
    return sv_rd_run_summaries_after(st, NULL, max, summaries, NULL);
}

static int rd_event_append(sv_store *st, const char *run_id, const char *json, size_t cap)
{
    if (!json)
        return -EINVAL;
    const char *ev[1] = {json};
    return step_any_epoch(st, run_id, ev, 1, cap, NULL, NULL, NULL);
}

/* A counter's decimal text. */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || end == s || *end || *s == '-' ? -EIO : 0;
}

/* Events and counter of one layout, in one transaction so they agree. */
static int events_of(sv_store *st, const char *run_id, const char *const *cmds, sv_strvec *events,
                     uint64_t *dropped)
{
    redisReply *x = NULL, **a;
    uint64_t pushed = 0;
    int rc = sv_redis_multi((struct sv_redis *)st, run_id, cmds, 3, &x);
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

static int rd_events_get(sv_store *st, const char *run_id, sv_strvec *events, uint64_t *dropped)
{
    static const char *const cmds[] = {"EXISTS sv:{%b}", "LRANGE sv:{%b}:ev 0 -1",
                                       "HGET sv:{%b} evn"};
    static const char *const old[] = {"EXISTS sv:run:%b", "LRANGE sv:ev:%b 0 -1", "GET sv:evn:%b"};
    if (!st || !run_id || !events || !dropped)
        return -EINVAL;
    events->v = NULL;
    events->n = 0;
    *dropped = 0;
    int rc = events_of(st, run_id, cmds, events, dropped);
    return rc == -ENOENT ? events_of(st, run_id, old, events, dropped) : rc;
}

static int rd_cancel_set(sv_store *st, const char *run_id)
{
    rd_args a;
    if (!st || !run_id || strlen(run_id) > SV_REDIS_ID_MAX)
        return -EINVAL;
    size_t n = strlen(run_id);
    struct sv_redis *rs = (struct sv_redis *)st;
    args_run(&a, SV_RD_SC_CANCEL, run_id);
    arg_num(&a, 0, st->ttl_sec);
    arg_str(&a, rs->channel);
    arg_str(&a, run_id);
    int rc = rd_script01(rs, SV_RD_SC_CANCEL, &a, NULL);
    if (rc == -ENOENT) /* a run of the previous layout? */
        rc = sv_redis_call01(st, "EVAL %s " SV_OLD_KEYS " %lld %s %b", lua_cancel_old,
                             SV_OLD_KEY_ARGS(run_id, n), (long long)st->ttl_sec, rs->channel,
                             run_id, n);
    return rc;
}

static int flag_of(sv_store *st, const char *run_id, const char *const *cmds, int *flag)
{
    redisReply *x = NULL, **a;
    int rc = sv_redis_multi((struct sv_redis *)st, run_id, cmds, 2, &x);
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

static int rd_cancel_get(sv_store *st, const char *run_id, int *flag)
{
    static const char *const cmds[] = {"EXISTS sv:{%b}", "HEXISTS sv:{%b} cancel"};
    static const char *const old[] = {"EXISTS sv:run:%b", "EXISTS sv:cancel:%b"};
    if (!st || !run_id || !flag)
        return -EINVAL;
    *flag = 0;
    int rc = flag_of(st, run_id, cmds, flag);
    return rc == -ENOENT ? flag_of(st, run_id, old, flag) : rc;
}

static int rd_run_claim(sv_store *st, const char *run_id, uint64_t *epoch, uint64_t *seq)
{
    rd_args a;
    redisReply *r = NULL;
    if (!st || !run_id || strlen(run_id) > SV_REDIS_ID_MAX || !epoch || !seq)
        return -EINVAL;
    args_run(&a, SV_RD_SC_CLAIM, run_id);
    int rc = rd_script((struct sv_redis *)st, SV_RD_SC_CLAIM, &a, &r);
    if (rc == 0 &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
         r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER))
        rc = -EIO;
    if (rc == 0 && r->element[0]->integer == 0)
        rc = -ENOENT;
    if (rc == 0) {
        *epoch = (uint64_t)r->element[0]->integer;
        *seq = (uint64_t)r->element[1]->integer;
    }
    freeReplyObject(r);
    return rc;
}

static int rd_run_upgrade(sv_store *st, const char *run_id)
{
    if (!st || !run_id)
        return -EINVAL;
    size_t n = strlen(run_id);
    return sv_redis_call01(st,
                           "EVAL %s 7 sv:run:%b sv:ev:%b sv:evn:%b sv:cancel:%b sv:sum:%b "
                           "sv:{%b} sv:{%b}:ev %lld",
                           lua_upgrade, SV_OLD_KEY_ARGS(run_id, n), run_id, n, run_id, n,
                           (long long)st->ttl_sec);
}

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
    sv_redis_pipe_stop(rs);
    if (rs->conn) /* the pipe never started */
        redisFree(rs->conn);
    if (rs->crash_conn)
        redisFree(rs->crash_conn);
    if (rs->password)
        explicit_bzero(rs->password, strlen(rs->password));
    free(rs->password);
    free(rs->host);
    free(rs->path);
    pthread_mutex_destroy(&rs->lock);
    free(rs);
}

static const sv_store_ops redis_ops = {
    .name = "redis",
    .durable = 1,
    .ping = rd_ping,
    .run_create = rd_run_create,
    .run_put = rd_run_put,
    .run_step = rd_run_step,
    .run_step_post = rd_run_step_post,
    .run_upgrade = rd_run_upgrade,
    .run_claim = rd_run_claim,
    .run_crashes = sv_rd_run_crashes,
    .crash_counts = sv_rd_crash_counts,
    .run_get = rd_run_get,
    .run_summaries = rd_run_summaries,
    .run_summaries_after = sv_rd_run_summaries_after,
    .run_retain = sv_rd_run_retain,
    .run_expiry = sv_rd_run_expiry,
    .event_append = rd_event_append,
    .events_get = rd_events_get,
    .cancel_set = rd_cancel_set,
    .cancel_get = rd_cancel_get,
    .cancel_listen = rd_cancel_listen,
    .idem_claim = sv_rd_idem_claim,
    .idem_release = sv_rd_idem_release,
    .idem_swap = sv_rd_idem_swap,
    .queue_push = sv_rd_queue_push,
    .queue_pop = sv_rd_queue_pop,
    .node_beat = sv_rd_node_beat,
    .node_look = sv_rd_node_look,
    .nodes_dead = sv_rd_nodes_dead,
    .node_forget = sv_rd_node_forget,
    .owned_add = sv_rd_owned_add,
    .owned_del = sv_rd_owned_del,
    .owned_list = sv_rd_owned_list,
    .owned_move = sv_rd_owned_move,
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
    rs->conn = c;
    pthread_once(&g_sha_once, sha_init);
    rs->scripts = g_scripts;
    rs->n_scripts = SV_RD_SC_N;
    rc = sv_redis_pipe_start(rs);
    if (rc < 0)
        goto out;
    *out = &rs->base;
out:
    if (rc < 0)
        rd_destroy(&rs->base);
    return rc;
}
