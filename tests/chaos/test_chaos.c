/*
 * test_chaos.c - many runs on two instances sharing one Redis, while the
 * instances are killed with SIGKILL and restarted at random moments (under
 * the same SUPERVISOR_NODE_ID, or a new one) and Redis is frozen once
 * (SIGSTOP, then SIGCONT).  Then, from the daemons' API, the store and the
 * router simulator's record:
 *
 *   - every start is accepted: the client sends each with an Idempotency-Key
 *     and, like a real one, retries a 503 or a lost answer with the same key
 *     on either instance; a 409 for its own retry is a failure;
 *   - every run reaches a final status, as the scenario implies (release
 *     "chaos-pass" succeeds with three passing gates, "chaos-fail" fails with
 *     job_failed, test_chain succeeds with three steps);
 *   - every run has exactly one run_end event, no event stored twice (the
 *     same ts, type and node), and is logged "run finished"
 *     at most once across every life of every instance (never for a run
 *     when a kill -9 fell between storing its end and logging it);
 *   - for each run, every start_task (and every test_chain step) it sent
 *     carries one call_id (metadata.call_id, the same as X-Request-Id): a
 *     call may be repeated (at least once), never under another call_id;
 *   - the store holds no run the client never got (all ids in sv:runs are
 *     known), no instance still executes a run once all are final, and every
 *     dead node id has been forgotten (its runs taken over).
 *
 * Not part of `make check`: tests/chaos/run.sh runs it (test.sh a short
 * version).  Randomness comes from --seed (printed); the schedule of kills,
 * restarts and the freeze and the mix of runs follow from it, the exact
 * interleaving with the daemons' threads does not.
 *
 *   test_chaos [--runs N] [--seed N] [--kills N] [--window-sec N]
 *              [--freeze-ms N] [--ttl-sec N] [--drain-sec N] [--poll-ms N]
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cu_run.h"
#include "harness.h"

/* ---- options ---- */

static struct {
    int runs;
    uint64_t seed;
    int kills;
    int window_s;
    int freeze_ms;
    int ttl_s;
    int drain_s;
    int poll_ms;
} g_opt = {.runs = 200,
           .kills = -1,
           .window_s = -1,
           .freeze_ms = 5000,
           .ttl_s = 8,
           .drain_s = 60,
           .poll_ms = 800};

/* ---- randomness: splitmix64, from the printed seed ---- */

static uint64_t g_rng;

static uint64_t rnd(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rnd01(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- the runs ---- */

enum kind { K_PASS, K_FAIL, K_CHAIN };
static const char *const kind_name[] = {"release chaos-pass", "release chaos-fail", "test_chain"};

typedef struct crun {
    enum kind kind;
    char key[64]; /* Idempotency-Key */
    char id[64];  /* "" until a 202 */
    int slot;     /* which instance answered the 202 */
    char node_id[48];
    int tries, replayed, n503, nconn, n409, nother;
    char start_problem[600];
    /* the final view */
    char status[16], code[64], message[300];
    int final, run_end, run_start, resumed, resumed_same, events;
    int dup_events; /* events stored twice: the same ts, type and node */
    char dup_example[160];
    int result_ok;
    /* the daemons' logs */
    int finished_logs;
    /* the router's record */
    int start_tasks, get_jobs, steps;
    char start_call_id[128];
    char other_call_id[400]; /* a second call_id for one logical call */
    char step_ids[4][128];
} crun;

static crun *g_runs;

/* ---- the instances ---- */

#define MAX_LIVES 256
typedef struct life {
    int slot;
    char node_id[48];
    th_proc p;
} life;

static life g_lives[MAX_LIVES];
static int g_n_lives;
static struct {
    int life; /* index in g_lives, -1 when down */
    int port;
    int ids; /* node ids used so far */
} g_slots[2];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static th_proc g_sim, g_redis;
static char g_url[64];
static long long g_t0;

/* What on_signal says (made before, as a handler may not format). */
static char g_interrupted_msg[512];

/* SIGINT/SIGTERM (a CI timeout): nothing may outlive the test, and a frozen
 * Redis would not even hear SIGTERM. */
static void on_signal(int sig)
{
    (void)sig;
    if (g_redis.pid > 0) {
        kill(g_redis.pid, SIGCONT);
        kill(g_redis.pid, SIGKILL);
    }
    for (int i = 0; i < g_n_lives && i < MAX_LIVES; i++)
        if (g_lives[i].p.pid > 0)
            kill(g_lives[i].p.pid, SIGKILL);
    if (g_sim.pid > 0)
        kill(g_sim.pid, SIGKILL);
    ssize_t w = write(2, g_interrupted_msg, strlen(g_interrupted_msg));
    (void)w;
    _exit(1);
}

static double secs(long long ms)
{
    return (double)ms / 1000.0;
}

static double now_s(void)
{
    return secs(th_mono_ms() - g_t0);
}

static int slot_port(int slot)
{
    pthread_mutex_lock(&g_lock);
    int port = g_slots[slot].life >= 0 ? g_slots[slot].port : 0;
    pthread_mutex_unlock(&g_lock);
    return port;
}

static int life_start(int slot, const char *node_id)
{
    if (g_n_lives >= MAX_LIVES)
        return -1;
    life *l = &g_lives[g_n_lives];
    char node[96], ttl[48];
    snprintf(node, sizeof node, "SUPERVISOR_NODE_ID=%s", node_id);
    snprintf(ttl, sizeof ttl, "NODE_TTL_SEC=%d", g_opt.ttl_s);
    const char *plugins[] = {"release_check", "test_chain", NULL};
    const char *env[] = {g_url, node, ttl, "SHUTDOWN_GRACE_SEC=1", NULL};
    memset(l, 0, sizeof *l);
    l->slot = slot;
    snprintf(l->node_id, sizeof l->node_id, "%s", node_id);
    if (th_daemon_start(plugins, env, &g_sim, &l->p) != 0)
        return -1;
    pthread_mutex_lock(&g_lock);
    g_slots[slot].life = g_n_lives++;
    g_slots[slot].port = l->p.port;
    pthread_mutex_unlock(&g_lock);
    return 0;
}

static void life_kill(int slot)
{
    pthread_mutex_lock(&g_lock);
    int li = g_slots[slot].life;
    g_slots[slot].life = -1;
    g_slots[slot].port = 0;
    pthread_mutex_unlock(&g_lock);
    if (li < 0)
        return;
    life *l = &g_lives[li];
    kill(l->p.pid, SIGKILL);
    int st = 0;
    waitpid(l->p.pid, &st, 0);
    l->p.pid = -1;
}

/* ---- starting runs (a thread of its own, so that a start held by the
 * frozen Redis does not hold the schedule up) ---- */

static atomic_int g_stop_starts;
/* set at the freeze: the next start goes at once, so that one is in flight
 * when the store stops answering */
static atomic_int g_start_now;
/* the first connection errors of starts, for the summary */
static char g_conn_ex[3][160];
static int g_n_conn_ex;
static redisContext *redis_conn(void);

/* What the store holds for an Idempotency-Key: the claim's run id and
 * whether that run exists. */
static void claim_of(const char *key, char *out, size_t len)
{
    redisContext *rc = redis_conn();
    redisReply *x = rc ? redisCommand(rc, "GET sv:idem:idem:chaos:%s", key) : NULL;
    char run[64] = "";
    if (x && x->type == REDIS_REPLY_STRING)
        sscanf(x->str, "%63s", run);
    if (x)
        freeReplyObject(x);
    x = rc && run[0] ? redisCommand(rc, "EXISTS sv:{%s}", run) : NULL;
    snprintf(out, len, "store: sv:idem:idem:chaos:%s -> %s, %s", key, run[0] ? run : "(none)",
             !run[0]                                             ? ""
             : x && x->type == REDIS_REPLY_INTEGER && x->integer ? "which exists"
                                                                 : "which does not exist");
    if (x)
        freeReplyObject(x);
    if (rc)
        redisFree(rc);
}

static void start_one(int i)
{
    crun *c = &g_runs[i];
    static const char *const inputs[] = {"{\"service_name\":\"chaos-pass\",\"poll_interval_ms\":%d,"
                                         "\"timeouts\":{\"overall_sec\":3600}}",
                                         "{\"service_name\":\"chaos-fail\",\"poll_interval_ms\":%d,"
                                         "\"timeouts\":{\"overall_sec\":3600}}",
                                         "{\"label\":\"chaos\"}"};
    char input[256], body[512], path[128], key_hdr[128];
    snprintf(input, sizeof input, inputs[c->kind], g_opt.poll_ms);
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"chaos\",\"user_id\":\"u1\",\"agent_id\":\"a1\",\"input\":%s}",
             input);
    snprintf(path, sizeof path, "/v1/graphs/%s/runs",
             c->kind == K_CHAIN ? "test_chain" : "release_check");
    int slot = i % 2;
    long long deadline = th_mono_ms() + 120000;
    while (th_mono_ms() < deadline && !g_stop_starts) {
        int port = slot_port(slot);
        if (!port) {
            slot ^= 1;
            if (!(port = slot_port(slot))) {
                th_poll_pause();
                continue;
            }
        }
        snprintf(key_hdr, sizeof key_hdr, "Idempotency-Key: %s", c->key);
        const char *hdr[] = {"Content-Type: application/json", key_hdr, NULL};
        th_resp r;
        int rc = th_http("POST", port, path, body, hdr, &r);
        c->tries++;
        const char *id = th_get_str(r.json, "run_id");
        if (rc == 0 && r.status == 202 && id) {
            snprintf(c->id, sizeof c->id, "%s", id);
            c->slot = slot;
            pthread_mutex_lock(&g_lock);
            if (g_slots[slot].life >= 0)
                snprintf(c->node_id, sizeof c->node_id, "%s", g_lives[g_slots[slot].life].node_id);
            pthread_mutex_unlock(&g_lock);
            c->replayed = strstr(r.headers, "Idempotent-Replayed") != NULL;
            th_resp_free(&r);
            return;
        }
        if (rc != 0 || r.status == 0) {
            c->nconn++; /* killed under the request, or not listening yet */
            if (g_n_conn_ex < 3)
                snprintf(g_conn_ex[g_n_conn_ex++], sizeof g_conn_ex[0],
                         "start %d at %.2f s to port %d (instance %c, %s): %s", i, now_s(), port,
                         "ab"[slot], slot_port(slot) == port ? "still up" : "killed since",
                         rc != 0 ? "no answer" : "HTTP 0");
            slot ^= 1;
        } else if (r.status == 503) {
            c->n503++;
            slot ^= 1;
        } else if (r.status == 409) {
            /* The key is spent without a run the client ever heard of: a
             * finding.  Go on under a new key so the run is still made. */
            c->n409++;
            char claim[200];
            claim_of(c->key, claim, sizeof claim);
            if (!c->start_problem[0])
                snprintf(c->start_problem, sizeof c->start_problem,
                         "start %d (key %s), try %d at %.1f s: 409 %s: %s (after %d 503, %d "
                         "connection errors); %s",
                         i, c->key, c->tries, now_s(), th_get_str(r.json, "error.code"),
                         th_get_str(r.json, "error.message"), c->n503, c->nconn, claim);
            size_t n = strlen(c->key);
            if (n + 2 < sizeof c->key)
                memcpy(c->key + n, "-2", 3);
        } else {
            c->nother++;
            if (!c->start_problem[0])
                snprintf(c->start_problem, sizeof c->start_problem,
                         "start %d (key %s): HTTP %ld %.150s", i, c->key, r.status, r.body);
            slot ^= 1;
        }
        th_resp_free(&r);
        th_poll_pause();
    }
    if (!c->start_problem[0])
        snprintf(c->start_problem, sizeof c->start_problem,
                 "start %d (key %s): no 202 in 120 s (%d tries)", i, c->key, c->tries);
}

static void *starter(void *arg)
{
    (void)arg;
    long long span = (long long)g_opt.window_s * 1000 * 85 / 100;
    for (int i = 0; i < g_opt.runs && !g_stop_starts; i++) {
        long long due = g_t0 + span * i / g_opt.runs;
        while (th_mono_ms() < due && !g_stop_starts && !atomic_exchange(&g_start_now, 0))
            th_poll_pause();
        start_one(i);
    }
    return NULL;
}

/* ---- the schedule of kills, restarts and the freeze ---- */

enum act_type { A_KILL, A_RESTART, A_FREEZE, A_THAW };
enum restart_how { R_QUICK, R_AROUND_TTL, R_NEW_ID };
static const char *const how_name[] = {"same id, soon", "same id, about when its heartbeat lapses",
                                       "a new id"};

typedef struct act {
    long long at; /* ms after g_t0 */
    enum act_type type;
    int slot;
    int tag;  /* a kill and its restart share one */
    int pair; /* a kill: the index of its restart */
    enum restart_how how;
    int done_slot; /* a restart: the slot its kill took down, -1: none */
} act;

static act *g_acts;
static int g_n_acts;

static int act_cmp(const void *a, const void *b)
{
    const act *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

static void plan(void)
{
    long long w = (long long)g_opt.window_s * 1000, ttl = (long long)g_opt.ttl_s * 1000;
    g_acts = calloc((size_t)g_opt.kills * 2 + 2, sizeof *g_acts);
    long long freeze_at = w * 3 / 10 + (long long)(rnd01() * (double)(w * 4 / 10));
    long long thaw_at = freeze_at + g_opt.freeze_ms;
    for (int k = 0; k < g_opt.kills; k++) {
        act *kl = &g_acts[g_n_acts++], *rs = &g_acts[g_n_acts++];
        kl->type = A_KILL;
        kl->at = w / 20 + (long long)(rnd01() * (double)(w * 80 / 100));
        kl->slot = (int)(rnd() % 2);
        kl->tag = rs->tag = k;
        double u = rnd01();
        rs->type = A_RESTART;
        rs->how = u < 0.35 ? R_QUICK : u < 0.65 ? R_AROUND_TTL : R_NEW_ID;
        long long delay = rs->how == R_QUICK ? 200 + (long long)(rnd01() * 1300)
                          : rs->how == R_AROUND_TTL
                              ? ttl * 8 / 10 + (long long)(rnd01() * (double)ttl * 0.8)
                              : 200 + (long long)(rnd01() * (double)ttl * 1.5);
        rs->at = kl->at + delay;
        /* a daemon cannot start while Redis is frozen (it exits): not then */
        if (rs->at > freeze_at - 1000 && rs->at < thaw_at + 500)
            rs->at = thaw_at + 500 + (rs->at - freeze_at + 1000) % 1000;
        rs->done_slot = -1;
    }
    if (g_opt.freeze_ms > 0) { /* --freeze-ms 0: no freeze */
        g_acts[g_n_acts++] = (act){.at = freeze_at, .type = A_FREEZE, .tag = -1};
        g_acts[g_n_acts++] = (act){.at = thaw_at, .type = A_THAW, .tag = -1};
    }
    qsort(g_acts, (size_t)g_n_acts, sizeof *g_acts, act_cmp);
    for (int i = 0; i < g_n_acts; i++) {
        g_acts[i].pair = -1;
        for (int j = 0; g_acts[i].type == A_KILL && j < g_n_acts; j++)
            if (g_acts[j].type == A_RESTART && g_acts[j].tag == g_acts[i].tag)
                g_acts[i].pair = j;
    }
}

/* What happened, for the summary. */
static struct {
    int kills, kills_skipped, restarts[3], restart_failures, freezes;
    long long freeze_from, freeze_to;
} g_log;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("  %6.2f s  %s\n", now_s(), line);
    fflush(stdout);
}

static void restart(int slot, enum restart_how how)
{
    char id[48];
    if (slot_port(slot))
        return;
    /* the id of the slot's last life */
    const char *last = NULL;
    for (int i = g_n_lives - 1; i >= 0 && !last; i--)
        if (g_lives[i].slot == slot)
            last = g_lives[i].node_id;
    if (how == R_NEW_ID || !last)
        snprintf(id, sizeof id, "chaos-%c-%d", "ab"[slot], ++g_slots[slot].ids);
    else
        snprintf(id, sizeof id, "%s", last);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (life_start(slot, id) == 0) {
            g_log.restarts[how]++;
            note("restarted %s (%s) on port %d", id, how_name[how], slot_port(slot));
            return;
        }
        g_log.restart_failures++;
        note("restart of %s failed (attempt %d)", id, attempt + 1);
    }
}

static void run_schedule(void)
{
    for (int i = 0; i < g_n_acts; i++) {
        act *a = &g_acts[i];
        while (th_mono_ms() < g_t0 + a->at)
            th_poll_pause();
        switch (a->type) {
        case A_KILL: {
            int s = a->slot;
            if (!slot_port(s))
                s ^= 1;
            if (!slot_port(s)) {
                g_log.kills_skipped++;
                break;
            }
            int li = g_slots[s].life;
            int pid = (int)g_lives[li].p.pid;
            life_kill(s);
            g_log.kills++;
            note("kill -9 %s (pid %d)", g_lives[li].node_id, pid);
            if (a->pair >= 0)
                g_acts[a->pair].done_slot = s;
            break;
        }
        case A_RESTART:
            if (a->done_slot >= 0)
                restart(a->done_slot, a->how);
            break;
        case A_FREEZE:
            /* the freeze is for instances at work: both up first */
            for (int s = 0; s < 2; s++)
                if (!slot_port(s))
                    restart(s, R_QUICK);
            kill(g_redis.pid, SIGSTOP);
            atomic_store(&g_start_now, 1);
            g_log.freezes++;
            g_log.freeze_from = th_mono_ms();
            note("Redis frozen (SIGSTOP)");
            break;
        case A_THAW:
            /* the restarts before the freeze may have started it late */
            while (th_mono_ms() < g_log.freeze_from + g_opt.freeze_ms)
                th_poll_pause();
            kill(g_redis.pid, SIGCONT);
            g_log.freeze_to = th_mono_ms();
            note("Redis thawed (SIGCONT) after %lld ms", g_log.freeze_to - g_log.freeze_from);
            break;
        }
    }
    /* both up for the end */
    for (int s = 0; s < 2; s++)
        if (!slot_port(s))
            restart(s, R_QUICK);
}

/* ---- looking at the result ---- */

static json_object *view_of(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    for (int attempt = 0; attempt < 20; attempt++) {
        int port = attempt % 2 ? slot_port(1) : slot_port(0);
        th_resp r;
        if (port && th_http("GET", port, path, NULL, NULL, &r) == 0 && r.status == 200) {
            json_object *v = json_object_get(r.json);
            th_resp_free(&r);
            return v;
        }
        th_resp_free(&r);
        th_poll_pause();
    }
    return NULL;
}

static int is_final(const char *s)
{
    return s &&
           (strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0);
}

/* Everything final in the store, within the deadline?  The count not. */
static int drain(long long deadline)
{
    int left = 0;
    do {
        left = 0;
        for (int i = 0; i < g_opt.runs; i++) {
            crun *c = &g_runs[i];
            if (!c->id[0] || c->final)
                continue;
            json_object *v = view_of(c->id);
            if (is_final(th_get_str(v, "status")))
                c->final = 1;
            else
                left++;
            json_object_put(v);
        }
        if (left)
            th_poll_pause();
    } while (left && th_mono_ms() < deadline);
    return left;
}

static long long metric(int port, const char *name)
{
    th_resp r;
    long long v = -1;
    if (th_http("GET", port, "/metrics", NULL, NULL, &r) == 0 && r.status == 200) {
        char needle[128];
        snprintf(needle, sizeof needle, "\n%s ", name);
        const char *p = strstr(r.body, needle);
        if (p)
            v = atoll(p + strlen(needle));
    }
    th_resp_free(&r);
    return v;
}

static redisContext *redis_conn(void)
{
    redisContext *c = redisConnect("127.0.0.1", g_redis.port);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* The members of a Redis set or sorted set, as a NULL-terminated vector. */
static char **redis_list(redisContext *rc, const char *cmd, const char *arg)
{
    redisReply *x = redisCommand(rc, cmd, arg);
    char **v = NULL;
    if (x && x->type == REDIS_REPLY_ARRAY) {
        v = calloc(x->elements + 1, sizeof *v);
        for (size_t i = 0; v && i < x->elements; i++)
            v[i] = strdup(x->element[i]->str ? x->element[i]->str : "");
    }
    if (x)
        freeReplyObject(x);
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Dead node ids still known to the store (in sv:nodes but not a current
 * life's id), into out; their count. */
static int stale_nodes(char *out, size_t len)
{
    redisContext *rc = redis_conn();
    int n = 0;
    out[0] = '\0';
    if (!rc)
        return -1;
    char **nodes = redis_list(rc, "SMEMBERS %s", "sv:nodes");
    for (size_t i = 0; nodes && nodes[i]; i++) {
        int current = 0;
        for (int s = 0; s < 2; s++) {
            pthread_mutex_lock(&g_lock);
            int li = g_slots[s].life;
            pthread_mutex_unlock(&g_lock);
            if (li >= 0 && strcmp(g_lives[li].node_id, nodes[i]) == 0)
                current = 1;
        }
        if (!current) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%s", n ? ", " : "", nodes[i]);
            n++;
        }
    }
    strv_free(nodes);
    redisFree(rc);
    return n;
}

/* Quiet: both instances execute nothing and every dead node id is
 * forgotten (its owned set moved), within the deadline. */
static int settle(long long deadline, char *why, size_t len)
{
    for (;;) {
        long long live0 = metric(slot_port(0), "sofiia_runs_live");
        long long live1 = metric(slot_port(1), "sofiia_runs_live");
        char stale[512];
        int n_stale = stale_nodes(stale, sizeof stale);
        if (live0 == 0 && live1 == 0 && n_stale == 0)
            return 0;
        if (th_mono_ms() >= deadline) {
            snprintf(why, len,
                     "sofiia_runs_live %lld and %lld; node ids dead but still known: %s (%d)",
                     live0, live1, n_stale ? stale : "none", n_stale);
            return -1;
        }
        th_poll_pause();
    }
}

/* The runs by id, for the record's and the logs' lookups. */
typedef struct idref {
    const char *id;
    int i;
} idref;
static idref *g_ids;
static int g_n_ids;

static int id_cmp(const void *a, const void *b)
{
    return strcmp(((const idref *)a)->id, ((const idref *)b)->id);
}

static void index_ids(void)
{
    g_ids = calloc((size_t)g_opt.runs + 1, sizeof *g_ids);
    for (int i = 0; g_ids && i < g_opt.runs; i++)
        if (g_runs[i].id[0])
            g_ids[g_n_ids++] = (idref){g_runs[i].id, i};
    if (g_ids)
        qsort(g_ids, (size_t)g_n_ids, sizeof *g_ids, id_cmp);
}

static crun *run_by_id(const char *id)
{
    idref key = {id, 0}, *hit;
    if (!id || !g_ids)
        return NULL;
    hit = bsearch(&key, g_ids, (size_t)g_n_ids, sizeof *g_ids, id_cmp);
    return hit ? &g_runs[hit->i] : NULL;
}

static void read_views(void)
{
    for (int i = 0; i < g_opt.runs; i++) {
        crun *c = &g_runs[i];
        if (!c->id[0])
            continue;
        json_object *v = view_of(c->id);
        snprintf(c->status, sizeof c->status, "%s",
                 th_get_str(v, "status") ? th_get_str(v, "status") : "?");
        snprintf(c->code, sizeof c->code, "%s",
                 th_get_str(v, "error.code") ? th_get_str(v, "error.code") : "");
        snprintf(c->message, sizeof c->message, "%s",
                 th_get_str(v, "error.message") ? th_get_str(v, "error.message") : "");
        c->final = is_final(th_get_str(v, "status"));
        c->run_end = th_count_events(v, "run_end");
        c->run_start = th_count_events(v, "run_start");
        c->resumed = th_count_events(v, "run_resumed");
        c->events = (int)th_len(v, "events");
        json_object *ev = th_get(v, "events");
        for (long k = 0; ev && k < c->events; k++) {
            json_object *e = json_object_array_get_idx(ev, (size_t)k);
            for (long m = 0; m < k; m++) {
                json_object *o = json_object_array_get_idx(ev, (size_t)m);
                const char *n1 = th_get_str(e, "node"), *n2 = th_get_str(o, "node");
                if (th_get_str(e, "ts") && th_get_str(o, "ts") &&
                    strcmp(th_get_str(e, "ts"), th_get_str(o, "ts")) == 0 &&
                    strcmp(th_get_str(e, "type"), th_get_str(o, "type")) == 0 &&
                    ((!n1 && !n2) || (n1 && n2 && strcmp(n1, n2) == 0))) {
                    if (!c->dup_events++)
                        snprintf(c->dup_example, sizeof c->dup_example, "%s %s %s",
                                 th_get_str(e, "ts"), th_get_str(e, "type"), n1 ? n1 : "-");
                    break;
                }
            }
            const char *t = th_get_str(e, "type");
            const char *from = th_get_str(e, "details.from_node_id"),
                       *to = th_get_str(e, "details.node_id");
            if (t && strcmp(t, "run_resumed") == 0 && from && to && strcmp(from, to) == 0)
                c->resumed_same++;
        }
        switch (c->kind) {
        case K_PASS:
            c->result_ok = strcmp(c->status, "succeeded") == 0 &&
                           json_object_get_boolean(th_get(v, "result.pass")) &&
                           th_streq(th_get_str(v, "result.summary"), "All 3 gates passed.") &&
                           th_len(v, "result.gates") == 3;
            break;
        case K_FAIL:
            c->result_ok = strcmp(c->status, "failed") == 0 && strcmp(c->code, "job_failed") == 0 &&
                           strstr(c->message, "release_check job fail-job failed: pipeline_error");
            break;
        case K_CHAIN:
            c->result_ok = strcmp(c->status, "succeeded") == 0 &&
                           th_get_int(v, "result.steps", 0) == 3 &&
                           th_get_int(v, "result.last.n", 0) == 3;
            break;
        }
        json_object_put(v);
    }
}

/* The router's record: per run, its start_tasks and steps and their ids. */
static struct {
    int requests, unknown_run, xrid_mismatch;
    char unknown_example[160], mismatch_example[300];
} g_rec;

static void read_record(void)
{
    json_object *reqs = th_sim_requests(&g_sim);
    size_t n = reqs ? json_object_array_length(reqs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *q = json_object_array_get_idx(reqs, i);
        const char *run = th_get_str(q, "body.metadata.graph_run_id");
        const char *action = th_get_str(q, "body.action");
        const char *call_id = th_get_str(q, "body.metadata.call_id");
        const char *xrid = th_get_str(q, "x_request_id");
        g_rec.requests++;
        if (!call_id || !xrid || strcmp(call_id, xrid) != 0) {
            if (!g_rec.xrid_mismatch++)
                snprintf(g_rec.mismatch_example, sizeof g_rec.mismatch_example,
                         "run %s %s: metadata.call_id %s, X-Request-Id %s", run ? run : "?",
                         action ? action : "?", call_id ? call_id : "(none)",
                         xrid ? xrid : "(none)");
        }
        crun *c = run_by_id(run);
        if (!c) {
            if (!g_rec.unknown_run++)
                snprintf(g_rec.unknown_example, sizeof g_rec.unknown_example, "%s %s %s",
                         run ? run : "(no run id)", action ? action : "?", call_id ? call_id : "?");
            continue;
        }
        if (!action || !call_id)
            continue;
        char *slot_id = NULL;
        if (strcmp(action, "start_task") == 0) {
            c->start_tasks++;
            slot_id = c->start_call_id;
        } else if (strcmp(action, "get_job") == 0) {
            c->get_jobs++;
        } else if (strcmp(action, "step") == 0) {
            c->steps++;
            long long k = th_get_int(q, "body.params.n", 0);
            if (k >= 1 && k <= 3)
                slot_id = c->step_ids[k];
        }
        if (slot_id) {
            if (!slot_id[0])
                snprintf(slot_id, 128, "%s", call_id);
            else if (strcmp(slot_id, call_id) != 0 && !c->other_call_id[0])
                snprintf(c->other_call_id, sizeof c->other_call_id, "%s %s (first: %s)", action,
                         call_id, slot_id);
        }
    }
    json_object_put(reqs);
}

/* The daemons' logs: takeovers, and "run finished" per run. */
static struct {
    int resumed, gone_lines, startup_lines, save_errors, error_lines, stale, end_retries;
} g_logs;

static int count_in(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void read_logs(void)
{
    for (int li = 0; li < g_n_lives; li++) {
        char *log = th_read_file(g_lives[li].p.log_path, NULL);
        if (!log)
            continue;
        g_logs.resumed += count_in(log, "\"msg\":\"run resumed\"");
        g_logs.gone_lines += count_in(log, "is gone;");
        g_logs.startup_lines += count_in(log, "start-up: ");
        g_logs.save_errors += count_in(log, "cannot save its record");
        g_logs.error_lines += count_in(log, "\"level\":\"error\"");
        g_logs.stale += count_in(log, "took it over while this one was cut off");
        g_logs.end_retries += count_in(log, "but the store does not have it yet");
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
            if (!strstr(line, "\"msg\":\"run finished\""))
                continue;
            const char *p = strstr(line, "\"run_id\":\"");
            char id[64];
            if (!p || sscanf(p + 10, "%63[^\"]", id) != 1)
                continue;
            crun *c = run_by_id(id);
            if (c)
                c->finished_logs++;
        }
        free(log);
    }
}

/* Which owned sets hold a run, and which Idempotency-Key claims name it. */
static void phantom_where(redisContext *rc, const char *id, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    char **sets = redis_list(rc, "KEYS %s", "sv:owned:*");
    for (size_t i = 0; sets && sets[i]; i++) {
        redisReply *x = redisCommand(rc, "SISMEMBER %s %s", sets[i], id);
        if (x && x->type == REDIS_REPLY_INTEGER && x->integer && used < len)
            used += (size_t)snprintf(out + used, len - used, "in %s, ", sets[i]);
        if (x)
            freeReplyObject(x);
    }
    strv_free(sets);
    char **claims = redis_list(rc, "KEYS %s", "sv:idem:*");
    for (size_t i = 0; claims && claims[i]; i++) {
        redisReply *x = redisCommand(rc, "GET %s", claims[i]);
        if (x && x->type == REDIS_REPLY_STRING && strncmp(x->str, id, strlen(id)) == 0 &&
            used < len)
            used += (size_t)snprintf(out + used, len - used, "claimed by %s, ", claims[i]);
        if (x)
            freeReplyObject(x);
    }
    strv_free(claims);
    if (used < len)
        snprintf(out + used, len - used, "%s", used ? "" : "in no owned set, no claim names it");
    else
        out[len - 1] = '\0';
}

/* Every run id in the store that the client never got a 202 for. */
static int phantoms(char *out, size_t len, int *unfinished)
{
    redisContext *rc = redis_conn();
    int n = 0;
    *unfinished = 0;
    out[0] = '\0';
    if (!rc)
        return -1;
    char **ids = redis_list(rc, "ZRANGE %s 0 -1", "sv:runs");
    for (size_t i = 0; ids && ids[i]; i++) {
        if (run_by_id(ids[i]))
            continue;
        json_object *v = view_of(ids[i]);
        const char *st = th_get_str(v, "status");
        if (!is_final(st))
            (*unfinished)++;
        if (n < 5) {
            char where[256];
            phantom_where(rc, ids[i], where, sizeof where);
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%s (%s, graph %s, %ld events; %s)", n ? "; " : "",
                     ids[i], st ? st : "?", th_get_str(v, "graph") ? th_get_str(v, "graph") : "?",
                     th_len(v, "events"), where);
        }
        n++;
        json_object_put(v);
    }
    strv_free(ids);
    redisFree(rc);
    return n;
}

/* Where a run that misbehaved stands: its events, the router's calls and
 * every log line naming it. */
static void evidence(const crun *c)
{
    printf("    --- %s (%s), accepted by %s; status %s %s\n", c->id, kind_name[c->kind], c->node_id,
           c->status, c->code);
    json_object *v = view_of(c->id);
    json_object *ev = th_get(v, "events");
    for (long k = 0; ev && k < th_len(v, "events"); k++) {
        json_object *e = json_object_array_get_idx(ev, (size_t)k);
        printf("      event %s %-12s %-10s %s\n", th_get_str(e, "ts"), th_get_str(e, "type"),
               th_get_str(e, "node") ? th_get_str(e, "node") : "-",
               json_object_to_json_string_ext(th_get(e, "details"), JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(v);
    json_object *reqs = th_sim_requests(&g_sim);
    for (size_t i = 0; reqs && i < json_object_array_length(reqs); i++) {
        json_object *q = json_object_array_get_idx(reqs, i);
        const char *run = th_get_str(q, "body.metadata.graph_run_id");
        if (run && strcmp(run, c->id) == 0)
            printf("      router %lld %s %s\n", th_get_int(q, "ts_ms", 0),
                   th_get_str(q, "body.action"), th_get_str(q, "body.metadata.call_id"));
    }
    json_object_put(reqs);
    for (int li = 0; li < g_n_lives; li++) {
        char *log = th_read_file(g_lives[li].p.log_path, NULL);
        for (char *line = log ? strtok(log, "\n") : NULL; line; line = strtok(NULL, "\n"))
            if (strstr(line, c->id))
                printf("      log %s (life %d): %s\n", g_lives[li].node_id, li, line);
        free(log);
    }
}

/* ---- the test ---- */

static int suite_init(void)
{
    if (th_redis_start(&g_redis) != 0)
        return -1;
    snprintf(g_url, sizeof g_url, "REDIS_URL=redis://127.0.0.1:%d/0", g_redis.port);
    return th_sim_start("tests/chaos/scenario.json", NULL, &g_sim);
}

static int suite_clean(void)
{
    g_stop_starts = 1;
    for (int s = 0; s < 2; s++)
        life_kill(s); /* only if a failed assertion left them; the test stops them cleanly */
    th_proc_stop(&g_sim, 5000);
    if (g_redis.pid > 0)
        kill(g_redis.pid, SIGCONT);
    th_proc_stop(&g_redis, 5000);
    return 0;
}

static void test_chaos(void)
{
    long long t_begin = th_mono_ms();
    int counts[3] = {0, 0, 0};
    g_runs = calloc((size_t)g_opt.runs, sizeof *g_runs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_runs);
    for (int i = 0; i < g_opt.runs; i++) {
        double u = rnd01();
        g_runs[i].kind = u < 0.6 ? K_PASS : u < 0.8 ? K_FAIL : K_CHAIN;
        counts[g_runs[i].kind]++;
        snprintf(g_runs[i].key, sizeof g_runs[i].key, "chaos-%" PRIu64 "-%d", g_opt.seed, i);
    }
    plan();
    for (int s = 0; s < 2; s++)
        g_slots[s].life = -1;
    CU_ASSERT_FATAL(life_start(0, "chaos-a") == 0);
    CU_ASSERT_FATAL(life_start(1, "chaos-b") == 0);
    printf("\nchaos: %d runs (%d release pass, %d release fail, %d test_chain) over %d s on "
           "instances chaos-a (port %d) and chaos-b (port %d), Redis on %d, NODE_TTL_SEC=%d\n",
           g_opt.runs, counts[0], counts[1], counts[2], g_opt.window_s, slot_port(0), slot_port(1),
           g_redis.port, g_opt.ttl_s);

    g_t0 = th_mono_ms();
    pthread_t th;
    CU_ASSERT_FATAL(pthread_create(&th, NULL, starter, NULL) == 0);
    run_schedule();
    pthread_join(th, NULL);
    int accepted = 0;
    for (int i = 0; i < g_opt.runs; i++)
        accepted += g_runs[i].id[0] != 0;
    note("all starts answered (%d of %d accepted); waiting for every run to end", accepted,
         g_opt.runs);

    long long deadline = th_mono_ms() + (long long)g_opt.drain_s * 1000;
    int left = drain(deadline);
    char why[800] = "";
    int quiet = settle(deadline + 20000, why, sizeof why);
    note("%s; %s", left ? "some runs did not end" : "every run ended",
         quiet == 0 ? "both instances idle, no dead node id left" : why);

    index_ids();
    read_views();
    read_record();
    read_logs();
    char ph[2048];
    int ph_unfinished = 0, n_ph = phantoms(ph, sizeof ph, &ph_unfinished);

    /* tallies */
    int not_final = 0, not_started = 0, bad_result = 0, end_not_one = 0, fin_twice = 0,
        fin_none = 0, diff_ids = 0, start_problems = 0, replayed = 0, n503 = 0, nconn = 0, n409 = 0,
        resumed_runs = 0, resumed_same = 0, resumes = 0, starts_not_one = 0, dup_runs = 0;
    int st_hist[5] = {0}; /* start_task per release run: 0, 1, 2, 3, 4+ */
    struct {
        char what[96];
        int n;
    } outcomes[16];
    int n_out = 0;
    for (int i = 0; i < g_opt.runs; i++) {
        crun *c = &g_runs[i];
        replayed += c->replayed;
        n503 += c->n503;
        nconn += c->nconn;
        n409 += c->n409;
        if (c->start_problem[0])
            start_problems++;
        if (!c->id[0]) {
            not_started++;
            continue;
        }
        not_final += !c->final;
        bad_result += c->final && !c->result_ok;
        end_not_one += c->run_end != 1;
        fin_twice += c->finished_logs > 1;
        fin_none += c->finished_logs == 0;
        starts_not_one += c->run_start != 1;
        dup_runs += c->dup_events > 0;
        diff_ids += c->other_call_id[0] != 0;
        resumed_runs += c->resumed > 0;
        resumes += c->resumed;
        resumed_same += c->resumed_same;
        if (c->kind != K_CHAIN)
            st_hist[c->start_tasks < 4 ? c->start_tasks : 4]++;
        char what[96];
        snprintf(what, sizeof what, "%s%s%s", c->status, c->code[0] ? " " : "", c->code);
        int k = 0;
        while (k < n_out && strcmp(outcomes[k].what, what) != 0)
            k++;
        if (k == n_out && n_out < 16) {
            snprintf(outcomes[n_out].what, sizeof outcomes[0].what, "%s", what);
            outcomes[n_out++].n = 0;
        }
        if (k < 16)
            outcomes[k].n++;
    }

    printf("\nchaos summary (seed %" PRIu64 "; again: tests/chaos/run.sh --seed %" PRIu64
           " --runs %d --kills %d --window-sec %d --freeze-ms %d --ttl-sec %d)\n",
           g_opt.seed, g_opt.seed, g_opt.runs, g_opt.kills, g_opt.window_s, g_opt.freeze_ms,
           g_opt.ttl_s);
    printf("  duration        %.1f s (%.1f s of starts and chaos, then the end of every run)\n",
           secs(th_mono_ms() - t_begin), now_s());
    printf("  runs            %d started (%d release pass, %d release fail, %d test_chain), %d "
           "never accepted\n",
           accepted, counts[0], counts[1], counts[2], not_started);
    printf("  starts          %d answered 503, %d lost connections, %d 409, %d replayed by "
           "Idempotency-Key after a lost answer\n",
           n503, nconn, n409, replayed);
    for (int k = 0; k < g_n_conn_ex; k++)
        printf("                  connection error: %s\n", g_conn_ex[k]);
    printf("  kills           %d kill -9 (%d skipped: both down); restarts: %d same id soon, %d "
           "same id about the heartbeat's lapse, %d new id; %d restart failures\n",
           g_log.kills, g_log.kills_skipped, g_log.restarts[R_QUICK], g_log.restarts[R_AROUND_TTL],
           g_log.restarts[R_NEW_ID], g_log.restart_failures);
    printf("  Redis freeze    %d, %lld ms\n", g_log.freezes, g_log.freeze_to - g_log.freeze_from);
    printf("  takeovers       %d runs resumed %d times (%d by a restart under the same id, %d by "
           "another instance); logs: %d \"run resumed\", %d \"is gone\", %d \"start-up: N "
           "run(s) resumed\"\n",
           resumed_runs, resumes, resumed_same, resumes - resumed_same, g_logs.resumed,
           g_logs.gone_lines, g_logs.startup_lines);
    printf("  start_task      per release run: 0 calls %d, 1 call %d, 2 calls %d, 3 calls %d, 4+ "
           "%d; runs with a call under two call_ids: %d\n",
           st_hist[0], st_hist[1], st_hist[2], st_hist[3], st_hist[4], diff_ids);
    printf("  router          %d tool calls recorded; %d for runs the client never started; %d "
           "with X-Request-Id != metadata.call_id\n",
           g_rec.requests, g_rec.unknown_run, g_rec.xrid_mismatch);
    printf("  outcomes       ");
    for (int k = 0; k < n_out; k++)
        printf(" %s: %d;", outcomes[k].what, outcomes[k].n);
    printf("\n  ends            %d not final, %d with run_end != 1, %d logged \"run finished\" "
           "more than once (%d never: killed in between), %d with run_start != 1, %d not as the "
           "scenario implies, %d with an event stored twice\n",
           not_final, end_not_one, fin_twice, fin_none, starts_not_one, bad_result, dup_runs);
    printf("  store           %d runs nobody was told of (%d not final)%s%s; %s\n", n_ph,
           ph_unfinished, n_ph ? ": " : "", n_ph ? ph : "", quiet == 0 ? "settled" : why);
    printf("  daemon logs     %d \"cannot save its record\", %d error lines, %d run ends written "
           "again later, %d runs given up by a fenced (stale) owner\n",
           g_logs.save_errors, g_logs.error_lines, g_logs.end_retries, g_logs.stale);

    /* evidence for each kind of problem (a few runs each) */
    int shown = 0;
    for (int i = 0; i < g_opt.runs; i++) {
        crun *c = &g_runs[i];
        if (c->start_problem[0])
            printf("  PROBLEM start: %s\n", c->start_problem);
        if (!c->id[0])
            continue;
        char what[512] = "";
        if (!c->final)
            snprintf(what, sizeof what, "not final (%s)", c->status);
        else if (c->run_end != 1)
            snprintf(what, sizeof what, "%d run_end events", c->run_end);
        else if (c->finished_logs > 1)
            snprintf(what, sizeof what, "logged \"run finished\" %d times", c->finished_logs);
        else if (c->dup_events)
            snprintf(what, sizeof what, "%d events stored twice, e.g. %s", c->dup_events,
                     c->dup_example);
        else if (c->other_call_id[0])
            snprintf(what, sizeof what, "two call_ids for one call: %s", c->other_call_id);
        else if (!c->result_ok)
            snprintf(what, sizeof what, "unexpected outcome %s %s: %.150s", c->status, c->code,
                     c->message);
        if (!what[0])
            continue;
        printf("  PROBLEM run %s (%s, start %d): %s\n", c->id, kind_name[c->kind], i, what);
        if (shown++ < 4)
            evidence(c);
    }
    if (g_rec.unknown_run)
        printf("  PROBLEM the router got %d calls for runs the client never started, e.g. %s\n",
               g_rec.unknown_run, g_rec.unknown_example);
    if (g_rec.xrid_mismatch)
        printf("  PROBLEM %d calls whose X-Request-Id is not metadata.call_id, e.g. %s\n",
               g_rec.xrid_mismatch, g_rec.mismatch_example);

    CU_ASSERT(g_log.kills >= 1 || g_opt.kills == 0);
    CU_ASSERT_EQUAL(g_log.freezes, g_opt.freeze_ms > 0);
    CU_ASSERT_EQUAL(g_log.restart_failures, 0);
    CU_ASSERT_EQUAL(start_problems, 0);
    CU_ASSERT_EQUAL(not_started, 0);
    CU_ASSERT_EQUAL(not_final, 0);
    CU_ASSERT_EQUAL(end_not_one, 0);
    CU_ASSERT_EQUAL(fin_twice, 0);
    CU_ASSERT_EQUAL(dup_runs, 0);
    CU_ASSERT_EQUAL(diff_ids, 0);
    CU_ASSERT_EQUAL(bad_result, 0);
    CU_ASSERT_EQUAL(g_rec.xrid_mismatch, 0);
    CU_ASSERT_EQUAL(g_rec.unknown_run, 0);
    CU_ASSERT_EQUAL(n_ph, 0);
    CU_ASSERT_EQUAL(quiet, 0);

    /* a clean stop of both at the end */
    for (int s = 0; s < 2; s++) {
        pthread_mutex_lock(&g_lock);
        int li = g_slots[s].life;
        g_slots[s].life = -1;
        pthread_mutex_unlock(&g_lock);
        if (li >= 0)
            CU_ASSERT_EQUAL(th_proc_stop(&g_lives[li].p, 20000), 0);
    }
    if (CU_get_number_of_failures() > 0) {
        setenv("SV_TEST_KEEP", "1", 1); /* the harness keeps the logs for a look */
        printf("  logs kept (SV_TEST_KEEP): ");
        for (int li = 0; li < g_n_lives; li++)
            printf("%s%s (%s)", li ? ", " : "", g_lives[li].p.log_path, g_lives[li].node_id);
        printf("; router record %s\n", g_sim.aux_path);
    }
    free(g_ids);
    free(g_acts);
    free(g_runs);
}

static int num_arg(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    static const struct {
        const char *name;
        long lo, hi;
    } opts[] = {{"--runs", 1, 100000},     {"--seed", 0, LONG_MAX},   {"--kills", 0, 1000},
                {"--window-sec", 5, 3600}, {"--freeze-ms", 0, 60000}, {"--ttl-sec", 1, 60},
                {"--drain-sec", 10, 3600}, {"--poll-ms", 0, 60000}};
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        long v = 0;
        while (k < sizeof opts / sizeof opts[0] && strcmp(argv[i], opts[k].name) != 0)
            k++;
        if (k == sizeof opts / sizeof opts[0] || i + 1 >= argc ||
            num_arg(argv[i + 1], opts[k].lo, opts[k].hi, &v) < 0) {
            fprintf(stderr,
                    "usage: test_chaos [--runs N] [--seed N] [--kills N] [--window-sec N] "
                    "[--freeze-ms N] [--ttl-sec N] [--drain-sec N] [--poll-ms N]\n"
                    "(bad or unknown argument: %s)\n",
                    argv[i]);
            return -1;
        }
        i++;
        switch (k) {
        case 0:
            g_opt.runs = (int)v;
            break;
        case 1:
            g_opt.seed = (uint64_t)v;
            have_seed = 1;
            break;
        case 2:
            g_opt.kills = (int)v;
            break;
        case 3:
            g_opt.window_s = (int)v;
            break;
        case 4:
            g_opt.freeze_ms = (int)v;
            break;
        case 5:
            g_opt.ttl_s = (int)v;
            break;
        case 6:
            g_opt.drain_s = (int)v;
            break;
        default:
            g_opt.poll_ms = (int)v;
            break;
        }
    }
    if (!have_seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        g_opt.seed =
            ((uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 16) %
            1000000000u;
    }
    if (g_opt.kills < 0)
        g_opt.kills = 4 + g_opt.runs / 100;
    if (g_opt.window_s < 0)
        g_opt.window_s = 20 + g_opt.runs / 10;
    g_rng = g_opt.seed;
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0)
        return 2;
    printf("test_chaos: seed %" PRIu64 " (repeat with --seed %" PRIu64 ")\n", g_opt.seed,
           g_opt.seed);
    fflush(stdout);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_interrupted_msg, sizeof g_interrupted_msg,
             "test_chaos: interrupted; every process it started was killed; their logs are left "
             "in %s/sv-*\n",
             tmp && *tmp ? tmp : "/tmp");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    curl_global_init(CURL_GLOBAL_ALL);
    static const sv_cu_test tests[] = {
        {"runs end once under kill -9, restarts and a Redis freeze", test_chaos},
    };
    static const sv_cu_suite suites[] = {
        {.name = "chaos", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    int rc = sv_cu_run(suites, sizeof suites / sizeof suites[0]);
    curl_global_cleanup();
    return rc;
}
