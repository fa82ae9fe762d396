/*
 * test_crash - a test graph whose node makes one tool call and then, when
 * the input says so, crashes the process (a null write: what a buggy plugin
 * does).  Tests the crash line, the crash records in Redis, MAX_RESUMES and
 * QUARANTINE_CRASHES.
 */
#include <sofiia/graph.h>

#include <signal.h>

static int boom(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    json_object *in = host->input(ctx), *v = NULL;
    int crash = json_object_object_get_ex(in, "crash", &v) && json_object_get_boolean(v);
    sv_error err;
    int rc = host->tool_call(ctx, "test_tool", "step", NULL, NULL, &err);
    if (rc != SV_OK)
        return rc == SV_ECANCELLED ? rc : (host->fail(ctx, err.code, err.message), SV_ERR);
    if (crash)
        raise(SIGSEGV); /* as a null dereference would, without UB for the compiler */
    s->next = NULL;
    return SV_OK;
}

static const sv_node nodes[] = {{.name = "boom", .run = boom, .next = NULL}};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "test_crash",
    .version = "1.0.0",
    .description = "A node that crashes the daemon when asked (tests)",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"crash\":{\"type\":\"boolean\",\"default\":false}}}",
    .nodes = nodes,
    .n_nodes = 1,
    .entry = "boom",
};
