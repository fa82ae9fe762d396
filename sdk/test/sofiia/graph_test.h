/*
 * sofiia/graph_test.h - the SDK's test kit: unit-test a graph without the
 * daemon.  Link with `pkg-config --cflags --libs sofiia-sdk-test`.
 *
 * A test runs a graph in-process on a mock host that is exactly as strict
 * as the daemon, because it runs the daemon's own rules (the same code):
 *   - loading: the ABI check, every descriptor check, the input schema, the
 *     settings' declarations and values, the deadline; then init();
 *   - starting: the input is strict JSON, validated against the schema
 *     (unknown fields, defaults, types, ranges, x-clamp) and put through
 *     prepare_input(), with the code, field and message a caller's 400
 *     would carry;
 *   - running: the host functions refuse what the daemon refuses (a tool or
 *     action that is no word, params that are not an object, reserved or
 *     malformed event types, bad fail() codes), a node's return code and
 *     its step become the daemon's outcome (node_failed, cancelled,
 *     bad_next_node), the run's deadline gives "timeout", MAX_NODES_PER_RUN
 *     gives "node_limit", and on_cancel() is called as the daemon calls it;
 *   - events: the run's events as the run view lists them (run_start,
 *     node_start, tool_call, node_end, node_error, run_end and the graph's).
 * Time is simulated: it starts at 2026-02-23T10:00:00Z, a step's delay_ms
 * and an answer's latency move it, and nothing sleeps.
 *
 * Tool answers are scripted per tool and action, in order, the last one
 * repeating for ever (as router-sim does); a call with no script fails
 * with "not_found" (router-sim's 404 for an unknown tool).
 *
 *   sv_test *t = sv_test_new(&sv_graph_descriptor);   // or sv_test_open("g.so")
 *   sv_test_answer(t, "job_tool", "start", "{'job_id': 'j1'}");
 *   sv_test_run(t, "{'name': 'x'}");                  // ' stands for " here
 *   sv_test_expect_status(t, "succeeded", NULL);
 *   sv_test_expect_call(t, 0, "job_tool", "start", "{'name': 'x'}");
 *   sv_test_free(t);
 *   return sv_test_failures() ? 1 : 0;
 *
 * A JSON text given to the kit (inputs, answers, expected values) that has
 * no double quote at all may use ' for " (so C strings need no escapes);
 * a text with any " in it is taken as it is.
 * Everything the kit returns is borrowed and valid until sv_test_free().
 * Single-threaded: one sv_test per thread.
 */
#ifndef SOFIIA_GRAPH_TEST_H
#define SOFIIA_GRAPH_TEST_H

#include <stdint.h>
#include <sofiia/graph.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_test sv_test;

/* A run's status, as GET /v1/runs/{id} names it. */
enum sv_test_status {
    SV_TEST_NEW = 0,   /* not started (or the input was refused) */
    SV_TEST_RUNNING,   /* started, not ended */
    SV_TEST_SUCCEEDED, /* "succeeded" */
    SV_TEST_FAILED,    /* "failed": sv_test_error_code() says why */
    SV_TEST_CANCELLED, /* "cancelled" */
};

/* ---- the graph ------------------------------------------------------------ */

/* A kit for the graph g, linked into the test (its descriptor symbol).
 * NULL only when out of memory. */
sv_test *sv_test_new(const sv_graph *g);
/* A kit for a built plugin file, dlopen()ed with RTLD_NOW|RTLD_LOCAL as the
 * daemon does (a missing library or symbol shows in sv_test_why()). */
sv_test *sv_test_open(const char *so_path);
/* fini() (when init() ran), and everything freed. */
void sv_test_free(sv_test *t);

/* A setting of the graph, as the operator would write it (before the
 * load).  0, or -1 when the graph declares no such setting. */
int sv_test_setting(sv_test *t, const char *name, const char *value);
/* The daemon's RUN_DEFAULT_TIMEOUT_SEC (3600) and MAX_NODES_PER_RUN
 * (10000) for this run; before sv_test_start(). */
void sv_test_daemon_limits(sv_test *t, int64_t run_default_timeout_sec, int max_nodes_per_run);

/* Load the graph as the daemon would (done by the first start if not
 * before): 0, or -1 with the loader's reason in sv_test_why(). */
int sv_test_load(sv_test *t);
/* Why the load failed, as the daemon's log would say it ("" when it did
 * not). */
const char *sv_test_why(sv_test *t);

/* ---- answers -------------------------------------------------------------- */

/* The next answer of tool/action (action NULL: any action of tool):
 * succeeded with data_json as its "data" (NULL: none). */
void sv_test_answer(sv_test *t, const char *tool, const char *action, const char *data_json);
/* The next answer: failed with this code (the router's own, or what the
 * daemon gives: "forbidden", "unavailable", "timeout", ...) and message. */
void sv_test_answer_error(sv_test *t, const char *tool, const char *action, const char *code,
                          const char *message);
/* The last answer scripted for tool/action takes latency_ms of simulated
 * time (a call that outlasts the run's deadline is aborted: "timeout"). */
void sv_test_answer_latency(sv_test *t, const char *tool, const char *action, int64_t latency_ms);

/* ---- the run -------------------------------------------------------------- */

/* The simulated clock now (before or during a run). */
void sv_test_set_now_ms(sv_test *t, int64_t now_ms);
/* Cancel the run (a user's POST .../cancel) when the n-th tool call
 * (1-based, on_cancel's not counted) is in flight: that call returns
 * SV_ECANCELLED. */
void sv_test_cancel_at_call(sv_test *t, int n);
/* Cancel the run while it waits after its n-th node. */
void sv_test_cancel_after_node(sv_test *t, int n);

/*
 * Start a run with input_json (the "input" of the start request; NULL =
 * {}): strict JSON, the schema, prepare_input().  0, or -1 when the daemon
 * would answer 400 (sv_test_error_code/_field/_message say what it would
 * say) or the graph does not load.
 */
int sv_test_start(sv_test *t, const char *input_json);
/* Execute one node (or the end of a stopped run): 1 while the run goes
 * on, 0 once it has ended, -1 when it was never started. */
int sv_test_step(sv_test *t);
/* Execute nodes until the run ends; its SV_TEST_* status. */
int sv_test_finish(sv_test *t);
/* sv_test_start + sv_test_finish: the run's status, or -1 when the start
 * was refused. */
int sv_test_run(sv_test *t, const char *input_json);

/* ---- what happened ----------------------------------------------------------- */

int sv_test_status(sv_test *t);
/* "succeeded", "failed", "cancelled", "running", "new". */
const char *sv_test_status_name(sv_test *t);
/* The run's error (a failed run), or the refusal of its input: "" when
 * none.  field is the input field of a refusal ("input" when the graph gave
 * none), "" otherwise. */
const char *sv_test_error_code(sv_test *t);
const char *sv_test_error_message(sv_test *t);
const char *sv_test_error_field(sv_test *t);

json_object *sv_test_input(sv_test *t);  /* as validated and prepared */
json_object *sv_test_state(sv_test *t);  /* the graph's state */
json_object *sv_test_result(sv_test *t); /* NULL until set */
/* The nodes executed, comma-separated: "start_job,poll_job,finalize". */
const char *sv_test_path(sv_test *t);
int64_t sv_test_now_ms(sv_test *t);
/* Simulated time spent waiting on delay_ms. */
int64_t sv_test_waited_ms(sv_test *t);
/* How often on_cancel() was called (0 or 1). */
int sv_test_on_cancel_calls(sv_test *t);

/* One tool call that reached the router (checks failed: no call). */
typedef struct sv_test_call {
    const char *tool, *action;
    const char *node;    /* "on_cancel" for the cancel hook's */
    const char *call_id; /* {run_id}:{node}:{n} */
    json_object *params; /* a copy of what was sent ({} for NULL) */
    int rc;              /* what the graph got: SV_OK, SV_ETOOL, SV_ECANCELLED */
    const char *error;   /* its error code, "" when it succeeded */
} sv_test_call;

int sv_test_calls(sv_test *t);
/* The i-th call (0-based; negative counts from the end: -1 is the last);
 * NULL when there is none. */
const sv_test_call *sv_test_call_at(sv_test *t, int i);
/* Calls of tool/action (NULL: any). */
int sv_test_count_calls(sv_test *t, const char *tool, const char *action);
/* The run's events, as the run view shows them: an array of {"type",
 * "node", "details"}. */
json_object *sv_test_events(sv_test *t);
/* Events of type (and node, unless NULL). */
int sv_test_count_events(sv_test *t, const char *type, const char *node);

/* For calling one node or a hook directly: the run's ctx and this graph's
 * host table (set sv_test_state() up first when no run was started). */
sv_ctx *sv_test_ctx(sv_test *t);
const sv_host *sv_test_host(sv_test *t);
/* Call on_cancel(reason) now, as the daemon calls it (its tool calls work,
 * show node "on_cancel"), whether or not it ran before: for testing the
 * hook on a state the test made.  0, or -1 when the graph does not load. */
int sv_test_on_cancel(sv_test *t, int reason);

/* ---- expectations ------------------------------------------------------------ */

/*
 * Each returns 1 when it holds; when it does not, it prints one line on
 * stderr saying what was expected and what happened, counts a failure, and
 * returns 0 (so it also reads well inside a framework's assert).
 */

/* status: "succeeded", "failed", "cancelled"; error_code NULL: any. */
int sv_test_expect_status(sv_test *t, const char *status, const char *error_code);
/* The i-th call (as sv_test_call_at) is tool/action with params equal to
 * params_json (NULL: any params). */
int sv_test_expect_call(sv_test *t, int i, const char *tool, const char *action,
                        const char *params_json);
/* Exactly n calls of tool/action (NULL: any). */
int sv_test_expect_calls(sv_test *t, const char *tool, const char *action, int n);
/* Exactly n events of type (at node, unless NULL). */
int sv_test_expect_events(sv_test *t, const char *type, const char *node, int n);
/* The nodes executed, as sv_test_path(). */
int sv_test_expect_path(sv_test *t, const char *path);
/* The result's value at a dotted path ("" = the whole result) equals
 * json. */
int sv_test_expect_result(sv_test *t, const char *path, const char *json);
/* The same for the state. */
int sv_test_expect_state(sv_test *t, const char *path, const char *json);
/* The start was refused with code (NULL: any) on the input field (NULL:
 * any). */
int sv_test_expect_refused(sv_test *t, const char *code, const char *field);

/* Failed expectations so far, in the whole process: `return
 * sv_test_failures() ? 1 : 0;` ends a test program. */
int sv_test_failures(void);

#ifdef __cplusplus
}
#endif
#endif /* SOFIIA_GRAPH_TEST_H */
