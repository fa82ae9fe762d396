/*
 * test_chain - a test graph: three nodes, each one tool call through the
 * host, the last one setting the result.  Proves the engine end to end.
 * Input "fail_at" makes that node fail; "bad_next" makes "b" route to an
 * unknown node.
 */
#include <sofiia/graph.h>

#include <stdio.h>
#include <string.h>

#ifndef TEST_CHAIN_VERSION
#define TEST_CHAIN_VERSION "1.0.0"
#endif

static int step(sv_ctx *ctx, const sv_host *host, int n)
{
    json_object *in = host->input(ctx), *v = NULL;
    const char *fail_at =
        json_object_object_get_ex(in, "fail_at", &v) ? json_object_get_string(v) : "";
    if (strcmp(fail_at, host->node(ctx)) == 0) {
        host->fail(ctx, "test_failure", "failing as the input asked");
        return SV_ERR;
    }
    json_object *params = json_object_new_object();
    json_object_object_add(params, "n", json_object_new_int(n));
    json_object_object_get_ex(in, "label", &v);
    json_object_object_add(params, "label", json_object_get(v));
    json_object *data = NULL;
    sv_error err;
    int rc = host->tool_call(ctx, "test_tool", "step", params, &data, &err);
    json_object_put(params);
    if (rc == SV_ECANCELLED)
        return rc;
    if (rc != SV_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "step %d: %s", n, err.message);
        host->fail(ctx, err.code, msg);
        return SV_ERR;
    }
    json_object *st = host->state(ctx);
    json_object_object_add(st, "steps", json_object_new_int(n));
    json_object_object_add(st, "last", data ? data : NULL);
    return SV_OK;
}

static int node_a(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    (void)s;
    return step(ctx, host, 1);
}

static int node_b(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    json_object *v = NULL;
    if (json_object_object_get_ex(host->input(ctx), "bad_next", &v) && json_object_get_boolean(v))
        s->next = "no_such_node";
    return step(ctx, host, 2);
}

static int node_c(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    (void)s;
    int rc = step(ctx, host, 3);
    if (rc != SV_OK)
        return rc;
    json_object *st = host->state(ctx), *last = NULL;
    json_object *result = json_object_new_object();
    json_object_object_add(result, "steps", json_object_new_int(3));
    json_object_object_get_ex(st, "last", &last);
    json_object_object_add(result, "last", json_object_get(last));
    json_object_object_add(result, "version", json_object_new_string(TEST_CHAIN_VERSION));
    host->set_result(ctx, result);
    return SV_OK;
}

static const sv_node nodes[] = {
    {.name = "a", .run = node_a, .next = "b"},
    {.name = "b", .run = node_b, .next = "c"},
    {.name = "c", .run = node_c, .next = NULL},
};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "test_chain",
    .version = TEST_CHAIN_VERSION,
    .description = "Three nodes, one tool call each (tests)",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"label\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
                    "\"count\":{\"type\":\"integer\",\"default\":1,\"minimum\":1,\"maximum\":10},"
                    "\"fail_at\":{\"type\":\"string\",\"default\":\"\"},"
                    "\"bad_next\":{\"type\":\"boolean\",\"default\":false}},"
                    "\"required\":[\"label\"]}",
    .nodes = nodes,
    .n_nodes = 3,
    .entry = "a",
};
