/*
 * bench_waiting - what a waiting run costs: memory, threads, and how fast a
 * crowd of them can be cancelled.
 *
 * Starts router-sim (tests/scenarios/engine_ok.json) and the daemon with the
 * test_wait graph, warms it up, then records the daemon's VmRSS and thread
 * count, starts N runs of test_wait with {"waits":1,"delay_ms":600000} (one
 * tool call, then parked on the timer for ten minutes), waits until the
 * daemon has logged the first tool call of every one of them, and records
 * RSS and threads again.  Then it checks every run through the API (status
 * "running", one tool call, parked after its node), cancels them all and
 * times the cancel requests and the runs reaching "cancelled" (each cancel
 * runs test_wait's on_cancel hook: one more tool call).
 *
 * Only reports; the exit status is 1 only when the runs did not get where
 * they should or the work did not finish in time.
 */
#include "bench_common.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct opts {
    long runs, clients, workers, delay_ms, warmup, timeout_s;
    int json, keep;
} opts;

typedef struct bench {
    opts o;
    bc_proc sim, d;
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
               "                     [--warmup K] [--timeout SEC] [--json] [--keep]\n"
               "  --runs N       waiting runs of test_wait (default 10000)\n"
               "  --clients C    concurrent keep-alive HTTP clients (default 8)\n"
               "  --workers W    the daemon's WORKER_THREADS (default 2)\n"
               "  --delay-ms MS  how long each run waits (default 600000: they never wake)\n"
               "  --warmup K     finished runs before the first measurement (default 100)\n"
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
                .timeout_s = 300};
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

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    parse(argc, argv, &b.o);
    const opts *o = &b.o;
    char input[128], machine[256];
    snprintf(input, sizeof input, "{\"waits\":1,\"delay_ms\":%ld}", o->delay_ms);
    b.input = input;
    bc_init();
    bc_machine(machine, sizeof machine);
    size_t n = (size_t)o->runs;
    b.ids = calloc(n, sizeof *b.ids);
    if (!b.ids)
        return 1;

    if (bc_sim_start("tests/scenarios/engine_ok.json", &b.sim) < 0)
        return 1;
    const char *plugins[] = {"test_wait", NULL};
    if (bc_daemon_start(plugins, &b.sim, (int)o->workers, NULL, NULL, &b.d) < 0) {
        bc_proc_stop(&b.sim, 5000, o->keep);
        return 1;
    }
    bc_tail_init(&b.tail, b.d.log_path);
    int rc = 1;
    bc_pool_result pr;
    bc_pstat p0, p1, p2, p3;

    printf("bench_waiting: %ld runs of test_wait %s, %ld clients, WORKER_THREADS=%ld\n", o->runs,
           input, o->clients, o->workers);
    printf("machine: %s\n", machine);

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

    double per_run_kib = (double)(p1.rss_kib - p0.rss_kib) / (double)accepted;
    printf("\n%-34s %10s %8s %12s\n", "", "RSS KiB", "threads", "daemon CPU s");
    printf("%-34s %10ld %8d %12.2f\n", "before (warmed up, idle)", p0.rss_kib, p0.threads,
           p0.cpu_s);
    printf("%-34s %10ld %8d %12.2f\n", "all runs parked", p1.rss_kib, p1.threads, p1.cpu_s);
    printf("%-34s %10ld %8d %12.2f\n", "after reading every run view", p2.rss_kib, p2.threads,
           p2.cpu_s);
    printf("%-34s %10ld %8d %12.2f\n", "all cancelled (+1 s)", p3.rss_kib, p3.threads, p3.cpu_s);
    printf("\n  %zu runs accepted in %.3f s (%.0f starts/s); all first tool calls done after "
           "%.3f s\n",
           accepted, submit_s, (double)accepted / submit_s, parked_s);
    printf("  waiting runs: %zu of %zu seen parked through GET /v1/runs/{id} (%.0f views/s)\n",
           b.n_ok, n, (double)n / views_s);
    printf("  GET /v1/runs?limit=50: %.2f ms (HTTP %ld); GET /v1/runs?status=succeeded&limit=1 "
           "(matches none, examines all %zu runs): %.2f ms (HTTP %ld)\n",
           list_new_ms, st_new, accepted + (size_t)o->warmup, list_scan_ms, st_scan);
    printf("  memory: %+ld KiB for %zu waiting runs = %.2f KiB per waiting run "
           "(store record + events included)\n",
           p1.rss_kib - p0.rss_kib, accepted, per_run_kib);
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
    if (o->json)
        printf("BENCH_JSON {\"bench\":\"waiting\",\"runs\":%zu,\"workers\":%ld,\"nproc\":%ld,"
               "\"rss_before_kib\":%ld,\"rss_parked_kib\":%ld,\"rss_cancelled_kib\":%ld,"
               "\"kib_per_waiting_run\":%.3f,\"threads_before\":%d,\"threads_parked\":%d,"
               "\"threads_cancelled\":%d,\"starts_per_s\":%.1f,\"parked_after_s\":%.3f,"
               "\"start_cpu_us_per_run\":%.2f,\"cancel_requests_per_s\":%.1f,"
               "\"cancelled_runs_per_s\":%.1f,\"verified_parked\":%zu,\"list_newest_ms\":%.3f,"
               "\"list_scan_ms\":%.3f}\n",
               accepted, o->workers, sysconf(_SC_NPROCESSORS_ONLN), p0.rss_kib, p1.rss_kib,
               p3.rss_kib, per_run_kib, p0.threads, p1.threads, p3.threads,
               (double)accepted / submit_s, parked_s,
               (p1.cpu_s - p0.cpu_s) / (double)accepted * 1e6, (double)n / cancel_api_s,
               (double)n / cancel_all_s, b.n_ok, list_new_ms, list_scan_ms);
    rc = 0;
    if (accepted != n || b.n_ok != n || early != 0 || b.n_cancel_202 != n) {
        fprintf(stderr,
                "bench: %zu of %zu accepted, %zu parked, %ld finished early, %zu x 202 on "
                "cancel\n",
                accepted, n, b.n_ok, early, b.n_cancel_202);
        rc = 1;
    }
stop:
    bc_tail_free(&b.tail);
    if (bc_proc_stop(&b.d, 20000, o->keep) != 0 && !bc_interrupted()) {
        fprintf(stderr, "bench: the daemon did not exit 0\n");
        rc = 1;
    }
    bc_proc_stop(&b.sim, 5000, o->keep);
    free(b.ids);
    if (bc_interrupted()) {
        fprintf(stderr, "bench: interrupted\n");
        return 130;
    }
    return rc;
}
