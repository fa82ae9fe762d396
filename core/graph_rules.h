/*
 * graph_rules.h - the rules of the graph contract (sofiia/graph.h) that the
 * daemon enforces on a plugin: what a descriptor must hold, what its settings
 * and deadline may declare, what a tool call, an event or a failure code may
 * be, and how long a run may last.  The registry, the host functions and the
 * SDK's test kit (libsofiia-sdk-test) all call these, so a graph that passes
 * its unit tests on the kit meets exactly the checks of the daemon.
 *
 * Every check returns 0, or a negative code with a one-line reason in why.
 */
#ifndef SV_GRAPH_RULES_H
#define SV_GRAPH_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <sofiia/graph.h>

/* Most settings a graph may declare. */
#define SV_RULE_MAX_SETTINGS 64

/* Is s 1..max characters of [a-z0-9_] (graph, node and setting names)? */
int sv_rule_name(const char *s, size_t max);
/* Is s 1..max characters of [A-Za-z0-9_.-] (tools, actions, event types,
 * error codes)? */
int sv_rule_word(const char *s, size_t max);

/* The version fields, read before anything else: -EINVAL when the major
 * differs or the minor is newer than this build's. */
int sv_rule_abi(const sv_graph *g, char *why, size_t len);
/* The rest of the descriptor (size, names, nodes, next, entry, schema text,
 * and for ABI >= 1.1 the settings' declarations and defaults and the
 * deadline's numbers).  Call after sv_rule_abi.  -EINVAL. */
int sv_rule_descriptor(const sv_graph *g, char *why, size_t len);
/* Parse and check the input schema, and the deadline's input path against
 * it; *schema is a new reference on success.  -EINVAL. */
int sv_rule_schema(const sv_graph *g, json_object **schema, char *why, size_t len);

/* The settings a descriptor declares (NULL and 0 before ABI 1.1). */
const sv_setting *sv_rule_settings(const sv_graph *g, uint32_t *n);
/* The deadline a descriptor declares ({0} before ABI 1.1). */
sv_deadline sv_rule_deadline(const sv_graph *g);
/* "integer", "number", "boolean", "string". */
const char *sv_rule_setting_type(int type);
/*
 * Parse text as a value of setting s: type and range.  *out a new json
 * int, double, boolean or string.  -ERANGE with why saying what is
 * accepted, e.g. "out of range (expected 1..8760)".
 */
int sv_rule_setting_value(const sv_setting *s, const char *text, json_object **out, char *why,
                          size_t len);

/*
 * A run's deadline in milliseconds from its creation: the input's value at
 * deadline.input (seconds, > 0) up to the maximum, else the graph's
 * default, else default_ms (RUN_DEFAULT_TIMEOUT_SEC).  *from says which
 * (for the timeout's message): "input", "graph" or "daemon".
 */
int64_t sv_rule_deadline_ms(const sv_graph *g, json_object *input, int64_t default_ms,
                            const char **from);

/* host->tool_call()'s checks before any call: SV_OK, or SV_EINVAL with
 * err->code "bad_request" and a message. */
int sv_rule_tool_call(const char *tool, const char *action, json_object *params, sv_error *err);
/* host->event()'s checks: a word that is not one of the daemon's own types,
 * details an object or NULL.  SV_OK or SV_EINVAL. */
int sv_rule_event(const char *type, json_object *details);
/* The code host->fail() records: code itself, or "node_failed". */
const char *sv_rule_fail_code(const char *code);

#endif
