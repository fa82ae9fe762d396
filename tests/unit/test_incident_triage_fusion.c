/*
 * test_incident_triage_fusion.c - unit tests of how incident_triage weighs
 * evidence: the tokeniser (what is stripped, what is kept), the rules that
 * match token sets, metrics at their limits, and the fusion of logs, alerts,
 * health checks, metrics, runbooks and the symptom into one ranking with a
 * confidence.  No host at all.  IT_TEST_DUMP=1 prints the causes.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "it.h"
#include "it_test_support.h"

/* ---- tokens ------------------------------------------------------------------ */

static void test_tokens(void)
{
    static const struct {
        const char *text;
        const char *has;   /* space-separated tokens that must be there */
        const char * not ; /* and must not */
    } t[] = {
        {"HikariPool-1 - Connection is not available",
         "hikaripool hikari pool connection available", "1"},
        {"dial tcp 10.0.4.21:5432: connect: connection refused", "dial tcp connect refused",
         "10 21 5432"},
        {"write /var/log/app/app.log: no space left on device", "write space left device",
         "var log app"},
        {"could not open \"https://api.example.com/v1/charges\"", "could open", "api example v1"},
        {"database \"pool_test\" does not exist", "database exist", "pool pool_test test"},
        {"table 'orders-2024' and host \"db-7.internal\" missing", "table host missing",
         "orders internal"},
        {"OOM command not allowed when used memory > 'maxmemory'.", "oom memory maxmemory", ""},
        {"request 123e4567-e89b-12d3-a456-426614174000 failed", "request failed", "e89b a456"},
        {"container OOMKilled, CrashLoopBackOff",
         "oomkilled oom killed crashloopbackoff crash loop", ""},
        {"getaddrinfo EAI_AGAIN redis-master", "getaddrinfo eai_again eai again redis master", ""},
        {"upstream returned 503 after 250ms, 12 retries, id 4f9a2c7e1b", "upstream returned 503",
         "250ms 250 12 4f9a2c7e1b"},
        {"x509: certificate signed, p99 high, 5xx, sslv3", "x509 certificate p99 5xx sslv3", ""},
        {"object 0x7ffd5e8c, ERROR 1040 (08004)", "object error", "7ffd5e8c 1040 08004"},
        {"HTTPSConnectionPool(host='x', port=443): Read timed out.",
         "httpsconnectionpool read timed out", "connection pool"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        it_tokens tok;
        char buf[256], *save = NULL;
        it_tokenize(t[i].text, &tok);
        snprintf(buf, sizeof buf, "%s", t[i].has);
        for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
            if (!it_tokens_has(&tok, w, 0)) {
                fprintf(stderr, "\n  [%s]: no token %s\n", t[i].text, w);
                CU_FAIL("token missing");
            }
        snprintf(buf, sizeof buf, "%s", t[i].not );
        for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
            if (it_tokens_has(&tok, w, 0)) {
                fprintf(stderr, "\n  [%s]: token %s should be stripped\n", t[i].text, w);
                CU_FAIL("token kept");
            }
    }
    it_tokens tok;
    it_tokenize(NULL, &tok);
    CU_ASSERT_EQUAL(tok.n, 0);
}

/* ---- matching ------------------------------------------------------------------ */

static void test_match(void)
{
    static const struct {
        const char *text;
        int want;
        const char *why; /* the tokens reported, or NULL */
    } t[] = {
        /* Co-occurrence, in any order and wording. */
        {"no available connection in pool orders", IT_CAUSE_POOL, NULL},
        {"could not acquire a database connection within 5s", IT_CAUSE_POOL, NULL},
        {"connection pool saturated", IT_CAUSE_POOL, "pool + saturated"},
        /* One weak cue is not enough. */
        {"connection released to the pool", IT_CAUSE_NONE, NULL},
        {"slow", IT_CAUSE_NONE, NULL},
        /* The mechanism beats the symptom it causes. */
        {"lookup db on 10.0.0.10:53: i/o timeout", IT_CAUSE_DNS, NULL},
        {"canceling statement due to lock timeout", IT_CAUSE_LOCK, NULL},
        {"upstream connect error ... CERTIFICATE_VERIFY_FAILED", IT_CAUSE_TLS, NULL},
        {"PANIC: could not write file: No space left on device", IT_CAUSE_DISK, NULL},
        {"fatal error: runtime: out of memory", IT_CAUSE_MEMORY, NULL},
        /* A probe is the pod's own health, not a dependency. */
        {"Readiness probe failed: connect: connection refused", IT_CAUSE_CRASH, NULL},
        /* CPU throttling is no rate limit. */
        {"KubeCPUThrottlingHigh", IT_CAUSE_NONE, NULL},
        {"Throttled: too many requests for this key", IT_CAUSE_RATE, NULL},
        {"invalid configuration: unknown field \"replica\"", IT_CAUSE_CONFIG, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        it_match m;
        it_match_text(t[i].text, &m);
        if (m.cause != t[i].want)
            fprintf(stderr, "\n  [%s]: got %d (%s), want %d\n", t[i].text, m.cause, m.why,
                    t[i].want);
        CU_ASSERT_EQUAL(m.cause, t[i].want);
        if (t[i].why)
            CU_ASSERT_STRING_EQUAL(m.why, t[i].why);
    }
    CU_ASSERT_EQUAL(it_metric_cause("db_pool_in_use"), IT_CAUSE_POOL);
    CU_ASSERT_EQUAL(it_metric_cause("memoryUsagePct"), IT_CAUSE_MEMORY);
    CU_ASSERT_EQUAL(it_metric_cause("upstream_5xx_per_min"), IT_CAUSE_DEP5XX);
    CU_ASSERT_EQUAL(it_metric_cause("rps"), IT_CAUSE_NONE);
}

/* ---- metrics ------------------------------------------------------------------ */

/* The findings of a metrics object, as "cause:key" words. */
static void findings_of(const char *metrics, char *out, size_t len)
{
    it_finding f[IT_MAX_FINDINGS];
    json_object *m = json_tokener_parse(metrics);
    int n = it_metrics_scan(NULL, m, f, IT_MAX_FINDINGS);
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s%s:%s", i ? " " : "",
                              it_cause_get(f[i].cause)->key, f[i].key);
    json_object_put(m);
}

static void test_metrics(void)
{
    static const struct {
        const char *metrics, *want;
    } t[] = {
        /* A count against its limit, with or without "in_use". */
        {"{\"db_pool_in_use\":100,\"db_pool_size\":100}", "connection_pool:db_pool_in_use"},
        {"{\"hikaricp_connections_active\":10,\"hikaricp_connections_max\":10}",
         "connection_pool:hikaricp_connections_active"},
        {"{\"heapUsedBytes\":960,\"heapMaxBytes\":1000}", "memory_pressure:heapUsedBytes"},
        {"{\"db_pool_in_use\":40,\"db_pool_size\":100}", ""},
        /* Utilisation as a fraction or a percent. */
        {"{\"memory_utilization\":0.93,\"disk_used_pct\":97}",
         "memory_pressure:memory_utilization disk_full:disk_used_pct"},
        {"{\"memory_usage_pct\":40,\"cpu_usage_pct\":99}", ""},
        /* Free space near zero. */
        {"{\"disk_free_pct\":2,\"disk_free_bytes\":1073741824}", "disk_full:disk_free_pct"},
        /* A tail far above the p95. */
        {"{\"latency_p99_ms\":9000,\"latency_p95_ms\":850}", "upstream_timeouts:latency_p99_ms"},
        {"{\"latency_p99_ms\":1200,\"latency_p95_ms\":850}", ""},
        /* Failure events. */
        {"{\"oom_kills\":3,\"restarts\":14,\"http_429_total\":120,\"deadlocks\":2}",
         "memory_pressure:oom_kills crash_loop:restarts rate_limited:http_429_total "
         "lock_contention:deadlocks"},
        {"{\"restarts\":0,\"oom_kills\":0}", ""},
        {"{\"upstream_5xx_per_min\":38}", "dependency_5xx:upstream_5xx_per_min"},
        /* Certificates and states. */
        {"{\"cert_days_left\":-2,\"rate_limited\":true,\"disk_full\":false}",
         "tls_certificate:cert_days_left rate_limited:rate_limited"},
        {"{\"minutes_since_deploy\":12,\"deploy_version\":\"v2\"}",
         "recent_deploy:minutes_since_deploy"},
        {"{\"rps\":420,\"error_rate\":0.3,\"db_pool_size\":100}", ""},
    };
    char got[512];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        findings_of(t[i].metrics, got, sizeof got);
        if (strcmp(got, t[i].want) != 0)
            fprintf(stderr, "\n  %s: got [%s], want [%s]\n", t[i].metrics, got, t[i].want);
        CU_ASSERT_STRING_EQUAL(got, t[i].want);
    }
    it_finding f[IT_MAX_FINDINGS];
    CU_ASSERT_EQUAL(it_metrics_scan(NULL, NULL, f, IT_MAX_FINDINGS), 0);
}

/* ---- fusion ------------------------------------------------------------------- */

/* A logs_query answer: n1 lines of msg1 at ts1, n2 of msg2 at ts2 (ts NULL
 * = no time). */
static char *logs_of(const char *msg1, int n1, const char *ts1, const char *msg2, int n2,
                     const char *ts2)
{
    it_buf b = {0};
    it_buf_cat(&b, "{\"lines\":[");
    for (int i = 0; i < n1 + n2; i++) {
        const char *ts = i < n1 ? ts1 : ts2;
        it_buf_printf(&b, "%s{\"level\":\"error\",\"message\":\"%s\"", i ? "," : "",
                      i < n1 ? msg1 : msg2);
        if (ts)
            it_buf_printf(&b, ",\"ts\":\"%s\"", ts);
        it_buf_cat(&b, "}");
    }
    it_buf_cat(&b, "]}");
    char *s = strdup(it_buf_str(&b));
    it_buf_free(&b);
    return s;
}

static double score_of(json_object *c)
{
    return json_object_get_double(itt_get(c, "score"));
}

/* The case: the logs say only "timed out", in a wording no pool
 * rule knows; alerts, health and metrics all say pool.  Pool must win. */
static void test_fusion_sources_agree(void)
{
    it_ranking r;
    json_object *causes = NULL;
    char *logs = logs_of("query on orders-db timed out after 5000 ms", 30, NULL, "x", 0, NULL);
    json_object *st = itt_state(
        "{\"alerts\":[{\"name\":\"DBPoolSaturated\",\"severity\":\"critical\"}],"
        "\"metrics\":{\"db_pool_active\":50,\"db_pool_max\":50}}",
        logs,
        "{\"status\":\"degraded\",\"checks\":[{\"name\":\"db\",\"status\":\"fail\","
        "\"detail\":\"pool 50/50 busy, 31 waiting\"}]}",
        "{\"results\":[{\"path\":\"rb/db-pool.md\",\"title\":\"DB connection pool exhausted\","
        "\"text\":\"Raise the pool.\"}]}",
        "checkout slow");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    itt_dump("sources agree", causes);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_POOL);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_TIMEOUT);
    json_object *pool = itt_idx(causes, 0), *by = itt_get(pool, "evidence_by_source");
    CU_ASSERT_STRING_EQUAL(itt_gets(pool, "key"), "connection_pool");
    CU_ASSERT_STRING_EQUAL(itt_gets(pool, "confidence"), "high");
    CU_ASSERT_EQUAL(itt_alen(itt_get(by, "logs")), 0);
    CU_ASSERT_TRUE(itt_any_contains(itt_get(by, "alerts"), "DBPoolSaturated"));
    CU_ASSERT_TRUE(itt_any_contains(itt_get(by, "health"), "pool 50/50 busy"));
    CU_ASSERT_TRUE(itt_any_contains(itt_get(by, "metrics"), "100% of db_pool_max=50"));
    CU_ASSERT_TRUE(itt_any_contains(itt_get(by, "runbooks"), "DB connection pool exhausted"));
    /* The timeouts stand alone: one source, lower. */
    CU_ASSERT_TRUE(score_of(pool) > score_of(itt_idx(causes, 1)));
    CU_ASSERT_TRUE(itt_contains(itt_gets(itt_idx(causes, 1), "confidence_reason"),
                                "only one source shows it: logs"));
    json_object_put(causes);
    json_object_put(st);
    free(logs);
}

/* Equal counts: the errors at the window's end outweigh those at its start. */
static void test_fusion_recency(void)
{
    it_ranking r;
    json_object *causes = NULL;
    char *logs =
        logs_of("dial tcp: lookup db on 10.96.0.10:53: no such host", 10, "2026-02-23T09:01:00Z",
                "connect: connection refused", 10, "2026-02-23T09:58:00Z");
    json_object *st = itt_state(NULL, logs, NULL, NULL, "errors");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_REFUSED);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_DNS);
    json_object_put(causes);
    json_object_put(st);
    free(logs);
    /* The other way round. */
    logs = logs_of("dial tcp: lookup db on 10.96.0.10:53: no such host", 10, "2026-02-23T09:58:00Z",
                   "connect: connection refused", 10, "2026-02-23T09:01:00Z");
    st = itt_state(NULL, logs, NULL, NULL, "errors");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_DNS);
    json_object_put(causes);
    json_object_put(st);
    free(logs);
}

/* A missing primary source lowers every cause one level, and says so. */
static void test_fusion_data_gaps(void)
{
    it_ranking r;
    json_object *causes = NULL;
    char why[256];
    json_object *st = itt_state(ITT_POOL_OVERVIEW, NULL, ITT_POOL_HEALTH, NULL, "errors");
    itt_add_gap(st, "top_errors_logs", IT_TOOL_OBS, "unavailable: router answered HTTP 503");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2); /* the pool, and the DeployRollout alert */
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_POOL);
    CU_ASSERT_EQUAL(r.gaps, 1);
    CU_ASSERT_EQUAL(r.level[0], IT_CONF_HIGH);     /* alerts, health, metrics agree */
    CU_ASSERT_EQUAL(r.confidence, IT_CONF_MEDIUM); /* the logs could have said more */
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 0), "confidence"), "medium");
    CU_ASSERT_TRUE(itt_contains(itt_gets(itt_idx(causes, 0), "confidence_reason"),
                                "1 level lower: Missing logs_query (failed: unavailable)"));
    json_object_put(causes);

    int gaps = 0;
    json_object *cov = it_coverage(st, &gaps);
    itt_dump("coverage", cov);
    CU_ASSERT_EQUAL(gaps, 1);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_get(cov, "sources"), "logs_query"), "failed: unavailable");
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_get(cov, "sources"), "service_health"), "ok");
    CU_ASSERT_TRUE(itt_contains(itt_gets(cov, "effect"), "1 level lower"));
    json_object_put(cov);

    /* The whole report says it too. */
    json_object *res = NULL;
    CU_ASSERT_EQUAL(it_report_build(st, &res, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(itt_gets(res, "confidence"), "medium");
    CU_ASSERT_EQUAL(itt_alen(itt_get(itt_get(res, "coverage"), "missing")), 2); /* + runbooks */
    json_object_put(res);
    json_object_put(st);
}

/* Restarts an OOM kill explains are no crash loop of their own; a config
 * error gains from a change seen with it. */
static void test_fusion_explanations(void)
{
    it_ranking r;
    json_object *causes = NULL;
    char *logs =
        logs_of("Memory cgroup out of memory: Killed process 4183 (node)", 8, NULL, "x", 0, NULL);
    json_object *st = itt_state("{\"alerts\":[{\"name\":\"PodRestartsHigh\",\"severity\":"
                                "\"warning\"}],\"metrics\":{\"restarts\":14}}",
                                logs, NULL, NULL, "pods restarting");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    itt_dump("oom and restarts", causes);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_MEMORY);
    json_object_put(causes);
    json_object_put(st);
    free(logs);

    logs = logs_of("failed to load config: yaml: unmarshal errors: field replica not found", 6,
                   NULL, "upstream request timeout", 6, NULL);
    st = itt_state("{\"alerts\":[{\"name\":\"DeployRollout\",\"severity\":\"info\"}]}", logs, NULL,
                   NULL, "errors after the config change");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    itt_dump("config after change", causes);
    CU_ASSERT_TRUE_FATAL(r.n >= 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_CONFIG);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 0), "cause"),
                           "Configuration error after a change");
    json_object_put(causes);
    json_object_put(st);
    free(logs);
}

/* A metric near its limit on a service with nothing wrong is no cause. */
static void test_fusion_healthy_metrics(void)
{
    it_ranking r;
    json_object *causes = NULL;
    json_object *st =
        itt_state("{\"alerts\":[],\"metrics\":{\"memory_usage_pct\":95}}", "{\"lines\":[]}",
                  "{\"status\":\"ok\",\"checks\":[]}", NULL, "just checking");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    CU_ASSERT_EQUAL(itt_alen(causes), 0);
    /* Sure nothing is wrong: the primary sources all answered (runbooks are
     * not one of them). */
    CU_ASSERT_EQUAL(r.confidence, IT_CONF_HIGH);
    json_object_put(causes);
    json_object_put(st);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"tokens", test_tokens},
        {"rules on token sets", test_match},
        {"metrics at their limits", test_metrics},
        {"sources that agree beat one loud source", test_fusion_sources_agree},
        {"recent lines weigh more", test_fusion_recency},
        {"data gaps lower the confidence", test_fusion_data_gaps},
        {"restarts explained, config after a change", test_fusion_explanations},
        {"metrics alone on a healthy service", test_fusion_healthy_metrics},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_fusion", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
