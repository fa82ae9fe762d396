/*
 * bench_list - what GET /v1/runs costs with many runs stored, on the
 * embedded store and on Redis.
 *
 * For each store it starts router-sim (etc/scenarios/release_never_finishes
 * .json), with Redis a redis-server of its own on a free loopback port (no
 * persistence), and the daemon with release_check.  It starts N runs whose
 * job never finishes: each calls start_task, then waits poll_interval_ms
 * (60 s) on the timer before its first get_job, so its record carries a
 * checkpoint with the whole input, a diff_text of K KiB included.  Once the
 * daemon has logged the start_task of every run, it times GET /v1/runs?graph=nomatch
 * (a filter no run matches, so the listing examines every stored run, up to
 * its scan bound) and GET /v1/runs?limit=50, and with Redis counts the bytes
 * Redis sent for each (INFO stats).  The listing runs on the daemon's only
 * HTTP thread: its time is how long every other request waits behind it.
 *
 * The daemon and graph come from SV_BUILDDIR, so pointing it at a build of
 * another commit measures that commit with the same client.  Only reports;
 * the exit status is 1 only when something did not start, the runs did not
 * park in time, or a listing did not answer 200.
 */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BL_MAX_TIMES 64

typedef struct opts {
    long runs, diff_kib, times, clients, workers, timeout_s;
    int memory, redis, json, keep;
} opts;

typedef struct result {
    size_t accepted;
    double start_s, scan_ms, scan_min_ms, scan_max_ms, newest_ms;
    long long scan_bytes, newest_bytes; /* sent by Redis per listing; -1 without */
    double scan_eval_ms;                /* Redis busy in the listing script, per scan */
    long rss_kib;
    int ok;
} result;

typedef struct bench {
    const opts *o;
    bc_proc sim, redis, d;
    bc_tail tail;
    long started; /* start_task calls logged */
    char *body;   /* the start request, the same for every run */
} bench;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_list [--runs N] [--diff-kib K] [--store memory|redis|both]\n"
               "                  [--times T] [--clients C] [--workers W] [--timeout SEC]\n"
               "                  [--json] [--keep]\n"
               "  --runs N        parked runs of release_check stored (default 10000)\n"
               "  --diff-kib K    KiB of diff_text in each run's input (default 0)\n"
               "  --store S       memory, redis or both (default both; redis-server from PATH)\n"
               "  --times T       requests timed per listing (default 9; median, min, max)\n"
               "  --clients C     concurrent keep-alive HTTP clients to start runs (default 8)\n"
               "  --workers W     the daemon's WORKER_THREADS (default 2)\n"
               "  --timeout SEC   give up on a phase after SEC seconds (default 300)\n"
               "  --json          also print one machine-readable line (prefix BENCH_JSON )\n"
               "  --keep          keep the temp dirs (logs) for inspection\n"
               "Environment: SV_BUILDDIR, SV_SRCDIR (default: the tree `make bench` built).\n");
}

static void parse(int argc, char **argv, opts *o)
{
    *o = (opts){.runs = 10000,
                .times = 9,
                .clients = 8,
                .workers = 2,
                .timeout_s = 300,
                .memory = 1,
                .redis = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--runs") == 0) {
            o->runs = bc_opt_long(a, v, 1, 1000000), i++;
        } else if (strcmp(a, "--diff-kib") == 0) {
            o->diff_kib = bc_opt_long(a, v, 0, 1000), i++;
        } else if (strcmp(a, "--times") == 0) {
            o->times = bc_opt_long(a, v, 1, BL_MAX_TIMES), i++;
        } else if (strcmp(a, "--clients") == 0) {
            o->clients = bc_opt_long(a, v, 1, 512), i++;
        } else if (strcmp(a, "--workers") == 0) {
            o->workers = bc_opt_long(a, v, 1, 1024), i++;
        } else if (strcmp(a, "--timeout") == 0) {
            o->timeout_s = bc_opt_long(a, v, 1, 86400), i++;
        } else if (strcmp(a, "--store") == 0 && v) {
            o->memory = strcmp(v, "memory") == 0 || strcmp(v, "both") == 0;
            o->redis = strcmp(v, "redis") == 0 || strcmp(v, "both") == 0;
            if (!o->memory && !o->redis)
                usage(stderr), exit(2);
            i++;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--keep") == 0) {
            o->keep = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout), exit(0);
        } else {
            usage(stderr), exit(2);
        }
    }
}

/* ---- the runs ---- */

static void on_line(void *arg, const char *line, size_t len)
{
    bench *b = arg;
    (void)len;
    if (strstr(line, "\"msg\":\"tool_call\"") && strstr(line, "\"action\":\"start_task\""))
        b->started++;
}

static void next_start(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    (void)i;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/graphs/release_check/runs",
             b->d.port);
    req->method = "POST";
    req->body = strdup(b->body);
}

static void done_start(void *arg, size_t i, long status, const char *body, size_t len)
{
    (void)arg;
    (void)i;
    (void)status;
    (void)body;
    (void)len;
}

/* The start request: a job that never finishes, polled once a minute. */
static char *start_body(long diff_kib)
{
    size_t n = (size_t)diff_kib * 1024;
    char *diff = malloc(n + 1), *body = NULL;
    if (!diff)
        return NULL;
    for (size_t i = 0; i < n; i++)
        diff[i] = (char)('a' + i % 26);
    diff[n] = '\0';
    if (asprintf(&body,
                 "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\",\"input\":"
                 "{\"service_name\":\"bench\",\"diff_text\":\"%s\",\"poll_interval_ms\":60000,"
                 "\"timeouts\":{\"overall_sec\":86400}}}",
                 diff) < 0)
        body = NULL;
    free(diff);
    return body;
}

/* Time `times` GETs of path: median, min and max ms; with Redis the bytes
 * it sent and the ms it spent in scripts per request (-1 without).  0, or -1
 * when one did not answer 200. */
static int time_get(const bench *b, const char *path, double *med, double *min, double *max,
                    long long *bytes, double *eval_ms)
{
    double ms[BL_MAX_TIMES];
    char url[512];
    int rc = 0, n = (int)b->o->times;
    long long out0 = b->redis.pid > 0 ? bc_redis_out_bytes(b->redis.port) : -1;
    long long ev0 = b->redis.pid > 0 ? bc_redis_eval_usec(b->redis.port) : -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", b->d.port, path);
    for (int i = 0; i < n; i++) {
        double t = bc_now();
        long status = bc_http("GET", url, NULL, NULL);
        ms[i] = (bc_now() - t) * 1e3;
        if (status != 200) {
            fprintf(stderr, "bench: GET %s answered %ld\n", path, status);
            rc = -1;
        }
    }
    long long out1 = out0 >= 0 ? bc_redis_out_bytes(b->redis.port) : -1;
    long long ev1 = ev0 >= 0 ? bc_redis_eval_usec(b->redis.port) : -1;
    *bytes = out0 >= 0 && out1 >= 0 ? (out1 - out0) / n : -1;
    if (eval_ms)
        *eval_ms = ev0 >= 0 && ev1 >= 0 ? (double)(ev1 - ev0) / n / 1e3 : -1;
    *med = bc_median(ms, (size_t)n); /* sorts */
    if (min)
        *min = ms[0];
    if (max)
        *max = ms[n - 1];
    return rc;
}

static void stop_all(bench *b)
{
    bc_tail_free(&b->tail);
    if (b->d.pid > 0)
        bc_proc_stop(&b->d, 20000, b->o->keep);
    if (b->redis.pid > 0)
        bc_proc_stop(&b->redis, 5000, b->o->keep);
    if (b->sim.pid > 0)
        bc_proc_stop(&b->sim, 5000, b->o->keep);
}

static int wait_started(bench *b, long target)
{
    long long deadline = bc_now_ms() + b->o->timeout_s * 1000;
    for (bc_tail_read(&b->tail, on_line, b); b->started < target;
         bc_tail_read(&b->tail, on_line, b)) {
        if (bc_interrupted() || bc_now_ms() > deadline) {
            fprintf(stderr, "bench: only %ld of %ld runs parked within %ld s\n", b->started, target,
                    b->o->timeout_s);
            return -1;
        }
        bc_sleep_ms(5);
    }
    return 0;
}

/* One store: start everything, store the runs, time the listings. */
static int measure(const opts *o, int redis, result *res)
{
    bench b;
    char env_url[96];
    const char *env[] = {env_url, NULL};
    const char *plugins[] = {"release_check", NULL};
    bc_pool_result pr;
    int rc = -1;

    memset(&b, 0, sizeof b);
    memset(res, 0, sizeof *res);
    b.o = o;
    b.sim.pid = b.redis.pid = b.d.pid = -1;
    b.body = start_body(o->diff_kib);
    if (!b.body || bc_sim_start("etc/scenarios/release_never_finishes.json", &b.sim) < 0)
        goto out;
    if (redis && bc_redis_start(&b.redis) < 0)
        goto out;
    bc_redis_url_env(&b.redis, env_url, sizeof env_url);
    if (bc_daemon_start(plugins, &b.sim, (int)o->workers, NULL, redis ? env : NULL, &b.d) < 0)
        goto out;
    bc_tail_init(&b.tail, b.d.log_path);

    size_t n = (size_t)o->runs;
    double t0 = bc_now();
    if (bc_pool_run((int)o->clients, n, next_start, done_start, &b, o->timeout_s * 1000, &pr) < 0)
        goto out;
    res->accepted = pr.done - pr.non2xx;
    if (res->accepted != n)
        fprintf(stderr, "bench: %zu of %zu runs accepted; first error: %s\n", res->accepted, n,
                pr.first_error);
    if (wait_started(&b, (long)res->accepted) < 0)
        goto out;
    res->start_s = bc_now() - t0;
    bc_sleep_ms(500); /* the last runs write their checkpoint and park */

    rc = time_get(&b, "/v1/runs?graph=nomatch", &res->scan_ms, &res->scan_min_ms, &res->scan_max_ms,
                  &res->scan_bytes, &res->scan_eval_ms);
    if (time_get(&b, "/v1/runs?limit=50", &res->newest_ms, NULL, NULL, &res->newest_bytes, NULL) <
        0)
        rc = -1;
    bc_pstat ps;
    if (bc_pstat_read(b.d.pid, &ps) == 0)
        res->rss_kib = ps.rss_kib;
    res->ok = rc == 0 && res->accepted == n;
out:
    stop_all(&b);
    free(b.body);
    return res->ok ? 0 : -1;
}

static void print_result(const char *store, const result *r)
{
    char scan_b[32] = "-", eval[32] = "-", newest_b[32] = "-";
    if (r->scan_bytes >= 0)
        snprintf(scan_b, sizeof scan_b, "%.0f KiB", (double)r->scan_bytes / 1024);
    if (r->scan_eval_ms >= 0)
        snprintf(eval, sizeof eval, "%.1f", r->scan_eval_ms);
    if (r->newest_bytes >= 0)
        snprintf(newest_b, sizeof newest_b, "%.1f KiB", (double)r->newest_bytes / 1024);
    printf("%-7s %6zu %8.1f %6.1f %6.1f %10s %7s %9.2f %10s %7ld\n", store, r->accepted, r->scan_ms,
           r->scan_min_ms, r->scan_max_ms, scan_b, eval, r->newest_ms, newest_b, r->rss_kib / 1024);
}

int main(int argc, char **argv)
{
    opts o;
    result mem = {0}, red = {0};
    char machine[256];
    int rc = 0;

    parse(argc, argv, &o);
    bc_init();
    bc_machine(machine, sizeof machine);
    printf("bench_list: %ld parked runs of release_check (diff_text %ld KiB), %ld timed "
           "requests per listing, daemon from %s\n",
           o.runs, o.diff_kib, o.times, bc_builddir());
    printf("machine: %s\n", machine);
    if (o.memory && measure(&o, 0, &mem) < 0)
        rc = 1;
    if (o.redis && !bc_interrupted() && measure(&o, 1, &red) < 0)
        rc = 1;
    if (bc_interrupted()) {
        fprintf(stderr, "bench: interrupted\n");
        return 130;
    }
    printf("\nGET /v1/runs?graph=nomatch (scan: matches none) and GET /v1/runs?limit=50 "
           "(newest)\n");
    printf("%-7s %6s %8s %6s %6s %10s %7s %9s %10s %7s\n", "store", "runs", "scan ms", "min", "max",
           "Redis sent", "EVAL ms", "newest ms", "Redis sent", "RSS MiB");
    if (o.memory)
        print_result("memory", &mem);
    if (o.redis)
        print_result("redis", &red);
    if (o.json)
        printf("BENCH_JSON {\"bench\":\"list\",\"runs\":%ld,\"diff_kib\":%ld,"
               "\"memory_scan_ms\":%.3f,\"memory_newest_ms\":%.3f,\"redis_scan_ms\":%.3f,"
               "\"redis_newest_ms\":%.3f,\"redis_scan_bytes\":%lld,\"redis_scan_eval_ms\":%.3f,"
               "\"redis_newest_bytes\":%lld}\n",
               o.runs, o.diff_kib, mem.scan_ms, mem.newest_ms, red.scan_ms, red.newest_ms,
               red.scan_bytes, red.scan_eval_ms, red.newest_bytes);
    return rc;
}
