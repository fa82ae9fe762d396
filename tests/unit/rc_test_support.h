/*
 * rc_test_support.h - shared by the release_check unit tests
 * (test_release_check_logic.c, test_release_check_runs.c): readers of json-c
 * objects by path that never crash on a missing or mistyped member.  Not
 * part of the graph.
 */
#ifndef SV_RC_TEST_SUPPORT_H
#define SV_RC_TEST_SUPPORT_H

#include <stddef.h>
#include <json-c/json.h>

/* x, or "(null)", so a string assertion never compares NULL. */
#define RCT_S(x) ((x) ? (x) : "(null)")

/* The value at a path like "gates[1].name" or "timeouts.overall_sec". */
json_object *rct_jget(json_object *o, const char *path);
/* The string at path, NULL when absent or not a string. */
const char *rct_jstr(json_object *o, const char *path);
/* The integer at path, def when absent or not an integer. */
long long rct_jint(json_object *o, const char *path, long long def);
/* The boolean at path, def when absent or not a boolean. */
int rct_jbool(json_object *o, const char *path, int def);
/* The length of the array at path, (size_t)-1 when there is none. */
size_t rct_jlen(json_object *o, const char *path);
/* Is `o` equal to the JSON text `text`? */
int rct_jeq(json_object *o, const char *text);

#endif
