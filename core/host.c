/* host.c - the services a graph reaches through sv_host.  Everything a graph
 * does to the outside world passes here, so this is where the run id is
 * attached to every tool call and where events are written. */
#include "host.h"
#include "graph_rules.h"
#include "graph_settings.h"
#include "log.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static sv_host_env g_env;

void sv_host_setup(const sv_host_env *env)
{
    g_env = *env;
}

static json_object *h_input(sv_ctx *ctx)
{
    return ctx->run->input;
}

static json_object *h_state(sv_ctx *ctx)
{
    return ctx->run->state;
}

static const char *h_run_id(sv_ctx *ctx)
{
    return ctx->run->id;
}

static const char *h_node(sv_ctx *ctx)
{
    return ctx->node_name;
}

typedef struct attempt_arg {
    sv_ctx *ctx;
    const char *tool;
    const char *action;
    const char *call_id;
} attempt_arg;

/* One tool_call event per attempt: names, hashes, sizes and timings only. */
static void on_attempt_named(void *arg, const sv_gw_attempt *a)
{
    attempt_arg *aa = arg;
    if (sv_json_plain(aa->call_id) && sv_json_plain(a->status) &&
        (!a->error_code || sv_json_plain(a->error_code)) && strlen(aa->call_id) < 300 &&
        (!a->error_code || strlen(a->error_code) < 100)) {
        /* What every attempt writes, made without a JSON tree (tool and
         * action were checked as words, hashes are hex). */
        char d[1024], err[128] = "";
        if (a->error_code)
            snprintf(err, sizeof err, ",\"error_code\":\"%s\"", a->error_code);
        snprintf(d, sizeof d,
                 "{\"tool\":\"%s\",\"action\":\"%s\",\"call_id\":\"%s\",\"attempt\":%d,"
                 "\"status\":\"%s\",\"http_status\":%d,\"duration_ms\":%lld,"
                 "\"request_sha256\":\"%s\",\"request_bytes\":%llu,\"response_sha256\":\"%s\","
                 "\"response_bytes\":%llu%s}",
                 aa->tool, aa->action, aa->call_id, a->attempt, a->status, a->http_status,
                 (long long)a->duration_ms, a->request_sha256, (unsigned long long)a->request_bytes,
                 a->response_sha256, (unsigned long long)a->response_bytes, err);
        sv_run_event_text(aa->ctx->run, "tool_call", aa->ctx->node_name, d);
        if (strcmp(a->status, "succeeded") != 0)
            sv_run_post(aa->ctx->run);
        return;
    }
    json_object *d = json_object_new_object();
    json_object_object_add(d, "tool", json_object_new_string(aa->tool));
    json_object_object_add(d, "action", json_object_new_string(aa->action));
    json_object_object_add(d, "call_id", json_object_new_string(aa->call_id));
    json_object_object_add(d, "attempt", json_object_new_int(a->attempt));
    json_object_object_add(d, "status", json_object_new_string(a->status));
    json_object_object_add(d, "http_status", json_object_new_int(a->http_status));
    json_object_object_add(d, "duration_ms", json_object_new_int64(a->duration_ms));
    json_object_object_add(d, "request_sha256", json_object_new_string(a->request_sha256));
    json_object_object_add(d, "request_bytes", json_object_new_int64((int64_t)a->request_bytes));
    json_object_object_add(d, "response_sha256", json_object_new_string(a->response_sha256));
    json_object_object_add(d, "response_bytes", json_object_new_int64((int64_t)a->response_bytes));
    if (a->error_code)
        json_object_object_add(d, "error_code", json_object_new_string(a->error_code));
    sv_run_event(aa->ctx->run, "tool_call", aa->ctx->node_name, d);
    /* An attempt that failed is followed by a wait: show it now. */
    if (strcmp(a->status, "succeeded") != 0)
        sv_run_post(aa->ctx->run);
}

static int h_tool_call(sv_ctx *ctx, const char *tool, const char *action, json_object *params,
                       json_object **data, sv_error *err)
{
    sv_run *r = ctx->run;
    sv_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (data)
        *data = NULL;
    /* graph_rules.c: the test kit makes the same checks */
    if (sv_rule_tool_call(tool, action, params, err) != SV_OK)
        return SV_EINVAL;
    if (!ctx->cleanup && atomic_load(&r->cancel) != SV_STOP_NONE) {
        snprintf(err->code, sizeof err->code, "cancelled");
        snprintf(err->message, sizeof err->message, "the run is stopping");
        return SV_ECANCELLED;
    }
    char call_id[256];
    uint32_t seq = ++r->call_seq[ctx->seq_slot];
    snprintf(call_id, sizeof call_id, "%s:%s:%u", r->id, ctx->node_name, seq);
    /* A span of the run's trace for this call and its retries (trace.h);
     * without one (no randomness) the call goes without a traceparent. */
    char span[SV_SPAN_ID_LEN];
    int spanned = sv_trace_span_new(span) == 0;
    attempt_arg aa = {.ctx = ctx, .tool = tool, .action = action, .call_id = call_id};
    sv_gw_call call = {
        .tool = tool,
        .action = action,
        .params = params,
        .workspace_id = r->workspace_id,
        .user_id = r->user_id,
        .agent_id = r->agent_id,
        .run_id = r->id,
        .graph = r->graph->desc->name,
        .node = ctx->node_name,
        .call_id = call_id,
        .trace_id = r->trace_id,
        .span_id = spanned ? span : NULL,
        .trace_flags = r->trace_flags,
        .deadline_mono_ms =
            ctx->cleanup ? sv_mono_ms() + g_env.cancel_grace_ms : r->deadline_mono_ms,
        .cancel = ctx->cleanup ? NULL : &r->cancel,
        .on_attempt = on_attempt_named,
        .arg = &aa,
    };
    json_object *out = NULL;
    int rc = sv_gateway_call(g_env.gateway, &call, &out, err);
    if (rc == SV_ECANCELLED && !ctx->cleanup && r->deadline_mono_ms &&
        sv_mono_ms() >= r->deadline_mono_ms) {
        /* The deadline passed inside the call before the timer said so. */
        int none = SV_STOP_NONE;
        atomic_compare_exchange_strong(&r->cancel, &none, SV_STOP_TIMEOUT);
    }
    if (data)
        *data = out;
    else
        json_object_put(out);
    return rc;
}

static int h_set_result(sv_ctx *ctx, json_object *result)
{
    json_object_put(ctx->run->result);
    ctx->run->result = result;
    return SV_OK;
}

static int h_fail(sv_ctx *ctx, const char *code, const char *message)
{
    sv_run *r = ctx->run;
    snprintf(r->err_code, sizeof r->err_code, "%s", sv_rule_fail_code(code));
    snprintf(r->err_message, sizeof r->err_message, "%s", message ? message : "");
    return SV_OK;
}

static int h_event(sv_ctx *ctx, const char *type, json_object *details)
{
    /* a graph may not forge the core's own types (graph_rules.c) */
    int rc = sv_rule_event(type, details);
    if (rc != SV_OK)
        goto out;
    rc = sv_run_event(ctx->run, type, ctx->node_name, details) < 0 ? SV_ERR : SV_OK;
    details = NULL;
out:
    json_object_put(details);
    return rc;
}

static void h_log(sv_ctx *ctx, int level, const char *message)
{
    enum sv_level l = level <= SV_LOG_DEBUG  ? SV_LEVEL_DEBUG
                      : level == SV_LOG_INFO ? SV_LEVEL_INFO
                      : level == SV_LOG_WARN ? SV_LEVEL_WARN
                                             : SV_LEVEL_ERROR;
    if (!sv_log_enabled(l))
        return;
    json_object *f = json_object_new_object();
    if (ctx) {
        json_object_object_add(f, "run_id", json_object_new_string(ctx->run->id));
        json_object_object_add(f, "trace_id", json_object_new_string(ctx->run->trace_id));
        json_object_object_add(f, "graph", json_object_new_string(ctx->run->graph->desc->name));
        json_object_object_add(f, "node", json_object_new_string(ctx->node_name));
    }
    sv_log(l, message ? message : "", f);
}

static int h_cancelled(sv_ctx *ctx)
{
    return atomic_load(&ctx->run->cancel) != SV_STOP_NONE;
}

static int64_t h_now_ms(sv_ctx *ctx)
{
    (void)ctx;
    return sv_now_ms();
}

static int64_t h_created_ms(sv_ctx *ctx)
{
    return ctx->run->created_us / 1000;
}

/* ABI 1.0's way to a setting, with no graph to ask for: only variables that
 * loaded graphs declare (graph_settings.c). */
static long h_config_int(const char *key, long def)
{
    return sv_gset_config_int(key, def);
}

static const sv_host g_host;

static json_object *h_setting(const sv_host *host, const char *name)
{
    /* The registry hands each version a copy of g_host inside its entry
     * (registry.h), so the table says which graph asks; the template
     * itself belongs to no graph. */
    if (!host || host == &g_host || !name)
        return NULL;
    const sv_graph_ent *e =
        (const sv_graph_ent *)(const void *)((const char *)host - offsetof(sv_graph_ent, host));
    json_object *v = NULL;
    return json_object_object_get_ex(e->settings, name, &v) ? v : NULL;
}

static int64_t h_deadline_ms(sv_ctx *ctx)
{
    const sv_run *r = ctx->run;
    return r->created_us / 1000 +
           sv_rule_deadline_ms(r->graph->desc, r->input, g_env.run_default_timeout_ms, NULL);
}

static const sv_host g_host = {
    .abi_major = SV_ABI_MAJOR,
    .abi_minor = SV_ABI_MINOR,
    .size = sizeof(sv_host),
    .input = h_input,
    .state = h_state,
    .run_id = h_run_id,
    .node = h_node,
    .tool_call = h_tool_call,
    .set_result = h_set_result,
    .fail = h_fail,
    .event = h_event,
    .log = h_log,
    .cancelled = h_cancelled,
    .now_ms = h_now_ms,
    .created_ms = h_created_ms,
    .config_int = h_config_int,
    .setting = h_setting,
    .deadline_ms = h_deadline_ms,
};

const sv_host *sv_host_table(void)
{
    return &g_host;
}
