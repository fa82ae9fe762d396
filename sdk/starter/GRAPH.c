/*
 * @GRAPH@.c - the @GRAPH@ graph (written by `sofiia-ctl new-graph @GRAPH@`;
 * make it yours).  It submits a job to example_tool, polls it until it is
 * done (waiting between polls without holding a thread), and returns the
 * job's output; a cancelled or timed-out run cancels the job.
 *
 *   submit ──► poll ──► END
 *               ▲  │
 *               └──┘  (not done yet: wait poll_ms)
 *
 * The contract is <sofiia/graph.h>; the sv_* helpers used here are in
 * <sofiia/graph_helpers.h>, which it includes.
 */
#include <sofiia/graph.h>

#include <string.h>

/* Ask for the job; keep its id in the state for the next nodes. */
static int submit(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *data = NULL;
    int rc = sv_call(ctx, host, "example_tool", "submit",
                     sv_params("{'what': %s}", sv_input_str(ctx, host, "what", "")), &data);
    if (rc != SV_OK)
        return rc; /* sv_call failed the run with the tool's error */
    const char *id = sv_json_str(data, "job_id", NULL);
    if (!id || !*id) {
        json_object_put(data);
        return sv_fail(ctx, host, "bad_answer", "example_tool/submit gave no job_id");
    }
    rc = sv_state_set_str(ctx, host, "job_id", id);
    json_object_put(data);
    step->next = "poll";
    return rc;
}

/* Look at the job once; done -> the result, else poll again later. */
static int poll(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *data = NULL;
    int64_t polls = sv_state_incr(ctx, host, "polls");
    int rc = sv_call(ctx, host, "example_tool", "status",
                     sv_params("{'job_id': %s}", sv_state_str(ctx, host, "job_id", "")), &data);
    if (rc != SV_OK)
        return rc;
    const char *status = sv_json_str(data, "status", "");
    if (strcmp(status, "done") == 0) {
        json_object *result = sv_params("{'output': %j, 'polls': %lld}", sv_json_at(data, "output"),
                                        (long long)polls);
        json_object_put(data);
        if (!result)
            return sv_oom(ctx, host);
        host->set_result(ctx, result); /* the host owns it now */
        step->next = NULL;             /* END: the run succeeds */
        return SV_OK;
    }
    json_object_put(data);
    if (polls >= sv_setting_int(host, "max_polls", 10))
        return sv_fail(ctx, host, "not_done", "the job was not done after %lld polls",
                       (long long)polls);
    step->next = "poll";
    step->delay_ms = (uint32_t)sv_input_int(ctx, host, "poll_ms", 1000);
    return SV_OK;
}

/* Cancelled or past the deadline: cancel the job, if there is one. */
static void on_cancel(sv_ctx *ctx, const sv_host *host, int reason)
{
    const char *id = sv_state_str(ctx, host, "job_id", NULL);
    (void)reason;
    if (id)
        sv_try_call(ctx, host, "example_tool", "cancel", sv_params("{'job_id': %s}", id), NULL,
                    NULL);
}

static const sv_node nodes[] = {
    {.name = "submit", .run = submit, .next = "poll"},
    {.name = "poll", .run = poll, .next = NULL},
};

/* What the operator may set: GRAPH_@GRAPH_UPPER@_MAX_POLLS, or
 * max_polls = N in a [graph @GRAPH@] section of the daemon's config file. */
static const sv_setting settings[] = {
    {.name = "max_polls",
     .type = SV_SETTING_INT,
     .def = "10",
     .min = 1,
     .max = 1000,
     .description = "polls before the run gives up with not_done"},
};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "@GRAPH@",
    .version = "0.1.0", /* bump it with every change you deploy */
    .description = "Submit a job to example_tool and wait until it is done",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"what\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,"
                    "\"description\":\"what the job should do\"},"
                    "\"poll_ms\":{\"type\":\"integer\",\"default\":1000,\"minimum\":0,"
                    "\"maximum\":60000,\"description\":\"wait between two polls\"},"
                    "\"timeout_sec\":{\"type\":\"number\",\"minimum\":1,\"maximum\":600,"
                    "\"description\":\"the run's deadline (default 60 s)\"}},"
                    "\"required\":[\"what\"]}",
    .nodes = nodes,
    .n_nodes = sizeof nodes / sizeof nodes[0],
    .entry = "submit",
    .on_cancel = on_cancel,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .deadline = {.default_sec = 60, .max_sec = 600, .input = "timeout_sec"},
};
