/*
 * it_test_support.h - shared by the incident_triage unit tests
 * (test_incident_triage_input.c, _analysis.c, _runs.c): the fixtures of a DB
 * pool exhaustion after a deploy, and small readers of json-c objects that
 * never crash on a missing or mistyped member.  Not part of the graph.
 */
#ifndef SV_IT_TEST_SUPPORT_H
#define SV_IT_TEST_SUPPORT_H

#include <stddef.h>
#include <json-c/json.h>

/* The router's answers to the five source calls, and the run's input. */
extern const char *const ITT_POOL_OVERVIEW;
extern const char *const ITT_POOL_LOGS;
extern const char *const ITT_POOL_HEALTH;
extern const char *const ITT_POOL_RUNBOOKS;
extern const char *const ITT_POOL_TRACES;
extern const char *const ITT_POOL_INPUT;

/*
 * A run's state as the source nodes leave it, from router answers (JSON text;
 * NULL = that source is absent): params for router, prod, 09:00-10:00Z and
 * the symptom; digests of the overview, logs, health and runbooks answers.
 */
json_object *itt_state(const char *overview, const char *logs, const char *health,
                       const char *runbooks, const char *symptom);
/* Append {"node","tool","error"} to the state's data_gaps. */
void itt_add_gap(json_object *state, const char *node, const char *tool, const char *error);

/* Print o, pretty, on stderr when IT_TEST_DUMP is set and not "0". */
void itt_dump(const char *what, json_object *o);
/* o[key]; NULL when o is NULL or has no such member. */
json_object *itt_get(json_object *o, const char *key);
/* o[key] when it is a string, else NULL. */
const char *itt_gets(json_object *o, const char *key);
/* arr[i]; NULL when arr is no array or i is past its end. */
json_object *itt_idx(json_object *arr, size_t i);
/* The length of arr, 0 when it is no array. */
size_t itt_alen(json_object *arr);
/* Does hay contain needle (NULL contains nothing)? */
int itt_contains(const char *hay, const char *needle);
/* Does any string of arr contain needle? */
int itt_any_contains(json_object *arr, const char *needle);

#endif
