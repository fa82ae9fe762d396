/*
 * test_metrics.c - GET /metrics of a real daemon after real runs
 * (docs/operations.md, "Metrics"): the histograms have the series and counts
 * the runs made, cumulative buckets ending at +Inf == _count, no run id in
 * any label; the gauges see a waiting run; refused plugins are listed by
 * GET /v1/graphs and counted, and leave both when their file goes or is
 * fixed; `promtool check metrics` accepts the scrape; and every metric the
 * Grafana dashboard (etc/grafana) queries is one the daemon exposes.
 *
 * Without promtool the rest still runs and the program exits 77 (SKIP)
 * saying so; SV_TEST_STRICT=1 (test.sh's deploy step) makes that a failure.
 */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

static th_proc g_sim;
static int g_no_promtool;

static int suite_init(void)
{
    return th_sim_start("tests/scenarios/metrics.json", NULL, &g_sim);
}

static int suite_clean(void)
{
    th_proc_stop(&g_sim, 5000);
    return 0;
}

static char *scrape(int port)
{
    th_resp r;
    if (th_http("GET", port, "/metrics", NULL, NULL, &r) != 0 || r.status != 200) {
        th_resp_free(&r);
        return NULL;
    }
    char *text = r.body;
    r.body = NULL;
    th_resp_free(&r);
    return text;
}

/* The value of the sample whose name and labels are exactly series
 * ("name{a=\"x\"}" or "name"), or -1 when there is none. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* Every histogram series in text: buckets cumulative, +Inf last and equal
 * to _count.  The number of series checked. */
static int check_buckets(const char *text)
{
    int series = 0;
    char key[1024] = "";
    double prev = -1;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *b = strstr(p, "_bucket{"), *eol = strchr(p, '\n');
        if (*p == '#' || !b || (eol && b > eol))
            continue;
        const char *le = strstr(b, ",le=\"");
        CU_ASSERT_FATAL(le != NULL && (!eol || le < eol));
        char k[1024];
        snprintf(k, sizeof k, "%.*s", (int)(le - p), p);
        double v = strtod(strchr(le, ' ') + 1, NULL);
        if (strcmp(k, key) != 0) {
            CU_ASSERT_EQUAL(prev, -1); /* the previous series ended at +Inf */
            snprintf(key, sizeof key, "%s", k);
            prev = 0;
        }
        CU_ASSERT(v >= prev);
        prev = v;
        if (strncmp(le, ",le=\"+Inf\"}", 11) == 0) {
            /* name_bucket{labels -> name_count{labels} */
            char count[1100];
            snprintf(count, sizeof count, "%.*s_count%.*s}", (int)(b - p), p, (int)(le - (b + 7)),
                     b + 7);
            CU_ASSERT_EQUAL(sample(text, count), v);
            series++;
            prev = -1;
            key[0] = '\0';
        }
    }
    CU_ASSERT_EQUAL(prev, -1);
    return series;
}

static int wait_run(int port, const char *id, const char *status)
{
    json_object *v = th_wait_run(port, id, 20000);
    int ok = th_streq(th_get_str(v, "status"), status);
    json_object_put(v);
    return ok;
}

/* Poll until the scrape has series at value (or the deadline). */
static int wait_sample(int port, const char *series, double value, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    do {
        char *text = scrape(port);
        double v = text ? sample(text, series) : -2;
        free(text);
        if (v == value)
            return 1;
        th_poll_pause();
    } while (th_mono_ms() < deadline);
    printf("\n    %s never reached %g\n", series, value);
    return 0;
}

/* Pipe text into `promtool check metrics`; its verdict, or 77 without it. */
static int promtool(const char *text, const char *dir)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        return 77;
    char path[400], cmd[1000];
    snprintf(path, sizeof path, "%s/scrape.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "promtool check metrics <'%s' >'%s.out' 2>&1", path, path);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s.out'", path);
        if (system(cmd) != 0)
            return -1;
    }
    return rc == 0 ? 0 : 1;
}

/* promtool's verdict on a scrape must be clean; without promtool, the
 * test says so at the end (a skip, or a failure under SV_TEST_STRICT). */
static void check_promtool(const char *text, const char *dir)
{
    int rc = promtool(text, dir);
    if (rc == 77)
        g_no_promtool = 1;
    else
        CU_ASSERT_EQUAL(rc, 0);
}

static void test_runs_histograms(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain", "test_wait", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);

    /* before any run: the families are there, without series */
    char *text = scrape(d.port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT(strstr(text, "# TYPE sofiia_run_duration_seconds histogram\n") != NULL);
    CU_ASSERT(strstr(text, "# TYPE sofiia_node_duration_seconds histogram\n") != NULL);
    CU_ASSERT(strstr(text, "# TYPE sofiia_tool_call_duration_seconds histogram\n") != NULL);
    CU_ASSERT(strstr(text, "sofiia_run_duration_seconds_count") == NULL);
    CU_ASSERT_EQUAL(sample(text, "sofiia_runs_by_status{status=\"running\"}"), 0);
    free(text);

    char ids[5][64];
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"ok\"}", ids[0]), 202);
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"bad\"}", ids[1]), 202);
    CU_ASSERT_EQUAL(
        th_start_run(d.port, "test_chain", "{\"label\":\"x\",\"fail_at\":\"b\"}", ids[2]), 202);
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"retry\"}", ids[3]), 202);
    CU_ASSERT(wait_run(d.port, ids[0], "succeeded"));
    CU_ASSERT(wait_run(d.port, ids[1], "failed"));
    CU_ASSERT(wait_run(d.port, ids[2], "failed"));
    CU_ASSERT(wait_run(d.port, ids[3], "succeeded"));

    /* a run parked on the timer: the gauges see it, then it is cancelled */
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait",
                                 "{\"waits\":5,\"delay_ms\":60000,\"label\":\"w\"}", ids[4]),
                    202);
    CU_ASSERT(wait_sample(d.port, "sofiia_runs_waiting{on=\"timer\"}", 1, 10000));
    CU_ASSERT(wait_sample(d.port, "sofiia_runs_by_status{status=\"running\"}", 1, 1000));
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", ids[4]);
    th_resp r;
    th_http("POST", d.port, path, NULL, NULL, &r);
    CU_ASSERT(r.status == 200 || r.status == 202);
    th_resp_free(&r);
    CU_ASSERT(wait_run(d.port, ids[4], "cancelled"));
    CU_ASSERT(wait_sample(d.port, "sofiia_runs_waiting{on=\"timer\"}", 0, 5000));
    /* A run's end is counted once stored, so a reader can see the run
     * ended a moment before the count has it. */
    CU_ASSERT(wait_sample(
        d.port, "sofiia_run_duration_seconds_count{graph=\"test_wait\",status=\"cancelled\"}", 1,
        5000));
    CU_ASSERT(wait_sample(
        d.port, "sofiia_run_duration_seconds_count{graph=\"test_chain\",status=\"succeeded\"}", 2,
        5000));
    CU_ASSERT(wait_sample(
        d.port, "sofiia_run_duration_seconds_count{graph=\"test_chain\",status=\"failed\"}", 2,
        5000));

    text = scrape(d.port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    /* runs: count == runs done, by graph and final status */
    CU_ASSERT_EQUAL(
        sample(text,
               "sofiia_run_duration_seconds_count{graph=\"test_chain\",status=\"succeeded\"}"),
        2);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_run_duration_seconds_count{graph=\"test_chain\",status=\"failed\"}"),
        2);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_run_duration_seconds_count{graph=\"test_wait\",status=\"cancelled\"}"),
        1);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_run_duration_seconds_count{graph=\"test_wait\",status=\"succeeded\"}"),
        -1);
    CU_ASSERT(sample(text, "sofiia_run_duration_seconds_sum{graph=\"test_chain\","
                           "status=\"succeeded\"}") > 0);
    /* nodes: a ran in all four chains, b in three (it failed in one), c in two */
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_node_duration_seconds_count{graph=\"test_chain\",node=\"a\"}"), 4);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_node_duration_seconds_count{graph=\"test_chain\",node=\"b\"}"), 3);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_node_duration_seconds_count{graph=\"test_chain\",node=\"c\"}"), 2);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_node_duration_seconds_count{graph=\"test_wait\",node=\"tick\"}"), 1);
    /* tool calls, one per logical call (the retried one counts once):
     * ok 3, fail_at b 1 (a's), retry 3 succeeded; bad's first failed */
    CU_ASSERT_EQUAL(sample(text, "sofiia_tool_call_duration_seconds_count{tool=\"test_tool\","
                                 "action=\"step\",outcome=\"succeeded\"}"),
                    7);
    CU_ASSERT_EQUAL(sample(text, "sofiia_tool_call_duration_seconds_count{tool=\"test_tool\","
                                 "action=\"step\",outcome=\"failed\"}"),
                    1);
    CU_ASSERT_EQUAL(
        sample(text, "sofiia_tool_call_retries_total{tool=\"test_tool\",action=\"step\"}"), 1);
    /* the attempts counter of before is still there, and counts the 503 */
    CU_ASSERT_EQUAL(sample(text, "sofiia_tool_call_attempts_total{status=\"failed\"}"), 2);
    CU_ASSERT_EQUAL(sample(text, "sofiia_runs_finished_total{status=\"succeeded\"}"), 2);
    CU_ASSERT_EQUAL(sample(text, "sofiia_runs_by_status{status=\"running\"}"), 0);
    CU_ASSERT(sample(text, "sofiia_store_errors_total{kind=\"unavailable\"}") == 0);

    CU_ASSERT(check_buckets(text) >= 9);
    for (int i = 0; i < 5; i++)
        CU_ASSERT(ids[i][0] && strstr(text, ids[i]) == NULL);

    check_promtool(text, d.dir);
    free(text);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* Does GET /v1/graphs list file as refused with reason?  1 yes, 0 absent,
 * -1 listed with another reason or without detail or time. */
static int refused_as(int port, const char *file, const char *reason)
{
    th_resp r;
    int found = 0;
    th_http("GET", port, "/v1/graphs", NULL, NULL, &r);
    json_object *a = th_get(r.json, "refused");
    if (!a || !json_object_is_type(a, json_type_array))
        found = -1;
    for (size_t i = 0; found == 0 && a && i < json_object_array_length(a); i++) {
        json_object *e = json_object_array_get_idx(a, i);
        const char *f = th_get_str(e, "file");
        if (!f || strcmp(f, file) != 0)
            continue;
        const char *detail = th_get_str(e, "detail"), *at = th_get_str(e, "at");
        found = th_streq(th_get_str(e, "reason"), reason) && detail && detail[0] && at &&
                        strlen(at) >= 20 && at[4] == '-' && at[10] == 'T'
                    ? 1
                    : -1;
    }
    th_resp_free(&r);
    return found;
}

static int wait_refused(int port, const char *file, const char *reason, int want)
{
    long long deadline = th_mono_ms() + 10000;
    do {
        if (refused_as(port, file, reason) == want)
            return 1;
        th_poll_pause();
    } while (th_mono_ms() < deadline);
    return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* not *.so: the scan skips it */
    FILE *f = fopen(tmp, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (len)
        fwrite(data, 1, len, f);
    fclose(f);
    CU_ASSERT_EQUAL(rename(tmp, path), 0);
}

static void test_refused_plugins(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain", "test_bad_abi", "test_dup_name", NULL};
    const char *const env[] = {"PLUGIN_SCAN_MS=200", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &d) == 0);
    char dir[300], garbage[600], fixme[600];
    th_plugin_dir(&d, dir, sizeof dir);
    snprintf(garbage, sizeof garbage, "%s/garbage.so", dir);
    snprintf(fixme, sizeof fixme, "%s/fixme.so", dir);
    write_file(garbage, "this is not an ELF file at all", 30);
    write_file(fixme, "", 0);

    CU_ASSERT_EQUAL(refused_as(d.port, "test_bad_abi.so", "abi_mismatch"), 1);
    CU_ASSERT_EQUAL(refused_as(d.port, "test_dup_name.so", "duplicate_name"), 1);
    CU_ASSERT(wait_refused(d.port, "garbage.so", "not_elf", 1));
    CU_ASSERT(wait_refused(d.port, "fixme.so", "not_elf", 1));
    CU_ASSERT_EQUAL(refused_as(d.port, "test_chain.so", "none"), 0);
    char *text = scrape(d.port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugins_refused{reason=\"not_elf\"}"), 2);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugins_refused{reason=\"abi_mismatch\"}"), 1);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugins_refused{reason=\"duplicate_name\"}"), 1);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugins_refused{reason=\"init_failed\"}"), 0);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugin_refusals_total{reason=\"not_elf\"}"), 2);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugin_refusals_total{reason=\"abi_mismatch\"}"), 1);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugin_loads_total"), 1);
    free(text);

    /* removed: gone from the list and the gauge, still in the counter */
    CU_ASSERT_EQUAL(unlink(garbage), 0);
    CU_ASSERT(wait_refused(d.port, "garbage.so", "not_elf", 0));
    /* fixed: a real plugin in place of the empty file loads, and its
     * refusal is cleared */
    char src[600];
    size_t len = 0;
    char *so = th_read_file(th_plugin_path("test_wait", src, sizeof src), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(so);
    write_file(fixme, so, len);
    free(so);
    CU_ASSERT(wait_refused(d.port, "fixme.so", "not_elf", 0));
    CU_ASSERT(wait_sample(d.port, "sofiia_plugins_refused{reason=\"not_elf\"}", 0, 5000));
    CU_ASSERT(wait_sample(d.port, "sofiia_graphs_loaded", 2, 5000));
    text = scrape(d.port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugin_refusals_total{reason=\"not_elf\"}"), 2);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugin_loads_total"), 2);
    CU_ASSERT_EQUAL(sample(text, "sofiia_plugins_refused{reason=\"abi_mismatch\"}"), 1);
    CU_ASSERT_EQUAL(sample(text, "sofiia_graphs_loaded"), 2);
    check_promtool(text, d.dir);
    free(text);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* Is name (a metric a query uses) one the scrape exposes?  A histogram's
 * _bucket, _sum and _count are its own. */
static int exposed(const char *text, const char *name)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s", name);
    size_t n = strlen(want);
    for (const char *p = strstr(text, want); p; p = strstr(p + 1, want))
        if (p[n] == ' ' || p[n] == '{')
            return 1;
    /* a family without a series yet (a labelled counter nobody added to) */
    char type[300];
    snprintf(type, sizeof type, "# TYPE %s ", name);
    if (strstr(text, type))
        return 1;
    static const char *const suffix[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(name), sl = strlen(suffix[i]);
        if (len > sl && strcmp(name + len - sl, suffix[i]) == 0) {
            snprintf(type, sizeof type, "# TYPE %.*s histogram\n", (int)(len - sl), name);
            if (strstr(text, type))
                return 1;
        }
    }
    return 0;
}

/* Every sofiia_* name in the "expr" strings of the dashboard's JSON. */
static void walk_exprs(json_object *o, const char *text, int *names, int *bad)
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            walk_exprs(json_object_array_get_idx(o, i), text, names, bad);
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, key, v)
    {
        if (strcmp(key, "expr") == 0 && json_object_is_type(v, json_type_string)) {
            const char *e = json_object_get_string(v);
            for (const char *p = strstr(e, "sofiia_"); p; p = strstr(p + 1, "sofiia_")) {
                if (p > e && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
                    continue;
                size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
                char name[200];
                snprintf(name, sizeof name, "%.*s", (int)n, p);
                (*names)++;
                if (!exposed(text, name)) {
                    printf("\n    the dashboard queries %s, which /metrics does not have", name);
                    (*bad)++;
                }
            }
        } else {
            walk_exprs(v, text, names, bad);
        }
    }
}

static void test_dashboard_names(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);
    char *text = scrape(d.port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char path[600];
    json_object *dash = json_object_from_file(
        th_src("etc/grafana/sofiia-supervisor-dashboard.json", path, sizeof path));
    CU_ASSERT_PTR_NOT_NULL_FATAL(dash);
    CU_ASSERT(th_len(dash, "panels") >= 12);
    int names = 0, bad = 0;
    walk_exprs(dash, text, &names, &bad);
    printf("\n    %d metric references in the dashboard's queries, %d unknown\n", names, bad);
    CU_ASSERT(names >= 15);
    CU_ASSERT_EQUAL(bad, 0);
    json_object_put(dash);
    free(text);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"runs, nodes, tool calls: histogram series, counts, gauges", test_runs_histograms},
        {"refused plugins: listed, counted, cleared when gone or fixed", test_refused_plugins},
        {"the Grafana dashboard queries only metrics the daemon has", test_dashboard_names},
    };
    static const sv_cu_suite suites[] = {
        {.name = "metrics", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    int rc = sv_cu_run(suites, sizeof suites / sizeof suites[0]);
    if (rc == 0 && g_no_promtool) {
        const char *strict = getenv("SV_TEST_STRICT");
        printf("SKIP: promtool is not installed (Debian package prometheus): the scrape was not "
               "checked with `promtool check metrics`\n");
        if (strict && strcmp(strict, "1") == 0) {
            printf("FAIL: SV_TEST_STRICT=1: this check must run here\n");
            return 1;
        }
        return 77;
    }
    return rc;
}
