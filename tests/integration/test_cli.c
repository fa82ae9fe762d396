/*
 * test_cli.c - sofiia-ctl against the real daemon: each command's output and
 * exit status, the API's errors as one line, waiting with and without a
 * limit, cancel, listing filters, the key, and a daemon that is not there.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

static th_proc g_sim, g_d;

static int suite_init(void)
{
    const char *plugins[] = {"test_chain", "test_wait", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=ctl-key", NULL};
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

typedef struct ctl_out {
    int status;
    char out[16384];
    char err[4096];
    json_object *json; /* stdout parsed, or NULL */
} ctl_out;

/* Run "sofiia-ctl ARGS" with the daemon's URL and key in the environment
 * (env_extra is prepended to the command line, e.g. "SUPERVISOR_INTERNAL_KEY= "). */
static int ctl(const char *env_extra, const char *args, ctl_out *o)
{
    char cmd[2048], errpath[400];
    snprintf(errpath, sizeof errpath, "%s/ctl.err", g_d.dir);
    snprintf(cmd, sizeof cmd,
             "SUPERVISOR_URL=http://127.0.0.1:%d/ SUPERVISOR_INTERNAL_KEY=ctl-key %s "
             "%s/sofiia-ctl %s 2>%s",
             g_d.port, env_extra ? env_extra : "", getenv("SV_BUILDDIR"), args, errpath);
    memset(o, 0, sizeof *o);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(o->out, 1, sizeof o->out - 1, p) : 0;
    o->out[n] = '\0';
    int st = p ? pclose(p) : -1;
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char *err = th_read_file(errpath, NULL);
    snprintf(o->err, sizeof o->err, "%s", err ? err : "");
    free(err);
    o->json = json_tokener_parse(o->out);
    return o->status;
}

static void ctl_free(ctl_out *o)
{
    json_object_put(o->json);
    o->json = NULL;
}

static void test_graphs_and_start_wait(void)
{
    ctl_out o;
    CU_ASSERT_EQUAL(ctl(NULL, "graphs", &o), 0);
    TH_STR_EQ(th_get_str(o.json, "graphs[0].name"), "test_chain");
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "start test_chain -i '{\"label\":\"cli\"}' --wait 30", &o), 0);
    TH_STR_EQ(th_get_str(o.json, "status"), "succeeded");
    TH_STR_EQ(th_get_str(o.json, "workspace_id"), "cli");
    TH_STR_EQ(th_get_str(o.json, "agent_id"), "sofiia-ctl");
    CU_ASSERT(th_count_events(o.json, "run_end") == 1);
    ctl_free(&o);
    /* without --wait: the 202 answer, then get and wait by id */
    CU_ASSERT_EQUAL(
        ctl(NULL, "start test_chain -i '{\"label\":\"w\"}' -w ws-1 --user u-1 --agent a-1", &o), 0);
    TH_STR_EQ(th_get_str(o.json, "status"), "queued");
    char id[64], args[200];
    snprintf(id, sizeof id, "%s", th_get_str(o.json, "run_id") ? th_get_str(o.json, "run_id") : "");
    ctl_free(&o);
    snprintf(args, sizeof args, "wait %s --timeout 30", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 0);
    TH_STR_EQ(th_get_str(o.json, "workspace_id"), "ws-1");
    TH_STR_EQ(th_get_str(o.json, "user_id"), "u-1");
    ctl_free(&o);
    snprintf(args, sizeof args, "get %s", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 0);
    TH_STR_EQ(th_get_str(o.json, "run_id"), id);
    ctl_free(&o);
    /* the input from a file */
    char path[400], fargs[600];
    snprintf(path, sizeof path, "%s/input.json", g_d.dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"label\": \"from-file\"}\n", f);
    fclose(f);
    snprintf(fargs, sizeof fargs, "start test_chain -i @%s --wait", path);
    CU_ASSERT_EQUAL(ctl(NULL, fargs, &o), 0);
    TH_STR_EQ(th_get_str(o.json, "status"), "succeeded");
    ctl_free(&o);
}

static void test_errors(void)
{
    ctl_out o;
    CU_ASSERT_EQUAL(ctl(NULL, "start test_chain -i '{\"bogus\":1}'", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "sofiia-ctl: 400 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "(field \"bogus\")"));
    CU_ASSERT_EQUAL(o.out[0], '\0');
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "start no_such_graph", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "404 graph_not_found"));
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "get gr_0123456789abcdef0123456789abcdef", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "404 run_not_found"));
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "start test_chain -i '[1]'", &o), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "the input must be a JSON object"));
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "get not-an-id", &o), 2);
    CU_ASSERT_EQUAL(ctl(NULL, "frobnicate", &o), 2);
    CU_ASSERT_EQUAL(ctl(NULL, "list --limit", &o), 2);
    CU_ASSERT_EQUAL(ctl(NULL, "list --limit 5000", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "(field \"limit\")"));
    ctl_free(&o);
    /* the key: none gives the API's 401, the right one passes */
    CU_ASSERT_EQUAL(ctl("SUPERVISOR_INTERNAL_KEY=", "graphs", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "401 "));
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl("SUPERVISOR_INTERNAL_KEY=", "-k ctl-key graphs", &o), 0);
    ctl_free(&o);
    /* nobody there */
    CU_ASSERT_EQUAL(ctl(NULL, "-u http://127.0.0.1:1 graphs", &o), 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "no answer from http://127.0.0.1:1/v1/graphs"));
    ctl_free(&o);
}

static void test_cancel_wait_limit_list(void)
{
    ctl_out o;
    char id[64], args[200];
    CU_ASSERT_EQUAL(ctl(NULL, "start test_wait -i '{\"waits\":100,\"delay_ms\":200}'", &o), 0);
    snprintf(id, sizeof id, "%s", th_get_str(o.json, "run_id") ? th_get_str(o.json, "run_id") : "");
    ctl_free(&o);
    /* a wait with a limit the run outlasts */
    snprintf(args, sizeof args, "wait %s --timeout 0.3", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "still "));
    ctl_free(&o);
    snprintf(args, sizeof args, "cancel %s", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 0);
    TH_STR_EQ(th_get_str(o.json, "status"), "cancelling");
    ctl_free(&o);
    snprintf(args, sizeof args, "wait %s --timeout 30", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 1); /* ended, but not succeeded */
    TH_STR_EQ(th_get_str(o.json, "status"), "cancelled");
    ctl_free(&o);
    snprintf(args, sizeof args, "cancel %s", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 0); /* 200: already cancelled */
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "list --graph test_wait --status cancelled --limit 1", &o), 0);
    CU_ASSERT_EQUAL(th_len(o.json, "runs"), 1);
    TH_STR_EQ(th_get_str(o.json, "runs[0].run_id"), id);
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "list --workspace 'no such ws'", &o), 0);
    CU_ASSERT_EQUAL(th_len(o.json, "runs"), 0);
    ctl_free(&o);
    /* Idempotency-Key: the second start answers with the first run */
    char first[64];
    CU_ASSERT_EQUAL(
        ctl(NULL, "start test_chain -i '{\"label\":\"k\"}' --idempotency-key cli-k1", &o), 0);
    snprintf(first, sizeof first, "%s",
             th_get_str(o.json, "run_id") ? th_get_str(o.json, "run_id") : "x");
    ctl_free(&o);
    CU_ASSERT_EQUAL(
        ctl(NULL, "start test_chain -i '{\"label\":\"k\"}' --idempotency-key cli-k1", &o), 0);
    TH_STR_EQ(th_get_str(o.json, "run_id"), first);
    ctl_free(&o);
}

/* events: JSON lines with seq, live with --follow until the end line; from
 * --since on; a failed run's follow exits 1; errors as for the other
 * commands. */
/* retain: the answer, a bad TTL refused before sending (2) and by the API
 * (3); list --limit 1 --all walks every page into one answer, --cursor
 * goes on from a next. */
static void test_retain_and_pages(void)
{
    ctl_out o;
    char id[64], cmd[256];
    CU_ASSERT_EQUAL(ctl(NULL, "start test_chain -i '{\"label\":\"keep\"}' --wait 30", &o), 0);
    snprintf(id, sizeof id, "%s", th_get_str(o.json, "run_id") ? th_get_str(o.json, "run_id") : "");
    ctl_free(&o);
    snprintf(cmd, sizeof cmd, "retain %s 3600", id);
    CU_ASSERT_EQUAL(ctl(NULL, cmd, &o), 0);
    TH_STR_EQ(th_get_str(o.json, "run_id"), id);
    TH_STR_EQ(th_get_str(o.json, "status"), "succeeded");
    CU_ASSERT(th_get_int(o.json, "ttl_sec", 0) > 3000);
    CU_ASSERT_PTR_NOT_NULL(th_get_str(o.json, "expires_at"));
    ctl_free(&o);
    snprintf(cmd, sizeof cmd, "retain %s 1.5", id);
    CU_ASSERT_EQUAL(ctl(NULL, cmd, &o), 2);
    ctl_free(&o);
    snprintf(cmd, sizeof cmd, "retain %s", id);
    CU_ASSERT_EQUAL(ctl(NULL, cmd, &o), 2);
    ctl_free(&o);
    snprintf(cmd, sizeof cmd, "retain %s 0", id);
    CU_ASSERT_EQUAL(ctl(NULL, cmd, &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "ttl_sec"));
    ctl_free(&o);

    CU_ASSERT_EQUAL(ctl(NULL, "list --limit 1000", &o), 0);
    long all = th_len(o.json, "runs");
    ctl_free(&o);
    CU_ASSERT(all >= 2);
    CU_ASSERT_EQUAL(ctl(NULL, "list --limit 1 --all", &o), 0);
    CU_ASSERT_EQUAL(th_len(o.json, "runs"), all);
    json_object *next = NULL;
    CU_ASSERT(json_object_object_get_ex(o.json, "next", &next) && !next);
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "list --limit 1", &o), 0);
    CU_ASSERT_EQUAL(th_len(o.json, "runs"), 1);
    snprintf(cmd, sizeof cmd, "list --limit 1 --cursor %s",
             th_get_str(o.json, "next") ? th_get_str(o.json, "next") : "none");
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, cmd, &o), 0);
    CU_ASSERT_EQUAL(th_len(o.json, "runs"), 1);
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "list --cursor garbage", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "cursor"));
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "list --all --cursor x", &o), 2);
    ctl_free(&o);
}

static void test_events(void)
{
    ctl_out o;
    char id[64], args[200];
    CU_ASSERT_EQUAL(ctl(NULL, "start test_wait -i '{\"waits\":3,\"delay_ms\":200}'", &o), 0);
    snprintf(id, sizeof id, "%s", th_get_str(o.json, "run_id") ? th_get_str(o.json, "run_id") : "");
    ctl_free(&o);
    snprintf(args, sizeof args, "events %s --follow", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 0);
    int lines = 0, in_order = 1;
    const char *last = o.out;
    for (char *l = o.out; *l; lines++) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        json_object *j = json_tokener_parse(l);
        if (!th_get(j, "end"))
            in_order &= th_get_int(j, "seq", -1) == lines;
        else
            TH_STR_EQ(th_get_str(j, "end.status"), "succeeded");
        json_object_put(j);
        last = l;
        if (!nl)
            break;
        l = nl + 1;
    }
    CU_ASSERT(in_order);
    CU_ASSERT(lines > 6);
    CU_ASSERT_PTR_NOT_NULL(strstr(last, "{\"end\":"));
    ctl_free(&o);
    snprintf(args, sizeof args, "events %s --since 2", id);
    CU_ASSERT_EQUAL(ctl(NULL, args, &o), 0);
    CU_ASSERT_EQUAL(strncmp(o.out, "{\"seq\":2,", 9), 0);
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "events gr_0123456789abcdef0123456789abcdef --follow", &o), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "404 run_not_found"));
    ctl_free(&o);
    CU_ASSERT_EQUAL(ctl(NULL, "events", &o), 2);
    ctl_free(&o);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"events, --follow, --since", test_events},
        {"graphs, start --wait, get, wait, -i @file", test_graphs_and_start_wait},
        {"errors: API, usage, key, no daemon", test_errors},
        {"cancel, wait limit, list filters, idempotency", test_cancel_wait_limit_list},
        {"retain, list pages (--cursor, --all)", test_retain_and_pages},
    };
    static const sv_cu_suite suites[] = {
        {.name = "cli", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
