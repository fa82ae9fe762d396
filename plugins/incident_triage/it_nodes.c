/*
 * it_nodes.c - the nodes of incident_triage.  Each source node makes its tool
 * calls, keeps a bounded digest of the answer in the run's state (a later
 * node may run on another thread, after a checkpoint) and, when the source
 * fails, records a data gap and lets the run go on: a triage with three of
 * four sources is still worth having.
 *
 * State: {"params":{...}, "data_gaps":[{node,tool,error}], "attempted",
 * "failed", "overview", "logs", "health", "runbooks", "traces",
 * "traces_note"}; see it.h for the digests.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

static int it_oom(sv_ctx *ctx, const sv_host *host)
{
    host->fail(ctx, "out_of_memory", "incident_triage ran out of memory; retry the run");
    return SV_ENOMEM;
}

static void it_count(json_object *state, const char *key)
{
    json_object *v = it_json_get(state, key, json_type_int);
    json_object_object_add(state, key,
                           json_object_new_int64((v ? json_object_get_int64(v) : 0) + 1));
}

/* A failed source: a data_gaps entry, the counter, and a log line with the
 * error code only (the message may quote the router). */
static void it_gap(sv_ctx *ctx, const sv_host *host, json_object *state, const char *node,
                   const char *tool, const char *action, const char *error)
{
    char line[IT_GAP_ERROR_LEN], msg[200];
    json_object *gaps = it_json_get(state, "data_gaps", json_type_array);
    json_object *g = json_object_new_object();

    it_text_line(error, line, sizeof line);
    if (!gaps) {
        gaps = json_object_new_array();
        json_object_object_add(state, "data_gaps", gaps);
    }
    if (g && gaps) {
        json_object_object_add(g, "node", json_object_new_string(node));
        json_object_object_add(g, "tool", json_object_new_string(tool));
        json_object_object_add(g, "error", json_object_new_string(line));
        json_object_array_add(gaps, g);
    } else {
        json_object_put(g);
    }
    it_count(state, "failed");
    snprintf(msg, sizeof msg, "source %s/%s failed (%.*s); recorded in data_gaps", tool, action,
             (int)strcspn(line, ":"), line);
    host->log(ctx, SV_LOG_WARN, msg);
}

/*
 * Call one source.  0 with *data (a new reference or NULL), 1 when it failed
 * and the gap is recorded, or SV_ECANCELLED.
 */
static int it_call(sv_ctx *ctx, const sv_host *host, json_object *state, const char *node,
                   const char *tool, const char *action, json_object *params, json_object **data)
{
    sv_error err;
    char error[sizeof err.code + sizeof err.message + 4];
    int rc;

    memset(&err, 0, sizeof err);
    *data = NULL;
    it_count(state, "attempted");
    rc = host->tool_call(ctx, tool, action, params, data, &err);
    if (rc == SV_ECANCELLED) {
        json_object_put(*data);
        *data = NULL;
        return rc;
    }
    if (rc != SV_OK) {
        json_object_put(*data);
        *data = NULL;
        snprintf(error, sizeof error, "%s%s%s", err.code[0] ? err.code : "error",
                 err.message[0] ? ": " : "", err.message);
        it_gap(ctx, host, state, node, tool, action, error);
        return 1;
    }
    return 0;
}

/* Store a digest under key, or record why the answer was unusable. */
static int it_keep(sv_ctx *ctx, const sv_host *host, json_object *state, const char *node,
                   const char *tool, const char *action, int rc, const char *why, const char *key,
                   json_object *digest)
{
    if (rc == 0) {
        json_object_object_add(state, key, digest);
        return 0;
    }
    json_object_put(digest);
    if (rc == SV_EINVAL) {
        it_gap(ctx, host, state, node, tool, action, why);
        return 0;
    }
    return it_oom(ctx, host);
}

/* How a source's answer becomes its digest (see it.h): fn, or for the logs
 * fn_lines, which reads at most `lines` of them. */
typedef struct it_digest {
    int (*fn)(json_object *data, json_object **out, char *why, size_t why_len);
    int (*fn_lines)(json_object *data, int lines, json_object **out, char *why, size_t why_len);
    int lines;
} it_digest;

/*
 * One source: call tool/action with req (NULL when it could not be built;
 * put here), digest the answer and keep it in the state under key.  0 also
 * when the source failed and the gap is recorded; SV_ECANCELLED or
 * SV_ENOMEM otherwise.
 */
static int it_source(sv_ctx *ctx, const sv_host *host, json_object *state, const char *node,
                     const char *tool, const char *action, json_object *req, const char *key,
                     it_digest d)
{
    char why[200] = "";
    json_object *data = NULL, *digest = NULL;
    int rc;

    if (!req)
        return it_oom(ctx, host);
    rc = it_call(ctx, host, state, node, tool, action, req, &data);
    if (rc != 0) {
        rc = rc == 1 ? 0 : rc;
        goto out;
    }
    rc = d.fn ? d.fn(data, &digest, why, sizeof why)
              : d.fn_lines(data, d.lines, &digest, why, sizeof why);
    rc = it_keep(ctx, host, state, node, tool, action, rc, why, key, digest);
out:
    json_object_put(req);
    json_object_put(data);
    return rc;
}

/* The run's parameters, or a failure when validate_input has not run. */
static json_object *it_params(sv_ctx *ctx, const sv_host *host, json_object **state)
{
    *state = host->state(ctx);
    json_object *p = it_json_get(*state, "params", json_type_object);
    if (!p)
        host->fail(ctx, "invalid_state", "incident_triage: validate_input did not run first");
    return p;
}

static json_object *it_time_range(json_object *p)
{
    json_object *tr = json_object_new_object();
    if (!tr)
        return NULL;
    json_object_object_add(tr, "from", json_object_new_string(it_or(it_json_str(p, "from"), "")));
    json_object_object_add(tr, "to", json_object_new_string(it_or(it_json_str(p, "to"), "")));
    return tr;
}

static json_object *it_copy_member(json_object *p, const char *key)
{
    json_object *v = NULL, *c = NULL;
    if (!json_object_object_get_ex(p, key, &v) || json_object_deep_copy(v, &c, NULL) != 0)
        return NULL;
    return c;
}

/* {"service", "env"} of the run, and its "time_range" when asked for; NULL
 * when out of memory. */
static json_object *it_request(json_object *p, int with_time_range)
{
    json_object *req = json_object_new_object();
    if (!req)
        return NULL;
    json_object_object_add(req, "service", it_copy_member(p, "service"));
    json_object_object_add(req, "env", it_copy_member(p, "env"));
    if (with_time_range)
        json_object_object_add(req, "time_range", it_time_range(p));
    return req;
}

int it_node_validate_input(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    int rc;
    char msg[sizeof(((sv_error *)0)->message) + 160];
    sv_error err;
    json_object *params = NULL;
    json_object *state = host->state(ctx);
    static const char *const stale[] = {"overview", "logs",        "health", "runbooks",
                                        "traces",   "traces_note", NULL};

    (void)step;
    memset(&err, 0, sizeof err);
    rc = it_params_build(host->input(ctx), host->now_ms(ctx), it_max_window_h(host), &params, &err);
    if (rc == SV_EINVAL) {
        snprintf(msg, sizeof msg, "%s (field %s)", err.message, err.field);
        host->fail(ctx, "invalid_input", msg);
        goto out;
    }
    if (rc < 0 || !state) {
        rc = it_oom(ctx, host);
        goto out;
    }
    json_object_object_add(state, "params", params);
    params = NULL;
    json_object_object_add(state, "data_gaps", json_object_new_array());
    json_object_object_add(state, "attempted", json_object_new_int(0));
    json_object_object_add(state, "failed", json_object_new_int(0));
    /* A node re-run after a restart starts from a clean slate. */
    for (int i = 0; stale[i]; i++)
        json_object_object_del(state, stale[i]);
out:
    json_object_put(params);
    return rc;
}

int it_node_service_overview(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *state;
    json_object *p = it_params(ctx, host, &state);

    (void)step;
    if (!p)
        return SV_ERR;
    return it_source(ctx, host, state, "service_overview", IT_TOOL_OBS, IT_ACT_OVERVIEW,
                     it_request(p, 1), "overview", (it_digest){.fn = it_overview_digest});
}

int it_node_top_errors_logs(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *state, *req;
    json_object *p = it_params(ctx, host, &state);
    json_object *limit = it_json_get(p, "limit", json_type_int);
    int n = limit ? (int)json_object_get_int64(limit) : IT_DEFAULT_LOG_LINES;

    (void)step;
    if (!p)
        return SV_ERR;
    if (n < 1 || n > IT_MAX_LOG_LINES)
        n = n < 1 ? 1 : IT_MAX_LOG_LINES;
    req = it_request(p, 1);
    if (req) {
        json_object_object_add(req, "query", it_copy_member(p, "query"));
        json_object_object_add(req, "limit", json_object_new_int(n));
    }
    return it_source(ctx, host, state, "top_errors_logs", IT_TOOL_OBS, IT_ACT_LOGS, req, "logs",
                     (it_digest){.fn_lines = it_logs_digest, .lines = n});
}

int it_node_health_and_runbooks(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    static const char node[] = "health_and_runbooks";
    char query[300];
    int rc;
    json_object *state, *req;
    json_object *p = it_params(ctx, host, &state);
    json_object *groups =
        it_json_get(it_json_get(state, "logs", json_type_object), "groups", json_type_array);

    (void)step;
    if (!p)
        return SV_ERR;
    rc = it_source(ctx, host, state, node, IT_TOOL_ONCALL, IT_ACT_HEALTH, it_request(p, 0),
                   "health", (it_digest){.fn = it_health_digest});
    if (rc < 0)
        return rc;
    /* The runbooks are searched with the symptom and what the logs say most. */
    it_runbook_query(it_json_str(p, "symptom"),
                     groups ? it_json_str(json_object_array_get_idx(groups, 0), "sig") : NULL,
                     query, sizeof query);
    req = json_object_new_object();
    if (req) {
        json_object_object_add(req, "service", it_copy_member(p, "service"));
        json_object_object_add(req, "query", json_object_new_string(query));
        json_object_object_add(req, "limit", json_object_new_int(IT_RUNBOOK_LIMIT));
    }
    return it_source(ctx, host, state, node, IT_TOOL_KB, IT_ACT_RUNBOOKS, req, "runbooks",
                     (it_digest){.fn = it_runbooks_digest});
}

int it_node_trace_lookup(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *state, *req, *copy = NULL;
    json_object *p = it_params(ctx, host, &state);
    json_object *want = it_json_get(p, "include_traces", json_type_boolean);
    json_object *ids =
        it_json_get(it_json_get(state, "logs", json_type_object), "trace_ids", json_type_array);

    (void)step;
    if (!p)
        return SV_ERR;
    /* No call at all unless asked for, and nothing to ask without ids. */
    if (!want || !json_object_get_boolean(want)) {
        json_object_object_add(state, "traces_note", json_object_new_string("not_requested"));
        return 0;
    }
    if (!ids || json_object_array_length(ids) == 0) {
        json_object_object_add(state, "traces_note", json_object_new_string("no_trace_ids"));
        return 0;
    }
    req = json_object_new_object();
    if (!req || json_object_deep_copy(ids, &copy, NULL) != 0) {
        json_object_put(req);
        return it_oom(ctx, host);
    }
    json_object_object_add(req, "trace_ids", copy);
    return it_source(ctx, host, state, "trace_lookup", IT_TOOL_OBS, IT_ACT_TRACES, req, "traces",
                     (it_digest){.fn = it_traces_digest});
}

int it_node_build_triage_report(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    char why[256] = "", line[160];
    json_object *result = NULL;
    json_object *state = host->state(ctx);
    int rc;

    (void)step;
    rc = it_report_build(state, &result, why, sizeof why);
    if (rc == SV_ERR) {
        host->fail(ctx, "all_sources_failed", why);
        goto out;
    }
    if (rc < 0) {
        rc = it_oom(ctx, host);
        goto out;
    }
    json_object *causes = it_json_get(result, "suspected_root_causes", json_type_array);
    json_object *gaps = it_json_get(result, "data_gaps", json_type_array);
    snprintf(line, sizeof line, "triage report: %zu suspected causes, %zu data gaps",
             causes ? json_object_array_length(causes) : 0,
             gaps ? json_object_array_length(gaps) : 0);
    host->log(ctx, SV_LOG_INFO, line);
    rc = host->set_result(ctx, result);
    result = NULL;
out:
    json_object_put(result);
    return rc;
}
