/*
 * sofiia/graph.h - the SDK of sofiia-supervisor graph plugins.  This header is
 * the whole contract between the daemon (the "host") and a graph; a plugin
 * includes nothing else from the project.
 *
 * WHAT A GRAPH IS
 *   A graph is a shared object (.so) in PLUGIN_DIR that exports exactly one
 *   data symbol, `sv_graph_descriptor` (see SV_GRAPH_EXPORT), of type
 *   `sv_graph`.  The descriptor names the graph, its version, its input schema
 *   (JSON text), its nodes and its entry node.  Nodes are plain C functions.
 *
 * LIFECYCLE
 *   1. The host dlopen()s the file with RTLD_NOW|RTLD_LOCAL, reads abi_major
 *      and abi_minor FIRST and refuses the plugin unless abi_major equals
 *      SV_ABI_MAJOR of the host and abi_minor is <= the host's minor.  Only
 *      then are the other fields read.
 *   2. init(host) is called once; non-zero refuses the plugin.
 *   3. For each run: the start request's "input" is validated against
 *      input_schema (unknown fields rejected, defaults filled in, types and
 *      ranges checked); then prepare_input() may normalise it further (clamp a
 *      time window, parse dates) or reject it with an sv_error naming the field,
 *      which becomes HTTP 400.  The run then executes nodes starting at
 *      `entry`.  Each node function fills an sv_step telling the host which
 *      node runs next (NULL = END) and, optionally, how long to wait first.
 *      A waiting run holds no thread: the host parks it on a timer.
 *   4. When a run is cancelled or passes its overall deadline
 *      (input "timeouts.overall_sec" where the graph's input has it), the host
 *      stops it between nodes, aborts the tool call in flight (the node sees
 *      SV_ECANCELLED from tool_call and should return it), then calls
 *      on_cancel() once, in which tool calls are allowed again (a short
 *      deadline applies) so the graph can clean up, e.g. cancel a remote job.
 *   5. fini() is called once before the file is unloaded; runs that started on
 *      this version have all ended by then.
 *
 * THREADS
 *   Nodes of different runs execute concurrently on the host's worker
 *   threads; one run executes at most one node at a time, and its next node
 *   may run on another thread.  Keep no per-run data in globals: everything a
 *   later node needs goes in the run's state object (host->state()), which is
 *   JSON and is checkpointed by the host after every node (with a durable
 *   store, so that another instance can resume the run).  Static read-only
 *   data is fine.
 *
 * MEMORY (who owns what crosses this boundary)
 *   - host->input(): borrowed, read-only, valid for the node call.
 *   - host->state(): borrowed, mutable; the host owns and persists it.
 *   - host->tool_call(): `params` is borrowed (the host copies what it sends);
 *     `*data` on success is a new reference the caller must json_object_put().
 *   - host->set_result(), host->event(): ownership of the object passes to
 *     the host, even when the call fails.
 *   - Strings returned by the host are valid until the node returns.
 *   - sv_step.next must point to a string that outlives the call: use the node
 *     names of your static sv_node table or string literals.
 *
 * WHAT A GRAPH MUST NOT DO
 *   Open sockets, read files or the environment, hold credentials, or block
 *   for long outside host->tool_call().  Every side effect goes through
 *   host->tool_call(), which is the governed router of the deployment.  Event
 *   details and log messages must carry no payload content: names, counts,
 *   sizes, hashes and timings only.
 *
 * BUILDING
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags sofiia-sdk) \
 *      my_graph.c -o my_graph.so $(pkg-config --libs json-c) -Wl,--no-undefined
 *   and copy my_graph.so into PLUGIN_DIR (pkg-config --variable=plugindir
 *   sofiia-sdk); the daemon picks it up within 2 seconds.  See
 *   docs/plugin-authoring.md for a complete example.
 */
#ifndef SOFIIA_GRAPH_H
#define SOFIIA_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI version.  Major changes break plugins (the host refuses a different
 * major); a minor change only appends fields at the END of sv_graph or
 * sv_host, so a plugin built for minor N runs on a host with minor >= N.
 *
 * Changelog:
 *   1.0  first version: descriptor, nodes with sv_step, host table with
 *        input/state/tool_call/set_result/fail/event/log/cancelled/now_ms.
 */
#define SV_ABI_MAJOR 1
#define SV_ABI_MINOR 0

/* The name of the one symbol every graph exports. */
#define SV_GRAPH_SYMBOL "sv_graph_descriptor"

/* Put this before the descriptor definition so it stays visible when the
 * plugin is built with -fvisibility=hidden. */
#define SV_GRAPH_EXPORT __attribute__((visibility("default")))

/* Return codes of host functions and nodes: 0 or a negative SV_E* value. */
enum sv_rc {
    SV_OK = 0,
    SV_ERR = -1,        /* generic failure; the message is in the sv_error */
    SV_ECANCELLED = -2, /* the run was cancelled or timed out: return it */
    SV_ETOOL = -3,      /* a tool call failed; see sv_error.code */
    SV_EINVAL = -4,     /* a bad argument */
    SV_ENOMEM = -5,     /* out of memory */
};

/* Log levels for host->log(). */
enum sv_log_level { SV_LOG_DEBUG = 0, SV_LOG_INFO = 1, SV_LOG_WARN = 2, SV_LOG_ERROR = 3 };

/* Why on_cancel() is called. */
enum sv_cancel_reason { SV_CANCEL_USER = 1, SV_CANCEL_TIMEOUT = 2 };

/*
 * An error as the host reports it (tool_call) or as a graph reports it
 * (prepare_input).  `code` is snake_case; `field` names the input field for
 * input errors ("time_range.from"), empty otherwise.
 *
 * Codes tool_call() can give: the router's own error code when it answered
 * {"status":"failed","error":{"code":...}}, or one of
 *   "unauthorized" (401), "forbidden" (403), "bad_request" (400),
 *   "not_found" (404), "too_large" (413), "unavailable" (retries spent on
 *   429/5xx/connection errors), "timeout" (per-call timeout, retries spent),
 *   "bad_response" (not the router's JSON shape), "cancelled".
 */
typedef struct sv_error {
    char code[64];
    char message[256];
    char field[128];
} sv_error;

/* Opaque per-run context handed to every node. */
typedef struct sv_ctx sv_ctx;

/*
 * What a node tells the host to do next.  On entry `next` holds the node's
 * default successor (sv_node.next, NULL for END) and delay_ms is 0.
 */
typedef struct sv_step {
    const char *next;  /* node to run next; NULL ends the run (succeeded) */
    uint32_t delay_ms; /* wait this long before `next`, holding no thread */
} sv_step;

typedef struct sv_host sv_host;

/*
 * A node.  Return SV_OK to continue as `step` says; return SV_ECANCELLED when a
 * host call returned it; return any other negative code to fail the run with
 * the error given to host->fail() (or "node_failed" if none was given).
 */
typedef int (*sv_node_fn)(sv_ctx *ctx, const sv_host *host, sv_step *step);

typedef struct sv_node {
    const char *name; /* unique within the graph, [a-z0-9_]+ */
    sv_node_fn run;
    const char *next; /* default successor, NULL = END */
} sv_node;

/*
 * The host's services.  Versioned like sv_graph: check `size` before
 * touching a field added after SV_ABI_MINOR 0.
 */
struct sv_host {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size; /* sizeof(sv_host) in the host */

    /* The run's validated input (defaults filled in).  Borrowed, read-only. */
    json_object *(*input)(sv_ctx *ctx);
    /* The run's state object, {} at the first node.  Borrowed, mutable, saved
     * after every node; put here whatever later nodes need. */
    json_object *(*state)(sv_ctx *ctx);
    /* The run id ("gr_" + 32 hex) and the name of the node being executed. */
    const char *(*run_id)(sv_ctx *ctx);
    const char *(*node)(sv_ctx *ctx);

    /*
     * Call a tool through the router: POST {GATEWAY}/v1/tools/execute with the
     * run's ids and metadata.  Retries retryable failures itself.  On SV_OK,
     * *data is the "data" member of the answer (a new reference, or NULL when
     * the router sent none).  On SV_ETOOL, `err` says why.  Returns
     * SV_ECANCELLED when the run was cancelled or timed out meanwhile.
     */
    int (*tool_call)(sv_ctx *ctx, const char *tool, const char *action, json_object *params,
                     json_object **data, sv_error *err);

    /* Set the run's result (replacing an earlier one).  Takes ownership. */
    int (*set_result)(sv_ctx *ctx, json_object *result);
    /* Record why the run fails; the node then returns a negative code. */
    int (*fail)(sv_ctx *ctx, const char *code, const char *message);
    /* Add an event of `type` to the run; details may be NULL.  Takes
     * ownership.  Details must hold no payload content. */
    int (*event)(sv_ctx *ctx, const char *type, json_object *details);
    /* Log a line tagged with the run and node (ctx may be NULL). */
    void (*log)(sv_ctx *ctx, int level, const char *message);
    /* Non-zero once the run is being cancelled or has timed out. */
    int (*cancelled)(sv_ctx *ctx);
    /* Wall clock, milliseconds since the epoch (ctx may be NULL). */
    int64_t (*now_ms)(sv_ctx *ctx);
    /* When the run was created, milliseconds since the epoch. */
    int64_t (*created_ms)(sv_ctx *ctx);
    /* A numeric setting of the deployment that graphs may read, e.g.
     * "INCIDENT_MAX_TIME_WINDOW_H"; `def` when unknown.  Never a secret. */
    long (*config_int)(const char *key, long def);
};

/*
 * The descriptor.  The first three fields never move.  Fill it with
 * SV_GRAPH_ABI so the versions are those of the header you built against.
 *
 * input_schema is a JSON Schema subset (see docs/plugin-authoring.md):
 *   {"type":"object","properties":{...},"required":[...]} where each property
 *   has "type" (string|boolean|integer|number|array|object), and optionally
 *   "default", "description", "minimum", "maximum", "minLength", "maxLength",
 *   "enum", "items" (for arrays), "properties"/"required" (for objects),
 *   "format":"date-time" (RFC 3339), and "x-clamp": true which brings an
 *   out-of-range number into [minimum, maximum] instead of rejecting it.
 *   Unknown fields are always rejected.
 */
typedef struct sv_graph {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size; /* sizeof(sv_graph) in the plugin */

    const char *name;         /* [a-z0-9_]+, the name in /v1/graphs/{name}/runs */
    const char *version;      /* free text, e.g. "1.0.0" */
    const char *description;  /* one line */
    const char *input_schema; /* JSON text, see above */
    const sv_node *nodes;
    uint32_t n_nodes;
    const char *entry; /* name of the first node */

    /* Called once after loading; return 0, or non-zero to refuse the plugin.
     * May be NULL. */
    int (*init)(const sv_host *host);
    /* Called once before unloading.  May be NULL. */
    void (*fini)(void);
    /* Normalise or reject a validated input at start (no run exists yet: no
     * ctx).  Return 0, or SV_EINVAL with err->field/message set for a 400.
     * May be NULL. */
    int (*prepare_input)(const sv_host *host, json_object *input, sv_error *err);
    /* The run is being cancelled (reason SV_CANCEL_*) after its last node
     * returned; tool calls work here.  Called at most once.  May be NULL. */
    void (*on_cancel)(sv_ctx *ctx, const sv_host *host, int reason);
} sv_graph;

/* The first three members of a descriptor, for the header you build with. */
#define SV_GRAPH_ABI .abi_major = SV_ABI_MAJOR, .abi_minor = SV_ABI_MINOR, .size = sizeof(sv_graph)

#ifdef __cplusplus
}
#endif
#endif /* SOFIIA_GRAPH_H */
