/*
 * test_wait - a test graph that loops: one tool call, then a wait of
 * delay_ms holding no thread, `waits` times, then a last call (its params
 * carry the input's `label`, so a scenario can single out a run's calls).  Its on_cancel
 * sends one "cleanup" call.  Used for parking, cancel, timeout, scale and
 * hot-swap tests.
 */
#include <sofiia/graph.h>

#ifndef TEST_WAIT_VERSION
#define TEST_WAIT_VERSION "1.0.0"
#endif

static int64_t get_int(json_object *o, const char *key, int64_t def)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : def;
}

static int tick(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    json_object *in = host->input(ctx), *st = host->state(ctx);
    int64_t ticks = get_int(st, "ticks", 0);
    json_object *params = json_object_new_object();
    json_object_object_add(params, "tick", json_object_new_int64(ticks + 1));
    json_object *label = NULL;
    if (json_object_object_get_ex(in, "label", &label))
        json_object_object_add(params, "label",
                               json_object_new_string(json_object_get_string(label)));
    sv_error err;
    int rc = host->tool_call(ctx, "test_tool", "tick", params, NULL, &err);
    json_object_put(params);
    if (rc == SV_ECANCELLED)
        return rc;
    if (rc != SV_OK) {
        host->fail(ctx, err.code, err.message);
        return SV_ERR;
    }
    ticks++;
    json_object_object_add(st, "ticks", json_object_new_int64(ticks));
    if (ticks <= get_int(in, "waits", 4)) {
        s->next = "tick";
        s->delay_ms = (uint32_t)get_int(in, "delay_ms", 500);
        return SV_OK;
    }
    json_object *result = json_object_new_object();
    json_object_object_add(result, "ticks", json_object_new_int64(ticks));
    json_object_object_add(result, "version", json_object_new_string(TEST_WAIT_VERSION));
    host->set_result(ctx, result);
    return SV_OK;
}

static void on_cancel(sv_ctx *ctx, const sv_host *host, int reason)
{
    json_object *params = json_object_new_object();
    json_object_object_add(
        params, "reason", json_object_new_string(reason == SV_CANCEL_TIMEOUT ? "timeout" : "user"));
    host->tool_call(ctx, "test_tool", "cleanup", params, NULL, NULL);
    json_object_put(params);
}

static const sv_node nodes[] = {{.name = "tick", .run = tick, .next = NULL}};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "test_wait",
    .version = TEST_WAIT_VERSION,
    .description = "Tool call, wait, repeat (tests)",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"waits\":{\"type\":\"integer\",\"default\":4,\"minimum\":0,\"maximum\":1000},"
                    "\"delay_ms\":{\"type\":\"integer\",\"default\":500,\"minimum\":0,"
                    "\"maximum\":600000},"
                    "\"label\":{\"type\":\"string\",\"maxLength\":64},"
                    "\"timeouts\":{\"type\":\"object\",\"properties\":{\"overall_sec\":{"
                    "\"type\":\"number\",\"default\":600,\"minimum\":0.1,\"maximum\":86400}}}}}",
    .nodes = nodes,
    .n_nodes = 1,
    .entry = "tick",
    .on_cancel = on_cancel,
    /* timeouts.overall_sec sets a run's deadline; without it the daemon's
     * RUN_DEFAULT_TIMEOUT_SEC applies */
    .deadline = {.max_sec = 86400, .input = "timeouts.overall_sec"},
};
