/* test_json_strict.c - core/json_strict.c: every lenient form json-c lets
 * through is refused with its field, and valid JSON comes out as json-c's
 * own tokener would build it. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "json_strict.h"

static char g_err[320], g_field[160];

static int parse_n(const char *s, size_t n, json_object **out)
{
    return sv_json_parse_strict(s, n, out, g_err, sizeof g_err, g_field, sizeof g_field);
}

static int parse(const char *s, json_object **out)
{
    return parse_n(s, strlen(s), out);
}

/* s is refused; the reason holds `why` and "at byte", the field is `field`. */
static void refused_n(const char *s, size_t n, const char *why, const char *field)
{
    json_object *o = (json_object *)1;
    int rc = parse_n(s, n, &o);
    CU_ASSERT_EQUAL(rc, -EINVAL);
    CU_ASSERT_PTR_NULL(o);
    if (!strstr(g_err, why))
        fprintf(stderr, "\n    %s: expected \"%s\" in \"%s\"\n", s, why, g_err);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, why));
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, " at byte "));
    if (strcmp(g_field, field) != 0)
        fprintf(stderr, "\n    %s: expected field \"%s\", got \"%s\"\n", s, field, g_field);
    CU_ASSERT_STRING_EQUAL(g_field, field);
}

static void refused(const char *s, const char *why, const char *field)
{
    refused_n(s, strlen(s), why, field);
}

/* s is accepted and prints as `want` (plain json-c text). */
static void accepted(const char *s, const char *want)
{
    json_object *o = NULL;
    int rc = parse(s, &o);
    if (rc != 0)
        fprintf(stderr, "\n    %s: refused: %s (field %s)\n", s, g_err, g_field);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const char *got = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n    %s: printed %s, expected %s\n", s, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    json_object_put(o);
}

static void test_duplicate_keys(void)
{
    refused("{\"a\":1,\"a\":2}", "duplicate key \"a\"", "a");
    refused("{\"x\":{\"a\":1,\"b\":2,\"a\":3}}", "duplicate key", "x.a");
    /* the same key written two ways */
    refused("{\"a\":1,\"\\u0061\":2}", "duplicate key", "a");
    refused("{\"l\":[{},{\"k\":1,\"k\":1}]}", "duplicate key", "l[1].k");
    /* the offset is the second key's */
    refused("{\"a\":1,\"a\":2}", "at byte 7", "a");
    /* distinct keys that only look alike are fine */
    accepted("{\"a\":1,\"A\":2,\"a \":3}", "{\"a\":1,\"A\":2,\"a \":3}");
}

static void test_lenient_forms(void)
{
    refused("{'a':1}", "single quotes", "");
    refused("{\"a\":'x'}", "single quotes", "a");
    refused("{\"a\":NaN}", "NaN and Infinity", "a");
    refused("{\"a\":Infinity}", "NaN and Infinity", "a");
    refused("{\"a\":-Infinity}", "NaN and Infinity", "a");
    refused("[1,nan]", "NaN and Infinity", "[1]");
    refused("[inf]", "NaN and Infinity", "[0]");
    refused("{\"a\":1 /* c */}", "comments", "");
    refused("// c\n{}", "comments", "");
    refused("{\"a\":1,}", "trailing comma before '}'", "");
    refused("[1,2,]", "trailing comma before ']'", "");
    refused("{\"a\":[1,2,]}", "trailing comma", "a");
    refused("{a:1}", "keys must be strings", "");
    refused("{,}", "a key in double quotes", "");
    refused("[,1]", "a value expected", "[0]");
    refused("{\"a\" 1}", "':' expected", "a");
    refused("{\"a\":1 \"b\":2}", "',' or '}' expected", "");
    refused("[1 2]", "',' or ']' expected", "");
}

static void test_nul_and_surrogates(void)
{
    refused("{\"a\":\"x\\u0000y\"}", "\\u0000", "a");
    refused("{\"a\\u0000\":1}", "\\u0000", "");
    refused("[\"\\ud800\"]", "lone surrogate \\uD800", "[0]");
    refused("[\"\\udc00\"]", "lone surrogate \\uDC00", "[0]");
    refused("[\"\\uD83Dx\"]", "lone surrogate", "[0]");
    refused("[\"\\ud800\\u0041\"]", "lone surrogate", "[0]");
    refused("[\"\\ud800\\ud800\"]", "lone surrogate", "[0]");
    refused("[\"\\ude00\\ud83d\"]", "lone surrogate", "[0]"); /* the pair reversed */
    refused("[\"\\ud83d", "lone surrogate", "[0]");
    /* a raw NUL byte */
    refused_n("{\"a\":\"x\0\"}", 10, "control character 0x00", "a");
    refused_n("{}\0", 3, "unexpected byte 0x00", "");
}

static void test_invalid_utf8(void)
{
    refused("[\"\xC3\"]", "invalid UTF-8", "[0]");             /* cut short */
    refused("[\"\xC3\x28\"]", "invalid UTF-8", "[0]");         /* bad continuation */
    refused("[\"\xC0\xAF\"]", "invalid UTF-8", "[0]");         /* overlong '/' */
    refused("[\"\xE0\x80\xAF\"]", "invalid UTF-8", "[0]");     /* overlong, 3 bytes */
    refused("[\"\xED\xA0\x80\"]", "invalid UTF-8", "[0]");     /* a surrogate as UTF-8 */
    refused("[\"\xF4\x90\x80\x80\"]", "invalid UTF-8", "[0]"); /* past U+10FFFF */
    refused("[\"\xF8\x88\x80\x80\x80\"]", "invalid UTF-8", "[0]");
    refused("[\"\xFF\"]", "invalid UTF-8", "[0]");
    refused("[\"\x80\"]", "invalid UTF-8", "[0]");
    refused("[\"\xE2\x82", "invalid UTF-8", "[0]");
    refused("{\"k\xC3\":1}", "invalid UTF-8", "");
    refused("[1]\xFF", "unexpected byte 0xFF", "");
    refused("\xEF\xBB\xBF{}", "byte order mark", "");
}

static void test_grammar(void)
{
    refused("", "unexpected end of input", "");
    refused(" \n\t ", "unexpected end of input", "");
    refused("{\"a\":1", "unexpected end of input", "");
    refused("[\"abc", "unterminated string", "[0]");
    refused("{} x", "unexpected 'x'", "");
    refused("{}{}", "unexpected '{'", "");
    refused("[\"a\tb\"]", "control character 0x09", "[0]");
    refused("[\"\\x\"]", "invalid escape \\x", "[0]");
    refused("[\"\\u12\"]", "four hex digits", "[0]");
    refused("[\"\\u12G4\"]", "four hex digits", "[0]");
    refused("[tru]", "unexpected 't'", "[0]");
    refused("[nul]", "unexpected 'n'", "[0]");
    refused("[01]", "leading zeros", "[0]");
    refused("[-01]", "leading zeros", "[0]");
    refused("[1.]", "decimal point", "[0]");
    refused("[.5]", "unexpected '.'", "[0]");
    refused("[+1]", "unexpected '+'", "[0]");
    refused("[-]", "a digit must follow '-'", "[0]");
    refused("[1e]", "exponent", "[0]");
    refused("[1e+]", "exponent", "[0]");
    refused("[0x10]", "unexpected 'x'", "");
    refused("[1e400]", "out of the range of a double", "[0]");
    refused("[-1e400]", "out of the range of a double", "[0]");
    char big[SV_JSON_MAX_NUMBER + 8];
    memset(big, '1', sizeof big);
    big[0] = '[';
    big[sizeof big - 2] = ']';
    big[sizeof big - 1] = '\0';
    refused(big, "number longer than", "[0]");
}

/* n arrays inside each other. */
static char *nested(int n)
{
    char *s = malloc((size_t)n * 2 + 1);
    memset(s, '[', (size_t)n);
    memset(s + n, ']', (size_t)n);
    s[2 * n] = '\0';
    return s;
}

static void test_depth(void)
{
    json_object *o = NULL;
    char *ok = nested(SV_JSON_MAX_DEPTH), *deep = nested(SV_JSON_MAX_DEPTH + 1);
    CU_ASSERT_EQUAL(parse(ok, &o), 0);
    json_object_put(o);
    CU_ASSERT_EQUAL(parse(deep, &o), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "nested deeper than 64 levels"));
    CU_ASSERT_EQUAL(strncmp(g_field, "[0][0][0]", 9), 0);
    free(ok);
    free(deep);
    char objs[2048];
    size_t n = 0;
    for (int i = 0; i <= SV_JSON_MAX_DEPTH; i++)
        n += (size_t)snprintf(objs + n, sizeof objs - n, "{\"k\":");
    snprintf(objs + n, sizeof objs - n, "1");
    CU_ASSERT_EQUAL(parse(objs, &o), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "nested deeper"));
    CU_ASSERT_EQUAL(strncmp(g_field, "k.k.k.k", 7), 0);
}

static void test_valid(void)
{
    accepted("{}", "{}");
    accepted("[]", "[]");
    accepted(" \t\r\n{ \"a\" :\t1 ,\n\"b\" : [ ] }\r\n ", "{\"a\":1,\"b\":[]}");
    accepted("{\"a\":{\"b\":[1,{\"c\":[true,false,null]}],\"d\":{}}}",
             "{\"a\":{\"b\":[1,{\"c\":[true,false,null]}],\"d\":{}}}");
    accepted("\"x\"", "\"x\"");
    accepted("true", "true");
    accepted("null", "null");
    accepted("0", "0");
    /* escapes */
    accepted("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
    accepted("[\"\\u00e9\\u20AC\"]", "[\"\xC3\xA9\xE2\x82\xAC\"]");
    accepted("[\"\\ud83d\\ude00\",\"\\uD83D\\uDE00\"]",
             "[\"\xF0\x9F\x98\x80\",\"\xF0\x9F\x98\x80\"]");
    accepted("[\"\\u0001\"]", "[\"\\u0001\"]");
    /* raw UTF-8, up to the last code point */
    accepted("[\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF\"]",
             "[\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF\"]");
    accepted("{\"\xC3\xA9\":1}", "{\"\xC3\xA9\":1}");
}

static void test_numbers(void)
{
    json_object *o = NULL;
    accepted("[0,-0,1,-1,1.5,-0.0,1E2,1e-2,1.25e+3]", "[0,0,1,-1,1.5,-0.0,1E2,1e-2,1.25e+3]");
    CU_ASSERT_EQUAL_FATAL(parse("[9223372036854775807,-9223372036854775808,18446744073709551615,"
                                "18446744073709551616,123456789012345678901234567890,1e-400,1.0]",
                                &o),
                          0);
    json_object *a = o;
    CU_ASSERT_EQUAL(json_object_get_type(json_object_array_get_idx(a, 0)), json_type_int);
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(a, 0)), INT64_MAX);
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(a, 1)), INT64_MIN);
    CU_ASSERT_EQUAL(json_object_get_type(json_object_array_get_idx(a, 2)), json_type_int);
    CU_ASSERT_EQUAL(json_object_get_uint64(json_object_array_get_idx(a, 2)), UINT64_MAX);
    /* past 64 bits: a double (json-c's tokener would clamp to UINT64_MAX) */
    CU_ASSERT_EQUAL(json_object_get_type(json_object_array_get_idx(a, 3)), json_type_double);
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_array_get_idx(a, 3)),
                           18446744073709551616.0, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_array_get_idx(a, 4)), 1.2345678901e29,
                           1e19);
    CU_ASSERT_EQUAL(json_object_get_type(json_object_array_get_idx(a, 5)), json_type_double);
    CU_ASSERT_EQUAL(json_object_get_type(json_object_array_get_idx(a, 6)), json_type_double);
    /* printed as sent */
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                           "[9223372036854775807,-9223372036854775808,18446744073709551615,"
                           "18446744073709551616,123456789012345678901234567890,1e-400,1.0]");
    json_object_put(o);
}

/* What json-c's own tokener builds, for the JSON both accept. */
static void test_same_as_json_c(void)
{
    static const char *const docs[] = {
        "{\"workspace_id\":\"w\",\"user_id\":\"u\",\"agent_id\":\"a\",\"input\":{\"label\":"
        "\"x\",\"count\":3,\"ratio\":0.25,\"tags\":[\"a\",\"b\"],\"on\":true,\"none\":null}}",
        "[1.50,2e3,-7,\"\\u00e9\\ud83d\\ude00\",{\"k\":{\"k\":{\"k\":[]}}}]",
        "{\"time_range\":{\"from\":\"2026-02-23T10:00:00Z\",\"to\":\"2026-02-23T12:00:00+02:00\"}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_object *mine = NULL, *theirs = json_tokener_parse(docs[i]);
        CU_ASSERT_EQUAL_FATAL(parse(docs[i], &mine), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(theirs);
        CU_ASSERT(json_object_equal(mine, theirs));
        CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(mine, JSON_C_TO_STRING_PLAIN),
                               json_object_to_json_string_ext(theirs, JSON_C_TO_STRING_PLAIN));
        json_object_put(mine);
        json_object_put(theirs);
    }
}

static void test_field_buffers(void)
{
    /* a long key with two-byte characters: the field is cut on a character */
    char doc[600], small[8];
    size_t n = (size_t)snprintf(doc, sizeof doc, "{\"");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "\xC3\xA9");
    snprintf(doc + n, sizeof doc - n, "\":NaN}");
    json_object *o = NULL;
    CU_ASSERT_EQUAL(
        sv_json_parse_strict(doc, strlen(doc), &o, g_err, sizeof g_err, small, sizeof small),
        -EINVAL);
    CU_ASSERT_EQUAL(strlen(small), 6); /* three characters, not three and a half */
    /* no buffers at all */
    CU_ASSERT_EQUAL(sv_json_parse_strict("[nan]", 5, &o, NULL, 0, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(sv_json_parse_strict(NULL, 0, &o, g_err, sizeof g_err, NULL, 0), -EINVAL);
    /* not NUL-terminated: only len bytes are read */
    CU_ASSERT_EQUAL(parse_n("{\"a\":1}garbage", 7, &o), 0);
    json_object_put(o);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"duplicate keys refused, with their path", test_duplicate_keys},
        {"single quotes, NaN, Infinity, comments, trailing commas refused", test_lenient_forms},
        {"\\u0000 and lone surrogates refused", test_nul_and_surrogates},
        {"invalid UTF-8 refused", test_invalid_utf8},
        {"grammar errors say where", test_grammar},
        {"nesting limit", test_depth},
        {"valid edge cases", test_valid},
        {"numbers: int64, uint64, big ones as doubles", test_numbers},
        {"same objects as json-c's tokener", test_same_as_json_c},
        {"field cut on a character; NULL buffers", test_field_buffers},
    };
    static const sv_cu_suite suites[] = {
        {.name = "json_strict", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
