/*
 * test_schema_limits.c - hostile inputs for the input-schema validator
 * (core/schema.c): 10000-element arrays and objects, 200-deep nesting of
 * inputs and schemas, over-long names cut on a character boundary, and
 * throughput.
 */
#include "cu_run.h"
#include "schema_test_support.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- size and depth ------------------------------------------------------ */

static void test_big_array(void)
{
    json_object *in = json_object_new_object();
    json_object *arr = json_object_new_array_ext(10000);
    for (int i = 0; i < 10000; i++)
        json_object_array_add(arr, json_object_new_string("python"));
    json_object_object_add(in, "deps_targets", arr);
    sv_error err;
    CU_ASSERT_EQUAL(sv_schema_validate(sct_release_check, in, &err), 0);
    json_object_array_put_idx(arr, 9999, json_object_new_int(1));
    sct_expect_err_obj(sct_release_check, in, "deps_targets[9999]",
                       "must be a string, got integer");
    json_object_put(in);

    /* 10000 unknown fields: the first one is reported. */
    in = json_object_new_object();
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        json_object_object_add(in, key, json_object_new_int(i));
    }
    CU_ASSERT_EQUAL(sv_schema_validate(sct_release_check, in, &err), -EINVAL);
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
    sct_expect_err_obj(sct_release_check, in, "timeouts.k",
                       "unknown field \"k\"; allowed: overall_sec");
    json_object_object_add(in, "timeouts", json_object_new_object());
    json_object_object_add(in, "deps_targets", nest(200, true, json_object_new_string("x")));
    sct_expect_err_obj(sct_release_check, in, "deps_targets[0]", "must be a string, got array");
    json_object_put(in);

    /* Deep input in a free-form array is accepted as it is. */
    json_object *s = sct_pj("{'type':'object','properties':{'any':{'type':'array'},"
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
    json_object *leaf = sct_pj("{'type':'string'}");
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
    CU_ASSERT_EQUAL(sv_schema_validate(sct_release_check, in, &err), -EINVAL);
    CU_ASSERT(strlen(err.field) < sizeof err.field);
    CU_ASSERT(strlen(err.field) >= sizeof err.field - 3);
    CU_ASSERT(sct_valid_utf8(err.field));
    CU_ASSERT(sct_valid_utf8(err.message));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "...\"; allowed: service_name"));
    json_object_put(in);

    /* Odd bytes in a key are escaped, so the message reads on one line. */
    in = json_object_new_object();
    json_object_object_add(in, "a\"b\n\xff", json_object_new_int(1));
    CU_ASSERT_EQUAL(sv_schema_validate(sct_release_check, in, &err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(err.field, "a\\\"b\\u000a\\xff");
    CU_ASSERT(strncmp(err.message, "unknown field \"a\\\"b\\u000a\\xff\"; allowed:", 40) == 0);
    json_object_put(in);

    /* A long list of allowed names ends in "..." inside the buffer. */
    json_object *props = json_object_new_object();
    char name[64];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "property_with_a_long_name_%03d", i);
        json_object_object_add(props, name, sct_pj("{'type':'string'}"));
    }
    json_object *s = json_object_new_object();
    json_object_object_add(s, "type", json_object_new_string("object"));
    json_object_object_add(s, "properties", props);
    in = sct_pj("{'nope':1}");
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
    json_object *base = sct_pj("{'service':'router','symptom':'High error rate after deploy',"
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
        ok += sv_schema_validate(sct_incident_triage, in, &err) == 0;
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
    static const sv_cu_test tests[] = {
        {"10000-element arrays and objects", test_big_array},
        {"200-deep nesting", test_deep_nesting},
        {"truncation", test_truncation},
        {"throughput", test_throughput},
    };
    static const sv_cu_suite suites[] = {
        {.name = "schema limits",
         SV_CU_TESTS(tests),
         .init = sct_suite_init,
         .clean = sct_suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
