/*
 * harness.h - integration-test harness: starts the real daemon and the router
 * simulator as child processes on free loopback ports, waits for readiness
 * with a deadline (never a fixed sleep), and speaks HTTP to them.
 *
 * Paths come from the environment `make check` sets: SV_BUILDDIR (the build
 * tree: sofiia-supervisor, router-sim, plugins/<g>/.libs/<g>.so,
 * tests/plugins/.libs/<p>.so) and SV_SRCDIR (scenario files).
 */
#ifndef SV_HARNESS_H
#define SV_HARNESS_H

#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

typedef struct th_proc {
    pid_t pid;
    int port;
    char dir[256];      /* private temp dir of this process */
    char log_path[300]; /* its stderr (daemon: JSON log lines) */
    char aux_path[300]; /* simulator: the request record (JSONL) */
    /* daemon: the redis-server started for it under SV_TEST_STORE=redis,
     * stopped with it */
    struct th_proc *store;
} th_proc;

typedef struct th_resp {
    long status;
    char *body;        /* NUL-terminated */
    json_object *json; /* parsed body or NULL */
    char *headers;     /* raw response headers */
} th_resp;

/* Absolute path of a file in the source tree ("etc/scenarios/x.json"). */
const char *th_src(const char *rel, char *buf, size_t len);

/*
 * Start the router simulator on a free port with the scenario file
 * (relative to the source tree or absolute).  extra_args: NULL-terminated
 * argv tail (e.g. {"--api-key","k",NULL}) or NULL.  0 or -1.
 */
int th_sim_start(const char *scenario, const char *const *extra_args, th_proc *sim);

/*
 * Start the daemon on a free port.  plugins: NULL-terminated names of built
 * plugins copied into a fresh PLUGIN_DIR ("release_check", "incident_triage"
 * from plugins/, "test_graphs" etc. from tests/plugins/).  env: NULL-terminated
 * "KEY=VALUE" strings added to a clean environment (GATEWAY_BASE_URL is set to
 * the simulator when sim != NULL).  Waits until /healthz answers.  0 or -1.
 * With SV_TEST_STORE=redis in the test's environment, a daemon whose env has
 * no REDIS_URL gets a redis-server of its own (test.sh runs the integration
 * tests once more that way, so the engine is proven on both stores).
 */
int th_daemon_start(const char *const *plugins, const char *const *env, const th_proc *sim,
                    th_proc *d);
/* PLUGIN_DIR of a started daemon (d->dir/plugins). */
const char *th_plugin_dir(const th_proc *d, char *buf, size_t len);
/* Path of a built plugin .so by name. */
const char *th_plugin_path(const char *name, char *buf, size_t len);

/*
 * Start redis-server (from PATH) on 127.0.0.1:port, or on a free port chosen
 * now when port is 0, with no persistence, its files in a fresh temp dir
 * (r->dir) and a unix socket at r->aux_path.  extra_args: NULL-terminated
 * argv tail (e.g. {"--requirepass","pw",NULL}) or NULL.  Waits until it
 * answers PING.  0, or -1 having said why on stderr: a test that needs Redis
 * fails without it, never skips.
 */
int th_redis_start_args(int port, const char *const *extra_args, th_proc *r);
/* The same with no extra arguments, on a free port or on `port` (a restart). */
int th_redis_start(th_proc *r);
int th_redis_start_port(int port, th_proc *r);
/* Stop it (SIGTERM, then SIGKILL after 5 s); th_proc_stop's result. */
int th_redis_stop(th_proc *r);

/* Send SIGTERM, wait up to timeout_ms, then SIGKILL.  Returns the exit status
 * (0..255), 128+signal when killed by a signal, or -1. */
int th_proc_stop(th_proc *p, int timeout_ms);
/* Is the process still running? */
int th_proc_alive(th_proc *p);

/* HTTP to 127.0.0.1:port.  headers: NULL-terminated "Name: value" or NULL;
 * body may be NULL.  0 or -1 (no answer). */
int th_http(const char *method, int port, const char *path, const char *body,
            const char *const *headers, th_resp *r);
void th_resp_free(th_resp *r);

/* Start a run of graph with a start-request body (NULL = the standard ids and
 * "input": input_json).  Writes the run id; returns the HTTP status. */
long th_start_run(int port, const char *graph, const char *input_json, char run_id[64]);
/* Poll GET /v1/runs/{id} until the status is terminal or timeout_ms passes;
 * returns the run view (caller puts) or NULL on timeout. */
json_object *th_wait_run(int port, const char *run_id, int timeout_ms);
/* Poll until the run's status equals `status`; 0 or -1 on timeout. */
int th_wait_status(int port, const char *run_id, const char *status, int timeout_ms);

/* The tool calls the simulator has recorded so far (POST /v1/tools/execute;
 * its health probes left out), as an array (caller puts). */
json_object *th_sim_requests(const th_proc *sim);
/* Wait until the simulator has recorded at least n requests; 0 or -1. */
int th_sim_wait_requests(const th_proc *sim, int n, int timeout_ms);

/* Does the daemon's log contain `needle`?  Wait up to timeout_ms for it. */
int th_log_contains(const th_proc *d, const char *needle, int timeout_ms);
/* Wait until the daemon's log holds needle at least n times; the count. */
int th_log_count(const th_proc *d, const char *needle, int n, int timeout_ms);
/* Read a whole file (caller frees); NULL on error. */
char *th_read_file(const char *path, size_t *len);

/* Small JSON helpers: the value at a dotted path ("result.gates[0].name"),
 * borrowed; NULL when absent. */
json_object *th_get(json_object *o, const char *path);
const char *th_get_str(json_object *o, const char *path);
long long th_get_int(json_object *o, const char *path, long long def);
/* Length of the array at a dotted path; -1 when it is absent or not an
 * array (json-c's own length function aborts on those). */
long th_len(json_object *o, const char *path);
/* Count events of a type in a run view. */
int th_count_events(json_object *view, const char *type);

/* NULL-safe string equality that says what differed on stderr, for
 * CU_ASSERT(th_streq(actual, expected)). */
int th_streq(const char *actual, const char *expected);
#define TH_STR_EQ(actual, expected) CU_ASSERT(th_streq((actual), (expected)))

/* The short pause between two looks at a condition polled with a deadline. */
void th_poll_pause(void);

/* Milliseconds on the monotonic clock. */
long long th_mono_ms(void);

#endif
