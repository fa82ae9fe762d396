/*
 * test_schema_validate.c - unit tests of sv_schema_validate (core/schema.c)
 * with the schemas of the two shipped graphs: defaults filled in, then every
 * rejection (unknown fields, wrong types everywhere, NULLs, lengths, ranges,
 * clamping, integers, enums, date-times, array counts, non-objects).
 */
#include "cu_run.h"
#include "schema_test_support.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Validate `text` against schema and expect success; returns the filled
 * input (caller puts it). */
static json_object *expect_ok(json_object *schema, const char *text)
{
    sv_error err;
    json_object *in = sct_pj(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    int rc = sv_schema_validate(schema, in, &err);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected error for %s: [%s] %s: %s\n", text, err.code, err.field,
                err.message);
    CU_ASSERT_EQUAL(rc, 0);
    return in;
}

static void expect_err(json_object *schema, const char *text, const char *field,
                       const char *message)
{
    json_object *in = sct_pj(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    sct_expect_err_obj(schema, in, field, message);
    json_object_put(in);
}

static const char *str_at(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static json_object *at(json_object *o, const char *k)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults_filled(void)
{
    json_object *in = expect_ok(sct_release_check, "{}");
    CU_ASSERT_STRING_EQUAL(str_at(in, "service_name"), "unknown");
    CU_ASSERT_STRING_EQUAL(str_at(in, "diff_text"), "");
    CU_ASSERT_TRUE(json_object_get_boolean(at(in, "fail_fast")));
    CU_ASSERT_FALSE(json_object_get_boolean(at(in, "run_smoke")));
    CU_ASSERT_EQUAL(json_object_array_length(at(in, "deps_targets")), 2);
    CU_ASSERT_STRING_EQUAL(str_at(in, "deps_vuln_mode"), "offline_cache");
    CU_ASSERT_PTR_NULL(at(in, "drift_categories"));
    CU_ASSERT_FALSE(json_object_object_get_ex(in, "drift_categories", NULL));
    CU_ASSERT_TRUE(json_object_is_type(at(in, "poll_interval_ms"), json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "poll_interval_ms")), 1000);
    /* The absent object is created because its members have defaults. */
    json_object *t = at(in, "timeouts");
    CU_ASSERT_TRUE_FATAL(json_object_is_type(t, json_type_object));
    CU_ASSERT_EQUAL(json_object_get_int(at(t, "overall_sec")), 180);
    json_object_put(in);

    /* Present but partial, and present and complete. */
    in = expect_ok(sct_release_check, "{'timeouts':{}}");
    CU_ASSERT_EQUAL(json_object_get_int(at(at(in, "timeouts"), "overall_sec")), 180);
    json_object_put(in);
    in = expect_ok(sct_release_check, "{'timeouts':{'overall_sec':60.5},'fail_fast':false}");
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(at(at(in, "timeouts"), "overall_sec")), 60.5,
                           1e-9);
    CU_ASSERT_FALSE(json_object_get_boolean(at(in, "fail_fast")));
    json_object_put(in);

    /* incident_triage: time_range has no defaults, so it stays absent. */
    in = expect_ok(sct_incident_triage, "{'service':'router','symptom':'5xx'}");
    CU_ASSERT_STRING_EQUAL(str_at(in, "env"), "prod");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 120);
    CU_ASSERT_FALSE(json_object_get_boolean(at(in, "include_traces")));
    CU_ASSERT_FALSE(json_object_object_get_ex(in, "time_range", NULL));
    CU_ASSERT_FALSE(json_object_object_get_ex(in, "log_query_hint", NULL));
    json_object_put(in);
}

static void test_defaults_are_copies(void)
{
    json_object *a = expect_ok(sct_release_check, "{}");
    json_object_array_add(at(a, "deps_targets"), json_object_new_string("go"));
    json_object_object_add(at(a, "timeouts"), "overall_sec", json_object_new_int(1));
    json_object *b = expect_ok(sct_release_check, "{}");
    CU_ASSERT_EQUAL(json_object_array_length(at(b, "deps_targets")), 2);
    CU_ASSERT_EQUAL(json_object_get_int(at(at(b, "timeouts"), "overall_sec")), 180);
    json_object *def = at(at(at(sct_release_check, "properties"), "deps_targets"), "default");
    CU_ASSERT_EQUAL(json_object_array_length(def), 2);
    CU_ASSERT_PTR_NOT_EQUAL(at(a, "deps_targets"), def);
    json_object_put(a);
    json_object_put(b);
    CU_ASSERT_EQUAL(json_object_array_length(def), 2);
}

/* Nested objects whose members are required are not invented. */
static void test_nested_required_not_invented(void)
{
    json_object *s =
        sct_pj("{'type':'object','properties':{'o':{'type':'object','required':['a'],"
               "'properties':{'a':{'type':'string'},'b':{'type':'integer','default':3}}},"
               "'p':{'type':'object','properties':{'q':{'type':'object','properties':{"
               "'r':{'type':'boolean','default':true}}}}}}}");
    char why[256];
    CU_ASSERT_EQUAL_FATAL(sv_schema_check(s, why, sizeof why), 0);
    json_object *in = expect_ok(s, "{}");
    CU_ASSERT_FALSE(json_object_object_get_ex(in, "o", NULL));
    /* Two levels of filling. */
    CU_ASSERT_TRUE(json_object_get_boolean(at(at(at(in, "p"), "q"), "r")));
    json_object_put(in);
    expect_err(s, "{'o':{}}", "o.a", "\"a\" is required");
    in = expect_ok(s, "{'o':{'a':'x'}}");
    CU_ASSERT_EQUAL(json_object_get_int(at(at(in, "o"), "b")), 3);
    json_object_put(in);
    json_object_put(s);
}

/* ---- rejections -------------------------------------------------------- */

static void test_unknown_fields(void)
{
    expect_err(sct_release_check, "{'foo':1}", "foo",
               "unknown field \"foo\"; allowed: service_name, diff_text, fail_fast, run_deps, "
               "run_drift, run_smoke, deps_targets, deps_vuln_mode, deps_fail_on, "
               "drift_categories, risk_profile, timeouts, poll_interval_ms");
    expect_err(sct_release_check, "{'timeouts':{'overall':5}}", "timeouts.overall",
               "unknown field \"overall\"; allowed: overall_sec");
    expect_err(sct_incident_triage,
               "{'service':'a','symptom':'b','time_range':{'from':'2026-02-23T09:00:00Z',"
               "'until':'x'}}",
               "time_range.until", "unknown field \"until\"; allowed: from, to");
}

static void test_wrong_types(void)
{
    expect_err(sct_release_check, "{'service_name':5}", "service_name",
               "must be a string, got integer");
    expect_err(sct_release_check, "{'service_name':['a']}", "service_name",
               "must be a string, got array");
    expect_err(sct_release_check, "{'fail_fast':1}", "fail_fast", "must be a boolean, got integer");
    expect_err(sct_release_check, "{'fail_fast':0}", "fail_fast", "must be a boolean, got integer");
    expect_err(sct_release_check, "{'fail_fast':'true'}", "fail_fast",
               "must be a boolean, got string");
    expect_err(sct_release_check, "{'poll_interval_ms':'5'}", "poll_interval_ms",
               "must be an integer, got string");
    expect_err(sct_release_check, "{'poll_interval_ms':true}", "poll_interval_ms",
               "must be an integer, got boolean");
    expect_err(sct_release_check, "{'timeouts':{'overall_sec':'60'}}", "timeouts.overall_sec",
               "must be a number, got string");
    expect_err(sct_release_check, "{'timeouts':{'overall_sec':{}}}", "timeouts.overall_sec",
               "must be a number, got object");
    expect_err(sct_release_check, "{'deps_targets':'python'}", "deps_targets",
               "must be an array, got string");
    expect_err(sct_release_check, "{'deps_targets':{'0':'python'}}", "deps_targets",
               "must be an array, got object");
    expect_err(sct_release_check, "{'timeouts':[180]}", "timeouts", "must be an object, got array");
    expect_err(sct_release_check, "{'timeouts':180}", "timeouts", "must be an object, got integer");
    expect_err(sct_release_check, "{'deps_targets':['python',5]}", "deps_targets[1]",
               "must be a string, got integer");
    expect_err(sct_release_check, "{'deps_fail_on':['HIGH','BAD']}", "deps_fail_on[1]",
               "must be one of \"CRITICAL\", \"HIGH\", \"MEDIUM\", \"LOW\", got \"BAD\"");

    /* NaN and infinities cannot come from strict JSON, but can be built. */
    json_object *in = json_object_new_object();
    json_object *t = json_object_new_object();
    json_object_object_add(t, "overall_sec", json_object_new_double(INFINITY));
    json_object_object_add(in, "timeouts", t);
    sct_expect_err_obj(sct_release_check, in, "timeouts.overall_sec",
                       "must be a finite number, got inf");
    json_object_object_add(t, "overall_sec", json_object_new_double(NAN));
    sct_expect_err_obj(sct_release_check, in, "timeouts.overall_sec",
                       "must be a finite number, got nan");
    json_object_put(in);
}

static void test_null_values(void)
{
    expect_err(sct_release_check, "{'service_name':null}", "service_name",
               "must be a string, got null");
    expect_err(sct_release_check, "{'fail_fast':null}", "fail_fast", "must be a boolean, got null");
    expect_err(sct_release_check, "{'poll_interval_ms':null}", "poll_interval_ms",
               "must be an integer, got null");
    expect_err(sct_release_check, "{'timeouts':null}", "timeouts", "must be an object, got null");
    expect_err(sct_release_check, "{'timeouts':{'overall_sec':null}}", "timeouts.overall_sec",
               "must be a number, got null");
    expect_err(sct_release_check, "{'deps_targets':null}", "deps_targets",
               "must be an array, got null");
    expect_err(sct_release_check, "{'deps_targets':['a',null]}", "deps_targets[1]",
               "must be a string, got null");
}

static void test_required(void)
{
    expect_err(sct_incident_triage, "{}", "service", "\"service\" is required");
    expect_err(sct_incident_triage, "{'service':'router'}", "symptom", "\"symptom\" is required");
    expect_err(sct_incident_triage, "{'service':'','symptom':'x'}", "service",
               "must be 1 to 128 characters long, got 0");
    expect_err(sct_incident_triage, "{'service':'router','symptom':''}", "symptom",
               "must be at least 1 character long, got 0");
}

static void test_string_lengths_count_characters(void)
{
    /* 128 two-byte characters fit maxLength 128; 129 do not. */
    char text[600];
    strcpy(text, "{'symptom':'x','service':'");
    for (int i = 0; i < 128; i++)
        strcat(text, "\xc3\xa9");
    strcat(text, "'}");
    json_object *in = expect_ok(sct_incident_triage, text);
    json_object_put(in);
    strcpy(text + strlen(text) - 2, "\xc3\xa9'}");
    expect_err(sct_incident_triage, text, "service", "must be 1 to 128 characters long, got 129");
}

static void test_bad_strings(void)
{
    /* Invalid UTF-8 and an embedded NUL never reach the graph. */
    json_object *in = json_object_new_object();
    json_object_object_add(in, "service_name", json_object_new_string("bad\xff"));
    sct_expect_err_obj(sct_release_check, in, "service_name", "must be valid UTF-8 text");
    json_object_object_add(in, "service_name", json_object_new_string_len("a\0b", 3));
    sct_expect_err_obj(sct_release_check, in, "service_name",
                       "must not contain NUL (\\u0000) characters");
    json_object_put(in);
}

static void test_ranges(void)
{
    expect_err(sct_release_check, "{'poll_interval_ms':70000}", "poll_interval_ms",
               "must be an integer between 0 and 60000, got 70000");
    expect_err(sct_release_check, "{'poll_interval_ms':-1}", "poll_interval_ms",
               "must be an integer between 0 and 60000, got -1");
    expect_err(sct_release_check, "{'poll_interval_ms':18446744073709551615}", "poll_interval_ms",
               "must be an integer between 0 and 60000, got 18446744073709551615");
    expect_err(sct_release_check, "{'timeouts':{'overall_sec':0}}", "timeouts.overall_sec",
               "must be a number between 1 and 3600, got 0");
    expect_err(sct_release_check, "{'timeouts':{'overall_sec':3600.5}}", "timeouts.overall_sec",
               "must be a number between 1 and 3600, got 3600.5");
    json_object *in =
        expect_ok(sct_release_check, "{'poll_interval_ms':0,'timeouts':{'overall_sec':"
                                     "3600}}");
    json_object_put(in);

    json_object *s = sct_pj("{'type':'object','properties':{'lo':{'type':'number','minimum':-2.5},"
                            "'hi':{'type':'integer','maximum':10}}}");
    expect_err(s, "{'lo':-3}", "lo", "must be a number >= -2.5, got -3");
    expect_err(s, "{'hi':11}", "hi", "must be an integer <= 10, got 11");
    json_object_put(s);
}

static void test_clamp(void)
{
    json_object *in =
        expect_ok(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':500}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "max_log_lines"), json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 200);
    json_object_put(in);
    in = expect_ok(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':0}");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 1);
    json_object_put(in);
    in = expect_ok(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':-9e18}");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 1);
    json_object_put(in);
    in = expect_ok(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':5000.0}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "max_log_lines"), json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 200);
    json_object_put(in);
    in = expect_ok(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':150}");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 150);
    json_object_put(in);
    /* Clamping brings a value into range; it does not excuse a wrong type. */
    expect_err(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':150.5}",
               "max_log_lines", "must be an integer, got 150.5");
    expect_err(sct_incident_triage, "{'service':'a','symptom':'b','max_log_lines':'500'}",
               "max_log_lines", "must be an integer, got string");

    /* A clamped number keeps the bound's own form. */
    json_object *s = sct_pj("{'type':'object','properties':{'x':{'type':'number','minimum':0.5,"
                            "'maximum':2,'x-clamp':true}}}");
    in = expect_ok(s, "{'x':0}");
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(at(in, "x")), 0.5, 1e-12);
    json_object_put(in);
    in = expect_ok(s, "{'x':7.25}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "x"), json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "x")), 2);
    json_object_put(in);
    json_object_put(s);
}

static void test_integers(void)
{
    json_object *in = expect_ok(sct_release_check, "{'poll_interval_ms':2000.0}");
    json_object *v = at(in, "poll_interval_ms");
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int64(v), 2000);
    json_object_put(in);
    in = expect_ok(sct_release_check, "{'poll_interval_ms':2e3}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "poll_interval_ms"), json_type_int));
    json_object_put(in);
    expect_err(sct_release_check, "{'poll_interval_ms':1.5}", "poll_interval_ms",
               "must be an integer, got 1.5");
    expect_err(sct_release_check, "{'poll_interval_ms':1e300}", "poll_interval_ms",
               "must be an integer, got 1e+300");

    /* Integer items of an array are converted in place. */
    json_object *s = sct_pj("{'type':'object','properties':{'ids':{'type':'array','items':{"
                            "'type':'integer'}}}}");
    in = expect_ok(s, "{'ids':[1,2.0,3]}");
    CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(at(in, "ids"), 1), json_type_int));
    json_object_put(in);
    json_object_put(s);
}

static void test_enum(void)
{
    json_object *in = expect_ok(sct_release_check, "{'deps_vuln_mode':'online'}");
    json_object_put(in);
    expect_err(sct_release_check, "{'deps_vuln_mode':'offline'}", "deps_vuln_mode",
               "must be one of \"offline_cache\", \"online\", got \"offline\"");
    expect_err(sct_release_check, "{'deps_vuln_mode':'ONLINE'}", "deps_vuln_mode",
               "must be one of \"offline_cache\", \"online\", got \"ONLINE\"");
    json_object *s =
        sct_pj("{'type':'object','properties':{'n':{'type':'number','enum':[1,2.5]}}}");
    in = expect_ok(s, "{'n':2.5}");
    json_object_put(in);
    in = expect_ok(s, "{'n':1.0}");
    json_object_put(in);
    expect_err(s, "{'n':2}", "n", "must be one of 1, 2.5, got 2");
    json_object_put(s);
}

static void test_date_time(void)
{
    static const char *good[] = {
        "2026-02-23T09:00:00Z",        "2026-02-23T09:00:00+02:00",   "2026-02-23T09:00:00.5Z",
        "2026-02-23T09:00:00.123456Z", "2026-02-23T09:00:00.1-05:30", "2024-02-29T23:59:59z",
    };
    static const char *bad[] = {
        "yesterday",
        "2026-02-23",
        "2026-02-23T09:00:00",
        "2026-02-30T00:00:00Z",
        "2026-02-23T25:00:00Z",
        "2026-02-23T09:00:00+0200",
        "2026-02-23T09:00:00Zjunk",
        "",
    };
    char text[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(text, sizeof text,
                 "{'service':'a','symptom':'b','time_range':{'from':'%s','to':'%s'}}", good[i],
                 good[i]);
        json_object *in = expect_ok(sct_incident_triage, text);
        json_object_put(in);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[256];
        snprintf(text, sizeof text, "{'service':'a','symptom':'b','time_range':{'to':'%s'}}",
                 bad[i]);
        snprintf(msg, sizeof msg,
                 "must be an RFC 3339 date-time such as 2026-02-23T10:00:00Z or "
                 "2026-02-23T12:00:00.5+02:00, got \"%s\"",
                 bad[i]);
        expect_err(sct_incident_triage, text, "time_range.to", msg);
    }
    expect_err(sct_incident_triage, "{'service':'a','symptom':'b','time_range':{'from':1}}",
               "time_range.from", "must be a string, got integer");
}

static void test_array_counts(void)
{
    expect_err(sct_release_check, "{'deps_targets':[]}", "deps_targets",
               "must have at least 1 item, got 0");
    json_object *s = sct_pj("{'type':'object','properties':{'a':{'type':'array','minItems':2,"
                            "'maxItems':3},'b':{'type':'array','maxItems':1}}}");
    json_object *in = expect_ok(s, "{'a':[1,'free',{}],'b':[]}");
    json_object_put(in);
    expect_err(s, "{'a':[1]}", "a", "must have 2 to 3 items, got 1");
    expect_err(s, "{'b':[1,2]}", "b", "must have at most 1 item, got 2");
    json_object_put(s);
}

static void test_non_object_input(void)
{
    static const char *texts[] = {"[]", "'x'", "5", "true", "1.5"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        expect_err(sct_release_check, texts[i], "", "input must be a JSON object");
    sct_expect_err_obj(sct_release_check, NULL, "", "input must be a JSON object");

    /* No err to fill, no schema: refused, not crashed. */
    json_object *in = json_object_new_object();
    CU_ASSERT_EQUAL(sv_schema_validate(sct_release_check, NULL, NULL), -EINVAL);
    CU_ASSERT_EQUAL(sv_schema_validate(sct_release_check, in, NULL), 0);
    sv_error err;
    CU_ASSERT_EQUAL(sv_schema_validate(NULL, in, &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.code, "invalid_schema");
    json_object_put(in);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"defaults are filled, nested too", test_defaults_filled},
        {"defaults are copies", test_defaults_are_copies},
        {"objects with required members are not invented", test_nested_required_not_invented},
        {"unknown fields", test_unknown_fields},
        {"wrong types", test_wrong_types},
        {"null values", test_null_values},
        {"required fields and lengths", test_required},
        {"lengths count characters", test_string_lengths_count_characters},
        {"invalid UTF-8 and NUL", test_bad_strings},
        {"ranges", test_ranges},
        {"x-clamp", test_clamp},
        {"integers", test_integers},
        {"enum", test_enum},
        {"date-time", test_date_time},
        {"minItems and maxItems", test_array_counts},
        {"non-object input and NULLs", test_non_object_input},
    };
    static const sv_cu_suite suites[] = {
        {.name = "schema validate",
         SV_CU_TESTS(tests),
         .init = sct_suite_init,
         .clean = sct_suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
