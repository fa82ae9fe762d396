/*
 * test_sdk_kit.c - the SDK's test kit (libsofiia-sdk-test) is exactly as
 * strict as the daemon: the same refusals at load and at start, the same
 * outcomes of a node's return code and step (node_failed, cancelled,
 * bad_next_node), the host's checks of params and events, the deadline
 * ("timeout") and MAX_NODES_PER_RUN ("node_limit"); its scripted answers
 * repeat the last one; a 1.0 plugin and a built .so load on it.  Also the
 * helpers of sofiia/graph_helpers.h.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofiia/graph_test.h>

#include "cu_run.h"

/* ---- a graph that does what its input says ------------------------------- */

static int act(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    const char *mode = sv_input_str(ctx, host, "mode", "");
    sv_error err;
    json_object *data = NULL;
    if (strcmp(mode, "checks") == 0) {
        /* what the host refuses, each without a call */
        json_object *arr = json_object_new_array();
        int params_rc = host->tool_call(ctx, "t", "a", arr, NULL, &err);
        json_object_put(arr);
        json_object *r = sv_params("{'params_rc': %d, 'params_code': %s}", params_rc, err.code);
        sv_json_set(r, "bad_tool_rc",
                    json_object_new_int(host->tool_call(ctx, "no spaces", "a", NULL, NULL, &err)));
        sv_json_set(r, "reserved_rc",
                    json_object_new_int(host->event(ctx, "run_end", json_object_new_object())));
        sv_json_set(r, "array_details_rc",
                    json_object_new_int(host->event(ctx, "mine", json_object_new_array())));
        sv_json_set(r, "event_rc",
                    json_object_new_int(host->event(ctx, "mine", sv_params("{'n': 1}"))));
        sv_json_set(r, "setting", json_object_new_int64(sv_setting_int(host, "limit", -1)));
        host->set_result(ctx, r);
        return SV_OK;
    }
    if (strcmp(mode, "unknown_next") == 0) {
        step->next = "nowhere";
        return SV_OK;
    }
    if (strcmp(mode, "rc_no_fail") == 0)
        return SV_ERR;
    if (strcmp(mode, "bad_code") == 0) {
        host->fail(ctx, "has space", "x");
        return SV_ERR;
    }
    if (strcmp(mode, "self_cancel") == 0)
        return SV_ECANCELLED;
    if (strcmp(mode, "loop") == 0 || strcmp(mode, "wait") == 0) {
        int64_t n = sv_state_incr(ctx, host, "n");
        int rc = sv_call(ctx, host, "t", "tick", sv_params("{'n': %lld}", (long long)n), &data);
        if (rc != SV_OK)
            return rc;
        sv_state_set(ctx, host, "last", data);
        step->next = "act";
        step->delay_ms = strcmp(mode, "wait") == 0 ? 1000 : 0;
        return SV_OK;
    }
    return sv_fail(ctx, host, "bad_mode", "unknown mode \"%s\"", mode);
}

static void on_cancel(sv_ctx *ctx, const sv_host *host, int reason)
{
    sv_try_call(ctx, host, "t", "cleanup",
                sv_params("{'reason': %s}", reason == SV_CANCEL_TIMEOUT ? "timeout" : "user"), NULL,
                NULL);
}

static const sv_node g_nodes[] = {{.name = "act", .run = act, .next = NULL}};
static const sv_setting g_settings[] = {
    {.name = "limit", .type = SV_SETTING_INT, .def = "3", .min = 1, .max = 9},
};

static sv_graph g_graph = {SV_GRAPH_ABI,
                           .name = "kit_demo",
                           .version = "1.0.0",
                           .input_schema = "{\"type\":\"object\",\"properties\":{"
                                           "\"mode\":{\"type\":\"string\",\"enum\":[\"checks\","
                                           "\"unknown_next\",\"rc_no_fail\",\"bad_code\","
                                           "\"self_cancel\",\"loop\",\"wait\",\"x\"]}},"
                                           "\"required\":[\"mode\"]}",
                           .nodes = g_nodes,
                           .n_nodes = 1,
                           .entry = "act",
                           .on_cancel = on_cancel,
                           .settings = g_settings,
                           .n_settings = 1,
                           .deadline = {.default_sec = 5}};

static sv_test *kit(void)
{
    sv_test *t = sv_test_new(&g_graph);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

static void test_host_checks(void)
{
    sv_test *t = kit();
    CU_ASSERT_EQUAL(sv_test_setting(t, "limit", "7"), 0);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'checks'}"), SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_result(t, "",
                                    "{'params_rc': -4, 'params_code': 'bad_request', "
                                    "'bad_tool_rc': -4, 'reserved_rc': -4, "
                                    "'array_details_rc': -4, 'event_rc': 0, 'setting': 7}"));
    CU_ASSERT_EQUAL(sv_test_calls(t), 0); /* refused calls never reach the router */
    CU_ASSERT(sv_test_expect_events(t, "mine", "act", 1));
    CU_ASSERT(sv_test_expect_events(t, "run_end", NULL, 1));
    sv_test_free(t);
}

static void test_outcomes(void)
{
    static const char *const cases[][3] = {
        {"unknown_next", "bad_next_node", "the graph asked for an unknown node \"nowhere\""},
        {"rc_no_fail", "node_failed", "node act failed"},
        {"bad_code", "node_failed", "x"},
        {"self_cancel", "cancelled", "node act returned SV_ECANCELLED"},
        {"x", "bad_mode", "unknown mode \"x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char input[64];
        sv_test *t = kit();
        snprintf(input, sizeof input, "{'mode': '%s'}", cases[i][0]);
        CU_ASSERT_EQUAL(sv_test_run(t, input), SV_TEST_FAILED);
        CU_ASSERT(sv_test_expect_status(t, "failed", cases[i][1]));
        CU_ASSERT_STRING_EQUAL(sv_test_error_message(t), cases[i][2]);
        CU_ASSERT_EQUAL(sv_test_on_cancel_calls(t), 0);
        sv_test_free(t);
    }
}

static void test_refusals(void)
{
    /* the input, as POST /v1/graphs/{name}/runs refuses it */
    sv_test *t = kit();
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'nope'}"), -1);
    CU_ASSERT(sv_test_expect_refused(t, "invalid_input", "mode"));
    CU_ASSERT_EQUAL(sv_test_start(t, "{'mode': 'x', 'extra': 1}"), -1);
    CU_ASSERT(sv_test_expect_refused(t, "invalid_input", "extra"));
    CU_ASSERT_EQUAL(sv_test_start(t, "{}"), -1);
    CU_ASSERT(sv_test_expect_refused(t, "invalid_input", "mode"));
    /* strict JSON: duplicate keys are 400 for the API */
    CU_ASSERT_EQUAL(sv_test_start(t, "{\"mode\":\"x\",\"mode\":\"y\"}"), -1);
    CU_ASSERT(sv_test_expect_refused(t, "invalid_json", NULL));
    CU_ASSERT_EQUAL(sv_test_start(t, "[1]"), -1);
    CU_ASSERT(sv_test_expect_refused(t, "invalid_input", "input"));
    sv_test_free(t);

    /* settings: a bad value refuses the graph, as the daemon's loader does */
    t = kit();
    CU_ASSERT_EQUAL(sv_test_setting(t, "limit", "10"), 0);
    CU_ASSERT_EQUAL(sv_test_setting(t, "nope", "1"), -1);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'x'}"), -1);
    CU_ASSERT(sv_test_expect_refused(t, "graph_not_loaded", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(sv_test_why(t), "out of range (expected 1..9)"));
    sv_test_free(t);

    /* descriptors the loader refuses, with its words */
    sv_graph g = g_graph;
    g.abi_major = 2;
    t = sv_test_new(&g);
    CU_ASSERT_EQUAL(sv_test_load(t), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sv_test_why(t), "built for SDK ABI 2.1"));
    sv_test_free(t);
    g = g_graph;
    g.entry = "missing";
    t = sv_test_new(&g);
    CU_ASSERT_EQUAL(sv_test_load(t), -1);
    CU_ASSERT_STRING_EQUAL(sv_test_why(t),
                           "graph kit_demo: entry node \"missing\" is not one of its nodes");
    sv_test_free(t);
    g = g_graph;
    g.input_schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"strng\"}}}";
    t = sv_test_new(&g);
    CU_ASSERT_EQUAL(sv_test_load(t), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sv_test_why(t), "graph kit_demo: input_schema:"));
    sv_test_free(t);
}

static void test_answers_repeat_last(void)
{
    sv_test *t = kit();
    sv_test_answer(t, "t", "tick", "{'k': 1}");
    sv_test_answer(t, "t", "tick", "{'k': 2}");
    sv_test_answer_error(t, "t", "cleanup", "forbidden", "no");
    sv_test_daemon_limits(t, 3600, 5);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'loop'}"), SV_TEST_FAILED);
    /* MAX_NODES_PER_RUN ends a graph that loops for ever */
    CU_ASSERT(sv_test_expect_status(t, "failed", "node_limit"));
    CU_ASSERT(sv_test_expect_path(t, "act,act,act,act,act"));
    CU_ASSERT(sv_test_expect_calls(t, "t", "tick", 5));
    CU_ASSERT(sv_test_expect_call(t, 0, "t", "tick", "{'n': 1}"));
    CU_ASSERT(sv_test_expect_call(t, 4, "t", "tick", "{'n': 5}"));
    CU_ASSERT(sv_test_expect_state(t, "last", "{'k': 2}"));
    CU_ASSERT_STRING_EQUAL(sv_test_call_at(t, 2)->call_id,
                           "gr_00000000000000000000000000000001:act:3");
    /* not stopped by a cancel or the deadline: no cleanup */
    CU_ASSERT_EQUAL(sv_test_on_cancel_calls(t), 0);
    sv_test_free(t);

    /* a tool with no script: router-sim's 404, through sv_call's one line */
    t = kit();
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'loop'}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "not_found"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sv_test_error_message(t), "t/tick failed: router answered"));
    sv_test_free(t);
}

static void test_deadline_and_cancel(void)
{
    sv_test *t = kit();
    sv_test_answer(t, "t", NULL, "{}"); /* any action of tool t */
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'wait'}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "timeout"));
    CU_ASSERT_EQUAL(sv_test_now_ms(t) - 1771840800000LL, 5000);
    CU_ASSERT_EQUAL(sv_test_count_calls(t, "t", "tick"), 5);
    CU_ASSERT(sv_test_expect_call(t, -1, "t", "cleanup", "{'reason': 'timeout'}"));
    CU_ASSERT_STRING_EQUAL(sv_test_call_at(t, -1)->node, "on_cancel");
    CU_ASSERT(sv_test_expect_events(t, "tool_call", "on_cancel", 1));
    sv_test_free(t);

    /* a slow answer passes the deadline: the call is aborted */
    t = kit();
    sv_test_answer(t, "t", "tick", "{}");
    sv_test_answer_latency(t, "t", "tick", 9000);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'loop'}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "timeout"));
    CU_ASSERT_EQUAL(sv_test_call_at(t, 0)->rc, SV_ECANCELLED);
    sv_test_free(t);

    /* cancelled while waiting after the second node */
    t = kit();
    sv_test_answer(t, "t", NULL, "{}");
    sv_test_cancel_after_node(t, 2);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'wait'}"), SV_TEST_CANCELLED);
    CU_ASSERT(sv_test_expect_path(t, "act,act"));
    CU_ASSERT(sv_test_expect_call(t, -1, "t", "cleanup", "{'reason': 'user'}"));
    CU_ASSERT(sv_test_expect_status(t, "cancelled", ""));
    sv_test_free(t);
}

/* ---- a plugin file, and one of ABI 1.0 ------------------------------------------ */

static void plugin_path(const char *name, char *buf, size_t len)
{
    const char *b = getenv("SV_BUILDDIR");
    snprintf(buf, len, "%s/tests/plugins/.libs/%s.so", b ? b : ".", name);
}

static void test_open_files(void)
{
    char path[1024];
    plugin_path("test_settings", path, sizeof path);
    sv_test *t = sv_test_open(path);
    CU_ASSERT_EQUAL(sv_test_setting(t, "mode", "slow"), 0);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'loops': 2, 'delay_ms': 100, 'deadline_sec': 90}"),
                    SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_result(t, "",
                                    "{'limit': 10, 'mode': 'slow', 'verbose': false, 'ratio': "
                                    "0.5, 'deadline_ms': 60000, 'loops': 2}"));
    CU_ASSERT_EQUAL(sv_test_waited_ms(t), 200);
    sv_test_free(t);

    /* a plugin built against the 1.0 header runs on the 1.1 kit */
    plugin_path("test_abi10", path, sizeof path);
    t = sv_test_open(path);
    sv_test_answer(t, "test_tool", "step", "{}");
    CU_ASSERT_EQUAL(sv_test_run(t, NULL), SV_TEST_SUCCEEDED);
    CU_ASSERT(sv_test_expect_result(t, "", "{'abi': '1.0', 'limit': -1, 'host_minor': 1}"));
    sv_test_free(t);

    plugin_path("test_settings_bad", path, sizeof path);
    t = sv_test_open(path);
    CU_ASSERT_EQUAL(sv_test_load(t), -1);
    CU_ASSERT_STRING_EQUAL(sv_test_why(t), "graph test_settings: setting limit: default "
                                           "\"1000\": out of range (expected 1..100)");
    sv_test_free(t);

    t = sv_test_open("/nonexistent/x.so");
    CU_ASSERT_EQUAL(sv_test_load(t), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sv_test_why(t), "dlopen failed"));
    sv_test_free(t);
}

/* ---- the helpers -------------------------------------------------------------------- */

static void test_helpers(void)
{
    json_object *o = sv_params("{'s': %s, 'q': %s, 'd': %d, 'u': %u, 'l': %ld, 'll': %lld, "
                               "'g': %g, 'b': %b, 'j': %j, 'n': %s, 'pct': '100%%'}",
                               "a\"b\\c\n", "it's", -3, 4u, 5L, 6LL, 0.25, 0, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                           "{\"s\":\"a\\\"b\\\\c\\n\",\"q\":\"it's\",\"d\":-3,\"u\":4,\"l\":5,"
                           "\"ll\":6,\"g\":0.25,\"b\":false,\"j\":null,\"n\":null,\"pct\":"
                           "\"100%\"}");
    json_object_put(o);
    CU_ASSERT_PTR_NULL(sv_params("[%d]", 1));      /* not an object */
    CU_ASSERT_PTR_NULL(sv_params("{'a': %q}", 1)); /* unknown conversion */
    CU_ASSERT_PTR_NULL(sv_params("{'a': %d", 1));  /* not JSON */

    o = json_tokener_parse("{\"a\":{\"b\":[{\"c\":7},{\"c\":2.0}]},\"s\":\"x\",\"t\":true}");
    CU_ASSERT_EQUAL(sv_json_int(o, "a.b[0].c", -1), 7);
    CU_ASSERT_EQUAL(sv_json_int(o, "a.b[1].c", -1), 2);
    CU_ASSERT_EQUAL(sv_json_int(o, "a.b[2].c", -1), -1);
    CU_ASSERT_EQUAL(sv_json_int(o, "s", -1), -1);
    CU_ASSERT_STRING_EQUAL(sv_json_str(o, "s", "d"), "x");
    CU_ASSERT_STRING_EQUAL(sv_json_str(o, "a", "d"), "d");
    CU_ASSERT_EQUAL(sv_json_bool(o, "t", 0), 1);
    CU_ASSERT_PTR_NULL(sv_json_at(o, "a..b"));
    CU_ASSERT_PTR_NULL(sv_json_at(o, "a.b[x]"));
    CU_ASSERT_EQUAL(sv_json_set(o, "new.deep.k", json_object_new_int(1)), SV_OK);
    CU_ASSERT_EQUAL(sv_json_int(o, "new.deep.k", 0), 1);
    CU_ASSERT_EQUAL(sv_json_set(o, "s.k", json_object_new_int(1)), SV_EINVAL); /* s: a string */
    CU_ASSERT_EQUAL(sv_json_set(o, "a.b[0]", json_object_new_int(1)), SV_EINVAL);
    CU_ASSERT_EQUAL(sv_json_set(o, "k", NULL), SV_ENOMEM);
    json_object_put(o);

    /* sv_call's message is one line the host keeps whole */
    char long_msg[600];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    long_msg[10] = '\n';
    sv_test *t = kit();
    sv_test_answer_error(t, "t", "tick", "quota", long_msg);
    CU_ASSERT_EQUAL(sv_test_run(t, "{'mode': 'loop'}"), SV_TEST_FAILED);
    CU_ASSERT(sv_test_expect_status(t, "failed", "quota"));
    CU_ASSERT_PTR_NULL(strchr(sv_test_error_message(t), '\n'));
    CU_ASSERT_EQUAL(strncmp(sv_test_error_message(t), "t/tick failed: mmmmmmmmmm m", 27), 0);
    CU_ASSERT_EQUAL(strlen(sv_test_error_message(t)), 255);
    sv_test_free(t);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"host checks as the daemon's", test_host_checks},
        {"a node's outcome as the daemon's", test_outcomes},
        {"refusals at start and load", test_refusals},
        {"answers repeat the last, node_limit", test_answers_repeat_last},
        {"deadline, latency and cancel", test_deadline_and_cancel},
        {"a built .so, and ABI 1.0", test_open_files},
        {"helpers", test_helpers},
    };
    static const sv_cu_suite suites[] = {
        {.name = "sdk test kit", SV_CU_TESTS(tests)},
    };
    int rc = sv_cu_run(suites, sizeof suites / sizeof suites[0]);
    return rc ? rc : sv_test_failures() != 0;
}
