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

/* The plumbing (counters in the state, tool calls, params, failures) is the
 * SDK's (sofiia/graph_helpers.h); what is here is the triage's own. */

/* A failed source: a data_gaps entry, the counter, and a log line with the
 * error code only (the message may quote the router). */
static void it_gap(sv_ctx *ctx, const sv_host *host, const char *node, const char *tool,
                   const char *action, const char *error)
{
    char line[IT_GAP_ERROR_LEN], msg[200];
    json_object *state = host->state(ctx);
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
    sv_state_incr(ctx, host, "failed");
    snprintf(msg, sizeof msg, "source %s/%s failed (%.*s); recorded in data_gaps", tool, action,
             (int)strcspn(line, ":"), line);
    host->log(ctx, SV_LOG_WARN, msg);
}

/*
 * Call one source (params consumed).  0 with *data (a new reference or
 * NULL), 1 when it failed and the gap is recorded, or SV_ECANCELLED.  A
 * failure is a data gap, not the run's failure: hence sv_try_call.
 */
static int it_call(sv_ctx *ctx, const sv_host *host, const char *node, const char *tool,
                   const char *action, json_object *params, json_object **data)
{
    sv_error err;
    char error[sizeof err.code + sizeof err.message + 4];
    int rc;

    sv_state_incr(ctx, host, "attempted");
    rc = sv_try_call(ctx, host, tool, action, params, data, &err);
    if (rc == SV_ECANCELLED || rc == SV_OK)
        return rc;
    snprintf(error, sizeof error, "%s%s%s", err.code[0] ? err.code : "error",
             err.message[0] ? ": " : "", err.message);
    it_gap(ctx, host, node, tool, action, error);
    return 1;
}

/* Store a digest under key, or record why the answer was unusable. */
static int it_keep(sv_ctx *ctx, const sv_host *host, const char *node, const char *tool,
                   const char *action, int rc, const char *why, const char *key,
                   json_object *digest)
{
    if (rc == 0)
        return sv_state_set(ctx, host, key, digest) == SV_OK ? 0 : sv_oom(ctx, host);
    json_object_put(digest);
    if (rc == SV_EINVAL) {
        it_gap(ctx, host, node, tool, action, why);
        return 0;
    }
    return sv_oom(ctx, host);
}

/* How a source's answer becomes its digest (see it.h): fn, or for the logs
 * fn_lines, which reads at most `lines` of them. */
typedef struct it_digest {
    int (*fn)(json_object *data, json_object **out, char *why, size_t why_len);
    int (*fn_lines)(json_object *data, int lines, json_object **out, char *why, size_t why_len);
    int lines;
} it_digest;

/*
 * One source: call tool/action with req (a params object, consumed; NULL
 * when it could not be built), digest the answer and keep it in the state
 * under key.  0 also when the source failed and the gap is recorded;
 * SV_ECANCELLED or SV_ENOMEM otherwise.
 */
static int it_source(sv_ctx *ctx, const sv_host *host, const char *node, const char *tool,
                     const char *action, json_object *req, const char *key, it_digest d)
{
    char why[200] = "";
    json_object *data = NULL, *digest = NULL;
    int rc;

    if (!req)
        return sv_oom(ctx, host);
    rc = it_call(ctx, host, node, tool, action, req, &data);
    if (rc != 0) {
        rc = rc == 1 ? 0 : rc;
        goto out;
    }
    rc = d.fn ? d.fn(data, &digest, why, sizeof why)
              : d.fn_lines(data, d.lines, &digest, why, sizeof why);
    rc = it_keep(ctx, host, node, tool, action, rc, why, key, digest);
out:
    json_object_put(data);
    return rc;
}

/* The run's parameters, or a failure when validate_input has not run. */
static json_object *it_params(sv_ctx *ctx, const sv_host *host)
{
    json_object *p = it_json_get(host->state(ctx), "params", json_type_object);
    if (!p)
        host->fail(ctx, "invalid_state", "incident_triage: validate_input did not run first");
    return p;
}

/* {"service", "env"} of the run, and its "time_range" when asked for; NULL
 * when out of memory. */
static json_object *it_request(json_object *p, int with_time_range)
{
    if (!with_time_range)
        return sv_params("{'service': %j, 'env': %j}", sv_json_at(p, "service"),
                         sv_json_at(p, "env"));
    return sv_params("{'service': %j, 'env': %j, 'time_range': {'from': %s, 'to': %s}}",
                     sv_json_at(p, "service"), sv_json_at(p, "env"), sv_json_str(p, "from", ""),
                     sv_json_str(p, "to", ""));
}

int it_node_validate_input(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    int rc;
    sv_error err;
    json_object *params = NULL;
    static const char *const stale[] = {"overview", "logs",        "health", "runbooks",
                                        "traces",   "traces_note", NULL};

    (void)step;
    memset(&err, 0, sizeof err);
    rc = it_params_build(host->input(ctx), host->now_ms(ctx), it_max_window_h(host), &params, &err);
    if (rc == SV_EINVAL)
        return sv_fail(ctx, host, "invalid_input", "%s (field %s)", err.message, err.field);
    if (rc < 0 || sv_state_set(ctx, host, "params", params) < 0 ||
        sv_state_set(ctx, host, "data_gaps", json_object_new_array()) < 0 ||
        sv_state_set_int(ctx, host, "attempted", 0) < 0 ||
        sv_state_set_int(ctx, host, "failed", 0) < 0)
        return sv_oom(ctx, host);
    /* A node re-run after a restart starts from a clean slate. */
    for (int i = 0; stale[i]; i++)
        json_object_object_del(host->state(ctx), stale[i]);
    return SV_OK;
}

int it_node_service_overview(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *p = it_params(ctx, host);

    (void)step;
    if (!p)
        return SV_ERR;
    return it_source(ctx, host, "service_overview", IT_TOOL_OBS, IT_ACT_OVERVIEW, it_request(p, 1),
                     "overview", (it_digest){.fn = it_overview_digest});
}

int it_node_top_errors_logs(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *p = it_params(ctx, host);
    int64_t n = sv_json_int(p, "limit", IT_DEFAULT_LOG_LINES);

    (void)step;
    if (!p)
        return SV_ERR;
    if (n < 1 || n > IT_MAX_LOG_LINES)
        n = n < 1 ? 1 : IT_MAX_LOG_LINES;
    json_object *req =
        sv_params("{'service': %j, 'env': %j, 'time_range': {'from': %s, 'to': %s}, "
                  "'query': %j, 'limit': %d}",
                  sv_json_at(p, "service"), sv_json_at(p, "env"), sv_json_str(p, "from", ""),
                  sv_json_str(p, "to", ""), sv_json_at(p, "query"), (int)n);
    return it_source(ctx, host, "top_errors_logs", IT_TOOL_OBS, IT_ACT_LOGS, req, "logs",
                     (it_digest){.fn_lines = it_logs_digest, .lines = (int)n});
}

int it_node_health_and_runbooks(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    static const char node[] = "health_and_runbooks";
    char query[300];
    int rc;
    json_object *p = it_params(ctx, host);

    (void)step;
    if (!p)
        return SV_ERR;
    rc = it_source(ctx, host, node, IT_TOOL_ONCALL, IT_ACT_HEALTH, it_request(p, 0), "health",
                   (it_digest){.fn = it_health_digest});
    if (rc < 0)
        return rc;
    /* The runbooks are searched with the symptom and what the logs say most. */
    it_runbook_query(it_json_str(p, "symptom"), sv_state_str(ctx, host, "logs.groups[0].sig", NULL),
                     query, sizeof query);
    return it_source(ctx, host, node, IT_TOOL_KB, IT_ACT_RUNBOOKS,
                     sv_params("{'service': %j, 'query': %s, 'limit': %d}",
                               sv_json_at(p, "service"), query, IT_RUNBOOK_LIMIT),
                     "runbooks", (it_digest){.fn = it_runbooks_digest});
}

int it_node_trace_lookup(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *p = it_params(ctx, host);
    json_object *ids = sv_state_at(ctx, host, "logs.trace_ids");

    (void)step;
    if (!p)
        return SV_ERR;
    /* No call at all unless asked for, and nothing to ask without ids. */
    if (!sv_json_bool(p, "include_traces", 0))
        return sv_state_set_str(ctx, host, "traces_note", "not_requested");
    if (!json_object_is_type(ids, json_type_array) || json_object_array_length(ids) == 0)
        return sv_state_set_str(ctx, host, "traces_note", "no_trace_ids");
    return it_source(ctx, host, "trace_lookup", IT_TOOL_OBS, IT_ACT_TRACES,
                     sv_params("{'trace_ids': %j}", ids), "traces",
                     (it_digest){.fn = it_traces_digest});
}

int it_node_build_triage_report(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    char why[256] = "", line[160];
    json_object *result = NULL;
    int rc;

    (void)step;
    rc = it_report_build(host->state(ctx), &result, why, sizeof why);
    if (rc == SV_ERR)
        return sv_fail(ctx, host, "all_sources_failed", "%s", why);
    if (rc < 0)
        return sv_oom(ctx, host);
    json_object *causes = it_json_get(result, "suspected_root_causes", json_type_array);
    json_object *gaps = it_json_get(result, "data_gaps", json_type_array);
    snprintf(line, sizeof line, "triage report: %zu suspected causes, %zu data gaps",
             causes ? json_object_array_length(causes) : 0,
             gaps ? json_object_array_length(gaps) : 0);
    host->log(ctx, SV_LOG_INFO, line);
    /* set_result owns the result even when it fails */
    return host->set_result(ctx, result);
}
