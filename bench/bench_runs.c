/*
 * bench_runs - throughput of whole runs, and what the daemon costs per node,
 * on the embedded store, on Redis, or on both in the same session.
 *
 * Starts router-sim (tests/scenarios/engine_ok.json: every test_tool call is
 * answered at once) and, per store, a daemon with the test_chain graph (three
 * nodes, one tool call each); for Redis also a redis-server of its own on a
 * free loopback port (no persistence), named to the daemon by REDIS_URL.
 * Then per round:
 *
 *   baseline    3*N calls straight to router-sim's POST /v1/tools/execute with
 *               the same client pool and a body shaped like the daemon's;
 *   supervisor  per store, N runs of test_chain submitted as fast as the pool
 *               can, and the time until that daemon has logged "run finished"
 *               for all of them (the log is followed as a file, so finding out
 *               costs the daemon nothing).  With both stores, the two daemons
 *               take turns within each round (memory first in odd rounds,
 *               Redis first in even ones), and the idle one does nothing, so
 *               the per-round ratios compare the stores under the same load.
 *
 * CPU time of the daemons, redis-server, the simulator and this process comes
 * from /proc/PID/stat (10 ms ticks) and getrusage; Redis's command counts and
 * bytes from INFO.  Only reports; the exit status is 1 only when something did
 * not start, runs did not succeed or the work did not finish in time.
 */
#include "bench_common.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NODES_PER_RUN 3
#define MAX_ROUNDS 100

typedef struct opts {
    long runs, clients, workers, rounds, warmup, timeout_s;
    int json, baseline, keep, memory, redis;
    const char *wrapper;
} opts;

/* The baseline of a round. */
typedef struct base_res {
    double wall, client_cpu, sim_cpu;
    size_t errors;
} base_res;

/* One store's supervisor part of a round (all doubles, for med()). */
typedef struct round_res {
    double s_wall, s_submit_wall, d_cpu, d_user, s_sim_cpu, s_client_cpu;
    /* Redis over the same span: redis-server's CPU, and INFO deltas */
    double r_cpu, r_trips, r_eval, r_multi, r_cmds, r_in, r_out, r_eval_us;
} round_res;

/* A daemon with its store. */
typedef struct target {
    const char *store; /* "memory" or "redis" */
    bc_proc d, redis;
    bc_tail tail;
    long finished, succeeded; /* "run finished" lines seen in its log */
    char (*ids)[64];          /* run ids of the current batch */
    round_res *rr;            /* per round */
    int ok;                   /* every round measured */
} target;

typedef struct bench {
    opts o;
    bc_proc sim;
    size_t base; /* index of the baseline batch's first run in a global count */
    target t[2];
    int nt;
} bench;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_runs [--runs N] [--clients C] [--workers W] [--rounds R]\n"
               "                  [--warmup K] [--store memory|redis|both] [--timeout SEC]\n"
               "                  [--no-baseline] [--json] [--keep] [--wrapper CMD]\n"
               "  --runs N       runs of test_chain per round (default 2000; 3 nodes each)\n"
               "  --clients C    concurrent keep-alive HTTP clients (default 8)\n"
               "  --workers W    the daemon's WORKER_THREADS (default 2)\n"
               "  --rounds R     rounds of baseline + supervisor; medians reported (default 3)\n"
               "  --warmup K     unmeasured runs first (default 200)\n"
               "  --store S      memory, redis or both (default memory); redis: a redis-server\n"
               "                 from PATH on a free loopback port, passed as REDIS_URL\n"
               "  --timeout SEC  give up on a round after SEC seconds (default 300)\n"
               "  --no-baseline  skip the direct router-sim calls\n"
               "  --json         also print one machine-readable line (prefix BENCH_JSON )\n"
               "  --keep         keep the temp dirs (daemon log) for inspection\n"
               "  --wrapper CMD  run the daemon under CMD, e.g. \"valgrind --tool=callgrind\"\n"
               "Environment: SV_BUILDDIR, SV_SRCDIR (default: the tree `make bench` built).\n");
}

static void parse(int argc, char **argv, opts *o)
{
    *o = (opts){.runs = 2000,
                .clients = 8,
                .workers = 2,
                .rounds = 3,
                .warmup = 200,
                .timeout_s = 300,
                .baseline = 1,
                .memory = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--runs") == 0)
            o->runs = bc_opt_long(a, v, 1, 1000000), i++;
        else if (strcmp(a, "--clients") == 0)
            o->clients = bc_opt_long(a, v, 1, 512), i++;
        else if (strcmp(a, "--workers") == 0)
            o->workers = bc_opt_long(a, v, 1, 1024), i++;
        else if (strcmp(a, "--rounds") == 0)
            o->rounds = bc_opt_long(a, v, 1, MAX_ROUNDS), i++;
        else if (strcmp(a, "--warmup") == 0)
            o->warmup = bc_opt_long(a, v, 0, 1000000), i++;
        else if (strcmp(a, "--timeout") == 0)
            o->timeout_s = bc_opt_long(a, v, 1, 86400), i++;
        else if (strcmp(a, "--store") == 0 && v) {
            o->memory = strcmp(v, "memory") == 0 || strcmp(v, "both") == 0;
            o->redis = strcmp(v, "redis") == 0 || strcmp(v, "both") == 0;
            if (!o->memory && !o->redis)
                usage(stderr), exit(2);
            i++;
        } else if (strcmp(a, "--wrapper") == 0 && v)
            o->wrapper = v, i++;
        else if (strcmp(a, "--no-baseline") == 0)
            o->baseline = 0;
        else if (strcmp(a, "--json") == 0)
            o->json = 1;
        else if (strcmp(a, "--keep") == 0)
            o->keep = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage(stdout), exit(0);
        else
            usage(stderr), exit(2);
    }
}

static double cpu_of(const bc_proc *p)
{
    bc_pstat s;
    return p->pid > 0 && bc_pstat_read(p->pid, &s) == 0 ? s.cpu_s : 0;
}

static double user_of(const bc_proc *p)
{
    bc_pstat s;
    return p->pid > 0 && bc_pstat_read(p->pid, &s) == 0 ? s.user_s : 0;
}

/* ---- the baseline: straight to router-sim ---- */

static void next_direct(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    size_t run = i / NODES_PER_RUN, node = i % NODES_PER_RUN;
    static const char *const names[] = {"a", "b", "c"};
    char *body = NULL;
    /* The daemon's body for the same call (core/gateway.c body_new), with a
     * fresh run id every three calls as the simulator sees it from runs. */
    if (asprintf(&body,
                 "{\"tool\":\"test_tool\",\"action\":\"step\",\"params\":{\"n\":%zu,"
                 "\"label\":\"bench-%zu\"},\"workspace_id\":\"ws1\",\"user_id\":\"u1\","
                 "\"agent_id\":\"a1\",\"metadata\":{\"graph_run_id\":\"gr_b%031zx\","
                 "\"graph\":\"test_chain\",\"node\":\"%s\",\"call_id\":\"gr_b%031zx:%s:1\","
                 "\"attempt\":1}}",
                 node + 1, run, b->base + run, names[node], b->base + run, names[node]) < 0)
        body = NULL;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/tools/execute", b->sim.port);
    req->method = "POST";
    req->body = body;
}

static void done_direct(void *arg, size_t i, long status, const char *body, size_t len)
{
    (void)arg;
    (void)i;
    (void)len;
    if (status == 200 && !strstr(body, "\"succeeded\""))
        fprintf(stderr, "bench: unexpected router-sim answer: %.200s\n", body);
}

static int run_baseline(bench *b, size_t calls, base_res *r)
{
    bc_pool_result pr;
    double sim0 = cpu_of(&b->sim);
    int rc = bc_pool_run((int)b->o.clients, calls, next_direct, done_direct, b,
                         b->o.timeout_s * 1000, &pr);
    r->sim_cpu = cpu_of(&b->sim) - sim0;
    r->wall = pr.wall_s;
    r->client_cpu = pr.client_cpu_s;
    r->errors = pr.transport + pr.non2xx;
    b->base += calls / NODES_PER_RUN + 1;
    if (r->errors)
        fprintf(stderr, "bench: baseline: %zu error(s), first: %s\n", r->errors, pr.first_error);
    return rc;
}

/* ---- the supervisor ---- */

static void next_run(void *arg, size_t i, bc_req *req)
{
    target *t = arg;
    char *body = NULL;
    if (asprintf(&body,
                 "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\","
                 "\"input\":{\"label\":\"bench-%zu\"}}",
                 i) < 0)
        body = NULL;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/graphs/test_chain/runs", t->d.port);
    req->method = "POST";
    req->body = body;
}

static void done_run(void *arg, size_t i, long status, const char *body, size_t len)
{
    target *t = arg;
    t->ids[i][0] = '\0';
    if (status != 202)
        return;
    json_object *o = json_tokener_parse(body);
    json_object *id = NULL;
    if (o && json_object_object_get_ex(o, "run_id", &id))
        snprintf(t->ids[i], sizeof t->ids[i], "%s", json_object_get_string(id));
    json_object_put(o);
    (void)len;
}

static void on_line(void *arg, const char *line, size_t len)
{
    target *t = arg;
    (void)len;
    if (!strstr(line, "\"msg\":\"run finished\""))
        return;
    t->finished++;
    if (strstr(line, "\"status\":\"succeeded\""))
        t->succeeded++;
}

/* Wait until `target` runs have finished in total, following the log. */
static int wait_finished(target *t, long want, long timeout_ms)
{
    long long deadline = bc_now_ms() + timeout_ms;
    for (;;) {
        bc_tail_read(&t->tail, on_line, t);
        if (t->finished >= want)
            return 0;
        if (bc_interrupted())
            return -1;
        if (bc_now_ms() > deadline) {
            fprintf(stderr, "bench: %s: only %ld of %ld runs finished within %ld s\n", t->store,
                    t->finished, want, timeout_ms / 1000);
            return -1;
        }
        bc_sleep_ms(2);
    }
}

static int run_supervisor(bench *b, target *t, size_t runs, round_res *r)
{
    bc_pool_result pr;
    bc_redis_stats rs0 = {0}, rs1 = {0};
    int with_redis = t->redis.pid > 0;
    long want = t->finished + (long)runs;
    if (with_redis && bc_redis_stats_read(t->redis.port, &rs0) < 0)
        with_redis = 0;
    double u0 = user_of(&t->d), r0 = cpu_of(&t->redis);
    double d0 = cpu_of(&t->d), sim0 = cpu_of(&b->sim), c0 = bc_self_cpu(), t0 = bc_now();
    int rc =
        bc_pool_run((int)b->o.clients, runs, next_run, done_run, t, b->o.timeout_s * 1000, &pr);
    size_t errors = pr.transport + pr.non2xx;
    r->s_submit_wall = pr.wall_s;
    if (errors) {
        fprintf(stderr, "bench: %s: %zu run(s) not accepted, first: %s\n", t->store, errors,
                pr.first_error);
        want -= (long)errors;
    }
    if (rc == 0)
        rc = wait_finished(t, want, b->o.timeout_s * 1000);
    r->s_wall = bc_now() - t0;
    r->d_cpu = cpu_of(&t->d) - d0;
    r->d_user = user_of(&t->d) - u0;
    r->r_cpu = cpu_of(&t->redis) - r0;
    r->s_sim_cpu = cpu_of(&b->sim) - sim0;
    r->s_client_cpu = bc_self_cpu() - c0;
    if (with_redis && bc_redis_stats_read(t->redis.port, &rs1) == 0) {
        r->r_trips = (double)(rs1.round_trips - rs0.round_trips);
        r->r_eval = (double)(rs1.eval - rs0.eval);
        r->r_multi = (double)(rs1.multi - rs0.multi);
        r->r_cmds = (double)(rs1.commands - rs0.commands);
        r->r_in = (double)(rs1.net_in - rs0.net_in);
        r->r_out = (double)(rs1.net_out - rs0.net_out);
        r->r_eval_us = (double)(rs1.eval_usec - rs0.eval_usec);
    }
    return rc;
}

/* Look at the first and the last run of the batch through the API. */
static int verify(target *t, size_t n)
{
    int bad = 0;
    size_t pick[2] = {0, n - 1};
    for (int k = 0; k < 2; k++) {
        char url[256], *body = NULL;
        snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/runs/%s", t->d.port, t->ids[pick[k]]);
        long st = bc_http("GET", url, NULL, &body);
        json_object *v = st == 200 ? json_tokener_parse(body) : NULL, *s = NULL, *ev = NULL;
        int calls = 0;
        if (v && json_object_object_get_ex(v, "events", &ev))
            for (size_t i = 0; i < json_object_array_length(ev); i++) {
                json_object *ty = NULL;
                if (json_object_object_get_ex(json_object_array_get_idx(ev, i), "type", &ty) &&
                    strcmp(json_object_get_string(ty), "tool_call") == 0)
                    calls++;
            }
        if (!v || !json_object_object_get_ex(v, "status", &s) ||
            strcmp(json_object_get_string(s), "succeeded") != 0 || calls != NODES_PER_RUN) {
            fprintf(stderr, "bench: %s: run %s is not a succeeded run with 3 tool calls: %.300s\n",
                    t->store, t->ids[pick[k]], body ? body : "");
            bad = 1;
        }
        json_object_put(v);
        free(body);
    }
    return bad ? -1 : 0;
}

/* ---- setting up and reporting ---- */

static int target_start(bench *b, target *t, const char *store, size_t cap)
{
    const char *plugins[] = {"test_chain", NULL};
    char env_url[96];
    const char *env[] = {env_url, NULL};
    int redis = strcmp(store, "redis") == 0;
    t->store = store;
    t->d.pid = t->redis.pid = -1;
    t->ids = calloc(cap ? cap : 1, sizeof *t->ids);
    t->rr = calloc((size_t)b->o.rounds, sizeof *t->rr);
    if (!t->ids || !t->rr) {
        fprintf(stderr, "bench: out of memory\n");
        return -1;
    }
    if (redis && bc_redis_start(&t->redis) < 0)
        return -1;
    bc_redis_url_env(&t->redis, env_url, sizeof env_url);
    if (bc_daemon_start(plugins, &b->sim, (int)b->o.workers, b->o.wrapper, redis ? env : NULL,
                        &t->d) < 0)
        return -1;
    bc_tail_init(&t->tail, t->d.log_path);
    bc_tail_read(&t->tail, on_line, t);
    return 0;
}

/* Stop the daemon, then its Redis; 0, or -1 when the daemon did not exit 0. */
static int target_stop(bench *b, target *t)
{
    int rc = 0;
    bc_tail_free(&t->tail);
    if (t->d.pid > 0 || t->d.dir[0]) {
        int ran = t->d.pid > 0;
        if (b->o.keep)
            printf("kept: %s (%s daemon log)\n", t->d.dir, t->store);
        int st = bc_proc_stop(&t->d, b->o.wrapper ? 120000 : 20000, b->o.keep);
        if (ran && st != 0 && !bc_interrupted()) {
            fprintf(stderr, "bench: the %s daemon exited with status %d\n", t->store, st);
            rc = -1;
        }
    }
    if (t->redis.pid > 0 || t->redis.dir[0]) {
        if (b->o.keep)
            printf("kept: %s (redis-server)\n", t->redis.dir);
        bc_proc_stop(&t->redis, 5000, b->o.keep);
    }
    free(t->ids);
    free(t->rr);
    t->ids = NULL;
    t->rr = NULL;
    return rc;
}

static double med(const round_res *rr, long n, size_t off)
{
    double v[MAX_ROUNDS];
    for (long i = 0; i < n; i++)
        v[i] = *(const double *)(const void *)((const char *)&rr[i] + off);
    return bc_median(v, (size_t)n);
}

static double med_base(const base_res *br, long n, size_t off)
{
    double v[MAX_ROUNDS];
    for (long i = 0; i < n; i++)
        v[i] = *(const double *)(const void *)((const char *)&br[i] + off);
    return bc_median(v, (size_t)n);
}

#define MED(t, field) med((t)->rr, o->rounds, offsetof(round_res, field))
#define MED_BASE(field) med_base(br, o->rounds, offsetof(base_res, field))

/* One store's medians, on stdout and (json) as BENCH_JSON members named
 * prefix + the key. */
static void report(const opts *o, const target *t, const base_res *br, FILE *json,
                   const char *prefix)
{
    double n = (double)o->runs, calls = n * NODES_PER_RUN;
    double s_wall = MED(t, s_wall), d_cpu = MED(t, d_cpu), sub = MED(t, s_submit_wall);
    double d_user = MED(t, d_user), s_sim = MED(t, s_sim_cpu), s_cli = MED(t, s_client_cpu);
    double b_wall = MED_BASE(wall), b_cli = MED_BASE(client_cpu), b_sim = MED_BASE(sim_cpu);
    double cpu_node = d_cpu / calls * 1e6, cli_call = b_cli / calls * 1e6;
    bc_pstat ds;
    bc_pstat_read(t->d.pid, &ds);
    printf("\n%s store, medians of %ld round(s):\n", t->store, o->rounds);
    printf("  supervisor: %.3f s wall for %ld runs: %.0f runs/s, %.0f nodes/s, %.0f tool "
           "calls/s (all %ld accepted in %.3f s: %.0f submits/s)\n",
           s_wall, o->runs, n / s_wall, calls / s_wall, calls / s_wall, o->runs, sub, n / sub);
    printf("  daemon CPU: %.3f s = %.1f us per run, %.1f us per node (incl. its tool call); "
           "user %.0f%%, kernel %.0f%%\n",
           d_cpu, d_cpu / n * 1e6, cpu_node, d_cpu > 0 ? 100 * d_user / d_cpu : 0,
           d_cpu > 0 ? 100 * (d_cpu - d_user) / d_cpu : 0);
    printf("  meanwhile:  router-sim %.3f s CPU (%.1f us/call), this client %.3f s CPU\n", s_sim,
           s_sim / calls * 1e6, s_cli);
    if (o->baseline) {
        printf("  baseline:   %.0f direct router-sim calls in %.3f s: %.0f calls/s, "
               "%.1f us wall per call\n",
               calls, b_wall, calls / b_wall, b_wall / calls * 1e6);
        printf("              client CPU %.1f us/call, router-sim CPU %.1f us/call\n", cli_call,
               b_sim / calls * 1e6);
        printf("  ratio:      supervisor wall per tool call / direct call = %.2f\n",
               s_wall / b_wall);
        printf("  daemon CPU per node net of one client-side HTTP call: %.1f us\n",
               cpu_node - cli_call);
    }
    double r_cpu = MED(t, r_cpu), trips = MED(t, r_trips), eval = MED(t, r_eval);
    double multi = MED(t, r_multi), cmds = MED(t, r_cmds), in = MED(t, r_in), out = MED(t, r_out);
    double eval_us = MED(t, r_eval_us);
    bc_redis_stats rs = {0};
    if (t->redis.pid > 0) {
        bc_redis_stats_read(t->redis.port, &rs);
        printf("  redis-server: %.3f s CPU = %.1f us per node; daemon + Redis %.1f us per node\n",
               r_cpu, r_cpu / calls * 1e6, (d_cpu + r_cpu) / calls * 1e6);
        printf("  Redis per node: %.2f round trips (%.2f EVAL, %.2f MULTI/EXEC, %.2f other), "
               "%.1f commands counting those inside scripts, %.0f bytes in, %.0f bytes out, "
               "%.1f us in EVAL\n",
               trips / calls, eval / calls, multi / calls, (trips - eval - multi) / calls,
               cmds / calls, in / calls, out / calls, eval_us / calls);
        printf("  redis-server now: used_memory %.1f MiB\n", (double)rs.used_memory / 1048576);
    }
    printf("  daemon now: RSS %ld KiB, %d threads\n", ds.rss_kib, ds.threads);
    if (!json)
        return;
    fprintf(json,
            ",\"%swall_s\":%.4f,\"%sruns_per_s\":%.1f,\"%snodes_per_s\":%.1f,"
            "\"%stool_calls_per_s\":%.1f,\"%ssubmits_per_s\":%.1f,\"%sdaemon_cpu_s\":%.3f,"
            "\"%sdaemon_cpu_us_per_run\":%.2f,\"%sdaemon_cpu_us_per_node\":%.2f,"
            "\"%sdaemon_user_share\":%.3f,\"%ssim_cpu_us_per_call\":%.2f",
            prefix, s_wall, prefix, n / s_wall, prefix, calls / s_wall, prefix, calls / s_wall,
            prefix, n / sub, prefix, d_cpu, prefix, d_cpu / n * 1e6, prefix, cpu_node, prefix,
            d_cpu > 0 ? d_user / d_cpu : 0, prefix, s_sim / calls * 1e6);
    if (o->baseline)
        fprintf(json,
                ",\"%sbaseline_wall_s\":%.4f,\"%sbaseline_calls_per_s\":%.1f,"
                "\"%sbaseline_client_cpu_us_per_call\":%.2f,\"%sratio\":%.3f,"
                "\"%sdaemon_cpu_us_per_node_net\":%.2f",
                prefix, b_wall, prefix, calls / b_wall, prefix, cli_call, prefix, s_wall / b_wall,
                prefix, cpu_node - cli_call);
    if (t->redis.pid > 0)
        fprintf(json,
                ",\"%sserver_cpu_us_per_node\":%.2f,\"%sround_trips_per_node\":%.3f,"
                "\"%seval_per_node\":%.3f,\"%smulti_per_node\":%.3f,"
                "\"%scommands_per_node\":%.3f,\"%sbytes_in_per_node\":%.1f,"
                "\"%sbytes_out_per_node\":%.1f,\"%seval_us_per_node\":%.2f,"
                "\"%sused_memory\":%lld",
                prefix, r_cpu / calls * 1e6, prefix, trips / calls, prefix, eval / calls, prefix,
                multi / calls, prefix, cmds / calls, prefix, in / calls, prefix, out / calls,
                prefix, eval_us / calls, prefix, rs.used_memory);
    fprintf(json, ",\"%sdaemon_rss_kib\":%ld,\"%sdaemon_threads\":%d", prefix, ds.rss_kib, prefix,
            ds.threads);
}

/* Redis against memory, round by round (both measured in the same round,
 * under the same load), then the median of each per-round figure. */
static void compare(const opts *o, const target *m, const target *r, FILE *json)
{
    double calls = (double)o->runs * NODES_PER_RUN;
    double thr[MAX_ROUNDS], cpu[MAX_ROUNDS], extra[MAX_ROUNDS], total[MAX_ROUNDS];
    double extra_total[MAX_ROUNDS];
    long n = o->rounds;
    for (long k = 0; k < n; k++) {
        const round_res *a = &m->rr[k], *b = &r->rr[k];
        thr[k] = b->s_wall > 0 ? a->s_wall / b->s_wall : 0;
        cpu[k] = a->d_cpu > 0 ? b->d_cpu / a->d_cpu : 0;
        extra[k] = (b->d_cpu - a->d_cpu) / calls * 1e6;
        total[k] = a->d_cpu > 0 ? (b->d_cpu + b->r_cpu) / a->d_cpu : 0;
        extra_total[k] = (b->d_cpu + b->r_cpu - a->d_cpu) / calls * 1e6;
    }
    double m_thr = bc_median(thr, (size_t)n), m_cpu = bc_median(cpu, (size_t)n);
    double m_extra = bc_median(extra, (size_t)n), m_total = bc_median(total, (size_t)n);
    double m_extra_total = bc_median(extra_total, (size_t)n);
    printf("\nredis / memory, per round, medians over %ld round(s):\n", n);
    printf("  runs/s (= nodes/s):                 %.2f\n", m_thr);
    printf("  daemon CPU per node:                %.2f (%+.1f us per node)\n", m_cpu, m_extra);
    printf("  daemon + redis-server CPU per node: %.2f (%+.1f us per node)\n", m_total,
           m_extra_total);
    if (json)
        fprintf(json,
                ",\"redis_vs_memory_runs_per_s\":%.3f,\"redis_vs_memory_daemon_cpu\":%.3f,"
                "\"redis_extra_daemon_cpu_us_per_node\":%.2f,"
                "\"redis_vs_memory_daemon_and_redis_cpu\":%.3f,"
                "\"redis_extra_daemon_and_redis_cpu_us_per_node\":%.2f",
                m_thr, m_cpu, m_extra, m_total, m_extra_total);
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    parse(argc, argv, &b.o);
    const opts *o = &b.o;
    bc_init();
    char machine[256];
    bc_machine(machine, sizeof machine);
    size_t cap = (size_t)(o->runs > o->warmup ? o->runs : o->warmup);
    size_t calls = (size_t)o->runs * NODES_PER_RUN;
    base_res *br = calloc((size_t)o->rounds, sizeof *br);
    int rc = 0;
    if (!br)
        return 1;
    for (int k = 0; k < 2; k++)
        b.t[k].d.pid = b.t[k].redis.pid = -1;

    printf("bench_runs: %ld runs x %d nodes per round, %ld round(s), %ld clients, "
           "WORKER_THREADS=%ld, warm-up %ld runs, store %s\n",
           o->runs, NODES_PER_RUN, o->rounds, o->clients, o->workers, o->warmup,
           o->memory && o->redis ? "memory and redis"
           : o->redis            ? "redis"
                                 : "memory");
    printf("machine: %s\n", machine);
    if (bc_sim_start("tests/scenarios/engine_ok.json", &b.sim) < 0) {
        rc = 1;
        goto stop;
    }
    if (o->memory && target_start(&b, &b.t[b.nt++], "memory", cap) < 0) {
        rc = 1;
        goto stop;
    }
    if (o->redis && target_start(&b, &b.t[b.nt++], "redis", cap) < 0) {
        rc = 1;
        goto stop;
    }
    if (o->warmup > 0) {
        base_res bw;
        round_res w;
        if (o->baseline && run_baseline(&b, (size_t)o->warmup * NODES_PER_RUN, &bw) < 0)
            rc = 1;
        for (int j = 0; j < b.nt && rc == 0; j++)
            if (run_supervisor(&b, &b.t[j], (size_t)o->warmup, &w) < 0)
                rc = 1;
        if (rc)
            goto stop;
    }
    long ok_before[2], fin_before[2];
    for (int j = 0; j < b.nt; j++) {
        ok_before[j] = b.t[j].succeeded;
        fin_before[j] = b.t[j].finished;
    }
    printf("\n%5s %-6s | %10s %10s %9s | %10s %9s %9s %11s %11s | %7s", "round", "store",
           "direct s", "calls/s", "cli us/c", "sv wall s", "runs/s", "nodes/s", "sv cpu us/r",
           "sv cpu us/n", "ratio");
    if (o->redis)
        printf(" | %11s %8s", "redis us/n", "trips/n");
    printf("\n");
    for (long k = 0; k < o->rounds && rc == 0; k++) {
        base_res *bk = &br[k];
        if (o->baseline && run_baseline(&b, calls, bk) < 0) {
            rc = 1;
            break;
        }
        for (int j = 0; j < b.nt && rc == 0; j++) {
            /* with two stores, take turns at going first */
            target *t = &b.t[k % 2 ? b.nt - 1 - j : j];
            round_res *r = &t->rr[k];
            if (run_supervisor(&b, t, (size_t)o->runs, r) < 0) {
                rc = 1;
                break;
            }
            double ratio = o->baseline && bk->wall > 0 ? r->s_wall / bk->wall : 0;
            printf("%5ld %-6s | %10.3f %10.0f %9.1f | %10.3f %9.0f %9.0f %11.1f %11.1f | %7.2f",
                   k + 1, t->store, bk->wall, bk->wall > 0 ? (double)calls / bk->wall : 0,
                   o->baseline ? bk->client_cpu / (double)calls * 1e6 : 0, r->s_wall,
                   (double)o->runs / r->s_wall, (double)calls / r->s_wall,
                   r->d_cpu / (double)o->runs * 1e6, r->d_cpu / (double)calls * 1e6, ratio);
            if (t->redis.pid > 0)
                printf(" | %11.1f %8.2f", r->r_cpu / (double)calls * 1e6,
                       r->r_trips / (double)calls);
            printf("\n");
            fflush(stdout);
        }
    }
    for (int j = 0; j < b.nt && rc == 0; j++) {
        target *t = &b.t[j];
        if (verify(t, (size_t)o->runs) < 0)
            rc = 1;
        long measured = t->finished - fin_before[j], ok = t->succeeded - ok_before[j];
        if (measured != ok) {
            fprintf(stderr, "bench: %s: %ld of %ld measured runs did not succeed\n", t->store,
                    measured - ok, measured);
            rc = 1;
        }
    }

    if (rc == 0) {
        /* The JSON line is put together while the report is printed. */
        char *jbuf = NULL;
        size_t jlen = 0;
        FILE *json = o->json ? open_memstream(&jbuf, &jlen) : NULL;
        if (json)
            fprintf(json,
                    "BENCH_JSON {\"bench\":\"runs\",\"stores\":\"%s\",\"runs\":%ld,"
                    "\"rounds\":%ld,\"clients\":%ld,\"workers\":%ld,\"nproc\":%ld",
                    o->memory && o->redis ? "memory,redis"
                    : o->redis            ? "redis"
                                          : "memory",
                    o->runs, o->rounds, o->clients, o->workers, sysconf(_SC_NPROCESSORS_ONLN));
        /* The embedded store's keys have no prefix (as before --store);
         * Redis's start with redis_. */
        for (int j = 0; j < b.nt; j++)
            report(o, &b.t[j], br, json, strcmp(b.t[j].store, "redis") == 0 ? "redis_" : "");
        if (b.nt == 2)
            compare(o, &b.t[0], &b.t[1], json);
        if (json) {
            fprintf(json, "}\n");
            fclose(json);
            fputs(jbuf, stdout);
            free(jbuf);
        }
    }
stop:
    for (int j = 0; j < b.nt; j++)
        if (target_stop(&b, &b.t[j]) < 0)
            rc = 1;
    if (o->keep && b.sim.dir[0])
        printf("kept: %s (router-sim)\n", b.sim.dir);
    bc_proc_stop(&b.sim, 5000, o->keep);
    free(br);
    if (bc_interrupted()) {
        fprintf(stderr, "bench: interrupted\n");
        return 130;
    }
    return rc;
}
