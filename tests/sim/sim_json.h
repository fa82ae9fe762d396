/* sim_json.h - JSON helpers of the router simulator: bounded parsing with a useful
 * error, strings that are always valid UTF-8, and the simulator's error bodies. */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stddef.h>

#include <json-c/json.h>

/* Parse exactly one JSON text from buf (trailing whitespace allowed). strict selects
 * RFC 8259 syntax (requests); otherwise json-c's lenient mode, which allows comments
 * (scenario files). *out may be NULL for the text "null". On a syntax error returns
 * -EINVAL and, when err is not NULL, describes the error and its line:column. */
int sim_json_parse(const char *buf, size_t len, int strict, json_object **out, char *err,
                   size_t errlen);

/* Read the file at path (at most max bytes) and parse it leniently into *out. On
 * failure a negative errno and one line in err ("cannot open: ...", "invalid JSON:
 * ... at line L column C"). */
int sim_json_load_file(const char *path, size_t max, json_object **out, char *err, size_t errlen);

/* A JSON string holding s with every invalid UTF-8 sequence replaced by U+FFFD, so
 * that a record line stays valid JSON whatever bytes a client sent. NULL on ENOMEM. */
json_object *sim_json_string_utf8(const char *s, size_t len);

/* Serialize obj compactly into a malloc'd string; NULL on ENOMEM. */
char *sim_json_dump(json_object *obj, size_t *len);

/* The body {"status":"failed","error":{"code":code,"message":message}} as a malloc'd
 * string; NULL on ENOMEM. */
char *sim_json_error_body(const char *code, const char *message, size_t *len);

/* Is v (which may be NULL for JSON null) a string equal to s? */
int sim_json_is_string(json_object *v, const char *s);

#endif
