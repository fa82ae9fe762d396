/*
 * test_release_check_logic.c - unit tests of release_check's pure logic on
 * its own: the schema and the descriptor, gate statuses and job phases, the
 * normalisation of gates, recommendations and the whole result, the summary,
 * start params, poll interval, job ids and job errors.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofiia/graph.h>

#include "cu_run.h"
#include "rc_logic.h"
#include "rc_nodes.h"
#include "rc_test_support.h"

extern const sv_graph sv_graph_descriptor;

/* ---- schema and descriptor ---------------------------------------------- */

static void test_schema_defaults(void)
{
    json_object *s = json_tokener_parse(rc_input_schema), *props;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(s, "type")), "object");
    props = rct_jget(s, "properties");
    CU_ASSERT_FATAL(json_object_is_type(props, json_type_object));
    CU_ASSERT_EQUAL(json_object_object_length(props), 13);

    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "service_name.default"), "\"unknown\""));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "diff_text.default"), "\"\""));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "fail_fast.default"), "true"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "run_deps.default"), "true"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "run_drift.default"), "true"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "run_smoke.default"), "false"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "deps_targets.default"), "[\"python\",\"node\"]"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "deps_vuln_mode.default"), "\"offline_cache\""));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "deps_fail_on.default"), "[\"CRITICAL\",\"HIGH\"]"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "drift_categories.default"),
                           "[\"openapi\",\"schema\",\"config\",\"dependencies\",\"infra\"]"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "risk_profile.default"), "\"default\""));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "timeouts.default"), "{\"overall_sec\":180}"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "timeouts.properties.overall_sec.default"), "180"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "timeouts.properties.overall_sec.minimum"), "1"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "timeouts.properties.overall_sec.maximum"), "86400"));
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(props, "timeouts.properties.overall_sec.type")),
                           "number");
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(props, "poll_interval_ms.type")), "integer");
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "poll_interval_ms.default"), "1000"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "poll_interval_ms.minimum"), "0"));
    CU_ASSERT_TRUE(rct_jeq(rct_jget(props, "poll_interval_ms.maximum"), "60000"));

    /* Types as the seed's table says; every property described. */
    static const char *const types[][2] = {
        {"service_name", "string"},      {"diff_text", "string"},      {"fail_fast", "boolean"},
        {"run_deps", "boolean"},         {"run_drift", "boolean"},     {"run_smoke", "boolean"},
        {"deps_targets", "array"},       {"deps_vuln_mode", "string"}, {"deps_fail_on", "array"},
        {"drift_categories", "array"},   {"risk_profile", "string"},   {"timeouts", "object"},
        {"poll_interval_ms", "integer"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        json_object *p = rct_jget(props, types[i][0]);
        CU_ASSERT_PTR_NOT_NULL(p);
        CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(p, "type")), types[i][1]);
        CU_ASSERT_PTR_NOT_NULL(rct_jstr(p, "description"));
        if (strcmp(types[i][1], "array") == 0)
            CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(p, "items.type")), "string");
    }
    CU_ASSERT_PTR_NOT_NULL(rct_jstr(props, "timeouts.properties.overall_sec.description"));
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
    CU_ASSERT_TRUE(rct_jeq(g, "[{\"name\":\"pr_review\",\"status\":\"pass\"},"
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
    CU_ASSERT_TRUE(rct_jeq(g, "[{\"name\":\"deps\",\"status\":\"fail\"},"
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
    const char *cut = rct_jstr(out, "[0].name");
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
    CU_ASSERT_TRUE(rct_jeq(r, "[\"Pin urllib3\",\"Update the OpenAPI spec\"]"));
    json_object_put(r);

    r = recs_of("[\"a\",{\"text\":\"b\"},{\"message\":\"c\"},{\"title\":\"d\"},{\"x\":1},"
                "null,[\"e\"],3,true,\"\"]");
    CU_ASSERT_TRUE(rct_jeq(r, "[\"a\",\"b\",\"c\",\"d\",\"3\",\"true\"]"));
    json_object_put(r);

    r = recs_of("\"Rotate the key\"");
    CU_ASSERT_TRUE(rct_jeq(r, "[\"Rotate the key\"]"));
    json_object_put(r);

    static const char *const none[] = {NULL, "null", "{}", "17", "\"\""};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        r = recs_of(none[i]);
        CU_ASSERT_TRUE(rct_jeq(r, "[]"));
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
        CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 1);
        CU_ASSERT_EQUAL(rct_jlen(r, "gates"), 0);
        CU_ASSERT_EQUAL(rct_jlen(r, "recommendations"), 0);
        CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(r, "summary")), "No gates were reported.");
        CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 1234);
        json_object_put(r);
    }
}

static void test_result_pass_and_elapsed(void)
{
    /* pass from the gates when the job gives none */
    json_object *r = result_of("{\"gates\":{\"deps\":\"fail\"},\"elapsed_ms\":4200}", 9);
    CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 0);
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 4200);
    json_object_put(r);

    /* an errored gate is not a pass either */
    r = result_of("{\"gates\":[{\"name\":\"deps\",\"status\":\"???\"}]}", 9);
    CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 0);
    json_object_put(r);

    /* the job's own boolean verdict wins */
    r = result_of("{\"pass\":true,\"gates\":{\"deps\":\"fail\"}}", 9);
    CU_ASSERT_EQUAL(rct_jbool(r, "pass", -1), 1);
    json_object_put(r);

    r = result_of("{\"elapsed_ms\":41.6}", 9);
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 42);
    json_object_put(r);

    r = result_of("{\"elapsed_ms\":-5}", 9);
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 9);
    json_object_put(r);

    r = result_of("{\"elapsed_ms\":1e300}", 9);
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 9);
    json_object_put(r);

    /* a clock that went backwards never gives a negative time */
    r = result_of("{}", -50);
    CU_ASSERT_EQUAL(rct_jint(r, "elapsed_ms", -1), 0);
    json_object_put(r);

    r = result_of("{\"pass\":false,\"gates\":[{\"name\":\"pr_review\",\"status\":\"pass\"}],"
                  "\"recommendations\":[\"Review the diff\"],\"summary\":\"ignored\","
                  "\"elapsed_ms\":10}",
                  9);
    CU_ASSERT_TRUE(
        rct_jeq(r, "{\"pass\":false,\"gates\":[{\"name\":\"pr_review\",\"status\":\"pass\"}],"
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
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(p, "task_id")), "release_check");
    CU_ASSERT_EQUAL(json_object_object_length(rct_jget(p, "inputs")), 11);
    CU_ASSERT_PTR_NULL(rct_jget(p, "inputs.timeouts"));
    CU_ASSERT_PTR_NULL(rct_jget(p, "inputs.poll_interval_ms"));
    CU_ASSERT_STRING_EQUAL(RCT_S(rct_jstr(p, "inputs.service_name")), "router");
    CU_ASSERT_TRUE(rct_jeq(rct_jget(p, "inputs.deps_targets"), "[\"python\"]"));
    /* deep copies: the input is not shared */
    CU_ASSERT_PTR_NOT_EQUAL(rct_jget(p, "inputs.deps_targets"), rct_jget(in, "deps_targets"));
    json_object_put(p);
    json_object_put(in);

    CU_ASSERT_EQUAL(rc_start_params_build(NULL, &p), 0);
    CU_ASSERT_TRUE(rct_jeq(p, "{\"task_id\":\"release_check\",\"inputs\":{}}"));
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

int main(void)
{
    static const sv_cu_test tests[] = {
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
    };
    static const sv_cu_suite suites[] = {
        {.name = "release_check logic", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
