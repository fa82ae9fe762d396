/* fuzz_incident_triage.c - incident_triage on the SDK's test kit with fuzzed
 * input and observability, on-call and knowledge-base answers (fuzz_graph.c
 * says how). */
#include "fuzz.h"

int sv_fuzz_incident_triage(const uint8_t *data, size_t size)
{
    static const char *const pairs[] = {"observability_tool/service_overview",
                                        "observability_tool/logs_query",
                                        "observability_tool/traces_query",
                                        "oncall_tool/service_health",
                                        "kb_tool/runbook_search",
                                        NULL};
    return sv_fuzz_graph(&sv_fuzz_incident_triage_graph, pairs, data, size);
}

SV_FUZZ_MAIN(sv_fuzz_incident_triage)
