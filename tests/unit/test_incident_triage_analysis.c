/*
 * test_incident_triage_analysis.c - unit tests of incident_triage's pure
 * analysis: log signatures and groups, the logs digest, cause mapping and
 * ranking, and the report's wording (summary, impact, mitigations, next
 * checks).  No host at all.
 *
 * Set IT_TEST_DUMP=1 to print the digests and causes.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "it.h"
#include "it_test_support.h"

/* ---- signatures ------------------------------------------------------------- */

static void test_signature_table(void)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"Connection pool exhausted after 5000ms", "connection pool exhausted after <n>ms"},
        {"request 123e4567-e89b-12d3-a456-426614174000 failed", "request <uuid> failed"},
        {"connect to 10.0.3.17:5432 refused", "connect to <ip> refused"},
        {"peer 192.168.1.1 reset", "peer <ip> reset"},
        {"dial tcp [2001:db8::1]:443: i/o timeout", "dial tcp [<ip>]:<n>: i/o timeout"},
        {"bind ::1 failed", "bind <ip> failed"},
        {"fe80:0:0:0:200:f8ff:fe21:67cf down", "<ip> down"},
        {"object 0x7ffd5e8c freed twice", "object <hex> freed twice"},
        {"commit deadbeef12 broke the build", "commit <hex> broke the build"},
        {"retry 3 of 5 in 1.25s", "retry <n> of <n> in <n>s"},
        {"user \"alice\" not found", "user <str> not found"},
        {"key 'a b c' missing", "key <str> missing"},
        {"can't connect", "can't connect"},
        {"user=123 order=o12345x failed", "user=<n> order=<id> failed"},
        {"upstream returned 503", "upstream returned 503"},
        {"HTTP 504 Gateway Timeout", "http 504 gateway timeout"},
        {"status=502 from payments", "status=502 from payments"},
        {"retried 503 times", "retried <n> times"},
        {"at 10:00:00 job failed", "at <n>:<n>:<n> job failed"},
        {"pod router-7d9f8b6c5-x2b4q OOMKilled", "pod router-<hex>-<id> oomkilled"},
        {"pod router-7d9f8b6c5-qbwzt OOMKilled", "pod router-<hex>-<id> oomkilled"},
        {"request req-86734721 and req-8c38fb29", "request req-<hex> and req-<hex>"},
        {"charge ch_123456 at 1771840800000", "charge ch_<hex> at <hex>"},
        {"allocate 8388608-byte block", "allocate <n>-byte block"},
        {"latency p95 above 5xx budget v2", "latency p95 above 5xx budget v2"},
        {"  spaces\tand\nnewlines   ", "spaces and newlines"},
        {"", ""},
    };
    char out[IT_SIG_LEN];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        it_signature(t[i].in, out, sizeof out);
        if (strcmp(out, t[i].want) != 0)
            fprintf(stderr, "\nsignature of [%s]: got [%s], want [%s]\n", t[i].in, out, t[i].want);
        CU_ASSERT_STRING_EQUAL(out, t[i].want);
    }
    it_signature(NULL, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_signature_same_group(void)
{
    char a[IT_SIG_LEN], b[IT_SIG_LEN];
    it_signature("timeout acquiring connection after 5000ms (in_use=100/100) "
                 "request_id=req-8f3a2c1d user 42 at 10.1.2.3",
                 a, sizeof a);
    it_signature("timeout acquiring connection after 5003ms (in_use=99/100) "
                 "request_id=req-77ab01ff user 9000 at 10.9.9.9",
                 b, sizeof b);
    CU_ASSERT_STRING_EQUAL(a, b);
    it_signature("trace 550e8400-e29b-41d4-a716-446655440000 span 0xdeadbeef", a, sizeof a);
    it_signature("trace 6ba7b810-9dad-11d1-80b4-00c04fd430c8 span 0x1", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(a, b);
}

static void test_signature_bounds(void)
{
    size_t n = 100000;
    char *big = malloc(n + 1);
    char out[IT_SIG_LEN], small[8];
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    static const char pattern[] = "a1 \"x'\xc3\xa9:0x.";
    for (size_t i = 0; i < n; i++)
        big[i] = pattern[i % (sizeof pattern - 1)];
    big[n] = '\0';
    it_signature(big, out, sizeof out);
    CU_ASSERT_TRUE(strlen(out) < IT_SIG_LEN);
    it_signature(big, small, sizeof small);
    CU_ASSERT_TRUE(strlen(small) < sizeof small);
    /* Broken UTF-8 becomes '?', never a half character. */
    it_signature("bad \xc3 byte \xff end", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "bad ? byte ? end");
    free(big);
}

/* ---- groups ------------------------------------------------------------------ */

static void test_groups_rank(void)
{
    it_groups g = {0};
    const char *msgs[] = {"b failed 1", "a failed 1", "a failed 2", "c broke",
                          "b failed 7", "a failed 3", "d broke",    "c broke"};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
        CU_ASSERT_EQUAL(it_groups_add(&g, msgs[i]), 0);
    it_groups_rank(&g);
    CU_ASSERT_EQUAL_FATAL(g.n, 4);
    CU_ASSERT_EQUAL(g.lines, 8);
    CU_ASSERT_STRING_EQUAL(g.v[0].sig, "a failed <n>");
    CU_ASSERT_EQUAL(g.v[0].count, 3);
    CU_ASSERT_STRING_EQUAL(g.v[0].sample, "a failed 1");
    /* b and c both have 2: b was seen first. */
    CU_ASSERT_STRING_EQUAL(g.v[1].sig, "b failed <n>");
    CU_ASSERT_STRING_EQUAL(g.v[2].sig, "c broke");
    CU_ASSERT_STRING_EQUAL(g.v[3].sig, "d broke");
    it_groups_free(&g);
}

static void test_logs_digest(void)
{
    char why[200] = "";
    json_object *d = NULL;
    json_object *data = json_tokener_parse(ITT_POOL_LOGS);
    CU_ASSERT_EQUAL(it_logs_digest(data, 120, &d, why, sizeof why), 0);
    itt_dump("logs digest", d);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(d, "total")), 11);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(d, "analysed")), 9);
    json_object *groups = itt_get(d, "groups");
    CU_ASSERT_EQUAL(itt_alen(groups), 3);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_idx(groups, 0), "count")), 6);
    CU_ASSERT_TRUE(itt_contains(itt_gets(itt_idx(groups, 0), "sig"), "connection pool exhausted"));
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(itt_idx(groups, 1), "count")), 2);
    json_object *ids = itt_get(d, "trace_ids");
    CU_ASSERT_EQUAL_FATAL(itt_alen(ids), 5);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(ids, 0)), "t-0001");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(ids, 1)), "t-0002");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(ids, 2)), "t-0003");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(ids, 3)), "t-0004");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(ids, 4)), "t-0005");
    json_object_put(d);

    /* Only the first `limit` lines count. */
    CU_ASSERT_EQUAL(it_logs_digest(data, 2, &d, why, sizeof why), 0);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(d, "analysed")), 2);
    CU_ASSERT_EQUAL(itt_alen(itt_get(d, "groups")), 1);
    json_object_put(d);
    json_object_put(data);

    /* Info lines are no errors, but a deploy among them is remembered. */
    data = json_tokener_parse(
        "{\"lines\":[\"plain string line 1\",{\"level\":\"INFO\",\"message\":\"deploy v2.3.1 "
        "rolled out\"},{\"level\":\"error\",\"message\":\"boom\"},null,5,{\"message\":7},"
        "{\"level\":\"error\",\"message\":\"x\",\"trace_id\":\"has space\"}],\"total\":\"?\"}");
    CU_ASSERT_EQUAL(it_logs_digest(data, 200, &d, why, sizeof why), 0);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(d, "analysed")), 3);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(d, "total")), 7);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(d, "deploy_lines")), 1);
    CU_ASSERT_STRING_EQUAL(itt_gets(d, "deploy_sample"), "deploy v2.3.1 rolled out");
    CU_ASSERT_EQUAL(itt_alen(itt_get(d, "trace_ids")), 0);
    json_object_put(d);
    json_object_put(data);

    data = json_tokener_parse("{\"lines\":\"nope\"}");
    CU_ASSERT_EQUAL(it_logs_digest(data, 120, &d, why, sizeof why), SV_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_TRUE(itt_contains(why, "bad_response"));
    json_object_put(data);
    CU_ASSERT_EQUAL(it_logs_digest(NULL, 120, &d, why, sizeof why), SV_EINVAL);
}

/* ---- causes ---------------------------------------------------------------- */

static void test_cause_classify(void)
{
    static const struct {
        const char *text;
        int want;
    } t[] = {
        {"connection pool exhausted: <n> of <n> in use", IT_CAUSE_POOL},
        {"fatal: remaining connection slots are reserved", IT_CAUSE_POOL},
        {"pq: sorry, too many clients already", IT_CAUSE_POOL},
        {"timeout acquiring connection after <n>ms", IT_CAUSE_POOL},
        {"hikaripool-<n> - connection is not available, request timed out", IT_CAUSE_POOL},
        {"container killed: oomkilled", IT_CAUSE_MEMORY},
        {"java.lang.outofmemoryerror: java heap space", IT_CAUSE_MEMORY},
        {"pod oom killed", IT_CAUSE_MEMORY},
        {"runtime: cannot allocate memory", IT_CAUSE_MEMORY},
        {"upstream timed out (<n>: connection timed out) while reading", IT_CAUSE_TIMEOUT},
        {"rpc error: code = deadlineexceeded desc = context deadline exceeded", IT_CAUSE_TIMEOUT},
        {"http 504 gateway timeout", IT_CAUSE_TIMEOUT},
        {"net/http: read timeout", IT_CAUSE_TIMEOUT},
        {"upstream returned 503 service unavailable", IT_CAUSE_DEP5XX},
        {"payments: 502 bad gateway", IT_CAUSE_DEP5XX},
        {"circuit breaker open for inventory", IT_CAUSE_DEP5XX},
        {"payments upstream 5xx", IT_CAUSE_DEP5XX},
        {"deployment router-v2 started", IT_CAUSE_DEPLOY},
        {"rollout of v2.3.1 complete", IT_CAUSE_DEPLOY},
        {"high error rate after release", IT_CAUSE_DEPLOY},
        {"user <n> not found", IT_CAUSE_NONE},
        {"room booking failed", IT_CAUSE_NONE},
        {"connection released to the pool", IT_CAUSE_NONE},
        {"took 15045ms", IT_CAUSE_NONE},
        {"", IT_CAUSE_NONE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = it_cause_classify(t[i].text);
        if (got != t[i].want)
            fprintf(stderr, "\nclassify [%s]: got %d, want %d\n", t[i].text, got, t[i].want);
        CU_ASSERT_EQUAL(got, t[i].want);
    }
    CU_ASSERT_EQUAL(it_cause_classify(NULL), IT_CAUSE_NONE);
    char w[128];
    CU_ASSERT_STRING_EQUAL(it_text_words("DBConnectionPoolExhausted", w, sizeof w),
                           "db connection pool exhausted");
    CU_ASSERT_EQUAL(it_cause_classify(w), IT_CAUSE_POOL);
    CU_ASSERT_STRING_EQUAL(it_text_words("PodOOMKilled", w, sizeof w), "pod oom killed");
    CU_ASSERT_STRING_EQUAL(it_text_words("High5xxRate", w, sizeof w), "high 5xx rate");
    CU_ASSERT_STRING_EQUAL(it_text_words("upstream_timeout-high", w, sizeof w),
                           "upstream timeout high");
    CU_ASSERT_EQUAL(it_cause_classify(w), IT_CAUSE_TIMEOUT);
}

/* A state as the source nodes leave it, from literal digests. */
static json_object *state_of(const char *overview, const char *logs, const char *health,
                             const char *symptom)
{
    char why[200];
    json_object *st = json_object_new_object(), *d = NULL, *data;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "service", json_object_new_string("router"));
    json_object_object_add(p, "env", json_object_new_string("prod"));
    json_object_object_add(p, "symptom", json_object_new_string(symptom));
    json_object_object_add(p, "from", json_object_new_string("2026-02-23T09:00:00Z"));
    json_object_object_add(p, "to", json_object_new_string("2026-02-23T10:00:00Z"));
    json_object_object_add(p, "window_h", json_object_new_double(1.0));
    json_object_object_add(p, "max_h", json_object_new_int(24));
    json_object_object_add(p, "clamped", json_object_new_boolean(0));
    json_object_object_add(p, "limit", json_object_new_int(120));
    json_object_object_add(st, "params", p);
    json_object_object_add(st, "data_gaps", json_object_new_array());
    json_object_object_add(st, "attempted", json_object_new_int(4));
    json_object_object_add(st, "failed", json_object_new_int(0));
    if (overview && (data = json_tokener_parse(overview))) {
        if (it_overview_digest(data, &d, why, sizeof why) == 0)
            json_object_object_add(st, "overview", d);
        json_object_put(data);
    }
    if (logs && (data = json_tokener_parse(logs))) {
        if (it_logs_digest(data, 120, &d, why, sizeof why) == 0)
            json_object_object_add(st, "logs", d);
        json_object_put(data);
    }
    if (health && (data = json_tokener_parse(health))) {
        if (it_health_digest(data, &d, why, sizeof why) == 0)
            json_object_object_add(st, "health", d);
        json_object_put(data);
    }
    return st;
}

/* n error lines of message msg as a logs_query answer. */
static char *lines_of(const char *msg1, int n1, const char *msg2, int n2)
{
    it_buf b = {0};
    it_buf_cat(&b, "{\"lines\":[");
    for (int i = 0; i < n1 + n2; i++)
        it_buf_printf(&b, "%s{\"level\":\"error\",\"message\":\"%s %d\"}", i ? "," : "",
                      i < n1 ? msg1 : msg2, i);
    it_buf_cat(&b, "]}");
    char *s = strdup(it_buf_str(&b));
    it_buf_free(&b);
    return s;
}

static void test_causes_pool_and_deploy(void)
{
    it_ranking r;
    json_object *causes = NULL;
    json_object *st =
        state_of(ITT_POOL_OVERVIEW, ITT_POOL_LOGS, ITT_POOL_HEALTH, "High error rate after deploy");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    itt_dump("pool causes", causes);
    /* The one "worker 7 crashed: panic" line is a crash loop too, but only
     * the logs show it: listed last, low, not announced in the summary. */
    CU_ASSERT_EQUAL_FATAL(r.n, 3);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_POOL);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_DEPLOY);
    CU_ASSERT_EQUAL(r.ids[2], IT_CAUSE_CRASH);
    CU_ASSERT_EQUAL(r.level[0], IT_CONF_HIGH);
    CU_ASSERT_EQUAL(r.level[1], IT_CONF_MEDIUM);
    CU_ASSERT_EQUAL(r.level[2], IT_CONF_LOW);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 2), "confidence"), "low");
    CU_ASSERT_EQUAL(r.top_lines, 6);
    json_object *c0 = itt_idx(causes, 0), *c1 = itt_idx(causes, 1);
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(c0, "rank")), 1);
    CU_ASSERT_STRING_EQUAL(itt_gets(c0, "cause"), "DB connection-pool exhaustion");
    json_object *ev = itt_get(c0, "evidence");
    CU_ASSERT_TRUE(
        itt_contains(json_object_get_string(itt_idx(ev, 0)),
                     "6\xc3\x97 connection pool exhausted: timeout acquiring connection"));
    CU_ASSERT_TRUE(itt_any_contains(ev, "alert DBConnectionPoolExhausted (critical) firing"));
    CU_ASSERT_TRUE(itt_any_contains(ev, "health check db: fail - connection pool 100/100 in use"));
    CU_ASSERT_TRUE(itt_any_contains(ev, "metric db_pool_in_use=100"));
    CU_ASSERT_EQUAL(json_object_get_int(itt_get(c1, "rank")), 2);
    CU_ASSERT_STRING_EQUAL(itt_gets(c1, "cause"), "Recent deploy");
    CU_ASSERT_TRUE(itt_any_contains(itt_get(c1, "evidence"), "alert DeployRollout"));
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(c1, "evidence"), "symptom: \"High error rate after deploy\""));
    json_object_put(causes);
    json_object_put(st);
}

static void test_causes_ranking_by_score(void)
{
    it_ranking r;
    json_object *causes = NULL;
    /* 30 timeouts beat 5 pool errors plus a pool alert (5 + 10). */
    char *logs = lines_of("upstream inventory timed out after 3000 ms", 30,
                          "too many connections for role app", 5);
    json_object *st = state_of("{\"slo\":{\"latency_p95_ms\":4200},\"alerts\":[{\"name\":"
                               "\"DBPoolExhausted\"}]}",
                               logs, NULL, "slow checkout");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_TIMEOUT);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_POOL);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 0), "cause"), "Upstream timeouts");
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "metric latency_p95_ms=4200"));
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "30\xc3\x97 upstream"));
    json_object_put(causes);
    json_object_put(st);
    free(logs);

    /* Memory from logs and an alert; 5xx from logs. */
    logs = lines_of("worker killed: OOMKilled (limit 512Mi)", 4,
                    "payments answered 502 Bad "
                    "Gateway",
                    6);
    st = state_of("{\"alerts\":[{\"name\":\"PodOOMKilled\",\"severity\":\"warning\"}],"
                  "\"metrics\":{\"memory_usage_pct\":97,\"restarts\":4}}",
                  logs, NULL, "pods restarting");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_MEMORY); /* 4 + 10 > 6 */
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_DEP5XX);
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "metric memory_usage_pct=97"));
    CU_ASSERT_TRUE(itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "metric restarts=4"));
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 1), "cause"), "Dependency 5xx errors");
    json_object_put(causes);
    json_object_put(st);
    free(logs);
}

static void test_causes_unknown_and_healthy(void)
{
    it_ranking r;
    json_object *causes = NULL;
    char *logs = lines_of("NullPointerException in OrderMapper.map", 7, "bad json at line", 2);
    json_object *st = state_of("{\"slo\":{\"error_rate\":0.01}}", logs, NULL, "errors");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(itt_alen(causes), 1);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_UNKNOWN);
    CU_ASSERT_EQUAL(r.top_lines, 7);
    CU_ASSERT_TRUE(itt_contains(itt_gets(itt_idx(causes, 0), "cause"),
                                "Unknown: no known pattern matched; top error signature "
                                "\"nullpointerexception in ordermapper.map <n>\""));
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "7\xc3\x97 NullPointer"));
    json_object_put(causes);
    json_object_put(st);
    free(logs);

    /* Healthy: no errors, no alerts, health ok; a deploy in the symptom is
     * no cause of nothing. */
    st = state_of("{\"slo\":{\"error_rate\":0.0001},\"alerts\":[]}", "{\"lines\":[]}",
                  "{\"status\":\"ok\",\"checks\":[{\"name\":\"db\",\"status\":\"ok\"}]}",
                  "users say it is slow since the deploy");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL(itt_alen(causes), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    json_object_put(causes);
    json_object_put(st);

    /* Trouble with no known pattern: an unknown cause from the checks. */
    st = state_of("{\"alerts\":[{\"name\":\"CheckoutErrorBudgetBurn\"}]}", "{\"lines\":[]}",
                  "{\"status\":\"down\",\"checks\":[{\"name\":\"http\",\"status\":\"fail\","
                  "\"detail\":\"500 Internal Server Error\"}]}",
                  "site down");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    CU_ASSERT_EQUAL_FATAL(itt_alen(causes), 1);
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 0), "key"), "unknown");
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 0), "confidence"), "low");
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "alert CheckoutErrorBudgetBurn"));
    CU_ASSERT_TRUE(
        itt_any_contains(itt_get(itt_idx(causes, 0), "evidence"), "health check http: fail"));
    json_object_put(causes);
    json_object_put(st);

    /* A crash-looping pod and a refused health check used to be "unknown":
     * now they are the two causes they are. */
    st = state_of("{\"alerts\":[{\"name\":\"KubePodCrashLooping\"}]}", "{\"lines\":[]}",
                  "{\"status\":\"down\",\"checks\":[{\"name\":\"payments\",\"status\":"
                  "\"fail\",\"detail\":\"connection refused\"}]}",
                  "site down");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    itt_dump("crash loop and refused", causes);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    /* A failing check (9) outweighs an alert of no severity (12 x 0.7). */
    CU_ASSERT_EQUAL(r.ids[0], IT_CAUSE_REFUSED);
    CU_ASSERT_EQUAL(r.ids[1], IT_CAUSE_CRASH);
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 0), "cause"), "Dependency refused/unreachable");
    CU_ASSERT_STRING_EQUAL(itt_gets(itt_idx(causes, 1), "cause"), "Crash loop (restarts, panics)");
    json_object_put(causes);
    json_object_put(st);
}

/* ---- report wording --------------------------------------------------------- */

static void test_summary_and_impact(void)
{
    it_ranking r;
    it_buf b = {0};
    json_object *causes = NULL;
    json_object *st =
        state_of(ITT_POOL_OVERVIEW, ITT_POOL_LOGS, ITT_POOL_HEALTH, "High error rate after deploy");
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    it_summary(st, &r, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "router (prod), 2026-02-23T09:00:00Z to 2026-02-23T10:00:00Z: most "
                           "likely DB connection-pool exhaustion (6 of 9 error lines); also a "
                           "recent deploy.");
    it_buf_reset(&b);
    it_impact(st, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "SLO impact: error_rate=2.1%, latency_p95_ms=850, availability=99.2%; "
                           "2 alerts firing; health: degraded; 11 error lines in the window (9 "
                           "analysed).");
    /* A data gap is named in a second sentence. */
    json_object *g = json_object_new_object();
    json_object_object_add(g, "node", json_object_new_string("trace_lookup"));
    json_object_object_add(g, "tool", json_object_new_string("observability_tool"));
    json_object_object_add(g, "error", json_object_new_string("forbidden: denied by RBAC"));
    json_object_array_add(itt_get(st, "data_gaps"), g);
    it_buf_reset(&b);
    it_summary(st, &r, &b);
    CU_ASSERT_TRUE(itt_contains(it_buf_str(&b), ". Data gaps: trace_lookup (observability_tool: "
                                                "forbidden); the report uses the other sources."));
    json_object_put(causes);
    json_object_put(st);

    /* Percent figures stay percent; the max window is said. */
    st = state_of("{\"slo\":{\"error_rate\":2.5,\"availability\":99.9,\"latency_p95_ms\":120.5}}",
                  "{\"lines\":[]}", "{\"status\":\"ok\"}", "latency spike reported");
    json_object_object_add(itt_get(st, "params"), "window_h", json_object_new_double(24.0));
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    it_buf_reset(&b);
    it_summary(st, &r, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "router (prod), 2026-02-23T09:00:00Z to 2026-02-23T10:00:00Z (the 24h "
                           "maximum window): no errors found in the logs, health ok, 0 alert(s) "
                           "firing; no clear cause for \"latency spike reported\".");
    it_buf_reset(&b);
    it_impact(st, &b);
    CU_ASSERT_STRING_EQUAL(it_buf_str(&b),
                           "SLO impact: error_rate=2.5%, latency_p95_ms=120.5, "
                           "availability=99.9%; 0 alerts firing; health: ok; 0 error lines in the "
                           "window (0 analysed).");
    json_object_put(causes);
    json_object_put(st);

    /* No overview at all. */
    st = state_of(NULL, "{\"lines\":[]}", NULL, "x");
    it_buf_reset(&b);
    it_impact(st, &b);
    CU_ASSERT_TRUE(itt_contains(it_buf_str(&b), "SLO impact: unknown (service_overview data "
                                                "missing: not collected)"));
    CU_ASSERT_TRUE(itt_contains(it_buf_str(&b), "health: unknown"));
    json_object_put(st);
    it_buf_free(&b);

    char num[32];
    it_text_number(0.021 * 100, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "2.1");
    it_text_number(850, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "850");
    it_text_number(0.00012, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "0.0001");
    it_text_number(-0.0, num, sizeof num);
    CU_ASSERT_STRING_EQUAL(num, "0");
}

static void test_mitigations_and_checks(void)
{
    it_ranking r;
    json_object *causes = NULL, *data = json_tokener_parse(ITT_POOL_RUNBOOKS), *rb = NULL;
    char why[200];
    json_object *st =
        state_of(ITT_POOL_OVERVIEW, ITT_POOL_LOGS, ITT_POOL_HEALTH, "High error rate after deploy");
    CU_ASSERT_EQUAL(it_runbooks_digest(data, &rb, why, sizeof why), 0);
    json_object_object_add(st, "runbooks", rb);
    CU_ASSERT_EQUAL(it_causes_rank(st, &causes, &r), 0);
    json_object *mit = it_mitigations(st, &r);
    json_object *next = it_next_checks(st, &r);
    itt_dump("mitigations", mit);
    itt_dump("next_checks", next);
    CU_ASSERT_TRUE(itt_contains(json_object_get_string(itt_idx(mit, 0)), "Increase DB pool size"));
    CU_ASSERT_TRUE(itt_any_contains(mit, "Roll back the latest deploy"));
    CU_ASSERT_TRUE(
        itt_any_contains(mit, "Increase ROUTER_DB_POOL_SIZE to 200 and restart the pods"));
    CU_ASSERT_TRUE(itt_any_contains(mit, "Kill idle-in-transaction sessions older than 5 minutes"));
    CU_ASSERT_FALSE(itt_any_contains(mit, "Background"));
    CU_ASSERT_FALSE(itt_any_contains(mit, "Check active connections"));
    CU_ASSERT_TRUE(itt_alen(mit) <= IT_MAX_MITIGATIONS);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(itt_idx(next, 0)),
                           "Verify healthz: db is fail (connection pool 100/100 in use)");
    CU_ASSERT_TRUE(itt_any_contains(next, "Check DB active connections against the pool size"));
    CU_ASSERT_TRUE(itt_any_contains(next, "Check active connections in pg_stat_activity"));
    CU_ASSERT_TRUE(itt_any_contains(next,
                                    "Look up traces t-0001, t-0002, t-0003, t-0004, t-0005 (run "
                                    "again with include_traces=true)"));
    /* Deduplicated. */
    for (size_t i = 0; i < itt_alen(mit); i++)
        for (size_t j = i + 1; j < itt_alen(mit); j++)
            CU_ASSERT_STRING_NOT_EQUAL(json_object_get_string(itt_idx(mit, i)),
                                       json_object_get_string(itt_idx(mit, j)));
    json_object_put(mit);
    json_object_put(next);
    json_object_put(causes);
    json_object_put(data);
    json_object_put(st);
}

static void test_all_sources_failed(void)
{
    char why[256];
    json_object *st = state_of(NULL, NULL, NULL, "x");
    json_object_object_add(st, "failed", json_object_new_int(4));
    CU_ASSERT_TRUE(it_all_sources_failed(st, why, sizeof why));
    CU_ASSERT_TRUE(itt_contains(why, "every data source failed"));
    json_object_object_add(st, "failed", json_object_new_int(3));
    CU_ASSERT_FALSE(it_all_sources_failed(st, why, sizeof why));
    json_object_put(st);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"signature table", test_signature_table},
        {"signature groups variants", test_signature_same_group},
        {"signature bounds", test_signature_bounds},
        {"groups rank", test_groups_rank},
        {"logs digest", test_logs_digest},
        {"cause classify", test_cause_classify},
        {"causes pool and deploy", test_causes_pool_and_deploy},
        {"causes ranked by score", test_causes_ranking_by_score},
        {"causes unknown and healthy", test_causes_unknown_and_healthy},
        {"summary and impact", test_summary_and_impact},
        {"mitigations and next checks", test_mitigations_and_checks},
        {"all sources failed", test_all_sources_failed},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_analysis", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
