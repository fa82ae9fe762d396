/*
 * schema.h - the input-schema validator: the JSON Schema subset documented in
 * sofiia/graph.h and docs/plugin-authoring.md.
 */
#ifndef SV_SCHEMA_H
#define SV_SCHEMA_H

#include <stddef.h>
#include <json-c/json.h>
#include <sofiia/graph.h>

/*
 * Check that a graph's schema uses only what the validator supports (run at
 * plugin load).  0, or -EINVAL with a one-line reason in why.
 */
int sv_schema_check(json_object *schema, char *why, size_t why_len);

/*
 * Validate `input` (an object) against `schema` in place: reject unknown
 * fields, fill defaults (deep copies) for missing ones, check types, ranges,
 * lengths, enums and date-time formats, clamp "x-clamp" numbers.  Returns 0,
 * or -EINVAL with err->code "invalid_input", err->field the dotted path
 * ("time_range.from", "deps_targets[1]") and err->message saying what was
 * wrong and what is allowed.  On error `input` may be partly filled: the
 * caller discards it.
 */
int sv_schema_validate(json_object *schema, json_object *input, sv_error *err);

#endif
