/*
 * test_schema.c - unit tests of the input-schema validator (core/schema.c)
 * with the schemas of the two shipped graphs, plus hostile inputs: wrong
 * types everywhere, NULLs, huge arrays, deep nesting, over-long names.
 */
#include "schema.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Schemas are written with single quotes to keep them readable here. */
static const char *release_check_text =
    "{'type':'object','properties':{"
    " 'service_name':{'type':'string','default':'unknown','description':'Service being released'},"
    " 'diff_text':{'type':'string','default':''},"
    " 'fail_fast':{'type':'boolean','default':true},"
    " 'run_deps':{'type':'boolean','default':true},"
    " 'run_drift':{'type':'boolean','default':true},"
    " 'run_smoke':{'type':'boolean','default':false},"
    " 'deps_targets':{'type':'array','items':{'type':'string'},'default':['python','node'],"
    "                 'minItems':1},"
    " 'deps_vuln_mode':{'type':'string','enum':['offline_cache','online'],"
    "                   'default':'offline_cache'},"
    " 'deps_fail_on':{'type':'array','items':{'type':'string',"
    "                 'enum':['CRITICAL','HIGH','MEDIUM','LOW']},'default':['CRITICAL','HIGH']},"
    " 'drift_categories':{'type':'array','items':{'type':'string'}},"
    " 'risk_profile':{'type':'string','default':'default'},"
    " 'timeouts':{'type':'object','properties':{"
    "   'overall_sec':{'type':'number','default':180,'minimum':1,'maximum':3600}}},"
    " 'poll_interval_ms':{'type':'integer','default':1000,'minimum':0,'maximum':60000}"
    "}}";

static const char *incident_triage_text =
    "{'type':'object','title':'incident_triage input','required':['service','symptom'],"
    "'properties':{"
    " 'service':{'type':'string','minLength':1,'maxLength':128},"
    " 'symptom':{'type':'string','minLength':1},"
    " 'env':{'type':'string','default':'prod'},"
    " 'include_traces':{'type':'boolean','default':false},"
    " 'max_log_lines':{'type':'integer','default':120,'minimum':1,'maximum':200,'x-clamp':true,"
    "                  'examples':[50,200]},"
    " 'log_query_hint':{'type':'string'},"
    " 'time_range':{'type':'object','properties':{"
    "   'from':{'type':'string','format':'date-time'},"
    "   'to':{'type':'string','format':'date-time'}}}"
    "}}";

static json_object *release_check;
static json_object *incident_triage;

/* Parse JSON written with ' for ". */
static json_object *pj(const char *text)
{
    char *s = strdup(text);
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_object *o = json_tokener_parse(s);
    free(s);
    return o;
}

static int suite_init(void)
{
    release_check = pj(release_check_text);
    incident_triage = pj(incident_triage_text);
    return release_check && incident_triage ? 0 : -1;
}

static int suite_clean(void)
{
    json_object_put(release_check);
    json_object_put(incident_triage);
    return 0;
}

static bool valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80)
                return false;
        u += n;
    }
    return true;
}

/* Validate `text` against schema and expect success; returns the filled
 * input (caller puts it). */
static json_object *expect_ok(json_object *schema, const char *text)
{
    sv_error err;
    json_object *in = pj(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    int rc = sv_schema_validate(schema, in, &err);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected error for %s: [%s] %s: %s\n", text, err.code, err.field,
                err.message);
    CU_ASSERT_EQUAL(rc, 0);
    return in;
}

/* Validate a ready object and expect the given error. */
static void expect_err_obj(json_object *schema, json_object *in, const char *field,
                           const char *message)
{
    sv_error err;
    int rc = sv_schema_validate(schema, in, &err);
    bool ok = rc == -EINVAL && strcmp(err.code, "invalid_input") == 0 &&
              strcmp(err.field, field) == 0 && strcmp(err.message, message) == 0;
    if (!ok)
        fprintf(stderr,
                "\n  rc=%d code=%s\n  field   got <%s>\n        want <%s>\n  message got <%s>\n"
                "        want <%s>\n",
                rc, err.code, err.field, field, err.message, message);
    CU_ASSERT(ok);
    CU_ASSERT(valid_utf8(err.field) && valid_utf8(err.message));
}

static void expect_err(json_object *schema, const char *text, const char *field,
                       const char *message)
{
    json_object *in = pj(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    expect_err_obj(schema, in, field, message);
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

/* ---- sv_schema_check ------------------------------------------------- */

static void expect_check_ok(const char *text)
{
    char why[256] = "untouched";
    json_object *s = pj(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int rc = sv_schema_check(s, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected check failure: %s\n", why);
    CU_ASSERT_EQUAL(rc, 0);
    json_object_put(s);
}

static void expect_check_fail(const char *text, const char *want)
{
    char why[256] = "";
    json_object *s = pj(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int rc = sv_schema_check(s, why, sizeof why);
    bool ok = rc == -EINVAL && strcmp(why, want) == 0;
    if (!ok)
        fprintf(stderr, "\n  rc=%d\n  got  <%s>\n  want <%s>\n", rc, why, want);
    CU_ASSERT(ok);
    json_object_put(s);
}

static void test_check_good(void)
{
    char why[256];
    CU_ASSERT_EQUAL(sv_schema_check(release_check, why, sizeof why), 0);
    CU_ASSERT_EQUAL(sv_schema_check(incident_triage, why, sizeof why), 0);
    expect_check_ok("{'type':'object'}");
    expect_check_ok("{'type':'object','properties':{}}");
    expect_check_ok(
        "{'type':'object','properties':{'a':{'type':'number','enum':[1,2.5]},"
        "'b':{'type':'integer','enum':[1,2],'default':2,'minimum':1.0},"
        "'c':{'type':'array','minItems':0,'maxItems':3,'default':[]},"
        "'d':{'type':'object','default':{'x':'y'}},"
        "'e':{'type':'string','minLength':2,'maxLength':2,'default':'\xc3\xa9\xc3\xa9'},"
        "'f':{'type':'string','format':'date-time','default':'2026-01-01T00:00:00Z'},"
        "'g':{'type':'object','properties':{'h':{'type':'boolean'}},"
        "     'required':['h'],'default':{'h':true}}}}");
}

static void test_check_bad(void)
{
    expect_check_fail("{'type':'object','properties':{'time_range':{'type':'object',"
                      "'properties':{'from':{'type':'string','pattern':'^x'}}}}}",
                      "properties.time_range.properties.from: unknown keyword \"pattern\"");
    expect_check_fail("{'type':'object','additionalProperties':false}",
                      "(root): unknown keyword \"additionalProperties\"");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'str'}}}",
                      "properties.a: \"type\" must be one of string, boolean, integer, number, "
                      "array, object; got \"str\"");
    expect_check_fail("{'type':'object','properties':{'a':{'type':['string','null']}}}",
                      "properties.a: \"type\" must be one of string, boolean, integer, number, "
                      "array, object; got array");
    expect_check_fail("{'type':'object','properties':{'a':{'default':1}}}",
                      "properties.a: missing \"type\" (one of string, boolean, integer, number, "
                      "array, object)");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'boolean','default':'yes'}}}",
                      "properties.a: \"default\" is invalid: must be a boolean, got string");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'integer','default':1.5}}}",
                      "properties.a: \"default\" is invalid: must be an integer, got 1.5");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'integer','default':7,"
                      "'maximum':5,'x-clamp':true}}}",
                      "properties.a: \"default\" is invalid: must be an integer <= 5, got 7");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','default':null}}}",
                      "properties.a: \"default\" must not be null; leave it out instead");
    expect_check_fail("{'type':'object','properties':{'t':{'type':'object','properties':{"
                      "'n':{'type':'number'}},'default':{'n':'x'}}}}",
                      "properties.t: \"default\" is invalid at n: must be a number, got string");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'array','items':{'type':"
                      "'string'},'default':['x',1]}}}",
                      "properties.a: \"default\" is invalid at [1]: must be a string, got integer");
    expect_check_fail("{'type':'object','required':['service'],'properties':{'svc':{'type':"
                      "'string'}}}",
                      "(root): \"required\" names \"service\", which is not in \"properties\"");
    expect_check_fail("{'type':'object','required':'service','properties':{}}",
                      "(root): \"required\" must be an array of property names");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'number','minimum':10,"
                      "'maximum':5}}}",
                      "properties.a: \"minimum\" (10) is greater than \"maximum\" (5)");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','minLength':3,"
                      "'maxLength':2}}}",
                      "properties.a: \"minLength\" (3) is greater than \"maxLength\" (2)");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','minLength':-1}}}",
                      "properties.a: \"minLength\" must be a non-negative integer");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'integer','minimum':0.5}}}",
                      "properties.a: \"minimum\" must be an integer for \"type\": \"integer\"");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'number','maximum':'9'}}}",
                      "properties.a: \"maximum\" must be a number");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','minimum':1}}}",
                      "properties.a: keyword \"minimum\" does not apply to \"type\": \"string\"");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'boolean','enum':[true]}}}",
                      "properties.a: keyword \"enum\" does not apply to \"type\": \"boolean\"");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','enum':[]}}}",
                      "properties.a: \"enum\" must be a non-empty array");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','enum':['x',1]}}}",
                      "properties.a: \"enum\"[1] must be a string (the schema's \"type\"), got "
                      "integer");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'string','format':'email'}}}",
                      "properties.a: \"format\" must be \"date-time\", the only supported format");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'number','x-clamp':1}}}",
                      "properties.a: \"x-clamp\" must be true or false");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'array','items':{'type':"
                      "'string','const':'x'}}}}",
                      "properties.a.items: unknown keyword \"const\"");
    expect_check_fail("{'type':'object','properties':{'a':{'type':'array','items':[]}}}",
                      "properties.a.items: a schema must be a JSON object, got array");
    expect_check_fail("{'type':'object','properties':{'a':null}}",
                      "properties.a: a schema must be a JSON object, got null");
    expect_check_fail("{'type':'object','properties':[]}",
                      "(root): \"properties\" must be an object of schemas");
    expect_check_fail("{'type':'object','description':5}",
                      "(root): \"description\" must be a string");
    expect_check_fail("{'type':'string'}",
                      "(root): the input schema must have \"type\": \"object\"");
    expect_check_fail("[]", "(root): the input schema must be a JSON object");

    /* NULL everywhere, and a reason cut to a tiny buffer. */
    char why[8];
    CU_ASSERT_EQUAL(sv_schema_check(NULL, why, sizeof why), -EINVAL);
    CU_ASSERT_EQUAL(strlen(why), 7);
    CU_ASSERT_EQUAL(sv_schema_check(NULL, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(sv_schema_check(release_check, NULL, 0), 0);
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults_filled(void)
{
    json_object *in = expect_ok(release_check, "{}");
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
    in = expect_ok(release_check, "{'timeouts':{}}");
    CU_ASSERT_EQUAL(json_object_get_int(at(at(in, "timeouts"), "overall_sec")), 180);
    json_object_put(in);
    in = expect_ok(release_check, "{'timeouts':{'overall_sec':60.5},'fail_fast':false}");
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(at(at(in, "timeouts"), "overall_sec")), 60.5,
                           1e-9);
    CU_ASSERT_FALSE(json_object_get_boolean(at(in, "fail_fast")));
    json_object_put(in);

    /* incident_triage: time_range has no defaults, so it stays absent. */
    in = expect_ok(incident_triage, "{'service':'router','symptom':'5xx'}");
    CU_ASSERT_STRING_EQUAL(str_at(in, "env"), "prod");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 120);
    CU_ASSERT_FALSE(json_object_get_boolean(at(in, "include_traces")));
    CU_ASSERT_FALSE(json_object_object_get_ex(in, "time_range", NULL));
    CU_ASSERT_FALSE(json_object_object_get_ex(in, "log_query_hint", NULL));
    json_object_put(in);
}

static void test_defaults_are_copies(void)
{
    json_object *a = expect_ok(release_check, "{}");
    json_object_array_add(at(a, "deps_targets"), json_object_new_string("go"));
    json_object_object_add(at(a, "timeouts"), "overall_sec", json_object_new_int(1));
    json_object *b = expect_ok(release_check, "{}");
    CU_ASSERT_EQUAL(json_object_array_length(at(b, "deps_targets")), 2);
    CU_ASSERT_EQUAL(json_object_get_int(at(at(b, "timeouts"), "overall_sec")), 180);
    json_object *def = at(at(at(release_check, "properties"), "deps_targets"), "default");
    CU_ASSERT_EQUAL(json_object_array_length(def), 2);
    CU_ASSERT_PTR_NOT_EQUAL(at(a, "deps_targets"), def);
    json_object_put(a);
    json_object_put(b);
    CU_ASSERT_EQUAL(json_object_array_length(def), 2);
}

/* Nested objects whose members are required are not invented. */
static void test_nested_required_not_invented(void)
{
    json_object *s = pj("{'type':'object','properties':{'o':{'type':'object','required':['a'],"
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
    expect_err(release_check, "{'foo':1}", "foo",
               "unknown field \"foo\"; allowed: service_name, diff_text, fail_fast, run_deps, "
               "run_drift, run_smoke, deps_targets, deps_vuln_mode, deps_fail_on, "
               "drift_categories, risk_profile, timeouts, poll_interval_ms");
    expect_err(release_check, "{'timeouts':{'overall':5}}", "timeouts.overall",
               "unknown field \"overall\"; allowed: overall_sec");
    expect_err(incident_triage,
               "{'service':'a','symptom':'b','time_range':{'from':'2026-02-23T09:00:00Z',"
               "'until':'x'}}",
               "time_range.until", "unknown field \"until\"; allowed: from, to");
}

static void test_wrong_types(void)
{
    expect_err(release_check, "{'service_name':5}", "service_name",
               "must be a string, got integer");
    expect_err(release_check, "{'service_name':['a']}", "service_name",
               "must be a string, got array");
    expect_err(release_check, "{'fail_fast':1}", "fail_fast", "must be a boolean, got integer");
    expect_err(release_check, "{'fail_fast':0}", "fail_fast", "must be a boolean, got integer");
    expect_err(release_check, "{'fail_fast':'true'}", "fail_fast", "must be a boolean, got string");
    expect_err(release_check, "{'poll_interval_ms':'5'}", "poll_interval_ms",
               "must be an integer, got string");
    expect_err(release_check, "{'poll_interval_ms':true}", "poll_interval_ms",
               "must be an integer, got boolean");
    expect_err(release_check, "{'timeouts':{'overall_sec':'60'}}", "timeouts.overall_sec",
               "must be a number, got string");
    expect_err(release_check, "{'timeouts':{'overall_sec':{}}}", "timeouts.overall_sec",
               "must be a number, got object");
    expect_err(release_check, "{'deps_targets':'python'}", "deps_targets",
               "must be an array, got string");
    expect_err(release_check, "{'deps_targets':{'0':'python'}}", "deps_targets",
               "must be an array, got object");
    expect_err(release_check, "{'timeouts':[180]}", "timeouts", "must be an object, got array");
    expect_err(release_check, "{'timeouts':180}", "timeouts", "must be an object, got integer");
    expect_err(release_check, "{'deps_targets':['python',5]}", "deps_targets[1]",
               "must be a string, got integer");
    expect_err(release_check, "{'deps_fail_on':['HIGH','BAD']}", "deps_fail_on[1]",
               "must be one of \"CRITICAL\", \"HIGH\", \"MEDIUM\", \"LOW\", got \"BAD\"");

    /* NaN and infinities cannot come from strict JSON, but can be built. */
    json_object *in = json_object_new_object();
    json_object *t = json_object_new_object();
    json_object_object_add(t, "overall_sec", json_object_new_double(INFINITY));
    json_object_object_add(in, "timeouts", t);
    expect_err_obj(release_check, in, "timeouts.overall_sec", "must be a finite number, got inf");
    json_object_object_add(t, "overall_sec", json_object_new_double(NAN));
    expect_err_obj(release_check, in, "timeouts.overall_sec", "must be a finite number, got nan");
    json_object_put(in);
}

static void test_null_values(void)
{
    expect_err(release_check, "{'service_name':null}", "service_name",
               "must be a string, got null");
    expect_err(release_check, "{'fail_fast':null}", "fail_fast", "must be a boolean, got null");
    expect_err(release_check, "{'poll_interval_ms':null}", "poll_interval_ms",
               "must be an integer, got null");
    expect_err(release_check, "{'timeouts':null}", "timeouts", "must be an object, got null");
    expect_err(release_check, "{'timeouts':{'overall_sec':null}}", "timeouts.overall_sec",
               "must be a number, got null");
    expect_err(release_check, "{'deps_targets':null}", "deps_targets",
               "must be an array, got null");
    expect_err(release_check, "{'deps_targets':['a',null]}", "deps_targets[1]",
               "must be a string, got null");
}

static void test_required(void)
{
    expect_err(incident_triage, "{}", "service", "\"service\" is required");
    expect_err(incident_triage, "{'service':'router'}", "symptom", "\"symptom\" is required");
    expect_err(incident_triage, "{'service':'','symptom':'x'}", "service",
               "must be 1 to 128 characters long, got 0");
    expect_err(incident_triage, "{'service':'router','symptom':''}", "symptom",
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
    json_object *in = expect_ok(incident_triage, text);
    json_object_put(in);
    strcpy(text + strlen(text) - 2, "\xc3\xa9'}");
    expect_err(incident_triage, text, "service", "must be 1 to 128 characters long, got 129");
}

static void test_bad_strings(void)
{
    /* Invalid UTF-8 and an embedded NUL never reach the graph. */
    json_object *in = json_object_new_object();
    json_object_object_add(in, "service_name", json_object_new_string("bad\xff"));
    expect_err_obj(release_check, in, "service_name", "must be valid UTF-8 text");
    json_object_object_add(in, "service_name", json_object_new_string_len("a\0b", 3));
    expect_err_obj(release_check, in, "service_name", "must not contain NUL (\\u0000) characters");
    json_object_put(in);
}

static void test_ranges(void)
{
    expect_err(release_check, "{'poll_interval_ms':70000}", "poll_interval_ms",
               "must be an integer between 0 and 60000, got 70000");
    expect_err(release_check, "{'poll_interval_ms':-1}", "poll_interval_ms",
               "must be an integer between 0 and 60000, got -1");
    expect_err(release_check, "{'poll_interval_ms':18446744073709551615}", "poll_interval_ms",
               "must be an integer between 0 and 60000, got 18446744073709551615");
    expect_err(release_check, "{'timeouts':{'overall_sec':0}}", "timeouts.overall_sec",
               "must be a number between 1 and 3600, got 0");
    expect_err(release_check, "{'timeouts':{'overall_sec':3600.5}}", "timeouts.overall_sec",
               "must be a number between 1 and 3600, got 3600.5");
    json_object *in = expect_ok(release_check, "{'poll_interval_ms':0,'timeouts':{'overall_sec':"
                                               "3600}}");
    json_object_put(in);

    json_object *s = pj("{'type':'object','properties':{'lo':{'type':'number','minimum':-2.5},"
                        "'hi':{'type':'integer','maximum':10}}}");
    expect_err(s, "{'lo':-3}", "lo", "must be a number >= -2.5, got -3");
    expect_err(s, "{'hi':11}", "hi", "must be an integer <= 10, got 11");
    json_object_put(s);
}

static void test_clamp(void)
{
    json_object *in =
        expect_ok(incident_triage, "{'service':'a','symptom':'b','max_log_lines':500}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "max_log_lines"), json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 200);
    json_object_put(in);
    in = expect_ok(incident_triage, "{'service':'a','symptom':'b','max_log_lines':0}");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 1);
    json_object_put(in);
    in = expect_ok(incident_triage, "{'service':'a','symptom':'b','max_log_lines':-9e18}");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 1);
    json_object_put(in);
    in = expect_ok(incident_triage, "{'service':'a','symptom':'b','max_log_lines':5000.0}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "max_log_lines"), json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 200);
    json_object_put(in);
    in = expect_ok(incident_triage, "{'service':'a','symptom':'b','max_log_lines':150}");
    CU_ASSERT_EQUAL(json_object_get_int(at(in, "max_log_lines")), 150);
    json_object_put(in);
    /* Clamping brings a value into range; it does not excuse a wrong type. */
    expect_err(incident_triage, "{'service':'a','symptom':'b','max_log_lines':150.5}",
               "max_log_lines", "must be an integer, got 150.5");
    expect_err(incident_triage, "{'service':'a','symptom':'b','max_log_lines':'500'}",
               "max_log_lines", "must be an integer, got string");

    /* A clamped number keeps the bound's own form. */
    json_object *s = pj("{'type':'object','properties':{'x':{'type':'number','minimum':0.5,"
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
    json_object *in = expect_ok(release_check, "{'poll_interval_ms':2000.0}");
    json_object *v = at(in, "poll_interval_ms");
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int64(v), 2000);
    json_object_put(in);
    in = expect_ok(release_check, "{'poll_interval_ms':2e3}");
    CU_ASSERT_TRUE(json_object_is_type(at(in, "poll_interval_ms"), json_type_int));
    json_object_put(in);
    expect_err(release_check, "{'poll_interval_ms':1.5}", "poll_interval_ms",
               "must be an integer, got 1.5");
    expect_err(release_check, "{'poll_interval_ms':1e300}", "poll_interval_ms",
               "must be an integer, got 1e+300");

    /* Integer items of an array are converted in place. */
    json_object *s = pj("{'type':'object','properties':{'ids':{'type':'array','items':{"
                        "'type':'integer'}}}}");
    in = expect_ok(s, "{'ids':[1,2.0,3]}");
    CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(at(in, "ids"), 1), json_type_int));
    json_object_put(in);
    json_object_put(s);
}

static void test_enum(void)
{
    json_object *in = expect_ok(release_check, "{'deps_vuln_mode':'online'}");
    json_object_put(in);
    expect_err(release_check, "{'deps_vuln_mode':'offline'}", "deps_vuln_mode",
               "must be one of \"offline_cache\", \"online\", got \"offline\"");
    expect_err(release_check, "{'deps_vuln_mode':'ONLINE'}", "deps_vuln_mode",
               "must be one of \"offline_cache\", \"online\", got \"ONLINE\"");
    json_object *s = pj("{'type':'object','properties':{'n':{'type':'number','enum':[1,2.5]}}}");
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
        json_object *in = expect_ok(incident_triage, text);
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
        expect_err(incident_triage, text, "time_range.to", msg);
    }
    expect_err(incident_triage, "{'service':'a','symptom':'b','time_range':{'from':1}}",
               "time_range.from", "must be a string, got integer");
}

static void test_array_counts(void)
{
    expect_err(release_check, "{'deps_targets':[]}", "deps_targets",
               "must have at least 1 item, got 0");
    json_object *s = pj("{'type':'object','properties':{'a':{'type':'array','minItems':2,"
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
        expect_err(release_check, texts[i], "", "input must be a JSON object");
    expect_err_obj(release_check, NULL, "", "input must be a JSON object");

    /* No err to fill, no schema: refused, not crashed. */
    json_object *in = json_object_new_object();
    CU_ASSERT_EQUAL(sv_schema_validate(release_check, NULL, NULL), -EINVAL);
    CU_ASSERT_EQUAL(sv_schema_validate(release_check, in, NULL), 0);
    sv_error err;
    CU_ASSERT_EQUAL(sv_schema_validate(NULL, in, &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.code, "invalid_schema");
    json_object_put(in);
}

/* ---- size and depth ------------------------------------------------------ */

static void test_big_array(void)
{
    json_object *in = json_object_new_object();
    json_object *arr = json_object_new_array_ext(10000);
    for (int i = 0; i < 10000; i++)
        json_object_array_add(arr, json_object_new_string("python"));
    json_object_object_add(in, "deps_targets", arr);
    sv_error err;
    CU_ASSERT_EQUAL(sv_schema_validate(release_check, in, &err), 0);
    json_object_array_put_idx(arr, 9999, json_object_new_int(1));
    expect_err_obj(release_check, in, "deps_targets[9999]", "must be a string, got integer");
    json_object_put(in);

    /* 10000 unknown fields: the first one is reported. */
    in = json_object_new_object();
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        json_object_object_add(in, key, json_object_new_int(i));
    }
    CU_ASSERT_EQUAL(sv_schema_validate(release_check, in, &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "k0");
    json_object_put(in);
}

/* Wrap `leaf` in `depth` levels of {"k": ...} (or [...]). */
static json_object *nest(int depth, bool arrays, json_object *leaf)
{
    json_object *o = leaf;
    for (int i = 0; i < depth; i++) {
        json_object *w = arrays ? json_object_new_array() : json_object_new_object();
        if (arrays)
            json_object_array_add(w, o);
        else
            json_object_object_add(w, "k", o);
        o = w;
    }
    return o;
}

static void test_deep_nesting(void)
{
    /* Deep input against a shallow schema. */
    json_object *in = json_object_new_object();
    json_object_object_add(in, "timeouts", nest(200, false, json_object_new_int(1)));
    expect_err_obj(release_check, in, "timeouts.k", "unknown field \"k\"; allowed: overall_sec");
    json_object_object_add(in, "timeouts", json_object_new_object());
    json_object_object_add(in, "deps_targets", nest(200, true, json_object_new_string("x")));
    expect_err_obj(release_check, in, "deps_targets[0]", "must be a string, got array");
    json_object_put(in);

    /* Deep input in a free-form array is accepted as it is. */
    json_object *s = pj("{'type':'object','properties':{'any':{'type':'array'},"
                        "'obj':{'type':'object'}}}");
    in = json_object_new_object();
    json_object_object_add(in, "any", nest(200, true, NULL));
    json_object_object_add(in, "obj", nest(200, false, NULL));
    sv_error err;
    CU_ASSERT_EQUAL(sv_schema_validate(s, in, &err), 0);
    json_object_put(in);
    json_object_put(s);

    /* A 200-deep schema: check refuses it; validate, if called anyway,
     * stops instead of recursing without end. */
    json_object *leaf = pj("{'type':'string'}");
    for (int i = 0; i < 200; i++) {
        json_object *props = json_object_new_object();
        json_object_object_add(props, "k", leaf);
        leaf = json_object_new_object();
        json_object_object_add(leaf, "type", json_object_new_string("object"));
        json_object_object_add(leaf, "properties", props);
    }
    s = leaf;
    char why[256];
    CU_ASSERT_EQUAL(sv_schema_check(s, why, sizeof why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "nested deeper than 32 levels"));
    in = nest(199, false, json_object_new_string("x"));
    CU_ASSERT_EQUAL(sv_schema_validate(s, in, &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.code, "invalid_schema");
    json_object_put(in);
    json_object_put(s);
}

static void test_truncation(void)
{
    /* A huge key with multi-byte characters: cut on a character boundary. */
    size_t n = 20000;
    char *key = malloc(n * 2 + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    for (size_t i = 0; i < n; i++)
        memcpy(key + 2 * i, "\xc3\xa9", 2);
    key[2 * n] = '\0';
    json_object *in = json_object_new_object();
    json_object_object_add(in, key, json_object_new_int(1));
    sv_error err;
    CU_ASSERT_EQUAL(sv_schema_validate(release_check, in, &err), -EINVAL);
    CU_ASSERT(strlen(err.field) < sizeof err.field);
    CU_ASSERT(strlen(err.field) >= sizeof err.field - 3);
    CU_ASSERT(valid_utf8(err.field));
    CU_ASSERT(valid_utf8(err.message));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "...\"; allowed: service_name"));
    json_object_put(in);

    /* Odd bytes in a key are escaped, so the message reads on one line. */
    in = json_object_new_object();
    json_object_object_add(in, "a\"b\n\xff", json_object_new_int(1));
    CU_ASSERT_EQUAL(sv_schema_validate(release_check, in, &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "a\\\"b\\u000a\\xff");
    CU_ASSERT(strncmp(err.message, "unknown field \"a\\\"b\\u000a\\xff\"; allowed:", 40) == 0);
    json_object_put(in);

    /* A long list of allowed names ends in "..." inside the buffer. */
    json_object *props = json_object_new_object();
    char name[64];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "property_with_a_long_name_%03d", i);
        json_object_object_add(props, name, pj("{'type':'string'}"));
    }
    json_object *s = json_object_new_object();
    json_object_object_add(s, "type", json_object_new_string("object"));
    json_object_object_add(s, "properties", props);
    in = pj("{'nope':1}");
    CU_ASSERT_EQUAL(sv_schema_validate(s, in, &err), -EINVAL);
    CU_ASSERT(strlen(err.message) < sizeof err.message - 1);
    CU_ASSERT(strcmp(err.message + strlen(err.message) - 5, ", ...") == 0);
    json_object_put(in);
    json_object_put(s);
    free(key);
}

/* Many validations of a typical input; guards against accidental
 * quadratic or per-call setup cost (generous bound: ~20 us per call). */
static void test_throughput(void)
{
    json_object *base = pj("{'service':'router','symptom':'High error rate after deploy',"
                           "'env':'prod','include_traces':true,'time_range':{"
                           "'from':'2026-02-23T09:00:00Z','to':'2026-02-23T10:00:00Z'}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = 0;
    for (int i = 0; i < 20000; i++) {
        json_object *in = NULL;
        sv_error err;
        json_object_deep_copy(base, &in, NULL);
        ok += sv_schema_validate(incident_triage, in, &err) == 0;
        json_object_put(in);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "\n  20000 validations in %.3f s ", sec);
    CU_ASSERT_EQUAL(ok, 20000);
    /* Loose enough for valgrind and sanitizers. */
    CU_ASSERT(sec < 60.0);
    json_object_put(base);
}

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"check accepts good schemas", test_check_good},
        {"check rejects bad schemas", test_check_bad},
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
        {"10000-element arrays and objects", test_big_array},
        {"200-deep nesting", test_deep_nesting},
        {"truncation", test_truncation},
        {"throughput", test_throughput},
    };
    int failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite("schema", suite_init, suite_clean);
    if (!suite)
        goto fail;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!CU_add_test(suite, tests[i].name, tests[i].fn))
            goto fail;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS)
        goto fail;
    failures = (int)CU_get_number_of_failures();
    if (CU_get_number_of_suites_failed() > 0)
        failures++;
    CU_cleanup_registry();
    return failures ? 1 : 0;
fail:
    fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
    CU_cleanup_registry();
    return 2;
}
