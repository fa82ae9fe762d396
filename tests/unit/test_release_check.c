/*
 * test_release_check.c - unit tests of the release_check graph: the pure
 * logic (schema, normalisation, summary) on its own, then whole runs through
 * the mock host.
 */
#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofiia/graph.h>

#include "mock_host.h"
#include "rc_logic.h"
#include "rc_nodes.h"

extern const sv_graph sv_graph_descriptor;

#define TOOL RC_TOOL
#define S(x) ((x) ? (x) : "(null)")
#define MAX_STEPS 64

/* ---- small JSON helpers ------------------------------------------------- */

/* The value at a path like "gates[1].name" or "timeouts.overall_sec". */
static json_object *jget(json_object *o, const char *path)
{
    char key[128];
    const char *p = path;
    while (o && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            if (!json_object_is_type(o, json_type_array) || *end != ']')
                return NULL;
            o = json_object_array_get_idx(o, (size_t)idx);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(o, key, &o))
            return NULL;
        p += n;
    }
    return o;
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = jget(o, path);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static long long jint(json_object *o, const char *path, long long def)
{
    json_object *v = jget(o, path);
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

static int jbool(json_object *o, const char *path, int def)
{
    json_object *v = jget(o, path);
    return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

static size_t jlen(json_object *o, const char *path)
{
    json_object *v = jget(o, path);
    return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : (size_t)-1;
}

/* Is `o` equal to the JSON text `text`? */
static int jeq(json_object *o, const char *text)
{
    json_object *t = json_tokener_parse(text);
    int eq = json_object_equal(o, t);
    json_object_put(t);
    return eq;
}

/* ---- schema and descriptor ---------------------------------------------- */

static void test_schema_defaults(void)
{
    json_object *s = json_tokener_parse(rc_input_schema), *props;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(S(jstr(s, "type")), "object");
    props = jget(s, "properties");
    CU_ASSERT_FATAL(json_object_is_type(props, json_type_object));
    CU_ASSERT_EQUAL(json_object_object_length(props), 13);

    CU_ASSERT_TRUE(jeq(jget(props, "service_name.default"), "\"unknown\""));
    CU_ASSERT_TRUE(jeq(jget(props, "diff_text.default"), "\"\""));
    CU_ASSERT_TRUE(jeq(jget(props, "fail_fast.default"), "true"));
    CU_ASSERT_TRUE(jeq(jget(props, "run_deps.default"), "true"));
    CU_ASSERT_TRUE(jeq(jget(props, "run_drift.default"), "true"));
    CU_ASSERT_TRUE(jeq(jget(props, "run_smoke.default"), "false"));
    CU_ASSERT_TRUE(jeq(jget(props, "deps_targets.default"), "[\"python\",\"node\"]"));
    CU_ASSERT_TRUE(jeq(jget(props, "deps_vuln_mode.default"), "\"offline_cache\""));
    CU_ASSERT_TRUE(jeq(jget(props, "deps_fail_on.default"), "[\"CRITICAL\",\"HIGH\"]"));
    CU_ASSERT_TRUE(jeq(jget(props, "drift_categories.default"),
                       "[\"openapi\",\"schema\",\"config\",\"dependencies\",\"infra\"]"));
    CU_ASSERT_TRUE(jeq(jget(props, "risk_profile.default"), "\"default\""));
    CU_ASSERT_TRUE(jeq(jget(props, "timeouts.default"), "{\"overall_sec\":180}"));
    CU_ASSERT_TRUE(jeq(jget(props, "timeouts.properties.overall_sec.default"), "180"));
    CU_ASSERT_TRUE(jeq(jget(props, "timeouts.properties.overall_sec.minimum"), "1"));
    CU_ASSERT_TRUE(jeq(jget(props, "timeouts.properties.overall_sec.maximum"), "86400"));
    CU_ASSERT_STRING_EQUAL(S(jstr(props, "timeouts.properties.overall_sec.type")), "number");
    CU_ASSERT_STRING_EQUAL(S(jstr(props, "poll_interval_ms.type")), "integer");
    CU_ASSERT_TRUE(jeq(jget(props, "poll_interval_ms.default"), "1000"));
    CU_ASSERT_TRUE(jeq(jget(props, "poll_interval_ms.minimum"), "0"));
    CU_ASSERT_TRUE(jeq(jget(props, "poll_interval_ms.maximum"), "60000"));

    /* Types as the seed's table says; every property described. */
    static const char *const types[][2] = {
        {"service_name", "string"},      {"diff_text", "string"},      {"fail_fast", "boolean"},
        {"run_deps", "boolean"},         {"run_drift", "boolean"},     {"run_smoke", "boolean"},
        {"deps_targets", "array"},       {"deps_vuln_mode", "string"}, {"deps_fail_on", "array"},
        {"drift_categories", "array"},   {"risk_profile", "string"},   {"timeouts", "object"},
        {"poll_interval_ms", "integer"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        json_object *p = jget(props, types[i][0]);
        CU_ASSERT_PTR_NOT_NULL(p);
        CU_ASSERT_STRING_EQUAL(S(jstr(p, "type")), types[i][1]);
        CU_ASSERT_PTR_NOT_NULL(jstr(p, "description"));
        if (strcmp(types[i][1], "array") == 0)
            CU_ASSERT_STRING_EQUAL(S(jstr(p, "items.type")), "string");
    }
    CU_ASSERT_PTR_NOT_NULL(jstr(props, "timeouts.properties.overall_sec.description"));
    json_object_put(s);
}

static void test_descriptor(void)
{
    const sv_graph *g = &sv_graph_descriptor;
    CU_ASSERT_EQUAL(g->abi_major, SV_ABI_MAJOR);
    CU_ASSERT_EQUAL(g->abi_minor, SV_ABI_MINOR);
    CU_ASSERT_EQUAL(g->size, sizeof(sv_graph));
    CU_ASSERT_STRING_EQUAL(g->name, "release_check");
    CU_ASSERT_STRING_EQUAL(g->entry, "start_job");
    CU_ASSERT_EQUAL_FATAL(g->n_nodes, 3);
    CU_ASSERT_STRING_EQUAL(g->nodes[0].name, "start_job");
    CU_ASSERT_STRING_EQUAL(g->nodes[1].name, "poll_job");
    CU_ASSERT_STRING_EQUAL(g->nodes[2].name, "finalize");
    CU_ASSERT_PTR_NULL(g->nodes[2].next);
    CU_ASSERT_PTR_NOT_NULL(g->on_cancel);
    CU_ASSERT_PTR_EQUAL(g->input_schema, rc_input_schema);
}

/* ---- gate statuses and job phases ---------------------------------------- */

static enum rc_gate_status status_of(const char *text)
{
    json_object *v = text ? json_tokener_parse(text) : NULL;
    enum rc_gate_status st = rc_gate_status_from_json(v);
    json_object_put(v);
    return st;
}

static void test_gate_status_mapping(void)
{
    CU_ASSERT_EQUAL(status_of("\"pass\""), RC_GATE_PASS);
    CU_ASSERT_EQUAL(status_of("\"passed\""), RC_GATE_PASS);
    CU_ASSERT_EQUAL(status_of("\"ok\""), RC_GATE_PASS);
    CU_ASSERT_EQUAL(status_of("\"OK\""), RC_GATE_PASS);
    CU_ASSERT_EQUAL(status_of("true"), RC_GATE_PASS);
    CU_ASSERT_EQUAL(status_of("\"fail\""), RC_GATE_FAIL);
    CU_ASSERT_EQUAL(status_of("\"failed\""), RC_GATE_FAIL);
    CU_ASSERT_EQUAL(status_of("false"), RC_GATE_FAIL);
    CU_ASSERT_EQUAL(status_of("\"skip\""), RC_GATE_SKIPPED);
    CU_ASSERT_EQUAL(status_of("\"skipped\""), RC_GATE_SKIPPED);
    CU_ASSERT_EQUAL(status_of("\"error\""), RC_GATE_ERROR);
    CU_ASSERT_EQUAL(status_of("\"weird\""), RC_GATE_ERROR);
    CU_ASSERT_EQUAL(status_of("\"\""), RC_GATE_ERROR);
    CU_ASSERT_EQUAL(status_of("1"), RC_GATE_ERROR);
    CU_ASSERT_EQUAL(status_of("{}"), RC_GATE_ERROR);
    CU_ASSERT_EQUAL(status_of("[]"), RC_GATE_ERROR);
    CU_ASSERT_EQUAL(status_of(NULL), RC_GATE_ERROR);
    CU_ASSERT_STRING_EQUAL(rc_gate_status_name(RC_GATE_PASS), "pass");
    CU_ASSERT_STRING_EQUAL(rc_gate_status_name(RC_GATE_FAIL), "fail");
    CU_ASSERT_STRING_EQUAL(rc_gate_status_name(RC_GATE_SKIPPED), "skipped");
    CU_ASSERT_STRING_EQUAL(rc_gate_status_name(RC_GATE_ERROR), "error");
}

static enum rc_job_phase phase_of(const char *text)
{
    json_object *v = text ? json_tokener_parse(text) : NULL;
    enum rc_job_phase p = rc_job_phase_from_json(v);
    json_object_put(v);
    return p;
}

static void test_job_phase_mapping(void)
{
    CU_ASSERT_EQUAL(phase_of("\"queued\""), RC_JOB_PENDING);
    CU_ASSERT_EQUAL(phase_of("\"running\""), RC_JOB_PENDING);
    CU_ASSERT_EQUAL(phase_of("\"something_new\""), RC_JOB_PENDING);
    CU_ASSERT_EQUAL(phase_of("42"), RC_JOB_PENDING);
    CU_ASSERT_EQUAL(phase_of(NULL), RC_JOB_PENDING);
    CU_ASSERT_EQUAL(phase_of("\"succeeded\""), RC_JOB_SUCCEEDED);
    CU_ASSERT_EQUAL(phase_of("\"completed\""), RC_JOB_SUCCEEDED);
    CU_ASSERT_EQUAL(phase_of("\"failed\""), RC_JOB_FAILED);
    CU_ASSERT_EQUAL(phase_of("\"cancelled\""), RC_JOB_FAILED);
}

/* ---- gates normalisation ------------------------------------------------ */

/* Normalise the gates given as JSON text (NULL = missing); caller puts. */
static json_object *gates_of(const char *text)
{
    json_object *raw = text ? json_tokener_parse(text) : NULL, *out = NULL;
    CU_ASSERT_EQUAL(rc_gates_normalise(raw, &out), 0);
    json_object_put(raw);
    return out;
}

static void test_gates_missing_or_odd(void)
{
    static const char *const odd[] = {NULL, "null", "\"deps\"", "42", "true", "[]", "{}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        json_object *g = gates_of(odd[i]);
        CU_ASSERT_TRUE(json_object_is_type(g, json_type_array));
        CU_ASSERT_EQUAL(json_object_array_length(g), 0);
        json_object_put(g);
    }
}

static void test_gates_array(void)
{
    json_object *g = gates_of("[{\"name\":\"pr_review\",\"status\":\"pass\"},"
                              "{\"name\":\"deps\",\"status\":\"FAILED\",\"details\":{\"n\":3}},"
                              "{\"name\":\"drift\",\"status\":\"skip\"},"
                              "{\"name\":\"smoke\",\"status\":\"exploded\"},"
                              "{\"status\":\"ok\"},"
                              "{\"name\":\"\",\"status\":true},"
                              "{\"name\":7,\"pass\":false},"
                              "{\"gate\":\"privacy\"},"
                              "\"passed\", null, 5]");
    CU_ASSERT_TRUE(jeq(g, "[{\"name\":\"pr_review\",\"status\":\"pass\"},"
                          "{\"name\":\"deps\",\"status\":\"fail\"},"
                          "{\"name\":\"drift\",\"status\":\"skipped\"},"
                          "{\"name\":\"smoke\",\"status\":\"error\"},"
                          "{\"name\":\"gate_5\",\"status\":\"pass\"},"
                          "{\"name\":\"gate_6\",\"status\":\"pass\"},"
                          "{\"name\":\"gate_7\",\"status\":\"fail\"},"
                          "{\"name\":\"privacy\",\"status\":\"error\"},"
                          "{\"name\":\"gate_9\",\"status\":\"pass\"},"
                          "{\"name\":\"gate_10\",\"status\":\"error\"},"
                          "{\"name\":\"gate_11\",\"status\":\"error\"}]"));
    json_object_put(g);
}

static void test_gates_object_map(void)
{
    json_object *g = gates_of("{\"deps\":\"fail\",\"drift\":\"passed\",\"smoke\":{\"status\":"
                              "\"skip\"},\"privacy\":true,\"cost\":null}");
    CU_ASSERT_TRUE(jeq(g, "[{\"name\":\"deps\",\"status\":\"fail\"},"
                          "{\"name\":\"drift\",\"status\":\"pass\"},"
                          "{\"name\":\"smoke\",\"status\":\"skipped\"},"
                          "{\"name\":\"privacy\",\"status\":\"pass\"},"
                          "{\"name\":\"cost\",\"status\":\"error\"}]"));
    json_object_put(g);
}

static void test_gates_huge_and_long(void)
{
    json_object *raw = json_object_new_array(), *out = NULL;
    for (int i = 0; i < 5000; i++)
        json_object_array_add(raw, json_object_new_string("fail"));
    CU_ASSERT_EQUAL(rc_gates_normalise(raw, &out), 0);
    CU_ASSERT_EQUAL(json_object_array_length(out), RC_MAX_GATES);
    json_object_put(out);
    json_object_put(raw);

    /* A long name made of 3-byte characters is cut on a character boundary. */
    char name[3 * 200 + 1] = "";
    for (int i = 0; i < 200; i++)
        strcat(name, "\xe2\x82\xac");
    raw = json_object_new_array();
    json_object *item = json_object_new_object();
    json_object_object_add(item, "name", json_object_new_string(name));
    json_object_object_add(item, "status", json_object_new_string("pass"));
    json_object_array_add(raw, item);
    CU_ASSERT_EQUAL(rc_gates_normalise(raw, &out), 0);
    const char *cut = jstr(out, "[0].name");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    CU_ASSERT_TRUE(strlen(cut) <= RC_MAX_GATE_NAME);
    CU_ASSERT_EQUAL(strlen(cut) % 3, 0);
    json_object_put(out);
    json_object_put(raw);
}

/* ---- summary -------------------------------------------------------------- */

static void summary_is(const char *gates_text, int job_pass, const char *want)
{
    char buf[RC_SUMMARY_LEN];
    json_object *g = gates_of(gates_text);
    rc_summary_format(g, job_pass, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "\n  summary: got \"%s\", want \"%s\"\n", buf, want);
    json_object_put(g);
}

static void test_summary_wording(void)
{
    summary_is("{\"pr_review\":\"pass\",\"deps\":\"pass\",\"drift\":\"pass\",\"smoke\":\"pass\","
               "\"privacy\":\"pass\"}",
               -1, "All 5 gates passed.");
    summary_is("{\"pr_review\":\"pass\",\"deps\":\"fail\",\"drift\":\"fail\",\"smoke\":\"pass\","
               "\"privacy\":\"pass\"}",
               -1, "2 of 5 gates failed: deps, drift.");
    summary_is(NULL, -1, "No gates were reported.");
    summary_is("[]", 0, "No gates were reported. The job reported pass: false.");
    summary_is("{\"deps\":\"pass\"}", -1, "1 gate passed.");
    summary_is("{\"deps\":\"fail\"}", -1, "1 of 1 gate failed: deps.");
    summary_is("{\"deps\":\"fail\",\"drift\":\"weird\",\"smoke\":\"pass\"}", -1,
               "2 of 3 gates failed: deps, drift (error).");
    summary_is("{\"deps\":\"pass\",\"smoke\":\"skipped\"}", -1, "1 of 2 gates passed, 1 skipped.");
    summary_is("{\"deps\":\"skip\",\"smoke\":\"skipped\"}", -1, "No gate ran: 2 skipped.");
    summary_is("{\"deps\":\"pass\"}", 0, "1 gate passed. The job reported pass: false.");
    summary_is("{\"deps\":\"fail\"}", 1, "1 of 1 gate failed: deps. The job reported pass: true.");
    summary_is("[false,false,false,false,false,false,false,false,false,false,false,false]", -1,
               "12 of 12 gates failed: gate_1, gate_2, gate_3, gate_4, gate_5, gate_6, gate_7, "
               "gate_8, gate_9, gate_10, and 2 more.");

    /* A tiny buffer is cut, terminated, and never split inside a character. */
    char small[8];
    json_object *g = gates_of("{\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\":\"fail\"}");
    rc_summary_format(g, -1, small, sizeof small);
    CU_ASSERT_EQUAL(strlen(small), 7);
    rc_summary_format(g, -1, small, 1);
    CU_ASSERT_STRING_EQUAL(small, "");
    json_object_put(g);
}

static void test_utf8_trim(void)
{
    char a[] = "ab\xe2\x82";     /* cut 3-byte sequence */
    char b[] = "ab\xe2\x82\xac"; /* complete */
    char c[] = "ab\xc3";         /* lone lead byte */
    char d[] = "abc";
    rc_utf8_trim(a);
    rc_utf8_trim(b);
    rc_utf8_trim(c);
    rc_utf8_trim(d);
    CU_ASSERT_STRING_EQUAL(a, "ab");
    CU_ASSERT_STRING_EQUAL(b, "ab\xe2\x82\xac");
    CU_ASSERT_STRING_EQUAL(c, "ab");
    CU_ASSERT_STRING_EQUAL(d, "abc");
}

/* ---- recommendations --------------------------------------------------- */

static json_object *recs_of(const char *text)
{
    json_object *raw = text ? json_tokener_parse(text) : NULL, *out = NULL;
    CU_ASSERT_EQUAL(rc_recommendations_normalise(raw, &out), 0);
    json_object_put(raw);
    return out;
}

static void test_recommendations(void)
{
    json_object *r = recs_of("[\"Pin urllib3\",\"Update the OpenAPI spec\"]");
    CU_ASSERT_TRUE(jeq(r, "[\"Pin urllib3\",\"Update the OpenAPI spec\"]"));
    json_object_put(r);

    r = recs_of("[\"a\",{\"text\":\"b\"},{\"message\":\"c\"},{\"title\":\"d\"},{\"x\":1},"
                "null,[\"e\"],3,true,\"\"]");
    CU_ASSERT_TRUE(jeq(r, "[\"a\",\"b\",\"c\",\"d\",\"3\",\"true\"]"));
    json_object_put(r);

    r = recs_of("\"Rotate the key\"");
    CU_ASSERT_TRUE(jeq(r, "[\"Rotate the key\"]"));
    json_object_put(r);

    static const char *const none[] = {NULL, "null", "{}", "17", "\"\""};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        r = recs_of(none[i]);
        CU_ASSERT_TRUE(jeq(r, "[]"));
        json_object_put(r);
    }

    json_object *raw = json_object_new_array();
    for (int i = 0; i < 1000; i++)
        json_object_array_add(raw, json_object_new_string("x"));
    CU_ASSERT_EQUAL(rc_recommendations_normalise(raw, &r), 0);
    CU_ASSERT_EQUAL(json_object_array_length(r), RC_MAX_RECOMMENDATIONS);
    json_object_put(r);
    json_object_put(raw);
}

/* ---- the whole result ------------------------------------------------- */

static json_object *result_of(const char *text, int64_t fallback)
{
    json_object *raw = text ? json_tokener_parse(text) : NULL, *out = NULL;
    CU_ASSERT_EQUAL(rc_result_build(raw, fallback, &out), 0);
    json_object_put(raw);
    return out;
}

static void test_result_shape_whatever_the_job_said(void)
{
    static const char *const odd[] = {NULL,
                                      "null",
                                      "[]",
                                      "\"done\"",
                                      "7",
                                      "{}",
                                      "{\"gates\":null,\"recommendations\":5,\"pass\":\"yes\","
                                      "\"elapsed_ms\":\"soon\"}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        json_object *r = result_of(odd[i], 1234);
        CU_ASSERT_EQUAL(json_object_object_length(r), 5);
        CU_ASSERT_EQUAL(jbool(r, "pass", -1), 1);
        CU_ASSERT_EQUAL(jlen(r, "gates"), 0);
        CU_ASSERT_EQUAL(jlen(r, "recommendations"), 0);
        CU_ASSERT_STRING_EQUAL(S(jstr(r, "summary")), "No gates were reported.");
        CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 1234);
        json_object_put(r);
    }
}

static void test_result_pass_and_elapsed(void)
{
    /* pass from the gates when the job gives none */
    json_object *r = result_of("{\"gates\":{\"deps\":\"fail\"},\"elapsed_ms\":4200}", 9);
    CU_ASSERT_EQUAL(jbool(r, "pass", -1), 0);
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 4200);
    json_object_put(r);

    /* an errored gate is not a pass either */
    r = result_of("{\"gates\":[{\"name\":\"deps\",\"status\":\"???\"}]}", 9);
    CU_ASSERT_EQUAL(jbool(r, "pass", -1), 0);
    json_object_put(r);

    /* the job's own boolean verdict wins */
    r = result_of("{\"pass\":true,\"gates\":{\"deps\":\"fail\"}}", 9);
    CU_ASSERT_EQUAL(jbool(r, "pass", -1), 1);
    json_object_put(r);

    r = result_of("{\"elapsed_ms\":41.6}", 9);
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 42);
    json_object_put(r);

    r = result_of("{\"elapsed_ms\":-5}", 9);
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 9);
    json_object_put(r);

    r = result_of("{\"elapsed_ms\":1e300}", 9);
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 9);
    json_object_put(r);

    /* a clock that went backwards never gives a negative time */
    r = result_of("{}", -50);
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 0);
    json_object_put(r);

    r = result_of("{\"pass\":false,\"gates\":[{\"name\":\"pr_review\",\"status\":\"pass\"}],"
                  "\"recommendations\":[\"Review the diff\"],\"summary\":\"ignored\","
                  "\"elapsed_ms\":10}",
                  9);
    CU_ASSERT_TRUE(jeq(r,
                       "{\"pass\":false,\"gates\":[{\"name\":\"pr_review\",\"status\":\"pass\"}],"
                       "\"recommendations\":[\"Review the diff\"],"
                       "\"summary\":\"1 gate passed. The job reported pass: false.\","
                       "\"elapsed_ms\":10}"));
    json_object_put(r);
}

/* ---- start params, poll interval, job ids, job errors --------------- */

static void test_start_params(void)
{
    json_object *in = json_tokener_parse(
        "{\"service_name\":\"router\",\"diff_text\":\"\",\"fail_fast\":true,\"run_deps\":true,"
        "\"run_drift\":false,\"run_smoke\":false,\"deps_targets\":[\"python\"],"
        "\"deps_vuln_mode\":\"offline_cache\",\"deps_fail_on\":[\"CRITICAL\"],"
        "\"drift_categories\":[\"openapi\"],\"risk_profile\":\"default\","
        "\"timeouts\":{\"overall_sec\":180},\"poll_interval_ms\":1000}");
    json_object *p = NULL;
    CU_ASSERT_EQUAL(rc_start_params_build(in, &p), 0);
    CU_ASSERT_STRING_EQUAL(S(jstr(p, "task_id")), "release_check");
    CU_ASSERT_EQUAL(json_object_object_length(jget(p, "inputs")), 11);
    CU_ASSERT_PTR_NULL(jget(p, "inputs.timeouts"));
    CU_ASSERT_PTR_NULL(jget(p, "inputs.poll_interval_ms"));
    CU_ASSERT_STRING_EQUAL(S(jstr(p, "inputs.service_name")), "router");
    CU_ASSERT_TRUE(jeq(jget(p, "inputs.deps_targets"), "[\"python\"]"));
    /* deep copies: the input is not shared */
    CU_ASSERT_PTR_NOT_EQUAL(jget(p, "inputs.deps_targets"), jget(in, "deps_targets"));
    json_object_put(p);
    json_object_put(in);

    CU_ASSERT_EQUAL(rc_start_params_build(NULL, &p), 0);
    CU_ASSERT_TRUE(jeq(p, "{\"task_id\":\"release_check\",\"inputs\":{}}"));
    json_object_put(p);
}

static void test_poll_interval(void)
{
    static const struct {
        const char *input;
        uint32_t want;
    } cases[] = {
        {"{}", 1000},
        {"{\"poll_interval_ms\":250}", 250},
        {"{\"poll_interval_ms\":0}", 0},
        {"{\"poll_interval_ms\":-3}", 0},
        {"{\"poll_interval_ms\":9999999}", 60000},
        {"{\"poll_interval_ms\":\"5\"}", 1000},
        {"[]", 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *in = json_tokener_parse(cases[i].input);
        CU_ASSERT_EQUAL(rc_input_poll_interval_ms(in), cases[i].want);
        json_object_put(in);
    }
}

static void test_job_id(void)
{
    char id[RC_MAX_JOB_ID + 1];
    json_object *v = json_object_new_string("job-1");
    rc_job_id_from_json(v, id, sizeof id);
    CU_ASSERT_STRING_EQUAL(id, "job-1");
    json_object_put(v);
    v = json_object_new_int64(42);
    rc_job_id_from_json(v, id, sizeof id);
    CU_ASSERT_STRING_EQUAL(id, "42");
    json_object_put(v);
    v = json_object_new_string("");
    rc_job_id_from_json(v, id, sizeof id);
    CU_ASSERT_STRING_EQUAL(id, "");
    json_object_put(v);
    char big[RC_MAX_JOB_ID + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    v = json_object_new_string(big);
    rc_job_id_from_json(v, id, sizeof id);
    CU_ASSERT_STRING_EQUAL(id, "");
    json_object_put(v);
    rc_job_id_from_json(NULL, id, sizeof id);
    CU_ASSERT_STRING_EQUAL(id, "");
}

static void test_job_error_describe(void)
{
    char buf[256];
    json_object *e =
        json_tokener_parse("{\"code\":\"pipeline_error\",\"message\":\"deps crashed\"}");
    rc_job_error_describe("j1", "failed", e, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "release_check job j1 failed: pipeline_error: deps crashed");
    json_object_put(e);
    e = json_object_new_string("disk full");
    rc_job_error_describe("j1", "cancelled", e, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "release_check job j1 ended with status cancelled: disk full");
    json_object_put(e);
    rc_job_error_describe(NULL, NULL, NULL, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "release_check job failed (no error reported)");
    e = json_tokener_parse("{\"code\":5,\"message\":[]}");
    rc_job_error_describe("j1", "failed", e, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "release_check job j1 failed (no error reported)");
    json_object_put(e);
}

/* ---- whole runs through the mock host --------------------------------- */

#define FIVE_PASS                                                                                  \
    "{\"pr_review\":\"pass\",\"deps\":\"pass\",\"drift\":\"pass\",\"smoke\":\"pass\","             \
    "\"privacy\":\"pass\"}"
#define TWO_FAIL                                                                                   \
    "[{\"name\":\"pr_review\",\"status\":\"pass\"},{\"name\":\"deps\",\"status\":\"fail\"},"       \
    "{\"name\":\"drift\",\"status\":\"fail\"},{\"name\":\"smoke\",\"status\":\"skipped\"},"        \
    "{\"name\":\"privacy\",\"status\":\"pass\"}]"

static mock_host *mock_new(const char *input)
{
    mock_host *m = mock_host_new(input);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

static void test_run_finished_at_start(void)
{
    mock_host *m = mock_new("{\"service_name\":\"router\",\"timeouts\":{\"overall_sec\":180},"
                            "\"poll_interval_ms\":1000}");
    mock_answer_add(m, TOOL, "start_task", SV_OK,
                    "{\"job_id\":\"j1\",\"status\":\"succeeded\",\"result\":{\"pass\":true,"
                    "\"gates\":" FIVE_PASS ",\"recommendations\":[],\"elapsed_ms\":4200}}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,finalize");
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), 0);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), 0);
    CU_ASSERT_EQUAL_FATAL(mock_n_calls(m), 1);
    const mock_call *c = mock_get_call(m, 0);
    CU_ASSERT_STRING_EQUAL(c->node, "start_job");
    CU_ASSERT_TRUE(jeq(c->params, "{\"task_id\":\"release_check\",\"inputs\":{\"service_name\":"
                                  "\"router\"}}"));
    json_object *r = mock_result(m);
    CU_ASSERT_EQUAL(jbool(r, "pass", -1), 1);
    CU_ASSERT_EQUAL(jlen(r, "gates"), 5);
    CU_ASSERT_STRING_EQUAL(S(jstr(r, "gates[0].name")), "pr_review");
    CU_ASSERT_STRING_EQUAL(S(jstr(r, "summary")), "All 5 gates passed.");
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 4200);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    /* no events carrying anything from the job */
    CU_ASSERT_EQUAL(json_object_array_length(mock_events(m)), 0);
    mock_host_free(m);
}

static void test_run_polls_with_delay(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":250}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"queued\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK,
                    "{\"job_id\":\"j1\",\"status\":\"succeeded\",\"result\":{\"gates\":" TWO_FAIL
                    ",\"recommendations\":[\"Upgrade lodash\"]}}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,poll_job,poll_job,finalize");
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), 3);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), 3 * 250);
    for (int i = 1; i < mock_n_calls(m); i++)
        CU_ASSERT_TRUE(jeq(mock_get_call(m, i)->params, "{\"job_id\":\"j1\"}"));
    CU_ASSERT_EQUAL(jint(mock_state(m), RC_ST_POLLS, -1), 3);
    json_object *r = mock_result(m);
    /* failing gates are a succeeded run with pass false */
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "");
    CU_ASSERT_EQUAL(jbool(r, "pass", -1), 0);
    CU_ASSERT_STRING_EQUAL(S(jstr(r, "summary")), "2 of 5 gates failed: deps, drift.");
    CU_ASSERT_TRUE(jeq(jget(r, "recommendations"), "[\"Upgrade lodash\"]"));
    /* no elapsed_ms from the job: the mock clock moved by the delays only */
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 750);
    mock_host_free(m);
}

static void test_run_default_interval(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"succeeded\"}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), RC_POLL_INTERVAL_DEFAULT_MS);
    CU_ASSERT_STRING_EQUAL(S(jstr(mock_result(m), "summary")), "No gates were reported.");
    mock_host_free(m);
}

static void test_run_job_failed(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":10}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK,
                    "{\"job_id\":\"j1\",\"status\":\"failed\",\"error\":{\"code\":"
                    "\"pipeline_error\",\"message\":\"deps scanner crashed\"}}",
                    NULL);
    int rc = mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0);
    CU_ASSERT_TRUE(rc < 0 && rc != SV_ECANCELLED);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,finalize");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "job_failed");
    CU_ASSERT_STRING_EQUAL(mock_fail_message(m),
                           "release_check job j1 failed: pipeline_error: deps scanner crashed");
    CU_ASSERT_PTR_NULL(mock_result(m));
    CU_ASSERT_EQUAL(mock_on_cancel_calls(m), 0);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 0);
    mock_host_free(m);
}

static void test_run_job_failed_at_start(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"status\":\"failed\",\"error\":\"no runner\"}",
                    NULL);
    CU_ASSERT_TRUE(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0) < 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,finalize");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "job_failed");
    CU_ASSERT_STRING_EQUAL(mock_fail_message(m), "release_check job failed: no runner");
    mock_host_free(m);
}

static void test_run_start_tool_failure(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_ETOOL, NULL, "forbidden");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "forbidden");
    CU_ASSERT_PTR_NOT_NULL(strstr(mock_fail_message(m), "start_task"));
    CU_ASSERT_PTR_NULL(mock_result(m));
    mock_host_free(m);
}

static void test_run_bad_start_answers(void)
{
    static const char *const bad[] = {
        "{\"status\":\"running\"}",                /* no job id */
        "{\"job_id\":\"\",\"status\":\"queued\"}", /* empty job id */
        "{\"job_id\":[1],\"status\":\"queued\"}",  /* odd job id */
        "[]",
        "\"j1\"",
        NULL, /* no data at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mock_host *m = mock_new("{}");
        mock_answer_add(m, TOOL, "start_task", SV_OK, bad[i], NULL);
        CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ERR);
        CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "bad_job");
        CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job");
        mock_host_free(m);
    }
}

static void test_run_odd_answers_survive(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":5}");
    /* numeric job id, no status: polled as a running job */
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":42}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":null,\"job_id\":\"other\"}", NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"succeeded\",\"result\":\"garbage\"}",
                    NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,poll_job,finalize");
    /* the first id stays: a poll answer never renames the job */
    CU_ASSERT_TRUE(jeq(mock_get_call(m, 2)->params, "{\"job_id\":\"42\"}"));
    json_object *r = mock_result(m);
    CU_ASSERT_EQUAL(json_object_object_length(r), 5);
    CU_ASSERT_EQUAL(jbool(r, "pass", -1), 1);
    CU_ASSERT_EQUAL(jlen(r, "gates"), 0);
    CU_ASSERT_EQUAL(jint(r, "elapsed_ms", -1), 10);
    mock_host_free(m);

    /* a get_job answer that is no object fails the run cleanly */
    m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_OK, "[1,2,3]", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ERR);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "bad_job");
    mock_host_free(m);
}

static void test_run_transient_poll_errors(void)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":100}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "unavailable");
    mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "timeout");
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"running\"}", NULL);
    for (int i = 0; i < RC_MAX_POLL_ERRORS - 1; i++)
        mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "unavailable");
    mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"status\":\"succeeded\"}", NULL);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), 0);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), 3 + RC_MAX_POLL_ERRORS);
    CU_ASSERT_EQUAL(mock_total_delay_ms(m), 100 * (3 + RC_MAX_POLL_ERRORS));
    CU_ASSERT_EQUAL(jint(mock_state(m), RC_ST_POLL_ERRORS, -1), 0);
    CU_ASSERT_PTR_NOT_NULL(mock_result(m));
    mock_host_free(m);

    /* five in a row fail the run with that code */
    m = mock_new("{\"poll_interval_ms\":100}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    for (int i = 0; i < RC_MAX_POLL_ERRORS + 2; i++)
        mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "unavailable");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ETOOL);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "get_job"), RC_MAX_POLL_ERRORS);
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "unavailable");
    CU_ASSERT_PTR_NULL(mock_result(m));
    mock_host_free(m);
}

static void test_run_poll_other_tool_error(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_answer_add(m, TOOL, "get_job", SV_ETOOL, NULL, "not_found");
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, 0), SV_ETOOL);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job");
    CU_ASSERT_STRING_EQUAL(mock_fail_code(m), "not_found");
    mock_host_free(m);
}

/* A run cancelled at the given tool call while polling, with that reason. */
static void check_cancel_while_polling(int reason)
{
    mock_host *m = mock_new("{\"poll_interval_ms\":50}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j7\",\"status\":\"running\"}",
                    NULL);
    for (int i = 0; i < 5; i++)
        mock_answer_add(m, TOOL, "get_job", SV_OK, "{\"job_id\":\"j7\",\"status\":\"running\"}",
                        NULL);
    mock_answer_add(m, TOOL, "cancel_job", SV_OK, "{\"job_id\":\"j7\",\"status\":\"cancelled\"}",
                    NULL);
    mock_cancel_at_call(m, 4); /* start, get, get, then the third get is cut */
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, reason), SV_ECANCELLED);
    CU_ASSERT_STRING_EQUAL(mock_path(m), "start_job,poll_job,poll_job,poll_job");
    CU_ASSERT_EQUAL(mock_on_cancel_calls(m), 1);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 1);
    const mock_call *last = mock_get_call(m, mock_n_calls(m) - 1);
    CU_ASSERT_STRING_EQUAL(last->action, "cancel_job");
    CU_ASSERT_TRUE(jeq(last->params, "{\"job_id\":\"j7\"}"));
    CU_ASSERT_EQUAL(jbool(mock_state(m), RC_ST_CANCEL_SENT, 0), 1);
    CU_ASSERT_PTR_NULL(mock_result(m));

    /* a second on_cancel (which the host never makes) still sends nothing */
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), reason);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 1);
    mock_host_free(m);
}

static void test_cancel_during_polling(void)
{
    check_cancel_while_polling(SV_CANCEL_USER);
}

static void test_timeout_during_polling(void)
{
    check_cancel_while_polling(SV_CANCEL_TIMEOUT);
}

static void test_cancel_before_job_exists(void)
{
    mock_host *m = mock_new("{}");
    mock_answer_add(m, TOOL, "start_task", SV_OK, "{\"job_id\":\"j1\",\"status\":\"running\"}",
                    NULL);
    mock_cancel_at_call(m, 1);
    CU_ASSERT_EQUAL(mock_run(m, &sv_graph_descriptor, MAX_STEPS, SV_CANCEL_USER), SV_ECANCELLED);
    CU_ASSERT_EQUAL(mock_on_cancel_calls(m), 1);
    CU_ASSERT_EQUAL(mock_n_calls(m), 1);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 0);
    mock_host_free(m);
}

static void test_cancel_after_job_finished(void)
{
    /* on_cancel on a job known to be finished sends nothing */
    mock_host *m = mock_new("{}");
    json_object *st = mock_state(m);
    json_object_object_add(st, RC_ST_JOB_ID, json_object_new_string("j1"));
    json_object_object_add(st, RC_ST_JOB_STATUS, json_object_new_string("succeeded"));
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), SV_CANCEL_TIMEOUT);
    CU_ASSERT_EQUAL(mock_n_calls(m), 0);
    mock_host_free(m);
}

static void test_cancel_job_error_ignored(void)
{
    mock_host *m = mock_new("{}");
    json_object *st = mock_state(m);
    json_object_object_add(st, RC_ST_JOB_ID, json_object_new_string("j1"));
    json_object_object_add(st, RC_ST_JOB_STATUS, json_object_new_string("running"));
    mock_answer_add(m, TOOL, "cancel_job", SV_ETOOL, NULL, "unavailable");
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), SV_CANCEL_USER);
    sv_graph_descriptor.on_cancel(mock_ctx(m), mock_host_table(m), SV_CANCEL_USER);
    CU_ASSERT_EQUAL(mock_count_calls(m, TOOL, "cancel_job"), 1);
    mock_host_free(m);
}

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } logic[] =
        {
            {"schema defaults", test_schema_defaults},
            {"descriptor", test_descriptor},
            {"gate status mapping", test_gate_status_mapping},
            {"job phase mapping", test_job_phase_mapping},
            {"gates missing or odd", test_gates_missing_or_odd},
            {"gates as array", test_gates_array},
            {"gates as object map", test_gates_object_map},
            {"gates huge and long", test_gates_huge_and_long},
            {"summary wording", test_summary_wording},
            {"utf8 trim", test_utf8_trim},
            {"recommendations", test_recommendations},
            {"result shape whatever the job said", test_result_shape_whatever_the_job_said},
            {"result pass and elapsed", test_result_pass_and_elapsed},
            {"start params", test_start_params},
            {"poll interval", test_poll_interval},
            {"job id", test_job_id},
            {"job error describe", test_job_error_describe},
        },
      runs[] = {
          {"finished at start skips polling", test_run_finished_at_start},
          {"polls with delay", test_run_polls_with_delay},
          {"default poll interval", test_run_default_interval},
          {"job failed", test_run_job_failed},
          {"job failed at start", test_run_job_failed_at_start},
          {"start_task tool failure", test_run_start_tool_failure},
          {"bad start answers", test_run_bad_start_answers},
          {"odd answers survive", test_run_odd_answers_survive},
          {"transient poll errors", test_run_transient_poll_errors},
          {"other poll tool error", test_run_poll_other_tool_error},
          {"cancel during polling", test_cancel_during_polling},
          {"timeout during polling", test_timeout_during_polling},
          {"cancel before job exists", test_cancel_before_job_exists},
          {"cancel after job finished", test_cancel_after_job_finished},
          {"cancel_job error ignored", test_cancel_job_error_ignored},
      };
    unsigned int failures = 1;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s1 = CU_add_suite("release_check logic", NULL, NULL);
    CU_pSuite s2 = CU_add_suite("release_check runs", NULL, NULL);
    if (!s1 || !s2)
        goto out;
    for (size_t i = 0; i < sizeof logic / sizeof logic[0]; i++)
        if (!CU_add_test(s1, logic[i].name, logic[i].fn))
            goto out;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        if (!CU_add_test(s2, runs[i].name, runs[i].fn))
            goto out;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS)
        goto out;
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
out:
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
