/*
 * test_incident_triage_scenarios.c - whole incidents through the real daemon
 * and router-sim: every tests/scenarios/triage_*.json plays one cause with
 * logs, alerts, health checks, metrics and runbooks (some with misleading
 * noise: the timeouts a pool exhaustion causes, the 503s of a dead upstream),
 * and says in "_expect" (ignored by router-sim) the input to start and what
 * the report must rank first.  Asserts behaviour only; every wait has a
 * deadline (harness).
 *
 * "_expect": {"input": {...}, "rank1": key, "rank1_title": cause text,
 *             "sources": [kinds that must back rank 1 in evidence_by_source],
 *             "also": [keys listed too], "not_listed": [keys absent],
 *             "confidence": level of rank 1, "gap": a source missing}
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "harness.h"

#define S(x) ((x) ? (x) : "(null)")
#define RUN_DEADLINE_MS 30000
#define GRAPH "incident_triage"
#define MIN_SCENARIOS 12
#define MAX_SCENARIOS 64

/* The scenario files, sorted, as "tests/scenarios/triage_x.json". */
static int list_scenarios(char names[][128], int max)
{
    char dir[512];
    int n = 0;
    DIR *d = opendir(th_src("tests/scenarios", dir, sizeof dir));
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "triage_", 7) != 0 || l < 6 ||
            strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        snprintf(names[n++], 128, "tests/scenarios/%.100s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 128, (int (*)(const void *, const void *))strcmp);
    return n;
}

static json_object *read_json(const char *rel)
{
    char path[512];
    char *text = th_read_file(th_src(rel, path, sizeof path), NULL);
    json_object *o = text ? json_tokener_parse(text) : NULL;
    free(text);
    return o;
}

/* Is key the "key" of one of the causes? */
static int listed(json_object *causes, const char *key)
{
    size_t n = causes && json_object_is_type(causes, json_type_array)
                   ? json_object_array_length(causes)
                   : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(S(th_get_str(json_object_array_get_idx(causes, i), "key")), key) == 0)
            return 1;
    return 0;
}

/* Does any string of the array at path contain needle? */
static int any_contains(json_object *o, const char *path, const char *needle)
{
    json_object *arr = th_get(o, path);
    for (long i = 0; i < th_len(o, path); i++)
        if (strstr(S(json_object_get_string(json_object_array_get_idx(arr, (size_t)i))), needle))
            return 1;
    return 0;
}

/* Check a finished run's report against the scenario's expectations; 1
 * when everything held (each failure is also a CUnit failure). */
static int check_report(const char *name, json_object *expect, json_object *view)
{
    char path[128];
    int ok = 1;
    json_object *res = th_get(view, "result"), *causes = th_get(res, "suspected_root_causes");
    json_object *top = th_get(res, "suspected_root_causes[0]");
    const char *want = th_get_str(expect, "rank1");

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "\n  %s: ", name);                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            CU_FAIL(#cond);                                                                        \
            ok = 0;                                                                                \
        }                                                                                          \
    } while (0)

    EXPECT(th_streq(th_get_str(view, "status"), "succeeded"), "run did not succeed");
    EXPECT(th_streq(th_get_str(top, "key"), want), "rank 1 is %s, want %s",
           S(th_get_str(top, "key")), S(want));
    EXPECT(th_streq(th_get_str(top, "cause"), th_get_str(expect, "rank1_title")),
           "rank 1 cause text");
    EXPECT(th_get_int(top, "rank", 0) == 1, "rank field");
    EXPECT(th_len(top, "evidence") > 0, "rank 1 has no evidence");
    EXPECT(strstr(S(th_get_str(res, "summary")), "most likely ") != NULL, "summary");
    for (long i = 0; i < th_len(expect, "sources"); i++) {
        const char *src =
            json_object_get_string(json_object_array_get_idx(th_get(expect, "sources"), (size_t)i));
        snprintf(path, sizeof path, "evidence_by_source.%s", S(src));
        EXPECT(th_len(top, path) > 0, "no %s evidence for rank 1", S(src));
    }
    for (long i = 0; i < th_len(expect, "also"); i++) {
        const char *k =
            json_object_get_string(json_object_array_get_idx(th_get(expect, "also"), (size_t)i));
        EXPECT(listed(causes, k), "%s not listed", S(k));
    }
    for (long i = 0; i < th_len(expect, "not_listed"); i++) {
        const char *k = json_object_get_string(
            json_object_array_get_idx(th_get(expect, "not_listed"), (size_t)i));
        EXPECT(!listed(causes, k), "%s listed", S(k));
    }
    if (th_get_str(expect, "confidence"))
        EXPECT(th_streq(th_get_str(top, "confidence"), th_get_str(expect, "confidence")),
               "confidence of rank 1");
    if (th_get_str(expect, "gap")) {
        /* A missing source is said, and it lowers the confidence. */
        EXPECT(th_len(res, "data_gaps") > 0, "no data gap");
        EXPECT(any_contains(res, "coverage.missing", th_get_str(expect, "gap")),
               "coverage.missing lacks %s", th_get_str(expect, "gap"));
        EXPECT(strstr(S(th_get_str(top, "confidence_reason")), "lower") != NULL,
               "confidence_reason does not say it was lowered");
        EXPECT(strcmp(S(th_get_str(top, "confidence")), "high") != 0, "confidence not lowered");
    } else {
        EXPECT(th_len(res, "data_gaps") == 0, "unexpected data gap");
    }
#undef EXPECT
    printf("\n  %-44s rank 1 %-24s %-6s score %s", name, S(th_get_str(top, "key")),
           S(th_get_str(top, "confidence")), json_object_to_json_string(th_get(top, "score")));
    return ok;
}

/* One scenario: router-sim with it, the daemon, one run to its end. */
static int run_scenario(const char *name)
{
    th_proc sim, d;
    char rid[64] = "";
    static const char *const plugins[] = {GRAPH, NULL};
    json_object *doc = read_json(name), *view = NULL;
    json_object *expect = th_get(doc, "_expect");
    int ok = 0;

    if (!expect || !th_get(expect, "input") || !th_get_str(expect, "rank1")) {
        fprintf(stderr, "\n  %s: no _expect with input and rank1\n", name);
        CU_FAIL("scenario without _expect");
        json_object_put(doc);
        return 0;
    }
    if (th_sim_start(name, NULL, &sim) != 0) {
        CU_FAIL("router-sim did not start");
        json_object_put(doc);
        return 0;
    }
    if (th_daemon_start(plugins, NULL, &sim, &d) != 0) {
        CU_FAIL("daemon did not start");
        th_proc_stop(&sim, 5000);
        json_object_put(doc);
        return 0;
    }
    long status = th_start_run(
        d.port, GRAPH,
        json_object_to_json_string_ext(th_get(expect, "input"), JSON_C_TO_STRING_PLAIN), rid);
    CU_ASSERT_EQUAL(status, 202);
    if (status == 202 && rid[0])
        view = th_wait_run(d.port, rid, RUN_DEADLINE_MS);
    CU_ASSERT_PTR_NOT_NULL(view);
    if (view)
        ok = check_report(name, expect, view);
    json_object_put(view);
    int rc = th_proc_stop(&d, 20000);
    if (rc != 0)
        fprintf(stderr, "\n  %s: daemon exit status %d (log: %s)\n", name, rc, d.log_path);
    CU_ASSERT_EQUAL(rc, 0);
    th_proc_stop(&sim, 5000);
    json_object_put(doc);
    return ok;
}

static void test_scenarios_rank_first(void)
{
    char names[MAX_SCENARIOS][128];
    int n = list_scenarios(names, MAX_SCENARIOS), right = 0;
    CU_ASSERT(n >= MIN_SCENARIOS);
    for (int i = 0; i < n; i++)
        right += run_scenario(names[i]);
    printf("\n  %d of %d scenarios as expected\n", right, n);
    CU_ASSERT_EQUAL(right, n);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"every triage scenario ranks its cause first", test_scenarios_rank_first},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_scenarios", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
