/*
 * bench_waiting - what a waiting run costs: memory, threads, and how fast a
 * crowd of them can be cancelled; on the embedded store, on Redis, or on both
 * one after the other.
 *
 * Starts router-sim (tests/scenarios/engine_ok.json) and the daemon with the
 * test_wait graph (with Redis, a redis-server of its own on a free loopback
 * port, without persistence, named to the daemon by REDIS_URL), warms it up,
 * then records the daemon's VmRSS and thread count (and Redis's used_memory),
 * starts N runs of test_wait with {"waits":1,"delay_ms":600000} (one tool
 * call, then parked on the timer for ten minutes), waits until the daemon has
 * logged the first tool call of every one of them, and records them again.
 * Then it checks every run through the API (status "running", one tool
 * call, parked after its node), cancels them all and times the cancel
 * requests and the runs reaching "cancelled" (each cancel runs test_wait's
 * on_cancel hook: one more tool call).
 *
 * Only reports; the exit status is 1 only when something did not start, the
 * runs did not get where they should or the work did not finish in time.
 */
#include "bench_common.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct opts {
    long runs, clients, workers, delay_ms, warmup, timeout_s;
    int json, keep, memory, redis;
} opts;

/* What one store measured. */
typedef struct result {
    int measured; /* got as far as the numbers */
    size_t accepted, n_ok, cancel_202;
    bc_pstat p0, p1, p3; /* warmed up, all parked, all cancelled (+1 s) */
    double per_run_kib, submit_s, parked_s, start_cpu_us, cancel_api_s, cancel_all_s;
    double cancel_cpu_us, views_per_s, list_new_ms, list_scan_ms;
    long long redis_mem0, redis_mem1, redis_mem3; /* used_memory at p0, p1, p3; -1 without */
    double redis_per_run_kib;
} result;

typedef struct bench {
    opts o;
    bc_proc sim, d, redis;
    bc_tail tail;
    long ticks, finished, cancelled; /* log lines seen */
    char (*ids)[64];
    size_t n_ok, n_bad; /* runs verified parked, or not */
    size_t n_cancel_202, n_cancel_200;
    const char *input;
} bench;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_waiting [--runs N] [--clients C] [--workers W] [--delay-ms MS]\n"
               "                     [--warmup K] [--store memory|redis|both] [--timeout SEC]\n"
               "                     [--json] [--keep]\n"
               "  --runs N       waiting runs of test_wait (default 10000)\n"
               "  --clients C    concurrent keep-alive HTTP clients (default 8)\n"
               "  --workers W    the daemon's WORKER_THREADS (default 2)\n"
               "  --delay-ms MS  how long each run waits (default 600000: they never wake)\n"
               "  --warmup K     finished runs before the first measurement (default 100)\n"
               "  --store S      memory, redis or both, one after the other (default memory);\n"
               "                 redis: a redis-server from PATH on a free loopback port\n"
               "  --timeout SEC  give up on a phase after SEC seconds (default 300)\n"
               "  --json         also print one machine-readable line (prefix BENCH_JSON )\n"
               "  --keep         keep the temp dirs (daemon log) for inspection\n"
               "Environment: SV_BUILDDIR, SV_SRCDIR (default: the tree `make bench` built).\n");
}

static void parse(int argc, char **argv, opts *o)
{
    *o = (opts){.runs = 10000,
                .clients = 8,
                .workers = 2,
                .delay_ms = 600000,
                .warmup = 100,
                .timeout_s = 300,
                .memory = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--runs") == 0)
            o->runs = bc_opt_long(a, v, 1, 1000000), i++;
        else if (strcmp(a, "--clients") == 0)
            o->clients = bc_opt_long(a, v, 1, 512), i++;
        else if (strcmp(a, "--workers") == 0)
            o->workers = bc_opt_long(a, v, 1, 1024), i++;
        else if (strcmp(a, "--delay-ms") == 0)
            o->delay_ms = bc_opt_long(a, v, 60000, 600000), i++;
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
        } else if (strcmp(a, "--json") == 0)
            o->json = 1;
        else if (strcmp(a, "--keep") == 0)
            o->keep = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage(stdout), exit(0);
        else
            usage(stderr), exit(2);
    }
}

static void on_line(void *arg, const char *line, size_t len)
{
    bench *b = arg;
    (void)len;
    if (strstr(line, "\"msg\":\"tool_call\"")) {
        if (strstr(line, "\"action\":\"tick\""))
            b->ticks++;
    } else if (strstr(line, "\"msg\":\"run finished\"")) {
        b->finished++;
        if (strstr(line, "\"status\":\"cancelled\""))
            b->cancelled++;
    }
}

/* Follow the log until *counter reaches target. */
static int wait_count(bench *b, const long *counter, long target, const char *what)
{
    long long deadline = bc_now_ms() + b->o.timeout_s * 1000;
    for (;;) {
        bc_tail_read(&b->tail, on_line, b);
        if (*counter >= target)
            return 0;
        if (bc_interrupted())
            return -1;
        if (bc_now_ms() > deadline) {
            fprintf(stderr, "bench: only %ld of %ld %s within %ld s\n", *counter, target, what,
                    b->o.timeout_s);
            return -1;
        }
        bc_sleep_ms(5);
    }
}

static void next_start(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    char *body = NULL;
    (void)i;
    if (asprintf(&body,
                 "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\","
                 "\"input\":%s}",
                 b->input) < 0)
        body = NULL;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/graphs/test_wait/runs", b->d.port);
    req->method = "POST";
    req->body = body;
}

static void done_start(void *arg, size_t i, long status, const char *body, size_t len)
{
    bench *b = arg;
    (void)len;
    b->ids[i][0] = '\0';
    if (status != 202)
        return;
    json_object *o = json_tokener_parse(body), *id = NULL;
    if (o && json_object_object_get_ex(o, "run_id", &id))
        snprintf(b->ids[i], sizeof b->ids[i], "%s", json_object_get_string(id));
    json_object_put(o);
}

static void next_view(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/runs/%s", b->d.port, b->ids[i]);
}

static int count_type(json_object *events, const char *type)
{
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        json_object *t = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(events, i), "type", &t) &&
            strcmp(json_object_get_string(t), type) == 0)
            n++;
    }
    return n;
}

/* Parked: running, one tool call done, its node ended, not finished. */
static void done_view(void *arg, size_t i, long status, const char *body, size_t len)
{
    bench *b = arg;
    (void)len;
    json_object *v = status == 200 ? json_tokener_parse(body) : NULL, *s = NULL, *ev = NULL;
    if (v && json_object_object_get_ex(v, "status", &s) &&
        strcmp(json_object_get_string(s), "running") == 0 &&
        json_object_object_get_ex(v, "events", &ev) && count_type(ev, "tool_call") == 1 &&
        count_type(ev, "node_end") == 1 && count_type(ev, "run_end") == 0)
        b->n_ok++;
    else if (b->n_bad++ == 0)
        fprintf(stderr, "bench: run %s is not parked after one call: %.300s\n", b->ids[i], body);
    json_object_put(v);
}

/* Median milliseconds of `times` GETs of path. */
static double time_get(const bench *b, const char *path, int times, long *status)
{
    double ms[16];
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", b->d.port, path);
    for (int i = 0; i < times && i < 16; i++) {
        double t = bc_now();
        *status = bc_http("GET", url, NULL, NULL);
        ms[i] = (bc_now() - t) * 1e3;
    }
    return bc_median(ms, (size_t)(times < 16 ? times : 16));
}

static void next_cancel(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    snprintf(req->url, sizeof req->url, "http://127.0.0.1:%d/v1/runs/%s/cancel", b->d.port,
             b->ids[i]);
    req->method = "POST";
}

static void done_cancel(void *arg, size_t i, long status, const char *body, size_t len)
{
    bench *b = arg;
    (void)i;
    (void)body;
    (void)len;
    if (status == 202)
        b->n_cancel_202++;
    else if (status == 200)
        b->n_cancel_200++;
}

static void warmup_start(void *arg, size_t i, bc_req *req)
{
    bench *b = arg;
    const char *saved = b->input;
    b->input = "{\"waits\":0}";
    next_start(arg, i, req);
    b->input = saved;
}

static void warmup_done(void *arg, size_t i, long status, const char *body, size_t len)
{
    (void)arg;
    (void)i;
    (void)status;
    (void)body;
    (void)len;
}

static void pool_errors(const char *what, const bc_pool_result *pr)
{
    if ((pr->transport || pr->non2xx) && !bc_interrupted())
        fprintf(stderr, "bench: %s: %zu without answer, %zu not 2xx; first: %s\n", what,
                pr->transport, pr->non2xx, pr->first_error);
}

/* Redis's used_memory in bytes, or -1 without Redis. */
static long long redis_used(const bench *b)
{
    bc_redis_stats rs;
    return b->redis.pid > 0 && bc_redis_stats_read(b->redis.port, &rs) == 0 ? rs.used_memory : -1;
}

/* One store: start everything, park the runs, look at them, cancel them. */
static int measure(const opts *o, int redis, result *res)
{
    bench b;
    char input[128], env_url[96];
    const char *env[] = {env_url, NULL};
    const char *plugins[] = {"test_wait", NULL};
    const char *store = redis ? "redis" : "memory";
    size_t n = (size_t)o->runs;
    int rc = 1;
    bc_pool_result pr;
    bc_pstat p0, p1, p2, p3;

    memset(&b, 0, sizeof b);
    memset(res, 0, sizeof *res);
    b.o = *o;
    b.sim.pid = b.d.pid = b.redis.pid = -1;
    snprintf(input, sizeof input, "{\"waits\":1,\"delay_ms\":%ld}", o->delay_ms);
    b.input = input;
    b.ids = calloc(n, sizeof *b.ids);
    if (!b.ids)
        return 1;
    printf("\n== %s store\n", store);
    if (bc_sim_start("tests/scenarios/engine_ok.json", &b.sim) < 0)
        goto stop;
    if (redis && bc_redis_start(&b.redis) < 0)
        goto stop;
    bc_redis_url_env(&b.redis, env_url, sizeof env_url);
    if (bc_daemon_start(plugins, &b.sim, (int)o->workers, NULL, redis ? env : NULL, &b.d) < 0)
        goto stop;
    bc_tail_init(&b.tail, b.d.log_path);

    /* Warm up: workers get their curl handles, malloc its arenas. */
    if (o->warmup > 0) {
        bc_pool_run((int)o->clients, (size_t)o->warmup, warmup_start, warmup_done, &b,
                    o->timeout_s * 1000, &pr);
        pool_errors("warm-up", &pr);
        if (wait_count(&b, &b.finished, o->warmup - (long)(pr.transport + pr.non2xx),
                       "warm-up runs finished") < 0)
            goto stop;
    }
    bc_sleep_ms(300);
    bc_tail_read(&b.tail, on_line, &b);
    long ticks0 = b.ticks, fin0 = b.finished, canc0 = b.cancelled;
    bc_pstat_read(b.d.pid, &p0);
    res->redis_mem0 = redis_used(&b);

    /* N waiting runs. */
    double t0 = bc_now();
    if (bc_pool_run((int)o->clients, n, next_start, done_start, &b, o->timeout_s * 1000, &pr) < 0)
        goto stop;
    pool_errors("start", &pr);
    double submit_s = pr.wall_s;
    size_t accepted = pr.done - pr.non2xx;
    if (wait_count(&b, &b.ticks, ticks0 + (long)accepted, "first tool calls logged") < 0)
        goto stop;
    double parked_s = bc_now() - t0;
    bc_sleep_ms(500); /* the last nodes end and park; the daemon goes quiet */
    bc_tail_read(&b.tail, on_line, &b);
    bc_pstat_read(b.d.pid, &p1);
    res->redis_mem1 = redis_used(&b);

    /* Every run through the API: parked after one call? */
    if (bc_pool_run((int)o->clients, n, next_view, done_view, &b, o->timeout_s * 1000, &pr) < 0)
        goto stop;
    pool_errors("views", &pr);
    double views_s = pr.wall_s;
    /* The listing: newest 50, and a filter nothing matches (scans every run). */
    long st_new = 0, st_scan = 0;
    double list_new_ms = time_get(&b, "/v1/runs?limit=50", 5, &st_new);
    double list_scan_ms = time_get(&b, "/v1/runs?status=succeeded&limit=1", 5, &st_scan);
    bc_pstat_read(b.d.pid, &p2);
    long early = b.finished - fin0;

    /* Cancel them all. */
    double c0 = bc_now(), cpu_c0 = p2.cpu_s;
    if (bc_pool_run((int)o->clients, n, next_cancel, done_cancel, &b, o->timeout_s * 1000, &pr) < 0)
        goto stop;
    pool_errors("cancel", &pr);
    double cancel_api_s = pr.wall_s;
    if (wait_count(&b, &b.cancelled, canc0 + (long)(b.n_cancel_202 + b.n_cancel_200),
                   "runs cancelled") < 0)
        goto stop;
    double cancel_all_s = bc_now() - c0;
    bc_pstat cpu_after;
    bc_pstat_read(b.d.pid, &cpu_after);
    bc_sleep_ms(1000);
    bc_pstat_read(b.d.pid, &p3);
    res->redis_mem3 = redis_used(&b);

    double per_run_kib = (double)(p1.rss_kib - p0.rss_kib) / (double)accepted;
    printf("%-34s %10s %8s %12s", "", "RSS KiB", "threads", "daemon CPU s");
    if (redis)
        printf(" %14s", "Redis used KiB");
    printf("\n");
    const struct {
        const char *what;
        const bc_pstat *p;
        long long used;
    } rows[] = {{"before (warmed up, idle)", &p0, res->redis_mem0},
                {"all runs parked", &p1, res->redis_mem1},
                {"after reading every run view", &p2, -1},
                {"all cancelled (+1 s)", &p3, res->redis_mem3}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        printf("%-34s %10ld %8d %12.2f", rows[i].what, rows[i].p->rss_kib, rows[i].p->threads,
               rows[i].p->cpu_s);
        if (redis && rows[i].used >= 0)
            printf(" %14lld", rows[i].used / 1024);
        printf("\n");
    }
    printf("\n  %zu runs accepted in %.3f s (%.0f starts/s); all first tool calls done after "
           "%.3f s\n",
           accepted, submit_s, (double)accepted / submit_s, parked_s);
    printf("  waiting runs: %zu of %zu seen parked through GET /v1/runs/{id} (%.0f views/s)\n",
           b.n_ok, n, (double)n / views_s);
    printf("  GET /v1/runs?limit=50: %.2f ms (HTTP %ld); GET /v1/runs?status=succeeded&limit=1 "
           "(matches none, examines all %zu runs): %.2f ms (HTTP %ld)\n",
           list_new_ms, st_new, accepted + (size_t)o->warmup, list_scan_ms, st_scan);
    printf("  memory: %+ld KiB for %zu waiting runs = %.2f KiB per waiting run "
           "(%s)\n",
           p1.rss_kib - p0.rss_kib, accepted, per_run_kib,
           redis ? "the daemon's own: records and events are in Redis"
                 : "store record + events included");
    if (redis && res->redis_mem0 >= 0 && res->redis_mem1 >= 0) {
        res->redis_per_run_kib =
            (double)(res->redis_mem1 - res->redis_mem0) / 1024 / (double)accepted;
        printf("  Redis: %+lld KiB used_memory for %zu waiting runs = %.2f KiB per waiting run "
               "(record with checkpoint, summary, events, index entry)\n",
               (res->redis_mem1 - res->redis_mem0) / 1024, accepted, res->redis_per_run_kib);
    }
    printf("  threads: %d before, %d with %zu runs waiting (%s)\n", p0.threads, p1.threads,
           accepted, p1.threads == p0.threads ? "no growth" : "GREW");
    printf("  daemon CPU to start a run and park it: %.1f us\n",
           (p1.cpu_s - p0.cpu_s) / (double)accepted * 1e6);
    printf("  cancel: %zu requests answered in %.3f s (%.0f/s: %zu x 202, %zu x 200); all "
           "cancelled after %.3f s (%.0f runs/s, each one on_cancel tool call)\n",
           (size_t)(b.n_cancel_202 + b.n_cancel_200), cancel_api_s, (double)n / cancel_api_s,
           b.n_cancel_202, b.n_cancel_200, cancel_all_s, (double)n / cancel_all_s);
    printf("  daemon CPU per cancelled run: %.1f us; RSS after: %+ld KiB vs parked, %+ld KiB vs "
           "before (finished runs stay in the store for RUN_TTL_SEC); peak RSS %ld KiB\n",
           (cpu_after.cpu_s - cpu_c0) / (double)n * 1e6, p3.rss_kib - p1.rss_kib,
           p3.rss_kib - p0.rss_kib, p3.hwm_kib);
    res->measured = 1;
    res->accepted = accepted;
    res->n_ok = b.n_ok;
    res->cancel_202 = b.n_cancel_202;
    res->p0 = p0;
    res->p1 = p1;
    res->p3 = p3;
    res->per_run_kib = per_run_kib;
    res->submit_s = submit_s;
    res->parked_s = parked_s;
    res->start_cpu_us = (p1.cpu_s - p0.cpu_s) / (double)accepted * 1e6;
    res->cancel_api_s = cancel_api_s;
    res->cancel_all_s = cancel_all_s;
    res->cancel_cpu_us = (cpu_after.cpu_s - cpu_c0) / (double)n * 1e6;
    res->views_per_s = (double)n / views_s;
    res->list_new_ms = list_new_ms;
    res->list_scan_ms = list_scan_ms;
    rc = 0;
    if (accepted != n || b.n_ok != n || early != 0 || b.n_cancel_202 != n) {
        fprintf(stderr,
                "bench: %s: %zu of %zu accepted, %zu parked, %ld finished early, %zu x 202 on "
                "cancel\n",
                store, accepted, n, b.n_ok, early, b.n_cancel_202);
        rc = 1;
    }
stop:
    bc_tail_free(&b.tail);
    if (b.d.pid > 0 && bc_proc_stop(&b.d, 20000, o->keep) != 0 && !bc_interrupted()) {
        fprintf(stderr, "bench: the %s daemon did not exit 0\n", store);
        rc = 1;
    }
    if (o->keep && b.d.dir[0])
        printf("kept: %s (daemon log)\n", b.d.dir);
    bc_proc_stop(&b.d, 1000, o->keep); /* the dir, when the daemon never ran */
    bc_proc_stop(&b.redis, 5000, o->keep);
    bc_proc_stop(&b.sim, 5000, o->keep);
    free(b.ids);
    return rc;
}

/* One store's members of the BENCH_JSON line, named prefix + the key. */
static void json_members(const opts *o, const result *r, const char *prefix)
{
    double n = (double)o->runs;
    printf(",\"%srss_before_kib\":%ld,\"%srss_parked_kib\":%ld,\"%srss_cancelled_kib\":%ld,"
           "\"%skib_per_waiting_run\":%.3f,\"%sthreads_before\":%d,\"%sthreads_parked\":%d,"
           "\"%sthreads_cancelled\":%d,\"%sstarts_per_s\":%.1f,\"%sparked_after_s\":%.3f,"
           "\"%sstart_cpu_us_per_run\":%.2f,\"%scancel_requests_per_s\":%.1f,"
           "\"%scancelled_runs_per_s\":%.1f,\"%sverified_parked\":%zu,\"%slist_newest_ms\":%.3f,"
           "\"%slist_scan_ms\":%.3f",
           prefix, r->p0.rss_kib, prefix, r->p1.rss_kib, prefix, r->p3.rss_kib, prefix,
           r->per_run_kib, prefix, r->p0.threads, prefix, r->p1.threads, prefix, r->p3.threads,
           prefix, (double)r->accepted / r->submit_s, prefix, r->parked_s, prefix, r->start_cpu_us,
           prefix, n / r->cancel_api_s, prefix, n / r->cancel_all_s, prefix, r->n_ok, prefix,
           r->list_new_ms, prefix, r->list_scan_ms);
    if (r->redis_mem0 >= 0)
        printf(",\"%sused_memory_before\":%lld,\"%sused_memory_parked\":%lld,"
               "\"%sused_memory_cancelled\":%lld,\"%sused_kib_per_waiting_run\":%.3f",
               prefix, r->redis_mem0, prefix, r->redis_mem1, prefix, r->redis_mem3, prefix,
               r->redis_per_run_kib);
}

int main(int argc, char **argv)
{
    opts o;
    result mem, red;
    char machine[256];
    int rc = 0;

    memset(&mem, 0, sizeof mem);
    memset(&red, 0, sizeof red);
    mem.redis_mem0 = red.redis_mem0 = -1;
    parse(argc, argv, &o);
    bc_init();
    bc_machine(machine, sizeof machine);
    printf("bench_waiting: %ld runs of test_wait {\"waits\":1,\"delay_ms\":%ld}, %ld clients, "
           "WORKER_THREADS=%ld, store %s\n",
           o.runs, o.delay_ms, o.clients, o.workers,
           o.memory && o.redis ? "memory, then redis"
           : o.redis           ? "redis"
                               : "memory");
    printf("machine: %s\n", machine);
    if (o.memory && measure(&o, 0, &mem) != 0)
        rc = 1;
    if (o.redis && !bc_interrupted() && measure(&o, 1, &red) != 0)
        rc = 1;
    if (bc_interrupted()) {
        fprintf(stderr, "bench: interrupted\n");
        return 130;
    }
    if (mem.measured && red.measured) {
        printf("\n%-44s %10s %10s\n", "", "memory", "redis");
        printf("%-44s %10.2f %10.2f\n", "daemon RSS per waiting run, KiB", mem.per_run_kib,
               red.per_run_kib);
        printf("%-44s %10s %10.2f\n", "Redis used_memory per waiting run, KiB", "-",
               red.redis_per_run_kib);
        printf("%-44s %10.2f %10.2f\n", "together, KiB", mem.per_run_kib,
               red.per_run_kib + red.redis_per_run_kib);
        printf("%-44s %10d %10d\n", "daemon threads with the runs waiting", mem.p1.threads,
               red.p1.threads);
        printf("%-44s %10.0f %10.0f\n", "runs started per second",
               (double)mem.accepted / mem.submit_s, (double)red.accepted / red.submit_s);
        printf("%-44s %10.1f %10.1f\n", "daemon CPU to start a run and park it, us",
               mem.start_cpu_us, red.start_cpu_us);
        printf("%-44s %10.0f %10.0f\n", "GET /v1/runs/{id} per second", mem.views_per_s,
               red.views_per_s);
        printf("%-44s %10.0f %10.0f\n", "runs cancelled per second",
               (double)o.runs / mem.cancel_all_s, (double)o.runs / red.cancel_all_s);
        printf("%-44s %10.2f %10.2f\n", "GET /v1/runs?status=succeeded&limit=1, ms",
               mem.list_scan_ms, red.list_scan_ms);
    }
    if (o.json && (mem.measured || red.measured)) {
        printf("BENCH_JSON {\"bench\":\"waiting\",\"stores\":\"%s\",\"runs\":%ld,\"workers\":%ld,"
               "\"nproc\":%ld",
               o.memory && o.redis ? "memory,redis"
               : o.redis           ? "redis"
                                   : "memory",
               o.runs, o.workers, sysconf(_SC_NPROCESSORS_ONLN));
        /* The embedded store's keys have no prefix (as before --store);
         * Redis's start with redis_. */
        if (mem.measured)
            json_members(&o, &mem, "");
        if (red.measured)
            json_members(&o, &red, "redis_");
        printf("}\n");
    }
    return rc;
}
