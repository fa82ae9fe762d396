/*
 * test_settings - a graph of ABI 1.1 that declares a setting of each type
 * (one with a second variable, TEST_SETTINGS_LIMIT) and a deadline set by
 * its input, and written with the SDK's helpers.  Its node loops `loops`
 * times, waiting `delay_ms` each time, then reports the settings it reads.
 *   BAD_DEFAULT  the limit's default is out of its own range: refused.
 *   VARIANT      the same name and version, other code (a same-version
 *                replacement).
 */
#include <sofiia/graph.h>

static int tick(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    int64_t n = sv_state_incr(ctx, host, "loops");
    if (n < 0)
        return sv_oom(ctx, host);
    if (n <= sv_input_int(ctx, host, "loops", 0)) {
        step->next = "tick";
        step->delay_ms = (uint32_t)sv_input_int(ctx, host, "delay_ms", 0);
        return SV_OK;
    }
    json_object *r =
        sv_params("{'limit': %lld, 'mode': %s, 'verbose': %b, 'ratio': %g, "
                  "'deadline_ms': %lld, 'loops': %lld}",
                  (long long)sv_setting_int(host, "limit", -1), sv_setting_str(host, "mode", "?"),
                  sv_setting_bool(host, "verbose", 0), sv_setting_num(host, "ratio", -1),
                  (long long)(host->deadline_ms(ctx) - host->created_ms(ctx)), (long long)n - 1);
    if (!r)
        return sv_oom(ctx, host);
#ifdef VARIANT
    json_object_object_add(r, "variant", json_object_new_boolean(1));
#endif
    host->set_result(ctx, r);
    return SV_OK;
}

static const sv_node nodes[] = {{.name = "tick", .run = tick, .next = NULL}};

static const sv_setting settings[] = {
#ifdef BAD_DEFAULT
    {.name = "limit", .type = SV_SETTING_INT, .def = "1000", .min = 1, .max = 100},
#else
    {.name = "limit",
     .type = SV_SETTING_INT,
     .def = "10",
     .min = 1,
     .max = 100,
     .env = "TEST_SETTINGS_LIMIT",
     .description = "how many of something"},
#endif
    {.name = "mode", .type = SV_SETTING_STRING, .def = "fast", .min = 1, .max = 16},
    {.name = "verbose", .type = SV_SETTING_BOOL, .def = "false"},
    {.name = "ratio", .type = SV_SETTING_NUMBER, .def = "0.5", .min = 0, .max = 1},
};

SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
    SV_GRAPH_ABI,
    .name = "test_settings",
    .version = "1.1.0",
    .description = "Settings and a deadline (tests)",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"loops\":{\"type\":\"integer\",\"default\":0,\"minimum\":0},"
                    "\"delay_ms\":{\"type\":\"integer\",\"default\":0,\"minimum\":0},"
                    "\"deadline_sec\":{\"type\":\"number\",\"minimum\":0.1}}}",
    .nodes = nodes,
    .n_nodes = 1,
    .entry = "tick",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .deadline = {.default_sec = 30, .max_sec = 60, .input = "deadline_sec"},
};
