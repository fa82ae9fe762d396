/* test_core.c - units of the core: settings, ids, timestamps, events, error
 * bodies, caller ids, run summaries. */
#include <CUnit/CUnit.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "cu_run.h"
#include "graph_settings.h"
#include "http.h"
#include "json_text.h"
#include "run.h"
#include "run_fsm.h"
#include "store.h"
#include "timer.h"
#include "util.h"

static char g_err[512];

static int set(sv_config *c, const char *k, const char *v)
{
    return sv_config_set(c, k, v, 0, g_err, sizeof g_err);
}

static void test_config_defaults(void)
{
    sv_config c;
    CU_ASSERT_EQUAL_FATAL(sv_config_defaults(&c), 0);
    CU_ASSERT_STRING_EQUAL(c.listen_host, "0.0.0.0");
    CU_ASSERT_EQUAL(c.listen_port, 8080);
    CU_ASSERT_STRING_EQUAL(c.gateway_base_url, "http://router:8000");
    CU_ASSERT_PTR_NULL(c.internal_key);
    CU_ASSERT_PTR_NULL(c.api_key);
    CU_ASSERT_PTR_NULL(c.redis_url);
    CU_ASSERT_EQUAL(c.run_ttl_sec, 86400);
    CU_ASSERT_EQUAL(c.run_default_timeout_sec, 3600);
    CU_ASSERT_EQUAL(c.max_nodes_per_run, 10000);
    CU_ASSERT_EQUAL(c.worker_threads, (int)sysconf(_SC_NPROCESSORS_ONLN));
    CU_ASSERT_EQUAL(c.log_level, SV_LEVEL_INFO);
    CU_ASSERT_EQUAL(c.max_body_bytes, 1048576);
    sv_config_free(&c);
}

static void test_config_good(void)
{
    sv_config c;
    sv_config_defaults(&c);
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_LISTEN", "127.0.0.1:0"), 0);
    CU_ASSERT_STRING_EQUAL(c.listen_host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.listen_port, 0);
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_LISTEN", "[::1]:9000"), 0);
    CU_ASSERT_STRING_EQUAL(c.listen_host, "::1");
    CU_ASSERT_EQUAL(c.listen_port, 9000);
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_LISTEN", "localhost:8084"), 0);
    CU_ASSERT_STRING_EQUAL(c.listen_host, "127.0.0.1");
    CU_ASSERT_EQUAL(set(&c, "GATEWAY_BASE_URL", "http://router:8000/"), 0);
    CU_ASSERT_STRING_EQUAL(c.gateway_base_url, "http://router:8000");
    CU_ASSERT_EQUAL(set(&c, "GATEWAY_BASE_URL", "https://gw.example/api"), 0);
    CU_ASSERT_EQUAL(set(&c, "REDIS_URL", "redis://:pw@sofiia-redis:6379/2"), 0);
    CU_ASSERT_STRING_EQUAL(c.redis_url, "redis://:pw@sofiia-redis:6379/2");
    CU_ASSERT_EQUAL(set(&c, "REDIS_URL", "unix:///run/redis.sock"), 0);
    CU_ASSERT_EQUAL(set(&c, "REDIS_URL", ""), 0);
    CU_ASSERT_PTR_NULL(c.redis_url);
    CU_ASSERT_EQUAL(c.node_ttl_ms, 10000);
    CU_ASSERT_STRING_EQUAL(c.node_id, "");
    CU_ASSERT_EQUAL(set(&c, "NODE_TTL_SEC", "3"), 0);
    CU_ASSERT_EQUAL(c.node_ttl_ms, 3000);
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_NODE_ID", "pod-7.sofiia:a_b"), 0);
    CU_ASSERT_STRING_EQUAL(c.node_id, "pod-7.sofiia:a_b");
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_NODE_ID", ""), 0);
    CU_ASSERT_STRING_EQUAL(c.node_id, "");
    CU_ASSERT_EQUAL(set(&c, "RUN_TTL_SEC", "60"), 0);
    CU_ASSERT_EQUAL(c.run_ttl_sec, 60);
    CU_ASSERT_EQUAL(set(&c, "WORKER_THREADS", "8"), 0);
    CU_ASSERT_EQUAL(c.worker_threads, 8);
    CU_ASSERT_EQUAL(set(&c, "RUN_DEFAULT_TIMEOUT_SEC", "60"), 0);
    CU_ASSERT_EQUAL(c.run_default_timeout_sec, 60);
    CU_ASSERT_EQUAL(set(&c, "MAX_NODES_PER_RUN", "50"), 0);
    CU_ASSERT_EQUAL(c.max_nodes_per_run, 50);
    /* a graph's setting is no longer the core's: ignored here (env) */
    CU_ASSERT_EQUAL(set(&c, "INCIDENT_MAX_TIME_WINDOW_H", "0"), 0);
    CU_ASSERT_EQUAL(set(&c, "LOG_LEVEL", "debug"), 0);
    CU_ASSERT_EQUAL(c.log_level, SV_LEVEL_DEBUG);
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_INTERNAL_KEY", "s3cret"), 0);
    CU_ASSERT_STRING_EQUAL(c.internal_key, "s3cret");
    CU_ASSERT_EQUAL(set(&c, "SUPERVISOR_INTERNAL_KEY", ""), 0);
    CU_ASSERT_PTR_NULL(c.internal_key);
    CU_ASSERT_EQUAL(set(&c, "SOMETHING_ELSE", "whatever"), 0); /* env: ignored */
    sv_config_free(&c);
}

/* Each bad value fails with a line naming the variable and the value. */
static void expect_bad(const char *k, const char *v)
{
    sv_config c;
    sv_config_defaults(&c);
    g_err[0] = '\0';
    CU_ASSERT_EQUAL(set(&c, k, v), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, k));
    if (*v && !strstr(k, "KEY"))
        CU_ASSERT_PTR_NOT_NULL(strstr(g_err, v));
    CU_ASSERT_PTR_NULL(strchr(g_err, '\n'));
    sv_config_free(&c);
}

static void test_config_bad(void)
{
    expect_bad("SUPERVISOR_LISTEN", "8080");
    expect_bad("SUPERVISOR_LISTEN", "0.0.0.0:http");
    expect_bad("SUPERVISOR_LISTEN", "0.0.0.0:70000");
    expect_bad("SUPERVISOR_LISTEN", "router:8080");
    expect_bad("GATEWAY_BASE_URL", "router:8000");
    expect_bad("GATEWAY_BASE_URL", "ftp://router");
    expect_bad("GATEWAY_BASE_URL", "http://");
    expect_bad("REDIS_URL", "localhost:6379");
    expect_bad("REDIS_URL", "redis://");
    expect_bad("NODE_TTL_SEC", "0");
    expect_bad("NODE_TTL_SEC", "3601");
    expect_bad("NODE_TTL_SEC", "10s");
    expect_bad("SUPERVISOR_NODE_ID", "node one");
    expect_bad("SUPERVISOR_NODE_ID", "n/1");
    expect_bad("SUPERVISOR_NODE_ID",
               "n123456789012345678901234567890123456789012345678901234567890123456");
    expect_bad("RUN_TTL_SEC", "abc");
    expect_bad("RUN_TTL_SEC", "0");
    expect_bad("RUN_TTL_SEC", "-5");
    expect_bad("RUN_TTL_SEC", "10s");
    expect_bad("RUN_TTL_SEC", "99999999999999999999");
    expect_bad("WORKER_THREADS", "0");
    expect_bad("WORKER_THREADS", "two");
    expect_bad("RUN_DEFAULT_TIMEOUT_SEC", "0");
    expect_bad("MAX_NODES_PER_RUN", "lots");
    expect_bad("LOG_LEVEL", "verbose");
    expect_bad("PLUGIN_DIR", "");
    expect_bad("SUPERVISOR_INTERNAL_KEY", "has space");
}

static void test_config_file(void)
{
    char path[] = "/tmp/svcfg.XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char *text = "# comment\n\nRUN_TTL_SEC = 120\nLOG_LEVEL=\"warn\"\n";
    CU_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    sv_config c;
    sv_config_defaults(&c);
    CU_ASSERT_EQUAL(sv_config_load_file(&c, path, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL(c.run_ttl_sec, 120);
    CU_ASSERT_EQUAL(c.log_level, SV_LEVEL_WARN);
    /* the environment overrides the file */
    char *env[] = {"RUN_TTL_SEC=30", "HOME=/root", NULL};
    CU_ASSERT_EQUAL(sv_config_load_env(&c, env, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL(c.run_ttl_sec, 30);
    /* a typo in a file is an error, with its line, once the plugins are
     * loaded (a key the daemon does not know may be a graph's) */
    FILE *f = fopen(path, "w");
    fputs("[graph some_graph]\nwindow_h = 6\n\n[graph other]\nx=1\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(sv_config_load_file(&c, path, g_err, sizeof g_err), 0);
    CU_ASSERT_PTR_NOT_NULL(c.graph_file);
    f = fopen(path, "w");
    fputs("RUN_TTL_SECS=5\n", f);
    fclose(f);
    sv_config_free(&c);
    sv_config_defaults(&c);
    CU_ASSERT_EQUAL(sv_config_load_file(&c, path, g_err, sizeof g_err), 0);
    sv_gset_setup(NULL, c.graph_file, 3600000);
    CU_ASSERT_EQUAL(sv_gset_unclaimed(g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "unknown setting \"RUN_TTL_SECS\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "line 1"));
    f = fopen(path, "w");
    fputs("[bogus]\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(sv_config_load_file(&c, path, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "[graph NAME]"));
    f = fopen(path, "w");
    fputs("no equals sign\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(sv_config_load_file(&c, path, g_err, sizeof g_err), -EINVAL);
    unlink(path);
    CU_ASSERT_EQUAL(sv_config_load_file(&c, path, g_err, sizeof g_err), -EINVAL);
    sv_config_free(&c);
}

static void test_config_plugin_dir(void)
{
    sv_config c;
    sv_config_defaults(&c);
    set(&c, "PLUGIN_DIR", "/nonexistent/plugins");
    CU_ASSERT_EQUAL(sv_config_validate(&c, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "PLUGIN_DIR"));
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "/nonexistent/plugins"));
    set(&c, "PLUGIN_DIR", "/etc/hostname");
    CU_ASSERT_EQUAL(sv_config_validate(&c, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "not a directory"));
    /* world-writable, as /tmp is: anyone could plant a plugin */
    set(&c, "PLUGIN_DIR", "/tmp");
    CU_ASSERT_EQUAL(sv_config_validate(&c, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "writable by every user"));
    char dir[] = "/tmp/svpd.XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    set(&c, "PLUGIN_DIR", dir);
    CU_ASSERT_EQUAL(sv_config_validate(&c, g_err, sizeof g_err), 0);
    rmdir(dir);
    sv_config_free(&c);
}

static void test_run_id(void)
{
    char a[SV_RUN_ID_LEN], b[SV_RUN_ID_LEN];
    CU_ASSERT_EQUAL(sv_run_id_new(a), 0);
    CU_ASSERT_EQUAL(sv_run_id_new(b), 0);
    CU_ASSERT_EQUAL(strlen(a), 35);
    CU_ASSERT_EQUAL(strncmp(a, "gr_", 3), 0);
    for (int i = 3; i < 35; i++)
        CU_ASSERT(strchr("0123456789abcdef", a[i]) != NULL);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT(sv_run_id_valid(a));
    CU_ASSERT(!sv_run_id_valid("gr_123"));
    CU_ASSERT(!sv_run_id_valid("gr_0123456789ABCDEF0123456789abcdef"));
    CU_ASSERT(!sv_run_id_valid("xx_0123456789abcdef0123456789abcdef"));
    CU_ASSERT(!sv_run_id_valid(NULL));
}

static void test_timestamps(void)
{
    char buf[SV_TS_LEN];
    sv_format_ts(1771840800123456LL, buf);
    CU_ASSERT_STRING_EQUAL(buf, "2026-02-23T10:00:00.123456+00:00");
    int64_t us = 0;
    CU_ASSERT_EQUAL(sv_parse_ts("2026-02-23T10:00:00Z", &us), 0);
    CU_ASSERT_EQUAL(us, 1771840800000000LL);
    CU_ASSERT_EQUAL(sv_parse_ts("2026-02-23T12:00:00.5+02:00", &us), 0);
    CU_ASSERT_EQUAL(us, 1771840800500000LL);
    CU_ASSERT_EQUAL(sv_parse_ts(buf, &us), 0);
    CU_ASSERT_EQUAL(us, 1771840800123456LL);
    CU_ASSERT_EQUAL(sv_parse_ts("2026-02-30T10:00:00Z", &us), -EINVAL);
    CU_ASSERT_EQUAL(sv_parse_ts("2026-02-23 10:00", &us), -EINVAL);
    CU_ASSERT_EQUAL(sv_parse_ts("2026-02-23T10:00:00", &us), -EINVAL);
    CU_ASSERT_EQUAL(sv_parse_ts("yesterday", &us), -EINVAL);
}

static void test_consttime(void)
{
    CU_ASSERT(sv_consttime_equal("abc", "abc"));
    CU_ASSERT(!sv_consttime_equal("abd", "abc"));
    CU_ASSERT(!sv_consttime_equal("ab", "abc"));
    CU_ASSERT(!sv_consttime_equal("abcd", "abc"));
    CU_ASSERT(!sv_consttime_equal("", "abc"));
}

static void test_sha256(void)
{
    char hex[65];
    sv_sha256_hex("", 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sv_sha256_hex("abc", 3, hex);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_ids(void)
{
    CU_ASSERT(sv_api_valid_id("daarion"));
    CU_ASSERT(sv_api_valid_id("a.b:c-d_9"));
    CU_ASSERT(!sv_api_valid_id(""));
    CU_ASSERT(!sv_api_valid_id("has space"));
    CU_ASSERT(!sv_api_valid_id("slash/no"));
    char long_id[200];
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    CU_ASSERT(!sv_api_valid_id(long_id));
    long_id[128] = '\0';
    CU_ASSERT(sv_api_valid_id(long_id));
}

static void test_error_body(void)
{
    sv_resp r = {0};
    sv_resp_error(&r, 400, "invalid_input", "must be a string", "service");
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(r.body, JSON_C_TO_STRING_PLAIN),
                           "{\"error\":{\"code\":\"invalid_input\",\"message\":\"must be a "
                           "string\",\"details\":{\"field\":\"service\"}}}");
    sv_resp_error(&r, 404, "run_not_found", "no run", NULL);
    CU_ASSERT_EQUAL(r.status, 404);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(r.body, JSON_C_TO_STRING_PLAIN),
                           "{\"error\":{\"code\":\"run_not_found\",\"message\":\"no run\"}}");
    json_object_put(r.body);
}

/* A run keeps its newest 1000 events and counts the others. */
static void test_event_cap(void)
{
    sv_store *st = NULL;
    CU_ASSERT_EQUAL_FATAL(sv_store_mem_new(60, &st), 0);
    static const sv_node nodes[] = {{.name = "n", .run = NULL, .next = NULL}};
    static const sv_graph g = {SV_GRAPH_ABI,   .name = "g",  .version = "1",
                               .nodes = nodes, .n_nodes = 1, .entry = "n"};
    sv_graph_ent *e = calloc(1, sizeof *e);
    atomic_init(&e->refs, 1);
    e->desc = &g;
    sv_run *r = NULL;
    CU_ASSERT_EQUAL_FATAL(
        sv_run_new(st, e, "w", "u", "a", json_tokener_parse("{\"a\":[1,\"x\"]}"), &r), 0);
    CU_ASSERT_EQUAL(sv_run_store_create(r), 0);
    /* the private checkpoint carries the input (serialised once) and state */
    char *raw = NULL;
    CU_ASSERT_EQUAL_FATAL(st->ops->run_get(st, r->id, &raw), 0);
    json_object *rec = json_tokener_parse(raw);
    free(raw);
    json_object *cp = json_object_object_get(rec, "checkpoint");
    CU_ASSERT_STRING_EQUAL(
        json_object_to_json_string_ext(json_object_object_get(cp, "input"), JSON_C_TO_STRING_PLAIN),
        "{\"a\":[1,\"x\"]}");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(cp, "node")), "n");
    json_object_put(rec);
    for (int i = 0; i < 1005; i++) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "i", json_object_new_int(i));
        CU_ASSERT_EQUAL(sv_run_event(r, "test", "n", d), 0);
    }
    /* events are kept with the run until its next write */
    CU_ASSERT_EQUAL(sv_run_flush(r), 0);
    json_object *view = NULL;
    CU_ASSERT_EQUAL_FATAL(sv_run_view(st, r->id, &view), 0);
    json_object *events = json_object_object_get(view, "events");
    CU_ASSERT_EQUAL(json_object_array_length(events), 1000);
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(view, "events_dropped")), 5);
    json_object *first = json_object_array_get_idx(events, 0);
    CU_ASSERT_EQUAL(
        json_object_get_int(json_object_object_get(json_object_object_get(first, "details"), "i")),
        5);
    /* the view shows no checkpoint (input and state stay private) */
    CU_ASSERT_FALSE(json_object_object_get_ex(view, "checkpoint", NULL));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(view, "status")),
                           "queued");
    json_object_put(view);
    sv_run_unref(r);
    /* e was freed with the run's last reference?  No: we hold the first. */
    free(e);
    st->ops->destroy(st);
}

/* ---- summaries ---- */

/* A memory store whose run_put notes whether a summary came with it. */
static const sv_store_ops *g_real_ops;
static sv_store_ops g_spy_ops;
static int g_puts, g_puts_with_summary, g_puts_fail;

static int spy_run_put(sv_store *st, const char *run_id, const char *json, const char *summary,
                       int *cancelled)
{
    g_puts++;
    g_puts_with_summary += summary != NULL;
    return g_puts_fail ? -EIO : g_real_ops->run_put(st, run_id, json, summary, cancelled);
}

static sv_store *spy_store(void)
{
    sv_store *st = NULL;
    CU_ASSERT_FATAL(sv_store_mem_new(60, &st) == 0);
    g_real_ops = st->ops;
    g_spy_ops = *st->ops;
    g_spy_ops.run_put = spy_run_put;
    st->ops = &g_spy_ops;
    g_puts = g_puts_with_summary = g_puts_fail = 0;
    return st;
}

static void spy_store_free(sv_store *st)
{
    st->ops = g_real_ops;
    st->ops->destroy(st);
}

/* The one summary listed, parsed (caller puts); NULL if not exactly one. */
static json_object *only_summary(sv_store *st)
{
    sv_strvec v = {0};
    json_object *o = NULL;
    if (st->ops->run_summaries(st, 10, &v) == 0 && v.n == 1)
        o = json_tokener_parse(v.v[0]);
    sv_strvec_free(&v);
    return o;
}

/* Is the stored summary the run view less result, events and events_dropped
 * (docs/api.md), member for member and in the same order? */
static int summary_matches_view(sv_store *st, const char *run_id)
{
    json_object *view = NULL, *sum = only_summary(st);
    int same = 0;
    if (sum && sv_run_view(st, run_id, &view) == 0) {
        json_object_object_del(view, "result");
        json_object_object_del(view, "events");
        json_object_object_del(view, "events_dropped");
        json_object_object_del(view, "trace_id"); /* the view's, not the listing's */
        const char *a = json_object_to_json_string_ext(sum, JSON_C_TO_STRING_PLAIN);
        const char *b = json_object_to_json_string_ext(view, JSON_C_TO_STRING_PLAIN);
        same = strcmp(a, b) == 0;
        if (!same)
            fprintf(stderr, "\n    summary %s\n    view    %s\n", a, b);
    }
    json_object_put(view);
    json_object_put(sum);
    return same;
}

static const char *summary_status(sv_store *st)
{
    static char buf[32];
    json_object *sum = only_summary(st), *s = NULL;
    snprintf(buf, sizeof buf, "%s",
             json_object_object_get_ex(sum, "status", &s) ? json_object_get_string(s) : "?");
    json_object_put(sum);
    return buf;
}

/* The summary is written with the record when it may have changed (status,
 * error) and left alone by the checkpoints in between. */
static void test_summary_writes(void)
{
    sv_store *st = spy_store();
    static const sv_node nodes[] = {{.name = "n", .run = NULL, .next = NULL}};
    static const sv_graph g = {SV_GRAPH_ABI,   .name = "g",  .version = "1",
                               .nodes = nodes, .n_nodes = 1, .entry = "n"};
    sv_graph_ent *e = calloc(1, sizeof *e);
    atomic_init(&e->refs, 1);
    e->desc = &g;
    sv_run *r = NULL;
    CU_ASSERT_EQUAL_FATAL(sv_run_new(st, e, "w", "u", "a", json_object_new_object(), &r), 0);
    CU_ASSERT_EQUAL(sv_run_store_create(r), 0);
    CU_ASSERT_STRING_EQUAL(summary_status(st), "queued");
    CU_ASSERT(summary_matches_view(st, r->id));

    r->status = SV_RUN_RUNNING;
    r->started_us = sv_now_us();
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT(g_puts == 1 && g_puts_with_summary == 1);
    CU_ASSERT_STRING_EQUAL(summary_status(st), "running");
    CU_ASSERT(summary_matches_view(st, r->id));

    /* Checkpoints: the record changes, the summary is not sent. */
    json_object_object_add(r->state, "k", json_object_new_int(1));
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT(g_puts == 3 && g_puts_with_summary == 1);
    CU_ASSERT(summary_matches_view(st, r->id));

    /* An error set while the run goes on (host->fail): sent while it is set. */
    snprintf(r->err_code, sizeof r->err_code, "partial");
    snprintf(r->err_message, sizeof r->err_message, "one of two");
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT(g_puts == 4 && g_puts_with_summary == 2);
    CU_ASSERT(summary_matches_view(st, r->id));
    snprintf(r->err_message, sizeof r->err_message, "two of two");
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT(summary_matches_view(st, r->id));

    r->status = SV_RUN_FAILED;
    r->finished_us = sv_now_us();
    r->result = json_object_new_string("partial result");
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT_STRING_EQUAL(summary_status(st), "failed");
    CU_ASSERT(summary_matches_view(st, r->id));

    /* A put that fails is retried with the summary by the next save. */
    r->err_code[0] = '\0';
    r->status = SV_RUN_SUCCEEDED;
    int with = g_puts_with_summary;
    g_puts_fail = 1;
    CU_ASSERT_EQUAL(sv_run_save(r), -EIO);
    g_puts_fail = 0;
    CU_ASSERT_EQUAL(sv_run_save(r), 0);
    CU_ASSERT_EQUAL(g_puts_with_summary, with + 2);
    CU_ASSERT_STRING_EQUAL(summary_status(st), "succeeded");
    CU_ASSERT(summary_matches_view(st, r->id));
    sv_run_unref(r);

    /* Recovery's failure of a stored record rewrites the summary too. */
    CU_ASSERT_EQUAL_FATAL(sv_run_new(st, e, "w", "u", "a", json_object_new_object(), &r), 0);
    CU_ASSERT_EQUAL(sv_run_store_create(r), 0);
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(st->ops->run_get(st, r->id, &text), 0);
    json_object *rec = json_tokener_parse(text);
    free(text);
    sv_strvec v = {0};
    CU_ASSERT_EQUAL(sv_run_fail_record(st, rec, "resume_failed", "graph g 1 is not loaded"), 0);
    json_object_put(rec);
    CU_ASSERT_EQUAL_FATAL(st->ops->run_summaries(st, 10, &v), 0);
    CU_ASSERT_EQUAL_FATAL(v.n, 2);
    json_object *sum = json_tokener_parse(v.v[0]), *err = NULL;
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(sum, "run_id"), r->id);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(sum, "status"), "failed");
    CU_ASSERT_PTR_NOT_NULL(sv_run_record_str(sum, "finished_at"));
    CU_ASSERT(json_object_object_get_ex(sum, "error", &err) &&
              strcmp(sv_run_record_str(err, "code"), "resume_failed") == 0);
    json_object_put(sum);
    sv_strvec_free(&v);
    sv_run_unref(r);
    free(e);
    spy_store_free(st);
}

/* GET /v1/runs unfiltered asks the store for `limit` summaries, and looks
 * further when one of them cannot be read. */
static void test_list_skips_unreadable(void)
{
    sv_store *st = NULL;
    CU_ASSERT_FATAL(sv_store_mem_new(60, &st) == 0);
    sv_api api;
    memset(&api, 0, sizeof api);
    api.store = st;
    char id[40], sum[128];
    for (int i = 0; i < 52; i++) {
        snprintf(id, sizeof id, "gr_%02d", i);
        snprintf(sum, sizeof sum, i == 50 ? "{\"run_id\":" : "{\"run_id\":\"%s\"}", id);
        CU_ASSERT_EQUAL(st->ops->run_create(st, id, "{}", sum, i), 0);
    }
    sv_req req = {.method = "GET", .path = "/v1/runs"}; /* no query: limit 50 */
    sv_resp resp = {0};
    sv_api_handle(&api, &req, &resp);
    CU_ASSERT_EQUAL(resp.status, 200);
    json_object *runs = json_object_object_get(resp.body, "runs");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(runs), 50);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(json_object_array_get_idx(runs, 0), "run_id"),
                           "gr_51");
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(json_object_array_get_idx(runs, 1), "run_id"),
                           "gr_49");
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(json_object_array_get_idx(runs, 49), "run_id"),
                           "gr_01");
    json_object_put(resp.body);
    st->ops->destroy(st);
}

static atomic_int g_fired[8], g_dropped[8];

static void on_timer(void *arg, uint64_t tag, int fired)
{
    (void)arg;
    atomic_fetch_add(fired ? &g_fired[tag] : &g_dropped[tag], 1);
}

/* Entries fire in due order; a cancelled one gets fn(...,0) once and never
 * fires; the slot tracks the entry while the heap moves it. */
static void test_timer(void)
{
    sv_timer *t = NULL;
    CU_ASSERT_EQUAL_FATAL(sv_timer_new(&t), 0);
    size_t slots[6];
    int64_t now = sv_mono_ms();
    for (int i = 0; i < 6; i++) {
        slots[i] = 12345;
        /* 0..2 soon, 3..5 far away */
        CU_ASSERT_EQUAL(sv_timer_add(t, now + (i < 3 ? 20 + i : 600000), on_timer, NULL,
                                     (uint64_t)i, &slots[i]),
                        0);
        CU_ASSERT(slots[i] != SV_TIMER_NONE && slots[i] != 12345);
    }
    CU_ASSERT_EQUAL(sv_timer_cancel(t, &slots[1]), 0);
    CU_ASSERT_EQUAL(slots[1], SV_TIMER_NONE);
    CU_ASSERT_EQUAL(atomic_load(&g_dropped[1]), 1);
    CU_ASSERT_EQUAL(sv_timer_cancel(t, &slots[1]), -ENOENT);
    CU_ASSERT_EQUAL(sv_timer_cancel(t, &slots[4]), 0);
    int64_t deadline = sv_mono_ms() + 5000;
    while (sv_timer_pending(t) > 2 && sv_mono_ms() < deadline) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    CU_ASSERT_EQUAL(sv_timer_pending(t), 2); /* 3 and 5 wait; 0 and 2 fired */
    CU_ASSERT_EQUAL(atomic_load(&g_fired[0]), 1);
    CU_ASSERT_EQUAL(atomic_load(&g_fired[2]), 1);
    CU_ASSERT_EQUAL(atomic_load(&g_fired[1]), 0);
    CU_ASSERT_EQUAL(slots[0], SV_TIMER_NONE);
    CU_ASSERT_EQUAL(sv_timer_cancel(t, &slots[0]), -ENOENT);
    sv_timer_free(t); /* the two still waiting are dropped */
    CU_ASSERT_EQUAL(atomic_load(&g_dropped[3]), 1);
    CU_ASSERT_EQUAL(atomic_load(&g_dropped[5]), 1);
    CU_ASSERT_EQUAL(atomic_load(&g_fired[3]) + atomic_load(&g_fired[5]), 0);
}

/* A start while the daemon stops is refused before anything else is looked
 * at (the graph, the body): 503 shutting_down. */
static void test_start_while_stopping(void)
{
    sv_api api;
    memset(&api, 0, sizeof api);
    atomic_store(&api.stopping, 1);
    const char *body = "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\"}";
    sv_req req = {.method = "POST",
                  .path = "/v1/graphs/release_check/runs",
                  .body = body,
                  .body_len = strlen(body)};
    sv_resp resp = {0};
    sv_api_handle(&api, &req, &resp);
    CU_ASSERT_EQUAL(resp.status, 503);
    json_object *e = json_object_object_get(resp.body, "error");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(e, "code")),
                           "shutting_down");
    json_object_put(resp.body);
}

/* The state machine's table: every move a run can make, and none else. */
static void test_run_fsm(void)
{
    static const struct {
        sv_run_status from;
        sv_run_input in;
        int ok;
        sv_run_status to;
    } cases[] = {
        {SV_RUN_QUEUED, SV_RI_START, 1, SV_RUN_RUNNING},
        {SV_RUN_QUEUED, SV_RI_CANCEL, 1, SV_RUN_CANCELLED},
        {SV_RUN_QUEUED, SV_RI_FAIL, 1, SV_RUN_FAILED},
        {SV_RUN_QUEUED, SV_RI_SUCCEED, 0, 0},
        {SV_RUN_QUEUED, SV_RI_STOPPED, 0, 0},
        {SV_RUN_RUNNING, SV_RI_SUCCEED, 1, SV_RUN_SUCCEEDED},
        {SV_RUN_RUNNING, SV_RI_FAIL, 1, SV_RUN_FAILED},
        {SV_RUN_RUNNING, SV_RI_CANCEL, 1, SV_RUN_RUNNING},
        {SV_RUN_RUNNING, SV_RI_STOPPED, 1, SV_RUN_CANCELLED},
        {SV_RUN_RUNNING, SV_RI_START, 0, 0},
        {SV_RUN_SUCCEEDED, SV_RI_FAIL, 0, 0},
        {SV_RUN_FAILED, SV_RI_CANCEL, 0, 0},
        {SV_RUN_CANCELLED, SV_RI_START, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sv_run_status to = (sv_run_status)-1;
        int rc = sv_run_fsm_next(cases[i].from, cases[i].in, &to);
        CU_ASSERT_EQUAL(rc == 0, cases[i].ok);
        if (cases[i].ok)
            CU_ASSERT_EQUAL(to, cases[i].to);
    }
    CU_ASSERT_EQUAL(sv_run_fsm_cancel_answer(SV_RUN_QUEUED), SV_CANCEL_DONE);
    CU_ASSERT_EQUAL(sv_run_fsm_cancel_answer(SV_RUN_CANCELLED), SV_CANCEL_DONE);
    CU_ASSERT_EQUAL(sv_run_fsm_cancel_answer(SV_RUN_RUNNING), SV_CANCEL_STOPPING);
    CU_ASSERT_EQUAL(sv_run_fsm_cancel_answer(SV_RUN_SUCCEEDED), SV_CANCEL_FINISHED);
    CU_ASSERT_EQUAL(sv_run_fsm_cancel_answer(SV_RUN_FAILED), SV_CANCEL_FINISHED);
}

/* Members found in JSON text without parsing: the top-level one only, not
 * one of the same name nested or quoted. */
static void test_json_text(void)
{
    const char *t = "{\"a\":{\"checkpoint\":1},\"s\":\"x,\\\"checkpoint\\\":{\",\"workspace_id\":"
                    "\"ws-1\",\"checkpoint\":{\"node\":\"n\",\"l\":[1,{\"b\":2}]},\"z\":null}";
    size_t b, e, vb, ve, len = strlen(t);
    char out[32];
    CU_ASSERT_EQUAL_FATAL(sv_json_text_member(t, len, "checkpoint", &b, &e, &vb, &ve), 0);
    char cut[256];
    snprintf(cut, sizeof cut, "%.*s%s", (int)b, t, t + e);
    CU_ASSERT_STRING_EQUAL(cut, "{\"a\":{\"checkpoint\":1},\"s\":\"x,\\\"checkpoint\\\":{\","
                                "\"workspace_id\":\"ws-1\",\"z\":null}");
    CU_ASSERT_EQUAL(strncmp(t + vb, "{\"node\"", 7), 0);
    CU_ASSERT_EQUAL(sv_json_text_str(t, len, "workspace_id", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "ws-1");
    CU_ASSERT_EQUAL(sv_json_text_str(t, len, "missing", out, sizeof out), -ENOENT);
    CU_ASSERT_EQUAL(sv_json_text_str(t, len, "s", out, sizeof out), -EINVAL); /* escapes */
    /* the first member takes its comma along */
    const char *f = "{\"checkpoint\":[1,2],\"k\":1}";
    CU_ASSERT_EQUAL_FATAL(sv_json_text_member(f, strlen(f), "checkpoint", &b, &e, &vb, &ve), 0);
    snprintf(cut, sizeof cut, "%.*s%s", (int)b, f, f + e);
    CU_ASSERT_STRING_EQUAL(cut, "{\"k\":1}");
    CU_ASSERT_EQUAL(sv_json_text_member("[1]", 3, "k", &b, &e, &vb, &ve), -EINVAL);
    CU_ASSERT_EQUAL(sv_json_text_member("{\"k\":1", 6, "k", &b, &e, &vb, &ve), -EINVAL);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"config defaults", test_config_defaults},
        {"run state machine table", test_run_fsm},
        {"JSON members found in text", test_json_text},
        {"config good values", test_config_good},
        {"config bad values", test_config_bad},
        {"config file and env", test_config_file},
        {"config plugin dir", test_config_plugin_dir},
        {"run id format", test_run_id},
        {"timestamps", test_timestamps},
        {"constant-time compare", test_consttime},
        {"sha256", test_sha256},
        {"caller ids", test_ids},
        {"JSON error bodies", test_error_body},
        {"event cap 1000", test_event_cap},
        {"summary written with status and error changes only", test_summary_writes},
        {"listing looks past an unreadable summary", test_list_skips_unreadable},
        {"timer: order, cancel, free", test_timer},
        {"start while stopping: 503", test_start_while_stopping},
    };
    static const sv_cu_suite suites[] = {
        {.name = "core", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
