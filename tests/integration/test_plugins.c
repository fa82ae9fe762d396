/*
 * test_plugins.c - the loader and the registry through the real daemon:
 * refusals that leave it serving, drop-in within 2 s, hot replacement with
 * runs pinned to their version, removal, and --check-plugin.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

static th_proc g_sim;

static int suite_init(void)
{
    return th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim);
}

static int suite_clean(void)
{
    th_proc_stop(&g_sim, 5000);
    return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (len)
        fwrite(data, 1, len, f);
    fclose(f);
}

/* Copy a built plugin into dir under name, atomically (write + rename), as
 * docs/operations.md tells operators to. */
static void install(const th_proc *d, const char *plugin, const char *as)
{
    char src[600], dir[300], tmp[900], dst[900];
    th_plugin_path(plugin, src, sizeof src);
    th_plugin_dir(d, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, as);
    snprintf(dst, sizeof dst, "%s/%s", dir, as);
    size_t len = 0;
    char *data = th_read_file(src, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    write_file(tmp, data, len);
    free(data);
    CU_ASSERT_EQUAL(rename(tmp, dst), 0);
}

/* The version of graph name listed by GET /v1/graphs, "" when absent. */
static const char *listed_version(int port, const char *name, char *buf, size_t len)
{
    th_resp r;
    buf[0] = '\0';
    th_http("GET", port, "/v1/graphs", NULL, NULL, &r);
    json_object *g = th_get(r.json, "graphs");
    for (size_t i = 0; g && i < json_object_array_length(g); i++) {
        json_object *e = json_object_array_get_idx(g, i);
        const char *n = th_get_str(e, "name");
        if (n && strcmp(n, name) == 0)
            snprintf(buf, len, "%s", th_get_str(e, "version"));
    }
    th_resp_free(&r);
    return buf;
}

static int wait_version(int port, const char *name, const char *version, int timeout_ms)
{
    char buf[64];
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        if (strcmp(listed_version(port, name, buf, sizeof buf), version) == 0)
            return 0;
        th_poll_pause();
    }
    return -1;
}

static void test_refusals_keep_serving(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain",      "test_bad_abi",  "test_no_desc",  "test_bad_entry",
                             "test_bad_schema", "test_bad_init", "test_dup_name", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);
    char dir[300], path[600];
    th_plugin_dir(&d, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/empty.so", dir);
    write_file(path, "", 0);
    snprintf(path, sizeof path, "%s/garbage.so", dir);
    write_file(path, "this is not an ELF file at all", 30);
    snprintf(path, sizeof path, "%s/truncated.so", dir);
    write_file(path, "\177ELF\002\001\001", 7);
    CU_ASSERT(th_log_contains(&d, "built for SDK ABI 99.0", 0));
    CU_ASSERT(th_log_contains(&d, "no sv_graph_descriptor symbol", 0));
    CU_ASSERT(th_log_contains(&d, "entry node \\\"missing\\\" is not one of its nodes", 0));
    CU_ASSERT(th_log_contains(&d, "input_schema is not JSON", 0));
    CU_ASSERT(th_log_contains(&d, "init() returned -1", 0));
    CU_ASSERT(th_log_contains(&d, "duplicate graph name \\\"test_chain\\\"", 0));
    /* files dropped in later are looked at by the watcher */
    CU_ASSERT(th_log_contains(&d, "empty.so\",\"reason\":\"empty file\"", 5000));
    CU_ASSERT(th_log_contains(&d, "garbage.so\",\"reason\":\"not a shared object", 5000));
    CU_ASSERT(th_log_contains(&d, "truncated.so\",\"reason\":\"dlopen failed", 5000));
    /* each refusal once, not at every scan (the watcher has scanned again
     * by the time test_chain's run below is done) */
    CU_ASSERT_EQUAL(th_log_count(&d, "empty.so\",\"reason\"", 1, 0), 1);
    /* still serving the good one, and only it */
    th_resp r;
    th_http("GET", d.port, "/v1/graphs", NULL, NULL, &r);
    CU_ASSERT_EQUAL(th_len(r.json, "graphs"), 1);
    TH_STR_EQ(th_get_str(r.json, "graphs[0].name"), "test_chain");
    th_resp_free(&r);
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"ok\"}", id), 202);
    json_object *v = th_wait_run(d.port, id, 15000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    CU_ASSERT_EQUAL(th_log_count(&d, "empty.so\",\"reason\"", 2, 2500), 1);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

static void test_drop_in_and_remove(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{}", id), 404);
    long long t0 = th_mono_ms();
    install(&d, "test_wait", "test_wait.so");
    CU_ASSERT_EQUAL_FATAL(wait_version(d.port, "test_wait", "1.0.0", 5000), 0);
    long long ms = th_mono_ms() - t0;
    printf("\n    dropped-in graph startable after %lld ms\n", ms);
    /* The contract: within 2 s (the scan runs every 1 s); 813 ms was seen in
     * CI.  The bound leaves room for a loaded machine while still failing a
     * graph that only appears after a restart.  Under valgrind the load
     * itself is many times slower, so only a looser bound holds there. */
    const char *wrapper = getenv("SV_DAEMON_WRAPPER");
    CU_ASSERT(ms < (wrapper && *wrapper ? 10000 : 4000));
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{\"waits\":0}", id), 202);
    json_object *v = th_wait_run(d.port, id, 15000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    /* removing the file stops new runs of that graph */
    char dir[300], path[600];
    th_plugin_dir(&d, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/test_wait.so", dir);
    CU_ASSERT_EQUAL(unlink(path), 0);
    CU_ASSERT_EQUAL(wait_version(d.port, "test_wait", "", 5000), 0);
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{}", id), 404);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* Replace a graph under load: the running run finishes on 1.0.0, new runs
 * get 2.0.0, and the old version is unloaded once its last run ends. */
static void test_hot_swap(void)
{
    th_proc d;
    const char *plugins[] = {"test_wait", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);
    char old_run[64], new_run[64];
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{\"waits\":2,\"delay_ms\":1000}", old_run),
                    202);
    CU_ASSERT_EQUAL(th_wait_status(d.port, old_run, "running", 5000), 0);
    install(&d, "test_wait_v2", "test_wait.so");
    CU_ASSERT_EQUAL_FATAL(wait_version(d.port, "test_wait", "2.0.0", 5000), 0);
    CU_ASSERT(th_log_contains(&d, "\"msg\":\"graph replaced\"", 5000));
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_wait", "{\"waits\":0}", new_run), 202);
    json_object *nv = th_wait_run(d.port, new_run, 15000);
    TH_STR_EQ(th_get_str(nv, "graph_version"), "2.0.0");
    TH_STR_EQ(th_get_str(nv, "result.version"), "2.0.0");
    json_object_put(nv);
    json_object *ov = th_wait_run(d.port, old_run, 15000);
    TH_STR_EQ(th_get_str(ov, "status"), "succeeded");
    TH_STR_EQ(th_get_str(ov, "graph_version"), "1.0.0");
    TH_STR_EQ(th_get_str(ov, "result.version"), "1.0.0");
    CU_ASSERT_EQUAL(th_get_int(ov, "result.ticks", 0), 3);
    json_object_put(ov);
    CU_ASSERT(th_log_contains(&d, "graph test_wait 1.0.0 unloaded", 5000));
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* Renaming a plugin file keeps its graph (no duplicate of itself); a
 * refused file is tried again on SIGHUP. */
static void test_rename_and_sighup(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain", "test_bad_init", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim, &d) == 0);
    char dir[300], from[600], to[600];
    th_plugin_dir(&d, dir, sizeof dir);
    snprintf(from, sizeof from, "%s/test_chain.so", dir);
    snprintf(to, sizeof to, "%s/test_chain_renamed.so", dir);
    CU_ASSERT_EQUAL(rename(from, to), 0);
    CU_ASSERT(th_log_contains(&d, "test_chain_renamed.so", 5000));
    CU_ASSERT(th_log_contains(&d, "\"msg\":\"graph replaced\"", 5000));
    CU_ASSERT_FALSE(th_log_contains(&d, "duplicate graph name", 0));
    CU_ASSERT_FALSE(th_log_contains(&d, "graph test_chain removed", 0));
    char buf[64];
    TH_STR_EQ(listed_version(d.port, "test_chain", buf, sizeof buf), "1.0.0");
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"renamed\"}", id), 202);
    json_object *v = th_wait_run(d.port, id, 15000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    json_object_put(v);
    /* refused once; SIGHUP makes the daemon try it again */
    CU_ASSERT(th_log_contains(&d, "init() returned -1", 0));
    kill(d.pid, SIGHUP);
    CU_ASSERT(th_log_contains(&d, "retrying refused files", 5000));
    CU_ASSERT_EQUAL(th_log_count(&d, "init() returned -1", 2, 5000), 2);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

static int check_plugin(const char *plugin, char *out, size_t len)
{
    char cmd[1500], so[600];
    snprintf(cmd, sizeof cmd, "%s/sofiia-supervisor --check-plugin %s 2>&1", getenv("SV_BUILDDIR"),
             th_plugin_path(plugin, so, sizeof so));
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, len - 1, p) : 0;
    out[n] = '\0';
    int st = p ? pclose(p) : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_check_plugin_cli(void)
{
    char out[2048];
    CU_ASSERT_EQUAL(check_plugin("test_chain", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "graph test_chain 1.0.0, 3 nodes, entry a: OK"));
    /* the example graph of docs/plugin-authoring.md loads */
    CU_ASSERT_EQUAL(check_plugin("hello_graph", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ": OK"));
    CU_ASSERT_EQUAL(check_plugin("test_bad_abi", out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "refused: built for SDK ABI 99.0"));
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"refusals leave the daemon serving", test_refusals_keep_serving},
        {"drop-in within 2 s, removal", test_drop_in_and_remove},
        {"hot swap pins running runs", test_hot_swap},
        {"rename keeps the graph, SIGHUP retries refusals", test_rename_and_sighup},
        {"--check-plugin", test_check_plugin_cli},
    };
    static const sv_cu_suite suites[] = {
        {.name = "plugins", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
