/*
 * test_abi10 - a graph built against the SDK header of ABI 1.0
 * (tests/sdk-1.0/sofiia/graph.h, kept as released): it must keep loading and
 * running on a daemon of a later minor, with the daemon's default deadline.
 * Its one node makes a tool call and reports what config_int() (1.0's way
 * to a setting) answers for a variable a 1.1 graph declares.
 */
#include <sofiia/graph.h>

#if SV_ABI_MAJOR != 1 || SV_ABI_MINOR != 0
#error "test_abi10 must be built against the ABI 1.0 header (tests/sdk-1.0)"
#endif

static int only(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    sv_error err;
    json_object *params = json_object_new_object();
    json_object_object_add(params, "n", json_object_new_int(1));
    int rc = host->tool_call(ctx, "test_tool", "step", params, NULL, &err);
    json_object_put(params);
    if (rc != SV_OK) {
        host->fail(ctx, err.code, err.message);
        return rc;
    }
    json_object *result = json_object_new_object();
    json_object_object_add(result, "abi", json_object_new_string("1.0"));
    json_object_object_add(result, "limit",
                           json_object_new_int64(host->config_int("TEST_SETTINGS_LIMIT", -1)));
    json_object_object_add(result, "host_minor", json_object_new_int((int)host->abi_minor));
    host->set_result(ctx, result);
    step->next = NULL;
    return SV_OK;
}

static const sv_node nodes[] = {{.name = "only", .run = only, .next = NULL}};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "test_abi10",
    .version = "1.0.0",
    .description = "A plugin of ABI 1.0 (tests)",
    .input_schema = "{\"type\":\"object\",\"properties\":{}}",
    .nodes = nodes,
    .n_nodes = 1,
    .entry = "only",
};
