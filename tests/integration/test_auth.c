/*
 * test_auth.c - API keys through the real daemon (core/auth.c): several keys
 * at once, a rotated-out key refused, a key limited to workspaces (403 to
 * start elsewhere, 404 for other workspaces' runs, filtered listings), the
 * key id a cancel records; and what start-up says or refuses: the open-API
 * warning, a bad key list, a world-writable PLUGIN_DIR or plugin file.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

#define OLD "old-secret-0123456789"
#define NEW "new-secret-9876543210"
#define CI "ci-secret-abcdefghij:x"
#define PLAIN "plain-key-of-before"

static th_proc g_sim, g_d;

static int suite_init(void)
{
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    const char *plugins[] = {"test_chain", "test_wait", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=old:" OLD ",new:" NEW ",ci:" CI "@ws_a+ws_b",
                         NULL};
    return th_daemon_start(plugins, env, &g_sim, &g_d);
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

/* A request with `Authorization: Bearer secret` (none when secret is NULL). */
static long req_as(const th_proc *d, const char *secret, const char *method, const char *path,
                   const char *body, th_resp *r)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", secret ? secret : "");
    const char *hdr[] = {auth, NULL};
    th_http(method, d->port, path, body, secret ? hdr : NULL, r);
    return r->status;
}

static long status_as(const th_proc *d, const char *secret, const char *method, const char *path)
{
    th_resp r;
    long st = req_as(d, secret, method, path, NULL, &r);
    th_resp_free(&r);
    return st;
}

/* Start a run of graph in workspace ws as secret; the status, the id in id. */
static long start_as(const th_proc *d, const char *secret, const char *ws, const char *graph,
                     const char *input, char id[64], th_resp *out)
{
    char body[512], path[128];
    th_resp r;
    snprintf(body, sizeof body,
             "{\"workspace_id\":\"%s\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":%s}", ws,
             input);
    snprintf(path, sizeof path, "/v1/graphs/%s/runs", graph);
    long st = req_as(d, secret, "POST", path, body, &r);
    const char *rid = th_get_str(r.json, "run_id");
    snprintf(id, 64, "%s", rid ? rid : "");
    if (out)
        *out = r;
    else
        th_resp_free(&r);
    return st;
}

/* The run's view as secret once its status is `status` (or final when
 * status is NULL), or NULL at the deadline. */
static json_object *wait_view(const th_proc *d, const char *secret, const char *id,
                              const char *status, int timeout_ms)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        th_resp r;
        req_as(d, secret, "GET", path, NULL, &r);
        const char *s = th_get_str(r.json, "status");
        int done = s && (status ? strcmp(s, status) == 0
                                : strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 ||
                                      strcmp(s, "cancelled") == 0);
        if (done) {
            json_object *v = json_object_get(r.json);
            th_resp_free(&r);
            return v;
        }
        th_resp_free(&r);
        th_poll_pause();
    }
    return NULL;
}

/* The details.key_id of the run's cancel_requested event ("" if none). */
static const char *cancel_key_id(json_object *view, char *buf, size_t len)
{
    json_object *evs = th_get(view, "events");
    buf[0] = '\0';
    for (size_t i = 0; evs && i < json_object_array_length(evs); i++) {
        json_object *e = json_object_array_get_idx(evs, i);
        const char *t = th_get_str(e, "type");
        if (t && strcmp(t, "cancel_requested") == 0) {
            const char *k = th_get_str(e, "details.key_id");
            snprintf(buf, len, "%s", k ? k : "");
        }
    }
    return buf;
}

static int log_has_secret(const th_proc *d)
{
    static const char *const secrets[] = {OLD, NEW, CI, PLAIN, "ci-secret", NULL};
    char *log = th_read_file(d->log_path, NULL);
    int found = 0;
    for (const char *const *s = secrets; log && *s; s++)
        found |= strstr(log, *s) != NULL;
    free(log);
    return found;
}

static void test_two_keys(void)
{
    CU_ASSERT_EQUAL(status_as(&g_d, OLD, "GET", "/v1/graphs"), 200);
    CU_ASSERT_EQUAL(status_as(&g_d, NEW, "GET", "/v1/graphs"), 200);
    CU_ASSERT_EQUAL(status_as(&g_d, CI, "GET", "/v1/graphs"), 200);
    CU_ASSERT_EQUAL(status_as(&g_d, NULL, "GET", "/v1/graphs"), 401);
    CU_ASSERT_EQUAL(status_as(&g_d, "wrong-secret-0123456789", "GET", "/v1/graphs"), 401);
    /* the entry as written, or only its id, is no key */
    CU_ASSERT_EQUAL(status_as(&g_d, "old:" OLD, "GET", "/v1/graphs"), 401);
    CU_ASSERT_EQUAL(status_as(&g_d, "old", "GET", "/v1/graphs"), 401);
    CU_ASSERT_EQUAL(status_as(&g_d, CI "@ws_a+ws_b", "GET", "/v1/graphs"), 401);
    CU_ASSERT_EQUAL(status_as(&g_d, NULL, "GET", "/healthz"), 200);
    /* start-up named the keys by id */
    CU_ASSERT(th_log_contains(&g_d,
                              "\"msg\":\"API keys\",\"keys\":[{\"id\":\"old\"},{\"id\":"
                              "\"new\"},{\"id\":\"ci\",\"workspaces\":[\"ws_a\",\"ws_b\"]}]",
                              2000));
    CU_ASSERT_FALSE(log_has_secret(&g_d));
}

static void test_workspace_limits(void)
{
    char id_a[64], id_c[64], id_x[64], path[160], want[200];
    th_resp r;
    CU_ASSERT_EQUAL(start_as(&g_d, CI, "ws_a", "test_chain", "{\"label\":\"a\"}", id_a, NULL), 202);
    /* another workspace: 403, and no run */
    CU_ASSERT_EQUAL(start_as(&g_d, CI, "ws_c", "test_chain", "{\"label\":\"c\"}", id_x, &r), 403);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "forbidden_workspace");
    TH_STR_EQ(th_get_str(r.json, "error.details.field"), "workspace_id");
    CU_ASSERT_PTR_NOT_NULL(strstr(th_get_str(r.json, "error.message"), "\"ci\""));
    th_resp_free(&r);
    CU_ASSERT_EQUAL(start_as(&g_d, NEW, "ws_c", "test_chain", "{\"label\":\"c\"}", id_c, NULL),
                    202);
    json_object *va = wait_view(&g_d, CI, id_a, NULL, 15000);
    json_object *vc = wait_view(&g_d, NEW, id_c, NULL, 15000);
    CU_ASSERT_PTR_NOT_NULL(va);
    CU_ASSERT_PTR_NOT_NULL(vc);
    json_object_put(va);
    json_object_put(vc);
    /* another workspace's run does not exist for ci: the very answer an
     * unknown id gets */
    snprintf(path, sizeof path, "/v1/runs/%s", id_c);
    CU_ASSERT_EQUAL(req_as(&g_d, CI, "GET", path, NULL, &r), 404);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "run_not_found");
    snprintf(want, sizeof want, "no run with id \"%s\" (runs expire after RUN_TTL_SEC)", id_c);
    TH_STR_EQ(th_get_str(r.json, "error.message"), want);
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s?wait=5", id_c);
    CU_ASSERT_EQUAL(status_as(&g_d, CI, "GET", path), 404);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id_c);
    CU_ASSERT_EQUAL(req_as(&g_d, CI, "POST", path, NULL, &r), 404);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "run_not_found");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/v1/runs/%s", id_a);
    CU_ASSERT_EQUAL(status_as(&g_d, CI, "GET", path), 200);
    /* the other keys see it */
    snprintf(path, sizeof path, "/v1/runs/%s", id_c);
    CU_ASSERT_EQUAL(req_as(&g_d, OLD, "GET", path, NULL, &r), 200);
    CU_ASSERT_EQUAL(th_count_events(r.json, "cancel_requested"), 0);
    th_resp_free(&r);
    /* listings hold only ci's workspaces */
    CU_ASSERT_EQUAL_FATAL(req_as(&g_d, CI, "GET", "/v1/runs?limit=1000", NULL, &r), 200);
    int saw_a = 0;
    for (long i = 0; i < th_len(r.json, "runs"); i++) {
        json_object *s = json_object_array_get_idx(th_get(r.json, "runs"), (size_t)i);
        const char *ws = th_get_str(s, "workspace_id");
        CU_ASSERT(ws && (strcmp(ws, "ws_a") == 0 || strcmp(ws, "ws_b") == 0));
        saw_a |= strcmp(th_get_str(s, "run_id"), id_a) == 0;
    }
    CU_ASSERT(saw_a);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(req_as(&g_d, CI, "GET", "/v1/runs?workspace_id=ws_c", NULL, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 0);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(req_as(&g_d, NEW, "GET", "/v1/runs?workspace_id=ws_c", NULL, &r), 200);
    CU_ASSERT_EQUAL(th_len(r.json, "runs"), 1); /* the 403 created none */
    TH_STR_EQ(th_get_str(r.json, "runs[0].run_id"), id_c);
    th_resp_free(&r);
}

static void test_cancel_records_key_id(void)
{
    char id[64], id2[64], path[160], k[64], needle[256];
    th_resp r;
    const char *slow = "{\"waits\":5,\"delay_ms\":60000}";
    CU_ASSERT_EQUAL_FATAL(start_as(&g_d, CI, "ws_b", "test_wait", slow, id, NULL), 202);
    json_object *v = wait_view(&g_d, CI, id, "running", 10000);
    CU_ASSERT_PTR_NOT_NULL(v);
    json_object_put(v);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    CU_ASSERT_EQUAL(req_as(&g_d, CI, "POST", path, NULL, &r), 202);
    th_resp_free(&r);
    v = wait_view(&g_d, CI, id, "cancelled", 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(th_count_events(v, "cancel_requested"), 1);
    TH_STR_EQ(cancel_key_id(v, k, sizeof k), "ci");
    json_object_put(v);
    /* a queued or running run of another workspace, cancelled by another key */
    CU_ASSERT_EQUAL_FATAL(start_as(&g_d, NEW, "ws_z", "test_wait", slow, id2, NULL), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id2);
    long st = req_as(&g_d, OLD, "POST", path, NULL, &r);
    CU_ASSERT(st == 200 || st == 202);
    th_resp_free(&r);
    v = wait_view(&g_d, NEW, id2, "cancelled", 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    TH_STR_EQ(cancel_key_id(v, k, sizeof k), "old");
    json_object_put(v);
    /* the log line names the key by id, never by secret */
    snprintf(needle, sizeof needle,
             "\"msg\":\"cancel requested\",\"run_id\":\"%s\",\"key_id\":\"ci\",\"status\":"
             "\"cancelling\"",
             id);
    CU_ASSERT(th_log_contains(&g_d, needle, 2000));
    snprintf(needle, sizeof needle,
             "\"msg\":\"cancel requested\",\"run_id\":\"%s\",\"key_id\":\"old\"", id2);
    CU_ASSERT(th_log_contains(&g_d, needle, 2000));
    CU_ASSERT_FALSE(log_has_secret(&g_d));
}

/* ---- start-up: one daemon per test ---- */

static th_proc g_sim2;

static int startup_init(void)
{
    return th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim2) < 0 ? -1 : 0;
}

static int startup_clean(void)
{
    th_proc_stop(&g_sim2, 5000);
    return 0;
}

static void test_rotated_out(void)
{
    th_proc d;
    const char *plugins[] = {"test_chain", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=new:" NEW, NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim2, &d) == 0);
    CU_ASSERT_EQUAL(status_as(&d, OLD, "GET", "/v1/graphs"), 401);
    CU_ASSERT_EQUAL(status_as(&d, NEW, "GET", "/v1/graphs"), 200);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* The key of before, with no id: accepted as it was, its id "default". */
static void test_plain_key(void)
{
    th_proc d;
    char id[64], path[160], k[64];
    const char *plugins[] = {"test_wait", NULL};
    const char *env[] = {"SUPERVISOR_INTERNAL_KEY=" PLAIN, NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim2, &d) == 0);
    CU_ASSERT_EQUAL(status_as(&d, PLAIN, "GET", "/v1/graphs"), 200);
    CU_ASSERT_EQUAL(status_as(&d, "plain-key-of-befor", "GET", "/v1/graphs"), 401);
    CU_ASSERT_EQUAL_FATAL(
        start_as(&d, PLAIN, "w", "test_wait", "{\"waits\":5,\"delay_ms\":60000}", id, NULL), 202);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    long st = status_as(&d, PLAIN, "POST", path);
    CU_ASSERT(st == 200 || st == 202);
    json_object *v = wait_view(&d, PLAIN, id, "cancelled", 10000);
    CU_ASSERT_PTR_NOT_NULL(v);
    TH_STR_EQ(cancel_key_id(v, k, sizeof k), "default");
    json_object_put(v);
    CU_ASSERT(th_log_contains(&d, "\"msg\":\"API keys\",\"keys\":[{\"id\":\"default\"}]", 2000));
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    CU_ASSERT_FALSE(log_has_secret(&d));
}

/* With Redis, a cancel taken by one instance for a run executing on another:
 * the event is written where the key is known, once, with its id. */
static void test_cancel_through_other_instance(void)
{
    th_proc redis, a, b;
    char url[64], id[64], path[160], k[64];
    CU_ASSERT_FATAL(th_redis_start(&redis) == 0);
    snprintf(url, sizeof url, "REDIS_URL=redis://127.0.0.1:%d/0", redis.port);
    const char *plugins[] = {"test_wait", NULL};
    const char *env[] = {url, "SUPERVISOR_INTERNAL_KEY=new:" NEW ",ci:" CI "@ws_a",
                         "SHUTDOWN_GRACE_SEC=1", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim2, &a) == 0);
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, &g_sim2, &b) == 0);
    CU_ASSERT_EQUAL_FATAL(
        start_as(&a, CI, "ws_a", "test_wait", "{\"waits\":100,\"delay_ms\":30000}", id, NULL), 202);
    json_object *v = wait_view(&a, CI, id, "running", 10000);
    CU_ASSERT_PTR_NOT_NULL(v);
    json_object_put(v);
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    CU_ASSERT_EQUAL(status_as(&b, CI, "POST", path), 202);
    v = wait_view(&b, CI, id, "cancelled", 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(th_count_events(v, "cancel_requested"), 1);
    TH_STR_EQ(cancel_key_id(v, k, sizeof k), "ci");
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&a, 20000), 0);
    CU_ASSERT_EQUAL(th_proc_stop(&b, 20000), 0);
    CU_ASSERT(th_log_contains(&b, "\"msg\":\"cancel requested\"", 0));
    CU_ASSERT_FALSE(log_has_secret(&a));
    CU_ASSERT_FALSE(log_has_secret(&b));
    th_redis_stop(&redis);
}

#define OPEN_WARNING "\"msg\":\"the API is open: SUPERVISOR_INTERNAL_KEY is unset"

static void test_open_api_warning(void)
{
    th_proc d;
    /* every address, no key: one warning line */
    const char *open_env[] = {"SUPERVISOR_LISTEN=0.0.0.0:0", NULL};
    CU_ASSERT_FATAL(th_daemon_start(NULL, open_env, NULL, &d) == 0);
    CU_ASSERT(th_log_contains(&d, OPEN_WARNING, 5000));
    CU_ASSERT(th_log_contains(&d, "\"level\":\"warn\",\"msg\":\"the API is open", 0));
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    CU_ASSERT_EQUAL(th_log_count(&d, OPEN_WARNING, 2, 0), 1);
    /* loopback without a key, or every address with one: none */
    CU_ASSERT_FATAL(th_daemon_start(NULL, NULL, NULL, &d) == 0);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    CU_ASSERT_FALSE(th_log_contains(&d, "the API is open", 0));
    const char *keyed_env[] = {"SUPERVISOR_LISTEN=0.0.0.0:0", "SUPERVISOR_INTERNAL_KEY=" PLAIN,
                               NULL};
    CU_ASSERT_FATAL(th_daemon_start(NULL, keyed_env, NULL, &d) == 0);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    CU_ASSERT_FALSE(th_log_contains(&d, "the API is open", 0));
}

/* Run a daemon that must refuse to start: exit status 2 and its one line
 * holding needle, never `hidden`. */
static void expect_refused(const char *const *env, const char *needle, const char *hidden)
{
    char bin[512], cmd[4096];
    snprintf(bin, sizeof bin, "%s/sofiia-supervisor", getenv("SV_BUILDDIR"));
    size_t off = (size_t)snprintf(cmd, sizeof cmd, "env -i");
    for (; *env; env++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " '%s'", *env);
    snprintf(cmd + off, sizeof cmd - off, " %s 2>&1", bin);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"level\":\"error\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    if (!strstr(out, needle))
        fprintf(stderr, "\n    expected '%s' in: %s\n", needle, out);
    CU_ASSERT(!hidden || !strstr(out, hidden));
    CU_ASSERT_PTR_NULL(strchr(out, '\n') ? strchr(strchr(out, '\n') + 1, '\n') : NULL);
}

static void test_bad_key_spec_refused(void)
{
    char dir[] = "/tmp/svauth.XXXXXX", pd[64];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(pd, sizeof pd, "PLUGIN_DIR=%s", dir);
    const char *e1[] = {pd, "SUPERVISOR_INTERNAL_KEY=ops:short-one", NULL};
    expect_refused(e1, "SUPERVISOR_INTERNAL_KEY: key \\\"ops\\\": the secret must be", "short-one");
    const char *e2[] = {pd, "SUPERVISOR_INTERNAL_KEY=a:" OLD ",a:" NEW, NULL};
    expect_refused(e2, "SUPERVISOR_INTERNAL_KEY: key id \\\"a\\\" is given twice", OLD);
    const char *e3[] = {pd, "SUPERVISOR_INTERNAL_KEY=p@ssw0rd-0123456789", NULL};
    expect_refused(e3, "SUPERVISOR_INTERNAL_KEY: entry 1 has no id", "ssw0rd");
    const char *e4[] = {pd, "SUPERVISOR_INTERNAL_KEY=a:" OLD "@ws+", NULL};
    expect_refused(e4, "an empty workspace", OLD);
    rmdir(dir);
}

static void test_world_writable_plugin_dir_refused(void)
{
    char dir[] = "/tmp/svauth.XXXXXX", pd[64], needle[128];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
    snprintf(pd, sizeof pd, "PLUGIN_DIR=%s", dir);
    snprintf(needle, sizeof needle, "PLUGIN_DIR=\\\"%s\\\": writable by every user (mode 0777)",
             dir);
    const char *e1[] = {pd, NULL};
    expect_refused(e1, needle, NULL);
    CU_ASSERT_EQUAL(chmod(dir, 01777), 0); /* sticky, as /tmp: still refused */
    expect_refused(e1, "writable by every user", NULL);
    rmdir(dir);
}

static void test_world_writable_plugin_file_refused(void)
{
    th_proc d;
    char src[600], dir[300], tmp[400], dst[400], id[64];
    const char *plugins[] = {"test_chain", NULL};
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, &g_sim2, &d) == 0);
    /* test_wait.so dropped in, writable by everyone */
    th_plugin_path("test_wait", src, sizeof src);
    th_plugin_dir(&d, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s/.test_wait.so.tmp", dir);
    snprintf(dst, sizeof dst, "%s/test_wait.so", dir);
    size_t len = 0;
    char *data = th_read_file(src, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, data, len), (ssize_t)len);
    CU_ASSERT_EQUAL(fchmod(fd, 0666), 0);
    close(fd);
    free(data);
    CU_ASSERT_EQUAL(rename(tmp, dst), 0);
    CU_ASSERT(th_log_contains(&d, "\"msg\":\"plugin refused\"", 10000));
    CU_ASSERT(
        th_log_contains(&d, "test_wait.so\",\"reason\":\"writable by every user (mode 0666)", 0));
    /* the daemon goes on serving what it had */
    th_resp r;
    th_http("GET", d.port, "/v1/graphs", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(th_len(r.json, "graphs"), 1);
    TH_STR_EQ(th_get_str(r.json, "graphs[0].name"), "test_chain");
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_start_run(d.port, "test_chain", "{\"label\":\"still\"}", id), 202);
    /* fixed, and retried on SIGHUP: loaded */
    CU_ASSERT_EQUAL(chmod(dst, 0644), 0);
    CU_ASSERT_EQUAL(kill(d.pid, SIGHUP), 0);
    CU_ASSERT(th_log_contains(&d, "\"msg\":\"graph loaded\",\"graph\":\"test_wait\"", 10000));
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

int main(void)
{
    static const sv_cu_test key_tests[] = {
        {"two keys accepted, others 401, ids logged", test_two_keys},
        {"a workspace-limited key: 403, 404, filtered lists", test_workspace_limits},
        {"a cancel records the key id, never the key", test_cancel_records_key_id},
    };
    static const sv_cu_test startup_tests[] = {
        {"a rotated-out key gets 401", test_rotated_out},
        {"the plain key of before: id default", test_plain_key},
        {"Redis: a cancel through another instance keeps its key id",
         test_cancel_through_other_instance},
        {"warning when open on a non-loopback address", test_open_api_warning},
        {"a bad key list stops start-up", test_bad_key_spec_refused},
        {"a world-writable PLUGIN_DIR stops start-up", test_world_writable_plugin_dir_refused},
        {"a world-writable plugin file is refused", test_world_writable_plugin_file_refused},
    };
    static const sv_cu_suite suites[] = {
        {.name = "keys", SV_CU_TESTS(key_tests), .init = suite_init, .clean = suite_clean},
        {.name = "start-up",
         SV_CU_TESTS(startup_tests),
         .init = startup_init,
         .clean = startup_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
