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

/* What the operator may set: the seed's INCIDENT_MAX_TIME_WINDOW_H, under
 * its old name as well as GRAPH_INCIDENT_TRIAGE_MAX_TIME_WINDOW_H. */
static const sv_setting it_settings[] = {
    {.name = IT_SETTING_MAX_WINDOW,
     .type = SV_SETTING_INT,
     .def = "24",
     .min = 1,
     .max = 8760,
     .env = IT_MAX_WINDOW_KEY,
     .description = "longest time window analysed, in hours; a longer time_range keeps its "
                    "latest hours"},
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
    .settings = it_settings,
    .n_settings = sizeof it_settings / sizeof it_settings[0],
    /* five calls, each retried by the daemon within its own time limit: a
     * triage that takes a quarter of an hour is no triage */
    .deadline = {.default_sec = 900},
};
