/* test_trace_ids.c - core/trace.c: the traceparent parser's accept and refuse
 * sets, fresh ids, and the trace id derived for a run stored without one
 * (the same in both views of it). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "run.h"
#include "store.h"
#include "trace.h"

#define T "4bf92f3577b34da6a3ce929d0e0e4736"
#define S "00f067aa0ba902b7"

static void test_parse(void)
{
    char id[SV_TRACE_ID_LEN];
    unsigned flags = 99;
    CU_ASSERT_EQUAL(sv_traceparent_parse("00-" T "-" S "-01", id, &flags), 0);
    CU_ASSERT_STRING_EQUAL(id, T);
    CU_ASSERT_EQUAL(flags, 1);
    CU_ASSERT_EQUAL(sv_traceparent_parse(" 00-" T "-" S "-a3\t", id, &flags), 0);
    CU_ASSERT_EQUAL(flags, 0xa3);
    /* a later version: the first 55 characters, then nothing or "-..." */
    CU_ASSERT_EQUAL(sv_traceparent_parse("cc-" T "-" S "-00", id, &flags), 0);
    CU_ASSERT_EQUAL(sv_traceparent_parse("01-" T "-" S "-00-more", id, &flags), 0);
    CU_ASSERT_EQUAL(flags, 0);
    static const char *const bad[] = {
        "00-" T "-" S "-01-more", /* version 00 is exactly 55 */
        "01-" T "-" S "-00more",  /* a later version: "-" after 55 */
        "ff-" T "-" S "-01",
        "0-" T "-" S "-01",
        "00-" T "-" S "-1",
        "00-" T "-" S "-0g",
        "00-" T "-" S "-0A",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" S "-01",
        "00-" T "-00F067AA0BA902B7-01",
        "00-00000000000000000000000000000000-" S "-01",
        "00-" T "-0000000000000000-01",
        "00+" T "-" S "-01",
        "00-" T "+" S "-01",
        "00-" T "-" S "+01",
        "",
        "00",
        NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(sv_traceparent_parse(bad[i], id, &flags), -EINVAL);
}

static void test_fresh_and_derived(void)
{
    char a[SV_TRACE_ID_LEN], b[SV_TRACE_ID_LEN], s[SV_SPAN_ID_LEN];
    CU_ASSERT_EQUAL(sv_trace_id_new(a), 0);
    CU_ASSERT_EQUAL(sv_trace_id_new(b), 0);
    CU_ASSERT(sv_trace_id_valid(a) && sv_trace_id_valid(b));
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(sv_trace_span_new(s), 0);
    CU_ASSERT_EQUAL(strlen(s), 16);
    CU_ASSERT_FALSE(sv_trace_id_valid("00000000000000000000000000000000"));
    CU_ASSERT_FALSE(sv_trace_id_valid(T "0"));
    CU_ASSERT_FALSE(sv_trace_id_valid(NULL));
    /* stable, valid, and different per run id */
    sv_trace_id_derive("gr_0123456789abcdef0123456789abcdef", a);
    sv_trace_id_derive("gr_0123456789abcdef0123456789abcdef", b);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT(sv_trace_id_valid(a));
    sv_trace_id_derive("gr_0123456789abcdef0123456789abcdee", b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

/* A record written before trace ids: both views show the derived id, and a
 * record with one shows its own. */
static void test_old_record_view(void)
{
    sv_store *st = NULL;
    const char *old_id = "gr_0123456789abcdef0123456789abcdef";
    const char *new_id = "gr_fedcba9876543210fedcba9876543210";
    char want[SV_TRACE_ID_LEN], ws[64], *text = NULL;
    sv_trace_id_derive(old_id, want);
    CU_ASSERT_FATAL(sv_store_mem_new(60, &st) == 0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, old_id,
                                        "{\"run_id\":\"gr_0123456789abcdef0123456789abcdef\","
                                        "\"workspace_id\":\"w\",\"status\":\"succeeded\"}",
                                        "{}", 1),
                    0);
    CU_ASSERT_EQUAL(st->ops->run_create(st, new_id,
                                        "{\"run_id\":\"gr_fedcba9876543210fedcba9876543210\","
                                        "\"workspace_id\":\"w\",\"trace_id\":\"" T "\"}",
                                        "{}", 2),
                    0);
    CU_ASSERT_EQUAL_FATAL(sv_run_view_text(st, old_id, &text, ws, sizeof ws), 0);
    json_object *v = json_tokener_parse(text);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(v, "trace_id"), want);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(v, "status"), "succeeded");
    json_object_put(v);
    free(text);
    CU_ASSERT_EQUAL_FATAL(sv_run_view(st, old_id, &v), 0);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(v, "trace_id"), want);
    json_object_put(v);
    CU_ASSERT_EQUAL_FATAL(sv_run_view_text(st, new_id, &text, ws, sizeof ws), 0);
    v = json_tokener_parse(text);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(v, "trace_id"), T);
    CU_ASSERT_PTR_NULL(strstr(text, want));
    json_object_put(v);
    free(text);
    CU_ASSERT_EQUAL_FATAL(sv_run_view(st, new_id, &v), 0);
    CU_ASSERT_STRING_EQUAL(sv_run_record_str(v, "trace_id"), T);
    json_object_put(v);
    st->ops->destroy(st);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"traceparent: accepted and refused", test_parse},
        {"fresh and derived ids", test_fresh_and_derived},
        {"a run stored without a trace id shows the derived one", test_old_record_view},
    };
    static const sv_cu_suite suites[] = {
        {.name = "trace", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
