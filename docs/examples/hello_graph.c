/*
 * hello_graph.c - a complete small graph for sofiia-supervisor, written
 * against the host table alone (no sofiia/graph_helpers.h), to show what the
 * helpers do for you: compare the starter `sofiia-ctl new-graph` writes.
 * docs/plugin-authoring.md's reference uses it.
 *
 *   compose ──► wait_ready ──► END
 *                 ▲    │
 *                 └────┘  (not ready yet: wait interval_ms, holding no thread)
 *
 * compose    asks greeting_tool/compose for a greeting and keeps its id in the
 *            run's state.
 * wait_ready asks greeting_tool/status until the greeting is "ready" (then
 *            sets the result and ends the run) or "failed", or until it has
 *            asked max_polls times (then fails the run with "not_ready").
 * on_cancel  when the run is cancelled or times out, asks
 *            greeting_tool/discard to throw the greeting away.
 *
 * Build:
 *   cc -std=c11 -Wall -Wextra -shared -fPIC -fvisibility=hidden \
 *      $(pkg-config --cflags sofiia-sdk) hello_graph.c -o hello.so \
 *      $(pkg-config --libs sofiia-sdk) -Wl,--no-undefined
 */
#include <sofiia/graph.h>

#include <stdio.h>
#include <string.h>

#define TOOL "greeting_tool"

/*
 * The input schema (docs/input-schema.md).  The daemon validates every start
 * request against it and fills in the defaults, so the nodes below can read
 * every field without checking that it is there.  timeouts.overall_sec is
 * the run's deadline because the descriptor's `deadline` says so.
 */
static const char schema[] =
    "{\"type\": \"object\","
    " \"properties\": {"
    "  \"name\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 64,"
    "            \"default\": \"world\", \"description\": \"Who to greet\"},"
    "  \"max_polls\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100,"
    "                 \"default\": 5, \"description\": \"Status checks before giving up\"},"
    "  \"interval_ms\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 60000,"
    "                   \"default\": 1000, \"description\": \"Wait between two checks\"},"
    "  \"timeouts\": {\"type\": \"object\", \"properties\": {"
    "    \"overall_sec\": {\"type\": \"number\", \"minimum\": 1, \"maximum\": 3600,"
    "                     \"default\": 60}}}"
    " }}";

/* ---- small helpers (no state of their own: safe on any thread) ---------- */

static int64_t get_int(json_object *o, const char *key, int64_t def)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return def;
    return json_object_get_int64(v);
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Fail the run because a tool call failed, keeping the tool's error code
 * ("forbidden", "unavailable", ...) so callers see why. */
static int fail_tool(sv_ctx *ctx, const sv_host *host, const char *action, const sv_error *err)
{
    char msg[256]; /* the host keeps 255 bytes of a message */
    snprintf(msg, sizeof msg, TOOL "/%.16s failed: %.200s", action, err->message);
    host->fail(ctx, err->code[0] ? err->code : "tool_failed", msg);
    return SV_ETOOL;
}

/* ---- nodes -------------------------------------------------------------- */

static int compose(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *input = host->input(ctx); /* borrowed, read-only */
    json_object *state = host->state(ctx); /* borrowed, ours to change */
    (void)step; /* the default successor (wait_ready, no delay) is right */

    /* params stay ours: the host copies what it sends. */
    json_object *params = json_object_new_object();
    json_object_object_add(params, "name", json_object_new_string(get_str(input, "name")));
    json_object *data = NULL;
    sv_error err;
    int rc = host->tool_call(ctx, TOOL, "compose", params, &data, &err);
    json_object_put(params);
    if (rc == SV_ECANCELLED)
        return rc; /* cancelled or timed out meanwhile: just return it */
    if (rc != SV_OK)
        return fail_tool(ctx, host, "compose", &err);

    const char *id = get_str(data, "greeting_id");
    if (!id || !*id) {
        json_object_put(data);
        host->fail(ctx, "bad_answer", TOOL "/compose answered without a greeting_id");
        return SV_ERR;
    }
    /* What later nodes (and on_cancel) need goes into the state, which the
     * host saves after every node. */
    json_object_object_add(state, "greeting_id", json_object_new_string(id));
    json_object_object_add(state, "polls", json_object_new_int(0));
    json_object_put(data); /* *data was a new reference */
    return SV_OK;
}

static int wait_ready(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *input = host->input(ctx);
    json_object *state = host->state(ctx);
    int64_t polls = get_int(state, "polls", 0) + 1;
    json_object_object_add(state, "polls", json_object_new_int64(polls));

    json_object *params = json_object_new_object();
    json_object_object_add(params, "greeting_id",
                           json_object_new_string(get_str(state, "greeting_id")));
    json_object *data = NULL;
    sv_error err;
    int rc = host->tool_call(ctx, TOOL, "status", params, &data, &err);
    json_object_put(params);
    if (rc == SV_ECANCELLED)
        return rc;
    if (rc != SV_OK)
        return fail_tool(ctx, host, "status", &err);

    /* An event of our own: names and counts only, never payload content. */
    json_object *details = json_object_new_object();
    json_object_object_add(details, "poll", json_object_new_int64(polls));
    host->event(ctx, "greeting_polled", details); /* the host owns details now */

    const char *status = get_str(data, "status");
    if (status && strcmp(status, "ready") == 0) {
        json_object *result = json_object_new_object();
        json_object *text = NULL;
        json_object_object_get_ex(data, "text", &text);
        json_object_object_add(result, "greeting", json_object_get(text)); /* null if absent */
        json_object_object_add(result, "polls", json_object_new_int64(polls));
        json_object_object_add(result, "elapsed_ms",
                               json_object_new_int64(host->now_ms(ctx) - host->created_ms(ctx)));
        host->set_result(ctx, result); /* the host owns result now */
        json_object_put(data);
        step->next = NULL; /* END: the run succeeds */
        return SV_OK;
    }
    json_object_put(data);
    if (status && strcmp(status, "failed") == 0) {
        host->fail(ctx, "greeting_failed", TOOL " reported the greeting as failed");
        return SV_ERR;
    }
    if (polls >= get_int(input, "max_polls", 5)) {
        char msg[128];
        snprintf(msg, sizeof msg, "the greeting was not ready after %lld checks", (long long)polls);
        host->fail(ctx, "not_ready", msg);
        return SV_ERR;
    }
    host->log(ctx, SV_LOG_DEBUG, "greeting not ready yet; waiting");
    /* Run this node again after interval_ms.  The run is parked on the
     * host's timer meanwhile and holds no worker thread. */
    step->next = "wait_ready"; /* a literal: it outlives the call */
    step->delay_ms = (uint32_t)get_int(input, "interval_ms", 1000);
    return SV_OK;
}

/* ---- hooks -------------------------------------------------------------- */

static int init(const sv_host *host)
{
    /* Called once after loading.  A plugin that needs a host function added
     * in a later minor than the one it declares checks SV_HOST_HAS() here
     * and returns non-zero to refuse to load. */
    return host->abi_major == SV_ABI_MAJOR ? 0 : -1;
}

static void on_cancel(sv_ctx *ctx, const sv_host *host, int reason)
{
    /* Called at most once, after the last node returned, when the run was
     * cancelled (SV_CANCEL_USER) or passed its deadline
     * (SV_CANCEL_TIMEOUT).  Tool calls work again here, each with a short
     * deadline (CANCEL_GRACE_SEC). */
    const char *id = get_str(host->state(ctx), "greeting_id");
    if (!id)
        return; /* compose never got that far: nothing to discard */
    json_object *params = json_object_new_object();
    json_object_object_add(params, "greeting_id", json_object_new_string(id));
    json_object_object_add(
        params, "reason", json_object_new_string(reason == SV_CANCEL_TIMEOUT ? "timeout" : "user"));
    host->tool_call(ctx, TOOL, "discard", params, NULL, NULL); /* best effort */
    json_object_put(params);
}

/* ---- the descriptor: the one exported symbol ----------------------------- */

static const sv_node nodes[] = {
    {.name = "compose", .run = compose, .next = "wait_ready"},
    {.name = "wait_ready", .run = wait_ready, .next = NULL},
};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "hello",
    .version = "1.0.0",
    .description = "Compose a greeting and wait until it is ready (example)",
    .input_schema = schema,
    .nodes = nodes,
    .n_nodes = sizeof nodes / sizeof nodes[0],
    .entry = "compose",
    .init = init,
    .fini = NULL,
    .prepare_input = NULL,
    .on_cancel = on_cancel,
    /* 60 s per run unless the input's timeouts.overall_sec says otherwise
     * (up to an hour); past it the run fails with "timeout" */
    .deadline = {.default_sec = 60, .max_sec = 3600, .input = "timeouts.overall_sec"},
};
