/*
 * test_metrics_listen.c - METRICS_LISTEN through the real daemon: with
 * SUPERVISOR_INTERNAL_KEY set, the API's /metrics still wants the key while
 * the metrics listener answers GET /metrics and /healthz without one, and
 * nothing else (404, 405); a bad value and an address in use stop start-up
 * with a line naming METRICS_LISTEN; --check-config shows the setting.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

#define KEY "metrics-test-secret-0123456789"

static th_proc g_d;
static int g_mport = -1; /* the metrics listener's port, from its log line */

/* The port of the daemon's "metrics listening" line, or -1. */
static int metrics_port(const th_proc *d)
{
    if (!th_log_contains(d, "\"msg\":\"metrics listening", 10000))
        return -1;
    char *log = th_read_file(d->log_path, NULL);
    const char *line = log ? strstr(log, "\"msg\":\"metrics listening") : NULL;
    const char *p = line ? strstr(line, "\"port\":") : NULL;
    int port = p ? atoi(p + 7) : -1;
    free(log);
    return port;
}

static int suite_init(void)
{
    const char *plugins[] = {"test_chain", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=" KEY, "METRICS_LISTEN=127.0.0.1:0", NULL};
    if (th_daemon_start(plugins, env, NULL, &g_d) < 0)
        return -1;
    g_mport = metrics_port(&g_d);
    return g_mport > 0 ? 0 : -1;
}

static int suite_clean(void)
{
    return th_proc_stop(&g_d, 20000) == 0 ? 0 : -1;
}

static long status_of(int port, const char *method, const char *path, th_resp *r)
{
    th_http(method, port, path, NULL, NULL, r);
    return r->status;
}

static void test_metrics_without_key(void)
{
    th_resp r;
    /* the API's own /metrics still wants the key */
    CU_ASSERT_EQUAL(status_of(g_d.port, "GET", "/metrics", &r), 401);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(status_of(g_mport, "GET", "/metrics", &r), 200);
    CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "sofiia_runs_started_total") : NULL);
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strstr(r.headers, "text/plain") : NULL);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(status_of(g_mport, "GET", "/healthz", &r), 200);
    TH_STR_EQ(th_get_str(r.json, "status"), "ok");
    th_resp_free(&r);
}

static void test_nothing_else_there(void)
{
    static const char *const paths[] = {"/v1/runs", "/v1/graphs", "/readyz", "/ui/", "/", NULL};
    th_resp r;
    for (const char *const *p = paths; *p; p++) {
        CU_ASSERT_EQUAL(status_of(g_mport, "GET", *p, &r), 404);
        TH_STR_EQ(th_get_str(r.json, "error.code"), "not_found");
        th_resp_free(&r);
    }
    /* not even with the key: there is no API on this port */
    const char *auth[] = {"Authorization: Bearer " KEY, NULL};
    th_http("GET", g_mport, "/v1/runs", NULL, auth, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(status_of(g_mport, "POST", "/metrics", &r), 405);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "method_not_allowed");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(status_of(g_mport, "DELETE", "/healthz", &r), 405);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(status_of(g_mport, "POST", "/v1/graphs/test_chain/runs", &r), 404);
    th_resp_free(&r);
}

/* Run the daemon with env (and args); its exit status, its output in out. */
static int run_daemon(const char *const *env, const char *args, char *out, size_t len)
{
    char dir[] = "/tmp/svmetrics.XXXXXX", cmd[4096];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    size_t off = (size_t)snprintf(cmd, sizeof cmd,
                                  "env -i PATH=\"$PATH\" PLUGIN_DIR='%s' "
                                  "PLUGIN_CACHE_DIR='%s/cache' SUPERVISOR_LISTEN=127.0.0.1:0",
                                  dir, dir);
    for (; *env; env++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " '%s'", *env);
    snprintf(cmd + off, sizeof cmd - off, " timeout 30 '%s/sofiia-supervisor' %s 2>&1",
             getenv("SV_BUILDDIR"), args);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_refused(const char *value, int status, const char *needle)
{
    char env[256], out[8192];
    snprintf(env, sizeof env, "METRICS_LISTEN=%s", value);
    const char *e[] = {env, NULL};
    int st = run_daemon(e, "", out, sizeof out);
    CU_ASSERT_EQUAL(st, status);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    if (st != status || !strstr(out, needle))
        fprintf(stderr, "\n    METRICS_LISTEN=%s: exit %d, expected '%s' in: %s\n", value, st,
                needle, out);
}

static void test_bad_value_refused(void)
{
    expect_refused("9100", 2, "METRICS_LISTEN=\\\"9100\\\": expected address:port");
    expect_refused(":9100", 2, "METRICS_LISTEN=\\\":9100\\\": expected address:port");
    expect_refused("example.com:9100", 2, "is not an IPv4/IPv6 address or localhost");
    expect_refused("127.0.0.1:99999", 2, "METRICS_LISTEN=\\\"127.0.0.1:99999\\\": the port");
    expect_refused("[::1:9100", 2, "METRICS_LISTEN=\\\"[::1:9100\\\"");
}

static void test_address_in_use_refused(void)
{
    char value[64];
    /* the API port of the running daemon is taken */
    snprintf(value, sizeof value, "127.0.0.1:%d", g_d.port);
    char want[128];
    snprintf(want, sizeof want, "METRICS_LISTEN=127.0.0.1:%d: cannot listen there", g_d.port);
    expect_refused(value, 1, want);
}

static void test_check_config_shows_it(void)
{
    char out[16384];
    const char *e1[] = {"METRICS_LISTEN=[::1]:9464", NULL};
    CU_ASSERT_EQUAL(run_daemon(e1, "--check-config", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "METRICS_LISTEN=[::1]:9464"));
    const char *e2[] = {"LOG_LEVEL=info", NULL};
    CU_ASSERT_EQUAL(run_daemon(e2, "--check-config", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "METRICS_LISTEN="));
    CU_ASSERT_EQUAL(run_daemon(e2, "--help", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "METRICS_LISTEN"));
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"/metrics on METRICS_LISTEN needs no key; the API's does", test_metrics_without_key},
        {"nothing but /metrics and /healthz there", test_nothing_else_there},
        {"a bad METRICS_LISTEN stops start-up", test_bad_value_refused},
        {"METRICS_LISTEN in use stops start-up", test_address_in_use_refused},
        {"--check-config and --help show METRICS_LISTEN", test_check_config_shows_it},
    };
    static const sv_cu_suite suites[] = {
        {.name = "metrics_listen", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
