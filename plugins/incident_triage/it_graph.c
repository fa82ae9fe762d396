/*
 * it_graph.c - the descriptor of the incident_triage graph: the only symbol
 * the plugin exports.  The nodes run in the seed's order; trace_lookup
 * decides for itself whether to call anything.
 */
#include "it.h"

static const sv_node it_nodes[] = {
    {"validate_input", it_node_validate_input, "service_overview"},
    {"service_overview", it_node_service_overview, "top_errors_logs"},
    {"top_errors_logs", it_node_top_errors_logs, "health_and_runbooks"},
    {"health_and_runbooks", it_node_health_and_runbooks, "trace_lookup"},
    {"trace_lookup", it_node_trace_lookup, "build_triage_report"},
    {"build_triage_report", it_node_build_triage_report, NULL},
};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = IT_GRAPH_NAME,
    .version = IT_GRAPH_VERSION,
    .description = "Collects SLOs, error logs, health, runbooks and traces of a service and "
                   "builds a ranked triage report",
    .input_schema = it_input_schema,
    .nodes = it_nodes,
    .n_nodes = sizeof it_nodes / sizeof it_nodes[0],
    .entry = "validate_input",
    .init = NULL,
    .fini = NULL,
    .prepare_input = it_prepare_input,
    .on_cancel = NULL,
};
