/*
 * test_@GRAPH@.c - unit tests of the @GRAPH@ graph on the SDK's test kit
 * (<sofiia/graph_test.h>): the built @GRAPH@.so is loaded as the daemon
 * loads it and run on a mock host with the daemon's own rules and scripted
 * tool answers (the last answer of a tool/action repeats).  `make check`.
 */
#include <sofiia/graph_test.h>

#include <stdio.h>
#include <stdlib.h>

static sv_test *kit(void)
{
    sv_test *t = sv_test_open("./@GRAPH@.so");
    if (!t) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return t;
}

/* Submitted, two polls say running, the third done. */
static void test_done(void)
{
    sv_test *t = kit();
    sv_test_answer(t, "example_tool", "submit", "{'job_id': 'j-1'}");
    sv_test_answer(t, "example_tool", "status", "{'status': 'running'}");
    sv_test_answer(t, "example_tool", "status", "{'status': 'running'}");
    sv_test_answer(t, "example_tool", "status", "{'status': 'done', 'output': 'ok'}");
    sv_test_run(t, "{'what': 'build', 'poll_ms': 500}");
    sv_test_expect_status(t, "succeeded", NULL);
    sv_test_expect_path(t, "submit,poll,poll,poll");
    sv_test_expect_call(t, 0, "example_tool", "submit", "{'what': 'build'}");
    sv_test_expect_call(t, 1, "example_tool", "status", "{'job_id': 'j-1'}");
    sv_test_expect_calls(t, "example_tool", "status", 3);
    sv_test_expect_result(t, "", "{'output': 'ok', 'polls': 3}");
    sv_test_expect_events(t, "tool_call", NULL, 4);
    if (sv_test_waited_ms(t) != 1000)
        fprintf(stderr, "FAILED: expected 1000 ms of waits, got %lld\n",
                (long long)sv_test_waited_ms(t));
    sv_test_free(t);
}

/* The router refuses the call: the run fails with its code. */
static void test_denied(void)
{
    sv_test *t = kit();
    sv_test_answer_error(t, "example_tool", "submit", "forbidden", "not for this agent");
    sv_test_run(t, "{'what': 'build'}");
    sv_test_expect_status(t, "failed", "forbidden");
    sv_test_free(t);
}

/* Never done: max_polls (a setting) ends it; at 2 here. */
static void test_gives_up(void)
{
    sv_test *t = kit();
    sv_test_setting(t, "max_polls", "2");
    sv_test_answer(t, "example_tool", "submit", "{'job_id': 'j-2'}");
    sv_test_answer(t, "example_tool", "status", "{'status': 'running'}");
    sv_test_run(t, "{'what': 'build', 'poll_ms': 10}");
    sv_test_expect_status(t, "failed", "not_done");
    sv_test_expect_calls(t, "example_tool", "status", 2);
    sv_test_free(t);
}

/* Past its deadline (timeout_sec) the run fails with timeout, and the
 * cancel hook cancels the job. */
static void test_deadline(void)
{
    sv_test *t = kit();
    sv_test_answer(t, "example_tool", "submit", "{'job_id': 'j-3'}");
    sv_test_answer(t, "example_tool", "status", "{'status': 'running'}");
    sv_test_answer(t, "example_tool", "cancel", "{}");
    sv_test_run(t, "{'what': 'build', 'poll_ms': 1000, 'timeout_sec': 3}");
    sv_test_expect_status(t, "failed", "timeout");
    sv_test_expect_call(t, -1, "example_tool", "cancel", "{'job_id': 'j-3'}");
    sv_test_free(t);
}

/* A bad input never starts: the 400 the caller gets. */
static void test_bad_input(void)
{
    sv_test *t = kit();
    sv_test_run(t, "{'what': ''}");
    sv_test_expect_refused(t, "invalid_input", "what");
    sv_test_free(t);
}

int main(void)
{
    test_done();
    test_denied();
    test_gives_up();
    test_deadline();
    test_bad_input();
    if (sv_test_failures()) {
        fprintf(stderr, "test_@GRAPH@: %d expectation(s) failed\n", sv_test_failures());
        return 1;
    }
    printf("test_@GRAPH@: all passed\n");
    return 0;
}
