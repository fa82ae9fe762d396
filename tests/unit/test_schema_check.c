/*
 * test_schema_check.c - unit tests of sv_schema_check (core/schema.c): the
 * schemas of the two shipped graphs and others pass; every rule a graph's
 * schema can break is refused with a one-line reason.
 */
#include "cu_run.h"
#include "schema_test_support.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- sv_schema_check ------------------------------------------------- */

static void expect_check_ok(const char *text)
{
    char why[256] = "untouched";
    json_object *s = sct_pj(text);
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
    json_object *s = sct_pj(text);
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
    CU_ASSERT_EQUAL(sv_schema_check(sct_release_check, why, sizeof why), 0);
    CU_ASSERT_EQUAL(sv_schema_check(sct_incident_triage, why, sizeof why), 0);
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
    CU_ASSERT_EQUAL(sv_schema_check(sct_release_check, NULL, 0), 0);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"check accepts good schemas", test_check_good},
        {"check rejects bad schemas", test_check_bad},
    };
    static const sv_cu_suite suites[] = {
        {.name = "schema check",
         SV_CU_TESTS(tests),
         .init = sct_suite_init,
         .clean = sct_suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
