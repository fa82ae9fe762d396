/*
 * test_graph_settings.c - the rules of ABI 1.1 declarations (graph_rules.c:
 * settings' types, ranges and defaults, the deadline) and how the daemon
 * resolves the operator's values against them (graph_settings.c: the
 * environment, the config file's sections and keys, precedence, bad values,
 * keys nobody claims, config_int of ABI 1.0).
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "graph_rules.h"
#include "graph_settings.h"
#include "log.h"

static int noop(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    (void)ctx;
    (void)host;
    (void)step;
    return SV_OK;
}

static const sv_node g_nodes[] = {{.name = "only", .run = noop, .next = NULL}};

static const char g_schema[] = "{\"type\":\"object\",\"properties\":{"
                               "\"timeouts\":{\"type\":\"object\",\"properties\":{"
                               "\"overall_sec\":{\"type\":\"number\"}}},"
                               "\"label\":{\"type\":\"string\"}}}";

static sv_setting g_set[] = {
    {.name = "window_h",
     .type = SV_SETTING_INT,
     .def = "24",
     .min = 1,
     .max = 8760,
     .env = "DEMO_WINDOW_H",
     .description = "hours"},
    {.name = "mode", .type = SV_SETTING_STRING, .def = "fast", .min = 1, .max = 8},
    {.name = "strict", .type = SV_SETTING_BOOL, .def = "no"},
    {.name = "ratio", .type = SV_SETTING_NUMBER, .def = "0.25", .min = 0, .max = 1},
};

/* A 1.1 descriptor named demo with the settings above. */
static sv_graph demo(void)
{
    sv_graph g = {SV_GRAPH_ABI,
                  .name = "demo",
                  .version = "1",
                  .input_schema = g_schema,
                  .nodes = g_nodes,
                  .n_nodes = 1,
                  .entry = "only",
                  .settings = g_set,
                  .n_settings = 4,
                  .deadline = {.default_sec = 60, .max_sec = 120, .input = "timeouts.overall_sec"}};
    return g;
}

static char g_why[600];

static void test_setting_values(void)
{
    json_object *v = NULL;
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[0], "48", &v, g_why, sizeof g_why), 0);
    CU_ASSERT_EQUAL(json_object_get_int64(v), 48);
    json_object_put(v);
    static const char *const bad_int[] = {"", " 4", "4 ", "4h", "0", "8761", "1e3", "abc", NULL};
    for (int i = 0; bad_int[i]; i++) {
        CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[0], bad_int[i], &v, g_why, sizeof g_why),
                        -ERANGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "1..8760"));
        CU_ASSERT_PTR_NULL(v);
    }
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[3], "0.5", &v, g_why, sizeof g_why), 0);
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(v), 0.5, 1e-12);
    json_object_put(v);
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[3], "1.5", &v, g_why, sizeof g_why), -ERANGE);
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[3], "nan", &v, g_why, sizeof g_why), -ERANGE);
    static const char *const yes[] = {"true", "1", "YES", "on"}, *const no[] = {"false", "0", "No",
                                                                                "OFF"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[2], yes[i], &v, g_why, sizeof g_why), 0);
        CU_ASSERT_TRUE(json_object_get_boolean(v));
        json_object_put(v);
        CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[2], no[i], &v, g_why, sizeof g_why), 0);
        CU_ASSERT_FALSE(json_object_get_boolean(v));
        json_object_put(v);
    }
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[2], "maybe", &v, g_why, sizeof g_why), -ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "true or false"));
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[1], "slow", &v, g_why, sizeof g_why), 0);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "slow");
    json_object_put(v);
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[1], "", &v, g_why, sizeof g_why), -ERANGE);
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[1], "toolongvalue", &v, g_why, sizeof g_why),
                    -ERANGE);
    CU_ASSERT_EQUAL(sv_rule_setting_value(&g_set[1], "a\nb", &v, g_why, sizeof g_why), -ERANGE);
}

/* sv_rule_descriptor's reason for g with settings set[0..n). */
static const char *declared(sv_setting *set, uint32_t n, sv_deadline d)
{
    sv_graph g = demo();
    g.settings = set;
    g.n_settings = n;
    g.deadline = d;
    g_why[0] = '\0';
    sv_rule_descriptor(&g, g_why, sizeof g_why);
    return g_why;
}

static void test_declarations(void)
{
    sv_graph g = demo();
    sv_deadline none = {0, 0, NULL};
    CU_ASSERT_EQUAL(sv_rule_abi(&g, g_why, sizeof g_why), 0);
    CU_ASSERT_EQUAL(sv_rule_descriptor(&g, g_why, sizeof g_why), 0);
    sv_setting s[2] = {g_set[0], g_set[0]};
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none), "setting window_h is declared twice"));
    s[1].name = "Bad-Name";
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none), "setting #1 needs a name"));
    s[1] = g_set[0];
    s[1].name = "other";
    s[1].type = 9;
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none), "type 9"));
    s[1] = g_set[0];
    s[1].name = "other";
    s[1].def = "0";
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none),
                                  "setting other: default \"0\": out of range (expected 1..8760)"));
    s[1].def = NULL;
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none), "setting other: no default"));
    s[1].def = "5";
    s[1].env = "lower_case";
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none), "is not a variable name"));
    s[1].env = NULL;
    s[1].min = 10;
    s[1].max = 1;
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(s, 2, none), "bad range"));
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(g_set, 1, (sv_deadline){60, 30, NULL}),
                                  "max_sec 30 is below default_sec 60"));
    CU_ASSERT_PTR_NOT_NULL(strstr(declared(g_set, 65, none), "needs 0..64 settings"));
    /* the deadline's input must be a number of the schema */
    g.deadline.input = "label";
    json_object *schema = NULL;
    CU_ASSERT_EQUAL(sv_rule_schema(&g, &schema, g_why, sizeof g_why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "deadline.input \"label\""));
    g.deadline.input = "timeouts.missing";
    CU_ASSERT_EQUAL(sv_rule_schema(&g, &schema, g_why, sizeof g_why), -EINVAL);
    g.deadline.input = "timeouts.overall_sec";
    CU_ASSERT_EQUAL(sv_rule_schema(&g, &schema, g_why, sizeof g_why), 0);
    json_object_put(schema);
    /* a 1.0 descriptor: what follows on_cancel is never read */
    g.abi_minor = 0;
    g.size = (uint32_t)(offsetof(sv_graph, on_cancel) + sizeof(void (*)(void)));
    g.n_settings = 99999;
    CU_ASSERT_EQUAL(sv_rule_descriptor(&g, g_why, sizeof g_why), 0);
    uint32_t n = 1;
    CU_ASSERT_PTR_NULL(sv_rule_settings(&g, &n));
    CU_ASSERT_EQUAL(n, 0);
    /* a 1.1 descriptor must be that long */
    g.abi_minor = 1;
    CU_ASSERT_EQUAL(sv_rule_descriptor(&g, g_why, sizeof g_why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "smaller than ABI 1.1's"));
    /* a newer minor than this build's is refused before anything else */
    g.abi_minor = SV_ABI_MINOR + 1;
    CU_ASSERT_EQUAL(sv_rule_abi(&g, g_why, sizeof g_why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "built for SDK ABI 1."));
}

static void test_deadlines(void)
{
    sv_graph g = demo();
    const char *from = NULL;
    json_object *in = json_tokener_parse("{\"timeouts\":{\"overall_sec\":2.5}}");
    CU_ASSERT_EQUAL(sv_rule_deadline_ms(&g, in, 3600000, &from), 2500);
    CU_ASSERT_STRING_EQUAL(from, "input");
    json_object_put(in);
    /* the input may ask for more than the default, up to the maximum */
    in = json_tokener_parse("{\"timeouts\":{\"overall_sec\":500}}");
    CU_ASSERT_EQUAL(sv_rule_deadline_ms(&g, in, 3600000, &from), 120000);
    json_object_put(in);
    in = json_tokener_parse("{}");
    CU_ASSERT_EQUAL(sv_rule_deadline_ms(&g, in, 3600000, &from), 60000);
    CU_ASSERT_STRING_EQUAL(from, "graph");
    /* none declared: the daemon's */
    g.deadline = (sv_deadline){0, 0, NULL};
    CU_ASSERT_EQUAL(sv_rule_deadline_ms(&g, in, 3600000, &from), 3600000);
    CU_ASSERT_STRING_EQUAL(from, "daemon");
    /* only an input: it can shorten the daemon's, never lengthen it */
    g.deadline.input = "timeouts.overall_sec";
    json_object_put(in);
    in = json_tokener_parse("{\"timeouts\":{\"overall_sec\":99999}}");
    CU_ASSERT_EQUAL(sv_rule_deadline_ms(&g, in, 3600000, &from), 3600000);
    json_object_put(in);
    /* 1.0: always the daemon's */
    g.abi_minor = 0;
    in = json_tokener_parse("{\"timeouts\":{\"overall_sec\":1}}");
    CU_ASSERT_EQUAL(sv_rule_deadline_ms(&g, in, 7000, &from), 7000);
    json_object_put(in);
}

/* Resolve demo's settings against env and file; 0 or -ERANGE. */
static int resolve(char **env, sv_gset_file *file, json_object **values, json_object **info)
{
    sv_graph g = demo();
    sv_gset_setup(env, file, 3600000);
    return sv_gset_resolve(&g, values, info, g_why, sizeof g_why);
}

static void test_resolve(void)
{
    json_object *v = NULL, *info = NULL, *e = NULL;
    /* defaults */
    CU_ASSERT_EQUAL(resolve(NULL, NULL, &v, &info), 0);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                           "{\"window_h\":24,\"mode\":\"fast\",\"strict\":false,\"ratio\":0.25}");
    e = json_object_array_get_idx(info, 0);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
                           "{\"name\":\"window_h\",\"type\":\"integer\",\"description\":\"hours\","
                           "\"default\":24,\"minimum\":1,\"maximum\":8760,\"variables\":["
                           "\"GRAPH_DEMO_WINDOW_H\",\"DEMO_WINDOW_H\"],\"value\":24,\"source\":"
                           "\"default\"}");
    json_object_put(v);
    json_object_put(info);

    /* the environment: GRAPH_ wins over the setting's own variable */
    char *env[] = {"DEMO_WINDOW_H=6", "GRAPH_DEMO_MODE=slow", "PATH=/bin", NULL};
    CU_ASSERT_EQUAL(resolve(env, NULL, &v, &info), 0);
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(v, "window_h")), 6);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(v, "mode")), "slow");
    e = json_object_array_get_idx(info, 0);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(e, "source")),
                           "environment");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(e, "from")),
                           "DEMO_WINDOW_H");
    json_object_put(v);
    json_object_put(info);
    char *both[] = {"DEMO_WINDOW_H=6", "GRAPH_DEMO_WINDOW_H=7", NULL};
    CU_ASSERT_EQUAL(resolve(both, NULL, &v, &info), 0);
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(v, "window_h")), 7);
    json_object_put(v);
    json_object_put(info);

    /* the file: a section (case-insensitive names), top-level keys; the
     * environment wins over it, the last line of the file over earlier ones */
    sv_gset_file *f = NULL;
    CU_ASSERT_EQUAL(sv_gset_file_add(&f, "demo", "Strict", "yes", "/etc/s.conf", 3), 0);
    CU_ASSERT_EQUAL(sv_gset_file_add(&f, "demo", "ratio", "0.75", "/etc/s.conf", 4), 0);
    CU_ASSERT_EQUAL(sv_gset_file_add(&f, NULL, "GRAPH_DEMO_RATIO", "0.5", "/etc/s.conf", 9), 0);
    CU_ASSERT_EQUAL(sv_gset_file_add(&f, NULL, "DEMO_WINDOW_H", "12", "/etc/s.conf", 10), 0);
    CU_ASSERT_EQUAL(resolve(env, f, &v, &info), 0);
    CU_ASSERT_TRUE(json_object_get_boolean(json_object_object_get(v, "strict")));
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_object_get(v, "ratio")), 0.5, 1e-12);
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(v, "window_h")), 6);
    e = json_object_array_get_idx(info, 3);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(e, "from")),
                           "config file /etc/s.conf line 9");
    json_object_put(v);
    json_object_put(info);
    /* every line was claimed: nothing unknown */
    CU_ASSERT_EQUAL(sv_gset_unclaimed(g_why, sizeof g_why), 0);
    /* config_int (ABI 1.0) answers variables a loaded graph declares */
    CU_ASSERT_EQUAL(sv_gset_config_int("DEMO_WINDOW_H", -1), 6);
    CU_ASSERT_EQUAL(sv_gset_config_int("GRAPH_DEMO_WINDOW_H", -1), 6);
    CU_ASSERT_EQUAL(sv_gset_config_int("PATH", -1), -1);
    CU_ASSERT_EQUAL(sv_gset_config_int("GRAPH_DEMO_MODE", -1), -1); /* not a number */

    /* bad values name the variable, or the file and line */
    char *bad[] = {"GRAPH_DEMO_WINDOW_H=0", NULL};
    CU_ASSERT_EQUAL(resolve(bad, NULL, &v, &info), -ERANGE);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_STRING_EQUAL(g_why, "GRAPH_DEMO_WINDOW_H=\"0\": out of range (expected 1..8760) "
                                  "(graph demo's setting window_h)");
    CU_ASSERT_EQUAL(sv_gset_file_add(&f, "demo", "mode", "", "/etc/s.conf", 5), 0);
    CU_ASSERT_EQUAL(resolve(NULL, f, &v, &info), -ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "config file /etc/s.conf line 5: [graph demo] mode=\"\""));
    sv_gset_file_free(f);

    /* a section's key the graph does not declare */
    f = NULL;
    sv_gset_file_add(&f, "demo", "windw_h", "5", "/etc/s.conf", 2);
    CU_ASSERT_EQUAL(resolve(NULL, f, &v, &info), -ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "[graph demo] windw_h: graph demo declares no such"));
    sv_gset_file_free(f);
}

static void test_unclaimed(void)
{
    sv_gset_file *f = NULL;
    json_object *v = NULL, *info = NULL;
    sv_gset_file_add(&f, "other_graph", "x", "1", "/c", 1);
    sv_gset_file_add(&f, NULL, "GRAPH_LATER_X", "1", "/c", 2);
    sv_gset_file_add(&f, NULL, "DEMO_WINDOW_H", "3", "/c", 3);
    /* another graph's section and a GRAPH_ key wait for their graph */
    sv_gset_setup(NULL, f, 3600000);
    CU_ASSERT_EQUAL(sv_gset_unclaimed(g_why, sizeof g_why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_why, "line 3: unknown setting \"DEMO_WINDOW_H\""));
    CU_ASSERT_EQUAL(resolve(NULL, f, &v, &info), 0);
    CU_ASSERT_EQUAL(sv_gset_unclaimed(g_why, sizeof g_why), 0);
    json_object_put(v);
    json_object_put(info);
    sv_gset_file_add(&f, NULL, "RUN_TTL_SECS", "5", "/c", 4);
    sv_gset_setup(NULL, f, 3600000);
    CU_ASSERT_EQUAL(sv_gset_unclaimed(g_why, sizeof g_why), -EINVAL);
    CU_ASSERT_STRING_EQUAL(g_why,
                           "config file /c line 4: unknown setting \"RUN_TTL_SECS\" (neither a "
                           "daemon setting nor one a loaded graph declares; see "
                           "docs/operations.md for the list)");
    sv_gset_file_free(f);
    sv_gset_setup(NULL, NULL, 3600000);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"setting values: types and ranges", test_setting_values},
        {"declarations checked at load", test_declarations},
        {"deadlines", test_deadlines},
        {"operator values resolved", test_resolve},
        {"keys nobody claims", test_unclaimed},
    };
    static const sv_cu_suite suites[] = {
        {.name = "graph settings", SV_CU_TESTS(tests)},
    };
    sv_log_set_level(SV_LEVEL_ERROR);
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
