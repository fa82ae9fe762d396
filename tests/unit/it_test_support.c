/*
 * it_test_support.c - fixtures and JSON readers for the incident_triage unit
 * tests; see it_test_support.h.
 */
#include "it_test_support.h"
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures: a DB pool exhaustion after a deploy ------------------------ */

const char *const ITT_POOL_OVERVIEW =
    "{\"slo\":{\"error_rate\":0.021,\"latency_p95_ms\":850,\"availability\":0.992},"
    "\"alerts\":[{\"name\":\"DBConnectionPoolExhausted\",\"severity\":\"critical\","
    "\"since\":\"2026-02-23T09:20:00Z\"},{\"name\":\"DeployRollout\",\"severity\":\"info\","
    "\"since\":\"2026-02-23T09:05:00Z\"}],"
    "\"metrics\":{\"db_pool_in_use\":100,\"db_pool_size\":100,\"rps\":420}}";

const char *const ITT_POOL_LOGS =
    "{\"total\":11,\"lines\":["
    "{\"ts\":\"2026-02-23T09:21:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5000ms (in_use=100/100) "
    "request_id=req-8f3a2c1d\",\"trace_id\":\"t-0001\"},"
    "{\"ts\":\"2026-02-23T09:22:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5003ms (in_use=100/100) "
    "request_id=req-77ab01ff\",\"trace_id\":\"t-0002\"},"
    "{\"ts\":\"2026-02-23T09:23:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5001ms (in_use=100/100) "
    "request_id=req-1a2b3c4d\",\"trace_id\":\"t-0001\"},"
    "{\"ts\":\"2026-02-23T09:24:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5002ms (in_use=99/100) "
    "request_id=req-5e6f7a8b\",\"trace_id\":\"t-0003\"},"
    "{\"ts\":\"2026-02-23T09:25:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5000ms (in_use=100/100) "
    "request_id=req-9c8d7e6f\"},"
    "{\"ts\":\"2026-02-23T09:26:00Z\",\"level\":\"error\",\"message\":\"connection pool "
    "exhausted: timeout acquiring connection after 5004ms (in_use=100/100) "
    "request_id=req-0a0b0c0d\",\"trace_id\":\"t-0004\"},"
    "{\"ts\":\"2026-02-23T09:27:00Z\",\"level\":\"error\",\"message\":\"POST /v1/orders "
    "failed for user 1234: internal error\",\"trace_id\":\"t-0005\"},"
    "{\"ts\":\"2026-02-23T09:28:00Z\",\"level\":\"error\",\"message\":\"POST /v1/orders "
    "failed for user 98: internal error\",\"trace_id\":\"t-0006\"},"
    "{\"ts\":\"2026-02-23T09:29:00Z\",\"level\":\"fatal\",\"message\":\"worker 7 crashed: "
    "panic in handler\",\"trace_id\":\"t-0007\"}"
    "]}";

const char *const ITT_POOL_HEALTH =
    "{\"status\":\"degraded\",\"checks\":[{\"name\":\"db\",\"status\":\"fail\",\"detail\":"
    "\"connection pool 100/100 in use\"},{\"name\":\"http\",\"status\":\"ok\",\"detail\":"
    "\"200 in 12ms\"}]}";

const char *const ITT_POOL_RUNBOOKS =
    "{\"results\":[{\"path\":\"runbooks/router/db-pool.md\",\"title\":\"DB pool "
    "exhaustion\",\"text\":\"# DB pool exhaustion\\n1. Check active connections in "
    "pg_stat_activity.\\n2. Increase ROUTER_DB_POOL_SIZE to 200 and restart the pods.\\n- "
    "Kill idle-in-transaction sessions older than 5 minutes.\\nBackground: the pool is "
    "shared by all workers.\"}]}";

const char *const ITT_POOL_TRACES =
    "{\"traces\":[{\"trace_id\":\"t-0001\",\"duration_ms\":5012,\"root\":\"POST /v1/orders\","
    "\"spans\":12}]}";

const char *const ITT_POOL_INPUT =
    "{\"service\":\"router\",\"symptom\":\"High error rate after deploy\",\"env\":\"prod\","
    "\"include_traces\":true,\"time_range\":{\"from\":\"2026-02-23T09:00:00Z\","
    "\"to\":\"2026-02-23T10:00:00Z\"}}";

json_object *itt_state(const char *overview, const char *logs, const char *health,
                       const char *runbooks, const char *symptom)
{
    static const struct {
        const char *key;
        int (*digest)(json_object *, json_object **, char *, size_t);
    } srcs[] = {{"overview", it_overview_digest},
                {"health", it_health_digest},
                {"runbooks", it_runbooks_digest}};
    const char *text[] = {overview, health, runbooks};
    char why[200];
    json_object *st = json_object_new_object(), *p = json_object_new_object(), *d, *data;

    json_object_object_add(p, "service", json_object_new_string("router"));
    json_object_object_add(p, "env", json_object_new_string("prod"));
    json_object_object_add(p, "symptom", json_object_new_string(symptom));
    json_object_object_add(p, "from", json_object_new_string("2026-02-23T09:00:00Z"));
    json_object_object_add(p, "to", json_object_new_string("2026-02-23T10:00:00Z"));
    json_object_object_add(p, "window_h", json_object_new_double(1.0));
    json_object_object_add(p, "max_h", json_object_new_int(24));
    json_object_object_add(p, "clamped", json_object_new_boolean(0));
    json_object_object_add(p, "limit", json_object_new_int(IT_DEFAULT_LOG_LINES));
    json_object_object_add(st, "params", p);
    json_object_object_add(st, "data_gaps", json_object_new_array());
    json_object_object_add(st, "attempted", json_object_new_int(4));
    json_object_object_add(st, "failed", json_object_new_int(0));
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        if (!text[i] || !(data = json_tokener_parse(text[i])))
            continue;
        if (srcs[i].digest(data, &d, why, sizeof why) == 0)
            json_object_object_add(st, srcs[i].key, d);
        json_object_put(data);
    }
    if (logs && (data = json_tokener_parse(logs))) {
        if (it_logs_digest(data, IT_DEFAULT_LOG_LINES, &d, why, sizeof why) == 0)
            json_object_object_add(st, "logs", d);
        json_object_put(data);
    }
    return st;
}

void itt_add_gap(json_object *state, const char *node, const char *tool, const char *error)
{
    json_object *g = json_object_new_object(), *gaps = itt_get(state, "data_gaps");
    json_object_object_add(g, "node", json_object_new_string(node));
    json_object_object_add(g, "tool", json_object_new_string(tool));
    json_object_object_add(g, "error", json_object_new_string(error));
    json_object_array_add(gaps, g);
}

static int dump_enabled(void)
{
    const char *v = getenv("IT_TEST_DUMP");
    return v && *v && strcmp(v, "0") != 0;
}

void itt_dump(const char *what, json_object *o)
{
    if (dump_enabled())
        fprintf(stderr, "\n--- %s ---\n%s\n", what,
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *itt_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

const char *itt_gets(json_object *o, const char *key)
{
    json_object *v = itt_get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *itt_idx(json_object *arr, size_t i)
{
    if (!arr || !json_object_is_type(arr, json_type_array) || i >= json_object_array_length(arr))
        return NULL;
    return json_object_array_get_idx(arr, i);
}

size_t itt_alen(json_object *arr)
{
    return arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

int itt_contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

/* Does any string of arr contain needle? */
int itt_any_contains(json_object *arr, const char *needle)
{
    for (size_t i = 0; i < itt_alen(arr); i++)
        if (itt_contains(json_object_get_string(itt_idx(arr, i)), needle))
            return 1;
    return 0;
}
