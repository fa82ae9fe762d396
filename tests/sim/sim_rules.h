/* sim_rules.h - choosing the answer to a tool call: the first matching rule, and
 * the position in that rule's sequence of answers for the calling run. */
#ifndef SIM_RULES_H
#define SIM_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sim_scenario.h"

/* How many requests each (rule, graph_run_id) pair has had, so that concurrent runs
 * each walk their own copy of a sequence. Thread-safe. */
struct sim_counters;

int sim_counters_new(struct sim_counters **out);
void sim_counters_free(struct sim_counters *c);
/* Store in *n how many earlier requests (rule, run_id) had, then count this one.
 * run_id NULL = requests without a run id, which share one counter. 0 or -ENOMEM. */
int sim_counters_next(struct sim_counters *c, size_t rule, const char *run_id, uint64_t *n);

/* Index of the first rule matching tool, action and params, or -1. params is the
 * request's (may be NULL); a rule's params must be a subset of it. */
long sim_rules_find(const struct sim_scenario *sc, const char *tool, const char *action,
                    json_object *params);

/* The answer for the n-th (from 0) request to rule: responses repeat "times" times
 * each, in order, and the last one repeats forever. */
const struct sim_response *sim_rules_response(const struct sim_rule *rule, uint64_t n);

#endif
