/* fuzz_release_check.c - release_check on the SDK's test kit with fuzzed input
 * and job_orchestrator_tool answers (fuzz_graph.c says how). */
#include "fuzz.h"

int sv_fuzz_release_check(const uint8_t *data, size_t size)
{
    static const char *const pairs[] = {"job_orchestrator_tool/start_task",
                                        "job_orchestrator_tool/get_job",
                                        "job_orchestrator_tool/cancel_job", NULL};
    return sv_fuzz_graph(&sv_fuzz_release_check_graph, pairs, data, size);
}

SV_FUZZ_MAIN(sv_fuzz_release_check)
