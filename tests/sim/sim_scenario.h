/* sim_scenario.h - the router simulator's scenario: which answers it gives to which
 * tool calls. Loaded and validated once at start-up, then read-only, so request
 * threads share it without locks. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* A latency field that was not given: the enclosing level's latency applies. */
#define SIM_LATENCY_INHERIT (-1)
/* Upper bounds that keep a typo from hanging a test for hours. */
#define SIM_LATENCY_MAX_MS 600000
#define SIM_TIMES_MAX 1000000000

struct sim_response {
    unsigned int http_status;
    char *retry_after; /* Retry-After header value; NULL = no header */
    char *body;        /* bytes to send (serialized JSON or raw_body text) */
    size_t body_len;
    int templated;      /* body holds "{{...}}" strings to fill per request */
    int64_t latency_ms; /* SIM_LATENCY_INHERIT = the rule's or scenario's latency */
    uint64_t times;     /* how many consecutive requests get this answer */
};

struct sim_rule {
    char *tool;
    char *action;        /* NULL = any action */
    json_object *params; /* subset to match; NULL = any params. Never written after load:
                          * json-c objects are not safe to modify across threads. */
    int64_t latency_ms;
    struct sim_response *responses;
    size_t n_responses;
};

struct sim_scenario {
    char *name;
    char *description;
    char *api_key;      /* NULL = no authentication required */
    int64_t latency_ms; /* default latency of rule and default answers */
    struct sim_rule *rules;
    size_t n_rules;
    struct sim_response fallback; /* answered when no rule matches */
    json_object *root;            /* the parsed file; owns every rule's params */
};

/* Load and validate the scenario at path into *sc. On failure returns a negative
 * errno, leaves *sc empty and writes to err one line naming the problem and, for
 * an invalid field, its JSON path (e.g. "$.rules[1].responses[0].http_status: ..."). */
int sim_scenario_load(const char *path, struct sim_scenario *sc, char *err, size_t errlen);

/* Release everything sim_scenario_load allocated; safe on a zeroed scenario. */
void sim_scenario_free(struct sim_scenario *sc);

#endif
