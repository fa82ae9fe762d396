/*
 * test_sdk.c - ABI 1.1 through the real daemon: a plugin of ABI 1.0 keeps
 * loading and running; graph settings from the environment (GRAPH_... and a
 * setting's own variable) and from the config file's [graph NAME] section,
 * shown by GET /v1/graphs with the file's hash; a bad value stops start-up
 * (exit 2, one line) or refuses a plugin dropped in later; deadlines (the
 * graph's, the input's, RUN_DEFAULT_TIMEOUT_SEC) and MAX_NODES_PER_RUN; a
 * same-version replacement warns with both hashes; a refused duplicate logs
 * no "unloaded"; --check-config checks graph settings.
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

static th_proc g_sim;

/* NULL-safe strstr, for a member that may be missing. */
static int has(const char *s, const char *needle)
{
    return s && strstr(s, needle);
}

static int suite_init(void)
{
    return th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim);
}

static int suite_clean(void)
{
    th_proc_stop(&g_sim, 5000);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* Copy a built plugin into the daemon's PLUGIN_DIR under `as`, atomically. */
static void install(const th_proc *d, const char *plugin, const char *as)
{
    char src[600], dir[300], tmp[900], dst[900];
    size_t len = 0;
    th_plugin_path(plugin, src, sizeof src);
    th_plugin_dir(d, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, as);
    snprintf(dst, sizeof dst, "%s/%s", dir, as);
    char *data = th_read_file(src, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    FILE *f = fopen(tmp, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(data, 1, len, f);
    fclose(f);
    free(data);
    CU_ASSERT_EQUAL(rename(tmp, dst), 0);
}

/* GET /v1/graphs' entry of graph name (caller puts), or NULL. */
static json_object *graph_info(int port, const char *name)
{
    th_resp r;
    json_object *found = NULL;
    th_http("GET", port, "/v1/graphs", NULL, NULL, &r);
    for (long i = 0; i < th_len(r.json, "graphs"); i++) {
        json_object *e = json_object_array_get_idx(th_get(r.json, "graphs"), (size_t)i);
        if (strcmp(th_get_str(e, "name"), name) == 0)
            found = json_object_get(e);
    }
    th_resp_free(&r);
    return found;
}

static json_object *run_to_end(const th_proc *d, const char *graph, const char *input)
{
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(d->port, graph, input, id), 202);
    return th_wait_run(d->port, id, 20000);
}

static void test_abi10_and_settings(void)
{
    th_proc d;
    char dir[] = "/tmp/sv-sdk-conf.XXXXXX", conf[300], env_conf[400], cmd[400];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/graphs.conf", dir);
    write_text(conf, "LOG_LEVEL=info\n\n[graph test_settings]\nverbose = yes\nratio=0.25\n");
    snprintf(env_conf, sizeof env_conf, "SUPERVISOR_CONFIG=%s", conf);
    const char *const env[] = {env_conf, "TEST_SETTINGS_LIMIT=42", "GRAPH_TEST_SETTINGS_MODE=slow",
                               "GRAPH_TEST_SETTINGS_RATIO=0.75", NULL};
    const char *const plugins[] = {"test_abi10", "test_settings", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &d) == 0);

    /* a plugin built against the 1.0 header loads and runs */
    json_object *v = run_to_end(&d, "test_abi10", "{}");
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    TH_STR_EQ(th_get_str(v, "result.abi"), "1.0");
    /* config_int (1.0) answers a variable a 1.1 graph declares */
    CU_ASSERT_EQUAL(th_get_int(v, "result.limit", 0), 42);
    json_object_put(v);
    json_object *g = graph_info(d.port, "test_abi10");
    TH_STR_EQ(th_get_str(g, "abi"), "1.0");
    CU_ASSERT_EQUAL(strlen(th_get_str(g, "sha256") ? th_get_str(g, "sha256") : ""), 64);
    CU_ASSERT_EQUAL(th_len(g, "settings"), 0);
    CU_ASSERT_EQUAL(th_get_int(g, "deadline.default_sec", 0), 3600);
    TH_STR_EQ(th_get_str(g, "deadline.source"), "RUN_DEFAULT_TIMEOUT_SEC");
    json_object_put(g);

    /* settings: env over file, GRAPH_ over the setting's own variable */
    v = run_to_end(&d, "test_settings", "{}");
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_get_int(v, "result.limit", 0), 42);
    TH_STR_EQ(th_get_str(v, "result.mode"), "slow");
    CU_ASSERT(json_object_get_boolean(th_get(v, "result.verbose")));
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(th_get(v, "result.ratio")), 0.75, 1e-9);
    CU_ASSERT_EQUAL(th_get_int(v, "result.deadline_ms", 0), 30000);
    json_object_put(v);
    g = graph_info(d.port, "test_settings");
    TH_STR_EQ(th_get_str(g, "abi"), "1.1");
    CU_ASSERT_EQUAL(th_len(g, "settings"), 4);
    TH_STR_EQ(th_get_str(g, "settings[0].name"), "limit");
    TH_STR_EQ(th_get_str(g, "settings[0].variables[0]"), "GRAPH_TEST_SETTINGS_LIMIT");
    TH_STR_EQ(th_get_str(g, "settings[0].variables[1]"), "TEST_SETTINGS_LIMIT");
    TH_STR_EQ(th_get_str(g, "settings[0].source"), "environment");
    CU_ASSERT_EQUAL(th_get_int(g, "settings[0].value", 0), 42);
    CU_ASSERT_EQUAL(th_get_int(g, "settings[0].default", 0), 10);
    CU_ASSERT_EQUAL(th_get_int(g, "settings[0].maximum", 0), 100);
    TH_STR_EQ(th_get_str(g, "settings[2].source"), "file");
    CU_ASSERT(has(th_get_str(g, "settings[2].from"), "graphs.conf line 4"));
    CU_ASSERT_EQUAL(th_get_int(g, "deadline.default_sec", 0), 30);
    CU_ASSERT_EQUAL(th_get_int(g, "deadline.max_sec", 0), 60);
    TH_STR_EQ(th_get_str(g, "deadline.input"), "deadline_sec");
    json_object_put(g);

    /* the input shortens the deadline; a run past it fails with timeout */
    v = run_to_end(&d, "test_settings", "{\"loops\":5,\"delay_ms\":1000,\"deadline_sec\":1}");
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "timeout");
    CU_ASSERT(has(th_get_str(v, "error.message"), "input deadline_sec"));
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_bad_value_dropped_in(void)
{
    th_proc d;
    const char *const env[] = {"GRAPH_TEST_SETTINGS_LIMIT=1000", NULL};
    const char *const plugins[] = {"test_chain", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &d) == 0);
    install(&d, "test_settings", "test_settings.so");
    CU_ASSERT(th_log_contains(&d,
                              "GRAPH_TEST_SETTINGS_LIMIT=\\\"1000\\\": out of range (expected "
                              "1..100) (graph test_settings's setting limit)",
                              15000));
    CU_ASSERT(th_log_contains(&d, "plugin refused", 0));
    json_object *g = graph_info(d.port, "test_settings");
    CU_ASSERT_PTR_NULL(g);
    json_object_put(g);
    json_object *v = run_to_end(&d, "test_chain", "{\"label\":\"still\"}");
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* Run the daemon binary with extra environment until it exits (or 30 s):
 * its exit status; its stderr in dir/out.log. */
static int run_daemon(const char *dir, const char *extra, const char *args)
{
    char cmd[4000], pdir[700], so[600];
    snprintf(pdir, sizeof pdir, "%s/plugins", dir);
    mkdir(pdir, 0755);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/test_settings.so'",
             th_plugin_path("test_settings", so, sizeof so), pdir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "env -i PATH=\"$PATH\" TMPDIR='%s' PLUGIN_DIR='%s' PLUGIN_CACHE_DIR='%s/cache' "
             "SUPERVISOR_LISTEN=127.0.0.1:0 %s timeout 30 '%s/sofiia-supervisor' %s "
             ">'%s/out.txt' 2>'%s/out.log'",
             dir, pdir, dir, extra, getenv("SV_BUILDDIR"), args, dir, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_bad_value_at_start(void)
{
    char dir[] = "/tmp/sv-sdk-test.XXXXXX", path[300];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    /* a bad value stops start-up with one line, exit 2 (like any setting) */
    CU_ASSERT_EQUAL(run_daemon(dir, "TEST_SETTINGS_LIMIT=abc", ""), 2);
    snprintf(path, sizeof path, "%s/out.log", dir);
    char *log = th_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT(strstr(log, "bad configuration") != NULL);
    CU_ASSERT(strstr(log, "TEST_SETTINGS_LIMIT=\\\"abc\\\": not a whole number (expected "
                          "1..100) (graph test_settings's setting limit)") != NULL);
    free(log);
    /* --check-config says the same, having loaded the plugins */
    CU_ASSERT_EQUAL(run_daemon(dir, "GRAPH_TEST_SETTINGS_MODE=", "--check-config"), 1);
    log = th_read_file(path, NULL);
    CU_ASSERT(log && strstr(log, "GRAPH_TEST_SETTINGS_MODE=\"\": 0 bytes long (expected 1..16)"));
    CU_ASSERT(log && strstr(log, "configuration test failed"));
    free(log);
    /* and a file key no daemon setting nor graph claims */
    snprintf(path, sizeof path, "%s/typo.conf", dir);
    write_text(path, "[graph test_settings]\nlimit=5\n[graph later]\nx=1\n");
    char args[400];
    snprintf(args, sizeof args, "--check-config -c '%s'", path);
    CU_ASSERT_EQUAL(run_daemon(dir, "", args), 0);
    write_text(path, "[graph test_settings]\nlimt=5\n");
    CU_ASSERT_EQUAL(run_daemon(dir, "", args), 1);
    snprintf(path, sizeof path, "%s/out.log", dir);
    log = th_read_file(path, NULL);
    CU_ASSERT(log && strstr(log, "line 2: [graph test_settings] limt: graph test_settings "
                                 "declares no such setting (it has: limit, mode, verbose, ratio)"));
    free(log);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_deadline_and_node_limit(void)
{
    th_proc d, slow;
    const char *const env[] = {"MAX_NODES_PER_RUN=5", NULL};
    const char *const plugins[] = {"test_wait", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim, &d) == 0);
    /* a graph that loops: MAX_NODES_PER_RUN */
    json_object *v = run_to_end(&d, "test_wait", "{\"waits\":100,\"delay_ms\":0}");
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "node_limit");
    CU_ASSERT_EQUAL(th_count_events(v, "node_start"), 5);
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);

    /* a graph that declares no deadline (ABI 1.0 here) gets the daemon's:
     * its 20 s call is cut at 1 s */
    const char *const env2[] = {"RUN_DEFAULT_TIMEOUT_SEC=1", NULL};
    const char *const plugins2[] = {"test_abi10", NULL};
    CU_ASSERT_FATAL(th_sim_start("tests/scenarios/engine_slow.json", NULL, &slow) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins2, env2, &slow, &d) == 0);
    long long t0 = th_mono_ms();
    v = run_to_end(&d, "test_abi10", "{}");
    CU_ASSERT(th_mono_ms() - t0 < 10000);
    TH_STR_EQ(th_get_str(v, "status"), "failed");
    TH_STR_EQ(th_get_str(v, "error.code"), "timeout");
    const char *msg = th_get_str(v, "error.message");
    CU_ASSERT(msg && strstr(msg, "deadline of 1 s (RUN_DEFAULT_TIMEOUT_SEC)"));
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&slow, 5000);
}

static void test_versions(void)
{
    th_proc d;
    const char *const plugins[] = {"test_settings", "test_chain", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);
    json_object *g = graph_info(d.port, "test_settings");
    char before[65];
    snprintf(before, sizeof before, "%s", th_get_str(g, "sha256"));
    json_object_put(g);
    /* another file, the same version string */
    install(&d, "test_settings_variant", "test_settings.so");
    CU_ASSERT(th_log_contains(&d, "same version string but other content", 15000));
    CU_ASSERT(th_log_contains(&d, before, 0));
    g = graph_info(d.port, "test_settings");
    TH_STR_EQ(th_get_str(g, "version"), "1.1.0");
    CU_ASSERT(strcmp(th_get_str(g, "sha256"), before) != 0);
    CU_ASSERT(th_log_contains(&d, th_get_str(g, "sha256"), 0));
    json_object_put(g);
    json_object *v = run_to_end(&d, "test_settings", "{}");
    CU_ASSERT(json_object_get_boolean(th_get(v, "result.variant")));
    json_object_put(v);
    /* a refused duplicate was never served: no "unloaded" for it, and the
     * version that keeps serving is not said to be gone */
    install(&d, "test_dup_name", "zz_dup.so");
    CU_ASSERT(th_log_contains(&d, "duplicate graph name \\\"test_chain\\\"", 15000));
    CU_ASSERT_FALSE(th_log_contains(&d, "graph test_chain 0.0.1 unloaded", 1500));
    CU_ASSERT_FALSE(th_log_contains(&d, "graph test_chain 1.0.0 unloaded", 0));
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"ABI 1.0 plugin, settings, deadline by input", test_abi10_and_settings},
        {"bad value: a plugin dropped in is refused", test_bad_value_dropped_in},
        {"bad value at start-up and --check-config", test_bad_value_at_start},
        {"RUN_DEFAULT_TIMEOUT_SEC, MAX_NODES_PER_RUN", test_deadline_and_node_limit},
        {"same-version replacement, refused duplicate", test_versions},
    };
    static const sv_cu_suite suites[] = {
        {.name = "sdk through the daemon",
         SV_CU_TESTS(tests),
         .init = suite_init,
         .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
