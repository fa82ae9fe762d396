/*
 * mock_host.h - a fake host for unit-testing graph plugins without the daemon
 * (the collectd plugin_mock idea): scripted tool answers, recorded calls, a
 * settable clock and cancel flag, and a driver that walks a graph's nodes.
 */
#ifndef SV_MOCK_HOST_H
#define SV_MOCK_HOST_H

#include <sofiia/graph.h>

#define MOCK_MAX_CALLS 256
#define MOCK_MAX_ANSWERS 256
#define MOCK_MAX_PATH 512

typedef struct mock_call {
    char tool[64];
    char action[64];
    char node[64];
    json_object *params; /* deep copy of what the graph sent */
} mock_call;

typedef struct mock_answer {
    char tool[64];
    char action[64];
    int rc;            /* SV_OK, SV_ETOOL, SV_ECANCELLED */
    json_object *data; /* for SV_OK */
    char err_code[64]; /* for SV_ETOOL */
    int used;
} mock_answer;

typedef struct mock_host mock_host;

/* A mock whose input is the JSON text `input_json` (used as is: run it
 * through mock_prepare() to apply a graph's prepare_input). NULL on error. */
mock_host *mock_host_new(const char *input_json);
void mock_host_free(mock_host *m);

/* The host table to hand to a graph (init, prepare_input, nodes). */
const sv_host *mock_host_table(mock_host *m);
/* The ctx to hand to nodes. */
sv_ctx *mock_ctx(mock_host *m);

/* Queue an answer for the next call of tool/action (FIFO per pair).  data_json
 * is parsed; err_code is used when rc is SV_ETOOL.  A call with no queued
 * answer gets SV_ETOOL "no_mock_answer". */
void mock_answer_add(mock_host *m, const char *tool, const char *action, int rc,
                     const char *data_json, const char *err_code);

/* Settings the graph can observe. */
void mock_set_now_ms(mock_host *m, int64_t now_ms); /* default 1771840800000 (2026-02-23T10:00Z) */
void mock_set_created_ms(mock_host *m, int64_t ms); /* default = now */
void mock_set_config(mock_host *m, const char *key, long value);
/* Cancel the run when the n-th tool call (1-based) is made: that call and all
 * later ones return SV_ECANCELLED and cancelled() becomes true. 0 = never. */
void mock_cancel_at_call(mock_host *m, int n);

/* Run the graph's prepare_input on the mock's input; returns its rc and err. */
int mock_prepare(mock_host *m, const sv_graph *g, sv_error *err);

/*
 * Walk the graph from its entry node as the daemon would: after each node
 * follow step.next (NULL = END), advancing the mock clock by step.delay_ms.
 * Stops after max_steps nodes (-ELOOP).  Returns 0 when the run ended with
 * END, or the failing node's negative return code.  When a node returns
 * SV_ECANCELLED, the graph's on_cancel(reason) is called once, as the daemon
 * does.  The node path is recorded (mock_path()).
 */
int mock_run(mock_host *m, const sv_graph *g, int max_steps, int cancel_reason);

/* What happened. */
json_object *mock_input(mock_host *m);    /* borrowed */
json_object *mock_state(mock_host *m);    /* borrowed */
json_object *mock_result(mock_host *m);   /* borrowed, NULL if never set */
const char *mock_fail_code(mock_host *m); /* "" if fail() not called */
const char *mock_fail_message(mock_host *m);
int mock_n_calls(mock_host *m);
const mock_call *mock_get_call(mock_host *m, int i);
/* Number of calls made of tool/action. */
int mock_count_calls(mock_host *m, const char *tool, const char *action);
json_object *mock_events(mock_host *m); /* borrowed array of {"type","details"} */
const char *mock_path(mock_host *m);    /* "start_job,poll_job,poll_job,finalize" */
int64_t mock_total_delay_ms(mock_host *m);
int mock_on_cancel_calls(mock_host *m);

#endif
