/*
 * test_block - a test graph whose one node blocks in plugin code: it sleeps
 * until the file `release_file` exists (or `max_ms` pass), never calling
 * the host, so a cancel or a stop cannot reach it.  Tests that such a node
 * is named in the log and in /metrics (core/stall.h), and that the run ends
 * once it returns.  A test plugin may look at a file; a real graph reaches
 * the world only through the host's tool calls.
 */
#include <sofiia/graph.h>

#include <time.h>
#include <unistd.h>

static int block(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    json_object *in = host->input(ctx), *v = NULL;
    const char *release =
        json_object_object_get_ex(in, "release_file", &v) ? json_object_get_string(v) : "";
    int64_t max_ms = json_object_object_get_ex(in, "max_ms", &v) ? json_object_get_int64(v) : 30000;
    struct timespec t0, now, pause = {0, 20 * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (release[0] && access(release, F_OK) == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= max_ms)
            break;
        nanosleep(&pause, NULL);
    }
    json_object *result = json_object_new_object();
    json_object_object_add(result, "released", json_object_new_boolean(1));
    host->set_result(ctx, result);
    s->next = NULL;
    return SV_OK;
}

static const sv_node nodes[] = {{.name = "block", .run = block, .next = NULL}};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "test_block",
    .version = "1.0.0",
    .description = "A node that blocks without calling the host (tests)",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"release_file\":{\"type\":\"string\",\"maxLength\":200},"
                    "\"max_ms\":{\"type\":\"integer\",\"default\":30000,\"minimum\":0,"
                    "\"maximum\":600000}}}",
    .nodes = nodes,
    .n_nodes = 1,
    .entry = "block",
};
