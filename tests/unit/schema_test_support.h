/*
 * schema_test_support.h - shared by the unit tests of the input-schema
 * validator (test_schema_check.c, test_schema_validate.c,
 * test_schema_limits.c): the schemas of the two shipped graphs, parsed by
 * the suite's init, and the checks of a refusal.  Not part of the daemon.
 */
#ifndef SV_SCHEMA_TEST_SUPPORT_H
#define SV_SCHEMA_TEST_SUPPORT_H

#include "schema.h"

#include <stdbool.h>

/* The input schemas of release_check and incident_triage, set by
 * sct_suite_init() and put by sct_suite_clean(). */
extern json_object *sct_release_check;
extern json_object *sct_incident_triage;

/* CUnit suite init and cleanup: parse and free the two schemas. */
int sct_suite_init(void);
int sct_suite_clean(void);

/* Parse JSON written with ' for " (NULL when it is no JSON). */
json_object *sct_pj(const char *text);
/* Is s well-formed UTF-8? */
bool sct_valid_utf8(const char *s);
/* Validate a ready object and expect the given error. */
void sct_expect_err_obj(json_object *schema, json_object *in, const char *field,
                        const char *message);

#endif
