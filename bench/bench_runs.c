/*
 * bench_runs - throughput of whole runs, and what the daemon costs per node.
 *
 * Starts router-sim (tests/scenarios/engine_ok.json: every test_tool call is
 * answered at once) and the daemon with the test_chain graph (three nodes,
 * one tool call each), then per round:
 *
 *   baseline    3*N calls straight to router-sim's POST /v1/tools/execute with
 *               the same client pool and a body shaped like the daemon's;
 *   supervisor  N runs of test_chain submitted as fast as the pool can, and
 *               the time until the daemon has logged "run finished" for all
 *               of them (the log is followed as a file, so finding out costs
 *               the daemon nothing).
 *
 * CPU time of the daemon, the simulator and this process comes from
 * /proc/PID/stat (10 ms ticks) and getrusage.  Only reports; the exit status
 * is 1 only when runs did not succeed or the work did not finish in time.
 */
#include "bench_common.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NODES_PER_RUN 3

typedef struct opts {
    long runs, clients, workers, rounds, warmup, timeout_s;
    int json, baseline, keep;
    const char *wrapper;
} opts;

typedef struct round_res {
    /* baseline */
    double b_wall, b_client_cpu, b_sim_cpu;
    size_t b_errors;
    /* supervisor */
    double s_wall, s_submit_wall, d_cpu, d_user, s_sim_cpu, s_client_cpu;
    size_t s_errors;
} round_res;

typedef struct bench {
    opts o;
    bc_proc sim, d;
    bc_tail tail;
    long finished, succeeded; /* "run finished" lines seen in the daemon log */
    char (*ids)[64];          /* run ids of the current batch */
    size_t base;              /* index of the batch's first run in a global count */
    size_t n_ids;
} bench;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_runs [--runs N] [--clients C] [--workers W] [--rounds R]\n"
               "                  [--warmup K] [--timeout SEC] [--no-baseline] [--json] [--keep]\n"
               "                  [--wrapper CMD]\n"
               "  --runs N       runs of test_chain per round (default 2000; 3 nodes each)\n"
               "  --clients C    concurrent keep-alive HTTP clients (default 8)\n"
               "  --workers W    the daemon's WORKER_THREADS (default 2)\n"
               "  --rounds R     rounds of baseline + supervisor; medians reported (default 3)\n"
               "  --warmup K     unmeasured runs first (default 200)\n"
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
                .baseline = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--runs") == 0)
            o->runs = bc_opt_long(a, v, 1, 1000000), i++;
        else if (strcmp(a, "--clients") == 0)
            o->clients = bc_opt_long(a, v, 1, 512), i++;
        else if (strcmp(a, "--workers") == 0)
            o->workers = bc_opt_long(a, v, 1, 1024), i++;
        else if (strcmp(a, "--rounds") == 0)
            o->rounds = bc_opt_long(a, v, 1, 100), i++;
        else if (strcmp(a, "--warmup") == 0)
            o->warmup = bc_opt_long(a, v, 0, 1000000), i++;
        else if (strcmp(a, "--timeout") == 0)
            o->timeout_s = bc_opt_long(a, v, 1, 86400), i++;
        else if (strcmp(a, "--wrapper") == 0 && v)
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
    return bc_pstat_read(p->pid, &s) == 0 ? s.cpu_s : 0;
}

static double user_of(const bc_proc *p)
{
    bc_pstat s;
    return bc_pstat_read(p->pid, &s) == 0 ? s.user_s : 0;
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

static int run_baseline(bench *b, size_t calls, round_res *r)
{
    bc_pool_result pr;
    double sim0 = cpu_of(&b->sim);
    int rc = bc_pool_run((int)b->o.clients, calls, next_direct, done_direct, b,
                         b->o.timeout_s * 1000, &pr);
    r->b_sim_cpu = cpu_of(&b->sim) - sim0;
    r->b_wall = pr.wall_s;
    r->b_client_cpu = pr.client_cpu_s;
    r->b_errors = pr.transport + pr.non2xx;
    b->base += calls / NODES_PER_RUN + 1;
    if (r->b_errors)
        fprintf(stderr, "bench: baseline: %zu error(s), first: %s\n", r->b_errors, pr.first_error);
    return rc;
}

/* ---- the supervisor ---- */

static void next_run(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    char *body = NULL;
    if (asprintf(&body,
                 "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\","
                 "\"input\":{\"label\":\"bench-%zu\"}}",
                 i) < 0)
        body = NULL;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/graphs/test_chain/runs", b->d.port);
    req->method = "POST";
    req->body = body;
}

static void done_run(void *arg, size_t i, long status, const char *body, size_t len)
{
    bench *b = arg;
    b->ids[i][0] = '\0';
    if (status != 202)
        return;
    json_object *o = json_tokener_parse(body);
    json_object *id = NULL;
    if (o && json_object_object_get_ex(o, "run_id", &id))
        snprintf(b->ids[i], sizeof b->ids[i], "%s", json_object_get_string(id));
    json_object_put(o);
    (void)len;
}

static void on_line(void *arg, const char *line, size_t len)
{
    bench *b = arg;
    (void)len;
    if (!strstr(line, "\"msg\":\"run finished\""))
        return;
    b->finished++;
    if (strstr(line, "\"status\":\"succeeded\""))
        b->succeeded++;
}

/* Wait until `target` runs have finished in total, following the log. */
static int wait_finished(bench *b, long target, long timeout_ms)
{
    long long deadline = bc_now_ms() + timeout_ms;
    for (;;) {
        bc_tail_read(&b->tail, on_line, b);
        if (b->finished >= target)
            return 0;
        if (bc_interrupted())
            return -1;
        if (bc_now_ms() > deadline) {
            fprintf(stderr, "bench: only %ld of %ld runs finished within %ld s\n", b->finished,
                    target, timeout_ms / 1000);
            return -1;
        }
        bc_sleep_ms(2);
    }
}

static int run_supervisor(bench *b, size_t runs, round_res *r)
{
    bc_pool_result pr;
    long target = b->finished + (long)runs;
    double u0 = user_of(&b->d);
    double d0 = cpu_of(&b->d), sim0 = cpu_of(&b->sim), c0 = bc_self_cpu(), t0 = bc_now();
    int rc =
        bc_pool_run((int)b->o.clients, runs, next_run, done_run, b, b->o.timeout_s * 1000, &pr);
    r->s_submit_wall = pr.wall_s;
    r->s_errors = pr.transport + pr.non2xx;
    if (r->s_errors) {
        fprintf(stderr, "bench: %zu run(s) not accepted, first: %s\n", r->s_errors, pr.first_error);
        target -= (long)r->s_errors;
    }
    if (rc == 0)
        rc = wait_finished(b, target, b->o.timeout_s * 1000);
    r->s_wall = bc_now() - t0;
    r->d_cpu = cpu_of(&b->d) - d0;
    r->d_user = user_of(&b->d) - u0;
    r->s_sim_cpu = cpu_of(&b->sim) - sim0;
    r->s_client_cpu = bc_self_cpu() - c0;
    return rc;
}

/* Look at the first and the last run of the batch through the API. */
static int verify(bench *b, size_t n)
{
    int bad = 0;
    size_t pick[2] = {0, n - 1};
    for (int k = 0; k < 2; k++) {
        char url[256], *body = NULL;
        snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/runs/%s", b->d.port, b->ids[pick[k]]);
        long st = bc_http("GET", url, NULL, &body);
        json_object *v = st == 200 ? json_tokener_parse(body) : NULL, *s = NULL, *ev = NULL;
        int calls = 0;
        if (v && json_object_object_get_ex(v, "events", &ev))
            for (size_t i = 0; i < json_object_array_length(ev); i++) {
                json_object *t = NULL;
                if (json_object_object_get_ex(json_object_array_get_idx(ev, i), "type", &t) &&
                    strcmp(json_object_get_string(t), "tool_call") == 0)
                    calls++;
            }
        if (!v || !json_object_object_get_ex(v, "status", &s) ||
            strcmp(json_object_get_string(s), "succeeded") != 0 || calls != NODES_PER_RUN) {
            fprintf(stderr, "bench: run %s is not a succeeded run with 3 tool calls: %.300s\n",
                    b->ids[pick[k]], body ? body : "");
            bad = 1;
        }
        json_object_put(v);
        free(body);
    }
    return bad ? -1 : 0;
}

static double med(const round_res *rr, long n, size_t off)
{
    double v[100];
    for (long i = 0; i < n; i++)
        v[i] = *(const double *)(const void *)((const char *)&rr[i] + off);
    return bc_median(v, (size_t)n);
}

#define MED(field) med(rr, o->rounds, offsetof(round_res, field))

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    parse(argc, argv, &b.o);
    const opts *o = &b.o;
    bc_init();
    char machine[256];
    bc_machine(machine, sizeof machine);

    if (bc_sim_start("tests/scenarios/engine_ok.json", &b.sim) < 0)
        return 1;
    const char *plugins[] = {"test_chain", NULL};
    if (bc_daemon_start(plugins, &b.sim, (int)o->workers, o->wrapper, NULL, &b.d) < 0) {
        bc_proc_stop(&b.sim, 5000, o->keep);
        return 1;
    }
    bc_tail_init(&b.tail, b.d.log_path);
    bc_tail_read(&b.tail, on_line, &b);
    size_t cap = (size_t)(o->runs > o->warmup ? o->runs : o->warmup);
    b.ids = calloc(cap ? cap : 1, sizeof *b.ids);
    round_res *rr = calloc((size_t)o->rounds, sizeof *rr);
    int rc = 0;
    if (!b.ids || !rr)
        return 1;

    printf("bench_runs: %ld runs x %d nodes per round, %ld round(s), %ld clients, "
           "WORKER_THREADS=%ld, warm-up %ld runs\n",
           o->runs, NODES_PER_RUN, o->rounds, o->clients, o->workers, o->warmup);
    printf("machine: %s\n", machine);
    if (o->warmup > 0) {
        round_res w;
        if ((o->baseline && run_baseline(&b, (size_t)o->warmup * NODES_PER_RUN, &w) < 0) ||
            run_supervisor(&b, (size_t)o->warmup, &w) < 0) {
            rc = 1;
            goto stop;
        }
    }
    long ok_before = b.succeeded, fin_before = b.finished;
    printf("\n%5s | %10s %10s %9s | %10s %9s %9s %11s %11s | %7s\n", "round", "direct s", "calls/s",
           "cli us/c", "sv wall s", "runs/s", "nodes/s", "sv cpu us/r", "sv cpu us/n", "ratio");
    for (long k = 0; k < o->rounds && rc == 0; k++) {
        round_res *r = &rr[k];
        size_t calls = (size_t)o->runs * NODES_PER_RUN;
        if (o->baseline && run_baseline(&b, calls, r) < 0) {
            rc = 1;
            break;
        }
        if (run_supervisor(&b, (size_t)o->runs, r) < 0) {
            rc = 1;
            break;
        }
        double ratio = o->baseline && r->b_wall > 0 ? r->s_wall / r->b_wall : 0;
        printf("%5ld | %10.3f %10.0f %9.1f | %10.3f %9.0f %9.0f %11.1f %11.1f | %7.2f\n", k + 1,
               r->b_wall, r->b_wall > 0 ? (double)calls / r->b_wall : 0,
               o->baseline ? r->b_client_cpu / (double)calls * 1e6 : 0, r->s_wall,
               (double)o->runs / r->s_wall, (double)calls / r->s_wall,
               r->d_cpu / (double)o->runs * 1e6, r->d_cpu / (double)calls * 1e6, ratio);
        fflush(stdout);
    }
    if (rc == 0 && verify(&b, (size_t)o->runs) < 0)
        rc = 1;
    long measured = b.finished - fin_before, ok = b.succeeded - ok_before;
    if (rc == 0 && measured != ok) {
        fprintf(stderr, "bench: %ld of %ld measured runs did not succeed\n", measured - ok,
                measured);
        rc = 1;
    }
    bc_pstat ds;
    bc_pstat_read(b.d.pid, &ds);

    if (rc == 0) {
        double n = (double)o->runs, calls = n * NODES_PER_RUN;
        double s_wall = MED(s_wall), d_cpu = MED(d_cpu), sub = MED(s_submit_wall);
        double d_user = MED(d_user);
        double b_wall = MED(b_wall), b_cli = MED(b_client_cpu), b_sim = MED(b_sim_cpu);
        double s_sim = MED(s_sim_cpu), s_cli = MED(s_client_cpu);
        double cpu_node = d_cpu / calls * 1e6, cli_call = b_cli / calls * 1e6;
        printf("\nmedians of %ld round(s):\n", o->rounds);
        printf("  supervisor: %.3f s wall for %ld runs: %.0f runs/s, %.0f nodes/s, %.0f tool "
               "calls/s (all %ld accepted in %.3f s: %.0f submits/s)\n",
               s_wall, o->runs, n / s_wall, calls / s_wall, calls / s_wall, o->runs, sub, n / sub);
        printf("  daemon CPU: %.3f s = %.1f us per run, %.1f us per node (incl. its tool call); "
               "user %.0f%%, kernel %.0f%%\n",
               d_cpu, d_cpu / n * 1e6, cpu_node, d_cpu > 0 ? 100 * d_user / d_cpu : 0,
               d_cpu > 0 ? 100 * (d_cpu - d_user) / d_cpu : 0);
        printf("  meanwhile:  router-sim %.3f s CPU (%.1f us/call), this client %.3f s CPU\n",
               s_sim, s_sim / calls * 1e6, s_cli);
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
        printf("  daemon now: RSS %ld KiB, %d threads\n", ds.rss_kib, ds.threads);
        if (o->json) {
            printf("BENCH_JSON {\"bench\":\"runs\",\"runs\":%ld,\"rounds\":%ld,\"clients\":%ld,"
                   "\"workers\":%ld,\"nproc\":%ld,\"wall_s\":%.4f,\"runs_per_s\":%.1f,"
                   "\"nodes_per_s\":%.1f,\"tool_calls_per_s\":%.1f,\"submits_per_s\":%.1f,"
                   "\"daemon_cpu_s\":%.3f,\"daemon_cpu_us_per_run\":%.2f,"
                   "\"daemon_cpu_us_per_node\":%.2f,\"daemon_user_share\":%.3f,"
                   "\"sim_cpu_us_per_call\":%.2f",
                   o->runs, o->rounds, o->clients, o->workers, sysconf(_SC_NPROCESSORS_ONLN),
                   s_wall, n / s_wall, calls / s_wall, calls / s_wall, n / sub, d_cpu,
                   d_cpu / n * 1e6, cpu_node, d_cpu > 0 ? d_user / d_cpu : 0, s_sim / calls * 1e6);
            if (o->baseline)
                printf(",\"baseline_wall_s\":%.4f,\"baseline_calls_per_s\":%.1f,"
                       "\"baseline_client_cpu_us_per_call\":%.2f,\"ratio\":%.3f,"
                       "\"daemon_cpu_us_per_node_net\":%.2f",
                       b_wall, calls / b_wall, cli_call, s_wall / b_wall, cpu_node - cli_call);
            printf(",\"daemon_rss_kib\":%ld,\"daemon_threads\":%d}\n", ds.rss_kib, ds.threads);
        }
    }
stop:
    bc_tail_free(&b.tail);
    {
        int st = bc_proc_stop(&b.d, o->wrapper ? 120000 : 20000, o->keep);
        if (st != 0 && !bc_interrupted()) {
            fprintf(stderr, "bench: the daemon exited with status %d\n", st);
            rc = 1;
        }
    }
    if (o->keep)
        printf("kept: %s (daemon log), %s\n", b.d.dir[0] ? b.d.dir : "-", b.sim.dir);
    bc_proc_stop(&b.sim, 5000, o->keep);
    free(b.ids);
    free(rr);
    if (bc_interrupted()) {
        fprintf(stderr, "bench: interrupted\n");
        return 130;
    }
    return rc;
}
