/*
 * release_check.c - the descriptor of the release_check graph: runs the
 * DAARION release_check pipeline through job_orchestrator_tool and reports
 * its gates (see docs/graphs.md).
 */
#include <sofiia/graph.h>

#include "rc_logic.h"
#include "rc_nodes.h"

static const sv_node rc_nodes[] = {
    {.name = RC_NODE_START_JOB, .run = rc_node_start_job, .next = RC_NODE_POLL_JOB},
    {.name = RC_NODE_POLL_JOB, .run = rc_node_poll_job, .next = RC_NODE_FINALIZE},
    {.name = RC_NODE_FINALIZE, .run = rc_node_finalize, .next = NULL},
};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "release_check",
    .version = "1.1.0",
    .description =
        "Runs the release_check pipeline via job_orchestrator_tool and reports its gates",
    .input_schema = rc_input_schema,
    .nodes = rc_nodes,
    .n_nodes = sizeof rc_nodes / sizeof rc_nodes[0],
    .entry = RC_NODE_START_JOB,
    .init = NULL,
    .fini = NULL,
    .prepare_input = NULL,
    .on_cancel = rc_on_cancel,
    /* The seed's timeouts.overall_sec (default 180 s) sets each run's
     * deadline; the schema bounds it to a day. */
    .deadline = {.default_sec = 180, .max_sec = 86400, .input = "timeouts.overall_sec"},
};
