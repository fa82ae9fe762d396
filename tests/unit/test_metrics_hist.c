/*
 * test_metrics_hist.c - the labelled families of /metrics (core/metrics_hist.c):
 * le is inclusive and buckets cumulative; the series cap folds the excess
 * into the SV_MFAM_OVERFLOW series, as do over-long and invalid UTF-8 values;
 * label values are escaped; concurrent recording loses nothing.
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cu_run.h"
#include "metrics_hist.h"

static char *render(sv_mfam *f)
{
    sv_mtext t = {0};
    sv_mfam_render(f, &t);
    CU_ASSERT_FATAL(!t.failed && t.p);
    return t.p;
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_buckets(void)
{
    sv_mfam_reset_all();
    const char *v[] = {"g", "n"};
    sv_mfam_observe(&sv_mfam_node_duration, v, 1000); /* exactly 1 ms: le="0.001" */
    sv_mfam_observe(&sv_mfam_node_duration, v, 1001); /* le="0.0025" */
    sv_mfam_observe(&sv_mfam_node_duration, v, 90e6); /* past 60 s: +Inf only */
    sv_mfam_observe(&sv_mfam_node_duration, v, -5);   /* a clock step back: 0 */
    char *t = render(&sv_mfam_node_duration);
    CU_ASSERT(strstr(t, "# TYPE sofiia_node_duration_seconds histogram\n") != NULL);
    CU_ASSERT(strstr(t, "sofiia_node_duration_seconds_bucket{graph=\"g\",node=\"n\",le=\"0.001\"} "
                        "2\n") != NULL);
    CU_ASSERT(strstr(t, "sofiia_node_duration_seconds_bucket{graph=\"g\",node=\"n\",le=\"0.0025\"} "
                        "3\n") != NULL);
    CU_ASSERT(strstr(t, "sofiia_node_duration_seconds_bucket{graph=\"g\",node=\"n\",le=\"60\"} "
                        "3\n") != NULL);
    CU_ASSERT(strstr(t, "sofiia_node_duration_seconds_bucket{graph=\"g\",node=\"n\",le=\"+Inf\"} "
                        "4\n") != NULL);
    CU_ASSERT(strstr(t, "sofiia_node_duration_seconds_count{graph=\"g\",node=\"n\"} 4\n") != NULL);
    CU_ASSERT(strstr(t, "sofiia_node_duration_seconds_sum{graph=\"g\",node=\"n\"} 90.002001\n") !=
              NULL);
    CU_ASSERT_EQUAL(count_lines(t, "_bucket{"), 16);
    free(t);
    uint64_t sum = 0;
    CU_ASSERT_EQUAL(sv_mfam_count(&sv_mfam_node_duration, v, &sum), 4);
    CU_ASSERT_EQUAL(sum, 90002001);
}

static void test_cap_and_overflow(void)
{
    sv_mfam_reset_all();
    char tool[32];
    const char *v[] = {tool, "act"};
    for (int i = 0; i < SV_MFAM_MAX_SERIES + 100; i++) {
        snprintf(tool, sizeof tool, "tool_%d", i);
        sv_mfam_add(&sv_mfam_tool_call_retries, v, 1);
        sv_mfam_add(&sv_mfam_tool_call_retries, v, 1); /* the same series, found again */
    }
    /* a known series still counts on its own once the cap is reached */
    snprintf(tool, sizeof tool, "tool_0");
    sv_mfam_add(&sv_mfam_tool_call_retries, v, 5);
    char long_value[SV_MFAM_MAX_VALUE + 2];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    char *t = render(&sv_mfam_tool_call_retries);
    CU_ASSERT_EQUAL(count_lines(t, "\nsofiia_tool_call_retries_total{"), SV_MFAM_MAX_SERIES + 1);
    CU_ASSERT(strstr(t, "sofiia_tool_call_retries_total{tool=\"tool_0\",action=\"act\"} 7\n") !=
              NULL);
    CU_ASSERT(strstr(t, "sofiia_tool_call_retries_total{tool=\"_overflow\",action=\"_overflow\"} "
                        "200\n") != NULL);
    CU_ASSERT(strstr(t, "tool_599") == NULL);
    free(t);

    /* below the cap: an over-long or non-UTF-8 value goes to the overflow */
    sv_mfam_reset_all();
    const char *lv[] = {long_value, "act"};
    sv_mfam_add(&sv_mfam_tool_call_retries, lv, 1);
    const char *bad[] = {"caf\xc3", "act"};
    sv_mfam_add(&sv_mfam_tool_call_retries, bad, 1);
    const char *fine[] = {"caf\xc3\xa9", "act"};
    sv_mfam_add(&sv_mfam_tool_call_retries, fine, 1);
    t = render(&sv_mfam_tool_call_retries);
    CU_ASSERT(strstr(t, "{tool=\"_overflow\",action=\"_overflow\"} 2\n") != NULL);
    CU_ASSERT(strstr(t, "{tool=\"caf\xc3\xa9\",action=\"act\"} 1\n") != NULL);
    CU_ASSERT(strstr(t, "xxxxxxxx") == NULL);
    free(t);
}

static void test_escaping(void)
{
    sv_mfam_reset_all();
    const char *v[] = {"a\"b\\c\nd", "succeeded"};
    sv_mfam_observe(&sv_mfam_run_duration, v, 1);
    char *t = render(&sv_mfam_run_duration);
    CU_ASSERT(strstr(t, "_count{graph=\"a\\\"b\\\\c\\nd\",status=\"succeeded\"} 1\n") != NULL);
    free(t);
}

#define THREADS 4
#define PER_THREAD 200000

static void *hammer(void *arg)
{
    char node[16];
    snprintf(node, sizeof node, "n%d", (int)(long)arg % 2);
    const char *v[] = {"g", node};
    for (int i = 0; i < PER_THREAD; i++)
        sv_mfam_observe(&sv_mfam_node_duration, v, i % 70000);
    return NULL;
}

static void test_concurrent(void)
{
    sv_mfam_reset_all();
    pthread_t th[THREADS];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, hammer, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    const char *n0[] = {"g", "n0"}, *n1[] = {"g", "n1"};
    CU_ASSERT_EQUAL(sv_mfam_count(&sv_mfam_node_duration, n0, NULL), THREADS / 2 * PER_THREAD);
    CU_ASSERT_EQUAL(sv_mfam_count(&sv_mfam_node_duration, n1, NULL), THREADS / 2 * PER_THREAD);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
                (THREADS * PER_THREAD);
    printf("\n    %d threads: %.0f ns per observation (wall clock / observations)\n", THREADS, ns);
    sv_mfam_reset_all();
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"le inclusive, buckets cumulative, _sum and _count", test_buckets},
        {"series cap, overflow series, bad values folded", test_cap_and_overflow},
        {"label values escaped", test_escaping},
        {"concurrent observations all counted", test_concurrent},
    };
    static const sv_cu_suite suites[] = {
        {.name = "metrics_hist", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
