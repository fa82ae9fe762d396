/*
 * rc_logic.h - the pure logic of the release_check graph: no host calls, no
 * state, so every rule about odd job answers is unit-tested on its own.
 *
 * Everything here takes borrowed json_objects that may be of any type or NULL
 * (they come from the router) and never crashes on them.
 */
#ifndef RC_LOGIC_H
#define RC_LOGIC_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* The tool and the task this graph drives. */
#define RC_TOOL "job_orchestrator_tool"
#define RC_TASK_ID "release_check"

/* Defaults that the schema also declares; nodes fall back on them when the
 * input lacks a field (the daemon fills defaults, a bare mock does not). */
#define RC_POLL_INTERVAL_DEFAULT_MS 1000
#define RC_POLL_INTERVAL_MAX_MS 60000

/* Consecutive transient get_job failures tolerated before the run fails. */
#define RC_MAX_POLL_ERRORS 5

/* Bounds on what the result repeats from the job, so a huge or hostile
 * answer cannot blow up the run record. */
#define RC_MAX_GATES 100
#define RC_MAX_GATE_NAME 128
#define RC_MAX_RECOMMENDATIONS 100
#define RC_MAX_RECOMMENDATION_LEN 2000
#define RC_MAX_JOB_ID 256
#define RC_MAX_SUMMARY_NAMES 10
#define RC_SUMMARY_LEN 2048

/* The input schema (JSON text) of the descriptor. */
extern const char rc_input_schema[];

enum rc_gate_status { RC_GATE_PASS = 0, RC_GATE_FAIL, RC_GATE_SKIPPED, RC_GATE_ERROR };

/* Where a job is, from its status string. */
enum rc_job_phase {
    RC_JOB_PENDING = 0, /* queued, running, or a status we do not know: keep polling */
    RC_JOB_SUCCEEDED,
    RC_JOB_FAILED,
};

/* The wire name of a gate status: "pass", "fail", "skipped", "error". */
const char *rc_gate_status_name(enum rc_gate_status s);

/* Map any JSON value to a gate status: "pass"/"passed"/"ok"/true -> pass,
 * "fail"/"failed"/false -> fail, "skip"/"skipped" -> skipped, else error. */
enum rc_gate_status rc_gate_status_from_json(json_object *v);

/* Map a job's "status" value to its phase (unknown or missing = pending). */
enum rc_job_phase rc_job_phase_from_json(json_object *status);

/*
 * Normalise the job's "gates" (an array of {name,status}, an object map
 * {"deps":"fail"}, or anything else = none) into a new array of
 * {"name","status"} with at most RC_MAX_GATES entries.  0 or -ENOMEM.
 */
int rc_gates_normalise(json_object *raw, json_object **out);

/*
 * Normalise "recommendations" into a new array of at most
 * RC_MAX_RECOMMENDATIONS strings: strings kept, a lone string wrapped,
 * objects give their "text"/"message"/"title", numbers and booleans their JSON
 * text, everything else dropped.  0 or -ENOMEM.
 */
int rc_recommendations_normalise(json_object *raw, json_object **out);

/*
 * The one-line summary of normalised gates, e.g. "All 5 gates passed." or
 * "2 of 5 gates failed: deps, drift.".  job_pass is the job's own verdict:
 * 1, 0, or -1 when it gave none; a verdict that contradicts the gates is
 * mentioned.  Writes at most len bytes (always terminated, valid UTF-8).
 */
void rc_summary_format(json_object *gates, int job_pass, char *buf, size_t len);

/*
 * Build the run result {pass, gates, recommendations, summary, elapsed_ms}
 * from the job's result (any type).  elapsed_fallback_ms is used when the job
 * reports no usable elapsed_ms.  0 or -ENOMEM.
 */
int rc_result_build(json_object *job_result, int64_t elapsed_fallback_ms, json_object **out);

/*
 * Count failing (fail or error) gates of a normalised array.  Handy for logs.
 */
int rc_gates_count_failing(json_object *gates);

/*
 * The start_task params {"task_id":"release_check","inputs":{...}}: every
 * input field except "timeouts" and "poll_interval_ms" (deep copies).
 * 0 or -ENOMEM.
 */
int rc_start_params_build(json_object *input, json_object **out);

/* The poll interval of an input, in [0, RC_POLL_INTERVAL_MAX_MS]. */
uint32_t rc_input_poll_interval_ms(json_object *input);

/*
 * The job id of a job answer: a non-empty string of at most RC_MAX_JOB_ID
 * bytes, or an integer written in decimal.  Writes "" when there is none.
 */
void rc_job_id_from_json(json_object *v, char *buf, size_t len);

/*
 * One line telling why a job failed, from its status and its "error" (an
 * object {code,message}, a string, or nothing), for host->fail().
 */
void rc_job_error_describe(const char *job_id, const char *status, json_object *error, char *buf,
                           size_t len);

/* The member `key` of o, or NULL when o is no object or lacks it. */
json_object *rc_json_member(json_object *o, const char *key);

/* A new JSON string of at most cap bytes of s, cut before a UTF-8 lead byte
 * so the text stays valid.  NULL on ENOMEM. */
json_object *rc_json_string_capped(const char *s, size_t len, size_t cap);

/* Cut a string back to a complete UTF-8 sequence after a byte truncation. */
void rc_utf8_trim(char *s);

#endif
