/* sim_template.h - fill a scenario answer with values from the request, so one
 * rule can answer many runs ("{{run_id}}", "{{call_id}}", "{{params.NAME}}"). */
#ifndef SIM_TEMPLATE_H
#define SIM_TEMPLATE_H

#include <stddef.h>

#include <json-c/json.h>

/* Does the JSON value v contain, at any depth, a string value that is a template
 * marker? Used at load time so that plain answers are sent without re-parsing. */
int sim_template_present(json_object *v);

/* Parse the JSON text body, replace every string value that is exactly a marker by
 * the request's value (JSON null when the request lacks it) and serialize the result
 * into a malloc'd *out. request is the parsed request body (may be NULL).
 * 0, -EINVAL when body is not JSON, or -ENOMEM. */
int sim_template_render(const char *body, size_t len, json_object *request, char **out,
                        size_t *out_len);

#endif
